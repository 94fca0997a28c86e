/* harness/report/results.c — the results model: loading, labelled views, groups, aggregates
 * (see harness/report/results.h). */
#include "harness/report/results.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/report/learned.h"
#include "harness/report/stats.h"

/* ---- loading ----------------------------------------------------------------------------- */

int xb_report_load_ex(const char *dir, json_object **meta_out, json_object **recs_out, FILE *err,
                      int *bad_lines, int flags)
{
    char *mp = xb_path_join(dir, "meta.json");
    json_object *meta = mp ? xb_read_json(mp) : NULL;
    free(mp);
    json_object *all = NULL;
    int rc = xb_store_load_ex(dir, &all, err, bad_lines);
    if (rc) {
        if (err && rc == XB_ENOTFOUND) fprintf(err, "error: '%s/cells.jsonl' does not exist\n", dir);
        else if (err) fprintf(err, "error: cannot read '%s/cells.jsonl': %s\n", dir, xb_strerror(rc));
        json_object_put(all);
        if (meta) json_object_put(meta);
        *meta_out = *recs_out = NULL;
        return rc;
    }
    /* Records of another suite version never mix into the tables. */
    const char *hash = meta ? xb_jstr(meta, "suite_hash", NULL) : NULL;
    json_object *mine = json_object_new_array();
    int foreign = 0;
    for (size_t i = 0; i < json_object_array_length(all); i++) {
        json_object *r = json_object_array_get_idx(all, i);
        const char *h = xb_jstr(r, "suite_hash", NULL);
        if (hash && h && strcmp(h, hash) != 0) { foreign++; continue; }
        json_object_array_add(mine, json_object_get(r));
    }
    if (foreign && err && !(flags & XB_LOAD_QUIET_FOREIGN))
        fprintf(err, "warning: %d records of another suite version in '%s/cells.jsonl' left "
                "out\n", foreign, dir);
    *recs_out = xb_store_latest(mine);
    *meta_out = meta;
    json_object_put(mine);
    json_object_put(all);
    return 0;
}

int xb_report_load(const char *dir, json_object **meta, json_object **recs, FILE *err,
                   int *bad_lines)
{
    return xb_report_load_ex(dir, meta, recs, err, bad_lines, 0);
}

/* ---- building ---------------------------------------------------------------------------- */

void xb_results_release(xb_results *r)
{
    if (r->meta) json_object_put(r->meta);
    if (r->records) json_object_put(r->records);
    free(r->rec);
    free(r->group);
    free(r->label);
    free(r->slot);
    memset(r, 0, sizeof *r);
}

static size_t n_records(json_object *records)
{
    return records ? json_object_array_length(records) : 0;
}

