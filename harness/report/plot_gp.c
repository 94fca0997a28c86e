/* harness/report/plot_gp.c — scripts, templates, quoting, file names, styles, axes, the frame
 * and gnuplot itself: what every figure shares (see harness/report/plot_gp.h). */
#include "harness/report/plot_gp.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/xb.h"

/* ---- a growing text buffer ---------------------------------------------------------- */

static int gp_reserve(xb_gp *b, size_t more)
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

void xb_gp_write(xb_gp *b, const char *s, size_t n)
{
    if (!gp_reserve(b, n)) return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

static void gp_vprintf(xb_gp *b, const char *fmt, va_list ap)
{
    va_list aq;
    va_copy(aq, ap);
    int k = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (k < 0 || !gp_reserve(b, (size_t)k)) return;
    vsnprintf(b->p + b->n, (size_t)k + 1, fmt, ap);
    b->n += (size_t)k;
}

void xb_gp_printf(xb_gp *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    gp_vprintf(b, fmt, ap);
    va_end(ap);
}

void xb_gp_quote(xb_gp *b, const char *s)
{
    xb_gp_write(b, "'", 1);
    for (const char *p = s ? s : ""; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '\'') xb_gp_write(b, "''", 2);
        else if (c < 0x20 || c == 0x7f) xb_gp_write(b, " ", 1);
        else xb_gp_write(b, p, 1);
    }
    xb_gp_write(b, "'", 1);
}

void xb_gp_append(xb_gp *b, const xb_gp *a)
{
    if (a->p) xb_gp_write(b, a->p, a->n);
}

void xb_gp_plot_item(xb_gp *pl, int *items)
{
    /* the plot command's list: items joined by a comma and a line continuation */
    xb_gp_printf(pl, "%s", (*items)++ ? ", \\\n     " : "plot ");
}

/* ---- templates ---------------------------------------------------------------------- */

/* The line at p (up to and without its '\n'): its length; *next gets the line after it. */
static size_t line_at(const char *p, const char *end, const char **next)
{
    const char *e = memchr(p, '\n', (size_t)(end - p));
    *next = e ? e + 1 : end;
    return (size_t)((e ? e : end) - p);
}

static int starts(const char *p, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(p, prefix, k) == 0;
}

static int blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != ' ' && p[i] != '\t') return 0;
    return 1;
}

/* The body of section "file.section": from *body to *end, *trim when its last newline is
 * dropped. 0, or -1 when there is no such file or section. */
static int find_section(const char *section, const char **body, const char **end, int *trim)
{
    const char *dot = strchr(section, '.');
    if (!dot) return -1;
    size_t fl = (size_t)(dot - section);
    const char *name = dot + 1;
    for (int t = 0; t < xb_gp_n_templates; t++) {
        const xb_gp_template *f = &xb_gp_templates[t];
        if (strncmp(f->name, section, fl) != 0 || strcmp(f->name + fl, ".gp") != 0) continue;
        const char *p = f->text, *e = f->text + f->len, *next;
        for (; p < e; p = next) {
            size_t n = line_at(p, e, &next);
            int tr = starts(p, n, "#@~ ");
            if (!tr && !starts(p, n, "#@ ")) continue;
            size_t k = tr ? 4 : 3;
            if (n - k != strlen(name) || memcmp(p + k, name, n - k) != 0) continue;
            *body = next;
            for (*end = next; *end < e && !starts(*end, (size_t)(e - *end), "#@"); line_at(*end, e, end)) {}
            *trim = tr;
            return 0;
        }
    }
    return -1;
}

const char *xb_gp_section(const char *section, size_t *n)
{
    const char *body, *end;
    int trim;
    if (find_section(section, &body, &end, &trim)) return NULL;
    *n = (size_t)(end - body);
    return body;
}

enum { MAX_KEYS = 16 };

/* Write line p[0..n) with its {{key}}s filled from keys/vals. */
static void fill_line(xb_gp *b, const char *section, const char *p, size_t n, const char *const *keys,
                      const char *const *vals, int nk)
{
    const char *e = p + n;
    while (p < e) {
        const char *o = memmem(p, (size_t)(e - p), "{{", 2);
        const char *c = o ? memmem(o + 2, (size_t)(e - o - 2), "}}", 2) : NULL;
        if (!o || !c) {
            xb_gp_write(b, p, (size_t)(e - p));
            return;
        }
        xb_gp_write(b, p, (size_t)(o - p));
        size_t kl = (size_t)(c - o - 2);
        int quote = kl > 2 && memcmp(c - 2, ":q", 2) == 0;
        if (quote) kl -= 2;
        int found = -1;
        for (int i = 0; i < nk && found < 0; i++)
            if (strlen(keys[i]) == kl && memcmp(keys[i], o + 2, kl) == 0) found = i;
        if (found < 0) {
            fprintf(stderr, "xbench: internal error: plots/ template %s: no value for {{%.*s}}\n",
                    section, (int)kl, o + 2);
            XB_ASSERT(found >= 0);
        }
        if (quote) xb_gp_quote(b, vals[found]);
        else xb_gp_write(b, vals[found], strlen(vals[found]));
        p = c + 2;
    }
}

