/* tests/fuzz/cells.c — libFuzzer target: cells.jsonl (harness/report/store.c and every reader of
 * the records: report, summary, benchmark JSON, compare, merge, the torn-tail repair of
 * `run --resume`). The input is the cells.jsonl of a results folder whose meta.json is the
 * fixed one of results_fixture.h. */
#include "tests/fuzz/results.h"
#include "tests/fuzz/results_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *dir = fz_results_dir();
    fz_write_str("res/meta.json", fz_fixture_meta);
    fz_write("res/cells.jsonl", data, size);
    fz_results_readers(dir);
    return 0;
}
