/* tests/test_cli.c — the xbench binary as a user runs it (posix_spawn of ./xbench from the
 * repository root; `make test` builds it first): --help, --version, each command's --help,
 * exit codes (0 ok, 2 usage or suite errors) and where messages go (stdout vs stderr).
 * Also a smoke test of harness/machine.c's description and quick measurement (values are
 * checked for sanity only, never against a speed). */
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

#include "core/xb.h"
#include "harness/machine.h"

extern char **environ;

#include "tests/tmpdir.h"
#include "tests/xbrun.h"

Test(cli, help_and_version)
{
    result r = RUN("--help");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "usage: xbench"), "%s", r.out);
    cr_expect(strstr(r.out, "  list "), "%s", r.out);
    cr_expect(strstr(r.out, "  validate "), "%s", r.out);
    cr_expect(strstr(r.out, "  info "), "%s", r.out);
    cr_expect_str_eq(r.err, "");
    done(&r);

    r = RUN("-h");
    cr_expect_eq(r.code, 0);
    done(&r);

    r = RUN("--version");
    cr_expect_eq(r.code, 0);
    cr_expect_str_eq(r.out, "xbench " XB_VERSION "\n");
    done(&r);
}

Test(cli, usage_errors_exit_2)
{
    result r = RUN("frobnicate");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "unknown command 'frobnicate'"), "%s", r.err);
    cr_expect_str_eq(r.out, "");
    done(&r);

    r = RUN("valdate");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "did you mean 'validate'?"), "%s", r.err);
    done(&r);

    r = run((const char *const[]){NULL});   /* no command */
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "usage: xbench"), "%s", r.err);
    done(&r);

    r = RUN("--bogus");
    cr_expect_eq(r.code, 2);
    done(&r);

    r = RUN("validate");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "expected a suite file"), "%s", r.err);
    done(&r);

    r = RUN("validate", "--bogus", "x.yaml");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "unknown option '--bogus'"), "%s", r.err);
    done(&r);

    r = RUN("list", "widgets");
    cr_expect_eq(r.code, 2);
    done(&r);

    r = RUN("info", "--threads", "0");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "--threads"), "%s", r.err);
    done(&r);
}

Test(cli, each_command_has_help)
{
    const char *cmds[] = {"list", "validate", "info"};
    for (int i = 0; i < 3; i++) {
        result r = RUN(cmds[i], "--help");
        char want[64];
        snprintf(want, sizeof want, "usage: xbench %s", cmds[i]);
        cr_expect_eq(r.code, 0, "%s --help", cmds[i]);
        cr_expect(strstr(r.out, want), "%s --help:\n%s", cmds[i], r.out);
        done(&r);
    }
}

Test(cli, validate_bad_suite)
{
    result r = RUN("validate", "tests/data/bad/unknown_key.yaml");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "tests/data/bad/unknown_key.yaml:3:1: modle: unknown key 'modle'\n"
                            "    3 | modle: {dim: 64}\n"
                            "      | ^~~~~\n"), "%s", r.err);
    cr_expect_str_eq(r.out, "", "errors go to stderr only");
    done(&r);

    r = RUN("validate", "tests/data/no/such.yaml");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "cannot open"), "%s", r.err);
    done(&r);
}

Test(cli, validate_good_suite)
{
    result r = RUN("validate", "tests/data/good/every_key.yaml");
    cr_expect_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "name: every-key\nseeds: [1, 2, 3]\nthreads: [1, 2]\n"), "%s", r.out);
    cr_expect(strstr(r.out, "# cells: 0 training"), "%s", r.out);
    done(&r);

    r = RUN("validate", "-q", "tests/data/good/every_key.yaml");
    cr_expect_eq(r.code, 0);
    cr_expect(!strstr(r.out, "name: every-key"), "--quiet prints no suite");
    cr_expect(strstr(r.out, "# cells:"), "%s", r.out);
    done(&r);
}

Test(cli, list_and_info)
{
    result r = RUN("list");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "mixers:\n"), "%s", r.out);
    cr_expect(strstr(r.out, "tasks:\n"), "%s", r.out);
    done(&r);

    r = RUN("list", "keys");
    cr_expect_eq(r.code, 0);
    cr_expect(!strncmp(r.out, "## Suite keys\n", 14), "%s", r.out);
    done(&r);

    r = RUN("info", "--no-measure");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "cpu "), "%s", r.out);
    cr_expect(strstr(r.out, "blas "), "%s", r.out);
    cr_expect(strstr(r.out, "cflags ") && strstr(r.out, "-std=c11") && !strstr(r.out, "not recorded"),
              "the Makefile passes CFLAGS: %s", r.out);
    done(&r);
}

