/* core/attn_decode.c — decode with a KV cache for the attention family (MIXERS.md §29.2, Lean
 * Attention's split-K): one query row per step against the cached keys it sees, listed as spans
 * of cache rows per kv head. The flattened (kv head × listed key) range is split across threads
 * in equal pieces, each returning its running max m, denominator ℓ and unnormalised output o,
 * merged as an online softmax is: m = max m_p, ℓ = Σ e^{m_p − m} ℓ_p, o = Σ e^{m_p − m} o_p / ℓ.
 *
 * The standard sub-block's cache holds K and V rows (cap × hkv·dh each). A full cache has
 * cap = n_max; a causal band (local) keeps the last `left` tokens and a causal block
 * (local_block) the tokens of the current block, both as a ring: token p sits in slot p mod cap.
 * In each case the keys token t sees are exactly the slots [0, n) with n = t − lo + 1 (lo = the
 * first visible position): one span per head. Block-sparse mixers (sparse_fixed, bigbird) lay
 * out their own caches and list several spans (xb_attn_layer_decode_keys); minattn calls
 * xb_attn_decode on a cache of its inputs. */
#include <math.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/attn.h"
#include "core/gemm.h"
#include "core/scratch.h"
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

/* ---- split-K over listed keys ---------------------------------------------------------- */

/* Per thread: hq partials of (m, ℓ, o[dh]), a block of scores and its runs of rows (ints). */
typedef struct part { float *pm, *s; int *ro, *rl; } part;

static size_t part_plan(int hq, int dh, float *base, part *p)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, p->pm, (size_t)hq * (dh + 2), XB_SCR_PACKED);
    XB_TAKE(&s, p->s, KB, XB_SCR_PACKED);
    XB_TAKE(&s, p->ro, KB, XB_SCR_PACKED);
    XB_TAKE(&s, p->rl, KB, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

/* cum: nspans + 1 prefix sums (longs), then the per-thread partials */
typedef struct dscr { long *cum; float *parts; size_t ps; } dscr;

static size_t decode_plan(int hq, int dh, int nspans, float *scratch, dscr *b)
{
    part p;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->cum, (size_t)nspans + 1, XB_SCR_PACKED);
    XB_TAKE_THREADS(&s, b->parts, part_plan(hq, dh, NULL, &p), XB_SCR_64F, &b->ps);
    return xb_scratch_floats(&s);
}

size_t xb_attn_decode_scratch(int hq, int dh, int nspans)
{
    dscr b;
    return decode_plan(hq, dh, nspans, NULL, &b);
}

/* Online softmax of query head q over the flattened keys [f0, f1) of kv head g, which start in
 * span r (cum[r] ≤ f0 < cum[r + 1]), into (m, ℓ, o). Keys are scored KB at a time; a block is
 * gathered as runs of consecutive rows (run u: rows ro[u] .. ro[u] + rl[u] − 1), one run when
 * the keys are one span, so a contiguous mask walks its rows as a plain loop. */
static void attend(const float *q, const float *K, const float *V, int ld, int g, int dh, float scale,
                   const xb_attn_span *sp, const long *cum, int r, long f0, long f1, float *part,
                   float *s, int *ro, int *rl)
{
    float m = -INFINITY, ell = 0.0f, *o = part + 2;
    int p = sp[r].lo + (int)(f0 - cum[r]);
    memset(o, 0, (size_t)dh * sizeof(float));
    for (long b0 = f0; b0 < f1; b0 += KB) {
        const int nb = f1 - b0 < KB ? (int)(f1 - b0) : KB;
        int nr = 0;
        for (int i = 0; i < nb; nr++) {
            while (p >= sp[r].hi) p = sp[++r].lo;   /* f < f1: a later span holds the key */
            ro[nr] = p;
            rl[nr] = sp[r].hi - p < nb - i ? sp[r].hi - p : nb - i;
            i += rl[nr];
            p += rl[nr];
        }
        float mb = -INFINITY;
        for (int u = 0, i = 0; u < nr; u++) {
            const float *k = K + (size_t)ro[u] * ld + (size_t)g * dh;
            for (int c = 0; c < rl[u]; c++, i++, k += ld) {
                float acc = 0.0f;
#pragma omp simd reduction(+ : acc)
                for (int e = 0; e < dh; e++) acc += q[e] * k[e];
                s[i] = acc * scale;
                if (s[i] > mb) mb = s[i];
            }
        }
        const float mn = mb > m ? mb : m, rs = expf(m - mn);
        for (int i = 0; i < nb; i++) s[i] -= mn;
        xb_attn_exp(s, s, nb);
        ell *= rs;
        for (int e = 0; e < dh; e++) o[e] *= rs;
        for (int u = 0, i = 0; u < nr; u++) {
            const float *v = V + (size_t)ro[u] * ld + (size_t)g * dh;
            for (int c = 0; c < rl[u]; c++, i++, v += ld) {
                ell += s[i];
                for (int e = 0; e < dh; e++) o[e] += s[i] * v[e];
            }
        }
        m = mn;
    }
    part[0] = m;
    part[1] = ell;
}

