/* mixers/synthesizer.c — Synthesizer, MIXERS.md §12: attention weights from learned
 * per-position logits, no query–key product. Per head j (d_h = d/h), for a sequence of real
 * length n:
 *   V = X W_V,   O_j = softmax(A_j[:n, :n] + mask) V_j,   Y = O W_O,
 * with the logits A_j by `variant`:
 *   1 factorized_random (default)  A_j = R1_j R2_j,  R1_j [n_max, k], R2_j [k, n_max], k = `rank`
 *   2 random                       A_j = R_j,        R_j [n_max, n_max]
 *   3 dense                        A_j[i, :] = relu(x_i W1)_j W2_j,  W1 [d, d], W2_j [d_h, n_max]
 *                                  (relu(x_i W1)_j: the head's d_h columns)
 * The causal mask removes A above the diagonal; keys ≥ n are masked, so each sequence of a padded
 * batch sees exactly A[:n, :n] (core/mixer.h's padding contract). No 1/√d_h scale (MIXERS.md §12
 * and the LRA code add no scale to synthetic logits). Weights are sized by n_max like linformer's
 * E; a forward with N > n_max is a programmer error.
 *
 * Weight layout (MIXERS.md §32 names; per-head blocks stacked head-major, as LRA's (h, ·, ·)
 * parameters): W_V [d, d], W_O [d, d], then R1 [h·n_max, k] and R2 [h·k, n_max] (1), or
 * R [h·n_max, n_max] (2), or W1 [d, d] and W2 [h·d_h, n_max] (3). Init: W_V, W_O, W1 and R the
 * global default U(±1/√fan_in) (R: fan_in n_max; W2: fan_in d_h); R1, R2 ~ N(0, 1/k) (variance
 * 1/k, as §12 says; A = R1 R2 then has entries of variance 1/k, not 1 as §12's "unit-scale"
 * remark suggests).
 *
 * CPU form: the §1 flash form with the logits tile made by the variant instead of Q Kᵀ — for
 * (1) the 64 × 64 tile R1_j[i0.., :] R2_j[:, k0..] (2·64·64·k, the 2N²kh of §12's count), for (2)
 * a copy of R_j's tile, for (3) H_j[i0..] W2_j[:, k0..] — then online softmax and P V on core/mk.h's
 * microkernel; saved: V, O, logsumexp L (and H = relu(X W1) for dense), 2Nd + Nh (+ Nd) floats.
 * Backward (FlashAttention-2 with dA in place of dS) as two loops, each owning what it writes, so
 * the weight gradients of the batch-shared R1, R2, R, W2 need no per-thread buffers and are summed
 * in an order that does not depend on the thread count:
 *   A  over (head, key block), batch and query blocks inside: dV, and the key-side gradients
 *      dR2_j[:, kb] += R1_jᵀ Σ_b dA_b (the batch's dA summed first: R1, R2 do not depend on x),
 *      dR_j[:, kb] += Σ_b dA_b, dW2_j[:, kb] += Σ_b H_{b,j}ᵀ dA_b;
 *   B  over (head, query block), for (1) and (3) only: dR1_j[qb] += Σ_b dA_b R2_jᵀ and
 *      dH_{b,j}[qb] = dA_b W2_jᵀ (then through the relu to W1 and x).
 * P and dA are recomputed from L in both loops (nothing N² is stored).
 *
 * Versus the LRA code (synthesizer_attention.py, read for this file): there the key padding mask
 * is applied only when the dot product is kept, so with ignore_dot_product pad keys get weight;
 * here they never do (the padding contract). LRA's dense mode has one W2 [d_h, n_max] shared by
 * the heads, biases, and reshapes (not transposes) its (len, heads, n_max) logits to (heads, len,
 * n_max); here W2 is per head as §12 says, no biases. LRA's R1/R2/R use the layer's kernel_init
 * (xavier_uniform in its SynthesizerBlock), not N(0, 1/k). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/attn.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/mk.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/xb.h"

#define T XB_ATTN_TILE

enum { SYN_FACTORIZED = 1, SYN_RANDOM = 2, SYN_DENSE = 3 };

enum { OPT_VARIANT, OPT_RANK };
static const char *const variant_names[] = {"factorized_random", "random", "dense", NULL};   /* SYN_* */
static const xb_mixer_opt syn_opts[] = {
    [OPT_VARIANT] = {.name = "variant", .type = XB_OPT_ENUM, .def = SYN_FACTORIZED, .names = variant_names,
                     .help = "the logits: R1 R2 (factorized_random), R (random) or relu(X W1) W2 (dense)"},
    [OPT_RANK] = {.name = "rank", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 32,
                  .help = "rank k of factorized_random"},
};

static int syn_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (c->n_max < 1) {
        snprintf(err, errn, "n_max: synthesizer's logits need the longest sequence length, got %d", c->n_max);
        return XB_EINVAL;
    }
    return 0;
}

/* ---- weights ------------------------------------------------------------------------- */

typedef struct lay { size_t wv, wo, r1, r2, r, w1, w2; } lay;

