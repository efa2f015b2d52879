/* Tests for the NAS-Bench-201 table (src/table): the real 15,625-row file and bad copies. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nasrank/paths.h"
#include "nasrank/table.h"
#include "test.h"

#define ROW0_ARCH                                                                    \
    "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|" \
    "skip_connect~2|"
#define ARCH_9930                                                                     \
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|" \
    "nor_conv_3x3~2|"
#define ARCH_6111                                                                     \
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|" \
    "nor_conv_1x1~2|"

static char tmpdir[64];

/* The real file split into lines (no '\n'); line k (1-based) is lines[k-1]. */
static char *orig_text;
static char **lines;
static size_t nlines;

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static int load_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    orig_text = malloc((size_t)n + 1);
    if (fread(orig_text, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        return -1;
    }
    fclose(f);
    orig_text[n] = '\0';
    size_t cap = 16384;
    lines = malloc(cap * sizeof *lines);
    for (char *p = orig_text; *p;) {
        char *nl = strchr(p, '\n');
        if (nlines == cap) lines = realloc(lines, (cap *= 2) * sizeof *lines);
        lines[nlines++] = p;
        if (!nl) break;
        *nl = '\0';
        p = nl + 1;
    }
    return 0;
}

/* Copy of line `line` (1-based) with field `col` (1-based) replaced by val.  Static buffer. */
static const char *set_field(size_t line, int col, const char *val)
{
    static char buf[1024];
    const char *s = lines[line - 1];
    size_t n = 0;
    int f = 1;
    for (const char *p = s;; p++) {
        if (f == col) {
            n += (size_t)snprintf(buf + n, sizeof buf - n, "%s", val);
            while (*p && *p != ',') p++;
        }
        if (!*p) break;
        if (*p == ',') f++;
        buf[n++] = *p;
    }
    buf[n] = '\0';
    return buf;
}

static const char *get_field(size_t line, int col, char *buf, size_t size)
{
    const char *p = lines[line - 1];
    for (int f = 1; f < col; f++) p = strchr(p, ',') + 1;
    size_t k = strcspn(p, ",");
    snprintf(buf, size, "%.*s", (int)k, p);
    return buf;
}

typedef struct edit {
    size_t line;      /* 1-based line to replace or drop; 0 = end of list */
    const char *text; /* replacement, NULL = drop the line */
} edit;

/* Writes the file with edits applied; `append` (may be NULL) is added as a last line.
 * Returns the path (static buffer per call slot). */
static const char *write_variant(const char *name, const edit *edits, const char *append,
                                 const char *eol)
{
    static char path[8][128];
    static int slot;
    char *p = path[slot++ % 8];
    snprintf(p, 128, "%s/%s", tmpdir, name);
    FILE *f = fopen(p, "wb");
    for (size_t k = 1; k <= nlines; k++) {
        const char *t = lines[k - 1];
        int drop = 0;
        for (const edit *e = edits; e && e->line; e++) {
            if (e->line == k) {
                if (e->text) t = e->text;
                else drop = 1;
            }
        }
        if (!drop) fprintf(f, "%s%s", t, eol);
    }
    if (append) fprintf(f, "%s%s", append, eol);
    fclose(f);
    return p;
}

/* Loads path and checks the failure: code, FILE:LINE:COL and a text fragment. */
static void expect_fail(const char *path, nr_status code, long line, long col, const char *frag)
{
    nr_table *t = NULL;
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_table_load(path, &t, &e);
    CHECK_MSG(st == code && e.code == code, "%s: status %d want %d: %s", path, st, code, e.text);
    CHECK(t == NULL);
    CHECK_MSG(streq(e.source, path), "source '%s' want '%s'", e.source, path);
    CHECK_MSG(e.line == line && e.column == col, "%s: at %ld:%ld want %ld:%ld (%s)", path,
              e.line, e.column, line, col, e.text);
    CHECK_MSG(strstr(e.text, frag) != NULL, "text '%s' lacks '%s'", e.text, frag);
}

