/* tasks/parity.c — sequence parity (TASKS.md §2.5), shape CLS, 2 classes.
 * L uniform bits written as ids 1 (bit 0) and 2 (bit 1), 0 = PAD (unused: every example
 * is full length); label = XOR of the bits. A state-tracking diagnostic: no mixer is
 * required to pass it. */
#include <stdio.h>

#include "core/task.h"
#include "core/xb.h"

enum { O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_TRAIN] = { "train_examples", 10000, 0, 1e7, 1, "training examples" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples" },
};

static int parity_vocab(const xb_task_cfg *c) { (void)c; return 3; }
static int parity_classes(const xb_task_cfg *c) { (void)c; return 2; }

static int parity_check(const xb_task_cfg *c, char *err, size_t errn)
{
    /* val ∪ test must be distinct and train must avoid them: 2^L examples exist */
    double need = c->opt[O_VAL] + c->opt[O_TEST] + (c->opt[O_TRAIN] > 0);
    if (c->L < 1 || (c->L < 40 && (double)(1ULL << c->L) < need)) {
        snprintf(err, errn, "parity: L = %d has only 2^L distinct sequences, fewer than "
                 "val_examples + test_examples (+1 for train) = %.0f", c->L, need);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void parity_key(const xb_task_cfg *c, char *buf, size_t n) { snprintf(buf, n, "parity:L=%d", c->L); }

static int parity_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    int p = 0;
    for (int i = 0; i < c->L; i++) {
        int b = (int)xb_rng_below(r, 2);
        x[i] = 1 + b;
        p ^= b;
    }
    y[0] = p;
    len[0] = c->L;
    return XB_OK;
}

extern const xb_task xb_task_parity;

static int parity_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                       char *err, size_t errn)
{
    return xb_data_generate(&xb_task_parity, c, parity_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_parity = {
    .name = "parity",
    .desc = "parity: XOR of L bits (state tracking)",
    .cite = "Hahn 2020; Merrill et al. 2024, The Illusion of State in State-Space Models",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = parity_vocab,
    .n_classes = parity_classes,
    .check = parity_check,
    .key = parity_key,
    .load = parity_load,
};
