/* tasks/fortune.c — the English fortune corpus of the offline Text / Retrieval tasks
 * (TASKS.md §3.3a/b, §4.2 "Fortunes"; tasks/fortune.h). Files are parsed directly (entries
 * between "%" lines; the strfile .dat index is not used), entries whose exact bytes occur
 * in more than one selected category are dropped, repeats inside one category are kept
 * once, and each entry goes to train/val/test by its content hash, independent of file
 * order and seed. */
#include "tasks/fortune.h"

#include <stdlib.h>
#include <string.h>

#include "core/textio.h"
#include "core/xb.h"

const char *const xb_fortune_categories[XB_FORTUNE_MAX_CAT] = {
    "computers", "politics", "science", "songs-poems",
    "definitions", "people", "work", "men-women",
};

int xb_fortune_split(const char *buf, size_t n, const char **text, int *len, int cap, int *count)
{
    int k = 0;
    size_t start = 0, ls = 0;
    while (ls <= n) {
        size_t le = ls;
        while (le < n && buf[le] != '\n') le++;
        int sep = le - ls == 1 && buf[ls] == '%';
        if (sep || le >= n) {
            size_t end = sep ? ls : n;      /* entry = [start, end) minus the newline before it */
            if (end > start && buf[end - 1] == '\n') end--;
            if (end > start) {
                if (k == cap) return XB_ENOMEM;
                text[k] = buf + start;
                len[k] = (int)(end - start);
                k++;
            }
            start = le + 1;
        }
        if (le >= n) break;
        ls = le + 1;
    }
    *count = k;
    return XB_OK;
}

int xb_fortune_split_of(const char *text, int len)
{
    uint64_t h = xb_fnv1a(text, (size_t)len);
    return h % 10 == 0 ? 2 : h % 10 == 1 ? 1 : 0;
}

typedef struct ent { uint64_t h; int cat, idx; } ent;

/* What qsort_r compares: the texts of all entries, category c's starting at off[c]. */
typedef struct ents { const char **text; const int *len; int off[XB_FORTUNE_MAX_CAT + 1]; } ents;

static int cmp_ent(const void *pa, const void *pb, void *ctx)
{
    const ent *a = pa, *b = pb;
    const ents *g = ctx;
    if (a->h != b->h) return a->h < b->h ? -1 : 1;
    int la = g->len[g->off[a->cat] + a->idx], lb = g->len[g->off[b->cat] + b->idx];
    if (la != lb) return la < lb ? -1 : 1;
    int c = memcmp(g->text[g->off[a->cat] + a->idx], g->text[g->off[b->cat] + b->idx], (size_t)la);
    if (c) return c;
    if (a->cat != b->cat) return a->cat - b->cat;
    return a->idx - b->idx;
}

void xb_fortunes_free(xb_fortunes *f)
{
    for (int c = 0; c < XB_FORTUNE_MAX_CAT; c++) {
        free(f->buf[c]);
        for (int s = 0; s < 3; s++) { free(f->pool[c][s].text); free(f->pool[c][s].len); }
    }
    memset(f, 0, sizeof *f);
}

