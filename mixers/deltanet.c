/* mixers/deltanet.c — `deltanet`: DeltaNet, delta-rule linear attention (Yang et al. 2024,
 * MIXERS.md §17; checked against fla's layers/delta_net.py and ops/delta_rule/naive.py).
 *
 *   P_{q,k,v} = X W_{Q,K,V} (d×d); q,k,v = silu(conv(P)) with depthwise conv taps conv_* [K,d]
 *   in lag order (conv(z)_t = Σ_τ w[τ] ⊙ z_{t−τ}, zero history, no bias; K = option `conv`, 4);
 *   per head q̂ = q/‖q‖·d_h^{-1/2}, k̂ = k/‖k‖ (‖·‖ = sqrt(Σ² + 1e-6)); β = σ(X W_beta) [h];
 *   S_t = S_{t−1} + k̂_t (β_t (v_t − S_{t−1}ᵀk̂_t))ᵀ,  o_t = S_tᵀ q̂_t;
 *   Y = RMSNorm_head(o) W_O, RMSNorm weight norm_w [d_h], ε = 1e-5.
 * Bidirectional (§32): P and β once; each direction applies the conv in its own time direction
 * (anti-causal taps for the reverse scan: conv(z)_t = Σ_τ w[τ] z_{t+τ}, zero beyond len[b]),
 * its own silu / L2 norm and scan (the reverse one starting at len[b]−1); o = o→ + o← before
 * the norm.
 * Form: forward is the chunked WY form of core/deltarule.c (§17 CPU form, chunk C = option
 * `chunk`, default 64), which also writes the state entering each chunk; with fewer scans
 * (B × heads) than threads, in its split form, so the chunks' state-free products and outputs
 * spread over every thread and only the state chain stays one thread per scan; backward is the
 * recurrent reverse scan, recomputing the states within each chunk from those checkpoints
 * (the recurrent forward kernel stays as the test oracle). flops() counts the chunked form.
 *
 * saved (region-major over the batch): P_q, P_k, P_v [N×d], β [N×h], o [N×d] (pre-norm, both
 * directions summed), rstd [N×h], then checkpoints [dirs×h×nchunks×d_h×d_h] per sequence. */
#include <math.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/chunkscan.h"
#include "core/deltarule.h"
#include "core/gemm.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define DN_EPS 1e-5f    /* RMSNorm ε */
#define DN_L2EPS 1e-6f  /* L2 normalisation ε (inside the sqrt) */

enum { OPT_CHUNK, OPT_CONV };
static const xb_mixer_opt dn_opts[] = {
    [OPT_CHUNK] = {.name = "chunk", .type = XB_OPT_INT, .min = 1, .max = 65536, .def = 64,
                   .help = "chunk size C of the chunked delta rule"},
    [OPT_CONV] = {.name = "conv", .type = XB_OPT_INT, .min = 1, .max = 1024, .def = 4,
                  .help = "kernel of the short depthwise conv on q, k and v"},
};

typedef struct dims { int d, h, dh, C, K, dirs; } dims;

static dims get_dims(const xb_mixer_cfg *c)
{
    dims m = {c->d, c->heads, c->d / c->heads, xb_cfg_int(c, OPT_CHUNK), xb_cfg_int(c, OPT_CONV), c->causal ? 1 : 2};
    return m;
}

static int dn_check(const xb_mixer_cfg *c, char *err, size_t n)
{
    if (c->heads < 1 || c->d % c->heads) {
        snprintf(err, n, "heads: must divide d = %d, got %d", c->d, c->heads); return XB_EINVAL;
    }
    return 0;
}

enum { T_WQ, T_WK, T_WV, T_CQ, T_CK, T_CV, T_WB, T_NW, T_WO, T_COUNT };

static int dn_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    dims m = get_dims(c);
    const xb_tensor t[T_COUNT] = {
        {"W_Q", 0, m.d, m.d, XB_T_DECAY},    {"W_K", 0, m.d, m.d, XB_T_DECAY},
        {"W_V", 0, m.d, m.d, XB_T_DECAY},    {"conv_q", 0, m.K, m.d, XB_T_DECAY},
        {"conv_k", 0, m.K, m.d, XB_T_DECAY}, {"conv_v", 0, m.K, m.d, XB_T_DECAY},
        {"W_beta", 0, m.d, m.h, XB_T_DECAY}, {"norm_w", 0, m.dh, 1, 0},
        {"W_O", 0, m.d, m.d, XB_T_DECAY},
    };
    size_t off = 0;
    for (int i = 0; i < T_COUNT; i++) {
        if (out) { out[i] = t[i]; out[i].offset = off; }
        off += (size_t)t[i].rows * t[i].cols;
    }
    return T_COUNT;
}

static size_t toff(const xb_mixer_cfg *c, int i)
{
    xb_tensor t[XB_MAX_TENSORS];
    dn_tensors(c, t);
    return t[i].offset;
}

/* Conv taps are the depthwise conv1d weights; PyTorch's default bound for them is
 * 1/sqrt(fan_in) with fan_in = K, which xb_init_uniform over (K rows) gives. */
