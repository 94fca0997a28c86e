/* core/textio.h — reading data files for the real-data loaders: a whole file (plain or
 * gzip, through zlib) into memory, a sorted listing of a folder, and "install the Debian
 * package" hints. Every error message names the file and what is wrong. */
#ifndef XB_TEXTIO_H
#define XB_TEXTIO_H

#include <stddef.h>

/* Read all of `path` into a malloc'd buffer (*buf, *n bytes, plus a NUL after the end).
 * gz != 0: decompress with zlib (a plain file is read as is by gzread, so a .gz check is
 * done separately: the file must start with the gzip magic). `pkg` (may be NULL) names the
 * Debian package that ships the file; a missing file then says to install it.
 * Returns 0, XB_ENOTFOUND (missing), XB_EIO or XB_EFORMAT with a message in err. */
int xb_read_all(const char *path, int gz, const char *pkg, char **buf, size_t *n,
                char *err, size_t errn);

/* Sorted (byte-wise) names of the regular files in `dir` whose names end with `suffix`
 * (NULL: any), hidden files excluded. *names is a malloc'd array of malloc'd strings;
 * free with xb_free_names. Returns 0, XB_ENOTFOUND or XB_EIO (message names the folder). */
int xb_list_dir(const char *dir, const char *suffix, char ***names, int *n, char *err, size_t errn);
void xb_free_names(char **names, int n);

/* "files:<dir>" into src (the tail of a long path is kept: it names the data). */
void xb_source_files(char *src, size_t n, const char *dir);

#endif
