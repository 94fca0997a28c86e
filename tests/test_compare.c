/* tests/test_compare.c — `xbench compare` (harness/report/compare.c) on results folders written
 * here with the store writer: a planted 30 % slowdown and a planted accuracy drop of 0.1 fail
 * (exit 1); two draws of the same distribution pass (exit 0); a slowdown the U test cannot
 * confirm, one measured with fewer than 9 repetitions, one where a side is flagged noisy, one
 * inside the run-to-run spread a repeat of the baseline measured, and any latency of folders
 * measured in different boots pass; a lost cell, a cell that did not end ok and two folders
 * without a common cell fail; cells match by configuration (labels), never across
 * configurations; bad folders, files and options exit 2 with the file named. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/rng.h"
#include "harness/report/compare.h"
#include "harness/report/store.h"
#include "tests/tmpdir.h"

extern char **environ;

static char root[64];

static void setup(void)
{
    tmpdir_make(root, sizeof root, "xbench-compare");
}

static void teardown(void) { tmpdir_remove(root); }

TestSuite(compare, .init = setup, .fini = teardown);

/* ---- writing folders ----------------------------------------------------------------- */

typedef struct cellspec {
    const char *task;          /* NULL: a latency-only cell */
    const char *mixer;
    int L, seed;
    const char *status;
    double acc;                /* test_acc (train cells) */
    const double *raw;         /* model_fwd repetition times, seconds */
    int n;
    const char *hash;          /* config_hash */
    const char *config;        /* the record's "config" as JSON text, or NULL */
    int noisy;                 /* model_fwd flagged noisy */
} cellspec;

static json_object *record(const cellspec *c)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "v", json_object_new_int(1));
    json_object_object_add(r, "kind", json_object_new_string(c->task ? "train" : "latency"));
    json_object_object_add(r, "task", c->task ? json_object_new_string(c->task) : NULL);
    json_object_object_add(r, "mixer", json_object_new_string(c->mixer));
    json_object_object_add(r, "L", json_object_new_int(c->L));
    json_object_object_add(r, "seed", json_object_new_int(c->seed));
    json_object_object_add(r, "threads", json_object_new_int(1));
    json_object_object_add(r, "causal", json_object_new_boolean(1));
    json_object_object_add(r, "status", json_object_new_string(c->status ? c->status : "ok"));
    json_object_object_add(r, "config_hash", json_object_new_string(c->hash));
    json_object_object_add(r, "suite_hash", json_object_new_string("s"));
    if (c->config) json_object_object_add(r, "config", json_tokener_parse(c->config));
    int ok = !c->status || strcmp(c->status, "ok") == 0;
    if (c->task) {
        json_object_object_add(r, "test_acc", ok ? json_object_new_double(c->acc) : NULL);
        json_object_object_add(r, "chance", json_object_new_double(0.1));
    }
    if (ok && c->raw) {
        json_object *raw = json_object_new_array();
        for (int i = 0; i < c->n; i++) json_object_array_add(raw, json_object_new_double(c->raw[i]));
        json_object *m = json_object_new_object();
        json_object_object_add(m, "reps", json_object_new_int(c->n));
        json_object_object_add(m, "raw", raw);
        json_object_object_add(m, "noisy", json_object_new_boolean(c->noisy));
        json_object *lat = json_object_new_object();
        json_object_object_add(lat, "model_fwd", m);
        json_object_object_add(r, "latency", lat);
    }
    return r;
}

/* <root>/<name>/cells.jsonl with the given cells, through the store writer, and a meta.json
 * that says which boot measured them. */
static char *folder_on(const char *name, const char *boot, const cellspec *cells, int n)
{
    char *dir = xb_path_join(root, name);
    char meta[256];
    snprintf(meta, sizeof meta, "{\"suite_hash\": \"s\", \"machine\": {\"cpu\": \"test cpu\", "
             "\"boot_id\": \"%s\"}}\n", boot);
    tmpdir_write(dir, "meta.json", meta);
    xb_store st;
    cr_assert_eq(xb_store_open(&st, dir), 0);
    for (int i = 0; i < n; i++) {
        json_object *r = record(&cells[i]);
        cr_assert_eq(xb_store_append(&st, r), 0);
        json_object_put(r);
    }
    xb_store_close(&st);
    return dir;
}

