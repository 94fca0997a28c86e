/* core/model.c — the model around a mixer (core/model.h): embedding (+ learned positions) →
 * L pre-norm residual blocks → final RMSNorm → head, its parameter layout, flags, init,
 * forward, backward, accuracy, bytes and FLOPs.
 *
 * Parameter slab (one allocation, the same layout for gradients and both AdamW moments), in
 * this order; every tensor is listed by walk() below, which layout, flags, init and
 * xb_model_tensor all read, so they cannot disagree:
 *   tok_emb (V,d) · pos_emb (max_len,d) if positions ·
 *   per layer i: l<i>.norm1 (d) · l<i>.conv (k,d) if short_conv · l<i>.mixer.<name> (the
 *   mixer's slab, starting on a 64-byte boundary) · l<i>.norm2 (d) and l<i>.mlp.* if mlp ·
 *   norm_f (d) · head.* (core/layers.h).
 * Floats between tensors (alignment padding before/after a mixer slab) are flagged
 * XB_T_FROZEN, so they are never updated and count in no gradient norm.
 *
 * Flags: XB_T_DECAY on linear weight matrices (MLP, head, and the mixer's own matrices as its
 * tensors() says); no decay on embeddings, position table, norm weights, biases and conv taps;
 * XB_T_FROZEN on the mixer's fixed buffers.
 *
 * Init (deterministic from the seed): embeddings and positions N(0, 1) (PyTorch nn.Embedding's
 * default), linear matrices U(±1/√fan_in) (MIXERS.md §0), conv taps U(±1/√k), biases 0,
 * RMSNorm weights 1; mixer slabs by mixer->init with their own stream per layer
 * (splitmix64(seed ^ splitmix64(0x6d6978 + layer))). The head is its own tensor (for TOK an
 * untied W (d,C) with U(±1/√d) and a bias c), never tied to tok_emb.
 * This is not Zoology's init: Zoology (HazyResearch/zoology, zoology/model.py: _init_weights,
 * LanguageModel) overrides PyTorch's defaults with N(0, 0.02²) for every nn.Embedding and
 * nn.Linear (out_proj/fc2 weights 0.02/√(2·n_layers)), and ties lm_head (no bias) to the
 * token embedding. So xbench's embeddings start ~50× larger than Zoology's, and its output
 * layer is separate.
 *
 * Looped depth (model.loop = K > 1): the E = L·K executed blocks are layers[0 .. E); block
 * e uses the parameters (offsets o_*) and mixer config (.layer = e mod L) of layer e mod L,
 * so the slab is the plain model's, and the per-block tensors below are carved E times.
 * Backward walks the E blocks in reverse; every gradient kernel accumulates (+=), so a shared
 * tensor's gradient is the sum over its K repetitions.
 *
 * Activations are saved per executed block for batch B_max (PAIR: 2·B_max sequences, the two
 * towers of example i are sequences 2i and 2i+1): block input xa, rstd1, n1 = norm1(xa), c =
 * conv(n1) if short_conv, the mixer's saved floats, and with an MLP xb = xa + mixer(..),
 * rstd2, n2 = norm2(xb) and the MLP's saved floats; then xf, rstd_f, hf = norm_f(xf), the
 * head's saved floats, logits, probabilities and per-row losses. Scratch is shared by the
 * layers: dres (the residual-stream gradient), t1, t2 (R,d), the mixer's n_scratch, the MLP's
 * and the head's scratch, dlogits. Everything is carved from one 64-byte aligned arena, whose
 * size xb_model_bytes returns.
 *
 * Sizes are summed and multiplied with core/xb.h's saturating xb_size_add/xb_size_mul, so a
 * configuration whose arena passes SIZE_MAX reads as SIZE_MAX, never as a wrapped small
 * number that create would then allocate and overrun. Shapes past MAX_ROWS rows per batch or
 * MAX_STREAM_BYTES per (rows, d) activation are SIZE_MAX before the mixer is asked anything:
 * the kernels index a batch's rows with int, and below those limits the mixers' own size
 * functions (size_t products of the bounded suite keys) stay far inside size_t, which
 * tests/test_bounds.c checks for every registered mixer at the corners of the bounds. */
#include "core/model.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/layers.h"
#include "core/xb.h"

enum { INIT_NORMAL, INIT_UNIFORM, INIT_ZERO, INIT_ONE, INIT_MIXER };

#define MAX_ROWS INT_MAX                      /* sequences x length of one batch (int rows) */
#define MAX_STREAM_BYTES 1099511627776.0      /* one (rows, d) float activation: 1 TiB */

typedef struct layer {
    xb_mixer_cfg xc;                               /* the mixer's config, .layer = weight layer */
    size_t o_norm1, o_conv, o_mix, o_norm2, o_mlp; /* offsets in the parameter slab */
    float *xa, *rstd1, *n1, *c, *msaved, *xb, *rstd2, *n2, *mlpsaved;
} layer;

