/* harness/merge.c — `xbench merge`: join shard folders of one suite (see harness/merge.h). */
#include "harness/merge.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <json-c/json.h>

#include "core/xb.h"
#include "harness/machine.h"
#include "harness/report/plot.h"
#include "harness/report/report.h"
#include "harness/report/store.h"
#include "harness/suite.h"
#include "harness/sweep.h"

#define LIST_MAX 20   /* missing cells and duplicates named one by one, then a count */

typedef struct src {
    const char *dir;
    char *real;             /* realpath */
    json_object *meta;
    json_object *recs;      /* the latest record per cell (xb_report_load) */
    int k, n;               /* shard K/N, 0/0 for a whole run */
} src;

/* One cell the merged folder should hold. */
typedef struct want {
    char hash[24];
    int index;              /* position in the suite's full list; INT_MAX when unknown */
    char what[200];         /* "train mqar softmax L=32 seed=1 threads=1" */
} want;

typedef struct merge_ctx {
    src *s;
    int n;
    FILE *err;
    json_object *chosen;    /* config_hash → record kept */
    json_object *from;      /* config_hash → index of its source folder */
    json_object *unkeyed;   /* records without a config_hash, all kept */
    int n_dup, n_dup_same;
    want *w;                /* the cells the merge should hold */
    int n_w, cap_w;
    json_object *w_seen;    /* hash → index in w */
    int expanded;           /* 1: the suite's full cell list was re-derived */
} merge_ctx;

static FILE *errf(const xb_merge_opts *o) { return o && o->err ? o->err : stderr; }

static void utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int parse_shard(const char *s, int *k, int *n)
{
    char extra;
    *k = *n = 0;
    if (!s) return 0;
    if (sscanf(s, "%d/%d%c", k, n, &extra) != 2 || *n < 1 || *k < 1 || *k > *n) {
        *k = *n = 0;
        return -1;
    }
    return 0;
}

/* ---- loading and checking the inputs ----------------------------------------------- */

static int load_sources(merge_ctx *m, const char *const *dirs, int n, const char *out_dir)
{
    FILE *err = m->err;
    for (int i = 0; i < n; i++) {
        src *s = &m->s[i];
        s->dir = dirs[i];
        s->real = realpath(dirs[i], NULL);
        if (!s->real) {
            fprintf(err, "error: '%s': %s\n", dirs[i], strerror(errno));
            return XB_ENOTFOUND;
        }
        for (int j = 0; j < i; j++)
            if (strcmp(m->s[j].real, s->real) == 0) {
                fprintf(err, "error: '%s' and '%s' are the same folder: name each shard once\n",
                        m->s[j].dir, dirs[i]);
                return XB_EINVAL;
            }
    }
    char *out_real = realpath(out_dir, NULL);
    if (out_real) {
        for (int i = 0; i < n; i++)
            if (strcmp(out_real, m->s[i].real) == 0) {
                fprintf(err, "error: the output folder '%s' is one of the inputs: merge into a "
                        "new folder\n", out_dir);
                free(out_real);
                return XB_EINVAL;
            }
        free(out_real);
    }
    for (int i = 0; i < n; i++) {
        src *s = &m->s[i];
        int rc = xb_report_load(s->dir, &s->meta, &s->recs, err, NULL);
        if (rc) {
            fprintf(err, "error: '%s' is not a results folder that xbench merge can read\n", s->dir);
            return rc;
        }
        if (!s->meta || !xb_jstr(s->meta, "suite_hash", NULL)) {
            fprintf(err, "error: '%s/meta.json' is missing or unreadable: which suite its cells "
                    "belong to is unknown, so it cannot be merged\n", s->dir);
            return XB_EFORMAT;
        }
        if (parse_shard(xb_jstr(s->meta, "shard", NULL), &s->k, &s->n)) {
            fprintf(err, "error: '%s/meta.json' has a bad \"shard\" value '%s'\n", s->dir,
                    xb_jstr(s->meta, "shard", ""));
            return XB_EFORMAT;
        }
    }
    return 0;
}