/* The views of r->records with a copy of their labels lab[0..n), and the groups. */
static int build(xb_results *r, const xb_label *lab)
{
    int n = (int)n_records(r->records);
    size_t nn = (size_t)(n > 0 ? n : 1);
    r->n = n;
    r->rec = calloc(nn, sizeof *r->rec);
    r->group = calloc(nn, sizeof *r->group);
    r->slot = calloc(nn, sizeof *r->slot);
    r->label = malloc(nn * sizeof *r->label);
    if (!r->rec || !r->group || !r->slot || !r->label) return XB_ENOMEM;
    if (n > 0) memcpy(r->label, lab, (size_t)n * sizeof *lab);
    lab = r->label;
    for (int i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(r->records, (size_t)i);
        xb_rec *v = &r->rec[i];
        v->o = o;
        v->kind = xb_record_kind(o);
        v->task_name = xb_jstr(o, "task", "");
        v->mixer_name = xb_jstr(o, "mixer", "?");
        v->task = v->kind == XB_KIND_TRAIN ? lab[i].task : "";
        v->mixer = lab[i].mixer;
        v->not_learned = xb_cell_not_learned(o, NULL);   /* once per record: a curve fit */
        v->status = xb_jstr(o, "status", "?");
        v->ok = strcmp(v->status, "ok") == 0;
        v->L = xb_jint(o, "L", 0);
        v->threads = xb_jint(o, "threads", 0);
        json_object *c = xb_jget(o, "causal");
        v->causal = c ? json_object_get_boolean(c) : 0;
        json_object *s = xb_jget(o, "seed");
        v->seed = s ? json_object_get_int64(s) : 0;
    }
    /* groups, in order of first appearance; then each group's records in file order */
    int ng = 0;
    for (int i = 0; i < n; i++) {
        xb_rec *v = &r->rec[i];
        char key[sizeof r->group->key];
        snprintf(key, sizeof key, "%s/%s/L:%d/%s/threads:%d",
                 v->kind != XB_KIND_TRAIN ? xb_kind_word(v->kind) : v->task, v->mixer, v->L,
                 v->causal ? "causal" : "bidir", v->threads);
        int k = 0;
        while (k < ng && strcmp(r->group[k].key, key) != 0) k++;
        if (k == ng) {
            xb_group *g = &r->group[ng++];
            snprintf(g->key, sizeof g->key, "%s", key);
            g->kind = v->kind;
            g->task = v->task;
            g->mixer = v->mixer;
            g->L = v->L;
            g->threads = v->threads;
            g->causal = v->causal;
        }
        v->group = k;
        r->group[k].n++;
        r->group[k].ok += v->ok;
    }
    r->ngroup = ng;
    int at = 0;
    for (int k = 0; k < ng; k++) {
        r->group[k].rec = r->slot + at;
        at += r->group[k].n;
        r->group[k].n = 0;
    }
    for (int i = 0; i < n; i++) {
        xb_group *g = &r->group[r->rec[i].group];
        g->rec[g->n++] = &r->rec[i];
    }
    return 0;
}

int xb_results_init_many(xb_results *r, int k, json_object *const *meta, json_object *const *records)
{
    size_t total = 0;
    for (int s = 0; s < k; s++) {
        memset(&r[s], 0, sizeof r[s]);
        total += n_records(records[s]);
    }
    /* one array of every record, so the labels are computed over all of them */
    json_object *all = json_object_new_array();
    xb_label *lab = calloc(total ? total : 1, sizeof *lab);
    int rc = all && lab ? 0 : XB_ENOMEM;
    for (int s = 0; rc == 0 && s < k; s++)
        for (size_t i = 0; i < n_records(records[s]); i++)
            json_object_array_add(all, json_object_get(json_object_array_get_idx(records[s], i)));
    if (rc == 0 && xb_label_records(all, lab) != 0) rc = XB_ENOMEM;
    size_t at = 0;
    for (int s = 0; rc == 0 && s < k; s++) {
        r[s].meta = meta[s] ? json_object_get(meta[s]) : NULL;
        r[s].records = records[s] ? json_object_get(records[s]) : json_object_new_array();
        if (!r[s].records || build(&r[s], lab + at) != 0) rc = XB_ENOMEM;
        at += n_records(records[s]);
    }
    if (rc) {
        for (int s = 0; s < k; s++) xb_results_release(&r[s]);
    }
    free(lab);
    if (all) json_object_put(all);
    return rc;
}

int xb_results_init(xb_results *r, json_object *meta, json_object *records)
{
    return xb_results_init_many(r, 1, &meta, &records);
}

int xb_results_load(xb_results *r, const char *dir, FILE *err, int *bad_lines, int flags)
{
    json_object *meta = NULL, *recs = NULL;
    memset(r, 0, sizeof *r);
    int rc = xb_report_load_ex(dir, &meta, &recs, err, bad_lines, flags);
    if (rc == 0) rc = xb_results_init(r, meta, recs);
    if (meta) json_object_put(meta);
    if (recs) json_object_put(recs);
    return rc;
}

