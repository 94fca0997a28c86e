/* harness/report/store.c — cells.jsonl (append + fsync, tolerant load), atomic whole-file writes
 * and small json-c accessors (see harness/report/store.h). */
#include "harness/report/store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/text.h"
#include "core/xb.h"

char *xb_path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

int xb_mkdirs(const char *path)
{
    if (!*path) {               /* the walk below starts after the first byte */
        errno = ENOENT;
        return XB_EIO;
    }
    char *p = strdup(path);
    if (!p) return XB_ENOMEM;
    for (char *s = p + 1; ; s++) {
        if (*s == '/' || *s == 0) {
            char c = *s;
            *s = 0;
            if (mkdir(p, 0777) != 0 && errno != EEXIST) {
                free(p);
                return XB_EIO;
            }
            *s = c;
            if (!c) break;
        }
    }
    free(p);
    struct stat sb;
    return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode) ? 0 : XB_EIO;
}

int xb_write_atomic(const char *path, const char *data, size_t n)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return XB_ENOMEM;
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int rc = fd < 0 ? XB_EIO : xb_write_all(fd, data, n);
    if (fd >= 0) {
        if (rc == 0 && fsync(fd) != 0) rc = XB_EIO;
        if (close(fd) != 0) rc = XB_EIO;
    }
    if (rc == 0 && rename(tmp, path) != 0) rc = XB_EIO;
    if (rc) {
        int e = errno;          /* the reason, not unlink's */
        unlink(tmp);
        errno = e;
    }
    free(tmp);
    return rc;
}

/* ---- no NaN or Infinity in what is written ------------------------------------------- */

static int is_nonfinite(json_object *v)
{
    return v && json_object_is_type(v, json_type_double) && !isfinite(json_object_get_double(v));
}

/* path[0..len) is the path of o; fix = 0 only counts. */
static int walk_nonfinite(json_object *o, char *path, size_t len, size_t cap, int fix,
                          json_object *paths)
{
    int n = 0;
    if (json_object_is_type(o, json_type_object)) {
        json_object_object_foreach(o, key, val) {
            int k = snprintf(path + len, cap - len, "%s%s", len ? "." : "", key);
            size_t l2 = k < 0 ? len : len + (size_t)k < cap ? len + (size_t)k : cap - 1;
            if (is_nonfinite(val)) {
                n++;
                if (paths) json_object_array_add(paths, json_object_new_string(path));
                /* Replacing the value of an existing key keeps the table's entries in place:
                 * safe while iterating. */
                if (fix) json_object_object_add(o, key, NULL);
            } else if (val) {
                n += walk_nonfinite(val, path, l2, cap, fix, paths);
            }
            path[len] = 0;
        }
    } else if (json_object_is_type(o, json_type_array)) {
        size_t m = json_object_array_length(o);
        for (size_t i = 0; i < m; i++) {
            json_object *val = json_object_array_get_idx(o, i);
            int k = snprintf(path + len, cap - len, "[%zu]", i);
            size_t l2 = k < 0 ? len : len + (size_t)k < cap ? len + (size_t)k : cap - 1;
            if (is_nonfinite(val)) {
                n++;
                if (paths) json_object_array_add(paths, json_object_new_string(path));
                if (fix) json_object_array_put_idx(o, i, NULL);
            } else if (val) {
                n += walk_nonfinite(val, path, l2, cap, fix, paths);
            }
            path[len] = 0;
        }
    }
    return n;
}

int xb_json_nonfinite_to_null(json_object *o, json_object *paths)
{
    char path[512] = "";
    if (!o) return 0;
    if (is_nonfinite(o)) return 0;       /* a bare number: nothing to replace it in */
    return walk_nonfinite(o, path, 0, sizeof path, 1, paths);
}

int xb_json_count_nonfinite(json_object *o)
{
    char path[512] = "";
    if (!o) return 0;
    if (is_nonfinite(o)) return 1;
    return walk_nonfinite(o, path, 0, sizeof path, 0, NULL);
}

