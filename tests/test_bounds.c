/* tests/test_bounds.c — whatever `validate` accepts, `run` survives (issue 15, items 1 and 4):
 *   refused     every mixer option has an upper bound, and the values that used to abort,
 *               hang or overflow (mamba expand 2^31-1, local_block block 2e9, lmu order 1e5,
 *               deltanet conv 1e6, lengths 2^31-1, ...) are refused naming file, line and key
 *   saturate    size estimates saturate at SIZE_MAX instead of wrapping round (core/xb.h,
 *               xb_model_bytes); batches of more rows than an int counts are SIZE_MAX
 *   too-large   a cell whose estimate overflows, passes mem_limit_mb, or without a limit passes
 *               the machine's memory and swap is skipped:too-large in the parent, never forked
 *   corners     every registered mixer's size functions stay far inside size_t at the corners
 *               of the option bounds (below the model's 1 TiB activation cap)
 *   names       records of cells.jsonl whose mixer or task is not a name are skipped with a
 *               warning naming file, line and key */
#include <criterion/criterion.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"
#include "core/xb.h"
#include "harness/report/store.h"
#include "harness/suite.h"
#include "harness/suite_keys.h"
#include "harness/sweep.h"
#include "mixers/registry.h"
#include "tasks/registry.h"
#include "tests/tmpdir.h"
#include "tests/xbrun.h"

/* ------------------------------------------------------------------------------------------
 * helpers */

/* Load text; the code and the messages (malloc'd). */
static int load(const char *text, xb_suite *s, char **errs)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = xb_suite_load_string(text, "b.yaml", s, f);
    fclose(f);
    *errs = buf;
    return rc;
}

/* Every expected piece is in the messages of a refused suite. */
static void expect_refused(const char *text, const char *const *want)
{
    xb_suite s;
    char *errs;
    int rc = load(text, &s, &errs);
    if (rc == 0) xb_suite_release(&s);
    cr_expect_eq(rc, XB_EINVAL, "accepted:\n%s", text);
    for (int i = 0; want[i]; i++)
        cr_expect(strstr(errs, want[i]) != NULL, "no '%s' in:\n%s", want[i], errs);
    free(errs);
}

static double wall_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The cells of a suite that must load. */
static void expand(const char *text, xb_suite *s, xb_cell_spec **cells, int *n)
{
    char *errs;
    cr_assert_eq(load(text, s, &errs), 0, "suite refused:\n%s\n%s", text, errs);
    free(errs);
    xb_sweep_opts o = {0};
    cr_assert_eq(xb_sweep_expand(s, &o, cells, n, stderr), 0);
}

/* Run a suite into a fresh folder with nothing but the run (no plots, no machine probe); its
 * records, the exit code and the seconds it took. */
static json_object *run_suite(const xb_suite *s, char *dir, size_t dirn, int *code, double *secs)
{
    tmpdir_make(dir, dirn, "xb-bounds");
    FILE *null = fopen("/dev/null", "w");
    xb_sweep_opts o = { .out_dir = dir, .quiet = 1, .no_plots = 1, .err = null };
    double t0 = wall_s();
    *code = xb_sweep_run(s, &o);
    *secs = wall_s() - t0;
    fclose(null);
    json_object *recs = NULL;
    xb_store_load(dir, &recs, stderr);
    return recs;
}

static void rm_dir(const char *dir)
{
    if (getenv("XB_KEEP_TEST_OUTPUT")) return;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
}

/* ------------------------------------------------------------------------------------------
 * refused: the tables bound every key */

static const xb_task *const no_tasks[] = {NULL};

/* Every option of every mixer, on its own key: its upper bound is accepted and the next value
 * is refused there, with the range. (Each mixer without its check(), which may narrow one
 * option by another: only the table's bounds are tried here.) */
