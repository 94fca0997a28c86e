/* harness/report/tables_latency.c — the timing sections of tables.md: latency tables (the
 * latency sweep and each task at its training lengths), a training step against the forward,
 * FLOPs and memory, scaling exponents and crossovers against softmax, and thread scaling
 * (harness/report/tables.h). */
#include "harness/report/tables.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/fmt.h"
#include "harness/report/stats.h"

/* The measurements' titles, and the order of the tables: whole model first. */
static const char *const lat_title[XB_N_LAT] = {
    "whole model, forward", "whole model, forward + backward", "mixer layer alone, forward",
    "mixer layer alone, forward + backward", "whole model, one training step (forward, backward, AdamW)" };
static const int lat_order[XB_N_LAT] = { XB_LAT_MODEL_FWD, XB_LAT_MODEL_FWDBWD, XB_LAT_MODEL_TRAIN,
                                         XB_LAT_MIXER_FWD, XB_LAT_MIXER_FWDBWD };

/* Whether any record matching (kind, task) holds latency.<what> (a number or not). */
static int any_measurement(const xb_tables *c, int kind, const char *task, int w)
{
    char path[64];
    snprintf(path, sizeof path, "latency.%s", xb_lat_what[w]);
    for (int i = 0; i < c->res->n; i++)
        if (xb_rec_match(&c->res->rec[i], kind, task) && xb_jpath(c->res->rec[i].o, path)) return 1;
    return 0;
}

/* A folder written before model_train was measured: its records have model_fwd (timed
 * first in every cell) and none has model_train. Its tables leave the measurement out
 * instead of a table of dashes. */
static int predates(const xb_tables *c, int kind, const char *task, int w)
{
    return w == XB_LAT_MODEL_TRAIN && !any_measurement(c, kind, task, w) &&
           any_measurement(c, kind, task, XB_LAT_MODEL_FWD);
}

/* One latency table: mixers × lengths of the records matching (kind, task). */
static void latency_table(xb_tables *c, int kind, const char *task, int threads, int w)
{
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    char field[64], ffield[64];
    snprintf(field, sizeof field, "latency.%s.median", xb_lat_what[w]);
    snprintf(ffield, sizeof ffield, "latency.%s.flops", xb_lat_what[w]);
    int any_value = 0;
    for (int i = 0; i < c->res->n && !any_value; i++)
        any_value = xb_rec_match(&c->res->rec[i], kind, task) && isfinite(xb_record_num(c->res->rec[i].o, field));
    if (!any_value) {
        xb_sb_printf(c->b, "(no measurements)\n\n");
        free(mixers);
        free(Ls);
        return;
    }
    xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        int any = 0;
        for (int i = 0; i < c->res->n && !any; i++)
            any = xb_rec_match(&c->res->rec[i], kind, task) && strcmp(c->res->rec[i].mixer, mixers[j]) == 0;
        if (!any) continue;
        xb_sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            xb_agg a, f;
            char cell[128], tm[32];
            xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, field, &a);
            xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, ffield, &f);
            if (a.ok == 0) {
                xb_tables_missing(&a, cell, sizeof cell);
            } else {
                xb_fmt_time(a.median, tm, sizeof tm);
                double gf = f.ok ? f.median / a.median / 1e9 : NAN;
                int k = snprintf(cell, sizeof cell, "%s%s", tm, a.noisy ? "*" : "");
                if (isfinite(gf) && k > 0) {
                    k += snprintf(cell + k, sizeof cell - (size_t)k, " · %.3g GF/s", gf);
                    double peak = xb_tables_peak(c, threads);
                    double pct = 100 * gf / peak;
                    if (isfinite(pct) && peak > 0)
                        snprintf(cell + k, sizeof cell - (size_t)k, pct >= 10 ? " · %.0f%%" : " · %.2g%%", pct);
                }
            }
            xb_sb_printf(c->b, " %s |", cell);
        }
        xb_sb_printf(c->b, "\n");
    }
    xb_sb_printf(c->b, "\n");
    free(mixers);
    free(Ls);
}

