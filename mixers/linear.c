/* mixers/linear.c — Linear Transformer (Katharopoulos et al. 2020), MIXERS.md §9:
 * φ(x) = elu(x) + 1, o_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / (φ(q_i)·Σ_j φ(k_j) + ε), ε = 1e-6,
 * standard projections W_Q, W_K, W_V, W_O (§0.2), h heads of d_h = d/h (no 1/√d_h scaling).
 * Bidirectional: closed form KV = φ(K)ᵀV per head. Causal: chunked form (chunk C, default 64)
 * with one state checkpoint per chunk. The kernels live in core/linattn.c (shared with performer).
 *
 * saved per sequence (floats): φQ, φK, V, O [N × d] each, den [h × N], state records
 *   [h × nchunks × (d_h² + d_h)] (causal: S_{c−1}, z_{c−1} per chunk; bidir: nchunks = 1, KV and z). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/gemm.h"
#include "core/linattn.h"
#include "core/mixer.h"
#include "core/xb.h"

#define LIN_EPS 1e-6f

static void linear_defaults(xb_mixer_cfg *c)
{
    if (c->heads <= 0) c->heads = 4;
    if (c->chunk <= 0) c->chunk = 64;
}

static int linear_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d = %d, got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (c->chunk < 1) {
        snprintf(err, errn, "chunk: must be >= 1, got %d", c->chunk);
        return XB_EINVAL;
    }
    return XB_OK;
}

static int linear_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    static const char *names[4] = {"W_Q", "W_K", "W_V", "W_O"};
    size_t dd = (size_t)c->d * c->d;
    if (out)
        for (int i = 0; i < 4; i++)
            out[i] = (xb_tensor){names[i], (size_t)i * dd, c->d, c->d, XB_T_DECAY};
    return 4;
}

static void linear_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    for (int i = 0; i < 4; i++) xb_init_uniform(w + (size_t)i * c->d * c->d, c->d, c->d, rng);
}

static int n_state(const xb_mixer_cfg *c, int N) { return c->causal ? xb_linattn_nchunks(N, c->chunk) : 1; }

static size_t linear_n_saved(const xb_mixer_cfg *c, int N)
{
    int dh = c->d / c->heads;
    return 4 * (size_t)N * c->d + (size_t)c->heads * N +
           (size_t)c->heads * n_state(c, N) * xb_linattn_state_floats(dh, dh);
}

static size_t linear_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    int dh = c->d / c->heads;
    size_t bnd = (size_t)B * N * c->d;
    /* backward: dY masked, dO, dφQ, dφK, dV (dQ, dK overwrite dφQ, dφK); then per-thread work */
    return xb_align64(5 * bnd) + (size_t)xb_max_threads() * xb_align64(xb_linattn_work_floats(dh, dh, c->chunk) * 4) / 4;
}

/* Pointers into one sequence's saved record. */
typedef struct lin_saved { float *pq, *pk, *v, *o, *den, *state; } lin_saved;

static lin_saved saved_at(const xb_mixer_cfg *c, float *saved, int b, int N)
{
    size_t nd = (size_t)N * c->d;
    float *s = saved + (size_t)b * linear_n_saved(c, N);
    lin_saved r = {s, s + nd, s + 2 * nd, s + 3 * nd, s + 4 * nd, s + 4 * nd + (size_t)c->heads * N};
    return r;
}

