/* harness/report/tables.c — tables.md (xb_report_tables): the heading, the resolved suite, the
 * machine, then per thread count the accuracy, training, timing, padding-free and decode
 * sections, thread scaling and the cells that did not end ok; the shared pieces of every
 * section (harness/report/tables.h). */
#include "harness/report/tables.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/fmt.h"
#include "harness/report/report.h"

/* ---- the pieces every section uses ------------------------------------------------------ */

/* "— (timeout)" for a grid point with no usable value. */
void xb_tables_missing(const xb_agg *a, char *buf, size_t n)
{
    snprintf(buf, n, "— (%s)", a->status);
}

/* "— (not run)" for a (task, mixer) the suite leaves out on purpose, else "— (status)". */
void xb_tables_missing_cell(const xb_tables *c, const char *task, const char *mixer, const xb_agg *a,
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
    xb_tables_missing(a, buf, n);
}

/* The machine's FMA ceiling for a thread count: the best measured rate over 1 .. threads
 * threads (a program may always use fewer threads, so the ceiling never drops), else one
 * core's peak times the count. */
double xb_tables_peak(const xb_tables *c, int threads)
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

void xb_tables_header(xb_sb *b, const char *first, const char *const *cols, int k, const int *ints,
                      const char *last)
{
    xb_sb_printf(b, "| %s |", first);
    for (int i = 0; i < k; i++) {
        if (cols) xb_sb_printf(b, " %s |", cols[i]);
        else xb_sb_printf(b, " %d |", ints[i]);
    }
    if (last) xb_sb_printf(b, " %s |", last);
    xb_sb_printf(b, "\n|---|");
    for (int i = 0; i < k + (last ? 1 : 0); i++) xb_sb_printf(b, "---:|");
    xb_sb_printf(b, "\n");
}

/* Of the ok seeds of a grid point, how many never left their training-loss plateau
 * (harness/report/learned.h). */
static int count_not_learned(const xb_tables *c, const char *task, const char *mixer, int L, int threads)
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

