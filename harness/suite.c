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
 * reported in one run (up to MAX_ERRORS).
 *
 * A suite may come from anyone, so reading one is bounded and linear in its size: only a
 * regular file of at most MAX_BYTES is read; one pass over libyaml's events (prescan) refuses
 * nesting deeper than MAX_DEPTH, a second document, NUL characters and aliases that expand
 * past MAX_NODES before libyaml builds the tree; duplicate keys and repeated list values are
 * found by hashing and sorting, never by comparing every pair; an item with sweep axes is read
 * once and its other configurations copied from it; and a suite of more than MAX_TASKS tasks,
 * MAX_CELLS task x length configurations or MAX_CELLS cells is refused before the per-cell
 * checks. An empty suite and
 * a suite with nothing to run are errors too. */
#include "harness/suite.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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
#define MAX_BYTES (1L << 20) /* a suite file: 1 MiB */
#define MAX_DEPTH 64         /* mappings and lists inside each other (a suite needs 5) */
#define MAX_NODES 2000000    /* nodes, an alias counting as a copy of what it names */
#define MAX_ANCHORS 1000     /* libyaml's loader looks anchors up one by one: bounded */
#define MAX_ALIASES 10000
#define MAX_DIRECTIVES 16    /* %YAML/%TAG lines: libyaml checks each against all before */
#define MAX_CELLS 20000      /* cells of a suite, and task x length configurations (the sweep
                                keeps each cell's resolved configuration in memory) */
#define MAX_TASKS 10000      /* tasks once the axes are expanded (each is a block of the
                                canonical dump and a column of the tables) */

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
    int axis_sec[MAX_AXES];            /* 0 options:, 1 model:, 2 train: */
    int axis_idx[MAX_AXES];            /* the option's index, or the key's row in its table */
    int quiet;                         /* drop errors: a repeated read of what was reported */
    int last_kept;                     /* the last error was kept: its notes may follow */
} ctx;

/* ------------------------------------------------------------------------------------------
 * A string → long map (open addressing, FNV-1a): duplicate keys and anchors in linear time */

typedef struct strmap {
    struct strmap_slot { const char *k; size_t n; long v; } *slot;
    size_t cap, used;
    int own;                           /* keys are copies, freed with the map */
} strmap;

