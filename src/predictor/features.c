/* Score features for the predictor's caller-supplied inputs: reading them from a `nasrank
 * score` CSV or partial-results file, or computing NASWOT. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/csv.h"
#include "nasrank/data.h"
#include "nasrank/paths.h"
#include "nasrank/score.h"
#include "predictor/pred.h"
#include "score/partial.h"

/* What is being read: S score features (bits in bit order) into out[id * S + k]. */
typedef struct rd {
    const char *path;
    int S;
    unsigned bit[PG_MAX_EXTRA];
    double *out;
    unsigned char *have; /* (NR_NUM_ARCHS, S): value k of arch id present */
    nr_error *err;
} rd;

static nr_status put(rd *r, int id, int k, double v, long line, long col)
{
    char why[160];
    double t;
    if (pp_score_transform(r->bit[k], v, &t, why, sizeof why))
        return nr_error_set(r->err, NR_ERR_NUMERIC, r->path, line, col, "%s", why);
    size_t at = (size_t)id * (size_t)r->S + (size_t)k;
    if (!r->have[at]) {
        r->out[at] = v;
        r->have[at] = 1;
    } else if (r->out[at] != v) {
        char a[NR_ARCH_STR_MAX];
        nr_arch arch = nr_arch_from_id(id);
        nr_arch_format(&arch, a, sizeof a);
        return nr_error_set(r->err, NR_ERR_INVALID, r->path, line, col,
                            "arch %s appears again with another %s score (%.17g, before %.17g)", a,
                            r->bit[k] == NR_FEAT_NASWOT ? "NASWOT" : pp_feature_name(r->bit[k]), v, r->out[at]);
    }
    return NR_OK;
}

/* Cuts a complete line's "\n" (and a "\r" before it); returns the length left. */
static size_t strip_line_end(char *line, size_t len)
{
    line[--len] = '\0';
    if (len && line[len - 1] == '\r') line[--len] = '\0';
    return len;
}

/* The lines after the header (score/partial.h), value pos[k] of each going to feature k; a
 * torn last line (a running or killed job) is left out. */
static nr_status read_partial_lines(rd *r, FILE *f, int v2, int nvalues, const int *pos)
{
    char line[4096];
    long ln = 1; /* the header was line 1 */
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') { /* len 0: a line starting with a NUL byte */
            if (len > 0 && feof(f)) break;
            return nr_error_set(r->err, NR_ERR_PARSE, r->path, ln, 1, len ? "line too long" : "NUL byte");
        }
        nr_partial_line pl;
        len = strip_line_end(line, len);
        if (v2 ? nr_partial_parse_v2(line, len, nvalues, &pl) : nr_partial_parse_v1(line, len, &pl)) {
            if (v2)
                return nr_error_set(r->err, NR_ERR_PARSE, r->path, ln, 1,
                                    "expected 'id,seconds' then 'value,seconds' for each of the %d proxies of the "
                                    "header", nvalues);
            return nr_error_set(r->err, NR_ERR_PARSE, r->path, ln, 1,
                                "expected 'id,naswot,sign,units,seconds' with id in 0..%d", NR_NUM_ARCHS - 1);
        }
        for (int k = 0; k < r->S; k++) {
            nr_status st = put(r, pl.id, k, pl.value[pos[k]], ln, pl.value_col[pos[k]]);
            if (st) return st;
        }
    }
    if (ferror(f)) return nr_error_set(r->err, NR_ERR_IO, r->path, 0, 0, "read error");
    return NR_OK;
}

/* v1 holds NASWOT scores only. */
static nr_status read_partial_v1(rd *r, FILE *f)
{
    for (int k = 0; k < r->S; k++)
        if (r->bit[k] != NR_FEAT_NASWOT)
            return nr_error_set(r->err, NR_ERR_INVALID, r->path, 1, 0,
                                "no '%s' column: this partial file (v1) holds NASWOT scores only; "
                                "run `nasrank score --proxy %s` first", pp_feature_name(r->bit[k]),
                                pp_feature_name(r->bit[k]));
    static const int first[1] = {0};
    return read_partial_lines(r, f, 0, 1, first);
}