void xb_gp_fill(xb_gp *b, const char *section, ...)
{
    const char *keys[MAX_KEYS], *vals[MAX_KEYS];
    int nk = 0;
    va_list ap;
    va_start(ap, section);
    for (const char *k; (k = va_arg(ap, const char *));) {
        XB_ASSERT(nk < MAX_KEYS);
        keys[nk] = k;
        vals[nk++] = va_arg(ap, const char *);
    }
    va_end(ap);
    const char *body, *end, *next;
    int trim;
    if (find_section(section, &body, &end, &trim)) {
        fprintf(stderr, "xbench: internal error: no template section '%s' in plots/\n", section);
        XB_ASSERT(!"template section");
    }
    /* the text ends at its last line that is neither a note (#:) nor blank */
    const char *last = body;
    for (const char *p = body; p < end; p = next) {
        size_t n = line_at(p, end, &next);
        if (!starts(p, n, "#:") && !blank(p, n)) last = next;
    }
    for (const char *p = body; p < last; p = next) {
        size_t n = line_at(p, last, &next);
        if (starts(p, n, "#:")) continue;
        fill_line(b, section, p, n, keys, vals, nk);
        if (next > p + n && !(trim && next == last)) xb_gp_write(b, "\n", 1);
    }
}

/* ---- file names --------------------------------------------------------------------- */

static int name_used(const xb_gp_names *u, const char *s)
{
    for (int i = 0; i < u->n; i++)
        if (strcmp(u->a[i], s) == 0) return 1;
    return 0;
}

void xb_gp_name_add(xb_gp_names *u, const char *s)
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

void xb_gp_names_free(xb_gp_names *u)
{
    for (int i = 0; i < u->n; i++) free(u->a[i]);
    free(u->a);
}

void xb_gp_file_name(xb_gp_names *used, char *out, size_t cap, const char *prefix,
                     const char *label, const char *suffix)
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
    xb_gp_name_add(used, out);
}

/* ---- running gnuplot ---------------------------------------------------------------- */

int xb_plot_on_path(const char *prog)
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

int xb_plot_run_gnuplot(const char *dir, const char *expr, const char *script)
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

static int mixer_index(const xb_plot *c, const char *mixer)
{
    for (int j = 0; j < c->nm; j++)
        if (strcmp(c->mixers[j], mixer) == 0) return j;
    return 0;
}

int xb_plot_style(const xb_plot *c, const char *mixer) { return mixer_index(c, mixer) % XB_NSTYLES + 1; }

const char *xb_plot_fill(const xb_plot *c, const char *mixer)
{
    return style_fill[(mixer_index(c, mixer) % XB_NSTYLES) / 8];
}

const char *xb_plot_colour(int style) { return style_colour[(style - 1) % 8]; }

static void define_styles(xb_gp *g, const xb_plot *c)
{
    int ns = c->nm < XB_NSTYLES ? c->nm : XB_NSTYLES;
    for (int i = 0; i < ns; i++) {
        int col = i % 8, grp = i / 8, shp = (col + 3 * grp) % 8;
        char num[16], dash[16], shape[16];
        xb_gp mixers = { 0 };
        snprintf(num, sizeof num, "%d", i + 1);
        snprintf(dash, sizeof dash, "%d", style_dash[grp]);
        snprintf(shape, sizeof shape, "%d", grp % 2 ? shape_open[shp] : shape_filled[shp]);
        for (int j = i; j < c->nm; j += XB_NSTYLES) {
            xb_gp_quote(&mixers, c->mixers[j]);
            xb_gp_write(&mixers, " ", 1);
        }
        xb_gp_fill(g, "frame.style", "i", num, "colour", style_colour[col], "dash", dash,
                   "shape", shape, "mixers", mixers.p ? mixers.p : "", NULL);
        free(mixers.p);
    }
}

/* ---- axes --------------------------------------------------------------------------- */

