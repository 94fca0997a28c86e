/* core/selscan.c — Mamba's diagonal selective scan (MIXERS.md §18), forward and backward, for
 * one sequence × one block of ≤ XB_SELSCAN_CB channels. See core/selscan.h for the math, the
 * layouts and the checkpoint scheme.
 *
 * Vectorisation: the state is kept as [s][c] (channel-contiguous, block padded to a multiple
 * of 16 lanes with inert lanes: Δ = u = dy = 0 there, so h and g stay 0), inner loops run over
 * channels and every sum over s is a vertical accumulation. The two sums over channels the
 * backward needs (dB_t, dC_t) use 16 lane accumulators and a fixed tree at the end, so the
 * summation order is a property of the code, not of the compiler or the thread count. */
#include "core/selscan.h"

#include <math.h>

#include "core/scratch.h"
#include "core/xb.h"

#define CB XB_SELSCAN_CB
#define LANES 16

/* Σ of 16 lane partials in a fixed tree order. */
static inline float hsum16(float *v)
{
    for (int l = 0; l < 8; l++) v[l] += v[l + 8];
    for (int l = 0; l < 4; l++) v[l] += v[l + 4];
    for (int l = 0; l < 2; l++) v[l] += v[l + 2];
    return v[0] + v[1];
}

/* Copy At's rows for this block into a padded [s][CB] array (inert lanes: A = 0). */
static void load_At(float *Al, const float *At, ptrdiff_t lda, int n, int nc, int ncp)
{
    for (int s = 0; s < n; s++) {
        for (int c = 0; c < nc; c++) Al[s * CB + c] = At[s * lda + c];
        for (int c = nc; c < ncp; c++) Al[s * CB + c] = 0.0f;
    }
}

/* Per-step channel rows into padded locals: Δ, u, Δ·u. */
static inline void load_step(float *dl, float *ul, float *dul, const float *dt, const float *u,
                             int nc, int ncp)
{
    for (int c = 0; c < nc; c++) { dl[c] = dt[c]; ul[c] = u[c]; dul[c] = dt[c] * u[c]; }
    for (int c = nc; c < ncp; c++) { dl[c] = 0.0f; ul[c] = 0.0f; dul[c] = 0.0f; }
}

/* One step of the recurrence over all states: h ← exp(Δ·A) ⊙ h + Δu·B; optionally keeps
 * exp(Δ·A) in a_out and reads the old state from hin (then C is not used), else updates h in
 * place and adds Σ_s C[s]·h[s] to yl (when Cm != NULL). */
static inline void step_forward(const float *hin, float *h, const float *restrict Al, const float *restrict dl,
                                const float *restrict dul, const float *restrict Bk,
                                const float *restrict Ck, float *restrict yl, float *restrict a_out,
                                int n, int ncp)
{
    for (int s = 0; s < n; s++) {
        const float b = Bk[s];
        float *hs = h + s * CB;
        const float *restrict as = Al + s * CB;
        if (a_out) {   /* out of place: h = step(hin), both kept for the backward */
            float *restrict ao = a_out + s * CB;
            const float *hi = hin + s * CB;
            for (int c = 0; c < ncp; c++) {
                float a = xb_vexp(dl[c] * as[c]);
                hs[c] = fmaf(a, hi[c], dul[c] * b);
                ao[c] = a;
            }
        } else {
            const float cc = Ck[s];
            for (int c = 0; c < ncp; c++) {
                float a = xb_vexp(dl[c] * as[c]);
                hs[c] = fmaf(a, hs[c], dul[c] * b);
                yl[c] = fmaf(cc, hs[c], yl[c]);
            }
        }
    }
}

#if defined(__AVX512F__)
#include <immintrin.h>