struct xb_model {
    xb_model_cfg mc;
    const xb_mixer *mx;
    xb_mixer_cfg xc;          /* resolved */
    int B, N, Bs, d, H, hh, C, L, k, mult;
    int K, E;                 /* loop count, executed blocks L·K */
    size_t np, n_mix, n_msaved, n_mscratch;
    size_t o_wte, o_wpe, o_normf, o_head;
    float *params, *grads, *adam_m, *adam_v;
    unsigned char *flags;
    layer *layers;            /* E executed blocks; the first L own the offsets */
    int32_t *tok, *y;
    int *len;
    float *xf, *rstdf, *hf, *headsaved, *logits, *probs, *rowloss;
    float *dres, *t1, *t2, *mscratch, *mlpscratch, *headscratch, *dlogits;
    int b_last, have_y, count;
};

/* ---- tensor walk --------------------------------------------------------------------------- */

typedef struct tinfo {
    const char *name;   /* model-level name, or the mixer tensor's name for INIT_MIXER parts */
    int layer;          /* -1 for model-level tensors */
    const char *group;  /* "mlp", "head", "mixer" or NULL */
    size_t off;
    int rows, cols;
    unsigned flags;
    int init;
} tinfo;

typedef void (*tensor_fn)(void *ctx, const tinfo *t);

static size_t align16(size_t o) { return o > SIZE_MAX - 15 ? SIZE_MAX : (o + 15) & ~(size_t)15; }

/* Past what any cell can hold: more rows per batch than an int counts, or one activation of
 * more than MAX_STREAM_BYTES (computed in double: the inputs may be anything). */
static int too_big(const xb_model_cfg *mc, int B, int N)
{
    double rows = (mc->shape == XB_SHAPE_PAIR ? 2.0 : 1.0) * B * N;
    return rows > MAX_ROWS || rows * mc->dim * sizeof(float) > MAX_STREAM_BYTES;
}

static int head_hidden(const xb_model_cfg *mc) { return mc->head_hidden > 0 ? mc->head_hidden : 2 * mc->dim; }

/* Calls fn for every tensor in slab order (mixer slabs once, as a whole, with init
 * INIT_MIXER); returns the slab size in floats. */
static size_t walk(const xb_model_cfg *mc, const xb_mixer *mx, const xb_mixer_cfg *xc,
                   int N, tensor_fn fn, void *ctx)
{
    int d = mc->dim, H = mc->mlp_ratio * d, k = mc->short_conv;
    size_t o = 0;
#define EMIT(nm, ly, grp, r, c, f, in) do { \
        tinfo t_ = {nm, ly, grp, o, (r), (c), (f), (in)}; if (fn) fn(ctx, &t_); \
        o = xb_size_add(o, xb_size_mul((size_t)(r), (size_t)(c))); } while (0)
    EMIT("tok_emb", -1, NULL, mc->vocab, d, 0, INIT_NORMAL);
    if (mc->positions) EMIT("pos_emb", -1, NULL, mc->max_len > 0 ? mc->max_len : N, d, 0, INIT_NORMAL);
    size_t nmix = xb_mixer_n_params(mx, xc);
    for (int l = 0; l < mc->layers; l++) {
        EMIT("norm1", l, NULL, d, 1, 0, INIT_ONE);
        if (k > 0) EMIT("conv", l, NULL, k, d, 0, INIT_UNIFORM);
        o = align16(o);
        if (nmix > 0) {   /* the slab as a whole: its tensors() gives the shapes inside */
            tinfo t_ = {"mixer", l, "mixer", o, 0, 0, 0, INIT_MIXER};
            if (fn) fn(ctx, &t_);
            o = xb_size_add(o, nmix);
        }
        o = align16(o);
        if (mc->mlp != XB_MLP_NONE) {
            EMIT("norm2", l, NULL, d, 1, 0, INIT_ONE);
            xb_tensor t[4];
            int n = xb_mlp_tensors(mc->mlp, d, H, t);
            size_t base = o;
            for (int i = 0; i < n; i++) {
                o = xb_size_add(base, t[i].offset);
                EMIT(t[i].name, l, "mlp", t[i].rows, t[i].cols, t[i].flags,
                     t[i].cols == 1 ? INIT_ZERO : INIT_UNIFORM);
            }
        }
    }
    EMIT("norm_f", -1, NULL, d, 1, 0, INIT_ONE);
    {
        xb_tensor t[6];
        int n = xb_head_tensors(mc->shape, d, head_hidden(mc), mc->n_classes, t);
        size_t base = o;
        for (int i = 0; i < n; i++) {
            o = xb_size_add(base, t[i].offset);
            EMIT(t[i].name, -1, "head", t[i].rows, t[i].cols, t[i].flags,
                 t[i].cols == 1 ? INIT_ZERO : INIT_UNIFORM);
        }
    }
