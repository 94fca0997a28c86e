/* harness/sweep.c — expands a suite into cells, resolves and hashes each one, and runs
 * them one at a time in child processes (see harness/sweep.h). The parent only resolves
 * configurations (pure arithmetic), forks, reads pipes and writes files: it never enters an
 * OpenMP region, so fork stays safe for every cell. */
#include "harness/sweep.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#ifdef _OPENMP
#include <omp.h>
#endif
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/gemm.h"
#include "core/rng.h"
#include "core/xb.h"
#include "harness/cell.h"
#include "harness/mixcfg.h"
#include "harness/progress.h"
#include "harness/report/plot.h"
#include "harness/report/report.h"
#include "harness/report/store.h"
#include "harness/report/summary.h"
#include "harness/shard.h"

extern char **environ;

int xb_status_rerun(const char *status)
{
    return strcmp(status, "timeout") == 0 || strcmp(status, "oom") == 0 ||
           strncmp(status, "crashed", 7) == 0;
}

/* ---- configuration as JSON (what the hash is taken of) ------------------------------ */

static json_object *jint(long v) { return json_object_new_int64(v); }
static json_object *jdbl(double v) { return xb_json_num(v); }

static json_object *model_cfg_json(const xb_model_cfg *m)
{
    json_object *o = json_object_new_object();
#define I(f) json_object_object_add(o, #f, jint(m->f))
    I(shape); I(vocab); I(n_classes); I(dim); I(layers); I(heads); I(mlp); I(mlp_ratio);
    I(short_conv); I(positions); I(max_len); I(head_hidden);
#undef I
    /* loop only when it loops: a plain model's configuration (and so its cells' identity in
     * compare and their config_hash) stays what it was before the key existed */
    if (m->loop > 1) json_object_object_add(o, "loop", jint(m->loop));
    return o;
}

/* What a latency cell's timed training step (model_train) uses of the top-level train:. */
static json_object *optimizer_json(const xb_train_cfg *t)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "lr", jdbl(t->lr));
    json_object_object_add(o, "weight_decay", jdbl(t->weight_decay));
    json_object_object_add(o, "clip", jdbl(t->clip));
    json_object_object_add(o, "beta1", jdbl(t->beta1));
    json_object_object_add(o, "beta2", jdbl(t->beta2));
    return o;
}

static json_object *train_cfg_json(const xb_train_cfg *t)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "steps", jint(t->steps));
    json_object_object_add(o, "batch", jint(t->batch));
    json_object_object_add(o, "lr", jdbl(t->lr));
    json_object_object_add(o, "warmup", jdbl(t->warmup));
    json_object_object_add(o, "weight_decay", jdbl(t->weight_decay));
    json_object_object_add(o, "clip", jdbl(t->clip));
    json_object_object_add(o, "beta1", jdbl(t->beta1));
    json_object_object_add(o, "beta2", jdbl(t->beta2));
    json_object_object_add(o, "eval_every", jint(t->eval_every));
    json_object_object_add(o, "early_stop", jdbl(t->early_stop));
    char seed[24];
    snprintf(seed, sizeof seed, "%016llx", (unsigned long long)t->seed);
    json_object_object_add(o, "seed", json_object_new_string(seed));
    return o;
}

static json_object *latency_cfg_json(const xb_latency_cfg *l)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "batch", jint(l->batch));
    json_object_object_add(o, "warmup", jint(l->warmup));
    json_object_object_add(o, "min_reps", jint(l->min_reps));
    json_object_object_add(o, "min_time_s", jdbl(l->min_time_s));
    json_object_object_add(o, "max_reps", jint(l->max_reps));
    json_object_object_add(o, "max_cv", jdbl(l->max_cv));
    return o;
}

static json_object *task_json(const xb_cell_spec *c, const char *data_dir)
{
    json_object *o = json_object_new_object();
    const xb_task *t = c->task;
    json_object_object_add(o, "name", json_object_new_string(t->name));
    char key[512] = "";
    if (t->key) t->key(&c->tc, key, sizeof key);
    json_object_object_add(o, "key", json_object_new_string(key));
    json_object *opts = json_object_new_object();
    for (int i = 0; i < t->n_opts && i < XB_TASK_MAX_OPTS; i++)
        json_object_object_add(opts, t->opts[i].name, jdbl(c->tc.opt[i]));
    json_object_object_add(o, "options", opts);
    json_object_object_add(o, "data_dir", data_dir ? json_object_new_string(data_dir) : NULL);
    json_object_object_add(o, "L", jint(c->L));
    return o;
}

static void hash_config(xb_cell_spec *c)
{
    const char *s = json_object_to_json_string_ext(c->config, JSON_C_TO_STRING_PLAIN);
    snprintf(c->hash, sizeof c->hash, "%016llx", (unsigned long long)xb_fnv1a_str(s));
}

/* ---- expansion ---------------------------------------------------------------------- */

