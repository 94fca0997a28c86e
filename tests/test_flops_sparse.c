/* tests/test_flops_sparse.c — the block-sparse attention mixers (MIXERS.md §5 sparse_fixed,
 * §6 bigbird): flops() against the pair counts written out again here, by brute force over the
 * masks' definitions and in closed form, with a hand-computed case each; check() messages that
 * name the option key; bigbird's random-block table (distinct, outside window and globals,
 * causal draws earlier only, deterministic, per layer and head); and, because test_mixers.c's
 * sizes leave little of a mask's sparsity (bigbird at N = 11 with blocks of 4, or at N = 150
 * with its default blocks of 32, is dense), forward and gradients at sparse sizes against the
 * double-precision reference, including blocks longer than the kernel's 64-row tiles; and that
 * a bigbird sequence's blocks are those of its own length (the same alone and padded). */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
#include "mixers/bigbird.h"
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
    cr_expect(fabs(got - want) <= 1e-12 * want, "%s (d=%d N=%d %s): flops %.17g, want %.17g", m->name, c->d, N,
              c->causal ? "causal" : "bidir", got, want);
}

static int check_msg(const xb_mixer *m, const xb_mixer_cfg *c, const char *key)
{
    char err[256] = "";
    int rc = xb_mixer_check(m, c, err, sizeof err);
    cr_expect_neq(rc, 0, "%s: check accepted a bad %s", m->name, key);
    cr_expect(strncmp(err, key, strlen(key)) == 0, "%s: message '%s' does not start with '%s'", m->name, err, key);
    return rc;
}

/* ---- sparse_fixed -------------------------------------------------------------------- */

/* §5's mask: same block of l, or k mod l = 0, or k mod l ≥ l − c; causal ANDs k ≤ i */
static double fixed_pairs(int N, int l, int c, int causal)
{
    double P = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++)
            P += (i / l == k / l || k % l == 0 || k % l >= l - c) && (!causal || k <= i);
    return P;
}

Test(flops_sparse, fixed_brute_force)
{
    const xb_mixer *m = xb_mixer_find("sparse_fixed");
    cr_assert_not_null(m);
    const int Ns[] = {1, 7, 10, 64, 100, 257};
    const int ls[] = {1, 4, 5, 64};
    for (size_t q = 0; q < sizeof Ns / sizeof *Ns; q++)
        for (size_t a = 0; a < sizeof ls / sizeof *ls; a++)
            for (int cc = 1; cc <= ls[a]; cc += cc < 3 ? 1 : 7)
                for (int causal = 0; causal <= 1; causal++) {
                    xb_mixer_cfg c = cfg(m, 32, 4, causal);
                    xb_mixer_opt_set(m, &c, "block", ls[a]);
                    xb_mixer_opt_set(m, &c, "summary", cc);
                    double N = Ns[q], d = c.d;
                    expect_flops(m, &c, Ns[q], 8 * N * d * d + 4 * d * fixed_pairs(Ns[q], ls[a], cc, causal));
                }
}

