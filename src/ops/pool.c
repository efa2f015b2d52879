/* nasrank — average pooling (NCHW).
 *
 * 3x3, stride 1, pad 1, count_include_pad=False: out = (sum of the in-bounds taps) /
 *   (number of in-bounds taps): the interior divides by 9, edges by 6, corners by 4.  The
 *   AVX-512 path sums separably (3-tap row sums, then 3 of those) and multiplies by the
 *   reciprocal count: within an ulp or two of PyTorch's sequential sum and division.
 * 2x2, stride 2: out = ((x00 + x01) + x10 + x11) * 0.25, Ho = H/2, Wo = W/2 (floor).
 * Global: out[b][c] = (sum over HW in double) / HW.
 * Planes (b, c) are grouped into tasks on the thread pool.
 */
#include "ops/cpu.h"
#include "ops/ops.h"

#define POOL_TASK_FLOATS (1 << 16) /* input floats per task, roughly */

typedef struct pool_job {
    float *out;
    const float *in;
    long planes, per_task;
    int H, W;
} pool_job;

static int planes_per_task(int HW)
{
    int p = POOL_TASK_FLOATS / (HW > 0 ? HW : 1);
    return p < 1 ? 1 : p;
}

/* One output of the 3x3 pool at (ho, wo), rows r0..r1, generic (used on the borders). */
static float pool3_at(const float *in, int H, int W, int ho, int wo)
{
    int r0 = ho > 0 ? ho - 1 : 0, r1 = ho < H - 1 ? ho + 1 : H - 1;
    int c0 = wo > 0 ? wo - 1 : 0, c1 = wo < W - 1 ? wo + 1 : W - 1;
    float s = 0.0f;
    for (int r = r0; r <= r1; r++)
        for (int c = c0; c <= c1; c++) s += in[(long)r * W + c];
    return s / (float)((r1 - r0 + 1) * (c1 - c0 + 1));
}

#ifdef NR_HAVE_X86_SIMD
/* Horizontal 3-tap sum of row x at columns wo..wo+15 (zero outside the row). */
NR_TARGET_AVX512 static inline __m512 hsum3(const float *x, int wo, __mmask16 mc, __mmask16 mr)
{
    __m512 c = _mm512_maskz_loadu_ps(mc, x + wo);
    __m512 l = wo == 0 ? _mm512_castsi512_ps(_mm512_alignr_epi32(
                             _mm512_castps_si512(c), _mm512_setzero_si512(), 15)) /* 0, c0.. */
                       : _mm512_maskz_loadu_ps(mc, x + wo - 1);
    return _mm512_add_ps(_mm512_add_ps(l, c), _mm512_maskz_loadu_ps(mr, x + wo + 1));
}
#endif

#ifdef NR_HAVE_X86_SIMD
/* Separable: per 16-column strip, the 3-tap row sums of rows ho-1, ho, ho+1 roll through
 * registers; out = (their sum) * 1/(rows * cols in bounds).  Returns the first column it
 * left (W: all of them). */
NR_TARGET_AVX512 static int pool3_plane_avx512(float *out, const float *in, int H, int W)
{
    int wo = 0;
    const __m512 z = _mm512_setzero_ps(), one = _mm512_set1_ps(1.0f);
    for (; wo < W; wo += 16) {
        int cnt = W - wo < 16 ? W - wo : 16, rcnt = W - wo - 1 < 16 ? W - wo - 1 : 16;
        __mmask16 mc = (__mmask16)((1u << cnt) - 1u), mr = (__mmask16)((1u << rcnt) - 1u);
        __m512 cols = _mm512_set1_ps(3.0f);
        if (wo == 0) cols = _mm512_mask_sub_ps(cols, 1, cols, one);
        if (W - 1 - wo < 16)
            cols = _mm512_mask_sub_ps(cols, (__mmask16)(1u << (W - 1 - wo)), cols, one);
        const __m512 inv1 = _mm512_div_ps(one, cols);
        const __m512 inv2 = _mm512_div_ps(one, _mm512_mul_ps(cols, _mm512_set1_ps(2.0f)));
        const __m512 inv3 = _mm512_div_ps(one, _mm512_mul_ps(cols, _mm512_set1_ps(3.0f)));
        __m512 hp = z, hc = hsum3(in, wo, mc, mr);
        for (int r = 0; r < H; r++) {
            __m512 hn = r + 1 < H ? hsum3(in + (long)(r + 1) * W, wo, mc, mr) : z;
            int rows = 1 + (r > 0) + (r + 1 < H);
            __m512 sum = _mm512_add_ps(_mm512_add_ps(hp, hc), hn);
            _mm512_mask_storeu_ps(out + (long)r * W + wo, mc,
                                  _mm512_mul_ps(sum, rows == 3 ? inv3 : rows == 2 ? inv2 : inv1));
            hp = hc;
            hc = hn;
        }
    }
    return wo;
}
#endif

