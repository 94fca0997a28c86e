/* core/chunkscan.c — chunked gated linear-attention scan (forward, backward) and the per-head
 * RMSNorm of the gated linear RNN family. The math and the stability scheme are in
 * core/chunkscan.h; tests/test_chunkscan.c checks both directions against a double-precision
 * recurrence and its recurrent backward. */
#include "core/chunkscan.h"

#include <math.h>
#include <string.h>

#include "core/gemm.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

/* Per-thread work, carved in this order (floats). */
typedef struct work {
    float *Q, *K, *V, *G;   /* gathered chunk rows: scaled q, k, v [C×dv], g */
    float *Bc, *Eb, *Ekb;   /* b (cumulative log decay), e^{b}, e^{b_last − b}  [C×dk] */
    float *Qg, *Kbar;       /* q ⊙ e^{b}, k ⊙ e^{b_last − b}                     [C×dk] */
    float *Qh, *Eq, *Kh, *Ek;/* sub-block factors: q ⊙ e^{b−p}, e^{b−p}, k ⊙ e^{p−b}, e^{p−b} */
    float *T;               /* [C×dk] product before its exponent scaling */
    float *A, *dA;          /* [C×C] */
    float *O;               /* [C×dv] chunk output (forward) or dO (backward) */
    float *dQ, *dK, *dV, *db; /* backward chunk gradients */
    float *S, *dS, *D;      /* [dk×dv] state, its gradient; D [dk] */
} work;

/* The work in that order, then 64 floats of room the size has always had (kept: the mixers'
 * n_scratch are sized from it). */
static size_t work_plan(float *w, int C, int dk, int dv, work *s)
{
    const size_t c = (size_t)C, k = (size_t)dk, v = (size_t)dv;
    xb_scratch b = xb_scratch_at(w);
    XB_TAKE(&b, s->Q, c * k, XB_SCR_PACKED);   XB_TAKE(&b, s->K, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->V, c * v, XB_SCR_PACKED);   XB_TAKE(&b, s->G, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->Bc, c * k, XB_SCR_PACKED);  XB_TAKE(&b, s->Eb, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->Ekb, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->Qg, c * k, XB_SCR_PACKED);  XB_TAKE(&b, s->Kbar, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->Qh, c * k, XB_SCR_PACKED);  XB_TAKE(&b, s->Eq, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->Kh, c * k, XB_SCR_PACKED);  XB_TAKE(&b, s->Ek, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->T, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->A, c * c, XB_SCR_PACKED);   XB_TAKE(&b, s->dA, c * c, XB_SCR_PACKED);
    XB_TAKE(&b, s->O, c * v, XB_SCR_PACKED);
    XB_TAKE(&b, s->dQ, c * k, XB_SCR_PACKED);  XB_TAKE(&b, s->dK, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->dV, c * v, XB_SCR_PACKED);  XB_TAKE(&b, s->db, c * k, XB_SCR_PACKED);
    XB_TAKE(&b, s->S, k * v, XB_SCR_PACKED);   XB_TAKE(&b, s->dS, k * v, XB_SCR_PACKED);
    XB_TAKE(&b, s->D, k, XB_SCR_PACKED);
    xb_scratch_pad(&b, 64);
    return xb_scratch_floats(&b);
}

size_t xb_chunkscan_work(int C, int dk, int dv)
{
    work s;
    return work_plan(NULL, C, dk, dv, &s);
}

static work carve(float *w, int C, int dk, int dv)
{
    work s;
    work_plan(w, C, dk, dv, &s);
    return s;
}

/* Time row of scan step tau. */
static inline int trow(const xb_chunkscan *p, int tau) { return p->reverse ? p->L - 1 - tau : tau; }

/* Eb = e^{B}, Ekb = e^{Ekb} (in place), Qg = Q ⊙ Eb, Kb = K ⊙ Ekb over n floats. Its own
 * function so the restrict qualifiers let the loop vectorise (with six plain pointers the
 * compiler gave up on alias versioning and the exps ran scalar). */
