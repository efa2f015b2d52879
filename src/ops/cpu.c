/* nasrank — the start-up kernel choice (ops/cpu.h). */
#include <stdlib.h>
#include <string.h>

#include "ops/cpu.h"

static nr_isa detect(void)
{
    nr_isa isa = NR_ISA_PORTABLE;
#ifdef NR_HAVE_X86_SIMD
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) isa = NR_ISA_AVX2;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && isa == NR_ISA_AVX2)
        isa = NR_ISA_AVX512; /* x86-64-v4, what NR_TARGET_AVX512 compiles for */
#endif
    const char *cap = getenv("NASRANK_KERNELS");
    if (cap && !strcmp(cap, "portable")) isa = NR_ISA_PORTABLE;
    else if (cap && !strcmp(cap, "avx2") && isa > NR_ISA_AVX2) isa = NR_ISA_AVX2;
    return isa;
}

/* -1 until detected; every thread computes the same value, so a race only repeats work */
int nr_isa_detected_ = -1;

nr_isa nr_isa_selected(void)
{
    int v = __atomic_load_n(&nr_isa_detected_, __ATOMIC_RELAXED);
    if (v < 0) {
        v = (int)detect();
        __atomic_store_n(&nr_isa_detected_, v, __ATOMIC_RELAXED);
    }
    return (nr_isa)v;
}

const char *nr_isa_name(nr_isa isa)
{
    return isa == NR_ISA_AVX512 ? "avx512" : isa == NR_ISA_AVX2 ? "avx2" : "portable";
}
