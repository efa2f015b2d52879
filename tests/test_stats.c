/* Rank statistics: Kendall tau-b, average ranks, Spearman, Pearson, top-k precision and
 * nr_correlate, checked against O(n^2) references written here, hand-computed cases and
 * published values. */
#include "nasrank/rng.h"
#include "nasrank/stats.h"
#include "test.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- references (deliberately naive) ---------------------------------------------------- */

static int sgn(double a, double b) { return (a > b) - (a < b); }

/* Brute force over all pairs.  tau_b = (C - D) / sqrt((n0 - n1)(n0 - n2)), NaN if undefined;
 * *tau_a = (C - D) / n0. */
static double ref_kendall(const double *x, const double *y, size_t n, double *tau_a)
{
    int64_t c = 0, d = 0, tx = 0, ty = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            int s = sgn(x[i], x[j]) * sgn(y[i], y[j]);
            c += s > 0;
            d += s < 0;
            tx += x[i] == x[j];
            ty += y[i] == y[j];
        }
    int64_t n0 = (int64_t)(n * (n - 1) / 2);
    if (tau_a) *tau_a = (double)(c - d) / (double)n0;
    if (tx == n0 || ty == n0) return NAN;
    return (double)(c - d) / sqrt((double)(n0 - tx) * (double)(n0 - ty));
}

/* rank_i = 1 + #{j: x_j < x_i} + (#{j != i: x_j == x_i}) / 2 */
static void ref_ranks(const double *x, size_t n, double *r)
{
    for (size_t i = 0; i < n; i++) {
        size_t less = 0, eq = 0;
        for (size_t j = 0; j < n; j++) {
            less += x[j] < x[i];
            eq += j != i && x[j] == x[i];
        }
        r[i] = 1.0 + (double)less + 0.5 * (double)eq;
    }
}

/* Pearson in long double, NaN when either side has zero variance. */
static double ref_pearson(const double *x, const double *y, size_t n)
{
    long double mx = 0, my = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= n;
    my /= n;
    long double sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
        sxy += (x[i] - mx) * (y[i] - my);
    }
    if (sxx == 0 || syy == 0) return NAN;
    return (double)(sxy / sqrtl(sxx * syy));
}

static double ref_spearman(const double *x, const double *y, size_t n)
{
    double *rx = malloc(2 * n * sizeof *rx), *ry = rx + n;
    ref_ranks(x, n, rx);
    ref_ranks(y, n, ry);
    double rho = ref_pearson(rx, ry, n);
    free(rx);
    return rho;
}

/* i is in the top-k of v iff fewer than k positions come before it in the order "larger value
 * first, then lower index first". */
static int ref_in_topk(const double *v, size_t n, size_t i, size_t k)
{
    size_t ahead = 0;
    for (size_t j = 0; j < n; j++) ahead += v[j] > v[i] || (v[j] == v[i] && j < i);
    return ahead < k;
}

static double ref_topk(const double *pred, const double *truth, size_t n, size_t k)
{
    size_t hits = 0;
    for (size_t i = 0; i < n; i++)
        hits += ref_in_topk(pred, n, i, k) && ref_in_topk(truth, n, i, k);
    return (double)hits / (double)k;
}

/* equal, or both NaN */
static int same(double a, double b, double tol)
{
    return (isnan(a) && isnan(b)) || fabs(a - b) <= tol;
}

/* Random data: mode 0 = x, y from 3..10 levels independently; 1 = y = x + small level noise
 * (positively tied and correlated); 2 = y = -x + noise; 3 = x continuous, y levels; 4 = values
 * in {-1, -0.0, +0.0, 1} (signed zeros must tie). */
