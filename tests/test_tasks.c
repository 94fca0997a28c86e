/* tests/test_tasks.c — checks every registered task through core/task.h (parameterised over
 * tasks/registry.c, so a new task is tested without new test code), then task-specific
 * structure with independent checkers written here:
 *   contract     members present, option table sane, key names the task and changes with L
 *   determinism  same seed → identical data and hashes; other seed → other data
 *   disjoint     no hash shared by train/val/test, none repeated within val ∪ test
 *   ranges       tokens in [0, vocab), targets in [0, n_classes) or IGNORE, lengths 1..L
 *   prefix       more training examples leave val, test and the train prefix unchanged
 *   majority     xb_data_majority agrees with a count done here
 *   mqar_*, listops_*, …: the structure of each generator and the ListOps TSV loader. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/task.h"
#include "core/xb.h"
#include "tasks/registry.h"

/* ------------------------------------------------------------------ helpers */

static int opt_index(const xb_task *t, const char *name)
{
    for (int i = 0; i < t->n_opts; i++)
        if (strcmp(t->opts[i].name, name) == 0) return i;
    return -1;
}

static void set_opt(const xb_task *t, xb_task_cfg *c, const char *name, double v)
{
    int i = opt_index(t, name);
    cr_assert(i >= 0, "%s: no option '%s'", t->name, name);
    c->opt[i] = v;
}

/* Test length per task: 64 suits every task whose length is free; image tasks need their
 * pixel count (Fashion-MNIST 28×28, the pathfinder generators 32×32 and 128×128). */
static int test_len(const xb_task *t)
{
    if (strcmp(t->name, "image") == 0) return 784;
    if (strcmp(t->name, "pathfinder") == 0) return 1024;
    if (strcmp(t->name, "pathx") == 0) return 16384;
    return 64;
}

/* A small configuration every task accepts: its test length, its defaults, few examples. */
static xb_task_cfg small_cfg(const xb_task *t, int L, int ntr, int nva, int nte, uint64_t seed)
{
    xb_task_cfg c;
    memset(&c, 0, sizeof c);
    xb_task_cfg_defaults(t, &c);
    c.L = L;
    c.seed = seed;
    set_opt(t, &c, "train_examples", ntr);
    set_opt(t, &c, "val_examples", nva);
    set_opt(t, &c, "test_examples", nte);
    return c;
}

typedef struct splits { xb_data d[3]; } splits;   /* train, val, test */

/* Load, or skip the test when the task's default Debian data set is not installed. */
static void load_ok(const xb_task *t, const xb_task_cfg *c, splits *s)
{
    char err[512] = "";
    int rc = t->load(c, &s->d[0], &s->d[1], &s->d[2], err, sizeof err);
    if (rc == XB_ENOTFOUND && strstr(err, "install the Debian package"))
        cr_skip_test("%s: %s", t->name, err);
    cr_assert_eq(rc, 0, "%s: load failed: %s", t->name, err);
}

static void splits_release(splits *s) { for (int k = 0; k < 3; k++) xb_data_release(&s->d[k]); }

static size_t ntok(const xb_data *d) { return (size_t)d->L * (d->shape == XB_SHAPE_PAIR ? 2 : 1); }
static size_t ntgt(const xb_data *d) { return d->shape == XB_SHAPE_TOK ? (size_t)d->L : 1; }
static size_t nlen(const xb_data *d) { return d->shape == XB_SHAPE_PAIR ? 2 : 1; }

static int same_data(const xb_data *a, const xb_data *b)
{
    if (a->n != b->n || a->L != b->L || a->shape != b->shape) return 0;
    size_t n = (size_t)a->n;
    return memcmp(a->x, b->x, n * ntok(a) * sizeof(int32_t)) == 0 &&
           memcmp(a->y, b->y, n * ntgt(a) * sizeof(int32_t)) == 0 &&
           memcmp(a->len, b->len, n * nlen(a) * sizeof(int)) == 0 &&
           memcmp(a->hash, b->hash, n * sizeof(uint64_t)) == 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

/* Whether sorted array a (n) contains v (binary search). */
static int contains(const uint64_t *a, size_t n, uint64_t v)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { size_t m = (lo + hi) / 2; if (a[m] < v) lo = m + 1; else hi = m; }
    return lo < n && a[lo] == v;
}

/* ------------------------------------------------------------------ registry-driven */

static int task_ids[64];

static size_t n_params_list(void)
{
    for (int i = 0; i < xb_n_tasks && i < 64; i++) task_ids[i] = i;
    return (size_t)xb_n_tasks;
}

#define TASK_PARAMS(test) \
    ParameterizedTestParameters(tasks, test) { return cr_make_param_array(int, task_ids, n_params_list()); }


