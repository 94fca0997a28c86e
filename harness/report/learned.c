/* harness/report/learned.c — the "not learned" (plateau) detector; the rule and its calibration
 * are in harness/report/learned.h. */
#include "harness/report/learned.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/store.h"

int xb_loss_plateaued(const double *step, const double *loss, int n, xb_plateau *out)
{
    xb_plateau p;
    memset(&p, 0, sizeof p);
    p.l0 = p.lend = p.decline = p.decline_se = p.flat_ratio = p.level_ratio = NAN;
    p.acc = p.plateau_acc = NAN;
    if (out) *out = p;
    if (!step || !loss || n < 1) return -1;

    /* finite points with increasing steps only */
    double *s = malloc((size_t)n * sizeof *s), *l = malloc((size_t)n * sizeof *l);
    if (!s || !l) { free(s); free(l); return -1; }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (isfinite(step[i]) && isfinite(loss[i]) && (m == 0 || step[i] > s[m - 1])) {
            s[m] = step[i];
            l[m] = loss[i];
            m++;
        }
    p.n = m;
    int verdict = -1;
    if (m >= XB_PLATEAU_MIN_POINTS) {
        int k0 = m / 32 > 0 ? m / 32 : 1, ke = m / 16 > 2 ? m / 16 : 2;
        double a = 0, b = 0;
        for (int i = 0; i < k0; i++) a += l[i];
        for (int i = m - ke; i < m; i++) b += l[i];
        p.l0 = a / k0;
        p.lend = b / ke;

        /* least squares of loss on x = step / last step over the last half (x ≥ 1/2) */
        double S = s[m - 1], sx = 0, sy = 0;
        int h = 0;
        for (int i = 0; i < m && S > 0; i++)
            if (s[i] >= 0.5 * S) { sx += s[i] / S; sy += l[i]; h++; }
        if (S > 0 && h >= XB_PLATEAU_MIN_HALF) {
            double mx = sx / h, my = sy / h, sxx = 0, sxy = 0;
            for (int i = 0; i < m; i++)
                if (s[i] >= 0.5 * S) {
                    double dx = s[i] / S - mx;
                    sxx += dx * dx;
                    sxy += dx * (l[i] - my);
                }
            if (sxx > 0) {
                double slope = sxy / sxx, rss = 0;
                for (int i = 0; i < m; i++)
                    if (s[i] >= 0.5 * S) {
                        double r = l[i] - (my + slope * (s[i] / S - mx));
                        rss += r * r;
                    }
                double se = sqrt(rss / (h - 2) / sxx);
                /* the fall of the fitted line over x in [1/2, 1], > 0 = falling */
                p.decline = -0.5 * slope;
                p.decline_se = 0.5 * se;
                p.flat_ratio = p.lend > 0 ? (p.decline + 2.0 * p.decline_se) / p.lend : INFINITY;
                p.level_ratio = p.l0 > 0 ? p.lend / p.l0 : NAN;
                int flat = p.flat_ratio < XB_PLATEAU_FLAT;
                int high = p.level_ratio >= XB_PLATEAU_LEVEL;
                verdict = flat && high;
            }
        }
    }
    free(s);
    free(l);
    if (out) *out = p;
    return verdict;
}

double xb_plateau_accuracy(json_object *rec)
{
    double chance = xb_jnum(rec, "chance", NAN);
    const char *task = xb_jstr(rec, "task", "");
    if (task && !strcmp(task, "mqar")) {
        json_object *kv = xb_jpath(rec, "config.task.options.kv_pairs");
        double K = kv ? json_object_get_double(kv) : 0;
        if (K >= 1 && (!isfinite(chance) || 1.0 / K > chance)) return 1.0 / K;
    }
    return chance;
}

int xb_cell_not_learned(json_object *rec, xb_plateau *out)
{
    xb_plateau p;
    memset(&p, 0, sizeof p);
    p.l0 = p.lend = p.decline = p.decline_se = p.flat_ratio = p.level_ratio = NAN;
    p.acc = p.plateau_acc = NAN;
    if (out) *out = p;
    if (!rec) return -1;
    const char *kind = xb_jstr(rec, "kind", ""), *status = xb_jstr(rec, "status", "");
    if (!kind || strcmp(kind, "train") || !status || strcmp(status, "ok")) return -1;
    json_object *curve = xb_jget(rec, "loss_curve");
    if (!curve || !json_object_is_type(curve, json_type_array)) return -1;
    int n = (int)json_object_array_length(curve);
    if (n < 1) return -1;
    double *s = malloc((size_t)n * sizeof *s), *l = malloc((size_t)n * sizeof *l);
    if (!s || !l) { free(s); free(l); return -1; }
    int m = 0;
    for (int i = 0; i < n; i++) {
        json_object *pt = json_object_array_get_idx(curve, (size_t)i);
        if (!pt || !json_object_is_type(pt, json_type_array) || json_object_array_length(pt) < 2) continue;
        json_object *a = json_object_array_get_idx(pt, 0), *b = json_object_array_get_idx(pt, 1);
        if (!a || !b) continue;   /* null loss: a non-finite bucket */
        s[m] = json_object_get_double(a);
        l[m] = json_object_get_double(b);
        m++;
    }
    int curve_verdict = xb_loss_plateaued(s, l, m, &p);
    free(s);
    free(l);
    p.acc = xb_jnum(rec, "test_acc", NAN);
    p.plateau_acc = xb_plateau_accuracy(rec);
    int verdict = -1;
    if (curve_verdict >= 0 && isfinite(p.acc) && isfinite(p.plateau_acc)) {
        int near = p.acc < p.plateau_acc + XB_PLATEAU_NEAR * (1.0 - p.plateau_acc);
        verdict = curve_verdict && near;
    }
    if (out) *out = p;
    return verdict;
}
