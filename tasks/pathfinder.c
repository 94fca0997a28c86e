/* tasks/pathfinder.c — Pathfinder (LRA; TASKS.md §1.5, §3.4), shape CLS, 2 classes, pixel
 * tokens V = 256, L = side²: the "pathfinder-lite" generator (also used by tasks/pathx.c)
 * and the loader of LRA's pathfinder<side>/<difficulty>/ files.
 *
 * Generator, one image (a re-implementation of the steps of TASKS.md §1.5 on an integer
 * grid; exact pixels of drewlinsley/pathfinder are not reproduced):
 *   occupancy  owner map: -1 padding band, 0 free, else (contour, dash) whose clearance
 *              footprint (pixels within thickness/2 + margin of the dash) covers the pixel;
 *              a new dash j of contour c may touch only free pixels and those of dash j−1
 *              of c (the previous dash joins the mask only when the next one is placed)
 *   targets    A's first dash: whole-degree orientation, tail on a free pixel at least
 *              2·seed_distance from the border; B's tail seed_distance away in a whole-
 *              degree direction (rounded to a pixel), own orientation; the tails are the
 *              origin tips. Then A and B grow alternately: pivot P = last head, candidate
 *              heads = the pixels on the circle of radius paddle_length + margin around P
 *              (one per pixel of arc, de-duplicated, inside the border), weight
 *              cos²(min(continuity·Δθ, π/2)) (Δθ to the previous orientation), 0 on an
 *              occupied pixel; the dash runs from P + margin·u to the head (so dashes are
 *              margin apart); a dash whose ink hits an occupied pixel is refused and its
 *              candidate redrawn (2 retries); a dead end restarts the pair. Last head =
 *              terminal tip.
 *   distractors n_distr contours of dlen dashes from random free pixels, same growth;
 *              3 attempts each, then skipped; none once < 1% of the image is free
 *   markers    o ∈ {A, B} uniform; a disc at o's origin tip and one at the terminal tip of
 *              o (label 1) or of the other contour (label 0)
 *   render     dashes as segments of half-width max(thickness, 1)/2, coverage from aa×aa
 *              subsamples, intensity min(1, coverage·contrast); discs likewise at 1;
 *              per-pixel max; token = round(255·v).
 * Labels: example i of a split has label i mod 2 (exactly balanced).
 *
 * Files: data_dir is LRA's root (holding pathfinder<side>/) or the difficulty folder
 * itself (curv_baseline for contour 6, curv_contour_length_9, curv_contour_length_14).
 * metadata/<k>.npy are text (k in numeric order, lines in order): fields 1, 2, 4 = sub-
 * folder, file name, label. Images are 8-bit gray PNGs of side×side, read with libpng;
 * empty files are skipped. The list is shuffled with the (S, "pathfinder") stream and cut
 * 80/10/10; train/val/test_examples then take seeded samples (-1: all). */
#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/textio.h"
#include "core/xb.h"
#include "tasks/pathfinder.h"

#define RESTARTS 4000          /* target-pair restarts before giving up on an image */
#define SEED_TRIALS 20        /* first-dash placements per target pair */
#define MAX_DASH 64           /* dashes per contour (contour ≤ 14 here) */

