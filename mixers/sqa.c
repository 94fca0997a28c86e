/* mixers/sqa.c — Sparse Query Attention, MIXERS.md §3: h only fixes d_h = d/h; q_heads = h_q
 * query heads and kv_heads = h_kv key/value heads (h_kv | h_q), query head j reads KV head
 * ⌊j·h_kv/h_q⌋, W_O maps h_q·d_h → d. Defaults: h_q = h/2, h_kv = h_q/2 (h = 4: 2 and 1). */
#include <stdio.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/xb.h"

static xb_attn_layer layer(const xb_mixer_cfg *c)
{
    return (xb_attn_layer){.d = c->d, .hq = c->q_heads, .hkv = c->kv_heads, .dh = c->d / c->heads,
                           .causal = c->causal};
}

static void sqa_defaults(xb_mixer_cfg *c)
{
    if (c->q_heads == 0) c->q_heads = xb_max(1, c->heads / 2);
    if (c->kv_heads == 0) c->kv_heads = xb_max(1, c->q_heads / 2);
}

static int sqa_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (c->q_heads < 1) {
        snprintf(err, errn, "q_heads: must be >= 1, got %d", c->q_heads);
        return XB_EINVAL;
    }
    if (c->kv_heads < 1 || c->q_heads % c->kv_heads != 0) {
        snprintf(err, errn, "kv_heads: must be >= 1 and divide q_heads (%d), got %d", c->q_heads, c->kv_heads);
        return XB_EINVAL;
    }
    return 0;
}

static int sqa_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_tensors(&l, out);
}

static void sqa_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[4];
    int n = sqa_tensors(c, t);
    for (int i = 0; i < n; i++) xb_init_uniform(w + t[i].offset, t[i].rows, t[i].cols, rng);
}

/* Q, O (2N·h_q·d_h) + K, V (2N·h_kv·d_h) + logsumexp L (N·h_q) */
static size_t sqa_n_saved(const xb_mixer_cfg *c, int N)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_saved(&l, N);
}

static size_t sqa_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_scratch(&l, B, N);
}

static void sqa_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_forward(&l, w, x, len, y, saved, scratch, B, N);
}

static void sqa_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_backward(&l, w, x, len, saved, dy, dx, dw, scratch, B, N);
}

/* §3: 4N·d·h_q·d_h + 4N·d·h_kv·d_h + 4N²·h_q·d_h (causal 2N(N+1)h_q·d_h)
 *     + elementwise 3N²h_q (causal 3h_q·N(N+1)/2, as §1) + N·h_q·d_h */
static double sqa_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, dh = d / c->heads, hq = c->q_heads, hkv = c->kv_heads;
    double pairs = c->causal ? n * (n + 1) / 2 : n * n;
    return 4 * n * d * hq * dh + 4 * n * d * hkv * dh + 4 * pairs * hq * dh + 3 * pairs * hq + n * hq * dh;
}

static int allowed(int i, int k, const void *ctx)
{
    return !*(const int *)ctx || k <= i;
}

static void sqa_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_naive(&l, w, x, len, y, B, N, allowed, &c->causal);
}

XB_ATTN_DECODE_FNS(sqa, layer)

const xb_mixer xb_mixer_sqa = {
    .name = "sqa",
    .family = "attention",
    .cite = "Filipek 2025, Sparse Query Attention (SQA) (Reactive AI)",
    .complexity = "N^2",
    .options = "q_heads,kv_heads",
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = sqa_defaults,
    .check = sqa_check,
    .tensors = sqa_tensors,
    .init = sqa_init,
    .n_saved = sqa_n_saved,
    .n_scratch = sqa_n_scratch,
    .forward = sqa_forward,
    .backward = sqa_backward,
    .flops = sqa_flops,
    .reference = sqa_reference,
    XB_ATTN_DECODE_MEMBERS(sqa),
};
