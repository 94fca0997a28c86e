/* core/linattn.c — shared linear-attention kernels (see core/linattn.h for the math and layouts):
 * elu+1 and FAVOR+ feature maps, the non-causal closed form, the chunked causal form with
 * per-chunk state checkpoints and an optional running log-scale g (performer's stabiliser),
 * and the standard Q/K/V projections. Everything here is serial per call; products go through
 * xb_gemm on chunk-sized tiles so the inner work is GEMM-shaped. */
#include "core/linattn.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/gemm.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

/* `work`, one layout for the three kernels that use it (each takes the slots it needs):
 *   A, D [C × C] | rows [C × max(F, dv)]: dnum, or the decayed keys | dd, sa, sb [C] (dden and
 *   the row scales a, b) | st [F·dv + F]: the state (S, z) or its gradient (dS, dz)
 * then room the size has always counted past them: a second block of rows, a fourth C-vector, a
 * second state and 12 × 16 floats of alignment slack, kept so that the mixers' n_scratch (which
 * size per-thread work with xb_linattn_work_floats) stay what they were. */
typedef struct lwork { float *A, *D, *rows, *dd, *sa, *sb, *st; } lwork;

static size_t work_plan(int F, int dv, int C, float *work, lwork *w)
{
    const size_t c = (size_t)C, rw = (size_t)(F > dv ? F : dv), sf = xb_linattn_state_floats(F, dv);
    xb_scratch s = xb_scratch_at(work);
    XB_TAKE(&s, w->A, c * c, XB_SCR_PACKED);
    XB_TAKE(&s, w->D, c * c, XB_SCR_PACKED);
    XB_TAKE(&s, w->rows, c * rw, XB_SCR_PACKED);
    XB_TAKE(&s, w->dd, c, XB_SCR_PACKED);
    XB_TAKE(&s, w->sa, c, XB_SCR_PACKED);
    XB_TAKE(&s, w->sb, c, XB_SCR_PACKED);
    XB_TAKE(&s, w->st, sf, XB_SCR_PACKED);
    xb_scratch_pad(&s, c * rw + c + sf + 16 * 12);
    return xb_scratch_floats(&s);
}

size_t xb_linattn_work_floats(int F, int dv, int C)
{
    lwork w;
    return work_plan(F, dv, C, NULL, &w);
}

/* ---- feature maps ------------------------------------------------------------------ */

void xb_elu1_forward(size_t n, const float *x, float *phi)
{
    #pragma omp simd
    for (size_t i = 0; i < n; i++) {
        float e = xb_vexp(x[i]);
        phi[i] = x[i] > 0.0f ? x[i] + 1.0f : e;
    }
}

void xb_elu1_backward(size_t n, const float *phi, const float *dphi, float *dx)
{
    for (size_t i = 0; i < n; i++) dx[i] = dphi[i] * (phi[i] < 1.0f ? phi[i] : 1.0f);   /* not fminf: a libm call */
}

void xb_favor_forward(int n, int dh, int m, const float *x, int ldx, const float *wrf, int mode,
                      float eps, float *phi, int ldphi, float *g)
{
    if (n <= 0) return;
    const float c = powf((float)dh, -0.25f), ratio = 1.0f / sqrtf((float)m);
    xb_gemm(0, 1, n, m, dh, c, x, ldx, wrf, dh, 0.0f, phi, ldphi);   /* u = c X W_rfᵀ */
    float all = -INFINITY, run = -INFINITY;
    if (mode == XB_FAVOR_ALL)
        for (int i = 0; i < n; i++)
            for (int j = 0; j < m; j++) all = fmaxf(all, phi[(size_t)i * ldphi + j]);
    for (int i = 0; i < n; i++) {
        float *u = phi + (size_t)i * ldphi;
        const float *xi = x + (size_t)i * ldx;
        float hh = 0.0f, rmax = -INFINITY;
        for (int j = 0; j < dh; j++) hh += xi[j] * xi[j];
        hh *= 0.5f * c * c;
        for (int j = 0; j < m; j++) rmax = fmaxf(rmax, u[j]);
        float stab = rmax;
        if (mode == XB_FAVOR_ALL) stab = all;
        else if (mode == XB_FAVOR_ROW_H) hh = 0.0f;   /* stab = rmax − h: the h's cancel exactly */
        else if (mode == XB_FAVOR_RUNNING) { run = fmaxf(run, rmax - hh); stab = run; g[i] = run; }
        #pragma omp simd
        for (int j = 0; j < m; j++) u[j] = ratio * (xb_vexp(u[j] - hh - stab) + eps);
    }
}