TASK_PARAMS(contract)
ParameterizedTest(int *i, tasks, contract)
{
    const xb_task *t = xb_tasks[*i];
    cr_assert(t->name && t->desc && t->cite && t->opts && t->vocab && t->n_classes && t->key && t->load,
              "task %d: a member is missing", *i);
    cr_assert_eq(xb_task_find(t->name), t);
    cr_assert(t->n_opts >= 3 && t->n_opts <= XB_TASK_MAX_OPTS, "%s: n_opts = %d", t->name, t->n_opts);
    for (int k = 0; k < t->n_opts; k++) {
        const xb_opt *o = &t->opts[k];
        cr_assert(o->name && o->help, "%s: option %d unnamed", t->name, k);
        cr_assert(o->min <= o->def && o->def <= o->max, "%s: option '%s' default out of range", t->name, o->name);
        if (o->is_int) cr_assert_eq(o->def, floor(o->def), "%s: '%s' default not whole", t->name, o->name);
        for (int j = 0; j < k; j++) cr_assert(strcmp(o->name, t->opts[j].name) != 0, "%s: option '%s' twice", t->name, o->name);
    }
    cr_assert(opt_index(t, "train_examples") >= 0 && opt_index(t, "val_examples") >= 0 &&
              opt_index(t, "test_examples") >= 0, "%s: example-count options missing", t->name);
    int TL = test_len(t);
    xb_task_cfg c = small_cfg(t, TL, 10, 10, 10, 1);
    char err[256] = "", k1[512], k2[512], pre[64], lkey[32];
    if (t->check) cr_assert_eq(t->check(&c, err, sizeof err), 0, "%s: check at L=%d: %s", t->name, TL, err);
    cr_assert(t->vocab(&c) >= 2 && t->n_classes(&c) >= 2);
    t->key(&c, k1, sizeof k1);
    snprintf(pre, sizeof pre, "%s:", t->name);
    cr_assert(strncmp(k1, pre, strlen(pre)) == 0, "%s: key '%s' must start with '%s'", t->name, k1, pre);
    snprintf(lkey, sizeof lkey, "L=%d", TL);
    cr_assert(strstr(k1, lkey) != NULL, "%s: key '%s' must contain L", t->name, k1);
    xb_task_cfg c2 = c;
    c2.L = 2 * TL;
    t->key(&c2, k2, sizeof k2);
    cr_assert(strcmp(k1, k2) != 0 && xb_task_key(t, &c) != xb_task_key(t, &c2));
    /* the key does not depend on the seed or the number of examples */
    c2 = c; c2.seed = 99; set_opt(t, &c2, "train_examples", 77);
    cr_assert_eq(xb_task_key(t, &c), xb_task_key(t, &c2));
}

TASK_PARAMS(determinism)
ParameterizedTest(int *i, tasks, determinism)
{
    const xb_task *t = xb_tasks[*i];
    xb_task_cfg c = small_cfg(t, test_len(t), 100, 20, 40, 1234);
    splits a, b, o;
    load_ok(t, &c, &a);
    load_ok(t, &c, &b);
    for (int k = 0; k < 3; k++) {
        cr_assert(same_data(&a.d[k], &b.d[k]), "%s: split %d differs between two loads", t->name, k);
        cr_assert(a.d[k].source[0] != '\0', "%s: no source", t->name);
        cr_assert_str_eq(a.d[k].source, b.d[k].source);
        for (int e = 0; e < a.d[k].n; e++)
            cr_assert_eq(a.d[k].hash[e], xb_data_hash(&a.d[k], e), "%s: stored hash is stale", t->name);
    }
    c.seed = 1235;
    load_ok(t, &c, &o);
    for (int k = 0; k < 3; k++) {
        int same = 0;
        for (int e = 0; e < a.d[k].n; e++) same += a.d[k].hash[e] == o.d[k].hash[e];
        cr_assert(same < a.d[k].n / 4 + 1, "%s: split %d: %d of %d examples unchanged by the seed",
                  t->name, k, same, a.d[k].n);
    }
    splits_release(&a); splits_release(&b); splits_release(&o);
}

TASK_PARAMS(disjoint)
ParameterizedTest(int *i, tasks, disjoint)
{
    const xb_task *t = xb_tasks[*i];
    xb_task_cfg c = small_cfg(t, test_len(t), 400, 100, 200, 7);
    splits s;
    load_ok(t, &c, &s);
    size_t nv = (size_t)s.d[1].n, nt = (size_t)s.d[2].n, n = nv + nt;
    uint64_t *h = malloc(n * sizeof *h);
    memcpy(h, s.d[1].hash, nv * sizeof *h);
    memcpy(h + nv, s.d[2].hash, nt * sizeof *h);
    qsort(h, n, sizeof *h, cmp_u64);
    for (size_t k = 1; k < n; k++) cr_assert_neq(h[k], h[k - 1], "%s: val/test repeat an example", t->name);
    for (int e = 0; e < s.d[0].n; e++)
        cr_assert(!contains(h, n, s.d[0].hash[e]), "%s: train example %d is in val/test", t->name, e);
    cr_assert(s.d[0].rejected >= 0);
    free(h);
    splits_release(&s);
}

TASK_PARAMS(ranges)
ParameterizedTest(int *i, tasks, ranges)
{
    const xb_task *t = xb_tasks[*i];
    xb_task_cfg c = small_cfg(t, test_len(t), 100, 20, 40, 3);
    splits s;
    load_ok(t, &c, &s);
    int V = t->vocab(&c), C = t->n_classes(&c);
    for (int k = 0; k < 3; k++) {
        const xb_data *d = &s.d[k];
        cr_assert_eq(d->shape, t->shape);
        cr_assert_eq(d->L, test_len(t));
        cr_assert_eq(d->vocab, V);
        cr_assert_eq(d->n_classes, C);
        for (int e = 0; e < d->n; e++) {
            const int32_t *x = d->x + (size_t)e * ntok(d), *y = d->y + (size_t)e * ntgt(d);
            const int *len = d->len + (size_t)e * nlen(d);
            for (size_t m = 0; m < nlen(d); m++) {
                cr_assert(len[m] >= 1 && len[m] <= d->L, "%s: length %d", t->name, len[m]);
                if (t->shape == XB_SHAPE_TOK) cr_assert_eq(len[m], d->L, "%s: TOK examples are full length", t->name);
                for (int p = len[m]; p < d->L; p++)
                    cr_assert_eq(x[m * (size_t)d->L + (size_t)p], 0, "%s: pad is not 0", t->name);
            }
            for (size_t p = 0; p < ntok(d); p++)
                cr_assert(x[p] >= 0 && x[p] < V, "%s: token %d outside [0,%d)", t->name, x[p], V);
            int real = 0;
            for (size_t p = 0; p < ntgt(d); p++) {
                if (t->shape == XB_SHAPE_TOK && y[p] == XB_IGNORE) continue;
                cr_assert(y[p] >= 0 && y[p] < C, "%s: target %d outside [0,%d)", t->name, y[p], C);
                if (t->shape == XB_SHAPE_TOK)
                    cr_assert((int)p < len[0], "%s: target at a pad position", t->name);
                real++;
            }
            cr_assert(real >= 1, "%s: example without a target", t->name);
        }
    }
    splits_release(&s);
}

