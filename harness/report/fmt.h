/* harness/report/fmt.h — how the report side writes text: a string that grows as it is
 * printed to (tables.md, results.csv), and numbers in units a person reads. */
#ifndef XB_FMT_H
#define XB_FMT_H

#include <stddef.h>

/* A growing string: printf into it, then take it. Once an allocation fails every later
 * print is dropped and xb_sb_take returns NULL, so a caller checks once, at the end. */
typedef struct xb_sb { char *p; size_t n, cap; int failed; } xb_sb;
void xb_sb_printf(xb_sb *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text (malloc'd; "" when nothing was printed), or NULL after a failed allocation. */
char *xb_sb_take(xb_sb *b);

/* "40 ns", "12.3 µs", "4.56 ms", "1.2 s"; "—" when not finite. */
void xb_fmt_time(double s, char *buf, size_t n);
/* FLOPs: "3.62 M", "1.5 G"; "—" when not finite or not positive. */
void xb_fmt_flops(double f, char *buf, size_t n);
/* A parameter count: 3620 → "3.62k", 1.5e6 → "1.5M" (exact counts are in results.csv). */
void xb_fmt_count(double c, char *buf, size_t n);
/* Bytes in MiB, "12.5"; "—" when not finite or not positive. */
void xb_fmt_mib(double bytes, char *buf, size_t n);
/* A percentage the way the latency tables print fractions of peak: "57%", "3.1%". */
void xb_fmt_pct(double pct, char *buf, size_t n);

#endif
