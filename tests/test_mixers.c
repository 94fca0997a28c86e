/* tests/test_mixers.c — checks every registered mixer through the contract, so a new mixer is
 * tested without new test code (parameterised over mixers/registry.c):
 *   contract     every member present, tensors tile the slab without overlap
 *   gradcheck    backward vs central finite differences (double loss, sampled coordinates),
 *                in every supported mode, with padding
 *   causality    causal mode: changing token t changes no output before t (bit for bit)
 *   padding      changing pad tokens changes no real output; pad outputs and dx are exactly 0
 *   reference    forward vs the mixer's independent naive double-precision implementation,
 *                at a length that spans several tiles/chunks
 *   determinism  two forwards give bit-identical outputs
 *   flops        positive, finite, and growing with N */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <string.h>

#include "core/mixer.h"
#include "core/xb.h"
#include "mixers/registry.h"

/* A small configuration that exercises tiles, chunks and windows at test sizes. */
static xb_mixer_cfg small_cfg(const xb_mixer *m, int d, int heads, int causal, int n_max, int chunk)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = heads; c.causal = causal; c.n_max = n_max;
    c.window = 5; c.block = 4; c.rank = 6; c.features = 8; c.state = 4; c.order = 6;
    c.theta = n_max; c.chunk = chunk; c.d_ff = 2 * d; c.eps = 0.0f;
    /* leave kv_heads/q_heads/expand/conv/dt_rank/expand_k to the mixer's defaults */
    return xb_mixer_resolve(m, &c);
}

typedef struct run {
    const xb_mixer *m;
    xb_mixer_cfg c;
    int B, N, d;
    size_t np, ns, nsc;
    float *w, *saved, *scratch, *y, *dx, *dw;
} run;

static void run_init(run *r, const xb_mixer *m, xb_mixer_cfg c, int B, int N)
{
    memset(r, 0, sizeof *r);
    r->m = m; r->c = c; r->B = B; r->N = N; r->d = c.d;
    char err[256] = "";
    if (m->check) cr_assert_eq(m->check(&c, err, sizeof err), 0, "%s: check: %s", m->name, err);
    r->np = xb_mixer_n_params(m, &c);
    r->ns = m->n_saved(&c, N);
    r->nsc = m->n_scratch ? m->n_scratch(&c, B, N) : 0;
    r->w = xb_alloc(r->np * sizeof(float));
    r->saved = xb_alloc((size_t)B * r->ns * sizeof(float) + 64);
    r->scratch = xb_alloc(r->nsc * sizeof(float) + 64);
    r->y = xb_alloc((size_t)B * N * c.d * sizeof(float));
    r->dx = xb_alloc((size_t)B * N * c.d * sizeof(float));
    r->dw = xb_alloc(r->np * sizeof(float) + 64);
    xb_rng rng;
    xb_rng_seed(&rng, 42);
    m->init(&c, r->w, &rng);
}

static void run_free(run *r)
{
    xb_free(r->w); xb_free(r->saved); xb_free(r->scratch); xb_free(r->y); xb_free(r->dx); xb_free(r->dw);
}

static void fwd(run *r, const float *x, const int *len)
{
    r->m->forward(&r->c, r->w, x, len, r->y, r->saved, r->scratch, r->B, r->N);
}

static float *rand_buf(size_t n, uint64_t seed, float scale)
{
    float *p = xb_alloc(n * sizeof(float));
    xb_rng rng;
    xb_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)xb_rng_normal(&rng);
    return p;
}

/* Parameters: one per mixer. */
static int mixer_ids[128];
static int n_params_list(void)
{
    for (int i = 0; i < xb_n_mixers && i < 128; i++) mixer_ids[i] = i;
    return xb_n_mixers;
}

#define MIXER_PARAMS(suite, test) \
    ParameterizedTestParameters(suite, test) { return cr_make_param_array(int, mixer_ids, n_params_list()); }

/* ---- contract ---------------------------------------------------------------------- */

