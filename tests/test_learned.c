/* tests/test_learned.c — the "not learned" (plateau) detector of harness/report/learned.h:
 *   synthetic curves  flat after an early drop, step down late, steady decline, noisy flat,
 *                     converged near 0, rising, too short, non-finite points
 *   real curves       from cells.jsonl records of `xbench run` (below), every 4th of the
 *                     record's 256 bucket means, 4 significant digits
 *   records           the json-c wrapper: accuracy gate, MQAR's 1/K plateau, bad records */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include <json-c/json.h>

#include "harness/report/learned.h"

/* ---- synthetic curves ---------------------------------------------------------------- */

#define NS 256

/* A reproducible noise in [-1, 1] (an LCG; no dependence on libc's rand). */
static double noise(unsigned *st)
{
    *st = *st * 1664525u + 1013904223u;
    return (double)(*st >> 8) / (double)(1u << 23) - 1.0;
}

/* steps 4, 8, ..., 1024 (the bucket ends of a 1024-step run) */
static void steps(double *s)
{
    for (int i = 0; i < NS; i++) s[i] = 4.0 * (i + 1);
}

static int verdict(const double *l, xb_plateau *p)
{
    double s[NS];
    steps(s);
    return xb_loss_plateaued(s, l, NS, p);
}

Test(learned, flat_after_early_drop)
{
    /* 5.0 → 2.0 over the first 20%, then flat with ±1% jitter: the MQAR 1/K plateau's shape */
    double l[NS];
    unsigned st = 1;
    for (int i = 0; i < NS; i++) {
        double x = (i + 1.0) / NS;
        l[i] = (x < 0.2 ? 5.0 - 15.0 * x : 2.0) + 0.02 * noise(&st);
    }
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 1, "flat_ratio %g level_ratio %g", p.flat_ratio, p.level_ratio);
    /* l0: the mean of the first 1/32 of the points (8 here, on the way down from 5.0) */
    cr_expect(fabs(p.l0 - 4.73) < 0.05 && fabs(p.lend - 2.0) < 0.02, "l0 %g lend %g", p.l0, p.lend);
    cr_expect(fabs(p.decline) < 0.02, "decline %g", p.decline);
}

Test(learned, step_down_late)
{
    /* the plateau until 70%, then a drop to 0.1 (gla on MQAR between 1000 and 2000 steps) */
    double l[NS];
    unsigned st = 2;
    for (int i = 0; i < NS; i++) {
        double x = (i + 1.0) / NS;
        double v = x < 0.1 ? 5.0 - 30.0 * x : x < 0.7 ? 2.0 : x < 0.8 ? 2.0 - 19.0 * (x - 0.7) : 0.1;
        l[i] = v + 0.02 * noise(&st);
    }
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 0, "flat_ratio %g", p.flat_ratio);
    cr_expect(p.flat_ratio > 1.0, "flat_ratio %g", p.flat_ratio);
}

Test(learned, steady_decline)
{
    /* 2.3 → 1.2 linearly: the last half falls by 0.55, ~46% of the end loss */
    double l[NS];
    unsigned st = 3;
    for (int i = 0; i < NS; i++) l[i] = 2.3 - 1.1 * (i + 1.0) / NS + 0.05 * noise(&st);
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 0, "flat_ratio %g", p.flat_ratio);
    cr_expect(fabs(p.decline - 0.55) < 0.05, "decline %g", p.decline);
}

Test(learned, slow_decline_is_flat)
{
    /* 2.0 → 1.8 over the whole run (the last half falls by 5% of the end loss): flat */
    double l[NS];
    unsigned st = 4;
    for (int i = 0; i < NS; i++) l[i] = 2.0 - 0.2 * (i + 1.0) / NS + 0.05 * noise(&st);
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 1, "flat_ratio %g", p.flat_ratio);
}

Test(learned, noisy_flat)
{
    /* flat at 2.0 with ±0.3 noise (single-batch losses, like ListOps at 300 steps): flat, and
     * the standard error stays small enough to say so */
    double l[NS];
    unsigned st = 5;
    for (int i = 0; i < NS; i++) l[i] = 2.0 + 0.3 * noise(&st);
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 1, "flat_ratio %g se %g", p.flat_ratio, p.decline_se);
    cr_expect(p.decline_se > 0.01 && p.decline_se < 0.1, "se %g", p.decline_se);
}

Test(learned, very_noisy_is_not_called_flat)
{
    /* ±3 noise around 2.0: a decline of a quarter of the end loss cannot be ruled out */
    double l[NS];
    unsigned st = 6;
    for (int i = 0; i < NS; i++) l[i] = 2.0 + 3.0 * noise(&st);
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 0, "flat_ratio %g se %g", p.flat_ratio, p.decline_se);
}