int xb_pf_params_for(int side, int contour, xb_pf_params *p)
{
    memset(p, 0, sizeof *p);
    p->side = side;
    p->padding = 1;
    p->contour = contour;
    p->dlen = xb_max(1, contour / 3);
    p->aa = 4;
    switch (side) {
    case 16:    /* xbench's smoke size (not an LRA setting): the 32×32 values, closer seeds */
        p->paddle_len = 2; p->thickness = 0.5; p->margin_lo = p->margin_hi = 1;
        p->continuity = 1.0; p->seed_dist = 3; p->marker_r = 1.0; p->contrast = 1.5;
        p->n_distr = 10 / p->dlen;
        break;
    case 32:
        p->paddle_len = 2; p->thickness = 0.5; p->margin_lo = p->margin_hi = 1;
        p->continuity = 1.0; p->seed_dist = 7; p->marker_r = 1.5; p->contrast = 2 * 0.75;
        p->n_distr = 20 / p->dlen;
        break;
    case 64:
        p->paddle_len = 5; p->thickness = 1.0; p->margin_lo = p->margin_hi = 1;
        p->continuity = 1.8; p->seed_dist = 12; p->marker_r = 2.5; p->contrast = 0.8;
        p->n_distr = 22 / p->dlen;
        break;
    case 128:
        p->paddle_len = 5; p->thickness = 1.5; p->margin_lo = 2; p->margin_hi = 3;
        p->continuity = 1.8; p->seed_dist = 20; p->marker_r = 3.0; p->contrast = 0.9;
        p->n_distr = 35 / p->dlen;
        break;
    default:
        return XB_EINVAL;
    }
    return XB_OK;
}

/* ------------------------------------------------------------------ geometry */

typedef struct seg { double y0, x0, y1, x1; } seg;

typedef struct canvas {
    const xb_pf_params *p;
    int side, margin;
    double hw;          /* ink half-width */
    int *own;           /* side² owners: -1 padding, 0 free, c·1024 + j + 1 */
    float *img;         /* side² intensities */
} canvas;

static double dist_seg(double py, double px, const seg *s)
{
    double dy = s->y1 - s->y0, dx = s->x1 - s->x0, l2 = dy * dy + dx * dx;
    double t = l2 > 0 ? ((py - s->y0) * dy + (px - s->x0) * dx) / l2 : 0.0;
    t = t < 0 ? 0 : t > 1 ? 1 : t;
    double ey = s->y0 + t * dy - py, ex = s->x0 + t * dx - px;
    return sqrt(ey * ey + ex * ex);
}

/* Pixel box around a segment grown by r, clipped to the image. */
static void seg_box(const canvas *cv, const seg *s, double r, int *y0, int *y1, int *x0, int *x1)
{
    *y0 = xb_max(0, (int)floor(fmin(s->y0, s->y1) - r));
    *y1 = xb_min(cv->side - 1, (int)ceil(fmax(s->y0, s->y1) + r));
    *x0 = xb_max(0, (int)floor(fmin(s->x0, s->x1) - r));
    *x1 = xb_min(cv->side - 1, (int)ceil(fmax(s->x0, s->x1) + r));
}

/* Whether a pixel is usable by dash j of contour c. */
static int usable(const canvas *cv, int y, int x, int c, int j)
{
    if (y < 0 || x < 0 || y >= cv->side || x >= cv->side) return 0;
    int o = cv->own[y * cv->side + x];
    return o == 0 || (j > 0 && o == c * 1024 + j);     /* dash j−1 of c has owner c·1024 + j */
}

