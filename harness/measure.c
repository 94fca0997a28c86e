/* harness/measure.c — the work of one cell, in its child process (see harness/measure.h):
 * data, model, training, evaluation, latency timing and FLOPs, reported as one JSON record.
 * Only this file's xb_measure_cell enters OpenMP, and only in the child. */
#include "harness/measure.h"

#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#ifdef __SSE__
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/adamw.h"
#include "core/clock.h"
#include "core/gemm.h"
#include "core/rng.h"
#include "core/xb.h"
#include "harness/machine.h"
#include "harness/report/stats.h"

#define CURVE_POINTS 256       /* loss curve kept in the record, bucket means */
#define DEFAULT_MAX_REPS 1000
#define DEFAULT_MAX_CV 0.10
#define FMA_PROBE_S 0.01       /* one FMA-probe run (best of 3, before and after a cell's timings) */

json_object *xb_json_num(double v)
{
    return isfinite(v) ? json_object_new_double(v) : json_object_new_null();
}

/* ---- timing ------------------------------------------------------------------------- */

double xb_clock_floor(void)
{
    double res = xb_clock_res();
    double t0 = xb_now(), t1 = t0;
    for (int i = 0; i < 1000; i++) t1 = xb_now();
    double read_cost = (t1 - t0) / 1000;
    return 1000 * (res > read_cost ? res : read_cost);
}

int xb_time_reps(const xb_latency_cfg *lc, xb_timed_fn fn, void *ctx, double stop_at,
                 double **times)
{
    int min_reps = lc->min_reps > 0 ? lc->min_reps : 10;
    int max_reps = lc->max_reps > 0 ? lc->max_reps : DEFAULT_MAX_REPS;
    if (max_reps < min_reps) max_reps = min_reps;
    double *t = malloc((size_t)max_reps * sizeof *t);
    *times = t;
    if (!t) return 0;
    for (int i = 0; i < lc->warmup; i++) {
        if (stop_at > 0 && xb_now() > stop_at) break;
        fn(ctx);
    }
    int n = 0;
    double total = 0;
    while (n < max_reps) {
        if (n >= min_reps && total >= lc->min_time_s) break;
        if (stop_at > 0 && xb_now() > stop_at) break;
        double a = xb_now();
        fn(ctx);
        double b = xb_now();
        t[n++] = b - a;
        total += b - a;
    }
    return n;
}

/* Repetition times, 9 significant digits: below the clock's nanosecond, and a third of the text. */
static json_object *raw_json(const double *t, int n)
{
    json_object *raw = json_object_new_array_ext(n);
    for (int i = 0; i < n; i++) {
        char num[32];
        snprintf(num, sizeof num, "%.9g", t[i]);
        json_object_array_add(raw, json_object_new_double_s(t[i], num));
    }
    return raw;
}

json_object *xb_timing_json(const double *t, int n, double flops, double max_cv, double floor)
{
    xb_summary s;
    xb_summarize(t, n, &s);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "reps", json_object_new_int(n));
    json_object_object_add(o, "median", xb_json_num(n ? s.median : NAN));
    json_object_object_add(o, "p10", xb_json_num(n ? s.p10 : NAN));
    json_object_object_add(o, "p90", xb_json_num(n ? s.p90 : NAN));
    json_object_object_add(o, "min", xb_json_num(n ? s.min : NAN));
    json_object_object_add(o, "max", xb_json_num(n ? s.max : NAN));
    json_object_object_add(o, "mean", xb_json_num(n ? s.mean : NAN));
    json_object_object_add(o, "stddev", xb_json_num(n ? s.stddev : NAN));
    json_object_object_add(o, "cv", xb_json_num(n ? s.cv : NAN));
    json_object_object_add(o, "outliers", json_object_new_int(s.outliers));
    int noisy = n == 0 || s.cv > max_cv || s.median < floor;
    json_object_object_add(o, "noisy", json_object_new_boolean(noisy));
    json_object_object_add(o, "flops", xb_json_num(flops));
    json_object_object_add(o, "gflops", xb_json_num(n && s.median > 0 ? flops / s.median / 1e9 : NAN));
    json_object_object_add(o, "raw", raw_json(t, n));
    return o;
}

