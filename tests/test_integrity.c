/* tests/test_integrity.c — a run that nobody watches must not lose or duplicate a result:
 *   - a record cut short at the end of cells.jsonl is cut off before the next append (never
 *     glued to it), and readers keep the whole records around a torn one;
 *   - a full disk or a file-size limit (RLIMIT_FSIZE, in a forked child) stops the run with
 *     the file's name and the reason, leaving only whole lines;
 *   - JSON files hold no NaN or Infinity (checked with a strict RFC 8259 reader written here,
 *     since json-c's own "strict" tokener accepts both);
 *   - one writer per results folder (flock on DIR/.lock): a second run is refused with exit 2.
 * Only tiny suites whose cells are all skipped (nothing forks a cell) or that sleep. */
#include <criterion/criterion.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/xb.h"
#include "harness/report/store.h"
#include "harness/suite.h"
#include "harness/sweep.h"
#include "tests/tmpdir.h"
#include "tests/xbrun.h"

/* ---- a strict JSON reader (RFC 8259 grammar; no NaN, no Infinity, no single quotes) ---- */

typedef struct jr { const char *p; } jr;

static void j_ws(jr *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r') j->p++;
}

static int j_lit(jr *j, const char *w)
{
    size_t n = strlen(w);
    if (strncmp(j->p, w, n) != 0) return 0;
    j->p += n;
    return 1;
}

static int j_string(jr *j)
{
    if (*j->p != '"') return 0;
    j->p++;
    while (*j->p != '"') {
        unsigned char c = (unsigned char)*j->p;
        if (c == 0 || c < 0x20) return 0;
        if (c == '\\') {
            j->p++;
            if (*j->p && strchr("\"\\/bfnrt", *j->p)) {
                j->p++;
            } else if (*j->p == 'u') {
                for (int i = 1; i <= 4; i++)
                    if (!isxdigit((unsigned char)j->p[i])) return 0;
                j->p += 5;
            } else {
                return 0;
            }
        } else {
            j->p++;
        }
    }
    j->p++;
    return 1;
}

static int j_number(jr *j)
{
    const char *p = j->p;
    if (*p == '-') p++;
    if (*p == '0') p++;
    else if (*p >= '1' && *p <= '9') while (isdigit((unsigned char)*p)) p++;
    else return 0;
    if (*p == '.') {
        p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-') p++;
        if (!isdigit((unsigned char)*p)) return 0;
        while (isdigit((unsigned char)*p)) p++;
    }
    j->p = p;
    return 1;
}

static int j_value(jr *j, int depth)
{
    if (depth > 64) return 0;
    j_ws(j);
    switch (*j->p) {
    case '{':
        j->p++;
        j_ws(j);
        if (*j->p == '}') { j->p++; return 1; }
        for (;;) {
            j_ws(j);
            if (!j_string(j)) return 0;
            j_ws(j);
            if (*j->p++ != ':') return 0;
            if (!j_value(j, depth + 1)) return 0;
            j_ws(j);
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == '}') { j->p++; return 1; }
            return 0;
        }
    case '[':
        j->p++;
        j_ws(j);
        if (*j->p == ']') { j->p++; return 1; }
        for (;;) {
            if (!j_value(j, depth + 1)) return 0;
            j_ws(j);
            if (*j->p == ',') { j->p++; continue; }
            if (*j->p == ']') { j->p++; return 1; }
            return 0;
        }
    case '"': return j_string(j);
    case 't': return j_lit(j, "true");
    case 'f': return j_lit(j, "false");
    case 'n': return j_lit(j, "null");
    default: return j_number(j);
    }
}

/* 1 when s is exactly one JSON text (white space around it aside). */
static int strict_json(const char *s)
{
    jr j = { s };
    if (!j_value(&j, 0)) return 0;
    j_ws(&j);
    return *j.p == 0;
}

