/* core/rng.h — the project's PRNG (never rand()): splitmix64 for seeding,
 * xoshiro256** for streams, FNV-1a for hashing configurations and examples.
 * TASKS.md §4.1: example i of split s is seeded with
 *   splitmix64(S ^ splitmix64(T ^ splitmix64((s << 48) | i))). */
#ifndef XB_RNG_H
#define XB_RNG_H

#include <stddef.h>
#include <stdint.h>

typedef struct xb_rng { uint64_t s[4]; } xb_rng;

uint64_t xb_splitmix64(uint64_t x);          /* one splitmix64 finaliser step of x */
void     xb_rng_seed(xb_rng *r, uint64_t seed);
uint64_t xb_rng_u64(xb_rng *r);
uint32_t xb_rng_below(xb_rng *r, uint32_t n); /* uniform in [0, n), unbiased */
double   xb_rng_uniform(xb_rng *r);           /* [0, 1), 53 bits */
float    xb_rng_uniformf(xb_rng *r, float lo, float hi);
double   xb_rng_normal(xb_rng *r);            /* N(0, 1), Box-Muller */

/* Seed of example i in split s (1 train, 2 val, 3 test) for user seed S and task key T. */
uint64_t xb_example_seed(uint64_t S, uint64_t T, int split, uint64_t i);
/* Seed of a named stream ("init", "order", ...) with an extra discriminator. */
uint64_t xb_stream_seed(uint64_t S, uint64_t T, const char *name, uint64_t extra);

uint64_t xb_fnv1a(const void *data, size_t n);               /* 64-bit FNV-1a */
uint64_t xb_fnv1a_more(uint64_t h, const void *data, size_t n); /* continue a hash */
uint64_t xb_fnv1a_str(const char *s);

#endif
