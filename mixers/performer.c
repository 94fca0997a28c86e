/* mixers/performer.c — Performer, FAVOR+ positive random features (Choromanski et al. 2021),
 * MIXERS.md §8 and §32:
 *   φ(x) = m^{-1/2} (exp(W_rf (c x) − ‖c x‖²/2 − stab) + ε),  c = d_h^{-1/4},
 *   o_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / φ(q_i)·Σ_j φ(k_j)   (no ε in the denominator),
 * standard projections W_Q..W_O, h heads, one fixed random matrix W_rf [m × d_h] per layer shared by
 * the heads (a FROZEN buffer in the slab: orthogonal blocks, rows scaled by χ_{d_h} norms).
 * Stabilisers are stop-gradient.
 *   Bidirectional: query stab = max of its row of u; key stab = max over all real keys and features
 *     of the head; ε = cfg.eps (default 1e-4). Closed form KV = φ(K)ᵀV (core/linattn.c).
 *   Causal (§32): ε = 0 in the features; key j is stabilised by the running max
 *     g_j = max_{t ≤ j} (max_f u_t[f] − ‖c k_t‖²/2) and query i by max_f u_i[f] − ‖c q_i‖²/2, so
 *     every feature is ≤ m^{-1/2} and both a query's largest feature and the running-max key's
 *     largest one are exactly m^{-1/2} (XB_FAVOR_ROW_H / XB_FAVOR_RUNNING). Query i weighs key
 *     j ≤ i by e^{g_j − g_i} ≤ 1, i.e. all keys it sees share the scale e^{−g_i} (the prefix sums
 *     are rescaled whenever the max grows, as in an online softmax). In the chunked form
 *     (core/linattn.c, C = cfg.chunk) the intra-chunk matrix is tril(ΦqΦkᵀ) ⊙ e^{g_j − g_i} and
 *     the carried state is kept relative to g at the previous chunk's last row, so every factor
 *     applied to output t uses g_{≤t} only: output t depends on tokens ≤ t bit for bit.
 *     DEVIATION (denominator floor): o_i = φq_iᵀS_i / (φq_i·z_i + δ), δ = XB_FAVOR_DEN_FLOOR = 1e-20
 *     in the units above (used identically by forward, backward and the reference). Why: the
 *     stabilisers bound each factor but not the sum φq_i·z_i, which underflows when the query's
 *     large features meet only tiny key features (sharp kernels, large ‖q‖, ‖k‖). Measured on MQAR
 *     L=64 (d_h = m = 64) with the old stabilisers (max u only, so the largest feature was e^{−h}
 *     with h up to ~20): den fell to 1e-41 (denormal), 1/den overflowed to inf in backward and the
 *     run diverged at step 344; den was 1e-23..1e-38 for hundreds of steps before (half the float
 *     bits gone). Since φ ≥ 0, num_i is a non-negative combination of the v_j with total weight
 *     den_i, so |o_i| ≤ den_i/(den_i + δ)·max|v| stays bounded, dnum ≤ do/δ stays finite, and the
 *     chain through φ (du = dφ ⊙ f) stays bounded too. For den ≫ δ (every ordinary case: den
 *     ≥ 1e-10 gives a relative change ≤ 1e-10) this is the exact stabiliser-invariant function;
 *     for den ≲ δ the query attends to (almost) nothing and o_i → 0 instead of 0/0.
 *
 * The three input projections are one product (core/proj.c).
 *
 * saved for the batch (floats, R = B·N): Q | K | V interleaved [R × 3d], O [R × d]; φQ, φK
 *   [R × h·m]; den, g [B × h × N]; state records [B × h × nstate × (m·d_h + m)] (causal: S_{c−1},
 *   z_{c−1} per chunk; bidir: KV, z). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/gemm.h"
#include "core/linattn.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/xb.h"

enum { OPT_FEATURES, OPT_CHUNK, OPT_EPS };
static const xb_mixer_opt performer_opts[] = {
    [OPT_FEATURES] = {.name = "features", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                      .help = "random features m"},
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size C of the chunked causal form"},
    [OPT_EPS] = {.name = "eps", .type = XB_OPT_FLOAT, .min = 0, .max = 1000, .def = 1e-4,
                 .help = "feature-map epsilon, >= 0 (bidirectional; causal uses 0)"},
};

static void performer_defaults(xb_mixer_cfg *c)
{
    if (c->heads <= 0) c->heads = 4;
}

static int performer_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d = %d, got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    return XB_OK;
}

static int performer_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    static const char *names[4] = {"W_Q", "W_K", "W_V", "W_O"};
    size_t dd = (size_t)c->d * c->d;
    if (out) {
        for (int i = 0; i < 4; i++) out[i] = (xb_tensor){names[i], (size_t)i * dd, c->d, c->d, XB_T_DECAY};
        out[4] = (xb_tensor){"W_rf", 4 * dd, xb_cfg_int(c, OPT_FEATURES), c->d / c->heads, XB_T_FROZEN};
    }
    return 5;
}

/* W_rf [m × dh]: ⌈m/dh⌉ blocks, each the transposed Q of G = QR, G a Gaussian dh × dh matrix
 * (last block truncated), then row r scaled by ‖g_r‖ for independent Gaussian g_r ∈ R^dh.
 * QR by modified Gram–Schmidt (twice, in double) on G's columns: R_kk = ‖residual‖ > 0, so this Q
 * already satisfies the sign fix Q ← Q·diag(sign(diag R)) of §32 (the unique positive-diagonal QR). */
