/* mixers/linear.c — Linear Transformer (Katharopoulos et al. 2020), MIXERS.md §9:
 * φ(x) = elu(x) + 1, o_i = φ(q_i)ᵀ Σ_j φ(k_j) v_jᵀ / (φ(q_i)·Σ_j φ(k_j) + ε), ε = 1e-6,
 * standard projections W_Q, W_K, W_V, W_O (§0.2), h heads of d_h = d/h (no 1/√d_h scaling).
 * Bidirectional: closed form KV = φ(K)ᵀV per head. Causal: chunked form (chunk C, default 64)
 * with one state checkpoint per chunk. The kernels live in core/linattn.c (shared with performer).
 *
 * The three input projections are one product (core/proj.c) with φ applied to each row block
 * while it is in cache.
 *
 * saved for the batch (floats): φQ | φK | V interleaved [R × 3d], O [R × d], den [B × h × N], state
 *   records [B × h × nchunks × (d_h² + d_h)] (causal: S_{c−1}, z_{c−1} per chunk; bidir: nchunks = 1,
 *   KV and z), R = B·N. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/gemm.h"
#include "core/linattn.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/xb.h"

#define LIN_EPS 1e-6f

enum { OPT_CHUNK };
static const xb_mixer_opt linear_opts[] = {
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size C of the chunked causal form"},
};

static void linear_defaults(xb_mixer_cfg *c)
{
    if (c->heads <= 0) c->heads = 4;
}

static int linear_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d = %d, got %d", c->d, c->heads);
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

static int n_state(const xb_mixer_cfg *c, int N) { return c->causal ? xb_linattn_nchunks(N, xb_cfg_int(c, OPT_CHUNK)) : 1; }

static size_t linear_n_saved(const xb_mixer_cfg *c, int N)
{
    int dh = c->d / c->heads;
    return 4 * (size_t)N * c->d + (size_t)c->heads * N +
           (size_t)c->heads * n_state(c, N) * xb_linattn_state_floats(dh, dh);
}

static xb_proj qkv_proj(const xb_mixer_cfg *c)
{
    const int cols[3] = {c->d, c->d, c->d};
    return xb_proj_make(c->d, 3, cols);
}

/* Scratch: backward's dY masked, dO [R × d], dQKV [R × 3d]; the packed W_Q|W_K|W_V (forward
 * too) and its gradient; per-thread kernel work (forward too). */
typedef struct scr { float *dym, *dO, *dqkv, *wp, *dwp, *work; size_t wsz; } scr;

static size_t scratch_plan(const xb_mixer_cfg *c, float *scratch, int B, int N, scr *b)
{
    const int dh = c->d / c->heads;
    const size_t bnd = (size_t)B * N * c->d, dd = (size_t)c->d * c->d;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->dym, bnd, XB_SCR_PACKED);
    XB_TAKE(&s, b->dO, bnd, XB_SCR_PACKED);
    XB_TAKE(&s, b->dqkv, 3 * bnd, XB_SCR_PACKED);
    XB_TAKE(&s, b->wp, 3 * dd, XB_SCR_64F);
    XB_TAKE(&s, b->dwp, 3 * dd, XB_SCR_64F);
    xb_scratch_align(&s, XB_SCR_64F);
    XB_TAKE_THREADS(&s, b->work, xb_linattn_work_floats(dh, dh, xb_cfg_int(c, OPT_CHUNK)), XB_SCR_LINE, &b->wsz);
    return xb_scratch_floats(&s);
}

static size_t linear_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    scr b;
    return scratch_plan(c, NULL, B, N, &b);
}

/* Saved regions for the whole batch: QKV [R × 3d] (φQ | φK | V in each row), O [R × d], den
 * [B × h × N], state records [B × h × nstate × (d_h² + d_h)]. */
typedef struct lin_saved { float *qkv, *o, *den, *state; } lin_saved;

static lin_saved get_saved(const xb_mixer_cfg *c, const float *saved, int B, int N)
{
    size_t R = (size_t)B * N;
    float *s = (float *)saved;
    lin_saved r = {s, s + 3 * R * c->d, s + 4 * R * c->d, s + 4 * R * c->d + (size_t)B * c->heads * N};
    return r;
}

/* φ = elu + 1 on the Q and K columns of a block of projected rows, while it is in cache. */
static void phi_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    (void)r0;
    const int d = *(const int *)arg;
    for (int i = 0; i < rows; i++) xb_elu1_forward(2 * (size_t)d, y + (size_t)i * ldy, y + (size_t)i * ldy);
}