static void dn_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = dn_tensors(c, t);
    for (int i = 0; i < n; i++) {
        float *p = w + t[i].offset;
        if (i == T_NW) for (int j = 0; j < t[i].rows; j++) p[j] = 1.0f;
        else xb_init_uniform(p, t[i].rows, t[i].cols, rng);
    }
}

static size_t ckpt_per_seq(const dims *m, int N)
{
    return (size_t)m->dirs * m->h * xb_deltarule_nchunks(N, m->C) * m->dh * m->dh;
}

static size_t dn_n_saved(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c);
    return (size_t)N * (4 * m.d + 2 * m.h) + ckpt_per_seq(&m, N);
}

typedef struct sv { float *P[3], *beta, *o, *rstd, *ck; } sv;

static sv get_sv(const dims *m, float *s, int B, int N)
{
    const size_t R = (size_t)B * N;
    sv p;
    for (int a = 0; a < 3; a++) { p.P[a] = s; s += R * m->d; }
    p.beta = s; s += R * m->h; p.o = s; s += R * m->d; p.rstd = s; s += R * m->h; p.ck = s;
    return p;
}

static xb_proj in_proj(const dims *m);
static int use_split(const dims *m, int B);

/* Scratch: first the backward's 15 R × d and 3 R × h buffers, or the forward's split scans'
 * slots (when use_split); then `work`, which holds in turn the packed input weights and the
 * projections' per-thread blocks, the scans' per-thread work (forward and backward), and the
 * output projection's blocks; then 64 floats of room the size has always had (kept:
 * bytes_analytic records it). */
typedef struct scr {
    float *dym, *U, *dO, *Z[3], *Act[3], *dAct[3], *dP[3], *nrm[2], *dbeta;   /* backward */
    float *store;                                                             /* split forward */
    float *wp, *tmp, *work, *otmp;
    size_t wsz, per;
} scr;

static size_t scratch_plan(const dims *m, float *scratch, int B, int N, scr *b)
{
    const size_t R = (size_t)B * N, d = (size_t)m->d;
    xb_proj p = in_proj(m);
    xb_scratch s = xb_scratch_at(scratch);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, b->dym, R * d, XB_SCR_PACKED);
    XB_TAKE(&s, b->U, R * d, XB_SCR_PACKED);
    XB_TAKE(&s, b->dO, R * d, XB_SCR_PACKED);
    for (int a = 0; a < 3; a++) XB_TAKE(&s, b->Z[a], R * d, XB_SCR_PACKED);
    for (int a = 0; a < 3; a++) XB_TAKE(&s, b->Act[a], R * d, XB_SCR_PACKED);
    for (int a = 0; a < 3; a++) XB_TAKE(&s, b->dAct[a], R * d, XB_SCR_PACKED);
    for (int a = 0; a < 3; a++) XB_TAKE(&s, b->dP[a], R * d, XB_SCR_PACKED);
    XB_TAKE(&s, b->nrm[0], R * m->h, XB_SCR_PACKED);
    XB_TAKE(&s, b->nrm[1], R * m->h, XB_SCR_PACKED);
    XB_TAKE(&s, b->dbeta, R * m->h, XB_SCR_PACKED);
    xb_scratch_union_next(&s, &u);
    XB_TAKE_SLICES(&s, b->store, use_split(m, B) ? (size_t)B * m->h : 0,
                   xb_deltarule_split_floats(N, m->C, m->dh), XB_SCR_PACKED, &b->per);
    xb_scratch_union_end(&s, &u);
    u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, b->wp, xb_align64(xb_proj_floats(&p)), XB_SCR_PACKED);
    XB_TAKE(&s, b->tmp, xb_proj_block_floats(&p), XB_SCR_PACKED);
    xb_scratch_union_next(&s, &u);
    XB_TAKE_THREADS(&s, b->work, xb_align64(xb_deltarule_work(m->C, m->dh)), XB_SCR_PACKED, &b->wsz);
    xb_scratch_union_next(&s, &u);
    xb_proj po = xb_proj_make(m->d, 1, &m->d);
    XB_TAKE(&s, b->otmp, xb_proj_block_floats(&po), XB_SCR_PACKED);
    xb_scratch_union_end(&s, &u);
    xb_scratch_pad(&s, 64);
    return xb_scratch_floats(&s);
}

static size_t dn_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    dims m = get_dims(c);
    scr b;
    return scratch_plan(&m, NULL, B, N, &b);
}

static inline float sigm(float z) { return xb_vsigmoid(z); }   /* core/vmath.h: vectorises */

/* One direction's activations for every real row: Z[a] = conv(P[a]) (if Z != NULL),
 * Act[0] = q̂ (scaled), Act[1] = k̂, Act[2] = v; nrm[0/1] [R×h] = the L2 norms of q and k.
 * Rows ≥ len[b] are set to 0. dir 1 uses the anti-causal conv. */
#define LANES 16
typedef float v16f __attribute__((vector_size(LANES * sizeof(float))));   /* GCC vector extension */

/* One row of the short conv + SiLU: z[j] = Σ_τ w_τ[j] · P_src[j] (τ ascending, src = t ∓ τ inside
 * [0, L)), A = z ⊙ σ(z), z copied to Z when kept. Columns in register blocks of LANES (one pass
 * over A instead of K + 1); mul then add in τ order as the plain loop, so values are unchanged. */