Test(learned, converged_is_not_a_plateau)
{
    /* drops to 0.05 early and stays: flat, but 1% of the initial loss (solved, not stuck) */
    double l[NS];
    unsigned st = 7;
    for (int i = 0; i < NS; i++) {
        double x = (i + 1.0) / NS;
        l[i] = (x < 0.2 ? 5.0 - 24.75 * x : 0.05) + 0.001 * noise(&st);
    }
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 0, "level_ratio %g flat_ratio %g", p.level_ratio, p.flat_ratio);
    cr_expect(p.level_ratio < XB_PLATEAU_LEVEL);
}

Test(learned, rising_counts_as_flat)
{
    /* a loss that creeps up after the early drop made no progress either */
    double l[NS];
    for (int i = 0; i < NS; i++) {
        double x = (i + 1.0) / NS;
        l[i] = x < 0.2 ? 5.0 - 15.0 * x : 2.0 + 0.5 * (x - 0.2);
    }
    xb_plateau p;
    cr_expect_eq(verdict(l, &p), 1);
    cr_expect(p.decline < 0, "decline %g", p.decline);
}

Test(learned, too_short_or_bad_input)
{
    double s[NS], l[NS];
    steps(s);
    for (int i = 0; i < NS; i++) l[i] = 2.0;
    xb_plateau p;
    cr_expect_eq(xb_loss_plateaued(s, l, XB_PLATEAU_MIN_POINTS - 1, &p), -1);
    cr_expect(isnan(p.flat_ratio));
    cr_expect_eq(xb_loss_plateaued(NULL, l, NS, &p), -1);
    cr_expect_eq(xb_loss_plateaued(s, l, 0, NULL), -1);
    cr_expect_eq(xb_loss_plateaued(s, l, NS, NULL), 1, "a constant curve is flat");
    /* non-finite and out-of-order points are skipped, not propagated */
    l[10] = NAN; l[20] = INFINITY; s[30] = s[29];
    cr_expect_eq(xb_loss_plateaued(s, l, NS, &p), 1);
    cr_expect_eq(p.n, NS - 3);
    cr_expect(isfinite(p.flat_ratio));
}

/* ---- real curves ----------------------------------------------------------------------
 * Captured at commit fb2245b with three suites in /tmp that copy suite.yaml's top level
 * (model dim 32, 2 layers, 2 heads, glu; train batch 32, lr 2e-3, warmup 0.05, wd 0.1) and
 * its task entries, each run as
 *   ./xbench run SUITE.yaml -o DIR --only gla,mamba,softmax,deltanet,pool,linear --threads 2
 *       --no-plots --machine none
 *   calib.yaml     seed 1234: suite.yaml's mqar entry (dim 64, 1 head, mlp none, short_conv 3,
 *                  lr 3e-3, 1000 steps) at lengths [64], majority [64], listops [64]
 *   calib2.yaml    seed 1: the mqar entry at [32, 64]; listops [64] with train steps 1000
 *   mqar2000.yaml  seeds [1234, 1]: the mqar entry at [64] with train steps 2000
 *                  (--only gla,mamba,softmax,deltanet)
 * The curves below are L = 64, seed 1234: every 4th of the record's 256 bucket means
 * (loss_curve[3::4]), 4 significant digits. harness/report/learned.h gives the statistics of
 * all. */

/* gla, mqar, 1000 steps: 5.0 → the 4.2 plateau → ~2.0 by step 400, then flat at ~1.8;
 * test_acc 0.25875 (chance 0.0195, K = 4) */
static const double gla_mqar_1000[][2] = {
    {15, 4.998}, {31, 4.854}, {46, 4.538}, {62, 4.25}, {78, 4.184}, {93, 4.209}, {109, 4.18},
    {125, 4.121}, {140, 3.973}, {156, 3.584}, {171, 3.284}, {187, 2.935}, {203, 2.686},
    {218, 2.491}, {234, 2.318}, {250, 2.254}, {265, 2.15}, {281, 2.168}, {296, 2.105}, {312, 2.078},
    {328, 2.06}, {343, 2.09}, {359, 2.02}, {375, 1.97}, {390, 2.008}, {406, 1.927}, {421, 1.973},
    {437, 1.908}, {453, 1.981}, {468, 1.941}, {484, 1.962}, {500, 1.92}, {515, 1.957}, {531, 1.92},
    {546, 1.889}, {562, 1.854}, {578, 1.885}, {593, 1.841}, {609, 1.814}, {625, 1.921},
    {640, 1.846}, {656, 1.795}, {671, 1.863}, {687, 1.782}, {703, 1.811}, {718, 1.772},
    {734, 1.748}, {750, 1.774}, {765, 1.808}, {781, 1.825}, {796, 1.791}, {812, 1.798},
    {828, 1.743}, {843, 1.734}, {859, 1.766}, {875, 1.773}, {890, 1.759}, {906, 1.787},
    {921, 1.743}, {937, 1.764}, {953, 1.79}, {968, 1.785}, {984, 1.824}, {1000, 1.765},
};

