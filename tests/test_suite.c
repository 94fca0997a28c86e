/* tests/test_suite.c — suite.yaml loading (harness/suite.c) and its diagnostics (harness/diag.c):
 *   bad          every tests/data/bad/<x>.yaml fails and its first error line is exactly
 *                tests/data/bad/<x>.expected (golden files, jq style)
 *   good         every tests/data/good/<x>.yaml loads
 *   defaults     a minimal suite gets every default; `mixers: all` is the registry
 *   lists        seeds/threads as one value or lists
 *   fake_*       options, task overrides, modes and the mixers'/tasks' own check() hooks,
 *                against small fake mixer/task tables (xb_suite_load_with), so these tests
 *                do not depend on which mixers and tasks are registered
 *   canonical    the dump reads back to itself; the hash is stable and sensitive
 *   docs         README.md's "## Suite keys" section is what the tables generate
 * (Suites written to hurt — size, nesting, aliases, escapes, empty suites — are in
 * tests/test_hostile.c.) */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/diag.h"
#include "harness/suite.h"
#include "mixers/registry.h"
#include "tasks/registry.h"

/* ------------------------------------------------------------------------------------------
 * helpers */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

/* Load text; returns the code and (if errs) the error output (malloc'd). */
static int load(const char *text, xb_suite *s, char **errs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = xb_suite_load_string(text, "t.yaml", s, f);
    fclose(f);
    if (errs) *errs = buf;
    else free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------------------
 * golden bad files */

Test(suite, bad_files)
{
    DIR *d = opendir("tests/data/bad");
    cr_assert(d, "run the tests from the repository root (tests/data/bad not found)");
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml")) continue;
        char path[512], exp_path[512];
        snprintf(path, sizeof path, "tests/data/bad/%s", e->d_name);
        snprintf(exp_path, sizeof exp_path, "tests/data/bad/%.*s.expected", (int)(l - 5), e->d_name);
        char *expected = slurp(exp_path);
        cr_assert(expected, "%s has no .expected file", path);
        expected[strcspn(expected, "\n")] = '\0';

        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        xb_suite s;
        int rc = xb_suite_load(path, &s, f);
        fclose(f);
        cr_expect_eq(rc, XB_EINVAL, "%s: loaded (rc %d) but should fail", path, rc);
        cr_expect_null(s.canonical, "%s: released suite keeps a canonical", path);
        buf[strcspn(buf, "\n")] = '\0';
        cr_expect_str_eq(buf, expected, "%s: first error line differs", path);
        free(buf);
        free(expected);
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 20, "only %d bad suites found", n);
}

Test(suite, good_files)
{
    DIR *d = opendir("tests/data/good");
    cr_assert(d);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (l < 6 || strcmp(e->d_name + l - 5, ".yaml")) continue;
        char path[512];
        snprintf(path, sizeof path, "tests/data/good/%s", e->d_name);
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        xb_suite s;
        int rc = xb_suite_load(path, &s, f);
        fclose(f);
        cr_expect_eq(rc, 0, "%s: %s", path, buf);
        if (rc == 0) xb_suite_release(&s);
        free(buf);
        n++;
    }
    closedir(d);
    cr_assert_geq(n, 2);
}

Test(suite, several_errors_in_file_order)
{
    xb_suite s;
    char *errs;
    int rc = load("tasks: [{lengths: [0]}]\nmodel: {dim: x, layers: 0}\nseeds: [a]\n", &s, &errs);
    cr_assert_eq(rc, XB_EINVAL);
    const char *want[] = {
        "t.yaml:1:9: tasks[0]: missing 'name': which task?",
        "t.yaml:1:20: tasks[0].lengths[0]: expected an integer between 1 and 16777216, got '0'",
        "t.yaml:2:14: model.dim: expected an integer between 1 and 65536, got 'x'",
        "t.yaml:2:25: model.layers: expected an integer between 1 and 1024, got '0'",
        "t.yaml:3:9: seeds[0]: expected a non-negative integer below 2^64, got 'a'",
    };
    const char *p = errs;
    for (int i = 0; i < 5; i++) {
        p = strstr(p, "t.yaml:");
        cr_assert(p, "missing error %d in:\n%s", i, errs);
        cr_expect(!strncmp(p, want[i], strlen(want[i])), "error %d: want\n%s\ngot\n%.200s", i, want[i], p);
        p++;
    }
    free(errs);
}

