/* core/text.c — names, escaped text, edit distance, the model's enum words (see core/text.h). */
#include "core/text.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------
 * Names */

/* Names (the run's, mixers', tasks') are [A-Za-z0-9_.=-]: they become folder names, table
 * columns and plot labels, and are never a way to put other bytes on a terminal. */
static int is_name_char(int ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.' || ch == '=';
}

int xb_is_name(const char *s, size_t n)
{
    if (!s || n == 0 || n > XB_NAME_MAX_LEN) return 0;
    for (size_t i = 0; i < n; i++)
        if (!is_name_char((unsigned char)s[i])) return 0;
    return 1;
}

/* ------------------------------------------------------------------------------------------
 * What reaches the terminal: every byte that came from an input (file names, key paths,
 * values, a quoted line, a record's name) goes through xb_show_char, so an input cannot send
 * escape sequences. */

/* Length of the UTF-8 character at s (n bytes left) and its code point in *cp; 0 when the
 * bytes there are not UTF-8 (a stray continuation, overlong, surrogate, past U+10FFFF, cut). */
static size_t utf8_char(const unsigned char *s, size_t n, unsigned *cp)
{
    unsigned c = s[0], min;
    size_t len;
    if (c < 0x80) {
        *cp = c;
        return 1;
    }
    if (c >= 0xC2 && c <= 0xDF) { len = 2; c &= 0x1F; min = 0x80; }
    else if (c >= 0xE0 && c <= 0xEF) { len = 3; c &= 0x0F; min = 0x800; }
    else if (c >= 0xF0 && c <= 0xF4) { len = 4; c &= 0x07; min = 0x10000; }
    else return 0;
    if (n < len) return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80) return 0;
        c = (c << 6) | (s[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF)) return 0;
    *cp = c;
    return len;
}

/* Unicode's bidirectional formatting characters: they reorder what a terminal shows. */
static int is_bidi(unsigned cp)
{
    return cp == 0x061C || cp == 0x200E || cp == 0x200F || (cp >= 0x202A && cp <= 0x202E) ||
           (cp >= 0x2066 && cp <= 0x2069);
}

int xb_show_char(const char *s, size_t n, int keep_tab, size_t *adv, char esc[16])
{
    unsigned cp;
    size_t len = utf8_char((const unsigned char *)s, n, &cp);
    esc[0] = '\0';
    if (len == 0) {
        *adv = 1;
        snprintf(esc, 16, "\\x%02x", (unsigned char)s[0]);
        return 4;
    }
    *adv = len;
    if (cp == '\t' && keep_tab) return 1;
    if (cp == '\t' || cp == '\n' || cp == '\r') {
        snprintf(esc, 16, "\\%c", cp == '\t' ? 't' : cp == '\n' ? 'n' : 'r');
        return 2;
    }
    if (cp < 0x20 || cp == 0x7F) {
        snprintf(esc, 16, "\\x%02x", cp);
        return 4;
    }
    if ((cp >= 0x80 && cp <= 0x9F) || is_bidi(cp)) {
        snprintf(esc, 16, "\\u%04x", cp);
        return 6;
    }
    return 1;
}

size_t xb_put_escaped(FILE *f, const char *s, size_t n, int keep_tab)
{
    size_t cols = 0, adv;
    char esc[16];
    for (size_t i = 0; i < n; i += adv) {
        cols += (size_t)xb_show_char(s + i, n - i, keep_tab, &adv, esc);
        if (esc[0]) fputs(esc, f);
        else fwrite(s + i, 1, adv, f);
    }
    return cols;
}

char *xb_escape(char *buf, size_t size, const char *s)
{
    if (size == 0) return buf;
    size_t used = 0, adv, n = strlen(s);
    char esc[16];
    for (size_t i = 0; i < n; i += adv) {
        xb_show_char(s + i, n - i, 0, &adv, esc);
        const char *piece = esc[0] ? esc : s + i;
        size_t k = esc[0] ? strlen(esc) : adv;
        if (used + k + 1 > size) {
            /* cut: end with "..." where it fits */
            size_t at = used;
            while (at > 0 && at + 4 > size) {
                at--;
                while (at > 0 && ((unsigned char)buf[at] & 0xC0) == 0x80) at--;   /* whole characters */
            }
            if (at + 4 <= size) {
                memcpy(buf + at, "...", 3);
                used = at + 3;
            } else {
                used = at;
            }
            break;
        }
        memcpy(buf + used, piece, k);
        used += k;
    }
    buf[used] = '\0';
    return buf;
}


/* ------------------------------------------------------------------------------------------
 * "Did you mean" */

int xb_edit_distance(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    if (na > 64) na = 64;   /* names are short; a long word is far from all of them anyway */
    if (nb > 64) nb = 64;
    int row[65];
    for (size_t j = 0; j <= nb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= na; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= nb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[nb];
}

void xb_closest_list(char *buf, size_t size, const char *word, const char *const *names, int n)
{
    if (size == 0) return;
    buf[0] = '\0';
    if (n <= 0) {
        snprintf(buf, size, "(none)");
        return;
    }
    int *idx = malloc((size_t)n * sizeof *idx), *dist = malloc((size_t)n * sizeof *dist);
    if (!idx || !dist) {
        free(idx);
        free(dist);
        return;
    }
    for (int i = 0; i < n; i++) {
        idx[i] = i;
        dist[i] = xb_edit_distance(word, names[i]);
    }
    /* insertion sort: stable, n is small */
    for (int i = 1; i < n; i++) {
        int k = idx[i], j = i;
        while (j > 0 && dist[idx[j - 1]] > dist[k]) {
            idx[j] = idx[j - 1];
            j--;
        }
        idx[j] = k;
    }
    size_t used = 0;
    for (int i = 0; i < n && used + 1 < size; i++) {
        int w = snprintf(buf + used, size - used, "%s%s", i ? ", " : "", names[idx[i]]);
        if (w < 0) break;
        used += (size_t)w;
    }
    free(idx);
    free(dist);
}

/* ------------------------------------------------------------------------------------------
 * The model's enum words */

const char *const xb_mlp_names[] = {"none", "mlp", "glu", NULL};         /* XB_MLP_* */
const char *const xb_positions_names[] = {"none", "learned", NULL};

const char *xb_model_enum_name(const char *key, int v)
{
    const char *const *names = !strcmp(key, "mlp") ? xb_mlp_names
                             : !strcmp(key, "positions") ? xb_positions_names : NULL;
    for (int j = 0; names && names[j]; j++)
        if (j == v) return names[j];
    return NULL;
}
