/* tests/test_mixopts.c — the mixers' options tables (core/mixer.h) drive everything that
 * names an option, so adding one is one row in its mixer's file:
 *   round_trip      every option of every registered mixer, set in a suite, reaches the
 *                   stored config, the canonical text (which reads back the same), the
 *                   record's config JSON, `xbench list mixers`, the README's key table and
 *                   dump's --option and meta.json config; a value below its range is refused
 *                   at file:line:column and key
 *   unknown         an option a mixer does not take is refused naming the mixer, and the
 *                   note lists every option it does take
 *   enum            a choice is read by name or by number, to the same cell
 *   legacy_json     a record's config keeps the frozen legacy keys in their order (0 for a
 *                   mixer without them), and an option outside that list (any new one) is
 *                   written after them when set and left out when 0 */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "core/xb.h"
#include "harness/catalog.h"
#include "harness/dump.h"
#include "harness/measure.h"
#include "harness/mixcfg.h"
#include "harness/suite.h"
#include "harness/sweep.h"
#include "mixers/registry.h"

static const xb_task *const no_tasks[] = {NULL};

/* Load text against the given mixers; the code, and the messages in *errs (malloc'd). */
__attribute__((noinline)) static int load_with(const char *text, xb_suite *s, char **errs, const xb_mixer *const *mixers)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    int rc = xb_suite_load_with(text, "o.yaml", s, f, mixers, no_tasks);
    fclose(f);
    *errs = buf;
    return rc;
}

__attribute__((noinline)) static char *capture_catalog(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xb_catalog_mixers(f, 0);
    fclose(f);
    return buf;
}

__attribute__((noinline)) static char *capture_keys(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    xb_suite_keys_markdown(f);
    fclose(f);
    return buf;
}

/* The first mode m has. */
static int mode_of(const xb_mixer *m) { return (m->modes & XB_CAUSAL) != 0; }

/* A value of option k other than its default that m's checks accept at d = 64, 4 heads,
 * n_max = 64 with the other options at their defaults (the default itself when no other one
 * passes: mqa's kv_heads must be 1); *text is how a suite writes it (an ENUM by name). */
static double pick_value(const xb_mixer *m, int k, char *text, size_t n)
{
    const xb_mixer_opt *o = &m->opts[k];
    xb_mixer_cfg base = {.d = 64, .heads = 4, .causal = mode_of(m), .n_max = 64};
    xb_mixer_cfg def = xb_mixer_resolve(m, &base);
    double lo, hi, cand[16];
    xb_mixer_opt_range(o, &lo, &hi);
    int nc = 0;
    if (o->type == XB_OPT_FLOAT) {
        const double f[] = {0.25, 1, 2, 0.75};
        for (int i = 0; i < 4; i++) cand[nc++] = f[i];
    } else {
        const double f[] = {lo, lo + 1, 2, 3, 4, 5, 7, 8, 16, 32, hi};
        for (int i = 0; i < 11; i++) cand[nc++] = f[i];
    }
    double chosen = def.opt[k];
    for (int i = 0; i < nc; i++) {
        if (cand[i] < lo || cand[i] > hi || cand[i] == def.opt[k]) continue;
        xb_mixer_cfg c = base;
        c.opt[k] = cand[i];
        c = xb_mixer_resolve(m, &c);
        char err[256];
        if (xb_mixer_check(m, &c, err, sizeof err) == 0) {
            chosen = cand[i];
            break;
        }
    }
    if (o->type == XB_OPT_ENUM) snprintf(text, n, "%s", o->names[(int)chosen - 1]);
    else snprintf(text, n, "%.9g", chosen);
    return chosen;
}

static json_object *get(json_object *o, const char *k)
{
    json_object *v = NULL;
    return json_object_object_get_ex(o, k, &v) ? v : NULL;
}

