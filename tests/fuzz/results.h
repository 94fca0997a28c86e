/* tests/fuzz/results.h — what the cells and meta targets do with a results folder whose
 * cells.jsonl or meta.json came from the fuzzer: every reader of a results folder, as the
 * commands run them (messages formatted into /dev/null, gnuplot never started). */
#ifndef XB_TESTS_FUZZ_RESULTS_H
#define XB_TESTS_FUZZ_RESULTS_H

#include "tests/fuzz/fuzz.h"

#include "core/xb.h"
#include "harness/merge.h"
#include "harness/report/benchjson.h"
#include "harness/report/compare.h"
#include "harness/report/report.h"
#include "harness/report/results.h"
#include "harness/report/store.h"
#include "harness/report/summary.h"

/* The results folder fz_dir()/res: its derived files from the last input go first, so every
 * input meets the same folder. */
static inline const char *fz_results_dir(void)
{
    static const char *const derived[] = { "res/tables.md", "res/results.csv", "res/results.json",
                                           "res/bench-latency.json", "res/bench-accuracy.json",
                                           "res/gbench.json" };
    for (size_t i = 0; i < sizeof derived / sizeof *derived; i++) unlink(fz_path(derived[i]));
    fz_rm_tree(fz_path("merged"));
    return fz_path("res");
}

static inline void fz_results_readers(const char *dir)
{
    FILE *null = fz_null();
    /* `xbench report` and what `run` prints at the end */
    xb_results res;
    int bad = 0;
    if (xb_results_load(&res, dir, null, &bad, 0) == 0) {
        for (int i = 0; i < res.ngroup; i++) {
            double *v = NULL;
            xb_group_raw(&res.group[i], "model_fwd", &v);
            free(v);
            v = NULL;
            xb_group_acc(&res.group[i], &v);
            free(v);
            xb_group_noisy(&res.group[i], "mixer_fwd");
        }
        int noisy, total;
        xb_summary_noisy(res.records, &noisy, &total);
        xb_results_release(&res);
    }
    xb_report_dir(dir, null, null);
    xb_summary_dir(dir, null, null);
    /* `xbench compare DIR DIR`, latency always compared */
    xb_compare_opts co = { .max_slowdown = 0.1, .max_acc_drop = 0.02, .alpha = 0.05,
                           .metric = "model_fwd", .latency = XB_LATENCY_ALWAYS, .repeat = dir };
    xb_compare_dirs(dir, dir, &co, null, null);
    /* `xbench merge DIR -o merged` (no plots) */
    const char *dirs[1] = { dir };
    xb_merge_opts mo = { .no_plots = 1, .quiet = 1, .out = null, .err = null };
    xb_merge(dirs, 1, fz_path("merged"), &mo);
    /* `run --resume` opens cells.jsonl for appending and repairs a torn last line */
    xb_store st;
    xb_store_open_ex(&st, dir, null);
    xb_store_close(&st);
}

#endif
