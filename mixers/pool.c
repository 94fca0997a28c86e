/* mixers/pool.c — PoolFormer pooling mixer (Yu et al. 2022, MetaFormer), MIXERS.md §14 and §32:
 *   Y_i = (1/|W_i|) Σ_{k∈W_i} X_k − X_i   (stride 1, count_include_pad = False)
 * over REAL tokens only: bidirectional W_i = [i − ⌊p/2⌋, i + ⌊p/2⌋] ∩ [0, len−1], causal
 * W_i = [i − p + 1, i] ∩ [0, len−1]; p = `window` (default 3, must be odd). No parameters, nothing
 * saved (the map is linear). Backward: dX_k = Σ_{i: k∈W_i} dY_i/|W_i| − dY_k. */
#include <stdio.h>
#include <string.h>

#include "core/mixer.h"
#include "core/xb.h"

enum { OPT_WINDOW };
static const xb_mixer_opt pool_opts[] = {
    [OPT_WINDOW] = {.name = "window", .type = XB_OPT_INT, .min = 1, .max = XB_MAX_LENGTH, .def = 3,
                    .help = "pool size p, odd"},
};

static int pool_check(const xb_mixer_cfg *c, char *err, size_t errn)
{
    if (xb_cfg_int(c, OPT_WINDOW) < 1 || xb_cfg_int(c, OPT_WINDOW) % 2 == 0) {
        snprintf(err, errn, "window: pool size must be a positive odd number, got %d", xb_cfg_int(c, OPT_WINDOW));
        return XB_EINVAL;
    }
    return XB_OK;
}

static int pool_tensors(const xb_mixer_cfg *c, xb_tensor *out) { (void)c; (void)out; return 0; }
static void pool_init(const xb_mixer_cfg *c, float *w, xb_rng *rng) { (void)c; (void)w; (void)rng; }
static size_t pool_n_saved(const xb_mixer_cfg *c, int N) { (void)c; (void)N; return 0; }
static size_t pool_n_scratch(const xb_mixer_cfg *c, int B, int N) { (void)c; (void)B; (void)N; return 0; }

/* Window of position i in a sequence of n real tokens: [*lo, *hi]. */
static void window(const xb_mixer_cfg *c, int i, int n, int *lo, int *hi)
{
    int p = xb_cfg_int(c, OPT_WINDOW);
    if (c->causal) { *lo = i - p + 1; *hi = i; }
    else { *lo = i - p / 2; *hi = i + p / 2; }
    if (*lo < 0) *lo = 0;
    if (*hi > n - 1) *hi = n - 1;
}

/* One output row: yi[j] = (Σ_{k=lo..hi} x_k[j]) / (hi − lo + 1) − x_i[j]. Columns in blocks of
 * LANES held in a register accumulator (one pass over yi instead of |W| + 2); k ascending from
 * 0, the naive loop's sum order, so results are unchanged. */
#define LANES 16
static void pool_row(float *restrict yi, const float *restrict xb, int lo, int hi, int i, int d)
{
    const float inv = 1.0f / (float)(hi - lo + 1);
    const float *xi = xb + (size_t)i * d;
    int j = 0;
    for (; j + LANES <= d; j += LANES) {
        float acc[LANES] = {0};
        for (int k = lo; k <= hi; k++) {
            const float *xk = xb + (size_t)k * d + j;
            for (int l = 0; l < LANES; l++) acc[l] += xk[l];
        }
        for (int l = 0; l < LANES; l++) yi[j + l] = acc[l] * inv - xi[j + l];
    }
    for (; j < d; j++) {
        float s = 0.0f;
        for (int k = lo; k <= hi; k++) s += xb[(size_t)k * d + j];
        yi[j] = s * inv - xi[j];
    }
}

/* y[B×N×d] overwritten; rows ≥ len are 0. */
static void pool_forward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                         float *y, float *saved, float *scratch, int B, int N)
{
    (void)w; (void)saved; (void)scratch;
    const int d = c->d;
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int i = 0; i < N; i++) {
            int n = xb_len(len, b, N), lo, hi;
            float *yi = y + ((size_t)b * N + i) * d;
            if (i >= n) { memset(yi, 0, (size_t)d * sizeof(float)); continue; }
            window(c, i, n, &lo, &hi);
            pool_row(yi, x + (size_t)b * N * d, lo, hi, i, d);
        }
}

