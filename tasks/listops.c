/* tasks/listops.c — ListOps (LRA; TASKS.md §1.1), shape CLS, 10 classes: the built-in
 * generator (default) and the loader of LRA's listops-1000/basic_{train,val,test}.tsv
 * (when the task has a data_dir).
 *
 * Vocabulary (fixed, V = 16): 0 PAD, 1..10 the digits "0".."9", 11 "[MIN", 12 "[MAX",
 * 13 "[MED", 14 "[SM", 15 "]". Label = value of the expression (0..9).
 *
 * Generator, as in google-research/long-range-arena lra_benchmarks/data/listops.py
 * (`generate_tree`, checked via the code search): at depth < max_depth draw r ∈ [0,1),
 * else r = 1; r > 0.25 → a digit leaf; otherwise n = randint(2, max_args) children are
 * generated in order, and only then the operator is drawn uniformly from MIN, MAX, MED, SM
 * (TASKS.md's pseudo-code draws it before the children; the code draws it after — we
 * follow the code; with independent draws the distribution is the same either way).
 * length = 2 + Σ child lengths = the token count. Whole trees are drawn until
 * min_len < length < max_len. MED = int(np.median) → mean of the middle two rounded
 * down; SM = sum mod 10. A draw is abandoned as soon as it grows past max_len − 1 tokens:
 * such a tree would be rejected anyway, so the accepted trees keep their distribution.
 * LRA keeps distinct trees only; here val ∪ test are distinct and train never repeats a
 * val/test tree (xb_data_generate's hash set); train may repeat itself (see report). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "core/task.h"
#include "core/xb.h"

enum { O_MIN, O_MAX, O_DEPTH, O_ARGS, O_TRAIN, O_VAL, O_TEST, O_N };

#define MAX_ARGS 32
#define LEAF_P 0.25              /* LRA VALUE_P: r > 0.25 makes a leaf */
#define MAX_DRAWS 2000000L       /* trees drawn for one example before giving up */

static const xb_opt opts[O_N] = {
    [O_MIN]   = { "min_len", -1, -1, 1e6, 1, "accept length > min_len (-1: L/4)" },
    [O_MAX]   = { "max_len", -1, -1, 1e6, 1, "accept length < max_len (-1: L); at most L+1" },
    [O_DEPTH] = { "max_depth", 0, 0, 32, 1, "maximum tree depth (0: 10, or 6 when L <= 128)" },
    [O_ARGS]  = { "max_args", 10, 2, MAX_ARGS, 1, "maximum arguments per operator" },
    [O_TRAIN] = { "train_examples", 20000, 0, 1e7, 1, "training examples (generator only)" },
    [O_VAL]   = { "val_examples", 500, 0, 1e6, 1, "validation examples (generator only)" },
    [O_TEST]  = { "test_examples", 1000, 1, 1e6, 1, "test examples (generator only)" },
};

enum { T_PAD = 0, T_DIGIT0 = 1, T_MIN = 11, T_MAX = 12, T_MED = 13, T_SM = 14, T_END = 15, T_V = 16 };

typedef struct win { int lo, hi, depth, args; } win;

/* The options with their automatic values filled in. */
static win resolve(const xb_task_cfg *c)
{
    win w;
    w.lo = c->opt[O_MIN] < 0 ? c->L / 4 : (int)c->opt[O_MIN];
    w.hi = c->opt[O_MAX] < 0 ? c->L : (int)c->opt[O_MAX];
    w.depth = c->opt[O_DEPTH] > 0 ? (int)c->opt[O_DEPTH] : (c->L <= 128 ? 6 : 10);
    w.args = (int)c->opt[O_ARGS];
    return w;
}

static int listops_vocab(const xb_task_cfg *c) { (void)c; return T_V; }
static int listops_classes(const xb_task_cfg *c) { (void)c; return 10; }

