/* cmd/cmd_compare.c — `xbench compare BASE NEW [--max-slowdown 10%] [--max-acc-drop 0.02]
 * [--alpha 0.05] [--metric M] [--repeat DIR] [--latency WHEN]`: regressions between two
 * results folders (harness/report/compare.c). Exit: 0 no regression, 1 a regression, a lost or
 * failed cell, or no common cell, 2 bad usage or bad input (a folder or its cells.jsonl
 * missing, unreadable or corrupt). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "harness/report/compare.h"

enum { OPT_SLOW = 256, OPT_ACC, OPT_ALPHA, OPT_METRIC, OPT_REPEAT, OPT_LATENCY };

static const xb_cli_opt opts[] = {
    {"max-slowdown", 1, OPT_SLOW, "X%", "latency regression threshold: NEW slower than BASE by more than "
                                        "this (10% or 0.10; a bare number is a fraction <= 1; default 10%)"},
    {"max-acc-drop", 1, OPT_ACC, "D", "accuracy regression threshold: mean test accuracy lower by more "
                                      "than D (0.02 = 2 points; default 0.02)"},
    {"alpha", 1, OPT_ALPHA, "P", "significance level of the one-sided Mann-Whitney U test (default 0.05)"},
    {"metric", 1, OPT_METRIC, "M", "latency measurement: model_fwd (default), model_fwdbwd, mixer_fwd, "
                                   "mixer_fwdbwd, model_train"},
    {"repeat", 1, OPT_REPEAT, "DIR", "a second run of BASE's suite on BASE's machine: its run-to-run "
                                     "change sets how much slower a cell may get before it is a regression"},
    {"latency", 1, OPT_LATENCY, "WHEN", "compare latency: same-machine (default: only when both folders were "
                                        "measured on this machine in one boot), always, never"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "compare", "BASE NEW",
    "Compare two results folders (e.g. results/baseline and a fresh run of the same suite)\n"
    "through their cells.jsonl. Cells match when their configurations match (task, mixer,\n"
    "L, mode, threads and every option; seeds are pooled). Per cell: the mean test accuracy\n"
    "over seeds, and, when both folders were measured on the same machine, the latency ratio\n"
    "of medians with a one-sided Mann-Whitney U test over the raw repetitions. It fails on an\n"
    "accuracy drop beyond --max-acc-drop, a significant slowdown (p < --alpha) beyond the\n"
    "allowed one (--max-slowdown, widened by the run-to-run spread that --repeat measures;\n"
    "never when a side is flagged noisy), a cell of BASE missing from NEW, a cell of NEW that\n"
    "did not end ok, or no common cell. Prints a verdict for every comparison.\n"
    "Exit status: 0 pass, 1 fail, 2 bad usage or input.",
    opts,
};

/* A number; with percent_ok, "10%" is 0.10 and a bare number must be a fraction in [0, 1]
 * ("--max-slowdown 10" is refused rather than read as 1000 %). */
static int parse_num(const char *s, int percent_ok, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s) return -1;
    if (*end == '%' && percent_ok) {
        v /= 100;
        end++;
    } else if (percent_ok && v > 1) {
        return -1;
    }
    if (*end || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

int cmd_compare(int argc, char **argv)
{
    xb_compare_opts o = { 0.10, 0.02, 0.05, "model_fwd", XB_LATENCY_SAME_MACHINE, NULL };
    const char *operands[2] = { NULL, NULL };
    int n_operands = 0, c, ind;
    for (;;) {
        c = xb_cli_getopt(&cli, argc, argv, &ind);
        if (c == -1) {
            if (ind >= argc) break;
            if (n_operands < 2) operands[n_operands] = argv[ind];
            n_operands++;
            optind = ind + 1;
            continue;
        }
        switch (c) {
        case 'h': return XB_EXIT_OK;
        case '?': return XB_EXIT_USAGE;
        case OPT_SLOW:
            if (parse_num(optarg, 1, &o.max_slowdown) || o.max_slowdown < 0)
                return xb_cli_usage_error(&cli, "--max-slowdown: expected a percentage >= 0 like 10%% "
                                          "or a fraction in [0, 1] like 0.10, got '%s'", optarg);
            break;
        case OPT_ACC:
            if (parse_num(optarg, 0, &o.max_acc_drop) || o.max_acc_drop < 0 || o.max_acc_drop > 1)
                return xb_cli_usage_error(&cli, "--max-acc-drop: expected a number in [0, 1], got '%s'", optarg);
            break;
        case OPT_ALPHA:
            if (parse_num(optarg, 0, &o.alpha) || !(o.alpha > 0 && o.alpha < 1))
                return xb_cli_usage_error(&cli, "--alpha: expected a number in (0, 1), got '%s'", optarg);
            break;
        case OPT_METRIC:
            if (strcmp(optarg, "model_fwd") && strcmp(optarg, "model_fwdbwd") && strcmp(optarg, "mixer_fwd") &&
                strcmp(optarg, "mixer_fwdbwd") && strcmp(optarg, "model_train"))
                return xb_cli_usage_error(&cli, "--metric: expected model_fwd, model_fwdbwd, mixer_fwd, "
                                          "mixer_fwdbwd or model_train, got '%s'", optarg);
            o.metric = optarg;
            break;
        case OPT_REPEAT:
            if (!*optarg) return xb_cli_usage_error(&cli, "--repeat: expected a results folder, got ''");
            o.repeat = optarg;
            break;
        case OPT_LATENCY:
            if (!strcmp(optarg, "same-machine")) o.latency = XB_LATENCY_SAME_MACHINE;
            else if (!strcmp(optarg, "always")) o.latency = XB_LATENCY_ALWAYS;
            else if (!strcmp(optarg, "never")) o.latency = XB_LATENCY_NEVER;
            else return xb_cli_usage_error(&cli, "--latency: expected same-machine, always or never, "
                                           "got '%s'", optarg);
            break;
        }
    }
    if (n_operands != 2) return xb_cli_usage_error(&cli, "expected two results folders, BASE and NEW");
    int rc = xb_compare_dirs(operands[0], operands[1], &o, stdout, stderr);
    fflush(stdout);
    return rc;
}
