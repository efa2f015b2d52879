/* nasrank — NAS-Bench-201 ground-truth table (see include/nasrank/table.h).
 *
 * The 200-epoch CSV is read with nr_csv_read, every required cell converted strictly, and
 * the rows placed by their benchmark index (row i = index i).  A second array maps the
 * lexicographic arch id (nr_arch_to_id) to the index, so lookup by arch is O(1).
 *
 * Validation beyond the CSV layer: accuracies within 0..100, params_mb >= 0, n_runs >= 1,
 * index in 0..15624 exactly once, arch strings valid and unique, iso_index <= index, a
 * class representative and the smallest index of the arch's isomorphism class
 * (nr_arch_canonical_key), exactly 15,625 rows.  Every error carries FILE:LINE:COL with COL the
 * 1-based field number.
 */
#include "nasrank/table.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nasrank/csv.h"
#include "nasrank/paths.h"

#define DEFAULT_200EP "nb201/nb201_200ep.csv"
#define DEFAULT_12EP "nb201/nb201_12ep.csv"

struct nr_table {
    nr_table_row *rows;       /* (NR_NUM_ARCHS) rows[i].index == i */
    int by_id[NR_NUM_ARCHS];  /* lexicographic arch id -> benchmark index */
};

/* ---- datasets ---- */

static const char *const k_ds_names[NR_NUM_DATASETS] = {"cifar10-valid", "cifar10", "cifar100",
                                                        "ImageNet16-120"};

nr_status nr_dataset_parse(const char *name, nr_dataset *out, nr_error *err)
{
    if (name) {
        for (int d = 0; d < NR_NUM_DATASETS; d++) {
            if (strcasecmp(name, k_ds_names[d]) == 0) {
                if (out) *out = (nr_dataset)d;
                return NR_OK;
            }
        }
        if (strcasecmp(name, "imagenet16") == 0) {
            if (out) *out = NR_DS_IMAGENET16;
            return NR_OK;
        }
    }
    return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                        "unknown dataset '%s' (expected cifar10-valid, cifar10, cifar100 or "
                        "ImageNet16-120)",
                        name ? name : "(null)");
}

const char *nr_dataset_name(nr_dataset ds)
{
    if ((int)ds < 0 || ds >= NR_NUM_DATASETS) return NULL;
    return k_ds_names[ds];
}

/* ---- loading helpers ---- */

typedef struct col_spec {
    const char *name;
    long col; /* resolved field index */
} col_spec;

/* Resolves every column name; error at the header line naming the first missing one. */
static nr_status find_cols(const nr_csv *csv, col_spec *cols, int n, nr_error *err)
{
    for (int i = 0; i < n; i++) {
        cols[i].col = nr_csv_find_col(csv, cols[i].name);
        if (cols[i].col < 0)
            return nr_error_set(err, NR_ERR_INVALID, nr_csv_source(csv),
                                nr_csv_header_line(csv), 0, "missing required column '%s'",
                                cols[i].name);
    }
    return NR_OK;
}

static long cell_line(const nr_csv *csv, size_t r) { return nr_csv_row_line(csv, r); }

/* A finite double within [lo, hi]. */
static nr_status get_bounded(const nr_csv *csv, size_t r, long col, double lo, double hi,
                             double *out, nr_error *err)
{
    double v;
    nr_status st = nr_csv_get_double(csv, r, (size_t)col, 0, &v, err);
    if (st != NR_OK) return st;
    if (v < lo || v > hi)
        return nr_error_set(err, NR_ERR_INVALID, nr_csv_source(csv), cell_line(csv, r),
                            col + 1, "column '%s': %.17g is outside %g..%g",
                            nr_csv_header(csv, (size_t)col), v, lo, hi);
    *out = v;
    return NR_OK;
}

/* An integer within [lo, hi]. */
static nr_status get_int(const nr_csv *csv, size_t r, long col, long lo, long hi, int *out,
                         nr_error *err)
{
    long v;
    nr_status st = nr_csv_get_long(csv, r, (size_t)col, &v, err);
    if (st != NR_OK) return st;
    if (v < lo || v > hi)
        return nr_error_set(err, NR_ERR_INVALID, nr_csv_source(csv), cell_line(csv, r),
                            col + 1, "column '%s': %ld is outside %ld..%ld",
                            nr_csv_header(csv, (size_t)col), v, lo, hi);
    *out = (int)v;
    return NR_OK;
}

