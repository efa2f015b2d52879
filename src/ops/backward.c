/* nasrank — backward kernels (see ops_backward.h for the maths and shapes of each).
 *
 * Written plainly: the conv is im2col + two GEMMs + col2im per image (darknet's scheme);
 * the rest are direct loops.  Work is split over the thread pool by channel or by chunk so
 * every task writes its own outputs and every sum runs in a fixed order.
 */
#include <math.h>
#include <string.h>

#include "ops/ops.h"
#include "ops/ops_backward.h"

#define EW_CHUNK ((size_t)1 << 16) /* elementwise floats per task, a multiple of 64 */

static int out_dim(int H, int k, int stride, int pad)
{
    return H + 2 * pad < k ? 0 : (H + 2 * pad - k) / stride + 1;
}

/* ------------------------------------------------------------------------------- conv */

size_t nr_conv2d_backward_workspace(int Cin, int H, int W, int k, int stride, int pad)
{
    size_t K = (size_t)Cin * k * k;
    size_t HWo = (size_t)out_dim(H, k, stride, pad) * out_dim(W, k, stride, pad);
    return 2 * K * HWo + 16;
}

typedef struct col2im_job {
    float *img;
    const float *col;
    int H, W, k, stride, pad, Ho, Wo;
} col2im_job;

/* Channel ci: every tap (kh, kw) of every output (ho, wo) adds its column entry back onto
 * the pixel (ho*s - pad + kh, wo*s - pad + kw) when that pixel is inside the image. */
static void col2im_task(void *ctx, long ci, int tid)
{
    (void)tid;
    const col2im_job *J = ctx;
    int k = J->k, H = J->H, W = J->W;
    size_t HWo = (size_t)J->Ho * J->Wo;
    float *plane = J->img + (size_t)ci * H * W;
    for (int kh = 0; kh < k; kh++)
        for (int kw = 0; kw < k; kw++) {
            const float *row = J->col + (((size_t)ci * k + kh) * k + kw) * HWo;
            for (int ho = 0; ho < J->Ho; ho++) {
                int hi = ho * J->stride - J->pad + kh;
                if (hi < 0 || hi >= H) continue;
                float *dst = plane + (size_t)hi * W;
                const float *src = row + (size_t)ho * J->Wo;
                for (int wo = 0; wo < J->Wo; wo++) {
                    int wi = wo * J->stride - J->pad + kw;
                    if (wi >= 0 && wi < W) dst[wi] += src[wo];
                }
            }
        }
}

void nr_col2im(float *img, const float *col, int Cin, int H, int W, int k, int stride, int pad)
{
    col2im_job J = {img, col, H, W, k, stride, pad, out_dim(H, k, stride, pad), out_dim(W, k, stride, pad)};
    if (Cin <= 0 || J.Ho <= 0 || J.Wo <= 0) return;
    nr_parallel_for(Cin, col2im_task, &J);
}

void nr_conv2d_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                        int B, int Cin, int H, int W, int Cout, int k, int stride, int pad,
                        float *ws)
{
    int Ho = out_dim(H, k, stride, pad), Wo = out_dim(W, k, stride, pad);
    if (B <= 0 || Cin <= 0 || Cout <= 0 || Ho <= 0 || Wo <= 0 || (!dx && !dw)) return;
    int K = Cin * k * k, HWo = Ho * Wo;
    int direct = k == 1 && stride == 1 && pad == 0; /* col is the image itself */
    size_t in_sz = (size_t)Cin * H * W, out_sz = (size_t)Cout * HWo;
    float *col = ws, *dcol = ws + (size_t)K * HWo;
    for (int b = 0; b < B; b++) {
        const float *dyb = dy + b * out_sz;
        if (dw) {
            const float *xb = x + b * in_sz, *c = xb;
            if (!direct) {
                nr_im2col(col, xb, Cin, H, W, k, stride, pad);
                c = col;
            }
            /* dw(Cout, K) += dy_b(Cout, HWo) · col(K, HWo)^T */
            nr_sgemm(0, 1, Cout, K, HWo, 1.0f, dyb, HWo, c, HWo, 1.0f, dw, K);
        }
        if (dx) {
            float *dxb = dx + b * in_sz;
            /* dcol(K, HWo) = w(Cout, K)^T · dy_b(Cout, HWo) */
            if (direct) {
                nr_sgemm(1, 0, K, HWo, Cout, 1.0f, w, K, dyb, HWo, 1.0f, dxb, HWo);
            } else {
                nr_sgemm(1, 0, K, HWo, Cout, 1.0f, w, K, dyb, HWo, 0.0f, dcol, HWo);
                nr_col2im(dxb, dcol, Cin, H, W, k, stride, pad);
            }
        }
    }
}

/* ------------------------------------------------------------------------- batch norm */

typedef struct bn_bwd_job {
    float *dx, *dgamma, *dbeta;
    const float *dy, *x, *mean, *rstd, *gamma;
    int B, C, HW;
} bn_bwd_job;

