/* core/layers.h — the model's layers as plain forward/backward pairs over flat float arrays
 * (llm.c style). core/model.c strings them together; tests/test_layers.c checks every
 * backward against central finite differences.
 *
 * Legend: R rows (= B·N tokens), B sequences (examples), N tokens per sequence, d width,
 * H hidden width, V vocabulary, C classes, k conv taps. Row-major; index products in size_t.
 *
 * Conventions (every function below):
 *   - forward OVERWRITES its outputs and its `saved` buffers;
 *   - backward ACCUMULATES (+=) into input gradients (dx) AND weight gradients (dw), so a
 *     tensor used twice (the residual stream) just receives two contributions; the caller
 *     zeroes them. The one exception is xb_xent_backward, which overwrites dlogits.
 *   - weight slabs are described by xb_tensor tables (names, offsets, flags) like mixers:
 *     Linear weights are (in, out) row-major (y = x W + c), XB_T_DECAY on matrices.
 *   - len[b] (1 ≤ len[b] ≤ N) is the number of real tokens of sequence b (NULL = all N).
 *   - Parallelism: `omp parallel for schedule(static)` over rows where rows are independent;
 *     reductions over rows (bias, norm and conv weight gradients) are split by ownership:
 *     each thread owns a block of 16 columns and sums its rows in row order, so results do
 *     not depend on the thread count. Products go through xb_gemm from serial code.
 *     No function allocates; buffers and scratch are passed in. */
#ifndef XB_LAYERS_H
#define XB_LAYERS_H

#include <stddef.h>
#include <stdint.h>

#include "core/mixer.h"
#include "core/task.h"

#define XB_RMS_EPS 1e-5f

/* ---- token embedding + optional learned positions -------------------------------------
 * out[b,t,:] = wte[tok[b,t], :] + (wpe ? wpe[t, :] : 0)
 * tok (B,N) int32 in [0,V); wte (V,d); wpe (N_max ≥ N, d) or NULL; out (B,N,d).
 * backward: dwte[tok] += dout (serial over rows per column block: tokens collide);
 * dwpe[t] += Σ_b dout[b,t] (dwpe may be NULL). */
void xb_embed_forward(float *out, const int32_t *tok, const float *wte, const float *wpe,
                      int B, int N, int d);
void xb_embed_backward(float *dwte, float *dwpe, const float *dout, const int32_t *tok,
                       int B, int N, int d);

/* ---- RMSNorm ----------------------------------------------------------------------------
 * y = x · rstd ⊙ w,  rstd = 1 / sqrt(mean_j x_j² + 1e-5)
 * x, y (R,d); w (d); saved rstd (R).
 * backward: dx += rstd·(w⊙dy) − rstd³/d · x · Σ_j w_j dy_j x_j;  dw += Σ_rows dy ⊙ x·rstd. */
void xb_rmsnorm_forward(float *y, float *rstd, const float *x, const float *w, int R, int d);
void xb_rmsnorm_backward(float *dx, float *dw, const float *dy, const float *x, const float *w,
                         const float *rstd, int R, int d);

/* ---- Linear -----------------------------------------------------------------------------
 * y (R,out) = x (R,in) · W (in,out) + b (out; NULL = no bias).
 * backward: dx += dy Wᵀ (dx may be NULL), dW += xᵀ dy, db += Σ_rows dy (db may be NULL). */
void xb_linear_forward(float *y, const float *x, const float *W, const float *b,
                       int R, int in, int out);
void xb_linear_backward(float *dx, float *dW, float *db, const float *dy, const float *x,
                        const float *W, int R, int in, int out);

/* Column sums: acc[c] += Σ_r X[r,c] (X is R×C; summed in row order, double accumulator). */
void xb_colsum_acc(float *acc, const float *X, int R, int C);

/* ---- elementwise --------------------------------------------------------------------- */
/* GELU, exact form: gelu(z) = z · Φ(z) = ½ z (1 + erf(z/√2)). */
float xb_gelu(float z);
float xb_gelu_grad(float z);   /* Φ(z) + z φ(z) */
/* y = max(x, 0) (y may alias x);  backward: dx += dy · [y > 0]. */
void xb_relu_forward(float *y, const float *x, size_t n);
void xb_relu_backward(float *dx, const float *dy, const float *y, size_t n);

/* The MLP kinds (model: {mlp: none|mlp|glu}; core/text.h has their words). Here, not in
 * core/model.h, so the layers do not depend on the model built from them. */
enum { XB_MLP_NONE = 0, XB_MLP_PLAIN = 1, XB_MLP_GLU = 2 };

/* ---- MLP (position-wise) ----------------------------------------------------------------
 * kind XB_MLP_PLAIN: y = gelu(x W1 + c1) W2 + c2        tensors W1 (d,H), c1 (H), W2 (H,d), c2 (d)
 * kind XB_MLP_GLU:   y = (silu(x W1) ⊙ (x W2)) W3        tensors W12 (d,2H) = [W1 | W2] (one
 *                    GEMM; columns [0,H) are W1, [H,2H) W2), W3 (H,d); no biases (LLaMA form).
 * x, y (R,d).  saved: PLAIN (R, 2H) = pre-activation h then gelu(h);
 *                     GLU   (R, 3H) = u = x W12 (R,2H) then g = silu(u1)⊙u2 (R,H).
 * scratch (backward only): PLAIN R·H, GLU R·2H floats. */
