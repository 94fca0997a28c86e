/* core/proj.h — a mixer's input projections as one product.
 *
 * Most mixers start with several projections of the same rows, q = X W_Q, k = X W_K, … Done as
 * separate GEMMs, each one packs X again and, with β = 0, first zeroes its output in a pass of
 * its own: memory traffic, which more threads speed up only as far as the memory bandwidth
 * lent to them grows (on the shared development VM, from 1.17× to 2× for the second core
 * depending on the hour). Here the weights are packed side by side once per call,
 *
 *   Wp = [W_0 | W_1 | … | W_{n−1}]   [d × ctot],   ctot = Σ cols_i,
 *
 * and Y = X·Wp [R × ctot] is computed in row blocks: each thread takes whole blocks and runs a
 * single-threaded GEMM on each, then an epilogue (φ, a gate, …) on the block while it is still in
 * its L2. Output i is the column range [off_i, off_i + cols_i) of Y. Either Y is kept (kernels
 * read output i with Y's row stride) or each block lands in a per-thread buffer and the epilogue
 * moves it where the mixer wants it (separate arrays, further products of its own). The block size depends on R and the thread count, and OpenBLAS may sum a
 * row in a different order for a different block size, so Y is deterministic for a given thread
 * count but may differ in the last bits between thread counts. */
#ifndef XB_PROJ_H
#define XB_PROJ_H

#include <stddef.h>

#define XB_PROJ_MAX 8

/* The packed layout: n matrices W_i [d × cols_i] (row-major, row stride cols_i). */
typedef struct xb_proj {
    int d, n, ctot;
    int cols[XB_PROJ_MAX], off[XB_PROJ_MAX];
} xb_proj;

xb_proj xb_proj_make(int d, int n, const int *cols);
static inline size_t xb_proj_floats(const xb_proj *p) { return (size_t)p->d * p->ctot; }

/* wp [d × ctot] = [W_0 | … ]; w[i] points at W_i. */
void xb_proj_pack(const xb_proj *p, const float *const *w, float *wp);

/* Called once per row block after its product: rows [r0, r0 + rows) of Y, y = &Y[r0][0]. */
typedef void (*xb_proj_epilogue)(int r0, int rows, float *y, int ldy, void *arg);

/* For epilogues on per-thread blocks: copy output i of rows [r0, r0 + rows) (block y, row
 * stride ldy) to dst[i] (row stride cols_i, row r0 first); dst[i] == NULL skips it. */
void xb_proj_scatter(const xb_proj *p, int r0, int rows, const float *y, int ldy, float *const *dst);

/* Most rows in one block, and the floats of the per-thread block buffers `tmp` below (an
 * input block and an output block per thread). */
#define XB_PROJ_BLOCK_ROWS 512
size_t xb_proj_block_floats(const xb_proj *p);

/* Y[R × ctot] = X[R × d] (row stride ldx) · wp, then epi on each block. y != NULL: Y is y, row
 * stride ldy ≥ ctot (columns past ctot are the epilogue's to fill or leave); epi may be NULL.
 * y == NULL: block rows [r0, r0 + rows) go to the calling thread's slice of tmp
 * [xb_proj_block_floats] (row stride ctot) and epi, required, is handed that. Call from outside
 * any parallel region; epi runs inside one (its own BLAS calls are single-threaded). */
void xb_proj_forward(const xb_proj *p, int R, const float *x, int ldx, const float *wp, float *y,
                     int ldy, float *tmp, xb_proj_epilogue epi, void *arg);

/* The same with the input made per block: pro writes rows [r0, r0 + rows) of X into a
 * per-thread buffer (row stride d) just before their product, so an X that is a row-local
 * function of other arrays (a norm and a gate before an output projection) never goes to
 * memory whole. tmp [xb_proj_block_floats] is required. */
void xb_proj_forward_rows(const xb_proj *p, int R, xb_proj_epilogue pro, void *parg, const float *wp,
                          float *y, int ldy, float *tmp, xb_proj_epilogue epi, void *arg);

/* The same blocks without packing or a buffer: output i of each block is its own product
 * straight into dst[i] (row stride cols_i) from the unpacked w[i], the block of X read from
 * cache after the first; then epi(r0, rows, NULL, 0, arg) on the block's rows, still in cache.
 * For outputs that must land in separate arrays anyway, where copying them out of a packed
 * block costs more than the products' extra calls. */
void xb_proj_forward_split(const xb_proj *p, int R, const float *x, int ldx, const float *const *w,
                           float *const *dst, xb_proj_epilogue epi, void *arg);

/* One plain product in the same blocks: y [R × dout] = x [R × din] (row stride ldx) · w
 * [din × dout]. For the output projections: no β = 0 zeroing pass over y, each block of y
 * written once while in cache. */
void xb_proj_matmul(int R, int din, int dout, const float *x, int ldx, const float *w, float *y);

/* Backward of Y = X·Wp for dY [R × ctot]: dW_i += (Xᵀ dY)[:, off_i …] (dwp [d × ctot] is
 * scratch for Xᵀ dY), dX = β·dX + dY·Wpᵀ (dx row stride ldx). */
void xb_proj_backward(const xb_proj *p, int R, const float *x, int ldx, const float *wp,
                      const float *dy, float *const *dw, float *dwp, float beta, float *dx);

#endif
