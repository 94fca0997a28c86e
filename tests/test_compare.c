/* tests/test_compare.c — `xbench compare` (harness/compare.c) on results folders written here
 * with the store writer: a planted 30 % slowdown and a planted accuracy drop of 0.1 fail
 * (exit 1); two draws of the same distribution pass (exit 0); a slowdown the U test cannot
 * confirm, or one measured with fewer than 9 repetitions, passes (the latter with a
 * warning); a cell that stops ending ok fails; cells match by identity, not config_hash;
 * one-sided cells are listed; bad folders, files and options exit 2 with the file named. */
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
#include "harness/compare.h"
#include "harness/store.h"
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
        json_object *lat = json_object_new_object();
        json_object_object_add(lat, "model_fwd", m);
        json_object_object_add(r, "latency", lat);
    }
    return r;
}

/* <root>/<name>/cells.jsonl with the given cells, through the store writer. */
static char *folder(const char *name, const cellspec *cells, int n)
{
    char *dir = xb_path_join(root, name);
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
    xb_compare_opts d = { 0.10, 0.02, 0.05, "model_fwd" };
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

Test(compare, planted_slowdown_is_a_regression)
{
    double *b1 = draws(1, 15, 100e-6, 0.02), *b2 = draws(2, 15, 50e-6, 0.02);
    double *n1 = scaled(b1, 15, 1.30);
    double *n2 = draws(3, 15, 50e-6, 0.02);    /* unchanged cell: same distribution */
    cellspec base[] = { { NULL, "softmax", 256, 1, NULL, 0, b1, 15, "a", NULL },
                        { NULL, "linear", 256, 1, NULL, 0, b2, 15, "b", NULL } };
    cellspec nw[] = { { NULL, "softmax", 256, 1, NULL, 0, n1, 15, "a", NULL },
                      { NULL, "linear", 256, 1, NULL, 0, n2, 15, "b", NULL } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s\n%s", r.out, r.err);
    cr_assert(strstr(r.out, "## Regressions (1)") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "| latency/softmax/L:256/causal/threads:1 | latency model_fwd |") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "+30.0%") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "latency/linear") == NULL, "the unchanged cell is not listed:\n%s", r.out);
    cr_assert(strstr(r.out, "1 latency and 0 accuracy comparisons") != NULL, "%s", r.out);
    release(&r);

    /* the same slowdown under a looser threshold, or a stricter alpha than 15 vs 15
     * repetitions can reach (one-sided p >= 1.6e-6), is not a regression */
    xb_compare_opts loose = { 0.50, 0.02, 0.05, "model_fwd" }, strict = { 0.10, 0.02, 1e-7, "model_fwd" };
    r = compare(A, B, &loose);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    release(&r);
    r = compare(A, B, &strict);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    release(&r);

    /* the other way round it is an improvement, and still exit 0 */
    r = compare(B, A, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.out, "## Improvements (1)") != NULL, "%s", r.out);
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
    cellspec cb = { NULL, "gla", 512, 1, NULL, 0, b, 9, "x", NULL }, cn = { NULL, "gla", 512, 1, NULL, 0, n, 9, "x", NULL };
    char *A = folder("base", &cb, 1), *B = folder("new", &cn, 1);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.out, "## Regressions (0)") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "1 latency and 0 accuracy comparisons") != NULL, "%s", r.out);
    release(&r);
    free(A); free(B);
}

Test(compare, accuracy_drop_is_a_regression)
{
    double *lat = draws(7, 12, 80e-6, 0.01), *lat2 = draws(8, 12, 80e-6, 0.01);
    cellspec base[] = { { "mqar", "mamba", 64, 1, NULL, 0.80, lat, 12, "h1", NULL },
                        { "mqar", "mamba", 64, 2, NULL, 0.84, lat, 12, "h2", NULL } };
    cellspec nw[] = { { "mqar", "mamba", 64, 1, NULL, 0.70, lat2, 12, "h1", NULL },
                      { "mqar", "mamba", 64, 2, NULL, 0.74, lat2, 12, "h2", NULL } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s\n%s", r.out, r.err);
    /* means over seeds with their std */
    cr_assert(strstr(r.out, "| mqar/mamba/L:64/causal/threads:1 | accuracy | 0.8200 ± 0.0283 (2) | "
                            "0.7200 ± 0.0283 (2) | -0.1000 |") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Regressions (1)") != NULL, "%s", r.out);
    release(&r);
    /* a threshold above the drop passes */
    xb_compare_opts o = { 0.10, 0.15, 0.05, "model_fwd" };
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
        base[i] = (cellspec){ i < 6 ? "listops" : NULL, mixers[i % 6], 128, 1, NULL, 0.5, keep[2 * i], 15, hashes[i], NULL };
        nw[i] = base[i];
        nw[i].raw = keep[2 * i + 1];
    }
    char *A = folder("base", base, 12), *B = folder("new", nw, 12);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.out, "## Regressions (0)") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Improvements (0)") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "12 latency and 6 accuracy comparisons") != NULL, "%s", r.out);
    release(&r);
    for (int i = 0; i < 24; i++) free(keep[i]);
    free(A); free(B);
}

