/* core/attn.c — the tiled softmax-attention kernel (FlashAttention-2, Dao 2023, Alg. 1 and 2)
 * written once for every softmax-family mixer, its vector exp, the
 * standard projection sub-block around it (MIXERS.md §0.2) and the naive double oracle.
 *
 * Tiles are 64 queries × 64 keys. The tile products are done by core/mk.h's register-blocked
 * microkernel (6 rows × up to 64 columns, AVX-512 with a portable C fallback). Measured on one
 * Zen5 core (d = 256, 4 heads of 64, N = 4096, bidirectional forward of the softmax mixer): 173
 * GFLOP/s with it against 156 GFLOP/s with xb_gemm (OpenBLAS sgemm) on the same tiles, whose
 * per-call packing is not amortised at 64×64×64 (both before K/V tile packing). K and V are
 * packed once per call into scratch, one contiguous block per 64-key tile (see pack_kv). */
#include "core/attn.h"

#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif
#if defined(__AVX512F__)
#include <immintrin.h>
#endif

#include "core/gemm.h"
#include "core/mk.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/xb.h"

#define T XB_ATTN_TILE

#if defined(__AVX512F__)

/* e^x: x = n·ln2 + r, |r| ≤ ln2/2, degree-7 Taylor for e^r (truncation < 1e-8), scalef by 2^n.
 * Exactly 0 below -87.3 (and for -inf), so masked scores give P = 0 bit for bit. */
static inline __m512 exp16(__m512 x)
{
    __mmask16 ok = _mm512_cmp_ps_mask(x, _mm512_set1_ps(-87.3f), _CMP_GE_OQ);
    x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
    __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                    _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
    r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
    __m512 p = _mm512_set1_ps(1.0f / 5040);
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 720));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 120));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 24));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f / 6));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(0.5f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.0f));
    return _mm512_maskz_scalef_ps(ok, p, n);
}

/* lanes j of a 16-vector starting at column base with lo ≤ base + j ≤ hi */
static inline __mmask16 range_mask(int base, int lo, int hi)
{
    int a = lo - base, b = hi - base + 1;
    if (a < 0) a = 0;
    if (b > 16) b = 16;
    if (b <= a) return 0;
    return (__mmask16)(((1u << b) - 1u) & ~((1u << a) - 1u));
}

/* max of s[jlo..jhi] (non-empty) */
static float row_max(const float *s, int jlo, int jhi)
{
    __m512 m = _mm512_set1_ps(-INFINITY);
    for (int v = jlo / 16 * 16; v <= jhi; v += 16)
        m = _mm512_mask_max_ps(m, range_mask(v, jlo, jhi), m, _mm512_loadu_ps(s + v));
    return _mm512_reduce_max_ps(m);
}

/* p[j] = exp(s[j]·scale − m) for j in [jlo, jhi], 0 for the other j < n (n ≤ 64, whole
 * 16-lane groups written); returns Σ p. s and p may alias. */
static float row_exp(const float *s, float *p, int n, int jlo, int jhi, float scale, float m)
{
    __m512 sum = _mm512_setzero_ps(), vs = _mm512_set1_ps(scale), vm = _mm512_set1_ps(m);
    for (int v = 0; v < n; v += 16) {
        __mmask16 k = range_mask(v, jlo, jhi);
        __m512 e = _mm512_maskz_mov_ps(k, exp16(_mm512_fmsub_ps(_mm512_loadu_ps(s + v), vs, vm)));
        _mm512_storeu_ps(p + v, e);
        sum = _mm512_add_ps(sum, e);
    }
    return _mm512_reduce_add_ps(sum);
}

/* ds[j] = scale · p[j] · (dp[j] − D) for j < n (whole 16-lane groups) */
static void row_ds(const float *p, float *ds, int n, float D, float scale)
{
    __m512 vd = _mm512_set1_ps(D), vs = _mm512_set1_ps(scale);
    for (int v = 0; v < n; v += 16)
        _mm512_storeu_ps(ds + v, _mm512_mul_ps(_mm512_mul_ps(_mm512_loadu_ps(p + v), vs),
                                               _mm512_sub_ps(_mm512_loadu_ps(ds + v), vd)));
}

void xb_attn_exp(const float *x, float *y, int n)
{
    int i = 0;
    for (; i + 16 <= n; i += 16) _mm512_storeu_ps(y + i, exp16(_mm512_loadu_ps(x + i)));
    if (i < n) {
        __mmask16 k = (__mmask16)((1u << (n - i)) - 1u);
        _mm512_mask_storeu_ps(y + i, k, exp16(_mm512_maskz_loadu_ps(k, x + i)));
    }
}

#else  /* portable fallback: same semantics, plain loops */

static inline float exp1(float x) { return x >= -87.3f ? expf(x < 88.7f ? x : 88.7f) : 0.0f; }

static float row_max(const float *s, int jlo, int jhi)
{
    float m = -INFINITY;
    for (int j = jlo; j <= jhi; j++) m = s[j] > m ? s[j] : m;
    return m;
}

static float row_exp(const float *s, float *p, int n, int jlo, int jhi, float scale, float m)
{
    float sum = 0;
    for (int j = 0; j < (n + 15) / 16 * 16; j++) {
        p[j] = j >= jlo && j <= jhi ? exp1(s[j] * scale - m) : 0.0f;
        sum += p[j];
    }
    return sum;
}

static void row_ds(const float *p, float *ds, int n, float D, float scale)
{
    for (int j = 0; j < (n + 15) / 16 * 16; j++) ds[j] = p[j] * scale * (ds[j] - D);
}

void xb_attn_exp(const float *x, float *y, int n)
{
    for (int i = 0; i < n; i++) y[i] = exp1(x[i]);
}

#endif

/* the row primitives for kernels that make their own score tiles (core/attn.h) */
float xb_attn_row_max(const float *s, int jlo, int jhi) { return row_max(s, jlo, jhi); }

float xb_attn_row_exp(const float *s, float *p, int n, int jlo, int jhi, float scale, float m)
{
    return row_exp(s, p, n, jlo, jhi, scale, m);
}

void xb_attn_row_ds(const float *p, float *ds, int n, float D, float scale) { row_ds(p, ds, n, D, scale); }

/* ---- mask geometry ------------------------------------------------------------------- */

