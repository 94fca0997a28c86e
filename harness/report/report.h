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

#include "harness/report/store.h"

/* Regenerate the derived files of dir. Prints tables.md to print when non-NULL; warnings
 * (unreadable lines, records of another suite) and errors go to err. 0 or XB_E*. */
int xb_report_dir(const char *dir, FILE *print, FILE *err);

/* What every reader of a results folder starts from: meta.json (NULL when absent or
 * unparsable) and the records of cells.jsonl that belong to meta's suite, the last one per
 * config_hash. Lines that do not parse are skipped with a warning on err and counted in
 * *bad_lines (may be NULL). Returns 0, XB_ENOTFOUND (no cells.jsonl) or XB_EIO (unreadable),
 * with a message on err; the caller puts *meta and *recs. */
int xb_report_load(const char *dir, json_object **meta, json_object **recs, FILE *err,
                   int *bad_lines);

/* The tables.md text for the given meta (may be NULL) and records (the latest per cell).
 * Returns a malloc'd string. */
char *xb_report_tables(json_object *meta, json_object *records);
/* The results.csv text. */
char *xb_report_csv(json_object *records);

/* ---- views over records, shared with harness/report/plot.c ---- */


typedef struct xb_rview {
    json_object *o;
    int kind;               /* XB_KIND_TRAIN, XB_KIND_LATENCY or XB_KIND_DECODE */
    const char *task;       /* the task label: its name and what differs ("mqar kv_pairs=8",
                               harness/report/cellkey.h); "" for latency cells */
    const char *mixer;      /* the mixer label: its name and what differs ("local window=64") */
    const char *task_name, *mixer_name;   /* the names alone */
    const char *status;
    int L, threads, ok;
    int not_learned;        /* xb_cell_not_learned (harness/report/learned.h): 1, 0, -1 cannot tell */
    long long seed;
} xb_rview;

/* One view per record (malloc'd array; one free() releases it and its labels; the views
 * borrow from records). Records of different configurations get different labels, so every
 * grouping below (task, mixer, L, threads) pools seeds of one configuration only. */
int xb_rviews(json_object *records, xb_rview **out);
/* Distinct values in order of first appearance (strings) or ascending (ints), over the views
 * that match kind (XB_KIND_ANY: all) and task (NULL: any). Arrays are malloc'd. */
int xb_distinct_mixers(const xb_rview *v, int n, int kind, const char ***out);
int xb_distinct_tasks(const xb_rview *v, int n, const char ***out);
int xb_distinct_lengths(const xb_rview *v, int n, int kind, const char *task, int **out);
int xb_distinct_threads(const xb_rview *v, int n, int **out);

/* Aggregate over the seeds of a grid point (kind, task or NULL, mixer, L, threads):
 * *total = matching records, returns how many ended ok. */
typedef struct xb_agg {
    int total, ok;
    double mean, std;       /* of the field over ok records (std 0 for one) */
    double median;          /* median over ok records */
    int noisy;              /* any ok record's measurement flagged noisy */
    char status[64];        /* "ok", or the statuses of records not ok ("timeout, oom") */
} xb_agg;
/* field: a dotted path into the record, e.g. "test_acc" or "latency.model_fwd.median". */
void xb_aggregate(const xb_rview *v, int n, int kind, const char *task, const char *mixer,
                  int L, int threads, const char *field, xb_agg *a);
/* "12.3 µs", "4.56 ms", "1.2 s"; "—" when not finite. */
void xb_fmt_time(double s, char *buf, size_t n);
/* Numeric value at a dotted path, NAN when absent or null. */
double xb_record_num(json_object *rec, const char *path);

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
void xb_params_compare(const xb_rview *v, int n, const char *task, const char *mixer, int L,
                       xb_params_cmp *out);

#endif
