/* cmd/cmd_plot.c — `xbench plot DIR`: write DIR/plots/<name>.gp from cells.jsonl and render
 * them with gnuplot to .png, .svg and .pdf (harness/report/plot.c). */
#include <getopt.h>
#include <stdio.h>

#include "cmd/cmd.h"
#include "harness/report/plot.h"

static const xb_cli cli = {
    "plot", "DIR",
    "Write DIR/plots/<name>.gp (data inline) from DIR/cells.jsonl and render each to .png,\n"
    ".svg and .pdf with gnuplot: latency and FLOPs vs length (log-log, µs/ms/s ticks),\n"
    "accuracy per task (grouped bars at one length, lines over several), the\n"
    "accuracy-latency Pareto front per task, training-loss curves. Each mixer keeps one\n"
    "colour and marker in every figure. Without gnuplot on PATH the scripts are still written.",
    NULL,
};

int cmd_plot(int argc, char **argv)
{
    int c, ind;
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
    }
    if (n_operands != 1) return xb_cli_usage_error(&cli, "expected one results folder");
    int rc = xb_plot_dir(operand, stderr);
    if (rc == 0) fprintf(stderr, "plots in %s/plots/\n", operand);
    return rc ? XB_EXIT_USAGE : XB_EXIT_OK;
}
