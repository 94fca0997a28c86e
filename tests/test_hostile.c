/* tests/test_hostile.c — suites and arguments written to hurt (harness/suite.c, harness/diag.c):
 *   bounded     big inputs are refused or read in linear time: 200 KB of nested brackets,
 *               100,000 keys, long lists, sweep axes over a long item, alias bombs, files over
 *               1 MiB, and /dev/zero, a FIFO or a folder given as the suite (each test has a
 *               Criterion timeout and asserts its load takes well under two seconds)
 *   empty       an empty suite, a second document, a suite that selects no cell: errors
 *   escaped     control characters from the input never reach the terminal raw; quoted lines
 *               are cut to XB_DIAG_WIDTH columns with the caret still under the right place
 *   names       names outside [A-Za-z0-9_.=-] are refused with a message, not looked up
 *   meta.json   a hostile machine description is read without undefined behaviour
 *               (crashers of tests/fuzz/, whose `make fuzz-regress` replays every one)
 * (The command-line side — --only, -o, exit codes — is in tests/test_cli.c.) */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/xb.h"
#include "harness/diag.h"
#include "harness/report/benchjson.h"
#include "harness/report/report.h"
#include "harness/suite.h"
#include "tests/tmpdir.h"

/* ------------------------------------------------------------------------------------------
 * helpers */

/* CPU seconds of this process: what the loader costs, however busy the machine is (the
 * Criterion .timeout bounds the wall-clock time) */
static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Load text (its length given: it may hold anything); the code, the messages (malloc'd) and
 * the seconds it took. */
static int load_timed(const char *text, xb_suite *s, char **errs, double *secs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    double t0 = now_s();
    int rc = xb_suite_load_string(text, "h.yaml", s, f);
    *secs = now_s() - t0;
    fclose(f);
    if (rc == 0) xb_suite_release(s);
    if (errs) *errs = buf;
    else free(buf);
    return rc;
}

/* A growing string. */
typedef struct { char *p; size_t n, cap; } sbuf;

static void put(sbuf *b, const char *s)
{
    size_t k = strlen(s);
    if (b->n + k + 1 > b->cap) {
        b->cap = 2 * (b->n + k + 1);
        b->p = realloc(b->p, b->cap);
        cr_assert_not_null(b->p);
    }
    memcpy(b->p + b->n, s, k + 1);
    b->n += k;
}

static void putf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(sbuf *b, const char *fmt, ...)
{
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp);
}

/* Every byte of s is printable text: no control character but newline and tab. */
static int no_control_bytes(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) return 0;
    return 1;
}

#define FAST 2.0   /* CPU seconds: the loads below take a few hundredths to a few tenths;
                      before, up to minutes */

/* ------------------------------------------------------------------------------------------
 * bounded: size, nesting, keys, lists, axes, aliases */

Test(hostile, nested_brackets_refused_before_libyaml_builds_them, .timeout = 10)
{
    /* 200 KB of '[': libyaml's scanner slowed down with each level (76 s) */
    sbuf b = {0};
    put(&b, "tasks: ");
    for (int i = 0; i < 100000; i++) put(&b, "[");
    for (int i = 0; i < 100000; i++) put(&b, "]");
    put(&b, "\n");
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "h.yaml:1:71: nested more than 64 levels deep"), "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    /* block nesting counts the same way; 64 levels are still read */
    b.n = 0;
    put(&b, "tasks:\n");
    for (int i = 0; i < 100000; i++) put(&b, "- ");
    put(&b, "x\n");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "nested more than 64 levels deep"), "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    b.n = 0;
    put(&b, "x: ");
    for (int i = 0; i < 63; i++) put(&b, "[");
    for (int i = 0; i < 63; i++) put(&b, "]");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(!strstr(errs, "nested"), "64 levels are allowed: %s", errs);
    cr_expect(strstr(errs, "unknown key 'x'"), "%.600s", errs);
    free(errs);
    free(b.p);
}

