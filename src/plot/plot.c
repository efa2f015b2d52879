/* Plots with cairo: SVG / PNG surfaces, nice ticks, a box-and-strip distribution plot and a
 * scatter plot.  The only file that includes cairo.  See include/nasrank/plot.h. */
#include <cairo-svg.h>
#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/utf8.h"
#include "nasrank/outfile.h"
#include "nasrank/plot.h"
#include "nasrank/rng.h"

#define FONT "DejaVu Sans"
#define MAX_SERIES 64
#define PI 3.14159265358979323846

#if defined(__SANITIZE_ADDRESS__)
/* Under AddressSanitizer: fontconfig (which cairo's text uses) keeps one configuration object
 * for the life of the process, whatever cairo releases; LeakSanitizer would report it at exit
 * of every program that drew a plot.  Not ours to free (FcFini would break other users). */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:libfontconfig.so\n"; }
#endif

/* ---- output ---- */

nr_status nr_plot_format_from_path(const char *path, nr_plot_format *out, nr_error *err)
{
    const char *dot = path ? strrchr(path, '.') : NULL;
    if (dot && !strcasecmp(dot, ".svg")) *out = NR_PLOT_SVG;
    else if (dot && !strcasecmp(dot, ".png")) *out = NR_PLOT_PNG;
    else
        return nr_error_set(err, NR_ERR_INVALID, path, 0, 0,
                            "plot file name must end in .svg or .png");
    return NR_OK;
}

static cairo_status_t write_fp(void *closure, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)closure) == len ? CAIRO_STATUS_SUCCESS
                                                         : CAIRO_STATUS_WRITE_ERROR;
}

/* A drawing target: the surface, its context and where the bytes go. */
typedef struct canvas {
    nr_plot_format fmt;
    cairo_surface_t *surface;
    cairo_t *cr;
    nr_outfile *of;
    FILE *fp;
    double w, h;
} canvas;

static nr_status canvas_open(canvas *c, const char *path, int w, int h, nr_error *err)
{
    memset(c, 0, sizeof *c);
    nr_status st = nr_plot_format_from_path(path, &c->fmt, err);
    if (st) return st;
    c->w = w;
    c->h = h;
    st = nr_outfile_open(path, &c->of, &c->fp, err);
    if (st) return st;
    if (c->fmt == NR_PLOT_SVG) {
        c->surface = cairo_svg_surface_create_for_stream(write_fp, c->fp, w, h);
        cairo_svg_surface_restrict_to_version(c->surface, CAIRO_SVG_VERSION_1_1);
    } else {
        c->surface = cairo_image_surface_create(CAIRO_FORMAT_ARGB32, w, h);
    }
    c->cr = cairo_create(c->surface);
    if (cairo_status(c->cr) != CAIRO_STATUS_SUCCESS) {
        nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "cairo: %s", cairo_status_to_string(cairo_status(c->cr)));
        cairo_destroy(c->cr);
        cairo_surface_destroy(c->surface);
        nr_outfile_abort(c->of);
        return NR_ERR_NOMEM;
    }
    cairo_set_source_rgb(c->cr, 1, 1, 1);
    cairo_paint(c->cr);
    cairo_select_font_face(c->cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    return NR_OK;
}

/* Finish drawing, write the bytes and commit (or abort on any error). */
static nr_status canvas_close(canvas *c, const char *path, nr_error *err)
{
    cairo_status_t cs = cairo_status(c->cr);
    cairo_destroy(c->cr);
    if (cs == CAIRO_STATUS_SUCCESS && c->fmt == NR_PLOT_PNG)
        cs = cairo_surface_write_to_png_stream(c->surface, write_fp, c->fp);
    cairo_surface_finish(c->surface);
    if (cs == CAIRO_STATUS_SUCCESS) cs = cairo_surface_status(c->surface);
    cairo_surface_destroy(c->surface);
    /* nothing of cairo outlives a plot: drop its font caches, so leak checkers stay quiet */
    cairo_debug_reset_static_data();
    if (cs != CAIRO_STATUS_SUCCESS) {
        nr_outfile_abort(c->of);
        return nr_error_set(err, cs == CAIRO_STATUS_WRITE_ERROR ? NR_ERR_IO : NR_ERR_INTERNAL, path, 0,
                            0, "cairo: %s", cairo_status_to_string(cs));
    }
    return nr_outfile_commit(c->of, err);
}

/* ---- axes ---- */

