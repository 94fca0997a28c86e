/* mixers/mamba.c — `mamba`: the Mamba selective-SSM block as a token mixer (MIXERS.md §18;
 * bidirectional form §0.1/§32, Vim layout). Gu & Dao 2023.
 *
 * Forward (D = E·d inner channels, n states, conv k, R = dt_rank, P = R + 2n):
 *   [x ; z] = X W_in                                  W_in [d, 2D]  (x: columns 0..D−1)
 *   per direction: xc = conv_k(x) + b_conv;  xs = silu(xc)
 *                  [δ ; B ; C] = xs W_x               W_x [D, P]
 *                  Δ = softplus(δ W_dt + b_dt)        W_dt [R, D]
 *                  y = selective_scan(xs, Δ, A = −exp(A_log), B, C) + D_skip ⊙ xs
 *   G = (y→ [+ y←]) ⊙ silu(z);  Y = G W_out           W_out [D, d]
 * The reverse direction (bidirectional only) has its own conv_w_rev, b_conv_rev, W_x_rev,
 * W_dt_rev, b_dt_rev, A_log_rev, D_skip_rev; its conv is anti-causal (same lag-order taps applied
 * to the reversed sequence) and its scan starts at the last REAL token (core/selscan.h with a
 * negative row stride). Pads: conv and scans read real tokens only; pad rows of xs, y, G are 0.
 *
 * Checked against state-spaces/mamba (mamba_simple.py, selective_scan_ref): order of [x;z] and
 * [δ;B;C], ZOH for A / Euler for B, softplus(δW_dt + b_dt) with PyTorch's threshold 20, init
 * (A_log = log(1..n), D = 1, W_dt ~ U(±R^-1/2), inverse-softplus b_dt, PyTorch defaults for
 * the conv: U(±1/√k) for taps and bias). A_log and D_skip carry no weight decay there
 * (_no_weight_decay), so neither does here. No disagreement with MIXERS.md was found.
 *
 * Buffers are batch-major inside saved (B × n_saved floats in all) so that projections are one
 * GEMM over all B·N rows:
 *   saved:  XZ [B·N, 2D] | YS [B·N, D] (y→ + y←, pre-gate) | per direction:
 *           XC [B·N, D] (conv pre-activation) | DBC [B·N, P] | DT [B·N, D] (Δ) |
 *           CK [B, nck, n, D] (scan state entering each chunk of C steps)
 *   scratch (forward):  At [2, n, D] | XS [B·N, D] | YR [B·N, D]
 *   scratch (backward): At | XS | DYM [B·N, d] | DG [B·N, D] | DXZ [B·N, 2D] | DU, DDT [B·N, D] |
 *           DDBC [B·N, P] | DBCP [nblk, B·N, 2n] | DAP [B, n, D] | DDP [B, D] | WORK [threads, …] */
#include <math.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/selscan.h"
#include "core/xb.h"

enum { OPT_EXPAND, OPT_STATE, OPT_CONV, OPT_DT_RANK, OPT_CHUNK };
static const xb_mixer_opt mamba_opts[] = {
    [OPT_EXPAND] = {.name = "expand", .type = XB_OPT_INT, .min = 1, .max = 64, .def = 2,
                    .help = "expansion E: inner width D = E d"},
    [OPT_STATE] = {.name = "state", .type = XB_OPT_INT, .min = 1, .max = XB_SELSCAN_NMAX, .def = 16,
                   .help = "state size n per channel"},
    [OPT_CONV] = {.name = "conv", .type = XB_OPT_INT, .min = 1, .max = 64, .def = 4,
                  .help = "kernel of the short depthwise conv before the scan"},
    [OPT_DT_RANK] = {.name = "dt_rank", .type = XB_OPT_INT, .min = 1, .max = 65536, .def_doc = "ceil(d / 16)",
                     .help = "rank R of the delta projection"},
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "checkpoint interval C of the scan (memory, not results)"},
};

/* ---- dimensions and slab layout --------------------------------------------------- */

typedef struct dims {
    int d, D, n, k, R, P, C, ndir;
    /* slab offsets: W_in, W_out, and each direction's group */
    size_t W_in, W_out, grp[2];
    /* offsets inside a direction's group */
    size_t conv_w, b_conv, W_x, W_dt, b_dt, A_log, D_skip, grp_size;
} dims;

static dims dims_of(const xb_mixer_cfg *c)
{
    dims m;
    m.d = c->d; m.D = xb_cfg_int(c, OPT_EXPAND) * c->d; m.n = xb_cfg_int(c, OPT_STATE); m.k = xb_cfg_int(c, OPT_CONV); m.R = xb_cfg_int(c, OPT_DT_RANK);
    m.P = m.R + 2 * m.n; m.C = xb_cfg_int(c, OPT_CHUNK); m.ndir = c->causal ? 1 : 2;
    const size_t D = (size_t)m.D;
    m.conv_w = 0;
    m.b_conv = m.conv_w + (size_t)m.k * D;
    m.W_x = m.b_conv + D;
    m.W_dt = m.W_x + D * m.P;
    m.b_dt = m.W_dt + (size_t)m.R * D;
    m.A_log = m.b_dt + D;
    m.D_skip = m.A_log + D * m.n;
    m.grp_size = m.D_skip + D;
    m.W_in = 0;
    m.grp[0] = m.W_in + (size_t)m.d * 2 * D;
    m.W_out = m.grp[0] + m.grp_size;
    m.grp[1] = m.W_out + D * m.d;
    return m;
}

