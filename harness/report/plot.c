/* harness/report/plot.c — gnuplot scripts with inline data, rendered by gnuplot run as a separate
 * process (see harness/report/plot.h).
 *
 * Names (mixer and task labels, statuses) come from cells.jsonl, which anyone can write, and
 * a gnuplot script is a program. So every string that reaches a script goes through
 * gp_quote: a single-quoted gnuplot string, inside which gnuplot expands nothing (no
 * backslash escapes, no `backquote` commands, no @macros), '' stands for one quote, and a
 * control character (a line break would end the command) becomes a space; and every text
 * is drawn noenhanced, so _ ^ { } @ & ~ show as themselves. File names built from names go
 * through file_name: [A-Za-z0-9_.=-] only, behind a fixed prefix, unique within the run. */
#include "harness/report/plot.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/xb.h"
#include "harness/report/results.h"
#include "harness/report/stats.h"
#include "harness/report/store.h"

/* ---- a growing text buffer ---------------------------------------------------------- */

typedef struct gp { char *p; size_t n, cap; } gp;

static int gp_reserve(gp *b, size_t more)
{
    if (b->p && b->n + more + 1 <= b->cap) return 1;
    size_t cap = b->cap ? b->cap : 8192;
    while (cap < b->n + more + 1) cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) return 0;
    b->p = q;
    b->cap = cap;
    return 1;
}

