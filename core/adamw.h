/* core/adamw.h — AdamW (Loshchilov & Hutter 2019, decoupled weight decay), the learning-rate
 * schedule (linear warm-up, then cosine decay to 0) and the global gradient norm. Used by
 * core/train.c; split out so tests can check each piece. */
#ifndef XB_ADAMW_H
#define XB_ADAMW_H

#include <stddef.h>

#define XB_ADAM_EPS 1e-8f

/* Learning rate of step `step` (0-based) of `steps`: W = round(warmup · steps) warm-up steps
 * with lr·(step+1)/W, then lr · ½(1 + cos(π (step − W) / (steps − W))) — reaches 0 only
 * after the last step. */
float xb_lr_at(float lr, float warmup, int steps, int step);

/* √(Σ g²) over the n gradients whose flags lack XB_T_FROZEN (flags may be NULL), summed in
 * double over 64 fixed contiguous parts added in order: independent of the thread count. */
double xb_grad_norm(const float *g, const unsigned char *flags, size_t n);

/* One AdamW step (t = 1, 2, ... for bias correction) on n parameters; gradients are used as
 * g · gscale (the clipping factor). Per parameter, skipping XB_T_FROZEN entirely:
 *   p ← p − lr·wd·p            (only XB_T_DECAY)
 *   m ← β1 m + (1−β1) g;  v ← β2 v + (1−β2) g²
 *   p ← p − lr · (m / (1−β1^t)) / (√(v / (1−β2^t)) + 1e-8)
 * Elementwise, parallel over parameters. */
void xb_adamw_step(float *p, const float *g, float *m, float *v, const unsigned char *flags,
                   size_t n, float lr, float beta1, float beta2, float wd, float gscale, int t);

#endif
