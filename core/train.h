/* core/train.h — AdamW with warm-up and cosine decay, gradient clipping, the train loop and
 * the eval loop. Batch order comes from a seeded Fisher–Yates shuffle per epoch (TASKS.md
 * §4.1), so the same seed and thread count give bit-identical results. */
#ifndef XB_TRAIN_H
#define XB_TRAIN_H

#include "core/model.h"
#include "core/task.h"

typedef struct xb_train_cfg {
    int steps;
    int batch;
    float lr;
    float warmup;        /* fraction of steps of linear warm-up, then cosine decay to 0 */
    float weight_decay;  /* decoupled, on XB_T_DECAY tensors only */
    float clip;          /* global gradient-norm clip, 0 = off */
    float beta1, beta2;  /* AdamW moments */
    int eval_every;      /* evaluate val every this many steps (0 = steps / 10) */
    float early_stop;    /* stop once val accuracy ≥ this (0 = never) */
    uint64_t seed;       /* batch-order stream seed */
} xb_train_cfg;

typedef struct xb_train_result {
    double test_acc;     /* test accuracy of the best-val checkpoint (last if no val) */
    double val_acc;      /* best val accuracy (-1 without val) */
    double final_loss;   /* mean train loss over the last 10% of steps */
    double train_time_s;
    int steps_done;
    int diverged;        /* 1: a loss or gradient norm was NaN/inf (training stopped) */
    float *curve;        /* loss per step (steps_done entries), malloc'd: caller frees */
} xb_train_result;

/* Progress callback: return non-zero to stop training early (e.g. on SIGTERM). May be NULL. */
typedef int (*xb_progress_fn)(void *ctx, int step, int steps, float loss);

int xb_train(xb_model *m, const xb_data *train, const xb_data *val, const xb_data *test,
             const xb_train_cfg *tc, xb_train_result *res, xb_progress_fn fn, void *ctx);
/* Accuracy (TASKS.md §0.3) of the model on a data set, in batches of the model's B_max. */
double xb_evaluate(xb_model *m, const xb_data *d);

#endif
