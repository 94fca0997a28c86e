/* mixers/sse.c — `sse`: Sparse State Expansion, SSE-GLA (MIXERS.md §25; checked against fla's
 * layers/sse.py (SSEGLA), ops/sse/mask.py (the mask form) and ops/sse/index.py).
 *
 * Heads h, d_h = d/h for keys and values (fla's expand_v = 1), low-rank width d_h, P = option
 * `partitions` (default 4), k = option `topk` (k_w = k_r, default 1):
 *   q₁ = X W_Q, k₁ = X W_K, q₂ = q₁ + (X L_q1) L_q2, k₂ = k₁ + (X L_k1) L_k2, v = X W_V
 *   log α_i = logsigmoid((X W_g1_ai) W_g2_ai + b_g2_ai)/16, i = 1, 2   (two GLA gate stacks)
 *   q_i ← silu(q_i), k_i ← softmax over each head's d_h, v ← silu(v)
 *   η = softmax(X W_e) over P; M_p = 1 for the k largest η_p (ties: lower p)
 *   shared state: the GLA scan of (q₁, k₁, v, log α₁);
 *   partition p: the GLA scan of (q₂ η_p, k₂ η_p, v, log α₂) over the tokens with M_p = 1 only
 *   o = o_shared + Σ_p o^(p);  Y = (RMSNorm_head(o) · norm_w ⊙ silu((X G_1) G_2)) W_O
 * Every scan scales q by d_h^{-1/2} (fla's chunk_gla default); ε = 1e-5.
 * Bidirectional (§0.1, shared weights): every scan also runs in reverse and adds into o.
 *
 * Form compiled: the gather ("varlen") form. Each partition's routed tokens are gathered in
 * position order into contiguous rows and scanned by core/chunkscan.c's chunked GLA scan, so
 * the scans cost (1 + k)× one GLA scan; outputs are added back per token in a fixed order.
 * With k_w = k_r this equals the mask form exactly (a token that does not write to p neither
 * decays nor reads p's state): `.reference` is the mask form, P + 1 dense recurrences over
 * every token in double, so the two are independent. flops() counts the gather form.
 *
 * Left out: the load-balancing loss P/k_w · Σ_p mean_t(η_p) · mean_t(M_p) (weight 0.01 in
 * fla). It is a term of the training loss, and the mixer contract (core/mixer.h) has no way to
 * return one: forward yields only Y and backward only receives dY, so neither the loss nor its
 * gradient into W_e can pass through it without changing the contract for every mixer. The
 * router is trained only through η scaling q₂ and k₂ (as in fla's mask form without the aux
 * loss); routing may therefore collapse onto few partitions in long training.
 *
 * Where this differs from MIXERS.md §25 (the reference code wins, HELPERS.md):
 *  - §25's low-rank projection count 4N·d·d_vh is half of what is computed: (X L_q1) L_q2 and
 *    (X L_k1) L_k2 are four products of 2N·d·d_h each, 8N·d·d_h; flops() counts 8.
 *  - fla's mask form takes separate top-k_w and top-k_r masks; its gather form (the default)
 *    requires k_w = k_r, which is what the single option `topk` gives here.
 *  - the q scale d_h^{-1/2} is not in §25; it is fla's chunk_gla default.
 *
 * saved (region-major over the whole batch, sizes per sequence × B):
 *   z_q1, z_q2, z_v (pre-silu) [N×d], k₁, k₂ (after softmax) [N×d], log α₁, log α₂ [N×d],
 *   ĝ₁, ĝ₂ (gate logits) [N×d], z_g (output gate pre-silu) [N×d], o (pre-norm) [N×d],
 *   X L_q1, X L_k1, X G_1 [N×d_h], X W_g1_a1, X W_g1_a2 [N×16], η [N×P], rstd [N×h],
 *   then the shared scans' checkpoints [dirs×h×nchunks(N)×d_h×d_h] and the partition scans'
 *   [dirs×h×slots×d_h×d_h], slots = ⌊(kN + P(C−1))/C⌋ ≥ Σ_p ⌈n_p/C⌉ for any routing. */
#include <math.h>
#include <string.h>

#include "core/chunkscan.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define SSE_RANK 16       /* gate_low_rank_dim */
#define SSE_GNORM 16.0f   /* gate_logit_normalizer */
#define SSE_EPS 1e-5f     /* RMSNorm ε */
#define SSE_PMAX 64       /* most partitions (fixed-size per-token arrays) */

enum { OPT_CHUNK, OPT_PARTITIONS, OPT_TOPK };
static const xb_mixer_opt sse_opts[] = {
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size C of the chunked scans"},
    [OPT_PARTITIONS] = {.name = "partitions", .type = XB_OPT_INT, .min = 2, .max = SSE_PMAX, .def = 4,
                        .help = "state partitions P"},
    [OPT_TOPK] = {.name = "topk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 1,
                  .help = "partitions each token writes and reads, < partitions"},
};

typedef struct dims { int d, h, dh, P, K, C, dirs, nch, slots; } dims;

static dims get_dims(const xb_mixer_cfg *c, int N)
{
    dims m;
    m.d = c->d; m.h = c->heads; m.dh = c->d / c->heads;
    m.P = xb_cfg_int(c, OPT_PARTITIONS); m.K = xb_cfg_int(c, OPT_TOPK); m.C = xb_cfg_int(c, OPT_CHUNK);
    m.dirs = c->causal ? 1 : 2;
    m.nch = xb_chunkscan_nchunks(N, m.C);
    m.slots = (int)(((size_t)m.K * N + (size_t)m.P * (m.C - 1)) / m.C);
    return m;
}

static int sse_check(const xb_mixer_cfg *c, char *err, size_t n)
{
    if (c->heads < 1 || c->d % c->heads) {
        snprintf(err, n, "heads: must divide d = %d, got %d", c->d, c->heads); return XB_EINVAL;
    }
    if (xb_cfg_int(c, OPT_TOPK) < 1 || xb_cfg_int(c, OPT_TOPK) >= xb_cfg_int(c, OPT_PARTITIONS)) {
        snprintf(err, n, "topk: must be >= 1 and < partitions = %d, got %d", xb_cfg_int(c, OPT_PARTITIONS), xb_cfg_int(c, OPT_TOPK));
        return XB_EINVAL;
    }
    return 0;
}

enum { T_WQ, T_WK, T_LQ1, T_LQ2, T_LK1, T_LK2, T_WV, T_WG1A, T_WG2A, T_BG2A, T_WG1B, T_WG2B, T_BG2B,
       T_WE, T_G1, T_G2, T_NW, T_WO, T_COUNT };

