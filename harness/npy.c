/* harness/npy.c — NumPy .npy write (format 1.0, '<f4', C order) and read (header parse of
 * versions 1.0/2.0/3.0), and the atomic temp-file-then-rename write (see harness/npy.h). */
#include "harness/npy.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xb.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "npy.c writes host floats as '<f4'");
_Static_assert(sizeof(float) == 4, "'<f4' is a 4-byte IEEE float");

static const char MAGIC[6] = {'\x93', 'N', 'U', 'M', 'P', 'Y'};

int xb_file_write_atomic(const char *path, const void *data, size_t n)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) return XB_EIO;
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmpXXXXXX", 11);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        free(tmp);
        return XB_EIO;
    }
    const char *p = data;
    size_t left = n;
    int ok = 1;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) { ok = 0; break; }
        p += w;
        left -= (size_t)w;
    }
    /* mkstemp creates 0600; give the file the usual permissions (0666 & ~umask). */
    mode_t um = umask(0);
    umask(um);
    if (ok && fchmod(fd, 0666 & ~um) != 0) ok = 0;
    if (close(fd) != 0) ok = 0;
    if (ok && rename(tmp, path) != 0) ok = 0;
    if (!ok) unlink(tmp);
    free(tmp);
    return ok ? 0 : XB_EIO;
}

size_t xb_npy_header_bytes(char *buf, size_t size, int ndim, const size_t *shape)
{
    char dict[64 + XB_NPY_MAX_DIM * 24];
    int k = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    for (int i = 0; i < ndim; i++)
        k += snprintf(dict + k, sizeof dict - (size_t)k, "%s%zu", i ? ", " : "", shape[i]);
    k += snprintf(dict + k, sizeof dict - (size_t)k, "%s), }", ndim == 1 ? "," : "");
    /* 10 bytes of preamble + dict + spaces + '\n' = a multiple of 64 */
    size_t total = xb_align64(10 + (size_t)k + 1);
    if (total > size || total - 10 > 65535) return 0;
    memcpy(buf, MAGIC, 6);
    buf[6] = 1;
    buf[7] = 0;
    size_t hl = total - 10;
    buf[8] = (char)(hl & 0xff);
    buf[9] = (char)(hl >> 8);
    memcpy(buf + 10, dict, (size_t)k);
    memset(buf + 10 + k, ' ', total - 10 - (size_t)k - 1);
    buf[total - 1] = '\n';
    return total;
}

int xb_npy_write(const char *path, const float *data, int ndim, const size_t *shape)
{
    if (ndim < 0 || ndim > XB_NPY_MAX_DIM) return XB_EINVAL;
    size_t count = 1;
    for (int i = 0; i < ndim; i++) count *= shape[i];
    char head[1024];
    size_t hn = xb_npy_header_bytes(head, sizeof head, ndim, shape);
    if (!hn) return XB_EINVAL;
    char *buf = malloc(hn + count * sizeof(float));
    if (!buf) return XB_EIO;
    memcpy(buf, head, hn);
    if (count) memcpy(buf + hn, data, count * sizeof(float));
    int rc = xb_file_write_atomic(path, buf, hn + count * sizeof(float));
    free(buf);
    return rc;
}

/* ---- header parsing: a Python dict literal of strings, booleans and int tuples ---- */

typedef struct lex {
    const char *s, *end;
    char *err;
    size_t errn;
} lex;

static int fail(lex *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(lex *L, const char *fmt, ...)
{
    if (L->err && L->errn) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(L->err, L->errn, fmt, ap);
        va_end(ap);
    }
    return XB_EFORMAT;
}

static void skip_ws(lex *L)
{
    while (L->s < L->end && (*L->s == ' ' || *L->s == '\t' || *L->s == '\n' || *L->s == '\r')) L->s++;
}

static int eat(lex *L, char c)
{
    skip_ws(L);
    if (L->s < L->end && *L->s == c) {
        L->s++;
        return 1;
    }
    return 0;
}

/* A quoted string ('...' or "...", no escapes: npy keys and descrs never need them). */
static int read_str(lex *L, char *out, size_t outn)
{
    skip_ws(L);
    if (L->s >= L->end || (*L->s != '\'' && *L->s != '"')) return fail(L, "expected a quoted string");
    char q = *L->s++;
    size_t k = 0;
    while (L->s < L->end && *L->s != q) {
        if (k + 1 >= outn) return fail(L, "string too long");
        out[k++] = *L->s++;
    }
    if (L->s >= L->end) return fail(L, "unterminated string");
    L->s++;
    out[k] = '\0';
    return 0;
}

static int read_shape(lex *L, xb_npy_header *h)
{
    if (!eat(L, '(')) return fail(L, "shape: expected '('");
    h->ndim = 0;
    h->count = 1;
    for (;;) {
        if (eat(L, ')')) return 0;
        skip_ws(L);
        if (L->s >= L->end || !isdigit((unsigned char)*L->s)) return fail(L, "shape: expected an integer");
        if (h->ndim == XB_NPY_MAX_DIM) return fail(L, "shape: more than %d dimensions", XB_NPY_MAX_DIM);
        size_t v = 0;
        while (L->s < L->end && isdigit((unsigned char)*L->s)) {
            size_t nv = v * 10 + (size_t)(*L->s++ - '0');
            if (nv / 10 != v) return fail(L, "shape: dimension overflows");
            v = nv;
        }
        if (L->s < L->end && (*L->s == 'L' || *L->s == 'l')) L->s++;   /* Python 2 longs */
        h->shape[h->ndim++] = v;
        if (v && h->count > (size_t)-1 / v) return fail(L, "shape: element count overflows");
        h->count *= v;
        if (eat(L, ',')) continue;
        if (eat(L, ')')) return 0;
        return fail(L, "shape: expected ',' or ')'");
    }
}

