/* tests/test_flops_synth_minattn.c — the synthesizer (MIXERS.md §12) and minattn (§21) mixers
 * beyond what tests/test_mixers.c checks for every registered mixer:
 *   flops      flops() against §12's and §21's formulas written out again here, every variant,
 *              both modes, and one case worked by hand;
 *   options    defaults, and check() messages that name the offending key;
 *   variants   test_mixers.c runs each mixer at its default variant only, so every variant is
 *              checked here: forward against the double reference at a length spanning two
 *              64-row tiles (both loops of the tiled backward cross tile boundaries), gradients
 *              of x and of every parameter tensor against central differences of the
 *              reference, with padding and with n_max > N (weights of positions ≥ N must get a
 *              zero gradient), pad outputs and pad dx exactly 0, pad tokens changing nothing,
 *              and, causal, no output depending on a later token. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "core/xb.h"
#include "mixers/registry.h"

static xb_mixer_cfg cfg(const xb_mixer *m, int d, int h, int causal, int variant)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = h; c.causal = causal; c.n_max = 8192; xb_mixer_opt_set(m, &c, "variant", variant);
    return xb_mixer_resolve(m, &c);
}

static void expect_flops(const xb_mixer *m, const xb_mixer_cfg *c, int N, double want)
{
    double got = m->flops(c, N);
    cr_expect(fabs(got - want) <= 1e-12 * want, "%s variant %d (d=%d h=%d N=%d %s): flops %.17g, MIXERS.md says %.17g",
              m->name, (int)xb_mixer_opt_get(m, c, "variant"), c->d, c->heads, N, c->causal ? "causal" : "bidir", got, want);
}

static const int dims[][2] = {{64, 4}, {128, 4}, {256, 8}};
static const int lens[] = {1, 100, 1024, 4096};

/* ---- flops ------------------------------------------------------------------------- */

/* §12: factorised 4Nd² + 2N²kh + 2N²d; random 4Nd² + 2N²d; dense 4Nd² + 2Nd² + 2N²d + 2N²d;
 * F_elem = 3N²h; causal: N² → N(N+1)/2 in every N² term */
Test(flops_synth, formula)
{
    const xb_mixer *m = xb_mixer_find("synthesizer");
    cr_assert_not_null(m);
    for (int v = 1; v <= 3; v++)
        for (size_t a = 0; a < 3; a++)
            for (size_t q = 0; q < 4; q++)
                for (int causal = 0; causal <= 1; causal++) {
                    xb_mixer_cfg c = cfg(m, dims[a][0], dims[a][1], causal, v);
                    double N = lens[q], d = c.d, h = c.heads, k = (int)xb_mixer_opt_get(m, &c, "rank");
                    double N2 = causal ? N * (N + 1) / 2 : N * N;
                    double want = v == 1 ? 4 * N * d * d + 2 * N2 * k * h + 2 * N2 * d
                                : v == 2 ? 4 * N * d * d + 2 * N2 * d
                                         : 4 * N * d * d + 2 * N * d * d + 2 * N2 * d + 2 * N2 * d;
                    expect_flops(m, &c, lens[q], want + 3 * N2 * h);
                }
}

/* d = 8, h = 2, N = 4, k = 3, factorised, bidirectional: 4·4·64 = 1024 (W_V, W_O), 2·16·3·2 = 192
 * (A = R1 R2), 2·16·8 = 256 (P V), 3·16·2 = 96 (softmax) → 1568. Causal (10 pairs): 1024 + 120 +
 * 160 + 60 = 1364. Dense, bidirectional: 1024 + 512 (relu(X W1)) + 256 + 256 + 96 = 2144. */
Test(flops_synth, by_hand)
{
    const xb_mixer *m = xb_mixer_find("synthesizer");
    cr_assert_not_null(m);
    xb_mixer_cfg c = cfg(m, 8, 2, 0, 1);
    xb_mixer_opt_set(m, &c, "rank", 3);
    cr_expect_eq(m->flops(&c, 4), 1568.0);
    c.causal = 1;
    cr_expect_eq(m->flops(&c, 4), 1364.0);
    c = cfg(m, 8, 2, 0, 3);
    cr_expect_eq(m->flops(&c, 4), 2144.0);
}

/* ---- options ----------------------------------------------------------------------- */

