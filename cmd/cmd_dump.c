/* cmd/cmd_dump.c — `xbench dump`: its arguments. What it does is harness/dump.c (the files,
 * meta.json, the docs/dump.md tensor table); what it says of each mixer comes from the mixer
 * (its options table, tensors, layout() and facts()). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/mixer.h"
#include "core/xb.h"
#include "harness/diag.h"
#include "harness/dump.h"
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

static int unknown_mixer(const char *name)
{
    const char *names[64];
    int n = 0;
    for (int i = 0; xb_mixers[i] && n < 64; i++) names[n++] = xb_mixers[i]->name;
    char list[1024];
    xb_closest_list(list, sizeof list, name, names, n);
    return xb_cli_usage_error(&cli, "unknown mixer '%s'; valid mixers (closest first): %s", name, list);
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
    if (list) {
        xb_dump_list_tensors(stdout, m, d, heads, n);
        return XB_EXIT_OK;
    }
    if (!m) return xb_cli_usage_error(&cli, "expected --mixer NAME");
    if (!out) return xb_cli_usage_error(&cli, "expected -o DIR");
    unsigned want = causal ? XB_CAUSAL : XB_BIDIR;
    if (!(m->modes & want)) {
        fprintf(stderr, "xbench dump: mixer '%s' does not support %s mode (it supports: %s)\n", m->name,
                causal ? "causal" : "bidirectional", causal ? "bidirectional" : "causal");
        return XB_EXIT_USAGE;
    }
    xb_mixer_cfg cfg = xb_dump_cfg(d, heads, causal, n);
    char err[1024];
    for (int i = 0; i < nopt; i++)
        if (xb_dump_option(m, &cfg, optv[i], err, sizeof err)) return xb_cli_usage_error(&cli, "%s", err);
    cfg = xb_mixer_resolve(m, &cfg);
    if (xb_mixer_check(m, &cfg, err, sizeof err)) {
        fprintf(stderr, "xbench dump: %s: %s\n", m->name, err);
        return XB_EXIT_USAGE;
    }
    return xb_dump_run(m, &cfg, n, (uint64_t)seed, out, stdout, stderr) == XB_OK ? XB_EXIT_OK : XB_EXIT_USAGE;
}
