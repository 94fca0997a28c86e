/* tests/test_benchjson.c — bench-latency.json, bench-accuracy.json and gbench.json
 * (harness/report/benchjson.c) as `xbench report` writes them for a hand-written results folder,
 * parsed back with json-c: every field github-action-benchmark's custom formats document
 * (name, unit, value, range, extra) with its type; Google Benchmark's context block and
 * benchmark rows with the fields tools/compare.py reads; values against the raw data
 * (median of pooled repetitions, mean and std of accuracy over seeds); failed cells absent;
 * aggregate names unique, iteration rows unique per (name, repetition_index). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/report/benchjson.h"
#include "harness/report/report.h"
#include "harness/report/store.h"
#include "tests/tmpdir.h"

static char dir[64];

static const char *META =
    "{\"suite_name\": \"t\", \"suite_path\": \"t.yaml\", \"suite_hash\": \"aaaa\","
    " \"suite_canonical\": \"name: t\\n\", \"started\": \"2024-01-01T00:00:00Z\", \"cells\": 5,"
    " \"machine\": {\"cpu\": \"TestCPU\", \"host\": \"testhost\", \"logical_cpus\": 4,"
    " \"caches\": \"L1d 48K (per 1 CPU), L1i 32K (per 1 CPU), L2 1024K (per 2 CPUs), L3 32768K (per 4 CPUs)\","
    " \"cflags\": \"-std=c11 -O3 -march=native\", \"mhz_per_cpu\": 2500.0,"
    " \"cpu_scaling_enabled\": true, \"load_avg\": [0.5, 0.25, 0.125]}}\n";

/* two seeds of one training cell (raw 3 + 2 repetitions, pooled median = 3 µs), a failed
 * training cell, a latency cell with three measurements */
#define RAW(a) "{\"median\":1,\"raw\":[" a "]}"
static const char *CELLS =
    "{\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"softmax\",\"L\":64,\"seed\":1,\"threads\":1,"
    "\"causal\":true,\"status\":\"ok\",\"config_hash\":\"a1\",\"suite_hash\":\"aaaa\",\"test_acc\":0.8,"
    "\"chance\":0.25,\"latency\":{\"model_fwd\":" RAW("1e-6,5e-6,3e-6") ",\"mixer_fwd\":" RAW("1e-6,1e-6,1e-6") "}}\n"
    "{\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"softmax\",\"L\":64,\"seed\":2,\"threads\":1,"
    "\"causal\":true,\"status\":\"ok\",\"config_hash\":\"a2\",\"suite_hash\":\"aaaa\",\"test_acc\":0.9,"
    "\"chance\":0.25,\"latency\":{\"model_fwd\":" RAW("2e-6,4e-6") ",\"mixer_fwd\":" RAW("1e-6,1e-6") "}}\n"
    "{\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"gla\",\"L\":64,\"seed\":1,\"threads\":1,"
    "\"causal\":true,\"status\":\"timeout\",\"config_hash\":\"b1\",\"suite_hash\":\"aaaa\",\"test_acc\":null}\n"
    "{\"kind\":\"latency\",\"task\":null,\"mixer\":\"softmax\",\"L\":256,\"seed\":1,\"threads\":2,"
    "\"causal\":false,\"status\":\"ok\",\"config_hash\":\"c1\",\"suite_hash\":\"aaaa\","
    "\"latency\":{\"model_fwd\":" RAW("1e-5,2e-5,3e-5,4e-5") ",\"model_fwdbwd\":" RAW("9e-5,8e-5,7e-5,6e-5")
    ",\"model_train\":" RAW("3e-4,1e-4,2e-4") "}}\n";

static void write_file(const char *name, const char *text) { tmpdir_write(dir, name, text); }

static json_object *read_back(const char *name)
{
    char *p = xb_path_join(dir, name);
    json_object *o = json_object_from_file(p);
    cr_assert_not_null(o, "%s does not parse: %s", p, json_util_get_last_err());
    free(p);
    return o;
}

static void setup(void)
{
    tmpdir_make(dir, sizeof dir, "xbench-benchjson");
    write_file("meta.json", META);
    write_file("cells.jsonl", CELLS);
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
}

static void teardown(void) { tmpdir_remove(dir); }

TestSuite(benchjson, .init = setup, .fini = teardown);

static json_object *field(json_object *o, const char *k, json_type t)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, k, &v), "field '%s' missing in %s", k,
              json_object_to_json_string(o));
    int ok = json_object_is_type(v, t) || (t == json_type_double && json_object_is_type(v, json_type_int));
    cr_assert(ok, "field '%s' has type %s, expected %s", k, json_type_to_name(json_object_get_type(v)),
              json_type_to_name(t));
    return v;
}

/* github-action-benchmark's custom formats: name, unit, value required; range and extra
 * optional strings (we always write them). */
