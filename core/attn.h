/* core/attn.h — the one tiled softmax-attention kernel (FlashAttention-2 style) shared by the
 * softmax family (softmax, gqa, mqa, sqa, local, local_block, sparse_fixed, bigbird,
 * linformer), the standard attention sub-block around it (MIXERS.md §0.2: projections W_Q,
 * W_K, W_V, W_O), a fast vector exp, and a naive double-precision oracle used only by the
 * mixers' `reference`.
 *
 * Layouts (per sequence b; the batch stride is rows × ld):
 *   Q, O, dQ, dO   (B, Nq, ldq)  query head j in columns [j·dh, (j+1)·dh)
 *   K, V, dK, dV   (B, Nk, ldkv) key/value head g in columns [g·dh, (g+1)·dh)
 *   L              (B, hq, Nq)   per-row logsumexp of the scaled scores
 * Query head j reads KV head ⌊j·hkv/hq⌋ (GQA/MQA/SQA mapping, MIXERS.md §32).
 *
 * Mask: query row i (< len_q) sees keys k in one contiguous interval [lo(i), hi(i)] given by
 * the intersection of k < len_k, causal k ≤ i, the band [i − left + 1, i + right] and the
 * contiguous block of i; lo and hi never decrease with i, so whole 64×64 tiles outside it are
 * skipped and only boundary tiles are masked. Rows ≥ len_q output 0.
 *
 * Gathered keys (xb_attn_groups, below): masks that are unions of scattered key sets
 * (sparse_fixed, bigbird) are given as lists of keys per group of query rows instead. */
#ifndef XB_ATTN_H
#define XB_ATTN_H

#include <stddef.h>

#include "core/mixer.h"

#define XB_ATTN_TILE 64   /* query rows and keys per tile */

/* A mask given by lists (the block-sparse mixers). Head j's allowed (query i, key k) pairs are
 * described twice, as two partitions of the same set with a product structure:
 *   query groups: rows [r0, r0 + rn), together a partition of [0, Nq); every row of the group
 *                 sees exactly the keys of the group's ascending key list;
 *   key groups:   an ascending key list (together a partition of [0, Nk)) and the ascending
 *                 list of every query row that sees those keys (each of them sees all of them).
 * On top, k < len_k and (causal) k ≤ i are ANDed in by the kernel. The forward and dQ go over
 * query groups and dK, dV over key groups, so each loop writes only rows it owns. In an
 * ascending list the keys a row sees form a prefix (k ≤ min(i, len_k − 1)), which is the
 * row range of the contiguous masks again: the same tiles, gathered 64 keys at a time into
 * per-thread packs. The lists do not depend on the sequence b; ctx must stay valid during
 * the call and the callbacks must be safe to call from several threads at once. hq = hkv. */
typedef struct xb_attn_groups {
    int nq, nk;   /* query groups and key groups per head */
    /* Query group g of head j: its rows [*r0, *r0 + *rn) and its keys (≤ Nk of them, written
     * to keys); returns the key count. */
    int (*qgroup)(const void *ctx, int j, int g, int *r0, int *rn, int *keys);
    /* Key group g of head j: its keys (count in *nkeys) and the rows that see them (≤ Nq);
     * returns the row count. */
    int (*kgroup)(const void *ctx, int j, int g, int *keys, int *nkeys, int *rows);
    const void *ctx;
} xb_attn_groups;

typedef struct xb_attn {
    int B, Nq, Nk;      /* sequences, query rows and key rows per sequence */
    int hq, hkv, dh;    /* query heads, key/value heads (hkv divides hq), head width */
    int ldq, ldkv;      /* row strides of Q/O/dQ/dO (≥ hq·dh) and of K/V/dK/dV (≥ hkv·dh) */
    int causal;         /* 1: key k ≤ i (needs Nq == Nk) */
    int band;           /* 1: key k ∈ [i − left + 1, i + right] */
    int left, right;    /* band extent; left ≥ 1 counts the token itself, right ≥ 0 */
    int block;          /* > 0: key k in the same contiguous block of `block` rows as i */
    const int *len_q;   /* real query rows per sequence (NULL: Nq); rows beyond give O = 0 */
    const int *len_k;   /* real keys per sequence (NULL: Nk); keys beyond are masked */
    const xb_attn_groups *groups;   /* non-NULL: the mask is these lists (band, block unused) */
} xb_attn;

/* Floats of scratch xb_attn_forward/backward need (per-thread tiles for
 * omp_get_max_threads() threads included). */
size_t xb_attn_scratch(const xb_attn *a);

/* O = softmax(Q Kᵀ/√dh + mask) V per head; L = logsumexp of each row (rows ≥ len_q: O = 0,
 * L = 0). Overwrites O and L. Parallel over (batch, head, query block). */
void xb_attn_forward(const xb_attn *a, const float *Q, const float *K, const float *V,
                     float *O, float *L, float *scratch);

