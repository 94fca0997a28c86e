/* mixers/gla.c — `gla`: Gated Linear Attention (Yang et al. 2023, MIXERS.md §16; checked against
 * fla's layers/gla.py and ops/gla/naive.py).
 *
 *   q = X W_Q, k = X W_K (d×d_k), v = X W_V (d×d_v), r = X W_R (d×d_v)
 *   ĝ = (X W_g1) W_g2 + b_g2,  log α = logsigmoid(ĝ)/16                    (per key channel)
 *   per head: S_t = Diag(α_t) S_{t−1} + k_t v_tᵀ,  o_t = S_tᵀ (q_t · d_kh^{-1/2})
 *   Y = (RMSNorm_head(o) ⊙ silu(r)) W_O,  RMSNorm weight norm_w [d_v/h], ε = 1e-5
 * Bidirectional (§0.1, shared weights): o = o→ + o←, the reverse scan starting at len[b]−1.
 * Form: chunked scan of core/chunkscan.c (C = option `chunk`, default 64) forward (parallel over
 * heads, or over chunks too when there are few heads per thread) and backward (over heads)
 * (chunk-level backward from the per-chunk state checkpoints, gate gradient by the
 * q⊙dq − k⊙dk reverse-cumsum identity). `.reference` is the sequential recurrence in double.
 *
 * saved (region-major over the whole batch, sizes per sequence × B):
 *   q, k [N×d_k], v [N×d_v], ĝ [N×d_k], log α [N×d_k], r [N×d_v], h1 = X W_g1 [N×16], o [N×d_v] (pre-norm,
 *   both directions summed), rstd [N×h], then the state checkpoints [dirs×h×nchunks×d_kh×d_vh]. */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/chunkscan.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define GLA_RANK 16       /* gate_low_rank_dim */
#define GLA_GNORM 16.0f   /* gate_logit_normalizer */
#define GLA_EPS 1e-5f     /* RMSNorm ε */

enum { OPT_CHUNK, OPT_EXPAND_K };
static const xb_mixer_opt gla_opts[] = {
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size C of the chunked scan"},
    [OPT_EXPAND_K] = {.name = "expand_k", .type = XB_OPT_FLOAT, .min = 1e-30, .max = 64, .def = 0.5,
                      .help = "key expansion, > 0: key width d_k = d expand_k"},
};

typedef struct dims { int d, h, dk, dv, dkh, dvh, C, dirs; } dims;

static dims get_dims(const xb_mixer_cfg *c)
{
    dims m;
    m.d = c->d; m.h = c->heads;
    m.dk = (int)(c->d * xb_cfg_float(c, OPT_EXPAND_K));
    m.dv = c->d;
    m.dkh = m.dk / m.h; m.dvh = m.dv / m.h;
    m.C = xb_cfg_int(c, OPT_CHUNK);
    m.dirs = c->causal ? 1 : 2;
    return m;
}

static int gla_check(const xb_mixer_cfg *c, char *err, size_t n)
{
    if (c->heads < 1 || c->d % c->heads) {
        snprintf(err, n, "heads: must divide d = %d, got %d", c->d, c->heads); return XB_EINVAL;
    }
    dims m = get_dims(c);
    if (!(xb_cfg_float(c, OPT_EXPAND_K) > 0.0f) || m.dk < m.h || m.dk % m.h) {
        snprintf(err, n, "expand_k: d*expand_k = %d must be a positive multiple of heads = %d", m.dk, m.h);
        return XB_EINVAL;
    }
    return 0;
}

static int gla_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    dims m = get_dims(c);
    const xb_tensor t[] = {
        {"W_Q", 0, m.d, m.dk, XB_T_DECAY},      {"W_K", 0, m.d, m.dk, XB_T_DECAY},
        {"W_V", 0, m.d, m.dv, XB_T_DECAY},      {"W_g1", 0, m.d, GLA_RANK, XB_T_DECAY},
        {"W_g2", 0, GLA_RANK, m.dk, XB_T_DECAY}, {"b_g2", 0, m.dk, 1, 0},
        {"W_R", 0, m.d, m.dv, XB_T_DECAY},      {"norm_w", 0, m.dvh, 1, 0},
        {"W_O", 0, m.dv, m.d, XB_T_DECAY},
    };
    const int n = (int)(sizeof t / sizeof t[0]);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (out) { out[i] = t[i]; out[i].offset = off; }
        off += (size_t)t[i].rows * t[i].cols;
    }
    return n;
}