Test(compare, below_nine_repetitions_warns_and_passes)
{
    double *b = draws(5, 8, 100e-6, 0.01), *n = scaled(b, 8, 1.3);
    cellspec cb = { NULL, "softmax", 1024, 1, NULL, 0, b, 8, "x", NULL }, cn = { NULL, "softmax", 1024, 1, NULL, 0, n, 8, "x", NULL };
    char *A = folder("base", &cb, 1), *B = folder("new", &cn, 1);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.err, "warning: 1 latency comparison not tested: fewer than 9 repetitions") != NULL, "%s", r.err);
    cr_assert(strstr(r.out, "## Not tested (1)") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "+30.0%") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Regressions (0)") != NULL, "%s", r.out);
    release(&r);
    free(b); free(n); free(A); free(B);
}

Test(compare, cell_that_stops_ending_ok_is_a_regression)
{
    double *b = draws(9, 10, 50e-6, 0.01);
    cellspec base[] = { { "parity", "lmu", 32, 1, NULL, 0.9, b, 10, "p1", NULL }, { "parity", "lmu", 32, 2, NULL, 0.9, b, 10, "p2", NULL } };
    cellspec nw[] = { { "parity", "lmu", 32, 1, NULL, 0.9, b, 10, "p1", NULL }, { "parity", "lmu", 32, 2, "crashed:SIGSEGV", 0, b, 10, "p2", NULL } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(strstr(r.out, "| parity/lmu/L:32/causal/threads:1 | status | 2/2 ok | 1/2 ok |") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "crashed:SIGSEGV") != NULL, "%s", r.out);
    release(&r);
    free(b); free(A); free(B);
}

Test(compare, cells_match_by_identity_and_one_sided_cells_are_listed)
{
    double *x = draws(11, 10, 30e-6, 0.01);
    /* the shared cell has another config_hash on each side (e.g. min_reps changed) */
    cellspec base[] = { { NULL, "softmax", 128, 1, NULL, 0, x, 10, "old-hash", NULL },
                        { NULL, "fnet", 128, 1, NULL, 0, x, 10, "f", NULL } };
    cellspec nw[] = { { NULL, "softmax", 128, 1, NULL, 0, x, 10, "new-hash", NULL },
                      { NULL, "softmax", 256, 1, NULL, 0, x, 10, "g", NULL } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_OK, "%s", r.out);
    cr_assert(strstr(r.out, "over 1 matched cells") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Only in base (1)\n\n- latency/fnet/L:128/causal/threads:1\n") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "## Only in new (1)\n\n- latency/softmax/L:256/causal/threads:1\n") != NULL, "%s", r.out);
    release(&r);
    free(x); free(A); free(B);
}

Test(compare, changed_configuration_is_marked_not_reprinted_numbers)
{
    double *b = draws(31, 10, 40e-6, 0.01), *n = scaled(b, 10, 1.5);
    /* cell 1: the same numbers printed differently, another seed and min_reps → same shape;
     * cell 2: the model got wider → "config changed" (still compared) */
    cellspec base[] = {
        { NULL, "softmax", 64, 1, NULL, 0, b, 10, "a",
          "{\"model\":{\"dim\":32},\"train\":{\"lr\":0.0030000000260770321,\"seed\":\"01\"},"
          "\"latency\":{\"min_reps\":9},\"seed\":1}" },
        { NULL, "linear", 64, 1, NULL, 0, b, 10, "b", "{\"model\":{\"dim\":32}}" } };
    cellspec nw[] = {
        { NULL, "softmax", 64, 1, NULL, 0, n, 10, "c",
          "{\"model\":{\"dim\":32},\"train\":{\"lr\":0.003000000026077032,\"seed\":\"02\"},"
          "\"latency\":{\"min_reps\":20},\"seed\":7}" },
        { NULL, "linear", 64, 1, NULL, 0, n, 10, "d", "{\"model\":{\"dim\":64}}" } };
    char *A = folder("base", base, 2), *B = folder("new", nw, 2);
    outcome r = compare(A, B, NULL);
    cr_assert_eq(r.rc, XB_COMPARE_REGRESSION, "%s", r.out);
    cr_assert(strstr(r.out, "## Regressions (2)") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "| latency/softmax/L:64/causal/threads:1 | latency model_fwd |") != NULL, "%s", r.out);
    cr_assert(strstr(r.out, "+50.0% | 1.") != NULL || strstr(r.out, "+50.0% | 9.") != NULL, "%s", r.out);
    const char *lin = strstr(r.out, "| latency/linear/L:64/causal/threads:1 |");
    cr_assert_not_null(lin, "%s", r.out);
    cr_assert(strstr(lin, "config changed |\n") != NULL, "%s", r.out);
    const char *soft = strstr(r.out, "| latency/softmax/L:64/causal/threads:1 |");
    cr_assert(strncmp(strchr(soft, '\n') - 4, "|  |", 4) == 0, "softmax is not marked:\n%s", r.out);
    release(&r);
    free(b); free(n); free(A); free(B);
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
    cellspec c = { NULL, "softmax", 128, 1, NULL, 0, x, 10, "h", NULL };
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
    cellspec cb = { NULL, "softmax", 128, 1, NULL, 0, b, 12, "h", NULL }, cn = { NULL, "softmax", 128, 1, NULL, 0, n, 12, "h", NULL };
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
    free(b); free(n); free(A); free(B);
}
