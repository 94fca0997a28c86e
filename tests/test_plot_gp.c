/* tests/test_plot_gp.c — the gnuplot templates of plots/ (harness/report/plot_gp.c): the
 * binary holds exactly the files of plots/ (build/gen/plot_templates.c is regenerated when
 * one changes), a section is written without its notes (#:) and trailing blank lines, a
 * "#@~" section without its last newline, {{key:q}} quotes its value the way every name from
 * cells.jsonl must reach a script, every placeholder a label fills is a quoted one, and a
 * section or value the C code does not supply stops the program instead of writing a broken
 * script. Runs from the repository root (as `make test` does). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/plot_gp.h"
#include "tests/tmpdir.h"

Test(plot_gp, the_binary_holds_the_files_of_plots)
{
    DIR *d = opendir("plots");
    cr_assert_not_null(d, "no plots/ folder (tests run from the repository root)");
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        size_t k = strlen(e->d_name);
        if (k < 4 || strcmp(e->d_name + k - 3, ".gp") != 0) continue;
        files++;
        char path[512];
        snprintf(path, sizeof path, "plots/%s", e->d_name);
        size_t n;
        char *text = tmpdir_slurp(path, &n);
        int found = 0;
        for (int t = 0; t < xb_gp_n_templates; t++) {
            if (strcmp(xb_gp_templates[t].name, e->d_name) != 0) continue;
            found = 1;
            cr_expect(xb_gp_templates[t].len == n && memcmp(xb_gp_templates[t].text, text, n) == 0,
                      "the binary's %s differs from the file (a stale build/gen/plot_templates.c)", path);
            cr_expect_eq(xb_gp_templates[t].text[n], '\0', "%s is not NUL-terminated", path);
        }
        cr_expect(found, "%s is not compiled into the binary", path);
        free(text);
    }
    closedir(d);
    cr_expect_eq(files, xb_gp_n_templates, "plots/ has %d templates, the binary %d", files, xb_gp_n_templates);
}

Test(plot_gp, sections_are_written_without_notes_and_values_quoted)
{
    xb_gp g = { 0 };
    /* a title that tries every way out of a gnuplot string */
    xb_gp_fill(&g, "frame.labels", "title", "it's\n`rm x` @m \"q\"", "xlabel", "x", "ylabel", "y", NULL);
    cr_assert_not_null(g.p);
    const char *want = "set title 'it''s `rm x` @m \"q\"' noenhanced\nset xlabel 'x' noenhanced\n";
    cr_expect(strncmp(g.p, want, strlen(want)) == 0, "got:\n%s", g.p);
    cr_expect_null(strstr(g.p, "#:"), "a note was written:\n%s", g.p);
    cr_expect_null(strstr(g.p, "{{"), "a placeholder was left:\n%s", g.p);
    cr_expect(g.n >= 2 && g.p[g.n - 1] == '\n' && g.p[g.n - 2] != '\n',
              "a section ends with its last line's newline, no blank line:\n%s", g.p);
    free(g.p);

    /* raw values go in as they are */
    xb_gp d = { 0 };
    xb_gp_fill(&d, "frame.data_begin", "block", "d3", NULL);
    cr_expect_str_eq(d.p, "$d3 << EOD\n");
    free(d.p);

    /* "#@~": a piece of a line, no newline at its end */
    xb_gp l = { 0 };
    xb_gp_fill(&l, "loss.line", "j", "0", "ls", "2", "every", "4", "mixer", "a'b", NULL);
    cr_assert_not_null(l.p);
    cr_expect_str_eq(l.p, "$d0 using 1:2 with linespoints ls 2 pi 4 title 'a''b' noenhanced");
    free(l.p);

    cr_expect_null(xb_gp_section("frame.no_such_section", &(size_t){0}));
    cr_expect_null(xb_gp_section("nofile.head", &(size_t){0}));
}

/* Names reach a script only quoted: in every template, a placeholder that a label, title or
 * status fills is a {{key:q}} one. */
Test(plot_gp, label_placeholders_are_quoted)
{
    static const char *const labels[] = { "title", "xlabel", "ylabel", "mixer", "status" };
    int seen = 0;
    for (int t = 0; t < xb_gp_n_templates; t++) {
        const char *s = xb_gp_templates[t].text;
        for (const char *o = strstr(s, "{{"); o; o = strstr(o + 2, "{{")) {
            const char *c = strstr(o, "}}");
            cr_assert_not_null(c, "%s: unclosed {{", xb_gp_templates[t].name);
            size_t k = (size_t)(c - o - 2);
            int quoted = k > 2 && strncmp(c - 2, ":q", 2) == 0;
            if (quoted) k -= 2;
            for (size_t i = 0; i < sizeof labels / sizeof *labels; i++)
                if (strlen(labels[i]) == k && strncmp(o + 2, labels[i], k) == 0) {
                    seen++;
                    cr_expect(quoted, "%s: {{%s}} puts a name into the script unquoted",
                              xb_gp_templates[t].name, labels[i]);
                }
        }
    }
    cr_expect_gt(seen, 5, "the templates have no label placeholders?");
}

Test(plot_gp, a_value_the_code_does_not_give_stops_the_program, .signal = SIGABRT)
{
    xb_gp g = { 0 };
    xb_gp_fill(&g, "frame.labels", "title", "t", NULL);   /* no xlabel, ylabel */
}

Test(plot_gp, a_section_that_does_not_exist_stops_the_program, .signal = SIGABRT)
{
    xb_gp g = { 0 };
    xb_gp_fill(&g, "frame.no_such_section", NULL);
}
