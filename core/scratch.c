/* core/scratch.c — scratch lists that size and carve alike; see scratch.h. */
#include "core/scratch.h"

#include <stdint.h>

#include "core/xb.h"

/* n rounded up to a multiple of a (a power of two; SIZE_MAX stays SIZE_MAX) */
static size_t round_up(size_t n, size_t a)
{
    return n > SIZE_MAX - (a - 1) ? SIZE_MAX : (n + a - 1) & ~(a - 1);
}

/* the larger of align and the element's own alignment (the largest power of two dividing its
 * size, up to 16) */
static size_t eff_align(size_t size, size_t align)
{
    size_t own = size & (~size + 1);
    if (own > 16 || own == 0) own = 16;
    if (align < own) align = own;
    XB_ASSERT((align & (align - 1)) == 0);
    return align;
}

xb_scratch xb_scratch_at(void *base)
{
    return (xb_scratch){.base = base, .at = 0, .lead = 0};
}

xb_scratch xb_scratch_at_line(void *base)
{
    char *b = base ? (char *)(((uintptr_t)base + 63) & ~(uintptr_t)63) : NULL;
    return (xb_scratch){.base = b, .at = 0, .lead = 64};
}

void xb_scratch_align(xb_scratch *s, size_t align)
{
    s->at = round_up(s->at, eff_align(1, align));
}

void *xb_scratch_take(xb_scratch *s, size_t n, size_t size, size_t align)
{
    xb_scratch_align(s, eff_align(size, align));
    void *p = s->base && s->at != SIZE_MAX ? s->base + s->at : NULL;
    s->at = xb_size_add(s->at, xb_size_mul(n, size));
    return p;
}

void *xb_scratch_take_slices(xb_scratch *s, size_t count, size_t n, size_t size, size_t align,
                             size_t *stride)
{
    const size_t a = eff_align(size, align), bytes = round_up(xb_size_mul(n, size), a);
    XB_ASSERT(bytes == SIZE_MAX || bytes % size == 0);
    *stride = bytes == SIZE_MAX ? SIZE_MAX : bytes / size;
    return xb_scratch_take(s, xb_size_mul(count, *stride), size, a);
}

void *xb_scratch_take_threads(xb_scratch *s, size_t n, size_t size, size_t align, size_t *stride)
{
    return xb_scratch_take_slices(s, (size_t)xb_max_threads(), n, size, align, stride);
}

void xb_scratch_pad(xb_scratch *s, size_t n)
{
    s->at = xb_size_add(s->at, xb_size_mul(n, sizeof(float)));
}

xb_scratch_union xb_scratch_union_begin(const xb_scratch *s)
{
    return (xb_scratch_union){s->at, s->at};
}

void xb_scratch_union_next(xb_scratch *s, xb_scratch_union *u)
{
    if (s->at > u->end) u->end = s->at;
    s->at = u->start;
}

void xb_scratch_union_end(xb_scratch *s, xb_scratch_union *u)
{
    if (s->at > u->end) u->end = s->at;
    s->at = u->end;
}

size_t xb_scratch_floats(const xb_scratch *s)
{
    const size_t b = xb_size_add(s->lead, s->at);
    return b == SIZE_MAX ? SIZE_MAX : (b + sizeof(float) - 1) / sizeof(float);
}