int xb_write_json_atomic(const char *path, json_object *o)
{
    /* json-c prints NaN and Infinity, which no JSON parser has to accept: write null. The
     * caller's object stays as it was (a copy is cleaned when there is anything to clean). */
    json_object *clean = NULL;
    if (xb_json_count_nonfinite(o) > 0) {
        if (is_nonfinite(o)) {
            clean = json_object_new_null();
        } else {
            if (json_object_deep_copy(o, &clean, NULL) != 0 || !clean) return XB_ENOMEM;
            xb_json_nonfinite_to_null(clean, NULL);
        }
    }
    json_object *w = clean ? clean : o;
    size_t n = 0;
    const char *s = w ? json_object_to_json_string_length(
        w, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, &n)
        : "null";
    if (!w) n = 4;
    char *buf = malloc(n + 2);
    if (!buf) {
        if (clean) json_object_put(clean);
        return XB_ENOMEM;
    }
    memcpy(buf, s, n);
    buf[n] = '\n';
    if (clean) json_object_put(clean);
    int rc = xb_write_atomic(path, buf, n + 1);
    free(buf);
    return rc;
}

/* Parse s[0..n) as one JSON object and nothing else (white space aside); NULL otherwise. */
static json_object *parse_whole_object(const char *s, size_t n)
{
    json_tokener *tok = json_tokener_new();
    if (!tok) return NULL;
    json_object *o = json_tokener_parse_ex(tok, s, (int)n);
    size_t end = json_tokener_get_error(tok) == json_tokener_success ? json_tokener_get_parse_end(tok) : 0;
    json_tokener_free(tok);
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    while (o && end < n && (s[end] == ' ' || s[end] == '\t' || s[end] == '\r' || s[end] == '\n')) end++;
    if (o && end != n) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

/* The last line of cells.jsonl lacks its newline: a write cut short (a crash, a full disk).
 * Cut it off so the next record does not land on the same line; a whole object that only
 * lost its newline gets the newline instead. */
static int repair_tail(int fd, const char *path, FILE *warn)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0) return XB_EIO;
    off_t size = sb.st_size;
    if (size == 0) return 0;
    char c;
    if (pread(fd, &c, 1, size - 1) != 1) return XB_EIO;
    if (c == '\n') return 0;
    /* Find the end of the last complete line. */
    char buf[4096];
    off_t cut = 0, pos = size;
    while (pos > 0) {
        off_t from = pos > (off_t)sizeof buf ? pos - (off_t)sizeof buf : 0;
        ssize_t r = pread(fd, buf, (size_t)(pos - from), from);
        if (r != (ssize_t)(pos - from)) return XB_EIO;
        for (ssize_t i = r - 1; i >= 0; i--)
            if (buf[i] == '\n') { cut = from + i + 1; goto found; }
        pos = from;
    }
found:;
    size_t tail = (size_t)(size - cut);
    json_object *o = NULL;
    if (tail < ((size_t)64 << 20)) {    /* a record is kilobytes: larger is junk, not read */
        char *t = malloc(tail + 1);
        if (!t) return XB_ENOMEM;
        if (pread(fd, t, tail, cut) != (ssize_t)tail) {
            free(t);
            return XB_EIO;
        }
        t[tail] = 0;
        o = parse_whole_object(t, tail);
        free(t);
    }
    if (o) {
        json_object_put(o);
        if (xb_write_all(fd, "\n", 1) != 0 || fsync(fd) != 0) return XB_EIO;
        if (warn) fprintf(warn, "warning: %s: the last record had no newline (a write cut short); "
                          "added it\n", path);
        return 0;
    }
    if (ftruncate(fd, cut) != 0 || fsync(fd) != 0) return XB_EIO;
    if (warn) fprintf(warn, "warning: %s: the last line (%zu bytes at offset %lld) was cut short "
                      "by a crash or a full disk while it was written; removed it (that cell "
                      "runs again)\n", path, tail, (long long)cut);
    return 0;
}