static void expect_json_value(json_object *v, const xb_mixer_opt *o, double want, const char *where)
{
    cr_assert_not_null(v, "%s: option '%s' missing", where, o->name);
    if (o->type == XB_OPT_FLOAT) cr_expect_eq((float)json_object_get_double(v), (float)want, "%s: %s", where, o->name);
    else cr_expect_eq(json_object_get_int64(v), (int64_t)want, "%s: %s", where, o->name);
}

Test(mixopts, round_trip, .timeout = 120)
{
    char *catalog = capture_catalog(), *keys = capture_keys();
    int tried = 0;
    for (int mi = 0; xb_mixers[mi]; mi++) {
        const xb_mixer *m = xb_mixers[mi];
        const xb_mixer *one[] = {m, NULL};
        /* `xbench list mixers`: m's row names its options */
        char row[512] = "";
        const char *at = strstr(catalog, m->name);
        while (at && !(at == catalog || at[-1] == '\n')) at = strstr(at + 1, m->name);
        cr_assert_not_null(at, "list mixers has no row for %s", m->name);
        snprintf(row, sizeof row, "%.*s", (int)strcspn(at, "\n"), at);
        for (int k = 0; k < m->n_opts; k++) {
            const xb_mixer_opt *o = &m->opts[k];
            char text[64], yaml[512], *errs;
            double v = pick_value(m, k, text, sizeof text);
            cr_expect(strstr(row, o->name), "list mixers: %s's row does not name '%s': %s", m->name, o->name, row);
            char doc[128];
            snprintf(doc, sizeof doc, "| `%s` | `%s` |", m->name, o->name);
            cr_expect(strstr(keys, doc), "list keys: no row %s", doc);

            /* suite -> stored value -> canonical text -> the same again */
            snprintf(yaml, sizeof yaml, "model: {dim: 64, heads: 4}\nlatency: {lengths: [64], mode: %s}\n"
                     "mixers: [%s]\nmixer_options: {%s: {%s: %s}}\n",
                     mode_of(m) ? "causal" : "bidirectional", m->name, m->name, o->name, text);
            xb_suite s, s2;
            cr_assert_eq(load_with(yaml, &s, &errs, one), 0, "%s.%s = %s refused:\n%s", m->name, o->name, text, errs);
            free(errs);
            cr_expect_eq(s.mixer_cfg[0].opt[k], o->type == XB_OPT_FLOAT ? (double)(float)v : v, "%s.%s stored",
                         m->name, o->name);
            cr_assert_eq(load_with(s.canonical, &s2, &errs, one), 0, "canonical refused:\n%s\n%s", s.canonical, errs);
            free(errs);
            cr_expect_str_eq(s2.canonical, s.canonical);
            cr_expect_eq(s2.mixer_cfg[0].opt[k], s.mixer_cfg[0].opt[k], "%s.%s through the canonical text", m->name,
                         o->name);
            xb_suite_release(&s2);

            /* the record's config JSON */
            xb_sweep_opts so = {0};
            xb_cell_spec *cells;
            int nc;
            cr_assert_eq(xb_sweep_expand(&s, &so, &cells, &nc, stderr), 0);
            cr_assert_geq(nc, 1);
            json_object *cfg = get(get(cells[0].config, "mixer"), "cfg");
            expect_json_value(get(cfg, o->name), o, v, "record config");
            xb_sweep_cells_free(cells, nc);
            xb_suite_release(&s);

            /* dump: --option KEY=VALUE, meta.json's config and the Options line */
            char kv[128], err[512], line[512];
            snprintf(kv, sizeof kv, "%s=%s", o->name, text);
            xb_mixer_cfg c = xb_dump_cfg(64, 4, mode_of(m), 64);
            cr_assert_eq(xb_dump_option(m, &c, kv, err, sizeof err), 0, "dump --option %s: %s", kv, err);
            c = xb_mixer_resolve(m, &c);
            json_object *dj = xb_mixcfg_dump_json(m, &c);
            expect_json_value(get(dj, o->name), o, v, "dump config");
            json_object_put(dj);
            xb_mixcfg_text(line, sizeof line, m, &c);
            cr_expect(strstr(line, o->name), "dump Options line lacks %s: %s", o->name, line);

            /* below the range: refused at file:line:column and key */
            double lo, hi;
            xb_mixer_opt_range(o, &lo, &hi);
            snprintf(yaml, sizeof yaml, "latency: {lengths: [64], mode: %s}\nmixers: [%s]\n"
                     "mixer_options: {%s: {%s: %.9g}}\n",
                     mode_of(m) ? "causal" : "bidirectional", m->name, m->name, o->name, lo - 1);
            cr_expect_eq(load_with(yaml, &s, &errs, one), XB_EINVAL, "%s.%s = %g accepted", m->name, o->name, lo - 1);
            char want[160];
            snprintf(want, sizeof want, ": mixer_options.%s.%s: expected ", m->name, o->name);
            cr_expect(!strncmp(errs, "o.yaml:3:", 9) && strstr(errs, want), "no 'o.yaml:3:...%s' in:\n%s", want, errs);
            free(errs);
            tried++;
        }
    }
    cr_expect_gt(tried, 20, "only %d options tried", tried);
    free(catalog);
    free(keys);
}