void xb_favor_backward(int n, int dh, int m, const float *x, int ldx, const float *wrf, float eps,
                       const float *phi, int ldphi, float *dphi, int lddphi, float *dx, int lddx)
{
    if (n <= 0) return;
    const float c = powf((float)dh, -0.25f), sm = sqrtf((float)m), ratio = 1.0f / sm;
    for (int i = 0; i < n; i++) {
        const float *p = phi + (size_t)i * ldphi;
        float *du = dphi + (size_t)i * lddphi;
        for (int j = 0; j < m; j++) du[j] = ratio * du[j] * (sm * p[j] - eps);
    }
    xb_gemm(0, 0, n, dh, m, c, dphi, lddphi, wrf, dh, 0.0f, dx, lddx);   /* c du W_rf */
    for (int i = 0; i < n; i++) {
        const float *du = dphi + (size_t)i * lddphi, *xi = x + (size_t)i * ldx;
        float s = 0.0f;
        for (int j = 0; j < m; j++) s += du[j];
        s *= c * c;
        float *dxi = dx + (size_t)i * lddx;
        for (int j = 0; j < dh; j++) dxi[j] -= s * xi[j];
    }
}

/* ---- non-causal closed form -------------------------------------------------------- */

/* z[F] = Σ_i rows of p (in row order: deterministic). */
static void colsum(int n, int F, const float *p, int ld, float *z, int accumulate)
{
    if (!accumulate) memset(z, 0, (size_t)F * sizeof(float));
    for (int i = 0; i < n; i++) {
        const float *r = p + (size_t)i * ld;
        for (int j = 0; j < F; j++) z[j] += r[j];
    }
}

static float dot(int n, const float *a, const float *b)
{
    float s = 0.0f;
    for (int j = 0; j < n; j++) s += a[j] * b[j];
    return s;
}

void xb_linattn_bidir_forward(int n, int F, int dv, const float *pq, const float *pk, int ldf,
                              const float *v, int ldv, float eps, float *o, int ldo, float *den,
                              float *state)
{
    float *KV = state, *z = state + (size_t)F * dv;
    xb_gemm(1, 0, F, dv, n, 1.0f, pk, ldf, v, ldv, 0.0f, KV, dv);
    colsum(n, F, pk, ldf, z, 0);
    xb_gemm(0, 0, n, dv, F, 1.0f, pq, ldf, KV, dv, 0.0f, o, ldo);
    for (int i = 0; i < n; i++) {
        float dn = dot(F, pq + (size_t)i * ldf, z) + eps;
        den[i] = dn;
        float *oi = o + (size_t)i * ldo;
        for (int j = 0; j < dv; j++) oi[j] /= dn;
    }
}

/* dnum = do/den, dden = −(do·o)/den for nc rows. */
static void out_grads(int nc, int dv, const float *o, int ldo, const float *den, const float *dout,
                      int lddo, float *dn, float *dd)
{
    for (int i = 0; i < nc; i++) {
        const float *doi = dout + (size_t)i * lddo, *oi = o + (size_t)i * ldo;
        float inv = 1.0f / den[i];
        float *dni = dn + (size_t)i * dv;
        for (int j = 0; j < dv; j++) dni[j] = doi[j] * inv;
        dd[i] = -dot(dv, doi, oi) * inv;
    }
}