static int nblocks(const dims *m) { return (m->D + XB_SELSCAN_CB - 1) / XB_SELSCAN_CB; }
static int nchunks(const dims *m, int N) { return xb_selscan_nchunks(N, m->C); }

static void mamba_defaults(xb_mixer_cfg *c)
{
    if (xb_cfg_int(c, OPT_DT_RANK) <= 0) xb_cfg_set(c, OPT_DT_RANK, (c->d + 15) / 16);   /* ⌈d/16⌉ as in mamba_simple.py */
}

static int mamba_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->d < 1) { snprintf(err, errn, "d: must be >= 1, got %d", c->d); return XB_EINVAL; }
    return 0;
}

static int mamba_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    dims m = dims_of(c);
    static const char *names[2][7] = {
        {"conv_w", "b_conv", "W_x", "W_dt", "b_dt", "A_log", "D_skip"},
        {"conv_w_rev", "b_conv_rev", "W_x_rev", "W_dt_rev", "b_dt_rev", "A_log_rev", "D_skip_rev"},
    };
    xb_tensor t[XB_MAX_TENSORS];
    int nt = 0;
    t[nt++] = (xb_tensor){"W_in", m.W_in, m.d, 2 * m.D, XB_T_DECAY};
    for (int dir = 0; dir < m.ndir; dir++) {
        size_t g = m.grp[dir];
        t[nt++] = (xb_tensor){names[dir][0], g + m.conv_w, m.k, m.D, XB_T_DECAY};
        t[nt++] = (xb_tensor){names[dir][1], g + m.b_conv, m.D, 1, 0};
        t[nt++] = (xb_tensor){names[dir][2], g + m.W_x, m.D, m.P, XB_T_DECAY};
        t[nt++] = (xb_tensor){names[dir][3], g + m.W_dt, m.R, m.D, XB_T_DECAY};
        t[nt++] = (xb_tensor){names[dir][4], g + m.b_dt, m.D, 1, 0};
        t[nt++] = (xb_tensor){names[dir][5], g + m.A_log, m.D, m.n, 0};   /* no decay: reference */
        t[nt++] = (xb_tensor){names[dir][6], g + m.D_skip, m.D, 1, 0};
        if (dir == 0) t[nt++] = (xb_tensor){"W_out", m.W_out, m.D, m.d, XB_T_DECAY};
    }
    if (out) memcpy(out, t, sizeof(xb_tensor) * (size_t)nt);
    return nt;
}

static void mamba_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    dims m = dims_of(c);
    xb_init_uniform(w + m.W_in, m.d, 2 * m.D, rng);
    for (int dir = 0; dir < m.ndir; dir++) {
        float *g = w + m.grp[dir];
        /* nn.Conv1d(groups = D) default: fan_in = k for taps and bias */
        xb_init_uniform(g + m.conv_w, m.k, m.D, rng);
        float bc = 1.0f / sqrtf((float)m.k);
        for (int i = 0; i < m.D; i++) g[m.b_conv + i] = xb_rng_uniformf(rng, -bc, bc);
        xb_init_uniform(g + m.W_x, m.D, m.P, rng);
        xb_init_uniform(g + m.W_dt, m.R, m.D, rng);          /* U(±R^-1/2), dt_scale = 1 */
        for (int i = 0; i < m.D; i++) {                       /* softplus(b_dt) = Δ0 */
            double lo = log(1e-3), hi = log(1e-1);
            double dt0 = exp(lo + xb_rng_uniform(rng) * (hi - lo));
            if (dt0 < 1e-4) dt0 = 1e-4;
            g[m.b_dt + i] = (float)(dt0 + log(-expm1(-dt0)));
        }
        for (int i = 0; i < m.D; i++)
            for (int s = 0; s < m.n; s++) g[m.A_log + (size_t)i * m.n + s] = (float)log((double)(s + 1));
        for (int i = 0; i < m.D; i++) g[m.D_skip + i] = 1.0f;
        if (dir == 0) xb_init_uniform(w + m.W_out, m.D, m.d, rng);
    }
}

/* ---- buffers ------------------------------------------------------------------------ */

typedef struct bufs {
    float *XZ, *YS, *XC[2], *DBC[2], *DT[2], *CK[2];          /* saved */
    float *At, *XS, *YR, *PT;                                  /* scratch, forward */
    float *DYM, *DG, *DXZ, *DU, *DDT, *DDBC, *DBCP, *DAP, *DDP, *WORK; /* scratch, backward */
    size_t ws;                                                 /* WORK's per-thread stride */
} bufs;

/* Both lists (saved and scratch, each on 64-byte lines from its start; base NULL: measure);
 * sets both sizes. YR and PT (forward only) overlay the backward's buffers after XS. */
