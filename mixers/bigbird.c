/* mixers/bigbird.c — BigBird block-sparse attention (`bigbird`), MIXERS.md §6, read against LRA's
 * bigbird/bigbird_attention.py. Tokens are cut into n_b = ⌈N/b⌉ blocks of b (the last may be
 * short). Query block I of head j sees the key blocks
 *   {I − 1, I, I + 1} (window, clipped), {0, n_b − 1} (global) and R_j(I) (random),
 * and the global blocks 0 and n_b − 1 see every key. R_j(I), for the middle blocks
 * 1 ≤ I ≤ n_b − 2, is min(r_b, |C|) distinct blocks drawn uniformly from
 *   C = {1 … n_b − 2} minus the window (bidirectional: the middle blocks, as LRA), or
 *   C = {1 … I − 2}                       (causal: the earlier blocks, §6),
 * so no draw fails when there are few blocks (LRA's draw needs n_b ≥ r_b + 4 or so; n_b ≤ 3
 * here is plain full attention). Causal mode then ANDs k ≤ i. Softmax is joint over all the
 * keys a row sees.
 *
 * Padding: the blocks are those of each sequence's own real length len[b] — n_b = ⌈len[b]/b⌉,
 * its last real block is the global one and its random blocks are drawn among its own blocks —
 * so a sequence's output is the same alone, packed or inside any padded batch. LRA builds the
 * blocks of the padded length N instead, which makes a sequence's output depend on how much
 * padding its batch has (its last global block is padding, its random blocks may be too).
 *
 * The random table is recomputed, not stored: every call (forward, backward, reference, dump)
 * draws it again from a stream seeded by (cfg->layer, head, I) alone — the same table each
 * time, never trained, no weights beyond W_Q, W_K, W_V, W_O [d, d]. A causal R_j(I) depends on
 * I only, so the causal table does not change with N. `xbench dump` writes it in meta.json.
 *
 * Deviations from LRA's code (see the helper's report): LRA's causal mode falls back to full
 * causal attention (§6's sparse causal mode is xbench's); LRA draws random blocks only among
 * the blocks of the first 1024 tokens (last_idx); LRA pads N up to a multiple of b plus one
 * more block when b divides N, so its last (global) block is padding. Defaults b = 32 (§6; LRA:
 * 64), r_b = 3.
 *
 * CPU form: core/attn.c's tiles over gathered keys (xb_attn_groups): a query group is a block
 * with its ≤ (5 + r_b)·b keys (the global ones: all len keys), a key group a key block with the
 * rows of every query block that selected it. The lists are the same for every sequence of a
 * kernel call, so a batch goes to the kernel in runs of consecutive sequences of one length,
 * each with the groups of that length (one call for a batch of full sequences), plus one empty
 * group for the pad rows [len, N). The reference builds the dense N × N mask of each head and
 * sequence from the definition above. */
#include "mixers/bigbird.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/attn.h"
#include "core/rng.h"
#include "core/scratch.h"
#include "core/xb.h"

#define MAXSEL 5   /* window and global blocks of a middle query block */

enum { OPT_BLOCK, OPT_RANDOM_BLOCKS };
static const xb_mixer_opt bb_opts[] = {
    [OPT_BLOCK] = {.name = "block", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 32,
                   .help = "block size b"},
    [OPT_RANDOM_BLOCKS] = {.name = "random_blocks", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 3,
                           .help = "random key blocks r_b of each middle query block"},
};

int xb_bigbird_blocks(const xb_mixer_cfg *c, int N) { return (N + xb_cfg_int(c, OPT_BLOCK) - 1) / xb_cfg_int(c, OPT_BLOCK); }

/* Candidate number i of middle block I, ascending: C = {1 … I − 2} (causal) or {1 … n_b − 2}
 * minus the window {I − 1, I, I + 1} (bidirectional); returns |C| when i < 0. */
static int candidate(int causal, int nb, int I, int i)
{
    const int low = xb_max(0, I - 2);   /* the candidates below the window */
    if (i < 0) return causal ? low : low + xb_max(0, nb - 3 - I);
    return causal || i < low ? i + 1 : I + 2 + (i - low);
}