TASK_PARAMS(prefix)
ParameterizedTest(int *i, tasks, prefix)
{
    const xb_task *t = xb_tasks[*i];
    xb_task_cfg c = small_cfg(t, test_len(t), 50, 20, 30, 11);
    splits a, b;
    load_ok(t, &c, &a);
    set_opt(t, &c, "train_examples", 150);
    load_ok(t, &c, &b);
    cr_assert(same_data(&a.d[1], &b.d[1]) && same_data(&a.d[2], &b.d[2]),
              "%s: more training examples changed val/test", t->name);
    cr_assert_eq(b.d[0].n, 150);
    cr_assert_eq(memcmp(a.d[0].hash, b.d[0].hash, 50 * sizeof(uint64_t)), 0,
                 "%s: more training examples changed the first ones", t->name);
    splits_release(&a); splits_release(&b);
}

TASK_PARAMS(majority)
ParameterizedTest(int *i, tasks, majority)
{
    const xb_task *t = xb_tasks[*i];
    xb_task_cfg c = small_cfg(t, test_len(t), 10, 10, 200, 5);
    splits s;
    load_ok(t, &c, &s);
    const xb_data *d = &s.d[2];
    int C = d->n_classes;
    long *cnt = calloc((size_t)C, sizeof *cnt), tot = 0, best = 0;
    for (size_t p = 0; p < (size_t)d->n * ntgt(d); p++)
        if (d->y[p] != XB_IGNORE) { cnt[d->y[p]]++; tot++; }
    for (int k = 0; k < C; k++) if (cnt[k] > best) best = cnt[k];
    double m = xb_data_majority(d);
    cr_assert(fabs(m - (double)best / (double)tot) < 1e-12, "%s: majority %g", t->name, m);
    cr_assert(m > 0 && m <= 1);
    free(cnt);
    splits_release(&s);
}

/* ------------------------------------------------------------------ core helpers */

Test(tasks, opt_lookup_and_hash)
{
    const xb_task *t = xb_task_find("mqar");
    cr_assert_not_null(t);
    cr_assert_null(xb_task_find("no-such-task"));
    xb_task_cfg c = small_cfg(t, 64, 1, 1, 1, 1);
    cr_assert_eq(xb_task_opt(t, &c, "vocab"), 128.0);
    cr_assert_eq(xb_task_opt(t, &c, "train_examples"), 1.0);
    char key[256];
    t->key(&c, key, sizeof key);
    cr_assert_str_eq(key, "mqar:V=128,L=64,K=4,a=0.01,rnq=1");
    cr_assert_eq(xb_task_key(t, &c), xb_fnv1a_str(key));

    xb_data d;
    cr_assert_eq(xb_data_alloc(&d, XB_SHAPE_CLS, 2, 4, 5, 3), 0);
    for (int k = 0; k < 8; k++) d.x[k] = k % 4;
    d.len[0] = d.len[1] = 4;
    d.y[0] = d.y[1] = 1;
    cr_assert_eq(xb_data_hash(&d, 0), xb_data_hash(&d, 1));
    d.len[1] = 3;                   /* the length is part of the example */
    cr_assert_neq(xb_data_hash(&d, 0), xb_data_hash(&d, 1));
    d.len[1] = 4; d.y[1] = 2;       /* so is the target */
    cr_assert_neq(xb_data_hash(&d, 0), xb_data_hash(&d, 1));
    /* FNV-1a of the little-endian int32 stream: tokens, length, label */
    int32_t ref[6] = { 0, 1, 2, 3, 4, 1 };
    unsigned char bytes[24];
    for (int k = 0; k < 6; k++)
        for (int b = 0; b < 4; b++) bytes[4 * k + b] = (unsigned char)((uint32_t)ref[k] >> (8 * b));
    cr_assert_eq(xb_data_hash(&d, 0), xb_fnv1a(bytes, sizeof bytes));
    xb_data_release(&d);
}

/* A generator with only 6 distinct examples: val/test dedup must redraw, and asking for
 * more distinct val/test examples than exist must fail with a message, not loop. */
static int tiny_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    (void)c;
    x[0] = 1 + (int32_t)xb_rng_below(r, 2);
    y[0] = (int32_t)xb_rng_below(r, 3);
    len[0] = 1;
    return 0;
}
static int tiny_two(const xb_task_cfg *c) { (void)c; return 3; }
static void tiny_key(const xb_task_cfg *c, char *b, size_t n) { snprintf(b, n, "tiny:L=%d", c->L); }
static const xb_opt tiny_opts[1] = { { "x", 0, 0, 1, 1, "unused" } };
static const xb_task tiny = { .name = "tiny", .desc = "", .cite = "", .shape = XB_SHAPE_CLS,
                              .opts = tiny_opts, .n_opts = 1, .vocab = tiny_two, .n_classes = tiny_two,
                              .key = tiny_key };