static void make_wrf(int m, int dh, float *wrf, xb_rng *rng)
{
    double *G = malloc((size_t)dh * dh * sizeof(double));
    XB_ASSERT(G);
    for (int r0 = 0; r0 < m; r0 += dh) {
        for (int i = 0; i < dh * dh; i++) G[i] = xb_rng_normal(rng);   /* G[i][k]: row i, column k */
        for (int k = 0; k < dh; k++) {
            for (int pass = 0; pass < 2; pass++)
                for (int p = 0; p < k; p++) {
                    double s = 0;
                    for (int i = 0; i < dh; i++) s += G[i * dh + p] * G[i * dh + k];
                    for (int i = 0; i < dh; i++) G[i * dh + k] -= s * G[i * dh + p];
                }
            double nrm = 0;
            for (int i = 0; i < dh; i++) nrm += G[i * dh + k] * G[i * dh + k];
            nrm = sqrt(nrm);
            XB_ASSERT(nrm > 0);
            for (int i = 0; i < dh; i++) G[i * dh + k] /= nrm;
        }
        for (int r = r0; r < m && r < r0 + dh; r++)        /* row r of W_rf = column r − r0 of Q */
            for (int i = 0; i < dh; i++) wrf[(size_t)r * dh + i] = (float)G[i * dh + (r - r0)];
    }
    for (int r = 0; r < m; r++) {
        double s = 0;
        for (int i = 0; i < dh; i++) { double z = xb_rng_normal(rng); s += z * z; }
        for (int i = 0; i < dh; i++) wrf[(size_t)r * dh + i] *= (float)sqrt(s);
    }
    free(G);
}

static void performer_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    for (int i = 0; i < 4; i++) xb_init_uniform(w + (size_t)i * c->d * c->d, c->d, c->d, rng);
    make_wrf(xb_cfg_int(c, OPT_FEATURES), c->d / c->heads, w + 4 * (size_t)c->d * c->d, rng);
}

static int n_state(const xb_mixer_cfg *c, int N) { return c->causal ? xb_linattn_nchunks(N, xb_cfg_int(c, OPT_CHUNK)) : 1; }

static size_t performer_n_saved(const xb_mixer_cfg *c, int N)
{
    int dh = c->d / c->heads, H = c->heads, m = xb_cfg_int(c, OPT_FEATURES);
    return 4 * (size_t)N * c->d + 2 * (size_t)N * H * m + 2 * (size_t)H * N +
           (size_t)H * n_state(c, N) * xb_linattn_state_floats(m, dh);
}

/* Scratch: backward's dY masked, dO, dQKV [R × 3d], dφQ, dφK; then the packed W_Q|W_K|W_V and its
 * gradient (forward and backward); then per-thread kernel work. */
typedef struct scr { float *dym, *dO, *dqkv, *dpq, *dpk, *wp, *dwp, *work; size_t ws; } scr;

