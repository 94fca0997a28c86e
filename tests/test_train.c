/* tests/test_train.c — core/train.c and core/adamw.c: bit-identical loss curves for the same
 * seed, the warm-up/cosine schedule, the gradient norm and clipping, AdamW against a
 * hand-written double reference, weight decay only on XB_T_DECAY and frozen buffers never
 * touched, divergence detection (a NaN-injecting test mixer), early stop, the progress
 * callback, and that the returned val/test accuracies are those of the restored best-val
 * parameters. Data sets are built by hand here (xb_data fields filled directly). */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/adamw.h"
#include "core/model.h"
#include "core/train.h"
#include "core/xb.h"

extern const xb_mixer test_mixer_cummean;   /* tests/test_model.c */

/* TOK data: tokens in [1, V), target at t ≥ 1 = token at t−1, IGNORE at t = 0. */
static void tok_data(xb_data *d, int n, int L, int V, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->shape = XB_SHAPE_TOK; d->n = n; d->L = L; d->vocab = V; d->n_classes = V;
    d->x = malloc((size_t)n * L * sizeof(int32_t));
    d->y = malloc((size_t)n * L * sizeof(int32_t));
    d->len = malloc((size_t)n * sizeof(int));
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        d->len[i] = L;
        for (int t = 0; t < L; t++) {
            d->x[i * L + t] = 1 + (int32_t)xb_rng_below(&r, (uint32_t)V - 1);
            d->y[i * L + t] = t ? d->x[i * L + t - 1] : XB_IGNORE;
        }
    }
}

/* CLS data: majority of tokens 1/2 over a random real length (odd), PAD 0 after it. */
static void cls_data(xb_data *d, int n, int L, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    d->shape = XB_SHAPE_CLS; d->n = n; d->L = L; d->vocab = 3; d->n_classes = 2;
    d->x = calloc((size_t)n * L, sizeof(int32_t));
    d->y = malloc((size_t)n * sizeof(int32_t));
    d->len = malloc((size_t)n * sizeof(int));
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int len = 1 + 2 * (int)xb_rng_below(&r, (uint32_t)(L + 1) / 2), ones = 0;
        d->len[i] = len;
        for (int t = 0; t < len; t++) { d->x[i * L + t] = 1 + (int32_t)xb_rng_below(&r, 2); ones += d->x[i * L + t] == 1; }
        d->y[i] = 2 * ones > len;
    }
}

static void data_free(xb_data *d) { free(d->x); free(d->y); free(d->len); }

static xb_model *tok_model(const xb_mixer *mx, int B, int N, int V, int causal)
{
    xb_model_cfg mc = {0};
    mc.shape = XB_SHAPE_TOK; mc.vocab = V; mc.n_classes = V; mc.dim = 16; mc.layers = 2; mc.heads = 1;
    mc.mlp = XB_MLP_GLU; mc.mlp_ratio = 2; mc.short_conv = 2; mc.positions = 1;
    xb_mixer_cfg xc = {0};
    xc.d = 16; xc.heads = 1; xc.causal = causal; xc.n_max = N;
    xb_model *m;
    char err[256];
    cr_assert_eq(xb_model_create(&m, &mc, mx, &xc, B, N, err, sizeof err), 0, "%s", err);
    xb_model_init(m, 9);
    return m;
}

static xb_train_cfg tcfg(int steps)
{
    xb_train_cfg tc = {0};
    tc.steps = steps; tc.batch = 8; tc.lr = 3e-3f; tc.warmup = 0.1f; tc.weight_decay = 0.1f; tc.clip = 1.0f;
    tc.beta1 = 0.9f; tc.beta2 = 0.98f; tc.eval_every = 10; tc.seed = 4242;
    return tc;
}

/* ---- determinism ------------------------------------------------------------------------------ */