/* Weight pointers in tensor order. */
typedef struct wts { const float *WQ, *WK, *WV, *Wg1, *Wg2, *bg2, *WR, *nw, *WO; } wts;
enum { T_WQ, T_WK, T_WV, T_WG1, T_WG2, T_BG2, T_WR, T_NW, T_WO, T_COUNT };

static size_t tensor_off(const xb_mixer_cfg *c, int i)
{
    xb_tensor t[XB_MAX_TENSORS];
    gla_tensors(c, t);
    return t[i].offset;
}

static wts get_wts(const xb_mixer_cfg *c, const float *w)
{
    wts p = {w + tensor_off(c, T_WQ), w + tensor_off(c, T_WK), w + tensor_off(c, T_WV),
             w + tensor_off(c, T_WG1), w + tensor_off(c, T_WG2), w + tensor_off(c, T_BG2),
             w + tensor_off(c, T_WR), w + tensor_off(c, T_NW), w + tensor_off(c, T_WO)};
    return p;
}

static void gla_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = gla_tensors(c, t);
    for (int i = 0; i < n; i++) {
        float *p = w + t[i].offset;
        if (i == T_BG2) memset(p, 0, (size_t)t[i].rows * sizeof(float));   /* α starts at σ(0)^{1/16} */
        else if (i == T_NW) for (int j = 0; j < t[i].rows; j++) p[j] = 1.0f;
        else xb_init_uniform(p, t[i].rows, t[i].cols, rng);
    }
}

static size_t ckpt_per_seq(const dims *m, int N)
{
    return (size_t)m->dirs * m->h * xb_chunkscan_nchunks(N, m->C) * m->dkh * m->dvh;
}

static size_t gla_n_saved(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c);
    return (size_t)N * (4 * m.dk + 3 * m.dv + GLA_RANK + m.h) + ckpt_per_seq(&m, N);
}

/* Saved regions for the whole batch. */
typedef struct sv { float *q, *k, *v, *gh, *la, *r, *h1, *o, *rstd, *ck; } sv;

static sv get_sv(const dims *m, float *s, int B, int N)
{
    const size_t R = (size_t)B * N;
    sv p;
    p.q = s; s += R * m->dk;  p.k = s; s += R * m->dk;  p.v = s; s += R * m->dv;
    p.gh = s; s += R * m->dk; p.la = s; s += R * m->dk; p.r = s; s += R * m->dv;  p.h1 = s; s += R * GLA_RANK;
    p.o = s; s += R * m->dv;  p.rstd = s; s += R * m->h; p.ck = s;
    return p;
}

static xb_proj in_proj(const dims *m);

/* Scratch, forward: the packed input weights, per-thread projection blocks, the scans'
 * per-thread work and decays; or backward: dY masked, U, dU, dO, dv, dr [R × d_v], dq, dk, dg
 * [R × d_k], dh1 [R × 16] and the scans' work. Then 64 floats of room the size has always had
 * (kept: bytes_analytic records it). */
typedef struct scr {
    float *wp, *tmp, *work, *dec;                                        /* forward */
    float *dym, *U, *dU, *dO, *dv, *dr, *dq, *dk, *dg, *dh1, *bwork;     /* backward */
    size_t wsz;
} scr;

static size_t scratch_plan(const dims *m, float *scratch, int B, int N, scr *b)
{
    const size_t R = (size_t)B * N, wn = xb_align64(xb_chunkscan_work(m->C, m->dkh, m->dvh));
    xb_proj p = in_proj(m);
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, b->wp, xb_proj_floats(&p), XB_SCR_64F);
    XB_TAKE(&s, b->tmp, xb_proj_block_floats(&p), XB_SCR_64F);
    XB_TAKE_THREADS(&s, b->work, wn, XB_SCR_PACKED, &b->wsz);
    XB_TAKE(&s, b->dec, xb_chunkscan_many_dec(B * m->h, xb_chunkscan_nchunks(N, m->C), m->dkh), XB_SCR_PACKED);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, b->dym, R * m->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->U, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dU, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dO, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dv, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dr, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dq, R * m->dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->dk, R * m->dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->dg, R * m->dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->dh1, R * GLA_RANK, XB_SCR_PACKED);
    XB_TAKE_THREADS(&s, b->bwork, wn, XB_SCR_PACKED, &b->wsz);
    xb_scratch_union_end(&s, &u);
    xb_scratch_pad(&s, 64);
    return xb_scratch_floats(&s);
}