int xb_npy_parse_header(const unsigned char *buf, size_t n, xb_npy_header *h, char *err, size_t errn)
{
    lex L = {NULL, NULL, err, errn};
    memset(h, 0, sizeof *h);
    if (n < 10 || memcmp(buf, MAGIC, 6) != 0) return fail(&L, "not a .npy file (no \\x93NUMPY magic)");
    h->major = buf[6];
    h->minor = buf[7];
    size_t pre;
    if (h->major == 1) {
        h->header_len = (size_t)buf[8] | (size_t)buf[9] << 8;
        pre = 10;
    } else if (h->major == 2 || h->major == 3) {
        if (n < 12) return fail(&L, "truncated header");
        h->header_len = (size_t)buf[8] | (size_t)buf[9] << 8 | (size_t)buf[10] << 16 | (size_t)buf[11] << 24;
        pre = 12;
    } else {
        return fail(&L, "unsupported .npy version %d.%d", h->major, h->minor);
    }
    h->data_offset = pre + h->header_len;
    if (n < h->data_offset) return fail(&L, "truncated header (%zu of %zu bytes)", n, h->data_offset);
    L.s = (const char *)buf + pre;
    L.end = (const char *)buf + h->data_offset;
    if (!eat(&L, '{')) return fail(&L, "header: expected '{'");
    int seen = 0;   /* bits: 1 descr, 2 fortran_order, 4 shape */
    while (!eat(&L, '}')) {
        char key[32];
        if (read_str(&L, key, sizeof key)) return XB_EFORMAT;
        if (!eat(&L, ':')) return fail(&L, "header: expected ':' after '%s'", key);
        if (!strcmp(key, "descr")) {
            if (read_str(&L, h->descr, sizeof h->descr)) return XB_EFORMAT;
            seen |= 1;
        } else if (!strcmp(key, "fortran_order")) {
            skip_ws(&L);
            size_t left = (size_t)(L.end - L.s);
            if (left >= 4 && !memcmp(L.s, "True", 4)) { h->fortran_order = 1; L.s += 4; }
            else if (left >= 5 && !memcmp(L.s, "False", 5)) { h->fortran_order = 0; L.s += 5; }
            else return fail(&L, "fortran_order: expected True or False");
            seen |= 2;
        } else if (!strcmp(key, "shape")) {
            if (read_shape(&L, h)) return XB_EFORMAT;
            seen |= 4;
        } else {
            return fail(&L, "header: unknown key '%s'", key);
        }
        if (!eat(&L, ',')) {
            if (eat(&L, '}')) break;
            return fail(&L, "header: expected ',' or '}'");
        }
    }
    if (seen != 7) return fail(&L, "header: missing %s", !(seen & 1) ? "descr" : !(seen & 2) ? "fortran_order" : "shape");
    skip_ws(&L);
    if (L.s != L.end) return fail(&L, "header: trailing text after the dict");
    return 0;
}

int xb_npy_read(const char *path, xb_npy_header *h, float **data, char *err, size_t errn)
{
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errn, "%s: cannot open: %s", path, strerror(errno));
        return XB_EIO;
    }
    unsigned char pre[12];
    size_t got = fread(pre, 1, sizeof pre, f);
    size_t hl = got >= 10 && pre[6] == 1 ? (size_t)pre[8] | (size_t)pre[9] << 8
              : got >= 12 ? (size_t)pre[8] | (size_t)pre[9] << 8 | (size_t)pre[10] << 16 | (size_t)pre[11] << 24
              : 0;
    size_t hn = (got >= 10 && pre[6] == 1 ? 10 : 12) + hl;
    if (hl > (1u << 24)) hn = sizeof pre;   /* absurd length: let the parser say why */
    unsigned char *hb = malloc(hn > got ? hn : got);
    int rc = XB_EIO;
    char msg[200];
    if (!hb) goto out;
    memcpy(hb, pre, got);
    if (hn > got) got += fread(hb + got, 1, hn - got, f);
    if ((rc = xb_npy_parse_header(hb, got, h, msg, sizeof msg)) != 0) {
        snprintf(err, errn, "%s: %s", path, msg);
        goto out;
    }
    if (strcmp(h->descr, "<f4") != 0) {
        snprintf(err, errn, "%s: dtype '%s', expected '<f4'", path, h->descr);
        rc = XB_EFORMAT;
        goto out;
    }
    *data = malloc(h->count ? h->count * sizeof(float) : 1);
    if (!*data) { rc = XB_EIO; snprintf(err, errn, "%s: out of memory", path); goto out; }
    if (fseek(f, (long)h->data_offset, SEEK_SET) != 0 ||
        fread(*data, sizeof(float), h->count, f) != h->count) {
        snprintf(err, errn, "%s: data shorter than shape says (%zu floats)", path, h->count);
        rc = XB_EFORMAT;
        goto out;
    }
    if (fgetc(f) != EOF) {
        snprintf(err, errn, "%s: bytes after the %zu floats the shape says", path, h->count);
        rc = XB_EFORMAT;
        goto out;
    }
    rc = 0;
out:
    if (rc) {
        if (rc == XB_EIO && !hb) snprintf(err, errn, "%s: out of memory", path);
        free(*data);
        *data = NULL;
    }
    free(hb);
    fclose(f);
    return rc;
}
