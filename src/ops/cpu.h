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
#define NR_TARGET_AVX512 __attribute__((target("avx512f")))
#define NR_TARGET_AVX512_FMA __attribute__((target("avx512f,fma")))
#endif

typedef enum nr_isa { NR_ISA_PORTABLE = 0, NR_ISA_AVX2 = 1, NR_ISA_AVX512 = 2 } nr_isa;

/* The kernel level in use: what the CPU has, capped by $NASRANK_KERNELS (read once). */
nr_isa nr_isa_selected(void);
/* nr_isa_selected() == NR_ISA_AVX512 (cached; cheap enough for inner loops' callers). */
int nr_isa_avx512(void);
/* "portable", "avx2", "avx512". */
const char *nr_isa_name(nr_isa isa);

#endif
