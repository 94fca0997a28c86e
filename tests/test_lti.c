/* tests/test_lti.c — core/lti against independent computations:
 *   lmu_matrices   the LMU (A, B) of order 3, θ = 1 written out by hand from the formula
 *   expm_rk4       xb_expm vs fourth-order Runge–Kutta integration of X' = M X on [0, 1]
 *   zoh_rk4        Ā, B̄ of the LMU system vs RK4 of x' = A x (columns of Ā) and v' = A v + B
 *                  (B̄), plus the identity A B̄ = (Ā − I) B, at the test and benchmark sizes
 *   lmu_steady     a constant input drives the discrete memory to −A⁻¹B = e₀ (a constant
 *                  signal is the 0-th Legendre polynomial): catches sign errors in A or B
 *   step           xb_lti_step (both ways it is used) vs a naive mat-vec, ragged q
 *   lmu_split_scan_threads  lmu at B = 1 on 2 threads (each adjoint step split across threads;
 *                  the chunked forward's blocks shared) equals 1 thread bit for bit, and its
 *                  forward matches the double recurrence; xb_lti_step_part pieces equal the step
 *   chunked_scan   xb_lti_scan_chunked vs the recurrence in double: ragged and short lengths,
 *                  chunk lengths 1, 8 and 64; 3 threads give the 1-thread bits */
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

/* lmu with one sequence and 2 threads splits each scan step's outputs across the threads
 * (mixers/lmu.c scan_fwd / scan_adj): y, dx and dw agree with the 1-thread run to 1e-5 of their
 * largest entry, causal and bidirectional (2 scans: one per thread), and xb_lti_step_part pieces
 * equal the whole step. Not bit for bit: the blocked projections around the scans
 * (core/proj.c) pick their block size by thread count, and OpenBLAS may sum a row of a
 * different-sized block in another order. */
#include <omp.h>
#include "mixers/registry.h"

static void lmu_run(const xb_mixer *m, const xb_mixer_cfg *c, const float *w, const float *x,
                    const float *dy, const int *len, float *y, float *dx, float *dw, int N)
{
    size_t ns = m->n_saved(c, N), nsc = m->n_scratch(c, 1, N);
    float *saved = xb_alloc(ns * sizeof(float)), *scratch = xb_alloc(nsc * sizeof(float));
    memset(dw, 0, xb_mixer_n_params(m, c) * sizeof(float));
    m->forward(c, w, x, len, y, saved, scratch, 1, N);
    m->backward(c, w, x, len, saved, dy, dx, dw, scratch, 1, N);
    xb_free(saved); xb_free(scratch);
}

Test(lti, lmu_split_scan_threads)
{
    const xb_mixer *m = xb_mixer_find("lmu");
    cr_assert(m);
    /* q = d = 48, N = 37: recurrent forward; adjoint slices of 16 → [0, 32) and [32, 48).
     * q = d = 16, N = 150 ≥ 8q: the chunked forward (B = 1 has at most 2 scans). */
    const int sizes[2][2] = {{37, 48}, {150, 16}};
    for (int sz = 0; sz < 2; sz++)
    for (int causal = 1; causal >= 0; causal--)
        for (int padded = 0; padded <= 1; padded++) {
            const int N = sizes[sz][0], d = sizes[sz][1];
            xb_mixer_cfg c0 = {0};
            c0.d = d; c0.heads = 4; c0.causal = causal; c0.n_max = N;
            xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
            size_t np = xb_mixer_n_params(m, &c), nx = (size_t)N * d;
            float *w = xb_alloc(np * 4), *x = xb_alloc(nx * 4), *dy = xb_alloc(nx * 4);
            float *y[2], *dx[2], *dw[2];
            xb_rng r;
            xb_rng_seed(&r, 99);
            m->init(&c, w, &r);
            for (size_t i = 0; i < nx; i++) { x[i] = (float)xb_rng_normal(&r); dy[i] = (float)xb_rng_normal(&r); }
            int len[1] = {padded ? N - 5 : N};
            int saved_threads = omp_get_max_threads();
            for (int k = 0; k < 2; k++) {
                y[k] = xb_alloc(nx * 4); dx[k] = xb_alloc(nx * 4); dw[k] = xb_alloc(np * 4);
                omp_set_num_threads(k + 1);
                lmu_run(m, &c, w, x, dy, len, y[k], dx[k], dw[k], N);
            }
            omp_set_num_threads(saved_threads);
            /* and the forward against the mixer's double-precision recurrence */
            double *yr = malloc(nx * sizeof(double)), e = 0, mx = 1e-3;
            m->reference(&c, w, x, len, yr, 1, N);
            for (size_t i = 0; i < nx; i++) { mx = fmax(mx, fabs(yr[i])); e = fmax(e, fabs(y[0][i] - yr[i])); }
            cr_expect(e / mx < 1e-4, "N=%d d=%d causal %d padded %d: forward vs reference rel err %g", N, d,
                      causal, padded, e / mx);
            free(yr);
            const char *what[3] = {"y", "dx", "dw"};
            const float *one[3] = {y[0], dx[0], dw[0]}, *two[3] = {y[1], dx[1], dw[1]};
            const size_t cnt[3] = {nx, nx, np};
            for (int a = 0; a < 3; a++) {
                double big = 1e-6, diff = 0;
                for (size_t i = 0; i < cnt[a]; i++) {
                    big = fmax(big, fabs(one[a][i]));
                    diff = fmax(diff, fabs(one[a][i] - two[a][i]));
                }
                cr_expect(diff <= 1e-5 * big, "%s: 2 threads differ from 1 by %g (largest %g; N=%d causal %d padded %d)",
                          what[a], diff, big, N, causal, padded);
            }
            double sy = 0;
            for (size_t i = 0; i < nx; i++) sy += fabs(y[0][i]);
            cr_expect_gt(sy, 0, "y is all zero");
            for (int k = 0; k < 2; k++) { xb_free(y[k]); xb_free(dx[k]); xb_free(dw[k]); }
            xb_free(w); xb_free(x); xb_free(dy);
        }
    /* pieces of a step == the whole step */
    const int q = 40;
    float *Mt = malloc(sizeof(float) * q * q), v[40], b[40], o1[40], o2[40];
    xb_rng r;
    xb_rng_seed(&r, 5);
    for (int i = 0; i < q * q; i++) Mt[i] = (float)xb_rng_normal(&r);
    for (int i = 0; i < q; i++) { v[i] = (float)xb_rng_normal(&r); b[i] = (float)xb_rng_normal(&r); }
    xb_lti_step(q, Mt, v, b, 0.5f, o1);
    xb_lti_step_part(q, Mt, v, b, 0.5f, o2, 0, 16);
    xb_lti_step_part(q, Mt, v, b, 0.5f, o2, 16, 40);
    cr_expect(memcmp(o1, o2, sizeof o1) == 0, "split step differs from the whole step");
    free(Mt);
}

