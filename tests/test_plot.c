/* tests/test_plot.c — harness/report/plot.c on hand-made results folders: labels from cells.jsonl
 * that try to break out of a gnuplot string (a quote, a double quote, a line break, a
 * backquote, an @macro, a path — in a record's configuration, since a mixer or task name
 * outside [A-Za-z0-9_.=-] is refused when the records are read) run nothing and reach the
 * scripts only quoted, and the file names made from them stay inside plots/ and use
 * [A-Za-z0-9_.=-] only; variant labels ("mqar kv_pairs=8 dim=32 lr=0.001", "local
 * window=64") give distinct file names and literal titles; one length gives bars,
 * several give lines; latency ticks read in µs/ms and lengths in 1k/16k; a mixer keeps its
 * style across figures and 32 mixers get 32 distinct colour-and-marker pairs. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "harness/report/plot.h"
#include "harness/report/store.h"
#include "tests/tmpdir.h"

static char dir[64];
static int nrec;

/* Attach "config" (JSON text, may be NULL): the labels are made of its paths that differ
 * between records (harness/report/cellkey.c). */
static void add_config(json_object *o, const char *config)
{
    if (!config) return;
    json_object *c = json_tokener_parse(config);
    cr_assert_not_null(c, "bad config %s", config);
    json_object_object_add(o, "config", c);
}

