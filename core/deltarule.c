/* core/deltarule.c — delta-rule scan with checkpoints (see core/deltarule.h): the recurrent
 * forward (three dh×dh matrix–vector products per step, value index innermost so they
 * vectorise; the oracle), the chunked WY forward (small GEMMs per chunk, fused or split in
 * three steps for chunk-parallel threads), and the backward,
 * recurrent within each chunk from the checkpoints. Tested against a double-precision
 * recurrence and against each other in tests/test_chunkscan.c. */
#include "core/deltarule.h"

#include <string.h>

#include "core/gemm.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

/* Step 1's scratch (chunk_prep): V, BK, BV [C × dh], AP [2C × C], T [C × C], β [C]. */
typedef struct prep { float *V, *BK, *BV, *AP, *T, *bt; } prep;

static size_t prep_plan(int C, int dh, float *base, prep *b)
{
    const size_t c = (size_t)C, cd = c * dh;
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, b->V, cd, XB_SCR_PACKED);
    XB_TAKE(&s, b->BK, cd, XB_SCR_PACKED);
    XB_TAKE(&s, b->BV, cd, XB_SCR_PACKED);
    XB_TAKE(&s, b->AP, 2 * c * c, XB_SCR_PACKED);
    XB_TAKE(&s, b->T, c * c, XB_SCR_PACKED);
    XB_TAKE(&s, b->bt, c, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

/* One chunk's slots: K | Q | W [3 × C × dh], U [C × dh], QWS [2C × dh], P [C × C]. */
typedef struct slot { float *KQW, *U, *QWS, *P; } slot;

static size_t slot_plan(int C, int dh, float *base, slot *b)
{
    const size_t cd = (size_t)C * dh;
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, b->KQW, 3 * cd, XB_SCR_PACKED);
    XB_TAKE(&s, b->U, cd, XB_SCR_PACKED);
    XB_TAKE(&s, b->QWS, 2 * cd, XB_SCR_PACKED);
    XB_TAKE(&s, b->P, (size_t)C * C, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

/* `work`, one alternative per use (they share the room):
 *   backward:          Ss [(C + 1) × dh²] | U [C × dh] | G [dh²] | e, de, du, dkt, o [dh]
 *   chunked forward:   a slot | S [dh²] | step 1's scratch
 *   recurrent forward: S [dh²] | u, e, o [dh]
 *   split step 1:      step 1's scratch;  split step 2: S [dh²]
 * The first two keep room the size has always had past them (3 dh + 64 and 64 floats), so the
 * mixers' n_scratch, sized from xb_deltarule_work, stay what they were. */
typedef struct dwork {
    float *Ss, *U, *G, *e, *de, *du, *dkt, *o;   /* backward */
    float *slot, *S, *prep;                      /* chunked forward */
    float *rS, *ru, *re, *ro;                    /* recurrent forward */
    float *sprep, *sS;                           /* split steps 1 and 2 */
} dwork;

static size_t work_plan(int C, int dh, float *work, dwork *w)
{
    const size_t h = (size_t)dh, hh = h * h, c = (size_t)C;
    slot sl;
    prep pr;
    xb_scratch s = xb_scratch_at(work);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, w->Ss, (c + 1) * hh, XB_SCR_PACKED);
    XB_TAKE(&s, w->U, c * h, XB_SCR_PACKED);
    XB_TAKE(&s, w->G, hh, XB_SCR_PACKED);
    XB_TAKE(&s, w->e, h, XB_SCR_PACKED);
    XB_TAKE(&s, w->de, h, XB_SCR_PACKED);
    XB_TAKE(&s, w->du, h, XB_SCR_PACKED);
    XB_TAKE(&s, w->dkt, h, XB_SCR_PACKED);
    XB_TAKE(&s, w->o, h, XB_SCR_PACKED);
    xb_scratch_pad(&s, 3 * h + 64);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, w->slot, slot_plan(C, dh, NULL, &sl), XB_SCR_PACKED);
    XB_TAKE(&s, w->S, hh, XB_SCR_PACKED);
    XB_TAKE(&s, w->prep, prep_plan(C, dh, NULL, &pr), XB_SCR_PACKED);
    xb_scratch_pad(&s, 64);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, w->rS, hh, XB_SCR_PACKED);
    XB_TAKE(&s, w->ru, h, XB_SCR_PACKED);
    XB_TAKE(&s, w->re, h, XB_SCR_PACKED);
    XB_TAKE(&s, w->ro, h, XB_SCR_PACKED);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, w->sprep, prep_plan(C, dh, NULL, &pr), XB_SCR_PACKED);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, w->sS, hh, XB_SCR_PACKED);
    xb_scratch_union_end(&s, &u);
    return xb_scratch_floats(&s);
}

