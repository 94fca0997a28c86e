/* tests/test_chunkscan.c — the chunked gated scan (core/chunkscan.c) against the sequential
 * recurrence in double precision (the kernel-level oracle):
 *   S_t = Diag(e^{g_t}) S_{t−1} + k_t v_tᵀ, o_t = S_tᵀ(scale·q_t)
 * and its recurrent backward (MIXERS.md §16): G_t = q̂_t do_tᵀ + Diag(α_{t+1}) G_{t+1},
 * dq̂ = S_t do_t, dk = G_t v_t, dv = G_tᵀ k_t, dlogα_t = α_t ⊙ rowsum(G_t ⊙ S_{t−1}).
 * Gate regimes: mild (one sub-block per chunk), strong (chunks split into sub-blocks), extreme
 * (g = −100 steps: a naive e^{−b} would overflow), and constant (g == NULL, retnet-style);
 * both scan directions; ragged last chunks. Also: per-head RMSNorm backward vs differences. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include <omp.h>

#include "core/chunkscan.h"
#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
#include "mixers/registry.h"

typedef struct ocase { int L, dk, dv, C, reverse, regime; } ocase;

/* Oracle over scan order (step tau reads time row tr(tau)). All outputs overwritten. */
static void oracle(const ocase *c, float scale, float g0, const float *q, const float *k, const float *v,
                   const float *g, const float *dO, double *o, double *dq, double *dk, double *dv, double *dg)
{
    const int L = c->L, Dk = c->dk, Dv = c->dv;
    double *S = calloc((size_t)(L + 1) * Dk * Dv, sizeof(double));  /* S[tau+1] = state after step tau */
#define TR(tau) ((size_t)(c->reverse ? L - 1 - (tau) : (tau)))
#define GV(t, i) (g ? (double)g[(t) * Dk + (i)] : (double)g0)
    for (int tau = 0; tau < L; tau++) {
        size_t t = TR(tau);
        double *Sp = S + (size_t)tau * Dk * Dv, *Sn = Sp + (size_t)Dk * Dv;
        for (int i = 0; i < Dk; i++)
            for (int j = 0; j < Dv; j++)
                Sn[i * Dv + j] = exp(GV(t, i)) * Sp[i * Dv + j] + (double)k[t * Dk + i] * v[t * Dv + j];
        for (int j = 0; j < Dv; j++) {
            double s = 0;
            for (int i = 0; i < Dk; i++) s += Sn[i * Dv + j] * scale * q[t * Dk + i];
            o[t * Dv + j] = s;
        }
    }
    double *G = calloc((size_t)Dk * Dv, sizeof(double));
    for (int tau = L - 1; tau >= 0; tau--) {
        size_t t = TR(tau);
        double *Sp = S + (size_t)tau * Dk * Dv, *Sn = Sp + (size_t)Dk * Dv;
        if (tau < L - 1) {  /* G_tau = Diag(α_{tau+1}) G_{tau+1} + q̂ doᵀ */
            size_t tn = TR(tau + 1);
            for (int i = 0; i < Dk; i++)
                for (int j = 0; j < Dv; j++) G[i * Dv + j] *= exp(GV(tn, i));
        }
        for (int i = 0; i < Dk; i++)
            for (int j = 0; j < Dv; j++) G[i * Dv + j] += scale * q[t * Dk + i] * (double)dO[t * Dv + j];
        for (int i = 0; i < Dk; i++) {
            double a = 0, b = 0, e = 0;
            for (int j = 0; j < Dv; j++) {
                a += Sn[i * Dv + j] * dO[t * Dv + j];
                b += G[i * Dv + j] * v[t * Dv + j];
                e += G[i * Dv + j] * Sp[i * Dv + j];
            }
            dq[t * Dk + i] = scale * a;
            dk[t * Dk + i] = b;
            dg[t * Dk + i] = e * exp(GV(t, i));
        }
        for (int j = 0; j < Dv; j++) {
            double s = 0;
            for (int i = 0; i < Dk; i++) s += G[i * Dv + j] * k[t * Dk + i];
            dv[t * Dv + j] = s;
        }
    }
#undef TR
#undef GV
    free(G); free(S);
}

