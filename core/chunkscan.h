/* core/chunkscan.h — chunked gated linear-attention scan shared by the gated linear RNN family
 * (gla now, retnet later: a constant per-head decay is the g == NULL case), plus the per-head
 * RMSNorm that family puts after the scan.
 *
 * The scan of one (sequence, head) in recurrent form (MIXERS.md §16; fla naive_recurrent_gla):
 *   S_t = Diag(exp(g_t)) S_{t-1} + k_t v_tᵀ,   o_t = S_tᵀ (scale · q_t),   S_{-1} = 0,
 * with S ∈ R^{dk×dv}, g_t = log α_t ≤ 0 per key channel. It is computed chunk by chunk
 * (chunk C): per chunk, b_t = Σ_{s≤t} g_s (inclusive, relative to the chunk start),
 *   intra  O += tril(Q̂ K̂ᵀ) V  with Q̂_t = q_t ⊙ e^{b_t − p}, K̂_s = k_s ⊙ e^{p − b_s},
 *   inter  O += (q ⊙ e^{b}) S_prev,
 *   state  S  = Diag(e^{b_last}) S_prev + (k ⊙ e^{b_last − b})ᵀ V.
 * The reference point p is chosen per sub-block of query rows: a chunk is split greedily into
 * sub-blocks [s0, s1) whose decay span max_c (p_c − b_{s1−1,c}) stays ≤ XB_SCAN_SPAN, with
 * p = b_{s0−1} (0 at the chunk start). Then every factor e^{b_t − p} ≤ 1 and every
 * e^{p − b_s} ≤ e^{XB_SCAN_SPAN}: nothing overflows however negative g is (a sub-block of one
 * row needs no exponent at all). With gates near 1 (the usual case) a chunk is one sub-block
 * and the intra product is a single C×C GEMM. The split depends only on rows up to the
 * sub-block's end, so the causal form stays causal bit for bit.
 *
 * Reverse mode (bidirectional scans, MIXERS.md §0.1 step 3): the same scan run over time
 * L−1, L−2, …, 0 (row τ of the scan reads time L−1−τ), so the reverse scan starts at the last
 * real token and padding never enters it. Outputs and gradients land at the original time rows.
 *
 * All row-major; q, k, g rows have stride ldk, v, o rows stride ldv (pointers to one head's
 * columns inside the B·N × (h·dk) buffers). Serial: call from inside a parallel loop (the
 * three forward phases below let a caller spread one scan's chunks over threads). */
#ifndef XB_CHUNKSCAN_H
#define XB_CHUNKSCAN_H

#include <stddef.h>

/* Largest exponent a chunk product may see (e^20 ≈ 5e8: far from float overflow even after
 * multiplying by |q|·|k|·C). */
#define XB_SCAN_SPAN 20.0f

typedef struct xb_chunkscan {
    int L;        /* real length of the sequence (rows ≥ L are never read or written) */
    int dk, dv;   /* per-head key / value widths */
    int C;        /* chunk length */
    int ldk, ldv; /* row strides of q,k,g and of v,o */
    int reverse;  /* 0: t = 0..L−1; 1: t = L−1..0 */
    float scale;  /* q multiplier (dk^{-1/2}) */
    float g0;     /* log decay used for every channel when g == NULL (retnet's log γ) */
} xb_chunkscan;

/* Number of chunks of a sequence of length L. */
static inline int xb_chunkscan_nchunks(int L, int C) { return (L + C - 1) / C; }
/* Floats of per-thread work one call needs. */
size_t xb_chunkscan_work(int C, int dk, int dv);

/* o[t] (+)= scan output. accumulate = 0 overwrites rows 0..L−1 of o, 1 adds into them.
 * ckpt (may be NULL): [nchunks × dk × dv], the state entering each chunk (scan order),
 * overwritten — the backward's only saved state. g may be NULL (constant p->g0). */
void xb_chunkscan_forward(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                          const float *g, float *o, int accumulate, float *ckpt, float *work);

/* The forward in three phases, for running the chunks of one scan in parallel (the state is
 * the only thing chunk j needs from chunks < j, and it is linear in the chunks' own parts):
 *  1. intra, any order: chunk j's output without the state term goes to o (overwrite or add),
 *     its state part ΔS_j = Kbarᵀ V to S_next (slot j+1 of ckpt; NULL for the last chunk) and
 *     its decay a_j = e^{b_last} to a [dk] (slot j of an [nchunks × dk] array);
 *  2. carry, rows independent: S_j = Diag(a_{j−1}) S_{j−1} + ΔS_{j−1} in place in ckpt
 *     (slot 0 set to 0), rows [r0, r1) of every slot — split rows across threads;
 *  3. inter, any order, chunks j ≥ 1: o[chunk j] += (q ⊙ e^{b}) S_j.
 * Same sums as xb_chunkscan_forward (which fuses the phases per chunk) up to the order of
 * the last additions; the result does not depend on how the phases are split over threads. */