static void plan(const dims *m, int B, int N, float *saved, float *scratch, bufs *b, size_t *n_saved,
                 size_t *n_scratch)
{
    const size_t BN = (size_t)B * N, D = (size_t)m->D;
    xb_scratch s = xb_scratch_at(saved), x = xb_scratch_at(scratch);
    XB_TAKE(&s, b->XZ, BN * 2 * D, XB_SCR_LINE);
    XB_TAKE(&s, b->YS, BN * D, XB_SCR_LINE);
    for (int dir = 0; dir < 2; dir++) {
        size_t on = dir < m->ndir;
        XB_TAKE(&s, b->XC[dir], on * BN * D, XB_SCR_LINE);
        XB_TAKE(&s, b->DBC[dir], on * BN * m->P, XB_SCR_LINE);
        XB_TAKE(&s, b->DT[dir], on * BN * D, XB_SCR_LINE);
        XB_TAKE(&s, b->CK[dir], on * (size_t)B * nchunks(m, N) * m->n * D, XB_SCR_LINE);
    }
    xb_scratch_align(&s, XB_SCR_LINE);
    XB_TAKE(&x, b->At, 2 * (size_t)m->n * D, XB_SCR_LINE);
    XB_TAKE(&x, b->XS, BN * D, XB_SCR_LINE);
    xb_scratch_union u = xb_scratch_union_begin(&x);
    XB_TAKE(&x, b->YR, BN * D, XB_SCR_LINE);
    xb_proj pout = xb_proj_make(m->D, 1, &m->d);
    XB_TAKE(&x, b->PT, xb_proj_block_floats(&pout), XB_SCR_LINE);   /* output projection's blocks */
    xb_scratch_union_next(&x, &u);
    XB_TAKE(&x, b->DYM, BN * m->d, XB_SCR_LINE);
    XB_TAKE(&x, b->DG, BN * D, XB_SCR_LINE);
    XB_TAKE(&x, b->DXZ, BN * 2 * D, XB_SCR_LINE);
    XB_TAKE(&x, b->DU, BN * D, XB_SCR_LINE);
    XB_TAKE(&x, b->DDT, BN * D, XB_SCR_LINE);
    XB_TAKE(&x, b->DDBC, BN * m->P, XB_SCR_LINE);
    XB_TAKE(&x, b->DBCP, (size_t)nblocks(m) * BN * 2 * m->n, XB_SCR_LINE);
    XB_TAKE(&x, b->DAP, (size_t)B * m->n * D, XB_SCR_LINE);
    XB_TAKE(&x, b->DDP, (size_t)B * D, XB_SCR_LINE);
    XB_TAKE_THREADS(&x, b->WORK, xb_selscan_work(m->n, m->C), XB_SCR_LINE, &b->ws);
    xb_scratch_union_end(&x, &u);
    xb_scratch_align(&x, XB_SCR_LINE);
    *n_saved = xb_scratch_floats(&s);
    *n_scratch = xb_scratch_floats(&x);
}

static bufs carve(const dims *m, int B, int N, float *saved, float *scratch)
{
    size_t ns, nx;
    bufs b;
    plan(m, B, N, saved, scratch, &b, &ns, &nx);
    return b;
}

static size_t mamba_n_saved(const xb_mixer_cfg *c, int N)
{
    dims m = dims_of(c);
    size_t ns, nx;
    bufs b;
    plan(&m, 1, N, NULL, NULL, &b, &ns, &nx);
    return ns;   /* per-sequence parts scale with B; alignment slack only shrinks per sequence */
}

static size_t mamba_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    dims m = dims_of(c);
    size_t ns, nx;
    bufs b;
    plan(&m, B, N, NULL, NULL, &b, &ns, &nx);
    return nx;
}

/* ---- shared pieces ------------------------------------------------------------------ */

/* σ from core/vmath.h (libm expf would keep these loops scalar) */
static inline float sigmoidf(float v) { return xb_vsigmoid(v); }

/* 1 − e^{−Δ} for Δ ≥ 0 without libm's expm1f (a call: the loop stayed scalar): the Taylor
 * series to Δ⁸ below 0.25 (truncation < Δ⁹/9! ≤ 1e-11 relative), else 1 − xb_vexp(−Δ)
 * (1 − e^{−Δ} ≥ 0.22 there: relative error ≤ 1e-6). Branch-free, so it vectorises. */
static inline float one_minus_exp_neg(float D)
{
    float p = 1.0f - D * (1.0f / 8.0f);
    p = 1.0f - D * (1.0f / 7.0f) * p;
    p = 1.0f - D * (1.0f / 6.0f) * p;
    p = 1.0f - D * (1.0f / 5.0f) * p;
    p = 1.0f - D * (1.0f / 4.0f) * p;
    p = 1.0f - D * (1.0f / 3.0f) * p;
    p = 1.0f - D * (1.0f / 2.0f) * p;
    const float small = D * p, big = 1.0f - xb_vexp(-D);
    return D < 0.25f ? small : big;
}

/* At[s·D + c] = −exp(A_log[c, s]) for one direction. */
static void make_At(const dims *m, const float *A_log, float *At)
{
    for (int c = 0; c < m->D; c++)
        for (int s = 0; s < m->n; s++) At[(size_t)s * m->D + c] = -xb_vexp(A_log[(size_t)c * m->n + s]);
}

/* xc[t] = b_conv + Σ_τ w[τ] ⊙ x[t ∓ τ] over real tokens (− causal direction, + reverse),
 * xs = silu(xc); pad rows 0. x is XZ's first D columns (row stride 2D). Rows in parallel. */
