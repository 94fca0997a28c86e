/* harness/merge.h — join the results folders of the shards of one suite (`xbench merge
 * DIR... -o OUT`) into one folder, as if one machine had run every cell.
 *
 * Every input must be a results folder (meta.json and cells.jsonl) of the same suite
 * (meta.json's suite_hash); folders of different suites, a folder given twice, or OUT among
 * the inputs are refused. OUT may be new, empty, or an earlier merge (it is rewritten); a
 * folder that a run wrote is never overwritten.
 *
 *   OUT/cells.jsonl  the last record of each cell (config_hash) of every input, ordered by
 *                    cell index. A cell recorded in two folders is a duplicate: a warning
 *                    names it and both folders, and the record kept is the one that ended ok
 *                    when only one did, else the one that finished last, else the one of the
 *                    folder named first.
 *   OUT/meta.json    the first folder's meta (suite, canonical text, hash, machine), without
 *                    "shard", with "cells" and "cell_hashes" of the whole merged run,
 *                    "started"/"finished" spanning the shards, and "merged": {"at", "folders":
 *                    [{dir, shard, host, cpu, git_commit, started, finished, cells, records,
 *                    machine}]}; a warning in "warnings" when the shards ran on different
 *                    hosts or CPUs (latencies then come from several machines) or builds.
 *   then the tables (harness/report/report.h) and, unless no_plots, the plots
 *   (harness/report/plot.h).
 *
 * The cells the merge should hold: the suite re-expanded from meta.json's suite_canonical
 * with each folder's --only and --threads (when it reproduces the suite hash), together with
 * every folder's cell_hashes. Missing cells are listed (kind, task, mixer, L, seed, threads),
 * and shards K/N of which no folder was given are named. */
#ifndef XB_MERGE_H
#define XB_MERGE_H

#include <stdio.h>

typedef struct xb_merge_opts {
    int no_plots;     /* skip gnuplot */
    int quiet;        /* no summary on out */
    FILE *out;        /* the summary (NULL: none) */
    FILE *err;        /* errors, warnings (duplicates, missing cells) */
} xb_merge_opts;

enum { XB_MERGE_OK = 0, XB_MERGE_INCOMPLETE = 1 };

/* Merge dirs[0 .. n) into out_dir. Returns XB_MERGE_OK (every cell present and ok),
 * XB_MERGE_INCOMPLETE (written, but some cell is missing or did not end ok, skipped
 * included) or a negative XB_E* code (bad input: nothing written; message on err). */
int xb_merge(const char *const *dirs, int n, const char *out_dir, const xb_merge_opts *o);

#endif
