/* harness/catalog.c — `xbench list` from the registries (see harness/catalog.h). */
#include "harness/catalog.h"

#include <string.h>

#include "core/mixer.h"
#include "core/task.h"
#include "mixers/registry.h"
#include "tasks/registry.h"

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

void xb_catalog_mixers(FILE *f, int markdown)
{
    if (markdown) {
        fprintf(f, "| mixer | family | complexity | params (d=64) | modes | options | paper |\n"
               "|---|---|---|---:|---|---|---|\n");
        for (int i = 0; xb_mixers[i]; i++) {
            const xb_mixer *m = xb_mixers[i];
            mixer_row r = mixer_fields(m);
            fprintf(f, "| `%s` | %s | %s | %zu | %s | %s | %s%s |\n", m->name, m->family, m->complexity,
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
    fprintf(f, "%-*s  %-*s  %-*s  %9s  %-12s  %-*s  %s\n", wn, "mixer", wf, "family", wc, "complexity",
           "params", "modes", wo, "options", "paper");
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        mixer_row r = mixer_fields(m);
        fprintf(f, "%-*s  %-*s  %-*s  %9zu  %-12s  %-*s  %s%s\n", wn, m->name, wf, m->family, wc,
               m->complexity, r.params, r.modes, wo, r.options, m->unverified ? "* " : "", m->cite);
    }
    if (xb_n_mixers == 0) fprintf(f, "(no mixers registered)\n");
}

void xb_catalog_tasks(FILE *f, int markdown)
{
    if (markdown) {
        fprintf(f, "| task | shape | what | options (default) |\n|---|---|---|---|\n");
        for (int i = 0; xb_tasks[i]; i++) {
            const xb_task *t = xb_tasks[i];
            fprintf(f, "| `%s` | %s | %s; from %s |", t->name, shape_name(t->shape), t->desc, t->cite);
            for (int j = 0; j < t->n_opts; j++)
                fprintf(f, "%s`%s` %.10g", j ? ", " : " ", t->opts[j].name, t->opts[j].def);
            fprintf(f, " |\n");
        }
        return;
    }
    int wn = 4;
    for (int i = 0; xb_tasks[i]; i++) wn = width(wn, xb_tasks[i]->name);
    for (int i = 0; xb_tasks[i]; i++) {
        const xb_task *t = xb_tasks[i];
        fprintf(f, "%s%-*s  %-4s  %s\n", i ? "\n" : "", wn, t->name, shape_name(t->shape), t->desc);
        fprintf(f, "    from: %s\n", t->cite);
        for (int j = 0; j < t->n_opts; j++) {
            const xb_opt *o = &t->opts[j];
            char range[96];
            snprintf(range, sizeof range, "[%.10g .. %.10g]%s", o->min, o->max, o->is_int ? "" : " real");
            fprintf(f, "    %-20s %-12.10g %-28s %s\n", o->name, o->def, range, o->help);
        }
    }
    if (xb_n_tasks == 0) fprintf(f, "(no tasks registered)\n");
}

