/* core/text.h — names, and text shown to a person, for every layer above core/ (the run side,
 * the report side, cmd/):
 *
 *   - what a run, mixer or task may be called (xb_is_name): names become folder names, table
 *     columns, plot labels and file names, so they are never a way to put other bytes on a
 *     terminal or into a script;
 *   - text that came from an input written so that it cannot drive a terminal (xb_escape,
 *     xb_put_escaped; harness/diag.c quotes suite lines through xb_show_char);
 *   - "did you mean": the edit distance between names and a list of names closest first;
 *   - the words of the model's enum values (core/layers.h's XB_MLP_* and positions), which the
 *     suite reads and writes and the readers of a record's config show.
 * Plain C over bytes: no OpenMP, no BLAS, no allocation beyond xb_closest_list's scratch. */
#ifndef XB_TEXT_H
#define XB_TEXT_H

#include <stddef.h>
#include <stdio.h>

/* Whether the n bytes at s are a run, mixer or task name: 1 to XB_NAME_MAX_LEN of
 * [A-Za-z0-9_.=-]. Suites are checked with it, and so are the records of cells.jsonl
 * (harness/report/store.c), since names become folder names, table columns and plot labels. */
#define XB_NAME_MAX_LEN 128
int xb_is_name(const char *s, size_t n);

/* The character at s (n > 0 bytes left) as it is shown: *adv gets its length in bytes, esc
 * its escape ("" when it is shown as it is). C0 control characters (but tab when keep_tab),
 * DEL, C1 control characters, Unicode's bidirectional formatting characters and bytes that
 * are not UTF-8 get escapes (\t \n \r \x1b \u009b \u202e \xff). Returns the columns it takes
 * (one per character, as libyaml counts). */
int xb_show_char(const char *s, size_t n, int keep_tab, size_t *adv, char esc[16]);
/* Write s[0..n) to f with every character as xb_show_char shows it. Returns the columns
 * written (one per character). */
size_t xb_put_escaped(FILE *f, const char *s, size_t n, int keep_tab);
/* The same into buf (always NUL-terminated); a text that does not fit ends in "...". Returns
 * buf, so it can stand as a printf argument. */
char *xb_escape(char *buf, size_t size, const char *s);

/* Levenshtein distance (bytes), for "closest first" name lists. */
int xb_edit_distance(const char *a, const char *b);
/* Write names[0..n) to buf as "a, b, c", sorted by edit distance to `word` (ties keep the
 * table order). Writes "(none)" when n is 0. */
void xb_closest_list(char *buf, size_t size, const char *word, const char *const *names, int n);

/* The words of the model's enum keys, indexed by value, NULL-terminated: mlp (XB_MLP_NONE,
 * XB_MLP_PLAIN, XB_MLP_GLU) and positions (0 none, 1 learned). The suite's key table reads
 * and writes them; a record's config holds the numbers. */
extern const char *const xb_mlp_names[];
extern const char *const xb_positions_names[];
/* The word of value v of model key `key` ("mlp", 2 → "glu"), NULL when the key has no words
 * or v none: lets readers of a record's config show what the suite said. */
const char *xb_model_enum_name(const char *key, int v);

#endif