static void check_custom_entry(json_object *e)
{
    cr_assert(json_object_is_type(e, json_type_object));
    cr_assert_gt(strlen(json_object_get_string(field(e, "name", json_type_string))), 0);
    cr_assert_gt(strlen(json_object_get_string(field(e, "unit", json_type_string))), 0);
    cr_assert(isfinite(json_object_get_double(field(e, "value", json_type_double))));
    const char *range = json_object_get_string(field(e, "range", json_type_string));
    /* the action's range parser reads "± <number>" */
    cr_assert(strncmp(range, "± ", strlen("± ")) == 0 && atof(range + strlen("± ")) >= 0, "range '%s'", range);
    field(e, "extra", json_type_string);
    cr_assert_eq(json_object_object_length(e), 5, "only the documented fields");
}

Test(benchjson, latency_custom_smaller_is_better)
{
    json_object *a = read_back("bench-latency.json");
    cr_assert(json_object_is_type(a, json_type_array));
    cr_assert_eq(json_object_array_length(a), 2, "one entry per cell with an ok measurement");
    for (size_t i = 0; i < json_object_array_length(a); i++) check_custom_entry(json_object_array_get_idx(a, i));
    json_object *e = json_object_array_get_idx(a, 0);
    cr_assert_str_eq(json_object_get_string(field(e, "name", json_type_string)),
                     "mqar/softmax/L:64/causal/threads:1 model_fwd");
    cr_assert_str_eq(json_object_get_string(field(e, "unit", json_type_string)), "us");
    /* pooled over seeds: {1, 5, 3, 2, 4} µs → median 3, p10 1.4, p90 4.6 → ± 1.6 */
    cr_assert_float_eq(json_object_get_double(field(e, "value", json_type_double)), 3.0, 1e-9);
    cr_assert_str_eq(json_object_get_string(field(e, "range", json_type_string)), "± 1.6");
    const char *extra = json_object_get_string(field(e, "extra", json_type_string));
    cr_assert(strstr(extra, "median of 5 repetitions (seeds 1, 2") != NULL, "%s", extra);
    cr_assert(strstr(extra, "mixer_fwd median 1 us (5)") != NULL, "%s", extra);
    e = json_object_array_get_idx(a, 1);
    cr_assert_str_eq(json_object_get_string(field(e, "name", json_type_string)),
                     "latency/softmax/L:256/bidir/threads:2 model_fwd");
    cr_assert_float_eq(json_object_get_double(field(e, "value", json_type_double)), 25.0, 1e-9);
    extra = json_object_get_string(field(e, "extra", json_type_string));
    cr_assert(strstr(extra, "model_fwdbwd median 75 us (4)") != NULL, "%s", extra);
    cr_assert(strstr(extra, "model_train median 200 us (3)") != NULL, "%s", extra);
    json_object_put(a);
}

Test(benchjson, accuracy_custom_bigger_is_better)
{
    json_object *a = read_back("bench-accuracy.json");
    cr_assert(json_object_is_type(a, json_type_array));
    cr_assert_eq(json_object_array_length(a), 1, "training cells with an ok seed only");
    json_object *e = json_object_array_get_idx(a, 0);
    check_custom_entry(e);
    cr_assert_str_eq(json_object_get_string(field(e, "name", json_type_string)),
                     "mqar/softmax/L:64/causal/threads:1 test_acc");
    cr_assert_str_eq(json_object_get_string(field(e, "unit", json_type_string)), "%");
    cr_assert_float_eq(json_object_get_double(field(e, "value", json_type_double)), 85.0, 1e-9);
    /* sample std of {80, 90} = 7.07107 */
    cr_assert_str_eq(json_object_get_string(field(e, "range", json_type_string)), "± 7.07107");
    cr_assert(strstr(json_object_get_string(field(e, "extra", json_type_string)), "chance 25 %") != NULL);
    json_object_put(a);
}