Test(hostile, directives_are_counted_before_libyaml_compares_them, .timeout = 10)
{
    /* 40,000 %TAG lines: libyaml compared each with all before it (10 s) */
    sbuf b = {0};
    for (int i = 0; i < 40000; i++) putf(&b, "%%TAG !a%d! tag:x,2000:\n", i);
    put(&b, "---\nmixers: [pool]\nlatency: {lengths: [64]}\n");
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "h.yaml:17:1: more than 16 directives (lines starting with '%')\n") == errs, "%.600s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    cr_expect_eq(load_timed("%YAML 1.1\n---\nmixers: [pool]\nlatency: {lengths: [64]}\n", &s, &errs, &t), 0,
                 "%.600s", errs);
    free(errs);
    free(b.p);
}

Test(hostile, a_hundred_thousand_keys_in_linear_time, .timeout = 10)
{
    /* the duplicate-key check compared every pair (99 s) */
    sbuf b = {0};
    for (int i = 0; i < 100000; i++) putf(&b, "k%d: 1\n", i);
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(!strncmp(errs, "h.yaml:1:1: k0: unknown key 'k0'\n", 33), "%.300s", errs);
    cr_expect(strstr(errs, "h.yaml: too many errors; only the first 50 are shown\n"), "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    /* the same inside a task's options: (61 s), and a repeated key found by hashing */
    b.n = 0;
    put(&b, "tasks: [{name: mqar, options: {");
    for (int i = 0; i < 60000; i++) putf(&b, "%so%d: 1", i ? ", " : "", i);
    put(&b, ", o17: 2}}]\n");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "tasks[0].options.o0: unknown option 'o0' for task 'mqar'"), "%.300s", errs);
    cr_expect(strstr(errs, "duplicate key 'o17' (first at line 1)"), "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    free(b.p);
}

Test(hostile, long_lists_in_linear_time, .timeout = 10)
{
    /* repeated values were found by comparing every pair: 100,000 seeds took seconds */
    sbuf b = {0};
    put(&b, "mixers: [pool]\nlatency: {lengths: [64]}\nseeds: [");
    for (int i = 0; i < 100000; i++) putf(&b, "%s%d", i ? ", " : "", i);
    put(&b, "]\n");
    xb_suite s;
    char *errs;
    double t;
    cr_expect_eq(load_timed(b.p, &s, &errs, &t), 0, "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    /* a repeat at the end is still found, at its place */
    b.n = 0;
    put(&b, "mixers: [pool]\nlatency: {lengths: [");
    for (int i = 1; i <= 100000; i++) putf(&b, "%s%d", i > 1 ? ", " : "", i);
    put(&b, ", 5]}\n");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "latency.lengths[100000]: 5 is listed twice"), "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    /* without the repeat: 100,000 latency lengths make more cells than a suite may have */
    b.n = 0;
    put(&b, "mixers: [pool]\nlatency: {lengths: [");
    for (int i = 1; i <= 100000; i++) putf(&b, "%s%d", i > 1 ? ", " : "", i);
    put(&b, "]}\n");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "h.yaml: the suite makes 100000 cells, more than the 20000 a suite may have"),
              "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    free(b.p);
}

