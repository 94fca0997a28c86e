/* tests/test_report.c — harness/report/report.c and harness/report/store.c on a hand-written
 * results folder: seeds averaged (mean ± std), failed cells shown as "— (status)" and never 0,
 * the chance row, achieved GFLOP/s and fraction of peak, scaling exponents and the crossover vs
 * softmax, superseded and foreign records, a torn last line, the CSV and results.json; and on a
 * second folder (1, 2 and 4 threads) the training-step-vs-forward and thread-scaling tables;
 * LRA's parameter rule (a parameter column, † on a model more than 10% over softmax's count,
 * exactly 10% not flagged, no softmax: nothing flagged and a note) in tables.md, results.csv,
 * results.json and the end-of-run summary. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness/report/plot.h"
#include "harness/report/report.h"
#include "harness/report/store.h"
#include "harness/report/summary.h"
#include "tests/tmpdir.h"

static const char *META =
    "{\"suite_name\": \"t\", \"suite_path\": \"t.yaml\", \"suite_hash\": \"aaaa\","
    " \"suite_canonical\": \"name: t\\nseeds: [1, 2]\\n\", \"started\": \"2024-01-01T00:00:00Z\","
    " \"threads\": [1], \"cells\": 12, \"blas\": \"OpenBLAS test\","
    " \"machine\": {\"cpu\": \"TestCPU\", \"logical_cpus\": 2, \"fma_peak_gflops_per_core\": 10.0},"
    " \"env\": {\"OPENBLAS_CORETYPE\": \"Haswell\"}, \"warnings\": [\"OPENBLAS_CORETYPE is set\"]}\n";

#define TR(h, mixer, seed, st, acc) \
    "{\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"" mixer "\",\"L\":64,\"seed\":" #seed \
    ",\"threads\":1,\"status\":\"" st "\",\"config_hash\":\"" h "\",\"suite_hash\":\"aaaa\"," \
    "\"test_acc\":" acc ",\"chance\":0.25,\"final_loss\":0.5,\"train_time_s\":2.0," \
    "\"loss_curve\":[[1,2.0],[2,1.0]]}\n"
#define LAT(h, mixer, L, med) \
    "{\"kind\":\"latency\",\"task\":null,\"mixer\":\"" mixer "\",\"L\":" #L ",\"seed\":1," \
    "\"threads\":1,\"status\":\"ok\",\"config_hash\":\"" h "\",\"suite_hash\":\"aaaa\"," \
    "\"flops_mixer\":5e5,\"flops_model\":1e6,\"bytes_analytic\":1048576,\"peak_rss_kb\":2048," \
    "\"latency\":{\"batch\":1,\"N\":" #L ",\"model_fwd\":{\"median\":" med ",\"flops\":1e6," \
    "\"noisy\":false,\"raw\":[" med "]},\"mixer_fwd\":{\"median\":" med ",\"flops\":5e5,\"noisy\":true}}}\n"

static const char *CELLS =
    TR("s1", "softmax", 1, "ok", "0.95")
    TR("s2", "softmax", 2, "ok", "0.97")
    TR("l1", "linear", 1, "ok", "0.5")
    TR("l2", "linear", 2, "crashed:SIGSEGV", "null")
    TR("l2", "linear", 2, "timeout", "null")              /* supersedes the line above */
    TR("g1", "gla", 1, "crashed:SIGSEGV", "null")
    TR("g2", "gla", 2, "crashed:SIGSEGV", "0.0")          /* a 0 of a failed cell is never shown */
    TR("x1", "softmax", 3, "ok", "0.11")                  /* see below: another suite */
    /* softmax: t = 1e-3 (L/256)^2, linear: t = 2e-3 (L/256): equal at L = 512 */
    LAT("a1", "softmax", 256, "0.001") LAT("a2", "softmax", 512, "0.004") LAT("a3", "softmax", 1024, "0.016")
    LAT("b1", "linear", 256, "0.002") LAT("b2", "linear", 512, "0.004") LAT("b3", "linear", 1024, "0.008")
    "{\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"softm";   /* torn by a crash */

