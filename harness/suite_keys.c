/* harness/suite_keys.c — the suite's key tables and what is generated from them: defaults,
 * the canonical dump (xb_suite_canonical: every resolved value, fixed order, numbers in the
 * shortest form that reads back to the same value) and the README's "## Suite keys" section
 * (xb_suite_keys_markdown). harness/suite.c reads YAML through the same tables, so
 * validation, defaults, the dump and the docs cannot disagree. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xb.h"
#include "harness/suite.h"
#include "harness/suite_keys.h"
#include "mixers/registry.h"

const char *const xb_suite_mode_names[] = {"bidirectional", "causal", NULL};   /* causal flag */
static const int latency_lengths_def[] = {256, 512, 1024, 2048, 4096, 8192, 16384};
const int xb_suite_task_lengths_def[] = {128};

#define MODEL(f) offsetof(xb_model_cfg, f)
const xb_suite_key xb_suite_model_keys[] = {
    {"dim", K_INT, 1, 65536, 64, MODEL(dim), 0, 0, 0, 0, "model width d"},
    {"layers", K_INT, 1, 1024, 2, MODEL(layers), 0, 0, 0, 0, "number of residual blocks"},
    {"heads", K_INT, 1, 4096, 4, MODEL(heads), 0, 0, 0, 0, "attention heads h (dim must be a multiple)"},
    {"mlp", K_ENUM, 0, 0, XB_MLP_GLU, MODEL(mlp), 0, xb_mlp_names, 0, 0, "MLP after each mixer: none, mlp or glu"},
    {"mlp_ratio", K_INT, 1, 64, 2, MODEL(mlp_ratio), 0, 0, 0, 0, "MLP hidden width = mlp_ratio * dim"},
    {"short_conv", K_INT, 0, 64, 0, MODEL(short_conv), 0, 0, 0, 0,
     "kernel of the short depthwise conv u + conv_k(u) before each mixer (0 = off)"},
    {"positions", K_ENUM, 0, 0, 1, MODEL(positions), 0, xb_positions_names, 0, 0,
     "position embedding: learned (a table of max-length rows) or none"},
    {"head_hidden", K_INT, 0, 65536, 0, MODEL(head_hidden), 0, 0, 0, 0,
     "hidden width of the CLS/PAIR classifier head (0 = 2 * dim)"},
    {"loop", K_INT, 1, 64, 1, MODEL(loop), 0, 0, 0, 0,
     "run the stack of layers this many times with shared weights (depth layers * loop, same parameters)"},
};

#define TRAIN(f) offsetof(xb_train_cfg, f)
const xb_suite_key xb_suite_train_keys[] = {
    {"steps", K_INT, 1, 1e9, 1500, TRAIN(steps), 0, 0, 0, 0, "optimizer steps"},
    {"batch", K_INT, 1, 65536, 32, TRAIN(batch), 0, 0, 0, 0, "sequences per step"},
    {"lr", K_FLOAT, 0, 10, 1e-3, TRAIN(lr), 0, 0, 0, 0, "peak AdamW learning rate"},
    {"warmup", K_FLOAT, 0, 1, 0.05, TRAIN(warmup), 0, 0, 0, 0,
     "fraction of steps of linear warm-up (then cosine decay to 0)"},
    {"weight_decay", K_FLOAT, 0, 10, 0.1, TRAIN(weight_decay), 0, 0, 0, 0,
     "decoupled weight decay on matrices"},
    {"clip", K_FLOAT, 0, 1e6, 1.0, TRAIN(clip), 0, 0, 0, 0, "global gradient-norm clip (0 = off)"},
    {"beta1", K_FLOAT, 0, 0.9999, 0.9, TRAIN(beta1), 0, 0, 0, 0, "AdamW first-moment decay"},
    {"beta2", K_FLOAT, 0, 0.99999, 0.999, TRAIN(beta2), 0, 0, 0, 0, "AdamW second-moment decay"},
    {"eval_every", K_INT, 0, 1e9, 0, TRAIN(eval_every), 0, 0, 0, 0,
     "evaluate on val every this many steps (0 = steps / 10)"},
    {"early_stop", K_FLOAT, 0, 1, 0, TRAIN(early_stop), 0, 0, 0, 0,
     "stop once val accuracy reaches this (0 = never)"},
};