/* Whether every pixel the dash inks (centre within hw + 0.5 of it) is usable. */
static int ink_free(const canvas *cv, const seg *s, int c, int j)
{
    int y0, y1, x0, x1;
    seg_box(cv, s, cv->hw + 0.5, &y0, &y1, &x0, &x1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (dist_seg(y, x, s) <= cv->hw + 0.5 && !usable(cv, y, x, c, j)) return 0;
    return 1;
}

/* Mark the dash's clearance footprint as owned by (c, j) where free. */
static void stamp(canvas *cv, const seg *s, int c, int j)
{
    double r = cv->hw + cv->margin;
    int y0, y1, x0, x1;
    seg_box(cv, s, r, &y0, &y1, &x0, &x1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++)
            if (cv->own[y * cv->side + x] == 0 && dist_seg(y, x, s) <= r)
                cv->own[y * cv->side + x] = c * 1024 + j + 1;
}

/* Anti-aliased dash (or disc when s is a point and r the radius): coverage of aa×aa
 * subsamples, times `gain`, max-combined into the image. */
static void render(canvas *cv, const seg *s, double r, double gain)
{
    int aa = cv->p->aa, y0, y1, x0, x1;
    seg_box(cv, s, r + 1, &y0, &y1, &x0, &x1);
    for (int y = y0; y <= y1; y++)
        for (int x = x0; x <= x1; x++) {
            int hit = 0;
            for (int a = 0; a < aa; a++)
                for (int b = 0; b < aa; b++)
                    hit += dist_seg(y - 0.5 + (a + 0.5) / aa, x - 0.5 + (b + 0.5) / aa, s) <= r;
            if (!hit) continue;
            float v = (float)fmin(1.0, gain * hit / (aa * aa));
            float *px = &cv->img[y * cv->side + x];
            if (v > *px) *px = v;
        }
}

static int interior(const canvas *cv, int y, int x)
{
    int pd = cv->p->padding;
    return y >= pd && x >= pd && y < cv->side - pd && x < cv->side - pd;
}

/* A contour being grown: its dashes, last head (pivot) and orientation. */
typedef struct contour { seg d[MAX_DASH]; int n, id; double py, px, th; } contour;

/* First dash of contour k from tail (ty, tx) at orientation th (radians). */
static int first_dash(canvas *cv, contour *k, int ty, int tx, double th)
{
    seg s = { ty, tx, ty + cv->p->paddle_len * sin(th), tx + cv->p->paddle_len * cos(th) };
    int hy = (int)lround(s.y1), hx = (int)lround(s.x1);
    if (!interior(cv, ty, tx) || !interior(cv, hy, hx)) return 0;
    s.y1 = hy; s.x1 = hx;
    if (!ink_free(cv, &s, k->id, 0)) return 0;
    stamp(cv, &s, k->id, 0);
    k->d[0] = s; k->n = 1;
    k->py = hy; k->px = hx; k->th = th;
    return 1;
}

/* Grow contour k by one dash (the rule in the file comment). 1 placed, 0 dead end. */
static int extend(canvas *cv, contour *k, xb_rng *r)
{
    const xb_pf_params *p = cv->p;
    double R = p->paddle_len + cv->margin;
    int ncand = (int)ceil(2 * M_PI * R);
    int cy[128], cx[128], nc = 0;
    double w[128], total = 0;
    for (int a = 0; a < ncand && nc < 128; a++) {
        double phi = 2 * M_PI * a / ncand;
        int y = (int)lround(k->py + R * sin(phi)), x = (int)lround(k->px + R * cos(phi));
        int dup = 0;
        for (int b = 0; b < nc; b++) dup |= cy[b] == y && cx[b] == x;
        if (dup) continue;
        double d = atan2(y - k->py, x - k->px) - k->th;
        while (d > M_PI) d -= 2 * M_PI;
        while (d < -M_PI) d += 2 * M_PI;
        double ang = fmin(p->continuity * fabs(d), M_PI / 2), c = cos(ang);
        cy[nc] = y; cx[nc] = x;
        w[nc] = interior(cv, y, x) && usable(cv, y, x, k->id, k->n) ? c * c : 0.0;
        if (w[nc] < 1e-9) w[nc] = 0.0;
        total += w[nc];
        nc++;
    }
    for (int tries = 0; tries < 3 && total > 1e-9; tries++) {
        double u = xb_rng_uniform(r) * total, acc = 0;
        int pick = -1;
        for (int b = 0; b < nc; b++) {
            if (w[b] == 0.0) continue;
            pick = b;
            acc += w[b];
            if (u < acc) break;
        }
        double dy = cy[pick] - k->py, dx = cx[pick] - k->px, l = sqrt(dy * dy + dx * dx);
        seg s = { k->py + cv->margin * dy / l, k->px + cv->margin * dx / l, cy[pick], cx[pick] };
        if (!ink_free(cv, &s, k->id, k->n)) {
            total -= w[pick];
            w[pick] = 0.0;
            continue;
        }
        stamp(cv, &s, k->id, k->n);
        k->d[k->n++] = s;
        k->py = cy[pick]; k->px = cx[pick];
        k->th = atan2(dy, dx);
        return 1;
    }
    return 0;
}

static double rand_deg(xb_rng *r) { return ((int)xb_rng_below(r, 360) - 180) * M_PI / 180.0; }

/* Place the two target contours; 1 on success. */
static int targets(canvas *cv, xb_rng *r, contour *A, contour *B)
{
    const xb_pf_params *p = cv->p;
    int n = cv->side * cv->side, band = 2 * p->seed_dist;
    for (int i = 0; i < n; i++) {
        int y = i / cv->side, x = i % cv->side;
        cv->own[i] = interior(cv, y, x) ? 0 : -1;
    }
    A->id = 1; B->id = 2; A->n = B->n = 0;
    int lo = band, hi = cv->side - band;
    if (hi <= lo) return 0;
    int ok = 0;
    for (int t = 0; t <= SEED_TRIALS && !ok; t++) {
        int ty = lo + (int)xb_rng_below(r, (uint32_t)(hi - lo)), tx = lo + (int)xb_rng_below(r, (uint32_t)(hi - lo));
        ok = first_dash(cv, A, ty, tx, rand_deg(r));
    }
    if (!ok) return 0;
    ok = 0;
    for (int t = 0; t <= SEED_TRIALS && !ok; t++) {
        double th = rand_deg(r), a = (int)xb_rng_below(r, 360) * M_PI / 180.0;
        int ty = (int)lround(A->d[0].y0 + p->seed_dist * sin(a)), tx = (int)lround(A->d[0].x0 + p->seed_dist * cos(a));
        ok = first_dash(cv, B, ty, tx, th);
    }
    if (!ok) return 0;
    for (int j = 1; j < p->contour; j++)
        if (!extend(cv, A, r) || !extend(cv, B, r)) return 0;
    return 1;
}

int xb_pf_draw(const xb_pf_params *p, xb_rng *r, int label, int32_t *x, double dots[4])
{
    int n = p->side * p->side;
    canvas cv = { p, p->side, 0, fmax(p->thickness, 1.0) / 2, malloc((size_t)n * sizeof(int)),
                  calloc((size_t)n, sizeof(float)) };
    int *save = malloc((size_t)n * sizeof(int));
    contour *k = malloc(3 * sizeof *k), *A = &k[0], *B = &k[1], *D = &k[2];
    int rc = XB_EINVAL;
    if (!cv.own || !cv.img || !save || !k) goto done;
    cv.margin = p->margin_lo + (int)xb_rng_below(r, (uint32_t)(p->margin_hi - p->margin_lo + 1));
    int placed = 0;
    for (int t = 0; t < RESTARTS && !placed; t++) placed = targets(&cv, r, A, B);
    if (!placed) goto done;
    for (int j = 0; j < A->n; j++) render(&cv, &A->d[j], cv.hw, p->contrast);
    for (int j = 0; j < B->n; j++) render(&cv, &B->d[j], cv.hw, p->contrast);
    for (int d = 0; d < p->n_distr; d++) {
        int fr = 0;
        for (int i = 0; i < n; i++) fr += cv.own[i] == 0;
        if (fr < n / 100 + 1) break;
        for (int attempt = 0; attempt < 3; attempt++) {
            memcpy(save, cv.own, (size_t)n * sizeof *save);
            D->id = 3 + d; D->n = 0;
            int ok = 0;
            for (int t = 0; t < 20 && !ok; t++) {
                int i = (int)xb_rng_below(r, (uint32_t)n);
                if (cv.own[i] == 0) ok = first_dash(&cv, D, i / p->side, i % p->side, rand_deg(r));
            }
            for (int j = 1; ok && j < p->dlen; j++) ok = extend(&cv, D, r);
            if (ok) {
                for (int j = 0; j < D->n; j++) render(&cv, &D->d[j], cv.hw, p->contrast);
                break;
            }
            memcpy(cv.own, save, (size_t)n * sizeof *save);
        }
    }
    /* markers: origin tip of o, then the terminal tip of o (label 1) or of the other */
    int o = (int)xb_rng_below(r, 2);
    const contour *co = o ? B : A, *ct = label ? co : (o ? A : B);
    seg m1 = { co->d[0].y0, co->d[0].x0, co->d[0].y0, co->d[0].x0 };
    seg m2 = { ct->py, ct->px, ct->py, ct->px };
    render(&cv, &m1, p->marker_r, 1.0);
    render(&cv, &m2, p->marker_r, 1.0);
    if (dots) { dots[0] = m1.y0; dots[1] = m1.x0; dots[2] = m2.y0; dots[3] = m2.x0; }
    for (int i = 0; i < n; i++) x[i] = (int32_t)lrintf(cv.img[i] * 255.0f);
    rc = XB_OK;
done:
    free(cv.own); free(cv.img); free(save); free(k);
    return rc;
}

/* ------------------------------------------------------------------ generator driver */

typedef struct pfgen { xb_pf_params p; } pfgen;

static int pf_example(const xb_task_cfg *c, void *ctx, int split, int i, xb_rng *r,
                      int32_t *x, int32_t *y, int *len)
{
    (void)split;
    const pfgen *g = ctx;
    y[0] = i % 2;
    len[0] = c->L;
    return xb_pf_draw(&g->p, r, y[0], x, NULL);
}

/* ------------------------------------------------------------------ LRA files */

typedef struct item { char *path; int label; } item;
typedef struct pffiles { item *it; int n; int side; int first[3]; } pffiles;

/* libpng's error and warning hooks: keep the message (for ours), print nothing. */
static void png_fail(png_structp png, png_const_charp msg)
{
    char *keep = png_get_error_ptr(png);
    snprintf(keep, 128, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warn(png_structp png, png_const_charp msg) { (void)png; (void)msg; }

/* Read an 8-bit gray PNG of side×side into x (tokens). */
static int read_png(const char *path, int side, int32_t *x, char *err, size_t errn)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errn, "%s: %s", path, strerror(errno));
        return errno == ENOENT ? XB_ENOTFOUND : XB_EIO;
    }
    unsigned char sig[8];
    if (fread(sig, 1, 8, f) != 8 || png_sig_cmp(sig, 0, 8) != 0) {
        fclose(f);
        snprintf(err, errn, "%s: not a PNG file", path);
        return XB_EFORMAT;
    }
    char why[128] = "";
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, why, png_fail, png_warn);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    unsigned char *volatile row = NULL;     /* volatile: set after setjmp, freed after longjmp */
    volatile int rc = XB_OK;
    if (!png || !info) { rc = XB_ENOMEM; snprintf(err, errn, "%s: out of memory", path); goto out; }
    if (setjmp(png_jmpbuf(png))) {
        snprintf(err, errn, "%s: corrupt or truncated PNG (%s)", path, why);
        rc = XB_EFORMAT;
        goto out;
    }
    png_init_io(png, f);
    png_set_sig_bytes(png, 8);
    /* Skip every ancillary chunk unread: libpng buffers a text or iCCP chunk whole, trusting
     * its length field (a 74-byte file claiming a 1.6 GB iTXt had it allocate that much), and
     * none of them changes the gray pixels read here. */
    png_set_keep_unknown_chunks(png, PNG_HANDLE_CHUNK_NEVER, NULL, -1);
    png_read_info(png, info);
    png_uint_32 w = png_get_image_width(png, info), h = png_get_image_height(png, info);
    int depth = png_get_bit_depth(png, info), type = png_get_color_type(png, info);
    if (type != PNG_COLOR_TYPE_GRAY || depth != 8) {
        snprintf(err, errn, "%s: PNG is not 8-bit grayscale (colour type %d, depth %d)", path, type, depth);
        rc = XB_EFORMAT;
        goto out;
    }
    if ((int)w != side || (int)h != side) {
        snprintf(err, errn, "%s: image is %ux%u, expected %dx%d", path, (unsigned)w, (unsigned)h, side, side);
        rc = XB_EFORMAT;
        goto out;
    }
    int passes = png_set_interlace_handling(png);     /* 1 unless the PNG is interlaced */
    png_read_update_info(png, info);
    row = malloc((size_t)side);
    if (!row) { rc = XB_ENOMEM; snprintf(err, errn, "%s: out of memory", path); goto out; }
    for (int ps = 0; ps < passes; ps++)
        for (int yy = 0; yy < side; yy++) {
            if (passes > 1) for (int q = 0; q < side; q++) row[q] = (unsigned char)x[yy * side + q];
            png_read_row(png, row, NULL);
            for (int q = 0; q < side; q++) x[yy * side + q] = row[q];
        }
    png_read_end(png, NULL);