static char dir[64];

static void write_file(const char *name, const char *text) { tmpdir_write(dir, name, text); }
static char *read_file(const char *name) { return tmpdir_read(dir, name); }

static void setup(void)
{
    tmpdir_make(dir, sizeof dir, "xb-report");
    write_file("meta.json", META);
    /* x1 belongs to another version of the suite */
    char *cells = strdup(CELLS);
    char *x = strstr(cells, "\"config_hash\":\"x1\",\"suite_hash\":\"aaaa\"");
    cr_assert_not_null(x);
    memcpy(strstr(x, "aaaa"), "bbbb", 4);
    write_file("cells.jsonl", cells);
    free(cells);
}

static void teardown(void) { tmpdir_remove(dir); }

TestSuite(report, .init = setup, .fini = teardown);

Test(report, store_load_skips_torn_line_and_latest_supersedes)
{
    json_object *all = NULL;
    FILE *warn = tmpfile();
    cr_assert_eq(xb_store_load(dir, &all, warn), 0);
    cr_assert_eq(json_object_array_length(all), 14);      /* 8 train + 6 latency, torn skipped */
    rewind(warn);
    char w[256] = "";
    cr_assert_not_null(fgets(w, sizeof w, warn));
    cr_assert(strstr(w, "cells.jsonl:15") != NULL, "warning was: %s", w);
    fclose(warn);
    json_object *latest = xb_store_latest(all);
    cr_assert_eq(json_object_array_length(latest), 13);
    /* l2's record is the later one, at the position of the first */
    json_object *l2 = json_object_array_get_idx(latest, 3);
    cr_assert_str_eq(xb_jstr(l2, "config_hash", ""), "l2");
    cr_assert_str_eq(xb_jstr(l2, "status", ""), "timeout");
    json_object_put(latest);
    json_object_put(all);
}

Test(report, tables_md)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *t = read_file("tables.md");
    cr_assert_not_null(t);
    /* opens with the resolved suite and the machine */
    cr_assert(strstr(t, "```yaml\nname: t\nseeds: [1, 2]\n```") != NULL);
    cr_assert(strstr(t, "- CPU: TestCPU (2 logical CPUs)") != NULL);
    cr_assert(strstr(t, "- FMA peak: 10.0 GFLOP/s on one core") != NULL);
    cr_assert(strstr(t, "**warning:** OPENBLAS_CORETYPE is set") != NULL);
    cr_assert(strstr(t, "12 cells recorded") != NULL || strstr(t, "of 12 cells recorded") != NULL);
    /* accuracy: mean ± sample std over seeds, partial seeds marked, failures never 0 */
    cr_assert(strstr(t, "| softmax | 96.0 ± 1.4 |") != NULL, "%s", t);
    cr_assert(strstr(t, "| linear | 50.0 ± 0.0 (1/2) |") != NULL, "%s", t);
    cr_assert(strstr(t, "| gla | — (crashed:SIGSEGV) |") != NULL, "%s", t);
    cr_assert(strstr(t, "| *chance* | 25.0 |") != NULL, "%s", t);
    cr_assert(strstr(t, "11.0") == NULL, "a record of another suite leaked into the tables");
    /* latency: 1 ms at 1e6 FLOPs = 1 GF/s = 10% of a 10 GF/s core; noisy marked */
    cr_assert(strstr(t, "| softmax | 1 ms · 1 GF/s · 10% | 4 ms · 0.25 GF/s · 2.5% | 16 ms · 0.0625 GF/s · 0.62% |") != NULL, "%s", t);
    cr_assert(strstr(t, "| linear | 2 ms* · 0.25 GF/s · 2.5% |") != NULL, "%s", t);
    /* a measurement no record has: no table of dashes */
    cr_assert(strstr(t, "### Latency sweep (random tokens): whole model, forward + backward\n\n(no measurements)") != NULL, "%s", t);
    /* scaling and crossover */
    cr_assert(strstr(t, "| softmax | 2.00 (1.000) | 2.00 (1.000) | — | — |") != NULL, "%s", t);
    cr_assert(strstr(t, "| linear | 1.00 (1.000) | 1.00 (1.000) | N ≈ 512 | N ≈ 512 |") != NULL, "%s", t);
    /* latency records from before model_train was measured: no table of it, no ratio, and
     * with one thread count no thread scaling */
    cr_assert(strstr(t, "### Latency sweep (random tokens): whole model, one training step") == NULL, "%s", t);
    cr_assert(strstr(t, "Training step vs forward") == NULL, "%s", t);
    cr_assert(strstr(t, "## Thread scaling") == NULL, "%s", t);
    /* FLOPs and memory */
    cr_assert(strstr(t, "| softmax | 500 K / 1 M |") != NULL, "%s", t);
    cr_assert(strstr(t, "| softmax | 1.0 / 2.0 |") != NULL, "%s", t);
    /* the failures table */
    cr_assert(strstr(t, "| timeout |") != NULL);
}

