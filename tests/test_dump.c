/* tests/test_dump.c — harness/npy.c (write, header parse, read) and `xbench dump` run as a
 * user runs it (posix_spawn of ./xbench from the repository root, as tests/test_cli.c does):
 * every registered mixer in each supported mode writes every file meta.json lists; each .npy is
 * checked twice — by harness/npy.c and by an independent byte-level parse here — and its data
 * equal, bit for bit, what this process computes with the recipe docs/dump.md states (init from
 * the "init" stream, x and dy from "dump.x"/"dump.dy", one forward and one backward call);
 * same seed ⇒ identical bytes; usage errors exit 2; docs/dump.md's table matches
 * `xbench dump --list-tensors`. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <dirent.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <omp.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
#include "harness/npy.h"
#include "mixers/registry.h"

extern char **environ;

/* ---- helpers: files, folders, subprocess ---- */

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, k = 0;
    unsigned char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + k, 1, cap - k, f)) > 0) {
        k += r;
        if (k == cap) b = realloc(b, cap *= 2);
    }
    fclose(f);
    *n = k;
    b = realloc(b, k + 1);
    b[k] = 0;
    return b;
}

static void rm_rf(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            unlink(p);
        }
    closedir(d);
    rmdir(dir);
}

#include "tests/xbrun.h"

/* ---- an independent byte-level check of a .npy file ----
 * magic "\x93NUMPY", version 1.0, little-endian uint16 header length, data at a multiple of
 * 64, the exact dict text NumPy's writer produces for '<f4' C-order arrays, then the data. */
static void check_npy_bytes(const unsigned char *b, size_t n, const char *shape_text, size_t count,
                            const char *what)
{
    cr_assert_geq(n, 10, "%s: short file", what);
    cr_assert(!memcmp(b, "\x93NUMPY", 6), "%s: magic", what);
    cr_assert(b[6] == 1 && b[7] == 0, "%s: version %d.%d, want 1.0", what, b[6], b[7]);
    size_t hl = (size_t)b[8] | (size_t)b[9] << 8;
    cr_assert_eq((10 + hl) % 64, 0, "%s: data starts at %zu, not a multiple of 64", what, 10 + hl);
    cr_assert_eq(b[10 + hl - 1], '\n', "%s: header does not end in a newline", what);
    char want[256];
    int wl = snprintf(want, sizeof want, "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }", shape_text);
    cr_assert(!memcmp(b + 10, want, (size_t)wl), "%s: dict text %.*s, want %s", what, (int)hl, b + 10, want);
    for (size_t i = 10 + (size_t)wl; i < 10 + hl - 1; i++) cr_assert_eq(b[i], ' ', "%s: padding", what);
    cr_assert_eq(n, 10 + hl + 4 * count, "%s: %zu bytes, want header + %zu floats", what, n, count);
}

static void shape_text(char *buf, size_t n, json_object *shape, size_t *count)
{
    size_t k = 0;
    int nd = (int)json_object_array_length(shape);
    *count = 1;
    k += (size_t)snprintf(buf + k, n - k, "(");
    for (int i = 0; i < nd; i++) {
        int64_t v = json_object_get_int64(json_object_array_get_idx(shape, (size_t)i));
        *count *= (size_t)v;
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)v);
    }
    snprintf(buf + k, n - k, "%s)", nd == 1 ? "," : "");
}

/* ---- harness/npy.c on its own ---- */