/* ---- what gets timed ---------------------------------------------------------------- */

typedef struct mixer_bench {
    const xb_mixer *m;
    const xb_mixer_cfg *c;
    float *w, *x, *y, *saved, *scratch, *dy, *dx, *dw;
    int B, N;
} mixer_bench;

static void mixer_fwd(void *p)
{
    mixer_bench *b = p;
    b->m->forward(b->c, b->w, b->x, NULL, b->y, b->saved, b->scratch, b->B, b->N);
}

static void mixer_fwdbwd(void *p)
{
    mixer_bench *b = p;
    b->m->forward(b->c, b->w, b->x, NULL, b->y, b->saved, b->scratch, b->B, b->N);
    b->m->backward(b->c, b->w, b->x, NULL, b->saved, b->dy, b->dx, b->dw, b->scratch, b->B, b->N);
}

typedef struct model_bench {
    xb_model *m;
    int32_t *x, *y;
    int *len;
    int b;
    const xb_train_cfg *tc;  /* model_train: lr (constant), betas, weight decay, clip */
    int t;                   /* model_train: AdamW steps taken (bias-correction counter) */
    int nonfinite;           /* model_train: a loss or gradient norm was NaN/inf */
} model_bench;

static void model_fwd(void *p)
{
    model_bench *b = p;
    xb_model_forward(b->m, b->x, b->len, NULL, b->b);
}

static void model_fwdbwd(void *p)
{
    model_bench *b = p;
    xb_model_forward(b->m, b->x, b->len, b->y, b->b);
    xb_model_backward(b->m);
}

/* One training step as core/train.c's loop takes it: forward with targets, backward, global
 * gradient norm, clip factor, AdamW. The learning rate is train.lr, constant (no schedule:
 * the time of a step does not depend on it). A NaN/inf loss or norm, where xb_train would
 * stop, is only noted: the step is still taken so every repetition does the same work. */
static void model_train(void *p)
{
    model_bench *b = p;
    const xb_train_cfg *tc = b->tc;
    float loss = xb_model_forward(b->m, b->x, b->len, b->y, b->b);
    xb_model_backward(b->m);
    size_t np = xb_model_n_params(b->m);
    const unsigned char *flags = xb_model_flags(b->m);
    double gn = xb_grad_norm(xb_model_grads(b->m), flags, np);
    if (!isfinite(loss) || !isfinite(gn)) b->nonfinite = 1;
    float scale = tc->clip > 0.0f && gn > tc->clip ? (float)(tc->clip / gn) : 1.0f;
    xb_adamw_step(xb_model_params(b->m), xb_model_grads(b->m), xb_model_adam_m(b->m),
                  xb_model_adam_v(b->m), flags, np, tc->lr, tc->beta1, tc->beta2,
                  tc->weight_decay, scale, ++b->t);
}

typedef struct child {
    const xb_cell_spec *c;
    xb_cell_chan *ch;
    double t0, stop_at, last_progress;
    json_object *rec;
    char err[512];
} child;

static void send_phase(child *k, const char *phase)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "phase", json_object_new_string(phase));
    xb_cell_send(k->ch, "progress", o);
}

static int time_one(child *k, const char *name, xb_timed_fn fn, void *ctx, double flops,
                    double floor, json_object *lat)
{
    send_phase(k, name);
    double *t = NULL;
    int n = xb_time_reps(&k->c->lat, fn, ctx, k->stop_at, &t);
    if (!t) return XB_ENOMEM;
    double max_cv = k->c->lat.max_cv > 0 ? k->c->lat.max_cv : DEFAULT_MAX_CV;
    json_object *o = xb_timing_json(t, n, flops, max_cv, floor);
    int min_reps = k->c->lat.min_reps > 0 ? k->c->lat.min_reps : 10;
    if (n < min_reps) {
        /* Cut short to leave the cell inside its time limit: say so, and do not trust it. */
        json_object_object_add(o, "truncated", json_object_new_boolean(1));
        json_object_object_add(o, "noisy", json_object_new_boolean(1));
    }
    json_object_object_add(lat, name, o);
    free(t);
    return 0;
}

