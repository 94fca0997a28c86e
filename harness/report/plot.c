/* harness/report/plot.c — the figures of a results folder, in the order they are written
 * (see harness/report/plot.h): the per-length lines (plot_lines.c), the accuracy bars
 * (plot_bars.c), accuracy against length, the Pareto plots (plot_pareto.c) and the loss
 * curves; each script's text comes from the templates of plots/ (plot_gp.c). */
#include "harness/report/plot.h"

#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/report/plot_gp.h"
#include "harness/report/results.h"
#include "harness/report/store.h"

int xb_plot_dir(const char *dir, FILE *err)
{
    /* report, which runs first, has said which records of another suite it left out */
    xb_results res;
    int rc = xb_results_load(&res, dir, err, NULL, XB_LOAD_QUIET_FOREIGN);
    if (rc) return rc;

    char *pdir = xb_path_join(dir, "plots");
    rc = pdir ? xb_mkdirs(pdir) : XB_ENOMEM;
    if (rc) {
        if (err) fprintf(err, "error: cannot create '%s/plots'\n", dir);
        goto out;
    }
    int have = xb_plot_on_path("gnuplot");
    int have_pdf = have && xb_plot_run_gnuplot(NULL, "set terminal pdfcairo", NULL) == 0;
    if (!have && err)
        fprintf(err, "warning: gnuplot is not on PATH: wrote the scripts in '%s' without "
                "rendering them (install gnuplot-nox, then run: cd %s && gnuplot *.gp)\n", pdir, pdir);

    const xb_rec *v = res.rec;
    int n = res.n;
    int *thr;
    int nthr = xb_distinct_threads(&res, &thr);
    xb_plot c = { .res = &res, .threads = nthr ? thr[0] : 0 };   /* plots show the first thread count */
    c.nm = xb_distinct_mixers(&res, XB_KIND_ANY, &c.mixers);
    int failed = 0;
    xb_gp g = { 0 };
    xb_gp_names used = { 0 };
    char title[512], name[256];
    /* tall enough for a one-column key of every mixer (~17 pixels a line at 11 pt) */
    xb_plot_frame f = { 960, 640, c.nm + 2 };
    if (130 + 17 * f.entries > f.h) f.h = 130 + 17 * f.entries;

    xb_gp_name_add(&used, "latency");
    xb_plot_begin(&g, &c, "latency", &f, "Whole model, forward latency vs length", "sequence length N",
          "median forward time (one sequence)");
    xb_plot_per_length(&g, &c, "latency.model_fwd.median", 0, XB_UNIT_SECONDS, XB_KIND_ANY);
    xb_plot_finish(&g, &f);
    rc = xb_plot_emit(pdir, "latency", &g, have, have_pdf, err, &failed);

    xb_gp_name_add(&used, "latency_mixer");
    xb_plot_begin(&g, &c, "latency_mixer", &f, "Mixer layer alone, forward latency vs length",
          "sequence length N", "median forward time (one sequence)");
    xb_plot_per_length(&g, &c, "latency.mixer_fwd.median", 0, XB_UNIT_SECONDS, XB_KIND_ANY);
    xb_plot_finish(&g, &f);
    if (!rc) rc = xb_plot_emit(pdir, "latency_mixer", &g, have, have_pdf, err, &failed);

    xb_gp_name_add(&used, "flops");
    xb_plot_begin(&g, &c, "flops", &f, "Analytic forward FLOPs of one sequence (whole model)",
          "sequence length N", "FLOPs");
    xb_plot_per_length(&g, &c, "flops_model", 1, XB_UNIT_COUNT, XB_KIND_ANY);
    xb_plot_finish(&g, &f);
    if (!rc) rc = xb_plot_emit(pdir, "flops", &g, have, have_pdf, err, &failed);

    int any_decode = 0;
    for (int i = 0; i < n && !any_decode; i++) any_decode = v[i].kind == XB_KIND_DECODE;
    if (!rc && any_decode) {
        xb_gp_name_add(&used, "decode");
        xb_plot_begin(&g, &c, "decode", &f, "Decode: time per generated token vs context (one causal mixer layer)",
              "context length N", "median time per token (one sequence)");
        xb_plot_per_length(&g, &c, "decode.step.median", 0, XB_UNIT_SECONDS, XB_KIND_DECODE);
        xb_plot_finish(&g, &f);
        rc = xb_plot_emit(pdir, "decode", &g, have, have_pdf, err, &failed);
    }

    const char **tasks;
    int nt = xb_distinct_tasks(&res, &tasks);

    /* accuracy.gp: every task (and length) of the run as grouped bars */
    int ng = 0;
    xb_plot_group *gr = NULL;
    for (int t = 0; t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(&res, XB_KIND_TRAIN, tasks[t], &Ls);
        xb_plot_group *q = realloc(gr, (size_t)(ng + nL + 1) * sizeof *gr);
        if (q) {
            gr = q;
            for (int li = 0; li < nL; li++) gr[ng++] = (xb_plot_group){ tasks[t], Ls[li] };
        }
        free(Ls);
    }
    if (!rc && ng) {
        int nf = c.nm;
        xb_plot_frame fa = f;
        if (ng > 1 && ng * nf > 60) fa.w = 260 + 12 * ng * nf < 3000 ? 260 + 12 * ng * nf : 3000;
        xb_gp_name_add(&used, "accuracy");
        xb_plot_begin(&g, &c, "accuracy", &fa, "Test accuracy (mean ± std over seeds)", "", "test accuracy (%)");
        xb_plot_accuracy_bars(&g, &c, gr, ng, fa.w);
        xb_plot_finish(&g, &fa);
        rc = xb_plot_emit(pdir, "accuracy", &g, have, have_pdf, err, &failed);
    }

    for (int t = 0; !rc && t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(&res, XB_KIND_TRAIN, tasks[t], &Ls);

        xb_gp_file_name(&used, name, sizeof name, "accuracy_", tasks[t], "");
        if (nL == 1) {
            xb_plot_group one = { tasks[t], Ls[0] };
            snprintf(title, sizeof title, "%s: test accuracy at L = %d (mean ± std over seeds)", tasks[t], Ls[0]);
            xb_plot_begin(&g, &c, name, &f, title, "", "test accuracy (%)");
            xb_plot_accuracy_bars(&g, &c, &one, 1, f.w);
        } else {
            snprintf(title, sizeof title, "%s: test accuracy vs training length", tasks[t]);
            xb_plot_begin(&g, &c, name, &f, title, "sequence length N", "test accuracy (%)");
            xb_plot_accuracy_lines(&g, &c, tasks[t]);
        }
        xb_plot_finish(&g, &f);
        rc = xb_plot_emit(pdir, name, &g, have, have_pdf, err, &failed);

        xb_gp_file_name(&used, name, sizeof name, "pareto_", tasks[t], "");
        if (nL == 1)
            snprintf(title, sizeof title, "%s, L = %d: accuracy vs forward latency (marker area ~ peak RSS)",
                     tasks[t], Ls[0]);
        else
            snprintf(title, sizeof title, "%s: accuracy vs forward latency (marker area ~ peak RSS)", tasks[t]);
        xb_plot_begin(&g, &c, name, &f, title, "whole-model forward latency (median, one sequence)", "test accuracy (%)");
        if (!rc) xb_plot_pareto(&g, &c, tasks[t]);
        xb_plot_finish(&g, &f);
        if (!rc) rc = xb_plot_emit(pdir, name, &g, have, have_pdf, err, &failed);

        for (int li = 0; !rc && li < nL; li++) {
            char suffix[32];
            snprintf(suffix, sizeof suffix, "_L%d", Ls[li]);
            xb_gp_file_name(&used, name, sizeof name, "loss_", tasks[t], suffix);
            snprintf(title, sizeof title, "%s, L = %d: training loss (first seed)", tasks[t], Ls[li]);
            xb_plot_begin(&g, &c, name, &f, title, "step", "training loss");
            xb_plot_loss(&g, &c, tasks[t], Ls[li]);
            xb_plot_finish(&g, &f);
            rc = xb_plot_emit(pdir, name, &g, have, have_pdf, err, &failed);
        }
        free(Ls);
    }
    free(g.p);
    free(gr);
    free(tasks);
    free(c.mixers);
    xb_gp_names_free(&used);
    free(thr);
out:
    free(pdir);
    xb_results_release(&res);
    return rc;
}
