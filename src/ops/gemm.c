/* nasrank — the sgemm wrapper: the only file that includes blis.h.
 *
 * Debian's BLIS 0.9 picks its sub-configuration from the CPU id.  CPUs it does not know
 * (e.g. AMD family 0x1A, Zen 5) get the portable 'generic' reference kernel, ~40 GFLOP/s on
 * one core where the hardware peaks above 250.  In that case (and when the CPU has AVX-512)
 * we copy BLIS's context, register our 8x48 AVX-512 micro-kernel (ukernel.c) with matching
 * block sizes, and hand that context to bli_sgemm_ex: BLIS still does the packing, the
 * blocking loops and the threading.  On CPUs BLIS recognises, its own kernels are used.
 *
 * Row-major: rs = ld, cs = 1.  BLIS partitions the m/n loops between threads, never k, so
 * every element of C is summed in the same order whatever the thread count.
 */
#include <blis.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"

/* Block sizes for the 8x48 kernel (floats): the packed B micro-panel (KC x 48) streams from
 * L2 together with the A block (MC x KC); NC x KC of B stays in L3.  Chosen on Zen 5, one
 * core, 2048^3: KC 128 / 256 / 512 gave ~150 / ~185 / ~205 GFLOP/s; MC and NC mattered
 * less than the machine's noise.  -DGEMM_KC=... etc. override them for experiments. */
#ifndef GEMM_MC
#define GEMM_MC 144
#endif
#ifndef GEMM_KC
#define GEMM_KC 512
#endif
#ifndef GEMM_NC
#define GEMM_NC 4080
#endif
/* Below this many flops a GEMM runs on one thread (fork/join costs more than it saves). */
#define GEMM_MIN_FLOPS_PER_THREAD 2.0e6

static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_threads = 1;
static cntx_t g_cntx;          /* our context, valid when g_have_cntx */
static int g_have_cntx;
static int g_force_native;
static char g_native_name[64];
static nr_ukr_fn g_ukr; /* set before g_cntx is published */

/* BLIS-signature adapter: A and B arrive packed (A: MR per k step, B: NR per k step). */
static void ukr_blis(dim_t m, dim_t n, dim_t k, float *restrict alpha, float *restrict a,
                     float *restrict b, float *restrict beta, float *restrict c, inc_t rs_c,
                     inc_t cs_c, auxinfo_t *restrict data, cntx_t *restrict cntx)
{
    (void)data;
    (void)cntx;
    g_ukr((int)m, (int)n, (long)k, a, 1, NR_UKR_MR, b, NR_UKR_NR, NULL, c, (long)rs_c,
          (long)cs_c, *alpha, *beta);
}

static void set_blksz(cntx_t *cx, bszid_t id, dim_t v)
{
    cx->blkszs[id].v[BLIS_FLOAT] = v;
    cx->blkszs[id].e[BLIS_FLOAT] = v;
}

