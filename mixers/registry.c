/* mixers/registry.c — the one table of mixers. Adding a mixer: one extern line and one
 * table entry here, plus its own file (see core/mixer.h). */
#include "mixers/registry.h"

#include <string.h>

extern const xb_mixer xb_mixer_softmax;
extern const xb_mixer xb_mixer_gqa;
extern const xb_mixer xb_mixer_mqa;
extern const xb_mixer xb_mixer_sqa;
extern const xb_mixer xb_mixer_local;
extern const xb_mixer xb_mixer_local_block;
extern const xb_mixer xb_mixer_linformer;

const xb_mixer *const xb_mixers[] = {
    &xb_mixer_softmax,
    &xb_mixer_gqa,
    &xb_mixer_mqa,
    &xb_mixer_sqa,
    &xb_mixer_local,
    &xb_mixer_local_block,
    &xb_mixer_linformer,
    NULL
};

const int xb_n_mixers = (int)(sizeof xb_mixers / sizeof xb_mixers[0]) - 1;

const xb_mixer *xb_mixer_find(const char *name)
{
    for (int i = 0; xb_mixers[i]; i++)
        if (strcmp(xb_mixers[i]->name, name) == 0) return xb_mixers[i];
    return NULL;
}
