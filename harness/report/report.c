/* harness/report/report.c — results.csv, results.json and tables.md from cells.jsonl (see
 * harness/report/report.h). Runs in the parent: reading and formatting only. */
#include "harness/report/report.h"

#include "harness/report/decode_report.h"
#include "harness/report/packed_report.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/report/benchjson.h"
#include "harness/report/cellkey.h"
#include "harness/report/fmt.h"
#include "harness/report/results.h"
#include "harness/report/stats.h"
#include "harness/report/store.h"

/* ---- a growing string --------------------------------------------------------------- */

typedef struct sb { char *p; size_t n, cap; int failed; } sb;

static void sb_printf(sb *b, const char *fmt, ...)
{
    if (b->failed) return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = vsnprintf(b->p ? b->p + b->n : NULL, b->p ? room : 0, fmt, ap);
        va_end(ap);
        if (k < 0) { b->failed = 1; return; }
        if (b->p && (size_t)k < room) { b->n += (size_t)k; return; }
        size_t cap = b->cap ? b->cap * 2 : 8192;
        while (cap < b->n + (size_t)k + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) { b->failed = 1; return; }
        b->p = q;
        b->cap = cap;
    }
}

static char *sb_take(sb *b)
{
    if (b->failed) { free(b->p); return NULL; }
    if (!b->p) return strdup("");
    return b->p;
}

static int match(const xb_rec *r, int kind, const char *task)
{
    return (kind == XB_KIND_ANY || r->kind == kind) && (!task || strcmp(r->task, task) == 0);
}

/* ---- formatting --------------------------------------------------------------------- */

static void fmt_flops(double f, char *buf, size_t n)
{
    if (!isfinite(f) || f <= 0) snprintf(buf, n, "—");
    else if (f < 1e6) snprintf(buf, n, "%.3g K", f / 1e3);
    else if (f < 1e9) snprintf(buf, n, "%.3g M", f / 1e6);
    else if (f < 1e12) snprintf(buf, n, "%.3g G", f / 1e9);
    else snprintf(buf, n, "%.3g T", f / 1e12);
}

/* A parameter count: 3620 → "3.62k", 1.5e6 → "1.5M" (exact counts are in results.csv). */
static void fmt_count(double c, char *buf, size_t n)
{
    if (!isfinite(c)) snprintf(buf, n, "—");
    else if (c < 1e3) snprintf(buf, n, "%.0f", c);
    else if (c < 1e6) snprintf(buf, n, "%.3gk", c / 1e3);
    else if (c < 1e9) snprintf(buf, n, "%.3gM", c / 1e6);
    else snprintf(buf, n, "%.3gG", c / 1e9);
}

static void fmt_mib(double bytes, char *buf, size_t n)
{
    if (!isfinite(bytes) || bytes <= 0) snprintf(buf, n, "—");
    else snprintf(buf, n, "%.1f", bytes / 1048576.0);
}

/* "— (timeout)" for a grid point with no usable value. */
static void fmt_missing(const xb_agg *a, char *buf, size_t n)
{
    snprintf(buf, n, "— (%s)", a->status);
}

/* ---- tables ------------------------------------------------------------------------- */

typedef struct ctx {
    sb *b;
    const xb_results *res;
    double peak_core;       /* FMA peak GFLOP/s of one core; NAN when unknown */
    json_object *fma;       /* measured FMA GFLOP/s of t threads at [t-1], or NULL */
    json_object *not_run;   /* meta.json's {task: [mixers its `mixers:` leaves out]}, or NULL */
} ctx;

/* "— (not run)" for a (task, mixer) the suite leaves out on purpose, else "— (status)". */
static void fmt_missing_cell(const ctx *c, const char *task, const char *mixer, const xb_agg *a,
                             char *buf, size_t n)
{
    const char *name = task;     /* not_run is keyed by task name; task is a label */
    for (int i = 0; i < c->res->n; i++)
        if (strcmp(c->res->rec[i].task, task) == 0) { name = c->res->rec[i].task_name; break; }
    json_object *lst = a->total == 0 ? xb_jget(c->not_run, name) : NULL;
    for (size_t i = 0; lst && i < json_object_array_length(lst); i++)
        if (strcmp(json_object_get_string(json_object_array_get_idx(lst, i)), mixer) == 0) {
            snprintf(buf, n, "— (not run)");
            return;
        }
    fmt_missing(a, buf, n);
}

/* The machine's FMA ceiling for a thread count: the best measured rate over 1 .. threads
 * threads (a program may always use fewer threads, so the ceiling never drops), else one
 * core's peak times the count. */
static double peak_for(const ctx *c, int threads)
{
    if (threads < 1) threads = 1;
    double best = 0;
    for (size_t t = 0; c->fma && t < (size_t)threads && t < json_object_array_length(c->fma); t++) {
        json_object *v = json_object_array_get_idx(c->fma, t);
        double p = v ? json_object_get_double(v) : 0;
        if (p > best) best = p;
    }
    if (best > 0 && c->fma && (size_t)threads <= json_object_array_length(c->fma)) return best;
    return c->peak_core * threads;
}

static void header_row(sb *b, const char *first, const char *const *cols, int k, const int *ints,
                       const char *last)
{
    sb_printf(b, "| %s |", first);
    for (int i = 0; i < k; i++) {
        if (cols) sb_printf(b, " %s |", cols[i]);
        else sb_printf(b, " %d |", ints[i]);
    }
    if (last) sb_printf(b, " %s |", last);
    sb_printf(b, "\n|---|");
    for (int i = 0; i < k + (last ? 1 : 0); i++) sb_printf(b, "---:|");
    sb_printf(b, "\n");
}

/* Of the ok seeds of a grid point, how many never left their training-loss plateau
 * (harness/report/learned.h). */
static int count_not_learned(const ctx *c, const char *task, const char *mixer, int L, int threads)
{
    int k = 0;
    for (int i = 0; i < c->res->n; i++) {
        const xb_rec *r = &c->res->rec[i];
        if (r->kind != XB_KIND_TRAIN || !r->ok || r->L != L || strcmp(r->task, task) ||
            strcmp(r->mixer, mixer) || (threads > 0 && r->threads != threads))
            continue;
        k += r->not_learned == 1;
    }
    return k;
}