Test(report, csv_and_json)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *csv = read_file("results.csv");
    cr_assert_not_null(csv);
    int lines = 0;
    for (const char *p = csv; *p; p++) lines += *p == '\n';
    cr_assert_eq(lines, 1 + 12, "header + 12 records of this suite, got %d", lines);
    cr_assert(strncmp(csv, "kind,task,mixer,status,index,L,", 31) == 0);
    cr_assert(strstr(csv, "train,mqar,gla,crashed:SIGSEGV,") != NULL);
    char *p = xb_path_join(dir, "results.json");
    json_object *res = xb_read_json(p);
    free(p);
    cr_assert_not_null(res);
    json_object *cells = xb_jget(res, "cells");
    cr_assert_eq(json_object_array_length(cells), 12);
    /* raw repetition times stay in cells.jsonl only */
    for (size_t i = 0; i < 12; i++)
        cr_assert_null(xb_jpath(json_object_array_get_idx(cells, i), "latency.model_fwd.raw"));
    json_object *agg = xb_jget(res, "aggregates");
    int found = 0;
    for (size_t i = 0; i < json_object_array_length(agg); i++) {
        json_object *g = json_object_array_get_idx(agg, i);
        if (strcmp(xb_jstr(g, "mixer", ""), "softmax") == 0 && strcmp(xb_jstr(g, "kind", ""), "train") == 0) {
            cr_assert_float_eq(xb_record_num(g, "test_acc.mean"), 0.96, 1e-12);
            cr_assert_eq(xb_jint(xb_jget(g, "test_acc"), "n", 0), 2);
            found = 1;
        }
    }
    cr_assert(found);
    json_object_put(res);
}

Test(report, missing_folder_is_an_error)
{
    cr_assert_neq(xb_report_dir("/tmp/xb-report-does-not-exist", NULL, NULL), 0);
}

Test(report, plot_scripts)
{
    /* gnuplot may or may not be installed: the scripts are written either way */
    FILE *devnull = fopen("/dev/null", "w");
    cr_assert_eq(xb_plot_dir(dir, devnull), 0);
    fclose(devnull);
    const char *gpf = read_file("plots/latency.gp");
    cr_assert_not_null(gpf);
    cr_assert(strstr(gpf, "title 'softmax (k = 2.00)'") != NULL, "%s", gpf);
    cr_assert(strstr(gpf, "title 'linear (k = 1.00)'") != NULL);
    cr_assert(strstr(gpf, "set logscale xy") != NULL);
    cr_assert(strstr(gpf, "set output out.'.svg'") != NULL);
    cr_assert_not_null(read_file("plots/accuracy_mqar.gp"));
    cr_assert_not_null(read_file("plots/pareto_mqar.gp"));
    cr_assert_not_null(read_file("plots/loss_mqar_L64.gp"));
    cr_assert_not_null(read_file("plots/flops.gp"));
    if (access("/usr/bin/gnuplot", X_OK) == 0) {
        cr_assert_not_null(read_file("plots/latency.svg"));
        char *p = xb_path_join(dir, "plots/latency.png");
        cr_assert_eq(access(p, R_OK), 0);
        free(p);
    }
}

