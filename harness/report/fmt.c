/* harness/report/fmt.c — a growing string and numbers written for people (see
 * harness/report/fmt.h). */
#include "harness/report/fmt.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void xb_sb_printf(xb_sb *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->failed = 1; return; }
        if (b->p && (size_t)k < room) { b->n += (size_t)k; return; }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->failed = 1; return; }
        b->p = q;
        b->cap = cap;
    }
}

char *xb_sb_take(xb_sb *b)
{
    if (b->failed) { free(b->p); return NULL; }
    if (!b->p) return strdup("");
    return b->p;
}

void xb_fmt_time(double s, char *buf, size_t n)
{
    if (!isfinite(s)) snprintf(buf, n, "—");
    else if (s < 1e-6) snprintf(buf, n, "%.0f ns", s * 1e9);   /* pool's decode step: tens of ns */
    else if (s < 1e-3) snprintf(buf, n, "%.1f µs", s * 1e6);
    else if (s < 1) snprintf(buf, n, "%.3g ms", s * 1e3);
    else snprintf(buf, n, "%.3g s", s);
}

void xb_fmt_flops(double f, char *buf, size_t n)
{
    if (!isfinite(f) || f <= 0) snprintf(buf, n, "—");
    else if (f < 1e6) snprintf(buf, n, "%.3g K", f / 1e3);
    else if (f < 1e9) snprintf(buf, n, "%.3g M", f / 1e6);
    else if (f < 1e12) snprintf(buf, n, "%.3g G", f / 1e9);
    else snprintf(buf, n, "%.3g T", f / 1e12);
}

/* A parameter count: 3620 → "3.62k", 1.5e6 → "1.5M" (exact counts are in results.csv). */
void xb_fmt_count(double c, char *buf, size_t n)
{
    if (!isfinite(c)) snprintf(buf, n, "—");
    else if (c < 1e3) snprintf(buf, n, "%.0f", c);
    else if (c < 1e6) snprintf(buf, n, "%.3gk", c / 1e3);
    else if (c < 1e9) snprintf(buf, n, "%.3gM", c / 1e6);
    else snprintf(buf, n, "%.3gG", c / 1e9);
}

void xb_fmt_mib(double bytes, char *buf, size_t n)
{
    if (!isfinite(bytes) || bytes <= 0) snprintf(buf, n, "—");
    else snprintf(buf, n, "%.1f", bytes / 1048576.0);
}

/* "57%" / "3.1%": a percentage the way the latency tables print fractions of peak. */
void xb_fmt_pct(double pct, char *buf, size_t n)
{
    snprintf(buf, n, pct >= 10 ? "%.0f%%" : "%.2g%%", pct);
}