#define LAT(f) offsetof(xb_latency_cfg, f)
const xb_suite_key xb_suite_latency_keys[] = {
    {"batch", K_INT, 1, 65536, 1, LAT(batch), 0, 0, 0, 0, "sequences per timed call"},
    {"warmup", K_INT, 0, 1e6, 3, LAT(warmup), 0, 0, 0, 0, "untimed runs before timing"},
    {"min_reps", K_INT, 1, 1e7, 10, LAT(min_reps), 0, 0, 0, 0, "at least this many timed runs ..."},
    {"min_time_s", K_DOUBLE, 0, 1e6, 0.5, LAT(min_time_s), 0, 0, 0, 0,
     "... and at least this many seconds of timed runs"},
    {"max_reps", K_INT, 1, 1e9, 1000, LAT(max_reps), 0, 0, 0, 0,
     "hard cap on timed runs (>= min_reps)"},
    {"max_cv", K_DOUBLE, 0, 100, 0.1, LAT(max_cv), 0, 0, 0, 0,
     "coefficient of variation above which a timing is flagged noisy"},
    {"lengths", K_LENGTHS, 1, XB_SUITE_MAX_LENGTH, 0, LAT(lengths), LAT(n_lengths), 0, latency_lengths_def,
     (int)(sizeof latency_lengths_def / sizeof *latency_lengths_def),
     "latency-only sequence lengths (no training); [] for none"},
    {"mode", K_ENUM, 0, 0, 1, LAT(causal), 0, xb_suite_mode_names, 0, 0,
     "mode of the latency sweep: causal or bidirectional"},
    {"decode_lengths", K_LENGTHS, 1, 1 << 24, 0, LAT(decode_lengths), LAT(n_decode_lengths), 0, 0, 0,
     "contexts N of decode cells: one causal mixer layer's time per generated token after N "
     "tokens (KV cache or recurrent state); [] for none"},
};

#define SUITE(f) offsetof(xb_suite, f)
const xb_suite_key xb_suite_limits_keys[] = {
    {"cell_timeout_s", K_DOUBLE, 0, 1e9, 600, SUITE(cell_timeout_s), 0, 0, 0, 0,
     "wall-clock limit of one cell in seconds (0 = none)"},
    {"mem_limit_mb", K_LONG, 0, 1e12, 8192, SUITE(mem_limit_mb), 0, 0, 0, 0,
     "address-space limit of one cell in MiB (0 = none); a cell whose analytic size passes it "
     "(or, with 0, this machine's memory and swap) is skipped:too-large without running"},
};

#define NK(t) ((int)(sizeof t / sizeof t[0]))
_Static_assert(NK(xb_suite_model_keys) == N_MODEL && NK(xb_suite_train_keys) == N_TRAIN &&
               NK(xb_suite_latency_keys) == N_LAT && NK(xb_suite_limits_keys) == N_LIMITS,
               "update N_* in harness/suite_keys.h");



const xb_suite_doc_key xb_suite_top_keys[] = {
    {"name", "string", "file name without .yaml", "run name: results go to `results/<name>/` "
     "(letters, digits, `.`, `_`, `-`)"},
    {"seed", "integer", "1234", "one seed (0 .. 2^64-1); same as `seeds: [seed]`"},
    {"seeds", "list of integers", "[1234]", "every cell runs once per seed (not with `seed:`)"},
    {"threads", "integer or list", "1", "thread counts: every cell runs once per count"},
    {"model", "mapping", "see `model:`", "model shape, for every task"},
    {"train", "mapping", "see `train:`", "training recipe, for every task"},
    {"latency", "mapping", "see `latency:`", "latency measurement settings"},
    {"limits", "mapping", "see `limits:`", "per-cell resource limits"},
    {"mixers", "list of names, or all", "all", "token mixers to compare (`xbench list mixers`)"},
    {"mixer_options", "mapping", "{}", "per-mixer options: `{<mixer>: {<option>: value}}`"},
    {"tasks", "list", "[]", "tasks to run, each a mapping (see tasks[]) or just a task name"},
};
const xb_suite_doc_key xb_suite_task_keys[] = {
    {"name", "string", "(required)", "task name (`xbench list tasks`)"},
    {"lengths", "list of integers", "the task's", "training lengths L, each 1 – 16777216: one cell per length (default: the "
     "task's own length — image its pixel count, pathfinder 1024, pathx 16384, mqar vocab/2 up "
     "to 128 — else 128)"},
    {"options", "mapping", "the task's defaults", "task options (`xbench list tasks`)"},
    {"model", "mapping", "suite `model:`", "overrides of `model:` keys for this task"},
    {"train", "mapping", "suite `train:`", "overrides of `train:` keys for this task"},
    {"mode", "causal or bidirectional", "TOK tasks causal, others bidirectional",
     "mixer mode for this task"},
    {"data_dir", "path or ~", "~", "folder with the real data files (~ = default source)"},
    {"mixers", "list of names, all or supported", "all",
     "the suite's mixers this task runs; `supported`: those that have the task's mode"},
};
_Static_assert(NK(xb_suite_top_keys) == N_TOP && NK(xb_suite_task_keys) == N_TASKKEYS, "update N_* in suite_keys.h");
_Static_assert(XB_SUITE_MAX_LENGTH == 16777216, "the help of tasks[].lengths says 16777216");