MIXER_PARAMS(mixers, contract)
ParameterizedTest(int *i, mixers, contract)
{
    const xb_mixer *m = xb_mixers[*i];
    cr_assert(m->name && m->family && m->cite && m->complexity && m->options, "%s: metadata", m->name);
    cr_assert(m->modes & (XB_CAUSAL | XB_BIDIR), "%s: modes", m->name);
    cr_assert(m->tensors && m->init && m->n_saved && m->forward && m->backward && m->flops &&
              m->reference, "%s: a required member is NULL", m->name);
    cr_assert_eq(xb_mixer_find(m->name), m, "%s: registry lookup", m->name);
    for (int causal = 0; causal <= 1; causal++) {
        if (!(m->modes & (causal ? XB_CAUSAL : XB_BIDIR))) continue;
        xb_mixer_cfg c = small_cfg(m, 16, 2, causal, 16, 4);
        xb_tensor t[XB_MAX_TENSORS];
        int n = m->tensors(&c, t);
        cr_assert(n >= 0 && n <= XB_MAX_TENSORS, "%s: tensor count %d", m->name, n);
        size_t np = xb_mixer_n_params(m, &c);
        unsigned char *seen = calloc(np + 1, 1);
        for (int k = 0; k < n; k++) {
            cr_assert(t[k].name && t[k].rows > 0 && t[k].cols > 0, "%s: tensor %d", m->name, k);
            for (size_t j = 0; j < (size_t)t[k].rows * t[k].cols; j++) {
                cr_assert(!seen[t[k].offset + j], "%s: tensor %s overlaps", m->name, t[k].name);
                seen[t[k].offset + j] = 1;
            }
        }
        for (size_t j = 0; j < np; j++) cr_assert(seen[j], "%s: float %zu of the slab is in no tensor", m->name, j);
        free(seen);
    }
}

/* ---- gradient check ---------------------------------------------------------------- */

/* loss = Σ y ⊙ R in double */
static double proj_loss(const float *y, const float *R, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * R[i];
    return s;
}

static int close_enough(double a, double n)
{
    double den = fabs(a) + fabs(n);
    return fabs(a - n) <= 3e-2 * den + 2e-3;
}

static void gradcheck_mode(const xb_mixer *m, int causal)
{
    const int B = 2, N = 11, d = 16;
    int len[2] = {N, 8};
    run r;
    run_init(&r, m, small_cfg(m, d, 2, causal, N, 4), B, N);
    size_t nx = (size_t)B * N * d;
    float *x = rand_buf(nx, 7, 1.0f);
    float *R = rand_buf(nx, 8, 1.0f);
    fwd(&r, x, len);
    memset(r.dw, 0, r.np * sizeof(float));
    m->backward(&r.c, r.w, x, len, r.saved, R, r.dx, r.dw, r.scratch, B, N);

    /* pad rows of dx are exactly zero */
    for (int t = len[1]; t < N; t++)
        for (int j = 0; j < d; j++)
            cr_assert_eq(r.dx[((size_t)1 * N + t) * d + j], 0.0f, "%s: dx at pad position %d not 0", m->name, t);

    unsigned char *flags = malloc(r.np + 1);
    xb_mixer_flags(m, &r.c, flags);
    xb_rng pick;
    xb_rng_seed(&pick, 99);
    int bad = 0, checked = 0;
    char where[256] = "";
    for (int k = 0; k < 48; k++) {  /* inputs, real positions only */
        int b = (int)xb_rng_below(&pick, B), t = (int)xb_rng_below(&pick, len[b]), j = (int)xb_rng_below(&pick, d);
        size_t idx = ((size_t)b * N + t) * d + j;
        float keep = x[idx];
        double num = 0;
        for (int e = 0; e < 2; e++) {
            float h = e ? 1e-2f : 3e-3f;
            x[idx] = keep + h; fwd(&r, x, len); double lp = proj_loss(r.y, R, nx);
            x[idx] = keep - h; fwd(&r, x, len); double lm = proj_loss(r.y, R, nx);
            num = (lp - lm) / (2.0 * h);
            if (close_enough(r.dx[idx], num)) break;
        }
        x[idx] = keep;
        checked++;
        if (!close_enough(r.dx[idx], num)) {
            bad++;
            snprintf(where, sizeof where, "dx[b=%d,t=%d,j=%d] analytic %g numeric %g", b, t, j, r.dx[idx], num);
        }
    }
    for (int k = 0; k < 96 && r.np > 0; k++) {  /* parameters, frozen buffers excluded */
        size_t idx = xb_rng_u64(&pick) % r.np;
        if (flags[idx] & XB_T_FROZEN) continue;
        float keep = r.w[idx];
        double num = 0;
        for (int e = 0; e < 2; e++) {
            float h = e ? 1e-2f : 3e-3f;
            r.w[idx] = keep + h; fwd(&r, x, len); double lp = proj_loss(r.y, R, nx);
            r.w[idx] = keep - h; fwd(&r, x, len); double lm = proj_loss(r.y, R, nx);
            num = (lp - lm) / (2.0 * h);
            if (close_enough(r.dw[idx], num)) break;
        }
        r.w[idx] = keep;
        checked++;
        if (!close_enough(r.dw[idx], num)) {
            bad++;
            xb_tensor t[XB_MAX_TENSORS];
            int nt = m->tensors(&r.c, t);
            const char *tn = "?";
            for (int q = 0; q < nt; q++)
                if (idx >= t[q].offset && idx < t[q].offset + (size_t)t[q].rows * t[q].cols) tn = t[q].name;
            snprintf(where, sizeof where, "d%s[%zu] analytic %g numeric %g", tn, idx, r.dw[idx], num);
        }
    }
    cr_expect_eq(bad, 0, "%s (%s): %d of %d gradient coordinates disagree, e.g. %s", m->name,
                 causal ? "causal" : "bidirectional", bad, checked, where);
    free(flags); xb_free(x); xb_free(R);
    run_free(&r);
}

