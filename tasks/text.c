/* tasks/text.c — byte-level text classification (LRA Text; TASKS.md §1.2, §3.3a, §3.4),
 * shape CLS, ids = byte + 1 (0 = PAD), V = 257.
 *
 * Default source "fortune-topic" (debian:fortunes): classes are English fortune categories
 * (4: computers, politics, science, songs-poems; 8 adds definitions, people, work,
 * men-women). Entries are split by content hash (tasks/fortune.c); example i of a split is
 * a document of ≤ L bytes built from entries of category i mod classes of that split
 * (exactly balanced), drawn without replacement by the example's own PRNG, each followed
 * by "\n%\n", at least one entry (truncated to L). Label = category.
 *
 * With data_dir: the aclImdb layout, {train,test}/{neg,pos}/<id>_<stars>.txt (neg = 0, pos = 1), file
 * names sorted byte-wise; train/unsup and other files are ignored. Review bytes truncated to
 * L. Validation = the last 10% of each sorted training folder (so val stays balanced);
 * test = the test folders. train/val/test_examples choose a seeded subset (-1: all). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/task.h"
#include "core/textio.h"
#include "core/xb.h"
#include "tasks/fortune.h"

enum { O_CLASSES, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_CLASSES] = { "classes", 4, 4, 8, 1, "fortune-topic categories: 4 or 8 (ignored with data_dir)" },
    [O_TRAIN]   = { "train_examples", 4000, -1, 1e7, 1, "training documents (-1 with data_dir: all files)" },
    [O_VAL]     = { "val_examples", 400, -1, 1e6, 1, "validation documents (-1 with data_dir: all)" },
    [O_TEST]    = { "test_examples", 800, -1, 1e6, 1, "test documents (-1 with data_dir: all)" },
};

static int text_vocab(const xb_task_cfg *c) { (void)c; return 257; }
static int text_classes(const xb_task_cfg *c) { return c->data_dir ? 2 : (int)c->opt[O_CLASSES]; }

static int text_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int k = (int)c->opt[O_CLASSES];
    if (!c->data_dir && k != 4 && k != 8) {
        snprintf(err, errn, "text: option 'classes' = %d must be 4 or 8", k);
        return XB_EINVAL;
    }
    if (!c->data_dir && (c->opt[O_TRAIN] < 0 || c->opt[O_VAL] < 0 || c->opt[O_TEST] < 1)) {
        snprintf(err, errn, "text: 'train_examples'/'val_examples' must be >= 0 and 'test_examples' >= 1 "
                 "for generated documents (-1 means all files, with data_dir only)");
        return XB_EINVAL;
    }
    return XB_OK;
}

static void text_key(const xb_task_cfg *c, char *buf, size_t n)
{
    if (c->data_dir) snprintf(buf, n, "text:src=imdb,L=%d", c->L);
    else snprintf(buf, n, "text:src=fortune-topic,classes=%d,L=%d,sep=%%", (int)c->opt[O_CLASSES], c->L);
}

/* ------------------------------------------------------------------ fortune-topic */

typedef struct topic { xb_fortunes f; int *perm; } topic;

static int topic_example(const xb_task_cfg *c, void *ctx, int split, int i, xb_rng *r,
                         int32_t *x, int32_t *y, int *len)
{
    topic *t = ctx;
    int cat = i % t->f.n_cat;
    const xb_fortune_pool *p = &t->f.pool[cat][split - 1];
    for (int k = 0; k < p->n; k++) t->perm[k] = k;
    int used = 0;
    len[0] = xb_fortune_doc(p, r, c->L, t->perm, &used, x);
    y[0] = cat;
    return len[0] > 0 ? XB_OK : XB_EINVAL;
}

extern const xb_task xb_task_text;

