/* core/vmath.h — the one vectorisable float math module of xbench: exp, log1p, softplus,
 * logsigmoid, sigmoid, silu, erf (and GELU's pieces), branch-free so that a loop over them
 * compiles to SIMD code under -O3 -march=native (libm's expf/log1pf/erff are calls that keep a
 * loop scalar unless -ffast-math, which xbench does not use: it breaks isnan).
 *
 * The scalar functions are static inline so they vectorise inside the caller's loop; core/vmath.c
 * adds whole-array versions for elementwise passes. Every bound below is checked against libm in
 * double by tests/test_vmath.c over the stated range (max relative error, "rel"):
 *   xb_vexp       x ∈ [−87, 88]           rel ≤ 1.5e-7 (measured 7.4e-8); exp(0) = 1 exactly;
 *                 x < −87.3 gives 0, x > 88 gives e^88 (clamped), NaN stays NaN
 *   xb_vlog1p     x ∈ (−1, 1e30]          rel ≤ 3e-7   (measured 2.0e-7)
 *   xb_vsoftplus  x ∈ [−87, 1e30]         rel ≤ 3e-7   (measured 2.4e-7; log(1 + e^x), no overflow for large x)
 *   xb_vlogsig    x ∈ [−1e30, 87]         rel ≤ 3e-7     (−softplus(−x))
 *   xb_vsigmoid   x ∈ [−87, 87]           rel ≤ 3e-7   (measured 1.8e-7; 0 below −87.3 as e^x would be)
 *   xb_vsilu      x ∈ [−87, 87]           rel ≤ 3e-7
 *   xb_verf       x ∈ [−9, 9]             rel ≤ 3e-7   (measured 2.0e-7; odd Taylor series for |x| ≤ 1, else
 *                                          Abramowitz–Stegun 7.1.26, |abs error| ≤ 1.5e-7)
 * Explicit fmaf: -std=c11 turns FP contraction off, and -march=native makes fmaf one instruction. */
#ifndef XB_VMATH_H
#define XB_VMATH_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* e^x: x = k·ln2 + r with |r| ≤ ln2/2 (k rounded by the 1.5·2^23 shifter, no libm call), e^r by
 * its Taylor series to degree 7 (truncation < 6e-9 relative), 2^k through the exponent bits. */
static inline float xb_vexp(float x)
{
    const float xc = x < -87.3f ? -87.3f : (x > 88.0f ? 88.0f : x);
    float k = (xc * 1.44269504088896341f + 12582912.0f) - 12582912.0f;
    float r = fmaf(k, -0.693359375f, xc);   /* ln2 split so k·ln2_hi is exact for |k| < 2^9 */
    r = fmaf(k, 2.12194440e-4f, r);
    float p = 1.0f / 5040.0f;
    p = fmaf(p, r, 1.0f / 720.0f);
    p = fmaf(p, r, 1.0f / 120.0f);
    p = fmaf(p, r, 1.0f / 24.0f);
    p = fmaf(p, r, 1.0f / 6.0f);
    p = fmaf(p, r, 0.5f);
    p = fmaf(p, r, 1.0f);
    p = fmaf(p, r, 1.0f);
    /* shifted unsigned: a NaN x makes k INT_MIN here, and a negative left shift is undefined */
    int32_t e = (int32_t)((uint32_t)((int32_t)k + 127) << 23);
    /* e^x < FLT_MIN below −87.3: flush through 2^k = 0. A select on the float result instead
     * lets the compiler fold callers' math for that case into a branch (then no SIMD) */
    e = x < -87.3f ? 0 : e;
    float two_k;
    memcpy(&two_k, &e, sizeof two_k);
    return p * two_k;
}

/* log(1 + x) for x > −1: u = 1 + x = 2^m·f with f ∈ [√½, √2), log f = 2·atanh(s),
 * s = (f − 1)/(f + 1), |s| ≤ 0.1716, odd series to s^13 (truncation < 2e-12); the rounding of
 * 1 + x is put back by the first-order term (x − (u − 1))/u. */
