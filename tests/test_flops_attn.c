/* tests/test_flops_attn.c — flops() of the softmax-attention family against MIXERS.md's
 * formulas written out again here (§1 softmax, §2 gqa/mqa, §3 sqa, §4 local and local_block
 * with the §32 window, §7 linformer), for a few (d, N) in both modes; plus check() messages
 * that name the offending option key. The pair counts of local/local_block are counted here by
 * brute force over the mask, independently of the closed loops in mixers/local.c. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/mixer.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const xb_mixer *m, int d, int h, int causal)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = h; c.causal = causal; c.n_max = 8192;
    return xb_mixer_resolve(m, &c);
}

static void expect_flops(const xb_mixer *m, const xb_mixer_cfg *c, int N, double want)
{
    double got = m->flops(c, N);
    cr_expect(fabs(got - want) <= 1e-12 * want, "%s (d=%d h=%d N=%d %s): flops %.17g, MIXERS.md says %.17g",
              m->name, c->d, c->heads, N, c->causal ? "causal" : "bidir", got, want);
}

static const int dims[][2] = {{64, 4}, {128, 4}, {256, 8}};
static const int lens[] = {1, 100, 1024, 4096};

Test(flops_attn, softmax)
{
    const xb_mixer *m = xb_mixer_find("softmax");
    cr_assert_not_null(m);
    for (size_t a = 0; a < 3; a++)
        for (size_t q = 0; q < 4; q++)
            for (int causal = 0; causal <= 1; causal++) {
                xb_mixer_cfg c = cfg(m, dims[a][0], dims[a][1], causal);
                double N = lens[q], d = c.d, h = c.heads;
                double want = causal ? 8 * N * d * d + 2 * N * (N + 1) * d + 3 * h * N * (N + 1) / 2 + N * d
                                     : 8 * N * d * d + 4 * N * N * d + 3 * N * N * h + N * d;
                expect_flops(m, &c, lens[q], want);
            }
}

Test(flops_attn, gqa_mqa)
{
    const char *names[] = {"gqa", "mqa"};
    for (int k = 0; k < 2; k++) {
        const xb_mixer *m = xb_mixer_find(names[k]);
        cr_assert_not_null(m);
        for (size_t a = 0; a < 3; a++)
            for (size_t q = 0; q < 4; q++)
                for (int causal = 0; causal <= 1; causal++) {
                    xb_mixer_cfg c = cfg(m, dims[a][0], dims[a][1], causal);
                    cr_assert_eq((int)xb_mixer_opt_get(m, &c, "kv_heads"), k == 0 ? 2 : 1, "%s default kv_heads %d", names[k], (int)xb_mixer_opt_get(m, &c, "kv_heads"));
                    double N = lens[q], d = c.d, h = c.heads, g = (int)xb_mixer_opt_get(m, &c, "kv_heads"), dh = d / h;
                    double att = causal ? 2 * N * (N + 1) * d : 4 * N * N * d;
                    double el = causal ? 3 * h * N * (N + 1) / 2 + N * d : 3 * N * N * h + N * d;
                    expect_flops(m, &c, lens[q], 4 * N * d * d + 4 * N * d * g * dh + att + el);
                }
    }
}

Test(flops_attn, sqa)
{
    const xb_mixer *m = xb_mixer_find("sqa");
    cr_assert_not_null(m);
    xb_mixer_cfg c4 = cfg(m, 64, 4, 0);
    cr_expect((int)xb_mixer_opt_get(m, &c4, "q_heads") == 2 && (int)xb_mixer_opt_get(m, &c4, "kv_heads") == 1, "sqa defaults at h=4: q_heads %d kv_heads %d", (int)xb_mixer_opt_get(m, &c4, "q_heads"), (int)xb_mixer_opt_get(m, &c4, "kv_heads"));
    xb_mixer_cfg c8 = cfg(m, 128, 8, 0);
    cr_expect((int)xb_mixer_opt_get(m, &c8, "q_heads") == 4 && (int)xb_mixer_opt_get(m, &c8, "kv_heads") == 2, "sqa defaults at h=8: q_heads %d kv_heads %d", (int)xb_mixer_opt_get(m, &c8, "q_heads"), (int)xb_mixer_opt_get(m, &c8, "kv_heads"));
    for (size_t a = 0; a < 3; a++)
        for (size_t q = 0; q < 4; q++)
            for (int causal = 0; causal <= 1; causal++) {
                xb_mixer_cfg c = cfg(m, dims[a][0], dims[a][1], causal);
                double N = lens[q], d = c.d, dh = d / c.heads, hq = (int)xb_mixer_opt_get(m, &c, "q_heads"), hkv = (int)xb_mixer_opt_get(m, &c, "kv_heads");
                double pairs = causal ? N * (N + 1) / 2 : N * N;
                double want = 4 * N * d * hq * dh + 4 * N * d * hkv * dh + 4 * pairs * hq * dh +
                              3 * pairs * hq + N * hq * dh;
                expect_flops(m, &c, lens[q], want);
            }
}

/* allowed pairs by brute force over the §32 masks */
static double local_pairs(int N, int w, int causal)
{
    double P = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            P += causal ? (k <= i && i - k <= w - 1) : (abs(i - k) <= w / 2);
    return P;
}

