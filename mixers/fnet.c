/* mixers/fnet.c — FNet Fourier token mixing (Lee-Thorp et al. 2022), MIXERS.md §13 and §32:
 *   Y = Re(F_n X F_d) = C_n X C_d − S_n X S_d   per sequence over its own n = len[b] real rows,
 * pad rows output 0. No parameters, nothing saved. Bidirectional only. The map is linear and
 * self-adjoint (C, S symmetric), so backward applies the same routine to dY.
 *
 * CPU form: the 2-D DFT as two batched 1-D FFTW passes over a half spectrum Z (n rows of dcp ≥
 * d/2 + 1 complex, dcp a multiple of 8 so rows and 8-column blocks start on 64-byte lines):
 *   1. each row: real-to-complex FFT of length d (blocks of ROW_BLOCK rows, one plan_many),
 *   2. each column b ≤ d/2: complex FFT of length n in place (blocks of COL_BLOCK adjacent columns:
 *      one cache line per row of a block),
 *   3. Y[a][b] = Re Z[a][b] for b ≤ d/2; the other half follows from Hermitian symmetry:
 *      Re Y[a][b] = Re Z[(n − a) mod n][d − b] for b > d/2.
 * Each pass is an OpenMP loop over its blocks (schedule static), so one sequence (B = 1) uses
 * every thread; the blocks do not depend on the thread count, so neither do the results.
 * Plans: per (n, d, pass, block) with FFTW_ESTIMATE (planning does not touch the arrays),
 * made serially and kept in a small static cache (planning is not thread-safe; executing one plan
 * on new arrays from several threads is — fftwf_execute_dft[_r2c]). Rows are first copied into an
 * aligned per-thread block, so the plans always assume 64-byte aligned arrays (SIMD codelets)
 * and do not depend on where x and scratch lie.
 * The cache is the one piece of mutable global state here: FFTW needs its plans to outlive calls. */
#include <fftw3.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "core/linattn.h"
#include "core/mixer.h"
#include "core/scratch.h"
#include "core/xb.h"

#define PLAN_CACHE 256
#define ROW_BLOCK 32
#define COL_BLOCK 8
/* Columns of more than COL_GATHER rows are gathered into a contiguous per-thread buffer first
 * (a strided block of that many rows no longer sits in L2, and FFTW's strided plan suffers). */
#define COL_GATHER 4096

enum { PASS_ROWS, PASS_COLS, PASS_COLS_GATHERED };
typedef struct plan_slot { int n, d, pass, howmany; fftwf_plan p; } plan_slot;
static plan_slot plans[PLAN_CACHE];
static int n_plans;

static int pad16(int v) { return (v + 15) & ~15; }   /* floats to a 64-byte multiple */
static int pad8(int v) { return (v + 7) & ~7; }      /* complex to a 64-byte multiple */
/* Complex columns of the half spectrum, padded to a multiple of 8 (64 bytes). */
static int spec_cols(int d) { return pad8(d / 2 + 1); }

/* Scratch, every part on a 64-byte line (the base is rounded up): Z (n × dcp complex), then per
 * thread a row block (ROW_BLOCK × pad16(d) floats) and, for n > COL_GATHER, a column block
 * (COL_BLOCK × pad8(n) complex). FFTW always sees 64-byte aligned arrays with fixed strides: the
 * same SIMD plans whatever the alignment of x and scratch, so results do not depend on it. */
typedef struct scr { fftwf_complex *Z; float *t; size_t ts; } scr;

/* one thread's row block R and column block G (base NULL: measure) */
static size_t thread_plan(int d, int N, float *base, float **R, fftwf_complex **G)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, *R, (size_t)ROW_BLOCK * pad16(d), XB_SCR_PACKED);
    XB_TAKE(&s, *G, N > COL_GATHER ? (size_t)COL_BLOCK * pad8(N) : 0, XB_SCR_64F);
    return xb_scratch_floats(&s);
}

/* Z, then the threads' blocks, each part on 64 floats from the first line at or after scratch */
static size_t scratch_plan(const xb_mixer_cfg *c, int N, float *scratch, scr *b)
{
    float *R;
    fftwf_complex *G;
    xb_scratch s = xb_scratch_at_line(scratch);
    XB_TAKE(&s, b->Z, (size_t)N * spec_cols(c->d), XB_SCR_64F);
    XB_TAKE_THREADS(&s, b->t, thread_plan(c->d, N, NULL, &R, &G), XB_SCR_64F, &b->ts);
    return xb_scratch_floats(&s);
}

/* The four plans of one length: full and remainder blocks of both passes. */
typedef struct fplans { fftwf_plan row, row_rem, col, col_rem; } fplans;