static void expect_reject(const xb_mixer *m, xb_mixer_cfg c, const char *key)
{
    char err[256] = "";
    int rc = xb_mixer_check(m, &c, err, sizeof err);
    cr_expect(rc != 0, "%s: check accepted a bad '%s'", m->name, key);
    cr_expect(strncmp(err, key, strlen(key)) == 0 && err[strlen(key)] == ':',
              "%s: message '%s' does not start with '%s:'", m->name, err, key);
}

Test(flops_synth, options)
{
    const xb_mixer *m = xb_mixer_find("synthesizer");
    cr_assert_not_null(m);
    cr_expect_eq(m->modes, XB_CAUSAL | XB_BIDIR);
    xb_mixer_cfg c = cfg(m, 64, 4, 0, 0);
    cr_expect((int)xb_mixer_opt_get(m, &c, "variant") == 1 && (int)xb_mixer_opt_get(m, &c, "rank") == 32, "defaults: variant %d rank %d (want 1, 32)", (int)xb_mixer_opt_get(m, &c, "variant"), (int)xb_mixer_opt_get(m, &c, "rank"));
    char err[256] = "";
    for (int v = 1; v <= 3; v++) {
        xb_mixer_cfg ok = cfg(m, 64, 4, 1, v);
        cr_expect_eq(xb_mixer_check(m, &ok, err, sizeof err), 0, "variant %d rejected: %s", v, err);
    }
    xb_mixer_opt_set(m, &c, "variant", 4); expect_reject(m, c, "variant");
    xb_mixer_opt_set(m, &c, "variant", -1); expect_reject(m, c, "variant");
    c = cfg(m, 64, 4, 0, 1);
    xb_mixer_opt_set(m, &c, "rank", -2); expect_reject(m, c, "rank");
    c = cfg(m, 64, 4, 0, 2);
    c.n_max = 0; expect_reject(m, c, "n_max");
    c = cfg(m, 64, 5, 0, 3);
    expect_reject(m, c, "heads");
    /* parameter counts of §12: 2d² + h·N_max·2k / h·N_max² / d² + d_h·N_max·h */
    const size_t d = 64, h = 4, nm = 8192, k = 32;
    xb_mixer_cfg c1 = cfg(m, 64, 4, 0, 1), c2 = cfg(m, 64, 4, 0, 2), c3 = cfg(m, 64, 4, 0, 3);
    cr_expect_eq(xb_mixer_n_params(m, &c1), 2 * d * d + h * nm * 2 * k);
    cr_expect_eq(xb_mixer_n_params(m, &c2), 2 * d * d + h * nm * nm);
    cr_expect_eq(xb_mixer_n_params(m, &c3), 2 * d * d + d * d + (d / h) * nm * h);
}

/* ---- variants: reference, gradients, padding, causality ----------------------------- */

typedef struct vrun {
    const xb_mixer *m;
    xb_mixer_cfg c;
    int B, N, d;
    size_t np, nx;
    float *w, *saved, *scratch, *y, *dx, *dw;
} vrun;

static void vrun_init(vrun *r, const xb_mixer *m, xb_mixer_cfg c, int B, int N)
{
    memset(r, 0, sizeof *r);
    char err[256] = "";
    cr_assert_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s: check: %s", m->name, err);
    r->m = m; r->c = c; r->B = B; r->N = N; r->d = c.d;
    r->np = xb_mixer_n_params(m, &c);
    r->nx = (size_t)B * N * c.d;
    r->w = xb_alloc(r->np * sizeof(float));
    r->saved = xb_alloc((size_t)B * m->n_saved(&c, N) * sizeof(float) + 64);
    r->scratch = xb_alloc(m->n_scratch(&c, B, N) * sizeof(float) + 64);
    r->y = xb_alloc(r->nx * sizeof(float));
    r->dx = xb_alloc(r->nx * sizeof(float));
    r->dw = xb_alloc(r->np * sizeof(float));
    cr_assert(r->w && r->saved && r->scratch && r->y && r->dx && r->dw);
    xb_rng rng;
    xb_rng_seed(&rng, 5);
    m->init(&c, r->w, &rng);
}

static void vrun_free(vrun *r)
{
    xb_free(r->w); xb_free(r->saved); xb_free(r->scratch); xb_free(r->y); xb_free(r->dx); xb_free(r->dw);
}

