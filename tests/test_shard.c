/* tests/test_shard.c — the cost-balanced split of cells over shards (harness/shard.c) and the
 * Slurm scripts (harness/slurm.c, `xbench slurm`): every cell in exactly one shard, the same
 * split on every call, a balance within the list-scheduling bound that beats index-modulo on
 * skewed costs; scripts that bash accepts, carry the right commands, quote any path, and,
 * run against a stand-in sbatch and xbench, submit the array and then the merge after it. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/xb.h"
#include "harness/shard.h"
#include "harness/slurm.h"
#include "harness/suite.h"
#include "harness/sweep.h"
#include "mixers/registry.h"
#include "tasks/registry.h"
#include "tests/tmpdir.h"
#include "tests/xbrun.h"

/* ---- xb_shard_of ---------------------------------------------------------------------- */

static void loads(const double *cost, const int *shard, int n, int N, double *load)
{
    for (int s = 0; s < N; s++) load[s] = 0;
    for (int i = 0; i < n; i++) load[shard[i]] += cost[i];
}

static double max_of(const double *v, int n)
{
    double m = v[0];
    for (int i = 1; i < n; i++)
        if (v[i] > m) m = v[i];
    return m;
}

/* Skewed costs: a few huge cells among many small ones (a fixed LCG, so the test is fixed). */
static void skewed(double *cost, int n, unsigned seed)
{
    unsigned x = seed;
    for (int i = 0; i < n; i++) {
        x = x * 1103515245u + 12345u;
        double u = ((x >> 8) & 0xffff) / 65536.0;
        cost[i] = 1.0 / pow(1.0 - u * 0.999, 1.5);   /* heavy tail: 1 .. ~30000 */
    }
}

Test(shard, every_item_in_exactly_one_shard)
{
    enum { n = 257 };
    double cost[n];
    skewed(cost, n, 7);
    for (int N = 1; N <= 9; N++) {
        int shard[n], count[9] = { 0 };
        cr_assert_eq(xb_shard_of(cost, n, N, shard), 0);
        for (int i = 0; i < n; i++) {
            cr_assert(shard[i] >= 0 && shard[i] < N, "item %d in shard %d of %d", i, shard[i], N);
            count[shard[i]]++;
        }
        int total = 0;
        for (int s = 0; s < N; s++) total += count[s];
        cr_assert_eq(total, n);
    }
}

Test(shard, deterministic)
{
    enum { n = 500, N = 7 };
    double cost[n];
    skewed(cost, n, 11);
    cost[3] = cost[4] = cost[5] = 100;   /* ties, broken by position */
    int a[n], b[n];
    cr_assert_eq(xb_shard_of(cost, n, N, a), 0);
    cr_assert_eq(xb_shard_of(cost, n, N, b), 0);
    cr_assert_eq(memcmp(a, b, sizeof a), 0, "two calls split differently");
    /* equal costs go round the shards in position order */
    double eq[6] = { 1, 1, 1, 1, 1, 1 };
    int s[6];
    cr_assert_eq(xb_shard_of(eq, 6, 3, s), 0);
    for (int i = 0; i < 6; i++) cr_expect_eq(s[i], i % 3, "equal cost %d → shard %d", i, s[i]);
}

Test(shard, balanced_within_the_bound_and_better_than_modulo)
{
    /* crafted: a big cell every N-th position, which index-modulo puts all in one shard */
    enum { n = 40, N = 4 };
    double cost[n];
    for (int i = 0; i < n; i++) cost[i] = i % N == 0 ? 100 : 1;
    int lpt[n], mod[n];
    cr_assert_eq(xb_shard_of(cost, n, N, lpt), 0);
    for (int i = 0; i < n; i++) mod[i] = i % N;
    double ll[N], lm[N];
    loads(cost, lpt, n, N, ll);
    loads(cost, mod, n, N, lm);
    cr_expect_eq(max_of(lm, N), 1000, "modulo: %g", max_of(lm, N));
    cr_expect_eq(max_of(ll, N), 300, "longest first: the 10 big cells as 3/3/2/2 (the best "
                 "possible) and the small ones on the two lighter shards: %g %g %g %g", ll[0], ll[1],
                 ll[2], ll[3]);

    /* skewed random costs, many shard counts: list-scheduling bound mean + max, and LPT's
     * 4/3 of the lower bound max(mean, biggest) */
    enum { m = 300 };
    double c[m];
    for (unsigned seed = 1; seed <= 20; seed++) {
        skewed(c, m, seed);
        for (int K = 2; K <= 16; K *= 2) {
            int sh[m];
            double ld[16], total = 0, big = 0;
            cr_assert_eq(xb_shard_of(c, m, K, sh), 0);
            loads(c, sh, m, K, ld);
            for (int i = 0; i < m; i++) {
                total += c[i];
                if (c[i] > big) big = c[i];
            }
            double mx = max_of(ld, K), lower = fmax(total / K, big);
            cr_expect(mx <= total / K + big + 1e-9, "seed %u, %d shards: %g > mean %g + max %g", seed, K,
                      mx, total / K, big);
            cr_expect(mx <= 4.0 / 3.0 * lower + 1e-9, "seed %u, %d shards: %g > 4/3 × %g", seed, K, mx, lower);
        }
    }
}

