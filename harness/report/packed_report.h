/* harness/report/packed_report.h — the padding-free batches section of tables.md: for the training
 * cells whose test examples vary in length (records with "packed", harness/measure.h), the
 * whole-model forward of one batch padded against the same batch packed (MIXERS.md §29.1). */
#ifndef XB_PACKED_REPORT_H
#define XB_PACKED_REPORT_H

#include "harness/report/results.h"

/* The section for one thread count (0: any), or NULL when no record has a packed
 * measurement; malloc'd. thr_note is appended to the heading. */
char *xb_packed_section(const xb_results *r, int threads, const char *thr_note);

#endif
