/* mixers/sparse_fixed.c — Sparse Transformer's fixed pattern (`sparse_fixed`), MIXERS.md §5,
 * checked against LRA's sparse_transformer/sparse_attention.py. Token i sees key k iff
 *   Fixed1(l):    ⌊i/l⌋ = ⌊k/l⌋                      (its own block of l tokens), or
 *   Fixed2(l, c): k mod l = 0 or k mod l ≥ l − c     (summary columns; k mod l = 0 is LRA's
 *                                                      extra column, which §5 includes)
 * ANDed with k ≤ i in causal mode. Bidirectional mode drops k ≤ i: LRA's patterns are causal
 * even for classification, so this mode is xbench's (a documented deviation, §5). A short last
 * block (l not dividing N) is a block like the others; its summary columns are those of its
 * positions that satisfy Fixed2. Padding: keys ≥ len[b] are masked, the pattern itself is that
 * of the padded length N (as LRA builds it), which for this mask is the same thing.
 * Options: block (l, default 64) and summary (c, default min(8, max(1, l/4)): §5's c = 8 at
 * l = 64, kept below l at the small blocks of the tests so the mask stays sparse), 1 ≤ c ≤ l.
 * Standard projections W_Q, W_K, W_V, W_O [d, d], h heads.
 *
 * CPU form (§5): core/attn.c's tiles over gathered keys (xb_attn_groups), with
 *   query groups = the blocks: block B's own keys and the summary columns of the other blocks
 *                  (causal: of the earlier ones), ascending;
 *   key groups   = each block's non-summary keys, seen by its own rows only, and every summary
 *                  column in runs of 64, seen by every row (causal: by the rows ≥ k).
 * A query block thus meets its l own keys and the ~N(c+1)/l summary columns as one dense
 * panel of gathered 64-key tiles. The reference builds the dense mask from the definitions
 * above, independently of these lists. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/scratch.h"
#include "core/xb.h"

#define RUN 64   /* summary columns per key group: one kernel tile */

enum { OPT_BLOCK, OPT_SUMMARY };
static const xb_mixer_opt fixed_opts[] = {
    [OPT_BLOCK] = {.name = "block", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 64,
                   .help = "block size l"},
    [OPT_SUMMARY] = {.name = "summary", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH,
                     .def_doc = "min(8, max(1, block / 4))", .help = "summary columns c per block (<= block)"},
};

typedef struct fixed_mask {
    int N, l, c, causal;
    int nblk;    /* blocks, the last may be short */
    int per;     /* summary columns of a whole block: c + 1, or l when c ≥ l − 1 */
    int first;   /* offset of the first summary column after 0: max(l − c, 1) */
    int nsum;    /* summary columns in [0, N) */
} fixed_mask;

static int is_summary(const fixed_mask *f, int k)
{
    const int o = k % f->l;
    return o == 0 || o >= f->first;
}

/* summary column number m (ascending over the sequence) */
static int summary_col(const fixed_mask *f, int m)
{
    const int idx = m % f->per;
    return m / f->per * f->l + (idx == 0 ? 0 : f->first + idx - 1);
}

/* summary columns among the first s positions of a block */
static int block_summaries(int s, int l, int c)
{
    return 1 + xb_max(0, s - xb_max(l - c, 1));
}

/* summary columns in [0, n) */
static int summaries_before(int n, int l, int c)
{
    return n / l * block_summaries(l, l, c) + (n % l ? block_summaries(n % l, l, c) : 0);
}

static fixed_mask fixed_make(const xb_mixer_cfg *c, int N)
{
    fixed_mask f = {.N = N, .l = xb_cfg_int(c, OPT_BLOCK), .c = xb_cfg_int(c, OPT_SUMMARY), .causal = c->causal};
    f.nblk = (N + f.l - 1) / f.l;
    f.first = xb_max(f.l - f.c, 1);
    f.per = block_summaries(f.l, f.l, f.c);
    f.nsum = summaries_before(N, f.l, f.c);
    return f;
}

