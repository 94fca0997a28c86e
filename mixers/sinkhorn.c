/* mixers/sinkhorn.c — Sparse Sinkhorn attention (Tay et al. 2020), MIXERS.md §11: standard
 * projections W_Q, W_K, W_V, W_O, h heads; per head the keys are cut into contiguous blocks of
 * b rows (option `block`, default 64) and
 *   s_I = Σ_{t∈I} k_t                                  block key summaries (d_h)
 *   R   = s W_sort[:, :n_b] + c[:n_b]                  sort net, W_sort [d_h × n_b,max] and c
 *                                                      [n_b,max] shared by the heads (n_b,max =
 *                                                      ⌈n_max/b⌉, like linformer's E)
 *   P   = softmax over the last axis of R              (n_b × n_b; the LRA default activation)
 *   K̃_I = Σ_J P_IJ K_J,  Ṽ_I = Σ_J P_IJ V_J            mixed ("sorted") blocks
 *   O_I = softmax(Q_I K_Iᵀ/√d_h) V_I + softmax(Q_I K̃_Iᵀ/√d_h) Ṽ_I    (two softmaxes, summed)
 * then Y = O W_O. Both attentions run on core/attn.c's tiled kernel with its block mask (the
 * second one over the K̃/Ṽ rows, padded to ⌈N/b⌉·b). Bidirectional only (§11: the LRA causal
 * path is marked untested; causal = 1 is refused, like linformer).
 *
 * Decisions where §11 is silent:
 * - Lengths. A sequence is processed exactly as if it were alone at its real length n = len[b]:
 *   n_b = ⌈n/b⌉ blocks, the last one short when b does not divide n (N not a multiple of b, or
 *   padding), and the sort net uses columns :n_b (§11's rule for N < n_max). So pad rows enter no
 *   summary, no column of R and no block of K̃/Ṽ, and no real output depends on N or on pad
 *   content (the padding test checks it bit for bit). The alternative, n_b = ⌈N/b⌉ with masked
 *   pad blocks, would make a sequence's output depend on how much padding its batch has.
 * - Short last block. Its summary is the sum over its real rows (not rescaled). In the mixing,
 *   its missing rows count as zero (K̃_I row t = Σ_{J : J·b+t < n} P_IJ K_J row t, i.e. the block
 *   zero-padded to b rows, P not renormalised). The own-block attention of a short block sees
 *   only its real keys. Row t of K̃_I is a key iff some block has a row t, i.e. t < min(b, n):
 *   with n_b ≥ 2 all b rows; with n_b = 1 (n ≤ b) only the n real rows, where K̃ = K (P = [1]).
 * - Sort-net init: W_sort U(±1/√d_h) (its fan-in), c = 0 (LRA's bias_init zeros); c is not
 *   decayed. Only softmax sort activation (§11's `sinkhorn` iterations have no suite key here).
 * - LRA's sinkhorn_attention.py differs (read through the search tool, see the helper report):
 *   it reshapes (N) → (b, N/b) (strided token groups, as its local attention; xbench uses
 *   contiguous blocks as §4 does), and its einsum 'bskhd,bnhl->bsnhd' sums k and l separately,
 *   so its K̃ is Σ_J K_J for every block and its sort net gets no gradient; xbench implements the
 *   intended K̃ = P K (§11, the paper). Its projections carry biases; §0 has none.
 *
 * saved (whole batch, by tensor): Q, K, V, O1 (own-block output), O2 (sorted output) [B·N × d];
 * K̃, Ṽ [B·Nk × d] with Nk = ⌈N/b⌉·b; L1, L2 [B × h × N]; P [B × h × nb × nb], nb = ⌈N/b⌉. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/attn.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/xb.h"

static int nblk(int n, int b) { return (n + b - 1) / b; }

enum { OPT_BLOCK };
static const xb_mixer_opt sk_opts[] = {
    [OPT_BLOCK] = {.name = "block", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 64,
                   .help = "block size b"},
};

static int sk_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (c->n_max < 1) {
        snprintf(err, errn, "n_max: sinkhorn's sort net needs the longest sequence length, got %d", c->n_max);
        return XB_EINVAL;
    }
    return 0;
}

/* W_Q, W_K, W_V, W_O [d,d], W_sort [d_h, n_b,max], c [n_b,max] */
static int sk_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    const size_t dd = (size_t)c->d * c->d;
    const int dh = c->d / c->heads, nbm = nblk(c->n_max, xb_cfg_int(c, OPT_BLOCK));
    if (out) {
        static const char *names[4] = {"W_Q", "W_K", "W_V", "W_O"};
        for (int i = 0; i < 4; i++) out[i] = (xb_tensor){names[i], (size_t)i * dd, c->d, c->d, XB_T_DECAY};
        out[4] = (xb_tensor){"W_sort", 4 * dd, dh, nbm, XB_T_DECAY};
        out[5] = (xb_tensor){"c", 4 * dd + (size_t)dh * nbm, nbm, 1, 0};
    }
    return 6;
}

