/* tests/test_model.c — the whole model (core/model.c) around a TEST-ONLY mixer defined here
 * (never registered): finite-difference gradient check of every tensor for CLS, PAIR and TOK
 * with mlp none/plain/glu and the short conv, padding, parameter count and flags, bytes
 * accounting (against what malloc actually handed out), init determinism and FLOPs.
 * Looped depth (model.loop = K): the same gradient check at K = 2 and 3, K changes the
 * output but not the parameters, bytes and FLOPs grow with the executed blocks, and for
 * every registered mixer a looped model equals the unrolled model with tied weights
 * (forward bit for bit; gradients = the sum of the tied copies' gradients).
 *
 * The test mixer "cummean" (exported as test_mixer_cummean for tests/test_train.c and
 * tests/test_learn.c): v = x W_V; s_t = mean of v over τ ≤ t (causal) or over the real tokens
 * (bidirectional); y_t = tanh(s_t) ⊙ g + F ⊙ x_t for real t, 0 at pads. W_V (d,d) decays,
 * g (d) does not, F (d) is a frozen buffer. */
#include <criterion/criterion.h>
#include <malloc.h>
#include <math.h>
#include <string.h>

#include "core/layers.h"
#include "core/model.h"
#include "core/xb.h"
#include "mixers/registry.h"
#include "tests/mixopt.h"

/* ---- the test-only mixer ---------------------------------------------------------------------- */

static void cm_defaults(xb_mixer_cfg *c) { (void)c; }

static int cm_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    int d = c->d;
    xb_tensor t[3] = {{"W_V", 0, d, d, XB_T_DECAY}, {"g", (size_t)d * d, d, 1, 0},
                      {"F", (size_t)d * d + d, d, 1, XB_T_FROZEN}};
    if (out) memcpy(out, t, sizeof t);
    return 3;
}

static void cm_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    int d = c->d;
    xb_init_uniform(w, d, d, rng);
    for (int j = 0; j < d; j++) w[d * d + j] = 1.0f;
    for (int j = 0; j < d; j++) w[d * d + d + j] = xb_rng_uniformf(rng, 0.5f, 1.0f);
}

static size_t cm_n_saved(const xb_mixer_cfg *c, int N) { return (size_t)N * c->d; }
static size_t cm_n_scratch(const xb_mixer_cfg *c, int B, int N) { return (size_t)B * N * c->d; }

static void cm_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                       float *y, float *saved, float *scratch, int B, int N)
{
    int d = c->d;
    const float *g = w + (size_t)d * d, *F = g + d;
    float *v = scratch;
    xb_linear_forward(v, x, w, NULL, B * N, d, d);
    for (int b = 0; b < B; b++) {
        int L = xb_len(len, b, N);
        float *a = saved + (size_t)b * N * d;
        double acc[256] = {0};
        XB_ASSERT(d <= 256);
        if (!c->causal)
            for (int t = 0; t < L; t++)
                for (int j = 0; j < d; j++) acc[j] += v[((size_t)b * N + t) * d + j];
        for (int t = 0; t < N; t++) {
            float *yr = y + ((size_t)b * N + t) * d, *ar = a + (size_t)t * d;
            const float *xr = x + ((size_t)b * N + t) * d, *vr = v + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) {
                if (t >= L) { yr[j] = 0.0f; ar[j] = 0.0f; continue; }
                if (c->causal) acc[j] += vr[j];
                double s = acc[j] / (c->causal ? t + 1 : L);
                ar[j] = tanhf((float)s);
                yr[j] = ar[j] * g[j] + F[j] * xr[j];
            }
        }
    }
}

static void cm_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                        int B, int N)
{
    int d = c->d;
    const float *g = w + (size_t)d * d, *F = g + d;
    float *dg = dw + (size_t)d * d;
    float *dv = scratch;
    for (int b = 0; b < B; b++) {
        int L = xb_len(len, b, N);
        const float *a = saved + (size_t)b * N * d;
        for (int t = 0; t < N; t++) {
            float *ds = dv + ((size_t)b * N + t) * d;
            const float *gy = dy + ((size_t)b * N + t) * d, *ar = a + (size_t)t * d;
            for (int j = 0; j < d; j++) {
                if (t >= L) { ds[j] = 0.0f; continue; }
                dg[j] += gy[j] * ar[j];
                ds[j] = gy[j] * g[j] * (1.0f - ar[j] * ar[j]);
            }
        }
        double acc[256] = {0};
        if (c->causal) {
            for (int t = L - 1; t >= 0; t--)
                for (int j = 0; j < d; j++) {
                    float *ds = dv + ((size_t)b * N + t) * d;
                    acc[j] += ds[j] / (double)(t + 1);
                    ds[j] = (float)acc[j];
                }
        } else {
            for (int t = 0; t < L; t++)
                for (int j = 0; j < d; j++) acc[j] += dv[((size_t)b * N + t) * d + j];
            for (int t = 0; t < L; t++)
                for (int j = 0; j < d; j++) dv[((size_t)b * N + t) * d + j] = (float)(acc[j] / L);
        }
    }
    memset(dx, 0, (size_t)B * N * d * sizeof(float));
    xb_linear_backward(dx, dw, NULL, dv, x, w, B * N, d, d);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < xb_len(len, b, N); t++)
            for (int j = 0; j < d; j++)
                dx[((size_t)b * N + t) * d + j] += dy[((size_t)b * N + t) * d + j] * F[j];
}