Test(machine, describe_and_quick_measure)
{
    xb_machine *m = malloc(sizeof *m);
    xb_machine_describe(m);
    cr_expect_geq(m->n_cpus, 1);
    cr_expect_geq(m->n_cores, 1);
    cr_expect_gt(strlen(m->cpu), 0);
    cr_expect_gt(strlen(m->blas), 0);
    cr_expect(strstr(m->compiler, __VERSION__) != NULL, "%s", m->compiler);
    cr_assert_eq(xb_machine_measure(m, 1, 1), 0);
    cr_expect_eq(m->measured, 1);
    cr_expect_eq(m->n_fma, 1);
    cr_expect(isfinite(m->fma_gflops[0]) && m->fma_gflops[0] > 0);
    cr_expect(isfinite(m->gemm_gflops_1) && m->gemm_gflops_1 > 0);
    cr_expect(isfinite(m->stream_gbs_1) && m->stream_gbs_1 > 0);
    free(m);
}

/* README's mixer and task tables are what `xbench list --markdown` prints (docs cannot drift
 * from the registries). */
Test(cli, readme_tables_match_registry)
{
    const char *what[] = {"mixers", "tasks"};
    FILE *f = fopen("README.md", "rb");
    cr_assert(f, "README.md not found");
    static char readme[1 << 20];
    size_t n = fread(readme, 1, sizeof readme - 1, f);
    fclose(f);
    readme[n] = 0;
    for (int i = 0; i < 2; i++) {
        char cmd[128];
        snprintf(cmd, sizeof cmd, "./xbench list --markdown %s", what[i]);
        FILE *p = popen(cmd, "r");
        cr_assert(p);
        static char table[1 << 16];
        size_t m = fread(table, 1, sizeof table - 1, p);
        table[m] = 0;
        cr_assert_eq(pclose(p), 0);
        cr_assert(m > 0);
        cr_expect(strstr(readme, table) != NULL, "README.md's %s table differs from `%s` (regenerate it)", what[i], cmd);
    }
}

/* ---- hostile arguments: nothing silently empty, nothing written to the wrong place -------- */

#define TINY "tests/data/suites/tiny.yaml"

static int has_control_bytes(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 && *p != '\n' && *p != '\t') || *p == 0x7f) return 1;
    return 0;
}

Test(cli, only_is_checked)
{
    struct { const char *arg, *want; } bad[] = {
        {"", "xbench run: --only: expected mixer names, got nothing\n"},
        {"softmax,,linear", "xbench run: --only: item 2 of 'softmax,,linear' is empty (write A,B,...)\n"},
        {",softmax", "--only: item 1 of ',softmax' is empty"},
        {"softmax,", "--only: item 2 of 'softmax,' is empty"},
        {"softmax,softmax", "--only: 'softmax' is listed twice"},
        {"nosuch", "--only: 'nosuch' is not a mixer of the suite '" TINY "'; it has: softmax\n"},
        {"soft max", "--only: 'soft max' is not a mixer name (letters, digits, '_', '.', '=', '-')"},
        {"soft\x1b[2Jmax", "--only: 'soft\\x1b[2Jmax' is not a mixer name"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        result r = RUN("run", TINY, "--dry-run", "--only", bad[i].arg);
        cr_expect_eq(r.code, 2, "--only '%s': exit %d\n%s", bad[i].arg, r.code, r.out);
        cr_expect(strstr(r.err, bad[i].want), "--only '%s': want %s\ngot %s", bad[i].arg, bad[i].want, r.err);
        cr_expect(!has_control_bytes(r.err), "%s", r.err);
        cr_expect_str_eq(r.out, "");
        done(&r);
    }
    result r = RUN("run", TINY, "--dry-run", "--only", "softmax", "-o", "/tmp/xbench-never-written");
    cr_expect_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, ": 6 cells (0 to skip)"), "%s", r.out);
    done(&r);

    /* a mixer of the suite that no cell runs */
    char dir[64], suite[128];
    tmpdir_make(dir, sizeof dir, "xbench-cli-only");
    tmpdir_write(dir, "s.yaml", "mixers: [softmax, pool]\nlatency: {lengths: []}\n"
                                "tasks: [{name: majority, lengths: [16], mixers: [softmax]}]\n");
    snprintf(suite, sizeof suite, "%s/s.yaml", dir);
    r = RUN("run", suite, "--dry-run", "--only", "pool");
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.err, "--only pool: the suite '"), "%s", r.err);
    cr_expect(strstr(r.err, "runs no cell of this mixer (no latency or decode lengths, and no task runs it)"), "%s", r.err);
    done(&r);
    /* decode contexts are cells too: a suite of decode cells alone runs with --only */
    tmpdir_write(dir, "d.yaml", "mixers: [softmax, gla]\nlatency: {lengths: [], decode_lengths: [64]}\ntasks: []\n");
    snprintf(suite, sizeof suite, "%s/d.yaml", dir);
    r = RUN("run", suite, "--dry-run", "--only", "gla");
    cr_expect_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, ": 1 cells (0 to skip)"), "%s", r.out);
    done(&r);
    tmpdir_remove(dir);
}

