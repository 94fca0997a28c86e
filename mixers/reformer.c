/* mixers/reformer.c — Reformer LSH attention (Kitaev et al. 2020), MIXERS.md §10: shared
 * query/key projection Q = X W_QK, V = X W_V, h heads; per head and hash round r:
 *   k̂_i = q_i / ‖q_i‖   (‖·‖ = sqrt(Σ² + 1e-6), the §32 L2 ε)
 *   bucket_i = argmax([q_i R_r ; −q_i R_r]) ∈ [0, n_buckets)   (first maximum on ties)
 *   sort the real positions by (bucket, position) (a counting sort: stable), cut the sorted
 *   order into chunks of c (option `chunk`, default 64); each query attends to the keys of its
 *   own chunk and of the previous one, logits q_i·k̂_j/√d_h, its own logit replaced by −1e5
 *   (so it attends to itself only when it has no other candidate), softmax, logsumexp L_i^(r)
 *   o_i = Σ_r softmax_r(L_i^(r)) o_i^(r),  then Y = O W_O.
 * R_r ∈ R^{d_h × n_buckets/2} (Gaussian, one per layer and round, shared by the heads) is the
 * FROZEN buffer R [n_r·d_h, n_buckets/2] of the slab (round r = rows [r·d_h, (r+1)·d_h)), drawn
 * by init() from the layer's own stream and never trained. Options `buckets` (default 16, even),
 * `rounds` (default 2), `chunk` (default 64).
 *
 * Decisions where §10 is silent, and deviations:
 * - Chunks and look-back. Bidirectional: chunks of the whole sorted order, chunk 0 looks back
 *   at the last chunk (wrap-around); the candidate set is the union of the two chunks, so with
 *   a single chunk (n ≤ c) a query sees that chunk once (not twice).
 * - Causal mode (DEVIATION). §10 says "additionally mask j > i". With chunks cut from the
 *   global sorted order that is not causal: where token t hashes moves every later slot of the
 *   sorted order, so it changes which earlier tokens share a chunk, i.e. outputs before t
 *   (tests/test_mixers.c's causality test checks this bit for bit and fails on that form).
 *   Here the causal form cuts chunks per bucket: within a bucket the tokens are in position
 *   order, chunk κ = ⌊rank/c⌋, and a query attends to the same-bucket keys of its chunk and of
 *   the bucket's previous chunk (no wrap-around) at positions ≤ its own. A query's candidates
 *   then depend only on the buckets of tokens ≤ it. The first token of a bucket has no
 *   candidate but itself (L = −1e5; a round where that happens gets weight ~0 when another
 *   round found keys). Queries see only keys of their own bucket in this mode, whereas
 *   bidirectional chunks may span neighbouring buckets (as in the Reformer/trax form).
 * - Padding: only the n = len[b] real positions are hashed, sorted and chunked, so a sequence
 *   gives the same output whatever N and the pad content are.
 * - No shared-key de-duplication across rounds (trax's option; LRA has none either).
 * - Hashing is piecewise constant: no gradient flows through the bucket choice. The float
 *   forward and the double reference hash the same q, so they agree except when two rotated
 *   values tie to float rounding (none at the tested inputs).
 * - FLOPs: §10's formula with the exact number of (query, candidate) pairs of the bidirectional
 *   chunk geometry (n_c = 1: N²; else Σ_k |C_k|·(|C_k| + |C_{k−1}|)), = 2cN when c divides N.
 *   The causal form computes tiles of (its chunk) × (its chunk + the previous one) per bucket:
 *   data-dependent and at most c·2c per chunk; flops() reports the bidirectional count there too.
 * - LRA's reformer_attention.py differs (see the helper report): no W_O, logits × √d instead of
 *   ÷ √d_h (both named in §10), keys not normalised by default (length_norm = False, and then
 *   an RMS rather than L2 norm), no self mask, no causal mask, chunk length N/n_buckets (its
 *   chunk_len only pads the input), rounds chunked as one concatenated sequence, biases on Q/V.
 *
 * saved (whole batch, by tensor): Q, V, O [B·N × d]; O^(r) [n_r × B·N × d]; L [n_r × B × h × N];
 * perm (sorted slot → position) and sorted bucket ids [n_r × B × h × N] as ints. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/gemm.h"
#include "core/mixer.h"
#include "core/mk.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define RF_L2EPS 1e-6f   /* L2 normalisation ε inside the sqrt (§32) */
#define RF_SELF (-1e5f)  /* a token's own logit */
#define RF_MAX_ROUNDS 64 /* round weights live on the stack */

enum { OPT_BUCKETS, OPT_ROUNDS, OPT_CHUNK };
static const xb_mixer_opt rf_opts[] = {
    [OPT_BUCKETS] = {.name = "buckets", .type = XB_OPT_INT, .min = 2, .max = 65536, .def = 16,
                     .help = "hash buckets, even"},
    [OPT_ROUNDS] = {.name = "rounds", .type = XB_OPT_INT, .min = 1, .max = RF_MAX_ROUNDS, .def = 2,
                    .help = "hash rounds n_r"},
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size c of the sorted order"},
};

static int rf_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (xb_cfg_int(c, OPT_BUCKETS) < 2 || xb_cfg_int(c, OPT_BUCKETS) % 2 != 0) {
        snprintf(err, errn, "buckets: must be even and >= 2, got %d", xb_cfg_int(c, OPT_BUCKETS));
        return XB_EINVAL;
    }
    return 0;
}

/* W_QK, W_V, W_O [d,d], buffer R [n_r·d_h, n_buckets/2] */
static int rf_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    const size_t dd = (size_t)c->d * c->d;
    if (out) {
        out[0] = (xb_tensor){"W_QK", 0, c->d, c->d, XB_T_DECAY};
        out[1] = (xb_tensor){"W_V", dd, c->d, c->d, XB_T_DECAY};
        out[2] = (xb_tensor){"W_O", 2 * dd, c->d, c->d, XB_T_DECAY};
        out[3] = (xb_tensor){"R", 3 * dd, xb_cfg_int(c, OPT_ROUNDS) * (c->d / c->heads), xb_cfg_int(c, OPT_BUCKETS) / 2, XB_T_FROZEN};
    }
    return 4;
}