static lay layout(const xb_mixer_cfg *c)
{
    const size_t d = (size_t)c->d, h = (size_t)c->heads, nm = (size_t)c->n_max, k = (size_t)xb_cfg_int(c, OPT_RANK);
    lay s = {0};
    s.wv = 0;
    s.wo = d * d;
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED) { s.r1 = 2 * d * d; s.r2 = s.r1 + h * nm * k; }
    else if (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM) s.r = 2 * d * d;
    else { s.w1 = 2 * d * d; s.w2 = s.w1 + d * d; }
    return s;
}

static int syn_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    lay s = layout(c);
    const int d = c->d, h = c->heads, nm = c->n_max, k = xb_cfg_int(c, OPT_RANK);
    if (!out) return 4 - (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM);
    out[0] = (xb_tensor){"W_V", s.wv, d, d, XB_T_DECAY};
    out[1] = (xb_tensor){"W_O", s.wo, d, d, XB_T_DECAY};
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED) {
        out[2] = (xb_tensor){"R1", s.r1, h * nm, k, XB_T_DECAY};
        out[3] = (xb_tensor){"R2", s.r2, h * k, nm, XB_T_DECAY};
        return 4;
    }
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM) {
        out[2] = (xb_tensor){"R", s.r, h * nm, nm, XB_T_DECAY};
        return 3;
    }
    out[2] = (xb_tensor){"W1", s.w1, d, d, XB_T_DECAY};
    out[3] = (xb_tensor){"W2", s.w2, d, nm, XB_T_DECAY};
    return 4;
}

static void syn_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    lay s = layout(c);
    const int d = c->d, h = c->heads, nm = c->n_max, k = xb_cfg_int(c, OPT_RANK);
    xb_init_uniform(w + s.wv, d, d, rng);
    xb_init_uniform(w + s.wo, d, d, rng);
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED) {
        const size_t n = (size_t)2 * h * nm * k;
        const double sd = 1.0 / sqrt((double)k);
        for (size_t i = 0; i < n; i++) w[s.r1 + i] = (float)(sd * xb_rng_normal(rng));
    } else if (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM) {
        for (int j = 0; j < h; j++) xb_init_uniform(w + s.r + (size_t)j * nm * nm, nm, nm, rng);
    } else {
        xb_init_uniform(w + s.w1, d, d, rng);
        xb_init_uniform(w + s.w2, d / h, h * nm, rng);   /* rows = d_h sets the bound 1/√d_h */
    }
}

/* V, O (2Nd) + logsumexp L (Nh) (+ H = relu(X W1), Nd, for dense) */
static size_t syn_n_saved(const xb_mixer_cfg *c, int N)
{
    return (size_t)N * ((xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE ? 3 : 2) * (size_t)c->d + (size_t)c->heads);
}

typedef struct bufs { float *V, *O, *L, *H; } bufs;

static bufs saved_bufs(const xb_mixer_cfg *c, const float *saved, int B, int N)
{
    const size_t nd = (size_t)B * N * c->d;
    float *s = (float *)saved;
    return (bufs){s, s + nd, s + 2 * nd, xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE ? s + 2 * nd + (size_t)B * c->heads * N : NULL};
}

/* ---- the kernel ---------------------------------------------------------------------- */

typedef struct syn {
    int B, N, d, h, dh, k, nmax, variant, causal;
    const int *len;
    const float *R1, *R2, *R, *W2;   /* the variant's weights (NULL when not used) */
    const float *H;                  /* dense: relu(X W1), (B, N, d) */
} syn;

static syn kernel(const xb_mixer_cfg *c, const float *w, const float *H, const int *len, int B, int N)
{
    lay s = layout(c);
    syn k = {.B = B, .N = N, .d = c->d, .h = c->heads, .dh = c->d / c->heads, .k = xb_cfg_int(c, OPT_RANK), .nmax = c->n_max,
             .variant = xb_cfg_int(c, OPT_VARIANT), .causal = c->causal, .len = len, .H = H};
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED) { k.R1 = w + s.r1; k.R2 = w + s.r2; }
    else if (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM) k.R = w + s.r;
    else k.W2 = w + s.w2;
    return k;
}

/* one past the last key row i of a sequence of length n sees */
static inline int key_end(const syn *s, int n, int i) { return s->causal && i + 1 < n ? i + 1 : n; }

/* as core/attn.c: blocks visited 0, n−1, 1, n−2, … so pairs of causal blocks cost the same */
static int zigzag(int p, int n) { return p % 2 ? n - 1 - p / 2 : p / 2; }

/* S[r][c] = A_j[i0 + r][k0 + c] of sequence b, r < mr, c < nc (row stride T) */
static void logits(const syn *s, int b, int j, int i0, int mr, int k0, int nc, float *S)
{
    const size_t nm = (size_t)s->nmax;
    if (s->variant == SYN_FACTORIZED)
        xb_mk_gemm(mr, nc, s->k, s->R1 + ((size_t)j * nm + i0) * s->k, (size_t)s->k, 1,
                   s->R2 + (size_t)j * s->k * nm + k0, nm, S, T, 0);
    else if (s->variant == SYN_RANDOM)
        for (int r = 0; r < mr; r++)
            memcpy(S + (size_t)r * T, s->R + ((size_t)j * nm + i0 + r) * nm + k0, (size_t)nc * sizeof(float));
    else
        xb_mk_gemm(mr, nc, s->dh, s->H + ((size_t)b * s->N + i0) * s->d + (size_t)j * s->dh, (size_t)s->d, 1,
                   s->W2 + (size_t)j * s->dh * nm + k0, nm, S, T, 0);
}