Test(cli, results_folder_is_checked)
{
    char dir[64], path[160];
    tmpdir_make(dir, sizeof dir, "xbench-cli-out");
    struct { const char *arg, *want; } bad[] = {
        {"", "xbench run: -o: expected a folder, got nothing\n"},
        {"/", "xbench run: -o '/' is the filesystem root"},
        {"//", "is the filesystem root"},
        {"/tmp/..", "is the filesystem root"},
        {TINY, "xbench run: -o '" TINY "' exists and is not a folder\n"},
        {TINY "/x", "'" TINY "' is not a folder"},
        {"tests/data", "-o 'tests/data' is a folder that is not empty and holds no cells.jsonl"},
        {NULL, "'.' or '..' after a folder that does not exist yet"},
        {"/tmp/new\x1b[2Jdir", "-o '/tmp/new\\x1b[2Jdir': a control character in the folder's name"},
    };
    char climb[160];
    snprintf(climb, sizeof climb, "%s/new/../..", dir);
    bad[7].arg = climb;
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        result r = RUN("run", TINY, "--dry-run", "-o", bad[i].arg);
        cr_expect_eq(r.code, 2, "-o '%s': exit %d\n%s", bad[i].arg, r.code, r.out);
        cr_expect(strstr(r.err, bad[i].want), "-o '%s': want %s\ngot %s", bad[i].arg, bad[i].want, r.err);
        cr_expect_str_eq(r.out, "");
        done(&r);
    }
    /* fine: a new folder, an empty one, a results folder (the run then asks for --resume) */
    snprintf(path, sizeof path, "%s/new/deeper", dir);
    result r = RUN("run", TINY, "--dry-run", "-o", path);
    cr_expect_eq(r.code, 0, "%s", r.err);
    done(&r);
    r = RUN("run", TINY, "--dry-run", "-o", dir);
    cr_expect_eq(r.code, 0, "%s", r.err);
    done(&r);
    tmpdir_write(dir, "cells.jsonl", "");
    tmpdir_write(dir, "tables.md", "");
    r = RUN("run", TINY, "--dry-run", "-o", dir);
    cr_expect_eq(r.code, 0, "%s", r.err);
    done(&r);
    tmpdir_remove(dir);
}