/* Every folder of one suite, else an error listing which folder holds which suite. */
static int check_one_suite(merge_ctx *m)
{
    const char *h0 = xb_jstr(m->s[0].meta, "suite_hash", "");
    int same = 1;
    for (int i = 1; i < m->n; i++)
        if (strcmp(xb_jstr(m->s[i].meta, "suite_hash", ""), h0) != 0) same = 0;
    if (same) return 0;
    FILE *err = m->err;
    fprintf(err, "error: these folders hold results of different suites, which are never "
            "merged:\n");
    for (int i = 0; i < m->n; i++) {
        const char *h = xb_jstr(m->s[i].meta, "suite_hash", "");
        int first = 1;
        for (int j = 0; j < i; j++)
            if (strcmp(xb_jstr(m->s[j].meta, "suite_hash", ""), h) == 0) first = 0;
        if (!first) continue;
        fprintf(err, "  suite '%s' (%s, hash %s):", xb_jstr(m->s[i].meta, "suite_name", "?"),
                xb_jstr(m->s[i].meta, "suite_path", "?"), h);
        for (int j = i; j < m->n; j++)
            if (strcmp(xb_jstr(m->s[j].meta, "suite_hash", ""), h) == 0) fprintf(err, " %s", m->s[j].dir);
        fprintf(err, "\n");
    }
    return XB_EINVAL;
}

/* OUT must not be a folder a run wrote: a merge only ever overwrites an earlier merge. */
static int check_out(const char *out, FILE *err)
{
    char *mp = xb_path_join(out, "meta.json"), *cp = xb_path_join(out, "cells.jsonl");
    if (!mp || !cp) {
        free(mp);
        free(cp);
        return XB_ENOMEM;
    }
    struct stat st;
    int has_cells = stat(cp, &st) == 0, has_meta = stat(mp, &st) == 0;
    json_object *meta = has_meta ? xb_read_json(mp) : NULL;
    int rc = 0;
    if ((has_cells || has_meta) && !xb_jget(meta, "merged")) {
        fprintf(err, "error: '%s' already holds results that xbench merge did not write: "
                "merge into a new folder\n", out);
        rc = XB_EINVAL;
    }
    if (meta) json_object_put(meta);
    free(mp);
    free(cp);
    return rc;
}

/* ---- the union of the records ------------------------------------------------------ */

/* Whether record b should replace record a (both of one cell; a from an earlier folder). */
static int better(json_object *a, json_object *b)
{
    int ok_a = strcmp(xb_jstr(a, "status", ""), "ok") == 0;
    int ok_b = strcmp(xb_jstr(b, "status", ""), "ok") == 0;
    if (ok_a != ok_b) return ok_b;
    const char *fa = xb_jstr(a, "finished", ""), *fb = xb_jstr(b, "finished", "");
    return strcmp(fb, fa) > 0;
}

static void union_records(merge_ctx *m)
{
    for (int i = 0; i < m->n; i++) {
        json_object *recs = m->s[i].recs;
        for (size_t j = 0; j < json_object_array_length(recs); j++) {
            json_object *r = json_object_array_get_idx(recs, j);
            const char *h = xb_jstr(r, "config_hash", NULL);
            if (!h) {
                json_object_array_add(m->unkeyed, json_object_get(r));
                continue;
            }
            json_object *prev = xb_jget(m->chosen, h);
            if (!prev) {
                json_object_object_add(m->chosen, h, json_object_get(r));
                json_object_object_add(m->from, h, json_object_new_int(i));
                continue;
            }
            int pi = xb_jint(m->from, h, 0);
            int same = json_object_equal(prev, r);
            int take = !same && better(prev, r);
            if (m->n_dup < LIST_MAX)
                fprintf(m->err, "warning: duplicate cell %s (%s %s L=%d) in '%s' (%s) and '%s' "
                        "(%s)%s; keeping %s's\n", h, xb_jstr(r, "kind", "?"), xb_jstr(r, "mixer", "?"),
                        xb_jint(r, "L", 0), m->s[pi].dir, xb_jstr(prev, "status", "?"), m->s[i].dir,
                        xb_jstr(r, "status", "?"), same ? ", identical records" : "",
                        take ? m->s[i].dir : m->s[pi].dir);
            m->n_dup++;
            m->n_dup_same += same;
            if (take) {
                json_object_object_add(m->chosen, h, json_object_get(r));
                json_object_object_add(m->from, h, json_object_new_int(i));
            }
        }
    }
    if (m->n_dup > LIST_MAX)
        fprintf(m->err, "warning: ... %d duplicate cells in all\n", m->n_dup);
}

