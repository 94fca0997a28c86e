/* core/xb.h — what every xbench file may need: assertions, error codes, aligned
 * allocation, and the dimension legend used everywhere.
 *
 * Legend: B batch, N sequence length, d model width, H heads, dh head width,
 * V vocabulary. Buffers are flat row-major float arrays; index products use size_t. */
#ifndef XB_XB_H
#define XB_XB_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define XB_VERSION "0.1.0"

/* Programmer errors only (never user input): file:line, then abort. */
#define XB_ASSERT(c) do { if (!(c)) xb_assert_fail(#c, __FILE__, __LINE__); } while (0)
void xb_assert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));

/* User-facing error codes: 0 ok, negative XB_E*. xb_strerror() maps them to phrases. */
enum {
    XB_OK = 0,
    XB_EINVAL = -1,   /* bad value in a suite, option or file */
    XB_ENOMEM = -2,   /* allocation failed */
    XB_EIO = -3,      /* file could not be read or written */
    XB_EFORMAT = -4,  /* file is not in the expected format */
    XB_ENOTFOUND = -5,/* named thing (file, mixer, task) does not exist */
    XB_EUNSUPP = -6,  /* configuration not supported (e.g. causal mode) */
};
const char *xb_strerror(int code);

/* 64-byte aligned, zeroed allocation; NULL on failure (never aborts). */
void *xb_alloc(size_t bytes);
void xb_free(void *p);
/* Write all n bytes to fd: write() again after a short write (the next one, at a file-size
 * limit or on a full disk, fails with the reason) or EINTR. 0, or XB_EIO with errno set. */
int xb_write_all(int fd, const void *buf, size_t n);

/* Thread index inside a parallel region and the team size a region would get; 0 and 1 when
 * built without OpenMP (the pragmas then become the serial reference). */
#ifdef _OPENMP
#include <omp.h>
static inline int xb_thread_id(void) { return omp_get_thread_num(); }
static inline int xb_max_threads(void) { return omp_get_max_threads(); }
static inline int xb_in_parallel(void) { return omp_in_parallel(); }
#else
static inline int xb_thread_id(void) { return 0; }
static inline int xb_max_threads(void) { return 1; }
static inline int xb_in_parallel(void) { return 0; }
#endif

/* The body of a spin-wait on another thread's store (the x86 pause hint; nothing elsewhere). */
static inline void xb_spin_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

/* Sizes that cannot overflow: each saturates at SIZE_MAX, which then stands for "more than
 * this machine can address" and stays SIZE_MAX through later sums and products. Estimates
 * of what a cell allocates (core/model.c, harness/sweep.c) go through these, so an absurd
 * configuration reads as too large instead of wrapping round to a small number. */
static inline size_t xb_size_add(size_t a, size_t b)
{
    size_t r;
    return __builtin_add_overflow(a, b, &r) ? SIZE_MAX : r;
}
static inline size_t xb_size_mul(size_t a, size_t b)
{
    size_t r;
    return __builtin_mul_overflow(a, b, &r) ? SIZE_MAX : r;
}
/* n rounded up to a multiple of 64 (SIZE_MAX for n past the last multiple). */
static inline size_t xb_align64(size_t n) { return n > SIZE_MAX - 63 ? SIZE_MAX : (n + 63) & ~(size_t)63; }
/* Ask for the n floats at p (one request per 64-byte line). Scans that read a head's few
 * hundred bytes of every longer row step across pages faster than the hardware prefetcher
 * follows; they ask for the row a few steps ahead with this. Never faults. */
static inline void xb_prefetch(const float *p, int n)
{
    for (int j = 0; j < n; j += 16) __builtin_prefetch(p + j);
}
static inline int xb_min(int a, int b) { return a < b ? a : b; }
static inline int xb_max(int a, int b) { return a > b ? a : b; }

#endif
