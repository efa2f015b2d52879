/* nasrank — 2-D convolution (NCHW, no bias) as im2col + GEMM.
 *
 *   out[b][co][ho][wo] = sum_{ci,kh,kw} w[co][ci][kh][kw] * in[b][ci][ho*s-pad+kh][wo*s-pad+kw]
 *
 * i.e. per image out(Cout, Ho*Wo) = w(Cout, K) * col(K, Ho*Wo), K = Cin*k*k, with
 * col[(ci*k+kh)*k+kw][ho*Wo+wo] the input pixel under tap (kh, kw) (zero outside).
 *
 * Default strategy (measured against the alternatives in benches/bench_ops.c): the columns
 * of each image are cut into panels of NR_UKR_NR = 48; for each panel the im2col rows are
 * gathered CONV_KC at a time into a per-thread buffer (<= 48 KB, stays in L1/L2) and
 * multiplied by every 8-row block of w with the micro-kernel, accumulating into out.  The
 * full im2col matrix (75 MB for the first NB201 stage at batch 128) never exists, and BLIS's
 * own copy of B (packing) is skipped: the panel is already in the kernel's layout, and w is
 * read in place.  1x1 stride-1 convs without ReLU read the input directly.
 * Tasks = images x panels over the thread pool; each output element is summed in the order
 * p = 0..K-1 whatever the thread count, so results are bit-identical across thread counts.
 */
#include <stdint.h>
#include <string.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "ops/ops.h"

#define CONV_KC 256

static int out_dim(int H, int k, int stride, int pad) { return (H + 2 * pad - k) / stride + 1; }

static float *align64(float *p)
{
    uintptr_t u = (uintptr_t)p;
    return (float *)((u + 63) & ~(uintptr_t)63);
}

static size_t slot_floats(int K)
{
    size_t kc = K < CONV_KC ? (size_t)K : CONV_KC;
    return (kc * NR_UKR_NR + 15) / 16 * 16; /* keeps every slot 64-byte aligned */
}

size_t nr_conv2d_workspace(int B, int Cin, int H, int W, int k, int stride, int pad)
{
    (void)B;
    (void)H;
    (void)W;
    (void)stride;
    (void)pad;
    int K = Cin * k * k;
    if (K <= 0) return 16;
    return 16 + NR_OPS_MAX_THREADS * slot_floats(K);
}

/* ---- im2col ---- */

/* dst[0..len) = relu?(src[0..len)); plain loops the compiler vectorises. */
static void copy_row(float *restrict dst, const float *restrict src, int len, int relu)
{
    if (relu)
        for (int t = 0; t < len; t++) {
            float v = src[t];
            dst[t] = v < 0.0f ? 0.0f : v;
        }
    else
        for (int t = 0; t < len; t++) dst[t] = src[t];
}

/* One im2col row segment: dst[t] = x(hi, wi0 + t*stride), t < len, zero outside the image. */
static void gather_row(float *restrict dst, const float *restrict plane, int H, int W, int hi,
                       int wi0, int stride, int len, int relu)
{
    if (hi < 0 || hi >= H) {
        memset(dst, 0, (size_t)len * sizeof(float));
        return;
    }
    const float *src = plane + (size_t)hi * W;
    if (stride == 1) {
        int lo = wi0 < 0 ? -wi0 : 0;
        int hi_t = W - wi0 < len ? W - wi0 : len;
        if (lo > len) lo = len;
        if (hi_t < lo) hi_t = lo;
        for (int t = 0; t < lo; t++) dst[t] = 0.0f;
        if (hi_t > lo) copy_row(dst + lo, src + wi0 + lo, hi_t - lo, relu);
        for (int t = hi_t; t < len; t++) dst[t] = 0.0f;
        return;
    }
    for (int t = 0; t < len; t++) {
        int wi = wi0 + t * stride;
        float v = wi >= 0 && wi < W ? src[wi] : 0.0f;
        dst[t] = relu && v < 0.0f ? 0.0f : v;
    }
}