/* dx overwritten (the transpose of the averaging); no parameters. */
static void pool_backward(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                          const float *saved, const float *dy, float *dx, float *dw, float *scratch,
                          int B, int N)
{
    (void)w; (void)x; (void)saved; (void)dw; (void)scratch;
    const int d = c->d, p = xb_cfg_int(c, OPT_WINDOW);
    #pragma omp parallel for collapse(2) schedule(static)
    for (int b = 0; b < B; b++)
        for (int k = 0; k < N; k++) {
            int n = xb_len(len, b, N);
            float *dxk = dx + ((size_t)b * N + k) * d;
            if (k >= n) { memset(dxk, 0, (size_t)d * sizeof(float)); continue; }
            const float *dyb = dy + (size_t)b * N * d;
            /* i with k ∈ W_i: bidir |i − k| ≤ ⌊p/2⌋, causal k ≤ i ≤ k + p − 1; real i only */
            int ilo = c->causal ? k : k - p / 2, ihi = c->causal ? k + p - 1 : k + p / 2;
            if (ilo < 0) ilo = 0;
            if (ihi > n - 1) ihi = n - 1;
            for (int j = 0; j < d; j++) dxk[j] = -dyb[(size_t)k * d + j];
            for (int i = ilo; i <= ihi; i++) {
                int lo, hi;
                window(c, i, n, &lo, &hi);
                float inv = 1.0f / (float)(hi - lo + 1);
                for (int j = 0; j < d; j++) dxk[j] += dyb[(size_t)i * d + j] * inv;
            }
        }
}

/* §14 exact: Σ_i d·(|W_i| + 1) over a full sequence of N tokens. */
static double pool_flops(const xb_mixer_cfg *c, int N)
{
    const int p = xb_cfg_int(c, OPT_WINDOW);
    double P = c->causal ? xb_window_pairs(N, p - 1, 0) : xb_window_pairs(N, p / 2, p / 2);
    return (double)c->d * (P + N);
}

/* Naive double forward with explicit window bounds. */
static void pool_reference(const xb_mixer_cfg *c, const float *w, const float *x, const int *len,
                           double *y, int B, int N)
{
    (void)w;
    const int d = c->d, p = xb_cfg_int(c, OPT_WINDOW);
    for (int b = 0; b < B; b++) {
        int n = xb_len(len, b, N);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < d; j++) {
                double s = 0;
                int cnt = 0;
                if (i < n) {
                    int lo = c->causal ? i - (p - 1) : i - (p - 1) / 2;
                    int hi = c->causal ? i : i + (p - 1) / 2;
                    for (int k = lo; k <= hi; k++)
                        if (k >= 0 && k < n) { s += x[((size_t)b * N + k) * d + j]; cnt++; }
                    s = s / cnt - x[((size_t)b * N + i) * d + j];
                }
                y[((size_t)b * N + i) * d + j] = s;
            }
    }
}

/* ---- decode: a ring of the last p inputs; y_t = their mean − x_t ---- */

static size_t pool_decode_state(const xb_mixer_cfg *c, int n_max)
{
    return (size_t)(xb_cfg_int(c, OPT_WINDOW) < n_max ? xb_cfg_int(c, OPT_WINDOW) : n_max) * c->d;
}

static size_t pool_decode_scratch(const xb_mixer_cfg *c, int n_max) { (void)c; (void)n_max; return 0; }

static void pool_decode_step(const xb_mixer_cfg *c, int n_max, const float *w, const float *x, int t,
                             float *state, float *y, float *scratch)
{
    (void)w; (void)scratch;
    const int d = c->d, cap = xb_cfg_int(c, OPT_WINDOW) < n_max ? xb_cfg_int(c, OPT_WINDOW) : n_max;
    memcpy(state + (size_t)(t % cap) * d, x, (size_t)d * sizeof(float));
    const int lo = t - (xb_cfg_int(c, OPT_WINDOW) - 1) > 0 ? t - (xb_cfg_int(c, OPT_WINDOW) - 1) : 0, cnt = t - lo + 1;
    for (int j = 0; j < d; j++) y[j] = 0;
    for (int k = lo; k <= t; k++) {   /* in position order, as the forward sums */
        const float *r = state + (size_t)(k % cap) * d;
        for (int j = 0; j < d; j++) y[j] += r[j];
    }
    for (int j = 0; j < d; j++) y[j] = y[j] / cnt - x[j];
}

/* What xbench dump states (pool has no tensors). */
static void pool_facts(const xb_mixer_cfg *c, int N, const xb_facts *f)
{
    (void)N;
    xb_fact_int(f, "pool_size", xb_cfg_int(c, OPT_WINDOW));
    xb_fact_text(f, "pool_rule", "odd pool size p (default 3); an even p is an error");
}

const xb_mixer xb_mixer_pool = {
    .name = "pool",
    .family = "pooling",
    .cite = "Yu et al. 2022, MetaFormer Is Actually What You Need for Vision",
    .complexity = "N w",
    XB_OPTS(pool_opts),
    .modes = XB_CAUSAL | XB_BIDIR,
    .unverified = 0,
    .check = pool_check,
    .tensors = pool_tensors,
    .init = pool_init,
    .n_saved = pool_n_saved,
    .n_scratch = pool_n_scratch,
    .forward = pool_forward,
    .backward = pool_backward,
    .flops = pool_flops,
    .reference = pool_reference,
    .decode_state = pool_decode_state,
    .decode_scratch = pool_decode_scratch,
    .decode_step = pool_decode_step,
    .facts = pool_facts,
};