/* Heckbert's nice numbers: 1, 2, 5 x 10^k. */
static double nice_num(double x, int round)
{
    double e = floor(log10(x)), f = x / pow(10, e), nf;
    if (round) nf = f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10;
    else nf = f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10;
    return nf * pow(10, e);
}

typedef struct axis {
    double lo, hi, step; /* range = first and last tick */
    int ticks;           /* intervals: ticks at lo + k step, k = 0..ticks */
    int decimals;
} axis;

static axis make_axis(double mn, double mx, int nticks)
{
    if (!(mx > mn)) {
        double pad = fabs(mn) > 1e-9 ? fabs(mn) * 0.05 : 1.0;
        mn -= pad;
        mx += pad;
    }
    double step = nice_num(nice_num(mx - mn, 0) / (nticks - 1), 1);
    axis a = {floor(mn / step) * step, ceil(mx / step) * step, step, 0, 0};
    double count = (a.hi - a.lo) / step;
    /* Values far apart in magnitude from their spread (1e17 and 1e17 + 16: a step below the
     * spacing of doubles there) or beyond the double range get their two ends as the only
     * ticks: counting ticks with lo + k step, never v += step, cannot loop forever. */
    if (!isfinite(step) || !(step > 0) || a.lo + step == a.lo || !(count >= 1 && count <= 4.0 * nticks)) {
        a = (axis){mn, mx, mx - mn, 1, 0};
        step = fabs(mx - mn);
    } else {
        a.ticks = (int)lround(count);
    }
    if (isfinite(step) && step > 0) {
        double d = -floor(log10(step) + 1e-9);
        a.decimals = d > 0 ? (d < 20 ? (int)d : 20) : 0;
    }
    return a;
}

typedef struct frame {
    double x0, y0, x1, y1; /* plot area in device units: x0 left, y0 top */
} frame;

static double map_y(const frame *f, const axis *a, double v)
{
    return f->y1 - (v - a->lo) / (a->hi - a->lo) * (f->y1 - f->y0);
}

static double map_x(const frame *f, const axis *a, double v)
{
    return f->x0 + (v - a->lo) / (a->hi - a->lo) * (f->x1 - f->x0);
}

/* Text with its anchor: ax, ay in 0..1 of the text's extents (0.5, 0.5 = centred). */
static void text_at(cairo_t *cr, double x, double y, const char *s, double ax, double ay)
{
    /* labels come from users' column names: cairo refuses invalid UTF-8 (and fails the
     * whole plot), so bad bytes become '?' and long labels end at a character boundary */
    char text[512];
    nr_utf8_clean(s, text, sizeof text);
    cairo_text_extents_t te;
    cairo_text_extents(cr, text, &te);
    cairo_move_to(cr, x - te.x_bearing - ax * te.width, y - te.y_bearing - ay * te.height);
    cairo_show_text(cr, text);
}

static void text_vertical(cairo_t *cr, double x, double y, const char *s)
{
    cairo_save(cr);
    cairo_translate(cr, x, y);
    cairo_rotate(cr, -PI / 2);
    text_at(cr, 0, 0, s, 0.5, 0.5);
    cairo_restore(cr);
}

static void draw_title_and_labels(cairo_t *cr, const frame *f, double w, const nr_plot_labels *l)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (l && l->title) {
        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        cairo_set_font_size(cr, 15);
        text_at(cr, w / 2, f->y0 / 2, l->title, 0.5, 0.5);
        cairo_select_font_face(cr, FONT, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    }
    cairo_set_font_size(cr, 13);
    if (l && l->ylabel) text_vertical(cr, 18, (f->y0 + f->y1) / 2, l->ylabel);
}

static void draw_y_axis(cairo_t *cr, const frame *f, const axis *a)
{
    char buf[64];
    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    for (int k = 0; k <= a->ticks; k++) {
        double v = k == a->ticks ? a->hi : a->lo + k * a->step;
        double y = round(map_y(f, a, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, f->x0, y);
        cairo_line_to(cr, f->x1, y);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, f->x0 - 5, y);
        cairo_line_to(cr, f->x0, y);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.*f", a->decimals, fabs(v) < a->step * 1e-6 ? 0.0 : v);
        text_at(cr, f->x0 - 8, y, buf, 1.0, 0.5);
    }
}

