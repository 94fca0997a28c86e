/* tests/tmpdir.h — scratch folders for tests that write and read result folders: make one
 * (mkdtemp), write a text file into it, read one back, remove it unless XB_KEEP_TEST_OUTPUT is
 * set (to look at the files by hand). Static inline: each test file gets its own copy. */
#ifndef XB_TESTS_TMPDIR_H
#define XB_TESTS_TMPDIR_H

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "harness/report/store.h"

/* dir (size n) = a fresh folder /tmp/<prefix>-XXXXXX (the X's are mkdtemp's template). */
static inline void tmpdir_make(char *dir, size_t n, const char *prefix)
{
    snprintf(dir, n, "/tmp/%s-XXXXXX", prefix);
    cr_assert_not_null(mkdtemp(dir));
}

/* dir/name = text (dir is created if missing). */
static inline void tmpdir_write(const char *dir, const char *name, const char *text)
{
    mkdir(dir, 0777);
    char *p = xb_path_join(dir, name);
    FILE *f = fopen(p, "w");
    cr_assert_not_null(f, "cannot write %s", p);
    fputs(text, f);
    fclose(f);
    free(p);
}

/* The text of dir/name in a static buffer (valid until the next call), NULL if unreadable. */
static inline char *tmpdir_read(const char *dir, const char *name)
{
    char *p = xb_path_join(dir, name);
    FILE *f = fopen(p, "r");
    free(p);
    if (!f) return NULL;
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return buf;
}

/* The whole file at path (relative to the repository root, where tests run), malloc'd and
 * NUL-terminated; its length in *n unless n is NULL. Fails the test if it cannot be read. */
static inline char *tmpdir_slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s (tests run from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)len + 1);
    cr_assert_eq(fread(s, 1, (size_t)len, f), (size_t)len);
    s[len] = 0;
    fclose(f);
    if (n) *n = (size_t)len;
    return s;
}

static inline void tmpdir_remove(const char *dir)
{
    if (getenv("XB_KEEP_TEST_OUTPUT")) return;
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) {}
}

#endif
