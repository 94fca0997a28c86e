/* cmd/cmd.h — the subcommands and what they share (cmd/main.c holds the one table).
 *
 * Adding a subcommand (git's builtin.h recipe):
 *   1. write cmd/cmd_foo.c with `int cmd_foo(int argc, char **argv)`: argv[0] is "foo";
 *      parse its options with xb_cli_getopt over a static xb_cli_opt table (which also prints
 *      `xbench foo --help`), return an XB_EXIT_* code;
 *   2. declare it below and add one row {name, function, one-line help} to commands[] in
 *      cmd/main.c.
 * Commands only parse arguments and call harness/; they are the only place that decides the
 * exit code. */
#ifndef XB_CMD_H
#define XB_CMD_H

#include <stdio.h>

enum {
    XB_EXIT_OK = 0,      /* success */
    XB_EXIT_CELLS = 1,   /* the run finished but some cells failed; compare: a regression */
    XB_EXIT_USAGE = 2,   /* bad usage or a bad suite; compare: bad input folders */
    XB_EXIT_INTERRUPTED = 130, /* `run` stopped by SIGINT/SIGTERM (128 + SIGINT); --resume continues */
};

typedef int (*xb_cmd_fn)(int argc, char **argv);

typedef struct xb_cmd {
    const char *name;
    xb_cmd_fn fn;
    const char *help;    /* one line for `xbench --help` */
} xb_cmd;

/* The commands (one file each). */
int cmd_list(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_info(int argc, char **argv);
int cmd_dump(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_slurm(int argc, char **argv);

/* One option of a subcommand: --name (and -key when key is a printable letter). */
typedef struct xb_cli_opt {
    const char *name;
    int has_arg;         /* 0 or 1 (required_argument) */
    int key;             /* returned by xb_cli_getopt; a letter doubles as the short option */
    const char *arg;     /* the argument's name in --help ("N", "FILE"), or NULL */
    const char *help;
} xb_cli_opt;

typedef struct xb_cli {
    const char *cmd;         /* "validate" */
    const char *usage;       /* "SUITE.yaml" (arguments after the options) */
    const char *desc;        /* a few lines said by --help */
    const xb_cli_opt *opts;  /* terminated by a row with name NULL; may be NULL */
} xb_cli;

/* getopt_long over cli->opts plus --help/-h. Returns the key of the next option, -1 at the
 * end of options (then *optind_out is the first operand), 'h' after printing the help to
 * stdout, '?' after printing a usage error to stderr. optarg holds the argument. */
int xb_cli_getopt(const xb_cli *cli, int argc, char **argv, int *optind_out);
void xb_cli_help(const xb_cli *cli, FILE *f);
/* "xbench CMD: message" + "try 'xbench CMD --help'" on stderr; returns XB_EXIT_USAGE. */
int xb_cli_usage_error(const xb_cli *cli, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* --only A,B,...: names of [A-Za-z0-9_.=-] (at most 128 each), none empty, none twice.
 * 0, or the usage error's exit status (the argument is echoed escaped). */
int xb_cli_check_only(const xb_cli *cli, const char *only);
/* A whole decimal integer in [lo, hi] (no trailing text, no overflow): 0, or -1. */
int xb_cli_parse_int(const char *s, long lo, long hi, int *out);

#endif