Test(bounds, every_mixer_option_has_an_upper_bound)
{
    int tried = 0;
    for (int mi = 0; xb_mixers[mi]; mi++) {
        xb_mixer bare = *xb_mixers[mi];
        bare.check = NULL;
        const xb_mixer *one[] = {&bare, NULL};
        for (int k = 0; k < bare.n_opts; k++) {
            const xb_mixer_opt *o = &bare.opts[k];
            double lo, hi;
            xb_mixer_opt_range(o, &lo, &hi);
            cr_assert(hi < 1e12 && hi >= lo, "%s.%s has no sane upper bound", bare.name, o->name);
            char text[512], path[128];
            /* the bound itself is accepted ... */
            snprintf(text, sizeof text, "latency: {lengths: [64]}\nmixers: [%s]\n"
                     "mixer_options: {%s: {%s: %.17g}}\n", bare.name, bare.name, o->name, hi);
            xb_suite s;
            char *buf = NULL;
            size_t len = 0;
            FILE *f = open_memstream(&buf, &len);
            int rc = xb_suite_load_with(text, "b.yaml", &s, f, one, no_tasks);
            fclose(f);
            cr_expect_eq(rc, 0, "the bound of %s.%s is refused:\n%s", bare.name, o->name, buf);
            if (rc == 0) xb_suite_release(&s);
            free(buf);
            /* ... the next value is refused at its key, with the range */
            double over = o->type == XB_OPT_FLOAT ? hi * 2 : hi + 1;
            snprintf(text, sizeof text, "latency: {lengths: [64]}\nmixers: [%s]\n"
                     "mixer_options: {%s: {%s: %.17g}}\n", bare.name, bare.name, o->name, over);
            buf = NULL;
            f = open_memstream(&buf, &len);
            rc = xb_suite_load_with(text, "b.yaml", &s, f, one, no_tasks);
            fclose(f);
            if (rc == 0) xb_suite_release(&s);
            cr_expect_eq(rc, XB_EINVAL, "'%s.%s: %.17g' is accepted", bare.name, o->name, over);
            snprintf(path, sizeof path, ": mixer_options.%s.%s: expected ", bare.name, o->name);
            cr_expect(!strncmp(buf, "b.yaml:3:", 9) && strstr(buf, path) != NULL, "no 'b.yaml:3:...%s' in:\n%s", path, buf);
            char most[64];   /* the bound, or a choice's last name and number */
            if (o->type == XB_OPT_ENUM) snprintf(most, sizeof most, "%s (%.0f), got", o->names[(int)hi - 1], hi);
            else snprintf(most, sizeof most, "%.17g, got", hi);
            cr_expect(strstr(buf, most) != NULL, "the message does not give the bound %s:\n%s", most, buf);
            free(buf);
            tried++;
        }
    }
    cr_assert_gt(tried, 0, "no mixer has an option");
}

/* The values of the issue, each of which used to abort the parent, loop, or overflow the
 * estimate, are refused by validate naming the key. */
Test(bounds, hostile_values_are_refused_naming_the_key)
{
    static const struct { const char *mixer, *option, *value, *mode; } cases[] = {
        {"mamba", "expand", "2147483647", "causal"},       /* aborted the parent (xb_proj) */
        {"mamba", "dt_rank", "2147483647", "causal"},
        {"local_block", "block", "2000000000", "causal"},  /* block_flops looped forever */
        {"local", "window", "2147483647", "causal"},
        {"pool", "window", "2147483647", "causal"},
        {"lmu", "order", "100000", "causal"},              /* q^2 overflowed int */
        {"deltanet", "conv", "1000000", "causal"},         /* slab past int: heap overflow */
        {"deltanet", "chunk", "2147483647", "causal"},
        {"performer", "features", "1000000", "causal"},
        {"linformer", "rank", "2147483647", "bidirectional"},
        {"gla", "expand_k", "1.0e18", "causal"},           /* d * expand_k overflowed int */
        {"activator", "d_ff", "2147483647", "causal"},
        {"linear", "chunk", "2147483647", "causal"},
    };
    int tried = 0;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        if (!xb_mixer_find(cases[i].mixer)) continue;
        char text[256], path[128];
        snprintf(text, sizeof text, "latency: {lengths: [64], mode: %s}\nmixers: [%s]\n"
                 "mixer_options: {%s: {%s: %s}}\n", cases[i].mode, cases[i].mixer, cases[i].mixer,
                 cases[i].option, cases[i].value);
        snprintf(path, sizeof path, ": mixer_options.%s.%s: expected ", cases[i].mixer, cases[i].option);
        const char *want[] = {"b.yaml:3:", path, NULL};
        expect_refused(text, want);
        tried++;
    }
    cr_assert_gt(tried, 0, "none of the mixers is registered");
    /* lengths: a latency length or a task length of 2^31-1 */
    const char *lat[] = {"b.yaml:1:21: latency.lengths[0]: expected an integer between 1 and 16777216, got '2147483647'", NULL};
    expect_refused("latency: {lengths: [2147483647]}\nmixers: [softmax]\n", lat);
    if (xb_task_find("majority")) {
        const char *task[] = {"b.yaml:3:", ": tasks[0].lengths[0]: expected an integer between 1 and 16777216", NULL};
        expect_refused("latency: {lengths: []}\nmixers: [softmax]\ntasks: [{name: majority, lengths: [2147483647]}]\n", task);
    }
}

