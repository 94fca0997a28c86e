/* mixers/activator.c — Activator GLU-MLP in place of attention (no token mixing), MIXERS.md §20:
 *   u = LN(gelu(x W_1 + c_1)),  v = LN(x W_2 + c_2),  Y = (u ⊙ v) W_3 + c_3
 * per token, ONE LayerNorm (ln_g, ln_b over d_ff, ε = 1e-5) shared by both branches, exact-erf
 * GELU, d_ff = option `d_ff` (default 2d). Causal and bidirectional are the same map.
 * Tensors (§32): W_1, W_2 [d, d_ff], c_1, c_2 [d_ff], W_3 [d_ff, d], c_3 [d], ln_g, ln_b [d_ff].
 *
 * saved per sequence: a1 = x W_1 + c_1, x̂1, x̂2 (normalised LN inputs), p = u ⊙ v [N × d_ff] each,
 *   then rstd1, rstd2 [N]. Pad rows of y, p and dx are 0. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/gemm.h"
#include "core/linattn.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define LN_EPS 1e-5f

enum { OPT_D_FF };
static const xb_mixer_opt act_opts[] = {
    [OPT_D_FF] = {.name = "d_ff", .type = XB_OPT_INT, .min = 1, .max = 1048576, .def_doc = "2 d",
                  .help = "hidden width d_ff of the two branches"},
};

static void act_defaults(xb_mixer_cfg *c)
{
    if (xb_cfg_int(c, OPT_D_FF) <= 0) xb_cfg_set(c, OPT_D_FF, 2 * c->d);
}

/* Slab offsets. */
typedef struct act_w { size_t w1, w2, c1, c2, w3, c3, g, b, end; } act_w;

static act_w layout(const xb_mixer_cfg *c)
{
    size_t d = c->d, f = xb_cfg_int(c, OPT_D_FF);
    act_w o;
    o.w1 = 0; o.w2 = d * f; o.c1 = 2 * d * f; o.c2 = o.c1 + f; o.w3 = o.c2 + f;
    o.c3 = o.w3 + f * d; o.g = o.c3 + d; o.b = o.g + f; o.end = o.b + f;
    return o;
}

static int act_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    act_w o = layout(c);
    int d = c->d, f = xb_cfg_int(c, OPT_D_FF);
    if (out) {
        out[0] = (xb_tensor){"W_1", o.w1, d, f, XB_T_DECAY};
        out[1] = (xb_tensor){"W_2", o.w2, d, f, XB_T_DECAY};
        out[2] = (xb_tensor){"c_1", o.c1, f, 1, 0};
        out[3] = (xb_tensor){"c_2", o.c2, f, 1, 0};
        out[4] = (xb_tensor){"W_3", o.w3, f, d, XB_T_DECAY};
        out[5] = (xb_tensor){"c_3", o.c3, d, 1, 0};
        out[6] = (xb_tensor){"ln_g", o.g, f, 1, 0};
        out[7] = (xb_tensor){"ln_b", o.b, f, 1, 0};
    }
    return 8;
}

/* Matrices U(±1/√fan_in) (xb_init_uniform); biases likewise with the layer's fan_in (PyTorch
 * Linear default); LayerNorm γ = 1, β = 0. */
static void act_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    act_w o = layout(c);
    int d = c->d, f = xb_cfg_int(c, OPT_D_FF);
    float ad = 1.0f / sqrtf((float)d), af = 1.0f / sqrtf((float)f);
    xb_init_uniform(w + o.w1, d, f, rng);
    xb_init_uniform(w + o.w2, d, f, rng);
    for (int j = 0; j < f; j++) w[o.c1 + j] = xb_rng_uniformf(rng, -ad, ad);
    for (int j = 0; j < f; j++) w[o.c2 + j] = xb_rng_uniformf(rng, -ad, ad);
    xb_init_uniform(w + o.w3, f, d, rng);
    for (int j = 0; j < d; j++) w[o.c3 + j] = xb_rng_uniformf(rng, -af, af);
    for (int j = 0; j < f; j++) { w[o.g + j] = 1.0f; w[o.b + j] = 0.0f; }
}

