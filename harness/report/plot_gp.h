/* harness/report/plot_gp.h — what the figures of harness/report/plot.c share: a gnuplot script
 * as it grows, the templates of plots/NAME.gp it is written from, quoting, file names, the
 * mixers' styles, log axes, the frame every script starts and ends with, and running gnuplot.
 *
 * Names (mixer and task labels, statuses) come from cells.jsonl, which anyone can write, and
 * a gnuplot script is a program. So every string that reaches a script goes through
 * xb_gp_quote (or a template's {{key:q}}): a single-quoted gnuplot string, inside which
 * gnuplot expands nothing (no backslash escapes, no `backquote` commands, no @macros), ''
 * stands for one quote, and a control character (a line break would end the command) becomes
 * a space; and every text is drawn noenhanced, so _ ^ { } @ & ~ show as themselves. File
 * names built from names go through xb_gp_file_name: [A-Za-z0-9_.=-] only, behind a fixed
 * prefix, unique within the run.
 *
 * The script text itself lives in plots/NAME.gp (plots/frame.gp says how a template reads);
 * the build compiles those files into xbench (build/gen/plot_templates.c), so a binary
 * never reads the source tree. The C code here writes data rows, tick lists and the plot
 * command's list of items; everything else comes from a template section. */
#ifndef XB_PLOT_GP_H
#define XB_PLOT_GP_H

#include <stddef.h>
#include <stdio.h>

#include "harness/report/results.h"

/* ---- the templates (build/gen/plot_templates.c, generated from plots/NAME.gp) ------------ */

typedef struct xb_gp_template {
    const char *name;       /* "frame.gp" */
    const char *text;       /* the file, NUL-terminated */
    size_t len;
} xb_gp_template;
extern const xb_gp_template xb_gp_templates[];
extern const int xb_gp_n_templates;

/* ---- a script as it grows --------------------------------------------------------------- */

typedef struct xb_gp { char *p; size_t n, cap; } xb_gp;

void xb_gp_write(xb_gp *b, const char *s, size_t n);
void xb_gp_printf(xb_gp *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* s as a gnuplot single-quoted string literal (see the top of this file). */
void xb_gp_quote(xb_gp *b, const char *s);
void xb_gp_append(xb_gp *b, const xb_gp *a);

/* Section "file.section" of plots/<file>.gp ("frame.head") with its {{key}}s filled in from
 * the (key, value) pairs that follow, ended by NULL; {{key:q}} gets the value quoted. A
 * section or key that does not exist is a programmer error (XB_ASSERT). */
void xb_gp_fill(xb_gp *b, const char *section, ...) __attribute__((sentinel));
/* The section's text as it is written, {{key}}s unfilled (NULL when there is no such
 * section); *n gets its length. For tests and for xb_gp_fill. */
const char *xb_gp_section(const char *section, size_t *n);

/* Starts one item of the plot command: "plot " for the first, a continuation after. */
void xb_gp_plot_item(xb_gp *pl, int *items);

/* ---- file names ------------------------------------------------------------------------- */

typedef struct xb_gp_names { char **a; int n, cap; } xb_gp_names;
void xb_gp_name_add(xb_gp_names *u, const char *s);
void xb_gp_names_free(xb_gp_names *u);
/* out = prefix + label + suffix with every byte of the label outside [A-Za-z0-9_.=-] mapped
 * to '_' (so no '/', and the fixed prefix keeps a name from starting with '-' or '.'), the
 * label cut at 120 bytes; "-2", "-3", ... appended when a name of this run already has it
 * ("a b" and "a_b" both map to "a_b"). prefix and suffix are the caller's constants. */
void xb_gp_file_name(xb_gp_names *used, char *out, size_t cap, const char *prefix,
                     const char *label, const char *suffix);

/* ---- what every figure of a run shares ------------------------------------------------- */

typedef struct xb_plot {
    const xb_results *res;
    int threads;            /* the thread count the figures show */
    const char **mixers;    /* the run's distinct mixers, in order of first appearance */
    int nm;
} xb_plot;

/* The linestyle number (1-based) of a mixer, its bar fill and its colour: one style per
 * mixer of the run (its position among them), the same in every figure. */
int xb_plot_style(const xb_plot *c, const char *mixer);
const char *xb_plot_fill(const xb_plot *c, const char *mixer);
const char *xb_plot_colour(int style);

/* Log axes: over the data's extent [lo, hi] (padded here), labelled ticks in readable units;
 * and the x axis of sequence lengths Ls (ascending), a tick at each one measured. */
enum { XB_UNIT_SECONDS, XB_UNIT_COUNT };
void xb_plot_log_axis(xb_gp *g, const char *ax, double lo, double hi, int unit);
void xb_plot_length_axis(xb_gp *g, const int *Ls, int nL);

/* The majority-class rate of the test split at (task label, L), NAN when no record has one. */
double xb_plot_chance(const xb_plot *c, const char *task, int L);

/* The frame of a script: its size, and how many legend entries it holds at most. */
typedef struct xb_plot_frame {
    int w, h;       /* PNG and SVG size in pixels; the PDF is w/140 × h/140 inches */
    int entries;
} xb_plot_frame;
void xb_plot_begin(xb_gp *g, const xb_plot *c, const char *name, const xb_plot_frame *f,
                   const char *title, const char *xl, const char *yl);
void xb_plot_finish(xb_gp *g, const xb_plot_frame *f);
/* A figure without data: "no data" in the middle. */
void xb_plot_no_data(xb_gp *g);

/* Write <pdir>/<name>.gp (g is emptied) and, with gnuplot, render it to .png, .svg and (with
 * have_pdf) .pdf; a failing gnuplot counts in *failed and is a warning. 0 or XB_EIO. */
int xb_plot_emit(const char *pdir, const char *name, xb_gp *g, int have_gnuplot, int have_pdf,
                 FILE *err, int *failed);
/* Whether prog is an executable on PATH; gnuplot's exit status for [-e expr] [script] run
 * in dir with its output silenced (-1 when it could not run). */
int xb_plot_on_path(const char *prog);
int xb_plot_run_gnuplot(const char *dir, const char *expr, const char *script);

/* ---- the figures ------------------------------------------------------------------------- */

/* One line per mixer of `field` against length, log-log, the fitted exponent in the legend;
 * from the records of want_kind, or (XB_KIND_ANY) of the latency sweep, else the first task.
 * use_any: analytic quantities, taken from any record of a grid point whatever its status. */
void xb_plot_per_length(xb_gp *g, const xb_plot *c, const char *field, int use_any, int unit,
                        int want_kind);
/* Test accuracy against training length, one line per mixer (± std over seeds), chance. */
void xb_plot_accuracy_lines(xb_gp *g, const xb_plot *c, const char *task);
/* Grouped bars: one group per (task label, L), one bar per mixer. */
typedef struct xb_plot_group { const char *task; int L; } xb_plot_group;
void xb_plot_accuracy_bars(xb_gp *g, const xb_plot *c, const xb_plot_group *gr, int ng, int width);
/* Accuracy against forward latency with the Pareto frontier. */
void xb_plot_pareto(xb_gp *g, const xb_plot *c, const char *task);
/* Training-loss curves (first seed), one line per mixer. */
void xb_plot_loss(xb_gp *g, const xb_plot *c, const char *task, int L);

#endif
