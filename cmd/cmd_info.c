/* cmd/cmd_info.c — `xbench info`: describe the machine and measure its ceilings (FMA peak
 * per thread count, SGEMM, STREAM triad) so latencies can be read as a fraction of them.
 * info runs no cells, so it may enter OpenMP regions (harness/machine.c does the work). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/cmd.h"
#include "harness/machine.h"

enum { OPT_NO_MEASURE = 1000 };

static const xb_cli_opt opts[] = {
    {"threads", 1, 't', "N", "measure thread counts 1..N (default: every usable CPU)"},
    {"quick", 0, 'q', NULL, "small sizes and short timings (rough numbers)"},
    {"no-measure", 0, OPT_NO_MEASURE, NULL, "only describe the machine"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "info", NULL,
    "Describe this machine (CPU, cores, caches, compiler and flags, BLAS and the kernel it\n"
    "chose, OPENBLAS_*/OMP_* variables) and measure its ceilings: FMA peak GFLOP/s for each\n"
    "thread count, SGEMM 2048^3 GFLOP/s on 1 and all threads, STREAM triad GB/s on 1 and all\n"
    "threads. Takes a few seconds per thread count.",
    opts,
};

int cmd_info(int argc, char **argv)
{
    int c, ind, threads = 0, quick = 0, measure = 1;
    while ((c = xb_cli_getopt(&cli, argc, argv, &ind)) != -1) {
        switch (c) {
        case 'h': return XB_EXIT_OK;
        case 't': {
            char *e;
            long v = strtol(optarg, &e, 10);
            if (e == optarg || *e || v < 1 || v > XB_MACHINE_MAX_T)
                return xb_cli_usage_error(&cli, "--threads: expected an integer between 1 and %d, got '%s'",
                                          XB_MACHINE_MAX_T, optarg);
            threads = (int)v;
            break;
        }
        case 'q': quick = 1; break;
        case OPT_NO_MEASURE: measure = 0; break;
        default: return XB_EXIT_USAGE;
        }
    }
    if (ind < argc) return xb_cli_usage_error(&cli, "unexpected argument '%s'", argv[ind]);
    xb_machine *m = malloc(sizeof *m);
    if (!m) {
        fprintf(stderr, "xbench info: out of memory\n");
        return XB_EXIT_USAGE;
    }
    xb_machine_describe(m);
    if (measure) {
        fprintf(stderr, "measuring (FMA peak for 1..%d threads, SGEMM, STREAM)...\n",
                threads ? threads : m->n_cpus);
        if (xb_machine_measure(m, threads, quick) != 0)
            fprintf(stderr, "xbench info: out of memory for the STREAM arrays\n");
    }
    xb_machine_print(m, stdout);
    free(m);
    return XB_EXIT_OK;
}
