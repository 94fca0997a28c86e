/* tests/test_layers.c — every layer of core/layers.h against central finite differences
 * (loss = Σ out ⊙ R in double for a random projection R, sampled coordinates, relative
 * tolerance), plus forward checks against naive formulas and padding/causality checks:
 * embedding + positions, RMSNorm, Linear, MLP (plain, GLU), short conv (causal, centred, with
 * padding), mean pooling, the CLS/PAIR/TOK heads (with padding) and cross-entropy with
 * ignored targets. */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <string.h>

#include "core/layers.h"
#include "core/xb.h"

/* ---- helpers ----------------------------------------------------------------------------- */

/* Every buffer a test takes, freed after it (the suite's .fini): no leak under SAN=1. */
static void *bufs[512];
static int n_bufs;

static float *buffer(size_t n)
{
    cr_assert_lt(n_bufs, 512, "more buffers than bufs[] holds");
    return bufs[n_bufs++] = xb_alloc(n * sizeof(float));
}

static void free_buffers(void)
{
    while (n_bufs > 0) xb_free(bufs[--n_bufs]);
}

TestSuite(layers, .fini = free_buffers);

static float *randn(size_t n, uint64_t seed, float scale)
{
    float *p = buffer(n);
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)xb_rng_normal(&r);
    return p;
}

static float *zeros(size_t n) { return buffer(n); }

static double proj(const float *y, const float *R, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)y[i] * R[i];
    return s;
}

static int close_enough(double a, double n) { return fabs(a - n) <= 2e-2 * (fabs(a) + fabs(n)) + 1e-3; }

typedef struct fd_var { const char *name; float *v; const float *g; size_t n; } fd_var;
typedef double (*loss_fn)(void *ctx);   /* runs the forward, returns the double loss */

/* Central differences on up to `samples` coordinates of each variable (all when small). */
static void fd_check(const char *what, loss_fn f, void *ctx, fd_var *vars, int nv, int samples)
{
    xb_rng pick;
    xb_rng_seed(&pick, 1234);
    int bad = 0, checked = 0;
    char where[256] = "";
    for (int q = 0; q < nv; q++) {
        size_t n = vars[q].n;
        int cnt = n <= (size_t)samples ? (int)n : samples;
        for (int s = 0; s < cnt; s++) {
            size_t i = n <= (size_t)samples ? (size_t)s : xb_rng_u64(&pick) % n;
            float keep = vars[q].v[i];
            double num = 0;
            for (int e = 0; e < 2; e++) {
                float h = e ? 1e-2f : 2e-3f;
                vars[q].v[i] = keep + h; double lp = f(ctx);
                vars[q].v[i] = keep - h; double lm = f(ctx);
                num = (lp - lm) / (2.0 * h);
                if (close_enough(vars[q].g[i], num)) break;
            }
            vars[q].v[i] = keep;
            checked++;
            if (!close_enough(vars[q].g[i], num)) {
                bad++;
                snprintf(where, sizeof where, "d%s[%zu]: analytic %g numeric %g", vars[q].name, i, vars[q].g[i], num);
            }
        }
    }
    f(ctx);   /* leave the forward state of the unperturbed inputs */
    cr_expect_eq(bad, 0, "%s: %d of %d coordinates disagree, e.g. %s", what, bad, checked, where);
}

/* ---- embedding ---------------------------------------------------------------------------- */

typedef struct emb_ctx { int32_t *tok; float *wte, *wpe, *out, *R; int B, N, d; } emb_ctx;

static double emb_loss(void *c)
{
    emb_ctx *e = c;
    xb_embed_forward(e->out, e->tok, e->wte, e->wpe, e->B, e->N, e->d);
    return proj(e->out, e->R, (size_t)e->B * e->N * e->d);
}

