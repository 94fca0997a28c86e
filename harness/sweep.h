/* harness/sweep.h — the grid of cells and the loop that runs them (DESIGN.md "The way
 * data flows").
 *
 * Cells, in this order (the index is the position in this full list, before --only and
 * --shard; XB_FAULT and progress use it):
 *   training cells  task × mixer × length × seed × threads (lengths from tasks[i].lengths)
 *   latency cells   mixer × latency.lengths × threads (random tokens, no training; the
 *                   first seed only, the model of the first task, mode latency.causal)
 * Each cell is resolved in the parent (task/mixer/model/train configs, FLOPs, analytic
 * bytes) and hashed; cells whose mode the mixer lacks or whose bytes exceed mem_limit_mb are
 * recorded as skipped without forking. The rest run one at a time in a child
 * (harness/cell.c); every record is appended to cells.jsonl as soon as it ends.
 *
 * --resume skips cells whose config_hash already has a record in cells.jsonl, except
 * records whose status says the environment ended them (timeout, oom, crashed:*): those
 * run again and the new record supersedes the old. A folder holding cells of a different
 * suite (meta.json's suite_hash) is refused. A last line of cells.jsonl cut short by a crash
 * is cut off first, with a warning (its cell runs again).
 *
 * One writer per folder: the run holds <dir>/.lock (flock, harness/report/store.h) from before it
 * reads cells.jsonl to after the derived files are written; a second run into the folder, or
 * a --resume beside a live run, is refused (XB_EINVAL, message naming the folder and the
 * holder's pid). Readers (xbench report, plot) take no lock.
 *
 * Writing cells.jsonl can fail (a full disk: ENOSPC; a file-size limit: EFBIG; SIGXFSZ is
 * ignored during the run so the write fails instead of killing the process): the record that
 * did not fit is cut off again, the run stops with a message naming the file and the reason,
 * and returns XB_EIO; every earlier record stays whole, and --resume continues.
 *
 * One line of cells.jsonl (a JSON object; absent measurements are null, never 0):
 *   v (1), index, kind ("train"|"latency"), task (null for latency), mixer, L, seed, threads,
 *   causal, status, error (message or null), config_hash, suite_hash,
 *   flops_mixer, flops_model (analytic forward FLOPs of one sequence), bytes_analytic,
 *   data {train, val, test, rejected, source}, chance (test majority-class rate), params,
 *   test_acc, val_acc, final_loss, steps, train_time_s, loss_curve [[step, mean loss], ...]
 *   (at most 256 bucket means), latency {batch, N, clock_floor_s, mixer_fwd, mixer_fwdbwd,
 *   model_fwd, model_fwdbwd, model_train} (each as harness/measure.h describes, raw times
 *   included; records written before model_train existed lack it),
 *   child_s, as_base_kb, peak_rss_kb (the child's ru_maxrss), wall_s (fork to reap),
 *   stderr (tail of the child's stderr, only when not ok), finished (UTC), config (the
 *   resolved configuration config_hash is the FNV-1a of), nonfinite_fields (only when a
 *   number was NaN/inf: the paths written as null; an "ok" record so becomes "error"). */
#ifndef XB_SWEEP_H
#define XB_SWEEP_H

#include <stdio.h>

#include "harness/measure.h"
#include "harness/suite.h"

typedef struct xb_sweep_opts {
    const char *out_dir;   /* -o; NULL → results/<suite name> (a shard: ...-shard-K-of-N) */
    int threads;           /* --threads N: replaces the suite's thread axis; 0 = the suite's */
    const char *only;      /* --only a,b,c: mixer names; NULL = every mixer of the suite */
    int resume;
    int quiet;             /* no progress on err */
    int shard_k, shard_n;  /* run shard K of N of the filtered list: the cells dealt out by
                              estimated cost, longest first (harness/shard.h) */
    int no_plots;          /* skip gnuplot at the end */
    int machine;           /* machine ceilings in meta.json: 0 describe only, 1 quick, 2 full */
    FILE *out;             /* tables printed here at the end; NULL = not printed */
    FILE *err;             /* progress, warnings, errors */
} xb_sweep_opts;

/* Sweep exit codes besides negative XB_E* errors. */
enum { XB_SWEEP_OK = 0, XB_SWEEP_NOT_ALL_OK = 1, XB_SWEEP_INTERRUPTED = 130 };

/* Expand the suite into its cells (after --only/--shard; resolved, hashed). */
int xb_sweep_expand(const xb_suite *s, const xb_sweep_opts *o, xb_cell_spec **cells, int *n,
                    FILE *err);
void xb_sweep_cells_free(xb_cell_spec *cells, int n);

/* `run --dry-run`: the cells the options select, one line each, on out; nothing runs and
 * nothing is written. 0 or a negative XB_E* code (message on o->err). */
int xb_sweep_plan(const xb_suite *s, const xb_sweep_opts *o, FILE *out);

/* The output folder the options select (malloc'd). */
char *xb_sweep_dir(const xb_suite *s, const xb_sweep_opts *o);

/* Run the sweep. Returns XB_SWEEP_OK, XB_SWEEP_NOT_ALL_OK (some cell of the suite did not end
 * ok, skipped included), XB_SWEEP_INTERRUPTED (SIGINT/SIGTERM: the running cell was killed and
 * not recorded) or a negative XB_E* code, message on o->err: XB_EINVAL (bad options, a folder
 * of another suite or already written without --resume, a folder another run holds: nothing
 * ran), XB_EIO (a file could not be written: the run stopped there, the records written
 * before it are whole). */
int xb_sweep_run(const xb_suite *s, const xb_sweep_opts *o);

/* Statuses --resume runs again. */
int xb_status_rerun(const char *status);

#endif