/* local_block with a block of 2e9 at length 2^31-1: the plan used to loop forever in
 * block_flops (s0 += block overflowed int). Now validate refuses it and the plan ends at once. */
Test(bounds, a_huge_block_does_not_hang_the_plan, .timeout = 30)
{
    if (!xb_mixer_find("local_block")) cr_skip_test("local_block not registered");
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-bounds");
    tmpdir_write(dir, "hang.yaml", "name: hang\nlatency: {lengths: [2147483647]}\nmixers: [local_block]\n"
                                   "mixer_options: {local_block: {block: 2000000000}}\n");
    char *p = xb_path_join(dir, "hang.yaml");
    const char *args[] = {"run", "--dry-run", "--machine", "none", p, NULL};
    double t0 = wall_s();
    result r = run(args);
    cr_expect_eq(r.code, 2, "exit %d:\n%s", r.code, r.err);
    cr_expect(strstr(r.err, "mixer_options.local_block.block: expected an integer between 1 and 16777216") != NULL,
              "%s", r.err);
    cr_expect_lt(wall_s() - t0, 10.0);
    done(&r);
    free(p);
    rm_dir(dir);
}

/* ------------------------------------------------------------------------------------------
 * saturate: size arithmetic */

Test(bounds, size_helpers_saturate)
{
    cr_expect_eq(xb_size_add(1, 2), 3);
    cr_expect_eq(xb_size_add(SIZE_MAX - 1, 1), SIZE_MAX);
    cr_expect_eq(xb_size_add(SIZE_MAX - 1, 2), SIZE_MAX);
    cr_expect_eq(xb_size_add(SIZE_MAX, SIZE_MAX), SIZE_MAX);
    cr_expect_eq(xb_size_mul(1u << 20, 1u << 20), (size_t)1 << 40);
    cr_expect_eq(xb_size_mul((size_t)1 << 32, (size_t)1 << 32), SIZE_MAX);
    cr_expect_eq(xb_size_mul(SIZE_MAX, 0), 0);
    cr_expect_eq(xb_size_mul(SIZE_MAX / 3 + 1, 3), SIZE_MAX);
    cr_expect_eq(xb_align64(100), 128);
    cr_expect_eq(xb_align64(SIZE_MAX - 10), SIZE_MAX, "rounding up must not wrap to 0");
}

/* A stub mixer with a configurable slab and scratch: what the model estimate does with sizes
 * a real mixer reaches at its bounds, without allocating anything. */
static size_t stub_params = 16, stub_scratch = 0;

static int stub_tensors(const xb_mixer_cfg *c, xb_tensor *out)
{
    (void)c;
    /* rows x cols = stub_params (a product of two ints) */
    int cols = (int)(stub_params >> 16 ? stub_params >> 16 : stub_params);
    int rows = (int)(stub_params / (size_t)cols);
    if (out) out[0] = (xb_tensor){"W", 0, rows, cols, XB_T_DECAY};
    return 1;
}
static size_t stub_saved(const xb_mixer_cfg *c, int N) { (void)c; return (size_t)N; }
static size_t stub_n_scratch(const xb_mixer_cfg *c, int B, int N) { (void)c; (void)B; (void)N; return stub_scratch; }
static const xb_mixer stub = {
    .name = "stub", .family = "test", .cite = "none", .complexity = "N",
    .modes = XB_CAUSAL | XB_BIDIR, .tensors = stub_tensors, .n_saved = stub_saved,
    .n_scratch = stub_n_scratch,
};