static void exp_factors(size_t n, const float *restrict B, const float *restrict Q,
                        const float *restrict K, float *restrict Eb, float *restrict Ekb,
                        float *restrict Qg, float *restrict Kb)
{
    for (size_t i = 0; i < n; i++) {
        Eb[i] = xb_vexp(B[i]);
        Ekb[i] = xb_vexp(Ekb[i]);
        Qg[i] = Q[i] * Eb[i];
        Kb[i] = K[i] * Ekb[i];
    }
}

/* Gather chunk rows [c0, c0+c) of the scan: Q = scale·q, K, V, G (= g or g0), then
 * Bc = inclusive cumsum of G, Eb = e^{Bc}, Ekb = e^{Bc_last − Bc}, Qg = Q ⊙ Eb, Kbar = K ⊙ Ekb. */
#define GATHER_AHEAD 8
static void gather(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                   const float *g, int c0, int c, work *w)
{
    const int dk = p->dk, dv = p->dv;
    for (int i = 0; i < c; i++) {
        size_t t = (size_t)trow(p, c0 + i);
        const float *qr = q + t * p->ldk, *kr = k + t * p->ldk, *vr = v + t * p->ldv;
        if (c0 + i + GATHER_AHEAD < p->L) {   /* the head's strided rows: see xb_prefetch */
            const size_t a = (size_t)trow(p, c0 + i + GATHER_AHEAD);
            xb_prefetch(q + a * p->ldk, dk);
            xb_prefetch(k + a * p->ldk, dk);
            xb_prefetch(v + a * p->ldv, dv);
            if (g) xb_prefetch(g + a * p->ldk, dk);
        }
        float *Qr = w->Q + (size_t)i * dk, *Kr = w->K + (size_t)i * dk, *Gr = w->G + (size_t)i * dk;
        for (int j = 0; j < dk; j++) { Qr[j] = p->scale * qr[j]; Kr[j] = kr[j]; }
        memcpy(w->V + (size_t)i * dv, vr, (size_t)dv * sizeof(float));
        if (g) memcpy(Gr, g + t * p->ldk, (size_t)dk * sizeof(float));
        else for (int j = 0; j < dk; j++) Gr[j] = p->g0;
    }
    for (int i = 0; i < c; i++) {
        float *B = w->Bc + (size_t)i * dk;
        const float *Gr = w->G + (size_t)i * dk, *Bp = B - dk;
        for (int j = 0; j < dk; j++) B[j] = i ? Bp[j] + Gr[j] : Gr[j];
    }
    /* b_last − b_t as its own reverse sum Σ_{u>t} g_u: the difference of two long cumulative
     * sums would cancel catastrophically once strong gates make |b| large */
    float *R = w->Ekb;
    for (int j = 0; j < dk; j++) R[(size_t)(c - 1) * dk + j] = 0.0f;
    for (int i = c - 2; i >= 0; i--) {
        float *Ri = R + (size_t)i * dk;
        const float *Rn = Ri + dk, *Gn = w->G + (size_t)(i + 1) * dk;
        for (int j = 0; j < dk; j++) Ri[j] = Rn[j] + Gn[j];
    }
    exp_factors((size_t)c * dk, w->Bc, w->Q, w->K, w->Eb, w->Ekb, w->Qg, w->Kbar);
}

/* End of the sub-block starting at s0: the longest [s0, e) with max_c (b_{s0} − b_{e−1}) ≤ SPAN.
 * Depends only on rows < e (causality). */
static int block_end(const float *Bc, int dk, int s0, int c)
{
    const float *P = Bc + (size_t)s0 * dk;
    int e = s0 + 1;
    for (; e < c; e++) {
        const float *B = Bc + (size_t)e * dk;
        float span = 0.0f;
        for (int j = 0; j < dk; j++) span = P[j] - B[j] > span ? P[j] - B[j] : span;
        if (span > XB_SCAN_SPAN) break;
    }
    return e;
}