static void accuracy_section(ctx *c, int threads, const char *thr_note)
{
    const char **tasks, **mixers;
    int nt = xb_distinct_tasks(c->res, &tasks);
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    int *Ls;
    int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, NULL, &Ls);
    if (nt == 0 || nm == 0) goto done;
    int max_seeds = 0;
    for (int i = 0; i < c->res->n; i++) {
        xb_agg a;
        if (c->res->rec[i].kind != XB_KIND_TRAIN) continue;
        xb_aggregate(c->res, XB_KIND_TRAIN, c->res->rec[i].task, c->res->rec[i].mixer, c->res->rec[i].L,
                     threads, "test_acc", &a);
        if (a.total > max_seeds) max_seeds = a.total;
    }
    int any_nl = 0;
    /* the parameter column, when the records carry counts (folders written before they did
     * get no column of dashes) */
    int has_params = 0, any_soft = 0, any_over = 0, unchecked = 0;
    for (int i = 0; i < c->res->n; i++) {
        if (c->res->rec[i].kind != XB_KIND_TRAIN) continue;
        if (isfinite(xb_record_num(c->res->rec[i].o, "params"))) has_params = 1;
        if (strcmp(c->res->rec[i].mixer_name, "softmax") == 0) any_soft = 1;
    }
    sb over = { 0 }, nosoft = { 0 };
    sb_printf(c->b, "## Test accuracy (%%)%s\n\n", thr_note);
    if (max_seeds > 1)
        sb_printf(c->b, "Mean ± sample std over seeds; (k/n) when only k of n seeds ended ok.\n\n");
    for (int li = 0; li < nL; li++) {
        int L = Ls[li];
        /* tasks that have this length */
        const char **tl = calloc((size_t)nt, sizeof *tl);
        int k = 0;
        for (int t = 0; tl && t < nt; t++) {
            for (int i = 0; i < c->res->n; i++)
                if (c->res->rec[i].kind == XB_KIND_TRAIN && c->res->rec[i].L == L && strcmp(c->res->rec[i].task, tasks[t]) == 0) {
                    tl[k++] = tasks[t];
                    break;
                }
        }
        sb_printf(c->b, "### L = %d\n\n", L);
        if (!has_params) header_row(c->b, "mixer", tl, k, NULL, k > 1 ? "average" : NULL);
        else {
            sb_printf(c->b, "| mixer |");
            for (int t = 0; t < k; t++) sb_printf(c->b, " %s |", tl[t]);
            sb_printf(c->b, "%s params |\n|---|", k > 1 ? " average |" : "");
            for (int t = 0; t < k + (k > 1) + 1; t++) sb_printf(c->b, "---:|");
            sb_printf(c->b, "\n");
            /* task columns without a softmax count to compare with */
            for (int t = 0; any_soft && t < k; t++) {
                int found = 0;
                for (int j = 0; j < nm && !found; j++) {
                    xb_params_cmp pc;
                    xb_params_compare(c->res, tl[t], mixers[j], L, &pc);
                    found = pc.status == XB_PCMP_OK || pc.status == XB_PCMP_AMBIGUOUS;
                }
                if (!found) sb_printf(&nosoft, "%s%s at L = %d", unchecked++ ? ", " : "", tl[t], L);
            }
        }
        for (int j = 0; j < nm; j++) {
            sb_printf(c->b, "| %s |", mixers[j]);
            double sum = 0;
            int have = 0;
            char pcell[256] = "";
            size_t pu = 0;
            int p_same = 1;
            double p_first = NAN;
            for (int t = 0; t < k; t++) {
                xb_agg a;
                char cell[112];
                xb_params_cmp pc;
                xb_params_compare(c->res, tl[t], mixers[j], L, &pc);
                if (has_params) {
                    char pv[32];
                    fmt_count(pc.params, pv, sizeof pv);
                    int w = snprintf(pcell + pu, sizeof pcell - pu, "%s%s", t ? " · " : "", pv);
                    if (w > 0 && (size_t)w < sizeof pcell - pu) pu += (size_t)w;
                    if (t == 0) p_first = pc.params;
                    else if (!(pc.params == p_first)) p_same = 0;   /* NAN differs from all */
                }
                if (pc.over) {
                    sb_printf(&over, "%s%s on %s at L = %d (%.3f× softmax's %.0f)", any_over++ ? "; " : "",
                              mixers[j], tl[t], L, pc.ratio, pc.softmax);
                }
                xb_aggregate(c->res, XB_KIND_TRAIN, tl[t], mixers[j], L, threads, "test_acc", &a);
                if (a.ok == 0) {
                    fmt_missing_cell(c, tl[t], mixers[j], &a, cell, sizeof cell);
                } else {
                    int w = a.total > 1 ? snprintf(cell, sizeof cell, "%.1f ± %.1f", 100 * a.mean, 100 * a.std)
                                        : snprintf(cell, sizeof cell, "%.1f", 100 * a.mean);
                    if (a.ok < a.total && w > 0)
                        w += snprintf(cell + w, sizeof cell - (size_t)w, " (%d/%d)", a.ok, a.total);
                    int nl = count_not_learned(c, tl[t], mixers[j], L, threads);
                    if (nl && w > 0) {
                        any_nl = 1;
                        if (nl == a.ok) snprintf(cell + w, sizeof cell - (size_t)w, " not-learned");
                        else snprintf(cell + w, sizeof cell - (size_t)w, " not-learned %d/%d", nl, a.ok);
                    }
                    sum += a.mean;
                    have++;
                }
                sb_printf(c->b, " %s%s |", cell, pc.over ? " †" : "");
            }
            if (k > 1) {
                if (have == k) sb_printf(c->b, " %.1f |", 100 * sum / k);
                else sb_printf(c->b, " — (%d of %d tasks) |", have, k);
            }
            if (has_params) {
                if (p_same && k > 1) fmt_count(p_first, pcell, sizeof pcell);
                sb_printf(c->b, " %s |", pcell);
            }
            sb_printf(c->b, "\n");
        }
        /* chance = majority-class rate of the test split (the same for every mixer) */
        sb_printf(c->b, "| *chance* |");
        for (int t = 0; t < k; t++) {
            double ch = NAN;
            for (int i = 0; i < c->res->n && !isfinite(ch); i++)
                if (c->res->rec[i].kind == XB_KIND_TRAIN && c->res->rec[i].L == L && strcmp(c->res->rec[i].task, tl[t]) == 0)
                    ch = xb_record_num(c->res->rec[i].o, "chance");
            if (isfinite(ch)) sb_printf(c->b, " %.1f |", 100 * ch);
            else sb_printf(c->b, " — |");
        }
        if (k > 1) sb_printf(c->b, " |");
        if (has_params) sb_printf(c->b, " |");
        sb_printf(c->b, "\n\n");
        free(tl);
    }
    if (has_params) {
        sb_printf(c->b, "*params*: the trained model's parameter count (`params` in cells.jsonl: "
                  "its whole weight slab, fixed buffers included), one per task column in "
                  "column order where they differ. ");
        if (!any_soft)
            sb_printf(c->b, "softmax is not in this run, so no model's count is compared with "
                      "softmax's and nothing is flagged.\n\n");
        else if (any_over)
            sb_printf(c->b, "† more than 10%% over softmax's parameter count for the same task, "
                      "configuration and length (LRA's rule; computed from the records): %s.\n\n",
                      over.p ? over.p : "");
        else
            sb_printf(c->b, "No model is more than 10%% over softmax's parameter count for its task, "
                      "configuration and length (LRA's rule; computed from the records).\n\n");
        if (unchecked)
            sb_printf(c->b, "No softmax count to compare with for %s: those columns are not "
                      "checked.\n\n", nosoft.p ? nosoft.p : "");
    }
    free(over.p);
    free(nosoft.p);
    if (any_nl)
        sb_printf(c->b, "*not-learned*: the training loss never left its plateau (flat over the "
                  "second half of training, far from converged, accuracy near the task's plateau "
                  "— for MQAR 1/K; harness/learned.h). That accuracy measures the training budget, "
                  "not what the mixer can do: train longer (`train: {steps: ...}`) to see that. "
                  "\"not-learned k/n\": k of n seeds.\n\n");
