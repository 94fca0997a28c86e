/* harness/dump.c — `xbench dump` (see harness/dump.h). */
#include "harness/dump.h"

#include <errno.h>
#include <json-c/json.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/rng.h"
#include "core/xb.h"
#include "harness/diag.h"
#include "harness/mixcfg.h"
#include "harness/npy.h"
#include "mixers/registry.h"

#define JADD(o, k, v) json_object_object_add((o), (k), (v))

static const char *mode_word(int causal) { return causal ? "causal" : "bidirectional"; }

/* ---- options ---- */

xb_mixer_cfg xb_dump_cfg(int d, int heads, int causal, int n)
{
    xb_mixer_cfg c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.heads = heads;
    c.causal = causal;
    c.n_max = n;
    return c;
}

int xb_dump_option(const xb_mixer *m, xb_mixer_cfg *c, const char *kv, char *err, size_t errn)
{
    const char *eq = strchr(kv, '=');
    char key[64];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key) {
        snprintf(err, errn, "--option: expected KEY=VALUE, got '%s'", kv);
        return XB_EINVAL;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    const char *val = eq + 1;
    int k = xb_mixer_opt_find(m, key);
    if (k < 0) {
        const char *names[XB_MIXER_MAX_OPTS];
        int nv = m->n_opts < XB_MIXER_MAX_OPTS ? m->n_opts : XB_MIXER_MAX_OPTS;
        for (int j = 0; j < nv; j++) names[j] = m->opts[j].name;
        char list[512];
        xb_closest_list(list, sizeof list, key, names, nv);
        snprintf(err, errn, "--option: mixer '%s' has no option '%s'; its options: %s", m->name, key, list);
        return XB_EINVAL;
    }
    const xb_mixer_opt *o = &m->opts[k];
    double lo, hi, v;
    xb_mixer_opt_range(o, &lo, &hi);
    char *end;
    errno = 0;
    if (o->type == XB_OPT_ENUM) {
        for (int j = 0; o->names[j]; j++)
            if (!strcmp(val, o->names[j])) {
                c->opt[k] = j + 1;
                return 0;
            }
        long long i = strtoll(val, &end, 10);
        if (end != val && !*end && !errno && i >= lo && i <= hi) {
            c->opt[k] = (double)i;
            return 0;
        }
        char list[512];
        xb_mixer_opt_choices(list, sizeof list, o);
        snprintf(err, errn, "--option %s: expected %s, got '%s'", key, list, val);
        return XB_EINVAL;
    }
    if (o->type == XB_OPT_INT) {
        long long i = strtoll(val, &end, 10);
        v = (double)i;
    } else {
        v = strtod(val, &end);
    }
    if (end == val || *end || errno || !(v >= lo && v <= hi)) {
        snprintf(err, errn, "--option %s: expected %s between %.10g and %.10g, got '%s'", key,
                 o->type == XB_OPT_INT ? "an integer" : "a number", lo, hi, val);
        return XB_EINVAL;
    }
    c->opt[k] = o->type == XB_OPT_FLOAT ? (double)(float)v : v;
    return 0;
}

/* ---- tensor shapes and layouts ---- */

/* A vector (cols = 1 and not a decayed matrix) is 1-D; a matrix with one column (lmu's
 * W_u [d, 1], decayed) stays 2-D, as MIXERS.md §32 writes it. */
static int tensor_shape(const xb_tensor *t, size_t shape[2])
{
    shape[0] = (size_t)t->rows;
    shape[1] = (size_t)t->cols;
    return xb_tensor_is_vector(t) ? 1 : 2;
}

static const char *flags_word(unsigned f)
{
    return f & XB_T_FROZEN ? "frozen" : f & XB_T_DECAY ? "decay" : "-";
}

static void shape_text(char *buf, size_t n, int nd, const size_t *sh)
{
    if (nd == 1) snprintf(buf, n, "(%zu,)", sh[0]);
    else snprintf(buf, n, "(%zu, %zu)", sh[0], sh[1]);
}

/* ---- --list-tensors ---- */

/* The same files, shapes, offsets, flags and layouts in both modes (a and b of m). */
static int same_tensors(const xb_mixer *m, const xb_mixer_cfg *ca, const xb_tensor *a, int na,
                        const xb_mixer_cfg *cb, const xb_tensor *b, int nb)
{
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) || a[i].offset != b[i].offset || a[i].rows != b[i].rows ||
            a[i].cols != b[i].cols || a[i].flags != b[i].flags ||
            strcmp(xb_tensor_layout(m, ca, &a[i]), xb_tensor_layout(m, cb, &b[i])))
            return 0;
    return 1;
}