/* The random blocks of (head j, query block I) into row[r] (ascending, −1 past the draws): a
 * partial Fisher–Yates over C, with C kept implicit (candidate()) and only the positions the
 * shuffle moved stored in moved (2·r ints), so a draw costs O(r²) whatever n_b — the decode
 * form draws its block's row every step. */
static void draw_row(const xb_mixer_cfg *c, int nb, int j, int I, int *row, int *moved)
{
    const int r = xb_cfg_int(c, OPT_RANDOM_BLOCKS);
    for (int t = 0; t < r; t++) row[t] = -1;
    if (I == 0 || I == nb - 1) return;
    const int n = candidate(c->causal, nb, I, -1), take = xb_min(r, n);
    int nm = 0;   /* moved[2q] = position, moved[2q + 1] = the candidate now there */
    xb_rng rng;
    xb_rng_seed(&rng, xb_splitmix64(0x6269676269726400ULL ^
                                    xb_splitmix64(((uint64_t)(unsigned)c->layer << 42) ^
                                                  ((uint64_t)j << 21) ^ (uint64_t)I)));
    for (int t = 0; t < take; t++) {   /* swap positions t and p; position t is final */
        const int p = t + (int)xb_rng_below(&rng, (uint32_t)(n - t));
        int vt = candidate(c->causal, nb, I, t), vp = candidate(c->causal, nb, I, p), at = -1;
        for (int q = 0; q < nm; q++) {
            if (moved[2 * q] == t) vt = moved[2 * q + 1];
            if (moved[2 * q] == p) { vp = moved[2 * q + 1]; at = q; }
        }
        if (at < 0) { at = nm++; moved[2 * at] = p; }
        moved[2 * at + 1] = vt;
        int q = t;   /* insert vp, keeping row[0 .. t] ascending */
        for (; q > 0 && row[q - 1] > vp; q--) row[q] = row[q - 1];
        row[q] = vp;
    }
}

void xb_bigbird_table(const xb_mixer_cfg *c, int N, int *table)
{
    const int nb = xb_bigbird_blocks(c, N), r = xb_cfg_int(c, OPT_RANDOM_BLOCKS);
    int *moved = malloc(2 * (size_t)r * sizeof(int));
    XB_ASSERT(moved);
    for (int j = 0; j < c->heads; j++)
        for (int I = 0; I < nb; I++) draw_row(c, nb, j, I, table + ((size_t)j * nb + I) * r, moved);
    free(moved);
}

/* ---- the mask as lists ---- */

typedef struct bb_mask {
    int N, L;                /* rows of the padded layout, the real length the blocks are of */
    int b, nb, r, causal;    /* nb = ⌈L/b⌉ real blocks; group nb (when L < N) is the pad rows */
    const int *table;        /* heads × nb × r */
} bb_mask;

static const int *rand_of(const bb_mask *m, int j, int I) { return m->table + ((size_t)j * m->nb + I) * m->r; }

static int is_global(const bb_mask *m, int I) { return I == 0 || I == m->nb - 1; }

/* does middle query block I of head j select key block K */
static int selects(const bb_mask *m, int j, int I, int K)
{
    if (is_global(m, I) || is_global(m, K) || abs(I - K) <= 1) return 1;
    const int *R = rand_of(m, j, I);
    for (int t = 0; t < m->r && R[t] >= 0; t++)
        if (R[t] == K) return 1;
    return 0;
}

static int block_keys(const bb_mask *m, int K, int *keys, int n)
{
    for (int k = K * m->b; k < xb_min(m->L, (K + 1) * m->b); k++) keys[n++] = k;
    return n;
}

