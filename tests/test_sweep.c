/* tests/test_sweep.c — cell isolation (harness/cell.c) with fake cell functions and the
 * XB_FAULT hook: a crash, a sleep past the deadline, an allocation past the memory limit, an
 * exit without a result, an interruption — each classified right while the caller goes on.
 * The end-to-end sweep tests (real engine, tiny suites) follow below. Nothing here enters
 * OpenMP in the test process: only forked children compute. */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/xb.h"
#include "harness/cell.h"
#include "harness/report/store.h"

/* A fake cell: fault hook for its index, then some progress and a result. */
typedef struct fake { int index; size_t touch_mb; int exit_code; int oom_then_kill; } fake;

static int fake_cell(xb_cell_chan *ch, void *ctx)
{
    fake *f = ctx;
    if (f->oom_then_kill) {
        /* an allocation failed, the child said so, then something killed it */
        xb_cell_send_oom(ch, "a test allocation");
        raise(SIGKILL);
    }
    int fault = xb_cell_fault(f->index);
    json_object *rec = json_object_new_object();
    if (fault == XB_FAULT_OOM) {
        json_object_object_add(rec, "status", json_object_new_string("oom"));
        return xb_cell_send_result(ch, rec) ? 1 : 0;
    }
    if (f->touch_mb) {
        size_t n = f->touch_mb << 20;
        char *p = malloc(n);
        if (p) memset(p, 7, n);
        json_object_object_add(rec, "sum", json_object_new_int(p ? p[n - 1] : -1));
        free(p);
    }
    fprintf(stderr, "child %d says hello\n", f->index);
    for (int s = 1; s <= 3; s++) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "phase", json_object_new_string("train"));
        json_object_object_add(o, "step", json_object_new_int(s));
        xb_cell_send(ch, "progress", o);
    }
    if (f->exit_code) {                             /* ends without a result */
        json_object_put(rec);
        return f->exit_code;
    }
    json_object_object_add(rec, "value", json_object_new_double(0.25));
    json_object_object_add(rec, "status", json_object_new_string(fault == XB_FAULT_NAN ? "diverged" : "ok"));
    return xb_cell_send_result(ch, rec) ? 1 : 0;
}

static int steps_seen;
static void count_progress(void *ctx, json_object *msg)
{
    (void)ctx;
    steps_seen += xb_jint(msg, "step", 0);
}

static void run_fake(fake *f, double timeout, long mem, const volatile sig_atomic_t *stop,
                     xb_cell_outcome *out)
{
    xb_cell_limits lim = { timeout, mem };
    cr_assert_eq(xb_cell_exec(&lim, fake_cell, f, count_progress, NULL, stop, out), 0);
}

Test(cell, ok_record_progress_and_stderr)
{
    unsetenv("XB_FAULT");
    fake f = { .index = 0, .touch_mb = 64 };
    xb_cell_outcome out;
    steps_seen = 0;
    run_fake(&f, 20, 0, NULL, &out);
    cr_assert_str_eq(out.status, "ok");
    cr_assert_not_null(out.record);
    cr_assert_float_eq(xb_jnum(out.record, "value", -1), 0.25, 0);
    cr_assert_eq(xb_jint(out.record, "sum", 0), 7);
    cr_assert_eq(steps_seen, 6);
    cr_assert(strstr(out.stderr_tail, "child 0 says hello") != NULL);
    /* the child touched 64 MiB: its peak RSS (wait4) says so */
    cr_assert_geq(out.peak_rss_kb, 64 * 1024, "peak rss %ld kB", out.peak_rss_kb);
    cr_assert_eq(out.exit_code, 0);
    xb_cell_outcome_release(&out);
}

