/* core/proj.c — fused input projections; see proj.h. */
#include "core/proj.h"

#include <string.h>

#include "core/gemm.h"
#include "core/scratch.h"
#include "core/xb.h"

/* Rows per block: at most 512 (a 512 × 768 block is 1.5 MB: in L2 on 2 MB-L2 cores, in the
 * near L3 on 1 MB ones, never in DRAM), their count a multiple of the thread count so a static
 * schedule is balanced. */
#define PROJ_MAX_ROWS XB_PROJ_BLOCK_ROWS

xb_proj xb_proj_make(int d, int n, const int *cols)
{
    XB_ASSERT(d > 0 && n > 0 && n <= XB_PROJ_MAX);
    xb_proj p = {.d = d, .n = n};
    for (int i = 0; i < n; i++) {
        XB_ASSERT(cols[i] > 0);
        p.cols[i] = cols[i];
        p.off[i] = p.ctot;
        p.ctot += cols[i];
    }
    return p;
}

void xb_proj_pack(const xb_proj *p, const float *const *w, float *wp)
{
    for (int r = 0; r < p->d; r++)
        for (int i = 0; i < p->n; i++)
            memcpy(wp + (size_t)r * p->ctot + p->off[i], w[i] + (size_t)r * p->cols[i],
                   (size_t)p->cols[i] * sizeof(float));
}

void xb_proj_scatter(const xb_proj *p, int r0, int rows, const float *y, int ldy, float *const *dst)
{
    for (int i = 0; i < rows; i++)
        for (int a = 0; a < p->n; a++)
            if (dst[a])
                memcpy(dst[a] + (size_t)(r0 + i) * p->cols[a], y + (size_t)i * ldy + p->off[a],
                       (size_t)p->cols[a] * sizeof(float));
}

/* One thread's block buffers: input rows [PROJ_MAX_ROWS × d], then output rows [… × ctot]. */
static size_t thread_plan(const xb_proj *p, float *base, float **in, float **out)
{
    xb_scratch s = xb_scratch_at(base);
    XB_TAKE(&s, *in, (size_t)PROJ_MAX_ROWS * p->d, XB_SCR_64F);
    XB_TAKE(&s, *out, (size_t)PROJ_MAX_ROWS * p->ctot, XB_SCR_64F);
    return xb_scratch_floats(&s);
}

/* tmp: one slice of those per thread; the calling thread's two buffers (tmp NULL: measure) */
static size_t tmp_plan(const xb_proj *p, float *tmp, float **in, float **out)
{
    float *slices;
    size_t stride;
    xb_scratch s = xb_scratch_at(tmp);
    XB_TAKE_THREADS(&s, slices, thread_plan(p, NULL, in, out), XB_SCR_64F, &stride);
    thread_plan(p, slices ? slices + (size_t)xb_thread_id() * stride : NULL, in, out);
    return xb_scratch_floats(&s);
}

size_t xb_proj_block_floats(const xb_proj *p)
{
    float *in, *out;
    return tmp_plan(p, NULL, &in, &out);
}

typedef struct job {
    const xb_proj *p;
    const float *x, *wp;
    int ldx, ldy;
    float *y, *tmp;
    xb_proj_epilogue pro, epi;
    void *parg, *arg;
    const float *const *w;   /* split: the unpacked W_i and their outputs */
    float *const *dst;
} job;

static void block(const job *j, int r0, int rows)
{
    const xb_proj *p = j->p;
    float *mine = NULL, *mine_out = NULL;
    if (j->tmp) tmp_plan(p, j->tmp, &mine, &mine_out);
    const float *xb = j->x + (size_t)r0 * j->ldx;
    if (j->dst) {
        for (int i = 0; i < p->n; i++)
            xb_gemm(0, 0, rows, p->cols[i], p->d, 1.0f, xb, j->ldx, j->w[i], p->cols[i], 0.0f,
                    j->dst[i] + (size_t)r0 * p->cols[i], p->cols[i]);
        if (j->epi) j->epi(r0, rows, NULL, 0, j->arg);
        return;
    }
    int ldx = j->ldx;
    if (j->pro) {
        j->pro(r0, rows, mine, p->d, j->parg);
        xb = mine;
        ldx = p->d;
    }
    float *yb = j->y ? j->y + (size_t)r0 * j->ldy : mine_out;
    int ldy = j->y ? j->ldy : p->ctot;
    xb_gemm(0, 0, rows, p->ctot, p->d, 1.0f, xb, ldx, j->wp, p->ctot, 0.0f, yb, ldy);
    if (j->epi) j->epi(r0, rows, yb, ldy, j->arg);
}