static int bb_qgroup(const void *ctx, int j, int I, int *r0, int *rn, int *keys)
{
    const bb_mask *m = ctx;
    *r0 = I * m->b;
    if (I == m->nb) {   /* the pad rows: no keys, O = 0 */
        *r0 = m->L;
        *rn = m->N - m->L;
        return 0;
    }
    *rn = xb_min(m->b, m->L - *r0);
    int n = 0;
    if (is_global(m, I)) {
        for (int k = 0; k < (m->causal ? *r0 + *rn : m->L); k++) keys[n++] = k;
        return n;
    }
    int sel[MAXSEL], ns = 0;   /* window and global blocks, ascending, the random ones merged below */
    const int cand[MAXSEL] = {0, I - 1, I, I + 1, m->nb - 1};
    for (int t = 0; t < MAXSEL; t++)
        if ((ns == 0 || cand[t] > sel[ns - 1]) && (!m->causal || cand[t] <= I)) sel[ns++] = cand[t];
    const int *R = rand_of(m, j, I);
    int a = 0, q = 0;
    while (a < ns || (q < m->r && R[q] >= 0)) {   /* R is disjoint from sel and ascending */
        if (q < m->r && R[q] >= 0 && (a == ns || R[q] < sel[a])) n = block_keys(m, R[q++], keys, n);
        else n = block_keys(m, sel[a++], keys, n);
    }
    return n;
}

static int bb_kgroup(const void *ctx, int j, int K, int *keys, int *nkeys, int *rows)
{
    const bb_mask *m = ctx;
    int nr = 0;
    if (K == m->nb) {   /* the pad keys: seen by no row, dK = dV = 0 */
        *nkeys = 0;
        for (int k = m->L; k < m->N; k++) keys[(*nkeys)++] = k;
        return 0;
    }
    *nkeys = block_keys(m, K, keys, 0);
    for (int I = m->causal ? K : 0; I < m->nb; I++)
        if (selects(m, j, I, K))
            for (int i = I * m->b; i < xb_min(m->L, (I + 1) * m->b); i++) rows[nr++] = i;
    return nr;
}

/* ---- the mixer ---- */

/* the mask of sequences of real length L in rows of N */
static bb_mask bb_make(const xb_mixer_cfg *c, int N, int L, const int *table)
{
    return (bb_mask){.N = N, .L = L, .b = xb_cfg_int(c, OPT_BLOCK), .nb = xb_bigbird_blocks(c, L), .r = xb_cfg_int(c, OPT_RANDOM_BLOCKS),
                     .causal = c->causal, .table = table};
}

static xb_attn_groups bb_groups(const bb_mask *m)
{
    const int n = m->nb + (m->L < m->N);
    return (xb_attn_groups){.nq = n, .nk = n, .qgroup = bb_qgroup, .kgroup = bb_kgroup, .ctx = m};
}

static xb_attn_layer bb_layer(const xb_mixer_cfg *c, const xb_attn_groups *g)
{
    return (xb_attn_layer){.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                           .causal = c->causal, .groups = g};
}

static int bb_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    return 0;
}

/* W_Q, W_K, W_V, W_O [d, d]; the random table is recomputed, not stored */
static int bb_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    xb_attn_layer l = bb_layer(c, NULL);
    return xb_attn_layer_tensors(&l, out);
}

static void bb_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[4];
    int n = bb_tensors(c, t);
    for (int i = 0; i < n; i++) xb_init_uniform(w + t[i].offset, t[i].rows, t[i].cols, rng);
}

/* Q, K, V, O (4Nd) + logsumexp L (Nh) */
static size_t bb_n_saved(const xb_mixer_cfg *c, int N)
{
    xb_attn_layer l = bb_layer(c, NULL);
    return xb_attn_layer_saved(&l, N);
}

/* the table (heads × blocks × r_b ints, for rows of N) | the layer's scratch */
typedef struct scr { int *table; float *layer; } scr;

static size_t scratch_plan(const xb_mixer_cfg *c, int B, int N, float *scratch, scr *b)
{
    bb_mask m = bb_make(c, N, N, NULL);
    xb_attn_groups g = bb_groups(&m);
    xb_attn_layer l = bb_layer(c, &g);
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->table, (size_t)c->heads * xb_bigbird_blocks(c, N) * xb_cfg_int(c, OPT_RANDOM_BLOCKS), XB_SCR_PACKED);
    XB_TAKE(&s, b->layer, xb_attn_layer_scratch(&l, B, N), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

static size_t bb_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    scr b;
    return scratch_plan(c, B, N, NULL, &b);
}

/* The runs of consecutive sequences of one length: the end of the run starting at s0. */
static int run_end(const int *len, int s0, int B, int N)
{
    int s1 = s0 + 1;
    while (s1 < B && xb_len(len, s1, N) == xb_len(len, s0, N)) s1++;
    return s1;
}

