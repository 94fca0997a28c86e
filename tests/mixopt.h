/* tests/mixopt.h — set mixer options by name in tests: one list of small option values serves
 * every mixer, each taking the options of its own table (core/mixer.h) and skipping the rest.
 * Static inline: each test file gets its own copy. */
#ifndef XB_TESTS_MIXOPT_H
#define XB_TESTS_MIXOPT_H

#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/mixer.h"
#include "mixers/registry.h"

/* Set the options m has among "name=value name=value ..." (printf format); a name m does not
 * take is skipped, and a name no registered mixer takes fails the test (a typo). */
static inline void set_opts(const xb_mixer *m, xb_mixer_cfg *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static inline void set_opts(const xb_mixer *m, xb_mixer_cfg *c, const char *fmt, ...)
{
    char spec[1024], *save = NULL;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(spec, sizeof spec, fmt, ap);
    va_end(ap);
    for (char *tok = strtok_r(spec, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        cr_assert(eq, "set_opts: '%s' is not name=value", tok);
        *eq = '\0';
        int known = 0;
        for (int i = 0; xb_mixers[i] && !known; i++) known = xb_mixer_opt_find(xb_mixers[i], tok) >= 0;
        cr_assert(known, "set_opts: no mixer has an option '%s'", tok);
        xb_mixer_opt_set(m, c, tok, strtod(eq + 1, NULL));
    }
}

/* Option `name` of c as an int (0 when m has none). */
static inline int opt_int(const xb_mixer *m, const xb_mixer_cfg *c, const char *name)
{
    return (int)xb_mixer_opt_get(m, c, name);
}

#endif