Test(cell, segfault_is_crashed_sigsegv)
{
    setenv("XB_FAULT", "sleep:7,segv:3", 1);
    fake f = { .index = 3 };
    xb_cell_outcome out;
    run_fake(&f, 20, 0, NULL, &out);
    cr_assert_str_eq(out.status, "crashed:SIGSEGV");
    cr_assert_null(out.record);
    cr_assert_eq(out.signal, SIGSEGV);
    xb_cell_outcome_release(&out);
    /* the fault names one index: its neighbours run normally */
    f.index = 4;
    run_fake(&f, 20, 0, NULL, &out);
    cr_assert_str_eq(out.status, "ok");
    xb_cell_outcome_release(&out);
}

Test(cell, sleep_past_deadline_is_timeout)
{
    setenv("XB_FAULT", "sleep:1", 1);
    fake f = { .index = 1 };
    xb_cell_outcome out;
    double t0 = xb_now();
    run_fake(&f, 0.4, 0, NULL, &out);
    double dt = xb_now() - t0;
    cr_assert_str_eq(out.status, "timeout");
    cr_assert_null(out.record);
    cr_assert_geq(dt, 0.39);
    cr_assert_lt(dt, 5.0, "took %.2f s to kill", dt);
    xb_cell_outcome_release(&out);
}

Test(cell, allocation_past_limit_is_oom)
{
    setenv("XB_FAULT", "alloc:2", 1);
    fake f = { .index = 2 };
    xb_cell_outcome out;
    run_fake(&f, 30, 256, NULL, &out);
    cr_assert_str_eq(out.status, "oom");
    xb_cell_outcome_release(&out);
}

Test(cell, touching_past_limit_without_the_hook)
{
    /* The limit is real: a plain 512 MiB allocation fails under a 256 MiB RLIMIT_AS. */
    unsetenv("XB_FAULT");
    fake f = { .index = 0, .touch_mb = 512 };
    xb_cell_outcome out;
    run_fake(&f, 30, 256, NULL, &out);
    cr_assert_str_eq(out.status, "ok");
    cr_assert_eq(xb_jint(out.record, "sum", 0), -1, "malloc should have failed");
    cr_assert_lt(out.peak_rss_kb, 256 * 1024);
    xb_cell_outcome_release(&out);
}

/* SIGKILL from outside (kill -9, a CI job's limit) with no sign of running out of memory
 * is a crash, not oom. */
Test(cell, sigkill_without_oom_evidence_is_crashed_sigkill)
{
    setenv("XB_FAULT", "kill:6", 1);
    fake f = { .index = 6 };
    xb_cell_outcome out;
    run_fake(&f, 20, 256, NULL, &out);
    cr_assert_str_eq(out.status, "crashed:SIGKILL");
    cr_assert_eq(out.signal, SIGKILL);
    cr_assert_null(out.record);
    cr_assert(strstr(out.detail, "SIGKILL from outside") != NULL, "detail: %s", out.detail);
    xb_cell_outcome_release(&out);
    unsetenv("XB_FAULT");
}

Test(cell, sigkill_after_reported_allocation_failure_is_oom)
{
    unsetenv("XB_FAULT");
    fake f = { .index = 0, .oom_then_kill = 1 };
    xb_cell_outcome out;
    run_fake(&f, 20, 256, NULL, &out);
    cr_assert_str_eq(out.status, "oom");
    cr_assert_eq(out.signal, SIGKILL);
    cr_assert(out.oom_reported);
    xb_cell_outcome_release(&out);
}

Test(cell, nan_fault_reaches_the_cell)
{
    setenv("XB_FAULT", "nan:5", 1);
    fake f = { .index = 5 };
    xb_cell_outcome out;
    run_fake(&f, 20, 0, NULL, &out);
    cr_assert_str_eq(out.status, "diverged");
    xb_cell_outcome_release(&out);
}

Test(cell, exit_without_result_is_crashed_exit)
{
    unsetenv("XB_FAULT");
    fake f = { .index = 0, .exit_code = 3 };
    xb_cell_outcome out;
    run_fake(&f, 20, 0, NULL, &out);
    cr_assert_str_eq(out.status, "crashed:exit 3");
    cr_assert_null(out.record);
    xb_cell_outcome_release(&out);
}

