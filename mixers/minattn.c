/* mixers/minattn.c — reduced attention, MIXERS.md §21 (Bermeitinger et al.): one bilinear form
 * per head in place of W_Q W_Kᵀ, no value and no output projection. Per head j (h = the model's
 * `heads`; head width d):
 *   S_j = X W_j Xᵀ / √d (+ causal mask),  P_j = softmax(S_j),  O_j = P_j X,  Y = (1/h) Σ_j O_j.
 * `variant` picks W_j:
 *   1 full (default)  W_j [d, d]
 *   2 symmetric       W_j = U_j + U_jᵀ, U_j upper triangular including the diagonal
 *   3 psd             W_j = A_j A_jᵀ, A_j [d, d_h], d_h = d/h (h must divide d)
 * Heads: the model's head count, not §21's suggested h = 1 (a suite sets `heads: 1` in the model
 * for that); with head width d each head costs a full N²d attention, so h multiplies the N² cost.
 * §31 marks the equations unverified (read from the abstract only), hence `.unverified = 1`.
 *
 * Tensors (MIXERS.md §32: the names of §21's equations, heads own contiguous column blocks):
 * W [d, h·d] (head j = columns [j·d, (j+1)·d)), or U [d, h·d] with every d × d block upper
 * triangular (its strictly lower part is 0 at init, never read, and gets gradient exactly 0, so
 * AdamW keeps it 0), or A [d, h·d_h]. Init: W and U ~ U(±1/√d) (U's lower part then zeroed);
 * A ~ U(±1/√d_h), which for x ~ N(0, I) gives logits of about the full variant's variance
 * (d/(9 d_h) against 1/3).
 *
 * CPU form (§21): the per-call matrix Wp = [W_0 | … | W_{h−1}] (materialised for 2 and 3 from U
 * or A: d² or 2d²d_h per head, per call rather than per sequence, so not in flops()), Z = X Wp
 * (one GEMM), then core/attn.c's tiled kernel with h query heads Z_j, ONE key/value head X (the
 * GQA mapping with h_kv = 1), head width d and the kernel's 1/√d scale, then the mean of the h
 * outputs. Saved: Z, O (2Nhd) and logsumexp L (Nh); §21's h(Nd + N) does not count O, which the
 * FlashAttention-2 backward needs. Backward: dO_j = dY/h; the kernel gives dZ and the key and
 * value gradients (summed over the heads in a fixed order); dX = dK + dV + dZ Wpᵀ, dWp = Xᵀ dZ,
 * then dU_j = dW_j + dW_jᵀ above the diagonal, 2 dW_j on it (§21), or dA_j = (dW_j + dW_jᵀ) A_j. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/attn.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/xb.h"

enum { MA_FULL = 1, MA_SYM = 2, MA_PSD = 3 };

enum { OPT_VARIANT };
static const char *const variant_names[] = {"full", "symmetric", "psd", NULL};   /* MA_* */
static const xb_mixer_opt ma_opts[] = {
    [OPT_VARIANT] = {.name = "variant", .type = XB_OPT_ENUM, .def = MA_FULL, .names = variant_names,
                     .help = "W_j as a full matrix, U_j + U_j^T (symmetric) or A_j A_j^T (psd)"},
};

static int ma_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->heads < 1 || (xb_cfg_int(c, OPT_VARIANT) == MA_PSD && c->d % c->heads != 0)) {
        snprintf(err, errn, "heads: must be >= 1%s, got %d", xb_cfg_int(c, OPT_VARIANT) == MA_PSD ? " and divide d for variant 3 (psd)" : "",
                 c->heads);
        return XB_EINVAL;
    }
    return 0;
}

/* columns of the stored tensor: h·d (W, U) or h·d_h = d (A) */
static int wcols(const xb_mixer_cfg *c) { return xb_cfg_int(c, OPT_VARIANT) == MA_PSD ? c->d : c->heads * c->d; }

static int ma_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    static const char *const names[] = {"", "W", "U", "A"};
    if (out) out[0] = (xb_tensor){names[xb_cfg_int(c, OPT_VARIANT)], 0, c->d, wcols(c), XB_T_DECAY};
    return 1;
}