static int sse_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    const int d = c->d, dh = c->d / c->heads, P = xb_cfg_int(c, OPT_PARTITIONS), R = SSE_RANK;
    const xb_tensor t[T_COUNT] = {
        {"W_Q", 0, d, d, XB_T_DECAY},        {"W_K", 0, d, d, XB_T_DECAY},
        {"L_q1", 0, d, dh, XB_T_DECAY},      {"L_q2", 0, dh, d, XB_T_DECAY},
        {"L_k1", 0, d, dh, XB_T_DECAY},      {"L_k2", 0, dh, d, XB_T_DECAY},
        {"W_V", 0, d, d, XB_T_DECAY},
        {"W_g1_a1", 0, d, R, XB_T_DECAY},    {"W_g2_a1", 0, R, d, XB_T_DECAY}, {"b_g2_a1", 0, d, 1, 0},
        {"W_g1_a2", 0, d, R, XB_T_DECAY},    {"W_g2_a2", 0, R, d, XB_T_DECAY}, {"b_g2_a2", 0, d, 1, 0},
        {"W_e", 0, d, P, XB_T_DECAY},
        {"G_1", 0, d, dh, XB_T_DECAY},       {"G_2", 0, dh, d, XB_T_DECAY},
        {"norm_w", 0, dh, 1, 0},             {"W_O", 0, d, d, XB_T_DECAY},
    };
    size_t off = 0;
    for (int i = 0; i < T_COUNT; i++) {
        if (out) { out[i] = t[i]; out[i].offset = off; }
        off += (size_t)t[i].rows * t[i].cols;
    }
    return T_COUNT;
}

typedef struct wts { const float *p[T_COUNT]; } wts;

static size_t tensor_off(const xb_mixer_cfg *c, int i)
{
    xb_tensor t[XB_MAX_TENSORS];
    sse_tensors(c, t);
    return t[i].offset;
}

static wts get_wts(const xb_mixer_cfg *c, const float *w)
{
    wts W;
    for (int i = 0; i < T_COUNT; i++) W.p[i] = w + tensor_off(c, i);
    return W;
}

static void sse_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = sse_tensors(c, t);
    for (int i = 0; i < n; i++) {
        float *p = w + t[i].offset;
        if (i == T_BG2A || i == T_BG2B) memset(p, 0, (size_t)t[i].rows * sizeof(float));
        else if (i == T_NW) for (int j = 0; j < t[i].rows; j++) p[j] = 1.0f;
        else xb_init_uniform(p, t[i].rows, t[i].cols, rng);
    }
}

/* Floats per sequence of the two checkpoint regions. */
static size_t ck_shared(const dims *m) { return (size_t)m->dirs * m->h * m->nch * m->dh * m->dh; }
static size_t ck_part(const dims *m) { return (size_t)m->dirs * m->h * m->slots * m->dh * m->dh; }

static size_t sse_n_saved(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c, N);
    return (size_t)N * (11 * (size_t)m.d + 3 * m.dh + 2 * SSE_RANK + m.P + m.h) + ck_shared(&m) + ck_part(&m);
}

/* Saved regions for the whole batch. */
typedef struct sv {
    float *zq1, *zq2, *zv, *k1, *k2, *la1, *la2, *gh1, *gh2, *zg, *o;
    float *hq, *hk, *hg, *h1, *h2, *eta, *rstd, *cks, *ckp;
} sv;

static sv get_sv(const dims *m, float *s, int B, int N)
{
    const size_t R = (size_t)B * N, Rd = R * m->d, Rh = R * m->dh;
    sv p;
    p.zq1 = s; s += Rd; p.zq2 = s; s += Rd; p.zv = s; s += Rd; p.k1 = s; s += Rd; p.k2 = s; s += Rd;
    p.la1 = s; s += Rd; p.la2 = s; s += Rd; p.gh1 = s; s += Rd; p.gh2 = s; s += Rd; p.zg = s; s += Rd;
    p.o = s; s += Rd;
    p.hq = s; s += Rh; p.hk = s; s += Rh; p.hg = s; s += Rh;
    p.h1 = s; s += R * SSE_RANK; p.h2 = s; s += R * SSE_RANK;
    p.eta = s; s += R * m->P; p.rstd = s; s += R * m->h;
    p.cks = s; s += (size_t)B * ck_shared(m);
    p.ckp = s;
    return p;
}

/* ---- scratch ---- */

/* Routing of a batch: for token row t (= b·N + position) of a real position, its k
 * partitions in increasing order rp[t·k + j] and the gathered row of each, rr[t·k + j]
 * (sequence b's gathered rows start at b·k·N, partition p's at base[b·P + p], cnt[b·P + p] of
 * them in position order). */
typedef struct route { int *rp, *rr, *cnt, *base; } route;

static void route_plan(xb_scratch *s, const dims *m, int B, int N, route *r)
{
    const size_t RK = (size_t)B * N * m->K, BP = (size_t)B * m->P;
    XB_TAKE(s, r->rp, RK, XB_SCR_64F);
    XB_TAKE(s, r->rr, RK, XB_SCR_64F);
    XB_TAKE(s, r->cnt, BP, XB_SCR_64F);
    XB_TAKE(s, r->base, BP, XB_SCR_64F);
}

/* Gathered rows (sequence-major, k·N rows each) and everything the scans read or write. */
typedef struct gat { float *Q, *K, *V, *G, *O, *dQ, *dK, *dV, *dG; } gat;

typedef struct fws { float *zk1, *zk2, *el, *qa1, *qa2, *va, *tmp, *dec, *work; gat g; route r; size_t wsz; } fws;
typedef struct bws {
    float *dym, *U, *dU, *dO, *dzg, *qa1, *qa2, *va, *dqa1, *dka1, *dva, *dla1, *dqa2, *dka2, *dla2;
    float *deta, *dhq, *dhk, *dhg, *dh1, *dh2, *work;
    gat g;
    route r;
    size_t wsz;
} bws;

static int n_scans(const dims *m, int B) { return B * m->h * (1 + m->P); }

static xb_proj out_proj(const dims *m) { return xb_proj_make(m->d, 1, &m->d); }

/* Scratch: the forward's buffers or the backward's (every piece on 64 floats), then 64 floats
 * of room the size has always had (kept: bytes_analytic records it). */
