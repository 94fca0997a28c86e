/* tests/test_stats.c — harness/report/stats.c against values worked out by hand (numpy's default
 * percentile definition, hyperfine's outlier rule, exact power laws, the normal
 * approximation of Mann–Whitney). */
#include <criterion/criterion.h>
#include <math.h>

#include "harness/report/stats.h"

Test(stats, percentiles_type7)
{
    double x[10] = { 7, 3, 10, 1, 5, 2, 9, 8, 4, 6 };
    double s[10] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
    cr_assert_float_eq(xb_median(x, 10), 5.5, 1e-12);
    cr_assert_float_eq(xb_percentile_sorted(s, 10, 0.1), 1.9, 1e-12);   /* 1 + 0.9 (2 - 1) */
    cr_assert_float_eq(xb_percentile_sorted(s, 10, 0.9), 9.1, 1e-12);
    cr_assert_float_eq(xb_percentile_sorted(s, 10, 0.0), 1, 0);
    cr_assert_float_eq(xb_percentile_sorted(s, 10, 1.0), 10, 0);
    double one = 4.25;
    cr_assert_float_eq(xb_median(&one, 1), 4.25, 0);
    double odd[5] = { 9, 1, 5, 3, 7 };
    cr_assert_float_eq(xb_median(odd, 5), 5, 0);
}

Test(stats, moments_and_summary)
{
    double x[8] = { 2, 4, 4, 4, 5, 5, 7, 9 };
    cr_assert_float_eq(xb_mean(x, 8), 5.0, 1e-12);
    cr_assert_float_eq(xb_stddev(x, 8), sqrt(32.0 / 7.0), 1e-12);
    xb_summary s;
    xb_summarize(x, 8, &s);
    cr_assert_eq(s.n, 8);
    cr_assert_float_eq(s.min, 2, 0);
    cr_assert_float_eq(s.max, 9, 0);
    cr_assert_float_eq(s.median, 4.5, 1e-12);
    cr_assert_float_eq(s.cv, sqrt(32.0 / 7.0) / 5.0, 1e-12);
    cr_assert_eq(s.outliers, 0);
    xb_summarize(x, 0, &s);
    cr_assert_eq(s.n, 0);
}

Test(stats, outliers_modified_z)
{
    /* 10 samples 1.00 .. 1.09 and one at 2.0: median 1.05, MAD 0.03, z = 0.95 / 0.03 = 31.7 */
    double x[11];
    for (int i = 0; i < 10; i++) x[i] = 1.0 + 0.01 * i;
    x[10] = 2.0;
    cr_assert_eq(xb_count_outliers(x, 11), 1);
    /* at 1.3: median 1.05, MAD 0.03 → z = 8.3, below 14.826 */
    x[10] = 1.3;
    cr_assert_eq(xb_count_outliers(x, 11), 0);
    /* MAD = 0: the mean-absolute-deviation fallback. 19 ones and a 5: MeanAD 0.2 → 0.169,
     * z = 4 / 0.169 = 23.7 → outlier; 9 ones and a 5: MeanAD 0.4 → z = 11.8 → not. */
    double y[20];
    for (int i = 0; i < 19; i++) y[i] = 1;
    y[19] = 5;
    cr_assert_eq(xb_count_outliers(y, 20), 1);
    y[9] = 5;
    cr_assert_eq(xb_count_outliers(y, 10), 0);
    double same[5] = { 3, 3, 3, 3, 3 };
    cr_assert_eq(xb_count_outliers(same, 5), 0);
}

Test(stats, loglog_fit_exact_power_law)
{
    double x[5] = { 256, 512, 1024, 2048, 4096 }, y[5];
    for (int i = 0; i < 5; i++) y[i] = 3e-9 * x[i] * x[i];
    double k, a, r2;
    cr_assert_eq(xb_fit_loglog(x, y, 5, &k, &a, &r2), 5);
    cr_assert_float_eq(k, 2.0, 1e-9);
    cr_assert_float_eq(a, log(3e-9), 1e-9);
    cr_assert_float_eq(r2, 1.0, 1e-9);
    /* non-positive points are skipped, a single point gives no slope */
    y[1] = 0;
    y[3] = NAN;
    cr_assert_eq(xb_fit_loglog(x, y, 5, &k, &a, &r2), 3);
    cr_assert_float_eq(k, 2.0, 1e-9);
    cr_assert_eq(xb_fit_loglog(x, y, 1, &k, &a, &r2), 1);
    cr_assert(isnan(k));
}

Test(stats, crossover_log_log)
{
    /* a = N · 1e-6 (linear), b = N² · 1e-9 (quadratic): equal at N = 1000 */
    double x[5] = { 256, 512, 1024, 2048, 4096 }, a[5], b[5];
    for (int i = 0; i < 5; i++) { a[i] = 1e-6 * x[i]; b[i] = 1e-9 * x[i] * x[i]; }
    double at = 0;
    cr_assert_eq(xb_crossover(x, a, b, 5, &at), XB_CROSS_AT);
    cr_assert_float_eq(at, 1000.0, 1e-6);
    /* always faster, never faster, too few points */
    for (int i = 0; i < 5; i++) a[i] = 0.5 * b[i];
    cr_assert_eq(xb_crossover(x, a, b, 5, &at), XB_CROSS_BELOW);
    for (int i = 0; i < 5; i++) a[i] = 2 * b[i];
    cr_assert_eq(xb_crossover(x, a, b, 5, &at), XB_CROSS_ABOVE);
    cr_assert_eq(xb_crossover(x, a, b, 1, &at), XB_CROSS_NONE);
}

Test(stats, mann_whitney_normal_approximation)
{
    double a[5] = { 1, 2, 3, 4, 5 }, b[5] = { 6, 7, 8, 9, 10 };
    double u;
    double p = xb_mann_whitney(a, 5, b, 5, &u);
    cr_assert_float_eq(u, 0.0, 1e-12);
    /* z = (12.5 - 0.5) / sqrt(25 · 11 / 12), p = erfc(z / √2) = 0.0121858 */
    cr_assert_float_eq(p, 0.0121858, 1e-6);
    double q = xb_mann_whitney(b, 5, a, 5, &u);
    cr_assert_float_eq(u, 25.0, 1e-12);
    cr_assert_float_eq(q, p, 1e-12);
    /* identical samples: no evidence of a difference */
    p = xb_mann_whitney(a, 5, a, 5, &u);
    cr_assert_float_eq(p, 1.0, 1e-12);
}
