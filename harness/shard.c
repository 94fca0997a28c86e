/* harness/shard.c — cost estimate of a cell and the longest-first split of cells over
 * shards (see harness/shard.h). */
#include "harness/shard.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"

/* A task option by name, or def when the task has none of that name. */
static double task_opt(const xb_cell_spec *c, const char *name, double def)
{
    const xb_task *t = c->task;
    for (int i = 0; t && i < t->n_opts && i < XB_TASK_MAX_OPTS; i++)
        if (t->opts[i].name && strcmp(t->opts[i].name, name) == 0) return c->tc.opt[i];
    return def;
}

/* FLOPs of one timed measurement: (warmup + reps) calls of f FLOPs, reps = min_reps raised
 * until min_time_s is reached at the nominal rate, capped at max_reps (harness/measure.c's
 * loop with a nominal clock). */
static double timed(const xb_latency_cfg *lc, double f)
{
    if (!(f > 0)) return 0;
    double min_reps = lc->min_reps > 0 ? lc->min_reps : 10;
    double max_reps = lc->max_reps > 0 ? lc->max_reps : 1000;
    if (max_reps < min_reps) max_reps = min_reps;
    double reps = min_reps;
    if (lc->min_time_s > 0) {
        double need = ceil(lc->min_time_s * XB_SHARD_NOMINAL_FLOPS / f);
        if (need > reps) reps = need;
    }
    if (reps > max_reps) reps = max_reps;
    double warm = lc->warmup > 0 ? lc->warmup : 0;
    return (warm + reps) * f;
}

double xb_cell_cost(const xb_cell_spec *c)
{
    double overhead = XB_SHARD_OVERHEAD_S * XB_SHARD_NOMINAL_FLOPS;
    if (c->skip[0]) return overhead;
    double fm = c->flops_model > 0 ? c->flops_model : 0;
    double fx = c->flops_mixer > 0 ? c->flops_mixer : 0;
    double work = 0;
    if (c->kind == XB_CELL_TRAIN) {
        double steps = c->train.steps > 0 ? c->train.steps : 0;
        double batch = c->train.batch > 0 ? c->train.batch : 1;
        double every = c->train.eval_every > 0 ? c->train.eval_every : fmax(1, floor(steps / 10));
        double evals = floor(steps / every) + 1;
        double val = task_opt(c, "val_examples", 0), test = task_opt(c, "test_examples", 0);
        work += 3 * steps * batch * fm + (evals * fmax(val, 0) + fmax(test, 0)) * fm;
    }
    double b = c->lat.batch > 0 ? c->lat.batch : 1;
    work += timed(&c->lat, fx * b);            /* mixer forward */
    work += timed(&c->lat, 3 * fx * b);        /* mixer forward + backward */
    work += timed(&c->lat, fm * b);            /* model forward */
    work += timed(&c->lat, 3 * fm * b) * 2;    /* model forward + backward, training step */
    if (c->base_threads > 0) work += 2 * timed(&c->lat, fx * b);   /* paired mixer forwards */
    double thr = c->threads > 0 ? c->threads : 1;
    double cost = work / thr + overhead;
    return isfinite(cost) ? cost : overhead;
}

typedef struct item { double cost; int i; } item;

static int by_cost_desc(const void *a, const void *b)
{
    const item *x = a, *y = b;
    if (x->cost > y->cost) return -1;
    if (x->cost < y->cost) return 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

int xb_shard_of(const double *cost, int n, int N, int *shard_out)
{
    if (n < 0 || N < 1 || (n > 0 && (!cost || !shard_out))) return XB_EINVAL;
    if (n == 0) return 0;
    item *it = malloc((size_t)n * sizeof *it);
    double *load = calloc((size_t)N, sizeof *load);
    int *count = calloc((size_t)N, sizeof *count);
    if (!it || !load || !count) {
        free(it);
        free(load);
        free(count);
        return XB_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        double c = cost[i];
        it[i].cost = isfinite(c) && c > 0 ? c : 0;
        it[i].i = i;
    }
    qsort(it, (size_t)n, sizeof *it, by_cost_desc);
    for (int j = 0; j < n; j++) {
        int best = 0;
        for (int s = 1; s < N; s++)
            if (load[s] < load[best] || (load[s] == load[best] && count[s] < count[best])) best = s;
        shard_out[it[j].i] = best;
        load[best] += it[j].cost;
        count[best]++;
    }
    free(it);
    free(load);
    free(count);
    return 0;
}

int xb_shard_select(xb_cell_spec *cells, int *n, int k, int N)
{
    if (!n || *n < 0 || (*n > 0 && !cells)) return XB_EINVAL;
    if (N <= 1) return 0;
    if (k < 1 || k > N) return XB_EINVAL;
    int m = *n;
    if (m == 0) return 0;
    double *cost = malloc((size_t)m * sizeof *cost);
    int *shard = malloc((size_t)m * sizeof *shard);
    if (!cost || !shard) {
        free(cost);
        free(shard);
        return XB_ENOMEM;
    }
    for (int i = 0; i < m; i++) cost[i] = xb_cell_cost(&cells[i]);
    int rc = xb_shard_of(cost, m, N, shard);
    if (rc == 0) {
        int kept = 0;
        for (int i = 0; i < m; i++) {
            if (shard[i] == k - 1) {
                if (kept != i) cells[kept] = cells[i];
                kept++;
            } else if (cells[i].config) {
                json_object_put(cells[i].config);
                cells[i].config = NULL;
            }
        }
        for (int i = kept; i < m; i++) memset(&cells[i], 0, sizeof cells[i]);
        *n = kept;
    }
    free(cost);
    free(shard);
    return rc;
}