static size_t scratch_plan(const dims *m, int B, int N, float *scratch, fws *f, bws *w)
{
    const size_t R = (size_t)B * N, Rd = R * m->d, KRd = (size_t)m->K * Rd, Rh = R * m->dh;
    const size_t wn = xb_chunkscan_work(m->C, m->dh, m->dh);
    xb_proj po = out_proj(m);
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, f->zk1, Rd, XB_SCR_64F);
    XB_TAKE(&s, f->zk2, Rd, XB_SCR_64F);
    XB_TAKE(&s, f->el, R * m->P, XB_SCR_64F);
    XB_TAKE(&s, f->qa1, Rd, XB_SCR_64F);
    XB_TAKE(&s, f->qa2, Rd, XB_SCR_64F);
    XB_TAKE(&s, f->va, Rd, XB_SCR_64F);
    memset(&f->g, 0, sizeof f->g);
    XB_TAKE(&s, f->g.Q, KRd, XB_SCR_64F);
    XB_TAKE(&s, f->g.K, KRd, XB_SCR_64F);
    XB_TAKE(&s, f->g.V, KRd, XB_SCR_64F);
    XB_TAKE(&s, f->g.G, KRd, XB_SCR_64F);
    XB_TAKE(&s, f->g.O, KRd, XB_SCR_64F);
    route_plan(&s, m, B, N, &f->r);
    XB_TAKE(&s, f->tmp, xb_proj_block_floats(&po), XB_SCR_64F);
    XB_TAKE(&s, f->dec, xb_chunkscan_many_dec(n_scans(m, B), m->nch, m->dh), XB_SCR_64F);
    XB_TAKE_THREADS(&s, f->work, wn, XB_SCR_64F, &f->wsz);
    xb_scratch_union_next(&s, &u);
    float **rd[] = {&w->dym, &w->U, &w->dU, &w->dO, &w->dzg, &w->qa1, &w->qa2, &w->va, &w->dqa1, &w->dka1,
                    &w->dva, &w->dla1, &w->dqa2, &w->dka2, &w->dla2};
    for (size_t i = 0; i < sizeof rd / sizeof *rd; i++) XB_TAKE(&s, *rd[i], Rd, XB_SCR_64F);
    float **gk[] = {&w->g.Q, &w->g.K, &w->g.V, &w->g.G, &w->g.O, &w->g.dQ, &w->g.dK, &w->g.dV, &w->g.dG};
    for (size_t i = 0; i < sizeof gk / sizeof *gk; i++) XB_TAKE(&s, *gk[i], KRd, XB_SCR_64F);
    XB_TAKE(&s, w->deta, R * m->P, XB_SCR_64F);
    XB_TAKE(&s, w->dhq, Rh, XB_SCR_64F);
    XB_TAKE(&s, w->dhk, Rh, XB_SCR_64F);
    XB_TAKE(&s, w->dhg, Rh, XB_SCR_64F);
    XB_TAKE(&s, w->dh1, R * SSE_RANK, XB_SCR_64F);
    XB_TAKE(&s, w->dh2, R * SSE_RANK, XB_SCR_64F);
    route_plan(&s, m, B, N, &w->r);
    XB_TAKE_THREADS(&s, w->work, wn, XB_SCR_64F, &w->wsz);
    xb_scratch_union_end(&s, &u);
    xb_scratch_pad(&s, 64);
    return xb_scratch_floats(&s);
}

static size_t sse_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    dims m = get_dims(c, N);
    fws f;
    bws b;
    return scratch_plan(&m, B, N, NULL, &f, &b);
}

/* ---- routing ---- */

/* The k largest of eta[0..P) (ties: the lower index), in increasing order, to sel. */
static void top_k(const float *eta, int P, int K, int *sel)
{
    unsigned char used[SSE_PMAX] = {0};
    for (int j = 0; j < K; j++) {
        int best = -1;
        for (int p = 0; p < P; p++)
            if (!used[p] && (best < 0 || eta[p] > eta[best])) best = p;
        used[best] = 1;
    }
    for (int p = 0, n = 0; p < P; p++)
        if (used[p]) sel[n++] = p;
}

/* Route every real token of the batch from η (see struct route). */
static void route_all(const dims *m, const float *eta, const int *len, int B, int N, const route *r)
{
    const int P = m->P, K = m->K;
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        int *cnt = r->cnt + (size_t)b * P, *base = r->base + (size_t)b * P, pos[SSE_PMAX];
        memset(cnt, 0, (size_t)P * sizeof(int));
        for (int t = 0; t < L; t++) {
            const size_t row = (size_t)b * N + t;
            top_k(eta + row * P, P, K, r->rp + row * K);
            for (int j = 0; j < K; j++) cnt[r->rp[row * K + j]]++;
        }
        for (int p = 0, s = 0; p < P; p++) { base[p] = s; pos[p] = s; s += cnt[p]; }
        for (int t = 0; t < L; t++) {
            const size_t row = (size_t)b * N + t;
            for (int j = 0; j < K; j++) r->rr[row * K + j] = (int)((size_t)b * K * N) + pos[r->rp[row * K + j]]++;
        }
    }
}

/* Gathered rows of every real token: Q = q₂ η_p, K = k₂ η_p, V = v, G = log α₂ (and, with dO,
 * the output gradient dOg). */
static void gather_all(const dims *m, const sv *s, const float *qa2, const float *va, const int *len,
                       int B, int N, const route *r, const gat *g, const float *dO, float *dOg)
{
    const int d = m->d, K = m->K, P = m->P;
    #pragma omp parallel for schedule(static)
    for (size_t row = 0; row < (size_t)B * N; row++) {
        if ((int)(row % N) >= xb_len(len, (int)(row / N), N)) continue;
        for (int j = 0; j < K; j++) {
            const int p = r->rp[row * K + j];
            const size_t gr = (size_t)r->rr[row * K + j] * d;
            const float e = s->eta[row * P + p];
            const float *q = qa2 + row * d, *k = s->k2 + row * d;
            for (int c = 0; c < d; c++) { g->Q[gr + c] = q[c] * e; g->K[gr + c] = k[c] * e; }
            memcpy(g->V + gr, va + row * d, (size_t)d * sizeof(float));
            memcpy(g->G + gr, s->la2 + row * d, (size_t)d * sizeof(float));
            if (dO) memcpy(dOg + gr, dO + row * d, (size_t)d * sizeof(float));
        }
    }
}

/* ---- scans ---- */

/* Scan i of a batch: i = (b·h + hh)·(1 + P) + s, s = 0 the shared state, s = 1 + p partition p. */
typedef struct scans {
    const dims *m;
    const sv *sv;
    const int *len, *cnt, *base;
    int N;
    const float *qa1, *va;        /* shared scan inputs (k₁, log α₁ are saved) */
    const gat *g;                  /* gathered partition rows and their gradients */
    const float *dO;               /* backward: the shared scans' output gradient */
    float *dq, *dk, *dv, *dg;      /* backward: the shared scans' input gradients */
} scans;

static void get_scan(const void *arg, int i, int dir, xb_scan_io *io)
{
    const scans *S = arg;
    const dims *m = S->m;
    const int s = i % (1 + m->P), hh = i / (1 + m->P) % m->h, b = i / ((1 + m->P) * m->h);
    const size_t dd = (size_t)m->dh * m->dh, col = (size_t)hh * m->dh;
    memset(io, 0, sizeof *io);
    io->p = (xb_chunkscan){.dk = m->dh, .dv = m->dh, .C = m->C, .ldk = m->d, .ldv = m->d, .reverse = dir,
                           .scale = 1.0f / sqrtf((float)m->dh), .g0 = 0.0f};
    if (s == 0) {
        const size_t r0 = (size_t)b * S->N * m->d + col;
        io->p.L = xb_len(S->len, b, S->N);
        io->q = S->qa1 + r0; io->k = S->sv->k1 + r0; io->v = S->va + r0; io->g = S->sv->la1 + r0;
        io->o = S->sv->o + r0;
        io->ckpt = S->sv->cks + (((size_t)b * m->dirs + dir) * m->h + hh) * m->nch * dd;
        if (S->dO) {
            io->dO = S->dO + r0; io->dq = S->dq + r0; io->dk = S->dk + r0; io->dv = S->dv + r0; io->dg = S->dg + r0;
        }
        return;
    }
    const int p = s - 1, *cnt = S->cnt + (size_t)b * m->P;
    const size_t r0 = ((size_t)b * m->K * S->N + S->base[(size_t)b * m->P + p]) * m->d + col;
    size_t slot = 0;
    for (int q = 0; q < p; q++) slot += (size_t)xb_chunkscan_nchunks(cnt[q], m->C);
    const gat *g = S->g;
    io->p.L = cnt[p];
    io->q = g->Q + r0; io->k = g->K + r0; io->v = g->V + r0; io->g = g->G + r0; io->o = g->O ? g->O + r0 : NULL;
    io->ckpt = S->sv->ckp + ((((size_t)b * m->dirs + dir) * m->h + hh) * m->slots + slot) * dd;
    if (S->dO) {
        io->dO = g->O + r0; io->dq = g->dQ + r0; io->dk = g->dK + r0; io->dv = g->dV + r0; io->dg = g->dG + r0;
    }
}