void xb_tables_accuracy(xb_tables *c, int threads, const char *thr_note)
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
    xb_sb over = { 0 }, nosoft = { 0 };
    xb_sb_printf(c->b, "## Test accuracy (%%)%s\n\n", thr_note);
    if (max_seeds > 1)
        xb_sb_printf(c->b, "Mean ± sample std over seeds; (k/n) when only k of n seeds ended ok.\n\n");
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
        xb_sb_printf(c->b, "### L = %d\n\n", L);
        if (!has_params) xb_tables_header(c->b, "mixer", tl, k, NULL, k > 1 ? "average" : NULL);
        else {
            xb_sb_printf(c->b, "| mixer |");
            for (int t = 0; t < k; t++) xb_sb_printf(c->b, " %s |", tl[t]);
            xb_sb_printf(c->b, "%s params |\n|---|", k > 1 ? " average |" : "");
            for (int t = 0; t < k + (k > 1) + 1; t++) xb_sb_printf(c->b, "---:|");
            xb_sb_printf(c->b, "\n");
            /* task columns without a softmax count to compare with */
            for (int t = 0; any_soft && t < k; t++) {
                int found = 0;
                for (int j = 0; j < nm && !found; j++) {
                    xb_params_cmp pc;
                    xb_params_compare(c->res, tl[t], mixers[j], L, &pc);
                    found = pc.status == XB_PCMP_OK || pc.status == XB_PCMP_AMBIGUOUS;
                }
                if (!found) xb_sb_printf(&nosoft, "%s%s at L = %d", unchecked++ ? ", " : "", tl[t], L);
            }
        }
        for (int j = 0; j < nm; j++) {
            xb_sb_printf(c->b, "| %s |", mixers[j]);
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
                    xb_fmt_count(pc.params, pv, sizeof pv);
                    int w = snprintf(pcell + pu, sizeof pcell - pu, "%s%s", t ? " · " : "", pv);
                    if (w > 0 && (size_t)w < sizeof pcell - pu) pu += (size_t)w;
                    if (t == 0) p_first = pc.params;
                    else if (!(pc.params == p_first)) p_same = 0;   /* NAN differs from all */
                }
                if (pc.over) {
                    xb_sb_printf(&over, "%s%s on %s at L = %d (%.3f× softmax's %.0f)", any_over++ ? "; " : "",
                                 mixers[j], tl[t], L, pc.ratio, pc.softmax);
                }
                xb_aggregate(c->res, XB_KIND_TRAIN, tl[t], mixers[j], L, threads, "test_acc", &a);
                if (a.ok == 0) {
                    xb_tables_missing_cell(c, tl[t], mixers[j], &a, cell, sizeof cell);
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
                xb_sb_printf(c->b, " %s%s |", cell, pc.over ? " †" : "");
            }
            if (k > 1) {
                if (have == k) xb_sb_printf(c->b, " %.1f |", 100 * sum / k);
                else xb_sb_printf(c->b, " — (%d of %d tasks) |", have, k);
            }
            if (has_params) {
                if (p_same && k > 1) xb_fmt_count(p_first, pcell, sizeof pcell);
                xb_sb_printf(c->b, " %s |", pcell);
            }
            xb_sb_printf(c->b, "\n");
        }
        /* chance = majority-class rate of the test split (the same for every mixer) */
        xb_sb_printf(c->b, "| *chance* |");
        for (int t = 0; t < k; t++) {
            double ch = NAN;
            for (int i = 0; i < c->res->n && !isfinite(ch); i++)
                if (c->res->rec[i].kind == XB_KIND_TRAIN && c->res->rec[i].L == L && strcmp(c->res->rec[i].task, tl[t]) == 0)
                    ch = xb_record_num(c->res->rec[i].o, "chance");
            if (isfinite(ch)) xb_sb_printf(c->b, " %.1f |", 100 * ch);
            else xb_sb_printf(c->b, " — |");
        }
        if (k > 1) xb_sb_printf(c->b, " |");
        if (has_params) xb_sb_printf(c->b, " |");
        xb_sb_printf(c->b, "\n\n");
        free(tl);
    }
    if (has_params) {
        xb_sb_printf(c->b, "*params*: the trained model's parameter count (`params` in cells.jsonl: "
                     "its whole weight slab, fixed buffers included), one per task column in "
                     "column order where they differ. ");
        if (!any_soft)
            xb_sb_printf(c->b, "softmax is not in this run, so no model's count is compared with "
                         "softmax's and nothing is flagged.\n\n");
        else if (any_over)
            xb_sb_printf(c->b, "† more than 10%% over softmax's parameter count for the same task, "
                         "configuration and length (LRA's rule; computed from the records): %s.\n\n",
                         over.p ? over.p : "");
        else
            xb_sb_printf(c->b, "No model is more than 10%% over softmax's parameter count for its task, "
                         "configuration and length (LRA's rule; computed from the records).\n\n");
        if (unchecked)
            xb_sb_printf(c->b, "No softmax count to compare with for %s: those columns are not "
                         "checked.\n\n", nosoft.p ? nosoft.p : "");
    }
    free(over.p);
    free(nosoft.p);
    /* (the note names the rule's header where it was when the text was written: tables.md
     * is a result, and a refactor that moved the file left results byte-identical) */
    if (any_nl)
        xb_sb_printf(c->b, "*not-learned*: the training loss never left its plateau (flat over the "
                     "second half of training, far from converged, accuracy near the task's plateau "
                     "— for MQAR 1/K; harness/learned.h). That accuracy measures the training budget, "
                     "not what the mixer can do: train longer (`train: {steps: ...}`) to see that. "
                     "\"not-learned k/n\": k of n seeds.\n\n");
done:
    free(tasks); free(mixers); free(Ls);
}

