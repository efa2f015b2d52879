/* nasrank — forward kernels (internal).  NCHW float32.  Kernels never allocate: callers
 * pass workspaces sized by the *_workspace functions.  Outputs first, dims last.
 * Every kernel has a naive reference implementation in tests/test_ops.c.
 */
#ifndef NASRANK_OPS_H
#define NASRANK_OPS_H

#include <stddef.h>

/* ---- gemm.c: the only file that includes blis.h ----
 * Row-major C(M,N) = alpha * op(A) * op(B) + beta * C, op(X) = X or X^T (trans != 0).
 * A is (M,K) or (K,M) when transposed, with leading dimension lda; likewise B, C.
 * Dimensions are checked (BLIS aborts on bad arguments): negative sizes, a leading
 * dimension too small or a NULL matrix make the call a no-op.  M or N == 0 does nothing;
 * K == 0 or alpha == 0 only scales C by beta (beta == 0 never reads C, as in BLAS). */
void nr_sgemm(int transa, int transb, int M, int N, int K, float alpha, const float *A, int lda,
              const float *B, int ldb, float beta, float *C, int ldc);
/* Threads for all later kernels: BLIS GEMMs and the ops thread pool (parallel.c).
 * n is clamped to [1, NR_OPS_MAX_THREADS].  Default: $NASRANK_THREADS, else 1.
 * Every kernel in this file gives bit-identical results whatever the thread count: each
 * output element is summed in a fixed order (BLIS splits only the m/n loops).  Call it
 * between kernels, not while another thread runs one. */
#define NR_OPS_MAX_THREADS 16
void nr_threads_set(int n);
int nr_threads_get(void);
/* Name of the sgemm micro-kernel in use ("nasrank-avx512-8x48" when BLIS's own choice for
 * this CPU is its portable reference kernel and the CPU has AVX-512; else "blis-<arch>").
 * nr_sgemm_set_native(1) forces BLIS's own kernel (for benchmarks); 0 restores the choice. */
const char *nr_sgemm_kernel_name(void);
void nr_sgemm_set_native(int native);

/* ---- conv.c ----
 * out(B, Cout, Ho, Wo) = conv(in(B, Cin, H, W), w(Cout, Cin, k, k)), no bias,
 * Ho = (H + 2*pad - k)/stride + 1 (0 when H + 2*pad < k: nothing is written).
 * One task per image on the thread pool (see conv.c): 1x1 stride-1 convs multiply the input
 * in place; others copy the image zero-padded (split into stride^2 phase images) into a
 * per-thread buffer and run an implicit im2col GEMM over it, or, for images too large for
 * that buffer, gather 48-column im2col panels.  Every output element is summed in the same
 * order whatever the thread count.  in and out must not overlap.
 * Workspace: nr_conv2d_workspace(...) floats (any alignment; sized for NR_OPS_MAX_THREADS). */
size_t nr_conv2d_workspace(int B, int Cin, int H, int W, int k, int stride, int pad);
void nr_conv2d_forward(float *out, const float *in, const float *w, int B, int Cin, int H,
                       int W, int Cout, int k, int stride, int pad, float *ws);
/* out = conv(relu(in)): the ReLU is applied while the input is copied (in is unchanged);
 * same shapes and workspace as nr_conv2d_forward, same result as relu then conv. */
void nr_relu_conv2d_forward(float *out, const float *in, const float *w, int B, int Cin, int H,
                            int W, int Cout, int k, int stride, int pad, float *ws);
/* col(Cin*k*k, Ho*Wo) for one image (zero padding). */
void nr_im2col(float *col, const float *img, int Cin, int H, int W, int k, int stride, int pad);
/* Forces the default path's mode: 0 automatic, 1 gathered panels, 2 implicit GEMM (when the
 * padded image fits the buffer).  For benchmarks and tests; not thread-safe. */
void nr_conv2d_set_strategy(int s);
/* The textbook alternative, kept for measurement (benches/bench_ops.c): full im2col of
 * `chunk` images, then one nr_sgemm per image (chunk = 1: the buffer stays in cache) or one
 * per chunk (a (Cin*k*k, chunk*Ho*Wo) matrix, larger N; the output is then unscrambled from
 * (Cout, chunk, HoWo) through the tail of the workspace).  Threads: BLIS's, inside each GEMM.
 * Workspace: nr_conv2d_gemm_workspace(...) floats. */
size_t nr_conv2d_gemm_workspace(int chunk, int Cin, int H, int W, int Cout, int k, int stride,
                                int pad);
