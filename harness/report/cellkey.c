/* harness/report/cellkey.c — cell identity and configuration labels (see
 * harness/report/cellkey.h). */
#include "harness/report/cellkey.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "core/xb.h"
#include "harness/report/store.h"

/* Paths of the config that never tell two cells apart (see the header). */
static const char *const ignored[] = {
    "kind", "seed", "threads", "train.seed", "latency.warmup", "latency.min_reps",
    "latency.max_reps", "latency.min_time_s", "latency.max_cv", "task.key", "task.L",
    "task.name", "mixer.name", "model.max_len", "model.shape", "model.vocab", "model.n_classes",
    "mixer.cfg.d", "mixer.cfg.heads", "mixer.cfg.n_max",
};

static int is_ignored(const char *path)
{
    for (size_t i = 0; i < sizeof ignored / sizeof *ignored; i++)
        if (strcmp(path, ignored[i]) == 0) return 1;
    return 0;
}

#define MODE_PATH "mixer.cfg.causal"

/* Task-level (goes to the task label of a training record) unless it is a mixer option. */
static int is_task_level(const char *path)
{
    return strncmp(path, "mixer.", 6) != 0 || strcmp(path, MODE_PATH) == 0;
}

/* ---- flattening ----------------------------------------------------------------------- */

typedef struct leaf {
    char *path;
    json_object *v;          /* borrowed from the record */
} leaf;

typedef struct flat {
    leaf *l;
    int n, cap;
    uint64_t hash;           /* of every leaf, in order: the identity */
} flat;

static int flat_push(flat *f, const char *path, json_object *v)
{
    if (f->n == f->cap) {
        int cap = f->cap ? 2 * f->cap : 64;
        leaf *l = realloc(f->l, (size_t)cap * sizeof *l);
        if (!l) return XB_ENOMEM;
        f->l = l;
        f->cap = cap;
    }
    char *p = strdup(path);
    if (!p) return XB_ENOMEM;
    f->l[f->n++] = (leaf){p, v};
    return 0;
}

static int flatten(flat *f, json_object *o, char *path, size_t cap)
{
    if (o && json_object_is_type(o, json_type_object)) {
        size_t k = strlen(path);
        json_object_object_foreach(o, key, val) {
            snprintf(path + k, cap - k, "%s%s", k ? "." : "", key);
            int rc = flatten(f, val, path, cap);
            path[k] = 0;
            if (rc) return rc;
        }
        return 0;
    }
    if (is_ignored(path)) return 0;
    return flat_push(f, path, o);
}

static const char *val_str(json_object *v)
{
    return v ? json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN) : "null";
}

static int is_num(json_object *v)
{
    return v && (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int));
}

/* Equal values; numbers by value whatever their JSON type (64 and 64.0 are one value). */
static int same_val(json_object *a, json_object *b)
{
    if (!a || !b) return !a && !b;
    if (is_num(a) && is_num(b)) return json_object_get_double(a) == json_object_get_double(b);
    return json_object_equal(a, b);
}

static void flat_free(flat *f)
{
    for (int i = 0; i < f->n; i++) free(f->l[i].path);
    free(f->l);
}

static int flat_record(flat *f, json_object *rec)
{
    memset(f, 0, sizeof *f);
    json_object *cfg = xb_jget(rec, "config");
    char path[256] = "";
    if (cfg && json_object_is_type(cfg, json_type_object)) {
        int rc = flatten(f, cfg, path, sizeof path);
        if (rc) return rc;
    }
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < f->n; i++) {
        /* numbers by value (json-c keeps a parsed number's text: "0.0030" and "0.003" are
         * one value), as json_object_equal compares them */
        char buf[512];
        json_object *v = f->l[i].v;
        if (is_num(v))
            snprintf(buf, sizeof buf, "%s=%.17g;", f->l[i].path, json_object_get_double(v));
        else
            snprintf(buf, sizeof buf, "%s=%s;", f->l[i].path, val_str(v));
        for (const char *p = buf; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
    }
    f->hash = h;
    return 0;
}