/* xb_attn_forward in two steps, for callers that produce K and V in blocks of rows: pack each
 * block while it is still in cache, then run the kernel on the packs in scratch (not with
 * groups, whose keys are gathered per query group).
 * xb_attn_pack_rows packs rows [r0, r0 + rows) of the flattened (B·Nk) key rows (k and v point
 * at row r0, row stride ld); blocks may go to different threads at once. */
void xb_attn_pack_rows(const xb_attn *a, int r0, int rows, const float *k, const float *v, int ld,
                       float *scratch);
void xb_attn_forward_packed(const xb_attn *a, const float *Q, float *O, float *L, float *scratch);

/* FlashAttention-2 backward from the saved Q, K, V, O, L: overwrites dQ, dK, dV (rows beyond
 * the real lengths are 0). dO rows ≥ len_q are never read. Two loops, each owning its
 * output: dK/dV over (batch, kv head, key block), dQ over (batch, head, query block). */
void xb_attn_backward(const xb_attn *a, const float *Q, const float *K, const float *V,
                      const float *O, const float *L, const float *dO, float *dQ, float *dK,
                      float *dV, float *scratch);

/* y[i] = exp(x[i]) with the kernel's vector exp (relative error ≤ 2e-7 typical); exactly 0 for
 * x < -87.3 (including -inf). Exposed so tests can check it against expf. */
void xb_attn_exp(const float *x, float *y, int n);

/* The kernel's row primitives, for kernels that make their own 64-wide score tiles (logits not
 * from Q Kᵀ: mixers/synthesizer.c). Rows hold n ≤ 64 scores; whole 16-lane groups are written,
 * so a row needs room for n rounded up to 16.
 *   xb_attn_row_max  max of s[jlo..jhi] (jlo ≤ jhi)
 *   xb_attn_row_exp  p[j] = exp(s[j]·scale − m) for j in [jlo, jhi], 0 for the other j; returns
 *                    Σ p (s and p may alias)
 *   xb_attn_row_ds   ds[j] = scale · p[j] · (ds[j] − D) (ds holds dP on entry) */
float xb_attn_row_max(const float *s, int jlo, int jhi);
float xb_attn_row_exp(const float *s, float *p, int n, int jlo, int jhi, float scale, float m);
void  xb_attn_row_ds(const float *p, float *ds, int n, float D, float scale);

/* ---- the standard attention sub-block (MIXERS.md §0.2) ------------------------------------
 * Y = concat_j(attn_j(X W_Q, X W_K, X W_V)) W_O with W_Q (d × hq·dh), W_K, W_V (d × hkv·dh),
 * W_O (hq·dh × d), stored in that order in the weight slab, (in, out) row-major, no bias.
 * saved (whole batch, by tensor): Q (B·N·hq·dh) | K, V (B·N·hkv·dh each) | O (B·N·hq·dh) |
 * L (B·hq·N). Scratch: the masked dY, dO, dQ, dK, dV and the kernel's scratch. */
typedef struct xb_attn_layer {
    int d, hq, hkv, dh;
    int causal, band, left, right, block;   /* as in xb_attn */
    const xb_attn_groups *groups;           /* as in xb_attn (NULL: the contiguous mask) */
} xb_attn_layer;

int    xb_attn_layer_tensors(const xb_attn_layer *l, xb_tensor *out);   /* W_Q W_K W_V W_O */
size_t xb_attn_layer_saved(const xb_attn_layer *l, int N);                     /* per sequence */
size_t xb_attn_layer_scratch(const xb_attn_layer *l, int B, int N);
void   xb_attn_layer_forward(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                             float *y, float *saved, float *scratch, int B, int N);
/* Overwrites dx, accumulates (+=) into dw (same slab layout as w). */
void   xb_attn_layer_backward(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                              const float *saved, const float *dy, float *dx, float *dw,
                              float *scratch, int B, int N);

/* ---- decode: one query row against listed cached keys (core/attn_decode.c) -------------
 * Lean Attention's split-K (MIXERS.md §29.2) over keys given as spans of cache rows, for every
 * decode form of the family: one span per kv head for the contiguous masks (below), several
 * for the block-sparse ones (sparse_fixed, bigbird), and caches that hold no projections
 * (minattn: K = V = the inputs). */
typedef struct xb_attn_span { int lo, hi; } xb_attn_span;   /* cache rows [lo, hi) */

typedef struct xb_attn_keys {
    int hq, hkv, dh;    /* query heads, key/value heads (hkv divides hq), head width */
    int ld;             /* row stride of the cache; kv head g in columns [g·dh, (g+1)·dh) */
    float scale;        /* logit scale (1/√dh for the sub-block) */
    /* kv head g sees the rows of spans[off[g] .. off[g+1]) (off: hkv + 1 entries): disjoint
     * spans, any order, at least one row per head; a span may be empty. */
    const xb_attn_span *spans;
    const int *off;
} xb_attn_keys;