static void gp_write(gp *b, const char *s, size_t n)
{
    if (!gp_reserve(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void gp_vprintf(gp *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int k = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (k < 0 || !gp_reserve(b, (size_t)k)) return;
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    b->n += (size_t)k;
}

static void gp_printf(gp *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gp_vprintf(b, fmt, ap);
    va_end(ap);
}

/* s as a gnuplot single-quoted string literal (see the top of this file). */
static void gp_quote(gp *b, const char *s)
{
    gp_write(b, "'", 1);
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\'') gp_write(b, "''", 2);
        else if (c < 0x20 || c == 0x7f) gp_write(b, " ", 1);
        else gp_write(b, p, 1);
    }
    gp_write(b, "'", 1);
}

/* The formatted text as one quoted literal. */
static void gp_quotef(gp *b, const char *fmt, ...)
{
    gp t = { 0 };
    va_list ap;
    va_start(ap, fmt);
    gp_vprintf(&t, fmt, ap);
    va_end(ap);
    gp_quote(b, t.p ? t.p : "");
    free(t.p);
}

static void gp_append(gp *b, const gp *a)
{
    if (a->p) gp_write(b, a->p, a->n);
}

/* Starts one element of a plot command: "plot " for the first, a continuation after. */
static void plot_item(gp *pl, int *items)
{
    gp_printf(pl, "%s", (*items)++ ? ", \\\n     " : "plot ");
}

/* ---- file names --------------------------------------------------------------------- */

typedef struct names { char **a; int n, cap; } names;

static int name_used(const names *u, const char *s)
{
    for (int i = 0; i < u->n; i++)
        if (strcmp(u->a[i], s) == 0) return 1;
    return 0;
}

static void name_add(names *u, const char *s)
{
    if (u->n == u->cap) {
        int cap = u->cap ? 2 * u->cap : 32;
        char **a = realloc(u->a, (size_t)cap * sizeof *a);
        if (!a) return;
        u->a = a;
        u->cap = cap;
    }
    char *d = strdup(s);
    if (d) u->a[u->n++] = d;
}

static void names_free(names *u)
{
    for (int i = 0; i < u->n; i++) free(u->a[i]);
    free(u->a);
}

/* out = prefix + label + suffix with every byte of the label outside [A-Za-z0-9_.=-] mapped
 * to '_' (so no '/', and the fixed prefix keeps a name from starting with '-' or '.'), the
 * label cut at 120 bytes; "-2", "-3", ... appended when a name of this run already has it
 * ("a b" and "a_b" both map to "a_b"). prefix and suffix are the caller's constants. */
static void file_name(names *used, char *out, size_t cap, const char *prefix, const char *label,
                      const char *suffix)
{
    char base[200];
    size_t k = (size_t)snprintf(base, sizeof base, "%s", prefix);
    for (const char *p = label; *p && k < sizeof base - 1 && p - label < 120; p++) {
        unsigned char c = (unsigned char)*p;
        int ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                 c == '_' || c == '.' || c == '=' || c == '-';
        base[k++] = ok ? (char)c : '_';
    }
    base[k] = '\0';
    snprintf(out, cap, "%s%s", base, suffix);
    for (int i = 2; name_used(used, out); i++) snprintf(out, cap, "%s%s-%d", base, suffix, i);
    name_add(used, out);
}

/* ---- running gnuplot ---------------------------------------------------------------- */

static int on_path(const char *prog)
{
    const char *path = getenv("PATH");
    if (!path) return 0;
    char buf[4096];
    for (const char *p = path; *p;) {
        const char *e = strchr(p, ':');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        snprintf(buf, sizeof buf, "%.*s/%s", (int)len, p, prog);
        if (access(buf, X_OK) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

/* gnuplot [-e expr] [script] in dir, output silenced; returns its exit status (-1 on failure). */
static int run_gnuplot(const char *dir, const char *expr, const char *script)
{
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        if (dir && chdir(dir) != 0) _exit(127);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) {
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
        }
        if (script) execlp("gnuplot", "gnuplot", "-e", expr, script, (char *)NULL);
        else execlp("gnuplot", "gnuplot", "-e", expr, (char *)NULL);
        _exit(127);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* ---- styles: one per mixer of the run ------------------------------------------------ */

/* 32 styles: 8 colours (Okabe–Ito's colour-blind-safe set, its yellow swapped for a brown
 * that reads on white) × 4 groups. Style i has colour i % 8; group i / 8 picks the dash
 * (solid, dashed, dash-dot, dash-dot-dot), filled (groups 0, 2) or open (1, 3) markers,
 * and the marker shape (c + 3 g) % 8, so no two styles share colour and marker, and the
 * first eight also differ by shape alone (for grey-scale print). Bars: solid fill for
 * group 0, a hatch for the others. Mixer i of the run (xb_distinct_mixers over all records)
 * gets style i % 32 + 1 in every figure. */
#define XB_NSTYLES 32
static const char *const style_colour[8] = { "#0072B2", "#D55E00", "#009E73", "#CC79A7",
                                             "#E69F00", "#56B4E9", "#000000", "#8C6D1F" };
/* circle, square, triangle, diamond, inverted triangle, pentagon, plus, cross */
static const int shape_filled[8] = { 7, 5, 9, 13, 11, 15, 1, 2 };
static const int shape_open[8] = { 6, 4, 8, 12, 10, 14, 1, 2 };
static const int style_dash[4] = { 1, 2, 4, 5 };
static const char *const style_fill[4] = { "solid 0.85", "pattern 4", "pattern 5", "pattern 1" };

typedef struct ctx {
    const xb_results *res;
    int threads;
    const char **mixers;    /* the run's distinct mixers, in order of first appearance */
    int nm;
} ctx;

static int mixer_index(const ctx *c, const char *mixer)
{
    for (int j = 0; j < c->nm; j++)
        if (strcmp(c->mixers[j], mixer) == 0) return j;
    return 0;
}

/* The linestyle number (1-based) of a mixer. */
static int style_of(const ctx *c, const char *mixer) { return mixer_index(c, mixer) % XB_NSTYLES + 1; }

static void define_styles(gp *g, const ctx *c)
{
    int ns = c->nm < XB_NSTYLES ? c->nm : XB_NSTYLES;
    gp_printf(g, "# one style per mixer of the run, the same in every figure of it\n");
    for (int i = 0; i < ns; i++) {
        int col = i % 8, grp = i / 8, shp = (col + 3 * grp) % 8;
        gp_printf(g, "set style line %d lc rgb '%s' lw 2 dt %d pt %d   # ", i + 1,
                  style_colour[col], style_dash[grp], grp % 2 ? shape_open[shp] : shape_filled[shp]);
        for (int j = i; j < c->nm; j += XB_NSTYLES) {
            gp_quote(g, c->mixers[j]);
            gp_write(g, " ", 1);
        }
        gp_write(g, "\n", 1);
    }
}

static const char *fill_of(const ctx *c, const char *mixer)
{
    return style_fill[(mixer_index(c, mixer) % XB_NSTYLES) / 8];
}

/* ---- axes --------------------------------------------------------------------------- */

enum { UNIT_SECONDS, UNIT_COUNT };

/* 2e-4 -> "200 µs", 1 -> "1 s" (seconds); 3e9 -> "3G" (counts). */
static void tick_label(char *buf, size_t n, double v, int unit)
{
    if (unit == UNIT_SECONDS) {
        static const double scale[4] = { 1e-9, 1e-6, 1e-3, 1 };
        static const char *const name[4] = { "ns", "µs", "ms", "s" };
        int k = 3;
        while (k > 0 && v < scale[k] * 0.9999) k--;
        snprintf(buf, n, "%.3g %s", v / scale[k], name[k]);
    } else {
        static const char *const name[7] = { "", "k", "M", "G", "T", "P", "E" };
        int k = 0;
        double s = 1;
        while (k < 6 && v >= s * 1000 * 0.9999) { s *= 1000; k++; }
        snprintf(buf, n, "%.3g%s", v / s, name[k]);
    }
}

/* A log axis over [lo, hi] (the data's extent, padded here) with labelled ticks at decades,
 * or at 1-2-5 (or every integer mantissa) when the data spans less, in readable units, and
 * unlabelled minor ticks between. */
static void log_axis(gp *g, const char *ax, double lo, double hi, int unit)
{
    if (!(lo > 0) || !(hi >= lo) || !isfinite(hi)) return;
    lo /= 1.4;
    hi *= 1.4;
    double dec = log10(hi / lo);
    static const int m1[1] = { 1 }, m125[3] = { 1, 2, 5 }, m12357[5] = { 1, 2, 3, 5, 7 },
                     mall[9] = { 1, 2, 3, 4, 5, 6, 7, 8, 9 };
    const int *ms = dec > 3.2 ? m1 : dec > 1 ? m125 : dec > 0.3 ? m12357 : mall;
    int nms = dec > 3.2 ? 1 : dec > 1 ? 3 : dec > 0.3 ? 5 : 9;
    int e0 = (int)floor(log10(lo)), e1 = (int)ceil(log10(hi));
    int step = dec > 8 ? 2 : 1;     /* every other decade on a very wide axis */
    gp_printf(g, "set logscale %s\nset %srange [%.6g:%.6g]\nset %stics (", ax, ax, lo, hi, ax);
    int first = 1;
    for (int e = e0; e <= e1; e++)
        for (int m = 1; m <= 9; m++) {
            double t = m * pow(10, e);
            if (t < lo * 0.9999 || t > hi * 1.0001) continue;
            int labelled = 0;
            for (int q = 0; q < nms; q++) labelled |= ms[q] == m;
            if (m == 1 && (e - e0) % step) labelled = 0;
            if (!labelled && dec > 6) continue;
            char lab[32] = "";
            if (labelled) tick_label(lab, sizeof lab, t, unit);
            gp_printf(g, "%s'%s' %.6g%s", first ? "" : ", ", lab, t, labelled ? "" : " 1");
            first = 0;
        }
    gp_printf(g, ")\n");
}

static void length_label(char *buf, size_t n, int L)
{
    if (L >= 1024 && L % 1024 == 0) snprintf(buf, n, "%dk", L / 1024);
    else snprintf(buf, n, "%d", L);
}

/* The x axis of sequence lengths: log2, a tick at each length measured (at powers of two
 * when there are more than 12), "1k" for 1024. Ls ascending. */
static void length_axis(gp *g, const int *Ls, int nL)
{
    while (nL > 0 && Ls[0] <= 0) { Ls++; nL--; }   /* a log axis has no room for L <= 0 */
    if (nL <= 0) return;
    double lo = Ls[0], hi = Ls[nL - 1];
    lo /= nL > 1 ? 1.25 : 2;
    hi *= nL > 1 ? 1.25 : 2;
    gp_printf(g, "set logscale x 2\nset xrange [%.6g:%.6g]\nunset mxtics\nset xtics (", lo, hi);
    char lab[32];
    if (nL <= 12) {
        for (int i = 0; i < nL; i++) {
            length_label(lab, sizeof lab, Ls[i]);
            gp_printf(g, "%s'%s' %d", i ? ", " : "", lab, Ls[i]);
        }
    } else {
        int e0 = (int)ceil(log2(lo)), e1 = (int)floor(log2(hi)), step = 1;
        while ((e1 - e0) / step + 1 > 12) step++;
        for (int e = e0; e <= e1; e += step) {
            length_label(lab, sizeof lab, 1 << e);
            gp_printf(g, "%s'%s' %d", e > e0 ? ", " : "", lab, 1 << e);
        }
    }
    gp_printf(g, ")\n");
}

/* ---- script frame ------------------------------------------------------------------- */

typedef struct frame {
    int w, h;       /* PNG and SVG size in pixels; the PDF is w/140 × h/140 inches */
    int entries;    /* legend entries at most (the height is made to hold them) */
} frame;

static void begin(gp *g, const ctx *c, const char *name, const frame *f, const char *title,
                  const char *xl, const char *yl)
{
    gp_printf(g, "# %s.gp — generated by xbench (harness/plot.c) from cells.jsonl.\n"
                 "# Redraw: gnuplot %s.gp   (writes %s.png, %s.svg and, with cairo, %s.pdf)\n"
                 "if (!exists(\"out\")) out = '%s'\n"
                 "set encoding utf8\n", name, name, name, name, name, name);
    gp_printf(g, "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                 "    set terminal pngcairo size %d,%d noenhanced font ',11'\n"
                 "} else {\n"
                 "    set terminal png size %d,%d noenhanced\n"
                 "}\n"
                 "set output out.'.png'\n"
                 "PS = 1.3   # marker scale (the PDF sets its own)\n"
                 "set pointsize PS\n", f->w, f->h, f->w, f->h);
    define_styles(g, c);
    gp_printf(g, "set title ");
    gp_quote(g, title);
    gp_printf(g, " noenhanced\nset xlabel ");
    gp_quote(g, xl);
    gp_printf(g, " noenhanced\nset ylabel ");
    gp_quote(g, yl);
    gp_printf(g, " noenhanced\nset grid lt 1 lw 0.5 lc rgb '#d0d0d0'\n"
                 "set key outside right top noenhanced\n");
}

static void finish(gp *g, const frame *f)
{
    gp_printf(g, "set terminal svg size %d,%d noenhanced font ',11'\nset output out.'.svg'\n"
                 "replot\n"
                 "if (strstrt(GPVAL_TERMINALS, 'pdfcairo') > 0) {\n"
                 "    set terminal pdfcairo size %.2fin,%.2fin noenhanced font ',9' fontscale 0.75\n"
                 "    set output out.'.pdf'\n"
                 "    PS = 0.7\n"
                 "    set pointsize PS\n"
                 "%s"
                 "    replot\n"
                 "}\n"
                 "unset output\n", f->w, f->h, f->w / 140.0, f->h / 140.0,
              /* pdfcairo spaces a long key too widely and wraps it: an explicit key font
               * keeps it to one column */
              f->entries > 12 ? "    set key font ',8' spacing 0.85\n" : "");
}

static void no_data(gp *g)
{
    /* fixed linear ranges: gnuplot refuses to autoscale a plot with no defined point */
    gp_printf(g, "unset logscale\nset xrange [0:1]\nset yrange [0:1]\n"
                 "set label 1 'no data' at graph 0.5, 0.5 center\nplot NaN notitle\n");
}

static int emit(const char *pdir, const char *name, gp *g, int have_gnuplot, int have_pdf,
                FILE *err, int *failed)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.gp", pdir, name);
    int rc = xb_write_atomic(path, g->p ? g->p : "", g->n);
    free(g->p);
    memset(g, 0, sizeof *g);
    if (rc) {
        if (err) fprintf(err, "error: cannot write '%s'\n", path);
        return rc;
    }
    if (!have_gnuplot) return 0;
    /* Render to temporary names, then rename: readers never see half an image. name holds
     * only [A-Za-z0-9_.=-] (file_name), so it is safe inside the quotes of -e. */
    char expr[600], script[300], tmp[4096], fin[4096];
    snprintf(expr, sizeof expr, "out='%s.tmp'", name);
    snprintf(script, sizeof script, "%s.gp", name);
    if (run_gnuplot(pdir, expr, script) != 0) {
        (*failed)++;
        if (err) fprintf(err, "warning: gnuplot failed on '%s'\n", path);
        return 0;
    }
    static const char *const ext[3] = { "png", "svg", "pdf" };
    for (int i = 0; i < (have_pdf ? 3 : 2); i++) {
        snprintf(tmp, sizeof tmp, "%s/%s.tmp.%s", pdir, name, ext[i]);
        snprintf(fin, sizeof fin, "%s/%s.%s", pdir, name, ext[i]);
        if (rename(tmp, fin) != 0 && err)
            fprintf(err, "warning: gnuplot wrote no '%s'\n", fin);
    }
    return 0;
}

/* ---- figures ------------------------------------------------------------------------ */

/* The records a per-length plot uses (latency sweep, else the first task). */
static int source(const xb_rec *v, int n, int *kind, const char **task)
{
    for (int i = 0; i < n; i++)
        if (v[i].kind == XB_KIND_LATENCY) { *kind = XB_KIND_LATENCY; *task = NULL; return 1; }
    for (int i = 0; i < n; i++)
        if (v[i].kind == XB_KIND_TRAIN) { *kind = XB_KIND_TRAIN; *task = v[i].task; return 1; }
    return 0;
}

static int n_plotted(double *y, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += isfinite(y[i]) && y[i] > 0;
    return k;
}

/* One line per mixer of `field` vs length, log-log, the fitted exponent in the legend; from
 * the records of want_kind, or (XB_KIND_ANY) of the latency sweep, else the first task. */
static void per_length(gp *g, const ctx *c, const char *field, int use_any, int unit, int want_kind)
{
    const xb_rec *v = c->res->rec;
    int n = c->res->n, kind = want_kind;
    const char *task = NULL;
    if (want_kind == XB_KIND_ANY && !source(v, n, &kind, &task)) { no_data(g); return; }
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    double *x = calloc((size_t)nL + 1, sizeof *x), *y = calloc((size_t)nL + 1, sizeof *y);
    int *used = calloc((size_t)nL + 1, sizeof *used);
    gp pl = { 0 };
    int lines = 0;
    double lo = INFINITY, hi = 0;
    for (int j = 0; x && y && used && j < nm; j++) {
        for (int li = 0; li < nL; li++) {
            xb_agg a;
            x[li] = Ls[li];
            if (use_any) {
                /* analytic quantities: any record of the grid point, whatever its status */
                y[li] = NAN;
                for (int i = 0; i < n && !isfinite(y[li]); i++)
                    if (v[i].kind == kind && (!task || strcmp(v[i].task, task) == 0) &&
                        strcmp(v[i].mixer, mixers[j]) == 0 && v[i].L == Ls[li])
                        y[li] = xb_record_num(v[i].o, field);
            } else {
                xb_aggregate(c->res, kind, task, mixers[j], Ls[li], c->threads, field, &a);
                y[li] = a.ok ? a.median : NAN;
            }
        }
        if (n_plotted(y, nL) == 0) continue;
        gp_printf(g, "$d%d << EOD\n", j);
        for (int li = 0; li < nL; li++)
            if (isfinite(y[li]) && y[li] > 0) {
                gp_printf(g, "%d %.9g\n", Ls[li], y[li]);
                if (y[li] < lo) lo = y[li];
                if (y[li] > hi) hi = y[li];
                used[li] = 1;
            }
        gp_printf(g, "EOD\n");
        double k = NAN, a0, r2;
        xb_fit_loglog(x, y, nL, &k, &a0, &r2);
        plot_item(&pl, &lines);
        gp_printf(&pl, "$d%d using 1:2 with linespoints ls %d title ", j, style_of(c, mixers[j]));
        if (isfinite(k)) gp_quotef(&pl, "%s (k = %.2f)", mixers[j], k);
        else gp_quote(&pl, mixers[j]);
        gp_printf(&pl, " noenhanced");
    }
    if (lines) {
        int m = 0;
        for (int li = 0; li < nL; li++)
            if (used[li]) Ls[m++] = Ls[li];
        gp_printf(g, "set logscale xy\n");
        length_axis(g, Ls, m);
        log_axis(g, "y", lo, hi, unit);
        gp_printf(g, "set key title 'k: slope of the log-log fit'\n");
        gp_append(g, &pl);
        gp_printf(g, "\n");
    } else {
        no_data(g);
    }
    free(pl.p);
    free(x); free(y); free(used); free(mixers); free(Ls);
}

/* The majority-class rate of the test split at (task, L), NAN when no record has one. */
static double chance_of(const ctx *c, const char *task, int L)
{
    for (int i = 0; i < c->res->n; i++)
        if (c->res->rec[i].kind == XB_KIND_TRAIN && strcmp(c->res->rec[i].task, task) == 0 && c->res->rec[i].L == L &&
            isfinite(xb_record_num(c->res->rec[i].o, "chance")))
            return xb_record_num(c->res->rec[i].o, "chance");
    return NAN;
}

/* Test accuracy vs training length, one line per mixer (± std over seeds), chance dashed. */
static void accuracy_lines(gp *g, const ctx *c, const char *task)
{
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, task, &Ls);
    gp pl = { 0 };
    int lines = 0;
    gp_printf(g, "# columns: L, test accuracy %% (mean over seeds), std\n");
    for (int j = 0; j < nm; j++) {
        int have = 0;
        gp_printf(g, "$d%d << EOD\n", j);
        for (int li = 0; li < nL; li++) {
            xb_agg a;
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], c->threads, "test_acc", &a);
            if (a.ok) { gp_printf(g, "%d %.6g %.6g\n", Ls[li], 100 * a.mean, 100 * a.std); have++; }
        }
        gp_printf(g, "EOD\n");
        if (!have) continue;
        plot_item(&pl, &lines);
        gp_printf(&pl, "$d%d using 1:2:3 with yerrorlines ls %d title ", j, style_of(c, mixers[j]));
        gp_quote(&pl, mixers[j]);
        gp_printf(&pl, " noenhanced");
    }
    gp_printf(g, "$chance << EOD\n");
    int hc = 0;
    for (int li = 0; li < nL; li++) {
        double ch = chance_of(c, task, Ls[li]);
        if (isfinite(ch)) { gp_printf(g, "%d %.6g\n", Ls[li], 100 * ch); hc++; }
    }
    gp_printf(g, "EOD\n");
    if (hc && lines) {
        plot_item(&pl, &lines);
        gp_printf(&pl, "$chance using 1:2 with linespoints dt 2 lw 1.5 pt 6 lc rgb 'gray40' title 'chance'");
    }
    if (lines) {
        length_axis(g, Ls, nL);
        gp_printf(g, "set yrange [0:105]\n");
        gp_append(g, &pl);
        gp_printf(g, "\n");
    } else {
        no_data(g);
    }
    free(pl.p); free(mixers); free(Ls);
}

