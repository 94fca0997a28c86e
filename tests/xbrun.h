/* tests/xbrun.h — run ./xbench as a subprocess from a test, capturing its exit status, stdout
 * and stderr (shared by the CLI-level tests; static: each test file gets its own copy). */
#ifndef XB_TESTS_XBRUN_H
#define XB_TESTS_XBRUN_H

#include <criterion/criterion.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct result {
    int code;       /* exit status, or -1 if it did not exit normally */
    char *out, *err;
} result;

static char *slurp_fd(int fd)
{
    lseek(fd, 0, SEEK_SET);
    size_t cap = 4096, n = 0;
    char *s = malloc(cap);
    ssize_t r;
    while ((r = read(fd, s + n, cap - n - 1)) > 0) {
        n += (size_t)r;
        if (cap - n < 2) s = realloc(s, cap *= 2);
    }
    s[n] = '\0';
    return s;
}

/* Run ./xbench with args (NULL-terminated), capturing stdout and stderr. */
static result run(const char *const *args)
{
    cr_assert(access("./xbench", X_OK) == 0, "./xbench not built: run `make xbench` (or `make test`)");
    char out_t[] = "/tmp/xbench-cli-outXXXXXX", err_t[] = "/tmp/xbench-cli-errXXXXXX";
    int fo = mkstemp(out_t), fe = mkstemp(err_t);
    cr_assert(fo >= 0 && fe >= 0);
    unlink(out_t);
    unlink(err_t);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fo, 1);
    posix_spawn_file_actions_adddup2(&fa, fe, 2);
    char *argv[32];
    int n = 0;
    argv[n++] = "./xbench";
    for (int i = 0; args[i] && n < 31; i++) argv[n++] = (char *)args[i];
    argv[n] = NULL;
    pid_t pid;
    int rc = posix_spawn(&pid, "./xbench", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    cr_assert_eq(rc, 0, "posix_spawn failed: %d", rc);
    int st;
    cr_assert_eq(waitpid(pid, &st, 0), pid);
    result r = {WIFEXITED(st) ? WEXITSTATUS(st) : -1, slurp_fd(fo), slurp_fd(fe)};
    close(fo);
    close(fe);
    return r;
}

static void done(result *r)
{
    free(r->out);
    free(r->err);
}

#define RUN(...) run((const char *const[]){__VA_ARGS__, NULL})

#endif