static size_t scratch_plan(const xb_mixer_cfg *c, float *scratch, int B, int N, scr *b)
{
    const size_t bnd = (size_t)B * N * c->d, bnf = (size_t)B * N * c->heads * xb_cfg_int(c, OPT_FEATURES);
    const size_t dd = (size_t)c->d * c->d;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->dym, bnd, XB_SCR_PACKED);
    XB_TAKE(&s, b->dO, bnd, XB_SCR_PACKED);
    XB_TAKE(&s, b->dqkv, 3 * bnd, XB_SCR_PACKED);
    XB_TAKE(&s, b->dpq, bnf, XB_SCR_PACKED);
    XB_TAKE(&s, b->dpk, bnf, XB_SCR_PACKED);
    XB_TAKE(&s, b->wp, 3 * dd, XB_SCR_64F);
    XB_TAKE(&s, b->dwp, 3 * dd, XB_SCR_64F);
    XB_TAKE_THREADS(&s, b->work, xb_linattn_work_floats(xb_cfg_int(c, OPT_FEATURES), c->d / c->heads, xb_cfg_int(c, OPT_CHUNK)), XB_SCR_64F,
                    &b->ws);
    return xb_scratch_floats(&s);
}

static size_t performer_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    scr b;
    return scratch_plan(c, NULL, B, N, &b);
}

/* Saved regions for the whole batch (R = B·N): QKV [R × 3d] (Q | K | V in each row), O [R × d],
 * φQ, φK [R × h·m], den, g [B × h × N], state records [B × h × nstate × (m·d_h + m)]. */
typedef struct perf_saved { float *qkv, *o, *pq, *pk, *den, *g, *state; } perf_saved;

static perf_saved get_saved(const xb_mixer_cfg *c, const float *saved, int B, int N)
{
    size_t R = (size_t)B * N, rd = R * c->d, rf = R * c->heads * xb_cfg_int(c, OPT_FEATURES), hn = (size_t)B * c->heads * N;
    float *s = (float *)saved;
    perf_saved r = {s, s + 3 * rd, s + 4 * rd, s + 4 * rd + rf, s + 4 * rd + 2 * rf, s + 4 * rd + 2 * rf + hn,
                    s + 4 * rd + 2 * rf + 2 * hn};
    return r;
}

static xb_proj qkv_proj(const xb_mixer_cfg *c, const float *w, float *wp)
{
    const int cols[3] = {c->d, c->d, c->d};
    const size_t dd = (size_t)c->d * c->d;
    const float *ws[3] = {w, w + dd, w + 2 * dd};
    xb_proj p = xb_proj_make(c->d, 3, cols);
    xb_proj_pack(&p, ws, wp);
    return p;
}

