/* cmd/cmd_dump.c — `xbench dump`: one mixer layer's weights, input, output and gradients as
 * .npy files plus meta.json, so another implementation (NumPy, PyTorch) can be checked against
 * xbench tensor by tensor; and `xbench dump --list-tensors`, the per-mixer table of parameter
 * files in docs/dump.md (generated here so it cannot drift from the registry).
 *
 * The recipe (also written into meta.json's "rng"):
 *   cfg   = {d, heads, causal, n_max = N, layer = 0, --option values}, then xb_mixer_resolve;
 *   w     = mixer init() with xoshiro256** seeded by xb_stream_seed(seed, 0, "init", 0);
 *   x     = N(0,1) (xb_rng_normal, row-major N × d) from xb_stream_seed(seed, 0, "dump.x", 0);
 *   dy    = N(0,1) likewise from xb_stream_seed(seed, 0, "dump.dy", 0);
 *   y     = forward(w, x) with B = 1, no padding; dx, dw = backward(dy) with dw zeroed first.
 * dump computes one layer, so it calls the kernels (and their OpenMP regions) directly. Results
 * are bit-identical for the same seed and thread count (recorded as "threads"). */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cmd/cmd.h"
#include "core/mixer.h"
#include "core/rng.h"
#include "core/xb.h"
#include "harness/diag.h"
#include "harness/mixcfg.h"
#include "harness/npy.h"
#include "harness/suite_keys.h"
#include "mixers/bigbird.h"
#include "mixers/registry.h"

enum { OPT_N = 1000, OPT_D, OPT_HEADS, OPT_CAUSAL, OPT_SEED, OPT_LIST };