size_t xb_deltarule_work(int C, int dh)
{
    dwork w;
    return work_plan(C, dh, NULL, &w);
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
    dwork w;
    work_plan(p->C, dh, work, &w);
    float *S = w.rS, *u = w.ru, *e = w.re, *ot = w.ro;
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

/* Step 1 (no state needed): the rows, A = K Kᵀ and P = tril(Q Kᵀ) (strict upper part zeroed),
 * T = (I + tril(diag(β) A, −1))⁻¹, W = T diag(β) K, U = T diag(β) V. */
static void chunk_prep(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx, const float *beta, int j,
                       float *KQW, float *U, float *Pout, float *tmp)
{
    const int dh = p->dh, C = p->C, c0 = j * C, c = chunk_rows(p, j);
    prep pr;
    prep_plan(C, dh, tmp, &pr);
    float *V = pr.V, *BK = pr.BK, *BV = pr.BV, *AP = pr.AP, *T = pr.T, *bt = pr.bt;
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
    dwork w;
    slot sl;
    work_plan(C, dh, work, &w);
    slot_plan(C, dh, w.slot, &sl);
    float *S = w.S;
    memset(S, 0, (size_t)dh * dh * sizeof(float));
    for (int j = 0; j < nch; j++) {
        chunk_prep(p, rows, ctx, beta, j, sl.KQW, sl.U, sl.P, w.prep);
        chunk_state(p, j, nch, sl.KQW, sl.U, sl.QWS, S, ckpt);
        chunk_out(p, j, sl.P, sl.U, sl.QWS, o, accumulate);
    }
}

/* The split form's store: one slot per chunk, each on 64 floats. */
static size_t store_plan(int L, int C, int dh, float *store, float **base, size_t *stride)
{
    slot sl;
    xb_scratch s = xb_scratch_at(store);
    XB_TAKE_SLICES(&s, *base, (size_t)xb_deltarule_nchunks(L, C), slot_plan(C, dh, NULL, &sl), XB_SCR_64F,
                   stride);
    return xb_scratch_floats(&s);
}

size_t xb_deltarule_split_floats(int L, int C, int dh)
{
    float *base;
    size_t stride;
    return store_plan(L, C, dh, NULL, &base, &stride);
}

/* chunk j's slot of the store */
static slot slot_of(const xb_deltarule *p, float *store, int j)
{
    float *base;
    size_t stride;
    slot sl;
    store_plan(p->L, p->C, p->dh, store, &base, &stride);
    slot_plan(p->C, p->dh, base + (size_t)j * stride, &sl);
    return sl;
}

void xb_deltarule_split_prep(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx, const float *beta,
                             int j, float *store, float *work)
{
    slot sl = slot_of(p, store, j);
    dwork w;
    work_plan(p->C, p->dh, work, &w);
    chunk_prep(p, rows, ctx, beta, j, sl.KQW, sl.U, sl.P, w.sprep);
}

void xb_deltarule_split_chain(const xb_deltarule *p, float *store, float *ckpt, float *work)
{
    const int nch = xb_deltarule_nchunks(p->L, p->C);
    dwork w;
    work_plan(p->C, p->dh, work, &w);
    float *S = w.sS;
    memset(S, 0, (size_t)p->dh * p->dh * sizeof(float));
    for (int j = 0; j < nch; j++) {
        slot sl = slot_of(p, store, j);
        chunk_state(p, j, nch, sl.KQW, sl.U, sl.QWS, S, ckpt);
    }
}

void xb_deltarule_split_out(const xb_deltarule *p, int j, float *store, float *o, int accumulate)
{
    slot sl = slot_of(p, store, j);
    chunk_out(p, j, sl.P, sl.U, sl.QWS, o, accumulate);
}

void xb_deltarule_backward(const xb_deltarule *p, const float *q, const float *k, const float *v,
                           const float *beta, const float *ckpt, const float *dO, float *dq,
                           float *dk, float *dv, float *dbeta, float *work)
{
    const int dh = p->dh, L = p->L, C = p->C;
    const size_t hh = (size_t)dh * dh;
    dwork w;
    work_plan(C, dh, work, &w);
    float *Ss = w.Ss;                         /* Ss[i] = state before step i of the chunk, i = 0..c */
    float *U = w.U;                           /* u of each step [C × dh] */
    float *G = w.G;                           /* ∂L/∂S_t */
    float *e = w.e, *de = w.de, *du = w.du, *dkt = w.dkt, *tmp = w.o;
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
