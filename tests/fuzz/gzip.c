/* tests/fuzz/gzip.c — libFuzzer target: the whole-file reader of core/textio.c, plain and
 * gzip through zlib (xb_read_all: a bad magic, a corrupt or truncated deflate stream, a
 * stream that inflates to more than its buffer). The input is the file as it is. */
#include "tests/fuzz/fuzz.h"

#include "core/textio.h"
#include "core/xb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_write("in.gz", data, size);
    char *buf, err[1024];
    size_t n;
    for (int gz = 0; gz < 2; gz++)
        if (xb_read_all(fz_path("in.gz"), gz, NULL, &buf, &n, err, sizeof err) == XB_OK) {
            if (buf[n] != '\0' || (!gz && (n != size || memcmp(buf, data, size) != 0))) {
                fprintf(stderr, "xb-fuzz: xb_read_all returned other bytes than the file's\n");
                abort();
            }
            free(buf);
        }
    return 0;
}
