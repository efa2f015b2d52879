/* NASWOT kernel accumulation: binary codes packed 64 per word, agreement counted as
 * units - popcount(c_i XOR c_j), exact in int64. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/score.h"
#include "ops/cpu.h"

struct nr_naswot {
    int B;
    nr_naswot_variant variant;
    int64_t *K;          /* (B, B) */
    uint64_t *codes;     /* (B, words) packed codes of the current activation */
    size_t words_cap;    /* capacity per image, in words */
    int *weights;        /* graph sink: counted ReLU modules per layer (nr_naswot_bind) */
    int weights_n;
    nr_status failed;    /* first error seen inside the sink (it cannot return one) */
    char fail_text[160];
};

nr_status nr_naswot_create(int B, nr_naswot_variant variant, nr_naswot **out, nr_error *err)
{
    *out = NULL;
    if (B < 1 || B > 65536)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NASWOT batch size %d out of range", B);
    nr_naswot *nw = calloc(1, sizeof *nw);
    if (!nw || !(nw->K = calloc((size_t)B * B, sizeof *nw->K))) {
        free(nw);
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for a %dx%d kernel", B, B);
    }
    nw->B = B;
    nw->variant = variant;
    *out = nw;
    return NR_OK;
}

void nr_naswot_free(nr_naswot *nw)
{
    if (!nw) return;
    free(nw->K);
    free(nw->codes);
    free(nw->weights);
    free(nw);
}

void nr_naswot_reset(nr_naswot *nw)
{
    memset(nw->K, 0, (size_t)nw->B * nw->B * sizeof *nw->K);
    nw->failed = NR_OK;
    nw->fail_text[0] = '\0';
}

/* Bit k of word w of an image's code is (x[64w + k] > 0); bits past `units` stay 0, so they
 * never count as disagreements. */
static void pack_codes_scalar(uint64_t *dst, const float *x, size_t units, size_t words)
{
    for (size_t w = 0; w < words; w++) {
        uint64_t bits = 0;
        size_t end = units - w * 64 < 64 ? units - w * 64 : 64;
        for (size_t k = 0; k < end; k++) bits |= (uint64_t)(x[w * 64 + k] > 0.0f) << k;
        dst[w] = bits;
    }
}

/* Hamming distance of two codes. */
static int64_t hamming_scalar(const uint64_t *a, const uint64_t *b, size_t words)
{
    int64_t h = 0;
    for (size_t w = 0; w < words; w++) h += __builtin_popcountll(a[w] ^ b[w]);
    return h;
}

#if defined(__GNUC__) && defined(__x86_64__)
#include <immintrin.h>
#define HAVE_AVX512_CODES 1
/* The same two functions with AVX-512: a compare yields 16 code bits at once, and
 * VPOPCNTQ counts 8 words at once.  Chosen at run time (nr_naswot_create). */
__attribute__((target("avx512f")))
static void pack_codes_avx512(uint64_t *dst, const float *x, size_t units, size_t words)
{
    size_t full = units / 64;
    __m512 zero = _mm512_setzero_ps();
    for (size_t w = 0; w < full; w++) {
        const float *p = x + w * 64;
        uint64_t m0 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p), zero, _CMP_GT_OQ);
        uint64_t m1 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + 16), zero, _CMP_GT_OQ);
        uint64_t m2 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + 32), zero, _CMP_GT_OQ);
        uint64_t m3 = _mm512_cmp_ps_mask(_mm512_loadu_ps(p + 48), zero, _CMP_GT_OQ);
        dst[w] = m0 | m1 << 16 | m2 << 32 | m3 << 48;
    }
    if (full < words) pack_codes_scalar(dst + full, x + full * 64, units - full * 64, words - full);
}

__attribute__((target("avx512f,avx512vpopcntdq")))
static int64_t hamming_avx512(const uint64_t *a, const uint64_t *b, size_t words)
{
    __m512i acc = _mm512_setzero_si512();
    size_t w = 0;
    for (; w + 8 <= words; w += 8) {
        __m512i x = _mm512_xor_si512(_mm512_loadu_si512(a + w), _mm512_loadu_si512(b + w));
        acc = _mm512_add_epi64(acc, _mm512_popcnt_epi64(x));
    }
    return _mm512_reduce_add_epi64(acc) + hamming_scalar(a + w, b + w, words - w);
}
#endif

typedef void (*pack_fn)(uint64_t *, const float *, size_t, size_t);
typedef int64_t (*hamming_fn)(const uint64_t *, const uint64_t *, size_t);

static pack_fn pick_pack(void)
{
#ifdef HAVE_AVX512_CODES
    if (nr_isa_avx512()) return pack_codes_avx512;
#endif
    return pack_codes_scalar;
}

static hamming_fn pick_hamming(void)
{
#ifdef HAVE_AVX512_CODES
    if (nr_isa_avx512() && __builtin_cpu_supports("avx512vpopcntdq")) return hamming_avx512;
#endif
    return hamming_scalar;
}