/* Sub-block [s0, e) with reference p = b_{s0}: Qh/Eq rows 0..nb−1 (rows s0..e−1 of the chunk),
 * Kh/Ek rows 0..e−1, then A [nb × e] (ld C) = tril(Qh Khᵀ) (column s > row t zeroed). */
static void block_scores(const xb_chunkscan *p, work *w, int s0, int e)
{
    const int dk = p->dk, C = p->C, nb = e - s0;
    /* exponents as partial sums of g measured from s0 (never as differences of cumulative sums,
     * which lose their low bits once |b| is large): first Ek holds b_{s0} − b_s, Eq b_t − b_{s0} */
    const float *G = w->G;
    float *Ek = w->Ek, *Eq = w->Eq;
    /* First sub-block with a mild first step (decided from row 0 only: causal): derive the
     * factors from e^{b} already computed, e^{b_t − b_0} = e^{b_t}/e^{b_0}; here |b| ≤ 10 + SPAN,
     * so e^{b} is a normal float and the quotients lose only a few ulps. Saves two exps/element. */
    int fast = s0 == 0;
    for (int j = 0; fast && j < dk; j++) fast = w->Bc[j] >= -10.0f;
    if (fast) {
        const float *E0 = w->Eb;
        for (int s = 0; s < e; s++) {
            const float *Es = w->Eb + (size_t)s * dk, *Kr = w->K + (size_t)s * dk, *Qr = w->Q + (size_t)s * dk;
            float *Eks = Ek + (size_t)s * dk, *Eqs = Eq + (size_t)s * dk;
            for (int j = 0; j < dk; j++) {
                Eks[j] = E0[j] / Es[j];
                Eqs[j] = Es[j] / E0[j];
                w->Kh[(size_t)s * dk + j] = Kr[j] * Eks[j];
                w->Qh[(size_t)s * dk + j] = Qr[j] * Eqs[j];
            }
        }
        xb_gemm(0, 1, nb, e, dk, 1.0f, w->Qh, dk, w->Kh, dk, 0.0f, w->A, C);
        for (int i = 0; i < nb; i++)
            for (int s = s0 + i + 1; s < e; s++) w->A[(size_t)i * C + s] = 0.0f;
        return;
    }
    for (int j = 0; j < dk; j++) Ek[(size_t)s0 * dk + j] = 0.0f;
    for (int s = s0 - 1; s >= 0; s--)
        for (int j = 0; j < dk; j++) Ek[(size_t)s * dk + j] = Ek[(size_t)(s + 1) * dk + j] + G[(size_t)(s + 1) * dk + j];
    for (int s = s0 + 1; s < e; s++)
        for (int j = 0; j < dk; j++) Ek[(size_t)s * dk + j] = Ek[(size_t)(s - 1) * dk + j] - G[(size_t)s * dk + j];
    for (int j = 0; j < dk; j++) Eq[j] = 0.0f;
    for (int i = 1; i < nb; i++)
        for (int j = 0; j < dk; j++) Eq[(size_t)i * dk + j] = Eq[(size_t)(i - 1) * dk + j] + G[(size_t)(s0 + i) * dk + j];
    for (size_t i = 0; i < (size_t)e * dk; i++) { Ek[i] = xb_vexp(Ek[i]); w->Kh[i] = w->K[i] * Ek[i]; }
    const float *Qb = w->Q + (size_t)s0 * dk;
    for (size_t i = 0; i < (size_t)nb * dk; i++) { Eq[i] = xb_vexp(Eq[i]); w->Qh[i] = Qb[i] * Eq[i]; }
    xb_gemm(0, 1, nb, e, dk, 1.0f, w->Qh, dk, w->Kh, dk, 0.0f, w->A, C);
    for (int i = 0; i < nb; i++)
        for (int s = s0 + i + 1; s < e; s++) w->A[(size_t)i * C + s] = 0.0f;
}

