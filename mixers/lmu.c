/* mixers/lmu.c — `lmu`: Legendre Memory Unit mixer, LMUFormer cell (MIXERS.md §19; bidirectional
 * form §0.1). Liu et al. 2024, LMUFormer; Voelker et al. 2019, Legendre Memory Units.
 *
 * Forward (order q, window θ, scalar memory input):
 *   u_t = relu(x_t W_u + b_u)                            W_u [d, 1], b_u [1]
 *   m_t = Ā m_{t−1} + B̄ u_t                              A_bar [q, q], B_bar [q] (FROZEN)
 *   h_t = relu([m_t ; x_t] W_h + b_h)                    W_h [q + d, d], b_h [d]
 *   Y   = h W_p + b_p                                    W_p [d, d], b_p [d]
 * Bidirectional: a second memory m← runs the same Ā, B̄ from the last REAL token backwards on
 * u← = relu(x W_u_rev + b_u_rev); h_t = relu([m→_t ; m←_t ; x_t] W_h + b_h), W_h [2q + d, d].
 * Ā = expm(A), B̄ = A^{-1}(Ā − I)B with the LMU (A, B) of order q and window θ (core/lti.c), in
 * double at init. θ = option `theta`, default cfg.n_max (the task's maximum length, fixed across
 * the length sweep; MIXERS.md §32). Pads: memories see real tokens only; pad outputs are 0.
 *
 * Checked against zeyuliu1037/LMUFormer src/blocks/lmu_cell.py: A/B formulas and signs, ZOH
 * with dt = 1 (scipy cont2discrete), scalar u with ReLU, h = ReLU(W_h [m ; x]), both Linear
 * layers with bias. DISAGREEMENT: MIXERS.md §19 says LeCun-uniform U(±√(3/fan_in)) for W_u and
 * W_h "(reference)", but LMUFFTCell defines leCunUniform and never calls it, so its W_u and W_h
 * get PyTorch's Linear default U(±1/√fan_in) (weights and biases). Following the code here:
 * LMU_INIT_GAIN = 1 (set it to √3 for the LeCun bound).
 *
 * CPU form: recurrent (MIXERS.md §19 (a)). Many scans (direction × sequence) or short ones: one
 * q×q mat-vec per step, OpenMP over scans (or, with fewer scans than threads, over each step's
 * outputs, a barrier between steps). A few scans of two chunks or more (B = 1 latency): the
 * same recurrence in core/lti.h's chunked form, position i of several chunks as one small
 * product (FLOPs are still counted as the recurrence's). The adjoint scan splits its steps as
 * the recurrent forward does. Projections are GEMMs over all B·N rows.
 *
 * Frozen buffers besides Ā and B̄, derived from them at init (in double) so that no forward
 * recomputes them: A_bar_T = Āᵀ (the step's operand), and the chunked scan's A_bar_T_C = (Āᵀ)^C
 * and H_chunk [C, q] (core/lti.h). Building the last two per forward took 1.0 ms of lmu's
 * 12.5 ms at N = 4096 on one thread, and scaled 1.6× on two.
 *
 * Buffers (batch-major inside saved, B × n_saved floats in all):
 *   saved:   U [ndir, B·N] (u after ReLU) | M [ndir, B·N, q] | H [B·N, d] (h after ReLU)
 *   scratch: DYM [B·N, d] | DH [B·N, d] | DM [B·N, q] | DUP [B·N] | S, E [4, ⌈N/C⌉, q] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/gemm.h"
#include "core/lti.h"
#include "core/mixer.h"
#include "core/proj.h"
#include "core/scratch.h"
#include "core/vmath.h"
#include "core/xb.h"

#define LMU_INIT_GAIN 1.0     /* bound = gain / √fan_in; 1 = PyTorch default as LMUFormer runs */
#define LMU_CHUNK 64          /* C of the chunked scan (core/lti.h; a power of two) */
#define LMU_CHUNKED_SCANS 4   /* at most this many scans (direction × sequence) take it */

enum { OPT_ORDER, OPT_THETA };
static const xb_mixer_opt lmu_opts[] = {
    [OPT_ORDER] = {.name = "order", .type = XB_OPT_INT, .min = 1, .max = 65536, .def_doc = "d",
                   .help = "memory order q (Legendre coefficients)"},
    [OPT_THETA] = {.name = "theta", .type = XB_OPT_INT, .min = 1, .max = 1073741824, .def_doc = "n_max",
                   .help = "window theta of the memory, in tokens"},
};