Test(integrity, strict_reader_is_strict)
{
    cr_assert(strict_json("{\"a\": [1, -0.5e+3, null, true, \"x\\u00e9\"], \"b\": {}}\n"));
    cr_assert(!strict_json("{\"a\": NaN}"));
    cr_assert(!strict_json("{\"a\": Infinity}"));
    cr_assert(!strict_json("[-Infinity]"));
    cr_assert(!strict_json("{\"a\": 1,}"));
    cr_assert(!strict_json("{\"a\": 1}{"));
    cr_assert(!strict_json("{'a': 1}"));
}

/* ---- helpers ------------------------------------------------------------------------- */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = 0;
    fclose(f);
    if (len) *len = got;
    return s;
}

/* Every line of dir/cells.jsonl is one whole strict JSON object and the file ends with a
 * newline; returns the number of lines (fails the test otherwise). */
static int whole_lines(const char *dir)
{
    char *p = xb_path_join(dir, "cells.jsonl");
    size_t n = 0;
    char *s = slurp(p, &n);
    cr_assert_not_null(s, "cannot read %s", p);
    cr_assert(n == 0 || s[n - 1] == '\n', "%s does not end with a newline: ...%s", p,
              n > 60 ? s + n - 60 : s);
    int lines = 0;
    for (char *line = s, *nl; *line; line = nl + 1) {
        nl = strchr(line, '\n');
        *nl = 0;
        lines++;
        cr_assert(strict_json(line), "%s:%d is not one whole JSON object: %.200s", p, lines, line);
    }
    free(s);
    free(p);
    return lines;
}

static json_object *rec(const char *hash, const char *status)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "v", json_object_new_int(1));
    json_object_object_add(r, "config_hash", json_object_new_string(hash));
    json_object_object_add(r, "status", json_object_new_string(status));
    json_object *lat = json_object_new_object();
    json_object_object_add(lat, "median", json_object_new_double(1.5e-3));
    json_object_object_add(r, "latency", lat);
    json_object_object_add(r, "pad", json_object_new_string("0123456789abcdef0123456789abcdef"));
    return r;
}

static const char *line_of(const char *hash)
{
    static char buf[512];
    json_object *r = rec(hash, "ok");
    snprintf(buf, sizeof buf, "%s\n", json_object_to_json_string_ext(r, JSON_C_TO_STRING_PLAIN));
    json_object_put(r);
    return buf;
}

static char *file_text(FILE *f)
{
    static char buf[8192];
    fflush(f);
    rewind(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    return buf;
}

/* ---- a torn last line ---------------------------------------------------------------- */

Test(integrity, torn_last_line_is_cut_before_the_next_append)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    char text[2048];
    char a[512];
    snprintf(a, sizeof a, "%s", line_of("a"));
    const char *b = line_of("b");
    /* a whole record, then the first 40 bytes of the next one (a crash while writing it) */
    snprintf(text, sizeof text, "%s%.40s", a, b);
    tmpdir_write(dir, "cells.jsonl", text);

    xb_store st;
    FILE *warn = tmpfile();
    cr_assert_eq(xb_store_open_ex(&st, dir, warn), 0);
    json_object *c = rec("c", "ok");
    cr_assert_eq(xb_store_append(&st, c), 0);
    json_object_put(c);
    xb_store_close(&st);

    cr_assert_eq(whole_lines(dir), 2, "the torn line is gone, the new record has a line of its own");
    json_object *all = NULL;
    int bad = -1;
    cr_assert_eq(xb_store_load_ex(dir, &all, NULL, &bad), 0);
    cr_assert_eq(bad, 0);
    cr_assert_eq(json_object_array_length(all), 2);
    cr_assert_str_eq(xb_jstr(json_object_array_get_idx(all, 0), "config_hash", ""), "a");
    cr_assert_str_eq(xb_jstr(json_object_array_get_idx(all, 1), "config_hash", ""), "c");
    json_object_put(all);
    const char *w = file_text(warn);
    cr_assert(strstr(w, "cells.jsonl") && strstr(w, "cut short"), "warning was: %s", w);
    fclose(warn);
    tmpdir_remove(dir);
}