static char *folder(const char *name, const cellspec *cells, int n)
{
    return folder_on(name, "boot-1", cells, n);
}

/* n draws of mean · (1 + cv · N(0,1)) from a fixed stream. */
static double *draws(uint64_t seed, int n, double mean, double cv)
{
    xb_rng r;
    xb_rng_seed(&r, seed);
    double *x = malloc((size_t)n * sizeof *x);
    for (int i = 0; i < n; i++) x[i] = mean * (1 + cv * xb_rng_normal(&r));
    return x;
}

static double *scaled(const double *x, int n, double f)
{
    double *y = malloc((size_t)n * sizeof *y);
    for (int i = 0; i < n; i++) y[i] = x[i] * f;
    return y;
}

typedef struct outcome { int rc; char *out, *err; } outcome;

static outcome compare(const char *a, const char *b, const xb_compare_opts *o)
{
    xb_compare_opts d = { 0.10, 0.02, 0.05, "model_fwd", XB_LATENCY_SAME_MACHINE, NULL };
    outcome r = { 0, NULL, NULL };
    size_t no, ne;
    FILE *fo = open_memstream(&r.out, &no), *fe = open_memstream(&r.err, &ne);
    r.rc = xb_compare_dirs(a, b, o ? o : &d, fo, fe);
    fclose(fo);
    fclose(fe);
    return r;
}

static void release(outcome *r)
{
    free(r->out);
    free(r->err);
}

/* ---- verdicts ------------------------------------------------------------------------ */

/* The verdict row of cell key for `what`, or NULL. */
static const char *row(const char *out, const char *key, const char *what)
{
    char pre[400];
    snprintf(pre, sizeof pre, "| %s | %s |", key, what);
    return strstr(out, pre);
}

/* The row holds verdict v (bold or not) before its end of line. */
static int row_says(const char *out, const char *key, const char *what, const char *v)
{
    const char *r = row(out, key, what);
    if (!r) return 0;
    const char *e = strchr(r, '\n');
    char pat[64];
    snprintf(pat, sizeof pat, "| %s |", v);
    const char *f = strstr(r, pat);
    snprintf(pat, sizeof pat, "| **%s** |", v);
    const char *g = strstr(r, pat);
    return (f && (!e || f < e)) || (g && (!e || g < e));
}

