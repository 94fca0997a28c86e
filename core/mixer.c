/* core/mixer.c — helpers over the mixer contract: sizes, defaults, init, flags. */
#include "core/mixer.h"

#include <math.h>
#include <string.h>

#include "core/xb.h"

size_t xb_mixer_n_params(const xb_mixer *m, const xb_mixer_cfg *c)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = m->tensors(c, t);
    size_t end = 0;
    for (int i = 0; i < n; i++) {
        size_t e = t[i].offset + (size_t)t[i].rows * t[i].cols;
        if (e > end) end = e;
    }
    return end;
}

size_t xb_mixer_n_trainable(const xb_mixer *m, const xb_mixer_cfg *c)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = m->tensors(c, t);
    size_t s = 0;
    for (int i = 0; i < n; i++)
        if (!(t[i].flags & XB_T_FROZEN)) s += (size_t)t[i].rows * t[i].cols;
    return s;
}

xb_mixer_cfg xb_mixer_resolve(const xb_mixer *m, const xb_mixer_cfg *c)
{
    xb_mixer_cfg r = *c;
    if (m->defaults) m->defaults(&r);
    return r;
}

void xb_init_uniform(float *w, int rows, int cols, xb_rng *rng)
{
    float a = 1.0f / sqrtf((float)rows);
    for (size_t i = 0; i < (size_t)rows * cols; i++) w[i] = xb_rng_uniformf(rng, -a, a);
}

void xb_mixer_flags(const xb_mixer *m, const xb_mixer_cfg *c, unsigned char *mask)
{
    xb_tensor t[XB_MAX_TENSORS];
    int n = m->tensors(c, t);
    memset(mask, 0, xb_mixer_n_params(m, c));
    for (int i = 0; i < n; i++)
        memset(mask + t[i].offset, (int)t[i].flags, (size_t)t[i].rows * t[i].cols);
}

void xb_zero_pad_rows(float *y, const int *len, int B, int N, int d)
{
    for (int b = 0; b < B; b++)
        for (int t = xb_len(len, b, N); t < N; t++) memset(y + ((size_t)b * N + t) * d, 0, (size_t)d * sizeof(float));
}