Test(integrity, whole_last_record_without_newline_is_kept)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    char text[2048];
    char a[512];
    snprintf(a, sizeof a, "%s", line_of("a"));
    const char *b = line_of("b");
    snprintf(text, sizeof text, "%s%.*s", a, (int)strlen(b) - 1, b);   /* b without its '\n' */
    tmpdir_write(dir, "cells.jsonl", text);
    xb_store st;
    FILE *warn = tmpfile();
    cr_assert_eq(xb_store_open_ex(&st, dir, warn), 0);
    json_object *c = rec("c", "ok");
    cr_assert_eq(xb_store_append(&st, c), 0);
    json_object_put(c);
    xb_store_close(&st);
    cr_assert_eq(whole_lines(dir), 3);
    cr_assert(strstr(file_text(warn), "no newline"), "warning was: %s", file_text(warn));
    fclose(warn);
    tmpdir_remove(dir);
}

/* A file written before the fix: a torn record with the next one glued to it, and a torn
 * line followed by a whole one. Readers keep every whole record. */
Test(integrity, reader_keeps_the_record_after_a_torn_one)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    char text[4096] = "", b[512], d[512];
    strcat(text, line_of("a"));
    snprintf(b, sizeof b, "%s", line_of("b"));
    snprintf(d, sizeof d, "%s", line_of("d"));
    /* line 2: b cut inside a string value, then c whole */
    int cut = (int)(strstr(b, "0123") - b) + 5;
    snprintf(text + strlen(text), sizeof text - strlen(text), "%.*s%s", cut, b, line_of("c"));
    /* line 3: 30 bytes of d, alone; line 4: e */
    snprintf(text + strlen(text), sizeof text - strlen(text), "%.30s\n%s", d, line_of("e"));
    tmpdir_write(dir, "cells.jsonl", text);
    json_object *all = NULL;
    int bad = -1;
    FILE *warn = tmpfile();
    cr_assert_eq(xb_store_load_ex(dir, &all, warn, &bad), 0);
    cr_assert_eq(bad, 2, "two torn pieces");
    cr_assert_eq(json_object_array_length(all), 3, "a, c and e are whole");
    const char *want[] = { "a", "c", "e" };
    for (int i = 0; i < 3; i++)
        cr_assert_str_eq(xb_jstr(json_object_array_get_idx(all, (size_t)i), "config_hash", ""), want[i]);
    const char *w = file_text(warn);
    cr_assert(strstr(w, "cells.jsonl:2") && strstr(w, "cells.jsonl:3"), "warnings were: %s", w);
    fclose(warn);
    json_object_put(all);
    tmpdir_remove(dir);
}

/* ---- a file-size limit while appending (forked child under RLIMIT_FSIZE) --------------- */

Test(integrity, store_append_past_file_size_limit_leaves_whole_lines)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    size_t one = strlen(line_of("a"));
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* room for two and a half records */
        struct rlimit rl = { (rlim_t)(2 * one + one / 2), (rlim_t)(2 * one + one / 2) };
        signal(SIGXFSZ, SIG_IGN);     /* as xb_sweep_run does */
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(10);
        xb_store st;
        if (xb_store_open_ex(&st, dir, NULL) != 0) _exit(11);
        int ok = 0, rc = 0;
        for (int i = 0; i < 5 && rc == 0; i++) {
            json_object *r = rec(i == 0 ? "a" : "b", "ok");
            rc = xb_store_append(&st, r);
            json_object_put(r);
            if (rc == 0) ok++;
        }
        if (rc != XB_EIO) _exit(12);
        if (st.err != EFBIG) _exit(13);
        if (ok != 2) _exit(14);
        /* the store still works for what fits (nothing of the failed line is left) */
        xb_store_close(&st);
        _exit(0);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the child died by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    cr_assert_eq(WEXITSTATUS(status), 0, "child check %d failed", WEXITSTATUS(status));
    cr_assert_eq(whole_lines(dir), 2, "two whole records, nothing of the third");
    tmpdir_remove(dir);
}

