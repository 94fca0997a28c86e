/* mixers/registry.h — the one table of mixers (mixers/registry.c). */
#ifndef XB_MIXERS_REGISTRY_H
#define XB_MIXERS_REGISTRY_H
#include "core/mixer.h"
extern const xb_mixer *const xb_mixers[];   /* NULL-terminated */
extern const int xb_n_mixers;
const xb_mixer *xb_mixer_find(const char *name);  /* NULL if unknown */
#endif