typedef struct dims {
    int d, q, ndir, rows_h;   /* rows_h = ndir·q + d */
    size_t W_u[2], b_u[2], W_h, b_h, W_p, b_p, A_bar, B_bar, A_barT, A_barT_C, H_chunk, end;
} dims;

static dims dims_of(const xb_mixer_cfg *c)
{
    dims m;
    m.d = c->d; m.q = xb_cfg_int(c, OPT_ORDER); m.ndir = c->causal ? 1 : 2;
    m.rows_h = m.ndir * m.q + m.d;
    size_t o = 0;
    for (int dir = 0; dir < 2; dir++) {
        int on = dir < m.ndir;
        m.W_u[dir] = o; o += on ? (size_t)m.d : 0;
        m.b_u[dir] = o; o += on ? 1 : 0;
    }
    m.W_h = o; o += (size_t)m.rows_h * m.d;
    m.b_h = o; o += (size_t)m.d;
    m.W_p = o; o += (size_t)m.d * m.d;
    m.b_p = o; o += (size_t)m.d;
    m.A_bar = o; o += (size_t)m.q * m.q;
    m.B_bar = o; o += (size_t)m.q;
    m.A_barT = o; o += (size_t)m.q * m.q;
    m.A_barT_C = o; o += (size_t)m.q * m.q;
    m.H_chunk = o; o += (size_t)LMU_CHUNK * m.q;
    m.end = o;
    return m;
}

static void lmu_defaults(xb_mixer_cfg *c)
{
    if (xb_cfg_int(c, OPT_ORDER) <= 0) xb_cfg_set(c, OPT_ORDER, c->d);        /* q = d (LMUFormer: memory_size = dim) */
    if (xb_cfg_int(c, OPT_THETA) <= 0) xb_cfg_set(c, OPT_THETA, c->n_max);    /* θ = the task's maximum length */
}

static int lmu_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (c->d < 1) { snprintf(err, errn, "d: must be >= 1, got %d", c->d); return XB_EINVAL; }
    return 0;
}

static int lmu_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    dims m = dims_of(c);
    xb_tensor t[XB_MAX_TENSORS];
    int nt = 0;
    t[nt++] = (xb_tensor){"W_u", m.W_u[0], m.d, 1, XB_T_DECAY};
    t[nt++] = (xb_tensor){"b_u", m.b_u[0], 1, 1, 0};
    if (m.ndir == 2) {
        t[nt++] = (xb_tensor){"W_u_rev", m.W_u[1], m.d, 1, XB_T_DECAY};
        t[nt++] = (xb_tensor){"b_u_rev", m.b_u[1], 1, 1, 0};
    }
    t[nt++] = (xb_tensor){"W_h", m.W_h, m.rows_h, m.d, XB_T_DECAY};
    t[nt++] = (xb_tensor){"b_h", m.b_h, m.d, 1, 0};
    t[nt++] = (xb_tensor){"W_p", m.W_p, m.d, m.d, XB_T_DECAY};
    t[nt++] = (xb_tensor){"b_p", m.b_p, m.d, 1, 0};
    t[nt++] = (xb_tensor){"A_bar", m.A_bar, m.q, m.q, XB_T_FROZEN};
    t[nt++] = (xb_tensor){"B_bar", m.B_bar, m.q, 1, XB_T_FROZEN};
    t[nt++] = (xb_tensor){"A_bar_T", m.A_barT, m.q, m.q, XB_T_FROZEN};
    t[nt++] = (xb_tensor){"A_bar_T_C", m.A_barT_C, m.q, m.q, XB_T_FROZEN};
    t[nt++] = (xb_tensor){"H_chunk", m.H_chunk, LMU_CHUNK, m.q, XB_T_FROZEN};
    if (out) memcpy(out, t, sizeof(xb_tensor) * (size_t)nt);
    return nt;
}

static void uniform(float *w, size_t n, double bound, xb_rng *rng)
{
    for (size_t i = 0; i < n; i++) w[i] = xb_rng_uniformf(rng, (float)-bound, (float)bound);
}

