/* mixers/fnet.c — FNet Fourier token mixing (Lee-Thorp et al. 2022), MIXERS.md §13 and §32:
 *   Y = Re(F_n X F_d) = C_n X C_d − S_n X S_d   per sequence over its own n = len[b] real rows,
 * pad rows output 0. No parameters, nothing saved. Bidirectional only. The map is linear and
 * self-adjoint (C, S symmetric), so backward applies the same routine to dY.
 *
 * CPU form: one 2-D real-to-complex FFTW transform (single precision) of the n × d block, giving
 * the half spectrum Z[a][b] for b ≤ d/2; the other half follows from Hermitian symmetry:
 * Re Y[a][b] = Re Z[(n − a) mod n][d − b] for b > d/2.
 * Plans: one per (n, d), created with FFTW_ESTIMATE | FFTW_UNALIGNED (planning does not touch the
 * arrays) serially, before the parallel loop, and kept in a small static cache (planning is not
 * thread-safe; executing one plan on new arrays from several threads is — fftwf_execute_dft_r2c).
 * The cache is the one piece of mutable global state here: FFTW needs its plans to outlive calls. */
#include <fftw3.h>
#include <math.h>
#include <string.h>

#include "core/linattn.h"
#include "core/mixer.h"
#include "core/xb.h"

#define PLAN_CACHE 256

typedef struct plan_slot { int n, d; fftwf_plan p; } plan_slot;
static plan_slot plans[PLAN_CACHE];
static int n_plans;

/* Plan for an n × d transform (serial caller). `in`/`out` only give FFTW the array kinds. */
static fftwf_plan get_plan(int n, int d, float *in, fftwf_complex *out)
{
    fftwf_plan p = NULL;
    #pragma omp critical(xb_fftw_planner)
    {
        for (int i = 0; i < n_plans && !p; i++)
            if (plans[i].n == n && plans[i].d == d) p = plans[i].p;
        if (!p) {
            if (n_plans == PLAN_CACHE) {  /* full: start over (plans of a batch are re-made) */
                for (int i = 0; i < n_plans; i++) fftwf_destroy_plan(plans[i].p);
                n_plans = 0;
            }
            p = fftwf_plan_dft_r2c_2d(n, d, in, out, FFTW_ESTIMATE | FFTW_UNALIGNED | FFTW_PRESERVE_INPUT);
            XB_ASSERT(p);
            plans[n_plans++] = (plan_slot){n, d, p};
        }
    }
    return p;
}

static int fnet_tensors(const xb_mixer_cfg *c, xb_tensor *out) { (void)c; (void)out; return 0; }
static void fnet_init(const xb_mixer_cfg *c, float *w, xb_rng *rng) { (void)c; (void)w; (void)rng; }
static size_t fnet_n_saved(const xb_mixer_cfg *c, int N) { (void)c; (void)N; return 0; }

static size_t spec_floats(const xb_mixer_cfg *c, int N) { return xb_align64(2 * (size_t)N * (c->d / 2 + 1)); }

static size_t fnet_n_scratch(const xb_mixer_cfg *c, int B, int N)
{
    (void)B;
    return (size_t)xb_omp_max_threads() * spec_floats(c, N);
}

/* y[b] = Re(F_n x[b] F_d) for each sequence; rows ≥ len[b] of y are 0. Overwrites y. */
static void fourier2d(const xb_mixer_cfg *c, const float *x, const int *len, float *y, float *scratch,
                      int B, int N)
{
    const int d = c->d, dc = d / 2 + 1;
    const size_t nd = (size_t)N * d, sp = spec_floats(c, N);
    fftwf_plan pl[B];
    for (int b = 0; b < B; b++)   /* planning stays serial */
        pl[b] = get_plan(xb_len(len, b, N), d, (float *)x + b * nd, (fftwf_complex *)scratch);
    const int nt = xb_omp_max_threads();
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        float *Z = scratch + (size_t)xb_omp_tid() * sp;
        float *yb = y + b * nd;
        fftwf_execute_dft_r2c(pl[b], (float *)x + b * nd, (fftwf_complex *)Z);
        for (int a = 0; a < n; a++) {
            const float *za = Z + 2 * (size_t)a * dc, *zm = Z + 2 * (size_t)((n - a) % n) * dc;
            float *ya = yb + (size_t)a * d;
            for (int j = 0; j < dc && j < d; j++) ya[j] = za[2 * j];
            for (int j = dc; j < d; j++) ya[j] = zm[2 * (d - j)];
        }
        memset(yb + (size_t)n * d, 0, (size_t)(N - n) * d * sizeof(float));
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

const xb_mixer xb_mixer_fnet = {
    .name = "fnet",
    .family = "fourier",
    .cite = "Lee-Thorp et al. 2022, FNet: Mixing Tokens with Fourier Transforms",
    .complexity = "N log N",
    .options = "",
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
};