#define TRAIN_NOTE "One step as the training loop takes it, on the same random batch each " \
    "repetition: forward with targets, backward, gradient norm and clipping, AdamW (train: lr, " \
    "constant). FLOPs: 3 × forward, like forward + backward; AdamW's ~10 FLOPs per parameter " \
    "are not counted."

/* Latency sweep, mixers × lengths: a training step's achieved GFLOP/s as a percentage of the
 * forward pass's (nominal FLOPs over medians, i.e. 3 · forward median / step median). */
static void train_vs_fwd_table(xb_tables *c, int threads)
{
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_LATENCY, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_LATENCY, NULL, &Ls);
    xb_sb_printf(c->b, "### Training step vs forward\n\nAchieved GFLOP/s of one training step "
                 "(nominal 3 × forward FLOPs) as a percentage of the forward pass's, whole model: "
                 "3 × forward median / training-step median. Issue 5's target: ≥ 50%%. `*` = either "
                 "measurement noisy.\n\n");
    xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        xb_sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            xb_agg fw, tr, ffw, ftr;
            char cell[128];
            xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], threads,
                         "latency.model_fwd.median", &fw);
            xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], threads,
                         "latency.model_train.median", &tr);
            xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], threads,
                         "latency.model_fwd.flops", &ffw);
            xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], threads,
                         "latency.model_train.flops", &ftr);
            double pct = 100 * (ftr.median / tr.median) / (ffw.median / fw.median);
            if (fw.ok == 0) xb_tables_missing(&fw, cell, sizeof cell);
            else if (tr.ok == 0) xb_tables_missing(&tr, cell, sizeof cell);
            else if (!isfinite(pct) || pct <= 0) snprintf(cell, sizeof cell, "— (no FLOPs)");
            else {
                xb_fmt_pct(pct, cell, sizeof cell);
                if (fw.noisy || tr.noisy) strcat(cell, "*");
            }
            xb_sb_printf(c->b, " %s |", cell);
        }
        xb_sb_printf(c->b, "\n");
    }
    xb_sb_printf(c->b, "\n");
    free(mixers);
    free(Ls);
}

void xb_tables_latency(xb_tables *c, int threads, const char *thr_note)
{
    int has_lat = 0, has_train = 0, batch = 0;
    for (int i = 0; i < c->res->n; i++) {
        if (c->res->rec[i].kind == XB_KIND_LATENCY) has_lat = 1;
        else has_train = 1;
        if (!batch) batch = xb_jint(xb_jget(c->res->rec[i].o, "latency"), "batch", 0);
    }
    if (!has_lat && !has_train) return;
    xb_sb_printf(c->b, "## Latency%s\n\nMedian of timed repetitions at batch %d · achieved GFLOP/s "
                 "(analytic forward FLOPs / median; forward + backward and a training step counted as "
                 "3 × forward, a nominal figure) · fraction of the machine's FMA peak for the thread count. "
                 "`*` = noisy (cv above max_cv, median below the clock's reliable floor, or cut "
                 "short by the time limit).\n\n", thr_note, batch);
    if (has_lat) {
        for (int o = 0; o < XB_N_LAT; o++) {
            int w = lat_order[o];
            if (predates(c, XB_KIND_LATENCY, NULL, w)) continue;
            xb_sb_printf(c->b, "### Latency sweep (random tokens): %s\n\n", lat_title[w]);
            if (w == XB_LAT_MODEL_TRAIN) xb_sb_printf(c->b, "%s\n\n", TRAIN_NOTE);
            latency_table(c, XB_KIND_LATENCY, NULL, threads, w);
        }
        if (!predates(c, XB_KIND_LATENCY, NULL, XB_LAT_MODEL_TRAIN)) train_vs_fwd_table(c, threads);
    }
    if (has_train) {
        const char **tasks;
        int nt = xb_distinct_tasks(c->res, &tasks);
        for (int t = 0; t < nt; t++)
            for (int o = 0; o < 3; o++) {    /* the whole model's: what a training cell times */
                int w = lat_order[o];
                if (predates(c, XB_KIND_TRAIN, tasks[t], w)) continue;
                xb_sb_printf(c->b, "### %s at its training lengths: %s\n\n", tasks[t], lat_title[w]);
                if (w == XB_LAT_MODEL_TRAIN) xb_sb_printf(c->b, "%s\n\n", TRAIN_NOTE);
                latency_table(c, XB_KIND_TRAIN, tasks[t], threads, w);
            }
        free(tasks);
    }
}

