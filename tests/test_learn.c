/* tests/test_learn.c — learning smoke test for every mixer in mixers/registry.c: a small model
 * around the mixer trains briefly on two tiny synthetic TOK tasks generated here, and the loss
 * must fall (mean of the last 15 steps < 0.8 × mean of the first 5) on at least one of them.
 * Both tasks need token mixing — the model has no short conv, so without the mixer each
 * position sees only its own token and neither task can get below chance:
 *   majority   tokens in {1, 2}; causal: target at even t ≥ N/2 = the majority token of
 *              x_0..x_t; bidirectional: target at t ≥ N/2 = the majority of the whole
 *              sequence (N odd, so no ties); elsewhere IGNORE. Suits global mixers.
 *   previous   tokens in [1, 8); target at t ≥ 1 = x_{t−1}. Suits local/positional mixers.
 *   summary    tokens in {1, 2}; one target per sequence, the majority of the whole sequence,
 *              at position 0 (bidirectional) or N−1 (causal). Suits fixed global transforms
 *              (fnet's DFT gives the plain token sum at position 0 only).
 * A no-mixing control (a mixer whose family says "no mixing", e.g. activator, MIXERS.md §20)
 * cannot solve any of these by design; it is checked on a per-token task instead:
 *   token      tokens in [1, 8); target at every t = (3·x_t) mod 5.
 * The mixer runs in causal mode when it has one, else bidirectional. The same routine also
 * runs on the test-only mixer of tests/test_model.c, so the engine itself is checked while the
 * registry is empty. Sizes: d = 32, N = 17, 2 layers, batch 16, 150 steps, one thread
 * (well under 2 s per mixer). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/model.h"
#include "core/train.h"
#include "core/xb.h"
#include "mixers/registry.h"
#include "tests/mixopt.h"

extern const xb_mixer test_mixer_cummean;   /* tests/test_model.c */

enum { TASK_MAJORITY, TASK_PREVIOUS, TASK_SUMMARY, TASK_TOKEN };
#define LN 17
#define LD 32
#define LSTEPS 150

static void make_data(xb_data *d, int task, int causal, int n, uint64_t seed)
{
    memset(d, 0, sizeof *d);
    int V = task == TASK_MAJORITY || task == TASK_SUMMARY ? 3 : 8;
    d->shape = XB_SHAPE_TOK; d->n = n; d->L = LN; d->vocab = V; d->n_classes = V;
    d->x = malloc((size_t)n * LN * sizeof(int32_t));
    d->y = malloc((size_t)n * LN * sizeof(int32_t));
    d->len = malloc((size_t)n * sizeof(int));
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        int32_t *x = d->x + (size_t)i * LN, *y = d->y + (size_t)i * LN;
        d->len[i] = LN;
        for (int t = 0; t < LN; t++) x[t] = 1 + (int32_t)xb_rng_below(&r, (uint32_t)V - 1);
        int twos_all = 0, twos = 0;
        for (int t = 0; t < LN; t++) twos_all += x[t] == 2;
        for (int t = 0; t < LN; t++) {
            y[t] = XB_IGNORE;
            if (task == TASK_PREVIOUS) { if (t > 0) y[t] = x[t - 1]; continue; }
            if (task == TASK_TOKEN) { y[t] = (3 * x[t]) % 5; continue; }
            if (task == TASK_SUMMARY) {
                if (t == (causal ? LN - 1 : 0)) y[t] = 2 * twos_all > LN ? 2 : 1;
                continue;
            }
            twos += x[t] == 2;
            if (t < LN / 2) continue;
            if (causal && t % 2 == 0) y[t] = 2 * twos > t + 1 ? 2 : 1;
            if (!causal) y[t] = 2 * twos_all > LN ? 2 : 1;
        }
    }
}

static void free_data(xb_data *d) { free(d->x); free(d->y); free(d->len); }

/* Entropy (nats) of the marginal distribution of the counted targets. */
static double chance_loss(const xb_data *d)
{
    double cnt[16] = {0}, tot = 0, h = 0;
    for (size_t i = 0; i < (size_t)d->n * d->L; i++)
        if (d->y[i] != XB_IGNORE) { cnt[d->y[i]]++; tot++; }
    for (int c = 0; c < 16; c++) if (cnt[c] > 0) h -= cnt[c] / tot * log(cnt[c] / tot);
    return h;
}

/* Train on one task; writes the mean loss of the first 5 and the last 15 steps and the
 * chance loss of the training targets. */