static size_t gla_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    dims m = get_dims(c);
    scr b;
    return scratch_plan(&m, NULL, B, N, &b);
}

/* σ and logsigmoid from core/vmath.h (vectorisable; logsigmoid without overflow) */
static inline float sigm(float z) { return xb_vsigmoid(z); }
static inline float logsig(float z) { return xb_vlogsig(z); }

/* Scan parameters of head rows of length L in direction dir. */
static xb_chunkscan scan_params(const dims *m, int L, int dir)
{
    return (xb_chunkscan){.L = L, .dk = m->dkh, .dv = m->dvh, .C = m->C, .ldk = m->dk, .ldv = m->dv,
                          .reverse = dir, .scale = 1.0f / sqrtf((float)m->dkh), .g0 = 0.0f};
}

/* State checkpoints of (sequence b, direction dir, head hh): nch slots of d_kh × d_vh. */
static float *ckpt_of(const dims *m, const sv *s, int b, int dir, int hh, int nch)
{
    return s->ck + (((size_t)b * m->dirs + dir) * m->h + hh) * nch * m->dkh * m->dvh;
}

/* Whole scans of every (sequence, head) [and direction], parallel over them: the fused forward
 * (o rows ≥ len[b] zeroed) or the backward (gradients accumulated). */
static void scan_heads(const dims *m, const sv *s, const float *la, const int *len, float *work,
                       size_t wsz, int B, int N, int backward, const float *dO, float *dq, float *dk,
                       float *dv, float *dg)
{
    const int nch = xb_chunkscan_nchunks(N, m->C);
    #pragma omp parallel for schedule(static)
    for (int task = 0; task < B * m->h; task++) {
        const int b = task / m->h, hh = task % m->h, L = xb_len(len, b, N);
        float *wk = work + (size_t)xb_thread_id() * wsz;
        const size_t rk = (size_t)b * N * m->dk + (size_t)hh * m->dkh;
        const size_t rv = (size_t)b * N * m->dv + (size_t)hh * m->dvh;
        for (int dir = 0; dir < m->dirs; dir++) {
            xb_chunkscan p = scan_params(m, L, dir);
            float *ck = ckpt_of(m, s, b, dir, hh, nch);
            if (!backward)
                xb_chunkscan_forward(&p, s->q + rk, s->k + rk, s->v + rv, la + rk, s->o + rv, dir, ck, wk);
            else
                xb_chunkscan_backward(&p, s->q + rk, s->k + rk, s->v + rv, la + rk, ck, dO + rv, dq + rk,
                                      dk + rk, dv + rv, dg + rk, wk);
        }
        if (!backward)
            for (int t = L; t < N; t++) memset(s->o + rv + (size_t)t * m->dv, 0, (size_t)m->dvh * sizeof(float));
    }
}

/* Forward scans of every (sequence, head) [and direction] into s->o (rows ≥ len[b] zeroed).
 * With at least two scans per thread, each thread runs whole scans (the fused serial forward:
 * fastest, one pass over the rows). With fewer (B = 1 has only h scans) the chunks of each
 * scan spread over the threads in core/chunkscan.h's three phases: intra over (b, head,
 * chunk), carry over (b, head, row block), inter over (b, head, chunk). Which one runs
 * depends on B·h and the thread count, so its last bits do too (both are tested against the
 * double recurrence). dec: [B·h·nchunks·d_kh] chunk decays (phased form only). */
