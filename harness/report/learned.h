/* harness/report/learned.h — the "not learned" detector: did a training cell stop on a loss
 * plateau (its test accuracy is an optimisation stall, not the mixer's answer), or did it
 * learn?
 *
 * The rule. A cell is NOT LEARNED when all three hold:
 *   1. FLAT   no meaningful decrease over the second half of training. Least squares of the
 *             loss on x = step / last step over the points with x ≥ 1/2 gives the decline
 *             D = −slope · 1/2 (> 0 = falling) and its standard error se; flat when
 *                 (D + 2 se) / L_end < XB_PLATEAU_FLAT
 *             i.e. a fall of a quarter of the end loss over the last half is ruled out (the
 *             2 se keeps a short, noisy curve from being called flat on too little evidence).
 *   2. HIGH   not converged: L_end / L_0 ≥ XB_PLATEAU_LEVEL, with L_0 the mean of the first
 *             1/32 of the points (at least 1) and L_end the mean of the last 1/16 (at least 2).
 *   3. NEAR   (records only) the test accuracy is within a tenth of the way from the task's
 *             plateau accuracy p to 1:  acc < p + XB_PLATEAU_NEAR · (1 − p),  where p is the
 *             record's "chance" (the test majority-class rate), and for mqar max(chance, 1/K)
 *             with K = config.task.options.kv_pairs — the accuracy of answering with one of
 *             the K values present in the context without knowing which (the "1/K plateau").
 * 1 and 2 need only the curve (xb_loss_plateaued); 3 needs the record (xb_cell_not_learned).
 * The early drop (the loss leaving its initial value, e.g. MQAR's fall to ln(V/2) and then to
 * the 1/K level) is allowed anywhere in the first half; a drop that ends after mid-training
 * makes the second half not flat, so the cell counts as learning (conservative: a cell is
 * marked only when the whole second half made no progress).
 *
 * Calibration (real curves: the default suite's mqar entry — dim 64, 1 head, no MLP,
 * short_conv 3, lr 3e-3 — and its majority/listops entries, --threads 2; the runs are listed in
 * tests/test_learned.c). (D + 2 se) / L_end of the cells that sat on the MQAR plateau: gla at
 * 1000 steps 0.09 to 0.11 (L 32 and 64, seeds 1234 and 1; acc 0.259 to 0.264), mamba at 1000
 * steps 0.12 to 0.14 (acc 0.254 to 0.261) and at 2000 steps 0.11 (acc 0.262, 0.265), pool 0.03
 * to 0.06 (acc 0.07 to 0.12). Cells that learned: majority 0.41 to 1.1 (acc 0.88 to 0.95),
 * linear on MQAR 2.0 to 2.6 (still falling, acc 0.75 to 0.83), gla on MQAR at 2000 steps 11
 * and 18 (on the plateau until ~900 steps, then down to 0.08, acc 0.97 and 0.98), softmax and
 * deltanet on MQAR 2.8 to 74 (converged). FLAT 0.25 sits between 0.14 and 0.41. L_end / L_0
 * is 0.34 to 0.81 on the plateau and ≤ 0.02 for converged cells; LEVEL 0.10 sits between.
 * ListOps is the hard case: its loss falls from ln 10 = 2.30 to ~1.8 in the first half and
 * then declines as slowly as mamba drifts on its plateau ((D + 2 se) / L_end 0.05 to 0.12 at
 * 300 steps, 0.07 to 0.10 at 1000 steps, where it reaches ~1.63), so the curve alone cannot
 * tell a ListOps model that learns slowly from one that is stuck; the accuracy can: ListOps
 * reaches 0.24 to 0.31 at 300 steps against chance 0.143 (NEAR's bound 0.229; pool's 0.241 is
 * the closest) and 0.34 to 0.37 at 1000 steps against 0.154 (bound 0.238), while the MQAR
 * plateau cells sit at 0.254 to 0.265 against 1/K = 0.25 (bound 0.325). Tasks other than mqar
 * get no structural plateau here (p = chance): a task that stalls above chance is not caught.
 *
 * Pure functions; no I/O. */
#ifndef XB_LEARNED_H
#define XB_LEARNED_H

#include <json-c/json.h>

#define XB_PLATEAU_MIN_POINTS 16   /* fewer finite points: cannot tell */
#define XB_PLATEAU_MIN_HALF 8      /* points in the second half needed for the fit */
#define XB_PLATEAU_FLAT 0.25       /* rule 1: (D + 2 se) / L_end below this is flat */
#define XB_PLATEAU_LEVEL 0.10      /* rule 2: L_end / L_0 at least this is not converged */
#define XB_PLATEAU_NEAR 0.10       /* rule 3: acc below p + NEAR (1 − p) is at the plateau */

/* What the rule measured (NAN where it could not). */
typedef struct xb_plateau {
    int n;              /* finite points with increasing steps that were used */
    double l0, lend;    /* L_0 and L_end */
    double decline;     /* D: fall of the fitted loss over the second half (loss units) */
    double decline_se;  /* its standard error */
    double flat_ratio;  /* (D + 2 se) / L_end, rule 1's statistic */
    double level_ratio; /* L_end / L_0, rule 2's statistic */
    double acc;         /* the record's test_acc (xb_cell_not_learned only) */
    double plateau_acc; /* p of rule 3 (xb_cell_not_learned only) */
} xb_plateau;

/* Rules 1 and 2 over a loss curve: step[i] (increasing; points out of order or non-finite are
 * skipped) and loss[i], n points. Returns 1 plateaued (flat and high), 0 not, −1 cannot tell
 * (fewer than XB_PLATEAU_MIN_POINTS usable points or XB_PLATEAU_MIN_HALF in the second half).
 * out (may be NULL) receives the statistics. */
int xb_loss_plateaued(const double *step, const double *loss, int n, xb_plateau *out);

/* Rule 3's p for a cells.jsonl record: chance, or for mqar max(chance, 1/kv_pairs) (NAN when
 * the record has neither). */
double xb_plateau_accuracy(json_object *rec);

/* The whole rule for one cells.jsonl record (harness/sweep.h describes the format: kind,
 * status, task, chance, test_acc, loss_curve [[step, mean loss], ...], config). Returns 1 not
 * learned, 0 learned, −1 cannot tell (not a train record, status not ok, no usable curve, no
 * test_acc or chance). out (may be NULL) receives the statistics. */
int xb_cell_not_learned(json_object *rec, xb_plateau *out);

#endif
