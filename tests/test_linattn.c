/* tests/test_linattn.c — the shared linear-attention kernels (core/linattn.c) at kernel level:
 *   causal     chunked form == plain sequential recurrence (double), with and without the
 *              running log-scale g, for several chunk sizes incl. ragged last chunks
 *   bidir      closed form == quadratic form (double)
 *   grads      chunked/closed-form backward == central differences of the double oracles
 *   favor      FAVOR+ features == naive double features; backward == finite differences */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/linattn.h"
#include "core/rng.h"
#include "core/xb.h"

enum { N_ = 23, F_ = 6, DV = 4, LDF = 9, LDV = 7 };

static void fill(float *p, size_t n, uint64_t seed, float lo, float hi)
{
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = xb_rng_uniformf(&r, lo, hi);
}

/* Sequential recurrence in double: S_t = e^{g_{t−1}−g_t} S_{t−1} + φk_t v_tᵀ, o_t = S_tᵀφq_t/(φq_t·z_t + eps).
 * causal = 0: o_i = Σ_all (φq_i·φk_j) v_j / (Σ_all φq_i·φk_j + eps) (quadratic form). */
static double oracle(int n, const double *pq, const double *pk, const double *v, const double *g,
                     int causal, double eps, const double *R, double *o)
{
    double loss = 0;
    for (int i = 0; i < n; i++) {
        double num[DV] = {0}, den = 0;
        int last = causal ? i : n - 1;
        for (int j = 0; j <= last; j++) {
            double a = 0;
            for (int f = 0; f < F_; f++) a += pq[i * LDF + f] * pk[j * LDF + f];
            if (g && causal) a *= exp(g[j] - g[i]);
            den += a;
            for (int e = 0; e < DV; e++) num[e] += a * v[j * LDV + e];
        }
        for (int e = 0; e < DV; e++) {
            double oe = num[e] / (den + eps);
            if (o) o[i * DV + e] = oe;
            if (R) loss += oe * R[i * DV + e];
        }
    }
    return loss;
}

typedef struct inputs {
    float pq[N_ * LDF], pk[N_ * LDF], v[N_ * LDV], g[N_], R[N_ * DV];
    double dq[N_ * LDF], dk[N_ * LDF], dvv[N_ * LDV], dg[N_], dR[N_ * DV];
} inputs;

static void make_inputs(inputs *in, uint64_t seed)
{
    fill(in->pq, N_ * LDF, seed, 0.05f, 1.5f);
    fill(in->pk, N_ * LDF, seed + 1, 0.05f, 1.5f);
    fill(in->v, N_ * LDV, seed + 2, -1.0f, 1.0f);
    fill(in->R, N_ * DV, seed + 3, -1.0f, 1.0f);
    float inc[N_];
    fill(inc, N_, seed + 4, 0.0f, 0.6f);
    for (int t = 0; t < N_; t++) in->g[t] = (t ? in->g[t - 1] : 0.3f) + (t % 3 == 0 ? inc[t] : 0.0f);
    for (int i = 0; i < N_ * LDF; i++) { in->dq[i] = in->pq[i]; in->dk[i] = in->pk[i]; }
    for (int i = 0; i < N_ * LDV; i++) in->dvv[i] = in->v[i];
    for (int i = 0; i < N_; i++) in->dg[i] = in->g[i];
    for (int i = 0; i < N_ * DV; i++) in->dR[i] = in->R[i];
}

Test(linattn, causal_chunked_equals_recurrence)
{
    inputs in;
    make_inputs(&in, 5);
    const int chunks[] = {1, 4, 5, 23, 64};
    for (int use_g = 0; use_g <= 1; use_g++)
        for (size_t ci = 0; ci < sizeof chunks / sizeof chunks[0]; ci++) {
            int C = chunks[ci];
            float o[N_ * DV], den[N_];
            float *ckpt = xb_alloc((size_t)xb_linattn_nchunks(N_, C) * xb_linattn_state_floats(F_, DV) * 4);
            float *work = xb_alloc(xb_linattn_work_floats(F_, DV, C) * 4);
            xb_linattn_causal_forward(N_, F_, DV, C, in.pq, in.pk, LDF, in.v, LDV, use_g ? in.g : NULL,
                                      1e-6f, o, DV, den, ckpt, work);
            double ref[N_ * DV];
            oracle(N_, in.dq, in.dk, in.dvv, use_g ? in.dg : NULL, 1, 1e-6, NULL, ref);
            for (int i = 0; i < N_ * DV; i++)
                cr_assert(fabs(o[i] - ref[i]) <= 1e-5 * (1 + fabs(ref[i])),
                          "C=%d g=%d: o[%d]=%g recurrence %g", C, use_g, i, o[i], ref[i]);
            xb_free(ckpt); xb_free(work);
        }
}

