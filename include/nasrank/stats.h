/* nasrank — rank statistics for comparing scores with ground truth.
 *
 * Kendall tau-b (ties in x and y corrected) in O(n log n) by Knight's merge-sort algorithm;
 * Spearman rho = Pearson of average ranks; Pearson; top-k% precision.  Sums in double.
 * The plain functions require finite inputs (NR_ERR_NUMERIC otherwise); nr_correlate drops
 * pairs where either value is NaN/inf and counts them.
 */
#ifndef NASRANK_STATS_H
#define NASRANK_STATS_H

#include <stddef.h>

#include "nasrank/error.h"

/* tau-b; n >= 2.  NaN result (NR_OK) when x or y is constant (tau undefined). */
nr_status nr_kendall_tau_b(const double *x, const double *y, size_t n, double *tau,
                           nr_error *err);
nr_status nr_spearman(const double *x, const double *y, size_t n, double *rho, nr_error *err);
nr_status nr_pearson(const double *x, const double *y, size_t n, double *r, nr_error *err);
/* Average (fractional) ranks, 1-based: ties get the mean of their positions. */
nr_status nr_rank_average(const double *x, size_t n, double *ranks, nr_error *err);
/* Share of the true top-k in the predicted top-k, k = max(1, ceil(frac * n)); higher is
 * better for both.  Ties at the cut are broken by position (lower index first). */
nr_status nr_topk_precision(const double *pred, const double *truth, size_t n, double frac,
                            double *precision, nr_error *err);

typedef struct nr_correlation {
    size_t n;        /* pairs used */
    size_t dropped;  /* pairs with a non-finite value */
    double kendall;
    double spearman;
    double pearson;
    double top5;     /* top-5% precision */
    double top10;    /* top-10% precision */
} nr_correlation;

/* All of the above on the finite pairs.  Needs n >= 2 usable pairs. */
nr_status nr_correlate(const double *score, const double *truth, size_t n, nr_correlation *out,
                       nr_error *err);

/* Infinite scores as ranks (DESIGN.md §4: a degenerate architecture's NASWOT is -inf and
 * ranks last): -inf becomes the next double below the smallest finite value, +inf the next
 * above the largest, so Kendall, Spearman and top-k order them last / first, tied among
 * themselves, instead of nr_correlate dropping them.  NaN stays.  Nothing changes when no
 * value is finite.  Returns how many values were replaced.  (Pearson on the result depends
 * on that stand-in value: compute it on the finite pairs.) */
size_t nr_infinities_to_extremes(double *v, size_t n);

#endif
