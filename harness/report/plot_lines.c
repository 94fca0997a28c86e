/* harness/report/plot_lines.c — the figures with one line per mixer: a quantity against
 * sequence length (plots/latency.gp: latency, latency_mixer, flops, decode), test accuracy
 * against training length and training-loss curves (plots/accuracy.gp, plots/loss.gp). See
 * harness/report/plot_gp.h. */
#include "harness/report/plot_gp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/stats.h"

/* The records a per-length plot uses (latency sweep, else the first task). */
static int source(const xb_rec *v, int n, int *kind, const char **task)
{
    for (int i = 0; i < n; i++)
        if (v[i].kind == XB_KIND_LATENCY) { *kind = XB_KIND_LATENCY; *task = NULL; return 1; }
    for (int i = 0; i < n; i++)
        if (v[i].kind == XB_KIND_TRAIN) { *kind = XB_KIND_TRAIN; *task = v[i].task; return 1; }
    return 0;
}

static int n_plotted(double *y, int n)
{
    int k = 0;
    for (int i = 0; i < n; i++) k += isfinite(y[i]) && y[i] > 0;
    return k;
}

void xb_plot_per_length(xb_gp *g, const xb_plot *c, const char *field, int use_any, int unit,
                        int want_kind)
{
    const xb_rec *v = c->res->rec;
    int n = c->res->n, kind = want_kind;
    const char *task = NULL;
    if (want_kind == XB_KIND_ANY && !source(v, n, &kind, &task)) { xb_plot_no_data(g); return; }
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    double *x = calloc((size_t)nL + 1, sizeof *x), *y = calloc((size_t)nL + 1, sizeof *y);
    int *used = calloc((size_t)nL + 1, sizeof *used);
    xb_gp pl = { 0 };
    int lines = 0;
    double lo = INFINITY, hi = 0;
    for (int j = 0; x && y && used && j < nm; j++) {
        for (int li = 0; li < nL; li++) {
            xb_agg a;
            x[li] = Ls[li];
            if (use_any) {
                /* analytic quantities: any record of the grid point, whatever its status */
                y[li] = NAN;
                for (int i = 0; i < n && !isfinite(y[li]); i++)
                    if (v[i].kind == kind && (!task || strcmp(v[i].task, task) == 0) &&
                        strcmp(v[i].mixer, mixers[j]) == 0 && v[i].L == Ls[li])
                        y[li] = xb_record_num(v[i].o, field);
            } else {
                xb_aggregate(c->res, kind, task, mixers[j], Ls[li], c->threads, field, &a);
                y[li] = a.ok ? a.median : NAN;
            }
        }
        if (n_plotted(y, nL) == 0) continue;
        char block[16], ls[16], title[300];
        snprintf(block, sizeof block, "d%d", j);
        xb_gp_fill(g, "frame.data_begin", "block", block, NULL);
        for (int li = 0; li < nL; li++)
            if (isfinite(y[li]) && y[li] > 0) {
                xb_gp_printf(g, "%d %.9g\n", Ls[li], y[li]);
                if (y[li] < lo) lo = y[li];
                if (y[li] > hi) hi = y[li];
                used[li] = 1;
            }
        xb_gp_fill(g, "frame.data_end", NULL);
        double k = NAN, a0, r2;
        xb_fit_loglog(x, y, nL, &k, &a0, &r2);
        if (isfinite(k)) snprintf(title, sizeof title, "%s (k = %.2f)", mixers[j], k);
        else snprintf(title, sizeof title, "%s", mixers[j]);
        snprintf(block, sizeof block, "%d", j);
        snprintf(ls, sizeof ls, "%d", xb_plot_style(c, mixers[j]));
        xb_gp_plot_item(&pl, &lines);
        xb_gp_fill(&pl, "latency.line", "j", block, "ls", ls, "title", title, NULL);
    }
    if (lines) {
        int m = 0;
        for (int li = 0; li < nL; li++)
            if (used[li]) Ls[m++] = Ls[li];
        xb_gp_fill(g, "latency.axes", NULL);
        xb_plot_length_axis(g, Ls, m);
        xb_plot_log_axis(g, "y", lo, hi, unit);
        xb_gp_fill(g, "latency.key", NULL);
        xb_gp_append(g, &pl);
        xb_gp_write(g, "\n", 1);
    } else {
        xb_plot_no_data(g);
    }
    free(pl.p);
    free(x); free(y); free(used); free(mixers); free(Ls);
}