static void conv_forward(const dims *m, int dir, const float *grp, const float *XZ, const int *len,
                         float *XC, float *XS, int B, int N)
{
    const int D = m->D, k = m->k;
    const float *w = grp + m->conv_w, *bc = grp + m->b_conv;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int t = 0; t < N; t++) {
            const int L = xb_len(len, b, N);
            float *xc = XC + ((size_t)b * N + t) * D, *xs = XS + ((size_t)b * N + t) * D;
            if (t >= L) { memset(xc, 0, sizeof(float) * D); memset(xs, 0, sizeof(float) * D); continue; }
            memcpy(xc, bc, sizeof(float) * D);
            for (int tau = 0; tau < k; tau++) {
                int src = dir == 0 ? t - tau : t + tau;
                if (src < 0 || src >= L) continue;
                const float *xr = XZ + ((size_t)b * N + src) * 2 * D, *wt = w + (size_t)tau * D;
                for (int c = 0; c < D; c++) xc[c] = fmaf(wt[c], xr[c], xc[c]);
            }
            for (int c = 0; c < D; c++) xs[c] = xc[c] * sigmoidf(xc[c]);
        }
}

/* xs = silu(xc) (pads stay 0 because xc is 0 there). */
static void silu_rows(const float *XC, float *XS, size_t n)
{
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < n; i++) XS[i] = XC[i] * sigmoidf(XC[i]);
}

/* Pointers of sequence b's first visited row for a direction: the forward scan starts at row 0
 * with stride +1 row, the reverse scan at the last real row with stride −1 row. */
static inline size_t first_row(int b, int N, int L, int dir) { return (size_t)b * N + (dir ? (size_t)L - 1 : 0); }

/* ---- forward ------------------------------------------------------------------------ */

typedef struct dt_job { const dims *m; const float *grp; float *DT; } dt_job;

/* Δ = softplus(DBC[:, :R] W_dt + b_dt) for one block of rows of DBC, still in cache
 * (softplus with PyTorch's linear tail above 20). */
static void dt_epilogue(int r0, int rows, float *dbc, int ldbc, void *arg)
{
    const dt_job *j = arg;
    const int D = j->m->D;
    float *DT = j->DT + (size_t)r0 * D;
    const float *bdt = j->grp + j->m->b_dt;
    xb_gemm(0, 0, rows, D, j->m->R, 1.0f, dbc, ldbc, j->grp + j->m->W_dt, D, 0.0f, DT, D);
    for (int r = 0; r < rows; r++) {
        float *dt = DT + (size_t)r * D;
        for (int ch = 0; ch < D; ch++) dt[ch] = xb_vsoftplus(dt[ch] + bdt[ch]);
    }
}

typedef struct gate_job { const dims *m; const bufs *s; } gate_job;

/* Rows [r0, r0 + rows) of G = (y→ + y←) ⊙ silu(z); y← is added into YS in place. */
static void gate_prologue(int r0, int rows, float *g, int ldg, void *arg)
{
    const gate_job *j = arg;
    const int D = j->m->D, bidir = j->m->ndir == 2;
    XB_ASSERT(ldg == D);
    for (int i = 0; i < rows; i++) {
        const size_t r = (size_t)r0 + i;
        float *ys = j->s->YS + r * D, *gr = g + (size_t)i * D;
        const float *z = j->s->XZ + r * 2 * D + D, *yr = j->s->YR + r * D;
        if (bidir) for (int ch = 0; ch < D; ch++) ys[ch] += yr[ch];
        for (int ch = 0; ch < D; ch++) gr[ch] = ys[ch] * (z[ch] * sigmoidf(z[ch]));
    }
}

static void mamba_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          float *y, float *saved, float *scratch, int B, int N)
{
    dims m = dims_of(c);
    bufs s = carve(&m, B, N, saved, scratch);
    const int D = m.D, P = m.P, n = m.n, nblk = nblocks(&m), nck = nchunks(&m, N);
    const size_t BN = (size_t)B * N;

    const int cin = 2 * D;
    xb_proj pin = xb_proj_make(m.d, 1, &cin);   /* one matrix: W_in is its own packed form */
    xb_proj_forward(&pin, (int)BN, x, m.d, w + m.W_in, s.XZ, 2 * D, NULL, NULL, NULL);
    for (int dir = 0; dir < m.ndir; dir++) {
        const float *grp = w + m.grp[dir];
        float *At = s.At + (size_t)dir * n * D;
        make_At(&m, grp + m.A_log, At);
        conv_forward(&m, dir, grp, s.XZ, len, s.XC[dir], s.XS, B, N);
        float *DBC = s.DBC[dir], *DT = s.DT[dir], *CK = s.CK[dir];
        xb_proj px = xb_proj_make(D, 1, &P);      /* DBC = XS W_x, then Δ per block (dt_epilogue) */
        dt_job job = {&m, grp, DT};
        xb_proj_forward(&px, (int)BN, s.XS, D, grp + m.W_x, DBC, P, NULL, dt_epilogue, &job);
        float *Yd = dir == 0 ? s.YS : s.YR;
        const float *Dsk = grp + m.D_skip;
        #pragma omp parallel for collapse(2) schedule(static)
        for (int b = 0; b < B; b++)
            for (int blk = 0; blk < nblk; blk++) {
                const int L = xb_len(len, b, N), c0 = blk * XB_SELSCAN_CB;
                const int nc = xb_min(XB_SELSCAN_CB, D - c0);
                const ptrdiff_t ld = dir ? -(ptrdiff_t)D : D, ldbc = dir ? -(ptrdiff_t)P : P;
                const size_t r0 = first_row(b, N, L, dir);
                for (int t = L; t < N; t++) memset(Yd + ((size_t)b * N + t) * D + c0, 0, sizeof(float) * nc);
                xb_selscan_forward(L, nc, n, m.C, s.XS + r0 * D + c0, DT + r0 * D + c0, ld,
                                   DBC + r0 * P + m.R, DBC + r0 * P + m.R + n, ldbc, At + c0, D,
                                   Dsk + c0, Yd + r0 * D + c0,
                                   CK + (size_t)b * nck * n * D + c0, D);
            }
    }
    /* Y = G W_out, G = (y→ + y←) ⊙ silu(z) made per block of rows right before its product
     * (y→ + y← is kept in YS for the backward) */
    xb_proj pout = xb_proj_make(D, 1, &m.d);
    gate_job gj = {&m, &s};
    xb_proj_forward_rows(&pout, (int)BN, gate_prologue, &gj, w + m.W_out, y, m.d, s.PT, NULL, NULL);
}