static inline float xb_vlog1p(float x)
{
    const float u = 1.0f + x;
    int32_t iu;
    memcpy(&iu, &u, sizeof iu);
    /* exponent relative to √½: f = u·2^−m lands in [√½, √2) */
    int32_t m = ((iu - 0x3f3504f3) >> 23);
    int32_t fi = iu - (int32_t)((uint32_t)m << 23);   /* m < 0 for u < √½: no signed shift */
    float f;
    memcpy(&f, &fi, sizeof f);
    const float s = (f - 1.0f) / (f + 1.0f), s2 = s * s;
    float p = 2.0f / 13.0f;
    p = fmaf(p, s2, 2.0f / 11.0f);
    p = fmaf(p, s2, 2.0f / 9.0f);
    p = fmaf(p, s2, 2.0f / 7.0f);
    p = fmaf(p, s2, 2.0f / 5.0f);
    p = fmaf(p, s2, 2.0f / 3.0f);
    p = fmaf(p, s2, 2.0f);
    const float c = (x - (u - 1.0f)) / u;   /* what 1 + x lost to rounding */
    const float mf = (float)m;
    /* log1p(0) = +0 exactly (m = 0, s = 0, c = 0). No select on x here: the compiler would sink
     * the divisions under it and then refuse to vectorise (they might trap) */
    return fmaf(mf, 0.693359375f, fmaf(s, p, fmaf(mf, -2.12194440e-4f, c)));
}

/* softplus(x) = log(1 + e^x) = max(x, 0) + log1p(e^{−|x|}). */
static inline float xb_vsoftplus(float x)
{
    const float a = x < 0.0f ? -x : x;
    return (x > 0.0f ? x : 0.0f) + xb_vlog1p(xb_vexp(-a));
}

/* logsigmoid(x) = log σ(x) = −softplus(−x) = min(x, 0) − log1p(e^{−|x|}). */
static inline float xb_vlogsig(float x)
{
    const float a = x < 0.0f ? -x : x;
    return (x < 0.0f ? x : 0.0f) - xb_vlog1p(xb_vexp(-a));
}

/* σ(x) = 1/(1 + e^{−x}), through e^{−|x|} so nothing overflows: x ≥ 0: 1/(1+e), else e/(1+e). */
static inline float xb_vsigmoid(float x)
{
    const float a = x < 0.0f ? -x : x, e = xb_vexp(-a), r = 1.0f / (1.0f + e);
    return x < 0.0f ? e * r : r;
}

/* silu(x) = x σ(x). */
static inline float xb_vsilu(float x) { return x * xb_vsigmoid(x); }

/* erf(x): |x| ≤ 1 by its odd Taylor series to x^23 (truncation < 1e-9), else A&S 7.1.26
 * 1 − t·P(t)·e^{−x²}, t = 1/(1 + 0.3275911|x|) (abs error ≤ 1.5e-7, rel ≤ 1.8e-7 for |x| > 1).
 * Both branches are computed and one is selected, so loops stay branch-free. */
static inline float xb_verf(float x)
{
    const float a = x < 0.0f ? -x : x, x2 = x * x;
    float s = -1.089222104e-09f;                 /* Σ (−1)^n x^{2n}/(n!(2n+1)), n = 11 .. 0 */
    s = fmaf(s, x2, 1.312253296e-08f);
    s = fmaf(s, x2, -1.450385222e-07f);
    s = fmaf(s, x2, 1.458916900e-06f);
    s = fmaf(s, x2, -1.322751323e-05f);
    s = fmaf(s, x2, 1.068376068e-04f);
    s = fmaf(s, x2, -7.575757576e-04f);
    s = fmaf(s, x2, 4.629629630e-03f);
    s = fmaf(s, x2, -2.380952381e-02f);
    s = fmaf(s, x2, 1.000000000e-01f);
    s = fmaf(s, x2, -3.333333333e-01f);
    s = fmaf(s, x2, 1.000000000e+00f);
    const float small = 1.12837916709551257f * x * s;   /* 2/√π · x · series */
    const float t = 1.0f / (1.0f + 0.3275911f * a);
    const float p = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float big = 1.0f - p * xb_vexp(-x2);
    big = x < 0.0f ? -big : big;
    return a <= 1.0f ? small : big;
}

/* Σ x⊙y with 16 independent partial sums, so it vectorises without reassociation (a fixed
 * order: deterministic; a single running sum is one FMA latency per element instead). */
static inline float xb_vdot(const float *restrict x, const float *restrict y, int n)
{
    float acc[16] = {0};
    int i = 0;
    for (; i + 16 <= n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += x[i + l] * y[i + l];
    float s = 0.0f;
    for (; i < n; i++) s += x[i] * y[i];
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

/* Whole-array versions (core/vmath.c): y[i] = f(x[i]) for i < n; y may equal x (in place). */
void xb_vexp_n(size_t n, const float *x, float *y);
void xb_vsigmoid_n(size_t n, const float *x, float *y);
void xb_vsilu_n(size_t n, const float *x, float *y);
void xb_vsoftplus_n(size_t n, const float *x, float *y);
void xb_vlogsig_n(size_t n, const float *x, float *y);

#endif