static void init_once(void)
{
    const char *s = getenv("NASRANK_THREADS");
    if (s && *s) {
        char *end;
        long v = strtol(s, &end, 10);
        if (*end == '\0' && v >= 1)
            g_threads = v > NR_OPS_MAX_THREADS ? NR_OPS_MAX_THREADS : (int)v;
    }
    /* BLIS's global thread count stays 1: our GEMMs pass theirs in an rntm (nr_gemm), and
     * the BLAS that LAPACK calls (the 128x128 log-det, jacob_cov's eigenvalues) is too small
     * to split; an OpenMP team started there from a pool thread spins after the call and
     * starves the pool (measured: scoring 6 archs on 2 threads went from 2 s to 23 s). */
    bli_thread_set_num_threads(1);

    arch_t arch = bli_arch_query_id();
    snprintf(g_native_name, sizeof g_native_name, "blis-%s", bli_arch_string(arch));
    if (arch == BLIS_ARCH_GENERIC && nr_ukr_is_avx512()) {
        g_ukr = nr_ukr_get();
        g_cntx = *bli_gks_query_cntx();
        set_blksz(&g_cntx, BLIS_MR, NR_UKR_MR);
        set_blksz(&g_cntx, BLIS_NR, NR_UKR_NR);
        set_blksz(&g_cntx, BLIS_MC, GEMM_MC);
        set_blksz(&g_cntx, BLIS_KC, GEMM_KC);
        set_blksz(&g_cntx, BLIS_NC, GEMM_NC);
        /* BLIS 0.9 stores kernels as void*; ISO C has no function-to-object pointer cast,
         * POSIX guarantees the representations match, so copy the bits. */
        void (*fn)(dim_t, dim_t, dim_t, float *restrict, float *restrict, float *restrict,
                   float *restrict, float *restrict, inc_t, inc_t, auxinfo_t *restrict,
                   cntx_t *restrict) = ukr_blis;
        void_fp fp;
        _Static_assert(sizeof fp == sizeof fn, "function and object pointers differ in size");
        memcpy(&fp, &fn, sizeof fp);
        /* TRUE: the kernel prefers row-stored C, so row-major calls need no transposition. */
        bli_cntx_set_l3_nat_ukrs(1, BLIS_GEMM_UKR, BLIS_FLOAT, fp, TRUE, &g_cntx);
        g_have_cntx = 1;
    }
}

void nr_threads_set(int n)
{
    pthread_once(&g_once, init_once);
    if (n < 1) n = 1;
    if (n > NR_OPS_MAX_THREADS) n = NR_OPS_MAX_THREADS;
    if (n == g_threads) return;
    g_threads = n;
    nr_pool_shutdown();
}

int nr_threads_get(void)
{
    pthread_once(&g_once, init_once);
    return g_threads;
}

const char *nr_sgemm_kernel_name(void)
{
    pthread_once(&g_once, init_once);
    return g_have_cntx && !g_force_native ? "nasrank-avx512-8x48" : g_native_name;
}

void nr_sgemm_set_native(int native)
{
    pthread_once(&g_once, init_once);
    g_force_native = native != 0;
}

/* C = beta * C for an M x N row-major block (beta == 0 writes zeros, never reads C). */
static void scale_c(int M, int N, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + (size_t)i * ldc;
        if (beta == 0.0f)
            for (int j = 0; j < N; j++) c[j] = 0.0f;
        else if (beta != 1.0f)
            for (int j = 0; j < N; j++) c[j] *= beta;
    }
}

void nr_sgemm(int transa, int transb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc)
{
    pthread_once(&g_once, init_once);
    if (M < 0 || N < 0 || K < 0 || !C) return;
    if (M == 0 || N == 0) return;
    int acols = transa ? M : K, bcols = transb ? K : N;
    if (ldc < N || ldc < 1) return;
    if (K == 0 || alpha == 0.0f) {
        scale_c(M, N, beta, C, ldc);
        return;
    }
    if (!A || !B || lda < acols || lda < 1 || ldb < bcols || ldb < 1) return;

    rntm_t rntm = BLIS_RNTM_INITIALIZER;
    double flops = 2.0 * M * N * K;
    int nt = nr_parallel_in_task() ? 1 : g_threads; /* no nested threads inside a pool task */
    while (nt > 1 && flops < GEMM_MIN_FLOPS_PER_THREAD * nt) nt--;
    bli_rntm_set_num_threads(nt, &rntm);
    cntx_t *cntx = NULL;
    if (g_have_cntx && !g_force_native) {
        cntx = &g_cntx;
        bli_rntm_disable_l3_sup(&rntm); /* the small-matrix path would bypass our kernel */
    }
    bli_sgemm_ex(transa ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE,
                 transb ? BLIS_TRANSPOSE : BLIS_NO_TRANSPOSE, M, N, K, &alpha, (float *)A, lda, 1,
                 (float *)B, ldb, 1, &beta, C, ldc, 1, cntx, &rntm);
}
