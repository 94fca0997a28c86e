/* harness/report/summary.c — the end-of-run summary (see harness/report/summary.h). */
#include "harness/report/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/report/report.h"
#include "harness/report/store.h"

void xb_summary_noisy(json_object *records, int *noisy, int *total)
{
    *noisy = *total = 0;
    size_t n = json_object_array_length(records);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(records, i);
        if (strcmp(xb_jstr(r, "status", ""), "ok") != 0) continue;
        json_object *lat = xb_jget(r, "latency");
        for (int w = 0; lat && w < XB_N_LAT; w++) {
            json_object *m = xb_jget(lat, xb_lat_what[w]);
            if (!m || !json_object_is_type(m, json_type_object)) continue;
            (*total)++;
            json_object *nz = xb_jget(m, "noisy");
            if (nz && json_object_get_boolean(nz)) (*noisy)++;
        }
    }
}

/* The "## Test accuracy" section of tables.md's text (up to the next "## "), or NULL. */
static void print_accuracy(FILE *out, const char *tables)
{
    const char *a = tables ? strstr(tables, "## Test accuracy") : NULL;
    if (!a) return;
    const char *e = strstr(a + 3, "\n## ");
    fprintf(out, "%.*s\n", (int)(e ? e - a + 1 : (long)strlen(a)), a);
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!isfinite(s)) snprintf(buf, n, "—");
    else if (s < 1e-3) snprintf(buf, n, "%.1f µs", s * 1e6);
    else if (s < 1) snprintf(buf, n, "%.3g ms", s * 1e3);
    else snprintf(buf, n, "%.3g s", s);
}

typedef struct col { const char *task; int L; } col;

/* One line on LRA's parameter rule (xb_params_compare): the mixers more than 10% over
 * softmax's count somewhere (the † of the accuracy tables), or that none is, or that there
 * is no softmax to compare with. Nothing when no training record has a count. */
static void params_line(const xb_results *res, const char **mixers, int nm, FILE *out)
{
    const xb_rec *v = res->rec;
    int n = res->n;
    int has = 0, soft = 0, flagged = 0;
    for (int i = 0; i < n; i++) {
        if (v[i].kind != XB_KIND_TRAIN) continue;
        has |= isfinite(xb_record_num(v[i].o, "params"));
        soft |= strcmp(v[i].mixer_name, "softmax") == 0;
    }
    if (!has) return;
    if (!soft) {
        fprintf(out, "Parameters: softmax is not in this run, so no mixer's count is compared "
                "(LRA's 10%% rule needs the reference).\n\n");
        return;
    }
    for (int j = 0; j < nm; j++) {
        int over = 0;
        double worst = 0;
        for (int i = 0; i < n; i++) {
            if (v[i].kind != XB_KIND_TRAIN || strcmp(v[i].mixer, mixers[j]) != 0) continue;
            xb_params_cmp pc;
            xb_params_compare(res, v[i].task, v[i].mixer, v[i].L, &pc);
            if (pc.over) {
                over = 1;
                if (pc.ratio > worst) worst = pc.ratio;
            }
        }
        if (!over) continue;
        fprintf(out, "%s%s (up to %.3f×)", flagged++ ? ", " : "Parameters: more than 10% over softmax's "
                "count (LRA's rule, † in the tables): ", mixers[j], worst);
    }
    if (flagged) fprintf(out, ".\n\n");
    else fprintf(out, "Parameters: no mixer is more than 10%% over softmax's count where both "
                 "have one (LRA's rule).\n\n");
}