static void fill(nr_rng *r, int mode, double *x, double *y, size_t n)
{
    uint64_t lx = 3 + nr_rng_below(r, 8), ly = 3 + nr_rng_below(r, 8);
    for (size_t i = 0; i < n; i++) {
        double a = (double)nr_rng_below(r, lx), b = (double)nr_rng_below(r, ly);
        switch (mode) {
        case 0: x[i] = a; y[i] = b; break;
        case 1: x[i] = a; y[i] = a + (double)nr_rng_below(r, 3); break;
        case 2: x[i] = a * 0.5; y[i] = -a + (double)nr_rng_below(r, 2); break;
        case 3: x[i] = nr_rng_uniform(r) * 10 - 5; y[i] = b; break;
        default: {
            static const double z[4] = {-1.0, -0.0, 0.0, 1.0};
            x[i] = z[nr_rng_below(r, 4)];
            y[i] = z[nr_rng_below(r, 4)];
        }
        }
    }
}

/* ---- tests ------------------------------------------------------------------------------ */

static void test_hand_cases(void)
{
    double tau, rho, r;
    nr_error err;
    TEST("identical and reversed rankings")
    {
        double a[6] = {3, 1, 4, 1.5, 9, 2.6}, b[6], c[6];
        for (int i = 0; i < 6; i++) {
            b[i] = 10 * a[i] + 7; /* monotone increasing transform */
            c[i] = -a[i];
        }
        nr_error_clear(&err);
        CHECK(nr_kendall_tau_b(a, b, 6, &tau, &err) == NR_OK && tau == 1.0);
        CHECK(nr_kendall_tau_b(a, c, 6, &tau, &err) == NR_OK && tau == -1.0);
        CHECK(nr_spearman(a, b, 6, &rho, &err) == NR_OK);
        CHECK_NEAR(rho, 1.0, 1e-15);
        CHECK(nr_spearman(a, c, 6, &rho, &err) == NR_OK);
        CHECK_NEAR(rho, -1.0, 1e-15);
        CHECK(nr_pearson(a, b, 6, &r, &err) == NR_OK);
        CHECK_NEAR(r, 1.0, 1e-15);
        CHECK(nr_pearson(a, c, 6, &r, &err) == NR_OK);
        CHECK_NEAR(r, -1.0, 1e-15);
        CHECK(err.code == NR_OK);
    }

    TEST("tied example by hand: tau-b = 0.4, tau-a = 1/3, spearman = 0.5")
    {
        /* x = 1 2 2 3, y = 1 3 2 2.  The 6 pairs (i<j, 0-based):
         *   (0,1) (0,2) (0,3) concordant; (1,2) tied in x; (1,3) discordant (x up, y 3->2);
         *   (2,3) tied in y.
         * C = 3, D = 1, n0 = 6, n1 = 1, n2 = 1:
         *   tau-b = (3-1) / sqrt(5*5) = 0.4;   tau-a = (3-1)/6 = 1/3 (a wrong implementation).
         * Average ranks: x -> 1, 2.5, 2.5, 4; y -> 1, 4, 2.5, 2.5.  Centred (mean 2.5):
         *   dx = -1.5 0 0 1.5, dy = -1.5 1.5 0 0: sum dx dy = 2.25, sum dx^2 = sum dy^2 = 4.5,
         *   rho = 2.25 / 4.5 = 0.5. */
        double x[4] = {1, 2, 2, 3}, y[4] = {1, 3, 2, 2}, rk[4];
        CHECK(nr_kendall_tau_b(x, y, 4, &tau, NULL) == NR_OK);
        CHECK_NEAR(tau, 0.4, 1e-15);
        CHECK(fabs(tau - 1.0 / 3.0) > 0.05); /* tau-a would pass for 0.333 */
        CHECK(nr_rank_average(x, 4, rk, NULL) == NR_OK);
        CHECK(rk[0] == 1.0 && rk[1] == 2.5 && rk[2] == 2.5 && rk[3] == 4.0);
        CHECK(nr_rank_average(y, 4, rk, NULL) == NR_OK);
        CHECK(rk[0] == 1.0 && rk[1] == 4.0 && rk[2] == 2.5 && rk[3] == 2.5);
        CHECK(nr_spearman(x, y, 4, &rho, NULL) == NR_OK);
        CHECK_NEAR(rho, 0.5, 1e-15);
        double ta, tb = ref_kendall(x, y, 4, &ta);
        CHECK_NEAR(tb, 0.4, 1e-15); /* the reference agrees with the hand count */
        CHECK_NEAR(ta, 1.0 / 3.0, 1e-15);
    }

    TEST("published values")
    {
        /* scipy.stats.kendalltau docs: x = [12,2,1,12,2], y = [1,4,7,1,0] -> -0.47140452079103173
         * (C = 2, D = 6, n1 = 2, n2 = 1: -4/sqrt(8*9)). */
        double x[5] = {12, 2, 1, 12, 2}, y[5] = {1, 4, 7, 1, 0};
        CHECK(nr_kendall_tau_b(x, y, 5, &tau, NULL) == NR_OK);
        CHECK_NEAR(tau, -0.47140452079103173, 1e-15);
        CHECK_NEAR(tau, -4.0 / sqrt(72.0), 1e-15);
        /* Wikipedia "Spearman's rank correlation coefficient": IQ vs hours of TV per week,
         * rho = -29/165. */
        double iq[10] = {106, 100, 86, 101, 99, 103, 97, 113, 112, 110};
        double tv[10] = {7, 27, 2, 50, 28, 29, 20, 12, 6, 17};
        CHECK(nr_spearman(iq, tv, 10, &rho, NULL) == NR_OK);
        CHECK_NEAR(rho, -29.0 / 165.0, 1e-15);
        /* x = 1..5, y = 2 4 5 4 5: dx = -2 -1 0 1 2, dy = -2 0 1 0 1, r = 6/sqrt(10*6) */
        double px[5] = {1, 2, 3, 4, 5}, py[5] = {2, 4, 5, 4, 5};
        CHECK(nr_pearson(px, py, 5, &r, NULL) == NR_OK);
        CHECK_NEAR(r, sqrt(0.6), 1e-15);
    }

    TEST("n = 2 and constant inputs")
    {
        double a[2] = {1, 2}, b[2] = {5, 3}, k[3] = {7, 7, 7}, v[3] = {1, 2, 3};
        CHECK(nr_kendall_tau_b(a, b, 2, &tau, NULL) == NR_OK && tau == -1.0);
        CHECK(nr_kendall_tau_b(a, a, 2, &tau, NULL) == NR_OK && tau == 1.0);
        nr_error_clear(&err);
        CHECK(nr_kendall_tau_b(k, v, 3, &tau, &err) == NR_OK && isnan(tau));
        CHECK(nr_kendall_tau_b(v, k, 3, &tau, &err) == NR_OK && isnan(tau));
        CHECK(nr_spearman(k, v, 3, &rho, &err) == NR_OK && isnan(rho));
        CHECK(nr_pearson(v, k, 3, &r, &err) == NR_OK && isnan(r));
        /* 0.1 three times: a naive mean leaves a non-zero variance from rounding */
        double tenth[3] = {0.1, 0.1, 0.1};
        CHECK(nr_pearson(tenth, v, 3, &r, &err) == NR_OK && isnan(r));
        CHECK(err.code == NR_OK);
    }

    TEST("pearson survives extreme magnitudes")
    {
        double x[4] = {1e300, 2e300, 3e300, 5e300}, y[4] = {1e-300, 2e-300, 3e-300, 5e-300};
        double xs[4] = {1, 2, 3, 5};
        CHECK(nr_pearson(x, y, 4, &r, NULL) == NR_OK);
        CHECK_NEAR(r, 1.0, 1e-14);
        double r1;
        double ys[4] = {4, -1, 2, 0}, yb[4];
        for (int i = 0; i < 4; i++) yb[i] = ys[i] * 1e-310; /* subnormal */
        CHECK(nr_pearson(xs, ys, 4, &r1, NULL) == NR_OK);
        CHECK(nr_pearson(x, yb, 4, &r, NULL) == NR_OK);
        CHECK_NEAR(r, r1, 1e-9);
    }
}