/* ---- a latency sweep at 1, 2 and 4 threads ----------------------------------------------- */

static const char *META_THR =
    "{\"suite_name\": \"thr\", \"suite_path\": \"thr.yaml\", \"suite_hash\": \"cccc\","
    " \"suite_canonical\": \"name: thr\\n\", \"started\": \"2024-01-01T00:00:00Z\","
    " \"machine\": {\"fma_peak_gflops_per_core\": 10.0, \"fma_gflops\": [10.0, 19.0, 25.0, 36.0]},"
    " \"threads\": [1, 2, 4], \"cells\": 12}\n";

/* One latency cell: model_fwd (1 MFLOP), mixer_fwd, model_train (3 MFLOP) medians in s; `more`
 * is further latency fields (each starting with a comma) or "". */
#define LATT_MORE(h, mixer, L, thr, fwd, mix, train, train_noisy, more) \
    "{\"kind\":\"latency\",\"task\":null,\"mixer\":\"" mixer "\",\"L\":" #L ",\"seed\":1," \
    "\"threads\":" #thr ",\"status\":\"ok\",\"config_hash\":\"" h "\",\"suite_hash\":\"cccc\"," \
    "\"latency\":{\"batch\":1,\"N\":" #L "," \
    "\"model_fwd\":{\"median\":" fwd ",\"flops\":1e6,\"noisy\":false}," \
    "\"mixer_fwd\":{\"median\":" mix ",\"flops\":5e5,\"noisy\":false}," \
    "\"model_fwdbwd\":{\"median\":" train ",\"flops\":3e6,\"noisy\":false}," \
    "\"model_train\":{\"median\":" train ",\"flops\":3e6,\"noisy\":" train_noisy "}" more "}}\n"
#define LATT(h, mixer, L, thr, fwd, mix, train, train_noisy) \
    LATT_MORE(h, mixer, L, thr, fwd, mix, train, train_noisy, "")
/* The same with the paired timing of a cell above 1 thread (speedup, noisy). */
#define LATTP(h, mixer, L, thr, fwd, mix, train, sp, sp_noisy) \
    LATT_MORE(h, mixer, L, thr, fwd, mix, train, "false", \
              ",\"mixer_fwd_paired\":{\"base_threads\":1,\"pairs\":5,\"speedup\":" sp ",\"noisy\":" sp_noisy ",\"raw\":[1]}")

static const char *CELLS_THR =
    LATT("s1", "softmax", 256, 1, "0.004", "0.003", "0.024", "false")
    LATT("s2", "softmax", 256, 2, "0.002", "0.0015", "0.008", "true")
    LATT("s4", "softmax", 256, 4, "0.001", "0.0012", "0.006", "false")
    LATT("t1", "softmax", 512, 1, "0.016", "0.01", "0.096", "false")
    LATTP("t2", "softmax", 512, 2, "0.008", "0.005", "0.048", "1.93", "false")
    LATTP("t4", "softmax", 512, 4, "0.004", "0.0025", "0.024", "3.456", "true")
    /* linear at 256: no record at 1 thread; at 512: 4 threads timed out */
    LATT("l2", "linear", 256, 2, "0.002", "0.001", "0.006", "false")
    LATT("l4", "linear", 256, 4, "0.001", "0.0005", "0.003", "false")
    LATT("m1", "linear", 512, 1, "0.008", "0.004", "0.024", "false")
    LATT("m2", "linear", 512, 2, "0.005", "0.0025", "0.015", "false")
    "{\"kind\":\"latency\",\"task\":null,\"mixer\":\"linear\",\"L\":512,\"seed\":1,\"threads\":4,"
    "\"status\":\"timeout\",\"config_hash\":\"m4\",\"suite_hash\":\"cccc\"}\n";

static void setup_thr(void)
{
    tmpdir_make(dir, sizeof dir, "xb-report");
    write_file("meta.json", META_THR);
    write_file("cells.jsonl", CELLS_THR);
}

TestSuite(report_threads, .init = setup_thr, .fini = teardown);