/* Y[B×N×d] = performer attention of X. Overwrites y and saved. */
static void performer_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                              float *y, float *saved, float *scratch, int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, m = xb_cfg_int(c, OPT_FEATURES), hm = H * m, C = xb_cfg_int(c, OPT_CHUNK), ld = 3 * d;
    const size_t dd = (size_t)d * d, nd = (size_t)N * d, nf = (size_t)N * hm;
    const size_t sf = xb_linattn_state_floats(m, dh), ns = (size_t)n_state(c, N) * sf;
    const float *wrf = w + 4 * dd;
    const float eps = c->causal ? 0.0f : xb_cfg_float(c, OPT_EPS);
    scr sc;
    scratch_plan(c, scratch, B, N, &sc);
    float *wp = sc.wp, *work = sc.work;
    const size_t ws = sc.ws;
    perf_saved s = get_saved(c, saved, B, N);
    xb_proj p = qkv_proj(c, w, wp);
    xb_proj_forward(&p, B * N, x, d, wp, s.qkv, 3 * d, NULL, NULL, NULL);
    const int nt = xb_max_threads();
    #pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++)
        for (int hd = 0; hd < H; hd++) {
            int n = xb_len(len, b, N), off = hd * dh;
            const float *q = s.qkv + b * nd * 3 + off, *k = q + d, *v = q + 2 * d;
            float *o = s.o + b * nd + off;
            float *wk = work + (size_t)xb_thread_id() * ws;
            float *pq = s.pq + b * nf + (size_t)hd * m, *pk = s.pk + b * nf + (size_t)hd * m;
            float *den = s.den + ((size_t)b * H + hd) * N, *g = s.g + ((size_t)b * H + hd) * N;
            float *st = s.state + ((size_t)b * H + hd) * ns;
            if (c->causal) {
                xb_favor_forward(n, dh, m, q, ld, wrf, XB_FAVOR_ROW_H, 0.0f, pq, hm, NULL);
                xb_favor_forward(n, dh, m, k, ld, wrf, XB_FAVOR_RUNNING, 0.0f, pk, hm, g);
                xb_linattn_causal_forward(n, m, dh, C, pq, pk, hm, v, ld, g, XB_FAVOR_DEN_FLOOR, o, d, den, st, wk);
            } else {
                xb_favor_forward(n, dh, m, q, ld, wrf, XB_FAVOR_ROW, eps, pq, hm, NULL);
                xb_favor_forward(n, dh, m, k, ld, wrf, XB_FAVOR_ALL, eps, pk, hm, NULL);
                xb_linattn_bidir_forward(n, m, dh, pq, pk, hm, v, ld, 0.0f, o, d, den, st);
            }
            for (int t = n; t < N; t++) {
                memset(o + (size_t)t * d, 0, (size_t)dh * sizeof(float));
                memset(pq + (size_t)t * hm, 0, (size_t)m * sizeof(float));
                memset(pk + (size_t)t * hm, 0, (size_t)m * sizeof(float));
                den[t] = 1.0f;
                g[t] = 0.0f;
            }
        }
    xb_proj_matmul(B * N, d, d, s.o, d, w + 3 * dd, y);   /* Y = O W_O */
}

/* dx overwritten, dw += (W_rf is frozen: its gradient slot is left untouched). */
static void performer_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                               const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                               int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, m = xb_cfg_int(c, OPT_FEATURES), hm = H * m, C = xb_cfg_int(c, OPT_CHUNK), ld = 3 * d;
    const size_t dd = (size_t)d * d, nd = (size_t)N * d;
    const size_t nf = (size_t)N * hm, sf = xb_linattn_state_floats(m, dh);
    const size_t ns = (size_t)n_state(c, N) * sf;
    const float *wrf = w + 4 * dd;
    const float eps = c->causal ? 0.0f : xb_cfg_float(c, OPT_EPS);
    scr sc;
    scratch_plan(c, scratch, B, N, &sc);
    float *dym = sc.dym, *dO = sc.dO, *dqkv = sc.dqkv, *dpq = sc.dpq, *dpk = sc.dpk;
    float *wp = sc.wp, *dwp = sc.dwp, *work = sc.work;
    const size_t ws = sc.ws;
    perf_saved s = get_saved(c, saved, B, N);
    for (int b = 0; b < B; b++) {  /* pad rows of dy count as 0 */
        int n = xb_len(len, b, N);
        memcpy(dym + b * nd, dy + b * nd, (size_t)n * d * sizeof(float));
        memset(dym + b * nd + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
    }
    xb_gemm(1, 0, d, d, B * N, 1.0f, s.o, d, dym, d, 1.0f, dw + 3 * dd, d);
    xb_gemm(0, 1, B * N, d, d, 1.0f, dym, d, w + 3 * dd, d, 0.0f, dO, d);
    const int nt = xb_max_threads();
    #pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++)
        for (int hd = 0; hd < H; hd++) {
            int n = xb_len(len, b, N), off = hd * dh;
            const float *q = s.qkv + b * nd * 3 + off, *k = q + d, *v = q + 2 * d, *o = s.o + b * nd + off;
            float *wk = work + (size_t)xb_thread_id() * ws;
            const float *pq = s.pq + b * nf + (size_t)hd * m, *pk = s.pk + b * nf + (size_t)hd * m;
            const float *den = s.den + ((size_t)b * H + hd) * N, *st = s.state + ((size_t)b * H + hd) * ns;
            float *gq = dpq + b * nf + (size_t)hd * m, *gk = dpk + b * nf + (size_t)hd * m;
            float *dq = dqkv + b * nd * 3 + off, *dk = dq + d, *dv = dq + 2 * d;
            if (c->causal)
                xb_linattn_causal_backward(n, m, dh, C, pq, pk, hm, v, ld, s.g + ((size_t)b * H + hd) * N,
                                           o, d, den, st, dO + b * nd + off, d, gq, gk, dv, ld, wk);
            else
                xb_linattn_bidir_backward(n, m, dh, C, pq, pk, hm, v, ld, o, d, den, st,
                                          dO + b * nd + off, d, gq, gk, dv, ld, wk);
            xb_favor_backward(n, dh, m, q, ld, wrf, eps, pq, hm, gq, hm, dq, ld);
            xb_favor_backward(n, dh, m, k, ld, wrf, eps, pk, hm, gk, hm, dk, ld);
            for (int t = n; t < N; t++) {
                memset(dq + (size_t)t * ld, 0, (size_t)dh * sizeof(float));
                memset(dk + (size_t)t * ld, 0, (size_t)dh * sizeof(float));
                memset(dv + (size_t)t * ld, 0, (size_t)dh * sizeof(float));
            }
        }
    xb_proj p = qkv_proj(c, w, wp);
    float *dws[3] = {dw, dw + dd, dw + 2 * dd};
    xb_proj_backward(&p, B * N, x, d, wp, dqkv, dws, dwp, 0.0f, dx);
}

