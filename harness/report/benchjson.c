/* harness/report/benchjson.c — bench-latency.json, bench-accuracy.json (github-action-benchmark's
 * custom formats) and gbench.json (Google Benchmark's JSON) from a results folder's records
 * (see harness/report/benchjson.h). Reading and formatting only. */
#include "harness/report/benchjson.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/report/results.h"
#include "harness/report/stats.h"
#include "harness/report/store.h"

static void add_str(json_object *o, const char *k, const char *v)
{
    json_object_object_add(o, k, json_object_new_string(v));
}

static void add_num(json_object *o, const char *k, double v)
{
    json_object_object_add(o, k, json_object_new_double(v));
}

/* Seeds of the group's ok records, "1, 2". */
static void seed_list(const xb_group *g, char *buf, size_t n)
{
    buf[0] = 0;
    for (int i = 0; i < g->n; i++) {
        if (!g->rec[i]->ok) continue;
        json_object *s = xb_jget(g->rec[i]->o, "seed");
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, "%s%lld", k ? ", " : "", s ? (long long)json_object_get_int64(s) : 0LL);
    }
}

json_object *xb_bench_latency_json(const xb_results *res)
{
    json_object *arr = json_object_new_array();
    const xb_group *g = res->group;
    int ng = res->ngroup;
    for (int i = 0; i < ng; i++) {
        double *t;
        int n = xb_group_raw(&g[i], "model_fwd", &t);
        if (n == 0) continue;
        xb_summary s;
        xb_summarize(t, n, &s);
        free(t);
        char name[sizeof g->key + 16], range[48], extra[1024], seeds[256];
        snprintf(name, sizeof name, "%s model_fwd", g[i].key);
        snprintf(range, sizeof range, "± %.6g", 0.5 * (s.p90 - s.p10) * 1e6);
        seed_list(&g[i], seeds, sizeof seeds);
        int k = snprintf(extra, sizeof extra,
                         "median of %d repetitions (seeds %s, %d of %d records ok); range = half the "
                         "p10-p90 interval\np10 %.6g us, p90 %.6g us, min %.6g us, max %.6g us",
                         n, seeds, g[i].ok, g[i].n, s.p10 * 1e6, s.p90 * 1e6, s.min * 1e6, s.max * 1e6);
        for (int m = 1; m < XB_N_LAT && k > 0 && (size_t)k < sizeof extra; m++) {
            double *x;
            int nx = xb_group_raw(&g[i], xb_lat_what[m], &x);
            if (nx > 0)
                k += snprintf(extra + k, sizeof extra - (size_t)k, "\n%s median %.6g us (%d)", xb_lat_what[m],
                              xb_median(x, nx) * 1e6, nx);
            free(x);
        }
        json_object *e = json_object_new_object();
        add_str(e, "name", name);
        add_str(e, "unit", "us");
        add_num(e, "value", s.median * 1e6);
        add_str(e, "range", range);
        add_str(e, "extra", extra);
        json_object_array_add(arr, e);
    }
    return arr;
}

json_object *xb_bench_accuracy_json(const xb_results *res)
{
    json_object *arr = json_object_new_array();
    const xb_group *g = res->group;
    int ng = res->ngroup;
    for (int i = 0; i < ng; i++) {
        if (g[i].kind != XB_KIND_TRAIN) continue;
        double *a;
        int n = xb_group_acc(&g[i], &a);
        if (n == 0) {
            free(a);
            continue;
        }
        xb_summary s;
        xb_summarize(a, n, &s);
        free(a);
        double chance = NAN;
        for (int r = 0; r < g[i].n && !isfinite(chance); r++) chance = xb_record_num(g[i].rec[r]->o, "chance");
        char name[sizeof g->key + 16], range[48], extra[512], seeds[256], ch[32];
        snprintf(name, sizeof name, "%s test_acc", g[i].key);
        snprintf(range, sizeof range, "± %.6g", 100 * s.stddev);
        seed_list(&g[i], seeds, sizeof seeds);
        if (isfinite(chance)) snprintf(ch, sizeof ch, "%.4g %%", 100 * chance);
        else snprintf(ch, sizeof ch, "unknown");
        snprintf(extra, sizeof extra,
                 "mean over %d seeds (%s; %d of %d records ok); range = sample std over seeds\n"
                 "min %.4g %%, max %.4g %%, chance %s", n, seeds, g[i].ok, g[i].n, 100 * s.min,
                 100 * s.max, ch);
        json_object *e = json_object_new_object();
        add_str(e, "name", name);
        add_str(e, "unit", "%");
        add_num(e, "value", 100 * s.mean);
        add_str(e, "range", range);
        add_str(e, "extra", extra);
        json_object_array_add(arr, e);
    }
    return arr;
}

