/* nasrank — which kernels this CPU runs (internal).
 *
 * The library is built for plain x86-64 (no -march=native): a binary built on one machine
 * runs on any other.  Kernels with an AVX-512 version compile it with a target attribute
 * (NR_TARGET_AVX512) and call it when nr_isa_avx512() says the CPU has AVX-512F, chosen once
 * at start-up.  The AVX-512 and portable versions of a kernel may round differently (FMA,
 * other summation orders); each is deterministic and thread-count independent.
 * NASRANK_KERNELS=portable (or avx2, avx512) caps the choice at that level: tests run the
 * portable kernels this way, and a result can be reproduced on a machine without AVX-512.
 */
#ifndef NASRANK_OPS_CPU_H
#define NASRANK_OPS_CPU_H

#if defined(__x86_64__) && defined(__GNUC__)
#define NR_HAVE_X86_SIMD 1
#include <immintrin.h>
/* x86-64-v4 = AVX-512 F, BW, CD, DQ, VL (+ AVX2, FMA, BMI): every AVX-512 CPU but the
 * Xeon Phi.  Naming the level, not single features, also gets the code scheduled like a
 * -march build (the micro-kernel ran 9% slower with only "avx512f,fma"). */
#define NR_TARGET_AVX512 __attribute__((target("arch=x86-64-v4")))
#define NR_TARGET_AVX512_FMA NR_TARGET_AVX512
/* Plain C hot loops: compiled twice, the copy for x86-64-v4 CPUs picked by the loader
 * (the same results: no contraction, no reassociation; only the vector width differs). */
#define NR_CLONES_AVX512 __attribute__((target_clones("arch=x86-64-v4", "default")))
#endif

typedef enum nr_isa { NR_ISA_PORTABLE = 0, NR_ISA_AVX2 = 1, NR_ISA_AVX512 = 2 } nr_isa;

/* The kernel level in use: what the CPU has, capped by $NASRANK_KERNELS (read once). */
nr_isa nr_isa_selected(void);
/* nr_isa_selected() == NR_ISA_AVX512; inline, one load once detected (kernels ask per row). */
extern int nr_isa_detected_; /* -1 until nr_isa_selected ran */
static inline int nr_isa_avx512(void)
{
    int v = __atomic_load_n(&nr_isa_detected_, __ATOMIC_RELAXED);
    return (v < 0 ? (int)nr_isa_selected() : v) == NR_ISA_AVX512;
}
/* "portable", "avx2", "avx512". */
const char *nr_isa_name(nr_isa isa);

#endif
