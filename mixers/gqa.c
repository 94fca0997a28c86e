/* mixers/gqa.c — grouped-query attention (gqa, g = kv_heads KV heads, default 2) and
 * multi-query attention (mqa, g = 1), MIXERS.md §2: h query heads, query head j reads KV head
 * ⌊j·g/h⌋; the kernel sums dK/dV of a shared head over its h/g query heads. Both exports share
 * every function; only defaults, check and the name differ. */
#include <stdio.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/xb.h"

enum { OPT_KV_HEADS };
static const xb_mixer_opt gqa_opts[] = {
    [OPT_KV_HEADS] = {.name = "kv_heads", .type = XB_OPT_INT, .min = 1, .max = 4096,
                      .def_doc = "2 (1 when heads is odd)", .help = "key/value heads g (divides heads)"},
};
static const xb_mixer_opt mqa_opts[] = {
    [OPT_KV_HEADS] = {.name = "kv_heads", .type = XB_OPT_INT, .min = 1, .max = 4096, .def = 1,
                      .help = "key/value heads: exactly 1 (gqa takes more)"},
};

static xb_attn_layer layer(const xb_mixer_cfg *c)
{
    return (xb_attn_layer){.d = c->d, .hq = c->heads, .hkv = xb_cfg_int(c, OPT_KV_HEADS), .dh = c->d / c->heads,
                           .causal = c->causal};
}

static void gqa_defaults(xb_mixer_cfg *c)
{
    if (xb_cfg_int(c, OPT_KV_HEADS) == 0) xb_cfg_set(c, OPT_KV_HEADS, c->heads % 2 == 0 ? 2 : 1);
}

static int gqa_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (xb_cfg_int(c, OPT_KV_HEADS) < 1 || c->heads % xb_cfg_int(c, OPT_KV_HEADS) != 0) {
        snprintf(err, errn, "kv_heads: must be >= 1 and divide heads (%d), got %d", c->heads, xb_cfg_int(c, OPT_KV_HEADS));
        return XB_EINVAL;
    }
    return 0;
}

static int mqa_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (xb_cfg_int(c, OPT_KV_HEADS) != 1) {
        snprintf(err, errn, "kv_heads: mqa has exactly 1 key/value head, got %d (use gqa)", xb_cfg_int(c, OPT_KV_HEADS));
        return XB_EINVAL;
    }
    return gqa_check(c, err, errn);
}

static int gqa_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_tensors(&l, out);
}

static void gqa_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[4];
    int n = gqa_tensors(c, t);
    for (int i = 0; i < n; i++) xb_init_uniform(w + t[i].offset, t[i].rows, t[i].cols, rng);
}

/* Q, O (2Nd) + K, V (2N·g·d_h) + logsumexp L (Nh) */
static size_t gqa_n_saved(const xb_mixer_cfg *c, int N)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_saved(&l, N);
}

static size_t gqa_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    xb_attn_layer l = layer(c);
    return xb_attn_layer_scratch(&l, B, N);
}

static void gqa_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_forward(&l, w, x, len, y, saved, scratch, B, N);
}

static void gqa_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_backward(&l, w, x, len, saved, dy, dx, dw, scratch, B, N);
}

/* §2: 4Nd² + 4N·d·g·d_h + 4N²d (causal 2N(N+1)d), plus §1's elementwise softmax terms
 * 3N²h (causal 3h·N(N+1)/2) + Nd, which GQA does not change. */
static double gqa_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, h = c->heads, g = xb_cfg_int(c, OPT_KV_HEADS), dh = d / h;
    double pairs = c->causal ? n * (n + 1) / 2 : n * n;
    return 4 * n * d * d + 4 * n * d * g * dh + 4 * pairs * d + 3 * pairs * h + n * d;
}

static int allowed(int i, int k, const void *ctx)
{
    return !*(const int *)ctx || k <= i;
}

static void gqa_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    xb_attn_layer l = layer(c);
    xb_attn_layer_naive(&l, w, x, len, y, B, N, allowed, &c->causal);
}

XB_ATTN_DECODE_FNS(gqa, layer)

/* What xbench dump states beyond the tensors. */
static void gqa_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)c; (void)N;
    xb_fact_text(f, "kv_group", "query head j reads key/value group floor(j*g/h)");
}

const xb_mixer xb_mixer_gqa = {
    .name = "gqa",
    .family = "attention",
    .cite = "Ainslie et al. 2023, GQA: Training Generalized Multi-Query Transformer Models from Multi-Head Checkpoints",
    .complexity = "N^2",
    XB_OPTS(gqa_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = gqa_defaults,
    .check = gqa_check,
    .tensors = gqa_tensors,
    .init = gqa_init,
    .n_saved = gqa_n_saved,
    .n_scratch = gqa_n_scratch,
    .forward = gqa_forward,
    .backward = gqa_backward,
    .flops = gqa_flops,
    .reference = gqa_reference,
    XB_ATTN_DECODE_MEMBERS(gqa),
    .facts = gqa_facts,
};

const xb_mixer xb_mixer_mqa = {
    .name = "mqa",
    .family = "attention",
    .cite = "Shazeer 2019, Fast Transformer Decoding: One Write-Head is All You Need",
    .complexity = "N^2",
    XB_OPTS(mqa_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = mqa_check,
    .tensors = gqa_tensors,
    .init = gqa_init,
    .n_saved = gqa_n_saved,
    .n_scratch = gqa_n_scratch,
    .forward = gqa_forward,
    .backward = gqa_backward,
    .flops = gqa_flops,
    .reference = gqa_reference,
    XB_ATTN_DECODE_MEMBERS(gqa),
    .facts = gqa_facts,
};