/* ---- the cells the merge should hold ----------------------------------------------- */

static void want_add(merge_ctx *m, const char *hash, int index, const char *what)
{
    json_object *at = xb_jget(m->w_seen, hash);
    if (at) {
        want *w = &m->w[json_object_get_int(at)];
        if (index < w->index) w->index = index;
        if (!w->what[0] && what) snprintf(w->what, sizeof w->what, "%s", what);
        return;
    }
    if (m->n_w == m->cap_w) {
        int cap = m->cap_w ? 2 * m->cap_w : 64;
        want *nw = realloc(m->w, (size_t)cap * sizeof *nw);
        if (!nw) return;
        m->w = nw;
        m->cap_w = cap;
    }
    want *w = &m->w[m->n_w];
    memset(w, 0, sizeof *w);
    snprintf(w->hash, sizeof w->hash, "%s", hash);
    w->index = index;
    if (what) snprintf(w->what, sizeof w->what, "%s", what);
    json_object_object_add(m->w_seen, hash, json_object_new_int(m->n_w));
    m->n_w++;
}

static void describe_spec(const xb_cell_spec *c, char *buf, size_t n)
{
    snprintf(buf, n, "%s %s%s%s L=%d seed=%llu threads=%d", xb_cell_kind_name(c->kind),
             c->task ? c->task->name : "", c->task ? " " : "", c->mixer ? c->mixer->name : "?", c->L,
             (unsigned long long)c->seed, c->threads);
}

/* The suite's cells for folder i's --only and --threads, re-derived from its canonical text:
 * 1 when they were added to the list, 0 when the suite cannot be reproduced here (then only
 * the folders' own cell lists count). */
static int expand_for(merge_ctx *m, int i)
{
    json_object *meta = m->s[i].meta;
    const char *canon = xb_jstr(meta, "suite_canonical", NULL);
    if (!canon || !*canon) return 0;
    char *junk = NULL;
    size_t junk_n = 0;
    FILE *quiet = open_memstream(&junk, &junk_n);
    if (!quiet) return 0;
    xb_suite s;
    memset(&s, 0, sizeof s);
    int rc = xb_suite_load_string(canon, "meta.json", &s, quiet);
    fclose(quiet);
    free(junk);
    if (rc != XB_OK) return 0;
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s.hash);
    int ok = strcmp(hash, xb_jstr(meta, "suite_hash", "")) == 0;
    xb_cell_spec *cells = NULL;
    int n = 0;
    if (ok) {
        xb_sweep_opts o;
        memset(&o, 0, sizeof o);
        o.only = xb_jstr(meta, "only", NULL);
        json_object *thr = xb_jget(meta, "threads");
        if (thr && json_object_is_type(thr, json_type_array) && json_object_array_length(thr) == 1)
            o.threads = json_object_get_int(json_object_array_get_idx(thr, 0));
        char *junk2 = NULL;
        size_t junk2_n = 0;
        FILE *q2 = open_memstream(&junk2, &junk2_n);
        ok = q2 && xb_sweep_expand(&s, &o, &cells, &n, q2) == 0;
        if (q2) fclose(q2);
        free(junk2);
    }
    /* Trust the re-derived list only when it holds every cell the folder itself listed: a
     * binary that resolves cells differently would otherwise invent missing cells. */
    json_object *mine = xb_jget(meta, "cell_hashes");
    if (ok) {
        json_object *set = json_object_new_object();
        for (int c = 0; c < n; c++) json_object_object_add(set, cells[c].hash, NULL);
        for (size_t j = 0; mine && j < json_object_array_length(mine); j++)
            if (!json_object_object_get_ex(set, json_object_get_string(json_object_array_get_idx(mine, j)), NULL))
                ok = 0;
        json_object_put(set);
    }
    if (ok)
        for (int c = 0; c < n; c++) {
            char what[200];
            describe_spec(&cells[c], what, sizeof what);
            want_add(m, cells[c].hash, cells[c].index, what);
        }
    xb_sweep_cells_free(cells, n);
    xb_suite_release(&s);
    return ok;
}

