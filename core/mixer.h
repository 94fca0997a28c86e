/* core/mixer.h — the contract every token mixer implements.
 *
 * Adding a mixer (two places, nothing else):
 *   1. write mixers/foo.c: static functions foo_forward, foo_backward, ... and exactly one
 *      exported `const xb_mixer xb_mixer_foo = { .name = "foo", ... };` (designated
 *      initializers: a forgotten member is NULL and tests/test_mixers.c catches it), with its
 *      options as a static xb_mixer_opt table indexed by an enum of its own (below);
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

/* ---- options ---------------------------------------------------------------------------
 * Each mixer declares its options as a table in its own file (name, type, range, default,
 * help), indexed by an enum of its own: the table drives the suite's parsing and bounds,
 * the defaults, the record's config JSON, `xbench list`, dump's meta.json and the docs, so
 * adding an option is one row there. The values live in xb_mixer_cfg.opt[], indexed like the
 * table; the mixer reads them with xb_cfg_int / xb_cfg_float. */

#define XB_MIXER_MAX_OPTS 8
#define XB_MAX_LENGTH 16777216   /* 2^24: the longest sequence length a suite accepts */

enum { XB_OPT_INT, XB_OPT_FLOAT, XB_OPT_ENUM };

typedef struct xb_mixer_opt {
    const char *name;          /* the key under mixer_options.<mixer> */
    int type;                  /* XB_OPT_INT; XB_OPT_FLOAT (stored rounded to float); XB_OPT_ENUM:
                                * an integer 1 .. n that names[] spell (a suite may write either) */
    double min, max;           /* inclusive bounds (ENUM: unused, 1 .. the number of names) */
    double def;                /* the default; 0: derived, filled in by the mixer's defaults() */
    const char *def_doc;       /* a derived default in words ("2 d"), for the docs; else NULL */
    const char *const *names;  /* ENUM: names[v - 1] is value v; NULL-terminated */
    const char *help;
} xb_mixer_opt;

/* Configuration of one mixer layer. The suite sets d, heads, causal, n_max and any option
 * named in mixer_options; an option left 0 means "the mixer's default", which
 * xb_mixer_resolve fills in (the table's default, then the mixer's defaults()). */
typedef struct xb_mixer_cfg {
    int d;          /* model width */
    int heads;      /* h: attention heads (d_h = d / h unless the mixer says otherwise) */
    int causal;     /* 1: causal mode, 0: bidirectional */
    int n_max;      /* longest sequence this layer will see (linformer's E, lmu's theta) */
    int layer;      /* index of the layer in the model (seeds fixed buffers) */
    double opt[XB_MIXER_MAX_OPTS];   /* option values, indexed like the mixer's opts[] */
} xb_mixer_cfg;

/* In a mixer's initializer: its table and the number of rows. */
#define XB_OPTS(table) .opts = (table), .n_opts = (int)(sizeof(table) / sizeof((table)[0]))

/* Option k of c (the mixer's own enum index) as its table types it. */
static inline int xb_cfg_int(const xb_mixer_cfg *c, int k) { return (int)c->opt[k]; }
static inline float xb_cfg_float(const xb_mixer_cfg *c, int k) { return (float)c->opt[k]; }
static inline void xb_cfg_set(xb_mixer_cfg *c, int k, double v) { c->opt[k] = v; }

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

/* Layouts of the common kinds of matrix (a mixer's layout()). */
#define XB_LAYOUT_COLS "(in, out) row-major: y = x W; heads (kv groups) own contiguous column blocks"
#define XB_LAYOUT_ROWS "(in, out) row-major: y = x W; heads own contiguous row blocks"
#define XB_LAYOUT_PLAIN "(in, out) row-major: y = x W"
#define XB_LAYOUT_CONV "(k, C) depthwise conv taps in lag order: out_t[c] = sum_tau w[tau][c] * z_{t-tau}[c]"

/* Where a mixer states the facts another implementation needs to reproduce it (MIXERS.md §32
 * decisions, written by `xbench dump` into meta.json "decisions"): keys and values in order.
 * open/close bracket an array whose items are written with key NULL. */
typedef struct xb_facts {
    void *ctx;
    void (*text)(void *ctx, const char *key, const char *value);
    void (*integer)(void *ctx, const char *key, long value);
    void (*real)(void *ctx, const char *key, float value);
    void (*open)(void *ctx, const char *key);
    void (*close)(void *ctx);
} xb_facts;

#define XB_MAX_TENSORS 32