json_object *xb_config_identity(json_object *rec)
{
    flat f;
    if (flat_record(&f, rec)) { flat_free(&f); return NULL; }
    if (f.n == 0) { flat_free(&f); return NULL; }
    json_object *o = json_object_new_object();
    for (int i = 0; o && i < f.n; i++)
        json_object_object_add(o, f.l[i].path, f.l[i].v ? json_object_get(f.l[i].v) : NULL);
    flat_free(&f);
    return o;
}

/* ---- path sets ------------------------------------------------------------------------ */

typedef struct pset { char **p; int n, cap; } pset;

static int pset_has(const pset *s, const char *path)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->p[i], path) == 0) return 1;
    return 0;
}

static int pset_add(pset *s, const char *path)
{
    if (pset_has(s, path)) return 0;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 16;
        char **p = realloc(s->p, (size_t)cap * sizeof *p);
        if (!p) return XB_ENOMEM;
        s->p = p;
        s->cap = cap;
    }
    s->p[s->n++] = (char *)path;    /* borrowed from a flat */
    return 0;
}

/* Leaf `path` of f, looked for first at position hint (configs share their key order). */
static const leaf *flat_find(const flat *f, const char *path, int hint)
{
    if (hint >= 0 && hint < f->n && strcmp(f->l[hint].path, path) == 0) return &f->l[hint];
    for (int i = 0; i < f->n; i++)
        if (strcmp(f->l[i].path, path) == 0) return &f->l[i];
    return NULL;
}

/* Add to s the paths (that pass keep; NULL keeps all) whose values differ between the
 * records idx[0..m): a path differs inside the group iff some record differs from the first
 * on it (value, or present in one and absent in the other). */
static int diff_paths(const flat *fl, const int *idx, int m, int (*keep)(const char *), pset *s)
{
    const flat *f0 = &fl[idx[0]];
    for (int b = 1; b < m; b++) {
        const flat *fb = &fl[idx[b]];
        for (int pass = 0; pass < 2; pass++) {
            const flat *x = pass ? f0 : fb, *y = pass ? fb : f0;
            for (int i = 0; i < x->n; i++) {
                const char *p = x->l[i].path;
                if ((keep && !keep(p)) || pset_has(s, p)) continue;
                const leaf *o = flat_find(y, p, i);
                if ((!o || !same_val(x->l[i].v, o->v)) && pset_add(s, p)) return XB_ENOMEM;
            }
        }
    }
    return 0;
}

static int is_mixer_option(const char *path) { return !is_task_level(path); }

/* ---- labels ----------------------------------------------------------------------------- */

static const char *last_name(const char *path)
{
    const char *d = strrchr(path, '.');
    return d ? d + 1 : path;
}

/* The name a label shows for path: its last component, or the last two where another
 * differing path of the folder shares the last one. */
static void short_name(const char *path, const pset *all, char *out, size_t n)
{
    const char *ln = last_name(path);
    if (strncmp(path, "latency.", 8) == 0) {   /* "batch" alone would read as train's */
        snprintf(out, n, "%s", path);
        return;
    }
    int clash = 0;
    for (int i = 0; i < all->n && !clash; i++)
        clash = strcmp(all->p[i], path) != 0 && strcmp(last_name(all->p[i]), ln) == 0;
    if (!clash || ln == path) {
        snprintf(out, n, "%s", ln);
        return;
    }
    const char *prev = ln - 1;
    while (prev > path && prev[-1] != '.') prev--;
    snprintf(out, n, "%s", prev);
}

static void append(char *buf, size_t n, const char *path, json_object *v, const pset *all)
{
    char name[96], val[96];
    if (strcmp(path, MODE_PATH) == 0) {
        snprintf(name, sizeof name, "mode");
        snprintf(val, sizeof val, "%s", v && json_object_get_int(v) ? "causal" : "bidirectional");
    } else {
        short_name(path, all, name, sizeof name);
        const char *en = NULL;
        if (strncmp(path, "model.", 6) == 0 && v && json_object_is_type(v, json_type_int))
            en = xb_model_enum_name(path + 6, json_object_get_int(v));
        if (en) snprintf(val, sizeof val, "%s", en);
        else if (!v) snprintf(val, sizeof val, "~");
        else if (json_object_is_type(v, json_type_double)) snprintf(val, sizeof val, "%.6g", json_object_get_double(v));
        else if (json_object_is_type(v, json_type_string)) snprintf(val, sizeof val, "%s", json_object_get_string(v));
        else snprintf(val, sizeof val, "%s", val_str(v));
    }
    size_t k = strlen(buf);
    snprintf(buf + k, n - k, " %s=%s", name, val);
}

