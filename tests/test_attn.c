/* tests/test_attn.c — the tiled attention kernel of core/attn.c checked directly against a naive
 * dense double-precision attention written here (its own mask predicate from the definitions,
 * not the kernel's interval arithmetic):
 *   exp        the vector exp against expf, and exact 0 below the cut-off
 *   forward    O and L for bidirectional, causal, sliding bands, local blocks, GQA/MQA/SQA head
 *              maps, per-sequence lengths, Nk ≠ Nq (Linformer shape), head widths with tails
 *   backward   dQ, dK, dV against central differences of the double reference (sampled)
 *   padding    rows ≥ len_q give O = 0 and dQ = 0, keys ≥ len_k give dK = dV = 0
 *   threads    1 and 2 threads give bit-identical outputs
 *   packed     K and V packed a block of rows at a time (ragged blocks, any order, strided
 *              rows), then the kernel on the packs: bit-identical to the one-call forward
 *   mixers     gqa/mqa/sqa/local/local_block/softmax at h = 4 (shared KV heads): forward vs
 *              reference, W_K/W_V gradients vs central differences */
#include <criterion/criterion.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <string.h>

#include "core/attn.h"
#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
#include "mixers/registry.h"

static int allowed(const xb_attn *a, int b, int i, int k)
{
    int lk = a->len_k ? a->len_k[b] : a->Nk;
    if (k >= lk) return 0;
    if (a->causal && k > i) return 0;
    if (a->band && (i - k >= a->left || k - i > a->right)) return 0;
    if (a->block > 0 && i / a->block != k / a->block) return 0;
    return 1;
}

/* O (B, Nq, ldq), L (B, hq, Nq) in double from double inputs */
static void naive(const xb_attn *a, const double *Q, const double *K, const double *V, double *O,
                  double *L)
{
    double *p = malloc(sizeof(double) * (size_t)a->Nk);
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++) {
            int g = j / (a->hq / a->hkv);   /* ⌊j·hkv/hq⌋ for hkv | hq */
            int lq = a->len_q ? a->len_q[b] : a->Nq;
            for (int i = 0; i < a->Nq; i++) {
                double *o = O + ((size_t)b * a->Nq + i) * a->ldq + (size_t)j * a->dh;
                if (L) L[((size_t)b * a->hq + j) * a->Nq + i] = 0;
                for (int c = 0; c < a->dh; c++) o[c] = 0;
                if (i >= lq) continue;
                double mx = -INFINITY, sum = 0;
                const double *q = Q + ((size_t)b * a->Nq + i) * a->ldq + (size_t)j * a->dh;
                for (int k = 0; k < a->Nk; k++) {
                    p[k] = -INFINITY;
                    if (!allowed(a, b, i, k)) continue;
                    const double *kk = K + ((size_t)b * a->Nk + k) * a->ldkv + (size_t)g * a->dh;
                    double s = 0;
                    for (int c = 0; c < a->dh; c++) s += q[c] * kk[c];
                    p[k] = s / sqrt((double)a->dh);
                    if (p[k] > mx) mx = p[k];
                }
                for (int k = 0; k < a->Nk; k++) { p[k] = p[k] == -INFINITY ? 0 : exp(p[k] - mx); sum += p[k]; }
                for (int k = 0; k < a->Nk; k++) {
                    const double *vv = V + ((size_t)b * a->Nk + k) * a->ldkv + (size_t)g * a->dh;
                    for (int c = 0; c < a->dh; c++) o[c] += p[k] / sum * vv[c];
                }
                if (L) L[((size_t)b * a->hq + j) * a->Nq + i] = mx + log(sum);
            }
        }
    free(p);
}

typedef struct bufs {
    size_t nq, nk, nl;
    float *Q, *K, *V, *O, *L, *dO, *dQ, *dK, *dV, *scr;
    double *Qd, *Kd, *Vd, *Od, *Ld;
} bufs;

static float *randf(size_t n, uint64_t seed, float scale)
{
    float *p = xb_alloc(n * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)xb_rng_normal(&r);
    return p;
}

static double *tod(const float *x, size_t n)
{
    double *p = malloc(n * sizeof(double));
    for (size_t i = 0; i < n; i++) p[i] = x[i];
    return p;
}

