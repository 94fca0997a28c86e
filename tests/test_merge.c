/* tests/test_merge.c — `xbench merge` (harness/merge.c): folders written by hand through the
 * store writer (union, order, duplicates, missing cells and shards, different suites, what
 * OUT may be, the merged meta.json), and end to end: a tiny suite run whole and as shards 1/2
 * and 2/2, merged, has the same cells with bit-identical accuracy and FLOPs and the same
 * accuracy and FLOP tables. The last test compares the folders `make test-slurm` made (it is
 * skipped unless that target sets XB_SLURM_SINGLE and XB_SLURM_MERGED). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xb.h"
#include "harness/merge.h"
#include "harness/report/report.h"
#include "harness/report/store.h"
#include "mixers/registry.h"
#include "tasks/registry.h"
#include "tests/tmpdir.h"
#include "tests/xbrun.h"

/* ---- folders by hand ------------------------------------------------------------------ */

/* dir/meta.json of suite hash h, shard ("1/2" or NULL), host, listing the cells hashes. */
static void meta(const char *dir, const char *h, const char *shard, const char *host, const char *hashes)
{
    char t[2048];
    snprintf(t, sizeof t,
             "{\"suite_name\":\"t\",\"suite_path\":\"t.yaml\",\"suite_hash\":\"%s\",%s%s%s"
             "\"started\":\"2026-01-01T00:00:0%cZ\",\"finished\":\"2026-01-01T01:00:00Z\","
             "\"threads\":[1],\"git_commit\":\"abc\",\"machine\":{\"host\":\"%s\",\"cpu\":\"X\"},"
             "\"cell_hashes\":[%s],\"warnings\":[]}",
             h, shard ? "\"shard\":\"" : "", shard ? shard : "", shard ? "\"," : "",
             shard ? shard[0] : '0', host, hashes);
    tmpdir_write(dir, "meta.json", t);
}

static void rec(const char *dir, int index, const char *hash, const char *suite, const char *mixer,
                const char *status, double acc, const char *finished)
{
    char t[1024];
    snprintf(t, sizeof t,
             "{\"v\":1,\"index\":%d,\"kind\":\"train\",\"task\":\"majority\",\"mixer\":\"%s\",\"L\":16,"
             "\"seed\":1,\"threads\":1,\"causal\":false,\"status\":\"%s\",\"config_hash\":\"%s\","
             "\"suite_hash\":\"%s\",\"test_acc\":%.17g,\"flops_model\":1000,\"chance\":0.25,"
             "\"finished\":\"%s\"}", index, mixer, status, hash, suite, acc, finished);
    xb_store st;
    cr_assert_eq(xb_store_open(&st, dir), 0);
    json_object *o = json_tokener_parse(t);
    cr_assert_not_null(o);
    cr_assert_eq(xb_store_append(&st, o), 0);
    json_object_put(o);
    xb_store_close(&st);
}

static char base[64], errbuf[1 << 16];

static void setup(void) { tmpdir_make(base, sizeof base, "xbench-merge"); }
static void teardown(void) { tmpdir_remove(base); }

static char *path(const char *name)
{
    static char p[64][160];
    static int k;
    k = (k + 1) % 64;
    snprintf(p[k], sizeof p[k], "%s/%s", base, name);
    return p[k];
}

/* Two shards of four cells a0..a3 (1/2: a0 a2, 2/2: a1 a3), suite hash S. */
static void two_shards(void)
{
    meta(path("s1"), "S", "1/2", "node1", "\"a0\",\"a2\"");
    rec(path("s1"), 0, "a0", "S", "pool", "ok", 0.5, "2026-01-01T00:10:00Z");
    rec(path("s1"), 2, "a2", "S", "gla", "ok", 0.75, "2026-01-01T00:20:00Z");
    meta(path("s2"), "S", "2/2", "node1", "\"a1\",\"a3\"");
    rec(path("s2"), 1, "a1", "S", "softmax", "ok", 0.625, "2026-01-01T00:11:00Z");
    rec(path("s2"), 3, "a3", "S", "linear", "ok", 0.25, "2026-01-01T00:21:00Z");
}