static double block_pairs(int N, int b, int causal)
{
    double P = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) P += i / b == k / b && (!causal || k <= i);
    return P;
}

/* core/mixer.c's closed form against a count over the mask, windows wider than N included */
Test(flops_attn, window_pairs_closed_form)
{
    for (int N = 1; N <= 40; N++)
        for (int before = 0; before <= 45; before += 1 + before / 8)
            for (int after = 0; after <= 45; after += 1 + after / 8) {
                double P = 0;
                for (int i = 0; i < N; i++)
                    for (int j = 0; j < N; j++) P += j >= i - before && j <= i + after;
                cr_expect_eq(xb_window_pairs(N, before, after), P, "N %d before %d after %d: %g, counted %g",
                             N, before, after, xb_window_pairs(N, before, after), P);
            }
    /* the largest suite length, where the old per-position loop took 16M iterations a call */
    double n = 16777216;
    cr_expect_eq(xb_window_pairs(16777216, 127, 0), 128 * n - 127 * 128 / 2.0);
}

Test(flops_attn, local_and_block)
{
    const xb_mixer *lo = xb_mixer_find("local"), *bl = xb_mixer_find("local_block");
    cr_assert(lo && bl);
    const int small[] = {1, 7, 100, 300};
    const int ws[] = {1, 4, 5, 128};
    for (size_t q = 0; q < 4; q++)
        for (size_t k = 0; k < 4; k++)
            for (int causal = 0; causal <= 1; causal++) {
                xb_mixer_cfg c = cfg(lo, 64, 4, causal);
                xb_mixer_opt_set(lo, &c, "window", ws[k]);
                double N = small[q], d = c.d;
                expect_flops(lo, &c, small[q], 8 * N * d * d + 4 * local_pairs(small[q], ws[k], causal) * d);
                xb_mixer_cfg cb = cfg(bl, 64, 4, causal);
                xb_mixer_opt_set(bl, &cb, "block", ws[k]);
                expect_flops(bl, &cb, small[q], 8 * N * d * d + 4 * block_pairs(small[q], ws[k], causal) * d);
            }
    /* defaults and §4's closed forms where b divides N: 8Nd² + 4Nbd (causal 2N(b+1)d) */
    xb_mixer_cfg c = cfg(lo, 64, 4, 0);
    cr_expect_eq((int)xb_mixer_opt_get(lo, &c, "window"), 128, "local default window %d", (int)xb_mixer_opt_get(lo, &c, "window"));
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg cb = cfg(bl, 128, 4, causal);
        cr_expect_eq((int)xb_mixer_opt_get(bl, &cb, "block"), 64, "local_block default block %d", (int)xb_mixer_opt_get(bl, &cb, "block"));
        double N = 4096, d = 128, b = 64;
        expect_flops(bl, &cb, 4096, 8 * N * d * d + (causal ? 2 * N * (b + 1) * d : 4 * N * b * d));
    }
    /* closed forms at N = 4096, w = 128: bidirectional N(2r+1) − r(r+1) pairs with r = w/2
     * (w + 1 keys inside, §32), causal N·w − w(w−1)/2 */
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg cw = cfg(lo, 64, 4, causal);
        double N = 4096, d = 64, w = 128, r = 64;
        double P = causal ? N * w - w * (w - 1) / 2 : N * (2 * r + 1) - r * (r + 1);
        expect_flops(lo, &cw, 4096, 8 * N * d * d + 4 * P * d);
    }
}

