/* tests/test_selscan.c — core/selscan (Mamba's selective scan) against naive loops:
 *   forward      kernel vs an explicit double recurrence, both time directions (negative row
 *                stride), ragged channel count, several checkpoint chunks; checkpoints too
 *   backward     kernel vs a naive double reverse-mode pass that keeps every h_t, and that
 *                naive pass vs central finite differences of the double recurrence
 *   mamba_grads  the mamba mixer with Δ ≈ 0.5–1 (large enough that A_log, b_dt, W_dt and D_skip
 *                gradients are well above noise), every coordinate of those tensors vs central
 *                finite differences; both modes */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/mixer.h"
#include "core/rng.h"
#include "core/selscan.h"
#include "core/xb.h"
#include "mixers/registry.h"

/* A random problem over L steps of nc channels and n states (time-ordered rows). */
typedef struct prob {
    int L, nc, n, ld, ldbc;
    float *u, *dt, *BC, *At, *Dsk, *dy;
} prob;

static prob make_prob(int L, int nc, int n, uint64_t seed)
{
    prob p = {L, nc, n, nc + 3, 2 * n + 1, 0, 0, 0, 0, 0, 0};   /* padded strides on purpose */
    xb_rng r;
    xb_rng_seed(&r, seed);
    p.u = xb_alloc(sizeof(float) * (size_t)L * p.ld);
    p.dt = xb_alloc(sizeof(float) * (size_t)L * p.ld);
    p.dy = xb_alloc(sizeof(float) * (size_t)L * p.ld);
    p.BC = xb_alloc(sizeof(float) * (size_t)L * p.ldbc);
    p.At = xb_alloc(sizeof(float) * (size_t)n * nc);
    p.Dsk = xb_alloc(sizeof(float) * (size_t)nc);
    for (int t = 0; t < L; t++)
        for (int c = 0; c < nc; c++) {
            p.u[(size_t)t * p.ld + c] = (float)xb_rng_normal(&r);
            p.dt[(size_t)t * p.ld + c] = xb_rng_uniformf(&r, 0.05f, 1.5f);
            p.dy[(size_t)t * p.ld + c] = (float)xb_rng_normal(&r);
        }
    for (size_t i = 0; i < (size_t)L * p.ldbc; i++) p.BC[i] = (float)xb_rng_normal(&r);
    for (int s = 0; s < n; s++)
        for (int c = 0; c < nc; c++) p.At[(size_t)s * nc + c] = -(float)(s + 1) * xb_rng_uniformf(&r, 0.2f, 1.0f);
    for (int c = 0; c < nc; c++) p.Dsk[c] = xb_rng_uniformf(&r, 0.5f, 1.5f);
    return p;
}

static void free_prob(prob *p)
{
    xb_free(p->u); xb_free(p->dt); xb_free(p->dy); xb_free(p->BC); xb_free(p->At); xb_free(p->Dsk);
}

/* Naive double forward in visiting order (rev: t = L−1..0); optional inputs overridden by
 * perturbation index. Returns loss Σ y·dy; fills y (time-ordered) and hs (every h_t, visit
 * order, [k][c][s]) when given. */
static double naive_forward(const prob *p, int rev, const double *du_pert, double *y, double *hs)
{
    const int L = p->L, nc = p->nc, n = p->n;
    double *h = calloc((size_t)nc * n, sizeof(double));
    double loss = 0;
    for (int k = 0; k < L; k++) {
        const int t = rev ? L - 1 - k : k;
        for (int c = 0; c < nc; c++) {
            double u = p->u[(size_t)t * p->ld + c], dt = p->dt[(size_t)t * p->ld + c];
            if (du_pert) { u += du_pert[(size_t)t * nc * 2 + c]; dt += du_pert[(size_t)t * nc * 2 + nc + c]; }
            double yy = p->Dsk[c] * u;
            for (int s = 0; s < n; s++) {
                double A = p->At[(size_t)s * nc + c];
                double Bv = p->BC[(size_t)t * p->ldbc + s], Cv = p->BC[(size_t)t * p->ldbc + n + s];
                double *hh = &h[(size_t)c * n + s];
                *hh = exp(dt * A) * *hh + dt * Bv * u;
                yy += Cv * *hh;
                if (hs) hs[((size_t)k * nc + c) * n + s] = *hh;
            }
            if (y) y[(size_t)t * nc + c] = yy;
            loss += yy * p->dy[(size_t)t * p->ld + c];
        }
    }
    free(h);
    return loss;
}