static void test_random_vs_reference(void)
{
    nr_rng rng = nr_rng_stream(2024, "test_stats.random");
    size_t cap = 2000;
    double *x = malloc(cap * sizeof *x), *y = malloc(cap * sizeof *y);
    double *rk = malloc(cap * sizeof *rk), *rr = malloc(cap * sizeof *rr);
    int sets = 0, bad_tau = 0, bad_rho = 0, bad_r = 0, bad_rank = 0, bad_topk = 0, bad_st = 0;
    int tau_a_differs = 0, nan_sets = 0;
    double worst_tau = 0, worst_rho = 0;

    TEST("random tied data vs O(n^2) references")
    {
        for (int rep = 0; rep < 400; rep++) {
            /* every size 2..61 (twice), then random sizes up to 2000, and 2000 itself */
            size_t n = rep < 120 ? 2 + (size_t)rep / 2
                     : rep < 390 ? 2 + (size_t)nr_rng_below(&rng, 1999) : 2000;
            int mode = rep % 5;
            fill(&rng, mode, x, y, n);
            sets++;

            double tau, rho, r, p, ta;
            nr_status st = nr_kendall_tau_b(x, y, n, &tau, NULL);
            st |= nr_spearman(x, y, n, &rho, NULL);
            st |= nr_pearson(x, y, n, &r, NULL);
            st |= nr_rank_average(x, n, rk, NULL);
            bad_st += st != NR_OK;

            double tb = ref_kendall(x, y, n, &ta);
            double sr = ref_spearman(x, y, n), pr = ref_pearson(x, y, n);
            nan_sets += isnan(tb);
            if (!same(tau, tb, 1e-12)) {
                bad_tau++;
                fprintf(stderr, "  tau n=%zu mode=%d: %.17g vs %.17g\n", n, mode, tau, tb);
            }
            if (!isnan(tb)) {
                worst_tau = fmax(worst_tau, fabs(tau - tb));
                tau_a_differs += fabs(ta - tb) > 1e-3;
            }
            if (!same(rho, sr, 1e-12)) {
                bad_rho++;
                fprintf(stderr, "  rho n=%zu mode=%d: %.17g vs %.17g\n", n, mode, rho, sr);
            }
            if (!isnan(sr)) worst_rho = fmax(worst_rho, fabs(rho - sr));
            if (!same(r, pr, 1e-12)) bad_r++;

            ref_ranks(x, n, rr);
            for (size_t i = 0; i < n; i++)
                if (rk[i] != rr[i]) {
                    bad_rank++;
                    break;
                }

            /* k = max(1, ceil(num n / den)) in exact integer arithmetic */
            static const size_t fr[4][2] = {{1, 20}, {1, 10}, {3, 10}, {1, 1}};
            size_t num = fr[rep % 4][0], den = fr[rep % 4][1];
            double frac = (double)num / (double)den;
            size_t k = (num * n + den - 1) / den;
            if (k < 1) k = 1;
            if (nr_topk_precision(x, y, n, frac, &p, NULL) != NR_OK ||
                !same(p, ref_topk(x, y, n, k), 0.0)) {
                bad_topk++;
                fprintf(stderr, "  topk n=%zu frac=%g: %.17g vs %.17g\n", n, frac, p,
                        ref_topk(x, y, n, k));
            }
        }
        CHECK(sets == 400);
        CHECK(bad_st == 0);
        CHECK_MSG(bad_tau == 0, "%d of %d sets, worst %g", bad_tau, sets, worst_tau);
        CHECK_MSG(bad_rho == 0, "%d of %d sets, worst %g", bad_rho, sets, worst_rho);
        CHECK_MSG(bad_r == 0, "%d of %d sets", bad_r, sets);
        CHECK_MSG(bad_rank == 0, "%d of %d sets", bad_rank, sets);
        CHECK_MSG(bad_topk == 0, "%d of %d sets", bad_topk, sets);
        /* the data really are tied: tau-a would be wrong on most sets */
        CHECK_MSG(tau_a_differs > sets / 2, "tau-a differs on only %d of %d", tau_a_differs, sets);
        CHECK(nan_sets < 10); /* a few tiny sets may be constant, not most */
    }

    TEST("symmetry and invariance")
    {
        size_t n = 777;
        fill(&rng, 1, x, y, n);
        double t1, t2, t3, t4;
        CHECK(nr_kendall_tau_b(x, y, n, &t1, NULL) == NR_OK);
        CHECK(nr_kendall_tau_b(y, x, n, &t2, NULL) == NR_OK);
        CHECK_NEAR(t1, t2, 1e-15);
        for (size_t i = 0; i < n; i++) rk[i] = -x[i];
        CHECK(nr_kendall_tau_b(rk, y, n, &t3, NULL) == NR_OK);
        CHECK_NEAR(t3, -t1, 1e-15);
        for (size_t i = 0; i < n; i++) rk[i] = exp(x[i]) - 3; /* strictly increasing map */
        CHECK(nr_kendall_tau_b(rk, y, n, &t4, NULL) == NR_OK);
        CHECK(t4 == t1);
        CHECK(t1 > 0.3); /* mode 1 is positively correlated */
    }
    free(x);
    free(y);
    free(rk);
    free(rr);
}

