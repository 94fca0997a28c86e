/* tests/fuzz/meta.c — libFuzzer target: meta.json (read back by report, summary, the
 * benchmark JSON, compare's same-machine test and merge, which re-derives the suite's cells
 * from its suite_canonical). The input is the meta.json of a results folder whose
 * cells.jsonl is the fixed one of results_fixture.h. */
#include "tests/fuzz/results.h"
#include "tests/fuzz/results_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_results_dir();
    fz_write_str("res/cells.jsonl", fz_fixture_cells);
    fz_write("res/meta.json", data, size);
    fz_results_readers(dir);
    return 0;
}