Test(linattn, bidir_closed_form_equals_quadratic)
{
    inputs in;
    make_inputs(&in, 9);
    float o[N_ * DV], den[N_], state[F_ * DV + F_];
    xb_linattn_bidir_forward(N_, F_, DV, in.pq, in.pk, LDF, in.v, LDV, 1e-6f, o, DV, den, state);
    double ref[N_ * DV];
    oracle(N_, in.dq, in.dk, in.dvv, NULL, 0, 1e-6, NULL, ref);
    for (int i = 0; i < N_ * DV; i++)
        cr_assert(fabs(o[i] - ref[i]) <= 1e-5 * (1 + fabs(ref[i])), "o[%d]=%g quadratic %g", i, o[i], ref[i]);
}

/* Central differences of the double oracle's loss Σ o ⊙ R with respect to one input. */
static double numeric(inputs *in, double *which, int idx, int causal, const double *g)
{
    double keep = which[idx], h = 1e-6;
    which[idx] = keep + h;
    double lp = oracle(N_, in->dq, in->dk, in->dvv, g, causal, 1e-6, in->dR, NULL);
    which[idx] = keep - h;
    double lm = oracle(N_, in->dq, in->dk, in->dvv, g, causal, 1e-6, in->dR, NULL);
    which[idx] = keep;
    return (lp - lm) / (2 * h);
}

static void check_grads(int causal, int use_g, int C)
{
    inputs in;
    make_inputs(&in, 21 + (uint64_t)C);
    float o[N_ * DV], den[N_];
    float *ckpt = xb_alloc((size_t)xb_linattn_nchunks(N_, C) * xb_linattn_state_floats(F_, DV) * 4);
    float *work = xb_alloc(xb_linattn_work_floats(F_, DV, C) * 4);
    float dpq[N_ * LDF], dpk[N_ * LDF], dv[N_ * LDV];
    const float *g = use_g ? in.g : NULL;
    if (causal) {
        xb_linattn_causal_forward(N_, F_, DV, C, in.pq, in.pk, LDF, in.v, LDV, g, 1e-6f, o, DV, den, ckpt, work);
        xb_linattn_causal_backward(N_, F_, DV, C, in.pq, in.pk, LDF, in.v, LDV, g, o, DV, den, ckpt, in.R, DV,
                                   dpq, dpk, dv, LDV, work);
    } else {
        xb_linattn_bidir_forward(N_, F_, DV, in.pq, in.pk, LDF, in.v, LDV, 1e-6f, o, DV, den, ckpt);
        xb_linattn_bidir_backward(N_, F_, DV, C, in.pq, in.pk, LDF, in.v, LDV, o, DV, den, ckpt, in.R, DV,
                                  dpq, dpk, dv, LDV, work);
    }
    for (int t = 0; t < N_; t++) {
        for (int f = 0; f < F_; f++) {
            int i = t * LDF + f;
            double nq = numeric(&in, in.dq, i, causal, use_g ? in.dg : NULL);
            double nk = numeric(&in, in.dk, i, causal, use_g ? in.dg : NULL);
            cr_assert(fabs(dpq[i] - nq) <= 1e-3 * (fabs(nq) + 1e-2), "causal=%d g=%d C=%d dφq[%d,%d] %g vs %g",
                      causal, use_g, C, t, f, dpq[i], nq);
            cr_assert(fabs(dpk[i] - nk) <= 1e-3 * (fabs(nk) + 1e-2), "causal=%d g=%d C=%d dφk[%d,%d] %g vs %g",
                      causal, use_g, C, t, f, dpk[i], nk);
        }
        for (int e = 0; e < DV; e++) {
            int i = t * LDV + e;
            double nv = numeric(&in, in.dvv, i, causal, use_g ? in.dg : NULL);
            cr_assert(fabs(dv[i] - nv) <= 1e-3 * (fabs(nv) + 1e-2), "causal=%d g=%d C=%d dv[%d,%d] %g vs %g",
                      causal, use_g, C, t, e, dv[i], nv);
        }
    }
    xb_free(ckpt); xb_free(work);
}