Test(shard, edge_cases)
{
    double c[3] = { 5, NAN, -1 };
    int s[3];
    cr_assert_eq(xb_shard_of(c, 3, 1, s), 0);
    cr_expect(s[0] == 0 && s[1] == 0 && s[2] == 0);
    cr_assert_eq(xb_shard_of(c, 3, 5, s), 0, "more shards than items");
    cr_expect(s[0] != s[1] && s[1] != s[2] && s[0] != s[2], "%d %d %d", s[0], s[1], s[2]);
    cr_expect_eq(xb_shard_of(c, 0, 3, NULL), 0);
    cr_expect_eq(xb_shard_of(c, 3, 0, s), XB_EINVAL);
    cr_expect_eq(xb_shard_of(NULL, 3, 2, s), XB_EINVAL);
    cr_expect_eq(xb_shard_of(c, -1, 2, s), XB_EINVAL);
}

/* ---- costs of real cells and xb_shard_select -------------------------------------------- */

static const char *SUITE =
    "name: shardtest\nseeds: [1, 2]\nmodel: {dim: 16, layers: 1, heads: 2}\n"
    "train: {steps: 50, batch: 8}\n"
    "latency: {lengths: [64, 1024], min_reps: 3, max_reps: 5, min_time_s: 0, warmup: 1}\n"
    "mixers: [softmax, linear, pool]\n"
    "tasks:\n  - name: majority\n    lengths: [16, 128]\n"
    "    options: {train_examples: 64, val_examples: 16, test_examples: 16}\n";

static void expand(const char *text, xb_suite *s, xb_cell_spec **cells, int *n)
{
    if (!xb_mixer_find("softmax") || !xb_mixer_find("linear") || !xb_mixer_find("pool") ||
        !xb_task_find("majority"))
        cr_skip_test("softmax, linear, pool or majority not registered");
    cr_assert_eq(xb_suite_load_string(text, "shard.yaml", s, stderr), 0);
    xb_sweep_opts o = { 0 };
    cr_assert_eq(xb_sweep_expand(s, &o, cells, n, stderr), 0);
}

static const xb_cell_spec *find(const xb_cell_spec *c, int n, int kind, const char *mixer, int L, uint64_t seed)
{
    for (int i = 0; i < n; i++)
        if (c[i].kind == kind && !strcmp(c[i].mixer->name, mixer) && c[i].L == L && c[i].seed == seed) return &c[i];
    cr_assert_fail("no %s cell %s L=%d", kind == XB_CELL_TRAIN ? "train" : "latency", mixer, L);
    return NULL;
}

