/* tests/test_flops_reformer_sinkhorn.c — flops() of sinkhorn (MIXERS.md §11) and reformer (§10)
 * against their formulas written out again here, for a few (d, h, N, option) values, plus one
 * small case computed by hand for each; and check() messages that name the offending key.
 * sinkhorn's pair counts are counted here by brute force over the two masks (own block; the
 * rows of the query's sorted block), independently of the closed loop in mixers/sinkhorn.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/mixer.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const xb_mixer *m, int d, int h, int causal, int n_max)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = h; c.causal = causal; c.n_max = n_max;
    return xb_mixer_resolve(m, &c);
}

static void expect_flops(const xb_mixer *m, const xb_mixer_cfg *c, int N, double want)
{
    double got = m->flops(c, N);
    cr_expect(fabs(got - want) <= 1e-12 * want, "%s (d=%d h=%d N=%d %s): flops %.17g, MIXERS.md says %.17g",
              m->name, c->d, c->heads, N, c->causal ? "causal" : "bidir", got, want);
}

static void expect_check(const xb_mixer *m, xb_mixer_cfg c, const char *key)
{
    char err[256] = "";
    cr_expect_neq(m->check(&c, err, sizeof err), 0, "%s: check accepted a bad %s", m->name, key);
    cr_expect(strncmp(err, key, strlen(key)) == 0, "%s: message '%s' does not name '%s'", m->name, err, key);
}

/* ---- sinkhorn ---------------------------------------------------------------------------- */

/* §11 with the allowed pairs counted over the masks: P1 = pairs (i, k) in the same block of b
 * (k < N), P2 = pairs (i, row r of i's sorted block) with r < min(b, N). */
static double sinkhorn_formula(double d, double h, int b, int N)
{
    double p1 = 0, p2 = 0, nb = ceil((double)N / b);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) p1 += i / b == k / b;
    for (int i = 0; i < N; i++)
        for (int r = 0; r < b; r++) p2 += r < N;
    double n = N;
    return 8 * n * d * d + 4 * d * (p1 + p2) + 4 * nb * n * d + 2 * nb * nb * d + n * d + 3 * h * (p1 + p2) +
           3 * nb * nb * h;
}

Test(flops_reformer_sinkhorn, sinkhorn)
{
    const xb_mixer *m = xb_mixer_find("sinkhorn");
    cr_assert_not_null(m);
    static const int dims[][2] = {{64, 4}, {128, 4}, {32, 2}};
    static const int lens[] = {1, 50, 64, 100, 1024, 1100};
    static const int blocks[] = {0, 16, 50};
    for (size_t a = 0; a < 3; a++)
        for (size_t q = 0; q < sizeof lens / sizeof *lens; q++)
            for (size_t k = 0; k < 3; k++) {
                xb_mixer_cfg c0 = {0};
                c0.d = dims[a][0]; c0.heads = dims[a][1]; c0.n_max = 2048; c0.block = blocks[k];
                xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
                cr_assert_eq(c.block, blocks[k] ? blocks[k] : 64, "default block %d", c.block);
                expect_flops(m, &c, lens[q], sinkhorn_formula(c.d, c.heads, c.block, lens[q]));
            }
    /* when b divides N: §11 as printed, 8Nd² + 8Nbd + 4n_bNd + 2n_b²d + Nd + 6Nbh + 3n_b²h */
    xb_mixer_cfg c = cfg(m, 64, 4, 0, 4096);
    double N = 1024, d = 64, b = 64, nb = 16, h = 4;
    expect_flops(m, &c, 1024, 8 * N * d * d + 8 * N * b * d + 4 * nb * N * d + 2 * nb * nb * d + N * d +
                                  6 * N * b * h + 3 * nb * nb * h);
    /* by hand: d = 8, h = 2, b = 4, N = 10: blocks of 4, 4, 2 (n_b = 3), P1 = 16 + 16 + 4 = 36,
     * P2 = 10·4 = 40: 5120 + 4·8·76 + 4·3·10·8 + 2·9·8 + 80 + 3·2·76 + 3·9·2
     * = 5120 + 2432 + 960 + 144 + 80 + 456 + 54 = 9246 */
    xb_mixer_cfg s0 = {0};
    s0.d = 8; s0.heads = 2; s0.n_max = 16; s0.block = 4;
    xb_mixer_cfg s = xb_mixer_resolve(m, &s0);
    expect_flops(m, &s, 10, 9246);
    /* N ≤ b: one block, its sorted block is itself (N rows): d = 8, h = 2, b = 4, N = 3:
     * 8·3·64 + 4·8·(9 + 9) + 4·3·8 + 2·8 + 24 + 3·2·18 + 3·2 = 1536 + 576 + 96 + 16 + 24 + 108 + 6 */
    expect_flops(m, &s, 3, 2362);
}

Test(flops_reformer_sinkhorn, sinkhorn_check)
{
    const xb_mixer *m = xb_mixer_find("sinkhorn");
    cr_assert_not_null(m);
    xb_mixer_cfg c = cfg(m, 64, 4, 0, 256);
    char err[256] = "";
    cr_expect_eq(m->check(&c, err, sizeof err), 0, "%s", err);
    cr_expect(m->modes == XB_BIDIR, "sinkhorn is bidirectional only");
    xb_mixer_cfg bad = c;
    bad.block = -1;
    expect_check(m, bad, "block");
    bad = c;
    bad.causal = 1;
    expect_check(m, bad, "causal");
    bad = c;
    bad.heads = 3;
    expect_check(m, bad, "heads");
    bad = c;
    bad.n_max = 0;
    expect_check(m, bad, "n_max");
}
