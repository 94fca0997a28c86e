/* core/heads.c — the classifier heads (TASKS.md §0.2): CLS mean-pool MLP, PAIR two-tower
 * [u, v, u⊙v, u−v] MLP, TOK per-token Dense. Shapes, tensors and saved layouts are in
 * core/layers.h. Forward overwrites logits and saved; backward accumulates into dh and dw. */
#include <string.h>

#include "core/layers.h"
#include "core/xb.h"

static int pair_h2(int hh) { return hh / 2 > 0 ? hh / 2 : 1; }

int xb_head_tensors(xb_shape s, int d, int hh, int C, xb_tensor *out)
{
    xb_tensor t[6];
    int n = 0;
    size_t o = 0;
#define ADD(nm, r, c, f) do { t[n++] = (xb_tensor){nm, o, (r), (c), (f)}; o += (size_t)(r) * (c); } while (0)
    if (s == XB_SHAPE_CLS) {
        ADD("W_1", d, hh, XB_T_DECAY); ADD("c_1", hh, 1, 0);
        ADD("W_2", hh, C, XB_T_DECAY); ADD("c_2", C, 1, 0);
    } else if (s == XB_SHAPE_PAIR) {
        int h2 = pair_h2(hh);
        ADD("W_1", 4 * d, hh, XB_T_DECAY); ADD("c_1", hh, 1, 0);
        ADD("W_2", hh, h2, XB_T_DECAY);    ADD("c_2", h2, 1, 0);
        ADD("W_3", h2, C, XB_T_DECAY);     ADD("c_3", C, 1, 0);
    } else {
        ADD("W", d, C, XB_T_DECAY); ADD("c", C, 1, 0);
    }
#undef ADD
    if (out) memcpy(out, t, (size_t)n * sizeof *t);
    return n;
}

size_t xb_head_n_params(xb_shape s, int d, int hh, int C)
{
    xb_tensor t[6];
    int n = xb_head_tensors(s, d, hh, C, t);
    return t[n - 1].offset + (size_t)t[n - 1].rows * t[n - 1].cols;
}

size_t xb_head_n_saved(xb_shape s, int B, int d, int hh)
{
    if (s == XB_SHAPE_CLS) return (size_t)B * (d + hh);
    if (s == XB_SHAPE_PAIR) return (size_t)B * (6 * d + hh + pair_h2(hh));
    return 0;
}

size_t xb_head_n_scratch(xb_shape s, int B, int d, int hh)
{
    return xb_head_n_saved(s, B, d, hh);   /* one gradient buffer per saved buffer */
}

/* dz = dy ⊙ [a > 0], in place over dy (a = relu(z) saved) */
static void relu_mask(float *g, const float *a, size_t n)
{
    for (size_t i = 0; i < n; i++) if (!(a[i] > 0.0f)) g[i] = 0.0f;
}

void xb_head_forward(xb_shape s, float *logits, float *saved, const float *h, const int *len,
                     const float *w, int B, int N, int d, int hh, int C)
{
    if (s == XB_SHAPE_TOK) {
        xb_linear_forward(logits, h, w, w + (size_t)d * C, B * N, d, C);
        return;
    }
    if (s == XB_SHAPE_CLS) {
        const float *W1 = w, *c1 = W1 + (size_t)d * hh, *W2 = c1 + hh, *c2 = W2 + (size_t)hh * C;
        float *P = saved, *A1 = P + (size_t)B * d;
        xb_meanpool_forward(P, h, len, B, N, d);
        xb_linear_forward(A1, P, W1, c1, B, d, hh);
        xb_relu_forward(A1, A1, (size_t)B * hh);
        xb_linear_forward(logits, A1, W2, c2, B, hh, C);
        return;
    }
    XB_ASSERT(s == XB_SHAPE_PAIR);
    int h2 = pair_h2(hh);
    const float *W1 = w, *c1 = W1 + (size_t)4 * d * hh, *W2 = c1 + hh, *c2 = W2 + (size_t)hh * h2;
    const float *W3 = c2 + h2, *c3 = W3 + (size_t)h2 * C;
    float *UV = saved, *F = UV + (size_t)2 * B * d, *A1 = F + (size_t)4 * B * d, *A2 = A1 + (size_t)B * hh;
    xb_meanpool_forward(UV, h, len, 2 * B, N, d);   /* row 2i = u_i (tower a), 2i+1 = v_i */
    for (int i = 0; i < B; i++) {
        const float *u = UV + (size_t)2 * i * d, *v = u + d;
        float *f = F + (size_t)4 * i * d;
        for (int j = 0; j < d; j++) {
            f[j] = u[j]; f[d + j] = v[j]; f[2 * d + j] = u[j] * v[j]; f[3 * d + j] = u[j] - v[j];
        }
    }
    xb_linear_forward(A1, F, W1, c1, B, 4 * d, hh);
    xb_relu_forward(A1, A1, (size_t)B * hh);
    xb_linear_forward(A2, A1, W2, c2, B, hh, h2);
    xb_relu_forward(A2, A2, (size_t)B * h2);
    xb_linear_forward(logits, A2, W3, c3, B, h2, C);
}