/* A group of bars: one (task, length). */
typedef struct group { const char *task; int L; } group;

/* Grouped bars: one group per (task, L), one bar per mixer (mean ± std over seeds over
 * the bar when two or more seeds ended ok), chance a dashed segment over each group, a
 * cell whose seeds all failed shown by its status where its bar would stand. One group:
 * the mixers name the bars and each bar carries its value. */
static void accuracy_bars(gp *g, const ctx *c, const group *gr, int ng, int width)
{
    const xb_rec *v = c->res->rec;
    int n = c->res->n;
    int *fm = calloc((size_t)c->nm + 1, sizeof *fm), nf = 0;   /* the figure's mixers */
    for (int j = 0; fm && j < c->nm; j++) {
        int in = 0;
        for (int i = 0; i < n && !in; i++)
            if (v[i].kind == XB_KIND_TRAIN && strcmp(v[i].mixer, c->mixers[j]) == 0)
                for (int q = 0; q < ng && !in; q++)
                    in = strcmp(v[i].task, gr[q].task) == 0 && v[i].L == gr[q].L;
        if (in) fm[nf++] = j;
    }
    if (!nf || !ng) { no_data(g); free(fm); return; }
    double w = 0.8 / nf;
    gp pl = { 0 };
    int items = 0, label = 10, bars = 0;
    gp_printf(g, "# columns: x, test accuracy %% (mean over seeds), std, seeds ok\n");
    for (int k = 0; k < nf; k++) {
        const char *mixer = c->mixers[fm[k]];
        int have = 0;
        gp_printf(g, "$b%d << EOD\n", k);
        for (int q = 0; q < ng; q++) {
            double x = q + (k - (nf - 1) / 2.0) * w;
            xb_agg a;
            xb_aggregate(c->res, XB_KIND_TRAIN, gr[q].task, mixer, gr[q].L, c->threads, "test_acc", &a);
            if (a.ok) {
                gp_printf(g, "%.6g %.6g %.6g %d\n", x, 100 * a.mean, 100 * a.std, a.ok);
                have++;
            }
        }
        gp_printf(g, "EOD\n");
        for (int q = 0; q < ng; q++) {
            double x = q + (k - (nf - 1) / 2.0) * w;
            xb_agg a;
            xb_aggregate(c->res, XB_KIND_TRAIN, gr[q].task, mixer, gr[q].L, c->threads, "test_acc", &a);
            if (!a.ok && a.total) {
                gp_printf(g, "set label %d ", label++);
                gp_quote(g, a.status);
                gp_printf(g, " at %.6g, 1 rotate by 90 left font ',8' tc rgb 'gray30' noenhanced front\n", x);
            }
        }
        int s = style_of(c, mixer);
        if (!have) {
            if (ng > 1) {   /* every seed failed everywhere: still in the key */
                plot_item(&pl, &items);
                gp_printf(&pl, "keyentry with boxes ls %d dt 1 lw 1 fs %s border lc rgb 'gray20' title ",
                          s, fill_of(c, mixer));
                gp_quote(&pl, mixer);
                gp_printf(&pl, " noenhanced");
            }
            continue;
        }
        bars++;
        plot_item(&pl, &items);
        gp_printf(&pl, "$b%d using 1:2:(%.6g) with boxes ls %d dt 1 lw 1 fs %s border lc rgb 'gray20' title ",
                  k, w * 0.9, s, fill_of(c, mixer));
        gp_quote(&pl, mixer);
        gp_printf(&pl, " noenhanced");
        plot_item(&pl, &items);
        /* error bars as capped vectors: yerrorbars leaves a gap around its (hidden) point */
        gp_printf(&pl, "$b%d using 1:($2 - $3):(0):($4 > 1 ? 2 * $3 : 1/0) with vectors "
                       "heads size screen 0.006,90 lc rgb 'black' lw 1 notitle", k);
        if (ng == 1 && nf <= 12) {   /* values over the bars while they fit */
            plot_item(&pl, &items);
            gp_printf(&pl, "$b%d using 1:($2 + ($4 > 1 ? $3 : 0)):(sprintf('%%.1f', $2)) with labels "
                           "offset 0,0.7 font ',9' notitle", k);
        }
    }
    gp_printf(g, "$chance << EOD\n");
    int hc = 0;
    double ch1 = NAN;
    for (int q = 0; q < ng; q++) {
        double ch = chance_of(c, gr[q].task, gr[q].L);
        if (!isfinite(ch)) continue;
        gp_printf(g, "%.6g %.6g\n%.6g %.6g\n\n", q - 0.45, 100 * ch, q + 0.45, 100 * ch);
        ch1 = ch;
        hc++;
    }
    gp_printf(g, "EOD\n");
    if (hc && bars) {
        plot_item(&pl, &items);
        gp_printf(&pl, "$chance using 1:2 with lines dt 2 lw 1.5 lc rgb 'gray30' title 'chance'");
    }
    /* tick labels: the mixers under their bars (one group), else the groups */
    int longest = 0, lines2 = 0;
    gp_printf(g, "set xtics scale 0 (");
    if (ng == 1) {
        for (int k = 0; k < nf; k++) {
            const char *m = c->mixers[fm[k]];
            if ((int)strlen(m) > longest) longest = (int)strlen(m);
            gp_printf(g, "%s", k ? ", " : "");
            gp_quote(g, m);
            gp_printf(g, " %.6g", (k - (nf - 1) / 2.0) * w);
        }
    } else {
        int multiL = 0;
        for (int q = 1; q < ng; q++) multiL |= gr[q].L != gr[0].L;   /* else the title says L */
        for (int q = 0; q < ng; q++) {
            if ((int)strlen(gr[q].task) > longest) longest = (int)strlen(gr[q].task);
            gp_printf(g, "%s", q ? ", " : "");
            gp_quote(g, gr[q].task);
            if (multiL) { gp_printf(g, ".\"\\n\".'L = %d'", gr[q].L); lines2 = 1; }
            gp_printf(g, " %d", q);
        }
    }
    gp_printf(g, ")\n");
    int slots = ng == 1 ? nf : ng;
    /* rotate the labels when they would not fit side by side (a character is ~8 pixels) */
    int rotate = slots * (longest + 2) > (width - 250) / 8;
    if (rotate) gp_printf(g, "set xtics rotate by %d right\n", slots > 12 ? 90 : 30);
    if (lines2) gp_printf(g, "set bmargin %d\n", rotate ? 4 + 3 * (longest > 40 ? 40 : longest) / 10 : 5);
    gp_printf(g, "set xrange [%.6g:%.6g]\nset yrange [0:105]\nunset grid\nset grid ytics lt 1 lw 0.5 lc rgb '#d0d0d0'\n", -0.6, ng - 0.4);
    if (ng == 1) {
        gp_printf(g, "unset key\n");
        if (hc)
            gp_printf(g, "set label 2 'chance' at graph 0.99, first %.6g right offset 0,0.6 font ',9' tc rgb 'gray30'\n",
                      100 * ch1);
    }
    if (bars) {
        gp_append(g, &pl);
        gp_printf(g, "\n");
    } else {
        no_data(g);
    }
    free(pl.p);
    free(fm);
}