static void ma_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    const int d = c->d, h = c->heads;
    if (xb_cfg_int(c, OPT_VARIANT) == MA_PSD) {
        xb_init_uniform(w, d / h, d * h, rng);   /* rows = d_h sets the bound 1/√d_h over d × d floats */
        return;
    }
    xb_init_uniform(w, d, h * d, rng);
    if (xb_cfg_int(c, OPT_VARIANT) == MA_SYM)
        for (int a = 1; a < d; a++)
            for (int j = 0; j < h; j++) memset(w + (size_t)a * h * d + (size_t)j * d, 0, (size_t)a * sizeof(float));
}

/* Wp [d, h·d] = [W_0 | … | W_{h−1}] from the stored tensor */
static void make_wp(const xb_mixer_cfg *c, const float *w, float *wp)
{
    const int d = c->d, h = c->heads, hd = h * d, dh = d / h;
    if (xb_cfg_int(c, OPT_VARIANT) == MA_SYM) {   /* W_j[a][b] = U_j[min][max] off the diagonal, 2 U_j[a][a] on it */
        for (int a = 0; a < d; a++)
            for (int j = 0; j < h; j++)
                for (int b = 0; b < d; b++) {
                    const int lo = a < b ? a : b, hi = a < b ? b : a;
                    const float u = w[(size_t)lo * hd + (size_t)j * d + hi];
                    wp[(size_t)a * hd + (size_t)j * d + b] = a == b ? 2.0f * u : u;
                }
    } else if (xb_cfg_int(c, OPT_VARIANT) == MA_PSD) {   /* W_j = A_j A_jᵀ */
        for (int j = 0; j < h; j++)
            xb_gemm(0, 1, d, d, dh, 1.0f, w + (size_t)j * dh, d, w + (size_t)j * dh, d, 0.0f, wp + (size_t)j * d, hd);
    }
}

static xb_attn kernel_desc(const xb_mixer_cfg *c, const int *len, int B, int N)
{
    return (xb_attn){.B = B, .Nq = N, .Nk = N, .hq = c->heads, .hkv = 1, .dh = c->d, .ldq = c->heads * c->d,
                     .ldkv = c->d, .causal = c->causal, .len_q = len, .len_k = len};
}

/* Z, O (2·N·h·d) + logsumexp L (N·h) */
static size_t ma_n_saved(const xb_mixer_cfg *c, int N)
{
    return (size_t)N * c->heads * (2 * (size_t)c->d + 1);
}

/* Wp and dWp (d·h·d each) | dO, dZ (B·N·h·d each) | dK, dV (B·N·d each) | kernel scratch
 * (the forward uses Wp and the kernel's) */
typedef struct scr { float *wp, *g, *dO, *dZ, *dK, *dV, *ks; } scr;

static size_t scratch_plan(const xb_mixer_cfg *c, int B, int N, float *scratch, scr *b)
{
    xb_attn a = kernel_desc(c, NULL, B, N);
    const size_t dd = (size_t)c->d * c->heads * c->d, nhd = (size_t)B * N * c->heads * c->d;
    const size_t nd = (size_t)B * N * c->d;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->wp, dd, XB_SCR_64F);
    XB_TAKE(&s, b->g, dd, XB_SCR_64F);
    XB_TAKE(&s, b->dO, nhd, XB_SCR_64F);
    XB_TAKE(&s, b->dZ, nhd, XB_SCR_64F);
    XB_TAKE(&s, b->dK, nd, XB_SCR_64F);
    XB_TAKE(&s, b->dV, nd, XB_SCR_64F);
    XB_TAKE(&s, b->ks, xb_attn_scratch(&a), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

static size_t ma_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    scr b;
    return scratch_plan(c, B, N, NULL, &b);
}

static void ma_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len, float *y,
                       float *saved, float *scratch, int B, int N)
{
    const int d = c->d, h = c->heads, hd = h * d, BN = B * N;
    float *Z = saved, *O = Z + (size_t)BN * hd, *L = O + (size_t)BN * hd;
    scr sc;
    scratch_plan(c, B, N, scratch, &sc);
    float *wp = sc.wp, *ks = sc.ks;
    if (xb_cfg_int(c, OPT_VARIANT) == MA_FULL) wp = (float *)w;
    else make_wp(c, w, wp);
    xb_proj_matmul(BN, d, hd, x, d, wp, Z);
    xb_attn a = kernel_desc(c, len, B, N);
    xb_attn_forward(&a, Z, x, x, O, L, ks);
    const float inv = 1.0f / (float)h;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < BN; r++) {   /* Y = mean of the heads' outputs */
        const float *o = O + (size_t)r * hd;
        float *yr = y + (size_t)r * d;
        for (int e = 0; e < d; e++) yr[e] = o[e];
        for (int j = 1; j < h; j++)
            for (int e = 0; e < d; e++) yr[e] += o[(size_t)j * d + e];
        for (int e = 0; e < d; e++) yr[e] *= inv;
    }
    xb_zero_pad_rows(y, len, B, N, d);   /* O is 0 there; make y exactly +0 */
}

