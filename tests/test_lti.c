/* tests/test_lti.c — core/lti against independent computations:
 *   lmu_matrices   the LMU (A, B) of order 3, θ = 1 written out by hand from the formula
 *   expm_rk4       xb_expm vs fourth-order Runge–Kutta integration of X' = M X on [0, 1]
 *   zoh_rk4        Ā, B̄ of the LMU system vs RK4 of x' = A x (columns of Ā) and v' = A v + B
 *                  (B̄), plus the identity A B̄ = (Ā − I) B, at the test and benchmark sizes
 *   lmu_steady     a constant input drives the discrete memory to −A⁻¹B = e₀ (a constant
 *                  signal is the 0-th Legendre polynomial): catches sign errors in A or B
 *   step           xb_lti_step (both ways it is used) vs a naive mat-vec, ragged q */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/lti.h"
#include "core/rng.h"
#include "core/xb.h"

Test(lti, lmu_matrices)
{
    double A[9], B[3];
    xb_lmu_matrices(3, 1.0, A, B);
    const double wantA[9] = {-1, -1, -1, 3, -3, -3, -5, 5, -5}, wantB[3] = {1, -3, 5};
    for (int i = 0; i < 9; i++) cr_expect_eq(A[i], wantA[i], "A[%d] = %g, want %g", i, A[i], wantA[i]);
    for (int i = 0; i < 3; i++) cr_expect_eq(B[i], wantB[i], "B[%d] = %g, want %g", i, B[i], wantB[i]);
    xb_lmu_matrices(3, 4.0, A, B);
    cr_expect_eq(A[5], -3.0 / 4.0, "θ scales every row");
}

/* out = M in + c (c may be NULL). */
static void rhs(int k, const double *M, const double *c, const double *in, double *out)
{
    for (int i = 0; i < k; i++) {
        double a = c ? c[i] : 0;
        for (int j = 0; j < k; j++) a += M[(size_t)i * k + j] * in[j];
        out[i] = a;
    }
}

