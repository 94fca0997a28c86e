/* harness/dump.h — `xbench dump`: one mixer layer's weights, input, output and gradients as
 * .npy files plus meta.json, so another implementation (NumPy, PyTorch) can be checked against
 * xbench tensor by tensor; and the per-mixer table of parameter files in docs/dump.md.
 * Everything mixer-specific comes from the mixer itself: its options table, its tensors, its
 * layout() and facts() (core/mixer.h). cmd/cmd_dump.c only parses the arguments.
 *
 * The recipe (also written into meta.json's "rng"):
 *   cfg   = {d, heads, causal, n_max = N, layer = 0, --option values}, then xb_mixer_resolve;
 *   w     = mixer init() with xoshiro256** seeded by xb_stream_seed(seed, 0, "init", 0);
 *   x     = N(0,1) (xb_rng_normal, row-major N × d) from xb_stream_seed(seed, 0, "dump.x", 0);
 *   dy    = N(0,1) likewise from xb_stream_seed(seed, 0, "dump.dy", 0);
 *   y     = forward(w, x) with B = 1, no padding; dx, dw = backward(dy) with dw zeroed first.
 * dump computes one layer, so it calls the kernels (and their OpenMP regions) directly. Results
 * are bit-identical for the same seed and thread count (recorded as "threads"). */
#ifndef XB_DUMP_H
#define XB_DUMP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/mixer.h"

/* {d, heads, causal, n_max = n}, every option unset. */
xb_mixer_cfg xb_dump_cfg(int d, int heads, int causal, int n);
/* Apply "KEY=VALUE" (an option of m's table, in its range; an ENUM by name or number) to c:
 * 0, or XB_EINVAL with the reason in err. */
int xb_dump_option(const xb_mixer *m, xb_mixer_cfg *c, const char *kv, char *err, size_t errn);
/* The Markdown tensor table of every mixer (or only `only`) at d, heads, n_max = n, each
 * option at its default (docs/dump.md's generated block). */
void xb_dump_list_tensors(FILE *f, const xb_mixer *only, int d, int heads, int n);
/* Run m at the resolved, checked c on N tokens and write the files into dir (created): 0, or
 * a negative XB_E* code with a message on err. One line on out says what was written. */
int xb_dump_run(const xb_mixer *m, const xb_mixer_cfg *c, int N, uint64_t seed, const char *dir, FILE *out,
                FILE *err);

#endif