#undef EMIT
    return o;
}

/* Record the offsets create needs. */
static void note_offsets(void *ctx, const tinfo *t)
{
    xb_model *m = ctx;
    layer *ly = t->layer >= 0 ? &m->layers[t->layer] : NULL;
    if (!ly) {
        if (!strcmp(t->name, "tok_emb")) m->o_wte = t->off;
        else if (!strcmp(t->name, "pos_emb")) m->o_wpe = t->off;
        else if (!strcmp(t->name, "norm_f")) m->o_normf = t->off;
        else if (t->group && !strcmp(t->group, "head") && !strcmp(t->name, "W_1")) m->o_head = t->off;
        else if (t->group && !strcmp(t->group, "head") && !strcmp(t->name, "W")) m->o_head = t->off;
        return;
    }
    if (!strcmp(t->name, "norm1")) ly->o_norm1 = t->off;
    else if (!strcmp(t->name, "conv")) ly->o_conv = t->off;
    else if (!strcmp(t->name, "mixer")) ly->o_mix = t->off;
    else if (!strcmp(t->name, "norm2")) ly->o_norm2 = t->off;
    else if (t->group && !strcmp(t->group, "mlp") && (!strcmp(t->name, "W_1") || !strcmp(t->name, "W_12")))
        ly->o_mlp = t->off;
}

static void note_flags(void *ctx, const tinfo *t)
{
    xb_model *m = ctx;
    if (t->init == INIT_MIXER) xb_mixer_flags(m->mx, &m->layers[t->layer].xc, m->flags + t->off);
    else memset(m->flags + t->off, (int)t->flags, (size_t)t->rows * t->cols);
}

typedef struct init_ctx { xb_model *m; xb_rng rng; uint64_t seed; } init_ctx;

static void init_tensor(void *ctx, const tinfo *t)
{
    init_ctx *ic = ctx;
    xb_model *m = ic->m;
    float *w = m->params + t->off;
    size_t n = (size_t)t->rows * t->cols;
    switch (t->init) {
    case INIT_NORMAL: for (size_t i = 0; i < n; i++) w[i] = (float)xb_rng_normal(&ic->rng); break;
    case INIT_UNIFORM: xb_init_uniform(w, t->rows, t->cols, &ic->rng); break;
    case INIT_ZERO: memset(w, 0, n * sizeof(float)); break;
    case INIT_ONE: for (size_t i = 0; i < n; i++) w[i] = 1.0f; break;
    case INIT_MIXER: {
        xb_rng r;
        xb_rng_seed(&r, xb_splitmix64(ic->seed ^ xb_splitmix64(0x6d6978ULL + (uint64_t)t->layer)));
        m->mx->init(&m->layers[t->layer].xc, w, &r);
        break;
    }
    }
}

/* ---- arena layout ----------------------------------------------------------------------------- */

typedef struct carver { char *base; size_t off; } carver;

static void *carve(carver *cv, size_t bytes)
{
    void *p = cv->base ? cv->base + cv->off : NULL;
    cv->off = xb_size_add(cv->off, xb_align64(bytes));
    return p;
}

#define CARVE_F(cv, n) ((float *)carve((cv), xb_size_mul((n), sizeof(float))))

/* Carve every buffer of m (base NULL: only count). m's scalar fields must be set. Returns the
 * arena size in bytes; the model struct itself is the first carve. */