Test(suite, caret_under_the_value)
{
    xb_suite s;
    char *errs;
    load("model:\n  mlp: gluu\n", &s, &errs);
    cr_expect_str_eq(errs, "t.yaml:2:8: model.mlp: expected one of glu, mlp, none, got 'gluu'\n"
                           "    2 |   mlp: gluu\n"
                           "      |        ^~~~\n");
    free(errs);
    load("train: {lrr: 1}\n", &s, &errs);
    cr_expect(strstr(errs, "note: valid keys, closest first: lr, "), "%s", errs);
    free(errs);
}

Test(suite, missing_file)
{
    xb_suite s;
    FILE *f = fopen("/dev/null", "w");
    cr_expect_eq(xb_suite_load("tests/data/no/such.yaml", &s, f), XB_EIO);
    fclose(f);
}

/* ------------------------------------------------------------------------------------------
 * defaults and lists */

Test(suite, defaults_of_a_minimal_suite)
{
    xb_suite s;
    cr_assert_eq(load("seed: 1234\n", &s, NULL), 0);
    cr_expect_str_eq(s.name, "t");
    cr_expect_eq(s.n_seeds, 1);
    cr_expect_eq(s.seeds[0], 1234);
    cr_expect_eq(s.n_threads, 1);
    cr_expect_eq(s.threads[0], 1);
    cr_expect_eq(s.latency.batch, 1);
    cr_expect_eq(s.latency.warmup, 3);
    cr_expect_eq(s.latency.min_reps, 10);
    cr_expect_eq(s.latency.min_time_s, 0.5);
    cr_expect_eq(s.latency.max_reps, 1000);
    cr_expect_eq(s.latency.causal, 1);
    cr_expect_eq(s.latency.n_lengths, 7);
    cr_expect_eq(s.latency.lengths[0], 256);
    cr_expect_eq(s.latency.lengths[6], 16384);
    cr_expect_eq(s.cell_timeout_s, 600);
    cr_expect_eq(s.mem_limit_mb, 8192);
    cr_expect_eq(s.n_tasks, 0);
    cr_expect_eq(s.n_mixers, xb_n_mixers, "default mixers: all");
    cr_expect(strstr(s.canonical, "model:\n  dim: 64\n  layers: 2\n  heads: 4\n  mlp: glu\n"));
    cr_expect(strstr(s.canonical, "  lr: 0.001\n"));
    xb_suite_release(&s);
}

Test(suite, mixers_all_is_the_registry)
{
    xb_suite s;
    cr_assert_eq(load("mixers: all\n", &s, NULL), 0);
    cr_assert_eq(s.n_mixers, xb_n_mixers);
    for (int i = 0; i < s.n_mixers; i++) cr_expect_eq(s.mixers[i], xb_mixers[i]);
    xb_suite_release(&s);
    /* no mixers: nothing to run, an error (not a run that does nothing) */
    char *errs;
    cr_assert_eq(load("mixers: []\n", &s, &errs), XB_EINVAL);
    cr_expect(strstr(errs, "t.yaml:1:9: mixers: nothing to run: no mixers\n"), "%s", errs);
    free(errs);
}

Test(suite, seeds_and_threads)
{
    xb_suite s;
    cr_assert_eq(load("seeds: [3, 1, 18446744073709551615]\nthreads: [1, 2, 4]\n", &s, NULL), 0);
    cr_expect_eq(s.n_seeds, 3);
    cr_expect_eq(s.seeds[0], 3);
    cr_expect_eq(s.seeds[1], 1);
    cr_expect_eq(s.seeds[2], UINT64_MAX);
    cr_expect_eq(s.n_threads, 3);
    cr_expect_eq(s.threads[2], 4);
    xb_suite_release(&s);
    cr_assert_eq(load("seed: 99\nthreads: 2\n", &s, NULL), 0);
    cr_expect_eq(s.n_seeds, 1);
    cr_expect_eq(s.seeds[0], 99);
    cr_expect_eq(s.n_threads, 1);
    cr_expect_eq(s.threads[0], 2);
    cr_expect(strstr(s.canonical, "seeds: [99]\nthreads: [2]\n"));
    xb_suite_release(&s);
}

/* ------------------------------------------------------------------------------------------
 * fakes: one task, two mixers, with options and check() hooks */

static const xb_opt fake_opts[] = {
    {"vocab", 64, 2, 1000, 1, "vocabulary"},
    {"rate", 0.5, 0, 1, 0, "a real option"},
};

