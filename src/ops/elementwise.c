/* nasrank — elementwise kernels: ReLU and in-place add.
 *
 * Both are memory-bound; large tensors are cut into fixed chunks spread over the thread
 * pool (every element is computed the same way whatever the thread count).
 * ReLU: out = x < 0 ? 0 : x, so NaN passes through (as in PyTorch).
 */
#include "ops/cpu.h"
#include "ops/ops.h"

#define EW_CHUNK ((size_t)1 << 16) /* floats per task (256 KB) */

typedef struct ew_job {
    float *out;
    const float *in;
    size_t n;
} ew_job;

/* GCC 12 at -O2 leaves these loops scalar, so they are written out in AVX-512 for CPUs that
 * have it; the portable loop finishes the tail (and is all there is elsewhere). */
#ifdef NR_HAVE_X86_SIMD
NR_TARGET_AVX512 static size_t relu_avx512(float *out, const float *in, size_t n)
{
    size_t i = 0;
    const __m512 z = _mm512_setzero_ps();
    for (; i + 16 <= n; i += 16) {
        __m512 v = _mm512_loadu_ps(in + i);
        _mm512_storeu_ps(out + i, _mm512_mask_mov_ps(v, _mm512_cmp_ps_mask(v, z, _CMP_LT_OQ), z));
    }
    return i;
}

NR_TARGET_AVX512 static size_t add_avx512(float *acc, const float *x, size_t n)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(acc + i, _mm512_add_ps(_mm512_loadu_ps(acc + i), _mm512_loadu_ps(x + i)));
    return i;
}
#endif

static void relu_range(float *out, const float *in, size_t n)
{
    size_t i = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) i = relu_avx512(out, in, n);
#endif
    for (; i < n; i++) {
        float v = in[i];
        out[i] = v < 0.0f ? 0.0f : v;
    }
}

static void relu_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0 = (size_t)t * EW_CHUNK, n = J->n - i0 < EW_CHUNK ? J->n - i0 : EW_CHUNK;
    relu_range(J->out + i0, J->in + i0, n); /* element i reads in[i] before writing out[i] */
}

/* acc may equal x. */
static void add_range(float *acc, const float *x, size_t n)
{
    size_t i = 0;
#ifdef NR_HAVE_X86_SIMD
    if (nr_isa_avx512()) i = add_avx512(acc, x, n);
#endif
    for (; i < n; i++) acc[i] += x[i];
}

static void add_task(void *ctx, long t, int tid)
{
    (void)tid;
    const ew_job *J = ctx;
    size_t i0 = (size_t)t * EW_CHUNK, n = J->n - i0 < EW_CHUNK ? J->n - i0 : EW_CHUNK;
    add_range(J->out + i0, J->in + i0, n);
}

void nr_relu_forward(float *out, const float *in, size_t n)
{
    ew_job J = {out, in, n};
    nr_parallel_for((long)((n + EW_CHUNK - 1) / EW_CHUNK), relu_task, &J);
}

void nr_add_inplace(float *acc, const float *x, size_t n)
{
    ew_job J = {acc, x, n};
    nr_parallel_for((long)((n + EW_CHUNK - 1) / EW_CHUNK), add_task, &J);
}
