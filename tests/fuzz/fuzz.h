/* tests/fuzz/fuzz.h — what the libFuzzer targets of tests/fuzz/ share (static inline: each
 * target is one program): a scratch folder per process, writing the input into the files a
 * reader expects, splitting one input into several files, and a sink for messages.
 *
 * Readers of real files take a path, so each target writes its input under a folder of its
 * own (made once per process under /dev/shm when it exists, else /tmp; see fz_dir) and
 * calls the reader on it. One input that stands for several files is cut at FZ_SEP (in the
 * targets' dictionaries, so mutations keep the cuts). */
#ifndef XB_TESTS_FUZZ_H
#define XB_TESTS_FUZZ_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FZ_SEP "\n--8<--\n"
#define FZ_SEP_LEN 8
#define FZ_MAX_PARTS 16

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char fz_root[256];

static inline void fz_rm_tree(const char *path)
{
    struct stat st;
    if (lstat(path, &st) != 0) return;
    if (S_ISDIR(st.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        char sub[4096];
        while (d && (e = readdir(d)) != NULL) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            fz_rm_tree(sub);
        }
        if (d) closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static inline void fz_cleanup(void)
{
    if (fz_root[0]) fz_rm_tree(fz_root);
}

/* The scratch folder of this process: <base>/xb-fuzz-<pid>. A run that ends in a crash or a
 * timeout leaves its folder (no atexit then): the next process removes those whose process
 * is gone. */
static inline const char *fz_dir(void)
{
    if (!fz_root[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) && access("/dev/shm", W_OK) == 0
                               ? "/dev/shm" : "/tmp";
        DIR *d = opendir(base);
        struct dirent *e;
        char old[512];
        while (d && (e = readdir(d)) != NULL) {
            char *end;
            long pid = strncmp(e->d_name, "xb-fuzz-", 8) == 0 ? strtol(e->d_name + 8, &end, 10) : 0;
            if (pid > 0 && *end == '\0' && kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
                snprintf(old, sizeof old, "%s/%s", base, e->d_name);
                fz_rm_tree(old);
            }
        }
        if (d) closedir(d);
        snprintf(fz_root, sizeof fz_root, "%s/xb-fuzz-%ld", base, (long)getpid());
        fz_rm_tree(fz_root);
        if (mkdir(fz_root, 0700) != 0) {
            perror(fz_root);
            abort();
        }
        atexit(fz_cleanup);
    }
    return fz_root;
}

/* fz_dir()/rel in a static buffer (one of four, so a few can be alive at once). */
static inline const char *fz_path(const char *rel)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", fz_dir(), rel);
    return p[k];
}

/* Write n bytes to fz_dir()/rel, making the folders on the way. A failure to write the
 * scratch file is the harness's fault, not the reader's: abort with a message. */
static inline void fz_write(const char *rel, const void *b, size_t n)
{
    char p[512];
    snprintf(p, sizeof p, "%s", fz_path(rel));
    for (char *s = p + strlen(fz_dir()) + 1; *s; s++)
        if (*s == '/') { *s = '\0'; mkdir(p, 0755); *s = '/'; }
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        perror(p);
        abort();
    }
    const char *c = b;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w <= 0) {
            perror(p);
            abort();
        }
        c += w;
        n -= (size_t)w;
    }
    close(fd);
}

static inline void fz_write_str(const char *rel, const char *s) { fz_write(rel, s, strlen(s)); }

/* Cut data at each FZ_SEP into at most max parts (the last part keeps any further
 * separators). Returns the number of parts (at least 1; an empty input is one empty part). */
static inline int fz_split(const uint8_t *data, size_t size, const uint8_t **part, size_t *len, int max)
{
    int n = 0;
    size_t start = 0;
    for (size_t i = 0; n < max - 1 && i + FZ_SEP_LEN <= size; i++)
        if (memcmp(data + i, FZ_SEP, FZ_SEP_LEN) == 0) {
            part[n] = data + start;
            len[n] = i - start;
            n++;
            i += FZ_SEP_LEN - 1;
            start = i + 1;
        }
    part[n] = data + start;
    len[n] = size - start;
    return n + 1;
}

/* Where messages go: read, formatted and thrown away (the formatting code runs too). */
static inline FILE *fz_null(void)
{
    static FILE *f;
    if (!f) f = fopen("/dev/null", "w");
    if (!f) abort();
    return f;
}

#endif
