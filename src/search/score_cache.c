/* Scores per benchmark index: loaded from a score file, set, or computed on demand (NASWOT)
 * and cached, so each architecture is scored at most once. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nasrank/csv.h"
#include "nasrank/search.h"

struct nr_score_cache {
    const nr_table *table;
    double score[NR_NUM_ARCHS];
    unsigned char known[NR_NUM_ARCHS];
    unsigned char computed[NR_NUM_ARCHS];
    size_t n_known, n_computed;
    double seconds;
    /* on-demand NASWOT */
    int enabled;
    nr_macro_config cfg;
    uint64_t seed;
    float *images; /* (B, 3, S, S) */
    int B;
    nr_naswot_variant variant;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nr_status nr_score_cache_create(const nr_table *t, nr_score_cache **out, nr_error *err)
{
    *out = NULL;
    if (!t) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "score cache needs a table");
    nr_score_cache *c = calloc(1, sizeof *c);
    if (!c) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for a score cache");
    c->table = t;
    *out = c;
    return NR_OK;
}

void nr_score_cache_free(nr_score_cache *c)
{
    if (!c) return;
    free(c->images);
    free(c);
}

nr_status nr_score_cache_set(nr_score_cache *c, int index, double score, nr_error *err)
{
    if (index < 0 || index >= NR_NUM_ARCHS)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "benchmark index %d out of range 0..%d",
                            index, NR_NUM_ARCHS - 1);
    if (!c->known[index]) c->n_known++;
    if (c->computed[index]) {
        c->computed[index] = 0;
        c->n_computed--;
    }
    c->known[index] = 1;
    c->score[index] = score;
    return NR_OK;
}

/* Same value, treating two NaNs as equal. */
static int same_score(double a, double b) { return a == b || (isnan(a) && isnan(b)); }

/* A proxy-feature column through the predictor's reader (nr_feature_scores_read): from the
 * partial-results file of `nasrank score -o OUT` (OUT.partial; v1 NASWOT only, v2 any
 * proxies; a torn last line is ignored) or a score CSV, every value checked as the predictor
 * will take it (FILE:LINE:COL on a NaN, a negative synflow, ...; empty cells skipped). */
static nr_status load_feature(nr_score_cache *c, unsigned bit, const char *path, nr_error *err)
{
    double *val = malloc(NR_NUM_ARCHS * sizeof *val);
    size_t cnt;
    if (!val) return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    nr_status st = nr_feature_scores_read(path, c->table, bit, val, &cnt, err);
    for (int id = 0; id < NR_NUM_ARCHS && !st; id++) {
        if (isnan(val[id])) continue;
        nr_arch a = nr_arch_from_id(id);
        const nr_table_row *row = nr_table_by_arch(c->table, &a);
        if (!row) {
            st = nr_error_set(err, NR_ERR_NOTFOUND, path, 0, 0, "arch id %d not in the table", id);
            break;
        }
    }
    for (int id = 0; id < NR_NUM_ARCHS && !st; id++) {
        if (isnan(val[id])) continue;
        nr_arch a = nr_arch_from_id(id);
        nr_score_cache_set(c, nr_table_by_arch(c->table, &a)->index, val[id], NULL);
    }
    free(val);
    return st;
}