static void conv_row(float *restrict A, float *restrict Zr, const float *restrict Pb,
                     const float *restrict taps, int t, int L, int K, int n, int ld, int dir)
{
    int j = 0;
    for (; j + LANES <= n; j += LANES) {
        v16f acc = {0};
        for (int tau = 0; tau < K; tau++) {
            int src = dir ? t + tau : t - tau;
            if (src < 0 || src >= L) continue;
            v16f p, w;
            memcpy(&p, Pb + (size_t)src * ld + j, sizeof p);
            memcpy(&w, taps + (size_t)tau * ld + j, sizeof w);
            acc += w * p;
        }
        memcpy(A + j, &acc, sizeof acc);
    }
    for (; j < n; j++) {
        float z = 0.0f;
        for (int tau = 0; tau < K; tau++) {
            int src = dir ? t + tau : t - tau;
            if (src < 0 || src >= L) continue;
            z += taps[(size_t)tau * ld + j] * Pb[(size_t)src * ld + j];
        }
        A[j] = z;
    }
    if (Zr) memcpy(Zr, A, (size_t)n * sizeof(float));
    for (j = 0; j < n; j++) A[j] *= sigm(A[j]);
}

/* Σ x[j]² in LANES fixed partial sums added in order (vectorises; deterministic). */
static float sumsq(const float *x, int n)
{
    float part[LANES] = {0};
    int j = 0;
    for (; j + LANES <= n; j += LANES)
        for (int l = 0; l < LANES; l++) part[l] += x[j + l] * x[j + l];
    for (int l = 0; j + l < n; l++) part[l] += x[j + l] * x[j + l];
    float s = 0.0f;
    for (int l = 0; l < LANES; l++) s += part[l];
    return s;
}

/* x ← f·x/‖x‖ with ‖x‖ = sqrt(Σx² + eps); returns ‖x‖. */
static float l2_scale(float *x, int n, float f)
{
    const float nrm = sqrtf(sumsq(x, n) + DN_L2EPS), g = f / nrm;
    for (int j = 0; j < n; j++) x[j] *= g;
    return nrm;
}

static void dir_acts(const dims *m, const sv *s, const float *const taps[3], int dir, const int *len,
                     int B, int N, float *const Z[3], float *const Act[3], float *const nrm[2])
{
    const int d = m->d, K = m->K;
    const float scale = 1.0f / sqrtf((float)m->dh);
    #pragma omp parallel for schedule(static)
    for (int row = 0; row < B * N; row++) {
        const int b = row / N, t = row % N, L = xb_len(len, b, N);
        for (int a = 0; a < 3; a++) {
            float *A = Act[a] + (size_t)row * d;
            if (t >= L) {
                memset(A, 0, (size_t)d * sizeof(float));
                if (Z) memset(Z[a] + (size_t)row * d, 0, (size_t)d * sizeof(float));
                continue;
            }
            conv_row(A, Z ? Z[a] + (size_t)row * d : NULL, s->P[a] + (size_t)b * N * d, taps[a],
                     t, L, K, d, d, dir);
            if (a == 2) continue;
            for (int hh = 0; hh < m->h; hh++) {
                float n = l2_scale(A + (size_t)hh * m->dh, m->dh, a == 0 ? scale : 1.0f);
                if (nrm) nrm[a][(size_t)row * m->h + hh] = n;
            }
        }
    }
}

/* The forward's rows of one (sequence, head), made inside the scan (core/deltarule.h) from P:
 * the same conv_row, SiLU and l2_scale on the head's columns as dir_acts, so the same values,
 * without the activations' pass through memory. */
typedef struct head_rows {
    const dims *m;
    const float *P[3], *taps[3];   /* the head's first column of P (sequence b) and taps */
    int L, dir;
    float scale;
} head_rows;

#define PF 8
static void make_head_rows(void *ctx, int t, float *q, float *k, float *v)
{
    const head_rows *h = ctx;
    const dims *m = h->m;
    float *out[3] = {q, k, v};
    /* the head's part of every row, a stride the hardware prefetcher loses: PF steps ahead */
    const int ahead = h->dir ? t - PF : t + PF;
    if (ahead >= 0 && ahead < h->L)
        for (int a = 0; a < 3; a++) xb_prefetch(h->P[a] + (size_t)ahead * m->d, m->dh);
    for (int a = 0; a < 3; a++)
        conv_row(out[a], NULL, h->P[a], h->taps[a], t, h->L, m->K, m->dh, m->d, h->dir);
    l2_scale(q, m->dh, h->scale);
    l2_scale(k, m->dh, 1.0f);
}

static void taps_of(const xb_mixer_cfg *c, const float *w, const float *taps[3])
{
    taps[0] = w + toff(c, T_CQ); taps[1] = w + toff(c, T_CK); taps[2] = w + toff(c, T_CV);
}