/* gla, mqar, 2000 steps: the same plateau until ~900, then down to 0.08; test_acc 0.97825 */
static const double gla_mqar_2000[][2] = {
    {31, 4.926}, {62, 4.631}, {93, 4.217}, {125, 4.185}, {156, 3.971}, {187, 3.329}, {218, 2.707},
    {250, 2.34}, {281, 2.196}, {312, 2.08}, {343, 2.064}, {375, 1.976}, {406, 2.005}, {437, 1.949},
    {468, 1.969}, {500, 1.936}, {531, 1.953}, {562, 1.922}, {593, 1.873}, {625, 1.886},
    {656, 1.813}, {687, 1.811}, {718, 1.801}, {750, 1.837}, {781, 1.863}, {812, 1.816},
    {843, 1.801}, {875, 1.795}, {906, 1.817}, {937, 1.747}, {968, 1.713}, {1000, 1.532},
    {1031, 1.297}, {1062, 1.196}, {1093, 1.14}, {1125, 1.037}, {1156, 0.9131}, {1187, 0.7178},
    {1218, 0.6257}, {1250, 0.4937}, {1281, 0.3703}, {1312, 0.3197}, {1343, 0.2989}, {1375, 0.2354},
    {1406, 0.1957}, {1437, 0.172}, {1468, 0.1701}, {1500, 0.1475}, {1531, 0.1471}, {1562, 0.116},
    {1593, 0.1347}, {1625, 0.1078}, {1656, 0.09841}, {1687, 0.09471}, {1718, 0.1045},
    {1750, 0.09588}, {1781, 0.09472}, {1812, 0.0902}, {1843, 0.08376}, {1875, 0.08864},
    {1906, 0.06995}, {1937, 0.08116}, {1968, 0.06119}, {2000, 0.08232},
};

/* softmax, mqar, 1000 steps: straight through to 0.02; test_acc 0.99675 */
static const double softmax_mqar_1000[][2] = {
    {15, 4.982}, {31, 4.681}, {46, 4.248}, {62, 4.197}, {78, 4.15}, {93, 4.143}, {109, 4.028},
    {125, 3.882}, {140, 3.592}, {156, 3.419}, {171, 3.24}, {187, 3.038}, {203, 2.906}, {218, 2.785},
    {234, 2.615}, {250, 2.353}, {265, 2.159}, {281, 1.854}, {296, 1.601}, {312, 1.302},
    {328, 0.8475}, {343, 0.741}, {359, 0.5337}, {375, 0.4651}, {390, 0.4036}, {406, 0.2247},
    {421, 0.1598}, {437, 0.1896}, {453, 0.1251}, {468, 0.1198}, {484, 0.132}, {500, 0.1494},
    {515, 0.1106}, {531, 0.09176}, {546, 0.09064}, {562, 0.08833}, {578, 0.06187}, {593, 0.07892},
    {609, 0.06}, {625, 0.06266}, {640, 0.01686}, {656, 0.01832}, {671, 0.02842}, {687, 0.02278},
    {703, 0.0217}, {718, 0.05048}, {734, 0.05278}, {750, 0.02605}, {765, 0.02264}, {781, 0.02417},
    {796, 0.01446}, {812, 0.01654}, {828, 0.01152}, {843, 0.02321}, {859, 0.01103}, {875, 0.009653},
    {890, 0.007769}, {906, 0.01495}, {921, 0.004634}, {937, 0.03688}, {953, 0.007195},
    {968, 0.01897}, {984, 0.008228}, {1000, 0.01677},
};

/* softmax, listops, 300 steps: 2.3 → ~1.8 by step 130, then noisy and flat; test_acc 0.313
 * (chance 0.143) */
