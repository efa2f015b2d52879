/* libFuzzer target: the CSV reader (src/io/csv.c on libcsv) and what the CLI does with an
 * input CSV (arch / index columns, numeric cells).
 *
 * Invariants: a failure is a well-formed error; a success has consistent dimensions, every
 * cell NUL-terminated and free of NUL bytes, non-decreasing row lines; the numeric getters
 * and the arch resolver never crash; and writing every cell back with nr_csv_write_field and
 * parsing that again gives the same document (a round trip), except where CSV cannot say it:
 * a one-column row with an empty cell is a blank line, and a first header name that starts
 * with a BOM loses it. */
#include <math.h>
#include <stdint.h>

#include "cli/cli_rows.h"
#include "fuzz_util.h"
#include "nasrank/csv.h"

static int round_trip_possible(const nr_csv *c)
{
    size_t nr = nr_csv_nrows(c), nc = nr_csv_ncols(c);
    if (strncmp(nr_csv_header(c, 0), "\xEF\xBB\xBF", 3) == 0) return 0;
    if (nc == 1)
        for (size_t i = 0; i < nr; i++)
            if (nr_csv_cell(c, i, 0)[0] == '\0') return 0;
    return 1;
}

static void check_round_trip(const nr_csv *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    FUZZ_CHECK(f != NULL);
    size_t nr = nr_csv_nrows(c), nc = nr_csv_ncols(c);
    for (size_t j = 0; j < nc; j++) {
        if (j) fputc(',', f);
        FUZZ_CHECK(nr_csv_write_field(f, nr_csv_header(c, j)) == 0);
    }
    fputc('\n', f);
    for (size_t i = 0; i < nr; i++) {
        for (size_t j = 0; j < nc; j++) {
            if (j) fputc(',', f);
            FUZZ_CHECK(nr_csv_write_field(f, nr_csv_cell(c, i, j)) == 0);
        }
        fputc('\n', f);
    }
    FUZZ_CHECK(fclose(f) == 0);
    nr_csv *d = NULL;
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_csv_parse(buf, len, "again", &d, &e);
    if (st != NR_OK) fprintf(stderr, "re-parse failed: %s\n", e.text);
    FUZZ_CHECK(st == NR_OK);
    FUZZ_CHECK(nr_csv_nrows(d) == nr && nr_csv_ncols(d) == nc);
    for (size_t j = 0; j < nc; j++) FUZZ_CHECK(strcmp(nr_csv_header(c, j), nr_csv_header(d, j)) == 0);
    for (size_t i = 0; i < nr; i++)
        for (size_t j = 0; j < nc; j++)
            FUZZ_CHECK(strcmp(nr_csv_cell(c, i, j), nr_csv_cell(d, i, j)) == 0);
    nr_csv_free(d);
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nr_csv *c = NULL;
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_csv_parse((const char *)data, size, "fuzz.csv", &c, &e);
    if (st != NR_OK) {
        FUZZ_CHECK_ERROR(st, e);
        FUZZ_CHECK(c == NULL && strcmp(e.source, "fuzz.csv") == 0);
        return 0;
    }
    size_t nr = nr_csv_nrows(c), nc = nr_csv_ncols(c);
    FUZZ_CHECK(nc >= 1);
    long prev = nr_csv_header_line(c);
    FUZZ_CHECK(prev >= 1);
    for (size_t j = 0; j < nc; j++) FUZZ_CHECK(nr_csv_header(c, j) && nr_csv_header(c, j)[0]);
    FUZZ_CHECK(nr_csv_header(c, nc) == NULL && nr_csv_cell(c, nr, 0) == NULL);
    for (size_t i = 0; i < nr; i++) {
        long line = nr_csv_row_line(c, i);
        FUZZ_CHECK(line >= prev); /* a lone CR can end a record inside a line */
        prev = line;
        for (size_t j = 0; j < nc; j++) {
            const char *s = nr_csv_cell(c, i, j);
            FUZZ_CHECK(s != NULL && strlen(s) <= NR_CSV_FIELD_MAX);
            double v;
            long l;
            nr_error_clear(&e);
            st = nr_csv_get_double(c, i, j, (int)(i & 1), &v, &e);
            if (st) FUZZ_CHECK_ERROR(st, e);
            else FUZZ_CHECK((i & 1) || isfinite(v));
            nr_error_clear(&e);
            st = nr_csv_get_long(c, i, j, &l, &e);
            if (st) FUZZ_CHECK_ERROR(st, e);
        }
    }
    /* as `nasrank score` / `correlate` read rows (no table: an index column cannot resolve) */
    cli_archcols ac;
    nr_error_clear(&e);
    if (cli_find_arch_columns(c, &ac, &e) == NR_OK) {
        for (size_t i = 0; i < nr; i++) {
            nr_arch a;
            nr_error_clear(&e);
            st = cli_row_arch(c, &ac, i, NULL, &a, &e);
            if (st) FUZZ_CHECK_ERROR(st, e);
            else FUZZ_CHECK(nr_arch_to_id(&a) >= 0);
        }
    } else {
        FUZZ_CHECK(e.code == NR_ERR_INVALID);
    }
    if (round_trip_possible(c)) check_round_trip(c);
    nr_csv_free(c);
    return 0;
}