static size_t act_n_saved(const xb_mixer_cfg *c, int N) { return (size_t)N * (4 * (size_t)xb_cfg_int(c, OPT_D_FF) + 2); }

static xb_proj in_proj(const xb_mixer_cfg *c);

/* Scratch: the forward's packed W_1|W_2 and the projection's per-thread blocks, or the
 * backward's dY masked, dp, da1, da2. */
typedef struct scr { float *wp, *tmp, *dym, *dp, *da1, *da2; } scr;

static size_t scratch_plan(const xb_mixer_cfg *c, float *scratch, int B, int N, scr *b)
{
    const size_t r = (size_t)B * N;
    xb_proj p = in_proj(c);
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, b->wp, xb_proj_floats(&p), XB_SCR_PACKED);
    XB_TAKE(&s, b->tmp, xb_proj_block_floats(&p), XB_SCR_64F);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, b->dym, r * c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->dp, r * xb_cfg_int(c, OPT_D_FF), XB_SCR_PACKED);
    XB_TAKE(&s, b->da1, r * xb_cfg_int(c, OPT_D_FF), XB_SCR_PACKED);
    XB_TAKE(&s, b->da2, r * xb_cfg_int(c, OPT_D_FF), XB_SCR_PACKED);
    xb_scratch_union_end(&s, &u);
    return xb_scratch_floats(&s);
}

static size_t act_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    scr b;
    return scratch_plan(c, NULL, B, N, &b);
}

typedef struct act_saved { float *a1, *h1, *h2, *p, *r1, *r2; } act_saved;

static act_saved saved_at(const xb_mixer_cfg *c, const float *saved, int b, int N)
{
    size_t nf = (size_t)N * xb_cfg_int(c, OPT_D_FF);
    float *s = (float *)saved + (size_t)b * act_n_saved(c, N);
    return (act_saved){s, s + nf, s + 2 * nf, s + 3 * nf, s + 4 * nf, s + 4 * nf + N};
}

/* Exact (erf) GELU and its derivative Φ(x) + x·φ(x); erf and exp are the branch-free float
 * versions of core/vmath.h so the row loops vectorise (libm's erff/expf do not). */
static inline float gelu(float x) { return 0.5f * x * (1.0f + xb_verf(x * (float)M_SQRT1_2)); }
static inline float gelu_grad(float x)
{
    return 0.5f * (1.0f + xb_verf(x * (float)M_SQRT1_2)) + x * xb_vexp(-0.5f * x * x) * (float)(0.5 * M_2_SQRTPI * M_SQRT1_2);
}

/* x̂ = (a − mean) · rstd over f entries; returns rstd. */
static float ln_row(int f, const float *a, float *xh)
{
    float mu = 0.0f, var = 0.0f;
    for (int j = 0; j < f; j++) mu += a[j];
    mu /= (float)f;
    for (int j = 0; j < f; j++) { float t = a[j] - mu; var += t * t; }
    float rstd = 1.0f / sqrtf(var / (float)f + LN_EPS);
    for (int j = 0; j < f; j++) xh[j] = (a[j] - mu) * rstd;
    return rstd;
}

/* da = rstd (dx̂ − mean(dx̂) − x̂ mean(dx̂ ⊙ x̂)), dx̂ given in da (overwritten). */
static void ln_row_backward(int f, const float *xh, float rstd, float *da)
{
    float m1 = 0.0f, m2 = 0.0f;
    for (int j = 0; j < f; j++) { m1 += da[j]; m2 += da[j] * xh[j]; }
    m1 /= (float)f; m2 /= (float)f;
    for (int j = 0; j < f; j++) da[j] = rstd * (da[j] - m1 - xh[j] * m2);
}

/* y[B×N×d] overwritten; saved overwritten. */
/* Forward scratch: the packed W_1|W_2 and the projection's per-thread blocks (core/proj.c). */
static xb_proj in_proj(const xb_mixer_cfg *c)
{
    const int cols[2] = {xb_cfg_int(c, OPT_D_FF), xb_cfg_int(c, OPT_D_FF)};
    return xb_proj_make(c->d, 2, cols);
}

