/* core/data.c — the task helpers of core/task.h: option lookup and defaults, the task key,
 * data-set allocation, example hashes, the seeded generator driver with split
 * disjointness (TASKS.md §4.1–4.2) and the majority-class rate.
 *
 * Generation is serial on purpose: each example has its own PRNG stream, so the result
 * does not depend on threads anyway, and staying serial means the harness may call it
 * from a process that must not start an OpenMP pool (DESIGN.md, fork safety). */
#include "core/task.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"

/* Regenerations allowed per example before giving up (a too-small example space). */
#define RETRY_MAX 1000

double xb_task_opt(const xb_task *t, const xb_task_cfg *c, const char *name)
{
    for (int i = 0; i < t->n_opts; i++)
        if (strcmp(t->opts[i].name, name) == 0) return c->opt[i];
    XB_ASSERT(!"unknown task option");
    return 0.0;
}

void xb_task_cfg_defaults(const xb_task *t, xb_task_cfg *c)
{
    XB_ASSERT(t->n_opts <= XB_TASK_MAX_OPTS);
    for (int i = 0; i < t->n_opts; i++) c->opt[i] = t->opts[i].def;
}

uint64_t xb_task_key(const xb_task *t, const xb_task_cfg *c)
{
    char buf[512];
    buf[0] = '\0';
    t->key(c, buf, sizeof buf);
    return xb_fnv1a_str(buf);
}

/* ------------------------------------------------------------------ allocation */

static int row_tokens(const xb_data *d) { return d->shape == XB_SHAPE_PAIR ? 2 * d->L : d->L; }
static int row_targets(const xb_data *d) { return d->shape == XB_SHAPE_TOK ? d->L : 1; }
static int row_lens(const xb_data *d) { return d->shape == XB_SHAPE_PAIR ? 2 : 1; }

int xb_data_alloc(xb_data *d, xb_shape shape, int n, int L, int vocab, int n_classes)
{
    XB_ASSERT(n >= 0 && L >= 1);
    memset(d, 0, sizeof *d);
    d->shape = shape; d->n = n; d->L = L; d->vocab = vocab; d->n_classes = n_classes;
    snprintf(d->source, sizeof d->source, "generator");
    size_t nn = (size_t)n;
    d->x = xb_alloc(nn * (size_t)row_tokens(d) * sizeof(int32_t));
    d->y = xb_alloc(nn * (size_t)row_targets(d) * sizeof(int32_t));
    d->len = xb_alloc(nn * (size_t)row_lens(d) * sizeof(int));
    d->hash = xb_alloc(nn * sizeof(uint64_t));
    if (!d->x || !d->y || !d->len || !d->hash) { xb_data_release(d); return XB_ENOMEM; }
    return XB_OK;
}

void xb_data_release(xb_data *d)
{
    xb_free(d->x); xb_free(d->y); xb_free(d->len); xb_free(d->hash);
    d->x = d->y = NULL; d->len = NULL; d->hash = NULL;
    d->n = 0;
}

/* FNV-1a over int32 values written little-endian, so the hash is the same on every
 * platform (the byte loop of xb_fnv1a_more, inlined: loaders hash many long rows). */
static uint64_t hash_i32(uint64_t h, const int32_t *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u = (uint32_t)v[i];
        for (int b = 0; b < 4; b++) { h ^= (u >> (8 * b)) & 0xff; h *= 0x100000001b3ULL; }
    }
    return h;
}

uint64_t xb_data_hash(const xb_data *d, int i)
{
    size_t nt = (size_t)row_tokens(d), ny = (size_t)row_targets(d), nl = (size_t)row_lens(d);
    uint64_t h = xb_fnv1a(NULL, 0);
    h = hash_i32(h, d->x + (size_t)i * nt, nt);
    int32_t lens[2] = { d->len[(size_t)i * nl], nl == 2 ? d->len[(size_t)i * nl + 1] : 0 };
    h = hash_i32(h, lens, nl);
    return hash_i32(h, d->y + (size_t)i * ny, ny);
}

/* ------------------------------------------------------------------ hash set */

/* Open addressing over 64-bit hashes; the value 0 is tracked by a flag because the
 * empty slot is 0. */
typedef struct hset { uint64_t *slot; size_t mask; int has_zero; } hset;

static int hset_init(hset *s, size_t n)
{
    size_t cap = 16;
    while (cap < 2 * n + 2) cap *= 2;
    s->slot = xb_alloc(cap * sizeof(uint64_t));
    s->mask = cap - 1;
    s->has_zero = 0;
    return s->slot ? XB_OK : XB_ENOMEM;
}