done:
    free(tasks); free(mixers); free(Ls);
}

static void training_section(ctx *c, int threads, const char *thr_note)
{
    const char **tasks, **mixers;
    int nt = xb_distinct_tasks(c->res, &tasks);
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    if (nt == 0) goto done;
    sb_printf(c->b, "## Training%s\n\nFinal train loss (mean of the last 10%% of steps) · "
              "train time, mean over seeds.\n\n", thr_note);
    for (int t = 0; t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, tasks[t], &Ls);
        sb_printf(c->b, "### %s\n\n", tasks[t]);
        header_row(c->b, "mixer", NULL, nL, Ls, NULL);
        for (int j = 0; j < nm; j++) {
            sb_printf(c->b, "| %s |", mixers[j]);
            for (int li = 0; li < nL; li++) {
                xb_agg a, tt;
                char cell[96], tm[32];
                xb_aggregate(c->res, XB_KIND_TRAIN, tasks[t], mixers[j], Ls[li], threads, "final_loss", &a);
                xb_aggregate(c->res, XB_KIND_TRAIN, tasks[t], mixers[j], Ls[li], threads, "train_time_s", &tt);
                if (a.ok == 0) fmt_missing_cell(c, tasks[t], mixers[j], &a, cell, sizeof cell);
                else {
                    xb_fmt_time(tt.mean, tm, sizeof tm);
                    snprintf(cell, sizeof cell, "%.4g · %s", a.mean, tm);
                }
                sb_printf(c->b, " %s |", cell);
            }
            sb_printf(c->b, "\n");
        }
        sb_printf(c->b, "\n");
        free(Ls);
    }
done:
    free(tasks); free(mixers);
}

/* The measurements, in the order of results.csv's columns (model_train came last, so older
 * readers of the CSV find the first four where they were). */
enum { LAT_MODEL_FWD, LAT_MODEL_FWDBWD, LAT_MIXER_FWD, LAT_MIXER_FWDBWD, LAT_MODEL_TRAIN, N_LAT };
static const char *const lat_what[N_LAT] = { "model_fwd", "model_fwdbwd", "mixer_fwd", "mixer_fwdbwd",
                                             "model_train" };
static const char *const lat_title[N_LAT] = {
    "whole model, forward", "whole model, forward + backward", "mixer layer alone, forward",
    "mixer layer alone, forward + backward", "whole model, one training step (forward, backward, AdamW)" };
/* The order of the tables: whole model first. */
static const int lat_order[N_LAT] = { LAT_MODEL_FWD, LAT_MODEL_FWDBWD, LAT_MODEL_TRAIN, LAT_MIXER_FWD,
                                      LAT_MIXER_FWDBWD };

/* Whether any record matching (kind, task) holds latency.<what> (a number or not). */
static int any_measurement(const ctx *c, int kind, const char *task, int w)
{
    char path[64];
    snprintf(path, sizeof path, "latency.%s", lat_what[w]);
    for (int i = 0; i < c->res->n; i++)
        if (match(&c->res->rec[i], kind, task) && xb_jpath(c->res->rec[i].o, path)) return 1;
    return 0;
}

/* A folder written before model_train was measured: its records have model_fwd (timed
 * first in every cell) and none has model_train. Its tables leave the measurement out
 * instead of a table of dashes. */
static int predates(const ctx *c, int kind, const char *task, int w)
{
    return w == LAT_MODEL_TRAIN && !any_measurement(c, kind, task, w) &&
           any_measurement(c, kind, task, LAT_MODEL_FWD);
}

/* One latency table: mixers × lengths of the records matching (kind, task). */
static void latency_table(ctx *c, int kind, const char *task, int threads, int w)
{
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    char field[64], ffield[64];
    snprintf(field, sizeof field, "latency.%s.median", lat_what[w]);
    snprintf(ffield, sizeof ffield, "latency.%s.flops", lat_what[w]);
    int any_value = 0;
    for (int i = 0; i < c->res->n && !any_value; i++)
        any_value = match(&c->res->rec[i], kind, task) && isfinite(xb_record_num(c->res->rec[i].o, field));
    if (!any_value) {
        sb_printf(c->b, "(no measurements)\n\n");
        free(mixers);
        free(Ls);
        return;
    }
    header_row(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        int any = 0;
        for (int i = 0; i < c->res->n && !any; i++)
            any = match(&c->res->rec[i], kind, task) && strcmp(c->res->rec[i].mixer, mixers[j]) == 0;
        if (!any) continue;
        sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            xb_agg a, f;
            char cell[128], tm[32];
            xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, field, &a);
            xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, ffield, &f);
            if (a.ok == 0) {
                fmt_missing(&a, cell, sizeof cell);
            } else {
                xb_fmt_time(a.median, tm, sizeof tm);
                double gf = f.ok ? f.median / a.median / 1e9 : NAN;
                int k = snprintf(cell, sizeof cell, "%s%s", tm, a.noisy ? "*" : "");
                if (isfinite(gf) && k > 0) {
                    k += snprintf(cell + k, sizeof cell - (size_t)k, " · %.3g GF/s", gf);
                    double peak = peak_for(c, threads);
                    double pct = 100 * gf / peak;
                    if (isfinite(pct) && peak > 0)
                        snprintf(cell + k, sizeof cell - (size_t)k, pct >= 10 ? " · %.0f%%" : " · %.2g%%", pct);
                }
            }
            sb_printf(c->b, " %s |", cell);
        }
        sb_printf(c->b, "\n");
    }
    sb_printf(c->b, "\n");
    free(mixers);
    free(Ls);
}