static void rf_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    const size_t dd = (size_t)c->d * c->d, nr = (size_t)xb_cfg_int(c, OPT_ROUNDS) * (c->d / c->heads) * (xb_cfg_int(c, OPT_BUCKETS) / 2);
    for (int i = 0; i < 3; i++) xb_init_uniform(w + i * dd, c->d, c->d, rng);
    for (size_t i = 0; i < nr; i++) w[3 * dd + i] = (float)xb_rng_normal(rng);
}

/* Q, V, O (3Nd) + per round O^(r) (Nd), L, perm, sorted bucket ids (3Nh) */
static size_t rf_n_saved(const xb_mixer_cfg *c, int N)
{
    return 3 * (size_t)N * c->d + (size_t)xb_cfg_int(c, OPT_ROUNDS) * ((size_t)N * c->d + 3 * (size_t)N * c->heads);
}

typedef struct geo { int d, h, dh, nr, nbk, nb2, c; } geo;

static geo geom(const xb_mixer_cfg *c)
{
    return (geo){c->d, c->heads, c->d / c->heads, xb_cfg_int(c, OPT_ROUNDS), xb_cfg_int(c, OPT_BUCKETS), xb_cfg_int(c, OPT_BUCKETS) / 2, xb_cfg_int(c, OPT_CHUNK)};
}

typedef struct bufs { float *Q, *V, *O, *Or, *L; int *perm, *sbk; } bufs;

static bufs saved_bufs(const geo *g, const float *saved, int B, int N)
{
    const size_t nd = (size_t)B * N * g->d, nh = (size_t)g->nr * B * g->h * N;
    float *s = (float *)saved;
    bufs r;
    r.Q = s; r.V = s + nd; r.O = s + 2 * nd; r.Or = s + 3 * nd; r.L = r.Or + g->nr * nd;
    r.perm = (int *)(r.L + nh);   /* ints in float-sized slots */
    r.sbk = (int *)(r.L + 2 * nh);
    return r;
}

/* Per-thread work of one (sequence, head, round): sorted rows q, k̂, v, the upstream gradient,
 * the three sorted gradient accumulators [N × d_h]; per-slot L and D; two c × 2c tiles; the
 * tile's keys k̂ᵀ and values vᵀ packed [d_h × 2c] (a whole k̂ᵀ [d_h × N] would put its rows N
 * floats apart, which alias in L1: gathering into it took 20% of the forward at N = 4096); one
 * token's rotations q R_r; per-position bucket and the bucket counts (ints). */
typedef struct work { float *sq, *sk, *sv, *sdo, *gq, *gk, *gv, *sL, *sD, *S, *dS, *KT, *VT, *rot; int *pb, *cnt; } work;

static size_t work_plan(const geo *g, int N, float *base, work *w)
{
    const size_t nh = (size_t)N * g->dh, t = (size_t)g->c * 2 * g->c, pk = (size_t)g->dh * 2 * g->c;
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, w->sq, nh, XB_SCR_64F);
    XB_TAKE(&s, w->sk, nh, XB_SCR_64F);
    XB_TAKE(&s, w->sv, nh, XB_SCR_64F);
    XB_TAKE(&s, w->sdo, nh, XB_SCR_64F);
    XB_TAKE(&s, w->gq, nh, XB_SCR_64F);
    XB_TAKE(&s, w->gk, nh, XB_SCR_64F);
    XB_TAKE(&s, w->gv, nh, XB_SCR_64F);
    XB_TAKE(&s, w->sL, (size_t)N, XB_SCR_64F);
    XB_TAKE(&s, w->sD, (size_t)N, XB_SCR_64F);
    XB_TAKE(&s, w->S, t, XB_SCR_64F);
    XB_TAKE(&s, w->dS, t, XB_SCR_64F);
    XB_TAKE(&s, w->KT, pk, XB_SCR_64F);
    XB_TAKE(&s, w->VT, pk, XB_SCR_64F);
    XB_TAKE(&s, w->rot, (size_t)g->nb2, XB_SCR_64F);
    XB_TAKE(&s, w->pb, (size_t)N, XB_SCR_64F);
    XB_TAKE(&s, w->cnt, (size_t)g->nbk + 1, XB_SCR_64F);
    return xb_scratch_floats(&s);
}

/* Scratch: per-thread work; backward adds dY, dO, dQ, dV [B·N × d] and the per-round gradients
 * dQ^(r), dK̂^(r), dV^(r) [n_r × B·N × d], round r at r · rs. */
typedef struct scr { float *work, *dY, *dO, *dQ, *dV, *dQr, *dKr, *dVr; size_t ws, rs; } scr;

static size_t scratch_plan(const geo *g, float *scratch, int B, int N, scr *b)
{
    const size_t nd = (size_t)B * N * g->d;
    work w;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE_THREADS(&s, b->work, work_plan(g, N, NULL, &w), XB_SCR_64F, &b->ws);
    XB_TAKE(&s, b->dY, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dO, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dQ, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dV, nd, XB_SCR_64F);
    XB_TAKE_SLICES(&s, b->dQr, (size_t)g->nr, nd, XB_SCR_64F, &b->rs);
    XB_TAKE_SLICES(&s, b->dKr, (size_t)g->nr, nd, XB_SCR_64F, &b->rs);
    XB_TAKE_SLICES(&s, b->dVr, (size_t)g->nr, nd, XB_SCR_64F, &b->rs);
    return xb_scratch_floats(&s);
}

/* the calling thread's work */
static work my_work(const geo *g, int N, const scr *sc)
{
    work w;
    work_plan(g, N, sc->work + (size_t)xb_thread_id() * sc->ws, &w);
    return w;
}

static size_t rf_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    geo g = geom(c);
    scr b;
    return scratch_plan(&g, NULL, B, N, &b);
}

/* ---- one (sequence, head, round) --------------------------------------------------------- */

typedef struct task {
    const geo *g;
    int causal, n;             /* n: the real length */
    const float *q, *v;        /* the sequence's rows, head columns, row stride d */
    int *perm, *sbk;           /* this round's slot → position and slot → bucket */
    float scale;
} task;

