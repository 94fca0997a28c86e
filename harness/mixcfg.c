/* harness/mixcfg.c — a mixer's configuration as JSON and text (see harness/mixcfg.h). */
#include "harness/mixcfg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/measure.h"

/* The option keys every mixer's config carried before options were tables, frozen here in
 * their order. A record's config JSON is its identity (config_hash; `xbench compare` and
 * results/baseline match on it), so these keep their place, and 0 for a mixer that has no
 * such option: legacy_int as integers, legacy_float as the float value, always;
 * legacy_when_set only when non-zero. Never add to these lists. Every other option (any
 * future one) follows them in its mixer's table order, only when non-zero: a new option
 * whose default is 0 keeps every existing cell's identity, and one with a non-zero default
 * gives its mixer's cells a new identity (visible, never a silent match with old records). */
static const char *const legacy_int[] = {"kv_heads", "q_heads", "window", "block", "rank", "features", "state",
                                         "expand", "order", "theta", "chunk", "d_ff", "conv", "dt_rank"};
static const char *const legacy_float[] = {"expand_k", "eps"};
static const char *const legacy_when_set[] = {"summary", "random_blocks", "variant", "buckets", "rounds",
                                              "partitions", "topk"};

#define NL(a) (sizeof a / sizeof *a)

static int is_legacy(const char *name)
{
    for (size_t i = 0; i < NL(legacy_int); i++) if (!strcmp(name, legacy_int[i])) return 1;
    for (size_t i = 0; i < NL(legacy_float); i++) if (!strcmp(name, legacy_float[i])) return 1;
    for (size_t i = 0; i < NL(legacy_when_set); i++) if (!strcmp(name, legacy_when_set[i])) return 1;
    return 0;
}

/* The shortest text that reads back to the same float. */
static json_object *jfloat(float v)
{
    char s[32];
    for (int p = 1; p <= 9; p++) {
        snprintf(s, sizeof s, "%.*g", p, (double)v);
        if (strtof(s, NULL) == v) break;
    }
    return json_object_new_double_s((double)v, s);
}

static json_object *jint(int dump, long v) { return dump ? json_object_new_int((int)v) : json_object_new_int64(v); }
static json_object *jreal(int dump, double v) { return dump ? jfloat((float)v) : xb_json_num(v); }

static json_object *cfg_json(const xb_mixer *m, const xb_mixer_cfg *c, int dump)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "d", jint(dump, c->d));
    json_object_object_add(o, "heads", jint(dump, c->heads));
    json_object_object_add(o, "causal", jint(dump, c->causal));
    json_object_object_add(o, "n_max", jint(dump, c->n_max));
    if (dump) json_object_object_add(o, "layer", jint(dump, c->layer));
    for (size_t i = 0; i < NL(legacy_int); i++)
        json_object_object_add(o, legacy_int[i], jint(dump, (long)xb_mixer_opt_get(m, c, legacy_int[i])));
    for (size_t i = 0; i < NL(legacy_float); i++)
        json_object_object_add(o, legacy_float[i], jreal(dump, (float)xb_mixer_opt_get(m, c, legacy_float[i])));
    for (size_t i = 0; i < NL(legacy_when_set); i++) {
        long v = (long)xb_mixer_opt_get(m, c, legacy_when_set[i]);
        if (v) json_object_object_add(o, legacy_when_set[i], jint(dump, v));
    }
    for (int k = 0; k < m->n_opts; k++) {
        const xb_mixer_opt *op = &m->opts[k];
        if (is_legacy(op->name) || c->opt[k] == 0) continue;
        json_object_object_add(o, op->name, op->type == XB_OPT_FLOAT ? jreal(dump, (float)c->opt[k])
                                                                     : jint(dump, (long)c->opt[k]));
    }
    return o;
}

json_object *xb_mixcfg_json(const xb_mixer *m, const xb_mixer_cfg *c) { return cfg_json(m, c, 0); }
json_object *xb_mixcfg_dump_json(const xb_mixer *m, const xb_mixer_cfg *c) { return cfg_json(m, c, 1); }

void xb_mixcfg_text(char *out, size_t n, const xb_mixer *m, const xb_mixer_cfg *c)
{
    size_t used = 0;
    out[0] = '\0';
    for (int k = 0; k < m->n_opts; k++) {
        const xb_mixer_opt *o = &m->opts[k];
        int w = o->type == XB_OPT_FLOAT
                    ? snprintf(out + used, n - used, "%s%s=%.9g", used ? ", " : "", o->name, (double)(float)c->opt[k])
                    : snprintf(out + used, n - used, "%s%s=%d", used ? ", " : "", o->name, (int)c->opt[k]);
        if (w > 0 && (size_t)w < n - used) used += (size_t)w;
    }
}
