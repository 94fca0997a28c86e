/* tests/fuzz/cifar.c — libFuzzer target: CIFAR-10 binary batches (tasks/image.c with
 * data_dir: data_batch_1..5.bin and test_batch.bin, 3073-byte records).
 *
 * Input: one configuration byte, then the files cut at FZ_SEP; file k gets part k, or the
 * last part when there are fewer (one part stands for all six). Configuration byte: bits
 * 0-1 pool (1, 2, 4, 8), bit 2 permuted, bit 3 take one example per split instead of all. */
#include "tests/fuzz/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static const char *const nm[6] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
                                       "data_batch_4.bin", "data_batch_5.bin", "test_batch.bin" };
    uint8_t conf = data[0];
    const uint8_t *part[6];
    size_t len[6];
    int n = fz_split(data + 1, size - 1, part, len, 6);
    for (int k = 0; k < 6; k++) fz_write(nm[k], part[k < n ? k : n - 1], len[k < n ? k : n - 1]);
    const xb_task *t = xb_task_find("image");
    int pool = 1 << (conf & 3), side = 32 / pool;
    xb_task_cfg c = fz_cfg(t, side * side, fz_dir(), conf & 8 ? 1 : -1);
    fz_set(t, &c, "pool", pool);
    fz_set(t, &c, "permuted", (conf >> 2) & 1);
    fz_load("image", &c);
    return 0;
}