/* The backward scans of one direction, every (sequence, head): gradients accumulated. */
static void scan_bwd(const dims *m, const sv *s, float *const Act[3], int dir, const int *len, int B,
                     int N, float *work, size_t wsz, const float *dO, float *const dAct[3], float *dbeta)
{
    const int nch = xb_deltarule_nchunks(N, m->C);
    #pragma omp parallel for schedule(static)
    for (int task = 0; task < B * m->h; task++) {
        const int b = task / m->h, hh = task % m->h;
        xb_deltarule p = {.L = xb_len(len, b, N), .dh = m->dh, .C = m->C, .ld = m->d, .ldb = m->h, .reverse = dir};
        const size_t r = (size_t)b * N * m->d + (size_t)hh * m->dh, rb = (size_t)b * N * m->h + hh;
        const float *ck = s->ck + (((size_t)b * m->dirs + dir) * m->h + hh) * nch * m->dh * m->dh;
        xb_deltarule_backward(&p, Act[0] + r, Act[1] + r, Act[2] + r, s->beta + rb, ck, dO + r,
                              dAct[0] + r, dAct[1] + r, dAct[2] + r, dbeta + rb,
                              work + (size_t)xb_thread_id() * wsz);
    }
}

/* One forward scan's task (sequence b, head hh): its row maker and scan parameters. */
static void scan_task(const dims *m, const sv *s, const float *const taps[3], int dir, const int *len,
                      int N, int task, head_rows *h, xb_deltarule *p, size_t *pb, const float **beta, float **ck)
{
    const int b = task / m->h, hh = task % m->h, nch = xb_deltarule_nchunks(N, m->C);
    const size_t c0 = (size_t)hh * m->dh;
    *pb = (size_t)b * N * m->d + c0;
    *h = (head_rows){m, {s->P[0] + *pb, s->P[1] + *pb, s->P[2] + *pb},
                     {taps[0] + c0, taps[1] + c0, taps[2] + c0}, xb_len(len, b, N), dir,
                     1.0f / sqrtf((float)m->dh)};
    *p = (xb_deltarule){.L = h->L, .dh = m->dh, .C = m->C, .ld = m->d, .ldb = m->h, .reverse = dir};
    *beta = s->beta + (size_t)b * N * m->h + hh;
    *ck = s->ck + (((size_t)b * m->dirs + dir) * m->h + hh) * nch * m->dh * m->dh;
}

/* Fewer scans (B × heads) than threads: the split form (core/deltarule.h), so that the chunks'
 * state-free and output products spread over every thread, not only B × heads of them. Each
 * chunk computes what the fused form does, so the bits do not depend on the choice. */
static int use_split(const dims *m, int B) { return B * m->h < xb_max_threads(); }

/* Step 1 (state-free products) or 3 (outputs) of the split form for every chunk of every scan,
 * shared by the team of the enclosing parallel region (`wk`: this thread's work). */
static void split_chunks(int step, const dims *m, const sv *s, const float *const taps[3], int dir,
                         const int *len, int B, int N, float *store, size_t per, float *wk)
{
    const int nch = xb_deltarule_nchunks(N, m->C);
    #pragma omp for schedule(dynamic, 4)
    for (int it = 0; it < B * m->h * nch; it++) {
        const int task = it / nch, j = it % nch;
        head_rows h; xb_deltarule p; size_t pb; const float *beta; float *ck;
        scan_task(m, s, taps, dir, len, N, task, &h, &p, &pb, &beta, &ck);
        if (j >= xb_deltarule_nchunks(p.L, p.C)) continue;
        if (step == 1) xb_deltarule_split_prep(&p, make_head_rows, &h, beta, j, store + (size_t)task * per, wk);
        else xb_deltarule_split_out(&p, j, store + (size_t)task * per, s->o + pb, dir);
    }
}

/* The forward scans of one direction, each making its q̂, k̂, v rows from P as it goes. `store`:
 * the split form's slots, B·h·xb_deltarule_split_floats(N, C, dh) floats (when use_split). */
static void scan_fwd(const dims *m, const sv *s, const float *const taps[3], int dir, const int *len,
                     int B, int N, float *work, size_t wsz, float *store)
{
    const int ntask = B * m->h;
    if (!use_split(m, B)) {
        #pragma omp parallel for schedule(static)
        for (int task = 0; task < ntask; task++) {
            head_rows h; xb_deltarule p; size_t pb; const float *beta; float *ck;
            scan_task(m, s, taps, dir, len, N, task, &h, &p, &pb, &beta, &ck);
            xb_deltarule_forward_chunked_rows(&p, make_head_rows, &h, beta, s->o + pb, dir, ck,
                                              work + (size_t)xb_thread_id() * wsz);
        }
        return;
    }
    const size_t per = xb_deltarule_split_floats(N, m->C, m->dh);
    #pragma omp parallel
    {
        float *wk = work + (size_t)xb_thread_id() * wsz;
        split_chunks(1, m, s, taps, dir, len, B, N, store, per, wk);
        #pragma omp for schedule(static)
        for (int task = 0; task < ntask; task++) {
            head_rows h; xb_deltarule p; size_t pb; const float *beta; float *ck;
            scan_task(m, s, taps, dir, len, N, task, &h, &p, &pb, &beta, &ck);
            xb_deltarule_split_chain(&p, store + (size_t)task * per, ck, wk);
        }
        split_chunks(3, m, s, taps, dir, len, B, N, store, per, wk);
    }
}