static void strmap_free(strmap *m)
{
    if (m->own)
        for (size_t i = 0; i < m->cap; i++) free((char *)m->slot[i].k);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* The value of key k[0..n): the one stored (*found = 1), or v, now stored (*found = 0).
 * NULL when out of memory. */
static long *strmap_put(strmap *m, const char *k, size_t n, long v, int *found)
{
    if (2 * (m->used + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 64;
        struct strmap_slot *t = calloc(cap, sizeof *t);
        if (!t) return NULL;
        for (size_t i = 0; i < m->cap; i++) {
            if (!m->slot[i].k) continue;
            size_t j = xb_fnv1a(m->slot[i].k, m->slot[i].n) & (cap - 1);
            while (t[j].k) j = (j + 1) & (cap - 1);
            t[j] = m->slot[i];
        }
        free(m->slot);
        m->slot = t;
        m->cap = cap;
    }
    size_t j = xb_fnv1a(k, n) & (m->cap - 1);
    for (; m->slot[j].k; j = (j + 1) & (m->cap - 1))
        if (m->slot[j].n == n && !memcmp(m->slot[j].k, k, n)) {
            *found = 1;
            return &m->slot[j].v;
        }
    const char *key = k;
    if (m->own) {
        char *copy = malloc(n + 1);
        if (!copy) return NULL;
        memcpy(copy, k, n);
        copy[n] = '\0';
        key = copy;
    }
    m->slot[j] = (struct strmap_slot){key, n, v};
    m->used++;
    *found = 0;
    return &m->slot[j].v;
}

/* Values of a list that repeat an earlier one: flags[i] = 1 (NULL when out of memory).
 * ok[i] = 0 leaves value i out. Sorting, not comparing every pair: lists may be long. */
typedef struct { uint64_t v; int i; } value_at;

static int value_at_cmp(const void *a, const void *b)
{
    const value_at *x = a, *y = b;
    if (x->v != y->v) return x->v < y->v ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

static unsigned char *repeats(const uint64_t *v, const unsigned char *ok, int n)
{
    unsigned char *flags = calloc((size_t)(n ? n : 1), 1);
    value_at *a = malloc((size_t)(n ? n : 1) * sizeof *a);
    if (!flags || !a) {
        free(flags);
        free(a);
        return NULL;
    }
    int m = 0;
    for (int i = 0; i < n; i++)
        if (ok[i]) a[m++] = (value_at){v[i], i};
    qsort(a, (size_t)m, sizeof *a, value_at_cmp);
    for (int i = 1; i < m; i++)
        if (a[i].v == a[i - 1].v) flags[a[i].i] = 1;
    free(a);
    return flags;
}

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
    c->last_kept = 0;
    if (c->quiet) return;
    if (c->d.n_errors >= MAX_ERRORS) {   /* counted, not formatted: a file may hold millions */
        c->d.n_errors++;
        return;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    int line = 0, col = 0, span = 1;   /* no node: a message about the whole file */
    if (n) mark_of(n, &line, &col, &span);
    xb_diag_error(&c->d, line, col, span, path, "%s", msg);
    c->last_kept = 1;
}

/* A note to the last error, when that error was kept (not dropped as a repeat or past
 * MAX_ERRORS). */
__attribute__((format(printf, 2, 3)))
static void note(ctx *c, const char *fmt, ...)
{
    if (!c->last_kept) return;
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    xb_diag_note(&c->d, "%s", msg);
}

/* s cut to 64 bytes (whole UTF-8 characters) with "...": what a message quotes of a value. */
static const char *cut(char *buf, size_t n, const char *s)
{
    size_t len = strlen(s), keep = len;
    if (len > 64) {
        keep = 64;
        while (keep > 0 && ((unsigned char)s[keep] & 0xC0) == 0x80) keep--;
    }
    snprintf(buf, n, "%.*s%s", (int)keep, s, keep < len ? "..." : "");
    return buf;
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
    else {
        char s[80];
        snprintf(buf, n, "%s'%s'", is_quoted(v) ? "the string " : "", cut(s, sizeof s, scalar(v)));
    }
}

static void describe_range(char *buf, size_t n, int is_int, double min, double max)
{
    const char *what = is_int ? "integer" : "number";
    if (max >= BIG / 10 || (is_int && max >= INT_MAX)) {
        if (min == 1 && is_int) snprintf(buf, n, "a positive integer");
        else if (!is_int && min > 0 && min < 1e-20) snprintf(buf, n, "a positive number");
        else if (min == 0) snprintf(buf, n, "a non-negative %s", what);
        else snprintf(buf, n, "a %s >= %.17g", what, min);
    } else if (!is_int && min > 0 && min < 1e-20) {
        snprintf(buf, n, "a number above 0 and at most %.17g", max);
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
    char list[2048], s[80];
    err(c, k, path, "unknown %s '%s'", what, cut(s, sizeof s, scalar(k)));
    if (!c->last_kept) return;
    if (n == 0) {
        note(c, "no %s are registered", plural);
        return;
    }
    xb_closest_list(list, sizeof list, scalar(k), names, n);
    note(c, "valid %s, closest first: %s", plural, list);
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
    strmap seen = {0};                 /* key → index of its first pair */
    yaml_node_pair_t *p0 = n->data.mapping.pairs.start;
    for (yaml_node_pair_t *p = p0; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = node_of(c, p->key);
        if (k->type != YAML_SCALAR_NODE) {
            err(c, k, path, "keys must be names");
            continue;
        }
        int found;
        long *first = strmap_put(&seen, scalar(k), k->data.scalar.length, (long)(p - p0), &found);
        if (first && found) {
            yaml_node_t *k2 = node_of(c, p0[*first].key);
            char kp[256], s[80];
            join(kp, sizeof kp, path, scalar(k));
            err(c, k, kp, "duplicate key '%s' (first at line %d)", cut(s, sizeof s, scalar(k)),
                (int)k2->start_mark.line + 1);
        }
    }
    strmap_free(&seen);
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
    uint64_t *key = malloc((size_t)(n ? n : 1) * sizeof *key);
    unsigned char *ok = calloc((size_t)(n ? n : 1), 1);
    if (!a || !key || !ok) {
        free(a);
        free(key);
        free(ok);
        return XB_ENOMEM;
    }
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
        key[i] = (uint64_t)(int64_t)a[i];
        ok[i] = 1;
    }
    unsigned char *rep = repeats(key, ok, n);
    for (int i = 0; rep && i < n; i++)
        if (rep[i]) {
            char p[256];
            index_path(p, sizeof p, path, i);
            err(c, node_of(c, v->data.sequence.items.start[i]), p, "%d is listed twice", a[i]);
            bad = 1;
        }
    if (!rep) bad = 1;
    free(rep);
    free(key);
    free(ok);
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

/* Names (core/text.h) are [A-Za-z0-9_.=-]: they become folder names, table columns and plot
 * labels, and are never a way to put other bytes on a terminal. */
static int is_name(const char *t) { return xb_is_name(t, strlen(t)); }

/* A mixer or task name where one is expected (0), else an error (-1): a value that cannot
 * be a name gets this instead of "unknown" and a list of near names. */
static int check_name(ctx *c, const yaml_node_t *v, const char *path, const char *what)
{
    if (v->type == YAML_SCALAR_NODE && !is_null(v) && is_name(scalar(v))) return 0;
    char g[256];
    got(g, sizeof g, v);
    err(c, v, path, "expected a %s name (letters, digits, '_', '.', '=', '-'), got %s", what, g);
    return -1;
}

static char *default_name(const char *file)
{
    const char *b = strrchr(file, '/');
    b = b ? b + 1 : file;
    size_t n = strlen(b);
    if (n > 5 && !strcmp(b + n - 5, ".yaml")) n -= 5;
    else if (n > 4 && !strcmp(b + n - 4, ".yml")) n -= 4;
    char *s = malloc(n + 2);
    if (!s) return NULL;
    for (size_t i = 0; i < n; i++) s[i] = xb_is_name(b + i, 1) ? b[i] : '_';
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
        if (is_name(t) && t[0] != '.') {
            free(c->s->name);
            c->s->name = strdup(t);
            return;
        }
    }
    got(g, sizeof g, v);
    err(c, v, "name", "expected a run name of letters, digits, '_', '.', '=' and '-' "
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
    unsigned char *ok = calloc((size_t)n, 1);
    if (!a || !ok) {
        free(a);
        free(ok);
        return;
    }
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
        ok[i] = 1;
    }
    unsigned char *rep = many ? repeats(a, ok, n) : NULL;
    for (int i = 0; rep && i < n; i++)
        if (rep[i]) {
            char p[64];
            snprintf(p, sizeof p, "seeds[%d]", i);
            err(c, node_of(c, many->data.sequence.items.start[i]), p, "seed %llu is listed twice",
                (unsigned long long)a[i]);
            bad = 1;
        }
    if (many && !rep) bad = 1;
    free(rep);
    free(ok);
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
        if (check_name(c, e, p, "mixer")) continue;
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

/* A value of mixer option o (its table's type and range) into *dst. An ENUM takes a name or,
 * as suites wrote before options had names, its number. */
static void get_mixer_opt(ctx *c, yaml_node_t *v, const char *path, const xb_mixer_opt *o, double *dst)
{
    double x, lo, hi;
    xb_mixer_opt_range(o, &lo, &hi);
    if (o->type == XB_OPT_ENUM) {
        int n = (int)hi;
        if (v->type == YAML_SCALAR_NODE && !is_null(v)) {
            const char *t = scalar(v);
            for (int j = 0; j < n; j++)
                if (!strcmp(t, o->names[j])) {
                    *dst = j + 1;
                    return;
                }
            char *end;
            errno = 0;
            long long i = is_quoted(v) ? 0 : strtoll(t, &end, 10);
            if (!is_quoted(v) && end != t && !*end && !errno && i >= 1 && i <= n) {
                *dst = (double)i;
                return;
            }
        }
        char list[512], g[256];
        xb_mixer_opt_choices(list, sizeof list, o);
        got(g, sizeof g, v);
        err(c, v, path, "expected %s, got %s", list, g);
        return;
    }
    if (!get_number(c, v, path, o->type == XB_OPT_INT, lo, hi, &x)) *dst = o->type == XB_OPT_FLOAT ? (double)(float)x : x;
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
        if (check_name(c, k, mp, "mixer")) continue;
        const xb_mixer *m = find_mixer(c, scalar(k));
        if (!m) {
            unknown(c, k, mp, "mixer", "mixers", names, nr);
            continue;
        }
        int r = registry_index(c, m);
        c->opt_node[r] = k;
        if (is_null(o) || check_mapping(c, o, mp)) continue;
        const char *valid[XB_MIXER_MAX_OPTS];
        int nv = m->n_opts < XB_MIXER_MAX_OPTS ? m->n_opts : XB_MIXER_MAX_OPTS;
        for (int j = 0; j < nv; j++) valid[j] = m->opts[j].name;
        for (yaml_node_pair_t *q = o->data.mapping.pairs.start; q < o->data.mapping.pairs.top; q++) {
            yaml_node_t *ok = node_of(c, q->key), *ov = node_of(c, q->value);
            if (ok->type != YAML_SCALAR_NODE) continue;
            char op[256];
            join(op, sizeof op, mp, scalar(ok));
            int f = xb_mixer_opt_find(m, scalar(ok));
            if (f < 0 || f >= nv) {
                char sh[80];
                err(c, ok, op, "unknown option '%s' for mixer '%s'", cut(sh, sizeof sh, scalar(ok)), m->name);
                if (nv == 0) {
                    note(c, "mixer '%s' takes no options", m->name);
                } else if (c->last_kept) {
                    char list[512];
                    xb_closest_list(list, sizeof list, scalar(ok), valid, nv);
                    note(c, "options of '%s', closest first: %s", m->name, list);
                }
                continue;
            }
            get_mixer_opt(c, ov, op, &m->opts[f], &c->opt_cfg[r].opt[f]);
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
        if (check_name(c, e, ep, "mixer")) continue;
        int j = 0;
        while (j < nm && strcmp(names[j], scalar(e))) j++;
        if (j == nm) {
            unknown(c, e, ep, "mixer of this suite", "mixers of this suite", names, nm);
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
        if (check_name(c, name, p, "task")) {
            /* reported */
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
        get_int_list(c, lengths, p, 1, XB_MAX_LENGTH, 0, &st->lengths, &st->n_lengths);
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
            char sh[80];
            err(c, k, op, "unknown option '%s' for task '%s'", cut(sh, sizeof sh, scalar(k)), t->name);
            if (t->n_opts == 0) {
                note(c, "task '%s' takes no options", t->name);
            } else if (c->last_kept) {
                char list[1024];
                xb_closest_list(list, sizeof list, scalar(k), onames, t->n_opts);
                note(c, "options of '%s', closest first: %s", t->name, list);
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
        int idx = -1;
        if (tab) {
            for (int j = 0; j < nk && !key; j++)
                if (!strcmp(tab[j].name, scalar(k))) key = &tab[idx = j];
            if (!key || !is_scalar_key(key)) continue;    /* unknown keys: reported later */
        } else if (t) {
            for (int j = 0; j < t->n_opts && !opt; j++)
                if (!strcmp(t->opts[j].name, scalar(k))) opt = &t->opts[idx = j];
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
        c->axis_sec[c->n_axes] = tab == xb_suite_model_keys ? 1 : tab ? 2 : 0;
        c->axis_idx[c->n_axes] = idx;
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

/* Set the value of axis a of the current combination in a task copied from the item's
 * first configuration (the items of every axis were checked by find_axes_in). */
static void apply_axis(ctx *c, int a, xb_suite_task *st)
{
    int q = c->quiet, j = c->axis_idx[a];
    c->quiet = 1;
    if (c->axis_sec[a] == 0) {
        const xb_opt *o = &st->task->opts[j];
        double x;
        if (!get_number(c, pick(c, c->axis[a]), "", o->is_int, o->min, o->max, &x)) st->cfg.opt[j] = x;
    } else if (c->axis_sec[a] == 1) {
        set_value(c, c->axis[a], "", &xb_suite_model_keys[j], &st->model);
    } else {
        set_value(c, c->axis[a], "", &xb_suite_train_keys[j], &st->train);
    }
    c->quiet = q;
}

/* A deep copy of task `from` (the label is left to the caller). 0, or XB_ENOMEM. */
static int copy_task(xb_suite_task *to, const xb_suite_task *from, int n_mixers)
{
    *to = *from;
    to->label = NULL;
    to->lengths = malloc((size_t)(from->n_lengths ? from->n_lengths : 1) * sizeof *to->lengths);
    to->data_dir = from->data_dir ? strdup(from->data_dir) : NULL;
    to->use = from->use ? malloc((size_t)(n_mixers ? n_mixers : 1)) : NULL;
    if (!to->lengths || (from->data_dir && !to->data_dir) || (from->use && !to->use)) {
        free(to->lengths);
        free(to->data_dir);
        free(to->use);
        memset(to, 0, sizeof *to);
        return XB_ENOMEM;
    }
    memcpy(to->lengths, from->lengths, (size_t)from->n_lengths * sizeof *to->lengths);
    if (from->use) memcpy(to->use, from->use, (size_t)n_mixers);
    to->cfg.data_dir = to->data_dir;
    return 0;
}

/* Without lengths:, a task runs at the length its options call for. */
static void own_length(ctx *c, int dst)
{
    xb_suite_task *st = &c->s->tasks[dst];
    if (!c->tw[dst].lengths && st->task && st->task->length && st->n_lengths == 1) {
        st->lengths[0] = st->task->length(&st->cfg);
        st->cfg.L = st->lengths[0];
    }
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
    double task_lengths = 0;           /* task x length configurations, bounded by MAX_CELLS */
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
        yaml_node_t *ln = item->type == YAML_MAPPING_NODE ? map_get(c, item, "lengths") : NULL;
        long nl = ln && ln->type == YAML_SEQUENCE_NODE
                      ? (long)(ln->data.sequence.items.top - ln->data.sequence.items.start) : 1;
        task_lengths += (double)combos[i] * (double)(nl > 1 ? nl : 1);
        total += combos[i];
    }
    if (total > MAX_TASKS) {
        err(c, v, "tasks", "the tasks expand into %ld configurations, more than the %d a suite "
            "may have: split it into several suites", total, MAX_TASKS);
        free(combos);
        return;
    }
    if (task_lengths > MAX_CELLS) {
        err(c, v, "tasks", "the tasks make %.0f task x length configurations, more than the %d a "
            "suite may have: split it into several suites", task_lengths, MAX_CELLS);
        free(combos);
        return;
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
        /* the first configuration is read from the item; the others are copies of it with
         * the axes' values set (reading the item again for each would cost combos x size) */
        int first = dst;
        for (long k = 0; k < combos[i]; k++) {
            long r = k;                /* mixed radix, the last axis fastest */
            for (int a = c->n_axes - 1; a >= 0; a--) {
                int len = (int)(c->axis[a]->data.sequence.items.top - c->axis[a]->data.sequence.items.start);
                c->axis_pick[a] = (int)(r % len);
                r /= len;
            }
            xb_suite_task *st = &s->tasks[dst];
            if (k == 0) {
                read_task(c, item, i, dst, st);
            } else {
                if (c->d.n_errors || !s->tasks[first].task) break;   /* the load fails anyway */
                if (copy_task(st, &s->tasks[first], s->n_mixers)) break;
                c->tw[dst] = c->tw[first];
                for (int a = 0; a < c->n_axes; a++) apply_axis(c, a, st);
            }
            own_length(c, dst);
            st->label = axis_label(c);
            dst++;
            s->n_tasks = dst;
        }
    }
    c->n_axes = 0;
    free(combos);
}

/* ------------------------------------------------------------------------------------------
 * Checks across keys: model shape, latency reps, every mixer and task at every length */


static yaml_node_t *first(yaml_node_t *a, yaml_node_t *b, yaml_node_t *c) { return a ? a : b ? b : c; }

enum { MK_DIM = 0, MK_HEADS = 2 };   /* rows of xb_suite_model_keys[] */
enum { LAT_LENGTHS = 6 };            /* row of xb_suite_latency_keys[] */

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
    if (!(m->modes & (causal ? XB_CAUSAL : XB_BIDIR))) return;
    for (int j = 0; j < n; j++) {
        xb_mixer_cfg x = c->s->mixer_cfg[i];
        x.d = mc->dim;
        x.heads = mc->heads;
        x.causal = causal;
        x.n_max = Ns[j];
        x = xb_mixer_resolve(m, &x);
        char e[512] = "";
        if (xb_mixer_check(m, &x, e, sizeof e) == 0) continue;
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

/* 1-based line and column (in characters) of byte offset off of the text. */
static void offset_mark(const ctx *c, size_t off, int *line, int *col)
{
    *line = 1;
    *col = 1;
    if (off > c->d.len) off = c->d.len;
    for (size_t i = 0; i < off; i++) {
        if (c->d.text[i] == '\n') {
            ++*line;
            *col = 1;
        } else if (((unsigned char)c->d.text[i] & 0xC0) != 0x80) {
            ++*col;
        }
    }
}

static void syntax_error(ctx *c, const yaml_parser_t *p)
{
    if (p->error == YAML_READER_ERROR) {
        /* a byte that is not UTF-8 or a control character: point at it (diag.c shows it
         * escaped) */
        int line, col;
        offset_mark(c, p->problem_offset, &line, &col);
        const char *what = p->problem ? p->problem : "cannot read the file as UTF-8 text";
        if (p->problem_value >= 0)
            xb_diag_error(&c->d, line, col, 1, NULL, "not YAML text: %s (0x%02x at byte %zu)", what,
                          (unsigned)p->problem_value, p->problem_offset);
        else
            xb_diag_error(&c->d, line, col, 1, NULL, "not YAML text: %s (at byte %zu)", what,
                          p->problem_offset);
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

/* One pass over libyaml's events before it builds the tree (its loader keeps every node, and
 * its scanner slows down with each level of nesting): refuse nesting deeper than MAX_DEPTH, a
 * second document, NUL characters in a scalar (names are compared as C strings), aliases that
 * name no earlier anchor, more than MAX_ANCHORS anchors or MAX_ALIASES aliases (libyaml's
 * loader finds each anchor and alias by a scan of all anchors), and more than MAX_NODES nodes
 * counting each alias as a copy of what it names (the "billion laughs"). Reports and returns
 * -1, else 0. */
static int prescan(ctx *c, const char *text, size_t len)
{
    /* directives first: libyaml compares each with every one before it while it makes the
     * first event, so they are counted here, on the text */
    int directives = 0, dline = 1;
    for (const char *q = text, *end = text + len; q < end; dline++) {
        if (*q == '%' && ++directives > MAX_DIRECTIVES) {
            xb_diag_error(&c->d, dline, 1, 1, NULL, "more than %d directives (lines starting with "
                          "'%%')", MAX_DIRECTIVES);
            return -1;
        }
        const char *nl = memchr(q, '\n', (size_t)(end - q));
        if (!nl) break;
        q = nl + 1;
    }
    yaml_parser_t p;
    if (!yaml_parser_initialize(&p)) {
        xb_diag_error(&c->d, 0, 0, 0, NULL, "out of memory while reading YAML");
        return -1;
    }
    yaml_parser_set_input_string(&p, (const unsigned char *)text, len);
    strmap anchors = {0};              /* anchor → nodes under it, aliases expanded */
    anchors.own = 1;
    struct { long start; char *anchor; } open[MAX_DEPTH];
    int depth = 0, docs = 0, rc = 0, n_anchors = 0, n_aliases = 0;
    long nodes = 0;
    for (;;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&p, &ev)) {
            syntax_error(c, &p);
            rc = -1;
            break;
        }
        int line = (int)ev.start_mark.line + 1, col = (int)ev.start_mark.column + 1;
        const char *anchor = NULL;
        int found;
        long *size;
        switch (ev.type) {
        case YAML_DOCUMENT_START_EVENT:
            if (++docs == 2) {
                xb_diag_error(&c->d, line, col, 3, NULL, "a second YAML document: a suite is one "
                              "document (remove this '---' and what follows, or split the file)");
                rc = -1;
            }
            break;
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT:
            if (depth == MAX_DEPTH) {
                xb_diag_error(&c->d, line, col, 1, NULL, "nested more than %d levels deep (a suite "
                              "needs 5): not read further", MAX_DEPTH);
                rc = -1;
                break;
            }
            anchor = (const char *)(ev.type == YAML_SEQUENCE_START_EVENT ? ev.data.sequence_start.anchor
                                                                         : ev.data.mapping_start.anchor);
            open[depth].start = nodes++;
            open[depth].anchor = anchor ? strdup(anchor) : NULL;
            depth++;
            break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT:
            if (depth == 0) break;
            depth--;
            if (open[depth].anchor) {
                size = strmap_put(&anchors, open[depth].anchor, strlen(open[depth].anchor), 0, &found);
                if (size) *size = nodes - open[depth].start;
                free(open[depth].anchor);
            }
            break;
        case YAML_SCALAR_EVENT:
            nodes++;
            if (memchr(ev.data.scalar.value, '\0', ev.data.scalar.length)) {
                xb_diag_error(&c->d, line, col, 1, NULL, "a NUL character (\\0) in a value");
                rc = -1;
            }
            anchor = (const char *)ev.data.scalar.anchor;
            if (anchor && (size = strmap_put(&anchors, anchor, strlen(anchor), 0, &found))) *size = 1;
            break;
        case YAML_ALIAS_EVENT: {
            const char *a = (const char *)ev.data.alias.anchor;
            size = strmap_put(&anchors, a, strlen(a), -1, &found);
            if (!size || !found || *size < 0) {
                char sh[80];
                xb_diag_error(&c->d, line, col, 1, NULL, "alias '*%s' names no anchor before it "
                              "(or one it is inside of)", cut(sh, sizeof sh, a));
                rc = -1;
            } else {
                nodes += *size;
            }
            break;
        }
        default:
            break;
        }
        if (!rc && anchor && ++n_anchors > MAX_ANCHORS) {
            xb_diag_error(&c->d, line, col, 1, NULL, "more than %d anchors (&name)", MAX_ANCHORS);
            rc = -1;
        }
        if (!rc && ev.type == YAML_ALIAS_EVENT && ++n_aliases > MAX_ALIASES) {
            xb_diag_error(&c->d, line, col, 1, NULL, "more than %d aliases (*name)", MAX_ALIASES);
            rc = -1;
        }
        int end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (!rc && nodes > MAX_NODES) {
            xb_diag_error(&c->d, line, col, 1, NULL, "more than %d values, counting each alias as "
                          "a copy of what it names: not read further", MAX_NODES);
            rc = -1;
        }
        if (rc || end) break;
    }
    while (depth > 0) free(open[--depth].anchor);
    strmap_free(&anchors);
    yaml_parser_delete(&p);
    return rc;
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

/* The cells the suite makes (as xbench validate counts them): task x length x mixer x seed x
 * thread count, plus latency length x mixer x thread count. A double: it may be huge. */
static double count_cells(ctx *c)
{
    const xb_suite *s = c->s;
    double pairs = 0;
    for (int t = 0; t < s->n_tasks; t++) {
        const xb_suite_task *st = &s->tasks[t];
        int nm = 0;
        for (int j = 0; j < s->n_mixers; j++) nm += !st->use || st->use[j];
        pairs += (double)nm * st->n_lengths;
    }
    return (pairs * s->n_seeds +
            (double)(s->latency.n_lengths + s->latency.n_decode_lengths) * s->n_mixers) * s->n_threads;
}

/* A suite of no cells is an error, not a run that does nothing: say why. */
static void nothing_to_run(ctx *c)
{
    const xb_suite *s = c->s;
    if (s->n_mixers == 0)
        err(c, c->top[8], c->top[8] ? "mixers" : NULL, "nothing to run: no mixers");
    else if (s->n_tasks == 0)
        err(c, c->latency[LAT_LENGTHS] ? c->latency[LAT_LENGTHS] : c->top[10],
            c->latency[LAT_LENGTHS] ? "latency.lengths" : "tasks",
            "nothing to run: no tasks and no latency lengths");
    else
        err(c, c->top[10], "tasks", "nothing to run: no task runs any of the suite's mixers "
            "(tasks[].mixers) and there are no latency lengths");
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
    if (len > (size_t)MAX_BYTES) {
        xb_diag_error(&c.d, 0, 0, 0, NULL, "%zu bytes: more than the %ld a suite may have (1 MiB)",
                      len, MAX_BYTES);
    } else if (prescan(&c, text, len)) {
        /* reported */
    } else if (!yaml_parser_initialize(&parser)) {
        xb_diag_error(&c.d, 0, 0, 0, NULL, "out of memory while reading YAML");
    } else {
        yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
        if (!yaml_parser_load(&parser, &c.doc)) syntax_error(&c, &parser);
        else loaded = 1;
        yaml_parser_delete(&parser);
    }
    if (loaded) {
        c.root = yaml_document_get_root_node(&c.doc);
        if (!c.root || is_null(c.root) ||
            (c.root->type == YAML_MAPPING_NODE && c.root->data.mapping.pairs.top == c.root->data.mapping.pairs.start))
            xb_diag_error(&c.d, 0, 0, 0, NULL, "the suite is empty (%s): nothing says what to run; "
                          "give tasks: and/or latency: (xbench list keys)",
                          !c.root ? "no YAML document, at most comments"
                          : is_null(c.root) ? "a document of nothing, ~" : "an empty mapping, {}");
        else
            read_top(&c);
        double cells = c.d.n_errors == 0 ? count_cells(&c) : 0;
        if (c.d.n_errors == 0 && cells > MAX_CELLS)
            err(&c, NULL, NULL, "the suite makes %.0f cells, more than the %d a suite may have: "
                "split it into several suites", cells, MAX_CELLS);
        if (c.d.n_errors == 0) check_all(&c);
        if (c.d.n_errors == 0 && cells == 0) nothing_to_run(&c);
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
    if (n_errors > MAX_ERRORS && errf) {
        char shown[512];
        fprintf(errf, "%s: too many errors; only the first %d are shown\n",
                xb_escape(shown, sizeof shown, file), MAX_ERRORS);
    }
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
    char shown[512];
    xb_escape(shown, sizeof shown, path);
    /* O_NONBLOCK: opening a FIFO must not wait for a writer; then only a regular file goes on
     * (a FIFO, /dev/zero or a folder would never end or make no sense) */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (fd < 0) {
        if (errf) fprintf(errf, "%s: cannot open: %s\n", shown, strerror(errno));
        return XB_EIO;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        if (errf) fprintf(errf, "%s: cannot read: %s\n", shown, strerror(errno));
        close(fd);
        return XB_EIO;
    }
    if (!S_ISREG(st.st_mode)) {
        if (errf && S_ISDIR(st.st_mode)) fprintf(errf, "%s: is a folder, not a suite file\n", shown);
        else if (errf)
            fprintf(errf, "%s: not a regular file (a %s): a suite is a YAML file\n", shown,
                    S_ISFIFO(st.st_mode) ? "FIFO" : S_ISCHR(st.st_mode) ? "character device"
                    : S_ISBLK(st.st_mode) ? "block device" : S_ISSOCK(st.st_mode) ? "socket" : "special file");
        close(fd);
        return XB_EIO;
    }
    if (st.st_size > MAX_BYTES) {
        if (errf) fprintf(errf, "%s: %lld bytes: more than the %ld a suite may have (1 MiB)\n", shown,
                          (long long)st.st_size, MAX_BYTES);
        close(fd);
        return XB_EINVAL;
    }
    /* read at most MAX_BYTES + 1: a file that grows while it is read is still bounded */
    char *text = malloc((size_t)MAX_BYTES + 2);
    if (!text) {
        close(fd);
        return XB_ENOMEM;
    }
    size_t len = 0;
    int bad = 0;
    while (len < (size_t)MAX_BYTES + 1) {
        ssize_t r = read(fd, text + len, (size_t)MAX_BYTES + 1 - len);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) {
            bad = errno;
            break;
        }
        if (r == 0) break;
        len += (size_t)r;
    }
    close(fd);
    if (bad) {
        if (errf) fprintf(errf, "%s: cannot read: %s\n", shown, strerror(bad));
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
    free(s->latency.decode_lengths);
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

xb_suite_count xb_suite_count_cells(const xb_suite *s)
{
    xb_suite_count n = {0, 0, 0, 0, 0};
    for (int t = 0; t < s->n_tasks; t++)
        for (int j = 0; j < s->n_mixers; j++)
            if (!s->tasks[t].use || s->tasks[t].use[j]) n.pairs += s->tasks[t].n_lengths;
    n.train = n.pairs * s->n_seeds * s->n_threads;
    n.latency = (long)s->latency.n_lengths * s->n_mixers * s->n_threads;
    for (int j = 0; j < s->n_mixers; j++) n.decoders += s->mixers[j]->decode_step != NULL;
    n.decode = (long)s->latency.n_decode_lengths * n.decoders * s->n_threads;
    return n;
}