/* ---- backward ----------------------------------------------------------------------- */

static void mamba_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                           int B, int N)
{
    dims m = dims_of(c);
    bufs s = carve(&m, B, N, (float *)saved, scratch);
    const int D = m.D, P = m.P, n = m.n, d = m.d, nblk = nblocks(&m), nck = nchunks(&m, N);
    const size_t BN = (size_t)B * N;

    /* dy at pad rows counts as 0; G = ys ⊙ silu(z) recomputed into XS */
    float *G = s.XS;
    #pragma omp parallel for schedule(static)
    for (size_t r = 0; r < BN; r++) {
        const int b = (int)(r / N), t = (int)(r % N);
        const int real = t < xb_len(len, b, N);
        for (int j = 0; j < d; j++) s.DYM[r * d + j] = real ? dy[r * d + j] : 0.0f;
        const float *ys = s.YS + r * D, *z = s.XZ + r * 2 * D + D;
        for (int ch = 0; ch < D; ch++) G[r * D + ch] = ys[ch] * (z[ch] * sigmoidf(z[ch]));
    }
    xb_gemm(1, 0, D, d, (int)BN, 1.0f, G, D, s.DYM, d, 1.0f, dw + m.W_out, d);
    xb_gemm(0, 1, (int)BN, D, d, 1.0f, s.DYM, d, w + m.W_out, d, 0.0f, s.DG, D);
    /* gate: dys = dG ⊙ silu(z) (in place), dz = dG ⊙ ys ⊙ silu'(z); dx part of DXZ starts 0 */
    #pragma omp parallel for schedule(static)
    for (size_t r = 0; r < BN; r++) {
        float *dg = s.DG + r * D, *dxz = s.DXZ + r * 2 * D;
        const float *ys = s.YS + r * D, *z = s.XZ + r * 2 * D + D;
        for (int ch = 0; ch < D; ch++) {
            float sz = sigmoidf(z[ch]);
            dxz[D + ch] = dg[ch] * ys[ch] * (sz * (1.0f + z[ch] * (1.0f - sz)));
            dg[ch] = dg[ch] * (z[ch] * sz);
            dxz[ch] = 0.0f;
        }
    }
    for (int dir = 0; dir < m.ndir; dir++) {
        const float *grp = w + m.grp[dir];
        float *dgrp = dw + m.grp[dir];
        float *At = s.At + (size_t)dir * n * D;
        make_At(&m, grp + m.A_log, At);
        const float *XC = s.XC[dir], *DBC = s.DBC[dir], *DT = s.DT[dir], *CK = s.CK[dir];
        silu_rows(XC, s.XS, BN * D);
        memset(s.DU, 0, sizeof(float) * BN * D);
        memset(s.DDT, 0, sizeof(float) * BN * D);
        memset(s.DBCP, 0, sizeof(float) * (size_t)nblk * BN * 2 * n);
        const float *Dsk = grp + m.D_skip;
        #pragma omp parallel for collapse(2) schedule(static)
        for (int b = 0; b < B; b++)
            for (int blk = 0; blk < nblk; blk++) {
                const int L = xb_len(len, b, N), c0 = blk * XB_SELSCAN_CB;
                const int nc = xb_min(XB_SELSCAN_CB, D - c0);
                const ptrdiff_t ld = dir ? -(ptrdiff_t)D : D, ldbc = dir ? -(ptrdiff_t)P : P;
                const ptrdiff_t ldp = dir ? -(ptrdiff_t)(2 * n) : 2 * n;
                const size_t r0 = first_row(b, N, L, dir);
                float *bcp = s.DBCP + (size_t)blk * BN * 2 * n + r0 * 2 * n;
                xb_selscan_backward(L, nc, n, m.C, s.XS + r0 * D + c0, DT + r0 * D + c0, ld,
                                    DBC + r0 * P + m.R, DBC + r0 * P + m.R + n, ldbc, At + c0, D,
                                    Dsk + c0, CK + (size_t)b * nck * n * D + c0, D,
                                    s.DG + r0 * D + c0, s.DU + r0 * D + c0, s.DDT + r0 * D + c0,
                                    bcp, bcp + n, ldp, s.DAP + (size_t)b * n * D + c0, s.DDP + (size_t)b * D + c0,
                                    s.WORK + (size_t)xb_thread_id() * s.ws);
            }
        /* fixed-order reductions of the per-block / per-sequence partials */
        #pragma omp parallel for schedule(static)
        for (size_t r = 0; r < BN; r++) {
            float *dd = s.DDBC + r * P;
            for (int j = 0; j < 2 * n; j++) {
                float acc = 0.0f;
                for (int blk = 0; blk < nblk; blk++) acc += s.DBCP[(size_t)blk * BN * 2 * n + r * 2 * n + j];
                dd[m.R + j] = acc;
            }
        }
        {
            float *dAlog = dgrp + m.A_log, *dD = dgrp + m.D_skip;
            for (int ch = 0; ch < D; ch++) {
                for (int st = 0; st < n; st++) {
                    float acc = 0.0f;
                    for (int b = 0; b < B; b++) acc += s.DAP[(size_t)b * n * D + (size_t)st * D + ch];
                    dAlog[(size_t)ch * n + st] += acc * At[(size_t)st * D + ch];  /* dA_log = dA ⊙ A */
                }
                float acc = 0.0f;
                for (int b = 0; b < B; b++) acc += s.DDP[(size_t)b * D + ch];
                dD[ch] += acc;
            }
        }
        /* Δ = softplus(p): dp = dΔ ⊙ σ(p) = dΔ ⊙ (1 − e^{−Δ}); pad rows of DDT are 0 */
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < BN * D; i++) s.DDT[i] *= one_minus_exp_neg(DT[i]);
        float *dbdt = dgrp + m.b_dt;
        for (size_t r = 0; r < BN; r++)
            for (int ch = 0; ch < D; ch++) dbdt[ch] += s.DDT[r * D + ch];
        xb_gemm(1, 0, m.R, D, (int)BN, 1.0f, DBC, P, s.DDT, D, 1.0f, dgrp + m.W_dt, D);
        xb_gemm(0, 1, (int)BN, m.R, D, 1.0f, s.DDT, D, grp + m.W_dt, D, 0.0f, s.DDBC, P);
        xb_gemm(1, 0, D, P, (int)BN, 1.0f, s.XS, D, s.DDBC, P, 1.0f, dgrp + m.W_x, P);
        xb_gemm(0, 1, (int)BN, D, P, 1.0f, s.DDBC, P, grp + m.W_x, P, 1.0f, s.DU, D);
        /* silu': dxc = dxs ⊙ σ(xc)(1 + xc(1 − σ(xc))) in place in DU (pad rows stay 0) */
        #pragma omp parallel for schedule(static)
        for (size_t i = 0; i < BN * D; i++) {
            float sg = sigmoidf(XC[i]);
            s.DU[i] *= sg * (1.0f + XC[i] * (1.0f - sg));
        }
        /* conv: dx[src] += w[τ] ⊙ dxc[t] (each row gathers, so rows own their output) */
        const float *wc = grp + m.conv_w;
        #pragma omp parallel for collapse(2) schedule(static)
        for (int b = 0; b < B; b++)
            for (int t = 0; t < N; t++) {
                const int L = xb_len(len, b, N);
                if (t >= L) continue;
                float *dxr = s.DXZ + ((size_t)b * N + t) * 2 * D;
                for (int tau = 0; tau < m.k; tau++) {
                    int dst = dir == 0 ? t + tau : t - tau;   /* rows whose conv read row t */
                    if (dst < 0 || dst >= L) continue;
                    const float *g = s.DU + ((size_t)b * N + dst) * D, *wt = wc + (size_t)tau * D;
                    for (int ch = 0; ch < D; ch++) dxr[ch] = fmaf(wt[ch], g[ch], dxr[ch]);
                }
            }
        /* conv weight and bias: channel blocks own their columns, rows summed in order */
        float *dwc = dgrp + m.conv_w, *dbc = dgrp + m.b_conv;
        #pragma omp parallel for schedule(static)
        for (int blk = 0; blk < nblk; blk++) {
            const int c0 = blk * XB_SELSCAN_CB, c1 = xb_min(D, c0 + XB_SELSCAN_CB);
            for (int b = 0; b < B; b++) {
                const int L = xb_len(len, b, N);
                for (int t = 0; t < L; t++) {
                    const float *g = s.DU + ((size_t)b * N + t) * D;
                    for (int ch = c0; ch < c1; ch++) dbc[ch] += g[ch];
                    for (int tau = 0; tau < m.k; tau++) {
                        int src = dir == 0 ? t - tau : t + tau;
                        if (src < 0 || src >= L) continue;
                        const float *xr = s.XZ + ((size_t)b * N + src) * 2 * D;
                        float *dwt = dwc + (size_t)tau * D;
                        for (int ch = c0; ch < c1; ch++) dwt[ch] = fmaf(g[ch], xr[ch], dwt[ch]);
                    }
                }
            }
        }
    }
    xb_gemm(1, 0, d, 2 * D, (int)BN, 1.0f, x, d, s.DXZ, 2 * D, 1.0f, dw + m.W_in, 2 * D);
    xb_gemm(0, 1, (int)BN, d, 2 * D, 1.0f, s.DXZ, 2 * D, w + m.W_in, 2 * D, 0.0f, dx, d);
}

