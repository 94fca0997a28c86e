/* harness/cell.c — fork, limits, pipes, deadline and classification of one cell (see
 * harness/cell.h). The parent side is a poll loop over the two pipes; it does no work
 * besides reading, so it never touches OpenMP or BLAS. */
#include "harness/cell.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/lsan_interface.h>
#endif

#include "core/clock.h"
#include "core/xb.h"

const char *xb_signame(int sig, char *buf, size_t n)
{
    const char *abbrev = sigabbrev_np(sig);
    if (abbrev) snprintf(buf, n, "SIG%s", abbrev);
    else snprintf(buf, n, "SIG%d", sig);
    return buf;
}

/* ---- child side --------------------------------------------------------------------- */

int xb_cell_send(xb_cell_chan *ch, const char *type, json_object *obj)
{
    if (!obj) obj = json_object_new_object();
    json_object *msg = json_object_new_object();
    json_object_object_add(msg, "t", json_object_new_string(type));
    json_object_object_foreach(obj, key, val)
        json_object_object_add(msg, key, json_object_get(val));
    json_object_put(obj);
    size_t n = 0;
    const char *s = json_object_to_json_string_length(msg, JSON_C_TO_STRING_PLAIN, &n);
    int rc = xb_write_all(ch->fd, s, n);
    if (rc == 0) rc = xb_write_all(ch->fd, "\n", 1);
    json_object_put(msg);
    return rc;
}

int xb_cell_send_result(xb_cell_chan *ch, json_object *rec)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "record", rec);
    return xb_cell_send(ch, "result", o);
}

int xb_cell_send_oom(xb_cell_chan *ch, const char *what)
{
    json_object *o = json_object_new_object();
    if (what) json_object_object_add(o, "what", json_object_new_string(what));
    return xb_cell_send(ch, "oom", o);
}

int xb_cell_fault(int index)
{
    const char *spec = getenv("XB_FAULT");
    if (!spec || !*spec) return XB_FAULT_NONE;
    char kind[16];
    int at, used = 0;
    for (const char *p = spec; sscanf(p, " %15[a-z]:%d%n", kind, &at, &used) == 2; p += used) {
        if (at == index) {
            if (strcmp(kind, "segv") == 0) {
                signal(SIGSEGV, SIG_DFL);
                raise(SIGSEGV);
            } else if (strcmp(kind, "kill") == 0) {
                raise(SIGKILL);
            } else if (strcmp(kind, "sleep") == 0) {
                for (;;) sleep(1);
            } else if (strcmp(kind, "alloc") == 0) {
                /* Allocate and touch 64 MiB blocks until the limit says no (at most 64 GiB,
                 * so a missing limit cannot take the machine down). */
                enum { BLOCK = 64 << 20 };
                void *keep[1024];
                int k = 0;
                for (; k < 1024; k++) {
                    char *b = malloc(BLOCK);
                    if (!b) break;
                    memset(b, 1, BLOCK);
                    keep[k] = b;
                }
                int failed = k < 1024;
                while (k > 0) free(keep[--k]);
                return failed ? XB_FAULT_OOM : XB_FAULT_NONE;
            } else if (strcmp(kind, "nan") == 0) {
                return XB_FAULT_NAN;
            }
        }
        if (p[used] == ',') used++;
    }
    return XB_FAULT_NONE;
}

/* ---- parent side -------------------------------------------------------------------- */

typedef struct linebuf { char *p; size_t n, cap; } linebuf;

static int lb_append(linebuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *q = realloc(b->p, cap);
        if (!q) return XB_ENOMEM;
        b->p = q;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

/* Hand every complete line of b to the message handler and keep the rest. */
static void lb_drain(linebuf *b, xb_cell_outcome *out, xb_cell_progress_fn pf, void *pctx)
{
    size_t start = 0;
    for (size_t i = 0; i < b->n; i++) {
        if (b->p[i] != '\n') continue;
        b->p[i] = 0;
        json_object *msg = json_tokener_parse(b->p + start);
        start = i + 1;
        if (!msg) continue;
        json_object *t = NULL;
        const char *type = json_object_object_get_ex(msg, "t", &t) ? json_object_get_string(t) : "";
        if (strcmp(type, "result") == 0) {
            json_object *rec = NULL;
            if (json_object_object_get_ex(msg, "record", &rec)) {
                if (out->record) json_object_put(out->record);
                out->record = json_object_get(rec);
                json_object *s = NULL;
                if (json_object_object_get_ex(rec, "status", &s) &&
                    strcmp(json_object_get_string(s), "oom") == 0)
                    out->oom_reported = 1;
            }
        } else if (strcmp(type, "oom") == 0) {
            out->oom_reported = 1;
        } else if (strcmp(type, "progress") == 0 && pf) {
            pf(pctx, msg);
        }
        json_object_put(msg);
    }
    memmove(b->p, b->p + start, b->n - start);
    b->n -= start;
    if (b->p) b->p[b->n] = 0;
}

static void tail_append(char *tail, size_t cap, const char *s, size_t n)
{
    size_t have = strlen(tail);
    if (n >= cap - 1) {
        memcpy(tail, s + n - (cap - 1), cap - 1);
        tail[cap - 1] = 0;
        return;
    }
    if (have + n >= cap) {
        size_t drop = have + n - (cap - 1);
        memmove(tail, tail + drop, have - drop + 1);
        have -= drop;
    }
    memcpy(tail + have, s, n);
    tail[have + n] = 0;
}

static int mentions_oom(const char *s)
{
    static const char *const words[] = { "out of memory", "Cannot allocate memory",
                                         "cannot allocate memory", "Thread creation failed",
                                         "memory exhausted", NULL };
    for (int i = 0; words[i]; i++)
        if (strstr(s, words[i])) return 1;
    return 0;
}

/* The kernel's count of OOM kills (/proc/vmstat oom_kill, Linux 4.13+), -1 if unknown. */
static long oom_kill_count(void)
{
    FILE *f = fopen("/proc/vmstat", "r");
    if (!f) return -1;
    char line[128];
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "oom_kill %ld", &n) == 1) break;
    fclose(f);
    return n;
}