Test(flops_sparse, fixed_by_hand_and_closed_form)
{
    const xb_mixer *m = xb_mixer_find("sparse_fixed");
    cr_assert_not_null(m);
    /* N = 10, l = 4, c = 1: blocks {0..3} {4..7} {8, 9}, summary columns 0 3 4 7 8.
     * Bidirectional: 4·(4 + 3) + 4·(4 + 3) + 2·(2 + 4) = 68 pairs; causal: rows 0..3 see
     * 1 2 3 4 keys, rows 4..7 see 3 4 5 6, rows 8, 9 see 5, 6: 39 pairs. d = 8. */
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 8, 2, causal);
        xb_mixer_opt_set(m, &c, "block", 4);
        xb_mixer_opt_set(m, &c, "summary", 1);
        expect_flops(m, &c, 10, 8.0 * 10 * 64 + 4.0 * 8 * (causal ? 39 : 68));
    }
    /* defaults l = 64, c = 8 (§5), and 9 summary columns per block with LRA's k mod l = 0:
     * l | N gives N(l + 9N/l − 9) pairs bidirectional, Σ_B [l(l+1)/2 + 9·l·B] causal */
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 64, 4, causal);
        cr_expect((int)xb_mixer_opt_get(m, &c, "block") == 64 && (int)xb_mixer_opt_get(m, &c, "summary") == 8, "defaults block %d summary %d", (int)xb_mixer_opt_get(m, &c, "block"), (int)xb_mixer_opt_get(m, &c, "summary"));
        double N = 4096, l = 64, nb = N / l, d = 64;
        double P = causal ? nb * l * (l + 1) / 2 + 9 * l * nb * (nb - 1) / 2 : N * (l + 9 * N / l - 9);
        expect_flops(m, &c, 4096, 8 * N * d * d + 4 * P * d);
    }
    xb_mixer_cfg c = cfg(m, 64, 4, 0);
    xb_mixer_opt_set(m, &c, "block", 4);
    xb_mixer_opt_set(m, &c, "summary", 0);
    c = xb_mixer_resolve(m, &c);
    cr_expect_eq((int)xb_mixer_opt_get(m, &c, "summary"), 1, "summary default at block 4: %d", (int)xb_mixer_opt_get(m, &c, "summary"));
}

Test(flops_sparse, fixed_check_names_keys)
{
    const xb_mixer *m = xb_mixer_find("sparse_fixed");
    cr_assert_not_null(m);
    xb_mixer_cfg c = cfg(m, 64, 4, 0);
    char err[256];
    cr_expect_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "defaults rejected: %s", err);
    xb_mixer_opt_set(m, &c, "summary", 65);
    check_msg(m, &c, "summary");
    xb_mixer_opt_set(m, &c, "summary", -1);
    check_msg(m, &c, "summary");
    c = cfg(m, 64, 4, 0);
    xb_mixer_opt_set(m, &c, "block", -3);
    check_msg(m, &c, "block");
    c = cfg(m, 64, 3, 0);
    check_msg(m, &c, "heads");
}

/* ---- bigbird ------------------------------------------------------------------------- */

/* §6's mask for head j from the table: global query or key block, window |I − K| ≤ 1, or a
 * random block of I; causal ANDs k ≤ i */
static double bigbird_pairs(const xb_mixer *m, const xb_mixer_cfg *c, int N, int j)
{
    const int b = (int)xb_mixer_opt_get(m, c, "block"), nb = (N + b - 1) / b, r = (int)xb_mixer_opt_get(m, c, "random_blocks");
    int *table = malloc((size_t)c->heads * nb * r * sizeof(int));
    xb_bigbird_table(c, N, table);
    double P = 0;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < N; k++) {
            const int I = i / b, K = k / b;
            int ok = I == 0 || I == nb - 1 || K == 0 || K == nb - 1 || abs(I - K) <= 1;
            for (int t = 0; t < r; t++) ok |= table[((size_t)j * nb + I) * r + t] == K;
            P += ok && (!c->causal || k <= i);
        }
    free(table);
    return P;
}

Test(flops_sparse, bigbird_brute_force)
{
    const xb_mixer *m = xb_mixer_find("bigbird");
    cr_assert_not_null(m);
    const int Ns[] = {1, 7, 22, 64, 100, 257};
    const int bs[] = {1, 4, 5, 32};
    const int rs[] = {1, 2, 3, 7};
    for (size_t q = 0; q < sizeof Ns / sizeof *Ns; q++)
        for (size_t a = 0; a < sizeof bs / sizeof *bs; a++)
            for (size_t e = 0; e < sizeof rs / sizeof *rs; e++)
                for (int causal = 0; causal <= 1; causal++) {
                    xb_mixer_cfg c = cfg(m, 32, 2, causal);
                    xb_mixer_opt_set(m, &c, "block", bs[a]);
                    xb_mixer_opt_set(m, &c, "random_blocks", rs[e]);
                    c.layer = (int)q;
                    double N = Ns[q], d = c.d, P = bigbird_pairs(m, &c, Ns[q], 0);
                    cr_expect_eq(bigbird_pairs(m, &c, Ns[q], 1), P, "the heads' masks differ in size");
                    expect_flops(m, &c, Ns[q], 8 * N * d * d + 4 * d * P);
                }
}

