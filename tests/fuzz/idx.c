/* tests/fuzz/idx.c — libFuzzer target: the gzip IDX files of Fashion-MNIST (tasks/image.c,
 * xb_fmnist_read: train/t10k images idx3 and labels idx1, big-endian headers).
 *
 * Input: the four files uncompressed, cut at FZ_SEP in the order train images, train
 * labels, t10k images, t10k labels (file k gets the last part when there are fewer); the
 * target gzips each (a fuzzer flips bits of the IDX data, not of a deflate stream; the
 * gzip layer itself is the gzip target's). Every pixel and label a successful read returns
 * is read back. */
#include <zlib.h>

#include "tests/fuzz/fuzz.h"

#include "core/xb.h"
#include "tasks/image.h"

static void write_gz(const char *rel, const uint8_t *b, size_t n)
{
    gzFile g = gzopen(fz_path(rel), "wb1");
    if (!g || (n && gzwrite(g, b, (unsigned)n) != (int)n) || gzclose(g) != Z_OK) {
        fprintf(stderr, "xb-fuzz: cannot write %s\n", rel);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const nm[4] = { "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                                       "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz" };
    const uint8_t *part[4];
    size_t len[4];
    int n = fz_split(data, size, part, len, 4);
    fz_dir();
    for (int k = 0; k < 4; k++) write_gz(nm[k], part[k < n ? k : n - 1], len[k < n ? k : n - 1]);
    xb_fmnist f;
    char err[1024];
    if (xb_fmnist_read(fz_dir(), &f, err, sizeof err) != XB_OK) return 0;
    unsigned sum = 0;
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < (size_t)f.n[s] * 784; i++) sum += f.px[s][i];
        for (int i = 0; i < f.n[s]; i++)
            if (f.lab[s][i] > 9) {
                fprintf(stderr, "xb-fuzz: label %u accepted\n", f.lab[s][i]);
                abort();
            }
    }
    xb_fmnist_free(&f);
    return (int)(sum & 0);
}
