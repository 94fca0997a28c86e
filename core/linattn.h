/* core/linattn.h — shared linear-attention machinery (MIXERS.md §8, §9, §32), written once and
 * used by mixers/linear.c and mixers/performer.c:
 *   - feature maps: elu+1 (elementwise) and FAVOR+ positive random features (per head);
 *   - the non-causal closed form  KV = φ(K)ᵀV, z = φ(K)ᵀ1, o_i = φq_iᵀKV / (φq_i·z + ε);
 *   - the CHUNKED causal form (chunk C, one state checkpoint per chunk), forward and backward,
 *     with an optional non-decreasing log-scale g_t per row (performer's running key
 *     stabiliser, §32): key j counts for query i ≥ j with weight exp(g_j − g_i) ≤ 1, i.e.
 *       S_t = e^{g_{t−1}−g_t} S_{t−1} + φk_t v_tᵀ,  z_t likewise,  o_t = S_tᵀφq_t / (φq_t·z_t + ε).
 *     g = NULL means all weights 1 (plain linear attention).
 *
 * Kernels work on ONE (sequence, head): n real rows, feature width F, value width dv, row strides
 * ld*. They are serial (called inside the mixers' OpenMP loop over batch × heads; xb_gemm runs
 * single-threaded there) and touch rows < n only. Every output is overwritten, never accumulated.
 * `work` is caller-provided scratch of xb_linattn_work_floats(F, dv, C) floats, 64-byte aligned. */
#ifndef XB_LINATTN_H
#define XB_LINATTN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "core/vmath.h"
#include "core/xb.h"


/* Floats of `work` one kernel call needs (any of the four kernels below). */
size_t xb_linattn_work_floats(int F, int dv, int C);
/* Floats of one (sequence, head) state record: S (F×dv) then z (F). */
static inline size_t xb_linattn_state_floats(int F, int dv) { return (size_t)F * dv + (size_t)F; }
/* Number of chunks of a length-n sequence. */
static inline int xb_linattn_nchunks(int n, int C) { return (n + C - 1) / C; }

/* ---- feature maps ------------------------------------------------------------------ */

/* φ(x) = elu(x) + 1 elementwise over n floats (x > 0: x + 1, else e^x). */
void xb_elu1_forward(size_t n, const float *x, float *phi);
/* dx = dphi ⊙ φ'(x), with φ'(x) = min(φ(x), 1) (1 for x > 0, e^x = φ otherwise). Overwrites dx. */
void xb_elu1_backward(size_t n, const float *phi, const float *dphi, float *dx);

/* FAVOR+ stabiliser modes (§8, §32), with u = W_rf(c x) and h = ‖c x‖²/2 per row:
 * ROW and ALL are the reference's (lucidrains) bidirectional choices, stab = max of u only, so a
 * row's largest feature is e^{−h}; the causal modes put h into the stabiliser so the largest
 * feature is exactly e^0 whatever the norm (with ε = 0 any per-query constant, and any key
 * stabiliser common to the keys one query sees, cancels exactly in the output). */
#define XB_FAVOR_ROW     0  /* stab = max_f u_f of the row (bidirectional queries) */
#define XB_FAVOR_ALL     1  /* stab = max of u over all n rows and m features (bidirectional keys) */
#define XB_FAVOR_RUNNING 2  /* stab = g_i = max_{t ≤ i} (max_f u_t,f − h_t) (causal keys); g[i] receives it */
#define XB_FAVOR_ROW_H   3  /* stab = max_f u_f − h of the row, i.e. φ ∝ e^{u − max u} (causal queries) */

/* Additive floor on performer's causal denominator, in the units the causal stabilisers give
 * (every φ ≤ m^{-1/2}, the newest running-max key has one feature at m^{-1/2}): see mixers/performer.c. */
#define XB_FAVOR_DEN_FLOOR 1e-20f

