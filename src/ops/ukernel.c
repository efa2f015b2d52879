/* nasrank — the GEMM micro-kernel: an 8 x 48 block of C held in 24 AVX-512 registers.
 *
 * Per step p of the k loop: load B(p, 0..47) as three 16-float vectors, broadcast
 * A(0..7, p) one at a time, 24 FMAs.  That is 11 loads per 24 FMAs, so the two FMA pipes,
 * not the load ports, set the pace.  Narrow blocks (n <= 16 or n <= 32) use 8 or 16
 * accumulators; partial columns use masked loads and stores (nothing outside the block is
 * read or written); rows i >= m reuse row m-1's pointer and are never stored.
 *
 * The same kernel serves BLIS (gemm.c registers it, A and B packed) and the convolutions
 * (conv.c: A = the weight rows read in place; B = the input itself for 1x1 convs, or the
 * zero-padded image read through per-row offsets, or a gathered im2col panel).
 * A portable C version with the same contract runs on CPUs without AVX-512 (built with
 * target attributes, the AVX-512 code needs no -march flag; the CPU is checked at run time).
 */
#include <stddef.h>

#include "ops/cpu.h"
#include "ops/ops.h"

#define MR NR_UKR_MR

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX512_KERNEL 1
#define TARGET_AVX512 NR_TARGET_AVX512

static TARGET_AVX512 inline __mmask16 col_mask(int n, int v)
{
    int r = n - 16 * v;
    return r >= 16 ? (__mmask16)0xFFFF : r <= 0 ? (__mmask16)0 : (__mmask16)((1u << r) - 1u);
}

/* The kernel body for NV = 1, 2, 3 column vectors; NV is a compile-time constant in each
 * instantiation, so the unused accumulators disappear. */
#define ROWS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7)
#define DECL(i)                                                                               \
    __m512 c##i##0 = _mm512_setzero_ps(), c##i##1 = _mm512_setzero_ps(),                      \
           c##i##2 = _mm512_setzero_ps();                                                     \
    const float *a##i = a + (long)((i) < m ? (i) : m - 1) * a_rs;