Test(train, deterministic_curves)
{
    xb_data tr, va, te;
    tok_data(&tr, 100, 12, 6, 1); tok_data(&va, 20, 12, 6, 2); tok_data(&te, 20, 12, 6, 3);
    xb_train_cfg tc = tcfg(30);
    xb_train_result r[3];
    for (int k = 0; k < 3; k++) {
        xb_model *m = tok_model(&test_mixer_cummean, 8, 12, 6, 1);
        if (k == 2) tc.seed = 4243;   /* another batch order */
        cr_assert_eq(xb_train(m, &tr, &va, &te, &tc, &r[k], NULL, NULL), 0);
        xb_model_free(m);
    }
    cr_assert_eq(r[0].steps_done, 30);
    cr_assert_eq(r[1].steps_done, 30);
    cr_expect_eq(memcmp(r[0].curve, r[1].curve, 30 * sizeof(float)), 0, "same seed: loss curves differ");
    cr_expect_eq(r[0].test_acc, r[1].test_acc);
    cr_expect_eq(r[0].val_acc, r[1].val_acc);
    cr_expect_eq(r[0].final_loss, r[1].final_loss);
    cr_expect_neq(memcmp(r[0].curve, r[2].curve, 30 * sizeof(float)), 0, "another seed gave the same curve");
    double s = 0;
    for (int i = 27; i < 30; i++) s += r[0].curve[i];
    cr_expect_float_eq(r[0].final_loss, s / 3, 1e-12, "final loss = mean of the last 10%% of steps");
    for (int k = 0; k < 3; k++) free(r[k].curve);
    data_free(&tr); data_free(&va); data_free(&te);
}

/* ---- schedule, norm, AdamW --------------------------------------------------------------------- */

Test(train, lr_schedule)
{
    cr_expect_float_eq(xb_lr_at(1.0f, 0.1f, 100, 0), 0.1f, 1e-7);
    cr_expect_float_eq(xb_lr_at(1.0f, 0.1f, 100, 4), 0.5f, 1e-7);
    cr_expect_float_eq(xb_lr_at(1.0f, 0.1f, 100, 9), 1.0f, 1e-7);
    cr_expect_float_eq(xb_lr_at(1.0f, 0.1f, 100, 10), 1.0f, 1e-7);       /* cosine starts at the peak */
    cr_expect_float_eq(xb_lr_at(1.0f, 0.1f, 100, 55), 0.5f, 1e-6);       /* half-way through the decay */
    cr_expect_float_eq(xb_lr_at(2.0f, 0.1f, 100, 32), 2 * 0.5 * (1 + cos(M_PI * 22 / 90.0)), 1e-6);
    float last = xb_lr_at(1.0f, 0.1f, 100, 99);
    cr_expect(last > 0 && last < 1e-3f, "last step lr %g", last);
    cr_expect_float_eq(xb_lr_at(1.0f, 0.0f, 50, 0), 1.0f, 1e-7, "no warm-up starts at the peak");
    for (int s = 10; s < 99; s++) cr_expect(xb_lr_at(1.0f, 0.1f, 100, s + 1) <= xb_lr_at(1.0f, 0.1f, 100, s));
}

Test(train, grad_norm_and_clip)
{
    float g[5] = {3, 4, 100, 0, 0};
    unsigned char f[5] = {0, XB_T_DECAY, XB_T_FROZEN, 0, 0};
    cr_expect_float_eq(xb_grad_norm(g, f, 5), 5.0, 1e-12, "frozen floats are not in the norm");
    cr_expect_float_eq(xb_grad_norm(g, NULL, 2), 5.0, 1e-12);
    /* clipping = scaling the gradient: gscale s gives the same step as a gradient s·g */
    float p1[4] = {1, -2, 3, 0.5f}, p2[4], m1[4] = {0}, v1[4] = {0}, m2[4] = {0}, v2[4] = {0};
    float gg[4] = {0.3f, -2.0f, 7.0f, 1e-3f}, gs[4];
    memcpy(p2, p1, sizeof p1);
    for (int i = 0; i < 4; i++) gs[i] = gg[i] * 0.25f;
    for (int t = 1; t <= 3; t++) {
        xb_adamw_step(p1, gg, m1, v1, NULL, 4, 0.01f, 0.9f, 0.98f, 0.0f, 0.25f, t);
        xb_adamw_step(p2, gs, m2, v2, NULL, 4, 0.01f, 0.9f, 0.98f, 0.0f, 1.0f, t);
    }
    cr_expect_eq(memcmp(p1, p2, sizeof p1), 0);
}

