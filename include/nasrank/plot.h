/* nasrank — plots (cairo): SVG or PNG, chosen by the file extension (".svg" / ".png",
 * case-insensitive).  Axes with "nice" ticks (1, 2, 5 x 10^k), tick labels, axis labels and a
 * title.  Non-finite values are left out (and counted in *dropped when it is not NULL).
 * Files are written atomically (nr_outfile: temporary file, then rename); "-" is stdout.
 * Output is deterministic: the same data give the same picture (PNG: the same bytes; SVG: the
 * same bytes in a fresh process, as cairo numbers its surfaces per process).
 */
#ifndef NASRANK_PLOT_H
#define NASRANK_PLOT_H

#include <stddef.h>

#include "nasrank/error.h"

typedef enum nr_plot_format { NR_PLOT_SVG = 0, NR_PLOT_PNG = 1 } nr_plot_format;

/* Format from a file name's extension; NR_ERR_INVALID (naming the accepted ones) otherwise. */
nr_status nr_plot_format_from_path(const char *path, nr_plot_format *out, nr_error *err);

typedef struct nr_plot_labels {
    const char *title;  /* NULL: none */
    const char *xlabel;
    const char *ylabel;
    int width, height;  /* pixels (PNG) / points (SVG); 0: default 860 x 520 (a distribution
                         * of more than 7 series: 110 wider per series) */
    int has_ref;        /* draw a dashed horizontal reference line at ref_value */
    double ref_value;
    const char *ref_label; /* drawn at the line's right end; may be NULL */
} nr_plot_labels;

/* One category of a distribution plot.  label may hold one '\n' (two lines). */
typedef struct nr_plot_series {
    const char *label;
    const double *values; /* borrowed */
    size_t n;
} nr_plot_series;

/* Distribution per category, side by side: every value as a jittered dot (strip plot), over a
 * box from the lower to the upper quartile with the median as a thick line, whiskers to the
 * furthest values within 1.5 IQR, and the mean as a diamond; "mean ± std (n)" under each
 * label.  Needs 1..64 series; a series may be empty (label only). */
nr_status nr_plot_distribution(const char *path, const nr_plot_series *series, size_t nseries,
                               const nr_plot_labels *labels, size_t *dropped, nr_error *err);

/* Scatter plot of (x[i], y[i]); semi-transparent dots so dense regions show.  Needs at least
 * one finite pair. */
nr_status nr_plot_scatter(const char *path, const double *x, const double *y, size_t n,
                          const nr_plot_labels *labels, size_t *dropped, nr_error *err);

#endif