static size_t layout(xb_model *m, char *base)
{
    carver cv = {base, 0};
    carve(&cv, sizeof(xb_model));
    layer *layers = carve(&cv, (size_t)(m->E > 0 ? m->E : 1) * sizeof(layer));
    if (base) m->layers = layers;
    size_t R = xb_size_mul((size_t)m->Bs, (size_t)m->N), Rd = xb_size_mul(R, (size_t)m->d);
    size_t Rout = m->mc.shape == XB_SHAPE_TOK ? R : (size_t)m->B;
    float *p;
#define SET(field, expr) do { p = (float *)(expr); if (base) m->field = (void *)p; } while (0)
    SET(params, CARVE_F(&cv, m->np));
    SET(grads, CARVE_F(&cv, m->np));
    SET(adam_m, CARVE_F(&cv, m->np));
    SET(adam_v, CARVE_F(&cv, m->np));
    SET(flags, carve(&cv, m->np));
    SET(tok, carve(&cv, xb_size_mul(R, sizeof(int32_t))));
    SET(len, carve(&cv, xb_size_mul((size_t)m->Bs, sizeof(int))));
    SET(y, carve(&cv, xb_size_mul(Rout, sizeof(int32_t))));
    int mlp = m->mc.mlp;
    for (int l = 0; l < m->E; l++) {
        layer *ly = base ? &m->layers[l] : NULL;
#define LSET(field, expr) do { p = (float *)(expr); if (ly) ly->field = p; } while (0)
        LSET(xa, CARVE_F(&cv, Rd));
        LSET(rstd1, CARVE_F(&cv, R));
        LSET(n1, CARVE_F(&cv, Rd));
        if (m->k > 0) LSET(c, CARVE_F(&cv, Rd));
        LSET(msaved, CARVE_F(&cv, xb_size_mul((size_t)m->Bs, m->n_msaved)));
        if (mlp != XB_MLP_NONE) {
            LSET(xb, CARVE_F(&cv, Rd));
            LSET(rstd2, CARVE_F(&cv, R));
            LSET(n2, CARVE_F(&cv, Rd));
            LSET(mlpsaved, CARVE_F(&cv, xb_mlp_n_saved(mlp, (int)R, m->H)));
        }
#undef LSET
    }
    SET(xf, CARVE_F(&cv, Rd));
    SET(rstdf, CARVE_F(&cv, R));
    SET(hf, CARVE_F(&cv, Rd));
    SET(headsaved, CARVE_F(&cv, xb_head_n_saved(m->mc.shape, m->B, m->d, m->hh)));
    SET(logits, CARVE_F(&cv, xb_size_mul(Rout, (size_t)m->C)));
    SET(probs, CARVE_F(&cv, xb_size_mul(Rout, (size_t)m->C)));
    SET(rowloss, CARVE_F(&cv, Rout));
    SET(dres, CARVE_F(&cv, Rd));
    SET(t1, CARVE_F(&cv, Rd));
    if (m->k > 0) SET(t2, CARVE_F(&cv, Rd));
    SET(mscratch, CARVE_F(&cv, m->n_mscratch));
    if (mlp != XB_MLP_NONE) SET(mlpscratch, CARVE_F(&cv, xb_mlp_n_scratch(mlp, (int)R, m->H)));
    SET(headscratch, CARVE_F(&cv, xb_head_n_scratch(m->mc.shape, m->B, m->d, m->hh)));
    SET(dlogits, CARVE_F(&cv, xb_size_mul(Rout, (size_t)m->C)));
#undef SET
    return cv.off;
}

/* Fill the scalar fields of m (no buffers). */
static void setup(xb_model *m, const xb_model_cfg *mc, const xb_mixer *mx, const xb_mixer_cfg *xc,
                  int B, int N)
{
    memset(m, 0, sizeof *m);
    m->mc = *mc;
    m->mx = mx;
    m->xc = xb_mixer_resolve(mx, xc);
    m->B = B; m->N = N;
    m->mult = mc->shape == XB_SHAPE_PAIR ? 2 : 1;
    m->Bs = m->mult * B;
    m->d = mc->dim; m->L = mc->layers; m->k = mc->short_conv;
    m->K = mc->loop > 1 ? mc->loop : 1;
    m->E = m->L * m->K;
    m->H = mc->mlp_ratio * mc->dim;
    m->hh = head_hidden(mc);
    m->C = mc->n_classes;
    m->np = walk(mc, mx, &m->xc, N, NULL, NULL);
    m->n_mix = xb_mixer_n_params(mx, &m->xc);
    m->n_msaved = mx->n_saved(&m->xc, N);
    m->n_mscratch = mx->n_scratch ? mx->n_scratch(&m->xc, m->Bs, N) : 0;
}

size_t xb_model_bytes(const xb_model_cfg *mc, const xb_mixer *mx, const xb_mixer_cfg *xc,
                      int B, int N)
{
    if (too_big(mc, B, N)) return SIZE_MAX;
    xb_model m;
    setup(&m, mc, mx, xc, B, N);
    return layout(&m, NULL);
}

static int bad(char *err, size_t errn, int code, const char *msg)
{
    if (err && errn) snprintf(err, errn, "%s", msg);
    return code;
}