/* Naive double reverse-mode: du, ddt [L][nc], dB, dC [L][n], dA [n][nc], dD [nc]. */
static void naive_backward(const prob *p, int rev, double *du, double *ddt, double *dB, double *dC,
                           double *dA, double *dD)
{
    const int L = p->L, nc = p->nc, n = p->n;
    double *hs = malloc(sizeof(double) * (size_t)L * nc * n);
    naive_forward(p, rev, NULL, NULL, hs);
    double *g = calloc((size_t)nc * n, sizeof(double));
    memset(dB, 0, sizeof(double) * (size_t)L * n); memset(dC, 0, sizeof(double) * (size_t)L * n);
    memset(dA, 0, sizeof(double) * (size_t)n * nc); memset(dD, 0, sizeof(double) * nc);
    for (int k = L - 1; k >= 0; k--) {
        const int t = rev ? L - 1 - k : k;
        for (int c = 0; c < nc; c++) {
            double u = p->u[(size_t)t * p->ld + c], dt = p->dt[(size_t)t * p->ld + c];
            double dyv = p->dy[(size_t)t * p->ld + c];
            double gu = p->Dsk[c] * dyv, gdt = 0;
            dD[c] += u * dyv;
            for (int s = 0; s < n; s++) {
                double A = p->At[(size_t)s * nc + c];
                double Bv = p->BC[(size_t)t * p->ldbc + s], Cv = p->BC[(size_t)t * p->ldbc + n + s];
                double ht = hs[((size_t)k * nc + c) * n + s];
                double hp = k > 0 ? hs[((size_t)(k - 1) * nc + c) * n + s] : 0.0;
                double a = exp(dt * A);
                double gg = g[(size_t)c * n + s] + Cv * dyv;   /* ∂loss/∂h_t */
                dC[(size_t)t * n + s] += dyv * ht;
                dB[(size_t)t * n + s] += gg * dt * u;
                gdt += gg * (A * a * hp + Bv * u);
                dA[(size_t)s * nc + c] += gg * dt * a * hp;
                gu += gg * dt * Bv;
                g[(size_t)c * n + s] = a * gg;
            }
            du[(size_t)t * nc + c] = gu;
            ddt[(size_t)t * nc + c] = gdt;
        }
    }
    free(hs); free(g);
}

static double relerr(double a, double b) { return fabs(a - b) / (fabs(b) + 1e-3); }

