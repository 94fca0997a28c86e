/* tasks/induction_heads.c — induction heads (H3 / Mamba paper; TASKS.md §2.3), shape TOK.
 *
 * Ids: 0..V−3 ordinary tokens, V−2 the trigger ("copy prefix"), V−1 reserved ("noop",
 * never emitted). One example of length L = N + 1: N ordinary tokens i.i.d. uniform; the
 * token at a uniform position p ∈ 0..N−3 is replaced by the trigger, the token after it
 * (x = token at p+1) is kept; the trigger is appended at position N, whose target is x.
 * Every other target is IGNORE (TASKS.md's default; Safari's full next-token variant is
 * not offered: the data contract has one target array for loss and score alike). */
#include <stdio.h>

#include "core/task.h"
#include "core/xb.h"

enum { O_V, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_V]     = { "vocab", 16, 4, 65536, 1, "vocabulary V: V-2 ordinary tokens, trigger V-2, reserved V-1" },
    [O_TRAIN] = { "train_examples", 20000, 0, 1e7, 1, "training examples" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples" },
};

static int ih_vocab(const xb_task_cfg *c) { return (int)c->opt[O_V]; }

static int ih_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int V = (int)c->opt[O_V];
    if (V < 4) {
        snprintf(err, errn, "induction_heads: option 'vocab' = %d must be at least 4", V);
        return XB_EINVAL;
    }
    if (c->L < 4) {
        snprintf(err, errn, "induction_heads: sequence length L = %d must be at least 4 (N = L - 1 >= 3)", c->L);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void ih_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "induction_heads:V=%d,N=%d,L=%d", (int)c->opt[O_V], c->L - 1, c->L);
}

static int ih_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    int V = (int)c->opt[O_V], L = c->L, N = L - 1;
    for (int i = 0; i < N; i++) { x[i] = (int32_t)xb_rng_below(r, (uint32_t)(V - 2)); y[i] = XB_IGNORE; }
    int p = (int)xb_rng_below(r, (uint32_t)(N - 2));
    x[p] = V - 2;
    x[N] = V - 2;
    y[N] = x[p + 1];
    len[0] = L;
    return XB_OK;
}

extern const xb_task xb_task_induction_heads;

static int ih_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                   char *err, size_t errn)
{
    return xb_data_generate(&xb_task_induction_heads, c, ih_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_induction_heads = {
    .name = "induction_heads",
    .desc = "induction heads: after the second trigger, recall the token that followed the first",
    .cite = "Olsson et al. 2022; Fu et al. 2023, H3 (HazyResearch/safari); Gu & Dao 2023, Mamba",
    .shape = XB_SHAPE_TOK,
    .opts = opts,
    .n_opts = O_N,
    .vocab = ih_vocab,
    .n_classes = ih_vocab,
    .check = ih_check,
    .key = ih_key,
    .load = ih_load,
};