/* v2: the header lists "proxies=a,b,c", the order of the values on every line. */
static nr_status read_partial_v2(rd *r, FILE *f, const char *header)
{
    enum { MAXP = NR_PARTIAL_MAX_VALUES };
    char names[MAXP][32];
    int np = 0, pos[PG_MAX_EXTRA];
    const char *pl = strstr(header, " proxies=");
    if (!pl) return nr_error_set(r->err, NR_ERR_PARSE, r->path, 1, 0, "partial-results header without 'proxies='");
    pl += strlen(" proxies=");
    while (*pl && *pl != ' ' && *pl != '\n' && np < MAXP) {
        size_t len = strcspn(pl, ", \n");
        snprintf(names[np], sizeof names[np], "%.*s", (int)(len < 31 ? len : 31), pl);
        np++;
        pl += len;
        if (*pl == ',') pl++;
    }
    char list[MAXP * 33] = "";
    for (int j = 0; j < np; j++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", j ? "," : "", names[j]);
    for (int k = 0; k < r->S; k++) {
        pos[k] = -1;
        for (int j = 0; j < np; j++)
            if (!strcmp(names[j], pp_feature_name(r->bit[k]))) pos[k] = j;
        if (pos[k] < 0)
            return nr_error_set(r->err, NR_ERR_INVALID, r->path, 1, 0,
                                "no '%s' column: this partial file holds %s; run `nasrank score --proxy %s` first",
                                pp_feature_name(r->bit[k]), np ? list : "no proxy", pp_feature_name(r->bit[k]));
    }
    return read_partial_lines(r, f, 1, np, pos);
}

static nr_status read_csv(rd *r, const nr_table *t)
{
    nr_csv *csv = NULL;
    nr_status st = nr_csv_read(r->path, &csv, r->err);
    if (st) return st;
    long ca = nr_csv_find_col(csv, "arch");
    if (ca < 0) ca = nr_csv_find_col(csv, "arch_str");
    long ci = nr_csv_find_col(csv, "index"), cn[PG_MAX_EXTRA];
    for (int k = 0; k < r->S; k++) {
        cn[k] = nr_csv_find_col(csv, pp_feature_name(r->bit[k]));
        if (cn[k] < 0) {
            const char *nm = pp_feature_name(r->bit[k]);
            st = r->bit[k] == NR_FEAT_NASWOT
                     ? nr_error_set(r->err, NR_ERR_INVALID, r->path, nr_csv_header_line(csv), 0,
                                    "a scores file needs a 'naswot' column and an 'arch', 'arch_str' or 'index' column")
                     : nr_error_set(r->err, NR_ERR_INVALID, r->path, nr_csv_header_line(csv), 0,
                                    "no '%s' column in the scores file (run `nasrank score --proxy %s` first)", nm, nm);
            goto done;
        }
    }
    if (ca < 0 && ci < 0) {
        st = nr_error_set(r->err, NR_ERR_INVALID, r->path, nr_csv_header_line(csv), 0,
                          "a scores file needs an 'arch', 'arch_str' or 'index' column");
        goto done;
    }
    if (ca < 0 && !t) {
        st = nr_error_set(r->err, NR_ERR_INVALID, r->path, nr_csv_header_line(csv), 0,
                          "the scores file names archs by 'index' only: the benchmark table is needed");
        goto done;
    }
    for (size_t row = 0; row < nr_csv_nrows(csv); row++) {
        long line = nr_csv_row_line(csv, row);
        nr_arch a;
        if (ca >= 0) {
            if ((st = nr_arch_parse_at(nr_csv_cell(csv, row, (size_t)ca), r->path, line, 1, &a, r->err))) goto done;
        } else {
            long idx;
            if ((st = nr_csv_get_long(csv, row, (size_t)ci, &idx, r->err))) goto done;
            const nr_table_row *tr = nr_table_by_index(t, idx);
            if (!tr) {
                st = nr_error_set(r->err, NR_ERR_INVALID, r->path, line, ci + 1, "index %ld is not a benchmark index", idx);
                goto done;
            }
            a = tr->arch;
        }
        for (int k = 0; k < r->S; k++) {
            if (!nr_csv_cell(csv, row, (size_t)cn[k])[0]) continue; /* a row that failed in `score --keep-going` */
            double v;
            if ((st = nr_csv_get_double(csv, row, (size_t)cn[k], 1, &v, r->err))) goto done;
            if ((st = put(r, nr_arch_to_id(&a), k, v, line, cn[k] + 1))) goto done;
        }
    }
done:
    nr_csv_free(csv);
    return st;
}

nr_status nr_feature_scores_read(const char *path, const nr_table *t, unsigned mask, double *out, size_t *count,
                                 nr_error *err)
{
    if (!path || !out || !count) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "NULL argument");
    int S = nr_predictor_num_score_features(mask);
    if (S < 1 || (mask & ~(unsigned)NR_FEAT_ALL))
        return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "no score feature to read (mask 0x%x)", mask);
    rd r = {path, S, {0}, out, NULL, err};
    for (int k = 0; k < S; k++) r.bit[k] = nr_predictor_score_feature(mask, k);
    for (size_t i = 0; i < (size_t)NR_NUM_ARCHS * (size_t)S; i++) out[i] = NAN;
    *count = 0;
    r.have = calloc((size_t)NR_NUM_ARCHS * (size_t)S, 1);
    if (!r.have) return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    nr_status st;
    FILE *f = fopen(path, "r");
    if (!f) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open the scores file");
        goto done;
    }
    char head[1024] = "";
    if (!fgets(head, sizeof head, f)) head[0] = '\0';
    if (!strncmp(head, "# nasrank score partial", 23)) {
        if (!strchr(head, '\n')) { /* skip the rest of a long header line */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {}
        }
        if (nr_partial_is_version(head, "v2")) st = read_partial_v2(&r, f, head);
        else if (nr_partial_is_version(head, "v1")) st = read_partial_v1(&r, f);
        else st = nr_error_set(err, NR_ERR_PARSE, path, 1, 1, "unknown partial-results format (expected v1 or v2)");
        fclose(f);
    } else {
        fclose(f);
        st = read_csv(&r, t);
    }
    if (!st)
        for (int id = 0; id < NR_NUM_ARCHS; id++) {
            int all = 1;
            for (int k = 0; k < S; k++) all &= r.have[(size_t)id * S + k];
            *count += (size_t)all;
        }