static const double softmax_listops_300[][2] = {
    {4, 2.282}, {9, 2.305}, {14, 2.296}, {18, 2.333}, {23, 2.308}, {28, 2.24}, {32, 2.236},
    {37, 2.227}, {42, 2.234}, {46, 2.266}, {51, 2.267}, {56, 2.261}, {60, 2.193}, {65, 2.16},
    {70, 2.194}, {75, 2.067}, {79, 2.095}, {84, 1.812}, {89, 1.879}, {93, 1.892}, {98, 1.932},
    {103, 2.092}, {107, 1.602}, {112, 1.914}, {117, 1.628}, {121, 2.051}, {126, 1.931},
    {131, 1.712}, {135, 1.874}, {140, 1.91}, {145, 1.498}, {150, 1.735}, {154, 1.648}, {159, 1.931},
    {164, 2.014}, {168, 1.757}, {173, 1.834}, {178, 1.691}, {182, 1.982}, {187, 1.889}, {192, 1.88},
    {196, 1.892}, {201, 1.887}, {206, 1.946}, {210, 1.816}, {215, 1.882}, {220, 1.948},
    {225, 1.707}, {229, 1.944}, {234, 1.529}, {239, 1.55}, {243, 1.759}, {248, 1.899}, {253, 2.007},
    {257, 1.822}, {262, 1.823}, {267, 1.597}, {271, 2.048}, {276, 1.567}, {281, 1.952},
    {285, 1.852}, {290, 1.746}, {295, 1.789}, {300, 1.733},
};

/* mamba, mqar, 2000 steps: still on the plateau, drifting 1.95 → 1.67; test_acc 0.262 */
static const double mamba_mqar_2000[][2] = {
    {31, 4.93}, {62, 4.572}, {93, 4.203}, {125, 4.184}, {156, 4.129}, {187, 4.099}, {218, 3.986},
    {250, 3.589}, {281, 3.134}, {312, 2.804}, {343, 2.611}, {375, 2.367}, {406, 2.224},
    {437, 2.194}, {468, 2.171}, {500, 2.057}, {531, 2.091}, {562, 2.105}, {593, 2.041},
    {625, 1.992}, {656, 1.959}, {687, 1.959}, {718, 1.958}, {750, 1.922}, {781, 1.929},
    {812, 1.886}, {843, 1.885}, {875, 1.871}, {906, 1.877}, {937, 1.831}, {968, 1.861},
    {1000, 1.842}, {1031, 1.827}, {1062, 1.802}, {1093, 1.84}, {1125, 1.797}, {1156, 1.793},
    {1187, 1.781}, {1218, 1.801}, {1250, 1.777}, {1281, 1.781}, {1312, 1.729}, {1343, 1.744},
    {1375, 1.706}, {1406, 1.718}, {1437, 1.713}, {1468, 1.693}, {1500, 1.715}, {1531, 1.693},
    {1562, 1.729}, {1593, 1.711}, {1625, 1.703}, {1656, 1.723}, {1687, 1.729}, {1718, 1.678},
    {1750, 1.729}, {1781, 1.684}, {1812, 1.696}, {1843, 1.673}, {1875, 1.705}, {1906, 1.665},
    {1937, 1.66}, {1968, 1.655}, {2000, 1.665},
};

static int curve_verdict(const double (*c)[2], int n, xb_plateau *p)
{
    double s[256], l[256];
    for (int i = 0; i < n; i++) { s[i] = c[i][0]; l[i] = c[i][1]; }
    return xb_loss_plateaued(s, l, n, p);
}

#define NPTS(a) ((int)(sizeof a / sizeof a[0]))

Test(learned, real_curves)
{
    xb_plateau p;
    cr_expect_eq(curve_verdict(gla_mqar_1000, NPTS(gla_mqar_1000), &p), 1, "gla mqar 1000: flat %g", p.flat_ratio);
    cr_expect_eq(curve_verdict(mamba_mqar_2000, NPTS(mamba_mqar_2000), &p), 1, "mamba mqar 2000: flat %g", p.flat_ratio);
    cr_expect_eq(curve_verdict(gla_mqar_2000, NPTS(gla_mqar_2000), &p), 0, "gla mqar 2000: flat %g", p.flat_ratio);
    cr_expect_eq(curve_verdict(softmax_mqar_1000, NPTS(softmax_mqar_1000), &p), 0, "softmax mqar: level %g", p.level_ratio);
    /* ListOps's loss is as flat over its second half as gla's plateau: the curve alone cannot
     * tell them apart; the record's accuracy does (records test below) */
    cr_expect_eq(curve_verdict(softmax_listops_300, NPTS(softmax_listops_300), &p), 1, "listops: flat %g", p.flat_ratio);
}

/* ---- records ----------------------------------------------------------------------------- */

