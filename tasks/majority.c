/* tasks/majority.c — counting / majority (TASKS.md §2.5), shape CLS.
 * L tokens uniform over ids 1..C. Label (count_mod = 0): the most frequent id, ties to
 * the smallest id, as class id − 1 (C classes) — a positive control that pooling solves.
 * Variant count_mod = m ≥ 2: label = (occurrences of id 1) mod m (m classes). */
#include <stdio.h>

#include "core/task.h"
#include "core/xb.h"

enum { O_C, O_MOD, O_TRAIN, O_VAL, O_TEST, O_N };

#define MAX_C 1024

static const xb_opt opts[O_N] = {
    [O_C]     = { "classes", 4, 2, MAX_C, 1, "alphabet size C (ids 1..C)" },
    [O_MOD]   = { "count_mod", 0, 0, 1024, 1, "0: majority label; m >= 2: (count of id 1) mod m" },
    [O_TRAIN] = { "train_examples", 10000, 0, 1e7, 1, "training examples" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples" },
};

static int maj_vocab(const xb_task_cfg *c) { return (int)c->opt[O_C] + 1; }
static int maj_classes(const xb_task_cfg *c)
{
    return c->opt[O_MOD] >= 2 ? (int)c->opt[O_MOD] : (int)c->opt[O_C];
}

static int maj_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int C = (int)c->opt[O_C], m = (int)c->opt[O_MOD];
    if (C < 2 || C > MAX_C) {
        snprintf(err, errn, "majority: option 'classes' = %d must be in 2..%d", C, MAX_C);
        return XB_EINVAL;
    }
    if (m == 1 || m < 0) {
        snprintf(err, errn, "majority: option 'count_mod' = %d must be 0 (majority) or at least 2", m);
        return XB_EINVAL;
    }
    double space = 1, need = c->opt[O_VAL] + c->opt[O_TEST] + (c->opt[O_TRAIN] > 0);
    for (int i = 0; i < c->L && space < need; i++) space *= C;
    if (c->L < 1 || space < need) {
        snprintf(err, errn, "majority: L = %d has only classes^L = %.0f distinct sequences, fewer than "
                 "val_examples + test_examples (+1 for train) = %.0f", c->L, space, need);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void maj_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "majority:C=%d,mod=%d,L=%d", (int)c->opt[O_C], (int)c->opt[O_MOD], c->L);
}

static int maj_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    int C = (int)c->opt[O_C], m = (int)c->opt[O_MOD];
    int count[MAX_C + 1] = {0};
    for (int i = 0; i < c->L; i++) {
        x[i] = 1 + (int32_t)xb_rng_below(r, (uint32_t)C);
        count[x[i]]++;
    }
    int best = 1;
    for (int k = 2; k <= C; k++) if (count[k] > count[best]) best = k;   /* strict: ties keep the smaller id */
    y[0] = m >= 2 ? count[1] % m : best - 1;
    len[0] = c->L;
    return XB_OK;
}

extern const xb_task xb_task_majority;

static int maj_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                    char *err, size_t errn)
{
    return xb_data_generate(&xb_task_majority, c, maj_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_majority = {
    .name = "majority",
    .desc = "majority: the most frequent of C symbols (ties: smallest id); or count of id 1 mod m",
    .cite = "xbench positive control (a task pooling alone can solve)",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = maj_vocab,
    .n_classes = maj_classes,
    .check = maj_check,
    .key = maj_key,
    .load = maj_load,
};