static void print_table(FILE *f, const xb_mixer *m, const xb_mixer_cfg *c, const xb_tensor *t, int nt)
{
    if (nt == 0) {
        fprintf(f, "No parameters: only x, y, dy and dx are written.\n");
        return;
    }
    fprintf(f, "| file | shape | offset | flags | gradient | layout |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < nt; i++) {
        size_t sh[2];
        char s[48];
        shape_text(s, sizeof s, tensor_shape(&t[i], sh), sh);
        char g[64];
        if (t[i].flags & XB_T_FROZEN) snprintf(g, sizeof g, "none (frozen)");
        else snprintf(g, sizeof g, "grad_%s.npy", t[i].name);
        fprintf(f, "| %s.npy | %s | %zu | %s | %s | %s |\n", t[i].name, s, t[i].offset, flags_word(t[i].flags), g,
                xb_tensor_layout(m, c, &t[i]));
    }
}

void xb_dump_list_tensors(FILE *f, const xb_mixer *only, int d, int heads, int n)
{
    fprintf(f, "<!-- generated by `xbench dump --list-tensors --d %d --heads %d --n %d`: edit the mixers "
            "(tensors, layout) or harness/dump.c, not this block -->\n",
            d, heads, n);
    fprintf(f, "Tensor files per mixer at d = %d, heads = %d, N = n_max = %d, every option at its default.\n"
           "Offsets are in floats from the start of the mixer's weight slab.\n",
           d, heads, n);
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        if (only && m != only) continue;
        xb_tensor tm[2][XB_MAX_TENSORS];
        int ntm[2] = {-1, -1};
        xb_mixer_cfg cm[2];
        for (int k = 0; k < 2; k++) {
            if (!(m->modes & (k ? XB_BIDIR : XB_CAUSAL))) continue;
            xb_mixer_cfg c0 = xb_dump_cfg(d, heads, k == 0, n);
            cm[k] = xb_mixer_resolve(m, &c0);
            char err[256];
            if (xb_mixer_check(m, &cm[k], err, sizeof err)) {
                fprintf(f, "\n### %s (%s)\n\nNot valid at this size: %s\n", m->name, mode_word(k == 0), err);
                continue;
            }
            ntm[k] = m->tensors(&cm[k], tm[k]);
        }
        int merged = ntm[0] >= 0 && ntm[1] >= 0 && same_tensors(m, &cm[0], tm[0], ntm[0], &cm[1], tm[1], ntm[1]);
        for (int k = 0; k < 2; k++) {
            if (ntm[k] < 0 || (merged && k == 1)) continue;
            char o[256];
            xb_mixcfg_text(o, sizeof o, m, &cm[k]);
            fprintf(f, "\n### %s (%s)\n\n", m->name, merged ? "causal, bidirectional" : mode_word(k == 0));
            fprintf(f, "Options: %s. Parameters: %zu trainable of %zu.\n\n", *o ? o : "none",
                    xb_mixer_n_trainable(m, &cm[k]), xb_mixer_n_params(m, &cm[k]));
            print_table(f, m, &cm[k], tm[k], ntm[k]);
        }
    }
    fprintf(f, "<!-- end of generated block -->\n");
}

/* ---- meta.json ---- */

static json_object *jfloat(float v)
{
    char s[32];
    for (int p = 1; p <= 9; p++) {   /* the shortest text that reads back to the same float */
        snprintf(s, sizeof s, "%.*g", p, (double)v);
        if (strtof(s, NULL) == v) break;
    }
    return json_object_new_double_s((double)v, s);
}

static json_object *jshape(int nd, const size_t *sh)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < nd; i++) json_object_array_add(a, json_object_new_int64((int64_t)sh[i]));
    return a;
}

#define JADD(o, k, v) json_object_object_add((o), (k), (v))

static void jstr(json_object *o, const char *k, const char *v) { JADD(o, k, json_object_new_string(v)); }

/* The facts sink of core/mixer.h over json-c: a stack of open containers, the object of
 * "decisions" at the bottom. */
typedef struct facts_json {
    json_object *stack[8];
    int top;
} facts_json;

static void fj_add(facts_json *s, const char *key, json_object *v)
{
    json_object *at = s->stack[s->top];
    if (json_object_is_type(at, json_type_array)) json_object_array_add(at, v);
    else JADD(at, key, v);
}

static void fj_text(void *ctx, const char *key, const char *v) { fj_add(ctx, key, json_object_new_string(v)); }
static void fj_integer(void *ctx, const char *key, long v) { fj_add(ctx, key, json_object_new_int((int)v)); }
static void fj_real(void *ctx, const char *key, float v) { fj_add(ctx, key, jfloat(v)); }

static void fj_open(void *ctx, const char *key)
{
    facts_json *s = ctx;
    json_object *a = json_object_new_array();
    fj_add(s, key, a);
    if (s->top + 1 < (int)(sizeof s->stack / sizeof *s->stack)) s->stack[++s->top] = a;
}