/* Online softmax over key tiles, per (b, head, query block): O = softmax(A) V, L = logsumexp. */
static void attend(const syn *s, const float *V, float *O, float *L, float *tiles, size_t ts)
{
    const int nqb = (s->N + T - 1) / T, dh = s->dh, d = s->d;
#pragma omp parallel for collapse(3) schedule(static, 2)
    for (int b = 0; b < s->B; b++)
        for (int j = 0; j < s->h; j++)
            for (int p = 0; p < nqb; p++) {
                const int n = xb_len(s->len, b, s->N), i0 = zigzag(p, nqb) * T;
                const int rows = xb_min(T, s->N - i0), mr = xb_max(0, xb_min(rows, n - i0));
                float *Ob = O + ((size_t)b * s->N + i0) * d + (size_t)j * dh;
                float *Lb = L + ((size_t)b * s->h + j) * s->N + i0;
                for (int r = 0; r < rows; r++) memset(Ob + (size_t)r * d, 0, (size_t)dh * sizeof(float));
                memset(Lb, 0, (size_t)rows * sizeof(float));
                if (mr == 0) continue;
                float *S = tiles + (size_t)xb_thread_id() * ts;
                float m[T], l[T];
                for (int r = 0; r < mr; r++) { m[r] = -INFINITY; l[r] = 0; }
                const int kend = key_end(s, n, i0 + mr - 1);
                for (int k0 = 0; k0 < kend; k0 += T) {
                    const int nc = xb_min(T, kend - k0);
                    logits(s, b, j, i0, mr, k0, nc, S);
                    for (int r = 0; r < mr; r++) {
                        float *sr = S + (size_t)r * T;
                        const int cnt = xb_min(nc, key_end(s, n, i0 + r) - k0);   /* ≥ 1: k0 ≤ i0 */
                        const float mx = xb_attn_row_max(sr, 0, cnt - 1), mn = m[r] > mx ? m[r] : mx;
                        const float alpha = m[r] == -INFINITY ? 0.0f : expf(m[r] - mn);
                        const float sum = xb_attn_row_exp(sr, sr, nc, 0, cnt - 1, 1.0f, mn);
                        l[r] = alpha * l[r] + sum;
                        m[r] = mn;
                        if (alpha != 1.0f) {
                            float *o = Ob + (size_t)r * d;
                            for (int e = 0; e < dh; e++) o[e] *= alpha;
                        }
                    }
                    xb_mk_gemm(mr, dh, nc, S, T, 1, V + ((size_t)b * s->N + k0) * d + (size_t)j * dh, (size_t)d,
                               Ob, (size_t)d, 1);
                }
                for (int r = 0; r < mr; r++) {
                    float *o = Ob + (size_t)r * d, inv = 1.0f / l[r];
                    for (int e = 0; e < dh; e++) o[e] *= inv;
                    Lb[r] = m[r] + logf(l[r]);
                }
            }
}

/* Scratch: the forward's per-thread 64 × 64 score tile, or the backward's views dY, dO, dV
 * (B·N·d each) | Vt: Vᵀ packed per (b, head, key tile), dh × 64 | D (B, h, N) | dH (B·N·d,
 * dense) | KT: R2_jᵀ [N, k] or W2_jᵀ [N, d_h] per head | per thread three 64 × 64 tiles (P, dA,
 * the batch sum of dA). */
typedef struct sbufs { float *ftiles, *dY, *dO, *dV, *Vt, *D, *dH, *KT, *tiles; size_t fts, ts; } sbufs;

static size_t key_width(const xb_mixer_cfg *c)
{
    return xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED ? (size_t)xb_cfg_int(c, OPT_RANK) : xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE ? (size_t)(c->d / c->heads) : 0;
}

/* one thread's three backward tiles (base NULL: measure) */
static size_t tile_plan(float *base, float **P, float **dA, float **acc)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, *P, (size_t)T * T, XB_SCR_PACKED);
    XB_TAKE(&s, *dA, (size_t)T * T, XB_SCR_PACKED);
    XB_TAKE(&s, *acc, (size_t)T * T, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t scratch_plan(const xb_mixer_cfg *c, float *scratch, int B, int N, sbufs *b)
{
    const size_t nd = (size_t)B * N * c->d, nkb = (size_t)(N + T - 1) / T;
    float *P, *dA, *acc;
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE_THREADS(&s, b->ftiles, (size_t)T * T, XB_SCR_64F, &b->fts);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, b->dY, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dO, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dV, nd, XB_SCR_64F);
    XB_TAKE(&s, b->Vt, (size_t)B * nkb * T * c->d, XB_SCR_64F);
    XB_TAKE(&s, b->D, (size_t)B * c->heads * N, XB_SCR_64F);
    XB_TAKE(&s, b->dH, xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE ? nd : 0, XB_SCR_64F);
    XB_TAKE(&s, b->KT, (size_t)c->heads * N * key_width(c), XB_SCR_64F);
    XB_TAKE_THREADS(&s, b->tiles, tile_plan(NULL, &P, &dA, &acc), XB_SCR_64F, &b->ts);
    xb_scratch_union_end(&s, &u);
    return xb_scratch_floats(&s);
}