static void sk_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    const size_t dd = (size_t)c->d * c->d;
    const int dh = c->d / c->heads, nbm = nblk(c->n_max, xb_cfg_int(c, OPT_BLOCK));
    for (int i = 0; i < 4; i++) xb_init_uniform(w + i * dd, c->d, c->d, rng);
    xb_init_uniform(w + 4 * dd, dh, nbm, rng);
    memset(w + 4 * dd + (size_t)dh * nbm, 0, (size_t)nbm * sizeof(float));
}

/* Q, K, V, O1, O2 (5Nd) + K̃, Ṽ (2·Nk·d) + L1, L2 (2Nh) + P (nb²·h) */
static size_t sk_n_saved(const xb_mixer_cfg *c, int N)
{
    const size_t nb = (size_t)nblk(N, xb_cfg_int(c, OPT_BLOCK)), Nk = nb * xb_cfg_int(c, OPT_BLOCK);
    return 5 * (size_t)N * c->d + 2 * Nk * c->d + 2 * (size_t)N * c->heads + nb * nb * c->heads;
}

typedef struct geo { int d, h, dh, b, nb, Nk, nbm; } geo;

static geo geom(const xb_mixer_cfg *c, int N)
{
    geo g = {c->d, c->heads, c->d / c->heads, xb_cfg_int(c, OPT_BLOCK), nblk(N, xb_cfg_int(c, OPT_BLOCK)), 0, nblk(c->n_max, xb_cfg_int(c, OPT_BLOCK))};
    g.Nk = g.nb * g.b;
    return g;
}

typedef struct bufs { float *Q, *K, *V, *O1, *O2, *Kt, *Vt, *L1, *L2, *P; } bufs;

static bufs saved_bufs(const geo *g, const float *saved, int B, int N)
{
    const size_t nd = (size_t)B * N * g->d, kd = (size_t)B * g->Nk * g->d, nh = (size_t)B * g->h * N;
    float *s = (float *)saved;
    bufs r;
    r.Q = s; r.K = s + nd; r.V = s + 2 * nd; r.O1 = s + 3 * nd; r.O2 = s + 4 * nd;
    r.Kt = s + 5 * nd; r.Vt = r.Kt + kd; r.L1 = r.Vt + kd; r.L2 = r.L1 + nh; r.P = r.L2 + nh;
    return r;
}

/* the own-block attention: keys of query i's block, k < len */
static xb_attn own_desc(const geo *g, const int *len, int B, int N)
{
    return (xb_attn){.B = B, .Nq = N, .Nk = N, .hq = g->h, .hkv = g->h, .dh = g->dh, .ldq = g->d,
                     .ldkv = g->d, .block = g->b, .len_q = len, .len_k = len};
}

/* the sorted attention: rows [I·b, I·b + b) of K̃/Ṽ, the first lk[b] rows of each sequence */
static xb_attn sorted_desc(const geo *g, const int *len, const int *lk, int B, int N)
{
    return (xb_attn){.B = B, .Nq = N, .Nk = g->Nk, .hq = g->h, .hkv = g->h, .dh = g->dh, .ldq = g->d,
                     .ldkv = g->d, .block = g->b, .len_q = len, .len_k = lk};
}

/* key rows of K̃ per sequence: all b rows of each of its n_b blocks, or its n real rows when
 * n_b = 1 (see the header) */
static void sorted_lens(const geo *g, const int *len, int B, int N, int *lk)
{
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N), nb = nblk(n, g->b);
        lk[b] = nb >= 2 ? nb * g->b : n;
    }
}

