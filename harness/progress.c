/* harness/progress.c — the live progress line (see harness/progress.h). */
#include "harness/progress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"

void xb_fmt_duration(double s, char *buf, size_t n)
{
    if (!(s >= 0) || !isfinite(s)) { snprintf(buf, n, "?"); return; }
    long t = (long)(s + 0.5);
    if (t < 60) snprintf(buf, n, "%lds", t);
    else if (t < 3600) snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
    else snprintf(buf, n, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

void xb_progress_init(xb_progress *p, FILE *f, int quiet, int total)
{
    memset(p, 0, sizeof *p);
    p->f = f;
    p->quiet = quiet;
    p->total = total;
    p->tty = f && isatty(fileno(f));
    const char *nc = getenv("NO_COLOR");
    p->color = p->tty && !(nc && *nc);
}

static void draw(xb_progress *p)
{
    if (p->quiet || !p->tty) return;
    double now = xb_now();
    char cell[24], eta[16] = "?";
    long el = (long)(now - p->cell_t0);
    snprintf(cell, sizeof cell, "%ld:%02ld", el / 60, el % 60);
    if (p->ran > 0) {
        int left = p->total - p->done;
        xb_fmt_duration(p->ran_s / p->ran * left - (now - p->cell_t0), eta, sizeof eta);
    }
    /* \r, the line, then erase to the end of line: no stale characters from a longer line. */
    fprintf(p->f, "\r[%d/%d] %s  %s  cell %s  ETA %s\033[K", p->done + 1, p->total, p->what,
            p->detail, cell, eta);
    fflush(p->f);
    p->line_shown = 1;
    p->last_draw = now;
}

void xb_progress_clear(xb_progress *p)
{
    if (p->line_shown && p->tty) {
        fprintf(p->f, "\r\033[K");
        fflush(p->f);
    }
    p->line_shown = 0;
}

void xb_progress_start(xb_progress *p, const char *what)
{
    snprintf(p->what, sizeof p->what, "%s", what);
    p->detail[0] = 0;
    p->cell_t0 = xb_now();
    draw(p);
}

void xb_progress_update(xb_progress *p, const char *phase, int step, int steps, double loss)
{
    if (strcmp(phase, "train") == 0)
        snprintf(p->detail, sizeof p->detail, "step %d/%d loss %.3g", step, steps, loss);
    else
        snprintf(p->detail, sizeof p->detail, "%s", phase);
    if (xb_now() - p->last_draw >= 0.1) draw(p);
}

void xb_progress_end(xb_progress *p, const char *status, const char *note, int ran, double wall)
{
    p->done++;
    if (ran) {
        p->ran++;
        p->ran_s += wall;
    }
    if (p->quiet || !p->f) return;
    int ok = strcmp(status, "ok") == 0;
    const char *on = "", *off = "";
    if (p->color) {
        on = ok ? "\033[32m" : strncmp(status, "skipped", 7) == 0 ? "\033[33m" : "\033[31m";
        off = "\033[0m";
    }
    char w[16];
    xb_fmt_duration(wall, w, sizeof w);
    if (p->tty) {
        xb_progress_clear(p);
        if (!ok)
            fprintf(p->f, "[%d/%d] %s  %s%s%s%s%s\n", p->done, p->total, p->what, on, status,
                    off, note && *note ? "  " : "", note ? note : "");
    } else {
        fprintf(p->f, "[%d/%d] %s  %s%s%s  %s%s%s\n", p->done, p->total, p->what, on, status,
                off, w, note && *note ? "  " : "", note ? note : "");
    }
    fflush(p->f);
}