out:
    png_destroy_read_struct(png ? &png : NULL, info ? &info : NULL, NULL);
    free(row);
    fclose(f);
    return rc;
}

static int pf_row(void *ctx, int split, int row, int32_t *x, int32_t *y, int *len, char *err, size_t errn)
{
    const pffiles *m = ctx;
    const item *it = &m->it[m->first[split] + row];
    int rc = read_png(it->path, m->side, x, err, errn);
    if (rc != XB_OK) return rc;
    y[0] = it->label;
    len[0] = m->side * m->side;
    return XB_OK;
}

static int cmp_num(const void *a, const void *b)
{
    long x = atol(*(char *const *)a), y = atol(*(char *const *)b);
    return x < y ? -1 : x > y;
}

static void free_items(pffiles *m)
{
    for (int i = 0; i < m->n; i++) free(m->it[i].path);
    free(m->it);
}

/* Parse the metadata files of folder dir into m (non-empty images only). */
static int read_meta(const char *dir, pffiles *m, long *skipped, char *err, size_t errn)
{
    char mdir[4300], path[4600];
    snprintf(mdir, sizeof mdir, "%s/metadata", dir);
    char **names;
    int nn, rc = xb_list_dir(mdir, ".npy", &names, &nn, err, errn);
    if (rc != XB_OK) return rc;
    if (nn == 0) { xb_free_names(names, nn); snprintf(err, errn, "%s: no metadata/*.npy files", mdir); return XB_EFORMAT; }
    qsort(names, (size_t)nn, sizeof *names, cmp_num);
    int cap = 1024;
    m->it = malloc((size_t)cap * sizeof *m->it);
    m->n = 0;
    char *line = NULL;
    size_t lcap = 0;
    for (int f = 0; f < nn && rc == XB_OK && m->it; f++) {
        snprintf(path, sizeof path, "%s/%s", mdir, names[f]);
        FILE *fp = fopen(path, "r");
        if (!fp) { snprintf(err, errn, "%s: %s", path, strerror(errno)); rc = XB_EIO; break; }
        long ln = 0;
        ssize_t got;
        while (rc == XB_OK && (got = getline(&line, &lcap, fp)) >= 0) {
            ln++;
            while (got > 0 && (line[got - 1] == '\n' || line[got - 1] == '\r')) line[--got] = '\0';
            if (got == 0) continue;
            char *fld[4], *save = NULL;
            int nf = 0;
            for (char *t = strtok_r(line, " ", &save); t && nf < 4; t = strtok_r(NULL, " ", &save)) fld[nf++] = t;
            if (nf < 4) {
                snprintf(err, errn, "%s:%ld: expected space-separated fields 'imgs/<k> sample_<i>.png <i> <label> ...', "
                         "found %d field%s", path, ln, nf, nf == 1 ? "" : "s");
                rc = XB_EFORMAT;
                break;
            }
            if (strcmp(fld[3], "0") != 0 && strcmp(fld[3], "1") != 0) {
                snprintf(err, errn, "%s:%ld: label '%.20s' is not 0 or 1", path, ln, fld[3]);
                rc = XB_EFORMAT;
                break;
            }
            char ipath[4800];
            snprintf(ipath, sizeof ipath, "%s/%s/%s", dir, fld[0], fld[1]);
            struct stat st;
            if (stat(ipath, &st) != 0) {
                snprintf(err, errn, "%s: %s (listed in %s:%ld)", ipath, strerror(errno), path, ln);
                rc = XB_ENOTFOUND;
                break;
            }
            if (st.st_size == 0) { (*skipped)++; continue; }
            if (m->n == cap) {
                item *ni = realloc(m->it, (size_t)cap * 2 * sizeof *ni);
                if (!ni) { rc = XB_ENOMEM; snprintf(err, errn, "%s: out of memory", path); break; }
                m->it = ni; cap *= 2;
            }
            m->it[m->n].path = strdup(ipath);
            m->it[m->n].label = fld[3][0] - '0';
            if (!m->it[m->n].path) { rc = XB_ENOMEM; snprintf(err, errn, "%s: out of memory", path); break; }
            m->n++;
        }
        fclose(fp);
    }
    if (!m->it && rc == XB_OK) { rc = XB_ENOMEM; snprintf(err, errn, "%s: out of memory", mdir); }
    if (rc == XB_OK && m->n < 10) {
        snprintf(err, errn, "%s: %d usable images, too few for an 80/10/10 split", mdir, m->n);
        rc = XB_EFORMAT;
    }
    free(line);
    xb_free_names(names, nn);
    return rc;
}