static void hset_free(hset *s) { xb_free(s->slot); s->slot = NULL; }

static int hset_has(const hset *s, uint64_t h)
{
    if (h == 0) return s->has_zero;
    for (size_t i = xb_splitmix64(h) & s->mask;; i = (i + 1) & s->mask) {
        if (s->slot[i] == h) return 1;
        if (s->slot[i] == 0) return 0;
    }
}

/* Capacity is at least twice the number of inserts (hset_init), so probing ends. */
static void hset_add(hset *s, uint64_t h)
{
    if (h == 0) { s->has_zero = 1; return; }
    size_t i = xb_splitmix64(h) & s->mask;
    while (s->slot[i] != 0 && s->slot[i] != h) i = (i + 1) & s->mask;
    s->slot[i] = h;
}

/* ------------------------------------------------------------------ generation */

static const char *split_name(int split)
{
    return split == 1 ? "train" : split == 2 ? "val" : "test";
}

/* Seed of example i of a split, retry r folded in (r = 0: the plain §4.1 seed). */
static uint64_t retry_seed(uint64_t S, uint64_t T, int split, int i, int retry)
{
    uint64_t s = xb_example_seed(S, T, split, (uint64_t)i);
    return retry == 0 ? s : xb_splitmix64(s ^ xb_splitmix64(0x7265747279ULL + (uint64_t)retry));
}

/* Range-check what a generator wrote: a bug in a task must not reach training. */
static int check_example(const xb_task *t, const xb_data *d, int i, char *err, size_t errn)
{
    size_t nt = (size_t)row_tokens(d), ny = (size_t)row_targets(d), nl = (size_t)row_lens(d);
    const int32_t *x = d->x + (size_t)i * nt, *y = d->y + (size_t)i * ny;
    const int *len = d->len + (size_t)i * nl;
    for (size_t k = 0; k < nl; k++)
        if (len[k] < 1 || len[k] > d->L) {
            snprintf(err, errn, "task '%s': generator wrote length %d outside 1..%d", t->name, len[k], d->L);
            return XB_EINVAL;
        }
    for (size_t k = 0; k < nt; k++)
        if (x[k] < 0 || x[k] >= d->vocab) {
            snprintf(err, errn, "task '%s': generator wrote token %d outside 0..%d", t->name,
                     (int)x[k], d->vocab - 1);
            return XB_EINVAL;
        }
    for (size_t k = 0; k < ny; k++) {
        int ok = (y[k] >= 0 && y[k] < d->n_classes) || (d->shape == XB_SHAPE_TOK && y[k] == XB_IGNORE);
        if (!ok) {
            snprintf(err, errn, "task '%s': generator wrote target %d outside 0..%d", t->name,
                     (int)y[k], d->n_classes - 1);
            return XB_EINVAL;
        }
    }
    return XB_OK;
}

/* The example function, either form (ctx_fn set: the split-aware form with its context). */
typedef struct gen_fn { xb_example_fn fn; xb_example_ctx_fn ctx_fn; void *ctx; } gen_fn;

/* Draw example i of a split into d (row i) from the seed with `retry` folded in. */
static int draw(const xb_task *t, const xb_task_cfg *c, const gen_fn *g, uint64_t T,
                xb_data *d, int split, int i, int retry, char *err, size_t errn)
{
    size_t nt = (size_t)row_tokens(d), ny = (size_t)row_targets(d), nl = (size_t)row_lens(d);
    int32_t *x = d->x + (size_t)i * nt, *y = d->y + (size_t)i * ny;
    int *len = d->len + (size_t)i * nl;
    memset(x, 0, nt * sizeof *x);
    for (size_t k = 0; k < ny; k++) y[k] = XB_IGNORE;
    for (size_t k = 0; k < nl; k++) len[k] = d->L;
    xb_rng r;
    xb_rng_seed(&r, retry_seed(c->seed, T, split, i, retry));
    int frc = g->ctx_fn ? g->ctx_fn(c, g->ctx, split, i, &r, x, y, len) : g->fn(c, &r, x, y, len);
    if (frc != XB_OK) {
        snprintf(err, errn, "task '%s': cannot generate %s example %d", t->name, split_name(split), i);
        return XB_EINVAL;
    }
    int rc = check_example(t, d, i, err, errn);
    if (rc == XB_OK) d->hash[i] = xb_data_hash(d, i);
    return rc;
}

/* Fill split `split` of n examples. add != 0: the example must not be in the set yet and
 * is added (val/test); add == 0: it must only avoid the set (train). */