void xb_suite_set_defaults(const xb_suite_key *tab, int nk, void *base)
{
    char *b = base;
    for (int i = 0; i < nk; i++) {
        const xb_suite_key *k = &tab[i];
        switch (k->type) {
        case K_INT: case K_ENUM: *(int *)(b + k->off) = (int)k->def; break;
        case K_LONG: *(long *)(b + k->off) = (long)k->def; break;
        case K_FLOAT: *(float *)(b + k->off) = (float)k->def; break;
        case K_DOUBLE: *(double *)(b + k->off) = k->def; break;
        case K_LENGTHS: {
            int **arr = (int **)(b + k->off);
            *arr = malloc((size_t)(k->def_n ? k->def_n : 1) * sizeof **arr);
            if (*arr && k->def_n) memcpy(*arr, k->def_list, (size_t)k->def_n * sizeof **arr);
            *(int *)(b + k->off_n) = *arr ? k->def_n : 0;
            break;
        }
        }
    }
}

const char *xb_suite_mode_word(int causal) { return causal ? "causal" : "bidirectional"; }

/* ------------------------------------------------------------------------------------------
 * Canonical dump: every resolved value, fixed key order, numbers in their shortest form
 * that reads back to the same value. Reading the canonical text gives the same canonical. */

static void fmt_double(char *buf, size_t n, double x)
{
    if (x == floor(x) && fabs(x) < 1e15) {   /* whole numbers without an exponent: 600, not 6e+02 */
        snprintf(buf, n, "%.0f", x);
        return;
    }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, n, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return;
    }
}

static void fmt_float(char *buf, size_t n, float x)
{
    if (x == floorf(x) && fabsf(x) < 1e7f) {
        snprintf(buf, n, "%.0f", (double)x);
        return;
    }
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, n, "%.*g", p, (double)x);
        if ((float)strtod(buf, NULL) == x) return;
    }
}

static void write_int_list(FILE *f, const int *a, int n)
{
    fputc('[', f);
    for (int i = 0; i < n; i++) fprintf(f, "%s%d", i ? ", " : "", a[i]);
    fputc(']', f);
}

/* The value of table row k in base, as text. */
static void fmt_value(char *buf, size_t n, const xb_suite_key *k, const void *base)
{
    const char *b = base;
    switch (k->type) {
    case K_INT: snprintf(buf, n, "%d", *(const int *)(b + k->off)); break;
    case K_LONG: snprintf(buf, n, "%ld", *(const long *)(b + k->off)); break;
    case K_FLOAT: fmt_float(buf, n, *(const float *)(b + k->off)); break;
    case K_DOUBLE: fmt_double(buf, n, *(const double *)(b + k->off)); break;
    case K_ENUM: snprintf(buf, n, "%s", k->names[*(const int *)(b + k->off)]); break;
    case K_LENGTHS: {
        FILE *f = fmemopen(buf, n, "w");
        if (!f) { buf[0] = '\0'; break; }
        write_int_list(f, *(int *const *)(b + k->off), *(const int *)(b + k->off_n));
        fclose(f);
        break;
    }
    }
}

static void write_section(FILE *f, const char *indent, const char *name, const xb_suite_key *tab, int nk,
                          const void *base)
{
    fprintf(f, "%s%s:\n", indent, name);
    for (int i = 0; i < nk; i++) {
        char v[4096];
        fmt_value(v, sizeof v, &tab[i], base);
        fprintf(f, "%s  %s: %s\n", indent, tab[i].name, v);
    }
}