Test(flops_sparse, bigbird_by_hand_and_closed_form)
{
    const xb_mixer *m = xb_mixer_find("bigbird");
    cr_assert_not_null(m);
    /* N = 22, b = 4, r_b = 1: blocks 0..4 of 4 and block 5 of 2. Bidirectional: the global
     * blocks 0 and 5 see 22 keys a row (6 rows); block 1 sees blocks 0 1 2 5 and one random of
     * {3, 4} (18 keys), block 4 likewise (0 3 4 5 + one of {1, 2}), blocks 2 and 3 see all 22
     * (their one candidate block is drawn): 6·22 + 4·(18 + 22 + 22 + 18) = 452 pairs. Causal:
     * block 0: 10; block 1: 4 + (1..4) = 26; block 2: 8 + (1..4) = 42 (no earlier candidate);
     * blocks 3 and 4: 12 + (1..4) = 58 each; block 5 (rows 20, 21): 21 + 22 = 43; 237 pairs. */
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 8, 2, causal);
        xb_mixer_opt_set(m, &c, "block", 4);
        xb_mixer_opt_set(m, &c, "random_blocks", 1);
        expect_flops(m, &c, 22, 8.0 * 22 * 64 + 4.0 * 8 * (causal ? 237 : 452));
    }
    /* defaults b = 32, r_b = 3 (§6); b | N and enough candidates: §6's
     * b·[(n_b − 2)(5 + r_b)·b + 2N] less one window block of b rows at each edge */
    xb_mixer_cfg c = cfg(m, 64, 4, 0);
    cr_expect((int)xb_mixer_opt_get(m, &c, "block") == 32 && (int)xb_mixer_opt_get(m, &c, "random_blocks") == 3, "defaults block %d random_blocks %d", (int)xb_mixer_opt_get(m, &c, "block"), (int)xb_mixer_opt_get(m, &c, "random_blocks"));
    double N = 4096, b = 32, nb = N / b, d = 64;
    double P = b * ((nb - 2) * (5 + 3) * b + 2 * N) - 2 * b * b;
    expect_flops(m, &c, 4096, 8 * N * d * d + 4 * P * d);
}

Test(flops_sparse, bigbird_check_names_keys)
{
    const xb_mixer *m = xb_mixer_find("bigbird");
    cr_assert_not_null(m);
    xb_mixer_cfg c = cfg(m, 64, 4, 0);
    char err[256];
    cr_expect_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "defaults rejected: %s", err);
    xb_mixer_opt_set(m, &c, "random_blocks", -1);
    check_msg(m, &c, "random_blocks");
    c = cfg(m, 64, 4, 0);
    xb_mixer_opt_set(m, &c, "block", -1);
    check_msg(m, &c, "block");
    c = cfg(m, 64, 3, 1);
    check_msg(m, &c, "heads");
}

/* The random table: r_b distinct blocks outside the window and the global blocks (causal:
 * earlier than I − 1), fewer only when there are fewer candidates; the same on every call,
 * different per layer and head, and the causal one the same for every N. */