/* first and last key row i may see (hi < lo: none); both never decrease with i */
static int key_lo(const xb_attn *a, int i)
{
    int lo = 0;
    if (a->band) lo = xb_max(lo, i - a->left + 1);
    if (a->block > 0) lo = xb_max(lo, i / a->block * a->block);
    return lo;
}

static int key_hi(const xb_attn *a, int i, int lk)
{
    int hi = lk - 1;
    if (a->causal) hi = xb_min(hi, i);
    if (a->band) hi = xb_min(hi, i + a->right);
    if (a->block > 0) hi = xb_min(hi, i / a->block * a->block + a->block - 1);
    return hi;
}

/* Packed copies of K and V, one contiguous dh × 64 block per (b, kv head g, key tile), so the
 * microkernel streams 256-byte rows instead of rows N floats apart (which alias in L1):
 * transposed (c, k), row stride 64, for S = Q Kᵀ and dP = dO Vᵀ; straight (k, c), row stride
 * dh, for P V and dS K. Scratch: see kernel_scratch. */
static size_t pack_floats(const xb_attn *a)
{
    return (size_t)a->B * a->hkv * ((a->Nk + T - 1) / T) * T * a->dh;
}

static float *pack_tile(const xb_attn *a, float *pack, int b, int g, int k0)
{
    return pack + (((size_t)b * a->hkv + g) * ((a->Nk + T - 1) / T) + k0 / T) * T * a->dh;
}

/* the gathered-key mode (xb_attn_groups), below the standard kernel */
static size_t groups_thread_floats(const xb_attn *a);
typedef struct kscr kscr;
static void groups_forward(const xb_attn *a, const float *Q, const float *K, const float *V, float *O,
                           float *L, const kscr *k);
static void groups_backward(const xb_attn *a, const float *Q, const float *K, const float *V,
                            const float *L, const float *dO, const float *D, float *dQ, float *dK,
                            float *dV, const kscr *k);

/* The kernel's scratch: the packs K transposed, V transposed (the forward's straight V in the
 * same place) and K straight (not with groups, whose keys are gathered per group) | D (B, hq,
 * Nq), backward only | per thread two 64×64 tiles (P and dS), or with groups the buffers of
 * groups_buf. */
struct kscr { float *Kt, *Vt, *Ks, *D, *tiles; size_t ts; };

static size_t kernel_scratch(const xb_attn *a, float *scratch, kscr *k)
{
    xb_scratch s = xb_scratch_at(scratch);
    if (!a->groups) {
        XB_TAKE(&s, k->Kt, pack_floats(a), XB_SCR_64F);
        XB_TAKE(&s, k->Vt, pack_floats(a), XB_SCR_64F);
        XB_TAKE(&s, k->Ks, pack_floats(a), XB_SCR_64F);
    }
    XB_TAKE(&s, k->D, (size_t)a->B * a->hq * a->Nq, XB_SCR_64F);
    XB_TAKE_THREADS(&s, k->tiles, a->groups ? groups_thread_floats(a) : 2 * T * T, XB_SCR_64F, &k->ts);
    return xb_scratch_floats(&s);
}

size_t xb_attn_scratch(const xb_attn *a)
{
    kscr k;
    return kernel_scratch(a, NULL, &k);
}

/* pack X (B, Nk, ldkv) rows k < len_k(b), transposed or straight */
static void pack_kv(const xb_attn *a, const float *X, float *pack, int transposed)
{
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < a->B; b++)
        for (int g = 0; g < a->hkv; g++) {
            const int lk = xb_len(a->len_k, b, a->Nk), dh = a->dh;
            const float *x = X + (size_t)b * a->Nk * a->ldkv + (size_t)g * dh;
            for (int k0 = 0; k0 < lk; k0 += T) {
                float *t = pack_tile(a, pack, b, g, k0);
                const int nc = xb_min(T, lk - k0);
                for (int k = 0; k < nc; k++) {
                    const float *row = x + (size_t)(k0 + k) * a->ldkv;
                    if (transposed)
                        for (int c = 0; c < dh; c++) t[c * T + k] = row[c];
                    else
                        memcpy(t + (size_t)k * dh, row, (size_t)dh * sizeof(float));
                }
            }
        }
}

/* The block loops visit blocks in the order 0, n−1, 1, n−2, … and hand them out two at a time
 * (schedule(static, 2)): under a causal mask block p costs ∝ p + 1 (query blocks) or n − p (key
 * blocks), so every pair costs the same and a static schedule is balanced. In plain order with
 * chunks of one, thread t of T gets blocks p ≡ t (mod T), whose costs differ by up to T − 1
 * tiles per round: by tile count, 1.5% of the time lost on 2 threads at N = 4096 and 5.5% on
 * 16 at N = 16384. */
static int zigzag(int p, int n) { return p % 2 ? n - 1 - p / 2 : p / 2; }

/* row range [jlo, jhi] of row i inside key tile [k0, k0 + nc) */
static void tile_range(const xb_attn *a, int i, int lk, int k0, int nc, int *jlo, int *jhi)
{
    *jlo = xb_max(key_lo(a, i) - k0, 0);
    *jhi = xb_min(key_hi(a, i, lk) - k0, nc - 1);
}

/* One key tile of the online softmax for rows r < mr: S (mr × nc scores, row stride T) becomes
 * P, row r seeing tile columns [lo[r], hi[r]] (none when lo > hi: P row 0, state unchanged);
 * the running max m, sum ℓ and accumulator rows O (row stride ldo) are rescaled. The caller
 * then adds P·V_tile to O. */
static void online_step(float *S, int mr, int nc, const int *lo, const int *hi, float scale, float *m,
                        float *l, float *O, int ldo, int dh)
{
    for (int r = 0; r < mr; r++) {
        float *s = S + r * T;
        if (lo[r] > hi[r]) {
            memset(s, 0, (size_t)(nc + 15) / 16 * 16 * sizeof(float));
            continue;
        }
        float mx = row_max(s, lo[r], hi[r]) * scale, mn = m[r] > mx ? m[r] : mx;
        float alpha = m[r] == -INFINITY ? 0.0f : expf(m[r] - mn);
        l[r] = alpha * l[r] + row_exp(s, s, nc, lo[r], hi[r], scale, mn);
        m[r] = mn;
        if (alpha != 1.0f) {
            float *o = O + (size_t)r * ldo;
            for (int c = 0; c < dh; c++) o[c] *= alpha;
        }
    }
}

