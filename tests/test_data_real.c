/* tests/test_data_real.c — the real-data loaders of the LRA-style tasks on small fixtures
 * written here in the real formats (a fortunes folder, aclImdb folders, AAN TSVs, gzip IDX
 * via zlib, CIFAR-10 .bin batches, pathfinder metadata + PNGs via libpng), each bad case
 * with its message; the Debian data sets (fortunes, dataset-fashion-mnist) with the counts
 * of TASKS.md §3.1 / Appendix A when installed (skipped otherwise); the fortune documents'
 * and pairs' construction rules; the pathfinder-lite generator's acceptance properties. */
#include <criterion/criterion.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "core/task.h"
#include "core/textio.h"
#include "core/xb.h"
#include "tasks/fortune.h"
#include "tasks/image.h"
#include "tasks/pathfinder.h"
#include "tasks/registry.h"

/* ------------------------------------------------------------------ fixture helpers */

static char tmp[256];

static void make_tmp(void)
{
    snprintf(tmp, sizeof tmp, "/tmp/xb-data-XXXXXX");
    cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    cr_assert_eq(system(cmd), 0);
}

/* tmp/rel, creating the folders on the way. */
static const char *at(const char *rel)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", tmp, rel);
    for (char *s = p[k] + strlen(tmp) + 1; *s; s++)
        if (*s == '/') { *s = '\0'; mkdir(p[k], 0755); *s = '/'; }
    return p[k];
}

static void write_bytes(const char *rel, const void *b, size_t n)
{
    FILE *f = fopen(at(rel), "wb");
    cr_assert_not_null(f, "cannot write %s", rel);
    cr_assert_eq(fwrite(b, 1, n, f), n);
    fclose(f);
}

static void write_str(const char *rel, const char *s) { write_bytes(rel, s, strlen(s)); }

static void write_gz(const char *rel, const void *b, size_t n)
{
    gzFile g = gzopen(at(rel), "wb");
    cr_assert_not_null(g);
    cr_assert_eq(gzwrite(g, b, (unsigned)n), (int)n);
    cr_assert_eq(gzclose(g), Z_OK);
}

