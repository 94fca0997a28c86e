/* mixers/linformer.c — Linformer, MIXERS.md §7: keys and values projected along the sequence,
 * K' = E[:len]ᵀ K, V' = E[:len]ᵀ V (r × d; one E ∈ R^{n_max×r} shared by K, V and all heads,
 * pads excluded from the projection), then per-head softmax attention of the N queries over
 * the r projected keys on core/attn.c's kernel (no mask), then W_O. Bidirectional only: mixing
 * along the length leaks the future, so there is no causal form. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/attn.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/scratch.h"
#include "core/xb.h"

enum { OPT_RANK };
static const xb_mixer_opt lin_opts[] = {
    [OPT_RANK] = {.name = "rank", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                  .help = "projected length r of keys and values"},
};

static int lin_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || c->d % c->heads != 0) {
        snprintf(err, errn, "heads: must divide d (%d), got %d", c->d, c->heads);
        return XB_EINVAL;
    }
    if (c->n_max < 1) {
        snprintf(err, errn, "n_max: linformer's E needs the longest sequence length, got %d", c->n_max);
        return XB_EINVAL;
    }
    return 0;
}

/* W_Q, W_K, W_V, W_O [d,d], E [n_max,r] */
static int lin_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    size_t dd = (size_t)c->d * c->d;
    if (out) {
        out[0] = (xb_tensor){"W_Q", 0, c->d, c->d, XB_T_DECAY};
        out[1] = (xb_tensor){"W_K", dd, c->d, c->d, XB_T_DECAY};
        out[2] = (xb_tensor){"W_V", 2 * dd, c->d, c->d, XB_T_DECAY};
        out[3] = (xb_tensor){"W_O", 3 * dd, c->d, c->d, XB_T_DECAY};
        out[4] = (xb_tensor){"E", 4 * dd, c->n_max, xb_cfg_int(c, OPT_RANK), XB_T_DECAY};
    }
    return 5;
}

/* W_*: U(±1/√d); E: U(±1/√r) (lucidrains linformer, §7) */
static void lin_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    size_t dd = (size_t)c->d * c->d;
    for (int i = 0; i < 4; i++) xb_init_uniform(w + i * dd, c->d, c->d, rng);
    xb_init_uniform(w + 4 * dd, xb_cfg_int(c, OPT_RANK), c->n_max, rng);   /* rows = r sets the bound 1/√r */
}

/* Q, K, V, O (4Nd) + K', V' (2rd) + logsumexp L (Nh) */
static size_t lin_n_saved(const xb_mixer_cfg *c, int N)
{
    return (size_t)4 * N * c->d + (size_t)2 * xb_cfg_int(c, OPT_RANK) * c->d + (size_t)N * c->heads;
}

static xb_attn kernel_desc(const xb_mixer_cfg *c, const int *len, int B, int N)
{
    return (xb_attn){.B = B, .Nq = N, .Nk = xb_cfg_int(c, OPT_RANK), .hq = c->heads, .hkv = c->heads,
                     .dh = c->d / c->heads, .ldq = c->d, .ldkv = c->d, .len_q = len, .len_k = NULL};
}

/* Scratch: the forward's kernel scratch, or the backward's dY, dO, dQ, dK, dV (B·N·d each),
 * dK', dV' (B·r·d each) and kernel scratch. */
typedef struct scr { float *kf, *dY, *dO, *dQ, *dK, *dV, *dKp, *dVp, *kb; } scr;

static size_t scratch_plan(const xb_mixer_cfg *c, int B, int N, float *scratch, scr *b)
{
    xb_attn a = kernel_desc(c, NULL, B, N);
    const size_t nd = (size_t)B * N * c->d, rd = (size_t)B * xb_cfg_int(c, OPT_RANK) * c->d, ks = xb_attn_scratch(&a);
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, b->kf, ks, XB_SCR_64F);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, b->dY, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dO, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dQ, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dK, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dV, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dKp, rd, XB_SCR_64F);
    XB_TAKE(&s, b->dVp, rd, XB_SCR_64F);
    XB_TAKE(&s, b->kb, ks, XB_SCR_64F);
    xb_scratch_union_end(&s, &u);
    return xb_scratch_floats(&s);
}

static size_t lin_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    scr b;
    return scratch_plan(c, B, N, NULL, &b);
}

typedef struct bufs { float *Q, *K, *V, *O, *Kp, *Vp, *L; } bufs;

static bufs saved_bufs(const xb_mixer_cfg *c, const float *saved, int B, int N)
{
    size_t nd = (size_t)B * N * c->d, rd = (size_t)B * xb_cfg_int(c, OPT_RANK) * c->d;
    float *s = (float *)saved;
    return (bufs){s, s + nd, s + 2 * nd, s + 3 * nd, s + 4 * nd, s + 4 * nd + rd, s + 4 * nd + 2 * rd};
}