/* The records a length-indexed table of one mixer uses: the latency sweep when there is
 * one, else the first task's training cells. */
static int table_source(xb_tables *c, int *kind, const char **task)
{
    for (int i = 0; i < c->res->n; i++)
        if (c->res->rec[i].kind == XB_KIND_LATENCY) {
            *kind = XB_KIND_LATENCY;
            *task = NULL;
            return 1;
        }
    for (int i = 0; i < c->res->n; i++)
        if (c->res->rec[i].kind == XB_KIND_TRAIN) {
            *kind = XB_KIND_TRAIN;
            *task = c->res->rec[i].task;
            return 1;
        }
    return 0;
}

static double any_num(xb_tables *c, int kind, const char *task, const char *mixer, int L, const char *f)
{
    for (int i = 0; i < c->res->n; i++)
        if (xb_rec_match(&c->res->rec[i], kind, task) && strcmp(c->res->rec[i].mixer, mixer) == 0 && c->res->rec[i].L == L) {
            double x = xb_record_num(c->res->rec[i].o, f);
            if (isfinite(x)) return x;
        }
    return NAN;
}

void xb_tables_flops_memory(xb_tables *c, int threads)
{
    int kind;
    const char *task;
    if (!table_source(c, &kind, &task)) return;
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    const char *src = kind == XB_KIND_LATENCY ? "latency sweep" : task;
    xb_sb_printf(c->b, "## FLOPs\n\nAnalytic forward FLOPs of one sequence (%s): mixer layer "
                 "(its published formula) / whole model.\n\n", src);
    xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        xb_sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            char a[32], b[32];
            double fm = any_num(c, kind, task, mixers[j], Ls[li], "flops_mixer");
            if (!isfinite(fm)) {
                xb_agg st;
                char cell[96];
                xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, "flops_mixer", &st);
                xb_tables_missing(&st, cell, sizeof cell);
                xb_sb_printf(c->b, " %s |", cell);
                continue;
            }
            xb_fmt_flops(fm, a, sizeof a);
            xb_fmt_flops(any_num(c, kind, task, mixers[j], Ls[li], "flops_model"), b, sizeof b);
            xb_sb_printf(c->b, " %s / %s |", a, b);
        }
        xb_sb_printf(c->b, "\n");
    }
    xb_sb_printf(c->b, "\n## Memory\n\nMiB: analytic (xb_model_bytes: parameters, gradients, "
                 "AdamW moments, activations, scratch; the larger of the training and latency "
                 "models) / peak RSS of the cell's process (%s).\n\n", src);
    xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        xb_sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            char a[32], b[96];
            xb_agg r;
            xb_fmt_mib(any_num(c, kind, task, mixers[j], Ls[li], "bytes_analytic"), a, sizeof a);
            xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, "peak_rss_kb", &r);
            if (r.ok) xb_fmt_mib(r.median * 1024, b, sizeof b);
            else xb_tables_missing(&r, b, sizeof b);
            xb_sb_printf(c->b, " %s / %s |", a, b);
        }
        xb_sb_printf(c->b, "\n");
    }
    xb_sb_printf(c->b, "\n");
    free(mixers);
    free(Ls);
}