static const char *difficulty(int contour)
{
    return contour == 6 ? "curv_baseline" : contour == 9 ? "curv_contour_length_9" : "curv_contour_length_14";
}

static int load_pf_files(const xb_task *t, const xb_task_cfg *c, int side, int contour,
                         const int want[3], xb_data *train, xb_data *val, xb_data *test,
                         char *err, size_t errn)
{
    char dir[4200], md[4300];
    struct stat st;
    snprintf(dir, sizeof dir, "%s/pathfinder%d/%s", c->data_dir, side, difficulty(contour));
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        snprintf(md, sizeof md, "%s/metadata", c->data_dir);
        if (stat(md, &st) == 0 && S_ISDIR(st.st_mode)) snprintf(dir, sizeof dir, "%s", c->data_dir);
    }
    pffiles m = { NULL, 0, side, { 0, 0, 0 } };
    long skipped = 0;
    int rc = read_meta(dir, &m, &skipped, err, errn);
    if (rc == XB_OK) {
        xb_rng r;
        xb_rng_seed(&r, xb_stream_seed(c->seed, 0, "pathfinder", 0));
        for (int i = m.n - 1; i > 0; i--) {
            int j = (int)xb_rng_below(&r, (uint32_t)i + 1);
            item tmp = m.it[i]; m.it[i] = m.it[j]; m.it[j] = tmp;
        }
        int ntr = m.n * 8 / 10, nva = m.n / 10;
        int avail[3] = { ntr, nva, m.n - ntr - nva };
        m.first[0] = 0; m.first[1] = ntr; m.first[2] = ntr + nva;
        rc = xb_data_from_rows(t, c, pf_row, &m, avail, want, train, val, test, err, errn);
        if (rc == XB_OK) {
            xb_source_files(train->source, sizeof train->source, dir);
            snprintf(val->source, sizeof val->source, "%s", train->source);
            snprintf(test->source, sizeof test->source, "%s", train->source);
        }
    }
    free_items(&m);
    return rc;
}