int xb_store_open_ex(xb_store *st, const char *dir, FILE *warn)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    int rc = xb_mkdirs(dir);
    if (rc) {
        st->err = errno;
        return rc;
    }
    st->dir = strdup(dir);
    char *p = xb_path_join(dir, "cells.jsonl");
    if (!st->dir || !p) {
        free(p);
        st->err = ENOMEM;
        return XB_ENOMEM;
    }
    /* O_RDWR: the torn tail is read before it is cut. */
    st->fd = open(p, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    rc = st->fd < 0 ? XB_EIO : repair_tail(st->fd, p, warn);
    if (rc) st->err = errno ? errno : EIO;
    free(p);
    return rc;
}

int xb_store_open(xb_store *st, const char *dir)
{
    return xb_store_open_ex(st, dir, stderr);
}

/* A record with non-finite numbers: they become null, and the record says which and why. */
static void clean_record(json_object *rec)
{
    json_object *paths = json_object_new_array();
    int n = xb_json_nonfinite_to_null(rec, paths);
    if (n == 0 || !json_object_is_type(rec, json_type_object)) {
        json_object_put(paths);
        return;
    }
    char msg[400];
    int k = snprintf(msg, sizeof msg, "non-finite value%s written as null:", n > 1 ? "s" : "");
    for (int i = 0; i < n && k > 0 && (size_t)k < sizeof msg; i++)
        k += snprintf(msg + k, sizeof msg - (size_t)k, "%s %s", i ? "," : "",
                      json_object_get_string(json_object_array_get_idx(paths, (size_t)i)));
    json_object_object_add(rec, "nonfinite_fields", paths);
    const char *status = xb_jstr(rec, "status", NULL);
    if (status && strcmp(status, "ok") == 0) {
        /* A measurement the cell reported as fine is not a number: the record is not ok. */
        json_object_object_add(rec, "status", json_object_new_string("error"));
        const char *e = xb_jstr(rec, "error", NULL);
        if (e && *e) {
            char both[700];
            snprintf(both, sizeof both, "%s; %s", e, msg);
            json_object_object_add(rec, "error", json_object_new_string(both));
        } else {
            json_object_object_add(rec, "error", json_object_new_string(msg));
        }
    }
}

int xb_store_append(xb_store *st, json_object *rec)
{
    st->err = 0;
    clean_record(rec);
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    /* One write per line: a reader never sees two records interleaved. */
    char *line = malloc(n + 1);
    if (!line) {
        st->err = ENOMEM;
        return XB_ENOMEM;
    }
    memcpy(line, s, n);
    line[n] = '\n';
    struct stat sb;
    off_t before = -1;
    int rc = XB_EIO;
    if (fstat(st->fd, &sb) == 0) {
        before = sb.st_size;
        rc = xb_write_all(st->fd, line, n + 1);
        if (rc == 0 && fsync(st->fd) != 0) rc = XB_EIO;
    }
    free(line);
    if (rc) {
        /* Whatever part of the line reached the file goes: the file ends with the previous
         * record's newline, as before the call. (Should even that fail, the next open cuts
         * the torn line off.) */
        int e = errno ? errno : EIO;
        if (before >= 0 && ftruncate(st->fd, before) == 0) (void)fsync(st->fd);
        st->err = errno = e;
    }
    return rc;
}

void xb_store_close(xb_store *st)
{
    if (st->fd >= 0) close(st->fd);
    st->fd = -1;
    free(st->dir);
    st->dir = NULL;
}

