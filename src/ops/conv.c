/* nasrank — 2-D convolution (NCHW, no bias) as im2col + GEMM.
 *
 *   out[b][co][ho][wo] = sum_{ci,kh,kw} w[co][ci][kh][kw] * in[b][ci][ho*s-pad+kh][wo*s-pad+kw]
 *
 * i.e. per image out(Cout, Ho*Wo) = w(Cout, K) * col(K, Ho*Wo), K = Cin*k*k, with
 * col[(ci*k+kh)*k+kw][ho*Wo+wo] the input pixel under tap (kh, kw) (zero outside).
 *
 * The full im2col matrix (75 MB for the first NB201 stage at batch 128) never exists.  Each
 * image is one task on the thread pool, and the GEMM runs on the 8x48 micro-kernel
 * (ukernel.c) with w read in place, in one of three modes (choose_mode):
 *   direct    1x1, stride 1, no padding: col is the input itself.
 *   implicit  the image is copied once, zero-padded (and split into stride^2 phase images),
 *             into a per-thread buffer; every row of col is then a contiguous run of that
 *             buffer at a per-row offset (boff), so the kernel reads col in place.  The GEMM
 *             runs over a grid (Ho, Wq) whose Wq - Wo extra columns per row are dropped.
 *   packed    fallback (images too large for a buffer, or mostly junk columns): 48-column
 *             panels of col gathered CONV_KC rows at a time, then multiplied.
 * Measured on the NB201 shapes at batch 128 (benches/bench_ops.c, one Zen 5 core):
 * implicit ~175-185 GFLOP/s for 3x3 stride 1, packed 95-165, im2col + BLIS per image 75-90.
 * Every output element is summed in the order p = 0..K-1 whatever the mode's tiling and
 * the thread count, so results are bit-identical across thread counts.
 */
#include <stdint.h>
#include <string.h>
#include "ops/cpu.h"
#include "ops/ops.h"

#define CONV_KC 256

/* floor((H + 2 pad - k) / stride) + 1, and 0 when the kernel does not fit at all. */
static int out_dim(int H, int k, int stride, int pad)
{
    return H + 2 * pad < k ? 0 : (H + 2 * pad - k) / stride + 1;
}

static float *align64(float *p)
{
    uintptr_t u = (uintptr_t)p;
    return (float *)((u + 63) & ~(uintptr_t)63);
}

/* Implicit mode only when the padded image fits a per-thread slot of this many floats. */
#define IMPLICIT_MAX ((size_t)1 << 17)
/* ... and when at most this fraction of its GEMM columns is junk (see choose_mode). */
#define IMPLICIT_MAX_JUNK 0.3

/* The implicit mode's copy of one image: stride^2 phase images of (Cin, Hq, Wq). */
static size_t phases_floats(int Cin, int H, int W, int stride, int pad)
{
    size_t Hq = (size_t)(H + 2 * pad + stride - 1) / stride;
    size_t Wq = (size_t)(W + 2 * pad + stride - 1) / stride;
    return (size_t)stride * stride * Cin * Hq * Wq;
}

/* Per-thread buffer: a gathered panel (packed mode) or the phase images (implicit mode). */
static size_t slot_floats(int Cin, int H, int W, int k, int stride, int pad)
{
    int K = Cin * k * k;
    size_t kc = K < CONV_KC ? (size_t)K : CONV_KC, n = kc * NR_UKR_NR;
    size_t ph = phases_floats(Cin, H, W, stride, pad);
    if (ph <= IMPLICIT_MAX && ph > n) n = ph;
    return (n + 15) / 16 * 16; /* keeps every slot 64-byte aligned */
}

static size_t boff_floats(int K) { return ((size_t)K * sizeof(int) + 63) / 64 * 16; }

size_t nr_conv2d_workspace(int B, int Cin, int H, int W, int k, int stride, int pad)
{
    (void)B;
    int K = Cin * k * k;
    if (K <= 0) return 16;
    return 16 + boff_floats(K) + NR_OPS_MAX_THREADS * slot_floats(Cin, H, W, k, stride, pad);
}

/* ---- im2col ---- */

