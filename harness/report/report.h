/* harness/report/report.h — derived files of a results folder, regenerated from cells.jsonl at
 * any time (`xbench report DIR`, and at the end of `xbench run`):
 *
 *   results.csv    one row per cell (the last record per config_hash), flat columns, then
 *                  the task and mixer labels, not_learned and LRA's parameter ratio
 *   results.json   {"meta" (without cell_hashes), "cells" (records without raw repetition
 *                  times), "aggregates" (per grid point: kind, task, mixer, labels, config,
 *                  L, threads, the mean/std/median over seeds of accuracy, loss, train
 *                  time, peak RSS and each timing; not-learned seeds and parameter counts
 *                  for training cells), "params_rule"}
 *   tables.md      the resolved suite, a machine summary, then the sections of
 *                  harness/report/tables.h. A failed or missing cell shows "—" with its
 *                  status, never 0.
 *   bench-*.json, gbench.json   the CI exports (harness/report/benchjson.h)
 *
 * Every file is written whole (temporary name + rename). */
#ifndef XB_REPORT_H
#define XB_REPORT_H

#include <stdio.h>

#include <json-c/json.h>

#include "harness/report/results.h"

/* Regenerate the derived files of dir (and the CI exports, harness/report/benchjson.h).
 * Prints tables.md to print when non-NULL; warnings (unreadable lines, records of another
 * suite) and errors go to err. 0 or XB_E*. */
int xb_report_dir(const char *dir, FILE *print, FILE *err);

/* The tables.md text of a results model. Returns a malloc'd string (NULL: out of memory). */
char *xb_report_tables(const xb_results *r);
/* The results.csv text. */
char *xb_report_csv(const xb_results *r);

#endif