int xb_store_lock(const char *dir, long *holder)
{
    if (holder) *holder = 0;
    char *p = xb_path_join(dir, ".lock");
    if (!p) {
        errno = ENOMEM;
        return XB_EIO;
    }
    int fd = open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    free(p);
    if (fd < 0) return XB_EIO;
    while (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno == EINTR) continue;
        int e = errno;
        if (e == EWOULDBLOCK) {
            /* The holder wrote its pid after it took the lock (a moment ago it may not have). */
            char buf[32] = "";
            ssize_t r = pread(fd, buf, sizeof buf - 1, 0);
            if (r > 0 && holder) {
                buf[r] = 0;
                *holder = strtol(buf, NULL, 10);
            }
            close(fd);
            return XB_EINVAL;
        }
        close(fd);
        errno = e;
        return XB_EIO;
    }
    char pid[32];
    int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
        /* The lock holds without the pid; a refused writer just cannot name us. */
    }
    return fd;
}

void xb_store_unlock(int fd)
{
    if (fd < 0) return;
    /* The pid goes first, so a stale one is never read as the holder's. The file stays: an
     * unlinked lock file would let two writers lock two different files. */
    if (ftruncate(fd, 0) != 0) {}
    close(fd);
}

int xb_store_load(const char *dir, json_object **records, FILE *warn)
{
    int rc = xb_store_load_ex(dir, records, warn, NULL);
    return rc == XB_EIO ? XB_ENOTFOUND : rc;
}

/* The key of a record's "mixer" or "task" that is not a name (core/text.h: 1 to 128 of
 * [A-Za-z0-9_.=-]; "task" may be null), else NULL. cells.jsonl may come from anyone, and
 * these names become table columns, plot labels and file names. */
static const char *bad_name(json_object *o)
{
    static const char *const keys[] = {"mixer", "task"};
    for (int i = 0; i < 2; i++) {
        json_object *v = NULL;
        if (!json_object_object_get_ex(o, keys[i], &v) || (!v && i == 1)) continue;
        if (!v || !json_object_is_type(v, json_type_string) ||
            !xb_is_name(json_object_get_string(v), (size_t)json_object_get_string_len(v)))
            return keys[i];
    }
    return NULL;
}

