/* NASWOT scores for the predictor's NASWOT input: reading a scores file, or computing them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/csv.h"
#include "nasrank/data.h"
#include "nasrank/paths.h"
#include "nasrank/score.h"
#include "predictor/pred.h"

static nr_status put(double *naswot, size_t *count, int id, double v, const char *src, long line, long col,
                     nr_error *err)
{
    if (isnan(v) || v == INFINITY)
        return nr_error_set(err, NR_ERR_NUMERIC, src, line, col, "NASWOT score is %s (finite or -inf required)",
                            isnan(v) ? "NaN" : "+inf");
    if (isnan(naswot[id])) {
        naswot[id] = v;
        (*count)++;
    } else if (naswot[id] != v) {
        char a[NR_ARCH_STR_MAX];
        nr_arch arch = nr_arch_from_id(id);
        nr_arch_format(&arch, a, sizeof a);
        return nr_error_set(err, NR_ERR_INVALID, src, line, col,
                            "arch %s appears again with another NASWOT score (%.17g, before %.17g)", a, v, naswot[id]);
    }
    return NR_OK;
}

static nr_status read_partial(FILE *f, const char *path, double *naswot, size_t *count, nr_error *err)
{
    char line[512];
    long ln = 1; /* the header was line 1 */
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t len = strlen(line);
        if (line[len - 1] != '\n') {
            if (feof(f)) break; /* torn last line of a running or killed job */
            return nr_error_set(err, NR_ERR_PARSE, path, ln, 1, "line too long");
        }
        char *end;
        long id = strtol(line, &end, 10);
        if (end == line || *end != ',' || id < 0 || id >= NR_NUM_ARCHS)
            return nr_error_set(err, NR_ERR_PARSE, path, ln, 1, "expected 'id,naswot,sign,units,seconds' with id in 0..%d",
                                NR_NUM_ARCHS - 1);
        char *s = end + 1;
        double v = strtod(s, &end);
        if (end == s || *end != ',')
            return nr_error_set(err, NR_ERR_PARSE, path, ln, (long)(s - line) + 1, "expected a NASWOT score");
        nr_status st = put(naswot, count, (int)id, v, path, ln, (long)(s - line) + 1, err);
        if (st) return st;
    }
    if (ferror(f)) return nr_error_set(err, NR_ERR_IO, path, 0, 0, "read error");
    return NR_OK;
}

nr_status nr_naswot_scores_read(const char *path, const nr_table *t, double *naswot, size_t *count, nr_error *err)
{
    if (!path || !naswot || !count) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "NULL argument");
    for (int i = 0; i < NR_NUM_ARCHS; i++) naswot[i] = NAN;
    *count = 0;
    FILE *f = fopen(path, "r");
    if (!f) return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open the scores file");
    char head[64] = "";
    if (!fgets(head, sizeof head, f)) head[0] = '\0';
    if (!strncmp(head, "# nasrank score partial", 23)) {
        if (!strchr(head, '\n')) { /* skip the rest of a long header line */
            int ch;
            while ((ch = fgetc(f)) != EOF && ch != '\n') {}
        }
        nr_status st = read_partial(f, path, naswot, count, err);
        fclose(f);
        return st;
    }
    fclose(f);

    nr_csv *csv = NULL;
    nr_status st = nr_csv_read(path, &csv, err);
    if (st) return st;
    long ca = nr_csv_find_col(csv, "arch");
    if (ca < 0) ca = nr_csv_find_col(csv, "arch_str");
    long ci = nr_csv_find_col(csv, "index"), cn = nr_csv_find_col(csv, "naswot");
    if (cn < 0 || (ca < 0 && ci < 0)) {
        st = nr_error_set(err, NR_ERR_INVALID, path, nr_csv_header_line(csv), 0,
                          "a scores file needs a 'naswot' column and an 'arch', 'arch_str' or 'index' column");
        goto done;
    }
    if (ca < 0 && !t) {
        st = nr_error_set(err, NR_ERR_INVALID, path, nr_csv_header_line(csv), 0,
                          "the scores file names archs by 'index' only: the benchmark table is needed");
        goto done;
    }
    for (size_t r = 0; r < nr_csv_nrows(csv); r++) {
        long line = nr_csv_row_line(csv, r);
        nr_arch a;
        if (ca >= 0) {
            if ((st = nr_arch_parse_at(nr_csv_cell(csv, r, (size_t)ca), path, line, 1, &a, err))) goto done;
        } else {
            long idx;
            if ((st = nr_csv_get_long(csv, r, (size_t)ci, &idx, err))) goto done;
            const nr_table_row *row = nr_table_by_index(t, idx);
            if (!row) {
                st = nr_error_set(err, NR_ERR_INVALID, path, line, ci + 1, "index %ld is not a benchmark index", idx);
                goto done;
            }
            a = row->arch;
        }
        if (!nr_csv_cell(csv, r, (size_t)cn)[0]) continue; /* a row that failed in `score --keep-going` */
        double v;
        if ((st = nr_csv_get_double(csv, r, (size_t)cn, 1, &v, err))) goto done;
        if ((st = put(naswot, count, nr_arch_to_id(&a), v, path, line, cn + 1, err))) goto done;
    }
done:
    nr_csv_free(csv);
    return st;
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
