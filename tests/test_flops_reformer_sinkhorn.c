/* tests/test_flops_reformer_sinkhorn.c — flops() of sinkhorn (MIXERS.md §11) and reformer (§10)
 * against their formulas written out again here, for a few (d, h, N, option) values, plus small
 * cases computed by hand; check() messages that name the offending key; and reformer's forward
 * against its reference at bucket counts small enough for several chunks per bucket (which
 * tests/test_mixers.c's sizes reach only rarely). Pair counts are counted here by brute force
 * over the masks (sinkhorn: own block, rows of the query's sorted block; reformer: own and
 * previous chunk), independently of the closed loops in the mixers. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
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
    cr_expect_neq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s: check accepted a bad %s", m->name, key);
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
                c0.d = dims[a][0]; c0.heads = dims[a][1]; c0.n_max = 2048; xb_mixer_opt_set(m, &c0, "block", blocks[k]);
                xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
                cr_assert_eq((int)xb_mixer_opt_get(m, &c, "block"), blocks[k] ? blocks[k] : 64, "default block %d", (int)xb_mixer_opt_get(m, &c, "block"));
                expect_flops(m, &c, lens[q], sinkhorn_formula(c.d, c.heads, (int)xb_mixer_opt_get(m, &c, "block"), lens[q]));
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
    s0.d = 8; s0.heads = 2; s0.n_max = 16; xb_mixer_opt_set(m, &s0, "block", 4);
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
    cr_expect_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s", err);
    cr_expect(m->modes == XB_BIDIR, "sinkhorn is bidirectional only");
    xb_mixer_cfg bad = c;
    xb_mixer_opt_set(m, &bad, "block", -1);
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

/* ---- reformer ---------------------------------------------------------------------------- */

/* §10 with the (query, candidate) pairs of one head and round counted over the bidirectional
 * chunk geometry: sorted slots s, t are paired when t's chunk is s's or the one before it
 * (wrapping around), each key once. */
static double reformer_formula(double d, int buckets, int rounds, int c, int N)
{
    const int nc = (N + c - 1) / c;
    double pairs = 0;
    for (int s = 0; s < N; s++)
        for (int t = 0; t < N; t++) pairs += t / c == s / c || t / c == (s / c + nc - 1) % nc;
    double n = N;
    return 6 * n * d * d + rounds * (n * d * buckets + 4 * d * pairs) + 2 * n * d;
}

Test(flops_reformer_sinkhorn, reformer)
{
    const xb_mixer *m = xb_mixer_find("reformer");
    cr_assert_not_null(m);
    static const int dims[][2] = {{64, 4}, {128, 4}, {32, 2}};
    static const int lens[] = {1, 50, 64, 100, 1024, 1100};
    static const int opts[][3] = {{0, 0, 0}, {8, 1, 16}, {32, 4, 50}};   /* buckets, rounds, chunk */
    for (size_t a = 0; a < 3; a++)
        for (size_t q = 0; q < sizeof lens / sizeof *lens; q++)
            for (size_t k = 0; k < 3; k++)
                for (int causal = 0; causal <= 1; causal++) {
                    xb_mixer_cfg c0 = {0};
                    c0.d = dims[a][0]; c0.heads = dims[a][1]; c0.n_max = 2048; c0.causal = causal;
                    xb_mixer_opt_set(m, &c0, "buckets", opts[k][0]); xb_mixer_opt_set(m, &c0, "rounds", opts[k][1]); xb_mixer_opt_set(m, &c0, "chunk", opts[k][2]);
                    xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
                    if (k == 0)
                        cr_assert((int)xb_mixer_opt_get(m, &c, "buckets") == 16 && (int)xb_mixer_opt_get(m, &c, "rounds") == 2 && (int)xb_mixer_opt_get(m, &c, "chunk") == 64, "reformer defaults %d %d %d",
                                  (int)xb_mixer_opt_get(m, &c, "buckets"), (int)xb_mixer_opt_get(m, &c, "rounds"), (int)xb_mixer_opt_get(m, &c, "chunk"));
                    expect_flops(m, &c, lens[q], reformer_formula(c.d, (int)xb_mixer_opt_get(m, &c, "buckets"), (int)xb_mixer_opt_get(m, &c, "rounds"), (int)xb_mixer_opt_get(m, &c, "chunk"), lens[q]));
                }
    /* when c divides N: §10 as printed, 6Nd² + n_r·[N·d·n_buckets + 8·N·c·d] + 2Nd */
    xb_mixer_cfg c = cfg(m, 64, 4, 0, 4096);
    double N = 1024, d = 64;
    expect_flops(m, &c, 1024, 6 * N * d * d + 2 * (N * d * 16 + 8 * N * 64 * d) + 2 * N * d);
    /* by hand: d = 8, h = 2, 4 buckets, 2 rounds, c = 4, N = 10: chunks of 4, 4, 2, pairs
     * 4·(4 + 2) + 4·(4 + 4) + 2·(2 + 4) = 68: 6·10·64 + 2·(10·8·4 + 4·8·68) + 2·10·8
     * = 3840 + 2·(320 + 2176) + 160 = 8992 */
    xb_mixer_cfg s0 = {0};
    s0.d = 8; s0.heads = 2; s0.n_max = 16; xb_mixer_opt_set(m, &s0, "buckets", 4); xb_mixer_opt_set(m, &s0, "rounds", 2); xb_mixer_opt_set(m, &s0, "chunk", 4);
    xb_mixer_cfg s = xb_mixer_resolve(m, &s0);
    expect_flops(m, &s, 10, 8992);
    /* one chunk (N ≤ c): N² pairs, d = 8, N = 3: 1152 + 2·(96 + 288) + 48 = 1968 */
    expect_flops(m, &s, 3, 1968);
}

