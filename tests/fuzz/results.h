/* tests/fuzz/results.h — what the cells and meta targets do with a results folder whose
 * cells.jsonl or meta.json came from the fuzzer: every reader of a results folder, as the
 * commands run them (messages formatted into /dev/null, gnuplot never started). */
#ifndef XB_TESTS_FUZZ_RESULTS_H
#define XB_TESTS_FUZZ_RESULTS_H

#include "tests/fuzz/fuzz.h"

#include "core/xb.h"
#include "harness/report/benchjson.h"
#include "harness/report/compare.h"
#include "harness/merge.h"
#include "harness/report/report.h"
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
    json_object *meta = NULL, *recs = NULL;
    int bad = 0;
    if (xb_report_load(dir, &meta, &recs, null, &bad) == 0) {
        xb_cgroup *g = NULL;
        int ng = xb_cgroups(recs, &g);
        for (int i = 0; i < ng; i++) {
            double *v = NULL;
            xb_cgroup_raw(&g[i], "model_fwd", &v);
            free(v);
            v = NULL;
            xb_cgroup_acc(&g[i], &v);
            free(v);
            xb_cgroup_noisy(&g[i], "mixer_fwd");
        }
        if (ng >= 0) xb_cgroups_free(g, ng);
        int noisy, total;
        xb_summary_noisy(recs, &noisy, &total);
    }
    if (meta) json_object_put(meta);
    if (recs) json_object_put(recs);
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