void xb_linattn_bidir_backward(int n, int F, int dv, int C, const float *pq, const float *pk, int ldf,
                               const float *v, int ldv, const float *o, int ldo, const float *den,
                               const float *state, const float *dout, int lddo, float *dpq,
                               float *dpk, float *dvout, int lddv, float *work)
{
    const float *KV = state, *z = state + (size_t)F * dv;
    lwork wk;
    work_plan(F, dv, C, work, &wk);
    float *dn = wk.rows, *dd = wk.dd, *dKV = wk.st, *dz = dKV + (size_t)F * dv;
    memset(dKV, 0, (size_t)F * dv * sizeof(float));
    memset(dz, 0, (size_t)F * sizeof(float));
    for (int r0 = 0; r0 < n; r0 += C) {
        int nc = xb_min(C, n - r0);
        const float *Q = pq + (size_t)r0 * ldf;
        float *dQ = dpq + (size_t)r0 * ldf;
        out_grads(nc, dv, o + (size_t)r0 * ldo, ldo, den + r0, dout + (size_t)r0 * lddo, lddo, dn, dd);
        xb_gemm(0, 1, nc, F, dv, 1.0f, dn, dv, KV, dv, 0.0f, dQ, ldf);   /* dnum KVᵀ */
        for (int i = 0; i < nc; i++) {
            float *r = dQ + (size_t)i * ldf;
            for (int j = 0; j < F; j++) r[j] += dd[i] * z[j];
        }
        xb_gemm(1, 0, F, dv, nc, 1.0f, Q, ldf, dn, dv, 1.0f, dKV, dv);   /* dKV += φqᵀ dnum */
        for (int i = 0; i < nc; i++) {
            const float *q = Q + (size_t)i * ldf;
            for (int j = 0; j < F; j++) dz[j] += dd[i] * q[j];
        }
    }
    xb_gemm(0, 1, n, F, dv, 1.0f, v, ldv, dKV, dv, 0.0f, dpk, ldf);      /* V dKVᵀ */
    for (int i = 0; i < n; i++) {
        float *r = dpk + (size_t)i * ldf;
        for (int j = 0; j < F; j++) r[j] += dz[j];
    }
    xb_gemm(0, 0, n, dv, F, 1.0f, pk, ldf, dKV, dv, 0.0f, dvout, lddv); /* φk dKV */
}

/* ---- chunked causal form ----------------------------------------------------------- */

/* M[nc×nc] (stride C): keep j ≤ i scaled by e^{g_j − g_i}, set j > i to exactly 0 (never a
 * product with the mask, so a large future weight cannot leak in as inf·0). */
static void tril_decay(int nc, int C, float *M, const float *g)
{
    for (int i = 0; i < nc; i++) {
        float *r = M + (size_t)i * C;
        if (g)
            for (int j = 0; j <= i; j++) r[j] *= xb_vexp(g[j] - g[i]);
        for (int j = i + 1; j < nc; j++) r[j] = 0.0f;
    }
}

