/* cmd/cmd_plot.c — `xbench plot DIR`: write DIR/plots/<name>.gp from cells.jsonl and render them
 * with gnuplot to .png and .svg (harness/plot.c). */
#include <getopt.h>
#include <stdio.h>

#if __has_include("cmd/cmd.h")
#include "cmd/cmd.h"
#else
int cmd_plot(int argc, char **argv);
#endif
#include "harness/plot.h"

static const struct option plot_opts[] = {
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 }
};

int cmd_plot(int argc, char **argv)
{
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", plot_opts, NULL)) != -1) {
        fprintf(c == 'h' ? stdout : stderr,
                "usage: xbench plot DIR\n"
                "  writes DIR/plots/<name>.gp (data inline) and renders .png and .svg with gnuplot\n");
        return c == 'h' ? 0 : 2;
    }
    if (optind != argc - 1) {
        fprintf(stderr, "error: plot needs exactly one results folder\n");
        return 2;
    }
    int rc = xb_plot_dir(argv[optind], stderr);
    if (rc == 0) fprintf(stderr, "plots in %s/plots/\n", argv[optind]);
    return rc ? 1 : 0;
}
