/* core/adamw.c — AdamW update, warm-up + cosine schedule, global gradient norm
 * (see core/adamw.h). */
#include "core/adamw.h"

#include <math.h>

#include "core/mixer.h"

float xb_lr_at(float lr, float warmup, int steps, int step)
{
    int W = (int)lround((double)warmup * steps);
    if (W > 0 && step < W) return lr * (float)(step + 1) / (float)W;
    int span = steps - W > 0 ? steps - W : 1;
    double prog = (double)(step - W) / span;
    if (prog > 1.0) prog = 1.0;
    return (float)(lr * 0.5 * (1.0 + cos(M_PI * prog)));
}

#define NPART 64

double xb_grad_norm(const float *g, const unsigned char *flags, size_t n)
{
    double part[NPART];
    #pragma omp parallel for schedule(static) if (n >= 65536)
    for (int q = 0; q < NPART; q++) {
        size_t i0 = n * q / NPART, i1 = n * (q + 1) / NPART;
        double s = 0.0;
        for (size_t i = i0; i < i1; i++)
            if (!flags || !(flags[i] & XB_T_FROZEN)) s += (double)g[i] * g[i];
        part[q] = s;
    }
    double s = 0.0;
    for (int q = 0; q < NPART; q++) s += part[q];
    return sqrt(s);
}

void xb_adamw_step(float *p, const float *g, float *m, float *v, const unsigned char *flags,
                   size_t n, float lr, float beta1, float beta2, float wd, float gscale, int t)
{
    float bc1 = 1.0f - powf(beta1, (float)t), bc2 = 1.0f - powf(beta2, (float)t);
    #pragma omp parallel for schedule(static) if (n >= 32768)
    for (size_t i = 0; i < n; i++) {
        unsigned f = flags ? flags[i] : 0;
        if (f & XB_T_FROZEN) continue;
        float gi = g[i] * gscale;
        if (f & XB_T_DECAY) p[i] -= lr * wd * p[i];
        m[i] = beta1 * m[i] + (1.0f - beta1) * gi;
        v[i] = beta2 * v[i] + (1.0f - beta2) * gi * gi;
        p[i] -= lr * (m[i] / bc1) / (sqrtf(v[i] / bc2) + XB_ADAM_EPS);
    }
}
