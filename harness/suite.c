/* harness/suite.c — suite.yaml → struct xb_suite (harness/suite.h).
 *
 * libyaml loads the file into a node tree (every node keeps its start/end mark), then the
 * keys are read through the TABLES of harness/suite_keys.c (redis static_configs[] style: one
 * row per key with type, bounds, default, destination and help). The same rows fill the
 * defaults, validate values, write the canonical dump and generate the README's "Suite keys"
 * section, so the four cannot disagree. After the keys: cross-key checks (dim vs heads,
 * max_reps vs min_reps) and each mixer's and task's own check() at every configured length.
 *
 * Errors go through harness/diag.c, sorted by position: `file:line:col: key.path: message`,
 * then the line and a caret (libyaml marks are 0-based: +1). All errors of a file are
 * reported in one run (up to MAX_ERRORS). */
#include "harness/suite.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "core/rng.h"
#include "core/xb.h"
#include "harness/diag.h"
#include "harness/suite_keys.h"
#include "mixers/registry.h"
#include "tasks/registry.h"

#define MAX_ERRORS 50
#define MAX_AXES 8           /* sweep axes of one task */
#define MAX_EXPANSION 4096   /* configurations one task item may expand into */

/* ------------------------------------------------------------------------------------------
 * Loader state */

typedef struct task_where {
    int src;                           /* index of the item in tasks: (one item expands into
                                          one task per combination of its axes) */
    yaml_node_t *item, *name, *lengths, *options;
    yaml_node_t *model[N_MODEL], *train[N_TRAIN];
} task_where;

typedef struct ctx {
    xb_diag d;
    yaml_document_t doc;
    xb_suite *s;
    yaml_node_t *root;
    yaml_node_t *top[N_TOP];           /* value node of each top key, if given */
    yaml_node_t *model[N_MODEL], *train[N_TRAIN], *latency[N_LAT], *limits[N_LIMITS];
    yaml_node_t **mixer_node;          /* per selected mixer: where it was named */
    xb_mixer_cfg *opt_cfg;             /* per registry mixer: options from mixer_options */
    yaml_node_t **opt_node;            /* per registry mixer: its mixer_options entry */
    task_where *tw;                    /* per task */
    const xb_mixer *const *mixers;     /* the registries (NULL-terminated) */
    int n_mixers;
    const xb_task *const *tasks;
    int n_tasks;
    xb_model_cfg model_cfg;            /* suite model: (tasks start from it) */
    xb_train_cfg train_cfg;            /* suite train: */
    /* Sweep axes of the task item being read: a list given where one value goes (a task's
     * option, model: or train: key) stands for each of its items in turn. */
    int n_axes;
    yaml_node_t *axis[MAX_AXES];
    const char *axis_key[MAX_AXES];
    int axis_pick[MAX_AXES];
    int quiet;                         /* drop errors: a repeated read of what was reported */
} ctx;

static yaml_node_t *node_of(ctx *c, int id) { return yaml_document_get_node(&c->doc, id); }

static void mark_of(const yaml_node_t *n, int *line, int *col, int *span)
{
    *line = (int)n->start_mark.line + 1;
    *col = (int)n->start_mark.column + 1;
    *span = 1;
    if (n->type == YAML_SCALAR_NODE && n->end_mark.line == n->start_mark.line &&
        n->end_mark.column > n->start_mark.column)
        *span = (int)(n->end_mark.column - n->start_mark.column);
}

__attribute__((format(printf, 4, 5)))
static void err(ctx *c, const yaml_node_t *n, const char *path, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = 1, col = 1, span = 1;
    if (n) mark_of(n, &line, &col, &span);
    if (c->d.n_errors == MAX_ERRORS) {
        c->d.n_errors++;
        return;
    }
    if (c->d.n_errors > MAX_ERRORS || c->quiet) return;
    xb_diag_error(&c->d, line, col, span, path, "%s", msg);
}

static void join(char *out, size_t n, const char *path, const char *k)
{
    int w = *path ? snprintf(out, n, "%s.%s", path, k) : snprintf(out, n, "%s", k);
    if (w < 0 || (size_t)w >= n) out[n - 1] = '\0';
}

static void index_path(char *out, size_t n, const char *path, int i)
{
    int w = snprintf(out, n, "%s[%d]", path, i);
    if (w < 0 || (size_t)w >= n) out[n - 1] = '\0';
}

static const char *scalar(const yaml_node_t *n) { return (const char *)n->data.scalar.value; }

static int is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE) return 0;
    const char *t = scalar(n);
    return !*t || !strcmp(t, "~") || !strcmp(t, "null") || !strcmp(t, "Null") || !strcmp(t, "NULL");
}

static int is_quoted(const yaml_node_t *n)
{
    return n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE;
}

/* What a node is, for "got ..." (a scalar is quoted back). */
static void got(char *buf, size_t n, const yaml_node_t *v)
{
    if (v->type == YAML_MAPPING_NODE) snprintf(buf, n, "a mapping");
    else if (v->type == YAML_SEQUENCE_NODE) snprintf(buf, n, "a list");
    else if (is_null(v)) snprintf(buf, n, "nothing");
    else if (is_quoted(v)) snprintf(buf, n, "the string '%.200s'", scalar(v));
    else snprintf(buf, n, "'%.200s'", scalar(v));
}

static void describe_range(char *buf, size_t n, int is_int, double min, double max)
{
    const char *what = is_int ? "integer" : "number";
    if (max >= BIG / 10 || (is_int && max >= INT_MAX)) {
        if (min == 1 && is_int) snprintf(buf, n, "a positive integer");
        else if (!is_int && min > 0 && min < 1e-20) snprintf(buf, n, "a positive number");
        else if (min == 0) snprintf(buf, n, "a non-negative %s", what);
        else snprintf(buf, n, "a %s >= %.17g", what, min);
    } else {
        snprintf(buf, n, "a%s %s between %.17g and %.17g", is_int ? "n" : "", what, min, max);
    }
}

/* A number within [min, max]; integers must be written as whole decimals. */
static int get_number(ctx *c, const yaml_node_t *v, const char *path, int is_int, double min,
                      double max, double *out)
{
    char want[128], g[256];
    describe_range(want, sizeof want, is_int, min, max);
    if (v->type != YAML_SCALAR_NODE || is_null(v) || is_quoted(v)) goto bad;
    const char *t = scalar(v);
    char *end;
    errno = 0;
    double x;
    if (is_int) {
        long long i = strtoll(t, &end, 10);
        if (end == t || *end || errno) goto bad;
        x = (double)i;
    } else {
        x = strtod(t, &end);
        if (end == t || *end || errno || !isfinite(x)) goto bad;
    }
    if (x < min || x > max) goto bad;
    *out = x;
    return 0;
bad:
    got(g, sizeof g, v);
    err(c, v, path, "expected %s, got %s", want, g);
    return -1;
}