/* Beyond 2^32 pairs: x = floor(i/3), y = floor(i/5) are both non-decreasing in i, so every pair
 * not tied in x or y is concordant: C = n0 - n1 - n2 + n3, D = 0, with the tie counts from the
 * group sizes (n3 from groups of equal (floor(i/3), floor(i/5))). */
static void test_large_counts(void)
{
    TEST("n = 100003: counts beyond 32 bits")
    {
        size_t n = 100003;
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *z = malloc(n * sizeof *z);
        for (size_t i = 0; i < n; i++) {
            x[i] = (double)(i / 3);
            y[i] = (double)(i / 5);
            z[i] = -y[i];
        }
        int64_t n0 = (int64_t)n * (int64_t)(n - 1) / 2, n1 = 0, n2 = 0, n3 = 0;
        for (size_t i = 0; i < n;) { /* runs along i of equal x, y, and (x, y) */
            size_t j = i;
            while (j < n && x[j] == x[i]) j++;
            n1 += (int64_t)((j - i) * (j - i - 1) / 2);
            i = j;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && y[j] == y[i]) j++;
            n2 += (int64_t)((j - i) * (j - i - 1) / 2);
            i = j;
        }
        for (size_t i = 0; i < n;) {
            size_t j = i;
            while (j < n && x[j] == x[i] && y[j] == y[i]) j++;
            n3 += (int64_t)((j - i) * (j - i - 1) / 2);
            i = j;
        }
        double want = (double)(n0 - n1 - n2 + n3) / sqrt((double)(n0 - n1) * (double)(n0 - n2));
        double tau;
        CHECK(n0 > ((int64_t)1 << 32));
        CHECK(nr_kendall_tau_b(x, y, n, &tau, NULL) == NR_OK);
        CHECK_NEAR(tau, want, 1e-12);
        /* reversed y: every untied pair is discordant */
        CHECK(nr_kendall_tau_b(x, z, n, &tau, NULL) == NR_OK);
        CHECK_NEAR(tau, -want, 1e-12);
        /* shuffled pair order must not matter */
        nr_rng rng = nr_rng_seeded(7);
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = (size_t)nr_rng_below(&rng, i + 1);
            double t = x[i]; x[i] = x[j]; x[j] = t;
            t = y[i]; y[i] = y[j]; y[j] = t;
        }
        CHECK(nr_kendall_tau_b(x, y, n, &tau, NULL) == NR_OK);
        CHECK_NEAR(tau, want, 1e-12);
        free(x);
        free(y);
        free(z);
    }
}