typedef struct act_job { const xb_mixer_cfg *c; const float *w; float *saved; const int *len; int N; act_w o; } act_job;

/* a1 = z + c, p = gelu(a1) (restrict: so the loop vectorises) */
static void bias_gelu(int f, const float *restrict z, const float *restrict c, float *restrict a1, float *restrict p)
{
    for (int k = 0; k < f; k++) {
        a1[k] = z[k] + c[k];
        p[k] = gelu(a1[k]);
    }
}

static void add_bias(int f, float *restrict a, const float *restrict c)
{
    for (int k = 0; k < f; k++) a[k] += c[k];
}

/* One block of rows of [x W_1 | x W_2], still in cache: a1 = · + c_1 (saved), u's and v's
 * LayerNorms (x̂1, x̂2 and rstd saved; a2 never leaves the block), p = u ⊙ v. Pad rows are 0. */
static void in_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    const act_job *j = arg;
    const int f = xb_cfg_int(j->c, OPT_D_FF);
    const float *w = j->w, *g = w + j->o.g, *be = w + j->o.b;
    for (int i = 0; i < rows; i++) {
        const int b = (r0 + i) / j->N, t = (r0 + i) % j->N;
        act_saved s = saved_at(j->c, j->saved, b, j->N);
        size_t r = (size_t)t * f;
        float *a1 = s.a1 + r, *h1 = s.h1 + r, *h2 = s.h2 + r, *p = s.p + r;
        float *y1 = y + (size_t)i * ldy, *a2 = y1 + f;
        if (t >= xb_len(j->len, b, j->N)) {
            memset(a1, 0, (size_t)f * sizeof(float)); memset(h1, 0, (size_t)f * sizeof(float));
            memset(h2, 0, (size_t)f * sizeof(float)); memset(p, 0, (size_t)f * sizeof(float));
            s.r1[t] = s.r2[t] = 0.0f;
            continue;
        }
        bias_gelu(f, y1, w + j->o.c1, a1, p);
        add_bias(f, a2, w + j->o.c2);
        s.r1[t] = ln_row(f, p, h1);
        s.r2[t] = ln_row(f, a2, h2);
        for (int k = 0; k < f; k++) p[k] = (h1[k] * g[k] + be[k]) * (h2[k] * g[k] + be[k]);
    }
}

/* Rows of y = p W_3: add c_3. */
static void out_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    (void)r0;
    const act_job *j = arg;
    const float *c3 = j->w + j->o.c3;
    for (int i = 0; i < rows; i++)
        for (int k = 0; k < j->c->d; k++) y[(size_t)i * ldy + k] += c3[k];
}

/* y[B×N×d] overwritten; saved overwritten. Both products are blocked (core/proj.c), the biases,
 * GELU, LayerNorms and gate done per block while it is in cache. */
static void act_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    const int d = c->d, f = xb_cfg_int(c, OPT_D_FF);
    const size_t nd = (size_t)N * d;
    act_job job = {c, w, saved, len, N, layout(c)};
    xb_proj p = in_proj(c);
    scr sc;
    scratch_plan(c, scratch, B, N, &sc);
    float *wp = sc.wp, *tmp = sc.tmp;
    const float *ws[2] = {w + job.o.w1, w + job.o.w2};
    xb_proj_pack(&p, ws, wp);
    xb_proj_forward(&p, B * N, x, d, wp, NULL, 0, tmp, in_epilogue, &job);
    xb_proj po = xb_proj_make(f, 1, &d);
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        float *yb = y + b * nd;
        xb_proj_forward(&po, n, saved_at(c, saved, b, N).p, f, w + job.o.w3, yb, d, NULL, out_epilogue, &job);
        memset(yb + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
    }
}

/* dx overwritten, dw accumulated. Vector gradients (c_*, ln_*) are column sums taken in row order,
 * split by column blocks across threads (each thread owns its columns: deterministic). */