static long g_as_base_kb;   /* in the child: address space mapped before the limit was set */

long xb_cell_as_base_kb(void) { return g_as_base_kb; }

/* Virtual size of this process in kB (/proc/self/statm, first field in pages). */
static long vsize_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0;
    if (f) {
        if (fscanf(f, "%ld", &pages) != 1) pages = 0;
        fclose(f);
    }
    return pages * (sysconf(_SC_PAGESIZE) / 1024);
}

static void run_child(int wfd, int efd, const xb_cell_limits *lim, xb_cell_fn fn, void *ctx,
                      pid_t parent)
{
    /* A parent that dies (even by SIGKILL) takes its cell with it. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(122);
    signal(SIGINT, SIG_DFL);
    signal(SIGTERM, SIG_DFL);
    signal(SIGPIPE, SIG_DFL);
    signal(SIGXFSZ, SIG_DFL);   /* the sweep ignores it for its own writes */
    if (efd >= 0 && dup2(efd, STDERR_FILENO) < 0) _exit(120);
    struct rlimit core = { 0, 0 };
    setrlimit(RLIMIT_CORE, &core);          /* a crashing cell leaves no core file */
    if (lim && lim->mem_limit_mb > 0) {
        /* RLIMIT_AS counts every mapping, including what the process held before the cell
         * began (libraries, OpenBLAS's buffers, a test runner's arenas): the cell gets
         * mem_limit_mb on top of that, so the limit means the same in every parent. */
        g_as_base_kb = vsize_kb();
        struct rlimit as;
        as.rlim_cur = as.rlim_max = ((rlim_t)lim->mem_limit_mb << 20) + ((rlim_t)g_as_base_kb << 10);
        if (setrlimit(RLIMIT_AS, &as) != 0) {
            fprintf(stderr, "setrlimit(RLIMIT_AS, %ld MiB): %s\n", lim->mem_limit_mb,
                    strerror(errno));
            _exit(121);
        }
    }
    xb_cell_chan ch = { wfd };
    int rc = fn(&ch, ctx);
    fflush(stdout);
    fflush(stderr);
#if defined(__SANITIZE_ADDRESS__)
    /* _exit skips LeakSanitizer's check at exit: in a SAN=1 build a cell's leaks are looked
     * for here (a leak ends the child, so the cell is not ok, and ASan reports it). */
    __lsan_do_leak_check();
#endif
    _exit(rc & 255);
}

void xb_cell_outcome_release(xb_cell_outcome *out)
{
    if (out->record) json_object_put(out->record);
    out->record = NULL;
}

