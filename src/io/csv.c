/* nasrank — CSV reader on top of libcsv, plus strict numeric cell getters.
 *
 * libcsv does the tokenising (quotes, doubled quotes, embedded commas and newlines, CRLF);
 * this file adds what libcsv does not know: physical line numbers, the header contract
 * (non-empty, unique names; every record exactly as wide as the header), and rejection of
 * input libcsv would pass through silently (NUL bytes, over-long fields, an unterminated
 * quote at end of file).
 *
 * Line numbers: the input is fed to libcsv one physical line ('\n'-terminated; '\r' in a file
 * without any '\n') at a time,
 * in chunks of at most FEED_CHUNK bytes.  Before a line is fed while no record is open, the
 * line number is remembered as the start of the next record; so a record whose quoted field
 * spans lines 5..7 reports line 5.  Lines that are empty or hold only spaces, tabs and CR
 * outside a record are skipped without being fed (libcsv would make a one-field record of
 * the spaces, since we switch off its space trimming).
 *
 * libcsv options: CSV_STRICT (a quote inside an unquoted field, or text after a closing
 * quote, is an error) and CSV_STRICT_FINI (an open quote at EOF is an error).  Its space
 * trimming is switched off (is_space always false): cells are kept byte for byte, so
 * " 1.5" is not silently a number and " |none~0|..." not silently an arch.
 *
 * Memory: every cell is appended, NUL-terminated, to one growing text buffer; a second
 * buffer holds each cell's offset (row-major, header first), a third each record's line.
 */
#include "nasrank/csv.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define FEED_CHUNK ((size_t)1 << 16)

struct nr_csv {
    char *source;
    char *text;       /* (text_len) all cells back to back, each NUL-terminated */
    size_t text_len, text_cap;
    size_t *cell;     /* (nrec, ncols) offset of each cell in text; record 0 = header */
    size_t ncell, cell_cap;
    long *line;       /* (nrec) 1-based line where each record starts */
    size_t nrec, line_cap;
    size_t ncols;
};

typedef struct parse_ctx {
    nr_csv *csv;
    nr_error *err;
    nr_status status; /* first failure; parsing stops after the current chunk */
    long cur_line;    /* physical line being fed */
    long rec_line;    /* line where the open record started */
    int open;         /* a record is in progress */
    int quote_open;   /* a quoted field is open (seen at a chunk boundary) */
    long quote_line;  /* line where that quote opened */
    size_t fields;    /* fields completed in the open record */
} parse_ctx;

/* ---- small helpers ---- */

/* Ensures room for `need` elements of size `elem` in *p (capacity *cap, doubled). */
static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t ncap = *cap ? *cap : 64;
    while (ncap < need) {
        if (ncap > SIZE_MAX / 2) return -1;
        ncap *= 2;
    }
    if (ncap > SIZE_MAX / elem) return -1;
    void *q = realloc(*p, ncap * elem);
    if (!q) return -1;
    *p = q;
    *cap = ncap;
    return 0;
}

/* A cell's text for an error message: in quotes q, control bytes escaped, cut after 40
 * bytes. */
static const char *show_q(const char *s, char q, char *buf, size_t size)
{
    size_t n = 0, i = 0;
    buf[n++] = q;
    for (; s[i] && i < 40 && n + 6 < size; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == (unsigned char)q || c == '\\') {
            buf[n++] = '\\';
            buf[n++] = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            n += (size_t)snprintf(buf + n, size - n, "\\x%02x", c);
        } else {
            buf[n++] = (char)c;
        }
    }
    if (s[i] && n + 5 < size) {
        memcpy(buf + n, "...", 3);
        n += 3;
    }
    buf[n++] = q;
    buf[n] = '\0';
    return buf;
}

static const char *show(const char *s, char *buf, size_t size)
{
    return show_q(s, '"', buf, size);
}

static const char *src_name(const nr_csv *csv)
{
    return csv && csv->source ? csv->source : "<csv>";
}

/* ---- libcsv callbacks ---- */

static void fail(parse_ctx *c, nr_status code, long line, long col, const char *msg)
{
    if (c->status != NR_OK) return;
    c->status = code;
    nr_error_set(c->err, code, src_name(c->csv), line, col, "%s", msg);
}