/* ---- queries over the records ------------------------------------------------------------ */

const char *const xb_lat_what[XB_N_LAT] = { "model_fwd", "model_fwdbwd", "mixer_fwd",
                                             "mixer_fwdbwd", "model_train" };

int xb_rec_match(const xb_rec *r, int kind, const char *task)
{
    return (kind == XB_KIND_ANY || r->kind == kind) && (!task || strcmp(r->task, task) == 0);
}

int xb_distinct_mixers(const xb_results *r, int kind, const char ***out)
{
    int n = r->n;
    const char **a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
    int k = 0;
    for (int i = 0; a && i < n; i++) {
        if (!xb_rec_match(&r->rec[i], kind, NULL)) continue;
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = strcmp(a[j], r->rec[i].mixer) == 0;
        if (!seen) a[k++] = r->rec[i].mixer;
    }
    *out = a;
    return k;
}

int xb_distinct_tasks(const xb_results *r, const char ***out)
{
    int n = r->n;
    const char **a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
    int k = 0;
    for (int i = 0; a && i < n; i++) {
        if (r->rec[i].kind != XB_KIND_TRAIN) continue;
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = strcmp(a[j], r->rec[i].task) == 0;
        if (!seen) a[k++] = r->rec[i].task;
    }
    *out = a;
    return k;
}

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int xb_distinct_lengths(const xb_results *r, int kind, const char *task, int **out)
{
    int n = r->n;
    int *a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
    int k = 0;
    for (int i = 0; a && i < n; i++) {
        if (!xb_rec_match(&r->rec[i], kind, task)) continue;
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = a[j] == r->rec[i].L;
        if (!seen) a[k++] = r->rec[i].L;
    }
    if (a) qsort(a, (size_t)k, sizeof *a, cmp_int);
    *out = a;
    return k;
}

int xb_distinct_threads(const xb_results *r, int **out)
{
    int n = r->n;
    int *a = calloc((size_t)(n > 0 ? n : 1), sizeof *a);
    int k = 0;
    for (int i = 0; a && i < n; i++) {
        int seen = 0;
        for (int j = 0; j < k && !seen; j++) seen = a[j] == r->rec[i].threads;
        if (!seen) a[k++] = r->rec[i].threads;
    }
    if (a) qsort(a, (size_t)k, sizeof *a, cmp_int);
    *out = a;
    return k;
}

void xb_aggregate(const xb_results *res, int kind, const char *task, const char *mixer, int L,
                  int threads, const char *field, xb_agg *a)
{
    int n = res->n;
    memset(a, 0, sizeof *a);
    a->mean = a->std = a->median = NAN;
    double *x = malloc((size_t)(n > 0 ? n : 1) * sizeof *x);
    if (!x) return;
    int m = 0;
    char noisy_path[128] = "";
    /* a timing's median carries its record's flag: "latency.model_fwd.median" →
     * "latency.model_fwd.noisy", "decode.step.median" → "decode.step.noisy" */
    const char *dot = strrchr(field, '.');
    if (dot && (strncmp(field, "latency.", 8) == 0 || strcmp(dot, ".median") == 0))
        snprintf(noisy_path, sizeof noisy_path, "%.*s.noisy", (int)(dot - field), field);
    for (int i = 0; i < n; i++) {
        const xb_rec *r = &res->rec[i];
        if (!xb_rec_match(r, kind, task) || strcmp(r->mixer, mixer) != 0 || r->L != L ||
            (threads > 0 && r->threads != threads))
            continue;
        a->total++;
        double val = r->ok ? xb_record_num(r->o, field) : NAN;
        if (r->ok && isfinite(val)) {
            x[m++] = val;
            a->ok++;
            if (noisy_path[0]) {
                json_object *nz = xb_jpath(r->o, noisy_path);
                if (nz && json_object_get_boolean(nz)) a->noisy = 1;
            }
        } else {
            /* Collect the distinct statuses of what is missing. */
            const char *st = r->ok ? "not measured" : r->status;
            if (!strstr(a->status, st)) {
                size_t k = strlen(a->status);
                snprintf(a->status + k, sizeof a->status - k, "%s%s", k ? ", " : "", st);
            }
        }
    }
    if (m > 0) {
        a->mean = xb_mean(x, m);
        a->std = xb_stddev(x, m);
        a->median = xb_median(x, m);
    }
    if (!a->status[0]) snprintf(a->status, sizeof a->status, a->total ? "ok" : "missing");
    free(x);
}