/* xb_vexp of core/vmath.h on 16 lanes, the same operations in the same order. */
static inline __m512 vexp16(__m512 x)
{
    const __m512 xc = _mm512_min_ps(_mm512_set1_ps(88.0f), _mm512_max_ps(_mm512_set1_ps(-87.3f), x));
    const __m512 sh = _mm512_set1_ps(12582912.0f);
    const __m512 k = _mm512_sub_ps(_mm512_add_ps(_mm512_mul_ps(xc, _mm512_set1_ps(1.44269504088896341f)), sh), sh);
    __m512 r = _mm512_fmadd_ps(k, _mm512_set1_ps(-0.693359375f), xc);
    r = _mm512_fmadd_ps(k, _mm512_set1_ps(2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040.0f);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    __m512i e = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvttps_epi32(k), _mm512_set1_epi32(127)), 23);
    e = _mm512_mask_mov_epi32(e, _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_LT_OQ), _mm512_setzero_si512());
    return _mm512_mul_ps(p, _mm512_castsi512_ps(e));
}

/* Forward for n == 16, 16 channels at a time: the whole state of a 16-channel group lives in
 * 16 zmm registers across the time loop (no state loads or stores per step); Δ, u, y are one
 * masked vector per step, B_t[s] and C_t[s] broadcasts. Same recurrence and checkpoints as the
 * generic loop below (lanes ≥ nc are masked: Δ = u = 0 there). */
#define PF 12   /* prefetch distance in steps */
static void forward_n16(int L, int nc, int C, const float *u, const float *dt, ptrdiff_t ld,
                        const float *Bm, const float *Cm, ptrdiff_t ldbc, const float *At,
                        ptrdiff_t lda, const float *Dsk, float *y, float *ck, ptrdiff_t ldck)
{
    for (int g0 = 0; g0 < nc; g0 += 16) {
        const __mmask16 mk = (__mmask16)(nc - g0 >= 16 ? 0xFFFF : (1u << (nc - g0)) - 1);
        float A[16 * 16] __attribute__((aligned(64)));   /* read as memory operands: h needs the registers */
        __m512 h[16];
        for (int s = 0; s < 16; s++) {
            _mm512_store_ps(A + 16 * s, _mm512_maskz_loadu_ps(mk, At + s * lda + g0));
            h[s] = _mm512_setzero_ps();
        }
        const __m512 Dv = _mm512_maskz_loadu_ps(mk, Dsk + g0);
        for (int k = 0; k < L; k++) {
            if (k % C == 0) {
                float *cj = ck + (ptrdiff_t)(k / C) * 16 * ldck + g0;
                for (int s = 0; s < 16; s++) _mm512_mask_storeu_ps(cj + s * ldck, mk, h[s]);
            }
            /* rows are D floats apart (a new page every step or two, where hardware prefetch
             * stops): fetch PF steps ahead */
            if (k + PF < L) {
                _mm_prefetch((const char *)(dt + (k + PF) * ld + g0), _MM_HINT_T0);
                _mm_prefetch((const char *)(u + (k + PF) * ld + g0), _MM_HINT_T0);
                _mm_prefetch((const char *)(y + (k + PF) * ld + g0), _MM_HINT_T0);
                _mm_prefetch((const char *)(Bm + (k + PF) * ldbc), _MM_HINT_T0);
            }
            const __m512 dl = _mm512_maskz_loadu_ps(mk, dt + k * ld + g0);
            const __m512 ul = _mm512_maskz_loadu_ps(mk, u + k * ld + g0);
            const __m512 dul = _mm512_mul_ps(dl, ul);
            const float *Bk = Bm + k * ldbc, *Ck = Cm + k * ldbc;
            __m512 yv = _mm512_mul_ps(Dv, ul);
#pragma GCC unroll 16
            for (int s = 0; s < 16; s++) {
                const __m512 a = vexp16(_mm512_mul_ps(dl, _mm512_load_ps(A + 16 * s)));
                h[s] = _mm512_fmadd_ps(a, h[s], _mm512_mul_ps(dul, _mm512_set1_ps(Bk[s])));
                yv = _mm512_fmadd_ps(_mm512_set1_ps(Ck[s]), h[s], yv);
            }
            _mm512_mask_storeu_ps(y + k * ld + g0, mk, yv);
        }
    }
}
#endif

