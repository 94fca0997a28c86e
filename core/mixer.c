/* core/mixer.c — helpers over the mixer contract: sizes, options, defaults, init, flags,
 * tensor layouts and the facts sink. */
#include "core/mixer.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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
    for (int k = 0; k < m->n_opts; k++) {
        const xb_mixer_opt *o = &m->opts[k];
        if (r.opt[k] == 0) r.opt[k] = o->type == XB_OPT_FLOAT ? (double)(float)o->def : o->def;
    }
    if (m->defaults) m->defaults(&r);
    return r;
}

void xb_mixer_opt_range(const xb_mixer_opt *o, double *lo, double *hi)
{
    if (o->type != XB_OPT_ENUM) {
        *lo = o->min;
        *hi = o->max;
        return;
    }
    int n = 0;
    while (o->names && o->names[n]) n++;
    *lo = 1;
    *hi = n;
}

void xb_mixer_opt_choices(char *buf, size_t n, const xb_mixer_opt *o)
{
    size_t u = 0;
    buf[0] = '\0';
    for (int j = 0; o->names && o->names[j] && u < n; j++) {
        const char *sep = j == 0 ? "" : o->names[j + 1] ? ", " : " or ";
        int w = snprintf(buf + u, n - u, "%s%s (%d)", sep, o->names[j], j + 1);
        if (w < 0) break;
        u += (size_t)w;
    }
}

int xb_mixer_check(const xb_mixer *m, const xb_mixer_cfg *c, char *err, size_t errn)
{
    for (int k = 0; k < m->n_opts; k++) {
        const xb_mixer_opt *o = &m->opts[k];
        double lo, hi, v = c->opt[k];
        xb_mixer_opt_range(o, &lo, &hi);
        if (v >= lo && v <= hi && (o->type == XB_OPT_FLOAT || v == floor(v))) continue;
        if (o->type == XB_OPT_ENUM) {
            char choices[256];
            xb_mixer_opt_choices(choices, sizeof choices, o);
            snprintf(err, errn, "%s: must be %s, got %.17g", o->name, choices, v);
        } else {
            snprintf(err, errn, "%s: must be %s between %.17g and %.17g, got %.17g", o->name,
                     o->type == XB_OPT_FLOAT ? "a number" : "an integer", lo, hi, v);
        }
        return XB_EINVAL;
    }
    if (!(m->modes & (c->causal ? XB_CAUSAL : XB_BIDIR))) {
        snprintf(err, errn, c->causal ? "causal: %s has no causal form (bidirectional only)"
                                      : "causal: %s has no bidirectional form (causal only)", m->name);
        return XB_EINVAL;
    }
    return m->check ? m->check(c, err, errn) : 0;
}

int xb_mixer_opt_find(const xb_mixer *m, const char *name)
{
    for (int k = 0; k < m->n_opts; k++)
        if (!strcmp(m->opts[k].name, name)) return k;
    return -1;
}

int xb_mixer_opt_set(const xb_mixer *m, xb_mixer_cfg *c, const char *name, double v)
{
    int k = xb_mixer_opt_find(m, name);
    if (k < 0) return -1;
    c->opt[k] = m->opts[k].type == XB_OPT_FLOAT ? (double)(float)v : v;
    return 0;
}

double xb_mixer_opt_get(const xb_mixer *m, const xb_mixer_cfg *c, const char *name)
{
    int k = xb_mixer_opt_find(m, name);
    return k < 0 ? 0 : c->opt[k];
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

/* ---- tensor layouts and facts -------------------------------------------------------- */

int xb_tensor_is_vector(const xb_tensor *t) { return t->cols == 1 && !(t->flags & XB_T_DECAY); }

const char *xb_tensor_layout(const xb_mixer *m, const xb_mixer_cfg *c, const xb_tensor *t)
{
    if (xb_tensor_is_vector(t)) return "vector (n,)";
    const char *s = m->layout ? m->layout(c, t) : NULL;
    if (s) return s;
    return strcmp(t->name, "W_O") == 0 ? XB_LAYOUT_ROWS : XB_LAYOUT_COLS;
}

void xb_fact_text(const xb_facts *f, const char *key, const char *fmt, ...)
{
    char s[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    f->text(f->ctx, key, s);
}

void xb_fact_int(const xb_facts *f, const char *key, long v) { f->integer(f->ctx, key, v); }
void xb_fact_real(const xb_facts *f, const char *key, float v) { f->real(f->ctx, key, v); }

double xb_window_pairs(int N, int before, int after)
{
    /* N^2 minus the pairs cut off below (j < i - before) and above (j > i + after); each is a
     * triangle T(m) = m (m + 1) / 2 with m = N - 1 - before (after). Exact in double: every
     * term is an integer below 2^53 for N < 2^26. */
    double n = N, mb = n - 1 - before, ma = n - 1 - after;
    return n * n - (mb > 0 ? mb * (mb + 1) / 2 : 0) - (ma > 0 ? ma * (ma + 1) / 2 : 0);
}
