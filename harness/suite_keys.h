/* harness/suite_keys.h — private to harness/suite.c and harness/suite_keys.c: the key tables
 * (redis static_configs[] style: name, type, bounds, default, destination, help), the
 * canonical dump and helpers both files use. Not for use elsewhere: harness/suite.h is the
 * interface. Adding a key: one row in its table in suite_keys.c, the count below, and the
 * field in its struct. */
#ifndef XB_SUITE_KEYS_H
#define XB_SUITE_KEYS_H

#include <stddef.h>

#include "harness/suite.h"

#define BIG 1e18                /* "no upper bound" in the tables */
#define XB_SUITE_MAX_LENGTH XB_MAX_LENGTH   /* 2^24: a sequence length (latency.lengths, tasks[].lengths) */

enum { K_INT, K_LONG, K_FLOAT, K_DOUBLE, K_ENUM, K_LENGTHS };

typedef struct xb_suite_key {
    const char *name;
    int type;
    double min, max;            /* inclusive bounds (K_LENGTHS: of each element) */
    double def;                 /* default (K_ENUM: index into names) */
    size_t off;                 /* destination inside the section's struct */
    size_t off_n;               /* K_LENGTHS: offset of the count; `off` holds the int * */
    const char *const *names;   /* K_ENUM: names[value] */
    const int *def_list;        /* K_LENGTHS: default list */
    int def_n;
    const char *help;
} xb_suite_key;

/* Rows per table (checked against the tables by _Static_assert in suite_keys.c). */
enum { N_MODEL = 9, N_TRAIN = 10, N_LAT = 9, N_LIMITS = 2, N_TOP = 11, N_TASKKEYS = 8 };

extern const xb_suite_key xb_suite_model_keys[N_MODEL];     /* xb_model_cfg */
extern const xb_suite_key xb_suite_train_keys[N_TRAIN];     /* xb_train_cfg */
extern const xb_suite_key xb_suite_latency_keys[N_LAT];     /* xb_latency_cfg */
extern const xb_suite_key xb_suite_limits_keys[N_LIMITS];   /* xb_suite */
extern const char *const xb_suite_mode_names[];             /* "bidirectional", "causal", NULL */
extern const int xb_suite_task_lengths_def[1];              /* tasks[].lengths default */

/* Keys that are not a plain value: documented here, read by hand below. */
typedef struct xb_suite_doc_key {
    const char *name;
    const char *type;
    const char *def;
    const char *help;
} xb_suite_doc_key;

extern const xb_suite_doc_key xb_suite_top_keys[N_TOP];     /* top-level keys, in order */
extern const xb_suite_doc_key xb_suite_task_keys[N_TASKKEYS];

/* Mixer options are not here: each mixer's own table (core/mixer.h xb_mixer_opt) gives their
 * names, types, bounds and defaults. */

/* Every row's default into base (K_LENGTHS: a malloc'd copy of the default list). */
void xb_suite_set_defaults(const xb_suite_key *tab, int nk, void *base);
const char *xb_suite_mode_word(int causal);
/* The canonical YAML text of a resolved suite (malloc'd), given the suite-level model: and
 * train: that the tasks started from. */
char *xb_suite_canonical(const xb_suite *s, const xb_model_cfg *model, const xb_train_cfg *train);

#endif
