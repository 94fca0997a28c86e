/* core/vmath.c — whole-array versions of the vectorisable float math of core/vmath.h (the
 * accuracy statements are there). Each loop compiles to SIMD code; y may alias x. */
#include "core/vmath.h"

void xb_vexp_n(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = xb_vexp(x[i]);
}

void xb_vsigmoid_n(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = xb_vsigmoid(x[i]);
}

void xb_vsilu_n(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = xb_vsilu(x[i]);
}

void xb_vsoftplus_n(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = xb_vsoftplus(x[i]);
}

void xb_vlogsig_n(size_t n, const float *x, float *y)
{
    for (size_t i = 0; i < n; i++) y[i] = xb_vlogsig(x[i]);
}
