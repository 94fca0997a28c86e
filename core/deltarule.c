/* core/deltarule.c — recurrent delta-rule scan with checkpoints (see core/deltarule.h).
 * Each step is three dh×dh matrix–vector products, written with the value index innermost so
 * they vectorise. Tested against a double-precision recurrence in tests/test_chunkscan.c. */
#include "core/deltarule.h"

#include <string.h>

#include "core/xb.h"

size_t xb_deltarule_work(int C, int dh)
{
    size_t h = (size_t)dh;
    return ((size_t)C + 2) * h * h + (size_t)C * h + 8 * h + 64;
}

/* Σ x⊙y with 16 independent partial sums, so it vectorises without reassociation (fixed order:
 * deterministic). */
static inline float dotv(const float *restrict x, const float *restrict y, int n)
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

static inline int trow(const xb_deltarule *p, int tau) { return p->reverse ? p->L - 1 - tau : tau; }

/* One step on S (in place): u = Sᵀk, e = β(v − u), S += k eᵀ, o = Sᵀq. u, e, o: [dh]. */
static void step(int dh, float *restrict S, const float *restrict q, const float *restrict k,
                 const float *restrict v, float beta, float *restrict u, float *restrict e,
                 float *restrict o)
{
    for (int j = 0; j < dh; j++) u[j] = 0.0f;
    for (int i = 0; i < dh; i++) {
        const float ki = k[i], *Si = S + (size_t)i * dh;
        for (int j = 0; j < dh; j++) u[j] += ki * Si[j];
    }
    for (int j = 0; j < dh; j++) { e[j] = beta * (v[j] - u[j]); o[j] = 0.0f; }
    for (int i = 0; i < dh; i++) {
        const float ki = k[i], qi = q[i];
        float *Si = S + (size_t)i * dh;
        for (int j = 0; j < dh; j++) { Si[j] += ki * e[j]; o[j] += qi * Si[j]; }
    }
}

void xb_deltarule_forward(const xb_deltarule *p, const float *q, const float *k, const float *v,
                          const float *beta, float *o, int accumulate, float *ckpt, float *work)
{
    const int dh = p->dh, L = p->L;
    const size_t hh = (size_t)dh * dh;
    float *S = work, *u = S + hh, *e = u + dh, *ot = e + dh;
    memset(S, 0, hh * sizeof(float));
    for (int tau = 0; tau < L; tau++) {
        if (tau % p->C == 0) memcpy(ckpt + (size_t)(tau / p->C) * hh, S, hh * sizeof(float));
        const size_t t = (size_t)trow(p, tau);
        step(dh, S, q + t * p->ld, k + t * p->ld, v + t * p->ld, beta[t * p->ldb], u, e, ot);
        float *orow = o + t * p->ld;
        if (accumulate) for (int j = 0; j < dh; j++) orow[j] += ot[j];
        else memcpy(orow, ot, (size_t)dh * sizeof(float));
    }
}

void xb_deltarule_backward(const xb_deltarule *p, const float *q, const float *k, const float *v,
                           const float *beta, const float *ckpt, const float *dO, float *dq,
                           float *dk, float *dv, float *dbeta, float *work)
{
    const int dh = p->dh, L = p->L, C = p->C;
    const size_t hh = (size_t)dh * dh;
    float *Ss = work;                         /* Ss[i] = state before step i of the chunk, i = 0..c */
    float *U = Ss + ((size_t)C + 1) * hh;     /* u of each step [C × dh] */
    float *G = U + (size_t)C * dh;            /* ∂L/∂S_t */
    float *e = G + hh, *de = e + dh, *du = de + dh, *dkt = du + dh, *tmp = dkt + dh;
    memset(G, 0, hh * sizeof(float));
    const int nch = xb_deltarule_nchunks(L, C);
    for (int j = nch - 1; j >= 0; j--) {
        const int c0 = j * C, c = xb_min(C, L - c0);
        memcpy(Ss, ckpt + (size_t)j * hh, hh * sizeof(float));
        for (int i = 0; i < c; i++) {
            const size_t t = (size_t)trow(p, c0 + i);
            memcpy(Ss + (size_t)(i + 1) * hh, Ss + (size_t)i * hh, hh * sizeof(float));
            step(dh, Ss + (size_t)(i + 1) * hh, q + t * p->ld, k + t * p->ld, v + t * p->ld,
                 beta[t * p->ldb], U + (size_t)i * dh, e, tmp);
        }
        for (int i = c - 1; i >= 0; i--) {
            const size_t t = (size_t)trow(p, c0 + i);
            const float *qt = q + t * p->ld, *kt = k + t * p->ld, *vt = v + t * p->ld, *dot = dO + t * p->ld;
            const float *Sn = Ss + (size_t)(i + 1) * hh, *Sp = Ss + (size_t)i * hh, *ut = U + (size_t)i * dh;
            const float bt = beta[t * p->ldb];
            float *dqt = dq + t * p->ld;
            for (int b = 0; b < dh; b++) { e[b] = bt * (vt[b] - ut[b]); de[b] = 0.0f; }
            for (int a = 0; a < dh; a++) {
                float *Ga = G + (size_t)a * dh;
                const float *Sa = Sn + (size_t)a * dh;
                const float qa = qt[a], ka = kt[a];
                for (int b = 0; b < dh; b++) { Ga[b] += qa * dot[b]; de[b] += Ga[b] * ka; }
                dqt[a] += dotv(Sa, dot, dh);
                dkt[a] = dotv(Ga, e, dh);
            }
            float db = 0.0f;
            for (int b = 0; b < dh; b++) { db += de[b] * (vt[b] - ut[b]); du[b] = -bt * de[b]; }
            dbeta[t * p->ldb] += db;
            float *dvt = dv + t * p->ld, *dkr = dk + t * p->ld;
            for (int b = 0; b < dh; b++) dvt[b] += bt * de[b];
            for (int a = 0; a < dh; a++) {
                const float *Sa = Sp + (size_t)a * dh;
                float *Ga = G + (size_t)a * dh;
                const float ka = kt[a];
                const float s = dotv(Sa, du, dh);
                for (int b = 0; b < dh; b++) Ga[b] += ka * du[b];
                dkr[a] += dkt[a] + s;
            }
        }
    }
}