/* A name among names[] (NULL-terminated); its index. */
static int get_enum(ctx *c, const yaml_node_t *v, const char *path, const char *const *names, int *out)
{
    int n = 0;
    while (names[n]) n++;
    if (v->type == YAML_SCALAR_NODE && !is_null(v))
        for (int i = 0; i < n; i++)
            if (!strcmp(scalar(v), names[i])) {
                *out = i;
                return 0;
            }
    char list[512], g[256];
    xb_closest_list(list, sizeof list, v->type == YAML_SCALAR_NODE ? scalar(v) : "", names, n);
    got(g, sizeof g, v);
    err(c, v, path, "expected one of %s, got %s", list, g);
    return -1;
}

/* "unknown <what> 'k'" at the key, with the valid names (closest first) as a note. */
static void unknown(ctx *c, const yaml_node_t *k, const char *path, const char *what,
                    const char *plural, const char *const *names, int n)
{
    char list[2048];
    err(c, k, path, "unknown %s '%s'", what, scalar(k));
    if (c->d.n_errors > MAX_ERRORS) return;
    if (n == 0) {
        xb_diag_note(&c->d, "no %s are registered", plural);
        return;
    }
    xb_closest_list(list, sizeof list, scalar(k), names, n);
    xb_diag_note(&c->d, "valid %s, closest first: %s", plural, list);
}

/* Check a mapping: keys are plain scalars, none repeated. Returns 0 if it is a mapping. */
static int check_mapping(ctx *c, yaml_node_t *n, const char *path)
{
    if (n->type != YAML_MAPPING_NODE) {
        char g[256];
        got(g, sizeof g, n);
        err(c, n, path, "expected a mapping, got %s", g);
        return -1;
    }
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_of(c, p->key);
        if (k->type != YAML_SCALAR_NODE) {
            err(c, k, path, "keys must be names");
            continue;
        }
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *k2 = node_of(c, q->key);
            if (k2->type == YAML_SCALAR_NODE && !strcmp(scalar(k2), scalar(k))) {
                char kp[256];
                join(kp, sizeof kp, path, scalar(k));
                err(c, k, kp, "duplicate key '%s' (first at line %d)", scalar(k),
                    (int)k2->start_mark.line + 1);
                break;
            }
        }
    }
    return 0;
}

/* A list of distinct positive ints (or one int where `single_ok`). malloc'd into *out. */
static int get_int_list(ctx *c, const yaml_node_t *v, const char *path, double min, double max,
                        int single_ok, int **out, int *n_out)
{
    if (v->type == YAML_SCALAR_NODE && single_ok) {
        double x;
        if (get_number(c, v, path, 1, min, max, &x)) return -1;
        int *a = malloc(sizeof *a);
        if (!a) return XB_ENOMEM;
        a[0] = (int)x;
        free(*out);
        *out = a;
        *n_out = 1;
        return 0;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        char g[256], want[128];
        describe_range(want, sizeof want, 1, min, max);
        got(g, sizeof g, v);
        err(c, v, path, "expected a list of %ss, got %s",
            strncmp(want, "a ", 2) ? want + 3 : want + 2, g);
        return -1;
    }
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    int *a = malloc((size_t)(n ? n : 1) * sizeof *a), bad = 0;
    if (!a) return XB_ENOMEM;
    for (int i = 0; i < n; i++) {
        yaml_node_t *e = node_of(c, v->data.sequence.items.start[i]);
        char p[256];
        double x;
        index_path(p, sizeof p, path, i);
        if (get_number(c, e, p, 1, min, max, &x)) {
            bad = 1;
            continue;
        }
        a[i] = (int)x;
        for (int j = 0; j < i; j++)
            if (a[j] == a[i]) {
                err(c, e, p, "%d is listed twice", a[i]);
                bad = 1;
                break;
            }
    }
    if (bad) {
        free(a);
        return -1;
    }
    free(*out);
    *out = a;
    *n_out = n;
    return 0;
}


/* The item an axis stands for in the current combination; any other node as it is. */
static const yaml_node_t *pick(ctx *c, const yaml_node_t *v)
{
    for (int a = 0; a < c->n_axes; a++)
        if (c->axis[a] == v) return node_of(c, v->data.sequence.items.start[c->axis_pick[a]]);
    return v;
}

static int is_scalar_key(const xb_suite_key *k) { return k->type != K_LENGTHS; }

static void set_value(ctx *c, const yaml_node_t *v, const char *path, const xb_suite_key *k, void *base)
{
    char *b = base;
    if (is_scalar_key(k)) {
        if (v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top == v->data.sequence.items.start)
            return;                    /* an empty axis: find_axes_in reported it */
        if (v->type == YAML_SEQUENCE_NODE && pick(c, v) == v) {
            err(c, v, path, "a list here would be a sweep axis, which only a task's options:, "
                "model: and train: can hold (one task per value); give one value");
            return;
        }
        v = pick(c, v);
    }
    double x;
    int e;
    switch (k->type) {
    case K_INT:
        if (!get_number(c, v, path, 1, k->min, k->max, &x)) *(int *)(b + k->off) = (int)x;
        break;
    case K_LONG:
        if (!get_number(c, v, path, 1, k->min, k->max, &x)) *(long *)(b + k->off) = (long)x;
        break;
    case K_FLOAT:
        if (!get_number(c, v, path, 0, k->min, k->max, &x)) *(float *)(b + k->off) = (float)x;
        break;
    case K_DOUBLE:
        if (!get_number(c, v, path, 0, k->min, k->max, &x)) *(double *)(b + k->off) = x;
        break;
    case K_ENUM:
        if (!get_enum(c, v, path, k->names, &e)) *(int *)(b + k->off) = e;
        break;
    case K_LENGTHS:
        get_int_list(c, v, path, k->min, k->max, 0, (int **)(b + k->off), (int *)(b + k->off_n));
        break;
    }
}

/* Read a mapping of table keys into base; where[i] = the value node of key i. */
static void read_section(ctx *c, yaml_node_t *n, const char *path, const xb_suite_key *tab, int nk,
                         void *base, yaml_node_t **where)
{
    if (!n || is_null(n) || check_mapping(c, n, path)) return;
    const char *names[32];
    for (int i = 0; i < nk; i++) names[i] = tab[i].name;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_of(c, p->key), *v = node_of(c, p->value);
        if (k->type != YAML_SCALAR_NODE) continue;
        char kp[256];
        join(kp, sizeof kp, path, scalar(k));
        int i = 0;
        while (i < nk && strcmp(tab[i].name, scalar(k))) i++;
        if (i == nk) {
            unknown(c, k, kp, "key", "keys", names, nk);
            continue;
        }
        set_value(c, v, kp, &tab[i], base);
        if (where) where[i] = v;
    }
}