void xb_chunkscan_fwd_intra(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                            const float *g, int j, float *o, int accumulate, float *S_next, float *a,
                            float *work);
void xb_chunkscan_fwd_carry(int nch, int dk, int dv, int r0, int r1, const float *a, float *ckpt);
void xb_chunkscan_fwd_inter(const xb_chunkscan *p, const float *q, const float *g, int j,
                            const float *S, float *o, float *work);

/* Given dO (rows 0..L−1, stride ldv), ACCUMULATE (+=) dq (w.r.t. the unscaled q), dk, dv and
 * dg (w.r.t. g = log α; skipped when g or dg is NULL). ckpt is what forward wrote. The gate
 * gradient uses d b_t = q_t ⊙ dq_t − k_t ⊙ dk_t (+ rowsum(S_end ⊙ dS_end) at the chunk's last
 * row), reverse-cumulated over the chunk. */
void xb_chunkscan_backward(const xb_chunkscan *p, const float *q, const float *k, const float *v,
                           const float *g, const float *ckpt, const float *dO, float *dq, float *dk,
                           float *dv, float *dg, float *work);

/* ---- many scans at once: the parallel drivers of the mixers ----
 * A mixer describes its n independent scans (per sequence × head, × partition for sse) by a
 * callback that fills the rows of scan i in direction dir; the drivers below run them in
 * parallel, deterministically (each scan's rows are written by one thread, or, in the phased
 * form, each chunk's by one thread and each state row block's by one thread). */
typedef struct xb_scan_io {
    xb_chunkscan p;              /* p.L = 0: an empty scan, skipped */
    const float *q, *k, *v, *g;  /* g NULL: the constant p.g0 */
    float *o;                    /* forward: direction 0 overwrites rows 0..L−1, direction 1 adds */
    float *ckpt;                 /* [nchunks(L, C) × dk × dv] state checkpoints */
    const float *dO;             /* backward: the output gradient (rows 0..L−1) */
    float *dq, *dk, *dv, *dg;    /* backward: accumulated (+=); dg may be NULL */
} xb_scan_io;

/* Fill io with scan i's rows in direction dir (0 forward in time, 1 reverse); arg is the
 * caller's. Called from inside parallel loops: must only read shared state. */
typedef void (*xb_scan_get)(const void *arg, int i, int dir, xb_scan_io *io);

/* Floats of the decay buffer the phased forward needs: [n × nch_max × dk]. */
static inline size_t xb_chunkscan_many_dec(int n, int nch_max, int dk)
{
    return (size_t)n * nch_max * dk;
}

/* Forward of n scans in dirs ∈ {1, 2} directions (direction 1 adds into direction 0's o).
 * work: xb_max_threads() slices of wsz ≥ xb_chunkscan_work floats. With at least two scans per
 * thread (or dec == NULL) each thread runs whole scans (the fused serial forward); with fewer,
 * the chunks of every scan spread over the threads in the three phases above (dec
 * [xb_chunkscan_many_dec(n, nch_max, dk)], nch_max ≥ every scan's chunk count, dk ≥ every
 * scan's p.dk). Which form runs depends on n and the thread count, so its last bits do too.
 * Rows ≥ L of o are left alone. Call from serial code. */
void xb_chunkscan_many_forward(int n, int dirs, xb_scan_get get, const void *arg, float *work,
                               size_t wsz, int nch_max, int dk, float *dec);
/* Backward of the same scans, parallel over scans (both directions in one task). */
void xb_chunkscan_many_backward(int n, int dirs, xb_scan_get get, const void *arg, float *work,
                                size_t wsz);

/* Per-head RMSNorm over rows × (H·dh): y = x · rstd · w, rstd = (mean_head(x²) + eps)^{-1/2}.
 * y overwritten; rstd [rows × H] overwritten (saved for backward). */
void xb_headrms_forward(int rows, int H, int dh, const float *x, const float *w, float eps,
                        float *y, float *rstd);
/* The gated output of a linear-attention layer (GLA's, RetNet's, SSE's): u = RMSNorm_head(o)·w ⊙
 * silu(g) over rows × (H·dh), o, g, u and rstd [rows × H] starting at the first row. store_rstd:
 * compute rstd and save it (forward); else read the saved rstd (backward's recomputation). */
void xb_gated_headrms(int rows, int H, int dh, const float *o, const float *g, const float *w,
                      float eps, float *rstd, int store_rstd, float *u);
/* dx overwritten (dx may alias dy); dw[dh] ACCUMULATED. Serial over rows in order. */
void xb_headrms_backward(int rows, int H, int dh, const float *x, const float *w,
                         const float *rstd, const float *dy, float *dx, float *dw);

#endif
