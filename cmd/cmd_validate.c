/* cmd/cmd_validate.c — `xbench validate SUITE.yaml`: load the suite, print it resolved (every
 * default written out) and the number of cells; exit 2 on any error. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/xb.h"
#include "harness/diag.h"
#include "harness/suite.h"

static const xb_cli_opt opts[] = {
    {"quiet", 0, 'q', NULL, "print only errors and the cell count"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "validate", "SUITE.yaml",
    "Check a suite file: every key, name and value, and each mixer's and task's own check at\n"
    "every configured length. Prints the resolved suite (every default written out), its hash\n"
    "and the number of cells. Errors go to stderr as file:line:column: key: message; exit 2.\n"
    "\n"
    "A suite is one YAML document, a mapping, in a regular file of at most 1 MiB, nested\n"
    "at most 64 levels deep, with at most 16 directives (%YAML, %TAG), 1,000 anchors,\n"
    "10,000 aliases and 2,000,000 values (an alias counting as a copy of what it names).\n"
    "These are errors too: an empty suite (an empty file, only comments, ~ or {}), a second\n"
    "document ('---'), a NUL character in a value, a run, mixer or task name that is not\n"
    "1-128 of letters, digits, '_', '.', '=' and '-', a suite that selects no cell (no\n"
    "mixers, or no task and no latency length), and one of more than 10,000 tasks (sweep\n"
    "axes expanded), 20,000 task x length configurations or 20,000 cells. Control\n"
    "characters from the file are shown escaped (\\x1b) in messages, and quoted lines are\n"
    "cut to 200 columns.",
    opts,
};

int cmd_validate(int argc, char **argv)
{
    int quiet = 0, c, ind;
    while ((c = xb_cli_getopt(&cli, argc, argv, &ind)) != -1) {
        if (c == 'h') return XB_EXIT_OK;
        if (c == '?') return XB_EXIT_USAGE;
        if (c == 'q') quiet = 1;
    }
    if (argc - ind == 0) return xb_cli_usage_error(&cli, "expected a suite file");
    if (argc - ind > 1) return xb_cli_usage_error(&cli, "expected one suite file, got %d", argc - ind);
    xb_suite s;
    int rc = xb_suite_load(argv[ind], &s, stderr);
    if (rc != XB_OK) {
        char shown[512];
        if (rc != XB_EIO)
            fprintf(stderr, "xbench validate: '%s' is not a valid suite\n", xb_escape(shown, sizeof shown, argv[ind]));
        return XB_EXIT_USAGE;
    }
    xb_suite_count n = xb_suite_count_cells(&s);
    char shown[512];
    if (!quiet)
        printf("# %s resolved, hash %016llx\n%s", xb_escape(shown, sizeof shown, s.path),
               (unsigned long long)s.hash, s.canonical);
    printf("# cells: %ld training (%ld task-length x mixer pairs x %d seeds x %d thread counts)"
           " + %ld latency-only (%d lengths x %d mixers x %d thread counts)",
           n.train, n.pairs, s.n_seeds, s.n_threads, n.latency, s.latency.n_lengths, s.n_mixers, s.n_threads);
    if (n.decode)
        printf(" + %ld decode (%d contexts x %d mixers with a decode form x %d thread counts)", n.decode,
               s.latency.n_decode_lengths, n.decoders, s.n_threads);
    printf(" = %ld\n", n.train + n.latency + n.decode);
    xb_suite_release(&s);
    return XB_EXIT_OK;
}
