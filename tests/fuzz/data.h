/* tests/fuzz/data.h — what the real-data targets share: a task configuration for a data
 * folder, one load through the task's own entry point, and a read of every token, label and
 * length the load returned (so AddressSanitizer sees each byte a reader handed on). */
#ifndef XB_TESTS_FUZZ_DATA_H
#define XB_TESTS_FUZZ_DATA_H

#include "tests/fuzz/fuzz.h"

#include "core/task.h"
#include "core/xb.h"
#include "tasks/registry.h"

/* The task's defaults, length L, seed 1234, data_dir, and every *_examples option = want
 * (-1: all rows). */
static inline xb_task_cfg fz_cfg(const xb_task *t, int L, const char *dir, int want)
{
    xb_task_cfg c;
    memset(&c, 0, sizeof c);
    xb_task_cfg_defaults(t, &c);
    c.L = L;
    c.seed = 1234;
    c.data_dir = dir;
    for (int i = 0; i < t->n_opts; i++)
        if (strstr(t->opts[i].name, "_examples")) c.opt[i] = want;
    return c;
}

static inline void fz_set(const xb_task *t, xb_task_cfg *c, const char *name, double v)
{
    for (int i = 0; i < t->n_opts; i++)
        if (!strcmp(t->opts[i].name, name)) c->opt[i] = v;
}

/* Load the three splits, check what a successful load promises (tokens in [0, vocab),
 * labels in [0, classes), lengths in [0, L] (two per row for PAIR)), release. A broken
 * promise aborts: the trainer would index out of its tables. */
static inline void fz_load(const char *task, const xb_task_cfg *c)
{
    const xb_task *t = xb_task_find(task);
    if (!t) abort();
    xb_data d[3];
    char err[1024] = "";
    if (t->load(c, &d[0], &d[1], &d[2], err, sizeof err) == XB_OK) {
        for (int k = 0; k < 3; k++) {
            int nt = d[k].shape == XB_SHAPE_PAIR ? 2 * d[k].L : d[k].L;
            int nl = d[k].shape == XB_SHAPE_PAIR ? 2 : 1;
            int ny = d[k].shape == XB_SHAPE_TOK ? d[k].L : 1;
            for (size_t i = 0; i < (size_t)d[k].n * (size_t)nt; i++)
                if (d[k].x[i] < 0 || d[k].x[i] >= d[k].vocab) {
                    fprintf(stderr, "xb-fuzz: %s: token %d outside [0, %d)\n", task, d[k].x[i], d[k].vocab);
                    abort();
                }
            for (size_t i = 0; i < (size_t)d[k].n * (size_t)ny; i++)
                if (d[k].y[i] != XB_IGNORE && (d[k].y[i] < 0 || d[k].y[i] >= d[k].n_classes)) {
                    fprintf(stderr, "xb-fuzz: %s: label %d outside [0, %d)\n", task, d[k].y[i], d[k].n_classes);
                    abort();
                }
            for (size_t i = 0; i < (size_t)d[k].n * (size_t)nl; i++)
                if (d[k].len[i] < 0 || d[k].len[i] > d[k].L) {
                    fprintf(stderr, "xb-fuzz: %s: length %d outside [0, %d]\n", task, d[k].len[i], d[k].L);
                    abort();
                }
        }
        for (int k = 0; k < 3; k++) xb_data_release(&d[k]);
    } else {
        /* a failed load says why and leaves nothing behind */
        if (!err[0]) {
            fprintf(stderr, "xb-fuzz: %s: a failed load without a message\n", task);
            abort();
        }
        for (int k = 0; k < 3; k++)
            if (d[k].x || d[k].y) {
                fprintf(stderr, "xb-fuzz: %s: a failed load left data\n", task);
                abort();
            }
    }
}

#endif