static void pareto_plot(gp *g, const ctx *c, const char *task)
{
    int threads = c->threads;
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, task, &Ls);
    int cap = nm * nL + 1, m = 0;
    double *lx = calloc((size_t)cap, sizeof *lx), *ay = calloc((size_t)cap, sizeof *ay),
           *mem = calloc((size_t)cap, sizeof *mem);
    int *mi = calloc((size_t)cap, sizeof *mi), *li_ = calloc((size_t)cap, sizeof *li_);
    double maxmem = 0, lo = INFINITY, hi = 0;
    for (int j = 0; lx && ay && mem && mi && li_ && j < nm; j++)
        for (int li = 0; li < nL; li++) {
            xb_agg a, t, r;
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], threads, "test_acc", &a);
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], threads, "latency.model_fwd.median", &t);
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], threads, "peak_rss_kb", &r);
            if (!a.ok || !t.ok || !(t.median > 0)) continue;
            lx[m] = t.median;
            ay[m] = 100 * a.mean;
            mem[m] = r.ok ? r.median / 1024 : 0;
            if (mem[m] > maxmem) maxmem = mem[m];
            if (lx[m] < lo) lo = lx[m];
            if (lx[m] > hi) hi = lx[m];
            mi[m] = j;
            li_[m] = Ls[li];
            m++;
        }
    gp_printf(g, "# columns: latency s, accuracy %%, bubble size (∝ sqrt peak RSS), peak RSS MiB, L\n");
    gp pl = { 0 };
    int lines = 0;
    for (int j = 0; j < nm; j++) {
        int have = 0;
        gp_printf(g, "$d%d << EOD\n", j);
        for (int k = 0; k < m; k++)
            if (mi[k] == j) {
                double size = maxmem > 0 ? 1 + 3 * sqrt(mem[k] / maxmem) : 2;
                gp_printf(g, "%.6g %.6g %.3f %.1f %d\n", lx[k], ay[k], size, mem[k], li_[k]);
                have++;
            }
        gp_printf(g, "EOD\n");
        if (!have) continue;
        int s = style_of(c, mixers[j]);
        plot_item(&pl, &lines);
        gp_printf(&pl, "$d%d using 1:2:($3 * PS) with points ls %d ps variable title ", j, s);
        gp_quote(&pl, mixers[j]);
        gp_printf(&pl, " noenhanced");
        if (nL > 1) {   /* one length: the title says it */
            plot_item(&pl, &lines);
            gp_printf(&pl, "$d%d using 1:2:(sprintf('L=%%d', $5)) with labels offset 0,1.6 font ',8' "
                           "tc rgb '%s' notitle", j, style_colour[(s - 1) % 8]);
        }
    }
    /* Frontier: points no other point beats on both latency (lower) and accuracy (higher). */
    gp_printf(g, "$frontier << EOD\n");
    int nf = 0;
    int *ord = malloc((size_t)(m > 0 ? m : 1) * sizeof *ord);
    for (int k = 0; ord && k < m; k++) ord[k] = k;
    for (int a = 1; ord && a < m; a++)
        for (int b = a; b > 0 && lx[ord[b - 1]] > lx[ord[b]]; b--) {
            int t = ord[b]; ord[b] = ord[b - 1]; ord[b - 1] = t;
        }
    double best = -1;
    for (int k = 0; ord && k < m; k++)
        if (ay[ord[k]] > best) {
            best = ay[ord[k]];
            gp_printf(g, "%.6g %.6g\n", lx[ord[k]], ay[ord[k]]);
            nf++;
        }
    free(ord);
    gp_printf(g, "EOD\n");
    if (lines && nf > 1) {
        plot_item(&pl, &lines);
        gp_printf(&pl, "$frontier using 1:2 with steps dt 2 lw 1.5 lc rgb 'gray30' title 'Pareto frontier'");
    }
    if (lines) {
        log_axis(g, "x", lo, hi, UNIT_SECONDS);
        gp_printf(g, "set yrange [-3:105]\n");   /* room for a marker at 0 */
        gp_append(g, &pl);
        gp_printf(g, "\n");
    } else {
        no_data(g);
    }
    free(pl.p); free(lx); free(ay); free(mem); free(mi); free(li_); free(mixers); free(Ls);
}

