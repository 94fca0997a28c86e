/* tasks/pathfinder.h — the "pathfinder-lite" image generator shared by the pathfinder
 * (32×32, also 16×16 and 64×64) and pathx (128×128) tasks (TASKS.md §1.5–1.6). */
#ifndef XB_TASKS_PATHFINDER_H
#define XB_TASKS_PATHFINDER_H

#include <stddef.h>
#include <stdint.h>

#include "core/rng.h"
#include "core/task.h"

typedef struct xb_pf_params {
    int side;               /* image side in pixels */
    int padding;            /* border band marked occupied */
    int paddle_len;         /* dash length, px */
    double thickness;       /* dash width, px */
    int margin_lo, margin_hi;   /* clearance around dashes, drawn per image in [lo, hi] */
    int contour;            /* dashes per target contour */
    int dlen, n_distr;      /* dashes per distractor, number of distractors */
    double continuity;      /* curvature control: weight cos²(min(continuity·Δθ, π/2)) */
    int seed_dist;          /* distance between the two target contours' origin tips */
    double marker_r;        /* radius of the two dots */
    double contrast;        /* dash intensity before clipping */
    int aa;                 /* supersampling factor per axis */
} xb_pf_params;

/* LRA's parameters for a side of 32 or 64 or 128 (16: xbench's own smoke setting) and a
 * contour length (6, 9 or 14). 0, or XB_EINVAL for another side. */
int xb_pf_params_for(int side, int contour, xb_pf_params *p);

/* Draw one image with the given label (1: both dots on one contour) into x[side²] (pixel
 * tokens 0..255, row-major); dots (may be NULL) gets the two dot centres (row, col, row,
 * col). Returns 0, or XB_EINVAL if no image could be placed after many restarts. */
int xb_pf_draw(const xb_pf_params *p, xb_rng *r, int label, int32_t *x, double dots[4]);

/* The two tasks' shared load: generator (label = example index mod 2, exactly balanced)
 * or, with data_dir, LRA's pathfinder<side>/<difficulty>/ metadata + PNG files. */
int xb_pf_load(const xb_task *t, const xb_task_cfg *c, int side, int contour, int n_train,
               int n_val, int n_test, xb_data *train, xb_data *val, xb_data *test,
               char *err, size_t errn);

#endif