Test(selscan, forward_vs_naive)
{
    /* n = 16 takes the register-resident AVX-512 path (where compiled), other n the generic one */
    const int shapes[][2] = {{37, 5}, {37, 16}, {64, 16}, {5, 16}};
    for (int sh = 0; sh < 4; sh++)
    for (int rev = 0; rev <= 1; rev++) {
        const int L = 150, nc = shapes[sh][0], n = shapes[sh][1], C = 16;
        prob p = make_prob(L, nc, n, 3 + sh);
        float *y = xb_alloc(sizeof(float) * (size_t)L * p.ld);
        const int nck = xb_selscan_nchunks(L, C);
        float *ck = xb_alloc(sizeof(float) * (size_t)nck * n * nc);
        const size_t r0 = rev ? (size_t)L - 1 : 0;
        const ptrdiff_t ld = rev ? -p.ld : p.ld, ldbc = rev ? -p.ldbc : p.ldbc;
        xb_selscan_forward(L, nc, n, C, p.u + r0 * p.ld, p.dt + r0 * p.ld, ld, p.BC + r0 * p.ldbc,
                           p.BC + r0 * p.ldbc + n, ldbc, p.At, nc, p.Dsk, y + r0 * p.ld, ck, nc);
        double *yr = malloc(sizeof(double) * (size_t)L * nc), *hs = malloc(sizeof(double) * (size_t)L * nc * n);
        naive_forward(&p, rev, NULL, yr, hs);
        /* pointwise relative error (floor 1e-3) for the small state; with n = 16 the sum over
         * states cancels more, so there the error is measured against the largest |y| */
        double worst = 0, ymax = 0, eabs = 0;
        for (int t = 0; t < L; t++)
            for (int c = 0; c < nc; c++) {
                double e = relerr(y[(size_t)t * p.ld + c], yr[(size_t)t * nc + c]);
                if (e > worst) worst = e;
                ymax = fmax(ymax, fabs(yr[(size_t)t * nc + c]));
                eabs = fmax(eabs, fabs(y[(size_t)t * p.ld + c] - yr[(size_t)t * nc + c]));
            }
        if (n < 16)
            cr_expect(worst < 1e-4, "forward (%s, nc %d, n %d): worst relative error %g", rev ? "reverse" : "forward", nc, n, worst);
        cr_expect(eabs / ymax < 2e-6, "forward (%s, nc %d, n %d): max error / max |y| = %g", rev ? "reverse" : "forward", nc, n, eabs / ymax);
        for (int j = 1; j < nck; j++)   /* checkpoint j = state after visited step jC − 1 */
            for (int s = 0; s < n; s++)
                for (int c = 0; c < nc; c++) {
                    double want = hs[((size_t)(j * C - 1) * nc + c) * n + s];
                    double got = ck[((size_t)j * n + s) * nc + c];
                    cr_expect(relerr(got, want) < 1e-4, "checkpoint %d s %d c %d: %g vs %g", j, s, c, got, want);
                }
        for (size_t i = 0; i < (size_t)n * nc; i++) cr_expect_eq(ck[i], 0.0f, "checkpoint 0 must be the zero state");
        xb_free(y); xb_free(ck); free(yr); free(hs);
        free_prob(&p);
    }
}

Test(selscan, naive_backward_vs_finite_differences)
{
    const int L = 9, nc = 3, n = 4;
    prob p = make_prob(L, nc, n, 5);
    for (int rev = 0; rev <= 1; rev++) {
        double du[27], ddt[27], dB[36], dC[36], dA[12], dD[3];
        naive_backward(&p, rev, du, ddt, dB, dC, dA, dD);
        double pert[9 * 3 * 2];
        for (int t = 0; t < L; t++)
            for (int c = 0; c < nc; c++)
                for (int which = 0; which < 2; which++) {
                    const double h = 1e-6;
                    memset(pert, 0, sizeof pert);
                    pert[(size_t)t * nc * 2 + which * nc + c] = h;
                    double lp = naive_forward(&p, rev, pert, NULL, NULL);
                    pert[(size_t)t * nc * 2 + which * nc + c] = -h;
                    double lm = naive_forward(&p, rev, pert, NULL, NULL);
                    double num = (lp - lm) / (2 * h), ana = which ? ddt[t * nc + c] : du[t * nc + c];
                    cr_expect(fabs(num - ana) < 1e-6 * (1 + fabs(num)), "naive %s t %d c %d: %g vs FD %g",
                              which ? "dΔ" : "du", t, c, ana, num);
                }
        /* A, B, C, D through the float inputs: perturb in place (double loss) */
        float *targets[4] = {p.At, p.BC, p.BC + n, p.Dsk};
        for (int q = 0; q < 4; q++)
            for (int i = 0; i < 6; i++) {
                float *v;
                double ana;
                if (q == 0) { int s = i % n, c = i % nc; v = &p.At[s * nc + c]; ana = dA[s * nc + c]; }
                else if (q == 3) { v = &p.Dsk[i % nc]; ana = dD[i % nc]; }
                else { int t = i, s = i % n; v = &targets[q][(size_t)t * p.ldbc + s]; ana = q == 1 ? dB[t * n + s] : dC[t * n + s]; }
                float keep = *v;
                const float h = 1e-2f;
                *v = keep + h; double lp = naive_forward(&p, rev, NULL, NULL, NULL);
                *v = keep - h; double lm = naive_forward(&p, rev, NULL, NULL, NULL);
                *v = keep;
                double num = (lp - lm) / (2.0 * (double)((keep + h) - keep));
                cr_expect(fabs(num - ana) < 2e-3 * (1 + fabs(num)), "naive param %d #%d: %g vs FD %g", q, i, ana, num);
            }
    }
    free_prob(&p);
}