Test(tasks, generate_dedup_and_exhaustion)
{
    xb_task_cfg c;
    memset(&c, 0, sizeof c);
    c.L = 4; c.seed = 1;
    xb_data tr, va, te;
    char err[256] = "";
    /* 5 of the 6 examples in val ∪ test: every train example must be the sixth */
    cr_assert_eq(xb_data_generate(&tiny, &c, tiny_example, 50, 2, 3, &tr, &va, &te, err, sizeof err), 0, "%s", err);
    uint64_t h[5];
    for (int k = 0; k < 2; k++) h[k] = va.hash[k];
    for (int k = 0; k < 3; k++) h[2 + k] = te.hash[k];
    qsort(h, 5, sizeof *h, cmp_u64);
    for (int k = 1; k < 5; k++) cr_assert_neq(h[k], h[k - 1], "val/test repeat an example");
    for (int e = 0; e < 50; e++) {
        cr_assert(!contains(h, 5, tr.hash[e]));
        cr_assert_eq(tr.hash[e], tr.hash[0]);
        cr_assert_eq(tr.x[(size_t)e * 4 + 1], 0, "pad after len must be 0");
    }
    cr_assert(tr.rejected >= 50, "rejected = %ld", tr.rejected);
    xb_data_release(&tr); xb_data_release(&va); xb_data_release(&te);
    /* all 6 examples in val ∪ test: the train draw cannot succeed */
    int rc = xb_data_generate(&tiny, &c, tiny_example, 1, 2, 4, &tr, &va, &te, err, sizeof err);
    cr_assert_eq(rc, XB_EINVAL);
    cr_assert(strstr(err, "task 'tiny': train example 0 still duplicates"), "%s", err);
    cr_assert_null(tr.x);
    cr_assert_null(te.x);
    /* 7 distinct val/test examples do not exist */
    rc = xb_data_generate(&tiny, &c, tiny_example, 0, 3, 4, &tr, &va, &te, err, sizeof err);
    cr_assert_eq(rc, XB_EINVAL);
    cr_assert(strstr(err, "test example 3"), "%s", err);
}

/* ------------------------------------------------------------------ mqar */

static void mqar_structure(int rnq)
{
    const xb_task *t = xb_task_find("mqar");
    xb_task_cfg c = small_cfg(t, 64, 300, 10, 10, 21);
    set_opt(t, &c, "random_non_queries", rnq);
    splits s;
    load_ok(t, &c, &s);
    const xb_data *d = &s.d[0];
    int V = 128, K = 4, L = 64;
    for (int e = 0; e < d->n; e++) {
        const int32_t *x = d->x + (size_t)e * L, *y = d->y + (size_t)e * L;
        int used_key[128] = {0}, used_val[128] = {0}, queried[4] = {0};
        for (int k = 0; k < K; k++) {
            int key = x[2 * k], val = x[2 * k + 1];
            cr_assert(key >= 1 && key < V / 2, "key %d", key);
            cr_assert(val >= V / 2 && val < V, "value %d", val);
            cr_assert(!used_key[key] && !used_val[val], "keys/values must be distinct");
            used_key[key] = used_val[val] = 1;
            cr_assert(y[2 * k] == XB_IGNORE && y[2 * k + 1] == XB_IGNORE);
        }
        int nt = 0;
        for (int p = 2 * K; p < L; p++) {
            if (y[p] == XB_IGNORE) {
                if (!rnq) cr_assert_eq(x[p], 0, "non-query position %d must be 0", p);
                continue;
            }
            nt++;
            cr_assert_eq((p - 2 * K) % 2, 0, "query at odd offset %d", p - 2 * K);
            int k = 0;
            while (k < K && x[2 * k] != x[p]) k++;
            cr_assert(k < K, "query token %d is not a context key", x[p]);
            cr_assert_eq(y[p], x[2 * k + 1], "target must be the value paired with the key");
            cr_assert(!queried[k], "a key is queried twice");
            queried[k] = 1;
        }
        cr_assert_eq(nt, K);
    }
    splits_release(&s);
}

Test(tasks, mqar_structure) { mqar_structure(1); mqar_structure(0); }

/* The first pair's gap follows P(g = j) ∝ (j+1)^(a-1) over space = (L-2K)/2 gaps. */
Test(tasks, mqar_gap_distribution)
{
    const xb_task *t = xb_task_find("mqar");
    double as[2] = { 0.01, 1.0 };
    for (int ai = 0; ai < 2; ai++) {
        xb_task_cfg c = small_cfg(t, 64, 4000, 0, 1, 5);
        set_opt(t, &c, "power_a", as[ai]);
        splits s;
        load_ok(t, &c, &s);
        int K = 4, space = (64 - 2 * K) / 2;
        double z = 0;
        for (int j = 0; j < space; j++) z += pow(j + 1.0, as[ai] - 1.0);
        int n0 = 0, nlast = 0;
        for (int e = 0; e < s.d[0].n; e++) {
            const int32_t *x = s.d[0].x + (size_t)e * 64, *y = s.d[0].y + (size_t)e * 64;
            for (int p = 2 * K; p < 64; p++)
                if (y[p] != XB_IGNORE && x[p] == x[0]) {
                    int g = (p - 2 * K) / 2;
                    n0 += g == 0; nlast += g == space - 1;
                }
        }
        double f0 = (double)n0 / s.d[0].n, p0 = 1.0 / z;
        double fl = (double)nlast / s.d[0].n, pl = pow(space, as[ai] - 1.0) / z;
        cr_assert(fabs(f0 - p0) < 4 * sqrt(p0 * (1 - p0) / s.d[0].n) + 1e-3, "a=%g: P(g=0) %g vs %g", as[ai], f0, p0);
        cr_assert(fabs(fl - pl) < 4 * sqrt(pl * (1 - pl) / s.d[0].n) + 1e-3, "a=%g: P(g=last) %g vs %g", as[ai], fl, pl);
        splits_release(&s);
    }
}

