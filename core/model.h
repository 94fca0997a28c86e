/* core/model.h — the model around a mixer (DESIGN.md "The model"):
 *
 *   tokens → embedding (+ learned positions) → L × [ x += mixer(conv?(norm(x)));
 *                                                   x += mlp(norm(x)) (unless mlp: none) ]
 *          → final norm → head
 *
 * loop K (MIXERS.md §28.1; Sliced Recursive Transformer, AlgoFormer): the stack of L blocks is
 * applied K times in a row with shared weights, x ← S(S(..S(x))), so the effective depth is
 * L·K. Parameters do not grow; each repetition keeps its own saved activations (memory × K,
 * counted by xb_model_bytes); gradients of the shared weights are the sum over repetitions;
 * FLOPs count every executed block. K = 1 (or 0) is the plain model.
 *
 * Heads: CLS = mean pool over real tokens → Dense → ReLU → Dense (classes);
 *        PAIR = the same encoder on both towers, [u, v, u*v, u-v] → Dense → ReLU → Dense →
 *               ReLU → Dense(2) (TASKS.md §0.2);
 *        TOK = per-token Dense(d → n_classes).
 * short_conv k > 0 puts Zoology's `u + conv_k(u)` (depthwise causal conv with a skip) in front
 * of every mixer (causal taps in causal mode, centred taps in bidirectional mode).
 * The model takes the mixer as a `const xb_mixer *`; core/ never includes mixers/.
 * All memory is allocated once in xb_model_create for (B_max, N); nothing allocates later. */
#ifndef XB_MODEL_H
#define XB_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/layers.h"   /* XB_MLP_* */
#include "core/mixer.h"
#include "core/task.h"

typedef struct xb_model_cfg {
    xb_shape shape;     /* picks the head */
    int vocab;          /* embedding rows */
    int n_classes;      /* head outputs */
    int dim;            /* d */
    int layers;
    int heads;          /* passed to the mixer config */
    int mlp;            /* XB_MLP_* */
    int mlp_ratio;      /* hidden width = mlp_ratio · d */
    int short_conv;     /* k, 0 = off */
    int positions;      /* 1: learned position table of max_len rows; 0: none */
    int max_len;        /* longest N the model will see */
    int head_hidden;    /* hidden width of the classifier heads (0 → 2d) */
    int loop;           /* K: the L blocks run K times with shared weights (0 or 1 → once) */
} xb_model_cfg;

typedef struct xb_model xb_model;

/* Analytic bytes of one model instance for batch B at length N: parameters, gradients,
 * AdamW moments, saved activations and scratch. The same numbers xb_model_create allocates,
 * so `skipped:too-large` and the memory column agree. SIZE_MAX when the sum overflows, or
 * the batch has more than INT_MAX rows or an activation of more than 1 TiB (xb_model_create
 * refuses those: XB_ENOMEM). */
size_t xb_model_bytes(const xb_model_cfg *mc, const xb_mixer *mx, const xb_mixer_cfg *xc,
                      int B, int N);
/* Build a model for batches of up to B sequences of length N (PAIR: N per tower).
 * xc is the mixer configuration (d, heads, causal and options already set). */
int xb_model_create(xb_model **out, const xb_model_cfg *mc, const xb_mixer *mx,
                    const xb_mixer_cfg *xc, int B, int N, char *err, size_t errn);
void xb_model_free(xb_model *m);

/* Deterministic init from a seed (same seed ⇒ same weights). */
void xb_model_init(xb_model *m, uint64_t seed);
size_t xb_model_n_params(const xb_model *m);
float *xb_model_params(xb_model *m);
float *xb_model_grads(xb_model *m);
/* Per-parameter flags (XB_T_DECAY / XB_T_FROZEN), n_params bytes. */
const unsigned char *xb_model_flags(const xb_model *m);
/* AdamW first and second moments (n_params floats each, zeroed by xb_model_init). */
float *xb_model_adam_m(xb_model *m);
float *xb_model_adam_v(xb_model *m);
/* The B_max and N the model was created for. */
int xb_model_batch(const xb_model *m);
int xb_model_seq_len(const xb_model *m);
/* Tensor i of the parameter slab (for dumps): fills *t (t->name points at name, e.g.
 * "l0.mixer.W_Q", "head.W_1", "tok_emb") and returns 1, or 0 when i is past the last. */
int xb_model_tensor(const xb_model *m, int i, xb_tensor *t, char *name, size_t namen);

/* Forward a batch of b ≤ B_max sequences. x: b × N tokens (PAIR: b × 2N), len: b (PAIR: 2b),
 * y: targets (CLS/PAIR: b, TOK: b × N) or NULL (no loss, e.g. for latency). Returns the mean
 * cross-entropy over counted targets (0 when y is NULL). */
float xb_model_forward(xb_model *m, const int32_t *x, const int *len, const int32_t *y, int b);
/* Padding-free forward (ByteTransformer, MIXERS.md §29.1) of b sequences (PAIR: 2b towers)
 * of lengths len[s], their tokens packed back to back in x (Σ len tokens, no padding): the
 * token-wise layers (embedding, norms, short conv per sequence, MLP) run on the Σ len real rows
 * and the mixer on each sequence at its own length (a batch of one, len NULL); one scatter into
 * the padded layout before the head. No loss and no backward: for latency. The logits equal
 * xb_model_forward's on the same padded batch up to rounding (tests/test_packed.c). */
void xb_model_forward_packed(xb_model *m, const int32_t *x, const int *len, int b);
/* Logits of the last forward: CLS/PAIR b × classes, TOK b·N × classes (padded layout). */
const float *xb_model_logits(const xb_model *m);
/* Backward of the last forward (needs y): zeroes and fills the gradients. */
void xb_model_backward(xb_model *m);
/* Accuracy of the last forward: sum over the b examples of each example's accuracy (CLS/PAIR:
 * 0 or 1; TOK: fraction of its non-ignored positions correct), and the examples counted. */
void xb_model_accuracy(const xb_model *m, double *sum, int *count);

/* Forward FLOPs of one sequence through the whole model (mixers by their formula, plus
 * projections, MLPs, norms and head as counted in core/model.c); with loop K every one of
 * the L·K executed blocks counts. */
double xb_model_flops(const xb_model_cfg *mc, const xb_mixer *mx, const xb_mixer_cfg *xc, int N);

#endif