static void use_threads(int t)
{
#ifdef _OPENMP
    omp_set_num_threads(t);
#endif
    xb_blas_set_threads(t);
}

/* Paired timing for the thread-scaling table, in cells above the suite's smallest thread count
 * T0: one mixer forward at T0 threads, then one at this cell's T, alternately, so both halves
 * of a pair see the same moment of a shared host. Two medians taken in different cells are
 * seconds to minutes apart, and on a VM the capacity lent to the second thread drifts on that
 * scale (a 2-thread run switched from 8.6 to 11 ms halfway through its reps while 1 thread
 * stayed put). The speedup is the median of the per-pair ratios t(T0) / t(T). */
static int time_paired(child *k, mixer_bench *b, double floor, json_object *lat)
{
    const xb_cell_spec *c = k->c;
    const int T0 = c->base_threads, T = c->threads;
    const int min_reps = c->lat.min_reps > 0 ? c->lat.min_reps : 10;
    int max_reps = c->lat.max_reps > 0 ? c->lat.max_reps : DEFAULT_MAX_REPS;
    if (max_reps < min_reps) max_reps = min_reps;
    send_phase(k, "mixer_fwd_paired");
    double *t0 = malloc((size_t)max_reps * sizeof *t0), *t1 = malloc((size_t)max_reps * sizeof *t1);
    double *ratio = malloc((size_t)max_reps * sizeof *ratio);
    if (!t0 || !t1 || !ratio) {
        free(t0); free(t1); free(ratio);
        return XB_ENOMEM;
    }
    use_threads(T0);   /* one untimed forward at each count first */
    mixer_fwd(b);
    use_threads(T);
    mixer_fwd(b);
    int n = 0;
    double total = 0;
    while (n < max_reps) {
        if (n >= min_reps && total >= c->lat.min_time_s) break;
        if (k->stop_at > 0 && xb_now() > k->stop_at) break;
        use_threads(T0);
        double a = xb_now();
        mixer_fwd(b);
        double a1 = xb_now();
        use_threads(T);
        double b0 = xb_now();
        mixer_fwd(b);
        double b1 = xb_now();
        t0[n] = a1 - a;
        t1[n] = b1 - b0;
        ratio[n] = t0[n] / t1[n];
        total += t0[n] + t1[n];
        n++;
    }
    use_threads(T);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "base_threads", json_object_new_int(T0));
    json_object_object_add(o, "pairs", json_object_new_int(n));
    xb_summary s0, s1, sr;
    xb_summarize(t0, n, &s0);
    xb_summarize(t1, n, &s1);
    xb_summarize(ratio, n, &sr);
    json_object_object_add(o, "base_median", xb_json_num(n ? s0.median : NAN));
    json_object_object_add(o, "median", xb_json_num(n ? s1.median : NAN));
    json_object_object_add(o, "speedup", xb_json_num(n ? sr.median : NAN));
    json_object_object_add(o, "speedup_p10", xb_json_num(n ? sr.p10 : NAN));
    json_object_object_add(o, "speedup_p90", xb_json_num(n ? sr.p90 : NAN));
    int noisy = n < min_reps || s0.median < floor || s1.median < floor;
    if (n < min_reps) json_object_object_add(o, "truncated", json_object_new_boolean(1));
    json_object_object_add(o, "noisy", json_object_new_boolean(noisy));
    json_object_object_add(o, "raw_base", raw_json(t0, n));
    json_object_object_add(o, "raw", raw_json(t1, n));
    json_object_object_add(lat, "mixer_fwd_paired", o);
    free(t0); free(t1); free(ratio);
    return 0;
}

static void fill_normal(float *p, size_t n, xb_rng *r, float scale)
{
    for (size_t i = 0; i < n; i++) p[i] = scale * (float)xb_rng_normal(r);
}