/* Parses an arch cell; errors re-located to the cell (COL = field number) with the
 * character position inside the string kept in the message. */
static nr_status get_arch(const nr_csv *csv, size_t r, long col, nr_arch *out, nr_error *err)
{
    nr_error e;
    nr_error_clear(&e);
    long line = cell_line(csv, r);
    nr_status st = nr_arch_parse_at(nr_csv_cell(csv, r, (size_t)col), nr_csv_source(csv), line,
                                    1, out, &e);
    if (st == NR_OK) return NR_OK;
    if (e.column > 0)
        return nr_error_set(err, st, nr_csv_source(csv), line, col + 1,
                            "column '%s': %s (character %ld)", nr_csv_header(csv, (size_t)col),
                            e.text, e.column);
    return nr_error_set(err, st, nr_csv_source(csv), line, col + 1, "column '%s': %s",
                        nr_csv_header(csv, (size_t)col), e.text);
}

/* Error for a file with fewer than NR_NUM_ARCHS rows, naming the first missing index. */
static nr_status short_file(const nr_csv *csv, const long *seen, long index_col, nr_error *err)
{
    size_t n = nr_csv_nrows(csv);
    long line = n ? cell_line(csv, n - 1) : nr_csv_header_line(csv);
    int missing = 0;
    while (missing < NR_NUM_ARCHS && seen[missing] != 0) missing++;
    return nr_error_set(err, NR_ERR_INVALID, nr_csv_source(csv), line, index_col + 1,
                        "expected %d data rows, got %zu (index %d missing; truncated file?)",
                        NR_NUM_ARCHS, n, missing);
}

static nr_status resolve(const char *path, const char *deflt, char *buf, size_t size,
                         nr_error *err)
{
    if (path) {
        if ((size_t)snprintf(buf, size, "%s", path) >= size)
            return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "path too long");
        return NR_OK;
    }
    return nr_data_find(deflt, buf, size, err);
}

/* iso_index must be the smallest index of the arch's isomorphism class, the classes being
 * those of nr_arch_canonical_key (which reproduces the benchmark's exactly): an edited
 * iso_index that still names some representative is caught here.  Keys are sorted, and
 * each class's smallest index compared with every member's iso_index; the mismatch on the
 * earliest line is reported. */
#define ISO_KEY 128 /* keys are at most 112 characters */

typedef struct iso_ref {
    const char *key;
    int index;
} iso_ref;

static int cmp_iso_ref(const void *a, const void *b)
{
    const iso_ref *x = a, *y = b;
    int r = strcmp(x->key, y->key);
    return r ? r : (x->index > y->index) - (x->index < y->index);
}

static nr_status check_iso_classes(const nr_table *t, const long *seen, const char *file,
                                   long iso_col, nr_error *err)
{
    char *keys = malloc((size_t)NR_NUM_ARCHS * ISO_KEY);
    iso_ref *refs = malloc(NR_NUM_ARCHS * sizeof *refs);
    if (!keys || !refs) {
        free(keys);
        free(refs);
        return nr_error_set(err, NR_ERR_NOMEM, file, 0, 0, "out of memory");
    }
    for (int i = 0; i < NR_NUM_ARCHS; i++) {
        refs[i].key = keys + (size_t)i * ISO_KEY;
        refs[i].index = i;
        nr_arch_canonical_key(&t->rows[i].arch, keys + (size_t)i * ISO_KEY, ISO_KEY);
    }
    qsort(refs, NR_NUM_ARCHS, sizeof *refs, cmp_iso_ref);
    int bad = -1, want = 0, first = 0;
    for (int k = 0; k < NR_NUM_ARCHS; k++) {
        /* sorted by (key, index): a class starts with its smallest index */
        if (k == 0 || strcmp(refs[k].key, refs[k - 1].key) != 0) first = refs[k].index;
        int i = refs[k].index;
        if (t->rows[i].iso_index != first && (bad < 0 || seen[i] < seen[bad])) {
            bad = i;
            want = first;
        }
    }
    nr_status st = NR_OK;
    if (bad >= 0)
        st = nr_error_set(err, NR_ERR_INVALID, file, seen[bad], iso_col + 1,
                          "iso_index %d does not match the arch's isomorphism class (smallest "
                          "index of the class: %d)",
                          t->rows[bad].iso_index, want);
    free(keys);
    free(refs);
    return st;
}