int xb_fortunes_load(const char *dir, int n_cat, xb_fortunes *f, char *err, size_t errn)
{
    memset(f, 0, sizeof *f);
    XB_ASSERT(n_cat >= 2 && n_cat <= XB_FORTUNE_MAX_CAT);
    f->n_cat = n_cat;
    const char *pkg = strcmp(dir, XB_FORTUNE_DIR) == 0 ? "fortunes" : NULL;
    size_t sz[XB_FORTUNE_MAX_CAT];
    int total_cap = 0, rc = XB_OK;
    char path[4200];
    for (int c = 0; c < n_cat; c++) {
        f->name[c] = xb_fortune_categories[c];
        snprintf(path, sizeof path, "%s/%s", dir, f->name[c]);
        if ((rc = xb_read_all(path, 0, pkg, &f->buf[c], &sz[c], err, errn)) != XB_OK) goto fail;
        int lines = 1;
        for (size_t i = 0; i < sz[c]; i++) lines += f->buf[c][i] == '\n';
        total_cap += lines;
    }
    /* every entry of every file, then sorted by content to find the repeats */
    const char **text = malloc((size_t)total_cap * sizeof *text);
    int *len = malloc((size_t)total_cap * sizeof *len);
    ent *e = malloc((size_t)total_cap * sizeof *e);
    int ne = 0;
    ents g;
    if (!text || !len || !e) { rc = XB_ENOMEM; goto fail_mem; }
    for (int c = 0; c < n_cat; c++) {
        g.off[c] = ne;
        int cnt = 0;
        xb_fortune_split(f->buf[c], sz[c], text + ne, len + ne, total_cap - ne, &cnt);
        if (cnt == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, f->name[c]);
            snprintf(err, errn, "%s: no fortune entries (expected text entries separated by '%%' lines)", path);
            rc = XB_EFORMAT;
            goto fail_mem;
        }
        f->raw[c] = cnt;
        for (int i = 0; i < cnt; i++) {
            e[ne + i].h = xb_fnv1a(text[ne + i], (size_t)len[ne + i]);
            e[ne + i].cat = c;
            e[ne + i].idx = i;
        }
        ne += cnt;
    }
    g.off[n_cat] = ne;
    g.text = text; g.len = len;
    qsort_r(e, (size_t)ne, sizeof *e, cmp_ent, &g);
    /* keep[k]: entry k (in file order) survives */
    unsigned char *keep = calloc((size_t)ne + 1, 1);
    if (!keep) { rc = XB_ENOMEM; goto fail_mem; }
    for (int a = 0; a < ne;) {
        int b = a + 1;
        while (b < ne && e[b].h == e[a].h && len[g.off[e[b].cat] + e[b].idx] == len[g.off[e[a].cat] + e[a].idx] &&
               memcmp(text[g.off[e[b].cat] + e[b].idx], text[g.off[e[a].cat] + e[a].idx],
                      (size_t)len[g.off[e[a].cat] + e[a].idx]) == 0)
            b++;
        int cross = e[b - 1].cat != e[a].cat;      /* sorted by category within a group */
        if (cross) f->dropped_cross += b - a;
        else {
            keep[g.off[e[a].cat] + e[a].idx] = 1;
            f->dropped_dup += b - a - 1;
        }
        a = b;
    }
    for (int c = 0; c < n_cat; c++) {
        for (int s = 0; s < 3; s++) {
            xb_fortune_pool *p = &f->pool[c][s];
            p->text = malloc(((size_t)f->raw[c] + 1) * sizeof *p->text);
            p->len = malloc(((size_t)f->raw[c] + 1) * sizeof *p->len);
            if (!p->text || !p->len) { free(keep); rc = XB_ENOMEM; goto fail_mem; }
        }
        for (int i = 0; i < f->raw[c]; i++) {
            int k = g.off[c] + i;
            if (!keep[k]) continue;
            xb_fortune_pool *p = &f->pool[c][xb_fortune_split_of(text[k], len[k])];
            p->text[p->n] = text[k];
            p->len[p->n] = len[k];
            p->n++;
        }
        for (int s = 0; s < 3; s++)
            if (f->pool[c][s].n == 0) {
                snprintf(path, sizeof path, "%s/%s", dir, f->name[c]);
                snprintf(err, errn, "%s: too few entries (%d) to fill train, val and test", path, f->raw[c]);
                free(keep);
                rc = XB_EFORMAT;
                goto fail_mem;
            }
    }
    free(keep); free(text); free(len); free(e);
    return XB_OK;
fail_mem:
    if (rc == XB_ENOMEM) snprintf(err, errn, "%s: out of memory parsing the fortune files", dir);
    free(text); free(len); free(e);
fail:
    xb_fortunes_free(f);
    return rc;
}

int xb_fortune_doc(const xb_fortune_pool *p, xb_rng *r, int L, int *perm, int *used, int32_t *x)
{
    static const char sep[3] = { '\n', '%', '\n' };
    int n = 0;
    while (*used < p->n) {
        /* partial Fisher–Yates: slot *used gets a uniform pick of the remaining entries */
        int j = *used + (int)xb_rng_below(r, (uint32_t)(p->n - *used));
        int tmp = perm[*used]; perm[*used] = perm[j]; perm[j] = tmp;
        int k = perm[*used];
        int need = p->len[k] + 3;
        if (n > 0 && n + need > L) break;   /* does not fit: the document is complete */
        (*used)++;
        for (int i = 0; i < need && n < L; i++)
            x[n++] = (int32_t)(unsigned char)(i < p->len[k] ? p->text[k][i] : sep[i - p->len[k]]) + 1;
        if (n >= L) break;
    }
    return n;
}