static int in_list(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static int check_only(const xb_suite *s, const char *only, FILE *err)
{
    for (const char *p = only; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        int found = 0;
        for (int j = 0; j < s->n_mixers; j++)
            if (strlen(s->mixers[j]->name) == len && strncmp(s->mixers[j]->name, p, len) == 0)
                found = 1;
        if (!found) {
            fprintf(err, "error: --only: '%.*s' is not a mixer of this suite; it has:", (int)len, p);
            for (int j = 0; j < s->n_mixers; j++) fprintf(err, " %s", s->mixers[j]->name);
            fprintf(err, "\n");
            return XB_EINVAL;
        }
        if (!e) break;
        p = e + 1;
    }
    return 0;
}

static void too_large(xb_cell_spec *c, size_t bytes, int batch);

/* Resolve everything about one cell that the parent can know without computing. */
/* A decode cell's memory: the layer's weights, its state and scratch for L + L/16 tokens and
 * those tokens' inputs (harness/measure.c decode_part); no model, no FLOPs. */
static void decode_resolve(xb_cell_spec *c)
{
    const xb_mixer *m = c->mixer;
#ifdef _OPENMP
    omp_set_num_threads(c->threads);   /* decode_scratch counts per-thread buffers */
#endif
    int n_max = xb_decode_n_max(c->L);
    size_t floats = xb_mixer_n_params(m, &c->xc) + m->decode_state(&c->xc, n_max) +
                    m->decode_scratch(&c->xc, n_max) + (size_t)n_max * c->xc.d + c->xc.d;
    c->bytes = floats * sizeof(float);
    if (c->mem_limit_mb > 0 && c->bytes > ((size_t)c->mem_limit_mb << 20)) {
        snprintf(c->skip, sizeof c->skip, "skipped:too-large");
        snprintf(c->skip_msg, sizeof c->skip_msg, "needs %.1f MiB, mem_limit_mb is %ld",
                 c->bytes / 1048576.0, c->mem_limit_mb);
    }
}

static void resolve(xb_cell_spec *c, const xb_suite *s, const xb_suite_task *st)
{
    const xb_mixer *m = c->mixer;
    c->lat = s->latency;
    c->lat.n_lengths = 0;
    c->lat.lengths = NULL;
    c->timeout_s = s->cell_timeout_s;
    c->mem_limit_mb = s->mem_limit_mb;

    /* The mixer's configuration: suite options, then the cell's width, heads, mode, length. */
    xb_mixer_cfg xc = s->mixer_cfg[c->mixer_i];
    xc.d = c->mc.dim;
    xc.heads = c->mc.heads;
    xc.causal = c->causal;
    xc.n_max = c->kind == XB_CELL_DECODE ? xb_decode_n_max(c->L) : c->L;
    xc.layer = 0;
    c->xc = xb_mixer_resolve(m, &xc);
    c->mc.max_len = c->L;

    uint64_t T = c->task ? xb_task_key(c->task, &c->tc) : xb_fnv1a_str("latency");
    c->init_seed = xb_stream_seed(c->seed, T, "init", xb_fnv1a_str(m->name));
    c->train.seed = xb_stream_seed(c->seed, T, "order", 0);

    /* The configuration hashed for --resume: everything that changes what the cell computes. */
    json_object *cfg = json_object_new_object();
    json_object_object_add(cfg, "kind", json_object_new_string(xb_cell_kind_name(c->kind)));
    if (c->task) json_object_object_add(cfg, "task", task_json(c, st ? st->data_dir : NULL));
    else json_object_object_add(cfg, "L", jint(c->L));
    json_object *mj = json_object_new_object();
    json_object_object_add(mj, "name", json_object_new_string(m->name));
    json_object_object_add(mj, "cfg", xb_mixcfg_json(m, &c->xc));   /* the mixer's table */
    json_object_object_add(cfg, "mixer", mj);
    json_object_object_add(cfg, "model", model_cfg_json(&c->mc));
    if (c->kind == XB_CELL_TRAIN) json_object_object_add(cfg, "train", train_cfg_json(&c->train));
    else if (c->kind == XB_CELL_LATENCY) json_object_object_add(cfg, "optimizer", optimizer_json(&c->train));
    json_object_object_add(cfg, "latency", latency_cfg_json(&c->lat));
    json_object_object_add(cfg, "seed", jint((long)c->seed));
    json_object_object_add(cfg, "threads", jint(c->threads));
    if (c->base_threads) json_object_object_add(cfg, "paired_threads", jint(c->base_threads));
    c->config = cfg;
    hash_config(c);

    /* Decisions made before forking. */
    char err[256] = "";
    if (c->causal && !(m->modes & XB_CAUSAL)) {
        snprintf(c->skip, sizeof c->skip, "skipped:no-causal-mode");
        snprintf(c->skip_msg, sizeof c->skip_msg, "'%s' has no causal form and %s", m->name,
                 c->task ? "the task needs one" : c->kind == XB_CELL_DECODE ? "decode is causal" : "latency.mode is causal");
        return;
    }
    if (!c->causal && !(m->modes & XB_BIDIR)) {
        snprintf(c->skip, sizeof c->skip, "skipped:no-bidir-mode");
        snprintf(c->skip_msg, sizeof c->skip_msg, "'%s' has no bidirectional form and %s", m->name,
                 c->task ? "the task needs one" : "latency.mode is bidirectional");
        return;
    }
    if (c->task && c->task->check && c->task->check(&c->tc, err, sizeof err) != 0) {
        snprintf(c->skip, sizeof c->skip, "skipped:bad-config");
        snprintf(c->skip_msg, sizeof c->skip_msg, "%s: %s", c->task->name, err);
        return;
    }
    if (xb_mixer_check(m, &c->xc, err, sizeof err) != 0) {
        snprintf(c->skip, sizeof c->skip, "skipped:bad-config");
        snprintf(c->skip_msg, sizeof c->skip_msg, "%s: %s", m->name, err);
        return;
    }
    if (c->kind == XB_CELL_DECODE) {
        if (!m->decode_step) {
            snprintf(c->skip, sizeof c->skip, "skipped:no-decode-form");
            snprintf(c->skip_msg, sizeof c->skip_msg, "'%s' has no decode form (core/mixer.h decode_step)",
                     m->name);
            return;
        }
        decode_resolve(c);
        return;
    }
    c->flops_mixer = m->flops(&c->xc, c->L);
    c->flops_model = xb_model_flops(&c->mc, m, &c->xc, c->L);
    /* n_scratch may size per-thread buffers from omp_get_max_threads(): set the cell's count.
     * This only sets a variable; the parent still never starts a parallel region. */
#ifdef _OPENMP
    omp_set_num_threads(c->threads);
#endif
    size_t bytes = xb_model_bytes(&c->mc, m, &c->xc, c->lat.batch, c->L);
    int batch = c->lat.batch;
    if (c->kind == XB_CELL_TRAIN) {
        size_t tb = xb_model_bytes(&c->mc, m, &c->xc, c->train.batch, c->L);
        if (tb > bytes) {
            bytes = tb;
            batch = c->train.batch;
        }
    }
    too_large(c, bytes, batch);
}

/* What the cell may use: mem_limit_mb, or without one this machine's memory and swap. */
static size_t machine_bytes(void)
{
    struct sysinfo si;
    if (sysinfo(&si) != 0) return SIZE_MAX;
    return xb_size_mul(xb_size_add(si.totalram, si.totalswap), si.mem_unit ? si.mem_unit : 1);
}

/* skipped:too-large, decided in the parent before anything forks, for a cell whose analytic
 * size (xb_model_bytes, at the larger of its batches) overflows, passes mem_limit_mb, or
 * without a limit passes this machine's memory and swap. */
static void too_large(xb_cell_spec *c, size_t bytes, int batch)
{
    c->bytes = bytes == SIZE_MAX ? 0 : bytes;   /* recorded as bytes_analytic (null: uncountable) */
    if (bytes == SIZE_MAX) {
        double rows = (c->mc.shape == XB_SHAPE_PAIR ? 2.0 : 1.0) * batch * c->L;
        snprintf(c->skip, sizeof c->skip, "skipped:too-large");
        if (rows > INT_MAX)
            snprintf(c->skip_msg, sizeof c->skip_msg, "batch %d x length %d is %.0f rows, more than "
                     "the kernels count (%d)", batch, c->L, rows, INT_MAX);
        else
            snprintf(c->skip_msg, sizeof c->skip_msg, "its size overflows: batch %d x length %d x dim %d "
                     "x %d layers is past what one cell can hold", batch, c->L, c->mc.dim, c->mc.layers);
        return;
    }
    size_t limit = c->mem_limit_mb > 0 ? xb_size_mul((size_t)c->mem_limit_mb, (size_t)1 << 20) : machine_bytes();
    if (bytes <= limit) return;
    snprintf(c->skip, sizeof c->skip, "skipped:too-large");
    if (c->mem_limit_mb > 0)
        snprintf(c->skip_msg, sizeof c->skip_msg, "needs %.1f MiB, mem_limit_mb is %ld",
                 bytes / 1048576.0, c->mem_limit_mb);
    else
        snprintf(c->skip_msg, sizeof c->skip_msg, "needs %.1f MiB, more than this machine's memory "
                 "and swap (%.1f MiB; mem_limit_mb is 0)", bytes / 1048576.0, limit / 1048576.0);
}

/* The model of latency cells: the suite's top-level model: (tasks' overrides do not apply),
 * with a byte-sized vocabulary and a per-token head in causal mode, a 10-class head otherwise. */
static xb_model_cfg latency_model(const xb_suite *s, int causal)
{
    xb_model_cfg mc = s->model;
    mc.shape = causal ? XB_SHAPE_TOK : XB_SHAPE_CLS;
    mc.vocab = 256;
    mc.n_classes = causal ? 256 : 10;
    return mc;
}

int xb_sweep_expand(const xb_suite *s, const xb_sweep_opts *o, xb_cell_spec **cells, int *n,
                    FILE *err)
{
    *cells = NULL;
    *n = 0;
    if (o->only && check_only(s, o->only, err)) return XB_EINVAL;
    int nthr = o->threads > 0 ? 1 : s->n_threads;
    int thr0 = o->threads > 0 ? o->threads : 0;
    long total = 0;
    for (int t = 0; t < s->n_tasks; t++)
        total += (long)s->tasks[t].n_lengths * s->n_mixers * s->n_seeds * nthr;
    total += (long)s->latency.n_lengths * s->n_mixers * nthr;
    total += xb_suite_count_cells(s).decode / (s->n_threads > 0 ? s->n_threads : 1) * nthr;
    xb_cell_spec *v = calloc((size_t)(total > 0 ? total : 1), sizeof *v);
    if (!v) return XB_ENOMEM;

    int index = 0, kept = 0, min_thr = thr0;
    for (int k = 0; !thr0 && k < s->n_threads; k++)
        if (k == 0 || s->threads[k] < min_thr) min_thr = s->threads[k];
#define THREADS(k) (thr0 ? thr0 : s->threads[k])
#define KEEP(c)                                                                        \
    do {                                                                               \
        int keep_ = !o->only || in_list(o->only, (c)->mixer->name);                    \
        if (keep_) kept++;                                                             \
        else { if ((c)->config) json_object_put((c)->config); memset((c), 0, sizeof *(c)); } \
    } while (0)

    for (int t = 0; t < s->n_tasks; t++) {
        const xb_suite_task *st = &s->tasks[t];
        for (int j = 0; j < s->n_mixers; j++)
            for (int li = 0; li < st->n_lengths && (!st->use || st->use[j]); li++)
                for (int si = 0; si < s->n_seeds; si++)
                    for (int k = 0; k < nthr; k++) {
                        xb_cell_spec *c = &v[kept];
                        memset(c, 0, sizeof *c);
                        c->index = index++;
                        c->kind = XB_CELL_TRAIN;
                        c->task = st->task;
                        c->task_i = t;
                        c->mixer = s->mixers[j];
                        c->mixer_i = j;
                        c->L = st->lengths[li];
                        c->seed = s->seeds[si];
                        c->threads = THREADS(k);
                        c->causal = st->causal >= 0 ? st->causal : st->task->shape == XB_SHAPE_TOK;
                        c->tc = st->cfg;
                        c->tc.L = c->L;
                        c->tc.seed = c->seed;
                        c->tc.data_dir = st->data_dir;
                        c->mc = st->model;
                        c->mc.shape = st->task->shape;
                        c->mc.vocab = st->task->vocab(&c->tc);
                        c->mc.n_classes = st->task->n_classes(&c->tc);
                        c->train = st->train;
                        if (!o->only || in_list(o->only, c->mixer->name)) resolve(c, s, st);
                        KEEP(c);
                    }
    }
    for (int j = 0; j < s->n_mixers; j++)
        for (int li = 0; li < s->latency.n_lengths; li++)
            for (int k = 0; k < nthr; k++) {
                xb_cell_spec *c = &v[kept];
                memset(c, 0, sizeof *c);
                c->index = index++;
                c->kind = XB_CELL_LATENCY;
                c->task_i = -1;
                c->mixer = s->mixers[j];
                c->mixer_i = j;
                c->L = s->latency.lengths[li];
                c->seed = s->n_seeds > 0 ? s->seeds[0] : 1234;
                c->threads = THREADS(k);
                c->base_threads = nthr > 1 && c->threads > min_thr ? min_thr : 0;
                c->causal = s->latency.causal;
                c->mc = latency_model(s, c->causal);
                c->train = s->train;     /* the optimiser of the timed training step */
                if (!o->only || in_list(o->only, c->mixer->name)) resolve(c, s, NULL);
                KEEP(c);
            }
    /* decode cells: one causal mixer layer, one more token after a context of L; only for the
     * mixers that have a decode form (every causal one: tests/test_decode.c), as a causal
     * task runs `supported` mixers — a decode cell of linformer or fnet would only ever be
     * skipped:no-causal-mode, and make `xbench run` (and `make run`) exit 1 for a suite that
     * asked for nothing wrong */
    for (int j = 0; j < s->n_mixers; j++)
        for (int li = 0; s->mixers[j]->decode_step && li < s->latency.n_decode_lengths; li++)
            for (int k = 0; k < nthr; k++) {
                xb_cell_spec *c = &v[kept];
                memset(c, 0, sizeof *c);
                c->index = index++;
                c->kind = XB_CELL_DECODE;
                c->task_i = -1;
                c->mixer = s->mixers[j];
                c->mixer_i = j;
                c->L = s->latency.decode_lengths[li];
                c->seed = s->n_seeds > 0 ? s->seeds[0] : 1234;
                c->threads = THREADS(k);
                c->causal = 1;
                c->mc = latency_model(s, 1);
                if (!o->only || in_list(o->only, c->mixer->name)) resolve(c, s, NULL);
                KEEP(c);
            }
#undef KEEP
#undef THREADS
    /* --shard K/N: the cost-balanced split that every shard works out alike (harness/shard.h) */
    if (o->shard_n > 1) {
        int rc = xb_shard_select(v, &kept, o->shard_k, o->shard_n);
        if (rc) {
            xb_sweep_cells_free(v, kept);
            return rc;
        }
    }
    *cells = v;
    *n = kept;
    return 0;
}

void xb_sweep_cells_free(xb_cell_spec *cells, int n)
{
    for (int i = 0; i < n; i++)
        if (cells[i].config) json_object_put(cells[i].config);
    free(cells);
}

char *xb_sweep_dir(const xb_suite *s, const xb_sweep_opts *o)
{
    if (o->out_dir) return strdup(o->out_dir);
    char buf[512];
    const char *name = s->name && *s->name ? s->name : "run";
    if (o->shard_n > 0)
        snprintf(buf, sizeof buf, "results/%s-shard-%d-of-%d", name, o->shard_k, o->shard_n);
    else
        snprintf(buf, sizeof buf, "results/%s", name);
    return strdup(buf);
}

int xb_sweep_plan(const xb_suite *s, const xb_sweep_opts *o, FILE *out)
{
    xb_cell_spec *cells = NULL;
    int n = 0;
    int rc = xb_sweep_expand(s, o, &cells, &n, o->err ? o->err : stderr);
    if (rc) return rc;
    char *dir = xb_sweep_dir(s, o);
    int skipped = 0;
    for (int i = 0; i < n; i++) skipped += cells[i].skip[0] != 0;
    fprintf(out, "suite %s (%s): %d cells (%d to skip), results in %s/\n", s->name ? s->name : "?",
            s->path ? s->path : "?", n, skipped, dir ? dir : "?");
    fprintf(out, "%6s  %-7s  %-32s  %-12s  %6s  %20s  %7s  %s\n", "cell", "kind", "task", "mixer", "L",
            "seed", "threads", "note");
    for (int i = 0; i < n; i++) {
        const xb_cell_spec *c = &cells[i];
        char task[160];
        const char *label = c->task ? s->tasks[c->task_i].label : NULL;
        snprintf(task, sizeof task, "%s%s%s", c->task ? c->task->name : "-", label ? " " : "",
                 label ? label : "");
        fprintf(out, "%6d  %-7s  %-32s  %-12s  %6d  %20llu  %7d  %s\n", c->index + 1,
                xb_cell_kind_name(c->kind), task, c->mixer->name, c->L,
                (unsigned long long)c->seed, c->threads, c->skip[0] ? c->skip : "");
    }
    free(dir);
    xb_sweep_cells_free(cells, n);
    return 0;
}

/* ---- machine and meta.json ---------------------------------------------------------- */

#if __has_include("harness/machine.h")
#include "harness/machine.h"
#define HAVE_MACHINE 1
#endif

#ifndef HAVE_MACHINE
static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0) {
            char *p = strchr(line, ':');
            if (p) {
                p++;
                while (*p == ' ' || *p == '\t') p++;
                p[strcspn(p, "\n")] = 0;
                snprintf(buf, n, "%s", p);
            }
            break;
        }
    }
    fclose(f);
}
#endif