/* §8: F_main = 8Nd² + 8Nmd + 4Nmh, F_elem = 2Nmh (exp) + Nd (division). Causal runs the chunked
 * form of §9 with φ features: add the unmasked intra-chunk products ΦqΦkᵀ (2·C·m per token per
 * head) and tril(·)V (2·C·d_h per token per head) = 2NC(m·h + d). */
static double performer_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, m = xb_cfg_int(c, OPT_FEATURES), h = c->heads;
    double f = 8 * n * d * d + 8 * n * m * d + 4 * n * m * h + 2 * n * m * h + n * d;
    if (c->causal) f += 2 * n * xb_cfg_int(c, OPT_CHUNK) * (m * h + d);
    return f;
}

/* Naive double forward: explicit projections and features (same W_rf), quadratic form. */
static void performer_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                                double *y, int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, m = xb_cfg_int(c, OPT_FEATURES);
    const size_t dd = (size_t)d * d;
    const float *wrf = w + 4 * dd;
    const double cc = pow(dh, -0.25), ratio = 1 / sqrt((double)m), eps = c->causal ? 0.0 : xb_cfg_float(c, OPT_EPS);
    double *q = calloc((size_t)N * d, sizeof(double)), *k = calloc((size_t)N * d, sizeof(double)),
           *v = calloc((size_t)N * d, sizeof(double)), *o = calloc((size_t)N * d, sizeof(double)),
           *uq = calloc((size_t)N * m, sizeof(double)), *uk = calloc((size_t)N * m, sizeof(double)),
           *hq = calloc((size_t)N, sizeof(double)), *hk = calloc((size_t)N, sizeof(double)),
           *rmk = calloc((size_t)N, sizeof(double)), *fq = calloc((size_t)m, sizeof(double));
    XB_ASSERT(q && k && v && o && uq && uk && hq && hk && rmk && fq);
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++)
            for (int j = 0; j < d; j++) {
                double sq = 0, sk = 0, sv = 0;
                for (int i = 0; i < d; i++) {
                    double xi = xb[(size_t)t * d + i];
                    sq += xi * w[i * d + j]; sk += xi * w[dd + i * d + j]; sv += xi * w[2 * dd + i * d + j];
                }
                q[(size_t)t * d + j] = sq; k[(size_t)t * d + j] = sk; v[(size_t)t * d + j] = sv;
            }
        for (int hd = 0; hd < H; hd++) {
            double kmax = -INFINITY;
            for (int t = 0; t < n; t++) {
                hq[t] = hk[t] = 0;
                rmk[t] = -INFINITY;
                for (int e = 0; e < dh; e++) {
                    double a = cc * q[(size_t)t * d + hd * dh + e], bb = cc * k[(size_t)t * d + hd * dh + e];
                    hq[t] += a * a / 2; hk[t] += bb * bb / 2;
                }
                for (int f = 0; f < m; f++) {
                    double a = 0, bb = 0;
                    for (int e = 0; e < dh; e++) {
                        a += wrf[(size_t)f * dh + e] * cc * q[(size_t)t * d + hd * dh + e];
                        bb += wrf[(size_t)f * dh + e] * cc * k[(size_t)t * d + hd * dh + e];
                    }
                    uq[(size_t)t * m + f] = a; uk[(size_t)t * m + f] = bb;
                    if (bb > rmk[t]) rmk[t] = bb;
                }
                if (c->causal) rmk[t] -= hk[t];        /* causal key stabiliser includes ‖ck‖²/2 */
                if (rmk[t] > kmax) kmax = rmk[t];
            }
            for (int i = 0; i < n; i++) {
                double qs = -INFINITY;
                for (int f = 0; f < m; f++) qs = fmax(qs, uq[(size_t)i * m + f]);
                if (c->causal) qs -= hq[i];            /* causal: largest query feature e^0 */
                for (int f = 0; f < m; f++) fq[f] = ratio * (exp(uq[(size_t)i * m + f] - hq[i] - qs) + eps);
                int last = c->causal ? i : n - 1;
                double ks = kmax;                      /* bidir: max over all real keys */
                if (c->causal) {                       /* causal: max over keys ≤ i */
                    ks = -INFINITY;
                    for (int j = 0; j <= i; j++) ks = fmax(ks, rmk[j]);
                }
                double den = 0, num[512];
                XB_ASSERT(dh <= 512);
                for (int e = 0; e < dh; e++) num[e] = 0;
                for (int j = 0; j <= last; j++) {
                    double a = 0;
                    for (int f = 0; f < m; f++) a += fq[f] * ratio * (exp(uk[(size_t)j * m + f] - hk[j] - ks) + eps);
                    den += a;
                    for (int e = 0; e < dh; e++) num[e] += a * v[(size_t)j * d + hd * dh + e];
                }
                if (c->causal) den += XB_FAVOR_DEN_FLOOR;   /* the causal floor δ (see the top) */
                for (int e = 0; e < dh; e++) o[(size_t)i * d + hd * dh + e] = num[e] / den;
            }
        }
        for (int t = 0; t < N; t++)
            for (int j = 0; j < d; j++) {
                double s = 0;
                if (t < n)
                    for (int i = 0; i < d; i++) s += o[(size_t)t * d + i] * w[3 * dd + i * d + j];
                y[((size_t)b * N + t) * d + j] = s;
            }
    }
    free(q); free(k); free(v); free(o); free(uq); free(uk); free(hq); free(hk); free(rmk); free(fq);
}

