/* tests/fuzz/suite.c — libFuzzer target: suite.yaml (harness/suite.c).
 *
 * The input is written to a file and read with xb_suite_load, the path `xbench run` and
 * `validate` take (a file may hold NUL bytes, which a C string could not). Messages are
 * formatted into /dev/null. A suite that loads is expanded into its cells, as `run` does,
 * and its canonical text (what meta.json keeps and `xbench merge` reads back) must load
 * again to the same hash: a suite that reads but whose canonical form does not is a bug,
 * and aborts. */
#include "tests/fuzz/fuzz.h"

#include "core/xb.h"
#include "harness/suite.h"
#include "harness/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_write("suite.yaml", data, size);
    xb_suite s;
    if (xb_suite_load(fz_path("suite.yaml"), &s, fz_null()) != XB_OK) return 0;

    xb_sweep_opts o;
    memset(&o, 0, sizeof o);
    xb_cell_spec *cells = NULL;
    int n = 0;
    if (xb_sweep_expand(&s, &o, &cells, &n, fz_null()) == XB_OK) xb_sweep_cells_free(cells, n);

    xb_suite again;
    if (xb_suite_load_string(s.canonical, "meta.json", &again, stderr) != XB_OK) {
        fprintf(stderr, "xb-fuzz: the canonical text of a suite that loaded does not load:\n%s\n",
                s.canonical);
        abort();
    }
    if (again.hash != s.hash || strcmp(again.canonical, s.canonical) != 0) {
        fprintf(stderr, "xb-fuzz: the canonical text does not reproduce itself:\n%s\n---\n%s\n",
                s.canonical, again.canonical);
        abort();
    }
    xb_suite_release(&again);
    xb_suite_release(&s);
    return 0;
}