static double cm_flops(const xb_mixer_cfg *c, int N) { return 2.0 * N * c->d * c->d + 4.0 * N * c->d; }

static void cm_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         double *y, int B, int N)
{
    int d = c->d;
    for (int b = 0; b < B; b++) {
        int L = xb_len(len, b, N);
        for (int t = 0; t < N; t++)
            for (int j = 0; j < d; j++) {
                double s = 0;
                int lo = 0, hi = c->causal ? t : L - 1;
                for (int u = lo; u <= hi && t < L; u++)
                    for (int i = 0; i < d; i++) s += (double)x[((size_t)b * N + u) * d + i] * w[i * d + j];
                y[((size_t)b * N + t) * d + j] = t >= L ? 0.0 :
                    tanh(s / (hi - lo + 1)) * w[d * d + j] + (double)w[d * d + d + j] * x[((size_t)b * N + t) * d + j];
            }
    }
}

const xb_mixer test_mixer_cummean = {
    .name = "test_cummean", .family = "test", .cite = "test-only", .complexity = "N",
    .modes = XB_CAUSAL | XB_BIDIR, .unverified = 0,
    .defaults = cm_defaults, .check = NULL, .tensors = cm_tensors, .init = cm_init,
    .n_saved = cm_n_saved, .n_scratch = cm_n_scratch, .forward = cm_forward, .backward = cm_backward,
    .flops = cm_flops, .reference = cm_reference,
};

/* ---- helpers ---------------------------------------------------------------------------------- */

static xb_model_cfg mcfg(xb_shape s, int mlp, int conv, int positions)
{
    xb_model_cfg mc = {0};
    mc.shape = s; mc.vocab = 7; mc.n_classes = s == XB_SHAPE_PAIR ? 2 : s == XB_SHAPE_CLS ? 3 : 5;
    mc.dim = 8; mc.layers = 2; mc.heads = 1; mc.mlp = mlp; mc.mlp_ratio = 2; mc.short_conv = conv;
    mc.positions = positions; mc.max_len = 0; mc.head_hidden = 12;
    return mc;
}

static xb_mixer_cfg xcfg(int d, int causal)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = 1; c.causal = causal; c.n_max = 64;
    return c;
}

static void make_batch(xb_shape s, int b, int N, int V, int C, int32_t *x, int *len, int32_t *y, uint64_t seed)
{
    xb_rng r;
    xb_rng_seed(&r, seed);
    int ns = s == XB_SHAPE_PAIR ? 2 * b : b;
    for (int q = 0; q < ns; q++) {
        len[q] = s == XB_SHAPE_TOK ? N : 1 + (int)xb_rng_below(&r, (uint32_t)N);
        if (q == 0) len[q] = N;
        for (int t = 0; t < N; t++)
            x[q * N + t] = t < len[q] ? 1 + (int32_t)xb_rng_below(&r, (uint32_t)V - 1) : 0;   /* 0 = PAD */
    }
    int ny = s == XB_SHAPE_TOK ? b * N : b;
    for (int i = 0; i < ny; i++) y[i] = (int32_t)xb_rng_below(&r, (uint32_t)C);
    if (s == XB_SHAPE_TOK)
        for (int i = 0; i < ny; i += 3) y[i] = XB_IGNORE;
}

static int close_enough(double a, double n) { return fabs(a - n) <= 3e-2 * (fabs(a) + fabs(n)) + 3e-4; }