static float *randn(size_t n, xb_rng *r, float s)
{
    float *p = xb_alloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) p[i] = s * (float)xb_rng_normal(r);
    return p;
}

/* max |a − b| relative to max |b| (floor 1e-3 on the denominator). */
static double relerr(const float *a, const double *b, size_t n)
{
    double m = 0, e = 0;
    for (size_t i = 0; i < n; i++) { m = fmax(m, fabs(b[i])); e = fmax(e, fabs(a[i] - b[i])); }
    return e / fmax(m, 1e-3);
}

static void run_case(ocase c)
{
    xb_rng r;
    xb_rng_seed(&r, 1000 + c.L * 7 + c.C * 3 + c.reverse + 10 * c.regime);
    const size_t nk = (size_t)c.L * c.dk, nv = (size_t)c.L * c.dv;
    float *q = randn(nk, &r, 1), *k = randn(nk, &r, 1), *v = randn(nv, &r, 1), *dO = randn(nv, &r, 1);
    float *g = c.regime == 3 ? NULL : xb_alloc(nk * sizeof(float));
    for (size_t i = 0; g && i < nk; i++) {
        double u = xb_rng_uniform(&r);
        if (c.regime == 0) g[i] = (float)(-0.2 * u);                       /* mild */
        else if (c.regime == 1) g[i] = (float)(-8.0 * u);                  /* strong */
        else g[i] = xb_rng_below(&r, 8) == 0 ? -100.0f : (float)(-0.5 * u); /* extreme */
    }
    const float scale = 1.0f / sqrtf((float)c.dk), g0 = -0.05f;
    xb_chunkscan p = {.L = c.L, .dk = c.dk, .dv = c.dv, .C = c.C, .ldk = c.dk, .ldv = c.dv,
                      .reverse = c.reverse, .scale = scale, .g0 = g0};
    float *work = xb_alloc(xb_chunkscan_work(c.C, c.dk, c.dv) * sizeof(float));
    float *ckpt = xb_alloc((size_t)xb_chunkscan_nchunks(c.L, c.C) * c.dk * c.dv * sizeof(float));
    float *o = xb_alloc(nv * sizeof(float));
    float *dq = xb_alloc(nk * sizeof(float)), *dk = xb_alloc(nk * sizeof(float));
    float *dv = xb_alloc(nv * sizeof(float)), *dg = xb_alloc(nk * sizeof(float));
    double *ro = calloc(nv, sizeof(double)), *rdq = calloc(nk, sizeof(double)), *rdk = calloc(nk, sizeof(double));
    double *rdv = calloc(nv, sizeof(double)), *rdg = calloc(nk, sizeof(double));

    xb_chunkscan_forward(&p, q, k, v, g, o, 0, ckpt, work);
    xb_chunkscan_backward(&p, q, k, v, g, ckpt, dO, dq, dk, dv, dg, work);
    oracle(&c, scale, g0, q, k, v, g, dO, ro, rdq, rdk, rdv, rdg);
    const char *reg[] = {"mild", "strong", "extreme", "constant"};
    double eo = relerr(o, ro, nv), eq = relerr(dq, rdq, nk), ek = relerr(dk, rdk, nk), ev = relerr(dv, rdv, nv);
    cr_expect(eo < 1e-5, "L=%d C=%d rev=%d %s: forward rel err %g", c.L, c.C, c.reverse, reg[c.regime], eo);
    cr_expect(eq < 1e-5 && ek < 1e-5 && ev < 1e-5, "L=%d C=%d rev=%d %s: dq %g dk %g dv %g", c.L, c.C,
              c.reverse, reg[c.regime], eq, ek, ev);
    if (g) {
        double eg = relerr(dg, rdg, nk);
        cr_expect(eg < 1e-4, "L=%d C=%d rev=%d %s: dg rel err %g", c.L, c.C, c.reverse, reg[c.regime], eg);
    }
    /* the three-phase forward (chunks in reverse order, carry in two row blocks) gives the same
     * output against the oracle and the same checkpoints as the fused serial forward */
    const int nch = xb_chunkscan_nchunks(c.L, c.C);
    const size_t ssz = (size_t)c.dk * c.dv;
    float *o2 = xb_alloc(nv * sizeof(float)), *ck2 = xb_alloc((size_t)nch * ssz * sizeof(float));
    float *dec = xb_alloc((size_t)nch * c.dk * sizeof(float));
    for (int j = nch - 1; j >= 0; j--)
        xb_chunkscan_fwd_intra(&p, q, k, v, g, j, o2, 0, j + 1 < nch ? ck2 + (size_t)(j + 1) * ssz : NULL,
                               dec + (size_t)j * c.dk, work);
    xb_chunkscan_fwd_carry(nch, c.dk, c.dv, c.dk / 2, c.dk, dec, ck2);
    xb_chunkscan_fwd_carry(nch, c.dk, c.dv, 0, c.dk / 2, dec, ck2);
    for (int j = nch - 1; j >= 1; j--) xb_chunkscan_fwd_inter(&p, q, g, j, ck2 + (size_t)j * ssz, o2, work);
    double e2 = relerr(o2, ro, nv), ec = 0, mc = 1e-3;
    for (size_t i = 0; i < (size_t)nch * ssz; i++) { mc = fmax(mc, fabs(ckpt[i])); ec = fmax(ec, fabs(ckpt[i] - ck2[i])); }
    cr_expect(e2 < 1e-5, "L=%d C=%d rev=%d %s: phased forward rel err %g", c.L, c.C, c.reverse, reg[c.regime], e2);
    cr_expect(ec / mc < 1e-5, "L=%d C=%d rev=%d %s: phased checkpoints differ by %g", c.L, c.C, c.reverse,
              reg[c.regime], ec / mc);
    xb_free(o2); xb_free(ck2); xb_free(dec);
    /* accumulate mode adds: a second forward with accumulate = 1 doubles o */
    xb_chunkscan_forward(&p, q, k, v, g, o, 1, ckpt, work);
    cr_expect(relerr(o, ro, nv) > 0.5 || nv == 0, "accumulate did not add");
    xb_free(q); xb_free(k); xb_free(v); xb_free(dO); xb_free(g); xb_free(work); xb_free(ckpt); xb_free(o);
    xb_free(dq); xb_free(dk); xb_free(dv); xb_free(dg);
    free(ro); free(rdq); free(rdk); free(rdv); free(rdg);
}