static void listops_key(const xb_task_cfg *c, char *buf, size_t n)
{
    win w = resolve(c);
    snprintf(buf, n, "listops:L=%d,min=%d,max=%d,depth=%d,args=%d,leaf=0.25", c->L, w.lo, w.hi,
             w.depth, w.args);
}

static int listops_check(const xb_task_cfg *c, char *err, size_t errn)
{
    if (c->data_dir) return XB_OK;      /* the files decide; the window is not used */
    win w = resolve(c);
    if (w.args < 2 || w.args > MAX_ARGS) {
        snprintf(err, errn, "listops: option 'max_args' = %d must be in 2..%d", w.args, MAX_ARGS);
        return XB_EINVAL;
    }
    if (w.hi > c->L + 1) {
        snprintf(err, errn, "listops: option 'max_len' = %d must be at most L + 1 = %d "
                 "(accepted lengths are < max_len and must fit in L)", w.hi, c->L + 1);
        return XB_EINVAL;
    }
    if (w.lo < 0 || w.lo + 1 >= w.hi) {
        snprintf(err, errn, "listops: option 'min_len' = %d leaves no length strictly between it "
                 "and max_len = %d", w.lo, w.hi);
        return XB_EINVAL;
    }
    /* Longest tree of this depth: M(max_depth) = 1, M(d) = 2 + max_args·M(d+1). Lengths are
     * 1 or ≥ 4, so the window must meet {1} ∪ [4, M(1)]. */
    double M = 1;
    for (int d = w.depth - 1; d >= 1 && M < 1e9; d--) M = 2 + w.args * M;
    double lo4 = w.lo + 1 > 4 ? w.lo + 1 : 4, hiM = w.hi - 1 < M ? w.hi - 1 : M;
    int ok = (w.lo < 1 && w.hi > 1) || (w.depth >= 2 && lo4 <= hiM);
    if (!ok) {
        snprintf(err, errn, "listops: no tree with max_depth = %d and max_args = %d has a length "
                 "strictly between min_len = %d and max_len = %d", w.depth, w.args, w.lo, w.hi);
        return XB_EINVAL;
    }
    return XB_OK;
}

/* ------------------------------------------------------------------ generator */

typedef struct gen { xb_rng *r; int32_t *x; int pos, cap, depth, args; } gen;

/* Value of operator op (0 MIN, 1 MAX, 2 MED, 3 SM) over n digit values (sorted in place). */
static int apply_op(int op, int *v, int n)
{
    for (int i = 1; i < n; i++)                      /* insertion sort: n <= 32 */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) { int t = v[j]; v[j] = v[j - 1]; v[j - 1] = t; }
    switch (op) {
    case 0: return v[0];
    case 1: return v[n - 1];
    case 2: return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    default: { int s = 0; for (int i = 0; i < n; i++) s += v[i]; return s % 10; }
    }
}

/* Write one (sub)tree at g->pos; its value, or -1 once it no longer fits in g->cap. */
static int gen_tree(gen *g, int depth)
{
    double r = depth < g->depth ? xb_rng_uniform(g->r) : 1.0;
    if (r > LEAF_P) {
        int v = (int)xb_rng_below(g->r, 10);
        if (g->pos >= g->cap) return -1;
        g->x[g->pos++] = T_DIGIT0 + v;
        return v;
    }
    int n = 2 + (int)xb_rng_below(g->r, (uint32_t)(g->args - 1)), vals[MAX_ARGS];
    if (g->pos >= g->cap) return -1;
    int at = g->pos++;                               /* operator slot, drawn after the children */
    for (int k = 0; k < n; k++)
        if ((vals[k] = gen_tree(g, depth + 1)) < 0) return -1;
    int op = (int)xb_rng_below(g->r, 4);
    if (g->pos >= g->cap) return -1;
    g->x[at] = T_MIN + op;
    g->x[g->pos++] = T_END;
    return apply_op(op, vals, n);
}