/* query group = block g: summary columns before it, its own keys, summary columns after it */
static int fixed_qgroup(const void *ctx, int j, int g, int *r0, int *rn, int *keys)
{
    (void)j;
    const fixed_mask *f = ctx;
    int n = 0;
    *r0 = g * f->l;
    *rn = xb_min(f->l, f->N - *r0);
    for (int m = 0; m < g * f->per; m++) keys[n++] = summary_col(f, m);
    for (int k = *r0; k < *r0 + *rn; k++) keys[n++] = k;
    if (!f->causal)
        for (int m = (g + 1) * f->per; m < f->nsum; m++) keys[n++] = summary_col(f, m);
    return n;
}

/* key groups 0..nblk−1: a block's non-summary keys; then runs of RUN summary columns */
static int fixed_kgroup(const void *ctx, int j, int u, int *keys, int *nkeys, int *rows)
{
    (void)j;
    const fixed_mask *f = ctx;
    int n = 0, nr = 0;
    if (u < f->nblk) {
        const int r0 = u * f->l, rn = xb_min(f->l, f->N - r0);
        for (int k = r0; k < r0 + rn; k++)
            if (!is_summary(f, k)) keys[n++] = k;
        if (n > 0)
            for (int i = r0; i < r0 + rn; i++) rows[nr++] = i;
    } else {
        const int m0 = (u - f->nblk) * RUN, m1 = xb_min(f->nsum, m0 + RUN);
        for (int m = m0; m < m1; m++) keys[n++] = summary_col(f, m);
        for (int i = f->causal ? keys[0] : 0; i < f->N; i++) rows[nr++] = i;
    }
    *nkeys = n;
    return nr;
}

static xb_attn_groups fixed_groups(const fixed_mask *f)
{
    return (xb_attn_groups){.nq = f->nblk, .nk = f->nblk + (f->nsum + RUN - 1) / RUN,
                            .qgroup = fixed_qgroup, .kgroup = fixed_kgroup, .ctx = f};
}

static xb_attn_layer fixed_layer(const xb_mixer_cfg *c, const xb_attn_groups *g)
{
    return (xb_attn_layer){.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                           .causal = c->causal, .groups = g};
}

static void fixed_defaults(xb_mixer_cfg *c)
{
    if (xb_cfg_int(c, OPT_SUMMARY) == 0) xb_cfg_set(c, OPT_SUMMARY, xb_min(8, xb_max(1, xb_cfg_int(c, OPT_BLOCK) / 4)));
}

static int fixed_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (xb_cfg_int(c, OPT_SUMMARY) > xb_cfg_int(c, OPT_BLOCK)) {
        snprintf(err, errn, "summary: must be in [1, block = %d], got %d", xb_cfg_int(c, OPT_BLOCK), xb_cfg_int(c, OPT_SUMMARY));
        return XB_EINVAL;
    }
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    return 0;
}

/* W_Q, W_K, W_V, W_O [d, d] */
static int fixed_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    xb_attn_layer l = fixed_layer(c, NULL);
    return xb_attn_layer_tensors(&l, out);
}

static void fixed_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[4];
    int n = fixed_tensors(c, t);
    for (int i = 0; i < n; i++) xb_init_uniform(w + t[i].offset, t[i].rows, t[i].cols, rng);
}

/* Q, K, V, O (4Nd) + logsumexp L (Nh) */
static size_t fixed_n_saved(const xb_mixer_cfg *c, int N)
{
    xb_attn_layer l = fixed_layer(c, NULL);
    return xb_attn_layer_saved(&l, N);
}

static size_t fixed_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    fixed_mask f = fixed_make(c, N);
    xb_attn_groups g = fixed_groups(&f);
    xb_attn_layer l = fixed_layer(c, &g);
    return xb_attn_layer_scratch(&l, B, N);
}

static void fixed_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          float *y, float *saved, float *scratch, int B, int N)
{
    fixed_mask f = fixed_make(c, N);
    xb_attn_groups g = fixed_groups(&f);
    xb_attn_layer l = fixed_layer(c, &g);
    xb_attn_layer_forward(&l, w, x, len, y, saved, scratch, B, N);
}