int xb_cell_exec(const xb_cell_limits *lim, xb_cell_fn fn, void *ctx,
                 xb_cell_progress_fn pf, void *pctx, const volatile sig_atomic_t *stop,
                 xb_cell_outcome *out)
{
    memset(out, 0, sizeof *out);
    int rp[2], ep[2];
    if (pipe2(rp, O_CLOEXEC) != 0) return XB_EIO;
    if (pipe2(ep, O_CLOEXEC) != 0) {
        close(rp[0]); close(rp[1]);
        return XB_EIO;
    }
    fflush(stdout);
    fflush(stderr);
    long oom_kills0 = oom_kill_count();
    double t0 = xb_now();
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        close(rp[0]); close(rp[1]); close(ep[0]); close(ep[1]);
        return XB_EIO;
    }
    if (pid == 0) {
        close(rp[0]);
        close(ep[0]);
        run_child(rp[1], ep[1], lim, fn, ctx, parent);
    }
    close(rp[1]);
    close(ep[1]);

    double deadline = lim && lim->timeout_s > 0 ? t0 + lim->timeout_s : 0;
    linebuf lb = { 0 };
    struct pollfd pfd[2] = { { rp[0], POLLIN, 0 }, { ep[0], POLLIN, 0 } };
    int open_fds = 2, killed_by_us = 0, interrupted = 0, timed_out = 0, reaped = 0, st = 0;
    struct rusage ru;
    memset(&ru, 0, sizeof ru);
    char buf[65536];

    while (!reaped) {
        if (!killed_by_us && stop && *stop) {
            kill(pid, SIGKILL);
            killed_by_us = interrupted = 1;
        }
        if (!killed_by_us && deadline > 0 && xb_now() >= deadline) {
            kill(pid, SIGKILL);
            killed_by_us = timed_out = 1;
        }
        if (open_fds > 0) {
            int wait_ms = 100;
            if (deadline > 0 && !killed_by_us) {
                double left = deadline - xb_now();
                if (left * 1000 < wait_ms) wait_ms = left > 0 ? (int)(left * 1000) + 1 : 0;
            }
            int n = poll(pfd, 2, wait_ms);
            if (n < 0 && errno != EINTR) break;
            for (int i = 0; n > 0 && i < 2; i++) {
                if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
                ssize_t r = read(pfd[i].fd, buf, sizeof buf);
                if (r < 0 && errno == EINTR) continue;
                if (r <= 0) {
                    close(pfd[i].fd);
                    pfd[i].fd = -1;
                    open_fds--;
                    continue;
                }
                if (i == 0) {
                    if (lb_append(&lb, buf, (size_t)r) == 0) lb_drain(&lb, out, pf, pctx);
                } else {
                    tail_append(out->stderr_tail, sizeof out->stderr_tail, buf, (size_t)r);
                }
            }
        } else {
            /* Both pipes closed: the child is exiting (or a grandchild kept nothing open). */
            pid_t w = wait4(pid, &st, WNOHANG, &ru);
            if (w == pid) { reaped = 1; break; }
            struct timespec ts = { 0, 5 * 1000 * 1000 };
            nanosleep(&ts, NULL);
            continue;
        }
        if (killed_by_us || open_fds == 0) {
            pid_t w = wait4(pid, &st, WNOHANG, &ru);
            if (w == pid) reaped = 1;
        }
    }
    if (!reaped) {
        kill(pid, SIGKILL);
        while (wait4(pid, &st, 0, &ru) < 0 && errno == EINTR) {}
    }
    for (int i = 0; i < 2; i++)
        if (pfd[i].fd >= 0) close(pfd[i].fd);
    /* A record that arrived before the pipe closed but after the last drain. */
    if (lb.n > 0 && lb_append(&lb, "\n", 1) == 0) lb_drain(&lb, out, pf, pctx);
    free(lb.p);

    out->wall_s = xb_now() - t0;
    out->peak_rss_kb = ru.ru_maxrss;
    out->exit_code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    out->signal = WIFSIGNALED(st) ? WTERMSIG(st) : 0;

    char sig[24];
    if (interrupted) {
        snprintf(out->status, sizeof out->status, "interrupted");
    } else if (timed_out) {
        snprintf(out->status, sizeof out->status, "timeout");
    } else if (out->signal == SIGKILL) {
        /* Not our SIGKILL. Out of memory only with evidence; else someone else's kill. */
        long oom_kills1 = oom_kills0 >= 0 ? oom_kill_count() : -1;
        const char *why = NULL;
        if (out->oom_reported) why = "the cell reported an allocation failure, then was killed";
        else if (mentions_oom(out->stderr_tail)) why = "the cell's stderr reports an allocation failure";
        else if (oom_kills1 > oom_kills0) why = "killed by the kernel's OOM killer";
        if (why) {
            snprintf(out->status, sizeof out->status, "oom");
            snprintf(out->detail, sizeof out->detail, "%s", why);
        } else {
            snprintf(out->status, sizeof out->status, "crashed:SIGKILL");
            snprintf(out->detail, sizeof out->detail, "killed by SIGKILL from outside xbench (not its "
                     "time limit), with no sign of running out of memory");
        }
    } else if (out->signal) {
        snprintf(out->status, sizeof out->status, "crashed:%s",
                 xb_signame(out->signal, sig, sizeof sig));
    } else if (out->record && out->exit_code == 0) {
        json_object *s = NULL;
        const char *rs = json_object_object_get_ex(out->record, "status", &s)
                             ? json_object_get_string(s) : "ok";
        snprintf(out->status, sizeof out->status, "%s", rs);
    } else if (mentions_oom(out->stderr_tail) || out->oom_reported) {
        snprintf(out->status, sizeof out->status, "oom");
        snprintf(out->detail, sizeof out->detail, "%s", out->oom_reported
                 ? "the cell reported an allocation failure" : "the cell's stderr reports an allocation failure");
    } else {
        snprintf(out->status, sizeof out->status, "crashed:exit %d", out->exit_code);
    }
    if (strcmp(out->status, "ok") != 0 && out->record && out->exit_code != 0) {
        /* A record from a child that then failed is not trusted as a result. */
        json_object_put(out->record);
        out->record = NULL;
    }
    return 0;
}