static int merge(const char *const *dirs, int n, const char *out)
{
    FILE *e = fmemopen(errbuf, sizeof errbuf, "w");
    xb_merge_opts o = { .no_plots = 1, .quiet = 1, .err = e };
    int rc = xb_merge(dirs, n, out, &o);
    fclose(e);
    return rc;
}

TestSuite(merge, .init = setup, .fini = teardown, .timeout = 60);

Test(merge, joins_shards_in_cell_order)
{
    two_shards();
    const char *dirs[] = { path("s2"), path("s1") };
    cr_assert_eq(merge(dirs, 2, path("out")), XB_MERGE_OK, "%s", errbuf);
    json_object *recs = NULL;
    cr_assert_eq(xb_store_load(path("out"), &recs, NULL), 0);
    cr_assert_eq(json_object_array_length(recs), 4);
    for (int i = 0; i < 4; i++) {
        json_object *r = json_object_array_get_idx(recs, (size_t)i);
        cr_expect_eq(xb_jint(r, "index", -1), i, "records in cell order");
    }
    cr_expect_eq(xb_jnum(json_object_array_get_idx(recs, 1), "test_acc", 0), 0.625);
    json_object_put(recs);
    json_object *m = xb_read_json(path("out/meta.json"));
    cr_assert_not_null(m);
    cr_expect_null(xb_jget(m, "shard"), "the merged folder is no shard");
    cr_expect_eq(xb_jint(m, "cells", 0), 4);
    cr_expect_eq(json_object_array_length(xb_jget(m, "cell_hashes")), 4);
    cr_expect_str_eq(xb_jstr(m, "suite_hash", ""), "S");
    cr_expect_str_eq(xb_jstr(m, "started", ""), "2026-01-01T00:00:01Z", "the earliest start");
    json_object *f = xb_jget(xb_jget(m, "merged"), "folders");
    cr_assert_eq(json_object_array_length(f), 2);
    cr_expect_str_eq(xb_jstr(json_object_array_get_idx(f, 0), "shard", ""), "2/2");
    cr_expect_str_eq(xb_jstr(json_object_array_get_idx(f, 0), "host", ""), "node1");
    cr_expect_eq(xb_jint(json_object_array_get_idx(f, 1), "records", 0), 2);
    cr_expect_eq(json_object_array_length(xb_jget(m, "warnings")), 0, "one host, one build");
    json_object_put(m);
    char *tables = tmpdir_read(path("out"), "tables.md");
    cr_assert_not_null(tables, "no tables.md");
    cr_expect(strstr(tables, "4 of 4 cells recorded, 4 ok") != NULL, "%s", tables);
    cr_expect_not_null(tmpdir_read(path("out"), "results.csv"));

    /* merging again into the same folder rewrites it */
    cr_assert_eq(merge(dirs, 2, path("out")), XB_MERGE_OK, "%s", errbuf);
}

Test(merge, refuses_different_suites)
{
    two_shards();
    meta(path("other"), "T", "2/2", "node1", "\"b1\"");
    rec(path("other"), 1, "b1", "T", "softmax", "ok", 0.5, "2026-01-01T00:11:00Z");
    const char *dirs[] = { path("s1"), path("other"), path("s2") };
    cr_assert_eq(merge(dirs, 3, path("out")), XB_EINVAL);
    cr_expect(strstr(errbuf, "different suites") != NULL, "%s", errbuf);
    char line[400];
    snprintf(line, sizeof line, "hash S): %s %s\n", path("s1"), path("s2"));
    cr_expect(strstr(errbuf, line) != NULL, "names the folders of each suite:\n%s", errbuf);
    snprintf(line, sizeof line, "hash T): %s\n", path("other"));
    cr_expect(strstr(errbuf, line) != NULL, "%s", errbuf);
    struct stat st;
    cr_expect_neq(stat(path("out"), &st), 0, "nothing written");
}

