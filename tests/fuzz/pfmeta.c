/* tests/fuzz/pfmeta.c — libFuzzer target: Pathfinder metadata files (tasks/pathfinder.c
 * with data_dir: metadata/<k>.npy text, fields 1, 2, 4 = sub-folder, file name, label; the
 * files in numeric order; empty images skipped; 80/10/10 split).
 *
 * Input: the metadata files cut at FZ_SEP, written as metadata/0.npy, 1.npy, 10.npy, 2.npy
 * (numeric order is not byte order). The images they may name are there: imgs/0/sample_<i>.png
 * for i in 0..11, 16x16 gray, each different, and an empty imgs/0/sample_e.png. */
#include "tests/fuzz/pathfinder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int made;
    char rel[128];
    if (!made) {
        for (int i = 0; i < 12; i++) {
            snprintf(rel, sizeof rel, "pf/imgs/0/sample_%d.png", i);
            fz_write_png(rel, FZ_PF_SIDE, i, 10 * i);
        }
        fz_write("pf/imgs/0/sample_e.png", "", 0);
        made = 1;
    }
    static const char *const nm[4] = { "0.npy", "1.npy", "10.npy", "2.npy" };
    fz_rm_tree(fz_path("pf/metadata"));
    const uint8_t *part[4];
    size_t len[4];
    int n = fz_split(data, size, part, len, 4);
    for (int k = 0; k < n; k++) {
        snprintf(rel, sizeof rel, "pf/metadata/%s", nm[k]);
        fz_write(rel, part[k], len[k]);
    }
    fz_pf_load();
    return 0;
}