void xb_linattn_causal_forward(int n, int F, int dv, int C, const float *pq, const float *pk, int ldf,
                               const float *v, int ldv, const float *g, float eps, float *o, int ldo,
                               float *den, float *ckpt, float *work)
{
    lwork wk;
    work_plan(F, dv, C, work, &wk);
    float *A = wk.A, *Kb = wk.rows, *S = wk.st, *z = S + (size_t)F * dv;
    const size_t sf = xb_linattn_state_floats(F, dv);
    memset(S, 0, sf * sizeof(float));
    float Gprev = g ? g[0] : 0.0f;
    for (int r0 = 0, c = 0; r0 < n; r0 += C, c++) {
        int nc = xb_min(C, n - r0);
        const float *Q = pq + (size_t)r0 * ldf, *K = pk + (size_t)r0 * ldf, *V = v + (size_t)r0 * ldv;
        const float *gc = g ? g + r0 : NULL;
        float *O = o + (size_t)r0 * ldo, *dn = den + r0;
        memcpy(ckpt + (size_t)c * sf, S, sf * sizeof(float));            /* S_{c−1}, z_{c−1} */
        xb_gemm(0, 1, nc, nc, F, 1.0f, Q, ldf, K, ldf, 0.0f, A, C);       /* Φq Φkᵀ */
        tril_decay(nc, C, A, gc);
        xb_gemm(0, 0, nc, dv, F, 1.0f, Q, ldf, S, dv, 0.0f, O, ldo);      /* Φq S_{c−1} */
        for (int i = 0; i < nc; i++) {
            const float *Ai = A + (size_t)i * C;
            float rs = 0.0f;
            for (int j = 0; j <= i; j++) rs += Ai[j];
            float qz = dot(F, Q + (size_t)i * ldf, z);
            if (gc) {
                float a = xb_vexp(Gprev - gc[i]);
                qz *= a;
                float *Oi = O + (size_t)i * ldo;
                for (int j = 0; j < dv; j++) Oi[j] *= a;
            }
            dn[i] = qz + rs + eps;
        }
        xb_gemm(0, 0, nc, dv, nc, 1.0f, A, C, V, ldv, 1.0f, O, ldo);     /* + tril(·) V */
        for (int i = 0; i < nc; i++) {
            float *Oi = O + (size_t)i * ldo;
            for (int j = 0; j < dv; j++) Oi[j] /= dn[i];
        }
        /* state update S_c = e^{G_{c−1}−G_c} S_{c−1} + (diag(b) Φk)ᵀ V */
        const float *Ku = K;
        int ldk = ldf;
        if (gc) {
            float Gc = gc[nc - 1], decay = xb_vexp(Gprev - Gc);
            for (size_t j = 0; j < sf; j++) S[j] *= decay;
            for (int i = 0; i < nc; i++) {
                float b = xb_vexp(gc[i] - Gc);
                for (int j = 0; j < F; j++) Kb[(size_t)i * F + j] = b * K[(size_t)i * ldf + j];
            }
            Ku = Kb; ldk = F;
            Gprev = Gc;
        }
        xb_gemm(1, 0, F, dv, nc, 1.0f, Ku, ldk, V, ldv, 1.0f, S, dv);
        colsum(nc, F, Ku, ldk, z, 1);
    }
}