void xb_head_backward(xb_shape s, float *dh, float *dw, const float *dlogits, const float *h,
                      const int *len, const float *saved, const float *w, float *scratch,
                      int B, int N, int d, int hh, int C)
{
    if (s == XB_SHAPE_TOK) {
        xb_linear_backward(dh, dw, dw + (size_t)d * C, dlogits, h, w, B * N, d, C);
        return;
    }
    if (s == XB_SHAPE_CLS) {
        const float *W1 = w, *c1 = W1 + (size_t)d * hh, *W2 = c1 + hh;
        float *dW1 = dw, *dc1 = dW1 + (size_t)d * hh, *dW2 = dc1 + hh, *dc2 = dW2 + (size_t)hh * C;
        const float *P = saved, *A1 = P + (size_t)B * d;
        float *dP = scratch, *dA1 = dP + (size_t)B * d;
        memset(scratch, 0, xb_head_n_scratch(s, B, d, hh) * sizeof(float));
        xb_linear_backward(dA1, dW2, dc2, dlogits, A1, W2, B, hh, C);
        relu_mask(dA1, A1, (size_t)B * hh);
        xb_linear_backward(dP, dW1, dc1, dA1, P, W1, B, d, hh);
        xb_meanpool_backward(dh, dP, len, B, N, d);
        return;
    }
    XB_ASSERT(s == XB_SHAPE_PAIR);
    int h2 = pair_h2(hh);
    const float *W1 = w, *c1 = W1 + (size_t)4 * d * hh, *W2 = c1 + hh, *c2 = W2 + (size_t)hh * h2;
    const float *W3 = c2 + h2;
    float *dW1 = dw, *dc1 = dW1 + (size_t)4 * d * hh, *dW2 = dc1 + hh, *dc2 = dW2 + (size_t)hh * h2;
    float *dW3 = dc2 + h2, *dc3 = dW3 + (size_t)h2 * C;
    const float *UV = saved, *F = UV + (size_t)2 * B * d, *A1 = F + (size_t)4 * B * d, *A2 = A1 + (size_t)B * hh;
    float *dUV = scratch, *dF = dUV + (size_t)2 * B * d, *dA1 = dF + (size_t)4 * B * d, *dA2 = dA1 + (size_t)B * hh;
    memset(scratch, 0, xb_head_n_scratch(s, B, d, hh) * sizeof(float));
    xb_linear_backward(dA2, dW3, dc3, dlogits, A2, W3, B, h2, C);
    relu_mask(dA2, A2, (size_t)B * h2);
    xb_linear_backward(dA1, dW2, dc2, dA2, A1, W2, B, hh, h2);
    relu_mask(dA1, A1, (size_t)B * hh);
    xb_linear_backward(dF, dW1, dc1, dA1, F, W1, B, 4 * d, hh);
    for (int i = 0; i < B; i++) {
        const float *u = UV + (size_t)2 * i * d, *v = u + d, *g = dF + (size_t)4 * i * d;
        float *du = dUV + (size_t)2 * i * d, *dv = du + d;
        for (int j = 0; j < d; j++) {
            du[j] = g[j] + g[2 * d + j] * v[j] + g[3 * d + j];
            dv[j] = g[d + j] + g[2 * d + j] * u[j] - g[3 * d + j];
        }
    }
    xb_meanpool_backward(dh, dUV, len, 2 * B, N, d);
}