static float *normals(size_t n, uint64_t seed)
{
    float *p = xb_alloc(n * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (float)xb_rng_normal(&r);
    return p;
}

static const char *mode(const xb_mixer_cfg *c) { return c->causal ? "causal" : "bidir"; }

/* Σ reference(x) ⊙ R */
static double ref_loss(vrun *r, const float *x, const int *len, const float *R, double *yr)
{
    r->m->reference(&r->c, r->w, x, len, yr, r->B, r->N);
    double s = 0;
    for (size_t i = 0; i < r->nx; i++) s += yr[i] * R[i];
    return s;
}

/* central difference of ref_loss in v[i], divided by the step taken in float: h = 1e-3, then
 * 1e-4 if that disagrees with the analytic a (a relu kink inside the step), keeping the closer */
static double numeric(vrun *r, float *x, const int *len, const float *R, double *yr, float *v, size_t i, double a)
{
    static const float hs[2] = {1e-3f, 1e-4f};
    const float keep = v[i];
    double best = 0;
    for (int e = 0; e < 2; e++) {
        const float p = keep + hs[e], q = keep - hs[e];
        v[i] = p; double lp = ref_loss(r, x, len, R, yr);
        v[i] = q; double lq = ref_loss(r, x, len, R, yr);
        double num = (lp - lq) / ((double)p - (double)q);
        if (e == 0 || fabs(num - a) < fabs(best - a)) best = num;
        if (fabs(best - a) <= 1e-5 * (fabs(a) + fabs(best))) break;
    }
    v[i] = keep;
    return best;
}

/* a and n over idx[0..cnt): ‖a − n‖ ≤ 1e-4 max(‖a‖, ‖n‖) + 1e-9 */
static void compare(const vrun *r, const char *name, const double *a, const double *n, int cnt)
{
    double a2 = 0, n2 = 0, e2 = 0;
    for (int k = 0; k < cnt; k++) { a2 += a[k] * a[k]; n2 += n[k] * n[k]; e2 += (a[k] - n[k]) * (a[k] - n[k]); }
    double s = sqrt(a2 > n2 ? a2 : n2);
    cr_expect(sqrt(e2) <= 1e-4 * s + 1e-9, "%s variant %d (%s): d%s: |a - n| = %.3g, |a| = %.3g, |n| = %.3g over %d entries",
              r->m->name, (int)xb_mixer_opt_get(r->m, &r->c, "variant"), mode(&r->c), name, sqrt(e2), sqrt(a2), sqrt(n2), cnt);
}

/* forward vs reference; backward vs finite differences of the reference; pads */
static void check_variant(const xb_mixer *m, xb_mixer_cfg c, int B, int N, const int *len)
{
    vrun r;
    vrun_init(&r, m, c, B, N);
    float *x = normals(r.nx, 21), *R = normals(r.nx, 22);
    double *yr = malloc(r.nx * sizeof(double));
    m->forward(&r.c, r.w, x, len, r.y, r.saved, r.scratch, B, N);
    m->reference(&r.c, r.w, x, len, yr, B, N);
    double maxref = 1, maxerr = 0;
    for (size_t i = 0; i < r.nx; i++) {
        maxref = fmax(maxref, fabs(yr[i]));
        maxerr = fmax(maxerr, fabs(r.y[i] - yr[i]));
    }
    cr_expect(maxerr <= 1e-5 * maxref, "%s variant %d (%s): forward differs from the reference by %g (max |ref| %g)",
              m->name, (int)xb_mixer_opt_get(m, &c, "variant"), mode(&c), maxerr, maxref);

    memset(r.dw, 0, r.np * sizeof(float));
    m->backward(&r.c, r.w, x, len, r.saved, R, r.dx, r.dw, r.scratch, B, N);
    for (int b = 0; b < B; b++)
        for (size_t i = (size_t)len[b] * r.d; i < (size_t)N * r.d; i++) {
            size_t at = (size_t)b * N * r.d + i;
            cr_assert(r.y[at] == 0.0f && r.dx[at] == 0.0f, "%s variant %d (%s): pad output or dx not 0 at sequence %d position %zu",
                      m->name, (int)xb_mixer_opt_get(m, &c, "variant"), mode(&c), b, i / r.d);
        }

    enum { S = 40 };
    double a[S], n[S];
    xb_rng pick;
    xb_rng_seed(&pick, 23);
    for (int k = 0; k < S; k++) {   /* x at real positions */
        int b = (int)xb_rng_below(&pick, B), t = (int)xb_rng_below(&pick, len[b]), j = (int)xb_rng_below(&pick, r.d);
        size_t i = ((size_t)b * N + t) * r.d + j;
        a[k] = r.dx[i];
        n[k] = numeric(&r, x, len, R, yr, x, i, a[k]);
    }
    compare(&r, "x", a, n, S);
    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(&r.c, t);
    for (int q = 0; q < nt; q++) {
        size_t cnt = (size_t)t[q].rows * t[q].cols;
        for (int k = 0; k < S; k++) {
            size_t i = t[q].offset + xb_rng_u64(&pick) % cnt;
            a[k] = r.dw[i];
            n[k] = numeric(&r, x, len, R, yr, r.w, i, a[k]);
        }
        compare(&r, t[q].name, a, n, S);
    }

    /* garbage in the pads changes no real output */
    float *y0 = xb_alloc(r.nx * sizeof(float));
    memcpy(y0, r.y, r.nx * sizeof(float));
    for (int b = 0; b < B; b++)
        for (size_t i = (size_t)len[b] * r.d; i < (size_t)N * r.d; i++) x[(size_t)b * N * r.d + i] = 5.0f - (float)(i % 11);
    m->forward(&r.c, r.w, x, len, r.y, r.saved, r.scratch, B, N);
    cr_expect_eq(memcmp(y0, r.y, r.nx * sizeof(float)), 0, "%s variant %d (%s): a pad token changed the output",
                 m->name, (int)xb_mixer_opt_get(m, &c, "variant"), mode(&c));

    if (c.causal) {   /* changing token t changes no output before t */
        const int ts[] = {1, 40, 64, N - 1};
        for (int q = 0; q < 4; q++) {
            m->forward(&r.c, r.w, x, NULL, y0, r.saved, r.scratch, B, N);
            float keep = x[(size_t)ts[q] * r.d];
            x[(size_t)ts[q] * r.d] += 1.0f;
            m->forward(&r.c, r.w, x, NULL, r.y, r.saved, r.scratch, B, N);
            x[(size_t)ts[q] * r.d] = keep;
            cr_expect_eq(memcmp(y0, r.y, (size_t)ts[q] * r.d * sizeof(float)), 0,
                         "%s variant %d: changing token %d changed an earlier output", m->name, (int)xb_mixer_opt_get(m, &c, "variant"), ts[q]);
        }
    }
    xb_free(y0); xb_free(x); xb_free(R); free(yr);
    vrun_free(&r);
}

/* B = 2, N = 70 (two 64-row tiles), the second sequence padded to 45; n_max = 80 > N */
static void check_all_variants(const char *name, int rank)
{
    const xb_mixer *m = xb_mixer_find(name);
    cr_assert_not_null(m);
    const int B = 2, N = 70, len[2] = {70, 45};
    for (int v = 1; v <= 3; v++)
        for (int causal = 0; causal <= 1; causal++) {
            xb_mixer_cfg c = {0};
            c.d = 16; c.heads = 2; c.causal = causal; c.n_max = 80; xb_mixer_opt_set(m, &c, "variant", v); xb_mixer_opt_set(m, &c, "rank", rank);
            check_variant(m, xb_mixer_resolve(m, &c), B, N, len);
        }
}

Test(variants, synthesizer) { check_all_variants("synthesizer", 6); }

/* §21: h(2Nd² + 4N²d) + 3N²h + Nd·h for every variant (W_j is materialised once per call);
 * causal N² → N(N+1)/2 */
Test(flops_minattn, formula)
{
    const xb_mixer *m = xb_mixer_find("minattn");
    cr_assert_not_null(m);
    for (int v = 1; v <= 3; v++)
        for (size_t a = 0; a < 3; a++)
            for (size_t q = 0; q < 4; q++)
                for (int causal = 0; causal <= 1; causal++) {
                    xb_mixer_cfg c = cfg(m, dims[a][0], dims[a][1], causal, v);
                    double N = lens[q], d = c.d, h = c.heads, N2 = causal ? N * (N + 1) / 2 : N * N;
                    expect_flops(m, &c, lens[q], h * (2 * N * d * d + 4 * N2 * d) + 3 * N2 * h + N * d * h);
                }
}

/* d = 8, h = 2, N = 4, bidirectional: 2·(2·4·64 + 4·16·8) = 2048, 3·16·2 = 96, 4·8·2 = 64 →
 * 2208; causal (10 pairs): 2·(512 + 320) + 60 + 64 = 1788 */
Test(flops_minattn, by_hand)
{
    const xb_mixer *m = xb_mixer_find("minattn");
    cr_assert_not_null(m);
    xb_mixer_cfg c = cfg(m, 8, 2, 0, 0);
    cr_expect_eq(m->flops(&c, 4), 2208.0);
    c.causal = 1;
    cr_expect_eq(m->flops(&c, 4), 1788.0);
}

Test(flops_minattn, options)
{
    const xb_mixer *m = xb_mixer_find("minattn");
    cr_assert_not_null(m);
    cr_expect_eq(m->modes, XB_CAUSAL | XB_BIDIR);
    cr_expect_eq(m->unverified, 1, "MIXERS.md §31 marks minattn unverified");
    xb_mixer_cfg c = cfg(m, 64, 4, 0, 0);
    cr_expect_eq((int)xb_mixer_opt_get(m, &c, "variant"), 1, "default variant %d", (int)xb_mixer_opt_get(m, &c, "variant"));
    xb_mixer_opt_set(m, &c, "variant", 0); expect_reject(m, c, "variant");
    xb_mixer_opt_set(m, &c, "variant", 5); expect_reject(m, c, "variant");
    c = cfg(m, 64, 3, 0, 3);   /* psd needs d_h = d/h */
    expect_reject(m, c, "heads");
    char err[256] = "";
    c = cfg(m, 64, 3, 1, 1);   /* full and symmetric do not */
    cr_expect_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "full, h = 3: %s", err);
    c = cfg(m, 64, 3, 1, 2);
    cr_expect_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "symmetric, h = 3: %s", err);
    /* stored floats: h·d² (W, U: U's strictly lower part stays 0), d·h·d_h = d² (A) */
    xb_mixer_cfg c1 = cfg(m, 64, 4, 0, 1), c2 = cfg(m, 64, 4, 0, 2), c3 = cfg(m, 64, 4, 0, 3);
    cr_expect_eq(xb_mixer_n_params(m, &c1), 4 * 64 * 64);
    cr_expect_eq(xb_mixer_n_params(m, &c2), 4 * 64 * 64);
    cr_expect_eq(xb_mixer_n_params(m, &c3), 64 * 64);
}

