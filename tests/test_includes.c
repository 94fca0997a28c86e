/* tests/test_includes.c — the #include lines of the source tree keep its shape:
 *
 *   - no cycle between modules (a module is foo.c with foo.h: report.c including
 *     benchjson.h, benchjson.c compare.h and compare.c report.h was one, issue 18; the
 *     suite's two files are one module, same_module below);
 *   - every folder includes only what it may (DESIGN.md's layering): core/ nothing above it,
 *     mixers/ and tasks/ core/ and themselves, harness/report/ (the report side) only itself
 *     and the two core headers libxbreport.a carries (core/xb.h, core/text.h) — never the run
 *     side of harness/, mixers/ or tasks/; the run side of harness/ anything but cmd/.
 *
 * The checker runs on the tree (from the repository root, as `make test` does) and on small
 * made-up trees that break each rule, so a checker that finds nothing cannot pass. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One quoted #include: the file that has it and the header it names. */
typedef struct edge { char from[256], to[256]; } edge;
typedef struct edges { edge *e; int n, cap; } edges;

static void add_edge(edges *g, const char *from, const char *to)
{
    if (g->n == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 256;
        g->e = realloc(g->e, (size_t)g->cap * sizeof *g->e);
        cr_assert_not_null(g->e);
    }
    snprintf(g->e[g->n].from, sizeof g->e->from, "%s", from);
    snprintf(g->e[g->n].to, sizeof g->e->to, "%s", to);
    g->n++;
}

