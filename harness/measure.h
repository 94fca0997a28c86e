/* harness/measure.h — what one cell measures, run inside the cell's child process
 * (DESIGN.md "Measurement"): accuracy (train + test), FLOPs (the mixer's formula and the
 * model's), latency (mixer layer alone and whole model, forward and forward+backward, and
 * one whole training step, with warm-up and repetitions until both min_reps and min_time_s
 * are reached, capped at max_reps) and analytic memory. The result is a JSON record sent
 * back through the cell's pipe; the parent adds status, peak RSS and wall time
 * (harness/sweep.c).
 *
 * Latency record of one measurement ("mixer_fwd", "mixer_fwdbwd", "model_fwd",
 * "model_fwdbwd", "model_train"): median, p10, p90, min, max, mean, stddev, cv (seconds),
 * reps, outliers (modified z-score, harness/report/stats.h), noisy (cv > max_cv or median < clock
 * floor), flops (per timed call; forward+backward and the training step are counted as 3 ×
 * forward, a nominal figure: AdamW's ~10 FLOPs per parameter are not counted), gflops
 * (flops / median / 1e9) and raw (every repetition time, seconds, in order).
 * model_train is one step as core/train.c takes it — forward with targets, backward,
 * gradient norm, clip, AdamW with the cell's train: lr (constant), betas, weight_decay and
 * clip (latency cells: the suite's top-level train:) — on the same random batch every
 * repetition, timed after model_fwd/model_fwdbwd since it changes the parameters; it also
 * holds nonfinite: true when a loss or gradient norm was NaN/inf (the steps were still
 * taken, so the time is of the same work, but no training run would have gone on).
 * Beside the measurements, latency.fma_probe_gflops = [before, after]: the FMA rate of the
 * cell's thread count just before and just after its timings (harness/machine.h), the
 * ceiling the cell actually ran under. Latency cells above the suite's smallest thread count
 * T0 also hold mixer_fwd_paired: mixer forwards at T0 and at the cell's count alternated,
 * base_threads (T0), pairs, base_median and median (seconds), speedup (median of the per-pair
 * ratios t(T0)/t(T)) with its p10 and p90, noisy, raw_base and raw.
 *
 * Decode cells (MIXERS.md §29.2) time one causal mixer layer producing one more token of one
 * sequence after a context of L tokens (the KV cache or recurrent state built by the mixer's
 * decode_prefill, else by stepping through the context): decode.context (L), state_bytes,
 * tokens_per_rep k (each timed run decodes tokens L .. L+k-1 from the same starting point, k
 * ≤ max(1, L/16) chosen so a run lasts twice the clock floor: per-token time is the run time
 * / k, at a mean context within 3% of L), prefill_s, and step: the timing record above with
 * every time divided by k. */
#ifndef XB_MEASURE_H
#define XB_MEASURE_H

#include <stdint.h>

#include <json-c/json.h>

#include "core/mixer.h"
#include "core/model.h"
#include "core/task.h"
#include "core/train.h"
#include "harness/cell.h"
#include "harness/suite.h"

enum { XB_CELL_TRAIN = 0, XB_CELL_LATENCY = 1, XB_CELL_DECODE = 2 };
/* Tokens a decode cell at context L holds at most: L and the k ≤ max(1, L/16) it decodes
 * (its mixer's n_max: weights sized by n_max, e.g. synthesizer's, cover every position). */
static inline int xb_decode_n_max(int L) { return L + (L / 16 > 1 ? L / 16 : 1); }
/* The record's "kind" of a cell kind: "train", "latency" or "decode". */
const char *xb_cell_kind_name(int kind);

/* One cell, fully resolved in the parent before the fork. */
typedef struct xb_cell_spec {
    int index;                 /* position in the suite's full cell list (before --only/--shard) */
    int kind;                  /* XB_CELL_TRAIN, XB_CELL_LATENCY (random tokens, no training) or
                                  XB_CELL_DECODE (one mixer layer's per-token decode at context L) */
    const xb_task *task;       /* NULL for latency cells */
    const xb_mixer *mixer;
    int task_i, mixer_i;       /* indices in the suite (task_i = -1 for latency cells) */
    int L;                     /* sequence length (PAIR: per tower) */
    uint64_t seed;             /* user seed S */
    int threads;
    int base_threads;          /* latency cells above the suite's smallest thread count: that
                                  count, for the paired timing (mixer_fwd_paired); else 0 */
    int causal;
    xb_task_cfg tc;            /* task options, L and seed set */
    xb_model_cfg mc;           /* shape, vocab, classes, max_len set */
    xb_mixer_cfg xc;           /* resolved (defaults filled, d/heads/causal/n_max set) */
    xb_train_cfg train;        /* seed set to the batch-order stream */
    uint64_t init_seed;        /* model init stream (S, T, "init", mixer) */
    xb_latency_cfg lat;        /* n_lengths/lengths not used here */
    double timeout_s;
    long mem_limit_mb;
    size_t bytes;              /* analytic: max of training and latency models */
    double flops_mixer;        /* forward FLOPs of one sequence through one mixer layer */
    double flops_model;        /* forward FLOPs of one sequence through the model */
    char skip[48];             /* non-empty: decided before forking (skipped:...) */
    char skip_msg[256];
    char hash[17];             /* configuration hash, hex */
    json_object *config;       /* the resolved configuration the hash is taken of */
} xb_cell_spec;

/* Child body: fault hook, threads, data, model, training, evaluation, latency; sends the
 * record through ch. ctx is an xb_cell_spec. */
int xb_measure_cell(xb_cell_chan *ch, void *ctx);

/* Timing primitive: warm-up runs, then timed runs of fn(ctx) until reps ≥ min_reps and the
 * timed total ≥ min_time_s, or reps = max_reps, or the clock passes stop_at (0 = never).
 * Returns the number of repetitions written to times (malloc'd, caller frees). */
typedef void (*xb_timed_fn)(void *ctx);
int xb_time_reps(const xb_latency_cfg *lc, xb_timed_fn fn, void *ctx, double stop_at,
                 double **times);
/* Shortest duration this clock times reliably: 1000 × max(resolution, cost of a read). */
double xb_clock_floor(void);
/* The latency record of one measurement (see above). */
json_object *xb_timing_json(const double *t, int n, double flops, double max_cv, double floor);

/* JSON number, or null when not finite (JSON has no NaN). */
json_object *xb_json_num(double v);

#endif
