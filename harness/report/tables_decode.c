/* harness/report/tables_decode.c — the decode section of tables.md (harness/report/tables.h):
 * per-token decode time of each mixer against context length (records of kind "decode",
 * harness/measure.h), the state each keeps, and the context from which each decodes faster
 * than softmax. */
#include "harness/report/tables.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness/report/stats.h"

#define STEP "decode.step.median"

static void fmt_bytes(double b, char *buf, size_t n)
{
    if (!isfinite(b) || b < 0) snprintf(buf, n, "—");
    else if (b < 1024 * 1024) snprintf(buf, n, "%.1f KiB", b / 1024);
    else snprintf(buf, n, "%.1f MiB", b / 1048576.0);
}

/* The crossover of mixer j against softmax over the contexts both have a value at. */
static void crossover(const xb_results *res, const char *mixer, const int *Ls, int nL,
                      int threads, char *buf, size_t bn)
{
    double x[64], a[64], b[64];
    int m = 0;
    for (int li = 0; li < nL && m < 64; li++) {
        xb_agg am, as;
        xb_aggregate(res, XB_KIND_DECODE, NULL, mixer, Ls[li], threads, STEP, &am);
        xb_aggregate(res, XB_KIND_DECODE, NULL, "softmax", Ls[li], threads, STEP, &as);
        if (am.ok && as.ok) { x[m] = Ls[li]; a[m] = am.median; b[m] = as.median; m++; }
    }
    double at = NAN;
    int r = xb_crossover(x, a, b, m, &at);
    if (r == XB_CROSS_AT) snprintf(buf, bn, "from N ≈ %.0f", at);
    else if (r == XB_CROSS_BELOW) snprintf(buf, bn, "at every N ≥ %.0f", x[0]);
    else if (r == XB_CROSS_ABOVE) snprintf(buf, bn, "not by N = %.0f", x[m - 1]);
    else snprintf(buf, bn, "— (fewer than 2 contexts with both)");
}

char *xb_tables_decode(const xb_results *res, int threads, const char *thr_note)
{
    int any = 0;
    for (int i = 0; i < res->n && !any; i++)
        any = res->rec[i].kind == XB_KIND_DECODE && (threads <= 0 || res->rec[i].threads == threads);
    if (!any) return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;
    const char **mixers;
    int *Ls;
    int nm = xb_distinct_mixers(res, XB_KIND_DECODE, &mixers);
    int nL = xb_distinct_lengths(res, XB_KIND_DECODE, NULL, &Ls);
    int soft = 0;
    for (int j = 0; j < nm; j++) soft |= strcmp(mixers[j], "softmax") == 0;

    fprintf(f, "## Decode: time per generated token%s\n\n", thr_note);
    fprintf(f, "One causal mixer layer producing one more token of one sequence after a context "
               "of N tokens (MIXERS.md §29.2): attention reads its KV cache, its keys split "
               "across the threads (Lean Attention's split-K); a recurrent mixer updates its "
               "fixed-size state. Median time per token over the timed runs (* noisy); `state` "
               "is what the layer keeps between tokens at the longest context. Mixers with no "
               "causal form (no decode form) have no decode cells.\n\n");
    fprintf(f, "| mixer | state at N = %d |", nL ? Ls[nL - 1] : 0);
    for (int li = 0; li < nL; li++) fprintf(f, " N = %d |", Ls[li]);
    fprintf(f, "\n|---|---:|");
    for (int li = 0; li < nL; li++) fprintf(f, "---:|");
    fprintf(f, "\n");
    for (int j = 0; j < nm; j++) {
        xb_agg st;
        char cell[96];
        xb_aggregate(res, XB_KIND_DECODE, NULL, mixers[j], nL ? Ls[nL - 1] : 0, threads,
                     "decode.state_bytes", &st);
        fmt_bytes(st.ok ? st.median : NAN, cell, sizeof cell);
        fprintf(f, "| %s | %s |", mixers[j], cell);
        for (int li = 0; li < nL; li++) {
            xb_agg a;
            xb_aggregate(res, XB_KIND_DECODE, NULL, mixers[j], Ls[li], threads, STEP, &a);
            if (!a.ok) snprintf(cell, sizeof cell, "— (%s)", a.status);
            else xb_fmt_time(a.median, cell, sizeof cell);
            fprintf(f, " %s%s |", cell, a.ok && a.noisy ? "*" : "");
        }
        fprintf(f, "\n");
    }
    fprintf(f, "\n");
    if (!soft) {
        fprintf(f, "No softmax decode cells: no crossover to report.\n\n");
    } else if (nL >= 2) {
        fprintf(f, "Where each mixer decodes a token faster than softmax's KV cache (interpolated "
                   "in log-log between measured contexts):\n\n| mixer | faster than softmax |\n|---|---|\n");
        for (int j = 0; j < nm; j++) {
            if (strcmp(mixers[j], "softmax") == 0) continue;
            char cross[96];
            crossover(res, mixers[j], Ls, nL, threads, cross, sizeof cross);
            fprintf(f, "| %s | %s |\n", mixers[j], cross);
        }
        fprintf(f, "\n");
    }
    free(mixers);
    free(Ls);
    fclose(f);
    return out;
}