static fftwf_plan find_or_make(int n, int d, int pass, int howmany, float *rowbuf,
                               fftwf_complex *z, fftwf_complex *gbuf)
{
    if (howmany <= 0) return NULL;
    for (int i = 0; i < n_plans; i++)
        if (plans[i].n == n && plans[i].d == d && plans[i].pass == pass && plans[i].howmany == howmany)
            return plans[i].p;
    const unsigned fl = FFTW_ESTIMATE;
    const int dcp = spec_cols(d), dp = pad16(d), np = pad8(n);
    fftwf_plan p;
    if (pass == PASS_ROWS)
        p = fftwf_plan_many_dft_r2c(1, &d, howmany, rowbuf, NULL, 1, dp, z, NULL, 1, dcp, fl);
    else if (pass == PASS_COLS)
        p = fftwf_plan_many_dft(1, &n, howmany, z, NULL, dcp, 1, z, NULL, dcp, 1, FFTW_FORWARD, fl);
    else
        p = fftwf_plan_many_dft(1, &n, howmany, gbuf, NULL, 1, np, gbuf, NULL, 1, np, FFTW_FORWARD, fl);
    XB_ASSERT(p);
    plans[n_plans++] = (plan_slot){n, d, pass, howmany, p};
    return p;
}

/* Plans for an n × d transform (serial caller). The arrays only give FFTW their kinds and
 * alignment: ESTIMATE planning does not touch them (except r2c's input, which is scratch). */
static fplans get_plans(int n, int d, float *rowbuf, fftwf_complex *z, fftwf_complex *gbuf)
{
    fplans f;
    int dc = d / 2 + 1, pc = n > COL_GATHER ? PASS_COLS_GATHERED : PASS_COLS;
    #pragma omp critical(xb_fftw_planner)
    {
        if (n_plans > PLAN_CACHE - 4) {   /* full: start over (plans of a batch are re-made) */
            for (int i = 0; i < n_plans; i++) fftwf_destroy_plan(plans[i].p);
            n_plans = 0;
        }
        f.row = find_or_make(n, d, PASS_ROWS, xb_min(ROW_BLOCK, n), rowbuf, z, gbuf);
        f.row_rem = find_or_make(n, d, PASS_ROWS, n > ROW_BLOCK ? n % ROW_BLOCK : 0, rowbuf, z, gbuf);
        f.col = find_or_make(n, d, pc, xb_min(COL_BLOCK, dc), rowbuf, z, gbuf);
        f.col_rem = find_or_make(n, d, pc, dc > COL_BLOCK ? dc % COL_BLOCK : 0, rowbuf, z, gbuf);
    }
    return f;
}

static int fnet_tensors(const xb_mixer_cfg *c, xb_tensor *out) { (void)c; (void)out; return 0; }
static void fnet_init(const xb_mixer_cfg *c, float *w, xb_rng *rng) { (void)c; (void)w; (void)rng; }
static size_t fnet_n_saved(const xb_mixer_cfg *c, int N) { (void)c; (void)N; return 0; }

/* One half spectrum (sequences are transformed one after another, threads inside each), the
 * per-thread row and column blocks, and 16 floats to align the base. */
static size_t fnet_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    (void)B;
    scr b;
    return scratch_plan(c, N, NULL, &b);
}

/* y[b] = Re(F_n x[b] F_d) for each sequence; rows ≥ len[b] of y are 0. Overwrites y. */
static void fourier2d(const xb_mixer_cfg *c, const float *x, const int *len, float *y, float *scratch,
                      int B, int N)
{
    const int d = c->d, dc = d / 2 + 1, dcp = spec_cols(d), dp = pad16(d);
    const size_t nd = (size_t)N * d;
    scr sc;
    scratch_plan(c, N, scratch, &sc);
    fftwf_complex *Z = sc.Z;
    float *R0;
    fftwf_complex *G0;
    thread_plan(d, N, sc.t, &R0, &G0);   /* thread 0's blocks: the kinds and alignment for planning */
    for (int b = 0; b < B; b++) {
        const int n = xb_len(len, b, N), npad = pad8(n);
        const float *xb = x + b * nd;
        float *yb = y + b * nd;
        fplans f = get_plans(n, d, R0, Z, G0);
        const int nrb = (n + ROW_BLOCK - 1) / ROW_BLOCK, ncb = (dc + COL_BLOCK - 1) / COL_BLOCK;
        #pragma omp parallel
        {
            float *R;
            fftwf_complex *G;
            thread_plan(d, N, sc.t + (size_t)xb_thread_id() * sc.ts, &R, &G);
            #pragma omp for schedule(static)
            for (int k = 0; k < nrb; k++) {   /* rows: copy a block to R, r2c into Z */
                int r0 = k * ROW_BLOCK, w = xb_min(ROW_BLOCK, n - r0);
                for (int r = 0; r < w; r++)
                    memcpy(R + (size_t)r * dp, xb + (size_t)(r0 + r) * d, (size_t)d * sizeof(float));
                fftwf_execute_dft_r2c(w == xb_min(ROW_BLOCK, n) ? f.row : f.row_rem, R,
                                      Z + (size_t)r0 * dcp);
            }
            #pragma omp for schedule(static)
            for (int k = 0; k < ncb; k++) {   /* columns: in place, or through G */
                int j0 = k * COL_BLOCK, w = xb_min(COL_BLOCK, dc - j0);
                fftwf_plan pc = w == xb_min(COL_BLOCK, dc) ? f.col : f.col_rem;
                fftwf_complex *zc = Z + j0;
                if (n <= COL_GATHER) { fftwf_execute_dft(pc, zc, zc); continue; }
                for (int a = 0; a < n; a++)          /* gather: G[j][a] = Z[a][j0 + j] */
                    for (int j = 0; j < w; j++) {
                        G[(size_t)j * npad + a][0] = zc[(size_t)a * dcp + j][0];
                        G[(size_t)j * npad + a][1] = zc[(size_t)a * dcp + j][1];
                    }
                fftwf_execute_dft(pc, G, G);
                for (int a = 0; a < n; a++)          /* scatter back */
                    for (int j = 0; j < w; j++) {
                        zc[(size_t)a * dcp + j][0] = G[(size_t)j * npad + a][0];
                        zc[(size_t)a * dcp + j][1] = G[(size_t)j * npad + a][1];
                    }
            }
            #pragma omp for schedule(static)
            for (int a = 0; a < N; a++) {     /* real part, Hermitian half mirrored */
                float *ya = yb + (size_t)a * d;
                if (a >= n) { memset(ya, 0, (size_t)d * sizeof(float)); continue; }
                const float *za = (const float *)(Z + (size_t)a * dcp);
                const float *zm = (const float *)(Z + (size_t)((n - a) % n) * dcp);
                for (int j = 0; j < dc && j < d; j++) ya[j] = za[2 * j];
                for (int j = dc; j < d; j++) ya[j] = zm[2 * (d - j)];
            }
        }
    }
}