static void on_field(void *data, size_t len, void *user)
{
    parse_ctx *c = user;
    nr_csv *csv = c->csv;
    if (c->status != NR_OK) return;
    if (!c->open) { /* a record began right after a lone-CR terminator on this line */
        c->open = 1;
        c->rec_line = c->cur_line;
    }
    c->quote_open = 0;
    c->fields++;
    if (len > NR_CSV_FIELD_MAX) {
        char msg[96];
        snprintf(msg, sizeof msg, "field longer than %d bytes", NR_CSV_FIELD_MAX);
        fail(c, NR_ERR_PARSE, c->rec_line, (long)c->fields, msg);
        return;
    }
    if (csv->nrec > 0 && c->fields > csv->ncols) return; /* reported at the record's end */
    if (grow((void **)&csv->text, &csv->text_cap, csv->text_len + len + 1, 1) ||
        grow((void **)&csv->cell, &csv->cell_cap, csv->ncell + 1, sizeof *csv->cell)) {
        fail(c, NR_ERR_NOMEM, 0, 0, "out of memory reading CSV");
        return;
    }
    csv->cell[csv->ncell++] = csv->text_len;
    if (len) memcpy(csv->text + csv->text_len, data, len);
    csv->text_len += len;
    csv->text[csv->text_len++] = '\0';
}

typedef struct name_ref {
    const char *name;
    size_t col;
} name_ref;

static int cmp_name_ref(const void *a, const void *b)
{
    const name_ref *x = a, *y = b;
    int r = strcmp(x->name, y->name);
    if (r) return r;
    return x->col < y->col ? -1 : x->col > y->col;
}

/* Header names: non-empty and unique (O(n log n), so a hostile wide header is cheap). */
static void check_header(parse_ctx *c)
{
    nr_csv *csv = c->csv;
    size_t n = csv->ncols;
    for (size_t j = 0; j < n; j++) {
        if (csv->text[csv->cell[j]] == '\0') {
            char msg[96];
            snprintf(msg, sizeof msg, "empty column name in the header (column %zu)", j + 1);
            fail(c, NR_ERR_PARSE, c->rec_line, (long)j + 1, msg);
            return;
        }
    }
    name_ref *refs = malloc(n * sizeof *refs);
    if (!refs) {
        fail(c, NR_ERR_NOMEM, 0, 0, "out of memory reading CSV");
        return;
    }
    for (size_t j = 0; j < n; j++) {
        refs[j].name = csv->text + csv->cell[j];
        refs[j].col = j;
    }
    qsort(refs, n, sizeof *refs, cmp_name_ref);
    /* Sorted by (name, column): refs[k] is the second occurrence of its name when it
     * equals refs[k-1] but not refs[k-2].  Report the one that comes first in the header. */
    size_t first = 0, second = SIZE_MAX;
    for (size_t k = 1; k < n; k++) {
        if (strcmp(refs[k].name, refs[k - 1].name) != 0) continue;
        if (k >= 2 && strcmp(refs[k].name, refs[k - 2].name) == 0) continue;
        if (refs[k].col < second) {
            first = refs[k - 1].col;
            second = refs[k].col;
        }
    }
    if (second != SIZE_MAX) {
        char msg[160], shown[64];
        snprintf(msg, sizeof msg, "duplicate column name %s (columns %zu and %zu)",
                 show_q(csv->text + csv->cell[first], '\'', shown, sizeof shown), first + 1,
                 second + 1);
        fail(c, NR_ERR_PARSE, c->rec_line, (long)second + 1, msg);
    }
    free(refs);
}

static void on_record(int term, void *user)
{
    parse_ctx *c = user;
    nr_csv *csv = c->csv;
    (void)term;
    if (c->status != NR_OK) return;
    if (csv->nrec == 0) {
        csv->ncols = c->fields;
    } else if (c->fields != csv->ncols) {
        char msg[128];
        snprintf(msg, sizeof msg, "expected %zu fields, got %zu", csv->ncols, c->fields);
        fail(c, NR_ERR_PARSE, c->rec_line, 0, msg);
        return;
    }
    if (grow((void **)&csv->line, &csv->line_cap, csv->nrec + 1, sizeof *csv->line)) {
        fail(c, NR_ERR_NOMEM, 0, 0, "out of memory reading CSV");
        return;
    }
    csv->line[csv->nrec++] = c->rec_line;
    if (csv->nrec == 1) check_header(c);
    c->fields = 0;
    c->open = 0;
}