/* Chunk j's own part: gather its rows, O = Σ_blocks tril(Qh Khᵀ) V (into w->O, the
 * inter-chunk term not yet added), and when S_next is given the chunk's state contribution
 * S_next = Kbarᵀ V (overwritten) and a = e^{b_last} [dk], the decay the carry applies. */
static void chunk_intra(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                        const float *g, int j, float *S_next, float *a, work *w)
{
    const int dk = p->dk, dv = p->dv, C = p->C, c0 = j * C, c = xb_min(C, p->L - c0);
    gather(p, q, k, v, g, c0, c, w);
    memset(w->O, 0, (size_t)c * dv * sizeof(float));
    for (int s0 = 0; s0 < c;) {
        int e = block_end(w->Bc, dk, s0, c);
        block_scores(p, w, s0, e);
        xb_gemm(0, 0, e - s0, dv, e, 1.0f, w->A, C, w->V, dv, 1.0f, w->O + (size_t)s0 * dv, dv);
        s0 = e;
    }
    if (S_next) {
        const float *Bl = w->Bc + (size_t)(c - 1) * dk;
        for (int r = 0; r < dk; r++) a[r] = xb_vexp(Bl[r]);
        xb_gemm(1, 0, dk, dv, c, 1.0f, w->Kbar, dk, w->V, dv, 0.0f, S_next, dv);
    }
}

/* Rows of w->O (c of them) to the chunk's time rows of o: overwrite or add. */
static void chunk_store(const xb_chunkscan *p, int j, const work *w, float *o, int accumulate)
{
    const int dv = p->dv, c0 = j * p->C, c = xb_min(p->C, p->L - c0);
    for (int i = 0; i < c; i++) {
        float *orow = o + (size_t)trow(p, c0 + i) * p->ldv;
        const float *Or = w->O + (size_t)i * dv;
        if (accumulate) for (int x = 0; x < dv; x++) orow[x] += Or[x];
        else memcpy(orow, Or, (size_t)dv * sizeof(float));
    }
}

/* Carry of rows [r0, r1) of the state: S_j = Diag(a_{j−1}) S_{j−1} + ΔS_{j−1}, where slot j of
 * ckpt holds ΔS_{j−1} on entry and S_j on return; slot 0 becomes 0. */
void xb_chunkscan_fwd_carry(int nch, int dk, int dv, int r0, int r1, const float *a, float *ckpt)
{
    const size_t sz = (size_t)dk * dv;
    for (int r = r0; r < r1; r++) memset(ckpt + (size_t)r * dv, 0, (size_t)dv * sizeof(float));
    for (int j = 1; j < nch; j++) {
        const float *Sp = ckpt + (size_t)(j - 1) * sz, *aj = a + (size_t)(j - 1) * dk;
        float *Sj = ckpt + (size_t)j * sz;
        for (int r = r0; r < r1; r++) {
            const float ar = aj[r], *pr = Sp + (size_t)r * dv;
            float *sr = Sj + (size_t)r * dv;
            for (int x = 0; x < dv; x++) sr[x] += ar * pr[x];
        }
    }
}

void xb_chunkscan_fwd_intra(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                            const float *g, int j, float *o, int accumulate, float *S_next, float *a,
                            float *wbuf)
{
    work w = carve(wbuf, p->C, p->dk, p->dv);
    chunk_intra(p, q, k, v, g, j, S_next, a, &w);
    chunk_store(p, j, &w, o, accumulate);
}

/* Dst = scale · src over n floats. */
static void scaled_row(int n, float scale, const float *restrict src, float *restrict dst)
{
    for (int x = 0; x < n; x++) dst[x] = scale * src[x];
}

/* B = prev + g (prev NULL: B = g) over n floats: one row of an inclusive cumulative sum. */
static void cumsum_row(int n, const float *restrict g, const float *restrict prev, float *restrict B)
{
    if (prev) for (int x = 0; x < n; x++) B[x] = prev[x] + g[x];
    else memcpy(B, g, (size_t)n * sizeof(float));
}

