#include "nasrank/rng.h"

#include <math.h>

uint64_t nr_rng_next(nr_rng *r)
{
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

nr_rng nr_rng_seeded(uint64_t seed)
{
    nr_rng r = {seed};
    return r;
}

uint64_t nr_fnv1a64(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 0x100000001b3ULL;
    }
    return h;
}

nr_rng nr_rng_stream(uint64_t seed, const char *name)
{
    nr_rng base = nr_rng_seeded(seed);
    nr_rng r = {nr_rng_next(&base) ^ nr_fnv1a64(name)};
    return r;
}

double nr_rng_uniform24(nr_rng *r)
{
    return (double)(nr_rng_next(r) >> 40) * (1.0 / 16777216.0);
}

double nr_rng_uniform(nr_rng *r)
{
    return (double)(nr_rng_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

uint64_t nr_rng_below(nr_rng *r, uint64_t n)
{
    if (n <= 1) return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n; /* reject the incomplete last block */
    uint64_t x;
    do x = nr_rng_next(r);
    while (x >= limit);
    return x % n;
}

double nr_rng_normal(nr_rng *r)
{
    double u1 = nr_rng_uniform(r), u2 = nr_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
