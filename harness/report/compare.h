/* harness/report/compare.h — `xbench compare BASE NEW`: the regression check between two
 * results folders, for CI.
 *
 * Cell identity (the matching key): the groups of the results model
 * (harness/report/results.h). Two records describe the same cell when they agree on kind,
 * task label, mixer label, L, mode and threads, where the labels name every part of the
 * resolved configuration that differs between the records being read
 * (harness/report/cellkey.h: task options, model:, train:, mixer options; not seeds, thread
 * count or the latency loop's repetition settings). Seeds of one configuration are pooled;
 * configurations are never pooled. compare labels BASE, NEW and the repeat folder together,
 * so a configuration that exists on one side only shows as its own cell ("mqar
 * kv_pairs=8/...") instead of being compared with another. The key is printed as
 * "mqar/softmax/L:32/causal/threads:1" (train cells) or "latency/softmax/L:128/causal/threads:1"
 * (latency-only cells).
 *
 * Verdicts, one per matched cell and measurement (a table of all of them is printed):
 *   failed       NEW has a record of the cell that did not end ok (a skipped:* status the
 *                BASE cell shares is "skipped", not a failure).               → exit 1
 *   lost         the cell is in BASE and not in NEW.                            → exit 1
 *   accuracy     mean test accuracy over ok seeds: regression when it drops by more than
 *                max_acc_drop (absolute), improvement when it rises by more.  → exit 1
 *   latency      ratio = median(NEW repetitions) / median(BASE repetitions) of one
 *                measurement (--metric, default model_fwd), one-sided Mann–Whitney U test.
 *                Compared only when both folders were measured on the same machine (same
 *                boot: meta.json's machine.boot_id; `latency` option overrides), else one
 *                line says latency was not compared. Not a verdict when either side is
 *                flagged noisy ("noisy") or has fewer than XB_COMPARE_MIN_REPS repetitions
 *                ("not tested"). With a repeat of the baseline (a second run of the same
 *                suite on the same machine), the allowed slowdown of a cell is the largest
 *                of max_slowdown, twice that cell's own run-to-run change, and the largest
 *                run-to-run change of any cell; a slowdown past
 *                max_slowdown but inside that is "within spread".
 *                regression: ratio > 1 + allowed and p < alpha               → exit 1
 *   no common cells between BASE and NEW                                       → exit 1
 * Cells only in NEW are listed and change nothing. */
#ifndef XB_COMPARE_H
#define XB_COMPARE_H

#include <stdio.h>

#include <json-c/json.h>


/* Repetitions per side below which the U test is not run (Google Benchmark's compare.py
 * uses the same figure). */
#define XB_COMPARE_MIN_REPS 9

/* ---- compare ------------------------------------------------------------------------- */

/* When latency is compared. */
enum { XB_LATENCY_SAME_MACHINE = 0, XB_LATENCY_ALWAYS = 1, XB_LATENCY_NEVER = 2 };

typedef struct xb_compare_opts {
    double max_slowdown;    /* 0.10 = 10 % */
    double max_acc_drop;    /* absolute, in accuracy units (0.02 = 2 points) */
    double alpha;           /* significance level of the one-sided test */
    const char *metric;     /* "model_fwd" (default), "model_fwdbwd", "mixer_fwd", "mixer_fwdbwd",
                               "model_train" (a folder without it compares no latency) */
    int latency;            /* XB_LATENCY_*: same machine only (default), always, never */
    const char *repeat;     /* a second run of BASE's suite on BASE's machine, or NULL */
} xb_compare_opts;

/* Exit statuses of compare. */
enum { XB_COMPARE_OK = 0, XB_COMPARE_REGRESSION = 1, XB_COMPARE_BAD_INPUT = 2 };

/* Compare two results folders; the report goes to out, warnings and errors (each naming the
 * file) to err. Returns XB_COMPARE_OK, XB_COMPARE_REGRESSION (a regression, a lost or failed
 * cell, or no common cell) or XB_COMPARE_BAD_INPUT (a folder or its cells.jsonl missing or
 * unreadable, a line that does not parse, a record without kind/mixer/L, or no records at
 * all). */
int xb_compare_dirs(const char *base, const char *new_dir, const xb_compare_opts *o, FILE *out,
                    FILE *err);

#endif
