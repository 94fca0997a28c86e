/* mixers/registry.c — the one table of mixers, in the order of MIXERS.md. Adding a mixer:
 * one extern line and one table entry here, plus its own file (see core/mixer.h). */
#include "mixers/registry.h"

#include <string.h>

extern const xb_mixer xb_mixer_softmax;
extern const xb_mixer xb_mixer_gqa;
extern const xb_mixer xb_mixer_mqa;
extern const xb_mixer xb_mixer_sqa;
extern const xb_mixer xb_mixer_local;
extern const xb_mixer xb_mixer_local_block;
extern const xb_mixer xb_mixer_sparse_fixed;
extern const xb_mixer xb_mixer_bigbird;
extern const xb_mixer xb_mixer_linformer;
extern const xb_mixer xb_mixer_performer;
extern const xb_mixer xb_mixer_linear;
extern const xb_mixer xb_mixer_synthesizer;
extern const xb_mixer xb_mixer_reformer;
extern const xb_mixer xb_mixer_sinkhorn;
extern const xb_mixer xb_mixer_fnet;
extern const xb_mixer xb_mixer_pool;
extern const xb_mixer xb_mixer_activator;
extern const xb_mixer xb_mixer_retnet;
extern const xb_mixer xb_mixer_gla;
extern const xb_mixer xb_mixer_deltanet;
extern const xb_mixer xb_mixer_mamba;
extern const xb_mixer xb_mixer_lmu;
extern const xb_mixer xb_mixer_sse;
extern const xb_mixer xb_mixer_minattn;

const xb_mixer *const xb_mixers[] = {
    &xb_mixer_softmax,
    &xb_mixer_gqa,
    &xb_mixer_mqa,
    &xb_mixer_sqa,
    &xb_mixer_local,
    &xb_mixer_local_block,
    &xb_mixer_sparse_fixed,
    &xb_mixer_bigbird,
    &xb_mixer_linformer,
    &xb_mixer_performer,
    &xb_mixer_linear,
    &xb_mixer_synthesizer,
    &xb_mixer_reformer,
    &xb_mixer_sinkhorn,
    &xb_mixer_fnet,
    &xb_mixer_pool,
    &xb_mixer_activator,
    &xb_mixer_retnet,
    &xb_mixer_gla,
    &xb_mixer_deltanet,
    &xb_mixer_mamba,
    &xb_mixer_lmu,
    &xb_mixer_sse,
    &xb_mixer_minattn,
    NULL
};

const int xb_n_mixers = (int)(sizeof xb_mixers / sizeof xb_mixers[0]) - 1;

const xb_mixer *xb_mixer_find(const char *name)
{
    for (int i = 0; xb_mixers[i]; i++)
        if (strcmp(xb_mixers[i]->name, name) == 0) return xb_mixers[i];
    return NULL;
}
