/* core/selscan.h — the diagonal selective scan of Mamba (MIXERS.md §18 step 6), forward and
 * backward, for one sequence and one block of channels, plus a vectorisable expf.
 *
 *   h_t[c,s] = exp(Δ_t[c]·A[c,s]) · h_{t−1}[c,s] + Δ_t[c]·B_t[s]·u_t[c],   h_{−1} = 0
 *   y_t[c]   = Σ_s C_t[s]·h_t[c,s] + Dsk[c]·u_t[c]
 *
 * (ZOH for A, Euler for B: exactly state-spaces/mamba selective_scan_ref.)
 *
 * Layout: per-step rows. u, dt (Δ, already softplus'ed), y, dy, du, ddt are rows of channels
 * with row stride ld; Bm, Cm (and dB, dC) rows of n states with row stride ldbc. The kernel
 * visits steps k = 0..L−1 at row k·ld: a reverse-time scan (MIXERS.md §0.1 step 3) passes
 * pointers to the last real row and a negative stride, so the same code runs both ways and
 * outputs land at their original positions. A is passed transposed, At[s·lda + c] = A[c,s]
 * (< 0), so the inner loops run over channels (SIMD lanes) and the state sums are vertical.
 *
 * Checkpoints: ck holds the state entering each chunk of C visited steps,
 * ck[j·n·ldck + s·ldck + c] = h_{jC−1}[c,s] (ck of chunk 0 is 0); backward recomputes h_t
 * inside a chunk from it. Chunks: ceil(L / C).
 *
 * Limits: nc ≤ XB_SELSCAN_CB channels per call, n ≤ XB_SELSCAN_NMAX states. Both kernels are
 * serial (call them from inside an OpenMP loop over batch × channel blocks). */
#ifndef XB_SELSCAN_H
#define XB_SELSCAN_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/vmath.h"

#define XB_SELSCAN_CB   64   /* channels per block (four 16-lane vectors) */
#define XB_SELSCAN_NMAX 64   /* largest state size n */


/* Number of checkpoint chunks for L steps at chunk C. */
static inline int xb_selscan_nchunks(int L, int C) { return L <= 0 ? 0 : (L + C - 1) / C; }

/* Floats of work buffer xb_selscan_backward needs: the chunk's Ā_t and h_t. */
size_t xb_selscan_work(int n, int C);

/* Forward over L steps of nc channels. Overwrites y (L rows) and ck (nchunks checkpoints). */
void xb_selscan_forward(int L, int nc, int n, int C,
                        const float *u, const float *dt, ptrdiff_t ld,
                        const float *Bm, const float *Cm, ptrdiff_t ldbc,
                        const float *At, ptrdiff_t lda, const float *Dsk,
                        float *y, float *ck, ptrdiff_t ldck);

/* Backward of xb_selscan_forward given dy = ∂L/∂y (L rows). OVERWRITES (no accumulation):
 *   du[k][c]  = ∂L/∂u_k[c] (state path and skip),   ddt[k][c] = ∂L/∂Δ_k[c],
 *   dB[k][s], dC[k][s] = this block's partial sums over its channels (row stride ldg),
 *   dAt[s·lda + c] = ∂L/∂A[c,s] summed over steps,  dDsk[c] = Σ_k u_k[c]·dy_k[c].
 * work: xb_selscan_work(n, C) floats. */
void xb_selscan_backward(int L, int nc, int n, int C,
                         const float *u, const float *dt, ptrdiff_t ld,
                         const float *Bm, const float *Cm, ptrdiff_t ldbc,
                         const float *At, ptrdiff_t lda, const float *Dsk,
                         const float *ck, ptrdiff_t ldck, const float *dy,
                         float *du, float *ddt, float *dB, float *dC, ptrdiff_t ldg,
                         float *dAt, float *dDsk, float *work);

#endif
