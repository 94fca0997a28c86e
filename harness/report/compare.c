/* harness/report/compare.c — the regression check between two results folders (see
 * harness/report/compare.h). Reads them into the results model (harness/report/results.h), as
 * `xbench report` does, and matches their groups. */
#include "harness/report/compare.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xb.h"
#include "harness/report/results.h"
#include "harness/report/stats.h"
#include "harness/report/store.h"

/* ---- loading one side ---------------------------------------------------------------- */

typedef struct side {
    const char *dir;
    json_object *meta, *recs;   /* as loaded */
    xb_results res;             /* the model, labelled together with the other sides */
} side;

static void side_free(side *s)
{
    xb_results_release(&s->res);
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
        int good = kind && (strcmp(kind, "train") == 0 || strcmp(kind, "latency") == 0 ||
                            strcmp(kind, "decode") == 0) &&
                   xb_jstr(r, "mixer", NULL) && L && json_object_is_type(L, json_type_int) &&
                   (strcmp(kind, "train") != 0 || xb_jstr(r, "task", NULL));
        if (!good) {
            fprintf(err, "error: '%s/cells.jsonl': record %zu is not a cell record (needs kind, "
                    "mixer, L, and task for training cells)\n", dir, i + 1);
            return XB_EFORMAT;
        }
    }
    return 0;
}

static const xb_group *find_group(const side *s, const char *key)
{
    return xb_group_find(&s->res, key);
}


/* ---- the report ---------------------------------------------------------------------- */

typedef struct verdict {
    const char *key;
    char what[32];          /* "latency model_fwd", "accuracy", "status" */
    char base[64], new_[64];
    char change[32], p[24], allowed[24];
    char verdict[24];       /* regression, improvement, unchanged, noisy, within spread, ... */
    char note[160];
    int fail;               /* counts toward exit 1 */
} verdict;

typedef struct vlist { verdict *v; int n, cap; } vlist;

static verdict *push(vlist *l, const char *key, const char *what)
{
    if (l->n == l->cap) {
        int cap = l->cap ? 2 * l->cap : 32;
        verdict *v = realloc(l->v, (size_t)cap * sizeof *v);
        if (!v) return NULL;
        l->v = v;
        l->cap = cap;
    }
    verdict *f = &l->v[l->n++];
    memset(f, 0, sizeof *f);
    f->key = key;
    snprintf(f->what, sizeof f->what, "%s", what);
    snprintf(f->p, sizeof f->p, "—");
    snprintf(f->allowed, sizeof f->allowed, "—");
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

static void note_add(verdict *f, const char *s)
{
    size_t k = strlen(f->note);
    snprintf(f->note + k, sizeof f->note - k, "%s%s", k ? "; " : "", s);
}

static void seeds_note(const xb_group *a, const xb_group *b, verdict *f)
{
    if (a->n != b->n) { note_add(f, "seed sets differ"); return; }
    for (int i = 0; i < a->n; i++) {
        json_object *sa = xb_jget(a->rec[i]->o, "seed");
        int found = 0;
        for (int j = 0; j < b->n && !found; j++) {
            json_object *sb = xb_jget(b->rec[j]->o, "seed");
            found = sa && sb && json_object_get_int64(sa) == json_object_get_int64(sb);
        }
        if (!found) { note_add(f, "seed sets differ"); return; }
    }
}

static const char *machine_str(json_object *meta, const char *key)
{
    return xb_jstr(xb_jget(meta, "machine"), key, NULL);
}

/* Whether latency of the two folders can be compared: measured on one machine, in one boot
 * (a host name is no proof: every VM here is "vm"). why gets the reason either way. */
static int same_machine(json_object *mb, json_object *mn, char *why, size_t n)
{
    const char *bb = machine_str(mb, "boot_id"), *bn = machine_str(mn, "boot_id");
    const char *cb = machine_str(mb, "cpu"), *cn = machine_str(mn, "cpu");
    if (!bb || !bn) {
        snprintf(why, n, "%s does not record which machine and boot it was measured on "
                 "(machine.boot_id in meta.json)", !bb ? "BASE" : "NEW");
        return 0;
    }
    if (strcmp(bb, bn) != 0) {
        snprintf(why, n, "BASE was measured on another machine or boot (%s, boot %.8s) than NEW "
                 "(%s, boot %.8s)", cb ? cb : "?", bb, cn ? cn : "?", bn);
        return 0;
    }
    snprintf(why, n, "both measured on %s in boot %.8s", cn ? cn : "?", bn);
    return 1;
}

static double median_of(const xb_group *g, const char *metric, int *reps)
{
    double *x = NULL;
    int n = xb_group_raw(g, metric, &x);
    double m = n > 0 ? xb_median(x, n) : NAN;
    free(x);
    if (reps) *reps = n;
    return m;
}

/* Run-to-run change |ln(repeat / base)| of each BASE group's median (NAN where unknown), and
 * the largest over the groups that have one (NAN when none): the spread that two runs of the
 * same build on this machine showed. (Its 90th percentile let one cell's ordinary burst of
 * another tenant's load through as a "regression" in a check run made minutes later.) */
static double spreads(const xb_group *gb, int nb, const xb_results *rep, const char *metric,
                      double *cell)
{
    double worst = NAN;
    for (int i = 0; i < nb; i++) {
        cell[i] = NAN;
        const xb_group *r = rep ? xb_group_find(rep, gb[i].key) : NULL;
        if (!r) continue;
        double a = median_of(&gb[i], metric, NULL), b = median_of(r, metric, NULL);
        if (isfinite(a) && isfinite(b) && a > 0 && b > 0) {
            cell[i] = fabs(log(b / a));
            if (!isfinite(worst) || cell[i] > worst) worst = cell[i];
        }
    }
    return worst;
}

/* Statuses of the group's records that are not ok, "crashed:SIGSEGV, timeout". */
static void not_ok_statuses(const xb_group *g, char *buf, size_t n)
{
    buf[0] = 0;
    for (int r = 0; r < g->n; r++) {
        const char *st = g->rec[r]->status;
        if (strcmp(st, "ok") == 0 || strstr(buf, st)) continue;
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, "%s%s", k ? ", " : "", st);
    }
}

