/* harness/report/store.h — the results folder on disk (DESIGN.md "The way data flows"), and
 * the small json-c accessors every reader of it uses. The run appends to cells.jsonl through
 * xb_store_* (harness/sweep.c), everything else reads it back (xb_store_load): writer and
 * reader of the one format live in one file, on the report side, which the run side may
 * include.
 *
 *   <dir>/cells.jsonl   one JSON object per finished cell, appended and fsync'd as each cell
 *                       ends: the source of truth. A later record with the same
 *                       config_hash supersedes an earlier one (a re-run after --resume).
 *   <dir>/meta.json     the suite (canonical text, hash), machine, threads, BLAS, env
 *   <dir>/results.csv, results.json, tables.md, bench-*.json, gbench.json, plots/
 *                       derived (harness/report/report.h, plot.h)
 *
 *   <dir>/.lock         the writer lock (xb_store_lock): one run writes a folder at a time;
 *                       it holds the pid of the run that last took it
 *
 * Files readers see whole are written to a temporary name in the same folder, fsync'd and
 * renamed over the old one (xb_write_atomic). Every JSON file is written without NaN or
 * Infinity (json-c prints them, JSON has no such numbers): they become null.
 *
 * cells.jsonl stays a sequence of complete lines: a record is written with one write() and
 * fsync'd; when that fails (a full disk: ENOSPC; a file-size limit: EFBIG — the caller
 * ignores SIGXFSZ) the file is cut back to its size before the record. A last line left
 * incomplete by a crash is cut off (with a warning) when the file is opened for appending,
 * so the next record starts on a line of its own. */
#ifndef XB_STORE_H
#define XB_STORE_H

#include <stdio.h>

#include <json-c/json.h>

typedef struct xb_store {
    char *dir;
    int fd;                 /* cells.jsonl, O_APPEND */
    int err;                /* errno of the last failed open or append, else 0 */
} xb_store;

/* mkdir -p. 0 or XB_EIO (errno says why; an empty path is ENOENT). */
int xb_mkdirs(const char *path);
/* Write data to path through path.tmp.<pid> + fsync + rename. 0 or XB_EIO (errno says why;
 * the old file, if any, is left as it was). */
int xb_write_atomic(const char *path, const char *data, size_t n);
/* The same for a JSON object (pretty-printed, newline at the end). Non-finite numbers are
 * written as null; o itself is not changed. */
int xb_write_json_atomic(const char *path, json_object *o);
/* Replace every NaN/±Infinity number inside o (objects and arrays, at any depth) by null, in
 * place. The path of each ("latency.model_fwd.median", "loss_curve[3][1]") is added to paths
 * (a json array; may be NULL). Returns how many were replaced. */
int xb_json_nonfinite_to_null(json_object *o, json_object *paths);
/* How many non-finite numbers o holds (o is not changed). */
int xb_json_count_nonfinite(json_object *o);
/* "<dir>/<name>" in a malloc'd string. */
char *xb_path_join(const char *dir, const char *name);

/* Create dir if needed and open its cells.jsonl for appending. A last line without its
 * newline (a write cut short) is cut off, or, when it is a whole JSON object that only lost
 * its newline, completed; either with a warning on warn (may be NULL). 0, or XB_EIO with
 * st->err = errno. xb_store_open warns on stderr. */
int xb_store_open_ex(xb_store *st, const char *dir, FILE *warn);
int xb_store_open(xb_store *st, const char *dir);
/* One line (one write) + fsync. Non-finite numbers of rec are replaced by null first (in
 * rec); their paths go to rec's "nonfinite_fields", and a record whose status was "ok" gets
 * status "error" with an error naming them. 0, or XB_EIO with st->err = errno (ENOSPC,
 * EFBIG, EIO, ...): the file is then cut back to its size before the call, so every earlier
 * record stays whole. */
int xb_store_append(xb_store *st, json_object *rec);
void xb_store_close(xb_store *st);

/* The writer lock of a results folder (which must exist): flock(LOCK_EX | LOCK_NB) on
 * <dir>/.lock, then this process's pid is written into it. The lock lasts until
 * xb_store_unlock or the process (and the children it forked meanwhile) end; readers take no
 * lock. Returns the lock's descriptor (>= 0); XB_EINVAL when another process holds it
 * (*holder = the pid in the file, 0 if unknown; holder may be NULL); XB_EIO when the file
 * cannot be opened or locked (errno says why). */
int xb_store_lock(const char *dir, long *holder);
void xb_store_unlock(int fd);

/* Records of <dir>/cells.jsonl in file order (a json array, caller puts it). A line that does
 * not parse (a write cut short by a crash) is skipped with a warning on warn (may be NULL).
 * A cut-short record followed on the same line by a whole one (a file appended to by a
 * version that did not cut the torn line off) loses the cut one only: the text from the
 * next '{"v":' on is read as a record of its own. A record whose "mixer" or "task" is not a
 * name (xb_is_name: 1 to 128 of [A-Za-z0-9_.=-]; "task" may be null) is skipped with a warning
 * naming the file, line and key, and counted with the bad lines. Missing file: an empty array
 * and XB_ENOTFOUND. */
int xb_store_load(const char *dir, json_object **records, FILE *warn);
/* The same, counting the skipped lines, pieces of lines and records in *bad (may be NULL), and telling a missing file
 * (XB_ENOTFOUND) from one that exists but cannot be read (XB_EIO). */
int xb_store_load_ex(const char *dir, json_object **records, FILE *warn, int *bad);
/* Keep the last record per config_hash, in the order their first record appeared. Returns a
 * new array (references shared with the input). */
json_object *xb_store_latest(json_object *records);
/* Read a JSON object from a file (NULL when absent, unparsable or not an object). */
json_object *xb_read_json(const char *path);

/* Small accessors that tolerate missing fields. */
const char *xb_jstr(json_object *o, const char *key, const char *def);
double xb_jnum(json_object *o, const char *key, double def);   /* null → def */
int xb_jint(json_object *o, const char *key, int def);
json_object *xb_jget(json_object *o, const char *key);          /* NULL when absent */

/* What a record measured, from its "kind" ("train" when absent, as in the oldest files). */
enum { XB_KIND_TRAIN = 0, XB_KIND_LATENCY = 1, XB_KIND_DECODE = 2, XB_KIND_ANY = -1 };
int xb_record_kind(json_object *rec);
const char *xb_kind_word(int kind);   /* "train", "latency", "decode" */
/* Path lookup "latency.model_fwd.median". */
json_object *xb_jpath(json_object *o, const char *path);
/* Numeric value at a dotted path, NAN when absent or null. */
double xb_record_num(json_object *rec, const char *path);

#endif