MIXER_PARAMS(mixers, gradcheck)
ParameterizedTest(int *i, mixers, gradcheck)
{
    const xb_mixer *m = xb_mixers[*i];
    if (m->modes & XB_BIDIR) gradcheck_mode(m, 0);
    if (m->modes & XB_CAUSAL) gradcheck_mode(m, 1);
}

/* ---- causality and padding --------------------------------------------------------- */

MIXER_PARAMS(mixers, causality)
ParameterizedTest(int *i, mixers, causality)
{
    const xb_mixer *m = xb_mixers[*i];
    if (!(m->modes & XB_CAUSAL)) return;
    const int B = 1, N = 70, d = 16;   /* spans several 64-row tiles at chunk 16 */
    run r;
    run_init(&r, m, small_cfg(m, d, 2, 1, N, 16), B, N);
    size_t nx = (size_t)N * d;
    float *x = rand_buf(nx, 11, 1.0f);
    float *y0 = xb_alloc(nx * sizeof(float));
    const int ts[] = {1, 17, 40, 65, N - 1};
    for (size_t q = 0; q < sizeof ts / sizeof ts[0]; q++) {
        int t = ts[q];
        fwd(&r, x, NULL);
        memcpy(y0, r.y, nx * sizeof(float));
        float keep[64];
        for (int j = 0; j < d; j++) { keep[j] = x[(size_t)t * d + j]; x[(size_t)t * d + j] += 0.5f + 0.1f * j; }
        fwd(&r, x, NULL);
        for (size_t k = 0; k < (size_t)t * d; k++)
            cr_assert_eq(r.y[k], y0[k], "%s: changing token %d changed output at position %zu", m->name, t, k / d);
        int changed = 0;
        for (size_t k = (size_t)t * d; k < nx; k++) changed |= r.y[k] != y0[k];
        (void)changed; /* a mixer may legitimately ignore a token (e.g. pool windows); not asserted */
        for (int j = 0; j < d; j++) x[(size_t)t * d + j] = keep[j];
    }
    xb_free(x); xb_free(y0);
    run_free(&r);
}

