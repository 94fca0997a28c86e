/* mixers/local.c — sliding-window attention (`local`) and contiguous block attention
 * (`local_block`), MIXERS.md §4 with the §32 decisions, both on the banded/blocked tiles of
 * core/attn.c (tiles outside the band are skipped, boundary tiles masked).
 *   local:       bidirectional keys [i − ⌊w/2⌋, i + ⌊w/2⌋]; causal [i − w + 1, i]; default w = 128
 *   local_block: keys in i's block of b contiguous tokens (short last block attends within
 *                itself); causal: the block's lower triangle; default b = 64
 * No global tokens (|G| = 0, §4's default). */
#include <stdio.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/xb.h"

enum { OPT_WINDOW };
static const xb_mixer_opt local_opts[] = {
    [OPT_WINDOW] = {.name = "window", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 128,
                    .help = "window w: keys [i - w/2, i + w/2], causal [i - w + 1, i]"},
};
enum { OPT_BLOCK };
static const xb_mixer_opt block_opts[] = {
    [OPT_BLOCK] = {.name = "block", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 64,
                   .help = "block size b"},
};

static xb_attn_layer local_layer(const xb_mixer_cfg *c)
{
    xb_attn_layer l = {.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                       .causal = c->causal, .band = 1};
    if (c->causal) { l.left = xb_cfg_int(c, OPT_WINDOW); l.right = 0; }
    else { l.left = xb_cfg_int(c, OPT_WINDOW) / 2 + 1; l.right = xb_cfg_int(c, OPT_WINDOW) / 2; }
    return l;
}

static xb_attn_layer block_layer(const xb_mixer_cfg *c)
{
    return (xb_attn_layer){.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                           .causal = c->causal, .block = xb_cfg_int(c, OPT_BLOCK)};
}

static int heads_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    return 0;
}

/* W_Q, W_K, W_V, W_O [d,d]: the same for both (the mask does not change the weights) */
static int local_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    xb_attn_layer l = local_layer(c);
    return xb_attn_layer_tensors(&l, out);
}

static void local_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[4];
    int n = local_tensors(c, t);
    for (int i = 0; i < n; i++) xb_init_uniform(w + t[i].offset, t[i].rows, t[i].cols, rng);
}

/* Q, K, V, O (4Nd) + logsumexp L (Nh) */
static size_t local_n_saved(const xb_mixer_cfg *c, int N)
{
    xb_attn_layer l = local_layer(c);
    return xb_attn_layer_saved(&l, N);
}

static size_t local_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    xb_attn_layer l = local_layer(c);
    return xb_attn_layer_scratch(&l, B, N);
}

static void local_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          float *y, float *saved, float *scratch, int B, int N)
{
    xb_attn_layer l = local_layer(c);
    xb_attn_layer_forward(&l, w, x, len, y, saved, scratch, B, N);
}

static void local_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           const float *saved, const float *dy, float *dx, float *dw,
                           float *scratch, int B, int N)
{
    xb_attn_layer l = local_layer(c);
    xb_attn_layer_backward(&l, w, x, len, saved, dy, dx, dw, scratch, B, N);
}

static void block_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          float *y, float *saved, float *scratch, int B, int N)
{
    xb_attn_layer l = block_layer(c);
    xb_attn_layer_forward(&l, w, x, len, y, saved, scratch, B, N);
}

static void block_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           const float *saved, const float *dy, float *dx, float *dw,
                           float *scratch, int B, int N)
{
    xb_attn_layer l = block_layer(c);
    xb_attn_layer_backward(&l, w, x, len, saved, dy, dx, dw, scratch, B, N);
}

/* §4: 8Nd² + 4·P·d with P the exact number of allowed (query, key) pairs of the compiled mask
 * (edges included). §4 lists no elementwise term. */