/* Scratch: kernel | S (summaries) | O = O1 + O2 | lk | per-thread panels; backward adds dY | dO |
 * dQ | dK | dV | dQ2 (the sorted attention's dQ) | dK̃ | dṼ | dR. A panel holds one head of one
 * sequence's K (or V, K̃, …) head-major, [nb × b·d_h] with zero rows past the real length, so
 * that the block mixing K̃ = P K is one product; forward uses 4 per thread, backward 6. */
#define SK_PANELS 6
typedef struct scr { float *ks, *S, *O, *pan, *dY, *dO, *dQ, *dK, *dV, *dQ2, *dKt, *dVt, *dR; int *lk; size_t ps; } scr;

/* one thread's SK_PANELS panels (base NULL: measure) */
static size_t panel_plan(const geo *g, float *base, float *pan[SK_PANELS])
{
    float *p0;
    size_t st;
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE_SLICES(&s, p0, SK_PANELS, (size_t)g->Nk * g->dh, XB_SCR_64F, &st);
    for (int i = 0; i < SK_PANELS; i++) pan[i] = p0 ? p0 + (size_t)i * st : NULL;
    return xb_scratch_floats(&s);
}

static size_t scratch_plan(const geo *g, float *scratch, int B, int N, scr *t)
{
    const size_t nd = (size_t)B * N * g->d, kd = (size_t)B * g->Nk * g->d;
    xb_attn a = sorted_desc(g, NULL, NULL, B, N);   /* the larger of the two kernels (Nk ≥ N) */
    float *pan[SK_PANELS];
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, t->ks, xb_attn_scratch(&a), XB_SCR_64F);
    XB_TAKE(&s, t->S, (size_t)B * g->h * g->nb * g->dh, XB_SCR_64F);
    XB_TAKE(&s, t->O, nd, XB_SCR_64F);
    XB_TAKE(&s, t->lk, (size_t)B, XB_SCR_64F);
    XB_TAKE_THREADS(&s, t->pan, panel_plan(g, NULL, pan), XB_SCR_64F, &t->ps);
    XB_TAKE(&s, t->dY, nd, XB_SCR_64F);
    XB_TAKE(&s, t->dO, nd, XB_SCR_64F);
    XB_TAKE(&s, t->dQ, nd, XB_SCR_64F);
    XB_TAKE(&s, t->dK, nd, XB_SCR_64F);
    XB_TAKE(&s, t->dV, nd, XB_SCR_64F);
    XB_TAKE(&s, t->dQ2, nd, XB_SCR_64F);
    XB_TAKE(&s, t->dKt, kd, XB_SCR_64F);
    XB_TAKE(&s, t->dVt, kd, XB_SCR_64F);
    XB_TAKE(&s, t->dR, (size_t)B * g->h * g->nb * g->nb, XB_SCR_64F);
    xb_scratch_align(&s, XB_SCR_64F);   /* every part ends on 64 floats, the last one too */
    return xb_scratch_floats(&s);
}

/* the calling thread's panels */
static void my_panels(const geo *g, const scr *t, float *pan[SK_PANELS])
{
    panel_plan(g, t->pan + (size_t)xb_thread_id() * t->ps, pan);
}

static size_t sk_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    geo g = geom(c, N);
    scr t;
    return scratch_plan(&g, NULL, B, N, &t);
}

/* The forward's Q, K and V products in row blocks, straight into saved; each block's K and V
 * rows go into the own-block kernel's packs while in cache (as core/attn.c's sub-block). */
typedef struct qkv_job { const xb_attn *a; const float *K, *V; float *ks; } qkv_job;

static void qkv_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    (void)y; (void)ldy;
    const qkv_job *j = arg;
    const size_t ld = (size_t)j->a->ldkv;
    xb_attn_pack_rows(j->a, r0, rows, j->K + r0 * ld, j->V + r0 * ld, (int)ld, j->ks);
}

/* Summaries S[I] = Σ_{t∈I, t<n} K[t] of head hh of sequence b (Kb: its rows, row stride d). */
static void summaries(const geo *g, const float *Kb, int hh, int n, float *S)
{
    const int nb = nblk(n, g->b), dh = g->dh;
    for (int I = 0; I < nb; I++) {
        float *s = S + (size_t)I * dh;
        memset(s, 0, (size_t)dh * sizeof(float));
        for (int t = I * g->b; t < xb_min(n, I * g->b + g->b); t++) {
            const float *k = Kb + (size_t)t * g->d + (size_t)hh * dh;
            for (int e = 0; e < dh; e++) s[e] += k[e];
        }
    }
}