/* O rows /= ℓ, L = m + log ℓ (rows that saw no key keep O = 0 and L as it was) */
static void online_finish(int mr, const float *m, const float *l, float *O, int ldo, int dh, float *L)
{
    for (int r = 0; r < mr; r++) {
        float *o = O + (size_t)r * ldo;
        if (l[r] > 0) {
            float inv = 1.0f / l[r];
            for (int c = 0; c < dh; c++) o[c] *= inv;
            L[r] = m[r] + logf(l[r]);
        }
    }
}

/* ---- forward ------------------------------------------------------------------------- *
 * Per (b, head j, query block): for each key tile c in the block's band,
 *   S = Q_b K_cᵀ; m' = max(m, rowmax S/√dh); P = exp(S/√dh − m'); ℓ = e^{m−m'}ℓ + ΣP;
 *   O_b = e^{m−m'} O_b + P V_c;  end: O_b /= ℓ, L = m + log ℓ. O is the accumulator. */
void xb_attn_forward(const xb_attn *a, const float *Q, const float *K, const float *V,
                     float *O, float *L, float *scratch)
{
    kscr k;
    kernel_scratch(a, scratch, &k);
    if (a->groups) {
        groups_forward(a, Q, K, V, O, L, &k);
        return;
    }
    pack_kv(a, K, k.Kt, 1);
    pack_kv(a, V, k.Vt, 0);
    xb_attn_forward_packed(a, Q, O, L, scratch);
}

void xb_attn_pack_rows(const xb_attn *a, int r0, int rows, const float *k, const float *v, int ld,
                       float *scratch)
{
    kscr ks;
    kernel_scratch(a, scratch, &ks);
    float *Kt = ks.Kt, *Vs = ks.Vt;
    const int dh = a->dh;
    for (int g = 0; g < a->hkv; g++)   /* one head at a time: its current tile stays in L1 */
        for (int r = 0; r < rows; r++) {
            const int b = (r0 + r) / a->Nk, t = (r0 + r) % a->Nk;
            if (t >= xb_len(a->len_k, b, a->Nk)) continue;
            const float *kr = k + (size_t)r * ld + (size_t)g * dh;
            float *kt = pack_tile(a, Kt, b, g, t) + t % T;
            for (int c = 0; c < dh; c++) kt[c * T] = kr[c];
            memcpy(pack_tile(a, Vs, b, g, t) + (size_t)(t % T) * dh, v + (size_t)r * ld + (size_t)g * dh,
                   (size_t)dh * sizeof(float));
        }
}

void xb_attn_forward_packed(const xb_attn *a, const float *Q, float *O, float *L, float *scratch)
{
    XB_ASSERT(a->hq % a->hkv == 0 && (!a->causal || a->Nq == a->Nk) && !a->groups);
    kscr ks;
    kernel_scratch(a, scratch, &ks);
    float *Kt = ks.Kt, *Vs = ks.Vt;
    const int nqb = (a->Nq + T - 1) / T, dh = a->dh;
    const float scale = 1.0f / sqrtf((float)dh);

#pragma omp parallel for collapse(3) schedule(static, 2)
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++)
            for (int p = 0; p < nqb; p++) {
                const int qb = zigzag(p, nqb), g = j * a->hkv / a->hq;
                const int lq = xb_len(a->len_q, b, a->Nq), lk = xb_len(a->len_k, b, a->Nk);
                const int i0 = qb * T, rows = xb_min(T, a->Nq - i0), mr = xb_max(0, xb_min(rows, lq - i0));
                float *Ob = O + ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                float *Lb = L + ((size_t)b * a->hq + j) * a->Nq + i0;
                for (int r = 0; r < rows; r++) memset(Ob + (size_t)r * a->ldq, 0, (size_t)dh * sizeof(float));
                memset(Lb, 0, (size_t)rows * sizeof(float));
                if (mr == 0) continue;
                const float *Qb = Q + ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                float *S = ks.tiles + (size_t)xb_thread_id() * ks.ts;
                float m[T], l[T];
                for (int r = 0; r < mr; r++) { m[r] = -INFINITY; l[r] = 0; }
                const int klo = key_lo(a, i0), khi = key_hi(a, i0 + mr - 1, lk);
                for (int k0 = klo / T * T; k0 <= khi; k0 += T) {
                    const int nc = xb_min(T, khi + 1 - k0);
                    xb_mk_gemm(mr, nc, dh, Qb, a->ldq, 1, pack_tile(a, Kt, b, g, k0), T, S, T, 0);
                    int lo[T], hi[T];
                    for (int r = 0; r < mr; r++) tile_range(a, i0 + r, lk, k0, nc, &lo[r], &hi[r]);
                    online_step(S, mr, nc, lo, hi, scale, m, l, Ob, a->ldq, dh);
                    xb_mk_gemm(mr, dh, nc, S, T, 1, pack_tile(a, Vs, b, g, k0), dh, Ob, a->ldq, 1);
                }
                online_finish(mr, m, l, Ob, a->ldq, dh, Lb);
            }
}

/* ---- backward ------------------------------------------------------------------------ *
 * D_i = Σ_c dO_ic O_ic; per tile: P = exp(S/√dh − L), dV_c += Pᵀ dO_b, dP = dO_b V_cᵀ,
 * dS = P ⊙ (dP − D)/√dh, dK_c += dSᵀ Q_b, dQ_b += dS K_c. */

/* recompute P (into P) and dS (into dS) of a tile: rows r < mr of Q and dO (row strides ldq,
 * ldo), nc keys of the packed transposed tiles Ktc and Vtc, row r seeing tile columns
 * [lo[r], hi[r]] */
static void tile_grad_rows(int mr, int nc, int dh, const float *Qb, int ldq, const float *dOb, int ldo,
                           const float *Ktc, const float *Vtc, const float *Lb, const float *Db,
                           float scale, const int *lo, const int *hi, float *P, float *dS)
{
    xb_mk_gemm(mr, nc, dh, Qb, ldq, 1, Ktc, T, P, T, 0);
    xb_mk_gemm(mr, nc, dh, dOb, ldo, 1, Vtc, T, dS, T, 0);
    for (int r = 0; r < mr; r++) {
        row_exp(P + r * T, P + r * T, nc, lo[r], hi[r], scale, Lb[r]);   /* empty range: zeros */
        row_ds(P + r * T, dS + r * T, nc, Db[r], scale);
    }
}

