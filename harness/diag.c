/* harness/diag.c — compiler-style error messages with the source line and a caret, and the
 * edit-distance helpers behind "valid names, closest first". */
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
 * UTF-8 characters), with ~ under the rest of the span. Tabs are copied so the caret lines up. */
static void quote_line(const xb_diag *d, FILE *f, int line, int col, int span)
{
    const char *s;
    size_t n;
    if (!find_line(d, line, &s, &n)) return;
    fprintf(f, "%5d | %.*s\n", line, (int)n, s);
    fprintf(f, "      | ");
    int c = 1;
    for (size_t i = 0; i < n && c < col; c++) {
        fputc(s[i] == '\t' ? '\t' : ' ', f);
        i++;
        while (i < n && ((unsigned char)s[i] & 0xC0) == 0x80) i++;  /* UTF-8 continuation */
    }
    for (; c < col; c++) fputc(' ', f);   /* column past the end of the line */
    fputc('^', f);
    for (int k = 1; k < span; k++) fputc('~', f);
    fputc('\n', f);
}

static void format(const xb_diag *d, FILE *f, const char *kind, int line, int col, int span,
                   const char *path, const char *fmt, va_list ap)
{
    if (line > 0) fprintf(f, "%s:%d:%d: ", d->file, line, col);
    else fprintf(f, "%s: ", d->file);
    if (kind) fprintf(f, "%s: ", kind);
    if (path && *path) fprintf(f, "%s: ", path);
    vfprintf(f, fmt, ap);
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
        fprintf(d->out, "note: %s\n", buf);
        return;
    }
    if (d->n_msgs == 0) return;
    struct xb_diag_msg *m = &d->msgs[d->n_msgs - 1];
    size_t add = strlen(buf) + 7;
    char *t = realloc(m->text, m->len + add + 1);
    if (!t) return;
    snprintf(t + m->len, add + 1, "note: %s\n", buf);
    m->text = t;
    m->len += add;
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