Test(compare, planted_slowdown_is_a_regression)
{
    double *b1 = draws(1, 15, 100e-6, 0.02), *b2 = draws(2, 15, 50e-6, 0.02);
    double *n1 = scaled(b1, 15, 1.30);
    double *n2 = draws(3, 15, 50e-6, 0.02);    /* unchanged cell: same distribution */
    cellspec base[] = { { NULL, "softmax", 256, 1, NULL, 0, b1, 15, "a", NULL, 0 },
                        { NULL, "linear", 256, 1, NULL, 0, b2, 15, "b", NULL, 0 } };
    cellspec nw[] = { { NULL, "softmax", 256, 1, NULL, 0, n1, 15, "a", NULL, 0 },
                      { NULL, "linear", 256, 1, NULL, 0, n2, 15, "b", NULL, 0 } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s\n%s", r.out, r.err);
    cr_assert(row_says(r.out, "latency/softmax/L:256/causal/threads:1", "latency model_fwd", "regression"), "%s", r.out);
    cr_assert(strstr(r.out, "+30.0%") != NULL, "%s", r.out);
    cr_assert(row_says(r.out, "latency/linear/L:256/causal/threads:1", "latency model_fwd", "unchanged"), "%s", r.out);
    cr_assert(strstr(r.out, "**FAIL**: 2 matched cells; 1 regression,") != NULL, "%s", r.out);
    release(&r);

    /* the same slowdown under a looser threshold, or a stricter alpha than 15 vs 15
     * repetitions can reach (one-sided p >= 1.6e-6), is not a regression */
    xb_compare_opts loose = { 0.50, 0.02, 0.05, "model_fwd", 0, NULL }, strict = { 0.10, 0.02, 1e-7, "model_fwd", 0, NULL };
    r = compare(A, B, &loose);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    release(&r);
    r = compare(A, B, &strict);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    release(&r);

    /* the other way round it is an improvement, and still exit 0 */
    r = compare(B, A, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(row_says(r.out, "latency/softmax/L:256/causal/threads:1", "latency model_fwd", "improvement"), "%s", r.out);
    cr_assert(strstr(r.out, "-23.1%") != NULL, "%s", r.out);
    release(&r);
    free(b1); free(b2); free(n1); free(n2); free(A); free(B);
}

Test(compare, slowdown_the_test_cannot_confirm_is_not_a_regression)
{
    /* medians 15 % apart, but the samples interleave: p is far from 0.05 */
    double b[9], n[9];
    for (int i = 0; i < 9; i++) {
        b[i] = (1 + i) * 1e-5;
        n[i] = (1 + i) * 1e-5 + (i == 4 ? 0.75e-5 : 0);    /* median 5e-5 → 5.75e-5 */
    }
    cellspec cb = { NULL, "gla", 512, 1, NULL, 0, b, 9, "x", NULL, 0 }, cn = { NULL, "gla", 512, 1, NULL, 0, n, 9, "x", NULL, 0 };
    char *A = folder("base", &cb, 1), *B = folder("new", &cn, 1);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(row_says(r.out, "latency/gla/L:512/causal/threads:1", "latency model_fwd", "unchanged"), "%s", r.out);
    release(&r);
    free(A); free(B);
}

Test(compare, accuracy_drop_is_a_regression)
{
    double *lat = draws(7, 12, 80e-6, 0.01), *lat2 = draws(8, 12, 80e-6, 0.01);
    cellspec base[] = { { "mqar", "mamba", 64, 1, NULL, 0.80, lat, 12, "h1", NULL, 0 },
                        { "mqar", "mamba", 64, 2, NULL, 0.84, lat, 12, "h2", NULL, 0 } };
    cellspec nw[] = { { "mqar", "mamba", 64, 1, NULL, 0.70, lat2, 12, "h1", NULL, 0 },
                      { "mqar", "mamba", 64, 2, NULL, 0.74, lat2, 12, "h2", NULL, 0 } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s\n%s", r.out, r.err);
    /* means over seeds with their std */
    cr_assert(strstr(r.out, "| mqar/mamba/L:64/causal/threads:1 | accuracy | 0.8200 ± 0.0283 (2) | "
                            "0.7200 ± 0.0283 (2) | -0.1000 |") != NULL, "%s", r.out);
    cr_assert(row_says(r.out, "mqar/mamba/L:64/causal/threads:1", "accuracy", "regression"), "%s", r.out);
    release(&r);
    /* a threshold above the drop passes */
    xb_compare_opts o = { 0.10, 0.15, 0.05, "model_fwd", 0, NULL };
    r = compare(A, B, &o);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    release(&r);
    free(lat); free(lat2); free(A); free(B);
}

Test(compare, pure_noise_passes)
{
    /* 12 cells, both sides drawn from the same distributions (cv 3 %), fixed seeds */
    cellspec base[12], nw[12];
    double *keep[24];
    static const char *mixers[] = { "softmax", "linear", "gla", "mamba", "pool", "local" };
    char hashes[12][8];
    for (int i = 0; i < 12; i++) {
        double mean = (20 + 10 * i) * 1e-6;
        keep[2 * i] = draws(100 + (uint64_t)i, 15, mean, 0.03);
        keep[2 * i + 1] = draws(200 + (uint64_t)i, 15, mean, 0.03);
        snprintf(hashes[i], sizeof hashes[i], "c%d", i);
        base[i] = (cellspec){ i < 6 ? "listops" : NULL, mixers[i % 6], 128, 1, NULL, 0.5, keep[2 * i], 15, hashes[i], NULL, 0 };
        nw[i] = base[i];
        nw[i].raw = keep[2 * i + 1];
    }
    char *A = folder("base", base, 12), *B = folder("new", nw, 12);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.out, "**OK**: 12 matched cells; 0 regressions, 0 failed cells, 0 lost cells, "
                            "0 improvements; latency: 12 unchanged") != NULL, "%s", r.out);
    release(&r);
    for (int i = 0; i < 24; i++) free(keep[i]);
    free(A); free(B);
}

Test(compare, below_nine_repetitions_warns_and_passes)
{
    double *b = draws(5, 8, 100e-6, 0.01), *n = scaled(b, 8, 1.3);
    cellspec cb = { NULL, "softmax", 1024, 1, NULL, 0, b, 8, "x", NULL, 0 }, cn = { NULL, "softmax", 1024, 1, NULL, 0, n, 8, "x", NULL, 0 };
    char *A = folder("base", &cb, 1), *B = folder("new", &cn, 1);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.err, "warning: 1 latency comparison not tested: fewer than 9 repetitions") != NULL, "%s", r.err);
    cr_assert(row_says(r.out, "latency/softmax/L:1024/causal/threads:1", "latency model_fwd", "not tested"), "%s", r.out);
    cr_assert(strstr(r.out, "+30.0%") != NULL, "%s", r.out);
    release(&r);
    free(b); free(n); free(A); free(B);
}

