/* harness/diag.c — compiler-style error messages with the source line and a caret. Whatever
 * came from an input is escaped on the way out (core/text.h: control characters as \x1b, \t,
 * \u009b; bytes that are not UTF-8 as \xNN) and quoted lines are cut to XB_DIAG_WIDTH
 * columns. */
#include "harness/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void xb_diag_init(xb_diag *d, const char *file, const char *text, size_t len, FILE *out)
{
    memset(d, 0, sizeof *d);
    d->file = file;
    d->text = text;
    d->len = len;
    d->out = out;
}

/* Start and length of 1-based line `line` in the source; 0 if there is no such line. */
static int find_line(const xb_diag *d, int line, const char **start, size_t *n)
{
    if (!d->text || line < 1) return 0;
    const char *p = d->text, *end = d->text + d->len;
    for (int l = 1; l < line; l++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) return 0;
        p = nl + 1;
    }
    if (p > end || (p == end && line > 1)) return 0;
    const char *e = memchr(p, '\n', (size_t)(end - p));
    if (!e) e = end;
    if (e > p && e[-1] == '\r') e--;
    *start = p;
    *n = (size_t)(e - p);
    return 1;
}

struct xb_diag_msg {
    int line, col, seq;
    char *text;     /* the whole message: header, quoted line, notes */
    size_t len;
};

/* Quote the line and put a caret under column col (1-based, in characters: libyaml counts
 * UTF-8 characters), with ~ under the rest of the span. Tabs are copied so the caret lines up;
 * control characters are escaped (the caret counts their escapes' width). A line wider than
 * XB_DIAG_WIDTH columns is cut around the caret, "..." marking what is left out. */
static void quote_line(const xb_diag *d, FILE *f, int line, int col, int span)
{
    const char *s;
    size_t n, adv;
    char esc[16];
    if (!find_line(d, line, &s, &n)) return;
    if (col < 1) col = 1;
    if (span < 1) span = 1;
    const long W = XB_DIAG_WIDTH, k0 = col - 1, k1 = (long)col - 1 + span;
    /* pass 1: the shown columns of the caret (cw) and of the end of its span (ce) */
    long w = 0, ci = 0, cw = -1, ce = -1;
    size_t i = 0;
    while (i < n) {
        if (ci == k0) cw = w;
        if (ci == k1) ce = w;
        if (cw >= 0 && w > cw + W) break;   /* nothing from here on can be shown */
        w += xb_show_char(s + i, n - i, 1, &adv, esc);
        i += adv;
        ci++;
    }
    int cut = i < n;
    if (cw < 0) cw = w + (k0 - ci);        /* the caret at or past the end of the line */
    if (ce < 0) ce = k1 >= ci && !cut ? w + (k1 - ci) : cw + span;
    long ws = 0;                           /* the first column shown */
    if ((cut || w > W) && cw + 20 > W) ws = cw - W / 2;
    long we = ws + W;
    /* pass 2: the line, then the caret line */
    fprintf(f, "%5d | %s", line, ws > 0 ? "..." : "");
    long c = 0, first = -1;
    for (i = 0; i < n; i += adv) {
        int cwid = xb_show_char(s + i, n - i, 1, &adv, esc);
        if (c >= ws) {
            if (c + cwid > we) {
                fputs("...", f);
                break;
            }
            if (first < 0) first = c;
            if (esc[0]) fputs(esc, f);
            else fwrite(s + i, 1, adv, f);
        }
        c += cwid;
    }
    fprintf(f, "\n      | %s", ws > 0 ? "   " : "");
    if (first < 0) first = c > ws ? c : ws;
    c = 0;
    for (i = 0; i < n && c < cw; i += adv) {
        int cwid = xb_show_char(s + i, n - i, 1, &adv, esc);
        if (c >= first && c < cw) {
            if (s[i] == '\t') fputc('\t', f);
            else for (int k = 0; k < cwid; k++) fputc(' ', f);
        }
        c += cwid;
    }
    for (; c < cw; c++) fputc(' ', f);    /* column past the end of the line */
    fputc('^', f);
    long under = ce - cw;
    if (under > we - cw) under = we - cw;
    for (long k = 1; k < under; k++) fputc('~', f);
    fputc('\n', f);
}