static void bn_bwd_task(void *ctx, long c, int tid)
{
    (void)tid;
    const bn_bwd_job *J = ctx;
    size_t stride = (size_t)J->C * J->HW, off = (size_t)c * J->HW;
    float m = J->mean[c], r = J->rstd[c];
    /* pass 1: sum dy and sum dy * xhat */
    double sdy = 0.0, sdyx = 0.0;
    for (int b = 0; b < J->B; b++) {
        const float *dy = J->dy + b * stride + off, *x = J->x + b * stride + off;
        for (int i = 0; i < J->HW; i++) {
            double xhat = ((double)x[i] - m) * r;
            sdy += dy[i];
            sdyx += dy[i] * xhat;
        }
    }
    if (J->dbeta) J->dbeta[c] += (float)sdy;
    if (J->dgamma) J->dgamma[c] += (float)sdyx;
    if (!J->dx) return;
    /* pass 2: dx += gamma * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)) */
    double n = (double)J->B * J->HW;
    double g = J->gamma ? J->gamma[c] : 1.0;
    double a = g * r, mdy = sdy / n, mdyx = sdyx / n;
    for (int b = 0; b < J->B; b++) {
        float *dx = J->dx + b * stride + off;
        const float *dy = J->dy + b * stride + off, *x = J->x + b * stride + off;
        for (int i = 0; i < J->HW; i++) {
            double xhat = ((double)x[i] - m) * r;
            dx[i] += (float)(a * (dy[i] - mdy - xhat * mdyx));
        }
    }
}

void nr_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy,
                           const float *x, const float *mean, const float *rstd,
                           const float *gamma, int B, int C, int HW)
{
    if (B <= 0 || C <= 0 || HW <= 0) return;
    bn_bwd_job J = {dx, dgamma, dbeta, dy, x, mean, rstd, gamma, B, C, HW};
    nr_parallel_for(C, bn_bwd_task, &J);
}

/* ------------------------------------------------------------------------------- ReLU */

typedef struct ew_job {
    float *out;
    const float *a, *b;
    const uint64_t *bits;
    uint64_t *bits_out;
    size_t n;
} ew_job;

static size_t chunk_len(const ew_job *J, long t, size_t *i0)
{
    *i0 = (size_t)t * EW_CHUNK;
    return J->n - *i0 < EW_CHUNK ? J->n - *i0 : EW_CHUNK;
}

static long chunks(size_t n) { return (long)((n + EW_CHUNK - 1) / EW_CHUNK); }

static void relu_bwd_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    float *dx = J->out + i0;
    const float *dy = J->a + i0, *x = J->b + i0;
    for (size_t i = 0; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
}

void nr_relu_backward(float *dx, const float *dy, const float *x, size_t n)
{
    ew_job J = {dx, dy, x, NULL, NULL, n};
    nr_parallel_for(chunks(n), relu_bwd_task, &J);
}

static void mask_pack_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    const float *x = J->a + i0;
    uint64_t *bits = J->bits_out + i0 / 64;
    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t v = 0;
        size_t end = n - w * 64 < 64 ? n - w * 64 : 64;
        for (size_t k = 0; k < end; k++) v |= (uint64_t)(x[w * 64 + k] > 0.0f) << k;
        bits[w] = v;
    }
}

void nr_relu_mask_pack(uint64_t *bits, const float *x, size_t n)
{
    ew_job J = {NULL, x, NULL, NULL, bits, n};
    nr_parallel_for(chunks(n), mask_pack_task, &J);
}

static int bit_at(const uint64_t *bits, size_t i) { return (int)(bits[i / 64] >> (i % 64) & 1u); }

static void relu_masked_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    for (size_t i = i0; i < i0 + n; i++) J->out[i] = bit_at(J->bits, i) ? J->a[i] : 0.0f;
}

void nr_relu_forward_masked(float *out, const float *x, const uint64_t *bits, size_t n)
{
    ew_job J = {out, x, NULL, bits, NULL, n};
    nr_parallel_for(chunks(n), relu_masked_task, &J);
}

static void relu_bwd_masked_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    for (size_t i = i0; i < i0 + n; i++)
        if (bit_at(J->bits, i)) J->out[i] += J->a[i];
}

void nr_relu_backward_masked(float *dx, const float *dy, const uint64_t *bits, size_t n)
{
    ew_job J = {dx, dy, NULL, bits, NULL, n};
    nr_parallel_for(chunks(n), relu_bwd_masked_task, &J);
}

/* -------------------------------------------------------------------------------- add */

static void add_bwd_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    float *d = J->out + i0;
    const float *dy = J->a + i0;
    for (size_t i = 0; i < n; i++) d[i] += dy[i];
}

