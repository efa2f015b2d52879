/* nasrank — backward kernels (see ops_backward.h for the maths and shapes of each).
 *
 * The conv is darknet's scheme, im2col + two GEMMs + col2im, with two speed-ups that compute
 * the same sums: the weight GEMM in its inner-product form (no transposed packing), and for
 * stride 1 the input gradient as a forward conv with the flipped kernel (no dcol matrix);
 * the textbook GEMM + col2im remains for stride 2 (and for tests).  The rest are direct
 * loops, written so GCC vectorises them at -O2 (fixed-length inner loops, restrict).  Work
 * is split over the thread pool by channel, column block or chunk so every task writes its
 * own outputs and every sum runs in a fixed order: results do not depend on the thread count.
 */
#include <math.h>
#include <string.h>
#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX512_DW 1 /* the weight-gradient kernel is chosen at run time (any build flags) */
#endif

#include "ops/cpu.h"
#include "ops/ops.h"
#include "ops/ops_backward.h"

#define EW_CHUNK ((size_t)1 << 16) /* elementwise floats per task, a multiple of 64 */

static int out_dim(int H, int k, int stride, int pad)
{
    return H + 2 * pad < k ? 0 : (H + 2 * pad - k) / stride + 1;
}

/* ------------------------------------------------------------------------------- conv */

static size_t up16(size_t n) { return (n + 15) / 16 * 16; }

static int g_textbook; /* tests: GEMM + col2im for dx, the portable dw kernel */
void nr_conv2d_backward_set_textbook(int on) { g_textbook = on != 0; }

/* The input gradient of a stride-1 convolution is itself a stride-1 convolution: of dy, with
 * the kernel flipped in space and transposed in channels, padded by k-1-pad. */
static int flip_ok(int k, int stride, int pad) { return !g_textbook && stride == 1 && pad <= k - 1; }

/* Images whose im2col matrices are built at once for the weight gradient: about 4 MB. */
static int dw_chunk(int B, size_t K, size_t HWo)
{
    size_t nb = ((size_t)1 << 20) / (K * HWo + 1);
    if (nb < 1) nb = 1;
    return nb > (size_t)B ? B : (int)nb;
}

size_t nr_conv2d_backward_workspace(int B, int Cin, int H, int W, int Cout, int k, int stride, int pad)
{
    int Ho = out_dim(H, k, stride, pad), Wo = out_dim(W, k, stride, pad);
    size_t K = (size_t)Cin * k * k, HWo = (size_t)Ho * Wo;
    size_t need = 2 * up16(K * HWo); /* textbook dx: col and dcol of one image */
    size_t dw = (size_t)dw_chunk(B, K, HWo) * up16(K * HWo);
    if (dw > need) need = dw;
    if (stride == 1 && pad <= k - 1) {
        size_t flip = up16((size_t)Cout * K) + up16((size_t)B * Cin * H * W) +
                      nr_conv2d_workspace(B, Cout, Ho, Wo, k, 1, k - 1 - pad);
        if (flip > need) need = flip;
    }
    return need + 16;
}

/* ---- dw += sum_i A_i · B_i^T over a chunk of images ----
 * For image i of the chunk, A_i = dy_i (M, P) and B_i = col_i (N, P), both with rows of P
 * contiguous floats (the inner-product form, which a packed GEMM would have to transpose).
 * Tasks take 4 columns of dw each; every output is a sum over (image, p) in 16 float lanes
 * (lane l takes p = l mod 16, images and p in order), the lanes reduced by a fixed tree once
 * per chunk and added to dw: the same sums whatever the thread count. */
typedef struct dw_job {
    float *dw;
    const float *dy;   /* image i's A at dy + i * dy_stride */
    size_t dy_stride;
    const float *const *col; /* image i's B */
    int nimg, M, N, P;
    int avx512;        /* use the AVX-512 block kernel (the CPU has it) */
} dw_job;

static float hsum16(const float *v)
{
    float a[8], b[4];
    for (int l = 0; l < 8; l++) a[l] = v[l] + v[l + 8];
    for (int l = 0; l < 4; l++) b[l] = a[l] + a[l + 4];
    return (b[0] + b[2]) + (b[1] + b[3]);
}

#ifdef HAVE_AVX512_DW
/* 4 x 4 outputs of the chunk: rows i..i+3 of every A_img against rows j..j+3 of every
 * B_img, accumulated over the images and p in 16 registers (loops fully unrolled), then
 * reduced once. */
