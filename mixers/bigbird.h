/* mixers/bigbird.h — bigbird's random-block table (MIXERS.md §6), for `xbench dump` and the
 * tests; the mixer itself is xb_mixer_bigbird in the registry. */
#ifndef XB_BIGBIRD_H
#define XB_BIGBIRD_H

#include "core/mixer.h"

/* Blocks of a sequence of N real tokens: ⌈N / block⌉ (the last may be short). In a padded
 * batch each sequence has the blocks of its own length len[b]; padding adds none. */
int xb_bigbird_blocks(const xb_mixer_cfg *c, int N);

/* The random key blocks of every (head j, query block I): table[(j·n_b + I)·r_b + t] for
 * t < r_b, ascending, −1 where fewer than r_b were drawn (global and early blocks), n_b as
 * above for a sequence of N real tokens. Drawn from a stream seeded by c->layer and j alone, so every call (forward, backward,
 * reference, dump) gets the same table. table holds heads · n_b · r_b ints. */
void xb_bigbird_table(const xb_mixer_cfg *c, int N, int *table);

#endif
