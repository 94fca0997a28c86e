/* tests/test_decode_opts.c — the decode forms whose key lists depend on options, at options
 * test_decode.c's defaults do not reach: sparse_fixed at summary counts from 1 to the whole
 * block (no ring) and at block 1, bigbird at few and many random blocks and at blocks that
 * leave only global ones, minattn's symmetric and psd variants. Each step's output must equal
 * row t of the mixer's own causal forward (tested against the naive reference in
 * test_mixers.c), stepping from an empty state and after prefills, at 1 and 3 threads. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "core/xb.h"
#include "mixers/registry.h"
#include "tests/mixopt.h"

typedef struct opt_case {
    const char *mixer;
    int heads, block, summary, random_blocks, variant;
} opt_case;

static const opt_case cases[] = {
    {"sparse_fixed", 2, 4, 1, 0, 0},   /* summary offsets 0 and 3, a ring of 2 */
    {"sparse_fixed", 2, 4, 3, 0, 0},   /* every offset a summary column: no ring */
    {"sparse_fixed", 2, 4, 4, 0, 0},
    {"sparse_fixed", 4, 1, 1, 0, 0},
    {"sparse_fixed", 2, 8, 2, 0, 0},
    {"sparse_fixed", 2, 64, 8, 0, 0},  /* the default block: one whole block and a short one */
    {"bigbird", 2, 4, 0, 1, 0},
    {"bigbird", 4, 4, 0, 6, 0},        /* more random blocks than candidates early on */
    {"bigbird", 2, 3, 0, 2, 0},
    {"bigbird", 2, 8, 0, 3, 0},
    {"bigbird", 2, 32, 0, 3, 0},       /* three blocks: global, window, global */
    {"minattn", 2, 0, 0, 0, 1},
    {"minattn", 2, 0, 0, 0, 2},
    {"minattn", 1, 0, 0, 0, 2},
    {"minattn", 2, 0, 0, 0, 3},
    {"minattn", 4, 0, 0, 0, 3},
};

static double rel_diff(const float *a, const float *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return e / (1 + s);
}

static void check(const opt_case *oc, int threads, int prefill_n)
{
    const int N = 70;
    const xb_mixer *m = xb_mixer_find(oc->mixer);
    cr_assert_not_null(m);
    cr_assert_not_null(m->decode_step, "%s: no decode form", oc->mixer);
    xb_mixer_cfg c = {0};
    c.d = 16; c.heads = oc->heads; c.causal = 1; c.n_max = N; c.layer = 1;
    set_opts(m, &c, "block=%d summary=%d random_blocks=%d variant=%d", oc->block, oc->summary, oc->random_blocks,
             oc->variant);
    c = xb_mixer_resolve(m, &c);
    char err[256] = "";
    cr_assert(xb_mixer_check(m, &c, err, sizeof err) == 0, "%s: %s", oc->mixer, err);
    const int d = c.d;
    omp_set_num_threads(threads);
    size_t np = xb_mixer_n_params(m, &c), ns = m->n_saved(&c, N), nsc = m->n_scratch(&c, 1, N);
    float *w = xb_alloc(np * sizeof(float)), *x = xb_alloc((size_t)N * d * sizeof(float));
    float *y = xb_alloc((size_t)N * d * sizeof(float)), *saved = xb_alloc((ns + 1) * sizeof(float));
    float *scratch = xb_alloc((nsc + 1) * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, 19);
    m->init(&c, w, &r);
    for (size_t i = 0; i < (size_t)N * d; i++) x[i] = (float)xb_rng_normal(&r);
    m->forward(&c, w, x, NULL, y, saved, scratch, 1, N);

    float *st = calloc(m->decode_state(&c, N) + 1, sizeof(float));
    float *ds = xb_alloc((m->decode_scratch(&c, N) + 1) * sizeof(float)), *yt = xb_alloc((size_t)d * sizeof(float));
    if (prefill_n > 0) m->decode_prefill(&c, N, w, x, prefill_n, st, ds);
    for (int t = prefill_n; t < N; t++) {
        m->decode_step(&c, N, w, x + (size_t)t * d, t, st, yt, ds);
        double e = rel_diff(yt, y + (size_t)t * d, (size_t)d);
        cr_assert(e < 2e-5, "%s h=%d block=%d summary=%d random_blocks=%d variant=%d (%d threads, prefill %d): "
                  "step %d differs from the forward by %.3g", oc->mixer, c.heads, opt_int(m, &c, "block"),
                  opt_int(m, &c, "summary"), opt_int(m, &c, "random_blocks"), opt_int(m, &c, "variant"), threads,
                  prefill_n, t, e);
    }
    free(st);
    xb_free(ds); xb_free(yt); xb_free(w); xb_free(x); xb_free(y); xb_free(saved); xb_free(scratch);
}

static int ids[sizeof cases / sizeof cases[0]];

ParameterizedTestParameters(decode_opts, matches_forward)
{
    const int n = (int)(sizeof cases / sizeof cases[0]);
    for (int i = 0; i < n; i++) ids[i] = i;
    return cr_make_param_array(int, ids, n);
}

ParameterizedTest(int *i, decode_opts, matches_forward)
{
    const opt_case *oc = &cases[*i];
    check(oc, 1, 0);
    check(oc, 3, 0);
    check(oc, 1, 33);
    check(oc, 3, 8);   /* sparse_fixed: the prefill ends on a block boundary */
    check(oc, 2, 69);
}
