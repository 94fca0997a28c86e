/* core/attn_decode.c — decode with a KV cache for the standard attention sub-block
 * (MIXERS.md §29.2, Lean Attention's split-K): one query row per step against every cached
 * key, the keys split across threads in equal pieces of the flattened (kv head × key) range,
 * each piece returning its running max m, denominator ℓ and unnormalised output o, merged as
 * an online softmax is: m = max m_p, ℓ = Σ e^{m_p − m} ℓ_p, o = Σ e^{m_p − m} o_p / ℓ.
 *
 * The cache holds K and V rows (cap × hkv·dh each). A full cache has cap = n_max; a causal band
 * (local) keeps the last `left` tokens and a causal block (local_block) the tokens of the
 * current block, both as a ring: token p sits in slot p mod cap. In each case the keys token t
 * sees are exactly the slots [0, n) with n = t − lo + 1 (lo = the first visible position), so
 * a step reads a contiguous slab whatever the pattern. */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/attn.h"
#include "core/gemm.h"
#include "core/xb.h"

#define KB 64   /* keys per scored block */

static int cap_of(const xb_attn_layer *l, int n_max)
{
    int cap = n_max;
    if (l->band && l->left < cap) cap = l->left;
    if (l->block > 0 && l->block < cap) cap = l->block;
    return cap < 1 ? 1 : cap;
}

static int max_threads(void)
{
#ifdef _OPENMP
    return omp_get_max_threads();
#else
    return 1;
#endif
}

size_t xb_attn_layer_decode_state(const xb_attn_layer *l, int n_max)
{
    return 2 * (size_t)cap_of(l, n_max) * (size_t)l->hkv * (size_t)l->dh;
}

/* q, o, k, v rows, then per thread: hq partials of (m, ℓ, o[dh]) and a block of scores. */
static size_t part_floats(const xb_attn_layer *l) { return (size_t)l->hq * (l->dh + 2) + KB; }

size_t xb_attn_layer_decode_scratch(const xb_attn_layer *l, int n_max)
{
    (void)n_max;
    size_t dq = (size_t)l->hq * l->dh, dkv = (size_t)l->hkv * l->dh;
    return xb_align64(2 * dq + 2 * dkv) + (size_t)max_threads() * xb_align64(part_floats(l));
}

void xb_attn_layer_decode_prefill(const xb_attn_layer *l, int n_max, const float *w, const float *x,
                                  int n, float *state, float *scratch)
{
    (void)scratch;
    const int d = l->d, dq = l->hq * l->dh, dkv = l->hkv * l->dh, cap = cap_of(l, n_max);
    const float *WK = w + (size_t)d * dq, *WV = WK + (size_t)d * dkv;
    float *Kc = state, *Vc = state + (size_t)cap * dkv;
    /* only the last cap tokens stay in the ring: one product per contiguous run of slots */
    for (int p = n > cap ? n - cap : 0; p < n;) {
        int slot = p % cap, run = cap - slot < n - p ? cap - slot : n - p;
        xb_gemm(0, 0, run, dkv, d, 1.0f, x + (size_t)p * d, d, WK, dkv, 0.0f, Kc + (size_t)slot * dkv, dkv);
        xb_gemm(0, 0, run, dkv, d, 1.0f, x + (size_t)p * d, d, WV, dkv, 0.0f, Vc + (size_t)slot * dkv, dkv);
        p += run;
    }
}

/* Online softmax of query head q (dh) over keys [k0, k1) of kv head g into (m, ℓ, o). */
static void attend(const float *q, const float *Kc, const float *Vc, int dkv, int g, int dh,
                   float scale, int k0, int k1, float *part, float *s)
{
    float m = -INFINITY, ell = 0.0f, *o = part + 2;
    memset(o, 0, (size_t)dh * sizeof(float));
    for (int b0 = k0; b0 < k1; b0 += KB) {
        const int nb = k1 - b0 < KB ? k1 - b0 : KB;
        float mb = -INFINITY;
        for (int i = 0; i < nb; i++) {
            const float *k = Kc + (size_t)(b0 + i) * dkv + (size_t)g * dh;
            float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
            for (int e = 0; e < dh; e++) acc += q[e] * k[e];
            s[i] = acc * scale;
            if (s[i] > mb) mb = s[i];
        }
        const float mn = mb > m ? mb : m, r = expf(m - mn);
        for (int i = 0; i < nb; i++) s[i] -= mn;
        xb_attn_exp(s, s, nb);
        ell *= r;
        for (int e = 0; e < dh; e++) o[e] *= r;
        for (int i = 0; i < nb; i++) {
            const float *v = Vc + (size_t)(b0 + i) * dkv + (size_t)g * dh;
            ell += s[i];
            for (int e = 0; e < dh; e++) o[e] += s[i] * v[e];
        }
        m = mn;
    }
    part[0] = m;
    part[1] = ell;
}