static volatile sig_atomic_t stop_flag;
static void set_stop(int sig) { (void)sig; stop_flag = 1; }

Test(cell, stop_flag_kills_the_child)
{
    setenv("XB_FAULT", "sleep:0", 1);
    fake f = { .index = 0 };
    xb_cell_outcome out;
    stop_flag = 0;
    signal(SIGALRM, set_stop);
    alarm(1);
    double t0 = xb_now();
    run_fake(&f, 60, 0, &stop_flag, &out);
    cr_assert_str_eq(out.status, "interrupted");
    cr_assert_lt(xb_now() - t0, 5.0);
    xb_cell_outcome_release(&out);
}

Test(cell, signal_names)
{
    char b[24];
    cr_assert_str_eq(xb_signame(SIGSEGV, b, sizeof b), "SIGSEGV");
    cr_assert_str_eq(xb_signame(SIGABRT, b, sizeof b), "SIGABRT");
}

/* ---- end to end: the real sweep on tests/data/suites/tiny.yaml ------------------------
 * Needs the suite loader, the engine, mqar and softmax; compiled once they are merged. */
#if __has_include("harness/machine.h") && __has_include("core/layers.h")
#include <sys/wait.h>

#include "harness/sweep.h"
#include "mixers/registry.h"
#include "tasks/registry.h"

#define TINY "tests/data/suites/tiny.yaml"

static void load_tiny(xb_suite *s)
{
    if (!xb_mixer_find("softmax") || !xb_task_find("mqar")) cr_skip_test("softmax or mqar not registered");
    cr_assert_eq(xb_suite_load(TINY, s, stderr), 0, "cannot load " TINY);
}

static void tmp_dir(char *buf, size_t n)
{
    snprintf(buf, n, "/tmp/xb-sweep-XXXXXX");
    cr_assert_not_null(mkdtemp(buf));
    /* the sweep refuses nothing in an empty folder */
}

static void rm_dir(const char *dir)
{
    if (getenv("XB_KEEP_TEST_OUTPUT")) return;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
}

static int sweep(const xb_suite *s, const char *dir, int resume)
{
    static FILE *null;
    if (!null) null = fopen("/dev/null", "w");
    xb_sweep_opts o = { .out_dir = dir, .resume = resume, .quiet = 1, .no_plots = 1, .err = null };
    return xb_sweep_run(s, &o);
}

static json_object *records(const char *dir)
{
    json_object *all = NULL;
    xb_store_load(dir, &all, stderr);
    return all;
}

static json_object *by_index(json_object *recs, int index)
{
    for (size_t i = 0; i < json_object_array_length(recs); i++) {
        json_object *r = json_object_array_get_idx(recs, i);
        if (xb_jint(r, "index", -1) == index) return r;
    }
    return NULL;
}

/* The fields that must not depend on timing: accuracy, losses, data, parameters. */
static const char *const SAME[] = { "status", "config_hash", "test_acc", "val_acc", "chance",
                                    "final_loss", "steps", "loss_curve", "params", "data",
                                    "flops_mixer", "flops_model", "bytes_analytic", NULL };

static void assert_same_results(json_object *a, json_object *b)
{
    cr_assert_eq(json_object_array_length(a), json_object_array_length(b));
    for (size_t i = 0; i < json_object_array_length(a); i++) {
        json_object *ra = json_object_array_get_idx(a, i);
        json_object *rb = by_index(b, xb_jint(ra, "index", -1));
        cr_assert_not_null(rb, "cell %d missing", xb_jint(ra, "index", -1));
        for (int k = 0; SAME[k]; k++) {
            const char *sa = json_object_to_json_string_ext(xb_jget(ra, SAME[k]), JSON_C_TO_STRING_PLAIN);
            const char *sb = json_object_to_json_string_ext(xb_jget(rb, SAME[k]), JSON_C_TO_STRING_PLAIN);
            cr_assert_str_eq(sa, sb, "cell %d field %s: %s vs %s", xb_jint(ra, "index", -1), SAME[k], sa, sb);
        }
    }
}