/* bucket of every real position, then the stable counting sort by bucket */
static void hash_sort(const task *t, const float *Rr, work *wk)
{
    const geo *g = t->g;
    for (int i = 0; i < t->n; i++) {
        const float *q = t->q + (size_t)i * g->d;
        memset(wk->rot, 0, (size_t)g->nb2 * sizeof(float));
        for (int e = 0; e < g->dh; e++) {
            const float qe = q[e], *re = Rr + (size_t)e * g->nb2;
            for (int k = 0; k < g->nb2; k++) wk->rot[k] += qe * re[k];
        }
        float best = wk->rot[0];
        int arg = 0;
        for (int k = 1; k < g->nb2; k++)
            if (wk->rot[k] > best) { best = wk->rot[k]; arg = k; }
        for (int k = 0; k < g->nb2; k++)
            if (-wk->rot[k] > best) { best = -wk->rot[k]; arg = g->nb2 + k; }
        wk->pb[i] = arg;
    }
    memset(wk->cnt, 0, (size_t)(g->nbk + 1) * sizeof(int));
    for (int i = 0; i < t->n; i++) wk->cnt[wk->pb[i] + 1]++;
    for (int k = 0; k < g->nbk; k++) wk->cnt[k + 1] += wk->cnt[k];
    for (int i = 0; i < t->n; i++) {
        const int s = wk->cnt[wk->pb[i]]++;
        t->perm[s] = i;
        t->sbk[s] = wk->pb[i];
    }
}

/* sorted q, k̂, v */
static void gather(const task *t, work *wk)
{
    const geo *g = t->g;
    const int dh = g->dh;
    for (int s = 0; s < t->n; s++) {
        const int i = t->perm[s];
        const float *q = t->q + (size_t)i * g->d, *v = t->v + (size_t)i * g->d;
        float ss = 0;
        for (int e = 0; e < dh; e++) ss += q[e] * q[e];
        const float inv = 1.0f / sqrtf(ss + RF_L2EPS);
        for (int e = 0; e < dh; e++) {
            wk->sq[(size_t)s * dh + e] = q[e];
            wk->sk[(size_t)s * dh + e] = q[e] * inv;
            wk->sv[(size_t)s * dh + e] = v[e];
        }
    }
}

/* The chunks: calls fn(q0, q1, a0, a1) for every query chunk [q0, q1) of the sorted order with
 * its look-back chunk [a0, a1) (possibly empty); its own chunk is its key range too. */
typedef void (*chunk_fn)(const task *t, work *wk, int q0, int q1, int a0, int a1);

static void each_chunk(const task *t, work *wk, chunk_fn fn)
{
    const int c = t->g->c;
    for (int s0 = 0; s0 < t->n;) {
        int s1 = t->n;   /* bidirectional: one segment; causal: one per bucket */
        if (t->causal)
            for (s1 = s0 + 1; s1 < t->n && t->sbk[s1] == t->sbk[s0]; s1++) {}
        const int m = s1 - s0, nc = (m + c - 1) / c;
        for (int k = 0; k < nc; k++) {
            const int q0 = s0 + k * c, q1 = s0 + xb_min(m, (k + 1) * c);
            int a0 = q0, a1 = q0;
            if (k > 0) { a0 = q0 - c; a1 = q0; }
            else if (!t->causal && nc >= 2) { a0 = s0 + (nc - 1) * c; a1 = s1; }
            fn(t, wk, q0, q1, a0, a1);
        }
        s0 = s1;
    }
}

/* rows [a0, a1) then [q0, q1) of X (sorted, [· × d_h]) transposed into P [d_h × 2c] */
static void pack_keys(const task *t, const float *X, int q0, int q1, int a0, int a1, float *P)
{
    const int dh = t->g->dh, ld = 2 * t->g->c, na = a1 - a0;
    for (int j = 0; j < na; j++)
        for (int e = 0; e < dh; e++) P[(size_t)e * ld + j] = X[(size_t)(a0 + j) * dh + e];
    for (int j = 0; j < q1 - q0; j++)
        for (int e = 0; e < dh; e++) P[(size_t)e * ld + na + j] = X[(size_t)(q0 + j) * dh + e];
}

/* S[r][·] = the scaled logits of query slot q0 + r against [a0, a1) then [q0, q1), masked: own
 * logit RF_SELF, causal keys after the query −∞ */
static void logits(const task *t, work *wk, int q0, int q1, int a0, int a1)
{
    const int dh = t->g->dh, mq = q1 - q0, na = a1 - a0, ld = 2 * t->g->c;
    pack_keys(t, wk->sk, q0, q1, a0, a1, wk->KT);
    xb_mk_gemm(mq, na + mq, dh, wk->sq + (size_t)q0 * dh, dh, 1, wk->KT, ld, wk->S, ld, 0);
    for (int r = 0; r < mq; r++) {
        float *s = wk->S + (size_t)r * ld;
        for (int j = 0; j < na + mq; j++) s[j] *= t->scale;
        s[na + r] = RF_SELF;
        if (t->causal)
            for (int j = na + r + 1; j < na + mq; j++) s[j] = -INFINITY;
    }
}

/* max of x[0..n) and, in place, x = e^{x − m} with their sum: 16 lanes each, so both loops
 * vectorise (a single running max or sum is one dependent instruction per element) */
static float row_max(const float *x, int n)
{
    float acc[16];
    for (int l = 0; l < 16; l++) acc[l] = -INFINITY;
    int j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) acc[l] = x[j + l] > acc[l] ? x[j + l] : acc[l];
    float m = -INFINITY;
    for (; j < n; j++) m = x[j] > m ? x[j] : m;
    for (int l = 0; l < 16; l++) m = acc[l] > m ? acc[l] : m;
    return m;
}

static float row_exp(float *x, int n, float m)
{
    float acc[16] = {0};
    int j = 0;
    for (; j + 16 <= n; j += 16)
        for (int l = 0; l < 16; l++) { x[j + l] = xb_vexp(x[j + l] - m); acc[l] += x[j + l]; }
    float s = 0;
    for (; j < n; j++) { x[j] = xb_vexp(x[j] - m); s += x[j]; }
    for (int l = 0; l < 16; l++) s += acc[l];
    return s;
}

static void chunk_forward(const task *t, work *wk, int q0, int q1, int a0, int a1)
{
    const int dh = t->g->dh, mq = q1 - q0, na = a1 - a0, nk = na + mq, ld = 2 * t->g->c;
    logits(t, wk, q0, q1, a0, a1);
    for (int r = 0; r < mq; r++) {
        float *s = wk->S + (size_t)r * ld, m = row_max(s, nk), l = row_exp(s, nk, m);
        const float inv = 1.0f / l;
        for (int j = 0; j < nk; j++) s[j] *= inv;
        wk->sL[q0 + r] = m + logf(l);
    }
    float *o = wk->gq + (size_t)q0 * dh;   /* the sorted output */
    xb_mk_gemm(mq, dh, na, wk->S, ld, 1, wk->sv + (size_t)a0 * dh, dh, o, dh, 0);
    xb_mk_gemm(mq, dh, mq, wk->S + na, ld, 1, wk->sv + (size_t)q0 * dh, dh, o, dh, 1);
}

