/* mixers/softmax.c — multi-head softmax attention (MHA), MIXERS.md §1: the standard sub-block
 * of core/attn.h with h query heads and h key/value heads, causal or bidirectional. */
#include <math.h>
#include <stdio.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/xb.h"

static xb_attn_layer layer(const xb_mixer_cfg *c)
{
    return (xb_attn_layer){.d = c->d, .hq = c->heads, .hkv = c->heads, .dh = c->d / c->heads,
                           .causal = c->causal};
}

static void softmax_defaults(xb_mixer_cfg *c) { (void)c; }

static int softmax_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    return 0;
}

static int softmax_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_tensors(&l, out);
}

static void softmax_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[4];
    int n = softmax_tensors(c, t);
    for (int i = 0; i < n; i++) xb_init_uniform(w + t[i].offset, t[i].rows, t[i].cols, rng);
}

/* Q, K, V, O (4Nd) + logsumexp L (Nh) */
static size_t softmax_n_saved(const xb_mixer_cfg *c, int N)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_saved(&l, N);
}

static size_t softmax_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_scratch(&l, B, N);
}

static void softmax_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            float *y, float *saved, float *scratch, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_forward(&l, w, x, len, y, saved, scratch, B, N);
}

static void softmax_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                             const float *saved, const float *dy, float *dx, float *dw,
                             float *scratch, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_backward(&l, w, x, len, saved, dy, dx, dw, scratch, B, N);
}

/* §1: 8Nd² + 4N²d (causal 2N(N+1)d) + elementwise 3N²h (causal 3h·N(N+1)/2) + Nd */
static double softmax_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, h = c->heads;
    double pairs = c->causal ? n * (n + 1) / 2 : n * n;
    return 8 * n * d * d + 4 * pairs * d + 3 * pairs * h + n * d;
}

static int allowed(int i, int k, const void *ctx)
{
    return !*(const int *)ctx || k <= i;
}

static void softmax_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                              double *y, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_naive(&l, w, x, len, y, B, N, allowed, &c->causal);
}

XB_ATTN_DECODE_FNS(softmax, layer)

const xb_mixer xb_mixer_softmax = {
    .name = "softmax",
    .family = "attention",
    .cite = "Vaswani et al. 2017, Attention Is All You Need",
    .complexity = "N^2",
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = softmax_defaults,
    .check = softmax_check,
    .tensors = softmax_tensors,
    .init = softmax_init,
    .n_saved = softmax_n_saved,
    .n_scratch = softmax_n_scratch,
    .forward = softmax_forward,
    .backward = softmax_backward,
    .flops = softmax_flops,
    .reference = softmax_reference,
    XB_ATTN_DECODE_MEMBERS(softmax),
};
