/* cmd/cmd_report.c — `xbench report DIR [--quiet]`: regenerate results.csv, results.json and
 * tables.md of a results folder from its cells.jsonl (harness/report/report.c) and print the
 * tables. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "harness/report/report.h"

static const xb_cli_opt opts[] = {
    {"quiet", 0, 'q', NULL, "write the files without printing the tables"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "report", "DIR",
    "Regenerate DIR/results.csv, results.json and tables.md from DIR/cells.jsonl (any time,\n"
    "also while a run is going on) and print the tables. Failed or missing cells show as\n"
    "\"— (status)\", never as 0.",
    opts,
};

int cmd_report(int argc, char **argv)
{
    int quiet = 0, c, ind;
    const char *operand = NULL;
    int n_operands = 0;
    /* options may come before or after the operand (the parser stops at the first operand) */
    for (;;) {
        c = xb_cli_getopt(&cli, argc, argv, &ind);
        if (c == -1) {
            if (ind >= argc) break;
            operand = argv[ind];
            n_operands++;
            optind = ind + 1;
            continue;
        }
        if (c == 'h') return XB_EXIT_OK;
        if (c == '?') return XB_EXIT_USAGE;
        if (c == 'q') quiet = 1;
    }
    if (n_operands != 1) return xb_cli_usage_error(&cli, "expected one results folder");
    /* the folder's name is echoed in messages and tables: no control characters in it */
    for (const unsigned char *p = (const unsigned char *)operand; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return xb_cli_usage_error(&cli, "'%s': a control character in the folder's name", operand);
    return xb_report_dir(operand, quiet ? NULL : stdout, stderr) ? XB_EXIT_USAGE : XB_EXIT_OK;
}