Test(benchjson, gbench_context)
{
    json_object *g = read_back("gbench.json");
    json_object *c = field(g, "context", json_type_object);
    cr_assert_str_eq(json_object_get_string(field(c, "date", json_type_string)), "2024-01-01T00:00:00Z");
    cr_assert_str_eq(json_object_get_string(field(c, "host_name", json_type_string)), "testhost");
    field(c, "executable", json_type_string);
    cr_assert_eq(json_object_get_int(field(c, "num_cpus", json_type_int)), 4);
    cr_assert_float_eq(json_object_get_double(field(c, "mhz_per_cpu", json_type_double)), 2500.0, 1e-9);
    cr_assert(json_object_get_boolean(field(c, "cpu_scaling_enabled", json_type_boolean)));
    json_object *la = field(c, "load_avg", json_type_array);
    cr_assert_eq(json_object_array_length(la), 3);
    cr_assert_float_eq(json_object_get_double(json_object_array_get_idx(la, 2)), 0.125, 1e-12);
    cr_assert_str_eq(json_object_get_string(field(c, "library_build_type", json_type_string)), "release");
    json_object *caches = field(c, "caches", json_type_array);
    cr_assert_eq(json_object_array_length(caches), 4);
    static const char *types[] = { "Data", "Instruction", "Unified", "Unified" };
    static const int levels[] = { 1, 1, 2, 3 }, sharing[] = { 1, 1, 2, 4 };
    static const long sizes[] = { 48 * 1024, 32 * 1024, 1024 * 1024, 32768L * 1024 };
    for (int i = 0; i < 4; i++) {
        json_object *k = json_object_array_get_idx(caches, (size_t)i);
        cr_assert_str_eq(json_object_get_string(field(k, "type", json_type_string)), types[i]);
        cr_assert_eq(json_object_get_int(field(k, "level", json_type_int)), levels[i]);
        cr_assert_eq(json_object_get_int64(field(k, "size", json_type_int)), sizes[i]);
        cr_assert_eq(json_object_get_int(field(k, "num_sharing", json_type_int)), sharing[i]);
    }
    json_object_put(g);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

Test(benchjson, gbench_rows)
{
    json_object *g = read_back("gbench.json");
    json_object *b = field(g, "benchmarks", json_type_array);
    size_t n = json_object_array_length(b);
    /* iteration rows: softmax train model_fwd 5 + mixer_fwd 5, latency model_fwd 4 +
     * model_fwdbwd 4 + model_train 3 = 21; one median aggregate per measurement = 5 */
    cr_assert_eq(n, 26);
    int aggregates = 0;
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(b, i);
        const char *name = json_object_get_string(field(r, "name", json_type_string));
        const char *run_name = json_object_get_string(field(r, "run_name", json_type_string));
        const char *type = json_object_get_string(field(r, "run_type", json_type_string));
        int reps = json_object_get_int(field(r, "repetitions", json_type_int));
        field(r, "threads", json_type_int);
        field(r, "iterations", json_type_int);
        field(r, "family_index", json_type_int);
        field(r, "per_family_instance_index", json_type_int);
        double rt = json_object_get_double(field(r, "real_time", json_type_double));
        double ct = json_object_get_double(field(r, "cpu_time", json_type_double));
        cr_assert_str_eq(json_object_get_string(field(r, "time_unit", json_type_string)), "ns");
        cr_assert(rt > 0 && ct == rt);
        for (size_t j = 0; j < i; j++) {       /* uniqueness */
            json_object *q = json_object_array_get_idx(b, j);
            int same = strcmp(json_object_get_string(field(q, "name", json_type_string)), name) == 0;
            if (strcmp(type, "aggregate") == 0) cr_assert(!same, "aggregate name '%s' repeated", name);
            else if (same && xb_jget(q, "repetition_index"))
                cr_assert_neq(json_object_get_int(xb_jget(q, "repetition_index")),
                              json_object_get_int(field(r, "repetition_index", json_type_int)),
                              "'%s' repetition repeated", name);
        }
        if (strcmp(type, "iteration") == 0) {
            cr_assert_str_eq(name, run_name);
            cr_assert_eq(json_object_get_int(field(r, "iterations", json_type_int)), 1);
            int k = json_object_get_int(field(r, "repetition_index", json_type_int));
            cr_assert(k >= 0 && k < reps);
            continue;
        }
        cr_assert_str_eq(type, "aggregate");
        aggregates++;
        cr_assert_str_eq(json_object_get_string(field(r, "aggregate_name", json_type_string)), "median");
        char expect[400];
        snprintf(expect, sizeof expect, "%s_median", run_name);
        cr_assert_str_eq(name, expect);
        /* the aggregate is the median of its family's iteration rows, and their count */
        double t[64];
        int m = 0;
        for (size_t j = 0; j < n; j++) {
            json_object *q = json_object_array_get_idx(b, j);
            if (strcmp(json_object_get_string(xb_jget(q, "name")), run_name) == 0 && m < 64)
                t[m++] = json_object_get_double(xb_jget(q, "real_time"));
        }
        cr_assert_eq(m, reps, "%s", name);
        qsort(t, (size_t)m, sizeof *t, cmp_d);
        double med = m % 2 ? t[m / 2] : 0.5 * (t[m / 2 - 1] + t[m / 2]);
        cr_assert_float_eq(rt, med, 1e-6 * med, "%s: %g vs %g", name, rt, med);
    }
    cr_assert_eq(aggregates, 5);
    /* names follow Google Benchmark's family/args/threads:N form */
    cr_assert_str_eq(json_object_get_string(xb_jget(json_object_array_get_idx(b, 0), "name")),
                     "mqar/softmax/L:64/causal/model_fwd/threads:1");
    json_object *last = json_object_array_get_idx(b, n - 1);
    cr_assert_str_eq(json_object_get_string(xb_jget(last, "name")),
                     "latency/softmax/L:256/bidir/model_train/threads:2_median");
    cr_assert_float_eq(json_object_get_double(xb_jget(last, "real_time")), 200000.0, 1e-6);
    cr_assert_eq(json_object_get_int(xb_jget(last, "threads")), 2);
    json_object_put(g);
}

Test(benchjson, rewritten_whole_by_report)
{
    /* a second report replaces the files (no temporary left behind) */
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q tmp", dir);
    cr_assert_neq(system(cmd), 0, "a temporary file was left in %s", dir);
    json_object *a = read_back("bench-latency.json");
    cr_assert_eq(json_object_array_length(a), 2);
    json_object_put(a);
}