Test(layers, embedding_positions)
{
    int B = 2, N = 5, d = 8, V = 4;
    int32_t tok[10] = {0, 1, 1, 3, 2, 3, 3, 0, 1, 2};   /* repeated tokens: dwte rows collide */
    emb_ctx e = {tok, randn((size_t)V * d, 1, 1), randn((size_t)N * d, 2, 1), zeros((size_t)B * N * d),
                 randn((size_t)B * N * d, 3, 1), B, N, d};
    emb_loss(&e);
    for (int r = 0; r < B * N; r++)
        for (int j = 0; j < d; j++)
            cr_assert_eq(e.out[r * d + j], e.wte[tok[r] * d + j] + e.wpe[(r % N) * d + j]);
    float *gte = zeros((size_t)V * d), *gpe = zeros((size_t)N * d);
    xb_embed_backward(gte, gpe, e.R, tok, B, N, d);
    fd_var v[] = {{"wte", e.wte, gte, (size_t)V * d}, {"wpe", e.wpe, gpe, (size_t)N * d}};
    fd_check("embedding", emb_loss, &e, v, 2, 64);
    /* without positions */
    e.wpe = NULL;
    emb_loss(&e);
    for (int j = 0; j < d; j++) cr_assert_eq(e.out[3 * d + j], e.wte[3 * d + j]);
}

/* ---- RMSNorm ------------------------------------------------------------------------------- */

typedef struct norm_ctx { float *x, *w, *y, *rstd, *R; int rows, d; } norm_ctx;

static double norm_loss(void *c)
{
    norm_ctx *n = c;
    xb_rmsnorm_forward(n->y, n->rstd, n->x, n->w, n->rows, n->d);
    return proj(n->y, n->R, (size_t)n->rows * n->d);
}

Test(layers, rmsnorm)
{
    int rows = 7, d = 20;   /* d not a multiple of 16: a ragged column block */
    norm_ctx n = {randn((size_t)rows * d, 4, 1), randn(d, 5, 1), zeros((size_t)rows * d), zeros(rows),
                  randn((size_t)rows * d, 6, 1), rows, d};
    norm_loss(&n);
    for (int r = 0; r < rows; r++) {   /* naive forward */
        double ss = 0;
        for (int j = 0; j < d; j++) ss += (double)n.x[r * d + j] * n.x[r * d + j];
        double s = 1.0 / sqrt(ss / d + 1e-5);
        for (int j = 0; j < d; j++)
            cr_assert_float_eq(n.y[r * d + j], n.x[r * d + j] * s * n.w[j], 1e-5);
    }
    float *gx = zeros((size_t)rows * d), *gw = zeros(d);
    xb_rmsnorm_backward(gx, gw, n.R, n.x, n.w, n.rstd, rows, d);
    fd_var v[] = {{"x", n.x, gx, (size_t)rows * d}, {"w", n.w, gw, (size_t)d}};
    fd_check("rmsnorm", norm_loss, &n, v, 2, 80);
}

/* ---- Linear --------------------------------------------------------------------------------- */

typedef struct lin_ctx { float *x, *W, *b, *y, *R; int rows, in, out; } lin_ctx;

static double lin_loss(void *c)
{
    lin_ctx *l = c;
    xb_linear_forward(l->y, l->x, l->W, l->b, l->rows, l->in, l->out);
    return proj(l->y, l->R, (size_t)l->rows * l->out);
}

Test(layers, linear)
{
    int rows = 6, in = 9, out = 19;
    lin_ctx l = {randn((size_t)rows * in, 7, 1), randn((size_t)in * out, 8, 0.3f), randn(out, 9, 1),
                 zeros((size_t)rows * out), randn((size_t)rows * out, 10, 1), rows, in, out};
    lin_loss(&l);
    for (int r = 0; r < rows; r++)
        for (int j = 0; j < out; j++) {
            double s = l.b[j];
            for (int i = 0; i < in; i++) s += (double)l.x[r * in + i] * l.W[i * out + j];
            cr_assert_float_eq(l.y[r * out + j], s, 1e-4);
        }
    float *gx = zeros((size_t)rows * in), *gW = zeros((size_t)in * out), *gb = zeros(out);
    /* backward accumulates: run twice on halves of R and check the sum */
    xb_linear_backward(gx, gW, gb, l.R, l.x, l.W, rows, in, out);
    fd_var v[] = {{"x", l.x, gx, (size_t)rows * in}, {"W", l.W, gW, (size_t)in * out}, {"b", l.b, gb, (size_t)out}};
    fd_check("linear", lin_loss, &l, v, 3, 60);
    float keep = gb[0];
    xb_linear_backward(gx, gW, gb, l.R, l.x, l.W, rows, in, out);
    cr_assert_float_eq(gb[0], 2 * keep, 1e-5 * (1 + fabsf(keep)), "bias gradient accumulates");
}