static void draw_x_axis(cairo_t *cr, const frame *f, const axis *a)
{
    char buf[64];
    cairo_set_font_size(cr, 11);
    cairo_set_line_width(cr, 1);
    for (int k = 0; k <= a->ticks; k++) {
        double v = k == a->ticks ? a->hi : a->lo + k * a->step;
        double x = round(map_x(f, a, v)) + 0.5;
        cairo_set_source_rgb(cr, 0.9, 0.9, 0.9);
        cairo_move_to(cr, x, f->y0);
        cairo_line_to(cr, x, f->y1);
        cairo_stroke(cr);
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_move_to(cr, x, f->y1);
        cairo_line_to(cr, x, f->y1 + 5);
        cairo_stroke(cr);
        snprintf(buf, sizeof buf, "%.*f", a->decimals, fabs(v) < a->step * 1e-6 ? 0.0 : v);
        text_at(cr, x, f->y1 + 8, buf, 0.5, 0.0);
    }
}

static void draw_frame(cairo_t *cr, const frame *f)
{
    cairo_set_source_rgb(cr, 0, 0, 0);
    cairo_set_line_width(cr, 1);
    cairo_rectangle(cr, round(f->x0) + 0.5, round(f->y0) + 0.5, round(f->x1 - f->x0),
                    round(f->y1 - f->y0));
    cairo_stroke(cr);
}

static void draw_ref_line(cairo_t *cr, const frame *f, const axis *a, const nr_plot_labels *l)
{
    if (!l || !l->has_ref || !isfinite(l->ref_value) || l->ref_value < a->lo || l->ref_value > a->hi)
        return;
    double y = map_y(f, a, l->ref_value), dash[] = {6, 4};
    cairo_save(cr);
    cairo_set_source_rgb(cr, 0.75, 0.1, 0.1);
    cairo_set_line_width(cr, 1.2);
    cairo_set_dash(cr, dash, 2, 0);
    cairo_move_to(cr, f->x0, y);
    cairo_line_to(cr, f->x1, y);
    cairo_stroke(cr);
    if (l->ref_label) {
        cairo_set_font_size(cr, 11);
        text_at(cr, f->x1 - 4, y - 3, l->ref_label, 1.0, 1.0);
    }
    cairo_restore(cr);
}

/* ---- distribution ---- */