/* The quoted includes of every .c and .h directly in dir. */
static void scan_dir(edges *g, const char *dir)
{
    DIR *d = opendir(dir);
    cr_assert_not_null(d, "cannot list %s (tests run from the repository root)", dir);
    for (struct dirent *de; (de = readdir(d));) {
        size_t k = strlen(de->d_name);
        if (k < 3 || de->d_name[0] == '.' || (strcmp(de->d_name + k - 2, ".c") && strcmp(de->d_name + k - 2, ".h")))
            continue;
        char path[512], line[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        FILE *f = fopen(path, "r");
        cr_assert_not_null(f, "cannot read %s", path);
        while (fgets(line, sizeof line, f)) {
            const char *p = line;
            while (isspace((unsigned char)*p)) p++;
            if (*p++ != '#') continue;
            while (isspace((unsigned char)*p)) p++;
            if (strncmp(p, "include", 7) != 0) continue;
            p += 7;
            while (isspace((unsigned char)*p)) p++;
            if (*p != '"') continue;
            const char *e = strchr(p + 1, '"');
            if (!e) continue;
            char to[256];
            snprintf(to, sizeof to, "%.*s", (int)(e - p - 1), p + 1);
            add_edge(g, path, to);
        }
        fclose(f);
    }
    closedir(d);
}

/* Files that are one module though their names differ: suite_keys.h is private to the suite
 * (suite.c reads YAML through its tables, suite_keys.c implements part of suite.h). */
static const char *const same_module[][2] = {
    { "harness/suite_keys", "harness/suite" },
};

/* "harness/report/report.c" → "harness/report/report" */
static void module_of(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    char *dot = strrchr(out, '.');
    char *slash = strrchr(out, '/');
    if (dot && (!slash || dot > slash)) *dot = 0;
    for (size_t i = 0; i < sizeof same_module / sizeof *same_module; i++)
        if (!strcmp(out, same_module[i][0])) snprintf(out, n, "%s", same_module[i][1]);
}

/* The folder of a path: "harness/report/x.h" → "harness/report". */
static void folder_of(const char *path, char *out, size_t n)
{
    snprintf(out, n, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash) *slash = 0;
    else out[0] = 0;
}

/* What a file of folder `from` may include. NULL when it may not include `to`, else "". */
static const char *allowed(const char *from, const char *to)
{
    char tf[256];
    folder_of(to, tf, sizeof tf);
    if (!strcmp(from, "cmd")) return "";
    if (!strcmp(from, "core")) return !strcmp(tf, "core") ? "" : NULL;
    if (!strcmp(from, "mixers")) return !strcmp(tf, "core") || !strcmp(tf, "mixers") ? "" : NULL;
    if (!strcmp(from, "tasks")) return !strcmp(tf, "core") || !strcmp(tf, "tasks") ? "" : NULL;
    if (!strcmp(from, "harness/report"))
        return !strcmp(tf, "harness/report") || !strcmp(to, "core/xb.h") || !strcmp(to, "core/text.h") ? "" : NULL;
    if (!strcmp(from, "harness")) return strcmp(tf, "cmd") ? "" : NULL;
    return "";
}

/* Layering violations of g, one line each into buf; returns how many. */
static int layer_violations(const edges *g, char *buf, size_t n)
{
    int bad = 0;
    buf[0] = 0;
    for (int i = 0; i < g->n; i++) {
        char ff[256];
        folder_of(g->e[i].from, ff, sizeof ff);
        if (allowed(ff, g->e[i].to)) continue;
        size_t k = strlen(buf);
        snprintf(buf + k, n - k, "%s includes \"%s\" (%s/ may not)\n", g->e[i].from, g->e[i].to, ff);
        bad++;
    }
    return bad;
}

/* ---- cycles between modules -------------------------------------------------------------- */

enum { MAXM = 512 };

typedef struct graph {
    char name[MAXM][256];
    int n;
    unsigned char adj[MAXM][MAXM];
} graph;

static int node(graph *m, const char *name)
{
    for (int i = 0; i < m->n; i++)
        if (!strcmp(m->name[i], name)) return i;
    cr_assert_lt(m->n, MAXM);
    snprintf(m->name[m->n], sizeof m->name[0], "%s", name);
    return m->n++;
}

/* Modules that include another module's header, self-inclusion (foo.c → foo.h) aside. Only
 * modules of the scanned tree count (build/version.h, system headers do not). */
static void build_graph(const edges *g, graph *m)
{
    memset(m, 0, sizeof *m);
    m->n = 1;   /* node 0 unused */
    for (int i = 0; i < g->n; i++) {
        char a[256];
        module_of(g->e[i].from, a, sizeof a);
        node(m, a);
    }
    int known = m->n;
    for (int i = 0; i < g->n; i++) {
        char a[256], b[256];
        module_of(g->e[i].from, a, sizeof a);
        module_of(g->e[i].to, b, sizeof b);
        int x = node(m, a), y = -1;
        for (int j = 1; j < known; j++)
            if (!strcmp(m->name[j], b)) y = j;
        if (y > 0 && y != x) m->adj[x][y] = 1;
    }
}

/* Depth-first search; the first cycle found goes into path as "a → b → a". */
static int dfs(const graph *m, int v, int *state, int *stack, int depth, char *path, size_t n)
{
    state[v] = 1;
    stack[depth] = v;
    for (int w = 1; w < m->n; w++) {
        if (!m->adj[v][w]) continue;
        if (state[w] == 1) {
            int from = 0;
            while (stack[from] != w) from++;
            path[0] = 0;
            for (int k = from; k <= depth; k++) {
                size_t l = strlen(path);
                snprintf(path + l, n - l, "%s → ", m->name[stack[k]]);
            }
            size_t l = strlen(path);
            snprintf(path + l, n - l, "%s", m->name[w]);
            return 1;
        }
        if (state[w] == 0 && dfs(m, w, state, stack, depth + 1, path, n)) return 1;
    }
    state[v] = 2;
    return 0;
}

static int find_cycle(const edges *g, char *path, size_t n)
{
    static graph m;
    build_graph(g, &m);
    int state[MAXM] = { 0 }, stack[MAXM];
    for (int v = 1; v < m.n; v++)
        if (state[v] == 0 && dfs(&m, v, state, stack, 0, path, n)) return 1;
    return 0;
}

/* ---- the tree ------------------------------------------------------------------------------ */

static const char *const folders[] = { "core", "mixers", "tasks", "harness", "harness/report", "cmd" };

static void scan_tree(edges *g)
{
    for (size_t i = 0; i < sizeof folders / sizeof *folders; i++) scan_dir(g, folders[i]);
}

Test(includes, the_tree_has_no_cycle_between_modules)
{
    edges g = { 0 };
    scan_tree(&g);
    cr_assert_gt(g.n, 200, "only %d #include lines found: is this the repository root?", g.n);
    char path[4096];
    cr_expect(!find_cycle(&g, path, sizeof path), "include cycle: %s", path);
    free(g.e);
}

Test(includes, every_folder_includes_only_what_it_may)
{
    edges g = { 0 };
    scan_tree(&g);
    char buf[8192];
    int bad = layer_violations(&g, buf, sizeof buf);
    cr_expect_eq(bad, 0, "%d include(s) against the layering:\n%s", bad, buf);
    free(g.e);
}

/* The checker on trees that break the rules: it must see each break. */
Test(includes, the_checker_finds_a_cycle_and_a_layer_break)
{
    edges g = { 0 };
    /* the cycle issue 18 found: report → benchjson → compare → report */
    add_edge(&g, "harness/report/report.c", "harness/report/report.h");
    add_edge(&g, "harness/report/report.c", "harness/report/benchjson.h");
    add_edge(&g, "harness/report/benchjson.c", "harness/report/compare.h");
    add_edge(&g, "harness/report/compare.c", "harness/report/report.h");
    add_edge(&g, "harness/report/compare.h", "harness/report/stats.h");
    add_edge(&g, "harness/report/stats.c", "harness/report/stats.h");
    char path[4096];
    cr_assert(find_cycle(&g, path, sizeof path), "the cycle was not found");
    cr_expect(strstr(path, "harness/report/report") && strstr(path, "harness/report/benchjson") &&
              strstr(path, "harness/report/compare"), "cycle reported as: %s", path);
    /* without compare.c's include of report.h there is none */
    g.n = 0;
    add_edge(&g, "harness/report/report.c", "harness/report/benchjson.h");
    add_edge(&g, "harness/report/benchjson.c", "harness/report/compare.h");
    add_edge(&g, "harness/report/compare.c", "harness/report/stats.h");
    cr_expect(!find_cycle(&g, path, sizeof path), "a cycle where there is none: %s", path);

    /* the report side reaching into the run side, mixers or OpenBLAS's wrapper */
    g.n = 0;
    add_edge(&g, "harness/report/store.c", "harness/suite.h");
    add_edge(&g, "harness/report/plot.c", "mixers/registry.h");
    add_edge(&g, "harness/report/stats.c", "core/gemm.h");
    add_edge(&g, "harness/report/stats.c", "core/xb.h");          /* allowed */
    add_edge(&g, "harness/sweep.c", "harness/report/report.h");   /* allowed: run → report */
    add_edge(&g, "core/model.c", "harness/report/results.h");
    char buf[4096];
    cr_expect_eq(layer_violations(&g, buf, sizeof buf), 4, "%s", buf);
    free(g.e);
}
