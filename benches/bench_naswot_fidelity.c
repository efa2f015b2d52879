/* NASWOT fidelity: how well the score ranks a fixed seeded sample of 1,000 NAS-Bench-201
 * architectures, against the paper (Mellor et al., ICML 2021: Kendall tau 0.574 on
 * CIFAR-10, 0.611 on CIFAR-100).  For each dataset and each of S seeds (weights and image
 * batch): Kendall tau and Spearman vs 200-epoch test accuracy (and CIFAR-10 vs
 * cifar10-valid validation accuracy); then the mean and spread over seeds.  Baseline in
 * the same run: the parameter count's tau on the same sample.
 *
 *   bench_naswot_fidelity [--quick] [--seeds S] [--archs N]
 *   --quick: 100 archs, 1 seed.   Default: 1,000 archs, 5 seeds (about 2 x 5 x 3 min).
 */
#include <math.h>

#include "bench_util.h"
#include "nasrank.h"
#include "ops/ops.h"

#define B 128

static long arg_long(int argc, char **argv, const char *flag, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], flag)) return atol(argv[i + 1]);
    return def;
}

int main(int argc, char **argv)
{
    int quick = bench_has_flag(argc, argv, "--quick");
    int narch = (int)arg_long(argc, argv, "--archs", quick ? 100 : 1000);
    int nseeds = (int)arg_long(argc, argv, "--seeds", quick ? 1 : 5);
    if (narch < 10 || narch > NR_NUM_ARCHS || nseeds < 1 || nseeds > 100) return fprintf(stderr, "bad arguments\n"), 2;
    nr_threads_set(2);
    nr_error err = {0};
    nr_table *t = NULL;
    if (nr_table_load(NULL, &t, &err)) return fprintf(stderr, "%s\n", err.text), 1;
    /* the sample: distinct benchmark indices, partial Fisher-Yates with seed 0 */
    int *perm = malloc(NR_NUM_ARCHS * sizeof *perm);
    for (int i = 0; i < NR_NUM_ARCHS; i++) perm[i] = i;
    nr_rng r = nr_rng_seeded(0);
    for (int i = 0; i < narch; i++) {
        int j = i + (int)nr_rng_below(&r, (uint64_t)(NR_NUM_ARCHS - i));
        int tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp;
    }
    double *score = malloc((size_t)narch * sizeof *score), *truth = malloc((size_t)narch * sizeof *truth);
    double *params = malloc((size_t)narch * sizeof *params), *valid = malloc((size_t)narch * sizeof *valid);
    float *x = malloc((size_t)B * 3 * 32 * 32 * sizeof *x);
    const struct { const char *name, *file; nr_image_format fmt; nr_dataset ds; double paper; } sets[2] = {
        {"cifar10", "cifar10/data_batch_1_head4000.bin", NR_CIFAR10, NR_DS_CIFAR10, 0.574},
        {"cifar100", "cifar100/train_head486.bin", NR_CIFAR100, NR_DS_CIFAR100, 0.611}};
    for (int d = 0; d < 2; d++) {
        char path[4096];
        nr_images *im = NULL;
        if (nr_data_find(sets[d].file, path, sizeof path, &err) || nr_images_read(path, sets[d].fmt, &im, &err))
            return fprintf(stderr, "%s\n", err.text), 1;
        nr_macro_config cfg = nr_macro_default();
        cfg.num_classes = d ? 100 : 10;
        nr_norm norm = d ? nr_norm_cifar100() : nr_norm_cifar10();
        double taus[100], sum = 0, sum2 = 0;
        for (int s = 0; s < nseeds; s++) {
            size_t pick[B];
            nr_images_choose(im, B, (uint64_t)(s + 1), pick, &err);
            nr_images_batch(im, pick, B, &norm, 32, x, &err);
            double t0 = bench_now();
            for (int k = 0; k < narch; k++) {
                const nr_table_row *row = nr_table_by_index(t, perm[k]);
                nr_naswot_result res;
                if (nr_naswot_score_arch(&row->arch, &cfg, (uint64_t)(s + 1), x, B, NR_NASWOT_REFERENCE, &res, &err))
                    return fprintf(stderr, "%s\n", err.text), 1;
                score[k] = res.score;
                truth[k] = nr_table_acc(row, sets[d].ds, NR_METRIC_TEST, 200);
                valid[k] = nr_table_acc(row, NR_DS_CIFAR10_VALID, NR_METRIC_VALID, 200);
                params[k] = (double)nr_arch_params(&row->arch, &cfg);
            }
            double secs = bench_now() - t0;
            nr_correlation c, cp, cv;
            nr_correlate(score, truth, (size_t)narch, &c, &err);
            nr_correlate(params, truth, (size_t)narch, &cp, &err);
            char m[96];
            snprintf(m, sizeof m, "%s_seed%d_kendall_test", sets[d].name, s + 1);
            bench_json("naswot_fidelity", m, c.kendall, "tau", 2, (long)c.n, "params_kendall", c.kendall / cp.kendall);
            snprintf(m, sizeof m, "%s_seed%d_spearman_test", sets[d].name, s + 1);
            bench_json("naswot_fidelity", m, c.spearman, "rho", 2, (long)c.n, "params_spearman", c.spearman / cp.spearman);
            if (d == 0) {
                nr_correlate(score, valid, (size_t)narch, &cv, &err);
                snprintf(m, sizeof m, "%s_seed%d_kendall_valid", sets[d].name, s + 1);
                bench_json("naswot_fidelity", m, cv.kendall, "tau", 2, (long)cv.n, NULL, 0);
            }
            snprintf(m, sizeof m, "%s_seed%d_seconds_per_arch", sets[d].name, s + 1);
            bench_json("naswot_fidelity", m, secs / narch, "s", 2, narch, NULL, 0);
            taus[s] = c.kendall;
            sum += c.kendall;
            sum2 += c.kendall * c.kendall;
        }
        double mean = sum / nseeds, sd = nseeds > 1 ? sqrt(fmax(0, (sum2 - nseeds * mean * mean) / (nseeds - 1))) : 0;
        double lo = taus[0], hi = taus[0];
        for (int s = 1; s < nseeds; s++) lo = fmin(lo, taus[s]), hi = fmax(hi, taus[s]);
        char m[96];
        snprintf(m, sizeof m, "%s_kendall_test_mean", sets[d].name);
        bench_json("naswot_fidelity", m, mean, "tau", 2, nseeds, sets[d].ds == NR_DS_CIFAR10 ? "paper_0.574" : "paper_0.611", mean / sets[d].paper);
        snprintf(m, sizeof m, "%s_kendall_test_std", sets[d].name);
        bench_json("naswot_fidelity", m, sd, "tau", 2, nseeds, NULL, 0);
        snprintf(m, sizeof m, "%s_kendall_test_range", sets[d].name);
        bench_json("naswot_fidelity", m, hi - lo, "tau", 2, nseeds, NULL, 0);
        nr_images_free(im);
    }
    free(perm), free(score), free(truth), free(params), free(valid), free(x);
    nr_table_free(t);
    return 0;
}