Test(npy, write_read_roundtrip_and_bytes)
{
    char dir[] = "/tmp/xbench-npyXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const size_t shapes[][3] = {{7, 0, 0}, {3, 5, 0}, {2, 3, 4}, {1, 1, 0}, {0, 4, 0}, {40, 33, 0}};
    const int nds[] = {1, 2, 3, 2, 2, 2};
    const char *texts[] = {"(7,)", "(3, 5)", "(2, 3, 4)", "(1, 1)", "(0, 4)", "(40, 33)"};
    for (int s = 0; s < 6; s++) {
        size_t count = 1;
        for (int i = 0; i < nds[s]; i++) count *= shapes[s][i];
        float *a = malloc((count ? count : 1) * sizeof(float));
        xb_rng r;
        xb_rng_seed(&r, 100 + (uint64_t)s);
        for (size_t i = 0; i < count; i++) a[i] = (float)xb_rng_normal(&r);
        if (count > 2) { a[0] = -0.0f; a[1] = 1e-42f; }   /* signed zero, subnormal */
        char path[256];
        snprintf(path, sizeof path, "%s/a%d.npy", dir, s);
        cr_assert_eq(xb_npy_write(path, a, nds[s], shapes[s]), 0);
        size_t n;
        unsigned char *b = slurp(path, &n);
        cr_assert_not_null(b);
        check_npy_bytes(b, n, texts[s], count, path);
        cr_assert(count == 0 || !memcmp(b + n - 4 * count, a, 4 * count), "%s: data bytes", path);

        xb_npy_header h;
        float *back;
        char err[256] = "";
        cr_assert_eq(xb_npy_read(path, &h, &back, err, sizeof err), 0, "%s", err);
        cr_expect_eq(h.major, 1);
        cr_expect_eq(h.minor, 0);
        cr_expect_str_eq(h.descr, "<f4");
        cr_expect_eq(h.fortran_order, 0);
        cr_assert_eq(h.ndim, nds[s]);
        for (int i = 0; i < nds[s]; i++) cr_expect_eq(h.shape[i], shapes[s][i]);
        cr_assert_eq(h.count, count);
        cr_expect_eq(h.data_offset % 64, 0);
        cr_expect(count == 0 || !memcmp(back, a, 4 * count), "%s: read back differs", path);
        free(back);
        free(b);
        free(a);
    }
    /* no temp files left behind */
    DIR *d = opendir(dir);
    struct dirent *e;
    int files = 0;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.') {
            files++;
            cr_expect(!strstr(e->d_name, ".tmp"), "left over: %s", e->d_name);
        }
    closedir(d);
    cr_expect_eq(files, 6);
    rm_rf(dir);
}

/* Headers NumPy may write that xbench did not: version 2.0, Fortran order, 0-D, other dtypes,
 * double quotes, no trailing comma; and malformed ones. */
Test(npy, parse_foreign_and_bad_headers)
{
    xb_npy_header h;
    char err[256];
    unsigned char b[256];
    const char *d2 = "{\"descr\": \"<f8\", \"fortran_order\": True, \"shape\": (2, 3)}          \n";
    size_t l2 = strlen(d2);
    memcpy(b, "\x93NUMPY\x02\x00", 8);
    b[8] = (unsigned char)l2; b[9] = 0; b[10] = 0; b[11] = 0;
    memcpy(b + 12, d2, l2);
    cr_assert_eq(xb_npy_parse_header(b, 12 + l2, &h, err, sizeof err), 0, "%s", err);
    cr_expect_eq(h.major, 2);
    cr_expect_str_eq(h.descr, "<f8");
    cr_expect_eq(h.fortran_order, 1);
    cr_expect_eq(h.ndim, 2);
    cr_expect_eq(h.shape[0], 2);
    cr_expect_eq(h.shape[1], 3);
    cr_expect_eq(h.data_offset, 12 + l2);

    const char *d0 = "{'shape': (), 'fortran_order': False, 'descr': '<f4', }\n";
    size_t l0 = strlen(d0);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)l0; b[9] = 0;
    memcpy(b + 10, d0, l0);
    cr_assert_eq(xb_npy_parse_header(b, 10 + l0, &h, err, sizeof err), 0, "%s", err);
    cr_expect_eq(h.ndim, 0);
    cr_expect_eq(h.count, 1);

    cr_expect_eq(xb_npy_parse_header(b, 10 + l0 - 5, &h, err, sizeof err), XB_EFORMAT, "truncated");
    cr_expect(strstr(err, "truncated"), "%s", err);
    b[1] = 'X';
    cr_expect_eq(xb_npy_parse_header(b, 10 + l0, &h, err, sizeof err), XB_EFORMAT, "bad magic");
    b[1] = 'N';
    const char *bad[] = {
        "{'descr': '<f4', 'shape': (3,), }\n",                              /* no fortran_order */
        "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (3,), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3 4), }\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), 'x': 1}\n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), } junk\n",
    };
    for (int i = 0; i < 5; i++) {
        size_t l = strlen(bad[i]);
        b[8] = (unsigned char)l;
        memcpy(b + 10, bad[i], l);
        cr_expect_eq(xb_npy_parse_header(b, 10 + l, &h, err, sizeof err), XB_EFORMAT, "accepted: %s", bad[i]);
    }
}

