/* tasks/fortune.h — the English fortune corpus behind the offline Text and Retrieval tasks
 * (TASKS.md §3.3a/b): category files parsed into entries, entries split by content hash,
 * documents of ≤ L bytes built from one category's entries of one split. */
#ifndef XB_TASKS_FORTUNE_H
#define XB_TASKS_FORTUNE_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"

#define XB_FORTUNE_DIR "/usr/share/games/fortunes"
#define XB_FORTUNE_MAX_CAT 8

typedef struct xb_fortune_pool {    /* one category's entries of one split */
    int n;
    const char **text;              /* entry bytes (not NUL-terminated), into the file buffers */
    int *len;
} xb_fortune_pool;

typedef struct xb_fortunes {
    int n_cat;
    const char *name[XB_FORTUNE_MAX_CAT];   /* category (file) names */
    int raw[XB_FORTUNE_MAX_CAT];            /* entries parsed from each file */
    int dropped_cross;      /* entries dropped: their bytes occur in another selected category */
    int dropped_dup;        /* repeats of an entry within its own category, kept once */
    xb_fortune_pool pool[XB_FORTUNE_MAX_CAT][3];    /* [category][0 train, 1 val, 2 test] */
    char *buf[XB_FORTUNE_MAX_CAT];
} xb_fortunes;

/* Category names in class order: the first 4 are the default classes, 8 the extended set. */
extern const char *const xb_fortune_categories[XB_FORTUNE_MAX_CAT];

/* Parse the first n_cat (4 or 8) categories from folder dir. Errors name the file (and,
 * for the Debian folder, the package to install). 0 or XB_E*. */
int xb_fortunes_load(const char *dir, int n_cat, xb_fortunes *f, char *err, size_t errn);
void xb_fortunes_free(xb_fortunes *f);

/* Entries of one buffer separated by lines that are exactly "%": *n entries into the
 * arrays (capacity cap; returns XB_ENOMEM when more). Empty entries are dropped; an entry
 * excludes the newline in front of its "%" line. Exposed for the tests. */
int xb_fortune_split(const char *buf, size_t n, const char **text, int *len, int cap, int *count);

/* Split of an entry by content: FNV-1a-64 h, h % 10 == 0 → 2 (test), == 1 → 1 (val), else 0. */
int xb_fortune_split_of(const char *text, int len);

/* Append entries of pool p to document x (ids = byte + 1) drawn without replacement through
 * perm (p->n slots, caller-initialised to 0..n−1; *used slots consumed so far, advanced
 * here), each followed by "\n%\n", while the total stays ≤ L; the first entry is always
 * taken (truncated to L). Returns the length written (0: the pool had no entry left). */
int xb_fortune_doc(const xb_fortune_pool *p, xb_rng *r, int L, int *perm, int *used, int32_t *x);

#endif