/* ------------------------------------------------------------------------------------------
 * The parts of the suite */

static int is_name_char(int ch) { return isalnum(ch) || ch == '_' || ch == '-' || ch == '.'; }

static char *default_name(const char *file)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".yaml")) n -= 5;
    else if (n > 4 && !strcmp(b + n - 4, ".yml")) n -= 4;
    char *s = malloc(n + 2);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) s[i] = is_name_char((unsigned char)b[i]) ? b[i] : '_';
    s[n] = '\0';
    if (n == 0 || s[0] == '.') {
        free(s);
        s = strdup("suite");
    }
    return s;
}

static void read_name(ctx *c, yaml_node_t *v)
{
    if (!v) return;
    char g[256];
    if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
        const char *t = scalar(v);
        int ok = t[0] && t[0] != '.' && strlen(t) <= 128;
        for (const char *p = t; ok && *p; p++) ok = is_name_char((unsigned char)*p);
        if (ok) {
            free(c->s->name);
            c->s->name = strdup(t);
            return;
        }
    }
    got(g, sizeof g, v);
    err(c, v, "name", "expected a run name of letters, digits, '.', '_' and '-' "
        "(not starting with '.'), got %s", g);
}

static void read_seeds(ctx *c)
{
    yaml_node_t *one = c->top[1], *many = c->top[2];
    xb_suite *s = c->s;
    if (one && many) {
        err(c, many, "seeds", "give either 'seed' or 'seeds', not both");
        return;
    }
    int n = 1;
    if (many) {
        if (many->type != YAML_SEQUENCE_NODE) {
            char g[256];
            got(g, sizeof g, many);
            err(c, many, "seeds", "expected a list of non-negative integers, got %s", g);
            return;
        }
        n = (int)(many->data.sequence.items.top - many->data.sequence.items.start);
        if (n == 0) {
            err(c, many, "seeds", "expected at least one seed");
            return;
        }
    }
    uint64_t *a = malloc((size_t)n * sizeof *a);
    if (!a) return;
    a[0] = 1234;
    int bad = 0;
    for (int i = 0; i < n && (one || many); i++) {
        yaml_node_t *v = one ? one : node_of(c, many->data.sequence.items.start[i]);
        char p[64];
        if (one) snprintf(p, sizeof p, "seed");
        else snprintf(p, sizeof p, "seeds[%d]", i);
        const char *t = v->type == YAML_SCALAR_NODE && !is_quoted(v) ? scalar(v) : "";
        char *end;
        errno = 0;
        unsigned long long x = strtoull(t, &end, 10);
        if (!isdigit((unsigned char)t[0]) || *end || errno) {
            char g[256];
            got(g, sizeof g, v);
            err(c, v, p, "expected a non-negative integer below 2^64, got %s", g);
            bad = 1;
            continue;
        }
        a[i] = x;
        for (int j = 0; j < i; j++)
            if (a[j] == a[i]) {
                err(c, v, p, "seed %llu is listed twice", x);
                bad = 1;
            }
    }
    if (bad) {
        free(a);
        return;
    }
    free(s->seeds);
    s->seeds = a;
    s->n_seeds = n;
}



static int registry_index(const ctx *c, const xb_mixer *m)
{
    for (int i = 0; i < c->n_mixers; i++)
        if (c->mixers[i] == m) return i;
    return -1;
}

static const xb_mixer *find_mixer(const ctx *c, const char *name)
{
    for (int i = 0; i < c->n_mixers; i++)
        if (!strcmp(c->mixers[i]->name, name)) return c->mixers[i];
    return NULL;
}

static const xb_task *find_task(const ctx *c, const char *name)
{
    for (int i = 0; i < c->n_tasks; i++)
        if (!strcmp(c->tasks[i]->name, name)) return c->tasks[i];
    return NULL;
}

static void read_mixers(ctx *c)
{
    xb_suite *s = c->s;
    yaml_node_t *v = c->top[8];
    const char *names[256];
    int nr = c->n_mixers < 256 ? c->n_mixers : 256;
    for (int i = 0; i < nr; i++) names[i] = c->mixers[i]->name;
    int all = !v || (v->type == YAML_SCALAR_NODE && !is_quoted(v) && !strcmp(scalar(v), "all"));
    int n = all ? nr : 0;
    if (!all && v->type != YAML_SEQUENCE_NODE) {
        char g[256];
        got(g, sizeof g, v);
        err(c, v, "mixers", "expected a list of mixer names or 'all', got %s", g);
        return;
    }
    if (!all) n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    s->mixers = calloc((size_t)(n ? n : 1), sizeof *s->mixers);
    s->mixer_cfg = calloc((size_t)(n ? n : 1), sizeof *s->mixer_cfg);
    c->mixer_node = calloc((size_t)(n ? n : 1), sizeof *c->mixer_node);
    if (!s->mixers || !s->mixer_cfg || !c->mixer_node) return;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (all) {
            c->mixer_node[k] = v ? v : c->root;
            s->mixers[k++] = c->mixers[i];
            continue;
        }
        yaml_node_t *e = node_of(c, v->data.sequence.items.start[i]);
        char p[64];
        snprintf(p, sizeof p, "mixers[%d]", i);
        if (e->type != YAML_SCALAR_NODE || is_null(e)) {
            char g[256];
            got(g, sizeof g, e);
            err(c, e, p, "expected a mixer name, got %s", g);
            continue;
        }
        const xb_mixer *m = find_mixer(c, scalar(e));
        if (!m) {
            unknown(c, e, p, "mixer", "mixers", names, nr);
            continue;
        }
        int dup = 0;
        for (int j = 0; j < k; j++) dup |= s->mixers[j] == m;
        if (dup) {
            err(c, e, p, "mixer '%s' is listed twice", m->name);
            continue;
        }
        c->mixer_node[k] = e;
        s->mixers[k++] = m;
    }
    s->n_mixers = k;
}

