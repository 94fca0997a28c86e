/* tasks/image.c — sequential image classification (LRA Image; TASKS.md §1.4, §3.1, §3.4),
 * shape CLS, 10 classes, pixel intensities as tokens (V = 256, no PAD: every sequence is
 * full length), row-major.
 *
 * Default source "sFMNIST" (debian:dataset-fashion-mnist): the gzip IDX files in
 * /usr/share/datasets/fashion-mnist read with zlib; big-endian headers, images magic 2051
 * (count, 28, 28), labels magic 2049 (count); sizes, counts and labels (0..9) are checked.
 * Validation = the last 10% of the training file, test = t10k.
 * With data_dir: CIFAR-10 binary batches data_batch_1..5.bin (train, file order; the last
 * 10% are validation) and test_batch.bin; 3073-byte records (label byte, 1024 R, 1024 G,
 * 1024 B), converted to gray as LRA/TensorFlow do:
 *   gray = min(255, floor((0.2989 R + 0.5870 G + 0.1140 B) / 255 · 255.5)).
 *
 * Options: pool k (k×k mean pooling, rounded to nearest → (side/k)² tokens; k divides the
 * side), permuted (a fixed permutation of the positions from the (S, T, "permute") stream),
 * train/val/test_examples: a seeded sample of each split (-1: all; see xb_data_from_rows).
 * L must equal the token count. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/task.h"
#include "core/textio.h"
#include "core/xb.h"
#include "tasks/image.h"

#define CIFAR_REC 3073

enum { O_POOL, O_PERM, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_POOL]  = { "pool", 1, 1, 8, 1, "k x k mean pooling (k divides 28, or 32 with data_dir): (side/k)^2 tokens" },
    [O_PERM]  = { "permuted", 0, 0, 1, 1, "1: a fixed seeded permutation of the pixel positions" },
    [O_TRAIN] = { "train_examples", 10000, -1, 1e7, 1, "training images, a seeded sample (-1: all 90% of the training file)" },
    [O_VAL]   = { "val_examples", 1000, -1, 1e6, 1, "validation images from the last 10% of the training file (-1: all)" },
    [O_TEST]  = { "test_examples", 2000, -1, 1e6, 1, "test images, a seeded sample of the test file (-1: all)" },
};

static int side_of(const xb_task_cfg *c) { return c->data_dir ? 32 : 28; }
static int tokens_of(const xb_task_cfg *c)
{
    int s = side_of(c) / (int)c->opt[O_POOL];
    return s * s;
}

static int image_vocab(const xb_task_cfg *c) { (void)c; return 256; }
static int image_classes(const xb_task_cfg *c) { (void)c; return 10; }

static int image_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int k = (int)c->opt[O_POOL], side = side_of(c);
    if (k < 1 || side % k != 0) {
        snprintf(err, errn, "image: option 'pool' = %d must divide the image side %d", k, side);
        return XB_EINVAL;
    }
    if (c->L != tokens_of(c)) {
        snprintf(err, errn, "image: sequence length L = %d must equal the %d pixel tokens of a %dx%d %s image "
                 "with pool %d", c->L, tokens_of(c), side, side, c->data_dir ? "CIFAR-10" : "Fashion-MNIST", k);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void image_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "image:src=%s,L=%d,pool=%d,perm=%d", c->data_dir ? "cifar10" : "fmnist", c->L,
             (int)c->opt[O_POOL], (int)c->opt[O_PERM]);
}

/* Mono images of the three splits (rows of side² bytes) and their labels. */
typedef struct imgs {
    const unsigned char *px[3], *lab[3];
    int n[3], side, k;
    int *perm;          /* NULL, or position p takes pooled pixel perm[p] */
} imgs;

static int image_row(void *ctx, int split, int row, int32_t *x, int32_t *y, int *len, char *err, size_t errn)
{
    (void)err; (void)errn;
    const imgs *m = ctx;
    const unsigned char *p = m->px[split] + (size_t)row * (size_t)(m->side * m->side);
    int k = m->k, s = m->side / k, kk = k * k;
    for (int r = 0; r < s; r++)
        for (int q = 0; q < s; q++) {
            int sum = 0;
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) sum += p[(r * k + a) * m->side + q * k + b];
            int v = (sum + kk / 2) / kk;
            int pos = r * s + q;
            x[pos] = v;
        }
    if (m->perm) {
        int32_t tmp[1024];
        memcpy(tmp, x, (size_t)(s * s) * sizeof *tmp);
        for (int i = 0; i < s * s; i++) x[i] = tmp[m->perm[i]];
    }
    len[0] = s * s;
    y[0] = m->lab[split][row];
    return XB_OK;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Check one IDX pair already in memory: images (magic 2051, count, 28, 28) and labels
 * (magic 2049, count), sizes exact, labels 0..9. */