/* ---- 200-epoch table ---- */

enum {
    C_INDEX, C_ARCH, C_C10V, C_C10T, C_C100V, C_C100T, C_IN16V, C_IN16T,
    C_NRUNS, C_P10, C_P100, C_PIN16, C_ISO, C_COUNT
};

/* One row of the CSV into t->rows[index]; seen[index] = line of the row that set it. */
static nr_status load_row(nr_table *t, const nr_csv *csv, size_t r, const col_spec *c,
                          long *seen, nr_error *err)
{
    const char *src = nr_csv_source(csv);
    long line = cell_line(csv, r);
    nr_status st;
    int index;
    if ((st = get_int(csv, r, c[C_INDEX].col, 0, NR_NUM_ARCHS - 1, &index, err))) return st;
    if (seen[index])
        return nr_error_set(err, NR_ERR_INVALID, src, line, c[C_INDEX].col + 1,
                            "duplicate index %d (also on line %ld)", index, seen[index]);
    seen[index] = line;
    nr_table_row *row = &t->rows[index];
    row->index = index;
    if ((st = get_arch(csv, r, c[C_ARCH].col, &row->arch, err))) return st;
    int id = nr_arch_to_id(&row->arch);
    if (id < 0 || id >= NR_NUM_ARCHS)
        return nr_error_set(err, NR_ERR_INTERNAL, src, line, c[C_ARCH].col + 1,
                            "nr_arch_to_id returned %d", id);
    if (t->by_id[id] >= 0)
        return nr_error_set(err, NR_ERR_INVALID, src, line, c[C_ARCH].col + 1,
                            "duplicate arch_str (also on line %ld, index %d)",
                            seen[t->by_id[id]], t->by_id[id]);
    t->by_id[id] = index;

    static const struct { int col, ds, test; } acc[] = {
        {C_C10V, NR_DS_CIFAR10_VALID, 0}, {C_C10T, NR_DS_CIFAR10_VALID, 1},
        {C_C10V, NR_DS_CIFAR10, 0},       {C_C10T, NR_DS_CIFAR10, 1},
        {C_C100V, NR_DS_CIFAR100, 0},     {C_C100T, NR_DS_CIFAR100, 1},
        {C_IN16V, NR_DS_IMAGENET16, 0},   {C_IN16T, NR_DS_IMAGENET16, 1},
    };
    for (size_t k = 0; k < sizeof acc / sizeof acc[0]; k++) {
        double *dst = acc[k].test ? &row->test[acc[k].ds] : &row->valid[acc[k].ds];
        if ((st = get_bounded(csv, r, c[acc[k].col].col, 0.0, 100.0, dst, err))) return st;
    }
    static const struct { int col, ds; } par[] = {
        {C_P10, NR_DS_CIFAR10_VALID}, {C_P10, NR_DS_CIFAR10},
        {C_P100, NR_DS_CIFAR100},     {C_PIN16, NR_DS_IMAGENET16},
    };
    for (size_t k = 0; k < sizeof par / sizeof par[0]; k++)
        if ((st = get_bounded(csv, r, c[par[k].col].col, 0.0, 1e6, &row->params_mb[par[k].ds],
                              err)))
            return st;
    if ((st = get_int(csv, r, c[C_NRUNS].col, 1, 1000000, &row->n_runs, err))) return st;
    if ((st = get_int(csv, r, c[C_ISO].col, 0, index, &row->iso_index, err))) return st;
    for (int d = 0; d < NR_NUM_DATASETS; d++) row->valid12[d] = row->test12[d] = NAN;
    return NR_OK;
}