static void lmu_init(const xb_mixer_cfg *c, float *w, xb_rng *rng)
{
    dims m = dims_of(c);
    const double gu = LMU_INIT_GAIN / sqrt((double)m.d), gh = LMU_INIT_GAIN / sqrt((double)m.rows_h);
    for (int dir = 0; dir < m.ndir; dir++) {
        uniform(w + m.W_u[dir], (size_t)m.d, gu, rng);
        uniform(w + m.b_u[dir], 1, 1.0 / sqrt((double)m.d), rng);
    }
    uniform(w + m.W_h, (size_t)m.rows_h * m.d, gh, rng);
    uniform(w + m.b_h, (size_t)m.d, 1.0 / sqrt((double)m.rows_h), rng);
    xb_init_uniform(w + m.W_p, m.d, m.d, rng);
    uniform(w + m.b_p, (size_t)m.d, 1.0 / sqrt((double)m.d), rng);
    /* frozen memory: ZOH of the LMU system, in double */
    const int q = m.q;
    double *A = malloc(sizeof(double) * (size_t)q * q), *B = malloc(sizeof(double) * q);
    double *Ab = malloc(sizeof(double) * (size_t)q * q), *Bb = malloc(sizeof(double) * q);
    XB_ASSERT(A && B && Ab && Bb);
    xb_lmu_matrices(q, (double)xb_cfg_int(c, OPT_THETA), A, B);
    xb_lti_zoh(q, A, B, Ab, Bb);
    for (size_t i = 0; i < (size_t)q * q; i++) w[m.A_bar + i] = (float)Ab[i];
    for (int i = 0; i < q; i++) w[m.B_bar + i] = (float)Bb[i];
    for (int i = 0; i < q; i++)
        for (int j = 0; j < q; j++) w[m.A_barT + (size_t)j * q + i] = (float)Ab[(size_t)i * q + j];
    xb_lti_chunk_setup(q, LMU_CHUNK, Ab, Bb, w + m.A_barT_C, w + m.H_chunk);
    free(A); free(B); free(Ab); free(Bb);
}

/* ---- buffers ------------------------------------------------------------------------ */

typedef struct bufs { float *U, *M, *H, *DYM, *DH, *DM, *DUP, *S, *E; } bufs;

/* Both lists (saved and scratch, each on 64-byte lines from its start; base NULL: measure);
 * sets both sizes. */
static void plan(const dims *m, int B, int N, float *saved, float *scratch, bufs *b, size_t *ns, size_t *nx)
{
    const size_t BN = (size_t)B * N;
    const size_t nch = ((size_t)N + LMU_CHUNK - 1) / LMU_CHUNK;   /* chunked scan (B small) */
    xb_scratch s = xb_scratch_at(saved), x = xb_scratch_at(scratch);
    XB_TAKE(&s, b->U, (size_t)m->ndir * BN, XB_SCR_LINE);
    XB_TAKE(&s, b->M, (size_t)m->ndir * BN * m->q, XB_SCR_LINE);
    XB_TAKE(&s, b->H, BN * m->d, XB_SCR_LINE);
    xb_scratch_align(&s, XB_SCR_LINE);
    XB_TAKE(&x, b->DYM, BN * m->d, XB_SCR_LINE);
    XB_TAKE(&x, b->DH, BN * m->d, XB_SCR_LINE);
    XB_TAKE(&x, b->DM, BN * m->q, XB_SCR_LINE);
    XB_TAKE(&x, b->DUP, BN, XB_SCR_LINE);
    XB_TAKE(&x, b->S, LMU_CHUNKED_SCANS * nch * m->q, XB_SCR_LINE);   /* S, E: one slot per scan */
    XB_TAKE(&x, b->E, LMU_CHUNKED_SCANS * nch * m->q, XB_SCR_LINE);
    xb_scratch_align(&x, XB_SCR_LINE);
    *ns = xb_scratch_floats(&s);
    *nx = xb_scratch_floats(&x);
}

static bufs carve(const dims *m, int B, int N, float *saved, float *scratch)
{
    size_t ns, nx;
    bufs b;
    plan(m, B, N, saved, scratch, &b, &ns, &nx);
    return b;
}

static size_t lmu_n_saved(const xb_mixer_cfg *c, int N)
{
    dims m = dims_of(c);
    size_t ns, nx;
    bufs b;
    plan(&m, 1, N, NULL, NULL, &b, &ns, &nx);
    return ns;
}

static size_t lmu_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    dims m = dims_of(c);
    size_t ns, nx;
    bufs b;
    plan(&m, B, N, NULL, NULL, &b, &ns, &nx);
    return nx;
}

/* ---- forward ------------------------------------------------------------------------ */

/* Threads of the current team (1 outside a parallel region or without OpenMP). */
static int team_size(void)
{
#ifdef _OPENMP
    return omp_get_num_threads();
#else
    return 1;
#endif
}

/* Start of thread `me`'s slice of q outputs among T (multiples of 16, the last ends at q). */
static int slice_at(int q, int me, int T)
{
    int i = (int)(((long)q * me / T + 15) & ~15L);
    return i < q ? i : q;
}

/* One recurrent memory scan (task = dir·B + b), outputs [i0, i1) of every step; `sync`: the
 * other threads run the other slices of the same scan, so wait for them after each step. */