/* ---- elementwise pieces ---- */

static inline float silu(float z) { return z * xb_vsigmoid(z); }
static inline float dsilu(float z) { float s = xb_vsigmoid(z); return s * (1.0f + z * (1.0f - s)); }

/* y = silu(z) over n floats; g *= silu'(z) over n floats. Their own functions so the restrict
 * pointers let the loops vectorise (three arrays in one loop ran scalar). */
static void silu_n(size_t n, const float *restrict z, float *restrict y)
{
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) y[i] = silu(z[i]);
}

static void dsilu_mul_n(size_t n, const float *restrict z, float *restrict g)
{
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) g[i] *= dsilu(z[i]);
}

/* y = softmax over each run of n floats of x (rows × n). */
static void softmax_rows(size_t rows, int n, const float *x, float *y)
{
    #pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *xr = x + r * n;
        float *yr = y + r * n, mx = xr[0], sum = 0.0f;
        for (int j = 1; j < n; j++) mx = xr[j] > mx ? xr[j] : mx;
        for (int j = 0; j < n; j++) { yr[j] = xb_vexp(xr[j] - mx); sum += yr[j]; }
        const float inv = 1.0f / sum;
        for (int j = 0; j < n; j++) yr[j] *= inv;
    }
}

/* dx = y ⊙ (dy − Σ y⊙dy) per run of n (softmax backward; dx may alias dy). */
static void softmax_rows_backward(size_t rows, int n, const float *y, const float *dy, float *dx)
{
    #pragma omp parallel for schedule(static)
    for (size_t r = 0; r < rows; r++) {
        const float *yr = y + r * n, *dr = dy + r * n;
        float *xr = dx + r * n, dot = 0.0f;
        for (int j = 0; j < n; j++) dot += yr[j] * dr[j];
        for (int j = 0; j < n; j++) xr[j] = yr[j] * (dr[j] - dot);
    }
}

/* gh = b + h W2 (rows × d), then la = logsigmoid(gh)/16. */
static void gate_stack(size_t R, int d, const float *h, const float *W2, const float *b, float *gh, float *la)
{
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R; i++) memcpy(gh + i * d, b, (size_t)d * sizeof(float));
    xb_gemm(0, 0, (int)R, d, SSE_RANK, 1.0f, h, SSE_RANK, W2, d, 1.0f, gh, d);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R * d; i++) la[i] = xb_vlogsig(gh[i]) / SSE_GNORM;
}

/* U = RMSNorm_head(o)·norm_w ⊙ silu(z_g) over rows [r0, r0 + nr); store_rstd: compute and
 * save rstd, else reuse it. */
static void gate_norm_rows(const dims *m, const sv *s, const float *nw, size_t r0, size_t nr, float *u,
                           int store_rstd)
{
    xb_gated_headrms((int)nr, m->h, m->dh, s->o + r0 * m->d, s->zg + r0 * m->d, nw, SSE_EPS,
                     s->rstd + r0 * m->h, store_rstd, u);
}

typedef struct out_job { const dims *m; const sv *s; const float *nw; } out_job;

static void out_prologue(int r0, int rows, float *u, int ldu, void *arg)
{
    const out_job *j = arg;
    XB_ASSERT(ldu == j->m->d);
    gate_norm_rows(j->m, j->s, j->nw, (size_t)r0, (size_t)rows, u, 1);
}

/* ---- forward ---- */

static void sse_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    dims m = get_dims(c, N);
    wts W = get_wts(c, w);
    sv s = get_sv(&m, saved, B, N);
    fws f;
    bws bw;   /* the backward's views of the same scratch, unused here */
    scratch_plan(&m, B, N, scratch, &f, &bw);
    const int d = m.d, dh = m.dh;
    const size_t R = (size_t)B * N;
    /* projections of X: z_q1, k₁ (pre-softmax), z_v, X L_q1, X L_k1, X G_1; then the gate
     * stacks' first layers and the router logits */
    const int c1[6] = {d, d, d, dh, dh, dh}, c2[3] = {SSE_RANK, SSE_RANK, m.P};
    xb_proj p1 = xb_proj_make(d, 6, c1), p2 = xb_proj_make(d, 3, c2);
    const float *w1[6] = {W.p[T_WQ], W.p[T_WK], W.p[T_WV], W.p[T_LQ1], W.p[T_LK1], W.p[T_G1]};
    float *o1[6] = {s.zq1, f.zk1, s.zv, s.hq, s.hk, s.hg};
    const float *w2[3] = {W.p[T_WG1A], W.p[T_WG1B], W.p[T_WE]};
    float *o2[3] = {s.h1, s.h2, f.el};
    xb_proj_forward_split(&p1, (int)R, x, d, w1, o1, NULL, NULL);
    xb_proj_forward_split(&p2, (int)R, x, d, w2, o2, NULL, NULL);
    /* q₂ = q₁ + (X L_q1) L_q2, k₂ likewise; gates; output gate logits */
    memcpy(s.zq2, s.zq1, R * d * sizeof(float));
    memcpy(f.zk2, f.zk1, R * d * sizeof(float));
    xb_gemm(0, 0, (int)R, d, dh, 1.0f, s.hq, dh, W.p[T_LQ2], d, 1.0f, s.zq2, d);
    xb_gemm(0, 0, (int)R, d, dh, 1.0f, s.hk, dh, W.p[T_LK2], d, 1.0f, f.zk2, d);
    xb_gemm(0, 0, (int)R, d, dh, 1.0f, s.hg, dh, W.p[T_G2], d, 0.0f, s.zg, d);
    gate_stack(R, d, s.h1, W.p[T_WG2A], W.p[T_BG2A], s.gh1, s.la1);
    gate_stack(R, d, s.h2, W.p[T_WG2B], W.p[T_BG2B], s.gh2, s.la2);
    /* activations and the router */
    silu_n(R * d, s.zq1, f.qa1);
    silu_n(R * d, s.zq2, f.qa2);
    silu_n(R * d, s.zv, f.va);
    softmax_rows(R * m.h, dh, f.zk1, s.k1);
    softmax_rows(R * m.h, dh, f.zk2, s.k2);
    softmax_rows(R, m.P, f.el, s.eta);
    route_all(&m, s.eta, len, B, N, &f.r);
    gather_all(&m, &s, f.qa2, f.va, len, B, N, &f.r, &f.g, NULL, NULL);
    /* scans: shared into o, partitions into their gathered output rows */
    scans S = {&m, &s, len, f.r.cnt, f.r.base, N, f.qa1, f.va, &f.g, NULL, NULL, NULL, NULL, NULL};
    xb_chunkscan_many_forward(n_scans(&m, B), m.dirs, get_scan, &S, f.work, f.wsz, m.nch, dh, f.dec);
    /* o += the partitions' outputs, per token in routing order; pad rows 0 */
    #pragma omp parallel for schedule(static)
    for (size_t row = 0; row < R; row++) {
        float *orow = s.o + row * d;
        if ((int)(row % N) >= xb_len(len, (int)(row / N), N)) { memset(orow, 0, (size_t)d * sizeof(float)); continue; }
        for (int j = 0; j < m.K; j++) {
            const float *g = f.g.O + (size_t)f.r.rr[row * m.K + j] * d;
            for (int e = 0; e < d; e++) orow[e] += g[e];
        }
    }
    /* Y = U W_O, U made per block in cache */
    xb_proj po = out_proj(&m);
    out_job oj = {&m, &s, W.p[T_NW]};
    xb_proj_forward_rows(&po, (int)R, out_prologue, &oj, W.p[T_WO], y, d, f.tmp, NULL, NULL);
    xb_zero_pad_rows(y, len, B, N, d);
}

