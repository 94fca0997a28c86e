/* tasks/retrieval.c — byte-level two-document matching (LRA Retrieval; TASKS.md §1.3,
 * §3.3b, §3.4), shape PAIR: x holds tower a (L ids) then tower b (L ids), ids = byte + 1,
 * V = 257, 2 classes.
 *
 * Default source "fortune-match" (debian:fortunes): example i has label i mod 2 (exact
 * 50/50). Tower a is a fortune-topic document (tasks/fortune.c) of a uniformly drawn
 * category; label 1: tower b is a document of the same category and split built from the
 * entries a did not use (disjoint entry sets); label 0: tower b comes from one of the
 * other categories, drawn uniformly.
 *
 * With data_dir: LRA's tsv_data/new_aan_pairs.{train,eval,test}.tsv (data_dir may also be
 * tsv_data itself): no header, 5 tab-separated columns label, id1, id2, text1, text2; the
 * label may be written as a float ("1.0") and must be 0 or 1; quotes mean nothing. Each
 * text is cut to its first 10,000 bytes (LRA), then to L. Lines are read with getline
 * (growable); a file whose lines lack the text columns is refused. */
#define _FILE_OFFSET_BITS 64
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

#include "core/task.h"
#include "core/textio.h"
#include "core/xb.h"
#include "tasks/fortune.h"

#define AAN_CUT 10000       /* LRA keeps the first 10,000 characters of each paper */

enum { O_CLASSES, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_CLASSES] = { "classes", 4, 4, 8, 1, "fortune categories the documents come from: 4 or 8 (ignored with data_dir)" },
    [O_TRAIN]   = { "train_examples", 4000, -1, 1e7, 1, "training pairs (-1 with data_dir: all)" },
    [O_VAL]     = { "val_examples", 400, -1, 1e6, 1, "validation pairs (-1 with data_dir: all)" },
    [O_TEST]    = { "test_examples", 800, -1, 1e6, 1, "test pairs (-1 with data_dir: all)" },
};

static int retr_vocab(const xb_task_cfg *c) { (void)c; return 257; }
static int retr_classes(const xb_task_cfg *c) { (void)c; return 2; }

static int retr_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int k = (int)c->opt[O_CLASSES];
    if (!c->data_dir && k != 4 && k != 8) {
        snprintf(err, errn, "retrieval: option 'classes' = %d must be 4 or 8", k);
        return XB_EINVAL;
    }
    if (!c->data_dir && (c->opt[O_TRAIN] < 0 || c->opt[O_VAL] < 0 || c->opt[O_TEST] < 1)) {
        snprintf(err, errn, "retrieval: 'train_examples'/'val_examples' must be >= 0 and 'test_examples' >= 1 "
                 "for generated pairs (-1 means all, with data_dir only)");
        return XB_EINVAL;
    }
    return XB_OK;
}

static void retr_key(const xb_task_cfg *c, char *buf, size_t n)
{
    if (c->data_dir) snprintf(buf, n, "retrieval:src=aan,L=%d,cut=%d", c->L, AAN_CUT);
    else snprintf(buf, n, "retrieval:src=fortune-match,classes=%d,L=%d,sep=%%", (int)c->opt[O_CLASSES], c->L);
}

/* ------------------------------------------------------------------ fortune-match */

typedef struct match { xb_fortunes f; int *perm; } match;

static int match_example(const xb_task_cfg *c, void *ctx, int split, int i, xb_rng *r,
                         int32_t *x, int32_t *y, int *len)
{
    match *m = ctx;
    int C = m->f.n_cat, label = i % 2, L = c->L;
    int ca = (int)xb_rng_below(r, (uint32_t)C);
    const xb_fortune_pool *pa = &m->f.pool[ca][split - 1];
    for (int k = 0; k < pa->n; k++) m->perm[k] = k;
    int used = 0;
    len[0] = xb_fortune_doc(pa, r, L, m->perm, &used, x);
    if (label == 1) {
        len[1] = xb_fortune_doc(pa, r, L, m->perm, &used, x + L);   /* the entries a left */
    } else {
        int cb = (int)xb_rng_below(r, (uint32_t)(C - 1));
        if (cb >= ca) cb++;
        const xb_fortune_pool *pb = &m->f.pool[cb][split - 1];
        for (int k = 0; k < pb->n; k++) m->perm[k] = k;
        used = 0;
        len[1] = xb_fortune_doc(pb, r, L, m->perm, &used, x + L);
    }
    y[0] = label;
    return len[0] > 0 && len[1] > 0 ? XB_OK : XB_EINVAL;
}