/* The chunked LTI scan against m_t = Ā m_{t−1} + B̄ u_t in double, on the LMU system (q = 24,
 * θ = 50: strongly contracting) and lengths that end mid-chunk, fit one chunk, or are shorter;
 * with C = 1 and 8 the chunks span several blocks of 6, the last one ragged. Run on 3 threads,
 * the scan must give the 1-thread bits. */
Test(lti, chunked_scan)
{
    const int q = 24, Ls[] = {1, 7, 64, 65, 200, 333}, Cs[] = {1, 8, 64};
    double *A = malloc(sizeof(double) * q * q), B[24], *Ad = malloc(sizeof(double) * q * q), Bd[24];
    xb_lmu_matrices(q, 50.0, A, B);
    xb_lti_zoh(q, A, B, Ad, Bd);
    float *Ab = malloc(sizeof(float) * q * q), *AT = malloc(sizeof(float) * q * q), Bb[24];
    for (int i = 0; i < q; i++) {
        Bb[i] = (float)Bd[i];
        for (int j = 0; j < q; j++) { Ab[i * q + j] = (float)Ad[i * q + j]; AT[j * q + i] = (float)Ad[i * q + j]; }
    }
    xb_rng r;
    xb_rng_seed(&r, 123);
    const int Lmax = 333;
    float *u = malloc(sizeof(float) * Lmax), *M = malloc(sizeof(float) * Lmax * q);
    double *ref = malloc(sizeof(double) * Lmax * q);
    for (int t = 0; t < Lmax; t++) u[t] = (float)xb_rng_normal(&r);
    for (int t = 0; t < Lmax; t++)   /* the recurrence in double on the float Ā, B̄ */
        for (int i = 0; i < q; i++) {
            double a = (double)Bb[i] * u[t];
            for (int j = 0; t > 0 && j < q; j++) a += (double)Ab[i * q + j] * ref[(size_t)(t - 1) * q + j];
            ref[(size_t)t * q + i] = a;
        }
    for (size_t ci = 0; ci < sizeof Cs / sizeof *Cs; ci++) {
        const int C = Cs[ci], nchmax = (Lmax + C - 1) / C;
        float *PT = malloc(sizeof(float) * q * q), *M3 = malloc(sizeof(float) * Lmax * q);
        float *Hr = malloc(sizeof(float) * C * q), *S = malloc(sizeof(float) * nchmax * q);
        float *E = malloc(sizeof(float) * nchmax * q);
        xb_lti_chunk_setup(q, C, Ad, Bd, PT, Hr);
        const int saved_threads = omp_get_max_threads();
        for (size_t li = 0; li < sizeof Ls / sizeof *Ls; li++) {
            const int L = Ls[li];
            omp_set_num_threads(1);
            xb_lti_scan_chunked(q, C, AT, Bb, PT, Hr, u, L, M, S, E);
            omp_set_num_threads(3);
            xb_lti_scan_chunked(q, C, AT, Bb, PT, Hr, u, L, M3, S, E);
            double e = 0, mx = 1e-6;
            for (size_t i = 0; i < (size_t)L * q; i++) { mx = fmax(mx, fabs(ref[i])); e = fmax(e, fabs(M[i] - ref[i])); }
            cr_expect(e / mx < 1e-5, "C=%d L=%d: chunked scan rel err %g", C, L, e / mx);
            cr_expect(memcmp(M, M3, sizeof(float) * (size_t)L * q) == 0, "C=%d L=%d: 3 threads differ from 1", C, L);
        }
        omp_set_num_threads(saved_threads);
        free(PT); free(M3); free(Hr); free(S); free(E);
    }
    free(A); free(Ad); free(Ab); free(AT); free(u); free(M); free(ref);
}
