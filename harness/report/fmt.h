/* harness/report/fmt.h — how the report side writes numbers for people: times in readable
 * units (tables.md, the summary). */
#ifndef XB_FMT_H
#define XB_FMT_H

#include <stddef.h>

/* "40 ns", "12.3 µs", "4.56 ms", "1.2 s"; "—" when not finite. */
void xb_fmt_time(double s, char *buf, size_t n);

#endif
