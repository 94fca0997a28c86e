/* cmd/cmd_report.c — `xbench report DIR [--quiet] [--summary]`: regenerate results.csv,
 * results.json and tables.md of a results folder from its cells.jsonl (harness/report/report.c)
 * and print the tables, or the end-of-run summary (harness/report/summary.c). */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "harness/report/report.h"
#include "harness/report/summary.h"

static const xb_cli_opt opts[] = {
    {"quiet", 0, 'q', NULL, "write the files without printing the tables"},
    {"summary", 0, 's', NULL, "print what `xbench run` prints at the end (accuracy tables, one verdict line per mixer) instead of every table: for a folder made by `xbench merge`"},
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
    int quiet = 0, summary = 0, c, ind;
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
        if (c == 's') summary = 1;
    }
    if (n_operands != 1) return xb_cli_usage_error(&cli, "expected one results folder");
    /* the folder's name is echoed in messages and tables: no control characters in it */
    for (const unsigned char *p = (const unsigned char *)operand; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return xb_cli_usage_error(&cli, "'%s': a control character in the folder's name", operand);
    if (xb_report_dir(operand, quiet || summary ? NULL : stdout, stderr)) return XB_EXIT_USAGE;
    if (summary && !quiet && xb_summary_dir(operand, stdout, stderr)) return XB_EXIT_USAGE;
    return XB_EXIT_OK;
}
