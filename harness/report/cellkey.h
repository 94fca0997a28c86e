/* harness/report/cellkey.h — which records of a results folder describe the same cell, and the
 * labels that tell different configurations apart.
 *
 * Two records are the same cell (and so pooled over seeds in every table, export and
 * compare) when their resolved configurations are equal apart from
 *   - the seed (config.seed, and train.seed, which is derived from it),
 *   - the thread count (a column of its own),
 *   - the latency loop's settings that do not change what is timed (latency.warmup,
 *     min_reps, max_reps, min_time_s, max_cv; latency.batch does count),
 *   - values derived from others (task.key, task.L and model.max_len from L; mixer.cfg.d,
 *     heads and n_max from model: and L).
 * Everything else counts: a task option, a model or train key, a mixer option, the mode.
 *
 * Labels name what differs, never more: for a training record the task label is the task's
 * name followed by every task-level key (task options, data_dir, model:, train:, the mode)
 * whose value differs between records of that task ("mqar kv_pairs=8", "mqar dim=64
 * lr=0.003"), and the mixer label is the mixer's name followed by the mixer options that
 * differ between records of one task label, mixer, L and thread count ("local window=64").
 * A latency-only record has no task: whatever differs goes to its mixer label. Keys are
 * written by their last name ("lr"), or by section and name where two differing keys share a
 * last name ("model.heads"). A run of one configuration per task carries plain names.
 *
 * Records without a "config" (written by hand, or by an old version) compare by their
 * identity fields only. */
#ifndef XB_CELLKEY_H
#define XB_CELLKEY_H

#include <json-c/json.h>

#define XB_LABEL_MAX 192

typedef struct xb_label {
    char task[XB_LABEL_MAX];    /* "" for latency-only records */
    char mixer[XB_LABEL_MAX];
} xb_label;

/* Labels for every record of the array (out[i] for record i). Returns 0 or XB_ENOMEM. */
int xb_label_records(json_object *records, xb_label *out);

/* The record's configuration as compared above: a new object (caller puts it), NULL when the
 * record has none. */
json_object *xb_config_identity(json_object *rec);

#endif