static int fake_task_check(const xb_task_cfg *c, char *err, size_t n)
{
    if (c->L < 8) {
        snprintf(err, n, "length: must be >= 8, got %d", c->L);
        return XB_EINVAL;
    }
    if (c->opt[0] < c->L / 100.0) {
        snprintf(err, n, "vocab: too small for length %d", c->L);
        return XB_EINVAL;
    }
    return 0;
}

static const xb_task fake_tok = {
    .name = "faketok", .desc = "fake", .cite = "none", .shape = XB_SHAPE_TOK,
    .opts = fake_opts, .n_opts = 2, .check = fake_task_check,
};
static const xb_task fake_cls = {
    .name = "fakecls", .desc = "fake", .cite = "none", .shape = XB_SHAPE_CLS, .opts = NULL, .n_opts = 0,
};

enum { FAKE_WINDOW, FAKE_EPS };
static const xb_mixer_opt fakemix_opts[] = {
    [FAKE_WINDOW] = {.name = "window", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 4, .help = "w"},
    [FAKE_EPS] = {.name = "eps", .type = XB_OPT_FLOAT, .min = 0, .max = 1000, .def_doc = "0", .help = "e"},
};

static int fakemix_check(const xb_mixer_cfg *c, char *err, size_t n)
{
    if (xb_cfg_int(c, FAKE_WINDOW) > c->n_max) {
        snprintf(err, n, "window: must be <= the length %d, got %d", c->n_max, xb_cfg_int(c, FAKE_WINDOW));
        return XB_EINVAL;
    }
    return 0;
}

static const xb_mixer fakemix = {
    .name = "fakemix", .family = "test", .cite = "none", .complexity = "N w",
    XB_OPTS(fakemix_opts), .modes = XB_CAUSAL, .check = fakemix_check,
};
static const xb_mixer fakebidir = {
    .name = "fakebidir", .family = "test", .cite = "none", .complexity = "N", .modes = XB_BIDIR,
};

static const xb_mixer *const fake_mixers[] = {&fakemix, &fakebidir, NULL};
static const xb_task *const fake_tasks[] = {&fake_tok, &fake_cls, NULL};

static int load_fake(const char *text, xb_suite *s, char **errs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = xb_suite_load_with(text, "f.yaml", s, f, fake_mixers, fake_tasks);
    fclose(f);
    if (errs) *errs = buf;
    else free(buf);
    return rc;
}

static void expect_first_error(const char *text, const char *want)
{
    xb_suite s;
    char *errs;
    int rc = load_fake(text, &s, &errs);
    cr_expect_eq(rc, XB_EINVAL, "should fail:\n%s", text);
    errs[strcspn(errs, "\n")] = '\0';
    cr_expect_str_eq(errs, want);
    free(errs);
}