Test(report_threads, thread_scaling_and_training_step)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *t = read_file("tables.md");
    cr_assert_not_null(t);
    /* the training step's table, between the whole model's forward + backward and the mixer's */
    const char *tr = strstr(t, "### Latency sweep (random tokens): whole model, one training step "
                               "(forward, backward, AdamW)\n\n");
    cr_assert_not_null(tr, "%s", t);
    cr_assert(strstr(tr, "AdamW's ~10 FLOPs per parameter are not counted") != NULL, "%s", t);
    cr_assert(strstr(t, "whole model, forward + backward\n") < tr, "%s", t);
    cr_assert(strstr(t, "mixer layer alone, forward\n") > tr, "%s", t);
    /* 24 ms for 3 MFLOP = 0.125 GF/s = 1.2% of the 1-thread peak of 10 GF/s */
    cr_assert(strstr(tr, "| softmax | 24 ms · 0.125 GF/s · 1.2% | 96 ms · 0.0312 GF/s · 0.31% |") != NULL, "%s", t);

    /* training step vs forward: 3 · forward median / step median, per thread count */
    const char *t1 = strstr(t, "## Latency, threads = 1\n"), *t2 = strstr(t, "## Latency, threads = 2\n");
    const char *t4 = strstr(t, "## Latency, threads = 4\n");
    cr_assert(t1 && t2 && t4 && t1 < t2 && t2 < t4, "%s", t);
    const char *v1 = strstr(t1, "### Training step vs forward\n"), *v2 = strstr(t2, "### Training step vs forward\n");
    cr_assert(v1 && v1 < t2 && v2 && v2 < t4, "%s", t);
    cr_assert(strstr(v1, "Issue 5's target: ≥ 50%.") != NULL, "%s", t);
    cr_assert(strstr(v1, "| mixer | 256 | 512 |\n|---|---:|---:|\n"
                         "| softmax | 50% | 50% |\n"
                         "| linear | — (missing) | 100% |\n") != NULL, "%s", t);
    cr_assert(strstr(v2, "| softmax | 75%* | 50% |\n"          /* noisy step marked */
                         "| linear | 100% | 100% |\n") != NULL, "%s", t);

    /* thread scaling: once, after the per-thread sections, speedups over 1 thread at 2 and 4 */
    const char *sc = strstr(t, "## Thread scaling\n\n");
    cr_assert_not_null(sc, "%s", t);
    cr_assert(sc > t4, "%s", t);
    cr_assert(strstr(sc + 1, "## Thread scaling") == NULL, "written once");
    cr_assert(strstr(sc, "(T_min = 1), median time at T_min / median time at T, one figure per "
                         "T = 2, 4 in that order.") != NULL, "%s", t);
    cr_assert(strstr(sc, "### whole model, forward\n\n| mixer | 256 | 512 |\n|---|---:|---:|\n"
                         "| softmax | 2× · 4× | 2× · 4× |\n"
                         "| linear | — (missing) | 1.6× · — |\n"
                         "| *FMA peak* | 1.9× · 3.6× | 1.9× · 3.6× |\n") != NULL, "%s", t);
    cr_assert(strstr(sc, "### mixer layer alone, forward\n\n| mixer | 256 | 512 |\n|---|---:|---:|\n"
                         "| softmax | 2× · 2.5× | 2× · 4× |\n"
                         "| linear | — (missing) | 1.6× · — |\n") != NULL, "%s", t);

    /* the paired speedups, where cells have them; "—" elsewhere */
    const char *pt = strstr(sc, "### mixer layer alone, forward, paired\n\n");
    cr_assert_not_null(pt, "%s", t);
    cr_assert(strstr(pt, "one forward at T_min = 1 threads, then one at T, alternately") != NULL, "%s", t);
    cr_assert(strstr(pt, "| mixer | 256 | 512 |\n|---|---:|---:|\n"
                         "| softmax | — · — | 1.93× · 3.46×* |\n"
                         "| linear | — · — | — · — |\n") != NULL, "%s", t);

    /* results.json aggregates and the CSV carry model_train too */
    const char *csv = read_file("results.csv");
    cr_assert(strstr(csv, ",model_train_median,") != NULL);
    cr_assert(strstr(csv, ",mixer_fwd_paired_speedup,") != NULL);
    char *p = xb_path_join(dir, "results.json");
    json_object *res = xb_read_json(p);
    free(p);
    cr_assert_not_null(res);
    json_object *g = json_object_array_get_idx(xb_jget(res, "aggregates"), 0);
    cr_assert_float_eq(xb_record_num(xb_jget(g, "latency.model_train.median"), "median"), 0.024, 1e-12);
    json_object_put(res);
}