/* Every not-ok record of gn is a skipped:* status that gb (may be NULL) has too. */
static int skips_as_before(const xb_group *gn, const xb_group *gb)
{
    for (int r = 0; r < gn->n; r++) {
        const char *st = gn->rec[r]->status;
        if (strcmp(st, "ok") == 0) continue;
        if (strncmp(st, "skipped:", 8) != 0 || !gb) return 0;
        int found = 0;
        for (int q = 0; q < gb->n && !found; q++) found = strcmp(gb->rec[q]->status, st) == 0;
        if (!found) return 0;
    }
    return 1;
}

static int latency_verdict(const xb_group *gb, const xb_group *gn, const xb_compare_opts *o,
                           double cell_spread, double run_spread, vlist *l)
{
    double *xb = NULL, *xn = NULL;
    int nb = xb_group_raw(gb, o->metric, &xb), nn = xb_group_raw(gn, o->metric, &xn);
    if (nb == 0 || nn == 0) {
        free(xb);
        free(xn);
        return 0;
    }
    char what[32];
    snprintf(what, sizeof what, "latency %s", o->metric);
    verdict *f = push(l, gb->key, what);
    if (!f) { free(xb); free(xn); return XB_ENOMEM; }
    double mb = xb_median(xb, nb), mn = xb_median(xn, nn), ratio = mn / mb;
    fmt_time(mb, f->base, sizeof f->base);
    fmt_time(mn, f->new_, sizeof f->new_);
    size_t k = strlen(f->base);
    snprintf(f->base + k, sizeof f->base - k, " (%d)", nb);
    k = strlen(f->new_);
    snprintf(f->new_ + k, sizeof f->new_ - k, " (%d)", nn);
    snprintf(f->change, sizeof f->change, "%+.1f%%", 100 * (ratio - 1));
    /* the allowed slowdown, as a log ratio */
    double allowed = log1p(o->max_slowdown);
    if (isfinite(cell_spread) && 2 * cell_spread > allowed) allowed = 2 * cell_spread;
    if (isfinite(run_spread) && run_spread > allowed) allowed = run_spread;
    snprintf(f->allowed, sizeof f->allowed, "%+.1f%%", 100 * expm1(allowed));
    int nzb = xb_group_noisy(gb, o->metric), nzn = xb_group_noisy(gn, o->metric);
    if (nb < XB_COMPARE_MIN_REPS || nn < XB_COMPARE_MIN_REPS) {
        snprintf(f->verdict, sizeof f->verdict, "not tested");
        char msg[64];
        snprintf(msg, sizeof msg, "fewer than %d repetitions", XB_COMPARE_MIN_REPS);
        note_add(f, msg);
    } else {
        double u, p2 = xb_mann_whitney(xn, nn, xb, nb, &u), mu = 0.5 * nn * (double)nb;
        double p_slower = u > mu ? 0.5 * p2 : 1 - 0.5 * p2;
        double p_faster = u < mu ? 0.5 * p2 : 1 - 0.5 * p2;
        int slower = ratio > 1 + o->max_slowdown && p_slower < o->alpha;
        int faster = ratio < 1 / (1 + o->max_slowdown) && p_faster < o->alpha;
        fmt_p(slower || ratio >= 1 ? p_slower : p_faster, f->p, sizeof f->p);
        if ((slower || faster) && (nzb || nzn)) {
            snprintf(f->verdict, sizeof f->verdict, "noisy");
            note_add(f, nzb && nzn ? "both sides flagged noisy" : nzb ? "BASE flagged noisy" : "NEW flagged noisy");
        } else if (slower && log(ratio) <= allowed) {
            snprintf(f->verdict, sizeof f->verdict, "within spread");
            note_add(f, "inside the run-to-run spread of the baseline");
        } else if (slower) {
            snprintf(f->verdict, sizeof f->verdict, "regression");
            f->fail = 1;
        } else if (faster && -log(ratio) > allowed) {
            snprintf(f->verdict, sizeof f->verdict, "improvement");
        } else {
            snprintf(f->verdict, sizeof f->verdict, "unchanged");
        }
    }
    free(xb);
    free(xn);
    return 0;
}

