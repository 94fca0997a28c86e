/* core/task.h — the contract every task implements (TASKS.md).
 *
 * Adding a task (two places, nothing else):
 *   1. write tasks/foo.c with a static options table and one exported
 *      `const xb_task xb_task_foo = { .name = "foo", ... };`;
 *   2. add `extern const xb_task xb_task_foo;` and `&xb_task_foo,` to tasks/registry.c.
 *
 * A task turns (config, seed) into a train/val/test data set of token sequences. Generated
 * data follow TASKS.md §4.1: example i of split s is drawn from its own PRNG seeded with
 * xb_example_seed(S, T, s, i), T = FNV-1a of the canonical config string, so data do not
 * depend on the thread count and more training examples never change the test set; §4.2:
 * train examples whose hash is in val/test are regenerated (xb_data_generate does both). */
#ifndef XB_TASK_H
#define XB_TASK_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

typedef enum { XB_SHAPE_CLS = 0, XB_SHAPE_PAIR = 1, XB_SHAPE_TOK = 2 } xb_shape;

#define XB_IGNORE (-1)          /* a TOK target that contributes neither loss nor accuracy */
#define XB_TASK_MAX_OPTS 24

/* One task option (suite key under tasks[i].options). Integer options are checked to be
 * whole numbers. */
typedef struct xb_opt {
    const char *name;
    double def, min, max;
    int is_int;
    const char *help;
} xb_opt;

typedef struct xb_task_cfg {
    int L;                          /* sequence length of this cell */
    uint64_t seed;                  /* user seed S */
    double opt[XB_TASK_MAX_OPTS];   /* values, indexed like the task's opts[] table */
    const char *data_dir;           /* real files, or NULL for the default source */
} xb_task_cfg;

/* A data set: n examples of one shape. Every pointer is owned (xb_data_release frees). */
typedef struct xb_data {
    xb_shape shape;
    int n;              /* examples */
    int L;              /* tokens per sequence (PAIR: per tower) */
    int vocab;          /* token ids are in [0, vocab) */
    int n_classes;      /* CLS/PAIR: classes; TOK: number of output ids (= vocab usually) */
    int32_t *x;         /* n × L tokens (PAIR: n × 2L, tower a then tower b) */
    int32_t *y;         /* CLS/PAIR: n labels; TOK: n × L targets (XB_IGNORE where none) */
    int *len;           /* n real lengths (PAIR: n × 2, a then b); CLS pads with id 0 */
    uint64_t *hash;     /* n example hashes (FNV-1a of tokens and targets) */
    long rejected;      /* train examples regenerated because they collided with val/test */
    char source[160];   /* "generator", "debian:fortunes", "files:<path>" */
} xb_data;

/* Generator of one example from its own PRNG: writes x[L] (PAIR: 2L), y (CLS/PAIR: y[0];
 * TOK: y[L]) and len (PAIR: len[0], len[1]). Returns 0, or XB_EINVAL if it cannot. */
typedef int (*xb_example_fn)(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len);

typedef struct xb_task {
    const char *name;       /* as written in suite.yaml */
    const char *desc;       /* one line for `xbench list tasks` */
    const char *cite;       /* where it comes from */
    xb_shape shape;
    const xb_opt *opts;     /* its options (train_examples, test_examples, ... included) */
    int n_opts;
    /* Vocabulary and number of classes for this configuration. */
    int (*vocab)(const xb_task_cfg *c);
    int (*n_classes)(const xb_task_cfg *c);
    /* The training length of a task item that gives no `lengths:` (its options resolved);
     * NULL: 128. Tasks whose length is fixed by their data (pixels) say so here. */
    int (*length)(const xb_task_cfg *c);
    /* Reject a bad configuration (e.g. MQAR needs 4K <= L): 0 or XB_EINVAL with a message
     * naming the option key. May be NULL. */
    int (*check)(const xb_task_cfg *c, char *err, size_t errn);
    /* Canonical config string for the task key T, e.g. "mqar:V=128,L=64,K=4,a=0.01,rnq=1". */
    void (*key)(const xb_task_cfg *c, char *buf, size_t n);
    /* Build the three splits (val may be left with n = 0). Returns 0, or a negative XB_E*
     * code with a message in err that names the file and what is wrong. */
    int (*load)(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                char *err, size_t errn);
} xb_task;

/* Value of option `name` in c (looked up in t->opts; XB_ASSERTs it exists). */
double xb_task_opt(const xb_task *t, const xb_task_cfg *c, const char *name);
/* Fill c->opt with every option's default. */
void xb_task_cfg_defaults(const xb_task *t, xb_task_cfg *c);
/* Task key T = FNV-1a of t->key(). */
uint64_t xb_task_key(const xb_task *t, const xb_task_cfg *c);

/* Allocate a data set of n examples (x, y, len, hash). 0 or XB_ENOMEM. */
int xb_data_alloc(xb_data *d, xb_shape shape, int n, int L, int vocab, int n_classes);
void xb_data_release(xb_data *d);
/* Hash of example i (tokens, lengths and targets). */
uint64_t xb_data_hash(const xb_data *d, int i);

/* Generate the three splits from an example function (TASKS.md §4.1–4.2): val and test
 * first; duplicates within val ∪ test and train examples colliding with them are
 * regenerated from sub-streams (retry folded into the seed), counted in train->rejected. */
int xb_data_generate(const xb_task *t, const xb_task_cfg *c, xb_example_fn fn,
                     int n_train, int n_val, int n_test,
                     xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn);

/* The split-aware form of an example function, for generators that draw from a loaded
 * corpus (fortune documents are built from entries of their own split): split is 1 train,
 * 2 val, 3 test; i the example's index in its split (e.g. label = i mod classes for exactly
 * balanced classes); ctx is the caller's. */
typedef int (*xb_example_ctx_fn)(const xb_task_cfg *c, void *ctx, int split, int i, xb_rng *r,
                                 int32_t *x, int32_t *y, int *len);
/* xb_data_generate with a split-aware example function. */
int xb_data_generate_ctx(const xb_task *t, const xb_task_cfg *c, xb_example_ctx_fn fn, void *ctx,
                         int n_train, int n_val, int n_test,
                         xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn);

/* Row k of split s (0 train, 1 val, 2 test) of a file-backed corpus: write x[L] (PAIR 2L),
 * y[0], len (PAIR len[0..1]); rows arrive zeroed. Returns 0 or an XB_E* code with a message
 * naming the file and what is wrong (e.g. a label out of range). */
typedef int (*xb_row_fn)(void *ctx, int split, int row, int32_t *x, int32_t *y, int *len,
                         char *err, size_t errn);

/* Build the three splits of a file-backed data set (TASKS.md §4.2 for files). Split s has
 * avail[s] rows; want[s] of them are taken (-1: all), each read once, in the order of a Fisher–Yates shuffle seeded with xb_stream_seed(S, T, "choose", s + 1)
 * — so more training examples extend the same prefix and a smaller test set is a seeded
 * sample — val and test first, skipping rows whose example is already in val ∪ test, then
 * train skipping rows in val ∪ test; skips are counted in train->rejected. Too few usable
 * rows → XB_EINVAL naming the split and the counts. Sources are left as "generator": the
 * caller sets them. */
int xb_data_from_rows(const xb_task *t, const xb_task_cfg *c, xb_row_fn fn, void *ctx,
                      const int avail[3], const int want[3],
                      xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn);

/* Majority-class rate of a data set (CLS/PAIR: most common label; TOK: the most common
 * non-ignored target). The "chance" row of the tables. */
double xb_data_majority(const xb_data *d);

#endif