static int never_space(unsigned char ch)
{
    (void)ch;
    return 0;
}

/* Feeds bytes [p, p+n) of the current line; returns non-zero when parsing must stop. */
static int feed(parse_ctx *c, struct csv_parser *p, const char *s, size_t n)
{
    while (n > 0 && c->status == NR_OK) {
        size_t k = n < FEED_CHUNK ? n : FEED_CHUNK;
        size_t done = csv_parse(p, s, k, on_field, on_record, c);
        if (c->status != NR_OK) return 1;
        if (done != k) {
            if (csv_error(p) == CSV_EPARSE) {
                char msg[160];
                if (p->quoted)
                    snprintf(msg, sizeof msg,
                             "unexpected character after a closing quote (a quote inside a "
                             "quoted field must be doubled)");
                else
                    snprintf(msg, sizeof msg,
                             "quote character inside an unquoted field (quote the whole "
                             "field and double the quote)");
                fail(c, NR_ERR_PARSE, c->cur_line, (long)c->fields + 1, msg);
            } else {
                fail(c, NR_ERR_NOMEM, c->cur_line, 0, csv_strerror(csv_error(p)));
            }
            return 1;
        }
        if (p->quoted && !c->quote_open) {
            c->quote_open = 1;
            c->quote_line = c->cur_line;
        }
        if (p->entry_pos > NR_CSV_FIELD_MAX) {
            char msg[96];
            snprintf(msg, sizeof msg, "field longer than %d bytes", NR_CSV_FIELD_MAX);
            fail(c, NR_ERR_PARSE, c->rec_line, (long)c->fields + 1, msg);
            return 1;
        }
        s += k;
        n -= k;
    }
    return c->status != NR_OK;
}

static int blank_line(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\r' && s[i] != '\n') return 0;
    return 1;
}

/* ---- public API ---- */

nr_status nr_csv_parse(const char *data, size_t size, const char *source, nr_csv **out,
                       nr_error *err)
{
    nr_status st = NR_OK;
    struct csv_parser p;
    int have_parser = 0;
    parse_ctx c = {.err = err, .status = NR_OK};
    if (out) *out = NULL;
    if (!out || (!data && size > 0))
        return nr_error_set(err, NR_ERR_INVALID, source, 0, 0, "nr_csv_parse: bad arguments");
    nr_csv *csv = calloc(1, sizeof *csv);
    if (!csv) return nr_error_set(err, NR_ERR_NOMEM, source, 0, 0, "out of memory");
    csv->source = strdup(source ? source : "<csv>");
    /* Cells total about the input size (quotes and separators dropped, one NUL per cell
     * added); start there and let grow() double if a document of empty cells needs more. */
    csv->text_cap = size < SIZE_MAX - 64 ? size + 64 : size;
    csv->text = csv->source ? malloc(csv->text_cap) : NULL;
    if (!csv->text) {
        st = nr_error_set(err, NR_ERR_NOMEM, source, 0, 0, "out of memory");
        goto fail;
    }
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI) != 0) {
        st = nr_error_set(err, NR_ERR_NOMEM, source, 0, 0, "csv_init failed");
        goto fail;
    }
    have_parser = 1;
    csv_set_space_func(&p, never_space);
    csv_set_blk_size(&p, 4096);

    c.csv = csv;
    size_t pos = 0;
    if (size >= 3 && memcmp(data, "\xEF\xBB\xBF", 3) == 0) pos = 3;
    /* Lines end at '\n' (LF, CRLF); a file without any LF but with CRs (classic Mac line
     * ends) has its lines counted at the CRs, so errors still name the right line. */
    int eol = '\n';
    if (!memchr(data + pos, '\n', size - pos) && memchr(data + pos, '\r', size - pos)) eol = '\r';
    while (pos < size && c.status == NR_OK) {
        c.cur_line++;
        const char *ls = data + pos;
        const char *nl = memchr(ls, eol, size - pos);
        size_t len = nl ? (size_t)(nl - ls) + 1 : size - pos;
        pos += len;
        const char *nul = memchr(ls, '\0', len);
        if (!c.open) {
            if (!nul && blank_line(ls, len)) continue;
            c.open = 1;
            c.rec_line = c.cur_line;
        }
        if (nul) {
            if (feed(&c, &p, ls, (size_t)(nul - ls))) break;
            fail(&c, NR_ERR_PARSE, c.cur_line, (long)c.fields + 1,
                 "NUL byte in the input (binary or corrupt file?)");
            break;
        }
        feed(&c, &p, ls, len);
    }
    if (c.status == NR_OK) {
        if (csv_fini(&p, on_field, on_record, &c) != 0) {
            fail(&c, NR_ERR_PARSE, c.quote_line, (long)c.fields + 1,
                 "unterminated quoted field: the quote opened here is never closed");
        }
    }
    if (c.status != NR_OK) {
        st = c.status;
        goto fail;
    }
    if (csv->nrec == 0) {
        st = nr_error_set(err, NR_ERR_PARSE, csv->source, 0, 0,
                          "empty CSV: no header line");
        goto fail;
    }
    csv_free(&p);
    *out = csv;
    return NR_OK;