int xb_model_create(xb_model **out, const xb_model_cfg *mc, const xb_mixer *mx,
                    const xb_mixer_cfg *xc, int B, int N, char *err, size_t errn)
{
    char msg[256];
    *out = NULL;
    if (B < 1 || N < 1) return bad(err, errn, XB_EINVAL, "model: batch and length must be >= 1");
    if (mc->dim < 1 || mc->layers < 0 || mc->vocab < 1 || mc->n_classes < 1)
        return bad(err, errn, XB_EINVAL, "model: dim, vocab and classes must be >= 1, layers >= 0");
    if (mc->mlp != XB_MLP_NONE && mc->mlp != XB_MLP_PLAIN && mc->mlp != XB_MLP_GLU)
        return bad(err, errn, XB_EINVAL, "model.mlp: must be none, mlp or glu");
    if (mc->mlp != XB_MLP_NONE && mc->mlp_ratio < 1)
        return bad(err, errn, XB_EINVAL, "model.mlp_ratio: must be >= 1");
    if (mc->short_conv < 0) return bad(err, errn, XB_EINVAL, "model.short_conv: must be >= 0");
    if (mc->loop < 0 || (mc->loop > 1 && mc->layers > INT_MAX / mc->loop)) {
        snprintf(msg, sizeof msg, "model.loop: must be >= 1 with layers x loop in range, got %d", mc->loop);
        return bad(err, errn, XB_EINVAL, msg);
    }
    if (mc->positions && mc->max_len > 0 && mc->max_len < N) {
        snprintf(msg, sizeof msg, "model.max_len: %d is shorter than the sequence length %d", mc->max_len, N);
        return bad(err, errn, XB_EINVAL, msg);
    }
    if (xc->d != mc->dim) {
        snprintf(msg, sizeof msg, "model: mixer width %d differs from model dim %d", xc->d, mc->dim);
        return bad(err, errn, XB_EINVAL, msg);
    }
    if (!(mx->modes & (xc->causal ? XB_CAUSAL : XB_BIDIR))) {
        snprintf(msg, sizeof msg, "mixer '%s' has no %s mode", mx->name, xc->causal ? "causal" : "bidirectional");
        return bad(err, errn, XB_EUNSUPP, msg);
    }
    xb_mixer_cfg rc = xb_mixer_resolve(mx, xc);
    int rcode = xb_mixer_check(mx, &rc, err, errn);
    if (rcode) return rcode;
    if (too_big(mc, B, N)) {
        snprintf(msg, sizeof msg, "model: %ld sequences of length %d at width %d are past what one "
                 "cell can hold", (mc->shape == XB_SHAPE_PAIR ? 2L : 1L) * B, N, mc->dim);
        return bad(err, errn, XB_ENOMEM, msg);
    }
    xb_model tmp;
    setup(&tmp, mc, mx, xc, B, N);
    size_t total = layout(&tmp, NULL);
    if (total == SIZE_MAX) return bad(err, errn, XB_ENOMEM, "model: the size of its buffers overflows");
    char *base = xb_alloc(total);
    if (!base) {
        snprintf(msg, sizeof msg, "model: cannot allocate %zu bytes", total);
        return bad(err, errn, XB_ENOMEM, msg);
    }
    xb_model *m = (xb_model *)base;
    *m = tmp;
    layout(m, base);
    for (int l = 0; l < m->E; l++) { m->layers[l].xc = m->xc; m->layers[l].xc.layer = l % m->L; }
    walk(mc, mx, &m->xc, N, note_offsets, m);
    for (int l = m->L; l < m->E; l++) {   /* repetitions share their weight layer's tensors */
        const layer *w = &m->layers[l % m->L];
        layer *ly = &m->layers[l];
        ly->o_norm1 = w->o_norm1; ly->o_conv = w->o_conv; ly->o_mix = w->o_mix;
        ly->o_norm2 = w->o_norm2; ly->o_mlp = w->o_mlp;
    }
    memset(m->flags, XB_T_FROZEN, m->np);   /* alignment gaps stay frozen */
    walk(mc, mx, &m->xc, N, note_flags, m);
    *out = m;
    return XB_OK;
}

void xb_model_free(xb_model *m) { xb_free(m); }

void xb_model_init(xb_model *m, uint64_t seed)
{
    init_ctx ic = {m, {{0}}, seed};
    xb_rng_seed(&ic.rng, seed);
    memset(m->params, 0, m->np * sizeof(float));
    walk(&m->mc, m->mx, &m->xc, m->N, init_tensor, &ic);
    memset(m->grads, 0, m->np * sizeof(float));
    memset(m->adam_m, 0, m->np * sizeof(float));
    memset(m->adam_v, 0, m->np * sizeof(float));
}

size_t xb_model_n_params(const xb_model *m) { return m->np; }
float *xb_model_params(xb_model *m) { return m->params; }
float *xb_model_grads(xb_model *m) { return m->grads; }
const unsigned char *xb_model_flags(const xb_model *m) { return m->flags; }
float *xb_model_adam_m(xb_model *m) { return m->adam_m; }
float *xb_model_adam_v(xb_model *m) { return m->adam_v; }
int xb_model_batch(const xb_model *m) { return m->B; }
int xb_model_seq_len(const xb_model *m) { return m->N; }

/* ---- tensor listing ------------------------------------------------------------------------------ */

typedef struct find_ctx { int want, seen, found; xb_tensor *t; char *name; size_t n; const xb_model *m; } find_ctx;