/* Qg = Q ⊙ e^{B} over n floats. */
static void qg_rows(size_t n, const float *restrict B, const float *restrict Q, float *restrict Qg)
{
    for (size_t i = 0; i < n; i++) Qg[i] = Q[i] * xb_vexp(B[i]);
}

void xb_chunkscan_fwd_inter(const xb_chunkscan *p, const float *q, const float *g, int j,
                            const float *S, float *o, float *wbuf)
{
    const int dk = p->dk, dv = p->dv, c0 = j * p->C, c = xb_min(p->C, p->L - c0);
    work w = carve(wbuf, p->C, dk, dv);
    /* Qg = scale·q ⊙ e^{b}, b the inclusive cumsum of g over the chunk (as gather does it) */
    for (int i = 0; i < c; i++) {
        const size_t t = (size_t)trow(p, c0 + i);
        scaled_row(dk, p->scale, q + t * p->ldk, w.Q + (size_t)i * dk);
        if (g) cumsum_row(dk, g + t * p->ldk, i ? w.Bc + (size_t)(i - 1) * dk : NULL, w.Bc + (size_t)i * dk);
        else for (int x = 0; x < dk; x++) w.Bc[(size_t)i * dk + x] = (i ? w.Bc[(size_t)(i - 1) * dk + x] : 0.0f) + p->g0;
    }
    qg_rows((size_t)c * dk, w.Bc, w.Q, w.Qg);
    xb_gemm(0, 0, c, dv, dk, 1.0f, w.Qg, dk, S, dv, 0.0f, w.O, dv);
    chunk_store(p, j, &w, o, 1);
}

/* Forward, serially chunk after chunk: the three phases of the header fused per chunk
 * (O = intra + Qg S_j, stored once; then the carry S_{j+1} = Diag(a) S_j + Kbarᵀ V). */
void xb_chunkscan_forward(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                          const float *g, float *o, int accumulate, float *ckpt, float *wbuf)
{
    const int dk = p->dk, dv = p->dv, C = p->C, L = p->L;
    const int nch = xb_chunkscan_nchunks(L, C);
    const size_t sz = (size_t)dk * dv;
    work w = carve(wbuf, C, dk, dv);
    /* without checkpoints the states live in a two-slot ring (S, dS of the work) */
    float *ring[2] = { w.S, w.dS };
    memset(ckpt ? ckpt : ring[0], 0, sz * sizeof(float));
    for (int j = 0; j < nch; j++) {
        float *Sj = ckpt ? ckpt + (size_t)j * sz : ring[j & 1];
        float *Sn = j + 1 < nch ? (ckpt ? ckpt + (size_t)(j + 1) * sz : ring[(j + 1) & 1]) : NULL;
        const int c = xb_min(C, L - j * C);
        chunk_intra(p, q, k, v, g, j, Sn, w.D, &w);
        if (j > 0) xb_gemm(0, 0, c, dv, dk, 1.0f, w.Qg, dk, Sj, dv, 1.0f, w.O, dv);
        if (Sn)
            for (int r = 0; r < dk; r++) {
                const float ar = w.D[r], *pr = Sj + (size_t)r * dv;
                float *sr = Sn + (size_t)r * dv;
                for (int x = 0; x < dv; x++) sr[x] += ar * pr[x];
            }
        chunk_store(p, j, &w, o, accumulate);
    }
}

/* Backward, chunks in reverse with the carry dS = ∂L/∂S_end of the current chunk:
 *   dQ = (dO S_prevᵀ) ⊙ e^{b} + intra,  dK = (V dSᵀ) ⊙ e^{b_last−b} + intra,  dV = Kbar dS + intra,
 *   db_t = Q_t ⊙ dQ_t − K_t ⊙ dK_t  (+ rowsum(S_end ⊙ dS) at the last row), dg = revcumsum(db),
 *   dS ← Diag(e^{b_last}) dS + Qgᵀ dO. */