static int check_idx(const char *ipath, const char *ibuf, size_t in, const char *lpath,
                     const char *lbuf, size_t ln, int *count, char *err, size_t errn)
{
    const unsigned char *ib = (const unsigned char *)ibuf, *lb = (const unsigned char *)lbuf;
    if (in < 16) { snprintf(err, errn, "%s: truncated IDX header (%zu bytes)", ipath, in); return XB_EFORMAT; }
    if (be32(ib) != 2051) {
        snprintf(err, errn, "%s: bad magic %u (expected 2051, IDX images)", ipath, be32(ib));
        return XB_EFORMAT;
    }
    uint32_t n = be32(ib + 4), rows = be32(ib + 8), cols = be32(ib + 12);
    if (rows != 28 || cols != 28) {
        snprintf(err, errn, "%s: images are %ux%u, expected 28x28", ipath, rows, cols);
        return XB_EFORMAT;
    }
    if (n == 0 || n > 10000000u || in != 16 + (size_t)n * 784) {
        snprintf(err, errn, "%s: %zu bytes, expected %zu for %u images (truncated?)", ipath, in,
                 16 + (size_t)n * 784, n);
        return XB_EFORMAT;
    }
    if (ln < 8) { snprintf(err, errn, "%s: truncated IDX header (%zu bytes)", lpath, ln); return XB_EFORMAT; }
    if (be32(lb) != 2049) {
        snprintf(err, errn, "%s: bad magic %u (expected 2049, IDX labels)", lpath, be32(lb));
        return XB_EFORMAT;
    }
    uint32_t nl = be32(lb + 4);
    if (ln != 8 + (size_t)nl) {
        snprintf(err, errn, "%s: %zu bytes, expected %zu for %u labels (truncated?)", lpath, ln, 8 + (size_t)nl, nl);
        return XB_EFORMAT;
    }
    if (nl != n) {
        snprintf(err, errn, "%s: %u labels but %s has %u images", lpath, nl, ipath, n);
        return XB_EFORMAT;
    }
    for (uint32_t i = 0; i < n; i++)
        if (lb[8 + i] > 9) {
            snprintf(err, errn, "%s: label %u of item %u is outside 0..9", lpath, lb[8 + i], i);
            return XB_EFORMAT;
        }
    *count = (int)n;
    return XB_OK;
}