static void format(const xb_diag *d, FILE *f, const char *kind, int line, int col, int span,
                   const char *path, const char *fmt, va_list ap)
{
    char msg[4096];
    vsnprintf(msg, sizeof msg, fmt, ap);
    xb_put_escaped(f, d->file, strlen(d->file), 0);
    if (line > 0) fprintf(f, ":%d:%d", line, col);
    fputs(": ", f);
    if (kind) fprintf(f, "%s: ", kind);
    if (path && *path) {
        xb_put_escaped(f, path, strlen(path), 0);
        fputs(": ", f);
    }
    xb_put_escaped(f, msg, strlen(msg), 0);
    fputc('\n', f);
    if (line > 0) quote_line(d, f, line, col, span);
}

/* Print now, or keep (sorted mode) a message formatted into memory. */
static void message(xb_diag *d, const char *kind, int line, int col, int span, const char *path,
                    const char *fmt, va_list ap)
{
    if (!d->out) return;
    if (!d->sorted) {
        format(d, d->out, kind, line, col, span, path, fmt, ap);
        return;
    }
    if (d->n_msgs == d->cap_msgs) {
        int cap = d->cap_msgs ? 2 * d->cap_msgs : 16;
        struct xb_diag_msg *m = realloc(d->msgs, (size_t)cap * sizeof *m);
        if (!m) return;
        d->msgs = m;
        d->cap_msgs = cap;
    }
    struct xb_diag_msg *m = &d->msgs[d->n_msgs];
    m->text = NULL;
    m->len = 0;
    FILE *f = open_memstream(&m->text, &m->len);
    if (!f) return;
    format(d, f, kind, line, col, span, path, fmt, ap);
    fclose(f);
    m->line = line;
    m->col = col;
    m->seq = d->n_msgs++;
}

void xb_diag_error(xb_diag *d, int line, int col, int span, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message(d, NULL, line, col, span, path, fmt, ap);
    va_end(ap);
    d->n_errors++;
}

void xb_diag_warning(xb_diag *d, int line, int col, int span, const char *path, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    message(d, "warning", line, col, span, path, fmt, ap);
    va_end(ap);
    d->n_warnings++;
}

void xb_diag_note(xb_diag *d, const char *fmt, ...)
{
    if (!d->out) return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (!d->sorted) {
        fputs("note: ", d->out);
        xb_put_escaped(d->out, buf, strlen(buf), 0);
        fputc('\n', d->out);
        return;
    }
    if (d->n_msgs == 0) return;
    struct xb_diag_msg *m = &d->msgs[d->n_msgs - 1];
    char *add = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&add, &n);
    if (!f) return;
    fputs("note: ", f);
    xb_put_escaped(f, buf, strlen(buf), 0);
    fputc('\n', f);
    fclose(f);
    char *t = add ? realloc(m->text, m->len + n + 1) : NULL;
    if (t) {
        memcpy(t + m->len, add, n + 1);
        m->text = t;
        m->len += n;
    }
    free(add);
}

static int msg_cmp(const void *a, const void *b)
{
    const struct xb_diag_msg *x = a, *y = b;
    if (x->line != y->line) return x->line < y->line ? -1 : 1;
    if (x->col != y->col) return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void xb_diag_flush(xb_diag *d)
{
    if (d->n_msgs) qsort(d->msgs, (size_t)d->n_msgs, sizeof *d->msgs, msg_cmp);
    for (int i = 0; i < d->n_msgs; i++) {
        if (d->out) fwrite(d->msgs[i].text, 1, d->msgs[i].len, d->out);
        free(d->msgs[i].text);
    }
    free(d->msgs);
    d->msgs = NULL;
    d->n_msgs = d->cap_msgs = 0;
}