void xb_plot_accuracy_lines(xb_gp *g, const xb_plot *c, const char *task)
{
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, task, &Ls);
    xb_gp pl = { 0 };
    int lines = 0;
    xb_gp_fill(g, "accuracy.lines_columns", NULL);
    for (int j = 0; j < nm; j++) {
        int have = 0;
        char block[16], ls[16];
        snprintf(block, sizeof block, "d%d", j);
        xb_gp_fill(g, "frame.data_begin", "block", block, NULL);
        for (int li = 0; li < nL; li++) {
            xb_agg a;
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], c->threads, "test_acc", &a);
            if (a.ok) { xb_gp_printf(g, "%d %.6g %.6g\n", Ls[li], 100 * a.mean, 100 * a.std); have++; }
        }
        xb_gp_fill(g, "frame.data_end", NULL);
        if (!have) continue;
        snprintf(block, sizeof block, "%d", j);
        snprintf(ls, sizeof ls, "%d", xb_plot_style(c, mixers[j]));
        xb_gp_plot_item(&pl, &lines);
        xb_gp_fill(&pl, "accuracy.lines_item", "j", block, "ls", ls, "mixer", mixers[j], NULL);
    }
    xb_gp_fill(g, "frame.data_begin", "block", "chance", NULL);
    int hc = 0;
    for (int li = 0; li < nL; li++) {
        double ch = xb_plot_chance(c, task, Ls[li]);
        if (isfinite(ch)) { xb_gp_printf(g, "%d %.6g\n", Ls[li], 100 * ch); hc++; }
    }
    xb_gp_fill(g, "frame.data_end", NULL);
    if (hc && lines) {
        xb_gp_plot_item(&pl, &lines);
        xb_gp_fill(&pl, "accuracy.lines_chance", NULL);
    }
    if (lines) {
        xb_plot_length_axis(g, Ls, nL);
        xb_gp_fill(g, "accuracy.lines_range", NULL);
        xb_gp_append(g, &pl);
        xb_gp_write(g, "\n", 1);
    } else {
        xb_plot_no_data(g);
    }
    free(pl.p); free(mixers); free(Ls);
}

void xb_plot_loss(xb_gp *g, const xb_plot *c, const char *task, int L)
{
    const xb_rec *v = c->res->rec;
    int n = c->res->n;
    const char **mixers;
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    xb_gp pl = { 0 };
    int lines = 0;
    for (int j = 0; j < nm; j++) {
        /* the first record (lowest seed order in the file) of this mixer that has a curve */
        json_object *curve = NULL;
        for (int i = 0; i < n && !curve; i++)
            if (v[i].kind == XB_KIND_TRAIN && strcmp(v[i].task, task) == 0 && v[i].L == L &&
                strcmp(v[i].mixer, mixers[j]) == 0 && (c->threads <= 0 || v[i].threads == c->threads))
                curve = xb_jget(v[i].o, "loss_curve");
        if (!curve || !json_object_is_type(curve, json_type_array) ||
            json_object_array_length(curve) == 0)
            continue;
        int pts = 0;
        char block[16], ls[16], every[16];
        snprintf(block, sizeof block, "d%d", j);
        xb_gp_fill(g, "frame.data_begin", "block", block, NULL);
        for (size_t k = 0; k < json_object_array_length(curve); k++) {
            json_object *pt = json_object_array_get_idx(curve, k);
            json_object *ly = json_object_array_get_idx(pt, 1);
            if (!ly || json_object_is_type(ly, json_type_null)) continue;
            double y = json_object_get_double(ly);
            if (!isfinite(y)) continue;
            xb_gp_printf(g, "%d %.6g\n", json_object_get_int(json_object_array_get_idx(pt, 0)), y);
            pts++;
        }
        xb_gp_fill(g, "frame.data_end", NULL);
        if (!pts) continue;
        snprintf(block, sizeof block, "%d", j);
        snprintf(ls, sizeof ls, "%d", xb_plot_style(c, mixers[j]));
        snprintf(every, sizeof every, "%d", pts / 8 > 1 ? pts / 8 : 1);
        xb_gp_plot_item(&pl, &lines);
        xb_gp_fill(&pl, "loss.line", "j", block, "ls", ls, "every", every, "mixer", mixers[j], NULL);
    }
    if (lines) {
        xb_gp_append(g, &pl);
        xb_gp_write(g, "\n", 1);
    } else {
        xb_plot_no_data(g);
    }
    free(pl.p);
    free(mixers);
}