/* Floats of scratch xb_attn_decode needs for up to nspans spans (all heads together), per-thread
 * partials for omp_get_max_threads() threads included. */
size_t xb_attn_decode_scratch(int hq, int dh, int nspans);
/* o[hq·dh] (overwritten) = per query head j: softmax(scale · q_j Kᵀ) V over the rows kv head
 * ⌊j·hkv/hq⌋ sees; q [hq·dh]; K and V may be the same array. The flattened (kv head × listed
 * key) range is cut into one equal piece per thread, each returning (m, ℓ, o) per head, merged
 * as an online softmax; same inputs and threads ⇒ bit-identical o. */
void xb_attn_decode(const xb_attn_keys *a, const float *q, const float *K, const float *V, float *o,
                    float *scratch);

/* The standard sub-block's decode step over listed keys, state = K rows | V rows (cap each, row
 * width hkv·dh): q, k, v = x W_Q, x W_K, x W_V; k and v go to cache row `slot`; then o over the
 * spans (which list `slot` where the token sees itself) and y[d] = o W_O. */
size_t xb_attn_layer_decode_keys_scratch(const xb_attn_layer *l, int nspans);
void   xb_attn_layer_decode_keys(const xb_attn_layer *l, int cap, const float *w, const float *x,
                                 int slot, const xb_attn_span *spans, const int *off, float *state,
                                 float *y, float *scratch);
/* K and V of the n tokens x[0 .. n) (n × d) into cache rows [slot, slot + n): one GEMM each. */
void   xb_attn_layer_decode_kv(const xb_attn_layer *l, int cap, const float *w, const float *x, int n,
                               int slot, float *state);

/* Decode with a KV cache (causal layers only): the xb_mixer decode_* members for a sequence of
 * up to n_max tokens. A band or block layer keeps only the keys a token can still see (a ring
 * of `left` or `block` slots). Not for layers with groups (their mixers list their keys). */
size_t xb_attn_layer_decode_state(const xb_attn_layer *l, int n_max);
size_t xb_attn_layer_decode_scratch(const xb_attn_layer *l, int n_max);
void   xb_attn_layer_decode_prefill(const xb_attn_layer *l, int n_max, const float *w,
                                    const float *x, int n, float *state, float *scratch);
void   xb_attn_layer_decode_step(const xb_attn_layer *l, int n_max, const float *w, const float *x,
                                 int t, float *state, float *y, float *scratch);

/* Merge the per-thread split-K partials (m, ℓ, o[dh]) of one query head, thread p's at
 * part + p·stride, into out[dh] (core/attn_decode.c; synthesizer's decode uses it too). */
void xb_attn_decode_merge(const float *part, size_t stride, int nt, int dh, float *out);

/* The four xb_mixer decode members of a mixer whose layer comes from `layerfn(c)`:
 * XB_ATTN_DECODE_FNS(foo, layer) defines foo_decode_state ... foo_decode_step, and
 * XB_ATTN_DECODE_MEMBERS(foo) names them in the mixer's initializer. */
#define XB_ATTN_DECODE_FNS(P, layerfn)                                                          \
    static size_t P##_decode_state(const xb_mixer_cfg *c, int n_max)                            \
    { xb_attn_layer l_ = layerfn(c); return xb_attn_layer_decode_state(&l_, n_max); }          \
    static size_t P##_decode_scratch(const xb_mixer_cfg *c, int n_max)                          \
    { xb_attn_layer l_ = layerfn(c); return xb_attn_layer_decode_scratch(&l_, n_max); }        \
    static void P##_decode_prefill(const xb_mixer_cfg *c, int n_max, const float *w,            \
                                   const float *x, int n, float *state, float *scratch)         \
    { xb_attn_layer l_ = layerfn(c); xb_attn_layer_decode_prefill(&l_, n_max, w, x, n, state, scratch); } \
    static void P##_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, \
                                int t, float *state, float *y, float *scratch)                   \
    { xb_attn_layer l_ = layerfn(c); xb_attn_layer_decode_step(&l_, n_max, w, x, t, state, y, scratch); }
#define XB_ATTN_DECODE_MEMBERS(P)                                                               \
    .decode_state = P##_decode_state, .decode_scratch = P##_decode_scratch,                     \
    .decode_prefill = P##_decode_prefill, .decode_step = P##_decode_step

/* Test oracle: the same sub-block in double, dense N×N scores, mask from allowed(i, k, ctx)
 * (plus k < len, rows ≥ len output 0). Never used outside `reference` members and tests. */
void xb_attn_layer_naive(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                         double *y, int B, int N, int (*allowed)(int i, int k, const void *ctx),
                         const void *ctx);
/* The same with a mask per query head j: allowed(j, i, k, ctx). */
void xb_attn_layer_naive_heads(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                               double *y, int B, int N,
                               int (*allowed)(int j, int i, int k, const void *ctx), const void *ctx);

#endif