static json_object *record(const char *task, const double (*c)[2], int n, double acc, double chance, int K)
{
    json_object *r = json_object_new_object();
    json_object_object_add(r, "kind", json_object_new_string("train"));
    json_object_object_add(r, "status", json_object_new_string("ok"));
    json_object_object_add(r, "task", json_object_new_string(task));
    json_object_object_add(r, "test_acc", isnan(acc) ? NULL : json_object_new_double(acc));
    json_object_object_add(r, "chance", json_object_new_double(chance));
    json_object *curve = json_object_new_array();
    for (int i = 0; i < n; i++) {
        json_object *pt = json_object_new_array();
        json_object_array_add(pt, json_object_new_int((int)c[i][0]));
        json_object_array_add(pt, json_object_new_double(c[i][1]));
        json_object_array_add(curve, pt);
    }
    json_object_object_add(r, "loss_curve", curve);
    if (K > 0) {
        json_object *opt = json_object_new_object(), *tk = json_object_new_object(), *cfg = json_object_new_object();
        json_object_object_add(opt, "kv_pairs", json_object_new_int(K));
        json_object_object_add(tk, "options", opt);
        json_object_object_add(cfg, "task", tk);
        json_object_object_add(r, "config", cfg);
    }
    return r;
}

Test(learned, records)
{
    xb_plateau p;
    json_object *r;

    r = record("mqar", gla_mqar_1000, NPTS(gla_mqar_1000), 0.25875, 0.0195, 4);
    cr_expect_eq(xb_cell_not_learned(r, &p), 1, "gla mqar 1000");
    cr_expect_float_eq(p.plateau_acc, 0.25, 1e-12, "MQAR's plateau is 1/K, not chance");
    json_object_put(r);

    r = record("mqar", mamba_mqar_2000, NPTS(mamba_mqar_2000), 0.262, 0.0195, 4);
    cr_expect_eq(xb_cell_not_learned(r, &p), 1, "mamba mqar 2000");
    json_object_put(r);

    r = record("mqar", gla_mqar_2000, NPTS(gla_mqar_2000), 0.97825, 0.0195, 4);
    cr_expect_eq(xb_cell_not_learned(r, &p), 0, "gla mqar 2000");
    json_object_put(r);

    r = record("mqar", softmax_mqar_1000, NPTS(softmax_mqar_1000), 0.99675, 0.0195, 4);
    cr_expect_eq(xb_cell_not_learned(r, &p), 0, "softmax mqar");
    json_object_put(r);

    /* flat curve, but accuracy well above chance: learned */
    r = record("listops", softmax_listops_300, NPTS(softmax_listops_300), 0.313, 0.143, 0);
    cr_expect_eq(xb_cell_not_learned(r, &p), 0, "softmax listops");
    cr_expect_float_eq(p.plateau_acc, 0.143, 1e-12);
    json_object_put(r);
    /* the same curve at chance accuracy: not learned */
    r = record("listops", softmax_listops_300, NPTS(softmax_listops_300), 0.15, 0.143, 0);
    cr_expect_eq(xb_cell_not_learned(r, &p), 1, "listops at chance");
    json_object_put(r);

    /* without kv_pairs in the config, MQAR falls back to chance: gla's 0.259 is then far above it */
    r = record("mqar", gla_mqar_1000, NPTS(gla_mqar_1000), 0.25875, 0.0195, 0);
    cr_expect_eq(xb_cell_not_learned(r, &p), 0);
    cr_expect_float_eq(p.plateau_acc, 0.0195, 1e-12);
    json_object_put(r);

    /* cannot tell: no accuracy, not ok, latency cell, no curve, NULL */
    r = record("mqar", gla_mqar_1000, NPTS(gla_mqar_1000), NAN, 0.0195, 4);
    cr_expect_eq(xb_cell_not_learned(r, &p), -1, "null test_acc");
    json_object_object_add(r, "test_acc", json_object_new_double(0.25));
    json_object_object_add(r, "status", json_object_new_string("timeout"));
    cr_expect_eq(xb_cell_not_learned(r, &p), -1, "status timeout");
    json_object_object_add(r, "status", json_object_new_string("ok"));
    json_object_object_add(r, "kind", json_object_new_string("latency"));
    cr_expect_eq(xb_cell_not_learned(r, &p), -1, "latency cell");
    json_object_object_add(r, "kind", json_object_new_string("train"));
    cr_expect_eq(xb_cell_not_learned(r, &p), 1, "restored");
    json_object_object_add(r, "loss_curve", NULL);
    cr_expect_eq(xb_cell_not_learned(r, &p), -1, "null loss_curve");
    json_object_put(r);
    cr_expect_eq(xb_cell_not_learned(NULL, &p), -1);
    cr_expect_eq(xb_cell_not_learned(NULL, NULL), -1);
}