void xb_chunkscan_backward(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                           const float *g, const float *ckpt, const float *dO, float *dq, float *dk,
                           float *dv, float *dg, float *wbuf)
{
    const int Dk = p->dk, Dv = p->dv, C = p->C, L = p->L;
    const int nch = xb_chunkscan_nchunks(L, C);
    work w = carve(wbuf, C, Dk, Dv);
    memset(w.dS, 0, (size_t)Dk * Dv * sizeof(float));
    for (int j = nch - 1; j >= 0; j--) {
        const int c0 = j * C, c = xb_min(C, L - c0);
        const float *Sp = ckpt + (size_t)j * Dk * Dv;
        gather(p, q, k, v, g, c0, c, &w);
        for (int i = 0; i < c; i++)
            memcpy(w.O + (size_t)i * Dv, dO + (size_t)trow(p, c0 + i) * p->ldv, (size_t)Dv * sizeof(float));
        /* inter-chunk terms */
        if (j > 0) {
            xb_gemm(0, 1, c, Dk, Dv, 1.0f, w.O, Dv, Sp, Dv, 0.0f, w.dQ, Dk);
            for (size_t i = 0; i < (size_t)c * Dk; i++) w.dQ[i] *= w.Eb[i];
        } else {
            memset(w.dQ, 0, (size_t)c * Dk * sizeof(float));
        }
        if (j + 1 < nch) {
            const float *Se = ckpt + (size_t)(j + 1) * Dk * Dv;
            xb_gemm(0, 1, c, Dk, Dv, 1.0f, w.V, Dv, w.dS, Dv, 0.0f, w.dK, Dk);
            for (size_t i = 0; i < (size_t)c * Dk; i++) w.dK[i] *= w.Ekb[i];
            xb_gemm(0, 0, c, Dv, Dk, 1.0f, w.Kbar, Dk, w.dS, Dv, 0.0f, w.dV, Dv);
            for (int r = 0; r < Dk; r++) {
                float s = 0.0f;
                for (int x = 0; x < Dv; x++) s += Se[(size_t)r * Dv + x] * w.dS[(size_t)r * Dv + x];
                w.D[r] = s;
            }
        } else {
            memset(w.dK, 0, (size_t)c * Dk * sizeof(float));
            memset(w.dV, 0, (size_t)c * Dv * sizeof(float));
            memset(w.D, 0, (size_t)Dk * sizeof(float));
        }
        /* intra-chunk terms, sub-block by sub-block (same split as the forward) */
        for (int s0 = 0; s0 < c;) {
            const int e = block_end(w.Bc, Dk, s0, c), nb = e - s0;
            block_scores(p, &w, s0, e);
            const float *dOb = w.O + (size_t)s0 * Dv;
            xb_gemm(0, 1, nb, e, Dv, 1.0f, dOb, Dv, w.V, Dv, 0.0f, w.dA, C);
            for (int i = 0; i < nb; i++)
                for (int s = s0 + i + 1; s < e; s++) w.dA[(size_t)i * C + s] = 0.0f;
            xb_gemm(1, 0, e, Dv, nb, 1.0f, w.A, C, dOb, Dv, 1.0f, w.dV, Dv);
            xb_gemm(0, 0, nb, Dk, e, 1.0f, w.dA, C, w.Kh, Dk, 0.0f, w.T, Dk);
            for (int i = 0; i < nb; i++) {
                float *dQr = w.dQ + (size_t)(s0 + i) * Dk;
                const float *Tr = w.T + (size_t)i * Dk, *Eq = w.Eq + (size_t)i * Dk;
                for (int x = 0; x < Dk; x++) dQr[x] += Tr[x] * Eq[x];
            }
            xb_gemm(1, 0, e, Dk, nb, 1.0f, w.dA, C, w.Qh, Dk, 0.0f, w.T, Dk);
            for (size_t i = 0; i < (size_t)e * Dk; i++) w.dK[i] += w.T[i] * w.Ek[i];
            s0 = e;
        }
        /* gate: db then reverse cumulative sum over the chunk */
        if (g && dg) {
            for (size_t i = 0; i < (size_t)c * Dk; i++) w.db[i] = w.Q[i] * w.dQ[i] - w.K[i] * w.dK[i];
            float *last = w.db + (size_t)(c - 1) * Dk;
            for (int x = 0; x < Dk; x++) last[x] += w.D[x];
            for (int i = c - 2; i >= 0; i--) {
                float *r = w.db + (size_t)i * Dk;
                const float *n = r + Dk;
                for (int x = 0; x < Dk; x++) r[x] += n[x];
            }
        }
        /* carry to the previous chunk */
        if (j > 0) {
            const float *Bl = w.Bc + (size_t)(c - 1) * Dk;
            for (int r = 0; r < Dk; r++) {
                float a = xb_vexp(Bl[r]);
                float *dSr = w.dS + (size_t)r * Dv;
                for (int x = 0; x < Dv; x++) dSr[x] *= a;
            }
            xb_gemm(1, 0, Dk, Dv, c, 1.0f, w.Qg, Dk, w.O, Dv, 1.0f, w.dS, Dv);
        }
        /* scatter-add at the original time rows */
        for (int i = 0; i < c; i++) {
            size_t t = (size_t)trow(p, c0 + i);
            float *dqr = dq + t * p->ldk, *dkr = dk + t * p->ldk, *dvr = dv + t * p->ldv;
            const float *dQr = w.dQ + (size_t)i * Dk, *dKr = w.dK + (size_t)i * Dk, *dVr = w.dV + (size_t)i * Dv;
            for (int x = 0; x < Dk; x++) { dqr[x] += p->scale * dQr[x]; dkr[x] += dKr[x]; }
            for (int x = 0; x < Dv; x++) dvr[x] += dVr[x];
            if (g && dg) {
                float *dgr = dg + t * p->ldk;
                const float *dbr = w.db + (size_t)i * Dk;
                for (int x = 0; x < Dk; x++) dgr[x] += dbr[x];
            }
        }
    }
}

