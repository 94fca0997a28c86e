/* harness/report/summary.h — what `xbench run` prints at the end: a few lines a person reads on
 * the terminal, where tables.md (written beside it) has every table.
 *
 *   the run: xbench version and commit, suite, cells ok / not ok, the results folder
 *   the accuracy tables (tables.md's "Test accuracy" section, as it is there)
 *   one line per mixer: its mean accuracy over the accuracy columns every mixer has, its
 *     whole-model forward latency (geometric mean over the lengths every mixer has), and
 *     which of "most accurate", "fastest" and "Pareto front" (no other mixer is at least as
 *     accurate and at least as fast, and better in one) it is
 *   a warning when more than a tenth of the timings were flagged noisy, with the load
 *     average and the CPU count at the end of the run. */
#ifndef XB_SUMMARY_H
#define XB_SUMMARY_H

#include <stdio.h>

#include <json-c/json.h>

/* The summary of records (the latest per config_hash) and meta (may be NULL) on out; tables
 * is tables.md's text (NULL: made here from the records). */
void xb_summary_print(json_object *meta, json_object *records, const char *dir, const char *tables,
                      FILE *out);

/* Load dir (as xb_report_load) and print its summary. 0 or XB_E* (message on err). */
int xb_summary_dir(const char *dir, FILE *out, FILE *err);

/* The share of ok records' latency measurements flagged noisy: *noisy of *total. */
void xb_summary_noisy(json_object *records, int *noisy, int *total);

#endif