void xb_selscan_forward(int L, int nc, int n, int C,
                        const float *u, const float *dt, ptrdiff_t ld,
                        const float *Bm, const float *Cm, ptrdiff_t ldbc,
                        const float *At, ptrdiff_t lda, const float *Dsk,
                        float *y, float *ck, ptrdiff_t ldck)
{
    XB_ASSERT(nc >= 1 && nc <= CB && n >= 1 && n <= XB_SELSCAN_NMAX && C >= 1);
#if defined(__AVX512F__)
    if (n == 16) {   /* Mamba's default state size */
        forward_n16(L, nc, C, u, dt, ld, Bm, Cm, ldbc, At, lda, Dsk, y, ck, ldck);
        return;
    }
#endif
    const int ncp = (nc + LANES - 1) & ~(LANES - 1);
    float h[XB_SELSCAN_NMAX * CB] __attribute__((aligned(64)));
    float Al[XB_SELSCAN_NMAX * CB] __attribute__((aligned(64)));
    float dl[CB] __attribute__((aligned(64))), ul[CB] __attribute__((aligned(64)));
    float dul[CB] __attribute__((aligned(64))), yl[CB] __attribute__((aligned(64)));
    load_At(Al, At, lda, n, nc, ncp);
    memset(h, 0, sizeof(float) * (size_t)n * CB);
    for (int k = 0; k < L; k++) {
        if (k % C == 0) {   /* the state entering chunk k / C */
            float *cj = ck + (ptrdiff_t)(k / C) * n * ldck;
            for (int s = 0; s < n; s++) memcpy(cj + s * ldck, h + s * CB, sizeof(float) * (size_t)nc);
        }
        load_step(dl, ul, dul, dt + k * ld, u + k * ld, nc, ncp);
        for (int c = 0; c < ncp; c++) yl[c] = c < nc ? Dsk[c] * ul[c] : 0.0f;
        step_forward(h, h, Al, dl, dul, Bm + k * ldbc, Cm + k * ldbc, yl, NULL, n, ncp);
        memcpy(y + k * ld, yl, sizeof(float) * (size_t)nc);
    }
}

