/* cmd/cmd_run.c — `xbench run SUITE.yaml [-o DIR] [--threads N] [--only MIXER,...]
 * [--resume] [--quiet] [--shard K/N] [--no-plots]`: parse the options, load the suite, hand
 * both to harness/sweep.c. Exit: 0 every cell ok, 1 some cell not ok, 2 usage or suite
 * error, 130 interrupted. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if __has_include("cmd/cmd.h")
#include "cmd/cmd.h"
#else
int cmd_run(int argc, char **argv);
#endif
#include "core/xb.h"
#include "harness/suite.h"
#include "harness/sweep.h"

static const struct option run_opts[] = {
    { "output",   required_argument, NULL, 'o' },
    { "threads",  required_argument, NULL, 't' },
    { "only",     required_argument, NULL, 'm' },
    { "resume",   no_argument,       NULL, 'r' },
    { "quiet",    no_argument,       NULL, 'q' },
    { "shard",    required_argument, NULL, 's' },
    { "no-plots", no_argument,       NULL, 'P' },
    { "help",     no_argument,       NULL, 'h' },
    { NULL, 0, NULL, 0 }
};

static void run_usage(FILE *f)
{
    fprintf(f,
        "usage: xbench run SUITE.yaml [options]\n"
        "  -o, --output DIR     results folder (default results/<suite name>/)\n"
        "  -t, --threads N      run every cell with N threads (replaces the suite's threads:)\n"
        "  -m, --only A,B,...   only these mixers of the suite\n"
        "  -r, --resume         continue a run in DIR: finished cells with the same\n"
        "                       configuration are kept (timeout/oom/crashed ones run again)\n"
        "  -q, --quiet          no progress on stderr\n"
        "  -s, --shard K/N      run every N-th cell starting at the K-th (1 <= K <= N)\n"
        "      --no-plots       do not render plots at the end\n"
        "exit status: 0 all cells ok, 1 some cell not ok, 2 bad usage or suite, 130 interrupted\n");
}

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
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:t:m:rqs:h", run_opts, NULL)) != -1) {
        switch (c) {
        case 'o': o.out_dir = optarg; break;
        case 't':
            if (parse_int(optarg, 1, 4096, &o.threads)) {
                fprintf(stderr, "error: --threads: expected a positive integer, got '%s'\n", optarg);
                return 2;
            }
            break;
        case 'm': o.only = optarg; break;
        case 'r': o.resume = 1; break;
        case 'q': o.quiet = 1; break;
        case 's': {
            char extra;
            if (sscanf(optarg, "%d/%d%c", &o.shard_k, &o.shard_n, &extra) != 2 || o.shard_n < 1 ||
                o.shard_k < 1 || o.shard_k > o.shard_n) {
                fprintf(stderr, "error: --shard: expected K/N with 1 <= K <= N, got '%s'\n", optarg);
                return 2;
            }
            break;
        }
        case 'P': o.no_plots = 1; break;
        case 'h': run_usage(stdout); return 0;
        default: run_usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "error: run needs exactly one suite file\n");
        run_usage(stderr);
        return 2;
    }
    xb_suite s;
    if (xb_suite_load(argv[optind], &s, stderr) != 0) return 2;
    int rc = xb_sweep_run(&s, &o);
    xb_suite_release(&s);
    if (rc < 0) return 2;
    return rc;
}
