/* tests/sanitize.c — under `make test SAN=1` (AddressSanitizer), a test that leaks fails.
 *
 * Memory errors end a test's process at once, so Criterion fails that test by itself. Leaks are
 * found only when a process exits, and a test's process exits after it has reported its result:
 * the leak would be logged but the test would pass. The SAN build links the tests with
 * -Wl,--wrap=criterion_internal_test_main, so every test's trampoline comes here: the test body
 * runs, then a leak check, still inside the test's main phase, fails the test that leaked (with
 * LeakSanitizer's report on stderr). What .fini frees is still reachable then, so it is not
 * counted; a leak in .fini itself is caught at exit (the SAN test target fails on any report).
 * Without ASan this file is empty. */
#if defined(__SANITIZE_ADDRESS__)
#include <criterion/criterion.h>
#include <criterion/hooks.h>
#include <criterion/parameterized.h>
#include <sanitizer/lsan_interface.h>
#include <stddef.h>
#include <string.h>

void __real_criterion_internal_test_main(void (*fn)(void));
void __wrap_criterion_internal_test_main(void (*fn)(void));

static void (*test_body)(void);

static void leak_check(void)
{
    if (__lsan_do_recoverable_leak_check())
        cr_expect_fail("LeakSanitizer: this test leaked memory (its report is on stderr, or in the "
                       "sanitizer log under `make test SAN=1`)");
}

static void body_then_leak_check(void)
{
    test_body();
    leak_check();
}

/* A parameterized test's body takes its parameter. */
static void param_body_then_leak_check(void *param)
{
    ((void (*)(void *))test_body)(param);
    leak_check();
}

/* Whether the running test is parameterized. In a test's process Criterion's test data may sit
 * unaligned (packed into the worker's context), so the field is copied out byte-wise. */
static int test_is_parameterized(void)
{
    const struct criterion_test_extra_data *d = criterion_current_test->data;
    struct criterion_test_params (*param)(void);
    memcpy(&param, (const char *)d + offsetof(struct criterion_test_extra_data, param_), sizeof param);
    return param != NULL;
}

void __wrap_criterion_internal_test_main(void (*fn)(void))
{
    test_body = fn;
    __real_criterion_internal_test_main(test_is_parameterized()
                                        ? (void (*)(void))param_body_then_leak_check
                                        : body_then_leak_check);
}
/* The runner process runs no test (each test runs in a worker process of its own); what its
 * main thread allocates is Criterion's own bookkeeping, which in Criterion 2.4.1 leaves 48 bytes
 * unfreed at exit when a test has a .timeout. It is not leak-checked; the workers are. */
ReportHook(PRE_ALL)(struct criterion_test_set *tests)
{
    (void)tests;
    __lsan_disable();
}
#else
typedef int xb_tests_sanitize_unused;   /* ISO C wants a declaration in every file */
#endif