static size_t syn_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    sbufs b;
    return scratch_plan(c, NULL, B, N, &b);
}

static float *vt_tile(const syn *s, float *Vt, int b, int j, int kb)
{
    return Vt + (((size_t)b * s->h + j) * ((s->N + T - 1) / T) + kb) * T * s->dh;
}

/* P = exp(A − L) of the tile (masked entries 0) and dA = P ⊙ (dO Vᵀ − D), both mr × nc, row
 * stride T */
static void tile_grad(const syn *s, int b, int j, int n, int i0, int mr, int k0, int nc, const float *dO,
                      const float *Vt, const float *Lb, const float *Db, float *P, float *dA)
{
    logits(s, b, j, i0, mr, k0, nc, P);
    xb_mk_gemm(mr, nc, s->dh, dO + ((size_t)b * s->N + i0) * s->d + (size_t)j * s->dh, (size_t)s->d, 1, Vt, T,
               dA, T, 0);
    for (int r = 0; r < mr; r++) {
        float *pr = P + (size_t)r * T;
        xb_attn_row_exp(pr, pr, nc, 0, xb_min(nc, key_end(s, n, i0 + r) - k0) - 1, 1.0f, Lb[r]);
        xb_attn_row_ds(pr, dA + (size_t)r * T, nc, Db[r], 1.0f);
    }
}

/* acc[r][c] += a[r][c] over an mr × nc tile (row stride T) */
static void tile_add(float *acc, const float *a, int mr, int nc)
{
    for (int r = 0; r < mr; r++)
        for (int c = 0; c < nc; c++) acc[(size_t)r * T + c] += a[(size_t)r * T + c];
}


/* The two backward loops (see the header): overwrite dV (and dH for dense), accumulate into the
 * variant's weight gradients g1 (dR1 or dR or dW2) and g2 (dR2). */
static void unattend(const syn *s, const float *V, const float *O, const float *L, const sbufs *sb,
                     float *g1, float *g2)
{
    const int N = s->N, d = s->d, dh = s->dh, h = s->h, nb = (N + T - 1) / T;
    const int kw = s->variant == SYN_FACTORIZED ? s->k : dh;   /* row width of KT */
    const size_t nm = (size_t)s->nmax;

    /* D = rowsum(dO ⊙ O) per head, and the Vᵀ tiles for dP = dO Vᵀ */
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < s->B; b++)
        for (int j = 0; j < h; j++) {
            const int n = xb_len(s->len, b, N);
            float *Dj = sb->D + ((size_t)b * h + j) * N;
            for (int i = 0; i < n; i++) {
                const size_t off = ((size_t)b * N + i) * d + (size_t)j * dh;
                float a = 0;
                for (int e = 0; e < dh; e++) a += sb->dO[off + e] * O[off + e];
                Dj[i] = a;
            }
            for (int t = 0; t < n; t++) {
                float *vt = vt_tile(s, sb->Vt, b, j, t / T) + t % T;
                const float *v = V + ((size_t)b * N + t) * d + (size_t)j * dh;
                for (int e = 0; e < dh; e++) vt[(size_t)e * T] = v[e];
            }
        }
    /* KT_j[t][q] = R2_j[q][t] (factorized) or W2_j[q][t] (dense), for dA R2ᵀ and dA W2ᵀ */
    if (s->variant != SYN_RANDOM) {
        const float *K2 = s->variant == SYN_FACTORIZED ? s->R2 : s->W2;
#pragma omp parallel for collapse(2) schedule(static)
        for (int j = 0; j < h; j++)
            for (int t = 0; t < N; t++) {
                float *kt = sb->KT + ((size_t)j * N + t) * kw;
                for (int q = 0; q < kw; q++) kt[q] = K2[((size_t)j * kw + q) * nm + t];
            }
    }

    /* A: each (head, key block) owns dV's rows of the block and the block's columns of the
     * key-side gradient; queries and sequences are visited in a fixed order */