Test(variants, minattn) { check_all_variants("minattn", 0); }

/* symmetric: U's strictly lower part is 0 at init, gets gradient exactly 0, and is never read
 * (junk there changes nothing); the upper part's gradient is not 0 */
Test(variants, minattn_symmetric_lower_part)
{
    const xb_mixer *m = xb_mixer_find("minattn");
    cr_assert_not_null(m);
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 16, 2, causal, 2);
        const int B = 2, N = 70, len[2] = {70, 45}, d = 16, hd = 32;
        vrun r;
        vrun_init(&r, m, c, B, N);
        float *x = normals(r.nx, 31), *dy = normals(r.nx, 32);
        size_t lower = 0, upper_nz = 0;
        for (int a = 0; a < d; a++)
            for (int j = 0; j < hd; j++)
                if (j % d < a) cr_assert_eq(r.w[(size_t)a * hd + j], 0.0f, "U[%d][%d] not 0 at init", a, j);
        m->forward(&r.c, r.w, x, len, r.y, r.saved, r.scratch, B, N);
        float *y0 = xb_alloc(r.nx * sizeof(float));
        memcpy(y0, r.y, r.nx * sizeof(float));
        for (size_t i = 0; i < r.np; i++) r.dw[i] = 0.0f;
        m->backward(&r.c, r.w, x, len, r.saved, dy, r.dx, r.dw, r.scratch, B, N);
        for (int a = 0; a < d; a++)
            for (int j = 0; j < hd; j++) {
                size_t i = (size_t)a * hd + j;
                if (j % d < a) {
                    lower++;
                    cr_expect_eq(r.dw[i], 0.0f, "dU[%d][%d] below the diagonal is %g", a, j, (double)r.dw[i]);
                    r.w[i] = 1.0f + (float)(i % 7);   /* junk below the diagonal */
                } else {
                    upper_nz += r.dw[i] != 0.0f;
                }
            }
        cr_expect_eq(lower, (size_t)2 * d * (d - 1) / 2);
        cr_expect_gt(upper_nz, (size_t)d * (d + 1) - 4, "upper-part gradient mostly 0 (%zu nonzero)", upper_nz);
        m->forward(&r.c, r.w, x, len, r.y, r.saved, r.scratch, B, N);
        cr_expect_eq(memcmp(y0, r.y, r.nx * sizeof(float)), 0, "the lower part of U was read");
        xb_free(y0); xb_free(x); xb_free(dy);
        vrun_free(&r);
    }
}