void xb_params_compare(const xb_results *res, const char *task, const char *mixer, int L,
                       xb_params_cmp *out)
{
    out->params = out->softmax = out->ratio = NAN;
    out->over = 0;
    int n_soft = 0;
    for (int i = 0; i < res->n; i++) {
        const xb_rec *r = &res->rec[i];
        if (r->kind != XB_KIND_TRAIN || r->L != L || strcmp(r->task, task) != 0) continue;
        double p = xb_record_num(r->o, "params");
        if (!isfinite(p)) continue;
        if (!isfinite(out->params) && strcmp(r->mixer, mixer) == 0) out->params = p;
        if (strcmp(r->mixer_name, "softmax") != 0) continue;
        if (n_soft == 0 || p != out->softmax) n_soft++;   /* distinct values, in a row */
        out->softmax = p;
    }
    if (!isfinite(out->params)) out->status = XB_PCMP_NO_PARAMS;
    else if (n_soft == 0) out->status = XB_PCMP_NO_SOFTMAX;
    else if (n_soft > 1) out->status = XB_PCMP_AMBIGUOUS;
    else out->status = XB_PCMP_OK;
    if (out->status != XB_PCMP_OK) {
        out->softmax = NAN;
        return;
    }
    out->ratio = out->params / out->softmax;
    out->over = 10.0 * out->params > 11.0 * out->softmax;   /* counts are exact integers */
}

/* ---- groups ------------------------------------------------------------------------------ */

const xb_group *xb_group_find(const xb_results *r, const char *key)
{
    for (int i = 0; i < r->ngroup; i++)
        if (strcmp(r->group[i].key, key) == 0) return &r->group[i];
    return NULL;
}

int xb_group_raw(const xb_group *g, const char *metric, double **out)
{
    char path[96];
    snprintf(path, sizeof path, "latency.%s.raw", metric);
    size_t total = 0;
    for (int i = 0; i < g->n; i++) {
        json_object *a = g->rec[i]->ok ? xb_jpath(g->rec[i]->o, path) : NULL;
        if (a && json_object_is_type(a, json_type_array)) total += json_object_array_length(a);
    }
    *out = NULL;
    if (total == 0) return 0;
    double *x = malloc(total * sizeof *x);
    if (!x) return 0;
    int m = 0;
    for (int i = 0; i < g->n; i++) {
        json_object *a = g->rec[i]->ok ? xb_jpath(g->rec[i]->o, path) : NULL;
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

int xb_group_noisy(const xb_group *g, const char *metric)
{
    char path[96];
    snprintf(path, sizeof path, "latency.%s.noisy", metric);
    for (int i = 0; i < g->n; i++) {
        json_object *v = g->rec[i]->ok ? xb_jpath(g->rec[i]->o, path) : NULL;
        if (v && json_object_get_boolean(v)) return 1;
    }
    return 0;
}

int xb_group_acc(const xb_group *g, double **out)
{
    double *x = malloc((size_t)(g->n > 0 ? g->n : 1) * sizeof *x);
    int m = 0;
    for (int i = 0; x && i < g->n; i++) {
        double a = g->rec[i]->ok ? xb_record_num(g->rec[i]->o, "test_acc") : NAN;
        if (isfinite(a)) x[m++] = a;
    }
    *out = x;
    return m;
}
