/* tests/test_groups.c — cells of different configurations are never pooled
 * (harness/report/cellkey.c and every reader that groups records: tables.md, results.csv/json,
 * bench-accuracy.json), labels name exactly what differs, and a suite sweeps task options,
 * model: and train: keys as axes (harness/suite.c).
 *
 * LRA's parameter rule compares a model with softmax of its own configuration: a looped
 * model's softmax, not the unlooped one's.
 *
 * Before configuration grouping, two MQAR entries with kv_pairs 2 and 8 at one length were
 * shown as one cell "mean ± std over 2 seeds" of both; the report tests below fail on that. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/cellkey.h"
#include "harness/report/report.h"
#include "harness/report/store.h"
#include "harness/suite.h"
#include "tests/tmpdir.h"
#include "tests/xbrun.h"

static char dir[64];

static void setup(void) { tmpdir_make(dir, sizeof dir, "xbench-groups"); }
static void teardown(void) { tmpdir_remove(dir); }

TestSuite(groups, .init = setup, .fini = teardown);

/* A training record of mqar/<mixer> at L 64 with the given config JSON text. */
static json_object *rec(const char *mixer, int seed, double acc, const char *config, const char *hash)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"%s\",\"L\":64,\"seed\":%d,"
             "\"threads\":1,\"causal\":true,\"status\":\"ok\",\"config_hash\":\"%s\",\"suite_hash\":\"s\","
             "\"test_acc\":%g,\"chance\":0.05,\"config\":%s}", mixer, seed, hash, acc, config);
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "%s", text);
    return o;
}

static const char *cfg(char *buf, size_t n, int kv, int dim, const char *seed)
{
    snprintf(buf, n, "{\"kind\":\"train\",\"task\":{\"name\":\"mqar\",\"key\":\"k%d\",\"options\":"
             "{\"kv_pairs\":%d.0,\"vocab\":128.0},\"L\":64},\"mixer\":{\"name\":\"gla\",\"cfg\":"
             "{\"d\":%d,\"heads\":1,\"causal\":1,\"n_max\":64,\"chunk\":0}},\"model\":{\"dim\":%d,"
             "\"mlp\":0,\"max_len\":64},\"train\":{\"steps\":1000,\"lr\":0.003,\"seed\":\"%s\"},"
             "\"latency\":{\"batch\":1,\"min_reps\":10},\"seed\":1,\"threads\":1}", kv, kv, dim, dim, seed);
    return buf;
}

/* gla on mqar: kv_pairs 2 (acc 0.99, 0.97) and kv_pairs 8 (acc 0.20, 0.30), two seeds each. */
static void write_kv_folder(void)
{
    xb_store st;
    cr_assert_eq(xb_store_open(&st, dir), 0);
    char c[1024];
    json_object *r[4] = {
        rec("gla", 1, 0.99, cfg(c, sizeof c, 2, 64, "a1"), "h1"),
        rec("gla", 2, 0.97, cfg(c, sizeof c, 2, 64, "a2"), "h2"),
        rec("gla", 1, 0.20, cfg(c, sizeof c, 8, 64, "b1"), "h3"),
        rec("gla", 2, 0.30, cfg(c, sizeof c, 8, 64, "b2"), "h4"),
    };
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(xb_store_append(&st, r[i]), 0);
        json_object_put(r[i]);
    }
    xb_store_close(&st);
    tmpdir_write(dir, "meta.json", "{\"suite_hash\": \"s\", \"suite_name\": \"t\"}\n");
}