void nr_im2col(float *col, const float *img, int Cin, int H, int W, int k, int stride, int pad)
{
    int Ho = out_dim(H, k, stride, pad), Wo = out_dim(W, k, stride, pad);
    size_t HWo = (size_t)Ho * Wo;
    for (int ci = 0; ci < Cin; ci++) {
        const float *plane = img + (size_t)ci * H * W;
        for (int kh = 0; kh < k; kh++)
            for (int kw = 0; kw < k; kw++) {
                float *row = col + ((size_t)(ci * k + kh) * k + kw) * HWo;
                for (int ho = 0; ho < Ho; ho++)
                    gather_row(row + (size_t)ho * Wo, plane, H, W, ho * stride - pad + kh,
                               -pad + kw, stride, Wo, 0);
            }
    }
}

/* ---- the default (panel) strategy ---- */

typedef struct conv_job {
    float *out;
    const float *in, *w;
    int Cin, H, W, Cout, k, stride, pad, Ho, Wo, K, relu, direct;
    long npanels; /* panels per image */
    float *ws;    /* 64-byte aligned, NR_OPS_MAX_THREADS slots of slot_floats(K) */
    size_t slot;
    nr_ukr_fn ukr;
} conv_job;

/* Panel rows p0..p0+kcb-1, columns j0..j0+n-1 of one image's im2col matrix, row stride ldb. */
static void pack_panel(const conv_job *J, float *restrict bp, long ldb, const float *img, int j0,
                       int n, int p0, int kcb)
{
    struct {
        int ho, wo, len, off;
    } seg[NR_UKR_NR];
    int nseg = 0;
    for (int j = j0; j < j0 + n;) {
        int ho = j / J->Wo, wo = j - ho * J->Wo;
        int len = J->Wo - wo < j0 + n - j ? J->Wo - wo : j0 + n - j;
        seg[nseg].ho = ho;
        seg[nseg].wo = wo;
        seg[nseg].len = len;
        seg[nseg].off = j - j0;
        nseg++;
        j += len;
    }
    int k = J->k, kk = k * k, s = J->stride;
    int ci = p0 / kk, r = p0 % kk, kh = r / k, kw = r % k;
    size_t plane_sz = (size_t)J->H * J->W;
    for (int pp = 0; pp < kcb; pp++) {
        float *row = bp + (long)pp * ldb;
        const float *plane = img + (size_t)ci * plane_sz;
        for (int q = 0; q < nseg; q++)
            gather_row(row + seg[q].off, plane, J->H, J->W, seg[q].ho * s - J->pad + kh,
                       seg[q].wo * s - J->pad + kw, s, seg[q].len, J->relu);
        if (++kw == k) {
            kw = 0;
            if (++kh == k) {
                kh = 0;
                ci++;
            }
        }
    }
}

#ifdef __AVX512F__
/* Stride-1 gather, AVX-512.  The panel's 16-column vectors split into segments that lie in
 * one output row; for each tap (kh, kw) a segment is one masked load of its in-bounds
 * pixels (count mask) placed into its lanes (expand mask; zero lanes = padding).  The
 * table depends on (kh, kw) only, so it is built once per panel and reused for every ci. */
typedef struct seg_tap {
    int off;                    /* offset in the input plane; -1: the row is padding */
    __mmask16 cmask, emask;     /* elements to load; lanes they go to */
} seg_tap;

#define MAX_TAPS 49 /* k <= 7; larger kernels take the generic path */