static void test_real(const nr_table *t)
{
    TEST("size and row order")
    {
        CHECK(nr_table_size(t) == NR_NUM_ARCHS);
        int bad = 0;
        for (long i = 0; i < NR_NUM_ARCHS; i++)
            if (!nr_table_by_index(t, i) || nr_table_by_index(t, i)->index != i) bad++;
        CHECK(bad == 0);
        CHECK(nr_table_by_index(t, -1) == NULL && nr_table_by_index(t, NR_NUM_ARCHS) == NULL);
        char s[NR_ARCH_STR_MAX];
        nr_arch_format(&nr_table_by_index(t, 0)->arch, s, sizeof s);
        CHECK(streq(s, ROW0_ARCH));
    }
    TEST("known values (datasets/README.md)")
    {
        const nr_table_row *r = nr_table_by_index(t, 9930);
        char s[NR_ARCH_STR_MAX];
        nr_arch_format(&r->arch, s, sizeof s);
        CHECK(streq(s, ARCH_9930));
        CHECK_NEAR(r->test[NR_DS_CIFAR10], 94.3633, 1e-4);
        CHECK_NEAR(r->test[NR_DS_CIFAR100], 73.5133, 1e-4);
        CHECK_NEAR(r->test[NR_DS_IMAGENET16], 46.3444, 1e-4);
        CHECK(r->n_runs == 3);
        const nr_table_row *z = nr_table_by_index(t, 0);
        CHECK(z->test[NR_DS_CIFAR10] == 85.86333333333334);
        CHECK(z->valid[NR_DS_CIFAR10_VALID] == 81.98266665690103);
        CHECK(z->valid[NR_DS_IMAGENET16] == 28.21111116366916);
        CHECK(z->params_mb[NR_DS_CIFAR100] == 0.135156);
        CHECK(z->iso_index == 0 && z->n_runs == 3);
        const nr_table_row *res = nr_table_by_index(t, 11472);
        CHECK_NEAR(res->test[NR_DS_CIFAR10], 93.91, 0.006);
        CHECK_NEAR(res->test[NR_DS_CIFAR100], 70.89, 0.006);
        CHECK(res->n_runs == 2);
    }
    TEST("optima")
    {
        int arg[NR_NUM_DATASETS][2] = {{0}};
        for (long i = 0; i < NR_NUM_ARCHS; i++) {
            const nr_table_row *r = nr_table_by_index(t, i);
            for (int d = 0; d < NR_NUM_DATASETS; d++) {
                if (r->valid[d] > nr_table_by_index(t, arg[d][0])->valid[d]) arg[d][0] = (int)i;
                if (r->test[d] > nr_table_by_index(t, arg[d][1])->test[d]) arg[d][1] = (int)i;
            }
        }
        CHECK(arg[NR_DS_CIFAR10][1] == 6111);
        CHECK_NEAR(nr_table_by_index(t, 6111)->test[NR_DS_CIFAR10], 94.3733, 1e-4);
        char s[NR_ARCH_STR_MAX];
        nr_arch_format(&nr_table_by_index(t, 6111)->arch, s, sizeof s);
        CHECK(streq(s, ARCH_6111));
        CHECK(arg[NR_DS_CIFAR10_VALID][0] == 6111);
        CHECK_NEAR(nr_table_by_index(t, 6111)->valid[NR_DS_CIFAR10_VALID], 91.6067, 1e-4);
        CHECK(arg[NR_DS_CIFAR100][1] == 9930 && arg[NR_DS_CIFAR100][0] == 9930);
        CHECK_NEAR(nr_table_by_index(t, 9930)->valid[NR_DS_CIFAR100], 73.4933, 1e-4);
        CHECK(arg[NR_DS_IMAGENET16][1] == 857 && arg[NR_DS_IMAGENET16][0] == 10676);
        CHECK_NEAR(nr_table_by_index(t, 857)->test[NR_DS_IMAGENET16], 47.3111, 1e-4);
        CHECK_NEAR(nr_table_by_index(t, 10676)->valid[NR_DS_IMAGENET16], 46.7333, 1e-4);
    }
    TEST("cifar10-valid and cifar10 share columns; iso classes")
    {
        int bad = 0, reps = 0, n3 = 0;
        for (long i = 0; i < NR_NUM_ARCHS; i++) {
            const nr_table_row *r = nr_table_by_index(t, i);
            if (r->valid[0] != r->valid[1] || r->test[0] != r->test[1] ||
                r->params_mb[0] != r->params_mb[1])
                bad++;
            if (r->iso_index == i) reps++;
            if (r->n_runs == 3) n3++;
        }
        CHECK(bad == 0);
        CHECK(reps == 6466);
        CHECK(n3 == 8169);
    }
    TEST("lookup by string equals lookup by index, for every row")
    {
        int bad = 0;
        char s[NR_ARCH_STR_MAX], num[24];
        for (long i = 0; i < NR_NUM_ARCHS; i++) {
            const nr_table_row *r = nr_table_by_index(t, i);
            nr_arch_format(&r->arch, s, sizeof s);
            snprintf(num, sizeof num, "%ld", i);
            if (nr_table_lookup(t, s) != r || nr_table_lookup(t, num) != r ||
                nr_table_by_arch(t, &r->arch) != r)
                bad++;
        }
        CHECK_MSG(bad == 0, "%d rows differ", bad);
        /* by_arch is a bijection over all lexicographic ids */
        int seen_bad = 0;
        for (int id = 0; id < NR_NUM_ARCHS; id++) {
            nr_arch a = nr_arch_from_id(id);
            const nr_table_row *r = nr_table_by_arch(t, &a);
            if (!r || !nr_arch_equal(&r->arch, &a)) seen_bad++;
        }
        CHECK(seen_bad == 0);
    }
    TEST("lookup rejects junk")
    {
        CHECK(nr_table_lookup(t, "0009930") == nr_table_by_index(t, 9930));
        CHECK(nr_table_lookup(t, "15625") == NULL);
        CHECK(nr_table_lookup(t, "99999999999999999999999") == NULL);
        CHECK(nr_table_lookup(t, "-1") == NULL);
        CHECK(nr_table_lookup(t, " 12") == NULL);
        CHECK(nr_table_lookup(t, "12 ") == NULL);
        CHECK(nr_table_lookup(t, "") == NULL);
        CHECK(nr_table_lookup(t, NULL) == NULL);
        CHECK(nr_table_lookup(t, "|nor_conv_3x3~0|") == NULL);
        CHECK(nr_table_lookup(t, " " ARCH_9930) == NULL);
        nr_arch bad = {{7, 0, 0, 0, 0, 0}};
        CHECK(nr_table_by_arch(t, &bad) == NULL);
        CHECK(nr_table_by_arch(t, NULL) == NULL);
    }
    TEST("nr_table_acc")
    {
        const nr_table_row *r = nr_table_by_index(t, 9930);
        CHECK(nr_table_acc(r, NR_DS_CIFAR10, NR_METRIC_TEST, 200) == r->test[NR_DS_CIFAR10]);
        CHECK(nr_table_acc(r, NR_DS_CIFAR100, NR_METRIC_VALID, 200) == r->valid[NR_DS_CIFAR100]);
        CHECK(isnan(nr_table_acc(r, NR_DS_CIFAR10, NR_METRIC_TEST, 12)));
        CHECK(isnan(r->valid12[NR_DS_IMAGENET16]));
        CHECK(isnan(nr_table_acc(r, NR_DS_CIFAR10, NR_METRIC_TEST, 100)));
        CHECK(isnan(nr_table_acc(r, NR_NUM_DATASETS, NR_METRIC_TEST, 200)));
        CHECK(isnan(nr_table_acc(NULL, NR_DS_CIFAR10, NR_METRIC_TEST, 200)));
    }
}