static void expected_cells(merge_ctx *m)
{
    int all = 1;
    for (int i = 0; i < m->n; i++) {
        /* one expansion per distinct (only, threads) */
        int dup = 0;
        for (int j = 0; j < i && !dup; j++) {
            const char *a = xb_jstr(m->s[i].meta, "only", ""), *b = xb_jstr(m->s[j].meta, "only", "");
            json_object *ta = xb_jget(m->s[i].meta, "threads"), *tb = xb_jget(m->s[j].meta, "threads");
            dup = strcmp(a, b) == 0 && json_object_equal(ta, tb);
        }
        if (!dup && !expand_for(m, i)) all = 0;
    }
    m->expanded = all;
    if (!all)
        fprintf(m->err, "warning: this xbench cannot re-derive the suite's cells from meta.json "
                "(another version wrote it?): missing cells are judged from the folders' own "
                "cell lists and shard numbers only\n");
    for (int i = 0; i < m->n; i++) {
        json_object *mine = xb_jget(m->s[i].meta, "cell_hashes");
        for (size_t j = 0; mine && j < json_object_array_length(mine); j++) {
            const char *h = json_object_get_string(json_object_array_get_idx(mine, j));
            json_object *r = xb_jget(m->chosen, h);
            char what[200] = "";
            if (r)
                snprintf(what, sizeof what, "%s %s%s%s L=%d seed=%.0f threads=%d", xb_jstr(r, "kind", "?"),
                         xb_jstr(r, "task", ""), xb_jstr(r, "task", NULL) ? " " : "", xb_jstr(r, "mixer", "?"),
                         xb_jint(r, "L", 0), xb_jnum(r, "seed", 0), xb_jint(r, "threads", 0));
            want_add(m, h, r ? xb_jint(r, "index", INT_MAX) : INT_MAX, r ? what : NULL);
        }
    }
}

/* ---- writing ------------------------------------------------------------------------ */

static int by_index(const void *a, const void *b)
{
    json_object *x = *(json_object *const *)a, *y = *(json_object *const *)b;
    int ix = xb_jint(x, "index", INT_MAX), iy = xb_jint(y, "index", INT_MAX);
    if (ix != iy) return ix < iy ? -1 : 1;
    return strcmp(xb_jstr(x, "config_hash", ""), xb_jstr(y, "config_hash", ""));
}

static int by_want_index(const void *a, const void *b)
{
    const want *x = a, *y = b;
    if (x->index != y->index) return x->index < y->index ? -1 : 1;
    return strcmp(x->hash, y->hash);
}

static int write_cells(merge_ctx *m, const char *out, int *n_out)
{
    int n = 0;
    json_object_object_foreach(m->chosen, key, val) {
        (void)key;
        (void)val;
        n++;
    }
    int nu = (int)json_object_array_length(m->unkeyed);
    json_object **v = malloc((size_t)(n + nu + 1) * sizeof *v);
    if (!v) return XB_ENOMEM;
    int k = 0;
    json_object_object_foreach(m->chosen, key2, val2) {
        (void)key2;
        v[k++] = val2;
    }
    qsort(v, (size_t)k, sizeof *v, by_index);
    for (int i = 0; i < nu; i++) v[k++] = json_object_array_get_idx(m->unkeyed, (size_t)i);
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) {
        free(v);
        return XB_ENOMEM;
    }
    for (int i = 0; i < k; i++)
        fprintf(f, "%s\n", json_object_to_json_string_ext(v[i], JSON_C_TO_STRING_PLAIN |
                                                                   JSON_C_TO_STRING_NOSLASHESCAPE));
    fclose(f);
    free(v);
    char *p = xb_path_join(out, "cells.jsonl");
    int rc = p && text ? xb_write_atomic(p, text, len) : XB_ENOMEM;
    free(p);
    free(text);
    *n_out = k;
    return rc;
}