void xb_tables_training(xb_tables *c, int threads, const char *thr_note)
{
    const char **tasks, **mixers;
    int nt = xb_distinct_tasks(c->res, &tasks);
    int nm = xb_distinct_mixers(c->res, XB_KIND_TRAIN, &mixers);
    if (nt == 0) goto done;
    xb_sb_printf(c->b, "## Training%s\n\nFinal train loss (mean of the last 10%% of steps) · "
                 "train time, mean over seeds.\n\n", thr_note);
    for (int t = 0; t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(c->res, XB_KIND_TRAIN, tasks[t], &Ls);
        xb_sb_printf(c->b, "### %s\n\n", tasks[t]);
        xb_tables_header(c->b, "mixer", NULL, nL, Ls, NULL);
        for (int j = 0; j < nm; j++) {
            xb_sb_printf(c->b, "| %s |", mixers[j]);
            for (int li = 0; li < nL; li++) {
                xb_agg a, tt;
                char cell[96], tm[32];
                xb_aggregate(c->res, XB_KIND_TRAIN, tasks[t], mixers[j], Ls[li], threads, "final_loss", &a);
                xb_aggregate(c->res, XB_KIND_TRAIN, tasks[t], mixers[j], Ls[li], threads, "train_time_s", &tt);
                if (a.ok == 0) xb_tables_missing_cell(c, tasks[t], mixers[j], &a, cell, sizeof cell);
                else {
                    xb_fmt_time(tt.mean, tm, sizeof tm);
                    snprintf(cell, sizeof cell, "%.4g · %s", a.mean, tm);
                }
                xb_sb_printf(c->b, " %s |", cell);
            }
            xb_sb_printf(c->b, "\n");
        }
        xb_sb_printf(c->b, "\n");
        free(Ls);
    }
done:
    free(tasks); free(mixers);
}

/* ---- the whole file --------------------------------------------------------------------- */

static void failures_section(xb_tables *c)
{
    int bad = 0;
    for (int i = 0; i < c->res->n; i++) bad += !c->res->rec[i].ok;
    if (!bad) return;
    xb_sb_printf(c->b, "## Cells that did not end ok\n\n| # | cell | status | message |\n|---:|---|---|---|\n");
    for (int i = 0; i < c->res->n; i++) {
        const xb_rec *r = &c->res->rec[i];
        if (r->ok) continue;
        char msg[256];
        snprintf(msg, sizeof msg, "%s", xb_jstr(r->o, "error", ""));
        for (char *p = msg; *p; p++)
            if (*p == '|' || *p == '\n') *p = ' ';
        xb_sb_printf(c->b, "| %d | %s L=%d %s seed=%lld threads=%d | %s | %s |\n",
                     xb_jint(r->o, "index", -1), r->kind != XB_KIND_TRAIN ? xb_kind_word(r->kind) : r->task,
                     r->L, r->mixer, r->seed, r->threads, r->status, msg);
    }
    xb_sb_printf(c->b, "\n");
}

static void machine_summary(xb_sb *b, json_object *meta, double peak)
{
    json_object *m = xb_jget(meta, "machine");
    xb_sb_printf(b, "## Machine\n\n");
    xb_sb_printf(b, "- CPU: %s (%d logical CPUs)\n", xb_jstr(m, "cpu", "unknown"), xb_jint(m, "logical_cpus", 0));
    if (xb_jstr(m, "kernel", NULL)) xb_sb_printf(b, "- kernel: %s\n", xb_jstr(m, "kernel", ""));
    xb_sb_printf(b, "- BLAS: %s\n", xb_jstr(meta, "blas", xb_jstr(m, "blas", "unknown")));
    json_object *fma = xb_jget(m, "fma_gflops");
    if (isfinite(peak)) {
        xb_sb_printf(b, "- FMA peak: %.1f GFLOP/s on one core", peak);
        for (size_t t = 1; fma && t < json_object_array_length(fma); t++)
            xb_sb_printf(b, ", %.1f on %zu threads", json_object_get_double(json_object_array_get_idx(fma, t)), t + 1);
        xb_sb_printf(b, " (%s measurement)\n", xb_jstr(m, "measured", "?"));
    }
    else xb_sb_printf(b, "- FMA peak: not measured (fractions of peak show —)\n");
    double gemm = xb_jnum(m, "gemm_gflops", NAN), stream = xb_jnum(m, "stream_gbs", NAN);
    if (isfinite(gemm)) xb_sb_printf(b, "- SGEMM %d³: %.1f GFLOP/s on one thread, %.1f on %d\n", xb_jint(m, "gemm_n", 0),
                                     gemm, xb_jnum(m, "gemm_gflops_all", NAN), xb_jint(m, "gemm_threads", 0));
    if (isfinite(stream)) xb_sb_printf(b, "- STREAM triad: %.1f GB/s on one thread, %.1f on all\n", stream,
                                       xb_jnum(m, "stream_gbs_all", NAN));
    json_object *thr = xb_jget(meta, "threads");
    if (thr) xb_sb_printf(b, "- threads: %s\n", json_object_to_json_string_ext(thr, JSON_C_TO_STRING_PLAIN));
    json_object *env = xb_jget(meta, "env");
    if (env && json_object_object_length(env) > 0) {
        xb_sb_printf(b, "- environment:");
        json_object_object_foreach(env, k, v) xb_sb_printf(b, " %s=%s", k, json_object_get_string(v));
        xb_sb_printf(b, "\n");
    }
    json_object *w = xb_jget(meta, "warnings");
    for (size_t i = 0; w && i < json_object_array_length(w); i++)
        xb_sb_printf(b, "\n> **warning:** %s\n", json_object_get_string(json_object_array_get_idx(w, i)));
    xb_sb_printf(b, "\n");
}

