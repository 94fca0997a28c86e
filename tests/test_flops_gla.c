/* tests/test_flops_gla.c — flops() of the gated linear RNN mixers against MIXERS.md written out
 * here independently:
 *   gla §16 (chunked): 8Nd² + 48Nd at expand_k = 0.5 (general: 2Nd(2d_k + 2d_v) + 2N d_v d +
 *     32N(d + d_k)), scan 2NC(d_k + d_v) + 4N d_k d_vh + 2N d_k, doubled when bidirectional
 *     (§0.1), plus 5N d_v for norm and gate.
 *   deltanet §17: see its test below (recurrent or chunked total, whichever is compiled). */
#include <criterion/criterion.h>
#include <math.h>

#include "core/mixer.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const xb_mixer *m, int d, int h, int causal, int chunk, float ek)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = h; c.causal = causal; c.n_max = 4096; xb_mixer_opt_set(m, &c, "chunk", chunk); xb_mixer_opt_set(m, &c, "expand_k", ek);
    return xb_mixer_resolve(m, &c);
}

static void near(double got, double want, const char *what)
{
    cr_expect(fabs(got - want) <= 1e-9 * want, "%s: flops %.17g, MIXERS.md %.17g", what, got, want);
}

Test(flops_gla, gla_defaults)
{
    const xb_mixer *m = xb_mixer_find("gla");
    cr_assert(m);
    const int ds[] = {64, 128, 256}, Ns[] = {256, 1000, 4096};
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int causal = 0; causal <= 1; causal++) {
                double d = ds[a], N = Ns[b], h = 4, C = 64, dk = d / 2, dv = d;
                double proj = 8 * N * d * d + 48 * N * d;       /* §16 with expand_k = 0.5 */
                double scan = 2 * N * C * (dk + dv) + 4 * N * dk * (dv / h) + 2 * N * dk;
                double want = proj + (causal ? 1 : 2) * scan + 5 * N * dv;
                xb_mixer_cfg c = cfg(m, ds[a], 4, causal, 0, 0.0f);
                near(m->flops(&c, Ns[b]), want, causal ? "gla causal" : "gla bidir");
            }
}

Test(flops_gla, gla_options)
{
    const xb_mixer *m = xb_mixer_find("gla");
    cr_assert(m);
    /* expand_k = 1, chunk 32, 8 heads, d = 128 */
    double d = 128, N = 2048, h = 8, C = 32, dk = 128, dv = 128;
    double proj = 2 * N * d * (2 * dk + 2 * dv) + 2 * N * dv * d + 2 * N * 16 * (d + dk);
    double scan = 2 * N * C * (dk + dv) + 4 * N * dk * (dv / h) + 2 * N * dk;
    xb_mixer_cfg c = cfg(m, 128, 8, 1, 32, 1.0f);
    near(m->flops(&c, 2048), proj + scan + 5 * N * dv, "gla expand_k=1 causal");
    c = cfg(m, 128, 8, 0, 32, 1.0f);
    near(m->flops(&c, 2048), proj + 2 * scan + 5 * N * dv, "gla expand_k=1 bidir");
}

/* deltanet §17, chunked WY form (what is compiled):
 * 8Nd² + 2Nhd + 24Nd + 4Nd + N·h·(10C·d_h + C²/3 + 6d_h²) causal; bidirectional runs the convs,
 * the L2 norms and the scan once per direction (§32). C = 64 (default) and 32. */
Test(flops_gla, deltanet_chunked)
{
    const xb_mixer *m = xb_mixer_find("deltanet");
    cr_assert(m);
    const int ds[] = {64, 256}, hs[] = {4, 2}, Ns[] = {512, 4096};
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++)
            for (int causal = 0; causal <= 1; causal++) {
                double d = ds[a], h = hs[a], N = Ns[b], dh = d / h;
                for (int Cc = 32; Cc <= 64; Cc += 32) {
                    double C = Cc;
                    double dir = 24 * N * d + 4 * N * d + N * h * (10 * C * dh + C * C / 3 + 6 * dh * dh);
                    double want = 8 * N * d * d + 2 * N * h * d + (causal ? 1 : 2) * dir;
                    xb_mixer_cfg c = cfg(m, ds[a], hs[a], causal, Cc == 64 ? 0 : Cc, 0.0f);
                    near(m->flops(&c, Ns[b]), want, causal ? "deltanet causal" : "deltanet bidir");
                }
            }
}