fail:
    if (have_parser) csv_free(&p);
    nr_csv_free(csv);
    return st;
}

nr_status nr_csv_read(const char *path, nr_csv **out, nr_error *err)
{
    if (out) *out = NULL;
    if (!path || !out) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "no path given");
    nr_status st = NR_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0) {
        if (S_ISDIR(sb.st_mode)) {
            st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "is a directory");
            goto done;
        }
        if (S_ISREG(sb.st_mode) && sb.st_size > NR_CSV_MAX_BYTES) {
            st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "larger than the %d MiB limit for a CSV file",
                              NR_CSV_MAX_BYTES >> 20);
            goto done;
        }
        if (S_ISREG(sb.st_mode) && sb.st_size > 0) cap = (size_t)sb.st_size + 1;
    }
    if (cap == 0) cap = 1 << 16;
    buf = malloc(cap);
    if (!buf) {
        st = nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
        goto done;
    }
    /* Reading stops early at a NUL byte (the parser then reports it at its line: binary data,
     * /dev/zero or /dev/urandom fail at once instead of filling memory) and at
     * NR_CSV_MAX_BYTES (an endless stream). */
    for (;;) {
        if (len == cap && grow((void **)&buf, &cap, cap + 1, 1)) {
            st = nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
            goto done;
        }
        size_t k = fread(buf + len, 1, cap - len, f);
        int nul = k > 0 && memchr(buf + len, '\0', k) != NULL;
        len += k;
        if (k == 0 || nul) break;
        if (len > NR_CSV_MAX_BYTES) {
            st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "larger than the %d MiB limit for a CSV file",
                              NR_CSV_MAX_BYTES >> 20);
            goto done;
        }
    }
    if (ferror(f)) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "read error: %s", strerror(errno));
        goto done;
    }
    st = nr_csv_parse(buf, len, path, out, err);
done:
    free(buf);
    fclose(f);
    return st;
}

void nr_csv_free(nr_csv *csv)
{
    if (!csv) return;
    free(csv->source);
    free(csv->text);
    free(csv->cell);
    free(csv->line);
    free(csv);
}

const char *nr_csv_source(const nr_csv *csv) { return csv ? csv->source : NULL; }

size_t nr_csv_nrows(const nr_csv *csv) { return csv && csv->nrec ? csv->nrec - 1 : 0; }

size_t nr_csv_ncols(const nr_csv *csv) { return csv ? csv->ncols : 0; }

const char *nr_csv_header(const nr_csv *csv, size_t col)
{
    if (!csv || col >= csv->ncols) return NULL;
    return csv->text + csv->cell[col];
}

long nr_csv_find_col(const nr_csv *csv, const char *name)
{
    if (!csv || !name) return -1;
    for (size_t j = 0; j < csv->ncols; j++)
        if (strcmp(csv->text + csv->cell[j], name) == 0) return (long)j;
    return -1;
}

const char *nr_csv_cell(const nr_csv *csv, size_t row, size_t col)
{
    if (!csv || row + 1 >= csv->nrec || col >= csv->ncols) return NULL;
    return csv->text + csv->cell[(row + 1) * csv->ncols + col];
}