static double peak_per_core(json_object *meta)
{
    json_object *m = xb_jget(meta, "machine");
    double p = xb_jnum(m, "fma_peak_gflops_per_core", NAN);
    return p > 0 ? p : NAN;
}

char *xb_report_tables(const xb_results *res)
{
    xb_sb b = { 0 };
    json_object *meta = res->meta;
    const xb_rec *v = res->rec;
    int n = res->n;
    xb_tables c = { &b, res, peak_per_core(meta), xb_jget(xb_jget(meta, "machine"), "fma_gflops"),
              xb_jget(meta, "not_run") };

    xb_sb_printf(&b, "# xbench results: %s\n\n", meta ? xb_jstr(meta, "suite_name", "?") : "?");
    int ok = 0;
    for (int i = 0; i < n; i++) ok += v[i].ok;
    int expected = meta ? xb_jint(meta, "cells", n) : n;
    xb_sb_printf(&b, "%d of %d cells recorded, %d ok.", n, expected, ok);
    if (meta) {
        xb_sb_printf(&b, " Suite `%s`, hash `%s`; started %s", xb_jstr(meta, "suite_path", "?"),
                     xb_jstr(meta, "suite_hash", "?"), xb_jstr(meta, "started", "?"));
        if (xb_jstr(meta, "finished", NULL)) xb_sb_printf(&b, ", finished %s", xb_jstr(meta, "finished", ""));
        if (xb_jstr(meta, "interrupted", NULL)) xb_sb_printf(&b, ", **interrupted** %s", xb_jstr(meta, "interrupted", ""));
        if (xb_jstr(meta, "shard", NULL)) xb_sb_printf(&b, "; shard %s", xb_jstr(meta, "shard", ""));
        if (xb_jstr(meta, "xbench_version", NULL))
            xb_sb_printf(&b, "; xbench %s, commit %s", xb_jstr(meta, "xbench_version", ""),
                         xb_jstr(meta, "git_commit", "?"));
        xb_sb_printf(&b, ".\n\n");
        xb_sb_printf(&b, "## Suite (resolved)\n\n```yaml\n%s", xb_jstr(meta, "suite_canonical", ""));
        const char *can = xb_jstr(meta, "suite_canonical", "");
        if (*can && can[strlen(can) - 1] != '\n') xb_sb_printf(&b, "\n");
        xb_sb_printf(&b, "```\n\n");
        machine_summary(&b, meta, c.peak_core);
    } else {
        xb_sb_printf(&b, " (no meta.json: suite and machine unknown)\n\n");
    }

    int *thr;
    int nthr = xb_distinct_threads(res, &thr);
    for (int t = 0; t < (nthr ? nthr : 1); t++) {
        int threads = nthr ? thr[t] : 0;
        char note[48] = "";
        if (nthr > 1) snprintf(note, sizeof note, ", threads = %d", threads);
        xb_tables_accuracy(&c, threads, note);
        xb_tables_training(&c, threads, note);
        xb_tables_latency(&c, threads, note);
        if (t == 0) xb_tables_flops_memory(&c, threads);
        xb_tables_scaling(&c, threads);
        char *pk = xb_tables_packed(res, threads, note);
        if (pk) xb_sb_printf(&b, "%s", pk);
        free(pk);
        char *dec = xb_tables_decode(res, threads, note);
        if (dec) xb_sb_printf(&b, "%s", dec);
        free(dec);
    }
    xb_tables_thread_scaling(&c);
    failures_section(&c);
    free(thr);
    return xb_sb_take(&b);
}