/* The input projections P_q, P_k, P_v and the β logits as one product (core/proj.c). */
static xb_proj in_proj(const dims *m)
{
    const int cols[4] = {m->d, m->d, m->d, m->h};
    return xb_proj_make(m->d, 4, cols);
}

typedef struct proj_job { const xb_proj *p; const sv *s; } proj_job;

/* One block of projected rows, still in cache: P_q, P_k, P_v to their saved arrays, β = σ(·). */
static void proj_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    const proj_job *j = arg;
    const xb_proj *p = j->p;
    float *dst[4] = {j->s->P[0], j->s->P[1], j->s->P[2], j->s->beta};
    xb_proj_scatter(p, r0, rows, y, ldy, dst);
    float *beta = j->s->beta + (size_t)r0 * p->cols[3];
    for (size_t i = 0; i < (size_t)rows * p->cols[3]; i++) beta[i] = sigm(beta[i]);
}

typedef struct norm_job { const dims *m; const sv *s; const float *nw; } norm_job;

/* Rows [r0, r0 + rows) of RMSNorm_head(o)·norm_w (rstd saved), for the output projection. */
static void norm_prologue(int r0, int rows, float *u, int ldu, void *arg)
{
    const norm_job *j = arg;
    XB_ASSERT(ldu == j->m->d);
    xb_headrms_forward(rows, j->m->h, j->m->dh, j->s->o + (size_t)r0 * ldu, j->nw, DN_EPS, u,
                       j->s->rstd + (size_t)r0 * j->m->h);
}

static void dn_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                       float *y, float *saved, float *scratch, int B, int N)
{
    dims m = get_dims(c);
    sv s = get_sv(&m, saved, B, N);
    const int R = B * N, d = m.d;
    const float *W[3] = {w + toff(c, T_WQ), w + toff(c, T_WK), w + toff(c, T_WV)}, *taps[3];
    taps_of(c, w, taps);
    scr sc;
    scratch_plan(&m, scratch, B, N, &sc);
    {   /* P_q, P_k, P_v and β = σ(X W_beta) as one product; its buffers live in `work` until the scans */
        xb_proj p = in_proj(&m);
        float *wp = sc.wp, *tmp = sc.tmp;
        const float *ws[4] = {W[0], W[1], W[2], w + toff(c, T_WB)};
        xb_proj_pack(&p, ws, wp);
        proj_job job = {&p, &s};
        xb_proj_forward(&p, R, x, d, wp, NULL, 0, tmp, proj_epilogue, &job);
    }
    for (int dir = 0; dir < m.dirs; dir++) scan_fwd(&m, &s, taps, dir, len, B, N, sc.work, sc.wsz, sc.store);
    xb_zero_pad_rows(s.o, len, B, N, d);
    /* Y = RMSNorm_head(o) W_O, the norm made per block of rows right before its product */
    xb_proj po = xb_proj_make(d, 1, &d);
    norm_job nj = {&m, &s, w + toff(c, T_NW)};
    xb_proj_forward_rows(&po, R, norm_prologue, &nj, w + toff(c, T_WO), y, d, sc.otmp, NULL, NULL);
    xb_zero_pad_rows(y, len, B, N, d);
}