/* ---- backward ---- */

/* dŷ of a gate stack: dĝ = dlogα/16 · σ(−ĝ) in place, db += Σ rows, dW2 += hᵀ dĝ, dh = dĝ W2ᵀ. */
static void gate_stack_backward(size_t R, int d, const float *h, const float *W2, const float *gh, float *dla,
                                float *dW2, float *db, float *dh)
{
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R * d; i++) dla[i] = dla[i] / SSE_GNORM * xb_vsigmoid(-gh[i]);
    for (size_t i = 0; i < R; i++)
        for (int j = 0; j < d; j++) db[j] += dla[i * d + j];
    xb_gemm(1, 0, SSE_RANK, d, (int)R, 1.0f, h, SSE_RANK, dla, d, 1.0f, dW2, d);
    xb_gemm(0, 1, (int)R, SSE_RANK, d, 1.0f, dla, d, W2, d, 0.0f, dh, SSE_RANK);
}

static void sse_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    dims m = get_dims(c, N);
    wts W = get_wts(c, w);
    sv s = get_sv(&m, (float *)saved, B, N);   /* read only */
    bws b;
    fws fw;   /* the forward's views of the same scratch, unused here */
    scratch_plan(&m, B, N, scratch, &fw, &b);
    float *dW[T_COUNT];
    for (int i = 0; i < T_COUNT; i++) dW[i] = dw + tensor_off(c, i);
    const int d = m.d, dh = m.dh, P = m.P, K = m.K;
    const size_t R = (size_t)B * N, Rd = R * d;
    /* pad rows of dy contribute nothing */
    memcpy(b.dym, dy, Rd * sizeof(float));
    xb_zero_pad_rows(b.dym, len, B, N, d);
    /* Y = U W_O */
    enum { RB = 32 };
    #pragma omp parallel for schedule(static)
    for (size_t r0 = 0; r0 < R; r0 += RB)
        gate_norm_rows(&m, &s, W.p[T_NW], r0, R - r0 < RB ? R - r0 : RB, b.U + r0 * d, 0);
    xb_gemm(1, 0, d, d, (int)R, 1.0f, b.U, d, b.dym, d, 1.0f, dW[T_WO], d);
    xb_gemm(0, 1, (int)R, d, d, 1.0f, b.dym, d, W.p[T_WO], d, 0.0f, b.dU, d);
    /* U = n ⊙ silu(z_g): dn (into dO) and dz_g; then the RMSNorm */
    const float *nw = W.p[T_NW];
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R * m.h; i++)
        for (int j = 0; j < dh; j++) {
            size_t e = i * dh + j;
            float z = s.zg[e], n = s.o[e] * s.rstd[i] * nw[j];
            b.dO[e] = b.dU[e] * silu(z);
            b.dzg[e] = b.dU[e] * n * dsilu(z);
        }
    xb_headrms_backward((int)R, m.h, dh, s.o, nw, s.rstd, b.dO, b.dO, dW[T_NW]);
    /* z_g = (X G_1) G_2 */
    xb_gemm(1, 0, dh, d, (int)R, 1.0f, s.hg, dh, b.dzg, d, 1.0f, dW[T_G2], d);
    xb_gemm(0, 1, (int)R, dh, d, 1.0f, b.dzg, d, W.p[T_G2], d, 0.0f, b.dhg, dh);
    /* scan inputs again: activations, routing, gathered rows (and dO gathered) */
    silu_n(Rd, s.zq1, b.qa1);
    silu_n(Rd, s.zq2, b.qa2);
    silu_n(Rd, s.zv, b.va);
    route_all(&m, s.eta, len, B, N, &b.r);
    gather_all(&m, &s, b.qa2, b.va, len, B, N, &b.r, &b.g, b.dO, b.g.O);
    /* scans backward: shared into dqa1 … dla1, partitions into the gathered gradients */
    float *z1[] = {b.dqa1, b.dka1, b.dva, b.dla1};
    for (int i = 0; i < 4; i++) memset(z1[i], 0, Rd * sizeof(float));
    float *z2[] = {b.g.dQ, b.g.dK, b.g.dV, b.g.dG};
    for (int i = 0; i < 4; i++) memset(z2[i], 0, (size_t)K * Rd * sizeof(float));
    scans S = {&m, &s, len, b.r.cnt, b.r.base, N, b.qa1, b.va, &b.g, b.dO, b.dqa1, b.dka1, b.dva, b.dla1};
    xb_chunkscan_many_backward(n_scans(&m, B), m.dirs, get_scan, &S, b.work, b.wsz);
    /* partitions back to the tokens: dq₂ += η_p dQ, dk₂ += η_p dK, dv += dV, dlogα₂ += dG,
     * dη_p = q₂·dQ + k₂·dK; pad rows 0 */
    #pragma omp parallel for schedule(static)
    for (size_t row = 0; row < R; row++) {
        float *dq = b.dqa2 + row * d, *dk = b.dka2 + row * d, *dl = b.dla2 + row * d, *dv = b.dva + row * d;
        float *de = b.deta + row * P;
        memset(dq, 0, (size_t)d * sizeof(float)); memset(dk, 0, (size_t)d * sizeof(float));
        memset(dl, 0, (size_t)d * sizeof(float)); memset(de, 0, (size_t)P * sizeof(float));
        if ((int)(row % N) >= xb_len(len, (int)(row / N), N)) continue;
        const float *q = b.qa2 + row * d, *k = s.k2 + row * d;
        for (int j = 0; j < K; j++) {
            const int p = b.r.rp[row * K + j];
            const size_t gr = (size_t)b.r.rr[row * K + j] * d;
            const float e = s.eta[row * P + p];
            float acc = 0.0f;
            for (int c2 = 0; c2 < d; c2++) {
                const float gq = b.g.dQ[gr + c2], gk = b.g.dK[gr + c2];
                dq[c2] += e * gq; dk[c2] += e * gk; dv[c2] += b.g.dV[gr + c2]; dl[c2] += b.g.dG[gr + c2];
                acc += q[c2] * gq + k[c2] * gk;
            }
            de[p] = acc;
        }
    }
    /* router: η = softmax(X W_e) */
    softmax_rows_backward(R, P, s.eta, b.deta, b.deta);
    /* activations: silu for q₁, q₂, v (in place), softmax over the head for k₁, k₂ */
    dsilu_mul_n(Rd, s.zq1, b.dqa1);
    dsilu_mul_n(Rd, s.zq2, b.dqa2);
    dsilu_mul_n(Rd, s.zv, b.dva);
    softmax_rows_backward(R * m.h, dh, s.k1, b.dka1, b.dka1);
    softmax_rows_backward(R * m.h, dh, s.k2, b.dka2, b.dka2);
    /* gates */
    gate_stack_backward(R, d, s.h1, W.p[T_WG2A], s.gh1, b.dla1, dW[T_WG2A], dW[T_BG2A], b.dh1);
    gate_stack_backward(R, d, s.h2, W.p[T_WG2B], s.gh2, b.dla2, dW[T_WG2B], dW[T_BG2B], b.dh2);
    /* q₂ = q₁ + (X L_q1) L_q2, k₂ likewise: the low-rank factors, then dq₁ += dq₂ */
    xb_gemm(1, 0, dh, d, (int)R, 1.0f, s.hq, dh, b.dqa2, d, 1.0f, dW[T_LQ2], d);
    xb_gemm(0, 1, (int)R, dh, d, 1.0f, b.dqa2, d, W.p[T_LQ2], d, 0.0f, b.dhq, dh);
    xb_gemm(1, 0, dh, d, (int)R, 1.0f, s.hk, dh, b.dka2, d, 1.0f, dW[T_LK2], d);
    xb_gemm(0, 1, (int)R, dh, d, 1.0f, b.dka2, d, W.p[T_LK2], d, 0.0f, b.dhk, dh);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < Rd; i++) { b.dqa1[i] += b.dqa2[i]; b.dka1[i] += b.dka2[i]; }
    /* input projections: dW_* += Xᵀ d(out), dx = Σ d(out) W_*ᵀ */
    struct { int t, cols; const float *g; } in[] = {
        {T_WQ, d, b.dqa1}, {T_WK, d, b.dka1}, {T_WV, d, b.dva}, {T_LQ1, dh, b.dhq}, {T_LK1, dh, b.dhk},
        {T_G1, dh, b.dhg}, {T_WG1A, SSE_RANK, b.dh1}, {T_WG1B, SSE_RANK, b.dh2}, {T_WE, P, b.deta},
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++) {
        xb_gemm(1, 0, d, in[i].cols, (int)R, 1.0f, x, d, in[i].g, in[i].cols, 1.0f, dW[in[i].t], in[i].cols);
        xb_gemm(0, 1, (int)R, d, in[i].cols, 1.0f, in[i].g, in[i].cols, W.p[in[i].t], in[i].cols, i ? 1.0f : 0.0f,
                dx, d);
    }
    xb_zero_pad_rows(dx, len, B, N, d);
}