static void scan_fwd(const dims *m, const bufs *s, const float *w, int task, int B, int N, const int *len,
                     int i0, int i1, int sync)
{
    const int q = m->q, dir = task / B, b = task % B, L = xb_len(len, b, N);
    const float *AT = w + m->A_barT, *Bb = w + m->B_bar;
    const size_t BN = (size_t)B * N;
    float *M = s->M + (size_t)dir * BN * q + (size_t)b * N * q;
    const float *U = s->U + (size_t)dir * BN + (size_t)b * N;
    for (int t = L; t < N; t++) memset(M + (size_t)t * q + i0, 0, sizeof(float) * (size_t)(i1 - i0));
    for (int k = 0; k < L; k++) {
        const int t = dir ? L - 1 - k : k;
        const int tp = dir ? t + 1 : t - 1;
        float *mt = M + (size_t)t * q;
        if (k == 0) for (int i = i0; i < i1; i++) mt[i] = Bb[i] * U[t];
        else xb_lti_step_part(q, AT, M + (size_t)tp * q, Bb, U[t], mt, i0, i1);
        if (sync) {
            #pragma omp barrier
        }
    }
}

/* Adjoint scan, in place in DM: g_t = dm_t + Āᵀ g_{t+1} (visit order reversed), outputs
 * [i0, i1) of every step; `sync` as in scan_fwd. */
static void scan_adj(const dims *m, const bufs *s, int task, int B, int N, const int *len,
                     const float *Ab, int i0, int i1, int sync)
{
    const int q = m->q, dir = task / B, b = task % B, L = xb_len(len, b, N);
    float *DM = s->DM + (size_t)b * N * q;
    for (int k = L - 2; k >= 0; k--) {
        const int t = dir ? L - 1 - k : k;
        const int tn = dir ? t - 1 : t + 1;   /* the step visited after t */
        float *gt = DM + (size_t)t * q;
        xb_lti_step_part(q, Ab, DM + (size_t)tn * q, gt, 1.0f, gt, i0, i1);   /* out = bvec: allowed */
        if (sync) {
            #pragma omp barrier
        }
    }
}

/* The chunked scan for at most LMU_CHUNKED_SCANS scans of at least two chunks. Measured at B = 1,
 * q = d = 256, forward ms against the recurrent form (1 thread / 2 threads): N = 64 (one chunk)
 * 0.29 / 0.26 against 0.29 / 0.18 (one block: one thread works), N = 128 0.41 / 0.32 against
 * 0.56 / 0.33, N = 1024 2.43 / 1.38 against 4.39 / 2.45. With more scans, one recurrent scan
 * per thread keeps the threads busy. */
static int use_chunked(const dims *m, int B, int N)
{
    return m->ndir * B <= LMU_CHUNKED_SCANS && N >= 2 * LMU_CHUNK;
}

/* Scan `task` (= dir·B + b) in the chunked form (core/lti.h), with its own S, E slots. The
 * reverse direction runs on a time-reversed copy of u (in DUP) into DM, then is copied back
 * reversed (`par`: that copy as a parallel loop). Pad rows of M are zeroed. */
static void chunked_scan(const dims *m, const bufs *s, const float *w, int task, int B, int N, const int *len,
                         int par)
{
    const int q = m->q, dir = task / B, b = task % B, L = xb_len(len, b, N);
    const float *AT = w + m->A_barT, *Bb = w + m->B_bar, *PT = w + m->A_barT_C, *HR = w + m->H_chunk;
    const size_t BN = (size_t)B * N, slot = (size_t)((N + LMU_CHUNK - 1) / LMU_CHUNK) * q;
    float *M = s->M + (size_t)dir * BN * q + (size_t)b * N * q;
    const float *U = s->U + (size_t)dir * BN + (size_t)b * N;
    float *S = s->S + (size_t)task * slot, *E = s->E + (size_t)task * slot;
    memset(M + (size_t)L * q, 0, sizeof(float) * (size_t)(N - L) * q);
    if (!dir) {
        xb_lti_scan_chunked(q, LMU_CHUNK, AT, Bb, PT, HR, U, L, M, S, E);
        return;
    }
    float *ur = s->DUP + (size_t)b * N, *Mr = s->DM + (size_t)b * N * q;
    for (int t = 0; t < L; t++) ur[t] = U[L - 1 - t];
    xb_lti_scan_chunked(q, LMU_CHUNK, AT, Bb, PT, HR, ur, L, Mr, S, E);
    #pragma omp parallel for schedule(static) if (par)
    for (int t = 0; t < L; t++) memcpy(M + (size_t)t * q, Mr + (size_t)(L - 1 - t) * q, sizeof(float) * q);
}

