/* core/xb.c — assertion failure, error phrases, aligned allocation, whole writes. */
#include "core/xb.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void xb_assert_fail(const char *expr, const char *file, int line)
{
    fprintf(stderr, "xbench: internal error: %s:%d: assertion '%s' failed\n", file, line, expr);
    abort();
}

const char *xb_strerror(int code)
{
    switch (code) {
    case XB_OK: return "success";
    case XB_EINVAL: return "invalid value";
    case XB_ENOMEM: return "out of memory";
    case XB_EIO: return "input/output error";
    case XB_EFORMAT: return "bad file format";
    case XB_ENOTFOUND: return "not found";
    case XB_EUNSUPP: return "not supported";
    }
    return "unknown error";
}

void *xb_alloc(size_t bytes)
{
    void *p = NULL;
    if (bytes == 0) bytes = 64;
    if (posix_memalign(&p, 64, xb_align64(bytes)) != 0) return NULL;
    memset(p, 0, xb_align64(bytes));
    return p;
}

void xb_free(void *p) { free(p); }

int xb_write_all(int fd, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return XB_EIO;
        }
        if (w == 0) {           /* not expected of a file or pipe; do not loop forever */
            errno = EIO;
            return XB_EIO;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
