/* harness/store.h — the results folder on disk (DESIGN.md "The way data flows").
 *
 *   <dir>/cells.jsonl   one JSON object per finished cell, appended and fsync'd as each cell
 *                       ends: the source of truth. A later record with the same
 *                       config_hash supersedes an earlier one (a re-run after --resume).
 *   <dir>/meta.json     the suite (canonical text, hash), machine, threads, BLAS, env
 *   <dir>/results.csv, results.json, tables.md, plots/   derived (harness/report.c, plot.c)
 *
 * Files readers see whole are written to a temporary name in the same folder, fsync'd and
 * renamed over the old one (xb_write_atomic). */
#ifndef XB_STORE_H
#define XB_STORE_H

#include <stdio.h>

#include <json-c/json.h>

typedef struct xb_store {
    char *dir;
    int fd;                 /* cells.jsonl, O_APPEND */
} xb_store;

/* mkdir -p. 0 or XB_EIO. */
int xb_mkdirs(const char *path);
/* Write data to path through path.tmp.<pid> + fsync + rename. 0 or XB_EIO. */
int xb_write_atomic(const char *path, const char *data, size_t n);
/* The same for a JSON object (pretty-printed, newline at the end). */
int xb_write_json_atomic(const char *path, json_object *o);
/* "<dir>/<name>" in a malloc'd string. */
char *xb_path_join(const char *dir, const char *name);

/* Create dir if needed and open its cells.jsonl for appending. */
int xb_store_open(xb_store *st, const char *dir);
/* One line + fsync. 0 or XB_EIO. */
int xb_store_append(xb_store *st, json_object *rec);
void xb_store_close(xb_store *st);

/* Records of <dir>/cells.jsonl in file order (a json array, caller puts it). A line that does
 * not parse (a write cut short by a crash) is skipped with a warning on warn (may be NULL).
 * Missing file: an empty array and XB_ENOTFOUND. */
int xb_store_load(const char *dir, json_object **records, FILE *warn);
/* The same, counting the skipped lines in *bad (may be NULL), and telling a missing file
 * (XB_ENOTFOUND) from one that exists but cannot be read (XB_EIO). */
int xb_store_load_ex(const char *dir, json_object **records, FILE *warn, int *bad);
/* Keep the last record per config_hash, in the order their first record appeared. Returns a
 * new array (references shared with the input). */
json_object *xb_store_latest(json_object *records);
/* Read a JSON file (NULL when absent or unparsable). */
json_object *xb_read_json(const char *path);

/* Small accessors that tolerate missing fields. */
const char *xb_jstr(json_object *o, const char *key, const char *def);
double xb_jnum(json_object *o, const char *key, double def);   /* null → def */
int xb_jint(json_object *o, const char *key, int def);
json_object *xb_jget(json_object *o, const char *key);          /* NULL when absent */
/* Path lookup "latency.model_fwd.median". */
json_object *xb_jpath(json_object *o, const char *path);

#endif