Test(hostile, sweep_axes_read_the_item_once, .timeout = 20)
{
    /* 4096 configurations of an item with a 100,000-entry mixers: list: each configuration
     * read the whole item again (82 s) */
    sbuf b = {0};
    put(&b, "mixers: [pool]\nlatency: {lengths: []}\ntasks:\n  - name: majority\n    lengths: [16]\n"
            "    mixers: [");
    for (int i = 0; i < 100000; i++) put(&b, i ? ", pool" : "pool");
    put(&b, "]\n    options: {classes: [");
    for (int i = 0; i < 64; i++) putf(&b, "%s%d", i ? ", " : "", 2 + i % 8);
    put(&b, "], train_examples: [");
    for (int i = 0; i < 64; i++) putf(&b, "%s%d", i ? ", " : "", 100 + i);
    put(&b, "]}\n");
    xb_suite s;
    char *errs = NULL;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    double t0 = now_s();
    int rc = xb_suite_load_string(b.p, "h.yaml", &s, f);
    double t = now_s() - t0;
    fclose(f);
    cr_assert_eq(rc, 0, "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    /* every configuration is its own copy, with its own values */
    cr_assert_eq(s.n_tasks, 4096);
    const xb_task *task = s.tasks[0].task;
    int cl = -1, te = -1;
    for (int j = 0; j < task->n_opts; j++) {
        if (!strcmp(task->opts[j].name, "classes")) cl = j;
        if (!strcmp(task->opts[j].name, "train_examples")) te = j;
    }
    cr_assert(cl >= 0 && te >= 0);
    cr_expect_str_eq(s.tasks[0].label, "classes=2 train_examples=100");
    cr_expect_str_eq(s.tasks[4095].label, "classes=9 train_examples=163");
    cr_expect_eq(s.tasks[4095].cfg.opt[cl], 9);
    cr_expect_eq(s.tasks[4095].cfg.opt[te], 163);
    cr_expect_eq(s.tasks[65].cfg.opt[te], 101);
    cr_expect_neq(s.tasks[1].lengths, s.tasks[0].lengths);
    cr_expect_neq(s.tasks[1].use, s.tasks[0].use);
    cr_expect_eq(s.tasks[4095].use[0], 1);
    xb_suite_release(&s);
    free(errs);
    free(b.p);
}

Test(hostile, too_many_tasks_or_cells_refused_early, .timeout = 10)
{
    sbuf b = {0};
    put(&b, "mixers: [pool]\ntasks: [");
    for (int i = 0; i < 10001; i++) put(&b, i ? ", majority" : "majority");
    put(&b, "]\n");
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "tasks: the tasks expand into 10001 configurations, more than the 10000"),
              "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    /* sweep axes multiply: 30 items of 4096 configurations */
    b.n = 0;
    put(&b, "mixers: [pool]\ntasks:\n");
    for (int k = 0; k < 3; k++) {
        put(&b, "  - {name: majority, options: {train_examples: [");
        for (int i = 0; i < 4096; i++) putf(&b, "%s%d", i ? ", " : "", 100 + i);
        put(&b, "]}}\n");
    }
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "the tasks expand into 12288 configurations"), "%.300s", errs);
    free(errs);
    free(b.p);
}

Test(hostile, aliases_count_as_copies, .timeout = 10)
{
    /* a 20 KB suite whose aliases made 80 million cells (13 s to validate, and a run would
     * have tried to hold them all) */
    sbuf b = {0};
    put(&b, "mixers: all\nlatency: {lengths: []}\ntasks: [&t {name: majority, lengths: [");
    for (int i = 0; i < 1000; i++) putf(&b, "%s%d", i ? ", " : "", 8 + 2 * i);
    put(&b, "]}");
    for (int i = 0; i < 5000; i++) put(&b, ", *t");
    put(&b, "]\n");
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "more than 2000000 values, counting each alias as a copy of what it names"),
              "%.300s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    /* the billion laughs */
    b.n = 0;
    put(&b, "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n");
    for (int i = 1; i < 10; i++) {
        putf(&b, "a%d: &a%d [", i, i);
        for (int k = 0; k < 10; k++) putf(&b, "%s*a%d", k ? ", " : "", i - 1);
        put(&b, "]\n");
    }
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "more than 2000000 values"), "%.300s", errs);
    free(errs);
    /* libyaml's loader looks each anchor up in a list of all of them: 65,000 anchors took 26 s */
    b.n = 0;
    put(&b, "mixers: [pool]\nlatency: {lengths: [64]}\nseeds: [");
    for (int i = 0; i < 65000; i++) putf(&b, "%s&a%d %d", i ? ", " : "", i, i);
    put(&b, "]\n");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "h.yaml:3:10789: more than 1000 anchors (&name)"), "%.600s", errs);
    cr_expect_lt(t, FAST, "%.2f s", t);
    free(errs);
    b.n = 0;
    put(&b, "mixers: [pool]\nlatency: {lengths: [64]}\nseeds: [&s 1]\nthreads: [");
    for (int i = 0; i < 10001; i++) put(&b, i ? ", *s" : "*s");
    put(&b, "]\n");
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "more than 10000 aliases (*name)"), "%.600s", errs);
    free(errs);
    /* an alias of what is still open, or of nothing: refused */
    cr_assert_eq(load_timed("tasks: &x [*x]\n", &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "alias '*x' names no anchor before it"), "%.600s", errs);
    free(errs);
    /* a plain anchor and alias still work */
    cr_expect_eq(load_timed("model: &m {dim: 32, heads: 2}\nmixers: [pool]\n"
                            "tasks: [{name: majority, lengths: [16], model: *m}]\n", &s, &errs, &t), 0,
                 "%.600s", errs);
    free(errs);
    free(b.p);
}