static void learn(const xb_mixer *mx, int causal, int task, double *first, double *last, double *chance,
                  int *diverged)
{
    xb_model_cfg mc = {0};
    mc.shape = XB_SHAPE_TOK; mc.vocab = task == TASK_MAJORITY || task == TASK_SUMMARY ? 3 : 8;
    mc.n_classes = mc.vocab;
    mc.dim = LD; mc.layers = 2; mc.heads = 2; mc.mlp = XB_MLP_PLAIN; mc.mlp_ratio = 2;
    mc.short_conv = 0; mc.positions = 1; mc.max_len = LN;
    /* the small option values tests/test_mixers.c uses, so every mixer accepts them */
    xb_mixer_cfg c = {0};
    c.d = LD; c.heads = 2; c.causal = causal; c.n_max = LN;
    set_opts(mx, &c, "window=5 block=4 rank=6 features=8 state=4 order=6 theta=%d chunk=8 d_ff=%d eps=0", LN, 2 * LD);
    c = xb_mixer_resolve(mx, &c);
    xb_model *m;
    char err[256] = "";
    cr_assert_eq(xb_model_create(&m, &mc, mx, &c, 16, LN, err, sizeof err), 0, "%s: %s", mx->name, err);
    xb_model_init(m, xb_fnv1a_str(mx->name));
    xb_data tr, te;
    make_data(&tr, task, causal, 1024, 101 + task);
    make_data(&te, task, causal, 32, 202 + task);
    *chance = chance_loss(&tr);
    xb_train_cfg tc = {0};
    tc.steps = LSTEPS; tc.batch = 16; tc.lr = 3e-3f; tc.warmup = 0.1f; tc.weight_decay = 0.01f;
    tc.clip = 1.0f; tc.beta1 = 0.9f; tc.beta2 = 0.98f; tc.eval_every = LSTEPS; tc.seed = 7;
    xb_train_result r;
    cr_assert_eq(xb_train(m, &tr, NULL, &te, &tc, &r, NULL, NULL), 0);
    *diverged = r.diverged;
    double a = 0, b = 0;
    for (int i = 0; i < 5 && i < r.steps_done; i++) a += r.curve[i];
    for (int i = r.steps_done - 15; i < r.steps_done; i++) b += i >= 0 ? r.curve[i] : NAN;
    *first = a / 5;
    *last = b / 15;
    free(r.curve);
    free_data(&tr); free_data(&te);
    xb_model_free(m);
}

static const char *task_name[] = {"majority", "previous-token", "summary", "per-token"};

static void check_learns(const xb_mixer *mx)
{
    /* one thread: this checks learning, not speed, and products this small (R = 272 rows) are
     * faster serial than threaded by OpenBLAS on a loaded 2-core machine */
    omp_set_num_threads(1);
    int causal = (mx->modes & XB_CAUSAL) != 0;
    int no_mixing = mx->family && strstr(mx->family, "no mixing") != NULL;
    int tasks[3] = {TASK_MAJORITY, TASK_PREVIOUS, TASK_SUMMARY}, nt = 3;
    if (no_mixing) { tasks[0] = TASK_TOKEN; nt = 1; }
    char msg[512] = "";
    size_t at = 0;
    for (int k = 0; k < nt; k++) {
        double f, l, ch;
        int dv;
        learn(mx, causal, tasks[k], &f, &l, &ch, &dv);
        cr_expect(!dv, "%s: training diverged on the %s task", mx->name, task_name[tasks[k]]);
        if (!dv && l < 0.8 * fmin(f, ch)) return;
        at += (size_t)snprintf(msg + at, sizeof msg - at, "%s%s %.3f -> %.3f (chance %.3f)", k ? ", " : "",
                               task_name[tasks[k]], f, l, ch);
    }
    cr_expect_fail("%s (%s): the loss did not fall below 0.8 x min(start, chance) on any task: %s",
                   mx->name, causal ? "causal" : "bidirectional", msg);
}

static int mixer_ids[128];
static int n_mixer_params(void)
{
    for (int i = 0; i < xb_n_mixers && i < 128; i++) mixer_ids[i] = i;
    return xb_n_mixers;
}

ParameterizedTestParameters(learn, mixers) { return cr_make_param_array(int, mixer_ids, n_mixer_params()); }
ParameterizedTest(int *i, learn, mixers) { check_learns(xb_mixers[*i]); }

/* The engine on the test-only mixer, in both modes (its causal cumulative mean and its
 * bidirectional mean both solve the majority task). */
Test(learn, test_mixer)
{
    check_learns(&test_mixer_cummean);
    xb_mixer bid = test_mixer_cummean;
    bid.modes = XB_BIDIR;
    check_learns(&bid);
}