static xb_model_cfg small_model(void)
{
    xb_model_cfg mc = {0};
    mc.shape = XB_SHAPE_CLS; mc.vocab = 16; mc.n_classes = 4; mc.dim = 16; mc.layers = 2;
    mc.heads = 1; mc.mlp = XB_MLP_GLU; mc.mlp_ratio = 2; mc.head_hidden = 0;
    return mc;
}

Test(bounds, model_bytes_saturate_instead_of_wrapping)
{
    xb_model_cfg mc = small_model();
    xb_mixer_cfg xc = {.d = mc.dim, .heads = 1, .n_max = 32};
    stub_params = 16;
    stub_scratch = 0;
    size_t small = xb_model_bytes(&mc, &stub, &xc, 4, 32);
    cr_assert(small > 0 && small < ((size_t)1 << 24));
    /* a scratch of SIZE_MAX/2 floats is past SIZE_MAX bytes: the estimate says so */
    stub_scratch = SIZE_MAX / 2;
    cr_expect_eq(xb_model_bytes(&mc, &stub, &xc, 4, 32), SIZE_MAX);
    stub_scratch = SIZE_MAX / 4 + 7;   /* * 4 bytes wraps to 28 */
    cr_expect_eq(xb_model_bytes(&mc, &stub, &xc, 4, 32), SIZE_MAX);
    stub_scratch = 0;
}

/* A mixer slab of 3 * 2^32 floats (lmu at order 65536, deltanet's old conv 2^28) was cut to
 * an int, so the estimate came out small and the child overran its arena. */
Test(bounds, model_bytes_count_a_mixer_slab_past_int)
{
    xb_model_cfg mc = small_model();
    xb_mixer_cfg xc = {.d = mc.dim, .heads = 1, .n_max = 32};
    stub_params = (size_t)3 << 32;
    stub_scratch = 0;
    size_t need = 4 * sizeof(float) * mc.layers * stub_params;   /* params, grads, m, v */
    size_t got = xb_model_bytes(&mc, &stub, &xc, 4, 32);
    cr_expect_geq(got, need, "estimate %zu bytes, the slabs alone need %zu", got, need);
    cr_expect_neq(got, SIZE_MAX);
    stub_params = 16;
}

/* More rows in a batch than an int counts (the kernels' row index): SIZE_MAX, and create
 * refuses without allocating. */
Test(bounds, batches_past_int_rows_are_too_large)
{
    xb_model_cfg mc = small_model();
    xb_mixer_cfg xc = {.d = mc.dim, .heads = 1, .n_max = 65536};
    stub_params = 16;
    stub_scratch = 0;
    cr_expect_eq(xb_model_bytes(&mc, &stub, &xc, 65536, 65536), SIZE_MAX);
    mc.shape = XB_SHAPE_PAIR;   /* two towers: 2 * 32768 * 65536 rows */
    cr_expect_eq(xb_model_bytes(&mc, &stub, &xc, 32768, 65536), SIZE_MAX);
    mc.shape = XB_SHAPE_CLS;
    cr_expect_neq(xb_model_bytes(&mc, &stub, &xc, 32767, 65536), SIZE_MAX);
    /* one (rows, d) activation past 1 TiB */
    mc.dim = 65536;
    xc.d = 65536;
    cr_expect_eq(xb_model_bytes(&mc, &stub, &xc, 1 << 13, 1 << 10), SIZE_MAX);
    xb_model *m = NULL;
    char err[256] = "";
    cr_expect_eq(xb_model_create(&m, &mc, &stub, &xc, 1 << 13, 1 << 10, err, sizeof err), XB_ENOMEM);
    cr_expect_null(m);
    cr_expect(strstr(err, "past what one cell can hold") != NULL, "%s", err);
}

/* ------------------------------------------------------------------------------------------
 * too-large: decided in the parent */

/* A valid suite whose estimate overflows: 2^30 rows of width 65536 over 1024 layers with a
 * GLU of 64 x dim. Skipped before forking, fast, with the reason; bytes_analytic null. */