/* P = exp(logits − L); dP = dO Vᵀ; dS = P ⊙ (dP − D)/√d_h (0 at the constant own logit);
 * dq += dS K̂, dk̂ += dSᵀ q, dv += Pᵀ dO over the chunk's keys */
static void chunk_backward(const task *t, work *wk, int q0, int q1, int a0, int a1)
{
    const int dh = t->g->dh, mq = q1 - q0, na = a1 - a0, nk = na + mq, ld = 2 * t->g->c;
    logits(t, wk, q0, q1, a0, a1);
    const float *dO = wk->sdo + (size_t)q0 * dh, *q = wk->sq + (size_t)q0 * dh;
    pack_keys(t, wk->sv, q0, q1, a0, a1, wk->VT);
    xb_mk_gemm(mq, nk, dh, dO, dh, 1, wk->VT, ld, wk->dS, ld, 0);
    for (int r = 0; r < mq; r++) {
        float *s = wk->S + (size_t)r * ld, *ds = wk->dS + (size_t)r * ld;
        const float L = wk->sL[q0 + r], D = wk->sD[q0 + r];
        for (int j = 0; j < nk; j++) {
            s[j] = xb_vexp(s[j] - L);
            ds[j] = s[j] * (ds[j] - D) * t->scale;
        }
        ds[na + r] = 0.0f;
    }
    xb_mk_gemm(mq, dh, na, wk->dS, ld, 1, wk->sk + (size_t)a0 * dh, dh, wk->gq + (size_t)q0 * dh, dh, 1);
    xb_mk_gemm(mq, dh, mq, wk->dS + na, ld, 1, wk->sk + (size_t)q0 * dh, dh, wk->gq + (size_t)q0 * dh, dh, 1);
    xb_mk_gemm(na, dh, mq, wk->dS, 1, ld, q, dh, wk->gk + (size_t)a0 * dh, dh, 1);
    xb_mk_gemm(mq, dh, mq, wk->dS + na, 1, ld, q, dh, wk->gk + (size_t)q0 * dh, dh, 1);
    xb_mk_gemm(na, dh, mq, wk->S, 1, ld, dO, dh, wk->gv + (size_t)a0 * dh, dh, 1);
    xb_mk_gemm(mq, dh, mq, wk->S + na, 1, ld, dO, dh, wk->gv + (size_t)q0 * dh, dh, 1);
}

/* round weights softmax_r(L^(r)_i) of one position (L at stride lr between rounds) */
static void round_weights(const float *L, size_t lr, int nr, float *wr)
{
    float m = -INFINITY, s = 0;
    for (int r = 0; r < nr; r++) m = L[r * lr] > m ? L[r * lr] : m;
    for (int r = 0; r < nr; r++) { wr[r] = expf(L[r * lr] - m); s += wr[r]; }
    for (int r = 0; r < nr; r++) wr[r] /= s;
}

static task make_task(const geo *g, const bufs *s, const int *len, int b, int j, int r, int B, int N, int causal)
{
    const size_t off = ((size_t)r * B + b) * g->h * N + (size_t)j * N;
    return (task){g, causal, xb_len(len, b, N), s->Q + (size_t)b * N * g->d + (size_t)j * g->dh,
                  s->V + (size_t)b * N * g->d + (size_t)j * g->dh, s->perm + off, s->sbk + off,
                  1.0f / sqrtf((float)g->dh)};
}

static void rf_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                       float *y, float *saved, float *scratch, int B, int N)
{
    const geo g = geom(c);
    const int d = g.d, dh = g.dh, BN = B * N, nr = g.nr;
    const size_t dd = (size_t)d * d, nd = (size_t)BN * d, lr = (size_t)B * g.h * N;
    bufs s = saved_bufs(&g, saved, B, N);
    scr sc;
    scratch_plan(&g, scratch, B, N, &sc);
    xb_proj p = xb_proj_make(d, 2, (int[]){d, d});
    xb_proj_forward_split(&p, BN, x, d, (const float *const[]){w, w + dd}, (float *const[]){s.Q, s.V}, NULL, NULL);

#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < B; b++)
        for (int j = 0; j < g.h; j++)
            for (int r = 0; r < nr; r++) {
                task t = make_task(&g, &s, len, b, j, r, B, N, c->causal);
                work wk = my_work(&g, N, &sc);
                hash_sort(&t, w + 3 * dd + (size_t)r * dh * g.nb2, &wk);
                gather(&t, &wk);
                each_chunk(&t, &wk, chunk_forward);
                float *Or = s.Or + r * nd + (size_t)b * N * d + (size_t)j * dh;
                float *L = s.L + ((size_t)r * B + b) * g.h * N + (size_t)j * N;
                for (int q = 0; q < t.n; q++) {   /* unsort */
                    const int i = t.perm[q];
                    memcpy(Or + (size_t)i * d, wk.gq + (size_t)q * dh, (size_t)dh * sizeof(float));
                    L[i] = wk.sL[q];
                }
            }

#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int i = 0; i < N; i++) {
            float *o = s.O + ((size_t)b * N + i) * d;
            if (i >= xb_len(len, b, N)) { memset(o, 0, (size_t)d * sizeof(float)); continue; }
            for (int j = 0; j < g.h; j++) {
                float wr[RF_MAX_ROUNDS];
                round_weights(s.L + ((size_t)b * g.h + j) * N + i, lr, nr, wr);
                for (int e = 0; e < dh; e++) {
                    float a = 0;
                    for (int r = 0; r < nr; r++) a += wr[r] * s.Or[r * nd + ((size_t)b * N + i) * d + (size_t)j * dh + e];
                    o[j * dh + e] = a;
                }
            }
        }
    xb_proj_matmul(BN, d, d, s.O, d, w + 2 * dd, y);
    xb_zero_pad_rows(y, len, B, N, d);
}

/* Backward: dW_O and dO; per (sequence, head, round) the chunk backward on the sorted rows with
 * do^(r) = w_r do and dL^(r) = w_r (⟨do, o^(r)⟩ − ⟨do, o⟩) (the round softmax), i.e. D = ⟨do^(r),
 * o^(r)⟩ − dL^(r); the per-round gradients unsorted into their own arrays, then summed over the
 * rounds in order with the key normalisation dq += (dk̂ − k̂ (k̂·dk̂)) / ‖q‖; then the projection
 * backwards. Overwrites dx, accumulates dw. */