/* ---- many scans ---- */

void xb_chunkscan_many_forward(int n, int dirs, xb_scan_get get, const void *arg, float *work,
                               size_t wsz, int nch_max, int dk, float *dec)
{
    if (!dec || n >= 2 * xb_max_threads()) {
        #pragma omp parallel for schedule(static)
        for (int i = 0; i < n; i++) {
            float *wk = work + (size_t)xb_thread_id() * wsz;
            for (int dir = 0; dir < dirs; dir++) {
                xb_scan_io io;
                get(arg, i, dir, &io);
                if (io.p.L > 0) xb_chunkscan_forward(&io.p, io.q, io.k, io.v, io.g, io.o, dir, io.ckpt, wk);
            }
        }
        return;
    }
    /* phased: intra over (scan, chunk), carry over (scan, block of RB state rows), inter over
     * (scan, chunk ≥ 1); one direction after the other, as direction 1 adds into o */
    enum { RB = 8 };
    const int nrb = (dk + RB - 1) / RB;
    for (int dir = 0; dir < dirs; dir++) {
        #pragma omp parallel
        {
            float *wk = work + (size_t)xb_thread_id() * wsz;
            #pragma omp for schedule(static)
            for (int task = 0; task < n * nch_max; task++) {
                const int i = task / nch_max, j = task % nch_max;
                xb_scan_io io;
                get(arg, i, dir, &io);
                const int nch = xb_chunkscan_nchunks(io.p.L, io.p.C);
                if (j >= nch) continue;
                const size_t ssz = (size_t)io.p.dk * io.p.dv;
                xb_chunkscan_fwd_intra(&io.p, io.q, io.k, io.v, io.g, j, io.o, dir,
                                       j + 1 < nch ? io.ckpt + (size_t)(j + 1) * ssz : NULL,
                                       dec + (size_t)i * nch_max * dk + (size_t)j * io.p.dk, wk);
            }
            #pragma omp for schedule(static)
            for (int task = 0; task < n * nrb; task++) {
                const int i = task / nrb, rb = task % nrb;
                xb_scan_io io;
                get(arg, i, dir, &io);
                if (io.p.L == 0 || rb * RB >= io.p.dk) continue;
                xb_chunkscan_fwd_carry(xb_chunkscan_nchunks(io.p.L, io.p.C), io.p.dk, io.p.dv, rb * RB,
                                       xb_min(io.p.dk, (rb + 1) * RB), dec + (size_t)i * nch_max * dk, io.ckpt);
            }
            #pragma omp for schedule(static)
            for (int task = 0; task < n * nch_max; task++) {
                const int i = task / nch_max, j = task % nch_max;
                xb_scan_io io;
                get(arg, i, dir, &io);
                if (j == 0 || j >= xb_chunkscan_nchunks(io.p.L, io.p.C)) continue;
                xb_chunkscan_fwd_inter(&io.p, io.q, io.g, j, io.ckpt + (size_t)j * io.p.dk * io.p.dv, io.o, wk);
            }
        }
    }
}