void xb_attn_layer_decode_step(const xb_attn_layer *l, int n_max, const float *w, const float *x,
                               int t, float *state, float *y, float *scratch)
{
    const int d = l->d, dh = l->dh, hq = l->hq, hkv = l->hkv, rep = hq / hkv;
    const int dq = hq * dh, dkv = hkv * dh, cap = cap_of(l, n_max);
    const float *WQ = w, *WK = w + (size_t)d * dq, *WV = WK + (size_t)d * dkv, *WO = WV + (size_t)d * dkv;
    float *Kc = state, *Vc = state + (size_t)cap * dkv;
    float *q = scratch, *o = q + dq, *kv = o + dq;
    float *parts = scratch + xb_align64(2 * (size_t)dq + 2 * (size_t)dkv);
    const size_t pstride = xb_align64(part_floats(l));

    xb_gemm(0, 0, 1, dq, d, 1.0f, x, d, WQ, dq, 0.0f, q, dq);
    xb_gemm(0, 0, 1, dkv, d, 1.0f, x, d, WK, dkv, 0.0f, kv, dkv);
    xb_gemm(0, 0, 1, dkv, d, 1.0f, x, d, WV, dkv, 0.0f, kv + dkv, dkv);
    memcpy(Kc + (size_t)(t % cap) * dkv, kv, (size_t)dkv * sizeof(float));
    memcpy(Vc + (size_t)(t % cap) * dkv, kv + dkv, (size_t)dkv * sizeof(float));

    int lo = 0;
    if (l->band && t - l->left + 1 > lo) lo = t - l->left + 1;
    if (l->block > 0) lo = t - t % l->block;
    const long n = t - lo + 1, work = (long)hkv * n;
    const float scale = 1.0f / sqrtf((float)dh);
    const int T = max_threads();

#pragma omp parallel num_threads(T)
    {
#ifdef _OPENMP
        const int me = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        const int me = 0, nt = 1;
#endif
        float *part = parts + (size_t)me * pstride, *s = part + (size_t)hq * (dh + 2);
        for (int j = 0; j < hq; j++) part[(size_t)j * (dh + 2)] = -INFINITY;
        const long w0 = work * me / nt, w1 = work * (me + 1) / nt;
        for (long i = w0; i < w1;) {   /* a piece may cross from one kv head into the next */
            const int g = (int)(i / n), k0 = (int)(i % n);
            const int k1 = (long)(g + 1) * n < w1 ? (int)n : (int)(w1 - (long)g * n);
            for (int j = g * rep; j < (g + 1) * rep; j++)
                attend(q + (size_t)j * dh, Kc, Vc, dkv, g, dh, scale, k0, k1, part + (size_t)j * (dh + 2), s);
            i = (long)g * n + k1;
        }
        /* merge: the barrier ends every piece; head j's merge reads every thread's partial */
#pragma omp barrier
#pragma omp for schedule(static)
        for (int j = 0; j < hq; j++) {
            float m = -INFINITY;
            for (int p = 0; p < nt; p++) {
                const float mp = parts[(size_t)p * pstride + (size_t)j * (dh + 2)];
                if (mp > m) m = mp;
            }
            float ell = 0.0f, *oj = o + (size_t)j * dh;
            memset(oj, 0, (size_t)dh * sizeof(float));
            for (int p = 0; p < nt; p++) {
                const float *pp = parts + (size_t)p * pstride + (size_t)j * (dh + 2);
                if (pp[0] == -INFINITY) continue;
                const float r = expf(pp[0] - m);
                ell += r * pp[1];
                for (int e = 0; e < dh; e++) oj[e] += r * pp[2 + e];
            }
            for (int e = 0; e < dh; e++) oj[e] /= ell;
        }
    }
    xb_gemm(0, 0, 1, d, dq, 1.0f, o, dq, WO, d, 0.0f, y, d);
}