static void loss_plot(gp *g, const ctx *c, const char *task, int L)
{
    const xb_rec *v = c->res->rec;
    int n = c->res->n;
    const char **mixers;
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    gp pl = { 0 };
    int lines = 0;
    for (int j = 0; j < nm; j++) {
        /* the first record (lowest seed order in the file) of this mixer that has a curve */
        json_object *curve = NULL;
        for (int i = 0; i < n && !curve; i++)
            if (v[i].kind == XB_KIND_TRAIN && strcmp(v[i].task, task) == 0 && v[i].L == L &&
                strcmp(v[i].mixer, mixers[j]) == 0 && (c->threads <= 0 || v[i].threads == c->threads))
                curve = xb_jget(v[i].o, "loss_curve");
        if (!curve || !json_object_is_type(curve, json_type_array) ||
            json_object_array_length(curve) == 0)
            continue;
        int pts = 0;
        gp_printf(g, "$d%d << EOD\n", j);
        for (size_t k = 0; k < json_object_array_length(curve); k++) {
            json_object *pt = json_object_array_get_idx(curve, k);
            json_object *ly = json_object_array_get_idx(pt, 1);
            if (!ly || json_object_is_type(ly, json_type_null)) continue;
            double y = json_object_get_double(ly);
            if (!isfinite(y)) continue;
            gp_printf(g, "%d %.6g\n", json_object_get_int(json_object_array_get_idx(pt, 0)), y);
            pts++;
        }
        gp_printf(g, "EOD\n");
        if (!pts) continue;
        plot_item(&pl, &lines);
        /* a marker every ~1/8 of the curve: the style's marker tells mixers apart too */
        gp_printf(&pl, "$d%d using 1:2 with linespoints ls %d pi %d title ", j, style_of(c, mixers[j]),
                  pts / 8 > 1 ? pts / 8 : 1);
        gp_quote(&pl, mixers[j]);
        gp_printf(&pl, " noenhanced");
    }
    if (lines) {
        gp_append(g, &pl);
        gp_printf(g, "\n");
    } else {
        no_data(g);
    }
    free(pl.p);
    free(mixers);
}

