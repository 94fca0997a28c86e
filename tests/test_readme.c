/* tests/test_readme.c — every example in README.md works as written:
 *   - every ```yaml block and every inline `tasks: ...` suite passes `xbench validate`;
 *   - every command line of a ```sh block runs and exits 0: `./xbench run` with --dry-run
 *     added (the suites are minutes to hours long; the dry run loads the suite, applies the
 *     options and lists the cells), results folders the README names (results/quick) mapped
 *     to a folder a small real run makes here; `make X` lines name a target of the Makefile;
 *   - the README points at no file outside the repository, and every relative link and
 *     every source path it names exists.
 * Runs from the repository root (as `make test` does). */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tests/tmpdir.h"
#include "tests/xbrun.h"

/* The fenced blocks of a language, in order: *out[i] malloc'd. */
static int blocks(const char *md, const char *lang, char ***out)
{
    char fence[32];
    snprintf(fence, sizeof fence, "```%s\n", lang);
    int n = 0;
    char **v = NULL;
    for (const char *p = md; (p = strstr(p, fence));) {
        if (p != md && p[-1] != '\n') { p++; continue; }
        p += strlen(fence);
        const char *e = strstr(p, "\n```");
        cr_assert_not_null(e, "unterminated ```%s block", lang);
        v = realloc(v, (size_t)(n + 1) * sizeof *v);
        v[n++] = strndup(p, (size_t)(e - p + 1));
        p = e + 4;
    }
    *out = v;
    return n;
}

static char dir[64], fixture[128];

static void setup(void)
{
    tmpdir_make(dir, sizeof dir, "xbench-readme");
    snprintf(fixture, sizeof fixture, "%s/quick", dir);
}

static void teardown(void) { tmpdir_remove(dir); }

TestSuite(readme, .init = setup, .fini = teardown, .timeout = 300);

Test(readme, every_suite_validates)
{
    char *md = tmpdir_slurp("README.md", NULL);
    char **b;
    int n = blocks(md, "yaml", &b);
    cr_assert(n >= 1, "README.md has no ```yaml block");
    char path[128];
    snprintf(path, sizeof path, "%s/s.yaml", dir);
    for (int i = 0; i < n; i++) {
        tmpdir_write(dir, "s.yaml", b[i]);
        result r = RUN("validate", path);
        cr_expect_eq(r.code, 0, "README ```yaml block %d does not validate:\n%s\n%s", i + 1, b[i], r.err);
        done(&r);
        free(b[i]);
    }
    free(b);
    /* inline suites: `tasks: [...]` */
    int inl = 0;
    for (const char *p = md; (p = strstr(p, "`tasks: "));) {
        const char *e = strchr(p + 1, '`');
        cr_assert_not_null(e);
        char *text = strndup(p + 1, (size_t)(e - p - 1));
        tmpdir_write(dir, "s.yaml", text);
        result r = RUN("validate", path);
        cr_expect_eq(r.code, 0, "README's inline suite `%s` does not validate:\n%s", text, r.err);
        done(&r);
        free(text);
        inl++;
        p = e + 1;
    }
    cr_assert(inl >= 1, "README.md names no inline suite");
    free(md);
}

/* Split a command line into words (no quotes are used in the README's commands). */
static int words(char *line, char **w, int max)
{
    int n = 0;
    char *sp;
    for (char *t = strtok_r(line, " \t", &sp); t && n < max - 1; t = strtok_r(NULL, " \t", &sp)) w[n++] = t;
    w[n] = NULL;
    return n;
}

static int make_has_target(const char *mk, const char *target)
{
    char pat[96];
    snprintf(pat, sizeof pat, "\n%s:", target);
    return strstr(mk, pat) != NULL;
}

