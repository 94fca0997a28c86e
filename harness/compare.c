/* harness/compare.c — cells grouped by identity and the regression check between two results
 * folders (see harness/compare.h). Reads through xb_report_load, like `xbench report`. */
#include "harness/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xb.h"
#include "harness/report.h"
#include "harness/stats.h"
#include "harness/store.h"

/* ---- groups ------------------------------------------------------------------------- */

static int jbool(json_object *o, const char *key)
{
    json_object *v = xb_jget(o, key);
    return v ? json_object_get_boolean(v) : 0;
}

/* The record's configuration without what does not change the work measured: seeds (the
 * user seed and the derived batch-order stream), thread count (part of the key) and the
 * latency loop's settings. */
static json_object *shape_of(json_object *rec)
{
    json_object *cfg = xb_jget(rec, "config"), *c = NULL;
    if (!cfg || json_object_deep_copy(cfg, &c, NULL) != 0 || !c) return NULL;
    json_object_object_del(c, "seed");
    json_object_object_del(c, "threads");
    json_object_object_del(c, "latency");
    json_object *tr = xb_jget(c, "train");
    if (tr) json_object_object_del(tr, "seed");
    return c;
}

/* json_object_equal, with two absent configs equal */
static int same_shape(json_object *a, json_object *b)
{
    return (!a && !b) || (a && b && json_object_equal(a, b));
}

int xb_cgroup_same_shape(const xb_cgroup *a, const xb_cgroup *b)
{
    return !a->shape_mixed && !b->shape_mixed && same_shape(a->shape, b->shape);
}

void xb_cgroups_free(xb_cgroup *g, int n)
{
    for (int i = 0; g && i < n; i++) {
        free(g[i].rec);
        if (g[i].shape) json_object_put(g[i].shape);
    }
    free(g);
}

int xb_cgroups(json_object *records, xb_cgroup **out)
{
    int nr = (int)json_object_array_length(records), ng = 0;
    xb_cgroup *g = calloc((size_t)(nr > 0 ? nr : 1), sizeof *g);
    *out = NULL;
    if (!g) return XB_ENOMEM;
    for (int i = 0; i < nr; i++) {
        json_object *r = json_object_array_get_idx(records, (size_t)i);
        int kind = strcmp(xb_jstr(r, "kind", "train"), "latency") == 0 ? XB_KIND_LATENCY : XB_KIND_TRAIN;
        const char *task = kind == XB_KIND_TRAIN ? xb_jstr(r, "task", "") : "";
        const char *mixer = xb_jstr(r, "mixer", "?");
        int L = xb_jint(r, "L", 0), threads = xb_jint(r, "threads", 0), causal = jbool(r, "causal");
        char key[256];
        snprintf(key, sizeof key, "%s/%s/L:%d/%s/threads:%d", kind == XB_KIND_LATENCY ? "latency" : task,
                 mixer, L, causal ? "causal" : "bidir", threads);
        int k = 0;
        while (k < ng && strcmp(g[k].key, key) != 0) k++;
        json_object *shape = shape_of(r);
        if (k == ng) {
            xb_cgroup *c = &g[ng++];
            snprintf(c->key, sizeof c->key, "%s", key);
            c->kind = kind;
            c->task = task;
            c->mixer = mixer;
            c->L = L;
            c->threads = threads;
            c->causal = causal;
            c->rec = calloc((size_t)nr, sizeof *c->rec);
            c->shape = shape;
            if (!c->rec) goto oom;
        } else {
            if (!same_shape(g[k].shape, shape)) g[k].shape_mixed = 1;
            if (shape) json_object_put(shape);
        }
        g[k].rec[g[k].n++] = r;
        if (strcmp(xb_jstr(r, "status", "?"), "ok") == 0) g[k].ok++;
    }
    *out = g;
    return ng;
oom:
    xb_cgroups_free(g, ng);
    return XB_ENOMEM;
}

static int rec_ok(json_object *r)
{
    return strcmp(xb_jstr(r, "status", "?"), "ok") == 0;
}