Test(bounds, an_overflowing_estimate_is_skipped_before_forking, .timeout = 60)
{
    if (!xb_mixer_find("softmax") || !xb_task_find("majority")) cr_skip_test("softmax or majority not registered");
    const char *text =
        "name: overflow\nmodel: {dim: 65536, heads: 2, layers: 1024, mlp: glu, mlp_ratio: 64}\n"
        "train: {steps: 1, batch: 65536}\nlatency: {lengths: []}\nlimits: {mem_limit_mb: 4096}\n"
        "mixers: [softmax]\ntasks: [{name: majority, lengths: [16384]}]\n";
    xb_suite s;
    xb_cell_spec *cells;
    int n;
    expand(text, &s, &cells, &n);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(cells[0].skip, "skipped:too-large");
    cr_expect(strstr(cells[0].skip_msg, "its size overflows") != NULL, "%s", cells[0].skip_msg);
    cr_expect_eq(cells[0].bytes, 0, "a wrapped byte count is recorded: %zu", cells[0].bytes);
    xb_sweep_cells_free(cells, n);

    char dir[64];
    int code;
    double secs;
    json_object *recs = run_suite(&s, dir, sizeof dir, &code, &secs);
    cr_expect_eq(code, XB_SWEEP_NOT_ALL_OK);
    cr_assert_eq(json_object_array_length(recs), 1);
    json_object *r = json_object_array_get_idx(recs, 0);
    cr_expect_str_eq(xb_jstr(r, "status", ""), "skipped:too-large");
    cr_expect_null(xb_jget(r, "bytes_analytic"));
    cr_expect_null(xb_jget(r, "peak_rss_kb"), "a skipped cell ran no process");
    cr_expect_lt(secs, 20.0, "the run took %.1f s", secs);
    json_object_put(recs);
    xb_suite_release(&s);
    rm_dir(dir);
}

Test(bounds, more_rows_than_an_int_are_skipped_with_the_reason)
{
    if (!xb_mixer_find("softmax") || !xb_task_find("majority")) cr_skip_test("softmax or majority not registered");
    xb_suite s;
    xb_cell_spec *cells;
    int n;
    expand("model: {dim: 16, heads: 2, layers: 1}\ntrain: {batch: 65536}\nlatency: {lengths: []}\n"
           "limits: {mem_limit_mb: 0}\nmixers: [softmax]\ntasks: [{name: majority, lengths: [65536]}]\n",
           &s, &cells, &n);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(cells[0].skip, "skipped:too-large");
    cr_expect(strstr(cells[0].skip_msg, "batch 65536 x length 65536 is 4294967296 rows") != NULL, "%s",
              cells[0].skip_msg);
    xb_sweep_cells_free(cells, n);
    xb_suite_release(&s);
}

/* lmu at order 65536 is valid (the bound), and needs ~200 GiB: over mem_limit_mb it is
 * skipped in the parent. It used to be estimated at ~130 MiB, forked, and crash (SIGSEGV)
 * writing its frozen q x q matrices past the arena. */
Test(bounds, a_valid_option_over_mem_limit_is_skipped_not_forked, .timeout = 60)
{
    if (!xb_mixer_find("lmu") || !xb_task_find("majority")) cr_skip_test("lmu or majority not registered");
    const char *text =
        "name: lmubig\nmodel: {dim: 16, heads: 2, layers: 1}\ntrain: {steps: 2, batch: 2}\n"
        "latency: {lengths: []}\nlimits: {mem_limit_mb: 4096, cell_timeout_s: 30}\nmixers: [lmu]\n"
        "mixer_options: {lmu: {order: 65536}}\n"
        "tasks: [{name: majority, lengths: [16], options: {train_examples: 8, val_examples: 4, test_examples: 4}}]\n";
    xb_suite s;
    xb_cell_spec *cells;
    int n;
    expand(text, &s, &cells, &n);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(cells[0].skip, "skipped:too-large");
    cr_expect_gt(cells[0].bytes, (size_t)4096 << 20);
    cr_expect(strstr(cells[0].skip_msg, "mem_limit_mb is 4096") != NULL, "%s", cells[0].skip_msg);
    xb_sweep_cells_free(cells, n);

    char dir[64];
    int code;
    double secs;
    json_object *recs = run_suite(&s, dir, sizeof dir, &code, &secs);
    cr_expect_eq(code, XB_SWEEP_NOT_ALL_OK);
    cr_assert_eq(json_object_array_length(recs), 1);
    json_object *r = json_object_array_get_idx(recs, 0);
    cr_expect_str_eq(xb_jstr(r, "status", ""), "skipped:too-large");
    cr_expect_null(xb_jget(r, "peak_rss_kb"), "a skipped cell ran no process");
    json_object_put(recs);
    xb_suite_release(&s);
    rm_dir(dir);
}