/* the same for the contiguous masks (query rows i0.., keys k0..k0+nc) */
static void tile_grad(const xb_attn *a, int i0, int mr, int nc, int lk, int k0, const float *Qb,
                      const float *dOb, const float *Ktc, const float *Vtc, const float *Lb,
                      const float *Db, float scale, float *P, float *dS)
{
    int lo[T], hi[T];
    for (int r = 0; r < mr; r++) tile_range(a, i0 + r, lk, k0, nc, &lo[r], &hi[r]);
    tile_grad_rows(mr, nc, a->dh, Qb, a->ldq, dOb, a->ldq, Ktc, Vtc, Lb, Db, scale, lo, hi, P, dS);
}

/* D (B, hq, Nq): D_i = Σ_c dO_ic O_ic for rows i < len_q */
static void row_delta(const xb_attn *a, const float *O, const float *dO, float *D)
{
    const int dh = a->dh;
#pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++) {
            int lq = xb_len(a->len_q, b, a->Nq);
            float *Dj = D + ((size_t)b * a->hq + j) * a->Nq;
            for (int i = 0; i < lq; i++) {
                size_t off = ((size_t)b * a->Nq + i) * a->ldq + (size_t)j * dh;
                float s = 0;
                for (int c = 0; c < dh; c++) s += dO[off + c] * O[off + c];
                Dj[i] = s;
            }
        }
}

void xb_attn_backward(const xb_attn *a, const float *Q, const float *K, const float *V,
                      const float *O, const float *L, const float *dO, float *dQ, float *dK,
                      float *dV, float *scratch)
{
    XB_ASSERT(a->hq % a->hkv == 0 && (!a->causal || a->Nq == a->Nk));
    kscr ks;
    kernel_scratch(a, scratch, &ks);
    if (a->groups) {
        row_delta(a, O, dO, ks.D);
        groups_backward(a, Q, K, V, L, dO, ks.D, dQ, dK, dV, &ks);
        return;
    }
    float *Kt = ks.Kt, *Vt = ks.Vt, *Ks = ks.Ks, *D = ks.D;
    pack_kv(a, K, Kt, 1);
    pack_kv(a, V, Vt, 1);
    pack_kv(a, K, Ks, 0);
    const int nqb = (a->Nq + T - 1) / T, nkb = (a->Nk + T - 1) / T, dh = a->dh, grp = a->hq / a->hkv;
    const float scale = 1.0f / sqrtf((float)dh);
    row_delta(a, O, dO, D);

    /* dK, dV: each (b, kv head, key block) owns its rows; query heads of the group and query
     * blocks are visited in a fixed order, so the sums are deterministic. */
#pragma omp parallel for collapse(3) schedule(static, 2)
    for (int b = 0; b < a->B; b++)
        for (int g = 0; g < a->hkv; g++)
            for (int p = 0; p < nkb; p++) {
                const int kb = zigzag(p, nkb), lq = xb_len(a->len_q, b, a->Nq), lk = xb_len(a->len_k, b, a->Nk);
                const int k0 = kb * T, rows = xb_min(T, a->Nk - k0), nc = xb_max(0, xb_min(rows, lk - k0));
                float *dKc = dK + ((size_t)b * a->Nk + k0) * a->ldkv + (size_t)g * dh;
                float *dVc = dV + ((size_t)b * a->Nk + k0) * a->ldkv + (size_t)g * dh;
                for (int r = 0; r < rows; r++) {
                    memset(dKc + (size_t)r * a->ldkv, 0, (size_t)dh * sizeof(float));
                    memset(dVc + (size_t)r * a->ldkv, 0, (size_t)dh * sizeof(float));
                }
                if (nc == 0) continue;
                const float *Ktc = pack_tile(a, Kt, b, g, k0), *Vtc = pack_tile(a, Vt, b, g, k0);
                float *P = ks.tiles + (size_t)xb_thread_id() * ks.ts, *dS = P + T * T;
                for (int j = g * grp; j < (g + 1) * grp; j++)
                    for (int i0 = 0; i0 < lq; i0 += T) {
                        const int mr = xb_min(T, lq - i0);
                        if (key_lo(a, i0) > k0 + nc - 1) break;          /* later rows start later */
                        if (key_hi(a, i0 + mr - 1, lk) < k0) continue;   /* block ends before */
                        const size_t qoff = ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                        const size_t loff = ((size_t)b * a->hq + j) * a->Nq + i0;
                        tile_grad(a, i0, mr, nc, lk, k0, Q + qoff, dO + qoff, Ktc, Vtc, L + loff,
                                  D + loff, scale, P, dS);
                        xb_mk_gemm(nc, dh, mr, P, 1, T, dO + qoff, a->ldq, dVc, a->ldkv, 1);
                        xb_mk_gemm(nc, dh, mr, dS, 1, T, Q + qoff, a->ldq, dKc, a->ldkv, 1);
                    }
            }

    /* dQ: each (b, head, query block) owns its rows */
#pragma omp parallel for collapse(3) schedule(static, 2)
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++)
            for (int p = 0; p < nqb; p++) {
                const int qb = zigzag(p, nqb), g = j * a->hkv / a->hq;
                const int lq = xb_len(a->len_q, b, a->Nq), lk = xb_len(a->len_k, b, a->Nk);
                const int i0 = qb * T, rows = xb_min(T, a->Nq - i0), mr = xb_max(0, xb_min(rows, lq - i0));
                const size_t qoff = ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                float *dQb = dQ + qoff;
                for (int r = 0; r < rows; r++) memset(dQb + (size_t)r * a->ldq, 0, (size_t)dh * sizeof(float));
                if (mr == 0) continue;
                const size_t loff = ((size_t)b * a->hq + j) * a->Nq + i0;
                float *P = ks.tiles + (size_t)xb_thread_id() * ks.ts, *dS = P + T * T;
                const int klo = key_lo(a, i0), khi = key_hi(a, i0 + mr - 1, lk);
                for (int k0 = klo / T * T; k0 <= khi; k0 += T) {
                    const int nc = xb_min(T, khi + 1 - k0);
                    tile_grad(a, i0, mr, nc, lk, k0, Q + qoff, dO + qoff, pack_tile(a, Kt, b, g, k0),
                              pack_tile(a, Vt, b, g, k0), L + loff, D + loff, scale, P, dS);
                    xb_mk_gemm(mr, dh, nc, dS, T, 1, pack_tile(a, Ks, b, g, k0), dh, dQb, a->ldq, 1);
                }
            }
}