static void gradcheck_loop(xb_shape s, int mlp, int conv, int positions, int causal, const int *tok_len,
                           int layers, int loop)
{
    const int B = 3, N = 6;
    xb_model_cfg mc = mcfg(s, mlp, conv, positions);
    mc.layers = layers;
    mc.loop = loop;
    xb_mixer_cfg xc = xcfg(mc.dim, causal);
    xb_model *m;
    char err[256] = "";
    cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, B, N, err, sizeof err), 0, "%s", err);
    xb_model_init(m, 5);
    int32_t x[2 * 3 * 6], y[3 * 6];
    int len[6];
    make_batch(s, B, N, mc.vocab, mc.n_classes, x, len, y, 77);
    if (tok_len) memcpy(len, tok_len, B * sizeof(int));
    float loss0 = xb_model_forward(m, x, len, y, B);
    cr_assert(isfinite(loss0) && loss0 > 0);
    xb_model_backward(m);
    size_t np = xb_model_n_params(m);
    float *P = xb_model_params(m);
    float *G = malloc(np * sizeof(float));
    memcpy(G, xb_model_grads(m), np * sizeof(float));
    const unsigned char *fl = xb_model_flags(m);
    for (size_t i = 0; i < np; i++)
        if (fl[i] & XB_T_FROZEN) cr_assert_eq(G[i], 0.0f, "frozen float %zu has a gradient", i);

    xb_rng pick;
    xb_rng_seed(&pick, 3);
    int bad = 0, checked = 0;
    char where[256] = "", name[64];
    xb_tensor t;
    for (int ti = 0; xb_model_tensor(m, ti, &t, name, sizeof name); ti++) {
        if (t.flags & XB_T_FROZEN) continue;
        size_t n = (size_t)t.rows * t.cols;
        int cnt = n < 6 ? (int)n : 6;
        for (int k = 0; k < cnt; k++) {
            size_t i = t.offset + (n <= 6 ? (size_t)k : xb_rng_u64(&pick) % n);
            float keep = P[i];
            double num = 0;
            for (int e = 0; e < 4; e++) {   /* smaller steps when a ReLU kink is crossed */
                float h = e == 0 ? 1e-2f : e == 1 ? 3e-3f : e == 2 ? 1e-3f : 3e-4f;
                P[i] = keep + h; double lp = xb_model_forward(m, x, len, y, B);
                P[i] = keep - h; double lm = xb_model_forward(m, x, len, y, B);
                num = (lp - lm) / (2.0 * h);
                if (close_enough(G[i], num)) break;
            }
            P[i] = keep;
            checked++;
            if (!close_enough(G[i], num)) {
                bad++;
                snprintf(where, sizeof where, "%s[%zu]: analytic %g numeric %g", name, i - t.offset, G[i], num);
            }
        }
    }
    cr_expect_eq(bad, 0, "shape %d mlp %d conv %d causal %d loop %d: %d of %d disagree, e.g. %s",
                 s, mlp, conv, causal, loop, bad, checked, where);
    cr_expect(checked > 40, "only %d coordinates checked", checked);

    if (s != XB_SHAPE_TOK) {   /* pad tokens change nothing (bit for bit) */
        float l1 = xb_model_forward(m, x, len, y, B);
        int ns = s == XB_SHAPE_PAIR ? 2 * B : B;
        for (int q = 0; q < ns; q++)
            for (int tt = len[q]; tt < N; tt++) x[q * N + tt] = (int32_t)(mc.vocab - 1);
        float l2 = xb_model_forward(m, x, len, y, B);
        cr_expect_eq(l1, l2, "pad tokens changed the loss: %.9g vs %.9g", l1, l2);
    }
    free(G);
    xb_model_free(m);
}

static void gradcheck(xb_shape s, int mlp, int conv, int positions, int causal, const int *tok_len)
{
    gradcheck_loop(s, mlp, conv, positions, causal, tok_len, 2, 1);
}

Test(model, grad_cls) { gradcheck(XB_SHAPE_CLS, XB_MLP_NONE, 0, 1, 0, NULL); gradcheck(XB_SHAPE_CLS, XB_MLP_PLAIN, 3, 0, 0, NULL); }
Test(model, grad_cls_glu_conv_causal) { gradcheck(XB_SHAPE_CLS, XB_MLP_GLU, 2, 1, 1, NULL); }
Test(model, grad_pair) { gradcheck(XB_SHAPE_PAIR, XB_MLP_PLAIN, 0, 1, 0, NULL); gradcheck(XB_SHAPE_PAIR, XB_MLP_GLU, 3, 1, 0, NULL); }
Test(model, grad_pair_none_conv) { gradcheck(XB_SHAPE_PAIR, XB_MLP_NONE, 4, 0, 1, NULL); }
Test(model, grad_tok)
{
    gradcheck(XB_SHAPE_TOK, XB_MLP_NONE, 3, 1, 1, NULL);
    gradcheck(XB_SHAPE_TOK, XB_MLP_GLU, 0, 1, 1, NULL);
    int tl[3] = {6, 4, 2};   /* a TOK batch with short sequences: positions past len are ignored */
    gradcheck(XB_SHAPE_TOK, XB_MLP_PLAIN, 2, 0, 0, tl);
}

