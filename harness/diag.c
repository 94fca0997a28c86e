/* harness/diag.c — compiler-style error messages with the source line and a caret, and the
 * edit-distance helpers behind "valid names, closest first". Whatever came from an input is
 * escaped on the way out (control characters as \x1b, \t, \u009b; bytes that are not UTF-8
 * as \xNN) and quoted lines are cut to XB_DIAG_WIDTH columns. */
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

/* ------------------------------------------------------------------------------------------
 * What reaches the terminal: every byte that came from an input (file names, key paths,
 * values, the quoted line) goes through show_char, so a suite cannot send escape sequences. */

/* Length of the UTF-8 character at s (n bytes left) and its code point in *cp; 0 when the
 * bytes there are not UTF-8 (a stray continuation, overlong, surrogate, past U+10FFFF, cut). */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0], min;
    size_t len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; c &= 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; c &= 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; c &= 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* Unicode's bidirectional formatting characters: they reorder what a terminal shows. */
static int is_bidi(unsigned cp)
{
    return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

/* The character at s (n > 0 bytes left): *adv gets its length in bytes, esc its escape
 * ("" = shown as it is). Returns the columns it takes (one per character, as libyaml counts). */
static int show_char(const char *s, size_t n, int keep_tab, size_t *adv, char esc[16])
{
    unsigned cp;
    size_t len = utf8_char((const unsigned char *)s, n, &cp);
    esc[0] = '\0';
    if (len == 0) {
        *adv = 1;
        snprintf(esc, 16, "\\x%02x", (unsigned char)s[0]);
        return 4;
    }
    *adv = len;
    if (cp == '\t' && keep_tab) return 1;
    if (cp == '\t' || cp == '\n' || cp == '\r') {
        snprintf(esc, 16, "\\%c", cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r');
        return 2;
    }
    if (cp < 0x20 || cp == 0x7F) {
        snprintf(esc, 16, "\\x%02x", cp);
        return 4;
    }
    if ((cp >= 0x80 && cp <= 0x9F) || is_bidi(cp)) {
        snprintf(esc, 16, "\\u%04x", cp);
        return 6;
    }
    return 1;
}

size_t xb_put_escaped(FILE *f, const char *s, size_t n, int keep_tab)
{
    size_t cols = 0, adv;
    char esc[16];
    for (size_t i = 0; i < n; i += adv) {
        cols += (size_t)show_char(s + i, n - i, keep_tab, &adv, esc);
        if (esc[0]) fputs(esc, f);
        else fwrite(s + i, 1, adv, f);
    }
    return cols;
}

char *xb_escape(char *buf, size_t size, const char *s)
{
    if (size == 0) return buf;
    size_t used = 0, adv, n = strlen(s);
    char esc[16];
    for (size_t i = 0; i < n; i += adv) {
        show_char(s + i, n - i, 0, &adv, esc);
        const char *piece = esc[0] ? esc : s + i;
        size_t k = esc[0] ? strlen(esc) : adv;
        if (used + k + 1 > size) {
            /* cut: end with "..." where it fits */
            size_t at = used;
            while (at > 0 && at + 4 > size) {
                at--;
                while (at > 0 && ((unsigned char)buf[at] & 0xC0) == 0x80) at--;   /* whole characters */
            }
            if (at + 4 <= size) {
                memcpy(buf + at, "...", 3);
                used = at + 3;
            } else {
                used = at;
            }
            break;
        }
        memcpy(buf + used, piece, k);
        used += k;
    }
    buf[used] = '\0';
    return buf;
}

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
        w += show_char(s + i, n - i, 1, &adv, esc);
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
        int cwid = show_char(s + i, n - i, 1, &adv, esc);
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
        int cwid = show_char(s + i, n - i, 1, &adv, esc);
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

int xb_edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64) na = 64;   /* names are short; a long word is far from all of them anyway */
    if (nb > 64) nb = 64;
    int row[65];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

void xb_closest_list(char *buf, size_t size, const char *word, const char *const *names, int n)
{
    if (size == 0) return;
    buf[0] = '\0';
    if (n <= 0) {
        snprintf(buf, size, "(none)");
        return;
    }
    int *idx = malloc((size_t)n * sizeof *idx), *dist = malloc((size_t)n * sizeof *dist);
    if (!idx || !dist) {
        free(idx);
        free(dist);
        return;
    }
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        dist[i] = xb_edit_distance(word, names[i]);
    }
    /* insertion sort: stable, n is small */
    for (int i = 1; i < n; i++) {
        int k = idx[i], j = i;
        while (j > 0 && dist[idx[j - 1]] > dist[k]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = k;
    }
    size_t used = 0;
    for (int i = 0; i < n && used + 1 < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[idx[i]]);
        if (w < 0) break;
        used += (size_t)w;
    }
    free(idx);
    free(dist);
}