Test(selscan, backward_vs_naive)
{
    const int L = 150, nc = 37, n = 5, C = 16;
    prob p = make_prob(L, nc, n, 9);
    float *work = xb_alloc(sizeof(float) * xb_selscan_work(n, C));
    for (int rev = 0; rev <= 1; rev++) {
        const int nck = xb_selscan_nchunks(L, C);
        float *y = xb_alloc(sizeof(float) * (size_t)L * p.ld), *ck = xb_alloc(sizeof(float) * (size_t)nck * n * nc);
        float *du = xb_alloc(sizeof(float) * (size_t)L * p.ld), *ddt = xb_alloc(sizeof(float) * (size_t)L * p.ld);
        float *dBC = xb_alloc(sizeof(float) * (size_t)L * 2 * n), *dA = xb_alloc(sizeof(float) * (size_t)n * nc);
        float *dD = xb_alloc(sizeof(float) * nc);
        const size_t r0 = rev ? (size_t)L - 1 : 0;
        const ptrdiff_t ld = rev ? -p.ld : p.ld, ldbc = rev ? -p.ldbc : p.ldbc, ldg = rev ? -2 * n : 2 * n;
        xb_selscan_forward(L, nc, n, C, p.u + r0 * p.ld, p.dt + r0 * p.ld, ld, p.BC + r0 * p.ldbc,
                           p.BC + r0 * p.ldbc + n, ldbc, p.At, nc, p.Dsk, y + r0 * p.ld, ck, nc);
        xb_selscan_backward(L, nc, n, C, p.u + r0 * p.ld, p.dt + r0 * p.ld, ld, p.BC + r0 * p.ldbc,
                            p.BC + r0 * p.ldbc + n, ldbc, p.At, nc, p.Dsk, ck, nc, p.dy + r0 * p.ld,
                            du + r0 * p.ld, ddt + r0 * p.ld, dBC + r0 * 2 * n, dBC + r0 * 2 * n + n, ldg,
                            dA, dD, work);
        double *rdu = malloc(sizeof(double) * L * nc), *rddt = malloc(sizeof(double) * L * nc);
        double *rdB = malloc(sizeof(double) * L * n), *rdC = malloc(sizeof(double) * L * n);
        double *rdA = malloc(sizeof(double) * n * nc), *rdD = malloc(sizeof(double) * nc);
        naive_backward(&p, rev, rdu, rddt, rdB, rdC, rdA, rdD);
        double w[6] = {0};
        for (int t = 0; t < L; t++) {
            for (int c = 0; c < nc; c++) {
                w[0] = fmax(w[0], relerr(du[(size_t)t * p.ld + c], rdu[t * nc + c]));
                w[1] = fmax(w[1], relerr(ddt[(size_t)t * p.ld + c], rddt[t * nc + c]));
            }
            for (int s = 0; s < n; s++) {
                w[2] = fmax(w[2], relerr(dBC[(size_t)t * 2 * n + s], rdB[t * n + s]));
                w[3] = fmax(w[3], relerr(dBC[(size_t)t * 2 * n + n + s], rdC[t * n + s]));
            }
        }
        for (int i = 0; i < n * nc; i++) w[4] = fmax(w[4], relerr(dA[i], rdA[i]));
        for (int c = 0; c < nc; c++) w[5] = fmax(w[5], relerr(dD[c], rdD[c]));
        const char *what[6] = {"du", "dΔ", "dB", "dC", "dA", "dD"};
        for (int i = 0; i < 6; i++)
            cr_expect(w[i] < 2e-4, "backward (%s) %s: worst relative error %g", rev ? "reverse" : "forward", what[i], w[i]);
        xb_free(y); xb_free(ck); xb_free(du); xb_free(ddt); xb_free(dBC); xb_free(dA); xb_free(dD);
        free(rdu); free(rddt); free(rdB); free(rdC); free(rdA); free(rdD);
    }
    xb_free(work);
    free_prob(&p);
}

/* ---- the mamba mixer with a sizeable Δ ---------------------------------------------- */