typedef struct machine_req { int threads, measure; } machine_req;

/* What Google Benchmark's context block reports and meta.json keeps for gbench.json: the
 * clock in MHz (cpufreq's maximum, else /proc/cpuinfo's "cpu MHz", else 0 = unknown),
 * whether a frequency governor other than "performance" may scale the clock, and the load
 * average when the run started. */
static void clock_context(json_object *j)
{
    double mhz = 0;
    FILE *f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    if (f) {
        long khz = 0;
        if (fscanf(f, "%ld", &khz) == 1 && khz > 0) mhz = khz / 1000.0;
        fclose(f);
    }
    if (mhz <= 0 && (f = fopen("/proc/cpuinfo", "r"))) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            char *c = strchr(line, ':');
            if (strncmp(line, "cpu MHz", 7) == 0 && c) {
                mhz = atof(c + 1);
                break;
            }
        }
        fclose(f);
    }
    int scaling = 0;
    for (int cpu = 0; cpu < 4096 && !scaling; cpu++) {
        char path[96], gov[64] = "";
        snprintf(path, sizeof path, "/sys/devices/system/cpu/cpu%d/cpufreq/scaling_governor", cpu);
        if (!(f = fopen(path, "r"))) {
            if (cpu > 0) break;
            continue;   /* cpu0 may lack cpufreq while others have it: look at a few more */
        }
        if (fscanf(f, "%63s", gov) == 1 && strcmp(gov, "performance") != 0) scaling = 1;
        fclose(f);
    }
    json_object_object_add(j, "mhz_per_cpu", json_object_new_double(mhz));
    json_object_object_add(j, "cpu_scaling_enabled", json_object_new_boolean(scaling));
    double la[3];
    json_object *l = json_object_new_array();
    int k = getloadavg(la, 3);
    for (int i = 0; i < k; i++) json_object_array_add(l, json_object_new_double(la[i]));
    json_object_object_add(j, "load_avg", l);
}