/* ---- the folder --------------------------------------------------------------------- */

int xb_plot_dir(const char *dir, FILE *err)
{
    /* report, which runs first, has said which records of another suite it left out */
    xb_results res;
    int rc = xb_results_load(&res, dir, err, NULL, XB_LOAD_QUIET_FOREIGN);
    if (rc) return rc;

    char *pdir = xb_path_join(dir, "plots");
    rc = pdir ? xb_mkdirs(pdir) : XB_ENOMEM;
    if (rc) {
        if (err) fprintf(err, "error: cannot create '%s/plots'\n", dir);
        goto out;
    }
    int have = on_path("gnuplot");
    int have_pdf = have && run_gnuplot(NULL, "set terminal pdfcairo", NULL) == 0;
    if (!have && err)
        fprintf(err, "warning: gnuplot is not on PATH: wrote the scripts in '%s' without "
                "rendering them (install gnuplot-nox, then run: cd %s && gnuplot *.gp)\n", pdir, pdir);

    const xb_rec *v = res.rec;
    int n = res.n;
    int *thr;
    int nthr = xb_distinct_threads(&res, &thr);
    ctx c = { .res = &res, .threads = nthr ? thr[0] : 0 };   /* plots show the first thread count */
    c.nm = xb_distinct_mixers(&res, XB_KIND_ANY, &c.mixers);
    int failed = 0;
    gp g = { 0 };
    names used = { 0 };
    char title[512], name[256];
    /* tall enough for a one-column key of every mixer (~17 pixels a line at 11 pt) */
    frame f = { 960, 640, c.nm + 2 };
    if (130 + 17 * f.entries > f.h) f.h = 130 + 17 * f.entries;

    name_add(&used, "latency");
    begin(&g, &c, "latency", &f, "Whole model, forward latency vs length", "sequence length N",
          "median forward time (one sequence)");
    per_length(&g, &c, "latency.model_fwd.median", 0, UNIT_SECONDS, XB_KIND_ANY);
    finish(&g, &f);
    rc = emit(pdir, "latency", &g, have, have_pdf, err, &failed);

    name_add(&used, "latency_mixer");
    begin(&g, &c, "latency_mixer", &f, "Mixer layer alone, forward latency vs length",
          "sequence length N", "median forward time (one sequence)");
    per_length(&g, &c, "latency.mixer_fwd.median", 0, UNIT_SECONDS, XB_KIND_ANY);
    finish(&g, &f);
    if (!rc) rc = emit(pdir, "latency_mixer", &g, have, have_pdf, err, &failed);

    name_add(&used, "flops");
    begin(&g, &c, "flops", &f, "Analytic forward FLOPs of one sequence (whole model)",
          "sequence length N", "FLOPs");
    per_length(&g, &c, "flops_model", 1, UNIT_COUNT, XB_KIND_ANY);
    finish(&g, &f);
    if (!rc) rc = emit(pdir, "flops", &g, have, have_pdf, err, &failed);

    int any_decode = 0;
    for (int i = 0; i < n && !any_decode; i++) any_decode = v[i].kind == XB_KIND_DECODE;
    if (!rc && any_decode) {
        name_add(&used, "decode");
        begin(&g, &c, "decode", &f, "Decode: time per generated token vs context (one causal mixer layer)",
              "context length N", "median time per token (one sequence)");
        per_length(&g, &c, "decode.step.median", 0, UNIT_SECONDS, XB_KIND_DECODE);
        finish(&g, &f);
        rc = emit(pdir, "decode", &g, have, have_pdf, err, &failed);
    }

    const char **tasks;
    int nt = xb_distinct_tasks(&res, &tasks);

    /* accuracy.gp: every task (and length) of the run as grouped bars */
    int ng = 0;
    group *gr = NULL;
    for (int t = 0; t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(&res, XB_KIND_TRAIN, tasks[t], &Ls);
        group *q = realloc(gr, (size_t)(ng + nL + 1) * sizeof *gr);
        if (q) {
            gr = q;
            for (int li = 0; li < nL; li++) gr[ng++] = (group){ tasks[t], Ls[li] };
        }
        free(Ls);
    }
    if (!rc && ng) {
        int nf = c.nm;
        frame fa = f;
        if (ng > 1 && ng * nf > 60) fa.w = 260 + 12 * ng * nf < 3000 ? 260 + 12 * ng * nf : 3000;
        name_add(&used, "accuracy");
        begin(&g, &c, "accuracy", &fa, "Test accuracy (mean ± std over seeds)", "", "test accuracy (%)");
        accuracy_bars(&g, &c, gr, ng, fa.w);
        finish(&g, &fa);
        rc = emit(pdir, "accuracy", &g, have, have_pdf, err, &failed);
    }

    for (int t = 0; !rc && t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(&res, XB_KIND_TRAIN, tasks[t], &Ls);

        file_name(&used, name, sizeof name, "accuracy_", tasks[t], "");
        if (nL == 1) {
            group one = { tasks[t], Ls[0] };
            snprintf(title, sizeof title, "%s: test accuracy at L = %d (mean ± std over seeds)", tasks[t], Ls[0]);
            begin(&g, &c, name, &f, title, "", "test accuracy (%)");
            accuracy_bars(&g, &c, &one, 1, f.w);
        } else {
            snprintf(title, sizeof title, "%s: test accuracy vs training length", tasks[t]);
            begin(&g, &c, name, &f, title, "sequence length N", "test accuracy (%)");
            accuracy_lines(&g, &c, tasks[t]);
        }
        finish(&g, &f);
        rc = emit(pdir, name, &g, have, have_pdf, err, &failed);

        file_name(&used, name, sizeof name, "pareto_", tasks[t], "");
        if (nL == 1)
            snprintf(title, sizeof title, "%s, L = %d: accuracy vs forward latency (marker area ~ peak RSS)",
                     tasks[t], Ls[0]);
        else
            snprintf(title, sizeof title, "%s: accuracy vs forward latency (marker area ~ peak RSS)", tasks[t]);
        begin(&g, &c, name, &f, title, "whole-model forward latency (median, one sequence)", "test accuracy (%)");
        if (!rc) pareto_plot(&g, &c, tasks[t]);
        finish(&g, &f);
        if (!rc) rc = emit(pdir, name, &g, have, have_pdf, err, &failed);

        for (int li = 0; !rc && li < nL; li++) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "_L%d", Ls[li]);
            file_name(&used, name, sizeof name, "loss_", tasks[t], suffix);
            snprintf(title, sizeof title, "%s, L = %d: training loss (first seed)", tasks[t], Ls[li]);
            begin(&g, &c, name, &f, title, "step", "training loss");
            loss_plot(&g, &c, tasks[t], Ls[li]);
            finish(&g, &f);
            rc = emit(pdir, name, &g, have, have_pdf, err, &failed);
        }
        free(Ls);
    }
    free(g.p);
    free(gr);
    free(tasks);
    free(c.mixers);
    names_free(&used);
    free(thr);
out:
    free(pdir);
    xb_results_release(&res);
    return rc;
}