Test(linattn, causal_backward_matches_finite_differences)
{
    check_grads(1, 0, 5);
    check_grads(1, 1, 5);
    check_grads(1, 1, 64);
    check_grads(1, 0, 1);
}

Test(linattn, bidir_backward_matches_finite_differences)
{
    check_grads(0, 0, 4);
    check_grads(0, 0, 64);
}

/* ---- feature maps ------------------------------------------------------------------ */

Test(linattn, elu1)
{
    float x[] = {-3.0f, -0.5f, 0.0f, 0.25f, 2.0f}, phi[5], dx[5], one[5] = {1, 1, 1, 1, 1};
    xb_elu1_forward(5, x, phi);
    xb_elu1_backward(5, phi, one, dx);
    for (int i = 0; i < 5; i++) {
        double e = x[i] > 0 ? x[i] + 1.0 : exp(x[i]), de = x[i] > 0 ? 1.0 : exp(x[i]);
        cr_assert(fabs(phi[i] - e) < 1e-6 && fabs(dx[i] - de) < 1e-6, "x=%g φ=%g φ'=%g", x[i], phi[i], dx[i]);
    }
}

enum { FN = 9, FD = 5, FM = 7, LDX = 6 };

/* Naive double FAVOR+ features with the given mode; loss Σ φ ⊙ R. stab_io: NULL, or per-row
 * stabilisers that are written when *frozen == 0 and read (held constant) when *frozen == 1. */
static double favor_oracle(const double *x, const float *wrf, int mode, double eps, double *phi,
                           const float *R, double *stab_io, int frozen)
{
    double c = pow(FD, -0.25), ratio = 1 / sqrt((double)FM), u[FN][FM], all = -INFINITY, run = -INFINITY, loss = 0;
    for (int i = 0; i < FN; i++)
        for (int j = 0; j < FM; j++) {
            u[i][j] = 0;
            for (int e = 0; e < FD; e++) u[i][j] += wrf[j * FD + e] * c * x[i * LDX + e];
            all = fmax(all, u[i][j]);
        }
    for (int i = 0; i < FN; i++) {
        double hh = 0, rmax = -INFINITY;
        for (int e = 0; e < FD; e++) hh += c * c * x[i * LDX + e] * x[i * LDX + e] / 2;
        for (int j = 0; j < FM; j++) rmax = fmax(rmax, u[i][j]);
        run = fmax(run, rmax - hh);   /* causal modes: the stabiliser includes h = ‖cx‖²/2 */
        double stab = mode == XB_FAVOR_ROW ? rmax : mode == XB_FAVOR_ALL ? all
                    : mode == XB_FAVOR_ROW_H ? rmax - hh : run;
        if (stab_io && frozen) stab = stab_io[i];
        else if (stab_io) stab_io[i] = stab;
        for (int j = 0; j < FM; j++) {
            double p = ratio * (exp(u[i][j] - hh - stab) + eps);
            if (phi) phi[i * FM + j] = p;
            if (R) loss += p * R[i * FM + j];
        }
    }
    return loss;
}