int xb_cgroup_raw(const xb_cgroup *g, const char *metric, double **out)
{
    char path[96];
    snprintf(path, sizeof path, "latency.%s.raw", metric);
    size_t total = 0;
    for (int i = 0; i < g->n; i++) {
        json_object *a = rec_ok(g->rec[i]) ? xb_jpath(g->rec[i], path) : NULL;
        if (a && json_object_is_type(a, json_type_array)) total += json_object_array_length(a);
    }
    *out = NULL;
    if (total == 0) return 0;
    double *x = malloc(total * sizeof *x);
    if (!x) return 0;
    int m = 0;
    for (int i = 0; i < g->n; i++) {
        json_object *a = rec_ok(g->rec[i]) ? xb_jpath(g->rec[i], path) : NULL;
        if (!a || !json_object_is_type(a, json_type_array)) continue;
        for (size_t j = 0; j < json_object_array_length(a); j++) {
            json_object *v = json_object_array_get_idx(a, j);
            if (v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
                x[m++] = json_object_get_double(v);
        }
    }
    *out = x;
    return m;
}

int xb_cgroup_acc(const xb_cgroup *g, double **out)
{
    double *x = malloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *x);
    int m = 0;
    for (int i = 0; x && i < g->n; i++) {
        double a = rec_ok(g->rec[i]) ? xb_record_num(g->rec[i], "test_acc") : NAN;
        if (isfinite(a)) x[m++] = a;
    }
    *out = x;
    return m;
}

/* ---- loading one side ---------------------------------------------------------------- */

typedef struct side {
    const char *dir;
    json_object *meta, *recs;
    xb_cgroup *g;
    int ng;
} side;

static void side_free(side *s)
{
    xb_cgroups_free(s->g, s->ng);
    if (s->meta) json_object_put(s->meta);
    if (s->recs) json_object_put(s->recs);
}

static int load_side(side *s, const char *dir, FILE *err)
{
    memset(s, 0, sizeof *s);
    s->dir = dir;
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(err, "error: '%s' is not a results folder (it does not exist or is not a folder)\n", dir);
        return XB_ENOTFOUND;
    }
    int bad = 0;
    int rc = xb_report_load(dir, &s->meta, &s->recs, err, &bad);
    if (rc) return rc;     /* message already on err, naming <dir>/cells.jsonl */
    if (bad) {
        fprintf(err, "error: '%s/cells.jsonl': %d line%s not a JSON object (corrupt or cut short); "
                "refusing to compare\n", dir, bad, bad == 1 ? " is" : "s are");
        return XB_EFORMAT;
    }
    size_t n = json_object_array_length(s->recs);
    if (n == 0) {
        fprintf(err, "error: '%s/cells.jsonl' holds no cell records\n", dir);
        return XB_EFORMAT;
    }
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(s->recs, i);
        const char *kind = xb_jstr(r, "kind", NULL);
        json_object *L = xb_jget(r, "L");
        int good = kind && (strcmp(kind, "train") == 0 || strcmp(kind, "latency") == 0) &&
                   xb_jstr(r, "mixer", NULL) && L && json_object_is_type(L, json_type_int) &&
                   (strcmp(kind, "latency") == 0 || xb_jstr(r, "task", NULL));
        if (!good) {
            fprintf(err, "error: '%s/cells.jsonl': record %zu is not a cell record (needs kind, "
                    "mixer, L, and task for training cells)\n", dir, i + 1);
            return XB_EFORMAT;
        }
    }
    rc = xb_cgroups(s->recs, &s->g);
    if (rc < 0) {
        fprintf(err, "error: out of memory reading '%s'\n", dir);
        return rc;
    }
    s->ng = rc;
    return 0;
}

static const xb_cgroup *find_group(const side *s, const char *key)
{
    for (int i = 0; i < s->ng; i++)
        if (strcmp(s->g[i].key, key) == 0) return &s->g[i];
    return NULL;
}

/* ---- the report ---------------------------------------------------------------------- */