/* Without a limit (mem_limit_mb: 0) a cell past this machine's memory and swap is
 * skipped too (a model of 1024 layers of width 65536 needs petabytes). */
Test(bounds, without_a_limit_a_cell_past_the_machine_is_skipped)
{
    if (!xb_mixer_find("softmax")) cr_skip_test("softmax not registered");
    xb_suite s;
    xb_cell_spec *cells;
    int n;
    expand("model: {dim: 65536, heads: 2, layers: 1024}\nlatency: {lengths: [64]}\nlimits: {mem_limit_mb: 0}\n"
           "mixers: [softmax]\n", &s, &cells, &n);
    cr_assert_eq(n, 1);
    cr_expect_str_eq(cells[0].skip, "skipped:too-large");
    cr_expect(strstr(cells[0].skip_msg, "more than this machine's memory and swap") != NULL, "%s", cells[0].skip_msg);
    xb_sweep_cells_free(cells, n);
    xb_suite_release(&s);
}

/* ------------------------------------------------------------------------------------------
 * corners: the mixers' own size functions at the bounds */

/* Every registered mixer, at every corner of its options' bounds (each option at its default
 * or its maximum) x width 64 or 65536 x 1 or the most heads x length 64 or 2^24 x batch 1 or
 * 2^17 sequences, in each mode it has, wherever its check() accepts and the model would ask at all (an
 * activation of at most 1 TiB): n_params, n_saved and n_scratch stay below 2^60 floats and
 * grow with the batch and the length (a product that wrapped round would not). */
Test(bounds, mixer_sizes_fit_at_the_corners_of_the_bounds, .timeout = 120)
{
    const int dims[2] = {64, 65536}, lens[2] = {64, 1 << 24}, batches[2] = {1, 1 << 17};   /* PAIR: 2 x 2^16 */
    const double cap = ldexp(1, 60);
    for (int mi = 0; xb_mixers[mi]; mi++) {
        const xb_mixer *m = xb_mixers[mi];
        const int no = m->n_opts;
        long tried = 0;
        for (int causal = 0; causal < 2; causal++) {
            if (!(m->modes & (causal ? XB_CAUSAL : XB_BIDIR))) continue;
            for (int mask = 0; mask < (1 << no); mask++)
                for (int di = 0; di < 2; di++)
                    for (int hi = 0; hi < 2; hi++)
                        for (int ni = 0; ni < 2; ni++)
                            for (int bi = 0; bi < 2; bi++) {
                                int d = dims[di], N = lens[ni], B = batches[bi];
                                if ((double)B * N * d * sizeof(float) > ldexp(1, 40)) continue;
                                xb_mixer_cfg c = {.d = d, .heads = hi ? xb_min(d, 4096) : 1, .causal = causal, .n_max = N};
                                for (int k = 0; k < no; k++) {
                                    if (!(mask >> k & 1)) continue;
                                    double lo, hi;
                                    xb_mixer_opt_range(&m->opts[k], &lo, &hi);
                                    xb_mixer_opt_set(m, &c, m->opts[k].name, hi);
                                }
                                xb_mixer_cfg r = xb_mixer_resolve(m, &c);
                                char e[256];
                                if (xb_mixer_check(m, &r, e, sizeof e)) continue;
                                tried++;
                                double np = (double)xb_mixer_n_params(m, &r);
                                double ns = (double)m->n_saved(&r, N), ns2 = (double)m->n_saved(&r, N / 2);
                                double nx = m->n_scratch ? (double)m->n_scratch(&r, B, N) : 0;
                                double nxb = m->n_scratch ? (double)m->n_scratch(&r, xb_max(B / 2, 1), N) : 0;
                                double nxn = m->n_scratch ? (double)m->n_scratch(&r, B, N / 2) : 0;
                                cr_assert(np < cap && ns * B < cap && nx < cap,
                                          "%s d=%d heads=%d N=%d B=%d causal=%d options %#x: params 2^%.1f, "
                                          "saved 2^%.1f per sequence, scratch 2^%.1f floats", m->name, d,
                                          c.heads, N, B, causal, mask, log2(np + 1), log2(ns + 1), log2(nx + 1));
                                cr_assert(ns >= ns2 && nx >= nxb && nx >= nxn,
                                          "%s d=%d heads=%d N=%d B=%d causal=%d options %#x: a size shrinks as "
                                          "the batch or length grows (wrapped?)", m->name, d, c.heads, N, B,
                                          causal, mask);
                            }
        }
        cr_expect_gt(tried, 0, "mixer '%s': no corner passes its check", m->name);
    }
}