Test(suite, fake_task_overrides)
{
    xb_suite s;
    const char *text =
        "model: {dim: 32, heads: 2, layers: 3}\n"
        "train: {steps: 100, lr: 0.01}\n"
        "mixers: all\n"
        "mixer_options: {fakemix: {window: 6, eps: 0.25}}\n"
        "tasks:\n"
        "  - name: faketok\n"
        "    lengths: [16, 32]\n"
        "    options: {vocab: 100}\n"
        "    model: {dim: 48, mlp: none}\n"
        "    train: {steps: 7}\n"
        "    data_dir: /tmp/x\n"
        "  - fakecls\n"
        "  - name: faketok\n"
        "    mode: bidirectional\n";
    char *errs;
    cr_assert_eq(load_fake(text, &s, &errs), 0, "%s", errs);
    free(errs);
    cr_assert_eq(s.n_mixers, 2);
    cr_expect_eq(s.mixers[0], &fakemix);
    cr_expect_eq(s.mixer_cfg[0].opt[FAKE_WINDOW], 6);
    cr_expect_eq(s.mixer_cfg[0].opt[FAKE_EPS], 0.25);
    cr_expect_eq(s.mixer_cfg[1].opt[FAKE_WINDOW], 0, "fakebidir has no options");
    cr_assert_eq(s.n_tasks, 3);
    xb_suite_task *a = &s.tasks[0], *b = &s.tasks[1], *c = &s.tasks[2];
    cr_expect_eq(a->task, &fake_tok);
    cr_expect_eq(a->n_lengths, 2);
    cr_expect_eq(a->lengths[1], 32);
    cr_expect_eq(a->cfg.opt[0], 100);
    cr_expect_eq(a->cfg.opt[1], 0.5, "unset option keeps its default");
    cr_expect_eq(a->model.dim, 48, "task override");
    cr_expect_eq(a->model.mlp, XB_MLP_NONE, "task override");
    cr_expect_eq(a->model.layers, 3, "suite value");
    cr_expect_eq(a->model.heads, 2, "suite value");
    cr_expect_eq(a->train.steps, 7, "task override");
    cr_expect_float_eq(a->train.lr, 0.01f, 0, "suite value");
    cr_expect_eq(a->causal, 1, "TOK tasks default to causal");
    cr_expect_str_eq(a->data_dir, "/tmp/x");
    cr_expect_str_eq(a->cfg.data_dir, "/tmp/x");
    cr_expect_eq(b->task, &fake_cls);
    cr_expect_eq(b->causal, 0, "CLS tasks default to bidirectional");
    cr_expect_eq(b->n_lengths, 1);
    cr_expect_eq(b->lengths[0], 128, "default task length");
    cr_expect_eq(b->model.dim, 32, "suite value");
    cr_expect_eq(b->train.steps, 100, "suite value");
    cr_expect_null(b->data_dir);
    cr_expect_eq(c->causal, 0, "mode override");
    cr_expect(strstr(s.canonical, "mixer_options:\n  fakemix: {window: 6, eps: 0.25}\ntasks:\n"),
              "%s", s.canonical);
    cr_expect(strstr(s.canonical, "    data_dir: \"/tmp/x\"\n    options:\n      vocab: 100\n      rate: 0.5\n"),
              "%s", s.canonical);
    xb_suite_release(&s);
}

Test(suite, fake_option_errors)
{
    expect_first_error("mixer_options: {fakemix: {windw: 3}}\n",
                       "f.yaml:1:27: mixer_options.fakemix.windw: unknown option 'windw' for mixer 'fakemix'");
    expect_first_error("mixer_options: {fakebidir: {window: 3}}\n",
                       "f.yaml:1:29: mixer_options.fakebidir.window: unknown option 'window' for mixer 'fakebidir'");
    expect_first_error("mixer_options: {fakemix: {window: 0}}\n",
                       "f.yaml:1:35: mixer_options.fakemix.window: expected an integer between 1 and 16777216, got '0'");
    expect_first_error("mixer_options: {fakemix: {eps: -1}}\n",
                       "f.yaml:1:32: mixer_options.fakemix.eps: expected a number between 0 and 1000, got '-1'");
    expect_first_error("tasks: [{name: faketok, options: {vocb: 3}}]\n",
                       "f.yaml:1:35: tasks[0].options.vocb: unknown option 'vocb' for task 'faketok'");
    expect_first_error("tasks: [{name: faketok, options: {vocab: 2.5}}]\n",
                       "f.yaml:1:42: tasks[0].options.vocab: expected an integer between 2 and 1000, got '2.5'");
    expect_first_error("tasks: [{name: faketok, options: {rate: 2}}]\n",
                       "f.yaml:1:41: tasks[0].options.rate: expected a number between 0 and 1, got '2'");
    expect_first_error("tasks: [{name: fakcls}]\n", "f.yaml:1:16: tasks[0].name: unknown task 'fakcls'");
    expect_first_error("mixers: [fakemix, fakemix]\n", "f.yaml:1:19: mixers[1]: mixer 'fakemix' is listed twice");

    xb_suite s;
    char *errs;
    load_fake("mixers: [fakemx]\n", &s, &errs);
    cr_expect(strstr(errs, "note: valid mixers, closest first: fakemix, fakebidir\n"), "%s", errs);
    free(errs);
    cr_expect_eq(load_fake("mixers: [fakebidir]\nmixer_options: {fakemix: {window: 3}}\n", &s, &errs), 0);
    cr_expect(!strncmp(errs, "f.yaml:2:17: warning: mixer_options.fakemix: mixer 'fakemix' is not in "
                             "'mixers', so these options are not used\n", 98), "%s", errs);
    free(errs);
    xb_suite_release(&s);
    load_fake("mixer_options: {fakemix: {wndow: 3}}\n", &s, &errs);
    cr_expect(strstr(errs, "note: options of 'fakemix', closest first: window, eps\n"), "%s", errs);
    free(errs);
}