static int is_train(json_object *r)
{
    return xb_record_kind(r) == XB_KIND_TRAIN;
}

/* Records sorted by a string key, so that equal keys sit together. */
typedef struct keyed { const char *key; int i; } keyed;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->i > y->i) - (x->i < y->i);
}

typedef struct labeler {
    json_object *records;
    int n;
    flat *fl;
    int *idx;
    keyed *ks;
    char (*key)[XB_LABEL_MAX + 128];
    pset all;             /* every differing path (for short names) */
    pset *tset, *mset;    /* per group owner: the paths that differ inside its task group,
                             and inside its bucket */
    int *towner, *mowner; /* the group owner of each record (task group, bucket) */
} labeler;

static json_object *rec_at(const labeler *l, int i)
{
    return json_object_array_get_idx(l->records, (size_t)i);
}

/* Group the records by l->key (sorted), and for each group find the paths that differ
 * inside it (those keep accepts: keep_train for training records, keep_lat for latency
 * ones), stored at the group's first record; owner[i] = that record. */
static int group_diffs(labeler *l, int (*keep_train)(const char *), int (*keep_lat)(const char *),
                       int *owner, pset *set, const unsigned char *skip)
{
    int m = 0;
    for (int i = 0; i < l->n; i++)
        if (!skip || !skip[i]) l->ks[m++] = (keyed){l->key[i], i};
    qsort(l->ks, (size_t)m, sizeof *l->ks, cmp_keyed);
    for (int a = 0; a < m;) {
        int b = a, g = 0;
        while (b < m && strcmp(l->ks[b].key, l->ks[a].key) == 0) l->idx[g++] = l->ks[b++].i;
        int first = l->idx[0];
        for (int k = 0; k < g; k++) owner[l->idx[k]] = first;
        int (*keep)(const char *) = is_train(rec_at(l, first)) ? keep_train : keep_lat;
        if (diff_paths(l->fl, l->idx, g, keep, &set[first])) return XB_ENOMEM;
        for (int k = 0; k < set[first].n; k++)
            if (pset_add(&l->all, set[first].p[k])) return XB_ENOMEM;
        a = b;
    }
    return 0;
}

/* Append the values of the record's paths that are in set[owner], in the config's order. */
static void label_paths(const labeler *l, const pset *set, int i, int owner, char *buf)
{
    if (owner < 0) return;
    const pset *s = &set[owner];
    const flat *f = &l->fl[i];
    for (int k = 0; k < f->n; k++)
        if (pset_has(s, f->l[k].path)) append(buf, XB_LABEL_MAX, f->l[k].path, f->l[k].v, &l->all);
    /* a differing path this record lacks: shown as absent */
    for (int k = 0; k < s->n; k++)
        if (!flat_find(f, s->p[k], -1)) append(buf, XB_LABEL_MAX, s->p[k], NULL, &l->all);
}

static int keep_none(const char *path) { (void)path; return 0; }
static int keep_all(const char *path) { (void)path; return 1; }