int xb_fmnist_read(const char *dir, xb_fmnist *f, char *err, size_t errn)
{
    static const char *const nm[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
    memset(f, 0, sizeof *f);
    const char *pkg = strcmp(dir, XB_FMNIST_DIR) == 0 ? XB_FMNIST_PKG : NULL;
    char path[4][4200];
    size_t sz[4];
    int rc = XB_OK;
    for (int k = 0; k < 4 && rc == XB_OK; k++) {
        snprintf(path[k], sizeof path[k], "%s/%s", dir, nm[k]);
        rc = xb_read_all(path[k], 1, pkg, &f->buf[k], &sz[k], err, errn);
    }
    for (int s = 0; s < 2 && rc == XB_OK; s++) {
        rc = check_idx(path[2 * s], f->buf[2 * s], sz[2 * s], path[2 * s + 1], f->buf[2 * s + 1], sz[2 * s + 1],
                       &f->n[s], err, errn);
        f->px[s] = (const unsigned char *)f->buf[2 * s] + 16;
        f->lab[s] = (const unsigned char *)f->buf[2 * s + 1] + 8;
    }
    if (rc != XB_OK) xb_fmnist_free(f);
    return rc;
}

void xb_fmnist_free(xb_fmnist *f)
{
    for (int k = 0; k < 4; k++) free(f->buf[k]);
    memset(f, 0, sizeof *f);
}

/* Fill m from data_dir's CIFAR batches (gray, into *gray / *labs which the caller frees). */
static int read_cifar(const char *dir, imgs *m, unsigned char **gray, unsigned char **labs,
                      char *err, size_t errn)
{
    char path[4200], *buf[6] = { NULL };
    size_t sz[6];
    int rc = XB_OK;
    size_t recs = 0;
    for (int b = 0; b < 6 && rc == XB_OK; b++) {
        if (b < 5) snprintf(path, sizeof path, "%s/data_batch_%d.bin", dir, b + 1);
        else snprintf(path, sizeof path, "%s/test_batch.bin", dir);
        rc = xb_read_all(path, 0, NULL, &buf[b], &sz[b], err, errn);
        if (rc != XB_OK) break;
        if (sz[b] == 0 || sz[b] % CIFAR_REC != 0) {
            snprintf(err, errn, "%s: %zu bytes is not a whole number of %d-byte records (truncated?)", path,
                     sz[b], CIFAR_REC);
            rc = XB_EFORMAT;
            break;
        }
        for (size_t r = 0; r < sz[b] / CIFAR_REC; r++) {
            unsigned lab = (unsigned char)buf[b][r * CIFAR_REC];
            if (lab > 9) {
                snprintf(err, errn, "%s: label %u of record %zu is outside 0..9", path, lab, r);
                rc = XB_EFORMAT;
                break;
            }
        }
        recs += sz[b] / CIFAR_REC;
    }
    if (rc == XB_OK) {
        *gray = malloc(recs * 1024);
        *labs = malloc(recs);
        if (!*gray || !*labs) { snprintf(err, errn, "%s: out of memory", dir); rc = XB_ENOMEM; }
    }
    if (rc == XB_OK) {
        size_t o = 0;
        int ntrain = 0;
        for (int b = 0; b < 6; b++) {
            if (b == 5) { m->px[2] = *gray + o * 1024; m->lab[2] = *labs + o; }
            for (size_t r = 0; r < sz[b] / CIFAR_REC; r++, o++) {
                const unsigned char *rec = (const unsigned char *)buf[b] + r * CIFAR_REC;
                (*labs)[o] = rec[0];
                for (int p = 0; p < 1024; p++) {
                    double g = floor((0.2989 * rec[1 + p] + 0.5870 * rec[1025 + p] + 0.1140 * rec[2049 + p]) /
                                     255.0 * 255.5);
                    (*gray)[o * 1024 + (size_t)p] = (unsigned char)(g > 255 ? 255 : g);
                }
                if (b < 5) ntrain++;
            }
        }
        int nv = ntrain / 10;
        m->px[0] = *gray; m->lab[0] = *labs; m->n[0] = ntrain - nv;
        m->px[1] = *gray + (size_t)(ntrain - nv) * 1024; m->lab[1] = *labs + (ntrain - nv); m->n[1] = nv;
        m->n[2] = (int)(recs - (size_t)ntrain);
    }
    for (int b = 0; b < 6; b++) free(buf[b]);
    return rc;
}

extern const xb_task xb_task_image;

static int image_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                      char *err, size_t errn)
{
    memset(train, 0, sizeof *train); memset(val, 0, sizeof *val); memset(test, 0, sizeof *test);
    int rc = image_check(c, err, errn);
    if (rc != XB_OK) return rc;
    imgs m;
    memset(&m, 0, sizeof m);
    m.side = side_of(c);
    m.k = (int)c->opt[O_POOL];
    char src[160];
    unsigned char *gray = NULL, *labs = NULL;
    xb_fmnist fm;
    memset(&fm, 0, sizeof fm);
    if (c->data_dir) {
        if ((rc = read_cifar(c->data_dir, &m, &gray, &labs, err, errn)) != XB_OK) goto done;
        xb_source_files(src, sizeof src, c->data_dir);
    } else {
        if ((rc = xb_fmnist_read(XB_FMNIST_DIR, &fm, err, errn)) != XB_OK) goto done;
        int nv = fm.n[0] / 10;
        m.px[0] = fm.px[0]; m.lab[0] = fm.lab[0]; m.n[0] = fm.n[0] - nv;
        m.px[1] = fm.px[0] + (size_t)(fm.n[0] - nv) * 784; m.lab[1] = fm.lab[0] + (fm.n[0] - nv); m.n[1] = nv;
        m.px[2] = fm.px[1]; m.lab[2] = fm.lab[1]; m.n[2] = fm.n[1];
        snprintf(src, sizeof src, "debian:%s", XB_FMNIST_PKG);
    }
    int perm[1024];
    if (c->opt[O_PERM] != 0) {
        int T = c->L;
        xb_rng r;
        xb_rng_seed(&r, xb_stream_seed(c->seed, xb_task_key(&xb_task_image, c), "permute", 0));
        for (int i = 0; i < T; i++) perm[i] = i;
        for (int i = T - 1; i > 0; i--) {
            int j = (int)xb_rng_below(&r, (uint32_t)i + 1);
            int t = perm[i]; perm[i] = perm[j]; perm[j] = t;
        }
        m.perm = perm;
    }
    int want[3] = { (int)c->opt[O_TRAIN], (int)c->opt[O_VAL], (int)c->opt[O_TEST] };
    rc = xb_data_from_rows(&xb_task_image, c, image_row, &m, m.n, want, train, val, test, err, errn);
    if (rc == XB_OK)
        for (xb_data *d = train; d; d = d == train ? val : d == val ? test : NULL)
            snprintf(d->source, sizeof d->source, "%s", src);
done:
    xb_fmnist_free(&fm);
    free(gray); free(labs);
    return rc;
}

const xb_task xb_task_image = {
    .name = "image",
    .desc = "sequential image classification from pixel tokens: Fashion-MNIST (default) or gray CIFAR-10 (data_dir)",
    .cite = "Tay et al. 2021, Long Range Arena (Image); Xiao et al. 2017, Fashion-MNIST; Krizhevsky 2009, CIFAR-10",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = image_vocab,
    .n_classes = image_classes,
    .length = tokens_of,
    .check = image_check,
    .key = image_key,
    .load = image_load,
};