Test(suite, fake_checks_point_at_the_key)
{
    /* the task's check() at each length: at that length */
    expect_first_error("mixers: []\ntasks:\n  - name: faketok\n    lengths: [16, 4]\n",
                       "f.yaml:4:19: tasks[0].lengths[1]: task 'faketok' rejects length 4: "
                       "length: must be >= 8, got 4");
    /* a mixer's check() with its configured options: at its mixer_options entry */
    expect_first_error("mixers: [fakemix]\nmixer_options:\n  fakemix: {window: 64}\n"
                       "latency: {lengths: []}\ntasks: [{name: faketok, lengths: [16, 128]}]\n",
                       "f.yaml:3:3: mixer_options.fakemix: mixer 'fakemix' rejects task 'faketok' at "
                       "length 16 (causal): window: must be <= the length 16, got 64");
    /* the latency lengths are checked too; default window 4 fails at length 2 */
    expect_first_error("mixers: [fakebidir, fakemix]\nlatency: {lengths: [2]}\n",
                       "f.yaml:1:21: mixers[1]: mixer 'fakemix' rejects the latency sweep at length 2 "
                       "(causal): window: must be <= the length 2, got 4");
    /* an unsupported mode is not an error (those cells are skipped) */
    xb_suite s;
    char *errs;
    cr_expect_eq(load_fake("mixers: all\nlatency: {lengths: [2], mode: bidirectional}\n", &s, &errs), 0,
                 "%s", errs);
    free(errs);
    xb_suite_release(&s);
    /* a task's model override is checked where it is written */
    expect_first_error("tasks: [{name: fakecls, model: {heads: 3}}]\n",
                       "f.yaml:1:40: tasks[0].model.heads: dim 64 is not a multiple of heads 3");
}

/* ------------------------------------------------------------------------------------------
 * canonical text and hash */

Test(suite, canonical_reads_back_to_itself)
{
    const char *text =
        "name: run1\nseeds: [5, 6]\nthreads: [1, 2]\n"
        "train: {lr: 3.0e-4, warmup: 0.1, beta2: 0.98}\n"
        "latency: {min_time_s: 0.25, lengths: [64], mode: bidirectional}\n"
        "limits: {cell_timeout_s: 12.5}\n"
        "mixer_options: {fakemix: {eps: 1.0e-6}}\n"
        "tasks:\n  - name: faketok\n    lengths: [16]\n    options: {rate: 0.1}\n"
        "    data_dir: \"a \\\"quoted\\\" dir\"\n  - fakecls\n";
    xb_suite a, b;
    char *errs;
    cr_assert_eq(load_fake(text, &a, &errs), 0, "%s", errs);
    free(errs);
    cr_assert_eq(load_fake(a.canonical, &b, &errs), 0, "%s\n%s", a.canonical, errs);
    free(errs);
    cr_expect_str_eq(b.canonical, a.canonical);
    cr_expect_eq(b.hash, a.hash);
    cr_expect_str_eq(b.tasks[0].data_dir, "a \"quoted\" dir");
    cr_expect_eq(b.tasks[0].train.lr, 3.0e-4f);
    cr_expect_eq(b.tasks[0].train.beta2, 0.98f);
    cr_expect_eq(b.tasks[0].cfg.opt[1], 0.1);
    cr_expect_eq(b.mixer_cfg[0].opt[FAKE_EPS], (double)1.0e-6f, "a float option is stored rounded to float");
    cr_expect_eq(b.cell_timeout_s, 12.5);
    cr_expect_eq(b.latency.causal, 0);
    xb_suite_release(&a);
    xb_suite_release(&b);
}

Test(suite, hash_is_stable_and_sensitive)
{
    xb_suite a, b, c, d;
    cr_assert_eq(load_fake("model: {dim: 32, heads: 4}\ntasks: [faketok]\n", &a, NULL), 0);
    /* same meaning, other order, comments, explicit defaults, flow vs block style */
    cr_assert_eq(load_fake("# comment\ntasks:\n  - name: faketok\nmodel:\n  heads: 4\n  dim: 32\n"
                           "  layers: 2\nseed: 1234\nmixers: all\n", &b, NULL), 0);
    cr_assert_eq(load_fake("model: {dim: 32, heads: 4}\ntasks: [faketok]\ntrain: {lr: 0.0011}\n", &c, NULL), 0);
    cr_assert_eq(load_fake("model: {dim: 32, heads: 4}\ntasks: [faketok]\n", &d, NULL), 0);
    cr_expect_str_eq(a.canonical, b.canonical);
    cr_expect_eq(a.hash, b.hash);
    cr_expect_eq(a.hash, d.hash, "same text, same hash");
    cr_expect_neq(a.hash, c.hash, "a changed value changes the hash");
    cr_expect_eq(a.hash, xb_fnv1a(a.canonical, strlen(a.canonical)));
    xb_suite_release(&a);
    xb_suite_release(&b);
    xb_suite_release(&c);
    xb_suite_release(&d);
}

