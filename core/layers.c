/* core/layers.c — embedding, RMSNorm, Linear, GELU/ReLU, MLP (plain and GLU), short conv
 * with skip, mean pooling and softmax cross-entropy (shapes and math in core/layers.h; the
 * heads are in core/heads.c). Forward overwrites, backward accumulates. */
#include "core/layers.h"

#include <math.h>
#include <string.h>

#include "core/gemm.h"
#include "core/vmath.h"
#include "core/xb.h"

/* Reductions over rows are split into blocks of CB columns, one block per loop iteration,
 * so each output column is summed by one thread in row order (thread-count independent). */
#define CB 16
/* Loops with less work than this run on the calling thread (same arithmetic per iteration,
 * so results do not change): a parallel region costs more than it saves on tiny layers. */
#define XB_PAR_MIN 32768
static inline int n_cblocks(int C) { return (C + CB - 1) / CB; }

/* ---- embedding ------------------------------------------------------------------------ */

void xb_embed_forward(float *out, const int32_t *tok, const float *wte, const float *wpe,
                      int B, int N, int d)
{
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (long r = 0; r < (long)B * N; r++) {
        const float *e = wte + (size_t)tok[r] * d;
        float *o = out + (size_t)r * d;
        if (wpe) {
            const float *p = wpe + (size_t)(r % N) * d;
            for (int j = 0; j < d; j++) o[j] = e[j] + p[j];
        } else {
            memcpy(o, e, (size_t)d * sizeof(float));
        }
    }
}

void xb_embed_backward(float *dwte, float *dwpe, const float *dout, const int32_t *tok,
                       int B, int N, int d)
{
    /* rows sharing a token add into the same dwte row: each column block is owned by one
     * iteration, which walks the rows in order */
    int nb = n_cblocks(d);
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (int cb = 0; cb < nb; cb++) {
        int c0 = cb * CB, c1 = xb_min(d, c0 + CB);
        for (long r = 0; r < (long)B * N; r++) {
            float *g = dwte + (size_t)tok[r] * d;
            const float *s = dout + (size_t)r * d;
            for (int j = c0; j < c1; j++) g[j] += s[j];
        }
    }
    if (!dwpe) return;
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (int t = 0; t < N; t++) {
        float *g = dwpe + (size_t)t * d;
        for (int b = 0; b < B; b++) {
            const float *s = dout + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) g[j] += s[j];
        }
    }
}

/* ---- RMSNorm ---------------------------------------------------------------------------- */

void xb_rmsnorm_forward(float *y, float *rstd, const float *x, const float *w, int R, int d)
{
    #pragma omp parallel for schedule(static) if ((long)R * d >= XB_PAR_MIN)
    for (long r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * d;
        float *yr = y + (size_t)r * d;
        float ss = 0.0f;
        for (int j = 0; j < d; j++) ss += xr[j] * xr[j];
        float s = 1.0f / sqrtf(ss / (float)d + XB_RMS_EPS);
        rstd[r] = s;   /* backward needs it */
        for (int j = 0; j < d; j++) yr[j] = xr[j] * s * w[j];
    }
}

void xb_rmsnorm_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                         const float *rstd, int R, int d)
{
    /* split so each loop owns its output: dx by rows, dw by column blocks */
    #pragma omp parallel for schedule(static) if ((long)R * d >= XB_PAR_MIN)
    for (long r = 0; r < R; r++) {
        const float *xr = x + (size_t)r * d, *gr = dy + (size_t)r * d;
        float *dr = dx + (size_t)r * d;
        float s = rstd[r], dot = 0.0f;
        for (int j = 0; j < d; j++) dot += w[j] * gr[j] * xr[j];
        float c = s * s * s * dot / (float)d;
        for (int j = 0; j < d; j++) dr[j] += s * w[j] * gr[j] - c * xr[j];
    }
    int nb = n_cblocks(d);
    #pragma omp parallel for schedule(static) if ((long)R * d >= XB_PAR_MIN)
    for (int cb = 0; cb < nb; cb++) {
        int c0 = cb * CB, c1 = xb_min(d, c0 + CB);
        double acc[CB] = {0};
        for (long r = 0; r < R; r++) {
            const float *xr = x + (size_t)r * d, *gr = dy + (size_t)r * d;
            float s = rstd[r];
            for (int j = c0; j < c1; j++) acc[j - c0] += (double)(gr[j] * xr[j] * s);
        }
        for (int j = c0; j < c1; j++) dw[j] += (float)acc[j - c0];
    }
}

