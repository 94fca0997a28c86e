/* tests/test_flops_retnet_sse.c — flops() of retnet and sse against MIXERS.md written out here
 * independently, plus the phased many-scan forward of core/chunkscan.c that both use when a
 * batch has fewer than two scans per thread (every other test runs on one thread, where the
 * fused form always runs):
 *   retnet §15 (chunked): projections 16Nd², scan 2NC(d_k + d_v) + 4N d_k d_vh with d_k = d,
 *     d_v = 2d, doubled when bidirectional (§0.1), norm and gate 6N d_v. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const xb_mixer *m, int d, int h, int causal, int chunk)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = h; c.causal = causal; c.n_max = 4096; c.chunk = chunk;
    return xb_mixer_resolve(m, &c);
}

static void near(double got, double want, const char *what)
{
    cr_expect(fabs(got - want) <= 1e-9 * want, "%s: flops %.17g, MIXERS.md %.17g", what, got, want);
}

Test(flops_retnet_sse, retnet_formula)
{
    const xb_mixer *m = xb_mixer_find("retnet");
    cr_assert(m);
    const int ds[] = {64, 128}, hs[] = {4, 8}, Ns[] = {256, 1000, 4096}, Cs[] = {0, 32};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 3; b++)
            for (int ci = 0; ci < 2; ci++)
                for (int causal = 0; causal <= 1; causal++) {
                    double d = ds[a], h = hs[a], N = Ns[b], C = Cs[ci] ? Cs[ci] : 64;
                    double dk = d, dv = 2 * d;
                    double scan = 2 * N * C * (dk + dv) + 4 * N * dk * (dv / h);
                    double want = 16 * N * d * d + (causal ? 1 : 2) * scan + 6 * N * dv;
                    xb_mixer_cfg c = cfg(m, ds[a], hs[a], causal, Cs[ci]);
                    near(m->flops(&c, Ns[b]), want, causal ? "retnet causal" : "retnet bidir");
                }
}

/* d = 8, h = 2 (d_kh = 4, d_vh = 8), C = 4, N = 8 by hand:
 * projections 16·8·64 = 8192; scan 2·8·4·24 = 1536 plus 4·8·8·8 = 2048, 3584 per direction;
 * norm and gate 6·8·16 = 768. Causal 12544, bidirectional 16128. */
Test(flops_retnet_sse, retnet_by_hand)
{
    const xb_mixer *m = xb_mixer_find("retnet");
    cr_assert(m);
    xb_mixer_cfg c = cfg(m, 8, 2, 1, 4);
    cr_expect_eq(m->flops(&c, 8), 12544.0);
    c = cfg(m, 8, 2, 0, 4);
    cr_expect_eq(m->flops(&c, 8), 16128.0);
}

/* One sequence, 2 heads, 4 threads: 2 (or, for sse, 2·(1 + P)) scans for 4 threads, so the
 * forward takes the phased form. Checked against the double reference in both modes, padded. */
static void phased_matches_reference(const char *name)
{
    const xb_mixer *m = xb_mixer_find(name);
    cr_assert(m, "%s not registered", name);
    const int B = 1, N = 150, d = 32;
    int len[1] = {141};
    const int keep = omp_get_max_threads();
    omp_set_num_threads(4);
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = {0};
        c.d = d; c.heads = 2; c.causal = causal; c.n_max = N; c.chunk = 16;
        c = xb_mixer_resolve(m, &c);
        char err[256] = "";
        cr_assert_eq(m->check(&c, err, sizeof err), 0, "%s", err);
        size_t np = xb_mixer_n_params(m, &c), nx = (size_t)B * N * d;
        float *w = xb_alloc(np * sizeof(float)), *x = xb_alloc(nx * sizeof(float)), *y = xb_alloc(nx * sizeof(float));
        float *saved = xb_alloc(B * m->n_saved(&c, N) * sizeof(float) + 64);
        float *scratch = xb_alloc(m->n_scratch(&c, B, N) * sizeof(float) + 64);
        double *yr = calloc(nx, sizeof(double));
        xb_rng rng;
        xb_rng_seed(&rng, 5);
        m->init(&c, w, &rng);
        for (size_t i = 0; i < nx; i++) x[i] = (float)xb_rng_normal(&rng);
        m->forward(&c, w, x, len, y, saved, scratch, B, N);
        m->reference(&c, w, x, len, yr, B, N);
        double maxref = 1, maxerr = 0;
        for (size_t i = 0; i < nx; i++) {
            if (fabs(yr[i]) > maxref) maxref = fabs(yr[i]);
            if (fabs(y[i] - yr[i]) > maxerr) maxerr = fabs(y[i] - yr[i]);
        }
        cr_expect(maxerr <= 1e-4 * maxref, "%s (%s), 4 threads: forward differs from the reference by %g (max %g)",
                  name, causal ? "causal" : "bidir", maxerr, maxref);
        xb_free(w); xb_free(x); xb_free(y); xb_free(saved); xb_free(scratch); free(yr);
    }
    omp_set_num_threads(keep);
}

Test(flops_retnet_sse, retnet_phased_forward) { phased_matches_reference("retnet"); }