Test(sweep, faults_recorded_and_sweep_completes, .timeout = 60)
{
    xb_suite s;
    load_tiny(&s);
    char dir[64];
    tmp_dir(dir, sizeof dir);
    setenv("XB_FAULT", "segv:0,sleep:1,alloc:2,nan:3,kill:5", 1);
    int rc = sweep(&s, dir, 0);
    unsetenv("XB_FAULT");
    cr_assert_eq(rc, XB_SWEEP_NOT_ALL_OK);
    json_object *recs = records(dir);
    cr_assert_eq(json_object_array_length(recs), 6, "every cell recorded");
    cr_assert_str_eq(xb_jstr(by_index(recs, 0), "status", ""), "crashed:SIGSEGV");
    cr_assert_str_eq(xb_jstr(by_index(recs, 1), "status", ""), "timeout");
    cr_assert_str_eq(xb_jstr(by_index(recs, 2), "status", ""), "oom");
    json_object *nan = by_index(recs, 3);
    cr_assert_str_eq(xb_jstr(nan, "status", ""), "diverged");
    cr_assert(json_object_is_type(xb_jget(nan, "final_loss"), json_type_null), "NaN is written as null");
    cr_assert_str_eq(xb_jstr(by_index(recs, 4), "status", ""), "ok");
    /* killed from outside without running out of memory: a crash, and --resume runs it again */
    json_object *killed = by_index(recs, 5);
    cr_assert_str_eq(xb_jstr(killed, "status", ""), "crashed:SIGKILL");
    cr_assert(strstr(xb_jstr(killed, "error", ""), "SIGKILL from outside") != NULL, "error: %s",
              xb_jstr(killed, "error", ""));
    cr_assert(xb_status_rerun("crashed:SIGKILL"));
    /* an ok record has what the report needs */
    json_object *ok = by_index(recs, 4);
    cr_assert(xb_jnum(ok, "test_acc", -1) >= 0);
    cr_assert(xb_jnum(ok, "peak_rss_kb", 0) > 0);
    cr_assert_not_null(xb_jpath(ok, "latency.model_fwdbwd.raw"));
    /* the timed training step: its repetitions, and the nominal FLOPs of forward + backward */
    cr_assert_eq(json_object_array_length(xb_jpath(ok, "latency.model_train.raw")), 3);
    cr_assert_eq(xb_jint(xb_jpath(ok, "latency.model_train"), "reps", 0), 3);
    cr_assert(xb_jnum(xb_jpath(ok, "latency.model_train"), "median", -1) > 0);
    cr_assert_gt(xb_jnum(xb_jpath(ok, "latency.model_fwdbwd"), "flops", 0), 0);
    cr_assert_eq(xb_jnum(xb_jpath(ok, "latency.model_train"), "flops", -1),
                 xb_jnum(xb_jpath(ok, "latency.model_fwdbwd"), "flops", -2));
    cr_assert_null(xb_jpath(ok, "latency.model_train.nonfinite"), "20 small steps stay finite");
    /* the FMA ceiling probed before and after the timings: two positive rates */
    json_object *probe = xb_jpath(ok, "latency.fma_probe_gflops");
    cr_assert(probe && json_object_is_type(probe, json_type_array) && json_object_array_length(probe) == 2);
    for (int i = 0; i < 2; i++) cr_assert_gt(json_object_get_double(json_object_array_get_idx(probe, i)), 0.0);
    cr_assert_eq(json_object_array_length(xb_jpath(ok, "latency.mixer_fwd.raw")), 3);
    cr_assert_eq(json_object_array_length(xb_jget(ok, "loss_curve")), 20);
    /* and the derived files exist, with failures shown as such */
    char *p = xb_path_join(dir, "tables.md");
    FILE *f = fopen(p, "r");
    cr_assert_not_null(f);
    char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    free(p);
    cr_assert(strstr(buf, "| crashed:SIGSEGV |") != NULL);
    cr_assert(strstr(buf, "crashed:SIGKILL") != NULL);
    cr_assert(strstr(buf, "| timeout |") != NULL);
    json_object_put(recs);
    xb_suite_release(&s);
    rm_dir(dir);
}

