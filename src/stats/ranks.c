/* Average ranks and top-k precision: both sort positions by value with a stable merge sort,
 * so equal values keep their index order (lower index first).
 *
 * Average rank (1-based): a run of t equal values occupying sorted positions i..i+t-1
 * (0-based) gets rank (i+1 + i+t) / 2, the mean of its 1-based positions.
 *
 * Top-k precision: k = max(1, ceil(frac n)); the predicted top-k are the first k positions of
 * the indices sorted by pred descending (ties: lower index first), likewise for truth;
 * precision = |pred top-k ∩ truth top-k| / k.
 */
#include "nasrank/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Stable bottom-up merge sort of idx (n) by key[idx], ascending or (desc) descending;
 * tmp (n) is scratch.  Equal keys keep their order in idx. */
static void sort_index(size_t *idx, size_t *tmp, const double *key, size_t n, int desc)
{
    size_t *src = idx, *dst = tmp;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n;
            size_t hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi) {
                double a = key[src[i]], b = key[src[j]];
                int right_first = desc ? b > a : b < a;
                dst[k++] = right_first ? src[j++] : src[i++];
            }
            while (i < mid) dst[k++] = src[i++];
            while (j < hi) dst[k++] = src[j++];
        }
        size_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != idx) memcpy(idx, src, n * sizeof *idx);
}

static nr_status check_finite(const char *what, const char *name, const double *v, size_t n,
                              nr_error *err)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "%s: %s[%zu] = %g is not finite",
                                what, name, i, v[i]);
    return NR_OK;
}

nr_status nr_rank_average(const double *x, size_t n, double *ranks, nr_error *err)
{
    if (n < 2)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "average ranks: need at least 2 values, got %zu", n);
    if (!x || !ranks)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "average ranks: x or ranks is NULL");
    nr_status st = check_finite("average ranks", "x", x, n, err);
    if (st != NR_OK) return st;
    if (n > ((size_t)-1) / (2 * sizeof(size_t)))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "average ranks: n = %zu is too large", n);

    size_t *idx = malloc(2 * n * sizeof *idx); /* idx (n), scratch (n) */
    if (!idx)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0,
                            "average ranks: out of memory for %zu values", n);
    for (size_t i = 0; i < n; i++) idx[i] = i;
    sort_index(idx, idx + n, x, n, 0);
    for (size_t i = 0; i < n;) {
        size_t j = i + 1;
        while (j < n && x[idx[j]] == x[idx[i]]) j++;
        double r = 0.5 * ((double)(i + 1) + (double)j);
        for (size_t a = i; a < j; a++) ranks[idx[a]] = r;
        i = j;
    }
    free(idx);
    return NR_OK;
}

/* k = max(1, ceil(frac n)), except that frac n within a relative 1e-9 of an integer counts as
 * that integer, so 0.07 * 100 (= 7.000000000000001 in double) gives 7, not 8. */
static size_t topk_count(double frac, size_t n)
{
    double t = frac * (double)n;
    double r = nearbyint(t);
    double k = fabs(t - r) <= 1e-9 * (t > 1.0 ? t : 1.0) ? r : ceil(t);
    if (k < 1.0) k = 1.0;
    if (k > (double)n) k = (double)n;
    return (size_t)k;
}

nr_status nr_topk_precision(const double *pred, const double *truth, size_t n, double frac,
                            double *precision, nr_error *err)
{
    if (!precision)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "top-k precision: precision is NULL");
    *precision = NAN;
    if (n < 2)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "top-k precision: need at least 2 pairs, got %zu", n);
    if (!pred || !truth)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "top-k precision: pred or truth is NULL");
    if (!(frac >= 0.0 && frac <= 1.0))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "top-k precision: fraction %g is not in [0, 1]", frac);
    nr_status st = check_finite("top-k precision", "pred", pred, n, err);
    if (st == NR_OK) st = check_finite("top-k precision", "truth", truth, n, err);
    if (st != NR_OK) return st;
    if (n > ((size_t)-1) / (3 * sizeof(size_t)))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "top-k precision: n = %zu is too large", n);

    /* One allocation: pred order (n), truth order (n), scratch / membership flags (n). */
    size_t *po = malloc(3 * n * sizeof *po);
    if (!po)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0,
                            "top-k precision: out of memory for %zu pairs", n);
    size_t *to = po + n, *scratch = po + 2 * n;
    for (size_t i = 0; i < n; i++) po[i] = to[i] = i;
    sort_index(po, scratch, pred, n, 1);
    sort_index(to, scratch, truth, n, 1);

    size_t k = topk_count(frac, n);
    size_t *in_truth = scratch;
    memset(in_truth, 0, n * sizeof *in_truth);
    for (size_t i = 0; i < k; i++) in_truth[to[i]] = 1;
    size_t hits = 0;
    for (size_t i = 0; i < k; i++) hits += in_truth[po[i]];
    free(po);
    *precision = (double)hits / (double)k;
    return NR_OK;
}