static int fill_split(const xb_task *t, const xb_task_cfg *c, const gen_fn *fn, uint64_t T,
                      xb_data *d, int split, hset *seen, int add, char *err, size_t errn)
{
    for (int i = 0; i < d->n; i++) {
        int retry = 0;
        for (;;) {
            int rc = draw(t, c, fn, T, d, split, i, retry, err, errn);
            if (rc != XB_OK) return rc;
            if (!hset_has(seen, d->hash[i])) break;
            d->rejected++;
            if (++retry > RETRY_MAX) {
                snprintf(err, errn, "task '%s': %s example %d still duplicates a val/test example "
                         "after %d retries (the example space is too small for these split sizes)",
                         t->name, split_name(split), i, RETRY_MAX);
                return XB_EINVAL;
            }
        }
        if (add) hset_add(seen, d->hash[i]);
    }
    return XB_OK;
}

static int generate(const xb_task *t, const xb_task_cfg *c, const gen_fn *fn,
                    int n_train, int n_val, int n_test,
                    xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn)
{
    memset(train, 0, sizeof *train); memset(val, 0, sizeof *val); memset(test, 0, sizeof *test);
    if (t->check) {
        int rc = t->check(c, err, errn);
        if (rc != XB_OK) return rc;
    }
    if (c->L < 1) {
        snprintf(err, errn, "task '%s': sequence length L = %d must be positive", t->name, c->L);
        return XB_EINVAL;
    }
    if (n_train < 0 || n_val < 0 || n_test < 0) {
        snprintf(err, errn, "task '%s': negative number of examples", t->name);
        return XB_EINVAL;
    }
    int V = t->vocab(c), C = t->n_classes(c);
    uint64_t T = xb_task_key(t, c);
    hset seen = {0};
    int rc = XB_ENOMEM;
    if (xb_data_alloc(train, t->shape, n_train, c->L, V, C) != XB_OK ||
        xb_data_alloc(val, t->shape, n_val, c->L, V, C) != XB_OK ||
        xb_data_alloc(test, t->shape, n_test, c->L, V, C) != XB_OK ||
        hset_init(&seen, (size_t)n_val + (size_t)n_test) != XB_OK) {
        snprintf(err, errn, "task '%s': out of memory for %d/%d/%d examples of length %d",
                 t->name, n_train, n_val, n_test, c->L);
        goto fail;
    }
    /* val and test first: duplicates within val ∪ test are redrawn, then train avoids both. */
    if ((rc = fill_split(t, c, fn, T, val, 2, &seen, 1, err, errn)) != XB_OK) goto fail;
    if ((rc = fill_split(t, c, fn, T, test, 3, &seen, 1, err, errn)) != XB_OK) goto fail;
    if ((rc = fill_split(t, c, fn, T, train, 1, &seen, 0, err, errn)) != XB_OK) goto fail;
    hset_free(&seen);
    return XB_OK;
fail:
    hset_free(&seen);
    xb_data_release(train); xb_data_release(val); xb_data_release(test);
    return rc;
}

int xb_data_generate(const xb_task *t, const xb_task_cfg *c, xb_example_fn fn,
                     int n_train, int n_val, int n_test,
                     xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn)
{
    gen_fn g = { fn, NULL, NULL };
    return generate(t, c, &g, n_train, n_val, n_test, train, val, test, err, errn);
}

int xb_data_generate_ctx(const xb_task *t, const xb_task_cfg *c, xb_example_ctx_fn fn, void *ctx,
                         int n_train, int n_val, int n_test,
                         xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn)
{
    gen_fn g = { NULL, fn, ctx };
    return generate(t, c, &g, n_train, n_val, n_test, train, val, test, err, errn);
}

/* ------------------------------------------------------------------ choosing from files */

/* Reads rows of a file-backed corpus into a one-example scratch to hash them. */
typedef struct rows {
    const xb_task *t;
    xb_row_fn fn;
    void *ctx;
    xb_data one;
} rows;

static int row_hash(rows *w, int split, int row, uint64_t *h, char *err, size_t errn)
{
    xb_data *o = &w->one;
    memset(o->x, 0, (size_t)row_tokens(o) * sizeof *o->x);
    o->y[0] = 0;
    for (int m = 0; m < row_lens(o); m++) o->len[m] = 0;
    int rc = w->fn(w->ctx, split, row, o->x, o->y, o->len, err, errn);
    if (rc == XB_OK) rc = check_example(w->t, o, 0, err, errn);
    if (rc == XB_OK) *h = xb_data_hash(o, 0);
    return rc;
}

