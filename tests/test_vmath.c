/* tests/test_vmath.c — core/vmath (the shared vectorisable float math) against libm in double:
 * each function over its stated range on a dense grid plus log-spaced magnitudes, the worst
 * relative error must stay under the bound core/vmath.h states; special points (exp(0) = 1,
 * the flush below −87.3, NaN propagation, erf's odd symmetry, the two erf branches meeting at
 * 1) and the whole-array versions equal the scalar ones; xb_vdot against a double sum for
 * lengths around its 16-lane blocks (tails, empty). */
#include <criterion/criterion.h>
#include <math.h>

#include "core/vmath.h"

typedef float (*ffun)(float);

/* worst |f(x) − ref(x)| / |ref(x)| over lo..hi: a uniform grid and ± log-spaced points. */
static double worst_rel(ffun f, double (*ref)(double), double lo, double hi, double *at)
{
    double worst = 0;
    for (int i = 0; i <= 400000; i++) {
        float xs[3];
        xs[0] = (float)(lo + (hi - lo) * i / 400000.0);
        double m = pow(10.0, -30.0 + 60.0 * i / 400000.0);   /* 1e-30 .. 1e30 */
        xs[1] = (float)m;
        xs[2] = (float)-m;
        for (int j = 0; j < 3; j++) {
            const float x = xs[j];
            if (!(x >= lo && x <= hi)) continue;
            const double r = ref((double)x);
            if (r == 0) continue;
            const double e = fabs((double)f(x) - r) / fabs(r);
            if (e > worst) { worst = e; *at = x; }
        }
    }
    return worst;
}

static double softplus_d(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }
static double logsig_d(double x) { return -softplus_d(-x); }
static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }
static double silu_d(double x) { return x / (1.0 + exp(-x)); }

#define CHECK(f, ref, lo, hi, bound)                                                          \
    do {                                                                                      \
        double at = 0, w = worst_rel(f, ref, lo, hi, &at);                                   \
        cr_expect(w < (bound), #f ": worst relative error %g at x = %.9g (bound %g)", w, at, \
                  (double)(bound));                                                           \
    } while (0)

Test(vmath, exp)
{
    CHECK(xb_vexp, exp, -87.0, 88.0, 1.5e-7);
    cr_expect_eq(xb_vexp(0.0f), 1.0f, "exp(0) must be exactly 1 (inert lanes rely on it)");
    cr_expect_eq(xb_vexp(-88.0f), 0.0f, "below -87.3 the result is flushed to 0");
    cr_expect_eq(xb_vexp(-INFINITY), 0.0f);
    cr_expect(isnan(xb_vexp(NAN)), "NaN must propagate (diverged detection relies on it)");
}

Test(vmath, log1p)
{
    CHECK(xb_vlog1p, log1p, -0.99999, 1e30, 3e-7);
    cr_expect_eq(xb_vlog1p(0.0f), 0.0f);
    cr_expect(isnan(xb_vlog1p(NAN)));
    /* tiny arguments, where 1 + x rounds to 1 and only the correction term carries the value */
    for (float x = 1e-12f; x < 1e-3f; x *= 1.7f)
        cr_expect(fabs(xb_vlog1p(x) - log1p((double)x)) / log1p((double)x) < 3e-7, "log1p(%g)", x);
}

Test(vmath, softplus_logsig)
{
    CHECK(xb_vsoftplus, softplus_d, -87.0, 1e30, 3e-7);
    CHECK(xb_vlogsig, logsig_d, -1e30, 87.0, 3e-7);
    cr_expect(isnan(xb_vsoftplus(NAN)));
}

Test(vmath, sigmoid_silu)
{
    CHECK(xb_vsigmoid, sigmoid_d, -87.0, 87.0, 3e-7);
    CHECK(xb_vsilu, silu_d, -87.0, 87.0, 3e-7);
    cr_expect_eq(xb_vsigmoid(0.0f), 0.5f);
    cr_expect_eq(xb_vsigmoid(200.0f), 1.0f);
    cr_expect_eq(xb_vsigmoid(-200.0f), 0.0f);
    cr_expect(isnan(xb_vsigmoid(NAN)));
}

Test(vmath, erf)
{
    CHECK(xb_verf, erf, -9.0, 9.0, 3e-7);
    for (float x = 0.01f; x < 6.0f; x += 0.37f) cr_expect_eq(xb_verf(-x), -xb_verf(x), "erf is odd");
    /* the branches meet at |x| = 1 without a visible step */
    const float lo = nextafterf(1.0f, 0.0f), hi = nextafterf(1.0f, 2.0f);
    cr_expect(fabs(xb_verf(hi) - xb_verf(lo)) < 3e-7, "step at 1: %g", (double)(xb_verf(hi) - xb_verf(lo)));
}

Test(vmath, arrays_match_scalars)
{
    enum { n = 1003 };
    static float x[n], y[n];
    for (int i = 0; i < n; i++) x[i] = -30.0f + 60.0f * (float)i / n;
    struct { void (*arr)(size_t, const float *, float *); ffun f; const char *name; } fs[] = {
        {xb_vexp_n, xb_vexp, "exp"}, {xb_vsigmoid_n, xb_vsigmoid, "sigmoid"},
        {xb_vsilu_n, xb_vsilu, "silu"}, {xb_vsoftplus_n, xb_vsoftplus, "softplus"},
        {xb_vlogsig_n, xb_vlogsig, "logsig"},
    };
    for (size_t k = 0; k < sizeof fs / sizeof fs[0]; k++) {
        fs[k].arr(n, x, y);
        for (int i = 0; i < n; i++)
            cr_assert_eq(y[i], fs[k].f(x[i]), "%s_n differs from the scalar at x = %g", fs[k].name, x[i]);
    }
}

Test(vmath, vdot)
{
    float x[1000], y[1000];
    for (int i = 0; i < 1000; i++) {
        x[i] = (float)sin(0.37 * i + 0.1) * (float)(1 + i % 7);
        y[i] = (float)cos(0.11 * i - 0.4);
    }
    const int ns[] = {0, 1, 15, 16, 17, 31, 64, 255, 256, 1000};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        const int n = ns[k];
        double want = 0, mag = 0;
        for (int i = 0; i < n; i++) { want += (double)x[i] * y[i]; mag += fabs((double)x[i] * y[i]); }
        const double got = xb_vdot(x, y, n);
        cr_expect(fabs(got - want) <= 1e-6 * mag + 1e-30, "n=%d: xb_vdot %.9g, double sum %.9g", n, got, want);
    }
}
