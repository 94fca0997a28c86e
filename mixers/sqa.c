/* mixers/sqa.c — Sparse Query Attention, MIXERS.md §3: h only fixes d_h = d/h; q_heads = h_q
 * query heads and kv_heads = h_kv key/value heads (h_kv | h_q), query head j reads KV head
 * ⌊j·h_kv/h_q⌋, W_O maps h_q·d_h → d. Defaults: h_q = h/2, h_kv = h_q/2 (h = 4: 2 and 1). */
#include <stdio.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/xb.h"

enum { OPT_Q_HEADS, OPT_KV_HEADS };
static const xb_mixer_opt sqa_opts[] = {
    [OPT_Q_HEADS] = {.name = "q_heads", .type = XB_OPT_INT, .min = 1, .max = 4096, .def_doc = "max(1, heads / 2)",
                     .help = "query heads h_q"},
    [OPT_KV_HEADS] = {.name = "kv_heads", .type = XB_OPT_INT, .min = 1, .max = 4096,
                      .def_doc = "max(1, q_heads / 2)", .help = "key/value heads h_kv (divides q_heads)"},
};

static xb_attn_layer layer(const xb_mixer_cfg *c)
{
    return (xb_attn_layer){.d = c->d, .hq = xb_cfg_int(c, OPT_Q_HEADS), .hkv = xb_cfg_int(c, OPT_KV_HEADS), .dh = c->d / c->heads,
                           .causal = c->causal};
}

static void sqa_defaults(xb_mixer_cfg *c)
{
    if (xb_cfg_int(c, OPT_Q_HEADS) == 0) xb_cfg_set(c, OPT_Q_HEADS, xb_max(1, c->heads / 2));
    if (xb_cfg_int(c, OPT_KV_HEADS) == 0) xb_cfg_set(c, OPT_KV_HEADS, xb_max(1, xb_cfg_int(c, OPT_Q_HEADS) / 2));
}

static int sqa_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (xb_cfg_int(c, OPT_KV_HEADS) < 1 || xb_cfg_int(c, OPT_Q_HEADS) % xb_cfg_int(c, OPT_KV_HEADS) != 0) {
        snprintf(err, errn, "kv_heads: must be >= 1 and divide q_heads (%d), got %d", xb_cfg_int(c, OPT_Q_HEADS), xb_cfg_int(c, OPT_KV_HEADS));
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
    double n = N, d = c->d, dh = d / c->heads, hq = xb_cfg_int(c, OPT_Q_HEADS), hkv = xb_cfg_int(c, OPT_KV_HEADS);
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

/* What xbench dump states beyond the tensors. */
static void sqa_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)c; (void)N;
    xb_fact_text(f, "kv_group", "query head j reads key/value group floor(j*g/h)");
}

const xb_mixer xb_mixer_sqa = {
    .name = "sqa",
    .family = "attention",
    .cite = "Filipek 2025, Sparse Query Attention (SQA) (Reactive AI)",
    .complexity = "N^2",
    XB_OPTS(sqa_opts),
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
    .facts = sqa_facts,
};