/* First line of a small file (NULL-free: "" when unreadable). */
static void first_line(const char *path, char *buf, size_t n)
{
    buf[0] = 0;
    FILE *f = fopen(path, "r");
    if (!f) return;
    if (fgets(buf, (int)n, f)) buf[strcspn(buf, "\r\n")] = 0;
    fclose(f);
}

/* Runs in a child: BLAS calls and the measurement of ceilings (OpenMP regions) stay out of
 * the parent. */
static int machine_child(xb_cell_chan *ch, void *ctx)
{
    const machine_req *rq = ctx;
    json_object *j = json_object_new_object();
    struct utsname u;
    if (uname(&u) == 0) {
        char k[600];
        snprintf(k, sizeof k, "%s %s %s", u.sysname, u.release, u.machine);
        json_object_object_add(j, "kernel", json_object_new_string(k));
        json_object_object_add(j, "host", json_object_new_string(u.nodename));
    }
    /* Which machine and boot: `xbench compare` compares latency only within one boot (host
     * names repeat across VMs; a machine-id can be baked into an image). */
    char id[128];
    first_line("/proc/sys/kernel/random/boot_id", id, sizeof id);
    if (id[0]) json_object_object_add(j, "boot_id", json_object_new_string(id));
    first_line("/etc/machine-id", id, sizeof id);
    if (id[0]) json_object_object_add(j, "machine_id", json_object_new_string(id));
    clock_context(j);
#ifdef HAVE_MACHINE
    static xb_machine m;     /* large (per-thread tables): not on the stack */
    xb_machine_describe(&m);
    if (rq->measure) xb_machine_measure(&m, rq->threads, rq->measure == 1);
    json_object_object_add(j, "cpu", json_object_new_string(m.cpu));
    json_object_object_add(j, "logical_cpus", json_object_new_int(m.n_online));
    json_object_object_add(j, "usable_cpus", json_object_new_int(m.n_cpus));
    json_object_object_add(j, "physical_cores", json_object_new_int(m.n_cores));
    json_object_object_add(j, "caches", json_object_new_string(m.caches));
    json_object_object_add(j, "compiler", json_object_new_string(m.compiler));
    json_object_object_add(j, "cflags", json_object_new_string(m.cflags));
    json_object_object_add(j, "simd", json_object_new_string(m.simd));
    json_object_object_add(j, "blas", json_object_new_string(m.blas));
    json_object_object_add(j, "measured", json_object_new_string(
        !m.measured ? "no" : rq->measure == 1 ? "quick" : "full"));
    if (m.measured) {
        json_object *f = json_object_new_array();
        for (int t = 0; t < m.n_fma; t++) json_object_array_add(f, xb_json_num(m.fma_gflops[t]));
        json_object_object_add(j, "fma_gflops", f);    /* [t-1]: all t threads together */
        json_object_object_add(j, "fma_peak_gflops_per_core", xb_json_num(m.fma_gflops[0]));
        json_object_object_add(j, "gemm_n", json_object_new_int(m.gemm_n));
        json_object_object_add(j, "gemm_gflops", xb_json_num(m.gemm_gflops_1));
        json_object_object_add(j, "gemm_gflops_all", xb_json_num(m.gemm_gflops_all));
        json_object_object_add(j, "gemm_threads", json_object_new_int(m.gemm_threads));
        json_object_object_add(j, "stream_gbs", xb_json_num(m.stream_gbs_1));
        json_object_object_add(j, "stream_gbs_all", xb_json_num(m.stream_gbs_all));
    }
#else
    (void)rq;
    char cpu[256];
    cpu_model(cpu, sizeof cpu);
    json_object_object_add(j, "cpu", json_object_new_string(cpu));
    json_object_object_add(j, "logical_cpus", json_object_new_int((int)sysconf(_SC_NPROCESSORS_ONLN)));
    json_object_object_add(j, "blas", json_object_new_string(xb_blas_config()));
    json_object_object_add(j, "measured", json_object_new_string("no"));
#endif
    return xb_cell_send_result(ch, j) ? 1 : 0;
}

