/* core/rng.c — splitmix64, xoshiro256** (Blackman & Vigna), FNV-1a. */
#include "core/rng.h"

#include <math.h>
#include <string.h>

uint64_t xb_splitmix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

void xb_rng_seed(xb_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++) { x = xb_splitmix64(x); r->s[i] = x; }
    if ((r->s[0] | r->s[1] | r->s[2] | r->s[3]) == 0) r->s[0] = 1;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t xb_rng_u64(xb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3];
    s[2] ^= t; s[3] = rotl(s[3], 45);
    return out;
}

uint32_t xb_rng_below(xb_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift with rejection: unbiased. */
    uint64_t m = (uint64_t)(uint32_t)(xb_rng_u64(r) >> 32) * n;
    uint32_t lo = (uint32_t)m;
    if (lo < n) {
        uint32_t t = (uint32_t)(-n) % n;
        while (lo < t) { m = (uint64_t)(uint32_t)(xb_rng_u64(r) >> 32) * n; lo = (uint32_t)m; }
    }
    return (uint32_t)(m >> 32);
}

double xb_rng_uniform(xb_rng *r) { return (double)(xb_rng_u64(r) >> 11) * 0x1.0p-53; }

float xb_rng_uniformf(xb_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * (float)xb_rng_uniform(r);
}

double xb_rng_normal(xb_rng *r)
{
    double u1 = xb_rng_uniform(r), u2 = xb_rng_uniform(r);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t xb_example_seed(uint64_t S, uint64_t T, int split, uint64_t i)
{
    return xb_splitmix64(S ^ xb_splitmix64(T ^ xb_splitmix64(((uint64_t)split << 48) | i)));
}

uint64_t xb_stream_seed(uint64_t S, uint64_t T, const char *name, uint64_t extra)
{
    return xb_splitmix64(S ^ xb_splitmix64(T ^ xb_splitmix64(xb_fnv1a_str(name) ^ extra)));
}

uint64_t xb_fnv1a_more(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) { h ^= p[i]; h *= 0x100000001b3ULL; }
    return h;
}

uint64_t xb_fnv1a(const void *data, size_t n) { return xb_fnv1a_more(0xcbf29ce484222325ULL, data, n); }
uint64_t xb_fnv1a_str(const char *s) { return xb_fnv1a(s, strlen(s)); }
