/* NASWOT scoring speed: seconds per architecture (graph creation + forward + kernel +
 * log-determinant) at batch 128 on real CIFAR-10 images, over a fixed seeded sample of 50
 * archs, with 1 and 2 threads; peak RSS; projected time for all 15,625.
 * Baselines, same run: the bare forward pass of the same archs without the NASWOT sink
 * (ratio = NASWOT overhead factor), and the same score through the hard-wired NB201 engine
 * (nr_net + nr_naswot_sink, the engine before the network graph; ratio = graph / engine,
 * below 1 when the graph executor is faster; the two scores must be equal).  The published PyTorch reference needs ~2.2 s per arch
 * on this machine kind with 2 threads (DESIGN.md section 4), quoted as reference_seconds.
 *
 *   bench_naswot [--quick]     --quick: 8 archs, 2 threads only
 */
#include <math.h>

#include "bench_util.h"
#include "nasrank.h"
#include "ops/ops.h"

#define B 128
#define REFERENCE_SECONDS 2.2

int main(int argc, char **argv)
{
    int quick = bench_has_flag(argc, argv, "--quick");
    int narch = quick ? 8 : 50;
    nr_error err = {0};
    char path[4096];
    nr_images *im = NULL;
    if (nr_data_find("cifar10/data_batch_1_head4000.bin", path, sizeof path, &err) ||
        nr_images_read(path, NR_CIFAR10, &im, &err)) {
        fprintf(stderr, "bench_naswot: %s\n", err.text);
        return 1;
    }
    size_t pick[B];
    float *x = malloc((size_t)B * 3 * 32 * 32 * sizeof *x);
    nr_norm norm = nr_norm_cifar10();
    nr_images_choose(im, B, 1, pick, &err);
    nr_images_batch(im, pick, B, &norm, 32, x, &err);
    nr_macro_config cfg = nr_macro_default();
    int ids[64];
    nr_rng r = nr_rng_seeded(2021);
    for (int k = 0; k < narch; k++) ids[k] = (int)nr_rng_below(&r, NR_NUM_ARCHS);

    for (int threads = quick ? 2 : 1; threads <= 2; threads++) {
        nr_threads_set(threads);
        double t_score[64], t_fwd[64], t_net[64], total = 0;
        for (int k = 0; k < narch; k++) {
            nr_arch a = nr_arch_from_id(ids[k]);
            nr_naswot_result res;
            double t0 = bench_now();
            if (nr_naswot_score_arch(&a, &cfg, 1, x, B, NR_NASWOT_REFERENCE, &res, &err)) {
                fprintf(stderr, "bench_naswot: %s\n", err.text);
                return 1;
            }
            t_score[k] = bench_now() - t0;
            total += t_score[k];
            nr_net *net = NULL;
            t0 = bench_now();
            nr_net_create(&a, &cfg, 1, &net, &err);
            nr_net_forward(net, x, B, NULL, NULL, NULL, &err);
            t_fwd[k] = bench_now() - t0;
            nr_naswot *nw = NULL;
            nr_naswot_result old;
            t0 = bench_now();
            nr_net_free(net);
            net = NULL;
            if (nr_net_create(&a, &cfg, 1, &net, &err) || nr_naswot_create(B, NR_NASWOT_REFERENCE, &nw, &err) ||
                nr_net_forward(net, x, B, NULL, nr_naswot_sink, nw, &err) || nr_naswot_finish(nw, &old, &err)) {
                fprintf(stderr, "bench_naswot: %s\n", err.text);
                return 1;
            }
            t_net[k] = bench_now() - t0;
            nr_naswot_free(nw);
            nr_net_free(net);
            if (!(old.score == res.score || (isinf(old.score) && isinf(res.score)))) {
                fprintf(stderr, "bench_naswot: graph and engine scores differ (%.17g vs %.17g)\n", res.score, old.score);
                return 1;
            }
        }
        double mean = total / narch;
        double med = bench_median(t_score, narch), med_fwd = bench_median(t_fwd, narch);
        double med_net = bench_median(t_net, narch);
        bench_json("naswot", "seconds_per_arch_median", med, "s", threads, narch, "forward_only_median", med / med_fwd);
        bench_json("naswot", "seconds_per_arch_mean", mean, "s", threads, narch, NULL, 0);
        bench_json("naswot", "graph_seconds_per_arch_median", med, "s", threads, narch, "nb201_engine_median", med / med_net);
        bench_json("naswot", "speedup_vs_reference", REFERENCE_SECONDS / med, "x", threads, narch,
                   "pytorch_reference_2.2s_quoted", REFERENCE_SECONDS / med);
        bench_json("naswot", "projected_all_15625_hours", mean * NR_NUM_ARCHS / 3600, "h", threads, narch, NULL, 0);
    }
    bench_json("naswot", "peak_rss_mb", bench_peak_rss_mb(), "MB", 2, narch, NULL, 0);
    free(x);
    nr_images_free(im);
    return 0;
}
