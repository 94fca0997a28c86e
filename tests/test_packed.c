/* tests/test_packed.c — padding-free batches (core/model.h xb_model_forward_packed, MIXERS.md
 * §29.1): for every registered mixer, the packed forward of a batch of sequences of different
 * lengths gives the same logits as the padded forward of the same batch (the padding contract
 * says pads influence no real position), for the classifier, pair and per-token heads, with
 * and without the short conv, through two layers and a looped block. Parameterised over the
 * registry: a new mixer is covered without new test code. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/xb.h"
#include "mixers/registry.h"
#include "tests/mixopt.h"

static void check_packed(const xb_mixer *mx, xb_shape shape, int conv, int loop)
{
    const int b = 4, N = 70;   /* lengths cross a 64-row tile */
    const int causal = shape == XB_SHAPE_TOK;
    if (causal && !(mx->modes & XB_CAUSAL)) return;
    if (!causal && !(mx->modes & XB_BIDIR)) return;
    xb_model_cfg mc = {0};
    mc.shape = shape; mc.vocab = 11; mc.n_classes = shape == XB_SHAPE_TOK ? 11 : 3;
    mc.dim = 16; mc.layers = 2; mc.heads = 2; mc.mlp = XB_MLP_GLU; mc.mlp_ratio = 2;
    mc.short_conv = conv; mc.positions = 1; mc.max_len = N; mc.head_hidden = 12; mc.loop = loop;
    xb_mixer_cfg xc = {0};
    xc.d = mc.dim; xc.heads = mc.heads; xc.causal = causal; xc.n_max = N;
    set_opts(mx, &xc, "window=5 block=8 rank=6 features=8 state=4 order=6 theta=%d chunk=16 d_ff=32", N);
    xb_model *m;
    char err[256] = "";
    cr_assert_eq(xb_model_create(&m, &mc, mx, &xc, b, N, err, sizeof err), 0, "%s: %s", mx->name, err);
    xb_model_init(m, 99);
    const int ns = shape == XB_SHAPE_PAIR ? 2 * b : b;
    const int lens[8] = {N, 37, 1, 66, 5, N, 64, 2};
    int32_t *pad = calloc((size_t)ns * N, sizeof *pad), *packed = calloc((size_t)ns * N, sizeof *packed);
    int len[8], T = 0;
    xb_rng r;
    xb_rng_seed(&r, 5);
    for (int s = 0; s < ns; s++) {
        len[s] = lens[s];
        for (int t = 0; t < len[s]; t++) {
            int32_t tok = (int32_t)xb_rng_below(&r, (uint32_t)mc.vocab);
            pad[(size_t)s * N + t] = tok;
            packed[T++] = tok;
        }
    }
    const int rows = shape == XB_SHAPE_TOK ? b * N : b;
    const size_t nl = (size_t)rows * mc.n_classes;
    float *ref = malloc(nl * sizeof *ref);
    xb_model_forward(m, pad, len, NULL, b);
    memcpy(ref, xb_model_logits(m), nl * sizeof *ref);
    xb_model_forward_packed(m, packed, len, b);
    const float *got = xb_model_logits(m);
    double e = 0, scale = 0;
    for (int row = 0; row < rows; row++) {
        if (shape == XB_SHAPE_TOK && row % N >= len[row / N]) continue;   /* pad positions */
        for (int k = 0; k < mc.n_classes; k++) {
            size_t i = (size_t)row * mc.n_classes + k;
            e = fmax(e, fabs((double)got[i] - ref[i]));
            scale = fmax(scale, fabs((double)ref[i]));
        }
    }
    cr_expect(e <= 1e-4 * (1 + scale), "%s (shape %d, conv %d, loop %d): packed logits differ from padded by %.3g",
              mx->name, (int)shape, conv, loop, e);
    free(pad); free(packed); free(ref);
    xb_model_free(m);
}

static int ids[128];
static int n_ids(void)
{
    for (int i = 0; i < xb_n_mixers && i < 128; i++) ids[i] = i;
    return xb_n_mixers;
}

ParameterizedTestParameters(packed, matches_padded) { return cr_make_param_array(int, ids, n_ids()); }
ParameterizedTest(int *i, packed, matches_padded)
{
    const xb_mixer *mx = xb_mixers[*i];
    omp_set_num_threads(2);
    check_packed(mx, XB_SHAPE_CLS, 0, 1);
    check_packed(mx, XB_SHAPE_TOK, 3, 1);
    check_packed(mx, XB_SHAPE_PAIR, 3, 2);
}