/* Y[B×N×d] = linear attention of X. Overwrites y, saved. */
static void linear_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           float *y, float *saved, float *scratch, int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, C = c->chunk;
    const size_t dd = (size_t)d * d, bnd = (size_t)B * N * d;
    const size_t wsz = xb_align64(xb_linattn_work_floats(dh, dh, C) * 4) / 4;
    const size_t sf = xb_linattn_state_floats(dh, dh);
    float *work = scratch + xb_align64(5 * bnd);
    for (int b = 0; b < B; b++) {  /* Q, K, V straight into the saved record; φ in place */
        lin_saved s = saved_at(c, saved, b, N);
        xb_qkv_forward(N, d, x + (size_t)b * N * d, w, w + dd, w + 2 * dd, s.pq, s.pk, s.v);
        xb_elu1_forward((size_t)N * d, s.pq, s.pq);
        xb_elu1_forward((size_t)N * d, s.pk, s.pk);
    }
    const int nt = xb_max_threads();
    #pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++)
        for (int hd = 0; hd < H; hd++) {
            lin_saved s = saved_at(c, saved, b, N);
            int n = xb_len(len, b, N), off = hd * dh;
            float *wk = work + (size_t)xb_thread_id() * wsz;
            float *den = s.den + (size_t)hd * N, *st = s.state + (size_t)hd * n_state(c, N) * sf;
            if (c->causal)
                xb_linattn_causal_forward(n, dh, dh, C, s.pq + off, s.pk + off, d, s.v + off, d, NULL,
                                          LIN_EPS, s.o + off, d, den, st, wk);
            else
                xb_linattn_bidir_forward(n, dh, dh, s.pq + off, s.pk + off, d, s.v + off, d, LIN_EPS,
                                         s.o + off, d, den, st);
            for (int t = n; t < N; t++) {
                memset(s.o + (size_t)t * d + off, 0, (size_t)dh * sizeof(float));
                den[t] = 1.0f;
            }
        }
    for (int b = 0; b < B; b++)  /* Y = O W_O, per sequence (O lives in each saved record) */
        xb_gemm(0, 0, N, d, d, 1.0f, saved_at(c, saved, b, N).o, d, w + 3 * dd, d, 0.0f,
                y + (size_t)b * N * d, d);
}

/* dx = ∂L/∂x (overwritten), dw += ∂L/∂w. */
static void linear_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                            int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, C = c->chunk;
    const size_t dd = (size_t)d * d, bnd = (size_t)B * N * d, nd = (size_t)N * d;
    const size_t wsz = xb_align64(xb_linattn_work_floats(dh, dh, C) * 4) / 4;
    const size_t sf = xb_linattn_state_floats(dh, dh);
    float *dym = scratch, *dO = scratch + bnd, *dpq = scratch + 2 * bnd, *dpk = scratch + 3 * bnd,
          *dV = scratch + 4 * bnd, *work = scratch + xb_align64(5 * bnd);
    for (int b = 0; b < B; b++) {  /* pad rows of dy count as 0 */
        int n = xb_len(len, b, N);
        memcpy(dym + b * nd, dy + b * nd, (size_t)n * d * sizeof(float));
        memset(dym + b * nd + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
    }
    for (int b = 0; b < B; b++) {  /* dW_O += Oᵀ dY, dO = dY W_Oᵀ */
        const float *O = saved_at(c, (float *)saved, b, N).o;
        xb_gemm(1, 0, d, d, N, 1.0f, O, d, dym + b * nd, d, 1.0f, dw + 3 * dd, d);
    }
    xb_gemm(0, 1, B * N, d, d, 1.0f, dym, d, w + 3 * dd, d, 0.0f, dO, d);
    const int nt = xb_max_threads();
    #pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++)
        for (int hd = 0; hd < H; hd++) {
            lin_saved s = saved_at(c, (float *)saved, b, N);
            int n = xb_len(len, b, N), off = hd * dh;
            float *wk = work + (size_t)xb_thread_id() * wsz;
            const float *den = s.den + (size_t)hd * N, *st = s.state + (size_t)hd * n_state(c, N) * sf;
            float *q = dpq + b * nd + off, *k = dpk + b * nd + off, *v = dV + b * nd + off;
            if (c->causal)
                xb_linattn_causal_backward(n, dh, dh, C, s.pq + off, s.pk + off, d, s.v + off, d, NULL,
                                           s.o + off, d, den, st, dO + b * nd + off, d, q, k, v, d, wk);
            else
                xb_linattn_bidir_backward(n, dh, dh, C, s.pq + off, s.pk + off, d, s.v + off, d,
                                          s.o + off, d, den, st, dO + b * nd + off, d, q, k, v, d, wk);
            for (int t = 0; t < n; t++) {  /* through φ = elu+1, in place */
                xb_elu1_backward((size_t)dh, s.pq + (size_t)t * d + off, q + (size_t)t * d, q + (size_t)t * d);
                xb_elu1_backward((size_t)dh, s.pk + (size_t)t * d + off, k + (size_t)t * d, k + (size_t)t * d);
            }
            for (int t = n; t < N; t++) {
                memset(q + (size_t)t * d, 0, (size_t)dh * sizeof(float));
                memset(k + (size_t)t * d, 0, (size_t)dh * sizeof(float));
                memset(v + (size_t)t * d, 0, (size_t)dh * sizeof(float));
            }
        }
    xb_qkv_backward(B * N, d, x, w, w + dd, w + 2 * dd, dpq, dpk, dV, dw, dw + dd, dw + 2 * dd, dx);
}