static void pool3_plane(float *out, const float *in, int H, int W)
{
    int wo = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) wo = pool3_plane_avx512(out, in, H, W);
#endif
    for (int ho = 0; ho < H; ho++)
        for (int w = wo; w < W; w++) out[(long)ho * W + w] = pool3_at(in, H, W, ho, w);
}

static void pool3_task(void *ctx, long t, int tid)
{
    (void)tid;
    const pool_job *J = ctx;
    long p0 = t * J->per_task, p1 = p0 + J->per_task < J->planes ? p0 + J->per_task : J->planes;
    size_t HW = (size_t)J->H * J->W;
    for (long p = p0; p < p1; p++) pool3_plane(J->out + p * HW, J->in + p * HW, J->H, J->W);
}

void nr_avgpool3x3_forward(float *out, const float *in, int B, int C, int H, int W)
{
    if (B <= 0 || C <= 0 || H <= 0 || W <= 0) return;
    pool_job J = {out, in, (long)B * C, planes_per_task(H * W), H, W};
    nr_parallel_for((J.planes + J.per_task - 1) / J.per_task, pool3_task, &J);
}

#ifdef NR_HAVE_X86_SIMD
/* The whole 16-blocks of one output row of the 2x2 pool; returns how far it got. */
NR_TARGET_AVX512 static int pool2_row_avx512(float *o, const float *x0, const float *x1, int Wo)
{
    int wo = 0;
    const __m512i ev = _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26,
                                         28, 30);
    const __m512i od = _mm512_setr_epi32(1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23, 25, 27,
                                         29, 31);
    const __m512 q = _mm512_set1_ps(0.25f);
    for (; wo + 16 <= Wo; wo += 16) {
        __m512 a0 = _mm512_loadu_ps(x0 + 2 * wo), b0 = _mm512_loadu_ps(x0 + 2 * wo + 16);
        __m512 a1 = _mm512_loadu_ps(x1 + 2 * wo), b1 = _mm512_loadu_ps(x1 + 2 * wo + 16);
        __m512 s = _mm512_add_ps(_mm512_permutex2var_ps(a0, ev, b0),
                                 _mm512_permutex2var_ps(a0, od, b0));
        s = _mm512_add_ps(s, _mm512_permutex2var_ps(a1, ev, b1));
        s = _mm512_add_ps(s, _mm512_permutex2var_ps(a1, od, b1));
        _mm512_storeu_ps(o + wo, _mm512_mul_ps(s, q));
    }
    return wo;
}
#endif

static void pool2_plane(float *out, const float *in, int H, int W)
{
    int Ho = H / 2, Wo = W / 2;
    int avx512 = nr_isa_avx512();
    (void)avx512;
    for (int ho = 0; ho < Ho; ho++) {
        const float *x0 = in + (long)(2 * ho) * W, *x1 = x0 + W;
        float *o = out + (long)ho * Wo;
        int wo = 0;
#ifdef NR_HAVE_X86_SIMD
        if (avx512) wo = pool2_row_avx512(o, x0, x1, Wo);
#endif
        for (; wo < Wo; wo++) {
            float s = x0[2 * wo] + x0[2 * wo + 1];
            s += x1[2 * wo];
            s += x1[2 * wo + 1];
            o[wo] = s * 0.25f;
        }
    }
}

static void pool2_task(void *ctx, long t, int tid)
{
    (void)tid;
    const pool_job *J = ctx;
    long p0 = t * J->per_task, p1 = p0 + J->per_task < J->planes ? p0 + J->per_task : J->planes;
    size_t HW = (size_t)J->H * J->W, HWo = (size_t)(J->H / 2) * (J->W / 2);
    for (long p = p0; p < p1; p++) pool2_plane(J->out + p * HWo, J->in + p * HW, J->H, J->W);
}

void nr_avgpool2x2_forward(float *out, const float *in, int B, int C, int H, int W)
{
    if (B <= 0 || C <= 0 || H < 2 || W < 2) return;
    pool_job J = {out, in, (long)B * C, planes_per_task(H * W), H, W};
    nr_parallel_for((J.planes + J.per_task - 1) / J.per_task, pool2_task, &J);
}

void nr_global_avgpool_forward(float *out, const float *in, int B, int C, int HW)
{
    if (B <= 0 || C <= 0 || HW <= 0) return;
    long planes = (long)B * C;
    for (long p = 0; p < planes; p++) {
        const float *x = in + p * (size_t)HW;
        double s[4] = {0.0, 0.0, 0.0, 0.0};
        int i = 0;
        for (; i + 4 <= HW; i += 4)
            for (int l = 0; l < 4; l++) s[l] += x[i + l];
        for (; i < HW; i++) s[0] += x[i];
        out[p] = (float)(((s[0] + s[1]) + (s[2] + s[3])) / HW);
    }
}