Test(sweep, same_seed_same_results, .timeout = 60)
{
    xb_suite s;
    load_tiny(&s);
    unsetenv("XB_FAULT");
    char a[64], b[64];
    tmp_dir(a, sizeof a);
    tmp_dir(b, sizeof b);
    cr_assert_eq(sweep(&s, a, 0), XB_SWEEP_OK);
    cr_assert_eq(sweep(&s, b, 0), XB_SWEEP_OK);
    json_object *ra = records(a), *rb = records(b);
    assert_same_results(ra, rb);
    /* seeds differ from each other (the comparison above is not vacuous) */
    const char *c0 = json_object_to_json_string(xb_jget(by_index(ra, 0), "loss_curve"));
    const char *c1 = json_object_to_json_string(xb_jget(by_index(ra, 1), "loss_curve"));
    cr_assert_str_neq(c0, c1);
    /* a second run into a used folder without --resume is refused */
    cr_assert_lt(sweep(&s, a, 0), 0);
    json_object_put(ra);
    json_object_put(rb);
    xb_suite_release(&s);
    rm_dir(a);
    rm_dir(b);
}

Test(sweep, sigint_then_resume_matches_uninterrupted, .timeout = 60)
{
    xb_suite s;
    load_tiny(&s);
    char ref[64], dir[64];
    tmp_dir(ref, sizeof ref);
    tmp_dir(dir, sizeof dir);
    unsetenv("XB_FAULT");
    cr_assert_eq(sweep(&s, ref, 0), XB_SWEEP_OK);

    /* Cell 3 sleeps (well inside its 3 s limit... until interrupted): SIGINT arrives while
     * cells 0-2 are recorded and cell 3 runs. */
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        setenv("XB_FAULT", "sleep:3", 1);
        _exit(sweep(&s, dir, 0));
    }
    char *cells = xb_path_join(dir, "cells.jsonl");
    int lines = 0;
    for (int tries = 0; tries < 2000 && lines < 3; tries++) {
        usleep(5000);
        FILE *f = fopen(cells, "r");
        lines = 0;
        for (int ch; f && (ch = fgetc(f)) != EOF;) lines += ch == '\n';
        if (f) fclose(f);
    }
    cr_assert_eq(lines, 3);
    kill(pid, SIGINT);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    cr_assert(WIFEXITED(st));
    cr_assert_eq(WEXITSTATUS(st), XB_SWEEP_INTERRUPTED);
    json_object *part = records(dir);
    cr_assert_eq(json_object_array_length(part), 3, "the interrupted cell is not recorded");
    json_object_put(part);

    /* --resume runs the three missing cells only */
    cr_assert_eq(sweep(&s, dir, 1), XB_SWEEP_OK);
    json_object *got = records(dir), *want = records(ref);
    cr_assert_eq(json_object_array_length(got), 6);
    assert_same_results(got, want);
    /* resuming a finished run runs nothing */
    cr_assert_eq(sweep(&s, dir, 1), XB_SWEEP_OK);
    json_object *again = records(dir);
    cr_assert_eq(json_object_array_length(again), 6);
    json_object_put(again);

    /* a changed suite never mixes with these cells */
    xb_suite s2;
    cr_assert_eq(xb_suite_load_string(
        "name: tiny\nseeds: [1, 2, 3]\nmodel: {dim: 16, layers: 1, heads: 2, mlp: none, short_conv: 3}\n"
        "train: {steps: 21, batch: 8, lr: 3.0e-3}\nmixers: [softmax]\n"
        "tasks: [{name: mqar, lengths: [16], options: {vocab: 64, kv_pairs: 2}}]\n", "changed.yaml", &s2, stderr), 0);
    cr_assert_lt(sweep(&s2, dir, 1), 0);
    xb_suite_release(&s2);

    free(cells);
    json_object_put(got);
    json_object_put(want);
    xb_suite_release(&s);
    rm_dir(ref);
    rm_dir(dir);
}