static int listops_example(const xb_task_cfg *c, xb_rng *r, int32_t *x, int32_t *y, int *len)
{
    win w = resolve(c);
    gen g = { .r = r, .x = x, .cap = w.hi - 1, .depth = w.depth, .args = w.args };
    for (long draw = 0; draw < MAX_DRAWS; draw++) {
        g.pos = 0;
        int v = gen_tree(&g, 1);
        if (v >= 0 && g.pos > w.lo) {
            memset(x + g.pos, 0, (size_t)(c->L - g.pos) * sizeof *x);   /* rejected draws left ink */
            y[0] = v;
            len[0] = g.pos;
            return XB_OK;
        }
    }
    return XB_EINVAL;
}

/* ------------------------------------------------------------------ LRA files */

/* Token id of one ListOps token, or -1. */
static int token_id(const char *s)
{
    static const char *const ops[] = { "[MIN", "[MAX", "[MED", "[SM", "]" };
    if (s[0] >= '0' && s[0] <= '9' && s[1] == '\0') return T_DIGIT0 + (s[0] - '0');
    for (int i = 0; i < 5; i++) if (strcmp(s, ops[i]) == 0) return T_MIN + i;
    return -1;
}

/* Strip a trailing "\n" and "\r"; 1 if the line had its "\n". */
static int chomp(char *s, ssize_t *n)
{
    int nl = *n > 0 && s[*n - 1] == '\n';
    if (nl) s[--*n] = '\0';
    if (*n > 0 && s[*n - 1] == '\r') s[--*n] = '\0';
    return nl;
}

/* Parse one data line into row i of d (tokens truncated to d->L). */
static int parse_line(const char *path, long ln, char *s, xb_data *d, int i, char *err, size_t errn)
{
    char *tab = strchr(s, '\t');
    if (!tab) {
        snprintf(err, errn, "%s:%ld: expected 'source<TAB>label', found no tab", path, ln);
        return XB_EFORMAT;
    }
    *tab = '\0';
    char *lab = tab + 1, *end;
    while (*lab == ' ') lab++;
    errno = 0;
    long v = strtol(lab, &end, 10);
    while (*end == ' ') end++;
    if (end == lab || *end != '\0' || errno || v < 0 || v > 9) {
        snprintf(err, errn, "%s:%ld: label '%.40s' is not a class in 0..9", path, ln, tab + 1);
        return XB_EFORMAT;
    }
    for (char *p = s; *p; p++) if (*p == '(' || *p == ')') *p = ' ';   /* parentheses are dropped */
    int32_t *x = d->x + (size_t)i * (size_t)d->L;
    int n = 0;
    for (char *save = NULL, *tok = strtok_r(s, " \t\v\f", &save); tok; tok = strtok_r(NULL, " \t\v\f", &save)) {
        int id = token_id(tok);
        if (id < 0) {
            snprintf(err, errn, "%s:%ld: unknown token '%.40s'", path, ln, tok);
            return XB_EFORMAT;
        }
        if (n < d->L) x[n] = id;
        n++;
    }
    if (n == 0) {
        snprintf(err, errn, "%s:%ld: empty expression", path, ln);
        return XB_EFORMAT;
    }
    d->len[i] = xb_min(n, d->L);
    d->y[i] = (int32_t)v;
    d->hash[i] = xb_data_hash(d, i);
    return XB_OK;
}

/* Read one LRA ListOps TSV: header `Source<TAB>Target`, then `expression<TAB>label` lines
 * (blank lines are skipped). Two passes: count, allocate, parse. */