static void run(const job *j, int R);

void xb_proj_forward(const xb_proj *p, int R, const float *x, int ldx, const float *wp, float *y,
                     int ldy, float *tmp, xb_proj_epilogue epi, void *arg)
{
    XB_ASSERT(y ? ldy >= p->ctot : tmp && epi);
    const job j = {p, x, wp, ldx, ldy, y, tmp, NULL, epi, NULL, arg, NULL, NULL};
    run(&j, R);
}

void xb_proj_forward_split(const xb_proj *p, int R, const float *x, int ldx, const float *const *w,
                           float *const *dst, xb_proj_epilogue epi, void *arg)
{
    const job j = {p, x, NULL, ldx, 0, NULL, NULL, NULL, epi, NULL, arg, w, dst};
    run(&j, R);
}

void xb_proj_forward_rows(const xb_proj *p, int R, xb_proj_epilogue pro, void *parg, const float *wp,
                          float *y, int ldy, float *tmp, xb_proj_epilogue epi, void *arg)
{
    XB_ASSERT(pro && tmp && (y ? ldy >= p->ctot : epi != NULL));
    const job j = {p, NULL, wp, 0, ldy, y, tmp, pro, epi, parg, arg, NULL, NULL};
    run(&j, R);
}

static void run(const job *j, int R)
{
    if (R <= 0) return;
    const int nt = xb_max_threads();
    int nblk = (R + PROJ_MAX_ROWS - 1) / PROJ_MAX_ROWS;
    nblk = (nblk + nt - 1) / nt * nt;
    int rb = (R + nblk - 1) / nblk;
    rb = (rb + 15) / 16 * 16;           /* whole cache lines of rows; the last block is short */
    nblk = (R + rb - 1) / rb;
    if (nt == 1 || nblk == 1) {
        /* No parallel region at all: OpenBLAS inside an inactive one is slow (it still tries to
         * fork). With one thread OpenBLAS is single-threaded here anyway. */
        for (int b = 0; b < nblk; b++) block(j, b * rb, xb_min(rb, R - b * rb));
        return;
    }
    #pragma omp parallel for schedule(static) num_threads(nt)
    for (int b = 0; b < nblk; b++) block(j, b * rb, xb_min(rb, R - b * rb));
}

void xb_proj_matmul(int R, int din, int dout, const float *x, int ldx, const float *w, float *y)
{
    const xb_proj p = xb_proj_make(din, 1, &dout);
    xb_proj_forward(&p, R, x, ldx, w, y, dout, NULL, NULL, NULL);
}

void xb_proj_backward(const xb_proj *p, int R, const float *x, int ldx, const float *wp,
                      const float *dy, float *const *dw, float *dwp, float beta, float *dx)
{
    xb_gemm(1, 0, p->d, p->ctot, R, 1.0f, x, ldx, dy, p->ctot, 0.0f, dwp, p->ctot);
    for (int r = 0; r < p->d; r++)
        for (int i = 0; i < p->n; i++) {
            const float *src = dwp + (size_t)r * p->ctot + p->off[i];
            float *dst = dw[i] + (size_t)r * p->cols[i];
            for (int c = 0; c < p->cols[i]; c++) dst[c] += src[c];
        }
    xb_gemm(0, 1, R, p->d, p->ctot, 1.0f, dy, p->ctot, wp, p->ctot, beta, dx, ldx);
}