#define TRAIN_NOTE "One step as the training loop takes it, on the same random batch each " \
    "repetition: forward with targets, backward, gradient norm and clipping, AdamW (train: lr, " \
    "constant). FLOPs: 3 × forward, like forward + backward; AdamW's ~10 FLOPs per parameter " \
    "are not counted."

/* "57%" / "3.1%": a percentage the way the latency tables print fractions of peak. */
static void fmt_pct(double pct, char *buf, size_t n)
{
    snprintf(buf, n, pct >= 10 ? "%.0f%%" : "%.2g%%", pct);
}

/* Latency sweep, mixers × lengths: a training step's achieved GFLOP/s as a percentage of the
 * forward pass's (nominal FLOPs over medians, i.e. 3 · forward median / step median). */
static void train_vs_fwd_table(ctx *c, int threads)
{
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, XB_KIND_LATENCY, &mixers);
    int nL = xb_distinct_lengths(c->res, XB_KIND_LATENCY, NULL, &Ls);
    sb_printf(c->b, "### Training step vs forward\n\nAchieved GFLOP/s of one training step "
              "(nominal 3 × forward FLOPs) as a percentage of the forward pass's, whole model: "
              "3 × forward median / training-step median. Issue 5's target: ≥ 50%%. `*` = either "
              "measurement noisy.\n\n");
    header_row(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        sb_printf(c->b, "| %s |", mixers[j]);
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
            if (fw.ok == 0) fmt_missing(&fw, cell, sizeof cell);
            else if (tr.ok == 0) fmt_missing(&tr, cell, sizeof cell);
            else if (!isfinite(pct) || pct <= 0) snprintf(cell, sizeof cell, "— (no FLOPs)");
            else {
                fmt_pct(pct, cell, sizeof cell);
                if (fw.noisy || tr.noisy) strcat(cell, "*");
            }
            sb_printf(c->b, " %s |", cell);
        }
        sb_printf(c->b, "\n");
    }
    sb_printf(c->b, "\n");
    free(mixers);
    free(Ls);
}

static void latency_section(ctx *c, int threads, const char *thr_note)
{
    int has_lat = 0, has_train = 0, batch = 0;
    for (int i = 0; i < c->res->n; i++) {
        if (c->res->rec[i].kind == XB_KIND_LATENCY) has_lat = 1;
        else has_train = 1;
        if (!batch) batch = xb_jint(xb_jget(c->res->rec[i].o, "latency"), "batch", 0);
    }
    if (!has_lat && !has_train) return;
    sb_printf(c->b, "## Latency%s\n\nMedian of timed repetitions at batch %d · achieved GFLOP/s "
              "(analytic forward FLOPs / median; forward + backward and a training step counted as "
              "3 × forward, a nominal figure) · fraction of the machine's FMA peak for the thread count. "
              "`*` = noisy (cv above max_cv, median below the clock's reliable floor, or cut "
              "short by the time limit).\n\n", thr_note, batch);
    if (has_lat) {
        for (int o = 0; o < N_LAT; o++) {
            int w = lat_order[o];
            if (predates(c, XB_KIND_LATENCY, NULL, w)) continue;
            sb_printf(c->b, "### Latency sweep (random tokens): %s\n\n", lat_title[w]);
            if (w == LAT_MODEL_TRAIN) sb_printf(c->b, "%s\n\n", TRAIN_NOTE);
            latency_table(c, XB_KIND_LATENCY, NULL, threads, w);
        }
        if (!predates(c, XB_KIND_LATENCY, NULL, LAT_MODEL_TRAIN)) train_vs_fwd_table(c, threads);
    }
    if (has_train) {
        const char **tasks;
        int nt = xb_distinct_tasks(c->res, &tasks);
        for (int t = 0; t < nt; t++)
            for (int o = 0; o < 3; o++) {    /* the whole model's: what a training cell times */
                int w = lat_order[o];
                if (predates(c, XB_KIND_TRAIN, tasks[t], w)) continue;
                sb_printf(c->b, "### %s at its training lengths: %s\n\n", tasks[t], lat_title[w]);
                if (w == LAT_MODEL_TRAIN) sb_printf(c->b, "%s\n\n", TRAIN_NOTE);
                latency_table(c, XB_KIND_TRAIN, tasks[t], threads, w);
            }
        free(tasks);
    }
}

/* The records a length-indexed table of one mixer uses: the latency sweep when there is
 * one, else the first task's training cells. */
static int table_source(ctx *c, int *kind, const char **task)
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

static double any_num(ctx *c, int kind, const char *task, const char *mixer, int L, const char *f)
{
    for (int i = 0; i < c->res->n; i++)
        if (match(&c->res->rec[i], kind, task) && strcmp(c->res->rec[i].mixer, mixer) == 0 && c->res->rec[i].L == L) {
            double x = xb_record_num(c->res->rec[i].o, f);
            if (isfinite(x)) return x;
        }
    return NAN;
}

static void flops_memory_section(ctx *c, int threads)
{
    int kind;
    const char *task;
    if (!table_source(c, &kind, &task)) return;
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(c->res, kind, &mixers);
    int nL = xb_distinct_lengths(c->res, kind, task, &Ls);
    const char *src = kind == XB_KIND_LATENCY ? "latency sweep" : task;
    sb_printf(c->b, "## FLOPs\n\nAnalytic forward FLOPs of one sequence (%s): mixer layer "
              "(its published formula) / whole model.\n\n", src);
    header_row(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            char a[32], b[32];
            double fm = any_num(c, kind, task, mixers[j], Ls[li], "flops_mixer");
            if (!isfinite(fm)) {
                xb_agg st;
                char cell[96];
                xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, "flops_mixer", &st);
                fmt_missing(&st, cell, sizeof cell);
                sb_printf(c->b, " %s |", cell);
                continue;
            }
            fmt_flops(fm, a, sizeof a);
            fmt_flops(any_num(c, kind, task, mixers[j], Ls[li], "flops_model"), b, sizeof b);
            sb_printf(c->b, " %s / %s |", a, b);
        }
        sb_printf(c->b, "\n");
    }
    sb_printf(c->b, "\n## Memory\n\nMiB: analytic (xb_model_bytes: parameters, gradients, "
              "AdamW moments, activations, scratch; the larger of the training and latency "
              "models) / peak RSS of the cell's process (%s).\n\n", src);
    header_row(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        sb_printf(c->b, "| %s |", mixers[j]);
        for (int li = 0; li < nL; li++) {
            char a[32], b[96];
            xb_agg r;
            fmt_mib(any_num(c, kind, task, mixers[j], Ls[li], "bytes_analytic"), a, sizeof a);
            xb_aggregate(c->res, kind, task, mixers[j], Ls[li], threads, "peak_rss_kb", &r);
            if (r.ok) fmt_mib(r.median * 1024, b, sizeof b);
            else fmt_missing(&r, b, sizeof b);
            sb_printf(c->b, " %s / %s |", a, b);
        }
        sb_printf(c->b, "\n");
    }
    sb_printf(c->b, "\n");
    free(mixers);
    free(Ls);
}

