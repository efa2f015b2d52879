/* Bench: loading the NAS-Bench-201 table (15,625 rows x 15 columns) and looking archs up.
 *
 * JSON lines (DESIGN.md §10):
 *   load_seconds_median    nr_table_load, median of n loads; baseline = reading the file's
 *                          bytes into memory (same run), ratio = load / read
 *   csv_seconds_median     nr_csv_read alone (libcsv + cell storage), same baseline
 *   load_peak_rss_increase VmHWM growth over the first load, MB; baseline = file size
 *   lookup_string_ns       nr_table_lookup by arch string, per lookup over all rows;
 *                          baseline = nr_arch_parse of the same strings
 * Targets: load < 0.150 s and < 30 MB.  --quick: fewer repetitions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nasrank/csv.h"
#include "nasrank/paths.h"
#include "nasrank/table.h"

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Peak resident set size so far, kB (0 when /proc is unavailable). */
static long vm_hwm_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f) return 0;
    char line[256];
    long kb = 0;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmHWM: %ld kB", &kb) == 1) break;
    fclose(f);
    return kb;
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

/* Reads the whole file (the baseline); returns its size, 0 on failure. */
static size_t read_bytes(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    size_t got = buf ? fread(buf, 1, (size_t)n, f) : 0;
    fclose(f);
    volatile char sink = got ? buf[got - 1] : 0;
    (void)sink;
    free(buf);
    return got;
}

static void emit(const char *metric, double value, const char *unit, int n,
                 const char *baseline, double base_value)
{
    printf("{\"bench\": \"table\", \"metric\": \"%s\", \"value\": %.6g, \"unit\": \"%s\", "
           "\"threads\": 1, \"n\": %d, \"baseline\": \"%s\", \"baseline_value\": %.6g, "
           "\"ratio\": %.4g}\n",
           metric, value, unit, n, baseline, base_value,
           base_value > 0 ? value / base_value : 0.0);
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
    const int reps = quick ? 3 : 7;
    char path[4096], msg[800];
    nr_error err;
    nr_error_clear(&err);
    if (nr_data_find("nb201/nb201_200ep.csv", path, sizeof path, &err) != NR_OK) {
        fprintf(stderr, "bench_table: %s\n", nr_error_format(&err, msg, sizeof msg));
        return 1;
    }

    /* Peak memory of the first load, before anything else touches the heap. */
    long hwm0 = vm_hwm_kb();
    nr_table *t = NULL;
    if (nr_table_load(path, &t, &err) != NR_OK) {
        fprintf(stderr, "bench_table: %s\n", nr_error_format(&err, msg, sizeof msg));
        return 1;
    }
    long hwm1 = vm_hwm_kb();
    nr_table_free(t);

    double *tl = malloc((size_t)reps * sizeof *tl), *tr = malloc((size_t)reps * sizeof *tr),
           *tc = malloc((size_t)reps * sizeof *tc);
    size_t file_size = 0;
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        file_size = read_bytes(path);
        double t1 = now();
        nr_csv *csv = NULL;
        if (nr_csv_read(path, &csv, &err) != NR_OK) return 1;
        nr_csv_free(csv);
        double t2 = now();
        if (nr_table_load(path, &t, &err) != NR_OK) return 1;
        double t3 = now();
        nr_table_free(t);
        tr[r] = t1 - t0;
        tc[r] = t2 - t1;
        tl[r] = t3 - t2;
    }
    double read_s = median(tr, reps);
    emit("load_seconds_median", median(tl, reps), "s", reps, "read_file_bytes", read_s);
    emit("csv_seconds_median", median(tc, reps), "s", reps, "read_file_bytes", read_s);
    emit("load_peak_rss_increase", (double)(hwm1 - hwm0) / 1024.0, "MB", 1, "file_size_mb",
         (double)file_size / (1024.0 * 1024.0));

    /* Lookups by arch string over every row. */
    if (nr_table_load(path, &t, &err) != NR_OK) return 1;
    char(*strs)[NR_ARCH_STR_MAX] = malloc((size_t)NR_NUM_ARCHS * sizeof *strs);
    for (long i = 0; i < NR_NUM_ARCHS; i++)
        nr_arch_format(&nr_table_by_index(t, i)->arch, strs[i], NR_ARCH_STR_MAX);
    for (int r = 0; r < reps; r++) {
        long hits = 0;
        double t0 = now();
        for (long i = 0; i < NR_NUM_ARCHS; i++) {
            nr_arch a;
            hits += nr_arch_parse(strs[i], &a, NULL) == NR_OK;
        }
        double t1 = now();
        for (long i = 0; i < NR_NUM_ARCHS; i++) hits += nr_table_lookup(t, strs[i]) != NULL;
        double t2 = now();
        if (hits != 2L * NR_NUM_ARCHS) {
            fprintf(stderr, "bench_table: lookup failed\n");
            return 1;
        }
        tr[r] = (t1 - t0) * 1e9 / NR_NUM_ARCHS;
        tl[r] = (t2 - t1) * 1e9 / NR_NUM_ARCHS;
    }
    emit("lookup_string_ns", median(tl, reps), "ns", reps * NR_NUM_ARCHS, "nr_arch_parse",
         median(tr, reps));
    nr_table_free(t);
    free(strs);
    free(tl);
    free(tr);
    free(tc);
    return 0;
}