static double loss_of(const xb_mixer *m, const xb_mixer_cfg *c, const float *w, const float *x,
                      const int *len, const float *R, float *y, float *saved, float *scratch, int B, int N)
{
    m->forward(c, w, x, len, y, saved, scratch, B, N);
    double s = 0;
    for (size_t i = 0; i < (size_t)B * N * c->d; i++) s += (double)y[i] * R[i];
    return s;
}

static void mamba_grads_mode(int causal)
{
    const xb_mixer *m = xb_mixer_find("mamba");
    cr_assert(m, "mamba is not registered");
    xb_mixer_cfg c = {0};
    c.d = 8; c.heads = 1; c.causal = causal; c.n_max = 12; xb_mixer_opt_set(m, &c, "state", 3); xb_mixer_opt_set(m, &c, "chunk", 5);
    c = xb_mixer_resolve(m, &c);
    const int B = 2, N = 12, d = c.d;
    int len[2] = {12, 9};
    size_t np = xb_mixer_n_params(m, &c);
    float *w = xb_alloc(sizeof(float) * np), *dw = xb_alloc(sizeof(float) * np);
    float *saved = xb_alloc(sizeof(float) * B * m->n_saved(&c, N));
    float *scratch = xb_alloc(sizeof(float) * m->n_scratch(&c, B, N));
    float *x = xb_alloc(sizeof(float) * B * N * d), *R = xb_alloc(sizeof(float) * B * N * d);
    float *y = xb_alloc(sizeof(float) * B * N * d), *dx = xb_alloc(sizeof(float) * B * N * d);
    xb_rng rng;
    xb_rng_seed(&rng, 21);
    m->init(&c, w, &rng);
    for (int i = 0; i < B * N * d; i++) { x[i] = (float)xb_rng_normal(&rng); R[i] = (float)xb_rng_normal(&rng); }
    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(&c, t);
    for (int q = 0; q < nt; q++)   /* Δ = softplus(b_dt + …) ≈ 0.5–1 instead of 1e-3–1e-1 */
        if (strncmp(t[q].name, "b_dt", 4) == 0)
            for (int i = 0; i < t[q].rows; i++) w[t[q].offset + i] = xb_rng_uniformf(&rng, -0.5f, 0.5f);
        else if (strncmp(t[q].name, "W_x", 3) == 0)   /* larger δ, B, C: the scan path dominates */
            for (size_t i = 0; i < (size_t)t[q].rows * t[q].cols; i++) w[t[q].offset + i] *= 3.0f;
    loss_of(m, &c, w, x, len, R, y, saved, scratch, B, N);
    m->backward(&c, w, x, len, saved, R, dx, dw, scratch, B, N);
    const char *check[] = {"A_log", "D_skip", "b_dt", "W_dt", "A_log_rev", "D_skip_rev", "b_dt_rev", "W_dt_rev"};
    for (int q = 0; q < nt; q++) {
        int want = 0;
        for (size_t k = 0; k < sizeof check / sizeof check[0]; k++) want |= strcmp(t[q].name, check[k]) == 0;
        if (!want) continue;
        double num2 = 0, err2 = 0;
        for (size_t i = t[q].offset; i < t[q].offset + (size_t)t[q].rows * t[q].cols; i++) {
            float keep = w[i];
            const float h = 1e-2f;
            w[i] = keep + h; double lp = loss_of(m, &c, w, x, len, R, y, saved, scratch, B, N);
            w[i] = keep - h; double lm = loss_of(m, &c, w, x, len, R, y, saved, scratch, B, N);
            w[i] = keep;
            double num = (lp - lm) / (2.0 * h);
            num2 += num * num;
            err2 += (num - dw[i]) * (num - dw[i]);
        }
        cr_expect(num2 > 1e-4, "%s: gradient too small to test (%g)", t[q].name, sqrt(num2));
        cr_expect(sqrt(err2) <= 1e-2 * sqrt(num2), "mamba (%s) %s: |analytic − FD| / |FD| = %g",
                  causal ? "causal" : "bidir", t[q].name, sqrt(err2 / num2));
    }
    xb_free(w); xb_free(dw); xb_free(saved); xb_free(scratch); xb_free(x); xb_free(R); xb_free(y); xb_free(dx);
}

Test(selscan, mamba_grads) { mamba_grads_mode(1); mamba_grads_mode(0); }