static void ma_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        const float *saved, const float *dy, float *dx, float *dw, float *scratch, int B, int N)
{
    const int d = c->d, h = c->heads, hd = h * d, BN = B * N, dh = d / h;
    const float *Z = saved, *O = Z + (size_t)BN * hd, *L = O + (size_t)BN * hd;
    scr sc;
    scratch_plan(c, B, N, scratch, &sc);
    float *wp = sc.wp, *g = sc.g, *dO = sc.dO, *dZ = sc.dZ, *dK = sc.dK, *dV = sc.dV, *ks = sc.ks;
    if (xb_cfg_int(c, OPT_VARIANT) == MA_FULL) wp = (float *)w;
    else make_wp(c, w, wp);
    const float inv = 1.0f / (float)h;
#pragma omp parallel for schedule(static)
    for (int r = 0; r < BN; r++) {   /* dO_j = dY / h; pad rows count as 0 */
        const int b = r / N, t = r % N;
        const float s = t < xb_len(len, b, N) ? inv : 0.0f;
        for (int j = 0; j < h; j++)
            for (int e = 0; e < d; e++) dO[(size_t)r * hd + (size_t)j * d + e] = s * dy[(size_t)r * d + e];
    }
    xb_attn a = kernel_desc(c, len, B, N);
    xb_attn_backward(&a, Z, x, x, O, L, dO, dZ, dK, dV, ks);
    xb_gemm(0, 1, BN, d, hd, 1.0f, dZ, hd, wp, hd, 0.0f, dx, d);   /* dX = dZ Wpᵀ + dK + dV */
    for (size_t i = 0; i < (size_t)BN * d; i++) dx[i] += dK[i] + dV[i];
    if (xb_cfg_int(c, OPT_VARIANT) == MA_FULL) {
        xb_gemm(1, 0, d, hd, BN, 1.0f, x, d, dZ, hd, 1.0f, dw, hd);
        return;
    }
    xb_gemm(1, 0, d, hd, BN, 1.0f, x, d, dZ, hd, 0.0f, g, hd);   /* dWp */
    if (xb_cfg_int(c, OPT_VARIANT) == MA_SYM) {   /* dU_j[a][b] += dW_j[a][b] + dW_j[b][a] (a < b), 2 dW_j[a][a] */
        for (int a0 = 0; a0 < d; a0++)
            for (int j = 0; j < h; j++)
                for (int b0 = a0; b0 < d; b0++)
                    dw[(size_t)a0 * hd + (size_t)j * d + b0] += a0 == b0 ? 2.0f * g[(size_t)a0 * hd + (size_t)j * d + a0]
                        : g[(size_t)a0 * hd + (size_t)j * d + b0] + g[(size_t)b0 * hd + (size_t)j * d + a0];
        return;
    }
    for (int j = 0; j < h; j++) {   /* dA_j += (dW_j + dW_jᵀ) A_j */
        float *gj = g + (size_t)j * d;
        for (int a0 = 0; a0 < d; a0++)   /* symmetrise block j in place */
            for (int b0 = a0; b0 < d; b0++) {
                const float s = gj[(size_t)a0 * hd + b0] + gj[(size_t)b0 * hd + a0];
                gj[(size_t)a0 * hd + b0] = s;
                gj[(size_t)b0 * hd + a0] = s;
            }
        xb_gemm(0, 0, d, dh, d, 1.0f, gj, hd, w + (size_t)j * dh, d, 1.0f, dw + (size_t)j * dh, d);
    }
}

/* §21: h(2Nd² + 4N²d) + elementwise 3N²h + Nd·h; causal: N² → N(N+1)/2 */
static double ma_flops(const xb_mixer_cfg *c, int N)
{
    const double n = N, d = c->d, h = c->heads;
    const double pairs = c->causal ? n * (n + 1) / 2 : n * n;
    return h * (2 * n * d * d + 4 * pairs * d) + 3 * pairs * h + n * d * h;
}