static const xb_cli_opt opts[] = {
    {"mixer", 1, 'm', "NAME", "the mixer (`xbench list mixers`)"},
    {"n", 1, OPT_N, "N", "sequence length, also the layer's n_max (default 64)"},
    {"d", 1, OPT_D, "D", "model width (default 64)"},
    {"heads", 1, OPT_HEADS, "H", "heads (default 4)"},
    {"causal", 0, OPT_CAUSAL, NULL, "causal mode (default: bidirectional)"},
    {"seed", 1, OPT_SEED, "S", "seed of weights, x and dy (default 1)"},
    {"option", 1, 'O', "KEY=VALUE", "a mixer option as in suite mixer_options (repeatable)"},
    {"output", 1, 'o', "DIR", "folder for the files (created if missing)"},
    {"list-tensors", 0, OPT_LIST, NULL, "print the Markdown table of tensor files per mixer"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "dump", NULL,
    "Run one mixer layer forward and backward on a seeded random input and write, into DIR,\n"
    "NumPy .npy files (format 1.0, '<f4', C order; B = 1 dropped): x, y, dy (the random upstream\n"
    "gradient), dx, one file per parameter tensor named as in MIXERS.md §32 (frozen buffers\n"
    "included) and grad_<name> for each trainable one, plus meta.json (configuration, seeds,\n"
    "every file with its shape, slab offset, flags and layout, and the §32 decisions in force).\n"
    "Matrices are (in, out) row-major, y = x W; heads own contiguous columns.\n"
    "--list-tensors prints the tensor table of every mixer (or of --mixer) at --d/--heads/--n\n"
    "instead (docs/dump.md holds it for the defaults). See docs/dump.md.",
    opts,
};

/* ---- tensor shapes and layouts ---- */

/* A vector (cols = 1 and not a decayed matrix) is 1-D; a matrix with one column (lmu's
 * W_u [d, 1], decayed) stays 2-D, as MIXERS.md §32 writes it. */
static int tensor_shape(const xb_tensor *t, size_t shape[2])
{
    shape[0] = (size_t)t->rows;
    shape[1] = (size_t)t->cols;
    return t->cols == 1 && !(t->flags & XB_T_DECAY) ? 1 : 2;
}

static int starts(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static const char *tensor_layout(const xb_mixer *m, const xb_tensor *t, int causal)
{
    size_t sh[2];
    const char *n = t->name, *mx = m->name;
    if (tensor_shape(t, sh) == 1) return "vector (n,)";
    if (starts(n, "conv"))
        return "(k, C) depthwise conv taps in lag order: out_t[c] = sum_tau w[tau][c] * z_{t-tau}[c]";
    if (starts(n, "A_log")) return "(D, n) row-major: A[c][s] = -exp(A_log[c][s]), channel c, state s";
    if (!strcmp(n, "W_rf")) return "(m, d_h) row-major: random feature f = row f, applied to each head's d_h slice";
    if (!strcmp(n, "A_bar")) return "(q, q) row-major: m_t = A_bar m_{t-1} + B_bar u_t";
    if (!strcmp(n, "A_bar_T")) return "(q, q) row-major: A_bar transposed (derived at init from A_bar)";
    if (!strcmp(n, "A_bar_T_C")) return "(q, q) row-major: (A_bar^T)^C, C = 64 (derived at init, in double)";
    if (!strcmp(n, "H_chunk")) return "(C, q) row-major: row s = A_bar^(C-1-s) B_bar, C = 64 (derived at init, in double)";
    if (!strcmp(mx, "linformer") && !strcmp(n, "E")) return "(n_max, r) row-major: K' = E[:len]^T K, V' = E[:len]^T V";
    if (!strcmp(mx, "reformer") && !strcmp(n, "R"))
        return "(n_r*d_h, n_buckets/2) row-major: round r uses rows [r*d_h, (r+1)*d_h); bucket = "
               "argmax([q R_r ; -q R_r]), shared by the heads";
    if (!strcmp(mx, "reformer") && !strcmp(n, "W_QK"))
        return "(in, out) row-major: q = x W_QK, the shared queries and keys; heads own contiguous column blocks";
    if (!strcmp(mx, "sinkhorn") && !strcmp(n, "W_sort"))
        return "(d_h, n_b_max) row-major: R = s W_sort[:, :n_b] + c[:n_b], s = a head's block key sums "
               "(shared by the heads)";
    if (!strcmp(mx, "mamba") && !strcmp(n, "W_in"))
        return "(in, out) row-major: [x ; z] = X W_in, x = columns [0, D), z = columns [D, 2D)";
    if (!strcmp(mx, "mamba") && starts(n, "W_x"))
        return "(in, out) row-major: [delta ; B ; C] = xs W_x, columns [0, R), [R, R+n), [R+n, R+2n)";
    if (!strcmp(mx, "lmu") && !strcmp(n, "W_h"))
        return causal ? "(in, out) row-major: h = relu([m ; x] W_h + b_h), rows [0, q) memory, [q, q+d) x"
                      : "(in, out) row-major: h = relu([m_fwd ; m_rev ; x] W_h + b_h), rows [0, q) m_fwd, "
                        "[q, 2q) m_rev, [2q, 2q+d) x";
    if (!strcmp(mx, "synthesizer")) {
        if (!strcmp(n, "R1")) return "(h*n_max, k) row-major: head j = rows [j*n_max, (j+1)*n_max); A_j = R1_j[:N] R2_j[:, :N]";
        if (!strcmp(n, "R2")) return "(h*k, n_max) row-major: head j = rows [j*k, (j+1)*k)";
        if (!strcmp(n, "R")) return "(h*n_max, n_max) row-major: head j = rows [j*n_max, (j+1)*n_max); A_j = R_j[:N, :N]";
        if (!strcmp(n, "W2"))
            return "(h*d_h, n_max) row-major: head j = rows [j*d_h, (j+1)*d_h); A_j = relu(X W1)[:, head j] W2_j[:, :N]";
    }
    if (!strcmp(mx, "minattn")) {
        if (!strcmp(n, "W")) return "(d, h*d) row-major: head j = columns [j*d, (j+1)*d) = W_j; S_j = X W_j X^T / sqrt(d)";
        if (!strcmp(n, "U"))
            return "(d, h*d) row-major: head j = columns [j*d, (j+1)*d) = U_j, upper triangular (the strictly lower "
                   "part is 0 and stays 0); W_j = U_j + U_j^T";
        if (!strcmp(n, "A")) return "(d, h*d_h) row-major: head j = columns [j*d_h, (j+1)*d_h) = A_j; W_j = A_j A_j^T";
    }
    static const char *const no_heads[] = {"mamba", "lmu", "activator", "fnet", "pool"};
    for (size_t i = 0; i < sizeof no_heads / sizeof *no_heads; i++)
        if (!strcmp(mx, no_heads[i])) return "(in, out) row-major: y = x W";
    if (!strcmp(mx, "gla") && !strcmp(n, "W_g1")) return "(in, out) row-major: y = x W (low-rank gate, shared by the heads)";
    if (!strcmp(mx, "sse") && starts(n, "W_g1_")) return "(in, out) row-major: y = x W (low-rank gate, shared by the heads)";
    if (!strcmp(mx, "sse") && (!strcmp(n, "L_q1") || !strcmp(n, "L_k1") || !strcmp(n, "G_1")))
        return "(in, out) row-major: y = x W (low-rank bottleneck of width d_h, shared by the heads)";
    if (!strcmp(mx, "sse") && !strcmp(n, "W_e")) return "(in, out) row-major: router logits e = x W_e, column p = partition p";
    if (!strcmp(n, "W_O")) return "(in, out) row-major: y = x W; heads own contiguous row blocks";
    return "(in, out) row-major: y = x W; heads (kv groups) own contiguous column blocks";
}

static const char *flags_word(unsigned f)
{
    return f & XB_T_FROZEN ? "frozen" : f & XB_T_DECAY ? "decay" : "-";
}

static void shape_text(char *buf, size_t n, int nd, const size_t *sh)
{
    if (nd == 1) snprintf(buf, n, "(%zu,)", sh[0]);
    else snprintf(buf, n, "(%zu, %zu)", sh[0], sh[1]);
}

/* ---- argument helpers ---- */


static int unknown_mixer(const char *name)
{
    const char *names[64];
    int n = 0;
    for (int i = 0; xb_mixers[i] && n < 64; i++) names[n++] = xb_mixers[i]->name;
    char list[1024];
    xb_closest_list(list, sizeof list, name, names, n);
    return xb_cli_usage_error(&cli, "unknown mixer '%s'; valid mixers (closest first): %s", name, list);
}

/* Apply "KEY=VALUE" to *c after checking the mixer accepts KEY. */
static int apply_option(const xb_mixer *m, xb_mixer_cfg *c, const char *kv)
{
    const char *eq = strchr(kv, '=');
    char key[64];
    if (!eq || eq == kv || (size_t)(eq - kv) >= sizeof key)
        return xb_cli_usage_error(&cli, "--option: expected KEY=VALUE, got '%s'", kv);
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    const char *names[XB_MIXER_MAX_OPTS];
    int nv = m->n_opts;
    for (int j = 0; j < nv; j++) names[j] = m->opts[j].name;
    int k = xb_mixer_opt_find(m, key);
    if (k < 0) {
        char list[512];
        xb_closest_list(list, sizeof list, key, names, nv);
        return xb_cli_usage_error(&cli, "--option: mixer '%s' has no option '%s'; its options: %s", m->name, key, list);
    }
    const xb_mixer_opt *o = &m->opts[k];
    char *e;
    if (o->type == XB_OPT_FLOAT) {
        errno = 0;
        double v = strtod(eq + 1, &e);
        if (e == eq + 1 || *e || errno || !(v >= o->min))
            return xb_cli_usage_error(&cli, "--option %s: expected a number >= %g, got '%s'", key, o->min, eq + 1);
        c->opt[k] = (float)v;
    } else {
        int v;
        if (xb_cli_parse_int(eq + 1, o->type == XB_OPT_ENUM ? 1 : (long)o->min, 1L << 30, &v))
            return xb_cli_usage_error(&cli, "--option %s: expected an integer >= %g, got '%s'", key,
                                      o->type == XB_OPT_ENUM ? 1.0 : o->min, eq + 1);
        c->opt[k] = v;
    }
    return 0;
}

static xb_mixer_cfg base_cfg(int d, int heads, int causal, int n)
{
    xb_mixer_cfg c;
    memset(&c, 0, sizeof c);
    c.d = d;
    c.heads = heads;
    c.causal = causal;
    c.n_max = n;
    return c;
}

/* ---- --list-tensors ---- */

static int same_tensors(const xb_tensor *a, int na, const xb_tensor *b, int nb)
{
    if (na != nb) return 0;
    for (int i = 0; i < na; i++)
        if (strcmp(a[i].name, b[i].name) || a[i].offset != b[i].offset || a[i].rows != b[i].rows ||
            a[i].cols != b[i].cols || a[i].flags != b[i].flags)
            return 0;
    return 1;
}

static void print_table(const xb_mixer *m, const xb_tensor *t, int nt, int causal)
{
    if (nt == 0) {
        printf("No parameters: only x, y, dy and dx are written.\n");
        return;
    }
    printf("| file | shape | offset | flags | gradient | layout |\n|---|---|---|---|---|---|\n");
    for (int i = 0; i < nt; i++) {
        size_t sh[2];
        char s[48];
        shape_text(s, sizeof s, tensor_shape(&t[i], sh), sh);
        char g[64];
        if (t[i].flags & XB_T_FROZEN) snprintf(g, sizeof g, "none (frozen)");
        else snprintf(g, sizeof g, "grad_%s.npy", t[i].name);
        printf("| %s.npy | %s | %zu | %s | %s | %s |\n", t[i].name, s, t[i].offset, flags_word(t[i].flags), g,
               tensor_layout(m, &t[i], causal));
    }
}

static int list_tensors(const xb_mixer *only, int d, int heads, int n)
{
    printf("<!-- generated by `xbench dump --list-tensors --d %d --heads %d --n %d`: edit cmd/cmd_dump.c, "
           "not this block -->\n",
           d, heads, n);
    printf("Tensor files per mixer at d = %d, heads = %d, N = n_max = %d, every option at its default.\n"
           "Offsets are in floats from the start of the mixer's weight slab.\n",
           d, heads, n);
    for (int i = 0; xb_mixers[i]; i++) {
        const xb_mixer *m = xb_mixers[i];
        if (only && m != only) continue;
        xb_tensor tm[2][XB_MAX_TENSORS];
        int ntm[2] = {-1, -1};
        xb_mixer_cfg cm[2];
        for (int k = 0; k < 2; k++) {
            if (!(m->modes & (k ? XB_BIDIR : XB_CAUSAL))) continue;
            xb_mixer_cfg c0 = base_cfg(d, heads, k == 0, n);
            cm[k] = xb_mixer_resolve(m, &c0);
            char err[256];
            if (xb_mixer_check(m, &cm[k], err, sizeof err)) {
                printf("\n### %s (%s)\n\nNot valid at this size: %s\n", m->name, xb_suite_mode_word(k == 0), err);
                continue;
            }
            ntm[k] = m->tensors(&cm[k], tm[k]);
        }
        int merged = ntm[0] >= 0 && ntm[1] >= 0 && same_tensors(tm[0], ntm[0], tm[1], ntm[1]);
        for (int k = 0; k < 2; k++) {
            if (ntm[k] < 0 || (merged && k == 1)) continue;
            char o[256];
            xb_mixcfg_text(o, sizeof o, m, &cm[k]);
            printf("\n### %s (%s)\n\n", m->name, merged ? "causal, bidirectional" : xb_suite_mode_word(k == 0));
            printf("Options: %s. Parameters: %zu trainable of %zu.\n\n", *o ? o : "none", xb_mixer_n_trainable(m, &cm[k]),
                   xb_mixer_n_params(m, &cm[k]));
            print_table(m, tm[k], ntm[k], k == 0);
        }
    }
    printf("<!-- end of generated block -->\n");
    return XB_EXIT_OK;
}

/* ---- meta.json ---- */

static json_object *jfloat(float v)
{
    char s[32];
    for (int p = 1; p <= 9; p++) {   /* the shortest text that reads back to the same float */
        snprintf(s, sizeof s, "%.*g", p, (double)v);
        if (strtof(s, NULL) == v) break;
    }
    return json_object_new_double_s((double)v, s);
}

static json_object *jshape(int nd, const size_t *sh)
{
    json_object *a = json_object_new_array();
    for (int i = 0; i < nd; i++) json_object_array_add(a, json_object_new_int64((int64_t)sh[i]));
    return a;
}

#define JADD(o, k, v) json_object_object_add((o), (k), (v))

/* An integer option of m by name (a stopgap until each mixer states its own facts). */
#define OPT(name) ((int)xb_mixer_opt_get(m, c, name))

static void jstr(json_object *o, const char *k, const char *v) { JADD(o, k, json_object_new_string(v)); }

/* bigbird's random blocks of a sequence of N real tokens: [head][query block] -> ascending key
 * blocks (a sequence in a padded batch has the table of its own length) */
static json_object *bigbird_table_json(const xb_mixer *m, const xb_mixer_cfg *c, int N)
{
    const int nb = xb_bigbird_blocks(c, N), r = OPT("random_blocks");
    int *t = malloc((size_t)c->heads * nb * r * sizeof(int));
    if (!t) return NULL;
    xb_bigbird_table(c, N, t);
    json_object *heads = json_object_new_array();
    for (int j = 0; j < c->heads; j++) {
        json_object *blocks = json_object_new_array();
        for (int I = 0; I < nb; I++) {
            json_object *sel = json_object_new_array();
            for (int q = 0; q < r; q++)
                if (t[((size_t)j * nb + I) * r + q] >= 0)
                    json_object_array_add(sel, json_object_new_int(t[((size_t)j * nb + I) * r + q]));
            json_object_array_add(blocks, sel);
        }
        json_object_array_add(heads, blocks);
    }
    free(t);
    return heads;
}

/* The MIXERS.md §32 decisions that apply to this mixer and configuration (at length N). */
static json_object *decisions_json(const xb_mixer *m, const xb_mixer_cfg *c, int N)
{
    json_object *o = json_object_new_object();
    const char *n = m->name;
    char s[256];
    jstr(o, "linear_layout", "(in, out) row-major: y = x W, element W[i][j] at i*out + j");
    jstr(o, "heads_layout", "head j uses columns [j*d_h, (j+1)*d_h)");
    if (!strcmp(n, "gqa") || !strcmp(n, "mqa") || !strcmp(n, "sqa"))
        jstr(o, "kv_group", "query head j reads key/value group floor(j*g/h)");
    if (!strcmp(n, "performer")) {
        JADD(o, "eps", jfloat(c->causal ? 0.0f : (float)xb_mixer_opt_get(m, c, "eps")));
        jstr(o, "eps_rule", "bidirectional: option eps (default 1e-4); causal: 0");
        JADD(o, "features", json_object_new_int(OPT("features")));
        jstr(o, "W_rf", "fixed buffer [m, d_h] shared by the heads, drawn once at init: orthogonal blocks from "
                        "QR of a Gaussian with the sign fix Q <- Q diag(sign(diag R)), rows scaled by the norm "
                        "of an independent Gaussian vector of length d_h; never trained");
        jstr(o, "stabilisers", c->causal ? "stop-gradient; keys: running max over positions <= t with prefix sums "
                                           "rescaled when it grows; queries: per-query max over features"
                                         : "stop-gradient; keys: max over all keys and features of the head; "
                                           "queries: per-query max over features");
    }
    if (!strcmp(n, "deltanet")) {
        jstr(o, "conv_taps", "(k, C) lag order: out_t[c] = sum_tau w[tau][c] z_{t-tau}[c], zero history");
        JADD(o, "rmsnorm_eps", jfloat(1e-5f));
        JADD(o, "l2norm_eps", jfloat(1e-6f));
        if (!c->causal)
            jstr(o, "bidirectional", "q, k, v projected once; each direction applies the short conv in its own "
                                     "time direction (anti-causal for the reverse scan) with the same taps, its own "
                                     "activation, normalisation and scan; outputs summed before norm and W_O");
    }
    if (!strcmp(n, "mamba")) {
        jstr(o, "conv_taps", "(k, C) lag order: out_t[c] = sum_tau w[tau][c] z_{t-tau}[c], zero history");
        if (!c->causal)
            jstr(o, "bidirectional", "y = (y_fwd + y_rev) * silu(z); each direction adds its own D_skip * x");
    }
    if (!strcmp(n, "retnet")) {
        JADD(o, "chunk", json_object_new_int(OPT("chunk")));
        jstr(o, "decay", "head j (0-based) decays by gamma_j = 1 - 2^(-5-j), fixed (no gradient)");
        jstr(o, "norm", "per-head RMSNorm with one weight norm_w [d_vh] shared by the heads, as fla "
                        "(MIXERS.md 15 says GroupNorm with a 2*d_v affine)");
        JADD(o, "rmsnorm_eps", jfloat(1e-5f));
        jstr(o, "scale", "q scaled by d_kh^-1/2; no rotary (positions come from the embedding)");
    }
    if (!strcmp(n, "sse")) {
        JADD(o, "chunk", json_object_new_int(OPT("chunk")));
        JADD(o, "partitions", json_object_new_int(OPT("partitions")));
        JADD(o, "topk", json_object_new_int(OPT("topk")));
        jstr(o, "form", "gather (varlen): each partition scans only its routed tokens, in position order; "
                        "equal to the mask form since k_w = k_r = topk");
        jstr(o, "routing", "eta = softmax(x W_e); a token writes and reads its topk largest eta_p (ties: lower p), "
                           "with q2 and k2 scaled by eta_p");
        jstr(o, "activations", "silu on q1, q2, v; softmax over each head's d_h on k1, k2; q scaled by d_h^-1/2");
        jstr(o, "aux_loss", "load-balancing loss left out: the mixer contract has no auxiliary loss");
        JADD(o, "rmsnorm_eps", jfloat(1e-5f));
    }
    if (!strcmp(n, "gla")) {
        JADD(o, "expand_k", jfloat((float)xb_mixer_opt_get(m, c, "expand_k")));
        JADD(o, "rmsnorm_eps", jfloat(1e-5f));
    }
    if (!strcmp(n, "activator")) {
        JADD(o, "layernorm_eps", jfloat(1e-5f));
        jstr(o, "gelu", "exact (erf)");
    }
    if (!strcmp(n, "pool")) {
        JADD(o, "pool_size", json_object_new_int(OPT("window")));
        jstr(o, "pool_rule", "odd pool size p (default 3); an even p is an error");
    }
    if (!strcmp(n, "fnet"))
        jstr(o, "padding", "each sequence transformed over its own length len[b] (FFTW); pads output 0");
    if (!strcmp(n, "local")) {
        JADD(o, "window", json_object_new_int(OPT("window")));
        if (c->causal) snprintf(s, sizeof s, "position i attends to [i - %d, i]", OPT("window") - 1);
        else snprintf(s, sizeof s, "position i attends to [i - %d, i + %d]", OPT("window") / 2, OPT("window") / 2);
        jstr(o, "window_rule", s);
    }
    if (!strcmp(n, "local_block")) {
        JADD(o, "block", json_object_new_int(OPT("block")));
        jstr(o, "block_rule", "contiguous blocks of b; a short last block attends within itself");
    }
    if (!strcmp(n, "sparse_fixed")) {
        JADD(o, "block", json_object_new_int(OPT("block")));
        JADD(o, "summary", json_object_new_int(OPT("summary")));
        snprintf(s, sizeof s, "position i attends to k iff floor(i/%d) = floor(k/%d) or k mod %d = 0 or k mod %d >= %d%s",
                 OPT("block"), OPT("block"), OPT("block"), OPT("block"), OPT("block") - OPT("summary"), c->causal ? ", and k <= i" : "");
        jstr(o, "mask_rule", s);
    }
    if (!strcmp(n, "bigbird")) {
        JADD(o, "block", json_object_new_int(OPT("block")));
        JADD(o, "random_blocks", json_object_new_int(OPT("random_blocks")));
        JADD(o, "blocks", json_object_new_int(xb_bigbird_blocks(c, N)));
        jstr(o, "blocks_rule", "the blocks of each sequence's own real length n: n_b = ceil(n/b), the last one "
                               "(maybe short) global; padding adds no block (here n = N); decode: those of n_max");
        snprintf(s, sizeof s, "query block I sees key blocks I-1, I, I+1, 0, n_b-1 and random_table[head][I]; "
                              "blocks 0 and n_b-1 see every key%s", c->causal ? "; and k <= i" : "");
        jstr(o, "mask_rule", s);
        jstr(o, "random_rule", c->causal ? "min(r_b, |C|) distinct blocks of C = {1 .. I-2}, middle blocks only"
                                         : "min(r_b, |C|) distinct blocks of C = {1 .. n_b-2} minus {I-1, I, I+1}, "
                                           "middle blocks only (the sequence's own n_b)");
        jstr(o, "random_seed", "recomputed on every call from a stream seeded by (layer, head, I); not stored");
        JADD(o, "random_table", bigbird_table_json(m, c, N));
    }
    if (!strcmp(n, "linformer")) {
        JADD(o, "rank", json_object_new_int(OPT("rank")));
        JADD(o, "n_max", json_object_new_int(c->n_max));
    }
    if (!strcmp(n, "synthesizer")) {
        static const char *const vn[] = {"", "factorized_random", "random", "dense"};
        JADD(o, "variant", json_object_new_string(OPT("variant") >= 1 && OPT("variant") <= 3 ? vn[OPT("variant")] : "?"));
        if (OPT("variant") == 1) JADD(o, "rank", json_object_new_int(OPT("rank")));
        JADD(o, "n_max", json_object_new_int(c->n_max));
        jstr(o, "logits", "no query-key product and no 1/sqrt(d_h) scale; V = X W_V, Y = O W_O; a sequence of "
                          "length n uses A_j[:n, :n] (causal: the lower triangle)");
        if (OPT("variant") == 1) jstr(o, "init", "R1, R2 ~ N(0, 1/k); W_V, W_O U(-1/sqrt(d), 1/sqrt(d))");
    }
    if (!strcmp(n, "minattn")) {
        static const char *const vn[] = {"", "full", "symmetric", "psd"};
        JADD(o, "variant", json_object_new_string(OPT("variant") >= 1 && OPT("variant") <= 3 ? vn[OPT("variant")] : "?"));
        JADD(o, "heads", json_object_new_int(c->heads));
        jstr(o, "heads_rule", "h = the model's heads (MIXERS.md §21 suggests h = 1); head width d");
        jstr(o, "attention", "S_j = X W_j X^T / sqrt(d) (causal mask if causal), O_j = softmax(S_j) X, "
                             "Y = mean over heads of O_j; no V, no O projection");
        jstr(o, "status", "unverified (MIXERS.md §31): equations read from the paper's abstract");
    }
    if (!strcmp(n, "reformer")) {
        JADD(o, "buckets", json_object_new_int(OPT("buckets")));
        JADD(o, "rounds", json_object_new_int(OPT("rounds")));
        JADD(o, "chunk", json_object_new_int(OPT("chunk")));
        JADD(o, "l2norm_eps", jfloat(1e-6f));
        JADD(o, "self_logit", jfloat(-1e5f));
        jstr(o, "keys", "k_i = q_i / sqrt(|q_i|^2 + eps); logits q_i . k_j / sqrt(d_h); a token's own logit "
                        "is replaced by -1e5");
        jstr(o, "hash", "bucket = argmax([q R_r ; -q R_r]) (first maximum), R frozen, drawn at init; real "
                        "positions sorted stably by (bucket, position)");
        jstr(o, "chunks", c->causal ? "cut per bucket: chunk = floor(rank in bucket / c); a query sees the keys "
                                      "of its chunk and of the bucket's previous chunk at positions <= its own"
                                    : "cut from the whole sorted order; a query sees its chunk and the previous "
                                      "one (chunk 0: the last one), each key once");
        jstr(o, "rounds_rule", "o = sum_r softmax_r(L_r) o_r, L_r the per-round logsumexp; then W_O");
    }
    if (!strcmp(n, "sinkhorn")) {
        JADD(o, "block", json_object_new_int(OPT("block")));
        JADD(o, "n_b_max", json_object_new_int((c->n_max + OPT("block") - 1) / OPT("block")));
        jstr(o, "sort_activation", "softmax over the last axis of R (no Sinkhorn iterations)");
        jstr(o, "blocks", "contiguous blocks of b over the real length n: n_b = ceil(n/b), the last one short "
                          "when b does not divide n; the sort net uses columns [0, n_b)");
        jstr(o, "short_block", "summary = sum of its real rows; in K~ = P K its missing rows count as zero; "
                               "row t of a sorted block is a key iff t < min(b, n)");
        jstr(o, "output", "O = softmax(Q_I K_I^T/sqrt(d_h)) V_I + softmax(Q_I K~_I^T/sqrt(d_h)) V~_I, then W_O");
    }
    if (!strcmp(n, "lmu")) {
        JADD(o, "theta", json_object_new_int(OPT("theta")));
        JADD(o, "order", json_object_new_int(OPT("order")));
        jstr(o, "theta_rule", "configuration value, default n_max (the task's maximum length)");
    }
    return o;
}

/* ---- the dump ---- */

static int mkdir_p(const char *dir)
{
    char p[4096];
    if (!*dir) {                /* the walk below starts after the first byte */
        errno = ENOENT;
        return -1;
    }
    if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p) return -1;
    for (char *s = p + 1; *s; s++) {
        if (*s != '/') continue;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
        *s = '/';
    }
    if (mkdir(p, 0777) != 0 && errno != EEXIST) return -1;
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode) ? 0 : -1;
}