#pragma omp parallel for collapse(2) schedule(static, 2)
    for (int j = 0; j < h; j++)
        for (int p = 0; p < nb; p++) {
            const int kb = zigzag(p, nb), k0 = kb * T, kr = xb_min(T, N - k0);
            float *P, *dA, *acc;
            tile_plan(sb->tiles + (size_t)xb_thread_id() * sb->ts, &P, &dA, &acc);
            for (int b = 0; b < s->B; b++)
                for (int r = 0; r < kr; r++)
                    memset(sb->dV + ((size_t)b * N + k0 + r) * d + (size_t)j * dh, 0, (size_t)dh * sizeof(float));
            for (int qb = s->causal ? kb : 0; qb < nb; qb++) {
                const int i0 = qb * T, qr = xb_min(T, N - i0);
                int used = 0;
                if (s->variant == SYN_FACTORIZED) memset(acc, 0, (size_t)T * T * sizeof(float));
                for (int b = 0; b < s->B; b++) {
                    const int n = xb_len(s->len, b, N), nc = xb_min(kr, n - k0), mr = xb_min(qr, n - i0);
                    if (nc <= 0 || mr <= 0) continue;
                    const size_t qoff = ((size_t)b * N + i0) * d + (size_t)j * dh, loff = ((size_t)b * h + j) * N + i0;
                    tile_grad(s, b, j, n, i0, mr, k0, nc, sb->dO, vt_tile(s, sb->Vt, b, j, kb), L + loff,
                              sb->D + loff, P, dA);
                    xb_mk_gemm(nc, dh, mr, P, 1, T, sb->dO + qoff, (size_t)d,
                               sb->dV + ((size_t)b * N + k0) * d + (size_t)j * dh, (size_t)d, 1);
                    if (s->variant == SYN_FACTORIZED) {
                        tile_add(acc, dA, mr, nc);
                        used = 1;
                    } else if (s->variant == SYN_RANDOM) {
                        for (int r = 0; r < mr; r++) {
                            float *g = g1 + ((size_t)j * nm + i0 + r) * nm + k0;
                            for (int c = 0; c < nc; c++) g[c] += dA[(size_t)r * T + c];
                        }
                    } else {   /* dW2_j[:, k0..] += H_{b,j}ᵀ dA */
                        xb_mk_gemm(dh, nc, mr, s->H + qoff, 1, (size_t)d, dA, T, g1 + (size_t)j * dh * nm + k0, nm, 1);
                    }
                }
                if (used)   /* dR2_j[:, k0..] += R1_j[i0..]ᵀ Σ_b dA_b */
                    xb_mk_gemm(s->k, kr, qr, s->R1 + ((size_t)j * nm + i0) * s->k, 1, (size_t)s->k, acc, T,
                               g2 + (size_t)j * s->k * nm + k0, nm, 1);
            }
        }
    if (s->variant == SYN_RANDOM) return;

    /* B: each (head, query block) owns the block's rows of dR1_j (factorized) or of dH (dense) */
#pragma omp parallel for collapse(2) schedule(static, 2)
    for (int j = 0; j < h; j++)
        for (int p = 0; p < nb; p++) {
            const int qb = zigzag(p, nb), i0 = qb * T, qr = xb_min(T, N - i0);
            float *P, *dA, *acc;
            tile_plan(sb->tiles + (size_t)xb_thread_id() * sb->ts, &P, &dA, &acc);
            if (s->variant == SYN_DENSE)
                for (int b = 0; b < s->B; b++)
                    for (int r = 0; r < qr; r++)
                        memset(sb->dH + ((size_t)b * N + i0 + r) * d + (size_t)j * dh, 0, (size_t)dh * sizeof(float));
            for (int kb = 0; kb <= (s->causal ? qb : nb - 1); kb++) {
                const int k0 = kb * T, kr = xb_min(T, N - k0);
                const float *KTj = sb->KT + ((size_t)j * N + k0) * kw;
                int used = 0;
                if (s->variant == SYN_FACTORIZED) memset(acc, 0, (size_t)T * T * sizeof(float));
                for (int b = 0; b < s->B; b++) {
                    const int n = xb_len(s->len, b, N), nc = xb_min(kr, n - k0), mr = xb_min(qr, n - i0);
                    if (nc <= 0 || mr <= 0) continue;
                    const size_t qoff = ((size_t)b * N + i0) * d + (size_t)j * dh, loff = ((size_t)b * h + j) * N + i0;
                    tile_grad(s, b, j, n, i0, mr, k0, nc, sb->dO, vt_tile(s, sb->Vt, b, j, kb), L + loff,
                              sb->D + loff, P, dA);
                    if (s->variant == SYN_FACTORIZED) {
                        tile_add(acc, dA, mr, nc);
                        used = 1;
                    } else {   /* dH_{b,j}[i0..] += dA W2_j[:, k0..]ᵀ */
                        xb_mk_gemm(mr, dh, nc, dA, T, 1, KTj, (size_t)dh, sb->dH + qoff, (size_t)d, 1);
                    }
                }
                if (used)   /* dR1_j[i0..] += Σ_b dA_b R2_j[:, k0..]ᵀ */
                    xb_mk_gemm(qr, s->k, kr, acc, T, 1, KTj, (size_t)s->k, g1 + ((size_t)j * nm + i0) * s->k,
                               (size_t)s->k, 1);
            }
        }
}

static void syn_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len, float *y,
                        float *saved, float *scratch, int B, int N)
{
    XB_ASSERT(N <= c->n_max);
    lay s = layout(c);
    const int d = c->d, BN = B * N;
    bufs v = saved_bufs(c, saved, B, N);
    xb_proj_matmul(BN, d, d, x, d, w + s.wv, v.V);
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE) {   /* H = relu(X W1) */
        const size_t n = (size_t)BN * d;
        xb_proj_matmul(BN, d, d, x, d, w + s.w1, v.H);
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) v.H[i] = v.H[i] > 0.0f ? v.H[i] : 0.0f;
    }
    syn k = kernel(c, w, v.H, len, B, N);
    sbufs sb;
    scratch_plan(c, scratch, B, N, &sb);
    attend(&k, v.V, v.O, v.L, sb.ftiles, sb.fts);
    xb_proj_matmul(BN, d, d, v.O, d, w + s.wo, y);
    xb_zero_pad_rows(y, len, B, N, d);   /* O is 0 there; make y exactly +0 */
}