/* naive double: W_j written out from the stored tensor, dense masked scores per head */
static void ma_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len, double *y,
                         int B, int N)
{
    const int d = c->d, h = c->heads, cols = wcols(c), dh = d / h;
    double *W = calloc((size_t)d * d, sizeof(double)), *z = calloc((size_t)N * d, sizeof(double));
    double *p = calloc((size_t)N, sizeof(double));
    XB_ASSERT(W && z && p);
    for (size_t i = 0; i < (size_t)B * N * d; i++) y[i] = 0;
    for (int j = 0; j < h; j++) {
        for (int a = 0; a < d; a++)
            for (int b = 0; b < d; b++) {
                double v = 0;
                if (xb_cfg_int(c, OPT_VARIANT) == MA_FULL) v = w[(size_t)a * cols + (size_t)j * d + b];
                else if (xb_cfg_int(c, OPT_VARIANT) == MA_SYM)
                    v = a <= b ? w[(size_t)a * cols + (size_t)j * d + b] : w[(size_t)b * cols + (size_t)j * d + a];
                else
                    for (int q = 0; q < dh; q++)
                        v += (double)w[(size_t)a * cols + (size_t)j * dh + q] * w[(size_t)b * cols + (size_t)j * dh + q];
                W[(size_t)a * d + b] = xb_cfg_int(c, OPT_VARIANT) == MA_SYM && a == b ? 2 * v : v;
            }
        for (int bb = 0; bb < B; bb++) {
            const int n = xb_len(len, bb, N);
            const float *xb = x + (size_t)bb * N * d;
            for (int t = 0; t < n; t++)
                for (int e = 0; e < d; e++) {
                    double s = 0;
                    for (int a = 0; a < d; a++) s += (double)xb[(size_t)t * d + a] * W[(size_t)a * d + e];
                    z[(size_t)t * d + e] = s;
                }
            for (int i = 0; i < n; i++) {
                const int kend = c->causal ? i + 1 : n;
                double mx = -INFINITY, sum = 0;
                for (int k = 0; k < kend; k++) {
                    double s = 0;
                    for (int e = 0; e < d; e++) s += z[(size_t)i * d + e] * xb[(size_t)k * d + e];
                    p[k] = s / sqrt((double)d);
                    if (p[k] > mx) mx = p[k];
                }
                for (int k = 0; k < kend; k++) { p[k] = exp(p[k] - mx); sum += p[k]; }
                for (int e = 0; e < d; e++) {
                    double o = 0;
                    for (int k = 0; k < kend; k++) o += p[k] * xb[(size_t)k * d + e];
                    y[((size_t)bb * N + i) * d + e] += o / sum / h;
                }
            }
        }
    }
    free(W); free(z); free(p);
}

/* ---- decode (causal): the cache holds the input rows (they are the keys and the values);
 * token t: z_j = x W_j per head, o_j = softmax(z_j X_{0..t}ᵀ/√d) X_{0..t} by the split-K of
 * core/attn_decode.c (h query heads on one kv head of width d), y = (1/h) Σ_j o_j. z_j comes
 * from the stored tensor as the forward's Wp does, without materialising Wp: x U_j + x U_jᵀ
 * over U's upper triangle (symmetric), (x A_j) A_jᵀ (psd). ---- */

static size_t ma_decode_state(const xb_mixer_cfg *c, int n_max) { return (size_t)n_max * c->d; }