/* A file of `bytes` bytes: a valid suite padded with comments. */
static void write_padded(const char *path, size_t bytes)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    const char *head = "mixers: [pool]\nlatency: {lengths: [64]}\n";
    fputs(head, f);
    size_t n = strlen(head);
    while (n < bytes) {
        size_t k = bytes - n > 80 ? 80 : bytes - n;
        for (size_t i = 0; i + 1 < k; i++) fputc(i ? 'x' : '#', f);
        fputc('\n', f);
        n += k;
    }
    fclose(f);
}

Test(hostile, files_over_one_mib_refused, .timeout = 10)
{
    char dir[] = "/tmp/xbench-hostile-XXXXXX", path[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/big.yaml", dir);
    xb_suite s;
    char *errs = NULL;
    size_t len;
    write_padded(path, 1 << 20);               /* exactly 1 MiB: read */
    FILE *f = open_memstream(&errs, &len);
    cr_expect_eq(xb_suite_load(path, &s, f), 0);
    fclose(f);
    xb_suite_release(&s);
    free(errs);
    write_padded(path, (1 << 20) + 1);         /* one byte more: refused, with the file's name */
    f = open_memstream(&errs, &len);
    cr_expect_eq(xb_suite_load(path, &s, f), XB_EINVAL);
    fclose(f);
    cr_expect(strstr(errs, "big.yaml: 1048577 bytes: more than the 1048576 a suite may have (1 MiB)"),
              "%.600s", errs);
    free(errs);
    /* the same limit for text given directly */
    char *big = malloc((1 << 20) + 2);
    memset(big, '#', (1 << 20) + 1);
    big[(1 << 20) + 1] = '\0';
    double t;
    cr_expect_eq(load_timed(big, &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "h.yaml: 1048577 bytes: more than"), "%.600s", errs);
    free(errs);
    free(big);
    unlink(path);
    rmdir(dir);
}

Test(hostile, only_regular_files_are_read, .timeout = 10)
{
    /* /dev/zero never ends and a FIFO waits for a writer: both hung */
    xb_suite s;
    char *errs = NULL;
    size_t len;
    FILE *f = open_memstream(&errs, &len);
    cr_expect_eq(xb_suite_load("/dev/zero", &s, f), XB_EIO);
    cr_expect_eq(xb_suite_load("/dev/null", &s, f), XB_EIO);
    char dir[] = "/tmp/xbench-hostile-XXXXXX", fifo[128];
    cr_assert_not_null(mkdtemp(dir));
    snprintf(fifo, sizeof fifo, "%s/pipe.yaml", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    cr_expect_eq(xb_suite_load(fifo, &s, f), XB_EIO);
    cr_expect_eq(xb_suite_load(dir, &s, f), XB_EIO);
    fclose(f);
    cr_expect(strstr(errs, "/dev/zero: not a regular file (a character device)"), "%.600s", errs);
    cr_expect(strstr(errs, "/dev/null: not a regular file (a character device)"), "%.600s", errs);
    cr_expect(strstr(errs, "pipe.yaml: not a regular file (a FIFO)"), "%.600s", errs);
    cr_expect(strstr(errs, ": is a folder, not a suite file"), "%.600s", errs);
    free(errs);
    unlink(fifo);
    rmdir(dir);
}

/* ------------------------------------------------------------------------------------------
 * empty: nothing to run is an error */

Test(hostile, empty_suites_are_errors)
{
    const char *empty[] = {"", "\n\n", "# only a comment\n", "~\n", "{}\n", "---\n...\n"};
    for (size_t i = 0; i < sizeof empty / sizeof *empty; i++) {
        xb_suite s;
        char *errs;
        double t;
        cr_expect_eq(load_timed(empty[i], &s, &errs, &t), XB_EINVAL, "'%s' loaded", empty[i]);
        cr_expect(!strncmp(errs, "h.yaml: the suite is empty", 26), "'%s': %s", empty[i], errs);
        free(errs);
    }
}

Test(hostile, a_second_document_is_an_error)
{
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed("mixers: [pool]\nlatency: {lengths: [64]}\n---\nmixers: [softmax]\n", &s,
                            &errs, &t), XB_EINVAL);
    cr_expect(!strncmp(errs, "h.yaml:3:1: a second YAML document: a suite is one document", 58), "%.600s", errs);
    free(errs);
    cr_assert_eq(load_timed("mixers: [pool]\nlatency: {lengths: [64]}\n...\n---\n", &s, &errs, &t), XB_EINVAL);
    cr_expect(strstr(errs, "h.yaml:4:1: a second YAML document"), "%.600s", errs);
    free(errs);
}

Test(hostile, nothing_to_run_is_an_error)
{
    struct { const char *text, *want; } cases[] = {
        {"mixers: []\ntasks: [majority]\n", "h.yaml:1:9: mixers: nothing to run: no mixers"},
        {"tasks: []\nlatency: {lengths: []}\n",
         "h.yaml:2:20: latency.lengths: nothing to run: no tasks and no latency lengths"},
        {"latency: {lengths: []}\nmixers: [pool]\n",
         "h.yaml:1:20: latency.lengths: nothing to run: no tasks and no latency lengths"},
        {"latency: {lengths: []}\nmixers: [pool]\ntasks: [{name: majority, lengths: [16], mixers: []}]\n",
         "h.yaml:3:8: tasks: nothing to run: no task runs any of the suite's mixers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xb_suite s;
        char *errs;
        double t;
        cr_expect_eq(load_timed(cases[i].text, &s, &errs, &t), XB_EINVAL, "%s", cases[i].text);
        cr_expect(!strncmp(errs, cases[i].want, strlen(cases[i].want)), "want %s\ngot %s", cases[i].want, errs);
        free(errs);
    }
}

/* ------------------------------------------------------------------------------------------
 * escaped: what reaches the terminal */

Test(hostile, escape_control_characters)
{
    char buf[256];
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "a\x1b[31mb"), "a\\x1b[31mb");
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "t\tn\nr\rz\x7f"), "t\\tn\\nr\\rz\\x7f");
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "csi\xc2\x9b" "2J"), "csi\\u009b2J");       /* C1 */
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "raw\x9b" "2J\xff"), "raw\\x9b2J\\xff");   /* not UTF-8 */
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "\xe2\x80\xae" "evil"), "\\u202eevil");     /* bidi */
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "\xc0\xaf"), "\\xc0\\xaf");                 /* overlong */
    cr_expect_str_eq(xb_escape(buf, sizeof buf, "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x99\x82"),
                     "caf\xc3\xa9 \xe2\x80\x94 \xf0\x9f\x99\x82");                            /* text stays */
    cr_expect_str_eq(xb_escape(buf, 8, "abcdefghij"), "abcd...");
    cr_expect_str_eq(xb_escape(buf, 8, "\x1b\x1b\x1b"), "\\x1b...");
    char *out = NULL;
    size_t n;
    FILE *f = open_memstream(&out, &n);
    cr_expect_eq(xb_put_escaped(f, "a\tb\x1b", 4, 1), 7);   /* a, tab, b, then \x1b: 4 columns */
    fclose(f);
    cr_expect_str_eq(out, "a\tb\\x1b");
    free(out);
}