Test(flops_attn, linformer)
{
    const xb_mixer *m = xb_mixer_find("linformer");
    cr_assert_not_null(m);
    cr_expect_eq(m->modes, XB_BIDIR, "linformer is bidirectional only");
    for (size_t a = 0; a < 3; a++)
        for (size_t q = 0; q < 4; q++) {
            xb_mixer_cfg c = cfg(m, dims[a][0], dims[a][1], 0);
            cr_expect_eq((int)xb_mixer_opt_get(m, &c, "rank"), 64, "default rank %d", (int)xb_mixer_opt_get(m, &c, "rank"));
            double N = lens[q], d = c.d, r = (int)xb_mixer_opt_get(m, &c, "rank"), h = c.heads;
            expect_flops(m, &c, lens[q], 8 * N * d * d + 8 * N * r * d + 3 * N * r * h);
        }
}

/* The checks (the table's ranges, then check()) reject bad options and name the key. */
static void expect_reject(const char *name, xb_mixer_cfg c, const char *key)
{
    const xb_mixer *m = xb_mixer_find(name);
    char err[256] = "";
    int rc = xb_mixer_check(m, &c, err, sizeof err);
    cr_expect(rc != 0, "%s: check accepted a bad '%s'", name, key);
    cr_expect(strncmp(err, key, strlen(key)) == 0 && err[strlen(key)] == ':', "%s: message '%s' does not start with '%s:'",
              name, err, key);
}

Test(flops_attn, check_names_the_key)
{
    const xb_mixer *gqa = xb_mixer_find("gqa"), *mqa = xb_mixer_find("mqa"), *sqa = xb_mixer_find("sqa");
    xb_mixer_cfg c = cfg(gqa, 64, 4, 0);
    xb_mixer_opt_set(gqa, &c, "kv_heads", 3); expect_reject("gqa", c, "kv_heads");
    c = cfg(mqa, 64, 4, 0);
    xb_mixer_opt_set(mqa, &c, "kv_heads", 2); expect_reject("mqa", c, "kv_heads");
    c = cfg(sqa, 64, 4, 0);
    xb_mixer_opt_set(sqa, &c, "q_heads", 2); xb_mixer_opt_set(sqa, &c, "kv_heads", 4); expect_reject("sqa", c, "kv_heads");
    xb_mixer_opt_set(sqa, &c, "q_heads", -1); expect_reject("sqa", c, "q_heads");
    const xb_mixer *lo = xb_mixer_find("local"), *bl = xb_mixer_find("local_block"), *li = xb_mixer_find("linformer");
    c = cfg(lo, 64, 4, 0);
    xb_mixer_opt_set(lo, &c, "window", -2); expect_reject("local", c, "window");
    c = cfg(bl, 64, 4, 0);
    xb_mixer_opt_set(bl, &c, "block", -1); expect_reject("local_block", c, "block");
    c = cfg(li, 64, 4, 0);
    xb_mixer_opt_set(li, &c, "rank", -3); expect_reject("linformer", c, "rank");
    c = cfg(xb_mixer_find("softmax"), 64, 5, 0);
    expect_reject("softmax", c, "heads");
    /* and accepts the defaults */
    const char *all[] = {"softmax", "gqa", "mqa", "sqa", "local", "local_block", "linformer"};
    for (int k = 0; k < 7; k++) {
        const xb_mixer *m = xb_mixer_find(all[k]);
        xb_mixer_cfg ok = cfg(m, 64, 4, 0);
        char err[256] = "";
        cr_expect_eq(xb_mixer_check(m, &ok, err, sizeof err), 0, "%s: defaults rejected: %s", all[k], err);
    }
}