/* panel [nb·b × d_h] = head hh of rows [0, n) of X (row stride d), rows [n, nb·b) zero */
static void gather(const geo *g, const float *X, int hh, int n, int nb, float *panel)
{
    const int dh = g->dh;
    for (int t = 0; t < n; t++) memcpy(panel + (size_t)t * dh, X + (size_t)t * g->d + (size_t)hh * dh, (size_t)dh * sizeof(float));
    memset(panel + (size_t)n * dh, 0, (size_t)(nb * g->b - n) * dh * sizeof(float));
}

/* rows [0, rows) of head hh of X (row stride d) = panel rows (add = 0) or += them (add = 1) */
static void scatter(const geo *g, const float *panel, int hh, int rows, float *X, int add)
{
    const int dh = g->dh;
    for (int t = 0; t < rows; t++) {
        float *x = X + (size_t)t * g->d + (size_t)hh * dh;
        const float *p = panel + (size_t)t * dh;
        if (add) for (int e = 0; e < dh; e++) x[e] += p[e];
        else memcpy(x, p, (size_t)dh * sizeof(float));
    }
}

static void sk_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                       float *y, float *saved, float *scratch, int B, int N)
{
    XB_ASSERT(N <= c->n_max);
    const geo g = geom(c, N);
    const int d = g.d, BN = B * N, dh = g.dh, nbs = g.nb;
    const size_t dd = (size_t)d * d;
    const float *Ws = w + 4 * dd, *cs = Ws + (size_t)dh * g.nbm;
    bufs s = saved_bufs(&g, saved, B, N);
    scr t;
    scratch_plan(&g, scratch, B, N, &t);
    xb_attn a1 = own_desc(&g, len, B, N);
    xb_proj p = xb_proj_make(d, 3, (int[]){d, d, d});
    qkv_job j = {&a1, s.K, s.V, t.ks};
    xb_proj_forward_split(&p, BN, x, d, (const float *const[]){w, w + dd, w + 2 * dd},
                          (float *const[]){s.Q, s.K, s.V}, qkv_epilogue, &j);
    xb_attn_forward_packed(&a1, s.Q, s.O1, s.L1, t.ks);

    /* per (sequence, head): summaries, R, P = softmax(R), K̃ = P K, Ṽ = P V */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int hh = 0; hh < g.h; hh++) {
            const int n = xb_len(len, b, N), nb = nblk(n, g.b);
            const float *Kb = s.K + (size_t)b * N * d, *Vb = s.V + (size_t)b * N * d;
            float *P = s.P + ((size_t)b * g.h + hh) * nbs * nbs, *S = t.S + ((size_t)b * g.h + hh) * nbs * dh;
            summaries(&g, Kb, hh, n, S);
            memset(P, 0, (size_t)nbs * nbs * sizeof(float));
            for (int I = 0; I < nb; I++) {
                float *r = P + (size_t)I * nbs, mx = -INFINITY, sum = 0;
                for (int J = 0; J < nb; J++) {
                    float a = cs[J];
                    for (int e = 0; e < dh; e++) a += S[(size_t)I * dh + e] * Ws[(size_t)e * g.nbm + J];
                    r[J] = a;
                    mx = a > mx ? a : mx;
                }
                for (int J = 0; J < nb; J++) { r[J] = expf(r[J] - mx); sum += r[J]; }
                for (int J = 0; J < nb; J++) r[J] /= sum;
            }
            /* K̃ = P K, Ṽ = P V on head-major panels; rows past n_b·b of K̃/Ṽ are 0 */
            const int pw = g.b * dh;
            float *pan[SK_PANELS];
            my_panels(&g, &t, pan);
            float *Kh = pan[0], *Vh = pan[1], *Kth = pan[2], *Vth = pan[3];
            gather(&g, Kb, hh, n, nb, Kh);
            gather(&g, Vb, hh, n, nb, Vh);
            xb_gemm(0, 0, nb, pw, nb, 1.0f, P, nbs, Kh, pw, 0.0f, Kth, pw);
            xb_gemm(0, 0, nb, pw, nb, 1.0f, P, nbs, Vh, pw, 0.0f, Vth, pw);
            memset(Kth + (size_t)nb * pw, 0, (size_t)(nbs - nb) * pw * sizeof(float));
            memset(Vth + (size_t)nb * pw, 0, (size_t)(nbs - nb) * pw * sizeof(float));
            scatter(&g, Kth, hh, g.Nk, s.Kt + (size_t)b * g.Nk * d, 0);
            scatter(&g, Vth, hh, g.Nk, s.Vt + (size_t)b * g.Nk * d, 0);
        }

    sorted_lens(&g, len, B, N, t.lk);
    xb_attn a2 = sorted_desc(&g, len, t.lk, B, N);
    xb_attn_forward(&a2, s.Q, s.Kt, s.Vt, s.O2, s.L2, t.ks);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < BN; r++)
        for (int e = 0; e < d; e++) t.O[(size_t)r * d + e] = s.O1[(size_t)r * d + e] + s.O2[(size_t)r * d + e];
    xb_proj_matmul(BN, d, d, t.O, d, w + 3 * dd, y);
    xb_zero_pad_rows(y, len, B, N, d);   /* O is 0 there; make y exactly +0 */
}

