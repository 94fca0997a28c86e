/* core/mk.h — the register-blocked small-product microkernel shared by the attention tiles
 * (core/attn.c) and the chunked LTI scan (core/lti.c):
 *
 *   C[M×n] = A·B (acc = 0) or C += A·B (acc = 1), K the inner dimension, where
 *   A(i, p) = A[i·rsa + p·csa] (so Aᵀ is a stride swap), B(p, j) = B[p·ldb + j] row-major,
 *   C(i, j) = C[i·ldc + j]. Any M, n, K; no packing, no allocation, serial.
 *
 * AVX-512: tiles of 6 rows × up to 64 columns held in 24 registers, K streamed. Each C(i, j) is
 * one chain of FMAs over p = 0..K−1 whatever M is and whichever rows share a tile, so a product
 * split by rows (across threads or calls) gives the same bits. The portable fallback keeps the
 * same semantics in plain loops. Static functions: each includer gets its own copy, which the
 * compiler can specialise at its call sites (for attn.c, measured faster than OpenBLAS on its
 * 64×64×64 tiles, whose per-call packing is not amortised). */
#ifndef XB_MK_H
#define XB_MK_H

#include <stddef.h>
#include <string.h>

#include "core/xb.h"

#if defined(__AVX512F__)
#include <immintrin.h>

#define XB_MK_MR 6

static inline __attribute__((always_inline)) void xb_mk_block(int mr, int nv, __mmask16 tail, int K,
    const float *A, size_t rsa, size_t csa, const float *B, size_t ldb, float *C, size_t ldc, int acc)
{
    __m512 c[XB_MK_MR][4];
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            c[r][v] = !acc ? _mm512_setzero_ps()
                    : v == nv - 1 ? _mm512_maskz_loadu_ps(tail, C + r * ldc + 16 * v)
                                  : _mm512_loadu_ps(C + r * ldc + 16 * v);
    for (int p = 0; p < K; p++) {
        const float *bp = B + (size_t)p * ldb, *ap = A + (size_t)p * csa;
        __m512 b[4];
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++)
            b[v] = v == nv - 1 ? _mm512_maskz_loadu_ps(tail, bp + 16 * v) : _mm512_loadu_ps(bp + 16 * v);
#pragma GCC unroll 6
        for (int r = 0; r < mr; r++) {
            __m512 a = _mm512_set1_ps(ap[r * rsa]);
#pragma GCC unroll 4
            for (int v = 0; v < nv; v++) c[r][v] = _mm512_fmadd_ps(a, b[v], c[r][v]);
        }
    }
#pragma GCC unroll 6
    for (int r = 0; r < mr; r++)
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            if (v == nv - 1) _mm512_mask_storeu_ps(C + r * ldc + 16 * v, tail, c[r][v]);
            else _mm512_storeu_ps(C + r * ldc + 16 * v, c[r][v]);
        }
}

static inline __attribute__((always_inline)) void xb_mk_rows(int mr, int nv, __mmask16 tail, int K,
    const float *A, size_t rsa, size_t csa, const float *B, size_t ldb, float *C, size_t ldc, int acc)
{
    switch (nv) {   /* constant nv per call site: the compiler keeps c[][] in registers */
    case 1: xb_mk_block(mr, 1, tail, K, A, rsa, csa, B, ldb, C, ldc, acc); break;
    case 2: xb_mk_block(mr, 2, tail, K, A, rsa, csa, B, ldb, C, ldc, acc); break;
    case 3: xb_mk_block(mr, 3, tail, K, A, rsa, csa, B, ldb, C, ldc, acc); break;
    default: xb_mk_block(mr, 4, tail, K, A, rsa, csa, B, ldb, C, ldc, acc); break;
    }
}

static void __attribute__((unused)) xb_mk_gemm(int M, int n, int K, const float *A, size_t rsa,
    size_t csa, const float *B, size_t ldb, float *C, size_t ldc, int acc)
{
    for (int j0 = 0; j0 < n; j0 += 64) {
        int nn = xb_min(64, n - j0), nv = (nn + 15) / 16;
        __mmask16 tail = (__mmask16)((1u << (nn - 16 * (nv - 1))) - 1u);
        const float *Bj = B + j0;
        float *Cj = C + j0;
        int i = 0;
        for (; i + XB_MK_MR <= M; i += XB_MK_MR)
            xb_mk_rows(XB_MK_MR, nv, tail, K, A + i * rsa, rsa, csa, Bj, ldb, Cj + i * ldc, ldc, acc);
        const float *Ai = A + i * rsa;
        float *Ci = Cj + i * ldc;
        switch (M - i) {
        case 1: xb_mk_rows(1, nv, tail, K, Ai, rsa, csa, Bj, ldb, Ci, ldc, acc); break;
        case 2: xb_mk_rows(2, nv, tail, K, Ai, rsa, csa, Bj, ldb, Ci, ldc, acc); break;
        case 3: xb_mk_rows(3, nv, tail, K, Ai, rsa, csa, Bj, ldb, Ci, ldc, acc); break;
        case 4: xb_mk_rows(4, nv, tail, K, Ai, rsa, csa, Bj, ldb, Ci, ldc, acc); break;
        case 5: xb_mk_rows(5, nv, tail, K, Ai, rsa, csa, Bj, ldb, Ci, ldc, acc); break;
        default: break;
        }
    }
}

#else  /* portable fallback */

static void __attribute__((unused)) xb_mk_gemm(int M, int n, int K, const float *A, size_t rsa,
    size_t csa, const float *B, size_t ldb, float *C, size_t ldc, int acc)
{
    for (int i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (!acc) memset(c, 0, (size_t)n * sizeof(float));
        for (int p = 0; p < K; p++) {
            float a = A[i * rsa + p * csa];
            const float *b = B + (size_t)p * ldb;
            for (int j = 0; j < n; j++) c[j] += a * b[j];
        }
    }
}

#endif
#endif
