/* harness/shard.h — splitting a suite's cells over N independent processes (`xbench run
 * --shard K/N`, one Slurm array task each; harness/slurm.h) so that the shards take about the
 * same time, and every shard process works out the same split on its own, with no
 * coordination.
 *
 * The split: each cell gets an estimated cost (xb_cell_cost), then the cells are dealt
 * longest first (ties: lower position first) to the shard with the least cost so far (ties:
 * fewer cells, then the lower shard number) — Graham's longest-processing-time rule, whose
 * largest shard is at most 4/3 of the best possible and at most the mean plus one cell. The
 * result depends only on the costs, which depend only on the resolved cells, so N processes
 * of one binary given the same suite and options compute the same split. Inside a shard the
 * cells keep the suite's order.
 *
 * The cost is an estimate in FLOP-equivalents, for balancing only (nothing is reported from
 * it):
 *   training   3 × steps × batch × flops_model          (forward + backward, the nominal
 *                                                        "3 × forward" of harness/measure.h)
 *            + (evaluations × val_examples + test_examples) × flops_model
 *              (evaluations = steps / eval_every + 1; eval_every 0 means steps / 10)
 *   latency    (every cell, training cells too) for each timed call — mixer forward,
 *              mixer forward+backward, model forward, forward+backward, training step, and
 *              the paired mixer forward when the cell has one — (warmup + reps) × its FLOPs
 *              × latency.batch, where reps is min_reps raised until min_time_s is reached at
 *              a nominal XB_SHARD_NOMINAL_FLOPS and capped at max_reps
 *   divided by the cell's thread count (ideal speed-up), plus a fixed XB_SHARD_OVERHEAD_S ×
 *   XB_SHARD_NOMINAL_FLOPS per cell (fork, data, FMA probes). Cells skipped before forking
 *   (no such mode, too large) cost only the overhead. Real times differ from this by mixer
 *   (a FLOP of a scan is slower than a FLOP of a GEMM); the balance is as good as the
 *   estimate. */
#ifndef XB_SHARD_H
#define XB_SHARD_H

#include "harness/measure.h"

#define XB_SHARD_NOMINAL_FLOPS 1e10   /* FLOP/s that turns time floors into FLOPs */
#define XB_SHARD_OVERHEAD_S 0.1       /* per cell: fork, data generation, FMA probes */

/* The estimated cost of one resolved cell (see above); > 0. */
double xb_cell_cost(const xb_cell_spec *c);

/* Deal n items of the given costs to N shards, longest first (see above): shard_out[i] in
 * 0 .. N−1. Costs that are negative or not finite count as 0. Pure and deterministic.
 * Returns 0, XB_EINVAL (n < 0, N < 1, NULL arrays with n > 0) or XB_ENOMEM. */
int xb_shard_of(const double *cost, int n, int N, int *shard_out);

/* Keep, in place and in order, the cells of shard k (1 .. N) of cells[0 .. *n): the others'
 * configs are released and *n becomes the shard's count. N ≤ 1 keeps every cell. The cells
 * must be the whole list the shards split (after --only, before any shard filtering).
 * Returns 0, XB_EINVAL or XB_ENOMEM (then nothing changed). */
int xb_shard_select(xb_cell_spec *cells, int *n, int k, int N);

#endif