Test(mixopts, unknown_option_names_the_mixers_options)
{
    for (int mi = 0; xb_mixers[mi]; mi++) {
        const xb_mixer *m = xb_mixers[mi];
        const xb_mixer *one[] = {m, NULL};
        char yaml[256], want[256], *errs;
        snprintf(yaml, sizeof yaml, "latency: {lengths: [64], mode: %s}\nmixers: [%s]\nmixer_options: {%s: {nosuchopt: 3}}\n",
                 mode_of(m) ? "causal" : "bidirectional", m->name, m->name);
        xb_suite s;
        cr_expect_eq(load_with(yaml, &s, &errs, one), XB_EINVAL, "%s took 'nosuchopt'", m->name);
        snprintf(want, sizeof want, "o.yaml:3:%d: mixer_options.%s.nosuchopt: unknown option 'nosuchopt' for mixer '%s'\n",
                 (int)(strlen("mixer_options: {") + strlen(m->name) + strlen(": {") + 1), m->name, m->name);
        cr_expect(!strncmp(errs, want, strlen(want)), "want\n%sgot\n%s", want, errs);
        if (m->n_opts == 0) {
            cr_expect(strstr(errs, "takes no options"), "%s", errs);
        } else {
            const char *note = strstr(errs, "note: options of");
            cr_expect_not_null(note, "%s", errs);
            for (int k = 0; note && k < m->n_opts; k++)
                cr_expect(strstr(note, m->opts[k].name), "the note does not list %s.%s:\n%s", m->name, m->opts[k].name,
                          errs);
        }
        free(errs);
    }
}

Test(mixopts, enum_by_name_or_number)
{
    int tried = 0;
    for (int mi = 0; xb_mixers[mi]; mi++) {
        const xb_mixer *m = xb_mixers[mi];
        const xb_mixer *one[] = {m, NULL};
        for (int k = 0; k < m->n_opts; k++) {
            const xb_mixer_opt *o = &m->opts[k];
            if (o->type != XB_OPT_ENUM) continue;
            for (int j = 0; o->names[j]; j++) {
                char a[256], b[256], *errs;
                const char *fmt = "latency: {lengths: [64], mode: %s}\nmixers: [%s]\nmixer_options: {%s: {%s: %s}}\n";
                const char *mode = mode_of(m) ? "causal" : "bidirectional";
                char num[16];
                snprintf(num, sizeof num, "%d", j + 1);
                snprintf(a, sizeof a, fmt, mode, m->name, m->name, o->name, o->names[j]);
                snprintf(b, sizeof b, fmt, mode, m->name, m->name, o->name, num);
                xb_suite sa, sb;
                cr_assert_eq(load_with(a, &sa, &errs, one), 0, "%s", errs);
                free(errs);
                cr_assert_eq(load_with(b, &sb, &errs, one), 0, "%s", errs);
                free(errs);
                cr_expect_eq(sa.mixer_cfg[0].opt[k], j + 1);
                cr_expect_str_eq(sa.canonical, sb.canonical, "%s.%s: %s and %s differ", m->name, o->name, o->names[j], num);
                xb_suite_release(&sa);
                xb_suite_release(&sb);
                tried++;
            }
            char bad[256], *errs;
            snprintf(bad, sizeof bad, "latency: {lengths: [64], mode: %s}\nmixers: [%s]\nmixer_options: {%s: {%s: nope}}\n",
                     mode_of(m) ? "causal" : "bidirectional", m->name, m->name, o->name);
            xb_suite s;
            cr_expect_eq(load_with(bad, &s, &errs, one), XB_EINVAL);
            cr_expect(strstr(errs, o->names[0]) && strstr(errs, "got 'nope'"), "the error lists the names: %s", errs);
            free(errs);
        }
    }
    cr_expect_gt(tried, 0, "no mixer has a choice");
}