Test(groups, labels_name_what_differs_and_nothing_else)
{
    char c[1024];
    json_object *a = json_object_new_array();
    json_object_array_add(a, rec("gla", 1, 0.9, cfg(c, sizeof c, 2, 64, "s1"), "1"));
    json_object_array_add(a, rec("gla", 2, 0.9, cfg(c, sizeof c, 2, 64, "s2"), "2"));   /* another seed */
    json_object_array_add(a, rec("gla", 1, 0.9, cfg(c, sizeof c, 8, 64, "s3"), "3"));   /* kv_pairs */
    json_object_array_add(a, rec("gla", 1, 0.9, cfg(c, sizeof c, 8, 32, "s4"), "4"));   /* and dim */
    xb_label lab[4];
    cr_assert_eq(xb_label_records(a, lab), 0);
    cr_expect_str_eq(lab[0].task, "mqar kv_pairs=2 dim=64");
    cr_expect_str_eq(lab[1].task, "mqar kv_pairs=2 dim=64");
    cr_expect_str_eq(lab[2].task, "mqar kv_pairs=8 dim=64");
    cr_expect_str_eq(lab[3].task, "mqar kv_pairs=8 dim=32");
    for (int i = 0; i < 4; i++) cr_expect_str_eq(lab[i].mixer, "gla");   /* d follows dim: not shown */
    json_object_put(a);

    /* one configuration: plain names */
    a = json_object_new_array();
    json_object_array_add(a, rec("gla", 1, 0.9, cfg(c, sizeof c, 2, 64, "s1"), "1"));
    json_object_array_add(a, rec("gla", 2, 0.9, cfg(c, sizeof c, 2, 64, "s2"), "2"));
    cr_assert_eq(xb_label_records(a, lab), 0);
    cr_expect_str_eq(lab[0].task, "mqar");
    cr_expect_str_eq(lab[1].mixer, "gla");
    json_object_put(a);
}

Test(groups, mixer_options_and_latency_settings)
{
    /* a merged folder: local with window 64 and 128 at one length is two rows; min_reps that
     * differ are pooled (they change how long, not what, is timed); latency.batch is not */
    const char *w64 = "{\"mixer\":{\"name\":\"local\",\"cfg\":{\"window\":64}},\"latency\":{\"min_reps\":10,\"batch\":1}}";
    const char *w128 = "{\"mixer\":{\"name\":\"local\",\"cfg\":{\"window\":128}},\"latency\":{\"min_reps\":20,\"batch\":1}}";
    const char *w128b = "{\"mixer\":{\"name\":\"local\",\"cfg\":{\"window\":128}},\"latency\":{\"min_reps\":20,\"batch\":4}}";
    json_object *a = json_object_new_array();
    json_object_array_add(a, rec("local", 1, 0.5, w64, "1"));
    json_object_array_add(a, rec("local", 1, 0.5, w128, "2"));
    json_object *l1 = json_tokener_parse("{\"kind\":\"latency\",\"mixer\":\"local\",\"L\":256,\"threads\":1,"
                                         "\"config\":{\"latency\":{\"min_reps\":10,\"batch\":1}}}");
    json_object *l2 = json_tokener_parse("{\"kind\":\"latency\",\"mixer\":\"local\",\"L\":256,\"threads\":1,"
                                         "\"config\":{\"latency\":{\"min_reps\":30,\"batch\":1}}}");
    json_object *l3 = json_tokener_parse("{\"kind\":\"latency\",\"mixer\":\"local\",\"L\":256,\"threads\":1,"
                                         "\"config\":{\"latency\":{\"min_reps\":30,\"batch\":4}}}");
    json_object_array_add(a, l1);
    json_object_array_add(a, l2);
    json_object_array_add(a, l3);
    json_object_array_add(a, rec("local", 2, 0.5, w128b, "3"));
    xb_label lab[6];
    cr_assert_eq(xb_label_records(a, lab), 0);
    cr_expect_str_eq(lab[0].task, "mqar latency.batch=1");
    cr_expect_str_eq(lab[0].mixer, "local window=64");
    cr_expect_str_eq(lab[1].mixer, "local window=128");
    cr_expect_str_eq(lab[2].task, "");
    cr_expect_str_eq(lab[2].mixer, "local latency.batch=1");
    cr_expect_str_eq(lab[3].mixer, "local latency.batch=1");
    cr_expect_str_eq(lab[4].mixer, "local latency.batch=4");
    json_object_put(a);
}