static double local_flops(const xb_mixer_cfg *c, int N)
{
    const int w = xb_cfg_int(c, OPT_WINDOW);
    double n = N, d = c->d;
    double P = c->causal ? xb_window_pairs(N, w - 1, 0) : xb_window_pairs(N, w / 2, w / 2);
    return 8 * n * d * d + 4 * P * d;
}

/* §4: 8Nd² + 4·P·d, P = Σ_blocks s² (causal s(s+1)/2) over block sizes s (last may be short):
 * 8Nd² + 4Nbd (causal 2N(b+1)d) when b divides N. */
static double block_flops(const xb_mixer_cfg *c, int N)
{
    const int b = xb_cfg_int(c, OPT_BLOCK);
    double n = N, d = c->d, full = N / b, s = N % b;   /* full blocks of b, one of s */
    double pb = c->causal ? (double)b * (b + 1) / 2 : (double)b * b;
    double ps = c->causal ? s * (s + 1) / 2 : s * s;
    return 8 * n * d * d + 4 * (full * pb + ps) * d;
}

static int local_allowed(int i, int k, const void *ctx)
{
    const xb_mixer_cfg *c = ctx;
    if (c->causal) return k <= i && i - k < xb_cfg_int(c, OPT_WINDOW);
    return k - i <= xb_cfg_int(c, OPT_WINDOW) / 2 && i - k <= xb_cfg_int(c, OPT_WINDOW) / 2;
}

static int block_allowed(int i, int k, const void *ctx)
{
    const xb_mixer_cfg *c = ctx;
    return i / xb_cfg_int(c, OPT_BLOCK) == k / xb_cfg_int(c, OPT_BLOCK) && (!c->causal || k <= i);
}

static void local_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            double *y, int B, int N)
{
    xb_attn_layer l = local_layer(c);
    xb_attn_layer_naive(&l, w, x, len, y, B, N, local_allowed, c);
}

static void block_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            double *y, int B, int N)
{
    xb_attn_layer l = block_layer(c);
    xb_attn_layer_naive(&l, w, x, len, y, B, N, block_allowed, c);
}

XB_ATTN_DECODE_FNS(local, local_layer)

/* What xbench dump states beyond the tensors. */
static void local_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    const int w = xb_cfg_int(c, OPT_WINDOW);
    xb_fact_int(f, "window", w);
    if (c->causal) xb_fact_text(f, "window_rule", "position i attends to [i - %d, i]", w - 1);
    else xb_fact_text(f, "window_rule", "position i attends to [i - %d, i + %d]", w / 2, w / 2);
}

const xb_mixer xb_mixer_local = {
    .name = "local",
    .family = "sparse attention",
    .cite = "Beltagy et al. 2020, Longformer: The Long-Document Transformer (sliding window)",
    .complexity = "N w",
    XB_OPTS(local_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = heads_check,
    .tensors = local_tensors,
    .init = local_init,
    .n_saved = local_n_saved,
    .n_scratch = local_n_scratch,
    .forward = local_forward,
    .backward = local_backward,
    .flops = local_flops,
    .reference = local_reference,
    XB_ATTN_DECODE_MEMBERS(local),
    .facts = local_facts,
};

XB_ATTN_DECODE_FNS(block, block_layer)

static void block_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "block", xb_cfg_int(c, OPT_BLOCK));
    xb_fact_text(f, "block_rule", "contiguous blocks of b; a short last block attends within itself");
}

const xb_mixer xb_mixer_local_block = {
    .name = "local_block",
    .family = "sparse attention",
    .cite = "Tay et al. 2021, Long Range Arena (local attention, contiguous blocks)",
    .complexity = "N b",
    XB_OPTS(block_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = heads_check,
    .tensors = local_tensors,
    .init = local_init,
    .n_saved = local_n_saved,
    .n_scratch = local_n_scratch,
    .forward = block_forward,
    .backward = block_backward,
    .flops = block_flops,
    .reference = block_reference,
    XB_ATTN_DECODE_MEMBERS(block),
    .facts = block_facts,
};