/* Every scan in the chunked form. Fewer scans than threads: one after another, each shared by
 * every thread. Otherwise one scan per thread (the scan then runs on its calling thread). The
 * scan gives the same bits on any thread count, so the result does not depend on which. */
static void chunked_scans(const dims *m, const bufs *s, const float *w, int B, int N, const int *len)
{
    const int nscan = m->ndir * B;
    if (nscan < xb_max_threads()) {
        for (int task = 0; task < nscan; task++) chunked_scan(m, s, w, task, B, N, len, 1);
        return;
    }
    #pragma omp parallel for schedule(static)
    for (int task = 0; task < nscan; task++) chunked_scan(m, s, w, task, B, N, len, 0);
}

typedef struct lmu_job { const dims *m; const bufs *s; const float *w; const int *len; int B, N; } lmu_job;

static int real_row(const lmu_job *j, size_t r) { return (int)(r % j->N) < xb_len(j->len, (int)(r / j->N), j->N); }

/* Rows [r0, r0 + rows) of H hold x W_h[x rows]: add the memories' part, b_h, relu (pads 0). */
static void h_epilogue(int r0, int rows, float *h, int ldh, void *arg)
{
    const lmu_job *j = arg;
    const dims *m = j->m;
    const int d = m->d, q = m->q;
    const size_t BN = (size_t)j->B * j->N;
    const float *Wh = j->w + m->W_h, *bh = j->w + m->b_h;
    for (int dir = 0; dir < m->ndir; dir++)
        xb_gemm(0, 0, rows, d, q, 1.0f, j->s->M + (size_t)dir * BN * q + (size_t)r0 * q, q,
                Wh + (size_t)dir * q * d, d, 1.0f, h, ldh);
    for (int i = 0; i < rows; i++) {
        const int real = real_row(j, (size_t)r0 + i);
        float *hr = h + (size_t)i * ldh;
        for (int c = 0; c < d; c++) { float v = hr[c] + bh[c]; hr[c] = real && v > 0.0f ? v : 0.0f; }
    }
}

/* Rows of y = h W_p: add b_p, pads 0. */
static void y_epilogue(int r0, int rows, float *y, int ldy, void *arg)
{
    const lmu_job *j = arg;
    const float *bp = j->w + j->m->b_p;
    for (int i = 0; i < rows; i++) {
        const int real = real_row(j, (size_t)r0 + i);
        float *yr = y + (size_t)i * ldy;
        for (int c = 0; c < j->m->d; c++) yr[c] = real ? yr[c] + bp[c] : 0.0f;
    }
}

static void lmu_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                        float *y, float *saved, float *scratch, int B, int N)
{
    dims m = dims_of(c);
    bufs s = carve(&m, B, N, saved, scratch);
    const int d = m.d, q = m.q;
    const size_t BN = (size_t)B * N;
    /* u = relu(x W_u + b_u) per direction; pads 0 */
    #pragma omp parallel for schedule(static)
    for (size_t r = 0; r < BN; r++) {
        const int real = (int)(r % N) < xb_len(len, (int)(r / N), N);
        for (int dir = 0; dir < m.ndir; dir++) {
            const float *wu = w + m.W_u[dir];
            const float acc = w[m.b_u[dir]] + xb_vdot(x + r * d, wu, d);
            s.U[(size_t)dir * BN + r] = real && acc > 0.0f ? acc : 0.0f;
        }
    }
    /* memories: m_t = Ā m_{t−1} + B̄ u_t over real tokens, reverse direction from len−1.
     * Few scans of many steps (B = 1 latency): each scan in core/lti.h's chunked form, shared
     * by every thread. Otherwise one recurrent scan per thread. The choice does not depend on
     * the thread count, so neither do the memories' bits. */
    const int nscan = m.ndir * B, nth = xb_max_threads();
    if (use_chunked(&m, B, N)) chunked_scans(&m, &s, w, B, N, len);
    else {
        /* as many scans as threads or more: one scan per thread; fewer: every thread computes
         * its slice of each step's outputs, a barrier between steps (same bits either way) */
        #pragma omp parallel
        {
            const int T = nscan >= nth ? 1 : team_size(), me = T == 1 ? 0 : xb_thread_id();
            const int i0 = slice_at(q, me, T), i1 = slice_at(q, me + 1, T);
            #pragma omp for schedule(static)
            for (int task = 0; task < (T == 1 ? nscan : 0); task++)
                scan_fwd(&m, &s, w, task, B, N, len, 0, q, 0);
            for (int task = 0; task < (T == 1 ? 0 : nscan); task++)
                scan_fwd(&m, &s, w, task, B, N, len, i0, i1, 1);
        }
    }
    /* h = relu(x W_h[x rows] + Σ_dir m_dir W_h[dir rows] + b_h), then y = h W_p + b_p: each a
     * blocked product (core/proj.c) with the rest done per block while it is in cache */
    lmu_job job = {&m, &s, w, len, B, N};
    xb_proj ph = xb_proj_make(d, 1, &d);
    xb_proj_forward(&ph, (int)BN, x, d, w + m.W_h + (size_t)m.ndir * q * d, s.H, d, NULL, h_epilogue, &job);
    xb_proj_forward(&ph, (int)BN, s.H, d, w + m.W_p, y, d, NULL, y_epilogue, &job);
}