/* "L1d 48K (per 1 CPU), L2 1024K (per 1 CPU), ..." (harness/machine.h) → Google Benchmark's
 * [{type, level, size, num_sharing}]. */
static json_object *caches_json(const char *desc)
{
    json_object *arr = json_object_new_array();
    const char *p = desc ? desc : "";
    while (*p) {
        while (*p == ' ' || *p == ',') p++;
        int level = 0, share = 1, used = 0;
        char t = 0;
        double size = 0;
        char unit = 0;
        if (sscanf(p, "L%d%n", &level, &used) == 1) {
            const char *q = p + used;
            t = (*q == 'd' || *q == 'i') ? *q++ : 0;
            int u2 = 0;
            if (sscanf(q, " %lf%c%n", &size, &unit, &u2) >= 2) {
                double mult = unit == 'K' ? 1024.0 : unit == 'M' ? 1048576.0 : unit == 'G' ? 1073741824.0 : 1;
                double bytes = size * mult;
                if (bytes >= 0 && bytes < 0x1p62) {     /* else NaN, negative or past int64: no size */
                    const char *per = strstr(q, "(per ");
                    const char *comma = strchr(q, ',');
                    if (per && (!comma || per < comma)) share = atoi(per + 5);
                    json_object *c = json_object_new_object();
                    add_str(c, "type", t == 'd' ? "Data" : t == 'i' ? "Instruction" : "Unified");
                    json_object_object_add(c, "level", json_object_new_int(level));
                    json_object_object_add(c, "size", json_object_new_int64((int64_t)bytes));
                    json_object_object_add(c, "num_sharing", json_object_new_int(share > 0 ? share : 1));
                    json_object_array_add(arr, c);
                }
            }
        }
        const char *next = strchr(p, ',');
        if (!next) break;
        p = next + 1;
    }
    return arr;
}

static json_object *context_json(json_object *meta)
{
    json_object *m = xb_jget(meta, "machine");
    json_object *c = json_object_new_object();
    add_str(c, "date", xb_jstr(meta, "started", "unknown"));
    add_str(c, "host_name", xb_jstr(m, "host", "unknown"));
    add_str(c, "executable", "xbench");
    json_object_object_add(c, "num_cpus", json_object_new_int(xb_jint(m, "logical_cpus", 0)));
    add_num(c, "mhz_per_cpu", xb_jnum(m, "mhz_per_cpu", 0));
    json_object *sc = xb_jget(m, "cpu_scaling_enabled");
    json_object_object_add(c, "cpu_scaling_enabled", json_object_new_boolean(sc ? json_object_get_boolean(sc) : 0));
    json_object_object_add(c, "caches", caches_json(xb_jstr(m, "caches", "")));
    json_object *la = xb_jget(m, "load_avg"), *lc = json_object_new_array();
    for (size_t i = 0; la && json_object_is_type(la, json_type_array) && i < json_object_array_length(la); i++)
        json_object_array_add(lc, json_object_new_double(json_object_get_double(json_object_array_get_idx(la, i))));
    json_object_object_add(c, "load_avg", lc);
    const char *cf = xb_jstr(m, "cflags", "");
    int release = strstr(cf, "-O1") || strstr(cf, "-O2") || strstr(cf, "-O3") || strstr(cf, "-Os") ||
                  strstr(cf, "-Ofast");
    add_str(c, "library_build_type", release ? "release" : "debug");
    json_object_object_add(c, "json_schema_version", json_object_new_int(1));
    add_str(c, "xbench_version", XB_VERSION);
    add_str(c, "xbench_suite", xb_jstr(meta, "suite_name", "unknown"));
    add_str(c, "xbench_suite_hash", xb_jstr(meta, "suite_hash", "unknown"));
    add_str(c, "xbench_cpu", xb_jstr(m, "cpu", "unknown"));
    add_str(c, "xbench_blas", xb_jstr(meta, "blas", xb_jstr(m, "blas", "unknown")));
    add_str(c, "xbench_cpu_time", "xbench times wall clock only: cpu_time repeats real_time");
    return c;
}

/* A time in ns, printed with 10 significant digits (the clock counts whole ns). */
static void add_ns(json_object *o, const char *k, double ns)
{
    char buf[32];
    snprintf(buf, sizeof buf, "%.10g", ns);
    json_object_object_add(o, k, json_object_new_double_s(ns, buf));
}

static json_object *row(const char *name, const char *run_name, int family, int reps, int threads)
{
    json_object *r = json_object_new_object();
    add_str(r, "name", name);
    json_object_object_add(r, "family_index", json_object_new_int(family));
    json_object_object_add(r, "per_family_instance_index", json_object_new_int(0));
    add_str(r, "run_name", run_name);
    json_object_object_add(r, "repetitions", json_object_new_int(reps));
    json_object_object_add(r, "threads", json_object_new_int(threads));
    return r;
}