static void setup(bufs *s, const xb_attn *a)
{
    s->nq = (size_t)a->B * a->Nq * a->ldq;
    s->nk = (size_t)a->B * a->Nk * a->ldkv;
    s->nl = (size_t)a->B * a->hq * a->Nq;
    s->Q = randf(s->nq, 1, 1.5f); s->K = randf(s->nk, 2, 1.5f); s->V = randf(s->nk, 3, 1.0f);
    s->dO = randf(s->nq, 4, 1.0f);
    s->O = xb_alloc(s->nq * 4); s->dQ = xb_alloc(s->nq * 4);
    s->dK = xb_alloc(s->nk * 4); s->dV = xb_alloc(s->nk * 4); s->L = xb_alloc(s->nl * 4);
    s->scr = xb_alloc(xb_attn_scratch(a) * 4);
    s->Qd = tod(s->Q, s->nq); s->Kd = tod(s->K, s->nk); s->Vd = tod(s->V, s->nk);
    s->Od = malloc(s->nq * sizeof(double)); s->Ld = malloc(s->nl * sizeof(double));
}

static void teardown(bufs *s)
{
    xb_free(s->Q); xb_free(s->K); xb_free(s->V); xb_free(s->dO); xb_free(s->O); xb_free(s->dQ);
    xb_free(s->dK); xb_free(s->dV); xb_free(s->L); xb_free(s->scr);
    free(s->Qd); free(s->Kd); free(s->Vd); free(s->Od); free(s->Ld);
}

static void check_forward(const char *what, const xb_attn *a)
{
    bufs s;
    setup(&s, a);
    xb_attn_forward(a, s.Q, s.K, s.V, s.O, s.L, s.scr);
    naive(a, s.Qd, s.Kd, s.Vd, s.Od, s.Ld);
    double eo = 0, el = 0;
    for (size_t i = 0; i < s.nq; i++) eo = fmax(eo, fabs(s.O[i] - s.Od[i]));
    for (size_t i = 0; i < s.nl; i++) el = fmax(el, fabs(s.L[i] - s.Ld[i]) / (1 + fabs(s.Ld[i])));
    cr_expect(eo < 2e-5 && el < 2e-6, "%s: forward max |O err| %g, max rel L err %g", what, eo, el);
    for (int b = 0; b < a->B; b++)
        for (int i = a->len_q ? a->len_q[b] : a->Nq; i < a->Nq; i++)
            for (int c = 0; c < a->hq * a->dh; c++)
                cr_assert_eq(s.O[((size_t)b * a->Nq + i) * a->ldq + c], 0.0f, "%s: O at pad row %d", what, i);
    teardown(&s);
}

/* loss = Σ O ⊙ dO (dO fixed); derivative by central differences of the double reference */
static double loss(const xb_attn *a, bufs *s)
{
    naive(a, s->Qd, s->Kd, s->Vd, s->Od, NULL);
    double l = 0;
    for (size_t i = 0; i < s->nq; i++) l += s->Od[i] * s->dO[i];
    return l;
}

static void check_backward(const char *what, const xb_attn *a, int samples)
{
    bufs s;
    setup(&s, a);
    xb_attn_forward(a, s.Q, s.K, s.V, s.O, s.L, s.scr);
    xb_attn_backward(a, s.Q, s.K, s.V, s.O, s.L, s.dO, s.dQ, s.dK, s.dV, s.scr);
    xb_rng pick;
    xb_rng_seed(&pick, 5);
    double *in[3] = {s.Qd, s.Kd, s.Vd};
    const float *grad[3] = {s.dQ, s.dK, s.dV};
    size_t n[3] = {s.nq, s.nk, s.nk};
    const char *name[3] = {"dQ", "dK", "dV"};
    for (int t = 0; t < 3; t++)
        for (int q = 0; q < samples; q++) {
            size_t idx = xb_rng_u64(&pick) % n[t];
            double keep = in[t][idx], h = 1e-4;
            in[t][idx] = keep + h; double lp = loss(a, &s);
            in[t][idx] = keep - h; double lm = loss(a, &s);
            in[t][idx] = keep;
            double num = (lp - lm) / (2 * h);
            cr_expect(fabs(grad[t][idx] - num) <= 2e-3 * fabs(num) + 2e-4, "%s: %s[%zu] kernel %g numeric %g",
                      what, name[t], idx, grad[t][idx], num);
        }
    /* pads: dQ rows ≥ len_q and dK/dV rows ≥ len_k are exactly 0 */
    for (int b = 0; b < a->B; b++) {
        for (int i = a->len_q ? a->len_q[b] : a->Nq; i < a->Nq; i++)
            for (int c = 0; c < a->hq * a->dh; c++)
                cr_assert_eq(s.dQ[((size_t)b * a->Nq + i) * a->ldq + c], 0.0f, "%s: dQ pad row %d", what, i);
        for (int k = a->len_k ? a->len_k[b] : a->Nk; k < a->Nk; k++)
            for (int c = 0; c < a->hkv * a->dh; c++) {
                cr_assert_eq(s.dK[((size_t)b * a->Nk + k) * a->ldkv + c], 0.0f, "%s: dK pad row %d", what, k);
                cr_assert_eq(s.dV[((size_t)b * a->Nk + k) * a->ldkv + c], 0.0f, "%s: dV pad row %d", what, k);
            }
    }
    teardown(&s);
}