void xb_tables_scaling(xb_tables *c, int threads)
{
    int kind;
    const char *task;
    if (!table_source(c, &kind, &task)) return;
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    if (nL < 2) goto done;
    int soft = -1;
    for (int j = 0; j < nm; j++)
        if (strcmp(mixers[j], "softmax") == 0) soft = j;
    double *x = calloc((size_t)nL, sizeof *x), *y = calloc((size_t)nL, sizeof *y),
           *ys = calloc((size_t)nL, sizeof *ys);
    if (!x || !y || !ys) goto free_xy;
    xb_sb_printf(c->b, "## Scaling\n\nFitted exponent k of time ∝ N^k (least squares on log-log "
                 "medians over the %s lengths; r² in parentheses) and the length after which the "
                 "mixer stays faster than softmax (interpolated in log-log between measured "
                 "lengths).\n\n", kind == XB_KIND_LATENCY ? "latency sweep" : task);
    xb_sb_printf(c->b, "| mixer | k, model fwd | k, mixer fwd | crossover vs softmax, model fwd | "
                 "crossover vs softmax, mixer fwd |\n|---|---:|---:|---:|---:|\n");
    for (int j = 0; j < nm; j++) {
        xb_sb_printf(c->b, "| %s |", mixers[j]);
        const char *fields[2] = { "latency.model_fwd.median", "latency.mixer_fwd.median" };
        char cross[2][64];
        for (int f = 0; f < 2; f++) {
            for (int li = 0; li < nL; li++) {
                xb_agg a;
                x[li] = Ls[li];
                xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, fields[f], &a);
                y[li] = a.ok ? a.median : NAN;
                if (soft >= 0) {
                    xb_aggregate(c->res, kind, task, mixers[soft], Ls[li], threads, fields[f], &a);
                    ys[li] = a.ok ? a.median : NAN;
                }
            }
            double k, a0, r2;
            int used = xb_fit_loglog(x, y, nL, &k, &a0, &r2);
            if (used >= 2 && isfinite(k)) xb_sb_printf(c->b, " %.2f (%.3f) |", k, r2);
            else xb_sb_printf(c->b, " — |");
            if (soft < 0) snprintf(cross[f], sizeof cross[f], "— (no softmax)");
            else if (j == soft) snprintf(cross[f], sizeof cross[f], "—");
            else {
                /* lengths where both have a value */
                double cx[64], ca[64], cb[64];
                int m = 0;
                for (int li = 0; li < nL && m < 64; li++)
                    if (isfinite(y[li]) && isfinite(ys[li])) {
                        cx[m] = x[li]; ca[m] = y[li]; cb[m] = ys[li]; m++;
                    }
                double at = NAN;
                int r = xb_crossover(cx, ca, cb, m, &at);
                if (r == XB_CROSS_AT) snprintf(cross[f], sizeof cross[f], "N ≈ %.0f", at);
                else if (r == XB_CROSS_BELOW) snprintf(cross[f], sizeof cross[f], "faster at every N ≥ %.0f", cx[0]);
                else if (r == XB_CROSS_ABOVE) snprintf(cross[f], sizeof cross[f], "not faster by N = %.0f", cx[m - 1]);
                else snprintf(cross[f], sizeof cross[f], "— (too few lengths)");
            }
        }
        xb_sb_printf(c->b, " %s | %s |\n", cross[0], cross[1]);
    }
    xb_sb_printf(c->b, "\n");
free_xy:
    free(x); free(y); free(ys);
done:
    free(mixers);
    free(Ls);
}

/* Mean FMA probe (GFLOP/s, latency.fma_probe_gflops) of the ok latency records at (mixer, or
 * every mixer when NULL; L; threads); NAN when none has one. */
static double probe_mean(const xb_tables *c, const char *mixer, int L, int threads)
{
    double s = 0;
    int n = 0;
    for (int i = 0; i < c->res->n; i++) {
        const xb_rec *r = &c->res->rec[i];
        if (r->kind != XB_KIND_LATENCY || !r->ok || r->L != L || r->threads != threads) continue;
        if (mixer && strcmp(r->mixer, mixer) != 0) continue;
        json_object *a = xb_jget(xb_jget(r->o, "latency"), "fma_probe_gflops");
        for (size_t k = 0; a && json_object_is_type(a, json_type_array) && k < json_object_array_length(a); k++) {
            double v = json_object_get_double(json_object_array_get_idx(a, k));
            if (v > 0 && isfinite(v)) { s += v; n++; }
        }
    }
    return n ? s / n : NAN;
}