/* ---- FLOPs --------------------------------------------------------------------------- */

/* MIXERS.md §18, forward, one sequence. Counted:
 *   W_in 2·N·d·2D, W_out 2·N·D·d                  (= 6ENd² together)
 *   per direction: conv 2NDk, W_x 2ND(R+2n), W_dt 2NRD, scan 7NDn + NDn exps = 8NDn
 *   skip + gate 4ND (D_skip·x mul-add 2ND; silu(z) and the product 2ND), once.
 * Causal: 6ENd² + 2ND(k + R + 2n + R) + 8NDn + 4ND. Bidirectional adds the second direction's
 * conv/W_x/W_dt/scan terms, 2ND(k + R + 2n + R) + 8NDn, as §18 says; its D_skip mul-add and the
 * y→ + y← sum (3ND) are O(N·D) adds left out like biases (§0 "ignored"). Softplus, silu of the
 * conv output and biases are not counted (§18 does not list them). */
static double mamba_flops(const xb_mixer_cfg *c, int N)
{
    dims m = dims_of(c);
    double Nd = N, D = m.D, d = m.d, E = xb_cfg_int(c, OPT_EXPAND);
    double per_dir = 2.0 * Nd * D * (m.k + m.R + 2.0 * m.n + m.R) + 8.0 * Nd * D * m.n;
    return 6.0 * E * Nd * d * d + 4.0 * Nd * D + per_dir * m.ndir;
}

