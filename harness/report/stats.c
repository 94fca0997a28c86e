/* harness/report/stats.c — order statistics, moments, outliers, log-log fits, crossovers and the
 * Mann–Whitney U test (see harness/report/stats.h). Sums run in index order so results do not
 * depend on anything but the input. */
#include "harness/report/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double *sorted_copy(const double *x, int n)
{
    double *s = malloc((size_t)(n > 0 ? n : 1) * sizeof *s);
    if (!s) return NULL;
    memcpy(s, x, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return s;
}

double xb_percentile_sorted(const double *sorted, int n, double q)
{
    if (n <= 0) return NAN;
    if (q <= 0) return sorted[0];
    if (q >= 1) return sorted[n - 1];
    double h = q * (n - 1);
    int lo = (int)floor(h);
    if (lo >= n - 1) return sorted[n - 1];
    return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo]);
}

double xb_median(const double *x, int n)
{
    if (n <= 0) return NAN;
    double *s = sorted_copy(x, n);
    if (!s) return NAN;
    double m = xb_percentile_sorted(s, n, 0.5);
    free(s);
    return m;
}

double xb_mean(const double *x, int n)
{
    if (n <= 0) return NAN;
    double sum = 0;
    for (int i = 0; i < n; i++) sum += x[i];
    return sum / n;
}

double xb_stddev(const double *x, int n)
{
    if (n < 2) return 0;
    double m = xb_mean(x, n), ss = 0;
    for (int i = 0; i < n; i++) ss += (x[i] - m) * (x[i] - m);
    return sqrt(ss / (n - 1));
}

int xb_count_outliers(const double *x, int n)
{
    if (n < 3) return 0;
    double med = xb_median(x, n);
    double *dev = malloc((size_t)n * sizeof *dev);
    if (!dev) return 0;
    for (int i = 0; i < n; i++) dev[i] = fabs(x[i] - med);
    double mad = xb_median(dev, n);
    if (mad <= 0) {
        /* More than half the samples equal the median (a coarse clock): fall back to the
         * mean absolute deviation, scaled to estimate the same quantity (0.6745 / 0.7979). */
        mad = 0.8453 * xb_mean(dev, n);
    }
    int count = 0;
    if (mad > 0)
        for (int i = 0; i < n; i++)
            if (dev[i] / mad > XB_OUTLIER_Z) count++;
    free(dev);
    return count;
}

void xb_summarize(const double *x, int n, xb_summary *s)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    if (n <= 0) return;
    double *v = sorted_copy(x, n);
    if (!v) return;
    s->median = xb_percentile_sorted(v, n, 0.5);
    s->p10 = xb_percentile_sorted(v, n, 0.1);
    s->p90 = xb_percentile_sorted(v, n, 0.9);
    s->min = v[0];
    s->max = v[n - 1];
    free(v);
    s->mean = xb_mean(x, n);
    s->stddev = xb_stddev(x, n);
    s->cv = s->mean > 0 ? s->stddev / s->mean : 0;
    s->outliers = xb_count_outliers(x, n);
}

int xb_fit_loglog(const double *x, const double *y, int n, double *k, double *a, double *r2)
{
    double sx = 0, sy = 0;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0 && y[i] > 0) || !isfinite(x[i]) || !isfinite(y[i])) continue;
        sx += log(x[i]);
        sy += log(y[i]);
        m++;
    }
    *k = NAN; *a = NAN; *r2 = NAN;
    if (m < 2) return m;
    double mx = sx / m, my = sy / m, sxx = 0, sxy = 0, syy = 0;
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0 && y[i] > 0) || !isfinite(x[i]) || !isfinite(y[i])) continue;
        double dx = log(x[i]) - mx, dy = log(y[i]) - my;
        sxx += dx * dx;
        sxy += dx * dy;
        syy += dy * dy;
    }
    if (sxx <= 0) return 1;      /* all at one length: no slope */
    *k = sxy / sxx;
    *a = my - *k * mx;
    *r2 = syy > 0 ? (sxy * sxy) / (sxx * syy) : 1.0;
    return m;
}

int xb_crossover(const double *x, const double *a, const double *b, int n, double *at)
{
    double px = 0, pd = 0;
    int have_prev = 0, used = 0, found = 0, all_below = 1;
    double last_d = 0;
    for (int i = 0; i < n; i++) {
        if (!(x[i] > 0 && a[i] > 0 && b[i] > 0)) continue;
        double lx = log(x[i]), d = log(a[i]) - log(b[i]);
        if (d >= 0) all_below = 0;
        if (have_prev && pd >= 0 && d < 0) {
            /* linear in log-log: d(lx) = pd + (d - pd) (lx - px) / (lx_i - px) = 0 */
            double t = pd / (pd - d);
            *at = exp(px + t * (lx - px));
            found = 1;
        }
        px = lx; pd = d; have_prev = 1; used++;
        last_d = d;
    }
    if (used < 2) return XB_CROSS_NONE;
    if (all_below) return XB_CROSS_BELOW;
    if (last_d >= 0) return XB_CROSS_ABOVE;
    return found ? XB_CROSS_AT : XB_CROSS_NONE;
}

typedef struct { double v; int from_a; } ranked;

static int cmp_ranked(const void *p, const void *q)
{
    const ranked *x = p, *y = q;
    return (x->v > y->v) - (x->v < y->v);
}

double xb_mann_whitney(const double *a, int na, const double *b, int nb, double *u)
{
    int n = na + nb;
    *u = NAN;
    if (na < 1 || nb < 1) return NAN;
    ranked *r = malloc((size_t)n * sizeof *r);
    if (!r) return NAN;
    for (int i = 0; i < na; i++) r[i] = (ranked){ a[i], 1 };
    for (int i = 0; i < nb; i++) r[na + i] = (ranked){ b[i], 0 };
    qsort(r, (size_t)n, sizeof *r, cmp_ranked);
    double rank_a = 0, ties = 0;
    for (int i = 0; i < n;) {
        int j = i;
        while (j < n && r[j].v == r[i].v) j++;
        double mid = 0.5 * ((i + 1) + j);   /* average of ranks i+1 .. j */
        for (int k = i; k < j; k++)
            if (r[k].from_a) rank_a += mid;
        double t = j - i;
        ties += t * t * t - t;
        i = j;
    }
    free(r);
    double ua = rank_a - 0.5 * na * (na + 1.0);
    *u = ua;
    double mu = 0.5 * na * nb;
    double var = na * (double)nb / 12.0 * ((n + 1.0) - ties / ((double)n * (n - 1.0)));
    if (var <= 0) return 1.0;
    double z = (fabs(ua - mu) - 0.5) / sqrt(var);
    if (z < 0) z = 0;
    return erfc(z / sqrt(2.0));
}
