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

/* Chunked form of the scan m_τ = Ā m_{τ−1} + B̄ u_τ (m_{−1} = 0), for one sequence when there
 * are too few sequences to give each thread its own: the same recurrence, but taken at
 * position i of several chunks of C steps at once, so each step is a small matrix product
 * (core/mk.h, Āᵀ read from cache, never packed) instead of a mat-vec per time step. Per scan,
 * with nch = ⌈L/C⌉:
 *   E_j = Σ_s Ā^{C−1−s} B̄ u_{jC+s}   (end state of full chunk j from zero),
 *   S_0 = 0, S_{j+1} = Ā^C S_j + E_j  (state entering chunk j; one mat-vec per chunk, serial),
 *   M = B̄ u; for i = 0..C−1: rows {jC+i} += rows {jC+i−1} Āᵀ  (S_j for i = 0).
 * One parallel region: E split by chunks; thread 0 runs the S chain and publishes each S_j,
 * while every thread takes blocks of 6 chunks in order through all C positions, each block once
 * its S_j are out. No barrier per position, and no bit depends on the thread count (each row
 * is one microkernel chain, whichever thread and block computes it).
 * Extra work over the recurrence's 2Lq²: 2Lq + 2·nch·q² per scan; FLOP counts keep the
 * recurrence's formula (a lower bound).
 * Setup (once per Ā, B̄, in double; C a power of two): PT = (Āᵀ)^C [q×q] and Hr [C×q],
 * Hr[s] = Ā^{C−1−s} B̄. Scan: AT = Āᵀ [q×q], u [L] and M [L×q] in scan order, S and E
 * [nch×q] work. Called inside a parallel region it runs on the calling thread alone. */
void xb_lti_chunk_setup(int q, int C, const double *Ab, const double *Bb, float *PT, float *Hr);
void xb_lti_scan_chunked(int q, int C, const float *AT, const float *Bb, const float *PT, const float *Hr,
                         const float *u, int L, float *M, float *S, float *E);

#endif