static void test_12ep(nr_table *t)
{
    TEST("12-epoch results")
    {
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_table_load_12ep(t, NULL, &e) == NR_OK);
        const nr_table_row *r = nr_table_by_index(t, 0);
        CHECK(r->test12[NR_DS_CIFAR10] == 69.55);
        CHECK(r->test12[NR_DS_CIFAR10_VALID] == 69.55);
        CHECK(r->valid12[NR_DS_CIFAR10] == 63.36399998046875);
        CHECK(r->valid12[NR_DS_CIFAR100] == 31.840000003051756);
        CHECK(r->test12[NR_DS_IMAGENET16] == 16.999999966939292);
        CHECK(nr_table_acc(r, NR_DS_CIFAR100, NR_METRIC_TEST, 12) == 31.259999963378906);
        int nan = 0;
        for (long i = 0; i < NR_NUM_ARCHS; i++)
            for (int d = 0; d < NR_NUM_DATASETS; d++)
                if (isnan(nr_table_by_index(t, i)->valid12[d]) ||
                    isnan(nr_table_by_index(t, i)->test12[d]))
                    nan++;
        CHECK(nan == 0);
    }
}

static void test_bad_12ep(void)
{
    char path[256];
    if (nr_data_find("nb201/nb201_12ep.csv", path, sizeof path, NULL) != NR_OK) {
        CHECK(0);
        return;
    }
    free(orig_text);
    free(lines);
    orig_text = NULL;
    lines = NULL;
    nlines = 0;
    CHECK(load_lines(path) == 0 && nlines == NR_NUM_ARCHS + 1);
    nr_table *t = NULL;
    CHECK(nr_table_load(NULL, &t, NULL) == NR_OK);
    if (!t) return;
    TEST("12ep: arch mismatch leaves the table unchanged")
    {
        char a3[256];
        get_field(5, 2, a3, sizeof a3); /* index 3's arch */
        edit ed[] = {{9, set_field(9, 2, a3)}, {0, NULL}};
        const char *p = write_variant("12ep_arch.csv", ed, NULL, "\n");
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_table_load_12ep(t, p, &e) == NR_ERR_INVALID);
        CHECK(streq(e.source, p) && e.line == 9 && e.column == 2);
        CHECK_MSG(strstr(e.text, "arch_str of index 7 differs") != NULL, "%s", e.text);
        CHECK(isnan(nr_table_by_index(t, 0)->test12[NR_DS_CIFAR10]));
    }
    TEST("12ep: non-numeric, short file, missing column")
    {
        edit ed[] = {{20, set_field(20, 6, "x")}, {0, NULL}};
        const char *p = write_variant("12ep_num.csv", ed, NULL, "\n");
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_table_load_12ep(t, p, &e) == NR_ERR_PARSE);
        CHECK(e.line == 20 && e.column == 6);
        CHECK(strstr(e.text, "column 'cifar100_test_acc_12ep': expected a number") != NULL);

        edit ed2[] = {{nlines, NULL}, {0, NULL}};
        p = write_variant("12ep_short.csv", ed2, NULL, "\n");
        nr_error_clear(&e);
        CHECK(nr_table_load_12ep(t, p, &e) == NR_ERR_INVALID);
        CHECK(e.line == (long)nlines - 1 && e.column == 1);
        CHECK(strstr(e.text, "expected 15625 data rows, got 15624") != NULL);

        edit ed3[] = {{1, "index,arch_str,cifar10_valid_acc_12ep,cifar10_test_acc_12ep,"
                          "cifar100_valid_acc_12ep,cifar100_test_acc_12ep,"
                          "imagenet16_valid_acc_12ep,imagenet16_test_acc"},
                      {0, NULL}};
        p = write_variant("12ep_col.csv", ed3, NULL, "\n");
        nr_error_clear(&e);
        CHECK(nr_table_load_12ep(t, p, &e) == NR_ERR_INVALID);
        CHECK(e.line == 1 && strstr(e.text, "'imagenet16_test_acc_12ep'") != NULL);
        CHECK(isnan(nr_table_by_index(t, 5)->valid12[NR_DS_IMAGENET16]));
        CHECK(nr_table_load_12ep(t, path, NULL) == NR_OK);
        CHECK(nr_table_by_index(t, 5)->valid12[NR_DS_IMAGENET16] > 0);
    }
    nr_table_free(t);
}

