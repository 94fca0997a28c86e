/* harness/report/report.h — derived files of a results folder, regenerated from cells.jsonl at any
 * time (`xbench report DIR`, and at the end of `xbench run`):
 *
 *   results.csv    one row per cell (the last record per config_hash), flat columns
 *   results.json   {"meta", "cells" (records without raw repetition times), "accuracy",
 *                   "latency", "scaling"} — the aggregates the tables show
 *   tables.md      the resolved suite, a machine summary, then accuracy (mixers × tasks at
 *                  each length, mean ± std over seeds, with a chance row and a parameter
 *                  count column; † on a model > 10% over softmax's count), training, latency
 *                  (mixers × lengths, with achieved GFLOP/s and fraction of FMA peak), FLOPs,
 *                  memory, scaling exponents and crossovers vs softmax, and the cells that did
 *                  not end ok. A failed or missing cell shows "—" with its status, never 0.
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