/* The mixer layer alone at (B, N): forward, and forward + backward. */
static int latency_mixer(child *k, int B, int N, double floor, json_object *lat)
{
    const xb_cell_spec *c = k->c;
    const xb_mixer *m = c->mixer;
    size_t np = xb_mixer_n_params(m, &c->xc);
    size_t act = (size_t)B * N * c->xc.d;
    size_t ns = m->n_saved(&c->xc, N) * (size_t)B;
    size_t nsc = m->n_scratch ? m->n_scratch(&c->xc, B, N) : 0;
    mixer_bench b = { .m = m, .c = &c->xc, .B = B, .N = N };
    b.w = xb_alloc(np * sizeof(float));
    b.dw = xb_alloc(np * sizeof(float));
    b.x = xb_alloc(act * sizeof(float));
    b.y = xb_alloc(act * sizeof(float));
    b.dy = xb_alloc(act * sizeof(float));
    b.dx = xb_alloc(act * sizeof(float));
    b.saved = xb_alloc((ns ? ns : 1) * sizeof(float));
    b.scratch = xb_alloc((nsc ? nsc : 1) * sizeof(float));
    int rc = 0;
    if (!b.w || !b.dw || !b.x || !b.y || !b.dy || !b.dx || !b.saved || !b.scratch) {
        snprintf(k->err, sizeof k->err, "out of memory for the mixer latency buffers (N=%d)", N);
        rc = XB_ENOMEM;
    } else {
        xb_rng r;
        xb_rng_seed(&r, c->init_seed ^ 0x6c6174656e6379ull);
        m->init(&c->xc, b.w, &r);
        fill_normal(b.x, act, &r, 1.0f);
        fill_normal(b.dy, act, &r, 1.0f);
        double f = (double)B * c->flops_mixer;
        rc = time_one(k, "mixer_fwd", mixer_fwd, &b, f, floor, lat);
        if (rc == 0) rc = time_one(k, "mixer_fwdbwd", mixer_fwdbwd, &b, 3 * f, floor, lat);
        if (rc == 0 && c->base_threads > 0) rc = time_paired(k, &b, floor, lat);
    }
    xb_free(b.w); xb_free(b.dw); xb_free(b.x); xb_free(b.y);
    xb_free(b.dy); xb_free(b.dx); xb_free(b.saved); xb_free(b.scratch);
    return rc;
}

const char *xb_cell_kind_name(int kind)
{
    return kind == XB_CELL_TRAIN ? "train" : kind == XB_CELL_DECODE ? "decode" : "latency";
}

/* ---- decode: one more token after a context of N ------------------------------------ */

typedef struct decode_bench {
    const xb_mixer *m;
    const xb_mixer_cfg *c;
    const float *w, *x;      /* x: (N + k) × d, the context then the decoded tokens */
    float *state, *scratch, *y;
    int N, n_max, k;
} decode_bench;

static void decode_run(void *p)
{
    decode_bench *b = p;
    const int d = b->c->d;
    /* Tokens N .. N+k-1 from the same start each run: the cache rows and state they write are
     * rewritten by the next run, so every run does the same work at the same context. */
    for (int i = 0; i < b->k; i++)
        b->m->decode_step(b->c, b->n_max, b->w, b->x + (size_t)(b->N + i) * d, b->N + i, b->state,
                          b->y, b->scratch);
}