static const double palette[][3] = {{0.12, 0.47, 0.71}, {1.00, 0.50, 0.05}, {0.17, 0.63, 0.17},
                                    {0.84, 0.15, 0.16}, {0.58, 0.40, 0.74}, {0.55, 0.34, 0.29},
                                    {0.89, 0.47, 0.76}, {0.50, 0.50, 0.50}, {0.74, 0.74, 0.13},
                                    {0.09, 0.75, 0.81}};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Linear-interpolated quantile of sorted v (numpy's default). */
static double quantile(const double *v, size_t n, double q)
{
    double pos = q * (double)(n - 1);
    size_t i = (size_t)floor(pos);
    if (i + 1 >= n) return v[n - 1];
    return v[i] + (pos - (double)i) * (v[i + 1] - v[i]);
}

nr_status nr_plot_distribution(const char *path, const nr_plot_series *series, size_t nseries,
                               const nr_plot_labels *labels, size_t *dropped, nr_error *err)
{
    if (dropped) *dropped = 0;
    if (!series || nseries < 1 || nseries > MAX_SERIES)
        return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "distribution plot needs 1..%d series, got %zu",
                            MAX_SERIES, nseries);
    nr_plot_format fmt;
    nr_status st = nr_plot_format_from_path(path, &fmt, err);
    if (st) return st;
    /* finite values per series, sorted */
    double *vals[MAX_SERIES] = {0};
    size_t cnt[MAX_SERIES] = {0}, drop = 0, total = 0;
    double mn = INFINITY, mx = -INFINITY;
    for (size_t s = 0; s < nseries; s++) {
        vals[s] = malloc((series[s].n ? series[s].n : 1) * sizeof(double));
        if (!vals[s]) {
            st = nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < series[s].n; i++) {
            double v = series[s].values[i];
            if (!isfinite(v)) {
                drop++;
                continue;
            }
            vals[s][cnt[s]++] = v;
            if (v < mn) mn = v;
            if (v > mx) mx = v;
        }
        qsort(vals[s], cnt[s], sizeof(double), cmp_double);
        total += cnt[s];
    }
    if (dropped) *dropped = drop;
    if (!total) {
        st = nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "nothing to plot: no finite values");
        goto done;
    }
    if (labels && labels->has_ref && isfinite(labels->ref_value)) {
        if (labels->ref_value < mn) mn = labels->ref_value;
        if (labels->ref_value > mx) mx = labels->ref_value;
    }
    /* a category needs ~110 units for its "mean ± std (n=...)" line: widen past 7 of them */
    int W = labels && labels->width > 0 ? labels->width : nseries > 7 ? 102 + 110 * (int)nseries : 860;
    int H = labels && labels->height > 0 ? labels->height : 520;
    canvas cv;
    if ((st = canvas_open(&cv, path, W, H, err))) goto done;
    cairo_t *cr = cv.cr;
    frame f = {78, 48, W - 24.0, H - 78.0};
    if (labels && labels->xlabel) f.y1 -= 18;
    axis ay = make_axis(mn, mx, 7);
    draw_title_and_labels(cr, &f, W, labels);
    draw_y_axis(cr, &f, &ay);
    double slot = (f.x1 - f.x0) / (double)nseries;
    nr_rng rng = nr_rng_seeded(20240611);
    for (size_t s = 0; s < nseries; s++) {
        const double *col = palette[s % (sizeof palette / sizeof *palette)];
        double cx = f.x0 + slot * ((double)s + 0.5), half = fmin(slot * 0.3, 60);
        size_t n = cnt[s];
        const double *v = vals[s];
        /* strip: every value, jittered horizontally */
        double radius = n > 2000 ? 1.2 : n > 300 ? 1.8 : 2.5, alpha = n > 2000 ? 0.2 : n > 300 ? 0.3 : 0.5;
        cairo_set_source_rgba(cr, col[0], col[1], col[2], alpha);
        for (size_t i = 0; i < series[s].n; i++) {
            double x = series[s].values[i];
            if (!isfinite(x)) continue;
            double jx = cx + (nr_rng_uniform(&rng) * 2 - 1) * half * 0.9;
            cairo_arc(cr, jx, map_y(&f, &ay, x), radius, 0, 2 * PI);
            cairo_fill(cr); /* one fill per dot: overlaps darken */
        }
        char buf[128];
        if (n) {
            double q1 = quantile(v, n, 0.25), med = quantile(v, n, 0.5), q3 = quantile(v, n, 0.75);
            double iqr = q3 - q1, lo_w = v[0], hi_w = v[n - 1];
            for (size_t i = 0; i < n; i++)
                if (v[i] >= q1 - 1.5 * iqr) { lo_w = v[i]; break; }
            for (size_t i = n; i-- > 0;)
                if (v[i] <= q3 + 1.5 * iqr) { hi_w = v[i]; break; }
            double mean = 0, var = 0;
            for (size_t i = 0; i < n; i++) mean += v[i];
            mean /= (double)n;
            for (size_t i = 0; i < n; i++) var += (v[i] - mean) * (v[i] - mean);
            double sd = sqrt(var / (double)n);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_set_line_width(cr, 1.2);
            double bw = half * 0.7;
            cairo_rectangle(cr, cx - bw, map_y(&f, &ay, q3), 2 * bw, map_y(&f, &ay, q1) - map_y(&f, &ay, q3));
            cairo_stroke(cr);
            cairo_move_to(cr, cx, map_y(&f, &ay, q3));
            cairo_line_to(cr, cx, map_y(&f, &ay, hi_w));
            cairo_move_to(cr, cx, map_y(&f, &ay, q1));
            cairo_line_to(cr, cx, map_y(&f, &ay, lo_w));
            cairo_move_to(cr, cx - bw * 0.5, map_y(&f, &ay, hi_w));
            cairo_line_to(cr, cx + bw * 0.5, map_y(&f, &ay, hi_w));
            cairo_move_to(cr, cx - bw * 0.5, map_y(&f, &ay, lo_w));
            cairo_line_to(cr, cx + bw * 0.5, map_y(&f, &ay, lo_w));
            cairo_stroke(cr);
            cairo_set_line_width(cr, 2.5);
            cairo_move_to(cr, cx - bw, map_y(&f, &ay, med));
            cairo_line_to(cr, cx + bw, map_y(&f, &ay, med));
            cairo_stroke(cr);
            double my = map_y(&f, &ay, mean);
            cairo_move_to(cr, cx, my - 5);
            cairo_line_to(cr, cx + 5, my);
            cairo_line_to(cr, cx, my + 5);
            cairo_line_to(cr, cx - 5, my);
            cairo_close_path(cr);
            cairo_set_source_rgb(cr, 1, 1, 1);
            cairo_fill_preserve(cr);
            cairo_set_source_rgb(cr, 0.1, 0.1, 0.1);
            cairo_set_line_width(cr, 1.2);
            cairo_stroke(cr);
            snprintf(buf, sizeof buf, "%.2f \xc2\xb1 %.2f (n=%zu)", mean, sd, n);
        } else {
            snprintf(buf, sizeof buf, "(no values)");
        }
        /* category label (up to two lines) and the summary */
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, 12);
        const char *lab = series[s].label ? series[s].label : "";
        const char *nl = strchr(lab, '\n');
        double ty = f.y1 + 8;
        if (nl) {
            char first[128];
            snprintf(first, sizeof first, "%.*s", (int)(nl - lab), lab);
            text_at(cr, cx, ty, first, 0.5, 0.0);
            ty += 15;
            text_at(cr, cx, ty, nl + 1, 0.5, 0.0);
        } else {
            text_at(cr, cx, ty, lab, 0.5, 0.0);
        }
        cairo_set_font_size(cr, 10);
        cairo_set_source_rgb(cr, 0.3, 0.3, 0.3);
        cairo_text_extents_t te;
        cairo_text_extents(cr, buf, &te);
        char *paren = strstr(buf, " (n=");
        if (te.width > slot * 0.96 && paren) { /* too narrow (a caller's width): two lines */
            *paren = '\0';
            text_at(cr, cx, ty + 17, buf, 0.5, 0.0);
            text_at(cr, cx, ty + 30, paren + 1, 0.5, 0.0);
        } else {
            text_at(cr, cx, ty + 17, buf, 0.5, 0.0);
        }
    }
    draw_ref_line(cr, &f, &ay, labels);
    draw_frame(cr, &f);
    if (labels && labels->xlabel) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, 13);
        text_at(cr, (f.x0 + f.x1) / 2, H - 8, labels->xlabel, 0.5, 1.0);
    }
    st = canvas_close(&cv, path, err);
