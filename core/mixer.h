/* core/mixer.h — the contract every token mixer implements.
 *
 * Adding a mixer (two places, nothing else):
 *   1. write mixers/foo.c: static functions foo_forward, foo_backward, ... and exactly one
 *      exported `const xb_mixer xb_mixer_foo = { .name = "foo", ... };` (designated
 *      initializers: a forgotten member is NULL and tests/test_mixers.c catches it);
 *   2. add `extern const xb_mixer xb_mixer_foo;` and `&xb_mixer_foo,` to mixers/registry.c.
 * tests/test_mixers.c iterates the registry: gradient check, causality, padding, reference
 * comparison and FLOP sanity run for every registered mixer without new test code.
 *
 * A mixer maps X (B × N × d, row-major float) to Y of the same shape, including its own
 * input/output projections (MIXERS.md §0). It owns no memory: weights, saved activations,
 * scratch and outputs are handed in, sized by tensors()/n_saved()/n_scratch().
 *
 * Padding: len[b] (1 ≤ len[b] ≤ N) is the number of real tokens of sequence b (len may be
 * NULL: every sequence is full). Positions ≥ len[b] influence no real position, and their
 * outputs (y and dx) are exactly 0.
 *
 * Threads: forward/backward parallelise inside (#pragma omp parallel for over batch × heads ×
 * blocks, schedule(static)); they are called from serial code. Weight-gradient reductions
 * are deterministic (per-thread buffers in scratch summed in thread order; no float atomics).
 * Same inputs and thread count ⇒ bit-identical outputs. */
#ifndef XB_MIXER_H
#define XB_MIXER_H

#include <stddef.h>

#include "core/rng.h"

#define XB_CAUSAL 1u   /* position t sees only positions <= t */
#define XB_BIDIR  2u   /* every position sees every real position */

/* Configuration of one mixer layer. The suite sets d, heads, causal, n_max and any option
 * named in mixer_options; 0 means "the mixer's default", which defaults() fills in. */
typedef struct xb_mixer_cfg {
    int d;          /* model width */
    int heads;      /* h: attention heads (d_h = d / h unless the mixer says otherwise) */
    int causal;     /* 1: causal mode, 0: bidirectional */
    int n_max;      /* longest sequence this layer will see (linformer's E, lmu's theta) */
    int layer;      /* index of the layer in the model (seeds fixed buffers) */
    /* options (suite key in parentheses; see each mixer's `options` string) */
    int kv_heads;   /* (kv_heads) g for gqa/mqa/sqa */
    int q_heads;    /* (q_heads)  h_q for sqa */
    int window;     /* (window)   local w; pool size p */
    int block;      /* (block)    local_block b */
    int rank;       /* (rank)     linformer r */
    int features;   /* (features) performer m */
    int state;      /* (state)    mamba n */
    int expand;     /* (expand)   mamba E */
    int order;      /* (order)    lmu q */
    int theta;      /* (theta)    lmu window theta */
    int chunk;      /* (chunk)    C for chunked scans */
    int d_ff;       /* (d_ff)     activator hidden width */
    int conv;       /* (conv)     short conv kernel inside a mixer (deltanet, mamba) */
    int dt_rank;    /* (dt_rank)  mamba R */
    /* tier-2 options: 0 for every tier-1 mixer, so their config JSON omits them */
    int summary;    /* (summary)  sparse_fixed c: summary columns per block */
    int random_blocks; /* (random_blocks) bigbird r_b */
    int variant;    /* (variant)  synthesizer 1 factorized_random, 2 random, 3 dense;
                                   minattn 1 full, 2 symmetric, 3 psd */
    int buckets;    /* (buckets)  reformer n_buckets (even) */
    int rounds;     /* (rounds)   reformer hash rounds n_r */
    int partitions; /* (partitions) sse P */
    int topk;       /* (topk)     sse k_w = k_r */
    float expand_k; /* (expand_k) gla key expansion */
    float eps;      /* (eps)      feature-map epsilon (performer; 0 for gradient checks) */
} xb_mixer_cfg;

/* Flags of a parameter tensor. */
#define XB_T_DECAY  1u  /* AdamW applies weight decay (matrices); vectors and norms do not */
#define XB_T_FROZEN 2u  /* a fixed buffer stored with the weights: never updated, no gradient */

/* One named tensor inside a mixer's weight slab (names as MIXERS.md §32 writes them). */
typedef struct xb_tensor {
    const char *name;
    size_t offset;  /* in floats, from the start of the slab */
    int rows, cols; /* a vector is rows = n, cols = 1 */
    unsigned flags;
} xb_tensor;

#define XB_MAX_TENSORS 32

