/* harness/report/tables_packed.c — the padding-free batches section of tables.md
 * (harness/report/tables.h): for the training cells whose test examples vary in length (records
 * with "packed", harness/measure.h), the whole-model forward of one batch padded against the
 * same batch packed (MIXERS.md §29.1). */
#include "harness/report/tables.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int has_packed(const xb_rec *r, int threads)
{
    return r->kind == XB_KIND_TRAIN && (threads <= 0 || r->threads == threads) &&
           xb_jget(r->o, "packed") != NULL;
}

char *xb_tables_packed(const xb_results *res, int threads, const char *thr_note)
{
    int any = 0;
    for (int i = 0; i < res->n && !any; i++) any = has_packed(&res->rec[i], threads);
    if (!any) return NULL;
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) return NULL;
    fprintf(f, "## Padding-free batches%s\n\n", thr_note);
    fprintf(f, "Tasks whose examples vary in length: one batch of test examples through the "
               "whole model's forward padded to the task length (pads masked) and packed without "
               "padding (ByteTransformer, MIXERS.md §29.1: token-wise layers on the real rows only, "
               "the mixer on each sequence at its own length). Medians (* noisy); `speedup` = "
               "padded / packed; `tokens` = real / padded tokens of the batch; mixer FLOPs of the "
               "batch padded → packed. Both forwards give the same logits (largest difference in "
               "the last column).\n\n");
    const char **tasks;
    int nt = xb_distinct_tasks(res, &tasks);
    for (int t = 0; t < nt; t++) {
        int *Ls;
        int nL = xb_distinct_lengths(res, XB_KIND_TRAIN, tasks[t], &Ls);
        for (int li = 0; li < nL; li++) {
            int here = 0;
            for (int i = 0; i < res->n && !here; i++)
                here = has_packed(&res->rec[i], threads) && res->rec[i].L == Ls[li] && !strcmp(res->rec[i].task, tasks[t]);
            if (!here) continue;
            fprintf(f, "### %s, L = %d\n\n| mixer | padded | packed | speedup | tokens | mixer FLOPs | "
                       "max logit diff |\n|---|---:|---:|---:|---:|---:|---:|\n", tasks[t], Ls[li]);
            const char **mixers;
            int nm = xb_distinct_mixers(res, XB_KIND_TRAIN, &mixers);
            for (int j = 0; j < nm; j++) {
                xb_agg pd, pk, tk, ptk, fpd, fpk, df;
                const char *mx = mixers[j];
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.padded_fwd.median", &pd);
                if (pd.total == 0) continue;
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.packed_fwd.median", &pk);
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.tokens", &tk);
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.padded_tokens", &ptk);
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.mixer_flops_padded", &fpd);
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.mixer_flops_packed", &fpk);
                xb_aggregate(res, XB_KIND_TRAIN, tasks[t], mx, Ls[li], threads, "packed.max_logit_diff", &df);
                char a[96], b[96];
                if (pd.ok) xb_fmt_time(pd.median, a, sizeof a); else snprintf(a, sizeof a, "— (%s)", pd.status);
                if (pk.ok) xb_fmt_time(pk.median, b, sizeof b); else snprintf(b, sizeof b, "— (%s)", pk.status);
                fprintf(f, "| %s | %s%s | %s%s |", mx, a, pd.ok && pd.noisy ? "*" : "", b, pk.ok && pk.noisy ? "*" : "");
                if (pd.ok && pk.ok && pk.median > 0) fprintf(f, " %.2f× |", pd.median / pk.median);
                else fprintf(f, " — |");
                if (tk.ok && ptk.ok) fprintf(f, " %.0f / %.0f |", tk.median, ptk.median);
                else fprintf(f, " — |");
                if (fpd.ok && fpk.ok) fprintf(f, " %.3g → %.3g |", fpd.median, fpk.median);
                else fprintf(f, " — |");
                if (df.ok) fprintf(f, " %.2g |\n", df.median);
                else fprintf(f, " — |\n");
            }
            fprintf(f, "\n");
            free(mixers);
        }
        free(Ls);
    }
    free(tasks);
    fclose(f);
    return out;
}