#ifdef NR_HAVE_X86_SIMD
/* copy_row in AVX-512, the tail as one masked step (rows of 8 or 16 pixels are common). */
NR_TARGET_AVX512 static void copy_row_avx512(float *restrict dst, const float *restrict src, int len, int relu)
{
    int t = 0;
    const __m512 z = _mm512_setzero_ps();
    for (; t + 16 <= len; t += 16) {
        __m512 v = _mm512_loadu_ps(src + t);
        _mm512_storeu_ps(dst + t, relu ? _mm512_max_ps(z, v) : v); /* max(0, NaN) = NaN */
    }
    if (t < len) {
        __mmask16 m = (__mmask16)((1u << (len - t)) - 1u);
        __m512 v = _mm512_maskz_loadu_ps(m, src + t);
        _mm512_mask_storeu_ps(dst + t, m, relu ? _mm512_max_ps(z, v) : v);
    }
}
#endif

/* dst[0..len) = relu?(src[0..len)). */
static void copy_row(float *restrict dst, const float *restrict src, int len, int relu)
{
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) {
        copy_row_avx512(dst, src, len, relu);
        return;
    }
#endif
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

/* ---- the default strategies ---- */

enum { MODE_DIRECT, MODE_IMPLICIT, MODE_PACKED };

typedef struct conv_job {
    float *out;
    const float *in, *w;
    int Cin, H, W, Cout, k, stride, pad, Ho, Wo, K, relu, mode;
    int Hq, Wq;       /* one phase image (implicit mode): ceil((H + 2 pad) / stride), ... */
    const int *boff;  /* (K) row offsets of the implicit im2col matrix in the padded image */
    float *slots;     /* NR_OPS_MAX_THREADS per-thread buffers of `slot` floats, 64-byte aligned */
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

#ifdef NR_HAVE_X86_SIMD
/* Stride-1 gather, AVX-512.  The panel's 16-column vectors split into segments that lie in
 * one output row; for each tap (kh, kw) a segment is one masked load of its in-bounds
 * pixels (count mask) placed into its lanes (expand mask; zero lanes = padding).  The
 * table depends on (kh, kw) only, so it is built once per panel and reused for every ci. */
typedef struct seg_tap {
    int off;                    /* offset in the input plane; -1: the row is padding */
    __mmask16 cmask, emask;     /* elements to load; lanes they go to */
} seg_tap;

#define MAX_TAPS 49 /* k <= 7; larger kernels take the generic path */

NR_TARGET_AVX512 static void pack_panel_s1(const conv_job *J, float *restrict bp, long ldb,
                                           const float *img, int j0, int n, int p0, int kcb)
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
                const float *src = plane + e[q].off;
                __m512 y = e[q].cmask == 0xFFFF ? _mm512_loadu_ps(src)
                                                : _mm512_maskz_loadu_ps(e[q].cmask, src);
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

/* Packed mode, one panel: gather im2col rows CONV_KC at a time, multiply, accumulate. */
static void panel_packed(const conv_job *J, const float *img, float *outb, int j0, int n,
                         float *bp)
{
    int K = J->K, HWo = J->Ho * J->Wo;
    long ldb = (n + 15) / 16 * 16;
    for (int p0 = 0; p0 < K; p0 += CONV_KC) {
        int kcb = K - p0 < CONV_KC ? K - p0 : CONV_KC;
#ifdef NR_HAVE_X86_SIMD
        if (J->stride == 1 && J->k * J->k <= MAX_TAPS && nr_isa_avx512())
            pack_panel_s1(J, bp, ldb, img, j0, n, p0, kcb);
        else
#endif
            pack_panel(J, bp, ldb, img, j0, n, p0, kcb);
        for (int i0 = 0; i0 < J->Cout; i0 += NR_UKR_MR) {
            int m = J->Cout - i0 < NR_UKR_MR ? J->Cout - i0 : NR_UKR_MR;
            J->ukr(m, n, kcb, J->w + (size_t)i0 * K + p0, K, 1, bp, ldb, NULL,
                   outb + (size_t)i0 * HWo + j0, HWo, 1, 1.0f, p0 == 0 ? 0.0f : 1.0f);
        }
    }
}

/* Implicit mode.  The zero-padded image Xp (Cin, H+2pad, W+2pad) is split into stride^2
 * phase images Q[a][b](ci, y, x) = Xp(ci, y*s + a, x*s + b), each (Cin, Hq, Wq).  Tap
 * (kh, kw) of output (ho, wo) reads Xp(ci, ho*s + kh, wo*s + kw) =
 * Q[kh%s][kw%s](ci, ho + kh/s, wo + kw/s), so im2col row p = (ci, kh, kw) is the buffer
 * read from boff[p] along the flattened grid j = ho*Wq + wo (stride 1: Q = Xp).  Columns
 * wo >= Wo of that grid are junk: each 8 x 48 tile goes to a small buffer and only its
 * valid columns are copied out. */
#ifdef NR_HAVE_X86_SIMD
/* Stride-2 phase row: r[t++] = relu?(x[w]) for w = w0, w0+2, ... while 32 more values
 * fit (the even lanes of two loads); returns the next w, *t the next slot. */
NR_TARGET_AVX512 static int phase2_row_avx512(float *r, const float *x, int w, int W, int relu, int *t)
{
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
    const __m512 z = _mm512_setzero_ps();
    for (; w + 32 <= W; w += 32, *t += 16) {
        __m512 v = _mm512_permutex2var_ps(_mm512_loadu_ps(x + w), ev, _mm512_loadu_ps(x + w + 16));
        _mm512_storeu_ps(r + *t, relu ? _mm512_max_ps(z, v) : v);
    }
    return w;
}
#endif

static void build_phases(const conv_job *J, const float *img, float *Q)
{
    int H = J->H, W = J->W, s = J->stride, pad = J->pad, Hq = J->Hq, Wq = J->Wq;
    size_t plane = (size_t)Hq * Wq, phase = (size_t)J->Cin * plane;
    if (s == 1) { /* zero the border only, copy rows whole */
        for (int ci = 0; ci < J->Cin; ci++) {
            float *q = Q + ci * plane;
            const float *x = img + (size_t)ci * H * W;
            memset(q, 0, (size_t)pad * Wq * sizeof(float));
            for (int h = 0; h < H; h++) {
                float *r = q + (size_t)(h + pad) * Wq;
                for (int t = 0; t < pad; t++) r[t] = 0.0f;
                for (int t = pad + W; t < Wq; t++) r[t] = 0.0f;
                copy_row(r + pad, x + (size_t)h * W, W, J->relu);
            }
            memset(q + (size_t)(H + pad) * Wq, 0, (size_t)(Hq - H - pad) * Wq * sizeof(float));
        }
        return;
    }
    memset(Q, 0, (size_t)s * s * phase * sizeof(float));
    for (int ci = 0; ci < J->Cin; ci++)
        for (int h = 0; h < H; h++) {
            int y = h + pad;
            const float *x = img + ((size_t)ci * H + h) * W;
            for (int b = 0; b < s; b++) {
                /* columns w with (w + pad) % s == b land in phase b at (w + pad) / s */
                int w0 = ((b - pad) % s + s) % s;
                float *r = Q + (size_t)((y % s) * s + b) * phase + ci * plane +
                           (size_t)(y / s) * Wq + (w0 + pad) / s;
                int w = w0, t = 0;
#ifdef NR_HAVE_X86_SIMD
                if (s == 2 && nr_isa_avx512()) w = phase2_row_avx512(r, x, w, W, J->relu, &t);
#endif
                for (; w < W; w += s, t++) {
                    float v = x[w];
                    r[t] = J->relu && v < 0.0f ? 0.0f : v;
                }
            }
        }
}

#ifdef NR_HAVE_X86_SIMD
NR_CLONES_AVX512
#endif
static void image_implicit(const conv_job *J, const float *img, float *outb, float *Q)
{
    build_phases(J, img, Q);
    int Wq = J->Wq, Wo = J->Wo, HWo = J->Ho * Wo, N = (J->Ho - 1) * Wq + Wo;
    float tile[NR_UKR_MR * NR_UKR_NR] __attribute__((aligned(64)));
    for (int j0 = 0; j0 < N; j0 += NR_UKR_NR) {
        int n = N - j0 < NR_UKR_NR ? N - j0 : NR_UKR_NR;
        for (int i0 = 0; i0 < J->Cout; i0 += NR_UKR_MR) {
            int m = J->Cout - i0 < NR_UKR_MR ? J->Cout - i0 : NR_UKR_MR;
            J->ukr(m, n, J->K, J->w + (size_t)i0 * J->K, J->K, 1, Q + j0, 0, J->boff, tile,
                   NR_UKR_NR, 1, 1.0f, 0.0f);
            for (int j = j0; j < j0 + n;) {
                int ho = j / Wq, wo = j - ho * Wq;
                int len = Wq - wo < j0 + n - j ? Wq - wo : j0 + n - j;
                int valid = Wo - wo < len ? Wo - wo : len;
                for (int i = 0; valid > 0 && i < m; i++)
                    memcpy(outb + (size_t)(i0 + i) * HWo + (size_t)ho * Wo + wo,
                           tile + i * NR_UKR_NR + (j - j0), (size_t)valid * sizeof(float));
                j += len;
            }
        }
    }
}

/* One image per task. */
static void conv_task(void *ctx, long b, int tid)
{
    const conv_job *J = ctx;
    int HWo = J->Ho * J->Wo, K = J->K;
    const float *img = J->in + (size_t)b * J->Cin * J->H * J->W;
    float *outb = J->out + (size_t)b * J->Cout * HWo;
    float *slot = J->slots + (size_t)tid * J->slot;
    if (J->mode == MODE_IMPLICIT) {
        image_implicit(J, img, outb, slot);
        return;
    }
    for (int j0 = 0; j0 < HWo; j0 += NR_UKR_NR) {
        int n = HWo - j0 < NR_UKR_NR ? HWo - j0 : NR_UKR_NR;
        if (J->mode == MODE_PACKED) {
            panel_packed(J, img, outb, j0, n, slot);
            continue;
        }
        for (int i0 = 0; i0 < J->Cout; i0 += NR_UKR_MR) { /* direct: B = the input rows */
            int m = J->Cout - i0 < NR_UKR_MR ? J->Cout - i0 : NR_UKR_MR;
            J->ukr(m, n, K, J->w + (size_t)i0 * K, K, 1, img + j0, HWo, NULL,
                   outb + (size_t)i0 * HWo + j0, HWo, 1, 1.0f, 0.0f);
        }
    }
}

static int g_strategy; /* nr_conv2d_set_strategy: 0 automatic, 1 packed, 2 implicit */

void nr_conv2d_set_strategy(int s) { g_strategy = s >= 0 && s <= 2 ? s : 0; }

static int choose_mode(int Cin, int H, int W, int k, int stride, int pad, int relu)
{
    int implicit_ok = phases_floats(Cin, H, W, stride, pad) <= IMPLICIT_MAX;
    if (g_strategy == 1) return MODE_PACKED;
    if (g_strategy == 2 && implicit_ok) return MODE_IMPLICIT;
    if (k == 1 && stride == 1 && pad == 0 && !relu) return MODE_DIRECT;
    if (!implicit_ok) return MODE_PACKED;
    /* Junk columns cost (Wq - Wo) / Wq of the implicit GEMM (NB201: 6% at 32x32, 25% at
     * 8x8); the gathered panels cost ~K*N copies against Cout*K*N FMAs.  Implicit won on
     * every NB201 shape (benches/bench_ops.c); tiny images with wide padding do not. */
    int Wq = (W + 2 * pad + stride - 1) / stride, Wo = out_dim(W, k, stride, pad);
    return (double)(Wq - Wo) / Wq <= IMPLICIT_MAX_JUNK ? MODE_IMPLICIT : MODE_PACKED;
}

static void conv_forward(float *out, const float *in, const float *w, int B, int Cin, int H,
                         int W, int Cout, int k, int stride, int pad, float *ws, int relu)
{
    int Ho = out_dim(H, k, stride, pad), Wo = out_dim(W, k, stride, pad);
    if (B <= 0 || Cout <= 0 || Ho <= 0 || Wo <= 0) return;
    int K = Cin * k * k;
    if (K <= 0) {
        memset(out, 0, (size_t)B * Cout * Ho * Wo * sizeof(float));
        return;
    }
    float *base = align64(ws);
    int *boff = (int *)base;
    conv_job J = {out, in, w, Cin, H, W, Cout, k, stride, pad, Ho, Wo, K, relu,
                  choose_mode(Cin, H, W, k, stride, pad, relu),
                  (H + 2 * pad + stride - 1) / stride, (W + 2 * pad + stride - 1) / stride, boff,
                  base + boff_floats(K), slot_floats(Cin, H, W, k, stride, pad), nr_ukr_get()};
    if (J.mode == MODE_IMPLICIT) {
        int phase = Cin * J.Hq * J.Wq;
        for (int p = 0; p < K; p++) {
            int ci = p / (k * k), kh = p / k % k, kw = p % k;
            boff[p] = ((kh % stride) * stride + kw % stride) * phase +
                      (ci * J.Hq + kh / stride) * J.Wq + kw / stride;
        }
    }
    nr_parallel_for(B, conv_task, &J);
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
