/* tests/test_scratch.c — scratch sized and carved from one list (core/scratch.h, issue 18):
 *   helper_*   the helper itself: offsets and alignment, measuring = carving, per-thread
 *              slices, overlays, a misaligned base, saturation
 *   guard      every registered mixer in every mode, at several shapes and at 1 and 2 OpenMP
 *              threads: scratch, saved, decode state and decode scratch are allocated at
 *              exactly the size the mixer asks for, followed by a guard region; forward,
 *              backward, decode_prefill and decode_step must leave every guard float as it was
 *              (a write past the sized end is what a drift between sizing and carving does) */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "core/mixer.h"
#include "core/scratch.h"
#include "core/xb.h"
#include "mixers/registry.h"

/* ---- the helper --------------------------------------------------------------------- */

typedef struct demo { float *a, *b, *c, *t; int *ints; long *l; size_t ts; } demo;

/* a list using every kind of entry: offsets are checked below */
static size_t demo_plan(float *base, demo *d, int na)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, d->a, (size_t)na, XB_SCR_PACKED);   /* at 0 */
    XB_TAKE(&s, d->ints, 3, XB_SCR_PACKED);         /* right after a */
    XB_TAKE(&s, d->l, 2, XB_SCR_PACKED);            /* on 8 bytes */
    XB_TAKE(&s, d->b, 5, XB_SCR_LINE);              /* on 64 bytes */
    XB_TAKE(&s, d->c, 1, XB_SCR_64F);               /* on 64 floats */
    XB_TAKE_THREADS(&s, d->t, 17, XB_SCR_LINE, &d->ts);
    return xb_scratch_floats(&s);
}

Test(scratch, helper_offsets_and_measure_equal_carve)
{
    omp_set_num_threads(3);
    demo m, c;
    const size_t n = demo_plan(NULL, &m, 7);
    cr_assert(!m.a && !m.b && !m.c && !m.t && !m.ints && !m.l, "measuring hands out no pointers");
    float *base = xb_alloc(n * sizeof(float));
    cr_assert_eq(demo_plan(base, &c, 7), n, "carving measures the same size");
    cr_expect_eq((char *)c.a - (char *)base, 0);
    cr_expect_eq((char *)c.ints - (char *)base, 28);          /* 7 floats */
    cr_expect_eq((char *)c.l - (char *)base, 40);             /* 28 + 12 = 40, already on 8 */
    cr_expect_eq((char *)c.b - (char *)base, 64);             /* 40 + 16 = 56 → 64 */
    cr_expect_eq((char *)c.c - (char *)base, 256);            /* 64 + 20 = 84 → 256 */
    cr_expect_eq((char *)c.t - (char *)base, 320);            /* 260 → 320 */
    cr_expect_eq(c.ts, 32, "17 floats round up to two lines: %zu", c.ts);
    cr_expect_eq(n, (320 + 3 * 32 * 4) / 4, "three slices end the list: %zu", n);
    cr_expect_eq(m.ts, c.ts);
    xb_free(base);
}

Test(scratch, helper_threads_follow_the_team_size)
{
    demo d;
    omp_set_num_threads(1);
    const size_t one = demo_plan(NULL, &d, 7);
    omp_set_num_threads(4);
    const size_t four = demo_plan(NULL, &d, 7);
    cr_expect_eq(four - one, 3 * d.ts, "one slice per thread: %zu vs %zu", one, four);
}

Test(scratch, helper_slices)
{
    static float base[800];
    float *p, *q;
    size_t st;
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, q, 3, XB_SCR_PACKED);
    XB_TAKE_SLICES(&s, p, 5, 70, XB_SCR_64F, &st);
    cr_expect(p == base + 64 && st == 128, "slices on 64 floats: at %td, stride %zu", p - base, st);
    cr_expect_eq(xb_scratch_floats(&s), 64 + 5 * 128, "five whole slices");
}

/* forward (x, y) or backward (g) share room; z follows the longer */
static size_t union_plan(float *base, int nf, int nb, float **x, float **y, float **g, float **z)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, *x, 4, XB_SCR_PACKED);
    xb_scratch_union u = xb_scratch_union_begin(&s);
    XB_TAKE(&s, *y, (size_t)nf, XB_SCR_PACKED);
    xb_scratch_union_next(&s, &u);
    XB_TAKE(&s, *g, (size_t)nb, XB_SCR_PACKED);
    xb_scratch_union_end(&s, &u);
    XB_TAKE(&s, *z, 2, XB_SCR_PACKED);
    return xb_scratch_floats(&s);
}