/* Eight cells that never fork (linformer and fnet have no causal form): fast sweeps. */
static const char *SKIPFILL =
    "name: skipfill\nmodel: {dim: 16, layers: 1, heads: 2}\n"
    "latency: {lengths: [16, 32, 64, 128], mode: causal}\n"
    "mixers: [linformer, fnet]\ntasks: []\n";

static void load_skipfill(xb_suite *s)
{
    cr_assert_eq(xb_suite_load_string(SKIPFILL, "skipfill.yaml", s, stderr), 0);
}

static int sweep_into(const xb_suite *s, const char *dir, int resume, FILE *err)
{
    xb_sweep_opts o = { .out_dir = dir, .resume = resume, .quiet = 1, .no_plots = 1, .err = err };
    return xb_sweep_run(s, &o);
}

static size_t file_size(const char *dir, const char *name)
{
    char *p = xb_path_join(dir, name);
    struct stat sb;
    cr_assert_eq(stat(p, &sb), 0, "no %s", p);
    free(p);
    return (size_t)sb.st_size;
}

Test(integrity, sweep_stops_at_file_size_limit_with_whole_lines, .timeout = 60)
{
    xb_suite s;
    load_skipfill(&s);
    char root[64], a[128], b[128], errp[160];
    tmpdir_make(root, sizeof root, "xb-integrity");
    snprintf(a, sizeof a, "%s/a", root);
    snprintf(b, sizeof b, "%s/b", root);
    snprintf(errp, sizeof errp, "%s/err.txt", root);
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(sweep_into(&s, a, 0, null), XB_SWEEP_NOT_ALL_OK);
    fclose(null);
    /* The sizes of that run's files pick a limit that meta.json fits under and cells.jsonl
     * crosses in the middle of record k + 1 (a second run writes the same sizes). */
    size_t meta = file_size(a, "meta.json");
    char *cp = xb_path_join(a, "cells.jsonl");
    char *cells = slurp(cp, NULL);
    free(cp);
    size_t len[16], prefix = 0, limit = 0;
    int n = 0, k = -1;
    for (char *l = cells, *nl; (nl = strchr(l, '\n')) && n < 16; l = nl + 1) len[n++] = (size_t)(nl - l) + 1;
    free(cells);
    cr_assert_eq(n, 8);
    for (int i = 0; i < n - 1; i++) {
        prefix += len[i];
        if (prefix + len[i + 1] / 2 >= meta + 64) {
            k = i + 1;
            limit = prefix + len[i + 1] / 2;
            break;
        }
    }
    cr_assert_gt(k, 0, "meta.json (%zu bytes) is larger than 7 records", meta);

    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        /* SIGXFSZ is left at its default (it kills): the sweep must ignore it itself. */
        struct rlimit rl = { (rlim_t)limit, (rlim_t)limit };
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(100);
        FILE *err = fopen(errp, "w");
        if (!err) _exit(101);
        int rc = sweep_into(&s, b, 0, err);
        fclose(err);
        _exit(rc < 0 ? 2 : rc);
    }
    int status;
    cr_assert_eq(waitpid(pid, &status, 0), pid);
    cr_assert(WIFEXITED(status), "the sweep died by signal %d (SIGXFSZ is %d)",
              WIFSIGNALED(status) ? WTERMSIG(status) : 0, SIGXFSZ);
    cr_assert_eq(WEXITSTATUS(status), 2, "the sweep must fail, got %d", WEXITSTATUS(status));
    cr_assert_eq(whole_lines(b), k, "the %d records that fit, whole, and nothing of the next", k);
    char *msg = slurp(errp, NULL);
    cr_assert_not_null(msg);
    cr_assert(strstr(msg, "cells.jsonl") && strstr(msg, strerror(EFBIG)), "message was: %s", msg);
    cr_assert(strstr(msg, b), "the message names the folder: %s", msg);
    free(msg);

    /* with room again, --resume completes the run: every cell once */
    null = fopen("/dev/null", "w");
    cr_assert_eq(sweep_into(&s, b, 1, null), XB_SWEEP_NOT_ALL_OK);
    fclose(null);
    cr_assert_eq(whole_lines(b), 8);
    xb_suite_release(&s);
    tmpdir_remove(root);
}

