/* tests/test_memsafety.c — regression tests for what `make test SAN=1` (AddressSanitizer +
 * UndefinedBehaviorSanitizer) and `make valgrind` found. Each passes in a plain build either
 * way; under SAN=1 the old code fails it (a sanitizer report ends the test's process, or the
 * ./xbench it runs):
 *   mkdirs   xb_mkdirs("") walked past the end of its 1-byte copy of the path (a heap read and
 *            write out of bounds), reachable as `xbench merge DIR -o ""`
 *   vmath    xb_vexp(NaN) and xb_vlog1p(x < √½ − 1) shifted negative ints left (undefined) */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <string.h>

#include "core/vmath.h"
#include "core/xb.h"
#include "harness/report/store.h"
#include "tests/xbrun.h"

Test(memsafety, mkdirs_refuses_an_empty_path)
{
    errno = 0;
    cr_assert_eq(xb_mkdirs(""), XB_EIO);
    cr_assert_eq(errno, ENOENT, "errno %d", errno);
}

Test(memsafety, merge_into_an_empty_name_is_refused, .timeout = 60)
{
    result r = RUN("merge", "results/baseline", "-o", "", "--no-plots", "--quiet");
    cr_expect_eq(r.code, 2, "exit %d\n%s", r.code, r.err);
    cr_expect(strstr(r.err, "cannot create ''") != NULL, "%s", r.err);
    done(&r);
}

Test(memsafety, vmath_negative_exponents_are_not_shifted_signed)
{
    volatile float nan = NAN, small = -0.75f;
    cr_expect(isnan(xb_vexp(nan)), "exp(NaN) = %g", (double)xb_vexp(nan));
    /* 1 + x = 0.25 = 2^-2 · 1: m = -2 */
    cr_expect_float_eq(xb_vlog1p(small), logf(0.25f), 1e-6f, "log1p(-0.75) = %.9g", (double)xb_vlog1p(small));
}
