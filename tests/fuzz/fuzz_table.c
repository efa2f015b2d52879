/* libFuzzer target: the NAS-Bench-201 table loaders (src/table/table.c), 200-epoch and
 * 12-epoch.  Input byte 0 picks the mode:
 *   bit 0  0: the rest of the input is the whole table file (fast; reaches every per-row
 *             check and the short-file error)
 *          1: the rest replaces lines of the real table, starting at the line given by bytes
 *             1-2 (slow, ~4 MB per run; reaches the whole-table checks such as iso_index
 *             classes, duplicates far apart, and successful loads)
 *   bit 1  0: the 200-epoch loader; 1: the 12-epoch loader (on the real 200-epoch table)
 * The real tables come from $NASRANK_DATA or the usual places; without them only raw input
 * is used.  A loaded table must be consistent: row i has index i, lookups by arch and by
 * index agree, iso_index <= index. */
#include <math.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "nasrank/paths.h"
#include "nasrank/table.h"

static char *g_text[2];      /* the real 200-epoch / 12-epoch files */
static size_t g_len[2];
static size_t *g_line[2];    /* offset of each line */
static size_t g_nlines[2];
static nr_table *g_table;    /* the real 200-epoch table, for the 12-epoch loader */

static void slurp(int k, const char *rel)
{
    char path[4096];
    if (nr_data_find(rel, path, sizeof path, NULL)) return;
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    g_text[k] = malloc((size_t)n);
    if (!g_text[k] || fread(g_text[k], 1, (size_t)n, f) != (size_t)n) {
        free(g_text[k]);
        g_text[k] = NULL;
        fclose(f);
        return;
    }
    fclose(f);
    g_len[k] = (size_t)n;
    for (size_t i = 0; i < g_len[k]; i++) g_nlines[k] += g_text[k][i] == '\n';
    g_line[k] = malloc((g_nlines[k] + 1) * sizeof *g_line[k]);
    size_t m = 0;
    g_line[k][m++] = 0;
    for (size_t i = 0; i < g_len[k] && m <= g_nlines[k]; i++)
        if (g_text[k][i] == '\n') g_line[k][m++] = i + 1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    slurp(0, "nb201/nb201_200ep.csv");
    slurp(1, "nb201/nb201_12ep.csv");
    if (g_text[0] && nr_table_load(NULL, &g_table, NULL) != NR_OK) g_table = NULL;
    return 0;
}

/* The real file k with lines [at, at + lines in piece) replaced by piece. */
static char *splice(int k, const uint8_t *piece, size_t n, size_t at, size_t *outlen)
{
    size_t lines = 1;
    for (size_t i = 0; i < n; i++) lines += piece[i] == '\n';
    if (at > g_nlines[k]) at = g_nlines[k];
    size_t end = at + lines > g_nlines[k] ? g_nlines[k] : at + lines;
    size_t a = g_line[k][at], b = end == g_nlines[k] ? g_len[k] : g_line[k][end];
    size_t len = a + n + 1 + (g_len[k] - b);
    char *buf = malloc(len);
    if (!buf) return NULL;
    memcpy(buf, g_text[k], a);
    memcpy(buf + a, piece, n);
    buf[a + n] = '\n';
    memcpy(buf + a + n + 1, g_text[k] + b, g_len[k] - b);
    *outlen = len;
    return buf;
}

static void check_table(const nr_table *t)
{
    FUZZ_CHECK(nr_table_size(t) == NR_NUM_ARCHS);
    for (long i = 0; i < NR_NUM_ARCHS; i++) {
        const nr_table_row *r = nr_table_by_index(t, i);
        FUZZ_CHECK(r && r->index == i && r->iso_index <= i);
        FUZZ_CHECK(nr_table_by_arch(t, &r->arch) == r);
        FUZZ_CHECK(nr_table_by_index(t, r->iso_index)->iso_index == r->iso_index);
        for (int d = 0; d < NR_NUM_DATASETS; d++) {
            double v = nr_table_acc(r, (nr_dataset)d, NR_METRIC_TEST, 200);
            FUZZ_CHECK(isfinite(v) && v >= 0 && v <= 100);
        }
    }
    FUZZ_CHECK(nr_table_by_index(t, NR_NUM_ARCHS) == NULL && nr_table_lookup(t, "15625") == NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3) return 0;
    int k = (data[0] >> 1) & 1;
    int spliced = (data[0] & 1) && g_text[k] && (k == 0 || g_table);
    const uint8_t *body = data + 3;
    size_t blen = size - 3, len = blen;
    char *doc = NULL;
    if (spliced) {
        size_t at = ((size_t)data[1] << 8 | data[2]) % (g_nlines[k] + 1);
        doc = splice(k, body, blen, at, &len);
        if (!doc) return 0;
    }
    char path[64];
    int fd = fuzz_memfile(doc ? doc : (const char *)body, len, path, sizeof path);
    free(doc);
    if (fd < 0) return 0;
    nr_error e;
    nr_error_clear(&e);
    nr_status st;
    if (k == 0) {
        nr_table *t = NULL;
        st = nr_table_load(path, &t, &e);
        if (st == NR_OK) check_table(t);
        else FUZZ_CHECK(t == NULL);
        nr_table_free(t);
    } else if (g_table) {
        /* a success only fills valid12/test12 (a failure leaves the table unchanged), so the
         * shared table serves every input */
        st = nr_table_load_12ep(g_table, path, &e);
    } else {
        st = NR_OK;
    }
    close(fd);
    if (st != NR_OK) {
        FUZZ_CHECK_ERROR(st, e);
        FUZZ_CHECK(strcmp(e.source, path) == 0 || e.source[0] == '\0');
    }
    return 0;
}