Test(npy, read_rejects_other_dtype_and_short_data)
{
    char dir[] = "/tmp/xbench-npyXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/a.npy", dir);
    float a[6] = {1, 2, 3, 4, 5, 6};
    size_t sh[2] = {2, 3};
    cr_assert_eq(xb_npy_write(path, a, 2, sh), 0);
    size_t n;
    unsigned char *b = slurp(path, &n);
    xb_npy_header h;
    float *p;
    char err[256];
    FILE *f = fopen(path, "wb");   /* drop the last float */
    fwrite(b, 1, n - 4, f);
    fclose(f);
    cr_expect_eq(xb_npy_read(path, &h, &p, err, sizeof err), XB_EFORMAT);
    cr_expect_null(p);
    char *d = memchr(b, '<', n);   /* '<f4' -> '<i4' */
    d[1] = 'i';
    f = fopen(path, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    cr_expect_eq(xb_npy_read(path, &h, &p, err, sizeof err), XB_EFORMAT);
    cr_expect(strstr(err, "'<i4'"), "%s", err);
    snprintf(path, sizeof path, "%s/none.npy", dir);
    cr_expect_eq(xb_npy_read(path, &h, &p, err, sizeof err), XB_EIO);
    free(b);
    snprintf(path, sizeof path, "%s/a.npy", dir);
    unlink(path);
    rmdir(dir);
}

/* ---- xbench dump of every registered mixer ---- */

enum { TN = 12, TD = 16, TH = 2 };
#define TSEED 7

static int mixer_ids[128];
static int n_ids(void)
{
    for (int i = 0; i < xb_n_mixers && i < 128; i++) mixer_ids[i] = i;
    return xb_n_mixers;
}

/* Options some mixers need at this small size (their defaults assume longer sequences). */
static const char *small_option(const char *mixer)
{
    if (!strcmp(mixer, "linformer")) return "rank=8";
    return NULL;
}

static float *load(const char *dir, const char *file, size_t want)
{
    char path[512], err[300];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    xb_npy_header h;
    float *p;
    cr_assert_eq(xb_npy_read(path, &h, &p, err, sizeof err), 0, "%s", err);
    cr_assert_eq(h.count, want, "%s: %zu floats, want %zu", path, h.count, want);
    return p;
}

static void expect_bits(const float *a, const float *b, size_t n, const char *what)
{
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(a + i, b + i, 4)) {
            if (!bad) first = i;
            bad++;
        }
    cr_expect_eq(bad, 0, "%s: %zu of %zu floats differ (first at %zu: %.9g vs %.9g)", what, bad, n, first,
                 bad ? (double)a[first] : 0.0, bad ? (double)b[first] : 0.0);
}

static float *normals(const char *stream, size_t n)
{
    float *p = xb_alloc(n * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, xb_stream_seed(TSEED, 0, stream, 0));
    for (size_t i = 0; i < n; i++) p[i] = (float)xb_rng_normal(&r);
    return p;
}