/* ---- parameters, flags, bytes, init, flops --------------------------------------------------- */

Test(model, params_and_flags)
{
    xb_model_cfg mc = mcfg(XB_SHAPE_CLS, XB_MLP_PLAIN, 3, 1);
    mc.layers = 1;
    xb_mixer_cfg xc = xcfg(mc.dim, 0);
    xb_model *m;
    char err[256];
    cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, 4, 10, err, sizeof err), 0, "%s", err);
    int d = mc.dim, V = mc.vocab, H = 2 * d, hh = mc.head_hidden, C = mc.n_classes, N = 10;
    /* trainable floats, counted by hand */
    size_t want = (size_t)V * d + (size_t)N * d            /* tok_emb, pos_emb (max_len 0 → N) */
                + d + 3 * d + (size_t)d * d + d             /* norm1, conv, W_V, g */
                + d + (size_t)d * H + H + (size_t)H * d + d /* norm2, W_1, c_1, W_2, c_2 */
                + d + (size_t)d * hh + hh + (size_t)hh * C + C;
    size_t np = xb_model_n_params(m), trainable = 0, decay = 0, frozen_named = 0;
    const unsigned char *fl = xb_model_flags(m);
    for (size_t i = 0; i < np; i++) {
        trainable += !(fl[i] & XB_T_FROZEN);
        decay += (fl[i] & XB_T_DECAY) != 0;
    }
    cr_expect_eq(trainable, want, "trainable floats %zu, expected %zu", trainable, want);
    cr_expect_eq(decay, (size_t)d * d + 2 * (size_t)d * H + (size_t)d * hh + (size_t)hh * C, "decay floats %zu", decay);
    char name[64];
    xb_tensor t;
    int found_F = 0, found_WQ = 0;
    for (int i = 0; xb_model_tensor(m, i, &t, name, sizeof name); i++) {
        for (size_t k = 0; k < (size_t)t.rows * t.cols; k++)
            cr_assert_eq(fl[t.offset + k], t.flags, "%s: flags of float %zu", name, k);
        if (!strcmp(name, "l0.mixer.F")) { found_F = 1; cr_expect_eq(t.flags, XB_T_FROZEN); frozen_named += t.rows; }
        if (!strcmp(name, "l0.mixer.W_V")) { found_WQ = 1; cr_expect_eq(t.offset % 16, 0u, "mixer slab aligned"); }
        if (!strcmp(name, "tok_emb") || !strcmp(name, "l0.norm1") || !strcmp(name, "l0.conv") || !strcmp(name, "head.c_1"))
            cr_expect_eq(t.flags, 0u, "%s must not decay", name);
        if (!strcmp(name, "head.W_1") || !strcmp(name, "l0.mlp.W_2")) cr_expect_eq(t.flags, XB_T_DECAY, "%s decays", name);
    }
    cr_expect(found_F && found_WQ && frozen_named == (size_t)d, "mixer tensors listed with their names");
    xb_model_free(m);
}

Test(model, bytes_match_allocation)
{
    xb_model_cfg mc = mcfg(XB_SHAPE_PAIR, XB_MLP_GLU, 3, 1);
    xb_mixer_cfg xc = xcfg(mc.dim, 0);
    size_t b1 = xb_model_bytes(&mc, &test_mixer_cummean, &xc, 4, 32);
    size_t b2 = xb_model_bytes(&mc, &test_mixer_cummean, &xc, 8, 32);
    size_t b3 = xb_model_bytes(&mc, &test_mixer_cummean, &xc, 4, 64);
    cr_expect(b2 > b1 && b3 > b1, "bytes grow with B and N");
    /* activations scale: at least the saved residual streams, 4 × (R,d) per layer here */
    cr_expect(b2 - b1 >= (size_t)mc.layers * 4 * (2 * 4 * 32) * mc.dim * sizeof(float));
    struct mallinfo2 before = mallinfo2();
    xb_model *m;
    char err[256];
    cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, 4, 32, err, sizeof err), 0, "%s", err);
    struct mallinfo2 after = mallinfo2();
    size_t got = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
    size_t np = xb_model_n_params(m);
    cr_expect(b1 >= 4 * np * sizeof(float) + np, "bytes cover params, grads, moments, flags");
#ifndef __SANITIZE_ADDRESS__   /* ASan's allocator bypasses glibc's: mallinfo2 sees nothing */
    cr_expect(got >= b1 && got <= b1 + 8192, "create allocated %zu bytes, xb_model_bytes says %zu", got, b1);
