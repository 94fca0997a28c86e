/* cmd/cmd_list.c — `xbench list [mixers|tasks|keys]`: what the registries hold and the suite
 * keys, straight from the tables (mixers/registry.c, tasks/registry.c, harness/suite.c). */
#include <stdio.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/mixer.h"
#include "core/task.h"
#include "harness/suite.h"
#include "mixers/registry.h"
#include "tasks/registry.h"

static const xb_cli cli = {
    "list", "[mixers|tasks|keys]",
    "List the registered token mixers (family, complexity, trainable parameters of one layer at\n"
    "d=64, h=4, n_max=1024, supported modes, paper; * = FLOP formula unverified), the tasks\n"
    "(shape, description, options with range and default) or the suite keys (Markdown).\n"
    "Without an argument: mixers and tasks.",
    NULL,
};

static const char *shape_name(xb_shape s)
{
    return s == XB_SHAPE_CLS ? "CLS" : s == XB_SHAPE_PAIR ? "PAIR" : "TOK";
}

static void list_mixers(void)
{
    printf("%-12s %-18s %-10s %9s  %-14s %-28s %s\n", "mixer", "family", "complexity", "params",
           "modes", "options", "paper");
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        xb_mixer_cfg c;
        memset(&c, 0, sizeof c);
        c.d = 64;
        c.heads = 4;
        c.n_max = 1024;
        c.causal = (m->modes & XB_CAUSAL) != 0;
        c = xb_mixer_resolve(m, &c);
        char modes[32];
        snprintf(modes, sizeof modes, "%s%s%s", m->modes & XB_CAUSAL ? "causal" : "",
                 (m->modes & XB_CAUSAL) && (m->modes & XB_BIDIR) ? "," : "",
                 m->modes & XB_BIDIR ? "bidir" : "");
        printf("%-12s %-18s %-10s %9zu  %-14s %-28s %s%s\n", m->name, m->family, m->complexity,
               xb_mixer_n_trainable(m, &c), modes, m->options && *m->options ? m->options : "-",
               m->unverified ? "* " : "", m->cite);
    }
    if (xb_n_mixers == 0) printf("(no mixers registered)\n");
}

static void list_tasks(void)
{
    for (int i = 0; xb_tasks[i]; i++) {
        const xb_task *t = xb_tasks[i];
        printf("%s%-10s %-4s  %s\n", i ? "\n" : "", t->name, shape_name(t->shape), t->desc);
        printf("    from: %s\n", t->cite);
        for (int j = 0; j < t->n_opts; j++) {
            const xb_opt *o = &t->opts[j];
            char range[96];
            snprintf(range, sizeof range, "[%.10g .. %.10g]%s", o->min, o->max, o->is_int ? "" : " real");
            printf("    %-20s %-12.10g %-28s %s\n", o->name, o->def, range, o->help);
        }
    }
    if (xb_n_tasks == 0) printf("(no tasks registered)\n");
}

int cmd_list(int argc, char **argv)
{
    int c, ind;
    while ((c = xb_cli_getopt(&cli, argc, argv, &ind)) != -1) {
        if (c == 'h') return XB_EXIT_OK;
        return XB_EXIT_USAGE;
    }
    if (argc - ind > 1) return xb_cli_usage_error(&cli, "expected at most one of mixers, tasks, keys");
    const char *what = argc - ind ? argv[ind] : "";
    if (!*what) {
        printf("mixers:\n");
        list_mixers();
        printf("\ntasks:\n");
        list_tasks();
    } else if (!strcmp(what, "mixers")) {
        list_mixers();
    } else if (!strcmp(what, "tasks")) {
        list_tasks();
    } else if (!strcmp(what, "keys")) {
        xb_suite_keys_markdown(stdout);
    } else {
        return xb_cli_usage_error(&cli, "unknown list '%s' (mixers, tasks or keys)", what);
    }
    return XB_EXIT_OK;
}