static void pack_panel_s1(const conv_job *J, float *restrict bp, long ldb, const float *img,
                          int j0, int n, int p0, int kcb)
{
    int nvec = (n + 15) / 16, k = J->k, kk = k * k, H = J->H, W = J->W, pad = J->pad;
    int vstart[4], nseg = 0;
    struct {
        int ho, wo, o, len;
    } seg[NR_UKR_NR];
    for (int v = 0; v < nvec; v++) {
        vstart[v] = nseg;
        int jend = j0 + 16 * v + 16 < j0 + n ? j0 + 16 * v + 16 : j0 + n;
        for (int j = j0 + 16 * v; j < jend;) {
            int ho = j / J->Wo, wo = j - ho * J->Wo;
            int len = J->Wo - wo < jend - j ? J->Wo - wo : jend - j;
            seg[nseg].ho = ho;
            seg[nseg].wo = wo;
            seg[nseg].o = j - (j0 + 16 * v);
            seg[nseg].len = len;
            nseg++;
            j += len;
        }
    }
    vstart[nvec] = nseg;
    seg_tap tab[MAX_TAPS * NR_UKR_NR];
    for (int r = 0; r < kk; r++) {
        int kh = r / k, kw = r % k;
        for (int q = 0; q < nseg; q++) {
            seg_tap *e = &tab[r * nseg + q];
            int hi = seg[q].ho - pad + kh, wi0 = seg[q].wo - pad + kw, len = seg[q].len;
            int lo = wi0 < 0 ? -wi0 : 0, hi_t = W - wi0 < len ? W - wi0 : len;
            if (hi < 0 || hi >= H || hi_t <= lo) {
                e->off = -1;
                e->cmask = e->emask = 0;
                continue;
            }
            e->off = hi * W + wi0 + lo;
            e->cmask = (__mmask16)((1u << (hi_t - lo)) - 1u);
            e->emask = (__mmask16)(((1u << (hi_t - lo)) - 1u) << (seg[q].o + lo));
        }
    }
    const __m512 zero = _mm512_setzero_ps();
    size_t plane_sz = (size_t)H * W;
    int ci = p0 / kk, r = p0 % kk;
    for (int pp = 0; pp < kcb; pp++) {
        const float *plane = img + (size_t)ci * plane_sz;
        const seg_tap *e = &tab[r * nseg];
        float *row = bp + (long)pp * ldb;
        for (int v = 0; v < nvec; v++) {
            __m512 x = zero;
            for (int q = vstart[v]; q < vstart[v + 1]; q++) {
                if (e[q].off < 0) continue;
                __m512 y = _mm512_maskz_loadu_ps(e[q].cmask, plane + e[q].off);
                x = e[q].emask == e[q].cmask ? _mm512_mask_mov_ps(x, e[q].cmask, y)
                                             : _mm512_mask_expand_ps(x, e[q].emask, y);
            }
            if (J->relu) x = _mm512_max_ps(zero, x); /* max(0, NaN) = NaN */
            _mm512_store_ps(row + 16 * v, x);
        }
        if (++r == kk) {
            r = 0;
            ci++;
        }
    }
}
#endif

static void conv_task(void *ctx, long task, int tid)
{
    const conv_job *J = ctx;
    long b = task / J->npanels;
    int j0 = (int)(task % J->npanels) * NR_UKR_NR;
    int HWo = J->Ho * J->Wo;
    int n = HWo - j0 < NR_UKR_NR ? HWo - j0 : NR_UKR_NR;
    const float *img = J->in + (size_t)b * J->Cin * J->H * J->W;
    float *outb = J->out + (size_t)b * J->Cout * HWo + j0;
    int K = J->K;
    if (J->direct) { /* 1x1, stride 1, no padding: B = the input rows themselves */
        for (int i0 = 0; i0 < J->Cout; i0 += NR_UKR_MR) {
            int m = J->Cout - i0 < NR_UKR_MR ? J->Cout - i0 : NR_UKR_MR;
            J->ukr(m, n, K, J->w + (size_t)i0 * K, K, 1, img + j0, HWo, outb + (size_t)i0 * HWo,
                   HWo, 1, 1.0f, 0.0f);
        }
        return;
    }
    float *bp = J->ws + (size_t)tid * J->slot;
    long ldb = (n + 15) / 16 * 16;
    for (int p0 = 0; p0 < K; p0 += CONV_KC) {
        int kcb = K - p0 < CONV_KC ? K - p0 : CONV_KC;
#ifdef __AVX512F__
        if (J->stride == 1 && J->k * J->k <= MAX_TAPS)
            pack_panel_s1(J, bp, ldb, img, j0, n, p0, kcb);
        else
#endif
            pack_panel(J, bp, ldb, img, j0, n, p0, kcb);
        for (int i0 = 0; i0 < J->Cout; i0 += NR_UKR_MR) {
            int m = J->Cout - i0 < NR_UKR_MR ? J->Cout - i0 : NR_UKR_MR;
            J->ukr(m, n, kcb, J->w + (size_t)i0 * K + p0, K, 1, bp, ldb,
                   outb + (size_t)i0 * HWo, HWo, 1, 1.0f, p0 == 0 ? 0.0f : 1.0f);
        }
    }
}

