/* core/lti.h — fixed linear time-invariant systems: matrix exponential, zero-order-hold
 * discretisation, the Legendre Memory Unit's (A, B), and the one recurrence step both
 * directions of a discretised LTI scan use (forward and adjoint).
 *
 * All set-up math is in double (it runs once, at init); the step is float for the hot loop. */
#ifndef XB_LTI_H
#define XB_LTI_H

/* E = exp(M) for a k×k row-major matrix: scaling and squaring (‖M/2^s‖₁ ≤ 1/2) with the Taylor
 * series summed until a term is below 1e-18 of the sum. Allocates its own temporaries. */
void xb_expm(int k, const double *M, double *E);

/* Zero-order hold with dt = 1 of x' = A x + B u (A q×q, B q×1):
 *   Abar = exp(A),  Bbar = A^{-1}(exp(A) − I) B = ∫₀¹ exp(Aτ) dτ B,
 * both from one exponential of the augmented matrix [[A, B], [0, 0]] (its top-right column is
 * Bbar; no inverse of A is needed). */
void xb_lti_zoh(int q, const double *A, const double *B, double *Abar, double *Bbar);

/* Legendre Memory Unit continuous system of order q and window theta (Voelker et al. 2019;
 * the same formulas in nengo/keras-lmu and zeyuliu1037/LMUFormer lmu_cell.py):
 *   r_i = (2i + 1) / θ,  A[i][j] = r_i · (i < j ? −1 : (−1)^{i−j+1}),  B[i] = r_i · (−1)^i. */
void xb_lmu_matrices(int q, double theta, double *A, double *B);

/* One step out[i] = bscale · bvec[i] + Σ_j v[j] · Mt[j·q + i] (v times the rows of Mt).
 * Forward of m_t = Ā m_{t−1} + B̄ u_t: Mt = Āᵀ, v = m_{t−1}, bvec = B̄, bscale = u_t.
 * Adjoint g_t = dm_t + Āᵀ g_{t+1}:        Mt = Ā,  v = g_{t+1}, bvec = dm_t, bscale = 1.
 * out may alias bvec (each 64-block of bvec is read before that block of out is written),
 * never v. Serial; vectorised over i in blocks of 64 outputs. */
void xb_lti_step(int q, const float *Mt, const float *v, const float *bvec, float bscale, float *out);
/* The outputs i_begin ≤ i < i_end of xb_lti_step only (each out[i] is the same chain of FMAs
 * as in the whole step, so a step split across threads gives the same bits). */
void xb_lti_step_part(int q, const float *Mt, const float *v, const float *bvec, float bscale,
                      float *out, int i_begin, int i_end);

#endif