static void scan_all_forward(const dims *m, const sv *s, const float *la, const int *len, float *work,
                             size_t wsz, float *dec, int B, int N)
{
    if (B * m->h >= 2 * xb_max_threads()) {
        scan_heads(m, s, la, len, work, wsz, B, N, 0, NULL, NULL, NULL, NULL, NULL);
        return;
    }
    const int nch = xb_chunkscan_nchunks(N, m->C), H = m->h, RB = 8;
    const int nrb = (m->dkh + RB - 1) / RB;
    const size_t ssz = (size_t)m->dkh * m->dvh;
    for (int dir = 0; dir < m->dirs; dir++) {
        #pragma omp parallel
        {
            float *wk = work + (size_t)xb_thread_id() * wsz;
            #pragma omp for schedule(static)
            for (int task = 0; task < B * H * nch; task++) {
                const int b = task / (H * nch), hh = task / nch % H, j = task % nch, L = xb_len(len, b, N);
                if (j >= xb_chunkscan_nchunks(L, m->C)) continue;
                const int last = j + 1 >= xb_chunkscan_nchunks(L, m->C);
                const size_t rk = (size_t)b * N * m->dk + (size_t)hh * m->dkh;
                const size_t rv = (size_t)b * N * m->dv + (size_t)hh * m->dvh;
                xb_chunkscan p = scan_params(m, L, dir);
                float *ck = ckpt_of(m, s, b, dir, hh, nch);
                float *a = dec + ((size_t)(b * H + hh) * nch + j) * m->dkh;
                xb_chunkscan_fwd_intra(&p, s->q + rk, s->k + rk, s->v + rv, la + rk, j, s->o + rv, dir,
                                       last ? NULL : ck + (size_t)(j + 1) * ssz, a, wk);
            }
            #pragma omp for schedule(static)
            for (int task = 0; task < B * H * nrb; task++) {
                const int b = task / (H * nrb), hh = task / nrb % H, rb = task % nrb;
                float *ck = ckpt_of(m, s, b, dir, hh, nch);
                xb_chunkscan_fwd_carry(xb_chunkscan_nchunks(xb_len(len, b, N), m->C), m->dkh, m->dvh, rb * RB,
                                       xb_min(m->dkh, (rb + 1) * RB), dec + (size_t)(b * H + hh) * nch * m->dkh, ck);
            }
            #pragma omp for schedule(static)
            for (int task = 0; task < B * H * nch; task++) {
                const int b = task / (H * nch), hh = task / nch % H, j = task % nch, L = xb_len(len, b, N);
                if (j == 0 || j >= xb_chunkscan_nchunks(L, m->C)) continue;
                const size_t rk = (size_t)b * N * m->dk + (size_t)hh * m->dkh;
                const size_t rv = (size_t)b * N * m->dv + (size_t)hh * m->dvh;
                xb_chunkscan p = scan_params(m, L, dir);
                const float *ck = ckpt_of(m, s, b, dir, hh, nch);
                xb_chunkscan_fwd_inter(&p, s->q + rk, la + rk, j, ck + (size_t)j * ssz, s->o + rv, wk);
            }
        }
    }
    #pragma omp parallel for schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = xb_len(len, b, N); t < N; t++) memset(s->o + ((size_t)b * N + t) * m->dv, 0, (size_t)m->dv * sizeof(float));
}

/* U = RMSNorm_head(o)·norm_w ⊙ silu(r) over all rows (pad rows of o are 0, so U is 0 there),
 * one pass per block of rows while they are in cache; store_rstd: compute and save rstd, else
 * reuse the saved one. */
static void gate_norm_rows(const dims *m, const sv *s, const float *nw, size_t r0, size_t nr, float *u,
                           int store_rstd)
{
    xb_gated_headrms((int)nr, m->h, m->dvh, s->o + r0 * m->dv, s->r + r0 * m->dv, nw, GLA_EPS,
                     s->rstd + r0 * m->h, store_rstd, u);
}

static void gate_norm(const dims *m, const sv *s, const float *nw, float *U, size_t R, int store_rstd)
{
    enum { RB = 32 };
    #pragma omp parallel for schedule(static)
    for (size_t r0 = 0; r0 < R; r0 += RB)
        gate_norm_rows(m, s, nw, r0, R - r0 < RB ? R - r0 : RB, U + r0 * m->dv, store_rstd);
}

typedef struct out_job { const dims *m; const sv *s; const float *nw; } out_job;

/* The output projection's input rows, made per block: U = RMSNorm_head(o)·norm_w ⊙ silu(r). */
static void out_prologue(int r0, int rows, float *u, int ldu, void *arg)
{
    const out_job *j = arg;
    XB_ASSERT(ldu == j->m->dv);
    gate_norm_rows(j->m, j->s, j->nw, (size_t)r0, (size_t)rows, u, 1);
}

/* The five projections of X (q, k, v, r, h1 = X W_g1) as one product (core/proj.c). */
static xb_proj in_proj(const dims *m)
{
    const int cols[5] = {m->dk, m->dk, m->dv, m->dv, GLA_RANK};
    return xb_proj_make(m->d, 5, cols);
}