Test(hostile, messages_never_carry_control_bytes)
{
    /* an escape in a quoted value, echoed as a name, a key and a path */
    const char *texts[] = {
        "mixers: [\"soft\\e]0;owned\\amax\"]\n",
        "tasks: [{name: \"\\e[2Jmqar\"}]\n",
        "\"\\e[31mmodel\": {dim: 64}\n",
        "model: {\"d\\x9bim\": 64}\n",
        "mixer_options: {\"\\u202esoftmax\": {}}\n",
        "name: \"run\\e[0m\"\n",
        "tasks: [{name: mqar, options: {\"kv\\tpairs\": 3}}]\n",
        "seeds: [\"\\e\"]\n",
        "tasks: [mq\x1b[31mar]\n",                      /* raw: libyaml refuses the byte */
    };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        xb_suite s;
        char *errs;
        double t;
        cr_expect_eq(load_timed(texts[i], &s, &errs, &t), XB_EINVAL, "%s", texts[i]);
        cr_expect(no_control_bytes(errs), "case %zu: a control byte reached the messages:\n%s", i, errs);
        cr_expect(strstr(errs, "\\x1b") || strstr(errs, "\\u") || strstr(errs, "\\t") || strstr(errs, "\\x9b"),
                  "case %zu: not shown escaped: %s", i, errs);
        free(errs);
    }
    /* the file's own name too */
    xb_diag d;
    char *out = NULL;
    size_t n;
    FILE *f = open_memstream(&out, &n);
    xb_diag_init(&d, "evil\x1b[2J.yaml", "a: b\n", 5, f);
    xb_diag_error(&d, 1, 4, 1, "a\x07", "got '%s'", "\x1b]8;;http://x\x1b\\");
    xb_diag_note(&d, "note \x1b[1m");
    fclose(f);
    cr_expect(no_control_bytes(out), "%s", out);
    cr_expect(!strncmp(out, "evil\\x1b[2J.yaml:1:4: a\\x07: got '\\x1b]8;;http://x\\x1b\\'\n", 55), "%s", out);
    free(out);
}