static void fj_close(void *ctx)
{
    facts_json *s = ctx;
    if (s->top > 0) s->top--;
}

/* The MIXERS.md §32 decisions that apply to this mixer and configuration (at length N): the
 * layout rules every mixer shares, then what the mixer states itself. */
static json_object *decisions_json(const xb_mixer *m, const xb_mixer_cfg *c, int N)
{
    json_object *o = json_object_new_object();
    jstr(o, "linear_layout", "(in, out) row-major: y = x W, element W[i][j] at i*out + j");
    jstr(o, "heads_layout", "head j uses columns [j*d_h, (j+1)*d_h)");
    facts_json s = {{o}, 0};
    const xb_facts f = {&s, fj_text, fj_integer, fj_real, fj_open, fj_close};
    if (m->facts) m->facts(c, N, &f);
    return o;
}

/* ---- the dump ---- */

static int mkdir_p(const char *dir)
{
    char p[4096];
    if (!*dir) {                /* the walk below starts after the first byte */
        errno = ENOENT;
        return -1;
    }
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

typedef struct dumper {
    const char *dir;
    json_object *files;
    int failed;
    FILE *err;
} dumper;

static void put(dumper *D, const char *name, const float *data, int nd, const size_t *sh)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s.npy", D->dir, name);
    if (!D->failed && xb_npy_write(path, data, nd, sh) != 0) {
        fprintf(D->err, "xbench dump: cannot write %s: %s\n", path, strerror(errno));
        D->failed = 1;
    }
    char f[128];
    snprintf(f, sizeof f, "%s.npy", name);
    json_object_array_add(D->files, json_object_new_string(f));
}

static float *normal_tensor(uint64_t seed, const char *stream, size_t n)
{
    float *p = xb_alloc(n * sizeof(float));
    if (!p) return NULL;
    xb_rng r;
    xb_rng_seed(&r, xb_stream_seed(seed, 0, stream, 0));
    for (size_t i = 0; i < n; i++) p[i] = (float)xb_rng_normal(&r);
    return p;
}