typedef struct proj_job { const dims *m; const xb_proj *p; const sv *s; const wts *W; } proj_job;

/* One block of projected rows, still in cache: q, k, v, r, h1 to their saved arrays, then
 * ĝ = h1 W_g2 + b_g2 and log α = logsigmoid(ĝ)/16 for the same rows. */
static void proj_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    const proj_job *j = arg;
    const dims *m = j->m;
    const sv *s = j->s;
    float *dst[5] = {s->q, s->k, s->v, s->r, s->h1};
    xb_proj_scatter(j->p, r0, rows, y, ldy, dst);
    float *gh = s->gh + (size_t)r0 * m->dk, *la = s->la + (size_t)r0 * m->dk;
    for (int i = 0; i < rows; i++) memcpy(gh + (size_t)i * m->dk, j->W->bg2, (size_t)m->dk * sizeof(float));
    xb_gemm(0, 0, rows, m->dk, GLA_RANK, 1.0f, y + j->p->off[4], ldy, j->W->Wg2, m->dk, 1.0f, gh, m->dk);
    for (size_t i = 0; i < (size_t)rows * m->dk; i++) la[i] = logsig(gh[i]) / GLA_GNORM;
}

/* Y = gla(X); see the file comment. y, saved overwritten. */
static void gla_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    sv s = get_sv(&m, saved, B, N);
    const int R = B * N;
    xb_proj p = in_proj(&m);
    scr sc;
    scratch_plan(&m, scratch, B, N, &sc);
    float *wp = sc.wp, *tmp = sc.tmp, *work = sc.work, *dec = sc.dec;
    const float *ws[5] = {W.WQ, W.WK, W.WV, W.WR, W.Wg1};
    xb_proj_pack(&p, ws, wp);
    proj_job job = {&m, &p, &s, &W};
    xb_proj_forward(&p, R, x, m.d, wp, NULL, 0, tmp, proj_epilogue, &job);
    scan_all_forward(&m, &s, s.la, len, work, sc.wsz, dec, B, N);
    /* Y = U W_O with U made per block in cache (out_prologue), never written whole */
    xb_proj po = xb_proj_make(m.dv, 1, &m.d);
    XB_ASSERT(xb_proj_block_floats(&po) <= xb_proj_block_floats(&p));   /* shares tmp */
    out_job oj = {&m, &s, W.nw};
    xb_proj_forward_rows(&po, R, out_prologue, &oj, W.WO, y, m.d, tmp, NULL, NULL);
    xb_zero_pad_rows(y, len, B, N, m.d);
}

/* dx overwritten, dw accumulated. Backward of: output projection, gate ⊙ RMSNorm, chunked scans
 * (both directions), the logsigmoid/16 gate and its low-rank projection, input projections. */