/* ---- backward ----------------------------------------------------------------------- */

static void lmu_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                         int B, int N)
{
    dims m = dims_of(c);
    bufs s = carve(&m, B, N, (float *)saved, scratch);
    const int d = m.d, q = m.q;
    const size_t BN = (size_t)B * N;
    const float *Ab = w + m.A_bar, *Bb = w + m.B_bar, *Wh = w + m.W_h;

    #pragma omp parallel for schedule(static)
    for (size_t r = 0; r < BN; r++) {
        const int real = (int)(r % N) < xb_len(len, (int)(r / N), N);
        for (int j = 0; j < d; j++) s.DYM[r * d + j] = real ? dy[r * d + j] : 0.0f;
    }
    /* Y = h W_p + b_p */
    xb_gemm(1, 0, d, d, (int)BN, 1.0f, s.H, d, s.DYM, d, 1.0f, dw + m.W_p, d);
    for (size_t r = 0; r < BN; r++)
        for (int j = 0; j < d; j++) dw[m.b_p + j] += s.DYM[r * d + j];
    xb_gemm(0, 1, (int)BN, d, d, 1.0f, s.DYM, d, w + m.W_p, d, 0.0f, s.DH, d);
    #pragma omp parallel for schedule(static)
    for (size_t i = 0; i < BN * d; i++) if (!(s.H[i] > 0.0f)) s.DH[i] = 0.0f;   /* relu' */
    for (size_t r = 0; r < BN; r++)
        for (int j = 0; j < d; j++) dw[m.b_h + j] += s.DH[r * d + j];
    /* h's input [m→ ; m← ; x] */
    float *dWh = dw + m.W_h;
    xb_gemm(1, 0, d, d, (int)BN, 1.0f, x, d, s.DH, d, 1.0f, dWh + (size_t)m.ndir * q * d, d);
    xb_gemm(0, 1, (int)BN, d, d, 1.0f, s.DH, d, Wh + (size_t)m.ndir * q * d, d, 0.0f, dx, d);
    for (int dir = 0; dir < m.ndir; dir++) {
        const float *M = s.M + (size_t)dir * BN * q, *U = s.U + (size_t)dir * BN;
        xb_gemm(1, 0, q, d, (int)BN, 1.0f, M, q, s.DH, d, 1.0f, dWh + (size_t)dir * q * d, d);
        xb_gemm(0, 1, (int)BN, q, d, 1.0f, s.DH, d, Wh + (size_t)dir * q * d, d, 0.0f, s.DM, q);
        /* adjoint scan, in place in DM (scan_adj); du_t = B̄ · g_t, masked by relu' */
        const int nth = xb_max_threads();
        #pragma omp parallel
        {
            const int T = B >= nth ? 1 : team_size(), me = T == 1 ? 0 : xb_thread_id();
            const int i0 = slice_at(q, me, T), i1 = slice_at(q, me + 1, T);
            #pragma omp for schedule(static)
            for (int b = 0; b < (T == 1 ? B : 0); b++)
                scan_adj(&m, &s, dir * B + b, B, N, len, Ab, 0, q, 0);
            for (int b = 0; b < (T == 1 ? 0 : B); b++)
                scan_adj(&m, &s, dir * B + b, B, N, len, Ab, i0, i1, 1);
        }
        #pragma omp parallel for schedule(static)
        for (size_t r = 0; r < BN; r++) {
            const int b = (int)(r / N), t = (int)(r % N);
            const float du = xb_vdot(Bb, s.DM + r * q, q);   /* B̄ · g_t, as u's x·W_u */
            s.DUP[r] = t < xb_len(len, b, N) && U[r] > 0.0f ? du : 0.0f;
        }
        /* u = relu(x W_u + b_u): dW_u += xᵀ du, db_u += Σ du, dx += du W_uᵀ */
        xb_gemm(1, 0, d, 1, (int)BN, 1.0f, x, d, s.DUP, 1, 1.0f, dw + m.W_u[dir], 1);
        float acc = 0.0f;
        for (size_t r = 0; r < BN; r++) acc += s.DUP[r];
        dw[m.b_u[dir]] += acc;
        const float *wu = w + m.W_u[dir];
        #pragma omp parallel for schedule(static)
        for (size_t r = 0; r < BN; r++)
            for (int j = 0; j < d; j++) dx[r * d + j] = fmaf(s.DUP[r], wu[j], dx[r * d + j]);
    }
}