static json_object *machine_probe(int threads, int measure, const xb_progress *p, FILE *err)
{
    xb_cell_limits lim = { 300, 0 };
    xb_cell_outcome out;
    machine_req rq = { threads, measure };
    if (measure && !p->quiet && err) fprintf(err, "measuring the machine's ceilings (FMA peak, GEMM, STREAM)...\n");
    if (xb_cell_exec(&lim, machine_child, &rq, NULL, NULL, NULL, &out) != 0 || !out.record) {
        if (err) fprintf(err, "warning: machine description failed (%s)\n", out.status);
        xb_cell_outcome_release(&out);
        return json_object_new_object();
    }
    json_object *m = json_object_get(out.record);
    xb_cell_outcome_release(&out);
    return m;
}

static void utc_now(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static json_object *env_json(json_object *warnings)
{
    json_object *e = json_object_new_object();
    for (char **p = environ; p && *p; p++) {
        if (strncmp(*p, "OPENBLAS_", 9) != 0 && strncmp(*p, "OMP_", 4) != 0 &&
            strncmp(*p, "GOMP_", 5) != 0)
            continue;
        const char *eq = strchr(*p, '=');
        if (!eq) continue;
        char key[128];
        snprintf(key, sizeof key, "%.*s", (int)(eq - *p), *p);
        json_object_object_add(e, key, json_object_new_string(eq + 1));
        if (strcmp(key, "OPENBLAS_CORETYPE") == 0) {
            char w[256];
            snprintf(w, sizeof w, "OPENBLAS_CORETYPE=%s forces an older OpenBLAS kernel: GEMM "
                     "speed and every latency are not the machine's best", eq + 1);
            json_object_array_add(warnings, json_object_new_string(w));
        }
    }
    return e;
}

static json_object *meta_json(const xb_suite *s, const xb_sweep_opts *o, const xb_cell_spec *cells,
                              int n, json_object *machine, json_object *warnings)
{
    json_object *m = json_object_new_object();
    char hash[24], now[32];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->hash);
    utc_now(now, sizeof now);
    json_object_object_add(m, "xbench_version", json_object_new_string(XB_VERSION));
    json_object_object_add(m, "git_commit", json_object_new_string(xb_git_commit()));
    json_object_object_add(m, "suite_name", json_object_new_string(s->name ? s->name : ""));
    json_object_object_add(m, "suite_path", json_object_new_string(s->path ? s->path : ""));
    json_object_object_add(m, "suite_hash", json_object_new_string(hash));
    json_object_object_add(m, "suite_canonical", json_object_new_string(s->canonical ? s->canonical : ""));
    json_object_object_add(m, "started", json_object_new_string(now));
    json_object *thr = json_object_new_array();
    if (o->threads > 0) json_object_array_add(thr, json_object_new_int(o->threads));
    else for (int i = 0; i < s->n_threads; i++) json_object_array_add(thr, json_object_new_int(s->threads[i]));
    json_object_object_add(m, "threads", thr);
    json_object_object_add(m, "machine", machine);
    json_object_object_add(m, "blas", json_object_new_string(xb_jstr(machine, "blas", "")));
    json_object_object_add(m, "env", env_json(warnings));
    json_object_object_add(m, "warnings", json_object_get(warnings));
    json_object_object_add(m, "only", o->only ? json_object_new_string(o->only) : NULL);
    if (o->shard_n > 0) {
        char sh[32];
        snprintf(sh, sizeof sh, "%d/%d", o->shard_k, o->shard_n);
        json_object_object_add(m, "shard", json_object_new_string(sh));
    }
    json_object_object_add(m, "cells", json_object_new_int(n));
    /* (task, mixer) pairs a task's `mixers:` leaves out: the report says "not run", not "missing" */
    json_object *nr = json_object_new_object();
    for (int t = 0; t < s->n_tasks; t++) {
        const xb_suite_task *st = &s->tasks[t];
        if (!st->use) continue;
        json_object *lst = json_object_new_array();
        for (int j = 0; j < s->n_mixers; j++)
            if (!st->use[j]) json_object_array_add(lst, json_object_new_string(s->mixers[j]->name));
        if (json_object_array_length(lst) == 0) json_object_put(lst);
        else json_object_object_add(nr, st->task->name, lst);
    }
    json_object_object_add(m, "not_run", nr);
    json_object *idx = json_object_new_array();
    for (int i = 0; i < n; i++) json_object_array_add(idx, json_object_new_string(cells[i].hash));
    json_object_object_add(m, "cell_hashes", idx);
    return m;
}

