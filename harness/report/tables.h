/* harness/report/tables.h — the sections of tables.md, one file per kind of section, put
 * together by xb_report_tables (harness/report/tables.c):
 *
 *   tables.c          the heading, the resolved suite, the machine; accuracy (mixers × tasks
 *                     at each length, mean ± std over seeds, chance, parameter counts and
 *                     LRA's † rule, not-learned marks); training; the cells not ok
 *   tables_latency.c  latency (sweep and training lengths, GFLOP/s, fraction of FMA peak),
 *                     a training step against the forward, FLOPs and memory, scaling
 *                     exponents and crossovers against softmax, thread scaling
 *   tables_packed.c   padding-free batches (MIXERS.md §29.1)
 *   tables_decode.c   decode time per token against context (MIXERS.md §29.2)
 *
 * Each section is written for one thread count (threads 0: any) with thr_note appended to
 * its heading (", threads = 2" or ""). A grid point without a usable value shows "— (status)",
 * never 0. */
#ifndef XB_TABLES_H
#define XB_TABLES_H

#include <json-c/json.h>

#include "harness/report/fmt.h"
#include "harness/report/results.h"

/* What every section reads. */
typedef struct xb_tables {
    xb_sb *b;               /* tables.md as it grows */
    const xb_results *res;
    double peak_core;       /* FMA peak GFLOP/s of one core; NAN when unknown */
    json_object *fma;       /* measured FMA GFLOP/s of t threads at [t-1], or NULL */
    json_object *not_run;   /* meta.json's {task: [mixers its `mixers:` leaves out]}, or NULL */
} xb_tables;

/* A table's heading row: first, then cols[0..k) (or ints[0..k) when cols is NULL), then last
 * (may be NULL), and the alignment row (the first column left, the others right). */
void xb_tables_header(xb_sb *b, const char *first, const char *const *cols, int k, const int *ints,
                      const char *last);
/* "— (timeout)" for a grid point with no usable value. */
void xb_tables_missing(const xb_agg *a, char *buf, size_t n);
/* "— (not run)" for a (task label, mixer) the suite leaves out on purpose, else as
 * xb_tables_missing. */
void xb_tables_missing_cell(const xb_tables *c, const char *task, const char *mixer, const xb_agg *a,
                            char *buf, size_t n);
/* The machine's FMA ceiling for a thread count: the best measured rate over 1 .. threads
 * threads (a program may always use fewer threads, so the ceiling never drops), else one
 * core's peak times the count. */
double xb_tables_peak(const xb_tables *c, int threads);

/* The sections, appended to c->b. */
void xb_tables_accuracy(xb_tables *c, int threads, const char *thr_note);
void xb_tables_training(xb_tables *c, int threads, const char *thr_note);
void xb_tables_latency(xb_tables *c, int threads, const char *thr_note);
void xb_tables_flops_memory(xb_tables *c, int threads);   /* the first thread count only */
void xb_tables_scaling(xb_tables *c, int threads);
void xb_tables_thread_scaling(xb_tables *c);               /* across thread counts */
/* These two return their section (malloc'd), or NULL when no record has what they show. */
char *xb_tables_packed(const xb_results *r, int threads, const char *thr_note);
char *xb_tables_decode(const xb_results *r, int threads, const char *thr_note);

#endif