/* Each run [s0, s1) is one layer call with the groups of its length; its saved slice (by
 * tensor over the run, as the layer lays it out) starts at sequence s0's share. */
static void bb_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len, float *y,
                       float *saved, float *scratch, int B, int N)
{
    scr sc;
    scratch_plan(c, B, N, scratch, &sc);
    int *table = sc.table;
    const size_t nd = (size_t)N * c->d, ns = bb_n_saved(c, N);
    for (int s0 = 0, s1; s0 < B; s0 = s1) {
        s1 = run_end(len, s0, B, N);
        const int L = xb_len(len, s0, N);
        xb_bigbird_table(c, L, table);
        bb_mask m = bb_make(c, N, L, table);
        xb_attn_groups g = bb_groups(&m);
        xb_attn_layer l = bb_layer(c, &g);
        xb_attn_layer_forward(&l, w, x + s0 * nd, len ? len + s0 : NULL, y + s0 * nd, saved + s0 * ns,
                              sc.layer, s1 - s0, N);
    }
}

static void bb_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        const float *saved, const float *dy, float *dx, float *dw, float *scratch, int B,
                        int N)
{
    scr sc;
    scratch_plan(c, B, N, scratch, &sc);
    int *table = sc.table;
    const size_t nd = (size_t)N * c->d, ns = bb_n_saved(c, N);
    for (int s0 = 0, s1; s0 < B; s0 = s1) {
        s1 = run_end(len, s0, B, N);
        const int L = xb_len(len, s0, N);
        xb_bigbird_table(c, L, table);
        bb_mask m = bb_make(c, N, L, table);
        xb_attn_groups g = bb_groups(&m);
        xb_attn_layer l = bb_layer(c, &g);
        xb_attn_layer_backward(&l, w, x + s0 * nd, len ? len + s0 : NULL, saved + s0 * ns, dy + s0 * nd,
                               dx + s0 * nd, dw, sc.layer, s1 - s0, N);
    }
}

/* §6: 8Nd² + 4·d·P, P the selected (query, key) pairs counted per query block (the number of
 * random blocks drawn, min(r_b, |C|), does not depend on which): bidirectional, a global block
 * sees N keys per row and a middle block its distinct window and global blocks (the last one
 * short) plus its random blocks; causal, row i of a middle block I sees block 0 and block I − 1
 * (distinct from 0 when I ≥ 2), i − I·b + 1 keys of its own and its random blocks (all
 * earlier); a global row sees i + 1 keys. §6 lists no elementwise term. */
static double bb_flops(const xb_mixer_cfg *c, int N)
{
    const int b = xb_cfg_int(c, OPT_BLOCK), nb = xb_bigbird_blocks(c, N);
    const double last = N - (double)(nb - 1) * b, d = c->d;
    double P = 0;
    for (int I = 0; I < nb; I++) {
        const double s = I == nb - 1 ? last : b, r0 = (double)I * b;
        if (I == 0 || I == nb - 1) {
            P += c->causal ? s * r0 + s * (s + 1) / 2 : s * N;
            continue;
        }
        if (c->causal) {
            const double cand = xb_max(0, I - 2), other = I >= 2 ? 2 : 1;
            P += s * (other * b + xb_min(xb_cfg_int(c, OPT_RANDOM_BLOCKS), cand) * b) + s * (s + 1) / 2;
        } else {
            int win = 0;   /* window blocks among the middle ones */
            for (int K = I - 1; K <= I + 1; K++) win += K >= 1 && K <= nb - 2;
            const double rnd = xb_min(xb_cfg_int(c, OPT_RANDOM_BLOCKS), nb - 2 - win);
            P += s * ((1 + win + rnd) * b + last);   /* block 0, window, random; the last block */
        }
    }
    return 8.0 * N * d * d + 4 * P * d;
}

/* the dense mask of each head of one sequence, straight from the definition */
typedef struct bb_dense {
    int N;
    unsigned char *m;   /* heads × N × N */
} bb_dense;

static int bb_allowed(int j, int i, int k, const void *ctx)
{
    const bb_dense *dm = ctx;
    return dm->m[((size_t)j * dm->N + i) * dm->N + k];
}