/* z, o (h·d each), x A (d) | one span and its offsets (ints) | xb_attn_decode's scratch */
typedef struct dscr { float *z, *o, *u, *att; xb_attn_span *sp; int *off; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    const size_t hd = (size_t)c->heads * c->d;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->z, hd, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, hd, XB_SCR_PACKED);
    XB_TAKE(&s, b->u, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->sp, 1, XB_SCR_64F);
    XB_TAKE(&s, b->off, 2, XB_SCR_PACKED);
    XB_TAKE(&s, b->att, xb_attn_decode_scratch(c->heads, c->d, 1), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

static size_t ma_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

static void ma_decode_prefill(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int n,
                              float *state, float *scratch)
{
    (void)n_max; (void)w; (void)scratch;
    memcpy(state, x, (size_t)n * c->d * sizeof(float));
}

static void ma_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                           float *state, float *y, float *scratch)
{
    (void)n_max;
    XB_ASSERT(c->causal);
    const int d = c->d, h = c->heads, hd = h * d, dh = d / h;
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *z = sc.z, *o = sc.o, *u = sc.u;
    xb_attn_span *sp = sc.sp;
    int *off = sc.off;
    if (xb_cfg_int(c, OPT_VARIANT) == MA_FULL) {
        xb_gemm(0, 0, 1, hd, d, 1.0f, x, d, w, hd, 0.0f, z, hd);
    } else if (xb_cfg_int(c, OPT_VARIANT) == MA_SYM) {   /* z_j[b] = Σ_{a≤b} x_a U_j[a][b] + Σ_{a≥b} x_a U_j[b][a] */
        memset(z, 0, (size_t)hd * sizeof(float));
        for (int a = 0; a < d; a++)
            for (int j = 0; j < h; j++) {
                const float *ua = w + (size_t)a * hd + (size_t)j * d;
                float *zj = z + (size_t)j * d, dot = 0.0f;
                for (int b = a; b < d; b++) {
                    zj[b] += x[a] * ua[b];
                    dot += ua[b] * x[b];
                }
                zj[a] += dot;
            }
    } else {   /* z_j = (x A_j) A_jᵀ */
        xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w, d, 0.0f, u, d);
        for (int j = 0; j < h; j++)
            xb_gemm(0, 1, 1, d, dh, 1.0f, u + (size_t)j * dh, dh, w + (size_t)j * dh, d, 0.0f, z + (size_t)j * d, d);
    }
    memcpy(state + (size_t)t * d, x, (size_t)d * sizeof(float));
    sp[0] = (xb_attn_span){0, t + 1};
    off[0] = 0;
    off[1] = 1;
    xb_attn_keys a = {.hq = h, .hkv = 1, .dh = d, .ld = d, .scale = 1.0f / sqrtf((float)d), .spans = sp, .off = off};
    xb_attn_decode(&a, z, state, state, o, sc.att);
    const float inv = 1.0f / (float)h;   /* the mean of the heads, summed in the forward's order */
    for (int e = 0; e < d; e++) y[e] = o[e];
    for (int j = 1; j < h; j++)
        for (int e = 0; e < d; e++) y[e] += o[(size_t)j * d + e];
    for (int e = 0; e < d; e++) y[e] *= inv;
}

/* What xbench dump states beyond the tensors. */
static const char *ma_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    const char *n = t->name;
    if (!strcmp(n, "W")) return "(d, h*d) row-major: head j = columns [j*d, (j+1)*d) = W_j; S_j = X W_j X^T / sqrt(d)";
    if (!strcmp(n, "U"))
        return "(d, h*d) row-major: head j = columns [j*d, (j+1)*d) = U_j, upper triangular (the strictly lower "
               "part is 0 and stays 0); W_j = U_j + U_j^T";
    if (!strcmp(n, "A")) return "(d, h*d_h) row-major: head j = columns [j*d_h, (j+1)*d_h) = A_j; W_j = A_j A_j^T";
    return NULL;
}

static void ma_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    const int v = xb_cfg_int(c, OPT_VARIANT);
    xb_fact_text(f, "variant", "%s", v >= 1 && v <= 3 ? variant_names[v - 1] : "?");
    xb_fact_int(f, "heads", c->heads);
    xb_fact_text(f, "heads_rule", "h = the model's heads (MIXERS.md §21 suggests h = 1); head width d");
    xb_fact_text(f, "attention", "S_j = X W_j X^T / sqrt(d) (causal mask if causal), O_j = softmax(S_j) X, "
                                 "Y = mean over heads of O_j; no V, no O projection");
    xb_fact_text(f, "status", "unverified (MIXERS.md §31): equations read from the paper's abstract");
}

const xb_mixer xb_mixer_minattn = {
    .name = "minattn",
    .family = "attention (reduced)",
    .cite = "Bermeitinger et al. 2024, Reducing the Transformer Architecture to a Minimum",
    .complexity = "N^2",
    XB_OPTS(ma_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 1,
    .check = ma_check,
    .tensors = ma_tensors,
    .init = ma_init,
    .n_saved = ma_n_saved,
    .n_scratch = ma_n_scratch,
    .forward = ma_forward,
    .backward = ma_backward,
    .flops = ma_flops,
    .reference = ma_reference,
    .decode_state = ma_decode_state,
    .decode_scratch = ma_decode_scratch,
    .decode_prefill = ma_decode_prefill,
    .decode_step = ma_decode_step,
    .layout = ma_layout,
    .facts = ma_facts,
};
