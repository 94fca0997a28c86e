/* tasks/selective_copy.c — selective copying (Mamba paper; TASKS.md §2.2), shape TOK.
 *
 * Ids: 0 blank, 1..A−2 data tokens, A−1 the "copy now" marker. One example of length
 * L = R + M: M data tokens drawn uniformly with replacement are placed, in order, at M
 * distinct positions of the region 0..R−1 (uniform, sorted; `variable` = 0 puts them at
 * 0..M−1, the fixed-spacing copying task), the rest of the region is blank, then M
 * markers follow. Targets: IGNORE on the region; at the j-th marker, the j-th data token.
 * The cell's L fixes the region: R = L − M. */
#include <stdio.h>

#include "core/task.h"
#include "core/xb.h"

enum { O_A, O_M, O_VAR, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_A]     = { "alphabet", 10, 3, 65536, 1, "alphabet size A: 0 blank, 1..A-2 data, A-1 marker" },
    [O_M]     = { "data_tokens", 8, 1, 65536, 1, "data tokens M to copy (region R = L - M >= M)" },
    [O_VAR]   = { "variable", 1, 0, 1, 1, "1: random positions (selective); 0: positions 0..M-1" },
    [O_TRAIN] = { "train_examples", 20000, 0, 1e7, 1, "training examples" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples" },
};

static int sc_vocab(const xb_task_cfg *c) { return (int)c->opt[O_A]; }

static int sc_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int A = (int)c->opt[O_A], M = (int)c->opt[O_M];
    if (A < 3) {
        snprintf(err, errn, "selective_copy: option 'alphabet' = %d must be at least 3", A);
        return XB_EINVAL;
    }
    if (M < 1 || c->L - M < M) {
        snprintf(err, errn, "selective_copy: option 'data_tokens' = %d needs 1 <= data_tokens and "
                 "2*data_tokens <= L = %d (region R = L - data_tokens)", M, c->L);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void sc_key(const xb_task_cfg *c, char *buf, size_t n)
{
    int M = (int)c->opt[O_M];
    snprintf(buf, n, "selective_copy:A=%d,M=%d,R=%d,L=%d,variable=%d", (int)c->opt[O_A], M,
             c->L - M, c->L, (int)c->opt[O_VAR]);
}

static int sc_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    int A = (int)c->opt[O_A], M = (int)c->opt[O_M], L = c->L, R = L - M;
    for (int i = 0; i < L; i++) { x[i] = 0; y[i] = XB_IGNORE; }
    /* Selection sampling (Knuth's algorithm S): position t is taken with probability
     * (still needed)/(still available), which yields a uniform sorted M-subset. */
    int j = 0;
    for (int t = 0; t < R && j < M; t++) {
        int take = c->opt[O_VAR] == 0 ? 1 : (int)xb_rng_below(r, (uint32_t)(R - t)) < M - j;
        if (!take) continue;
        int32_t d = 1 + (int32_t)xb_rng_below(r, (uint32_t)(A - 2));
        x[t] = d;
        x[R + j] = A - 1;
        y[R + j] = d;
        j++;
    }
    len[0] = L;
    return XB_OK;
}

extern const xb_task xb_task_selective_copy;

static int sc_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                   char *err, size_t errn)
{
    return xb_data_generate(&xb_task_selective_copy, c, sc_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_selective_copy = {
    .name = "selective_copy",
    .desc = "selective copying: emit the scattered data tokens in order at the markers",
    .cite = "Gu & Dao 2023, Mamba (selective copying); Arjovsky et al. 2016 (copying)",
    .shape = XB_SHAPE_TOK,
    .opts = opts,
    .n_opts = O_N,
    .vocab = sc_vocab,
    .n_classes = sc_vocab,
    .check = sc_check,
    .key = sc_key,
    .load = sc_load,
};