static void gla_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    sv s = get_sv(&m, (float *)saved, B, N);   /* read only */
    float *dWQ = dw + tensor_off(c, T_WQ), *dWK = dw + tensor_off(c, T_WK), *dWV = dw + tensor_off(c, T_WV);
    float *dWg1 = dw + tensor_off(c, T_WG1), *dWg2 = dw + tensor_off(c, T_WG2), *dbg2 = dw + tensor_off(c, T_BG2);
    float *dWR = dw + tensor_off(c, T_WR), *dnw = dw + tensor_off(c, T_NW), *dWO = dw + tensor_off(c, T_WO);
    const size_t R = (size_t)B * N;
    scr sc;
    scratch_plan(&m, scratch, B, N, &sc);
    float *dym = sc.dym, *U = sc.U, *dU = sc.dU, *dO = sc.dO, *dv = sc.dv, *dr = sc.dr, *dq = sc.dq;
    float *dk = sc.dk, *dg = sc.dg, *dh1 = sc.dh1, *work = sc.bwork;
    /* pad rows of dy contribute nothing */
    memcpy(dym, dy, R * m.d * sizeof(float));
    xb_zero_pad_rows(dym, len, B, N, m.d);
    /* Y = U W_O */
    gate_norm(&m, &s, W.nw, U, R, 0);
    xb_gemm(1, 0, m.dv, m.d, (int)R, 1.0f, U, m.dv, dym, m.d, 1.0f, dWO, m.d);
    xb_gemm(0, 1, (int)R, m.dv, m.d, 1.0f, dym, m.d, W.WO, m.dv, 0.0f, dU, m.dv);
    /* U = n ⊙ silu(r), n = RMSNorm(o): dn (into dO) and dr */
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R * m.h; i++)
        for (int j = 0; j < m.dvh; j++) {
            size_t e = i * m.dvh + j;
            float z = s.r[e], sg = sigm(z), n = s.o[e] * s.rstd[i] * W.nw[j];
            dO[e] = dU[e] * z * sg;
            dr[e] = dU[e] * n * sg * (1.0f + z * (1.0f - sg));
        }
    xb_headrms_backward((int)R, m.h, m.dvh, s.o, W.nw, s.rstd, dO, dO, dnw);
    /* scans */
    memset(dq, 0, R * m.dk * sizeof(float)); memset(dk, 0, R * m.dk * sizeof(float));
    memset(dg, 0, R * m.dk * sizeof(float)); memset(dv, 0, R * m.dv * sizeof(float));
    scan_heads(&m, &s, s.la, len, work, sc.wsz, B, N, 1, dO, dq, dk, dv, dg);
    /* log α = logsigmoid(ĝ)/16 → dĝ = dlogα/16 · σ(−ĝ) (in place in dg; vectorised σ) */
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R * m.dk; i++) dg[i] = dg[i] / GLA_GNORM * xb_vsigmoid(-s.gh[i]);
    for (size_t i = 0; i < R; i++)
        for (int j = 0; j < m.dk; j++) dbg2[j] += dg[i * m.dk + j];
    xb_gemm(1, 0, GLA_RANK, m.dk, (int)R, 1.0f, s.h1, GLA_RANK, dg, m.dk, 1.0f, dWg2, m.dk);
    xb_gemm(0, 1, (int)R, GLA_RANK, m.dk, 1.0f, dg, m.dk, W.Wg2, m.dk, 0.0f, dh1, GLA_RANK);
    /* input projections */
    xb_gemm(1, 0, m.d, m.dk, (int)R, 1.0f, x, m.d, dq, m.dk, 1.0f, dWQ, m.dk);
    xb_gemm(1, 0, m.d, m.dk, (int)R, 1.0f, x, m.d, dk, m.dk, 1.0f, dWK, m.dk);
    xb_gemm(1, 0, m.d, m.dv, (int)R, 1.0f, x, m.d, dv, m.dv, 1.0f, dWV, m.dv);
    xb_gemm(1, 0, m.d, m.dv, (int)R, 1.0f, x, m.d, dr, m.dv, 1.0f, dWR, m.dv);
    xb_gemm(1, 0, m.d, GLA_RANK, (int)R, 1.0f, x, m.d, dh1, GLA_RANK, 1.0f, dWg1, GLA_RANK);
    xb_gemm(0, 1, (int)R, m.d, m.dk, 1.0f, dq, m.dk, W.WQ, m.dk, 0.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, m.dk, 1.0f, dk, m.dk, W.WK, m.dk, 1.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, m.dv, 1.0f, dv, m.dv, W.WV, m.dv, 1.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, m.dv, 1.0f, dr, m.dv, W.WR, m.dv, 1.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, GLA_RANK, 1.0f, dh1, GLA_RANK, W.Wg1, GLA_RANK, 1.0f, dx, m.d);
    xb_zero_pad_rows(dx, len, B, N, m.d);
}

/* MIXERS.md §16, chunked form: projections 2Nd(2d_k + 2d_v) + 2N d_v d + 2N·16(d + d_k);
 * scan 2NC(d_k + d_v) + 4N d_k d_vh + 2N d_k (gate exps), doubled in bidirectional mode (§0.1);
 * norm/gate 5N d_v. */
static double gla_flops(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c);
    const double n = N, d = m.d, dk = m.dk, dv = m.dv, C = m.C;
    double proj = 2 * n * d * (2 * dk + 2 * dv) + 2 * n * dv * d + 2 * n * GLA_RANK * (d + dk);
    double scan = 2 * n * C * (dk + dv) + 4 * n * dk * m.dvh + 2 * n * dk;
    return proj + m.dirs * scan + 5 * n * dv;
}

/* Naive double-precision forward: projections, the sequential recurrence per head and
 * direction (S_t = Diag(α_t) S_{t−1} + k vᵀ), RMSNorm, swish gate, output projection. */
