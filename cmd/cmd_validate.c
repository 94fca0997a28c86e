/* cmd/cmd_validate.c — `xbench validate SUITE.yaml`: load the suite, print it resolved (every
 * default written out) and the number of cells; exit 2 on any error. */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/xb.h"
#include "harness/suite.h"

static const xb_cli_opt opts[] = {
    {"quiet", 0, 'q', NULL, "print only errors and the cell count"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "validate", "SUITE.yaml",
    "Check a suite file: every key, name and value, and each mixer's and task's own check at\n"
    "every configured length. Prints the resolved suite (every default written out), its hash\n"
    "and the number of cells. Errors go to stderr as file:line:column: key: message; exit 2.",
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
        if (rc != XB_EIO) fprintf(stderr, "xbench validate: '%s' is not a valid suite\n", argv[ind]);
        return XB_EXIT_USAGE;
    }
    long pairs = 0;   /* task length x mixer pairs the tasks run (tasks[i].mixers may subset) */
    for (int t = 0; t < s.n_tasks; t++)
        for (int j = 0; j < s.n_mixers; j++)
            if (!s.tasks[t].use || s.tasks[t].use[j]) pairs += s.tasks[t].n_lengths;
    long train_cells = pairs * s.n_seeds * s.n_threads;
    long latency_cells = (long)s.latency.n_lengths * s.n_mixers * s.n_threads;
    if (!quiet) printf("# %s resolved, hash %016llx\n%s", s.path, (unsigned long long)s.hash, s.canonical);
    printf("# cells: %ld training (%ld task-length x mixer pairs x %d seeds x %d thread counts)"
           " + %ld latency-only (%d lengths x %d mixers x %d thread counts) = %ld\n",
           train_cells, pairs, s.n_seeds, s.n_threads, latency_cells,
           s.latency.n_lengths, s.n_mixers, s.n_threads, train_cells + latency_cells);
    if (train_cells + latency_cells == 0)
        fprintf(stderr, "%s: warning: the suite has no cells (no mixers or no tasks)\n", s.path);
    xb_suite_release(&s);
    return XB_EXIT_OK;
}
