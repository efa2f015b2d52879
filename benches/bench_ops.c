/* Benchmarks for src/ops; JSON lines on stdout (DESIGN.md §10).
 *
 *   1. sgemm on a large square (2048^3; --quick: 1024^3), 1 and 2 threads: the machine's
 *      ceiling, once with the kernel nr_sgemm uses and once with BLIS's own choice.
 *   2. The NB201 convolutions at batch 128 (--quick: 16), 1 and 2 threads, GFLOP/s and the
 *      ratio to the same-thread-count ceiling: nr_conv2d_forward as chosen automatically,
 *      with its panel and implicit modes forced, and the textbook full im2col + nr_sgemm per
 *      image (chunk 1), per 8 images, and per batch (chunkB).
 *   3. Memory-bound kernels in GB/s (bytes that must move: read + write once).
 * Each value is the median of n timed runs after one warm-up run; "best" is the fastest.
 *
 *   bench_ops [--quick] [--reps N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nasrank/rng.h"
#include "ops/ops.h"

static int g_quick;
static int g_reps; /* --reps N: runs per measurement (default 7-21, --quick 3-5) */

static int reps_or(int dflt) { return g_reps > 0 ? g_reps : dflt; }

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef void (*bench_fn)(void *ctx);

/* Median seconds of n runs (after a warm-up); *best gets the fastest run. */
static double time_median(bench_fn fn, void *ctx, int n, double *best)
{
    double t[64];
    if (n > 64) n = 64;
    fn(ctx);
    for (int i = 0; i < n; i++) {
        double t0 = now();
        fn(ctx);
        t[i] = now() - t0;
    }
    qsort(t, (size_t)n, sizeof t[0], cmp_double);
    *best = t[0];
    return t[n / 2];
}

/* One JSON line; "value" comes from the median run, "best" from the fastest (on a shared
 * machine the best run shows what the code can do, the median what it did). */
static void emit(const char *metric, double value, double best, const char *unit, int threads,
                 int n, const char *baseline, double ratio)
{
    printf("{\"bench\": \"ops\", \"metric\": \"%s\", \"value\": %.4g, \"best\": %.4g, "
           "\"unit\": \"%s\", \"threads\": %d, \"n\": %d",
           metric, value, best, unit, threads, n);
    if (baseline) printf(", \"baseline\": \"%s\", \"ratio\": %.3f", baseline, ratio);
    printf("}\n");
    fflush(stdout);
}

static float *randf(size_t n, uint64_t seed)
{
    float *x = malloc(n * sizeof(float));
    if (!x) {
        fprintf(stderr, "bench_ops: out of memory (%zu floats)\n", n);
        exit(1);
    }
    nr_rng r = nr_rng_seeded(seed);
    for (size_t i = 0; i < n; i++) x[i] = (float)(2.0 * nr_rng_uniform(&r) - 1.0);
    return x;
}

/* ---- sgemm ---- */

typedef struct gemm_ctx {
    int n;
    float *A, *B, *C;
} gemm_ctx;

static void run_gemm(void *p)
{
    gemm_ctx *g = p;
    nr_sgemm(0, 0, g->n, g->n, g->n, 1.0f, g->A, g->n, g->B, g->n, 0.0f, g->C, g->n);
}

/* ---- conv ---- */

typedef struct conv_ctx {
    int B, Cin, H, Cout, k, stride, pad, chunk; /* chunk 0: nr_conv2d_forward */
    float *in, *w, *out, *ws;
} conv_ctx;

static void run_conv(void *p)
{
    conv_ctx *c = p;
    if (c->chunk == 0)
        nr_conv2d_forward(c->out, c->in, c->w, c->B, c->Cin, c->H, c->H, c->Cout, c->k,
                          c->stride, c->pad, c->ws);
    else
        nr_conv2d_forward_gemm(c->out, c->in, c->w, c->B, c->Cin, c->H, c->H, c->Cout, c->k,
                               c->stride, c->pad, c->chunk, c->ws);
}

/* ---- memory-bound kernels ---- */

typedef struct mem_ctx {
    int kind, B, C, H;
    float *x, *y, *g, *b;
} mem_ctx;