static void gla_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    const int d = m.d, dk = m.dk, dv = m.dv;
    double *q = calloc((size_t)N * dk, sizeof(double)), *k = calloc((size_t)N * dk, sizeof(double));
    double *la = calloc((size_t)N * dk, sizeof(double)), *v = calloc((size_t)N * dv, sizeof(double));
    double *r = calloc((size_t)N * dv, sizeof(double)), *o = calloc((size_t)N * dv, sizeof(double));
    double *S = calloc((size_t)m.dkh * m.dvh, sizeof(double)), h1[GLA_RANK];
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        const float *X = x + (size_t)b * N * d;
        for (int t = 0; t < L; t++) {
            const float *xr = X + (size_t)t * d;
            for (int j = 0; j < dk; j++) {
                double a = 0, e = 0;
                for (int i = 0; i < d; i++) { a += (double)xr[i] * W.WQ[i * dk + j]; e += (double)xr[i] * W.WK[i * dk + j]; }
                q[t * dk + j] = a; k[t * dk + j] = e;
            }
            for (int j = 0; j < dv; j++) {
                double a = 0, e = 0;
                for (int i = 0; i < d; i++) { a += (double)xr[i] * W.WV[i * dv + j]; e += (double)xr[i] * W.WR[i * dv + j]; }
                v[t * dv + j] = a; r[t * dv + j] = e;
            }
            for (int j = 0; j < GLA_RANK; j++) {
                double a = 0;
                for (int i = 0; i < d; i++) a += (double)xr[i] * W.Wg1[i * GLA_RANK + j];
                h1[j] = a;
            }
            for (int j = 0; j < dk; j++) {
                double z = W.bg2[j];
                for (int i = 0; i < GLA_RANK; i++) z += h1[i] * W.Wg2[i * dk + j];
                la[t * dk + j] = -log1p(exp(-z)) / 16.0;   /* logsigmoid(z)/16 */
            }
        }
        memset(o, 0, (size_t)N * dv * sizeof(double));
        for (int hh = 0; hh < m.h; hh++)
            for (int dir = 0; dir < m.dirs; dir++) {
                memset(S, 0, (size_t)m.dkh * m.dvh * sizeof(double));
                for (int tau = 0; tau < L; tau++) {
                    int t = dir ? L - 1 - tau : tau;
                    for (int i = 0; i < m.dkh; i++) {
                        int ci = hh * m.dkh + i;
                        double a = exp(la[t * dk + ci]);
                        for (int j = 0; j < m.dvh; j++)
                            S[i * m.dvh + j] = a * S[i * m.dvh + j] + k[t * dk + ci] * v[t * dv + hh * m.dvh + j];
                    }
                    for (int j = 0; j < m.dvh; j++) {
                        double s = 0;
                        for (int i = 0; i < m.dkh; i++) s += S[i * m.dvh + j] * q[t * dk + hh * m.dkh + i];
                        o[t * dv + hh * m.dvh + j] += s / sqrt((double)m.dkh);
                    }
                }
            }
        for (int t = 0; t < N; t++) {
            double *yr = y + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) yr[j] = 0;
            if (t >= L) continue;
            double u[1024];
            XB_ASSERT(dv <= 1024);
            for (int hh = 0; hh < m.h; hh++) {
                double ss = 0;
                for (int j = 0; j < m.dvh; j++) ss += o[t * dv + hh * m.dvh + j] * o[t * dv + hh * m.dvh + j];
                double rs = 1.0 / sqrt(ss / m.dvh + GLA_EPS);
                for (int j = 0; j < m.dvh; j++) {
                    double z = r[t * dv + hh * m.dvh + j];
                    u[hh * m.dvh + j] = o[t * dv + hh * m.dvh + j] * rs * W.nw[j] * z / (1 + exp(-z));
                }
            }
            for (int j = 0; j < d; j++) {
                double a = 0;
                for (int i = 0; i < dv; i++) a += u[i] * W.WO[i * d + j];
                yr[j] = a;
            }
        }
    }
    free(q); free(k); free(la); free(v); free(r); free(o); free(S);
}

/* ---- decode: the recurrent form, S_h = diag(α_t) S_h + k_t v_tᵀ, o = S_hᵀq_t / √d_kh ---- */

static size_t gla_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = get_dims(c);
    return (size_t)m.h * m.dkh * m.dvh;
}

/* q, k, log α [d_k]; v, r, o, the gated output u [d_v]; h1 [16] */
typedef struct dscr { float *q, *k, *la, *v, *r, *o, *u, *h1; } dscr;

