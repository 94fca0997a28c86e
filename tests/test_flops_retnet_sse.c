/* tests/test_flops_retnet_sse.c — flops() of retnet and sse against MIXERS.md written out here
 * independently, plus the phased many-scan forward of core/chunkscan.c that both use when a
 * batch has fewer than two scans per thread (every other test runs on one thread, where the
 * fused form always runs):
 *   retnet §15 (chunked): projections 16Nd², scan 2NC(d_k + d_v) + 4N d_k d_vh with d_k = d,
 *     d_v = 2d, doubled when bidirectional (§0.1), norm and gate 6N d_v.
 *   sse §25 (gather form): projections 2Nd·3d + 8N d d_h (§25 writes 4N d d_h, half of the four
 *     low-rank products actually computed) + 2·2N·16·2d + 2NdP + 4N d d_h + 2Nd², scans
 *     (1 + k)·(2NC·2d + 4N d d_h + 2N d), doubled when bidirectional.
 * and, for sse at partitions = 5, topk = 2 (tests/test_mixers.c runs the defaults P = 4, k = 1),
 * the forward against the double reference and the backward against its finite differences. */
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
    c.d = d; c.heads = h; c.causal = causal; c.n_max = 4096; xb_mixer_opt_set(m, &c, "chunk", chunk);
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
        c.d = d; c.heads = 2; c.causal = causal; c.n_max = N; xb_mixer_opt_set(m, &c, "chunk", 16);
        c = xb_mixer_resolve(m, &c);
        char err[256] = "";
        cr_assert_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s", err);
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
Test(flops_retnet_sse, sse_phased_forward) { phased_matches_reference("sse"); }

Test(flops_retnet_sse, sse_formula)
{
    const xb_mixer *m = xb_mixer_find("sse");
    cr_assert(m);
    const int ds[] = {64, 128}, hs[] = {4, 8}, Ns[] = {256, 4096}, Ps[] = {4, 8}, Ks[] = {1, 3};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int pk = 0; pk < 2; pk++)
                for (int causal = 0; causal <= 1; causal++) {
                    double d = ds[a], dh = d / hs[a], N = Ns[b], P = Ps[pk], k = Ks[pk], C = 64;
                    double proj = 6 * N * d * d + 8 * N * d * dh + 4 * N * 16 * 2 * d + 2 * N * d * P +
                                  4 * N * d * dh + 2 * N * d * d;
                    double scan = 2 * N * C * 2 * d + 4 * N * d * dh + 2 * N * d;
                    double want = proj + (causal ? 1 : 2) * (1 + k) * scan;
                    xb_mixer_cfg c = {0};
                    c.d = ds[a]; c.heads = hs[a]; c.causal = causal; c.n_max = 4096;
                    xb_mixer_opt_set(m, &c, "partitions", Ps[pk]); xb_mixer_opt_set(m, &c, "topk", Ks[pk]);
                    c = xb_mixer_resolve(m, &c);
                    near(m->flops(&c, Ns[b]), want, causal ? "sse causal" : "sse bidir");
                }
}

/* d = 8, h = 2 (d_h = 4), P = 4, C = 4, N = 8 by hand: projections 2·8·8·24 = 3072, low-rank
 * 8·8·8·4 = 2048, gates 4·8·16·16 = 8192, router 2·8·8·4 = 512, output gate 4·8·8·4 = 1024,
 * W_O 2·8·64 = 1024: 15872. One GLA scan 2·8·4·16 + 4·8·8·4 + 2·8·8 = 2176. k = 1: causal
 * 15872 + 2·2176 = 20224, bidirectional 15872 + 4·2176 = 24576; k = 2 causal 22400. */
Test(flops_retnet_sse, sse_by_hand)
{
    const xb_mixer *m = xb_mixer_find("sse");
    cr_assert(m);
    xb_mixer_cfg c = {0};
    c.d = 8; c.heads = 2; c.causal = 1; c.n_max = 8; xb_mixer_opt_set(m, &c, "chunk", 4);
    xb_mixer_cfg r = xb_mixer_resolve(m, &c);
    cr_expect_eq(m->flops(&r, 8), 20224.0);
    c.causal = 0;
    r = xb_mixer_resolve(m, &c);
    cr_expect_eq(m->flops(&r, 8), 24576.0);
    c.causal = 1; xb_mixer_opt_set(m, &c, "topk", 2);
    r = xb_mixer_resolve(m, &c);
    cr_expect_eq(m->flops(&r, 8), 22400.0);
}

/* Σ y_ref ⊙ R of the double reference. */
static double ref_loss(const xb_mixer *m, const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                       const float *R, double *yr, int B, int N)
{
    m->reference(c, w, x, len, yr, B, N);
    double s = 0;
    for (size_t i = 0; i < (size_t)B * N * c->d; i++) s += yr[i] * R[i];
    return s;
}