/* §9: bidirectional 8Nd² + 4N·d·d_h + 4Nd; causal chunked 8Nd² + 4NCd + 4Nd·d_h + 4Nd. */
static double linear_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, dh = (double)c->d / c->heads;
    double f = 8 * n * d * d + 4 * n * d * dh + 4 * n * d;
    if (c->causal) f += 4 * n * c->chunk * d;
    return f;
}

/* Naive double forward: explicit projections, elu+1, the O(N²) quadratic form. */
static void linear_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                             double *y, int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H;
    const size_t dd = (size_t)d * d;
    double *q = calloc((size_t)N * d, sizeof(double)), *k = calloc((size_t)N * d, sizeof(double)),
           *v = calloc((size_t)N * d, sizeof(double)), *o = calloc((size_t)N * d, sizeof(double));
    XB_ASSERT(q && k && v && o);
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
                q[(size_t)t * d + j] = sq > 0 ? sq + 1 : exp(sq);
                k[(size_t)t * d + j] = sk > 0 ? sk + 1 : exp(sk);
                v[(size_t)t * d + j] = sv;
            }
        for (int hd = 0; hd < H; hd++)
            for (int i = 0; i < n; i++) {
                double den = 0, num[512];
                XB_ASSERT(dh <= 512);
                for (int e = 0; e < dh; e++) num[e] = 0;
                int last = c->causal ? i : n - 1;
                for (int j = 0; j <= last; j++) {
                    double a = 0;
                    for (int e = 0; e < dh; e++) a += q[(size_t)i * d + hd * dh + e] * k[(size_t)j * d + hd * dh + e];
                    den += a;
                    for (int e = 0; e < dh; e++) num[e] += a * v[(size_t)j * d + hd * dh + e];
                }
                for (int e = 0; e < dh; e++) o[(size_t)i * d + hd * dh + e] = num[e] / (den + 1e-6);
            }
        for (int t = 0; t < N; t++)
            for (int j = 0; j < d; j++) {
                double s = 0;
                if (t < n)
                    for (int i = 0; i < d; i++) s += o[(size_t)t * d + i] * w[3 * dd + i * d + j];
                y[((size_t)b * N + t) * d + j] = s;
            }
    }
    free(q); free(k); free(v); free(o);
}

const xb_mixer xb_mixer_linear = {
    .name = "linear",
    .family = "linear attention",
    .cite = "Katharopoulos et al. 2020, Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention",
    .complexity = "N",
    .options = "chunk",
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = linear_defaults,
    .check = linear_check,
    .tensors = linear_tensors,
    .init = linear_init,
    .n_saved = linear_n_saved,
    .n_scratch = linear_n_scratch,
    .forward = linear_forward,
    .backward = linear_backward,
    .flops = linear_flops,
    .reference = linear_reference,
};