static size_t decode_plan(const dims *m, float *scratch, dscr *b)
{
    const size_t dk = (size_t)m->dk, dv = (size_t)m->dv;
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->q, dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->k, dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->la, dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->v, dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->r, dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->u, dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->h1, GLA_RANK, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t gla_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = get_dims(c);
    dscr b;
    return decode_plan(&m, NULL, &b);
}

static void gla_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                            float *state, float *y, float *scratch)
{
    (void)n_max; (void)t;
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    const int d = m.d, dk = m.dk, dv = m.dv;
    dscr sc;
    decode_plan(&m, scratch, &sc);
    float *q = sc.q, *k = sc.k, *la = sc.la, *v = sc.v, *r = sc.r, *o = sc.o, *u = sc.u, *h1 = sc.h1;
    xb_gemm(0, 0, 1, dk, d, 1.0f, x, d, W.WQ, dk, 0.0f, q, dk);
    xb_gemm(0, 0, 1, dk, d, 1.0f, x, d, W.WK, dk, 0.0f, k, dk);
    xb_gemm(0, 0, 1, dv, d, 1.0f, x, d, W.WV, dv, 0.0f, v, dv);
    xb_gemm(0, 0, 1, dv, d, 1.0f, x, d, W.WR, dv, 0.0f, r, dv);
    xb_gemm(0, 0, 1, GLA_RANK, d, 1.0f, x, d, W.Wg1, GLA_RANK, 0.0f, h1, GLA_RANK);
    memcpy(la, W.bg2, (size_t)dk * sizeof(float));
    xb_gemm(0, 0, 1, dk, GLA_RANK, 1.0f, h1, GLA_RANK, W.Wg2, dk, 1.0f, la, dk);
    for (int j = 0; j < dk; j++) la[j] = -log1pf(expf(-la[j])) / 16.0f;   /* logsigmoid/16 */
    const float scale = 1.0f / sqrtf((float)m.dkh);
    for (int hh = 0; hh < m.h; hh++) {
        float *S = state + (size_t)hh * m.dkh * m.dvh;
        const float *kh = k + hh * m.dkh, *qh = q + hh * m.dkh, *vh = v + hh * m.dvh;
        float *oh = o + hh * m.dvh;
        for (int j = 0; j < m.dvh; j++) oh[j] = 0;
        for (int i = 0; i < m.dkh; i++) {
            const float a = expf(la[hh * m.dkh + i]);
            float *Si = S + (size_t)i * m.dvh;
            for (int j = 0; j < m.dvh; j++) {
                Si[j] = a * Si[j] + kh[i] * vh[j];
                oh[j] += Si[j] * qh[i];
            }
        }
        float ss = 0;
        for (int j = 0; j < m.dvh; j++) { oh[j] *= scale; ss += oh[j] * oh[j]; }
        const float rs = 1.0f / sqrtf(ss / m.dvh + GLA_EPS);
        for (int j = 0; j < m.dvh; j++) {
            const float z = r[hh * m.dvh + j];
            u[hh * m.dvh + j] = oh[j] * rs * W.nw[j] * z / (1 + expf(-z));
        }
    }
    xb_gemm(0, 0, 1, d, dv, 1.0f, u, dv, W.WO, d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static const char *gla_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    return strcmp(t->name, "W_g1") ? NULL : "(in, out) row-major: y = x W (low-rank gate, shared by the heads)";
}

static void gla_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_real(f, "expand_k", xb_cfg_float(c, OPT_EXPAND_K));
    xb_fact_real(f, "rmsnorm_eps", GLA_EPS);
}

const xb_mixer xb_mixer_gla = {
    .name = "gla",
    .family = "linear attention (gated linear RNN)",
    .cite = "Yang et al. 2023, Gated Linear Attention Transformers with Hardware-Efficient Training",
    .complexity = "N",
    XB_OPTS(gla_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = gla_check,
    .tensors = gla_tensors,
    .init = gla_init,
    .n_saved = gla_n_saved,
    .n_scratch = gla_n_scratch,
    .forward = gla_forward,
    .backward = gla_backward,
    .flops = gla_flops,
    .reference = gla_reference,
    .decode_state = gla_decode_state,
    .decode_scratch = gla_decode_scratch,
    .decode_step = gla_decode_step,
    .layout = gla_layout,
    .facts = gla_facts,
};