Test(merge, duplicates_keep_one_record_deterministically)
{
    two_shards();
    /* a2 again in shard 2: failed there; then a1 again in shard 1, both ok, finished later */
    rec(path("s2"), 2, "a2", "S", "gla", "timeout", 0, "2026-01-01T00:30:00Z");
    rec(path("s1"), 1, "a1", "S", "softmax", "ok", 0.875, "2026-01-01T00:40:00Z");
    const char *ab[] = { path("s1"), path("s2") }, *ba[] = { path("s2"), path("s1") };
    for (int order = 0; order < 2; order++) {
        const char *out = order ? path("out2") : path("out1");
        cr_assert_eq(merge(order ? ba : ab, 2, out), XB_MERGE_OK, "%s", errbuf);
        cr_expect(strstr(errbuf, "warning: duplicate cell a2") != NULL, "%s", errbuf);
        cr_expect(strstr(errbuf, "warning: duplicate cell a1") != NULL, "%s", errbuf);
        json_object *recs = NULL;
        cr_assert_eq(xb_store_load(out, &recs, NULL), 0);
        cr_assert_eq(json_object_array_length(recs), 4, "each cell once");
        json_object *a1 = json_object_array_get_idx(recs, 1), *a2 = json_object_array_get_idx(recs, 2);
        cr_expect_str_eq(xb_jstr(a2, "status", ""), "ok", "the ok record wins over a failed one");
        cr_expect_eq(xb_jnum(a1, "test_acc", 0), 0.875, "of two ok records, the later one");
        json_object_put(recs);
    }
}

Test(merge, reports_missing_cells_and_shards)
{
    two_shards();
    const char *dirs[] = { path("s1") };
    cr_assert_eq(merge(dirs, 1, path("out")), XB_MERGE_INCOMPLETE);
    cr_expect(strstr(errbuf, "missing: shard 2/2") != NULL, "%s", errbuf);
    /* a cell the shard listed but never recorded (killed mid-run) */
    meta(path("s3"), "S", "1/2", "node1", "\"a0\",\"a2\",\"a4\"");
    rec(path("s3"), 0, "a0", "S", "pool", "ok", 0.5, "2026-01-01T00:10:00Z");
    rec(path("s3"), 2, "a2", "S", "gla", "ok", 0.75, "2026-01-01T00:20:00Z");
    const char *d2[] = { path("s3"), path("s2") };
    cr_assert_eq(merge(d2, 2, path("out3")), XB_MERGE_INCOMPLETE);
    cr_expect(strstr(errbuf, "missing: cell a4") != NULL, "%s", errbuf);
    json_object *m = xb_read_json(path("out3/meta.json"));
    cr_expect_eq(xb_jint(m, "cells", 0), 5);
    json_object_put(m);
    cr_expect(strstr(tmpdir_read(path("out3"), "tables.md"), "4 of 5 cells recorded") != NULL);
}

Test(merge, cells_not_ok_exit_1)
{
    two_shards();
    rec(path("s2"), 3, "a3", "S", "linear", "oom", 0, "2026-01-01T00:30:00Z");
    const char *dirs[] = { path("s1"), path("s2") };
    cr_assert_eq(merge(dirs, 2, path("out")), XB_MERGE_INCOMPLETE);
}

Test(merge, bad_inputs_and_outputs)
{
    two_shards();
    const char *twice[] = { path("s1"), path("s1") };
    cr_expect_eq(merge(twice, 2, path("out")), XB_EINVAL);
    cr_expect(strstr(errbuf, "same folder") != NULL, "%s", errbuf);
    const char *into_input[] = { path("s1"), path("s2") };
    cr_expect_eq(merge(into_input, 2, path("s2")), XB_EINVAL);
    mkdir(path("empty"), 0755);
    const char *not_results[] = { path("s1"), path("empty") };
    cr_expect_lt(merge(not_results, 2, path("out")), 0);
    const char *absent[] = { path("s1"), path("nope") };
    cr_expect_lt(merge(absent, 2, path("out")), 0);
    /* a folder a run wrote is never overwritten */
    meta(path("run"), "S", NULL, "node1", "\"a0\"");
    rec(path("run"), 0, "a0", "S", "pool", "ok", 0.5, "2026-01-01T00:10:00Z");
    cr_expect_eq(merge(into_input, 2, path("run")), XB_EINVAL);
    cr_expect(strstr(errbuf, "did not write") != NULL, "%s", errbuf);
    /* cells.jsonl without meta.json: the suite is unknown */
    mkdir(path("nometa"), 0755);
    rec(path("nometa"), 0, "a0", "S", "pool", "ok", 0.5, "2026-01-01T00:10:00Z");
    const char *nometa[] = { path("nometa"), path("s2") };
    cr_expect_lt(merge(nometa, 2, path("out")), 0);
    cr_expect(strstr(errbuf, "meta.json") != NULL, "%s", errbuf);
}