static void fixed_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                           int B, int N)
{
    fixed_mask f = fixed_make(c, N);
    xb_attn_groups g = fixed_groups(&f);
    xb_attn_layer l = fixed_layer(c, &g);
    xb_attn_layer_backward(&l, w, x, len, saved, dy, dx, dw, scratch, B, N);
}

/* §5: 8Nd² + 4·d·P, P the exact number of allowed pairs, one step per block: a block of s rows
 * with S_B summary columns, S of them in the whole sequence and S_< in earlier blocks, has
 * s·(s + S − S_B) pairs bidirectional and s(s+1)/2 + s·S_< causal. §5 lists no elementwise
 * term. */
static double fixed_flops(const xb_mixer_cfg *c, int N)
{
    fixed_mask f = fixed_make(c, N);
    double P = 0, before = 0, d = c->d;
    for (int s0 = 0; s0 < N; s0 += f.l) {
        double s = xb_min(f.l, N - s0), sb = block_summaries((int)s, f.l, f.c);
        P += c->causal ? s * (s + 1) / 2 + s * before : s * (s + f.nsum - sb);
        before += sb;
    }
    return 8.0 * N * d * d + 4 * P * d;
}

/* the dense mask, straight from the definitions */
typedef struct dense_mask {
    int N;
    unsigned char *m;   /* N × N */
} dense_mask;

static int dense_allowed(int i, int k, const void *ctx)
{
    const dense_mask *dm = ctx;
    return dm->m[(size_t)i * dm->N + k];
}

static void fixed_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            double *y, int B, int N)
{
    const int l = xb_cfg_int(c, OPT_BLOCK);
    dense_mask dm = {N, malloc((size_t)N * N)};
    XB_ASSERT(dm.m);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            int fixed1 = i / l == k / l, fixed2 = k % l == 0 || k % l >= l - xb_cfg_int(c, OPT_SUMMARY);
            dm.m[(size_t)i * N + k] = (unsigned char)((fixed1 || fixed2) && (!c->causal || k <= i));
        }
    xb_attn_layer lay = fixed_layer(c, NULL);
    xb_attn_layer_naive(&lay, w, x, len, y, B, N, dense_allowed, &dm);
    free(dm.m);
}

/* ---- decode (causal): the cache keeps only the keys a later token can see — every summary
 * column (rows [0, S) in order, S = the summary columns of the n_max tokens) and the current
 * block's other keys (a ring of first − 1 rows after them, offset o at row S + o − 1) — so
 * token t of block B lists two spans: the summary columns up to t (those of the earlier blocks
 * and its own block's up to t) and its block's other keys up to t, B·(c + 1) + l keys at most.
 * The state is (S + first − 1)·2d floats, about (c + 1)/l of a full cache. ---- */

#define PACK 64   /* context rows gathered per prefill product */

typedef struct fixed_cache {
    int nsum;   /* summary rows */
    int cap;    /* rows of K (and of V): nsum + ring */
} fixed_cache;

static fixed_cache cache_of(const xb_mixer_cfg *c, int n_max)
{
    const int nsum = summaries_before(n_max, xb_cfg_int(c, OPT_BLOCK), xb_cfg_int(c, OPT_SUMMARY));
    return (fixed_cache){nsum, nsum + xb_max(xb_cfg_int(c, OPT_BLOCK) - xb_cfg_int(c, OPT_SUMMARY), 1) - 1};
}