/* Backward: dW_O, dO; the two attention backwards (core/attn.c); through the mixing
 * dK_J += Σ_I P_IJ dK̃_I (dV likewise), dP_IJ = ⟨dK̃_I, K_J⟩ + ⟨dṼ_I, V_J⟩ over the rows both
 * have; dR = P ⊙ (dP − rowsum(P ⊙ dP)); ds_I = dR W_sortᵀ added to every real k_t of block I;
 * dW_sort += Sᵀ dR and dc += colsum(dR) summed over (sequence, head) in order after the
 * parallel loop; then the projection backwards. Overwrites dx, accumulates dw. */
static void sk_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                        int B, int N)
{
    const geo g = geom(c, N);
    const int d = g.d, BN = B * N, dh = g.dh, nbs = g.nb;
    const size_t dd = (size_t)d * d;
    const float *Ws = w + 4 * dd;
    float *dWs = dw + 4 * dd, *dcs = dWs + (size_t)dh * g.nbm;
    bufs s = saved_bufs(&g, saved, B, N);
    scr t;
    scratch_plan(&g, scratch, B, N, &t);
    for (int b = 0; b < B; b++) {   /* dy at pad rows counts as 0 */
        size_t off = (size_t)b * N * d, real = (size_t)xb_len(len, b, N) * d;
        memcpy(t.dY + off, dy + off, real * sizeof(float));
        memset(t.dY + off + real, 0, ((size_t)N * d - real) * sizeof(float));
    }
#pragma omp parallel for schedule(static)
    for (int r = 0; r < BN; r++)
        for (int e = 0; e < d; e++) t.O[(size_t)r * d + e] = s.O1[(size_t)r * d + e] + s.O2[(size_t)r * d + e];
    xb_gemm(1, 0, d, d, BN, 1.0f, t.O, d, t.dY, d, 1.0f, dw + 3 * dd, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, t.dY, d, w + 3 * dd, d, 0.0f, t.dO, d);
    xb_attn a1 = own_desc(&g, len, B, N);
    xb_attn_backward(&a1, s.Q, s.K, s.V, s.O1, s.L1, t.dO, t.dQ, t.dK, t.dV, t.ks);
    sorted_lens(&g, len, B, N, t.lk);
    xb_attn a2 = sorted_desc(&g, len, t.lk, B, N);
    xb_attn_backward(&a2, s.Q, s.Kt, s.Vt, s.O2, s.L2, t.dO, t.dQ2, t.dKt, t.dVt, t.ks);
#pragma omp parallel for schedule(static)
    for (int r = 0; r < BN; r++)
        for (int e = 0; e < d; e++) t.dQ[(size_t)r * d + e] += t.dQ2[(size_t)r * d + e];

#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int hh = 0; hh < g.h; hh++) {
            const int n = xb_len(len, b, N), nb = nblk(n, g.b);
            const size_t ho = (size_t)hh * dh;
            const float *Kb = s.K + (size_t)b * N * d, *Vb = s.V + (size_t)b * N * d;
            float *dKb = t.dK + (size_t)b * N * d + ho;
            const float *P = s.P + ((size_t)b * g.h + hh) * nbs * nbs;
            float *dR = t.dR + ((size_t)b * g.h + hh) * nbs * nbs, *S = t.S + ((size_t)b * g.h + hh) * nbs * dh;
            summaries(&g, Kb, hh, n, S);
            /* dP = dK̃ Kᵀ + dṼ Vᵀ (into dR), dK += Pᵀ dK̃, dV += Pᵀ dṼ, on head-major panels */
            const int pw = g.b * dh;
            float *pan[SK_PANELS];
            my_panels(&g, &t, pan);
            float *Kh = pan[0], *Vh = pan[1], *gK = pan[2], *gV = pan[3], *dKh = pan[4], *dVh = pan[5];
            gather(&g, Kb, hh, n, nb, Kh);
            gather(&g, Vb, hh, n, nb, Vh);
            gather(&g, t.dKt + (size_t)b * g.Nk * d, hh, nb * g.b, nb, gK);
            gather(&g, t.dVt + (size_t)b * g.Nk * d, hh, nb * g.b, nb, gV);
            memset(dR, 0, (size_t)nbs * nbs * sizeof(float));
            xb_gemm(0, 1, nb, nb, pw, 1.0f, gK, pw, Kh, pw, 0.0f, dR, nbs);
            xb_gemm(0, 1, nb, nb, pw, 1.0f, gV, pw, Vh, pw, 1.0f, dR, nbs);
            xb_gemm(1, 0, nb, pw, nb, 1.0f, P, nbs, gK, pw, 0.0f, dKh, pw);
            xb_gemm(1, 0, nb, pw, nb, 1.0f, P, nbs, gV, pw, 0.0f, dVh, pw);
            scatter(&g, dKh, hh, n, t.dK + (size_t)b * N * d, 1);
            scatter(&g, dVh, hh, n, t.dV + (size_t)b * N * d, 1);
            for (int I = 0; I < nb; I++) {
                float *r = dR + (size_t)I * nbs, dot = 0;
                const float *p = P + (size_t)I * nbs;
                for (int J = 0; J < nb; J++) dot += p[J] * r[J];
                for (int J = 0; J < nb; J++) r[J] = p[J] * (r[J] - dot);
                for (int e = 0; e < dh; e++) {   /* ds_I[e] = Σ_J dR_IJ W_sort[e][J] */
                    float a = 0;
                    for (int J = 0; J < nb; J++) a += r[J] * Ws[(size_t)e * g.nbm + J];
                    for (int tt = I * g.b; tt < xb_min(n, I * g.b + g.b); tt++) dKb[(size_t)tt * d + e] += a;
                }
            }
        }
    for (int b = 0; b < B; b++)   /* serial, in order: deterministic */
        for (int hh = 0; hh < g.h; hh++) {
            const int nb = nblk(xb_len(len, b, N), g.b);
            const float *dR = t.dR + ((size_t)b * g.h + hh) * nbs * nbs, *S = t.S + ((size_t)b * g.h + hh) * nbs * dh;
            for (int I = 0; I < nb; I++)
                for (int J = 0; J < nb; J++) {
                    const float r = dR[(size_t)I * nbs + J];
                    dcs[J] += r;
                    for (int e = 0; e < dh; e++) dWs[(size_t)e * g.nbm + J] += S[(size_t)I * dh + e] * r;
                }
        }

    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, t.dQ, d, 1.0f, dw, d);
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, t.dK, d, 1.0f, dw + dd, d);
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, t.dV, d, 1.0f, dw + 2 * dd, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, t.dQ, d, w, d, 0.0f, dx, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, t.dK, d, w + dd, d, 1.0f, dx, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, t.dV, d, w + 2 * dd, d, 1.0f, dx, d);
}