/* ---- gathered keys (xb_attn_groups) ------------------------------------------------- *
 * The same tiles as above, with each 64-key tile gathered from the group's list into the
 * calling thread's packs just before use (a gather costs ~1/(2·rows) of the tile's
 * products). A key group's rows are read in place, in runs of up to 64 consecutive rows (the
 * row lists of the block-sparse masks are unions of whole blocks). Groups differ in cost
 * (bigbird's global blocks see every key), so the loops hand them out dynamically: every
 * group writes only its own rows of O, L, dQ (query groups) or dK, dV (key groups) with a
 * fixed order of operations inside, so the result does not depend on which thread takes which
 * group. Scratch (kernel_scratch): D (B, hq, Nq) | per thread the buffers below. */

typedef struct gbuf {
    float *kt, *vt;       /* K and V tiles transposed (c, k), row stride T */
    float *ks;            /* a straight (k, c) tile, row stride dh: V (forward) or K (dQ) */
    float *dka, *dva;     /* dK, dV of the key tile (key groups), row stride dh */
    float *P, *dS;        /* T × T */
    int *keys, *rows;     /* the group's lists (Nk, Nq) */
} gbuf;

/* one thread's gbuf at f (NULL: measure) */
static size_t groups_thread_plan(const xb_attn *a, float *f, gbuf *g)
{
    const size_t td = (size_t)T * a->dh;
    xb_scratch s = xb_scratch_at(f);
    XB_TAKE(&s, g->kt, td, XB_SCR_PACKED);
    XB_TAKE(&s, g->vt, td, XB_SCR_PACKED);
    XB_TAKE(&s, g->ks, td, XB_SCR_PACKED);
    XB_TAKE(&s, g->dka, td, XB_SCR_PACKED);
    XB_TAKE(&s, g->dva, td, XB_SCR_PACKED);
    XB_TAKE(&s, g->P, (size_t)T * T, XB_SCR_PACKED);
    XB_TAKE(&s, g->dS, (size_t)T * T, XB_SCR_PACKED);
    XB_TAKE(&s, g->keys, (size_t)a->Nk, XB_SCR_64F);
    XB_TAKE(&s, g->rows, (size_t)a->Nq, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t groups_thread_floats(const xb_attn *a)
{
    gbuf g;
    return groups_thread_plan(a, NULL, &g);
}

static gbuf groups_buf(const xb_attn *a, const kscr *k)
{
    gbuf g;
    groups_thread_plan(a, k->tiles + (size_t)xb_thread_id() * k->ts, &g);
    return g;
}

/* rows list[0..n) of X (row stride ld; X points at the head's first column): transposed into
 * t (c, k) with row stride T, or straight into s (k, c) with row stride dh */
static void gather_t(const float *X, int ld, const int *list, int n, int dh, float *t)
{
    for (int k = 0; k < n; k++) {
        const float *row = X + (size_t)list[k] * ld;
        for (int c = 0; c < dh; c++) t[c * T + k] = row[c];
    }
}

static void gather_s(const float *X, int ld, const int *list, int n, int dh, float *s)
{
    for (int k = 0; k < n; k++) memcpy(s + (size_t)k * dh, X + (size_t)list[k] * ld, (size_t)dh * sizeof(float));
}

/* last key row i may see: min(i, lk − 1) causal, lk − 1 bidirectional */
static int key_lim(const xb_attn *a, int i, int lk) { return a->causal ? xb_min(i, lk - 1) : lk - 1; }

/* cnt[r] = how many keys of the ascending list[0..n) row i0 + r sees (r < mr); non-decreasing */
static void prefix_counts(const xb_attn *a, const int *list, int n, int i0, int mr, int lk, int *cnt)
{
    int p = 0;
    for (int r = 0; r < mr; r++) {
        const int lim = key_lim(a, i0 + r, lk);
        while (p < n && list[p] <= lim) p++;
        cnt[r] = p;
    }
}

static void groups_forward(const xb_attn *a, const float *Q, const float *K, const float *V, float *O,
                           float *L, const kscr *k)
{
    XB_ASSERT(a->hq == a->hkv && (!a->causal || a->Nq == a->Nk));
    const xb_attn_groups *G = a->groups;
    const int dh = a->dh;
    const float scale = 1.0f / sqrtf((float)dh);

#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++)
            for (int q = 0; q < G->nq; q++) {
                gbuf t = groups_buf(a, k);
                int r0, rn;
                const int nk = G->qgroup(G->ctx, j, q, &r0, &rn, t.keys);
                const int lq = xb_len(a->len_q, b, a->Nq), lk = xb_len(a->len_k, b, a->Nk);
                const int rend = xb_min(r0 + rn, lq);
                for (int r = 0; r < rn; r++)
                    memset(O + ((size_t)b * a->Nq + r0 + r) * a->ldq + (size_t)j * dh, 0, (size_t)dh * sizeof(float));
                memset(L + ((size_t)b * a->hq + j) * a->Nq + r0, 0, (size_t)rn * sizeof(float));
                const float *Kb = K + (size_t)b * a->Nk * a->ldkv + (size_t)j * dh;
                const float *Vb = V + (size_t)b * a->Nk * a->ldkv + (size_t)j * dh;
                for (int i0 = r0; i0 < rend; i0 += T) {
                    const int mr = xb_min(T, rend - i0);
                    const float *Qb = Q + ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                    float *Ob = O + ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                    float m[T], l[T];
                    int cnt[T], lo[T], hi[T];
                    for (int r = 0; r < mr; r++) { m[r] = -INFINITY; l[r] = 0; lo[r] = 0; }
                    prefix_counts(a, t.keys, nk, i0, mr, lk, cnt);
                    for (int k0 = 0; k0 < cnt[mr - 1]; k0 += T) {
                        const int nc = xb_min(T, cnt[mr - 1] - k0);
                        gather_t(Kb, a->ldkv, t.keys + k0, nc, dh, t.kt);
                        gather_s(Vb, a->ldkv, t.keys + k0, nc, dh, t.ks);
                        xb_mk_gemm(mr, nc, dh, Qb, a->ldq, 1, t.kt, T, t.P, T, 0);
                        for (int r = 0; r < mr; r++) hi[r] = xb_min(cnt[r] - k0, nc) - 1;
                        online_step(t.P, mr, nc, lo, hi, scale, m, l, Ob, a->ldq, dh);
                        xb_mk_gemm(mr, dh, nc, t.P, T, 1, t.ks, dh, Ob, a->ldq, 1);
                    }
                    online_finish(mr, m, l, Ob, a->ldq, dh, L + ((size_t)b * a->hq + j) * a->Nq + i0);
                }
            }
}

static void groups_backward(const xb_attn *a, const float *Q, const float *K, const float *V,
                            const float *L, const float *dO, const float *D, float *dQ, float *dK,
                            float *dV, const kscr *k)
{
    XB_ASSERT(a->hq == a->hkv);
    const xb_attn_groups *G = a->groups;
    const int dh = a->dh;
    const float scale = 1.0f / sqrtf((float)dh);

    /* dK, dV over key groups: rows of the group gathered 64 at a time */
#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++)
            for (int u = 0; u < G->nk; u++) {
                gbuf t = groups_buf(a, k);
                int nkeys;
                const int nrows = G->kgroup(G->ctx, j, u, t.keys, &nkeys, t.rows);
                const int lq = xb_len(a->len_q, b, a->Nq), lk = xb_len(a->len_k, b, a->Nk);
                const size_t hoff = (size_t)b * a->Nk * a->ldkv + (size_t)j * dh;
                for (int k = 0; k < nkeys; k++) {
                    memset(dK + hoff + (size_t)t.keys[k] * a->ldkv, 0, (size_t)dh * sizeof(float));
                    memset(dV + hoff + (size_t)t.keys[k] * a->ldkv, 0, (size_t)dh * sizeof(float));
                }
                int nke = 0, nr = 0, rs = 0;
                while (nke < nkeys && t.keys[nke] < lk) nke++;
                while (nr < nrows && t.rows[nr] < lq) nr++;
                const float *Qh = Q + (size_t)b * a->Nq * a->ldq + (size_t)j * dh;
                const float *dOh = dO + (size_t)b * a->Nq * a->ldq + (size_t)j * dh;
                const float *Lh = L + ((size_t)b * a->hq + j) * a->Nq, *Dh = D + ((size_t)b * a->hq + j) * a->Nq;
                for (int k0 = 0; k0 < nke; k0 += T) {
                    const int nc = xb_min(T, nke - k0);
                    const int *kl = t.keys + k0;
                    gather_t(K + hoff, a->ldkv, kl, nc, dh, t.kt);
                    gather_t(V + hoff, a->ldkv, kl, nc, dh, t.vt);
                    memset(t.dka, 0, (size_t)nc * dh * sizeof(float));
                    memset(t.dva, 0, (size_t)nc * dh * sizeof(float));
                    if (a->causal)   /* rows before the tile's first key see none of it */
                        while (rs < nr && t.rows[rs] < kl[0]) rs++;
                    for (int q0 = rs, mr; q0 < nr; q0 += mr) {   /* runs of ≤ T consecutive rows */
                        const int i0 = t.rows[q0];
                        for (mr = 1; q0 + mr < nr && mr < T && t.rows[q0 + mr] == i0 + mr; mr++) {}
                        int lo[T], hi[T], p = 0;
                        for (int r = 0; r < mr; r++) {
                            const int lim = key_lim(a, i0 + r, lk);
                            while (p < nc && kl[p] <= lim) p++;
                            lo[r] = 0;
                            hi[r] = p - 1;
                        }
                        const float *Qb = Qh + (size_t)i0 * a->ldq, *dOb = dOh + (size_t)i0 * a->ldq;
                        tile_grad_rows(mr, nc, dh, Qb, a->ldq, dOb, a->ldq, t.kt, t.vt, Lh + i0, Dh + i0, scale,
                                       lo, hi, t.P, t.dS);
                        xb_mk_gemm(nc, dh, mr, t.P, 1, T, dOb, a->ldq, t.dva, dh, 1);
                        xb_mk_gemm(nc, dh, mr, t.dS, 1, T, Qb, a->ldq, t.dka, dh, 1);
                    }
                    for (int k = 0; k < nc; k++) {
                        memcpy(dK + hoff + (size_t)kl[k] * a->ldkv, t.dka + (size_t)k * dh, (size_t)dh * sizeof(float));
                        memcpy(dV + hoff + (size_t)kl[k] * a->ldkv, t.dva + (size_t)k * dh, (size_t)dh * sizeof(float));
                    }
                }
            }

    /* dQ over query groups, as the forward */
#pragma omp parallel for collapse(3) schedule(dynamic)
    for (int b = 0; b < a->B; b++)
        for (int j = 0; j < a->hq; j++)
            for (int q = 0; q < G->nq; q++) {
                gbuf t = groups_buf(a, k);
                int r0, rn;
                const int nk = G->qgroup(G->ctx, j, q, &r0, &rn, t.keys);
                const int lq = xb_len(a->len_q, b, a->Nq), lk = xb_len(a->len_k, b, a->Nk);
                const int rend = xb_min(r0 + rn, lq);
                for (int r = 0; r < rn; r++)
                    memset(dQ + ((size_t)b * a->Nq + r0 + r) * a->ldq + (size_t)j * dh, 0, (size_t)dh * sizeof(float));
                const size_t hoff = (size_t)b * a->Nk * a->ldkv + (size_t)j * dh;
                for (int i0 = r0; i0 < rend; i0 += T) {
                    const int mr = xb_min(T, rend - i0);
                    const size_t qoff = ((size_t)b * a->Nq + i0) * a->ldq + (size_t)j * dh;
                    const size_t loff = ((size_t)b * a->hq + j) * a->Nq + i0;
                    int cnt[T], lo[T], hi[T];
                    prefix_counts(a, t.keys, nk, i0, mr, lk, cnt);
                    for (int r = 0; r < mr; r++) lo[r] = 0;
                    for (int k0 = 0; k0 < cnt[mr - 1]; k0 += T) {
                        const int nc = xb_min(T, cnt[mr - 1] - k0);
                        gather_t(K + hoff, a->ldkv, t.keys + k0, nc, dh, t.kt);
                        gather_t(V + hoff, a->ldkv, t.keys + k0, nc, dh, t.vt);
                        gather_s(K + hoff, a->ldkv, t.keys + k0, nc, dh, t.ks);
                        for (int r = 0; r < mr; r++) hi[r] = xb_min(cnt[r] - k0, nc) - 1;
                        tile_grad_rows(mr, nc, dh, Q + qoff, a->ldq, dO + qoff, a->ldq, t.kt, t.vt, L + loff,
                                       D + loff, scale, lo, hi, t.P, t.dS);
                        xb_mk_gemm(mr, dh, nc, t.dS, T, 1, t.ks, dh, dQ + qoff, a->ldq, 1);
                    }
                }
            }
}

/* ---- the standard sub-block ---------------------------------------------------------- */

typedef struct lay { size_t dq, dkv, oq, ok, ov, oo; } lay;

static lay layout(const xb_attn_layer *l)
{
    lay s;
    s.dq = (size_t)l->hq * l->dh;
    s.dkv = (size_t)l->hkv * l->dh;
    s.oq = 0;
    s.ok = s.oq + (size_t)l->d * s.dq;
    s.ov = s.ok + (size_t)l->d * s.dkv;
    s.oo = s.ov + (size_t)l->d * s.dkv;
    return s;
}

int xb_attn_layer_tensors(const xb_attn_layer *l, xb_tensor *out)
{
    lay s = layout(l);
    if (out) {
        out[0] = (xb_tensor){"W_Q", s.oq, l->d, (int)s.dq, XB_T_DECAY};
        out[1] = (xb_tensor){"W_K", s.ok, l->d, (int)s.dkv, XB_T_DECAY};
        out[2] = (xb_tensor){"W_V", s.ov, l->d, (int)s.dkv, XB_T_DECAY};
        out[3] = (xb_tensor){"W_O", s.oo, (int)s.dq, l->d, XB_T_DECAY};
    }
    return 4;
}

size_t xb_attn_layer_saved(const xb_attn_layer *l, int N)
{
    lay s = layout(l);
    return (size_t)N * (2 * s.dq + 2 * s.dkv + (size_t)l->hq);
}

static xb_attn kernel_desc(const xb_attn_layer *l, const int *len, int B, int N)
{
    lay s = layout(l);
    return (xb_attn){.B = B, .Nq = N, .Nk = N, .hq = l->hq, .hkv = l->hkv, .dh = l->dh,
                     .ldq = (int)s.dq, .ldkv = (int)s.dkv, .causal = l->causal, .band = l->band,
                     .left = l->left, .right = l->right, .block = l->block, .len_q = len, .len_k = len,
                     .groups = l->groups};
}

/* Scratch: the forward's kernel scratch, or the backward's masked dY, dO, dQ, dK, dV and its
 * kernel scratch. */
typedef struct lscr { float *kf, *dY, *dO, *dQ, *dK, *dV, *kb; } lscr;

static size_t layer_scratch(const xb_attn_layer *l, int B, int N, float *scratch, lscr *b)
{
    lay s = layout(l);
    xb_attn a = kernel_desc(l, NULL, B, N);
    const size_t BN = (size_t)B * N, ks = xb_attn_scratch(&a);
    xb_scratch sc = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&sc);
    XB_TAKE(&sc, b->kf, ks, XB_SCR_64F);
    xb_scratch_union_next(&sc, &u);
    XB_TAKE(&sc, b->dY, BN * l->d, XB_SCR_64F);
    XB_TAKE(&sc, b->dO, BN * s.dq, XB_SCR_64F);
    XB_TAKE(&sc, b->dQ, BN * s.dq, XB_SCR_64F);
    XB_TAKE(&sc, b->dK, BN * s.dkv, XB_SCR_64F);
    XB_TAKE(&sc, b->dV, BN * s.dkv, XB_SCR_64F);
    XB_TAKE(&sc, b->kb, ks, XB_SCR_64F);
    xb_scratch_union_end(&sc, &u);
    return xb_scratch_floats(&sc);
}

size_t xb_attn_layer_scratch(const xb_attn_layer *l, int B, int N)
{
    lscr b;
    return layer_scratch(l, B, N, NULL, &b);
}

/* The forward's Q, K and V products one row block at a time, straight into saved; the
 * block's K and V rows go into the kernel's packs while still in cache, so there is no
 * packing pass over K and V in memory. */
typedef struct qkv_job {
    const xb_attn *a;
    const float *K, *V;
    float *scratch;
} qkv_job;

static void qkv_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    (void)y; (void)ldy;
    const qkv_job *j = arg;
    const size_t ld = (size_t)j->a->ldkv;
    xb_attn_pack_rows(j->a, r0, rows, j->K + r0 * ld, j->V + r0 * ld, (int)ld, j->scratch);
}

