/* nasrank — reference kernels (internal): the readable versions of the ops the network graph
 * needs, written as plain loops straight from each op's definition (include/nasrank/graph.h).
 * They are the oracle the fast kernels are tested against and the fallback the executor uses
 * where no fast kernel exists (depthwise and dilated convs, general pools, ...).
 *
 * NCHW float32, outputs first, dims last.  Sums over windows and channels are accumulated in
 * double.  Backward kernels ADD into their gradient buffers (NULL skips one), as ops_backward.h.
 */
#ifndef NASRANK_OPS_REF_H
#define NASRANK_OPS_REF_H

#include <stddef.h>

/* Shape of a sliding-window op: input (B, Cin, H, W), output (B, Cout, Ho, Wo). */
typedef struct nr_window {
    int B, Cin, H, W, Cout, Ho, Wo;
    int k, stride, pad, dilation, groups; /* pools: dilation 1, groups = Cin = Cout */
} nr_window;

/* conv: y[b][co][i][j] = sum_{ci in co's group, p, q} w[co][ci'][p][q] *
 *        x[b][ci][i*s - pad + p*d][j*s - pad + q*d]   (out-of-bounds taps are 0),
 * w (Cout, Cin/groups, k, k); group of co = co / (Cout/groups), ci' = ci - group*(Cin/groups). */
void nr_ref_conv_forward(float *y, const float *x, const float *w, const nr_window *s);
void nr_ref_conv_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                          const nr_window *s);

/* avgpool (k, stride, pad): mean over the window's taps; the divisor is k*k with
 * count_include_pad, else the in-bounds taps.  maxpool: max over the in-bounds taps (the
 * padding is -inf); backward sends dy to the first maximal tap in row-major window order (NaN
 * takes over, as in PyTorch's CPU kernel). */
void nr_ref_avgpool_forward(float *y, const float *x, const nr_window *s, int count_include_pad);
void nr_ref_avgpool_backward(float *dx, const float *dy, const nr_window *s, int count_include_pad);
void nr_ref_maxpool_forward(float *y, const float *x, const nr_window *s);
void nr_ref_maxpool_backward(float *dx, const float *dy, const float *x, const nr_window *s);

/* relu with an upper clip (clip > 0: min(max(x, 0), clip), ReLU6; 0: plain ReLU, NaN passes).
 * Backward: dx += dy where 0 < x (and x < clip when clipped). */
void nr_ref_relu_forward(float *y, const float *x, size_t n, float clip);
void nr_ref_relu_backward(float *dx, const float *dy, const float *x, size_t n, float clip);

/* Channel blocks.  put: channels [c0, c0 + Cx) of y (B, Cy, HW) = x (B, Cx, HW) (concat's
 * pieces; slice's backward with add).  take: x = that block of y (slice; concat's backward
 * with add).  add != 0 adds instead of overwriting. */
void nr_ref_channels_put(float *y, const float *x, int B, int Cy, int c0, int Cx, int HW, int add);
void nr_ref_channels_take(float *x, const float *y, int B, int Cy, int c0, int Cx, int HW, int add);

/* crop: y (B, C, Ho, Wo) = x (B, C, H, W)[:, :, top:top+Ho, left:left+Wo]; backward adds dy
 * back into that window of dx. */
void nr_ref_crop_forward(float *y, const float *x, int B, int C, int H, int W, int top, int left,
                         int Ho, int Wo);
void nr_ref_crop_backward(float *dx, const float *dy, int B, int C, int H, int W, int top,
                          int left, int Ho, int Wo);

/* train-mode batch norm per channel c over its n = B*HW values, in double:
 *   mean = sum x / n, var = sum (x - mean)^2 / n (biased), rstd = 1 / sqrt(var + eps),
 *   y = (x - mean) * rstd * gamma[c] + beta[c]          (gamma/beta NULL: 1/0)
 * mean/rstd (C) receive the statistics when non-NULL.  Backward, xhat = (x - mean) * rstd:
 *   dbeta += sum dy,  dgamma += sum dy * xhat,
 *   dx += gamma * rstd * (dy - sum(dy)/n - xhat * sum(dy * xhat)/n)
 * recomputing the statistics from x.  Any of dx, dgamma, dbeta may be NULL. */
void nr_ref_batchnorm_forward(float *y, float *mean, float *rstd, const float *x, const float *gamma,
                              const float *beta, int B, int C, int HW, double eps);
void nr_ref_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                               const float *gamma, int B, int C, int HW, double eps);

/* global average pool: y (B, C) = mean over HW; backward dx += dy / HW. */
void nr_ref_global_avgpool_forward(float *y, const float *x, int B, int C, int HW);
void nr_ref_global_avgpool_backward(float *dx, const float *dy, int B, int C, int HW);

/* linear: y (B, Out) = x (B, In) w^T + b (b may be NULL); backward dx += dy w,
 * dw += dy^T x, db += sum_b dy (each may be NULL). */
void nr_ref_linear_forward(float *y, const float *x, const float *w, const float *b, int B, int In, int Out);
void nr_ref_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                            int B, int In, int Out);

#endif
