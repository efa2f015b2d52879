/* nasrank — train-mode batch normalisation (forward).
 *
 * Per channel c over the B*HW values x:
 *   mean = sum(x) / n,  var = sum((x - mean)^2) / n  (biased, as PyTorch normalises),
 *   out = (x - mean) * (gamma[c] / sqrt(var + eps)) + beta[c].
 * The statistics are accumulated in double in one pass over (x - s), s = the channel's first
 * value (a shift that keeps E[d^2] - E[d]^2 free of cancellation), in 16 fixed lanes; then
 * one pass writes out.  Channels are tasks on the thread pool; each channel's sums run in
 * the same order whatever the thread count.  The output pass subtracts the mean as a
 * float pair (hi + lo), so channels with |mean| >> std keep full precision.
 */
#include <math.h>
#ifdef __AVX512F__
#include <immintrin.h>
#endif

#include "ops/ops.h"

typedef struct bn_job {
    float *out, *mean, *rstd;
    const float *in, *gamma, *beta;
    int B, C, HW;
    float eps;
} bn_job;

/* Adds sum(d) and sum(d^2), d = x - shift, into the lanes s[16], q[16]. */
static void moments(double *restrict s, double *restrict q, const float *restrict x, int n,
                    double shift)
{
    int i = 0;
#ifdef __AVX512F__
    __m512d s0 = _mm512_loadu_pd(s), s1 = _mm512_loadu_pd(s + 8);
    __m512d q0 = _mm512_loadu_pd(q), q1 = _mm512_loadu_pd(q + 8);
    const __m512d sh = _mm512_set1_pd(shift);
    for (; i + 16 <= n; i += 16) {
        __m512d d0 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i)), sh);
        __m512d d1 = _mm512_sub_pd(_mm512_cvtps_pd(_mm256_loadu_ps(x + i + 8)), sh);
        s0 = _mm512_add_pd(s0, d0);
        s1 = _mm512_add_pd(s1, d1);
        q0 = _mm512_fmadd_pd(d0, d0, q0);
        q1 = _mm512_fmadd_pd(d1, d1, q1);
    }
    _mm512_storeu_pd(s, s0);
    _mm512_storeu_pd(s + 8, s1);
    _mm512_storeu_pd(q, q0);
    _mm512_storeu_pd(q + 8, q1);
#endif
    for (; i < n; i++) {
        double d = (double)x[i] - shift;
        s[i & 15] += d;
        q[i & 15] += d * d;
    }
}

/* out = ((x - mh) - ml) * a + b, out may equal in.  The mean is split into float parts
 * mh + ml so that a mean far from zero costs no accuracy (x - mh is exact near the mean). */
static void normalise(float *out, const float *in, int n, float mh, float ml, float a, float b)
{
    int i = 0;
#ifdef __AVX512F__
    const __m512 vh = _mm512_set1_ps(mh), vl = _mm512_set1_ps(ml), va = _mm512_set1_ps(a),
                 vb = _mm512_set1_ps(b);
    for (; i + 16 <= n; i += 16) {
        __m512 d = _mm512_sub_ps(_mm512_sub_ps(_mm512_loadu_ps(in + i), vh), vl);
        _mm512_storeu_ps(out + i, _mm512_fmadd_ps(d, va, vb));
    }
#endif
    for (; i < n; i++) out[i] = ((in[i] - mh) - ml) * a + b;
}

static void bn_task(void *ctx, long c, int tid)
{
    (void)tid;
    const bn_job *J = ctx;
    size_t stride = (size_t)J->C * J->HW;
    const float *x0 = J->in + (size_t)c * J->HW;
    double shift = x0[0];
    double s[16] = {0}, q[16] = {0};
    for (int b = 0; b < J->B; b++) moments(s, q, x0 + b * stride, J->HW, shift);
    double S = 0.0, Q = 0.0;
    for (int l = 0; l < 16; l++) {
        S += s[l];
        Q += q[l];
    }
    double n = (double)J->B * J->HW;
    double dm = S / n;
    double var = Q / n - dm * dm;
    if (var < 0.0) var = 0.0;
    double mean = shift + dm;
    double rstd = 1.0 / sqrt(var + (double)J->eps);
    float g = J->gamma ? J->gamma[c] : 1.0f, be = J->beta ? J->beta[c] : 0.0f;
    float a = (float)(g * rstd), mh = (float)mean, ml = (float)(mean - mh);
    if (J->mean) J->mean[c] = mh;
    if (J->rstd) J->rstd[c] = (float)rstd;
    for (int b = 0; b < J->B; b++) {
        size_t off = (size_t)b * stride + (size_t)c * J->HW;
        normalise(J->out + off, J->in + off, J->HW, mh, ml, a, be);
    }
}

void nr_batchnorm_forward(float *out, float *mean, float *rstd, const float *in,
                          const float *gamma, const float *beta, int B, int C, int HW, float eps)
{
    if (B <= 0 || C <= 0 || HW <= 0) return;
    bn_job J = {out, mean, rstd, in, gamma, beta, B, C, HW, eps};
    nr_parallel_for(C, bn_task, &J);
}
