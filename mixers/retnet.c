/* mixers/retnet.c — `retnet`: multi-scale retention (Sun et al. 2023, MIXERS.md §15; checked
 * against fla's layers/multiscale_retention.py and ops/retention/chunk.py, and torchscale's
 * component/multiscale_retention.py).
 *
 *   q = X W_Q, k = X W_K (d×d), v = X W_V, g = X W_G (d×2d)
 *   per head j (d_kh = d/h, d_vh = 2d/h):  S_t = γ_j S_{t−1} + k_t v_tᵀ,
 *     o_t = S_tᵀ (q_t · d_kh^{-1/2}),   γ_j = 1 − 2^{−5−j}  (j = 0..h−1, fixed, no gradient)
 *   Y = (RMSNorm_head(o) · norm_w ⊙ silu(g)) W_O,  W_O [2d×d], ε = 1e-5
 * Bidirectional (§0.1, shared weights): o = o→ + o←, the reverse scan starting at len[b]−1.
 *
 * It is GLA with a constant scalar decay per head, so the scan is core/chunkscan.c's with
 * g == NULL and g0 = log γ_j (C = option `chunk`, default 64), run by its many-scan drivers
 * (forward: whole scans per thread, or chunks spread over threads when there are few heads;
 * backward: from the per-chunk state checkpoints). `.reference` is the sequential recurrence
 * in double.
 *
 * Where this differs from MIXERS.md §15 (the reference code wins, HELPERS.md):
 *  - the norm after the scan: §15 says a GroupNorm per head with a learnable affine of 2·d_v
 *    floats (the paper's GroupNorm). fla's MultiScaleRetention applies an RMSNorm over each
 *    head's d_vh vector with one learnable weight [d_vh] shared by the heads and no bias
 *    (FusedRMSNormGated, eps 1e-5), and torchscale an RMSNorm without any affine. This file
 *    follows fla: norm_w [d_vh], the same per-head RMSNorm gla uses (core/chunkscan.c's
 *    xb_headrms_*). Parameters are 8d² + d_vh, not 8d² + 2·d_v.
 *  - fla applies rotary embeddings to q and k unconditionally; §15 makes them optional and off
 *    (positions come from the embedding). Off here.
 *  - §15 scales k by d_kh^{-1/2}; fla scales q by the same factor (o is identical). q here.
 *  - torchscale divides the retention scores by their (detached) absolute row sums clamped at
 *    1 before the norm; fla does not, nor does this file (the RMSNorm makes the output nearly
 *    invariant to it).
 *
 * saved (region-major over the whole batch, sizes per sequence × B):
 *   q, k [N×d], v, g [N×2d], o [N×2d] (pre-norm, both directions summed), rstd [N×h], then the
 *   state checkpoints [dirs×h×nchunks×d_kh×d_vh]. */
#include <math.h>
#include <string.h>

#include "core/chunkscan.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define RET_EPS 1e-5f   /* RMSNorm ε (§32) */

enum { OPT_CHUNK };
static const xb_mixer_opt ret_opts[] = {
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size C of the chunked retention"},
};

typedef struct dims { int d, h, dk, dv, dkh, dvh, C, dirs; } dims;

static dims get_dims(const xb_mixer_cfg *c)
{
    dims m;
    m.d = c->d; m.h = c->heads;
    m.dk = c->d; m.dv = 2 * c->d;
    m.dkh = m.dk / m.h; m.dvh = m.dv / m.h;
    m.C = xb_cfg_int(c, OPT_CHUNK);
    m.dirs = c->causal ? 1 : 2;
    return m;
}

/* log γ_j of head j, in double for the reference and rounded once for the scan. */
static double log_gamma(int j) { return log1p(-ldexp(1.0, -5 - j)); }

static int ret_check(const xb_mixer_cfg *c, char *err, size_t n)
{
    if (c->heads < 1 || c->d % c->heads) {
        snprintf(err, n, "heads: must divide d = %d, got %d", c->d, c->heads); return XB_EINVAL;
    }
    return 0;
}