void xb_attn_layer_forward(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                           float *y, float *saved, float *scratch, int B, int N)
{
    lay s = layout(l);
    const int BN = B * N, d = l->d;
    float *Q = saved, *K = Q + (size_t)BN * s.dq, *V = K + (size_t)BN * s.dkv;
    float *O = V + (size_t)BN * s.dkv, *L = O + (size_t)BN * s.dq;
    xb_attn a = kernel_desc(l, len, B, N);
    lscr sc;
    layer_scratch(l, B, N, scratch, &sc);
    xb_proj p = xb_proj_make(d, 3, (int[]){(int)s.dq, (int)s.dkv, (int)s.dkv});
    qkv_job j = {&a, K, V, sc.kf};
    if (l->groups) {   /* keys are gathered per query group, not packed */
        xb_proj_forward_split(&p, BN, x, d, (const float *const[]){w + s.oq, w + s.ok, w + s.ov},
                              (float *const[]){Q, K, V}, NULL, NULL);
        xb_attn_forward(&a, Q, K, V, O, L, sc.kf);
    } else {
        xb_proj_forward_split(&p, BN, x, d, (const float *const[]){w + s.oq, w + s.ok, w + s.ov},
                              (float *const[]){Q, K, V}, qkv_epilogue, &j);
        xb_attn_forward_packed(&a, Q, O, L, sc.kf);
    }
    xb_proj_matmul(BN, (int)s.dq, d, O, (int)s.dq, w + s.oo, y);
    xb_zero_pad_rows(y, len, B, N, d);   /* O is 0 there; make y exactly +0 */
}