/* o[k], asserting the key exists (its value may be JSON null: NULL). */
static json_object *get(json_object *o, const char *k, const char *who)
{
    json_object *v = NULL;
    cr_assert(json_object_object_get_ex(o, k, &v), "%s: meta.json lacks %s", who, k);
    return v;
}

/* Dump m in one mode and check everything about the folder. */
static void dump_and_check(const xb_mixer *m, int causal)
{
    char dir[] = "/tmp/xbench-dumpXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/out", dir);   /* dump creates it */
    const char *opt = small_option(m->name);
    const char *args[20] = {"dump", "--mixer", m->name, "--n", "12", "--d", "16", "--heads", "2", "--seed", "7",
                            "-o", sub};
    int na = 13;
    if (causal) args[na++] = "--causal";
    if (opt) { args[na++] = "--option"; args[na++] = opt; }
    args[na] = NULL;
    result r = run(args);
    cr_assert_eq(r.code, 0, "%s %s: exit %d: %s", m->name, causal ? "causal" : "bidir", r.code, r.err);
    done(&r);

    char path[512];
    snprintf(path, sizeof path, "%s/meta.json", sub);
    json_object *meta = json_object_from_file(path);
    cr_assert_not_null(meta, "%s: meta.json does not parse", m->name);
    json_object *v;