/* ---- the loop ----------------------------------------------------------------------- */

static volatile sig_atomic_t g_stop;   /* set by SIGINT/SIGTERM; only the handler writes it */

static void on_signal(int sig) { g_stop = sig; }

static void describe(const xb_cell_spec *c, const xb_suite *s, int multi_thr, char *buf, size_t n)
{
    const char *label = c->task ? s->tasks[c->task_i].label : NULL;
    int k = snprintf(buf, n, "%s%s%s L=%d %s", c->task ? c->task->name : "latency", label ? " " : "",
                     label ? label : "", c->L, c->mixer->name);
    if (k > 0 && (size_t)k < n && s->n_seeds > 1 && c->task)
        k += snprintf(buf + k, n - (size_t)k, " seed=%llu", (unsigned long long)c->seed);
    if (k > 0 && (size_t)k < n && multi_thr)
        snprintf(buf + k, n - (size_t)k, " threads=%d", c->threads);
}

typedef struct prog_ctx { xb_progress *p; } prog_ctx;

static void on_child_progress(void *ctx, json_object *msg)
{
    prog_ctx *pc = ctx;
    xb_progress_update(pc->p, xb_jstr(msg, "phase", "?"), xb_jint(msg, "step", 0),
                       xb_jint(msg, "steps", 0), xb_jnum(msg, "loss", NAN));
}

/* The record of one cell: identity and configuration from the parent, measurements from
 * the child, and how the child ended. */
static json_object *make_record(const xb_cell_spec *c, const xb_suite *s, const char *status,
                                const char *error, json_object *child, const xb_cell_outcome *out)
{
    json_object *r = json_object_new_object();
    char sh[24], now[32];
    snprintf(sh, sizeof sh, "%016llx", (unsigned long long)s->hash);
    utc_now(now, sizeof now);
    json_object_object_add(r, "v", json_object_new_int(1));
    json_object_object_add(r, "index", json_object_new_int(c->index));
    json_object_object_add(r, "kind", json_object_new_string(xb_cell_kind_name(c->kind)));
    json_object_object_add(r, "task", c->task ? json_object_new_string(c->task->name) : NULL);
    json_object_object_add(r, "mixer", json_object_new_string(c->mixer->name));
    json_object_object_add(r, "L", json_object_new_int(c->L));
    json_object_object_add(r, "seed", json_object_new_int64((int64_t)c->seed));
    json_object_object_add(r, "threads", json_object_new_int(c->threads));
    json_object_object_add(r, "causal", json_object_new_boolean(c->causal));
    json_object_object_add(r, "status", json_object_new_string(status));
    json_object_object_add(r, "error", error && *error ? json_object_new_string(error) : NULL);
    json_object_object_add(r, "config_hash", json_object_new_string(c->hash));
    json_object_object_add(r, "suite_hash", json_object_new_string(sh));
    json_object_object_add(r, "flops_mixer", c->flops_mixer > 0 ? xb_json_num(c->flops_mixer) : NULL);
    json_object_object_add(r, "flops_model", c->flops_model > 0 ? xb_json_num(c->flops_model) : NULL);
    json_object_object_add(r, "bytes_analytic", c->bytes ? json_object_new_int64((int64_t)c->bytes) : NULL);
    if (child) {
        json_object_object_foreach(child, key, val) {
            if (strcmp(key, "status") == 0 || strcmp(key, "error") == 0) continue;
            json_object_object_add(r, key, json_object_get(val));
        }
    }
    if (out) {
        json_object_object_add(r, "peak_rss_kb", json_object_new_int64(out->peak_rss_kb));
        json_object_object_add(r, "wall_s", json_object_new_double(out->wall_s));
        if (strcmp(status, "ok") != 0 && out->stderr_tail[0])
            json_object_object_add(r, "stderr", json_object_new_string(out->stderr_tail));
    }
    json_object_object_add(r, "finished", json_object_new_string(now));
    json_object_object_add(r, "config", json_object_get(c->config));
    return r;
}