/* ------------------------------------------------------------------------------------------
 * names: cells.jsonl records */

Test(bounds, records_whose_names_are_not_names_are_skipped)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-bounds");
    char long_name[160];
    memset(long_name, 'x', 129);
    long_name[129] = '\0';
    char text[2048];
    snprintf(text, sizeof text,
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"softmax\",\"L\":64,\"config_hash\":\"a\"}\n"
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"soft\\u001b[31mmax\",\"L\":64,\"config_hash\":\"b\"}\n"
             "{\"v\":1,\"kind\":\"latency\",\"task\":null,\"mixer\":\"%s\",\"L\":64,\"config_hash\":\"c\"}\n"
             "{\"v\":1,\"kind\":\"latency\",\"task\":null,\"mixer\":5,\"L\":64,\"config_hash\":\"d\"}\n"
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mq ar\",\"mixer\":\"gla\",\"L\":64,\"config_hash\":\"e\"}\n"
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"\",\"L\":64,\"config_hash\":\"f\"}\n"
             "{\"v\":1,\"kind\":\"train\",\"task\":\"mqar\",\"mixer\":\"gla\\u0000\\u001b\",\"L\":64,\"config_hash\":\"g\"}\n"
             "{\"v\":1,\"kind\":\"latency\",\"task\":null,\"mixer\":\"linear\",\"L\":64,\"config_hash\":\"h\"}\n",
             long_name);
    tmpdir_write(dir, "cells.jsonl", text);
    char *warn = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&warn, &len);
    json_object *recs = NULL;
    int bad = -1;
    cr_assert_eq(xb_store_load_ex(dir, &recs, f, &bad), 0);
    fclose(f);
    cr_expect_eq(json_object_array_length(recs), 2, "kept %zu records:\n%s", json_object_array_length(recs), warn);
    cr_expect_eq(bad, 6);
    cr_expect_str_eq(xb_jstr(json_object_array_get_idx(recs, 0), "mixer", ""), "softmax");
    cr_expect_str_eq(xb_jstr(json_object_array_get_idx(recs, 1), "mixer", ""), "linear");
    for (int line = 2; line <= 7; line++) {
        char where[96];
        snprintf(where, sizeof where, "cells.jsonl:%d: record's \"%s\" is not a name", line, line == 5 ? "task" : "mixer");
        cr_expect(strstr(warn, where) != NULL, "no '%s' in:\n%s", where, warn);
    }
    for (const char *p = warn; *p; p++)
        cr_expect(*p == '\n' || (unsigned char)*p >= 0x20, "a control byte 0x%02x in the warnings", (unsigned char)*p);
    json_object_put(recs);
    free(warn);
    /* the report reads through the same loader: the tables name no bad record */
    const char *args[] = {"report", dir, NULL};
    result r = run(args);
    cr_expect_eq(r.code, 0, "report exits %d:\n%s", r.code, r.err);
    cr_expect(strstr(r.err, "cells.jsonl:2: record's \"mixer\" is not a name") != NULL, "%s", r.err);
    cr_expect(strchr(r.out, '\x1b') == NULL, "an escape byte reached the tables");
    done(&r);
    rm_dir(dir);
}