static int decode_part(child *k, double floor, json_object *rec)
{
    const xb_cell_spec *c = k->c;
    const xb_mixer *m = c->mixer;
    const int N = c->L, d = c->xc.d;
    const int kmax = xb_decode_n_max(N) - N;
    decode_bench b = { .m = m, .c = &c->xc, .N = N, .n_max = xb_decode_n_max(N), .k = 1 };
    size_t np = xb_mixer_n_params(m, &c->xc);
    size_t nst = m->decode_state(&c->xc, b.n_max), nsc = m->decode_scratch(&c->xc, b.n_max);
    float *w = xb_alloc(np * sizeof(float)), *x = xb_alloc((size_t)b.n_max * d * sizeof(float));
    b.state = xb_alloc((nst ? nst : 1) * sizeof(float));
    b.scratch = xb_alloc((nsc ? nsc : 1) * sizeof(float));
    b.y = xb_alloc((size_t)d * sizeof(float));
    int rc = 0;
    if (!w || !x || !b.state || !b.scratch || !b.y) {
        snprintf(k->err, sizeof k->err, "out of memory for the decode buffers (context %d)", N);
        rc = XB_ENOMEM;
        goto out;
    }
    xb_rng r;
    xb_rng_seed(&r, c->init_seed ^ 0x6465636f6465ull);
    m->init(&c->xc, w, &r);
    fill_normal(x, (size_t)b.n_max * d, &r, 1.0f);
    memset(b.state, 0, (nst ? nst : 1) * sizeof(float));
    b.w = w;
    b.x = x;
    send_phase(k, "decode_prefill");
    double t0 = xb_now();
    if (m->decode_prefill) m->decode_prefill(&c->xc, b.n_max, w, x, N, b.state, b.scratch);
    else
        for (int t = 0; t < N; t++) m->decode_step(&c->xc, b.n_max, w, x + (size_t)t * d, t, b.state, b.y, b.scratch);
    double prefill_s = xb_now() - t0;
    /* tokens per timed run: enough for twice the clock floor, at most N/16 */
    double t1 = xb_now();
    decode_run(&b);
    double one = xb_now() - t1;
    if (one < 2 * floor) b.k = one > 0 ? (int)ceil(2 * floor / one) : kmax;
    if (b.k > kmax) b.k = kmax;

    json_object *dec = json_object_new_object();
    json_object_object_add(dec, "context", json_object_new_int(N));
    json_object_object_add(dec, "state_bytes", json_object_new_int64((int64_t)(nst * sizeof(float))));
    json_object_object_add(dec, "tokens_per_rep", json_object_new_int(b.k));
    json_object_object_add(dec, "prefill_s", xb_json_num(prefill_s));
    json_object_object_add(rec, "decode", dec);
    send_phase(k, "decode_step");
    double *t = NULL;
    int n = xb_time_reps(&c->lat, decode_run, &b, k->stop_at, &t);
    if (!t) { rc = XB_ENOMEM; goto out; }
    for (int i = 0; i < n; i++) t[i] /= b.k;
    double max_cv = c->lat.max_cv > 0 ? c->lat.max_cv : DEFAULT_MAX_CV;
    /* per token: the clock floor applies to a whole run of k tokens */
    json_object *o = xb_timing_json(t, n, NAN, max_cv, floor / b.k);
    int min_reps = c->lat.min_reps > 0 ? c->lat.min_reps : 10;
    if (n < min_reps) {
        json_object_object_add(o, "truncated", json_object_new_boolean(1));
        json_object_object_add(o, "noisy", json_object_new_boolean(1));
    }
    json_object_object_add(dec, "step", o);
    free(t);
out:
    xb_free(w); xb_free(x); xb_free(b.state); xb_free(b.scratch); xb_free(b.y);
    return rc;
}

/* The whole model at (B, N) on random tokens and targets. */
static int latency_model(child *k, int B, int N, double floor, json_object *lat)
{
    const xb_cell_spec *c = k->c;
    xb_model *m = NULL;
    int rc = xb_model_create(&m, &c->mc, c->mixer, &c->xc, B, N, k->err, sizeof k->err);
    if (rc) return rc;
    xb_model_init(m, c->init_seed);
    int pair = c->mc.shape == XB_SHAPE_PAIR;
    size_t ntok = (size_t)B * N * (pair ? 2 : 1);
    size_t ny = c->mc.shape == XB_SHAPE_TOK ? (size_t)B * N : (size_t)B;
    model_bench b = { .m = m, .b = B };
    b.x = xb_alloc(ntok * sizeof *b.x);
    b.y = xb_alloc(ny * sizeof *b.y);
    b.len = xb_alloc((size_t)B * (pair ? 2 : 1) * sizeof *b.len);
    if (!b.x || !b.y || !b.len) {
        snprintf(k->err, sizeof k->err, "out of memory for the model latency buffers (N=%d)", N);
        rc = XB_ENOMEM;
    } else {
        xb_rng r;
        xb_rng_seed(&r, c->init_seed ^ 0x746f6b656e73ull);
        for (size_t i = 0; i < ntok; i++) b.x[i] = (int32_t)xb_rng_below(&r, (uint32_t)c->mc.vocab);
        for (size_t i = 0; i < ny; i++) b.y[i] = (int32_t)xb_rng_below(&r, (uint32_t)c->mc.n_classes);
        for (int i = 0; i < B * (pair ? 2 : 1); i++) b.len[i] = N;
        double f = (double)B * c->flops_model;
        rc = time_one(k, "model_fwd", model_fwd, &b, f, floor, lat);
        if (rc == 0) rc = time_one(k, "model_fwdbwd", model_fwdbwd, &b, 3 * f, floor, lat);
        /* Last: AdamW changes the parameters, which the two above must not see. */
        b.tc = &c->train;
        if (rc == 0) rc = time_one(k, "model_train", model_train, &b, 3 * f, floor, lat);
        json_object *o;
        if (rc == 0 && b.nonfinite && json_object_object_get_ex(lat, "model_train", &o))
            json_object_object_add(o, "nonfinite", json_object_new_boolean(1));
    }
    xb_free(b.x); xb_free(b.y); xb_free(b.len);
    xb_model_free(m);
    return rc;
}