/* ---- FLOPs and reference ------------------------------------------------------------ */

/* MIXERS.md §19 recurrent form, one sequence: causal 2Nd (u) + 2Nq² + 2Nq (memory)
 * + 2N(q+d)d (h) + 2Nd² (projection). Bidirectional adds the reverse direction's u (2Nd),
 * memory (2Nq² + 2Nq) and its q extra rows of W_h (2Nqd): 4Nd + 4Nq² + 4Nq + 2N(2q+d)d + 2Nd². */
static double lmu_flops(const xb_mixer_cfg *c, int N)
{
    dims m = dims_of(c);
    double n = N, d = m.d, q = m.q, k = m.ndir;
    return k * (2 * n * d + 2 * n * q * q + 2 * n * q) + 2 * n * (k * q + d) * d + 2 * n * d * d;
}

static void lmu_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          double *y, int B, int N)
{
    dims m = dims_of(c);
    const int d = m.d, q = m.q;
    double *mem = malloc(sizeof(double) * (size_t)2 * N * q), *mt = malloc(sizeof(double) * q);
    double *h = malloc(sizeof(double) * d), *u = malloc(sizeof(double) * N);
    for (int b = 0; b < B; b++) {
        const int L = xb_len(len, b, N);
        const float *X = x + (size_t)b * N * d;
        for (int dir = 0; dir < m.ndir; dir++) {
            for (int t = 0; t < L; t++) {
                double a = w[m.b_u[dir]];
                for (int j = 0; j < d; j++) a += (double)X[(size_t)t * d + j] * w[m.W_u[dir] + j];
                u[t] = a > 0 ? a : 0;
            }
            for (int i = 0; i < q; i++) mt[i] = 0;
            for (int k = 0; k < L; k++) {
                const int t = dir ? L - 1 - k : k;
                double *mn = mem + ((size_t)dir * N + t) * q;
                for (int i = 0; i < q; i++) {
                    double a = (double)w[m.B_bar + i] * u[t];
                    for (int j = 0; j < q; j++) a += (double)w[m.A_bar + (size_t)i * q + j] * mt[j];
                    mn[i] = a;
                }
                memcpy(mt, mn, sizeof(double) * q);
            }
        }
        for (int t = 0; t < N; t++) {
            double *yt = y + ((size_t)b * N + t) * d;
            if (t >= L) { for (int j = 0; j < d; j++) yt[j] = 0; continue; }
            for (int o = 0; o < d; o++) {
                double a = w[m.b_h + o];
                for (int dir = 0; dir < m.ndir; dir++)
                    for (int i = 0; i < q; i++)
                        a += mem[((size_t)dir * N + t) * q + i] * w[m.W_h + ((size_t)dir * q + i) * d + o];
                for (int j = 0; j < d; j++) a += (double)X[(size_t)t * d + j] * w[m.W_h + ((size_t)m.ndir * q + j) * d + o];
                h[o] = a > 0 ? a : 0;
            }
            for (int o = 0; o < d; o++) {
                double a = w[m.b_p + o];
                for (int j = 0; j < d; j++) a += h[j] * w[m.W_p + (size_t)j * d + o];
                yt[o] = a;
            }
        }
    }
    free(mem); free(mt); free(h); free(u);
}

/* ---- decode: the memory m [q]; m_t = Ā m_{t−1} + B̄ u_t, h_t = relu([m_t ; x_t] W_h + b_h) ---- */

static size_t lmu_decode_state(const xb_mixer_cfg *c, int n_max) { (void)n_max; return (size_t)xb_cfg_int(c, OPT_ORDER); }

/* the new memory m [q]; h [d]; x W_u [1] (the size has always counted a row of d for it) */
typedef struct dscr { float *mn, *h, *u; } dscr;