static void act_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    const int d = c->d, f = xb_cfg_int(c, OPT_D_FF), R = B * N;
    const size_t nd = (size_t)N * d, nf = (size_t)N * f;
    act_w o = layout(c);
    scr sc;
    scratch_plan(c, scratch, B, N, &sc);
    float *dym = sc.dym, *dp = sc.dp, *da1 = sc.da1, *da2 = sc.da2;
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        memcpy(dym + b * nd, dy + b * nd, (size_t)n * d * sizeof(float));
        memset(dym + b * nd + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
        xb_gemm(1, 0, f, d, N, 1.0f, saved_at(c, saved, b, N).p, f, dym + b * nd, d, 1.0f, dw + o.w3, d);
    }
    xb_gemm(0, 1, R, f, d, 1.0f, dym, d, w + o.w3, d, 0.0f, dp, f);   /* dp = dY W_3ᵀ */
    const float *g = w + o.g, *be = w + o.b;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < N; t++) {
            act_saved s = saved_at(c, saved, b, N);
            size_t r = (size_t)t * f, q = b * nf + r;
            float *d1 = da1 + q, *d2 = da2 + q;
            if (t >= xb_len(len, b, N)) {
                memset(d1, 0, (size_t)f * sizeof(float)); memset(d2, 0, (size_t)f * sizeof(float));
                continue;
            }
            const float *h1 = s.h1 + r, *h2 = s.h2 + r, *a1 = s.a1 + r, *dpr = dp + q;
            for (int j = 0; j < f; j++) {
                float u = h1[j] * g[j] + be[j], v = h2[j] * g[j] + be[j];
                d1[j] = dpr[j] * v * g[j];   /* dx̂1 = du ⊙ γ */
                d2[j] = dpr[j] * u * g[j];
            }
            ln_row_backward(f, h1, s.r1[t], d1);
            ln_row_backward(f, h2, s.r2[t], d2);
            for (int j = 0; j < f; j++) d1[j] *= gelu_grad(a1[j]);
        }
    const int CB = 16, nblk = (f + CB - 1) / CB;
    #pragma omp parallel for schedule(static)
    for (int k = 0; k < nblk; k++) {
        int j0 = k * CB, j1 = xb_min(f, j0 + CB);
        for (int b = 0; b < B; b++) {
            act_saved s = saved_at(c, saved, b, N);
            int n = xb_len(len, b, N);
            for (int t = 0; t < n; t++) {
                size_t r = (size_t)t * f, q = b * nf + r;
                for (int j = j0; j < j1; j++) {
                    float x1 = s.h1[r + j], x2 = s.h2[r + j];
                    float u = x1 * g[j] + be[j], v = x2 * g[j] + be[j];
                    float du = dp[q + j] * v, dv = dp[q + j] * u;
                    dw[o.g + j] += du * x1 + dv * x2;
                    dw[o.b + j] += du + dv;
                    dw[o.c1 + j] += da1[q + j];
                    dw[o.c2 + j] += da2[q + j];
                }
            }
        }
    }
    for (int rr = 0; rr < R; rr++)   /* dc_3: pad rows of dym are 0 */
        for (int j = 0; j < d; j++) dw[o.c3 + j] += dym[(size_t)rr * d + j];
    xb_gemm(1, 0, d, f, R, 1.0f, x, d, da1, f, 1.0f, dw + o.w1, f);
    xb_gemm(1, 0, d, f, R, 1.0f, x, d, da2, f, 1.0f, dw + o.w2, f);
    xb_gemm(0, 1, R, d, f, 1.0f, da1, f, w + o.w1, f, 0.0f, dx, d);
    xb_gemm(0, 1, R, d, f, 1.0f, da2, f, w + o.w2, f, 1.0f, dx, d);
}

/* §20: F_main = 6·N·d·d_ff (three N×d×d_ff products); F_elem = N·d_ff·(8 gelu + 2·5 LN + 1 product). */
static double act_flops(const xb_mixer_cfg *c, int N)
{
    return 6.0 * N * c->d * xb_cfg_int(c, OPT_D_FF) + (double)N * xb_cfg_int(c, OPT_D_FF) * (8 + 10 + 1);
}

