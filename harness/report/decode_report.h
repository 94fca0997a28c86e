/* harness/report/decode_report.h — the decode section of tables.md: per-token decode time of each
 * mixer against context length (records of kind "decode", harness/measure.h), the state each
 * keeps, and the context from which each decodes faster than softmax. */
#ifndef XB_DECODE_REPORT_H
#define XB_DECODE_REPORT_H

#include "harness/report/results.h"

/* The section for one thread count (0: any), or NULL when there is no decode record. The
 * string is malloc'd. thr_note is appended to the heading (", threads = 2" or ""). */
char *xb_decode_section(const xb_results *r, int threads, const char *thr_note);

#endif