/* ---- MLP ------------------------------------------------------------------------------------- */

typedef struct mlp_ctx { int kind; float *x, *w, *y, *saved, *R; int rows, d, H; } mlp_ctx;

static double mlp_loss(void *c)
{
    mlp_ctx *m = c;
    xb_mlp_forward(m->kind, m->y, m->saved, m->x, m->w, m->rows, m->d, m->H);
    return proj(m->y, m->R, (size_t)m->rows * m->d);
}

static void mlp_case(int kind)
{
    int rows = 5, d = 8, H = 16;
    size_t np = xb_mlp_n_params(kind, d, H);
    xb_tensor t[4];
    int nt = xb_mlp_tensors(kind, d, H, t);
    cr_assert_eq(t[nt - 1].offset + (size_t)t[nt - 1].rows * t[nt - 1].cols, np, "tensors tile the slab");
    mlp_ctx m = {kind, randn((size_t)rows * d, 11, 1), randn(np, 12, 0.4f), zeros((size_t)rows * d),
                 zeros(xb_mlp_n_saved(kind, rows, H)), randn((size_t)rows * d, 13, 1), rows, d, H};
    mlp_loss(&m);
    /* naive forward of row 2 */
    int r = 2;
    for (int j = 0; j < d; j++) {
        double s = 0;
        for (int i = 0; i < H; i++) {
            double a;
            if (kind == XB_MLP_PLAIN) {
                double h = m.w[d * H + i];
                for (int k = 0; k < d; k++) h += (double)m.x[r * d + k] * m.w[k * H + i];
                a = 0.5 * h * (1 + erf(h / sqrt(2.0)));
                s += a * m.w[d * H + H + i * d + j];
            } else {
                double u1 = 0, u2 = 0;
                for (int k = 0; k < d; k++) {
                    u1 += (double)m.x[r * d + k] * m.w[k * 2 * H + i];
                    u2 += (double)m.x[r * d + k] * m.w[k * 2 * H + H + i];
                }
                a = u1 / (1 + exp(-u1)) * u2;
                s += a * m.w[2 * d * H + i * d + j];
            }
        }
        if (kind == XB_MLP_PLAIN) s += m.w[2 * d * H + H + j];
        cr_assert_float_eq(m.y[r * d + j], s, 1e-4, "mlp kind %d forward", kind);
    }
    float *gx = zeros((size_t)rows * d), *gw = zeros(np), *scr = zeros(xb_mlp_n_scratch(kind, rows, H));
    xb_mlp_backward(kind, gx, gw, m.R, m.x, m.saved, m.w, scr, rows, d, H);
    fd_var v[] = {{"x", m.x, gx, (size_t)rows * d}, {"w", m.w, gw, np}};
    fd_check(kind == XB_MLP_PLAIN ? "mlp" : "glu", mlp_loss, &m, v, 2, 100);
}

Test(layers, mlp_plain) { mlp_case(XB_MLP_PLAIN); }
Test(layers, mlp_glu) { mlp_case(XB_MLP_GLU); }

/* ---- short conv ------------------------------------------------------------------------------- */

typedef struct conv_ctx { float *u, *w, *y, *R; const int *len; int B, N, d, k, causal; } conv_ctx;

static double conv_loss(void *c)
{
    conv_ctx *v = c;
    xb_shortconv_forward(v->y, v->u, v->w, v->len, v->B, v->N, v->d, v->k, v->causal);
    return proj(v->y, v->R, (size_t)v->B * v->N * v->d);
}

