/* Shared helpers for the benches: clock, median, peak RSS, one JSON line per measurement
 * (DESIGN.md section 10).  Header-only; each bench is one translation unit. */
#ifndef NASRANK_BENCH_UTIL_H
#define NASRANK_BENCH_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static inline double bench_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static inline int bench_cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of v (sorted in place). */
static inline double bench_median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, bench_cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* Peak resident set size so far (VmHWM), in MB; -1 when unknown. */
static inline double bench_peak_rss_mb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double mb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "VmHWM:", 6)) mb = atof(line + 6) / 1024.0;
    if (f) fclose(f);
    return mb;
}

static inline int bench_has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], flag)) return 1;
    return 0;
}

/* {"bench": B, "metric": M, "value": V, "unit": U, "threads": T, "n": N,
 *  "baseline": NAME or null, "ratio": R or null} */
static inline void bench_json(const char *bench, const char *metric, double value, const char *unit,
                              int threads, long n, const char *baseline, double ratio)
{
    printf("{\"bench\": \"%s\", \"metric\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", \"threads\": %d, "
           "\"n\": %ld, \"baseline\": ",
           bench, metric, value, unit, threads, n);
    if (baseline) printf("\"%s\", \"ratio\": %.6g}\n", baseline, ratio);
    else printf("null, \"ratio\": null}\n");
    fflush(stdout);
}

#endif