/* ---- cells a task leaves out on purpose ---------------------------------------------- */

#define TRT(h, task, mixer, acc) \
    "{\"kind\":\"train\",\"task\":\"" task "\",\"mixer\":\"" mixer "\",\"L\":64,\"seed\":1," \
    "\"threads\":1,\"status\":\"ok\",\"config_hash\":\"" h "\",\"suite_hash\":\"dddd\"," \
    "\"test_acc\":" acc ",\"chance\":0.25,\"final_loss\":0.5,\"train_time_s\":2.0}\n"

static void setup_not_run(void)
{
    tmpdir_make(dir, sizeof dir, "xb-report");
    /* mqar's `mixers:` leaves pool out; linear's mqar cell is simply absent (an interrupted run) */
    write_file("meta.json", "{\"suite_name\": \"nr\", \"suite_hash\": \"dddd\", \"threads\": [1], \"cells\": 6,"
                            " \"not_run\": {\"mqar\": [\"pool\"]}}\n");
    write_file("cells.jsonl", TRT("a", "mqar", "softmax", "0.9") TRT("b", "majority", "softmax", "0.8")
                              TRT("c", "majority", "pool", "0.7") TRT("d", "majority", "linear", "0.6"));
}

TestSuite(report_not_run, .init = setup_not_run, .fini = teardown);

Test(report_not_run, left_out_cells_say_not_run)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *t = read_file("tables.md");
    cr_assert_not_null(t);
    cr_assert(strstr(t, "| mixer | mqar | majority | average |") != NULL, "%s", t);
    cr_assert(strstr(t, "| pool | — (not run) | 70.0 |") != NULL, "%s", t);
    cr_assert(strstr(t, "| linear | — (missing) | 60.0 |") != NULL, "%s", t);
}

/* ---- speedups against the FMA ceiling probed inside the cells --------------------------- */

#define LATP(h, thr, fwd, p0, p1) \
    "{\"kind\":\"latency\",\"task\":null,\"mixer\":\"gla\",\"L\":1024,\"seed\":1," \
    "\"threads\":" #thr ",\"status\":\"ok\",\"config_hash\":\"" h "\",\"suite_hash\":\"eeee\"," \
    "\"latency\":{\"batch\":1,\"N\":1024," \
    "\"model_fwd\":{\"median\":" fwd ",\"flops\":1e6,\"noisy\":false}," \
    "\"mixer_fwd\":{\"median\":" fwd ",\"flops\":5e5,\"noisy\":false}," \
    "\"fma_probe_gflops\":[" p0 "," p1 "]}}\n"

static void setup_probe(void)
{
    tmpdir_make(dir, sizeof dir, "xb-report");
    write_file("meta.json", "{\"suite_name\": \"pr\", \"suite_hash\": \"eeee\", \"threads\": [1, 2], \"cells\": 2}\n");
    /* 1.5x faster on 2 threads while the probed ceiling rose 10 -> 16: 1.6x, so 94% of it */
    write_file("cells.jsonl", LATP("p1", 1, "0.003", "10", "10") LATP("p2", 2, "0.002", "15", "17"));
}

TestSuite(report_probe, .init = setup_probe, .fini = teardown);

Test(report_probe, speedup_against_probed_ceiling)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *t = read_file("tables.md");
    cr_assert_not_null(t);
    const char *sc = strstr(t, "## Thread scaling\n\n");
    cr_assert_not_null(sc, "%s", t);
    cr_assert(strstr(sc, "| gla | 1.5× (94%) |\n| *FMA probe* | 1.6× |\n") != NULL, "%s", t);
    cr_assert(strstr(sc, "*FMA peak*") == NULL, "no ceiling in meta.json: no peak row");
}