int xb_pf_load(const xb_task *t, const xb_task_cfg *c, int side, int contour, int n_train,
               int n_val, int n_test, xb_data *train, xb_data *val, xb_data *test,
               char *err, size_t errn)
{
    memset(train, 0, sizeof *train); memset(val, 0, sizeof *val); memset(test, 0, sizeof *test);
    if (t->check) {
        int rc = t->check(c, err, errn);
        if (rc != XB_OK) return rc;
    }
    if (c->data_dir) {
        int want[3] = { n_train, n_val, n_test };
        return load_pf_files(t, c, side, contour, want, train, val, test, err, errn);
    }
    pfgen g;
    if (xb_pf_params_for(side, contour, &g.p) != XB_OK) {
        snprintf(err, errn, "%s: no generator parameters for %dx%d images", t->name, side, side);
        return XB_EINVAL;
    }
    if (n_train < 0 || n_val < 0 || n_test < 1) {
        snprintf(err, errn, "%s: 'train_examples'/'val_examples' must be >= 0 and 'test_examples' >= 1 for the "
                 "generator (-1 means all, with data_dir only)", t->name);
        return XB_EINVAL;
    }
    return xb_data_generate_ctx(t, c, pf_example, &g, n_train, n_val, n_test, train, val, test, err, errn);
}

