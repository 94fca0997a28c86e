/* harness/version.c — the commit this binary was built from (Makefile writes build/version.h). */
#include "harness/machine.h"

#include "build/version.h"

const char *xb_git_commit(void) { return XB_GIT_COMMIT; }
