/* tests/fuzz/tsv.c — libFuzzer target: LRA's AAN pair TSVs (tasks/retrieval.c with
 * data_dir: new_aan_pairs.{train,eval,test}.tsv, 5 tab-separated columns).
 *
 * Input: one configuration byte, then the three files cut at FZ_SEP (file k gets the last
 * part when there are fewer). Configuration byte: bits 0-5 L - 1 (1..64), bit 6 take one
 * pair per split instead of all, bit 7 put the files under tsv_data/. */
#include "tests/fuzz/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *const nm[3] = { "new_aan_pairs.train.tsv", "new_aan_pairs.eval.tsv",
                                       "new_aan_pairs.test.tsv" };
    uint8_t conf = data[0];
    const uint8_t *part[3];
    size_t len[3];
    int n = fz_split(data + 1, size - 1, part, len, 3);
    fz_rm_tree(fz_path("aan"));
    char rel[64];
    for (int k = 0; k < 3; k++) {
        snprintf(rel, sizeof rel, "aan/%s%s", conf & 128 ? "tsv_data/" : "", nm[k]);
        fz_write(rel, part[k < n ? k : n - 1], len[k < n ? k : n - 1]);
    }
    const xb_task *t = xb_task_find("retrieval");
    xb_task_cfg c = fz_cfg(t, 1 + (conf & 63), fz_path("aan"), conf & 64 ? 1 : -1);
    fz_load("retrieval", &c);
    return 0;
}