void nr_conv2d_forward_gemm(float *out, const float *in, const float *w, int B, int Cin, int H,
                            int W, int Cout, int k, int stride, int pad, int chunk, float *ws);

/* ---- batchnorm.c ----
 * Train-mode batch norm: per channel c, mean and biased variance over (B, H, W) computed in
 * double; out = (in - mean) / sqrt(var + eps) * gamma[c] + beta[c].  out may equal in.
 * gamma/beta NULL mean 1/0.  mean/rstd (C) receive the statistics when non-NULL (backward
 * needs them). */
void nr_batchnorm_forward(float *out, float *mean, float *rstd, const float *in,
                          const float *gamma, const float *beta, int B, int C, int HW, float eps);
/* The same normalisation with the result scattered: in is (B, C, HW) with C = m * Cs (m
 * stacked convs); channel c is written to dst[c / Cs] as channel c % Cs of a (B, Cs, HW)
 * tensor, ADDED to it when add[c / Cs] != 0, else overwriting it.  Saves the separate
 * normalised tensor and the pass that adds it into a cell node. */
void nr_batchnorm_scatter(float *const *dst, const int *add, int Cs, const float *in,
                          const float *gamma, const float *beta, int B, int C, int HW, float eps);

/* ---- elementwise.c ----  out = x < 0 ? 0 : x (NaN passes, as in PyTorch); acc += x.
 * out may equal in, acc may equal x; no other overlap. */
void nr_relu_forward(float *out, const float *in, size_t n);
void nr_add_inplace(float *acc, const float *x, size_t n);

/* ---- pool.c ----
 * 3x3, stride 1, pad 1, divisor = number of in-bounds taps (count_include_pad=False).
 * 2x2, stride 2, no padding, Ho = H/2 (floor).  Global average: out(B, C). */
void nr_avgpool3x3_forward(float *out, const float *in, int B, int C, int H, int W);
void nr_avgpool2x2_forward(float *out, const float *in, int B, int C, int H, int W);
void nr_global_avgpool_forward(float *out, const float *in, int B, int C, int HW);

/* ---- linear.c ----  out(B, Out) = in(B, In) * w(Out, In)^T + b(Out) (b may be NULL). */
void nr_linear_forward(float *out, const float *in, const float *w, const float *b, int B,
                       int In, int Out);

/* ---- internals shared by the ops files ---- */

/* ukernel.c: the register-blocked GEMM micro-kernel (also registered into BLIS by gemm.c).
 * C(m, n) = alpha * A(m, k) * B(k, n) + beta * C, m <= NR_UKR_MR, n <= NR_UKR_NR;
 *   A(i, p) = a[i*a_rs + p*a_ps] (rows i >= m are never read),
 *   B(p, j) = b[p*ldb + j], or b[boff[p] + j] when boff != NULL (columns j >= n are never
 *   read; boff lets a conv read each row of an implicit im2col matrix in place),
 *   C(i, j) = c[i*rs_c + j*cs_c]; beta == 0 never reads C.
 * The k sum runs in order p = 0, 1, ..., k-1 (AVX-512: one FMA per term). */
#define NR_UKR_MR 8
#define NR_UKR_NR 48
typedef void (*nr_ukr_fn)(int m, int n, long k, const float *a, long a_rs, long a_ps,
                          const float *b, long ldb, const int *boff, float *c, long rs_c,
                          long cs_c, float alpha, float beta);
nr_ukr_fn nr_ukr_get(void);          /* AVX-512 when the CPU has it, else portable C */
nr_ukr_fn nr_ukr_get_portable(void); /* the portable C version (tests) */
const char *nr_ukr_name(void);       /* "avx512-8x48" or "portable-8x48" */
int nr_ukr_is_avx512(void);

/* parallel.c: a persistent pool of nr_threads_get() - 1 workers plus the caller.
 * Runs fn(ctx, task, tid) for task = 0..ntasks-1, tid in [0, nr_threads_get()) unique among
 * the threads running at once (a per-thread workspace slot); returns when all are done.
 * Concurrent callers are serialised.  ntasks <= 0 is a no-op. */
typedef void (*nr_task_fn)(void *ctx, long task, int tid);
void nr_parallel_for(long ntasks, nr_task_fn fn, void *ctx);
/* Non-zero inside a task: nested kernels (and GEMMs) then run on the calling thread only. */
int nr_parallel_in_task(void);
/* Joins the workers (they are re-created on demand); nr_threads_set calls it. */
void nr_pool_shutdown(void);

#endif
