/* harness/report/results.h — the results model: what every reader of a results folder (report,
 * plot, summary, compare, the CI exports) works from.
 *
 *   xb_results   meta.json and the records of cells.jsonl that belong to meta's suite, the
 *                last one per config_hash (xb_report_load), and two ways to look at them:
 *   xb_rec       one per record, in file order: kind, the task and mixer labels that tell its
 *                configuration from the others read with it (harness/report/cellkey.h), the
 *                names alone, L, threads, mode, seed, status, and whether it learned
 *                (harness/report/learned.h);
 *   xb_group     the records of one configuration, seeds pooled: kind, task label, mixer
 *                label, L, mode and threads, keyed "mqar kv_pairs=8/softmax/L:32/causal/threads:1"
 *                (training cells) or "latency/softmax/L:128/causal/threads:1" (latency and
 *                decode cells: their kind instead of a task), in order of first appearance.
 *
 * Queries over the records (xb_distinct_*, xb_aggregate, xb_params_compare) take grid points
 * (kind, task label or NULL, mixer label, L, threads); the tables and plots read them. The
 * groups are what compare matches between folders and what the CI exports write one entry
 * for. Labels are computed over everything a model is built from: xb_results_init_many labels
 * several folders together (compare's BASE, NEW and repeat), so equal labels mean equal
 * configurations across them.
 *
 * Reading only: nothing here writes a file. Facts about mixers and tasks come from the
 * records themselves (names, "chance", "params", the config), never from the registries. */
#ifndef XB_RESULTS_H
#define XB_RESULTS_H

#include <stdio.h>

#include <json-c/json.h>

#include "harness/report/cellkey.h"
#include "harness/report/store.h"

/* What every reader of a results folder starts from: meta.json (NULL when absent or
 * unparsable) and the records of cells.jsonl that belong to meta's suite, the last one per
 * config_hash. Lines that do not parse are skipped with a warning on err and counted in
 * *bad_lines (may be NULL); records of another suite version are left out with a warning
 * (unless flags has XB_LOAD_QUIET_FOREIGN). Returns 0, XB_ENOTFOUND (no cells.jsonl) or XB_EIO
 * (unreadable), with a message on err; the caller puts *meta and *recs. */
enum { XB_LOAD_QUIET_FOREIGN = 1 };
int xb_report_load_ex(const char *dir, json_object **meta, json_object **recs, FILE *err,
                      int *bad_lines, int flags);
int xb_report_load(const char *dir, json_object **meta, json_object **recs, FILE *err,
                   int *bad_lines);

typedef struct xb_rec {
    json_object *o;         /* the record */
    int kind;               /* XB_KIND_TRAIN, XB_KIND_LATENCY or XB_KIND_DECODE */
    const char *task;       /* the task label: its name and what differs ("mqar kv_pairs=8");
                               "" for latency and decode cells */
    const char *mixer;      /* the mixer label: its name and what differs ("local window=64") */
    const char *task_name, *mixer_name;   /* the names alone */
    const char *status;
    int L, threads, causal, ok;
    int not_learned;        /* xb_cell_not_learned (harness/report/learned.h): 1, 0, -1 cannot tell */
    long long seed;
    int group;              /* its group: xb_results.group[group] */
} xb_rec;

typedef struct xb_group {
    char key[2 * XB_LABEL_MAX + 64];   /* "mqar kv_pairs=8/softmax/L:32/causal/threads:1" */
    int kind;               /* of its records */
    const char *task;       /* task label, "" for latency and decode cells */
    const char *mixer;      /* mixer label */
    int L, threads, causal;
    int n, ok;              /* records in the group, records that ended ok */
    const xb_rec **rec;     /* the records, in file order */
} xb_group;

typedef struct xb_results {
    json_object *meta;      /* meta.json, or NULL */
    json_object *records;   /* the latest record per config_hash, in file order */
    xb_rec *rec;            /* n views, rec[i] of record i */
    int n;
    xb_group *group;        /* ngroup groups, in order of first appearance */
    int ngroup;
    xb_label *label;        /* the labels rec[] points into (one per record) */
    const xb_rec **slot;    /* the groups' rec[] point into it */
} xb_results;

/* The model of meta (may be NULL) and records (the latest per config_hash, as xb_report_load
 * returns them; may be NULL: none). It takes a reference of each, so the caller keeps its
 * own. 0 or XB_ENOMEM (then r holds nothing to release). */