#else
    (void)got;
#endif
    xb_model_free(m);
}

Test(model, init_deterministic)
{
    xb_model_cfg mc = mcfg(XB_SHAPE_TOK, XB_MLP_GLU, 2, 1);
    xb_mixer_cfg xc = xcfg(mc.dim, 1);
    xb_model *a, *b;
    char err[256];
    cr_assert_eq(xb_model_create(&a, &mc, &test_mixer_cummean, &xc, 2, 8, err, sizeof err), 0);
    cr_assert_eq(xb_model_create(&b, &mc, &test_mixer_cummean, &xc, 2, 8, err, sizeof err), 0);
    size_t np = xb_model_n_params(a);
    xb_model_init(a, 11); xb_model_init(b, 11);
    cr_expect_eq(memcmp(xb_model_params(a), xb_model_params(b), np * sizeof(float)), 0);
    xb_model_init(b, 12);
    cr_expect_neq(memcmp(xb_model_params(a), xb_model_params(b), np * sizeof(float)), 0);
    /* norm weights start at 1, the two layers' mixer slabs differ */
    char name[64];
    xb_tensor t;
    const float *P = xb_model_params(a);
    size_t w0 = 0, w1 = 0;
    for (int i = 0; xb_model_tensor(a, i, &t, name, sizeof name); i++) {
        if (!strcmp(name, "l1.norm2") || !strcmp(name, "norm_f")) cr_expect_eq(P[t.offset], 1.0f, "%s", name);
        if (!strcmp(name, "l0.mixer.W_V")) w0 = t.offset;
        if (!strcmp(name, "l1.mixer.W_V")) w1 = t.offset;
    }
    cr_expect_neq(memcmp(P + w0, P + w1, (size_t)mc.dim * mc.dim * sizeof(float)), 0, "layers share an init stream");
    xb_model_free(a); xb_model_free(b);
}

Test(model, flops_formula)
{
    xb_model_cfg mc = mcfg(XB_SHAPE_CLS, XB_MLP_GLU, 3, 1);
    xb_mixer_cfg xc = xcfg(mc.dim, 0);
    int N = 100, d = mc.dim, H = 2 * d, hh = mc.head_hidden, C = mc.n_classes;
    double mix = 2.0 * N * d * d + 4.0 * N * d;
    double want = mc.layers * (mix + N * (2.0 * 3 * d + 6.0 * d * H)) + 2.0 * d * hh + 2.0 * hh * C;
    cr_expect_float_eq(xb_model_flops(&mc, &test_mixer_cummean, &xc, N), want, 1e-9 * want);
    mc.shape = XB_SHAPE_TOK; mc.mlp = XB_MLP_NONE; mc.short_conv = 0;
    want = mc.layers * mix + 2.0 * d * C * N;
    cr_expect_float_eq(xb_model_flops(&mc, &test_mixer_cummean, &xc, N), want, 1e-9 * want);
    mc.shape = XB_SHAPE_PAIR; mc.n_classes = 2;
    want = 2 * mc.layers * mix + 2.0 * 4 * d * hh + 2.0 * hh * (hh / 2) + 2.0 * (hh / 2) * 2;
    cr_expect_float_eq(xb_model_flops(&mc, &test_mixer_cummean, &xc, N), want, 1e-9 * want);
}

static xb_mixer bidir_only(void)
{
    xb_mixer m = test_mixer_cummean;
    m.modes = XB_BIDIR;
    return m;
}

Test(model, rejects_bad_configs)
{
    xb_model_cfg mc = mcfg(XB_SHAPE_TOK, XB_MLP_NONE, 0, 1);
    xb_mixer_cfg xc = xcfg(mc.dim, 1);
    xb_mixer mb = bidir_only();
    xb_model *m = NULL;
    char err[256] = "";
    cr_expect_eq(xb_model_create(&m, &mc, &mb, &xc, 2, 8, err, sizeof err), XB_EUNSUPP);
    cr_expect(strstr(err, "causal") != NULL, "message: %s", err);
    mc.max_len = 4;
    cr_expect_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, 2, 8, err, sizeof err), XB_EINVAL);
    cr_expect(strstr(err, "max_len") != NULL, "message: %s", err);
    mc.max_len = 0;
    xc.d = 4;
    cr_expect_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, 2, 8, err, sizeof err), XB_EINVAL);
    cr_expect(m == NULL);
}