typedef struct xb_mixer {
    const char *name;       /* as written in suite.yaml: "softmax", "gla", ... */
    const char *family;     /* "attention", "linear attention", "ssm", "pooling", ... */
    const char *cite;       /* the paper, e.g. "Vaswani et al. 2017, Attention Is All You Need" */
    const char *complexity; /* "N^2", "N", "N log N", "N w" */
    const char *options;    /* comma-separated option keys it accepts: "window,chunk" or "" */
    unsigned modes;         /* XB_CAUSAL | XB_BIDIR */
    int unverified;         /* 1: MIXERS.md marks its formula as unverified */

    /* Fill option fields left 0 with this mixer's defaults (may read d, heads, n_max). */
    void (*defaults)(xb_mixer_cfg *c);
    /* Reject a bad configuration: 0 ok, else XB_EINVAL with a message naming the option key,
     * e.g. "window: must be >= 1, got 0". May be NULL. */
    int (*check)(const xb_mixer_cfg *c, char *err, size_t errn);
    /* List the parameter tensors: writes up to XB_MAX_TENSORS entries to out (out may be NULL
     * to count) and returns the count. The slab's size is the end of the last tensor. */
    int (*tensors)(const xb_mixer_cfg *c, xb_tensor *out);
    /* Initialise the whole weight slab (MIXERS.md init rules), frozen buffers included. */
    void (*init)(const xb_mixer_cfg *c, float *w, xb_rng *rng);
    /* Floats per sequence that forward keeps for backward. */
    size_t (*n_saved)(const xb_mixer_cfg *c, int N);
    /* Floats of scratch forward or backward needs for a whole batch (the larger of the two),
     * per-thread buffers included (may read omp_get_max_threads()). May be NULL = 0. Written
     * as a core/scratch.h list that forward and backward carve from too, so they cannot drift
     * (tests/test_scratch.c guards every mixer's sizes). */
    size_t (*n_scratch)(const xb_mixer_cfg *c, int B, int N);

    /* y[B×N×d] = mixer(x). Overwrites y and saved[B × n_saved]. */
    void (*forward)(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                    float *y, float *saved, float *scratch, int B, int N);
    /* Given dy, overwrite dx[B×N×d] and ACCUMULATE (+=) into dw[n_params]. saved is what
     * forward wrote for the same x; x is passed again (the block owns it). */
    void (*backward)(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                     const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                     int B, int N);
    /* Forward FLOPs of one sequence of length N in the configured mode (MIXERS.md formula of
     * the form actually compiled; FMA = 2). */
    double (*flops)(const xb_mixer_cfg *c, int N);
    /* Independent naive forward in double precision (the test oracle: dense masks, explicit
     * recurrences, explicit DFT ...). Writes y[B×N×d]; never used outside tests. */
    void (*reference)(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                      double *y, int B, int N);

    /* Decode (MIXERS.md §29.2): one more token of one sequence, causal mode only. All four
     * NULL (decode_prefill alone may be NULL) when the mixer has no decode form. The state is
     * what the mixer keeps between tokens — a KV cache for attention, the recurrent state for
     * scans — and starts zeroed (calloc). tests/test_decode.c checks every decode form against
     * the causal forward. */
    /* Floats of state for a sequence of up to n_max tokens. */
    size_t (*decode_state)(const xb_mixer_cfg *c, int n_max);
    /* Floats of scratch decode_step and decode_prefill need, per-thread buffers included
     * (a core/scratch.h list too). */
    size_t (*decode_scratch)(const xb_mixer_cfg *c, int n_max);
    /* The state after tokens x[0 .. n) (n × d) without their outputs, in one pass (a GEMM for
     * a KV cache); NULL: the caller steps through the tokens. */
    void (*decode_prefill)(const xb_mixer_cfg *c, int n_max, const float *w, const float *x,
                           int n, float *state, float *scratch);
    /* Token t (the state, sized for n_max, holds tokens 0 .. t-1; t < n_max): y[d] = the
     * causal forward's output at position t; the state then holds token t too. */
    void (*decode_step)(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                        float *state, float *y, float *scratch);
} xb_mixer;

/* Helpers over the contract (core/mixer.c). */
size_t xb_mixer_n_params(const xb_mixer *m, const xb_mixer_cfg *c);   /* slab size in floats */
size_t xb_mixer_n_trainable(const xb_mixer *m, const xb_mixer_cfg *c); /* excludes frozen */
/* Copy of *c with defaults filled in; sets causal from the request. */
xb_mixer_cfg xb_mixer_resolve(const xb_mixer *m, const xb_mixer_cfg *c);
/* Default init helper: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) over rows × cols (fan_in = rows). */
void xb_init_uniform(float *w, int rows, int cols, xb_rng *rng);
/* Fill a per-tensor mask: mask[i] = flags of the tensor owning float i (size n_params). */
void xb_mixer_flags(const xb_mixer *m, const xb_mixer_cfg *c, unsigned char *mask);

/* Real length of sequence b. */
static inline int xb_len(const int *len, int b, int N) { return len ? len[b] : N; }
/* Rows t ≥ len[b] of each sequence b of y [B × N × d] set to +0. */
void xb_zero_pad_rows(float *y, const int *len, int B, int N, int d);

#endif