static void scaling_section(ctx *c, int threads)
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
    sb_printf(c->b, "## Scaling\n\nFitted exponent k of time ∝ N^k (least squares on log-log "
              "medians over the %s lengths; r² in parentheses) and the length after which the "
              "mixer stays faster than softmax (interpolated in log-log between measured "
              "lengths).\n\n", kind == XB_KIND_LATENCY ? "latency sweep" : task);
    sb_printf(c->b, "| mixer | k, model fwd | k, mixer fwd | crossover vs softmax, model fwd | "
              "crossover vs softmax, mixer fwd |\n|---|---:|---:|---:|---:|\n");
    for (int j = 0; j < nm; j++) {
        sb_printf(c->b, "| %s |", mixers[j]);
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
            if (used >= 2 && isfinite(k)) sb_printf(c->b, " %.2f (%.3f) |", k, r2);
            else sb_printf(c->b, " — |");
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
        sb_printf(c->b, " %s | %s |\n", cross[0], cross[1]);
    }
    sb_printf(c->b, "\n");
free_xy:
    free(x); free(y); free(ys);
done:
    free(mixers);
    free(Ls);
}

/* Mean FMA probe (GFLOP/s, latency.fma_probe_gflops) of the ok latency records at (mixer, or
 * every mixer when NULL; L; threads); NAN when none has one. */
static double probe_mean(const ctx *c, const char *mixer, int L, int threads)
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
static void paired_table(ctx *c, const int *thr, int nt, const char **mixers, int nm, const int *Ls, int nL)
{
    int any = 0;
    for (int i = 0; i < c->res->n && !any; i++)
        any = c->res->rec[i].kind == XB_KIND_LATENCY && xb_jpath(c->res->rec[i].o, "latency.mixer_fwd_paired") != NULL;
    if (!any) return;
    sb_printf(c->b, "### mixer layer alone, forward, paired\n\n"
              "The same speedup timed in pairs: inside each T cell, one forward at T_min = %d "
              "threads, then one at T, alternately; the median of the per-pair ratios "
              "(latency.mixer_fwd_paired). Both halves of a pair see the same moment of the host, "
              "so drift between cells (minutes apart) does not enter it. `*` = fewer pairs than "
              "min_reps or a median below the clock's floor.\n\n", thr[0]);
    header_row(c->b, "mixer", NULL, nL, Ls, NULL);
    for (int j = 0; j < nm; j++) {
        sb_printf(c->b, "| %s |", mixers[j]);
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
            sb_printf(c->b, " %s |", cell);
        }
        sb_printf(c->b, "\n");
    }
    sb_printf(c->b, "\n");
}

/* Latency sweep at two or more thread counts: per measurement (model_fwd, mixer_fwd), mixers ×
 * lengths, each cell the speedups median(T_min) / median(T) for the larger counts T in
 * increasing order, "1.93× · 3.71×". */
static void thread_scaling_section(ctx *c)
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
    sb_printf(c->b, "## Thread scaling\n\nLatency sweep: speedup over the smallest thread count "
              "(T_min = %d), median time at T_min / median time at T, one figure per T = ", thr[0]);
    for (int t = 1; t < nt; t++) sb_printf(c->b, "%s%d", t > 1 ? ", " : "", thr[t]);
    /* the machine's own ceiling, where meta.json measured it at every count used */
    const int has_peak = c->fma && json_object_array_length(c->fma) >= (size_t)thr[nt - 1] && peak_for(c, thr[0]) > 0;
    int has_probe = 0;
    for (int i = 0; i < c->res->n && !has_probe; i++)
        has_probe = c->res->rec[i].kind == XB_KIND_LATENCY && isfinite(probe_mean(c, c->res->rec[i].mixer, c->res->rec[i].L, c->res->rec[i].threads));
    sb_printf(c->b, " in that order. `*` = either median noisy.%s%s\n\n",
              has_peak ? " The *FMA peak* row is the same ratio for the machine's measured FMA ceiling "
                         "(best of 1..T threads, as `xbench info` measures it at the start): what "
                         "perfectly compute-bound code could reach here." : "",
              has_probe ? " In parentheses: the speedup as a percentage of the FMA ceiling's own "
                          "speedup probed inside the same cells, just before and after their timings "
                          "(latency.fma_probe_gflops): what the cores could do at that moment, which "
                          "drifts on a shared host (the probe sees compute capacity, not memory "
                          "bandwidth); the *FMA probe* row is that ceiling speedup over all mixers' "
                          "cells." : "");
    static const int what[2] = { LAT_MODEL_FWD, LAT_MIXER_FWD };
    for (int k = 0; k < 2; k++) {
        char field[64];
        snprintf(field, sizeof field, "latency.%s.median", lat_what[what[k]]);
        sb_printf(c->b, "### %s\n\n", lat_title[what[k]]);
        header_row(c->b, "mixer", NULL, nL, Ls, NULL);
        for (int j = 0; j < nm; j++) {
            sb_printf(c->b, "| %s |", mixers[j]);
            for (int li = 0; li < nL; li++) {
                xb_agg base;
                char cell[256];
                xb_aggregate(c->res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], thr[0], field, &base);
                if (base.ok == 0) {
                    fmt_missing(&base, cell, sizeof cell);
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
                sb_printf(c->b, " %s |", cell);
            }
            sb_printf(c->b, "\n");
        }
        if (has_probe) {
            sb_printf(c->b, "| *FMA probe* |");
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
                sb_printf(c->b, " %s |", cell);
            }
            sb_printf(c->b, "\n");
        }
        if (has_peak) {
            char cell[256];
            size_t len = 0;
            cell[0] = 0;
            for (int t = 1; t < nt && len < sizeof cell; t++) {
                int w = snprintf(cell + len, sizeof cell - len, "%s%.3g×", t > 1 ? " · " : "",
                                 peak_for(c, thr[t]) / peak_for(c, thr[0]));
                if (w > 0) len += (size_t)w;
            }
            sb_printf(c->b, "| *FMA peak* |");
            for (int li = 0; li < nL; li++) sb_printf(c->b, " %s |", cell);
            sb_printf(c->b, "\n");
        }
        sb_printf(c->b, "\n");
    }
    paired_table(c, thr, nt, mixers, nm, Ls, nL);
    free(mixers);
    free(Ls);
    free(thr);
}