static void syn_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch, int B, int N)
{
    lay s = layout(c);
    const int d = c->d, BN = B * N;
    bufs v = saved_bufs(c, saved, B, N);
    sbufs sb;
    scratch_plan(c, scratch, B, N, &sb);
    for (int b = 0; b < B; b++) {   /* dy at pad rows counts as 0 */
        size_t off = (size_t)b * N * d, real = (size_t)xb_len(len, b, N) * d;
        memcpy(sb.dY + off, dy + off, real * sizeof(float));
        memset(sb.dY + off + real, 0, ((size_t)N * d - real) * sizeof(float));
    }
    xb_gemm(1, 0, d, d, BN, 1.0f, v.O, d, sb.dY, d, 1.0f, dw + s.wo, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, sb.dY, d, w + s.wo, d, 0.0f, sb.dO, d);
    syn k = kernel(c, w, v.H, len, B, N);
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED) unattend(&k, v.V, v.O, v.L, &sb, dw + s.r1, dw + s.r2);
    else if (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM) unattend(&k, v.V, v.O, v.L, &sb, dw + s.r, NULL);
    else unattend(&k, v.V, v.O, v.L, &sb, dw + s.w2, NULL);
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, sb.dV, d, 1.0f, dw + s.wv, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, sb.dV, d, w + s.wv, d, 0.0f, dx, d);
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE) {   /* through the relu: dZ = dH ⊙ [H > 0], then W1 */
        const size_t n = (size_t)BN * d;
#pragma omp parallel for schedule(static)
        for (size_t i = 0; i < n; i++) sb.dH[i] = v.H[i] > 0.0f ? sb.dH[i] : 0.0f;
        xb_gemm(1, 0, d, d, BN, 1.0f, x, d, sb.dH, d, 1.0f, dw + s.w1, d);
        xb_gemm(0, 1, BN, d, d, 1.0f, sb.dH, d, w + s.w1, d, 1.0f, dx, d);
    }
}

/* §12: 4Nd² (W_V, W_O) + 2N²d (P V) + per variant 2N²kh (A = R1 R2; factorized), nothing
 * (random), 2Nd² + 2N²d (relu(X W1), then A = H W2; dense); elementwise 3N²h. Causal: every N²
 * term becomes N(N+1)/2, as for §1. */
static double syn_flops(const xb_mixer_cfg *c, int N)
{
    const double n = N, d = c->d, h = c->heads, k = xb_cfg_int(c, OPT_RANK);
    const double pairs = c->causal ? n * (n + 1) / 2 : n * n;
    double f = 4 * n * d * d + 2 * pairs * d + 3 * pairs * h;
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED) f += 2 * pairs * k * h;
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE) f += 2 * n * d * d + 2 * pairs * d;
    return f;
}

/* naive double: the logits of each real (i, t) pair written out from the weights, a dense
 * masked softmax per row, explicit projections */
static void syn_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len, double *y,
                          int B, int N)
{
    lay s = layout(c);
    const int d = c->d, h = c->heads, dh = d / h, k = xb_cfg_int(c, OPT_RANK);
    const size_t nm = (size_t)c->n_max;
    double *v = calloc((size_t)N * d, sizeof(double)), *hh = calloc((size_t)N * d, sizeof(double));
    double *o = calloc((size_t)d, sizeof(double)), *a = calloc((size_t)N, sizeof(double));
    XB_ASSERT(v && hh && o && a);
    for (int b = 0; b < B; b++) {
        const int n = xb_len(len, b, N);
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++)
            for (int cc = 0; cc < d; cc++) {
                double av = 0, ah = 0;
                for (int e = 0; e < d; e++) {
                    av += (double)xb[(size_t)t * d + e] * w[s.wv + (size_t)e * d + cc];
                    if (xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE) ah += (double)xb[(size_t)t * d + e] * w[s.w1 + (size_t)e * d + cc];
                }
                v[(size_t)t * d + cc] = av;
                hh[(size_t)t * d + cc] = ah > 0 ? ah : 0;
            }
        double *yb = y + (size_t)b * N * d;
        for (int i = 0; i < N; i++) {
            for (int e = 0; e < d; e++) o[e] = 0;
            for (int j = 0; j < h && i < n; j++) {
                const int tend = c->causal ? i + 1 : n;
                double mx = -INFINITY, sum = 0;
                for (int t = 0; t < tend; t++) {
                    double lg = 0;
                    if (xb_cfg_int(c, OPT_VARIANT) == SYN_FACTORIZED)
                        for (int q = 0; q < k; q++)
                            lg += (double)w[s.r1 + ((size_t)j * nm + i) * k + q] * w[s.r2 + ((size_t)j * k + q) * nm + t];
                    else if (xb_cfg_int(c, OPT_VARIANT) == SYN_RANDOM)
                        lg = w[s.r + ((size_t)j * nm + i) * nm + t];
                    else
                        for (int q = 0; q < dh; q++)
                            lg += hh[(size_t)i * d + j * dh + q] * w[s.w2 + ((size_t)j * dh + q) * nm + t];
                    a[t] = lg;
                    if (lg > mx) mx = lg;
                }
                for (int t = 0; t < tend; t++) { a[t] = exp(a[t] - mx); sum += a[t]; }
                for (int e = 0; e < dh; e++) {
                    double acc = 0;
                    for (int t = 0; t < tend; t++) acc += a[t] * v[(size_t)t * d + j * dh + e];
                    o[j * dh + e] = acc / sum;
                }
            }
            for (int cc = 0; cc < d; cc++) {
                double acc = 0;
                for (int e = 0; e < d; e++) acc += o[e] * w[s.wo + (size_t)e * d + cc];
                yb[(size_t)i * d + cc] = i < n ? acc : 0;
            }
        }
    }
    free(v); free(hh); free(o); free(a);
}