static void test_bad_tables(void)
{
    char a3[256], buf[1100];
    get_field(5, 2, a3, sizeof a3); /* arch of index 3 (line 5) */
    TEST("good variants load: CRLF + BOM, shuffled rows, extra and reordered columns")
    {
        /* CRLF with a BOM */
        char *hdr = malloc(strlen(lines[0]) + 8);
        sprintf(hdr, "\xEF\xBB\xBF%s", lines[0]);
        edit ed[] = {{1, hdr}, {0, NULL}};
        const char *p = write_variant("crlf.csv", ed, NULL, "\r\n");
        nr_table *t = NULL;
        nr_error e;
        nr_error_clear(&e);
        CHECK_MSG(nr_table_load(p, &t, &e) == NR_OK, "%s", e.text);
        CHECK(t && nr_table_by_index(t, 9930)->test[NR_DS_CIFAR10] > 94.36);
        nr_table_free(t);
        free(hdr);
        /* rows 2 and 5000 swapped */
        edit sw[] = {{2, lines[4999]}, {5000, lines[1]}, {0, NULL}};
        p = write_variant("swap.csv", sw, NULL, "\n");
        t = NULL;
        CHECK(nr_table_load(p, &t, NULL) == NR_OK);
        char f4[64];
        CHECK(t && nr_table_by_index(t, 4997)->index == 4997 &&
              nr_table_by_index(t, 4997)->test[NR_DS_CIFAR10] ==
                  strtod(get_field(4999, 4, f4, sizeof f4), NULL));
        CHECK(t && nr_table_by_index(t, 0)->test[NR_DS_CIFAR10] == 85.86333333333334);
        nr_table_free(t);
        /* a new first column "note" (quoted, with a comma) and index/arch_str swapped */
        FILE *f;
        char path[128];
        snprintf(path, sizeof path, "%s/cols.csv", tmpdir);
        f = fopen(path, "wb");
        for (size_t k = 1; k <= nlines; k++) {
            const char *l = lines[k - 1];
            const char *c1 = strchr(l, ',');
            const char *c2 = strchr(c1 + 1, ',');
            fprintf(f, "%s,%.*s,%.*s%s\n", k == 1 ? "note" : "\"a, b\"", (int)(c2 - c1 - 1),
                    c1 + 1, (int)(c1 - l), l, c2);
        }
        fclose(f);
        t = NULL;
        nr_error_clear(&e);
        CHECK_MSG(nr_table_load(path, &t, &e) == NR_OK, "%s", e.text);
        CHECK(t && nr_table_by_index(t, 6111)->test[NR_DS_CIFAR10] == 94.37333333333333 &&
              nr_table_lookup(t, ARCH_6111) == nr_table_by_index(t, 6111));
        nr_table_free(t);
    }
    TEST("missing column")
    {
        char *hdr = strdup(lines[0]);
        char *p_ = strstr(hdr, "n_runs");
        p_[0] = 'N';
        edit ed[] = {{1, hdr}, {0, NULL}};
        const char *p = write_variant("missing_col.csv", ed, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 1, 0, "missing required column 'n_runs'");
        /* header after two blank lines: the error names its real line */
        char *hdr2 = malloc(strlen(hdr) + 8);
        sprintf(hdr2, "\n\r\n%s", hdr);
        edit ed2[] = {{1, hdr2}, {0, NULL}};
        p = write_variant("missing_col2.csv", ed2, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 3, 0, "missing required column 'n_runs'");
        free(hdr2);
        free(hdr);
    }
    TEST("non-numeric, non-finite, out-of-range and empty cells")
    {
        edit ed[] = {{101, set_field(101, 4, "abc")}, {0, NULL}};
        const char *p = write_variant("nonnum.csv", ed, NULL, "\n");
        expect_fail(p, NR_ERR_PARSE, 101, 4,
                    "column 'cifar10_test_acc': expected a number, got \"abc\"");
        nr_table *t = NULL;
        nr_error e;
        nr_error_clear(&e);
        nr_table_load(p, &t, &e);
        char want[300];
        snprintf(want, sizeof want,
                 "%s:101:4: column 'cifar10_test_acc': expected a number, got \"abc\"", p);
        CHECK_MSG(streq(nr_error_format(&e, buf, sizeof buf), want), "%s", buf);

        edit ed2[] = {{3, set_field(3, 7, "nan")}, {0, NULL}};
        p = write_variant("nan.csv", ed2, NULL, "\n");
        expect_fail(p, NR_ERR_NUMERIC, 3, 7, "column 'imagenet16_valid_acc': expected a finite");
        edit ed3[] = {{15000, set_field(15000, 5, "123.5")}, {0, NULL}};
        p = write_variant("range.csv", ed3, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 15000, 5, "column 'cifar100_valid_acc': 123.5 is outside");
        edit ed4[] = {{7, set_field(7, 12, "")}, {0, NULL}};
        p = write_variant("empty.csv", ed4, NULL, "\n");
        expect_fail(p, NR_ERR_PARSE, 7, 12, "column 'params_mb_cifar10': expected a number, got an "
                                            "empty cell");
        edit ed5[] = {{9, set_field(9, 11, "2.5")}, {0, NULL}};
        p = write_variant("nruns.csv", ed5, NULL, "\n");
        expect_fail(p, NR_ERR_PARSE, 9, 11, "column 'n_runs': expected an integer, got \"2.5\"");
    }
    TEST("bad and duplicate arch strings")
    {
        edit ed[] = {{7, set_field(7, 2, a3)}, {0, NULL}};
        const char *p = write_variant("dup_arch.csv", ed, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 7, 2, "duplicate arch_str (also on line 5, index 3)");
        edit ed2[] = {{12, set_field(12, 2, "|nor_conv_3x3~0|+|bogus~0|nor_conv_3x3~1|+|"
                                            "skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|")},
                      {0, NULL}};
        p = write_variant("bad_arch.csv", ed2, NULL, "\n");
        expect_fail(p, NR_ERR_PARSE, 12, 2, "column 'arch_str': ");
    }
    TEST("duplicate and out-of-range index, iso_index")
    {
        edit ed[] = {{12, set_field(12, 1, "4")}, {0, NULL}};
        const char *p = write_variant("dup_index.csv", ed, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 12, 1, "duplicate index 4 (also on line 6)");
        edit ed2[] = {{30, set_field(30, 1, "15625")}, {0, NULL}};
        p = write_variant("index_range.csv", ed2, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 30, 1, "column 'index': 15625 is outside 0..15624");
        edit ed3[] = {{30, set_field(30, 1, "x7")}, {0, NULL}};
        p = write_variant("index_num.csv", ed3, NULL, "\n");
        expect_fail(p, NR_ERR_PARSE, 30, 1, "column 'index': expected an integer, got \"x7\"");
        edit ed4[] = {{5, set_field(5, 15, "7")}, {0, NULL}};
        p = write_variant("iso.csv", ed4, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 5, 15, "column 'iso_index': 7 is outside 0..3");
    }
    TEST("wrong row count")
    {
        edit ed[] = {{nlines, NULL}, {0, NULL}};
        const char *p = write_variant("short.csv", ed, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, (long)nlines - 1, 1,
                    "expected 15625 data rows, got 15624 (index 15624 missing");
        edit ed2[] = {{100, NULL}, {0, NULL}};
        p = write_variant("hole.csv", ed2, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, (long)nlines - 1, 1, "index 98 missing");
        /* one extra row: it must collide with something */
        const char *extra = set_field(2, 1, "15625");
        p = write_variant("long.csv", NULL, extra, "\n");
        expect_fail(p, NR_ERR_INVALID, (long)nlines + 1, 1, "15625 is outside 0..15624");
        p = write_variant("long2.csv", NULL, lines[1], "\n");
        expect_fail(p, NR_ERR_INVALID, (long)nlines + 1, 1, "duplicate index 0 (also on line 2)");
        edit only_hdr[16000];
        for (size_t k = 2; k <= nlines; k++) only_hdr[k - 2] = (edit){k, NULL};
        only_hdr[nlines - 1] = (edit){0, NULL};
        p = write_variant("header_only.csv", only_hdr, NULL, "\n");
        expect_fail(p, NR_ERR_INVALID, 1, 1, "got 0");
    }
    TEST("truncated file (half download)")
    {
        char path[128];
        snprintf(path, sizeof path, "%s/trunc.csv", tmpdir);
        /* cut in the middle of line 8001, inside field 6 */
        size_t line = 8001;
        FILE *f = fopen(path, "wb");
        for (size_t k = 1; k < line; k++) fprintf(f, "%s\n", lines[k - 1]);
        const char *l = lines[line - 1];
        const char *c = l;
        for (int i = 0; i < 5; i++) c = strchr(c, ',') + 1;
        fwrite(l, 1, (size_t)(c - l) + 3, f);
        fclose(f);
        expect_fail(path, NR_ERR_PARSE, (long)line, 0, "expected 15 fields, got 6");
        /* cut inside the header */
        f = fopen(path, "wb");
        fwrite(lines[0], 1, 30, f);
        fclose(f);
        expect_fail(path, NR_ERR_INVALID, 1, 0, "missing required column");
        /* empty file */
        f = fopen(path, "wb");
        fclose(f);
        expect_fail(path, NR_ERR_PARSE, 0, 0, "empty CSV");
    }
    TEST("missing file, NASRANK_DATA")
    {
        char path[128];
        snprintf(path, sizeof path, "%s/nope.csv", tmpdir);
        nr_table *t = NULL;
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_table_load(path, &t, &e) == NR_ERR_IO && t == NULL && streq(e.source, path));
        setenv("NASRANK_DATA", tmpdir, 1);
        nr_error_clear(&e);
        CHECK(nr_table_load(NULL, &t, &e) == NR_ERR_IO && t == NULL);
        CHECK_MSG(strstr(e.text, "NASRANK_DATA") != NULL, "%s", e.text);
        unsetenv("NASRANK_DATA");
    }
}