/* A JSON string literal of s (malloc'd). */
static char *jstr(const char *s)
{
    json_object *v = json_object_new_string(s);
    char *t = strdup(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
    json_object_put(v);
    return t;
}

/* One training record (test_acc < 0: a failed cell), with a configuration. */
static void train_rec_cfg(FILE *f, const char *task, const char *mixer, int L, int seed, double acc,
                          const char *config)
{
    json_object *o = json_object_new_object();
    char h[32];
    snprintf(h, sizeof h, "h%d", nrec++);
    json_object_object_add(o, "kind", json_object_new_string("train"));
    json_object_object_add(o, "task", json_object_new_string(task));
    json_object_object_add(o, "mixer", json_object_new_string(mixer));
    json_object_object_add(o, "L", json_object_new_int(L));
    json_object_object_add(o, "seed", json_object_new_int(seed));
    json_object_object_add(o, "threads", json_object_new_int(1));
    json_object_object_add(o, "status", json_object_new_string(acc >= 0 ? "ok" : "timeout"));
    json_object_object_add(o, "config_hash", json_object_new_string(h));
    json_object_object_add(o, "test_acc", acc >= 0 ? json_object_new_double(acc) : NULL);
    json_object_object_add(o, "chance", json_object_new_double(0.25));
    json_object_object_add(o, "peak_rss_kb", json_object_new_int(4096));
    json_object *curve = json_object_new_array();
    for (int s = 1; s <= 3; s++) {
        json_object *pt = json_object_new_array();
        json_object_array_add(pt, json_object_new_int(s));
        json_object_array_add(pt, json_object_new_double(2.0 / s));
        json_object_array_add(curve, pt);
    }
    json_object_object_add(o, "loss_curve", curve);
    json_object *lat = json_object_new_object(), *fwd = json_object_new_object();
    json_object_object_add(fwd, "median", json_object_new_double(1e-4 * L / 64));
    json_object_object_add(lat, "model_fwd", fwd);
    json_object_object_add(o, "latency", lat);
    add_config(o, config);
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void train_rec(FILE *f, const char *task, const char *mixer, int L, int seed, double acc)
{
    train_rec_cfg(f, task, mixer, L, seed, acc, NULL);
}

static void latency_rec_cfg(FILE *f, const char *mixer, int L, double t, const char *config)
{
    json_object *o = json_object_new_object();
    char h[32];
    snprintf(h, sizeof h, "h%d", nrec++);
    json_object_object_add(o, "kind", json_object_new_string("latency"));
    json_object_object_add(o, "task", NULL);
    json_object_object_add(o, "mixer", json_object_new_string(mixer));
    json_object_object_add(o, "L", json_object_new_int(L));
    json_object_object_add(o, "seed", json_object_new_int(1));
    json_object_object_add(o, "threads", json_object_new_int(1));
    json_object_object_add(o, "status", json_object_new_string("ok"));
    json_object_object_add(o, "config_hash", json_object_new_string(h));
    json_object_object_add(o, "flops_model", json_object_new_double(1e6 * L));
    json_object *lat = json_object_new_object(), *fwd = json_object_new_object(),
                *mfwd = json_object_new_object();
    json_object_object_add(fwd, "median", json_object_new_double(t));
    json_object_object_add(mfwd, "median", json_object_new_double(t / 2));
    json_object_object_add(lat, "model_fwd", fwd);
    json_object_object_add(lat, "mixer_fwd", mfwd);
    json_object_object_add(o, "latency", lat);
    add_config(o, config);
    fprintf(f, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
    json_object_put(o);
}

static void latency_rec(FILE *f, const char *mixer, int L, double t)
{
    latency_rec_cfg(f, mixer, L, t, NULL);
}

static FILE *open_cells(void)
{
    tmpdir_make(dir, sizeof dir, "xb-plot");
    nrec = 0;
    char *p = xb_path_join(dir, "cells.jsonl");
    FILE *f = fopen(p, "w");
    free(p);
    cr_assert_not_null(f);
    return f;
}

static int plot_rc(FILE *cells)
{
    fclose(cells);
    FILE *devnull = fopen("/dev/null", "w");
    int rc = xb_plot_dir(dir, devnull);
    fclose(devnull);
    return rc;
}

static void plot(FILE *cells) { cr_assert_eq(plot_rc(cells), 0); }

/* A malloc'd copy of dir/plots/name, NULL if unreadable. */
static char *script(const char *name)
{
    char rel[512];
    snprintf(rel, sizeof rel, "plots/%s", name);
    char *s = tmpdir_read(dir, rel);
    return s ? strdup(s) : NULL;
}

/* Whether needle occurs in s anywhere outside a gnuplot single-quoted string ('' inside one
 * is a quote, not its end). */
static int outside_quotes(const char *s, const char *needle)
{
    size_t nl = strlen(needle);
    int in = 0;
    for (const char *p = s; *p; p++) {
        if (in) {
            if (*p == '\'') {
                if (p[1] == '\'') p++;
                else in = 0;
            }
            continue;
        }
        if (*p == '\'') { in = 1; continue; }
        if (strncmp(p, needle, nl) == 0) return 1;
    }
    return 0;
}

/* Every file of dir/plots: name charset, and no hostile payload outside quotes in scripts. */
static int check_plots(const char *const *payloads, int np)
{
    char *pd = xb_path_join(dir, "plots");
    DIR *d = opendir(pd);
    cr_assert_not_null(d);
    struct dirent *e;
    int scripts = 0;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        for (const char *c = e->d_name; *c; c++)
            cr_assert(strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.=-", *c),
                      "unsafe file name '%s'", e->d_name);
        size_t n = strlen(e->d_name);
        if (n < 3 || strcmp(e->d_name + n - 3, ".gp") != 0) continue;
        scripts++;
        char *s = script(e->d_name);
        cr_assert_not_null(s);
        for (int i = 0; i < np; i++)
            cr_assert(!outside_quotes(s, payloads[i]), "'%s' outside quotes in %s:\n%s", payloads[i],
                      e->d_name, s);
        free(s);
    }
    closedir(d);
    free(pd);
    return scripts;
}

Test(plot, hostile_labels_run_nothing_and_stay_quoted)
{
    FILE *f = open_cells();
    char pwned[128], m1[256], m2[256], m3[256], m4[256], t1[256];
    snprintf(pwned, sizeof pwned, "%s-pwned", dir);     /* /tmp/xb-plot-XXXXXX-pwned */
    /* out of a single-quoted title; out of a double-quoted one; a line break starting a
     * command of its own; a backquote command and a macro; a path and a quote in a task */
    snprintf(m1, sizeof m1, "x'; system('touch %s'); print '", pwned);
    snprintf(m2, sizeof m2, "y\"; system(\"touch %s\"); \"", pwned);
    snprintf(m3, sizeof m3, "z\nsystem('touch %s')\n#\\", pwned);
    snprintf(m4, sizeof m4, "`touch %s` @m {a}_b^c&d~", pwned);
    snprintf(t1, sizeof t1, "../../t'; system('touch %s'); '", pwned);
    const char *mixers[4] = { m1, m2, m3, m4 };
    char *tq = jstr(t1);
    for (int j = 0; j < 4; j++) {
        /* the payloads as labels: a configuration value that differs between records makes
         * "softmax cfg.note=<payload>" and "mqar options.note=<payload> kv_pairs=~" */
        char *mq = jstr(mixers[j]), lat[1024], a[1024], b[1024];
        snprintf(lat, sizeof lat, "{\"mixer\":{\"name\":\"softmax\",\"cfg\":{\"note\":%s}}}", mq);
        snprintf(a, sizeof a, "{\"task\":{\"name\":\"mqar\",\"options\":{\"note\":%s}},"
                 "\"mixer\":{\"name\":\"softmax\",\"cfg\":{\"note\":%s}}}", tq, mq);
        snprintf(b, sizeof b, "{\"task\":{\"name\":\"mqar\",\"options\":{\"kv_pairs\":8}},"
                 "\"mixer\":{\"name\":\"softmax\",\"cfg\":{\"note\":%s}}}", mq);
        latency_rec_cfg(f, "softmax", 256, 1e-4 * (j + 1), lat);
        latency_rec_cfg(f, "softmax", 1024, 1e-3 * (j + 1), lat);
        for (int seed = 1; seed <= 2; seed++) {
            train_rec_cfg(f, "mqar", "softmax", 64, seed, 0.5 + 0.1 * j, a);
            train_rec_cfg(f, "mqar", "softmax", 64, seed, 0.4, b);
            train_rec_cfg(f, "mqar", "softmax", 128, seed, j == 1 ? -1 : 0.3, b);
        }
        /* the payloads as names: refused when the records are read */
        latency_rec(f, mixers[j], 256, 1e-4);
        train_rec(f, t1, mixers[j], 64, 1, 0.5);
        free(mq);
    }
    free(tq);
    int rc = plot_rc(f);
    int ran = access(pwned, F_OK) == 0;
    unlink(pwned);
    cr_assert(!ran, "a name from cells.jsonl ran a command: %s was created", pwned);
    cr_assert_eq(rc, 0);
    json_object *recs = NULL;
    int bad = 0;
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(xb_store_load_ex(dir, &recs, null, &bad), 0);
    fclose(null);
    cr_expect_eq(bad, 8, "the records named by the payloads are refused");
    json_object_put(recs);

    /* (file names in the header comment hold "system__touch": the sanitized letters) */
    const char *payloads[] = { "system(", "print '", "`", "@m" };
    int scripts = check_plots(payloads, 4);
    cr_assert_geq(scripts, 8);
    /* nothing was written beside plots/ */
    DIR *top = opendir(dir);
    struct dirent *e;
    while ((e = readdir(top)))
        cr_assert(strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
                  strcmp(e->d_name, "cells.jsonl") == 0 || strcmp(e->d_name, "plots") == 0,
                  "unexpected '%s' in %s", e->d_name, dir);
    closedir(top);

    /* the labels are shown literally, as quoted strings */
    char *s = script("latency.gp");
    cr_assert_not_null(s);
    char want[512];
    snprintf(want, sizeof want, "title 'softmax cfg.note=x''; system(''touch %s''); print '' (k = ", pwned);
    cr_assert(strstr(s, want) != NULL, "%s\n--- in ---\n%s", want, s);
    snprintf(want, sizeof want, "'softmax cfg.note=y\"; system(\"touch %s\"); \"", pwned);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    snprintf(want, sizeof want, "'softmax cfg.note=z system(''touch %s'') #\\", pwned);   /* line breaks: spaces */
    cr_assert(strstr(s, want) != NULL, "%s", s);
    snprintf(want, sizeof want, "'softmax cfg.note=`touch %s` @m {a}_b^c&d~", pwned);
    cr_assert(strstr(s, want) != NULL, "%s", s);
    free(s);
    /* the task's figure: a sanitized name under plots/ (it holds the random part of dir:
     * found by its prefix), the title as given */
    char *pd = xb_path_join(dir, "plots");
    DIR *d = opendir(pd);
    int found = 0;
    while ((e = readdir(d)))
        if (strncmp(e->d_name, "accuracy_mqar_options.note=.._.._t__", 36) == 0 && strstr(e->d_name, ".gp")) {
            char *a = script(e->d_name);
            snprintf(want, sizeof want, "set title 'mqar options.note=../../t''; system(''touch %s''); '' kv_pairs=~: "
                     "test accuracy", pwned);
            cr_assert(strstr(a, want) != NULL, "%s", a);
            free(a);
            found++;
        }
    closedir(d);
    free(pd);
    cr_assert_eq(found, 1);
    tmpdir_remove(dir);
}

Test(plot, variant_labels_get_safe_distinct_files_and_literal_titles)
{
    FILE *f = open_cells();
    /* three mqar variants, labelled by what differs in their configurations, and a task
     * whose name is what the first variant's label sanitizes to */
    static const struct { const char *task; int kv, dim; double lr; } v[4] = {
        {"mqar", 8, 32, 0.001}, {"mqar", 16, 32, 0.001}, {"mqar_kv_pairs=8_dim=32_lr=0.001", 0, 0, 0},
        {"mqar", 8, 64, 0.003}};
    for (int t = 0; t < 4; t++)
        for (int seed = 1; seed <= 2; seed++)
            for (int k = 0; k < 3; k++) {   /* softmax, local with window 64, local with 128 */
                char c[512], tc[256];
                if (v[t].kv)
                    snprintf(tc, sizeof tc, "\"task\":{\"name\":\"mqar\",\"options\":{\"kv_pairs\":%d}},"
                             "\"model\":{\"dim\":%d},\"train\":{\"lr\":%g},", v[t].kv, v[t].dim, v[t].lr);
                else
                    snprintf(tc, sizeof tc, "\"task\":{\"name\":\"%s\"},", v[t].task);
                snprintf(c, sizeof c, "{%s\"mixer\":{\"name\":\"%s\",\"cfg\":{\"window\":%d}}}", tc,
                         k ? "local" : "softmax", k ? 64 * k : 0);
                train_rec_cfg(f, v[t].task, k ? "local" : "softmax", 64, seed, k ? 0.5 : 0.9 - 0.1 * t, c);
            }
    plot(f);
    check_plots(NULL, 0);
    char *a = script("accuracy_mqar_kv_pairs=8_dim=32_lr=0.001.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "set title 'mqar kv_pairs=8 dim=32 lr=0.001: test accuracy at L = 64") != NULL, "%s", a);
    cr_assert(strstr(a, "title 'local window=64'") != NULL, "%s", a);   /* mixer variants too */
    cr_assert(strstr(a, "title 'local window=128'") != NULL, "%s", a);
    free(a);
    a = script("accuracy_mqar_kv_pairs=16_dim=32_lr=0.001.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "set title 'mqar kv_pairs=16 dim=32 lr=0.001: test accuracy") != NULL);
    free(a);
    /* "mqar_kv_pairs=8_dim=32_lr=0.001" maps to the same name as "mqar kv_pairs=8 dim=32
     * lr=0.001": it gets its own */
    a = script("accuracy_mqar_kv_pairs=8_dim=32_lr=0.001-2.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "set title 'mqar_kv_pairs=8_dim=32_lr=0.001: test accuracy") != NULL, "%s", a);
    free(a);
    a = script("accuracy_mqar_kv_pairs=8_dim=64_lr=0.003.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "set title 'mqar kv_pairs=8 dim=64 lr=0.003: test accuracy") != NULL);
    free(a);
    cr_assert_not_null((a = script("pareto_mqar_kv_pairs=8_dim=64_lr=0.003.gp")));
    free(a);
    cr_assert_not_null((a = script("loss_mqar_kv_pairs=8_dim=64_lr=0.003_L64.gp")));
    free(a);
    cr_assert_not_null((a = script("loss_mqar_kv_pairs=8_dim=32_lr=0.001_L64-2.gp")));
    free(a);
    /* the summary: one group per task variant, labelled literally */
    a = script("accuracy.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "'mqar kv_pairs=16 dim=32 lr=0.001' 1") != NULL, "%s", a);
    cr_assert(strstr(a, "'mqar kv_pairs=8 dim=64 lr=0.003' 3") != NULL, "%s", a);
    free(a);
    tmpdir_remove(dir);
}

Test(plot, one_length_bars_several_lengths_lines)
{
    FILE *f = open_cells();
    for (int seed = 1; seed <= 2; seed++) {
        train_rec(f, "one", "softmax", 64, seed, 0.9);
        train_rec(f, "one", "linear", 64, seed, seed == 1 ? 0.6 : -1);
        train_rec(f, "one", "gla", 64, seed, -1);
        for (int L = 256; L <= 4096; L *= 4) {
            train_rec(f, "many", "softmax", L, seed, 0.8);
            train_rec(f, "many", "linear", L, seed, 0.5);
        }
    }
    plot(f);
    char *a = script("accuracy_one.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "with boxes") != NULL, "%s", a);
    cr_assert(strstr(a, "yerrorlines") == NULL);
    cr_assert(strstr(a, "'softmax' ") != NULL);              /* the bars are named */
    cr_assert(strstr(a, "set label 10 'timeout'") != NULL, "%s", a);   /* gla: all seeds failed */
    cr_assert(strstr(a, "chance") != NULL);
    free(a);
    a = script("accuracy_many.gp");
    cr_assert_not_null(a);
    cr_assert(strstr(a, "with yerrorlines") != NULL, "%s", a);
    cr_assert(strstr(a, "set xtics ('256' 256, '1k' 1024, '4k' 4096)") != NULL, "%s", a);
    free(a);
    if (access("/usr/bin/gnuplot", X_OK) == 0) {
        struct stat st;
        char *p = xb_path_join(dir, "plots/accuracy_one.png");
        cr_assert_eq(stat(p, &st), 0);
        cr_assert_gt(st.st_size, 0);
        free(p);
    }
    tmpdir_remove(dir);
}

Test(plot, readable_latency_ticks_and_pdf)
{
    FILE *f = open_cells();
    for (int L = 256; L <= 16384; L *= 4) {
        latency_rec(f, "softmax", L, 1e-5 * (L / 256.0) * (L / 256.0));
        latency_rec(f, "linear", L, 2e-5 * (L / 256.0));
    }
    plot(f);
    char *s = script("latency.gp");
    cr_assert_not_null(s);
    cr_assert(strstr(s, "set logscale xy") != NULL);
    cr_assert(strstr(s, "set xtics ('256' 256, '1k' 1024, '4k' 4096, '16k' 16384)") != NULL, "%s", s);
    cr_assert(strstr(s, "'10 µs' 1e-05") != NULL, "%s", s);
    cr_assert(strstr(s, "'100 µs' 0.0001") != NULL);
    cr_assert(strstr(s, "'1 ms' 0.001") != NULL);
    cr_assert(strstr(s, "'10 ms' 0.01") != NULL);
    cr_assert(strstr(s, "'1e-05") == NULL && strstr(s, "'0.001'") == NULL);
    cr_assert(strstr(s, "pdfcairo") != NULL && strstr(s, "out.'.pdf'") != NULL);
    free(s);
    s = script("flops.gp");
    cr_assert(strstr(s, "'1G' 1e+09") != NULL, "%s", s);
    free(s);
    if (access("/usr/bin/gnuplot", X_OK) == 0 && system("gnuplot -e 'set terminal pdfcairo' 2>/dev/null") == 0) {
        struct stat st;
        char *p = xb_path_join(dir, "plots/latency.pdf");
        cr_assert_eq(stat(p, &st), 0, "no %s", p);
        cr_assert_gt(st.st_size, 1000);
        free(p);
    }
    tmpdir_remove(dir);
}

/* The linestyle number a script gives mixer (its "set style line K ... # 'mixer'" line). */
static int style_in(const char *s, const char *mixer)
{
    char tag[128];
    snprintf(tag, sizeof tag, "# '%s' ", mixer);
    for (const char *p = s; (p = strstr(p, "set style line ")); p++) {
        const char *eol = strchr(p, '\n');
        const char *t = strstr(p, tag);
        if (t && (!eol || t < eol)) return atoi(p + strlen("set style line "));
    }
    return -1;
}

Test(plot, a_mixer_keeps_its_style_and_32_styles_differ)
{
    FILE *f = open_cells();
    char name[32];
    for (int j = 0; j < 32; j++) {
        snprintf(name, sizeof name, "m%02d", j);
        latency_rec(f, name, 256, 1e-4 * (j + 1));
        latency_rec(f, name, 512, 4e-4 * (j + 1));
    }
    /* the task has only m20 and m05, in that order: they keep the run's styles 21 and 6 */
    for (int seed = 1; seed <= 2; seed++) {
        train_rec(f, "t", "m20", 64, seed, 0.7);
        train_rec(f, "t", "m05", 64, seed, 0.6);
    }
    plot(f);
    const char *files[4] = { "latency.gp", "accuracy_t.gp", "loss_t_L64.gp", "pareto_t.gp" };
    for (int i = 0; i < 4; i++) {
        char *s = script(files[i]);
        cr_assert_not_null(s, "%s", files[i]);
        cr_assert_eq(style_in(s, "m20"), 21, "%s", files[i]);
        cr_assert_eq(style_in(s, "m05"), 6, "%s", files[i]);
        cr_assert(strstr(s, "ls 21 ") != NULL, "%s:\n%s", files[i], s);
        cr_assert(strstr(s, "ls 6 ") != NULL, "%s", files[i]);
        free(s);
    }
    /* 32 distinct (colour, marker) pairs and 32 distinct (colour, dash) pairs */
    char *s = script("latency.gp");
    char pair[32][64], dash[32][64];
    int k = 0;
    for (const char *p = s; (p = strstr(p, "set style line ")) && k < 32; p++) {
        char col[16];
        int n, dt, pt;
        cr_assert_eq(sscanf(p, "set style line %d lc rgb '%15[^']' lw 2 dt %d pt %d", &n, col, &dt, &pt), 4);
        snprintf(pair[k], sizeof pair[k], "%s %d", col, pt);
        snprintf(dash[k], sizeof dash[k], "%s %d", col, dt);
        k++;
    }
    cr_assert_eq(k, 32);
    for (int a = 0; a < 32; a++)
        for (int b = a + 1; b < 32; b++) {
            cr_assert_str_neq(pair[a], pair[b], "styles %d and %d", a + 1, b + 1);
            cr_assert_str_neq(dash[a], dash[b]);
        }
    free(s);
    tmpdir_remove(dir);
}