/* A crash tore the last record; --resume cuts it off (with a warning), runs that cell again,
 * and every line of the file is a whole record. */
Test(integrity, resume_after_torn_last_line, .timeout = 60)
{
    xb_suite s;
    load_skipfill(&s);
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    FILE *null = fopen("/dev/null", "w");
    cr_assert_eq(sweep_into(&s, dir, 0, null), XB_SWEEP_NOT_ALL_OK);
    fclose(null);
    char *cp = xb_path_join(dir, "cells.jsonl");
    size_t n = 0;
    char *cells = slurp(cp, &n);
    /* keep 6 whole lines and half of the 7th */
    char *p = cells;
    for (int i = 0; i < 6; i++) p = strchr(p, '\n') + 1;
    size_t seventh = (size_t)(strchr(p, '\n') - p);
    size_t keep = (size_t)(p - cells) + seventh / 2;
    cr_assert_eq(truncate(cp, (off_t)keep), 0);
    free(cells);
    free(cp);

    FILE *err = tmpfile();
    cr_assert_eq(sweep_into(&s, dir, 1, err), XB_SWEEP_NOT_ALL_OK);
    const char *w = file_text(err);
    cr_assert(strstr(w, "cut short"), "warnings were: %s", w);
    fclose(err);
    cr_assert_eq(whole_lines(dir), 8, "6 kept + the torn one and the missing one again");
    json_object *all = NULL;
    int bad = -1;
    cr_assert_eq(xb_store_load_ex(dir, &all, NULL, &bad), 0);
    cr_assert_eq(bad, 0);
    json_object *latest = xb_store_latest(all);
    cr_assert_eq(json_object_array_length(latest), 8, "each cell once");
    json_object_put(latest);
    json_object_put(all);
    /* and the derived JSON is strict JSON */
    char *rp = xb_path_join(dir, "results.json");
    char *res = slurp(rp, NULL);
    cr_assert_not_null(res);
    cr_assert(strict_json(res));
    free(res);
    free(rp);
    xb_suite_release(&s);
    tmpdir_remove(dir);
}

/* ---- no NaN or Infinity in JSON files -------------------------------------------------- */

Test(integrity, json_files_hold_no_nan_or_infinity)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    json_object *o = json_object_new_object();
    json_object_object_add(o, "nan", json_object_new_double(NAN));
    json_object_object_add(o, "fine", json_object_new_double(0.25));
    json_object *in = json_object_new_object();
    json_object_object_add(in, "inf", json_object_new_double(INFINITY));
    json_object_object_add(in, "n", json_object_new_int(3));
    json_object_object_add(o, "inner", in);
    json_object *arr = json_object_new_array();
    json_object_array_add(arr, json_object_new_double(1.0));
    json_object_array_add(arr, json_object_new_double(-INFINITY));
    json_object *pair = json_object_new_array();
    json_object_array_add(pair, json_object_new_int(7));
    json_object_array_add(pair, json_object_new_double(NAN));
    json_object_array_add(arr, pair);
    json_object_object_add(o, "arr", arr);
    cr_assert_eq(xb_json_count_nonfinite(o), 4);

    char *p = xb_path_join(dir, "x.json");
    cr_assert_eq(xb_write_json_atomic(p, o), 0);
    char *text = slurp(p, NULL);
    cr_assert(strict_json(text), "not strict JSON:\n%s", text);
    /* json-c's strict mode (it accepts NaN itself, so this alone proves little) */
    json_tokener *tok = json_tokener_new();
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
    json_object *back = json_tokener_parse_ex(tok, text, (int)strlen(text));
    cr_assert_eq(json_tokener_get_error(tok), json_tokener_success);
    json_tokener_free(tok);
    cr_assert_not_null(back);
    cr_assert(json_object_is_type(xb_jget(back, "nan"), json_type_null));
    cr_assert_float_eq(xb_jnum(back, "fine", 0), 0.25, 0);
    cr_assert(json_object_is_type(xb_jpath(back, "inner.inf"), json_type_null));
    cr_assert_eq(xb_jint(xb_jget(back, "inner"), "n", 0), 3);
    json_object *ba = xb_jget(back, "arr");
    cr_assert_float_eq(json_object_get_double(json_object_array_get_idx(ba, 0)), 1.0, 0);
    cr_assert_null(json_object_array_get_idx(ba, 1));
    cr_assert_null(json_object_array_get_idx(json_object_array_get_idx(ba, 2), 1));
    cr_assert_eq(json_object_get_int(json_object_array_get_idx(json_object_array_get_idx(ba, 2), 0)), 7);
    json_object_put(back);
    free(text);
    /* the caller's object is not changed */
    cr_assert(isnan(xb_jnum(o, "nan", 0)));
    cr_assert_eq(xb_json_count_nonfinite(o), 4);
    json_object_put(o);
    free(p);
    tmpdir_remove(dir);
}