static void read_mixer_options(ctx *c)
{
    yaml_node_t *v = c->top[9];
    if (!v || is_null(v) || check_mapping(c, v, "mixer_options")) return;
    const char *names[256];
    int nr = c->n_mixers < 256 ? c->n_mixers : 256;
    for (int i = 0; i < nr; i++) names[i] = c->mixers[i]->name;
    for (yaml_node_pair_t *p = v->data.mapping.pairs.start; p < v->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_of(c, p->key), *o = node_of(c, p->value);
        if (k->type != YAML_SCALAR_NODE) continue;
        char mp[256];
        join(mp, sizeof mp, "mixer_options", scalar(k));
        const xb_mixer *m = find_mixer(c, scalar(k));
        if (!m) {
            unknown(c, k, mp, "mixer", "mixers", names, nr);
            continue;
        }
        int r = registry_index(c, m);
        c->opt_node[r] = k;
        if (is_null(o) || check_mapping(c, o, mp)) continue;
        char buf[256];
        const char *valid[N_MIXER_OPTS];
        int nv = xb_suite_mixer_options_of(m, buf, valid);
        for (yaml_node_pair_t *q = o->data.mapping.pairs.start; q < o->data.mapping.pairs.top; q++) {
            yaml_node_t *ok = node_of(c, q->key), *ov = node_of(c, q->value);
            if (ok->type != YAML_SCALAR_NODE) continue;
            char op[256];
            join(op, sizeof op, mp, scalar(ok));
            int accepted = 0;
            for (int j = 0; j < nv; j++) accepted |= !strcmp(valid[j], scalar(ok));
            int f = xb_suite_mixer_opt_find(scalar(ok));
            if (!accepted || f < 0) {
                err(c, ok, op, "unknown option '%s' for mixer '%s'", scalar(ok), m->name);
                if (c->d.n_errors > MAX_ERRORS) continue;
                if (nv == 0) {
                    xb_diag_note(&c->d, "mixer '%s' takes no options", m->name);
                } else {
                    char list[512];
                    xb_closest_list(list, sizeof list, scalar(ok), valid, nv);
                    xb_diag_note(&c->d, "options of '%s', closest first: %s", m->name, list);
                }
                continue;
            }
            const xb_suite_mixer_opt *mo = &xb_suite_mixer_opts[f];
            double x;
            char *dst = (char *)&c->opt_cfg[r] + mo->off;
            if (mo->is_float) {
                if (!get_number(c, ov, op, 0, mo->min, BIG, &x)) *(float *)dst = (float)x;
            } else if (!get_number(c, ov, op, 1, mo->min, INT_MAX, &x)) {
                *(int *)dst = (int)x;
            }
        }
    }
}

/* tasks[i].mixers: `all`, `supported` (the suite's mixers that have the task's mode) or a
 * list of the suite's mixer names. Leaves st->use NULL for `all`. */
static void read_task_mixers(ctx *c, yaml_node_t *v, const char *path, xb_suite_task *st)
{
    xb_suite *s = c->s;
    if (v->type == YAML_SCALAR_NODE && !is_quoted(v) && !strcmp(scalar(v), "all")) return;
    st->use = calloc((size_t)(s->n_mixers ? s->n_mixers : 1), 1);
    if (!st->use) return;
    if (v->type == YAML_SCALAR_NODE && !is_quoted(v) && !strcmp(scalar(v), "supported")) {
        unsigned need = st->causal ? XB_CAUSAL : XB_BIDIR;
        for (int i = 0; i < s->n_mixers; i++) st->use[i] = (s->mixers[i]->modes & need) != 0;
        return;
    }
    if (v->type != YAML_SEQUENCE_NODE) {
        char g[256];
        got(g, sizeof g, v);
        err(c, v, path, "expected a list of the suite's mixers, 'all' or 'supported', got %s", g);
        return;
    }
    const char *names[256];
    int nm = s->n_mixers < 256 ? s->n_mixers : 256;
    for (int i = 0; i < nm; i++) names[i] = s->mixers[i]->name;
    int k = 0;
    for (yaml_node_item_t *it = v->data.sequence.items.start; it < v->data.sequence.items.top; it++, k++) {
        yaml_node_t *e = node_of(c, *it);
        char ep[300];
        snprintf(ep, sizeof ep, "%.256s[%d]", path, k);
        int j = 0;
        if (e->type == YAML_SCALAR_NODE)
            while (j < nm && strcmp(names[j], scalar(e))) j++;
        if (e->type != YAML_SCALAR_NODE || j == nm) {
            if (e->type == YAML_SCALAR_NODE) unknown(c, e, ep, "mixer of this suite", "mixers of this suite", names, nm);
            else err(c, e, ep, "expected a mixer name");
            continue;
        }
        st->use[j] = 1;
    }
}