static int check_resume(const char *dir, const xb_suite *s, int resume, FILE *err,
                        json_object **done)
{
    *done = json_object_new_object();   /* config_hash → status */
    json_object *recs = NULL;
    int rc = xb_store_load(dir, &recs, err);
    size_t n = json_object_array_length(recs);
    if (rc == XB_ENOTFOUND || n == 0) {
        json_object_put(recs);
        return 0;
    }
    if (!resume) {
        fprintf(err, "error: '%s' already holds %zu cell records; pass --resume to continue "
                "that run, or -o to write elsewhere\n", dir, n);
        json_object_put(recs);
        return XB_EINVAL;
    }
    char hash[24];
    snprintf(hash, sizeof hash, "%016llx", (unsigned long long)s->hash);
    char *mp = xb_path_join(dir, "meta.json");
    json_object *meta = mp ? xb_read_json(mp) : NULL;
    free(mp);
    const char *old = meta ? xb_jstr(meta, "suite_hash", NULL) : NULL;
    if (!old) old = xb_jstr(json_object_array_get_idx(recs, 0), "suite_hash", NULL);
    if (old && strcmp(old, hash) != 0) {
        fprintf(err, "error: '%s' holds cells of another version of the suite (hash %s, now "
                "%s); results of two suites are never mixed: use -o for a new folder\n",
                dir, old, hash);
        if (meta) json_object_put(meta);
        json_object_put(recs);
        return XB_EINVAL;
    }
    if (meta) json_object_put(meta);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(recs, i);
        const char *h = xb_jstr(r, "config_hash", NULL);
        if (h) json_object_object_add(*done, h, json_object_new_string(xb_jstr(r, "status", "?")));
    }
    json_object_put(recs);
    return 0;
}

/* A warning when more than a tenth of the run's timings were flagged noisy: the load
 * average says whether other work shared the machine. */
static void noisy_warning(const char *dir, FILE *err)
{
    json_object *meta = NULL, *recs = NULL;
    if (xb_report_load(dir, &meta, &recs, NULL, NULL) == 0) {
        int noisy, total;
        xb_summary_noisy(recs, &noisy, &total);
        if (total > 0 && 10 * noisy > total) {
            double la[3] = {NAN, NAN, NAN};
            getloadavg(la, 3);
            fprintf(err, "warning: %d of %d timings (%.0f%%) were flagged noisy (`*` in the tables); "
                    "load average %.2f %.2f %.2f on %ld CPUs at the end: other work shared the "
                    "machine, or the cells are too short to time well. Compare within one run, "
                    "read medians, or run again on a quiet machine.\n", noisy, total,
                    100.0 * noisy / total, la[0], la[1], la[2], sysconf(_SC_NPROCESSORS_ONLN));
        }
    }
    if (meta) json_object_put(meta);
    if (recs) json_object_put(recs);
}