/* ---- LRA's parameter rule --------------------------------------------------------------- */

#define TRP(h, task, mixer, seed, acc, params) \
    "{\"kind\":\"train\",\"task\":\"" task "\",\"mixer\":\"" mixer "\",\"L\":64,\"seed\":" #seed "," \
    "\"threads\":1,\"status\":\"ok\",\"config_hash\":\"" h "\",\"suite_hash\":\"ffff\"," \
    "\"test_acc\":" acc ",\"chance\":0.25,\"final_loss\":0.5,\"train_time_s\":2.0,\"params\":" #params "}\n"

static void setup_params(void)
{
    tmpdir_make(dir, sizeof dir, "xb-report");
    write_file("meta.json", "{\"suite_name\": \"pm\", \"suite_hash\": \"ffff\", \"threads\": [1], \"cells\": 10}\n");
    /* majority: gla exactly 10% over softmax (not flagged), mamba one parameter more (flagged);
     * mqar: gla 15% over (flagged), mamba exactly 10%; parity has no softmax (not checked);
     * a crashed cell still has its count and is compared */
    write_file("cells.jsonl",
               TRP("a1", "majority", "softmax", 1, "0.9", 1000) TRP("a2", "majority", "softmax", 2, "0.8", 1000)
               TRP("b1", "majority", "gla", 1, "0.7", 1100) TRP("c1", "majority", "mamba", 1, "0.6", 1101)
               TRP("d1", "mqar", "softmax", 1, "0.5", 2000) TRP("e1", "mqar", "gla", 1, "0.4", 2300)
               TRP("f1", "mqar", "mamba", 1, "0.3", 2200)
               TRP("g1", "parity", "gla", 1, "0.55", 5000) TRP("h1", "parity", "mamba", 1, "0.52", 9000)
               "{\"kind\":\"train\",\"task\":\"parity\",\"mixer\":\"pool\",\"L\":64,\"seed\":1,\"threads\":1,"
               "\"status\":\"timeout\",\"config_hash\":\"i1\",\"suite_hash\":\"ffff\",\"params\":700}\n");
}

TestSuite(report_params, .init = setup_params, .fini = teardown);