static int ret_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    dims m = get_dims(c);
    const xb_tensor t[] = {
        {"W_Q", 0, m.d, m.dk, XB_T_DECAY}, {"W_K", 0, m.d, m.dk, XB_T_DECAY},
        {"W_V", 0, m.d, m.dv, XB_T_DECAY}, {"W_G", 0, m.d, m.dv, XB_T_DECAY},
        {"norm_w", 0, m.dvh, 1, 0},         {"W_O", 0, m.dv, m.d, XB_T_DECAY},
    };
    const int n = (int)(sizeof t / sizeof t[0]);
    size_t off = 0;
    for (int i = 0; i < n; i++) {
        if (out) { out[i] = t[i]; out[i].offset = off; }
        off += (size_t)t[i].rows * t[i].cols;
    }
    return n;
}

enum { T_WQ, T_WK, T_WV, T_WG, T_NW, T_WO, T_COUNT };

/* Weight pointers in tensor order. */
typedef struct wts { const float *p[T_COUNT]; } wts;

static size_t tensor_off(const xb_mixer_cfg *c, int i)
{
    xb_tensor t[XB_MAX_TENSORS];
    ret_tensors(c, t);
    return t[i].offset;
}

static wts get_wts(const xb_mixer_cfg *c, const float *w)
{
    wts W;
    for (int i = 0; i < T_COUNT; i++) W.p[i] = w + tensor_off(c, i);
    return W;
}

static void ret_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = ret_tensors(c, t);
    for (int i = 0; i < n; i++) {
        float *p = w + t[i].offset;
        if (i == T_NW) for (int j = 0; j < t[i].rows; j++) p[j] = 1.0f;
        else xb_init_uniform(p, t[i].rows, t[i].cols, rng);
    }
}

static size_t ckpt_per_seq(const dims *m, int N)
{
    return (size_t)m->dirs * m->h * xb_chunkscan_nchunks(N, m->C) * m->dkh * m->dvh;
}

static size_t ret_n_saved(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c);
    return (size_t)N * (2 * m.dk + 3 * m.dv + m.h) + ckpt_per_seq(&m, N);
}

/* Saved regions for the whole batch. */
typedef struct sv { float *q, *k, *v, *g, *o, *rstd, *ck; } sv;

static sv get_sv(const dims *m, float *s, int B, int N)
{
    const size_t R = (size_t)B * N;
    sv p;
    p.q = s; s += R * m->dk;  p.k = s; s += R * m->dk;  p.v = s; s += R * m->dv;
    p.g = s; s += R * m->dv;  p.o = s; s += R * m->dv;  p.rstd = s; s += R * m->h;  p.ck = s;
    return p;
}

static xb_proj out_proj(const dims *m) { return xb_proj_make(m->dv, 1, &m->d); }

/* Scratch, forward: the output projection's per-thread blocks, the scans' decays and per-thread
 * work; or backward: dY masked, U, dU, dO, dv, dg [R × d_v], dq, dk [R × d_k] and the scans'
 * work. Then 64 floats of room the size has always had (kept: bytes_analytic records it). */
typedef struct scr {
    float *tmp, *dec, *work;                                   /* forward */
    float *dym, *U, *dU, *dO, *dv, *dg, *dq, *dk, *bwork;      /* backward */
    size_t wsz;
} scr;

static size_t scratch_plan(const dims *m, float *scratch, int B, int N, scr *b)
{
    const size_t R = (size_t)B * N, wn = xb_align64(xb_chunkscan_work(m->C, m->dkh, m->dvh));
    xb_proj po = out_proj(m);
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, b->tmp, xb_proj_block_floats(&po), XB_SCR_64F);
    XB_TAKE(&s, b->dec, xb_chunkscan_many_dec(B * m->h, xb_chunkscan_nchunks(N, m->C), m->dkh), XB_SCR_64F);
    xb_scratch_align(&s, XB_SCR_64F);
    XB_TAKE_THREADS(&s, b->work, wn, XB_SCR_PACKED, &b->wsz);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, b->dym, R * m->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->U, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dU, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dO, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dv, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dg, R * m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->dq, R * m->dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->dk, R * m->dk, XB_SCR_PACKED);
    XB_TAKE_THREADS(&s, b->bwork, wn, XB_SCR_PACKED, &b->wsz);
    xb_scratch_union_end(&s, &u);
    xb_scratch_pad(&s, 64);
    return xb_scratch_floats(&s);
}

static size_t ret_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    dims m = get_dims(c);
    scr b;
    return scratch_plan(&m, NULL, B, N, &b);
}