/* the backward's work: Ā_t and h_t of a chunk, one [s][c] state of n × CB per step each */
static size_t work_plan(int n, int C, float *work, float **abuf, float **hbuf)
{
    const size_t slab = (size_t)n * CB;
    xb_scratch s = xb_scratch_at(work);
    XB_TAKE(&s, *abuf, (size_t)C * slab, XB_SCR_PACKED);
    XB_TAKE(&s, *hbuf, (size_t)C * slab, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

size_t xb_selscan_work(int n, int C)
{
    float *a, *h;
    return work_plan(n, C, NULL, &a, &h);
}

void xb_selscan_backward(int L, int nc, int n, int C,
                         const float *u, const float *dt, ptrdiff_t ld,
                         const float *Bm, const float *Cm, ptrdiff_t ldbc,
                         const float *At, ptrdiff_t lda, const float *Dsk,
                         const float *ck, ptrdiff_t ldck, const float *dy,
                         float *du, float *ddt, float *dB, float *dC, ptrdiff_t ldg,
                         float *dAt, float *dDsk, float *work)
{
    XB_ASSERT(nc >= 1 && nc <= CB && n >= 1 && n <= XB_SELSCAN_NMAX && C >= 1);
    const int ncp = (nc + LANES - 1) & ~(LANES - 1);
    const size_t slab = (size_t)n * CB;            /* one [s][c] state */
    float *abuf, *hbuf;   /* exp(ΔA) and h of the chunk */
    work_plan(n, C, work, &abuf, &hbuf);
    float g[XB_SELSCAN_NMAX * CB] __attribute__((aligned(64)));   /* carried Ā_{t+1} ⊙ g_{t+1} */
    float dAl[XB_SELSCAN_NMAX * CB] __attribute__((aligned(64)));
    float Al[XB_SELSCAN_NMAX * CB] __attribute__((aligned(64)));
    float h0[XB_SELSCAN_NMAX * CB] __attribute__((aligned(64)));  /* chunk's entering state */
    float dl[CB] __attribute__((aligned(64))), ul[CB] __attribute__((aligned(64)));
    float dul[CB] __attribute__((aligned(64))), dyl[CB] __attribute__((aligned(64)));
    float acc1[CB] __attribute__((aligned(64))), acc2[CB] __attribute__((aligned(64)));
    float dDl[CB] = {0};
    load_At(Al, At, lda, n, nc, ncp);
    memset(g, 0, sizeof(float) * slab);
    memset(dAl, 0, sizeof(float) * slab);

    for (int j = xb_selscan_nchunks(L, C) - 1; j >= 0; j--) {
        const int k0 = j * C, k1 = k0 + C < L ? k0 + C : L;
        const float *cj = ck + (ptrdiff_t)j * n * ldck;
        for (int s = 0; s < n; s++) {
            memcpy(h0 + s * CB, cj + s * ldck, sizeof(float) * (size_t)nc);
            for (int c = nc; c < ncp; c++) h0[s * CB + c] = 0.0f;
        }
        /* recompute Ā_t and h_t of the chunk from its checkpoint */
        for (int k = k0; k < k1; k++) {   /* slot k−k0 holds h_k */
            float *hk = hbuf + (size_t)(k - k0) * slab;
            load_step(dl, ul, dul, dt + k * ld, u + k * ld, nc, ncp);
            step_forward(k > k0 ? hk - slab : h0, hk, Al, dl, dul, Bm + k * ldbc, NULL, NULL, abuf + (size_t)(k - k0) * slab, n, ncp);
        }
        /* reverse over the chunk */
        for (int k = k1 - 1; k >= k0; k--) {
            const float *hp = k > k0 ? hbuf + (size_t)(k - k0 - 1) * slab : h0;
            const float *ht = hbuf + (size_t)(k - k0) * slab;
            const float *at = abuf + (size_t)(k - k0) * slab;
            load_step(dl, ul, dul, dt + k * ld, u + k * ld, nc, ncp);
            const float *dyk = dy + k * ld;
            for (int c = 0; c < nc; c++) dyl[c] = dyk[c];
            for (int c = nc; c < ncp; c++) dyl[c] = 0.0f;
            memset(acc1, 0, sizeof(float) * (size_t)ncp);
            memset(acc2, 0, sizeof(float) * (size_t)ncp);
            const float *Bk = Bm + k * ldbc, *Ck = Cm + k * ldbc;
            for (int s = 0; s < n; s++) {
                const float b = Bk[s], cc = Ck[s];
                float *restrict gs = g + s * CB, *restrict dAs = dAl + s * CB;
                const float *restrict hts = ht + s * CB, *restrict hps = hp + s * CB;
                const float *restrict ats = at + s * CB, *restrict as = Al + s * CB;
                float lb[LANES] = {0}, lc[LANES] = {0};
                for (int c0 = 0; c0 < ncp; c0 += LANES)
                    for (int l = 0; l < LANES; l++) {
                        const int c = c0 + l;
                        float gv = fmaf(cc, dyl[c], gs[c]);        /* g_t = C_t dy_t + Ā_{t+1} g_{t+1} */
                        lc[l] = fmaf(dyl[c], hts[c], lc[l]);       /* dC_t[s] */
                        lb[l] = fmaf(gv, dul[c], lb[l]);           /* dB_t[s] */
                        float gah = gv * (ats[c] * hps[c]);        /* g ⊙ Ā_t ⊙ h_{t−1} */
                        acc1[c] = fmaf(gah, as[c], acc1[c]);       /* dΔ via exp(ΔA) */
                        dAs[c] = fmaf(gah, dl[c], dAs[c]);         /* dA */
                        acc2[c] = fmaf(gv, b, acc2[c]);            /* Σ_s g B */
                        gs[c] = ats[c] * gv;                       /* carry Ā_t g_t */
                    }
                dC[k * ldg + s] = hsum16(lc);
                dB[k * ldg + s] = hsum16(lb);
            }
            float *duk = du + k * ld, *ddk = ddt + k * ld;
            for (int c = 0; c < nc; c++) {
                ddk[c] = fmaf(ul[c], acc2[c], acc1[c]);
                duk[c] = fmaf(dl[c], acc2[c], Dsk[c] * dyl[c]);
                dDl[c] = fmaf(ul[c], dyl[c], dDl[c]);
            }
        }
    }
    for (int s = 0; s < n; s++) memcpy(dAt + s * lda, dAl + s * CB, sizeof(float) * (size_t)nc);
    memcpy(dDsk, dDl, sizeof(float) * (size_t)nc);
}