Test(merge, machines_of_each_shard)
{
    meta(path("s1"), "S", "1/2", "node1", "\"a0\"");
    rec(path("s1"), 0, "a0", "S", "pool", "ok", 0.5, "2026-01-01T00:10:00Z");
    meta(path("s2"), "S", "2/2", "node7", "\"a1\"");
    rec(path("s2"), 1, "a1", "S", "softmax", "ok", 0.5, "2026-01-01T00:10:00Z");
    const char *dirs[] = { path("s1"), path("s2") };
    cr_assert_eq(merge(dirs, 2, path("out")), XB_MERGE_OK, "%s", errbuf);
    json_object *m = xb_read_json(path("out/meta.json"));
    json_object *f = xb_jget(xb_jget(m, "merged"), "folders");
    cr_expect_str_eq(xb_jstr(xb_jget(json_object_array_get_idx(f, 1), "machine"), "host", ""), "node7");
    json_object *w = xb_jget(m, "warnings");
    cr_assert_eq(json_object_array_length(w), 1);
    cr_expect(strstr(json_object_get_string(json_object_array_get_idx(w, 0)), "2 hosts (node1, node7)") != NULL,
              "%s", json_object_get_string(json_object_array_get_idx(w, 0)));
    json_object_put(m);
    cr_expect(strstr(tmpdir_read(path("out"), "tables.md"), "2 hosts (node1, node7)") != NULL,
              "the tables say the latencies come from two machines");
}

/* ---- two real folders compared -------------------------------------------------------- */

