/* cmd/cmd_slurm.c — `xbench slurm SUITE --shards N [--partition P] [--time T]
 * [--cpus-per-task C] [-o DIR] ...`: write the sbatch scripts that run the suite as a Slurm
 * job array, one shard per task, and merge the shards after it (harness/slurm.c). Nothing is
 * submitted: DIR/submit.sh does that. Exit: 0 written, 2 bad usage or suite. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/xb.h"
#include "harness/slurm.h"
#include "harness/suite.h"

enum { OPT_NO_PLOTS = 256, OPT_MACHINE, OPT_SBATCH };

static const xb_cli_opt opts[] = {
    {"shards", 1, 'n', "N", "N shards, one array task each (required)"},
    {"output", 1, 'o', "DIR", "scripts, shard-K/, merged/, logs/ (default results/<name>-slurm/)"},
    {"partition", 1, 'p', "P", "Slurm partition (default: the cluster's)"},
    {"time", 1, 't', "T", "time limit per task: minutes, HH:MM:SS, D-HH:MM, ..."},
    {"cpus-per-task", 1, 'c', "C", "CPUs per task = its --threads (default: the suite's most)"},
    {"only", 1, 'm', "A,B,...", "only these mixers of the suite (run --only)"},
    {"machine", 1, OPT_MACHINE, "full|quick|none", "run --machine in each task (default full)"},
    {"no-plots", 0, OPT_NO_PLOTS, NULL, "no plots in the shards or the merge"},
    {"sbatch", 1, OPT_SBATCH, "OPT", "one more #SBATCH line, e.g. --sbatch=--mem=4G (repeatable)"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "slurm", "SUITE.yaml --shards N",
    "Write DIR/xbench.sbatch (a job array 1-N: task K runs `xbench run SUITE --shard K/N\n"
    "--threads $SLURM_CPUS_PER_TASK -o DIR/shard-K`), DIR/merge.sbatch (`xbench merge` of\n"
    "the N shard folders into DIR/merged) and DIR/submit.sh, which submits the array and then\n"
    "the merge with --dependency=afterok on it. Run DIR/submit.sh on the cluster's login node;\n"
    "the binary, the suite and DIR must be on a file system the nodes share.\n"
    "Exit status: 0 written, 2 bad usage or suite.",
    opts,
};


int cmd_slurm(int argc, char **argv)
{
    xb_slurm_opts o;
    memset(&o, 0, sizeof o);
    o.err = stderr;
    const char *operand = NULL;
    int n_operands = 0, c, ind;
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
        case 'n':
            if (xb_cli_parse_int(optarg, 1, 100000, &o.shards))
                return xb_cli_usage_error(&cli, "--shards: expected a positive integer, got '%s'", optarg);
            break;
        case 'o': o.out_dir = optarg; break;
        case 'p': o.partition = optarg; break;
        case 't': o.time_limit = optarg; break;
        case 'c':
            if (xb_cli_parse_int(optarg, 1, 4096, &o.cpus))
                return xb_cli_usage_error(&cli, "--cpus-per-task: expected a positive integer, got '%s'", optarg);
            break;
        case 'm':
            if (xb_cli_check_only(&cli, optarg)) return XB_EXIT_USAGE;
            o.only = optarg;
            break;
        case OPT_MACHINE: o.machine = optarg; break;
        case OPT_NO_PLOTS: o.no_plots = 1; break;
        case OPT_SBATCH:
            if (o.n_extra == XB_SLURM_MAX_EXTRA)
                return xb_cli_usage_error(&cli, "--sbatch: at most %d", XB_SLURM_MAX_EXTRA);
            o.extra[o.n_extra++] = optarg;
            break;
        }
    }
    if (n_operands != 1) return xb_cli_usage_error(&cli, "expected one suite file");
    if (o.shards < 1) return xb_cli_usage_error(&cli, "expected --shards N");
    xb_suite s;
    if (xb_suite_load(operand, &s, stderr) != XB_OK) return XB_EXIT_USAGE;
    char *dir = NULL;
    int rc = xb_slurm_write(&s, operand, &o, &dir);
    if (rc == 0)
        printf("wrote %s/xbench.sbatch (%d array tasks), %s/merge.sbatch and %s/submit.sh\n"
               "submit with: %s/submit.sh\n", dir, o.shards, dir, dir, dir);
    free(dir);
    xb_suite_release(&s);
    return rc ? XB_EXIT_USAGE : XB_EXIT_OK;
}