nr_status nr_score_cache_load_csv(nr_score_cache *c, const char *path, const char *column,
                                  nr_error *err)
{
    if (!column) column = "naswot";
    unsigned bit = 0;
    int feature = !nr_predictor_features_parse(column, &bit, NULL) && (bit & NR_FEAT_SCORES) && !(bit & (bit - 1));
    /* proxies other than NASWOT: always checked by the predictor's reader */
    if (feature && bit != NR_FEAT_NASWOT) return load_feature(c, bit, path, err);
    FILE *pf = fopen(path, "r");
    if (pf) {
        static const char magic[] = "# nasrank score partial";
        char head[sizeof magic];
        size_t got = fread(head, 1, sizeof magic - 1, pf);
        fclose(pf);
        if (feature && got == sizeof magic - 1 && !memcmp(head, magic, got)) return load_feature(c, bit, path, err);
    }
    nr_csv *csv = NULL;
    double *val = NULL;
    long *line_of = NULL;
    nr_status st = nr_csv_read(path, &csv, err);
    if (st) return st;
    const char *src = nr_csv_source(csv);
    long hl = nr_csv_header_line(csv);
    long acol = nr_csv_find_col(csv, "arch");
    if (acol < 0) acol = nr_csv_find_col(csv, "arch_str");
    long icol = nr_csv_find_col(csv, "index");
    long scol = nr_csv_find_col(csv, column);
    if (acol < 0 && icol < 0) {
        st = nr_error_set(err, NR_ERR_INVALID, src, hl, 0,
                          "no 'arch', 'arch_str' or 'index' column in the header");
        goto done;
    }
    if (scol < 0) {
        st = nr_error_set(err, NR_ERR_INVALID, src, hl, 0, "no '%s' column in the header", column);
        goto done;
    }
    val = malloc(NR_NUM_ARCHS * sizeof *val);
    line_of = calloc(NR_NUM_ARCHS, sizeof *line_of);
    if (!val || !line_of) {
        st = nr_error_set(err, NR_ERR_NOMEM, src, 0, 0, "out of memory");
        goto done;
    }
    /* parse everything first, so a bad file leaves the cache unchanged */
    size_t n = nr_csv_nrows(csv);
    for (size_t i = 0; i < n; i++) {
        long line = nr_csv_row_line(csv, i);
        int index;
        if (acol >= 0) {
            const char *s = nr_csv_cell(csv, i, (size_t)acol);
            nr_arch a;
            st = nr_arch_parse_at(s, src, line, 1, &a, err);
            if (st) goto done;
            const nr_table_row *row = nr_table_by_arch(c->table, &a);
            if (!row) {
                st = nr_error_set(err, NR_ERR_NOTFOUND, src, line, acol + 1,
                                  "architecture not in the table");
                goto done;
            }
            index = row->index;
        } else {
            long idx;
            st = nr_csv_get_long(csv, i, (size_t)icol, &idx, err);
            if (st) goto done;
            if (idx < 0 || idx >= NR_NUM_ARCHS) {
                st = nr_error_set(err, NR_ERR_INVALID, src, line, icol + 1,
                                  "column 'index': %ld is not a benchmark index (0..%d)", idx,
                                  NR_NUM_ARCHS - 1);
                goto done;
            }
            index = (int)idx;
        }
        double v;
        st = nr_csv_get_double(csv, i, (size_t)scol, 1, &v, err);
        if (st) goto done;
        if (line_of[index] && !same_score(val[index], v)) {
            st = nr_error_set(err, NR_ERR_INVALID, src, line, scol + 1,
                              "column '%s': architecture %d already scored differently at line %ld",
                              column, index, line_of[index]);
            goto done;
        }
        val[index] = v;
        line_of[index] = line;
    }
    for (int k = 0; k < NR_NUM_ARCHS; k++)
        if (line_of[k]) nr_score_cache_set(c, k, val[k], NULL);
done:
    free(val);
    free(line_of);
    nr_csv_free(csv);
    return st;
}

nr_status nr_score_cache_enable_naswot(nr_score_cache *c, const nr_macro_config *cfg,
                                       uint64_t seed, const float *images, int B,
                                       nr_naswot_variant variant, nr_error *err)
{
    nr_macro_config m = cfg ? *cfg : nr_macro_default();
    if (!images || B < 2 || m.image_size < 4 || m.in_channels < 1)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "on-demand NASWOT needs a batch of at least 2 images");
    size_t n = (size_t)B * (size_t)m.in_channels * (size_t)m.image_size * (size_t)m.image_size;
    float *copy = malloc(n * sizeof *copy);
    if (!copy) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for the image batch");
    memcpy(copy, images, n * sizeof *copy);
    free(c->images);
    c->images = copy;
    c->cfg = m;
    c->seed = seed;
    c->B = B;
    c->variant = variant;
    c->enabled = 1;
    return NR_OK;
}

nr_status nr_score_cache_get(nr_score_cache *c, int index, double *score, nr_error *err)
{
    if (index < 0 || index >= NR_NUM_ARCHS)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "benchmark index %d out of range 0..%d",
                            index, NR_NUM_ARCHS - 1);
    if (!c->known[index]) {
        if (!c->enabled)
            return nr_error_set(err, NR_ERR_NOTFOUND, NULL, 0, 0,
                                "no score for benchmark index %d (the score file lacks it)", index);
        const nr_table_row *row = nr_table_by_index(c->table, index);
        nr_naswot_result res;
        double t0 = now_seconds();
        nr_status st = nr_naswot_score_arch(&row->arch, &c->cfg, c->seed, c->images, c->B,
                                            c->variant, &res, err);
        if (st) return st;
        c->seconds += now_seconds() - t0;
        nr_score_cache_set(c, index, res.score, NULL);
        c->computed[index] = 1;
        c->n_computed++;
    }
    *score = c->score[index];
    return NR_OK;
}

int nr_score_cache_has(const nr_score_cache *c, int index)
{
    return c && index >= 0 && index < NR_NUM_ARCHS && c->known[index];
}

size_t nr_score_cache_known(const nr_score_cache *c) { return c ? c->n_known : 0; }
size_t nr_score_cache_computed(const nr_score_cache *c) { return c ? c->n_computed : 0; }
double nr_score_cache_seconds(const nr_score_cache *c) { return c ? c->seconds : 0.0; }