static int accuracy_verdict(const xb_group *gb, const xb_group *gn, const xb_compare_opts *o, vlist *l)
{
    double *ab = NULL, *an = NULL;
    int kb = xb_group_acc(gb, &ab), kn = xb_group_acc(gn, &an), rc = 0;
    if (kb > 0 && kn > 0) {
        verdict *f = push(l, gb->key, "accuracy");
        if (!f) {
            rc = XB_ENOMEM;
        } else {
            double mb = xb_mean(ab, kb), mn = xb_mean(an, kn);
            snprintf(f->base, sizeof f->base, "%.4f ± %.4f (%d)", mb, xb_stddev(ab, kb), kb);
            snprintf(f->new_, sizeof f->new_, "%.4f ± %.4f (%d)", mn, xb_stddev(an, kn), kn);
            snprintf(f->change, sizeof f->change, "%+.4f", mn - mb);
            snprintf(f->allowed, sizeof f->allowed, "-%.4g", o->max_acc_drop);
            seeds_note(gb, gn, f);
            if (mb - mn > o->max_acc_drop) {
                snprintf(f->verdict, sizeof f->verdict, "regression");
                f->fail = 1;
            } else {
                snprintf(f->verdict, sizeof f->verdict, mn - mb > o->max_acc_drop ? "improvement" : "unchanged");
            }
        }
    }
    free(ab);
    free(an);
    return rc;
}

static void print_table(FILE *out, const vlist *l)
{
    fprintf(out, "## Verdicts (%d)\n\n", l->n);
    if (l->n == 0) return;
    fprintf(out, "| cell | what | base | new | change | allowed | p | verdict | note |\n"
                 "|---|---|---:|---:|---:|---:|---:|---|---|\n");
    for (int i = 0; i < l->n; i++) {
        const verdict *f = &l->v[i];
        fprintf(out, "| %s | %s | %s | %s | %s | %s | %s | %s%s%s | %s |\n", f->key, f->what, f->base,
                f->new_, f->change, f->allowed, f->p, f->fail ? "**" : "", f->verdict,
                f->fail ? "**" : "", f->note);
    }
    fprintf(out, "\n");
}