/* ------------------------------------------------------------------------------------------
 * diag helpers */

Test(suite, edit_distance_and_closest)
{
    cr_expect_eq(xb_edit_distance("", ""), 0);
    cr_expect_eq(xb_edit_distance("abc", ""), 3);
    cr_expect_eq(xb_edit_distance("kitten", "sitting"), 3);
    cr_expect_eq(xb_edit_distance("softmax", "sofmtax"), 2);
    const char *names[] = {"gla", "softmax", "local", "linear"};
    char buf[128];
    xb_closest_list(buf, sizeof buf, "lineer", names, 4);
    cr_expect_str_eq(buf, "linear, local, gla, softmax");
    xb_closest_list(buf, sizeof buf, "x", names, 0);
    cr_expect_str_eq(buf, "(none)");
    xb_closest_list(buf, 8, "lineer", names, 4);   /* truncates, stays terminated */
    cr_expect_eq(strlen(buf), 7);
}

/* ------------------------------------------------------------------------------------------
 * README: the "## Suite keys" section is exactly what the tables generate */

Test(suite, readme_documents_every_key)
{
    char *readme = slurp("README.md");
    cr_assert(readme, "README.md not found");
    char *gen = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&gen, &len);
    xb_suite_keys_markdown(f);
    fclose(f);
    char *start = strstr(readme, "## Suite keys\n");
    cr_assert(start, "README.md has no '## Suite keys' section");
    char *end = strstr(start + 1, "\n## ");
    size_t n = end ? (size_t)(end - start) + 1 : strlen(start);
    cr_expect_eq(n, len, "README section differs from `xbench list keys` (regenerate it)");
    cr_expect(!strncmp(start, gen, len < n ? len : n),
              "README section differs from `xbench list keys` (regenerate it)");
    free(gen);
    free(readme);
}

/* tasks[i].mixers: `supported` keeps the suite's mixers that have the task's mode; a list keeps
 * exactly the named ones; the default runs every mixer (use == NULL). */
Test(suite, task_mixers_subset)
{
    const char *text = "mixers: [softmax, fnet, linformer, linear]\n"
                       "tasks:\n"
                       "  - {name: mqar, lengths: [32], mixers: supported}\n"
                       "  - {name: majority, mixers: [fnet, linear]}\n"
                       "  - {name: parity}\n";
    xb_suite s;
    cr_assert_eq(xb_suite_load_string(text, "subset.yaml", &s, stderr), 0);
    cr_assert_eq(s.n_tasks, 3);
    const unsigned char causal_ok[4] = {1, 0, 0, 1}, listed[4] = {0, 1, 0, 1};
    cr_assert(s.tasks[0].use && s.tasks[1].use);
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(s.tasks[0].use[i], causal_ok[i], "supported: mixer %s", s.mixers[i]->name);
        cr_expect_eq(s.tasks[1].use[i], listed[i], "list: mixer %s", s.mixers[i]->name);
    }
    cr_expect_null(s.tasks[2].use);
    cr_expect(strstr(s.canonical, "mixers: [softmax, linear]") != NULL, "canonical keeps the subset");
    xb_suite_release(&s);
}

/* An item with sweep axes is read once: its errors, and their notes, come once (each
 * configuration used to add the note of an unknown key again). */
Test(suite, one_note_per_error_with_sweep_axes)
{
    xb_suite s;
    char *errs;
    cr_assert_eq(load("tasks:\n  - name: mqar\n    options: {kv_pairs: [2, 8, 16]}\n    bogus: 1\n", &s, &errs),
                 XB_EINVAL);
    int notes = 0;
    for (const char *p = errs; (p = strstr(p, "note: valid keys, closest first:")); p++) notes++;
    cr_expect_eq(notes, 1, "%s", errs);
    free(errs);
}