json_object *xb_gbench_json(const xb_results *res)
{
    json_object *doc = json_object_new_object();
    json_object_object_add(doc, "context", context_json(res->meta));
    json_object *b = json_object_new_array();
    const xb_group *g = res->group;
    int ng = res->ngroup, family = 0;
    for (int i = 0; i < ng; i++) {
        for (int m = 0; m < XB_N_LAT; m++) {
            double *t;
            int n = xb_group_raw(&g[i], xb_lat_what[m], &t);
            if (n == 0) continue;
            char name[sizeof g->key + 32], agg[sizeof g->key + 64];
            snprintf(name, sizeof name, "%s/%s/L:%d/%s/%s/threads:%d",
                     g[i].kind != XB_KIND_TRAIN ? xb_kind_word(g[i].kind) : g[i].task, g[i].mixer, g[i].L,
                     g[i].causal ? "causal" : "bidir", xb_lat_what[m], g[i].threads);
            snprintf(agg, sizeof agg, "%s_median", name);
            for (int k = 0; k < n; k++) {
                json_object *r = row(name, name, family, n, g[i].threads);
                add_str(r, "run_type", "iteration");
                json_object_object_add(r, "repetition_index", json_object_new_int(k));
                json_object_object_add(r, "iterations", json_object_new_int(1));
                add_ns(r, "real_time", t[k] * 1e9);
                add_ns(r, "cpu_time", t[k] * 1e9);
                add_str(r, "time_unit", "ns");
                json_object_array_add(b, r);
            }
            json_object *r = row(agg, name, family, n, g[i].threads);
            add_str(r, "run_type", "aggregate");
            add_str(r, "aggregate_name", "median");
            add_str(r, "aggregate_unit", "time");
            json_object_object_add(r, "iterations", json_object_new_int(n));
            double med = xb_median(t, n);
            add_ns(r, "real_time", med * 1e9);
            add_ns(r, "cpu_time", med * 1e9);
            add_str(r, "time_unit", "ns");
            json_object_array_add(b, r);
            free(t);
            family++;
        }
    }
    json_object_object_add(doc, "benchmarks", b);
    return doc;
}

/* gbench.json: the context pretty-printed, then one benchmark row per line (readable, and a
 * third of the size of a fully pretty-printed file). */
static int write_gbench(const char *dir, json_object *doc)
{
    if (!doc) return XB_ENOMEM;
    xb_json_nonfinite_to_null(doc, NULL);   /* JSON has no NaN: null, as every file xbench writes */
    const int flags = JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE;
    json_object *b = xb_jget(doc, "benchmarks");
    size_t nb = b ? json_object_array_length(b) : 0, cap = 4096, len = 0;
    char *buf = malloc(cap);
    int rc = buf ? 0 : XB_ENOMEM;
    for (size_t i = 0; rc == 0 && i <= nb + 1; i++) {
        const char *piece, *pre = "", *post = "";
        if (i == 0) {
            pre = "{\n  \"context\": ";
            piece = json_object_to_json_string_ext(xb_jget(doc, "context"), flags | JSON_C_TO_STRING_PRETTY);
            post = ",\n  \"benchmarks\": [\n";
        } else if (i <= nb) {
            pre = "    ";
            piece = json_object_to_json_string_ext(json_object_array_get_idx(b, i - 1), flags);
            post = i < nb ? ",\n" : "\n";
        } else {
            piece = "  ]\n}\n";
        }
        size_t need = strlen(pre) + strlen(piece) + strlen(post);
        if (len + need + 1 > cap) {
            while (len + need + 1 > cap) cap *= 2;
            char *q = realloc(buf, cap);
            if (!q) { rc = XB_ENOMEM; break; }
            buf = q;
        }
        len += (size_t)sprintf(buf + len, "%s%s%s", pre, piece, post);
    }
    char *p = rc == 0 ? xb_path_join(dir, "gbench.json") : NULL;
    if (rc == 0) rc = p ? xb_write_atomic(p, buf, len) : XB_ENOMEM;
    free(p);
    free(buf);
    json_object_put(doc);
    return rc;
}

static int write_one(const char *dir, const char *name, json_object *o)
{
    if (!o) return XB_ENOMEM;
    char *p = xb_path_join(dir, name);
    int rc = p ? xb_write_json_atomic(p, o) : XB_ENOMEM;
    free(p);
    json_object_put(o);
    return rc;
}

int xb_benchjson_write(const char *dir, const xb_results *res)
{
    int rc = write_one(dir, "bench-latency.json", xb_bench_latency_json(res));
    if (rc == 0) rc = write_one(dir, "bench-accuracy.json", xb_bench_accuracy_json(res));
    if (rc == 0) rc = write_gbench(dir, xb_gbench_json(res));
    return rc;
}