Test(model, accuracy_counts)
{
    /* TOK accuracy is per-example over non-ignored positions; an example with none is skipped */
    xb_model_cfg mc = mcfg(XB_SHAPE_TOK, XB_MLP_NONE, 0, 1);
    xb_mixer_cfg xc = xcfg(mc.dim, 1);
    xb_model *m;
    char err[256];
    cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, 2, 4, err, sizeof err), 0);
    xb_model_init(m, 1);
    int32_t x[8] = {1, 2, 3, 4, 5, 6, 1, 2}, y[8];
    for (int i = 0; i < 8; i++) y[i] = XB_IGNORE;
    xb_model_forward(m, x, NULL, y, 2);
    double s; int c;
    xb_model_accuracy(m, &s, &c);
    cr_expect_eq(c, 0);
    /* find the argmax of positions 0 and 1 by trying every class as the only target */
    int hit[2] = {-1, -1};
    for (int p = 0; p < 2; p++) {
        for (int i = 0; i < 8; i++) y[i] = XB_IGNORE;
        for (int k = 0; k < mc.n_classes; k++) {
            y[p] = k;
            xb_model_forward(m, x, NULL, y, 2);
            xb_model_accuracy(m, &s, &c);
            cr_expect_eq(c, 1);
            if (s == 1.0) { cr_expect_eq(hit[p], -1, "two classes are the argmax"); hit[p] = k; }
        }
        cr_expect_neq(hit[p], -1);
    }
    y[0] = hit[0]; y[1] = (hit[1] + 1) % mc.n_classes;   /* example 0: one of two right → 0.5 */
    y[4] = hit[0] == 0 ? 1 : 0;                              /* example 1: position 0, maybe right */
    xb_model_forward(m, x, NULL, y, 2);
    xb_model_accuracy(m, &s, &c);
    cr_expect_eq(c, 2);
    cr_expect(s == 0.5 || s == 1.5, "sum %g", s);
    xb_model_free(m);
}

Test(model, bitwise_repeatable_at_size)
{
    /* big enough (R·d = 4·300·32) for the layers' parallel loops and threaded GEMMs */
    xb_model_cfg mc = mcfg(XB_SHAPE_TOK, XB_MLP_GLU, 3, 1);
    mc.dim = 32;
    xb_mixer_cfg xc = xcfg(32, 1);
    int B = 4, N = 300;
    int32_t *x = malloc((size_t)B * N * sizeof(int32_t)), *y = malloc((size_t)B * N * sizeof(int32_t));
    for (int i = 0; i < B * N; i++) { x[i] = 1 + i * 5 % 6; y[i] = i % 4 ? i * 3 % 5 : XB_IGNORE; }
    float *g[2], loss[2];
    size_t np = 0;
    for (int k = 0; k < 2; k++) {
        xb_model *m;
        char err[256];
        cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, B, N, err, sizeof err), 0, "%s", err);
        xb_model_init(m, 21);
        loss[k] = xb_model_forward(m, x, NULL, y, B);
        xb_model_backward(m);
        np = xb_model_n_params(m);
        g[k] = malloc(np * sizeof(float));
        memcpy(g[k], xb_model_grads(m), np * sizeof(float));
        xb_model_free(m);
    }
    cr_expect_eq(loss[0], loss[1]);
    cr_expect_eq(memcmp(g[0], g[1], np * sizeof(float)), 0, "two identical backward passes differ");
    free(g[0]); free(g[1]); free(x); free(y);
}

/* ---- looped depth (model.loop) ----------------------------------------------------------------- */

Test(model, grad_loop2) { gradcheck_loop(XB_SHAPE_CLS, XB_MLP_PLAIN, 3, 1, 0, NULL, 2, 2); }
Test(model, grad_loop3)
{
    gradcheck_loop(XB_SHAPE_TOK, XB_MLP_GLU, 2, 1, 1, NULL, 1, 3);
    gradcheck_loop(XB_SHAPE_PAIR, XB_MLP_NONE, 0, 1, 0, NULL, 2, 3);
}