static void lin_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    XB_ASSERT(N <= c->n_max);
    const int d = c->d, r = xb_cfg_int(c, OPT_RANK), BN = B * N;
    const size_t dd = (size_t)d * d;
    const float *E = w + 4 * dd;
    bufs s = saved_bufs(c, saved, B, N);
    xb_gemm(0, 0, BN, d, d, 1.0f, x, d, w, d, 0.0f, s.Q, d);
    xb_gemm(0, 0, BN, d, d, 1.0f, x, d, w + dd, d, 0.0f, s.K, d);
    xb_gemm(0, 0, BN, d, d, 1.0f, x, d, w + 2 * dd, d, 0.0f, s.V, d);
    for (int b = 0; b < B; b++) {   /* K' = E[:len]ᵀ K[:len], V' likewise */
        int n = xb_len(len, b, N);
        size_t off = (size_t)b * N * d, poff = (size_t)b * r * d;
        xb_gemm(1, 0, r, d, n, 1.0f, E, r, s.K + off, d, 0.0f, s.Kp + poff, d);
        xb_gemm(1, 0, r, d, n, 1.0f, E, r, s.V + off, d, 0.0f, s.Vp + poff, d);
    }
    xb_attn a = kernel_desc(c, len, B, N);
    scr sc;
    scratch_plan(c, B, N, scratch, &sc);
    xb_attn_forward(&a, s.Q, s.Kp, s.Vp, s.O, s.L, sc.kf);
    xb_gemm(0, 0, BN, d, d, 1.0f, s.O, d, w + 3 * dd, d, 0.0f, y, d);
    xb_zero_pad_rows(y, len, B, N, d);   /* O is 0 there; make y exactly +0 */
}

/* dK[:len] = E[:len] dK', dV[:len] = E[:len] dV', dE[:len] += K dK'ᵀ + V dV'ᵀ (summed over the
 * batch in order), then the projection backwards. Overwrites dx, accumulates dw. */
static void lin_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    const int d = c->d, r = xb_cfg_int(c, OPT_RANK), BN = B * N;
    const size_t dd = (size_t)d * d;
    const float *E = w + 4 * dd;
    float *dE = dw + 4 * dd;
    bufs s = saved_bufs(c, saved, B, N);
    scr sc;
    scratch_plan(c, B, N, scratch, &sc);
    float *dY = sc.dY, *dO = sc.dO, *dQ = sc.dQ, *dK = sc.dK, *dV = sc.dV, *dKp = sc.dKp, *dVp = sc.dVp;
    for (int b = 0; b < B; b++) {   /* dy at pad rows counts as 0 */
        size_t off = (size_t)b * N * d, real = (size_t)xb_len(len, b, N) * d;
        memcpy(dY + off, dy + off, real * sizeof(float));
        memset(dY + off + real, 0, ((size_t)N * d - real) * sizeof(float));
    }
    xb_gemm(1, 0, d, d, BN, 1.0f, s.O, d, dY, d, 1.0f, dw + 3 * dd, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, dY, d, w + 3 * dd, d, 0.0f, dO, d);
    xb_attn a = kernel_desc(c, len, B, N);
    xb_attn_backward(&a, s.Q, s.Kp, s.Vp, s.O, s.L, dO, dQ, dKp, dVp, sc.kb);
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        size_t off = (size_t)b * N * d, poff = (size_t)b * r * d;
        xb_gemm(0, 0, n, d, r, 1.0f, E, r, dKp + poff, d, 0.0f, dK + off, d);
        xb_gemm(0, 0, n, d, r, 1.0f, E, r, dVp + poff, d, 0.0f, dV + off, d);
        memset(dK + off + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
        memset(dV + off + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
        xb_gemm(0, 1, n, r, d, 1.0f, s.K + off, d, dKp + poff, d, 1.0f, dE, r);
        xb_gemm(0, 1, n, r, d, 1.0f, s.V + off, d, dVp + poff, d, 1.0f, dE, r);
    }
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, dQ, d, 1.0f, dw, d);
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, dK, d, 1.0f, dw + dd, d);
    xb_gemm(1, 0, d, d, BN, 1.0f, x, d, dV, d, 1.0f, dw + 2 * dd, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, dQ, d, w, d, 0.0f, dx, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, dK, d, w + dd, d, 1.0f, dx, d);
    xb_gemm(0, 1, BN, d, d, 1.0f, dV, d, w + 2 * dd, d, 1.0f, dx, d);
}