static void rf_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                        int B, int N)
{
    const geo g = geom(c);
    const int d = g.d, dh = g.dh, BN = B * N, nr = g.nr;
    const size_t dd = (size_t)d * d, lr = (size_t)B * g.h * N;
    bufs s = saved_bufs(&g, saved, B, N);
    scr sc;
    scratch_plan(&g, scratch, B, N, &sc);
    for (int b = 0; b < B; b++) {   /* dy at pad rows counts as 0 */
        size_t off = (size_t)b * N * d, real = (size_t)xb_len(len, b, N) * d;
        memcpy(sc.dY + off, dy + off, real * sizeof(float));
        memset(sc.dY + off + real, 0, ((size_t)N * d - real) * sizeof(float));
    }
    xb_gemm(1, 0, d, d, BN, 1.0f, s.O, d, sc.dY, d, 1.0f, dw + 2 * dd, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, sc.dY, d, w + 2 * dd, d, 0.0f, sc.dO, d);

#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < B; b++)
        for (int j = 0; j < g.h; j++)
            for (int r = 0; r < nr; r++) {
                task t = make_task(&g, &s, len, b, j, r, B, N, c->causal);
                work wk = my_work(&g, N, &sc);
                gather(&t, &wk);
                const size_t hoff = (size_t)b * N * d + (size_t)j * dh;
                const float *Lb = s.L + ((size_t)b * g.h + j) * N;
                for (int q = 0; q < t.n; q++) {
                    const int i = t.perm[q];
                    const float *dO = sc.dO + hoff + (size_t)i * d, *o = s.O + hoff + (size_t)i * d;
                    float wr[RF_MAX_ROUNDS], dot = 0;
                    round_weights(Lb + i, lr, nr, wr);
                    for (int e = 0; e < dh; e++) dot += dO[e] * o[e];
                    for (int e = 0; e < dh; e++) wk.sdo[(size_t)q * dh + e] = wr[r] * dO[e];
                    wk.sL[q] = Lb[r * lr + i];
                    /* D = ⟨do^(r), o^(r)⟩ − dL^(r) = w_r⟨do, o^(r)⟩ − w_r(⟨do, o^(r)⟩ − ⟨do, o⟩) = w_r⟨do, o⟩ */
                    wk.sD[q] = wr[r] * dot;
                }
                memset(wk.gq, 0, (size_t)t.n * dh * sizeof(float));
                memset(wk.gk, 0, (size_t)t.n * dh * sizeof(float));
                memset(wk.gv, 0, (size_t)t.n * dh * sizeof(float));
                each_chunk(&t, &wk, chunk_backward);
                float *gQ = sc.dQr + r * sc.rs + hoff, *gK = sc.dKr + r * sc.rs + hoff, *gV = sc.dVr + r * sc.rs + hoff;
                for (int q = 0; q < t.n; q++) {   /* unsort */
                    const size_t i = (size_t)t.perm[q] * d;
                    memcpy(gQ + i, wk.gq + (size_t)q * dh, (size_t)dh * sizeof(float));
                    memcpy(gK + i, wk.gk + (size_t)q * dh, (size_t)dh * sizeof(float));
                    memcpy(gV + i, wk.gv + (size_t)q * dh, (size_t)dh * sizeof(float));
                }
            }

#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int i = 0; i < N; i++) {
            const size_t row = ((size_t)b * N + i) * d;
            float *dq = sc.dQ + row, *dv = sc.dV + row;
            if (i >= xb_len(len, b, N)) {
                memset(dq, 0, (size_t)d * sizeof(float));
                memset(dv, 0, (size_t)d * sizeof(float));
                continue;
            }
            for (int j = 0; j < g.h; j++) {
                const size_t o = row + (size_t)j * dh;
                const float *q = s.Q + o;
                float ss = 0, dot = 0;
                for (int e = 0; e < dh; e++) ss += q[e] * q[e];
                const float inv = 1.0f / sqrtf(ss + RF_L2EPS);
                for (int e = 0; e < dh; e++) {   /* dq = Σ_r dq^(r) + dk̂/‖q‖, dot = k̂·dk̂ */
                    float aq = 0, ak = 0, av = 0;
                    for (int r = 0; r < nr; r++) { aq += sc.dQr[r * sc.rs + o + e]; ak += sc.dKr[r * sc.rs + o + e]; av += sc.dVr[r * sc.rs + o + e]; }
                    dq[j * dh + e] = aq + ak * inv;
                    dv[j * dh + e] = av;
                    dot += q[e] * inv * ak;
                }
                for (int e = 0; e < dh; e++) dq[j * dh + e] -= q[e] * inv * dot * inv;   /* − k̂ (k̂·dk̂)/‖q‖ */
            }
        }
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, sc.dQ, d, 1.0f, dw, d);
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, sc.dV, d, 1.0f, dw + dd, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, sc.dQ, d, w, d, 0.0f, dx, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, sc.dV, d, w + dd, d, 1.0f, dx, d);
}

/* (query, candidate) pairs of one head and round in the bidirectional chunk geometry */
static double rf_pairs(int N, int c)
{
    const int nc = (N + c - 1) / c;
    if (nc <= 1) return (double)N * N;
    double p = 0;
    for (int k = 0; k < nc; k++) {
        const double sk = xb_min(c, N - k * c), kp = k > 0 ? k - 1 : nc - 1, sp = xb_min(c, N - (int)kp * c);
        p += sk * (sk + sp);
    }
    return p;
}

/* §10: 6Nd² + n_r·[N·d·n_buckets (hash) + 4·d·pairs (scores + P·V; 8Ncd when c divides N)]
 * + 2Nd (normalise); no elementwise terms listed */
static double rf_flops(const xb_mixer_cfg *c, int N)
{
    const double n = N, d = c->d;
    return 6 * n * d * d + xb_cfg_int(c, OPT_ROUNDS) * (n * d * xb_cfg_int(c, OPT_BUCKETS) + 4 * d * rf_pairs(N, xb_cfg_int(c, OPT_CHUNK))) + 2 * n * d;
}