/* The text of a tables.md section: from its heading to the next heading of level 2. */
static char *section(const char *md, const char *heading)
{
    const char *p = strstr(md, heading);
    cr_assert_not_null(p, "no '%s' in tables.md", heading);
    const char *e = strstr(p + strlen(heading), "\n## ");
    return strndup(p, e ? (size_t)(e - p) : strlen(p));
}

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* The values of the named columns of results.csv, one line per row, sorted. */
static char *csv_columns(const char *dir, const char *const *cols, int nc)
{
    char *text = strdup(tmpdir_read(dir, "results.csv"));
    cr_assert_not_null(text);
    char *save, *line = strtok_r(text, "\n", &save);
    int idx[32], nh = 0;
    char *hdr = strdup(line), *hs, *h = strtok_r(hdr, ",", &hs);
    for (int col = 0; h; h = strtok_r(NULL, ",", &hs), col++)
        for (int c = 0; c < nc; c++)
            if (!strcmp(h, cols[c])) { idx[c] = col; nh++; }
    cr_assert(nc <= 32);
    cr_assert_eq(nh, nc, "results.csv lacks a column");
    char **rows = NULL;
    int n = 0;
    for (line = strtok_r(NULL, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *field[128];
        int nf = 0, q = 0;
        field[nf++] = line;
        for (char *p = line; *p && nf < 128; p++) {
            if (*p == '"') q = !q;
            else if (*p == ',' && !q) { *p = 0; field[nf++] = p + 1; }
        }
        char row[1024] = "";
        for (int c = 0; c < nc; c++) {
            strncat(row, idx[c] < nf ? field[idx[c]] : "?", sizeof row - strlen(row) - 2);
            strcat(row, ",");
        }
        rows = realloc(rows, (size_t)(n + 1) * sizeof *rows);
        rows[n++] = strdup(row);
    }
    qsort(rows, (size_t)n, sizeof *rows, by_str);
    size_t len = 1;
    for (int i = 0; i < n; i++) len += strlen(rows[i]) + 1;
    char *out = calloc(len, 1);
    for (int i = 0; i < n; i++) {
        strcat(out, rows[i]);
        strcat(out, "\n");
        free(rows[i]);
    }
    free(rows);
    free(hdr);
    free(text);
    return out;
}

static int same_num(json_object *a, json_object *b, const char *field)
{
    double x = xb_record_num(a, field), y = xb_record_num(b, field);
    return (isnan(x) && isnan(y)) || memcmp(&x, &y, sizeof x) == 0;
}

/* single and merged hold the same cells, with bit-identical accuracy and FLOPs, and the
 * same accuracy and FLOP tables and results.csv columns. Returns the number of cells. */
static int same_results(const char *single, const char *merged)
{
    json_object *ma, *ra, *mb, *rb;
    cr_assert_eq(xb_report_load(single, &ma, &ra, stderr, NULL), 0);
    cr_assert_eq(xb_report_load(merged, &mb, &rb, stderr, NULL), 0);
    size_t n = json_object_array_length(ra);
    cr_assert_eq(json_object_array_length(rb), n, "%zu cells on one machine, %zu merged", n,
                 json_object_array_length(rb));
    json_object *by = json_object_new_object();
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(rb, i);
        json_object_object_add(by, xb_jstr(r, "config_hash", "?"), json_object_get(r));
    }
    static const char *const fields[] = { "test_acc", "val_acc", "final_loss", "chance", "params",
                                          "flops_mixer", "flops_model", "bytes_analytic", "steps" };
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(ra, i);
        const char *h = xb_jstr(a, "config_hash", "?");
        json_object *b = xb_jget(by, h);
        cr_assert_not_null(b, "cell %s (%s %s L=%d) is not in the merged folder", h, xb_jstr(a, "kind", ""),
                           xb_jstr(a, "mixer", ""), xb_jint(a, "L", 0));
        cr_expect_str_eq(xb_jstr(b, "status", ""), xb_jstr(a, "status", ""), "cell %s", h);
        for (size_t f = 0; f < sizeof fields / sizeof *fields; f++)
            cr_expect(same_num(a, b, fields[f]), "cell %s (%s %s L=%d): %s %.17g on one machine, %.17g merged", h,
                      xb_jstr(a, "kind", ""), xb_jstr(a, "mixer", ""), xb_jint(a, "L", 0), fields[f],
                      xb_record_num(a, fields[f]), xb_record_num(b, fields[f]));
    }
    cr_expect_eq(xb_jint(mb, "cells", -1), xb_jint(ma, "cells", -2), "the merged meta counts every cell");
    json_object_put(by);
    json_object_put(ma);
    json_object_put(ra);
    json_object_put(mb);
    json_object_put(rb);

    char *ta = strdup(tmpdir_read(single, "tables.md")), *tb = strdup(tmpdir_read(merged, "tables.md"));
    static const char *const sections[] = { "## Test accuracy", "## FLOPs" };
    for (size_t i = 0; i < 2; i++) {
        char *sa = section(ta, sections[i]), *sb = section(tb, sections[i]);
        cr_expect_str_eq(sb, sa, "'%s' differs:\n--- one machine\n%s\n--- merged\n%s", sections[i], sa, sb);
        free(sa);
        free(sb);
    }
    free(ta);
    free(tb);
    static const char *const cols[] = { "config_hash", "kind", "task", "mixer", "status", "index", "L", "seed",
                                        "threads", "test_acc", "val_acc", "chance", "final_loss", "steps",
                                        "params", "flops_mixer", "flops_model" };
    int nc = (int)(sizeof cols / sizeof *cols);
    char *ca = csv_columns(single, cols, nc), *cb = csv_columns(merged, cols, nc);
    cr_expect_str_eq(cb, ca, "results.csv differs in accuracy or FLOP columns:\n--- one machine\n%s--- merged\n%s", ca, cb);
    free(ca);
    free(cb);
    return (int)n;
}

