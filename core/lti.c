/* core/lti.c — matrix exponential, ZOH discretisation, LMU matrices, LTI recurrence step.
 * See core/lti.h. */
#include "core/lti.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/mk.h"
#include "core/xb.h"

/* C = A·B for k×k row-major doubles (i-k-j order: the inner loop streams rows). */
static void matmul_d(int k, const double *A, const double *B, double *C)
{
    memset(C, 0, sizeof(double) * (size_t)k * k);
    for (int i = 0; i < k; i++)
        for (int l = 0; l < k; l++) {
            const double a = A[(size_t)i * k + l];
            if (a == 0.0) continue;
            const double *b = B + (size_t)l * k;
            double *c = C + (size_t)i * k;
            for (int j = 0; j < k; j++) c[j] += a * b[j];
        }
}

static double norm1_d(int k, const double *M)   /* max column sum */
{
    double best = 0;
    for (int j = 0; j < k; j++) {
        double s = 0;
        for (int i = 0; i < k; i++) s += fabs(M[(size_t)i * k + j]);
        if (s > best) best = s;
    }
    return best;
}

void xb_expm(int k, const double *M, double *E)
{
    const size_t kk = (size_t)k * k;
    double *X = malloc(sizeof(double) * kk), *T = malloc(sizeof(double) * kk), *W = malloc(sizeof(double) * kk);
    XB_ASSERT(X && T && W);
    double nrm = norm1_d(k, M);
    int s = 0;
    while (nrm / ldexp(1.0, s) > 0.5) s++;
    const double scale = ldexp(1.0, -s);
    for (size_t i = 0; i < kk; i++) X[i] = M[i] * scale;
    /* E = Σ_j X^j / j!, term T_j = T_{j−1} X / j */
    memset(E, 0, sizeof(double) * kk);
    for (int i = 0; i < k; i++) E[(size_t)i * k + i] = 1.0;
    memcpy(T, E, sizeof(double) * kk);
    for (int j = 1; j <= 40; j++) {
        matmul_d(k, T, X, W);
        double tn = 0;
        for (size_t i = 0; i < kk; i++) { T[i] = W[i] / j; E[i] += T[i]; tn += fabs(T[i]); }
        if (tn <= 1e-18 * (double)k) break;   /* ‖E‖ ≥ ~1/2 per row for ‖X‖ ≤ 1/2 */
    }
    for (int i = 0; i < s; i++) {   /* exp(M) = exp(X)^(2^s) */
        matmul_d(k, E, E, W);
        memcpy(E, W, sizeof(double) * kk);
    }
    free(X); free(T); free(W);
}

void xb_lti_zoh(int q, const double *A, const double *B, double *Abar, double *Bbar)
{
    const int k = q + 1;
    double *M = calloc((size_t)k * k, sizeof(double)), *E = malloc(sizeof(double) * (size_t)k * k);
    XB_ASSERT(M && E);
    for (int i = 0; i < q; i++) {
        for (int j = 0; j < q; j++) M[(size_t)i * k + j] = A[(size_t)i * q + j];
        M[(size_t)i * k + q] = B[i];
    }
    xb_expm(k, M, E);
    for (int i = 0; i < q; i++) {
        for (int j = 0; j < q; j++) Abar[(size_t)i * q + j] = E[(size_t)i * k + j];
        Bbar[i] = E[(size_t)i * k + q];
    }
    free(M); free(E);
}

void xb_lmu_matrices(int q, double theta, double *A, double *B)
{
    for (int i = 0; i < q; i++) {
        const double r = (2.0 * i + 1.0) / theta;
        for (int j = 0; j < q; j++)
            A[(size_t)i * q + j] = r * (i < j ? -1.0 : ((i - j + 1) % 2 == 0 ? 1.0 : -1.0));
        B[i] = r * (i % 2 == 0 ? 1.0 : -1.0);
    }
}

#define STEP_BLK 64

void xb_lti_step_part(int q, const float *Mt, const float *v, const float *bvec, float bscale,
                      float *out, int i_begin, int i_end)
{
    for (int i0 = i_begin; i0 < i_end; i0 += STEP_BLK) {
        const int w = i_end - i0 < STEP_BLK ? i_end - i0 : STEP_BLK;
        float acc[STEP_BLK] __attribute__((aligned(64)));
        if (w == STEP_BLK) {   /* fixed trip count: acc stays in registers */
            for (int i = 0; i < STEP_BLK; i++) acc[i] = bscale * bvec[i0 + i];
            for (int j = 0; j < q; j++) {
                const float vj = v[j];
                const float *row = Mt + (size_t)j * q + i0;
                for (int i = 0; i < STEP_BLK; i++) acc[i] = fmaf(vj, row[i], acc[i]);
            }
        } else {
            for (int i = 0; i < w; i++) acc[i] = bscale * bvec[i0 + i];
            for (int j = 0; j < q; j++) {
                const float vj = v[j];
                const float *row = Mt + (size_t)j * q + i0;
                for (int i = 0; i < w; i++) acc[i] = fmaf(vj, row[i], acc[i]);
            }
        }
        memcpy(out + i0, acc, sizeof(float) * (size_t)w);
    }
}