Test(scratch, helper_union_is_its_longest_alternative)
{
    float base[64], *x, *y, *g, *z;
    cr_expect_eq(union_plan(base, 10, 3, &x, &y, &g, &z), 4 + 10 + 2);
    cr_expect(y == base + 4 && g == base + 4 && z == base + 14, "the alternatives overlap, z after the longer");
    cr_expect_eq(union_plan(base, 3, 10, &x, &y, &g, &z), 4 + 10 + 2);
    cr_expect(z == base + 14, "the longer alternative may come last");
    cr_expect_eq(union_plan(NULL, 0, 0, &x, &y, &g, &z), 6);
}

Test(scratch, helper_line_start_from_any_base)
{
    float mem[200];
    for (int off = 0; off < 16; off++) {
        xb_scratch s = xb_scratch_at_line(mem + off);
        float *p;
        XB_TAKE(&s, p, 100, XB_SCR_PACKED);
        const size_t n = xb_scratch_floats(&s);
        cr_expect_eq((uintptr_t)p % 64, 0, "first buffer on a line (base + %d floats)", off);
        cr_expect(p >= mem + off && p + 100 <= mem + off + n, "inside the %zu floats sized", n);
        cr_expect_eq(n, 116, "the size counts a line for the alignment");
    }
}

Test(scratch, helper_sizes_saturate)
{
    xb_scratch s = xb_scratch_at(NULL);
    float *p;
    XB_TAKE(&s, p, SIZE_MAX / 2, XB_SCR_PACKED);
    cr_expect_eq(xb_scratch_floats(&s), SIZE_MAX, "an overflowing size reads as SIZE_MAX");
    XB_TAKE(&s, p, 1, XB_SCR_64F);
    xb_scratch_pad(&s, 1);
    cr_expect_eq(xb_scratch_floats(&s), SIZE_MAX, "and stays there");
    size_t st;
    s = xb_scratch_at(NULL);
    XB_TAKE_THREADS(&s, p, SIZE_MAX / 3, XB_SCR_64F, &st);
    cr_expect_eq(xb_scratch_floats(&s), SIZE_MAX);
    (void)p;
}

/* ---- every mixer within its sizes ------------------------------------------------------ */

#define FRONT 64     /* guard floats before (keeps the buffer on a 256-byte boundary) */
static const uint32_t GUARD = 0x7fa5a5a5u;   /* a NaN no kernel writes */

/* n floats, then a guard as long again (at least 1024 floats), so that a list short by a whole
 * buffer is written into the guard and reported, rather than into the heap */
typedef struct gbuf { float *mem, *p; size_t n, back; } gbuf;

static gbuf galloc(size_t n)
{
    const size_t back = n > 1024 ? n : 1024;
    gbuf g = {xb_alloc((FRONT + n + back) * sizeof(float)), NULL, n, back};
    cr_assert(g.mem, "allocation of %zu floats", n);
    g.p = g.mem + FRONT;
    for (size_t i = 0; i < FRONT; i++) memcpy(g.mem + i, &GUARD, 4);
    for (size_t i = 0; i < back; i++) memcpy(g.p + n + i, &GUARD, 4);
    return g;
}

/* offset (from the buffer's start, negative before it) of the first changed guard float, or 0 */
static long gcheck(const gbuf *g)
{
    for (size_t i = 0; i < FRONT; i++)
        if (memcmp(g->mem + i, &GUARD, 4)) return (long)i - FRONT;
    for (size_t i = 0; i < g->back; i++)
        if (memcmp(g->p + g->n + i, &GUARD, 4)) return (long)(g->n + i);
    return 0;
}

/* Options: the test suite's small ones (chunks, windows and tiles at test sizes) or odd ones
 * (chunk 13, block 5, ...) that no size divides. */
static xb_mixer_cfg guard_cfg(const xb_mixer *m, int d, int heads, int causal, int odd)
{
    xb_mixer_cfg c = {0};
    c.d = d; c.heads = heads; c.causal = causal; c.n_max = 130;
    /* each option only where the mixer has it (xb_mixer_opt_set refuses the others) */
    static const char *const names[] = {"window", "block", "rank", "features", "state", "order",
                                        "theta", "chunk", "d_ff", "variant", "buckets",
                                        "partitions", "topk"};
    const double small[] = {5, 4, 6, 8, 4, 6, 130, 8, 2 * d, 0, 4, 0, 0};
    const double oddv[] = {8, 5, 7, 12, 8, 5, 0, 13, 3 * d, 2, 4, 4, 2};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        double v = odd ? oddv[i] : small[i];
        if (v > 0) (void)xb_mixer_opt_set(m, &c, names[i], v);
    }
    return xb_mixer_resolve(m, &c);
}