/* The paired speedups (latency.mixer_fwd_paired, measure.c: forwards at T_min and at T
 * alternated inside the T cell) of the mixer layer's forward; nothing when no record has one. */
static void paired_table(xb_tables *c, const int *thr, int nt, const char **mixers, int nm, const int *Ls, int nL)
{
    int any = 0;
    for (int i = 0; i < c->res->n && !any; i++)
        any = c->res->rec[i].kind == XB_KIND_LATENCY && xb_jpath(c->res->rec[i].o, "latency.mixer_fwd_paired") != NULL;
    if (!any) return;
    xb_sb_printf(c->b, "### mixer layer alone, forward, paired\n\n"
                 "The same speedup timed in pairs: inside each T cell, one forward at T_min = %d "
                 "threads, then one at T, alternately; the median of the per-pair ratios "
                 "(latency.mixer_fwd_paired). Both halves of a pair see the same moment of the host, "
                 "so drift between cells (minutes apart) does not enter it. `*` = fewer pairs than "
                 "min_reps or a median below the clock's floor.\n\n", thr[0]);
    xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        xb_sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            char cell[256];
            size_t len = 0;
            cell[0] = 0;
            for (int t = 1; t < nt && len < sizeof cell; t++) {
                xb_agg a;
                xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], thr[t],
                             "latency.mixer_fwd_paired.speedup", &a);
                int w = a.ok > 0 && isfinite(a.median) && a.median > 0
                            ? snprintf(cell + len, sizeof cell - len, "%s%.3g×%s", t > 1 ? " · " : "",
                                       a.median, a.noisy ? "*" : "")
                            : snprintf(cell + len, sizeof cell - len, "%s—", t > 1 ? " · " : "");
                if (w > 0) len += (size_t)w;
            }
            xb_sb_printf(c->b, " %s |", cell);
        }
        xb_sb_printf(c->b, "\n");
    }
    xb_sb_printf(c->b, "\n");
}

/* Latency sweep at two or more thread counts: per measurement (model_fwd, mixer_fwd), mixers ×
 * lengths, each cell the speedups median(T_min) / median(T) for the larger counts T in
 * increasing order, "1.93× · 3.71×". */
