/* tests/test_summary.c — the end-of-run summary (harness/report/summary.c): accuracy tables and
 * one verdict line per mixer (most accurate, fastest, Pareto front), not the whole tables.md;
 * the share of timings flagged noisy; and `xbench run` printing it with the version and commit. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/summary.h"
#include "tests/tmpdir.h"
#include "tests/xbrun.h"

/* A training record and a latency-only record of one mixer. */
static void add(json_object *a, const char *mixer, double acc, double fwd_s, int noisy)
{
    char t[1024];
    snprintf(t, sizeof t,
             "{\"kind\":\"train\",\"task\":\"majority\",\"mixer\":\"%s\",\"L\":64,\"seed\":1,\"threads\":1,"
             "\"status\":\"ok\",\"test_acc\":%g,\"chance\":0.3}", mixer, acc);
    json_object_array_add(a, json_tokener_parse(t));
    snprintf(t, sizeof t,
             "{\"kind\":\"latency\",\"mixer\":\"%s\",\"L\":1024,\"seed\":1,\"threads\":1,\"status\":\"ok\","
             "\"latency\":{\"model_fwd\":{\"median\":%g,\"noisy\":%s}}}", mixer, fwd_s, noisy ? "true" : "false");
    json_object_array_add(a, json_tokener_parse(t));
}

static char *summary(json_object *recs)
{
    char *s = NULL;
    size_t n;
    FILE *f = open_memstream(&s, &n);
    json_object *meta = json_tokener_parse("{\"xbench_version\":\"9.9\",\"git_commit\":\"abc123\",\"suite_name\":\"t\"}");
    xb_summary_print(meta, recs, "results/t", NULL, f);
    fclose(f);
    json_object_put(meta);
    return s;
}

Test(summary, verdicts_name_the_best_and_the_front)
{
    json_object *a = json_object_new_array();
    add(a, "softmax", 0.95, 2e-3, 0);   /* most accurate: front */
    add(a, "pool", 0.60, 1e-5, 1);      /* fastest: front */
    add(a, "gla", 0.80, 5e-4, 0);       /* between: front */
    add(a, "slow", 0.70, 3e-3, 0);      /* worse than softmax on both: not on the front */
    char *s = summary(a);
    cr_assert(strstr(s, "xbench 9.9 (commit abc123) · suite t · 8 cells, 8 ok, 0 not ok · results/t/") != NULL, "%s", s);
    cr_assert(strstr(s, "## Test accuracy (%)") != NULL, "%s", s);
    cr_assert(strstr(s, "## Latency") == NULL, "the summary repeats tables.md:\n%s", s);
    cr_assert(strstr(s, "| softmax | 95.0 % | 2 ms | most accurate, Pareto front |") != NULL, "%s", s);
    cr_assert(strstr(s, "| pool | 60.0 % | 10.0 µs | fastest, Pareto front |") != NULL, "%s", s);
    cr_assert(strstr(s, "| gla | 80.0 % | 500.0 µs | Pareto front |") != NULL, "%s", s);
    cr_assert(strstr(s, "| slow | 70.0 % | 3 ms |  |") != NULL, "%s", s);
    free(s);
    int noisy, total;
    xb_summary_noisy(a, &noisy, &total);
    cr_expect_eq(total, 4);
    cr_expect_eq(noisy, 1);
    json_object_put(a);
}

Test(summary, run_prints_it_not_the_tables, .timeout = 120)
{
    char dir[64], suite[128], out[128];
    tmpdir_make(dir, sizeof dir, "xbench-summary");
    tmpdir_write(dir, "s.yaml",
                 "model: {dim: 16, layers: 1, heads: 1}\ntrain: {steps: 4, batch: 4}\n"
                 "latency: {lengths: [64], min_reps: 2, min_time_s: 0, warmup: 0}\nmixers: [pool, softmax]\n"
                 "tasks:\n  - name: majority\n    lengths: [16]\n"
                 "    options: {train_examples: 64, val_examples: 16, test_examples: 16}\n");
    snprintf(suite, sizeof suite, "%s/s.yaml", dir);
    snprintf(out, sizeof out, "%s/run", dir);
    result r = RUN("run", suite, "-o", out, "--no-plots", "--machine", "none");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "## Verdict per mixer") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "(commit ") != NULL, "%s", r.out);
    cr_expect(strstr(r.out, "## Latency") == NULL, "run printed tables.md:\n%s", r.out);
    cr_expect(strstr(r.err, "every table in ") != NULL, "%s", r.err);
    char *meta = tmpdir_read(out, "meta.json");
    cr_expect(strstr(meta, "\"git_commit\"") != NULL && strstr(meta, "\"xbench_version\"") != NULL, "%s", meta);
    done(&r);
    /* report --summary prints the same summary for a folder (one xbench merge made, say) */
    result s = RUN("report", out, "--summary");
    cr_assert_eq(s.code, 0, "%s", s.err);
    cr_expect(strstr(s.out, "## Verdict per mixer") != NULL, "%s", s.out);
    cr_expect(strstr(s.out, "## Latency") == NULL, "report --summary printed tables.md:\n%s", s.out);
    done(&s);
    tmpdir_remove(dir);
}