static xb_attn mk(int B, int N, int hq, int hkv, int dh)
{
    return (xb_attn){.B = B, .Nq = N, .Nk = N, .hq = hq, .hkv = hkv, .dh = dh, .ldq = hq * dh,
                     .ldkv = hkv * dh};
}

Test(attn, exp_matches_expf)
{
    enum { n = 4001 };
    static float x[n], y[n];
    for (int i = 0; i < n; i++) x[i] = -87.0f + 175.0f * (float)i / (n - 1);
    xb_attn_exp(x, y, n);
    for (int i = 0; i < n; i++) {
        double ref = exp((double)x[i]);
        cr_assert(fabs(y[i] - ref) <= 1e-6 * ref, "exp(%g) = %g, expected %g", x[i], y[i], ref);
    }
    float lo[5] = {-87.5f, -100.0f, -1e30f, -INFINITY, 0.0f}, out[5];
    xb_attn_exp(lo, out, 5);
    for (int i = 0; i < 4; i++) cr_assert_eq(out[i], 0.0f, "exp(%g) must be exactly 0, got %g", lo[i], out[i]);
    cr_assert_eq(out[4], 1.0f, "exp(0) = %g", out[4]);
}

Test(attn, forward_bidir_and_causal)
{
    xb_attn a = mk(2, 150, 2, 2, 16);   /* 150: two full tiles and a ragged one */
    check_forward("bidir", &a);
    a.causal = 1;
    check_forward("causal", &a);
}

Test(attn, forward_head_widths)
{
    const int dhs[] = {8, 24, 64, 80};   /* tails inside a 16-lane group and past 64 columns */
    for (size_t q = 0; q < sizeof dhs / sizeof dhs[0]; q++) {
        xb_attn a = mk(1, 97, 2, 2, dhs[q]);
        a.causal = (int)q & 1;
        char what[32];
        snprintf(what, sizeof what, "dh=%d", dhs[q]);
        check_forward(what, &a);
    }
}

Test(attn, forward_bands_and_blocks)
{
    xb_attn a = mk(1, 200, 2, 2, 16);
    a.band = 1; a.left = 3; a.right = 2;          /* local w = 5, bidirectional */
    check_forward("band 3/2", &a);
    a.left = 70; a.right = 70;                    /* band wider than a tile */
    check_forward("band 70/70", &a);
    a.causal = 1; a.left = 90; a.right = 0;        /* causal window */
    check_forward("causal band 90", &a);
    a = mk(1, 200, 2, 2, 16);
    a.block = 48;                                 /* blocks straddle tiles; short last block */
    check_forward("block 48", &a);
    a.causal = 1;
    check_forward("causal block 48", &a);
    a.causal = 0; a.block = 5;
    check_forward("block 5", &a);
}

Test(attn, forward_head_maps_and_lengths)
{
    int lq[2] = {150, 61}, lk[2] = {150, 61};
    const int maps[][2] = {{4, 2}, {4, 1}, {2, 1}, {6, 3}};
    for (size_t q = 0; q < sizeof maps / sizeof maps[0]; q++) {
        xb_attn a = mk(2, 150, maps[q][0], maps[q][1], 16);
        a.len_q = lq; a.len_k = lk; a.causal = (int)q & 1;
        char what[48];
        snprintf(what, sizeof what, "hq=%d hkv=%d len", maps[q][0], maps[q][1]);
        check_forward(what, &a);
    }
}