void xb_attn_layer_backward(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                            const float *saved, const float *dy, float *dx, float *dw,
                            float *scratch, int B, int N)
{
    lay s = layout(l);
    const int BN = B * N, d = l->d, dq = (int)s.dq, dkv = (int)s.dkv;
    const float *Q = saved, *K = Q + (size_t)BN * dq, *V = K + (size_t)BN * dkv;
    const float *O = V + (size_t)BN * dkv, *L = O + (size_t)BN * dq;
    lscr sc;
    layer_scratch(l, B, N, scratch, &sc);
    float *dY = sc.dY, *dO = sc.dO, *dQ = sc.dQ, *dK = sc.dK, *dV = sc.dV;
    for (int b = 0; b < B; b++) {   /* dy at pad rows counts as 0 */
        size_t off = (size_t)b * N * d, real = (size_t)xb_len(len, b, N) * d;
        memcpy(dY + off, dy + off, real * sizeof(float));
        memset(dY + off + real, 0, ((size_t)N * d - real) * sizeof(float));
    }
    xb_gemm(1, 0, dq, d, BN, 1.0f, O, dq, dY, d, 1.0f, dw + s.oo, d);
    xb_gemm(0, 1, BN, dq, d, 1.0f, dY, d, w + s.oo, d, 0.0f, dO, dq);
    xb_attn a = kernel_desc(l, len, B, N);
    xb_attn_backward(&a, Q, K, V, O, L, dO, dQ, dK, dV, sc.kb);
    xb_gemm(1, 0, d, dq, BN, 1.0f, x, d, dQ, dq, 1.0f, dw + s.oq, dq);
    xb_gemm(1, 0, d, dkv, BN, 1.0f, x, d, dK, dkv, 1.0f, dw + s.ok, dkv);
    xb_gemm(1, 0, d, dkv, BN, 1.0f, x, d, dV, dkv, 1.0f, dw + s.ov, dkv);
    xb_gemm(0, 1, BN, d, dq, 1.0f, dQ, dq, w + s.oq, dq, 0.0f, dx, d);
    xb_gemm(0, 1, BN, d, dkv, 1.0f, dK, dkv, w + s.ok, dkv, 1.0f, dx, d);
    xb_gemm(0, 1, BN, d, dkv, 1.0f, dV, dkv, w + s.ov, dkv, 1.0f, dx, d);
}