/* ------------------------------------------------------------------ the pathfinder task */

enum { O_CONTOUR, O_TRAIN, O_VAL, O_TEST, O_N };

static const xb_opt opts[O_N] = {
    [O_CONTOUR] = { "contour", 14, 6, 14, 1, "dashes per target contour: 6 (easy), 9 or 14 (hard, LRA's default)" },
    [O_TRAIN]   = { "train_examples", 10000, -1, 1e7, 1, "training images (-1 with data_dir: all of the 80%)" },
    [O_VAL]     = { "val_examples", 1000, -1, 1e6, 1, "validation images (-1 with data_dir: all of the 10%)" },
    [O_TEST]    = { "test_examples", 1000, -1, 1e6, 1, "test images (-1 with data_dir: all of the 10%)" },
};

static int side_of(int L)
{
    static const int sides[3] = { 16, 32, 64 };
    for (int k = 0; k < 3; k++) if (sides[k] * sides[k] == L) return sides[k];
    return 0;
}

static int pf_vocab(const xb_task_cfg *c) { (void)c; return 256; }
static int pf_classes(const xb_task_cfg *c) { (void)c; return 2; }

static int pf_check(const xb_task_cfg *c, char *err, size_t errn)
{
    int k = (int)c->opt[O_CONTOUR];
    if (k != 6 && k != 9 && k != 14) {
        snprintf(err, errn, "pathfinder: option 'contour' = %d must be 6, 9 or 14", k);
        return XB_EINVAL;
    }
    if (!side_of(c->L)) {
        snprintf(err, errn, "pathfinder: sequence length L = %d must be 256, 1024 or 4096 (16x16, 32x32 or "
                 "64x64 pixels; 128x128 is the task 'pathx')", c->L);
        return XB_EINVAL;
    }
    if (c->L == 256 && k != 6 && !c->data_dir) {
        snprintf(err, errn, "pathfinder: option 'contour' = %d does not fit 16x16 images (L = 256): use contour 6", k);
        return XB_EINVAL;
    }
    return XB_OK;
}

