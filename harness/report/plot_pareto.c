/* harness/report/plot_pareto.c — pareto_<task>.gp (plots/pareto.gp): test accuracy against
 * whole-model forward latency, marker size ∝ sqrt peak RSS, and the Pareto frontier. See
 * harness/report/plot_gp.h. */
#include "harness/report/plot_gp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void xb_plot_pareto(xb_gp *g, const xb_plot *c, const char *task)
{
    int threads = c->threads;
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, task, &Ls);
    int cap = nm * nL + 1, m = 0;
    double *lx = calloc((size_t)cap, sizeof *lx), *ay = calloc((size_t)cap, sizeof *ay),
           *mem = calloc((size_t)cap, sizeof *mem);
    int *mi = calloc((size_t)cap, sizeof *mi), *li_ = calloc((size_t)cap, sizeof *li_);
    double maxmem = 0, lo = INFINITY, hi = 0;
    for (int j = 0; lx && ay && mem && mi && li_ && j < nm; j++)
        for (int li = 0; li < nL; li++) {
            xb_agg a, t, r;
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], threads, "test_acc", &a);
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], threads, "latency.model_fwd.median", &t);
            xb_aggregate(c->res, XB_KIND_TRAIN, task, mixers[j], Ls[li], threads, "peak_rss_kb", &r);
            if (!a.ok || !t.ok || !(t.median > 0)) continue;
            lx[m] = t.median;
            ay[m] = 100 * a.mean;
            mem[m] = r.ok ? r.median / 1024 : 0;
            if (mem[m] > maxmem) maxmem = mem[m];
            if (lx[m] < lo) lo = lx[m];
            if (lx[m] > hi) hi = lx[m];
            mi[m] = j;
            li_[m] = Ls[li];
            m++;
        }
    xb_gp_fill(g, "pareto.columns", NULL);
    xb_gp pl = { 0 };
    int lines = 0;
    for (int j = 0; j < nm; j++) {
        int have = 0;
        char block[16], ls[16];
        snprintf(block, sizeof block, "d%d", j);
        xb_gp_fill(g, "frame.data_begin", "block", block, NULL);
        for (int k = 0; k < m; k++)
            if (mi[k] == j) {
                double size = maxmem > 0 ? 1 + 3 * sqrt(mem[k] / maxmem) : 2;
                xb_gp_printf(g, "%.6g %.6g %.3f %.1f %d\n", lx[k], ay[k], size, mem[k], li_[k]);
                have++;
            }
        xb_gp_fill(g, "frame.data_end", NULL);
        if (!have) continue;
        int s = xb_plot_style(c, mixers[j]);
        snprintf(block, sizeof block, "%d", j);
        snprintf(ls, sizeof ls, "%d", s);
        xb_gp_plot_item(&pl, &lines);
        xb_gp_fill(&pl, "pareto.points", "j", block, "ls", ls, "mixer", mixers[j], NULL);
        if (nL > 1) {   /* one length: the title says it */
            xb_gp_plot_item(&pl, &lines);
            xb_gp_fill(&pl, "pareto.lengths", "j", block, "colour", xb_plot_colour(s), NULL);
        }
    }
    /* Frontier: points no other point beats on both latency (lower) and accuracy (higher). */
    xb_gp_fill(g, "frame.data_begin", "block", "frontier", NULL);
    int nf = 0;
    int *ord = malloc((size_t)(m > 0 ? m : 1) * sizeof *ord);
    for (int k = 0; ord && k < m; k++) ord[k] = k;
    for (int a = 1; ord && a < m; a++)
        for (int b = a; b > 0 && lx[ord[b - 1]] > lx[ord[b]]; b--) {
            int t = ord[b]; ord[b] = ord[b - 1]; ord[b - 1] = t;
        }
    double best = -1;
    for (int k = 0; ord && k < m; k++)
        if (ay[ord[k]] > best) {
            best = ay[ord[k]];
            xb_gp_printf(g, "%.6g %.6g\n", lx[ord[k]], ay[ord[k]]);
            nf++;
        }
    free(ord);
    xb_gp_fill(g, "frame.data_end", NULL);
    if (lines && nf > 1) {
        xb_gp_plot_item(&pl, &lines);
        xb_gp_fill(&pl, "pareto.frontier", NULL);
    }
    if (lines) {
        xb_plot_log_axis(g, "x", lo, hi, XB_UNIT_SECONDS);
        xb_gp_fill(g, "pareto.range", NULL);
        xb_gp_append(g, &pl);
        xb_gp_write(g, "\n", 1);
    } else {
        xb_plot_no_data(g);
    }
    free(pl.p); free(lx); free(ay); free(mem); free(mi); free(li_); free(mixers); free(Ls);
}