static void read_task(ctx *c, yaml_node_t *item, int i, int dst, xb_suite_task *st)
{
    xb_suite *s = c->s;
    task_where *w = &c->tw[dst];
    char path[64];
    snprintf(path, sizeof path, "tasks[%d]", i);
    w->src = i;
    w->item = item;
    st->model = c->model_cfg;        /* the task's model: and train: override these */
    st->train = c->train_cfg;
    yaml_node_t *name = NULL, *lengths = NULL, *options = NULL, *model = NULL, *train = NULL,
                *mode = NULL, *data_dir = NULL, *mixers = NULL;
    if (item->type == YAML_SCALAR_NODE && !is_null(item)) {
        name = item;   /* `- mqar` is short for `- {name: mqar}` */
    } else if (item->type == YAML_MAPPING_NODE) {
        check_mapping(c, item, path);
        const char *names[N_TASKKEYS];
        for (int k = 0; k < N_TASKKEYS; k++) names[k] = xb_suite_task_keys[k].name;
        for (yaml_node_pair_t *p = item->data.mapping.pairs.start; p < item->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node_of(c, p->key), *v = node_of(c, p->value);
            if (k->type != YAML_SCALAR_NODE) continue;
            const char *t = scalar(k);
            if (!strcmp(t, "name")) name = v;
            else if (!strcmp(t, "lengths")) lengths = v;
            else if (!strcmp(t, "options")) options = v;
            else if (!strcmp(t, "model")) model = v;
            else if (!strcmp(t, "train")) train = v;
            else if (!strcmp(t, "mode")) mode = v;
            else if (!strcmp(t, "data_dir")) data_dir = v;
            else if (!strcmp(t, "mixers")) mixers = v;
            else {
                char kp[256];
                join(kp, sizeof kp, path, t);
                unknown(c, k, kp, "key", "keys", names, N_TASKKEYS);
            }
        }
        if (!name) err(c, item, path, "missing 'name': which task?");
    } else {
        char g[256];
        got(g, sizeof g, item);
        err(c, item, path, "expected a task (a mapping with 'name:', or a task name), got %s", g);
    }

    st->causal = -1;
    w->name = name;
    w->lengths = lengths;
    w->options = options;

    char p[256];
    if (name) {
        join(p, sizeof p, path, "name");
        if (name->type != YAML_SCALAR_NODE || is_null(name)) {
            char g[256];
            got(g, sizeof g, name);
            err(c, name, p, "expected a task name, got %s", g);
        } else if (!(st->task = find_task(c, scalar(name)))) {
            const char *names[256];
            int nt = c->n_tasks < 256 ? c->n_tasks : 256;
            for (int k = 0; k < nt; k++) names[k] = c->tasks[k]->name;
            unknown(c, name, p, "task", "tasks", names, nt);
        }
    }
    st->lengths = malloc(sizeof xb_suite_task_lengths_def);
    if (st->lengths) {
        memcpy(st->lengths, xb_suite_task_lengths_def, sizeof xb_suite_task_lengths_def);
        st->n_lengths = (int)(sizeof xb_suite_task_lengths_def / sizeof *xb_suite_task_lengths_def);
    }
    if (lengths) {
        join(p, sizeof p, path, "lengths");
        get_int_list(c, lengths, p, 1, INT_MAX, 0, &st->lengths, &st->n_lengths);
        if (lengths->type == YAML_SEQUENCE_NODE && st->n_lengths == 0 &&
            lengths->data.sequence.items.top == lengths->data.sequence.items.start)
            err(c, lengths, p, "expected at least one length");
    }
    if (model) {
        join(p, sizeof p, path, "model");
        read_section(c, model, p, xb_suite_model_keys, N_MODEL, &st->model, w->model);
    }
    if (train) {
        join(p, sizeof p, path, "train");
        read_section(c, train, p, xb_suite_train_keys, N_TRAIN, &st->train, w->train);
    }
    if (mode) {
        int e;
        join(p, sizeof p, path, "mode");
        if (!get_enum(c, mode, p, xb_suite_mode_names, &e)) st->causal = e;
    }
    if (data_dir && !is_null(data_dir)) {
        join(p, sizeof p, path, "data_dir");
        if (data_dir->type != YAML_SCALAR_NODE) {
            char g[256];
            got(g, sizeof g, data_dir);
            err(c, data_dir, p, "expected a folder path or ~, got %s", g);
        } else {
            st->data_dir = strdup(scalar(data_dir));
        }
    }
    if (!st->task) return;
    const xb_task *t = st->task;
    if (st->causal < 0) st->causal = t->shape == XB_SHAPE_TOK;
    if (mixers && !is_null(mixers)) {
        join(p, sizeof p, path, "mixers");
        read_task_mixers(c, mixers, p, st);
    }
    memset(&st->cfg, 0, sizeof st->cfg);   /* = xb_task_cfg_defaults, without needing core/task.c */
    for (int j = 0; j < t->n_opts && j < XB_TASK_MAX_OPTS; j++) st->cfg.opt[j] = t->opts[j].def;
    st->cfg.seed = s->n_seeds ? s->seeds[0] : 0;
    st->cfg.data_dir = st->data_dir;
    st->cfg.L = st->n_lengths ? st->lengths[0] : 0;
    if (st->causal < 0) st->causal = t->shape == XB_SHAPE_TOK;
    join(p, sizeof p, path, "options");
    if (!options || is_null(options) || check_mapping(c, options, p)) return;
    const char *onames[XB_TASK_MAX_OPTS];
    for (int k = 0; k < t->n_opts; k++) onames[k] = t->opts[k].name;
    for (yaml_node_pair_t *q = options->data.mapping.pairs.start; q < options->data.mapping.pairs.top; q++) {
        yaml_node_t *k = node_of(c, q->key), *v = node_of(c, q->value);
        if (k->type != YAML_SCALAR_NODE) continue;
        char op[256];
        join(op, sizeof op, p, scalar(k));
        int j = 0;
        while (j < t->n_opts && strcmp(t->opts[j].name, scalar(k))) j++;
        if (j == t->n_opts) {
            err(c, k, op, "unknown option '%s' for task '%s'", scalar(k), t->name);
            if (c->d.n_errors > MAX_ERRORS) continue;
            if (t->n_opts == 0) {
                xb_diag_note(&c->d, "task '%s' takes no options", t->name);
            } else {
                char list[1024];
                xb_closest_list(list, sizeof list, scalar(k), onames, t->n_opts);
                xb_diag_note(&c->d, "options of '%s', closest first: %s", t->name, list);
            }
            continue;
        }
        double x;
        const xb_opt *o = &t->opts[j];
        if (v->type == YAML_SEQUENCE_NODE && v->data.sequence.items.top == v->data.sequence.items.start)
            continue;                  /* an empty axis: find_axes_in reported it */
        v = (yaml_node_t *)pick(c, v);
        if (!get_number(c, v, op, o->is_int, o->min, o->max, &x)) st->cfg.opt[j] = x;
    }
}

/* The value node of key `key` in mapping m, or NULL. */
static yaml_node_t *map_get(ctx *c, yaml_node_t *m, const char *key)
{
    if (!m || m->type != YAML_MAPPING_NODE) return NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_of(c, p->key);
        if (k->type == YAML_SCALAR_NODE && strcmp(scalar(k), key) == 0) return node_of(c, p->value);
    }
    return NULL;
}

/* Register the lists of section `sec` (options, model or train) of a task item as axes. For
 * model: and train: only keys that take one value count; options: are all single values.
 * Every item of an axis is checked here, so each error is reported once. */