static void dn_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                        int B, int N)
{
    dims m = get_dims(c);
    sv s = get_sv(&m, (float *)saved, B, N);   /* read only */
    const size_t R = (size_t)B * N;
    const int d = m.d, K = m.K;
    const float *W[3] = {w + toff(c, T_WQ), w + toff(c, T_WK), w + toff(c, T_WV)}, *taps[3];
    const float *nw = w + toff(c, T_NW), *WO = w + toff(c, T_WO), *Wb = w + toff(c, T_WB);
    float *dW[3] = {dw + toff(c, T_WQ), dw + toff(c, T_WK), dw + toff(c, T_WV)};
    float *dtaps[3] = {dw + toff(c, T_CQ), dw + toff(c, T_CK), dw + toff(c, T_CV)};
    taps_of(c, w, taps);
    scr sc;
    scratch_plan(&m, scratch, B, N, &sc);
    float *dym = sc.dym, *U = sc.U, *dO = sc.dO, *dbeta = sc.dbeta, *work = sc.work;
    float *const *Z = sc.Z, *const *Act = sc.Act, *const *dAct = sc.dAct, *const *dP = sc.dP;
    float *const *nrm = sc.nrm;
    const size_t wsz = sc.wsz;

    memcpy(dym, dy, R * d * sizeof(float));
    xb_zero_pad_rows(dym, len, B, N, d);
    /* Y = U W_O, U = RMSNorm(o) */
    for (size_t i = 0; i < R * m.h; i++)
        for (int j = 0; j < m.dh; j++) U[i * m.dh + j] = s.o[i * m.dh + j] * s.rstd[i] * nw[j];
    xb_gemm(1, 0, d, d, (int)R, 1.0f, U, d, dym, d, 1.0f, dw + toff(c, T_WO), d);
    xb_gemm(0, 1, (int)R, d, d, 1.0f, dym, d, WO, d, 0.0f, dO, d);
    xb_headrms_backward((int)R, m.h, m.dh, s.o, nw, s.rstd, dO, dO, dw + toff(c, T_NW));

    for (int a = 0; a < 3; a++) memset(dP[a], 0, R * d * sizeof(float));
    memset(dbeta, 0, R * m.h * sizeof(float));
    const float scale = 1.0f / sqrtf((float)m.dh);
    for (int dir = 0; dir < m.dirs; dir++) {
        dir_acts(&m, &s, taps, dir, len, B, N, Z, Act, nrm);
        for (int a = 0; a < 3; a++) memset(dAct[a], 0, R * d * sizeof(float));
        scan_bwd(&m, &s, Act, dir, len, B, N, work, wsz, dO, dAct, dbeta);
        /* through the L2 norms and silu: dAct becomes dZ in place */
        #pragma omp parallel for schedule(static)
        for (size_t row = 0; row < R; row++)
            for (int a = 0; a < 3; a++) {
                float *g = dAct[a] + row * d;
                const float *z = Z[a] + row * d, *y = Act[a] + row * d;
                if (a < 2)
                    for (int hh = 0; hh < m.h; hh++) {   /* ŷ = f·u/n: du = f(dŷ − y(y·dŷ)/f²)/n */
                        const float f = a == 0 ? scale : 1.0f, n = nrm[a][row * m.h + hh];
                        float *gh = g + (size_t)hh * m.dh;
                        const float *yh = y + (size_t)hh * m.dh;
                        float dot = 0.0f;
                        for (int j = 0; j < m.dh; j++) dot += yh[j] * gh[j];
                        for (int j = 0; j < m.dh; j++) gh[j] = f * (gh[j] - yh[j] * dot / (f * f)) / n;
                    }
                for (int j = 0; j < d; j++) {
                    float sg = sigm(z[j]);
                    g[j] *= sg * (1.0f + z[j] * (1.0f - sg));
                }
            }
        /* conv: each dP row gathers the rows that read it (owner-computes) */
        #pragma omp parallel for schedule(static)
        for (int row = 0; row < (int)R; row++) {
            const int b = row / N, t = row % N, L = xb_len(len, b, N);
            if (t >= L) continue;
            for (int a = 0; a < 3; a++) {
                float *o = dP[a] + (size_t)row * d;
                for (int tau = 0; tau < K; tau++) {
                    int dst = dir ? t - tau : t + tau;
                    if (dst < 0 || dst >= L) continue;
                    const float *g = dAct[a] + ((size_t)b * N + dst) * d, *wt = taps[a] + (size_t)tau * d;
                    for (int j = 0; j < d; j++) o[j] += wt[j] * g[j];
                }
            }
        }
        /* tap gradients: each thread owns a block of channels and walks the rows in order
         * (contiguous inner loop over its channels; the per-channel order is fixed) */
        const int JB = (d + xb_max_threads() * 16 - 1) / (xb_max_threads() * 16) * 16, nblk = (d + JB - 1) / JB;
        #pragma omp parallel for schedule(static)
        for (int blk = 0; blk < nblk; blk++) {
            const int j0 = blk * JB, j1 = xb_min(d, j0 + JB);
            for (int b = 0; b < B; b++) {
                const int L = xb_len(len, b, N);
                for (int t = 0; t < L; t++)
                    for (int a = 0; a < 3; a++) {
                        const float *g = dAct[a] + ((size_t)b * N + t) * d;
                        for (int tau = 0; tau < K; tau++) {
                            int src = dir ? t + tau : t - tau;
                            if (src < 0 || src >= L) continue;
                            const float *Pr = s.P[a] + ((size_t)b * N + src) * d;
                            float *dt = dtaps[a] + (size_t)tau * d;
                            for (int j = j0; j < j1; j++) dt[j] += g[j] * Pr[j];
                        }
                    }
            }
        }
    }
    /* β = σ(X W_beta) */
    for (size_t i = 0; i < R * m.h; i++) dbeta[i] *= s.beta[i] * (1.0f - s.beta[i]);
    xb_gemm(1, 0, d, m.h, (int)R, 1.0f, x, d, dbeta, m.h, 1.0f, dw + toff(c, T_WB), m.h);
    xb_gemm(0, 1, (int)R, d, m.h, 1.0f, dbeta, m.h, Wb, m.h, 0.0f, dx, d);
    for (int a = 0; a < 3; a++) {
        xb_gemm(1, 0, d, d, (int)R, 1.0f, x, d, dP[a], d, 1.0f, dW[a], d);
        xb_gemm(0, 1, (int)R, d, d, 1.0f, dP[a], d, W[a], d, 1.0f, dx, d);
    }
    xb_zero_pad_rows(dx, len, B, N, d);
}

/* MIXERS.md §17, chunked (WY) form, the one compiled: 8Nd² + 2Nhd + [6K·Nd (convs; 24Nd at
 * K = 4) + 4Nd (norms) + N·h·(10C·d_h + C²/3 + 6d_h²) (scan)] per direction: bidirectional
 * mode runs convs, norms and scan twice (§32). */