int xb_dump_run(const xb_mixer *m, const xb_mixer_cfg *c, int N, uint64_t seed, const char *dir, FILE *out,
                FILE *err)
{
    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(c, t);
    size_t np = xb_mixer_n_params(m, c), nx = (size_t)N * c->d;
    size_t ns = m->n_saved(c, N), nsc = m->n_scratch ? m->n_scratch(c, 1, N) : 0;
    float *w = xb_alloc(np * sizeof(float) + 64), *dw = xb_alloc(np * sizeof(float) + 64);
    float *saved = xb_alloc(ns * sizeof(float) + 64), *scratch = xb_alloc(nsc * sizeof(float) + 64);
    float *y = xb_alloc(nx * sizeof(float)), *dx = xb_alloc(nx * sizeof(float));
    float *x = normal_tensor(seed, "dump.x", nx), *dy = normal_tensor(seed, "dump.dy", nx);
    int rc = XB_ENOMEM;
    json_object *meta = NULL;
    if (!w || !dw || !saved || !scratch || !y || !dx || !x || !dy) {
        fprintf(err, "xbench dump: out of memory (%zu parameters, %zu saved, %zu scratch floats)\n", np, ns, nsc);
        goto out;
    }
    xb_rng r;
    xb_rng_seed(&r, xb_stream_seed(seed, 0, "init", 0));
    m->init(c, w, &r);
    m->forward(c, w, x, NULL, y, saved, scratch, 1, N);
    m->backward(c, w, x, NULL, saved, dy, dx, dw, scratch, 1, N);

    rc = XB_EIO;
    if (mkdir_p(dir) != 0) {
        fprintf(err, "xbench dump: cannot create folder '%s': %s\n", dir, strerror(errno));
        goto out;
    }
    dumper D = {dir, json_object_new_array(), 0, err};
    meta = json_object_new_object();
    JADD(meta, "format", json_object_new_string("xbench-dump 1"));
    JADD(meta, "xbench_version", json_object_new_string(XB_VERSION));
    JADD(meta, "mixer", json_object_new_string(m->name));
    JADD(meta, "mode", json_object_new_string(mode_word(c->causal)));
    JADD(meta, "seed", json_object_new_uint64(seed));
    JADD(meta, "B", json_object_new_int(1));
    JADD(meta, "N", json_object_new_int(N));
    JADD(meta, "d", json_object_new_int(c->d));
    JADD(meta, "heads", json_object_new_int(c->heads));
    JADD(meta, "threads", json_object_new_int(omp_get_max_threads()));
    JADD(meta, "config", xb_mixcfg_dump_json(m, c));
    JADD(meta, "n_params", json_object_new_int64((int64_t)np));
    JADD(meta, "n_trainable", json_object_new_int64((int64_t)xb_mixer_n_trainable(m, c)));
    JADD(meta, "flops_forward", json_object_new_double(m->flops(c, N)));
    json_object *rng = json_object_new_object();
    jstr(rng, "generator", "xoshiro256** (core/rng.c), normals by Box-Muller (xb_rng_normal) cast to float");
    jstr(rng, "init", "mixer init() over the slab, rng seeded with xb_stream_seed(seed, 0, \"init\", 0)");
    jstr(rng, "x", "N(0,1) row-major, rng seeded with xb_stream_seed(seed, 0, \"dump.x\", 0)");
    jstr(rng, "dy", "N(0,1) row-major, rng seeded with xb_stream_seed(seed, 0, \"dump.dy\", 0)");
    JADD(meta, "rng", rng);
    JADD(meta, "decisions", decisions_json(m, c, N));

    size_t shx[2] = {(size_t)N, (size_t)c->d};
    json_object *acts = json_object_new_array();
    const char *an[4] = {"x", "y", "dy", "dx"};
    const float *ap[4] = {x, y, dy, dx};
    const char *ad[4] = {"input", "forward output", "upstream gradient dL/dy", "input gradient dL/dx"};
    for (int i = 0; i < 4; i++) {
        put(&D, an[i], ap[i], 2, shx);
        json_object *a = json_object_new_object();
        jstr(a, "name", an[i]);
        char f[16];
        snprintf(f, sizeof f, "%s.npy", an[i]);
        jstr(a, "file", f);
        JADD(a, "shape", jshape(2, shx));
        jstr(a, "what", ad[i]);
        jstr(a, "layout", "(N, d) row-major: row t is token t (batch B = 1 dropped)");
        json_object_array_add(acts, a);
    }
    JADD(meta, "activations", acts);

    json_object *tens = json_object_new_array();
    for (int i = 0; i < nt; i++) {
        size_t sh[2];
        int nd = tensor_shape(&t[i], sh);
        put(&D, t[i].name, w + t[i].offset, nd, sh);
        json_object *o = json_object_new_object();
        jstr(o, "name", t[i].name);
        char f[96];
        snprintf(f, sizeof f, "%s.npy", t[i].name);
        jstr(o, "file", f);
        if (t[i].flags & XB_T_FROZEN) {
            JADD(o, "grad_file", NULL);
        } else {
            snprintf(f, sizeof f, "grad_%s.npy", t[i].name);
            jstr(o, "grad_file", f);
        }
        JADD(o, "shape", jshape(nd, sh));
        JADD(o, "offset", json_object_new_int64((int64_t)t[i].offset));
        json_object *fl = json_object_new_array();
        if (t[i].flags & XB_T_DECAY) json_object_array_add(fl, json_object_new_string("decay"));
        if (t[i].flags & XB_T_FROZEN) json_object_array_add(fl, json_object_new_string("frozen"));
        JADD(o, "flags", fl);
        jstr(o, "layout", xb_tensor_layout(m, c, &t[i]));
        json_object_array_add(tens, o);
    }
    for (int i = 0; i < nt; i++) {
        if (t[i].flags & XB_T_FROZEN) continue;
        size_t sh[2];
        int nd = tensor_shape(&t[i], sh);
        char g[96];
        snprintf(g, sizeof g, "grad_%s", t[i].name);
        put(&D, g, dw + t[i].offset, nd, sh);
    }
    JADD(meta, "tensors", tens);
    JADD(meta, "files", D.files);
    if (D.failed) goto out;

    const char *txt = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    char path[4352];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    size_t tl = strlen(txt);
    char *buf = malloc(tl + 2);
    if (!buf) {
        rc = XB_ENOMEM;
        goto out;
    }
    memcpy(buf, txt, tl);
    buf[tl] = '\n';
    int wr = xb_file_write_atomic(path, buf, tl + 1);
    free(buf);
    if (wr != 0) {
        fprintf(err, "xbench dump: cannot write %s: %s\n", path, strerror(errno));
        goto out;
    }
    fprintf(out, "%s: %s %s, N=%d, d=%d, heads=%d, seed=%llu: %d parameter tensors, %d files + meta.json\n", dir,
            m->name, mode_word(c->causal), N, c->d, c->heads, (unsigned long long)seed, nt,
            (int)json_object_array_length(D.files));
    rc = XB_OK;
out:
    json_object_put(meta);
    xb_free(w); xb_free(dw); xb_free(saved); xb_free(scratch);
    xb_free(y); xb_free(dx); xb_free(x); xb_free(dy);
    return rc;
}