static void find_axes_in(ctx *c, yaml_node_t *item, const char *sec, int i, long *combos)
{
    yaml_node_t *m = map_get(c, item, sec);
    if (!m || m->type != YAML_MAPPING_NODE) return;
    const xb_suite_key *tab = !strcmp(sec, "model") ? xb_suite_model_keys
                            : !strcmp(sec, "train") ? xb_suite_train_keys : NULL;
    int nk = !strcmp(sec, "model") ? N_MODEL : N_TRAIN;
    yaml_node_t *name = item->type == YAML_MAPPING_NODE ? map_get(c, item, "name") : NULL;
    const xb_task *t = name && name->type == YAML_SCALAR_NODE ? find_task(c, scalar(name)) : NULL;
    for (yaml_node_pair_t *p = m->data.mapping.pairs.start; p < m->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_of(c, p->key), *v = node_of(c, p->value);
        if (k->type != YAML_SCALAR_NODE || v->type != YAML_SEQUENCE_NODE) continue;
        const xb_suite_key *key = NULL;
        const xb_opt *opt = NULL;
        if (tab) {
            for (int j = 0; j < nk && !key; j++)
                if (!strcmp(tab[j].name, scalar(k))) key = &tab[j];
            if (!key || !is_scalar_key(key)) continue;    /* unknown keys: reported later */
        } else if (t) {
            for (int j = 0; j < t->n_opts && !opt; j++)
                if (!strcmp(t->opts[j].name, scalar(k))) opt = &t->opts[j];
            if (!opt) continue;
        } else {
            continue;
        }
        char path[256];
        snprintf(path, sizeof path, "tasks[%d].%s.%s", i, sec, scalar(k));
        int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
        if (n == 0) {
            err(c, v, path, "an empty list: a sweep axis needs at least one value");
            continue;
        }
        if (c->n_axes == MAX_AXES) {
            err(c, v, path, "more than %d sweep axes in one task", MAX_AXES);
            continue;
        }
        for (int j = 0; j < n; j++) {
            yaml_node_t *e = node_of(c, v->data.sequence.items.start[j]);
            char ep[280];
            index_path(ep, sizeof ep, path, j);
            double x;
            if (e->type == YAML_SEQUENCE_NODE) {
                err(c, e, ep, "a list inside a sweep axis: give one value per item");
                continue;
            }
            if (opt) {
                get_number(c, e, ep, opt->is_int, opt->min, opt->max, &x);
            } else {
                union { xb_model_cfg m; xb_train_cfg t; } scratch;
                memset(&scratch, 0, sizeof scratch);
                set_value(c, e, ep, key, &scratch);
            }
        }
        c->axis[c->n_axes] = v;
        c->axis_key[c->n_axes] = scalar(k);
        c->n_axes++;
        if (*combos <= MAX_EXPANSION) *combos *= n;
        if (*combos > MAX_EXPANSION) {
            err(c, v, path, "the sweep axes of this task make more than %d configurations",
                MAX_EXPANSION);
            *combos = MAX_EXPANSION + 1;
        }
    }
}

/* "kv_pairs=8 lr=0.003": the axis values of the current combination. */
static char *axis_label(ctx *c)
{
    if (c->n_axes == 0) return NULL;
    char buf[512] = "";
    for (int a = 0; a < c->n_axes; a++) {
        const yaml_node_t *v = pick(c, c->axis[a]);
        size_t k = strlen(buf);
        snprintf(buf + k, sizeof buf - k, "%s%s=%s", k ? " " : "", c->axis_key[a],
                 v->type == YAML_SCALAR_NODE ? scalar(v) : "?");
    }
    return strdup(buf);
}

static void read_tasks(ctx *c)
{
    xb_suite *s = c->s;
    yaml_node_t *v = c->top[10];
    if (!v || is_null(v)) return;
    if (v->type != YAML_SEQUENCE_NODE) {
        char g[256];
        got(g, sizeof g, v);
        err(c, v, "tasks", "expected a list of tasks, got %s", g);
        return;
    }
    int n = (int)(v->data.sequence.items.top - v->data.sequence.items.start);
    /* Each item expands into one task per combination of its axes. */
    long *combos = malloc((size_t)(n ? n : 1) * sizeof *combos);
    if (!combos) return;
    long total = 0;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = node_of(c, v->data.sequence.items.start[i]);
        c->n_axes = 0;
        combos[i] = 1;
        if (item->type == YAML_MAPPING_NODE) {
            find_axes_in(c, item, "options", i, &combos[i]);
            find_axes_in(c, item, "model", i, &combos[i]);
            find_axes_in(c, item, "train", i, &combos[i]);
        }
        if (combos[i] > MAX_EXPANSION) combos[i] = 1;
        total += combos[i];
    }
    s->tasks = calloc((size_t)(total ? total : 1), sizeof *s->tasks);
    c->tw = calloc((size_t)(total ? total : 1), sizeof *c->tw);
    if (!s->tasks || !c->tw) {
        free(combos);
        return;
    }
    int dst = 0;
    for (int i = 0; i < n; i++) {
        yaml_node_t *item = node_of(c, v->data.sequence.items.start[i]);
        c->n_axes = 0;
        long dummy = 1;
        int q = c->quiet;
        c->quiet = 1;                  /* the axes again, now without their messages */
        if (item->type == YAML_MAPPING_NODE) {
            find_axes_in(c, item, "options", i, &dummy);
            find_axes_in(c, item, "model", i, &dummy);
            find_axes_in(c, item, "train", i, &dummy);
        }
        c->quiet = q;
        for (long k = 0; k < combos[i]; k++) {
            long r = k;                /* mixed radix, the last axis fastest */
            for (int a = c->n_axes - 1; a >= 0; a--) {
                int len = (int)(c->axis[a]->data.sequence.items.top - c->axis[a]->data.sequence.items.start);
                c->axis_pick[a] = (int)(r % len);
                r /= len;
            }
            c->quiet = q || k > 0;     /* what is not an axis reads the same every time */
            read_task(c, item, i, dst, &s->tasks[dst]);
            xb_suite_task *st = &s->tasks[dst];
            if (!c->tw[dst].lengths && st->task && st->task->length && st->n_lengths == 1) {
                st->lengths[0] = st->task->length(&st->cfg);   /* the task's own length */
                st->cfg.L = st->lengths[0];
            }
            s->tasks[dst].label = axis_label(c);
            dst++;
            s->n_tasks = dst;
        }
        c->quiet = q;
    }
    c->n_axes = 0;
    free(combos);
}

/* ------------------------------------------------------------------------------------------
 * Checks across keys: model shape, latency reps, every mixer and task at every length */


static yaml_node_t *first(yaml_node_t *a, yaml_node_t *b, yaml_node_t *c) { return a ? a : b ? b : c; }

enum { MK_DIM = 0, MK_HEADS = 2 };   /* rows of xb_suite_model_keys[] */

/* dim must be a multiple of heads. `where` holds the value nodes of this scope's model:
 * keys; the error points at heads (or dim) where it was written. Returns 0 if fine. */
static int check_model(ctx *c, const xb_model_cfg *m, yaml_node_t **where, const char *base,
                       yaml_node_t *fallback)
{
    if (m->dim % m->heads == 0) return 0;
    int k = where[MK_HEADS] ? MK_HEADS : where[MK_DIM] ? MK_DIM : -1;
    char p[256];
    join(p, sizeof p, base, k == MK_DIM ? "dim" : "heads");
    err(c, k >= 0 ? where[k] : fallback, k >= 0 ? p : base, "dim %d is not a multiple of heads %d",
        m->dim, m->heads);
    return -1;
}