NR_TARGET_AVX512 static void dot4x4(const dw_job *J, int i, int j)
{
    __m512 acc[4][4];
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) acc[r][c] = _mm512_setzero_ps();
    size_t P = (size_t)J->P;
    for (int img = 0; img < J->nimg; img++) {
        const float *A = J->dy + img * J->dy_stride + (size_t)i * P, *Bm = J->col[img] + (size_t)j * P;
        __mmask16 m = 0xFFFF;
        for (size_t p = 0; p < P; p += 16) {
            if (P - p < 16) m = (__mmask16)((1u << (P - p)) - 1u);
            __m512 bv[4], av[4];
#pragma GCC unroll 4
            for (int c = 0; c < 4; c++) bv[c] = _mm512_maskz_loadu_ps(m, Bm + c * P + p);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++) av[r] = _mm512_maskz_loadu_ps(m, A + r * P + p);
#pragma GCC unroll 4
            for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
                for (int c = 0; c < 4; c++) acc[r][c] = _mm512_fmadd_ps(av[r], bv[c], acc[r][c]);
        }
    }
#pragma GCC unroll 4
    for (int r = 0; r < 4; r++)
#pragma GCC unroll 4
        for (int c = 0; c < 4; c++) J->dw[(size_t)(i + r) * J->N + j + c] += _mm512_reduce_add_ps(acc[r][c]);
}
#endif

/* The portable 4 x 4 block: 16 scalar sums over (image, p) in order. */
static void dot4x4_portable(const dw_job *J, int i, int j)
{
    float acc[4][4] = {{0}};
    size_t P = (size_t)J->P;
    for (int img = 0; img < J->nimg; img++) {
        const float *A = J->dy + img * J->dy_stride + (size_t)i * P, *Bm = J->col[img] + (size_t)j * P;
        for (size_t p = 0; p < P; p++) {
            float a0 = A[p], a1 = A[P + p], a2 = A[2 * P + p], a3 = A[3 * P + p];
            for (int c = 0; c < 4; c++) {
                float b = Bm[c * P + p];
                acc[0][c] += a0 * b;
                acc[1][c] += a1 * b;
                acc[2][c] += a2 * b;
                acc[3][c] += a3 * b;
            }
        }
    }
    for (int r = 0; r < 4; r++)
        for (int c = 0; c < 4; c++) J->dw[(size_t)(i + r) * J->N + j + c] += acc[r][c];
}

/* One output (tails): 16 lanes, summed by a fixed tree. */
static float dot1(const float *a, const float *b, int P)
{
    float lane[16] = {0};
    for (int p = 0; p < P; p++) lane[p % 16] += a[p] * b[p];
    return hsum16(lane);
}

/* Task t: columns 4t..4t+3 of dw (4 rows of each col_i, 16 KB at P = 1024, stay in L1)
 * against every row block of dy_i (in L2). */
static void dw_task(void *ctx, long t, int tid)
{
    (void)tid;
    const dw_job *J = ctx;
    int j0 = (int)t * 4, nj = J->N - j0 < 4 ? J->N - j0 : 4, i = 0;
    size_t P = (size_t)J->P;
    if (nj == 4)
        for (; i + 4 <= J->M; i += 4) {
#ifdef HAVE_AVX512_DW
            if (J->avx512) {
                dot4x4(J, i, j0);
                continue;
            }
#endif
            dot4x4_portable(J, i, j0);
        }
    for (; i < J->M; i++)
        for (int j = j0; j < j0 + nj; j++) {
            float s = 0.0f;
            for (int img = 0; img < J->nimg; img++)
                s += dot1(J->dy + img * J->dy_stride + i * P, J->col[img] + j * P, J->P);
            J->dw[(size_t)i * J->N + j] += s;
        }
}

typedef struct im2col_job {
    float *col;
    size_t col_stride;
    const float *x;
    size_t x_stride;
    int Cin, H, W, k, stride, pad;
} im2col_job;