/* MIXERS.md §25, gather form: projections 2Nd·3d + 8N d d_h (low-rank q and k: four
 * products, see the file comment) + 2·2N·16·(d + d) (gates) + 2NdP (router) + 4N d d_h
 * (output gate) + 2Nd² (W_O); scans (1 + k)·[§16's chunked GLA scan with d_k = d_v = d:
 * 2NC(2d) + 4N d d_h + 2N d], doubled in bidirectional mode (§0.1). */
static double sse_flops(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c, N);
    const double n = N, d = m.d, dh = m.dh, C = m.C;
    double proj = 2 * n * d * 3 * d + 8 * n * d * dh + 2 * 2 * n * SSE_RANK * (d + d) + 2 * n * d * m.P +
                  4 * n * d * dh + 2 * n * d * d;
    double scan = 2 * n * C * (d + d) + 4 * n * d * dh + 2 * n * d;
    return proj + m.dirs * (1 + m.K) * scan;
}

/* ---- reference: the mask form in double ---- */

/* y[j] = Σ_i x[i] W[i][j], x [n], W [n × cols]. */
static void vecmat(const double *x, int n, const float *W, int cols, double *y)
{
    for (int j = 0; j < cols; j++) {
        double a = 0;
        for (int i = 0; i < n; i++) a += x[i] * W[(size_t)i * cols + j];
        y[j] = a;
    }
}

static double dsig(double z) { return 1.0 / (1.0 + exp(-z)); }

/* Naive double-precision forward, mask form: per token every projection and activation, the
 * router's top-k mask, then for each head and direction P + 1 sequential GLA recurrences over
 * all real tokens (partition p's with q₂ η_p M_p, k₂ η_p M_p, v M_p, log α₂ M_p), summed,
 * per-head RMSNorm, swish output gate, output projection. */