/* ---- Linear ------------------------------------------------------------------------------ */

void xb_colsum_acc(float *acc, const float *X, int R, int C)
{
    int nb = n_cblocks(C);
    #pragma omp parallel for schedule(static) if ((long)R * C >= XB_PAR_MIN)
    for (int cb = 0; cb < nb; cb++) {
        int c0 = cb * CB, c1 = xb_min(C, c0 + CB);
        double s[CB] = {0};
        for (long r = 0; r < R; r++) {
            const float *xr = X + (size_t)r * C;
            for (int j = c0; j < c1; j++) s[j - c0] += xr[j];
        }
        for (int j = c0; j < c1; j++) acc[j] += (float)s[j - c0];
    }
}

void xb_linear_forward(float *y, const float *x, const float *W, const float *b,
                       int R, int in, int out)
{
    xb_gemm(0, 0, R, out, in, 1.0f, x, in, W, out, 0.0f, y, out);
    if (!b) return;
    #pragma omp parallel for schedule(static) if ((long)R * out >= XB_PAR_MIN)
    for (long r = 0; r < R; r++) {
        float *yr = y + (size_t)r * out;
        for (int j = 0; j < out; j++) yr[j] += b[j];
    }
}

void xb_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                        const float *W, int R, int in, int out)
{
    if (dx) xb_gemm(0, 1, R, in, out, 1.0f, dy, out, W, out, 1.0f, dx, in);
    xb_gemm(1, 0, in, out, R, 1.0f, x, in, dy, out, 1.0f, dW, out);
    if (db) xb_colsum_acc(db, dy, R, out);
}

/* ---- elementwise --------------------------------------------------------------------------- */

float xb_gelu(float z) { return 0.5f * z * (1.0f + erff(z * (float)M_SQRT1_2)); }

float xb_gelu_grad(float z)
{
    float cdf = 0.5f * (1.0f + erff(z * (float)M_SQRT1_2));
    float pdf = expf(-0.5f * z * z) * 0.3989422804014327f;   /* 1/√(2π) */
    return cdf + z * pdf;
}