/* sse with P = 5, k = 2 in both modes, the second sequence padded: forward vs the reference,
 * then dx and 8 entries of every parameter tensor vs central differences of the reference
 * (step 1e-3 in float, divided by the step actually taken), per tensor
 * ‖a − n‖ ≤ 1e-2 ‖n‖ + 1e-8. */
Test(flops_retnet_sse, sse_topk2_forward_and_gradients)
{
    const xb_mixer *m = xb_mixer_find("sse");
    cr_assert(m);
    const int B = 2, N = 11, d = 16;
    int len[2] = {N, 8};
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = {0};
        c.d = d; c.heads = 2; c.causal = causal; c.n_max = N; xb_mixer_opt_set(m, &c, "chunk", 4); xb_mixer_opt_set(m, &c, "partitions", 5); xb_mixer_opt_set(m, &c, "topk", 2);
        c = xb_mixer_resolve(m, &c);
        char err[256] = "";
        cr_assert_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s", err);
        size_t np = xb_mixer_n_params(m, &c), nx = (size_t)B * N * d;
        float *w = xb_alloc(np * sizeof(float)), *dw = xb_alloc(np * sizeof(float));
        float *x = xb_alloc(nx * sizeof(float)), *y = xb_alloc(nx * sizeof(float));
        float *R = xb_alloc(nx * sizeof(float)), *dx = xb_alloc(nx * sizeof(float));
        float *saved = xb_alloc(B * m->n_saved(&c, N) * sizeof(float) + 64);
        float *scratch = xb_alloc(m->n_scratch(&c, B, N) * sizeof(float) + 64);
        double *yr = calloc(nx, sizeof(double));
        xb_rng rng;
        xb_rng_seed(&rng, 21);
        m->init(&c, w, &rng);
        for (size_t i = 0; i < nx; i++) { x[i] = (float)xb_rng_normal(&rng); R[i] = (float)xb_rng_normal(&rng); }
        m->forward(&c, w, x, len, y, saved, scratch, B, N);
        m->reference(&c, w, x, len, yr, B, N);
        double maxref = 1, maxerr = 0;
        for (size_t i = 0; i < nx; i++) {
            if (fabs(yr[i]) > maxref) maxref = fabs(yr[i]);
            if (fabs(y[i] - yr[i]) > maxerr) maxerr = fabs(y[i] - yr[i]);
        }
        cr_expect(maxerr <= 1e-4 * maxref, "sse topk=2 (%s): forward differs from the reference by %g",
                  causal ? "causal" : "bidir", maxerr);
        memset(dw, 0, np * sizeof(float));
        m->backward(&c, w, x, len, saved, R, dx, dw, scratch, B, N);
        xb_tensor t[XB_MAX_TENSORS];
        int nt = m->tensors(&c, t);
        for (int q = -1; q < nt; q++) {   /* q = −1: dx at real positions */
            float *v = q < 0 ? x : w;
            const float *g = q < 0 ? dx : dw;
            double a2 = 0, n2 = 0, e2 = 0;
            for (int s = 0; s < 8; s++) {
                size_t i;
                if (q < 0) {
                    int b = s % 2, pos = (int)xb_rng_below(&rng, len[b]);
                    i = ((size_t)b * N + pos) * d + xb_rng_below(&rng, d);
                } else {
                    i = t[q].offset + xb_rng_below(&rng, (uint64_t)t[q].rows * t[q].cols);
                }
                float keep = v[i], hp = keep + 1e-3f, hm = keep - 1e-3f;
                v[i] = hp; double lp = ref_loss(m, &c, w, x, len, R, yr, B, N);
                v[i] = hm; double lm = ref_loss(m, &c, w, x, len, R, yr, B, N);
                v[i] = keep;
                double num = (lp - lm) / ((double)hp - (double)hm), a = g[i];
                a2 += a * a; n2 += num * num; e2 += (a - num) * (a - num);
            }
            cr_expect(sqrt(n2) > 1e-7 && sqrt(e2) <= 1e-2 * sqrt(n2) + 1e-8,
                      "sse topk=2 (%s): d%s ‖a − n‖ = %g, ‖a‖ = %g, ‖n‖ = %g", causal ? "causal" : "bidir",
                      q < 0 ? "x" : t[q].name, sqrt(e2), sqrt(a2), sqrt(n2));
        }
        xb_free(w); xb_free(dw); xb_free(x); xb_free(y); xb_free(R); xb_free(dx); xb_free(saved); xb_free(scratch);
        free(yr);
    }
}
