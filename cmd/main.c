/* cmd/main.c — the command table, global options (--help, --version) and the shared
 * per-command option parsing (xb_cli_getopt). Nothing else: each command lives in its own
 * cmd/cmd_<name>.c (see cmd/cmd.h for the recipe). */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/cmd.h"
#include "core/text.h"
#include "core/xb.h"

/* XB_REPORT_ONLY builds the table of the commands that only read results (the Makefile's
 * build/xbench-report, linked against libxbreport.a alone: proof that they need neither
 * OpenBLAS nor OpenMP). */
static const xb_cmd commands[] = {
#ifndef XB_REPORT_ONLY
    {"list", cmd_list, "list mixers, tasks or suite keys"},
    {"validate", cmd_validate, "check a suite file and print it with every default resolved"},
    {"dump", cmd_dump, "write one mixer layer's weights, x, y and gradients as .npy + meta.json"},
    {"info", cmd_info, "describe this machine and measure its FMA, GEMM and memory ceilings"},
    {"run", cmd_run, "run a suite: every task x mixer x length cell, then tables and plots"},
#endif
    {"report", cmd_report, "regenerate results.csv, results.json and tables.md of a results folder"},
    {"plot", cmd_plot, "draw a results folder's plots with gnuplot"},
    {"compare", cmd_compare, "compare two results folders: latency and accuracy regressions (for CI)"},
#ifndef XB_REPORT_ONLY
    {"merge", cmd_merge, "join the results folders of a sharded run (run --shard K/N) into one"},
    {"slurm", cmd_slurm, "write sbatch scripts that run a suite as a Slurm job array of shards, then merge"},
#endif
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void help(FILE *f)
{
    fprintf(f, "usage: xbench [--help] [--version] COMMAND [ARGS]\n\n"
               "Compare token mixers (attention and its alternatives) on CPU: accuracy, FLOPs,\n"
               "latency and memory over a grid of task x mixer x sequence length.\n\n"
               "commands:\n");
    for (int i = 0; i < N_COMMANDS; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\n'xbench COMMAND --help' describes a command.\n"
               "exit status: 0 success, 1 the run finished but some cells failed (compare: a "
               "regression), 2 bad usage or a bad suite, 130 run interrupted\n");
}

int xb_cli_parse_int(const char *s, long lo, long hi, int *out)
{
    char *e;
    errno = 0;
    long v = strtol(s, &e, 10);
    if (e == s || *e || errno || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

/* --only: comma-separated names of [A-Za-z0-9_.=-], none empty, none twice. 0, or a usage
 * error (the argument is echoed escaped). */
int xb_cli_check_only(const xb_cli *cli, const char *only)
{
    if (!*only) return xb_cli_usage_error(cli, "--only: expected mixer names, got nothing");
    const char *p = only;
    for (int k = 0;; k++) {
        size_t n = strcspn(p, ",");
        if (n == 0)
            return xb_cli_usage_error(cli, "--only: item %d of '%s' is empty (write A,B,...)", k + 1, only);
        if (n > 128)
            return xb_cli_usage_error(cli, "--only: item %d is longer than 128 characters", k + 1);
        for (size_t i = 0; i < n; i++) {
            unsigned char ch = (unsigned char)p[i];
            int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                     ch == '_' || ch == '.' || ch == '=' || ch == '-';
            if (!ok)
                return xb_cli_usage_error(cli, "--only: '%.*s' is not a mixer name (letters, digits, "
                                          "'_', '.', '=', '-')", (int)n, p);
        }
        for (const char *q = only; q < p;) {        /* listed twice? */
            size_t m = strcspn(q, ",");
            if (m == n && !strncmp(q, p, n))
                return xb_cli_usage_error(cli, "--only: '%.*s' is listed twice", (int)n, p);
            q += m + 1;
        }
        if (!p[n]) break;
        p += n + 1;
    }
    return 0;
}

int xb_cli_usage_error(const xb_cli *cli, const char *fmt, ...)
{
    /* arguments are echoed: control characters in them are escaped (core/text.h) */
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "xbench %s: ", cli->cmd);
    xb_put_escaped(stderr, msg, strlen(msg), 0);
    fprintf(stderr, "\ntry 'xbench %s --help'\n", cli->cmd);
    return XB_EXIT_USAGE;
}

void xb_cli_help(const xb_cli *cli, FILE *f)
{
    fprintf(f, "usage: xbench %s [OPTIONS]%s%s\n\n%s\n\noptions:\n", cli->cmd, cli->usage ? " " : "",
            cli->usage ? cli->usage : "", cli->desc);
    for (const xb_cli_opt *o = cli->opts; o && o->name; o++) {
        char left[64];
        if (o->key > ' ' && o->key < 127)
            snprintf(left, sizeof left, "-%c, --%s%s%s", o->key, o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        else
            snprintf(left, sizeof left, "    --%s%s%s", o->name, o->arg ? " " : "", o->arg ? o->arg : "");
        fprintf(f, "  %-26s %s\n", left, o->help);
    }
    fprintf(f, "  %-26s %s\n", "-h, --help", "show this help");
}

int xb_cli_getopt(const xb_cli *cli, int argc, char **argv, int *optind_out)
{
    enum { MAXO = 32 };
    struct option lo[MAXO + 2];
    char shorts[3 * MAXO + 4] = "+:h";
    int n = 0;
    size_t s = strlen(shorts);
    for (const xb_cli_opt *o = cli->opts; o && o->name && n < MAXO; o++, n++) {
        lo[n] = (struct option){o->name, o->has_arg ? required_argument : no_argument, NULL, o->key};
        if (o->key > ' ' && o->key < 127) {
            shorts[s++] = (char)o->key;
            if (o->has_arg) shorts[s++] = ':';
        }
    }
    shorts[s] = '\0';
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    opterr = 0;
    int c = getopt_long(argc, argv, shorts, lo, NULL);
    *optind_out = optind;
    if (c == 'h') {
        xb_cli_help(cli, stdout);
        return 'h';
    }
    if (c == '?' || c == ':') {
        const char *bad = argv[optind - 1];
        if (c == ':') xb_cli_usage_error(cli, "option '%s' needs an argument", bad);
        else if (optopt && optopt != '?') xb_cli_usage_error(cli, "unknown option '-%c'", optopt);
        else xb_cli_usage_error(cli, "unknown option '%s'", bad);
        return '?';
    }
    return c;
}

int main(int argc, char **argv)
{
    static const struct option lo[] = {
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    int c;
    char shown[256];   /* an argument echoed in a message, control characters escaped */
    while ((c = getopt_long(argc, argv, "+hV", lo, NULL)) != -1) {
        switch (c) {
        case 'h':
            help(stdout);
            return XB_EXIT_OK;
        case 'V':
            printf("xbench %s\n", XB_VERSION);
            return XB_EXIT_OK;
        default:
            fprintf(stderr, "xbench: unknown option '%s'\n", xb_escape(shown, sizeof shown, argv[optind - 1]));
            help(stderr);
            return XB_EXIT_USAGE;
        }
    }
    if (optind >= argc) {
        help(stderr);
        return XB_EXIT_USAGE;
    }
    int first = optind;
    const char *name = argv[first];
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(commands[i].name, name)) {
            optind = 0;   /* glibc: 0 re-initialises getopt for the command's own options */
            return commands[i].fn(argc - first, argv + first);
        }
    fprintf(stderr, "xbench: unknown command '%s'\n", xb_escape(shown, sizeof shown, name));
    int best = -1, bd = 3;
    for (int i = 0; i < N_COMMANDS; i++) {
        int dist = xb_edit_distance(name, commands[i].name);
        if (dist < bd) { bd = dist; best = i; }
    }
    if (best >= 0) fprintf(stderr, "did you mean '%s'?\n", commands[best].name);
    fprintf(stderr, "try 'xbench --help'\n");
    return XB_EXIT_USAGE;
}
