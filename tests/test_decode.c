/* tests/test_decode.c — every decode form (core/mixer.h decode_*) against the mixer's own
 * causal forward (itself checked against the naive reference in test_mixers.c): the output of
 * each step at position t equals row t of the forward over the whole sequence, stepping from an
 * empty state and after a prefill, at one thread and at three (split-K pieces that cross kv
 * heads, threads with empty pieces). Parameterised over the registry: a new decode form is
 * tested without new test code. */
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

static xb_mixer_cfg decode_cfg(const xb_mixer *m, int n_max)
{
    xb_mixer_cfg c = {0};
    c.d = 16; c.heads = 2; c.causal = 1; c.n_max = n_max;
    set_opts(m, &c, "window=5 block=4 rank=6 features=8 state=4 order=6 theta=%d chunk=8 d_ff=32 eps=0", n_max);
    return xb_mixer_resolve(m, &c);
}

/* Max |a - b| over n, relative to 1 + max |b|. */
static double rel_diff(const float *a, const float *b, size_t n)
{
    double e = 0, s = 0;
    for (size_t i = 0; i < n; i++) {
        e = fmax(e, fabs((double)a[i] - b[i]));
        s = fmax(s, fabs((double)b[i]));
    }
    return e / (1 + s);
}

static void check_decode(const xb_mixer *m, int threads, int prefill_n)
{
    const int N = 70;   /* more than one 64-key block */
    xb_mixer_cfg c = decode_cfg(m, N);
    const int d = c.d;
    omp_set_num_threads(threads);
    size_t np = xb_mixer_n_params(m, &c), ns = m->n_saved(&c, N);
    size_t nsc = m->n_scratch ? m->n_scratch(&c, 1, N) : 0;
    float *w = xb_alloc(np * sizeof(float)), *x = xb_alloc((size_t)N * d * sizeof(float));
    float *y = xb_alloc((size_t)N * d * sizeof(float)), *saved = xb_alloc((ns + 1) * sizeof(float));
    float *scratch = xb_alloc((nsc + 1) * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, 7);
    m->init(&c, w, &r);
    for (size_t i = 0; i < (size_t)N * d; i++) x[i] = (float)xb_rng_normal(&r);
    m->forward(&c, w, x, NULL, y, saved, scratch, 1, N);

    size_t nst = m->decode_state(&c, N), nds = m->decode_scratch(&c, N);
    float *st = calloc(nst + 1, sizeof(float)), *ds = xb_alloc((nds + 1) * sizeof(float));
    float *yt = xb_alloc((size_t)d * sizeof(float));
    int t0 = 0;
    if (prefill_n > 0) {
        cr_assert(m->decode_prefill, "%s: no decode_prefill", m->name);
        m->decode_prefill(&c, N, w, x, prefill_n, st, ds);
        t0 = prefill_n;
    }
    for (int t = t0; t < N; t++) {
        m->decode_step(&c, N, w, x + (size_t)t * d, t, st, yt, ds);
        double e = rel_diff(yt, y + (size_t)t * d, (size_t)d);
        cr_assert(e < 2e-5, "%s (%d threads, prefill %d): step %d differs from the forward by %.3g",
                  m->name, threads, prefill_n, t, e);
    }
    free(st);
    xb_free(ds); xb_free(yt); xb_free(w); xb_free(x); xb_free(y); xb_free(saved); xb_free(scratch);
}

static int ids[128];
static int n_ids(void)
{
    int n = 0;
    for (int i = 0; i < xb_n_mixers && n < 128; i++)
        if ((xb_mixers[i]->modes & XB_CAUSAL) && xb_mixers[i]->decode_step) ids[n++] = i;
    return n;
}

ParameterizedTestParameters(decode, matches_forward) { return cr_make_param_array(int, ids, n_ids()); }
ParameterizedTest(int *i, decode, matches_forward)
{
    const xb_mixer *m = xb_mixers[*i];
    check_decode(m, 1, 0);
    check_decode(m, 3, 0);
    if (m->decode_prefill) {
        check_decode(m, 1, 37);
        check_decode(m, 3, 1);
        check_decode(m, 2, 69);
    }
}

/* The contract: the four members come together (decode_prefill alone may be missing), and a
 * decode form is causal. */
Test(decode, members_complete)
{
    for (int i = 0; i < xb_n_mixers; i++) {
        const xb_mixer *m = xb_mixers[i];
        int any = m->decode_state || m->decode_scratch || m->decode_step || m->decode_prefill;
        int all = m->decode_state && m->decode_scratch && m->decode_step;
        cr_expect(!any || all, "%s: decode_state, decode_scratch and decode_step go together", m->name);
        cr_expect(!any || (m->modes & XB_CAUSAL), "%s: a decode form needs a causal mode", m->name);
    }
}

/* Issue 17: every causal mixer reports a decode-phase latency, so every one has a decode form
 * (a causal mixer without one would show `skipped:no-decode-form` in every decode table). */
Test(decode, every_causal_mixer_has_one)
{
    for (int i = 0; i < xb_n_mixers; i++) {
        const xb_mixer *m = xb_mixers[i];
        if (m->modes & XB_CAUSAL) cr_expect(m->decode_step != NULL, "%s: causal, but no decode form", m->name);
    }
}
