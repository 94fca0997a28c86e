/* harness/store.c — cells.jsonl (append + fsync, tolerant load), atomic whole-file writes
 * and small json-c accessors (see harness/store.h). */
#include "harness/store.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return XB_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int xb_write_atomic(const char *path, const char *data, size_t n)
{
    size_t len = strlen(path) + 32;
    char *tmp = malloc(len);
    if (!tmp) return XB_ENOMEM;
    snprintf(tmp, len, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
    int rc = fd < 0 ? XB_EIO : write_all(fd, data, n);
    if (fd >= 0) {
        if (rc == 0 && fsync(fd) != 0) rc = XB_EIO;
        if (close(fd) != 0) rc = XB_EIO;
    }
    if (rc == 0 && rename(tmp, path) != 0) rc = XB_EIO;
    if (rc) unlink(tmp);
    free(tmp);
    return rc;
}

int xb_write_json_atomic(const char *path, json_object *o)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    char *buf = malloc(n + 2);
    if (!buf) return XB_ENOMEM;
    memcpy(buf, s, n);
    buf[n] = '\n';
    int rc = xb_write_atomic(path, buf, n + 1);
    free(buf);
    return rc;
}

int xb_store_open(xb_store *st, const char *dir)
{
    memset(st, 0, sizeof *st);
    st->fd = -1;
    int rc = xb_mkdirs(dir);
    if (rc) return rc;
    st->dir = strdup(dir);
    char *p = xb_path_join(dir, "cells.jsonl");
    if (!st->dir || !p) {
        free(p);
        return XB_ENOMEM;
    }
    st->fd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
    free(p);
    return st->fd < 0 ? XB_EIO : 0;
}

int xb_store_append(xb_store *st, json_object *rec)
{
    size_t n = 0;
    const char *s = json_object_to_json_string_length(
        rec, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
    /* One write per line: a reader never sees two records interleaved. */
    char *line = malloc(n + 1);
    if (!line) return XB_ENOMEM;
    memcpy(line, s, n);
    line[n] = '\n';
    int rc = write_all(st->fd, line, n + 1);
    free(line);
    if (rc == 0 && fsync(st->fd) != 0) rc = XB_EIO;
    return rc;
}

void xb_store_close(xb_store *st)
{
    if (st->fd >= 0) close(st->fd);
    st->fd = -1;
    free(st->dir);
    st->dir = NULL;
}

int xb_store_load(const char *dir, json_object **records, FILE *warn)
{
    int rc = xb_store_load_ex(dir, records, warn, NULL);
    return rc == XB_EIO ? XB_ENOTFOUND : rc;
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
        json_object *o = json_tokener_parse(line);
        if (!o || !json_object_is_type(o, json_type_object)) {
            if (warn) fprintf(warn, "warning: %s:%d: not a JSON object, skipped\n", p, lineno);
            if (o) json_object_put(o);
            if (bad) (*bad)++;
            continue;
        }
        json_object_array_add(*records, o);
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
    return o;
}

json_object *xb_jget(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (!o || !json_object_is_type(o, json_type_object)) return NULL;
    return json_object_object_get_ex(o, key, &v) ? v : NULL;
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