/* φ(x_i) = m^{-1/2} (exp(u_i − ‖c x_i‖²/2 − stab_i) + ε),  u_i = W_rf (c x_i),  c = dh^{-1/4}.
 * x [n × dh] stride ldx; wrf [m × dh] row-major; phi [n × m] stride ldphi (overwritten);
 * g [n] (XB_FAVOR_RUNNING only, else may be NULL) receives the stabiliser of each row. */
void xb_favor_forward(int n, int dh, int m, const float *x, int ldx, const float *wrf, int mode,
                      float eps, float *phi, int ldphi, float *g);
/* Backward through φ with the stabiliser held constant (stop-gradient):
 * f = √m φ − ε, du = m^{-1/2} dφ ⊙ f, dx = c W_rfᵀ du − c² x Σ_j du_j.
 * dphi [n × m] stride lddphi is overwritten with du; dx [n × dh] stride lddx is overwritten. */
void xb_favor_backward(int n, int dh, int m, const float *x, int ldx, const float *wrf, float eps,
                       const float *phi, int ldphi, float *dphi, int lddphi, float *dx, int lddx);

/* ---- non-causal closed form -------------------------------------------------------- */

/* KV = φkᵀV, z = φkᵀ1 (into state = [KV | z]); o_i = φq_iᵀKV / den_i, den_i = φq_i·z + eps.
 * pq, pk [n × F] stride ldf; v [n × dv] stride ldv; o [n × dv] stride ldo; den [n]. */
void xb_linattn_bidir_forward(int n, int F, int dv, const float *pq, const float *pk, int ldf,
                              const float *v, int ldv, float eps, float *o, int ldo, float *den,
                              float *state);
/* Given dout (= ∂L/∂o), with o, den and state from forward (§8 backward):
 * dnum = do/den, dden = −(do·o)/den; dφq = dnum KVᵀ + dden zᵀ; dKV = φqᵀdnum, dz = φqᵀdden;
 * dφk = V dKVᵀ + 1 dzᵀ; dV = φk dKV. dpq, dpk [n × F] stride ldf; dvout [n × dv] stride lddv.
 * Rows are processed in blocks of C (work sized by C). */
void xb_linattn_bidir_backward(int n, int F, int dv, int C, const float *pq, const float *pk, int ldf,
                               const float *v, int ldv, const float *o, int ldo, const float *den,
                               const float *state, const float *dout, int lddo, float *dpq,
                               float *dpk, float *dvout, int lddv, float *work);

/* ---- chunked causal form ----------------------------------------------------------- */

/* Chunk c (rows r0..r0+nc−1, Φq Φk V): A = tril(Φq Φkᵀ) ⊙ E, E_ij = e^{g_j − g_i};
 * O_c = diag(a) Φq S_{c−1} + A V, den = diag(a) Φq z_{c−1} + A1 + eps, a_i = e^{G_{c−1} − g_i};
 * S_c = e^{G_{c−1}−G_c} S_{c−1} + (diag(b)Φk)ᵀ V, b_j = e^{g_j − G_c}; G_c = g at the chunk's last row.
 * ckpt [nchunks × (F·dv + F)] receives S_{c−1}, z_{c−1} before chunk c (what backward needs).
 * g [n] non-decreasing or NULL; o [n × dv] stride ldo; den [n]. */
void xb_linattn_causal_forward(int n, int F, int dv, int C, const float *pq, const float *pk, int ldf,
                               const float *v, int ldv, const float *g, float eps, float *o, int ldo,
                               float *den, float *ckpt, float *work);
/* Reverse scan over chunks (§9 backward in matrix form), S_{c−1} read from ckpt; the state
 * gradient dS (∂L/∂S_c from later chunks) is carried backwards. Same layouts as the bidir backward. */
void xb_linattn_causal_backward(int n, int F, int dv, int C, const float *pq, const float *pk, int ldf,
                                const float *v, int ldv, const float *g, const float *o, int ldo,
                                const float *den, const float *ckpt, const float *dout, int lddo,
                                float *dpq, float *dpk, float *dvout, int lddv, float *work);

#endif