int xb_store_load_ex(const char *dir, json_object **records, FILE *warn, int *bad)
{
    *records = json_object_new_array();
    if (bad) *bad = 0;
    char *p = xb_path_join(dir, "cells.jsonl");
    if (!p) return XB_ENOMEM;
    FILE *f = fopen(p, "r");
    if (!f) {
        int missing = errno == ENOENT || errno == ENOTDIR;
        free(p);
        return missing ? XB_ENOTFOUND : XB_EIO;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int lineno = 0;
    while ((n = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (n == 0) continue;
        /* Usually one object per line. A record torn by a crash and then glued to the next
         * one (by a version of xbench that appended after it) is skipped, and the record
         * after it, from its '{"v":', read on its own. */
        size_t pos = 0;
        int kept = 0, torn = 0;
        while (pos < (size_t)n) {
            json_tokener *tok = json_tokener_new();
            json_object *o = tok ? json_tokener_parse_ex(tok, line + pos, (int)((size_t)n - pos)) : NULL;
            size_t end = o && json_tokener_get_error(tok) == json_tokener_success
                             ? json_tokener_get_parse_end(tok) : 0;
            if (tok) json_tokener_free(tok);
            const char *key = o && end > 0 && json_object_is_type(o, json_type_object) ? bad_name(o) : NULL;
            if (key) {   /* a whole record, but its name cannot be shown or used: refused */
                if (warn) {
                    json_object *v = json_object_object_get(o, key);
                    char shown[64];
                    fprintf(warn, "warning: %s:%d: record's \"%s\" is not a name (1 to %d letters, "
                            "digits, '_', '.', '=', '-'): %s; record skipped\n", p, lineno, key,
                            XB_NAME_MAX_LEN, xb_escape(shown, sizeof shown, json_object_to_json_string(v)));
                }
                if (bad) ++*bad;
                json_object_put(o);
                pos += end;
            } else if (o && end > 0 && json_object_is_type(o, json_type_object)) {
                json_object_array_add(*records, o);
                kept++;
                pos += end;
            } else {
                if (o) json_object_put(o);
                torn++;
                const char *next = strstr(line + pos + 1, "{\"v\":");
                pos = next ? (size_t)(next - line) : (size_t)n;
            }
            while (pos < (size_t)n && (line[pos] == ' ' || line[pos] == '\t')) pos++;
        }
        if (torn && bad) *bad += torn;
        if (torn && warn) {
            if (kept)
                fprintf(warn, "warning: %s:%d: %d piece%s of the line %s not a JSON object (a record "
                        "cut short), skipped; kept the %d record%s beside it\n", p, lineno, torn,
                        torn > 1 ? "s" : "", torn > 1 ? "are" : "is", kept, kept > 1 ? "s" : "");
            else
                fprintf(warn, "warning: %s:%d: not a JSON object, skipped\n", p, lineno);
        }
    }
    free(line);
    int rerr = ferror(f);
    fclose(f);
    free(p);
    return rerr ? XB_EIO : 0;
}

json_object *xb_store_latest(json_object *records)
{
    json_object *out = json_object_new_array();
    json_object *seen = json_object_new_object();   /* hash → index in out */
    size_t n = json_object_array_length(records);
    for (size_t i = 0; i < n; i++) {
        json_object *r = json_object_array_get_idx(records, i);
        const char *h = xb_jstr(r, "config_hash", NULL);
        json_object *at = NULL;
        if (h && json_object_object_get_ex(seen, h, &at)) {
            json_object_array_put_idx(out, (size_t)json_object_get_int(at), json_object_get(r));
        } else {
            if (h) json_object_object_add(seen, h, json_object_new_int((int)json_object_array_length(out)));
            json_object_array_add(out, json_object_get(r));
        }
    }
    json_object_put(seen);
    return out;
}

json_object *xb_read_json(const char *path)
{
    json_object *o = json_object_from_file(path);
    /* every reader takes the file for an object (a meta.json of "NaN{...}" parsed as a number
     * made json_object_object_del abort) */
    if (o && !json_object_is_type(o, json_type_object)) {
        json_object_put(o);
        o = NULL;
    }
    return o;
}

json_object *xb_jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object)) return NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

int xb_record_kind(json_object *rec)
{
    const char *k = xb_jstr(rec, "kind", "train");
    return !strcmp(k, "latency") ? XB_KIND_LATENCY : !strcmp(k, "decode") ? XB_KIND_DECODE : XB_KIND_TRAIN;
}

const char *xb_kind_word(int kind)
{
    return kind == XB_KIND_LATENCY ? "latency" : kind == XB_KIND_DECODE ? "decode" : "train";
}

const char *xb_jstr(json_object *o, const char *key, const char *def)
{
    json_object *v = xb_jget(o, key);
    return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : def;
}

double xb_jnum(json_object *o, const char *key, double def)
{
    json_object *v = xb_jget(o, key);
    if (!v) return def;
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
        return json_object_get_double(v);
    return def;
}

int xb_jint(json_object *o, const char *key, int def)
{
    json_object *v = xb_jget(o, key);
    return v && (json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double))
               ? json_object_get_int(v) : def;
}

json_object *xb_jpath(json_object *o, const char *path)
{
    char key[128];
    const char *p = path;
    while (o && *p) {
        const char *dot = strchr(p, '.');
        size_t n = dot ? (size_t)(dot - p) : strlen(p);
        if (n >= sizeof key) return NULL;
        memcpy(key, p, n);
        key[n] = 0;
        o = xb_jget(o, key);
        p += n + (dot ? 1 : 0);
    }
    return o;
}

double xb_record_num(json_object *rec, const char *path)
{
    json_object *v = xb_jpath(rec, path);
    if (!v) return NAN;
    if (json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int))
        return json_object_get_double(v);
    return NAN;
}
