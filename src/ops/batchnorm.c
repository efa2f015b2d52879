/* nasrank — train-mode batch normalisation (forward).
 *
 * Per channel c over the B*HW values x:
 *   mean = sum(x) / n,  var = sum((x - mean)^2) / n  (biased, as PyTorch normalises),
 *   out = (x - mean) * (gamma[c] / sqrt(var + eps)) + beta[c].
 * The statistics are accumulated in double in one pass over (x - s), s = the channel's first
 * value (a shift that keeps E[d^2] - E[d]^2 free of cancellation), in 32 fixed lanes; then
 * one pass writes out.  Groups of channels are tasks on the thread pool; each channel's sums
 * run in the same order whatever the thread count.  The output pass subtracts the mean as a
 * float pair (hi + lo), so channels with |mean| >> std keep full precision.
 */
#include <math.h>
#include <string.h>
#include "ops/cpu.h"
#include "ops/ops.h"

typedef struct bn_job {
    float *out, *mean, *rstd;
    const float *in, *gamma, *beta;
    int B, C, HW;
    float eps;
    int group; /* channels per task */
    /* scatter mode (dst != NULL): channel c goes to dst[c / Cs], channel c % Cs of a
     * (B, Cs, HW) tensor, added when add[c / Cs], else written */
    float *const *dst;
    const int *add;
    int Cs;
} bn_job;

#define LANES 32

/* Per-channel running sums: lane l holds the elements i = l (mod LANES) of every segment,
 * added in order b = 0..B-1.  Four independent chains of 8 doubles each way, so the adds do
 * not wait on each other's latency.  The order of every sum depends on (B, HW) alone. */
#define LANES 32
typedef struct chan_acc {
    double s[LANES], q[LANES];
} chan_acc;

#ifdef NR_HAVE_X86_SIMD
/* The whole LANES-blocks of moments; returns how far it got. */
NR_TARGET_AVX512_FMA static int moments_avx512(chan_acc *a, const float *x, int n, double shift)
{
    int i = 0;
    __m512d sv[4], qv[4];
    for (int l = 0; l < 4; l++) {
        sv[l] = _mm512_loadu_pd(a->s + 8 * l);
        qv[l] = _mm512_loadu_pd(a->q + 8 * l);
    }
    const __m512d sh = _mm512_set1_pd(shift);
    for (; i + LANES <= n; i += LANES)
        for (int l = 0; l < 4; l++) {
            __m512d d = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8 * l)), sh);
            sv[l] = _mm512_add_pd(sv[l], d);
            qv[l] = _mm512_fmadd_pd(d, d, qv[l]);
        }
    for (int l = 0; l < 4; l++) {
        _mm512_storeu_pd(a->s + 8 * l, sv[l]);
        _mm512_storeu_pd(a->q + 8 * l, qv[l]);
    }
    return i;
}
#endif

/* Adds one segment x[0..n) (values minus shift) into a. */
static void moments(chan_acc *a, const float *x, int n, double shift)
{
    int i = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) i = moments_avx512(a, x, n, shift);
#endif
    for (; i < n; i++) {
        double d = (double)x[i] - shift;
        a->s[i % LANES] += d;
        a->q[i % LANES] += d * d;
    }
}

#ifdef NR_HAVE_X86_SIMD
/* The whole 16-blocks of normalise (add = 0) or normalise_add (add = 1); returns how far. */
NR_TARGET_AVX512_FMA static int normalise_avx512(float *out, const float *in, int n, float mh, float ml,
                                                 float a, float b, int add)
{
    int i = 0;
    const __m512 vh = _mm512_set1_ps(mh), vl = _mm512_set1_ps(ml), va = _mm512_set1_ps(a),
                 vb = _mm512_set1_ps(b);
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(in + i), vh), vl);
        __m512 y = _mm512_fmadd_ps(d, va, vb);
        _mm512_storeu_ps(out + i, add ? _mm512_add_ps(_mm512_loadu_ps(out + i), y) : y);
    }
    return i;
}
#endif

/* out = ((x - mh) - ml) * a + b, out may equal in.  The mean is split into float parts
 * mh + ml so that a mean far from zero costs no accuracy (x - mh is exact near the mean). */
static void normalise(float *out, const float *in, int n, float mh, float ml, float a, float b)
{
    int i = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) i = normalise_avx512(out, in, n, mh, ml, a, b, 0);
#endif
    for (; i < n; i++) out[i] = ((in[i] - mh) - ml) * a + b;
}