Test(flops_reformer_sinkhorn, reformer_check)
{
    const xb_mixer *m = xb_mixer_find("reformer");
    cr_assert_not_null(m);
    xb_mixer_cfg c = cfg(m, 64, 4, 1, 256);
    char err[256] = "";
    cr_expect_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s", err);
    cr_expect(m->modes == (XB_CAUSAL | XB_BIDIR), "reformer has both modes");
    const struct { int buckets, rounds, chunk, heads; const char *key; } bad[] = {
        {3, 2, 64, 4, "buckets"}, {-2, 2, 64, 4, "buckets"}, {16, -1, 64, 4, "rounds"},
        {16, 65, 64, 4, "rounds"}, {16, 2, -1, 4, "chunk"}, {16, 2, 64, 3, "heads"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        xb_mixer_cfg b = c;
        xb_mixer_opt_set(m, &b, "buckets", bad[i].buckets); xb_mixer_opt_set(m, &b, "rounds", bad[i].rounds); xb_mixer_opt_set(m, &b, "chunk", bad[i].chunk); b.heads = bad[i].heads;
        expect_check(m, b, bad[i].key);
    }
}

/* Forward against the naive reference where tests/test_mixers.c's sizes reach few chunks per
 * bucket: 2..6 buckets at N = 90 make buckets of 15..45 tokens, so the causal form cuts several
 * chunks inside a bucket and the bidirectional one wraps around; 1 and 3 rounds; padding. */
Test(flops_reformer_sinkhorn, reformer_reference_small_buckets)
{
    const xb_mixer *m = xb_mixer_find("reformer");
    cr_assert_not_null(m);
    const int B = 2, N = 90, d = 16;
    int len[2] = {N, 53};
    static const int opts[][3] = {{2, 1, 8}, {2, 3, 5}, {4, 2, 16}, {6, 2, 7}};   /* buckets, rounds, chunk */
    for (size_t k = 0; k < sizeof opts / sizeof *opts; k++)
        for (int causal = 0; causal <= 1; causal++) {
            xb_mixer_cfg c0 = {0};
            c0.d = d; c0.heads = 2; c0.n_max = N; c0.causal = causal;
            xb_mixer_opt_set(m, &c0, "buckets", opts[k][0]); xb_mixer_opt_set(m, &c0, "rounds", opts[k][1]); xb_mixer_opt_set(m, &c0, "chunk", opts[k][2]);
            xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
            size_t np = xb_mixer_n_params(m, &c), nx = (size_t)B * N * d;
            size_t ns = m->n_saved(&c, N), nsc = m->n_scratch(&c, B, N);
            float *w = xb_alloc(np * 4), *x = xb_alloc(nx * 4), *y = xb_alloc(nx * 4);
            float *sv = xb_alloc((size_t)B * ns * 4), *sc = xb_alloc(nsc * 4);
            double *yr = calloc(nx, sizeof(double));
            cr_assert(w && x && y && sv && sc && yr);
            xb_rng r;
            xb_rng_seed(&r, 5 + k);
            m->init(&c, w, &r);
            for (size_t i = 0; i < nx; i++) x[i] = (float)xb_rng_normal(&r);
            m->forward(&c, w, x, len, y, sv, sc, B, N);
            m->reference(&c, w, x, len, yr, B, N);
            double maxref = 1, maxerr = 0;
            for (size_t i = 0; i < nx; i++) {
                if (fabs(yr[i]) > maxref) maxref = fabs(yr[i]);
                if (fabs(y[i] - yr[i]) > maxerr) maxerr = fabs(y[i] - yr[i]);
            }
            cr_expect(maxerr <= 1e-4 * maxref, "reformer (%s, buckets %d, rounds %d, chunk %d): forward differs "
                      "from the reference by %g", causal ? "causal" : "bidir", (int)xb_mixer_opt_get(m, &c, "buckets"), (int)xb_mixer_opt_get(m, &c, "rounds"), (int)xb_mixer_opt_get(m, &c, "chunk"), maxerr);
            xb_free(w); xb_free(x); xb_free(y); xb_free(sv); xb_free(sc); free(yr);
        }
}