static void im2col_task(void *ctx, long i, int tid)
{
    (void)tid;
    const im2col_job *J = ctx;
    nr_im2col(J->col + i * J->col_stride, J->x + i * J->x_stride, J->Cin, J->H, J->W, J->k, J->stride, J->pad);
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
    float *col = ws, *dcol = ws + up16((size_t)K * HWo);
    if (dw) {
        /* dw(Cout, K) += dy_b(Cout, HWo) · col_b(K, HWo)^T, a chunk of images at a time */
        int nb = dw_chunk(B, (size_t)K, (size_t)HWo);
        const float *cols[64];
        if (nb > 64) nb = 64;
        for (int b0 = 0; b0 < B; b0 += nb) {
            int n = B - b0 < nb ? B - b0 : nb;
            if (direct) {
                for (int i = 0; i < n; i++) cols[i] = x + (size_t)(b0 + i) * in_sz;
            } else {
                im2col_job I = {col, up16((size_t)K * HWo), x + (size_t)b0 * in_sz, in_sz, Cin, H, W, k, stride, pad};
                nr_parallel_for(n, im2col_task, &I);
                for (int i = 0; i < n; i++) cols[i] = col + (size_t)i * I.col_stride;
            }
            dw_job D = {dw, dy + (size_t)b0 * out_sz, out_sz, cols, n, Cout, K, HWo, 0};
#ifdef HAVE_AVX512_DW
            D.avx512 = !g_textbook && nr_isa_avx512();
#endif
            nr_parallel_for((K + 3) / 4, dw_task, &D);
        }
    }
    if (!dx) return;
    if (flip_ok(k, stride, pad)) {
        /* dx += conv(dy, wt), wt[ci][co][kh][kw] = w[co][ci][k-1-kh][k-1-kw] */
        float *wt = ws, *tmp = ws + up16((size_t)Cout * K), *cws = tmp + up16((size_t)B * in_sz);
        for (int co = 0; co < Cout; co++)
            for (int ci = 0; ci < Cin; ci++)
                for (int t = 0; t < k * k; t++)
                    wt[((size_t)ci * Cout + co) * k * k + t] = w[((size_t)co * Cin + ci) * k * k + (k * k - 1 - t)];
        nr_conv2d_forward(tmp, dy, wt, B, Cout, Ho, Wo, Cin, k, 1, k - 1 - pad, cws);
        nr_add_inplace(dx, tmp, (size_t)B * in_sz);
        return;
    }
    for (int b = 0; b < B; b++) {
        float *dxb = dx + b * in_sz;
        const float *dyb = dy + b * out_sz;
        /* dcol(K, HWo) = w(Cout, K)^T · dy_b(Cout, HWo) */
        if (direct) {
            nr_sgemm(1, 0, K, HWo, Cout, 1.0f, w, K, dyb, HWo, 1.0f, dxb, HWo);
        } else {
            nr_sgemm(1, 0, K, HWo, Cout, 1.0f, w, K, dyb, HWo, 0.0f, dcol, HWo);
            nr_col2im(dxb, dcol, Cin, H, W, k, stride, pad);
        }
    }
}

/* ------------------------------------------------------------------------- batch norm */

typedef struct bn_bwd_job {
    float *dx, *dgamma, *dbeta;
    const float *dy, *x, *mean, *rstd, *gamma;
    int B, C, HW;
} bn_bwd_job;

#define BN_LANES 16

/* Channel c.  Pass 1 sums dy and dy * xhat: per image segment in BN_LANES float lanes (lane
 * l takes the elements i = l mod BN_LANES, so the loop vectorises), each segment's lanes
 * then added in double; the order depends on (B, HW) only.  Pass 2 applies the formula. */
