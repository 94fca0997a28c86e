/* harness/mixcfg.h — a mixer's configuration as JSON and as text, from its options table
 * (core/mixer.h): the record's config (its identity: config_hash, `xbench compare`), dump's
 * meta.json "config", and the "window=128, chunk=64" line of docs/dump.md. */
#ifndef XB_MIXCFG_H
#define XB_MIXCFG_H

#include <json-c/json.h>
#include <stddef.h>

#include "core/mixer.h"

/* The record's mixer config of a resolved c: d, heads, causal, n_max, then the frozen legacy
 * keys (see mixcfg.c), then m's other options that are set, in table order. Byte for byte
 * what every record carried before options were tables. */
json_object *xb_mixcfg_json(const xb_mixer *m, const xb_mixer_cfg *c);
/* The same for `xbench dump`'s meta.json: layer after n_max, floats in their shortest form. */
json_object *xb_mixcfg_dump_json(const xb_mixer *m, const xb_mixer_cfg *c);
/* "name=value, ..." for every option of m (resolved c), in table order; "" when none. */
void xb_mixcfg_text(char *out, size_t n, const xb_mixer *m, const xb_mixer_cfg *c);

#endif