/* The scans of one batch: scan i = (sequence b, head hh), i = b·h + hh. */
typedef struct scans {
    const dims *m;
    const sv *s;
    const int *len;
    int N;
    const float *dO;          /* backward */
    float *dq, *dk, *dv;
} scans;

static void get_scan(const void *arg, int i, int dir, xb_scan_io *io)
{
    const scans *S = arg;
    const dims *m = S->m;
    const int b = i / m->h, hh = i % m->h, L = xb_len(S->len, b, S->N);
    const int nch = xb_chunkscan_nchunks(S->N, m->C);
    const size_t rk = (size_t)b * S->N * m->dk + (size_t)hh * m->dkh;
    const size_t rv = (size_t)b * S->N * m->dv + (size_t)hh * m->dvh;
    io->p = (xb_chunkscan){.L = L, .dk = m->dkh, .dv = m->dvh, .C = m->C, .ldk = m->dk, .ldv = m->dv,
                           .reverse = dir, .scale = 1.0f / sqrtf((float)m->dkh), .g0 = (float)log_gamma(hh)};
    io->q = S->s->q + rk; io->k = S->s->k + rk; io->v = S->s->v + rv; io->g = NULL;
    io->o = S->s->o + rv;
    io->ckpt = S->s->ck + (((size_t)b * m->dirs + dir) * m->h + hh) * nch * m->dkh * m->dvh;
    io->dO = S->dO ? S->dO + rv : NULL;
    io->dq = S->dq ? S->dq + rk : NULL; io->dk = S->dk ? S->dk + rk : NULL; io->dv = S->dv ? S->dv + rv : NULL;
    io->dg = NULL;
}

/* U = RMSNorm_head(o)·norm_w ⊙ silu(g) over rows [r0, r0 + nr) (pad rows of o are 0, so U is 0
 * there); store_rstd: compute and save rstd, else reuse the saved one. */
static void gate_norm_rows(const dims *m, const sv *s, const float *nw, size_t r0, size_t nr, float *u,
                           int store_rstd)
{
    xb_gated_headrms((int)nr, m->h, m->dvh, s->o + r0 * m->dv, s->g + r0 * m->dv, nw, RET_EPS,
                     s->rstd + r0 * m->h, store_rstd, u);
}

typedef struct out_job { const dims *m; const sv *s; const float *nw; } out_job;

/* The output projection's input rows, made per block in cache. */
static void out_prologue(int r0, int rows, float *u, int ldu, void *arg)
{
    const out_job *j = arg;
    XB_ASSERT(ldu == j->m->dv);
    gate_norm_rows(j->m, j->s, j->nw, (size_t)r0, (size_t)rows, u, 1);
}

/* Y = retnet(X); see the file comment. y, saved overwritten. */
static void ret_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    sv s = get_sv(&m, saved, B, N);
    const int R = B * N;
    /* q, k, v, g = X W_* straight into their saved arrays */
    const int cols[4] = {m.dk, m.dk, m.dv, m.dv};
    xb_proj pin = xb_proj_make(m.d, 4, cols);
    const float *win[4] = {W.p[T_WQ], W.p[T_WK], W.p[T_WV], W.p[T_WG]};
    float *dst[4] = {s.q, s.k, s.v, s.g};
    xb_proj_forward_split(&pin, R, x, m.d, win, dst, NULL, NULL);
    /* scans */
    xb_proj po = out_proj(&m);
    const int nch = xb_chunkscan_nchunks(N, m.C);
    scr sc;
    scratch_plan(&m, scratch, B, N, &sc);
    float *tmp = sc.tmp, *dec = sc.dec, *work = sc.work;
    scans S = {&m, &s, len, N, NULL, NULL, NULL, NULL};
    xb_chunkscan_many_forward(B * m.h, m.dirs, get_scan, &S, work, sc.wsz, nch, m.dkh, dec);
    for (int b = 0; b < B; b++)
        for (int t = xb_len(len, b, N); t < N; t++) memset(s.o + ((size_t)b * N + t) * m.dv, 0, (size_t)m.dv * sizeof(float));
    /* Y = U W_O with U made per block in cache (out_prologue) */
    out_job oj = {&m, &s, W.p[T_NW]};
    xb_proj_forward_rows(&po, R, out_prologue, &oj, W.p[T_WO], y, m.d, tmp, NULL, NULL);
    xb_zero_pad_rows(y, len, B, N, m.d);
}