/* spans (2 per head) and off (h + 1), ints; then PACK gathered rows; then the layer's step */
typedef struct dscr { xb_attn_span *sp; int *off; float *pack, *keys; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    xb_attn_layer l = fixed_layer(c, NULL);
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->sp, 2 * (size_t)c->heads, XB_SCR_PACKED);
    XB_TAKE(&s, b->off, (size_t)c->heads + 1, XB_SCR_PACKED);
    XB_TAKE(&s, b->pack, (size_t)PACK * c->d, XB_SCR_64F);
    XB_TAKE(&s, b->keys, xb_attn_layer_decode_keys_scratch(&l, 2 * c->heads), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

static size_t fixed_decode_state(const xb_mixer_cfg *c, int n_max)
{
    return 2 * (size_t)cache_of(c, n_max).cap * c->d;
}

static size_t fixed_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

static void fixed_decode_prefill(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int n,
                                 float *state, float *scratch)
{
    const int d = c->d, l = xb_cfg_int(c, OPT_BLOCK), first = xb_max(l - xb_cfg_int(c, OPT_SUMMARY), 1);
    const fixed_cache fc = cache_of(c, n_max);
    xb_attn_layer lay = fixed_layer(c, NULL);
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *pack = sc.pack;
    int m0 = 0, np = 0;   /* summary rows [m0, m0 + np) are gathered in pack */
    for (int k = 0; k < n; k++) {
        const int o = k % l;
        if (o != 0 && o < first) continue;
        memcpy(pack + (size_t)np * d, x + (size_t)k * d, (size_t)d * sizeof(float));
        if (++np == PACK) {
            xb_attn_layer_decode_kv(&lay, fc.cap, w, pack, np, m0, state);
            m0 += np;
            np = 0;
        }
    }
    if (np > 0) xb_attn_layer_decode_kv(&lay, fc.cap, w, pack, np, m0, state);
    if (n > 0) {   /* the last block's other keys so far: offsets 1 … first − 1, one run */
        const int b0 = (n - 1) / l * l, run = xb_min(first - 1, n - 1 - b0);
        if (run > 0) xb_attn_layer_decode_kv(&lay, fc.cap, w, x + (size_t)(b0 + 1) * d, run, fc.nsum, state);
    }
}

static void fixed_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                              float *state, float *y, float *scratch)
{
    XB_ASSERT(c->causal);
    const int l = xb_cfg_int(c, OPT_BLOCK), o = t % l, first = xb_max(l - xb_cfg_int(c, OPT_SUMMARY), 1), h = c->heads;
    const fixed_cache fc = cache_of(c, n_max);
    const int S = summaries_before(t + 1, l, xb_cfg_int(c, OPT_SUMMARY)), ring = xb_min(o, first - 1);
    const int slot = o == 0 || o >= first ? S - 1 : fc.nsum + o - 1;
    dscr sc;
    decode_plan(c, scratch, &sc);
    xb_attn_span *sp = sc.sp;
    int *off = sc.off;
    for (int j = 0; j < h; j++) {
        off[j] = 2 * j;
        sp[2 * j] = (xb_attn_span){0, S};
        sp[2 * j + 1] = (xb_attn_span){fc.nsum, fc.nsum + ring};
    }
    off[h] = 2 * h;
    xb_attn_layer lay = fixed_layer(c, NULL);
    xb_attn_layer_decode_keys(&lay, fc.cap, w, x, slot, sp, off, state, y, sc.keys);
}

/* What xbench dump states beyond the tensors. */
static void fixed_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    const int b = xb_cfg_int(c, OPT_BLOCK), s = xb_cfg_int(c, OPT_SUMMARY);
    xb_fact_int(f, "block", b);
    xb_fact_int(f, "summary", s);
    xb_fact_text(f, "mask_rule", "position i attends to k iff floor(i/%d) = floor(k/%d) or k mod %d = 0 or k mod %d >= %d%s",
                 b, b, b, b, b - s, c->causal ? ", and k <= i" : "");
}

const xb_mixer xb_mixer_sparse_fixed = {
    .name = "sparse_fixed",
    .family = "sparse attention",
    .cite = "Child et al. 2019, Generating Long Sequences with Sparse Transformers (fixed pattern)",
    .complexity = "N (l + cN/l)",
    XB_OPTS(fixed_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = fixed_defaults,
    .check = fixed_check,
    .tensors = fixed_tensors,
    .init = fixed_init,
    .n_saved = fixed_n_saved,
    .n_scratch = fixed_n_scratch,
    .forward = fixed_forward,
    .backward = fixed_backward,
    .flops = fixed_flops,
    .reference = fixed_reference,
    .decode_state = fixed_decode_state,
    .decode_scratch = fixed_decode_scratch,
    .decode_prefill = fixed_decode_prefill,
    .decode_step = fixed_decode_step,
    .facts = fixed_facts,
};