/* ---- training ----------------------------------------------------------------------- */

static int on_step(void *p, int step, int steps, float loss)
{
    child *k = p;
    double now = xb_now();
    if (step == 1 || step == steps || now - k->last_progress >= 0.25) {
        k->last_progress = now;
        json_object *o = json_object_new_object();
        json_object_object_add(o, "phase", json_object_new_string("train"));
        json_object_object_add(o, "step", json_object_new_int(step));
        json_object_object_add(o, "steps", json_object_new_int(steps));
        json_object_object_add(o, "loss", xb_json_num(loss));
        xb_cell_send(k->ch, "progress", o);
    }
    return 0;
}

static json_object *curve_json(const float *curve, int n)
{
    json_object *a = json_object_new_array();
    if (!curve || n <= 0) return a;
    int buckets = n < CURVE_POINTS ? n : CURVE_POINTS;
    for (int b = 0; b < buckets; b++) {
        int lo = (int)((long)n * b / buckets), hi = (int)((long)n * (b + 1) / buckets);
        double sum = 0;
        for (int i = lo; i < hi; i++) sum += curve[i];
        json_object *pt = json_object_new_array();
        json_object_array_add(pt, json_object_new_int(hi));          /* last step of bucket */
        json_object_array_add(pt, xb_json_num(sum / (hi - lo)));
        json_object_array_add(a, pt);
    }
    return a;
}

static json_object *data_json(const xb_data *tr, const xb_data *va, const xb_data *te)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "train", json_object_new_int(tr->n));
    json_object_object_add(o, "val", json_object_new_int(va->n));
    json_object_object_add(o, "test", json_object_new_int(te->n));
    json_object_object_add(o, "rejected", json_object_new_int64(tr->rejected));
    json_object_object_add(o, "source", json_object_new_string(tr->source));
    return o;
}

static const char *status_of(int rc)
{
    return rc == XB_ENOMEM ? "oom" : "error";
}

/* ---- padding-free batches (MIXERS.md §29.1) ---------------------------------------- */

typedef struct packed_bench {
    xb_model *m;
    const int32_t *x;   /* padded (b × mult × N) or packed (Σ len) */
    int *len;
    int b;
} packed_bench;

static void packed_fwd(void *p)
{
    packed_bench *q = p;
    xb_model_forward_packed(q->m, q->x, q->len, q->b);
}

/* On a task whose test examples vary in length: the same batch of them through the padded
 * forward (every sequence N long, pads masked) and the packed one (xb_model_forward_packed),
 * timed alike; the mixer FLOPs of each (padded: every sequence at N; packed: each at its own
 * length), the token counts and the largest logit difference between the two. Nothing is
 * recorded when every example has the full length: packing would change nothing. */
