/* tasks/passkey.c — passkey / needle retrieval (TASKS.md §2.4), shape TOK.
 *
 * Ids: 0..9 digits, 10 KEY, 11 QUERY, 12..12+F−1 filler. One example of length L:
 * filler = the cycle 12, 13, …, 12+F−1 with a uniform phase; the needle KEY d_1 … d_D
 * (digits uniform) overwrites it from a uniform start s ∈ 0..L−2D−1, so it ends before
 * the query block; the last D positions are QUERY d_1 … d_{D−1} (teacher forcing).
 * Targets: at QUERY → d_1, at d_j → d_{j+1}; IGNORE elsewhere. (The needle depth s is not
 * stored: the data contract has no per-example metadata; the byte-level variant of
 * TASKS.md is not offered.) */
#include <stdio.h>

#include "core/task.h"
#include "core/xb.h"

enum { O_D, O_F, O_TRAIN, O_VAL, O_TEST, O_N };

enum { T_KEY = 10, T_QUERY = 11, T_FILL0 = 12 };

static const xb_opt opts[O_N] = {
    [O_D]     = { "digits", 5, 1, 1024, 1, "digits D of the passkey (L >= 2D + 1)" },
    [O_F]     = { "fillers", 8, 1, 1024, 1, "filler ids F (cyclic filler pattern)" },
    [O_TRAIN] = { "train_examples", 20000, 0, 1e7, 1, "training examples" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples" },
};

static int pk_vocab(const xb_task_cfg *c) { return T_FILL0 + (int)c->opt[O_F]; }

static int pk_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int D = (int)c->opt[O_D], F = (int)c->opt[O_F];
    if (D < 1 || c->L < 2 * D + 1) {
        snprintf(err, errn, "passkey: option 'digits' = %d needs 1 <= digits and 2*digits + 1 <= L = %d", D, c->L);
        return XB_EINVAL;
    }
    if (F < 1) {
        snprintf(err, errn, "passkey: option 'fillers' = %d must be at least 1", F);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void pk_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "passkey:D=%d,F=%d,L=%d", (int)c->opt[O_D], (int)c->opt[O_F], c->L);
}

static int pk_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    int D = (int)c->opt[O_D], F = (int)c->opt[O_F], L = c->L;
    int phase = (int)xb_rng_below(r, (uint32_t)F);
    for (int t = 0; t < L; t++) { x[t] = T_FILL0 + (t + phase) % F; y[t] = XB_IGNORE; }
    int s = (int)xb_rng_below(r, (uint32_t)(L - 2 * D));
    x[s] = T_KEY;
    for (int j = 0; j < D; j++) x[s + 1 + j] = (int32_t)xb_rng_below(r, 10);
    int q = L - D;
    x[q] = T_QUERY;
    for (int j = 0; j < D; j++) {
        if (j > 0) x[q + j] = x[s + j];         /* teacher forcing: d_j at q + j */
        y[q + j] = x[s + 1 + j];                 /* predict d_{j+1} */
    }
    len[0] = L;
    return XB_OK;
}

extern const xb_task xb_task_passkey;

static int pk_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                   char *err, size_t errn)
{
    return xb_data_generate(&xb_task_passkey, c, pk_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_passkey = {
    .name = "passkey",
    .desc = "passkey retrieval: repeat the digits after KEY hidden in cyclic filler",
    .cite = "Mohtashami & Jaggi 2023, Landmark Attention (passkey retrieval)",
    .shape = XB_SHAPE_TOK,
    .opts = opts,
    .n_opts = O_N,
    .vocab = pk_vocab,
    .n_classes = pk_vocab,
    .check = pk_check,
    .key = pk_key,
    .load = pk_load,
};