/* one sequence at a time, its blocks those of its real length L (rows and keys ≥ L: none) */
static void bb_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len, double *y,
                         int B, int N)
{
    const int b = xb_cfg_int(c, OPT_BLOCK), r = xb_cfg_int(c, OPT_RANDOM_BLOCKS);
    int *table = malloc((size_t)c->heads * xb_bigbird_blocks(c, N) * r * sizeof(int));
    bb_dense dm = {N, malloc((size_t)c->heads * N * N)};
    XB_ASSERT(table && dm.m);
    xb_attn_layer l = bb_layer(c, NULL);
    for (int s = 0; s < B; s++) {
        const int L = xb_len(len, s, N), nb = xb_bigbird_blocks(c, L);
        xb_bigbird_table(c, L, table);
        for (int j = 0; j < c->heads; j++)
            for (int i = 0; i < N; i++)
                for (int k = 0; k < N; k++) {
                    const int I = i / b, K = k / b;
                    int ok = I == 0 || I == nb - 1 || K == 0 || K == nb - 1 || abs(I - K) <= 1;
                    for (int t = 0; t < r && I < nb; t++) ok |= table[((size_t)j * nb + I) * r + t] == K;
                    ok = ok && i < L && k < L && (!c->causal || k <= i);
                    dm.m[((size_t)j * N + i) * N + k] = (unsigned char)ok;
                }
        xb_attn_layer_naive_heads(&l, w, x + (size_t)s * N * c->d, len ? len + s : NULL, y + (size_t)s * N * c->d,
                                  1, N, bb_allowed, &dm);
    }
    free(table);
    free(dm.m);
}

/* ---- decode (causal): a KV cache of every token (a random block may be any earlier middle
 * block, and the last block sees them all); token t of block I lists, per head, the key spans
 * it sees: [0, t] in a global block, else block 0, its random blocks R_j(I) drawn again (O(r²))
 * and blocks I − 1 and I up to t — (3 + r_b)·b keys at most, whatever t. Decode cannot know
 * where a sequence will end, so its blocks are those of the n_max tokens the state is sized
 * for: step t gives row t of the causal forward of a sequence of length n_max (the forward's
 * blocks are those of each sequence's len; a causal R_j(I) depends on I alone, so only which
 * block is the last, global one depends on the length). ---- */

static int spans_per_head(const xb_mixer_cfg *c) { return xb_cfg_int(c, OPT_RANDOM_BLOCKS) + 3; }

/* spans (h · spans_per_head) | off (h + 1) | row (r) | moved (2r), ints; then the layer's step */
typedef struct dscr { xb_attn_span *sp; int *off, *row, *moved; float *keys; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    const size_t h = (size_t)c->heads, r = (size_t)xb_cfg_int(c, OPT_RANDOM_BLOCKS);
    xb_attn_layer l = bb_layer(c, NULL);
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->sp, h * spans_per_head(c), XB_SCR_PACKED);
    XB_TAKE(&s, b->off, h + 1, XB_SCR_PACKED);
    XB_TAKE(&s, b->row, r, XB_SCR_PACKED);
    XB_TAKE(&s, b->moved, 2 * r, XB_SCR_PACKED);
    XB_TAKE(&s, b->keys, xb_attn_layer_decode_keys_scratch(&l, c->heads * spans_per_head(c)), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

static size_t bb_decode_state(const xb_mixer_cfg *c, int n_max)
{
    xb_attn_layer l = bb_layer(c, NULL);
    return xb_attn_layer_decode_state(&l, n_max);
}

static size_t bb_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

static void bb_decode_prefill(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int n,
                              float *state, float *scratch)
{
    xb_attn_layer l = bb_layer(c, NULL);
    xb_attn_layer_decode_prefill(&l, n_max, w, x, n, state, scratch);
}

/* append rows [lo, hi) to the list, merging with the span before when they touch */
static int push_span(xb_attn_span *sp, int n, int first, int lo, int hi)
{
    if (n > first && sp[n - 1].hi == lo) sp[n - 1].hi = hi;
    else sp[n++] = (xb_attn_span){lo, hi};
    return n;
}

static void bb_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                           float *state, float *y, float *scratch)
{
    XB_ASSERT(c->causal);
    const int b = xb_cfg_int(c, OPT_BLOCK), nb = xb_bigbird_blocks(c, n_max), I = t / b, h = c->heads;
    dscr sc;
    decode_plan(c, scratch, &sc);
    xb_attn_span *sp = sc.sp;
    int *off = sc.off, *row = sc.row, *moved = sc.moved;
    int n = 0;
    for (int j = 0; j < h; j++) {
        off[j] = n;
        if (I == 0 || I == nb - 1) {   /* global: every key up to t */
            n = push_span(sp, n, off[j], 0, t + 1);
            continue;
        }
        draw_row(c, nb, j, I, row, moved);   /* ascending, all in 1 … I − 2 */
        n = push_span(sp, n, off[j], 0, b);
        for (int q = 0; q < xb_cfg_int(c, OPT_RANDOM_BLOCKS) && row[q] >= 0; q++)
            n = push_span(sp, n, off[j], row[q] * b, (row[q] + 1) * b);
        if (I >= 2) n = push_span(sp, n, off[j], (I - 1) * b, I * b);
        n = push_span(sp, n, off[j], I * b, t + 1);
    }
    off[h] = n;
    xb_attn_layer l = bb_layer(c, NULL);
    xb_attn_layer_decode_keys(&l, n_max, w, x, t, sp, off, state, y, sc.keys);
}