static void fnet_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         float *y, float *saved, float *scratch, int B, int N)
{
    (void)w; (void)saved;
    fourier2d(c, x, len, y, scratch, B, N);
}

/* dx = Re(F_n dY F_d) over real rows (pad rows of dy are never read); no parameters. */
static void fnet_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                          int B, int N)
{
    (void)w; (void)x; (void)saved; (void)dw;
    fourier2d(c, dy, len, dx, scratch, B, N);
}

/* §13 FFT form: 5·N·d·(log2 N + log2 d). */
static double fnet_flops(const xb_mixer_cfg *c, int N)
{
    return 5.0 * N * c->d * (log2((double)N) + log2((double)c->d));
}

/* Explicit O(n²d + nd²) DFT in double: Y = C_n X C_d − S_n X S_d. */
static void fnet_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           double *y, int B, int N)
{
    (void)w;
    const int d = c->d;
    double *t1 = calloc((size_t)N * d, sizeof(double)), *t2 = calloc((size_t)N * d, sizeof(double));
    XB_ASSERT(t1 && t2);
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        const float *xb = x + (size_t)b * N * d;
        for (int t = 0; t < n; t++)          /* t1 = X C_d, t2 = X S_d */
            for (int k = 0; k < d; k++) {
                double sc = 0, ss = 0;
                for (int j = 0; j < d; j++) {
                    double ang = 2 * M_PI * (double)(((long)j * k) % d) / d;
                    sc += xb[(size_t)t * d + j] * cos(ang);
                    ss += xb[(size_t)t * d + j] * sin(ang);
                }
                t1[(size_t)t * d + k] = sc;
                t2[(size_t)t * d + k] = ss;
            }
        for (int a = 0; a < N; a++)
            for (int k = 0; k < d; k++) {
                double s = 0;
                if (a < n)
                    for (int t = 0; t < n; t++) {
                        double ang = 2 * M_PI * (double)(((long)a * t) % n) / n;
                        s += cos(ang) * t1[(size_t)t * d + k] - sin(ang) * t2[(size_t)t * d + k];
                    }
                y[((size_t)b * N + a) * d + k] = s;
            }
    }
    free(t1); free(t2);
}

/* What xbench dump states (fnet has no tensors). */
static void fnet_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)c; (void)N;
    xb_fact_text(f, "padding", "each sequence transformed over its own length len[b] (FFTW); pads output 0");
}

const xb_mixer xb_mixer_fnet = {
    .name = "fnet",
    .family = "fourier",
    .cite = "Lee-Thorp et al. 2022, FNet: Mixing Tokens with Fourier Transforms",
    .complexity = "N log N",
    .modes = XB_BIDIR,
    .unverified = 0,
    .defaults = NULL,
    .check = NULL,
    .tensors = fnet_tensors,
    .init = fnet_init,
    .n_saved = fnet_n_saved,
    .n_scratch = fnet_n_scratch,
    .forward = fnet_forward,
    .backward = fnet_backward,
    .flops = fnet_flops,
    .reference = fnet_reference,
    .facts = fnet_facts,
};
