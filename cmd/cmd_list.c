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

static const char *shape_name(xb_shape s)
{
    return s == XB_SHAPE_CLS ? "CLS" : s == XB_SHAPE_PAIR ? "PAIR" : "TOK";
}

/* One mixer's listing fields, at d=64, h=4, n_max=1024. */
typedef struct mixer_row { char modes[32]; size_t params; char options[256]; } mixer_row;

static mixer_row mixer_fields(const xb_mixer *m)
{
    mixer_row r;
    xb_mixer_cfg c;
    memset(&c, 0, sizeof c);
    c.d = 64;
    c.heads = 4;
    c.n_max = 1024;
    c.causal = (m->modes & XB_CAUSAL) != 0;
    c = xb_mixer_resolve(m, &c);
    snprintf(r.modes, sizeof r.modes, "%s%s%s", m->modes & XB_CAUSAL ? "causal" : "",
             (m->modes & XB_CAUSAL) && (m->modes & XB_BIDIR) ? "," : "",
             m->modes & XB_BIDIR ? "bidir" : "");
    r.params = xb_mixer_n_trainable(m, &c);
    size_t u = 0;
    for (int k = 0; k < m->n_opts && u < sizeof r.options; k++) {
        int w = snprintf(r.options + u, sizeof r.options - u, "%s%s", k ? "," : "", m->opts[k].name);
        if (w > 0) u += (size_t)w;
    }
    if (!m->n_opts) snprintf(r.options, sizeof r.options, "-");
    return r;
}

static int width(int w, const char *s) { int n = (int)strlen(s); return n > w ? n : w; }

static void list_mixers(int markdown)
{
    if (markdown) {
        printf("| mixer | family | complexity | params (d=64) | modes | options | paper |\n"
               "|---|---|---|---:|---|---|---|\n");
        for (int i = 0; xb_mixers[i]; i++) {
            const xb_mixer *m = xb_mixers[i];
            mixer_row r = mixer_fields(m);
            printf("| `%s` | %s | %s | %zu | %s | %s | %s%s |\n", m->name, m->family, m->complexity,
                   r.params, r.modes, r.options, m->unverified ? "(unverified) " : "", m->cite);
        }
        return;
    }
    int wn = 5, wf = 6, wc = 10, wo = 7;
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        wn = width(wn, m->name); wf = width(wf, m->family); wc = width(wc, m->complexity);
        wo = width(wo, mixer_fields(m).options);
    }
    printf("%-*s  %-*s  %-*s  %9s  %-12s  %-*s  %s\n", wn, "mixer", wf, "family", wc, "complexity",
           "params", "modes", wo, "options", "paper");
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        mixer_row r = mixer_fields(m);
        printf("%-*s  %-*s  %-*s  %9zu  %-12s  %-*s  %s%s\n", wn, m->name, wf, m->family, wc,
               m->complexity, r.params, r.modes, wo, r.options, m->unverified ? "* " : "", m->cite);
    }
    if (xb_n_mixers == 0) printf("(no mixers registered)\n");
}

static void list_tasks(int markdown)
{
    if (markdown) {
        printf("| task | shape | what | options (default) |\n|---|---|---|---|\n");
        for (int i = 0; xb_tasks[i]; i++) {
            const xb_task *t = xb_tasks[i];
            printf("| `%s` | %s | %s; from %s |", t->name, shape_name(t->shape), t->desc, t->cite);
            for (int j = 0; j < t->n_opts; j++)
                printf("%s`%s` %.10g", j ? ", " : " ", t->opts[j].name, t->opts[j].def);
            printf(" |\n");
        }
        return;
    }
    int wn = 4;
    for (int i = 0; xb_tasks[i]; i++) wn = width(wn, xb_tasks[i]->name);
    for (int i = 0; xb_tasks[i]; i++) {
        const xb_task *t = xb_tasks[i];
        printf("%s%-*s  %-4s  %s\n", i ? "\n" : "", wn, t->name, shape_name(t->shape), t->desc);
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
        list_mixers(markdown);
        printf("\ntasks:\n");
        list_tasks(markdown);
    } else if (!strcmp(what, "mixers")) {
        list_mixers(markdown);
    } else if (!strcmp(what, "tasks")) {
        list_tasks(markdown);
    } else if (!strcmp(what, "keys")) {
        xb_suite_keys_markdown(stdout);
    } else {
        return xb_cli_usage_error(&cli, "unknown list '%s' (mixers, tasks or keys)", what);
    }
    return XB_EXIT_OK;
}