/* §11, the form compiled: 8Nd² + 4d·(P1 + P2) (the two attentions' scores and P·V over their
 * allowed pairs) + 4·n_b·N·d (mixing K and V) + 2·n_b²·d (sort net) + N·d (summaries), elementwise
 * 3h·(P1 + P2) + 3·n_b²·h, with n_b = ⌈N/b⌉, P1 = Σ_I |I|² over the block sizes (the last may be
 * short) and P2 = N·b (N² when n_b = 1: the sorted block has N rows). When b divides N this is
 * §11's 8Nd² + 8Nbd + 4n_bNd + 2n_b²d + Nd + 6Nbh + 3n_b²h. */
static double sk_flops(const xb_mixer_cfg *c, int N)
{
    const double n = N, d = c->d, h = c->heads, b = xb_cfg_int(c, OPT_BLOCK), nb = nblk(N, xb_cfg_int(c, OPT_BLOCK));
    double p1 = 0;
    for (int s0 = 0; s0 < N; s0 += xb_cfg_int(c, OPT_BLOCK)) {
        double sz = xb_min(xb_cfg_int(c, OPT_BLOCK), N - s0);
        p1 += sz * sz;
    }
    const double p2 = nb >= 2 ? n * b : n * n;
    return 8 * n * d * d + 4 * d * (p1 + p2) + 4 * nb * n * d + 2 * nb * nb * d + n * d +
           3 * h * (p1 + p2) + 3 * nb * nb * h;
}