static void pf_key(const xb_task_cfg *c, char *buf, size_t n)
{
    snprintf(buf, n, "pathfinder:src=%s,L=%d,contour=%d", c->data_dir ? "lra" : "lite", c->L, (int)c->opt[O_CONTOUR]);
}

extern const xb_task xb_task_pathfinder;

static int pf_load(const xb_task_cfg *c, xb_data *train, xb_data *val, xb_data *test, char *err, size_t errn)
{
    return xb_pf_load(&xb_task_pathfinder, c, side_of(c->L), (int)c->opt[O_CONTOUR], (int)c->opt[O_TRAIN],
                      (int)c->opt[O_VAL], (int)c->opt[O_TEST], train, val, test, err, errn);
}

/* 32 x 32 pixels, the middle of LRA's three Pathfinder sizes. */
static int pf_length(const xb_task_cfg *c)
{
    (void)c;
    return 1024;
}

const xb_task xb_task_pathfinder = {
    .name = "pathfinder",
    .desc = "Pathfinder: are the two dots on one dashed contour? pixel tokens (generator or LRA files)",
    .cite = "Linsley et al. 2018 (drewlinsley/pathfinder); Tay et al. 2021, Long Range Arena (Pathfinder)",
    .shape = XB_SHAPE_CLS,
    .opts = opts,
    .n_opts = O_N,
    .vocab = pf_vocab,
    .n_classes = pf_classes,
    .length = pf_length,
    .check = pf_check,
    .key = pf_key,
    .load = pf_load,
};