static void test_topk(void)
{
    double p;
    TEST("top-k precision by hand")
    {
        /* k = ceil(0.4*5) = 2: pred top-2 = {0, 2}, truth top-2 = {0, 1} -> 1/2 */
        double pred[5] = {0.9, 0.1, 0.8, 0.3, 0.5}, truth[5] = {5, 4, 3, 2, 1};
        CHECK(nr_topk_precision(pred, truth, 5, 0.4, &p, NULL) == NR_OK && p == 0.5);
        /* k = ceil(0.3*5) = 2 as well; k = ceil(0.5*5) = 3: {0,2,4} vs {0,1,2} -> 2/3 */
        CHECK(nr_topk_precision(pred, truth, 5, 0.3, &p, NULL) == NR_OK && p == 0.5);
        CHECK(nr_topk_precision(pred, truth, 5, 0.5, &p, NULL) == NR_OK);
        CHECK_NEAR(p, 2.0 / 3.0, 1e-15);
        /* frac 0 -> k = 1 (max(1, .)): 0 vs 0 -> 1; frac 1 -> everything -> 1 */
        CHECK(nr_topk_precision(pred, truth, 5, 0.0, &p, NULL) == NR_OK && p == 1.0);
        CHECK(nr_topk_precision(pred, truth, 5, 1.0, &p, NULL) == NR_OK && p == 1.0);
        /* reversed prediction, k = 1: 0 */
        double rev[5] = {1, 2, 3, 4, 5};
        CHECK(nr_topk_precision(rev, truth, 5, 0.2, &p, NULL) == NR_OK && p == 0.0);
    }

    TEST("top-k ties at the cut: lower index first")
    {
        /* pred ties three ways; k = 2 takes indices {0, 1}, which are the true top-2 -> 1.
         * Breaking ties by higher index ({1, 2} or {2, 1}) would give 1/2. */
        double pred[4] = {1, 1, 1, 0}, truth[4] = {3, 2, 0, 0};
        CHECK(nr_topk_precision(pred, truth, 4, 0.5, &p, NULL) == NR_OK && p == 1.0);
        /* and the same rule on the truth side */
        double pred2[4] = {0, 0, 5, 6}, truth2[4] = {0, 0, 1, 1};
        /* k = 2: pred {3, 2}; truth ties {2, 3} (lower index first) -> 1 */
        CHECK(nr_topk_precision(pred2, truth2, 4, 0.5, &p, NULL) == NR_OK && p == 1.0);
        /* k = 3: pred {3, 2, 0}; truth {2, 3, 0} -> 1 ; with index 1 instead of 0 it'd be 2/3 */
        CHECK(nr_topk_precision(pred2, truth2, 4, 0.75, &p, NULL) == NR_OK && p == 1.0);
        double truth3[4] = {0, 0.5, 1, 1};
        CHECK(nr_topk_precision(pred2, truth3, 4, 0.75, &p, NULL) == NR_OK);
        CHECK_NEAR(p, 2.0 / 3.0, 1e-15);
    }

    TEST("top-k: frac*n rounding (0.07 * 100 is 7.000000000000001 in double)")
    {
        /* truth descending; pred the same except index 7 dropped to the bottom.
         * k = 7 -> 1.0; k = 8 would give 7/8. */
        double pred[100], truth[100];
        for (int i = 0; i < 100; i++) pred[i] = truth[i] = 100 - i;
        pred[7] = -1;
        CHECK(0.07 * 100 > 7.0); /* the premise */
        CHECK(nr_topk_precision(pred, truth, 100, 0.07, &p, NULL) == NR_OK && p == 1.0);
        CHECK(nr_topk_precision(pred, truth, 100, 0.08, &p, NULL) == NR_OK && p == 7.0 / 8.0);
        /* 0.051 * 100 = 5.1 -> k = 6: top-6 intact -> 1 */
        CHECK(nr_topk_precision(pred, truth, 100, 0.051, &p, NULL) == NR_OK && p == 1.0);
    }
}

