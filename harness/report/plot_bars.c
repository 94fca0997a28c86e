/* harness/report/plot_bars.c — test accuracy as grouped bars (plots/accuracy.gp): accuracy.gp
 * with every task and length of the run, accuracy_<task>.gp at a task's one length. See
 * harness/report/plot_gp.h. */
#include "harness/report/plot_gp.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* One group per (task, L), one bar per mixer (mean ± std over seeds over the bar when two or
 * more seeds ended ok), chance a dashed segment over each group, a cell whose seeds all
 * failed shown by its status where its bar would stand. One group: the mixers name the bars
 * and each bar carries its value. */
void xb_plot_accuracy_bars(xb_gp *g, const xb_plot *c, const xb_plot_group *gr, int ng, int width)
{
    const xb_rec *v = c->res->rec;
    int n = c->res->n;
    int *fm = calloc((size_t)c->nm + 1, sizeof *fm), nf = 0;   /* the figure's mixers */
    for (int j = 0; fm && j < c->nm; j++) {
        int in = 0;
        for (int i = 0; i < n && !in; i++)
            if (v[i].kind == XB_KIND_TRAIN && strcmp(v[i].mixer, c->mixers[j]) == 0)
                for (int q = 0; q < ng && !in; q++)
                    in = strcmp(v[i].task, gr[q].task) == 0 && v[i].L == gr[q].L;
        if (in) fm[nf++] = j;
    }
    if (!nf || !ng) { xb_plot_no_data(g); free(fm); return; }
    double w = 0.8 / nf;
    xb_gp pl = { 0 };
    int items = 0, label = 10, bars = 0;
    char num[32], xs[32], ls[16], width_s[32];
    xb_gp_fill(g, "accuracy.bars_columns", NULL);
    for (int k = 0; k < nf; k++) {
        const char *mixer = c->mixers[fm[k]];
        int have = 0;
        snprintf(num, sizeof num, "b%d", k);
        xb_gp_fill(g, "frame.data_begin", "block", num, NULL);
        for (int q = 0; q < ng; q++) {
            double x = q + (k - (nf - 1) / 2.0) * w;
            xb_agg a;
            xb_aggregate(c->res, XB_KIND_TRAIN, gr[q].task, mixer, gr[q].L, c->threads, "test_acc", &a);
            if (a.ok) {
                xb_gp_printf(g, "%.6g %.6g %.6g %d\n", x, 100 * a.mean, 100 * a.std, a.ok);
                have++;
            }
        }
        xb_gp_fill(g, "frame.data_end", NULL);
        for (int q = 0; q < ng; q++) {
            double x = q + (k - (nf - 1) / 2.0) * w;
            xb_agg a;
            xb_aggregate(c->res, XB_KIND_TRAIN, gr[q].task, mixer, gr[q].L, c->threads, "test_acc", &a);
            if (!a.ok && a.total) {
                snprintf(num, sizeof num, "%d", label++);
                snprintf(xs, sizeof xs, "%.6g", x);
                xb_gp_fill(g, "accuracy.bars_status", "n", num, "status", a.status, "x", xs, NULL);
            }
        }
        snprintf(ls, sizeof ls, "%d", xb_plot_style(c, mixer));
        snprintf(num, sizeof num, "%d", k);
        if (!have) {
            if (ng > 1) {   /* every seed failed everywhere: still in the key */
                xb_gp_plot_item(&pl, &items);
                xb_gp_fill(&pl, "accuracy.bars_keyentry", "ls", ls, "fill", xb_plot_fill(c, mixer),
                           "mixer", mixer, NULL);
            }
            continue;
        }
        bars++;
        snprintf(width_s, sizeof width_s, "%.6g", w * 0.9);
        xb_gp_plot_item(&pl, &items);
        xb_gp_fill(&pl, "accuracy.bars_box", "k", num, "width", width_s, "ls", ls,
                   "fill", xb_plot_fill(c, mixer), "mixer", mixer, NULL);
        xb_gp_plot_item(&pl, &items);
        xb_gp_fill(&pl, "accuracy.bars_error", "k", num, NULL);
        if (ng == 1 && nf <= 12) {   /* values over the bars while they fit */
            xb_gp_plot_item(&pl, &items);
            xb_gp_fill(&pl, "accuracy.bars_values", "k", num, NULL);
        }
    }
    xb_gp_fill(g, "frame.data_begin", "block", "chance", NULL);
    int hc = 0;
    double ch1 = NAN;
    for (int q = 0; q < ng; q++) {
        double ch = xb_plot_chance(c, gr[q].task, gr[q].L);
        if (!isfinite(ch)) continue;
        xb_gp_printf(g, "%.6g %.6g\n%.6g %.6g\n\n", q - 0.45, 100 * ch, q + 0.45, 100 * ch);
        ch1 = ch;
        hc++;
    }
    xb_gp_fill(g, "frame.data_end", NULL);
    if (hc && bars) {
        xb_gp_plot_item(&pl, &items);
        xb_gp_fill(&pl, "accuracy.bars_chance", NULL);
    }
    /* tick labels: the mixers under their bars (one group), else the groups */
    int longest = 0, lines2 = 0;
    xb_gp tics = { 0 };
    if (ng == 1) {
        for (int k = 0; k < nf; k++) {
            const char *m = c->mixers[fm[k]];
            if ((int)strlen(m) > longest) longest = (int)strlen(m);
            xb_gp_printf(&tics, "%s", k ? ", " : "");
            xb_gp_quote(&tics, m);
            xb_gp_printf(&tics, " %.6g", (k - (nf - 1) / 2.0) * w);
        }
    } else {
        int multiL = 0;
        for (int q = 1; q < ng; q++) multiL |= gr[q].L != gr[0].L;   /* else the title says L */
        for (int q = 0; q < ng; q++) {
            if ((int)strlen(gr[q].task) > longest) longest = (int)strlen(gr[q].task);
            xb_gp_printf(&tics, "%s", q ? ", " : "");
            xb_gp_quote(&tics, gr[q].task);
            if (multiL) {
                snprintf(num, sizeof num, "%d", gr[q].L);
                xb_gp_fill(&tics, "accuracy.bars_xtic_length", "L", num, NULL);
                lines2 = 1;
            }
            xb_gp_printf(&tics, " %d", q);
        }
    }
    xb_gp_fill(g, "accuracy.bars_xtics", "tics", tics.p ? tics.p : "", NULL);
    free(tics.p);
    int slots = ng == 1 ? nf : ng;
    /* rotate the labels when they would not fit side by side (a character is ~8 pixels) */
    int rotate = slots * (longest + 2) > (width - 250) / 8;
    if (rotate) {
        snprintf(num, sizeof num, "%d", slots > 12 ? 90 : 30);
        xb_gp_fill(g, "accuracy.bars_rotate", "angle", num, NULL);
    }
    if (lines2) {
        snprintf(num, sizeof num, "%d", rotate ? 4 + 3 * (longest > 40 ? 40 : longest) / 10 : 5);
        xb_gp_fill(g, "accuracy.bars_bmargin", "lines", num, NULL);
    }
    char lo[32], hi[32];
    snprintf(lo, sizeof lo, "%.6g", -0.6);
    snprintf(hi, sizeof hi, "%.6g", ng - 0.4);
    xb_gp_fill(g, "accuracy.bars_ranges", "lo", lo, "hi", hi, NULL);
    if (ng == 1) {
        xb_gp_fill(g, "accuracy.bars_one_group", NULL);
        if (hc) {
            snprintf(num, sizeof num, "%.6g", 100 * ch1);
            xb_gp_fill(g, "accuracy.bars_chance_label", "y", num, NULL);
        }
    }
    if (bars) {
        xb_gp_append(g, &pl);
        xb_gp_write(g, "\n", 1);
    } else {
        xb_plot_no_data(g);
    }
    free(pl.p);
    free(fm);
}