static void conv_case(int k, int causal)
{
    int B = 2, N = 9, d = 18;
    int len[2] = {N, 6};
    size_t n = (size_t)B * N * d;
    conv_ctx v = {randn(n, 14, 1), randn((size_t)k * d, 15, 0.5f), zeros(n), randn(n, 16, 1), len, B, N, d, k, causal};
    conv_loss(&v);
    int s = causal ? 0 : (k - 1) / 2;
    for (int b = 0; b < B; b++)   /* naive forward, pads exactly 0 */
        for (int t = 0; t < N; t++)
            for (int j = 0; j < d; j++) {
                double e = 0;
                if (t < len[b]) {
                    e = v.u[(b * N + t) * d + j];
                    for (int tau = 0; tau < k; tau++) {
                        int src = t - tau + s;
                        if (src >= 0 && src < len[b]) e += (double)v.w[tau * d + j] * v.u[(b * N + src) * d + j];
                    }
                }
                float got = v.y[(b * N + t) * d + j];
                if (t >= len[b]) cr_assert_eq(got, 0.0f, "conv: pad output not 0");
                else cr_assert_float_eq(got, e, 1e-5, "conv k=%d causal=%d b=%d t=%d", k, causal, b, t);
            }
    float *gu = zeros(n), *gw = zeros((size_t)k * d);
    xb_shortconv_backward(gu, gw, v.R, v.u, v.w, len, B, N, d, k, causal);
    for (int t = len[1]; t < N; t++)
        for (int j = 0; j < d; j++) cr_assert_eq(gu[(N + t) * d + j], 0.0f, "conv: du at a pad not 0");
    fd_var fv[] = {{"u", v.u, gu, n}, {"w", v.w, gw, (size_t)k * d}};
    char what[64];
    snprintf(what, sizeof what, "shortconv k=%d %s", k, causal ? "causal" : "centred");
    fd_check(what, conv_loss, &v, fv, 2, 120);
    /* garbage in the pads changes nothing */
    float *y0 = zeros(n);
    memcpy(y0, v.y, n * sizeof(float));
    for (int t = len[1]; t < N; t++)
        for (int j = 0; j < d; j++) v.u[(N + t) * d + j] = 100.0f + t;
    conv_loss(&v);
    cr_assert_eq(memcmp(y0, v.y, n * sizeof(float)), 0, "conv: pad input leaked");
    if (causal) {   /* changing u at t changes nothing before t */
        int t = 4;
        for (int j = 0; j < d; j++) v.u[t * d + j] += 1.0f;
        conv_loss(&v);
        for (int q = 0; q < t * d; q++) cr_assert_eq(v.y[q], y0[q], "conv: causal output depends on the future");
    }
}

Test(layers, shortconv_causal) { conv_case(3, 1); conv_case(4, 1); }
Test(layers, shortconv_centred) { conv_case(3, 0); conv_case(4, 0); }

/* ---- mean pooling ----------------------------------------------------------------------------- */

Test(layers, meanpool_ignores_pads)
{
    int B = 2, N = 6, d = 5;
    int len[2] = {6, 2};
    float *x = randn((size_t)B * N * d, 17, 1), *p = zeros((size_t)B * d);
    xb_meanpool_forward(p, x, len, B, N, d);
    for (int b = 0; b < B; b++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int t = 0; t < len[b]; t++) s += x[(b * N + t) * d + j];
            cr_assert_float_eq(p[b * d + j], s / len[b], 1e-6);
        }
    float *dp = randn((size_t)B * d, 18, 1), *dx = zeros((size_t)B * N * d);
    xb_meanpool_backward(dx, dp, len, B, N, d);
    for (int t = 0; t < N; t++)
        for (int j = 0; j < d; j++) {
            cr_assert_float_eq(dx[t * d + j], dp[j] / 6, 1e-6);
            cr_assert_eq(dx[(N + t) * d + j], t < 2 ? dp[d + j] / 2 : 0.0f);
        }
}

/* ---- heads ----------------------------------------------------------------------------------- */

typedef struct head_ctx { xb_shape s; float *h, *w, *logits, *saved, *R; const int *len; int B, N, d, hh, C; } head_ctx;

static size_t head_rows(const head_ctx *c) { return c->s == XB_SHAPE_TOK ? (size_t)c->B * c->N : (size_t)c->B; }

static double head_loss(void *p)
{
    head_ctx *c = p;
    xb_head_forward(c->s, c->logits, c->saved, c->h, c->len, c->w, c->B, c->N, c->d, c->hh, c->C);
    return proj(c->logits, c->R, head_rows(c) * c->C);
}