/* dx overwritten, dw accumulated: output projection, gate ⊙ RMSNorm, scans (both directions),
 * input projections. */
static void ret_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    sv s = get_sv(&m, (float *)saved, B, N);   /* read only */
    float *dWQ = dw + tensor_off(c, T_WQ), *dWK = dw + tensor_off(c, T_WK), *dWV = dw + tensor_off(c, T_WV);
    float *dWG = dw + tensor_off(c, T_WG), *dnw = dw + tensor_off(c, T_NW), *dWO = dw + tensor_off(c, T_WO);
    const size_t R = (size_t)B * N;
    scr sc;
    scratch_plan(&m, scratch, B, N, &sc);
    float *dym = sc.dym, *U = sc.U, *dU = sc.dU, *dO = sc.dO, *dv = sc.dv, *dg = sc.dg, *dq = sc.dq;
    float *dk = sc.dk, *work = sc.bwork;
    /* pad rows of dy contribute nothing */
    memcpy(dym, dy, R * m.d * sizeof(float));
    xb_zero_pad_rows(dym, len, B, N, m.d);
    /* Y = U W_O */
    enum { RB = 32 };
    #pragma omp parallel for schedule(static)
    for (size_t r0 = 0; r0 < R; r0 += RB)
        gate_norm_rows(&m, &s, W.p[T_NW], r0, R - r0 < RB ? R - r0 : RB, U + r0 * m.dv, 0);
    xb_gemm(1, 0, m.dv, m.d, (int)R, 1.0f, U, m.dv, dym, m.d, 1.0f, dWO, m.d);
    xb_gemm(0, 1, (int)R, m.dv, m.d, 1.0f, dym, m.d, W.p[T_WO], m.d, 0.0f, dU, m.dv);
    /* U = n ⊙ silu(g), n = RMSNorm(o)·norm_w: dn (into dO) and dg */
    const float *nw = W.p[T_NW];
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < R * m.h; i++)
        for (int j = 0; j < m.dvh; j++) {
            size_t e = i * m.dvh + j;
            float z = s.g[e], sg = xb_vsigmoid(z), n = s.o[e] * s.rstd[i] * nw[j];
            dO[e] = dU[e] * z * sg;
            dg[e] = dU[e] * n * sg * (1.0f + z * (1.0f - sg));
        }
    xb_headrms_backward((int)R, m.h, m.dvh, s.o, nw, s.rstd, dO, dO, dnw);
    /* scans */
    memset(dq, 0, R * m.dk * sizeof(float)); memset(dk, 0, R * m.dk * sizeof(float));
    memset(dv, 0, R * m.dv * sizeof(float));
    scans S = {&m, &s, len, N, dO, dq, dk, dv};
    xb_chunkscan_many_backward(B * m.h, m.dirs, get_scan, &S, work, sc.wsz);
    /* input projections */
    xb_gemm(1, 0, m.d, m.dk, (int)R, 1.0f, x, m.d, dq, m.dk, 1.0f, dWQ, m.dk);
    xb_gemm(1, 0, m.d, m.dk, (int)R, 1.0f, x, m.d, dk, m.dk, 1.0f, dWK, m.dk);
    xb_gemm(1, 0, m.d, m.dv, (int)R, 1.0f, x, m.d, dv, m.dv, 1.0f, dWV, m.dv);
    xb_gemm(1, 0, m.d, m.dv, (int)R, 1.0f, x, m.d, dg, m.dv, 1.0f, dWG, m.dv);
    xb_gemm(0, 1, (int)R, m.d, m.dk, 1.0f, dq, m.dk, W.p[T_WQ], m.dk, 0.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, m.dk, 1.0f, dk, m.dk, W.p[T_WK], m.dk, 1.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, m.dv, 1.0f, dv, m.dv, W.p[T_WV], m.dv, 1.0f, dx, m.d);
    xb_gemm(0, 1, (int)R, m.d, m.dv, 1.0f, dg, m.dv, W.p[T_WG], m.dv, 1.0f, dx, m.d);
    xb_zero_pad_rows(dx, len, B, N, m.d);
}

/* MIXERS.md §15, chunked form: projections 16Nd²; scan 2NC(d_k + d_v) + 4N d_k d_vh, doubled in
 * bidirectional mode (§0.1); norm and gate 6N d_v (listed). */
