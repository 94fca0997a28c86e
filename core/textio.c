/* core/textio.c — whole-file readers (plain and gzip via zlib), sorted folder listings and
 * the "files:<dir>" source string for the real-data loaders (core/textio.h). */
#include "core/textio.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

#include "core/xb.h"

/* "PATH: WHY" plus, for a missing file of a Debian package, the install hint. */
static int open_error(const char *path, const char *pkg, int e, char *err, size_t errn)
{
    if (e == ENOENT && pkg)
        snprintf(err, errn, "%s: %s (install the Debian package '%s')", path, strerror(e), pkg);
    else
        snprintf(err, errn, "%s: %s", path, strerror(e));
    return e == ENOENT ? XB_ENOTFOUND : XB_EIO;
}

static int read_plain(const char *path, const char *pkg, char **buf, size_t *n, char *err, size_t errn)
{
    FILE *f = fopen(path, "rb");
    if (!f) return open_error(path, pkg, errno, err, errn);
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap + 1);
    int rc = XB_OK;
    while (b) {
        size_t got = fread(b + len, 1, cap - len, f);
        len += got;
        if (len < cap) break;
        char *nb = realloc(b, 2 * cap + 1);
        if (!nb) { free(b); b = NULL; break; }
        b = nb; cap *= 2;
    }
    if (!b) { snprintf(err, errn, "%s: out of memory", path); rc = XB_ENOMEM; }
    else if (ferror(f)) { snprintf(err, errn, "%s: read error", path); rc = XB_EIO; }
    fclose(f);
    if (rc != XB_OK) { free(b); return rc; }
    b[len] = '\0';
    *buf = b; *n = len;
    return XB_OK;
}

static int read_gz(const char *path, const char *pkg, char **buf, size_t *n, char *err, size_t errn)
{
    FILE *f = fopen(path, "rb");
    if (!f) return open_error(path, pkg, errno, err, errn);
    unsigned char magic[2] = {0, 0};
    size_t m = fread(magic, 1, 2, f);
    fclose(f);
    if (m < 2 || magic[0] != 0x1f || magic[1] != 0x8b) {
        snprintf(err, errn, "%s: not a gzip file (bad magic)", path);
        return XB_EFORMAT;
    }
    gzFile g = gzopen(path, "rb");
    if (!g) return open_error(path, pkg, errno ? errno : EIO, err, errn);
    gzbuffer(g, 1 << 17);
    size_t cap = 1 << 20, len = 0;
    char *b = malloc(cap + 1);
    int rc = XB_OK;
    while (b) {
        unsigned want = (unsigned)(cap - len > (1u << 30) ? (1u << 30) : cap - len);
        int got = gzread(g, b + len, want);
        if (got < 0) {
            int zerr;
            const char *msg = gzerror(g, &zerr);
            snprintf(err, errn, "%s: corrupt gzip data (%s)", path, msg);
            rc = XB_EFORMAT;
            break;
        }
        len += (size_t)got;
        if (got == 0) break;
        if (len == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) { free(b); b = NULL; break; }
            b = nb; cap *= 2;
        }
    }
    /* gzread stops quietly at a truncated stream; gzclose reports it as Z_BUF_ERROR. */
    int zc = gzclose(g);
    if (!b) { snprintf(err, errn, "%s: out of memory", path); return XB_ENOMEM; }
    if (rc == XB_OK && zc != Z_OK) {
        snprintf(err, errn, "%s: truncated or corrupt gzip stream", path);
        rc = XB_EFORMAT;
    }
    if (rc != XB_OK) { free(b); return rc; }
    b[len] = '\0';
    *buf = b; *n = len;
    return XB_OK;
}

int xb_read_all(const char *path, int gz, const char *pkg, char **buf, size_t *n,
                char *err, size_t errn)
{
    *buf = NULL; *n = 0;
    errno = 0;
    return gz ? read_gz(path, pkg, buf, n, err, errn) : read_plain(path, pkg, buf, n, err, errn);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void xb_free_names(char **names, int n)
{
    for (int i = 0; i < n; i++) free(names[i]);
    free(names);
}

int xb_list_dir(const char *dir, const char *suffix, char ***names, int *n, char *err, size_t errn)
{
    *names = NULL; *n = 0;
    DIR *d = opendir(dir);
    if (!d) return open_error(dir, NULL, errno, err, errn);
    size_t sl = suffix ? strlen(suffix) : 0;
    int cap = 64, cnt = 0;
    char **v = malloc((size_t)cap * sizeof *v);
    char path[4352];
    struct dirent *e;
    while (v && (e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        size_t nl = strlen(e->d_name);
        if (sl && (nl < sl || strcmp(e->d_name + nl - sl, suffix) != 0)) continue;
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode)) continue;
        if (cnt == cap) {
            char **nv = realloc(v, (size_t)cap * 2 * sizeof *v);
            if (!nv) { xb_free_names(v, cnt); v = NULL; break; }
            v = nv; cap *= 2;
        }
        if (!(v[cnt] = strdup(e->d_name))) { xb_free_names(v, cnt); v = NULL; break; }
        cnt++;
    }
    closedir(d);
    if (!v) { snprintf(err, errn, "%s: out of memory listing the folder", dir); return XB_ENOMEM; }
    qsort(v, (size_t)cnt, sizeof *v, cmp_str);
    *names = v; *n = cnt;
    return XB_OK;
}

void xb_source_files(char *src, size_t n, const char *dir)
{
    size_t dl = strlen(dir);
    snprintf(src, n, "files:%s%.140s", dl > 140 ? "..." : "", dl > 140 ? dir + dl - 140 : dir);
}
