/* nasrank — backward kernels (internal), the partners of the forward kernels in ops.h.
 *
 * Conventions (after llm.c): NCHW float32, gradients first, then the saved forward tensors,
 * dims last.  Every backward kernel ADDS into its gradient buffers (dx += ..., dw += ...), so
 * a tensor read by several ops collects the sum of their gradients; callers zero the buffers
 * once.  A NULL gradient pointer skips that gradient (and the work behind it).  Kernels never
 * allocate: the conv takes a workspace sized by nr_conv2d_backward_workspace.  Long sums
 * (batch-norm statistics, pooled gradients, the loss) are accumulated in double.  Every
 * kernel's result is independent of the thread count (fixed summation orders; tasks write
 * disjoint outputs).  Finite-difference checks of each: tests/test_backward.c.
 */
#ifndef NASRANK_OPS_BACKWARD_H
#define NASRANK_OPS_BACKWARD_H

#include <stddef.h>
#include <stdint.h>

/* ---- conv: y(B, Cout, Ho, Wo) = conv(x(B, Cin, H, W), w(Cout, Cin, k, k)), no bias ----
 * Per image, with K = Cin*k*k and col = im2col(x_b) (K, Ho*Wo) as in nr_im2col:
 *   y_b = w · col                           (Cout, HoWo) = (Cout, K)(K, HoWo)
 *   dw += dy_b · col^T                      (Cout, K)    = (Cout, HoWo)(HoWo, K)   GEMM 1
 *   dcol = w^T · dy_b;  dx_b += col2im(dcol) (K, HoWo)   = (K, Cout)(Cout, HoWo)   GEMM 2
 * summed over the images in order b = 0..B-1.  A 1x1, stride-1, unpadded conv has col = x_b
 * itself: no im2col, and GEMM 2 accumulates straight into dx_b.
 * GEMM 1 runs in its inner-product form (dy_b and col_b both row-major over the pixels, which
 * a packed GEMM would have to transpose): im2col of a chunk of images (~4 MB), then 4 x 4
 * blocks of dw summed over the chunk's images and pixels (AVX-512 when the CPU has it,
 * chosen at run time), added to dw chunk by chunk; tasks own columns of dw.
 * For stride 1 (pad <= k-1) dx is computed as what GEMM 2 + col2im amount to, a stride-1
 * convolution of dy with the kernel flipped in space and transposed in channels,
 *   dx += conv(dy, wt, pad k-1-pad),   wt[ci][co][kh][kw] = w[co][ci][k-1-kh][k-1-kw],
 * on nr_conv2d_forward's implicit GEMM (several times faster than materialising dcol).
 * dx (B, Cin, H, W) and dw (Cout, Cin, k, k) may each be NULL.  x is needed only for dw.
 * Workspace: nr_conv2d_backward_workspace(...) floats. */
size_t nr_conv2d_backward_workspace(int B, int Cin, int H, int W, int Cout, int k, int stride,
                                    int pad);
void nr_conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        int B, int Cin, int H, int W, int Cout, int k, int stride, int pad,
                        float *ws);
/* Tests: 1 forces the textbook GEMM 2 + col2im for dx on every shape and the portable
 * (non-AVX-512) weight-gradient kernel; not thread-safe. */
void nr_conv2d_backward_set_textbook(int on);
/* The adjoint of nr_im2col: img(Cin, H, W) += col2im(col(Cin*k*k, Ho*Wo)), i.e. every column
 * entry is added back onto the input pixel it was copied from (taps in the padding are
 * dropped).  Channels run as tasks on the thread pool (disjoint planes). */
void nr_col2im(float *img, const float *col, int Cin, int H, int W, int k, int stride, int pad);

/* ---- batch norm, train mode: per channel c over its n = B*HW values ----
 *   xhat = (x - mean[c]) * rstd[c],  y = gamma[c] * xhat + beta[c]
 *   dbeta[c]  += sum dy
 *   dgamma[c] += sum dy * xhat
 *   dx        += gamma[c] * rstd[c] * (dy - sum(dy)/n - xhat * sum(dy * xhat)/n)
 * (the batch statistics depend on every x, hence the two mean terms).  mean/rstd are the
 * values nr_batchnorm_forward returned for this x.  gamma NULL means 1; dx, dgamma, dbeta
 * may be NULL.  Sums in double; channels are tasks on the thread pool. */
void nr_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                           const float *x, const float *mean, const float *rstd,
                           const float *gamma, int B, int C, int HW);

/* ---- ReLU: y = max(x, 0) ----  dx += dy * (x > 0)  (the subgradient 0 at x == 0, as
 * PyTorch).  dx may equal dy. */
void nr_relu_backward(float *dx, const float *dy, const float *x, size_t n);
/* A ReLU whose on/off pattern is frozen (for directional derivatives of the gradient, where
 * the reference's autograd treats the mask as a constant): bits[i/64] bit i%64 = (x[i] > 0).
 *   pack:     bits = (x > 0), (n+63)/64 words, unused high bits 0
 *   forward:  out = bits ? x : 0      (out may equal x)
 *   backward: dx += bits ? dy : 0     (dx may equal dy) */
void nr_relu_mask_pack(uint64_t *bits, const float *x, size_t n);
void nr_relu_forward_masked(float *out, const float *x, const uint64_t *bits, size_t n);
void nr_relu_backward_masked(float *dx, const float *dy, const uint64_t *bits, size_t n);

/* ---- average pools (the forward kernels' exact adjoints) ----
 * 3x3, stride 1, pad 1, count_include_pad=False: every output's gradient is spread over its
 *   in-bounds taps, each getting dy / (number of in-bounds taps of that output).
 *   dx, dy (B, C, H, W).
 * 2x2, stride 2: dx[2i+a][2j+b] += dy[i][j] / 4 for a, b in {0, 1}; dx (B, C, H, W),
 *   dy (B, C, H/2, W/2); a last odd row/column gets nothing (the forward ignores it).
 * Global: dx[b][c][*] += dy[b][c] / HW; dx (B, C, HW), dy (B, C). */
void nr_avgpool3x3_backward(float *dx, const float *dy, int B, int C, int H, int W);
void nr_avgpool2x2_backward(float *dx, const float *dy, int B, int C, int H, int W);
void nr_global_avgpool_backward(float *dx, const float *dy, int B, int C, int HW);

/* ---- linear: y(B, Out) = x(B, In) · w(Out, In)^T + b(Out) ----
 *   dx += dy · w       (B, In)   = (B, Out)(Out, In)
 *   dw += dy^T · x     (Out, In) = (Out, B)(B, In)
 *   db += sum_b dy     (Out)
 * Each of dx, dw, db may be NULL. */
void nr_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int B, int In, int Out);

/* ---- add: y = a + b ----  da += dy, db += dy (either may be NULL). */
void nr_add_backward(float *da, float *db, const float *dy, size_t n);

/* ---- softmax cross-entropy, mean over the batch ----
 *   L = (1/B) sum_b [ logsumexp(z_b) - z_b[label_b] ]           (returned, double)
 *   dz += (softmax(z_b) - onehot(label_b)) / B                   (dz may be NULL)
 * z (B, K) logits; labels in 0..K-1 (an out-of-range label makes the result NaN). */
double nr_cross_entropy(float *dz, const float *z, const int *labels, int B, int K);

#endif