static int packed_part(child *k, xb_model *m, const xb_data *te)
{
    const xb_cell_spec *c = k->c;
    const int N = te->L, mult = te->shape == XB_SHAPE_PAIR ? 2 : 1;
    const int b = te->n < xb_model_batch(m) ? te->n : xb_model_batch(m), ns = mult * b;
    if (b < 1 || N != xb_model_seq_len(m)) return 0;
    long T = 0;
    for (int s = 0; s < ns; s++) T += te->len[s];
    if (T == (long)ns * N) return 0;
    int32_t *packed = malloc((size_t)T * sizeof *packed);
    int *len = malloc((size_t)ns * sizeof *len);
    const size_t nl = (size_t)(te->shape == XB_SHAPE_TOK ? b * N : b) * (size_t)te->n_classes;
    float *ref = malloc(nl * sizeof *ref);
    if (!packed || !len || !ref) {
        free(packed); free(len); free(ref);
        snprintf(k->err, sizeof k->err, "out of memory for the packed batch");
        return XB_ENOMEM;
    }
    for (int s = 0, off = 0; s < ns; off += te->len[s++]) {
        len[s] = te->len[s];
        memcpy(packed + off, te->x + (size_t)s * N, (size_t)len[s] * sizeof *packed);
    }
    double fpad = 0, fpack = 0;
    for (int s = 0; s < ns; s++) {
        fpad += c->mixer->flops(&c->xc, N);
        fpack += c->mixer->flops(&c->xc, len[s]);
    }
    const int blocks = c->mc.layers * (c->mc.loop > 1 ? c->mc.loop : 1);
    /* equality first: the padded logits, then the packed ones */
    xb_model_forward(m, te->x, len, NULL, b);
    memcpy(ref, xb_model_logits(m), nl * sizeof *ref);
    xb_model_forward_packed(m, packed, len, b);
    const float *got = xb_model_logits(m);
    double diff = 0;
    for (size_t i = 0; i < nl; i++) {
        if (te->shape == XB_SHAPE_TOK && (int)(i / te->n_classes) % N >= len[i / te->n_classes / N]) continue;
        diff = fmax(diff, fabs((double)got[i] - ref[i]));
    }
    json_object *pk = json_object_new_object();
    json_object_object_add(pk, "batch", json_object_new_int(b));
    json_object_object_add(pk, "tokens", json_object_new_int64(T));
    json_object_object_add(pk, "padded_tokens", json_object_new_int64((int64_t)ns * N));
    json_object_object_add(pk, "mixer_flops_padded", xb_json_num(fpad * blocks));
    json_object_object_add(pk, "mixer_flops_packed", xb_json_num(fpack * blocks));
    json_object_object_add(pk, "max_logit_diff", xb_json_num(diff));
    json_object_object_add(k->rec, "packed", pk);
    double floor = xb_clock_floor();
    model_bench mb = { .m = m, .x = te->x, .len = len, .b = b };
    packed_bench pb = { .m = m, .x = packed, .len = len, .b = b };
    int rc = time_one(k, "padded_fwd", model_fwd, &mb, NAN, floor, pk);
    if (rc == 0) rc = time_one(k, "packed_fwd", packed_fwd, &pb, NAN, floor, pk);
    free(packed); free(len); free(ref);
    return rc;
}

static int train_part(child *k, int fault)
{
    const xb_cell_spec *c = k->c;
    xb_data tr, va, te;
    memset(&tr, 0, sizeof tr); memset(&va, 0, sizeof va); memset(&te, 0, sizeof te);
    send_phase(k, "data");
    int rc = c->task->load(&c->tc, &tr, &va, &te, k->err, sizeof k->err);
    if (rc) goto out;
    json_object_object_add(k->rec, "data", data_json(&tr, &va, &te));
    json_object_object_add(k->rec, "chance", xb_json_num(xb_data_majority(&te)));

    xb_model *m = NULL;
    rc = xb_model_create(&m, &c->mc, c->mixer, &c->xc, c->train.batch, c->L, k->err, sizeof k->err);
    if (rc) goto out;
    xb_model_init(m, c->init_seed);
    json_object_object_add(k->rec, "params", json_object_new_int64((int64_t)xb_model_n_params(m)));
    if (fault == XB_FAULT_NAN) {
        /* Test-only: poison every parameter so the real training loop meets a NaN loss. */
        float *w = xb_model_params(m);
        for (size_t i = 0, n = xb_model_n_params(m); i < n; i++) w[i] = NAN;
    }
    xb_train_result res;
    memset(&res, 0, sizeof res);
    rc = xb_train(m, &tr, va.n > 0 ? &va : NULL, &te, &c->train, &res, on_step, k);
    if (rc == 0) {
        json_object_object_add(k->rec, "test_acc", xb_json_num(res.test_acc));
        json_object_object_add(k->rec, "val_acc", xb_json_num(res.val_acc >= 0 ? res.val_acc : NAN));
        json_object_object_add(k->rec, "final_loss", xb_json_num(res.final_loss));
        json_object_object_add(k->rec, "steps", json_object_new_int(res.steps_done));
        json_object_object_add(k->rec, "train_time_s", xb_json_num(res.train_time_s));
        json_object_object_add(k->rec, "loss_curve", curve_json(res.curve, res.steps_done));
        if (res.diverged || !isfinite(res.final_loss)) {
            json_object_object_add(k->rec, "status", json_object_new_string("diverged"));
            snprintf(k->err, sizeof k->err, "loss or gradient norm became NaN/inf by step %d",
                     res.steps_done);
        }
    }
    free(res.curve);
    if (rc == 0 && !res.diverged) rc = packed_part(k, m, &te);
    xb_model_free(m);
out:
    xb_data_release(&tr);
    xb_data_release(&va);
    xb_data_release(&te);
    return rc;
}

