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
#include <sys/wait.h>
#include <unistd.h>

#include "core/xb.h"
#include "harness/machine.h"

extern char **environ;

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
