/* Rank statistics on one NAS-Bench-201-sized problem (15,625 (score, accuracy) pairs).
 *
 * Times (median of several repetitions) Kendall tau-b by Knight's O(n log n) algorithm and,
 * in the same run, the O(n^2) all-pairs count as its baseline; Spearman against a naive O(n^2)
 * ranking baseline; and nr_correlate (all statistics at once).  One JSON line per measurement
 * (DESIGN.md section 10); "ratio" is value / baseline value (< 1: faster than the baseline).
 *
 *   bench_stats [--quick]     --quick: fewer repetitions, for a smoke run
 */
#include "nasrank/rng.h"
#include "nasrank/stats.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static int sgn(double a, double b) { return (a > b) - (a < b); }

/* O(n^2) tau-b: every pair classified once. */
static double kendall_bruteforce(const double *x, const double *y, size_t n)
{
    int64_t s = 0, tx = 0, ty = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            int a = sgn(x[i], x[j]), b = sgn(y[i], y[j]);
            s += a * b;
            tx += a == 0;
            ty += b == 0;
        }
    int64_t n0 = (int64_t)(n * (n - 1) / 2);
    return (double)s / sqrt((double)(n0 - tx) * (double)(n0 - ty));
}

/* O(n^2) average ranks, then Pearson. */
static double spearman_naive(const double *x, const double *y, size_t n, double *rx, double *ry)
{
    for (int side = 0; side < 2; side++) {
        const double *v = side ? y : x;
        double *r = side ? ry : rx;
        for (size_t i = 0; i < n; i++) {
            size_t less = 0, eq = 0;
            for (size_t j = 0; j < n; j++) {
                less += v[j] < v[i];
                eq += v[j] == v[i];
            }
            r[i] = (double)less + 0.5 * (double)(eq + 1);
        }
    }
    double rho = NAN;
    nr_pearson(rx, ry, n, &rho, NULL);
    return rho;
}

static void emit(const char *metric, double value, size_t n, const char *baseline,
                 double base_value)
{
    printf("{\"bench\":\"stats\",\"metric\":\"%s\",\"value\":%.6g,\"unit\":\"s\",\"n\":%zu,"
           "\"threads\":1,",
           metric, value, n);
    if (baseline)
        printf("\"baseline\":\"%s\",\"baseline_value\":%.6g,\"ratio\":%.6g}\n", baseline,
               base_value, value / base_value);
    else
        printf("\"baseline\":null,\"ratio\":null}\n");
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quick") == 0) quick = 1;
        else {
            fprintf(stderr, "usage: %s [--quick]\n", argv[0]);
            return 2;
        }
    }
    const size_t n = 15625;
    const int reps = quick ? 5 : 31, base_reps = quick ? 1 : 3;

    /* score ~ N(0,1); accuracy = 0.6 score + noise, rounded to 0.001 (ties, like benchmark
     * accuracies) */
    double *x = malloc(4 * n * sizeof *x);
    if (!x) return 1;
    double *y = x + n, *rx = x + 2 * n, *ry = x + 3 * n;
    nr_rng rng = nr_rng_stream(1, "bench_stats");
    for (size_t i = 0; i < n; i++) {
        x[i] = nr_rng_normal(&rng);
        y[i] = round(1000.0 * (0.6 * x[i] + 0.8 * nr_rng_normal(&rng))) / 1000.0;
    }

    double t[64], tau = NAN, tau_bf = NAN, rho = NAN, rho_naive = NAN;
    nr_error err;
    nr_error_clear(&err);

    for (int r = 0; r < base_reps; r++) {
        double t0 = now();
        tau_bf = kendall_bruteforce(x, y, n);
        t[r] = now() - t0;
    }
    double kendall_bf = median(t, base_reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (nr_kendall_tau_b(x, y, n, &tau, &err) != NR_OK) goto fail;
        t[r] = now() - t0;
    }
    double kendall = median(t, reps);
    emit("kendall_bruteforce_seconds", kendall_bf, n, NULL, 0);
    emit("kendall_seconds", kendall, n, "kendall_bruteforce_n2", kendall_bf);

    for (int r = 0; r < base_reps; r++) {
        double t0 = now();
        rho_naive = spearman_naive(x, y, n, rx, ry);
        t[r] = now() - t0;
    }
    double spearman_bf = median(t, base_reps);
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (nr_spearman(x, y, n, &rho, &err) != NR_OK) goto fail;
        t[r] = now() - t0;
    }
    emit("spearman_seconds", median(t, reps), n, "spearman_naive_ranks_n2", spearman_bf);

    nr_correlation c;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        if (nr_correlate(x, y, n, &c, &err) != NR_OK) goto fail;
        t[r] = now() - t0;
    }
    emit("correlate_seconds", median(t, reps), n, NULL, 0);

    if (fabs(tau - tau_bf) > 1e-12 || fabs(rho - rho_naive) > 1e-12) {
        fprintf(stderr, "bench_stats: mismatch: tau %.17g vs %.17g, rho %.17g vs %.17g\n", tau,
                tau_bf, rho, rho_naive);
        free(x);
        return 1;
    }
    fprintf(stderr, "# tau-b %.6f  spearman %.6f  pearson %.6f  top5 %.3f  top10 %.3f\n",
            c.kendall, c.spearman, c.pearson, c.top5, c.top10);
    free(x);
    return 0;

fail:;
    char buf[800];
    fprintf(stderr, "bench_stats: %s\n", nr_error_format(&err, buf, sizeof buf));
    free(x);
    return 1;
}