static void expect_check(const char *task, int L, const char *opt, double v, const char *needle)
{
    const xb_task *t = xb_task_find(task);
    xb_task_cfg c = small_cfg(t, L, 1, 1, 1, 1);
    if (opt) set_opt(t, &c, opt, v);
    char err[256] = "";
    cr_assert_eq(t->check(&c, err, sizeof err), XB_EINVAL, "%s %s=%g L=%d must be refused", task, opt, v, L);
    cr_assert(strstr(err, needle), "message '%s' lacks '%s'", err, needle);
    /* load refuses it too, with the same message and no data */
    xb_data a, b, d;
    char err2[256] = "";
    cr_assert_eq(t->load(&c, &a, &b, &d, err2, sizeof err2), XB_EINVAL);
    cr_assert_str_eq(err, err2);
}

Test(tasks, mqar_check)
{
    expect_check("mqar", 64, "vocab", 127, "'vocab' = 127 must be even");
    expect_check("mqar", 64, "vocab", 64, "'vocab' = 64 must be greater than the sequence length L = 64");
    expect_check("mqar", 64, "kv_pairs", 17, "'kv_pairs' = 17 needs 4*kv_pairs <= L = 64");
    expect_check("mqar", 63, NULL, 0, "L = 63 must be even");
}

/* ------------------------------------------------------------------ listops */

/* Independent evaluator: recursive descent over the token ids; value, or -1 if malformed.
 * *depth returns the operator nesting. */
static int lo_eval(const int32_t *x, int n, int *pos, int level, int *depth)
{
    if (*pos >= n) return -1;
    int tok = x[(*pos)++];
    if (tok >= 1 && tok <= 10) return tok - 1;
    if (tok < 11 || tok > 14) return -1;
    if (level > *depth) *depth = level;
    int v[64], m = 0;
    while (*pos < n && x[*pos] != 15) {
        if (m == 64) return -1;
        if ((v[m++] = lo_eval(x, n, pos, level + 1, depth)) < 0) return -1;
    }
    if (*pos >= n || m < 2) return -1;
    (*pos)++;
    int mn = 9, mx = 0, sum = 0;
    for (int k = 0; k < m; k++) { mn = v[k] < mn ? v[k] : mn; mx = v[k] > mx ? v[k] : mx; sum += v[k]; }
    if (tok == 11) return mn;
    if (tok == 12) return mx;
    if (tok == 14) return sum % 10;
    /* median: count ranks instead of sorting */
    int lo = -1, hi = -1;
    for (int r = 0; r <= 9; r++) {
        int below = 0;
        for (int k = 0; k < m; k++) below += v[k] <= r;
        if (lo < 0 && below >= (m + 1) / 2) lo = r;
        if (hi < 0 && below >= m / 2 + 1) hi = r;
    }
    return m % 2 ? lo : (lo + hi) / 2;
}

static void listops_window(int L, int lo, int hi, int depth_max, int n)
{
    const xb_task *t = xb_task_find("listops");
    xb_task_cfg c = small_cfg(t, L, n, 20, 20, 2);
    splits s;
    load_ok(t, &c, &s);
    int counts[10] = {0}, maxdepth = 0;
    for (int k = 0; k < 3; k++)
        for (int e = 0; e < s.d[k].n; e++) {
            const int32_t *x = s.d[k].x + (size_t)e * L;
            int len = s.d[k].len[e], pos = 0, depth = 0;
            cr_assert(len > lo && len < hi, "length %d outside (%d, %d)", len, lo, hi);
            int v = lo_eval(x, len, &pos, 1, &depth);
            cr_assert(v >= 0 && pos == len, "malformed expression");
            cr_assert_eq(v, s.d[k].y[e], "label %d, evaluator says %d", s.d[k].y[e], v);
            cr_assert(depth <= depth_max - 1, "operator nesting %d with max_depth %d", depth, depth_max);
            if (depth > maxdepth) maxdepth = depth;
            counts[v]++;
        }
    /* almost every accepted tree reaches deep nesting; every class occurs */
    cr_assert(maxdepth == depth_max - 1, "deepest nesting %d", maxdepth);
    for (int v = 0; v < 10; v++) cr_assert(counts[v] > 0, "class %d never occurs", v);
    splits_release(&s);
}

Test(tasks, listops_generator)
{
    listops_window(64, 16, 64, 6, 300);      /* L <= 128: max_depth 6 */
    listops_window(256, 64, 256, 10, 300);
}