void xb_chunkscan_many_backward(int n, int dirs, xb_scan_get get, const void *arg, float *work,
                                size_t wsz)
{
    #pragma omp parallel for schedule(static)
    for (int i = 0; i < n; i++) {
        float *wk = work + (size_t)xb_thread_id() * wsz;
        for (int dir = 0; dir < dirs; dir++) {
            xb_scan_io io;
            get(arg, i, dir, &io);
            if (io.p.L > 0)
                xb_chunkscan_backward(&io.p, io.q, io.k, io.v, io.g, io.ckpt, io.dO, io.dq, io.dk, io.dv,
                                      io.dg, wk);
        }
    }
}

void xb_headrms_forward(int rows, int H, int dh, const float *x, const float *w, float eps,
                        float *y, float *rstd)
{
    for (size_t r = 0; r < (size_t)rows * H; r++) {
        const float *xr = x + r * dh;
        float *yr = y + r * dh;
        float ss = 0.0f;
        for (int j = 0; j < dh; j++) ss += xr[j] * xr[j];
        float rs = 1.0f / sqrtf(ss / (float)dh + eps);
        rstd[r] = rs;
        for (int j = 0; j < dh; j++) yr[j] = xr[j] * rs * w[j];
    }
}

/* dx = rstd·(w⊙dy) − x·rstd³·mean(x⊙w⊙dy);  dw += Σ_rows dy ⊙ x·rstd. */
void xb_headrms_backward(int rows, int H, int dh, const float *x, const float *w,
                         const float *rstd, const float *dy, float *dx, float *dw)
{
    for (size_t r = 0; r < (size_t)rows * H; r++) {
        const float *xr = x + r * dh, *dyr = dy + r * dh;
        float *dxr = dx + r * dh;
        const float rs = rstd[r];
        float m = 0.0f;
        for (int j = 0; j < dh; j++) {
            m += xr[j] * w[j] * dyr[j];
            dw[j] += dyr[j] * xr[j] * rs;
        }
        m /= (float)dh;
        const float c = rs * rs * rs * m;
        for (int j = 0; j < dh; j++) dxr[j] = rs * w[j] * dyr[j] - xr[j] * c;
    }
}

void xb_gated_headrms(int rows, int H, int dh, const float *o, const float *g, const float *w,
                      float eps, float *rstd, int store_rstd, float *u)
{
    const size_t nh = (size_t)rows * H, n = nh * dh;
    if (store_rstd)
        xb_headrms_forward(rows, H, dh, o, w, eps, u, rstd);
    else
        for (size_t i = 0; i < nh; i++) {
            const float *orow = o + i * dh;
            float *ur = u + i * dh;
            for (int j = 0; j < dh; j++) ur[j] = orow[j] * rstd[i] * w[j];
        }
    for (size_t i = 0; i < n; i++) u[i] *= g[i] * xb_vsigmoid(g[i]);
}