static void test_datasets(void)
{
    TEST("nr_dataset_parse / nr_dataset_name")
    {
        nr_dataset d = NR_NUM_DATASETS;
        CHECK(nr_dataset_parse("cifar10-valid", &d, NULL) == NR_OK && d == NR_DS_CIFAR10_VALID);
        CHECK(nr_dataset_parse("CIFAR10", &d, NULL) == NR_OK && d == NR_DS_CIFAR10);
        CHECK(nr_dataset_parse("cifar100", &d, NULL) == NR_OK && d == NR_DS_CIFAR100);
        CHECK(nr_dataset_parse("ImageNet16-120", &d, NULL) == NR_OK && d == NR_DS_IMAGENET16);
        d = NR_DS_CIFAR10;
        CHECK(nr_dataset_parse("imagenet16", &d, NULL) == NR_OK && d == NR_DS_IMAGENET16);
        d = NR_DS_CIFAR10;
        CHECK(nr_dataset_parse("IMAGENET16-120", &d, NULL) == NR_OK && d == NR_DS_IMAGENET16);
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_dataset_parse("cifar", &d, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "'cifar'") && strstr(e.text, "cifar10-valid") &&
              strstr(e.text, "ImageNet16-120"));
        CHECK(nr_dataset_parse(NULL, &d, NULL) == NR_ERR_INVALID);
        CHECK(nr_dataset_parse("cifar10 ", &d, NULL) == NR_ERR_INVALID);
        CHECK(streq(nr_dataset_name(NR_DS_CIFAR10_VALID), "cifar10-valid"));
        CHECK(streq(nr_dataset_name(NR_DS_CIFAR10), "cifar10"));
        CHECK(streq(nr_dataset_name(NR_DS_CIFAR100), "cifar100"));
        CHECK(streq(nr_dataset_name(NR_DS_IMAGENET16), "ImageNet16-120"));
        CHECK(nr_dataset_name(NR_NUM_DATASETS) == NULL);
        for (int i = 0; i < NR_NUM_DATASETS; i++)
            CHECK(nr_dataset_parse(nr_dataset_name((nr_dataset)i), &d, NULL) == NR_OK &&
                  (int)d == i);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nr_test_table.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_datasets();
    nr_table *t = NULL;
    nr_error e;
    nr_error_clear(&e);
    char path[256];
    TEST("load the real table")
    {
        CHECK(nr_data_find("nb201/nb201_200ep.csv", path, sizeof path, NULL) == NR_OK);
        nr_status st = nr_table_load(NULL, &t, &e);
        char buf[800];
        CHECK_MSG(st == NR_OK && t != NULL, "%s", nr_error_format(&e, buf, sizeof buf));
    }
    if (t) {
        test_real(t);
        test_12ep(t);
        nr_table_free(t);
        if (load_lines(path) == 0 && nlines == NR_NUM_ARCHS + 1) {
            test_bad_tables();
            test_bad_12ep();
        } else {
            CHECK(0);
        }
    }
    free(orig_text);
    free(lines);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT();
}
