/* Forward-pass speed of NAS-Bench-201 networks at batch 128 (32x32, C=16, N=5).
 *
 * 20 architectures spanning the FLOPs range (the 2.5%, 7.5%, ..., 97.5% quantiles of all
 * 15,625 by multiply-adds), each timed (median of repeats) with 1 and 2 threads; achieved
 * GFLOP/s = 2 * multiply-adds * B / seconds.  The baseline, measured in the same run, is a
 * large square sgemm (2048^3) through the same GEMM wrapper: the machine's ceiling.
 * Peak RSS is read after the largest architecture (all conv3x3) ran.
 *
 *   bench_forward [--quick]      --quick: 5 archs, 1 repeat, sgemm 1024^3
 */
#include <math.h>

#include "bench_util.h"
#include "nasrank.h"
#include "ops/ops.h"

#define B 128

static double sgemm_gflops(int n, int reps)
{
    float *a = malloc((size_t)n * n * sizeof *a), *b = malloc((size_t)n * n * sizeof *b),
          *c = malloc((size_t)n * n * sizeof *c);
    for (size_t i = 0; i < (size_t)n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
    nr_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n); /* warm up */
    double t[9];
    for (int r = 0; r < reps; r++) {
        double t0 = bench_now();
        nr_sgemm(0, 0, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        t[r] = bench_now() - t0;
    }
    free(a), free(b), free(c);
    return 2.0 * n * (double)n * n / bench_median(t, reps) / 1e9;
}

static int by_flops(const void *x, const void *y)
{
    nr_macro_config cfg = nr_macro_default();
    const int *p = x, *q = y;
    nr_arch ap = nr_arch_from_id(*p), aq = nr_arch_from_id(*q);
    double fp = nr_arch_flops(&ap, &cfg), fq = nr_arch_flops(&aq, &cfg);
    if (fp != fq) return fp < fq ? -1 : 1;
    return *p - *q;
}

int main(int argc, char **argv)
{
    int quick = bench_has_flag(argc, argv, "--quick");
    int narch = quick ? 5 : 20, reps = quick ? 1 : 3;
    static int ids[NR_NUM_ARCHS];
    for (int i = 0; i < NR_NUM_ARCHS; i++) ids[i] = i;
    qsort(ids, NR_NUM_ARCHS, sizeof *ids, by_flops);
    nr_macro_config cfg = nr_macro_default();
    float *x = malloc((size_t)B * 3 * 32 * 32 * sizeof *x);
    float *logits = malloc((size_t)B * 10 * sizeof *logits);
    nr_rng r = nr_rng_seeded(1);
    for (int i = 0; i < B * 3 * 32 * 32; i++) x[i] = (float)nr_rng_normal(&r);
    nr_error err = {0};

    for (int threads = 1; threads <= 2; threads++) {
        nr_threads_set(threads);
        double ceiling = sgemm_gflops(quick ? 1024 : 2048, quick ? 1 : 3);
        bench_json("forward", "sgemm_square_gflops", ceiling, "GFLOP/s", threads, quick ? 1024 : 2048, NULL, 0);
        double sum_rate = 0, sum_sec = 0;
        for (int k = 0; k < narch; k++) {
            int id = ids[(int)((k + 0.5) / narch * NR_NUM_ARCHS)];
            nr_arch a = nr_arch_from_id(id);
            nr_net *net = NULL;
            if (nr_net_create(&a, &cfg, 1, &net, &err)) return fprintf(stderr, "%s\n", err.text), 1;
            nr_net_forward(net, x, B, logits, NULL, NULL, &err); /* warm-up: workspace, pages */
            double t[9];
            for (int rep = 0; rep < reps; rep++) {
                double t0 = bench_now();
                nr_net_forward(net, x, B, logits, NULL, NULL, &err);
                t[rep] = bench_now() - t0;
            }
            double sec = bench_median(t, reps);
            double gflops = 2.0 * nr_net_flops_executed(net) * B / sec / 1e9;
            char metric[64];
            snprintf(metric, sizeof metric, "arch_%d_gflops", id);
            bench_json("forward", metric, gflops, "GFLOP/s", threads, B, "sgemm_square_gflops", gflops / ceiling);
            sum_rate += gflops;
            sum_sec += sec;
            nr_net_free(net);
        }
        bench_json("forward", "mean_arch_seconds", sum_sec / narch, "s", threads, narch, NULL, 0);
        bench_json("forward", "mean_arch_gflops", sum_rate / narch, "GFLOP/s", threads, narch,
                   "sgemm_square_gflops", sum_rate / narch / ceiling);
    }
    /* memory of the largest arch (all conv3x3) */
    nr_arch big;
    nr_arch_parse("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|", &big, &err);
    nr_net *net = NULL;
    double t0 = bench_now();
    nr_net_create(&big, &cfg, 1, &net, &err);
    nr_net_forward(net, x, B, logits, NULL, NULL, &err);
    double sec = bench_now() - t0;
    bench_json("forward", "largest_arch_seconds", sec, "s", 2, B, NULL, 0);
    bench_json("forward", "peak_rss_mb", bench_peak_rss_mb(), "MB", 2, B, NULL, 0);
    nr_net_free(net);
    free(x);
    free(logits);
    return 0;
}