static int load_topic(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                      char *err, size_t errn)
{
    topic t;
    int rc = xb_fortunes_load(XB_FORTUNE_DIR, (int)c->opt[O_CLASSES], &t.f, err, errn);
    if (rc != XB_OK) return rc;
    int most = 1;
    for (int k = 0; k < t.f.n_cat; k++)
        for (int s = 0; s < 3; s++) most = xb_max(most, t.f.pool[k][s].n);
    t.perm = malloc((size_t)most * sizeof *t.perm);
    if (!t.perm) { xb_fortunes_free(&t.f); snprintf(err, errn, "text: out of memory"); return XB_ENOMEM; }
    rc = xb_data_generate_ctx(&xb_task_text, c, topic_example, &t, (int)c->opt[O_TRAIN],
                              (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
    free(t.perm);
    xb_fortunes_free(&t.f);
    if (rc == XB_OK)
        for (xb_data *d = train; d; d = d == train ? val : d == val ? test : NULL)
            snprintf(d->source, sizeof d->source, "debian:fortunes");
    return rc;
}

/* ------------------------------------------------------------------ aclImdb */

typedef struct folder { char dir[4200]; char **names; int n; } folder;
/* rows of split s: ranges [lo, hi) of folder f[s][0] (neg) then f[s][1] (pos) */
typedef struct imdb { folder f[2][2]; int lo[3][2], hi[3][2]; int L; } imdb;

static int imdb_row(void *ctx, int split, int row, int32_t *x, int32_t *y, int *len, char *err, size_t errn)
{
    imdb *m = ctx;
    int fs = split == 2 ? 1 : 0;    /* train and val come from the train folders */
    int cls = 0;
    for (; cls < 2; cls++) {
        int cnt = m->hi[split][cls] - m->lo[split][cls];
        if (row < cnt) break;
        row -= cnt;
    }
    XB_ASSERT(cls < 2);
    const folder *f = &m->f[fs][cls];
    char path[4600], *buf;
    size_t n;
    snprintf(path, sizeof path, "%s/%s", f->dir, f->names[m->lo[split][cls] + row]);
    int rc = xb_read_all(path, 0, NULL, &buf, &n, err, errn);
    if (rc != XB_OK) return rc;
    if (n == 0) {
        free(buf);
        snprintf(err, errn, "%s: empty review file", path);
        return XB_EFORMAT;
    }
    int k = (int)(n < (size_t)m->L ? n : (size_t)m->L);
    for (int i = 0; i < k; i++) x[i] = (int32_t)(unsigned char)buf[i] + 1;
    free(buf);
    len[0] = k;
    y[0] = cls;
    return XB_OK;
}

static int load_imdb(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                     char *err, size_t errn)
{
    imdb *m = calloc(1, sizeof *m);
    if (!m) { snprintf(err, errn, "text: out of memory"); return XB_ENOMEM; }
    char root[4096];
    struct stat st;
    snprintf(root, sizeof root, "%s/aclImdb", c->data_dir);
    if (stat(root, &st) != 0 || !S_ISDIR(st.st_mode)) snprintf(root, sizeof root, "%s", c->data_dir);
    static const char *const sp[2] = { "train", "test" }, *const cl[2] = { "neg", "pos" };
    int rc = XB_OK;
    for (int s = 0; s < 2 && rc == XB_OK; s++)
        for (int k = 0; k < 2 && rc == XB_OK; k++) {
            folder *f = &m->f[s][k];
            snprintf(f->dir, sizeof f->dir, "%s/%s/%s", root, sp[s], cl[k]);
            rc = xb_list_dir(f->dir, ".txt", &f->names, &f->n, err, errn);
            if (rc == XB_OK && f->n == 0) {
                snprintf(err, errn, "%s: no .txt review files", f->dir);
                rc = XB_EFORMAT;
            }
            if (rc == XB_OK && s == 0 && f->n < 10) {
                snprintf(err, errn, "%s: %d review files, too few to hold out 10%% for validation", f->dir, f->n);
                rc = XB_EFORMAT;
            }
        }
    if (rc == XB_OK) {
        m->L = c->L;
        int avail[3] = { 0, 0, 0 };
        for (int k = 0; k < 2; k++) {
            int n = m->f[0][k].n, nv = n / 10;
            m->lo[0][k] = 0; m->hi[0][k] = n - nv;           /* train: first 90% */
            m->lo[1][k] = n - nv; m->hi[1][k] = n;           /* val: last 10% */
            m->lo[2][k] = 0; m->hi[2][k] = m->f[1][k].n;     /* test */
            for (int s = 0; s < 3; s++) avail[s] += m->hi[s][k] - m->lo[s][k];
        }
        int want[3] = { (int)c->opt[O_TRAIN], (int)c->opt[O_VAL], (int)c->opt[O_TEST] };
        rc = xb_data_from_rows(&xb_task_text, c, imdb_row, m, avail, want, train, val, test, err, errn);
        if (rc == XB_OK) {
            xb_source_files(train->source, sizeof train->source, root);
            snprintf(val->source, sizeof val->source, "%s", train->source);
            snprintf(test->source, sizeof test->source, "%s", train->source);
        }
    }
    for (int s = 0; s < 2; s++)
        for (int k = 0; k < 2; k++) xb_free_names(m->f[s][k].names, m->f[s][k].n);
    free(m);
    return rc;
}

static int text_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                     char *err, size_t errn)
{
    memset(train, 0, sizeof *train); memset(val, 0, sizeof *val); memset(test, 0, sizeof *test);
    int rc = text_check(c, err, errn);
    if (rc != XB_OK) return rc;
    return c->data_dir ? load_imdb(c, train, val, test, err, errn) : load_topic(c, train, val, test, err, errn);
}

const xb_task xb_task_text = {
    .name = "text",
    .desc = "byte-level document classification: fortune-topic (default) or IMDb sentiment (data_dir)",
    .cite = "Tay et al. 2021, Long Range Arena (Text); Maas et al. 2011 (aclImdb); Debian fortunes",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = text_vocab,
    .n_classes = text_classes,
    .check = text_check,
    .key = text_key,
    .load = text_load,
};