static void write_png(const char *rel, int w, int h, int color, const unsigned char *px)
{
    FILE *f = fopen(at(rel), "wb");
    cr_assert_not_null(f);
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(png);
    cr_assert(png && info);
    cr_assert_eq(setjmp(png_jmpbuf(png)), 0);
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, color, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    int ch = color == PNG_COLOR_TYPE_RGB ? 3 : 1;
    unsigned char row[3 * 256];
    for (int y = 0; y < h; y++) {
        for (int x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) row[x * ch + c] = px[y * w + x];
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

static xb_task_cfg cfg_for(const xb_task *t, int L, const char *dir, int ntr, int nva, int nte)
{
    xb_task_cfg c;
    memset(&c, 0, sizeof c);
    xb_task_cfg_defaults(t, &c);
    c.L = L;
    c.seed = 1234;
    c.data_dir = dir;
    for (int i = 0; i < t->n_opts; i++) {
        if (!strcmp(t->opts[i].name, "train_examples")) c.opt[i] = ntr;
        if (!strcmp(t->opts[i].name, "val_examples")) c.opt[i] = nva;
        if (!strcmp(t->opts[i].name, "test_examples")) c.opt[i] = nte;
    }
    return c;
}

static void set(const xb_task *t, xb_task_cfg *c, const char *name, double v)
{
    for (int i = 0; i < t->n_opts; i++) if (!strcmp(t->opts[i].name, name)) { c->opt[i] = v; return; }
    cr_assert_fail("no option %s", name);
}

typedef struct three { xb_data d[3]; } three;

static int load(const char *task, const xb_task_cfg *c, three *s, char *err, size_t errn)
{
    const xb_task *t = xb_task_find(task);
    cr_assert_not_null(t);
    err[0] = '\0';
    return t->load(c, &s->d[0], &s->d[1], &s->d[2], err, errn);
}

static void release(three *s) { for (int k = 0; k < 3; k++) xb_data_release(&s->d[k]); }

/* The load must fail with code rc and a message containing each needle. */
static void expect_err(const char *task, const xb_task_cfg *c, int rc, const char *n1, const char *n2)
{
    three s;
    char err[1024];
    int got = load(task, c, &s, err, sizeof err);
    cr_assert_eq(got, rc, "%s: expected code %d, got %d (%s)", task, rc, got, err);
    cr_assert(strstr(err, n1), "%s: message '%s' lacks '%s'", task, err, n1);
    if (n2) cr_assert(strstr(err, n2), "%s: message '%s' lacks '%s'", task, err, n2);
    for (int k = 0; k < 3; k++) cr_assert_null(s.d[k].x, "%s: failed load left data", task);
}

/* FNV-1a-64 written out here, independent of core/rng.c. */
static uint64_t fnv(const void *p, size_t n)
{
    uint64_t h = 14695981039346656037ULL;
    for (size_t i = 0; i < n; i++) { h ^= ((const unsigned char *)p)[i]; h *= 1099511628211ULL; }
    return h;
}

static int have(const char *path) { return access(path, R_OK) == 0; }

/* ------------------------------------------------------------------ textio */

Test(data_real, read_all_and_gzip_errors)
{
    make_tmp();
    char err[512], *b;
    size_t n;
    cr_assert_eq(xb_read_all(at("none.gz"), 1, "dataset-fashion-mnist", &b, &n, err, sizeof err), XB_ENOTFOUND);
    char want[600];
    snprintf(want, sizeof want, "%s: No such file or directory (install the Debian package 'dataset-fashion-mnist')",
             at("none.gz"));
    cr_assert_str_eq(err, want);
    write_str("plain.gz", "not gzip");
    cr_assert_eq(xb_read_all(at("plain.gz"), 1, NULL, &b, &n, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "not a gzip file"), "%s", err);
    /* a gzip stream cut in half */
    char big[4000];
    for (int i = 0; i < 4000; i++) big[i] = (char)(i * 7919 % 251);
    write_gz("full.gz", big, sizeof big);
    cr_assert_eq(xb_read_all(at("full.gz"), 1, NULL, &b, &n, err, sizeof err), 0, "%s", err);
    cr_assert_eq(n, sizeof big);
    cr_assert_eq(memcmp(b, big, n), 0);
    free(b);
    FILE *f = fopen(at("full.gz"), "rb");
    char z[8000];
    size_t zn = fread(z, 1, sizeof z, f);
    fclose(f);
    write_bytes("cut.gz", z, zn / 2);
    cr_assert_eq(xb_read_all(at("cut.gz"), 1, NULL, &b, &n, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "cut.gz: truncated or corrupt gzip"), "%s", err);
    rm_tmp();
}

/* ------------------------------------------------------------------ fortunes */

Test(data_real, fortune_split_entries)
{
    const char *s = "first\nline\n%\nb\n%\n%\nthird\n%\n";
    const char *text[8];
    int len[8], n;
    cr_assert_eq(xb_fortune_split(s, strlen(s), text, len, 8, &n), 0);
    cr_assert_eq(n, 3);
    cr_assert_eq(len[0], 10); cr_assert_eq(memcmp(text[0], "first\nline", 10), 0);
    cr_assert_eq(len[1], 1); cr_assert_eq(text[1][0], 'b');
    cr_assert_eq(len[2], 5); cr_assert_eq(memcmp(text[2], "third", 5), 0);
    const char *t = "no final sep\n";     /* last entry without a closing % line */
    cr_assert_eq(xb_fortune_split(t, strlen(t), text, len, 8, &n), 0);
    cr_assert_eq(n, 1); cr_assert_eq(len[0], 12);
    cr_assert_eq(xb_fortune_split(s, strlen(s), text, len, 2, &n), XB_ENOMEM);
    /* split rule: FNV-1a-64 mod 10 */
    for (int i = 0; i < 200; i++) {
        char e[32];
        int l = snprintf(e, sizeof e, "entry %d", i);
        uint64_t h = fnv(e, (size_t)l);
        cr_assert_eq(xb_fortune_split_of(e, l), h % 10 == 0 ? 2 : h % 10 == 1 ? 1 : 0);
    }
}

/* A fixture folder with the 4 default categories, 200 entries each (the two numbers of an
 * entry differ: FNV-1a's parity is the XOR of the bytes' low bits, so entries whose
 * digits pair up would all have even hashes and never land in val), one entry shared by
 * computers and science and one repeated inside politics. */
static void write_fortunes(void)
{
    char buf[20000];
    for (int c = 0; c < 4; c++) {
        size_t o = 0;
        for (int i = 0; i < 200; i++)
            o += (size_t)snprintf(buf + o, sizeof buf - o, "%s entry %d\nsecond line %d\n%%\n",
                                  xb_fortune_categories[c], i, i * 7 + c);
        if (c == 0 || c == 2) o += (size_t)snprintf(buf + o, sizeof buf - o, "shared words\n%%\n");
        if (c == 1) o += (size_t)snprintf(buf + o, sizeof buf - o, "politics entry 3\nsecond line 22\n%%\n");
        char rel[64];
        snprintf(rel, sizeof rel, "fortunes/%s", xb_fortune_categories[c]);
        write_bytes(rel, buf, o);
    }
}

Test(data_real, fortune_fixture_corpus)
{
    make_tmp();
    write_fortunes();
    xb_fortunes f;
    char err[512], dir[300];
    snprintf(dir, sizeof dir, "%s/fortunes", tmp);
    cr_assert_eq(xb_fortunes_load(dir, 4, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.raw[0], 201); cr_assert_eq(f.raw[1], 201); cr_assert_eq(f.raw[2], 201); cr_assert_eq(f.raw[3], 200);
    cr_assert_eq(f.dropped_cross, 2);
    cr_assert_eq(f.dropped_dup, 1);
    for (int c = 0; c < 4; c++) {
        int tot = 0;
        for (int s = 0; s < 3; s++) {
            const xb_fortune_pool *p = &f.pool[c][s];
            tot += p->n;
            for (int k = 0; k < p->n; k++) {
                uint64_t h = fnv(p->text[k], (size_t)p->len[k]);
                cr_assert_eq(s, h % 10 == 0 ? 2 : h % 10 == 1 ? 1 : 0, "entry in the wrong split");
                cr_assert(p->len[k] < 12 || memcmp(p->text[k], "shared words", 12) != 0);
                cr_assert_eq(strncmp(p->text[k], xb_fortune_categories[c], strlen(xb_fortune_categories[c])), 0);
            }
        }
        cr_assert_eq(tot, 200, "category %d keeps %d entries", c, tot);
    }
    xb_fortunes_free(&f);
    /* a missing category file names the file; no package hint outside the Debian folder */
    char path[400];
    snprintf(path, sizeof path, "%s/science", dir);
    unlink(path);
    cr_assert_eq(xb_fortunes_load(dir, 4, &f, err, sizeof err), XB_ENOTFOUND);
    char want[500];
    snprintf(want, sizeof want, "%s: No such file or directory", path);
    cr_assert_str_eq(err, want);
    write_str("fortunes/science", "%\n%\n");
    cr_assert_eq(xb_fortunes_load(dir, 4, &f, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "science: no fortune entries"), "%s", err);
    rm_tmp();
}

Test(data_real, fortune_document_rule)
{
    static const char *const e[5] = { "aaaa", "bb", "cccccccccccccccccccc", "d", "eeeeee" };
    int len[5];
    for (int k = 0; k < 5; k++) len[k] = (int)strlen(e[k]);
    xb_fortune_pool p = { 5, (const char **)e, len };
    for (int seed = 0; seed < 200; seed++) {
        int L = 4 + seed % 30, perm[5] = { 0, 1, 2, 3, 4 }, used = 0;
        int32_t x[64];
        xb_rng r;
        xb_rng_seed(&r, (uint64_t)seed);
        int n = xb_fortune_doc(&p, &r, L, perm, &used, x);
        cr_assert(n >= 1 && n <= L && used >= 1);
        /* the document is perm[0..used) joined, each + "\n%\n", cut to L */
        char want[200];
        int w = 0;
        for (int k = 0; k < used; k++) w += snprintf(want + w, sizeof want - (size_t)w, "%s\n%%\n", e[perm[k]]);
        if (used > 1) cr_assert_eq(w, n, "entries beyond the first are whole");
        cr_assert(used > 1 || n == xb_min(L, len[perm[0]] + 3));
        for (int i = 0; i < n; i++) cr_assert_eq(x[i], (unsigned char)want[i] + 1);
        /* stopping was forced: the next entry would not fit, or none is left */
        if (used < 5 && n < L)
            cr_assert(n + len[perm[used]] + 3 > L, "stopped although the drawn entry fits");
        /* entries are distinct */
        for (int a = 0; a < used; a++)
            for (int b = a + 1; b < used; b++) cr_assert_neq(perm[a], perm[b]);
    }
}

/* The corpus of the Debian fortunes, or skip. */
static void debian_fortunes(xb_fortunes *f, int n_cat)
{
    if (!have(XB_FORTUNE_DIR "/computers")) cr_skip_test("Debian package 'fortunes' not installed");
    char err[512];
    cr_assert_eq(xb_fortunes_load(XB_FORTUNE_DIR, n_cat, f, err, sizeof err), 0, "%s", err);
}

Test(data_real, debian_fortunes_counts)
{
    xb_fortunes f;
    debian_fortunes(&f, 8);
    /* TASKS.md Appendix A */
    static const int want[8] = { 1051, 703, 625, 720, 1203, 1251, 630, 582 };
    for (int c = 0; c < 8; c++) cr_assert_eq(f.raw[c], want[c], "%s: %d entries", f.name[c], f.raw[c]);
    cr_assert_eq(f.dropped_cross, 24, "cross-category repeats: %d entries", f.dropped_cross);  /* 12 pairs */
    for (int c = 0; c < 8; c++)
        for (int s = 0; s < 3; s++) cr_assert(f.pool[c][s].n >= 50, "%s split %d: %d", f.name[c], s, f.pool[c][s].n);
    xb_fortunes_free(&f);
    char err[512];
    cr_assert_eq(xb_fortunes_load(XB_FORTUNE_DIR "/no-such-folder", 4, &f, err, sizeof err), XB_ENOTFOUND);
}

/* Split of which an entry's text (found at x, n bytes) is a whole entry, and its category;
 * -1 if none. Linear search: the corpus is small. */
static int find_entry(const xb_fortunes *f, int split, const char *s, int n, int *cat)
{
    for (int c = 0; c < f->n_cat; c++) {
        const xb_fortune_pool *p = &f->pool[c][split];
        for (int k = 0; k < p->n; k++)
            if (p->len[k] == n && memcmp(p->text[k], s, (size_t)n) == 0) { *cat = c; return k; }
    }
    return -1;
}

/* Decode a document into entries; each whole entry must be in pool (cat, split); returns
 * the entry indices (into *ids, count returned). A cut first entry must be a prefix. */
static int doc_entries(const xb_fortunes *f, int split, int cat, const int32_t *x, int n, int *ids)
{
    char s[5000];
    for (int i = 0; i < n; i++) s[i] = (char)(x[i] - 1);
    int k = 0, start = 0;
    for (int i = 0; i + 3 <= n; i++)
        if (s[i] == '\n' && s[i + 1] == '%' && s[i + 2] == '\n') {
            int c = -1, id = find_entry(f, split, s + start, i - start, &c);
            if (id >= 0 && c == cat) { ids[k++] = id; start = i + 3; i += 2; }
        }
    if (start < n) {        /* the rest: only a document of one cut entry may have it */
        cr_assert_eq(k, 0, "a document ends in a partial entry after whole ones");
        const xb_fortune_pool *p = &f->pool[cat][split];
        int ok = 0;
        for (int e = 0; e < p->n && !ok; e++)
            ok = p->len[e] + 3 > n && memcmp(p->text[e], s, (size_t)xb_min(n, p->len[e])) == 0;
        cr_assert(ok, "a cut document is not the prefix of an entry of its category and split");
        ids[k++] = -1;
    }
    return k;
}

Test(data_real, text_fortune_topic_documents)
{
    xb_fortunes f;
    debian_fortunes(&f, 4);
    const xb_task *t = xb_task_find("text");
    xb_task_cfg c = cfg_for(t, 512, NULL, 200, 40, 80);
    three s;
    char err[512];
    cr_assert_eq(load("text", &c, &s, err, sizeof err), 0, "%s", err);
    for (int k = 0; k < 3; k++) {
        cr_assert_str_eq(s.d[k].source, "debian:fortunes");
        int cnt[4] = { 0 };
        for (int i = 0; i < s.d[k].n; i++) {
            int y = s.d[k].y[i], ids[600];
            cnt[y]++;
            int n = doc_entries(&f, k, y, s.d[k].x + (size_t)i * 512, s.d[k].len[i], ids);
            cr_assert(n >= 1);
            for (int a = 0; a < n; a++)
                for (int b = a + 1; b < n; b++) cr_assert(ids[a] < 0 || ids[a] != ids[b], "entry repeated in a document");
        }
        for (int y = 0; y < 4; y++) cr_assert_eq(cnt[y], s.d[k].n / 4, "classes not balanced");
    }
    release(&s);
    set(t, &c, "classes", 5);
    expect_err("text", &c, XB_EINVAL, "'classes' = 5 must be 4 or 8", NULL);
    xb_fortunes_free(&f);
}

Test(data_real, retrieval_fortune_match_pairs)
{
    xb_fortunes f;
    debian_fortunes(&f, 4);
    const xb_task *t = xb_task_find("retrieval");
    int L = 256;
    xb_task_cfg c = cfg_for(t, L, NULL, 200, 20, 100);
    three s;
    char err[512];
    cr_assert_eq(load("retrieval", &c, &s, err, sizeof err), 0, "%s", err);
    for (int k = 0; k < 3; k++) {
        int pos = 0;
        for (int i = 0; i < s.d[k].n; i++) {
            const int32_t *x = s.d[k].x + (size_t)i * 2 * (size_t)L;
            int la = s.d[k].len[2 * i], lb = s.d[k].len[2 * i + 1], y = s.d[k].y[i];
            cr_assert(la >= 1 && lb >= 1 && la <= L && lb <= L);
            /* category of each tower: the one whose pool decodes it */
            int ca = -1, cb = -1, ia[300], ib[300], na = 0, nb = 0;
            for (int cat = 0; cat < 4; cat++) {
                char sa[300];
                for (int q = 0; q < la; q++) sa[q] = (char)(x[q] - 1);
                int len = 0;
                while (len + 3 <= la && !(sa[len] == '\n' && sa[len + 1] == '%' && sa[len + 2] == '\n')) len++;
                int cc;
                if (len + 3 <= la && find_entry(&f, k, sa, len, &cc) >= 0 && cc == cat) ca = cat;
                char sb[300];
                for (int q = 0; q < lb; q++) sb[q] = (char)(x[L + q] - 1);
                len = 0;
                while (len + 3 <= lb && !(sb[len] == '\n' && sb[len + 1] == '%' && sb[len + 2] == '\n')) len++;
                if (len + 3 <= lb && find_entry(&f, k, sb, len, &cc) >= 0 && cc == cat) cb = cat;
            }
            if (ca < 0 || cb < 0) continue;    /* a tower of one cut entry: category not decoded here */
            na = doc_entries(&f, k, ca, x, la, ia);
            nb = doc_entries(&f, k, cb, x + L, lb, ib);
            if (y == 1) {
                cr_assert_eq(ca, cb, "positive pair from two categories");
                for (int a = 0; a < na; a++)
                    for (int b = 0; b < nb; b++) cr_assert(ia[a] < 0 || ia[a] != ib[b], "positive pair shares an entry");
            } else {
                cr_assert_neq(ca, cb, "negative pair from one category");
            }
            pos++;
        }
        cr_assert(pos > s.d[k].n / 2, "only %d of %d pairs could be decoded", pos, s.d[k].n);
        int ones = 0;
        for (int i = 0; i < s.d[k].n; i++) ones += s.d[k].y[i];
        cr_assert_eq(ones, s.d[k].n / 2, "labels not 50/50");
    }
    release(&s);
    xb_fortunes_free(&f);
}

/* ------------------------------------------------------------------ aclImdb */

Test(data_real, imdb_folders)
{
    make_tmp();
    char rel[128], txt[64];
    static const char *const cls[2] = { "neg", "pos" };
    for (int k = 0; k < 2; k++) {
        for (int i = 0; i < 10; i++) {
            snprintf(rel, sizeof rel, "aclImdb/train/%s/%d_%d.txt", cls[k], i, k ? 8 : 2);
            snprintf(txt, sizeof txt, "%d: %s review, <br />long enough", i, cls[k]);
            write_str(rel, txt);
        }
        for (int i = 0; i < 3 - k; i++) {
            snprintf(rel, sizeof rel, "aclImdb/test/%s/%d_%d.txt", cls[k], i, k ? 9 : 1);
            snprintf(txt, sizeof txt, "test %s %d", cls[k], i);
            write_str(rel, txt);
        }
    }
    write_str("aclImdb/train/unsup/0_0.txt", "ignored");
    write_str("aclImdb/train/labeledBow.feat", "ignored");
    const xb_task *t = xb_task_find("text");
    int L = 16;
    xb_task_cfg c = cfg_for(t, L, tmp, -1, -1, -1);
    three s;
    char err[512];
    cr_assert_eq(load("text", &c, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.d[0].n, 18); cr_assert_eq(s.d[1].n, 2); cr_assert_eq(s.d[2].n, 5);
    cr_assert_eq(s.d[0].n_classes, 2); cr_assert_eq(s.d[0].vocab, 257);
    cr_assert(strncmp(s.d[0].source, "files:", 6) == 0 && strstr(s.d[0].source, "aclImdb"), "%s", s.d[0].source);
    /* val = the last 10% of each sorted training folder: files 9_*.txt (names sort as 0..9) */
    for (int i = 0; i < 2; i++) {
        char want[64];
        int y = s.d[1].y[i];
        snprintf(want, sizeof want, "9: %s review, <br />long enough", cls[y]);
        cr_assert_eq(s.d[1].len[i], L);
        for (int p = 0; p < L; p++) cr_assert_eq(s.d[1].x[(size_t)i * L + p], (unsigned char)want[p] + 1);
    }
    int npos = 0;
    for (int i = 0; i < 5; i++) {
        char want[64];
        int y = s.d[2].y[i], n = s.d[2].len[i];
        npos += y;
        const int32_t *x = s.d[2].x + (size_t)i * L;
        int idx = (int)(x[n - 1] - 1 - '0');
        int w = snprintf(want, sizeof want, "test %s %d", cls[y], idx);
        cr_assert_eq(n, w);
        for (int p = 0; p < n; p++) cr_assert_eq(x[p], (unsigned char)want[p] + 1);
        for (int p = n; p < L; p++) cr_assert_eq(x[p], 0);
    }
    cr_assert_eq(npos, 2);
    release(&s);
    c = cfg_for(t, L, tmp, 19, -1, -1);
    expect_err("text", &c, XB_EINVAL, "train split has only 18 usable examples", NULL);
    write_str("aclImdb/test/pos/7_9.txt", "");
    c = cfg_for(t, L, tmp, -1, -1, -1);
    expect_err("text", &c, XB_EFORMAT, "test/pos/7_9.txt: empty review file", NULL);
    unlink(at("aclImdb/test/pos/7_9.txt"));
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -r '%s/aclImdb/test/pos'", tmp);
    cr_assert_eq(system(cmd), 0);
    expect_err("text", &c, XB_ENOTFOUND, "aclImdb/test/pos: No such file or directory", NULL);
    rm_tmp();
}

/* ------------------------------------------------------------------ AAN */

Test(data_real, aan_tsv)
{
    make_tmp();
    static const char *const lab[3][3] = { { "1.0", "0.0", "1" }, { "0", "1", NULL }, { "1.0", "0", NULL } };
    static const char *const nm[3] = { "train", "eval", "test" };
    char *line = malloc(30000), rel[128];
    for (int k = 0; k < 3; k++) {
        size_t o = 0;
        char *buf = malloc(100000);
        for (int i = 0; i < 3 && lab[k][i]; i++) {
            if (k == 0 && i == 2) {            /* a 12,000-byte first text: cut to 10,000 */
                memset(line, 'q', 12000);
                line[12000] = '\0';
                o += (size_t)sprintf(buf + o, "%s\tid%d\tidb%d\t%s\tshort \"quoted\" text\n", lab[k][i], i, i, line);
            } else {
                o += (size_t)sprintf(buf + o, "%s\tpaper%d%d\tpaper%d\t%s doc one %d\tdoc two %d\n", lab[k][i], k, i, i,
                                     nm[k], i, i);
            }
            if (i == 0) o += (size_t)sprintf(buf + o, "\n");   /* blank lines are skipped */
        }
        snprintf(rel, sizeof rel, "lra/tsv_data/new_aan_pairs.%s.tsv", nm[k]);
        write_bytes(rel, buf, o);
        free(buf);
    }
    const xb_task *t = xb_task_find("retrieval");
    char dir[300];
    snprintf(dir, sizeof dir, "%s/lra", tmp);
    int L = 11000;
    xb_task_cfg c = cfg_for(t, L, dir, -1, -1, -1);
    three s;
    char err[512];
    cr_assert_eq(load("retrieval", &c, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.d[0].n, 3); cr_assert_eq(s.d[1].n, 2); cr_assert_eq(s.d[2].n, 2);
    cr_assert_eq(s.d[0].shape, XB_SHAPE_PAIR);
    int seen_long = 0, ones = 0;
    for (int i = 0; i < 3; i++) {
        const int32_t *x = s.d[0].x + (size_t)i * 2 * L;
        ones += s.d[0].y[i];
        if (s.d[0].len[2 * i] == 10000) {
            seen_long = 1;
            cr_assert_eq(s.d[0].y[i], 1);
            for (int p = 0; p < 10000; p++) cr_assert_eq(x[p], 'q' + 1);
            cr_assert_eq(x[10000], 0);
            const char *b = "short \"quoted\" text";
            cr_assert_eq(s.d[0].len[2 * i + 1], (int)strlen(b));
            for (int p = 0; b[p]; p++) cr_assert_eq(x[L + p], (unsigned char)b[p] + 1);
        } else {
            char a[64];
            int n = s.d[0].len[2 * i];
            for (int p = 0; p < n; p++) a[p] = (char)(x[p] - 1);
            cr_assert(n > 13 && memcmp(a, "train doc one", 13) == 0);
        }
    }
    cr_assert(seen_long);
    cr_assert_eq(ones, 2);
    release(&s);
    /* L smaller than the text: truncated to L */
    c = cfg_for(t, 8, dir, -1, -1, -1);
    cr_assert_eq(load("retrieval", &c, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.d[2].n, 2);
    for (int i = 0; i < 2; i++) cr_assert_eq(s.d[2].len[2 * i], 8);
    release(&s);
    /* bad files */
    write_str("lra/tsv_data/new_aan_pairs.test.tsv", "1\tp1\tp2\n");
    expect_err("retrieval", &c, XB_EFORMAT, "new_aan_pairs.test.tsv:1: 3 tab-separated columns, expected 5",
               "text is absent");
    write_str("lra/tsv_data/new_aan_pairs.test.tsv", "1\ta\tb\tx\ty\n2.0\ta\tb\tx\ty\n");
    expect_err("retrieval", &c, XB_EFORMAT, "new_aan_pairs.test.tsv:2: label '2.0' is not 0 or 1", NULL);
    write_str("lra/tsv_data/new_aan_pairs.test.tsv", "1\ta\tb\tx\ty\n0\ta\tb\tx\tcut");
    expect_err("retrieval", &c, XB_EFORMAT, "new_aan_pairs.test.tsv:2: last line has no newline", NULL);
    unlink(at("lra/tsv_data/new_aan_pairs.test.tsv"));
    expect_err("retrieval", &c, XB_ENOTFOUND, "new_aan_pairs.test.tsv: No such file or directory", NULL);
    free(line);
    rm_tmp();
}

/* ------------------------------------------------------------------ Fashion-MNIST IDX */

static void be32w(unsigned char *p, uint32_t v) { p[0] = v >> 24; p[1] = v >> 16; p[2] = v >> 8; p[3] = (unsigned char)v; }

/* An IDX pair of n images (pixel (i, p) = (i·31 + p) mod 256) and labels i mod 10. */
static void write_idx(const char *img, const char *lab, int n, uint32_t magic_i, uint32_t magic_l,
                      int drop_bytes, int bad_label_at)
{
    size_t in = 16 + (size_t)n * 784, ln = 8 + (size_t)n;
    unsigned char *b = malloc(in), *l = malloc(ln);
    be32w(b, magic_i); be32w(b + 4, (uint32_t)n); be32w(b + 8, 28); be32w(b + 12, 28);
    for (int i = 0; i < n; i++)
        for (int p = 0; p < 784; p++) b[16 + (size_t)i * 784 + p] = (unsigned char)((i * 31 + p) % 256);
    be32w(l, magic_l); be32w(l + 4, (uint32_t)n);
    for (int i = 0; i < n; i++) l[8 + i] = (unsigned char)(i == bad_label_at ? 10 : i % 10);
    write_gz(img, b, in - (size_t)drop_bytes);
    write_gz(lab, l, ln);
    free(b); free(l);
}

static void write_fmnist(int ntr, int nte)
{
    write_idx("fm/train-images-idx3-ubyte.gz", "fm/train-labels-idx1-ubyte.gz", ntr, 2051, 2049, 0, -1);
    write_idx("fm/t10k-images-idx3-ubyte.gz", "fm/t10k-labels-idx1-ubyte.gz", nte, 2051, 2049, 0, -1);
}

Test(data_real, fmnist_idx_fixtures)
{
    make_tmp();
    write_fmnist(30, 12);
    char dir[300], err[600];
    snprintf(dir, sizeof dir, "%s/fm", tmp);
    xb_fmnist f;
    cr_assert_eq(xb_fmnist_read(dir, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n[0], 30); cr_assert_eq(f.n[1], 12);
    for (int i = 0; i < 30; i++) {
        cr_assert_eq(f.lab[0][i], i % 10);
        for (int p = 0; p < 784; p += 97) cr_assert_eq(f.px[0][(size_t)i * 784 + p], (i * 31 + p) % 256);
    }
    xb_fmnist_free(&f);
    write_idx("fm/t10k-images-idx3-ubyte.gz", "fm/t10k-labels-idx1-ubyte.gz", 12, 2049, 2049, 0, -1);
    cr_assert_eq(xb_fmnist_read(dir, &f, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "t10k-images-idx3-ubyte.gz: bad magic 2049 (expected 2051"), "%s", err);
    write_idx("fm/t10k-images-idx3-ubyte.gz", "fm/t10k-labels-idx1-ubyte.gz", 12, 2051, 2051, 0, -1);
    cr_assert_eq(xb_fmnist_read(dir, &f, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "t10k-labels-idx1-ubyte.gz: bad magic 2051 (expected 2049"), "%s", err);
    write_idx("fm/t10k-images-idx3-ubyte.gz", "fm/t10k-labels-idx1-ubyte.gz", 12, 2051, 2049, 100, -1);
    cr_assert_eq(xb_fmnist_read(dir, &f, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "t10k-images-idx3-ubyte.gz: 9324 bytes, expected 9424 for 12 images (truncated?)"), "%s", err);
    write_idx("fm/t10k-images-idx3-ubyte.gz", "fm/t10k-labels-idx1-ubyte.gz", 12, 2051, 2049, 0, 3);
    cr_assert_eq(xb_fmnist_read(dir, &f, err, sizeof err), XB_EFORMAT);
    cr_assert(strstr(err, "t10k-labels-idx1-ubyte.gz: label 10 of item 3 is outside 0..9"), "%s", err);
    unlink(at("fm/t10k-labels-idx1-ubyte.gz"));
    cr_assert_eq(xb_fmnist_read(dir, &f, err, sizeof err), XB_ENOTFOUND);
    cr_assert(strstr(err, "t10k-labels-idx1-ubyte.gz: No such file or directory") && !strstr(err, "install"), "%s", err);
    rm_tmp();
}

Test(data_real, debian_fmnist_counts)
{
    if (!have(XB_FMNIST_DIR "/train-images-idx3-ubyte.gz")) cr_skip_test("Debian package 'dataset-fashion-mnist' not installed");
    xb_fmnist f;
    char err[600];
    cr_assert_eq(xb_fmnist_read(XB_FMNIST_DIR, &f, err, sizeof err), 0, "%s", err);
    cr_assert_eq(f.n[0], 60000); cr_assert_eq(f.n[1], 10000);
    int cnt[2][10] = { { 0 } };
    for (int s = 0; s < 2; s++)
        for (int i = 0; i < f.n[s]; i++) cnt[s][f.lab[s][i]]++;
    for (int k = 0; k < 10; k++) {
        cr_assert_eq(cnt[0][k], 6000);
        cr_assert_eq(cnt[1][k], 1000);
    }
    xb_fmnist_free(&f);
}

Test(data_real, image_task_fmnist_rows)
{
    if (!have(XB_FMNIST_DIR "/train-images-idx3-ubyte.gz")) cr_skip_test("Debian package 'dataset-fashion-mnist' not installed");
    xb_fmnist f;
    char err[600];
    cr_assert_eq(xb_fmnist_read(XB_FMNIST_DIR, &f, err, sizeof err), 0, "%s", err);
    const xb_task *t = xb_task_find("image");
    xb_task_cfg c = cfg_for(t, 196, NULL, 50, 20, 30);
    set(t, &c, "pool", 2);
    three s;
    cr_assert_eq(load("image", &c, &s, err, sizeof err), 0, "%s", err);
    cr_assert_str_eq(s.d[0].source, "debian:dataset-fashion-mnist");
    /* every val image is a 2×2-pooled image of the last 6000 training images, with its label */
    for (int i = 0; i < s.d[1].n; i++) {
        const int32_t *x = s.d[1].x + (size_t)i * 196;
        int found = 0;
        for (int j = 54000; j < 60000 && !found; j++) {
            const unsigned char *p = f.px[0] + (size_t)j * 784;
            int ok = f.lab[0][j] == s.d[1].y[i];
            for (int q = 0; q < 196 && ok; q++) {
                int r = q / 14, cc = q % 14;
                int sum = p[(2 * r) * 28 + 2 * cc] + p[(2 * r) * 28 + 2 * cc + 1] + p[(2 * r + 1) * 28 + 2 * cc] +
                          p[(2 * r + 1) * 28 + 2 * cc + 1];
                ok = x[q] == (sum + 2) / 4;
            }
            found = ok;
        }
        cr_assert(found, "val image %d is not a pooled image of the last 10%% of the training file", i);
    }
    release(&s);
    xb_fmnist_free(&f);
    c = cfg_for(t, 784, NULL, 10, 10, 10);
    set(t, &c, "pool", 3);
    expect_err("image", &c, XB_EINVAL, "'pool' = 3 must divide the image side 28", NULL);
    c = cfg_for(t, 1024, NULL, 10, 10, 10);
    expect_err("image", &c, XB_EINVAL, "L = 1024 must equal the 784 pixel tokens", NULL);
}

/* ------------------------------------------------------------------ CIFAR-10 */

/* Record r of batch b: label (b + r) mod 10, R/G/B planes from simple patterns. */
static void cifar_rec(unsigned char *rec, int b, int r)
{
    rec[0] = (unsigned char)((b + r) % 10);
    for (int p = 0; p < 1024; p++) {
        rec[1 + p] = (unsigned char)((p + 17 * b + 3 * r) % 256);
        rec[1025 + p] = (unsigned char)((5 * p + r) % 256);
        rec[2049 + p] = (unsigned char)(255 - (p % 256));
    }
}

static void write_cifar(int per_batch, int ntest)
{
    unsigned char *buf = malloc((size_t)3073 * 64);
    char rel[64];
    for (int b = 0; b < 6; b++) {
        int n = b < 5 ? per_batch : ntest;
        for (int r = 0; r < n; r++) cifar_rec(buf + (size_t)r * 3073, b, r);
        if (b < 5) snprintf(rel, sizeof rel, "cifar/data_batch_%d.bin", b + 1);
        else snprintf(rel, sizeof rel, "cifar/test_batch.bin");
        write_bytes(rel, buf, (size_t)n * 3073);
    }
    free(buf);
}

Test(data_real, cifar_batches)
{
    make_tmp();
    write_cifar(4, 3);
    const xb_task *t = xb_task_find("image");
    char dir[300], err[600];
    snprintf(dir, sizeof dir, "%s/cifar", tmp);
    xb_task_cfg c = cfg_for(t, 1024, dir, -1, -1, -1);
    three s;
    cr_assert_eq(load("image", &c, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.d[0].n, 18); cr_assert_eq(s.d[1].n, 2); cr_assert_eq(s.d[2].n, 3);
    /* val = the last 2 of the 20 training records: batch 5 records 2 and 3 */
    unsigned char rec[3073];
    for (int i = 0; i < 2; i++) {
        int r = -1;
        for (int q = 2; q < 4; q++) {
            cifar_rec(rec, 4, q);
            if (rec[0] == s.d[1].y[i]) r = q;
        }
        cr_assert(r >= 0);
        cifar_rec(rec, 4, r);
        for (int p = 0; p < 1024; p++) {
            double g = floor((0.2989 * rec[1 + p] + 0.5870 * rec[1025 + p] + 0.1140 * rec[2049 + p]) / 255.0 * 255.5);
            cr_assert_eq(s.d[1].x[(size_t)i * 1024 + p], (int)fmin(g, 255), "gray pixel %d", p);
        }
    }
    cr_assert(strncmp(s.d[0].source, "files:", 6) == 0);
    release(&s);
    /* permuted + pooled: a permutation of the pooled tokens, fixed by the seed */
    c = cfg_for(t, 256, dir, -1, -1, -1);
    set(t, &c, "pool", 2);
    three a, b;
    cr_assert_eq(load("image", &c, &a, err, sizeof err), 0, "%s", err);
    set(t, &c, "permuted", 1);
    cr_assert_eq(load("image", &c, &b, err, sizeof err), 0, "%s", err);
    int hist[2][256];
    for (int i = 0; i < a.d[2].n; i++) {
        memset(hist, 0, sizeof hist);
        int same = 0;
        for (int p = 0; p < 256; p++) {
            hist[0][a.d[2].x[(size_t)i * 256 + p]]++;
            hist[1][b.d[2].x[(size_t)i * 256 + p]]++;
            same += a.d[2].x[(size_t)i * 256 + p] == b.d[2].x[(size_t)i * 256 + p];
        }
        cr_assert_eq(memcmp(hist[0], hist[1], sizeof hist[0]), 0, "permuted image is not a permutation");
        cr_assert(same < 200);
    }
    release(&a); release(&b);
    /* bad files */
    c = cfg_for(t, 1024, dir, -1, -1, -1);
    unsigned char *bad = malloc(3073 * 4);
    for (int r = 0; r < 4; r++) cifar_rec(bad + (size_t)r * 3073, 2, r);
    write_bytes("cifar/data_batch_3.bin", bad, 3073 * 4 - 10);
    expect_err("image", &c, XB_EFORMAT, "data_batch_3.bin: 12282 bytes is not a whole number of 3073-byte records", NULL);
    bad[3073] = 11;
    write_bytes("cifar/data_batch_3.bin", bad, 3073 * 4);
    expect_err("image", &c, XB_EFORMAT, "data_batch_3.bin: label 11 of record 1 is outside 0..9", NULL);
    bad[3073] = 1;
    write_bytes("cifar/data_batch_3.bin", bad, 3073 * 4);
    free(bad);
    unlink(at("cifar/test_batch.bin"));
    expect_err("image", &c, XB_ENOTFOUND, "test_batch.bin: No such file or directory", NULL);
    rm_tmp();
}

/* ------------------------------------------------------------------ pathfinder files */

/* n images; image i has pixel 0 = i, pixel 1 = label = i mod 2 (so its row is known). */
static void write_pf(int n, int side)
{
    unsigned char px[32 * 32];
    char rel[128], meta[2][4000];
    size_t o[2] = { 0, 0 };
    for (int i = 0; i < n; i++) {
        int k = i < n / 2 ? 2 : 10;        /* metadata files 2.npy and 10.npy: numeric order */
        memset(px, 0, sizeof px);
        px[0] = (unsigned char)i; px[1] = (unsigned char)(i % 2); px[2] = 200;
        snprintf(rel, sizeof rel, "pf/pathfinder32/curv_contour_length_14/imgs/%d/sample_%d.png", k, i);
        write_png(rel, side, side, PNG_COLOR_TYPE_GRAY, px);
        o[k == 10] += (size_t)snprintf(meta[k == 10] + o[k == 10], sizeof meta[0] - o[k == 10],
                                       "imgs/%d sample_%d.png %d %d 1.0 14 4 2 0.5 1 1\n", k, i, i, i % 2);
    }
    /* one empty image listed: skipped */
    write_str("pf/pathfinder32/curv_contour_length_14/imgs/2/sample_99.png", "");
    o[0] += (size_t)snprintf(meta[0] + o[0], sizeof meta[0] - o[0], "imgs/2 sample_99.png 99 1 1.0 14 4 2 0.5 1 1\n");
    write_bytes("pf/pathfinder32/curv_contour_length_14/metadata/2.npy", meta[0], o[0]);
    write_bytes("pf/pathfinder32/curv_contour_length_14/metadata/10.npy", meta[1], o[1]);
}

Test(data_real, pathfinder_files)
{
    make_tmp();
    write_pf(20, 32);
    const xb_task *t = xb_task_find("pathfinder");
    char dir[300], err[800];
    snprintf(dir, sizeof dir, "%s/pf", tmp);
    xb_task_cfg c = cfg_for(t, 1024, dir, -1, -1, -1);
    three s;
    cr_assert_eq(load("pathfinder", &c, &s, err, sizeof err), 0, "%s", err);
    cr_assert_eq(s.d[0].n, 16); cr_assert_eq(s.d[1].n, 2); cr_assert_eq(s.d[2].n, 2);
    int seen[20] = { 0 };
    for (int k = 0; k < 3; k++)
        for (int i = 0; i < s.d[k].n; i++) {
            const int32_t *x = s.d[k].x + (size_t)i * 1024;
            cr_assert(x[0] >= 0 && x[0] < 20);
            seen[x[0]]++;
            cr_assert_eq(s.d[k].y[i], x[0] % 2, "label of image %d", x[0]);
            cr_assert_eq(x[1], x[0] % 2);
            cr_assert_eq(x[2], 200);
            cr_assert_eq(s.d[k].len[i], 1024);
        }
    for (int i = 0; i < 20; i++) cr_assert_eq(seen[i], 1, "image %d used %d times", i, seen[i]);
    /* the shuffle depends on the seed */
    three o;
    c.seed = 99;
    cr_assert_eq(load("pathfinder", &c, &o, err, sizeof err), 0, "%s", err);
    int same = 0;
    for (int i = 0; i < 16; i++) same += s.d[0].x[(size_t)i * 1024] == o.d[0].x[(size_t)i * 1024];
    cr_assert(same < 16);
    release(&s); release(&o);
    c.seed = 1234;
    /* bad cases */
    const char *m = "pf/pathfinder32/curv_contour_length_14/metadata/10.npy";
    write_str(m, "imgs/10 sample_10.png 10 2 1.0 14 4 2 0.5 1 1\n");
    expect_err("pathfinder", &c, XB_EFORMAT, "metadata/10.npy:1: label '2' is not 0 or 1", NULL);
    write_str(m, "imgs/10 sample_10.png\n");
    expect_err("pathfinder", &c, XB_EFORMAT, "metadata/10.npy:1: expected space-separated fields", NULL);
    write_str(m, "imgs/10 sample_77.png 77 1 1.0 14 4 2 0.5 1 1\n");
    expect_err("pathfinder", &c, XB_ENOTFOUND, "imgs/10/sample_77.png: No such file or directory", "10.npy:1");
    unsigned char px[32 * 32] = { 0 };
    write_png("pf/pathfinder32/curv_contour_length_14/imgs/10/sample_77.png", 32, 32, PNG_COLOR_TYPE_RGB, px);
    expect_err("pathfinder", &c, XB_EFORMAT, "sample_77.png: PNG is not 8-bit grayscale", NULL);
    write_png("pf/pathfinder32/curv_contour_length_14/imgs/10/sample_77.png", 16, 16, PNG_COLOR_TYPE_GRAY, px);
    expect_err("pathfinder", &c, XB_EFORMAT, "sample_77.png: image is 16x16, expected 32x32", NULL);
    write_str("pf/pathfinder32/curv_contour_length_14/imgs/10/sample_77.png", "\x89PNG\r\n\x1a\n garbage");
    expect_err("pathfinder", &c, XB_EFORMAT, "sample_77.png: corrupt or truncated PNG", NULL);
    c = cfg_for(t, 1024, tmp, -1, -1, -1);
    expect_err("pathfinder", &c, XB_ENOTFOUND, "metadata: No such file or directory", NULL);
    rm_tmp();
}

/* ------------------------------------------------------------------ pathfinder-lite */

Test(data_real, pathfinder_generator_properties)
{
    xb_pf_params p;
    cr_assert_eq(xb_pf_params_for(32, 14, &p), 0);
    cr_assert_eq(p.n_distr, 20 / 4);
    cr_assert_eq(xb_pf_params_for(48, 14, &p), XB_EINVAL);
    cr_assert_eq(xb_pf_params_for(32, 14, &p), 0);
    int32_t x[1024];
    double dots[4], dsum[2] = { 0, 0 };
    int n = 2000, lit[2] = { 0, 0 };
    for (int i = 0; i < n; i++) {
        xb_rng r;
        xb_rng_seed(&r, xb_splitmix64(0xabc + (uint64_t)i));
        int lab = i % 2;
        cr_assert_eq(xb_pf_draw(&p, &r, lab, x, dots), 0);
        dsum[lab] += hypot(dots[0] - dots[2], dots[1] - dots[3]);
        /* both dots are drawn at full intensity; the image has ink beyond the dots */
        cr_assert_eq(x[(int)dots[0] * 32 + (int)dots[1]], 255);
        cr_assert_eq(x[(int)dots[2] * 32 + (int)dots[3]], 255);
        int ink = 0;
        for (int q = 0; q < 1024; q++) { cr_assert(x[q] >= 0 && x[q] <= 255); ink += x[q] > 0; }
        cr_assert(ink > 60, "image %d has %d lit pixels", i, ink);
        lit[lab] += ink;
        /* the padding band stays dark except for anti-aliasing fringes of dots */
    }
    double d0 = dsum[0] / (n / 2), d1 = dsum[1] / (n / 2);
    cr_assert(fabs(d0 - d1) < 1.0, "mean dot distance label 0 %.2f vs label 1 %.2f", d0, d1);
    cr_assert(fabs((double)lit[0] - lit[1]) / (lit[0] + lit[1]) < 0.05, "ink differs by label");
    /* the task's labels are exactly balanced */
    const xb_task *t = xb_task_find("pathfinder");
    xb_task_cfg c = cfg_for(t, 1024, NULL, 200, 10, 40);
    three s;
    char err[512];
    cr_assert_eq(load("pathfinder", &c, &s, err, sizeof err), 0, "%s", err);
    int ones = 0;
    for (int i = 0; i < 200; i++) ones += s.d[0].y[i];
    cr_assert_eq(ones, 100);
    cr_assert_str_eq(s.d[0].source, "generator");
    release(&s);
    c.L = 900;
    expect_err("pathfinder", &c, XB_EINVAL, "L = 900 must be 256, 1024 or 4096", NULL);
    c.L = 256;
    expect_err("pathfinder", &c, XB_EINVAL, "'contour' = 14 does not fit 16x16 images", NULL);
    set(t, &c, "contour", 6);
    cr_assert_eq(load("pathfinder", &c, &s, err, sizeof err), 0, "%s", err);
    release(&s);
    set(t, &c, "contour", 7);
    expect_err("pathfinder", &c, XB_EINVAL, "'contour' = 7 must be 6, 9 or 14", NULL);
}