/* Run mixer i's check() at every length; report the first failure for this (mixer, context)
 * at its mixer_options entry, or where the mixer was named. Unsupported modes are not errors:
 * those cells are recorded as skipped. */
static void check_mixer_at(ctx *c, int i, const xb_model_cfg *mc, int causal, const int *Ns, int n,
                           const char *context)
{
    const xb_mixer *m = c->s->mixers[i];
    if (!m->check || !(m->modes & (causal ? XB_CAUSAL : XB_BIDIR))) return;
    for (int j = 0; j < n; j++) {
        xb_mixer_cfg x = c->s->mixer_cfg[i];
        x.d = mc->dim;
        x.heads = mc->heads;
        x.causal = causal;
        x.n_max = Ns[j];
        x = xb_mixer_resolve(m, &x);
        char e[512] = "";
        if (m->check(&x, e, sizeof e) == 0) continue;
        int r = registry_index(c, m);
        yaml_node_t *at = r >= 0 && c->opt_node[r] ? c->opt_node[r] : c->mixer_node[i];
        char p[256];
        if (r >= 0 && c->opt_node[r]) join(p, sizeof p, "mixer_options", m->name);
        else if (c->top[8] && c->top[8]->type == YAML_SEQUENCE_NODE) index_path(p, sizeof p, "mixers", i);
        else snprintf(p, sizeof p, "mixers");
        err(c, at, p, "mixer '%s' rejects %s at length %d (%s): %s", m->name, context, Ns[j],
            xb_suite_mode_word(causal), e[0] ? e : "no reason given");
        return;
    }
}

static void check_all(ctx *c)
{
    xb_suite *s = c->s;
    if (s->latency.max_reps < s->latency.min_reps)
        err(c, first(c->latency[4], c->latency[2], c->top[6] ? c->top[6] : c->root),
            c->latency[4] ? "latency.max_reps" : "latency.min_reps",
            "max_reps %d is below min_reps %d", s->latency.max_reps, s->latency.min_reps);
    int model_ok = check_model(c, &c->model_cfg, c->model, "model", c->top[4] ? c->top[4] : c->root) == 0;
    int item_errs = 0;
    if (model_ok && s->n_mixers && s->mixer_cfg)
        for (int i = 0; i < s->n_mixers; i++)
            check_mixer_at(c, i, &c->model_cfg, s->latency.causal, s->latency.lengths,
                           s->latency.n_lengths, "the latency sweep");
    for (int k = 0; k < s->n_tasks; k++) {
        xb_suite_task *st = &s->tasks[k];
        task_where *w = &c->tw[k];
        /* the expansions of one item that fail alike: the first that fails speaks for all */
        if (k == 0 || c->tw[k - 1].src != w->src) {
            c->quiet = 0;
            item_errs = c->d.n_errors;
        } else if (c->d.n_errors > item_errs) {
            c->quiet = 1;
        }
        char base[64];
        snprintf(base, sizeof base, "tasks[%d].model", w->src);
        int ok = w->model[MK_DIM] || w->model[MK_HEADS]
                     ? check_model(c, &st->model, w->model, base, w->item) == 0 : model_ok;
        if (!st->task) continue;
        if (st->task->check)
            for (int j = 0; j < st->n_lengths; j++) {
                xb_task_cfg tc = st->cfg;
                tc.L = st->lengths[j];
                char e[512] = "";
                if (st->task->check(&tc, e, sizeof e) == 0) continue;
                char p[64];
                yaml_node_t *at = w->item;
                snprintf(p, sizeof p, "tasks[%d]", w->src);
                if (w->lengths && w->lengths->type == YAML_SEQUENCE_NODE) {
                    at = node_of(c, w->lengths->data.sequence.items.start[j]);
                    snprintf(p, sizeof p, "tasks[%d].lengths[%d]", w->src, j);
                }
                err(c, at, p, "task '%s'%s%s%s rejects length %d: %s", st->task->name,
                    st->label ? " (" : "", st->label ? st->label : "", st->label ? ")" : "", tc.L,
                    e[0] ? e : "no reason given");
            }
        if (!ok) continue;
        char context[640];
        snprintf(context, sizeof context, "task '%s'%s%s%s", st->task->name, st->label ? " (" : "",
                 st->label ? st->label : "", st->label ? ")" : "");
        for (int i = 0; i < s->n_mixers; i++)
            if (!st->use || st->use[i])
                check_mixer_at(c, i, &st->model, st->causal, st->lengths, st->n_lengths, context);
    }
    c->quiet = 0;
}

/* ------------------------------------------------------------------------------------------
 * Loading */

static void syntax_error(ctx *c, const yaml_parser_t *p)
{
    if (p->error == YAML_READER_ERROR) {
        xb_diag_error(&c->d, 0, 0, 0, NULL, "byte %zu: %s", p->problem_offset,
                      p->problem ? p->problem : "cannot read the file as UTF-8 text");
        return;
    }
    if (p->error == YAML_MEMORY_ERROR) {
        xb_diag_error(&c->d, 0, 0, 0, NULL, "out of memory while reading YAML");
        return;
    }
    xb_diag_error(&c->d, (int)p->problem_mark.line + 1, (int)p->problem_mark.column + 1, 1, NULL,
                  "YAML syntax error: %s", p->problem ? p->problem : "malformed document");
    if (p->context)
        xb_diag_note(&c->d, "%s at line %d, column %d", p->context, (int)p->context_mark.line + 1,
                     (int)p->context_mark.column + 1);
}

