/* tests/fuzz/png.c — libFuzzer target: the PNG reader of tasks/pathfinder.c (libpng; 8-bit
 * gray, side x side, interlaced or not).
 *
 * Input: one PNG file. The metadata lists it ten times with alternating labels (the
 * smallest folder the 80/10/10 split accepts), so a good PNG is read as each split's rows
 * and a bad one is refused at its first read. */
#include "tests/fuzz/pathfinder.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int made;
    if (!made) {
        char meta[1024];
        size_t o = 0;
        for (int i = 0; i < 10; i++)
            o += (size_t)snprintf(meta + o, sizeof meta - o, "imgs in.png %d %d 1.0 14 4 2 0.5 1 1\n", i, i % 2);
        fz_write("pf/metadata/0.npy", meta, o);
        made = 1;
    }
    fz_write("pf/imgs/in.png", data, size);
    fz_pf_load();
    return 0;
}
