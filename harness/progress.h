/* harness/progress.h — the sweep's progress on stderr.
 * On a TTY: one live line, rewritten in place, e.g.
 *   [12/96] mqar L=256 gla  step 140/300 loss 1.23  cell 0:41  ETA 6m
 * and a permanent line per finished cell that did not end ok. Otherwise (a log file, CI):
 * one line per finished cell. quiet prints nothing. Colour only on a TTY without NO_COLOR. */
#ifndef XB_PROGRESS_H
#define XB_PROGRESS_H

#include <stdio.h>

typedef struct xb_progress {
    FILE *f;
    int tty, color, quiet;
    int done, total;            /* cells finished (this session + resumed) / in this run */
    int ran;                    /* cells run in this session (for the ETA) */
    double ran_s;               /* their summed wall time */
    double cell_t0, last_draw;
    char what[160];             /* "mqar L=256 gla" */
    char detail[96];            /* "step 140/300 loss 1.23" */
    int line_shown;
} xb_progress;

void xb_progress_init(xb_progress *p, FILE *f, int quiet, int total);
/* A cell starts (what = "task L=… mixer …"). */
void xb_progress_start(xb_progress *p, const char *what);
/* Child progress: phase "train" with step/steps/loss, or another phase name. */
void xb_progress_update(xb_progress *p, const char *phase, int step, int steps, double loss);
/* A cell ended with status (ran = 1 if it ran in this session, wall = its seconds). */
void xb_progress_end(xb_progress *p, const char *status, const char *note, int ran, double wall);
/* Clear the live line (before other output). */
void xb_progress_clear(xb_progress *p);
/* "6m", "1h02m", "41s". */
void xb_fmt_duration(double s, char *buf, size_t n);

#endif
