/* tests/test_proj.c — core/proj (fused input projections) against independent computations:
 *   forward    Y = X·[W_0 | W_1 | W_2] vs a double product of each W_i separately, for row counts
 *              that give one block, ragged blocks and more blocks than threads, on 1 and 3
 *              threads (both checked: the block size, and so OpenBLAS's summation order, may
 *              differ between thread counts)
 *   epilogue   called once for every row, with the right r0, row count, pointer and stride;
 *              Y kept with a row stride wider than its columns, or handed over in per-thread
 *              block buffers that the epilogue copies out
 *   rows       xb_proj_forward_rows: the input made per block by a prologue (here 2x + 1 of
 *              an array) gives the product of the whole transformed input, every row made once
 *   split      xb_proj_forward_split: each output straight into its own array from the unpacked
 *              W_i, every row handed to the epilogue once, on 1 and 3 threads
 *   backward   dW_i accumulates Xᵀ dY's column range i onto what was there, dX = β·dX + dY·Wpᵀ,
 *              both vs double sums */
#include <criterion/criterion.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/proj.h"
#include "core/rng.h"
#include "core/xb.h"

static float *rnd(size_t n, uint64_t seed)
{
    float *p = xb_alloc(n * sizeof(float) + 64);
    xb_rng r;
    xb_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) p[i] = (float)xb_rng_normal(&r);
    return p;
}

enum { D = 40, NW = 3 };
static const int COLS[NW] = {24, 7, 33};

/* Y[r][off_i + c] in double from the unpacked W_i. */
static double want_y(const float *x, int ldx, const float *const *w, const xb_proj *p, int r, int col)
{
    int i = 0;
    while (col >= p->off[i] + p->cols[i]) i++;
    int c = col - p->off[i];
    double s = 0;
    for (int k = 0; k < p->d; k++) s += (double)x[(size_t)r * ldx + k] * w[i][(size_t)k * p->cols[i] + c];
    return s;
}

/* Epilogue used by the tests: count visits per row and check the block it is handed. With
 * y0 == NULL the block is in a per-thread buffer [ctot stride] and is copied to out. */
typedef struct visit { int *count; float *y0; int ldy, R; int bad; float *out; int ctot; } visit;

