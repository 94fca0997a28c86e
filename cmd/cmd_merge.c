/* cmd/cmd_merge.c — `xbench merge DIR... -o OUT [--no-plots] [--quiet]`: join the results
 * folders of the shards of one suite (harness/merge.c). Exit: 0 every cell present and ok,
 * 1 merged but some cells missing or not ok, 2 bad usage or bad input folders (different
 * suites, not results folders, OUT a run's folder). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "core/xb.h"
#include "harness/merge.h"

enum { OPT_NO_PLOTS = 256 };

static const xb_cli_opt opts[] = {
    {"output", 1, 'o', "OUT", "the merged results folder (required; new, or an earlier merge)"},
    {"no-plots", 0, OPT_NO_PLOTS, NULL, "do not render plots"},
    {"quiet", 0, 'q', NULL, "no summary on stdout"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "merge", "DIR... -o OUT",
    "Join the results folders of the shards of one suite (`xbench run --shard K/N`, or the\n"
    "shard-K folders of `xbench slurm`) into OUT: cells.jsonl with every cell once, meta.json\n"
    "naming each shard's folder and machine, then tables.md, results.csv/json and plots, as\n"
    "if one machine had run the suite. Folders of different suites are refused; a cell found\n"
    "in two folders is a duplicate (warned; the ok, else the later record is kept); cells and\n"
    "whole shards that no folder holds are listed as missing.\n"
    "Exit status: 0 every cell present and ok, 1 some cell missing or not ok (skipped\n"
    "included), 2 bad usage or bad input folders.",
    opts,
};

int cmd_merge(int argc, char **argv)
{
    xb_merge_opts o = { .out = stdout, .err = stderr };
    const char *out_dir = NULL;
    const char **dirs = calloc((size_t)argc + 1, sizeof *dirs);
    if (!dirs) return XB_EXIT_USAGE;
    int n = 0, c, ind, rc;
    /* options may come before, between or after the folders */
    for (;;) {
        c = xb_cli_getopt(&cli, argc, argv, &ind);
        if (c == -1) {
            if (ind >= argc) break;
            dirs[n++] = argv[ind];
            optind = ind + 1;
            continue;
        }
        switch (c) {
        case 'h': free(dirs); return XB_EXIT_OK;
        case '?': free(dirs); return XB_EXIT_USAGE;
        case 'o': out_dir = optarg; break;
        case 'q': o.quiet = 1; break;
        case OPT_NO_PLOTS: o.no_plots = 1; break;
        }
    }
    if (n < 1) rc = xb_cli_usage_error(&cli, "expected one or more results folders");
    else if (!out_dir) rc = xb_cli_usage_error(&cli, "expected -o OUT, the merged folder");
    else {
        rc = xb_merge(dirs, n, out_dir, &o);
        rc = rc < 0 ? XB_EXIT_USAGE : rc == XB_MERGE_INCOMPLETE ? XB_EXIT_CELLS : XB_EXIT_OK;
    }
    free(dirs);
    return rc;
}