static void run_mem(void *p)
{
    mem_ctx *m = p;
    size_t n = (size_t)m->B * m->C * m->H * m->H;
    switch (m->kind) {
    case 0:
        nr_batchnorm_forward(m->y, NULL, NULL, m->x, m->g, m->b, m->B, m->C, m->H * m->H, 1e-5f);
        break;
    case 1: nr_relu_forward(m->y, m->x, n); break;
    case 2: nr_add_inplace(m->y, m->x, n); break;
    case 3: nr_avgpool3x3_forward(m->y, m->x, m->B, m->C, m->H, m->H); break;
    default: break;
    }
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0)
            g_quick = 1;
        else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc && atoi(argv[i + 1]) > 0)
            g_reps = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_ops [--quick] [--reps N]\n");
            return 2;
        }
    }
    const int thread_counts[] = {1, 2};
    double ceiling[3] = {0, 0, 0};
    char base_name[3][64];

    /* 1. ceiling */
    int N = g_quick ? 1024 : 2048;
    gemm_ctx g = {N, randf((size_t)N * N, 1), randf((size_t)N * N, 2), randf((size_t)N * N, 3)};
    int reps = reps_or(g_quick ? 3 : 7);
    fprintf(stderr, "# sgemm kernel: %s (BLIS native: ", nr_sgemm_kernel_name());
    nr_sgemm_set_native(1);
    fprintf(stderr, "%s)\n", nr_sgemm_kernel_name());
    nr_sgemm_set_native(0);
    for (int ti = 0; ti < 2; ti++) {
        int t = thread_counts[ti];
        nr_threads_set(t);
        double flops = 2.0 * N * N * N, best;
        double gf = flops / time_median(run_gemm, &g, reps, &best) / 1e9;
        char metric[64];
        snprintf(metric, sizeof metric, "sgemm_%d_gflops", N);
        snprintf(base_name[t], sizeof base_name[t], "sgemm_%d_t%d", N, t);
        ceiling[t] = gf;
        emit(metric, gf, flops / best / 1e9, "GFLOP/s", t, reps, NULL, 0);
        nr_sgemm_set_native(1);
        double gn = flops / time_median(run_gemm, &g, g_quick ? 1 : 3, &best) / 1e9;
        snprintf(metric, sizeof metric, "sgemm_%d_gflops_blis_native", N);
        emit(metric, gn, flops / best / 1e9, "GFLOP/s", t, g_quick ? 1 : 3, base_name[t],
             gn / gf);
        nr_sgemm_set_native(0);
    }
    free(g.A);
    free(g.B);
    free(g.C);

    /* 2. NB201 convolutions */
    const struct {
        const char *name;
        int Cin, H, Cout, k, stride, pad;
    } shapes[] = {
        {"conv3x3_c16_32x32", 16, 32, 16, 3, 1, 1}, {"conv3x3_c32_16x16", 32, 16, 32, 3, 1, 1},
        {"conv3x3_c64_8x8", 64, 8, 64, 3, 1, 1},    {"conv1x1_c16_32x32", 16, 32, 16, 1, 1, 0},
        {"conv1x1_c32_16x16", 32, 16, 32, 1, 1, 0}, {"conv1x1_c64_8x8", 64, 8, 64, 1, 1, 0},
        {"conv3x3s2_c16to32_32x32", 16, 32, 32, 3, 2, 1},
        {"conv3x3s2_c32to64_16x16", 32, 16, 64, 3, 2, 1},
        {"stem3x3_c3to16_32x32", 3, 32, 16, 3, 1, 1},
    };
    int B = g_quick ? 16 : 128;
    reps = reps_or(g_quick ? 3 : 9);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int Cin = shapes[s].Cin, H = shapes[s].H, Cout = shapes[s].Cout, k = shapes[s].k;
        int st = shapes[s].stride, pad = shapes[s].pad;
        int Ho = (H + 2 * pad - k) / st + 1;
        conv_ctx c = {B, Cin, H, Cout, k, st, pad, 0, randf((size_t)B * Cin * H * H, 10 + s),
                      randf((size_t)Cout * Cin * k * k, 20 + s),
                      randf((size_t)B * Cout * Ho * Ho, 30), NULL};
        double flops = 2.0 * B * Cout * Ho * Ho * Cin * k * k;
        /* the default path (automatic mode), its two modes forced, then im2col + sgemm */
        const struct {
            const char *suffix;
            int strategy, chunk;
        } variants[] = {{"", 0, 0},
                        {"_panels", 1, 0},
                        {"_implicit", 2, 0},
                        {"_im2col_sgemm_chunk1", 0, 1},
                        {"_im2col_sgemm_chunk8", 0, 8},
                        {"_im2col_sgemm_chunkB", 0, B}};
        for (size_t vi = 0; vi < sizeof variants / sizeof variants[0]; vi++) {
            c.chunk = variants[vi].chunk;
            nr_conv2d_set_strategy(variants[vi].strategy);
            size_t nws = c.chunk ? nr_conv2d_gemm_workspace(c.chunk, Cin, H, H, Cout, k, st, pad)
                                 : nr_conv2d_workspace(B, Cin, H, H, k, st, pad);
            c.ws = randf(nws + 1, 40);
            for (int ti = 0; ti < 2; ti++) {
                int t = thread_counts[ti];
                nr_threads_set(t);
                double best, gf = flops / time_median(run_conv, &c, reps, &best) / 1e9;
                char metric[128];
                snprintf(metric, sizeof metric, "%s_b%d%s_gflops", shapes[s].name, B,
                         variants[vi].suffix);
                emit(metric, gf, flops / best / 1e9, "GFLOP/s", t, reps, base_name[t],
                     gf / ceiling[t]);
            }
            free(c.ws);
        }
        nr_conv2d_set_strategy(0);
        free(c.in);
        free(c.w);
        free(c.out);
    }

    /* 3. memory-bound kernels at the stage-1 activation size */
    const char *mem_names[] = {"batchnorm", "relu", "add", "avgpool3x3"};
    const double bytes_per_elem[] = {8, 8, 12, 8};
    mem_ctx m = {0, B, 16, 32, NULL, NULL, NULL, NULL};
    size_t n = (size_t)B * 16 * 32 * 32;
    m.x = randf(n, 50);
    m.y = randf(n, 51);
    m.g = randf(16, 52);
    m.b = randf(16, 53);
    reps = reps_or(g_quick ? 5 : 21);
    for (int kind = 0; kind < 4; kind++) {
        m.kind = kind;
        for (int ti = 0; ti < 2; ti++) {
            int t = thread_counts[ti];
            nr_threads_set(t);
            double best, sec = time_median(run_mem, &m, reps, &best);
            char metric[96];
            snprintf(metric, sizeof metric, "%s_b%d_c16_32x32_GBps", mem_names[kind], B);
            emit(metric, bytes_per_elem[kind] * (double)n / sec / 1e9,
                 bytes_per_elem[kind] * (double)n / best / 1e9, "GB/s", t, reps, NULL, 0);
        }
    }
    free(m.x);
    free(m.y);
    free(m.g);
    free(m.b);
    nr_threads_set(1);
    return 0;
}