done:
    free(r.have);
    return st;
}

nr_status nr_naswot_scores_read(const char *path, const nr_table *t, double *naswot, size_t *count, nr_error *err)
{
    return nr_feature_scores_read(path, t, NR_FEAT_NASWOT, naswot, count, err);
}
nr_status nr_naswot_compute(const nr_arch *archs, size_t n, nr_dataset ds, uint64_t seed, int batch, double *out,
                            void (*progress)(void *ctx, size_t done, size_t total), void *ctx, nr_error *err)
{
    if ((!archs || !out) && n) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NULL archs or out");
    if (ds == NR_DS_CIFAR10_VALID) ds = NR_DS_CIFAR10;
    if (ds != NR_DS_CIFAR10 && ds != NR_DS_CIFAR100)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "NASWOT can be computed on cifar10 or cifar100 images only (no %s images); "
                            "give precomputed scores", nr_dataset_name(ds));
    if (batch < 2 || batch > 4096) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "batch must be in 2..4096");
    nr_status st = NR_OK;
    nr_images *im = NULL;
    float *imgs = NULL;
    size_t *pick = NULL;
    double *cache = NULL;
    char path[4096];
    int c100 = ds == NR_DS_CIFAR100;
    if ((st = nr_data_find(c100 ? "cifar100/train_head486.bin" : "cifar10/data_batch_1_head4000.bin", path, sizeof path,
                           err)))
        return st;
    if ((st = nr_images_read(path, c100 ? NR_CIFAR100 : NR_CIFAR10, &im, err))) return st;
    nr_macro_config cfg = nr_macro_default();
    cfg.num_classes = c100 ? 100 : 10;
    int S = cfg.image_size;
    imgs = malloc((size_t)batch * 3 * S * S * sizeof *imgs);
    pick = malloc((size_t)batch * sizeof *pick);
    cache = malloc(NR_NUM_ARCHS * sizeof *cache);
    if (!imgs || !pick || !cache) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    nr_norm norm = c100 ? nr_norm_cifar100() : nr_norm_cifar10();
    if ((st = nr_images_choose(im, (size_t)batch, seed, pick, err))) goto done;
    if ((st = nr_images_batch(im, pick, (size_t)batch, &norm, S, imgs, err))) goto done;
    for (int i = 0; i < NR_NUM_ARCHS; i++) cache[i] = NAN;
    for (size_t i = 0; i < n; i++) {
        int id = nr_arch_to_id(&archs[i]);
        if (id < 0) {
            st = nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "arch %zu has an op out of range", i);
            goto done;
        }
        if (isnan(cache[id])) {
            nr_naswot_result r;
            if ((st = nr_naswot_score_arch(&archs[i], &cfg, seed, imgs, batch, NR_NASWOT_REFERENCE, &r, err))) goto done;
            cache[id] = r.score;
        }
        out[i] = cache[id];
        if (progress) progress(ctx, i + 1, n);
    }
done:
    nr_images_free(im);
    free(imgs), free(pick), free(cache);
    return st;
}