/* A YAML double-quoted string that reads back to s and is safe on a terminal: control
 * characters (C0, DEL, C1) and Unicode's bidirectional formatting characters are escaped. */
static void write_quoted(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        unsigned cp = 0;
        if (p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) cp = p[1];                 /* C1 */
        else if (p[0] == 0xE2 && p[1] == 0x80 && ((p[2] >= 0xAA && p[2] <= 0xAE) || p[2] == 0x8E || p[2] == 0x8F))
            cp = 0x2000u | (p[2] & 0x3Fu);                                           /* U+200E/F, U+202A..E */
        else if (p[0] == 0xE2 && p[1] == 0x81 && p[2] >= 0xA6 && p[2] <= 0xA9)
            cp = 0x2040u | (p[2] & 0x3Fu);                                           /* U+2066..9 */
        else if (p[0] == 0xD8 && p[1] == 0x9C)
            cp = 0x061C;                                                            /* U+061C */
        if (cp) {
            fprintf(f, "\\u%04x", cp);
            p += cp < 0x800 ? 1 : 2;
        } else if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p);
        } else if (*p < 0x20 || *p == 0x7f) {
            fprintf(f, "\\x%02x", *p);
        } else {
            fputc(*p, f);
        }
    }
    fputc('"', f);
}

char *xb_suite_canonical(const xb_suite *s, const xb_model_cfg *model, const xb_train_cfg *train)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    char v[64];
    fprintf(f, "name: %s\nseeds: [", s->name);
    for (int i = 0; i < s->n_seeds; i++) fprintf(f, "%s%llu", i ? ", " : "", (unsigned long long)s->seeds[i]);
    fprintf(f, "]\nthreads: ");
    write_int_list(f, s->threads, s->n_threads);
    fputc('\n', f);
    write_section(f, "", "model", xb_suite_model_keys, N_MODEL, model);
    write_section(f, "", "train", xb_suite_train_keys, N_TRAIN, train);
    write_section(f, "", "latency", xb_suite_latency_keys, N_LAT, &s->latency);
    write_section(f, "", "limits", xb_suite_limits_keys, N_LIMITS, s);
    fprintf(f, "mixers: [");
    for (int i = 0; i < s->n_mixers; i++) fprintf(f, "%s%s", i ? ", " : "", s->mixers[i]->name);
    fprintf(f, "]\nmixer_options:");
    int any = 0;
    for (int i = 0; i < s->n_mixers; i++) {
        char opts[1024] = "";
        size_t used = 0;
        const xb_mixer *m = s->mixers[i];
        for (int j = 0; j < m->n_opts; j++) {
            double x = s->mixer_cfg[i].opt[j];
            if (x == 0) continue;   /* left to the default */
            /* an ENUM as its number, as suites wrote it before options had names (the
             * canonical text, and so the suite hash, stay what they were) */
            if (m->opts[j].type == XB_OPT_FLOAT) fmt_float(v, sizeof v, (float)x);
            else snprintf(v, sizeof v, "%d", (int)x);
            int w = snprintf(opts + used, sizeof opts - used, "%s%s: %s", used ? ", " : "", m->opts[j].name, v);
            if (w > 0 && (size_t)w < sizeof opts - used) used += (size_t)w;
        }
        if (!used) continue;
        fprintf(f, "\n  %s: {%s}", s->mixers[i]->name, opts);
        any = 1;
    }
    fprintf(f, "%s\ntasks:%s\n", any ? "" : " {}", s->n_tasks ? "" : " []");
    for (int k = 0; k < s->n_tasks; k++) {
        const xb_suite_task *st = &s->tasks[k];
        fprintf(f, "  - name: %s", st->task->name);
        if (st->label) fprintf(f, "    # sweep: %s", st->label);
        fprintf(f, "\n    lengths: ");
        write_int_list(f, st->lengths, st->n_lengths);
        fprintf(f, "\n    mode: %s\n    data_dir: ", xb_suite_mode_word(st->causal));
        if (st->data_dir) write_quoted(f, st->data_dir);
        else fputc('~', f);
        if (st->use) {
            fprintf(f, "\n    mixers: [");
            for (int i = 0, first = 1; i < s->n_mixers; i++)
                if (st->use[i]) { fprintf(f, "%s%s", first ? "" : ", ", s->mixers[i]->name); first = 0; }
            fputc(']', f);
        }
        fprintf(f, "\n    options:%s\n", st->task->n_opts ? "" : " {}");
        for (int j = 0; j < st->task->n_opts; j++) {
            fmt_double(v, sizeof v, st->cfg.opt[j]);
            fprintf(f, "      %s: %s\n", st->task->opts[j].name, v);
        }
        write_section(f, "    ", "model", xb_suite_model_keys, N_MODEL, &st->model);
        write_section(f, "    ", "train", xb_suite_train_keys, N_TRAIN, &st->train);
    }
    fclose(f);
    return text;
}

