/* tests/fuzz/pathfinder.h — the folder layout of LRA's Pathfinder files for the pfmeta and
 * png targets: metadata/<k>.npy text lines "imgs/<k> sample_<i>.png <i> <label> ...", and
 * 16x16 8-bit gray PNGs (pathfinder with L = 256) written with libpng. */
#ifndef XB_TESTS_FUZZ_PATHFINDER_H
#define XB_TESTS_FUZZ_PATHFINDER_H

#include <png.h>

#include "tests/fuzz/data.h"

#define FZ_PF_SIDE 16

/* A side x side gray PNG whose pixels are all v (pixel 0 is tag: images differ by it). */
static inline void fz_write_png(const char *rel, int side, int tag, int v)
{
    fz_write(rel, "", 0);   /* the folders */
    FILE *f = fopen(fz_path(rel), "wb");
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!f || !png || !info || setjmp(png_jmpbuf(png))) abort();
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)side, (png_uint_32)side, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    unsigned char row[256];
    for (int y = 0; y < side; y++) {
        for (int x = 0; x < side; x++) row[x] = (unsigned char)(y == 0 && x == 0 ? tag : v);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    fclose(f);
}

/* Load pathfinder (L = 256) from fz_dir()/pf. */
static inline void fz_pf_load(void)
{
    const xb_task *t = xb_task_find("pathfinder");
    xb_task_cfg c = fz_cfg(t, FZ_PF_SIDE * FZ_PF_SIDE, fz_path("pf"), -1);
    fz_load("pathfinder", &c);
}

#endif
