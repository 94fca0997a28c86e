/* harness/diag.h — compiler-style messages that point into an input file (jq's locfile,
 * gcc's caret lines):
 *
 *   suite.yaml:12:7: tasks[1].lengths[2]: expected a positive integer, got 'abc'
 *      12 |     lengths: [64, 128, abc]
 *         |                        ^~~
 *   note: ...                                  (optional, xb_diag_note)
 *
 * Lines and columns are 1-based here; libyaml marks are 0-based (callers add 1). */
#ifndef XB_DIAG_H
#define XB_DIAG_H

#include <stddef.h>
#include <stdio.h>

#include "core/text.h"   /* xb_put_escaped, xb_escape, xb_closest_list: what messages use */

typedef struct xb_diag {
    const char *file;   /* name printed in messages */
    const char *text;   /* the whole source, for quoting lines (may be NULL) */
    size_t len;
    FILE *out;          /* where messages go (may be NULL: count only) */
    int n_errors;
    int n_warnings;
    int sorted;         /* 1: keep messages and print them in file order at xb_diag_flush */
    int n_msgs, cap_msgs;
    struct xb_diag_msg *msgs;
} xb_diag;

void xb_diag_init(xb_diag *d, const char *file, const char *text, size_t len, FILE *out);
/* Print kept messages sorted by (line, column, order of report), then forget them. Also frees
 * what xb_diag holds; call it once at the end when d->sorted is set (harmless otherwise). */
void xb_diag_flush(xb_diag *d);
/* An error at (line, col) with a caret under `span` characters (0 or 1: a single caret).
 * `path` is the key path ("" or NULL: none). */
void xb_diag_error(xb_diag *d, int line, int col, int span, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
void xb_diag_warning(xb_diag *d, int line, int col, int span, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));
/* A "note: ..." line belonging to the last message. */
void xb_diag_note(xb_diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Columns of a quoted source line; a longer line is cut around the caret ("..."). */
#define XB_DIAG_WIDTH 200

#endif
