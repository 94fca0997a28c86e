/* cmd/cmd_report.c — `xbench report DIR [--quiet]`: regenerate results.csv, results.json and
 * tables.md of a results folder from its cells.jsonl (harness/report.c) and print the tables. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#if __has_include("cmd/cmd.h")
#include "cmd/cmd.h"
#else
int cmd_report(int argc, char **argv);
#endif
#include "harness/report.h"

static const struct option report_opts[] = {
    { "quiet", no_argument, NULL, 'q' },
    { "help",  no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
};

int cmd_report(int argc, char **argv)
{
    int quiet = 0, c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", report_opts, NULL)) != -1) {
        if (c == 'q') quiet = 1;
        else {
            fprintf(c == 'h' ? stdout : stderr,
                    "usage: xbench report DIR [--quiet]\n"
                    "  regenerates DIR/results.csv, results.json and tables.md from DIR/cells.jsonl\n"
                    "  and prints the tables (not with --quiet)\n");
            return c == 'h' ? 0 : 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "error: report needs exactly one results folder\n");
        return 2;
    }
    return xb_report_dir(argv[optind], quiet ? NULL : stdout, stderr) ? 1 : 0;
}