static double dn_flops(const xb_mixer_cfg *c, int N)
{
    dims m = get_dims(c);
    const double n = N, d = m.d, C = m.C, dh = m.dh;
    double per_dir = 6.0 * m.K * n * d + 4 * n * d + n * m.h * (10 * C * dh + C * C / 3 + 6 * dh * dh);
    return 8 * n * d * d + 2 * n * m.h * d + m.dirs * per_dir;
}

/* Naive double forward: projections, explicit convs per direction, silu, L2 norms, the
 * delta-rule recurrence, RMSNorm, output projection. */
static void dn_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         double *y, int B, int N)
{
    dims m = get_dims(c);
    const int d = m.d, dh = m.dh, K = m.K;
    const float *W[3] = {w + toff(c, T_WQ), w + toff(c, T_WK), w + toff(c, T_WV)}, *taps[3];
    const float *Wb = w + toff(c, T_WB), *nw = w + toff(c, T_NW), *WO = w + toff(c, T_WO);
    taps_of(c, w, taps);
    double *P = calloc((size_t)3 * N * d, sizeof(double)), *A = calloc((size_t)3 * N * d, sizeof(double));
    double *beta = calloc((size_t)N * m.h, sizeof(double)), *o = calloc((size_t)N * d, sizeof(double));
    double *S = calloc((size_t)dh * dh, sizeof(double)), *u = calloc(dh, sizeof(double));
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        const float *X = x + (size_t)b * N * d;
        for (int t = 0; t < L; t++) {
            for (int a = 0; a < 3; a++)
                for (int j = 0; j < d; j++) {
                    double s = 0;
                    for (int i = 0; i < d; i++) s += (double)X[t * d + i] * W[a][i * d + j];
                    P[((size_t)a * N + t) * d + j] = s;
                }
            for (int hh = 0; hh < m.h; hh++) {
                double s = 0;
                for (int i = 0; i < d; i++) s += (double)X[t * d + i] * Wb[i * m.h + hh];
                beta[t * m.h + hh] = 1 / (1 + exp(-s));
            }
        }
        memset(o, 0, (size_t)N * d * sizeof(double));
        for (int dir = 0; dir < m.dirs; dir++) {
            for (int a = 0; a < 3; a++)
                for (int t = 0; t < L; t++) {
                    double *Ar = A + ((size_t)a * N + t) * d;
                    for (int j = 0; j < d; j++) {
                        double z = 0;
                        for (int tau = 0; tau < K; tau++) {
                            int src = dir ? t + tau : t - tau;
                            if (src >= 0 && src < L) z += (double)taps[a][tau * d + j] * P[((size_t)a * N + src) * d + j];
                        }
                        Ar[j] = z / (1 + exp(-z));
                    }
                    for (int hh = 0; a < 2 && hh < m.h; hh++) {
                        double ss = 0;
                        for (int j = 0; j < dh; j++) ss += Ar[hh * dh + j] * Ar[hh * dh + j];
                        double f = (a == 0 ? 1 / sqrt((double)dh) : 1.0) / sqrt(ss + 1e-6);
                        for (int j = 0; j < dh; j++) Ar[hh * dh + j] *= f;
                    }
                }
            for (int hh = 0; hh < m.h; hh++) {
                memset(S, 0, (size_t)dh * dh * sizeof(double));
                for (int tau = 0; tau < L; tau++) {
                    int t = dir ? L - 1 - tau : tau;
                    const double *q = A + (size_t)t * d + hh * dh, *k = A + ((size_t)N + t) * d + hh * dh;
                    const double *v = A + ((size_t)2 * N + t) * d + hh * dh, bt = beta[t * m.h + hh];
                    for (int j = 0; j < dh; j++) { u[j] = 0; for (int i = 0; i < dh; i++) u[j] += S[i * dh + j] * k[i]; }
                    for (int i = 0; i < dh; i++)
                        for (int j = 0; j < dh; j++) S[i * dh + j] += k[i] * bt * (v[j] - u[j]);
                    for (int j = 0; j < dh; j++) {
                        double s = 0;
                        for (int i = 0; i < dh; i++) s += S[i * dh + j] * q[i];
                        o[(size_t)t * d + hh * dh + j] += s;
                    }
                }
            }
        }
        for (int t = 0; t < N; t++) {
            double *yr = y + ((size_t)b * N + t) * d;
            for (int j = 0; j < d; j++) yr[j] = 0;
            if (t >= L) continue;
            double *orow = o + (size_t)t * d;
            for (int hh = 0; hh < m.h; hh++) {
                double ss = 0;
                for (int j = 0; j < dh; j++) ss += orow[hh * dh + j] * orow[hh * dh + j];
                double rs = 1 / sqrt(ss / dh + DN_EPS);
                for (int j = 0; j < dh; j++) orow[hh * dh + j] *= rs * nw[j];
            }
            for (int j = 0; j < d; j++) {
                double s = 0;
                for (int i = 0; i < d; i++) s += orow[i] * WO[i * d + j];
                yr[j] = s;
            }
        }
    }
    free(P); free(A); free(beta); free(o); free(S); free(u);
}

/* ---- decode: the last K projections of q, k, v (a ring, for the convs) and S per head ---- */

static size_t dn_decode_state(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = get_dims(c);
    return 3 * (size_t)m.K * m.d + (size_t)m.h * m.dh * m.dh;
}