/* ---- reference (double, explicit loops, independent of core/selscan.c) ----------------- */

static double silu_d(double v) { return v / (1.0 + exp(-v)); }

static void mamba_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                            double *y, int B, int N)
{
    dims m = dims_of(c);
    const int d = m.d, D = m.D, n = m.n, R = m.R, P = m.P;
    double *xin = malloc(sizeof(double) * (size_t)N * D), *z = malloc(sizeof(double) * (size_t)N * D);
    double *xs = malloc(sizeof(double) * (size_t)N * D), *ysum = malloc(sizeof(double) * (size_t)N * D);
    double *h = malloc(sizeof(double) * (size_t)D * n), *dbc = malloc(sizeof(double) * P);
    double *delta = malloc(sizeof(double) * D);
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        const float *X = x + (size_t)b * N * d;
        for (int t = 0; t < L; t++)
            for (int j = 0; j < 2 * D; j++) {
                double acc = 0;
                for (int i = 0; i < d; i++) acc += (double)X[(size_t)t * d + i] * w[m.W_in + (size_t)i * 2 * D + j];
                if (j < D) xin[(size_t)t * D + j] = acc; else z[(size_t)t * D + j - D] = acc;
            }
        for (size_t i = 0; i < (size_t)N * D; i++) ysum[i] = 0;
        for (int dir = 0; dir < m.ndir; dir++) {
            const float *g = w + m.grp[dir];
            /* conv over real tokens: causal lags for dir 0, the same taps on the reversed sequence for dir 1 */
            for (int t = 0; t < L; t++)
                for (int ch = 0; ch < D; ch++) {
                    double acc = g[m.b_conv + ch];
                    for (int tau = 0; tau < m.k; tau++) {
                        int src = dir == 0 ? t - tau : t + tau;
                        if (src >= 0 && src < L) acc += (double)g[m.conv_w + (size_t)tau * D + ch] * xin[(size_t)src * D + ch];
                    }
                    xs[(size_t)t * D + ch] = silu_d(acc);
                }
            for (int i = 0; i < D * n; i++) h[i] = 0;
            for (int step = 0; step < L; step++) {
                const int t = dir == 0 ? step : L - 1 - step;
                const double *u = xs + (size_t)t * D;
                for (int j = 0; j < P; j++) {
                    double acc = 0;
                    for (int ch = 0; ch < D; ch++) acc += u[ch] * g[m.W_x + (size_t)ch * P + j];
                    dbc[j] = acc;
                }
                for (int ch = 0; ch < D; ch++) {
                    double p = g[m.b_dt + ch];
                    for (int r = 0; r < R; r++) p += dbc[r] * g[m.W_dt + (size_t)r * D + ch];
                    delta[ch] = p > 20 ? p : log1p(exp(p));
                }
                for (int ch = 0; ch < D; ch++) {
                    double yy = (double)g[m.D_skip + ch] * u[ch];
                    for (int st = 0; st < n; st++) {
                        double A = -exp((double)g[m.A_log + (size_t)ch * n + st]);
                        double *hs = &h[(size_t)ch * n + st];
                        *hs = exp(delta[ch] * A) * *hs + delta[ch] * dbc[R + st] * u[ch];
                        yy += dbc[R + n + st] * *hs;
                    }
                    ysum[(size_t)t * D + ch] += yy;
                }
            }
        }
        for (int t = 0; t < N; t++)
            for (int j = 0; j < d; j++) {
                double acc = 0;
                if (t < L)
                    for (int ch = 0; ch < D; ch++)
                        acc += ysum[(size_t)t * D + ch] * silu_d(z[(size_t)t * D + ch]) * w[m.W_out + (size_t)ch * d + j];
                y[((size_t)b * N + t) * d + j] = acc;
            }
    }
    free(xin); free(z); free(xs); free(ysum); free(h); free(dbc); free(delta);
}

