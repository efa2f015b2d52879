/* Kendall tau-b in O(n log n) (Knight 1966, "A computer method for calculating Kendall's tau
 * with ungrouped data", JASA 61:436-439).
 *
 * With n0 = n(n-1)/2 pairs,
 *   n1 = sum over groups of equal x      t(t-1)/2      (pairs tied in x)
 *   n2 = sum over groups of equal y      u(u-1)/2      (pairs tied in y)
 *   n3 = sum over groups of equal (x, y) v(v-1)/2      (pairs tied in both)
 *   S  = discordant pairs (x_i < x_j and y_i > y_j)
 * the number of concordant minus discordant pairs is C - D = n0 - n1 - n2 + n3 - 2 S, and
 *   tau_b = (C - D) / sqrt((n0 - n1) (n0 - n2)).
 *
 * Algorithm: sort the pairs by (x, y); count n1 and n3 from runs in that order.  Then merge
 * sort the y sequence (stable, "take the left element on equality") counting, for each element
 * taken from the right half, the left elements still waiting (all strictly greater): that is
 * S, because pairs tied in x are already ordered by y and pairs tied in y never swap.  The
 * sorted y gives n2.  Counts are 64-bit integers; only the final formula is in double.
 */
#include "nasrank/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct xy_pair {
    double x, y;
} xy_pair;

static int pair_less(const xy_pair *a, const xy_pair *b)
{
    return a->x < b->x || (a->x == b->x && a->y < b->y);
}

/* Stable bottom-up merge sort of p (n) by (x, y); tmp (n) is scratch.  Result in p. */
static void sort_pairs(xy_pair *p, xy_pair *tmp, size_t n)
{
    xy_pair *src = p, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) dst[k++] = pair_less(&src[j], &src[i]) ? src[j++] : src[i++];
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        xy_pair *t = src;
        src = dst;
        dst = t;
    }
    if (src != p) memcpy(p, src, n * sizeof *p);
}

/* Stable bottom-up merge sort of a (n) ascending; tmp (n) is scratch.  Returns the number of
 * inversions (i < j with a[i] > a[j]).  Result in a. */
static uint64_t sort_count_inversions(double *a, double *tmp, size_t n)
{
    uint64_t swaps = 0;
    double *src = a, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                if (src[j] < src[i]) {
                    swaps += (uint64_t)(mid - i);
                    dst[k++] = src[j++];
                } else {
                    dst[k++] = src[i++];
                }
            }
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        double *t = src;
        src = dst;
        dst = t;
    }
    if (src != a) memcpy(a, src, n * sizeof *a);
    return swaps;
}

static uint64_t pairs_in_run(uint64_t t) { return t * (t - 1) / 2; }

nr_status nr_kendall_tau_b(const double *x, const double *y, size_t n, double *tau,
                           nr_error *err)
{
    if (!tau) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "kendall tau-b: tau is NULL");
    *tau = NAN;
    if (n < 2)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "kendall tau-b: need at least 2 pairs, got %zu", n);
    if (!x || !y)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "kendall tau-b: x or y is NULL");
    /* n0 = n(n-1)/2 must fit in int64 with room for C - D: n <= 2^32 is plenty. */
    if ((uint64_t)n > ((uint64_t)1 << 32))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "kendall tau-b: %zu pairs is too many (max 2^32)", n);
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(x[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0,
                                "kendall tau-b: x[%zu] = %g is not finite", i, x[i]);
        if (!isfinite(y[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0,
                                "kendall tau-b: y[%zu] = %g is not finite", i, y[i]);
    }

    /* One allocation: pairs (n), pair scratch (n); the y sort reuses the scratch as two
     * double arrays of n each (2n doubles == n pairs). */
    xy_pair *p = malloc(2 * n * sizeof *p);
    if (!p)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0,
                            "kendall tau-b: out of memory for %zu pairs", n);
    xy_pair *ptmp = p + n;
    for (size_t i = 0; i < n; i++) {
        p[i].x = x[i];
        p[i].y = y[i];
    }
    sort_pairs(p, ptmp, n);

    uint64_t n1 = 0, n3 = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && p[j].x == p[i].x) j++;
        n1 += pairs_in_run(j - i);
        for (size_t a = i; a < j;) {
            size_t b = a + 1;
            while (b < j && p[b].y == p[a].y) b++;
            n3 += pairs_in_run(b - a);
            a = b;
        }
        i = j;
    }

    double *ys = (double *)ptmp;  /* (n) */
    double *ytmp = ys + n;        /* (n) */
    for (size_t i = 0; i < n; i++) ys[i] = p[i].y;
    uint64_t swaps = sort_count_inversions(ys, ytmp, n);

    uint64_t n2 = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && ys[j] == ys[i]) j++;
        n2 += pairs_in_run(j - i);
        i = j;
    }
    free(p);

    uint64_t n0 = pairs_in_run(n);
    if (n1 == n0 || n2 == n0) return NR_OK; /* x or y constant: tau undefined, NaN */
    int64_t s = (int64_t)(n0 - n1 - n2 + n3) - 2 * (int64_t)swaps;
    double t = (double)s / sqrt((double)(n0 - n1) * (double)(n0 - n2));
    *tau = t > 1.0 ? 1.0 : t < -1.0 ? -1.0 : t;
    return NR_OK;
}