Test(flops_sparse, bigbird_table)
{
    const xb_mixer *m = xb_mixer_find("bigbird");
    cr_assert_not_null(m);
    const int N = 200, b = 8, nb = 25, r = 3, h = 4;
    int *t = malloc(sizeof(int) * h * nb * r), *u = malloc(sizeof(int) * h * nb * r);
    int *big = malloc(sizeof(int) * h * 50 * r);
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 32, h, causal);
        xb_mixer_opt_set(m, &c, "block", b);
        xb_mixer_opt_set(m, &c, "random_blocks", r);
        c.layer = 2;
        cr_assert_eq(xb_bigbird_blocks(&c, N), nb);
        xb_bigbird_table(&c, N, t);
        xb_bigbird_table(&c, N, u);
        cr_expect_eq(memcmp(t, u, sizeof(int) * h * nb * r), 0, "two draws differ");
        int same_heads = 1;
        for (int j = 0; j < h; j++)
            for (int I = 0; I < nb; I++) {
                const int *R = t + ((size_t)j * nb + I) * r;
                int cand = I == 0 || I == nb - 1 ? 0 : causal ? (I - 2 > 0 ? I - 2 : 0) : nb - 2 - (I == 1 || I == nb - 2 ? 2 : 3);
                int want = cand < r ? cand : r, got = 0;
                for (int q = 0; q < r; q++) {
                    if (R[q] < 0) continue;
                    got++;
                    cr_expect(R[q] >= 1 && R[q] <= nb - 2 && abs(R[q] - I) > 1, "head %d block %d: random block %d", j, I, R[q]);
                    if (causal) cr_expect(R[q] < I - 1, "causal head %d block %d: random block %d is not earlier", j, I, R[q]);
                    if (q > 0) cr_expect(R[q] > R[q - 1], "head %d block %d: not ascending and distinct", j, I);
                }
                cr_expect_eq(got, want, "head %d block %d: %d random blocks, want %d", j, I, got, want);
                if (j > 0 && memcmp(R, R - (size_t)nb * r, sizeof(int) * r)) same_heads = 0;
            }
        cr_expect(!same_heads, "every head drew the same blocks");
        c.layer = 3;
        xb_bigbird_table(&c, N, u);
        cr_expect_neq(memcmp(t, u, sizeof(int) * h * nb * r), 0, "layers 2 and 3 drew the same table");
        c.layer = 2;
        xb_bigbird_table(&c, 2 * N, big);   /* 50 blocks */
        if (causal)
            for (int j = 0; j < h; j++)
                for (int I = 0; I < nb - 1; I++)
                    cr_expect_eq(memcmp(t + ((size_t)j * nb + I) * r, big + ((size_t)j * 50 + I) * r, sizeof(int) * r), 0,
                                 "causal head %d block %d changed with N", j, I);
    }
    free(t); free(u); free(big);
}

/* ---- forward and gradients at sparse sizes ------------------------------------------- */

typedef struct fx {
    const xb_mixer *m;
    xb_mixer_cfg c;
    int B, N, d;
    const int *len;
    float *w, *x, *y, *saved, *scratch, *dx, *dw, *R;
    size_t np, nx;
} fx;

static float *normals(size_t n, uint64_t seed)
{
    xb_rng r;
    xb_rng_seed(&r, seed);
    float *p = xb_alloc(n * sizeof(float) + 64);
    for (size_t i = 0; i < n; i++) p[i] = (float)xb_rng_normal(&r);
    return p;
}

static void fx_init(fx *f, const xb_mixer *m, xb_mixer_cfg c, int B, int N, const int *len)
{
    char err[256] = "";
    cr_assert_eq(xb_mixer_check(m, &c, err, sizeof err), 0, "%s: %s", m->name, err);
    memset(f, 0, sizeof *f);
    f->m = m; f->c = c; f->B = B; f->N = N; f->d = c.d; f->len = len;
    f->np = xb_mixer_n_params(m, &c);
    f->nx = (size_t)B * N * c.d;
    f->w = xb_alloc(f->np * sizeof(float) + 64);
    f->dw = xb_alloc(f->np * sizeof(float) + 64);
    f->saved = xb_alloc((size_t)B * m->n_saved(&c, N) * sizeof(float) + 64);
    f->scratch = xb_alloc(m->n_scratch(&c, B, N) * sizeof(float) + 64);
    f->y = xb_alloc(f->nx * sizeof(float));
    f->dx = xb_alloc(f->nx * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, 3);
    m->init(&c, f->w, &r);
    f->x = normals(f->nx, 4);
    f->R = normals(f->nx, 5);
}

static void fx_free(fx *f)
{
    xb_free(f->w); xb_free(f->dw); xb_free(f->saved); xb_free(f->scratch); xb_free(f->y);
    xb_free(f->dx); xb_free(f->x); xb_free(f->R);
}