static void bn_bwd_task(void *ctx, long c, int tid)
{
    (void)tid;
    const bn_bwd_job *J = ctx;
    size_t stride = (size_t)J->C * J->HW, off = (size_t)c * J->HW;
    float m = J->mean[c], r = J->rstd[c];
    double sdy = 0.0, sdyx = 0.0;
    int HW = J->HW, full = HW / BN_LANES * BN_LANES;
    for (int b = 0; b < J->B; b++) {
        const float *restrict dy = J->dy + b * stride + off, *restrict x = J->x + b * stride + off;
        float s1[BN_LANES] = {0}, s2[BN_LANES] = {0};
        for (int i = 0; i < full; i += BN_LANES)
            for (int l = 0; l < BN_LANES; l++) {
                float d = dy[i + l];
                s1[l] += d;
                s2[l] += d * ((x[i + l] - m) * r);
            }
        for (int i = full; i < HW; i++) {
            s1[i - full] += dy[i];
            s2[i - full] += dy[i] * ((x[i] - m) * r);
        }
        double t1 = 0.0, t2 = 0.0;
        for (int l = 0; l < BN_LANES; l++) t1 += s1[l], t2 += s2[l];
        sdy += t1;
        sdyx += t2;
    }
    if (J->dbeta) J->dbeta[c] += (float)sdy;
    if (J->dgamma) J->dgamma[c] += (float)sdyx;
    if (!J->dx) return;
    /* pass 2: dx += gamma * rstd * (dy - mean(dy) - xhat * mean(dy * xhat)), in float */
    double n = (double)J->B * J->HW;
    double g = J->gamma ? J->gamma[c] : 1.0;
    float a = (float)(g * r), mdy = (float)(sdy / n), k = (float)(sdyx / n * r);
    for (int b = 0; b < J->B; b++) {
        float *restrict dx = J->dx + b * stride + off;
        const float *restrict dy = J->dy + b * stride + off, *restrict x = J->x + b * stride + off;
        int i = 0;
        for (; i < full; i += BN_LANES) /* a fixed-length inner loop: vectorised at -O2 */
            for (int l = 0; l < BN_LANES; l++) dx[i + l] += a * ((dy[i + l] - mdy) - (x[i + l] - m) * k);
        for (; i < HW; i++) dx[i] += a * ((dy[i] - mdy) - (x[i] - m) * k);
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

/* The AVX-512 parts of the ReLU kernels below: whole 16-blocks, or (the mask kernels) the
 * 16-blocks of one 64-element word; each returns how far it got. */
#ifdef NR_HAVE_X86_SIMD
NR_TARGET_AVX512 static size_t relu_bwd_avx512(float *dx, const float *dy, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16) {
        __mmask16 m = _mm512_cmp_ps_mask(_mm512_loadu_ps(x + i), _mm512_setzero_ps(), _CMP_GT_OQ);
        _mm512_storeu_ps(dx + i, _mm512_mask_add_ps(_mm512_loadu_ps(dx + i), m, _mm512_loadu_ps(dx + i),
                                                    _mm512_loadu_ps(dy + i)));
    }
    return i;
}

NR_TARGET_AVX512 static size_t pack_word_avx512(const float *x, size_t end, uint64_t *v)
{
    size_t k = 0;
    for (; k + 16 <= end; k += 16)
        *v |= (uint64_t)_mm512_cmp_ps_mask(_mm512_loadu_ps(x + k), _mm512_setzero_ps(), _CMP_GT_OQ) << k;
    return k;
}

NR_TARGET_AVX512 static size_t masked_word_avx512(float *o, const float *x, size_t end, uint64_t m)
{
    size_t k = 0;
    for (; k + 16 <= end; k += 16)
        _mm512_storeu_ps(o + k, _mm512_maskz_mov_ps((__mmask16)(m >> k), _mm512_loadu_ps(x + k)));
    return k;
}

NR_TARGET_AVX512 static size_t masked_bwd_word_avx512(float *dx, const float *dy, size_t end, uint64_t m)
{
    size_t k = 0;
    for (; k + 16 <= end; k += 16)
        _mm512_storeu_ps(dx + k, _mm512_mask_add_ps(_mm512_loadu_ps(dx + k), (__mmask16)(m >> k),
                                                     _mm512_loadu_ps(dx + k), _mm512_loadu_ps(dy + k)));
    return k;
}
#endif

static void relu_bwd_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    float *dx = J->out + i0;
    const float *dy = J->a + i0, *x = J->b + i0;
    size_t i = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) i = relu_bwd_avx512(dx, dy, x, n);
#endif
    for (; i < n; i++) dx[i] += x[i] > 0.0f ? dy[i] : 0.0f;
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
    int avx512 = nr_isa_avx512();
    (void)avx512;
    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t v = 0;
        size_t end = n - w * 64 < 64 ? n - w * 64 : 64, k = 0;
#ifdef NR_HAVE_X86_SIMD
        if (avx512) k = pack_word_avx512(x + w * 64, end, &v);
#endif
        for (; k < end; k++) v |= (uint64_t)(x[w * 64 + k] > 0.0f) << k;
        bits[w] = v;
    }
}

void nr_relu_mask_pack(uint64_t *bits, const float *x, size_t n)
{
    ew_job J = {NULL, x, NULL, NULL, bits, n};
    nr_parallel_for(chunks(n), mask_pack_task, &J);
}

/* Chunks start at multiples of 64 elements (EW_CHUNK is one), so word w of a chunk holds
 * the bits of its elements 64w .. 64w+63. */