/* Distinct values of machine.<key> over the folders, joined by ", "; returns how many. */
static int distinct_machine(merge_ctx *m, const char *key, char *buf, size_t n)
{
    int count = 0;
    buf[0] = 0;
    for (int i = 0; i < m->n; i++) {
        const char *v = xb_jstr(xb_jget(m->s[i].meta, "machine"), key, "?");
        int seen = 0;
        for (int j = 0; j < i && !seen; j++)
            seen = strcmp(xb_jstr(xb_jget(m->s[j].meta, "machine"), key, "?"), v) == 0;
        if (seen) continue;
        size_t l = strlen(buf);
        if (l < n) snprintf(buf + l, n - l, "%s%s", count ? ", " : "", v);
        count++;
    }
    return count;
}

static int distinct_key(merge_ctx *m, const char *key)
{
    int count = 0;
    for (int i = 0; i < m->n; i++) {
        const char *v = xb_jstr(m->s[i].meta, key, "?");
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = strcmp(xb_jstr(m->s[j].meta, key, "?"), v) == 0;
        count += !seen;
    }
    return count;
}

static int write_meta(merge_ctx *m, const char *out)
{
    json_object *meta = NULL;
    if (json_object_deep_copy(m->s[0].meta, &meta, NULL) != 0 || !meta) return XB_ENOMEM;
    json_object_object_del(meta, "shard");
    json_object_object_del(meta, "finished");
    json_object_object_del(meta, "interrupted");
    json_object_object_add(meta, "cells", json_object_new_int(m->n_w));
    json_object *hashes = json_object_new_array();
    for (int i = 0; i < m->n_w; i++) json_object_array_add(hashes, json_object_new_string(m->w[i].hash));
    json_object_object_add(meta, "cell_hashes", hashes);

    /* started: the earliest; finished: the latest, when every folder finished */
    const char *started = NULL, *finished = NULL, *interrupted = NULL;
    int all_finished = 1;
    for (int i = 0; i < m->n; i++) {
        const char *s = xb_jstr(m->s[i].meta, "started", NULL);
        const char *f = xb_jstr(m->s[i].meta, "finished", NULL);
        const char *in = xb_jstr(m->s[i].meta, "interrupted", NULL);
        if (s && (!started || strcmp(s, started) < 0)) started = s;
        if (f && (!finished || strcmp(f, finished) > 0)) finished = f;
        if (in && (!interrupted || strcmp(in, interrupted) > 0)) interrupted = in;
        if (!f) all_finished = 0;
    }
    if (started) json_object_object_add(meta, "started", json_object_new_string(started));
    if (all_finished && finished) json_object_object_add(meta, "finished", json_object_new_string(finished));
    else if (interrupted) json_object_object_add(meta, "interrupted", json_object_new_string(interrupted));

    json_object *warnings = xb_jget(meta, "warnings");
    if (!warnings || !json_object_is_type(warnings, json_type_array)) {
        warnings = json_object_new_array();
        json_object_object_add(meta, "warnings", warnings);
    }
    char list[1024], w[1400];
    int hosts = distinct_machine(m, "host", list, sizeof list);
    if (hosts > 1) {
        snprintf(w, sizeof w, "the cells of this merge ran on %d hosts (%s): latencies of "
                 "different mixers compare only as far as those machines are alike", hosts, list);
        json_object_array_add(warnings, json_object_new_string(w));
    }
    int cpus = distinct_machine(m, "cpu", list, sizeof list);
    if (cpus > 1) {
        snprintf(w, sizeof w, "the shards ran on %d CPU models (%s): the machine summary above "
                 "is the first shard's; meta.json's merged.folders has each", cpus, list);
        json_object_array_add(warnings, json_object_new_string(w));
    }
    if (distinct_key(m, "git_commit") > 1)
        json_object_array_add(warnings, json_object_new_string(
            "the shards were run by different builds of xbench (git_commit differs): see "
            "meta.json's merged.folders"));

    char now[32];
    utc_now(now, sizeof now);
    json_object *merged = json_object_new_object();
    json_object_object_add(merged, "at", json_object_new_string(now));
    json_object_object_add(merged, "xbench_version", json_object_new_string(XB_VERSION));
    json_object_object_add(merged, "git_commit", json_object_new_string(xb_git_commit()));
    json_object *folders = json_object_new_array();
    for (int i = 0; i < m->n; i++) {
        src *s = &m->s[i];
        json_object *f = json_object_new_object(), *mach = xb_jget(s->meta, "machine");
        json_object_object_add(f, "dir", json_object_new_string(s->real));
        json_object_object_add(f, "shard", json_object_get(xb_jget(s->meta, "shard")));
        json_object_object_add(f, "host", json_object_get(xb_jget(mach, "host")));
        json_object_object_add(f, "cpu", json_object_get(xb_jget(mach, "cpu")));
        json_object_object_add(f, "git_commit", json_object_get(xb_jget(s->meta, "git_commit")));
        json_object_object_add(f, "started", json_object_get(xb_jget(s->meta, "started")));
        json_object_object_add(f, "finished", json_object_get(xb_jget(s->meta, "finished")));
        if (xb_jget(s->meta, "interrupted"))
            json_object_object_add(f, "interrupted", json_object_get(xb_jget(s->meta, "interrupted")));
        json_object_object_add(f, "threads", json_object_get(xb_jget(s->meta, "threads")));
        json_object_object_add(f, "cells", json_object_get(xb_jget(s->meta, "cells")));
        json_object_object_add(f, "records", json_object_new_int((int)json_object_array_length(s->recs)));
        json_object_object_add(f, "machine", json_object_get(mach));
        json_object_array_add(folders, f);
    }
    json_object_object_add(merged, "folders", folders);
    json_object_object_add(meta, "merged", merged);
    char *p = xb_path_join(out, "meta.json");
    int rc = p ? xb_write_json_atomic(p, meta) : XB_ENOMEM;
    free(p);
    json_object_put(meta);
    return rc;
}