/* ---- naive oracle (tests only) ------------------------------------------------------- */

typedef struct naive_one {
    int (*allowed)(int i, int k, const void *ctx);
    const void *ctx;
} naive_one;

static int naive_one_allowed(int j, int i, int k, const void *ctx)
{
    (void)j;
    const naive_one *o = ctx;
    return o->allowed(i, k, o->ctx);
}

void xb_attn_layer_naive(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                         double *y, int B, int N, int (*allowed)(int i, int k, const void *ctx),
                         const void *ctx)
{
    naive_one o = {allowed, ctx};
    xb_attn_layer_naive_heads(l, w, x, len, y, B, N, naive_one_allowed, &o);
}

void xb_attn_layer_naive_heads(const xb_attn_layer *l, const float *w, const float *x, const int *len,
                               double *y, int B, int N,
                               int (*allowed)(int j, int i, int k, const void *ctx), const void *ctx)
{
    lay s = layout(l);
    const int d = l->d, dq = (int)s.dq, dkv = (int)s.dkv, dh = l->dh;
    double *q = calloc((size_t)N * dq, sizeof(double)), *k = calloc((size_t)N * dkv, sizeof(double));
    double *v = calloc((size_t)N * dkv, sizeof(double)), *o = calloc((size_t)N * dq, sizeof(double));
    double *p = calloc((size_t)N, sizeof(double));
    XB_ASSERT(q && k && v && o && p);
    for (int b = 0; b < B; b++) {
        const int n = xb_len(len, b, N);
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++) {
            for (int c = 0; c < dq; c++) {
                double a = 0;
                for (int e = 0; e < d; e++) a += (double)xb[t * d + e] * w[s.oq + (size_t)e * dq + c];
                q[t * dq + c] = a;
            }
            for (int c = 0; c < dkv; c++) {
                double a = 0, bb = 0;
                for (int e = 0; e < d; e++) {
                    a += (double)xb[t * d + e] * w[s.ok + (size_t)e * dkv + c];
                    bb += (double)xb[t * d + e] * w[s.ov + (size_t)e * dkv + c];
                }
                k[t * dkv + c] = a;
                v[t * dkv + c] = bb;
            }
        }
        for (int j = 0; j < l->hq; j++) {
            const int g = (int)((long)j * l->hkv / l->hq);
            for (int i = 0; i < n; i++) {
                double mx = -INFINITY, sum = 0;
                for (int t = 0; t < n; t++) {
                    p[t] = -INFINITY;
                    if (!allowed(j, i, t, ctx)) continue;
                    double a = 0;
                    for (int c = 0; c < dh; c++) a += q[i * dq + j * dh + c] * k[t * dkv + g * dh + c];
                    p[t] = a / sqrt((double)dh);
                    if (p[t] > mx) mx = p[t];
                }
                for (int t = 0; t < n; t++) { p[t] = p[t] == -INFINITY ? 0 : exp(p[t] - mx); sum += p[t]; }
                for (int c = 0; c < dh; c++) {
                    double a = 0;
                    for (int t = 0; t < n; t++) a += p[t] * v[t * dkv + g * dh + c];
                    o[i * dq + j * dh + c] = sum > 0 ? a / sum : 0;
                }
            }
        }
        double *yb = y + (size_t)b * N * d;
        for (int t = 0; t < N; t++)
            for (int c = 0; c < d; c++) {
                double a = 0;
                if (t < n)
                    for (int e = 0; e < dq; e++) a += o[t * dq + e] * w[s.oo + (size_t)e * d + c];
                yb[(size_t)t * d + c] = a;
            }
    }
    free(q); free(k); free(v); free(o); free(p);
}