Test(shard, cost_follows_the_work)
{
    xb_suite s;
    xb_cell_spec *c;
    int n;
    expand(SUITE, &s, &c, &n);
    cr_assert_eq(n, 3 * 2 * 2 + 3 * 2);
    for (int i = 0; i < n; i++) cr_expect(xb_cell_cost(&c[i]) > 0 && isfinite(xb_cell_cost(&c[i])));
    const xb_cell_spec *sm16 = find(c, n, XB_CELL_TRAIN, "softmax", 16, 1);
    const xb_cell_spec *sm128 = find(c, n, XB_CELL_TRAIN, "softmax", 128, 1);
    const xb_cell_spec *pool128 = find(c, n, XB_CELL_TRAIN, "pool", 128, 1);
    const xb_cell_spec *lat1024 = find(c, n, XB_CELL_LATENCY, "softmax", 1024, 1);
    const xb_cell_spec *lat64 = find(c, n, XB_CELL_LATENCY, "softmax", 64, 1);
    cr_expect(xb_cell_cost(sm128) > xb_cell_cost(sm16), "longer sequences cost more");
    cr_expect(xb_cell_cost(sm128) > xb_cell_cost(pool128), "softmax costs more than pooling");
    cr_expect(xb_cell_cost(lat1024) > xb_cell_cost(lat64));
    /* the seeds of one configuration cost the same */
    cr_expect_eq(xb_cell_cost(sm16), xb_cell_cost(find(c, n, XB_CELL_TRAIN, "softmax", 16, 2)));

    /* training: 3 × steps × batch × forward, so twice the steps is about twice the cost */
    xb_cell_spec t = *sm128;
    double base = xb_cell_cost(&t) - XB_SHARD_OVERHEAD_S * XB_SHARD_NOMINAL_FLOPS;
    t.train.steps *= 2;
    double twice = xb_cell_cost(&t) - XB_SHARD_OVERHEAD_S * XB_SHARD_NOMINAL_FLOPS;
    cr_expect(twice > 1.8 * base && twice < 2.0 * base, "%g vs %g", twice, base);
    /* two threads: half the work */
    t = *sm128;
    t.threads = 2;
    double two = xb_cell_cost(&t) - XB_SHARD_OVERHEAD_S * XB_SHARD_NOMINAL_FLOPS;
    cr_expect(fabs(two - base / 2) < 1e-6 * base, "%g vs %g / 2", two, base);
    /* a cell skipped before forking costs the overhead alone */
    t = *sm128;
    snprintf(t.skip, sizeof t.skip, "skipped:too-large");
    cr_expect_eq(xb_cell_cost(&t), XB_SHARD_OVERHEAD_S * XB_SHARD_NOMINAL_FLOPS);
    xb_sweep_cells_free(c, n);
    xb_suite_release(&s);
}

Test(shard, select_partitions_the_cells_in_order)
{
    xb_suite s;
    xb_cell_spec *all;
    int n;
    expand(SUITE, &s, &all, &n);
    double cost[64];
    int want[64];
    for (int i = 0; i < n; i++) cost[i] = xb_cell_cost(&all[i]);
    for (int N = 1; N <= 5; N++) {
        cr_assert_eq(xb_shard_of(cost, n, N, want), 0);
        int seen[64] = { 0 };
        double load_max = 0, load_min = INFINITY;
        for (int k = 1; k <= N; k++) {
            xb_suite s2;
            xb_cell_spec *c;
            int m;
            expand(SUITE, &s2, &c, &m);
            cr_assert_eq(xb_shard_select(c, &m, k, N), 0);
            double load = 0;
            for (int i = 0; i < m; i++) {
                int idx = c[i].index;
                cr_assert(idx >= 0 && idx < n);
                seen[idx]++;
                cr_expect_eq(want[idx], k - 1, "cell %d: shard %d, xb_shard_of says %d", idx, k, want[idx] + 1);
                cr_expect_str_eq(c[i].hash, all[idx].hash);
                cr_expect_not_null(c[i].config);
                if (i) cr_expect_gt(idx, c[i - 1].index, "a shard keeps the suite's order");
                load += cost[idx];
            }
            if (load > load_max) load_max = load;
            if (load < load_min) load_min = load;
            xb_sweep_cells_free(c, m);
            xb_suite_release(&s2);
        }
        for (int i = 0; i < n; i++) cr_expect_eq(seen[i], 1, "%d shards: cell %d is in %d shards", N, i, seen[i]);
    }
    int m = n;
    cr_expect_eq(xb_shard_select(all, &m, 0, 2), XB_EINVAL);
    cr_expect_eq(xb_shard_select(all, &m, 3, 2), XB_EINVAL);
    cr_expect_eq(m, n, "a refused selection changes nothing");
    xb_sweep_cells_free(all, n);
    xb_suite_release(&s);
}

/* ---- the Slurm scripts -------------------------------------------------------------------- */

static char *slurp_path(const char *path)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "cannot read %s", path);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

/* dir/name read whole (a copy the caller frees). */
static char *slurp_in(const char *dir, const char *name)
{
    char *p = xb_path_join(dir, name);
    char *text = slurp_path(p);
    free(p);
    return text;
}

/* s shell-quoted, or dir/name when name is given, in a static buffer (valid until the next
 * call). */
static const char *quoted(const char *s, const char *name)
{
    static char buf[2048];
    char *p = name ? xb_path_join(s, name) : NULL;
    char *q = xb_shell_quote(p ? p : s);
    cr_assert(q && strlen(q) < sizeof buf);
    snprintf(buf, sizeof buf, "%s", q);
    free(q);
    free(p);
    return buf;
}