#define STEP(i)                                                                               \
    {                                                                                         \
        __m512 ai = _mm512_set1_ps(a##i[p * a_ps]);                                           \
        c##i##0 = _mm512_fmadd_ps(ai, b0, c##i##0);                                           \
        if (NV > 1) c##i##1 = _mm512_fmadd_ps(ai, b1, c##i##1);                              \
        if (NV > 2) c##i##2 = _mm512_fmadd_ps(ai, b2, c##i##2);                              \
    }
#define SPILL(i)                                                                              \
    _mm512_store_ps(&t[i][0], c##i##0);                                                       \
    if (NV > 1) _mm512_store_ps(&t[i][16], c##i##1);                                          \
    if (NV > 2) _mm512_store_ps(&t[i][32], c##i##2);
/* Row i of C, unit column stride: masked stores, C read only when beta != 0. */
#define STORE(i)                                                                              \
    if ((i) < m) {                                                                            \
        float *ci = c + (long)(i) * rs_c;                                                     \
        if (beta == 0.0f) {                                                                   \
            _mm512_mask_storeu_ps(ci, k0, _mm512_mul_ps(va, c##i##0));                        \
            if (NV > 1) _mm512_mask_storeu_ps(ci + 16, k1, _mm512_mul_ps(va, c##i##1));       \
            if (NV > 2) _mm512_mask_storeu_ps(ci + 32, k2, _mm512_mul_ps(va, c##i##2));       \
        } else {                                                                              \
            _mm512_mask_storeu_ps(                                                            \
                ci, k0,                                                                       \
                _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k0, ci), _mm512_mul_ps(va, c##i##0))); \
            if (NV > 1)                                                                       \
                _mm512_mask_storeu_ps(ci + 16, k1,                                            \
                                      _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k1, ci + 16), \
                                                      _mm512_mul_ps(va, c##i##1)));           \
            if (NV > 2)                                                                       \
                _mm512_mask_storeu_ps(ci + 32, k2,                                            \
                                      _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(k2, ci + 32), \
                                                      _mm512_mul_ps(va, c##i##2)));           \
        }                                                                                     \
    }

/* BROW(p): the start of B's row p, either b + p*ldb or b + boff[p]. */
#define DEFINE_UKR(NAME, NVV, BROW)                                                            \
    static TARGET_AVX512 void NAME(int m, int n, long k, const float *a, long a_rs, long a_ps, \
                                   const float *b, long ldb, const int *boff, float *c,       \
                                   long rs_c, long cs_c, float alpha, float beta)             \
    {                                                                                         \
        enum { NV = NVV };                                                                    \
        (void)ldb;                                                                            \
        (void)boff;                                                                           \
        const __mmask16 k0 = col_mask(n, 0), k1 = col_mask(n, 1), k2 = col_mask(n, 2);        \
        ROWS(DECL)                                                                            \
        for (long p = 0; p < k; p++) {                                                        \
            const float *bp = BROW(p);                                                        \
            __m512 b0 = _mm512_maskz_loadu_ps(k0, bp), b1 = b0, b2 = b0;                      \
            if (NV > 1) b1 = _mm512_maskz_loadu_ps(k1, bp + 16);                              \
            if (NV > 2) b2 = _mm512_maskz_loadu_ps(k2, bp + 32);                              \
            ROWS(STEP)                                                                        \
            (void)b1;                                                                         \
            (void)b2;                                                                         \
        }                                                                                     \
        const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);                   \
        if (cs_c == 1) {                                                                      \
            ROWS(STORE)                                                                       \
            return;                                                                           \
        }                                                                                     \
        float t[MR][NR_UKR_NR] __attribute__((aligned(64)));                                  \
        ROWS(SPILL)                                                                           \
        for (int i = 0; i < m; i++)                                                           \
            for (int j = 0; j < n; j++) {                                                     \
                float *cij = c + (long)i * rs_c + (long)j * cs_c;                             \
                float v = alpha * t[i][j];                                                    \
                *cij = beta == 0.0f ? v : v + beta * *cij;                                    \
            }                                                                                 \
    }

#define BROW_LD(p) (b + (p) * ldb)
#define BROW_OFF(p) (b + boff[p])
DEFINE_UKR(ukr_avx512_nv1, 1, BROW_LD)
DEFINE_UKR(ukr_avx512_nv2, 2, BROW_LD)
DEFINE_UKR(ukr_avx512_nv3, 3, BROW_LD)
DEFINE_UKR(ukr_avx512_off_nv1, 1, BROW_OFF)
DEFINE_UKR(ukr_avx512_off_nv2, 2, BROW_OFF)
DEFINE_UKR(ukr_avx512_off_nv3, 3, BROW_OFF)

static void ukr_avx512(int m, int n, long k, const float *a, long a_rs, long a_ps,
                       const float *b, long ldb, const int *boff, float *c, long rs_c, long cs_c,
                       float alpha, float beta)
{
    if (m <= 0 || n <= 0) return;
    if (boff) {
        if (n <= 16)
            ukr_avx512_off_nv1(m, n, k, a, a_rs, a_ps, b, ldb, boff, c, rs_c, cs_c, alpha, beta);
        else if (n <= 32)
            ukr_avx512_off_nv2(m, n, k, a, a_rs, a_ps, b, ldb, boff, c, rs_c, cs_c, alpha, beta);
        else
            ukr_avx512_off_nv3(m, n, k, a, a_rs, a_ps, b, ldb, boff, c, rs_c, cs_c, alpha, beta);
    } else if (n <= 16)
        ukr_avx512_nv1(m, n, k, a, a_rs, a_ps, b, ldb, boff, c, rs_c, cs_c, alpha, beta);
    else if (n <= 32)
        ukr_avx512_nv2(m, n, k, a, a_rs, a_ps, b, ldb, boff, c, rs_c, cs_c, alpha, beta);
    else
        ukr_avx512_nv3(m, n, k, a, a_rs, a_ps, b, ldb, boff, c, rs_c, cs_c, alpha, beta);
}
#endif

/* Portable version: same contract and k order (multiply and add rounded separately). */
static void ukr_portable(int m, int n, long k, const float *a, long a_rs, long a_ps,
                         const float *b, long ldb, const int *boff, float *c, long rs_c,
                         long cs_c, float alpha, float beta)
{
    float acc[MR][NR_UKR_NR];
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) acc[i][j] = 0.0f;
    for (long p = 0; p < k; p++) {
        const float *bp = boff ? b + boff[p] : b + p * ldb;
        for (int i = 0; i < m; i++) {
            float ai = a[i * a_rs + p * a_ps];
            for (int j = 0; j < n; j++) acc[i][j] += ai * bp[j];
        }
    }
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float *cij = c + (long)i * rs_c + (long)j * cs_c;
            float v = alpha * acc[i][j];
            *cij = beta == 0.0f ? v : v + beta * *cij;
        }
}

int nr_ukr_is_avx512(void)
{
#ifdef HAVE_AVX512_KERNEL
    return nr_isa_avx512();
#else
    return 0;
#endif
}

nr_ukr_fn nr_ukr_get(void)
{
#ifdef HAVE_AVX512_KERNEL
    if (nr_ukr_is_avx512()) return ukr_avx512;
#endif
    return ukr_portable;
}

nr_ukr_fn nr_ukr_get_portable(void) { return ukr_portable; }

const char *nr_ukr_name(void)
{
    return nr_ukr_is_avx512() ? "avx512-8x48" : "portable-8x48";
}