static void head_case(xb_shape s)
{
    int B = 3, N = 7, d = 6, hh = 10, C = s == XB_SHAPE_PAIR ? 2 : 4;
    int len[6] = {7, 3, 5, 1, 7, 4};   /* PAIR: 2B towers */
    int nseq = s == XB_SHAPE_PAIR ? 2 * B : B;
    size_t nh = (size_t)nseq * N * d, np = xb_head_n_params(s, d, hh, C);
    head_ctx c = {s, randn(nh, 19, 1), randn(np, 20, 0.5f), NULL, zeros(xb_head_n_saved(s, B, d, hh) + 1), NULL,
                  s == XB_SHAPE_TOK ? NULL : len, B, N, d, hh, C};
    c.logits = zeros(head_rows(&c) * C);
    c.R = randn(head_rows(&c) * C, 21, 1);
    /* biases nonzero so their gradient is exercised */
    head_loss(&c);
    float *gh = zeros(nh), *gw = zeros(np), *scr = zeros(xb_head_n_scratch(s, B, d, hh) + 1);
    xb_head_backward(s, gh, gw, c.R, c.h, c.len, c.saved, c.w, scr, B, N, d, hh, C);
    fd_var v[] = {{"h", c.h, gh, nh}, {"w", c.w, gw, np}};
    const char *nm = s == XB_SHAPE_CLS ? "cls head" : s == XB_SHAPE_PAIR ? "pair head" : "tok head";
    fd_check(nm, head_loss, &c, v, 2, 150);
    if (s == XB_SHAPE_TOK) return;
    /* pads: zero gradient, and garbage there changes no logit */
    size_t nl = head_rows(&c) * C;
    float *l0 = zeros(nl);
    memcpy(l0, c.logits, nl * sizeof(float));
    for (int q = 0; q < nseq; q++)
        for (int t = len[q]; t < N; t++)
            for (int j = 0; j < d; j++) {
                cr_assert_eq(gh[((size_t)q * N + t) * d + j], 0.0f, "%s: gradient at a pad", nm);
                c.h[((size_t)q * N + t) * d + j] = 50.0f;
            }
    head_loss(&c);
    cr_assert_eq(memcmp(l0, c.logits, nl * sizeof(float)), 0, "%s: pads changed the logits", nm);
    if (s == XB_SHAPE_PAIR) {   /* naive check of example 1's first hidden unit: [u, v, u*v, u-v] */
        const float *W1 = c.w, *c1 = W1 + (size_t)4 * d * hh;
        double u[6] = {0}, vv[6] = {0};
        for (int j = 0; j < d; j++) {
            for (int t = 0; t < len[2]; t++) u[j] += c.h[((size_t)2 * N + t) * d + j] / len[2];
            for (int t = 0; t < len[3]; t++) vv[j] += c.h[((size_t)3 * N + t) * d + j] / len[3];
        }
        double z = c1[0];
        for (int j = 0; j < d; j++)
            z += u[j] * W1[(size_t)j * hh] + vv[j] * W1[(size_t)(d + j) * hh] +
                 u[j] * vv[j] * W1[(size_t)(2 * d + j) * hh] + (u[j] - vv[j]) * W1[(size_t)(3 * d + j) * hh];
        const float *A1 = c.saved + (size_t)6 * B * d;   /* after u,v (2Bd) and f (4Bd) */
        cr_assert_float_eq(A1[1 * hh + 0], z > 0 ? z : 0, 1e-4, "pair head: first layer of example 1");
    }
}

Test(layers, head_cls) { head_case(XB_SHAPE_CLS); }
Test(layers, head_pair) { head_case(XB_SHAPE_PAIR); }
Test(layers, head_tok) { head_case(XB_SHAPE_TOK); }

/* ---- cross-entropy ---------------------------------------------------------------------------- */

typedef struct xe_ctx { float *z, *p, *rl; int32_t *y; int R, C; } xe_ctx;

static double xe_loss(void *c)
{
    xe_ctx *x = c;
    return xb_xent_forward(x->p, x->rl, x->z, x->y, x->R, x->C, NULL);
}

