/* harness/npy.h — NumPy .npy files: write float32 arrays (format 1.0, '<f4', C order) and
 * read them back (header parse of descr / fortran_order / shape for versions 1.0, 2.0, 3.0),
 * plus the atomic file write (temp file in the same folder, then rename) both use.
 *
 * The format (numpy.lib.format, NEP 1): the magic "\x93NUMPY", major and minor version bytes,
 * the header length HLEN (uint16 little-endian in 1.0; uint32 in 2.0/3.0), then HLEN bytes of
 * ASCII: a Python dict literal {'descr': '<f4', 'fortran_order': False, 'shape': (R, C), }
 * padded with spaces and ending in '\n' so that the data starts at a multiple of 64 bytes,
 * then the data: prod(shape) elements, row-major when fortran_order is False. A 1-D shape is
 * written "(n,)", a 0-D shape "()". */
#ifndef XB_NPY_H
#define XB_NPY_H

#include <stddef.h>

#define XB_NPY_MAX_DIM 8

/* What a .npy header says. */
typedef struct xb_npy_header {
    int major, minor;                 /* format version */
    size_t header_len;                /* HLEN: bytes of dict text (incl. padding and '\n') */
    size_t data_offset;               /* where the data starts: 8 + 2 or 4 + HLEN */
    char descr[32];                   /* dtype string, e.g. "<f4" */
    int fortran_order;                /* 0 or 1 */
    int ndim;
    size_t shape[XB_NPY_MAX_DIM];
    size_t count;                     /* product of shape (1 for 0-D) */
} xb_npy_header;

/* Write `data` (count = product of shape floats, row-major) as a format 1.0 '<f4' file,
 * atomically. ndim 0..XB_NPY_MAX_DIM. Returns 0 or XB_EIO / XB_EINVAL. */
int xb_npy_write(const char *path, const float *data, int ndim, const size_t *shape);

/* The header bytes xb_npy_write puts in front of the data (magic .. final '\n'), for tests
 * and other writers. Returns their length (a multiple of 64), 0 when buf is too small. */
size_t xb_npy_header_bytes(char *buf, size_t size, int ndim, const size_t *shape);

/* Parse the header at the start of buf[0..n). Returns 0, or XB_EFORMAT with a message in err
 * (bad magic, unknown version, truncated, dict text not understood). Any descr is accepted
 * here; readers check it. */
int xb_npy_parse_header(const unsigned char *buf, size_t n, xb_npy_header *h, char *err, size_t errn);

/* Read a whole .npy file of dtype '<f4' (C or Fortran order; the data is returned as stored).
 * On success *data is a malloc'd array of h->count floats (free() it). Returns 0, XB_EIO
 * (cannot open/read), XB_EFORMAT (bad header, other dtype, short data) with a message. */
int xb_npy_read(const char *path, xb_npy_header *h, float **data, char *err, size_t errn);

/* Write n bytes to path atomically: a temp file "<path>.tmpXXXXXX" in the same folder, written
 * and closed, then rename()d over path (readers see the old file or the whole new one, never a
 * part). The temp file is removed on failure. Returns 0 or XB_EIO. */
int xb_file_write_atomic(const char *path, const void *data, size_t n);

#endif