static void pack_qkv(const xb_proj *p, const float *w, float *wp)
{
    const size_t dd = (size_t)p->d * p->d;
    const float *ws[3] = {w, w + dd, w + 2 * dd};
    xb_proj_pack(p, ws, wp);
}

/* Y[B×N×d] = linear attention of X. Overwrites y, saved. */
static void linear_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           float *y, float *saved, float *scratch, int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, C = xb_cfg_int(c, OPT_CHUNK), ld = 3 * d;
    const size_t dd = (size_t)d * d;
    const size_t sf = xb_linattn_state_floats(dh, dh), ns = (size_t)n_state(c, N) * sf;
    scr sc;
    scratch_plan(c, scratch, B, N, &sc);
    float *wp = sc.wp, *work = sc.work;
    const size_t wsz = sc.wsz;
    lin_saved s = get_saved(c, saved, B, N);
    xb_proj p = qkv_proj(c);
    pack_qkv(&p, w, wp);
    int dcopy = d;
    xb_proj_forward(&p, B * N, x, d, wp, s.qkv, 3 * d, NULL, phi_epilogue, &dcopy);  /* φQ | φK | V */
    const int nt = xb_max_threads();
    #pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++)
        for (int hd = 0; hd < H; hd++) {
            int n = xb_len(len, b, N), off = hd * dh;
            const float *pq = s.qkv + (size_t)b * N * ld + off, *pk = pq + d, *v = pq + 2 * d;
            float *o = s.o + (size_t)b * N * d + off;
            float *wk = work + (size_t)xb_thread_id() * wsz;
            float *den = s.den + ((size_t)b * H + hd) * N, *st = s.state + ((size_t)b * H + hd) * ns;
            if (c->causal)
                xb_linattn_causal_forward(n, dh, dh, C, pq, pk, ld, v, ld, NULL, LIN_EPS, o, d, den, st, wk);
            else
                xb_linattn_bidir_forward(n, dh, dh, pq, pk, ld, v, ld, LIN_EPS, o, d, den, st);
            for (int t = n; t < N; t++) {
                memset(o + (size_t)t * d, 0, (size_t)dh * sizeof(float));
                den[t] = 1.0f;
            }
        }
    xb_proj_matmul(B * N, d, d, s.o, d, w + 3 * dd, y);   /* Y = O W_O */
}