void nr_add_backward(float *da, float *db, const float *dy, size_t n)
{
    ew_job J = {da, dy, NULL, NULL, NULL, n};
    if (da) nr_parallel_for(chunks(n), add_bwd_task, &J);
    J.out = db;
    if (db) nr_parallel_for(chunks(n), add_bwd_task, &J);
}

/* ------------------------------------------------------------------------------ pools */

typedef struct pool_bwd_job {
    float *dx;
    const float *dy;
    int H, W;
} pool_bwd_job;

/* Plane p of the 3x3 pool: output (ho, wo) averaged cnt in-bounds taps, so each of them
 * receives dy / cnt. */
static void pool3_bwd_task(void *ctx, long p, int tid)
{
    (void)tid;
    const pool_bwd_job *J = ctx;
    int H = J->H, W = J->W;
    float *dx = J->dx + (size_t)p * H * W;
    const float *dy = J->dy + (size_t)p * H * W;
    for (int ho = 0; ho < H; ho++) {
        int r0 = ho > 0 ? ho - 1 : 0, r1 = ho < H - 1 ? ho + 1 : H - 1;
        for (int wo = 0; wo < W; wo++) {
            int c0 = wo > 0 ? wo - 1 : 0, c1 = wo < W - 1 ? wo + 1 : W - 1;
            float g = dy[(size_t)ho * W + wo] / (float)((r1 - r0 + 1) * (c1 - c0 + 1));
            for (int r = r0; r <= r1; r++)
                for (int c = c0; c <= c1; c++) dx[(size_t)r * W + c] += g;
        }
    }
}

void nr_avgpool3x3_backward(float *dx, const float *dy, int B, int C, int H, int W)
{
    if (B <= 0 || C <= 0 || H <= 0 || W <= 0) return;
    pool_bwd_job J = {dx, dy, H, W};
    nr_parallel_for((long)B * C, pool3_bwd_task, &J);
}

static void pool2_bwd_task(void *ctx, long p, int tid)
{
    (void)tid;
    const pool_bwd_job *J = ctx;
    int H = J->H, W = J->W, Ho = H / 2, Wo = W / 2;
    float *dx = J->dx + (size_t)p * H * W;
    const float *dy = J->dy + (size_t)p * Ho * Wo;
    for (int ho = 0; ho < Ho; ho++)
        for (int wo = 0; wo < Wo; wo++) {
            float g = dy[(size_t)ho * Wo + wo] * 0.25f;
            float *d = dx + (size_t)(2 * ho) * W + 2 * wo;
            d[0] += g;
            d[1] += g;
            d[W] += g;
            d[W + 1] += g;
        }
}

void nr_avgpool2x2_backward(float *dx, const float *dy, int B, int C, int H, int W)
{
    if (B <= 0 || C <= 0 || H < 2 || W < 2) return;
    pool_bwd_job J = {dx, dy, H, W};
    nr_parallel_for((long)B * C, pool2_bwd_task, &J);
}

void nr_global_avgpool_backward(float *dx, const float *dy, int B, int C, int HW)
{
    if (B <= 0 || C <= 0 || HW <= 0) return;
    for (long p = 0; p < (long)B * C; p++) {
        float g = (float)((double)dy[p] / HW);
        float *d = dx + (size_t)p * HW;
        for (int i = 0; i < HW; i++) d[i] += g;
    }
}

/* ----------------------------------------------------------------------------- linear */

void nr_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x,
                        const float *w, int B, int In, int Out)
{
    if (B <= 0 || In <= 0 || Out <= 0) return;
    if (dx) nr_sgemm(0, 0, B, In, Out, 1.0f, dy, Out, w, In, 1.0f, dx, In);  /* dy · w */
    if (dw) nr_sgemm(1, 0, Out, In, B, 1.0f, dy, Out, x, In, 1.0f, dw, In);  /* dy^T · x */
    if (db)
        for (int o = 0; o < Out; o++) {
            double s = 0.0;
            for (int b = 0; b < B; b++) s += dy[(size_t)b * Out + o];
            db[o] += (float)s;
        }
}

/* ---------------------------------------------------------------------- cross-entropy */

double nr_cross_entropy(float *dz, const float *z, const int *labels, int B, int K)
{
    if (B <= 0 || K <= 0) return NAN;
    double loss = 0.0;
    for (int b = 0; b < B; b++) {
        const float *zb = z + (size_t)b * K;
        int y = labels[b];
        if (y < 0 || y >= K) return NAN;
        double mx = zb[0];
        for (int k = 1; k < K; k++) mx = zb[k] > mx ? zb[k] : mx;
        double se = 0.0;
        for (int k = 0; k < K; k++) se += exp((double)zb[k] - mx);
        double lse = mx + log(se);
        loss += lse - zb[y];
        if (dz) {
            float *d = dz + (size_t)b * K;
            for (int k = 0; k < K; k++) {
                double p = exp((double)zb[k] - lse);
                d[k] += (float)((p - (k == y)) / B);
            }
        }
    }
    return loss / B;
}
