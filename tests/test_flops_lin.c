/* tests/test_flops_lin.c — flops() of linear, performer, fnet, pool and activator against the
 * MIXERS.md formulas (§8, §9, §13, §14, §20), written out here independently, for a few (d, N)
 * and both modes; plus the option checks that name their key. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/mixer.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const char *name, int d, int h, int causal)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = h; c.causal = causal; c.n_max = 4096;
    return xb_mixer_resolve(xb_mixer_find(name), &c);
}

static void near(double got, double want, const char *what, int d, int N, int causal)
{
    cr_expect(fabs(got - want) <= 1e-9 * want, "%s d=%d N=%d causal=%d: flops %.17g, formula %.17g",
              what, d, N, causal, got, want);
}

static const int Ds[] = {64, 128, 256}, Ns[] = {100, 1024, 4096};

Test(flops_lin, linear)
{
    const xb_mixer *m = xb_mixer_find("linear");
    cr_assert(m);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int causal = 0; causal <= 1; causal++) {
                int d = Ds[a], N = Ns[b], h = 4;
                xb_mixer_cfg c = cfg("linear", d, h, causal);
                double dh = d / h, C = 64;   /* default chunk */
                double want = causal ? 8.0 * N * d * d + 4.0 * N * C * d + 4.0 * N * d * dh + 4.0 * N * d
                                     : 8.0 * N * d * d + 4.0 * N * d * dh + 4.0 * N * d;
                near(m->flops(&c, N), want, "linear", d, N, causal);
            }
}

Test(flops_lin, performer)
{
    const xb_mixer *m = xb_mixer_find("performer");
    cr_assert(m);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int causal = 0; causal <= 1; causal++) {
                int d = Ds[a], N = Ns[b], h = 4;
                xb_mixer_cfg c = cfg("performer", d, h, causal);
                double M = 64, C = 64;   /* default features and chunk */
                double fmain = 8.0 * N * d * d + 8.0 * N * M * d + 4.0 * N * M * h;
                double felem = 2.0 * N * M * h + 1.0 * N * d;
                /* causal chunked: unmasked intra-chunk ΦqΦkᵀ (2CM per token-head) and its product
                 * with V (2C·d_h per token-head) */
                double intra = causal ? 2.0 * N * C * M * h + 2.0 * N * C * (d / h) * h : 0;
                near(m->flops(&c, N), fmain + felem + intra, "performer", d, N, causal);
            }
}

Test(flops_lin, fnet)
{
    const xb_mixer *m = xb_mixer_find("fnet");
    cr_assert(m);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            int d = Ds[a], N = Ns[b];
            xb_mixer_cfg c = cfg("fnet", d, 4, 0);
            near(m->flops(&c, N), 5.0 * N * d * (log2(N) + log2(d)), "fnet", d, N, 0);
        }
}

Test(flops_lin, pool)
{
    const xb_mixer *m = xb_mixer_find("pool");
    cr_assert(m);
    for (int causal = 0; causal <= 1; causal++)
        for (int p = 1; p <= 7; p += 2) {
            xb_mixer_cfg c = cfg("pool", 64, 4, causal);
            xb_mixer_opt_set(m, &c, "window", p);
            for (int b = 0; b < 3; b++) {
                int N = Ns[b];
                /* interior windows hold p tokens; the r = ⌊p/2⌋ (bidir) or p − 1 (causal) edge
                 * positions lose 1, 2, ... tokens */
                double lost = causal ? (p - 1) * p / 2.0 : 2.0 * (p / 2) * (p / 2 + 1) / 2.0;
                near(m->flops(&c, N), 64.0 * (N * (p + 1.0) - lost), "pool", 64, N, causal);
            }
        }
    xb_mixer_cfg c = cfg("pool", 64, 4, 0);
    cr_assert_eq((int)xb_mixer_opt_get(m, &c, "window"), 3, "pool default window");
    char err[128] = "";
    xb_mixer_opt_set(m, &c, "window", 4);
    cr_assert_neq(xb_mixer_check(m, &c, err, sizeof err), 0, "even window accepted");
    cr_assert(strstr(err, "window"), "message does not name 'window': %s", err);
}

Test(flops_lin, activator)
{
    const xb_mixer *m = xb_mixer_find("activator");
    cr_assert(m);
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++)
            for (int causal = 0; causal <= 1; causal++) {
                int d = Ds[a], N = Ns[b];
                xb_mixer_cfg c = cfg("activator", d, 4, causal);
                double f = 2.0 * d;   /* default d_ff */
                near(m->flops(&c, N), 6.0 * N * d * f + N * f * 19.0, "activator", d, N, causal);
            }
}