#define GET(o, k) (v = get((o), (k), m->name))
    cr_expect_str_eq(json_object_get_string(GET(meta, "mixer")), m->name);
    cr_expect_str_eq(json_object_get_string(GET(meta, "mode")), causal ? "causal" : "bidirectional");
    cr_expect_str_eq(json_object_get_string(GET(meta, "xbench_version")), XB_VERSION);
    cr_expect_eq(json_object_get_int(GET(meta, "seed")), TSEED);
    cr_expect_eq(json_object_get_int(GET(meta, "N")), TN);
    cr_expect_eq(json_object_get_int(GET(meta, "d")), TD);
    cr_expect_eq(json_object_get_int(GET(meta, "heads")), TH);
    cr_assert_eq(json_object_get_int(GET(meta, "threads")), omp_get_max_threads(),
                 "bit-identity below needs the same thread count");
    GET(meta, "decisions");
    if (!strcmp(m->name, "lmu")) {
        json_object *dec = v;
        cr_expect_eq(json_object_get_int(GET(dec, "theta")), TN, "lmu theta defaults to n_max = N");
    }
    if (!strcmp(m->name, "performer")) {
        json_object *dec = v;
        cr_expect_eq((float)json_object_get_double(GET(dec, "eps")), causal ? 0.0f : 1e-4f);
    }

    /* The configuration the test derives independently must equal meta's. */
    xb_mixer_cfg c;
    memset(&c, 0, sizeof c);
    c.d = TD; c.heads = TH; c.causal = causal; c.n_max = TN;
    if (opt) xb_mixer_opt_set(m, &c, "rank", 8);
    c = xb_mixer_resolve(m, &c);
    json_object *cfg = GET(meta, "config");
    /* 21 legacy fields always; the options past them only when set (a cell's config stays as it
     * was before options were tables) */
    static const char *const tier2[] = {"summary", "random_blocks", "variant", "buckets", "rounds", "partitions", "topk"};
    int n2 = 0;
    for (int k = 0; k < 7; k++) n2 += xb_mixer_opt_get(m, &c, tier2[k]) != 0;
    cr_expect_eq(json_object_object_length(cfg), 21 + n2, "every legacy field and the tier-2 options set");
    for (int k = 0; k < m->n_opts; k++) {
        json_object *ov = GET(cfg, m->opts[k].name);
        if (m->opts[k].type == XB_OPT_FLOAT) cr_expect_eq((float)json_object_get_double(ov), (float)c.opt[k]);
        else cr_expect_eq(json_object_get_int(ov), (int)c.opt[k], "%s.%s", m->name, m->opts[k].name);
    }
    cr_expect_eq(json_object_get_int(GET(cfg, "n_max")), TN);
    cr_expect_eq(json_object_get_int(GET(cfg, "causal")), causal);
    cr_expect_eq(json_object_get_int(GET(cfg, "chunk")), (int)xb_mixer_opt_get(m, &c, "chunk"));
    cr_expect_eq(json_object_get_int(GET(cfg, "window")), (int)xb_mixer_opt_get(m, &c, "window"));
    cr_expect_eq((float)json_object_get_double(GET(cfg, "expand_k")), (float)xb_mixer_opt_get(m, &c, "expand_k"));

    /* Every file listed exists and passes both header checks; the folder holds nothing else. */
    json_object *files = GET(meta, "files");
    int nf = (int)json_object_array_length(files);
    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(&c, t), ntrain = 0;
    for (int i = 0; i < nt; i++) ntrain += !(t[i].flags & XB_T_FROZEN);
    cr_expect_eq(nf, 4 + nt + ntrain, "%s: x, y, dy, dx + %d tensors + %d grads", m->name, nt, ntrain);
    DIR *dd = opendir(sub);
    struct dirent *e;
    int on_disk = 0;
    while ((e = readdir(dd))) {
        if (e->d_name[0] == '.') continue;
        on_disk++;
        int listed = !strcmp(e->d_name, "meta.json");
        for (int i = 0; i < nf; i++) listed |= !strcmp(e->d_name, json_object_get_string(json_object_array_get_idx(files, (size_t)i)));
        cr_expect(listed, "%s: %s is not in meta.json", m->name, e->d_name);
    }
    closedir(dd);
    cr_expect_eq(on_disk, nf + 1);

    json_object *acts = GET(meta, "activations"), *tens = GET(meta, "tensors");
    cr_assert_eq((int)json_object_array_length(acts), 4);
    cr_assert_eq((int)json_object_array_length(tens), nt);
    for (int pass = 0; pass < 2; pass++) {
        json_object *arr = pass ? tens : acts;
        for (size_t i = 0; i < json_object_array_length(arr); i++) {
            json_object *o = json_object_array_get_idx(arr, i), *sh = GET(o, "shape");
            char st[64];
            size_t count;
            shape_text(st, sizeof st, sh, &count);
            const char *keys[2] = {"file", "grad_file"};
            for (int k = 0; k < 1 + pass; k++) {
                json_object *fo = GET(o, keys[k]);
                if (!fo) continue;   /* frozen: grad_file null */
                snprintf(path, sizeof path, "%s/%s", sub, json_object_get_string(fo));
                size_t n;
                unsigned char *b = slurp(path, &n);
                cr_assert_not_null(b, "%s: %s listed but missing", m->name, path);
                check_npy_bytes(b, n, st, count, path);
                free(b);
            }
        }
    }
    /* meta's tensor list is tensors(): names, offsets, shapes, flags, grad files */
    for (int i = 0; i < nt; i++) {
        json_object *o = json_object_array_get_idx(tens, (size_t)i);
        cr_expect_str_eq(json_object_get_string(GET(o, "name")), t[i].name);
        cr_expect_eq((size_t)json_object_get_int64(GET(o, "offset")), t[i].offset);
        json_object *sh = GET(o, "shape");
        size_t cnt;
        char st[64];
        shape_text(st, sizeof st, sh, &cnt);
        cr_expect_eq(cnt, (size_t)t[i].rows * t[i].cols, "%s.%s", m->name, t[i].name);
        cr_expect_eq(json_object_get_int64(json_object_array_get_idx(sh, 0)), t[i].rows);
        /* docs/dump.md's rule: a vector (one column, no weight decay) is 1-D, the rest 2-D */
        int want_nd = t[i].cols == 1 && !(t[i].flags & XB_T_DECAY) ? 1 : 2;
        cr_expect_eq((int)json_object_array_length(sh), want_nd, "%s.%s: shape %s", m->name, t[i].name, st);
        cr_expect_eq(GET(o, "grad_file") == NULL, (t[i].flags & XB_T_FROZEN) != 0, "%s.%s", m->name, t[i].name);
        cr_expect(strlen(json_object_get_string(GET(o, "layout"))) > 0);
    }

    /* Bit for bit: the recipe run here (init, x, dy, one forward, one backward) equals the files. */
    size_t np = xb_mixer_n_params(m, &c), nx = (size_t)TN * TD;
    size_t ns = m->n_saved(&c, TN), nsc = m->n_scratch ? m->n_scratch(&c, 1, TN) : 0;
    float *w = xb_alloc(np * 4 + 64), *dw = xb_alloc(np * 4 + 64), *saved = xb_alloc(ns * 4 + 64);
    float *scratch = xb_alloc(nsc * 4 + 64), *y = xb_alloc(nx * 4), *dx = xb_alloc(nx * 4);
    xb_rng rng;
    xb_rng_seed(&rng, xb_stream_seed(TSEED, 0, "init", 0));
    m->init(&c, w, &rng);
    float *x = normals("dump.x", nx), *dy = normals("dump.dy", nx);
    m->forward(&c, w, x, NULL, y, saved, scratch, 1, TN);
    m->backward(&c, w, x, NULL, saved, dy, dx, dw, scratch, 1, TN);
    const char *an[4] = {"x.npy", "y.npy", "dy.npy", "dx.npy"};
    const float *ap[4] = {x, y, dy, dx};
    for (int i = 0; i < 4; i++) {
        float *f = load(sub, an[i], nx);
        char what[96];
        snprintf(what, sizeof what, "%s %s", m->name, an[i]);
        expect_bits(f, ap[i], nx, what);
        free(f);
    }
    for (int i = 0; i < nt; i++) {
        size_t cnt = (size_t)t[i].rows * t[i].cols;
        char fn[96], what[128];
        snprintf(fn, sizeof fn, "%s.npy", t[i].name);
        float *f = load(sub, fn, cnt);
        snprintf(what, sizeof what, "%s %s", m->name, fn);
        expect_bits(f, w + t[i].offset, cnt, what);
        free(f);
        if (t[i].flags & XB_T_FROZEN) continue;
        snprintf(fn, sizeof fn, "grad_%s.npy", t[i].name);
        f = load(sub, fn, cnt);
        snprintf(what, sizeof what, "%s %s", m->name, fn);
        expect_bits(f, dw + t[i].offset, cnt, what);
        free(f);
    }
    /* the dump is not trivially zero (a test that cannot fail otherwise) */
    double sy = 0, sdx = 0;
    for (size_t i = 0; i < nx; i++) { sy += y[i] * (double)y[i]; sdx += dx[i] * (double)dx[i]; }
    cr_expect_gt(sy, 0, "%s: y is all zero", m->name);
    if (strcmp(m->name, "pool") && strcmp(m->name, "fnet")) cr_expect_gt(sdx, 0, "%s: dx is all zero", m->name);
    xb_free(w); xb_free(dw); xb_free(saved); xb_free(scratch); xb_free(y); xb_free(dx); xb_free(x); xb_free(dy);