typedef struct finding {
    const char *key;
    char what[32];          /* "latency model_fwd", "accuracy", "status" */
    char base[64], new_[64];
    char change[32];
    char p[24];
    char note[96];
} finding;

typedef struct list { finding *v; int n, cap; } list;

static finding *push(list *l)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 16;
        finding *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        l->v = v;
        l->cap = cap;
    }
    finding *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    return f;
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!isfinite(s)) snprintf(buf, n, "—");
    else if (s < 1e-3) snprintf(buf, n, "%.2f µs", s * 1e6);
    else if (s < 1) snprintf(buf, n, "%.3f ms", s * 1e3);
    else snprintf(buf, n, "%.3f s", s);
}

static void fmt_p(double p, char *buf, size_t n)
{
    if (!isfinite(p)) snprintf(buf, n, "—");
    else if (p < 1e-4) snprintf(buf, n, "%.1e", p);
    else snprintf(buf, n, "%.4f", p);
}

static void note_add(finding *f, const char *s)
{
    size_t k = strlen(f->note);
    snprintf(f->note + k, sizeof f->note - k, "%s%s", k ? "; " : "", s);
}

static void print_list(FILE *out, const char *title, const list *l)
{
    fprintf(out, "## %s (%d)\n\n", title, l->n);
    if (l->n == 0) return;
    fprintf(out, "| cell | what | base | new | change | p | note |\n|---|---|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < l->n; i++) {
        const finding *f = &l->v[i];
        fprintf(out, "| %s | %s | %s | %s | %s | %s | %s |\n", f->key, f->what, f->base, f->new_,
                f->change, f->p, f->note);
    }
    fprintf(out, "\n");
}

static void seeds_note(const xb_cgroup *a, const xb_cgroup *b, finding *f)
{
    if (a->n != b->n) { note_add(f, "seed sets differ"); return; }
    for (int i = 0; i < a->n; i++) {
        json_object *sa = xb_jget(a->rec[i], "seed");
        int found = 0;
        for (int j = 0; j < b->n && !found; j++) {
            json_object *sb = xb_jget(b->rec[j], "seed");
            found = sa && sb && json_object_get_int64(sa) == json_object_get_int64(sb);
        }
        if (!found) { note_add(f, "seed sets differ"); return; }
    }
}

static const char *machine_of(json_object *meta)
{
    json_object *m = xb_jget(meta, "machine");
    return m ? xb_jstr(m, "cpu", "?") : "?";
}