Test(chunkscan, matches_recurrence)
{
    const ocase cases[] = {
        {1, 4, 4, 4, 0, 0},    {11, 4, 8, 4, 0, 0},   {11, 4, 8, 4, 1, 0},  {150, 8, 16, 64, 0, 0},
        {150, 8, 16, 64, 1, 0}, {97, 16, 8, 16, 0, 1}, {97, 16, 8, 16, 1, 1}, {130, 8, 8, 64, 0, 1},
        {70, 8, 8, 32, 0, 2},  {70, 8, 8, 32, 1, 2},  {65, 8, 12, 64, 0, 3}, {65, 8, 12, 64, 1, 3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(cases[i]);
}

/* Strong gates really exercise the sub-block split (a chunk with large total decay is
 * computed in several blocks; the result must still agree) and nothing overflows. */
Test(chunkscan, extreme_gates_finite)
{
    ocase c = {64, 8, 8, 64, 0, 2};
    run_case(c);
}

Test(chunkscan, headrms_backward)
{
    const int rows = 3, H = 2, dh = 5;
    const size_t n = (size_t)rows * H * dh;
    xb_rng r;
    xb_rng_seed(&r, 5);
    float *x = randn(n, &r, 1), *w = randn(dh, &r, 1), *dy = randn(n, &r, 1);
    float *y = xb_alloc(n * sizeof(float)), *dx = xb_alloc(n * sizeof(float)), *rs = xb_alloc(rows * H * sizeof(float));
    float dw[5] = {0};
    xb_headrms_forward(rows, H, dh, x, w, 1e-5f, y, rs);
    xb_headrms_backward(rows, H, dh, x, w, rs, dy, dx, dw);
    for (size_t i = 0; i < n + dh; i++) {
        float *p = i < n ? &x[i] : &w[i - n];
        float keep = *p, h = 1e-2f;
        double l[2];
        for (int s = 0; s < 2; s++) {
            *p = keep + (s ? -h : h);
            xb_headrms_forward(rows, H, dh, x, w, 1e-5f, y, rs);
            l[s] = 0;
            for (size_t j = 0; j < n; j++) l[s] += (double)y[j] * dy[j];
        }
        *p = keep;
        double num = (l[0] - l[1]) / (2 * h), an = i < n ? dx[i] : dw[i - n];
        cr_expect(fabs(num - an) <= 1e-2 * (fabs(num) + fabs(an)) + 1e-3, "headrms grad %zu: %g vs %g", i, an, num);
    }
    xb_free(x); xb_free(w); xb_free(dy); xb_free(y); xb_free(dx); xb_free(rs);
}

/* ---- delta rule (core/deltarule.c) ------------------------------------------------------
 * Forward vs the recurrence in double; backward vs central differences of that double
 * recurrence (loss Σ o ⊙ dO), which is independent of the kernel's backward identities. */
#include "core/deltarule.h"

static double delta_loss(int L, int dh, int rev, const double *q, const double *k, const double *v,
                         const double *beta, const float *dO, double *o)
{
    double *S = calloc((size_t)dh * dh, sizeof(double)), *u = calloc(dh, sizeof(double)), loss = 0;
    for (int tau = 0; tau < L; tau++) {
        int t = rev ? L - 1 - tau : tau;
        for (int j = 0; j < dh; j++) { u[j] = 0; for (int i = 0; i < dh; i++) u[j] += S[i * dh + j] * k[t * dh + i]; }
        for (int i = 0; i < dh; i++)
            for (int j = 0; j < dh; j++) S[i * dh + j] += k[t * dh + i] * beta[t] * (v[t * dh + j] - u[j]);
        for (int j = 0; j < dh; j++) {
            double s = 0;
            for (int i = 0; i < dh; i++) s += S[i * dh + j] * q[t * dh + i];
            if (o) o[t * dh + j] = s;
            loss += s * dO[t * dh + j];
        }
    }
    free(S); free(u);
    return loss;
}

/* Unit-norm keys and β in (0, 1), as DeltaNet feeds the scan; rows of stride ld, β of stride
 * ldb, and with ldb > 1 the next β slot (another head's) set to 1e9: it must never be read. */
static void unit_keys(float *k, float *beta, int L, int dh, int ld, int ldb, xb_rng *r)
{
    for (int t = 0; t < L; t++) {
        double s = 0;
        for (int i = 0; i < dh; i++) s += (double)k[t * ld + i] * k[t * ld + i];
        for (int i = 0; i < dh; i++) k[t * ld + i] /= (float)sqrt(s);
        beta[t * ldb] = (float)xb_rng_uniform(r);
        if (ldb > 1) beta[t * ldb + 1] = 1e9f;
    }
}

Test(chunkscan, deltarule_forward_backward)
{
    const int cases[][4] = {{9, 4, 4, 0}, {9, 4, 4, 1}, {13, 6, 5, 0}, {13, 6, 5, 1}, {40, 8, 64, 1}};
    for (size_t cs = 0; cs < sizeof cases / sizeof cases[0]; cs++) {
        const int L = cases[cs][0], dh = cases[cs][1], C = cases[cs][2], rev = cases[cs][3];
        xb_rng r;
        xb_rng_seed(&r, 77 + cs);
        const size_t n = (size_t)L * dh;
        float *q = randn(n, &r, 0.5f), *k = randn(n, &r, 1), *v = randn(n, &r, 1), *dO = randn(n, &r, 1);
        float *beta = xb_alloc((size_t)L * sizeof(float));
        unit_keys(k, beta, L, dh, dh, 1, &r);
        xb_deltarule p = {.L = L, .dh = dh, .C = C, .ld = dh, .ldb = 1, .reverse = rev};
        float *work = xb_alloc(xb_deltarule_work(C, dh) * sizeof(float));
        float *ck = xb_alloc((size_t)xb_deltarule_nchunks(L, C) * dh * dh * sizeof(float));
        float *o = xb_alloc(n * sizeof(float)), *g[4];
        for (int i = 0; i < 4; i++) g[i] = xb_alloc(n * sizeof(float));   /* dq dk dv dbeta */
        xb_deltarule_forward(&p, q, k, v, beta, o, 0, ck, work);
        xb_deltarule_backward(&p, q, k, v, beta, ck, dO, g[0], g[1], g[2], g[3], work);
        double *in[4], *ro = calloc(n, sizeof(double));
        const float *src[4] = {q, k, v, beta};
        const size_t cnt[4] = {n, n, n, (size_t)L};
        for (int a = 0; a < 4; a++) {
            in[a] = calloc(cnt[a], sizeof(double));
            for (size_t i = 0; i < cnt[a]; i++) in[a][i] = src[a][i];
        }
        delta_loss(L, dh, rev, in[0], in[1], in[2], in[3], dO, ro);
        cr_expect(relerr(o, ro, n) < 1e-5, "deltarule L=%d rev=%d forward rel err %g", L, rev, relerr(o, ro, n));
        for (int a = 0; a < 4; a++) {
            double *num = calloc(cnt[a], sizeof(double));
            for (size_t i = 0; i < cnt[a]; i++) {
                double keep = in[a][i], h = 1e-6;
                in[a][i] = keep + h; double lp = delta_loss(L, dh, rev, in[0], in[1], in[2], in[3], dO, NULL);
                in[a][i] = keep - h; double lm = delta_loss(L, dh, rev, in[0], in[1], in[2], in[3], dO, NULL);
                in[a][i] = keep;
                num[i] = (lp - lm) / (2 * h);
            }
            double e = relerr(g[a], num, cnt[a]);
            cr_expect(e < 1e-4, "deltarule L=%d dh=%d C=%d rev=%d: gradient %d rel err %g", L, dh, C, rev, a, e);
            free(num);
        }
        for (int a = 0; a < 4; a++) free(in[a]);
        free(ro);
        xb_free(q); xb_free(k); xb_free(v); xb_free(dO); xb_free(beta); xb_free(work); xb_free(ck); xb_free(o);
        for (int i = 0; i < 4; i++) xb_free(g[i]);
    }
}

/* Chunked WY forward (xb_deltarule_forward_chunked) vs the double recurrence and vs the
 * recurrent kernel: outputs (overwrite and accumulate), checkpoints, and the gradients the
 * backward computes from the chunked checkpoints vs from the recurrent ones. Rows live in a
 * wider buffer (ld > dh) with a strided β, as the mixer lays them out; ragged last chunks,
 * a one-row chunk, chunk 1 (every T is 1×1), both directions. */
Test(chunkscan, deltarule_chunked_vs_recurrent)
{
    const int cases[][4] = {{9, 4, 4, 0}, {13, 6, 5, 1}, {65, 8, 64, 0}, {200, 16, 64, 1},
                            {130, 32, 64, 0}, {37, 8, 1, 1}, {100, 16, 16, 0}};
    for (size_t cs = 0; cs < sizeof cases / sizeof cases[0]; cs++) {
        const int L = cases[cs][0], dh = cases[cs][1], C = cases[cs][2], rev = cases[cs][3];
        const int ld = dh + 3, ldb = 2;
        xb_rng r;
        xb_rng_seed(&r, 901 + cs);
        const size_t n = (size_t)L * ld;
        float *q = randn(n, &r, 0.5f), *k = randn(n, &r, 1), *v = randn(n, &r, 1), *dO = randn(n, &r, 1);
        float *beta = xb_alloc((size_t)L * ldb * sizeof(float));
        unit_keys(k, beta, L, dh, ld, ldb, &r);
        xb_deltarule p = {.L = L, .dh = dh, .C = C, .ld = ld, .ldb = ldb, .reverse = rev};
        const size_t nck = (size_t)xb_deltarule_nchunks(L, C) * dh * dh;
        float *work = xb_alloc(xb_deltarule_work(C, dh) * sizeof(float));
        float *ck[2], *o[2], *g[2][4];
        for (int f = 0; f < 2; f++) {
            ck[f] = xb_alloc(nck * sizeof(float));
            o[f] = xb_alloc(n * sizeof(float));
            for (size_t i = 0; i < n; i++) o[f][i] = 0.25f;   /* accumulate onto this */
            for (int a = 0; a < 4; a++) {
                const size_t m = a == 3 ? (size_t)L * ldb : n;
                g[f][a] = xb_alloc(m * sizeof(float));
                memset(g[f][a], 0, m * sizeof(float));
            }
        }
        xb_deltarule_forward(&p, q, k, v, beta, o[0], 1, ck[0], work);
        xb_deltarule_forward_chunked(&p, q, k, v, beta, o[1], 1, ck[1], work);
        for (int f = 0; f < 2; f++)
            xb_deltarule_backward(&p, q, k, v, beta, ck[f], dO, g[f][0], g[f][1], g[f][2], g[f][3], work);
        /* double reference of the output (dense rows) */
        double *in[4], *ro = calloc((size_t)L * dh, sizeof(double));
        for (int a = 0; a < 3; a++) in[a] = calloc((size_t)L * dh, sizeof(double));
        in[3] = calloc(L, sizeof(double));
        float *dOd = xb_alloc((size_t)L * dh * sizeof(float));
        for (int t = 0; t < L; t++) {
            for (int i = 0; i < dh; i++) {
                in[0][t * dh + i] = q[t * ld + i]; in[1][t * dh + i] = k[t * ld + i];
                in[2][t * dh + i] = v[t * ld + i]; dOd[t * dh + i] = dO[t * ld + i];
            }
            in[3][t] = beta[t * ldb];
        }
        delta_loss(L, dh, rev, in[0], in[1], in[2], in[3], dOd, ro);
        double eo = 0, mo = 0, eok = 0, mc = 0, ec = 0, eg[4] = {0}, mg[4] = {0};
        for (int t = 0; t < L; t++)
            for (int i = 0; i < dh; i++) {
                mo = fmax(mo, fabs(ro[t * dh + i]));
                eo = fmax(eo, fabs(o[1][t * ld + i] - 0.25 - ro[t * dh + i]));
                eok = fmax(eok, fabs(o[1][t * ld + i] - o[0][t * ld + i]));
            }
        for (size_t i = 0; i < nck; i++) { mc = fmax(mc, fabs(ck[0][i])); ec = fmax(ec, fabs(ck[1][i] - ck[0][i])); }
        for (int a = 0; a < 4; a++)
            for (size_t i = 0; i < (a == 3 ? (size_t)L * ldb : n); i++) {
                mg[a] = fmax(mg[a], fabs(g[0][a][i]));
                eg[a] = fmax(eg[a], fabs(g[1][a][i] - g[0][a][i]));
            }
        for (int t = 0; t < L; t++)
            for (int i = dh; i < ld; i++)
                cr_expect_eq(o[1][t * ld + i], 0.25f, "chunked forward wrote outside the head's columns");
        cr_expect(eo / fmax(mo, 1e-3) < 1e-5, "case %zu: chunked vs double rel err %g", cs, eo / fmax(mo, 1e-3));
        cr_expect(eok / fmax(mo, 1e-3) < 1e-5, "case %zu: chunked vs recurrent rel err %g", cs, eok / fmax(mo, 1e-3));
        cr_expect(ec / fmax(mc, 1e-3) < 1e-5, "case %zu: checkpoints rel err %g", cs, ec / fmax(mc, 1e-3));
        for (int a = 0; a < 4; a++)
            cr_expect(eg[a] / fmax(mg[a], 1e-3) < 1e-4, "case %zu: gradient %d from chunked checkpoints rel err %g",
                      cs, a, eg[a] / fmax(mg[a], 1e-3));
        for (int t = 0; t < L; t++) cr_expect_eq(g[1][3][t * ldb + 1], 0.0f, "dβ of another head touched");
        for (int a = 0; a < 4; a++) free(in[a]);
        free(ro);
        xb_free(q); xb_free(k); xb_free(v); xb_free(dO); xb_free(beta); xb_free(work); xb_free(dOd);
        for (int f = 0; f < 2; f++) {
            xb_free(ck[f]); xb_free(o[f]);
            for (int a = 0; a < 4; a++) xb_free(g[f][a]);
        }
    }
}

/* Mixers with two forward scan paths: a chunk-parallel one when they have fewer scans than
 * threads (B = 2 and few heads here) and a fused per-scan one otherwise. gla: three phases at
 * fewer than two scans per thread; deltanet: the split form at fewer scans than threads. Both
 * paths against the mixer's double-precision recurrence, ragged lengths (the second sequence
 * ends mid-chunk), both modes, and against each other. (The projections around the scans
 * follow the thread count's blocking, so the mixer's bits may differ between the runs; the
 * deltarule scan's own bits are compared in deltarule_split_same_bits.) */
static void two_paths(const char *name, int heads, int many_threads, int causal, uint64_t seed)
{
    const xb_mixer *m = xb_mixer_find(name);
    cr_assert_not_null(m);
    const int B = 2, N = 150, d = 32;
    xb_mixer_cfg c0 = {.d = d, .heads = heads, .causal = causal, .n_max = N};
    xb_mixer_opt_set(m, &c0, "chunk", 16);
    xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
    const int len[2] = {150, 97};
    xb_rng r;
    xb_rng_seed(&r, seed + causal);
    size_t np = xb_mixer_n_params(m, &c), act = (size_t)B * N * d;
    float *w = xb_alloc(np * sizeof(float)), *x = randn(act, &r, 1);
    m->init(&c, w, &r);
    double *yr = calloc(act, sizeof(double));
    m->reference(&c, w, x, len, yr, B, N);
    float *y[2];
    const int threads[2] = {1, many_threads};
    const int saved = omp_get_max_threads();
    for (int i = 0; i < 2; i++) {
        omp_set_num_threads(threads[i]);
        float *sv = xb_alloc(m->n_saved(&c, N) * B * sizeof(float));
        float *sc = xb_alloc(m->n_scratch(&c, B, N) * sizeof(float));
        y[i] = xb_alloc(act * sizeof(float));
        m->forward(&c, w, x, len, y[i], sv, sc, B, N);
        double e = relerr(y[i], yr, act);
        cr_expect(e < 1e-4, "%s %s, %d threads: forward vs reference rel err %g", name,
                  causal ? "causal" : "bidirectional", threads[i], e);
        xb_free(sv); xb_free(sc);
    }
    omp_set_num_threads(saved);
    double md = 0, mx = 1e-3;
    for (size_t i = 0; i < act; i++) { mx = fmax(mx, fabs(y[0][i])); md = fmax(md, fabs(y[0][i] - y[1][i])); }
    cr_expect(md / mx < 1e-5, "%s %s: the two forward paths differ by %g (relative)", name,
              causal ? "causal" : "bidirectional", md / mx);
    xb_free(w); xb_free(x); xb_free(y[0]); xb_free(y[1]); free(yr);
}

/* gla: B·h = 4, fused at 1 thread, phased at 4; deltanet: B·h = 2, fused at 1, split at 3. */
Test(chunkscan, gla_phased_and_fused_forward) { two_paths("gla", 2, 4, 1, 77); two_paths("gla", 2, 4, 0, 77); }
Test(chunkscan, deltanet_split_and_fused_forward)
{
    two_paths("deltanet", 1, 3, 1, 91);
    two_paths("deltanet", 1, 3, 0, 91);
}


typedef struct rowsrc { const float *q, *k, *v; int ld, dh; } rowsrc;

static void rows_from(void *ctx, int t, float *q, float *k, float *v)
{
    const rowsrc *s = ctx;
    memcpy(q, s->q + (size_t)t * s->ld, (size_t)s->dh * sizeof(float));
    memcpy(k, s->k + (size_t)t * s->ld, (size_t)s->dh * sizeof(float));
    memcpy(v, s->v + (size_t)t * s->ld, (size_t)s->dh * sizeof(float));
}

/* The split form of the chunked delta-rule forward, its chunks' first and last steps run in
 * reverse chunk order, gives the fused form's outputs (accumulated) and checkpoints bit for bit:
 * ragged last chunks, one-row chunks, both directions, strided rows and β. */
Test(chunkscan, deltarule_split_same_bits)
{
    const int cases[][4] = {{9, 4, 4, 0}, {13, 6, 5, 1}, {65, 8, 64, 0}, {200, 16, 64, 1}, {37, 8, 1, 1}, {100, 16, 16, 0}};
    for (size_t cs = 0; cs < sizeof cases / sizeof cases[0]; cs++) {
        const int L = cases[cs][0], dh = cases[cs][1], C = cases[cs][2], rev = cases[cs][3];
        const int ld = dh + 3, ldb = 2, nch = xb_deltarule_nchunks(L, C);
        xb_rng r;
        xb_rng_seed(&r, 313 + cs);
        const size_t n = (size_t)L * ld, nck = (size_t)nch * dh * dh;
        float *q = randn(n, &r, 0.5f), *k = randn(n, &r, 1), *v = randn(n, &r, 1);
        float *beta = xb_alloc((size_t)L * ldb * sizeof(float));
        unit_keys(k, beta, L, dh, ld, ldb, &r);
        xb_deltarule p = {.L = L, .dh = dh, .C = C, .ld = ld, .ldb = ldb, .reverse = rev};
        rowsrc src = {q, k, v, ld, dh};
        float *work = xb_alloc(xb_deltarule_work(C, dh) * sizeof(float));
        float *store = xb_alloc(xb_deltarule_split_floats(L, C, dh) * sizeof(float));
        float *ck[2], *o[2];
        for (int f = 0; f < 2; f++) {
            ck[f] = xb_alloc(nck * sizeof(float));
            o[f] = xb_alloc(n * sizeof(float));
            for (size_t i = 0; i < n; i++) o[f][i] = 0.25f;
        }
        xb_deltarule_forward_chunked_rows(&p, rows_from, &src, beta, o[0], 1, ck[0], work);
        for (int j = nch - 1; j >= 0; j--) xb_deltarule_split_prep(&p, rows_from, &src, beta, j, store, work);
        xb_deltarule_split_chain(&p, store, ck[1], work);
        for (int j = nch - 1; j >= 0; j--) xb_deltarule_split_out(&p, j, store, o[1], 1);
        cr_expect(memcmp(o[0], o[1], n * sizeof(float)) == 0, "L=%d C=%d rev=%d: split outputs differ", L, C, rev);
        cr_expect(memcmp(ck[0], ck[1], nck * sizeof(float)) == 0, "L=%d C=%d rev=%d: split checkpoints differ", L, C, rev);
        xb_free(q); xb_free(k); xb_free(v); xb_free(beta); xb_free(work); xb_free(store);
        for (int f = 0; f < 2; f++) { xb_free(ck[f]); xb_free(o[f]); }
    }
}
