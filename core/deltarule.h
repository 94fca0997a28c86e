/* core/deltarule.h — the delta-rule scan of DeltaNet (MIXERS.md §17; fla delta_rule_recurrence),
 * recurrent form with per-chunk state checkpoints, forward and backward, either time direction.
 *
 * One (sequence, head), state S ∈ R^{dh×dh} (key × value), S_{-1} = 0:
 *   u_t = S_{t−1}ᵀ k_t,  e_t = β_t (v_t − u_t),  S_t = S_{t−1} + k_t e_tᵀ,  o_t = S_tᵀ q_t
 * (q, k already normalised and q scaled by the caller). Reverse mode runs the same recurrence
 * over time L−1..0 (MIXERS.md §0.1), starting at the last real row, so padding never enters.
 * q, k, v, o rows have stride ld; beta (one scalar per row for this head) has stride ldb.
 * Serial: call from inside a parallel loop over sequences × heads. */
#ifndef XB_DELTARULE_H
#define XB_DELTARULE_H

#include <stddef.h>

typedef struct xb_deltarule {
    int L;        /* real length */
    int dh;       /* head width (keys and values) */
    int C;        /* checkpoint interval */
    int ld, ldb;  /* row strides of q,k,v,o and of beta */
    int reverse;  /* 0: t = 0..L−1; 1: t = L−1..0 */
} xb_deltarule;

static inline int xb_deltarule_nchunks(int L, int C) { return (L + C - 1) / C; }
/* Floats of per-thread work. */
size_t xb_deltarule_work(int C, int dh);

/* Recurrent forward (the test oracle of the chunked one). o rows 0..L−1 overwritten
 * (accumulate = 0) or added to (1). ckpt [nchunks × dh × dh]: the state entering each chunk of
 * C steps (scan order), overwritten. */
void xb_deltarule_forward(const xb_deltarule *p, const float *q, const float *k, const float *v,
                          const float *beta, float *o, int accumulate, float *ckpt, float *work);

/* Chunked WY forward (MIXERS.md §17 CPU form; fla delta_rule_chunkwise), same outputs and
 * checkpoints as xb_deltarule_forward up to rounding. Per chunk of c ≤ C rows (scan order),
 * K, Q, V [c×dh], β [c], S the entering state:
 *   A = K Kᵀ,  T = (I + tril(diag(β) A, −1))⁻¹ (forward substitution, unit lower triangular),
 *   W = T diag(β) K,  U = T diag(β) V,  U' = U − W S  (= the e_t of the recurrence),
 *   O = Q S + tril(Q Kᵀ) U'  (diagonal included),  S ← S + Kᵀ U'.
 * Every product is one small GEMM ([K;Q]Kᵀ and [Q;W]S stacked). */
void xb_deltarule_forward_chunked(const xb_deltarule *p, const float *q, const float *k,
                                  const float *v, const float *beta, float *o, int accumulate,
                                  float *ckpt, float *work);

/* The same with the rows made on demand: rows(ctx, t, q, k, v) writes the dh-wide rows of
 * time t into q, k and v (contiguous) just before the chunk's products read them, so a caller
 * whose q, k, v are a row-local function of other arrays (a short conv, a norm) need not write
 * them to memory first. beta and o as above. */
typedef void (*xb_deltarule_rows)(void *ctx, int t, float *q, float *k, float *v);
void xb_deltarule_forward_chunked_rows(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx,
                                       const float *beta, float *o, int accumulate, float *ckpt,
                                       float *work);

/* The same forward split in three, for scans too few to give every thread one: each chunk's
 * products kept in `store` (xb_deltarule_split_floats(L, C, dh) floats per scan) so that the
 * state-free and the output steps run on all chunks at once:
 *   1. xb_deltarule_split_prep for every chunk j, in any order, on any threads (work as above);
 *   2. then xb_deltarule_split_chain, once per scan: the serial state chain and ckpt (work ≥ dh²);
 *   3. then xb_deltarule_split_out for every chunk j, in any order, on any threads.
 * Each chunk runs the fused form's operations on the same values: the same bits as
 * xb_deltarule_forward_chunked_rows. */
size_t xb_deltarule_split_floats(int L, int C, int dh);
void xb_deltarule_split_prep(const xb_deltarule *p, xb_deltarule_rows rows, void *ctx, const float *beta,
                             int j, float *store, float *work);
void xb_deltarule_split_chain(const xb_deltarule *p, float *store, float *ckpt, float *work);
void xb_deltarule_split_out(const xb_deltarule *p, int j, float *store, float *o, int accumulate);

/* ACCUMULATES dq, dk, dv (rows stride ld) and dbeta (stride ldb) given dO. Within each chunk the
 * states are recomputed from ckpt (never by inverting the update); reverse recursion with
 * G = ∂L/∂S_t: G += q doᵀ; dq = S_t do; de = Gᵀk; dk = G e + S_{t−1} du; dv = β de;
 * dβ = de·(v − u); du = −β de; G += k duᵀ. */
void xb_deltarule_backward(const xb_deltarule *p, const float *q, const float *k, const float *v,
                           const float *beta, const float *ckpt, const float *dO, float *dq,
                           float *dk, float *dv, float *dbeta, float *work);

#endif