Test(layers, cross_entropy_ignore)
{
    int R = 6, C = 5;
    int32_t y[6] = {1, XB_IGNORE, 4, 0, XB_IGNORE, 2};
    xe_ctx x = {randn((size_t)R * C, 22, 2), zeros((size_t)R * C), zeros(R), y, R, C};
    int count = 0;
    float loss = xb_xent_forward(x.p, x.rl, x.z, y, R, C, &count);
    cr_assert_eq(count, 4);
    double want = 0;
    for (int r = 0; r < R; r++) {
        if (y[r] == XB_IGNORE) continue;
        double s = 0;
        for (int c = 0; c < C; c++) s += exp((double)x.z[r * C + c]);
        want += log(s) - x.z[r * C + y[r]];
    }
    cr_assert_float_eq(loss, want / 4, 1e-5);
    float *g = zeros((size_t)R * C);
    xb_xent_backward(g, x.p, y, R, C, 1.0f / count);
    for (int c = 0; c < C; c++) cr_assert_eq(g[1 * C + c], 0.0f, "ignored row has gradient");
    fd_var v[] = {{"logits", x.z, g, (size_t)R * C}};
    fd_check("cross-entropy", xe_loss, &x, v, 1, 100);
    /* stable at huge logits */
    for (int c = 0; c < C; c++) x.z[c] = 1e4f * (float)c;
    loss = xb_xent_forward(x.p, x.rl, x.z, y, R, C, &count);
    cr_assert(isfinite(loss), "cross-entropy overflowed");
    cr_assert_float_eq(x.rl[0], 3e4, 1.0, "row 0: loss = max − z[1] = 4e4 − 1e4");
    /* nothing counted → 0 */
    int32_t none[6] = {XB_IGNORE, XB_IGNORE, XB_IGNORE, XB_IGNORE, XB_IGNORE, XB_IGNORE};
    cr_assert_eq(xb_xent_forward(x.p, x.rl, x.z, none, R, C, &count), 0.0f);
    cr_assert_eq(count, 0);
}

Test(layers, gelu_exact)
{
    cr_assert_float_eq(xb_gelu(1.0f), 0.8413447460685429, 1e-6);
    cr_assert_float_eq(xb_gelu(-2.0f), -0.04550026389635842, 1e-6);
    for (float z = -3; z <= 3; z += 0.5f) {
        double num = ((double)xb_gelu(z + 1e-3f) - xb_gelu(z - 1e-3f)) / 2e-3;
        cr_assert_float_eq(xb_gelu_grad(z), num, 1e-3);
    }
}

/* ---- thread-count independence (sizes above the serial threshold) ------------------------------ */

/* Runs the reductions over rows with 1 and 2 threads: the column-block ownership makes them
 * bit-identical whatever the thread count. */
static void reductions(int threads, float *out, size_t n, int B, int N, int d, const float *x,
                       const float *dy, const int32_t *tok, const float *w, const int *len)
{
    omp_set_num_threads(threads);
    int R = B * N, k = 3;
    size_t Rd = (size_t)R * d;
    float *o = out;
    memset(out, 0, n * sizeof(float));
    xb_rmsnorm_forward(o, o + Rd, x, w, R, d);                         /* y, rstd */
    xb_rmsnorm_backward(o + 2 * Rd, o + 3 * Rd, dy, x, w, o + Rd, R, d); /* dx, dw (first d floats) */
    float *tail = o + 3 * Rd + d;
    xb_embed_backward(tail, tail + 8 * d, dy, tok, B, N, d);           /* dwte (8,d), dwpe (N,d) */
    float *cv = tail + 8 * d + (size_t)N * d;
    xb_shortconv_backward(cv, cv + Rd, dy, x, w, len, B, N, d, k, 0);  /* du, dw (k,d) */
    xb_colsum_acc(cv + Rd + (size_t)k * d, dy, R, d);
}

Test(layers, thread_count_independent)
{
    int B = 3, N = 400, d = 40;   /* R·d = 48000 > the serial threshold */
    size_t Rd = (size_t)B * N * d, n = 4 * Rd + 64 * d + 8 * d + 2 * d + (size_t)N * d + 2 * Rd;
    float *x = randn(Rd, 30, 1), *dy = randn(Rd, 31, 1), *w = randn((size_t)4 * d, 32, 1);
    int32_t *tok = malloc(Rd / d * sizeof(int32_t));
    for (size_t i = 0; i < Rd / d; i++) tok[i] = (int32_t)((i * 7) % 8);
    int len[3] = {400, 123, 399};
    float *a = zeros(n), *b = zeros(n);
    reductions(1, a, n, B, N, d, x, dy, tok, w, len);
    reductions(2, b, n, B, N, d, x, dy, tok, w, len);
    cr_expect_eq(memcmp(a, b, n * sizeof(float)), 0, "1 and 2 threads differ");
    free(tok);
}