void xb_linattn_causal_backward(int n, int F, int dv, int C, const float *pq, const float *pk, int ldf,
                                const float *v, int ldv, const float *g, const float *o, int ldo,
                                const float *den, const float *ckpt, const float *dout, int lddo,
                                float *dpq, float *dpk, float *dvout, int lddv, float *work)
{
    lwork wk;
    work_plan(F, dv, C, work, &wk);
    float *A = wk.A, *D = wk.D, *dn = wk.rows, *dd = wk.dd, *sa = wk.sa, *sb = wk.sb;
    const size_t sf = xb_linattn_state_floats(F, dv);
    float *dS = wk.st, *dz = dS + (size_t)F * dv;
    memset(dS, 0, sf * sizeof(float));
    for (int c = xb_linattn_nchunks(n, C) - 1; c >= 0; c--) {
        int r0 = c * C, nc = xb_min(C, n - r0);
        const float *Q = pq + (size_t)r0 * ldf, *K = pk + (size_t)r0 * ldf, *V = v + (size_t)r0 * ldv;
        const float *Sp = ckpt + (size_t)c * sf, *zp = Sp + (size_t)F * dv;
        const float *gc = g ? g + r0 : NULL;
        float *dQ = dpq + (size_t)r0 * ldf, *dK = dpk + (size_t)r0 * ldf, *dV = dvout + (size_t)r0 * lddv;
        float Gprev = 0.0f, Gc = 0.0f;
        for (int i = 0; i < nc; i++) sa[i] = sb[i] = 1.0f;
        if (gc) {
            Gprev = c > 0 ? g[r0 - 1] : g[0];
            Gc = gc[nc - 1];
            for (int i = 0; i < nc; i++) { sa[i] = xb_vexp(Gprev - gc[i]); sb[i] = xb_vexp(gc[i] - Gc); }
        }
        out_grads(nc, dv, o + (size_t)r0 * ldo, ldo, den + r0, dout + (size_t)r0 * lddo, lddo, dn, dd);
        /* A = tril(Φq Φkᵀ) ⊙ E, D = tril(dnum Vᵀ + dden 1ᵀ) ⊙ E */
        xb_gemm(0, 1, nc, nc, F, 1.0f, Q, ldf, K, ldf, 0.0f, A, C);
        tril_decay(nc, C, A, gc);
        xb_gemm(0, 1, nc, nc, dv, 1.0f, dn, dv, V, ldv, 0.0f, D, C);
        for (int i = 0; i < nc; i++)
            for (int j = 0; j <= i; j++) D[(size_t)i * C + j] += dd[i];
        tril_decay(nc, C, D, gc);
        /* dΦq = diag(a)(dnum S_{c−1}ᵀ + dden z_{c−1}ᵀ) + D Φk */
        xb_gemm(0, 1, nc, F, dv, 1.0f, dn, dv, Sp, dv, 0.0f, dQ, ldf);
        for (int i = 0; i < nc; i++) {
            float *r = dQ + (size_t)i * ldf;
            for (int j = 0; j < F; j++) r[j] = sa[i] * (r[j] + dd[i] * zp[j]);
        }
        xb_gemm(0, 0, nc, F, nc, 1.0f, D, C, K, ldf, 1.0f, dQ, ldf);
        /* dΦk = Dᵀ Φq + diag(b)(V dSᵀ + 1 dzᵀ), dS = ∂L/∂S_c from later chunks */
        xb_gemm(0, 1, nc, F, dv, 1.0f, V, ldv, dS, dv, 0.0f, dK, ldf);
        for (int i = 0; i < nc; i++) {
            float *r = dK + (size_t)i * ldf;
            for (int j = 0; j < F; j++) r[j] = sb[i] * (r[j] + dz[j]);
        }
        xb_gemm(1, 0, nc, F, nc, 1.0f, D, C, Q, ldf, 1.0f, dK, ldf);
        /* dV = Aᵀ dnum + diag(b) Φk dS */
        xb_gemm(0, 0, nc, dv, F, 1.0f, K, ldf, dS, dv, 0.0f, dV, lddv);
        if (gc)
            for (int i = 0; i < nc; i++)
                for (int j = 0; j < dv; j++) dV[(size_t)i * lddv + j] *= sb[i];
        xb_gemm(1, 0, nc, dv, nc, 1.0f, A, C, dn, dv, 1.0f, dV, lddv);
        if (c == 0) break;
        /* ∂L/∂S_{c−1} = e^{G_{c−1}−G_c} dS + Φqᵀ diag(a) dnum (z likewise with dden) */
        if (gc) {
            float decay = xb_vexp(Gprev - Gc);
            for (size_t j = 0; j < sf; j++) dS[j] *= decay;
            for (int i = 0; i < nc; i++) {
                for (int j = 0; j < dv; j++) dn[(size_t)i * dv + j] *= sa[i];
                dd[i] *= sa[i];
            }
        }
        xb_gemm(1, 0, F, dv, nc, 1.0f, Q, ldf, dn, dv, 1.0f, dS, dv);
        for (int i = 0; i < nc; i++) {
            const float *q = Q + (size_t)i * ldf;
            for (int j = 0; j < F; j++) dz[j] += dd[i] * q[j];
        }
    }
}