/* K = 2 is not K = 1: same parameters (count, layout and initial values), another function. */
Test(model, loop_changes_output_not_parameters)
{
    const int B = 3, N = 6;
    xb_model_cfg mc = mcfg(XB_SHAPE_CLS, XB_MLP_GLU, 3, 1);
    xb_mixer_cfg xc = xcfg(mc.dim, 0);
    xb_model *m[2];
    char err[256] = "";
    float loss[2];
    int32_t x[3 * 6], y[3 * 6];
    int len[3];
    make_batch(XB_SHAPE_CLS, B, N, mc.vocab, mc.n_classes, x, len, y, 9);
    for (int k = 0; k < 2; k++) {
        mc.loop = k + 1;
        cr_assert_eq(xb_model_create(&m[k], &mc, &test_mixer_cummean, &xc, B, N, err, sizeof err), 0, "%s", err);
        xb_model_init(m[k], 5);
        loss[k] = xb_model_forward(m[k], x, len, y, B);
    }
    size_t np = xb_model_n_params(m[0]);
    cr_expect_eq(xb_model_n_params(m[1]), np, "loop 2 has %zu parameters, loop 1 %zu", xb_model_n_params(m[1]), np);
    cr_expect_eq(memcmp(xb_model_params(m[0]), xb_model_params(m[1]), np * sizeof(float)), 0,
                 "the same seed gives other weights with loop 2");
    cr_expect_eq(memcmp(xb_model_flags(m[0]), xb_model_flags(m[1]), np), 0);
    char n0[64], n1[64];
    xb_tensor t0, t1;
    int i = 0;
    for (; xb_model_tensor(m[0], i, &t0, n0, sizeof n0); i++) {
        cr_assert(xb_model_tensor(m[1], i, &t1, n1, sizeof n1), "tensor %d (%s) missing with loop 2", i, n0);
        cr_expect_str_eq(n0, n1);
    }
    cr_expect(!xb_model_tensor(m[1], i, &t1, n1, sizeof n1), "loop 2 lists more tensors");
    cr_expect(fabsf(loss[0] - loss[1]) > 1e-4f * fabsf(loss[0]), "loop 2 gave loss %.9g, loop 1 %.9g", loss[1], loss[0]);
    xb_model_free(m[0]);
    xb_model_free(m[1]);
}

Test(model, loop_bytes_and_flops)
{
    xb_model_cfg mc = mcfg(XB_SHAPE_PAIR, XB_MLP_GLU, 3, 1);
    mc.layers = 1;
    xb_mixer_cfg xc = xcfg(mc.dim, 0);
    int B = 4, N = 32;
    size_t b1 = xb_model_bytes(&mc, &test_mixer_cummean, &xc, B, N);
    mc.loop = 3;
    size_t b3 = xb_model_bytes(&mc, &test_mixer_cummean, &xc, B, N);
    /* two more blocks' saved streams: xa, n1, c, msaved, xb, n2 are (R,d) each, R = 2·B·N */
    size_t Rd = (size_t)2 * B * N * mc.dim;
    cr_expect(b3 >= b1 + 2 * 6 * Rd * sizeof(float), "loop 3 bytes %zu, loop 1 %zu", b3, b1);
    struct mallinfo2 before = mallinfo2();
    xb_model *m;
    char err[256];
    cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, B, N, err, sizeof err), 0, "%s", err);
    struct mallinfo2 after = mallinfo2();
    size_t got = (after.uordblks + after.hblkhd) - (before.uordblks + before.hblkhd);
#ifndef __SANITIZE_ADDRESS__   /* ASan's allocator bypasses glibc's: mallinfo2 sees nothing */
    cr_expect(got >= b3 && got <= b3 + 8192, "create allocated %zu bytes, xb_model_bytes says %zu", got, b3);
#else
    (void)got;
#endif
    xb_model_free(m);
    /* FLOPs: every executed block counts; loop 3 of 1 layer = 3 layers, loop 2 of 2 = 4 */
    double f3 = xb_model_flops(&mc, &test_mixer_cummean, &xc, 100);
    mc.loop = 1; mc.layers = 3;
    cr_expect_eq(f3, xb_model_flops(&mc, &test_mixer_cummean, &xc, 100));
    mc.layers = 4;
    double f4 = xb_model_flops(&mc, &test_mixer_cummean, &xc, 100);
    mc.layers = 2; mc.loop = 2;
    cr_expect_eq(xb_model_flops(&mc, &test_mixer_cummean, &xc, 100), f4);
    mc.loop = -1;
    cr_expect_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, B, N, err, sizeof err), XB_EINVAL);
    cr_expect(strstr(err, "model.loop") != NULL, "message: %s", err);
}

/* Copy every tensor of src into the tensor of dst with the same name; "l0.*" also into
 * "l<j>.*" for j < copies (the unrolled model's tied layers). */
static void tie_copy(xb_model *dst, const xb_model *src, int copies)
{
    char ns[64], nd[64], want[64];
    xb_tensor ts, td;
    const float *S = xb_model_params((xb_model *)src);
    float *D = xb_model_params(dst);
    for (int i = 0; xb_model_tensor(src, i, &ts, ns, sizeof ns); i++) {
        int n = strncmp(ns, "l0.", 3) == 0 ? copies : 1;
        for (int j = 0; j < n; j++) {
            if (j == 0) snprintf(want, sizeof want, "%s", ns);
            else snprintf(want, sizeof want, "l%d.%s", j, ns + 3);
            int found = 0;
            for (int k = 0; !found && xb_model_tensor(dst, k, &td, nd, sizeof nd); k++) {
                if (strcmp(nd, want) != 0) continue;
                cr_assert(td.rows == ts.rows && td.cols == ts.cols, "%s: shapes differ", want);
                memcpy(D + td.offset, S + ts.offset, (size_t)ts.rows * ts.cols * sizeof(float));
                found = 1;
            }
            cr_assert(found, "no tensor %s in the unrolled model", want);
        }
    }
}

