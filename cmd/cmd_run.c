/* cmd/cmd_run.c — `xbench run SUITE.yaml [-o DIR] [--threads N] [--only MIXER,...]
 * [--resume] [--quiet] [--shard K/N] [--no-plots]`: parse the options, load the suite, hand
 * both to harness/sweep.c. Exit: 0 every cell ok, 1 some cell not ok (skipped included),
 * 2 usage or suite error, 130 interrupted (SIGINT/SIGTERM; continue with --resume). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/xb.h"
#include "harness/suite.h"
#include "harness/sweep.h"

enum { OPT_NO_PLOTS = 256, OPT_MACHINE, OPT_DRY_RUN };

static const xb_cli_opt opts[] = {
    {"output", 1, 'o', "DIR", "results folder (default results/<suite name>/)"},
    {"threads", 1, 't', "N", "run every cell with N threads (replaces the suite's threads:)"},
    {"only", 1, 'm', "A,B,...", "only these mixers of the suite"},
    {"resume", 0, 'r', NULL, "continue the run in DIR: keep finished cells whose configuration is "
                             "unchanged (timeout/oom/crashed cells run again)"},
    {"quiet", 0, 'q', NULL, "no progress on stderr"},
    {"shard", 1, 's', "K/N", "run every N-th cell starting at the K-th (1 <= K <= N)"},
    {"no-plots", 0, OPT_NO_PLOTS, NULL, "do not render plots at the end"},
    {"dry-run", 0, OPT_DRY_RUN, NULL, "list the cells the suite and options select, run nothing, write nothing"},
    {"machine", 1, OPT_MACHINE, "full|quick|none", "measure the machine's ceilings for meta.json and "
                                                   "the fraction-of-peak columns (default full, ~5 s)"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "run", "SUITE.yaml",
    "Run every task x mixer x length (x seed x threads) cell of a suite, each in its own\n"
    "process under the suite's time and memory limits, then latency-only cells. Each finished\n"
    "cell is appended to DIR/cells.jsonl at once; at the end DIR/results.csv, results.json,\n"
    "tables.md, meta.json and plots/ are written and the tables printed. Ctrl-C stops cleanly.\n"
    "Exit status: 0 all cells ok, 1 some cell not ok (skipped included), 2 bad usage or\n"
    "suite, 130 interrupted.",
    opts,
};

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

int cmd_run(int argc, char **argv)
{
    xb_sweep_opts o;
    memset(&o, 0, sizeof o);
    o.out = stdout;
    o.err = stderr;
    o.machine = 2;
    int c, ind;
    const char *operand = NULL;
    int n_operands = 0, dry_run = 0;
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
        switch (c) {
        case 'h': return XB_EXIT_OK;
        case '?': return XB_EXIT_USAGE;
        case 'o': o.out_dir = optarg; break;
        case 't':
            if (parse_int(optarg, 1, 4096, &o.threads))
                return xb_cli_usage_error(&cli, "--threads: expected a positive integer, got '%s'", optarg);
            break;
        case 'm': o.only = optarg; break;
        case 'r': o.resume = 1; break;
        case 'q': o.quiet = 1; break;
        case 's': {
            char extra;
            if (sscanf(optarg, "%d/%d%c", &o.shard_k, &o.shard_n, &extra) != 2 || o.shard_n < 1 ||
                o.shard_k < 1 || o.shard_k > o.shard_n)
                return xb_cli_usage_error(&cli, "--shard: expected K/N with 1 <= K <= N, got '%s'", optarg);
            break;
        }
        case OPT_NO_PLOTS: o.no_plots = 1; break;
        case OPT_DRY_RUN: dry_run = 1; break;
        case OPT_MACHINE:
            if (strcmp(optarg, "full") == 0) o.machine = 2;
            else if (strcmp(optarg, "quick") == 0) o.machine = 1;
            else if (strcmp(optarg, "none") == 0) o.machine = 0;
            else return xb_cli_usage_error(&cli, "--machine: expected full, quick or none, got '%s'", optarg);
            break;
        }
    }
    if (n_operands != 1) return xb_cli_usage_error(&cli, "expected one suite file");
    xb_suite s;
    if (xb_suite_load(operand, &s, stderr) != XB_OK) return XB_EXIT_USAGE;
    int rc = dry_run ? xb_sweep_plan(&s, &o, stdout) : xb_sweep_run(&s, &o);
    xb_suite_release(&s);
    if (rc < 0) return XB_EXIT_USAGE;
    if (rc == XB_SWEEP_INTERRUPTED) return XB_EXIT_INTERRUPTED;
    return rc == XB_SWEEP_NOT_ALL_OK ? XB_EXIT_CELLS : XB_EXIT_OK;
}
