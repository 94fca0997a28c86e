/* core/lti.c — matrix exponential, ZOH discretisation, LMU matrices, LTI recurrence step.
 * See core/lti.h. */
#include "core/lti.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
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

void xb_lti_chunk_setup(int q, int C, const float *AT, const float *Bb, float *PT, float *Hr, float *tmp)
{
    XB_ASSERT(C >= 1 && (C & (C - 1)) == 0);
    const size_t qq = (size_t)q * q;
    /* PT = (Āᵀ)^C by log2 C squarings, ping-ponging between PT and tmp */
    float *cur = PT, *nxt = tmp;
    memcpy(cur, AT, qq * sizeof(float));
    for (int c = 1; c < C; c *= 2) {
        xb_gemm(0, 0, q, q, q, 1.0f, cur, q, cur, q, 0.0f, nxt, q);
        float *t = cur; cur = nxt; nxt = t;
    }
    if (cur != PT) memcpy(PT, cur, qq * sizeof(float));
    /* Hr[C−1] = B̄, Hr[s] = Ā Hr[s+1] */
    memcpy(Hr + (size_t)(C - 1) * q, Bb, (size_t)q * sizeof(float));
    for (int s = C - 2; s >= 0; s--)
        xb_lti_step(q, AT, Hr + (size_t)(s + 1) * q, Hr + (size_t)(s + 1) * q, 0.0f, Hr + (size_t)s * q);
}

void xb_lti_scan_chunked(int q, int C, const float *Ab, const float *Bb, const float *PT, const float *Hr,
                         const float *u, int L, float *M, float *S, float *E)
{
    if (L <= 0) return;
    const int nch = (L + C - 1) / C;
    const size_t ld = (size_t)C * q;
    /* chunk-local end states of the full chunks, then the carried state entering each chunk */
    if (nch > 1) xb_gemm(0, 0, nch - 1, q, C, 1.0f, u, C, Hr, q, 0.0f, E, q);
    memset(S, 0, (size_t)q * sizeof(float));
    for (int j = 1; j < nch; j++)
        xb_lti_step(q, PT, S + (size_t)(j - 1) * q, E + (size_t)(j - 1) * q, 1.0f, S + (size_t)j * q);
    /* M = B̄ u, then position i of every chunk at once: rows jC+i += rows jC+i−1 Āᵀ */
    #pragma omp parallel for schedule(static)
    for (int t = 0; t < L; t++)
        for (int i = 0; i < q; i++) M[(size_t)t * q + i] = Bb[i] * u[t];
    for (int i = 0; i < C && i < L; i++) {
        const int rows = (L - i + C - 1) / C;
        if (i == 0) xb_gemm(0, 1, rows, q, q, 1.0f, S, q, Ab, q, 1.0f, M, (int)ld);
        else xb_gemm(0, 1, rows, q, q, 1.0f, M + (size_t)(i - 1) * q, (int)ld, Ab, q, 1.0f, M + (size_t)i * q, (int)ld);
    }
}
