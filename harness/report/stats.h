/* harness/report/stats.h — the statistics the harness reports: order statistics and moments of a
 * sample of repetition times, outliers by modified z-score (hyperfine's rule), log-log least
 * squares for scaling exponents, crossover lengths, and the Mann–Whitney U test that
 * `xbench compare` runs on raw repetition times. Pure functions over double arrays; no I/O. */
#ifndef XB_STATS_H
#define XB_STATS_H

#include <stddef.h>

/* |z| above this marks an outlier: z = (x − median) / MAD, threshold 10 · 1.4826 (hyperfine,
 * after Iglewicz & Hoaglin 1993). */
#define XB_OUTLIER_Z 14.826

typedef struct xb_summary {
    int n;
    double median, p10, p90, min, max, mean, stddev, cv;
    int outliers;      /* samples with |modified z| > XB_OUTLIER_Z */
} xb_summary;

/* Percentile q in [0, 1] of a sorted sample, linear interpolation between order statistics
 * (Hyndman–Fan type 7, as numpy's default). n ≥ 1. */
double xb_percentile_sorted(const double *sorted, int n, double q);
/* Median of an unsorted sample (copies; n ≥ 1). */
double xb_median(const double *x, int n);
/* Mean and sample standard deviation (n − 1; 0 when n < 2), summed in index order. */
double xb_mean(const double *x, int n);
double xb_stddev(const double *x, int n);
/* Samples whose modified z-score exceeds XB_OUTLIER_Z. When the MAD is 0 the mean absolute
 * deviation scaled to a MAD-equivalent (× 0.8453) is used; when that is 0 too, none. */
int xb_count_outliers(const double *x, int n);
/* Everything above at once. n = 0 gives a zeroed summary. */
void xb_summarize(const double *x, int n, xb_summary *s);

/* Least-squares fit of log y = a + k log x over points with x > 0, y > 0.
 * Returns the number of points used (a fit needs ≥ 2 distinct x); sets *k, *a and *r2. */
int xb_fit_loglog(const double *x, const double *y, int n, double *k, double *a, double *r2);

/* Crossover of curve a (e.g. a mixer's time) with curve b (softmax's) over lengths x sorted
 * ascending and shared by both; points where either value is ≤ 0 are skipped. The crossover
 * is the length after which a stays below b: the last change of sign of log(a/b) from ≥ 0 to
 * < 0, interpolated linearly in log-log between the two bracketing lengths. */
enum {
    XB_CROSS_NONE = 0,     /* fewer than 2 usable points */
    XB_CROSS_AT = 1,       /* *at = crossover length */
    XB_CROSS_BELOW = 2,    /* a < b at every measured length */
    XB_CROSS_ABOVE = 3,    /* a ≥ b at the longest measured length */
};
int xb_crossover(const double *x, const double *a, const double *b, int n, double *at);

/* Two-sided Mann–Whitney U test of samples a and b (normal approximation with tie correction
 * and continuity correction). Returns the p-value; *u gets U of a. */
double xb_mann_whitney(const double *a, int na, const double *b, int nb, double *u);

#endif