/* out += ((x - mh) - ml) * a + b */
static void normalise_add(float *out, const float *in, int n, float mh, float ml, float a, float b)
{
    int i = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) i = normalise_avx512(out, in, n, mh, ml, a, b, 1);
#endif
    for (; i < n; i++) out[i] += ((in[i] - mh) - ml) * a + b;
}

/* At most this many channels per task (the stack holds their sums). */
#define BN_GROUP 64

/* A group of channels: one sweep over the images for the sums (each image's segments of
 * the group are contiguous: long sequential runs, which DRAM needs once the tensor outgrows
 * the caches; one channel at a time strides through memory, 2-3x slower when measured),
 * the statistics, then one sweep writing out.  A channel's result does not depend on the
 * group it is in, so the groups are sized by the thread count. */
static void bn_task(void *ctx, long t, int tid)
{
    (void)tid;
    const bn_job *J = ctx;
    int c0 = (int)t * J->group, G = J->C - c0 < J->group ? J->C - c0 : J->group;
    size_t stride = (size_t)J->C * J->HW;
    chan_acc acc[BN_GROUP];
    double shift[BN_GROUP];
    float mh[BN_GROUP], ml[BN_GROUP], a[BN_GROUP], be[BN_GROUP];
    memset(acc, 0, sizeof acc);
    for (int g = 0; g < G; g++) shift[g] = J->in[(size_t)(c0 + g) * J->HW];
    for (int b = 0; b < J->B; b++)
        for (int g = 0; g < G; g++)
            moments(&acc[g], J->in + b * stride + (size_t)(c0 + g) * J->HW, J->HW, shift[g]);
    double n = (double)J->B * J->HW;
    for (int g = 0; g < G; g++) {
        int c = c0 + g;
        double S = 0.0, Q = 0.0;
        for (int l = 0; l < LANES; l++) {
            S += acc[g].s[l];
            Q += acc[g].q[l];
        }
        double dm = S / n, var = Q / n - dm * dm;
        if (var < 0.0) var = 0.0;
        double mean = shift[g] + dm, rstd = 1.0 / sqrt(var + (double)J->eps);
        a[g] = (float)((J->gamma ? J->gamma[c] : 1.0f) * rstd);
        be[g] = J->beta ? J->beta[c] : 0.0f;
        mh[g] = (float)mean;
        ml[g] = (float)(mean - mh[g]);
        if (J->mean) J->mean[c] = mh[g];
        if (J->rstd) J->rstd[c] = (float)rstd;
    }
    for (int b = 0; b < J->B; b++)
        for (int g = 0; g < G; g++) {
            size_t off = b * stride + (size_t)(c0 + g) * J->HW;
            if (!J->dst) {
                normalise(J->out + off, J->in + off, J->HW, mh[g], ml[g], a[g], be[g]);
                continue;
            }
            int c = c0 + g, slot = c / J->Cs;
            float *o = J->dst[slot] + ((size_t)b * J->Cs + (size_t)(c % J->Cs)) * J->HW;
            if (J->add[slot]) normalise_add(o, J->in + off, J->HW, mh[g], ml[g], a[g], be[g]);
            else normalise(o, J->in + off, J->HW, mh[g], ml[g], a[g], be[g]);
        }
}

void nr_batchnorm_forward(float *out, float *mean, float *rstd, const float *in,
                          const float *gamma, const float *beta, int B, int C, int HW, float eps)
{
    if (B <= 0 || C <= 0 || HW <= 0) return;
    bn_job J = {out, mean, rstd, in, gamma, beta, B, C, HW, eps, 1, NULL, NULL, 0};
    int nt = nr_threads_get();
    J.group = (C + nt - 1) / nt;
    if (J.group > BN_GROUP) J.group = BN_GROUP;
    nr_parallel_for((C + J.group - 1) / J.group, bn_task, &J);
}

void nr_batchnorm_scatter(float *const *dst, const int *add, int Cs, const float *in,
                          const float *gamma, const float *beta, int B, int C, int HW, float eps)
{
    if (B <= 0 || C <= 0 || HW <= 0 || Cs <= 0 || C % Cs) return;
    bn_job J = {NULL, NULL, NULL, in, gamma, beta, B, C, HW, eps, 1, dst, add, Cs};
    int nt = nr_threads_get();
    J.group = (C + nt - 1) / nt;
    if (J.group > BN_GROUP) J.group = BN_GROUP;
    nr_parallel_for((C + J.group - 1) / J.group, bn_task, &J);
}