/* Naive double forward, one token at a time. */
static void act_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    const int d = c->d, f = xb_cfg_int(c, OPT_D_FF);
    act_w o = layout(c);
    double *a = calloc((size_t)f, sizeof(double)), *e = calloc((size_t)f, sizeof(double)),
           *p = calloc((size_t)f, sizeof(double));
    XB_ASSERT(a && e && p);
    for (int b = 0; b < B; b++)
        for (int t = 0; t < N; t++) {
            double *yr = y + ((size_t)b * N + t) * d;
            if (t >= xb_len(len, b, N)) { for (int j = 0; j < d; j++) yr[j] = 0; continue; }
            const float *xr = x + ((size_t)b * N + t) * d;
            for (int j = 0; j < f; j++) {
                double s1 = w[o.c1 + j], s2 = w[o.c2 + j];
                for (int i = 0; i < d; i++) { s1 += xr[i] * (double)w[o.w1 + (size_t)i * f + j]; s2 += xr[i] * (double)w[o.w2 + (size_t)i * f + j]; }
                a[j] = 0.5 * s1 * (1 + erf(s1 / sqrt(2.0)));
                e[j] = s2;
            }
            for (int br = 0; br < 2; br++) {   /* the shared LayerNorm on each branch */
                double *z = br ? e : a, mu = 0, var = 0;
                for (int j = 0; j < f; j++) mu += z[j];
                mu /= f;
                for (int j = 0; j < f; j++) var += (z[j] - mu) * (z[j] - mu);
                var /= f;
                for (int j = 0; j < f; j++) z[j] = (z[j] - mu) / sqrt(var + 1e-5) * w[o.g + j] + w[o.b + j];
            }
            for (int j = 0; j < f; j++) p[j] = a[j] * e[j];
            for (int k = 0; k < d; k++) {
                double s = w[o.c3 + k];
                for (int j = 0; j < f; j++) s += p[j] * w[o.w3 + (size_t)j * d + k];
                yr[k] = s;
            }
        }
    free(a); free(e); free(p);
}

/* ---- decode: no token mixing, so a token's output is the forward of that token alone ---- */

static size_t activator_decode_state(const xb_mixer_cfg *c, int n_max) { (void)c; (void)n_max; return 0; }

/* the forward of one token: its saved floats, then its scratch */
static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, float **saved, float **fwd)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, *saved, act_n_saved(c, 1), XB_SCR_PACKED);
    XB_TAKE(&s, *fwd, act_n_scratch(c, 1, 1), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

static size_t activator_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    float *saved, *fwd;
    return decode_plan(c, NULL, &saved, &fwd);
}

static void activator_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x,
                                  int t, float *state, float *y, float *scratch)
{
    (void)n_max; (void)t; (void)state;
    float *saved, *fwd;
    decode_plan(c, scratch, &saved, &fwd);
    act_forward(c, w, x, NULL, y, saved, fwd, 1, 1);
}

/* What xbench dump states beyond the tensors: no heads, so every matrix is plain. */
static const char *act_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c; (void)t;
    return XB_LAYOUT_PLAIN;
}

static void act_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)c; (void)N;
    xb_fact_real(f, "layernorm_eps", LN_EPS);
    xb_fact_text(f, "gelu", "exact (erf)");
}

const xb_mixer xb_mixer_activator = {
    .name = "activator",
    .family = "mlp (no mixing)",
    .cite = "Abdullah et al. 2024, Activator: GLU Activations as The Core Functions of a Vision Transformer",
    .complexity = "N",
    XB_OPTS(act_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = act_defaults,
    .tensors = act_tensors,
    .init = act_init,
    .n_saved = act_n_saved,
    .n_scratch = act_n_scratch,
    .forward = act_forward,
    .backward = act_backward,
    .flops = act_flops,
    .reference = act_reference,
    .decode_state = activator_decode_state,
    .decode_scratch = activator_decode_scratch,
    .decode_step = activator_decode_step,
    .layout = act_layout,
    .facts = act_facts,
};