static int sh(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static void write_exec(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
    chmod(path, 0755);
}

Test(slurm, scripts_hold_the_right_lines, .timeout = 60)
{
    char tmp[64], dir[256], suite[256];
    tmpdir_make(tmp, sizeof tmp, "xbench-slurm");
    snprintf(suite, sizeof suite, "%s/s.yaml", tmp);
    tmpdir_write(tmp, "s.yaml", SUITE);
    snprintf(dir, sizeof dir, "%s/jobs", tmp);
    xb_suite s;
    if (!xb_mixer_find("softmax") || !xb_task_find("majority")) cr_skip_test("mixers not registered");
    cr_assert_eq(xb_suite_load(suite, &s, stderr), 0);
    xb_slurm_opts o = { .shards = 3, .out_dir = dir, .partition = "short", .time_limit = "0:30:00",
                        .cpus = 2, .machine = "quick", .extra = { "--mem=2G" }, .n_extra = 1, .err = stderr };
    char *abs = NULL;
    cr_assert_eq(xb_slurm_write(&s, suite, &o, &abs), 0);
    cr_assert_not_null(abs);
    char *sb = slurp_in(abs, "xbench.sbatch");
    const char *want_sb[] = {
        "#!/bin/bash\n", "#SBATCH --array=1-3\n", "#SBATCH --cpus-per-task=2\n", "#SBATCH --partition=short\n",
        "#SBATCH --time=0:30:00\n", "#SBATCH --mem=2G\n", "#SBATCH --output=logs/shard-%a.log\n",
        "#SBATCH --job-name=xbench-shardtest\n", "threads=\"${SLURM_CPUS_PER_TASK:-2}\"\n",
        "k=\"${SLURM_ARRAY_TASK_ID:?",
        "\"$xbench\" run \"$suite\" --shard \"$k/3\" --threads \"$threads\" --resume -o \"$dir/shard-$k\" --machine quick\n",
        "if [ \"$rc\" -eq 1 ]; then exit 0; fi\n",
    };
    for (size_t i = 0; i < sizeof want_sb / sizeof *want_sb; i++)
        cr_expect(strstr(sb, want_sb[i]) != NULL, "xbench.sbatch lacks '%s':\n%s", want_sb[i], sb);
    char chdir_line[300];
    snprintf(chdir_line, sizeof chdir_line, "#SBATCH --chdir=%s\n", abs);
    cr_expect(strstr(sb, chdir_line) != NULL, "%s", sb);
    char *mb = slurp_in(abs, "merge.sbatch");
    cr_expect(strstr(mb, "for k in $(seq 1 3); do shards+=(\"$dir/shard-$k\"); done\n") != NULL, "%s", mb);
    cr_expect(strstr(mb, "exec \"$xbench\" merge \"${shards[@]}\" -o \"$dir/merged\"\n") != NULL, "%s", mb);
    cr_expect(strstr(mb, "#SBATCH --array") == NULL, "%s", mb);
    char *su = slurp_in(abs, "submit.sh");
    cr_expect(strstr(su, "array=$(sbatch --parsable \"$@\" xbench.sbatch)\n") != NULL, "%s", su);
    cr_expect(strstr(su, "--dependency=afterok:\"$array\" --kill-on-invalid-dep=yes merge.sbatch") != NULL, "%s", su);
    char cmd[600];
    const char *names[] = { "xbench.sbatch", "merge.sbatch", "submit.sh" };
    for (int i = 0; i < 3; i++) {
        snprintf(cmd, sizeof cmd, "bash -n '%s/%s'", abs, names[i]);
        cr_expect_eq(sh(cmd), 0, "bash -n rejects %s", names[i]);
        struct stat st;
        char *p = xb_path_join(abs, names[i]);
        cr_expect(stat(p, &st) == 0 && (st.st_mode & 0111), "%s is not executable", names[i]);
        free(p);
    }
    free(sb);
    free(mb);
    free(su);

    /* a thread axis is kept: no --threads, and the task asks for the largest count */
    xb_suite s2;
    char *text = malloc(strlen(SUITE) + 32);
    sprintf(text, "threads: [1, 2]\n%s", SUITE);
    tmpdir_write(tmp, "t.yaml", text);
    free(text);
    snprintf(suite, sizeof suite, "%s/t.yaml", tmp);
    cr_assert_eq(xb_suite_load(suite, &s2, stderr), 0);
    xb_slurm_opts o2 = { .shards = 2, .out_dir = dir, .err = stderr };
    cr_assert_eq(xb_slurm_write(&s2, suite, &o2, NULL), 0);
    sb = slurp_in(abs, "xbench.sbatch");
    cr_expect(strstr(sb, "--threads") == NULL, "%s", sb);
    cr_expect(strstr(sb, "#SBATCH --cpus-per-task=2\n") != NULL, "%s", sb);
    cr_expect(strstr(sb, "#SBATCH --partition") == NULL && strstr(sb, "#SBATCH --time") == NULL, "%s", sb);
    free(sb);

    /* refused options */
    FILE *null = fopen("/dev/null", "w");
    xb_slurm_opts bad = { .shards = 100, .out_dir = dir, .err = null };
    cr_expect_eq(xb_slurm_write(&s, suite, &bad, NULL), XB_EINVAL, "more shards than cells");
    bad.shards = 2;
    bad.partition = "a b";
    cr_expect_eq(xb_slurm_write(&s, suite, &bad, NULL), XB_EINVAL);
    bad.partition = NULL;
    bad.time_limit = "1h\n#SBATCH --x";
    cr_expect_eq(xb_slurm_write(&s, suite, &bad, NULL), XB_EINVAL);
    bad.time_limit = NULL;
    bad.extra[0] = "--mem=1G\nrm -rf /";
    bad.n_extra = 1;
    cr_expect_eq(xb_slurm_write(&s, suite, &bad, NULL), XB_EINVAL);
    fclose(null);
    free(abs);
    xb_suite_release(&s);
    xb_suite_release(&s2);
    tmpdir_remove(tmp);
}

/* A folder whose name has blanks, quotes, $ and a backquote: the scripts, run with stand-ins
 * for sbatch and xbench, pass the exact paths and submit the merge after the array. */
Test(slurm, scripts_run_with_any_path, .timeout = 60)
{
    if (!xb_mixer_find("softmax") || !xb_task_find("majority")) cr_skip_test("mixers not registered");
    char tmp[64], dir[300], suite[300], bin[400], fake[300], log[300], cmd[2000];
    tmpdir_make(tmp, sizeof tmp, "xbench-slurm");
    snprintf(dir, sizeof dir, "%s/it's a \"dir\" $HOME `x`", tmp);
    tmpdir_write(tmp, "s.yaml", SUITE);
    snprintf(suite, sizeof suite, "%s/s.yaml", tmp);
    snprintf(log, sizeof log, "%s/calls", tmp);
    /* stand-ins: sbatch prints a job id and records its arguments; xbench records its own */
    snprintf(fake, sizeof fake, "%s/bin", tmp);
    mkdir(fake, 0755);
    snprintf(bin, sizeof bin, "%s/sbatch", fake);
    snprintf(cmd, sizeof cmd,
             "#!/bin/bash\nn=$(( $(cat '%s.n' 2>/dev/null || echo 100) + 1 ))\necho $n > '%s.n'\n"
             "printf 'sbatch' >> '%s'; printf ' [%%s]' \"$@\" >> '%s'; echo >> '%s'\necho \"$n;cluster\"\n",
             log, log, log, log, log);
    write_exec(bin, cmd);
    snprintf(bin, sizeof bin, "%s/xbench", fake);
    snprintf(cmd, sizeof cmd, "#!/bin/bash\nprintf 'xbench' >> '%s'; printf ' [%%s]' \"$@\" >> '%s'; echo >> '%s'\nexit ${FAKE_RC:-0}\n",
             log, log, log);
    write_exec(bin, cmd);

    xb_suite s;
    cr_assert_eq(xb_suite_load(suite, &s, stderr), 0);
    xb_slurm_opts o = { .shards = 2, .out_dir = dir, .xbench = bin, .only = "softmax,pool", .err = stderr };
    char *abs = NULL;
    cr_assert_eq(xb_slurm_write(&s, suite, &o, &abs), 0);
    char *sb = slurp_in(abs, "xbench.sbatch");
    cr_expect(strstr(sb, "#SBATCH --chdir") == NULL, "a path with blanks in an #SBATCH line:\n%s", sb);
    free(sb);

    /* submit.sh: the array first, then the merge depending on it; arguments to both */
    snprintf(cmd, sizeof cmd, "cd / && PATH='%s':$PATH \"$0\" --account=acct > '%s/submit.out' 2>&1",
             fake, tmp);
    char qsub[1024], full[2400];
    snprintf(qsub, sizeof qsub, "%s", quoted(abs, "submit.sh"));
    snprintf(full, sizeof full, "bash -c %s %s", quoted(cmd, NULL), qsub);
    cr_assert_eq(sh(full), 0, "submit.sh failed: %s", tmpdir_read(tmp, "submit.out"));
    char *calls = strdup(tmpdir_read(tmp, "calls"));
    cr_expect(strstr(calls, "sbatch [--parsable] [--account=acct] [xbench.sbatch]\n") != NULL, "%s", calls);
    cr_expect(strstr(calls, "sbatch [--parsable] [--account=acct] [--dependency=afterok:101] "
                            "[--kill-on-invalid-dep=yes] [merge.sbatch]\n") != NULL, "%s", calls);
    cr_expect_str_eq(tmpdir_read(abs, "array.jobid"), "101\n");
    cr_expect_str_eq(tmpdir_read(abs, "merge.jobid"), "102\n");
    struct stat st;
    char *logs = xb_path_join(abs, "logs");
    cr_expect(stat(logs, &st) == 0 && S_ISDIR(st.st_mode), "submit.sh makes logs/");
    free(calls);

    /* an array task: the exact paths reach xbench, exit 1 (cells not ok) is a success */
    unlink(log);
    char want[2000];
    for (int rc = 0; rc <= 2; rc++) {
        snprintf(cmd, sizeof cmd, "SLURM_ARRAY_TASK_ID=2 SLURM_CPUS_PER_TASK=3 FAKE_RC=%d bash %s > /dev/null",
                 rc, quoted(abs, "xbench.sbatch"));
        cr_expect_eq(sh(cmd), rc == 1 ? 0 : rc, "xbench exiting %d", rc);
    }
    snprintf(want, sizeof want, "xbench [run] [%s] [--shard] [2/2] [--threads] [3] [--resume] [-o] [%s/shard-2] "
             "[--only] [softmax,pool]\n", suite, abs);
    calls = strdup(tmpdir_read(tmp, "calls"));
    cr_expect(strstr(calls, want) != NULL, "want %s\ngot %s", want, calls);
    free(calls);
    /* the merge job names every shard folder */
    unlink(log);
    snprintf(cmd, sizeof cmd, "bash %s", quoted(abs, "merge.sbatch"));
    cr_expect_eq(sh(cmd), 0);
    snprintf(want, sizeof want, "xbench [merge] [%s/shard-1] [%s/shard-2] [-o] [%s/merged]\n", abs, abs, abs);
    cr_expect_str_eq(tmpdir_read(tmp, "calls"), want);
    /* outside Slurm the array script refuses to guess its shard */
    snprintf(cmd, sizeof cmd, "bash %s 2> /dev/null", quoted(abs, "xbench.sbatch"));
    cr_expect_neq(sh(cmd), 0);
    free(abs);
    free(logs);
    xb_suite_release(&s);
    tmpdir_remove(tmp);
}

Test(slurm, cli_usage, .timeout = 60)
{
    result r = RUN("slurm", "--help");
    cr_expect_eq(r.code, 0);
    cr_expect(strstr(r.out, "--dependency=afterok") != NULL, "%s", r.out);
    done(&r);
    r = RUN("slurm", "suites/smoke.yaml");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "expected --shards N") != NULL, "%s", r.err);
    done(&r);
    r = RUN("slurm", "suites/smoke.yaml", "--shards", "0");
    cr_expect_eq(r.code, 2);
    done(&r);
    r = RUN("slurm", "suites/smoke.yaml", "--shards", "2", "--time", "1 hour", "-o", "/tmp/xbench-slurm-never");
    cr_expect_eq(r.code, 2);
    cr_expect(strstr(r.err, "--time") != NULL, "%s", r.err);
    done(&r);
    r = RUN("slurm", "/nonexistent.yaml", "--shards", "2");
    cr_expect_eq(r.code, 2);
    done(&r);

    char tmp[64], out[128];
    tmpdir_make(tmp, sizeof tmp, "xbench-slurm");
    snprintf(out, sizeof out, "%s/s", tmp);
    r = RUN("slurm", "suites/smoke.yaml", "--shards", "2", "-o", out, "--partition", "debug");
    cr_expect_eq(r.code, 0, "%s", r.err);
    cr_expect(strstr(r.out, "submit.sh") != NULL, "%s", r.out);
    done(&r);
    cr_expect(strstr(tmpdir_read(out, "xbench.sbatch"), "#SBATCH --partition=debug\n") != NULL);
    tmpdir_remove(tmp);
}