/* Σ R·y of the reference at the current w, x (real rows only: pads are 0 in both) */
static double ref_loss(const fx *f)
{
    double *y = calloc(f->nx, sizeof(double)), s = 0;
    f->m->reference(&f->c, f->w, f->x, f->len, y, f->B, f->N);
    for (size_t i = 0; i < f->nx; i++) s += (double)f->R[i] * y[i];
    free(y);
    return s;
}

/* forward against the reference, then dx and every weight tensor's gradient at 12 entries each
 * against central differences of the reference's loss Σ R·y */
static void sparse_check(const xb_mixer *m, xb_mixer_cfg c, int B, int N, const int *len)
{
    fx f;
    fx_init(&f, m, c, B, N, len);
    double *yr = calloc(f.nx, sizeof(double));
    m->forward(&f.c, f.w, f.x, len, f.y, f.saved, f.scratch, B, N);
    m->reference(&f.c, f.w, f.x, len, yr, B, N);
    double err = 0, mx = 0;
    for (size_t i = 0; i < f.nx; i++) {
        err = fmax(err, fabs(f.y[i] - yr[i]));
        mx = fmax(mx, fabs(yr[i]));
    }
    cr_expect(err <= 1e-5 * fmax(mx, 1), "%s (%s, N=%d, block %d): forward differs from the reference by %g",
              m->name, c.causal ? "causal" : "bidir", N, (int)xb_mixer_opt_get(m, &c, "block"), err);
    free(yr);
    memset(f.dw, 0, f.np * sizeof(float));
    m->backward(&f.c, f.w, f.x, len, f.saved, f.R, f.dx, f.dw, f.scratch, B, N);

    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(&f.c, t);
    xb_rng pick;
    xb_rng_seed(&pick, 77);
    for (int q = -1; q < nt; q++) {
        float *v = q < 0 ? f.x : f.w + t[q].offset, *g = q < 0 ? f.dx : f.dw + t[q].offset;
        size_t n = q < 0 ? f.nx : (size_t)t[q].rows * t[q].cols;
        double num2 = 0, diff2 = 0;
        for (int s = 0; s < 12; s++) {
            size_t i = xb_rng_u64(&pick) % n;
            if (q < 0) {   /* x: a real row */
                int b = (int)(i / ((size_t)N * f.d)), tt = (int)(i / f.d % N);
                if (len && tt >= len[b]) i -= (size_t)(tt - len[b] / 2) * f.d;
            }
            float keep = v[i], h = 1e-3f;
            v[i] = keep + h;
            float hp = v[i] - keep;
            double lp = ref_loss(&f);
            v[i] = keep - h;
            float hm = keep - v[i];
            double lm = ref_loss(&f);
            v[i] = keep;
            double num = (lp - lm) / ((double)hp + hm);
            num2 += num * num;
            diff2 += (num - g[i]) * (num - g[i]);
        }
        cr_expect(sqrt(diff2) <= 1e-3 * sqrt(num2) + 1e-6, "%s (%s, N=%d): gradient of %s off by %g (norm %g)",
                  m->name, c.causal ? "causal" : "bidir", N, q < 0 ? "x" : t[q].name, sqrt(diff2), sqrt(num2));
    }
    fx_free(&f);
}

Test(flops_sparse, fixed_sparse_sizes)
{
    const xb_mixer *m = xb_mixer_find("sparse_fixed");
    cr_assert_not_null(m);
    int len[2] = {45, 29};
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 16, 2, causal);
        xb_mixer_opt_set(m, &c, "block", 6);   /* 8 blocks, the last short (45 = 7·6 + 3) */
        xb_mixer_opt_set(m, &c, "summary", 2);
        sparse_check(m, c, 2, 45, len);
        xb_mixer_opt_set(m, &c, "block", 70);   /* one block longer than a tile: the whole sequence, sub-tiles of 64 rows */
        xb_mixer_opt_set(m, &c, "summary", 3);
        sparse_check(m, c, 1, 100, NULL);
    }
}