/* ---- decode: the last k inputs of the conv (a ring) and the state h [D × n] ---- */

static size_t mamba_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = dims_of(c);
    return (size_t)m.k * m.D + (size_t)m.D * m.n;
}

/* x W_in [2D]; the conv's output u, then the gated output [D]; Δ [D]; the Δ, B, C projection [P] */
typedef struct dscr { float *xz, *u, *dt, *dbc; } dscr;

static size_t decode_plan(const dims *m, float *scratch, dscr *b)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->xz, 2 * (size_t)m->D, XB_SCR_PACKED);
    XB_TAKE(&s, b->u, (size_t)m->D, XB_SCR_PACKED);
    XB_TAKE(&s, b->dt, (size_t)m->D, XB_SCR_PACKED);
    XB_TAKE(&s, b->dbc, (size_t)m->P, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t mamba_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = dims_of(c);
    dscr b;
    return decode_plan(&m, NULL, &b);
}

static void mamba_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                              float *state, float *y, float *scratch)
{
    (void)n_max;
    dims m = dims_of(c);
    const int D = m.D, n = m.n, R = m.R, K = m.k;
    const float *g = w + m.grp[0];
    float *hist = state, *h = state + (size_t)K * D;
    dscr sc;
    decode_plan(&m, scratch, &sc);
    float *xz = sc.xz, *u = sc.u, *dt = sc.dt, *dbc = sc.dbc;
    xb_gemm(0, 0, 1, 2 * D, m.d, 1.0f, x, m.d, w + m.W_in, 2 * D, 0.0f, xz, 2 * D);
    memcpy(hist + (size_t)(t % K) * D, xz, (size_t)D * sizeof(float));
    for (int ch = 0; ch < D; ch++) {   /* causal conv over the ring, lag tau = slot (t − tau) mod k */
        float acc = g[m.b_conv + ch];
        for (int tau = 0; tau < K && tau <= t; tau++)
            acc += g[m.conv_w + (size_t)tau * D + ch] * hist[(size_t)((t - tau) % K) * D + ch];
        u[ch] = acc / (1 + expf(-acc));
    }
    xb_gemm(0, 0, 1, m.P, D, 1.0f, u, D, g + m.W_x, m.P, 0.0f, dbc, m.P);
    memcpy(dt, g + m.b_dt, (size_t)D * sizeof(float));
    xb_gemm(0, 0, 1, D, R, 1.0f, dbc, m.P, g + m.W_dt, D, 1.0f, dt, D);
    for (int ch = 0; ch < D; ch++) {
        const float p = dt[ch], delta = p > 20 ? p : log1pf(expf(p));
        float yy = g[m.D_skip + ch] * u[ch];
        float *hc = h + (size_t)ch * n;
        for (int st = 0; st < n; st++) {
            const float A = -expf(g[m.A_log + (size_t)ch * n + st]);
            hc[st] = expf(delta * A) * hc[st] + delta * dbc[R + st] * u[ch];
            yy += dbc[R + n + st] * hc[st];
        }
        const float z = xz[D + ch];
        u[ch] = yy * z / (1 + expf(-z));   /* u is free again: the gated output */
    }
    xb_gemm(0, 0, 1, m.d, D, 1.0f, u, D, w + m.W_out, m.d, 0.0f, y, m.d);
}

/* What xbench dump states beyond the tensors: no heads, so every other matrix is plain. */
static const char *mamba_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    const char *n = t->name;
    if (!strncmp(n, "conv", 4)) return XB_LAYOUT_CONV;
    if (!strncmp(n, "A_log", 5)) return "(D, n) row-major: A[c][s] = -exp(A_log[c][s]), channel c, state s";
    if (!strcmp(n, "W_in")) return "(in, out) row-major: [x ; z] = X W_in, x = columns [0, D), z = columns [D, 2D)";
    if (!strncmp(n, "W_x", 3))
        return "(in, out) row-major: [delta ; B ; C] = xs W_x, columns [0, R), [R, R+n), [R+n, R+2n)";
    return XB_LAYOUT_PLAIN;
}

static void mamba_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_text(f, "conv_taps", "(k, C) lag order: out_t[c] = sum_tau w[tau][c] z_{t-tau}[c], zero history");
    if (!c->causal) xb_fact_text(f, "bidirectional", "y = (y_fwd + y_rev) * silu(z); each direction adds its own D_skip * x");
}

const xb_mixer xb_mixer_mamba = {
    .name = "mamba",
    .family = "ssm",
    .cite = "Gu & Dao 2023, Mamba: Linear-Time Sequence Modeling with Selective State Spaces",
    .complexity = "N",
    XB_OPTS(mamba_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = mamba_defaults,
    .check = mamba_check,
    .tensors = mamba_tensors,
    .init = mamba_init,
    .n_saved = mamba_n_saved,
    .n_scratch = mamba_n_scratch,
    .forward = mamba_forward,
    .backward = mamba_backward,
    .flops = mamba_flops,
    .reference = mamba_reference,
    .decode_state = mamba_decode_state,
    .decode_scratch = mamba_decode_scratch,
    .decode_step = mamba_decode_step,
    .layout = mamba_layout,
    .facts = mamba_facts,
};