/* Verdicts v among the rows whose `what` starts with what (NULL: any). */
static int count_verdict(const vlist *l, const char *v, const char *what)
{
    int k = 0;
    for (int i = 0; i < l->n; i++)
        k += strcmp(l->v[i].verdict, v) == 0 && (!what || strncmp(l->v[i].what, what, strlen(what)) == 0);
    return k;
}

int xb_compare_dirs(const char *base_dir, const char *new_dir, const xb_compare_opts *o, FILE *out,
                    FILE *err)
{
    side b, n, r;
    memset(&b, 0, sizeof b);
    memset(&n, 0, sizeof n);
    memset(&r, 0, sizeof r);
    int rc = XB_COMPARE_BAD_INPUT;
    vlist l = {0};
    double *cell_spread = NULL;
    int bad = load_side(&b, base_dir, err);
    bad = bad || load_side(&n, new_dir, err);
    bad = bad || (o->repeat && load_side(&r, o->repeat, err));
    if (bad) goto out;
    /* one labelling over all three folders: equal keys mean equal configurations */
    json_object *metas[3] = {b.meta, n.meta, o->repeat ? r.meta : NULL};
    json_object *recs[3] = {b.recs, n.recs, o->repeat ? r.recs : NULL};
    xb_results res[3];
    if (xb_results_init_many(res, 3, metas, recs)) goto oom;
    b.res = res[0];
    n.res = res[1];
    r.res = res[2];
    const xb_group *bg = b.res.group, *ng = n.res.group;
    int nbg = b.res.ngroup, nng = n.res.ngroup;

    char why[256];
    int lat = o->latency == XB_LATENCY_ALWAYS ||
              (o->latency == XB_LATENCY_SAME_MACHINE && same_machine(b.meta, n.meta, why, sizeof why));
    if (o->latency == XB_LATENCY_ALWAYS) snprintf(why, sizeof why, "compared on request (--latency always)");
    if (o->latency == XB_LATENCY_NEVER) snprintf(why, sizeof why, "not compared on request (--latency never)");
    char why_r[256];
    if (lat && o->latency != XB_LATENCY_ALWAYS && o->repeat && !same_machine(b.meta, r.meta, why_r, sizeof why_r))
        fprintf(err, "warning: the repeat folder '%s' was not measured on BASE's machine: its spread "
                "may not describe BASE\n", o->repeat);

    fprintf(out, "# xbench compare\n\nbase `%s` (suite %s, xbench %s, commit %s) → new `%s` "
            "(suite %s, xbench %s, commit %s)\n\n", base_dir, xb_jstr(b.meta, "suite_name", "?"),
            xb_jstr(b.meta, "xbench_version", "?"), xb_jstr(b.meta, "git_commit", "?"), new_dir,
            xb_jstr(n.meta, "suite_name", "?"), xb_jstr(n.meta, "xbench_version", "?"),
            xb_jstr(n.meta, "git_commit", "?"));
    fprintf(out, "Cells match when their configurations match (seeds pooled; labels name what "
            "differs). A cell fails when NEW lost it or it did not end ok there; accuracy "
            "regresses when the mean over seeds drops by more than %g.\n\n", o->max_acc_drop);
    if (lat) {
        cell_spread = malloc((size_t)(nbg > 0 ? nbg : 1) * sizeof *cell_spread);
        if (!cell_spread) goto oom;
        double run_spread = spreads(bg, nbg, o->repeat ? &r.res : NULL, o->metric, cell_spread);
        fprintf(out, "Latency (%s; %s): median of the pooled repetitions, one-sided Mann–Whitney U "
                "test; a regression is slower by more than the allowed slowdown with p < %g. "
                "Allowed: %.4g%%", o->metric, why, o->alpha, 100 * o->max_slowdown);
        if (o->repeat && isfinite(run_spread))
            fprintf(out, ", or twice the cell's run-to-run change, or the largest run-to-run "
                    "change of any cell (%.1f%%), measured by repeating the baseline (`%s`), "
                    "whichever is largest", 100 * expm1(run_spread), o->repeat);
        else
            fprintf(out, " (no repeat of the baseline given: the run-to-run spread is not known)");
        fprintf(out, ". A difference where either side is flagged noisy is never a regression.\n\n");
        for (int i = 0; i < nbg; i++) {
            const xb_group *gn = find_group(&n, bg[i].key);
            if (gn && latency_verdict(&bg[i], gn, o, cell_spread[i],
                                      o->repeat ? run_spread : NAN, &l)) goto oom;
        }
    } else {
        fprintf(out, "Latency not compared: %s. Latency baselines are machine-specific: make one "
                "on this machine (`make baseline`) to compare it, or pass --latency always.\n\n", why);
    }

    int matched = 0, failed = 0, lost = 0;
    for (int i = 0; i < nbg; i++) {
        const xb_group *gb = &bg[i], *gn = find_group(&n, gb->key);
        if (!gn) continue;
        matched++;
        if (gb->kind == XB_KIND_TRAIN && accuracy_verdict(gb, gn, o, &l)) goto oom;
    }
    /* status: every cell of NEW that did not end ok */
    for (int i = 0; i < nng; i++) {
        const xb_group *gn = &ng[i], *gb = find_group(&b, gn->key);
        if (gn->ok == gn->n) continue;
        verdict *f = push(&l, gn->key, "status");
        if (!f) goto oom;
        if (gb) snprintf(f->base, sizeof f->base, "%d/%d ok", gb->ok, gb->n);
        else snprintf(f->base, sizeof f->base, "(not in base)");
        snprintf(f->new_, sizeof f->new_, "%d/%d ok", gn->ok, gn->n);
        not_ok_statuses(gn, f->note, sizeof f->note);
        if (skips_as_before(gn, gb)) {
            snprintf(f->verdict, sizeof f->verdict, "skipped");
        } else {
            snprintf(f->verdict, sizeof f->verdict, "failed");
            f->fail = 1;
            failed++;
        }
    }
    print_table(out, &l);

    fprintf(out, "## Lost: in base, not in new\n\n");
    for (int i = 0; i < nbg; i++)
        if (!find_group(&n, bg[i].key)) {
            fprintf(out, "- %s\n", bg[i].key);
            lost++;
        }
    fprintf(out, "%s## Only in new\n\n", lost ? "\n" : "(none)\n\n");
    int only_new = 0;
    for (int i = 0; i < nng; i++)
        if (!find_group(&b, ng[i].key)) {
            fprintf(out, "- %s\n", ng[i].key);
            only_new++;
        }
    fprintf(out, "%s", only_new ? "\n" : "(none)\n\n");

    int regressions = count_verdict(&l, "regression", NULL);
    int improvements = count_verdict(&l, "improvement", NULL);
    int fail = regressions + failed + lost + (matched == 0);
    fprintf(out, "**%s**: %d matched cell%s; %d regression%s, %d failed cell%s, %d lost cell%s, "
            "%d improvement%s; latency: %d unchanged, %d within spread, %d noisy, %d not tested.\n",
            fail ? "FAIL" : "OK", matched, matched == 1 ? "" : "s", regressions,
            regressions == 1 ? "" : "s", failed, failed == 1 ? "" : "s", lost, lost == 1 ? "" : "s",
            improvements, improvements == 1 ? "" : "s", count_verdict(&l, "unchanged", "latency"),
            count_verdict(&l, "within spread", NULL), count_verdict(&l, "noisy", NULL),
            count_verdict(&l, "not tested", NULL));
    if (matched == 0)
        fprintf(out, "FAIL: no cell of '%s' matches a cell of '%s' (different suites, or every "
                "configuration changed)\n", base_dir, new_dir);
    int untested = count_verdict(&l, "not tested", NULL);
    if (untested)
        fprintf(err, "warning: %d latency comparison%s not tested: fewer than %d repetitions on a "
                "side (raise latency.min_reps); never counted as a regression\n", untested,
                untested == 1 ? "" : "s", XB_COMPARE_MIN_REPS);
    rc = fail ? XB_COMPARE_REGRESSION : XB_COMPARE_OK;
    goto out;
oom:
    fprintf(err, "error: out of memory\n");
    rc = XB_COMPARE_BAD_INPUT;
out:
    free(l.v);
    free(cell_spread);
    side_free(&b);
    side_free(&n);
    side_free(&r);
    return rc;
}