Test(readme, every_command_runs)
{
    /* a small real run stands for the README's results folder */
    tmpdir_write(dir, "tiny.yaml",
                 "name: quick\nmodel: {dim: 16, layers: 1, heads: 1}\ntrain: {steps: 4, batch: 4}\n"
                 "latency: {lengths: [64], min_reps: 2, min_time_s: 0, warmup: 0}\nmixers: [pool, softmax]\n"
                 "tasks:\n  - name: majority\n    lengths: [16]\n"
                 "    options: {train_examples: 64, val_examples: 16, test_examples: 16}\n");
    char tiny[128];
    snprintf(tiny, sizeof tiny, "%s/tiny.yaml", dir);
    result r = RUN("run", tiny, "-o", fixture, "--no-plots", "--quiet", "--machine", "none");
    cr_assert_eq(r.code, 0, "%s", r.err);
    done(&r);

    char *md = tmpdir_slurp("README.md", NULL), *mk = tmpdir_slurp("Makefile", NULL);
    char **b;
    int n = blocks(md, "sh", &b), cmds = 0;
    cr_assert(n >= 1, "README.md has no ```sh block");
    for (int i = 0; i < n; i++) {
        char *sp;
        for (char *line = strtok_r(b[i], "\n", &sp); line; line = strtok_r(NULL, "\n", &sp)) {
            char copy[512];
            snprintf(copy, sizeof copy, "%s", line);
            char *hash = strstr(copy, " #");
            if (hash) *hash = 0;
            char save[512];
            snprintf(save, sizeof save, "%s", copy);
            char *w[32];
            int k = words(copy, w, 32);
            if (k == 0) continue;
            if (!strcmp(w[0], "make")) {
                cr_expect(k == 2 && make_has_target(mk, w[1]), "README runs `%s`: no such Makefile target", save);
                continue;
            }
            cr_expect(!strcmp(w[0], "./xbench") || !strcmp(w[0], "xbench"),
                      "README ```sh line is neither ./xbench nor make: `%s`", save);
            if (strcmp(w[0], "./xbench") && strcmp(w[0], "xbench")) continue;
            const char *args[40];
            int a = 0;
            for (int j = 1; j < k; j++) {
                if (!strcmp(w[j], "results/quick")) args[a++] = fixture;
                else args[a++] = w[j];
            }
            if (k > 1 && !strcmp(w[1], "run")) args[a++] = "--dry-run";
            args[a] = NULL;
            result x = run(args);
            cr_expect_eq(x.code, 0, "README command `%s` exits %d:\n%s", save, x.code, x.err);
            done(&x);
            cmds++;
        }
        free(b[i]);
    }
    free(b);
    cr_assert(cmds >= 5, "only %d xbench commands found in README.md", cmds);
    free(md);
    free(mk);
}

Test(readme, points_at_nothing_outside_the_repository)
{
    char *md = tmpdir_slurp("README.md", NULL);
    static const char *const outside[] = { "../", "shared/", "MIXERS.md", "TASKS.md", "DESIGN.md", "STYLE.md" };
    for (size_t i = 0; i < sizeof outside / sizeof *outside; i++)
        cr_expect(strstr(md, outside[i]) == NULL, "README.md mentions '%s', which is not in the repository",
                  outside[i]);
    /* relative links and images */
    for (const char *p = md; (p = strstr(p, "](")); p += 2) {
        const char *e = strchr(p + 2, ')');
        cr_assert_not_null(e);
        char target[256];
        snprintf(target, sizeof target, "%.*s", (int)(e - p - 2), p + 2);
        if (strstr(target, "://") || target[0] == '#') continue;
        struct stat st;
        cr_expect(stat(target, &st) == 0, "README.md links to '%s', which does not exist", target);
    }
    /* source paths in backticks */
    static const char *const roots[] = { "suites/", "docs/", "core/", "harness/", "mixers/", "tasks/",
                                         "tests/", "cmd/", ".ci/" };
    for (const char *p = md; (p = strchr(p, '`'));) {
        const char *e = strchr(p + 1, '`');
        if (!e) break;
        char tok[256];
        snprintf(tok, sizeof tok, "%.*s", (int)(e - p - 1), p + 1);
        p = e + 1;
        if (strchr(tok, ' ') || strchr(tok, '*') || strchr(tok, '<')) continue;
        for (size_t r = 0; r < sizeof roots / sizeof *roots; r++)
            if (!strncmp(tok, roots[r], strlen(roots[r]))) {
                struct stat st;
                cr_expect(stat(tok, &st) == 0, "README.md names `%s`, which does not exist", tok);
            }
    }
    free(md);
}