int xb_measure_cell(xb_cell_chan *ch, void *ctx)
{
    const xb_cell_spec *c = ctx;
    child k = { .c = c, .ch = ch };
    k.t0 = xb_now();
    /* Leave a fifth of the time limit for the record: timing loops stop at stop_at. */
    k.stop_at = c->timeout_s > 0 ? k.t0 + 0.8 * c->timeout_s : 0;
    k.rec = json_object_new_object();

    int fault = xb_cell_fault(c->index);
    if (fault == XB_FAULT_OOM) {
        json_object_object_add(k.rec, "status", json_object_new_string("oom"));
        json_object_object_add(k.rec, "error", json_object_new_string("allocation failed (XB_FAULT=alloc)"));
        xb_cell_send_result(ch, k.rec);
        return 0;
    }
    /* Flush subnormals to zero in the cell (FTZ + DAZ): a trained model whose features decay
     * into the subnormal range otherwise runs 100x slower on those values and the latency
     * would measure the FPU's microcode assist, not the mixer. Set before the first parallel
     * region: OpenMP's (and so OpenBLAS's) threads inherit the creating thread's MXCSR. */
#ifdef __SSE__
    _MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
    _MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#endif
#ifdef _OPENMP
    omp_set_max_active_levels(1);
#endif
    use_threads(c->threads);

    int rc = 0;
    if (c->kind == XB_CELL_TRAIN) rc = train_part(&k, fault);

    if (c->kind == XB_CELL_DECODE) {
        rc = decode_part(&k, xb_clock_floor(), k.rec);
    } else if (rc == 0) {
        json_object *lat = json_object_new_object();
        json_object_object_add(lat, "batch", json_object_new_int(c->lat.batch));
        json_object_object_add(lat, "N", json_object_new_int(c->L));
        double floor = xb_clock_floor();
        json_object_object_add(lat, "clock_floor_s", json_object_new_double(floor));
        /* the FMA ceiling of this thread count right before and after the timings */
        double probe0 = xb_machine_fma_probe(c->threads, FMA_PROBE_S);
        rc = latency_mixer(&k, c->lat.batch, c->L, floor, lat);
        if (rc == 0) rc = latency_model(&k, c->lat.batch, c->L, floor, lat);
        if (rc == 0) {
            json_object *pr = json_object_new_array();
            json_object_array_add(pr, xb_json_num(probe0));
            json_object_array_add(pr, xb_json_num(xb_machine_fma_probe(c->threads, FMA_PROBE_S)));
            json_object_object_add(lat, "fma_probe_gflops", pr);
        }
        json_object_object_add(k.rec, "latency", lat);
    }
    if (rc) {
        json_object_object_add(k.rec, "status", json_object_new_string(status_of(rc)));
        if (!k.err[0]) snprintf(k.err, sizeof k.err, "%s", xb_strerror(rc));
    }
    if (k.err[0]) json_object_object_add(k.rec, "error", json_object_new_string(k.err));
    json_object_object_add(k.rec, "child_s", json_object_new_double(xb_now() - k.t0));
    json_object_object_add(k.rec, "as_base_kb", json_object_new_int64(xb_cell_as_base_kb()));
    return xb_cell_send_result(ch, k.rec) ? 1 : 0;
}