Test(integrity, cell_record_with_nonfinite_measurement_says_so)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    xb_store st;
    cr_assert_eq(xb_store_open_ex(&st, dir, NULL), 0);
    json_object *r = rec("a", "ok");
    json_object_object_add(r, "test_acc", json_object_new_double(NAN));
    json_object_object_add(xb_jget(r, "latency"), "median", json_object_new_double(INFINITY));
    cr_assert_eq(xb_store_append(&st, r), 0);
    json_object_put(r);
    /* a diverged cell already explains its NaN: the status stays */
    r = rec("b", "diverged");
    json_object_object_add(r, "final_loss", json_object_new_double(NAN));
    cr_assert_eq(xb_store_append(&st, r), 0);
    json_object_put(r);
    xb_store_close(&st);
    cr_assert_eq(whole_lines(dir), 2);
    json_object *all = NULL;
    cr_assert_eq(xb_store_load(dir, &all, NULL), 0);
    json_object *a = json_object_array_get_idx(all, 0), *b = json_object_array_get_idx(all, 1);
    cr_assert(json_object_is_type(xb_jget(a, "test_acc"), json_type_null));
    cr_assert(json_object_is_type(xb_jpath(a, "latency.median"), json_type_null));
    cr_assert_str_eq(xb_jstr(a, "status", ""), "error");
    const char *e = xb_jstr(a, "error", "");
    cr_assert(strstr(e, "test_acc") && strstr(e, "latency.median"), "error was: %s", e);
    cr_assert_eq(json_object_array_length(xb_jget(a, "nonfinite_fields")), 2);
    cr_assert_str_eq(xb_jstr(b, "status", ""), "diverged");
    cr_assert(json_object_is_type(xb_jget(b, "final_loss"), json_type_null));
    json_object_put(all);
    tmpdir_remove(dir);
}

/* ---- one writer per folder ------------------------------------------------------------- */

Test(integrity, lock_refuses_a_second_writer)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    long holder = -1;
    int fd = xb_store_lock(dir, &holder);
    cr_assert_geq(fd, 0);
    /* another open file description, even in this process, is another writer */
    cr_assert_eq(xb_store_lock(dir, &holder), XB_EINVAL);
    cr_assert_eq(holder, (long)getpid());
    /* the sweep refuses too, and runs nothing */
    xb_suite s;
    load_skipfill(&s);
    FILE *err = tmpfile();
    cr_assert_eq(sweep_into(&s, dir, 1, err), XB_EINVAL);
    const char *w = file_text(err);
    char want[64];
    snprintf(want, sizeof want, "pid %ld", (long)getpid());
    cr_assert(strstr(w, dir) && strstr(w, want), "message was: %s", w);
    fclose(err);
    char *cp = xb_path_join(dir, "cells.jsonl");
    struct stat sb;
    cr_assert(stat(cp, &sb) != 0 || sb.st_size == 0, "the refused run recorded nothing");
    free(cp);
    char *mp = xb_path_join(dir, "meta.json");
    cr_assert_eq(access(mp, F_OK), -1, "nor wrote meta.json");
    free(mp);
    xb_store_unlock(fd);
    /* released: the next writer gets it */
    fd = xb_store_lock(dir, &holder);
    cr_assert_geq(fd, 0);
    xb_store_unlock(fd);
    xb_suite_release(&s);
    tmpdir_remove(dir);
}