Test(linattn, favor_features_and_backward)
{
    float x[FN * LDX], wrf[FM * FD], R[FN * FM], phi[FN * FM], du[FN * FM], dx[FN * LDX], g[FN];
    double xd[FN * LDX], ref[FN * FM], stab[FN];
    fill(x, FN * LDX, 31, -1.5f, 1.5f);
    fill(wrf, FM * FD, 32, -1.2f, 1.2f);
    fill(R, FN * FM, 33, -1.0f, 1.0f);
    for (int i = 0; i < FN * LDX; i++) xd[i] = x[i];
    for (int mode = 0; mode <= 3; mode++) {
        const float eps = mode >= XB_FAVOR_RUNNING ? 0.0f : 1e-4f;
        xb_favor_forward(FN, FD, FM, x, LDX, wrf, mode, eps, phi, FM, g);
        favor_oracle(xd, wrf, mode, eps, ref, NULL, stab, 0);
        for (int i = 0; i < FN * FM; i++)
            cr_assert(fabs(phi[i] - ref[i]) <= 1e-5 * (1 + fabs(ref[i])), "mode %d φ[%d]=%g naive %g", mode, i, phi[i], ref[i]);
        if (mode == XB_FAVOR_RUNNING)
            for (int i = 0; i < FN; i++) {
                cr_assert(fabs(g[i] - stab[i]) <= 1e-5 * (1 + fabs(stab[i])), "g[%d]=%g naive %g", i, g[i], stab[i]);
                if (i) cr_assert(g[i] >= g[i - 1], "running stabiliser decreases at %d", i);
            }
        /* backward (stabiliser stop-gradient) vs central differences with the stabilisers frozen */
        memcpy(du, R, sizeof R);
        xb_favor_backward(FN, FD, FM, x, LDX, wrf, eps, phi, FM, du, FM, dx, LDX);
        for (int i = 0; i < FN; i++)
            for (int e = 0; e < FD; e++) {
                double keep = xd[i * LDX + e], h = 1e-6;
                xd[i * LDX + e] = keep + h;
                double lp = favor_oracle(xd, wrf, mode, eps, NULL, R, stab, 1);
                xd[i * LDX + e] = keep - h;
                double lm = favor_oracle(xd, wrf, mode, eps, NULL, R, stab, 1);
                xd[i * LDX + e] = keep;
                double num = (lp - lm) / (2 * h);
                cr_assert(fabs(dx[i * LDX + e] - num) <= 1e-4 * (1 + fabs(num)), "mode %d dx[%d,%d]=%g numeric %g",
                          mode, i, e, dx[i * LDX + e], num);
            }
    }
}

/* ---- performer's random matrix ----------------------------------------------------- */
#include "mixers/registry.h"

Test(linattn, performer_wrf_orthogonal_blocks)
{
    const xb_mixer *m = xb_mixer_find("performer");
    cr_assert(m);
    xb_mixer_cfg c = {0};
    c.d = 32; c.heads = 2; xb_mixer_opt_set(m, &c, "features", 40);
    c = xb_mixer_resolve(m, &c);
    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(&c, t), at = -1;
    for (int i = 0; i < nt; i++)
        if (strcmp(t[i].name, "W_rf") == 0) at = i;
    cr_assert(at >= 0 && t[at].rows == 40 && t[at].cols == 16 && (t[at].flags & XB_T_FROZEN));
    float *w = xb_alloc(xb_mixer_n_params(m, &c) * sizeof(float));
    xb_rng rng;
    xb_rng_seed(&rng, 3);
    m->init(&c, w, &rng);
    const float *W = w + t[at].offset;
    double nrm[40];
    for (int r = 0; r < 40; r++) {
        nrm[r] = 0;
        for (int e = 0; e < 16; e++) nrm[r] += (double)W[r * 16 + e] * W[r * 16 + e];
        nrm[r] = sqrt(nrm[r]);
        cr_assert(nrm[r] > 0.5 && nrm[r] < 10, "row %d norm %g (chi_16 scale expected)", r, nrm[r]);
    }
    for (int r = 0; r < 40; r++)
        for (int s = r + 1; s < 40 && s / 16 == r / 16; s++) {
            double dp = 0;
            for (int e = 0; e < 16; e++) dp += (double)W[r * 16 + e] * W[s * 16 + e];
            cr_assert(fabs(dp / (nrm[r] * nrm[s])) < 1e-5, "rows %d and %d of one block not orthogonal", r, s);
        }
    cr_assert(fabs(nrm[0] - nrm[1]) > 1e-6, "rows are not rescaled independently");
    xb_free(w);
}

/* ---- regression: performer causal with large-norm queries and keys ------------------
 * The MQAR L=64 run (d_h = m = 64) diverged: with stabilisers on max u only the largest feature
 * was e^{−‖cx‖²/2}, the causal denominator φq·z fell to 1e-41 and 1/den overflowed in backward
 * (and once ‖c k_0‖²/2 > 87 every key feature of token 0 is 0, so den_0 = 0 and o_0 = 0/0). Here x
 * has norm ≈ 8σ, so ‖c k‖²/2 reaches the hundreds: forward and backward must stay finite, the
 * forward must match the double reference, and dx must match central differences of it. */