typedef struct dumper {
    const char *dir;
    json_object *files;
    int failed;
} dumper;

static void put(dumper *D, const char *name, const float *data, int nd, const size_t *sh)
{
    char path[4352];
    snprintf(path, sizeof path, "%s/%s.npy", D->dir, name);
    if (!D->failed && xb_npy_write(path, data, nd, sh) != 0) {
        fprintf(stderr, "xbench dump: cannot write %s: %s\n", path, strerror(errno));
        D->failed = 1;
    }
    char f[128];
    snprintf(f, sizeof f, "%s.npy", name);
    json_object_array_add(D->files, json_object_new_string(f));
}

static float *normal_tensor(uint64_t seed, const char *stream, size_t n)
{
    float *p = xb_alloc(n * sizeof(float));
    if (!p) return NULL;
    xb_rng r;
    xb_rng_seed(&r, xb_stream_seed(seed, 0, stream, 0));
    for (size_t i = 0; i < n; i++) p[i] = (float)xb_rng_normal(&r);
    return p;
}

static int run_dump(const xb_mixer *m, const xb_mixer_cfg *c, int N, uint64_t seed, const char *dir)
{
    xb_tensor t[XB_MAX_TENSORS];
    int nt = m->tensors(c, t);
    size_t np = xb_mixer_n_params(m, c), nx = (size_t)N * c->d;
    size_t ns = m->n_saved(c, N), nsc = m->n_scratch ? m->n_scratch(c, 1, N) : 0;
    float *w = xb_alloc(np * sizeof(float) + 64), *dw = xb_alloc(np * sizeof(float) + 64);
    float *saved = xb_alloc(ns * sizeof(float) + 64), *scratch = xb_alloc(nsc * sizeof(float) + 64);
    float *y = xb_alloc(nx * sizeof(float)), *dx = xb_alloc(nx * sizeof(float));
    float *x = normal_tensor(seed, "dump.x", nx), *dy = normal_tensor(seed, "dump.dy", nx);
    int rc = XB_EXIT_USAGE;
    json_object *meta = NULL;
    if (!w || !dw || !saved || !scratch || !y || !dx || !x || !dy) {
        fprintf(stderr, "xbench dump: out of memory (%zu parameters, %zu saved, %zu scratch floats)\n", np, ns, nsc);
        goto out;
    }
    xb_rng r;
    xb_rng_seed(&r, xb_stream_seed(seed, 0, "init", 0));
    m->init(c, w, &r);
    m->forward(c, w, x, NULL, y, saved, scratch, 1, N);
    m->backward(c, w, x, NULL, saved, dy, dx, dw, scratch, 1, N);

    if (mkdir_p(dir) != 0) {
        fprintf(stderr, "xbench dump: cannot create folder '%s': %s\n", dir, strerror(errno));
        goto out;
    }
    dumper D = {dir, json_object_new_array(), 0};
    meta = json_object_new_object();
    JADD(meta, "format", json_object_new_string("xbench-dump 1"));
    JADD(meta, "xbench_version", json_object_new_string(XB_VERSION));
    JADD(meta, "mixer", json_object_new_string(m->name));
    JADD(meta, "mode", json_object_new_string(xb_suite_mode_word(c->causal)));
    JADD(meta, "seed", json_object_new_uint64(seed));
    JADD(meta, "B", json_object_new_int(1));
    JADD(meta, "N", json_object_new_int(N));
    JADD(meta, "d", json_object_new_int(c->d));
    JADD(meta, "heads", json_object_new_int(c->heads));
    JADD(meta, "threads", json_object_new_int(omp_get_max_threads()));
    JADD(meta, "config", xb_mixcfg_dump_json(m, c));
    JADD(meta, "n_params", json_object_new_int64((int64_t)np));
    JADD(meta, "n_trainable", json_object_new_int64((int64_t)xb_mixer_n_trainable(m, c)));
    JADD(meta, "flops_forward", json_object_new_double(m->flops(c, N)));
    json_object *rng = json_object_new_object();
    jstr(rng, "generator", "xoshiro256** (core/rng.c), normals by Box-Muller (xb_rng_normal) cast to float");
    jstr(rng, "init", "mixer init() over the slab, rng seeded with xb_stream_seed(seed, 0, \"init\", 0)");
    jstr(rng, "x", "N(0,1) row-major, rng seeded with xb_stream_seed(seed, 0, \"dump.x\", 0)");
    jstr(rng, "dy", "N(0,1) row-major, rng seeded with xb_stream_seed(seed, 0, \"dump.dy\", 0)");
    JADD(meta, "rng", rng);
    JADD(meta, "decisions", decisions_json(m, c, N));

    size_t shx[2] = {(size_t)N, (size_t)c->d};
    json_object *acts = json_object_new_array();
    const char *an[4] = {"x", "y", "dy", "dx"};
    const float *ap[4] = {x, y, dy, dx};
    const char *ad[4] = {"input", "forward output", "upstream gradient dL/dy", "input gradient dL/dx"};
    for (int i = 0; i < 4; i++) {
        put(&D, an[i], ap[i], 2, shx);
        json_object *a = json_object_new_object();
        jstr(a, "name", an[i]);
        char f[16];
        snprintf(f, sizeof f, "%s.npy", an[i]);
        jstr(a, "file", f);
        JADD(a, "shape", jshape(2, shx));
        jstr(a, "what", ad[i]);
        jstr(a, "layout", "(N, d) row-major: row t is token t (batch B = 1 dropped)");
        json_object_array_add(acts, a);
    }
    JADD(meta, "activations", acts);

    json_object *tens = json_object_new_array();
    for (int i = 0; i < nt; i++) {
        size_t sh[2];
        int nd = tensor_shape(&t[i], sh);
        put(&D, t[i].name, w + t[i].offset, nd, sh);
        json_object *o = json_object_new_object();
        jstr(o, "name", t[i].name);
        char f[96];
        snprintf(f, sizeof f, "%s.npy", t[i].name);
        jstr(o, "file", f);
        if (t[i].flags & XB_T_FROZEN) {
            JADD(o, "grad_file", NULL);
        } else {
            snprintf(f, sizeof f, "grad_%s.npy", t[i].name);
            jstr(o, "grad_file", f);
        }
        JADD(o, "shape", jshape(nd, sh));
        JADD(o, "offset", json_object_new_int64((int64_t)t[i].offset));
        json_object *fl = json_object_new_array();
        if (t[i].flags & XB_T_DECAY) json_object_array_add(fl, json_object_new_string("decay"));
        if (t[i].flags & XB_T_FROZEN) json_object_array_add(fl, json_object_new_string("frozen"));
        JADD(o, "flags", fl);
        jstr(o, "layout", tensor_layout(m, &t[i], c->causal));
        json_object_array_add(tens, o);
    }
    for (int i = 0; i < nt; i++) {
        if (t[i].flags & XB_T_FROZEN) continue;
        size_t sh[2];
        int nd = tensor_shape(&t[i], sh);
        char g[96];
        snprintf(g, sizeof g, "grad_%s", t[i].name);
        put(&D, g, dw + t[i].offset, nd, sh);
    }
    JADD(meta, "tensors", tens);
    JADD(meta, "files", D.files);
    if (D.failed) goto out;

    const char *txt = json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    char path[4352];
    snprintf(path, sizeof path, "%s/meta.json", dir);
    size_t tl = strlen(txt);
    char *buf = malloc(tl + 2);
    if (!buf) goto out;
    memcpy(buf, txt, tl);
    buf[tl] = '\n';
    int wr = xb_file_write_atomic(path, buf, tl + 1);
    free(buf);
    if (wr != 0) {
        fprintf(stderr, "xbench dump: cannot write %s: %s\n", path, strerror(errno));
        goto out;
    }
    printf("%s: %s %s, N=%d, d=%d, heads=%d, seed=%llu: %d parameter tensors, %d files + meta.json\n", dir,
           m->name, xb_suite_mode_word(c->causal), N, c->d, c->heads, (unsigned long long)seed, nt,
           (int)json_object_array_length(D.files));
    rc = XB_EXIT_OK;
out:
    json_object_put(meta);
    xb_free(w); xb_free(dw); xb_free(saved); xb_free(scratch);
    xb_free(y); xb_free(dx); xb_free(x); xb_free(dy);
    return rc;
}