/* dx = ∂L/∂x (overwritten), dw += ∂L/∂w. */
static void linear_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                            int B, int N)
{
    const int d = c->d, H = c->heads, dh = d / H, C = xb_cfg_int(c, OPT_CHUNK), ld = 3 * d;
    const size_t dd = (size_t)d * d, nd = (size_t)N * d;
    const size_t sf = xb_linattn_state_floats(dh, dh), ns = (size_t)n_state(c, N) * sf;
    scr sc;
    scratch_plan(c, scratch, B, N, &sc);
    float *dym = sc.dym, *dO = sc.dO, *dqkv = sc.dqkv, *wp = sc.wp, *dwp = sc.dwp, *work = sc.work;
    const size_t wsz = sc.wsz;
    lin_saved s = get_saved(c, saved, B, N);
    for (int b = 0; b < B; b++) {  /* pad rows of dy count as 0 */
        int n = xb_len(len, b, N);
        memcpy(dym + b * nd, dy + b * nd, (size_t)n * d * sizeof(float));
        memset(dym + b * nd + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
    }
    xb_gemm(1, 0, d, d, B * N, 1.0f, s.o, d, dym, d, 1.0f, dw + 3 * dd, d);   /* dW_O += Oᵀ dY */
    xb_gemm(0, 1, B * N, d, d, 1.0f, dym, d, w + 3 * dd, d, 0.0f, dO, d);     /* dO = dY W_Oᵀ */
    const int nt = xb_max_threads();
    #pragma omp parallel for collapse(2) schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++)
        for (int hd = 0; hd < H; hd++) {
            int n = xb_len(len, b, N), off = hd * dh;
            const float *pq = s.qkv + (size_t)b * N * ld + off, *pk = pq + d, *v = pq + 2 * d;
            const float *o = s.o + b * nd + off;
            float *wk = work + (size_t)xb_thread_id() * wsz;
            const float *den = s.den + ((size_t)b * H + hd) * N, *st = s.state + ((size_t)b * H + hd) * ns;
            float *q = dqkv + (size_t)b * N * ld + off, *k = q + d, *dv = q + 2 * d;
            if (c->causal)
                xb_linattn_causal_backward(n, dh, dh, C, pq, pk, ld, v, ld, NULL, o, d, den, st,
                                           dO + b * nd + off, d, q, k, dv, ld, wk);
            else
                xb_linattn_bidir_backward(n, dh, dh, C, pq, pk, ld, v, ld, o, d, den, st,
                                          dO + b * nd + off, d, q, k, dv, ld, wk);
            for (int t = 0; t < n; t++) {  /* through φ = elu+1, in place */
                size_t r = (size_t)t * ld;
                xb_elu1_backward((size_t)dh, pq + r, q + r, q + r);
                xb_elu1_backward((size_t)dh, pk + r, k + r, k + r);
            }
            for (int t = n; t < N; t++) {
                size_t r = (size_t)t * ld;
                memset(q + r, 0, (size_t)dh * sizeof(float));
                memset(k + r, 0, (size_t)dh * sizeof(float));
                memset(dv + r, 0, (size_t)dh * sizeof(float));
            }
        }
    xb_proj p = qkv_proj(c);
    pack_qkv(&p, w, wp);
    float *dws[3] = {dw, dw + dd, dw + 2 * dd};
    xb_proj_backward(&p, B * N, x, d, wp, dqkv, dws, dwp, 0.0f, dx);
}

/* §9: bidirectional 8Nd² + 4N·d·d_h + 4Nd; causal chunked 8Nd² + 4NCd + 4Nd·d_h + 4Nd. */
static double linear_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, dh = (double)c->d / c->heads;
    double f = 8 * n * d * d + 4 * n * d * dh + 4 * n * d;
    if (c->causal) f += 4 * n * xb_cfg_int(c, OPT_CHUNK) * d;
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

/* ---- decode: the recurrent form, S_h += φ(k) vᵀ, z_h += φ(k), o = φ(q)ᵀS_h / (φ(q)·z_h + ε) ---- */

static size_t linear_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    const size_t dh = (size_t)(c->d / c->heads);
    return (size_t)c->heads * (dh * dh + dh);
}

/* q, k, v, o rows */
typedef struct dscr { float *q, *k, *v, *o; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->q, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->k, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->v, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, (size_t)c->d, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t linear_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

static float elu1(float a) { return a > 0 ? a + 1 : expf(a); }

static void linear_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x,
                               int t, float *state, float *y, float *scratch)
{
    (void)n_max; (void)t;
    const int d = c->d, H = c->heads, dh = d / H;
    const size_t dd = (size_t)d * d;
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *q = sc.q, *k = sc.k, *v = sc.v, *o = sc.o;
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w, d, 0.0f, q, d);
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + dd, d, 0.0f, k, d);
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + 2 * dd, d, 0.0f, v, d);
    for (int i = 0; i < d; i++) { q[i] = elu1(q[i]); k[i] = elu1(k[i]); }
    for (int h = 0; h < H; h++) {
        float *S = state + (size_t)h * (dh * dh + dh), *z = S + (size_t)dh * dh;
        const float *qh = q + h * dh, *kh = k + h * dh, *vh = v + h * dh;
        float den = 0;
        for (int a = 0; a < dh; a++) {
            z[a] += kh[a];
            den += qh[a] * z[a];
            for (int e = 0; e < dh; e++) S[a * dh + e] += kh[a] * vh[e];
        }
        for (int e = 0; e < dh; e++) {
            float num = 0;
            for (int a = 0; a < dh; a++) num += qh[a] * S[a * dh + e];
            o[h * dh + e] = num / (den + LIN_EPS);
        }
    }
    xb_gemm(0, 0, 1, d, d, 1.0f, o, d, w + 3 * dd, d, 0.0f, y, d);
}

const xb_mixer xb_mixer_linear = {
    .name = "linear",
    .family = "linear attention",
    .cite = "Katharopoulos et al. 2020, Transformers are RNNs: Fast Autoregressive Transformers with Linear Attention",
    .complexity = "N",
    XB_OPTS(linear_opts),
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
    .decode_state = linear_decode_state,
    .decode_scratch = linear_decode_scratch,
    .decode_step = linear_decode_step,
};