static double perf_ref_loss(const xb_mixer *m, const xb_mixer_cfg *c, const float *w, const float *x,
                            const float *R, int N, double *y)
{
    m->reference(c, w, x, NULL, y, 1, N);
    double l = 0;
    for (int k = 0; k < N * c->d; k++) l += y[k] * R[k];
    return l;
}

Test(linattn, performer_causal_large_norms_finite)
{
    const xb_mixer *m = xb_mixer_find("performer");
    cr_assert(m);
    enum { N = 40, D = 64 };
    xb_mixer_cfg c = {0};
    c.d = D; c.heads = 1; c.causal = 1; c.n_max = N; xb_mixer_opt_set(m, &c, "features", 64); xb_mixer_opt_set(m, &c, "chunk", 16);
    c = xb_mixer_resolve(m, &c);
    xb_mixer_opt_set(m, &c, "eps", 0.0f);
    const float sigmas[] = {1.0f, 6.0f, 12.0f};
    size_t np = xb_mixer_n_params(m, &c), ns = m->n_saved(&c, N), nsc = m->n_scratch(&c, 1, N);
    float *w = xb_alloc(np * sizeof(float)), *dw = xb_alloc(np * sizeof(float));
    float *saved = xb_alloc(ns * sizeof(float)), *scratch = xb_alloc(nsc * sizeof(float));
    float x[N * D], y[N * D], R[N * D], dx[N * D], xp[N * D];
    double yr[N * D];
    xb_rng rng;
    xb_rng_seed(&rng, 7);
    m->init(&c, w, &rng);
    fill(R, N * D, 71, -1.0f, 1.0f);
    for (size_t s = 0; s < sizeof sigmas / sizeof sigmas[0]; s++) {
        xb_rng_seed(&rng, 100 + s);
        for (int k = 0; k < N * D; k++) x[k] = sigmas[s] * (float)xb_rng_normal(&rng);
        m->forward(&c, w, x, NULL, y, saved, scratch, 1, N);
        perf_ref_loss(m, &c, w, x, R, N, yr);
        double maxref = 0, maxerr = 0;
        for (int k = 0; k < N * D; k++) {
            cr_assert(isfinite(y[k]), "σ=%g: y[%d] = %g", sigmas[s], k, y[k]);
            maxref = fmax(maxref, fabs(yr[k]));
            maxerr = fmax(maxerr, fabs(y[k] - yr[k]));
        }
        cr_assert(maxerr <= 1e-4 * fmax(maxref, 1.0), "σ=%g: forward differs from reference by %g (max %g)",
                  sigmas[s], maxerr, maxref);
        memset(dw, 0, np * sizeof(float));
        m->backward(&c, w, x, NULL, saved, R, dx, dw, scratch, 1, N);
        double gmax = 0;
        for (int k = 0; k < N * D; k++) {
            cr_assert(isfinite(dx[k]), "σ=%g: dx[%d] = %g", sigmas[s], k, dx[k]);
            gmax = fmax(gmax, fabs(dx[k]));
        }
        for (size_t k = 0; k < 4 * (size_t)D * D; k++)   /* W_Q..W_O; W_rf is frozen */
            cr_assert(isfinite(dw[k]), "σ=%g: dw[%zu] = %g", sigmas[s], k, dw[k]);
        /* dx against central differences of the double reference, at a spread of positions */
        for (int t = 0; t < N; t += 7)
            for (int e = 0; e < D; e += 13) {
                int k = t * D + e;
                double h = 1e-3 * sigmas[s];
                memcpy(xp, x, sizeof x);
                xp[k] = x[k] + (float)h;
                double lp = perf_ref_loss(m, &c, w, xp, R, N, yr);
                double hp = (double)xp[k] - x[k];
                xp[k] = x[k] - (float)h;
                double lm = perf_ref_loss(m, &c, w, xp, R, N, yr);
                double num = (lp - lm) / (hp + ((double)x[k] - xp[k]));
                cr_assert(fabs(dx[k] - num) <= 1e-3 * fmax(gmax, 1e-3), "σ=%g: dx[%d,%d] = %g, numeric %g (max |dx| %g)",
                          sigmas[s], t, e, dx[k], num, gmax);
            }
    }
    xb_free(w); xb_free(dw); xb_free(saved); xb_free(scratch);
}
