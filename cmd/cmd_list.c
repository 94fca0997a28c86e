/* cmd/cmd_list.c — `xbench list [mixers|tasks|keys]`: its arguments. The listings are
 * harness/catalog.c (the registries) and harness/suite_keys.c (the suite keys). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "harness/catalog.h"
#include "harness/suite.h"

static const xb_cli_opt opts[] = {
    {"markdown", 0, 'M', NULL, "print mixers and tasks as Markdown tables (as in README.md)"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "list", "[--markdown] [mixers|tasks|keys]",
    "List the registered token mixers (family, complexity, trainable parameters of one layer at\n"
    "d=64, h=4, n_max=1024, supported modes, paper; * = FLOP formula unverified), the tasks\n"
    "(shape, description, options with range and default) or the suite keys (Markdown).\n"
    "Without an argument: mixers and tasks.",
    opts,
};

int cmd_list(int argc, char **argv)
{
    int c, ind, markdown = 0;
    while ((c = xb_cli_getopt(&cli, argc, argv, &ind)) != -1) {
        if (c == 'h') return XB_EXIT_OK;
        if (c == 'M') { markdown = 1; continue; }
        return XB_EXIT_USAGE;
    }
    if (argc - ind > 1) return xb_cli_usage_error(&cli, "expected at most one of mixers, tasks, keys");
    const char *what = argc - ind ? argv[ind] : "";
    if (!*what) {
        printf("mixers:\n");
        xb_catalog_mixers(stdout, markdown);
        printf("\ntasks:\n");
        xb_catalog_tasks(stdout, markdown);
    } else if (!strcmp(what, "mixers")) {
        xb_catalog_mixers(stdout, markdown);
    } else if (!strcmp(what, "tasks")) {
        xb_catalog_tasks(stdout, markdown);
    } else if (!strcmp(what, "keys")) {
        xb_suite_keys_markdown(stdout);
    } else {
        return xb_cli_usage_error(&cli, "unknown list '%s' (mixers, tasks or keys)", what);
    }
    return XB_EXIT_OK;
}