done:
    for (size_t s = 0; s < nseries; s++) free(vals[s]);
    return st;
}

/* ---- scatter ---- */

nr_status nr_plot_scatter(const char *path, const double *x, const double *y, size_t n,
                          const nr_plot_labels *labels, size_t *dropped, nr_error *err)
{
    if (dropped) *dropped = 0;
    if (!x || !y) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "scatter plot needs x and y");
    nr_plot_format fmt;
    nr_status st = nr_plot_format_from_path(path, &fmt, err);
    if (st) return st;
    double xmn = INFINITY, xmx = -INFINITY, ymn = INFINITY, ymx = -INFINITY;
    size_t used = 0, drop = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) {
            drop++;
            continue;
        }
        used++;
        xmn = fmin(xmn, x[i]);
        xmx = fmax(xmx, x[i]);
        ymn = fmin(ymn, y[i]);
        ymx = fmax(ymx, y[i]);
    }
    if (dropped) *dropped = drop;
    if (!used) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "nothing to plot: no finite (x, y) pair");
    if (labels && labels->has_ref && isfinite(labels->ref_value)) {
        ymn = fmin(ymn, labels->ref_value);
        ymx = fmax(ymx, labels->ref_value);
    }
    int W = labels && labels->width > 0 ? labels->width : 860;
    int H = labels && labels->height > 0 ? labels->height : 520;
    canvas cv;
    if ((st = canvas_open(&cv, path, W, H, err))) return st;
    cairo_t *cr = cv.cr;
    frame f = {78, 48, W - 24.0, H - 62.0};
    axis ax = make_axis(xmn, xmx, 8), ay = make_axis(ymn, ymx, 7);
    draw_title_and_labels(cr, &f, W, labels);
    draw_y_axis(cr, &f, &ay);
    draw_x_axis(cr, &f, &ax);
    double radius = used > 5000 ? 1.3 : used > 500 ? 1.8 : 2.6;
    double alpha = used > 5000 ? 0.25 : used > 500 ? 0.4 : 0.7;
    cairo_set_source_rgba(cr, palette[0][0], palette[0][1], palette[0][2], alpha);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]) || !isfinite(y[i])) continue;
        cairo_arc(cr, map_x(&f, &ax, x[i]), map_y(&f, &ay, y[i]), radius, 0, 2 * PI);
        cairo_fill(cr); /* one fill per dot: overlaps darken */
    }
    draw_ref_line(cr, &f, &ay, labels);
    draw_frame(cr, &f);
    if (labels && labels->xlabel) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        cairo_set_font_size(cr, 13);
        text_at(cr, (f.x0 + f.x1) / 2, H - 8, labels->xlabel, 0.5, 1.0);
    }
    return canvas_close(&cv, path, err);
}