void xb_relu_forward(float *y, const float *x, size_t n)
{
    #pragma omp parallel for schedule(static) if (n >= XB_PAR_MIN)
    for (size_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void xb_relu_backward(float *dx, const float *dy, const float *y, size_t n)
{
    #pragma omp parallel for schedule(static) if (n >= XB_PAR_MIN)
    for (size_t i = 0; i < n; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

/* branch-free vmath σ: the GLU loops below vectorise (libm expf kept them scalar) */
static inline float sigmoidf(float z) { return xb_vsigmoid(z); }

/* ---- MLP ------------------------------------------------------------------------------------ */

int xb_mlp_tensors(int kind, int d, int H, xb_tensor *out)
{
    xb_tensor t[4];
    int n = 0;
    size_t o = 0;
    if (kind == XB_MLP_PLAIN) {
        t[n++] = (xb_tensor){"W_1", o, d, H, XB_T_DECAY}; o += (size_t)d * H;
        t[n++] = (xb_tensor){"c_1", o, H, 1, 0};          o += (size_t)H;
        t[n++] = (xb_tensor){"W_2", o, H, d, XB_T_DECAY}; o += (size_t)H * d;
        t[n++] = (xb_tensor){"c_2", o, d, 1, 0};
    } else if (kind == XB_MLP_GLU) {
        t[n++] = (xb_tensor){"W_12", o, d, 2 * H, XB_T_DECAY}; o += (size_t)d * 2 * H;
        t[n++] = (xb_tensor){"W_3", o, H, d, XB_T_DECAY};
    }
    if (out) memcpy(out, t, (size_t)n * sizeof *t);
    return n;
}

size_t xb_mlp_n_params(int kind, int d, int H)
{
    if (kind == XB_MLP_PLAIN) return 2 * (size_t)d * H + H + d;
    if (kind == XB_MLP_GLU) return 3 * (size_t)d * H;
    return 0;
}

size_t xb_mlp_n_saved(int kind, int R, int H)
{
    if (kind == XB_MLP_PLAIN) return 2 * (size_t)R * H;
    if (kind == XB_MLP_GLU) return 3 * (size_t)R * H;
    return 0;
}

size_t xb_mlp_n_scratch(int kind, int R, int H)
{
    if (kind == XB_MLP_PLAIN) return (size_t)R * H;
    if (kind == XB_MLP_GLU) return 2 * (size_t)R * H;
    return 0;
}

void xb_mlp_forward(int kind, float *y, float *saved, const float *x, const float *w,
                    int R, int d, int H)
{
    size_t RH = (size_t)R * H;
    if (kind == XB_MLP_PLAIN) {
        const float *W1 = w, *c1 = W1 + (size_t)d * H, *W2 = c1 + H, *c2 = W2 + (size_t)H * d;
        float *h = saved, *a = saved + RH;
        xb_linear_forward(h, x, W1, c1, R, d, H);
        #pragma omp parallel for schedule(static) if (RH >= XB_PAR_MIN)
        for (size_t i = 0; i < RH; i++) a[i] = xb_gelu(h[i]);
        xb_linear_forward(y, a, W2, c2, R, H, d);
    } else {
        XB_ASSERT(kind == XB_MLP_GLU);
        const float *W12 = w, *W3 = w + (size_t)d * 2 * H;
        float *u = saved, *g = saved + 2 * RH;
        xb_linear_forward(u, x, W12, NULL, R, d, 2 * H);
        #pragma omp parallel for schedule(static) if ((long)R * H >= XB_PAR_MIN)
        for (long r = 0; r < R; r++) {
            const float *u1 = u + (size_t)r * 2 * H, *u2 = u1 + H;
            float *gr = g + (size_t)r * H;
            for (int i = 0; i < H; i++) gr[i] = u1[i] * sigmoidf(u1[i]) * u2[i];
        }
        xb_linear_forward(y, g, W3, NULL, R, H, d);
    }
}

void xb_mlp_backward(int kind, float *dx, float *dw, const float *dy, const float *x,
                     const float *saved, const float *w, float *scratch, int R, int d, int H)
{
    size_t RH = (size_t)R * H;
    if (kind == XB_MLP_PLAIN) {
        const float *W1 = w, *c1 = W1 + (size_t)d * H, *W2 = c1 + H;
        float *dW1 = dw, *dc1 = dW1 + (size_t)d * H, *dW2 = dc1 + H, *dc2 = dW2 + (size_t)H * d;
        const float *h = saved, *a = saved + RH;
        float *dh = scratch;
        memset(dh, 0, RH * sizeof(float));
        xb_linear_backward(dh, dW2, dc2, dy, a, W2, R, H, d);   /* dh holds da */
        #pragma omp parallel for schedule(static) if (RH >= XB_PAR_MIN)
        for (size_t i = 0; i < RH; i++) dh[i] *= xb_gelu_grad(h[i]);
        xb_linear_backward(dx, dW1, dc1, dh, x, W1, R, d, H);
    } else {
        XB_ASSERT(kind == XB_MLP_GLU);
        const float *W12 = w, *W3 = w + (size_t)d * 2 * H;
        float *dW12 = dw, *dW3 = dw + (size_t)d * 2 * H;
        const float *u = saved, *g = saved + 2 * RH;
        float *du = scratch;   /* (R, 2H) */
        /* dg = dy W3ᵀ lands in the second half of du's rows, then is replaced in place */
        xb_gemm(0, 1, R, H, d, 1.0f, dy, d, W3, d, 0.0f, du + H, 2 * H);
        xb_gemm(1, 0, H, d, R, 1.0f, g, H, dy, d, 1.0f, dW3, d);
        #pragma omp parallel for schedule(static) if ((long)R * H >= XB_PAR_MIN)
        for (long r = 0; r < R; r++) {
            const float *u1 = u + (size_t)r * 2 * H, *u2 = u1 + H;
            float *d1 = du + (size_t)r * 2 * H, *d2 = d1 + H;
            for (int i = 0; i < H; i++) {
                float s = sigmoidf(u1[i]), gv = d2[i];
                d1[i] = gv * u2[i] * s * (1.0f + u1[i] * (1.0f - s));   /* silu' = σ(1 + z(1−σ)) */
                d2[i] = gv * u1[i] * s;
            }
        }
        xb_linear_backward(dx, dW12, NULL, du, x, W12, R, d, 2 * H);
    }
}

/* ---- short conv with skip ------------------------------------------------------------------ */

void xb_shortconv_forward(float *y, const float *u, const float *w, const int *len,
                          int B, int N, int d, int k, int causal)
{
    int s = causal ? 0 : (k - 1) / 2;
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (long r = 0; r < (long)B * N; r++) {
        int b = (int)(r / N), t = (int)(r % N), L = xb_len(len, b, N);
        float *yr = y + (size_t)r * d;
        if (t >= L) { memset(yr, 0, (size_t)d * sizeof(float)); continue; }
        const float *ur = u + (size_t)r * d;
        for (int j = 0; j < d; j++) yr[j] = ur[j];
        for (int tau = 0; tau < k; tau++) {
            int src = t - tau + s;
            if (src < 0 || src >= L) continue;   /* zero history; pads read as 0 */
            const float *us = u + ((size_t)b * N + src) * d, *wt = w + (size_t)tau * d;
            for (int j = 0; j < d; j++) yr[j] += wt[j] * us[j];
        }
    }
}

void xb_shortconv_backward(float *du, float *dw, const float *dy, const float *u, const float *w,
                           const int *len, int B, int N, int d, int k, int causal)
{
    int s = causal ? 0 : (k - 1) / 2;
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (long r = 0; r < (long)B * N; r++) {
        int b = (int)(r / N), t = (int)(r % N), L = xb_len(len, b, N);
        if (t >= L) continue;
        float *dr = du + (size_t)r * d;
        const float *gr = dy + (size_t)r * d;
        for (int j = 0; j < d; j++) dr[j] += gr[j];
        for (int tau = 0; tau < k; tau++) {
            int dst = t + tau - s;   /* the output that read u[t] through tap tau */
            if (dst < 0 || dst >= L) continue;
            const float *gd = dy + ((size_t)b * N + dst) * d, *wt = w + (size_t)tau * d;
            for (int j = 0; j < d; j++) dr[j] += wt[j] * gd[j];
        }
    }
    int nb = n_cblocks(d);
    #pragma omp parallel for schedule(static) if ((long)B * N * d * k >= XB_PAR_MIN)
    for (int cb = 0; cb < nb; cb++) {
        int c0 = cb * CB, c1 = xb_min(d, c0 + CB);
        for (int tau = 0; tau < k; tau++) {
            double acc[CB] = {0};
            for (int b = 0; b < B; b++) {
                int L = xb_len(len, b, N);
                for (int t = 0; t < L; t++) {
                    int src = t - tau + s;
                    if (src < 0 || src >= L) continue;
                    const float *gr = dy + ((size_t)b * N + t) * d, *us = u + ((size_t)b * N + src) * d;
                    for (int j = c0; j < c1; j++) acc[j - c0] += (double)(gr[j] * us[j]);
                }
            }
            for (int j = c0; j < c1; j++) dw[(size_t)tau * d + j] += (float)acc[j - c0];
        }
    }
}

/* ---- mean pooling ---------------------------------------------------------------------------- */

void xb_meanpool_forward(float *p, const float *x, const int *len, int B, int N, int d)
{
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (int b = 0; b < B; b++) {
        int L = xb_len(len, b, N);
        float *pb = p + (size_t)b * d;
        memset(pb, 0, (size_t)d * sizeof(float));
        for (int t = 0; t < L; t++) {
            const float *xr = x + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) pb[j] += xr[j];
        }
        float inv = 1.0f / (float)L;
        for (int j = 0; j < d; j++) pb[j] *= inv;
    }
}

void xb_meanpool_backward(float *dx, const float *dp, const int *len, int B, int N, int d)
{
    #pragma omp parallel for schedule(static) if ((long)B * N * d >= XB_PAR_MIN)
    for (long r = 0; r < (long)B * N; r++) {
        int b = (int)(r / N), t = (int)(r % N), L = xb_len(len, b, N);
        if (t >= L) continue;
        float inv = 1.0f / (float)L;
        const float *g = dp + (size_t)b * d;
        float *dr = dx + (size_t)r * d;
        for (int j = 0; j < d; j++) dr[j] += g[j] * inv;
    }
}

/* ---- softmax cross-entropy ---------------------------------------------------------------------- */

#define XENT_LANES 16

float xb_xent_forward(float *probs, float *rowloss, const float *logits, const int32_t *y,
                      int R, int C, int *count)
{
    #pragma omp parallel for schedule(static) if ((long)R * C >= XB_PAR_MIN)
    for (long r = 0; r < R; r++) {
        const float *z = logits + (size_t)r * C;
        float *p = probs + (size_t)r * C;
        float mx = z[0];
        for (int c = 1; c < C; c++) mx = z[c] > mx ? z[c] : mx;
        /* vmath exp (vectorises); the sum in XENT_LANES fixed partial sums, added in order */
        float part[XENT_LANES] = {0};
        for (int c = 0; c < C; c++) p[c] = xb_vexp(z[c] - mx);
        int c0 = 0;
        for (; c0 + XENT_LANES <= C; c0 += XENT_LANES)
            for (int l = 0; l < XENT_LANES; l++) part[l] += p[c0 + l];
        for (int l = 0; c0 + l < C; l++) part[l] += p[c0 + l];
        double sum = 0.0;
        for (int l = 0; l < XENT_LANES; l++) sum += part[l];
        float inv = (float)(1.0 / sum);
        for (int c = 0; c < C; c++) p[c] *= inv;
        int t = y ? y[r] : XB_IGNORE;
        rowloss[r] = t == XB_IGNORE ? 0.0f : (float)(log(sum) + (double)(mx - z[t]));
    }
    double tot = 0.0;   /* fixed row order */
    int n = 0;
    for (long r = 0; r < R; r++)
        if (y && y[r] != XB_IGNORE) { tot += rowloss[r]; n++; }
    if (count) *count = n;
    return n ? (float)(tot / n) : 0.0f;
}

void xb_xent_backward(float *dlogits, const float *probs, const int32_t *y, int R, int C,
                      float scale)
{
    #pragma omp parallel for schedule(static) if ((long)R * C >= XB_PAR_MIN)
    for (long r = 0; r < R; r++) {
        float *g = dlogits + (size_t)r * C;
        const float *p = probs + (size_t)r * C;
        if (y[r] == XB_IGNORE) { memset(g, 0, (size_t)C * sizeof(float)); continue; }
        for (int c = 0; c < C; c++) g[c] = p[c] * scale;
        g[y[r]] -= scale;
    }
}