static int read_tsv(const char *path, int L, xb_data *d, char *err, size_t errn)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errn, "%s: cannot open: %s", path, strerror(errno));
        return errno == ENOENT ? XB_ENOTFOUND : XB_EIO;
    }
    char *s = NULL;
    size_t cap = 0;
    ssize_t n;
    long ln = 0, rows = 0;
    int rc = XB_OK;
    while ((n = getline(&s, &cap, f)) >= 0) {
        ln++;
        if (!chomp(s, &n)) {
            snprintf(err, errn, "%s:%ld: last line has no newline (file truncated?)", path, ln);
            rc = XB_EFORMAT; goto done;
        }
        if (ln == 1) {
            if (strcmp(s, "Source\tTarget") != 0) {
                snprintf(err, errn, "%s:1: expected the header 'Source<TAB>Target'", path);
                rc = XB_EFORMAT; goto done;
            }
        } else if (n > 0) rows++;
    }
    if (ferror(f)) { snprintf(err, errn, "%s: read error", path); rc = XB_EIO; goto done; }
    if (ln == 0) { snprintf(err, errn, "%s: empty file (no header)", path); rc = XB_EFORMAT; goto done; }
    if (rows == 0) { snprintf(err, errn, "%s: no examples after the header", path); rc = XB_EFORMAT; goto done; }
    if (rows > 100000000L) { snprintf(err, errn, "%s: too many lines", path); rc = XB_EFORMAT; goto done; }
    if ((rc = xb_data_alloc(d, XB_SHAPE_CLS, (int)rows, L, T_V, 10)) != XB_OK) {
        snprintf(err, errn, "%s: out of memory for %ld examples", path, rows);
        goto done;
    }
    rewind(f);
    ln = 0;
    int i = 0;
    while ((n = getline(&s, &cap, f)) >= 0) {
        ln++;
        chomp(s, &n);
        if (ln == 1 || n == 0) continue;
        if (i >= d->n) { snprintf(err, errn, "%s: file changed while reading", path); rc = XB_EIO; goto done; }
        if ((rc = parse_line(path, ln, s, d, i, err, errn)) != XB_OK) goto done;
        i++;
    }
    if (i != d->n) { snprintf(err, errn, "%s: file changed while reading", path); rc = XB_EIO; }
done:
    if (rc != XB_OK) xb_data_release(d);
    free(s);
    fclose(f);
    return rc;
}

/* data_dir may be LRA's unpacked root (holding listops-1000/) or listops-1000/ itself. */
static int load_files(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                      char *err, size_t errn)
{
    char dir[4096], path[4200];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/listops-1000", c->data_dir);
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) snprintf(dir, sizeof dir, "%s", c->data_dir);
    static const char *const name[3] = { "basic_train.tsv", "basic_val.tsv", "basic_test.tsv" };
    xb_data *out[3] = { train, val, test };
    for (int k = 0; k < 3; k++) {
        snprintf(path, sizeof path, "%s/%s", dir, name[k]);
        int rc = read_tsv(path, c->L, out[k], err, errn);
        if (rc != XB_OK) {
            for (int j = 0; j < k; j++) xb_data_release(out[j]);
            return rc;
        }
        size_t dl = strlen(dir);           /* keep the tail of a long path: it names the data */
        snprintf(out[k]->source, sizeof out[k]->source, "files:%s%.140s", dl > 140 ? "..." : "",
                 dl > 140 ? dir + dl - 140 : dir);
    }
    return XB_OK;
}

extern const xb_task xb_task_listops;

static int listops_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test,
                        char *err, size_t errn)
{
    memset(train, 0, sizeof *train); memset(val, 0, sizeof *val); memset(test, 0, sizeof *test);
    if (c->data_dir) return load_files(c, train, val, test, err, errn);
    return xb_data_generate(&xb_task_listops, c, listops_example, (int)c->opt[O_TRAIN],
                            (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

const xb_task xb_task_listops = {
    .name = "listops",
    .desc = "ListOps: value (0-9) of a nested MIN/MAX/MED/SM prefix expression",
    .cite = "Nangia & Bowman 2018; Tay et al. 2021, Long Range Arena (google-research/long-range-arena)",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = listops_vocab,
    .n_classes = listops_classes,
    .check = listops_check,
    .key = listops_key,
    .load = listops_load,
};