#define GUARD_EXPECT(buf, what)                                                                 \
    do {                                                                                        \
        long at_ = gcheck(&(buf));                                                              \
        cr_expect(at_ == 0, "%s (%s, d %d, %d threads, B %d, N %d): %s wrote float %ld of %zu (%s)", \
                  m->name, c.causal ? "causal" : "bidir", c.d, threads, B, N, what, at_, (buf).n, #buf); \
        if (at_) bad = 1;                                                                       \
    } while (0)

/* forward and backward at (B, N), then, causal with a decode form, every step from an empty
 * state and the steps after a prefill of half the tokens. 1 when a guard changed. */
static int guard_run(const xb_mixer *m, xb_mixer_cfg c, int threads, int B, int N)
{
    int bad = 0, len[4];
    const int d = c.d;
    for (int b = 0; b < B; b++) len[b] = b == 0 ? N : xb_max(1, N - 5 * b);   /* padded rows too */
    const size_t np = xb_mixer_n_params(m, &c), nx = (size_t)B * N * d;
    gbuf sv = galloc((size_t)B * m->n_saved(&c, N));
    gbuf sc = galloc(m->n_scratch ? m->n_scratch(&c, B, N) : 0);
    float *w = xb_alloc(np * sizeof(float) + 64), *dw = xb_alloc(np * sizeof(float) + 64);
    float *x = xb_alloc(nx * sizeof(float)), *dy = xb_alloc(nx * sizeof(float));
    float *y = xb_alloc(nx * sizeof(float)), *dx = xb_alloc(nx * sizeof(float));
    xb_rng r;
    xb_rng_seed(&r, 5);
    m->init(&c, w, &r);
    for (size_t i = 0; i < nx; i++) { x[i] = (float)xb_rng_normal(&r); dy[i] = (float)xb_rng_normal(&r); }
    m->forward(&c, w, x, len, y, sv.p, sc.p, B, N);
    GUARD_EXPECT(sc, "forward");
    GUARD_EXPECT(sv, "forward");
    m->backward(&c, w, x, len, sv.p, dy, dx, dw, sc.p, B, N);
    GUARD_EXPECT(sc, "backward");
    if (c.causal && m->decode_step) {
        for (int pre = 0; pre < 2; pre++) {
            if (pre && !m->decode_prefill) break;
            gbuf st = galloc(m->decode_state(&c, N)), ds = galloc(m->decode_scratch(&c, N));
            memset(st.p, 0, st.n * sizeof(float));
            int t0 = 0;
            if (pre) {
                t0 = N / 2;
                m->decode_prefill(&c, N, w, x, t0, st.p, ds.p);
                GUARD_EXPECT(ds, "decode_prefill");
                GUARD_EXPECT(st, "decode_prefill");
            }
            for (int t = t0; t < N; t++) m->decode_step(&c, N, w, x + (size_t)t * d, t, st.p, y, ds.p);
            GUARD_EXPECT(ds, "decode_step");
            GUARD_EXPECT(st, "decode_step");
            xb_free(st.mem); xb_free(ds.mem);
        }
    }
    xb_free(sv.mem); xb_free(sc.mem);
    xb_free(w); xb_free(dw); xb_free(x); xb_free(dy); xb_free(y); xb_free(dx);
    return bad;
}

static int gids[128];
static int n_gids(void)
{
    for (int i = 0; i < xb_n_mixers && i < 128; i++) gids[i] = i;
    return xb_n_mixers;
}

ParameterizedTestParameters(scratch, guard) { return cr_make_param_array(int, gids, n_gids()); }
ParameterizedTest(int *i, scratch, guard, .timeout = 120)
{
    const xb_mixer *m = xb_mixers[*i];
    static const int shapes[][2] = {{1, 1}, {3, 37}, {2, 70}, {1, 130}};   /* (B, N) */
    /* (d, heads); one head: fewer scans than threads at B = 1 (deltanet's split form) */
    static const int dh[][2] = {{16, 2}, {24, 3}, {16, 1}};
    int runs = 0, bad = 0;
    for (int threads = 1; threads <= 2; threads++) {
        omp_set_num_threads(threads);   /* before sizing: per-thread slices are part of the size */
        for (int causal = 0; causal <= 1; causal++) {
            if (!(m->modes & (causal ? XB_CAUSAL : XB_BIDIR))) continue;
            for (int k = 0; k < 3; k++)
                for (int odd = 0; odd <= 1; odd++) {
                    xb_mixer_cfg c = guard_cfg(m, dh[k][0], dh[k][1], causal, odd);
                    char err[256];
                    if (m->check && m->check(&c, err, sizeof err)) continue;
                    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
                        if (shapes[s][1] > c.n_max) continue;
                        bad |= guard_run(m, c, threads, shapes[s][0], shapes[s][1]);
                        runs++;
                    }
                }
        }
    }
    cr_expect(runs >= 8, "%s: only %d configurations passed check()", m->name, runs);
    cr_expect(!bad, "%s: a call wrote past what its sizes ask for (see above)", m->name);
}