static void relu_masked_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0, n = chunk_len(J, t, &i0);
    const uint64_t *bits = J->bits + i0 / 64;
    int avx512 = nr_isa_avx512();
    (void)avx512;
    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t m = bits[w];
        const float *x = J->a + i0 + w * 64;
        float *o = J->out + i0 + w * 64;
        size_t end = n - w * 64 < 64 ? n - w * 64 : 64, k = 0;
#ifdef NR_HAVE_X86_SIMD
        if (avx512) k = masked_word_avx512(o, x, end, m);
#endif
        for (; k < end; k++) o[k] = (m >> k & 1u) ? x[k] : 0.0f;
    }
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
    const uint64_t *bits = J->bits + i0 / 64;
    int avx512 = nr_isa_avx512();
    (void)avx512;
    for (size_t w = 0; w * 64 < n; w++) {
        uint64_t m = bits[w];
        const float *dy = J->a + i0 + w * 64;
        float *dx = J->out + i0 + w * 64;
        size_t end = n - w * 64 < 64 ? n - w * 64 : 64, k = 0;
#ifdef NR_HAVE_X86_SIMD
        if (avx512) k = masked_bwd_word_avx512(dx, dy, end, m);
#endif
        for (; k < end; k++)
            if (m >> k & 1u) dx[k] += dy[k];
    }
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
    float *restrict d = J->out + i0;
    const float *restrict dy = J->a + i0;
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

/* The 3x3 pool's backward, gather form: output (ho, wo) averaged cnt(ho, wo) in-bounds taps,
 * so dx(r, c) += sum over the in-bounds 3x3 neighbourhood of g = dy / cnt.  Separable, like
 * the forward: g's 3-tap row sums s(ho) roll through three buffers and dx(r, ·) adds
 * s(r-1) + s(r) + s(r+1).  Column strips of POOL3_BWD_STRIP (with a one-column halo each
 * side) keep the buffers on the stack for any width.  The scatter form (each output adding
 * into its 9 inputs) was 10% of a proxy-suite run; this one vectorises. */
#define POOL3_BWD_STRIP 128

static int pool3_taps(int i, int n) /* in-bounds taps along one axis at position i */
{
    return 1 + (i > 0) + (i < n - 1);
}

/* s[i] = sum of g(ho, c) for c in (c0 + i - 1 .. c0 + i + 1) within the row, i < n */
static void pool3_bwd_rowsum(float *s, float *g, const float *dy_row, int ho, int H, int W,
                             int c0, int n)
{
    int lo = c0 > 0 ? c0 - 1 : 0, hi = c0 + n < W ? c0 + n + 1 : W; /* g over [lo, hi) */
    float rows = (float)pool3_taps(ho, H);
    for (int c = lo; c < hi; c++) g[c - lo] = dy_row[c] / (rows * (float)pool3_taps(c, W));
    const float *gc = g + (c0 - lo); /* gc[i] = g at column c0 + i */
    for (int i = 0; i < n; i++) {
        int c = c0 + i;
        float v = c > 0 ? gc[i - 1] + gc[i] : gc[i];
        s[i] = c < W - 1 ? v + gc[i + 1] : v;
    }
}

static void pool3_bwd_plane(float *dx, const float *dy, int H, int W)
{
    float g[POOL3_BWD_STRIP + 2], buf[3][POOL3_BWD_STRIP];
    for (int c0 = 0; c0 < W; c0 += POOL3_BWD_STRIP) {
        int n = W - c0 < POOL3_BWD_STRIP ? W - c0 : POOL3_BWD_STRIP;
        float *prev = buf[0], *cur = buf[1], *next = buf[2];
        pool3_bwd_rowsum(cur, g, dy, 0, H, W, c0, n);
        for (int r = 0; r < H; r++) {
            if (r + 1 < H) pool3_bwd_rowsum(next, g, dy + (size_t)(r + 1) * W, r + 1, H, W, c0, n);
            float *d = dx + (size_t)r * W + c0;
            for (int i = 0; i < n; i++) {
                float v = r > 0 ? prev[i] + cur[i] : cur[i];
                d[i] += r + 1 < H ? v + next[i] : v;
            }
            float *t = prev;
            prev = cur, cur = next, next = t;
        }
    }
}

static void pool3_bwd_task(void *ctx, long p, int tid)
{
    (void)tid;
    const pool_bwd_job *J = ctx;
    size_t HW = (size_t)J->H * J->W;
    pool3_bwd_plane(J->dx + (size_t)p * HW, J->dy + (size_t)p * HW, J->H, J->W);
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