Test(train, adamw_reference_decay_frozen)
{
    float p[3] = {1.0f, 1.0f, 1.0f}, m[3] = {0}, v[3] = {0};
    unsigned char fl[3] = {XB_T_DECAY, 0, XB_T_FROZEN};
    const float g1[3] = {0.5f, 0.5f, 0.5f}, g2[3] = {-0.2f, -0.2f, -0.2f};
    double lr = 0.1, wd = 0.5, b1 = 0.9, b2 = 0.98;
    double pr[2] = {1, 1}, mr[2] = {0, 0}, vr[2] = {0, 0};
    for (int t = 1; t <= 2; t++) {
        const float *g = t == 1 ? g1 : g2;
        xb_adamw_step(p, g, m, v, fl, 3, (float)lr, (float)b1, (float)b2, (float)wd, 1.0f, t);
        for (int i = 0; i < 2; i++) {   /* reference AdamW (decoupled decay on i = 0 only) */
            if (i == 0) pr[i] -= lr * wd * pr[i];
            mr[i] = b1 * mr[i] + (1 - b1) * g[i];
            vr[i] = b2 * vr[i] + (1 - b2) * (double)g[i] * g[i];
            pr[i] -= lr * (mr[i] / (1 - pow(b1, t))) / (sqrt(vr[i] / (1 - pow(b2, t))) + 1e-8);
        }
    }
    cr_expect_float_eq(p[0], pr[0], 1e-6);
    cr_expect_float_eq(p[1], pr[1], 1e-6);
    cr_expect(p[0] != p[1], "decay made no difference");
    cr_expect_eq(p[2], 1.0f, "frozen parameter changed");
    cr_expect_eq(m[2], 0.0f);
    /* zero gradient: only decay moves a parameter */
    float q[2] = {2.0f, 2.0f}, mq[2] = {0}, vq[2] = {0}, z[2] = {0};
    unsigned char fq[2] = {XB_T_DECAY, 0};
    xb_adamw_step(q, z, mq, vq, fq, 2, 0.1f, 0.9f, 0.98f, 0.5f, 1.0f, 1);
    cr_expect_float_eq(q[0], 2.0f * (1 - 0.05f), 1e-6);
    cr_expect_eq(q[1], 2.0f);
}

Test(train, frozen_unchanged_after_training)
{
    xb_data tr, te;
    tok_data(&tr, 64, 10, 5, 1); tok_data(&te, 16, 10, 5, 3);
    xb_model *m = tok_model(&test_mixer_cummean, 8, 10, 5, 0);
    size_t np = xb_model_n_params(m);
    float *before = malloc(np * sizeof(float));
    memcpy(before, xb_model_params(m), np * sizeof(float));
    xb_train_cfg tc = tcfg(20);
    xb_train_result r;
    cr_assert_eq(xb_train(m, &tr, NULL, &te, &tc, &r, NULL, NULL), 0);
    const unsigned char *fl = xb_model_flags(m);
    const float *P = xb_model_params(m);
    size_t frozen = 0, moved = 0;
    for (size_t i = 0; i < np; i++) {
        if (fl[i] & XB_T_FROZEN) { frozen++; cr_assert_eq(P[i], before[i], "frozen float %zu changed", i); }
        else moved += P[i] != before[i];
    }
    cr_expect(frozen >= 2 * 16, "the mixers' F buffers are frozen");
    cr_expect(moved > np / 2, "training moved only %zu of %zu parameters", moved, np);
    cr_expect_eq(r.val_acc, -1.0, "no val → -1");
    cr_expect(r.test_acc >= 0 && r.test_acc <= 1);
    free(before); free(r.curve);
    xb_model_free(m);
    data_free(&tr); data_free(&te);
}

/* ---- divergence ------------------------------------------------------------------------------- */

static int nan_calls;

static void nan_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    test_mixer_cummean.forward(c, w, x, len, y, saved, scratch, B, N);
    if (++nan_calls > 2 * 6) y[0] = NAN;   /* two layers: the 7th training step goes NaN */
}

Test(train, diverged_on_nan)
{
    xb_mixer nm = test_mixer_cummean;
    nm.forward = nan_forward;
    xb_data tr, te;
    tok_data(&tr, 64, 10, 5, 1); tok_data(&te, 16, 10, 5, 3);
    xb_model *m = tok_model(&nm, 8, 10, 5, 1);
    xb_train_cfg tc = tcfg(50);
    xb_train_result r;
    nan_calls = 0;
    cr_assert_eq(xb_train(m, &tr, NULL, &te, &tc, &r, NULL, NULL), 0);
    cr_expect_eq(r.diverged, 1);
    cr_expect_eq(r.steps_done, 7);
    cr_expect(isnan(r.curve[6]) && isfinite(r.curve[5]));
    free(r.curve);
    xb_model_free(m);
    data_free(&tr); data_free(&te);
}