static double ret_flops(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c);
    const double n = N, d = m.d, dk = m.dk, dv = m.dv, C = m.C;
    double scan = 2 * n * C * (dk + dv) + 4 * n * dk * m.dvh;
    return 16 * n * d * d + m.dirs * scan + 6 * n * dv;
}

/* Naive double-precision forward: projections, the sequential recurrence per head and
 * direction (S_t = γ_j S_{t−1} + k vᵀ), per-head RMSNorm, swish gate, output projection. */
static void ret_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    const int d = m.d, dk = m.dk, dv = m.dv;
    double *q = calloc((size_t)N * dk, sizeof(double)), *k = calloc((size_t)N * dk, sizeof(double));
    double *v = calloc((size_t)N * dv, sizeof(double)), *g = calloc((size_t)N * dv, sizeof(double));
    double *o = calloc((size_t)N * dv, sizeof(double)), *u = calloc((size_t)dv, sizeof(double));
    double *S = calloc((size_t)m.dkh * m.dvh, sizeof(double));
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        const float *X = x + (size_t)b * N * d;
        for (int t = 0; t < L; t++) {
            const float *xr = X + (size_t)t * d;
            for (int j = 0; j < dk; j++) {
                double a = 0, e = 0;
                for (int i = 0; i < d; i++) {
                    a += (double)xr[i] * W.p[T_WQ][i * dk + j];
                    e += (double)xr[i] * W.p[T_WK][i * dk + j];
                }
                q[t * dk + j] = a; k[t * dk + j] = e;
            }
            for (int j = 0; j < dv; j++) {
                double a = 0, e = 0;
                for (int i = 0; i < d; i++) {
                    a += (double)xr[i] * W.p[T_WV][i * dv + j];
                    e += (double)xr[i] * W.p[T_WG][i * dv + j];
                }
                v[t * dv + j] = a; g[t * dv + j] = e;
            }
        }
        memset(o, 0, (size_t)N * dv * sizeof(double));
        for (int hh = 0; hh < m.h; hh++) {
            const double gamma = 1.0 - pow(2.0, -5.0 - hh);
            for (int dir = 0; dir < m.dirs; dir++) {
                memset(S, 0, (size_t)m.dkh * m.dvh * sizeof(double));
                for (int tau = 0; tau < L; tau++) {
                    int t = dir ? L - 1 - tau : tau;
                    for (int i = 0; i < m.dkh; i++)
                        for (int j = 0; j < m.dvh; j++)
                            S[i * m.dvh + j] = gamma * S[i * m.dvh + j] +
                                               k[t * dk + hh * m.dkh + i] * v[t * dv + hh * m.dvh + j];
                    for (int j = 0; j < m.dvh; j++) {
                        double a = 0;
                        for (int i = 0; i < m.dkh; i++) a += S[i * m.dvh + j] * q[t * dk + hh * m.dkh + i];
                        o[t * dv + hh * m.dvh + j] += a / sqrt((double)m.dkh);
                    }
                }
            }
        }
        for (int t = 0; t < N; t++) {
            double *yr = y + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) yr[j] = 0;
            if (t >= L) continue;
            for (int hh = 0; hh < m.h; hh++) {
                const double *oh = o + (size_t)t * dv + hh * m.dvh;
                double ss = 0;
                for (int j = 0; j < m.dvh; j++) ss += oh[j] * oh[j];
                double rs = 1.0 / sqrt(ss / m.dvh + RET_EPS);
                for (int j = 0; j < m.dvh; j++) {
                    double z = g[t * dv + hh * m.dvh + j];
                    u[hh * m.dvh + j] = oh[j] * rs * W.p[T_NW][j] * z / (1 + exp(-z));
                }
            }
            for (int j = 0; j < d; j++) {
                double a = 0;
                for (int i = 0; i < dv; i++) a += u[i] * W.p[T_WO][i * d + j];
                yr[j] = a;
            }
        }
    }
    free(q); free(k); free(v); free(g); free(o); free(u); free(S);
}

/* ---- decode: the recurrent form per head, S_j = γ_j S_j + k_t v_tᵀ, o = S_jᵀ q_t / √d_kh ---- */

static size_t ret_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = get_dims(c);
    return (size_t)m.h * m.dkh * m.dvh;
}

/* q, k [d_k]; v, g, the normed and gated output u [d_v] */
typedef struct dscr { float *q, *k, *v, *g, *u; } dscr;