/* naive double: dense projections; per head and round the buckets from double rotations,
 * the sorted order by scanning the buckets in order, and each query's candidate set from its
 * definition (bidirectional: sorted slot u with ⌊u/c⌋ = ⌊s/c⌋ or ⌊s/c⌋ − 1 mod n_c; causal:
 * same bucket, rank in the bucket ⌊·/c⌋ = κ or κ − 1, position ≤ i), a dense softmax over it,
 * then the round softmax and W_O */
static void rf_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         double *y, int B, int N)
{
    const int d = c->d, h = c->heads, dh = d / h, nr = xb_cfg_int(c, OPT_ROUNDS), nbk = xb_cfg_int(c, OPT_BUCKETS), nb2 = nbk / 2, ch = xb_cfg_int(c, OPT_CHUNK);
    const size_t dd = (size_t)d * d;
    const float *R = w + 3 * dd;
    double *q = calloc((size_t)N * d, sizeof(double)), *v = calloc((size_t)N * d, sizeof(double));
    double *orr = calloc((size_t)nr * N * d, sizeof(double)), *L = calloc((size_t)nr * N, sizeof(double));
    double *o = calloc((size_t)N * d, sizeof(double)), *nrm = calloc((size_t)N, sizeof(double));
    double *p = calloc((size_t)N, sizeof(double)), *rot = calloc((size_t)nb2, sizeof(double));
    int *bk = calloc((size_t)N, sizeof(int)), *order = calloc((size_t)N, sizeof(int)), *slot = calloc((size_t)N, sizeof(int));
    int *first = calloc((size_t)nbk, sizeof(int));
    XB_ASSERT(q && v && orr && L && o && nrm && p && rot && bk && order && slot && first);
    for (int b = 0; b < B; b++) {
        const int n = xb_len(len, b, N), nc = (n + ch - 1) / ch;
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++)
            for (int cc = 0; cc < d; cc++) {
                double a0 = 0, a1 = 0;
                for (int e = 0; e < d; e++) {
                    a0 += (double)xb[(size_t)t * d + e] * w[(size_t)e * d + cc];
                    a1 += (double)xb[(size_t)t * d + e] * w[dd + (size_t)e * d + cc];
                }
                q[(size_t)t * d + cc] = a0;
                v[(size_t)t * d + cc] = a1;
            }
        for (int j = 0; j < h; j++) {
            for (int t = 0; t < n; t++) {
                double ss = 0;
                for (int e = 0; e < dh; e++) ss += q[(size_t)t * d + j * dh + e] * q[(size_t)t * d + j * dh + e];
                nrm[t] = sqrt(ss + 1e-6);
            }
            for (int r = 0; r < nr; r++) {
                for (int t = 0; t < n; t++) {   /* argmax of [qR ; −qR], first maximum */
                    for (int k = 0; k < nb2; k++) {
                        rot[k] = 0;
                        for (int e = 0; e < dh; e++) rot[k] += q[(size_t)t * d + j * dh + e] * R[((size_t)r * dh + e) * nb2 + k];
                    }
                    int arg = 0;
                    double best = rot[0];
                    for (int k = 0; k < nbk; k++) {
                        double val = k < nb2 ? rot[k] : -rot[k - nb2];
                        if (val > best) { best = val; arg = k; }
                    }
                    bk[t] = arg;
                }
                int ns = 0;
                for (int k = 0; k < nbk; k++) {
                    first[k] = ns;
                    for (int t = 0; t < n; t++)
                        if (bk[t] == k) { slot[t] = ns; order[ns++] = t; }
                }
                for (int i = 0; i < n; i++) {
                    const int si = slot[i], ki = (si - first[bk[i]]) / ch;
                    double mx = -INFINITY, sum = 0;
                    for (int t = 0; t < n; t++) {
                        const int st = slot[t];
                        int cand;
                        if (c->causal) {
                            const int kt = (st - first[bk[t]]) / ch;
                            cand = bk[t] == bk[i] && (kt == ki || kt == ki - 1) && t <= i;
                        } else {
                            cand = st / ch == si / ch || (nc > 1 && st / ch == (si / ch + nc - 1) % nc);
                        }
                        p[t] = -INFINITY;
                        if (!cand) continue;
                        if (t == i) {
                            p[t] = -1e5;
                        } else {
                            double a = 0;
                            for (int e = 0; e < dh; e++) a += q[(size_t)i * d + j * dh + e] * q[(size_t)t * d + j * dh + e];
                            p[t] = a / nrm[t] / sqrt((double)dh);
                        }
                        if (p[t] > mx) mx = p[t];
                    }
                    for (int t = 0; t < n; t++) { p[t] = p[t] == -INFINITY ? 0 : exp(p[t] - mx); sum += p[t]; }
                    L[(size_t)r * N + i] = mx + log(sum);
                    for (int e = 0; e < dh; e++) {
                        double a = 0;
                        for (int t = 0; t < n; t++) a += p[t] * v[(size_t)t * d + j * dh + e];
                        orr[((size_t)r * N + i) * d + j * dh + e] = a / sum;
                    }
                }
            }
            for (int i = 0; i < n; i++) {   /* o_i = Σ_r softmax_r(L_i^(r)) o_i^(r) */
                double mx = -INFINITY, sum = 0;
                for (int r = 0; r < nr; r++) if (L[(size_t)r * N + i] > mx) mx = L[(size_t)r * N + i];
                for (int r = 0; r < nr; r++) sum += exp(L[(size_t)r * N + i] - mx);
                for (int e = 0; e < dh; e++) {
                    double a = 0;
                    for (int r = 0; r < nr; r++) a += exp(L[(size_t)r * N + i] - mx) / sum * orr[((size_t)r * N + i) * d + j * dh + e];
                    o[(size_t)i * d + j * dh + e] = a;
                }
            }
        }
        double *yb = y + (size_t)b * N * d;
        for (int t = 0; t < N; t++)
            for (int cc = 0; cc < d; cc++) {
                double a = 0;
                if (t < n)
                    for (int e = 0; e < d; e++) a += o[(size_t)t * d + e] * w[2 * dd + (size_t)e * d + cc];
                yb[(size_t)t * d + cc] = a;
            }
    }
    free(q); free(v); free(orr); free(L); free(o); free(nrm); free(p); free(rot);
    free(bk); free(order); free(slot); free(first);
}

