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
#include "harness/cell.h"
#include "harness/store.h"

/* A fake cell: fault hook for its index, then some progress and a result. */
typedef struct fake { int index; size_t touch_mb; int exit_code; } fake;

static int fake_cell(xb_cell_chan *ch, void *ctx)
{
    fake *f = ctx;
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
    if (f->exit_code) return f->exit_code;          /* ends without a result */
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