static void failures_section(ctx *c)
{
    int bad = 0;
    for (int i = 0; i < c->res->n; i++) bad += !c->res->rec[i].ok;
    if (!bad) return;
    sb_printf(c->b, "## Cells that did not end ok\n\n| # | cell | status | message |\n|---:|---|---|---|\n");
    for (int i = 0; i < c->res->n; i++) {
        const xb_rec *r = &c->res->rec[i];
        if (r->ok) continue;
        char msg[256];
        snprintf(msg, sizeof msg, "%s", xb_jstr(r->o, "error", ""));
        for (char *p = msg; *p; p++)
            if (*p == '|' || *p == '\n') *p = ' ';
        sb_printf(c->b, "| %d | %s L=%d %s seed=%lld threads=%d | %s | %s |\n",
                  xb_jint(r->o, "index", -1), r->kind != XB_KIND_TRAIN ? xb_kind_word(r->kind) : r->task,
                  r->L, r->mixer, r->seed, r->threads, r->status, msg);
    }
    sb_printf(c->b, "\n");
}

static void machine_summary(sb *b, json_object *meta, double peak)
{
    json_object *m = xb_jget(meta, "machine");
    sb_printf(b, "## Machine\n\n");
    sb_printf(b, "- CPU: %s (%d logical CPUs)\n", xb_jstr(m, "cpu", "unknown"), xb_jint(m, "logical_cpus", 0));
    if (xb_jstr(m, "kernel", NULL)) sb_printf(b, "- kernel: %s\n", xb_jstr(m, "kernel", ""));
    sb_printf(b, "- BLAS: %s\n", xb_jstr(meta, "blas", xb_jstr(m, "blas", "unknown")));
    json_object *fma = xb_jget(m, "fma_gflops");
    if (isfinite(peak)) {
        sb_printf(b, "- FMA peak: %.1f GFLOP/s on one core", peak);
        for (size_t t = 1; fma && t < json_object_array_length(fma); t++)
            sb_printf(b, ", %.1f on %zu threads", json_object_get_double(json_object_array_get_idx(fma, t)), t + 1);
        sb_printf(b, " (%s measurement)\n", xb_jstr(m, "measured", "?"));
    }
    else sb_printf(b, "- FMA peak: not measured (fractions of peak show —)\n");
    double gemm = xb_jnum(m, "gemm_gflops", NAN), stream = xb_jnum(m, "stream_gbs", NAN);
    if (isfinite(gemm)) sb_printf(b, "- SGEMM %d³: %.1f GFLOP/s on one thread, %.1f on %d\n", xb_jint(m, "gemm_n", 0),
                                  gemm, xb_jnum(m, "gemm_gflops_all", NAN), xb_jint(m, "gemm_threads", 0));
    if (isfinite(stream)) sb_printf(b, "- STREAM triad: %.1f GB/s on one thread, %.1f on all\n", stream,
                                    xb_jnum(m, "stream_gbs_all", NAN));
    json_object *thr = xb_jget(meta, "threads");
    if (thr) sb_printf(b, "- threads: %s\n", json_object_to_json_string_ext(thr, JSON_C_TO_STRING_PLAIN));
    json_object *env = xb_jget(meta, "env");
    if (env && json_object_object_length(env) > 0) {
        sb_printf(b, "- environment:");
        json_object_object_foreach(env, k, v) sb_printf(b, " %s=%s", k, json_object_get_string(v));
        sb_printf(b, "\n");
    }
    json_object *w = xb_jget(meta, "warnings");
    for (size_t i = 0; w && i < json_object_array_length(w); i++)
        sb_printf(b, "\n> **warning:** %s\n", json_object_get_string(json_object_array_get_idx(w, i)));
    sb_printf(b, "\n");
}

static double peak_per_core(json_object *meta)
{
    json_object *m = xb_jget(meta, "machine");
    double p = xb_jnum(m, "fma_peak_gflops_per_core", NAN);
    return p > 0 ? p : NAN;
}

char *xb_report_tables(const xb_results *res)
{
    sb b = { 0 };
    json_object *meta = res->meta;
    const xb_rec *v = res->rec;
    int n = res->n;
    ctx c = { &b, res, peak_per_core(meta), xb_jget(xb_jget(meta, "machine"), "fma_gflops"),
              xb_jget(meta, "not_run") };

    sb_printf(&b, "# xbench results: %s\n\n", meta ? xb_jstr(meta, "suite_name", "?") : "?");
    int ok = 0;
    for (int i = 0; i < n; i++) ok += v[i].ok;
    int expected = meta ? xb_jint(meta, "cells", n) : n;
    sb_printf(&b, "%d of %d cells recorded, %d ok.", n, expected, ok);
    if (meta) {
        sb_printf(&b, " Suite `%s`, hash `%s`; started %s", xb_jstr(meta, "suite_path", "?"),
                  xb_jstr(meta, "suite_hash", "?"), xb_jstr(meta, "started", "?"));
        if (xb_jstr(meta, "finished", NULL)) sb_printf(&b, ", finished %s", xb_jstr(meta, "finished", ""));
        if (xb_jstr(meta, "interrupted", NULL)) sb_printf(&b, ", **interrupted** %s", xb_jstr(meta, "interrupted", ""));
        if (xb_jstr(meta, "shard", NULL)) sb_printf(&b, "; shard %s", xb_jstr(meta, "shard", ""));
        if (xb_jstr(meta, "xbench_version", NULL))
            sb_printf(&b, "; xbench %s, commit %s", xb_jstr(meta, "xbench_version", ""),
                      xb_jstr(meta, "git_commit", "?"));
        sb_printf(&b, ".\n\n");
        sb_printf(&b, "## Suite (resolved)\n\n```yaml\n%s", xb_jstr(meta, "suite_canonical", ""));
        const char *can = xb_jstr(meta, "suite_canonical", "");
        if (*can && can[strlen(can) - 1] != '\n') sb_printf(&b, "\n");
        sb_printf(&b, "```\n\n");
        machine_summary(&b, meta, c.peak_core);
    } else {
        sb_printf(&b, " (no meta.json: suite and machine unknown)\n\n");
    }

    int *thr;
    int nthr = xb_distinct_threads(res, &thr);
    for (int t = 0; t < (nthr ? nthr : 1); t++) {
        int threads = nthr ? thr[t] : 0;
        char note[48] = "";
        if (nthr > 1) snprintf(note, sizeof note, ", threads = %d", threads);
        accuracy_section(&c, threads, note);
        training_section(&c, threads, note);
        latency_section(&c, threads, note);
        if (t == 0) flops_memory_section(&c, threads);
        scaling_section(&c, threads);
        char *pk = xb_packed_section(res, threads, note);
        if (pk) sb_printf(&b, "%s", pk);
        free(pk);
        char *dec = xb_decode_section(res, threads, note);
        if (dec) sb_printf(&b, "%s", dec);
        free(dec);
    }
    thread_scaling_section(&c);
    failures_section(&c);
    free(thr);
    return sb_take(&b);
}