/* ---- decode (causal): per head the running key stabiliser g, S [m × d_h] and z [m], both
 * kept relative to e^{−g} and rescaled when g grows, as the causal forward's prefix sums are ---- */

static size_t performer_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    const size_t dh = (size_t)(c->d / c->heads), m = (size_t)xb_cfg_int(c, OPT_FEATURES);
    return (size_t)c->heads * (1 + m * dh + m);
}

/* q, k, v, o rows [d]; one head's W_rf (c q) and W_rf (c k) [m] */
typedef struct dscr { float *q, *k, *v, *o, *uq, *uk; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    const size_t d = (size_t)c->d, m = (size_t)xb_cfg_int(c, OPT_FEATURES);
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->q, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->k, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->v, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, d, XB_SCR_PACKED);
    XB_TAKE(&s, b->uq, m, XB_SCR_PACKED);
    XB_TAKE(&s, b->uk, m, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t performer_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

static void performer_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x,
                                  int t, float *state, float *y, float *scratch)
{
    (void)n_max;
    const int d = c->d, H = c->heads, dh = d / H, m = xb_cfg_int(c, OPT_FEATURES);
    const size_t dd = (size_t)d * d;
    const float *wrf = w + 4 * dd;
    const float cc = powf((float)dh, -0.25f), ratio = 1 / sqrtf((float)m);
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *q = sc.q, *k = sc.k, *v = sc.v, *o = sc.o, *uq = sc.uq, *uk = sc.uk;
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w, d, 0.0f, q, d);
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + dd, d, 0.0f, k, d);
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + 2 * dd, d, 0.0f, v, d);
    for (int hd = 0; hd < H; hd++) {
        float *g = state + (size_t)hd * (1 + (size_t)m * dh + m), *S = g + 1, *z = S + (size_t)m * dh;
        const float *qh = q + hd * dh, *kh = k + hd * dh, *vh = v + hd * dh;
        float hq = 0, hk = 0, qs = -INFINITY, rmk = -INFINITY;
        for (int e = 0; e < dh; e++) { hq += cc * qh[e] * cc * qh[e] / 2; hk += cc * kh[e] * cc * kh[e] / 2; }
        for (int f = 0; f < m; f++) {
            float a = 0, b = 0;
            for (int e = 0; e < dh; e++) { a += wrf[(size_t)f * dh + e] * cc * qh[e]; b += wrf[(size_t)f * dh + e] * cc * kh[e]; }
            uq[f] = a; uk[f] = b;
            qs = fmaxf(qs, a); rmk = fmaxf(rmk, b);
        }
        qs -= hq; rmk -= hk;
        const float gn = t == 0 || rmk > *g ? rmk : *g;
        if (t > 0 && gn > *g) {   /* the max grew: everything summed so far shrinks by e^{g − g'} */
            const float r = expf(*g - gn);
            for (size_t i = 0; i < (size_t)m * dh; i++) S[i] *= r;
            for (int f = 0; f < m; f++) z[f] *= r;
        }
        *g = gn;
        float den = 0;
        for (int e = 0; e < dh; e++) o[hd * dh + e] = 0;
        for (int f = 0; f < m; f++) {
            const float pk = ratio * expf(uk[f] - hk - gn), pq = ratio * expf(uq[f] - hq - qs);
            z[f] += pk;
            den += pq * z[f];
            float *Sf = S + (size_t)f * dh;
            for (int e = 0; e < dh; e++) {
                Sf[e] += pk * vh[e];
                o[hd * dh + e] += pq * Sf[e];
            }
        }
        den += XB_FAVOR_DEN_FLOOR;
        for (int e = 0; e < dh; e++) o[hd * dh + e] /= den;
    }
    xb_gemm(0, 0, 1, d, d, 1.0f, o, d, w + 3 * dd, d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static const char *performer_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    return strcmp(t->name, "W_rf") ? NULL : "(m, d_h) row-major: random feature f = row f, applied to each head's d_h slice";
}

