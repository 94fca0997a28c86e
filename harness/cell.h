/* harness/cell.h — one cell in its own process (DESIGN.md "Faults stay inside their cell").
 *
 * xb_cell_exec forks a child, sets its memory limit (RLIMIT_AS) and runs a function there;
 * the parent only waits: it never computes and never enters an OpenMP region (libgomp is
 * not fork-safe once its thread pool exists). The child talks back through a pipe, one JSON
 * object per line: {"t":"progress", ...} any number of times, then {"t":"result",
 * "record":{...}} once. Its stderr goes through a second pipe; the parent keeps the tail.
 * The parent kills the child with SIGKILL at the deadline, or when *stop becomes non-zero
 * (SIGINT/SIGTERM), and classifies how it ended:
 *
 *   result received, exit 0  → the record's own "status" (ok, diverged, oom, error, ...)
 *   deadline passed          → timeout
 *   killed by SIGKILL (not by us) with evidence of running out of memory → oom
 *   killed by SIGKILL (not by us) without it → crashed:SIGKILL (someone's kill -9, a CI
 *                              job's own limit: not a property of the cell)
 *   other signal             → crashed:SIGSEGV, crashed:SIGABRT, ...
 *   exited without a result, with an out-of-memory message on stderr → oom
 *   exited without a result  → crashed:exit <code>
 *
 * Evidence of running out of memory, for a SIGKILL: the child said so through its pipe (a
 * {"t":"oom"} message, or a result whose status is "oom"), or its stderr says so
 * ("out of memory", "Cannot allocate memory", ...), or the kernel's OOM killer killed a
 * process while the cell ran (the oom_kill count of /proc/vmstat rose; it counts every OOM
 * kill, the memory cgroups' included). Under RLIMIT_AS an allocation past the limit fails
 * (malloc returns NULL) rather than drawing a SIGKILL, so a cell over mem_limit_mb reports
 * it itself.
 *
 * Test-only fault injection: XB_FAULT=<kind>:<index>[,<kind>:<index>...], kinds segv, kill,
 * sleep, alloc, nan, read by the child through xb_cell_fault(index). */
#ifndef XB_CELL_H
#define XB_CELL_H

#include <signal.h>

#include <json-c/json.h>

typedef struct xb_cell_limits {
    double timeout_s;      /* 0 = none */
    long mem_limit_mb;     /* address space the child may add to what it had mapped at the
                              fork (RLIMIT_AS = that base + this); 0 = none */
} xb_cell_limits;

/* Child side: the address space (kB) mapped when the limit was set, 0 without a limit. */
long xb_cell_as_base_kb(void);

/* Child side: the write end of the result pipe. */
typedef struct xb_cell_chan { int fd; } xb_cell_chan;

/* Runs in the child. Sends progress and exactly one result through ch; returns the exit
 * code (0 once a result was sent). */
typedef int (*xb_cell_fn)(xb_cell_chan *ch, void *ctx);
/* Parent side: called for each progress message (the object is owned by the caller). */
typedef void (*xb_cell_progress_fn)(void *ctx, json_object *msg);

typedef struct xb_cell_outcome {
    char status[48];          /* see above; "interrupted" when *stop ended it */
    json_object *record;      /* the child's record (owned; NULL when none came) */
    double wall_s;            /* fork to reap */
    long peak_rss_kb;         /* the child's ru_maxrss (wait4) */
    int exit_code;            /* -1 when killed by a signal */
    int signal;               /* the signal that ended it, 0 if none */
    int oom_reported;         /* the child sent {"t":"oom"} or a result with status "oom" */
    char detail[160];         /* why, for oom and crashed:SIGKILL ("" otherwise) */
    char stderr_tail[2048];   /* last bytes the child wrote to stderr */
} xb_cell_outcome;

/* Run fn(ch, ctx) in a child under the limits. Returns 0 (the outcome says how the cell
 * ended) or a negative XB_E* code when the child could not be started. */
int xb_cell_exec(const xb_cell_limits *lim, xb_cell_fn fn, void *ctx,
                 xb_cell_progress_fn pf, void *pctx, const volatile sig_atomic_t *stop,
                 xb_cell_outcome *out);
void xb_cell_outcome_release(xb_cell_outcome *out);

/* Child side: send a message ({"t": type, ...fields of obj}); takes ownership of obj.
 * Returns 0 or XB_EIO. */
int xb_cell_send(xb_cell_chan *ch, const char *type, json_object *obj);
/* Child side: send the result record ({"t":"result","record":rec}); takes ownership. */
int xb_cell_send_result(xb_cell_chan *ch, json_object *rec);
/* Child side: say that an allocation failed ({"t":"oom"}), before anything else can go
 * wrong: should the child then die by SIGKILL, the cell is recorded oom. */
int xb_cell_send_oom(xb_cell_chan *ch, const char *what);

/* Child side, test-only fault hook for the cell with this index. segv, kill (SIGKILL, as
 * from outside) and sleep do not return; alloc allocates and touches memory until allocation fails and returns
 * XB_FAULT_OOM; nan returns XB_FAULT_NAN (the caller poisons its parameters). */
enum { XB_FAULT_NONE = 0, XB_FAULT_OOM = 1, XB_FAULT_NAN = 2 };
int xb_cell_fault(int index);

/* "SIGSEGV" for SIGSEGV (buf of at least 16 bytes). */
const char *xb_signame(int sig, char *buf, size_t n);

#endif