static void test_correlate(void)
{
    nr_error err;
    nr_correlation c;
    TEST("correlate drops non-finite pairs")
    {
        nr_rng rng = nr_rng_seeded(99);
        double s[60], t[60], cs[60], ct[60];
        size_t m = 0;
        for (int i = 0; i < 60; i++) {
            t[i] = (double)nr_rng_below(&rng, 6);
            s[i] = t[i] + nr_rng_normal(&rng);
        }
        s[2] = NAN;
        t[2] = NAN;       /* one pair, both bad: counts once */
        s[5] = INFINITY;
        t[7] = -INFINITY;
        t[40] = NAN;
        for (int i = 0; i < 60; i++)
            if (isfinite(s[i]) && isfinite(t[i])) {
                cs[m] = s[i];
                ct[m] = t[i];
                m++;
            }
        nr_error_clear(&err);
        CHECK(nr_correlate(s, t, 60, &c, &err) == NR_OK);
        CHECK(err.code == NR_OK);
        CHECK(c.n == 56 && m == 56);
        CHECK(c.dropped == 4);
        double tau, rho, r, p5, p10;
        CHECK(nr_kendall_tau_b(cs, ct, m, &tau, NULL) == NR_OK && c.kendall == tau);
        CHECK(nr_spearman(cs, ct, m, &rho, NULL) == NR_OK && c.spearman == rho);
        CHECK(nr_pearson(cs, ct, m, &r, NULL) == NR_OK && c.pearson == r);
        CHECK(nr_topk_precision(cs, ct, m, 0.05, &p5, NULL) == NR_OK && c.top5 == p5);
        CHECK(nr_topk_precision(cs, ct, m, 0.10, &p10, NULL) == NR_OK && c.top10 == p10);
        CHECK_NEAR(c.kendall, ref_kendall(cs, ct, m, NULL), 1e-12);
        CHECK_NEAR(c.top5, ref_topk(cs, ct, m, 3), 0.0);  /* ceil(0.05*56) = 3 */
        CHECK_NEAR(c.top10, ref_topk(cs, ct, m, 6), 0.0); /* ceil(0.10*56) = 6 */
        CHECK(c.kendall > 0.3 && c.spearman > 0.4);
    }

    TEST("infinite scores ranked last / first (--inf-last) agree with a brute force on the raw values")
    {
        nr_rng rng = nr_rng_seeded(7);
        double s[80], t[80], raw[80];
        for (int i = 0; i < 80; i++) {
            t[i] = (double)nr_rng_below(&rng, 9);
            s[i] = t[i] + nr_rng_normal(&rng);
            if (i % 9 == 4) s[i] = -INFINITY; /* ties among the worst */
        }
        s[11] = INFINITY;
        s[12] = NAN;
        memcpy(raw, s, sizeof s);
        CHECK(nr_infinities_to_extremes(s, 80) == 10);
        CHECK(isnan(s[12]));
        nr_error_clear(&err);
        CHECK(nr_correlate(s, t, 80, &c, &err) == NR_OK && c.n == 79 && c.dropped == 1);
        /* the O(n^2) reference compares the raw values: -inf < every finite < +inf */
        double rs[80], rt[80];
        size_t m = 0;
        for (int i = 0; i < 80; i++)
            if (!isnan(raw[i])) rs[m] = raw[i], rt[m] = t[i], m++;
        CHECK_NEAR(c.kendall, ref_kendall(rs, rt, m, NULL), 1e-12);
        CHECK_NEAR(c.spearman, ref_spearman(rs, rt, m), 1e-12);
        CHECK_NEAR(c.top5, ref_topk(rs, rt, m, 4), 0.0);
        /* extremes of the finite range stay distinct from the stand-ins */
        double e[4] = {-INFINITY, -1e300, 1e300, INFINITY};
        CHECK(nr_infinities_to_extremes(e, 4) == 2 && e[0] < -1e300 && e[3] > 1e300 && isfinite(e[0]) && isfinite(e[3]));
        double none[2] = {-INFINITY, NAN};
        CHECK(nr_infinities_to_extremes(none, 2) == 0 && none[0] == -INFINITY);
    }

    TEST("correlate needs two usable pairs")
    {
        double s[3] = {1, NAN, 3}, t[3] = {1, 2, INFINITY};
        nr_error_clear(&err);
        CHECK(nr_correlate(s, t, 3, &c, &err) == NR_ERR_INVALID);
        CHECK(err.code == NR_ERR_INVALID && err.text[0] != '\0');
        CHECK(c.n == 1 && c.dropped == 2);
        CHECK(nr_correlate(s, t, 0, &c, NULL) == NR_ERR_INVALID);
        CHECK(nr_correlate(NULL, NULL, 0, &c, NULL) == NR_ERR_INVALID && c.n == 0);
        CHECK(nr_correlate(s, t, 3, NULL, NULL) == NR_ERR_INVALID);
        /* two usable pairs are enough (tau = 1, top-k = 1) */
        double s2[4] = {NAN, 1, 2, 0}, t2[4] = {0, 10, 20, NAN};
        CHECK(nr_correlate(s2, t2, 4, &c, NULL) == NR_OK && c.n == 2 && c.dropped == 2);
        CHECK(c.kendall == 1.0 && c.top5 == 1.0 && c.top10 == 1.0);
        CHECK_NEAR(c.spearman, 1.0, 1e-15);
        /* constant truth: NaN correlations, still OK */
        double t3[4] = {2, 2, 2, 2}, s3[4] = {1, 2, 3, 4};
        CHECK(nr_correlate(s3, t3, 4, &c, NULL) == NR_OK && isnan(c.kendall) &&
              isnan(c.spearman) && isnan(c.pearson));
    }
}