static size_t decode_plan(const xb_mixer_cfg *c, float *scratch, dscr *b)
{
    xb_scratch s = xb_scratch_at(scratch);
    XB_TAKE(&s, b->mn, (size_t)xb_cfg_int(c, OPT_ORDER), XB_SCR_PACKED);
    XB_TAKE(&s, b->h, (size_t)c->d, XB_SCR_PACKED);
    XB_TAKE(&s, b->u, 1, XB_SCR_PACKED);
    xb_scratch_pad(&s, (size_t)c->d - 1);
    return xb_scratch_floats(&s);
}

static size_t lmu_decode_scratch(const xb_mixer_cfg *c, int n_max)
{
    (void)n_max;
    dscr b;
    return decode_plan(c, NULL, &b);
}

static void lmu_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                            float *state, float *y, float *scratch)
{
    (void)n_max; (void)t;
    dims m = dims_of(c);
    const int d = m.d, q = m.q;
    dscr sc;
    decode_plan(c, scratch, &sc);
    float *mn = sc.mn, *h = sc.h, *u = sc.u;
    xb_gemm(0, 0, 1, 1, d, 1.0f, x, d, w + m.W_u[0], 1, 0.0f, u, 1);
    const float ut = u[0] + w[m.b_u[0]] > 0 ? u[0] + w[m.b_u[0]] : 0;
    for (int i = 0; i < q; i++) mn[i] = w[m.B_bar + i] * ut;
    xb_gemm(0, 1, 1, q, q, 1.0f, state, q, w + m.A_bar, q, 1.0f, mn, q);   /* + m Āᵀ */
    memcpy(state, mn, (size_t)q * sizeof(float));
    memcpy(h, w + m.b_h, (size_t)d * sizeof(float));
    xb_gemm(0, 0, 1, d, q, 1.0f, mn, q, w + m.W_h, d, 1.0f, h, d);
    xb_gemm(0, 0, 1, d, d, 1.0f, x, d, w + m.W_h + (size_t)q * d, d, 1.0f, h, d);
    for (int o = 0; o < d; o++) h[o] = h[o] > 0 ? h[o] : 0;
    memcpy(y, w + m.b_p, (size_t)d * sizeof(float));
    xb_gemm(0, 0, 1, d, d, 1.0f, h, d, w + m.W_p, d, 1.0f, y, d);
}

/* What xbench dump states beyond the tensors: no heads, so every other matrix is plain. */
#define LMU_STR_(x) #x
#define LMU_STR(x) LMU_STR_(x)
static const char *lmu_layout(const xb_mixer_cfg *c, const xb_tensor *t)
{
    const char *n = t->name;
    if (!strcmp(n, "A_bar")) return "(q, q) row-major: m_t = A_bar m_{t-1} + B_bar u_t";
    if (!strcmp(n, "A_bar_T")) return "(q, q) row-major: A_bar transposed (derived at init from A_bar)";
    if (!strcmp(n, "A_bar_T_C"))
        return "(q, q) row-major: (A_bar^T)^C, C = " LMU_STR(LMU_CHUNK) " (derived at init, in double)";
    if (!strcmp(n, "H_chunk"))
        return "(C, q) row-major: row s = A_bar^(C-1-s) B_bar, C = " LMU_STR(LMU_CHUNK) " (derived at init, in double)";
    if (!strcmp(n, "W_h"))
        return c->causal ? "(in, out) row-major: h = relu([m ; x] W_h + b_h), rows [0, q) memory, [q, q+d) x"
                         : "(in, out) row-major: h = relu([m_fwd ; m_rev ; x] W_h + b_h), rows [0, q) m_fwd, "
                           "[q, 2q) m_rev, [2q, 2q+d) x";
    return XB_LAYOUT_PLAIN;
}

static void lmu_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "theta", xb_cfg_int(c, OPT_THETA));
    xb_fact_int(f, "order", xb_cfg_int(c, OPT_ORDER));
    xb_fact_text(f, "theta_rule", "configuration value, default n_max (the task's maximum length)");
}

const xb_mixer xb_mixer_lmu = {
    .name = "lmu",
    .family = "ssm",
    .cite = "Liu et al. 2024, LMUFormer: Low Complexity Yet Powerful Spiking Model With Legendre Memory Units",
    .complexity = "N",
    XB_OPTS(lmu_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .defaults = lmu_defaults,
    .check = lmu_check,
    .tensors = lmu_tensors,
    .init = lmu_init,
    .n_saved = lmu_n_saved,
    .n_scratch = lmu_n_scratch,
    .forward = lmu_forward,
    .backward = lmu_backward,
    .flops = lmu_flops,
    .reference = lmu_reference,
    .decode_state = lmu_decode_state,
    .decode_scratch = lmu_decode_scratch,
    .decode_step = lmu_decode_step,
    .layout = lmu_layout,
    .facts = lmu_facts,
};