/* What xbench dump states beyond the tensors, the random-block table of a sequence of N tokens
 * included (recomputed on every call, so no tensor holds it). */
static void bb_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    const int nb = xb_bigbird_blocks(c, N), r = xb_cfg_int(c, OPT_RANDOM_BLOCKS);
    xb_fact_int(f, "block", xb_cfg_int(c, OPT_BLOCK));
    xb_fact_int(f, "random_blocks", r);
    xb_fact_int(f, "blocks", nb);
    xb_fact_text(f, "blocks_rule", "the blocks of each sequence's own real length n: n_b = ceil(n/b), the last one "
                                   "(maybe short) global; padding adds no block (here n = N); decode: those of n_max");
    xb_fact_text(f, "mask_rule", "query block I sees key blocks I-1, I, I+1, 0, n_b-1 and random_table[head][I]; "
                                 "blocks 0 and n_b-1 see every key%s", c->causal ? "; and k <= i" : "");
    xb_fact_text(f, "random_rule", "%s", c->causal ? "min(r_b, |C|) distinct blocks of C = {1 .. I-2}, middle blocks only"
                                                   : "min(r_b, |C|) distinct blocks of C = {1 .. n_b-2} minus {I-1, I, "
                                                     "I+1}, middle blocks only (the sequence's own n_b)");
    xb_fact_text(f, "random_seed", "recomputed on every call from a stream seeded by (layer, head, I); not stored");
    int *t = malloc((size_t)c->heads * nb * r * sizeof(int));
    if (!t) return;
    xb_bigbird_table(c, N, t);
    f->open(f->ctx, "random_table");   /* [head][query block] -> ascending key blocks */
    for (int j = 0; j < c->heads; j++) {
        f->open(f->ctx, NULL);
        for (int I = 0; I < nb; I++) {
            f->open(f->ctx, NULL);
            for (int q = 0; q < r; q++)
                if (t[((size_t)j * nb + I) * r + q] >= 0) xb_fact_int(f, NULL, t[((size_t)j * nb + I) * r + q]);
            f->close(f->ctx);
        }
        f->close(f->ctx);
    }
    f->close(f->ctx);
    free(t);
}

const xb_mixer xb_mixer_bigbird = {
    .name = "bigbird",
    .family = "sparse attention",
    .cite = "Zaheer et al. 2020, Big Bird: Transformers for Longer Sequences",
    .complexity = "N b (5 + r)",
    XB_OPTS(bb_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = bb_check,
    .tensors = bb_tensors,
    .init = bb_init,
    .n_saved = bb_n_saved,
    .n_scratch = bb_n_scratch,
    .forward = bb_forward,
    .backward = bb_backward,
    .flops = bb_flops,
    .reference = bb_reference,
    .decode_state = bb_decode_state,
    .decode_scratch = bb_decode_scratch,
    .decode_prefill = bb_decode_prefill,
    .decode_step = bb_decode_step,
    .facts = bb_facts,
};