void xb_summary_print(json_object *meta, json_object *records, const char *dir, const char *tables,
                      FILE *out)
{
    xb_results res;
    if (xb_results_init(&res, meta, records) != 0) return;
    const xb_rec *v = res.rec;
    int n = res.n;
    int ok = 0;
    for (int i = 0; i < n; i++) ok += v[i].ok;
    fprintf(out, "\nxbench %s (commit %s) · suite %s · %d cells, %d ok, %d not ok · %s/\n\n",
            xb_jstr(meta, "xbench_version", XB_VERSION), xb_jstr(meta, "git_commit", "?"),
            xb_jstr(meta, "suite_name", "?"), n, ok, n - ok, dir);
    char *made = tables ? NULL : xb_report_tables(&res);
    print_accuracy(out, tables ? tables : made);
    free(made);

    /* mixers of the run, training and latency-only cells alike */
    const char **mixers;
    int nm = xb_distinct_mixers(&res, XB_KIND_ANY, &mixers);
    double *acc = calloc((size_t)(nm ? nm : 1), sizeof *acc), *lat = calloc((size_t)(nm ? nm : 1), sizeof *lat);
    int *nl = calloc((size_t)(nm ? nm : 1), sizeof *nl);
    col *cols = calloc((size_t)(n ? n : 1), sizeof *cols);
    if (!acc || !lat || !nl || !cols || nm == 0) goto done;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < nm; j++)
            if (v[i].ok && !strcmp(v[i].mixer, mixers[j])) nl[j] += v[i].not_learned == 1;

    /* one thread count (the largest): cells of different counts are not pooled */
    int *thr, nthr = xb_distinct_threads(&res, &thr), threads = nthr ? thr[nthr - 1] : 0;
    free(thr);

    /* accuracy: the (task, L) columns where every mixer that trained has an ok value */
    int nc = 0, all_cols = 0;
    const char **trained;
    int nt = xb_distinct_mixers(&res, XB_KIND_TRAIN, &trained);
    for (int i = 0; i < n; i++) {
        if (v[i].kind != XB_KIND_TRAIN) continue;
        int seen = 0;
        for (int c = 0; c < all_cols && !seen; c++) seen = cols[c].L == v[i].L && !strcmp(cols[c].task, v[i].task);
        if (!seen) cols[all_cols++] = (col){ v[i].task, v[i].L };
    }
    for (int c = 0; c < all_cols; c++) {
        int every = 1;
        for (int j = 0; j < nt && every; j++) {
            xb_agg a;
            xb_aggregate(&res, XB_KIND_TRAIN, cols[c].task, trained[j], cols[c].L, threads, "test_acc", &a);
            every = a.ok > 0;
        }
        if (every) cols[nc++] = cols[c];
    }
    for (int j = 0; j < nm; j++) {
        acc[j] = NAN;
        double sum = 0;
        int have = 0;
        for (int c = 0; c < nc; c++) {
            xb_agg a;
            xb_aggregate(&res, XB_KIND_TRAIN, cols[c].task, mixers[j], cols[c].L, threads, "test_acc", &a);
            if (a.ok) { sum += a.mean; have++; }
        }
        if (have == nc && nc > 0) acc[j] = sum / nc;
    }
    free(trained);

    /* speed: whole-model forward, latency-only cells, geometric mean over the lengths every
     * mixer has */
    int *Ls, nL = xb_distinct_lengths(&res, XB_KIND_LATENCY, NULL, &Ls), nLc = 0;
    for (int li = 0; li < nL; li++) {
        int every = 1;
        for (int j = 0; j < nm && every; j++) {
            xb_agg a;
            xb_aggregate(&res, XB_KIND_LATENCY, NULL, mixers[j], Ls[li], threads, "latency.model_fwd.median", &a);
            every = a.ok > 0 && isfinite(a.median);
        }
        if (every) Ls[nLc++] = Ls[li];
    }
    /* without latency-only cells: the training cells' own timing, over the common columns */
    int from_train = nLc == 0 && nc > 0;
    for (int j = 0; j < nm; j++) {
        double logsum = 0;
        int k = from_train ? nc : nLc, have = 0;
        for (int i = 0; i < k; i++) {
            xb_agg a;
            if (from_train)
                xb_aggregate(&res, XB_KIND_TRAIN, cols[i].task, mixers[j], cols[i].L, threads,
                             "latency.model_fwd.median", &a);
            else
                xb_aggregate(&res, XB_KIND_LATENCY, NULL, mixers[j], Ls[i], threads,
                             "latency.model_fwd.median", &a);
            if (a.ok > 0 && isfinite(a.median) && a.median > 0) {
                logsum += log(a.median);
                have++;
            }
        }
        lat[j] = have == k && k > 0 ? exp(logsum / k) : NAN;
    }

    int best_acc = -1, best_lat = -1;
    for (int j = 0; j < nm; j++) {
        if (isfinite(acc[j]) && (best_acc < 0 || acc[j] > acc[best_acc])) best_acc = j;
        if (isfinite(lat[j]) && (best_lat < 0 || lat[j] < lat[best_lat])) best_lat = j;
    }
    fprintf(out, "## Verdict per mixer\n\n");
    if (nc > 0)
        fprintf(out, "Accuracy: mean over the %d task × length column%s every mixer has (of %d), "
                "at %d thread%s. ", nc, nc == 1 ? "" : "s", all_cols, threads, threads == 1 ? "" : "s");
    if (nLc > 0)
        fprintf(out, "Speed: whole-model forward at %d thread%s, geometric mean over L = %d … %d "
                "(latency-only cells).", threads, threads == 1 ? "" : "s", Ls[0], Ls[nLc - 1]);
    else if (from_train)
        fprintf(out, "Speed: whole-model forward of the trained model at each of those columns, "
                "geometric mean (no latency-only cells).");
    fprintf(out, "\n\n| mixer | accuracy | forward | verdict |\n|---|---:|---:|---|\n");
    for (int j = 0; j < nm; j++) {
        char a[32], t[32], verdict[96] = "";
        if (isfinite(acc[j])) snprintf(a, sizeof a, "%.1f %%", 100 * acc[j]);
        else snprintf(a, sizeof a, "—");
        fmt_time(lat[j], t, sizeof t);
        int front = isfinite(acc[j]) && isfinite(lat[j]);
        for (int k = 0; k < nm && front; k++) {
            if (k == j || !isfinite(acc[k]) || !isfinite(lat[k])) continue;
            if (acc[k] >= acc[j] && lat[k] <= lat[j] && (acc[k] > acc[j] || lat[k] < lat[j])) front = 0;
        }
        size_t w = 0;
#define ADD(s) w += (size_t)snprintf(verdict + w, sizeof verdict - w, "%s%s", w ? ", " : "", s)
        if (j == best_acc) ADD("most accurate");
        if (j == best_lat) ADD("fastest");
        if (front) ADD("Pareto front");
        char nls[48];
        snprintf(nls, sizeof nls, "%d cell%s not-learned", nl[j], nl[j] == 1 ? "" : "s");
        if (nl[j]) ADD(nls);
#undef ADD
        fprintf(out, "| %s | %s | %s | %s |\n", mixers[j], a, t, verdict);
    }
    fprintf(out, "\n");
    params_line(&res, mixers, nm, out);
    free(Ls);
done:
    free(acc);
    free(lat);
    free(nl);
    free(cols);
    free(mixers);
    xb_results_release(&res);
}

int xb_summary_dir(const char *dir, FILE *out, FILE *err)
{
    json_object *meta = NULL, *recs = NULL;
    int rc = xb_report_load(dir, &meta, &recs, err, NULL);
    /* tables.md was just written from these records: read it rather than make it again */
    char *tp = xb_path_join(dir, "tables.md"), *tables = NULL;
    FILE *f = tp ? fopen(tp, "r") : NULL;
    size_t cap = 0;
    if (f && getdelim(&tables, &cap, '\0', f) < 0) {
        free(tables);
        tables = NULL;
    }
    if (f) fclose(f);
    free(tp);
    if (rc == 0) xb_summary_print(meta, recs, dir, tables, out);
    free(tables);
    if (meta) json_object_put(meta);
    if (recs) json_object_put(recs);
    return rc;
}