/* ---- decode (MIXERS.md §29.2) ----------------------------------------------------------
 * The cache holds V per head, [h][n_max][d_h] (a piece of one head's keys reads contiguous
 * rows). Token t's logits are row t of A_j over keys 0..t: R1_j[t, :] R2_j[:, 0..t]
 * (factorized), R_j[t, 0..t] (random), relu(x_t W1)_j W2_j[:, 0..t] (dense); then the causal
 * softmax over 0..t, P V and W_O. As core/attn_decode.c (Lean Attention's split-K), the
 * h·(t+1) (head, key) pairs are cut into equal pieces across threads, each piece scoring its
 * keys in blocks of DKB with an online softmax into (m, ℓ, o), merged per head at the end.
 * Positions index the weights: t < cfg.n_max (as the forward's N ≤ n_max). */

#define DKB 64         /* keys per scored block */
#define MIN_PIECE 32   /* keys per thread below which fewer threads are used */

static size_t syn_decode_state(const xb_mixer_cfg *c, int n_max) { return (size_t)n_max * c->d; }

/* per thread: h partials (m, ℓ, o[d_h]) and one block of scores (base NULL: measure) */
static size_t part_plan(const xb_mixer_cfg *c, float *base, float **part, float **a)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, *part, (size_t)c->heads * (c->d / c->heads + 2), XB_SCR_PACKED);
    XB_TAKE(&s, *a, DKB, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

/* v, o and (dense) h = relu(x W1) rows, then the per-thread partials */
typedef struct dscr { float *v, *o, *hr, *parts; size_t ps; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    float *part, *a;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->v, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->hr, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE_THREADS(&s, b->parts, part_plan(c, NULL, &part, &a), XB_SCR_64F, &b->ps);
    return xb_scratch_floats(&s);
}

static size_t syn_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

/* the cache rows of tokens 0 .. n-1: one product per head, written into its own slab */
static void syn_decode_prefill(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int n,
                               float *state, float *scratch)
{
    (void)scratch;
    XB_ASSERT(n <= n_max && n <= c->n_max);
    if (n <= 0) return;
    const int d = c->d, dh = d / c->heads;
    const float *WV = w + layout(c).wv;
    for (int j = 0; j < c->heads; j++)
        xb_gemm(0, 0, n, dh, d, 1.0f, x, d, WV + (size_t)j * dh, d, 0.0f, state + (size_t)j * n_max * dh, dh);
}

/* a[i] = A_j[t][k0 + i], i < nb (hj: the head's d_h columns of relu(x_t W1), dense only) */
static void step_logits(const syn *s, int j, int t, const float *hj, int k0, int nb, float *a)
{
    const size_t nm = (size_t)s->nmax;
    if (s->variant == SYN_RANDOM) {
        memcpy(a, s->R + ((size_t)j * nm + t) * nm + k0, (size_t)nb * sizeof(float));
        return;
    }
    const int fac = s->variant == SYN_FACTORIZED, kw = fac ? s->k : s->dh;
    const float *u = fac ? s->R1 + ((size_t)j * nm + t) * s->k : hj;
    const float *K2 = (fac ? s->R2 : s->W2) + (size_t)j * kw * nm + k0;
    memset(a, 0, (size_t)nb * sizeof(float));
    for (int q = 0; q < kw; q++) {   /* row by row of R2_j / W2_j: contiguous keys */
        const float uq = u[q], *r = K2 + (size_t)q * nm;
        for (int i = 0; i < nb; i++) a[i] += uq * r[i];
    }
}

/* Online softmax of head j's query t over keys [k0, k1) into part = (m, ℓ, o[d_h]) */
static void step_attend(const syn *s, int j, int t, const float *hj, const float *Vj, int k0, int k1,
                        float *part, float *a)
{
    const int dh = s->dh;
    float m = -INFINITY, ell = 0.0f, *o = part + 2;
    memset(o, 0, (size_t)dh * sizeof(float));
    for (int b0 = k0; b0 < k1; b0 += DKB) {
        const int nb = xb_min(DKB, k1 - b0);
        step_logits(s, j, t, hj, b0, nb, a);
        float mb = -INFINITY;
        for (int i = 0; i < nb; i++) mb = a[i] > mb ? a[i] : mb;
        const float mn = mb > m ? mb : m, r = expf(m - mn);
        for (int i = 0; i < nb; i++) a[i] -= mn;
        xb_attn_exp(a, a, nb);
        ell *= r;
        for (int e = 0; e < dh; e++) o[e] *= r;
        for (int i = 0; i < nb; i++) {
            const float *v = Vj + (size_t)(b0 + i) * dh;
            ell += a[i];
            for (int e = 0; e < dh; e++) o[e] += a[i] * v[e];
        }
        m = mn;
    }
    part[0] = m;
    part[1] = ell;
}

static void syn_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                            float *state, float *y, float *scratch)
{
    XB_ASSERT(t >= 0 && t < n_max && t < c->n_max);
    const lay L = layout(c);
    const syn s = kernel(c, w, NULL, NULL, 1, 1);
    const int d = c->d, h = c->heads, dh = s.dh;
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *v = sc.v, *o = sc.o, *hr = sc.hr, *parts = sc.parts;
    const size_t pstride = sc.ps;

    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + L.wv, d, 0.0f, v, d);
    for (int j = 0; j < h; j++)
        memcpy(state + ((size_t)j * n_max + t) * dh, v + (size_t)j * dh, (size_t)dh * sizeof(float));
    if (xb_cfg_int(c, OPT_VARIANT) == SYN_DENSE) {
        xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + L.w1, d, 0.0f, hr, d);
        for (int e = 0; e < d; e++) hr[e] = hr[e] > 0.0f ? hr[e] : 0.0f;
    }

    const long n = (long)t + 1, work = (long)h * n;
    const int T0 = xb_max_threads();
    const int nthr = (int)(work / MIN_PIECE < T0 ? (work / MIN_PIECE > 1 ? work / MIN_PIECE : 1) : T0);