void xb_lti_step(int q, const float *Mt, const float *v, const float *bvec, float bscale, float *out)
{
    xb_lti_step_part(q, Mt, v, bvec, bscale, out, 0, q);
}

/* Chunks per block of the chunked scan's position steps: one microkernel tile of rows. */
#define LTI_RB 6

void xb_lti_chunk_setup(int q, int C, const double *Ab, const double *Bb, float *PT, float *Hr)
{
    XB_ASSERT(C >= 1 && (C & (C - 1)) == 0);
    const size_t qq = (size_t)q * q;
    double *P = malloc(sizeof(double) * qq), *T = malloc(sizeof(double) * qq), *h = malloc(sizeof(double) * q);
    XB_ASSERT(P && T && h);
    /* Ā^C by log2 C squarings */
    memcpy(P, Ab, sizeof(double) * qq);
    for (int c = 1; c < C; c *= 2) {
        matmul_d(q, P, P, T);
        memcpy(P, T, sizeof(double) * qq);
    }
    for (int i = 0; i < q; i++)
        for (int j = 0; j < q; j++) PT[(size_t)j * q + i] = (float)P[(size_t)i * q + j];
    /* Hr[C−1] = B̄, Hr[s] = Ā Hr[s+1] */
    memcpy(h, Bb, sizeof(double) * q);
    for (int s = C - 1; s >= 0; s--) {
        for (int i = 0; i < q; i++) Hr[(size_t)s * q + i] = (float)h[i];
        if (s == 0) break;
        for (int i = 0; i < q; i++) {
            double acc = 0;
            for (int j = 0; j < q; j++) acc += Ab[(size_t)i * q + j] * h[j];
            T[i] = acc;
        }
        memcpy(h, T, sizeof(double) * q);
    }
    free(P); free(T); free(h);
}

/* Positions 0..C−1 of chunks [j0, j0 + nb): M rows jC+i = B̄ u_{jC+i} + (row jC+i−1, or S_j
 * for i = 0) Āᵀ, nb rows at a time through the microkernel. Only the scan's last chunk can
 * end early, and it is the block's last. */
static void chunk_block(int q, int C, const float *AT, const float *Bb, const float *S, const float *u,
                        int L, float *M, int j0, int nb)
{
    const size_t ld = (size_t)C * q;
    for (int i = 0; i < C; i++) {
        const int rows = (size_t)(j0 + nb - 1) * C + i < (size_t)L ? nb : nb - 1;
        if (rows <= 0) break;
        float *out = M + (size_t)j0 * ld + (size_t)i * q;
        for (int r = 0; r < rows; r++) {
            const float ut = u[(size_t)(j0 + r) * C + i];
            float *o = out + r * ld;
            for (int k = 0; k < q; k++) o[k] = Bb[k] * ut;
        }
        if (i == 0) xb_mk_gemm(rows, q, q, S + (size_t)j0 * q, (size_t)q, 1, AT, (size_t)q, out, ld, 1);
        else xb_mk_gemm(rows, q, q, out - q, ld, 1, AT, (size_t)q, out, ld, 1);
    }
}

void xb_lti_scan_chunked(int q, int C, const float *AT, const float *Bb, const float *PT, const float *Hr,
                         const float *u, int L, float *M, float *S, float *E)
{
    if (L <= 0) return;
    const int nch = (L + C - 1) / C, nblk = (nch + LTI_RB - 1) / LTI_RB;
    atomic_int ready = 1, next = 0;   /* S_0 .. S_{ready−1} are final; blocks < next are taken */
    memset(S, 0, (size_t)q * sizeof(float));
    #pragma omp parallel if (!xb_in_parallel())
    {
        /* E_j = Σ_s u_{jC+s} Hr[s] for the full chunks */
        #pragma omp for schedule(static)
        for (int b = 0; b < (nch - 1 + LTI_RB - 1) / LTI_RB; b++) {
            const int j0 = b * LTI_RB;
            xb_mk_gemm(xb_min(LTI_RB, nch - 1 - j0), q, C, u + (size_t)j0 * C, (size_t)C, 1, Hr, (size_t)q,
                       E + (size_t)j0 * q, (size_t)q, 0);
        }
        /* thread 0 runs the chain, publishing each S_j; meanwhile (then) every thread takes
         * blocks in order, each once its S_j are out. Which thread runs a block changes no bits. */
        if (xb_thread_id() == 0)
            for (int j = 1; j < nch; j++) {
                xb_lti_step(q, PT, S + (size_t)(j - 1) * q, E + (size_t)(j - 1) * q, 1.0f, S + (size_t)j * q);
                atomic_store_explicit(&ready, j + 1, memory_order_release);
            }
        for (int b; (b = atomic_fetch_add_explicit(&next, 1, memory_order_relaxed)) < nblk;) {
            const int j0 = b * LTI_RB, nb = xb_min(LTI_RB, nch - j0);
            for (unsigned spin = 1; atomic_load_explicit(&ready, memory_order_acquire) < j0 + nb; spin++)
                if (spin % 1024) xb_spin_pause();
                else sched_yield();   /* oversubscribed: let thread 0 run */
            chunk_block(q, C, AT, Bb, S, u, L, M, j0, nb);
        }
    }
}