nr_status nr_table_load(const char *path, nr_table **out, nr_error *err)
{
    nr_status st;
    nr_csv *csv = NULL;
    nr_table *t = NULL;
    long *seen = NULL; /* (NR_NUM_ARCHS) line of the row holding each index, 0 = none yet */
    char file[4096];
    if (out) *out = NULL;
    if (!out) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "nr_table_load: out is NULL");
    if ((st = resolve(path, DEFAULT_200EP, file, sizeof file, err))) return st;
    if ((st = nr_csv_read(file, &csv, err))) return st;
    col_spec c[C_COUNT] = {
        {"index", 0},              {"arch_str", 0},           {"cifar10_valid_acc", 0},
        {"cifar10_test_acc", 0},   {"cifar100_valid_acc", 0}, {"cifar100_test_acc", 0},
        {"imagenet16_valid_acc", 0}, {"imagenet16_test_acc", 0}, {"n_runs", 0},
        {"params_mb_cifar10", 0},  {"params_mb_cifar100", 0}, {"params_mb_imagenet16", 0},
        {"iso_index", 0},
    };
    if ((st = find_cols(csv, c, C_COUNT, err))) goto fail;
    t = calloc(1, sizeof *t);
    seen = calloc(NR_NUM_ARCHS, sizeof *seen);
    if (t) t->rows = calloc(NR_NUM_ARCHS, sizeof *t->rows);
    if (!t || !seen || !t->rows) {
        st = nr_error_set(err, NR_ERR_NOMEM, file, 0, 0, "out of memory");
        goto fail;
    }
    for (int i = 0; i < NR_NUM_ARCHS; i++) t->by_id[i] = -1;
    size_t n = nr_csv_nrows(csv);
    for (size_t r = 0; r < n; r++)
        if ((st = load_row(t, csv, r, c, seen, err))) goto fail;
    /* More rows than archs would have hit a duplicate or out-of-range index above. */
    if (n != NR_NUM_ARCHS) {
        st = short_file(csv, seen, c[C_INDEX].col, err);
        goto fail;
    }
    for (int i = 0; i < NR_NUM_ARCHS; i++) {
        int iso = t->rows[i].iso_index;
        if (t->rows[iso].iso_index != iso) {
            st = nr_error_set(err, NR_ERR_INVALID, file, seen[i], c[C_ISO].col + 1,
                              "iso_index %d is not a class representative (index %d has "
                              "iso_index %d)",
                              iso, iso, t->rows[iso].iso_index);
            goto fail;
        }
    }
    if ((st = check_iso_classes(t, seen, file, c[C_ISO].col, err))) goto fail;
    free(seen);
    nr_csv_free(csv);
    *out = t;
    return NR_OK;
fail:
    free(seen);
    nr_csv_free(csv);
    nr_table_free(t);
    return st;
}

/* ---- 12-epoch results ---- */

enum { E_INDEX, E_ARCH, E_C10V, E_C10T, E_C100V, E_C100T, E_IN16V, E_IN16T, E_COUNT };

