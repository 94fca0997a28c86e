/* cmd/cmd_run.c — `xbench run SUITE.yaml [-o DIR] [--threads N] [--only MIXER,...]
 * [--resume] [--quiet] [--shard K/N] [--no-plots]`: parse the options, load the suite, hand
 * both to harness/sweep.c. Exit: 0 every cell ok, 1 some cell not ok (skipped included),
 * 2 usage or suite error, 130 interrupted (SIGINT/SIGTERM; continue with --resume).
 *
 * Nothing is silently empty or misplaced: --only must name mixers of the suite and select
 * some cell, and the results folder (-o or results/<name>) must be new, empty or a results
 * folder already (it holds cells.jsonl), never a file or the filesystem root. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd/cmd.h"
#include "core/xb.h"
#include "harness/diag.h"
#include "harness/suite.h"
#include "harness/sweep.h"

enum { OPT_NO_PLOTS = 256, OPT_MACHINE, OPT_DRY_RUN };

static const xb_cli_opt opts[] = {
    {"output", 1, 'o', "DIR", "results folder (default results/<suite name>/)"},
    {"threads", 1, 't', "N", "run every cell with N threads (replaces the suite's threads:)"},
    {"only", 1, 'm', "A,B,...", "only these mixers of the suite (names of letters, digits, '_', '.', "
                                "'=', '-', comma-separated, none empty or twice)"},
    {"resume", 0, 'r', NULL, "continue the run in DIR: keep finished cells whose configuration is "
                             "unchanged (timeout/oom/crashed cells run again)"},
    {"quiet", 0, 'q', NULL, "no progress on stderr"},
    {"shard", 1, 's', "K/N", "run shard K of N: the cells split by estimated cost (1 <= K <= N)"},
    {"no-plots", 0, OPT_NO_PLOTS, NULL, "do not render plots at the end"},
    {"dry-run", 0, OPT_DRY_RUN, NULL, "list the cells the suite and options select, run nothing, write nothing"},
    {"machine", 1, OPT_MACHINE, "full|quick|none", "measure the machine's ceilings for meta.json and "
                                                   "the fraction-of-peak columns (default full, ~5 s)"},
    {NULL, 0, 0, NULL, NULL},
};

static const xb_cli cli = {
    "run", "SUITE.yaml",
    "Run every task x mixer x length (x seed x threads) cell of a suite, each in its own\n"
    "process under the suite's time and memory limits, then latency-only cells. Each finished\n"
    "cell is appended to DIR/cells.jsonl at once; at the end DIR/results.csv, results.json,\n"
    "tables.md, meta.json and plots/ are written and the tables printed. Ctrl-C stops cleanly.\n"
    "Refused with exit 2 rather than a run of something else than was asked: a suite that\n"
    "is empty or selects no cell ('xbench validate --help' has the suite rules); --only with\n"
    "an empty item, a name that is not a mixer of the suite, or no cell selected; a results\n"
    "folder (-o DIR, default results/<suite name>/) that is empty text, names a control\n"
    "character, resolves to the filesystem root, is an existing file, or is an existing\n"
    "folder that is not empty and holds no cells.jsonl (not an xbench results folder).\n"
    "Exit status: 0 all cells ok, 1 some cell not ok (skipped included), 2 bad usage or\n"
    "suite, 130 interrupted.",
    opts,
};


/* --only against the loaded suite: each name a mixer of it, and some cell selected. */
static int check_only_suite(const xb_suite *s, const char *only)
{
    long cells = 0;
    for (const char *p = only;;) {
        size_t n = strcspn(p, ",");
        int j = 0;
        while (j < s->n_mixers && !(strlen(s->mixers[j]->name) == n && !strncmp(s->mixers[j]->name, p, n))) j++;
        if (j == s->n_mixers) {
            char list[2048] = "";
            size_t used = 0;
            for (int i = 0; i < s->n_mixers && used + 1 < sizeof list; i++) {
                int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", s->mixers[i]->name);
                if (w < 0) break;
                used += (size_t)w;
            }
            return xb_cli_usage_error(&cli, "--only: '%.*s' is not a mixer of the suite '%s'; it has: %s",
                                      (int)n, p, s->path, list);
        }
        cells += s->latency.n_lengths + (s->mixers[j]->decode_step ? s->latency.n_decode_lengths : 0);
        for (int t = 0; t < s->n_tasks; t++)
            if (!s->tasks[t].use || s->tasks[t].use[j]) cells += s->tasks[t].n_lengths;
        if (!p[n]) break;
        p += n + 1;
    }
    if (cells == 0)
        return xb_cli_usage_error(&cli, "--only %s: the suite '%s' runs no cell of %s (no latency or decode lengths, "
                                  "and no task runs %s)", only, s->path, strchr(only, ',') ? "these mixers" : "this mixer",
                                  strchr(only, ',') ? "them" : "it");
    return 0;
}

/* The results folder: new (it is made), empty, or one that holds cells.jsonl; never empty
 * text, a file, the filesystem root, or a folder of something else. `what` names where the
 * path came from in messages. 0, or a usage error. */