/* K += weight * (units - Hamming) for the codes of x (B images of `units` values each). */
static void accumulate(nr_naswot *nw, const float *x, int B, size_t units, int weight)
{
    if (nw->failed || weight <= 0) return;
    if (B != nw->B) {
        nw->failed = NR_ERR_INVALID;
        snprintf(nw->fail_text, sizeof nw->fail_text, "activation batch %d != kernel batch %d", B, nw->B);
        return;
    }
    size_t words = (units + 63) / 64;
    if (words > nw->words_cap) {
        uint64_t *c = realloc(nw->codes, (size_t)nw->B * words * sizeof *c);
        if (!c) {
            nw->failed = NR_ERR_NOMEM;
            snprintf(nw->fail_text, sizeof nw->fail_text, "out of memory packing %zu units", units);
            return;
        }
        nw->codes = c;
        nw->words_cap = words;
    }
    pack_fn pack = pick_pack();
    hamming_fn hamming = pick_hamming();
    for (int i = 0; i < B; i++) pack(nw->codes + (size_t)i * words, x + (size_t)i * units, units, words);
    for (int i = 0; i < B; i++) {
        const uint64_t *ci = nw->codes + (size_t)i * words;
        nw->K[(size_t)i * B + i] += (int64_t)weight * (int64_t)units;
        for (int j = i + 1; j < B; j++) {
            int64_t ham = hamming(ci, nw->codes + (size_t)j * words, words);
            int64_t agree = (int64_t)weight * ((int64_t)units - ham);
            nw->K[(size_t)i * B + j] += agree;
            nw->K[(size_t)j * B + i] += agree;
        }
    }
}

void nr_naswot_sink(void *ctx, const nr_activation *act)
{
    nr_naswot *nw = ctx;
    int weight = nw->variant == NR_NASWOT_REFERENCE ? act->hooked_modules : act->relu_modules;
    accumulate(nw, act->x, act->B, (size_t)act->C * act->H * act->W, weight);
}

nr_status nr_naswot_bind(nr_naswot *nw, const nr_graph *g, const nr_space *space, nr_error *err)
{
    int n = nr_graph_num_layers(g);
    int *w = calloc((size_t)n, sizeof *w);
    if (!w) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for NASWOT weights");
    for (int r = 1; r < n; r++) {
        const nr_layer *l = nr_graph_layer(g, r);
        if (l->kind == NR_LAYER_RELU)
            w[l->inputs[0]] += nw->variant == NR_NASWOT_REFERENCE ? space->naswot_hooks(g, r) : 1;
    }
    free(nw->weights);
    nw->weights = w;
    nw->weights_n = n;
    return NR_OK;
}

void nr_naswot_graph_sink(void *ctx, const nr_relu_input *in)
{
    nr_naswot *nw = ctx;
    if (!nw->weights || in->layer >= nw->weights_n) {
        if (!nw->failed) {
            nw->failed = NR_ERR_INVALID;
            snprintf(nw->fail_text, sizeof nw->fail_text, "graph sink without nr_naswot_bind to this graph");
        }
        return;
    }
    accumulate(nw, in->x, in->B, (size_t)in->C * in->H * in->W, nw->weights[in->layer]);
}

const int64_t *nr_naswot_kernel(const nr_naswot *nw) { return nw->K; }

nr_status nr_naswot_finish(const nr_naswot *nw, nr_naswot_result *out, nr_error *err)
{
    if (nw->failed) return nr_error_set(err, nw->failed, NULL, 0, 0, "NASWOT: %s", nw->fail_text);
    int B = nw->B;
    double *k = malloc((size_t)B * B * sizeof *k);
    if (!k) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for the kernel");
    for (size_t i = 0; i < (size_t)B * B; i++) k[i] = (double)nw->K[i];
    nr_status st = nr_logdet(k, B, &out->score, &out->sign, err);
    free(k);
    out->n_units = (long long)nw->K[0];
    return st;
}

nr_status nr_naswot_score_graph(const nr_graph *g, const nr_space *space, const float *images,
                                int B, nr_naswot_variant variant, nr_naswot_result *out, nr_error *err)
{
    nr_naswot *nw = NULL;
    nr_exec *ex = NULL;
    nr_exec_options opt = {.observe_relu_inputs = 1};
    nr_status st = nr_naswot_create(B, variant, &nw, err);
    if (!st) st = nr_naswot_bind(nw, g, space, err);
    if (!st) st = nr_exec_create(g, B, &opt, &ex, err);
    if (!st) st = nr_exec_forward(ex, images, B, NULL, nr_naswot_graph_sink, nw, err);
    if (!st) st = nr_naswot_finish(nw, out, err);
    nr_exec_free(ex);
    nr_naswot_free(nw);
    return st;
}

nr_status nr_naswot_score_arch(const nr_arch *arch, const nr_macro_config *cfg, uint64_t seed,
                               const float *images, int B, nr_naswot_variant variant,
                               nr_naswot_result *out, nr_error *err)
{
    nr_graph *g = NULL;
    nr_status st = nr_nb201_graph(arch, cfg, seed, &g, err);
    if (!st) st = nr_naswot_score_graph(g, nr_space_nb201(), images, B, variant, out, err);
    nr_graph_free(g);
    return st;
}