Test(train, diverged_on_huge_lr)
{
    xb_data tr, te;
    tok_data(&tr, 64, 10, 5, 1); tok_data(&te, 16, 10, 5, 3);
    xb_model *m = tok_model(&test_mixer_cummean, 8, 10, 5, 1);
    xb_train_cfg tc = tcfg(200);
    tc.lr = 1e30f; tc.clip = 0; tc.warmup = 0;
    xb_train_result r;
    cr_assert_eq(xb_train(m, &tr, NULL, &te, &tc, &r, NULL, NULL), 0);
    cr_expect_eq(r.diverged, 1, "lr 1e30 did not diverge");
    cr_expect(r.steps_done < 200);
    free(r.curve);
    xb_model_free(m);
    data_free(&tr); data_free(&te);
}

/* ---- early stop, callback, checkpoint ----------------------------------------------------------- */

static int cb_stop_at, cb_calls, cb_last;
static int progress(void *ctx, int step, int steps, float loss)
{
    (void)ctx; (void)steps;
    cb_calls++;
    cr_assert_eq(step, cb_last + 1, "callback steps in order");
    cr_assert(isfinite(loss));
    cb_last = step;
    return step == cb_stop_at;
}

Test(train, callback_and_early_stop)
{
    xb_data tr, va, te;
    cls_data(&tr, 80, 9, 1); cls_data(&va, 30, 9, 2); cls_data(&te, 30, 9, 3);
    xb_model_cfg mc = {0};
    mc.shape = XB_SHAPE_CLS; mc.vocab = 3; mc.n_classes = 2; mc.dim = 16; mc.layers = 1; mc.heads = 1;
    mc.mlp = XB_MLP_PLAIN; mc.mlp_ratio = 2; mc.positions = 0;
    xb_mixer_cfg xc = {0};
    xc.d = 16; xc.heads = 1; xc.causal = 0; xc.n_max = 9;
    xb_model *m;
    char err[256];
    cr_assert_eq(xb_model_create(&m, &mc, &test_mixer_cummean, &xc, 8, 9, err, sizeof err), 0, "%s", err);
    xb_model_init(m, 3);
    xb_train_cfg tc = tcfg(40);
    xb_train_result r;
    cb_stop_at = 7; cb_calls = 0; cb_last = 0;
    cr_assert_eq(xb_train(m, &tr, &va, &te, &tc, &r, progress, NULL), 0);
    cr_expect_eq(r.steps_done, 7);
    cr_expect_eq(cb_calls, 7);
    cr_expect(r.val_acc >= 0, "val evaluated after a stop between evaluations");
    /* the model holds the best-val parameters: its accuracies are the reported ones */
    cr_expect_eq(xb_evaluate(m, &va), r.val_acc);
    cr_expect_eq(xb_evaluate(m, &te), r.test_acc);
    free(r.curve);

    xb_model_init(m, 3);
    tc.early_stop = 1e-6f;   /* any nonzero val accuracy stops at the first evaluation */
    cb_stop_at = -1; cb_calls = 0; cb_last = 0;
    cr_assert_eq(xb_train(m, &tr, &va, &te, &tc, &r, progress, NULL), 0);
    cr_expect_eq(r.steps_done, 10, "early stop at the first val evaluation, got %d steps", r.steps_done);
    cr_expect(r.val_acc > 0);
    free(r.curve);

    xb_model_init(m, 3);
    tc.early_stop = 0; tc.eval_every = 0;   /* 0 → steps / 10 = 4 */
    tc.steps = 12;
    cr_assert_eq(xb_train(m, &tr, &va, &te, &tc, &r, NULL, NULL), 0);
    cr_expect_eq(r.steps_done, 12);
    cr_expect_eq(xb_evaluate(m, &te), r.test_acc);
    free(r.curve);
    xb_model_free(m);
    data_free(&tr); data_free(&va); data_free(&te);
}