/* y' = M y + c (k-vector), RK4 with `steps` steps over [0, 1] from y. */
static void rk4(int k, const double *M, const double *c, double *y, int steps)
{
    double *k1 = malloc(sizeof(double) * k), *k2 = malloc(sizeof(double) * k), *k3 = malloc(sizeof(double) * k);
    double *k4 = malloc(sizeof(double) * k), *tmp = malloc(sizeof(double) * k);
    const double h = 1.0 / steps;
    for (int s = 0; s < steps; s++) {
        rhs(k, M, c, y, k1);
        for (int i = 0; i < k; i++) tmp[i] = y[i] + 0.5 * h * k1[i];
        rhs(k, M, c, tmp, k2);
        for (int i = 0; i < k; i++) tmp[i] = y[i] + 0.5 * h * k2[i];
        rhs(k, M, c, tmp, k3);
        for (int i = 0; i < k; i++) tmp[i] = y[i] + h * k3[i];
        rhs(k, M, c, tmp, k4);
        for (int i = 0; i < k; i++) y[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    free(k1); free(k2); free(k3); free(k4); free(tmp);
}

Test(lti, expm_rk4)
{
    const int k = 7;
    double M[49], E[49];
    xb_rng r;
    xb_rng_seed(&r, 1);
    for (int i = 0; i < 49; i++) M[i] = 1.5 * xb_rng_normal(&r);   /* ‖M‖₁ ≈ 8: needs squaring */
    xb_expm(k, M, E);
    double worst = 0, scale = 0;
    for (int j = 0; j < k; j++) {
        double y[7] = {0};
        y[j] = 1;
        rk4(k, M, NULL, y, 4000);
        for (int i = 0; i < k; i++) {
            worst = fmax(worst, fabs(E[i * k + j] - y[i]));
            scale = fmax(scale, fabs(y[i]));
        }
    }
    cr_expect(worst <= 1e-9 * scale, "expm vs RK4: max error %g (max entry %g)", worst, scale);
    double Z[49] = {0}, I[49];
    xb_expm(k, Z, I);
    for (int i = 0; i < 49; i++) cr_expect_eq(I[i], (i % 8 == 0) ? 1.0 : 0.0, "expm(0) must be I");
}

static void zoh_case(int q, double theta)
{
    double *A = malloc(sizeof(double) * q * q), *B = malloc(sizeof(double) * q);
    double *Ab = malloc(sizeof(double) * q * q), *Bb = malloc(sizeof(double) * q), *y = malloc(sizeof(double) * q);
    xb_lmu_matrices(q, theta, A, B);
    xb_lti_zoh(q, A, B, Ab, Bb);
    double worst = 0, scale = 0;
    for (int j = 0; j < q; j++) {
        memset(y, 0, sizeof(double) * q);
        y[j] = 1;
        rk4(q, A, NULL, y, 2000);
        for (int i = 0; i < q; i++) { worst = fmax(worst, fabs(Ab[i * q + j] - y[i])); scale = fmax(scale, fabs(y[i])); }
    }
    memset(y, 0, sizeof(double) * q);
    rk4(q, A, B, y, 2000);
    for (int i = 0; i < q; i++) { worst = fmax(worst, fabs(Bb[i] - y[i])); scale = fmax(scale, fabs(y[i])); }
    cr_expect(worst <= 1e-9 * scale, "ZOH q=%d θ=%g vs RK4: max error %g", q, theta, worst);
    /* A B̄ = (Ā − I) B */
    double id = 0;
    for (int i = 0; i < q; i++) {
        double l = 0, rr = -B[i];
        for (int j = 0; j < q; j++) { l += A[i * q + j] * Bb[j]; rr += Ab[i * q + j] * B[j]; }
        id = fmax(id, fabs(l - rr));
    }
    cr_expect(id < 1e-10, "q=%d: A·B̄ − (Ā − I)·B = %g", q, id);
    free(A); free(B); free(Ab); free(Bb); free(y);
}

Test(lti, zoh_rk4)
{
    zoh_case(6, 11);     /* tests/test_mixers.c small config */
    zoh_case(32, 150);   /* its reference config */
    zoh_case(64, 256);   /* a benchmark default */
    zoh_case(16, 4);     /* θ ≪ q: large ‖A‖, several squarings */
}

Test(lti, lmu_steady)
{
    const int q = 12;
    const double theta = 20;
    double A[144], B[12], Ab[144], Bb[12], m[12] = {0}, mn[12];
    xb_lmu_matrices(q, theta, A, B);
    xb_lti_zoh(q, A, B, Ab, Bb);
    for (int t = 0; t < 40 * (int)theta; t++) {
        for (int i = 0; i < q; i++) {
            double a = Bb[i];
            for (int j = 0; j < q; j++) a += Ab[i * q + j] * m[j];
            mn[i] = a;
        }
        memcpy(m, mn, sizeof m);
    }
    for (int i = 0; i < q; i++)
        cr_expect(fabs(m[i] - (i == 0 ? 1.0 : 0.0)) < 1e-6, "steady memory m[%d] = %g, want %g", i, m[i], i == 0 ? 1.0 : 0.0);
}

Test(lti, step)
{
    const int q = 70;
    float *Mt = xb_alloc(sizeof(float) * q * q), *v = xb_alloc(sizeof(float) * q), *bv = xb_alloc(sizeof(float) * q);
    float *out = xb_alloc(sizeof(float) * q);
    xb_rng r;
    xb_rng_seed(&r, 4);
    for (int i = 0; i < q * q; i++) Mt[i] = (float)xb_rng_normal(&r);
    for (int i = 0; i < q; i++) { v[i] = (float)xb_rng_normal(&r); bv[i] = (float)xb_rng_normal(&r); }
    xb_lti_step(q, Mt, v, bv, 0.75f, out);
    for (int i = 0; i < q; i++) {
        double a = 0.75 * bv[i];
        for (int j = 0; j < q; j++) a += (double)v[j] * Mt[j * q + i];
        cr_expect(fabs(out[i] - a) < 1e-4 * (1 + fabs(a)), "step out[%d] = %g, want %g", i, out[i], a);
    }
    /* in place over bvec (how the adjoint scan calls it) */
    float *copy = xb_alloc(sizeof(float) * q);
    memcpy(copy, bv, sizeof(float) * q);
    xb_lti_step(q, Mt, v, copy, 1.0f, copy);
    for (int i = 0; i < q; i++) {
        double a = bv[i];
        for (int j = 0; j < q; j++) a += (double)v[j] * Mt[j * q + i];
        cr_expect(fabs(copy[i] - a) < 1e-4 * (1 + fabs(a)), "in-place step out[%d] = %g, want %g", i, copy[i], a);
    }
    xb_free(Mt); xb_free(v); xb_free(bv); xb_free(out); xb_free(copy);
}