int xb_label_records(json_object *records, xb_label *out)
{
    int n = (int)json_object_array_length(records), rc = XB_ENOMEM;
    size_t nn = (size_t)(n > 0 ? n : 1);
    labeler l = {records, n, calloc(nn, sizeof *l.fl), malloc(nn * sizeof *l.idx),
                 malloc(nn * sizeof *l.ks), malloc(nn * sizeof *l.key), {0},
                 calloc(nn, sizeof *l.tset), calloc(nn, sizeof *l.mset), malloc(nn * sizeof *l.towner),
                 malloc(nn * sizeof *l.mowner)};
    unsigned char *lat = calloc(nn, 1);
    if (!l.fl || !l.idx || !l.ks || !l.key || !l.tset || !l.mset || !l.towner || !l.mowner || !lat) goto out;
    for (int i = 0; i < n; i++) {
        if (flat_record(&l.fl[i], rec_at(&l, i))) goto out;
        lat[i] = !is_train(rec_at(&l, i));
        l.towner[i] = -1;
    }

    /* 1. Task-level paths that differ between the training records of one task. */
    for (int i = 0; i < n; i++) snprintf(l.key[i], sizeof *l.key, "%s", xb_jstr(rec_at(&l, i), "task", ""));
    if (group_diffs(&l, is_task_level, keep_none, l.towner, l.tset, lat)) goto out;

    /* 2. Inside each (kind, task label, mixer, L, threads): the paths that still differ —
     *    mixer options for training records, any path for latency-only ones. The bucket key
     *    holds the task label's values (the names are settled once every path is known).
     *    Kind, not "training or not": a latency cell and a decode cell at one length are
     *    rows of different tables, and always differ (mode, optimizer, n_max-derived
     *    defaults such as lmu's theta); bucketed together, each got a label that its
     *    neighbours at other lengths did not, and every latency and decode row split in
     *    two wherever latency.lengths and decode_lengths shared a length. */
    for (int i = 0; i < n; i++) {
        json_object *r = rec_at(&l, i);
        char tl[XB_LABEL_MAX] = "";
        label_paths(&l, l.tset, i, l.towner[i], tl);
        snprintf(l.key[i], sizeof *l.key, "%s|%s%s|%s|%d|%d", xb_kind_word(xb_record_kind(r)),
                 xb_jstr(r, "task", ""), tl, xb_jstr(r, "mixer", "?"), xb_jint(r, "L", 0),
                 xb_jint(r, "threads", 0));
    }
    if (group_diffs(&l, is_mixer_option, keep_all, l.mowner, l.mset, NULL)) goto out;

    /* 3. The labels. */
    for (int i = 0; i < n; i++) {
        json_object *r = rec_at(&l, i);
        out[i].task[0] = 0;
        if (!lat[i]) {
            snprintf(out[i].task, XB_LABEL_MAX, "%s", xb_jstr(r, "task", "?"));
            label_paths(&l, l.tset, i, l.towner[i], out[i].task);
        }
        snprintf(out[i].mixer, XB_LABEL_MAX, "%s", xb_jstr(r, "mixer", "?"));
        label_paths(&l, l.mset, i, l.mowner[i], out[i].mixer);
    }

    /* 4. Backstop: records with equal labels must have equal identities (a label cut at
     *    XB_LABEL_MAX could hide a difference); where they do not, the identity hash tells
     *    them apart. */
    for (int i = 0; i < n; i++) {
        json_object *r = rec_at(&l, i);
        snprintf(l.key[i], sizeof *l.key, "%s|%s|%s|%d|%d", xb_kind_word(xb_record_kind(r)),
                 out[i].task, out[i].mixer,
                 xb_jint(r, "L", 0), xb_jint(r, "threads", 0));
        l.ks[i] = (keyed){l.key[i], i};
    }
    qsort(l.ks, (size_t)n, sizeof *l.ks, cmp_keyed);
    for (int a = 0; a < n;) {
        int b = a + 1, mixed = 0;
        while (b < n && strcmp(l.ks[b].key, l.ks[a].key) == 0) {
            mixed |= l.fl[l.ks[b].i].hash != l.fl[l.ks[a].i].hash;
            b++;
        }
        for (int k = a; mixed && k < b; k++) {
            char *m = out[l.ks[k].i].mixer;
            size_t len = strlen(m);
            if (len > XB_LABEL_MAX - 12) len = XB_LABEL_MAX - 12;
            snprintf(m + len, XB_LABEL_MAX - len, " #%08x", (unsigned)(l.fl[l.ks[k].i].hash >> 32));
        }
        a = b;
    }
    rc = 0;
out:
    for (int i = 0; l.fl && i < n; i++) flat_free(&l.fl[i]);
    for (int i = 0; l.tset && i < n; i++) free(l.tset[i].p);
    for (int i = 0; l.mset && i < n; i++) free(l.mset[i].p);
    free(l.tset);
    free(l.mset);
    free(l.all.p);
    free(l.fl);
    free(l.idx);
    free(l.ks);
    free(l.key);
    free(l.towner);
    free(l.mowner);
    free(lat);
    return rc;
}
