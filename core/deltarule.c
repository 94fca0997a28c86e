/* core/deltarule.c — delta-rule scan with checkpoints (see core/deltarule.h): the recurrent
 * forward (three dh×dh matrix–vector products per step, value index innermost so they
 * vectorise; the oracle), the chunked WY forward (small GEMMs per chunk, fused or split in
 * three steps for chunk-parallel threads), and the backward,
 * recurrent within each chunk from the checkpoints. Tested against a double-precision
 * recurrence and against each other in tests/test_chunkscan.c. */
#include "core/deltarule.h"

#include <string.h>

#include "core/gemm.h"
#include "core/vmath.h"
#include "core/xb.h"

static size_t prep_floats(int C, int dh);
static size_t slot_floats(int C, int dh);

size_t xb_deltarule_work(int C, int dh)
{
    size_t h = (size_t)dh, c = (size_t)C;
    size_t rec = (c + 2) * h * h + c * h + 8 * h + 64;             /* recurrent fwd / backward */
    size_t chk = slot_floats(C, dh) + h * h + prep_floats(C, dh) + 64;   /* chunked forward */
    return rec > chk ? rec : chk;
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

typedef struct strided { const float *q, *k, *v; size_t ld; int dh; } strided;

static void copy_rows(void *ctx, int t, float *q, float *k, float *v)
{
    const strided *s = ctx;
    const size_t off = (size_t)t * s->ld, n = (size_t)s->dh * sizeof(float);
    memcpy(q, s->q + off, n);
    memcpy(k, s->k + off, n);
    memcpy(v, s->v + off, n);
}

void xb_deltarule_forward_chunked(const xb_deltarule *p, const float *q, const float *k,
                                  const float *v, const float *beta, float *o, int accumulate,
                                  float *ckpt, float *work)
{
    strided s = {q, k, v, (size_t)p->ld, p->dh};
    xb_deltarule_forward_chunked_rows(p, copy_rows, &s, beta, o, accumulate, ckpt, work);
}

/* ---- chunked WY forward, in three steps per chunk --------------------------------------
 * A chunk's slots (c ≤ C rows): KQW [3c × dh] (K, Q, W stacked, so [K;Q] and [Q;W] are
 * contiguous), U [c × dh], QWS [2c × dh] ([Q;W] S), P [c × c]. The fused form runs the three
 * steps per chunk in one set of slots; the split form keeps every chunk's slots, so that steps
 * 1 and 3 run for all chunks at once on many threads. The same operations on the same values
 * either way, so the same bits. */

static int chunk_rows(const xb_deltarule *p, int j) { return xb_min(p->C, p->L - j * p->C); }

/* Floats of step 1's scratch: V, BK, BV [C × dh], AP [2C × C], T [C × C], β [C]. */
static size_t prep_floats(int C, int dh) { return 3 * (size_t)C * dh + 3 * (size_t)C * C + (size_t)C; }
/* Floats of one chunk's slots. */
static size_t slot_floats(int C, int dh) { return 6 * (size_t)C * dh + (size_t)C * C; }

/* Step 1 (no state needed): the rows, A = K Kᵀ and P = tril(Q Kᵀ) (strict upper part zeroed),
 * T = (I + tril(diag(β) A, −1))⁻¹, W = T diag(β) K, U = T diag(β) V. */
static void chunk_prep(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx, const float *beta, int j,
                       float *KQW, float *U, float *Pout, float *tmp)
{
    const int dh = p->dh, C = p->C, c0 = j * C, c = chunk_rows(p, j);
    const size_t cd = (size_t)C * dh;
    float *V = tmp, *BK = V + cd, *BV = BK + cd, *AP = BV + cd, *T = AP + 2 * (size_t)C * C;
    float *bt = T + (size_t)C * C;
    float *K = KQW, *Q = KQW + (size_t)c * dh, *W = Q + (size_t)c * dh;
    const float *A = AP, *P = AP + (size_t)c * c;
    for (int i = 0; i < c; i++) {
        const size_t t = (size_t)trow(p, c0 + i), r = (size_t)i * dh;
        const float b = beta[t * p->ldb], *kt = K + r, *vt = V + r;
        rows(ctx, (int)t, Q + r, K + r, V + r);
        for (int x = 0; x < dh; x++) { BK[r + x] = b * kt[x]; BV[r + x] = b * vt[x]; }
        bt[i] = b;
    }
    xb_gemm(0, 1, 2 * c, c, dh, 1.0f, K, dh, K, dh, 0.0f, AP, c);
    /* T = (I + Lβ)⁻¹, Lβ[i][s] = β_i A[i][s] (s < i): row i of T is e_i − Σ_{s<i} Lβ[i][s] T_s,
     * T_s zero beyond column s (full-length rows keep the inner loop plain) */
    for (int i = 0; i < c; i++) {
        float *Ti = T + (size_t)i * c;
        for (int x = 0; x < c; x++) Ti[x] = 0.0f;
        for (int s = 0; s < i; s++) {
            const float l = bt[i] * A[(size_t)i * c + s], *Ts = T + (size_t)s * c;
            for (int x = 0; x <= s; x++) Ti[x] -= l * Ts[x];
        }
        Ti[i] = 1.0f;
    }
    xb_gemm(0, 0, c, dh, c, 1.0f, T, c, BK, dh, 0.0f, W, dh);
    xb_gemm(0, 0, c, dh, c, 1.0f, T, c, BV, dh, 0.0f, U, dh);
    for (int i = 0; i < c; i++)
        for (int s = 0; s < c; s++) Pout[(size_t)i * c + s] = s > i ? 0.0f : P[(size_t)i * c + s];
}

/* Step 2 (in chunk order): checkpoint S, QWS = [Q;W] S, U' = U − W S (in U), S += Kᵀ U'. */
static void chunk_state(const xb_deltarule *p, int j, int nch, const float *KQW, float *U, float *QWS,
                        float *S, float *ckpt)
{
    const int dh = p->dh, c = chunk_rows(p, j);
    const size_t hh = (size_t)dh * dh;
    memcpy(ckpt + (size_t)j * hh, S, hh * sizeof(float));
    if (j > 0) {
        xb_gemm(0, 0, 2 * c, dh, dh, 1.0f, KQW + (size_t)c * dh, dh, S, dh, 0.0f, QWS, dh);
        const float *WS = QWS + (size_t)c * dh;
        for (size_t x = 0; x < (size_t)c * dh; x++) U[x] -= WS[x];
    } else {
        memset(QWS, 0, (size_t)c * dh * sizeof(float));
    }
    if (j + 1 < nch) xb_gemm(1, 0, dh, dh, c, 1.0f, KQW, dh, U, dh, 1.0f, S, dh);
}

/* Step 3: O = Q S + tril(Q Kᵀ) U' (in QWS), to the chunk's rows of o. */
static void chunk_out(const xb_deltarule *p, int j, const float *P, const float *U, float *QWS, float *o,
                      int accumulate)
{
    const int dh = p->dh, c0 = j * p->C, c = chunk_rows(p, j);
    xb_gemm(0, 0, c, dh, c, 1.0f, P, c, U, dh, 1.0f, QWS, dh);
    for (int i = 0; i < c; i++) {
        float *orow = o + (size_t)trow(p, c0 + i) * p->ld;
        const float *Or = QWS + (size_t)i * dh;
        if (accumulate) for (int x = 0; x < dh; x++) orow[x] += Or[x];
        else memcpy(orow, Or, (size_t)dh * sizeof(float));
    }
}

void xb_deltarule_forward_chunked_rows(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx,
                                       const float *beta, float *o, int accumulate, float *ckpt,
                                       float *work)
{
    const int dh = p->dh, C = p->C, nch = xb_deltarule_nchunks(p->L, C);
    const size_t cd = (size_t)C * dh;
    float *KQW = work, *U = KQW + 3 * cd, *QWS = U + cd, *P = QWS + 2 * cd, *S = P + (size_t)C * C;
    float *tmp = S + (size_t)dh * dh;
    memset(S, 0, (size_t)dh * dh * sizeof(float));
    for (int j = 0; j < nch; j++) {
        chunk_prep(p, rows, ctx, beta, j, KQW, U, P, tmp);
        chunk_state(p, j, nch, KQW, U, QWS, S, ckpt);
        chunk_out(p, j, P, U, QWS, o, accumulate);
    }
}

size_t xb_deltarule_split_floats(int L, int C, int dh)
{
    return (size_t)xb_deltarule_nchunks(L, C) * xb_align64(slot_floats(C, dh));
}

static void slots(const xb_deltarule *p, float *store, int j, float **KQW, float **U, float **QWS, float **P)
{
    const size_t cd = (size_t)p->C * p->dh;
    *KQW = store + (size_t)j * xb_align64(slot_floats(p->C, p->dh));
    *U = *KQW + 3 * cd;
    *QWS = *U + cd;
    *P = *QWS + 2 * cd;
}

void xb_deltarule_split_prep(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx, const float *beta,
                             int j, float *store, float *work)
{
    float *KQW, *U, *QWS, *P;
    slots(p, store, j, &KQW, &U, &QWS, &P);
    chunk_prep(p, rows, ctx, beta, j, KQW, U, P, work);
}

void xb_deltarule_split_chain(const xb_deltarule *p, float *store, float *ckpt, float *work)
{
    const int nch = xb_deltarule_nchunks(p->L, p->C);
    float *S = work;
    memset(S, 0, (size_t)p->dh * p->dh * sizeof(float));
    for (int j = 0; j < nch; j++) {
        float *KQW, *U, *QWS, *P;
        slots(p, store, j, &KQW, &U, &QWS, &P);
        chunk_state(p, j, nch, KQW, U, QWS, S, ckpt);
    }
}

void xb_deltarule_split_out(const xb_deltarule *p, int j, float *store, float *o, int accumulate)
{
    float *KQW, *U, *QWS, *P;
    slots(p, store, j, &KQW, &U, &QWS, &P);
    chunk_out(p, j, P, U, QWS, o, accumulate);
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
                dqt[a] += xb_vdot(Sa, dot, dh);
                dkt[a] = xb_vdot(Ga, e, dh);
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
                const float s = xb_vdot(Sa, du, dh);
                for (int b = 0; b < dh; b++) Ga[b] += ka * du[b];
                dkr[a] += dkt[a] + s;
            }
        }
    }
}
