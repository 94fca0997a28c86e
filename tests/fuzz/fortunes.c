/* tests/fuzz/fortunes.c — libFuzzer target: fortune files (tasks/fortune.c: entries
 * between "%" lines, repeats and cross-category entries dropped, the split by content
 * hash) and the documents built from them (xb_fortune_doc).
 *
 * Input: one configuration byte, then the category files cut at FZ_SEP in
 * xb_fortune_categories order (file k gets the last part when there are fewer).
 * Configuration byte: bit 0 eight categories instead of four, bits 1-7 the document length
 * L - 1 (1..128). */
#include "tests/fuzz/fuzz.h"

#include "core/rng.h"
#include "core/xb.h"
#include "tasks/fortune.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    uint8_t conf = data[0];
    int n_cat = conf & 1 ? 8 : 4, L = 1 + (conf >> 1);
    const uint8_t *part[XB_FORTUNE_MAX_CAT];
    size_t len[XB_FORTUNE_MAX_CAT];
    int n = fz_split(data + 1, size - 1, part, len, n_cat);
    for (int k = 0; k < n_cat; k++) fz_write(xb_fortune_categories[k], part[k < n ? k : n - 1], len[k < n ? k : n - 1]);
    xb_fortunes f;
    char err[1024];
    if (xb_fortunes_load(fz_dir(), n_cat, &f, err, sizeof err) != XB_OK) return 0;
    /* two documents from every pool, as fortune-topic and fortune-match draw them */
    xb_rng r;
    xb_rng_seed(&r, 1234);
    int32_t x[128];
    for (int c = 0; c < f.n_cat; c++)
        for (int s = 0; s < 3; s++) {
            const xb_fortune_pool *p = &f.pool[c][s];
            int *perm = malloc((size_t)p->n * sizeof *perm);
            if (!perm) abort();
            for (int k = 0; k < p->n; k++) perm[k] = k;
            int used = 0;
            for (int doc = 0; doc < 2; doc++) {
                int m = xb_fortune_doc(p, &r, L, perm, &used, x);
                if (m < 0 || m > L || (doc == 0 && m == 0)) {
                    fprintf(stderr, "xb-fuzz: a document of %d tokens for L = %d\n", m, L);
                    abort();
                }
                for (int i = 0; i < m; i++)
                    if (x[i] < 1 || x[i] > 256) abort();
            }
            free(perm);
        }
    xb_fortunes_free(&f);
    return 0;
}