Test(tasks, listops_options)
{
    const xb_task *t = xb_task_find("listops");
    xb_task_cfg c = small_cfg(t, 128, 100, 10, 10, 3);
    set_opt(t, &c, "min_len", 20);
    set_opt(t, &c, "max_len", 40);
    set_opt(t, &c, "max_args", 4);
    char key[256];
    t->key(&c, key, sizeof key);
    cr_assert_str_eq(key, "listops:L=128,min=20,max=40,depth=6,args=4,leaf=0.25");
    splits s;
    load_ok(t, &c, &s);
    for (int e = 0; e < s.d[0].n; e++) {
        const int32_t *x = s.d[0].x + (size_t)e * 128;
        int len = s.d[0].len[e], pos = 0, depth = 0;
        cr_assert(len > 20 && len < 40);
        cr_assert_eq(lo_eval(x, len, &pos, 1, &depth), s.d[0].y[e]);
        /* at most 4 arguments per operator: count children at each operator */
        int stack[64], sp = 0;
        for (int p = 0; p < len; p++) {
            if (sp > 0 && x[p] != 15) stack[sp - 1]++;
            if (x[p] >= 11 && x[p] <= 14) stack[sp++] = 0;
            else if (x[p] == 15) { cr_assert(stack[sp - 1] >= 2 && stack[sp - 1] <= 4, "%d args", stack[sp - 1]); sp--; }
        }
    }
    splits_release(&s);
    expect_check("listops", 64, "max_len", 66, "'max_len' = 66 must be at most L + 1 = 65");
    expect_check("listops", 64, "min_len", 63, "'min_len' = 63 leaves no length");
    expect_check("listops", 64, "max_depth", 1, "no tree with max_depth = 1");
}

/* ---- the LRA TSV loader on files written here */

static char tmpdir[256];

static void write_file(const char *dir, const char *name, const char *text)
{
    char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
}