Test(groups, report_keeps_configurations_apart)
{
    write_kv_folder();
    cr_assert_eq(xb_report_dir(dir, NULL, stderr), 0);
    char *t = tmpdir_read(dir, "tables.md");
    /* two columns, each the mean of its own two seeds: 98.0 ± 1.4 and 25.0 ± 7.1 */
    cr_assert(strstr(t, "| mixer | mqar kv_pairs=2 | mqar kv_pairs=8 |") != NULL, "%s", t);
    cr_assert(strstr(t, "98.0 ± 1.4") != NULL, "%s", t);
    cr_assert(strstr(t, "25.0 ± 7.1") != NULL, "%s", t);
    cr_assert(strstr(t, "61.5 ±") == NULL, "pooled over configurations:\n%s", t);

    char *csv = tmpdir_read(dir, "results.csv");
    cr_assert(strstr(csv, ",task_label,mixer_label,not_learned,params_vs_softmax,params_over_softmax\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",mqar kv_pairs=8,gla,,,\n") != NULL, "%s", csv);   /* no curve: cannot tell */

    char rj[128];
    snprintf(rj, sizeof rj, "%s/results.json", dir);
    json_object *res = xb_read_json(rj);
    cr_assert_not_null(res);
    json_object *ag = xb_jget(res, "aggregates");
    cr_assert_eq(json_object_array_length(ag), 2);
    double want[2] = {0.98, 0.25};
    for (int i = 0; i < 2; i++) {
        json_object *g = json_object_array_get_idx(ag, (size_t)i);
        cr_expect_str_eq(xb_jstr(g, "task", ""), "mqar");
        cr_expect_str_eq(xb_jstr(g, "task_label", ""), i ? "mqar kv_pairs=8" : "mqar kv_pairs=2");
        cr_expect(fabs(xb_jnum(xb_jget(g, "test_acc"), "mean", NAN) - want[i]) < 1e-9);
        cr_expect_eq(xb_jnum(xb_jpath(g, "config"), "task.options.kv_pairs", 0), i ? 8 : 2);
    }
    json_object_put(res);

    char *ba = tmpdir_read(dir, "bench-accuracy.json");
    cr_assert(strstr(ba, "mqar kv_pairs=2/gla/L:64/causal/threads:1 test_acc") != NULL, "%s", ba);
    cr_assert(strstr(ba, "mqar kv_pairs=8/gla/L:64/causal/threads:1 test_acc") != NULL, "%s", ba);
}

/* ---- sweep axes in a suite ------------------------------------------------------------- */

static int load(const char *text, xb_suite *s, char **errs)
{
    size_t n;
    FILE *f = open_memstream(errs, &n);
    int rc = xb_suite_load_string(text, "axes.yaml", s, f);
    fclose(f);
    return rc;
}

Test(groups, suite_axes_expand_tasks)
{
    xb_suite s;
    char *e = NULL;
    int rc = load("tasks:\n"
                  "  - name: mqar\n"
                  "    lengths: [32]\n"
                  "    options: {kv_pairs: [2, 8], vocab: 64}\n"
                  "    model: {dim: [32, 64], heads: 2}\n"
                  "    train: {lr: [1.0e-3, 3.0e-3], steps: 10}\n"
                  "  - listops\n", &s, &e);
    cr_assert_eq(rc, 0, "%s", e);
    free(e);
    cr_assert_eq(s.n_tasks, 9);
    const xb_task *t = s.tasks[0].task;
    int kv = -1;
    for (int j = 0; j < t->n_opts; j++)
        if (!strcmp(t->opts[j].name, "kv_pairs")) kv = j;
    cr_assert(kv >= 0);
    /* the last axis varies fastest */
    cr_expect_str_eq(s.tasks[0].label, "kv_pairs=2 dim=32 lr=1.0e-3");
    cr_expect_str_eq(s.tasks[7].label, "kv_pairs=8 dim=64 lr=3.0e-3");
    cr_expect_eq(s.tasks[7].cfg.opt[kv], 8);
    cr_expect_eq(s.tasks[7].model.dim, 64);
    cr_expect_eq(s.tasks[7].model.heads, 2);
    cr_expect(fabs(s.tasks[7].train.lr - 3e-3) < 1e-9);
    cr_expect_eq(s.tasks[7].train.steps, 10);
    cr_expect_eq(s.tasks[1].model.dim, 32);
    cr_expect(fabs(s.tasks[1].train.lr - 3e-3) < 1e-9);
    cr_expect_null(s.tasks[8].label);
    cr_expect(strstr(s.canonical, "# sweep: kv_pairs=8 dim=64 lr=3.0e-3") != NULL, "%s", s.canonical);
    xb_suite_release(&s);
}

Test(groups, suite_axis_errors_name_the_item)
{
    xb_suite s;
    char *e = NULL;
    int rc = load("model: {dim: [32, 64]}\n"
                  "tasks:\n"
                  "  - name: mqar\n"
                  "    options: {kv_pairs: [2, 0]}\n"
                  "    train: {lr: []}\n", &s, &e);
    cr_assert_neq(rc, 0);
    cr_expect(strstr(e, "axes.yaml:1:14: model.dim: a list here would be a sweep axis") != NULL, "%s", e);
    cr_expect(strstr(e, "axes.yaml:4:29: tasks[0].options.kv_pairs[1]: expected an integer") != NULL, "%s", e);
    cr_expect(strstr(e, "axes.yaml:5:17: tasks[0].train.lr: an empty list") != NULL, "%s", e);
    free(e);
    /* a task that rejects one value names it */
    rc = load("tasks:\n  - name: mqar\n    lengths: [16]\n    options: {kv_pairs: [2, 12]}\n", &s, &e);
    cr_assert_neq(rc, 0);
    cr_expect(strstr(e, "task 'mqar' (kv_pairs=12) rejects length 16") != NULL, "%s", e);
    cr_expect(strstr(e, "(kv_pairs=2)") == NULL, "%s", e);
    free(e);
}

Test(groups, a_run_of_two_configurations_reports_two_columns)
{
    char out[128];
    snprintf(out, sizeof out, "%s/run", dir);
    tmpdir_write(dir, "s.yaml",
                 "seeds: [1, 2]\nmodel: {dim: 16, layers: 1, heads: 1}\ntrain: {steps: 4, batch: 4}\n"
                 "latency: {lengths: [], min_reps: 1, min_time_s: 0, warmup: 0}\nmixers: [pool]\n"
                 "tasks:\n  - name: mqar\n    lengths: [16]\n"
                 "    options: {kv_pairs: [2, 4], train_examples: 64, val_examples: 16, test_examples: 16}\n");
    char suite[128];
    snprintf(suite, sizeof suite, "%s/s.yaml", dir);
    result r = RUN("run", suite, "-o", out, "--no-plots", "--quiet");
    cr_assert_eq(r.code, 0, "%s\n%s", r.out, r.err);
    char *t = tmpdir_read(out, "tables.md");
    cr_assert(strstr(t, "| mixer | mqar kv_pairs=2 | mqar kv_pairs=4 |") != NULL, "%s", t);
    done(&r);
}

/* ---- not-learned cells ------------------------------------------------------------------ */

/* An mqar record (kv_pairs 4) with a loss curve: flat at the 1/K plateau, or falling. */
static json_object *curve_rec(const char *mixer, int flat, double acc)
{
    char t[8192];
    int k = snprintf(t, sizeof t,
                     "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"%s\",\"L\":64,\"seed\":1,"
                     "\"threads\":1,\"causal\":true,\"status\":\"ok\",\"config_hash\":\"%s\",\"suite_hash\":\"s\","
                     "\"test_acc\":%g,\"chance\":0.02,\"config\":{\"task\":{\"options\":{\"kv_pairs\":4.0}}},"
                     "\"loss_curve\":[", mixer, mixer, acc);
    for (int i = 0; i < 64; i++) {
        double step = 30.0 * (i + 1);
        double loss = i < 3 ? 4.8 : flat ? 2.0 + 0.01 * ((i * 7) % 5 - 2) : 4.0 * exp(-0.08 * i);
        k += snprintf(t + k, sizeof t - (size_t)k, "%s[%g,%g]", i ? "," : "", step, loss);
    }
    snprintf(t + k, sizeof t - (size_t)k, "]}");
    json_object *o = json_tokener_parse(t);
    cr_assert_not_null(o, "%s", t);
    return o;
}

Test(groups, plateau_cells_are_marked_not_learned)
{
    xb_store st;
    cr_assert_eq(xb_store_open(&st, dir), 0);
    json_object *r[2] = { curve_rec("mamba", 1, 0.26), curve_rec("softmax", 0, 0.99) };
    for (int i = 0; i < 2; i++) {
        cr_assert_eq(xb_store_append(&st, r[i]), 0);
        json_object_put(r[i]);
    }
    xb_store_close(&st);
    tmpdir_write(dir, "meta.json", "{\"suite_hash\": \"s\", \"suite_name\": \"t\"}\n");
    cr_assert_eq(xb_report_dir(dir, NULL, stderr), 0);
    char *t = tmpdir_read(dir, "tables.md");
    cr_assert(strstr(t, "| mamba | 26.0 not-learned |") != NULL, "%s", t);
    cr_assert(strstr(t, "| softmax | 99.0 |") != NULL, "%s", t);
    cr_assert(strstr(t, "*not-learned*: the training loss never left its plateau") != NULL, "%s", t);
    char *csv = tmpdir_read(dir, "results.csv");
    cr_assert(strstr(csv, ",mqar,mamba,1,,\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",mqar,softmax,0,,\n") != NULL, "%s", csv);
}

/* A training record of mqar/<mixer> at L 64 whose model has `layers` blocks run `loop` times
 * (loop 1: the key is absent, as harness/sweep.c writes it), with a parameter count. */
static json_object *loop_rec(const char *mixer, int layers, int loop, long params, double acc, const char *hash)
{
    char lp[32] = "", text[2048];
    if (loop > 1) snprintf(lp, sizeof lp, ",\"loop\":%d", loop);
    snprintf(text, sizeof text,
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"%s\",\"L\":64,\"seed\":1,"
             "\"threads\":1,\"causal\":true,\"status\":\"ok\",\"config_hash\":\"%s\",\"suite_hash\":\"s\","
             "\"test_acc\":%g,\"chance\":0.05,\"params\":%ld,\"config\":{\"kind\":\"train\",\"task\":"
             "{\"name\":\"mqar\",\"key\":\"k\",\"options\":{\"kv_pairs\":4.0},\"L\":64},\"mixer\":{\"name\":"
             "\"%s\",\"cfg\":{\"d\":64,\"heads\":1,\"causal\":1,\"n_max\":64}},\"model\":{\"dim\":64,"
             "\"layers\":%d,\"mlp\":2,\"max_len\":64%s},\"train\":{\"steps\":1000,\"seed\":\"%s\"},"
             "\"seed\":1,\"threads\":1}}", mixer, hash, acc, params, mixer, layers, lp, hash);
    json_object *o = json_tokener_parse(text);
    cr_assert_not_null(o, "%s", text);
    return o;
}

Test(groups, params_rule_compares_within_a_configuration)
{
    /* softmax: 2 layers 2000 parameters, 1 layer looped twice 1200. gla: 2 layers 2100 (5%
     * over its own softmax, 75% over the looped one) and looped 1400 (17% over its own
     * softmax, under the 2-layer one): only the looped gla is flagged */
    xb_store st;
    cr_assert_eq(xb_store_open(&st, dir), 0);
    json_object *r[4] = { loop_rec("softmax", 2, 1, 2000, 0.9, "s2"), loop_rec("softmax", 1, 2, 1200, 0.8, "s1"),
                          loop_rec("gla", 2, 1, 2100, 0.7, "g2"), loop_rec("gla", 1, 2, 1400, 0.6, "g1") };
    for (int i = 0; i < 4; i++) {
        cr_assert_eq(xb_store_append(&st, r[i]), 0);
        json_object_put(r[i]);
    }
    xb_store_close(&st);
    tmpdir_write(dir, "meta.json", "{\"suite_hash\": \"s\", \"suite_name\": \"t\"}\n");
    cr_assert_eq(xb_report_dir(dir, NULL, stderr), 0);
    char *t = tmpdir_read(dir, "tables.md");
    /* the labels name what differs: layers and loop (absent = ~ in the label) */
    const char *hdr = strstr(t, "| mixer | mqar layers=2 loop=~ | mqar layers=1 loop=2 | average | params |");
    cr_assert_not_null(hdr, "%s", t);
    cr_assert(strstr(hdr, "| softmax | 90.0 | 80.0 | 85.0 | 2k · 1.2k |\n") != NULL, "%s", t);
    cr_assert(strstr(hdr, "| gla | 70.0 | 60.0 † | 65.0 | 2.1k · 1.4k |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "gla on mqar layers=1 loop=2 at L = 64 (1.167× softmax's 1200).") != NULL, "%s", t);
    char *csv = tmpdir_read(dir, "results.csv");   /* the same static buffer as t */
    cr_assert(strstr(csv, ",mqar layers=2 loop=~,gla,,1.05,0\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",mqar layers=1 loop=2,gla,,1.16666667,1\n") != NULL, "%s", csv);
}

/* A latency cell and a decode cell at one length are rows of different tables: their configs
 * always differ (mode, the optimizer a latency cell times, n_max-derived defaults such as lmu's
 * theta), which must not become a label that their neighbours at other lengths lack. Before,
 * both kinds shared a bucket and every latency and decode row split in two wherever
 * latency.lengths and decode_lengths shared a length (the default suite: 256, 1024, 4096). */
Test(groups, latency_and_decode_at_one_length_stay_one_row)
{
    const char *fmt = "{\"v\":1,\"kind\":\"%s\",\"task\":null,\"mixer\":\"lmu\",\"L\":%d,\"seed\":1,"
                      "\"threads\":1,\"status\":\"ok\",\"config_hash\":\"%d\",\"suite_hash\":\"s\","
                      "\"config\":{\"kind\":\"%s\",\"L\":%d,\"mixer\":{\"name\":\"lmu\",\"cfg\":"
                      "{\"causal\":%d,\"n_max\":%d,\"theta\":%d}}%s}}";
    const char *opt = ",\"optimizer\":{\"lr\":0.002}";
    struct { const char *kind; int L, causal, n_max; } c[] = {
        {"latency", 256, 0, 256}, {"latency", 8192, 0, 8192},
        {"decode", 256, 1, 272}, {"decode", 16384, 1, 16400},
    };
    json_object *a = json_object_new_array();
    for (int i = 0; i < 4; i++) {
        char text[1024];
        snprintf(text, sizeof text, fmt, c[i].kind, c[i].L, i, c[i].kind, c[i].L, c[i].causal,
                 c[i].n_max, c[i].n_max, c[i].kind[0] == 'l' ? opt : "");
        json_object *o = json_tokener_parse(text);
        cr_assert_not_null(o, "%s", text);
        json_object_array_add(a, o);
    }
    xb_label lab[4];
    cr_assert_eq(xb_label_records(a, lab), 0);
    for (int i = 0; i < 4; i++)
        cr_expect_str_eq(lab[i].mixer, "lmu", "%s L=%d: '%s'", c[i].kind, c[i].L, lab[i].mixer);
    json_object_put(a);
}

/* The same through a real run: a latency sweep and decode contexts that share a length give
 * one row per mixer in the latency and decode tables. */
Test(groups, a_run_with_latency_and_decode_at_one_length_has_one_row_per_mixer)
{
    char out[128], suite[128];
    snprintf(out, sizeof out, "%s/run", dir);
    tmpdir_write(dir, "s.yaml",
                 "model: {dim: 16, layers: 1, heads: 1}\n"
                 "latency: {lengths: [32, 64], decode_lengths: [32, 128], min_reps: 1, max_reps: 1,"
                 " min_time_s: 0, warmup: 0}\nmixers: [softmax, lmu]\ntasks: []\n");
    snprintf(suite, sizeof suite, "%s/s.yaml", dir);
    result r = RUN("run", suite, "-o", out, "--no-plots", "--quiet", "--machine", "none");
    cr_assert_eq(r.code, 0, "%s\n%s", r.out, r.err);
    char *t = tmpdir_read(out, "tables.md");
    cr_expect(strstr(t, "mode=") == NULL && strstr(t, "theta=") == NULL && strstr(t, "lr=") == NULL, "%s", t);
    cr_expect(strstr(t, "| lmu |") != NULL, "%s", t);
    done(&r);
}
