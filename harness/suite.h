/* harness/suite.h — suite.yaml as a struct (harness/suite.c reads it with libyaml).
 * Every key has a default, so `tasks: [{name: mqar}]` is a whole suite. Every error names
 * file:line:column and the key path, shows the line and a caret (harness/diag.c). */
#ifndef XB_SUITE_H
#define XB_SUITE_H

#include <stdint.h>
#include <stdio.h>

#include "core/mixer.h"
#include "core/model.h"
#include "core/task.h"
#include "core/text.h"    /* xb_is_name, XB_NAME_MAX_LEN: what a name may be */
#include "core/train.h"

typedef struct xb_latency_cfg {
    int batch;          /* sequences per timed call */
    int warmup;         /* untimed runs first */
    int min_reps;       /* at least this many timed runs ... */
    double min_time_s;  /* ... and at least this much timed time */
    int max_reps;       /* hard cap on timed runs */
    double max_cv;      /* coefficient of variation above which a cell is `noisy` */
    int n_lengths;
    int *lengths;       /* latency-only lengths (no training); may be empty */
    int causal;         /* mode of the latency sweep (1 causal, 0 bidirectional) */
    int n_decode_lengths;
    int *decode_lengths; /* contexts of the decode cells (causal, one mixer layer); may be empty */
} xb_latency_cfg;

typedef struct xb_suite_task {
    const xb_task *task;
    xb_task_cfg cfg;        /* options resolved (cfg.L set per cell) */
    int n_lengths;
    int *lengths;           /* training lengths */
    xb_model_cfg model;     /* suite model: + the task's model: overrides (shape/vocab/classes
                               filled at cell time from the task) */
    xb_train_cfg train;     /* suite train: + the task's train: overrides */
    int causal;             /* -1: from the task shape (TOK → causal, CLS/PAIR → bidir) */
    char *data_dir;         /* NULL = default source */
    unsigned char *use;     /* per suite mixer: 1 if this task runs it; NULL = every mixer */
    char *label;            /* the sweep-axis values of this task ("kv_pairs=8 lr=0.003"), or
                               NULL: a task item whose options:, model: or train: give a list
                               for a key expands into one task per combination of the lists */
} xb_suite_task;

typedef struct xb_suite {
    char *path;             /* file it was read from */
    char *name;             /* run name: results/<name>/ */
    int n_seeds;
    uint64_t *seeds;
    int n_threads;
    int *threads;           /* thread-count axis */
    xb_latency_cfg latency;
    double cell_timeout_s;
    long mem_limit_mb;
    int n_mixers;
    const xb_mixer **mixers;
    xb_mixer_cfg *mixer_cfg;   /* options per mixer (d/heads/causal/n_max set per cell) */
    int n_tasks;
    xb_suite_task *tasks;
    char *canonical;        /* the resolved suite, every default written out (YAML text) */
    uint64_t hash;          /* FNV-1a of canonical */
    xb_model_cfg model;     /* the top-level model: (latency-only cells use it; tasks start
                               from it before their own overrides) */
    xb_train_cfg train;     /* the top-level train: (latency-only cells time one AdamW step
                               with its lr, betas, weight_decay and clip; tasks start from it) */
} xb_suite;

/* Load and validate a suite. On error prints compiler-style messages to errf and returns
 * XB_EINVAL (or XB_EIO if the file cannot be read); *s is then released. */
int xb_suite_load(const char *path, xb_suite *s, FILE *errf);
/* Same, from a string (tests); `name` is used as the file name in messages. */
int xb_suite_load_string(const char *text, const char *name, xb_suite *s, FILE *errf);
/* Same as xb_suite_load_string, against other (NULL-terminated) mixer and task tables than
 * the registries: lets tests exercise options, overrides and checks with their own entries. */
int xb_suite_load_with(const char *text, const char *name, xb_suite *s, FILE *errf,
                       const xb_mixer *const *mixers, const xb_task *const *tasks);
void xb_suite_release(xb_suite *s);

/* How many cells a loaded suite makes (before --only and --shard). */
typedef struct xb_suite_count {
    long pairs;     /* task length x mixer pairs the tasks run (tasks[i].mixers may subset) */
    long train;     /* pairs x seeds x thread counts */
    long latency;   /* latency lengths x mixers x thread counts */
    long decode;    /* decode contexts x decoders x thread counts */
    int decoders;   /* mixers of the suite with a decode form (the causal ones) */
} xb_suite_count;
xb_suite_count xb_suite_count_cells(const xb_suite *s);
/* The "## Suite keys" Markdown section, generated from the key tables (README, `list keys`). */
void xb_suite_keys_markdown(FILE *f);

#endif