typedef struct xb_mixer {
    const char *name;       /* as written in suite.yaml: "softmax", "gla", ... */
    const char *family;     /* "attention", "linear attention", "ssm", "pooling", ... */
    const char *cite;       /* the paper, e.g. "Vaswani et al. 2017, Attention Is All You Need" */
    const char *complexity; /* "N^2", "N", "N log N", "N w" */
    const xb_mixer_opt *opts; /* its options in the order they are listed (NULL: none) */
    int n_opts;               /* rows of opts, at most XB_MIXER_MAX_OPTS */
    unsigned modes;         /* XB_CAUSAL | XB_BIDIR */
    int unverified;         /* 1: MIXERS.md marks its formula as unverified */

    /* Fill the derived defaults: options whose table default is 0 and that are still 0 (may
     * read d, heads, n_max and the other options). May be NULL. */
    void (*defaults)(xb_mixer_cfg *c);
    /* Reject a bad configuration beyond the table's ranges (xb_mixer_check tries those first):
     * 0 ok, else XB_EINVAL with a message naming the key, e.g. "heads: must divide d (64),
     * got 3". May be NULL. */
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

    /* How to read tensor t (`xbench dump`, docs/dump.md) when xb_tensor_layout's default is
     * wrong for it: a layout text, or NULL for the default. May be NULL. */
    const char *(*layout)(const xb_mixer_cfg *c, const xb_tensor *t);
    /* The facts of this configuration at length N that a reimplementation needs and that the
     * tensors do not show (rules, constants, tables drawn on the fly), for `xbench dump`.
     * May be NULL. */
    void (*facts)(const xb_mixer_cfg *c, int N, const xb_facts *f);
} xb_mixer;

/* Helpers over the contract (core/mixer.c). */
size_t xb_mixer_n_params(const xb_mixer *m, const xb_mixer_cfg *c);   /* slab size in floats */
size_t xb_mixer_n_trainable(const xb_mixer *m, const xb_mixer_cfg *c); /* excludes frozen */
/* Copy of *c with every option left 0 set to its default (the table's, then defaults()). */
xb_mixer_cfg xb_mixer_resolve(const xb_mixer *m, const xb_mixer_cfg *c);
/* 0, or XB_EINVAL with "key: must be ..." when an option of a resolved c is outside its table
 * range or the mixer's check() rejects c. */
int xb_mixer_check(const xb_mixer *m, const xb_mixer_cfg *c, char *err, size_t errn);
/* Index of option `name` in m->opts, or -1. */
int xb_mixer_opt_find(const xb_mixer *m, const char *name);
/* Set option `name` of c to v (FLOAT: rounded to float): 0, or -1 when m has no such option. */
int xb_mixer_opt_set(const xb_mixer *m, xb_mixer_cfg *c, const char *name, double v);
/* Value of option `name` of c, or 0 when m has no such option. */
double xb_mixer_opt_get(const xb_mixer *m, const xb_mixer_cfg *c, const char *name);
/* Inclusive range of an option (ENUM: 1 .. the number of names). */
void xb_mixer_opt_range(const xb_mixer_opt *o, double *lo, double *hi);
/* An ENUM's values in words: "full (1), symmetric (2) or psd (3)". */
void xb_mixer_opt_choices(char *buf, size_t n, const xb_mixer_opt *o);
/* The layout text of tensor t of m: a vector's, else what m->layout says, else the output
 * projection W_O's row blocks or the heads' column blocks. */
const char *xb_tensor_layout(const xb_mixer *m, const xb_mixer_cfg *c, const xb_tensor *t);
/* A vector is 1-D; a matrix with one column (lmu's W_u [d, 1], decayed) stays 2-D. */
int xb_tensor_is_vector(const xb_tensor *t);
/* Write to a facts sink: a formatted text, an integer, a float. */
void xb_fact_text(const xb_facts *f, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void xb_fact_int(const xb_facts *f, const char *key, long v);
void xb_fact_real(const xb_facts *f, const char *key, float v);
/* Default init helper: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) over rows × cols (fan_in = rows). */
void xb_init_uniform(float *w, int rows, int cols, xb_rng *rng);
/* Fill a per-tensor mask: mask[i] = flags of the tensor owning float i (size n_params). */
void xb_mixer_flags(const xb_mixer *m, const xb_mixer_cfg *c, unsigned char *mask);

/* Pairs (i, j) of positions 0 <= i, j < N with i - before <= j <= i + after (before, after >= 0):
 * the allowed (query, key) pairs of a sliding-window mask, in O(1) — a FLOP formula stays
 * constant-time at any length (sizing a suite of 16M-token cells loops over no position). */
double xb_window_pairs(int N, int before, int after);

/* Real length of sequence b. */
static inline int xb_len(const int *len, int b, int N) { return len ? len[b] : N; }
/* Rows t ≥ len[b] of each sequence b of y [B × N × d] set to +0. */
void xb_zero_pad_rows(float *y, const int *len, int B, int N, int d);

#endif