#undef GET
    json_object_put(meta);
    rm_rf(sub);
    rmdir(dir);
}

ParameterizedTestParameters(dump, every_mixer_every_mode) { return cr_make_param_array(int, mixer_ids, n_ids()); }
ParameterizedTest(int *i, dump, every_mixer_every_mode)
{
    const xb_mixer *m = xb_mixers[*i];
    if (m->modes & XB_CAUSAL) dump_and_check(m, 1);
    if (m->modes & XB_BIDIR) dump_and_check(m, 0);
}

/* Two runs with the same seed give the same bytes in every file; another seed does not. */
Test(dump, same_seed_same_bytes)
{
    char dir[] = "/tmp/xbench-dumpXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *cases[][2] = {{"mamba", NULL}, {"performer", "--causal"}, {"lmu", NULL}, {"softmax", "--causal"}};
    for (int k = 0; k < 4; k++) {
        char a[128], b[128], c[128];
        snprintf(a, sizeof a, "%s/a", dir);
        snprintf(b, sizeof b, "%s/b", dir);
        snprintf(c, sizeof c, "%s/c", dir);
        const char *outs[3] = {a, b, c}, *seeds[3] = {"3", "3", "4"};
        for (int j = 0; j < 3; j++) {
            const char *args[16] = {"dump", "-m", cases[k][0], "--n", "10", "--d", "16", "--heads", "2",
                                    "-o", outs[j], "--seed", seeds[j], cases[k][1], NULL};
            result r = run(args);
            cr_assert_eq(r.code, 0, "%s", r.err);
            done(&r);
        }
        DIR *d = opendir(a);
        struct dirent *e;
        int nfiles = 0;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            nfiles++;
            char pa[512], pb[512], pc[512];
            snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
            snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
            snprintf(pc, sizeof pc, "%s/%s", c, e->d_name);
            size_t na, nb, nc;
            unsigned char *ba = slurp(pa, &na), *bb = slurp(pb, &nb), *bc = slurp(pc, &nc);
            cr_assert(ba && bb && bc, "%s missing in a rerun", e->d_name);
            cr_expect(na == nb && !memcmp(ba, bb, na), "%s %s: bytes differ between two runs", cases[k][0], e->d_name);
            if (!strcmp(e->d_name, "x.npy") || !strcmp(e->d_name, "W_Q.npy") || !strcmp(e->d_name, "W_in.npy"))
                cr_expect(na == nc && memcmp(ba, bc, na), "%s %s: seed 4 gives seed 3's bytes", cases[k][0], e->d_name);
            free(ba); free(bb); free(bc);
        }
        closedir(d);
        cr_expect_gt(nfiles, 5);
        rm_rf(a);
        rm_rf(b);
        rm_rf(c);
    }
    rmdir(dir);
}