int xb_data_from_rows(const xb_task *t, const xb_task_cfg *c, xb_row_fn fn, void *ctx,
                      const int avail[3], const int want[3],
                      xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn)
{
    static const char *const nm[3] = { "train", "val", "test" };
    static const int order[3] = { 1, 2, 0 };       /* val, test, then train */
    xb_data *out[3] = { train, val, test };
    rows w = { t, fn, ctx, { 0 } };
    hset seen = {0};
    int *perm = NULL, rc = XB_OK, V = t->vocab(c), C = t->n_classes(c);
    long rejected = 0;
    uint64_t T = xb_task_key(t, c);
    for (int k = 0; k < 3; k++) memset(out[k], 0, sizeof *out[k]);
    if (xb_data_alloc(&w.one, t->shape, 1, c->L, V, C) != XB_OK ||
        hset_init(&seen, (size_t)avail[1] + (size_t)avail[2]) != XB_OK) goto nomem;
    size_t nt = (size_t)row_tokens(&w.one), nl = (size_t)row_lens(&w.one);
    for (int o = 0; o < 3; o++) {
        int k = order[o], n = avail[k];
        int want_k = want[k] < 0 ? n : want[k];
        if (xb_data_alloc(out[k], t->shape, want_k, c->L, V, C) != XB_OK) goto nomem;
        perm = malloc(((size_t)n + 1) * sizeof *perm);
        if (!perm) goto nomem;
        /* Fisher–Yates over the split's rows from the (S, T, "choose", split) stream; rows are
         * read (and hashed) only as the walk reaches them. */
        for (int i = 0; i < n; i++) perm[i] = i;
        xb_rng r;
        xb_rng_seed(&r, xb_stream_seed(c->seed, T, "choose", (uint64_t)(k + 1)));
        for (int i = n - 1; i > 0; i--) {
            int j = (int)xb_rng_below(&r, (uint32_t)i + 1);
            int tmp = perm[i]; perm[i] = perm[j]; perm[j] = tmp;
        }
        int m = 0;
        for (int i = 0; i < n && m < want_k; i++) {
            uint64_t h;
            if ((rc = row_hash(&w, k, perm[i], &h, err, errn)) != XB_OK) goto fail;
            if (hset_has(&seen, h)) { rejected++; continue; }
            if (k != 0) hset_add(&seen, h);
            memcpy(out[k]->x + (size_t)m * nt, w.one.x, nt * sizeof *w.one.x);
            memcpy(out[k]->len + (size_t)m * nl, w.one.len, nl * sizeof *w.one.len);
            out[k]->y[m] = w.one.y[0];
            out[k]->hash[m] = h;
            m++;
        }
        free(perm); perm = NULL;
        if (k == 2 && m == 0) {
            snprintf(err, errn, "task '%s': the test split has no usable examples (%d rows, "
                     "duplicates of val/test dropped)", t->name, n);
            rc = XB_EINVAL;
            goto fail;
        }
        if (m < want_k && want[k] >= 0) {
            snprintf(err, errn, "task '%s': the %s split has only %d usable examples (%d rows, "
                     "duplicates of val/test dropped) but %s_examples asks for %d "
                     "(use at most %d, or -1 for all)", t->name, nm[k], m, n, nm[k], want_k, m);
            rc = XB_EINVAL;
            goto fail;
        }
        out[k]->n = m;
    }
    train->rejected = rejected;
    goto done;
nomem:
    snprintf(err, errn, "task '%s': out of memory for the file-backed splits", t->name);
    rc = XB_ENOMEM;
fail:
    for (int k = 0; k < 3; k++) xb_data_release(out[k]);
done:
    free(perm);
    hset_free(&seen);
    xb_data_release(&w.one);
    return rc;
}

double xb_data_majority(const xb_data *d)
{
    if (d->n <= 0 || d->n_classes <= 0) return 0.0;
    long *count = calloc((size_t)d->n_classes, sizeof *count);
    XB_ASSERT(count);
    size_t ny = (size_t)d->n * (size_t)row_targets(d);
    long total = 0, best = 0;
    for (size_t k = 0; k < ny; k++) {
        int y = d->y[k];
        if (y < 0 || y >= d->n_classes) continue;   /* XB_IGNORE */
        count[y]++; total++;
    }
    for (int k = 0; k < d->n_classes; k++) if (count[k] > best) best = count[k];
    free(count);
    return total ? (double)best / (double)total : 0.0;
}