/* `xbench run` twice into one folder: the second (plain or --resume) exits 2 naming the
 * folder and the first one's pid while the first goes on. */
Test(integrity, second_run_into_a_live_folder_exits_2, .timeout = 90)
{
    char dir[64];
    tmpdir_make(dir, sizeof dir, "xb-integrity");
    unsetenv("XB_FAULT");
    cr_assert(access("./xbench", X_OK) == 0, "./xbench not built");
    pid_t first = fork();
    cr_assert_geq(first, 0);
    if (first == 0) {
        /* its first cells sleep until cell_timeout_s (3 s): it is alive while we look */
        setenv("XB_FAULT", "sleep:0,sleep:1,sleep:2", 1);
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("./xbench", "./xbench", "run", "tests/data/suites/tiny.yaml", "-o", dir,
              "--machine", "none", "--no-plots", "--quiet", (char *)NULL);
        _exit(127);
    }
    /* wait until it holds the lock (its pid in DIR/.lock) */
    char *lp = xb_path_join(dir, ".lock");
    long seen = 0;
    for (int i = 0; i < 2000 && seen != first; i++) {
        usleep(5000);
        FILE *f = fopen(lp, "r");
        if (f) {
            if (fscanf(f, "%ld", &seen) != 1) seen = 0;
            fclose(f);
        }
    }
    free(lp);
    cr_assert_eq(seen, (long)first, "the first run never took the lock");
    char want[64];
    snprintf(want, sizeof want, "pid %ld", (long)first);
    const char *modes[2] = { "--resume", "--no-plots" };
    for (int m = 0; m < 2; m++) {
        result r = RUN("run", "tests/data/suites/tiny.yaml", "-o", dir, "--machine", "none",
                       "--no-plots", "--quiet", modes[m]);
        cr_assert_eq(r.code, 2, "%s: exit %d, stderr: %s", modes[m], r.code, r.err);
        cr_assert(strstr(r.err, dir) && strstr(r.err, want), "%s: stderr: %s", modes[m], r.err);
        done(&r);
    }
    /* readers take no lock: the report of the live folder works */
    char *mp = xb_path_join(dir, "meta.json");
    for (int i = 0; i < 2000 && access(mp, F_OK) != 0; i++) usleep(5000);
    free(mp);
    result rep = RUN("report", dir);
    cr_assert_eq(rep.code, 0, "report beside a live run: exit %d, stderr: %s", rep.code, rep.err);
    done(&rep);
    /* the first run is still the only writer: stop it, it recorded nothing twice */
    kill(first, SIGINT);
    int status;
    cr_assert_eq(waitpid(first, &status, 0), first);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "first run: status %d", status);
    json_object *all = NULL;
    xb_store_load(dir, &all, NULL);
    json_object *latest = xb_store_latest(all);
    cr_assert_eq(json_object_array_length(latest), json_object_array_length(all), "no cell twice");
    json_object_put(latest);
    json_object_put(all);
    /* and once it has ended, the folder takes a writer again */
    result r = RUN("run", "tests/data/suites/tiny.yaml", "-o", dir, "--machine", "none",
                   "--no-plots", "--quiet", "--resume");
    cr_assert_eq(r.code, 0, "resume after the first ended: exit %d, stderr: %s", r.code, r.err);
    done(&r);
    tmpdir_remove(dir);
}