/* ---- decode (MIXERS.md §29.2): causal mode --------------------------------------------
 * Token t's candidates in round r and head j are, by the causal form above, the keys of its own
 * bucket whose rank in the bucket (position order) lies in its chunk or the previous one: with
 * R tokens already in the bucket, ranks [lo, R) with lo = (⌊R/c⌋ − 1)·c (0 in the first chunk),
 * then itself (logit RF_SELF). They are at most the bucket's last 2c − 1 tokens, so the state
 * keeps per (round, head) and bucket a ring of the last S = min(2c, n_max) keys k̂ and values v
 * (rank ρ in slot ρ mod S) and the bucket's count: O(1) to find, constant in the context.
 * A step is the forward's arithmetic on the same rows: the bucket as hash_sort takes it (the same
 * sums, first maximum on ties), k̂ = q / sqrt(Σq² + ε), logits q·k̂ / √d_h in the forward's order
 * (look-back chunk, own chunk, self), row_max / row_exp, the round softmax, W_O.
 * The state also records each position's bucket per (round, head), so a step at t below the
 * tokens held first takes tokens t.. back out of their buckets (each is the last of its bucket):
 * re-stepping a token (harness/measure.c times token N over and over) gives the same output and
 * leaves the state as one step would.
 *
 * Layout (floats; ints in float-sized slots as in saved): the count of tokens held, then per
 * (round, head) the bucket counts [n_buckets] and the rings K̂, V [n_buckets × S × d_h], then
 * the buckets [n_max × n_r × h]. */

#define RF_DEC_BLOCK 256   /* context rows projected per product in the prefill */

typedef struct dgeo { geo g; int S; size_t per; } dgeo;   /* per: floats of one (round, head) */

static dgeo dgeom(const xb_mixer_cfg *c, int n_max)
{
    dgeo q = {geom(c), 0, 0};
    q.S = xb_min(2 * q.g.c, n_max);
    q.per = xb_align64((size_t)q.g.nbk) + 2 * (size_t)q.g.nbk * q.S * q.g.dh;
    return q;
}

static size_t rf_decode_state(const xb_mixer_cfg *c, int n_max)
{
    const dgeo q = dgeom(c, n_max);
    return 64 + (size_t)q.g.nr * q.g.h * q.per + (size_t)n_max * q.g.nr * q.g.h;
}

/* q, v, o [d]; one head's k̂ [d_h]; rotations [n_b/2]; scores [2c]; per round o^(r) [d_h] and L;
 * then the prefill's block of Q, V rows */
typedef struct dscr { float *q, *v, *o, *kh, *rot, *s, *orr, *Lr, *Qb, *Vb; } dscr;

static size_t decode_plan(const dgeo *q, float *scratch, dscr *b)
{
    const geo *g = &q->g;
    const size_t d = (size_t)g->d;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->q, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->v, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->kh, (size_t)g->dh, XB_SCR_PACKED);
    XB_TAKE(&s, b->rot, (size_t)g->nb2, XB_SCR_PACKED);
    XB_TAKE(&s, b->s, 2 * (size_t)g->c, XB_SCR_PACKED);
    XB_TAKE(&s, b->orr, (size_t)g->nr * g->dh, XB_SCR_PACKED);
    XB_TAKE(&s, b->Lr, (size_t)g->nr, XB_SCR_PACKED);
    XB_TAKE(&s, b->Qb, (size_t)RF_DEC_BLOCK * d, XB_SCR_PACKED);
    XB_TAKE(&s, b->Vb, (size_t)RF_DEC_BLOCK * d, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t rf_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    const dgeo q = dgeom(c, n_max);
    dscr b;
    return decode_plan(&q, NULL, &b);
}

typedef struct dview { int *cnt; float *K, *V; int *pb; } dview;

/* the bucket counts and rings of (round r, head j) and the bucket records */
static dview dstate(const dgeo *q, float *state, int r, int j)
{
    float *rh = state + 64 + ((size_t)r * q->g.h + j) * q->per;
    float *K = rh + xb_align64((size_t)q->g.nbk);
    dview v = {(int *)rh, K, K + (size_t)q->g.nbk * q->S * q->g.dh,
               (int *)(state + 64 + (size_t)q->g.nr * q->g.h * q->per)};
    return v;
}

/* argmax of [q R_r ; −q R_r], first maximum: hash_sort's loop on one row */
static int bucket_of(const geo *g, const float *Rr, const float *q, float *rot)
{
    memset(rot, 0, (size_t)g->nb2 * sizeof(float));
    for (int e = 0; e < g->dh; e++) {
        const float qe = q[e], *re = Rr + (size_t)e * g->nb2;
        for (int k = 0; k < g->nb2; k++) rot[k] += qe * re[k];
    }
    float best = rot[0];
    int arg = 0;
    for (int k = 1; k < g->nb2; k++)
        if (rot[k] > best) { best = rot[k]; arg = k; }
    for (int k = 0; k < g->nb2; k++)
        if (-rot[k] > best) { best = -rot[k]; arg = g->nb2 + k; }
    return arg;
}

/* k̂ = q / sqrt(Σq² + ε), as gather() */
static void unit_key(int dh, const float *q, float *k)
{
    float ss = 0;
    for (int e = 0; e < dh; e++) ss += q[e] * q[e];
    const float inv = 1.0f / sqrtf(ss + RF_L2EPS);
    for (int e = 0; e < dh; e++) k[e] = q[e] * inv;
}

/* token p (its q and v rows, all heads) into bucket of every (round, head); if o is not NULL,
 * first its output row o [d] (before W_O) against the candidates the state holds */