/* 2e-4 -> "200 µs", 1 -> "1 s" (seconds); 3e9 -> "3G" (counts). */
static void tick_label(char *buf, size_t n, double v, int unit)
{
    if (unit == XB_UNIT_SECONDS) {
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

/* Labelled ticks at decades, or at 1-2-5 (or every integer mantissa) when the data spans
 * less, in readable units, and unlabelled minor ticks between. */
void xb_plot_log_axis(xb_gp *g, const char *ax, double lo, double hi, int unit)
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
    xb_gp tics = { 0 };
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
            xb_gp_printf(&tics, "%s'%s' %.6g%s", first ? "" : ", ", lab, t, labelled ? "" : " 1");
            first = 0;
        }
    char slo[32], shi[32];
    snprintf(slo, sizeof slo, "%.6g", lo);
    snprintf(shi, sizeof shi, "%.6g", hi);
    xb_gp_fill(g, "frame.log_axis", "ax", ax, "lo", slo, "hi", shi, "tics", tics.p ? tics.p : "", NULL);
    free(tics.p);
}

static void length_label(char *buf, size_t n, int L)
{
    if (L >= 1024 && L % 1024 == 0) snprintf(buf, n, "%dk", L / 1024);
    else snprintf(buf, n, "%d", L);
}

/* A tick at each length measured (at powers of two when there are more than 12), "1k" for
 * 1024. */
void xb_plot_length_axis(xb_gp *g, const int *Ls, int nL)
{
    while (nL > 0 && Ls[0] <= 0) { Ls++; nL--; }   /* a log axis has no room for L <= 0 */
    if (nL <= 0) return;
    double lo = Ls[0], hi = Ls[nL - 1];
    lo /= nL > 1 ? 1.25 : 2;
    hi *= nL > 1 ? 1.25 : 2;
    xb_gp tics = { 0 };
    char lab[32];
    if (nL <= 12) {
        for (int i = 0; i < nL; i++) {
            length_label(lab, sizeof lab, Ls[i]);
            xb_gp_printf(&tics, "%s'%s' %d", i ? ", " : "", lab, Ls[i]);
        }
    } else {
        int e0 = (int)ceil(log2(lo)), e1 = (int)floor(log2(hi)), step = 1;
        while ((e1 - e0) / step + 1 > 12) step++;
        for (int e = e0; e <= e1; e += step) {
            length_label(lab, sizeof lab, 1 << e);
            xb_gp_printf(&tics, "%s'%s' %d", e > e0 ? ", " : "", lab, 1 << e);
        }
    }
    char slo[32], shi[32];
    snprintf(slo, sizeof slo, "%.6g", lo);
    snprintf(shi, sizeof shi, "%.6g", hi);
    xb_gp_fill(g, "frame.length_axis", "lo", slo, "hi", shi, "tics", tics.p ? tics.p : "", NULL);
    free(tics.p);
}

double xb_plot_chance(const xb_plot *c, const char *task, int L)
{
    const xb_results *r = c->res;
    for (int i = 0; i < r->n; i++)
        if (r->rec[i].kind == XB_KIND_TRAIN && strcmp(r->rec[i].task, task) == 0 && r->rec[i].L == L &&
            isfinite(xb_record_num(r->rec[i].o, "chance")))
            return xb_record_num(r->rec[i].o, "chance");
    return NAN;
}

/* ---- script frame ------------------------------------------------------------------- */

void xb_plot_begin(xb_gp *g, const xb_plot *c, const char *name, const xb_plot_frame *f,
                   const char *title, const char *xl, const char *yl)
{
    char w[16], h[16];
    snprintf(w, sizeof w, "%d", f->w);
    snprintf(h, sizeof h, "%d", f->h);
    xb_gp_fill(g, "frame.head", "name", name, "w", w, "h", h, NULL);
    define_styles(g, c);
    xb_gp_fill(g, "frame.labels", "title", title, "xlabel", xl, "ylabel", yl, NULL);
}

void xb_plot_finish(xb_gp *g, const xb_plot_frame *f)
{
    char w[16], h[16], win[32], hin[32];
    snprintf(w, sizeof w, "%d", f->w);
    snprintf(h, sizeof h, "%d", f->h);
    snprintf(win, sizeof win, "%.2f", f->w / 140.0);
    snprintf(hin, sizeof hin, "%.2f", f->h / 140.0);
    xb_gp_fill(g, "frame.tail", "w", w, "h", h, "win", win, "hin", hin, NULL);
    if (f->entries > 12) xb_gp_fill(g, "frame.tail_pdf_key", NULL);
    xb_gp_fill(g, "frame.tail_end", NULL);
}

void xb_plot_no_data(xb_gp *g)
{
    xb_gp_fill(g, "frame.no_data", NULL);
}

int xb_plot_emit(const char *pdir, const char *name, xb_gp *g, int have_gnuplot, int have_pdf,
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
     * only [A-Za-z0-9_.=-] (xb_gp_file_name), so it is safe inside the quotes of -e. */
    char expr[600], script[300], tmp[4096], fin[4096];
    snprintf(expr, sizeof expr, "out='%s.tmp'", name);
    snprintf(script, sizeof script, "%s.gp", name);
    if (xb_plot_run_gnuplot(pdir, expr, script) != 0) {
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