Test(flops_sparse, bigbird_sparse_sizes)
{
    const xb_mixer *m = xb_mixer_find("bigbird");
    cr_assert_not_null(m);
    int len[2] = {45, 29};
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 16, 2, causal);
        xb_mixer_opt_set(m, &c, "block", 4);   /* 12 blocks, the last of 1 */
        xb_mixer_opt_set(m, &c, "random_blocks", 2);
        c.layer = 1;
        sparse_check(m, c, 2, 45, len);
        xb_mixer_opt_set(m, &c, "block", 66);   /* blocks longer than a tile: sub-tiles of rows and of keys */
        xb_mixer_opt_set(m, &c, "random_blocks", 1);
        sparse_check(m, c, 1, 400, NULL);
    }
}

/* A sequence's blocks are those of its own length: its output, dx and dw are the same alone
 * (B = 1, N = its length) and inside a padded batch with a longer N whose other sequences
 * (with dy = 0 there) have other lengths, the same length twice, apart (runs of lengths). At
 * 25 tokens and blocks of 4 the last block (token 24) is global alone and a middle block of
 * the N = 41 layout, which sees only r_b = 1 random block of the earlier ones. */
Test(flops_sparse, bigbird_own_length)
{
    const xb_mixer *m = xb_mixer_find("bigbird");
    cr_assert_not_null(m);
    enum { L = 25, N = 41, B = 4 };
    const int len[B] = {N, L, 7, L};
    for (int causal = 0; causal <= 1; causal++) {
        xb_mixer_cfg c = cfg(m, 16, 2, causal);
        xb_mixer_opt_set(m, &c, "block", 4);
        xb_mixer_opt_set(m, &c, "random_blocks", 1);
        c.layer = 1;
        fx one, pad;
        fx_init(&one, m, c, 1, L, NULL);
        fx_init(&pad, m, c, B, N, len);
        const int d = c.d;
        for (int s = 0; s < B; s++) {   /* sequences 1 and 3 are `one`'s x; dy only in 3 */
            if (s % 2) memcpy(pad.x + (size_t)s * N * d, one.x, (size_t)L * d * sizeof(float));
            memset(pad.R + (size_t)s * N * d, 0, (size_t)N * d * sizeof(float));
        }
        memcpy(pad.R + (size_t)3 * N * d, one.R, (size_t)L * d * sizeof(float));
        m->forward(&one.c, one.w, one.x, NULL, one.y, one.saved, one.scratch, 1, L);
        m->forward(&pad.c, pad.w, pad.x, len, pad.y, pad.saved, pad.scratch, B, N);
        memset(one.dw, 0, one.np * sizeof(float));
        memset(pad.dw, 0, pad.np * sizeof(float));
        m->backward(&one.c, one.w, one.x, NULL, one.saved, one.R, one.dx, one.dw, one.scratch, 1, L);
        m->backward(&pad.c, pad.w, pad.x, len, pad.saved, pad.R, pad.dx, pad.dw, pad.scratch, B, N);
        double ey = 0, edx = 0, edw = 0, sy = 0, sdx = 0, sdw = 0;
        for (int s = 1; s < B; s += 2)
            for (size_t i = 0; i < (size_t)L * d; i++) {
                ey = fmax(ey, fabs((double)pad.y[(size_t)s * N * d + i] - one.y[i]));
                sy = fmax(sy, fabs((double)one.y[i]));
            }
        for (size_t i = 0; i < (size_t)L * d; i++) {
            edx = fmax(edx, fabs((double)pad.dx[(size_t)3 * N * d + i] - one.dx[i]));
            sdx = fmax(sdx, fabs((double)one.dx[i]));
        }
        for (size_t i = 0; i < one.np; i++) {
            edw = fmax(edw, fabs((double)pad.dw[i] - one.dw[i]));
            sdw = fmax(sdw, fabs((double)one.dw[i]));
        }
        cr_expect(ey <= 1e-5 * (1 + sy), "%s: the output inside the padded batch differs from alone by %g",
                  causal ? "causal" : "bidir", ey);
        cr_expect(edx <= 1e-5 * (1 + sdx) && edw <= 1e-5 * (1 + sdw),
                  "%s: gradients inside the padded batch differ from alone (dx by %g, dw by %g)",
                  causal ? "causal" : "bidir", edx, edw);
        fx_free(&one);
        fx_free(&pad);
    }
}