void xb_tables_thread_scaling(xb_tables *c)
{
    int *thr = calloc((size_t)(c->res->n > 0 ? c->res->n : 1), sizeof *thr);
    int nt = 0;
    {
        int *all;
        int na = xb_distinct_threads(c->res, &all);     /* sorted */
        for (int t = 0; thr && all && t < na; t++)
            for (int i = 0; i < c->res->n; i++)
                if (c->res->rec[i].kind == XB_KIND_LATENCY && c->res->rec[i].threads == all[t]) {
                    thr[nt++] = all[t];
                    break;
                }
        free(all);
    }
    if (nt < 2) {
        free(thr);
        return;
    }
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_LATENCY, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_LATENCY, NULL, &Ls);
    xb_sb_printf(c->b, "## Thread scaling\n\nLatency sweep: speedup over the smallest thread count "
                 "(T_min = %d), median time at T_min / median time at T, one figure per T = ", thr[0]);
    for (int t = 1; t < nt; t++) xb_sb_printf(c->b, "%s%d", t > 1 ? ", " : "", thr[t]);
    /* the machine's own ceiling, where meta.json measured it at every count used */
    const int has_peak = c->fma && json_object_array_length(c->fma) >= (size_t)thr[nt - 1] && xb_tables_peak(c, thr[0]) > 0;
    int has_probe = 0;
    for (int i = 0; i < c->res->n && !has_probe; i++)
        has_probe = c->res->rec[i].kind == XB_KIND_LATENCY && isfinite(probe_mean(c, c->res->rec[i].mixer, c->res->rec[i].L, c->res->rec[i].threads));
    xb_sb_printf(c->b, " in that order. `*` = either median noisy.%s%s\n\n",
                 has_peak ? " The *FMA peak* row is the same ratio for the machine's measured FMA ceiling "
                         "(best of 1..T threads, as `xbench info` measures it at the start): what "
                         "perfectly compute-bound code could reach here." : "",
              has_probe ? " In parentheses: the speedup as a percentage of the FMA ceiling's own "
                          "speedup probed inside the same cells, just before and after their timings "
                          "(latency.fma_probe_gflops): what the cores could do at that moment, which "
                          "drifts on a shared host (the probe sees compute capacity, not memory "
                          "bandwidth); the *FMA probe* row is that ceiling speedup over all mixers' "
                          "cells." : "");
    static const int what[2] = { XB_LAT_MODEL_FWD, XB_LAT_MIXER_FWD };
    for (int k = 0; k < 2; k++) {
        char field[64];
        snprintf(field, sizeof field, "latency.%s.median", xb_lat_what[what[k]]);
        xb_sb_printf(c->b, "### %s\n\n", lat_title[what[k]]);
        xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
        for (int j = 0; j < nm; j++) {
            xb_sb_printf(c->b, "| %s |", mixers[j]);
            for (int li = 0; li < nL; li++) {
                xb_agg base;
                char cell[256];
                xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], thr[0], field, &base);
                if (base.ok == 0) {
                    xb_tables_missing(&base, cell, sizeof cell);
                } else {
                    size_t len = 0;
                    cell[0] = 0;
                    for (int t = 1; t < nt && len < sizeof cell; t++) {
                        xb_agg a;
                        xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], thr[t], field, &a);
                        double sp = base.median / a.median;
                        int w;
                        if (a.ok == 0 || !isfinite(sp) || sp <= 0)
                            w = snprintf(cell + len, sizeof cell - len, "%s—", t > 1 ? " · " : "");
                        else {
                            w = snprintf(cell + len, sizeof cell - len, "%s%.3g×%s", t > 1 ? " · " : "",
                                         sp, base.noisy || a.noisy ? "*" : "");
                            double pr = probe_mean(c, mixers[j], Ls[li], thr[t]) /
                                        probe_mean(c, mixers[j], Ls[li], thr[0]);
                            if (w > 0 && isfinite(pr) && pr > 0 && (size_t)w < sizeof cell - len) {
                                len += (size_t)w;
                                w = snprintf(cell + len, sizeof cell - len, " (%.0f%%)", 100 * sp / pr);
                            }
                        }
                        if (w > 0) len += (size_t)w;
                    }
                }
                xb_sb_printf(c->b, " %s |", cell);
            }
            xb_sb_printf(c->b, "\n");
        }
        if (has_probe) {
            xb_sb_printf(c->b, "| *FMA probe* |");
            for (int li = 0; li < nL; li++) {
                char cell[256];
                size_t len = 0;
                cell[0] = 0;
                for (int t = 1; t < nt && len < sizeof cell; t++) {
                    double pr = probe_mean(c, NULL, Ls[li], thr[t]) / probe_mean(c, NULL, Ls[li], thr[0]);
                    int w = isfinite(pr) ? snprintf(cell + len, sizeof cell - len, "%s%.3g×", t > 1 ? " · " : "", pr)
                                         : snprintf(cell + len, sizeof cell - len, "%s—", t > 1 ? " · " : "");
                    if (w > 0) len += (size_t)w;
                }
                xb_sb_printf(c->b, " %s |", cell);
            }
            xb_sb_printf(c->b, "\n");
        }
        if (has_peak) {
            char cell[256];
            size_t len = 0;
            cell[0] = 0;
            for (int t = 1; t < nt && len < sizeof cell; t++) {
                int w = snprintf(cell + len, sizeof cell - len, "%s%.3g×", t > 1 ? " · " : "",
                                 xb_tables_peak(c, thr[t]) / xb_tables_peak(c, thr[0]));
                if (w > 0) len += (size_t)w;
            }
            xb_sb_printf(c->b, "| *FMA peak* |");
            for (int li = 0; li < nL; li++) xb_sb_printf(c->b, " %s |", cell);
            xb_sb_printf(c->b, "\n");
        }
        xb_sb_printf(c->b, "\n");
    }
    paired_table(c, thr, nt, mixers, nm, Ls, nL);
    free(mixers);
    free(Ls);
    free(thr);
}
