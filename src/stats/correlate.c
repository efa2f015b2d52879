/* Pearson, Spearman and the all-in-one nr_correlate.
 *
 * Pearson (two-pass, centred, in double):
 *   mx = sum x / n,  my = sum y / n
 *   r  = sum (x-mx)(y-my) / sqrt(sum (x-mx)^2 * sum (y-my)^2)
 * r is scale-invariant, so inputs with max |v| outside [1e-100, 1e100] are first scaled by a
 * power of two (exact) to keep the sums from overflowing or underflowing.  A constant x or y
 * gives NaN (NR_OK), like tau-b.
 *
 * Spearman rho = Pearson of the average (1-based, tie-averaged) ranks.
 */
#include "nasrank/stats.h"

#include <math.h>
#include <stdlib.h>

static nr_status check_args(const char *what, const double *x, const double *y, size_t n,
                            nr_error *err)
{
    if (n < 2)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "%s: need at least 2 pairs, got %zu",
                            what, n);
    if (!x || !y) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "%s: x or y is NULL", what);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "%s: x[%zu] = %g is not finite",
                                what, i, x[i]);
        if (!isfinite(y[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "%s: y[%zu] = %g is not finite",
                                what, i, y[i]);
    }
    return NR_OK;
}

/* Binary exponent to scale v (n, finite) by so that max |v| lands in [0.5, 1); 0 when no
 * scaling is needed (max |v| in [1e-100, 1e100], or all zero). */
static int scale_exponent(const double *v, size_t n)
{
    double m = 0.0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(v[i]));
    if (m == 0.0 || (m >= 1e-100 && m <= 1e100)) return 0;
    int e;
    frexp(m, &e);
    return e;
}

static int is_constant(const double *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i] != v[0]) return 0;
    return 1;
}

nr_status nr_pearson(const double *x, const double *y, size_t n, double *r, nr_error *err)
{
    if (!r) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "pearson: r is NULL");
    *r = NAN;
    nr_status st = check_args("pearson", x, y, n, err);
    if (st != NR_OK) return st;
    if (is_constant(x, n) || is_constant(y, n)) return NR_OK;

    int ex = scale_exponent(x, n), ey = scale_exponent(y, n);
    double sx = 0.0, sy = 0.0;
    for (size_t i = 0; i < n; i++) {
        sx += ex ? ldexp(x[i], -ex) : x[i];
        sy += ey ? ldexp(y[i], -ey) : y[i];
    }
    double mx = sx / (double)n, my = sy / (double)n;
    double sxx = 0.0, syy = 0.0, sxy = 0.0;
    for (size_t i = 0; i < n; i++) {
        double dx = (ex ? ldexp(x[i], -ex) : x[i]) - mx;
        double dy = (ey ? ldexp(y[i], -ey) : y[i]) - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    if (sxx == 0.0 || syy == 0.0) return NR_OK;
    double v = sxy / sqrt(sxx * syy);
    *r = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v;
    return NR_OK;
}

nr_status nr_spearman(const double *x, const double *y, size_t n, double *rho, nr_error *err)
{
    if (!rho) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "spearman: rho is NULL");
    *rho = NAN;
    nr_status st = check_args("spearman", x, y, n, err);
    if (st != NR_OK) return st;

    double *rx = malloc(2 * n * sizeof *rx); /* ranks of x (n), ranks of y (n) */
    if (!rx)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "spearman: out of memory for %zu pairs",
                            n);
    double *ry = rx + n;
    st = nr_rank_average(x, n, rx, err);
    if (st == NR_OK) st = nr_rank_average(y, n, ry, err);
    if (st == NR_OK) st = nr_pearson(rx, ry, n, rho, err);
    free(rx);
    return st;
}

nr_status nr_correlate(const double *score, const double *truth, size_t n, nr_correlation *out,
                       nr_error *err)
{
    if (!out) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "correlate: out is NULL");
    out->n = 0;
    out->dropped = n;
    out->kendall = out->spearman = out->pearson = out->top5 = out->top10 = NAN;
    if (n > 0 && (!score || !truth))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "correlate: score or truth is NULL");

    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(score[i]) && isfinite(truth[i])) m++;
    out->n = m;
    out->dropped = n - m;
    if (m < 2)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "correlate: %zu usable pairs (%zu of %zu dropped as non-finite); "
                            "need at least 2", m, n - m, n);

    double *s = malloc(2 * m * sizeof *s); /* finite scores (m), matching truths (m) */
    if (!s)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "correlate: out of memory for %zu pairs",
                            m);
    double *t = s + m;
    for (size_t i = 0, j = 0; i < n; i++) {
        if (!isfinite(score[i]) || !isfinite(truth[i])) continue;
        s[j] = score[i];
        t[j] = truth[i];
        j++;
    }
    nr_status st = nr_kendall_tau_b(s, t, m, &out->kendall, err);
    if (st == NR_OK) st = nr_spearman(s, t, m, &out->spearman, err);
    if (st == NR_OK) st = nr_pearson(s, t, m, &out->pearson, err);
    if (st == NR_OK) st = nr_topk_precision(s, t, m, 0.05, &out->top5, err);
    if (st == NR_OK) st = nr_topk_precision(s, t, m, 0.10, &out->top10, err);
    free(s);
    return st;
}

size_t nr_infinities_to_extremes(double *v, size_t n)
{
    double lo = INFINITY, hi = -INFINITY;
    for (size_t i = 0; i < n; i++)
        if (isfinite(v[i])) lo = fmin(lo, v[i]), hi = fmax(hi, v[i]);
    if (lo > hi) return 0; /* no finite value */
    double below = nextafter(lo, -INFINITY), above = nextafter(hi, INFINITY);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] == -INFINITY) v[i] = below, k++;
        else if (v[i] == INFINITY) v[i] = above, k++;
    }
    return k;
}