/* naive double: dense projections, block sums, R and its softmax, K̃ and Ṽ as explicit sums,
 * then for every query two explicit softmaxes (its block's real keys; the rows of its sorted
 * block that exist) */
static void sk_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         double *y, int B, int N)
{
    const int d = c->d, h = c->heads, dh = d / h, bs = xb_cfg_int(c, OPT_BLOCK), nbm = nblk(c->n_max, bs);
    const size_t dd = (size_t)d * d;
    const float *Ws = w + 4 * dd, *cs = Ws + (size_t)dh * nbm;
    const int nbN = nblk(N, bs);
    double *q = calloc((size_t)N * d, sizeof(double)), *k = calloc((size_t)N * d, sizeof(double));
    double *v = calloc((size_t)N * d, sizeof(double)), *o = calloc((size_t)N * d, sizeof(double));
    double *kt = calloc((size_t)nbN * bs * d, sizeof(double)), *vt = calloc((size_t)nbN * bs * d, sizeof(double));
    double *P = calloc((size_t)nbN * nbN, sizeof(double)), *sm = calloc((size_t)dh, sizeof(double));
    double *p = calloc((size_t)bs > (size_t)N ? (size_t)bs : (size_t)N, sizeof(double));
    XB_ASSERT(q && k && v && o && kt && vt && P && sm && p);
    for (int b = 0; b < B; b++) {
        const int n = xb_len(len, b, N), nb = nblk(n, bs), rows_t = nb >= 2 ? bs : n;
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++)
            for (int cc = 0; cc < d; cc++) {
                double a0 = 0, a1 = 0, a2 = 0;
                for (int e = 0; e < d; e++) {
                    double xv = xb[(size_t)t * d + e];
                    a0 += xv * w[(size_t)e * d + cc];
                    a1 += xv * w[dd + (size_t)e * d + cc];
                    a2 += xv * w[2 * dd + (size_t)e * d + cc];
                }
                q[(size_t)t * d + cc] = a0; k[(size_t)t * d + cc] = a1; v[(size_t)t * d + cc] = a2;
            }
        for (int j = 0; j < h; j++) {
            for (int I = 0; I < nb; I++) {   /* P row I = softmax_J(s_I · W_sort[:, J] + c[J]) */
                for (int e = 0; e < dh; e++) {
                    sm[e] = 0;
                    for (int t = I * bs; t < n && t < (I + 1) * bs; t++) sm[e] += k[(size_t)t * d + j * dh + e];
                }
                double mx = -INFINITY, sum = 0;
                for (int J = 0; J < nb; J++) {
                    double a = cs[J];
                    for (int e = 0; e < dh; e++) a += sm[e] * Ws[(size_t)e * nbm + J];
                    P[(size_t)I * nbN + J] = a;
                    if (a > mx) mx = a;
                }
                for (int J = 0; J < nb; J++) sum += P[(size_t)I * nbN + J] = exp(P[(size_t)I * nbN + J] - mx);
                for (int J = 0; J < nb; J++) P[(size_t)I * nbN + J] /= sum;
            }
            for (int I = 0; I < nb; I++)   /* K̃_I row r = Σ_J P_IJ K_J row r over the blocks having row r */
                for (int r = 0; r < bs; r++)
                    for (int e = 0; e < dh; e++) {
                        double a = 0, bb = 0;
                        for (int J = 0; J < nb; J++) {
                            int t = J * bs + r;
                            if (t >= n) continue;
                            a += P[(size_t)I * nbN + J] * k[(size_t)t * d + j * dh + e];
                            bb += P[(size_t)I * nbN + J] * v[(size_t)t * d + j * dh + e];
                        }
                        kt[((size_t)I * bs + r) * d + j * dh + e] = a;
                        vt[((size_t)I * bs + r) * d + j * dh + e] = bb;
                    }
            for (int i = 0; i < n; i++) {
                const int I = i / bs;
                for (int e = 0; e < dh; e++) o[(size_t)i * d + j * dh + e] = 0;
                for (int pass = 0; pass < 2; pass++) {   /* 0: own block, 1: sorted block */
                    const double *kk = pass ? kt : k, *vv = pass ? vt : v;
                    const int r0 = I * bs, r1 = pass ? I * bs + rows_t : (n < (I + 1) * bs ? n : (I + 1) * bs);
                    double mx = -INFINITY, sum = 0;
                    for (int r = r0; r < r1; r++) {
                        double a = 0;
                        for (int e = 0; e < dh; e++) a += q[(size_t)i * d + j * dh + e] * kk[(size_t)r * d + j * dh + e];
                        p[r - r0] = a / sqrt((double)dh);
                        if (p[r - r0] > mx) mx = p[r - r0];
                    }
                    for (int r = r0; r < r1; r++) sum += p[r - r0] = exp(p[r - r0] - mx);
                    for (int e = 0; e < dh; e++) {
                        double a = 0;
                        for (int r = r0; r < r1; r++) a += p[r - r0] * vv[(size_t)r * d + j * dh + e];
                        o[(size_t)i * d + j * dh + e] += a / sum;
                    }
                }
            }
        }
        double *yb = y + (size_t)b * N * d;
        for (int t = 0; t < N; t++)
            for (int cc = 0; cc < d; cc++) {
                double a = 0;
                if (t < n)
                    for (int e = 0; e < d; e++) a += o[(size_t)t * d + e] * w[3 * dd + (size_t)e * d + cc];
                yb[(size_t)t * d + cc] = a;
            }
    }
    free(q); free(k); free(v); free(o); free(kt); free(vt); free(P); free(sm); free(p);
}