/* ---- the whole merge ---------------------------------------------------------------- */

/* Shards K/N that no folder stands for, on err; returns how many. */
static int missing_shards(merge_ctx *m)
{
    int missing = 0;
    for (int i = 0; i < m->n; i++) {
        int N = m->s[i].n, first = 1;
        if (!N) continue;
        for (int j = 0; j < i; j++)
            if (m->s[j].n == N) first = 0;
        if (!first) continue;
        for (int k = 1; k <= N; k++) {
            int have = 0;
            for (int j = 0; j < m->n && !have; j++) have = m->s[j].n == N && m->s[j].k == k;
            if (!have) {
                if (missing < LIST_MAX) fprintf(m->err, "missing: shard %d/%d (no folder of it was given)\n", k, N);
                missing++;
            }
        }
    }
    return missing;
}

int xb_merge(const char *const *dirs, int n, const char *out_dir, const xb_merge_opts *o)
{
    FILE *err = errf(o);
    if (n < 1 || !dirs || !out_dir) {
        fprintf(err, "error: nothing to merge\n");
        return XB_EINVAL;
    }
    merge_ctx m;
    memset(&m, 0, sizeof m);
    m.n = n;
    m.err = err;
    m.s = calloc((size_t)n, sizeof *m.s);
    m.chosen = json_object_new_object();
    m.from = json_object_new_object();
    m.unkeyed = json_object_new_array();
    m.w_seen = json_object_new_object();
    int rc = m.s ? 0 : XB_ENOMEM;
    if (rc == 0) rc = load_sources(&m, dirs, n, out_dir);
    if (rc == 0) rc = check_one_suite(&m);
    if (rc == 0) rc = check_out(out_dir, err);
    if (rc) goto out;

    union_records(&m);
    expected_cells(&m);
    if (m.n_w > 1) qsort(m.w, (size_t)m.n_w, sizeof *m.w, by_want_index);

    int missing = 0, not_ok = 0, extra = 0, ok = 0;
    for (int i = 0; i < m.n_w; i++) {
        json_object *r = xb_jget(m.chosen, m.w[i].hash);
        if (r) continue;
        if (missing < LIST_MAX)
            fprintf(err, "missing: cell %s%s%s\n", m.w[i].hash, m.w[i].what[0] ? " " : "", m.w[i].what);
        missing++;
    }
    if (missing > LIST_MAX) fprintf(err, "missing: ... %d cells in all\n", missing);
    /* Shards no folder stands for: the reason for missing cells, or, when the suite's cell
     * list could not be re-derived, the only sign of them. */
    int lost_shards = missing || !m.expanded ? missing_shards(&m) : 0;
    if (m.expanded) lost_shards = 0;
    json_object_object_foreach(m.chosen, h, r) {
        if (strcmp(xb_jstr(r, "status", ""), "ok") == 0) ok++;
        else not_ok++;
        if (!xb_jget(m.w_seen, h)) extra++;
    }
    for (size_t i = 0; i < json_object_array_length(m.unkeyed); i++) {
        json_object *r = json_object_array_get_idx(m.unkeyed, i);
        if (strcmp(xb_jstr(r, "status", ""), "ok") == 0) ok++;
        else not_ok++;
    }
    if (extra) {
        fprintf(err, "warning: %d recorded cells are not in the suite's cell list (a run with "
                "other --only or --threads?); they are kept\n", extra);
        json_object_object_foreach(m.chosen, h2, r2)
            if (!xb_jget(m.w_seen, h2)) want_add(&m, h2, xb_jint(r2, "index", INT_MAX), NULL);
        if (m.n_w > 1) qsort(m.w, (size_t)m.n_w, sizeof *m.w, by_want_index);
    }

    rc = xb_mkdirs(out_dir);
    if (rc) {
        fprintf(err, "error: cannot create '%s': %s\n", out_dir, strerror(errno));
        goto out;
    }
    int written = 0;
    rc = write_cells(&m, out_dir, &written);
    if (rc == 0) rc = write_meta(&m, out_dir);
    if (rc) {
        fprintf(err, "error: cannot write the merged files in '%s': %s\n", out_dir, xb_strerror(rc));
        goto out;
    }
    rc = xb_report_dir(out_dir, NULL, err);
    if (rc) goto out;
    if (!(o && o->no_plots)) xb_plot_dir(out_dir, err);

    if (o && o->out && !o->quiet) {
        char shards[256] = "";
        size_t l = 0;
        for (int i = 0; i < n && l < sizeof shards; i++)
            l += (size_t)snprintf(shards + l, sizeof shards - l, "%s%s", i ? ", " : "",
                                  m.s[i].n ? xb_jstr(m.s[i].meta, "shard", "") : "whole run");
        fprintf(o->out, "merged %d folder%s (%s) of suite '%s' (hash %s) into %s/\n", n, n > 1 ? "s" : "",
                shards, xb_jstr(m.s[0].meta, "suite_name", "?"), xb_jstr(m.s[0].meta, "suite_hash", "?"),
                out_dir);
        fprintf(o->out, "%d of %d cells recorded, %d ok, %d not ok, %d missing%s, %d duplicate%s; "
                "tables in %s/tables.md\n", written, m.n_w, ok, not_ok, missing,
                lost_shards ? " (and whole shards)" : "", m.n_dup, m.n_dup == 1 ? "" : "s", out_dir);
        fflush(o->out);
    }
    rc = missing || lost_shards || not_ok ? XB_MERGE_INCOMPLETE : XB_MERGE_OK;
out:
    for (int i = 0; m.s && i < n; i++) {
        free(m.s[i].real);
        if (m.s[i].meta) json_object_put(m.s[i].meta);
        if (m.s[i].recs) json_object_put(m.s[i].recs);
    }
    free(m.s);
    free(m.w);
    json_object_put(m.chosen);
    json_object_put(m.from);
    json_object_put(m.unkeyed);
    json_object_put(m.w_seen);
    return rc;
}