/* ---- csv ---------------------------------------------------------------------------- */

static void csv_str(sb *b, const char *s)
{
    if (!s) return;
    if (strpbrk(s, ",\"\n\r")) {
        sb_printf(b, "\"");
        for (const char *p = s; *p; p++) sb_printf(b, *p == '"' ? "\"\"" : "%c", *p);
        sb_printf(b, "\"");
    } else {
        sb_printf(b, "%s", s);
    }
}

static void csv_num(sb *b, json_object *o, const char *path)
{
    json_object *v = xb_jpath(o, path);
    if (!v || json_object_is_type(v, json_type_null)) return;
    if (json_object_is_type(v, json_type_boolean)) sb_printf(b, "%d", json_object_get_boolean(v));
    else if (json_object_is_type(v, json_type_int)) sb_printf(b, "%lld", (long long)json_object_get_int64(v));
    else if (json_object_is_type(v, json_type_double)) sb_printf(b, "%.9g", json_object_get_double(v));
    else csv_str(b, json_object_get_string(v));
}

char *xb_report_csv(const xb_results *res)
{
    static const char *const strs[] = { "kind", "task", "mixer", "status" };
    static const char *const nums[] = {
        "index", "L", "seed", "threads", "causal", "test_acc", "val_acc", "chance", "final_loss",
        "steps", "train_time_s", "params", "flops_mixer", "flops_model", "bytes_analytic",
        "peak_rss_kb", "wall_s" };
    static const char *const lat_fields[] = { "median", "p10", "p90", "min", "max", "mean",
                                              "stddev", "cv", "reps", "outliers", "noisy", "gflops" };
    /* the paired thread-scaling timing (cells above the smallest thread count) */
    static const char *const paired_fields[] = { "base_threads", "pairs", "base_median", "median",
                                                  "speedup", "speedup_p10", "speedup_p90" };
    sb b = { 0 };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) sb_printf(&b, "%s,", strs[i]);
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) sb_printf(&b, "%s,", nums[i]);
    for (int w = 0; w < N_LAT; w++)
        for (size_t i = 0; i < sizeof lat_fields / sizeof *lat_fields; i++)
            sb_printf(&b, "%s_%s,", lat_what[w], lat_fields[i]);
    for (size_t i = 0; i < sizeof paired_fields / sizeof *paired_fields; i++)
        sb_printf(&b, "mixer_fwd_paired_%s,", paired_fields[i]);
    sb_printf(&b, "config_hash,error,task_label,mixer_label,not_learned,params_vs_softmax,params_over_softmax\n");
    /* task_label / mixer_label (last, so older readers find every other column where it
     * was): what tells this row's configuration from others of its task and mixer;
     * params_vs_softmax / params_over_softmax (LRA's rule, xb_params_compare): empty where
     * there is nothing to compare (latency cells, no count, no softmax count) */
    size_t n = (size_t)res->n;
    for (size_t r = 0; r < n; r++) {
        const xb_rec *v = &res->rec[r];
        json_object *o = v->o;
        for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
            csv_str(&b, xb_jstr(o, strs[i], NULL));
            sb_printf(&b, ",");
        }
        for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
            csv_num(&b, o, nums[i]);
            sb_printf(&b, ",");
        }
        for (int w = 0; w < N_LAT; w++)
            for (size_t i = 0; i < sizeof lat_fields / sizeof *lat_fields; i++) {
                char path[96];
                snprintf(path, sizeof path, "latency.%s.%s", lat_what[w], lat_fields[i]);
                csv_num(&b, o, path);
                sb_printf(&b, ",");
            }
        for (size_t i = 0; i < sizeof paired_fields / sizeof *paired_fields; i++) {
            char path[96];
            snprintf(path, sizeof path, "latency.mixer_fwd_paired.%s", paired_fields[i]);
            csv_num(&b, o, path);
            sb_printf(&b, ",");
        }
        csv_str(&b, xb_jstr(o, "config_hash", NULL));
        sb_printf(&b, ",");
        csv_str(&b, xb_jstr(o, "error", NULL));
        sb_printf(&b, ",");
        csv_str(&b, v->task);
        sb_printf(&b, ",");
        csv_str(&b, v->mixer);
        if (v->not_learned >= 0) sb_printf(&b, ",%d", v->not_learned);   /* empty: cannot tell */
        else sb_printf(&b, ",");
        xb_params_cmp pc = { NAN, NAN, NAN, 0, XB_PCMP_NO_PARAMS };
        if (v->kind == XB_KIND_TRAIN) xb_params_compare(res, v->task, v->mixer, v->L, &pc);
        if (pc.status == XB_PCMP_OK) sb_printf(&b, ",%.9g,%d\n", pc.ratio, pc.over);
        else sb_printf(&b, ",,\n");
    }
    return sb_take(&b);
}

/* ---- results.json ------------------------------------------------------------------- */

static json_object *num_or_null(double v)
{
    return isfinite(v) ? json_object_new_double(v) : NULL;
}

static json_object *count_or_null(double v)
{
    return isfinite(v) ? json_object_new_int64((int64_t)v) : NULL;
}

static json_object *agg_json(const xb_agg *a)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "n", json_object_new_int(a->total));
    json_object_object_add(o, "ok", json_object_new_int(a->ok));
    json_object_object_add(o, "mean", a->ok ? num_or_null(a->mean) : NULL);
    json_object_object_add(o, "std", a->ok ? num_or_null(a->std) : NULL);
    json_object_object_add(o, "median", a->ok ? num_or_null(a->median) : NULL);
    json_object_object_add(o, "status", json_object_new_string(a->status));
    return o;
}