Test(sweep, only_and_shard_select_cells)
{
    xb_suite s;
    load_tiny(&s);
    xb_cell_spec *all, *cells;
    int n_all, n;
    xb_sweep_opts whole = { 0 };
    cr_assert_eq(xb_sweep_expand(&s, &whole, &all, &n_all, stderr), 0);
    cr_assert_eq(n_all, 6);
    /* --shard K/N: the cost-balanced split of harness/shard.h; the shards partition the cells,
     * each in the suite's order, and the three long (L = 32) cells land in three shards */
    int seen[6] = { 0 }, shard_of[6], total = 0;
    for (int k = 1; k <= 4; k++) {
        xb_sweep_opts o = { .shard_k = k, .shard_n = 4 };
        cr_assert_eq(xb_sweep_expand(&s, &o, &cells, &n, stderr), 0);
        for (int i = 0; i < n; i++) {
            cr_assert(cells[i].index >= 0 && cells[i].index < 6);
            seen[cells[i].index]++;
            shard_of[cells[i].index] = k;
            if (i) cr_assert_gt(cells[i].index, cells[i - 1].index);
            cr_assert_str_eq(cells[i].hash, all[cells[i].index].hash);
        }
        total += n;
        xb_sweep_cells_free(cells, n);
    }
    cr_assert_eq(total, 6);
    for (int i = 0; i < 6; i++) cr_assert_eq(seen[i], 1, "cell %d in %d shards", i, seen[i]);
    cr_assert(shard_of[3] != shard_of[4] && shard_of[4] != shard_of[5] && shard_of[3] != shard_of[5]);
    /* the hash covers the configuration: other seed, other hash */
    cr_assert_str_neq(all[0].hash, all[1].hash);
    xb_sweep_cells_free(all, n_all);
    xb_sweep_opts bad = { .only = "nosuchmixer" };
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(xb_sweep_expand(&s, &bad, &cells, &n, null), XB_EINVAL);
    fclose(null);
    xb_suite_release(&s);
}

/* Latency cells time a training step with the suite's top-level train: optimiser, which is
 * part of their configuration hash (another lr, another hash); steps and batch are not. */
static void latency_cell(const char *train, xb_suite *s, xb_cell_spec *out)
{
    char text[512];
    snprintf(text, sizeof text, "name: opt\nmodel: {dim: 16, layers: 1, heads: 2}\ntrain: %s\n"
             "latency: {lengths: [16]}\nmixers: [softmax]\ntasks: []\n", train);
    cr_assert_eq(xb_suite_load_string(text, "opt.yaml", s, stderr), 0);
    xb_cell_spec *cells;
    int n;
    xb_sweep_opts o = { 0 };
    cr_assert_eq(xb_sweep_expand(s, &o, &cells, &n, stderr), 0);
    cr_assert_eq(n, 1);
    cr_assert_eq(cells[0].kind, XB_CELL_LATENCY);
    *out = cells[0];
    out->config = NULL;
    xb_sweep_cells_free(cells, n);
}