static void count_rows(int r0, int rows, float *y, int ldy, void *arg)
{
    visit *v = arg;
    int ok = v->y0 ? y == v->y0 + (size_t)r0 * v->ldy && ldy == v->ldy : ldy == v->ctot;
    if (!ok || rows < 1 || r0 + rows > v->R) {
        __atomic_add_fetch(&v->bad, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int i = 0; i < rows; i++) {
        __atomic_add_fetch(&v->count[r0 + i], 1, __ATOMIC_RELAXED);
        if (!v->y0) memcpy(v->out + (size_t)(r0 + i) * v->ctot, y + (size_t)i * ldy, (size_t)v->ctot * sizeof(float));
    }
}

Test(proj, forward)
{
    xb_proj p = xb_proj_make(D, NW, COLS);
    cr_assert_eq(p.ctot, 64);
    cr_assert(p.off[0] == 0 && p.off[1] == 24 && p.off[2] == 31);
    float *w[NW];
    for (int i = 0; i < NW; i++) w[i] = rnd((size_t)D * COLS[i], 10 + i);
    float *wp = xb_alloc(xb_proj_floats(&p) * sizeof(float));
    xb_proj_pack(&p, (const float *const *)w, wp);
    const int Rs[] = {1, 17, 600, 1501};
    const int saved = omp_get_max_threads();
    for (size_t ri = 0; ri < sizeof Rs / sizeof *Rs; ri++) {
        const int R = Rs[ri], ldx = D + 3;        /* a row stride wider than d */
        float *x = rnd((size_t)R * ldx, 100 + ri);
        const int ldy = p.ctot + 5;
        float *y1 = xb_alloc((size_t)R * ldy * sizeof(float)), *y3 = xb_alloc((size_t)R * p.ctot * sizeof(float));
        int *cnt = calloc((size_t)R, sizeof(int));
        omp_set_num_threads(1);   /* Y kept, row stride ldy */
        visit v1 = {cnt, y1, ldy, R, 0, NULL, p.ctot};
        xb_proj_forward(&p, R, x, ldx, wp, y1, ldy, NULL, count_rows, &v1);
        for (int r = 0; r < R; r++) cr_expect_eq(cnt[r], 1, "R=%d 1 thread: row %d visited %d times", R, r, cnt[r]);
        memset(cnt, 0, (size_t)R * sizeof(int));
        omp_set_num_threads(3);   /* blocks handed over in per-thread buffers */
        float *tmp = xb_alloc(xb_proj_block_floats(&p) * sizeof(float));
        visit v3 = {cnt, NULL, 0, R, 0, y3, p.ctot};
        xb_proj_forward(&p, R, x, ldx, wp, NULL, 0, tmp, count_rows, &v3);
        for (int r = 0; r < R; r++) cr_expect_eq(cnt[r], 1, "R=%d 3 threads: row %d visited %d times", R, r, cnt[r]);
        cr_expect_eq(v1.bad + v3.bad, 0, "R=%d: epilogue got a wrong block pointer/stride/range", R);
        double err1 = 0, err3 = 0;
        for (int r = 0; r < R; r++)
            for (int c = 0; c < p.ctot; c++) {
                double want = want_y(x, ldx, (const float *const *)w, &p, r, c);
                err1 = fmax(err1, fabs(y1[(size_t)r * ldy + c] - want));
                err3 = fmax(err3, fabs(y3[(size_t)r * p.ctot + c] - want));
            }
        cr_expect(err1 < 1e-4 && err3 < 1e-4, "R=%d: max |Y − X·W_i| = %g (1 thread), %g (3 threads)", R, err1, err3);
        xb_free(x); xb_free(y1); xb_free(y3); xb_free(tmp); free(cnt);
    }
    omp_set_num_threads(saved);
    for (int i = 0; i < NW; i++) xb_free(w[i]);
    xb_free(wp);
}

Test(proj, backward)
{
    xb_proj p = xb_proj_make(D, NW, COLS);
    const int R = 77;
    float *w[NW], *dw[NW], *dw0[NW];
    for (int i = 0; i < NW; i++) {
        w[i] = rnd((size_t)D * COLS[i], 20 + i);
        dw[i] = rnd((size_t)D * COLS[i], 30 + i);   /* accumulated onto, not overwritten */
        dw0[i] = xb_alloc((size_t)D * COLS[i] * sizeof(float));
        memcpy(dw0[i], dw[i], (size_t)D * COLS[i] * sizeof(float));
    }
    float *wp = xb_alloc(xb_proj_floats(&p) * sizeof(float)), *dwp = xb_alloc(xb_proj_floats(&p) * sizeof(float));
    xb_proj_pack(&p, (const float *const *)w, wp);
    float *x = rnd((size_t)R * D, 40), *dy = rnd((size_t)R * p.ctot, 41);
    for (int pass = 0; pass < 2; pass++) {
        float beta = (float)pass;   /* 0: overwrite dx; 1: accumulate */
        float *dx = rnd((size_t)R * D, 42), *dx0 = xb_alloc((size_t)R * D * sizeof(float));
        memcpy(dx0, dx, (size_t)R * D * sizeof(float));
        for (int i = 0; i < NW; i++) memcpy(dw[i], dw0[i], (size_t)D * COLS[i] * sizeof(float));
        xb_proj_backward(&p, R, x, D, wp, dy, dw, dwp, beta, dx);
        double e_w = 0, e_x = 0;
        for (int i = 0; i < NW; i++)
            for (int k = 0; k < D; k++)
                for (int c = 0; c < COLS[i]; c++) {
                    double s = dw0[i][(size_t)k * COLS[i] + c];
                    for (int r = 0; r < R; r++) s += (double)x[(size_t)r * D + k] * dy[(size_t)r * p.ctot + p.off[i] + c];
                    e_w = fmax(e_w, fabs(dw[i][(size_t)k * COLS[i] + c] - s));
                }
        for (int r = 0; r < R; r++)
            for (int k = 0; k < D; k++) {
                double s = beta * dx0[(size_t)r * D + k];
                for (int i = 0; i < NW; i++)
                    for (int c = 0; c < COLS[i]; c++)
                        s += (double)dy[(size_t)r * p.ctot + p.off[i] + c] * w[i][(size_t)k * COLS[i] + c];
                e_x = fmax(e_x, fabs(dx[(size_t)r * D + k] - s));
            }
        cr_expect(e_w < 1e-3, "beta=%g: max |dW_i − (dW_i + Xᵀ dY_i)| = %g", beta, e_w);
        cr_expect(e_x < 1e-4, "beta=%g: max |dX − (β dX + Σ dY_i W_iᵀ)| = %g", beta, e_x);
        xb_free(dx); xb_free(dx0);
    }
    for (int i = 0; i < NW; i++) { xb_free(w[i]); xb_free(dw[i]); xb_free(dw0[i]); }
    xb_free(wp); xb_free(dwp); xb_free(x); xb_free(dy);
}

/* Prologue of the `rows` test: X = 2·src + 1, counting the rows it makes. */
typedef struct made { const float *src; int *count; int d; int bad; } made;

static void make_rows(int r0, int rows, float *xb, int ldx, void *arg)
{
    made *m = arg;
    if (ldx != m->d) __atomic_add_fetch(&m->bad, 1, __ATOMIC_RELAXED);
    for (int i = 0; i < rows; i++) {
        __atomic_add_fetch(&m->count[r0 + i], 1, __ATOMIC_RELAXED);
        for (int k = 0; k < m->d; k++) xb[(size_t)i * ldx + k] = 2.0f * m->src[(size_t)(r0 + i) * m->d + k] + 1.0f;
    }
}

Test(proj, rows)
{
    xb_proj p = xb_proj_make(D, NW, COLS);
    float *w[NW];
    for (int i = 0; i < NW; i++) w[i] = rnd((size_t)D * COLS[i], 50 + i);
    float *wp = xb_alloc(xb_proj_floats(&p) * sizeof(float));
    xb_proj_pack(&p, (const float *const *)w, wp);
    const int saved = omp_get_max_threads();
    for (int threads = 1; threads <= 3; threads += 2) {
        omp_set_num_threads(threads);
        const int R = 1100;
        float *src = rnd((size_t)R * D, 60), *x = xb_alloc((size_t)R * D * sizeof(float));
        for (size_t i = 0; i < (size_t)R * D; i++) x[i] = 2.0f * src[i] + 1.0f;
        float *y = xb_alloc((size_t)R * p.ctot * sizeof(float)), *tmp = xb_alloc(xb_proj_block_floats(&p) * sizeof(float));
        int *cnt = calloc((size_t)R, sizeof(int));
        made mk = {src, cnt, D, 0};
        xb_proj_forward_rows(&p, R, make_rows, &mk, wp, y, p.ctot, tmp, NULL, NULL);
        double err = 0;
        for (int r = 0; r < R; r++) {
            cr_expect_eq(cnt[r], 1, "%d threads: row %d made %d times", threads, r, cnt[r]);
            for (int c = 0; c < p.ctot; c++)
                err = fmax(err, fabs(y[(size_t)r * p.ctot + c] - want_y(x, D, (const float *const *)w, &p, r, c)));
        }
        cr_expect_eq(mk.bad, 0, "prologue handed a wrong row stride");
        cr_expect(err < 1e-3, "%d threads: max |Y − (2src+1)·W_i| = %g", threads, err);
        xb_free(src); xb_free(x); xb_free(y); xb_free(tmp); free(cnt);
    }
    omp_set_num_threads(saved);
    for (int i = 0; i < NW; i++) xb_free(w[i]);
    xb_free(wp);
}

/* Epilogue of the split form: no block is handed over; count the rows. */
static void count_split(int r0, int rows, float *y, int ldy, void *arg)
{
    visit *v = arg;
    if (y || ldy || rows < 1 || r0 + rows > v->R) {
        __atomic_add_fetch(&v->bad, 1, __ATOMIC_RELAXED);
        return;
    }
    for (int i = 0; i < rows; i++) __atomic_add_fetch(&v->count[r0 + i], 1, __ATOMIC_RELAXED);
}

Test(proj, split)
{
    xb_proj p = xb_proj_make(D, NW, COLS);
    float *w[NW];
    for (int i = 0; i < NW; i++) w[i] = rnd((size_t)D * COLS[i], 70 + i);
    const int saved = omp_get_max_threads();
    const int Rs[] = {1, 17, 600, 1501};
    for (size_t ri = 0; ri < sizeof Rs / sizeof *Rs; ri++)
        for (int threads = 1; threads <= 3; threads += 2) {
            omp_set_num_threads(threads);
            const int R = Rs[ri], ldx = D + 3;
            float *x = rnd((size_t)R * ldx, 80 + ri), *out[NW];
            for (int i = 0; i < NW; i++) out[i] = xb_alloc((size_t)R * COLS[i] * sizeof(float));
            int *cnt = calloc((size_t)R, sizeof(int));
            visit v = {cnt, NULL, 0, R, 0, NULL, p.ctot};
            xb_proj_forward_split(&p, R, x, ldx, (const float *const *)w, out, count_split, &v);
            cr_expect_eq(v.bad, 0, "R=%d %d threads: epilogue got a block or a wrong range", R, threads);
            double err = 0;
            for (int r = 0; r < R; r++) {
                cr_expect_eq(cnt[r], 1, "R=%d %d threads: row %d visited %d times", R, threads, r, cnt[r]);
                for (int c = 0; c < p.ctot; c++) {
                    int i = 0;
                    while (c >= p.off[i] + p.cols[i]) i++;
                    double got = out[i][(size_t)r * COLS[i] + c - p.off[i]];
                    err = fmax(err, fabs(got - want_y(x, ldx, (const float *const *)w, &p, r, c)));
                }
            }
            cr_expect(err < 1e-4, "R=%d %d threads: max |out_i − X·W_i| = %g", R, threads, err);
            for (int i = 0; i < NW; i++) xb_free(out[i]);
            xb_free(x); free(cnt);
        }
    omp_set_num_threads(saved);
    for (int i = 0; i < NW; i++) xb_free(w[i]);
}