#pragma omp parallel num_threads(nthr)
    {
#ifdef _OPENMP
        const int me = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        const int me = 0, nt = 1;
#endif
        float *part, *a;
        part_plan(c, parts + (size_t)me * pstride, &part, &a);
        for (int j = 0; j < h; j++) part[(size_t)j * (dh + 2)] = -INFINITY;
        const long w0 = work * me / nt, w1 = work * (me + 1) / nt;
        for (long i = w0; i < w1;) {   /* a piece may cross from one head into the next */
            const int j = (int)(i / n), k0 = (int)(i % n);
            const int k1 = (long)(j + 1) * n < w1 ? (int)n : (int)(w1 - (long)j * n);
            step_attend(&s, j, t, hr + (size_t)j * dh, state + (size_t)j * n_max * dh, k0, k1,
                        part + (size_t)j * (dh + 2), a);
            i = (long)j * n + k1;
        }
        /* merge: the barrier ends every piece; head j's merge reads every thread's partial */
#pragma omp barrier
#pragma omp for schedule(static)
        for (int j = 0; j < h; j++)
            xb_attn_decode_merge(parts + (size_t)j * (dh + 2), pstride, nt, dh, o + (size_t)j * dh);
    }
    xb_gemm(0, 0, 1, d, d, 1.0f, o, d, w + L.wo, d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static const char *syn_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    const char *n = t->name;
    if (!strcmp(n, "R1")) return "(h*n_max, k) row-major: head j = rows [j*n_max, (j+1)*n_max); A_j = R1_j[:N] R2_j[:, :N]";
    if (!strcmp(n, "R2")) return "(h*k, n_max) row-major: head j = rows [j*k, (j+1)*k)";
    if (!strcmp(n, "R")) return "(h*n_max, n_max) row-major: head j = rows [j*n_max, (j+1)*n_max); A_j = R_j[:N, :N]";
    if (!strcmp(n, "W2"))
        return "(h*d_h, n_max) row-major: head j = rows [j*d_h, (j+1)*d_h); A_j = relu(X W1)[:, head j] W2_j[:, :N]";
    return NULL;
}

static void syn_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    const int v = xb_cfg_int(c, OPT_VARIANT);
    xb_fact_text(f, "variant", "%s", v >= 1 && v <= 3 ? variant_names[v - 1] : "?");
    if (v == SYN_FACTORIZED) xb_fact_int(f, "rank", xb_cfg_int(c, OPT_RANK));
    xb_fact_int(f, "n_max", c->n_max);
    xb_fact_text(f, "logits", "no query-key product and no 1/sqrt(d_h) scale; V = X W_V, Y = O W_O; a sequence of "
                              "length n uses A_j[:n, :n] (causal: the lower triangle)");
    if (v == SYN_FACTORIZED) xb_fact_text(f, "init", "R1, R2 ~ N(0, 1/k); W_V, W_O U(-1/sqrt(d), 1/sqrt(d))");
}

const xb_mixer xb_mixer_synthesizer = {
    .name = "synthesizer",
    .family = "synthetic attention",
    .cite = "Tay et al. 2021, Synthesizer: Rethinking Self-Attention in Transformer Models",
    .complexity = "N^2",
    XB_OPTS(syn_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = syn_check,
    .tensors = syn_tensors,
    .init = syn_init,
    .n_saved = syn_n_saved,
    .n_scratch = syn_n_scratch,
    .forward = syn_forward,
    .backward = syn_backward,
    .flops = syn_flops,
    .reference = syn_reference,
    .decode_state = syn_decode_state,
    .decode_scratch = syn_decode_scratch,
    .decode_prefill = syn_decode_prefill,
    .decode_step = syn_decode_step,
    .layout = syn_layout,
    .facts = syn_facts,
};
