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

static xb_attn_layer local_layer(const xb_mixer_cfg *c)
{
    xb_attn_layer l = {.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                       .causal = c->causal, .band = 1};
    if (c->causal) { l.left = c->window; l.right = 0; }
    else { l.left = c->window / 2 + 1; l.right = c->window / 2; }
    return l;
}

static xb_attn_layer block_layer(const xb_mixer_cfg *c)
{
    return (xb_attn_layer){.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                           .causal = c->causal, .block = c->block};
}

static void local_defaults(xb_mixer_cfg *c) { if (c->window == 0) c->window = 128; }
static void block_defaults(xb_mixer_cfg *c) { if (c->block == 0) c->block = 64; }

static int heads_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    return 0;
}

static int local_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->window < 1) {
        snprintf(err, errn, "window: must be >= 1, got %d", c->window);
        return XB_EINVAL;
    }
    return heads_check(c, err, errn);
}

static int block_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->block < 1) {
        snprintf(err, errn, "block: must be >= 1, got %d", c->block);
        return XB_EINVAL;
    }
    return heads_check(c, err, errn);
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
    double n = N, d = c->d, P = 0;
    for (int i = 0; i < N; i++) {
        int lo, hi;
        if (c->causal) { lo = i - c->window + 1; hi = i; }
        else { lo = i - c->window / 2; hi = i + c->window / 2; }
        P += xb_min(hi, N - 1) - xb_max(lo, 0) + 1;
    }
    return 8 * n * d * d + 4 * P * d;
}

/* §4: 8Nd² + 4·P·d, P = Σ_blocks s² (causal s(s+1)/2) over block sizes s (last may be short):
 * 8Nd² + 4Nbd (causal 2N(b+1)d) when b divides N. */
static double block_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, P = 0;
    for (int s0 = 0; s0 < N; s0 += c->block) {
        double s = xb_min(c->block, N - s0);
        P += c->causal ? s * (s + 1) / 2 : s * s;
    }
    return 8 * n * d * d + 4 * P * d;
}

static int local_allowed(int i, int k, const void *ctx)
{
    const xb_mixer_cfg *c = ctx;
    if (c->causal) return k <= i && i - k < c->window;
    return k - i <= c->window / 2 && i - k <= c->window / 2;
}

static int block_allowed(int i, int k, const void *ctx)
{
    const xb_mixer_cfg *c = ctx;
    return i / c->block == k / c->block && (!c->causal || k <= i);
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

const xb_mixer xb_mixer_local = {
    .name = "local",
    .family = "sparse attention",
    .cite = "Beltagy et al. 2020, Longformer: The Long-Document Transformer (sliding window)",
    .complexity = "N w",
    .options = "window",
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = local_defaults,
    .check = local_check,
    .tensors = local_tensors,
    .init = local_init,
    .n_saved = local_n_saved,
    .n_scratch = local_n_scratch,
    .forward = local_forward,
    .backward = local_backward,
    .flops = local_flops,
    .reference = local_reference,
    XB_ATTN_DECODE_MEMBERS(local),
};

XB_ATTN_DECODE_FNS(block, block_layer)

const xb_mixer xb_mixer_local_block = {
    .name = "local_block",
    .family = "sparse attention",
    .cite = "Tay et al. 2021, Long Range Arena (local attention, contiguous blocks)",
    .complexity = "N b",
    .options = "block",
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = block_defaults,
    .check = block_check,
    .tensors = local_tensors,
    .init = local_init,
    .n_saved = local_n_saved,
    .n_scratch = local_n_scratch,
    .forward = block_forward,
    .backward = block_backward,
    .flops = block_flops,
    .reference = block_reference,
    XB_ATTN_DECODE_MEMBERS(block),
};