Test(compare, a_side_flagged_noisy_is_never_a_regression)
{
    double *b = draws(41, 15, 100e-6, 0.02), *n = scaled(b, 15, 1.3);
    cellspec cb = { NULL, "softmax", 256, 1, NULL, 0, b, 15, "x", NULL, 0 };
    cellspec cn = { NULL, "softmax", 256, 1, NULL, 0, n, 15, "x", NULL, 1 };
    char *A = folder("base", &cb, 1), *B = folder("new", &cn, 1);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(row_says(r.out, "latency/softmax/L:256/causal/threads:1", "latency model_fwd", "noisy"), "%s", r.out);
    cr_assert(strstr(r.out, "NEW flagged noisy") != NULL, "%s", r.out);
    release(&r);
    free(b); free(n); free(A); free(B);
}

Test(compare, slowdown_inside_the_baselines_own_spread_is_not_a_regression)
{
    /* The baseline's repeat ran 25 % slower on this cell: a 30 % slowdown is inside twice
     * that run-to-run change; without the repeat, the same slowdown is a regression. A cell
     * whose repeat agreed with the baseline still catches its own 30 % slowdown. */
    double *b = draws(51, 15, 100e-6, 0.01), *rep = scaled(b, 15, 1.25), *n = scaled(b, 15, 1.30);
    double *c = draws(52, 15, 40e-6, 0.01), *crep = draws(53, 15, 40e-6, 0.01), *cn = scaled(c, 15, 1.30);
    cellspec base[] = { { NULL, "gla", 256, 1, NULL, 0, b, 15, "x", NULL, 0 },
                        { NULL, "pool", 256, 1, NULL, 0, c, 15, "y", NULL, 0 } };
    cellspec repeat[] = { { NULL, "gla", 256, 1, NULL, 0, rep, 15, "x", NULL, 0 },
                          { NULL, "pool", 256, 1, NULL, 0, crep, 15, "y", NULL, 0 } };
    cellspec nw[] = { { NULL, "gla", 256, 1, NULL, 0, n, 15, "x", NULL, 0 },
                      { NULL, "pool", 256, 1, NULL, 0, c, 15, "y", NULL, 0 } };
    char *A = folder("base", base, 2), *R = folder("repeat", repeat, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(row_says(r.out, "latency/gla/L:256/causal/threads:1", "latency model_fwd", "regression"), "%s", r.out);
    release(&r);
    xb_compare_opts o = { 0.10, 0.02, 0.05, "model_fwd", XB_LATENCY_SAME_MACHINE, R };
    r = compare(A, B, &o);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(row_says(r.out, "latency/gla/L:256/causal/threads:1", "latency model_fwd", "within spread"), "%s", r.out);
    cr_assert(strstr(r.out, "measured by repeating the baseline") != NULL, "%s", r.out);
    release(&r);
    /* pool, whose repeat agreed, slows down by 30 %: still a regression with the repeat
     * (the largest change over the two cells is 25 %, twice its own change ~0) */
    cellspec nw2[] = { { NULL, "gla", 256, 1, NULL, 0, b, 15, "x", NULL, 0 },
                       { NULL, "pool", 256, 1, NULL, 0, cn, 15, "y", NULL, 0 } };
    char *B2 = folder("new2", nw2, 2);
    r = compare(A, B2, &o);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(row_says(r.out, "latency/pool/L:256/causal/threads:1", "latency model_fwd", "regression"), "%s", r.out);
    release(&r);
    free(b); free(rep); free(n); free(c); free(crep); free(cn); free(A); free(R); free(B); free(B2);
}

Test(compare, latency_of_another_machine_is_not_compared_accuracy_is)
{
    double *b = draws(61, 15, 100e-6, 0.02), *n = scaled(b, 15, 2.0);
    cellspec cb[] = { { "mqar", "softmax", 32, 1, NULL, 0.90, b, 15, "x", NULL, 0 } };
    cellspec cn[] = { { "mqar", "softmax", 32, 1, NULL, 0.91, n, 15, "x", NULL, 0 } };
    char *A = folder_on("base", "boot-A", cb, 1), *B = folder_on("new", "boot-B", cn, 1);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.out, "Latency not compared: BASE was measured on another machine or boot") != NULL, "%s", r.out);
    cr_assert_null(row(r.out, "mqar/softmax/L:32/causal/threads:1", "latency model_fwd"), "%s", r.out);
    cr_assert(row_says(r.out, "mqar/softmax/L:32/causal/threads:1", "accuracy", "unchanged"), "%s", r.out);
    release(&r);
    /* asked for, it is compared (and the 2x slowdown fails) */
    xb_compare_opts o = { 0.10, 0.02, 0.05, "model_fwd", XB_LATENCY_ALWAYS, NULL };
    r = compare(A, B, &o);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    release(&r);
    free(b); free(n); free(A); free(B);
}