Test(sweep, latency_cells_take_the_suite_optimiser)
{
    if (!xb_mixer_find("softmax")) cr_skip_test("softmax not registered");
    xb_suite s;
    xb_cell_spec a, b, c;
    latency_cell("{lr: 0.01, beta1: 0.8, beta2: 0.99, weight_decay: 0.2, clip: 0.5}", &s, &a);
    cr_assert_float_eq(a.train.lr, 0.01f, 0);
    cr_assert_float_eq(a.train.beta1, 0.8f, 0);
    cr_assert_float_eq(a.train.beta2, 0.99f, 0);
    cr_assert_float_eq(a.train.weight_decay, 0.2f, 0);
    cr_assert_float_eq(a.train.clip, 0.5f, 0);
    xb_suite_release(&s);
    latency_cell("{lr: 0.02, beta1: 0.8, beta2: 0.99, weight_decay: 0.2, clip: 0.5}", &s, &b);
    xb_suite_release(&s);
    latency_cell("{lr: 0.01, beta1: 0.8, beta2: 0.99, weight_decay: 0.2, clip: 0.5, steps: 7, batch: 3}", &s, &c);
    xb_suite_release(&s);
    cr_assert_str_neq(a.hash, b.hash);
    cr_assert_str_eq(a.hash, c.hash);
}

Test(sweep, skips_decided_before_forking, .timeout = 30)
{
    if (!xb_mixer_find("softmax") || !xb_mixer_find("linformer") || !xb_task_find("mqar"))
        cr_skip_test("softmax, linformer or mqar not registered");
    xb_suite s;
    cr_assert_eq(xb_suite_load_string(
        "name: skips\nmodel: {dim: 16, layers: 1, heads: 2}\ntrain: {steps: 5, batch: 4}\n"
        "latency: {lengths: [8192], mode: causal}\nlimits: {mem_limit_mb: 1}\n"
        "mixers: [softmax, linformer]\n"
        "tasks: [{name: mqar, lengths: [16], options: {vocab: 64, kv_pairs: 2}}]\n",
        "skips.yaml", &s, stderr), 0);
    xb_cell_spec *cells;
    int n;
    xb_sweep_opts o = { 0 };
    cr_assert_eq(xb_sweep_expand(&s, &o, &cells, &n, stderr), 0);
    cr_assert_eq(n, 4);
    /* 0 softmax mqar L=16: small enough; 1 linformer mqar: no causal form;
     * 2 softmax latency L=8192: over 1 MiB; 3 linformer latency: no causal form */
    cr_assert_str_eq(cells[0].skip, "");
    cr_assert_gt(cells[0].bytes, 0);
    cr_assert_str_eq(cells[1].skip, "skipped:no-causal-mode");
    cr_assert_str_eq(cells[2].skip, "skipped:too-large");
    cr_assert_gt(cells[2].bytes, (size_t)1 << 20);
    cr_assert_str_eq(cells[3].skip, "skipped:no-causal-mode");
    /* FLOPs are known without running: the tables show them for skipped cells too */
    cr_assert_gt(cells[2].flops_model, cells[2].flops_mixer);
    xb_sweep_cells_free(cells, n);

    /* run only the skipped ones: recorded, nothing forked, the run says not all ok */
    char dir[64];
    tmp_dir(dir, sizeof dir);
    FILE *null = fopen("/dev/null", "w");
    xb_sweep_opts r = { .out_dir = dir, .only = "linformer", .quiet = 1, .no_plots = 1, .err = null };
    cr_assert_eq(xb_sweep_run(&s, &r), XB_SWEEP_NOT_ALL_OK);
    fclose(null);
    json_object *recs = records(dir);
    cr_assert_eq(json_object_array_length(recs), 2);
    cr_assert_str_eq(xb_jstr(by_index(recs, 1), "status", ""), "skipped:no-causal-mode");
    cr_assert_null(xb_jget(by_index(recs, 1), "peak_rss_kb"), "a skipped cell ran no process");
    json_object_put(recs);
    xb_suite_release(&s);
    rm_dir(dir);
}
#endif

/* Latency at threads [1, 2]: the 2-thread cell alone times the mixer forward in pairs with 1
 * thread (measure.c time_paired), its configuration (so its hash) says so, and the report
 * prints the paired table. */