int xb_sweep_run(const xb_suite *s, const xb_sweep_opts *o)
{
    FILE *err = o->err ? o->err : stderr;
    xb_cell_spec *cells = NULL;
    int n = 0;
    int rc = xb_sweep_expand(s, o, &cells, &n, err);
    if (rc) return rc;
    char *dir = xb_sweep_dir(s, o);
    json_object *done = NULL, *warnings = json_object_new_array(), *meta = NULL;
    xb_store st = { .fd = -1 };
    int lock = -1;
    /* A file-size limit (ulimit -f) must not kill the run with SIGXFSZ halfway through a
     * record: ignored, the write fails with EFBIG and the store cuts its partial line off. */
    struct sigaction ign, old_xfsz;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    sigaction(SIGXFSZ, &ign, &old_xfsz);
    if (!dir) { rc = XB_ENOMEM; goto out; }
    if (xb_mkdirs(dir) != 0) {
        fprintf(err, "error: cannot create the results folder '%s': %s\n", dir, strerror(errno));
        rc = XB_EIO;
        goto out;
    }
    /* One writer per folder: a second run (or a --resume beside a live run) would run every
     * cell again and interleave its records with the first one's. cells.jsonl is created
     * (never truncated) before the lock file, so the folder never holds a lock file alone. */
    char *cp = xb_path_join(dir, "cells.jsonl");
    int cfd = cp ? open(cp, O_WRONLY | O_CREAT | O_CLOEXEC, 0666) : -1;
    if (cfd < 0) {
        fprintf(err, "error: cannot create '%s': %s\n", cp ? cp : "cells.jsonl", strerror(errno));
        free(cp);
        rc = XB_EIO;
        goto out;
    }
    close(cfd);
    free(cp);
    long holder = 0;
    lock = xb_store_lock(dir, &holder);
    if (lock < 0) {
        int e = errno;
        int no_locks = lock != XB_EINVAL && (e == ENOLCK || e == EOPNOTSUPP || e == ENOSYS);
        if (lock == XB_EINVAL && holder > 0)
            fprintf(err, "error: '%s' is being written by another xbench run (pid %ld holds "
                    "'%s/.lock'); wait for it to end, or use -o for another folder\n", dir,
                    holder, dir);
        else if (lock == XB_EINVAL)
            fprintf(err, "error: '%s' is being written by another xbench run (another process "
                    "holds '%s/.lock'); wait for it to end, or use -o for another folder\n",
                    dir, dir);
        else if (no_locks)
            fprintf(err, "warning: the filesystem of '%s' has no file locks (%s): a second run "
                    "into this folder would not be refused\n", dir, strerror(e));
        else
            fprintf(err, "error: cannot lock '%s/.lock': %s\n", dir, strerror(e));
        if (!no_locks) {
            rc = lock == XB_EINVAL ? XB_EINVAL : XB_EIO;
            goto out;
        }
    }
    /* --resume appends to what is there: a record cut short at the end goes first (with a
     * warning), so the reading below does not warn about it a second time. */
    if (o->resume && (rc = xb_store_open_ex(&st, dir, err)) != 0) {
        fprintf(err, "error: cannot open '%s/cells.jsonl' for appending: %s\n", dir, strerror(st.err));
        goto out;
    }
    rc = check_resume(dir, s, o->resume, err, &done);
    if (rc) goto out;
    if (o->resume && !o->quiet) {
        int keep = 0, again = 0;
        for (int i = 0; i < n; i++) {
            json_object *prev = NULL;
            if (!json_object_object_get_ex(done, cells[i].hash, &prev)) continue;
            if (xb_status_rerun(json_object_get_string(prev))) again++;
            else keep++;
        }
        fprintf(err, "resuming '%s': %d of %d cells already done, %d to run again "
                "(timeout/oom/crashed)\n", dir, keep, n, again);
    }
    if (st.fd < 0 && (rc = xb_store_open_ex(&st, dir, err)) != 0) {
        fprintf(err, "error: cannot create '%s/cells.jsonl': %s\n", dir, strerror(st.err));
        goto out;
    }

    int multi_thr = o->threads <= 0 && s->n_threads > 1;
    xb_progress prog;
    xb_progress_init(&prog, err, o->quiet, n);
    int max_thr = o->threads > 0 ? o->threads : 1;
    for (int i = 0; o->threads <= 0 && i < s->n_threads; i++)
        if (s->threads[i] > max_thr) max_thr = s->threads[i];
    meta = meta_json(s, o, cells, n, machine_probe(max_thr, o->machine, &prog, err), warnings);
    for (size_t i = 0; i < json_object_array_length(warnings); i++)
        fprintf(err, "warning: %s\n", json_object_get_string(json_object_array_get_idx(warnings, i)));
    char *mp = xb_path_join(dir, "meta.json");
    rc = mp ? xb_write_json_atomic(mp, meta) : XB_ENOMEM;
    if (rc) {
        fprintf(err, "error: cannot write '%s': %s\n", mp ? mp : "meta.json",
                rc == XB_ENOMEM ? strerror(ENOMEM) : strerror(errno));
        free(mp);
        goto out;
    }

    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;        /* no SA_RESTART: poll() returns at once */
    sigemptyset(&sa.sa_mask);
    g_stop = 0;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);

    prog_ctx pc = { &prog };
    int not_ok = 0;
    char stopped[600] = "";     /* why the run stopped early on a write error */
    for (int i = 0; i < n && !g_stop; i++) {
        xb_cell_spec *c = &cells[i];
        char what[160];
        describe(c, s, multi_thr, what, sizeof what);
        json_object *prev = NULL;
        if (json_object_object_get_ex(done, c->hash, &prev) &&
            !xb_status_rerun(json_object_get_string(prev))) {
            const char *ps = json_object_get_string(prev);
            if (strcmp(ps, "ok") != 0) not_ok++;
            snprintf(prog.what, sizeof prog.what, "%s", what);
            xb_progress_end(&prog, ps, "(resumed)", 0, 0);
            continue;
        }
        xb_progress_start(&prog, what);
        json_object *rec;
        char status[48];
        double wall = 0;
        if (c->skip[0]) {
            snprintf(status, sizeof status, "%s", c->skip);
            rec = make_record(c, s, status, c->skip_msg, NULL, NULL);
        } else {
            xb_cell_limits lim = { c->timeout_s, c->mem_limit_mb };
            xb_cell_outcome out;
            if (xb_cell_exec(&lim, xb_measure_cell, c, on_child_progress, &pc, &g_stop, &out) != 0) {
                xb_progress_clear(&prog);
                fprintf(err, "error: cannot start a child process: %s\n", strerror(errno));
                rc = XB_EIO;
                break;
            }
            if (strcmp(out.status, "interrupted") == 0 || g_stop) {
                xb_cell_outcome_release(&out);
                break;
            }
            snprintf(status, sizeof status, "%s", out.status);
            const char *e = xb_jstr(out.record, "error", NULL);
            char msg[300] = "";
            if (!e && strcmp(status, "timeout") == 0)
                snprintf(msg, sizeof msg, "killed after cell_timeout_s = %g s", c->timeout_s);
            else if (!e && strcmp(status, "oom") == 0)
                snprintf(msg, sizeof msg, "out of memory (%s%smem_limit_mb = %ld)", out.detail,
                         out.detail[0] ? "; " : "", c->mem_limit_mb);
            else if (!e && strncmp(status, "crashed", 7) == 0)
                snprintf(msg, sizeof msg, "%s", out.detail[0] ? out.detail
                                                               : "the cell's process ended without a result");
            rec = make_record(c, s, status, e ? e : msg, out.record, &out);
            wall = out.wall_s;
            xb_cell_outcome_release(&out);
        }
        if (xb_store_append(&st, rec) != 0) {
            /* A full disk or a file-size limit: the record that did not fit was cut off again,
             * every earlier one is whole. Stop: the next cells would fail the same way. */
            xb_progress_clear(&prog);
            snprintf(stopped, sizeof stopped, "cannot append to '%s/cells.jsonl': %s", dir,
                     strerror(st.err));
            fprintf(err, "error: %s; stopped the run with cell %d (%s) unrecorded, every "
                    "earlier record is intact: make room, then continue with --resume\n",
                    stopped, c->index + 1, what);
            json_object_put(rec);
            rc = XB_EIO;
            break;
        }
        /* the store may have changed it (a non-finite measurement of an "ok" cell is an error) */
        snprintf(status, sizeof status, "%s", xb_jstr(rec, "status", "?"));
        if (strcmp(status, "ok") != 0) not_ok++;
        xb_progress_end(&prog, status, xb_jstr(rec, "error", NULL), 1, wall);
        json_object_put(rec);
    }
    xb_progress_clear(&prog);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    int interrupted = g_stop != 0;

    /* Finish meta.json, then the derived files, even after an interruption. */
    char now[32];
    utc_now(now, sizeof now);
    /* A run stopped by a write error did not finish either: "interrupted", and why. */
    json_object_object_add(meta, interrupted || stopped[0] ? "interrupted" : "finished",
                           json_object_new_string(now));
    if (stopped[0]) json_object_object_add(meta, "stopped_by", json_object_new_string(stopped));
    if (xb_write_json_atomic(mp, meta) != 0)
        fprintf(err, "warning: cannot update '%s' (it keeps the run's start): %s\n", mp, strerror(errno));
    free(mp);
    xb_store_close(&st);
    if (rc == 0) {
        xb_report_dir(dir, NULL, err);
        if (!o->no_plots && !interrupted) xb_plot_dir(dir, err);
        if (!interrupted && o->out) {
            xb_summary_dir(dir, o->out, err);
            fflush(o->out);
        }
        if (!interrupted) noisy_warning(dir, err);
        if (interrupted) {
            fprintf(err, "interrupted: finished cells are in %s/cells.jsonl; continue with "
                    "--resume\n", dir);
            rc = XB_SWEEP_INTERRUPTED;
        } else {
            rc = not_ok ? XB_SWEEP_NOT_ALL_OK : XB_SWEEP_OK;
            if (!o->quiet)
                fprintf(err, "%d cells, %d not ok; every table in %s/tables.md\n", n, not_ok, dir);
        }
    }
out:
    xb_store_close(&st);            /* (a second close is a no-op) */
    xb_store_unlock(lock);
    sigaction(SIGXFSZ, &old_xfsz, NULL);
    if (done) json_object_put(done);
    if (meta) json_object_put(meta);
    json_object_put(warnings);
    free(dir);
    xb_sweep_cells_free(cells, n);
    return rc;
}