Test(report_params, over_ten_percent_flagged_exactly_ten_not)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *t = read_file("tables.md");
    cr_assert_not_null(t);
    cr_assert(strstr(t, "| mixer | majority | mqar | parity | average | params |\n|---|---:|---:|---:|---:|---:|\n") != NULL, "%s", t);
    cr_assert(strstr(t, "| softmax | 85.0 ± 7.1 | 50.0 | — (missing) | — (2 of 3 tasks) | 1k · 2k · — |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "| gla | 70.0 | 40.0 † | 55.0 | 55.0 | 1.1k · 2.3k · 5k |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "| mamba | 60.0 † | 30.0 | 52.0 | 47.3 | 1.1k · 2.2k · 9k |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "| pool | — (missing) | — (missing) | — (timeout) | — (0 of 3 tasks) | — · — · 700 |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "| *chance* | 25.0 | 25.0 | 25.0 | | |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "† more than 10% over softmax's parameter count for the same task, configuration "
                        "and length (LRA's rule; computed from the records): gla on mqar at L = 64 "
                        "(1.150× softmax's 2000); mamba on majority at L = 64 (1.101× softmax's 1000).") != NULL, "%s", t);
    cr_assert(strstr(t, "No softmax count to compare with for parity at L = 64: those columns are not checked.") != NULL, "%s", t);

    /* results.csv: the ratio and the flag per record, empty where nothing is compared */
    const char *csv = read_file("results.csv");
    cr_assert(strstr(csv, ",not_learned,params_vs_softmax,params_over_softmax\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",majority,softmax,,1,0\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",majority,gla,,1.1,0\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",majority,mamba,,1.101,1\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",mqar,gla,,1.15,1\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",mqar,mamba,,1.1,0\n") != NULL, "%s", csv);
    cr_assert(strstr(csv, ",parity,gla,,,\n") != NULL, "%s", csv);

    /* results.json: per aggregate, null where nothing is compared */
    char *p = xb_path_join(dir, "results.json");
    json_object *res = xb_read_json(p);
    free(p);
    cr_assert_not_null(res);
    cr_assert(json_object_get_boolean(xb_jpath(res, "params_rule.softmax_in_run")));
    json_object *agg = xb_jget(res, "aggregates");
    int seen = 0;
    for (size_t i = 0; i < json_object_array_length(agg); i++) {
        json_object *g = json_object_array_get_idx(agg, i);
        const char *task = xb_jstr(g, "task", ""), *mixer = xb_jstr(g, "mixer", "");
        json_object *over = xb_jget(g, "params_over_softmax");
        if (!strcmp(task, "mqar") && !strcmp(mixer, "gla")) {
            cr_assert(over && json_object_get_boolean(over));
            cr_assert_float_eq(xb_record_num(g, "params_vs_softmax"), 1.15, 1e-12);
            cr_assert_eq(xb_jint(g, "params_softmax", 0), 2000);
            seen++;
        }
        if (!strcmp(task, "mqar") && !strcmp(mixer, "mamba")) {
            cr_assert(over && !json_object_get_boolean(over));
            seen++;
        }
        if (!strcmp(task, "parity") && !strcmp(mixer, "gla")) {
            cr_assert_null(over);
            cr_assert_eq(xb_jint(g, "params", 0), 5000);
            seen++;
        }
    }
    cr_assert_eq(seen, 3);
    json_object_put(res);
}

/* The end-of-run summary names the flagged mixers in one line. */
static char *summary_of(void)
{
    json_object *meta = NULL, *recs = NULL;
    cr_assert_eq(xb_report_load(dir, &meta, &recs, NULL, NULL), 0);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    xb_summary_print(meta, recs, dir, NULL, f);
    fclose(f);
    json_object_put(meta);
    json_object_put(recs);
    return text;
}

Test(report_params, summary_line)
{
    char *s = summary_of();
    cr_assert(strstr(s, "\nParameters: more than 10% over softmax's count (LRA's rule, † in the tables): "
                        "gla (up to 1.150×), mamba (up to 1.101×).\n") != NULL, "%s", s);
    free(s);
}

static void setup_params_no_softmax(void)
{
    tmpdir_make(dir, sizeof dir, "xb-report");
    write_file("meta.json", "{\"suite_name\": \"pn\", \"suite_hash\": \"ffff\", \"threads\": [1], \"cells\": 2}\n");
    write_file("cells.jsonl", TRP("b1", "majority", "gla", 1, "0.7", 1100) TRP("c1", "majority", "mamba", 1, "0.6", 5000));
}

TestSuite(report_params_none, .init = setup_params_no_softmax, .fini = teardown);

Test(report_params_none, no_softmax_no_flag_and_a_note)
{
    cr_assert_eq(xb_report_dir(dir, NULL, NULL), 0);
    const char *t = read_file("tables.md");
    cr_assert(strstr(t, "| mamba | 60.0 | 5k |\n") != NULL, "%s", t);
    cr_assert(strstr(t, "†") == NULL, "flagged without softmax:\n%s", t);
    cr_assert(strstr(t, "softmax is not in this run, so no model's count is compared with softmax's and "
                        "nothing is flagged.") != NULL, "%s", t);
    const char *csv = read_file("results.csv");
    cr_assert(strstr(csv, ",majority,mamba,,,\n") != NULL, "%s", csv);
    char *p = xb_path_join(dir, "results.json");
    json_object *res = xb_read_json(p);
    free(p);
    cr_assert(!json_object_get_boolean(xb_jpath(res, "params_rule.softmax_in_run")));
    json_object_put(res);
    char *s = summary_of();
    cr_assert(strstr(s, "\nParameters: softmax is not in this run, so no mixer's count is compared") != NULL, "%s", s);
    free(s);
}