static void find_tensor(void *ctx, const tinfo *t)
{
    find_ctx *f = ctx;
    if (f->found) return;
    char pre[32] = "";
    if (t->layer >= 0) snprintf(pre, sizeof pre, "l%d.", t->layer);
    if (t->init == INIT_MIXER) {
        xb_tensor mt[XB_MAX_TENSORS];
        int n = f->m->mx->tensors(&f->m->layers[t->layer].xc, mt);
        for (int i = 0; i < n; i++, f->seen++) {
            if (f->seen != f->want) continue;
            snprintf(f->name, f->n, "%smixer.%s", pre, mt[i].name);
            *f->t = mt[i];
            f->t->offset += t->off;
            f->t->name = f->name;
            f->found = 1;
            return;
        }
        return;
    }
    if (f->seen++ != f->want) return;
    snprintf(f->name, f->n, "%s%s%s%s", pre, t->group ? t->group : "", t->group ? "." : "", t->name);
    *f->t = (xb_tensor){f->name, t->off, t->rows, t->cols, t->flags};
    f->found = 1;
}

int xb_model_tensor(const xb_model *m, int i, xb_tensor *t, char *name, size_t namen)
{
    find_ctx f = {i, 0, 0, t, name, namen, m};
    walk(&m->mc, m->mx, &m->xc, m->N, find_tensor, &f);
    return f.found;
}

/* ---- forward / backward ---------------------------------------------------------------------------- */