/* What xbench dump states beyond the tensors. */
static const char *sk_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    return strcmp(t->name, "W_sort") ? NULL
                                     : "(d_h, n_b_max) row-major: R = s W_sort[:, :n_b] + c[:n_b], s = a head's block "
                                       "key sums (shared by the heads)";
}

static void sk_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "block", xb_cfg_int(c, OPT_BLOCK));
    xb_fact_int(f, "n_b_max", nblk(c->n_max, xb_cfg_int(c, OPT_BLOCK)));
    xb_fact_text(f, "sort_activation", "softmax over the last axis of R (no Sinkhorn iterations)");
    xb_fact_text(f, "blocks", "contiguous blocks of b over the real length n: n_b = ceil(n/b), the last one short "
                              "when b does not divide n; the sort net uses columns [0, n_b)");
    xb_fact_text(f, "short_block", "summary = sum of its real rows; in K~ = P K its missing rows count as zero; "
                                   "row t of a sorted block is a key iff t < min(b, n)");
    xb_fact_text(f, "output", "O = softmax(Q_I K_I^T/sqrt(d_h)) V_I + softmax(Q_I K~_I^T/sqrt(d_h)) V~_I, then W_O");
}

const xb_mixer xb_mixer_sinkhorn = {
    .name = "sinkhorn",
    .family = "sparse attention",
    .cite = "Tay et al. 2020, Sparse Sinkhorn Attention",
    .complexity = "N b + N^2/b",
    XB_OPTS(sk_opts),
    .modes = XB_BIDIR,
    .unverified = 0,
    .check = sk_check,
    .tensors = sk_tensors,
    .init = sk_init,
    .n_saved = sk_n_saved,
    .n_scratch = sk_n_scratch,
    .forward = sk_forward,
    .backward = sk_backward,
    .flops = sk_flops,
    .reference = sk_reference,
    .layout = sk_layout,
    .facts = sk_facts,
};
