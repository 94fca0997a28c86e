/* core/train.c — the train loop (AdamW, warm-up + cosine schedule, global-norm clipping,
 * seeded Fisher–Yates batch order, val-based checkpoint selection, early stop, divergence
 * detection) and the eval loop (TASKS.md §0.3 accuracy).
 *
 * Batch order: epoch e is a Fisher–Yates shuffle of 0..n−1 drawn from
 * xb_stream_seed(tc->seed, 0, "order", e) — the caller folds the task key into tc->seed.
 * Batches are consecutive slices of the permutation; a tail shorter than the batch is dropped
 * (the next epoch starts), unless the set is smaller than one batch, then the batch is n.
 *
 * Checkpoint: after each val evaluation that improves the best val accuracy the parameters are
 * copied into a snapshot buffer (allocated once at the start, n_params floats, beside the
 * batch buffers and the loss curve — the only allocations, none per step). At the end the
 * best-val parameters are restored into the model and the test split is evaluated once. Val
 * is evaluated every eval_every steps and after the last step. */
#include "core/train.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/adamw.h"
#include "core/clock.h"
#include "core/xb.h"

static int per_example_x(const xb_data *d) { return (d->shape == XB_SHAPE_PAIR ? 2 : 1) * d->L; }
static int per_example_len(const xb_data *d) { return d->shape == XB_SHAPE_PAIR ? 2 : 1; }
static int per_example_y(const xb_data *d) { return d->shape == XB_SHAPE_TOK ? d->L : 1; }

double xb_evaluate(xb_model *m, const xb_data *d)
{
    if (!d || d->n <= 0) return 0.0;
    XB_ASSERT(d->L == xb_model_seq_len(m));
    int B = xb_model_batch(m), px = per_example_x(d), pl = per_example_len(d), py = per_example_y(d);
    double sum = 0.0;
    long count = 0;
    for (int i0 = 0; i0 < d->n; i0 += B) {
        int b = xb_min(B, d->n - i0);
        xb_model_forward(m, d->x + (size_t)i0 * px, d->len + (size_t)i0 * pl, d->y + (size_t)i0 * py, b);
        double s;
        int c;
        xb_model_accuracy(m, &s, &c);
        sum += s;
        count += c;
    }
    return count ? sum / (double)count : 0.0;
}

static void shuffle(int *perm, int n, uint64_t seed)
{
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)xb_rng_below(&r, (uint32_t)(i + 1));
        int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
    }
}

int xb_train(xb_model *m, const xb_data *train, const xb_data *val, const xb_data *test,
             const xb_train_cfg *tc, xb_train_result *res, xb_progress_fn fn, void *ctx)
{
    memset(res, 0, sizeof *res);
    res->val_acc = -1.0;
    res->test_acc = -1.0;
    if (!train || train->n < 1 || tc->steps < 1 || tc->batch < 1) return XB_EINVAL;
    if (tc->batch > xb_model_batch(m) || train->L != xb_model_seq_len(m)) return XB_EINVAL;
    int has_val = val && val->n > 0;
    int n = train->n, bsz = xb_min(tc->batch, n);
    int px = per_example_x(train), pl = per_example_len(train), py = per_example_y(train);
    size_t np = xb_model_n_params(m);
    int *perm = malloc((size_t)n * sizeof(int));
    int32_t *bx = malloc((size_t)bsz * px * sizeof(int32_t));
    int *blen = malloc((size_t)bsz * pl * sizeof(int));
    int32_t *by = malloc((size_t)bsz * py * sizeof(int32_t));
    float *curve = malloc((size_t)tc->steps * sizeof(float));
    float *snap = has_val ? malloc(np * sizeof(float)) : NULL;
    if (!perm || !bx || !blen || !by || !curve || (has_val && !snap)) {
        free(perm); free(bx); free(blen); free(by); free(curve); free(snap);
        return XB_ENOMEM;
    }
    float *P = xb_model_params(m), *G = xb_model_grads(m);
    float *M1 = xb_model_adam_m(m), *M2 = xb_model_adam_v(m);
    const unsigned char *flags = xb_model_flags(m);
    int eval_every = tc->eval_every > 0 ? tc->eval_every : xb_max(1, tc->steps / 10);
    double best = -1.0;
    int have_snap = 0, evaluated_last = 0, epoch = 0, pos = n, done = 0;
    double t0 = xb_now();

    for (int step = 0; step < tc->steps; step++) {
        if (pos + bsz > n) { shuffle(perm, n, xb_stream_seed(tc->seed, 0, "order", (uint64_t)epoch++)); pos = 0; }
        for (int k = 0; k < bsz; k++) {
            int i = perm[pos + k];
            memcpy(bx + (size_t)k * px, train->x + (size_t)i * px, (size_t)px * sizeof(int32_t));
            memcpy(blen + (size_t)k * pl, train->len + (size_t)i * pl, (size_t)pl * sizeof(int));
            memcpy(by + (size_t)k * py, train->y + (size_t)i * py, (size_t)py * sizeof(int32_t));
        }
        pos += bsz;
        float loss = xb_model_forward(m, bx, blen, by, bsz);
        curve[step] = loss;
        done = step + 1;
        evaluated_last = 0;
        if (!isfinite(loss)) { res->diverged = 1; break; }
        xb_model_backward(m);
        double gn = xb_grad_norm(G, flags, np);
        if (!isfinite(gn)) { res->diverged = 1; break; }
        float scale = tc->clip > 0.0f && gn > tc->clip ? (float)(tc->clip / gn) : 1.0f;
        float lr = xb_lr_at(tc->lr, tc->warmup, tc->steps, step);
        xb_adamw_step(P, G, M1, M2, flags, np, lr, tc->beta1, tc->beta2, tc->weight_decay, scale, step + 1);
        int stop = 0;
        if (has_val && (done % eval_every == 0 || done == tc->steps)) {
            double acc = xb_evaluate(m, val);
            evaluated_last = 1;
            if (acc > best) { best = acc; memcpy(snap, P, np * sizeof(float)); have_snap = 1; }
            if (tc->early_stop > 0.0f && acc >= tc->early_stop) stop = 1;
        }
        if (fn && fn(ctx, done, tc->steps, loss)) stop = 1;
        if (stop) break;
    }
    if (has_val && !res->diverged && !evaluated_last) {   /* stopped between evaluations */
        double acc = xb_evaluate(m, val);
        if (acc > best) { best = acc; memcpy(snap, P, np * sizeof(float)); have_snap = 1; }
    }
    res->train_time_s = xb_now() - t0;
    res->steps_done = done;
    res->curve = curve;
    int tail = xb_max(1, done / 10);
    double s = 0.0;
    for (int i = done - tail; i < done; i++) s += curve[i];
    res->final_loss = done ? s / tail : NAN;
    if (has_val) res->val_acc = best;
    if (have_snap) memcpy(P, snap, np * sizeof(float));   /* the best-val checkpoint */
    if (test && test->n > 0) res->test_acc = res->diverged && !have_snap ? 0.0 : xb_evaluate(m, test);
    free(perm); free(bx); free(blen); free(by); free(snap);
    return XB_OK;
}