int xb_compare_dirs(const char *base_dir, const char *new_dir, const xb_compare_opts *o, FILE *out,
                    FILE *err)
{
    side b, n;
    if (load_side(&b, base_dir, err)) {
        side_free(&b);
        return XB_COMPARE_BAD_INPUT;
    }
    if (load_side(&n, new_dir, err)) {
        side_free(&b);
        side_free(&n);
        return XB_COMPARE_BAD_INPUT;
    }
    list reg = {0}, imp = {0}, untested = {0};
    int unchanged_lat = 0, unchanged_acc = 0, matched = 0, changed_cfg = 0;

    fprintf(out, "# xbench compare\n\nbase `%s` (suite %s, %s) → new `%s` (suite %s, %s)\n\n",
            base_dir, xb_jstr(b.meta, "suite_name", "?"), machine_of(b.meta), new_dir,
            xb_jstr(n.meta, "suite_name", "?"), machine_of(n.meta));
    fprintf(out, "Cells matched by kind/task, mixer, L, mode and threads (seeds pooled). Latency: "
            "%s, median of the pooled repetitions, one-sided Mann–Whitney U test; a regression "
            "is slower by more than %.4g%% with p < %g, or an accuracy drop of more than %g, or "
            "a cell that no longer ends ok.\n\n", o->metric, 100 * o->max_slowdown, o->alpha,
            o->max_acc_drop);
    const char *hb = xb_jstr(xb_jget(b.meta, "machine"), "host", NULL);
    const char *hn = xb_jstr(xb_jget(n.meta, "machine"), "host", NULL);
    if (strcmp(machine_of(b.meta), machine_of(n.meta)) != 0 || (hb && hn && strcmp(hb, hn) != 0))
        fprintf(err, "warning: the two folders were measured on different machines (%s on %s, "
                "%s on %s): latency baselines are machine-specific\n", machine_of(b.meta),
                hb ? hb : "?", machine_of(n.meta), hn ? hn : "?");

    for (int i = 0; i < b.ng; i++) {
        const xb_cgroup *gb = &b.g[i], *gn = find_group(&n, gb->key);
        if (!gn) continue;
        matched++;
        int cfg_changed = !xb_cgroup_same_shape(gb, gn);
        changed_cfg += cfg_changed;

        /* status: a smaller fraction of ok records than before */
        if (gb->ok * gn->n > gn->ok * gb->n) {
            finding *f = push(&reg);
            if (!f) goto oom;
            f->key = gb->key;
            snprintf(f->what, sizeof f->what, "status");
            snprintf(f->base, sizeof f->base, "%d/%d ok", gb->ok, gb->n);
            snprintf(f->new_, sizeof f->new_, "%d/%d ok", gn->ok, gn->n);
            snprintf(f->change, sizeof f->change, "fewer ok");
            snprintf(f->p, sizeof f->p, "—");
            for (int r = 0; r < gn->n; r++)
                if (!rec_ok(gn->rec[r])) { note_add(f, xb_jstr(gn->rec[r], "status", "?")); break; }
        } else if (gn->ok * gb->n > gb->ok * gn->n) {
            finding *f = push(&imp);
            if (!f) goto oom;
            f->key = gb->key;
            snprintf(f->what, sizeof f->what, "status");
            snprintf(f->base, sizeof f->base, "%d/%d ok", gb->ok, gb->n);
            snprintf(f->new_, sizeof f->new_, "%d/%d ok", gn->ok, gn->n);
            snprintf(f->change, sizeof f->change, "more ok");
            snprintf(f->p, sizeof f->p, "—");
        }

        /* latency */
        double *xb = NULL, *xn = NULL;
        int nb = xb_cgroup_raw(gb, o->metric, &xb), nn = xb_cgroup_raw(gn, o->metric, &xn);
        if (nb > 0 && nn > 0) {
            double mb = xb_median(xb, nb), mn = xb_median(xn, nn), ratio = mn / mb;
            finding tmp;
            memset(&tmp, 0, sizeof tmp);
            tmp.key = gb->key;
            snprintf(tmp.what, sizeof tmp.what, "latency %s", o->metric);
            fmt_time(mb, tmp.base, sizeof tmp.base);
            fmt_time(mn, tmp.new_, sizeof tmp.new_);
            size_t k = strlen(tmp.base);
            snprintf(tmp.base + k, sizeof tmp.base - k, " (%d)", nb);
            k = strlen(tmp.new_);
            snprintf(tmp.new_ + k, sizeof tmp.new_ - k, " (%d)", nn);
            snprintf(tmp.change, sizeof tmp.change, "%+.1f%%", 100 * (ratio - 1));
            if (cfg_changed) note_add(&tmp, "config changed");
            if (nb < XB_COMPARE_MIN_REPS || nn < XB_COMPARE_MIN_REPS) {
                snprintf(tmp.p, sizeof tmp.p, "—");
                char msg[64];
                snprintf(msg, sizeof msg, "not tested: fewer than %d repetitions", XB_COMPARE_MIN_REPS);
                note_add(&tmp, msg);
                finding *f = push(&untested);
                if (!f) goto oom;
                *f = tmp;
            } else {
                double u, p2 = xb_mann_whitney(xn, nn, xb, nb, &u), mu = 0.5 * nn * (double)nb;
                double p_slower = u > mu ? 0.5 * p2 : 1 - 0.5 * p2;
                double p_faster = u < mu ? 0.5 * p2 : 1 - 0.5 * p2;
                if (ratio > 1 + o->max_slowdown && p_slower < o->alpha) {
                    fmt_p(p_slower, tmp.p, sizeof tmp.p);
                    finding *f = push(&reg);
                    if (!f) goto oom;
                    *f = tmp;
                } else if (ratio < 1 / (1 + o->max_slowdown) && p_faster < o->alpha) {
                    fmt_p(p_faster, tmp.p, sizeof tmp.p);
                    finding *f = push(&imp);
                    if (!f) goto oom;
                    *f = tmp;
                } else {
                    unchanged_lat++;
                }
            }
        }
        free(xb);
        free(xn);

        /* accuracy */
        if (gb->kind == XB_KIND_TRAIN) {
            double *ab = NULL, *an = NULL;
            int kb = xb_cgroup_acc(gb, &ab), kn = xb_cgroup_acc(gn, &an);
            if (kb > 0 && kn > 0) {
                double mb = xb_mean(ab, kb), mn = xb_mean(an, kn);
                double sdb = xb_stddev(ab, kb), sdn = xb_stddev(an, kn);
                finding tmp;
                memset(&tmp, 0, sizeof tmp);
                tmp.key = gb->key;
                snprintf(tmp.what, sizeof tmp.what, "accuracy");
                snprintf(tmp.base, sizeof tmp.base, "%.4f ± %.4f (%d)", mb, sdb, kb);
                snprintf(tmp.new_, sizeof tmp.new_, "%.4f ± %.4f (%d)", mn, sdn, kn);
                snprintf(tmp.change, sizeof tmp.change, "%+.4f", mn - mb);
                snprintf(tmp.p, sizeof tmp.p, "—");
                if (cfg_changed) note_add(&tmp, "config changed");
                seeds_note(gb, gn, &tmp);
                list *l = mb - mn > o->max_acc_drop ? &reg : mn - mb > o->max_acc_drop ? &imp : NULL;
                if (l) {
                    finding *f = push(l);
                    if (!f) { free(ab); free(an); goto oom; }
                    *f = tmp;
                } else {
                    unchanged_acc++;
                }
            }
            free(ab);
            free(an);
        }
    }

    print_list(out, "Regressions", &reg);
    print_list(out, "Improvements", &imp);
    fprintf(out, "## Unchanged\n\n%d latency and %d accuracy comparisons within the thresholds or "
            "not significant, over %d matched cells", unchanged_lat, unchanged_acc, matched);
    if (changed_cfg) fprintf(out, " (%d with a changed configuration)", changed_cfg);
    fprintf(out, ".\n\n");
    if (untested.n) {
        print_list(out, "Not tested", &untested);
        fprintf(err, "warning: %d latency comparison%s not tested: fewer than %d repetitions on a "
                "side (raise latency.min_reps); never counted as a regression\n", untested.n,
                untested.n == 1 ? "" : "s", XB_COMPARE_MIN_REPS);
    }
    for (int pass = 0; pass < 2; pass++) {
        const side *a = pass ? &n : &b, *other = pass ? &b : &n;
        int k = 0;
        for (int i = 0; i < a->ng; i++) k += !find_group(other, a->g[i].key);
        fprintf(out, "## Only in %s (%d)\n\n", pass ? "new" : "base", k);
        for (int i = 0; i < a->ng; i++)
            if (!find_group(other, a->g[i].key)) fprintf(out, "- %s\n", a->g[i].key);
        if (k) fprintf(out, "\n");
    }
    if (matched == 0) fprintf(err, "warning: no cell of '%s' matches a cell of '%s'\n", base_dir, new_dir);
    fprintf(out, "**%s**: %d regression%s, %d improvement%s.\n", reg.n ? "FAIL" : "OK", reg.n,
            reg.n == 1 ? "" : "s", imp.n, imp.n == 1 ? "" : "s");
    int rc = reg.n ? XB_COMPARE_REGRESSION : XB_COMPARE_OK;
    free(reg.v);
    free(imp.v);
    free(untested.v);
    side_free(&b);
    side_free(&n);
    return rc;
oom:
    fprintf(err, "error: out of memory\n");
    free(reg.v);
    free(imp.v);
    free(untested.v);
    side_free(&b);
    side_free(&n);
    return XB_COMPARE_BAD_INPUT;
}