Test(dump, usage_errors_exit_2)
{
    char dir[] = "/tmp/xbench-dumpXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/out", dir);

    result r = RUN("dump", "--mixer", "sofmax", "-o", sub);
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "unknown mixer 'sofmax'"), "%s", r.err);
    cr_expect(strstr(r.err, "closest first): softmax, "), "closest name first: %s", r.err);
    cr_expect(strstr(r.err, "mamba") && strstr(r.err, "lmu"), "every valid name listed: %s", r.err);
    cr_expect_str_eq(r.out, "");
    done(&r);

    for (int i = 0; xb_mixers[i]; i++) {   /* every mixer without a mode */
        const xb_mixer *m = xb_mixers[i];
        if ((m->modes & (XB_CAUSAL | XB_BIDIR)) == (XB_CAUSAL | XB_BIDIR)) continue;
        int causal = !(m->modes & XB_CAUSAL);
        r = causal ? RUN("dump", "--mixer", m->name, "--causal", "-o", sub) : RUN("dump", "--mixer", m->name, "-o", sub);
        cr_expect_eq(r.code, 2, "%s", m->name);
        char want[128];
        snprintf(want, sizeof want, "mixer '%s' does not support %s mode", m->name, causal ? "causal" : "bidirectional");
        cr_expect(strstr(r.err, want), "%s", r.err);
        done(&r);
    }
    r = RUN("dump", "--mixer", "linformer", "--causal", "-o", sub);
    cr_expect_eq(r.code, 2, "linformer has no causal mode");
    done(&r);
    cr_expect_neq(access(sub, F_OK), 0, "a refused dump writes nothing");

    r = RUN("dump", "--mixer", "softmax");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "expected -o DIR"), "%s", r.err);
    done(&r);
    r = RUN("dump", "-o", sub);
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "--mixer"), "%s", r.err);
    done(&r);
    r = RUN("dump", "--mixer", "softmax", "--n", "0", "-o", sub);
    cr_expect_eq(r.code, 2);
    done(&r);
    r = RUN("dump", "--mixer", "softmax", "--option", "windw=3", "-o", sub);
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "has no option 'windw'"), "%s", r.err);
    done(&r);
    r = RUN("dump", "--mixer", "local", "--option", "windw=3", "-o", sub);
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "its options: window"), "%s", r.err);
    done(&r);
    r = RUN("dump", "--mixer", "softmax", "--d", "10", "--heads", "3", "-o", sub);
    cr_expect_eq(r.code, 2, "check() rejects heads not dividing d");
    cr_expect(strstr(r.err, "heads"), "%s", r.err);
    done(&r);
    cr_expect_neq(access(sub, F_OK), 0, "a refused dump writes nothing");

    r = RUN("dump", "--help");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "usage: xbench dump"), "%s", r.out);
    done(&r);
    r = RUN("--help");
    cr_expect(strstr(r.out, "  dump "), "%s", r.out);
    done(&r);
    rmdir(dir);
}

