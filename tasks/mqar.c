/* tasks/mqar.c — multi-query associative recall (Zoology; TASKS.md §2.1), shape TOK.
 *
 * One example (V vocab, L length, K pairs, a power-law exponent):
 *   context   k_1 v_1 … k_K v_K, keys distinct from 1..V/2−1, values distinct from V/2..V−1
 *   queries   K distinct gaps g_i ∈ {0..space−1}, space = (L−2K)/2, drawn one after another
 *             without replacement with P(g = j) ∝ a·(j+1)^(a−1); key k_i sits at 2K + 2·g_i
 *   noise     every other position is 0, replaced by a uniform id in 0..V−1 if
 *             random_non_queries (the noise may hit key or value ids, as in Zoology)
 *   targets   v_i at position 2K + 2·g_i, IGNORE elsewhere
 *
 * Checked against HazyResearch/zoology zoology/data/associative_recall.py (`_mqar`) and
 * zoology/data/multiquery_ar.py: asserts L even, V > L, 4K ≤ L; keys from arange(1, V//2),
 * values from arange(V//2, V); p = a·arange(1, space+1)^(a−1), normalised; gaps from
 * np.random.choice(space, K, replace=False, p) — numpy draws batches and keeps first
 * occurrences, which gives the same ordered distribution as successive weighted draws
 * without replacement, done here; the i-th drawn gap takes the i-th context pair; inputs
 * are shifted so the key sits at 2K + 2g and its label at the same position. Zoology does
 * not assert V even; TASKS.md does and so do we (odd V would leave one id unused as a
 * value). No disagreement with TASKS.md was found. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/task.h"
#include "core/xb.h"

#define MAX_V 16384     /* bounds the per-example stack arrays below (Zoology uses 8192) */

enum { O_VOCAB, O_K, O_A, O_RNQ, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_VOCAB] = { "vocab", 128, 4, MAX_V, 1, "vocabulary size V (even, > L); keys 1..V/2-1, values V/2..V-1" },
    [O_K]     = { "kv_pairs", 4, 1, 16384, 1, "key-value pairs K per example (4K <= L)" },
    [O_A]     = { "power_a", 0.01, 1e-6, 1, 0, "power-law exponent a of the query gaps (1 = uniform)" },
    [O_RNQ]   = { "random_non_queries", 1, 0, 1, 1, "1: fill non-query positions with uniform noise ids" },
    [O_TRAIN] = { "train_examples", 20000, 0, 1e7, 1, "training examples" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples" },
};


static int mqar_vocab(const xb_task_cfg *c) { return (int)c->opt[O_VOCAB]; }
static int mqar_classes(const xb_task_cfg *c) { return (int)c->opt[O_VOCAB]; }

static int mqar_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int V = (int)c->opt[O_VOCAB], K = (int)c->opt[O_K], L = c->L;
    if (L % 2 != 0) {
        snprintf(err, errn, "mqar: sequence length L = %d must be even", L);
        return XB_EINVAL;
    }
    if (V < 4 || V > MAX_V) {
        snprintf(err, errn, "mqar: option 'vocab' = %d must be in 4..%d", V, MAX_V);
        return XB_EINVAL;
    }
    if (K < 1) {
        snprintf(err, errn, "mqar: option 'kv_pairs' = %d must be at least 1", K);
        return XB_EINVAL;
    }
    if (V % 2 != 0) {
        snprintf(err, errn, "mqar: option 'vocab' = %d must be even", V);
        return XB_EINVAL;
    }
    if (V <= L) {
        snprintf(err, errn, "mqar: option 'vocab' = %d must be greater than the sequence length L = %d", V, L);
        return XB_EINVAL;
    }
    if (4 * K > L) {
        snprintf(err, errn, "mqar: option 'kv_pairs' = %d needs 4*kv_pairs <= L = %d", K, L);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void mqar_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "mqar:V=%d,L=%d,K=%d,a=%.15g,rnq=%d", (int)c->opt[O_VOCAB], c->L,
             (int)c->opt[O_K], c->opt[O_A], (int)c->opt[O_RNQ]);
}

/* K distinct ids uniformly from [lo, lo + n), in draw order (rejection on a bitmap; at most
 * half the range is ever taken because 4K <= L < V, so a draw succeeds with p >= 1/2). */
static void distinct(xb_rng *r, int lo, int n, int K, int32_t *out)
{
    uint64_t used[MAX_V / 128] = {0};
    for (int i = 0; i < K; i++) {
        uint32_t v;
        do v = xb_rng_below(r, (uint32_t)n); while (used[v >> 6] >> (v & 63) & 1);
        used[v >> 6] |= 1ULL << (v & 63);
        out[i] = lo + (int32_t)v;
    }
}

static int mqar_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    int V = (int)c->opt[O_VOCAB], K = (int)c->opt[O_K], L = c->L, rnq = (int)c->opt[O_RNQ];
    double a = c->opt[O_A];
    int space = (L - 2 * K) / 2;
    int32_t keys[MAX_V / 4], vals[MAX_V / 4];
    double w[MAX_V / 2];
    distinct(r, 1, V / 2 - 1, K, keys);
    distinct(r, V / 2, V / 2, K, vals);
    for (int i = 0; i < L; i++) { x[i] = 0; y[i] = XB_IGNORE; }
    for (int i = 0; i < K; i++) { x[2 * i] = keys[i]; x[2 * i + 1] = vals[i]; }
    /* Successive weighted draws without replacement; a chosen gap gets weight 0. */
    for (int j = 0; j < space; j++) w[j] = a * pow(j + 1.0, a - 1.0);
    for (int i = 0; i < K; i++) {
        double total = 0.0;
        for (int j = 0; j < space; j++) total += w[j];
        double u = xb_rng_uniform(r) * total, acc = 0.0;
        int g = -1, last = -1;
        for (int j = 0; j < space; j++) {
            if (w[j] == 0.0) continue;
            last = j;
            acc += w[j];
            if (u < acc) { g = j; break; }
        }
        if (g < 0) g = last;            /* rounding left u at the very top: the last free gap */
        w[g] = 0.0;
        x[2 * K + 2 * g] = keys[i];
        y[2 * K + 2 * g] = vals[i];
    }
    if (rnq)
        for (int i = 0; i < L; i++)
            if (x[i] == 0) x[i] = (int32_t)xb_rng_below(r, (uint32_t)V);
    len[0] = L;
    return XB_OK;
}

extern const xb_task xb_task_mqar;

static int mqar_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                     char *err, size_t errn)
{
    return xb_data_generate(&xb_task_mqar, c, mqar_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

/* Half the vocabulary (V must exceed L), at most 128: 64 for the default V = 128. */
static int mqar_length(const xb_task_cfg *c)
{
    int h = mqar_vocab(c) / 2;
    return h < 128 ? h : 128;
}

const xb_task xb_task_mqar = {
    .name = "mqar",
    .desc = "multi-query associative recall: recall the value paired with each queried key",
    .cite = "Arora, Eyuboglu et al. 2023, Zoology (HazyResearch/zoology, multiquery_ar)",
    .shape = XB_SHAPE_TOK,
    .opts = opts,
    .n_opts = O_N,
    .vocab = mqar_vocab,
    .n_classes = mqar_classes,
    .length = mqar_length,
    .check = mqar_check,
    .key = mqar_key,
    .load = mqar_load,
};