/* The quoted line of an error at column col of a line of n characters: each output line is
 * at most XB_DIAG_WIDTH + a margin wide, and the caret is under the character at col. */
static void check_cut(int n, int col, char mark)
{
    char *text = malloc((size_t)n + 2);
    for (int i = 0; i < n; i++) text[i] = (char)('a' + i % 26);
    text[col - 1] = mark;
    text[n] = '\n';
    text[n + 1] = '\0';
    xb_diag d;
    char *out = NULL;
    size_t len;
    FILE *f = open_memstream(&out, &len);
    xb_diag_init(&d, "w.yaml", text, (size_t)n + 1, f);
    xb_diag_error(&d, 1, col, 1, NULL, "here");
    fclose(f);
    char *l1 = strchr(out, '\n') + 1, *l2 = strchr(l1, '\n') + 1, *e2 = strchr(l2, '\n');
    cr_assert(e2);
    cr_expect_leq(l2 - l1 - 1, XB_DIAG_WIDTH + 16, "quoted line of %d columns", (int)(l2 - l1 - 1));
    const char *caret = strchr(l2, '^');
    /* (messages print at most 600 bytes: Criterion stalls on megabyte-long ones) */
    cr_assert(caret && caret < e2, "%.600s", out);
    cr_expect_eq(l1[caret - l2], mark, "n %d col %d: caret not under the mark:\n%.600s", n, col, out);
    if (n > XB_DIAG_WIDTH) cr_expect(strstr(l1, "...") && strstr(l1, "...") < l2, "no ellipsis:\n%.600s", out);
    free(out);
    free(text);
}

Test(hostile, long_lines_are_cut_around_the_caret, .timeout = 10)
{
    check_cut(50, 10, '#');            /* short: whole */
    check_cut(1000, 10, '#');          /* caret near the start: the start, then "..." */
    check_cut(1000, 700, '#');         /* in the middle: "..." both sides */
    check_cut(1000, 1000, '#');        /* at the end */
    check_cut(1000000, 999990, '#');   /* a megabyte-long line */
    /* escapes widen what is shown: the caret follows */
    xb_diag d;
    char *out = NULL;
    size_t n;
    FILE *f = open_memstream(&out, &n);
    const char *text = "x: \"\x1b\x1b\" 7\n";
    xb_diag_init(&d, "e.yaml", text, strlen(text), f);
    xb_diag_error(&d, 1, 8, 1, NULL, "seven");
    fclose(f);
    cr_expect_str_eq(out, "e.yaml:1:8: seven\n"
                          "    1 | x: \"\\x1b\\x1b\" 7\n"
                          "      |              ^\n");
    free(out);
}