/* A mixer with one legacy option and one that is not (any new option). */
enum { FRESH_WINDOW, FRESH_GAIN, FRESH_TILES };
static const xb_mixer_opt fresh_opts[] = {
    [FRESH_WINDOW] = {.name = "window", .type = XB_OPT_INT, .min = 1, .max = 1024, .def = 8, .help = "w"},
    [FRESH_GAIN] = {.name = "gain", .type = XB_OPT_FLOAT, .min = 0, .max = 10, .def_doc = "0 (off)", .help = "g"},
    [FRESH_TILES] = {.name = "tiles", .type = XB_OPT_INT, .min = 1, .max = 64, .def = 3, .help = "t"},
};
static void fresh_defaults(xb_mixer_cfg *c) { (void)c; }
static const xb_mixer fresh = {.name = "fresh", XB_OPTS(fresh_opts), .defaults = fresh_defaults};

static const char *const legacy[] = {"d", "heads", "causal", "n_max", "kv_heads", "q_heads", "window", "block",
                                     "rank", "features", "state", "expand", "order", "theta", "chunk", "d_ff",
                                     "conv", "dt_rank", "expand_k", "eps"};

Test(mixopts, legacy_json)
{
    const int nl = (int)(sizeof legacy / sizeof *legacy);
    /* softmax has no options: exactly the legacy keys, in order, the options 0 */
    xb_mixer_cfg c = {.d = 64, .heads = 4, .causal = 1, .n_max = 128};
    const xb_mixer *soft = xb_mixer_find("softmax");
    cr_assert_not_null(soft);
    json_object *o = xb_mixcfg_json(soft, &c);
    cr_expect_str_eq(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
                     "{\"d\":64,\"heads\":4,\"causal\":1,\"n_max\":128,\"kv_heads\":0,\"q_heads\":0,\"window\":0,"
                     "\"block\":0,\"rank\":0,\"features\":0,\"state\":0,\"expand\":0,\"order\":0,\"theta\":0,"
                     "\"chunk\":0,\"d_ff\":0,\"conv\":0,\"dt_rank\":0,\"expand_k\":0.0,\"eps\":0.0}");
    json_object_put(o);

    /* a new option comes after the legacy keys in table order, only when set */
    c = xb_mixer_resolve(&fresh, &c);
    o = xb_mixcfg_json(&fresh, &c);
    cr_assert_eq((int)json_object_object_length(o), nl + 1, "%s", json_object_to_json_string(o));
    int i = 0;
    json_object_object_foreach(o, key, val) {
        if (i < nl) cr_expect_str_eq(key, legacy[i], "key %d", i);
        else cr_expect_str_eq(key, "tiles");
        (void)val;
        i++;
    }
    cr_expect_eq(json_object_get_int(get(o, "window")), 8);
    cr_expect_null(get(o, "gain"), "an unset option is left out");
    json_object_put(o);
    xb_cfg_set(&c, FRESH_GAIN, (float)0.3);
    o = xb_mixcfg_json(&fresh, &c);
    cr_expect_eq((float)json_object_get_double(get(o, "gain")), 0.3f, "a set float option is written, as a float");
    json_object_put(o);
}