Test(compare, lost_failed_and_unshared_cells_fail)
{
    double *x = draws(11, 10, 30e-6, 0.01);
    cellspec base[] = { { NULL, "softmax", 128, 1, NULL, 0, x, 10, "old-hash", NULL, 0 },
                        { NULL, "fnet", 128, 1, NULL, 0, x, 10, "f", NULL, 0 } };
    cellspec nw[] = { { NULL, "softmax", 128, 1, NULL, 0, x, 10, "new-hash", NULL, 0 },
                      { NULL, "softmax", 256, 1, NULL, 0, x, 10, "g", NULL, 0 } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    /* the shared cell has another config_hash on each side (e.g. min_reps changed): it
     * matches; fnet is lost: exit 1 */
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(strstr(r.out, "## Lost: in base, not in new\n\n- latency/fnet/L:128/causal/threads:1\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Only in new\n\n- latency/softmax/L:256/causal/threads:1\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "1 matched cell; 0 regressions, 0 failed cells, 1 lost cell") != NULL, "%s", r.out);
    release(&r);
    /* cells only in NEW are fine */
    r = compare(B, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    release(&r);

    /* a seed that crashed in NEW fails, also where BASE failed the same way */
    cellspec fb[] = { { "parity", "lmu", 32, 1, NULL, 0.9, x, 10, "p1", NULL, 0 }, { "parity", "lmu", 32, 2, NULL, 0.9, x, 10, "p2", NULL, 0 } };
    cellspec fn[] = { { "parity", "lmu", 32, 1, NULL, 0.9, x, 10, "p1", NULL, 0 }, { "parity", "lmu", 32, 2, "crashed:SIGSEGV", 0, x, 10, "p2", NULL, 0 } };
    char *C = folder("fbase", fb, 2), *D = folder("fnew", fn, 2);
    r = compare(C, D, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(strstr(r.out, "| parity/lmu/L:32/causal/threads:1 | status | 2/2 ok | 1/2 ok |") != NULL, "%s", r.out);
    cr_assert(row_says(r.out, "parity/lmu/L:32/causal/threads:1", "status", "failed"), "%s", r.out);
    cr_assert(strstr(r.out, "crashed:SIGSEGV") != NULL, "%s", r.out);
    release(&r);
    r = compare(D, D, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "a cell that is not ok fails even when BASE shares it:\n%s", r.out);
    release(&r);

    /* a skip by design that BASE shares is not a failure */
    cellspec sk[] = { { "mqar", "fnet", 32, 1, "skipped:no-causal-mode", 0, NULL, 0, "s1", NULL, 0 },
                      { "mqar", "softmax", 32, 1, NULL, 0.9, x, 10, "s2", NULL, 0 } };
    char *E = folder("skip", sk, 2);
    r = compare(E, E, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(row_says(r.out, "mqar/fnet/L:32/causal/threads:1", "status", "skipped"), "%s", r.out);
    release(&r);

    /* no common cell at all */
    cellspec o1[] = { { NULL, "softmax", 64, 1, NULL, 0, x, 10, "o1", NULL, 0 } };
    cellspec o2[] = { { NULL, "linear", 64, 1, NULL, 0, x, 10, "o2", NULL, 0 } };
    char *F = folder("one", o1, 1), *G = folder("two", o2, 1);
    r = compare(F, G, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(strstr(r.out, "no cell of") != NULL, "%s", r.out);
    release(&r);
    free(x); free(A); free(B); free(C); free(D); free(E); free(F); free(G);
}

Test(compare, configurations_match_only_themselves)
{
    double *b = draws(31, 10, 40e-6, 0.01), *n = scaled(b, 10, 1.5);
    /* softmax: the same configuration printed differently, another seed and min_reps → the
     * same cell (a 50 % slowdown is a regression); linear: the model got wider → another
     * cell: the old one is lost, the new one only in NEW, and no verdict compares them */
    cellspec base[] = {
        { NULL, "softmax", 64, 1, NULL, 0, b, 10, "a",
          "{\"model\":{\"dim\":32},\"train\":{\"lr\":0.0030000000260770321,\"seed\":\"01\"},"
          "\"latency\":{\"min_reps\":9},\"seed\":1}", 0 },
        { NULL, "linear", 64, 1, NULL, 0, b, 10, "b", "{\"model\":{\"dim\":32}}", 0 } };
    cellspec nw[] = {
        { NULL, "softmax", 64, 1, NULL, 0, n, 10, "c",
          "{\"model\":{\"dim\":32},\"train\":{\"lr\":0.003000000026077032,\"seed\":\"02\"},"
          "\"latency\":{\"min_reps\":20},\"seed\":7}", 0 },
        { NULL, "linear", 64, 1, NULL, 0, n, 10, "d", "{\"model\":{\"dim\":64}}", 0 } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(row_says(r.out, "latency/softmax/L:64/causal/threads:1", "latency model_fwd", "regression"), "%s", r.out);
    cr_assert(strstr(r.out, "- latency/linear dim=32/L:64/causal/threads:1\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Only in new\n\n- latency/linear dim=64/L:64/causal/threads:1\n") != NULL, "%s", r.out);
    cr_assert_null(row(r.out, "latency/linear dim=32/L:64/causal/threads:1", "latency model_fwd"), "%s", r.out);
    release(&r);
    free(b); free(n); free(A); free(B);
}

Test(compare, task_options_are_not_pooled)
{
    /* MQAR with kv_pairs 2 and 8 in one folder: two cells, each compared with its own */
    const char *k2 = "{\"task\":{\"options\":{\"kv_pairs\":2.0}}}", *k8 = "{\"task\":{\"options\":{\"kv_pairs\":8.0}}}";
    cellspec base[] = { { "mqar", "gla", 64, 1, NULL, 0.99, NULL, 0, "a", k2, 0 },
                        { "mqar", "gla", 64, 1, NULL, 0.30, NULL, 0, "b", k8, 0 } };
    cellspec nw[] = { { "mqar", "gla", 64, 1, NULL, 0.99, NULL, 0, "a", k2, 0 },
                      { "mqar", "gla", 64, 1, NULL, 0.20, NULL, 0, "b", k8, 0 } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(row_says(r.out, "mqar kv_pairs=2/gla/L:64/causal/threads:1", "accuracy", "unchanged"), "%s", r.out);
    cr_assert(row_says(r.out, "mqar kv_pairs=8/gla/L:64/causal/threads:1", "accuracy", "regression"), "%s", r.out);
    cr_assert(strstr(r.out, "0.3000 ± 0.0000 (1)") != NULL, "not pooled:\n%s", r.out);
    release(&r);
    free(A); free(B);
}

/* ---- bad input ----------------------------------------------------------------------- */

static void expect_bad(const char *a, const char *b, const char *msg)
{
    outcome r = compare(a, b, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_BAD_INPUT, "%s / %s: rc %d\n%s", a, b, r.rc, r.err);
    cr_assert(strstr(r.err, msg) != NULL, "expected '%s' in:\n%s", msg, r.err);
    release(&r);
}

Test(compare, bad_input_exits_2_naming_the_file)
{
    double *x = draws(12, 10, 30e-6, 0.01);
    cellspec c = { NULL, "softmax", 128, 1, NULL, 0, x, 10, "h", NULL, 0 };
    char *good = folder("good", &c, 1);
    char missing[128], empty[128], corrupt[128], notcell[128], nofile[128], msg[200];
    snprintf(missing, sizeof missing, "%s/absent", root);
    snprintf(nofile, sizeof nofile, "%s/nofile", root);
    snprintf(empty, sizeof empty, "%s/empty", root);
    snprintf(corrupt, sizeof corrupt, "%s/corrupt", root);
    snprintf(notcell, sizeof notcell, "%s/notcell", root);
    mkdir(nofile, 0777);
    tmpdir_write(empty, "cells.jsonl", "");
    tmpdir_write(corrupt, "cells.jsonl", "{\"kind\":\"latency\",\"mixer\":\"softmax\",\"L\":128}\n{\"kind\":\"lat");
    tmpdir_write(notcell, "cells.jsonl", "{\"kind\":\"latency\",\"L\":128}\n");

    snprintf(msg, sizeof msg, "'%s' is not a results folder", missing);
    expect_bad(missing, good, msg);
    expect_bad(good, missing, msg);
    snprintf(msg, sizeof msg, "'%s/cells.jsonl' does not exist", nofile);
    expect_bad(good, nofile, msg);
    snprintf(msg, sizeof msg, "'%s/cells.jsonl' holds no cell records", empty);
    expect_bad(empty, good, msg);
    snprintf(msg, sizeof msg, "'%s/cells.jsonl': 1 line is not a JSON object", corrupt);
    expect_bad(good, corrupt, msg);
    snprintf(msg, sizeof msg, "'%s/cells.jsonl': record 1 is not a cell record", notcell);
    expect_bad(good, notcell, msg);
    free(x);
    free(good);
}

/* ---- the command --------------------------------------------------------------------- */

static int xbench(const char *const *args)
{
    cr_assert(access("./xbench", X_OK) == 0, "./xbench not built: run `make xbench` (or `make test`)");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    char *argv[16];
    int n = 0;
    argv[n++] = "./xbench";
    for (int i = 0; args[i] && n < 15; i++) argv[n++] = (char *)args[i];
    argv[n] = NULL;
    pid_t pid;
    cr_assert_eq(posix_spawn(&pid, "./xbench", &fa, NULL, argv, environ), 0);
    posix_spawn_file_actions_destroy(&fa);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#define XBENCH(...) xbench((const char *const[]){__VA_ARGS__, NULL})

Test(compare, command_exit_codes_and_option_values)
{
    double *b = draws(21, 12, 100e-6, 0.02), *n = scaled(b, 12, 1.3);
    cellspec cb = { NULL, "softmax", 128, 1, NULL, 0, b, 12, "h", NULL, 0 }, cn = { NULL, "softmax", 128, 1, NULL, 0, n, 12, "h", NULL, 0 };
    char *A = folder("base", &cb, 1), *B = folder("new", &cn, 1);
    cr_assert_eq(XBENCH("compare", A, B), 1);
    cr_assert_eq(XBENCH("compare", A, A), 0);
    cr_assert_eq(XBENCH("compare", "--max-slowdown", "40%", A, B), 0);
    cr_assert_eq(XBENCH("compare", A, B, "--max-slowdown", "0.4"), 0);
    cr_assert_eq(XBENCH("compare", "--metric", "mixer_fwd", A, B), 0);   /* not measured: nothing to compare */
    cr_assert_eq(XBENCH("compare", "--help"), 0);
    cr_assert_eq(XBENCH("compare", A), 2);
    cr_assert_eq(XBENCH("compare", A, B, A), 2);
    cr_assert_eq(XBENCH("compare", "--max-slowdown", "fast", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--max-slowdown", "-5%", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--max-slowdown", "10", A, B), 2);     /* 10 % or 1000 %? */
    cr_assert_eq(XBENCH("compare", "--max-slowdown", "150%", A, B), 0);
    cr_assert_eq(XBENCH("compare", "--max-acc-drop", "2", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--alpha", "0", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--alpha", "1.5", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--metric", "flops", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--bogus", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--latency", "never", A, B), 0);
    cr_assert_eq(XBENCH("compare", "--latency", "sometimes", A, B), 2);
    cr_assert_eq(XBENCH("compare", "--repeat", A, A, B), 1);
    cr_assert_eq(XBENCH("compare", "--repeat", "", A, B), 2);
    free(b); free(n); free(A); free(B);
}