/* Relative difference of two gradient tensors (norm of the difference / norm of b). */
static double rel_diff(const float *a, const double *b, size_t n)
{
    double d = 0, nb = 0;
    for (size_t i = 0; i < n; i++) { d += (a[i] - b[i]) * (a[i] - b[i]); nb += b[i] * b[i]; }
    return nb > 0 ? sqrt(d / nb) : sqrt(d);
}

/* For every registered mixer: loop K of one layer == K layers with tied weights. Forward bit
 * for bit; each shared tensor's gradient == the sum of its K tied copies' gradients (this is
 * also where a mixer whose backward overwrites dw instead of accumulating would show). */
Test(model, loop_equals_tied_unrolled_every_mixer)
{
    const int B = 2, N = 12, K = 3;
    for (int mi = 0; mi < xb_n_mixers; mi++) {
        const xb_mixer *mx = xb_mixers[mi];
        int causal = (mx->modes & XB_CAUSAL) != 0;
        xb_shape s = causal ? XB_SHAPE_TOK : XB_SHAPE_CLS;
        xb_model_cfg mc = mcfg(s, XB_MLP_GLU, 2, 1);
        mc.dim = 16; mc.heads = 2; mc.layers = 1; mc.loop = K;
        xb_mixer_cfg xc = xcfg(16, causal);
        xc.heads = 2; xc.n_max = N;
        set_opts(mx, &xc, "window=5 block=4 rank=6 features=8 state=4 order=6 theta=%d chunk=4 d_ff=32", N);
        xb_model *lp, *un;
        char err[256] = "";
        cr_assert_eq(xb_model_create(&lp, &mc, mx, &xc, B, N, err, sizeof err), 0, "%s: %s", mx->name, err);
        mc.layers = K; mc.loop = 1;
        cr_assert_eq(xb_model_create(&un, &mc, mx, &xc, B, N, err, sizeof err), 0, "%s: %s", mx->name, err);
        xb_model_init(lp, 31);
        xb_model_init(un, 32);
        tie_copy(un, lp, K);
        int32_t x[2 * 12], y[2 * 12];
        int len[2];
        make_batch(s, B, N, mc.vocab, mc.n_classes, x, len, y, 13);
        if (!causal) len[1] = N - 3;   /* padding in the bidirectional case */
        float l_lp = xb_model_forward(lp, x, len, y, B);
        float l_un = xb_model_forward(un, x, len, y, B);
        cr_expect(isfinite(l_lp), "%s: loss %g", mx->name, l_lp);
        cr_expect_eq(l_lp, l_un, "%s: loop %d loss %.9g, tied unrolled %.9g", mx->name, K, l_lp, l_un);
        xb_model_backward(lp);
        xb_model_backward(un);
        const float *Gl = xb_model_grads(lp), *Gu = xb_model_grads(un);
        char nl[64], nu[64], want[64];
        xb_tensor tl, tu;
        int tensors = 0;
        for (int i = 0; xb_model_tensor(lp, i, &tl, nl, sizeof nl); i++) {
            if (tl.flags & XB_T_FROZEN) continue;
            size_t n = (size_t)tl.rows * tl.cols;
            double *sum = calloc(n, sizeof *sum);
            int copies = strncmp(nl, "l0.", 3) == 0 ? K : 1;
            for (int j = 0; j < copies; j++) {
                if (j == 0) snprintf(want, sizeof want, "%s", nl);
                else snprintf(want, sizeof want, "l%d.%s", j, nl + 3);
                for (int k = 0; xb_model_tensor(un, k, &tu, nu, sizeof nu); k++)
                    if (!strcmp(nu, want))
                        for (size_t q = 0; q < n; q++) sum[q] += Gu[tu.offset + q];
            }
            double r = rel_diff(Gl + tl.offset, sum, n);
            cr_expect(r < 1e-4, "%s: gradient of %s differs from the sum of its %d tied copies by %.3g (relative)",
                      mx->name, nl, copies, r);
            free(sum);
            tensors++;
        }
        cr_expect(tensors > 8, "%s: %d tensors compared", mx->name, tensors);
        xb_model_free(lp);
        xb_model_free(un);
    }
}