static void sse_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    dims m = get_dims(c, N);
    wts W = get_wts(c, w);
    const int d = m.d, dh = m.dh, P = m.P, K = m.K, S = 1 + P;
    const size_t Nd = (size_t)N * d;
    /* per token: q[s], k[s] (s = 0 shared, 1 + p partition p, masks applied), v[s], la[s], zg */
    double *q = calloc(S * Nd, sizeof(double)), *k = calloc(S * Nd, sizeof(double));
    double *v = calloc(S * Nd, sizeof(double)), *la = calloc(S * Nd, sizeof(double));
    double *zg = calloc(Nd, sizeof(double)), *o = calloc(Nd, sizeof(double));
    double *St = calloc((size_t)dh * dh, sizeof(double));
    double xr[1024], t1[1024], t2[1024], q1[1024], q2[1024], k1[1024], k2[1024], vv[1024], a1[1024], a2[1024];
    double hh16[SSE_RANK], e[SSE_PMAX], u[1024];
    XB_ASSERT(d <= 1024 && P <= SSE_PMAX);
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        memset(q, 0, S * Nd * sizeof(double)); memset(k, 0, S * Nd * sizeof(double));
        memset(v, 0, S * Nd * sizeof(double)); memset(la, 0, S * Nd * sizeof(double));
        for (int t = 0; t < L; t++) {
            for (int i = 0; i < d; i++) xr[i] = x[((size_t)b * N + t) * d + i];
            vecmat(xr, d, W.p[T_WQ], d, q1);
            vecmat(xr, d, W.p[T_WK], d, k1);
            vecmat(xr, d, W.p[T_WV], d, vv);
            vecmat(xr, d, W.p[T_LQ1], dh, t1); vecmat(t1, dh, W.p[T_LQ2], d, t2);
            for (int i = 0; i < d; i++) q2[i] = q1[i] + t2[i];
            vecmat(xr, d, W.p[T_LK1], dh, t1); vecmat(t1, dh, W.p[T_LK2], d, t2);
            for (int i = 0; i < d; i++) k2[i] = k1[i] + t2[i];
            vecmat(xr, d, W.p[T_WG1A], SSE_RANK, hh16); vecmat(hh16, SSE_RANK, W.p[T_WG2A], d, a1);
            vecmat(xr, d, W.p[T_WG1B], SSE_RANK, hh16); vecmat(hh16, SSE_RANK, W.p[T_WG2B], d, a2);
            for (int i = 0; i < d; i++) {
                a1[i] = -log1p(exp(-(a1[i] + W.p[T_BG2A][i]))) / 16.0;
                a2[i] = -log1p(exp(-(a2[i] + W.p[T_BG2B][i]))) / 16.0;
            }
            vecmat(xr, d, W.p[T_G1], dh, t1); vecmat(t1, dh, W.p[T_G2], d, zg + (size_t)t * d);
            /* activations: silu q, v; softmax over each head's d_h for k */
            for (int i = 0; i < d; i++) { q1[i] *= dsig(q1[i]); q2[i] *= dsig(q2[i]); vv[i] *= dsig(vv[i]); }
            for (int hh = 0; hh < m.h; hh++) {
                double *ks[2] = {k1 + hh * dh, k2 + hh * dh};
                for (int a = 0; a < 2; a++) {
                    double mx = ks[a][0], sum = 0;
                    for (int j = 1; j < dh; j++) mx = ks[a][j] > mx ? ks[a][j] : mx;
                    for (int j = 0; j < dh; j++) { ks[a][j] = exp(ks[a][j] - mx); sum += ks[a][j]; }
                    for (int j = 0; j < dh; j++) ks[a][j] /= sum;
                }
            }
            /* router: softmax, top-k mask (ties: lower index) */
            vecmat(xr, d, W.p[T_WE], P, e);
            double mx = e[0], sum = 0;
            for (int p = 1; p < P; p++) mx = e[p] > mx ? e[p] : mx;
            for (int p = 0; p < P; p++) { e[p] = exp(e[p] - mx); sum += e[p]; }
            for (int p = 0; p < P; p++) e[p] /= sum;
            int mask[SSE_PMAX] = {0};
            for (int j = 0; j < K; j++) {
                int best = -1;
                for (int p = 0; p < P; p++)
                    if (!mask[p] && (best < 0 || e[p] > e[best])) best = p;
                mask[best] = 1;
            }
            const size_t r = (size_t)t * d;
            for (int i = 0; i < d; i++) { q[r + i] = q1[i]; k[r + i] = k1[i]; v[r + i] = vv[i]; la[r + i] = a1[i]; }
            for (int p = 0; p < P; p++) {
                const size_t rp = (size_t)(1 + p) * Nd + r;
                const double g = mask[p] ? e[p] : 0.0;
                for (int i = 0; i < d; i++) {
                    q[rp + i] = q2[i] * g; k[rp + i] = k2[i] * g;
                    v[rp + i] = mask[p] ? vv[i] : 0.0; la[rp + i] = mask[p] ? a2[i] : 0.0;
                }
            }
        }
        /* P + 1 recurrences per head and direction, summed into o */
        memset(o, 0, Nd * sizeof(double));
        for (int st = 0; st < S; st++)
            for (int hh = 0; hh < m.h; hh++)
                for (int dir = 0; dir < m.dirs; dir++) {
                    memset(St, 0, (size_t)dh * dh * sizeof(double));
                    for (int tau = 0; tau < L; tau++) {
                        const int t = dir ? L - 1 - tau : tau;
                        const size_t r = (size_t)st * Nd + (size_t)t * d + (size_t)hh * dh;
                        for (int i = 0; i < dh; i++) {
                            const double a = exp(la[r + i]);
                            for (int j = 0; j < dh; j++) St[i * dh + j] = a * St[i * dh + j] + k[r + i] * v[r + j];
                        }
                        for (int j = 0; j < dh; j++) {
                            double s = 0;
                            for (int i = 0; i < dh; i++) s += St[i * dh + j] * q[r + i];
                            o[(size_t)t * d + hh * dh + j] += s / sqrt((double)dh);
                        }
                    }
                }
        for (int t = 0; t < N; t++) {
            double *yr = y + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) yr[j] = 0;
            if (t >= L) continue;
            for (int hh = 0; hh < m.h; hh++) {
                const double *oh = o + (size_t)t * d + hh * dh;
                double ss = 0;
                for (int j = 0; j < dh; j++) ss += oh[j] * oh[j];
                const double rs = 1.0 / sqrt(ss / dh + SSE_EPS);
                for (int j = 0; j < dh; j++) {
                    const double z = zg[(size_t)t * d + hh * dh + j];
                    u[hh * dh + j] = oh[j] * rs * W.p[T_NW][j] * z * dsig(z);
                }
            }
            vecmat(u, d, W.p[T_WO], d, yr);
        }
    }
    free(q); free(k); free(v); free(la); free(zg); free(o); free(St);
}

/* ---- decode: per head the shared state and the P partition states, each d_h × d_h ----
 * The mask form one token at a time: the shared state S = Diag(α₁) S + k₁ vᵀ always; the
 * state of partition p only when the token routes to p (top-k of η): S_p = Diag(α₂) S_p +
 * (η_p k₂) vᵀ, read by η_p q₂. The others are neither decayed nor read (M_p = 0 in the mask
 * form, which the forward's gather form equals). */

static size_t sse_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    const size_t dh = (size_t)(c->d / c->heads);
    return (size_t)c->heads * (1 + xb_cfg_int(c, OPT_PARTITIONS)) * dh * dh;
}

/* rows q1, k1, v, q2, k2, z_g, a1, a2, o [d]; x L_q1, x L_k1, x G_1 [d_h]; the gate stacks'
 * first layers [16 each]; the router logits η [P] */