Test(sweep, latency_paired_with_the_smallest_thread_count, .timeout = 60)
{
    if (!xb_mixer_find("linear")) cr_skip_test("linear not registered");
    xb_suite s;
    cr_assert_eq(xb_suite_load_string("name: pair\nthreads: [2, 1]\nmodel: {dim: 16, layers: 1, heads: 2}\n"
                                      "latency: {lengths: [32], warmup: 0, min_reps: 3, min_time_s: 0}\n"
                                      "mixers: [linear]\ntasks: []\n", "pair.yaml", &s, stderr), 0);
    xb_cell_spec *cells;
    int n;
    xb_sweep_opts eo = { 0 };
    cr_assert_eq(xb_sweep_expand(&s, &eo, &cells, &n, stderr), 0);
    cr_assert_eq(n, 2);
    for (int i = 0; i < 2; i++) {
        int want = cells[i].threads == 2 ? 1 : 0;
        cr_assert_eq(cells[i].base_threads, want, "threads %d: base %d", cells[i].threads, cells[i].base_threads);
        cr_assert_eq(xb_jint(cells[i].config, "paired_threads", 0), want);
    }
    xb_sweep_cells_free(cells, n);
    char dir[64];
    tmp_dir(dir, sizeof dir);
    cr_assert_eq(sweep(&s, dir, 0), 0);
    json_object *recs = records(dir);
    cr_assert_eq(json_object_array_length(recs), 2);
    for (size_t i = 0; i < 2; i++) {
        json_object *r = json_object_array_get_idx(recs, i);
        json_object *p = xb_jpath(r, "latency.mixer_fwd_paired");
        if (xb_jint(r, "threads", 0) == 1) {
            cr_assert_null(p, "the smallest count has nothing to pair with");
            continue;
        }
        cr_assert_not_null(p);
        cr_assert_eq(xb_jint(p, "base_threads", 0), 1);
        int pairs = xb_jint(p, "pairs", 0);
        cr_assert_geq(pairs, 3);
        cr_assert_eq((int)json_object_array_length(xb_jget(p, "raw")), pairs);
        cr_assert_eq((int)json_object_array_length(xb_jget(p, "raw_base")), pairs);
        double sp = xb_jnum(p, "speedup", -1), lo = xb_jnum(p, "speedup_p10", -1), hi = xb_jnum(p, "speedup_p90", -1);
        cr_assert(sp > 0 && lo > 0 && lo <= sp && sp <= hi, "speedup %g in [%g, %g]", sp, lo, hi);
        cr_assert(xb_jnum(p, "base_median", -1) > 0 && xb_jnum(p, "median", -1) > 0);
        /* the speedup is the median of raw_base[i] / raw[i], pair by pair */
        double ratio[64];
        cr_assert_leq(pairs, 64);
        for (int k = 0; k < pairs; k++)
            ratio[k] = json_object_get_double(json_object_array_get_idx(xb_jget(p, "raw_base"), k)) /
                       json_object_get_double(json_object_array_get_idx(xb_jget(p, "raw"), k));
        for (int a = 0; a < pairs; a++)   /* sort */
            for (int b = a + 1; b < pairs; b++)
                if (ratio[b] < ratio[a]) { double z = ratio[a]; ratio[a] = ratio[b]; ratio[b] = z; }
        double med = pairs % 2 ? ratio[pairs / 2] : 0.5 * (ratio[pairs / 2 - 1] + ratio[pairs / 2]);
        cr_assert(fabs(med - sp) <= 1e-6 * sp, "speedup %g, median of the raw ratios %g", sp, med);
    }
    char *t = xb_path_join(dir, "tables.md");
    FILE *f = fopen(t, "r");
    free(t);
    cr_assert_not_null(f);
    char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    buf[len] = 0;
    fclose(f);
    cr_assert_not_null(strstr(buf, "### mixer layer alone, forward, paired\n"), "%s", buf);
    json_object_put(recs);
    xb_suite_release(&s);
    rm_dir(dir);
}