static int check_out_dir(const char *dir, const char *what)
{
    if (!*dir) return xb_cli_usage_error(&cli, "%s: expected a folder, got nothing", what);
    for (const unsigned char *p = (const unsigned char *)dir; *p; p++)
        if (*p < 0x20 || *p == 0x7f)   /* the folder is named in messages, tables and plots */
            return xb_cli_usage_error(&cli, "%s '%s': a control character in the folder's name", what, dir);
    struct stat st;
    if (stat(dir, &st) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            return xb_cli_usage_error(&cli, "%s '%s': %s", what, dir, strerror(errno));
        /* a new folder: its nearest existing ancestor must be a folder, and no '..' may
         * follow a part that does not exist yet (it could climb back to '/') */
        char *copy = strdup(dir);
        if (!copy) return XB_EXIT_USAGE;
        size_t n = strlen(copy);
        while (n > 1 && copy[n - 1] == '/') copy[--n] = '\0';
        int missing_then_up = 0;
        for (;;) {
            char *slash = strrchr(copy, '/');
            const char *last = slash ? slash + 1 : copy;
            if (!strcmp(last, "..") || !strcmp(last, ".")) missing_then_up = 1;
            if (!slash) {
                copy[0] = '\0';
                break;
            }
            if (slash == copy) {
                copy[1] = '\0';
                break;
            }
            *slash = '\0';
            if (stat(copy, &st) == 0) break;
        }
        int bad = missing_then_up ? 1 : (copy[0] && !S_ISDIR(st.st_mode)) ? 2 : 0;
        char anc[PATH_MAX];
        snprintf(anc, sizeof anc, "%s", copy);
        free(copy);
        if (bad == 1)
            return xb_cli_usage_error(&cli, "%s '%s': '.' or '..' after a folder that does not exist yet; "
                                      "write the folder's path without them", what, dir);
        if (bad == 2)
            return xb_cli_usage_error(&cli, "%s '%s': '%s' is not a folder", what, dir, anc);
        return 0;
    }
    if (!S_ISDIR(st.st_mode))
        return xb_cli_usage_error(&cli, "%s '%s' exists and is not a folder", what, dir);
    char real[PATH_MAX];
    if (realpath(dir, real) && !strcmp(real, "/"))
        return xb_cli_usage_error(&cli, "%s '%s' is the filesystem root: give a folder for the results", what, dir);
    DIR *d = opendir(dir);
    if (!d) return xb_cli_usage_error(&cli, "%s '%s': %s", what, dir, strerror(errno));
    int empty = 1, results = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        empty = 0;
        if (!strcmp(e->d_name, "cells.jsonl")) results = 1;
    }
    closedir(d);
    if (!empty && !results)
        return xb_cli_usage_error(&cli, "%s '%s' is a folder that is not empty and holds no cells.jsonl "
                                  "(not a results folder): the run would write its files among others; "
                                  "give a new or empty folder", what, dir);
    return 0;
}

int cmd_run(int argc, char **argv)
{
    xb_sweep_opts o;
    memset(&o, 0, sizeof o);
    o.out = stdout;
    o.err = stderr;
    o.machine = 2;
    int c, ind;
    const char *operand = NULL;
    int n_operands = 0, dry_run = 0;
    /* options may come before or after the operand (the parser stops at the first operand) */
    for (;;) {
        c = xb_cli_getopt(&cli, argc, argv, &ind);
        if (c == -1) {
            if (ind >= argc) break;
            operand = argv[ind];
            n_operands++;
            optind = ind + 1;
            continue;
        }
        switch (c) {
        case 'h': return XB_EXIT_OK;
        case '?': return XB_EXIT_USAGE;
        case 'o': o.out_dir = optarg; break;
        case 't':
            if (xb_cli_parse_int(optarg, 1, 4096, &o.threads))
                return xb_cli_usage_error(&cli, "--threads: expected a positive integer, got '%s'", optarg);
            break;
        case 'm':
            if (xb_cli_check_only(&cli, optarg)) return XB_EXIT_USAGE;
            o.only = optarg;
            break;
        case 'r': o.resume = 1; break;
        case 'q': o.quiet = 1; break;
        case 's': {
            char extra;
            if (sscanf(optarg, "%d/%d%c", &o.shard_k, &o.shard_n, &extra) != 2 || o.shard_n < 1 ||
                o.shard_k < 1 || o.shard_k > o.shard_n)
                return xb_cli_usage_error(&cli, "--shard: expected K/N with 1 <= K <= N, got '%s'", optarg);
            break;
        }
        case OPT_NO_PLOTS: o.no_plots = 1; break;
        case OPT_DRY_RUN: dry_run = 1; break;
        case OPT_MACHINE:
            if (strcmp(optarg, "full") == 0) o.machine = 2;
            else if (strcmp(optarg, "quick") == 0) o.machine = 1;
            else if (strcmp(optarg, "none") == 0) o.machine = 0;
            else return xb_cli_usage_error(&cli, "--machine: expected full, quick or none, got '%s'", optarg);
            break;
        }
    }
    if (n_operands != 1) return xb_cli_usage_error(&cli, "expected one suite file");
    if (o.out_dir && check_out_dir(o.out_dir, "-o")) return XB_EXIT_USAGE;
    xb_suite s;
    if (xb_suite_load(operand, &s, stderr) != XB_OK) return XB_EXIT_USAGE;
    if (o.only && check_only_suite(&s, o.only)) {
        xb_suite_release(&s);
        return XB_EXIT_USAGE;
    }
    if (!o.out_dir) {
        char *dir = xb_sweep_dir(&s, &o);
        int bad = dir && check_out_dir(dir, "the results folder");
        free(dir);
        if (bad) {
            xb_suite_release(&s);
            return XB_EXIT_USAGE;
        }
    }
    int rc = dry_run ? xb_sweep_plan(&s, &o, stdout) : xb_sweep_run(&s, &o);
    xb_suite_release(&s);
    if (rc < 0) return XB_EXIT_USAGE;
    if (rc == XB_SWEEP_INTERRUPTED) return XB_EXIT_INTERRUPTED;
    return rc == XB_SWEEP_NOT_ALL_OK ? XB_EXIT_CELLS : XB_EXIT_OK;
}
