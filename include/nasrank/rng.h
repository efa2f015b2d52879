/* nasrank — deterministic random numbers.
 *
 * splitmix64 (Steele, Lea, Flood 2014): state += 0x9E3779B97F4A7C15, then the usual
 * xor-shift-multiply finaliser.  Tiny, fast, statistically fine for initialisation and
 * sampling, and trivial to re-implement in Python for reference fixtures.
 *
 * Named streams make results independent of call order: the weights of a parameter tensor
 * come from nr_rng_stream(seed, "cells.3.edges.2<-1.op.1.weight"), so they depend only on
 * (seed, tensor name), never on what was built before.
 *   stream state = splitmix64_next(seed) XOR fnv1a64(name)
 * where splitmix64_next(seed) is the first output of a generator whose state is `seed`.
 */
#ifndef NASRANK_RNG_H
#define NASRANK_RNG_H

#include <stdint.h>

typedef struct nr_rng {
    uint64_t state;
} nr_rng;

/* Generator whose state is `seed` (the first draw is splitmix64 of seed + golden ratio). */
nr_rng nr_rng_seeded(uint64_t seed);
/* Independent stream for a name (see above). name may be "" but not NULL. */
nr_rng nr_rng_stream(uint64_t seed, const char *name);
/* FNV-1a 64-bit hash of a NUL-terminated string. */
uint64_t nr_fnv1a64(const char *s);

uint64_t nr_rng_next(nr_rng *r);
/* Uniform in [0, 1) with 24 random bits: (next >> 40) * 2^-24.  Exactly representable. */
double nr_rng_uniform24(nr_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double nr_rng_uniform(nr_rng *r);
/* Uniform integer in [0, n), n >= 1, unbiased (rejection). */
uint64_t nr_rng_below(nr_rng *r, uint64_t n);
/* Standard normal (Box-Muller on nr_rng_uniform), for tests and predictors. */
double nr_rng_normal(nr_rng *r);

#endif