int xb_mlp_tensors(int kind, int d, int H, xb_tensor *out);   /* count; out may be NULL */
size_t xb_mlp_n_params(int kind, int d, int H);
size_t xb_mlp_n_saved(int kind, int R, int H);
size_t xb_mlp_n_scratch(int kind, int R, int H);
void xb_mlp_forward(int kind, float *y, float *saved, const float *x, const float *w,
                    int R, int d, int H);
void xb_mlp_backward(int kind, float *dx, float *dw, const float *dy, const float *x,
                     const float *saved, const float *w, float *scratch, int R, int d, int H);

/* ---- short depthwise convolution with a skip (Zoology: u + conv_k(u)) ----------------------
 * y[b,t,c] = u[b,t,c] + Σ_{τ<k} w[τ,c] · u[b, t − τ + s, c]   for t < len[b], 0 at pads,
 * s = 0 in causal mode (taps at t, t−1, …, t−k+1: lag order, MIXERS.md §32) and s = ⌊(k−1)/2⌋
 * in centred (bidirectional) mode; u is read as 0 outside [0, len[b]) so pads never leak.
 * u, y (B,N,d); w (k,d), no bias.
 * backward: du += dy + Σ_τ w[τ] · dy[t + τ − s] (dy read as 0 at pads, du stays 0 there);
 *           dw[τ,c] += Σ_{b,t} dy[b,t,c] · u[b, t − τ + s, c]. */
void xb_shortconv_forward(float *y, const float *u, const float *w, const int *len,
                          int B, int N, int d, int k, int causal);
void xb_shortconv_backward(float *du, float *dw, const float *dy, const float *u, const float *w,
                           const int *len, int B, int N, int d, int k, int causal);

/* ---- mean pooling over real tokens -----------------------------------------------------
 * p[b,:] = (1/len[b]) Σ_{t<len[b]} x[b,t,:];  x (B,N,d), p (B,d).
 * backward: dx[b,t,:] += dp[b,:]/len[b] for t < len[b]; pads get nothing. */
void xb_meanpool_forward(float *p, const float *x, const int *len, int B, int N, int d);
void xb_meanpool_backward(float *dx, const float *dp, const int *len, int B, int N, int d);

/* ---- heads -------------------------------------------------------------------------------
 * The head reads the final normalised states h and writes logits.
 * CLS  (B examples, h (B,N,d)):   p = meanpool(h) → z1 = p W1 + c1 → a1 = relu(z1)
 *                                  → logits (B,C) = a1 W2 + c2.
 *      tensors W1 (d,hh), c1 (hh), W2 (hh,C), c2 (C); saved per example: p (d), a1 (hh).
 * PAIR (B examples, h (2B,N,d): sequence 2i is tower a of example i, 2i+1 tower b; len has 2B
 *      entries): u = pool(a), v = pool(b), f = [u, v, u⊙v, u−v] (4d) → relu(f W1 + c1) (hh)
 *      → relu(· W2 + c2) (hh/2) → logits (B,2) = · W3 + c3.
 *      tensors W1 (4d,hh), c1, W2 (hh,hh/2), c2, W3 (hh/2,C), c3; saved per example:
 *      u,v (2d), f (4d), a1 (hh), a2 (hh/2).
 * TOK  (B examples, h (B,N,d)): logits (B·N, C) = h W + c; tensors W (d,C), c (C); no saved.
 * backward: dh += (pads receive 0), dw +=; scratch per example: CLS d+hh, PAIR 6d+hh+hh/2
 * (hh = head hidden width; C = classes, PAIR uses C = 2). */
int xb_head_tensors(xb_shape s, int d, int hh, int C, xb_tensor *out);   /* out may be NULL */
size_t xb_head_n_params(xb_shape s, int d, int hh, int C);
size_t xb_head_n_saved(xb_shape s, int B, int d, int hh);
size_t xb_head_n_scratch(xb_shape s, int B, int d, int hh);
void xb_head_forward(xb_shape s, float *logits, float *saved, const float *h, const int *len,
                     const float *w, int B, int N, int d, int hh, int C);
void xb_head_backward(xb_shape s, float *dh, float *dw, const float *dlogits, const float *h,
                      const int *len, const float *saved, const float *w, float *scratch,
                      int B, int N, int d, int hh, int C);

/* ---- softmax cross-entropy ----------------------------------------------------------------
 * For each row r with y[r] ≠ XB_IGNORE: loss_r = logsumexp(logits[r]) − logits[r, y[r]]
 * (max-subtracted). Returns the mean over counted rows (0 if none) and their number in *count.
 * logits, probs (R,C); rowloss (R) (0 on ignored rows); summed in row order in double.
 * backward: dlogits = (probs − onehot(y)) · scale on counted rows, 0 on ignored rows
 * (OVERWRITES; scale is normally 1/count). */
float xb_xent_forward(float *probs, float *rowloss, const float *logits, const int32_t *y,
                      int R, int C, int *count);
void xb_xent_backward(float *dlogits, const float *probs, const int32_t *y, int R, int C,
                      float scale);

#endif
