/* harness/compare.h — cells grouped by identity, and `xbench compare BASE NEW`: regressions
 * between two results folders, for CI.
 *
 * Cell identity (the matching key). Two records describe the same cell when they agree on
 *   kind (train | latency), task (train cells), mixer, L, threads, causal
 * and nothing else: seeds are pooled (accuracy is averaged over them, latency repetitions are
 * concatenated), and config_hash is NOT part of the key, because it changes with settings
 * that do not change what a cell measures (min_reps, max_reps, timeouts, other tasks' options,
 * the suite's name). The key is printed as "mqar/softmax/L:32/causal/threads:1" (train cells)
 * or "latency/softmax/L:128/causal/threads:1" (latency-only cells). When the shape of the
 * work differs between the two sides (model, mixer options, task options, training recipe:
 * the record's "config" without seed and latency settings), the cell is still compared and
 * marked "config changed".
 *
 * Verdicts per matched cell:
 *   latency   ratio = median(NEW repetitions) / median(BASE repetitions) of one measurement
 *             (--metric, default model_fwd), repetitions pooled over the ok records; one-sided
 *             Mann–Whitney U test (harness/stats.h, normal approximation) of "NEW is slower".
 *             regression:  ratio > 1 + max_slowdown  and  p < alpha
 *             improvement: ratio < 1 / (1 + max_slowdown)  and  p(NEW is faster) < alpha
 *             With fewer than XB_COMPARE_MIN_REPS repetitions on either side the test is not
 *             run: a warning, and never a regression or an improvement.
 *   accuracy  (train cells) mean test accuracy over ok seeds, with its sample std.
 *             regression:  mean(BASE) − mean(NEW) > max_acc_drop
 *             improvement: mean(NEW) − mean(BASE) > max_acc_drop
 *   status    a cell with fewer ok records in NEW than in BASE (a seed that used to end ok
 *             crashed, timed out, diverged...) is a regression too.
 * Cells present on one side only are listed and do not change the exit status. */
#ifndef XB_COMPARE_H
#define XB_COMPARE_H

#include <stdio.h>

#include <json-c/json.h>

/* Repetitions per side below which the U test is not run (Google Benchmark's compare.py
 * uses the same figure). */
#define XB_COMPARE_MIN_REPS 9

/* ---- cells grouped by identity (shared with harness/benchjson.c) -------------------- */

typedef struct xb_cgroup {
    char key[256];          /* "mqar/softmax/L:32/causal/threads:1" */
    int kind;               /* XB_KIND_TRAIN or XB_KIND_LATENCY (harness/report.h) */
    const char *task;       /* "" for latency cells */
    const char *mixer;
    int L, threads, causal;
    int n, ok;              /* records in the group, records that ended ok */
    json_object **rec;      /* the records, in file order (borrowed) */
    json_object *shape;     /* config without seed/latency settings (owned; NULL = none) */
    int shape_mixed;        /* records of the group disagree on shape */
} xb_cgroup;

/* Same shape of work: the configs are equal as JSON values (json_object_equal: numbers by
 * value, not by how they were printed). */
int xb_cgroup_same_shape(const xb_cgroup *a, const xb_cgroup *b);

/* Group records (the latest per config_hash, as xb_report_load returns them) by identity,
 * in order of first appearance. *out is malloc'd; free with xb_cgroups_free. Returns the
 * number of groups, or XB_ENOMEM. */
int xb_cgroups(json_object *records, xb_cgroup **out);
void xb_cgroups_free(xb_cgroup *g, int n);

/* Repetition times (seconds) of one measurement ("model_fwd", ...) of the group's ok
 * records, concatenated in record order. *out malloc'd (NULL when none); returns the count. */
int xb_cgroup_raw(const xb_cgroup *g, const char *metric, double **out);
/* test_acc of the group's ok records (malloc'd); returns the count. */
int xb_cgroup_acc(const xb_cgroup *g, double **out);

/* ---- compare ------------------------------------------------------------------------- */

typedef struct xb_compare_opts {
    double max_slowdown;    /* 0.10 = 10 % */
    double max_acc_drop;    /* absolute, in accuracy units (0.02 = 2 points) */
    double alpha;           /* significance level of the one-sided test */
    const char *metric;     /* "model_fwd" (default), "model_fwdbwd", "mixer_fwd", "mixer_fwdbwd",
                               "model_train" (a folder without it compares no latency) */
} xb_compare_opts;

/* Exit statuses of compare. */
enum { XB_COMPARE_OK = 0, XB_COMPARE_REGRESSION = 1, XB_COMPARE_BAD_INPUT = 2 };

/* Compare two results folders; the report goes to out, warnings and errors (each naming the
 * file) to err. Returns XB_COMPARE_OK, XB_COMPARE_REGRESSION or XB_COMPARE_BAD_INPUT (a
 * folder or its cells.jsonl missing or unreadable, a line that does not parse, a record
 * without kind/mixer/L, or no records at all). */
int xb_compare_dirs(const char *base, const char *new_dir, const xb_compare_opts *o, FILE *out,
                    FILE *err);

#endif
