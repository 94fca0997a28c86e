/* harness/report/report.c — the derived files of a results folder (see
 * harness/report/report.h): results.csv and results.json here, tables.md from
 * harness/report/tables.c, the CI exports from harness/report/benchjson.c. Runs in the parent:
 * reading and formatting only. */
#include "harness/report/report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/report/benchjson.h"
#include "harness/report/cellkey.h"
#include "harness/report/fmt.h"
#include "harness/report/results.h"
#include "harness/report/store.h"

/* ---- csv ---------------------------------------------------------------------------- */

static void csv_str(xb_sb *b, const char *s)
{
    if (!s) return;
    if (strpbrk(s, ",\"\n\r")) {
        xb_sb_printf(b, "\"");
        for (const char *p = s; *p; p++) {
            if (*p == '"') xb_sb_printf(b, "\"\"");
            else xb_sb_printf(b, "%c", *p);
        }
        xb_sb_printf(b, "\"");
    } else {
        xb_sb_printf(b, "%s", s);
    }
}

static void csv_num(xb_sb *b, json_object *o, const char *path)
{
    json_object *v = xb_jpath(o, path);
    if (!v || json_object_is_type(v, json_type_null)) return;
    if (json_object_is_type(v, json_type_boolean)) xb_sb_printf(b, "%d", json_object_get_boolean(v));
    else if (json_object_is_type(v, json_type_int)) xb_sb_printf(b, "%lld", (long long)json_object_get_int64(v));
    else if (json_object_is_type(v, json_type_double)) xb_sb_printf(b, "%.9g", json_object_get_double(v));
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
    xb_sb b = { 0 };
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) xb_sb_printf(&b, "%s,", strs[i]);
    for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) xb_sb_printf(&b, "%s,", nums[i]);
    for (int w = 0; w < XB_N_LAT; w++)
        for (size_t i = 0; i < sizeof lat_fields / sizeof *lat_fields; i++)
            xb_sb_printf(&b, "%s_%s,", xb_lat_what[w], lat_fields[i]);
    for (size_t i = 0; i < sizeof paired_fields / sizeof *paired_fields; i++)
        xb_sb_printf(&b, "mixer_fwd_paired_%s,", paired_fields[i]);
    xb_sb_printf(&b, "config_hash,error,task_label,mixer_label,not_learned,params_vs_softmax,params_over_softmax\n");
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
            xb_sb_printf(&b, ",");
        }
        for (size_t i = 0; i < sizeof nums / sizeof *nums; i++) {
            csv_num(&b, o, nums[i]);
            xb_sb_printf(&b, ",");
        }
        for (int w = 0; w < XB_N_LAT; w++)
            for (size_t i = 0; i < sizeof lat_fields / sizeof *lat_fields; i++) {
                char path[96];
                snprintf(path, sizeof path, "latency.%s.%s", xb_lat_what[w], lat_fields[i]);
                csv_num(&b, o, path);
                xb_sb_printf(&b, ",");
            }
        for (size_t i = 0; i < sizeof paired_fields / sizeof *paired_fields; i++) {
            char path[96];
            snprintf(path, sizeof path, "latency.mixer_fwd_paired.%s", paired_fields[i]);
            csv_num(&b, o, path);
            xb_sb_printf(&b, ",");
        }
        csv_str(&b, xb_jstr(o, "config_hash", NULL));
        xb_sb_printf(&b, ",");
        csv_str(&b, xb_jstr(o, "error", NULL));
        xb_sb_printf(&b, ",");
        csv_str(&b, v->task);
        xb_sb_printf(&b, ",");
        csv_str(&b, v->mixer);
        if (v->not_learned >= 0) xb_sb_printf(&b, ",%d", v->not_learned);   /* empty: cannot tell */
        else xb_sb_printf(&b, ",");
        xb_params_cmp pc = { NAN, NAN, NAN, 0, XB_PCMP_NO_PARAMS };
        if (v->kind == XB_KIND_TRAIN) xb_params_compare(res, v->task, v->mixer, v->L, &pc);
        if (pc.status == XB_PCMP_OK) xb_sb_printf(&b, ",%.9g,%d\n", pc.ratio, pc.over);
        else xb_sb_printf(&b, ",,\n");
    }
    return xb_sb_take(&b);
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
    for (int w = 0; lat && w < XB_N_LAT; w++) {
        json_object *m = xb_jget(lat, xb_lat_what[w]);
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