int cmd_dump(int argc, char **argv)
{
    int c, ind, n = 64, d = 64, heads = 4, causal = 0, list = 0;
    unsigned long long seed = 1;
    const char *mixer = NULL, *out = NULL;
    const char *optv[32];
    int nopt = 0;
    while ((c = xb_cli_getopt(&cli, argc, argv, &ind)) != -1) {
        switch (c) {
        case 'h': return XB_EXIT_OK;
        case 'm': mixer = optarg; break;
        case 'o': out = optarg; break;
        case OPT_CAUSAL: causal = 1; break;
        case OPT_LIST: list = 1; break;
        case 'O':
            if (nopt == 32) return xb_cli_usage_error(&cli, "--option: at most 32");
            optv[nopt++] = optarg;
            break;
        case OPT_N:
            if (xb_cli_parse_int(optarg, 1, 1 << 20, &n)) return xb_cli_usage_error(&cli, "--n: expected an integer in 1..%d, got '%s'", 1 << 20, optarg);
            break;
        case OPT_D:
            if (xb_cli_parse_int(optarg, 1, 1 << 16, &d)) return xb_cli_usage_error(&cli, "--d: expected an integer in 1..%d, got '%s'", 1 << 16, optarg);
            break;
        case OPT_HEADS:
            if (xb_cli_parse_int(optarg, 1, 1 << 16, &heads)) return xb_cli_usage_error(&cli, "--heads: expected an integer in 1..%d, got '%s'", 1 << 16, optarg);
            break;
        case OPT_SEED: {
            char *e;
            errno = 0;
            seed = strtoull(optarg, &e, 10);
            if (e == optarg || *e || errno || optarg[0] == '-')
                return xb_cli_usage_error(&cli, "--seed: expected a non-negative integer, got '%s'", optarg);
            break;
        }
        default: return XB_EXIT_USAGE;
        }
    }
    if (ind < argc) return xb_cli_usage_error(&cli, "unexpected argument '%s'", argv[ind]);
    const xb_mixer *m = NULL;
    if (mixer && !(m = xb_mixer_find(mixer))) return unknown_mixer(mixer);
    if (list) return list_tensors(m, d, heads, n);
    if (!m) return xb_cli_usage_error(&cli, "expected --mixer NAME");
    if (!out) return xb_cli_usage_error(&cli, "expected -o DIR");
    unsigned want = causal ? XB_CAUSAL : XB_BIDIR;
    if (!(m->modes & want)) {
        fprintf(stderr, "xbench dump: mixer '%s' does not support %s mode (it supports: %s)\n", m->name,
                xb_suite_mode_word(causal), xb_suite_mode_word(!causal));
        return XB_EXIT_USAGE;
    }
    xb_mixer_cfg cfg = base_cfg(d, heads, causal, n);
    for (int i = 0; i < nopt; i++)
        if (apply_option(m, &cfg, optv[i])) return XB_EXIT_USAGE;
    cfg = xb_mixer_resolve(m, &cfg);
    char err[256];
    if (xb_mixer_check(m, &cfg, err, sizeof err)) {
        fprintf(stderr, "xbench dump: %s: %s\n", m->name, err);
        return XB_EXIT_USAGE;
    }
    return run_dump(m, &cfg, n, (uint64_t)seed, out);
}
