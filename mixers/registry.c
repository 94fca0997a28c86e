/* mixers/registry.c — the one table of mixers. Adding a mixer: one extern line and one
 * table entry here, plus its own file (see core/mixer.h). */
#include "mixers/registry.h"

#include <string.h>

extern const xb_mixer xb_mixer_softmax;

const xb_mixer *const xb_mixers[] = {
    &xb_mixer_softmax,
    NULL
};

const int xb_n_mixers = (int)(sizeof xb_mixers / sizeof xb_mixers[0]) - 1;

const xb_mixer *xb_mixer_find(const char *name)
{
    for (int i = 0; xb_mixers[i]; i++)
        if (strcmp(xb_mixers[i]->name, name) == 0) return xb_mixers[i];
    return NULL;
}