/* An --option reaches the configuration (and meta.json). */
Test(dump, option_reaches_config)
{
    char dir[] = "/tmp/xbench-dumpXXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sub[64];
    snprintf(sub, sizeof sub, "%s/out", dir);
    result r = RUN("dump", "--mixer", "local", "--causal", "--n", "8", "--d", "8", "--heads", "2", "--option", "window=3",
                   "-o", sub);
    cr_assert_eq(r.code, 0, "%s", r.err);
    done(&r);
    char path[128];
    snprintf(path, sizeof path, "%s/meta.json", sub);
    json_object *meta = json_object_from_file(path), *cfg, *w, *dec, *rule;
    cr_assert_not_null(meta);
    cr_assert(json_object_object_get_ex(meta, "config", &cfg) && json_object_object_get_ex(cfg, "window", &w));
    cr_expect_eq(json_object_get_int(w), 3);
    cr_assert(json_object_object_get_ex(meta, "decisions", &dec) && json_object_object_get_ex(dec, "window_rule", &rule));
    cr_expect_str_eq(json_object_get_string(rule), "position i attends to [i - 2, i]");
    json_object_put(meta);
    rm_rf(sub);
    rmdir(dir);
}

/* docs/dump.md's per-mixer table is exactly what `xbench dump --list-tensors` prints. */
Test(dump, docs_match_list_tensors)
{
    result r = RUN("dump", "--list-tensors");
    cr_assert_eq(r.code, 0, "%s", r.err);
    size_t n;
    char *doc = (char *)slurp("docs/dump.md", &n);
    cr_assert_not_null(doc, "docs/dump.md missing");
    char *b = strstr(doc, "<!-- generated by `xbench dump --list-tensors");
    cr_assert_not_null(b, "docs/dump.md has no generated block");
    const char *endm = "<!-- end of generated block -->\n";
    char *e = strstr(b, endm);
    cr_assert_not_null(e, "docs/dump.md: generated block not closed");
    e += strlen(endm);
    size_t bl = (size_t)(e - b);
    cr_expect(bl == strlen(r.out) && !memcmp(b, r.out, bl),
              "docs/dump.md is stale: regenerate the block with `./xbench dump --list-tensors`");
    for (int i = 0; xb_mixers[i]; i++) {
        char h[64];
        snprintf(h, sizeof h, "\n### %s (", xb_mixers[i]->name);
        cr_expect(strstr(r.out, h), "no table for %s", xb_mixers[i]->name);
    }
    cr_expect(strstr(r.out, "| W_rf.npy | (64, 16) |"), "performer W_rf [m, d_h] frozen: %s", r.out);
    free(doc);
    done(&r);
}
