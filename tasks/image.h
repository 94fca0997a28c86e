/* tasks/image.h — the Fashion-MNIST reader of tasks/image.c, exposed for the tests. */
#ifndef XB_TASKS_IMAGE_H
#define XB_TASKS_IMAGE_H

#include <stddef.h>

#define XB_FMNIST_DIR "/usr/share/datasets/fashion-mnist"
#define XB_FMNIST_PKG "dataset-fashion-mnist"

typedef struct xb_fmnist {
    char *buf[4];                       /* the four decompressed files */
    const unsigned char *px[2], *lab[2];/* [0] train, [1] t10k: n × 784 pixels, n labels */
    int n[2];
} xb_fmnist;

/* Read and check {train,t10k}-{images-idx3,labels-idx1}-ubyte.gz from dir (the Debian
 * folder adds the package hint to a missing file). 0 or XB_E* with a message naming the
 * file and what is wrong. */
int xb_fmnist_read(const char *dir, xb_fmnist *f, char *err, size_t errn);
void xb_fmnist_free(xb_fmnist *f);

#endif
