/* tasks/pathx.c — Path-X (LRA; TASKS.md §1.6, §3.4): Pathfinder at 128×128 → 16,384 pixel
 * tokens, shape CLS, 2 classes, V = 256. The generator is tasks/pathfinder.c's with LRA's
 * 128×128 parameters (paddle 5 px, thickness 1.5, margin 2 or 3 per image, seed distance 20,
 * marker radius 3, continuity 1.8, 35 / distractor_length distractors, contrast 0.9);
 * data_dir: LRA's pathfinder128/<difficulty>/ files. Mainly for cost measurement at
 * L = 16,384; training works the same way as for pathfinder. */
#include <stdio.h>
#include <string.h>

#include "core/task.h"
#include "core/xb.h"
#include "tasks/pathfinder.h"

#define SIDE 128

enum { O_CONTOUR, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_CONTOUR] = { "contour", 14, 6, 14, 1, "dashes per target contour: 6, 9 or 14 (LRA's Path-X)" },
    [O_TRAIN]   = { "train_examples", 1000, -1, 1e7, 1, "training images (-1 with data_dir: all of the 80%)" },
    [O_VAL]     = { "val_examples", 100, -1, 1e6, 1, "validation images (-1 with data_dir: all of the 10%)" },
    [O_TEST]    = { "test_examples", 200, -1, 1e6, 1, "test images (-1 with data_dir: all of the 10%)" },
};

static int px_vocab(const xb_task_cfg *c) { (void)c; return 256; }
static int px_classes(const xb_task_cfg *c) { (void)c; return 2; }

static int px_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int k = (int)c->opt[O_CONTOUR];
    if (k != 6 && k != 9 && k != 14) {
        snprintf(err, errn, "pathx: option 'contour' = %d must be 6, 9 or 14", k);
        return XB_EINVAL;
    }
    if (c->L != SIDE * SIDE) {
        snprintf(err, errn, "pathx: sequence length L = %d must be %d (128x128 pixels)", c->L, SIDE * SIDE);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void px_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "pathx:src=%s,L=%d,contour=%d", c->data_dir ? "lra" : "lite", c->L, (int)c->opt[O_CONTOUR]);
}

extern const xb_task xb_task_pathx;

static int px_length(const xb_task_cfg *c)
{
    (void)c;
    return SIDE * SIDE;
}

static int px_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn)
{
    return xb_pf_load(&xb_task_pathx, c, SIDE, (int)c->opt[O_CONTOUR], (int)c->opt[O_TRAIN],
                      (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_pathx = {
    .name = "pathx",
    .desc = "Path-X: Pathfinder at 128x128 (16,384 pixel tokens), generator or LRA files",
    .cite = "Tay et al. 2021, Long Range Arena (Path-X); Linsley et al. 2018 (drewlinsley/pathfinder)",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = px_vocab,
    .n_classes = px_classes,
    .length = px_length,
    .check = px_check,
    .key = px_key,
    .load = px_load,
};
