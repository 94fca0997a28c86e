/* harness/report/fmt.c — numbers written for people (see harness/report/fmt.h). */
#include "harness/report/fmt.h"

#include <math.h>
#include <stdio.h>

void xb_fmt_time(double s, char *buf, size_t n)
{
    if (!isfinite(s)) snprintf(buf, n, "—");
    else if (s < 1e-6) snprintf(buf, n, "%.0f ns", s * 1e9);   /* pool's decode step: tens of ns */
    else if (s < 1e-3) snprintf(buf, n, "%.1f µs", s * 1e6);
    else if (s < 1) snprintf(buf, n, "%.3g ms", s * 1e3);
    else snprintf(buf, n, "%.3g s", s);
}