static void test_errors(void)
{
    nr_error err;
    double v;
    double one[1] = {1}, a[3] = {1, 2, 3}, bad[3] = {1, NAN, 3}, inf[3] = {1, 2, -INFINITY};
    double rk[3];
    TEST("n < 2 is invalid")
    {
        nr_error_clear(&err);
        CHECK(nr_kendall_tau_b(one, one, 1, &v, &err) == NR_ERR_INVALID);
        CHECK(err.code == NR_ERR_INVALID && strstr(err.text, "2") != NULL);
        CHECK(nr_kendall_tau_b(NULL, NULL, 0, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_spearman(one, one, 1, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_spearman(NULL, NULL, 0, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_pearson(one, one, 1, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_pearson(NULL, NULL, 0, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_rank_average(NULL, 0, rk, NULL) == NR_ERR_INVALID);
        CHECK(nr_topk_precision(one, one, 1, 0.1, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_topk_precision(NULL, NULL, 0, 0.1, &v, NULL) == NR_ERR_INVALID);
    }

    TEST("non-finite input is a numeric error")
    {
        nr_error_clear(&err);
        CHECK(nr_kendall_tau_b(a, bad, 3, &v, &err) == NR_ERR_NUMERIC && isnan(v));
        CHECK(err.code == NR_ERR_NUMERIC && strstr(err.text, "y[1]") != NULL);
        CHECK(nr_kendall_tau_b(inf, a, 3, &v, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_spearman(bad, a, 3, &v, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_spearman(a, inf, 3, &v, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_pearson(a, bad, 3, &v, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_pearson(inf, a, 3, &v, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_rank_average(bad, 3, rk, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_topk_precision(a, inf, 3, 0.5, &v, NULL) == NR_ERR_NUMERIC);
        /* first error wins */
        CHECK(nr_pearson(one, one, 1, &v, &err) == NR_ERR_INVALID);
        CHECK(err.code == NR_ERR_NUMERIC && strstr(err.text, "kendall") != NULL);
    }

    TEST("bad fraction and NULL outputs")
    {
        CHECK(nr_topk_precision(a, a, 3, -0.1, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_topk_precision(a, a, 3, 1.5, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_topk_precision(a, a, 3, NAN, &v, NULL) == NR_ERR_INVALID);
        CHECK(nr_topk_precision(a, a, 3, 0.5, NULL, NULL) == NR_ERR_INVALID);
        CHECK(nr_kendall_tau_b(a, a, 3, NULL, NULL) == NR_ERR_INVALID);
        CHECK(nr_spearman(a, a, 3, NULL, NULL) == NR_ERR_INVALID);
        CHECK(nr_pearson(a, a, 3, NULL, NULL) == NR_ERR_INVALID);
        CHECK(nr_rank_average(a, 3, NULL, NULL) == NR_ERR_INVALID);
        CHECK(nr_kendall_tau_b(NULL, a, 3, &v, NULL) == NR_ERR_INVALID);
    }
}

int main(void)
{
    test_hand_cases();
    test_random_vs_reference();
    test_large_counts();
    test_topk();
    test_correlate();
    test_errors();
    return TEST_REPORT();
}