Test(hostile, a_suite_with_a_long_line_is_quoted_short, .timeout = 10)
{
    sbuf b = {0};
    put(&b, "latency: {lengths: [");
    for (int i = 0; i < 20000; i++) putf(&b, "%s%d", i ? ", " : "", 1 + i);
    put(&b, "], mode: zz}\n");
    xb_suite s;
    char *errs;
    double t;
    cr_assert_eq(load_timed(b.p, &s, &errs, &t), XB_EINVAL);
    cr_expect_lt(t, FAST, "%.2f s", t);
    for (char *p = errs, *e; (e = strchr(p, '\n')); p = e + 1)
        cr_expect_leq(e - p, XB_DIAG_WIDTH + 300, "a line of %d bytes in the messages", (int)(e - p));
    cr_expect(strstr(errs, "h.yaml:1:128922: latency.mode: expected one of causal, bidirectional, got 'zz'\n"
                           "    1 | ..., 19988, 19989"), "%.400s", errs);
    free(errs);
    free(b.p);
}

/* ------------------------------------------------------------------------------------------
 * names */

Test(hostile, names_outside_the_name_characters_are_refused)
{
    struct { const char *text, *want; } cases[] = {
        {"mixers: [\"soft max\"]\n", "h.yaml:1:10: mixers[0]: expected a mixer name (letters, digits, '_', '.', '=', '-'), got the string 'soft max'"},
        {"tasks: [\"mqar;rm\"]\n", "h.yaml:1:9: tasks[0].name: expected a task name"},
        {"tasks: [{name: \"mqar;rm\"}]\n", "h.yaml:1:16: tasks[0].name: expected a task name (letters, digits"},
        {"mixer_options: {\"soft/max\": {}}\n", "h.yaml:1:17: mixer_options.soft/max: expected a mixer name"},
        {"mixers: [pool]\ntasks: [{name: majority, mixers: [\"po ol\"]}]\n", "h.yaml:2:35: tasks[0].mixers[0]: expected a mixer name"},
        {"name: \"a b\"\n", "h.yaml:1:7: name: expected a run name of letters, digits, '_', '.', '=' and '-'"},
        {"tasks: [{name: \"mqar\\0x\"}]\n", "h.yaml:1:16: a NUL character (\\0) in a value"},
        {"mixers: [pool]\ntasks: [{name: majority, lengths: [16], mixers: [pooll]}]\n",
         "h.yaml:2:50: tasks[0].mixers[0]: unknown mixer of this suite 'pooll'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        xb_suite s;
        char *errs;
        double t;
        cr_expect_eq(load_timed(cases[i].text, &s, &errs, &t), XB_EINVAL, "%s", cases[i].text);
        cr_expect(!strncmp(errs, cases[i].want, strlen(cases[i].want)), "want %s\ngot %s", cases[i].want, errs);
        free(errs);
    }
    /* a name that cannot be right gets no list of near names; a near miss does */
    xb_suite s;
    char *errs;
    double t;
    load_timed("mixers: [\"\\e[2J\"]\n", &s, &errs, &t);
    cr_expect(!strstr(errs, "closest first"), "%.600s", errs);
    free(errs);
    load_timed("mixers: [sofmax]\n", &s, &errs, &t);
    cr_expect(strstr(errs, "note: valid mixers, closest first: softmax"), "%.600s", errs);
    free(errs);
    /* '=' is a name character; a long value is cut in the message */
    cr_expect_eq(load_timed("name: lr=0.1\nmixers: [pool]\nlatency: {lengths: [64]}\n", &s, &errs, &t), 0, "%.600s", errs);
    free(errs);
    sbuf b = {0};
    put(&b, "mixers: [");
    for (int i = 0; i < 100; i++) put(&b, "x");
    put(&b, "]\n");
    load_timed(b.p, &s, &errs, &t);
    cr_expect(strstr(errs, "unknown mixer 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...'"),
              "%.400s", errs);
    free(errs);
    free(b.p);
}

Test(hostile, the_canonical_dump_escapes_what_it_quotes)
{
    /* data_dir is the one free string of a suite: validate prints it back */
    xb_suite s;
    char *errs = NULL;
    size_t n;
    FILE *f = open_memstream(&errs, &n);
    cr_assert_eq(xb_suite_load_string("mixers: [pool]\nlatency: {lengths: []}\n"
                                      "tasks: [{name: majority, lengths: [16], data_dir: \"/d\\e[2J\\u202e\\u0085\\u200f\\u2067x\"}]\n",
                                      "h.yaml", &s, f), 0);
    fclose(f);
    free(errs);
    cr_expect(strstr(s.canonical, "data_dir: \"/d\\x1b[2J\\u202e\\u0085\\u200f\\u2067x\"\n"), "%s", s.canonical);
    cr_expect(no_control_bytes(s.canonical), "%s", s.canonical);
    cr_expect(!strstr(s.canonical, "\xe2\x80\xae"), "a raw U+202E in:\n%s", s.canonical);
    /* and it reads back to itself */
    xb_suite again;
    f = open_memstream(&errs, &n);
    cr_assert_eq(xb_suite_load_string(s.canonical, "h.yaml", &again, f), 0, "%.600s", errs);
    fclose(f);
    free(errs);
    cr_expect_str_eq(again.tasks[0].data_dir, s.tasks[0].data_dir);
    cr_expect_eq(again.hash, s.hash);
    xb_suite_release(&again);
    xb_suite_release(&s);
}

/* meta.json's machine.caches is text ("L1d 48K (per 1 CPU), ..."); a size no int64 holds
 * (1e300K, inf, nan, a negative one) was converted to int64 anyway, which is undefined
 * (x86 gives INT64_MIN). Such a cache is left out of gbench.json's context; the others stay.
 * Fuzz crasher tests/fuzz/crashers/meta/ub-cache-size-past-int64. */
Test(hostile, meta_cache_sizes_past_int64_are_left_out)
{
    json_object *meta = json_tokener_parse(
        "{\"suite_name\": \"x\", \"machine\": {\"caches\": \"L1d 48K (per 1 CPU), L2 1e300K (per 1 CPU), "
        "L3 infM, L3 nanK, L3 -5K, L3 2G (per 4 CPUs)\"}}");
    cr_assert_not_null(meta);
    json_object *recs = json_object_new_array();
    xb_results res;
    cr_assert_eq(xb_results_init(&res, meta, recs), 0);
    json_object *doc = xb_gbench_json(&res);
    xb_results_release(&res);
    json_object *ctx = NULL, *caches = NULL;
    cr_assert(json_object_object_get_ex(doc, "context", &ctx));
    cr_assert(json_object_object_get_ex(ctx, "caches", &caches));
    cr_assert_eq(json_object_array_length(caches), 2, "%s", json_object_to_json_string(caches));
    static const int64_t want[2] = { 48 * 1024, 2LL << 30 };
    for (size_t i = 0; i < 2; i++) {
        json_object *size = NULL;
        cr_assert(json_object_object_get_ex(json_object_array_get_idx(caches, i), "size", &size));
        cr_expect_eq(json_object_get_int64(size), want[i], "cache %zu", i);
    }
    json_object_put(doc);
    json_object_put(recs);
    json_object_put(meta);
}

/* A meta.json that parses as JSON but not as an object ("NaN{...}" is read as the number NaN,
 * "[1]" as an array) is a meta.json that cannot be read: `xbench report` goes on without it
 * (json_object_object_del on the number aborted it). Fuzz crasher
 * tests/fuzz/crashers/meta/abort-meta-json-not-an-object. */
Test(hostile, meta_json_that_is_no_object_is_left_out)
{
    static const char *const metas[] = { "NaN{\"suite_hash\": \"b126b79a26f30cbf\"}", "[1, 2]", "\"meta\"", "7" };
    for (size_t i = 0; i < sizeof metas / sizeof *metas; i++) {
        char dir[64];
        tmpdir_make(dir, sizeof dir, "xb-hostile-meta");
        tmpdir_write(dir, "meta.json", metas[i]);
        tmpdir_write(dir, "cells.jsonl", "{\"v\":1,\"kind\":\"latency\",\"mixer\":\"softmax\",\"L\":64,"
                                         "\"threads\":1,\"status\":\"ok\",\"config_hash\":\"a\"}\n");
        char *errs = NULL;
        size_t n;
        FILE *f = open_memstream(&errs, &n);
        cr_expect_eq(xb_report_dir(dir, NULL, f), 0, "meta.json '%s'", metas[i]);
        fclose(f);
        free(errs);
        const char *tables = tmpdir_read(dir, "tables.md");
        cr_expect(tables && strstr(tables, "no meta.json"), "meta.json '%s': %s", metas[i], tables ? tables : "(none)");
        tmpdir_remove(dir);
    }
}