static void performer_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_real(f, "eps", c->causal ? 0.0f : xb_cfg_float(c, OPT_EPS));
    xb_fact_text(f, "eps_rule", "bidirectional: option eps (default 1e-4); causal: 0");
    xb_fact_int(f, "features", xb_cfg_int(c, OPT_FEATURES));
    xb_fact_text(f, "W_rf", "fixed buffer [m, d_h] shared by the heads, drawn once at init: orthogonal blocks from "
                            "QR of a Gaussian with the sign fix Q <- Q diag(sign(diag R)), rows scaled by the norm "
                            "of an independent Gaussian vector of length d_h; never trained");
    xb_fact_text(f, "stabilisers", "%s", c->causal ? "stop-gradient; keys: running max over positions <= t with prefix "
                                                     "sums rescaled when it grows; queries: per-query max over features"
                                                   : "stop-gradient; keys: max over all keys and features of the head; "
                                                     "queries: per-query max over features");
}

const xb_mixer xb_mixer_performer = {
    .name = "performer",
    .family = "linear attention",
    .cite = "Choromanski et al. 2021, Rethinking Attention with Performers",
    .complexity = "N",
    XB_OPTS(performer_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = performer_defaults,
    .check = performer_check,
    .tensors = performer_tensors,
    .init = performer_init,
    .n_saved = performer_n_saved,
    .n_scratch = performer_n_scratch,
    .forward = performer_forward,
    .backward = performer_backward,
    .flops = performer_flops,
    .reference = performer_reference,
    .decode_state = performer_decode_state,
    .decode_scratch = performer_decode_scratch,
    .decode_step = performer_decode_step,
    .layout = performer_layout,
    .facts = performer_facts,
};
