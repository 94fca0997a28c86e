/* core/scratch.h — a kernel's scratch written down once, as a list that both sizes it and
 * carves it, so the two cannot drift apart (issue 18: a size formula in n_scratch and pointer
 * arithmetic in forward that disagree is a heap overflow no test names).
 *
 * A mixer (or a core kernel with caller-provided work) writes one plan function that takes its
 * buffers in order from an xb_scratch and returns the size:
 *
 *     typedef struct bufs { float *dy, *tiles; int *table; size_t tstride; } bufs;
 *     static size_t plan(const xb_mixer_cfg *c, int B, int N, float *scratch, bufs *b)
 *     {
 *         xb_scratch s = xb_scratch_at(scratch);
 *         XB_TAKE(&s, b->table, (size_t)N, XB_SCR_PACKED);            (ints are fine)
 *         XB_TAKE(&s, b->dy, (size_t)B * N * c->d, XB_SCR_64F);
 *         XB_TAKE_THREADS(&s, b->tiles, 2 * 64 * 64, XB_SCR_64F, &b->tstride);
 *         return xb_scratch_floats(&s);
 *     }
 *     n_scratch:  bufs b; return plan(c, B, N, NULL, &b);      measuring: every pointer is NULL
 *     forward:    bufs b; plan(c, B, N, scratch, &b);          carving
 *
 * Overlays: buffers never live at the same time (forward's and backward's, a projection's
 * blocks and the scans after it) can share room. Between xb_scratch_union_begin and
 * xb_scratch_union_end each xb_scratch_union_next starts another alternative where the union
 * began; the union is as long as its longest alternative, and what follows starts after it.
 *
 * Alignment: each buffer starts at an offset from the start of the scratch rounded up to its
 * `align` (bytes; at least the element's own alignment). The scratch itself starts on a 64-byte
 * line (xb_alloc, the model's arena), so XB_SCR_LINE and XB_SCR_64F offsets are 64-byte aligned
 * addresses. The lists keep the alignment each kernel had before this helper (packed runs,
 * 64-byte lines, or xb_align64's 64-float steps) and, as xb_scratch_pad, any room an old size
 * formula counted past its buffers, so every n_scratch and decode_scratch is the number it was
 * (bytes_analytic records them). Results do not depend on alignment: the kernels use unaligned
 * loads and OpenBLAS packs its operands (fnet, whose FFTW plans do depend on it, starts on a
 * line of its own).
 *
 * Per-thread slices count xb_max_threads() when sized and again when carved: the thread count
 * must not grow in between (the harness sets it before asking for any size).
 *
 * Sizes saturate at SIZE_MAX (core/xb.h's xb_size_add/mul), so an absurd shape measures as too
 * large instead of wrapping round. Nothing here allocates. */
#ifndef XB_SCRATCH_H
#define XB_SCRATCH_H

#include <stddef.h>

#define XB_SCR_PACKED 0     /* right after the previous buffer (element alignment only) */
#define XB_SCR_LINE   64    /* a 64-byte cache line */
#define XB_SCR_64F    256   /* a multiple of 64 floats from the start (xb_align64's unit) */

typedef struct xb_scratch {
    char *base;     /* where offsets count from; NULL while measuring */
    size_t at;      /* bytes taken so far */
    size_t lead;    /* bytes before base that the size counts (xb_scratch_at_line) */
} xb_scratch;

typedef struct xb_scratch_union {
    size_t start, end;   /* where the alternatives begin; the end of the longest so far */
} xb_scratch_union;

/* Start a list at base (NULL: measure only). */
xb_scratch xb_scratch_at(void *base);
/* The same, with the first buffer on the first 64-byte line at or after base, whatever base's
 * own alignment; the size counts 64 bytes for that (for FFTW, whose plans depend on it). */
xb_scratch xb_scratch_at_line(void *base);

/* n elements of `size` bytes at the next offset rounded up to align (XB_SCR_*, or any power of
 * two); NULL while measuring. */
void *xb_scratch_take(xb_scratch *s, size_t n, size_t size, size_t align);
/* count slices of n elements, slice p at the result + p · *stride elements: the first starts
 * at align, each is rounded up to align. NULL while measuring; the stride is set either way.
 * _threads: one slice per thread (xb_max_threads()). */
void *xb_scratch_take_slices(xb_scratch *s, size_t count, size_t n, size_t size, size_t align,
                             size_t *stride);
void *xb_scratch_take_threads(xb_scratch *s, size_t n, size_t size, size_t align, size_t *stride);
/* Move to the next offset rounded up to align; room left unused (n floats) for a size that the
 * list keeps larger than its buffers. */
void xb_scratch_align(xb_scratch *s, size_t align);
void xb_scratch_pad(xb_scratch *s, size_t n);

/* Overlays, see above. */
xb_scratch_union xb_scratch_union_begin(const xb_scratch *s);
void xb_scratch_union_next(xb_scratch *s, xb_scratch_union *u);
void xb_scratch_union_end(xb_scratch *s, xb_scratch_union *u);

/* Floats taken so far (rounded up; SIZE_MAX when a size overflowed): the plan's size. */
size_t xb_scratch_floats(const xb_scratch *s);

/* p = n elements of p's type (ints, spans, floats alike). */
#define XB_TAKE(s, p, n, align) \
    ((p) = xb_scratch_take((s), (n), sizeof *(p), (align)))
#define XB_TAKE_SLICES(s, p, count, n, align, stride) \
    ((p) = xb_scratch_take_slices((s), (count), (n), sizeof *(p), (align), (stride)))
#define XB_TAKE_THREADS(s, p, n, align, stride) \
    ((p) = xb_scratch_take_threads((s), (n), sizeof *(p), (align), (stride)))

#endif