int xb_results_init(xb_results *r, json_object *meta, json_object *records);
/* k models at once, labelled over all their records together (so equal group keys mean equal
 * configurations across folders): r[i] of meta[i] and records[i] (either may be NULL). 0 or
 * XB_ENOMEM (then none holds anything). */
int xb_results_init_many(xb_results *r, int k, json_object *const *meta, json_object *const *records);
/* Load dir (xb_report_load_ex) and build its model. 0 or the loader's error (message on err). */
int xb_results_load(xb_results *r, const char *dir, FILE *err, int *bad_lines, int flags);
void xb_results_release(xb_results *r);

/* ---- queries over the records ---------------------------------------------------------- */

/* The timed measurements of a record (latency.<what>), in the order of results.csv's columns
 * (model_train came last, so older readers of the CSV find the first four where they were). */
enum { XB_LAT_MODEL_FWD, XB_LAT_MODEL_FWDBWD, XB_LAT_MIXER_FWD, XB_LAT_MIXER_FWDBWD,
       XB_LAT_MODEL_TRAIN, XB_N_LAT };
extern const char *const xb_lat_what[XB_N_LAT];   /* "model_fwd", ... */

/* Whether a record is of kind (XB_KIND_ANY: any) and task label (NULL: any). */
int xb_rec_match(const xb_rec *r, int kind, const char *task);

/* Distinct values in order of first appearance (strings) or ascending (ints), over the records
 * that match kind (XB_KIND_ANY: all) and task (NULL: any). Arrays are malloc'd. */
int xb_distinct_mixers(const xb_results *r, int kind, const char ***out);
int xb_distinct_tasks(const xb_results *r, const char ***out);
int xb_distinct_lengths(const xb_results *r, int kind, const char *task, int **out);
int xb_distinct_threads(const xb_results *r, int **out);

/* Aggregate over the seeds of a grid point (kind, task or NULL, mixer, L, threads; threads 0:
 * any): *total = matching records, returns how many ended ok. */
typedef struct xb_agg {
    int total, ok;
    double mean, std;       /* of the field over ok records (std 0 for one) */
    double median;          /* median over ok records */
    int noisy;              /* any ok record's measurement flagged noisy */
    char status[64];        /* "ok", or the statuses of records not ok ("timeout, oom") */
} xb_agg;
/* field: a dotted path into the record, e.g. "test_acc" or "latency.model_fwd.median". */
void xb_aggregate(const xb_results *r, int kind, const char *task, const char *mixer, int L,
                  int threads, const char *field, xb_agg *a);

/* LRA's parameter rule (issue 17), computed from the records' "params" (the trained model's
 * parameter slab, xb_model_n_params), never assumed: a training grid point (task label,
 * mixer label, L) against softmax's count at the same task label and L. Flagged when more
 * than 10% over: 10 · params > 11 · softmax (exactly 10% over is not flagged). */
enum { XB_PCMP_OK = 0, XB_PCMP_NO_PARAMS, XB_PCMP_NO_SOFTMAX, XB_PCMP_AMBIGUOUS };
typedef struct xb_params_cmp {
    double params;      /* the grid point's count; NAN when none of its records has one */
    double softmax;     /* softmax's count at the same task label and L; NAN unless OK */
    double ratio;       /* params / softmax; NAN unless OK */
    int over;           /* 1: more than 10% over softmax's; 0 otherwise (and unless OK) */
    int status;         /* XB_PCMP_OK; NO_PARAMS: the point has no count; NO_SOFTMAX: no
                           softmax record with a count there; AMBIGUOUS: softmax records
                           there disagree (then nothing is flagged) */
} xb_params_cmp;
void xb_params_compare(const xb_results *r, const char *task, const char *mixer, int L,
                       xb_params_cmp *out);

/* ---- groups ---------------------------------------------------------------------------- */

/* The group with this key, or NULL. */
const xb_group *xb_group_find(const xb_results *r, const char *key);
/* Repetition times (seconds) of one measurement ("model_fwd", ...) of the group's ok
 * records, concatenated in record order. *out malloc'd (NULL when none); returns the count. */
int xb_group_raw(const xb_group *g, const char *metric, double **out);
/* Whether any ok record of the group has that measurement flagged noisy. */
int xb_group_noisy(const xb_group *g, const char *metric);
/* test_acc of the group's ok records (malloc'd); returns the count. */
int xb_group_acc(const xb_group *g, double **out);

#endif