/* ------------------------------------------------------------------------------------------
 * Documentation from the tables (README "## Suite keys", `xbench list keys`) */

static void md_table(FILE *f, const char *title, const char *prefix, const xb_suite_key *tab, int nk, const void *base)
{
    fprintf(f, "\n### `%s`\n\n| key | type | range | default | meaning |\n|---|---|---|---|---|\n", title);
    for (int i = 0; i < nk; i++) {
        const xb_suite_key *k = &tab[i];
        char range[256] = "", def[4096], type[128];
        if (k->type == K_ENUM) {
            size_t u = 0;
            for (int j = 0; k->names[j]; j++) {
                int w = snprintf(type + u, sizeof type - u, "%s%s", j ? " \\| " : "", k->names[j]);
                if (w > 0 && (size_t)w < sizeof type - u) u += (size_t)w;
            }
        } else {
            int is_int = k->type == K_INT || k->type == K_LONG || k->type == K_LENGTHS;
            snprintf(type, sizeof type, "%s", k->type == K_LENGTHS ? "list of integers"
                                                : is_int ? "integer" : "number");
            char a[64], b[64];
            fmt_double(a, sizeof a, k->min);
            fmt_double(b, sizeof b, k->max);
            if (k->max >= BIG / 10 || (is_int && k->max >= INT_MAX)) snprintf(range, sizeof range, "≥ %s", a);
            else snprintf(range, sizeof range, "%s – %s", a, b);
        }
        fmt_value(def, sizeof def, k, base);
        fprintf(f, "| `%s%s` | %s | %s | `%s` | %s |\n", prefix, k->name, type, range, def, k->help);
    }
}

static void md_doc(FILE *f, const char *title, const xb_suite_doc_key *tab, int nk)
{
    fprintf(f, "\n### %s\n\n| key | type | default | meaning |\n|---|---|---|---|\n", title);
    for (int i = 0; i < nk; i++)
        fprintf(f, "| `%s` | %s | %s | %s |\n", tab[i].name, tab[i].type, tab[i].def, tab[i].help);
}

/* The mixers' own option tables (core/mixer.h), one row per option. */
static void mixer_options_md(FILE *f)
{
    fprintf(f, "\n### `mixer_options:`\n\n"
            "`mixer_options: {<mixer>: {<option>: value}}`. Each mixer takes the options of its own\n"
            "table (in its file in `mixers/`; `xbench list mixers` names them); an option left out\n"
            "takes its default, which may depend on `dim` (d), `heads` and the length (n_max). A\n"
            "choice takes its name or its number.\n\n"
            "| mixer | option | type | range | default | meaning |\n|---|---|---|---|---|---|\n");
    char none[1024] = "";
    size_t used = 0;
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        if (m->n_opts == 0) {
            int w = snprintf(none + used, sizeof none - used, "%s`%s`", used ? ", " : "", m->name);
            if (w > 0 && (size_t)w < sizeof none - used) used += (size_t)w;
        }
        for (int k = 0; k < m->n_opts; k++) {
            const xb_mixer_opt *o = &m->opts[k];
            char type[256] = "", range[160] = "", def[160];
            double lo, hi;
            xb_mixer_opt_range(o, &lo, &hi);
            if (o->type == XB_OPT_ENUM) {
                size_t u = 0;
                for (int j = 0; o->names[j]; j++) {
                    int w = snprintf(type + u, sizeof type - u, "%s%s", j ? " \\| " : "", o->names[j]);
                    if (w > 0 && (size_t)w < sizeof type - u) u += (size_t)w;
                }
                snprintf(range, sizeof range, "1 – %.0f", hi);
                snprintf(def, sizeof def, "`%s`", o->def >= 1 && o->def <= hi ? o->names[(int)o->def - 1] : "?");
            } else {
                char a[64], b[64];
                fmt_double(a, sizeof a, lo < 1e-20 ? 0 : lo);   /* "> 0" options: the help says so */
                fmt_double(b, sizeof b, hi);
                snprintf(type, sizeof type, "%s", o->type == XB_OPT_FLOAT ? "number" : "integer");
                snprintf(range, sizeof range, "%s – %s", a, b);
                if (o->type == XB_OPT_FLOAT) fmt_float(b, sizeof b, (float)o->def);
                else fmt_double(b, sizeof b, o->def);
                if (o->def_doc) snprintf(def, sizeof def, "%s", o->def_doc);
                else snprintf(def, sizeof def, "`%s`", b);
            }
            fprintf(f, "| `%s` | `%s` | %s | %s | %s | %s |\n", m->name, o->name, type, range, def, o->help);
        }
    }
    if (used) fprintf(f, "\nNo options: %s.\n", none);
}