static void conv_forward(float *out, const float *in, const float *w, int B, int Cin, int H,
                         int W, int Cout, int k, int stride, int pad, float *ws, int relu)
{
    int Ho = out_dim(H, k, stride, pad), Wo = out_dim(W, k, stride, pad);
    if (B <= 0 || Cout <= 0 || Ho <= 0 || Wo <= 0) return;
    size_t HWo = (size_t)Ho * Wo;
    int K = Cin * k * k;
    if (K <= 0) {
        memset(out, 0, (size_t)B * Cout * HWo * sizeof(float));
        return;
    }
    conv_job J = {out, in, w, Cin, H, W, Cout, k, stride, pad, Ho, Wo, K, relu,
                  k == 1 && stride == 1 && pad == 0 && !relu,
                  (long)((HWo + NR_UKR_NR - 1) / NR_UKR_NR), align64(ws), slot_floats(K),
                  nr_ukr_get()};
    nr_parallel_for((long)B * J.npanels, conv_task, &J);
}

void nr_conv2d_forward(float *out, const float *in, const float *w, int B, int Cin, int H,
                       int W, int Cout, int k, int stride, int pad, float *ws)
{
    conv_forward(out, in, w, B, Cin, H, W, Cout, k, stride, pad, ws, 0);
}

void nr_relu_conv2d_forward(float *out, const float *in, const float *w, int B, int Cin, int H,
                            int W, int Cout, int k, int stride, int pad, float *ws)
{
    conv_forward(out, in, w, B, Cin, H, W, Cout, k, stride, pad, ws, 1);
}

/* ---- the alternatives: full im2col + nr_sgemm, per image or per chunk of images ---- */

size_t nr_conv2d_gemm_workspace(int chunk, int Cin, int H, int W, int Cout, int k, int stride,
                                int pad)
{
    size_t HWo = (size_t)out_dim(H, k, stride, pad) * out_dim(W, k, stride, pad);
    size_t K = (size_t)Cin * k * k;
    if (chunk < 1) chunk = 1;
    size_t need = (size_t)chunk * K * HWo;
    if (chunk > 1) need += (size_t)chunk * Cout * HWo;
    return need;
}

void nr_conv2d_forward_gemm(float *out, const float *in, const float *w, int B, int Cin, int H,
                            int W, int Cout, int k, int stride, int pad, int chunk, float *ws)
{
    int Ho = out_dim(H, k, stride, pad), Wo = out_dim(W, k, stride, pad);
    int HWo = Ho * Wo, K = Cin * k * k;
    size_t in_sz = (size_t)Cin * H * W, out_sz = (size_t)Cout * HWo;
    if (chunk < 1) chunk = 1;
    int direct = k == 1 && stride == 1 && pad == 0;
    for (int b0 = 0; b0 < B; b0 += chunk) {
        int nb = B - b0 < chunk ? B - b0 : chunk;
        if (chunk == 1) {
            const float *col = in + (size_t)b0 * in_sz;
            if (!direct) {
                nr_im2col(ws, col, Cin, H, W, k, stride, pad);
                col = ws;
            }
            nr_sgemm(0, 0, Cout, HWo, K, 1.0f, w, K, col, HWo, 0.0f, out + (size_t)b0 * out_sz,
                     HWo);
            continue;
        }
        /* col(K, nb*HWo): image i's columns at i*HWo. */
        size_t ldcol = (size_t)nb * HWo;
        float *tmp = ws + (size_t)chunk * K * HWo;
        for (int i = 0; i < nb; i++) {
            const float *img = in + (size_t)(b0 + i) * in_sz;
            if (direct)
                for (int p = 0; p < K; p++)
                    memcpy(ws + p * ldcol + (size_t)i * HWo, img + (size_t)p * HWo,
                           (size_t)HWo * sizeof(float));
            else
                for (int ci = 0; ci < Cin; ci++)
                    for (int kh = 0; kh < k; kh++)
                        for (int kw = 0; kw < k; kw++) {
                            float *row = ws + ((size_t)(ci * k + kh) * k + kw) * ldcol +
                                         (size_t)i * HWo;
                            for (int ho = 0; ho < Ho; ho++)
                                gather_row(row + (size_t)ho * Wo, img + (size_t)ci * H * W, H,
                                           W, ho * stride - pad + kh, -pad + kw, stride, Wo, 0);
                        }
        }
        nr_sgemm(0, 0, Cout, (int)ldcol, K, 1.0f, w, K, ws, (int)ldcol, 0.0f, tmp, (int)ldcol);
        for (int i = 0; i < nb; i++)
            for (int co = 0; co < Cout; co++)
                memcpy(out + (size_t)(b0 + i) * out_sz + (size_t)co * HWo,
                       tmp + (size_t)co * ldcol + (size_t)i * HWo, (size_t)HWo * sizeof(float));
    }
}