static void add3(float *out, const float *a, const float *b, size_t n)
{
    #pragma omp parallel for schedule(static) if (n >= 32768)   /* tiny layers stay serial */
    for (size_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

float xb_model_forward(xb_model *m, const int32_t *x, const int *len, const int32_t *y, int b)
{
    XB_ASSERT(b >= 1 && b <= m->B);
    int N = m->N, d = m->d, Bs = m->mult * b, R = Bs * N;
    size_t Rd = (size_t)R * d;
    const float *P = m->params;
    memcpy(m->tok, x, (size_t)R * sizeof(int32_t));
    for (int s = 0; s < Bs; s++) {
        m->len[s] = len ? len[s] : N;
        XB_ASSERT(m->len[s] >= 1 && m->len[s] <= N);
    }
    for (size_t r = 0; r < (size_t)R; r++) XB_ASSERT(x[r] >= 0 && x[r] < m->mc.vocab);
    float *x0 = m->E > 0 ? m->layers[0].xa : m->xf;
    xb_embed_forward(x0, m->tok, P + m->o_wte, m->mc.positions ? P + m->o_wpe : NULL, Bs, N, d);
    for (int l = 0; l < m->E; l++) {
        layer *ly = &m->layers[l];
        float *next = l + 1 < m->E ? m->layers[l + 1].xa : m->xf;
        xb_rmsnorm_forward(ly->n1, ly->rstd1, ly->xa, P + ly->o_norm1, R, d);
        const float *in = ly->n1;
        if (m->k > 0) {
            xb_shortconv_forward(ly->c, ly->n1, P + ly->o_conv, m->len, Bs, N, d, m->k, m->xc.causal);
            in = ly->c;
        }
        m->mx->forward(&ly->xc, P + ly->o_mix, in, m->len, m->t1, ly->msaved, m->mscratch, Bs, N);
        if (m->mc.mlp == XB_MLP_NONE) {
            add3(next, ly->xa, m->t1, Rd);
        } else {
            add3(ly->xb, ly->xa, m->t1, Rd);
            xb_rmsnorm_forward(ly->n2, ly->rstd2, ly->xb, P + ly->o_norm2, R, d);
            xb_mlp_forward(m->mc.mlp, m->t1, ly->mlpsaved, ly->n2, P + ly->o_mlp, R, d, m->H);
            add3(next, ly->xb, m->t1, Rd);
        }
    }
    xb_rmsnorm_forward(m->hf, m->rstdf, m->xf, P + m->o_normf, R, d);
    xb_head_forward(m->mc.shape, m->logits, m->headsaved, m->hf, m->len, P + m->o_head, b, N, d, m->hh, m->C);
    m->b_last = b;
    m->have_y = y != NULL;
    m->count = 0;
    if (!y) return 0.0f;
    int Rout = m->mc.shape == XB_SHAPE_TOK ? R : b;
    for (int r = 0; r < Rout; r++) {
        int32_t t = y[r];
        /* TOK positions past len are padding: never counted */
        if (m->mc.shape == XB_SHAPE_TOK && r % N >= m->len[r / N]) t = XB_IGNORE;
        XB_ASSERT(t == XB_IGNORE || (t >= 0 && t < m->C));
        m->y[r] = t;
    }
    return xb_xent_forward(m->probs, m->rowloss, m->logits, m->y, Rout, m->C, &m->count);
}

void xb_model_forward_packed(xb_model *m, const int32_t *x, const int *len, int b)
{
    XB_ASSERT(b >= 1 && b <= m->B);
    const int N = m->N, d = m->d, Bs = m->mult * b;
    const float *P = m->params;
    int T = 0;
    for (int s = 0; s < Bs; s++) {
        XB_ASSERT(len[s] >= 1 && len[s] <= N);
        m->len[s] = len[s];
        T += len[s];
    }
    for (int r = 0; r < T; r++) XB_ASSERT(x[r] >= 0 && x[r] < m->mc.vocab);
    const size_t Td = (size_t)T * d;
    /* every buffer is sized for Bs × N rows; the packed stream uses the first T of them */
    float *x0 = m->E > 0 ? m->layers[0].xa : m->xf;
    for (int s = 0, off = 0; s < Bs; off += len[s++])
        xb_embed_forward(x0 + (size_t)off * d, x + off, P + m->o_wte, m->mc.positions ? P + m->o_wpe : NULL,
                         1, len[s], d);
    for (int l = 0; l < m->E; l++) {
        layer *ly = &m->layers[l];
        float *next = l + 1 < m->E ? m->layers[l + 1].xa : m->xf;
        xb_rmsnorm_forward(ly->n1, ly->rstd1, ly->xa, P + ly->o_norm1, T, d);
        const float *in = ly->n1;
        if (m->k > 0) {
            for (int s = 0, off = 0; s < Bs; off += len[s++])
                xb_shortconv_forward(ly->c + (size_t)off * d, ly->n1 + (size_t)off * d, P + ly->o_conv,
                                     &len[s], 1, len[s], d, m->k, m->xc.causal);
            in = ly->c;
        }
        /* the mixer on each sequence at its own length: a batch of one, no padding */
        for (int s = 0, off = 0; s < Bs; off += len[s++])
            m->mx->forward(&ly->xc, P + ly->o_mix, in + (size_t)off * d, NULL, m->t1 + (size_t)off * d,
                           ly->msaved, m->mscratch, 1, len[s]);
        if (m->mc.mlp == XB_MLP_NONE) {
            add3(next, ly->xa, m->t1, Td);
        } else {
            add3(ly->xb, ly->xa, m->t1, Td);
            xb_rmsnorm_forward(ly->n2, ly->rstd2, ly->xb, P + ly->o_norm2, T, d);
            xb_mlp_forward(m->mc.mlp, m->t1, ly->mlpsaved, ly->n2, P + ly->o_mlp, T, d, m->H);
            add3(next, ly->xb, m->t1, Td);
        }
    }
    /* the final norm on the packed rows, then the one scatter into the padded layout the heads
     * read (pad rows 0, never read: the heads pool or predict over real positions only) */
    xb_rmsnorm_forward(m->t1, m->rstdf, m->xf, P + m->o_normf, T, d);
    for (int s = Bs - 1, off = T; s >= 0; s--) {
        off -= len[s];
        memcpy(m->hf + (size_t)s * N * d, m->t1 + (size_t)off * d, (size_t)len[s] * d * sizeof(float));
        memset(m->hf + ((size_t)s * N + len[s]) * d, 0, (size_t)(N - len[s]) * d * sizeof(float));
    }
    xb_head_forward(m->mc.shape, m->logits, m->headsaved, m->hf, m->len, P + m->o_head, b, N, d, m->hh, m->C);
    m->b_last = b;
    m->have_y = 0;
    m->count = 0;
}

const float *xb_model_logits(const xb_model *m) { return m->logits; }

void xb_model_backward(xb_model *m)
{
    XB_ASSERT(m->have_y);
    int b = m->b_last, N = m->N, d = m->d, Bs = m->mult * b, R = Bs * N;
    size_t Rd = (size_t)R * d;
    int Rout = m->mc.shape == XB_SHAPE_TOK ? R : b;
    const float *P = m->params;
    float *G = m->grads;
    memset(G, 0, m->np * sizeof(float));
    if (m->count == 0) return;
    xb_xent_backward(m->dlogits, m->probs, m->y, Rout, m->C, 1.0f / (float)m->count);
    memset(m->t1, 0, Rd * sizeof(float));
    xb_head_backward(m->mc.shape, m->t1, G + m->o_head, m->dlogits, m->hf, m->len, m->headsaved,
                     P + m->o_head, m->headscratch, b, N, d, m->hh, m->C);
    memset(m->dres, 0, Rd * sizeof(float));
    xb_rmsnorm_backward(m->dres, G + m->o_normf, m->t1, m->xf, P + m->o_normf, m->rstdf, R, d);
    for (int l = m->E - 1; l >= 0; l--) {   /* gradients of shared weights add up (+=) */
        layer *ly = &m->layers[l];
        if (m->mc.mlp != XB_MLP_NONE) {
            memset(m->t1, 0, Rd * sizeof(float));
            xb_mlp_backward(m->mc.mlp, m->t1, G + ly->o_mlp, m->dres, ly->n2, ly->mlpsaved,
                            P + ly->o_mlp, m->mlpscratch, R, d, m->H);
            xb_rmsnorm_backward(m->dres, G + ly->o_norm2, m->t1, ly->xb, P + ly->o_norm2, ly->rstd2, R, d);
        }
        const float *in = m->k > 0 ? ly->c : ly->n1;
        /* the mixer overwrites t1 with d(in) */
        m->mx->backward(&ly->xc, P + ly->o_mix, in, m->len, ly->msaved, m->dres, m->t1,
                        G + ly->o_mix, m->mscratch, Bs, N);
        const float *dn = m->t1;
        if (m->k > 0) {
            memset(m->t2, 0, Rd * sizeof(float));
            xb_shortconv_backward(m->t2, G + ly->o_conv, m->t1, ly->n1, P + ly->o_conv, m->len,
                                  Bs, N, d, m->k, m->xc.causal);
            dn = m->t2;
        }
        xb_rmsnorm_backward(m->dres, G + ly->o_norm1, dn, ly->xa, P + ly->o_norm1, ly->rstd1, R, d);
    }
    xb_embed_backward(G + m->o_wte, m->mc.positions ? G + m->o_wpe : NULL, m->dres, m->tok, Bs, N, d);
}

static int argmax(const float *z, int C)
{
    int best = 0;
    for (int c = 1; c < C; c++) if (z[c] > z[best]) best = c;
    return best;
}

void xb_model_accuracy(const xb_model *m, double *sum, int *count)
{
    XB_ASSERT(m->have_y);
    int b = m->b_last, N = m->N;
    double s = 0.0;
    int n = 0;
    for (int i = 0; i < b; i++) {
        if (m->mc.shape != XB_SHAPE_TOK) {
            s += argmax(m->logits + (size_t)i * m->C, m->C) == m->y[i];
            n++;
            continue;
        }
        int good = 0, tot = 0;
        for (int t = 0; t < N; t++) {
            size_t r = (size_t)i * N + t;
            if (m->y[r] == XB_IGNORE) continue;
            tot++;
            good += argmax(m->logits + r * m->C, m->C) == m->y[r];
        }
        if (tot) { s += (double)good / tot; n++; }   /* examples without targets are not counted */
    }
    *sum = s;
    *count = n;
}

/* Forward FLOPs of one sequence (PAIR: one example = both towers), FMA = 2, following
 * MIXERS.md §0: counted are, per executed block (L·K of them with loop K), the mixer's own
 * formula, the short conv (2·k·d per token) and the MLP products (plain 4·d·H, GLU 6·d·H per
 * token); and the head's products (CLS: 2·d·hh + 2·hh·C; PAIR: 2·4d·hh + 2·hh·hh/2 +
 * 2·hh/2·C; TOK: 2·d·C per token). Not counted
 * (elementwise, O(N·d) small constants): embedding look-up, norms, residual adds,
 * activations, pooling, softmax of the loss. */
double xb_model_flops(const xb_model_cfg *mc, const xb_mixer *mx, const xb_mixer_cfg *xc, int N)
{
    xb_mixer_cfg c = xb_mixer_resolve(mx, xc);
    double d = mc->dim, H = (double)mc->mlp_ratio * mc->dim, hh = head_hidden(mc), C = mc->n_classes;
    double per_layer_tok = 0.0;
    if (mc->short_conv > 0) per_layer_tok += 2.0 * mc->short_conv * d;
    if (mc->mlp == XB_MLP_PLAIN) per_layer_tok += 4.0 * d * H;
    if (mc->mlp == XB_MLP_GLU) per_layer_tok += 6.0 * d * H;
    double enc = 0.0;
    int K = mc->loop > 1 ? mc->loop : 1;
    for (int l = 0; l < mc->layers * K; l++) {
        c.layer = l % mc->layers;
        enc += mx->flops(&c, N) + per_layer_tok * N;
    }
    if (mc->shape == XB_SHAPE_CLS) return enc + 2.0 * d * hh + 2.0 * hh * C;
    if (mc->shape == XB_SHAPE_PAIR) {
        double h2 = (double)(mc->head_hidden > 0 ? mc->head_hidden : 2 * mc->dim) / 2;
        h2 = h2 >= 1 ? floor(h2) : 1;
        return 2.0 * enc + 2.0 * 4.0 * d * hh + 2.0 * hh * h2 + 2.0 * h2 * C;
    }
    return enc + 2.0 * d * C * N;
}