/* §7: 8Nd² + 8Nrd (K/V projections along N and the N×r attention) + elementwise 3Nrh */
static double lin_flops(const xb_mixer_cfg *c, int N)
{
    double n = N, d = c->d, r = xb_cfg_int(c, OPT_RANK), h = c->heads;
    return 8 * n * d * d + 8 * n * r * d + 3 * n * r * h;
}

/* naive double: dense projections, K' and V' as explicit sums over the real tokens, dense
 * N × r softmax per head */
static void lin_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    const int d = c->d, r = xb_cfg_int(c, OPT_RANK), h = c->heads, dh = d / h;
    const size_t dd = (size_t)d * d;
    const float *E = w + 4 * dd;
    double *q = calloc((size_t)N * d, sizeof(double)), *k = calloc((size_t)N * d, sizeof(double));
    double *v = calloc((size_t)N * d, sizeof(double)), *kp = calloc((size_t)r * d, sizeof(double));
    double *vp = calloc((size_t)r * d, sizeof(double)), *o = calloc((size_t)d, sizeof(double));
    double *p = calloc((size_t)r, sizeof(double));
    XB_ASSERT(q && k && v && kp && vp && o && p);
    for (int b = 0; b < B; b++) {
        const int n = xb_len(len, b, N);
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++)
            for (int cc = 0; cc < d; cc++) {
                double a0 = 0, a1 = 0, a2 = 0;
                for (int e = 0; e < d; e++) {
                    double xv = xb[(size_t)t * d + e];
                    a0 += xv * w[(size_t)e * d + cc];
                    a1 += xv * w[dd + (size_t)e * d + cc];
                    a2 += xv * w[2 * dd + (size_t)e * d + cc];
                }
                q[(size_t)t * d + cc] = a0; k[(size_t)t * d + cc] = a1; v[(size_t)t * d + cc] = a2;
            }
        for (int m = 0; m < r; m++)
            for (int cc = 0; cc < d; cc++) {
                double a = 0, bb = 0;
                for (int t = 0; t < n; t++) {
                    a += (double)E[(size_t)t * r + m] * k[(size_t)t * d + cc];
                    bb += (double)E[(size_t)t * r + m] * v[(size_t)t * d + cc];
                }
                kp[(size_t)m * d + cc] = a; vp[(size_t)m * d + cc] = bb;
            }
        double *yb = y + (size_t)b * N * d;
        for (int t = 0; t < N; t++) {
            for (int cc = 0; cc < d; cc++) o[cc] = 0;
            if (t < n)
                for (int j = 0; j < h; j++) {
                    double mx = -INFINITY, sum = 0;
                    for (int m = 0; m < r; m++) {
                        double s = 0;
                        for (int e = 0; e < dh; e++) s += q[(size_t)t * d + j * dh + e] * kp[(size_t)m * d + j * dh + e];
                        p[m] = s / sqrt((double)dh);
                        if (p[m] > mx) mx = p[m];
                    }
                    for (int m = 0; m < r; m++) { p[m] = exp(p[m] - mx); sum += p[m]; }
                    for (int e = 0; e < dh; e++) {
                        double a = 0;
                        for (int m = 0; m < r; m++) a += p[m] * vp[(size_t)m * d + j * dh + e];
                        o[j * dh + e] = a / sum;
                    }
                }
            for (int cc = 0; cc < d; cc++) {
                double a = 0;
                for (int e = 0; e < d; e++) a += o[e] * w[3 * dd + (size_t)e * d + cc];
                yb[(size_t)t * d + cc] = t < n ? a : 0;
            }
        }
    }
    free(q); free(k); free(v); free(kp); free(vp); free(o); free(p);
}

/* What xbench dump states beyond the tensors. */
static const char *lin_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    return strcmp(t->name, "E") ? NULL : "(n_max, r) row-major: K' = E[:len]^T K, V' = E[:len]^T V";
}

static void lin_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "rank", xb_cfg_int(c, OPT_RANK));
    xb_fact_int(f, "n_max", c->n_max);
}

const xb_mixer xb_mixer_linformer = {
    .name = "linformer",
    .family = "low-rank attention",
    .cite = "Wang et al. 2020, Linformer: Self-Attention with Linear Complexity",
    .complexity = "N r",
    XB_OPTS(lin_opts),
    .modes = XB_BIDIR,
    .unverified = 0,
    .check = lin_check,
    .tensors = lin_tensors,
    .init = lin_init,
    .n_saved = lin_n_saved,
    .n_scratch = lin_n_scratch,
    .forward = lin_forward,
    .backward = lin_backward,
    .flops = lin_flops,
    .reference = lin_reference,
    .layout = lin_layout,
    .facts = lin_facts,
};