static void rf_token(const dgeo *q, const float *w, const float *qr, const float *vr, int p,
                     float *state, float *o, const dscr *sc)
{
    const geo *g = &q->g;
    const int d = g->d, dh = g->dh, nr = g->nr, c = g->c, S = q->S;
    float *kh = sc->kh, *rot = sc->rot, *s = sc->s, *orr = sc->orr, *Lr = sc->Lr;
    const float *R = w + 3 * (size_t)d * d, scale = 1.0f / sqrtf((float)dh);
    for (int j = 0; j < g->h; j++) {
        const float *qj = qr + (size_t)j * dh, *vj = vr + (size_t)j * dh;
        unit_key(dh, qj, kh);
        for (int r = 0; r < nr; r++) {
            dview st = dstate(q, state, r, j);
            const int b = bucket_of(g, R + (size_t)r * dh * g->nb2, qj, rot), rank = st.cnt[b];
            const float *Kb = st.K + (size_t)b * S * dh, *Vb = st.V + (size_t)b * S * dh;
            if (o) {
                const int lo = rank >= c ? (rank / c - 1) * c : 0, nk = rank - lo + 1;
                for (int u = 0; u < nk - 1; u++) {
                    const float *k = Kb + (size_t)((lo + u) % S) * dh;
                    float a = 0;
                    for (int e = 0; e < dh; e++) a += qj[e] * k[e];
                    s[u] = a * scale;
                }
                s[nk - 1] = RF_SELF;
                const float m = row_max(s, nk), l = row_exp(s, nk, m), inv = 1.0f / l;
                float *ou = orr + (size_t)r * dh;
                memset(ou, 0, (size_t)dh * sizeof(float));
                for (int u = 0; u < nk; u++) {
                    const float pu = s[u] * inv, *v = u < nk - 1 ? Vb + (size_t)((lo + u) % S) * dh : vj;
                    for (int e = 0; e < dh; e++) ou[e] += pu * v[e];
                }
                Lr[r] = m + logf(l);
            }
            memcpy(st.K + ((size_t)b * S + rank % S) * dh, kh, (size_t)dh * sizeof(float));
            memcpy(st.V + ((size_t)b * S + rank % S) * dh, vj, (size_t)dh * sizeof(float));
            st.cnt[b] = rank + 1;
            st.pb[((size_t)p * nr + r) * g->h + j] = b;
        }
        if (o) {   /* o_j = Σ_r softmax_r(L^(r)) o^(r) */
            float wr[RF_MAX_ROUNDS];
            round_weights(Lr, 1, nr, wr);
            for (int e = 0; e < dh; e++) {
                float a = 0;
                for (int r = 0; r < nr; r++) a += wr[r] * orr[(size_t)r * dh + e];
                o[(size_t)j * dh + e] = a;
            }
        }
    }
    *(int *)state = p + 1;
}

static void rf_decode_prefill(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int n,
                              float *state, float *scratch)
{
    XB_ASSERT(c->causal && n <= n_max && *(int *)state == 0);
    const dgeo q = dgeom(c, n_max);
    const int d = c->d;
    const size_t dd = (size_t)d * d;
    dscr sc;
    decode_plan(&q, scratch, &sc);
    float *Qb = sc.Qb, *Vb = sc.Vb;
    for (int p0 = 0; p0 < n; p0 += RF_DEC_BLOCK) {
        const int rows = xb_min(RF_DEC_BLOCK, n - p0);
        xb_gemm(0, 0, rows, d, d, 1.0f, x + (size_t)p0 * d, d, w, d, 0.0f, Qb, d);
        xb_gemm(0, 0, rows, d, d, 1.0f, x + (size_t)p0 * d, d, w + dd, d, 0.0f, Vb, d);
        for (int i = 0; i < rows; i++)
            rf_token(&q, w, Qb + (size_t)i * d, Vb + (size_t)i * d, p0 + i, state, NULL, &sc);
    }
}

static void rf_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                           float *state, float *y, float *scratch)
{
    const dgeo q = dgeom(c, n_max);
    const int d = c->d, nr = q.g.nr, h = q.g.h;
    const size_t dd = (size_t)d * d;
    int held = *(int *)state;
    XB_ASSERT(c->causal && t >= 0 && t < n_max && t <= held);
    for (; held > t; held--)   /* re-stepping: tokens t.. out again, newest first */
        for (int r = 0; r < nr; r++)
            for (int j = 0; j < h; j++) {
                dview st = dstate(&q, state, r, j);
                st.cnt[st.pb[((size_t)(held - 1) * nr + r) * h + j]]--;
            }
    dscr sc;
    decode_plan(&q, scratch, &sc);
    float *qr = sc.q, *vr = sc.v, *o = sc.o;
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w, d, 0.0f, qr, d);
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + dd, d, 0.0f, vr, d);
    rf_token(&q, w, qr, vr, t, state, o, &sc);
    xb_gemm(0, 0, 1, d, d, 1.0f, o, d, w + 2 * dd, d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static const char *rf_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    if (!strcmp(t->name, "R"))
        return "(n_r*d_h, n_buckets/2) row-major: round r uses rows [r*d_h, (r+1)*d_h); bucket = "
               "argmax([q R_r ; -q R_r]), shared by the heads";
    if (!strcmp(t->name, "W_QK"))
        return "(in, out) row-major: q = x W_QK, the shared queries and keys; heads own contiguous column blocks";
    return NULL;
}

static void rf_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "buckets", xb_cfg_int(c, OPT_BUCKETS));
    xb_fact_int(f, "rounds", xb_cfg_int(c, OPT_ROUNDS));
    xb_fact_int(f, "chunk", xb_cfg_int(c, OPT_CHUNK));
    xb_fact_real(f, "l2norm_eps", RF_L2EPS);
    xb_fact_real(f, "self_logit", RF_SELF);
    xb_fact_text(f, "keys", "k_i = q_i / sqrt(|q_i|^2 + eps); logits q_i . k_j / sqrt(d_h); a token's own logit "
                            "is replaced by -1e5");
    xb_fact_text(f, "hash", "bucket = argmax([q R_r ; -q R_r]) (first maximum), R frozen, drawn at init; real "
                            "positions sorted stably by (bucket, position)");
    xb_fact_text(f, "chunks", "%s", c->causal ? "cut per bucket: chunk = floor(rank in bucket / c); a query sees the keys "
                                                "of its chunk and of the bucket's previous chunk at positions <= its own"
                                              : "cut from the whole sorted order; a query sees its chunk and the previous "
                                                "one (chunk 0: the last one), each key once");
    xb_fact_text(f, "rounds_rule", "o = sum_r softmax_r(L_r) o_r, L_r the per-round logsumexp; then W_O");
}

const xb_mixer xb_mixer_reformer = {
    .name = "reformer",
    .family = "sparse attention (LSH)",
    .cite = "Kitaev et al. 2020, Reformer: The Efficient Transformer",
    .complexity = "N log N",
    XB_OPTS(rf_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = rf_check,
    .tensors = rf_tensors,
    .init = rf_init,
    .n_saved = rf_n_saved,
    .n_scratch = rf_n_scratch,
    .forward = rf_forward,
    .backward = rf_backward,
    .flops = rf_flops,
    .reference = rf_reference,
    .decode_state = rf_decode_state,
    .decode_scratch = rf_decode_scratch,
    .decode_prefill = rf_decode_prefill,
    .decode_step = rf_decode_step,
    .layout = rf_layout,
    .facts = rf_facts,
};