static size_t decode_plan(const dims *m, float *scratch, dscr *b)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->q, (size_t)m->dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->k, (size_t)m->dk, XB_SCR_PACKED);
    XB_TAKE(&s, b->v, (size_t)m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->g, (size_t)m->dv, XB_SCR_PACKED);
    XB_TAKE(&s, b->u, (size_t)m->dv, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t ret_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = get_dims(c);
    dscr b;
    return decode_plan(&m, NULL, &b);
}

/* One token: the four projections as 1-row products, each head's state decayed by γ_j (the
 * value the chunked scan decays by, e^{(float) log γ_j}) plus k vᵀ, read by q, then the
 * per-head RMSNorm, the swish gate and W_O as in the forward. */
static void ret_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                            float *state, float *y, float *scratch)
{
    (void)n_max; (void)t;
    dims m = get_dims(c);
    wts W = get_wts(c, w);
    const int d = m.d, dk = m.dk, dv = m.dv, dkh = m.dkh, dvh = m.dvh;
    dscr sc;
    decode_plan(&m, scratch, &sc);
    float *q = sc.q, *k = sc.k, *v = sc.v, *g = sc.g, *u = sc.u;
    xb_gemm(0, 0, 1, dk, d, 1.0f, x, d, W.p[T_WQ], dk, 0.0f, q, dk);
    xb_gemm(0, 0, 1, dk, d, 1.0f, x, d, W.p[T_WK], dk, 0.0f, k, dk);
    xb_gemm(0, 0, 1, dv, d, 1.0f, x, d, W.p[T_WV], dv, 0.0f, v, dv);
    xb_gemm(0, 0, 1, dv, d, 1.0f, x, d, W.p[T_WG], dv, 0.0f, g, dv);
    const float scale = 1.0f / sqrtf((float)dkh), *nw = W.p[T_NW];
    for (int hh = 0; hh < m.h; hh++) {
        float *S = state + (size_t)hh * dkh * dvh, *oh = u + hh * dvh;
        const float *qh = q + hh * dkh, *kh = k + hh * dkh, *vh = v + hh * dvh, *gh = g + hh * dvh;
        const float gamma = expf((float)log_gamma(hh));
        for (int j = 0; j < dvh; j++) oh[j] = 0;
        for (int i = 0; i < dkh; i++) {
            float *Si = S + (size_t)i * dvh;
            const float qi = qh[i] * scale;
            for (int j = 0; j < dvh; j++) {
                Si[j] = gamma * Si[j] + kh[i] * vh[j];
                oh[j] += Si[j] * qi;
            }
        }
        float ss = 0;
        for (int j = 0; j < dvh; j++) ss += oh[j] * oh[j];
        const float rs = 1.0f / sqrtf(ss / dvh + RET_EPS);
        for (int j = 0; j < dvh; j++) oh[j] *= rs * nw[j] * gh[j] * xb_vsigmoid(gh[j]);
    }
    xb_gemm(0, 0, 1, d, dv, 1.0f, u, dv, W.p[T_WO], d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static void ret_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "chunk", xb_cfg_int(c, OPT_CHUNK));
    xb_fact_text(f, "decay", "head j (0-based) decays by gamma_j = 1 - 2^(-5-j), fixed (no gradient)");
    xb_fact_text(f, "norm", "per-head RMSNorm with one weight norm_w [d_vh] shared by the heads, as fla "
                            "(MIXERS.md 15 says GroupNorm with a 2*d_v affine)");
    xb_fact_real(f, "rmsnorm_eps", RET_EPS);
    xb_fact_text(f, "scale", "q scaled by d_kh^-1/2; no rotary (positions come from the embedding)");
}

const xb_mixer xb_mixer_retnet = {
    .name = "retnet",
    .family = "linear attention (fixed decay)",
    .cite = "Sun et al. 2023, Retentive Network: A Successor to Transformer for Large Language Models",
    .complexity = "N",
    XB_OPTS(ret_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = ret_check,
    .tensors = ret_tensors,
    .init = ret_init,
    .n_saved = ret_n_saved,
    .n_scratch = ret_n_scratch,
    .forward = ret_forward,
    .backward = ret_backward,
    .flops = ret_flops,
    .reference = ret_reference,
    .decode_state = ret_decode_state,
    .decode_scratch = ret_decode_scratch,
    .decode_step = ret_decode_step,
    .facts = ret_facts,
};