/* the activations q̂, k̂, v [3 × d]; o [d]; β [h]; u = Sᵀk [d_h] */
typedef struct dscr { float *A, *o, *beta, *u; } dscr;

static size_t decode_plan(const dims *m, float *scratch, dscr *b)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->A, 3 * (size_t)m->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->o, (size_t)m->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->beta, (size_t)m->h, XB_SCR_PACKED);
    XB_TAKE(&s, b->u, (size_t)m->dh, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

static size_t dn_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dims m = get_dims(c);
    dscr b;
    return decode_plan(&m, NULL, &b);
}

static void dn_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                           float *state, float *y, float *scratch)
{
    (void)n_max;
    dims m = get_dims(c);
    const int d = m.d, dh = m.dh, K = m.K;
    const float *W[3] = {w + toff(c, T_WQ), w + toff(c, T_WK), w + toff(c, T_WV)}, *taps[3];
    taps_of(c, w, taps);
    dscr sc;
    decode_plan(&m, scratch, &sc);
    float *A = sc.A, *o = sc.o, *beta = sc.beta, *u = sc.u;
    float *S0 = state + 3 * (size_t)K * d;
    for (int a = 0; a < 3; a++) {
        float *hist = state + (size_t)a * K * d;   /* P_a of the last K tokens, slot t mod K */
        xb_gemm(0, 0, 1, d, d, 1.0f, x, d, W[a], d, 0.0f, hist + (size_t)(t % K) * d, d);
        float *Ar = A + (size_t)a * d;
        for (int j = 0; j < d; j++) {
            float z = 0;
            for (int tau = 0; tau < K && tau <= t; tau++) z += taps[a][tau * d + j] * hist[(size_t)((t - tau) % K) * d + j];
            Ar[j] = z / (1 + expf(-z));
        }
        for (int hh = 0; a < 2 && hh < m.h; hh++) {
            float ss = 0;
            for (int j = 0; j < dh; j++) ss += Ar[hh * dh + j] * Ar[hh * dh + j];
            const float f = (a == 0 ? 1 / sqrtf((float)dh) : 1.0f) / sqrtf(ss + DN_L2EPS);
            for (int j = 0; j < dh; j++) Ar[hh * dh + j] *= f;
        }
    }
    xb_gemm(0, 0, 1, m.h, d, 1.0f, x, d, w + toff(c, T_WB), m.h, 0.0f, beta, m.h);
    const float *nw = w + toff(c, T_NW);
    for (int hh = 0; hh < m.h; hh++) {
        float *S = S0 + (size_t)hh * dh * dh, *oh = o + hh * dh;
        const float *q = A + hh * dh, *k = A + d + hh * dh, *v = A + 2 * d + hh * dh;
        const float bt = 1 / (1 + expf(-beta[hh]));
        for (int j = 0; j < dh; j++) { u[j] = 0; for (int i = 0; i < dh; i++) u[j] += S[i * dh + j] * k[i]; }
        for (int i = 0; i < dh; i++)
            for (int j = 0; j < dh; j++) S[i * dh + j] += k[i] * bt * (v[j] - u[j]);
        float ss = 0;
        for (int j = 0; j < dh; j++) {
            float acc = 0;
            for (int i = 0; i < dh; i++) acc += S[i * dh + j] * q[i];
            oh[j] = acc;
            ss += acc * acc;
        }
        const float rs = 1 / sqrtf(ss / dh + DN_EPS);
        for (int j = 0; j < dh; j++) oh[j] *= rs * nw[j];
    }
    xb_gemm(0, 0, 1, d, d, 1.0f, o, d, w + toff(c, T_WO), d, 0.0f, y, d);
}

/* What xbench dump states beyond the tensors. */
static const char *dn_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    (void)c;
    return strncmp(t->name, "conv", 4) ? NULL : XB_LAYOUT_CONV;
}

static void dn_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_text(f, "conv_taps", "(k, C) lag order: out_t[c] = sum_tau w[tau][c] z_{t-tau}[c], zero history");
    xb_fact_real(f, "rmsnorm_eps", DN_EPS);
    xb_fact_real(f, "l2norm_eps", DN_L2EPS);
    if (!c->causal)
        xb_fact_text(f, "bidirectional", "q, k, v projected once; each direction applies the short conv in its own "
                                         "time direction (anti-causal for the reverse scan) with the same taps, its own "
                                         "activation, normalisation and scan; outputs summed before norm and W_O");
}

const xb_mixer xb_mixer_deltanet = {
    .name = "deltanet",
    .family = "linear attention (delta rule)",
    .cite = "Yang et al. 2024, Parallelizing Linear Transformers with the Delta Rule over Sequence Length",
    .complexity = "N",
    XB_OPTS(dn_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = dn_check,
    .tensors = dn_tensors,
    .init = dn_init,
    .n_saved = dn_n_saved,
    .n_scratch = dn_n_scratch,
    .forward = dn_forward,
    .backward = dn_backward,
    .flops = dn_flops,
    .reference = dn_reference,
    .decode_state = dn_decode_state,
    .decode_scratch = dn_decode_scratch,
    .decode_step = dn_decode_step,
    .layout = dn_layout,
    .facts = dn_facts,
};
