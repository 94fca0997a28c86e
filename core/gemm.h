/* core/gemm.h — the one wrapper every dense product goes through (OpenBLAS, OpenMP build).
 *
 *   C[M×N] = alpha · op(A)[M×K] · op(B)[K×N] + beta · C
 *
 * Row-major; lda/ldb/ldc are row strides of the arrays as stored. ta/tb: 0 = as stored,
 * 1 = transposed. Called from inside an OpenMP parallel region, OpenBLAS runs the product
 * on the calling thread only (no nested parallelism). xb_gemm_ref is the naive reference. */
#ifndef XB_GEMM_H
#define XB_GEMM_H

void xb_gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
             const float *B, int ldb, float beta, float *C, int ldc);
void xb_gemm_ref(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                 const float *B, int ldb, float beta, float *C, int ldc);

/* Threads OpenBLAS may use for a call made outside a parallel region. */
void xb_blas_set_threads(int n);
const char *xb_blas_config(void);   /* OpenBLAS build/kernel description */

#endif