/* Aggregates per grid point (task or latency sweep, mixer, L, threads) over seeds. */
static json_object *aggregates_json(const xb_results *res)
{
    const xb_rec *v = res->rec;
    int n = res->n;
    json_object *out = json_object_new_array();
    json_object *seen = json_object_new_object();
    for (int i = 0; i < n; i++) {
        char key[2 * XB_LABEL_MAX + 64];
        snprintf(key, sizeof key, "%d|%s|%s|%d|%d", v[i].kind, v[i].task, v[i].mixer, v[i].L, v[i].threads);
        if (json_object_object_get_ex(seen, key, NULL)) continue;
        json_object_object_add(seen, key, NULL);
        json_object *g = json_object_new_object();
        int train = v[i].kind == XB_KIND_TRAIN;
        json_object_object_add(g, "kind", json_object_new_string(xb_kind_word(v[i].kind)));
        json_object_object_add(g, "task", train ? json_object_new_string(v[i].task_name) : NULL);
        json_object_object_add(g, "mixer", json_object_new_string(v[i].mixer_name));
        /* what tells this configuration from the others of its task and mixer, and the
         * configuration itself (seeds pooled, nothing else) */
        json_object_object_add(g, "task_label", train ? json_object_new_string(v[i].task) : NULL);
        json_object_object_add(g, "mixer_label", json_object_new_string(v[i].mixer));
        json_object_object_add(g, "config", xb_config_identity(v[i].o));
        if (train) {
            /* seeds whose training loss never left its plateau (harness/report/learned.h) */
            int nl = 0;
            for (int k = 0; k < n; k++)
                if (v[k].kind == XB_KIND_TRAIN && v[k].ok && v[k].L == v[i].L && v[k].threads == v[i].threads &&
                    !strcmp(v[k].task, v[i].task) && !strcmp(v[k].mixer, v[i].mixer))
                    nl += v[k].not_learned == 1;
            json_object_object_add(g, "not_learned", json_object_new_int(nl));
            /* LRA's parameter rule: null where there is nothing to compare */
            xb_params_cmp pc;
            xb_params_compare(res, v[i].task, v[i].mixer, v[i].L, &pc);
            int cmp = pc.status == XB_PCMP_OK;
            json_object_object_add(g, "params", count_or_null(pc.params));
            json_object_object_add(g, "params_softmax", cmp ? count_or_null(pc.softmax) : NULL);
            json_object_object_add(g, "params_vs_softmax", cmp ? num_or_null(pc.ratio) : NULL);
            json_object_object_add(g, "params_over_softmax", cmp ? json_object_new_boolean(pc.over) : NULL);
        }
        json_object_object_add(g, "L", json_object_new_int(v[i].L));
        json_object_object_add(g, "threads", json_object_new_int(v[i].threads));
        static const char *const fields[] = { "test_acc", "final_loss", "train_time_s", "peak_rss_kb",
                                              "latency.model_fwd.median", "latency.model_fwdbwd.median",
                                              "latency.mixer_fwd.median", "latency.mixer_fwdbwd.median",
                                              "latency.model_train.median",
                                              "latency.mixer_fwd_paired.speedup" };
        for (size_t f = 0; f < sizeof fields / sizeof *fields; f++) {
            if (v[i].kind == XB_KIND_LATENCY && f < 3) continue;
            xb_agg a;
            xb_aggregate(res, v[i].kind, v[i].kind == XB_KIND_TRAIN ? v[i].task : NULL, v[i].mixer,
                         v[i].L, v[i].threads, fields[f], &a);
            json_object_object_add(g, fields[f], agg_json(&a));
        }
        json_object_array_add(out, g);
    }
    json_object_put(seen);
    return out;
}

/* A copy of a record without the raw repetition times (results.json stays readable). */
static json_object *lean_copy(json_object *rec)
{
    json_object *c = NULL;
    if (json_object_deep_copy(rec, &c, NULL) != 0) return json_object_get(rec);
    json_object *lat = xb_jget(c, "latency");
    for (int w = 0; lat && w < N_LAT; w++) {
        json_object *m = xb_jget(lat, lat_what[w]);
        if (m) json_object_object_del(m, "raw");
    }
    json_object *pr = xb_jget(lat, "mixer_fwd_paired");
    if (pr) {
        json_object_object_del(pr, "raw");
        json_object_object_del(pr, "raw_base");
    }
    return c;
}

int xb_report_dir(const char *dir, FILE *print, FILE *err)
{
    xb_results r;
    int rc = xb_results_load(&r, dir, err, NULL, 0);
    if (rc == XB_ENOTFOUND || rc == XB_EIO) return rc;   /* message already on err */
    json_object *meta = r.meta, *recs = r.records;
    char *tables = rc ? NULL : xb_report_tables(&r);
    char *csv = rc ? NULL : xb_report_csv(&r);
    json_object *res = json_object_new_object();
    if (meta) {
        json_object *m = NULL;
        json_object_deep_copy(meta, &m, NULL);
        if (m) json_object_object_del(m, "cell_hashes");
        json_object_object_add(res, "meta", m);
    }
    json_object *cells = json_object_new_array();
    for (size_t i = 0; recs && i < json_object_array_length(recs); i++)
        json_object_array_add(cells, lean_copy(json_object_array_get_idx(recs, i)));
    json_object_object_add(res, "cells", cells);
    json_object_object_add(res, "aggregates", aggregates_json(&r));
    /* how the aggregates' params_over_softmax is decided (tables.md's † and its note) */
    int soft = 0;
    for (size_t i = 0; recs && i < json_object_array_length(recs) && !soft; i++) {
        json_object *o = json_object_array_get_idx(recs, i);
        soft = strcmp(xb_jstr(o, "kind", "train"), "latency") != 0 &&
               strcmp(xb_jstr(o, "mixer", ""), "softmax") == 0;
    }
    json_object *rule = json_object_new_object();
    json_object_object_add(rule, "reference", json_object_new_string("softmax"));
    json_object_object_add(rule, "same", json_object_new_string("task label, L"));
    json_object_object_add(rule, "flag_when_ratio_above", json_object_new_double(1.1));
    json_object_object_add(rule, "softmax_in_run", json_object_new_boolean(soft));
    json_object_object_add(res, "params_rule", rule);

    rc = tables && csv ? 0 : XB_ENOMEM;
    char *p;
    if (rc == 0 && (p = xb_path_join(dir, "tables.md"))) {
        rc = xb_write_atomic(p, tables, strlen(tables));
        free(p);
    }
    if (rc == 0 && (p = xb_path_join(dir, "results.csv"))) {
        rc = xb_write_atomic(p, csv, strlen(csv));
        free(p);
    }
    if (rc == 0 && (p = xb_path_join(dir, "results.json"))) {
        rc = xb_write_json_atomic(p, res);
        free(p);
    }
    if (rc == 0) rc = xb_benchjson_write(dir, &r);
    if (rc && err) fprintf(err, "error: cannot write the reports in '%s': %s\n", dir, xb_strerror(rc));
    if (rc == 0 && print && tables) {
        fputs(tables, print);
        fflush(print);
    }
    free(tables);
    free(csv);
    json_object_put(res);
    xb_results_release(&r);
    return rc;
}