Test(attn, forward_rectangular)
{
    int lq[2] = {130, 40};
    xb_attn a = mk(2, 130, 2, 2, 16);   /* Linformer shape: N queries × r keys, no mask */
    a.Nk = 70; a.len_q = lq;
    check_forward("Nq=130 Nk=70", &a);
}

Test(attn, backward_matches_finite_differences)
{
    int len[2] = {70, 45};
    xb_attn a = mk(2, 70, 2, 2, 8);
    a.len_q = len; a.len_k = len;
    check_backward("bidir", &a, 30);
    a.causal = 1;
    check_backward("causal", &a, 30);
    a = mk(1, 80, 4, 2, 8);
    a.band = 1; a.left = 5; a.right = 4;
    check_backward("gqa band", &a, 30);
    a = mk(1, 80, 2, 1, 8);
    a.block = 24; a.causal = 1;
    check_backward("mqa causal block", &a, 30);
    int l2[1] = {66};
    a = mk(1, 80, 2, 2, 8);
    a.Nk = 20; a.len_q = l2;
    check_backward("rectangular", &a, 30);
}

Test(attn, threads_bit_identical)
{
    int len[3] = {200, 130, 7};
    xb_attn a = mk(3, 200, 4, 2, 16);
    a.causal = 1; a.len_q = len; a.len_k = len;
#ifdef _OPENMP
    omp_set_num_threads(2);   /* scratch is sized for the larger count */
#endif
    bufs s;
    setup(&s, &a);
    float *o1 = xb_alloc(s.nq * 4), *dq1 = xb_alloc(s.nq * 4), *dk1 = xb_alloc(s.nk * 4);
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    xb_attn_forward(&a, s.Q, s.K, s.V, s.O, s.L, s.scr);
    xb_attn_backward(&a, s.Q, s.K, s.V, s.O, s.L, s.dO, s.dQ, s.dK, s.dV, s.scr);
    memcpy(o1, s.O, s.nq * 4); memcpy(dq1, s.dQ, s.nq * 4); memcpy(dk1, s.dK, s.nk * 4);
#ifdef _OPENMP
    omp_set_num_threads(2);
#endif
    xb_attn_forward(&a, s.Q, s.K, s.V, s.O, s.L, s.scr);
    xb_attn_backward(&a, s.Q, s.K, s.V, s.O, s.L, s.dO, s.dQ, s.dK, s.dV, s.scr);
    cr_expect_eq(memcmp(o1, s.O, s.nq * 4), 0, "O differs between 1 and 2 threads");
    cr_expect_eq(memcmp(dq1, s.dQ, s.nq * 4), 0, "dQ differs between 1 and 2 threads");
    cr_expect_eq(memcmp(dk1, s.dK, s.nk * 4), 0, "dK differs between 1 and 2 threads");
    xb_free(o1); xb_free(dq1); xb_free(dk1);
    teardown(&s);
}

Test(attn, packed_rows_match_forward)
{
    int len[3] = {200, 130, 7};
    xb_attn a = mk(3, 200, 4, 2, 16);   /* GQA: two query heads per packed KV head */
    a.causal = 1; a.len_q = len; a.len_k = len;
    bufs s;
    setup(&s, &a);
    xb_attn_forward(&a, s.Q, s.K, s.V, s.O, s.L, s.scr);
    float *o1 = xb_alloc(s.nq * 4), *l1 = xb_alloc(s.nl * 4);
    memcpy(o1, s.O, s.nq * 4); memcpy(l1, s.L, s.nl * 4);
    /* K and V side by side in one strided array, as a fused product's block would hold them */
    const int dkv = a.hkv * a.dh, ld = 2 * dkv + 3, R = a.B * a.Nk;
    float *kv = xb_alloc((size_t)R * ld * 4);
    for (int r = 0; r < R; r++) {
        memcpy(kv + (size_t)r * ld, s.K + (size_t)r * a.ldkv, (size_t)dkv * 4);
        memcpy(kv + (size_t)r * ld + dkv, s.V + (size_t)r * a.ldkv, (size_t)dkv * 4);
    }
    memset(s.scr, 0xff, xb_attn_scratch(&a) * 4);   /* NaNs: a row left unpacked shows */
    memset(s.O, 0, s.nq * 4);
    const int blk = 37;                             /* blocks cross the 64-key tiles */
    for (int r0 = (R - 1) / blk * blk; r0 >= 0; r0 -= blk) {
        const int rows = R - r0 < blk ? R - r0 : blk;
        xb_attn_pack_rows(&a, r0, rows, kv + (size_t)r0 * ld, kv + (size_t)r0 * ld + dkv, ld, s.scr);
    }
    xb_attn_forward_packed(&a, s.Q, s.O, s.L, s.scr);
    cr_expect_eq(memcmp(o1, s.O, s.nq * 4), 0, "O from row-block packs differs from xb_attn_forward");
    cr_expect_eq(memcmp(l1, s.L, s.nl * 4), 0, "L from row-block packs differs from xb_attn_forward");
    xb_free(o1); xb_free(l1); xb_free(kv);
    teardown(&s);
}