static void make_tmp(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/xb-listops-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

/* Remove what make_tmp/write_file made (the fixture names and listops-1000/). */
static void clean_tmp(void)
{
    static const char *const names[] = { "basic_train.tsv", "basic_val.tsv", "basic_test.tsv" };
    char p[600];
    for (int sub = 0; sub < 2; sub++)
        for (int k = 0; k < 3; k++) {
            snprintf(p, sizeof p, "%s%s/%s", tmpdir, sub ? "/listops-1000" : "", names[k]);
            unlink(p);
        }
    snprintf(p, sizeof p, "%s/listops-1000", tmpdir);
    rmdir(p);
    rmdir(tmpdir);
}

static const char good_train[] =
    "Source\tTarget\r\n"
    "( ( ( [MAX 2 ) 9 ) ] )\t9\r\n"
    "( ( ( ( [SM 4 ) ( ( ( [MIN 7 ) 8 ) ] ) ) 5 ) ] )\t6\r\n"
    "\r\n"
    "( ( ( ( [MED 1 ) 2 ) 7 ) ] )\t2\n";
static const char good_val[] = "Source\tTarget\n( ( ( [MIN 3 ) 4 ) ] )\t3\n";
static const char good_test[] =
    "Source\tTarget\n( ( ( [MIN 3 ) 5 ) ] )\t3\n( ( ( ( ( [MED 1 ) 2 ) 5 ) 8 ) ] )\t3\n";

static int load_dir(const char *dir, int L, splits *s, char *err, size_t errn)
{
    const xb_task *t = xb_task_find("listops");
    xb_task_cfg c = small_cfg(t, L, 1, 1, 1, 1);
    c.data_dir = dir;
    return t->load(&c, &s->d[0], &s->d[1], &s->d[2], err, errn);
}

Test(tasks, listops_tsv_good)
{
    make_tmp();
    char sub[300];
    snprintf(sub, sizeof sub, "%s/listops-1000", tmpdir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    write_file(sub, "basic_train.tsv", good_train);
    write_file(sub, "basic_val.tsv", good_val);
    write_file(sub, "basic_test.tsv", good_test);
    splits s;
    char err[512] = "";
    /* the LRA root (holding listops-1000/) and the folder itself both work */
    const char *dirs[2] = { tmpdir, sub };
    for (int k = 0; k < 2; k++) {
        cr_assert_eq(load_dir(dirs[k], 8, &s, err, sizeof err), 0, "%s", err);
        cr_assert_eq(s.d[0].n, 3); cr_assert_eq(s.d[1].n, 1); cr_assert_eq(s.d[2].n, 2);
        char src[400];
        snprintf(src, sizeof src, "files:%s", sub);
        cr_assert_str_eq(s.d[0].source, src);
        int32_t want0[8] = { 12, 3, 10, 15, 0, 0, 0, 0 };      /* [MAX 2 9 ] */
        cr_assert_eq(memcmp(s.d[0].x, want0, sizeof want0), 0);
        cr_assert_eq(s.d[0].len[0], 4);
        cr_assert_eq(s.d[0].y[0], 9); cr_assert_eq(s.d[0].y[1], 6); cr_assert_eq(s.d[0].y[2], 2);
        int32_t want1[8] = { 14, 5, 11, 8, 9, 15, 6, 15 };      /* [SM 4 [MIN 7 8 ] 5 ] */
        cr_assert_eq(memcmp(s.d[0].x + 8, want1, sizeof want1), 0);
        cr_assert_eq(s.d[2].len[1], 6);
        /* labels agree with the independent evaluator */
        for (int sp = 0; sp < 3; sp++)
            for (int e = 0; e < s.d[sp].n; e++) {
                int pos = 0, depth = 0;
                cr_assert_eq(lo_eval(s.d[sp].x + (size_t)e * 8, s.d[sp].len[e], &pos, 1, &depth), s.d[sp].y[e]);
                cr_assert_eq(s.d[sp].hash[e], xb_data_hash(&s.d[sp], e));
            }
        splits_release(&s);
    }
    /* L shorter than an expression truncates it */
    cr_assert_eq(load_dir(sub, 4, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.d[0].len[1], 4);
    splits_release(&s);
    clean_tmp();
}

static void expect_tsv_error(const char *train, const char *want_fmt, int want_rc)
{
    make_tmp();
    write_file(tmpdir, "basic_train.tsv", train);
    write_file(tmpdir, "basic_val.tsv", good_val);
    write_file(tmpdir, "basic_test.tsv", good_test);
    char want[600], err[512] = "", path[400];
    snprintf(path, sizeof path, "%s/basic_train.tsv", tmpdir);
    snprintf(want, sizeof want, want_fmt, path);
    splits s;
    cr_assert_eq(load_dir(tmpdir, 16, &s, err, sizeof err), want_rc, "%s", err);
    cr_assert_str_eq(err, want);
    cr_assert_null(s.d[0].x);
    clean_tmp();
}

Test(tasks, listops_tsv_errors)
{
    expect_tsv_error("Source\tTarget\n( ( [MAX 2 ) ] )\t2\n( ( ( [FOO 2 ) 9 ) ] )\t9\n",
                     "%s:3: unknown token '[FOO'", XB_EFORMAT);
    expect_tsv_error("Source\tTarget\n( ( ( [MAX 2 ) 9 ) ] )\t12\n", "%s:2: label '12' is not a class in 0..9", XB_EFORMAT);
    expect_tsv_error("Source\tTarget\n( ( ( [MAX 2 ) 9 ) ] )\tx\n", "%s:2: label 'x' is not a class in 0..9", XB_EFORMAT);
    expect_tsv_error("Source\tTarget\n( ( ( [MAX 2 ) 9 ) ] ) 9\n", "%s:2: expected 'source<TAB>label', found no tab", XB_EFORMAT);
    expect_tsv_error("Source\tTarget\n( ( ( [MAX 2 ) 9 ) ] )\t9\n( ( ( [MAX 2 ) 9", "%s:3: last line has no newline (file truncated?)", XB_EFORMAT);
    expect_tsv_error("Src\tTarget\n", "%s:1: expected the header 'Source<TAB>Target'", XB_EFORMAT);
    expect_tsv_error("", "%s: empty file (no header)", XB_EFORMAT);
    expect_tsv_error("Source\tTarget\n", "%s: no examples after the header", XB_EFORMAT);

    /* a missing file is named, and nothing is left allocated */
    make_tmp();
    write_file(tmpdir, "basic_train.tsv", good_train);
    write_file(tmpdir, "basic_val.tsv", good_val);
    char want[600], err[512] = "";
    snprintf(want, sizeof want, "%s/basic_test.tsv: cannot open: No such file or directory", tmpdir);
    splits s;
    cr_assert_eq(load_dir(tmpdir, 16, &s, err, sizeof err), XB_ENOTFOUND);
    cr_assert_str_eq(err, want);
    cr_assert_null(s.d[0].x);
    cr_assert_null(s.d[1].x);
    clean_tmp();
}

/* ------------------------------------------------------------------ diagnostics */

static void sc_structure(int variable)
{
    const xb_task *t = xb_task_find("selective_copy");
    xb_task_cfg c = small_cfg(t, 40, 200, 10, 10, 4);
    set_opt(t, &c, "alphabet", 6);
    set_opt(t, &c, "data_tokens", 5);
    set_opt(t, &c, "variable", variable);
    char key[256];
    t->key(&c, key, sizeof key);
    char want[128];
    snprintf(want, sizeof want, "selective_copy:A=6,M=5,R=35,L=40,variable=%d", variable);
    cr_assert_str_eq(key, want);
    splits s;
    load_ok(t, &c, &s);
    int R = 35, M = 5, moved = 0;
    for (int e = 0; e < s.d[0].n; e++) {
        const int32_t *x = s.d[0].x + (size_t)e * 40, *y = s.d[0].y + (size_t)e * 40;
        int data[5], m = 0;
        for (int p = 0; p < R; p++) {
            cr_assert_eq(y[p], XB_IGNORE);
            cr_assert(x[p] >= 0 && x[p] <= 4, "region token %d", x[p]);
            if (x[p] != 0) { cr_assert(m < M); data[m++] = x[p]; if (p >= M) moved = 1; }
        }
        cr_assert_eq(m, M, "region holds %d data tokens", m);
        for (int j = 0; j < M; j++) {
            cr_assert_eq(x[R + j], 5, "marker");
            cr_assert_eq(y[R + j], data[j], "target %d must be data token %d", j, j);
        }
        if (!variable) for (int p = 0; p < M; p++) cr_assert(x[p] != 0);
    }
    cr_assert_eq(moved, variable, "data positions must vary only in the selective variant");
    splits_release(&s);
}

Test(tasks, selective_copy_structure)
{
    sc_structure(1);
    sc_structure(0);
    expect_check("selective_copy", 64, "data_tokens", 33, "'data_tokens' = 33 needs");
    expect_check("selective_copy", 64, "alphabet", 2, "'alphabet' = 2 must be at least 3");
}

Test(tasks, induction_heads_structure)
{
    const xb_task *t = xb_task_find("induction_heads");
    xb_task_cfg c = small_cfg(t, 33, 2000, 10, 10, 8);
    char key[256];
    t->key(&c, key, sizeof key);
    cr_assert_str_eq(key, "induction_heads:V=16,N=32,L=33");
    splits s;
    load_ok(t, &c, &s);
    int hist[16] = {0};
    for (int e = 0; e < s.d[0].n; e++) {
        const int32_t *x = s.d[0].x + (size_t)e * 33, *y = s.d[0].y + (size_t)e * 33;
        int first = -1, triggers = 0;
        for (int p = 0; p < 33; p++) {
            cr_assert(x[p] != 15, "reserved id used");
            if (x[p] == 14) { triggers++; if (first < 0) first = p; }
            if (p < 32) cr_assert_eq(y[p], XB_IGNORE);
        }
        cr_assert_eq(triggers, 2);
        cr_assert(first <= 32 - 3, "first trigger at %d", first);
        cr_assert_eq(x[32], 14, "the sequence ends with the trigger");
        cr_assert_eq(y[32], x[first + 1], "target = the token after the first trigger");
        cr_assert(y[32] < 14);
        hist[y[32]]++;
    }
    for (int v = 0; v < 14; v++) cr_assert(hist[v] > 2000 / 14 / 2, "target %d is rare: %d", v, hist[v]);
    splits_release(&s);
    expect_check("induction_heads", 64, "vocab", 3, "'vocab' = 3 must be at least 4");
    expect_check("induction_heads", 3, NULL, 0, "L = 3 must be at least 4");
}

Test(tasks, passkey_structure)
{
    const xb_task *t = xb_task_find("passkey");
    xb_task_cfg c = small_cfg(t, 30, 500, 10, 10, 9);
    set_opt(t, &c, "digits", 4);
    set_opt(t, &c, "fillers", 3);
    cr_assert_eq(t->vocab(&c), 15);
    splits s;
    load_ok(t, &c, &s);
    int L = 30, D = 4, q = L - D, last_start = 0;
    for (int e = 0; e < s.d[0].n; e++) {
        const int32_t *x = s.d[0].x + (size_t)e * L, *y = s.d[0].y + (size_t)e * L;
        int key = -1;
        for (int p = 0; p < q; p++) if (x[p] == 10) { cr_assert_eq(key, -1, "two KEY markers"); key = p; }
        cr_assert(key >= 0 && key <= L - 2 * D - 1, "needle at %d", key);
        if (key > last_start) last_start = key;
        for (int p = 0; p < q; p++) {
            cr_assert_eq(y[p], XB_IGNORE);
            if (p >= key && p <= key + D) continue;
            /* filler: consecutive filler positions follow the cycle 12, 13, 14, 12, ... */
            cr_assert(x[p] >= 12 && x[p] < 15, "filler %d", x[p]);
            if (p > 0 && !(p - 1 >= key && p - 1 <= key + D))
                cr_assert_eq(x[p], 12 + (x[p - 1] - 12 + 1) % 3);
        }
        cr_assert_eq(x[q], 11, "QUERY");
        for (int j = 0; j < D; j++) {
            cr_assert(x[key + 1 + j] >= 0 && x[key + 1 + j] <= 9);
            cr_assert_eq(y[q + j], x[key + 1 + j], "target %d must be digit %d", j, j + 1);
            if (j > 0) cr_assert_eq(x[q + j], x[key + j], "teacher forcing");
        }
    }
    cr_assert_eq(last_start, L - 2 * D - 1, "the needle reaches its last start");
    splits_release(&s);
    expect_check("passkey", 10, "digits", 5, "'digits' = 5 needs 1 <= digits and 2*digits + 1 <= L = 10");
}

Test(tasks, parity_labels)
{
    const xb_task *t = xb_task_find("parity");
    xb_task_cfg c = small_cfg(t, 17, 300, 10, 10, 10);
    splits s;
    load_ok(t, &c, &s);
    int ones = 0;
    for (int e = 0; e < s.d[0].n; e++) {
        const int32_t *x = s.d[0].x + (size_t)e * 17;
        int p = 0;
        for (int i = 0; i < 17; i++) { cr_assert(x[i] == 1 || x[i] == 2); p += x[i] == 2; }
        cr_assert_eq(s.d[0].y[e], p % 2);
        ones += s.d[0].y[e];
    }
    cr_assert(ones > 100 && ones < 200, "labels unbalanced: %d of 300", ones);
    splits_release(&s);
    expect_check("parity", 10, "test_examples", 1024, "L = 10 has only 2^L distinct sequences");
}

Test(tasks, majority_labels)
{
    const xb_task *t = xb_task_find("majority");
    for (int mod = 0; mod <= 3; mod += 3) {
        xb_task_cfg c = small_cfg(t, 9, 400, 10, 10, 12);
        set_opt(t, &c, "classes", 3);
        set_opt(t, &c, "count_mod", mod);
        cr_assert_eq(t->n_classes(&c), 3);
        cr_assert_eq(t->vocab(&c), 4);
        splits s;
        load_ok(t, &c, &s);
        int ties = 0;
        for (int e = 0; e < s.d[0].n; e++) {
            const int32_t *x = s.d[0].x + (size_t)e * 9;
            int cnt[4] = {0};
            for (int i = 0; i < 9; i++) { cr_assert(x[i] >= 1 && x[i] <= 3); cnt[x[i]]++; }
            int want;
            if (mod) want = cnt[1] % mod;
            else {
                /* smallest id among those with the top count */
                int top = cnt[1] > cnt[2] ? (cnt[1] > cnt[3] ? cnt[1] : cnt[3]) : (cnt[2] > cnt[3] ? cnt[2] : cnt[3]);
                want = cnt[1] == top ? 0 : cnt[2] == top ? 1 : 2;
                ties += (cnt[1] == top) + (cnt[2] == top) + (cnt[3] == top) > 1;
            }
            cr_assert_eq(s.d[0].y[e], want, "label %d, want %d", s.d[0].y[e], want);
        }
        if (!mod) cr_assert(ties > 20, "ties must occur at L = 9 (%d)", ties);
        splits_release(&s);
    }
    expect_check("majority", 64, "count_mod", 1, "'count_mod' = 1 must be 0");
    expect_check("majority", 2, "test_examples", 20, "L = 2 has only classes^L = 16 distinct sequences");
}