Test(cli, suites_that_are_not_files_or_hold_nothing, .timeout = 20)
{
    char dir[64], fifo[128], empty[128];
    tmpdir_make(dir, sizeof dir, "xbench-cli-files");
    snprintf(fifo, sizeof fifo, "%s/pipe.yaml", dir);
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    tmpdir_write(dir, "empty.yaml", "# nothing but a comment\n");
    snprintf(empty, sizeof empty, "%s/empty.yaml", dir);
    struct { const char *file, *want; } cases[] = {
        {"/dev/zero", "/dev/zero: not a regular file (a character device): a suite is a YAML file\n"},
        {"/dev/null", "/dev/null: not a regular file (a character device)"},
        {fifo, "pipe.yaml: not a regular file (a FIFO)"},
        {dir, ": is a folder, not a suite file\n"},
        {empty, "empty.yaml: the suite is empty (no YAML document, at most comments)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        result r = RUN("validate", cases[i].file);
        cr_expect_eq(r.code, 2, "validate %s: exit %d", cases[i].file, r.code);
        cr_expect(strstr(r.err, cases[i].want), "%s: want %s\ngot %s", cases[i].file, cases[i].want, r.err);
        done(&r);
        r = RUN("run", cases[i].file, "--dry-run", "-o", "/tmp/xbench-never-written");
        cr_expect_eq(r.code, 2, "run %s: exit %d\n%s", cases[i].file, r.code, r.out);
        cr_expect(strstr(r.err, cases[i].want), "%s: want %s\ngot %s", cases[i].file, cases[i].want, r.err);
        cr_expect_str_eq(r.out, "");
        done(&r);
    }
    unlink(fifo);
    tmpdir_remove(dir);
}

Test(cli, arguments_are_echoed_escaped)
{
    result r = RUN("\x1b[31mred");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "unknown command '\\x1b[31mred'"), "%s", r.err);
    cr_expect(!has_control_bytes(r.err), "%s", r.err);
    done(&r);
    r = RUN("--\x1b]0;title\x07");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "unknown option '--\\x1b]0;title\\x07'"), "%s", r.err);
    done(&r);
    r = RUN("info", "--threads", "\x1b[2J");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "got '\\x1b[2J'"), "%s", r.err);
    cr_expect(!has_control_bytes(r.err), "%s", r.err);
    done(&r);
    r = RUN("validate", "/tmp/no\x1b[2Jsuch.yaml");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "/tmp/no\\x1b[2Jsuch.yaml: cannot open"), "%s", r.err);
    done(&r);
    r = RUN("report", "/tmp/no\x1b[2Jsuch");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "'/tmp/no\\x1b[2Jsuch': a control character in the folder's name"), "%s", r.err);
    done(&r);
    r = RUN("validate", "tests/data/bad/mixer_name_escape.yaml");
    cr_expect_eq(r.code, 2);
    cr_expect(!has_control_bytes(r.err), "%s", r.err);
    done(&r);
}

Test(cli, help_states_the_rules)
{
    result r = RUN("run", "--help");
    cr_expect(strstr(r.out, "the filesystem root") && strstr(r.out, "cells.jsonl") && strstr(r.out, "--only"),
              "%s", r.out);
    done(&r);
    r = RUN("validate", "--help");
    cr_expect(strstr(r.out, "1 MiB") && strstr(r.out, "64 levels") && strstr(r.out, "an empty suite") &&
              strstr(r.out, "('---')") && strstr(r.out, "selects no cell"), "%s", r.out);
    done(&r);
}

/* Decode cells exist only for mixers with a decode form (the causal ones), as a causal task
 * runs its `supported` mixers: a suite of all mixers with decode_lengths used to add
 * skipped:no-causal-mode cells for linformer, sinkhorn and fnet, and so `xbench run` (and
 * `make run` of the default suite) exited 1 although nothing had gone wrong. */
Test(cli, decode_cells_only_for_mixers_with_a_decode_form)
{
    char dir[64], suite[128];
    tmpdir_make(dir, sizeof dir, "xbench-cli-decode");
    tmpdir_write(dir, "d.yaml", "mixers: [softmax, fnet, linformer]\n"
                                "latency: {lengths: [], decode_lengths: [64, 128]}\ntasks: []\n");
    snprintf(suite, sizeof suite, "%s/d.yaml", dir);
    result r = RUN("run", suite, "--dry-run");
    cr_expect_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, ": 2 cells (0 to skip)"), "%s", r.out);
    cr_expect(strstr(r.out, "fnet") == NULL && strstr(r.out, "linformer") == NULL, "%s", r.out);
    done(&r);
    r = RUN("validate", "-q", suite);
    cr_expect(strstr(r.out, "+ 2 decode (2 contexts x 1 mixers with a decode form x 1 thread counts) = 2"), "%s", r.out);
    done(&r);
    r = RUN("run", suite, "--dry-run", "--only", "fnet");
    cr_expect_eq(r.code, 2, "%s", r.out);
    cr_expect(strstr(r.err, "runs no cell of this mixer"), "%s", r.err);
    done(&r);
    tmpdir_remove(dir);
}