static void padding_mode(const xb_mixer *m, int causal)
{
    const int B = 2, N = 70, d = 16;
    int len[2] = {N, 37};
    run r;
    run_init(&r, m, small_cfg(m, d, 2, causal, N, 16), B, N);
    size_t nx = (size_t)B * N * d;
    float *x = rand_buf(nx, 13, 1.0f);
    fwd(&r, x, len);
    float *y0 = xb_alloc(nx * sizeof(float));
    memcpy(y0, r.y, nx * sizeof(float));
    for (int t = len[1]; t < N; t++)
        for (int j = 0; j < d; j++) {
            size_t k = ((size_t)N + t) * d + j;
            cr_assert_eq(r.y[k], 0.0f, "%s (%s): output at pad position %d is not 0", m->name, causal ? "causal" : "bidir", t);
            x[k] = 3.0f * (float)((t * 7 + j) % 5) - 6.0f;   /* garbage in the pads */
        }
    fwd(&r, x, len);
    for (size_t k = 0; k < nx; k++)
        cr_assert_eq(r.y[k], y0[k], "%s (%s): a pad token changed the output at sequence %zu position %zu",
                     m->name, causal ? "causal" : "bidir", k / ((size_t)N * d), (k / d) % N);
    xb_free(x); xb_free(y0);
    run_free(&r);
}

MIXER_PARAMS(mixers, padding)
ParameterizedTest(int *i, mixers, padding)
{
    const xb_mixer *m = xb_mixers[*i];
    if (m->modes & XB_BIDIR) padding_mode(m, 0);
    if (m->modes & XB_CAUSAL) padding_mode(m, 1);
}

/* ---- reference, determinism, flops ------------------------------------------------- */

static void reference_mode(const xb_mixer *m, int causal)
{
    const int B = 2, N = 150, d = 32;   /* 150: several 64-tiles and a ragged last one */
    int len[2] = {N, 97};
    xb_mixer_cfg c = small_cfg(m, d, 2, causal, N, 0);
    c.window = 0; c.block = 0; c.rank = 0; c.features = 0; c.state = 0; c.order = 0; c.d_ff = 0;
    c.theta = N; c.chunk = 0;
    c = xb_mixer_resolve(m, &c);      /* the mixer's own defaults, as a suite would use */
    c.eps = 0.0f;
    run r;
    run_init(&r, m, c, B, N);
    size_t nx = (size_t)B * N * d;
    float *x = rand_buf(nx, 17, 1.0f);
    double *yr = calloc(nx, sizeof(double));
    fwd(&r, x, len);
    m->reference(&r.c, r.w, x, len, yr, B, N);
    double maxref = 0, maxerr = 0;
    size_t at = 0;
    for (size_t k = 0; k < nx; k++) {
        if (fabs(yr[k]) > maxref) maxref = fabs(yr[k]);
        double e = fabs(r.y[k] - yr[k]);
        if (e > maxerr) { maxerr = e; at = k; }
    }
    cr_expect(maxerr <= 1e-4 * (maxref > 1 ? maxref : 1), "%s (%s): forward differs from reference by %g "
              "(max |ref| %g) at sequence %zu position %zu channel %zu", m->name, causal ? "causal" : "bidir",
              maxerr, maxref, at / ((size_t)N * d), (at / d) % N, at % d);
    /* determinism */
    float *y1 = xb_alloc(nx * sizeof(float));
    memcpy(y1, r.y, nx * sizeof(float));
    fwd(&r, x, len);
    cr_expect_eq(memcmp(y1, r.y, nx * sizeof(float)), 0, "%s: two forwards differ", m->name);
    xb_free(y1); xb_free(x); free(yr);
    run_free(&r);
}

MIXER_PARAMS(mixers, reference)
ParameterizedTest(int *i, mixers, reference)
{
    const xb_mixer *m = xb_mixers[*i];
    if (m->modes & XB_BIDIR) reference_mode(m, 0);
    if (m->modes & XB_CAUSAL) reference_mode(m, 1);
}

MIXER_PARAMS(mixers, flops_sane)
ParameterizedTest(int *i, mixers, flops_sane)
{
    const xb_mixer *m = xb_mixers[*i];
    for (int causal = 0; causal <= 1; causal++) {
        if (!(m->modes & (causal ? XB_CAUSAL : XB_BIDIR))) continue;
        xb_mixer_cfg c = small_cfg(m, 64, 4, causal, 4096, 0);
        c.window = c.block = c.rank = c.features = c.state = c.order = c.d_ff = c.chunk = 0;
        c = xb_mixer_resolve(m, &c);
        double f1 = m->flops(&c, 1024), f2 = m->flops(&c, 2048);
        cr_expect(isfinite(f1) && f1 > 0 && f2 > f1, "%s: flops(1024)=%g flops(2048)=%g", m->name, f1, f2);
    }
}