/* The mixers at h = 4, where gqa/mqa/sqa really share KV heads (test_mixers.c runs h = 2):
 * forward against each mixer's naive reference, and W_K/W_V gradients (sums over the query
 * heads of a group) against central differences of the float forward. */
Test(attn, mixers_with_shared_kv_heads)
{
    const char *names[] = {"gqa", "mqa", "sqa", "local", "local_block", "softmax"};
    const int B = 2, N = 70, d = 32;
    int len[2] = {70, 33};
    for (size_t q = 0; q < sizeof names / sizeof names[0]; q++)
        for (int causal = 0; causal <= 1; causal++) {
            const xb_mixer *m = xb_mixer_find(names[q]);
            cr_assert_not_null(m, "%s not registered", names[q]);
            xb_mixer_cfg c0 = {0};
            c0.d = d; c0.heads = 4; c0.causal = causal; c0.n_max = N; xb_mixer_opt_set(m, &c0, "window", 7); xb_mixer_opt_set(m, &c0, "block", 5);
            xb_mixer_cfg c = xb_mixer_resolve(m, &c0);
            size_t np = xb_mixer_n_params(m, &c), nx = (size_t)B * N * d;
            float *w = xb_alloc(np * 4), *dw = xb_alloc(np * 4), *y = xb_alloc(nx * 4), *dx = xb_alloc(nx * 4);
            float *sv = xb_alloc(B * m->n_saved(&c, N) * 4), *sc = xb_alloc(m->n_scratch(&c, B, N) * 4);
            float *x = randf(nx, 21, 1.0f), *R = randf(nx, 22, 1.0f);
            double *yr = malloc(nx * sizeof(double));
            xb_rng rng;
            xb_rng_seed(&rng, 3);
            m->init(&c, w, &rng);
            m->forward(&c, w, x, len, y, sv, sc, B, N);
            m->reference(&c, w, x, len, yr, B, N);
            double err = 0;
            for (size_t k = 0; k < nx; k++) err = fmax(err, fabs(y[k] - yr[k]));
            cr_expect(err < 1e-4, "%s (%s, h=4): forward differs from reference by %g", names[q],
                      causal ? "causal" : "bidir", err);
            m->backward(&c, w, x, len, sv, R, dx, dw, sc, B, N);
            xb_tensor t[4];
            m->tensors(&c, t);
            for (int tk = 1; tk <= 2; tk++)   /* W_K, W_V */
                for (int s = 0; s < 6; s++) {
                    size_t idx = t[tk].offset + xb_rng_u64(&rng) % ((size_t)t[tk].rows * t[tk].cols);
                    float keep = w[idx], h = 1e-2f;
                    double lp = 0, lm = 0;
                    w[idx] = keep + h; m->forward(&c, w, x, len, y, sv, sc, B, N);
                    for (size_t k = 0; k < nx; k++) lp += (double)y[k] * R[k];
                    w[idx] = keep - h; m->forward(&c, w, x, len, y, sv, sc, B, N);
                    for (size_t k = 0; k < nx; k++) lm += (double)y[k] * R[k];
                    w[idx] = keep;
                    double num = (lp - lm) / (2 * h);
                    cr_expect(fabs(dw[idx] - num) <= 2e-2 * (fabs(num) + fabs(dw[idx])) + 2e-3,
                              "%s (%s, h=4): d%s analytic %g numeric %g", names[q], causal ? "causal" : "bidir",
                              t[tk].name, dw[idx], num);
                }
            xb_free(w); xb_free(dw); xb_free(y); xb_free(dx); xb_free(sv); xb_free(sc); xb_free(x); xb_free(R);
            free(yr);
        }
}