void xb_suite_keys_markdown(FILE *f)
{
    xb_model_cfg m;
    xb_train_cfg t;
    xb_latency_cfg l;
    xb_suite s;
    memset(&m, 0, sizeof m);
    memset(&t, 0, sizeof t);
    memset(&l, 0, sizeof l);
    memset(&s, 0, sizeof s);
    xb_suite_set_defaults(xb_suite_model_keys, N_MODEL, &m);
    xb_suite_set_defaults(xb_suite_train_keys, N_TRAIN, &t);
    xb_suite_set_defaults(xb_suite_latency_keys, N_LAT, &l);
    xb_suite_set_defaults(xb_suite_limits_keys, N_LIMITS, &s);
    fprintf(f, "## Suite keys\n\n"
            "Generated from the key tables in `harness/suite.c` (`xbench list keys` prints it).\n"
            "Every key has a default, so `tasks: [{name: mqar}]` is a whole suite. Unknown keys,\n"
            "mixers, tasks and options are errors; `xbench validate SUITE.yaml` prints the resolved\n"
            "suite with every default written out. For example:\n\n"
            "```yaml\n"
            "name: quick\n"
            "seeds: [1, 2]\n"
            "threads: 2\n"
            "model: {dim: 64, layers: 2, heads: 4, mlp: glu}\n"
            "train: {steps: 1500, lr: 1.0e-3}\n"
            "latency: {lengths: [256, 1024, 4096]}\n"
            "mixers: [softmax, linear, gla, mamba]\n"
            "mixer_options: {local: {window: 128}}\n"
            "tasks:\n"
            "  - name: mqar\n"
            "    lengths: [32, 64]\n"
            "    options: {kv_pairs: [2, 8]}  # a list is a sweep axis: one task per value\n"
            "    model: {short_conv: 3}      # overrides for this task only\n"
            "  - listops                     # a bare name: every default\n"
            "```\n");
    md_doc(f, "Top level", xb_suite_top_keys, N_TOP);
    md_table(f, "model:", "", xb_suite_model_keys, N_MODEL, &m);
    md_table(f, "train:", "", xb_suite_train_keys, N_TRAIN, &t);
    md_table(f, "latency:", "", xb_suite_latency_keys, N_LAT, &l);
    md_table(f, "limits:", "", xb_suite_limits_keys, N_LIMITS, &s);
    md_doc(f, "tasks[] (each item)", xb_suite_task_keys, N_TASKKEYS);
    fprintf(f, "\nA task's `model:` and `train:` take the keys above and override the suite's values\n"
            "for that task only. Task options (under `options:`) are listed with their ranges and\n"
            "defaults by `xbench list tasks`.\n\n"
            "Sweep axes: in a task's `options:`, `model:` and `train:`, a list where one value goes\n"
            "(`kv_pairs: [2, 8]`, `lr: [1.0e-3, 3.0e-3]`, `dim: [32, 64]`) makes one task per value,\n"
            "and one per combination when there are several lists (the last varies fastest), as\n"
            "Zoology sweeps MQAR. The tables label each by what differs (`mqar kv_pairs=8 lr=0.003`)\n"
            "and never pool them.\n");
    mixer_options_md(f);
    free(l.lengths);
    free(l.decode_lengths);
}