typedef struct dscr { float *q1, *k1, *v, *q2, *k2, *zg, *a1, *a2, *o, *hq, *hk, *hg, *h1, *h2, *eta; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    const size_t d = (size_t)c->d, dh = (size_t)(c->d / c->heads);
    float **rows[] = {&b->q1, &b->k1, &b->v, &b->q2, &b->k2, &b->zg, &b->a1, &b->a2, &b->o};
    xb_scratch s = xb_scratch_at(scratch);
    for (size_t i = 0; i < sizeof rows / sizeof *rows; i++) XB_TAKE(&s, *rows[i], d, XB_SCR_PACKED);
    XB_TAKE(&s, b->hq, dh, XB_SCR_PACKED);
    XB_TAKE(&s, b->hk, dh, XB_SCR_PACKED);
    XB_TAKE(&s, b->hg, dh, XB_SCR_PACKED);
    XB_TAKE(&s, b->h1, SSE_RANK, XB_SCR_PACKED);
    XB_TAKE(&s, b->h2, SSE_RANK, XB_SCR_PACKED);
    XB_TAKE(&s, b->eta, (size_t)xb_cfg_int(c, OPT_PARTITIONS), XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t sse_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

/* y = softmax(x) over n floats, serially (the forward's softmax_rows on one row). */
static void softmax_one(int n, const float *x, float *y)
{
    float mx = x[0], sum = 0.0f;
    for (int j = 1; j < n; j++) mx = x[j] > mx ? x[j] : mx;
    for (int j = 0; j < n; j++) { y[j] = xb_vexp(x[j] - mx); sum += y[j]; }
    const float inv = 1.0f / sum;
    for (int j = 0; j < n; j++) y[j] *= inv;
}

/* S = Diag(e^{la}) S + (f k) vᵀ, then o += Sᵀ (f q) · scale, over one head's d_h × d_h. */
static void decode_scan(int dh, float *S, const float *q, const float *k, const float *v, const float *la,
                        float f, float scale, float *o)
{
    for (int i = 0; i < dh; i++) {
        const float a = expf(la[i]), ki = f * k[i], qi = f * q[i] * scale;
        float *Si = S + (size_t)i * dh;
        for (int j = 0; j < dh; j++) {
            Si[j] = a * Si[j] + ki * v[j];
            o[j] += Si[j] * qi;
        }
    }
}

static void sse_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                            float *state, float *y, float *scratch)
{
    (void)n_max; (void)t;
    dims m = get_dims(c, 1);
    wts W = get_wts(c, w);
    const int d = m.d, dh = m.dh, P = m.P, K = m.K, R = SSE_RANK;
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *q1 = sc.q1, *k1 = sc.k1, *v = sc.v, *q2 = sc.q2, *k2 = sc.k2, *zg = sc.zg;
    float *a1 = sc.a1, *a2 = sc.a2, *o = sc.o, *hq = sc.hq, *hk = sc.hk, *hg = sc.hg;
    float *h1 = sc.h1, *h2 = sc.h2, *eta = sc.eta;
    /* projections (1-row products) */
    struct { int t, cols; float *out; } in[] = {
        {T_WQ, d, q1}, {T_WK, d, k1}, {T_WV, d, v}, {T_LQ1, dh, hq}, {T_LK1, dh, hk}, {T_G1, dh, hg},
        {T_WG1A, R, h1}, {T_WG1B, R, h2}, {T_WE, P, eta},
    };
    for (size_t i = 0; i < sizeof in / sizeof *in; i++)
        xb_gemm(0, 0, 1, in[i].cols, d, 1.0f, x, d, W.p[in[i].t], in[i].cols, 0.0f, in[i].out, in[i].cols);
    memcpy(q2, q1, (size_t)d * sizeof(float));
    memcpy(k2, k1, (size_t)d * sizeof(float));
    memcpy(a1, W.p[T_BG2A], (size_t)d * sizeof(float));
    memcpy(a2, W.p[T_BG2B], (size_t)d * sizeof(float));
    xb_gemm(0, 0, 1, d, dh, 1.0f, hq, dh, W.p[T_LQ2], d, 1.0f, q2, d);
    xb_gemm(0, 0, 1, d, dh, 1.0f, hk, dh, W.p[T_LK2], d, 1.0f, k2, d);
    xb_gemm(0, 0, 1, d, dh, 1.0f, hg, dh, W.p[T_G2], d, 0.0f, zg, d);
    xb_gemm(0, 0, 1, d, R, 1.0f, h1, R, W.p[T_WG2A], d, 1.0f, a1, d);
    xb_gemm(0, 0, 1, d, R, 1.0f, h2, R, W.p[T_WG2B], d, 1.0f, a2, d);
    /* activations, gates and the router */
    for (int i = 0; i < d; i++) {
        q1[i] = silu(q1[i]); q2[i] = silu(q2[i]); v[i] = silu(v[i]);
        a1[i] = xb_vlogsig(a1[i]) / SSE_GNORM; a2[i] = xb_vlogsig(a2[i]) / SSE_GNORM;
    }
    for (int hh = 0; hh < m.h; hh++) {
        softmax_one(dh, k1 + hh * dh, k1 + hh * dh);
        softmax_one(dh, k2 + hh * dh, k2 + hh * dh);
    }
    softmax_one(P, eta, eta);
    int sel[SSE_PMAX];
    top_k(eta, P, K, sel);
    /* the shared state and the routed partitions' states, per head */
    const float scale = 1.0f / sqrtf((float)dh), *nw = W.p[T_NW];
    const size_t dd = (size_t)dh * dh;
    for (int hh = 0; hh < m.h; hh++) {
        float *S = state + (size_t)hh * (1 + P) * dd, *oh = o + hh * dh;
        const int c0 = hh * dh;
        for (int j = 0; j < dh; j++) oh[j] = 0;
        decode_scan(dh, S, q1 + c0, k1 + c0, v + c0, a1 + c0, 1.0f, scale, oh);
        for (int j = 0; j < K; j++)
            decode_scan(dh, S + (size_t)(1 + sel[j]) * dd, q2 + c0, k2 + c0, v + c0, a2 + c0, eta[sel[j]], scale, oh);
        float ss = 0;
        for (int j = 0; j < dh; j++) ss += oh[j] * oh[j];
        const float rs = 1.0f / sqrtf(ss / dh + SSE_EPS);
        for (int j = 0; j < dh; j++) oh[j] *= rs * nw[j] * silu(zg[c0 + j]);
    }
    xb_gemm(0, 0, 1, d, d, 1.0f, o, d, W.p[T_WO], d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static const char *sse_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    const char *n = t->name;
    if (!strncmp(n, "W_g1_", 5)) return "(in, out) row-major: y = x W (low-rank gate, shared by the heads)";
    if (!strcmp(n, "L_q1") || !strcmp(n, "L_k1") || !strcmp(n, "G_1"))
        return "(in, out) row-major: y = x W (low-rank bottleneck of width d_h, shared by the heads)";
    if (!strcmp(n, "W_e")) return "(in, out) row-major: router logits e = x W_e, column p = partition p";
    return NULL;
}

static void sse_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "chunk", xb_cfg_int(c, OPT_CHUNK));
    xb_fact_int(f, "partitions", xb_cfg_int(c, OPT_PARTITIONS));
    xb_fact_int(f, "topk", xb_cfg_int(c, OPT_TOPK));
    xb_fact_text(f, "form", "gather (varlen): each partition scans only its routed tokens, in position order; "
                            "equal to the mask form since k_w = k_r = topk");
    xb_fact_text(f, "routing", "eta = softmax(x W_e); a token writes and reads its topk largest eta_p (ties: lower p), "
                               "with q2 and k2 scaled by eta_p");
    xb_fact_text(f, "activations", "silu on q1, q2, v; softmax over each head's d_h on k1, k2; q scaled by d_h^-1/2");
    xb_fact_text(f, "aux_loss", "load-balancing loss left out: the mixer contract has no auxiliary loss");
    xb_fact_real(f, "rmsnorm_eps", SSE_EPS);
}

const xb_mixer xb_mixer_sse = {
    .name = "sse",
    .family = "linear attention (sparse state expansion)",
    .cite = "Pan et al. 2025, Scaling Linear Attention with Sparse State Expansion",
    .complexity = "N",
    XB_OPTS(sse_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = sse_check,
    .tensors = sse_tensors,
    .init = sse_init,
    .n_saved = sse_n_saved,
    .n_scratch = sse_n_scratch,
    .forward = sse_forward,
    .backward = sse_backward,
    .flops = sse_flops,
    .reference = sse_reference,
    .decode_state = sse_decode_state,
    .decode_scratch = sse_decode_scratch,
    .decode_step = sse_decode_step,
    .layout = sse_layout,
    .facts = sse_facts,
};