Test(merge, sharded_run_equals_one_machine, .timeout = 240)
{
    if (!xb_mixer_find("pool") || !xb_mixer_find("softmax") || !xb_task_find("majority"))
        cr_skip_test("pool, softmax or majority not registered");
    tmpdir_write(base, "s.yaml",
                 "model: {dim: 16, layers: 1, heads: 1}\ntrain: {steps: 8, batch: 4}\nseeds: [1, 2]\n"
                 "latency: {lengths: [64], min_reps: 2, min_time_s: 0, warmup: 0}\nmixers: [pool, softmax]\n"
                 "tasks:\n  - name: majority\n    lengths: [16, 32]\n"
                 "    options: {train_examples: 64, val_examples: 16, test_examples: 16}\n");
    const char *suite = strdup(path("s.yaml"));
    const char *dirs[] = { "whole", "1/2", "2/2" };
    char out[3][160];
    for (int i = 0; i < 3; i++) {
        snprintf(out[i], sizeof out[i], "%s/run%d", base, i);
        result r = i ? RUN("run", suite, "-o", out[i], "--shard", dirs[i], "--threads", "1", "--no-plots",
                           "--quiet", "--machine", "none")
                     : RUN("run", suite, "-o", out[i], "--threads", "1", "--no-plots", "--quiet", "--machine", "none");
        cr_assert_eq(r.code, 0, "run %s: %s", dirs[i], r.err);
        done(&r);
    }
    char merged[160];
    snprintf(merged, sizeof merged, "%s/merged", base);
    result r = RUN("merge", out[1], out[2], "-o", merged, "--no-plots");
    cr_assert_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "10 of 10 cells recorded, 10 ok, 0 not ok, 0 missing, 0 duplicates") != NULL, "%s",
              r.out);
    done(&r);
    cr_expect_eq(same_results(out[0], merged), 10);

    /* the command's exit codes: a shard alone is incomplete (1); two suites are refused (2) */
    char part[160];
    snprintf(part, sizeof part, "%s/part", base);
    r = RUN("merge", out[1], "-o", part, "--no-plots");
    cr_expect_eq(r.code, 1, "%s", r.err);
    cr_expect(strstr(r.err, "missing: cell") != NULL, "%s", r.err);
    done(&r);
    tmpdir_write(base, "t.yaml",
                 "model: {dim: 16, layers: 1, heads: 1}\ntrain: {steps: 3, batch: 4}\n"
                 "latency: {lengths: [64], min_reps: 2, min_time_s: 0, warmup: 0}\nmixers: [pool]\n"
                 "tasks:\n  - name: majority\n    lengths: [16]\n"
                 "    options: {train_examples: 64, val_examples: 16, test_examples: 16}\n");
    char other[160];
    snprintf(other, sizeof other, "%s/other", base);
    r = RUN("run", path("t.yaml"), "-o", other, "--no-plots", "--quiet", "--machine", "none");
    cr_assert_eq(r.code, 0, "%s", r.err);
    done(&r);
    r = RUN("merge", out[1], other, "-o", part, "--no-plots");
    cr_expect_eq(r.code, 2, "%s", r.err);
    cr_expect(strstr(r.err, "different suites") != NULL, "%s", r.err);
    done(&r);
    r = RUN("merge", out[1]);
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "expected -o OUT") != NULL, "%s", r.err);
    done(&r);
    r = RUN("merge", "--help");
    cr_expect_eq(r.code, 0);
    done(&r);
    free((char *)suite);
}

/* `make test-slurm`: the job array's merged folder against a run on one machine. */
Test(slurm_cluster, merged_equals_one_machine)
{
    const char *single = getenv("XB_SLURM_SINGLE"), *merged = getenv("XB_SLURM_MERGED");
    if (!single || !merged) cr_skip_test("run by `make test-slurm` (XB_SLURM_SINGLE, XB_SLURM_MERGED)");
    int n = same_results(single, merged);
    cr_expect_gt(n, 0);
    json_object *m = xb_read_json(xb_path_join(merged, "meta.json"));
    cr_assert_not_null(m);
    json_object *f = xb_jget(xb_jget(m, "merged"), "folders");
    int shards = getenv("XB_SLURM_SHARDS") ? atoi(getenv("XB_SLURM_SHARDS")) : 2;
    cr_assert_eq((int)json_object_array_length(f), shards, "one folder per array task");
    for (int k = 1; k <= shards; k++) {
        char want[32];
        snprintf(want, sizeof want, "%d/%d", k, shards);
        cr_expect_str_eq(xb_jstr(json_object_array_get_idx(f, (size_t)k - 1), "shard", ""), want);
    }
    json_object_put(m);
    printf("slurm: %d cells of %s match %s (accuracy and FLOPs bit for bit)\n", n, merged, single);
}
