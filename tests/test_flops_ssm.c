/* tests/test_flops_ssm.c — flops() of mamba and lmu against MIXERS.md §18/§19 written out here
 * independently, for a few (d, N, options) in both modes. */
#include <criterion/criterion.h>
#include <math.h>

#include "core/mixer.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const xb_mixer *m, int d, int causal, int n_max)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = 4; c.causal = causal; c.n_max = n_max;
    return xb_mixer_resolve(m, &c);
}

/* §18: F = 6ENd² + 2ND(k + R + 2n + R) + 8NDn + 4ND (causal); bidirectional adds the second
 * conv/W_x/W_dt/scan terms 2ND(k + R + 2n + R) + 8NDn. */
static double mamba_formula(double d, double N, double E, double n, double k, double R, int causal)
{
    double D = E * d;
    double f = 6 * E * N * d * d + 2 * N * D * (k + R + 2 * n + R) + 8 * N * D * n + 4 * N * D;
    if (!causal) f += 2 * N * D * (k + R + 2 * n + R) + 8 * N * D * n;
    return f;
}

Test(flops_ssm, mamba)
{
    const xb_mixer *m = xb_mixer_find("mamba");
    cr_assert(m);
    const int ds[] = {16, 64, 100, 256}, Ns[] = {1, 256, 1000, 4096};
    for (int causal = 0; causal <= 1; causal++)
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++) {
                xb_mixer_cfg c = cfg(m, ds[i], causal, 4096);
                double R = ceil(ds[i] / 16.0);   /* defaults: E 2, n 16, k 4, R ⌈d/16⌉ */
                cr_expect_eq((int)xb_mixer_opt_get(m, &c, "dt_rank"), (int)R, "dt_rank default");
                double want = mamba_formula(ds[i], Ns[j], 2, 16, 4, R, causal), got = m->flops(&c, Ns[j]);
                cr_expect(fabs(got - want) <= 1e-12 * want, "mamba d=%d N=%d %s: %g vs %g", ds[i], Ns[j],
                          causal ? "causal" : "bidir", got, want);
            }
    /* options flow into the count */
    xb_mixer_cfg c = {0};
    c.d = 32; c.causal = 1; c.n_max = 512; xb_mixer_opt_set(m, &c, "expand", 3); xb_mixer_opt_set(m, &c, "state", 8); xb_mixer_opt_set(m, &c, "conv", 2); xb_mixer_opt_set(m, &c, "dt_rank", 5);
    c = xb_mixer_resolve(m, &c);
    double want = mamba_formula(32, 512, 3, 8, 2, 5, 1);
    cr_expect(fabs(m->flops(&c, 512) - want) <= 1e-12 * want, "mamba with options: %g vs %g", m->flops(&c, 512), want);
}

/* §19 recurrent: 2Nd + 2Nq² + 2Nq + 2N(q+d)d + 2Nd² (causal); bidirectional adds the reverse
 * direction's 2Nd + 2Nq² + 2Nq and its q extra rows of W_h, 2Nqd. */
static double lmu_formula(double d, double N, double q, int causal)
{
    double f = 2 * N * d + 2 * N * q * q + 2 * N * q + 2 * N * (q + d) * d + 2 * N * d * d;
    if (!causal) f += 2 * N * d + 2 * N * q * q + 2 * N * q + 2 * N * q * d;
    return f;
}

Test(flops_ssm, lmu)
{
    const xb_mixer *m = xb_mixer_find("lmu");
    cr_assert(m);
    const int ds[] = {16, 64, 256}, Ns[] = {1, 300, 4096};
    for (int causal = 0; causal <= 1; causal++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++) {
                xb_mixer_cfg c = cfg(m, ds[i], causal, 4096);
                cr_expect_eq((int)xb_mixer_opt_get(m, &c, "order"), ds[i], "order default q = d");
                cr_expect_eq((int)xb_mixer_opt_get(m, &c, "theta"), 4096, "theta default = n_max");
                double want = lmu_formula(ds[i], Ns[j], ds[i], causal), got = m->flops(&c, Ns[j]);
                cr_expect(fabs(got - want) <= 1e-12 * want, "lmu d=%d N=%d %s: %g vs %g", ds[i], Ns[j],
                          causal ? "causal" : "bidir", got, want);
            }
    xb_mixer_cfg c = {0};
    c.d = 48; c.causal = 0; c.n_max = 100; xb_mixer_opt_set(m, &c, "order", 20);
    c = xb_mixer_resolve(m, &c);
    double want = lmu_formula(48, 77, 20, 0);
    cr_expect(fabs(m->flops(&c, 77) - want) <= 1e-12 * want, "lmu with order 20: %g vs %g", m->flops(&c, 77), want);
}