extern const xb_task xb_task_retrieval;

static int load_match(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                      char *err, size_t errn)
{
    match m;
    int rc = xb_fortunes_load(XB_FORTUNE_DIR, (int)c->opt[O_CLASSES], &m.f, err, errn);
    if (rc != XB_OK) return rc;
    int most = 1;
    for (int k = 0; k < m.f.n_cat; k++)
        for (int s = 0; s < 3; s++) most = xb_max(most, m.f.pool[k][s].n);
    m.perm = malloc((size_t)most * sizeof *m.perm);
    if (!m.perm) { xb_fortunes_free(&m.f); snprintf(err, errn, "retrieval: out of memory"); return XB_ENOMEM; }
    rc = xb_data_generate_ctx(&xb_task_retrieval, c, match_example, &m, (int)c->opt[O_TRAIN],
                              (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
    free(m.perm);
    xb_fortunes_free(&m.f);
    if (rc == XB_OK)
        for (xb_data *d = train; d; d = d == train ? val : d == val ? test : NULL)
            snprintf(d->source, sizeof d->source, "debian:fortunes");
    return rc;
}

/* ------------------------------------------------------------------ AAN TSV */

typedef struct tsv {
    char path[4300];
    FILE *f;
    int n;              /* non-empty lines */
    off_t *off;         /* their offsets */
    long *line;         /* their line numbers */
} tsv;

typedef struct aan { tsv t[3]; char *buf; size_t cap; int L; } aan;

/* Index the non-empty lines of one TSV (offsets and line numbers). */
static int tsv_index(tsv *t, char **buf, size_t *cap, char *err, size_t errn)
{
    t->f = fopen(t->path, "rb");
    if (!t->f) {
        snprintf(err, errn, "%s: %s", t->path, strerror(errno));
        return errno == ENOENT ? XB_ENOTFOUND : XB_EIO;
    }
    int ncap = 1024;
    t->off = malloc((size_t)ncap * sizeof *t->off);
    t->line = malloc((size_t)ncap * sizeof *t->line);
    if (!t->off || !t->line) goto nomem;
    long ln = 0;
    off_t pos = 0;
    ssize_t got;
    while ((got = getline(buf, cap, t->f)) >= 0) {
        ln++;
        off_t here = pos;
        pos += got;
        if ((*buf)[got - 1] != '\n') {
            snprintf(err, errn, "%s:%ld: last line has no newline (file truncated?)", t->path, ln);
            return XB_EFORMAT;
        }
        if (got == 1 || (got == 2 && (*buf)[0] == '\r')) continue;
        if (t->n == ncap) {
            ncap *= 2;
            off_t *no = realloc(t->off, (size_t)ncap * sizeof *no);
            if (no) t->off = no;
            long *nl = realloc(t->line, (size_t)ncap * sizeof *nl);
            if (nl) t->line = nl;
            if (!no || !nl) goto nomem;
        }
        t->off[t->n] = here;
        t->line[t->n] = ln;
        t->n++;
    }
    if (ferror(t->f)) { snprintf(err, errn, "%s: read error", t->path); return XB_EIO; }
    if (t->n == 0) { snprintf(err, errn, "%s: no pairs (empty file)", t->path); return XB_EFORMAT; }
    return XB_OK;
nomem:
    snprintf(err, errn, "%s: out of memory indexing lines", t->path);
    return XB_ENOMEM;
}

/* Text column → ids: the first AAN_CUT bytes, then the first L. */
static int put_text(const char *s, size_t n, int L, int32_t *x)
{
    if (n > AAN_CUT) n = AAN_CUT;
    if (n > (size_t)L) n = (size_t)L;
    for (size_t i = 0; i < n; i++) x[i] = (int32_t)(unsigned char)s[i] + 1;
    return (int)n;
}

static int aan_row(void *ctx, int split, int row, int32_t *x, int32_t *y, int *len, char *err, size_t errn)
{
    aan *a = ctx;
    tsv *t = &a->t[split];
    long ln = t->line[row];
    if (fseeko(t->f, t->off[row], SEEK_SET) != 0) {
        snprintf(err, errn, "%s: seek failed: %s", t->path, strerror(errno));
        return XB_EIO;
    }
    ssize_t got = getline(&a->buf, &a->cap, t->f);
    if (got <= 0) { snprintf(err, errn, "%s:%ld: read error (file changed?)", t->path, ln); return XB_EIO; }
    char *s = a->buf;
    while (got > 0 && (s[got - 1] == '\n' || s[got - 1] == '\r')) s[--got] = '\0';
    char *col[5];
    int nc = 0;
    col[nc++] = s;
    for (char *p = s; *p && nc < 5; p++)
        if (*p == '\t') { *p = '\0'; col[nc++] = p + 1; }
    if (nc < 5) {
        snprintf(err, errn, "%s:%ld: %d tab-separated column%s, expected 5 (label, id1, id2, text1, text2): "
                 "the document text is absent (this copy holds only the ids?)", t->path, ln, nc, nc == 1 ? "" : "s");
        return XB_EFORMAT;
    }
    char *end;
    errno = 0;
    double v = strtod(col[0], &end);
    while (*end == ' ') end++;
    if (end == col[0] || *end || errno || !(v == 0.0 || v == 1.0)) {
        snprintf(err, errn, "%s:%ld: label '%.40s' is not 0 or 1", t->path, ln, col[0]);
        return XB_EFORMAT;
    }
    size_t n1 = strlen(col[3]), n2 = strlen(col[4]);
    if (n1 == 0 || n2 == 0) {
        snprintf(err, errn, "%s:%ld: document text %d is empty", t->path, ln, n1 == 0 ? 1 : 2);
        return XB_EFORMAT;
    }
    len[0] = put_text(col[3], n1, a->L, x);
    len[1] = put_text(col[4], n2, a->L, x + a->L);
    y[0] = (int32_t)v;
    return XB_OK;
}

static int load_aan(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                    char *err, size_t errn)
{
    aan *a = calloc(1, sizeof *a);
    if (!a) { snprintf(err, errn, "retrieval: out of memory"); return XB_ENOMEM; }
    a->L = c->L;
    char dir[4096];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/tsv_data", c->data_dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) snprintf(dir, sizeof dir, "%s", c->data_dir);
    static const char *const nm[3] = { "train", "eval", "test" };
    int rc = XB_OK;
    for (int k = 0; k < 3 && rc == XB_OK; k++) {
        snprintf(a->t[k].path, sizeof a->t[k].path, "%s/new_aan_pairs.%s.tsv", dir, nm[k]);
        rc = tsv_index(&a->t[k], &a->buf, &a->cap, err, errn);
    }
    if (rc == XB_OK) {
        int avail[3] = { a->t[0].n, a->t[1].n, a->t[2].n };
        int want[3] = { (int)c->opt[O_TRAIN], (int)c->opt[O_VAL], (int)c->opt[O_TEST] };
        rc = xb_data_from_rows(&xb_task_retrieval, c, aan_row, a, avail, want, train, val, test, err, errn);
        if (rc == XB_OK) {
            xb_source_files(train->source, sizeof train->source, dir);
            snprintf(val->source, sizeof val->source, "%s", train->source);
            snprintf(test->source, sizeof test->source, "%s", train->source);
        }
    }
    for (int k = 0; k < 3; k++) {
        if (a->t[k].f) fclose(a->t[k].f);
        free(a->t[k].off); free(a->t[k].line);
    }
    free(a->buf);
    free(a);
    return rc;
}

static int retr_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                     char *err, size_t errn)
{
    memset(train, 0, sizeof *train); memset(val, 0, sizeof *val); memset(test, 0, sizeof *test);
    int rc = retr_check(c, err, errn);
    if (rc != XB_OK) return rc;
    return c->data_dir ? load_aan(c, train, val, test, err, errn) : load_match(c, train, val, test, err, errn);
}

const xb_task xb_task_retrieval = {
    .name = "retrieval",
    .desc = "two-document matching (two towers): fortune-match (default) or AAN citation pairs (data_dir)",
    .cite = "Tay et al. 2021, Long Range Arena (Retrieval, ACL Anthology Network); Debian fortunes",
    .shape = XB_SHAPE_PAIR,
    .opts = opts,
    .n_opts = O_N,
    .vocab = retr_vocab,
    .n_classes = retr_classes,
    .check = retr_check,
    .key = retr_key,
    .load = retr_load,
};