/* the span holding flattened key f: the last r with cum[r] ≤ f (then cum[r + 1] > f) */
static int span_of(const long *cum, int ns, long f)
{
    int lo = 0, hi = ns - 1;
    while (lo < hi) {
        const int mid = (lo + hi + 1) / 2;
        if (cum[mid] <= f) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

void xb_attn_decode(const xb_attn_keys *a, const float *q, const float *K, const float *V, float *o,
                    float *scratch)
{
    const int hq = a->hq, hkv = a->hkv, dh = a->dh, rep = hq / hkv, ns = a->off[hkv];
    const xb_attn_span *sp = a->spans;
    dscr ds;
    decode_plan(hq, dh, ns, scratch, &ds);
    long *cum = ds.cum;
    float *parts = ds.parts;
    const size_t pstride = ds.ps;
    cum[0] = 0;
    for (int r = 0; r < ns; r++) cum[r + 1] = cum[r] + (sp[r].hi - sp[r].lo);
    const long work = cum[ns];
    const int T = max_threads();

#pragma omp parallel num_threads(T)
    {
#ifdef _OPENMP
        const int me = omp_get_thread_num(), nt = omp_get_num_threads();
#else
        const int me = 0, nt = 1;
#endif
        part pt;
        part_plan(hq, dh, parts + (size_t)me * pstride, &pt);
        float *part = pt.pm, *s = pt.s;
        int *ro = pt.ro, *rl = pt.rl;
        for (int j = 0; j < hq; j++) part[(size_t)j * (dh + 2)] = -INFINITY;
        const long w0 = work * me / nt, w1 = work * (me + 1) / nt;
        int g = 0;
        for (long f = w0; f < w1;) {   /* a piece may cross from one kv head into the next */
            const int r = span_of(cum, ns, f);
            while (a->off[g + 1] <= r) g++;
            const long e = cum[a->off[g + 1]] < w1 ? cum[a->off[g + 1]] : w1;
            for (int j = g * rep; j < (g + 1) * rep; j++)
                attend(q + (size_t)j * dh, K, V, a->ld, g, dh, a->scale, sp, cum, r, f, e,
                       part + (size_t)j * (dh + 2), s, ro, rl);
            f = e;
        }
        /* merge: the barrier ends every piece; head j's merge reads every thread's partial */
#pragma omp barrier
#pragma omp for schedule(static)
        for (int j = 0; j < hq; j++)
            xb_attn_decode_merge(parts + (size_t)j * (dh + 2), pstride, nt, dh, o + (size_t)j * dh);
    }
}

/* Head j's output from the threads' partials (m, ℓ, o[dh]) at part, part + stride, ...:
 * m = max m_p, ℓ = Σ e^{m_p − m} ℓ_p, out = Σ e^{m_p − m} o_p / ℓ (threads that saw no key of
 * the head have m_p = −∞ and are skipped). */
void xb_attn_decode_merge(const float *part, size_t stride, int nt, int dh, float *out)
{
    float m = -INFINITY;
    for (int p = 0; p < nt; p++)
        if (part[(size_t)p * stride] > m) m = part[(size_t)p * stride];
    float ell = 0.0f;
    memset(out, 0, (size_t)dh * sizeof(float));
    for (int p = 0; p < nt; p++) {
        const float *pp = part + (size_t)p * stride;
        if (pp[0] == -INFINITY) continue;
        const float r = expf(pp[0] - m);
        ell += r * pp[1];
        for (int e = 0; e < dh; e++) out[e] += r * pp[2 + e];
    }
    for (int e = 0; e < dh; e++) out[e] /= ell;
}

/* ---- the standard sub-block over listed keys --------------------------------------------- */

/* q, o rows (and room for k, v rows, which go straight to the cache), then xb_attn_decode's
 * scratch */
typedef struct kscr { float *q, *o, *att; } kscr;

static size_t keys_plan(const xb_attn_layer *l, int nspans, float *scratch, kscr *b)
{
    const size_t dq = (size_t)l->hq * l->dh, dkv = (size_t)l->hkv * l->dh;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->q, dq, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, dq, XB_SCR_PACKED);
    xb_scratch_pad(&s, 2 * dkv);
    XB_TAKE(&s, b->att, xb_attn_decode_scratch(l->hq, l->dh, nspans), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

size_t xb_attn_layer_decode_keys_scratch(const xb_attn_layer *l, int nspans)
{
    kscr b;
    return keys_plan(l, nspans, NULL, &b);
}

void xb_attn_layer_decode_kv(const xb_attn_layer *l, int cap, const float *w, const float *x, int n,
                             int slot, float *state)
{
    const int d = l->d, dq = l->hq * l->dh, dkv = l->hkv * l->dh;
    const float *WK = w + (size_t)d * dq, *WV = WK + (size_t)d * dkv;
    float *Kc = state, *Vc = state + (size_t)cap * dkv;
    xb_gemm(0, 0, n, dkv, d, 1.0f, x, d, WK, dkv, 0.0f, Kc + (size_t)slot * dkv, dkv);
    xb_gemm(0, 0, n, dkv, d, 1.0f, x, d, WV, dkv, 0.0f, Vc + (size_t)slot * dkv, dkv);
}

void xb_attn_layer_decode_keys(const xb_attn_layer *l, int cap, const float *w, const float *x, int slot,
                               const xb_attn_span *spans, const int *off, float *state, float *y,
                               float *scratch)
{
    const int d = l->d, dh = l->dh, dq = l->hq * dh, dkv = l->hkv * dh;
    const float *WQ = w, *WO = w + (size_t)d * dq + 2 * (size_t)d * dkv;
    float *Kc = state, *Vc = state + (size_t)cap * dkv;
    kscr b;
    keys_plan(l, off[l->hkv], scratch, &b);
    float *q = b.q, *o = b.o;
    xb_gemm(0, 0, 1, dq, d, 1.0f, x, d, WQ, dq, 0.0f, q, dq);
    xb_attn_layer_decode_kv(l, cap, w, x, 1, slot, state);
    xb_attn_keys a = {.hq = l->hq, .hkv = l->hkv, .dh = dh, .ld = dkv, .scale = 1.0f / sqrtf((float)dh),
                      .spans = spans, .off = off};
    xb_attn_decode(&a, q, Kc, Vc, o, b.att);
    xb_gemm(0, 0, 1, d, dq, 1.0f, o, dq, WO, d, 0.0f, y, d);
}

/* ---- the contiguous masks: one span per kv head ------------------------------------------ */

size_t xb_attn_layer_decode_state(const xb_attn_layer *l, int n_max)
{
    return 2 * (size_t)cap_of(l, n_max) * (size_t)l->hkv * (size_t)l->dh;
}

/* hkv spans and hkv + 1 offsets (ints), then the step's scratch */
typedef struct sscr { xb_attn_span *spans; int *off; float *keys; } sscr;

static size_t step_plan(const xb_attn_layer *l, float *scratch, sscr *b)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->spans, (size_t)l->hkv, XB_SCR_PACKED);
    XB_TAKE(&s, b->off, (size_t)l->hkv + 1, XB_SCR_PACKED);
    XB_TAKE(&s, b->keys, xb_attn_layer_decode_keys_scratch(l, l->hkv), XB_SCR_64F);
    return xb_scratch_floats(&s);
}

size_t xb_attn_layer_decode_scratch(const xb_attn_layer *l, int n_max)
{
    (void)n_max;
    sscr b;
    return step_plan(l, NULL, &b);
}

void xb_attn_layer_decode_prefill(const xb_attn_layer *l, int n_max, const float *w, const float *x,
                                  int n, float *state, float *scratch)
{
    (void)scratch;
    const int d = l->d, cap = cap_of(l, n_max);
    /* only the last cap tokens stay in the ring: one product per contiguous run of slots */
    for (int p = n > cap ? n - cap : 0; p < n;) {
        int slot = p % cap, run = cap - slot < n - p ? cap - slot : n - p;
        xb_attn_layer_decode_kv(l, cap, w, x + (size_t)p * d, run, slot, state);
        p += run;
    }
}

void xb_attn_layer_decode_step(const xb_attn_layer *l, int n_max, const float *w, const float *x,
                               int t, float *state, float *y, float *scratch)
{
    XB_ASSERT(!l->groups);
    const int hkv = l->hkv, cap = cap_of(l, n_max);
    sscr b;
    step_plan(l, scratch, &b);
    xb_attn_span *spans = b.spans;
    int *off = b.off;
    int lo = 0;
    if (l->band && t - l->left + 1 > lo) lo = t - l->left + 1;
    if (l->block > 0) lo = t - t % l->block;
    for (int g = 0; g <= hkv; g++) off[g] = g;
    for (int g = 0; g < hkv; g++) spans[g] = (xb_attn_span){0, t - lo + 1};
    xb_attn_layer_decode_keys(l, cap, w, x, t % cap, spans, off, state, y, b.keys);
}