static void read_top(ctx *c)
{
    xb_suite *s = c->s;
    yaml_node_t *r = c->root;
    if (r && !is_null(r) && r->type != YAML_MAPPING_NODE) {
        char g[256];
        got(g, sizeof g, r);
        err(c, r, "", "a suite is a mapping of keys (name:, model:, tasks: ...), got %s", g);
    } else if (r && !is_null(r) && check_mapping(c, r, "") == 0) {
        const char *names[N_TOP];
        for (int i = 0; i < N_TOP; i++) names[i] = xb_suite_top_keys[i].name;
        for (yaml_node_pair_t *p = r->data.mapping.pairs.start; p < r->data.mapping.pairs.top; p++) {
            yaml_node_t *k = node_of(c, p->key);
            if (k->type != YAML_SCALAR_NODE) continue;
            int i = 0;
            while (i < N_TOP && strcmp(xb_suite_top_keys[i].name, scalar(k))) i++;
            if (i == N_TOP) unknown(c, k, scalar(k), "key", "keys", names, N_TOP);
            else if (!c->top[i]) c->top[i] = node_of(c, p->value);
        }
    }
    xb_suite_set_defaults(xb_suite_model_keys, N_MODEL, &c->model_cfg);
    xb_suite_set_defaults(xb_suite_train_keys, N_TRAIN, &c->train_cfg);
    xb_suite_set_defaults(xb_suite_latency_keys, N_LAT, &s->latency);
    xb_suite_set_defaults(xb_suite_limits_keys, N_LIMITS, s);
    s->seeds = malloc(sizeof *s->seeds);
    s->threads = malloc(sizeof *s->threads);
    if (s->seeds) { s->seeds[0] = 1234; s->n_seeds = 1; }
    if (s->threads) { s->threads[0] = 1; s->n_threads = 1; }

    read_name(c, c->top[0]);
    read_seeds(c);
    if (c->top[3]) {
        get_int_list(c, c->top[3], "threads", 1, 4096, 1, &s->threads, &s->n_threads);
        if (s->n_threads == 0) err(c, c->top[3], "threads", "expected at least one thread count");
    }
    read_section(c, c->top[4], "model", xb_suite_model_keys, N_MODEL, &c->model_cfg, c->model);
    read_section(c, c->top[5], "train", xb_suite_train_keys, N_TRAIN, &c->train_cfg, c->train);
    read_section(c, c->top[6], "latency", xb_suite_latency_keys, N_LAT, &s->latency, c->latency);
    read_section(c, c->top[7], "limits", xb_suite_limits_keys, N_LIMITS, s, c->limits);
    read_mixers(c);
    read_mixer_options(c);
    for (int i = 0; i < s->n_mixers && s->mixer_cfg; i++) {
        int r = registry_index(c, s->mixers[i]);
        if (r >= 0) s->mixer_cfg[i] = c->opt_cfg[r];
    }
    for (int r = 0; r < c->n_mixers; r++) {
        int used = 0;
        for (int i = 0; i < s->n_mixers; i++) used |= s->mixers[i] == c->mixers[r];
        if (c->opt_node[r] && !used) {
            int line, col, span;
            mark_of(c->opt_node[r], &line, &col, &span);
            char p[256];
            join(p, sizeof p, "mixer_options", c->mixers[r]->name);
            xb_diag_warning(&c->d, line, col, span, p, "mixer '%s' is not in 'mixers', so these "
                            "options are not used", c->mixers[r]->name);
        }
    }
    read_tasks(c);
}

static int load_text(const char *text, size_t len, const char *file, xb_suite *s, FILE *errf,
                     const xb_mixer *const *mixers, const xb_task *const *tasks)
{
    memset(s, 0, sizeof *s);
    ctx c;
    memset(&c, 0, sizeof c);
    c.s = s;
    c.mixers = mixers;
    c.tasks = tasks;
    while (mixers[c.n_mixers]) c.n_mixers++;
    while (tasks[c.n_tasks]) c.n_tasks++;
    xb_diag_init(&c.d, file, text, len, errf);
    c.d.sorted = 1;
    s->path = strdup(file);
    s->name = default_name(file);
    int nr = c.n_mixers ? c.n_mixers : 1;
    c.opt_cfg = calloc((size_t)nr, sizeof *c.opt_cfg);
    c.opt_node = calloc((size_t)nr, sizeof *c.opt_node);
    if (!s->path || !s->name || !c.opt_cfg || !c.opt_node) {
        free(c.opt_cfg);
        free(c.opt_node);
        xb_suite_release(s);
        return XB_ENOMEM;
    }

    yaml_parser_t parser;
    int loaded = 0;
    if (!yaml_parser_initialize(&parser)) {
        xb_diag_error(&c.d, 0, 0, 0, NULL, "out of memory while reading YAML");
    } else {
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &c.doc)) syntax_error(&c, &parser);
        else loaded = 1;
        yaml_parser_delete(&parser);
    }
    if (loaded) {
        c.root = yaml_document_get_root_node(&c.doc);
        read_top(&c);
        if (c.d.n_errors == 0) check_all(&c);
        if (c.d.n_errors == 0) {
            s->model = c.model_cfg;
            s->train = c.train_cfg;
            s->canonical = xb_suite_canonical(s, &c.model_cfg, &c.train_cfg);
            if (!s->canonical) c.d.n_errors++;
            else s->hash = xb_fnv1a(s->canonical, strlen(s->canonical));
        }
        yaml_document_delete(&c.doc);
    }
    int n_errors = c.d.n_errors;
    xb_diag_flush(&c.d);
    if (n_errors > MAX_ERRORS && errf)
        fprintf(errf, "%s: too many errors; only the first %d are shown\n", file, MAX_ERRORS);
    free(c.opt_cfg);
    free(c.opt_node);
    free(c.mixer_node);
    free(c.tw);
    if (n_errors) {
        xb_suite_release(s);
        return XB_EINVAL;
    }
    return XB_OK;
}

int xb_suite_load_string(const char *text, const char *name, xb_suite *s, FILE *errf)
{
    return load_text(text, strlen(text), name, s, errf, xb_mixers, xb_tasks);
}

int xb_suite_load_with(const char *text, const char *name, xb_suite *s, FILE *errf,
                       const xb_mixer *const *mixers, const xb_task *const *tasks)
{
    return load_text(text, strlen(text), name, s, errf, mixers, tasks);
}

int xb_suite_load(const char *path, xb_suite *s, FILE *errf)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errf) fprintf(errf, "%s: cannot open: %s\n", path, strerror(errno));
        return XB_EIO;
    }
    char *text = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len + 4096 + 1 > cap) {
            cap = cap ? 2 * cap : 8192;
            char *t = realloc(text, cap);
            if (!t) {
                free(text);
                fclose(f);
                return XB_ENOMEM;
            }
            text = t;
        }
        size_t got_n = fread(text + len, 1, cap - len - 1, f);
        len += got_n;
        if (got_n == 0) break;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        if (errf) fprintf(errf, "%s: cannot read: %s\n", path, strerror(errno));
        free(text);
        return XB_EIO;
    }
    text[len] = '\0';
    int rc = load_text(text, len, path, s, errf, xb_mixers, xb_tasks);
    free(text);
    return rc;
}

void xb_suite_release(xb_suite *s)
{
    free(s->path);
    free(s->name);
    free(s->seeds);
    free(s->threads);
    free(s->latency.lengths);
    free(s->mixers);
    free(s->mixer_cfg);
    for (int i = 0; s->tasks && i < s->n_tasks; i++) {
        free(s->tasks[i].lengths);
        free(s->tasks[i].data_dir);
        free(s->tasks[i].label);
        free(s->tasks[i].use);
    }
    free(s->tasks);
    free(s->canonical);
    memset(s, 0, sizeof *s);
}