long nr_csv_row_line(const nr_csv *csv, size_t row)
{
    if (!csv || row + 1 >= csv->nrec) return 0;
    return csv->line[row + 1];
}

long nr_csv_header_line(const nr_csv *csv)
{
    return csv && csv->nrec ? csv->line[0] : 0;
}

/* Shared checks of the numeric getters; returns the cell or NULL after setting err. */
static const char *numeric_cell(const nr_csv *csv, size_t row, size_t col, const char *what,
                                nr_status *st, nr_error *err)
{
    const char *s = nr_csv_cell(csv, row, col);
    if (!s) {
        *st = nr_error_set(err, NR_ERR_INVALID, src_name(csv), 0, 0,
                           "cell (row %zu, column %zu) out of range", row, col + 1);
        return NULL;
    }
    if (*s == '\0') {
        *st = nr_error_set(err, NR_ERR_PARSE, src_name(csv), nr_csv_row_line(csv, row),
                           (long)col + 1, "column '%s': expected %s, got an empty cell",
                           nr_csv_header(csv, col), what);
        return NULL;
    }
    return s;
}

nr_status nr_csv_get_double(const nr_csv *csv, size_t row, size_t col, int allow_nonfinite,
                            double *out, nr_error *err)
{
    nr_status st = NR_OK;
    const char *s = numeric_cell(csv, row, col, "a number", &st, err);
    if (!s) return st;
    const char *src = src_name(csv);
    long line = nr_csv_row_line(csv, row), column = (long)col + 1;
    const char *name = nr_csv_header(csv, col);
    char shown[64];
    char *end = NULL;
    errno = 0;
    double v = isspace((unsigned char)s[0]) ? 0.0 : strtod(s, &end);
    if (!end || end == s || *end != '\0')
        return nr_error_set(err, NR_ERR_PARSE, src, line, column,
                            "column '%s': expected a number, got %s", name,
                            show(s, shown, sizeof shown));
    if (errno == ERANGE && fabs(v) > 1.0) /* overflow; underflow to a tiny value is fine */
        return nr_error_set(err, NR_ERR_NUMERIC, src, line, column,
                            "column '%s': number out of range, got %s", name,
                            show(s, shown, sizeof shown));
    if (!allow_nonfinite && !isfinite(v))
        return nr_error_set(err, NR_ERR_NUMERIC, src, line, column,
                            "column '%s': expected a finite number, got %s", name,
                            show(s, shown, sizeof shown));
    if (out) *out = v;
    return NR_OK;
}

nr_status nr_csv_get_long(const nr_csv *csv, size_t row, size_t col, long *out, nr_error *err)
{
    nr_status st = NR_OK;
    const char *s = numeric_cell(csv, row, col, "an integer", &st, err);
    if (!s) return st;
    const char *src = src_name(csv);
    long line = nr_csv_row_line(csv, row), column = (long)col + 1;
    const char *name = nr_csv_header(csv, col);
    char shown[64];
    char *end = NULL;
    errno = 0;
    long v = isspace((unsigned char)s[0]) ? 0 : strtol(s, &end, 10);
    if (!end || end == s || *end != '\0')
        return nr_error_set(err, NR_ERR_PARSE, src, line, column,
                            "column '%s': expected an integer, got %s", name,
                            show(s, shown, sizeof shown));
    if (errno == ERANGE)
        return nr_error_set(err, NR_ERR_NUMERIC, src, line, column,
                            "column '%s': integer out of range, got %s", name,
                            show(s, shown, sizeof shown));
    if (out) *out = v;
    return NR_OK;
}

int nr_csv_write_field(FILE *f, const char *s)
{
    if (!f) return EOF;
    if (!s) s = "";
    size_t n = strlen(s);
    int quote = n > 0 && (s[0] == ' ' || s[0] == '\t' || s[n - 1] == ' ' || s[n - 1] == '\t');
    if (!quote) quote = strpbrk(s, ",\"\r\n") != NULL;
    if (quote) return csv_fwrite(f, s, n) == 0 ? 0 : EOF;
    return fputs(s, f) == EOF ? EOF : 0;
}