nr_status nr_table_load_12ep(nr_table *t, const char *path, nr_error *err)
{
    nr_status st;
    nr_csv *csv = NULL;
    long *seen = NULL;
    double *vals = NULL; /* (NR_NUM_ARCHS, 6) staged so a failure leaves t unchanged */
    char file[4096];
    if (!t) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "nr_table_load_12ep: no table");
    if ((st = resolve(path, DEFAULT_12EP, file, sizeof file, err))) return st;
    if ((st = nr_csv_read(file, &csv, err))) return st;
    col_spec c[E_COUNT] = {
        {"index", 0},
        {"arch_str", 0},
        {"cifar10_valid_acc_12ep", 0},
        {"cifar10_test_acc_12ep", 0},
        {"cifar100_valid_acc_12ep", 0},
        {"cifar100_test_acc_12ep", 0},
        {"imagenet16_valid_acc_12ep", 0},
        {"imagenet16_test_acc_12ep", 0},
    };
    if ((st = find_cols(csv, c, E_COUNT, err))) goto fail;
    seen = calloc(NR_NUM_ARCHS, sizeof *seen);
    vals = malloc((size_t)NR_NUM_ARCHS * 6 * sizeof *vals);
    if (!seen || !vals) {
        st = nr_error_set(err, NR_ERR_NOMEM, file, 0, 0, "out of memory");
        goto fail;
    }
    size_t n = nr_csv_nrows(csv);
    for (size_t r = 0; r < n; r++) {
        long line = cell_line(csv, r);
        int index;
        if ((st = get_int(csv, r, c[E_INDEX].col, 0, NR_NUM_ARCHS - 1, &index, err))) goto fail;
        if (seen[index]) {
            st = nr_error_set(err, NR_ERR_INVALID, file, line, c[E_INDEX].col + 1,
                              "duplicate index %d (also on line %ld)", index, seen[index]);
            goto fail;
        }
        seen[index] = line;
        nr_arch a;
        if ((st = get_arch(csv, r, c[E_ARCH].col, &a, err))) goto fail;
        if (!nr_arch_equal(&a, &t->rows[index].arch)) {
            char want[NR_ARCH_STR_MAX];
            nr_arch_format(&t->rows[index].arch, want, sizeof want);
            st = nr_error_set(err, NR_ERR_INVALID, file, line, c[E_ARCH].col + 1,
                              "arch_str of index %d differs from the 200-epoch table (%s)",
                              index, want);
            goto fail;
        }
        for (int k = 0; k < 6; k++)
            if ((st = get_bounded(csv, r, c[E_C10V + k].col, 0.0, 100.0,
                                  &vals[(size_t)index * 6 + (size_t)k], err)))
                goto fail;
    }
    if (n != NR_NUM_ARCHS) {
        st = short_file(csv, seen, c[E_INDEX].col, err);
        goto fail;
    }
    for (int i = 0; i < NR_NUM_ARCHS; i++) {
        nr_table_row *row = &t->rows[i];
        const double *v = &vals[(size_t)i * 6]; /* c10 v/t, c100 v/t, in16 v/t */
        row->valid12[NR_DS_CIFAR10_VALID] = row->valid12[NR_DS_CIFAR10] = v[0];
        row->test12[NR_DS_CIFAR10_VALID] = row->test12[NR_DS_CIFAR10] = v[1];
        row->valid12[NR_DS_CIFAR100] = v[2];
        row->test12[NR_DS_CIFAR100] = v[3];
        row->valid12[NR_DS_IMAGENET16] = v[4];
        row->test12[NR_DS_IMAGENET16] = v[5];
    }
    st = NR_OK;
fail:
    free(vals);
    free(seen);
    nr_csv_free(csv);
    return st;
}

void nr_table_free(nr_table *t)
{
    if (!t) return;
    free(t->rows);
    free(t);
}

/* ---- lookup ---- */

size_t nr_table_size(const nr_table *t) { return t ? NR_NUM_ARCHS : 0; }

const nr_table_row *nr_table_by_index(const nr_table *t, long index)
{
    if (!t || index < 0 || index >= NR_NUM_ARCHS) return NULL;
    return &t->rows[index];
}

const nr_table_row *nr_table_by_arch(const nr_table *t, const nr_arch *a)
{
    if (!t || !a) return NULL;
    for (int e = 0; e < NR_NUM_EDGES; e++)
        if (a->op[e] >= NR_NUM_OPS) return NULL;
    int id = nr_arch_to_id(a);
    if (id < 0 || id >= NR_NUM_ARCHS || t->by_id[id] < 0) return NULL;
    return &t->rows[t->by_id[id]];
}

const nr_table_row *nr_table_lookup(const nr_table *t, const char *s)
{
    if (!t || !s || !*s) return NULL;
    size_t n = 0;
    while (isdigit((unsigned char)s[n])) n++;
    if (s[n] == '\0') {
        if (n > 9) return NULL; /* larger than any index; avoids overflow */
        return nr_table_by_index(t, strtol(s, NULL, 10));
    }
    nr_arch a;
    if (nr_arch_parse(s, &a, NULL) != NR_OK) return NULL;
    return nr_table_by_arch(t, &a);
}

double nr_table_acc(const nr_table_row *row, nr_dataset ds, nr_metric m, int epochs)
{
    if (!row || (int)ds < 0 || ds >= NR_NUM_DATASETS) return NAN;
    if (epochs == 200) return m == NR_METRIC_TEST ? row->test[ds] : row->valid[ds];
    if (epochs == 12) return m == NR_METRIC_TEST ? row->test12[ds] : row->valid12[ds];
    return NAN;
}
