/* Zero-cost proxy fidelity, cross-check and speed (issue 7; not run in CI: hours at full size).
 *
 * 1. Fidelity: the fixed seeded sample of bench_naswot_fidelity (distinct benchmark indices,
 *    partial Fisher-Yates with seed 0, 1,000 archs), every proxy (include/nasrank/proxy.h)
 *    with weights and images of seed 1 (NASWOT batch 128, gradient proxies the first 64),
 *    on CIFAR-10 and CIFAR-100: Spearman and Kendall tau-b vs the 200-epoch test accuracy,
 *    beside the published |Spearman| over all NB201 archs (zero-cost-nas, Abdelfattah et al.
 *    2021); mean-rank ensembles (the default members, and a few others for information).
 *    -inf scores (singular NASWOT kernel, constant Jacobian) rank last.
 * 2. Cross-check with an independent implementation: NASLib's proxy values for ~725 archs per
 *    dataset (datasets/nb201/nb201_naslib_zc_subset.csv): Spearman between nasrank's and
 *    NASLib's values per proxy on the same archs, and each one's Spearman vs test accuracy.
 *    ImageNet16-120 (no images here): the data-free synflow and the counts only.
 * 3. Speed: seconds per arch for each proxy alone and for the whole suite (medians over the
 *    first --timing-archs archs of the sample, CIFAR-10), wall and CPU, against NASWOT alone.
 *
 *   bench_proxy_fidelity [--quick] [--archs N] [--threads T] [--cache PREFIX] [--no-naslib]
 *                        [--timing-archs K] [--datasets cifar10,cifar100,imagenet16]
 *                        [--naslib-archs M]
 *   --quick: 30 archs, 20 NASLib archs per dataset, 3 timing archs (a smoke run: ~2 min of
 *   CPU; the full run is ~1 h of CPU on one thread).
 *   --naslib-archs M: only the first M of NASLib's archs per dataset (CSV order, which is
 *   benchmark-index order, itself a random shuffle: an unbiased subset).
 *   --cache PREFIX: per-arch results are appended to PREFIX_<set>.csv as they are computed
 *   and reused by later runs with the same PREFIX (a killed run continues where it stopped).
 * JSON lines on stdout (DESIGN.md section 10); the tables on stderr.
 */
#include <math.h>
#include <sys/resource.h>

#include "bench_util.h"
#include "nasrank.h"
#include "ops/ops.h"

#define NB 128 /* NASWOT batch */
#define PB 64  /* gradient proxies' batch (the reference's) */

/* published |Spearman| over all NB201 archs: cifar10, cifar100, ImageNet16-120 */
static const struct { int id; double rho[3]; } g_published[] = {
    {NR_PROXY_SYNFLOW, {.737, .763, .751}}, {NR_PROXY_JACOB_COV, {.731, .704, .701}},
    {NR_PROXY_SNIP, {.596, .637, .578}},    {NR_PROXY_GRAD_NORM, {.594, .637, .578}},
    {NR_PROXY_GRASP, {.514, .547, .549}},   {NR_PROXY_FISHER, {.36, .385, .327}},
};

static double published(int id, int d)
{
    for (size_t i = 0; i < sizeof g_published / sizeof *g_published; i++)
        if (g_published[i].id == id) return g_published[i].rho[d];
    return NAN;
}

static const char *naslib_col(int id)
{
    static const char *c[NR_NUM_PROXIES] = {"nwot", "synflow", "snip", "grad_norm", "grasp", "fisher",
                                            "jacov", "params", "flops"};
    return c[id];
}

static long arg_long(int argc, char **argv, const char *flag, long def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], flag)) return atol(argv[i + 1]);
    return def;
}

static const char *arg_str(int argc, char **argv, const char *flag, const char *def)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], flag)) return argv[i + 1];
    return def;
}

/* name is one of the comma-separated items of list */
static int has_item(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        const char *e = strchr(p, ',');
        size_t l = e ? (size_t)(e - p) : strlen(p);
        if (l == n && !strncmp(p, name, n)) return 1;
        p = e ? e + 1 : NULL;
    }
    return 0;
}

static double cpu_now(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return (double)u.ru_utime.tv_sec + 1e-6 * (double)u.ru_utime.tv_usec + (double)u.ru_stime.tv_sec +
           1e-6 * (double)u.ru_stime.tv_usec;
}

static int die(const nr_error *e)
{
    char buf[1200];
    fprintf(stderr, "bench_proxy_fidelity: %s\n", nr_error_format(e, buf, sizeof buf));
    return 1;
}

/* ---- per-arch results with an append-only cache ---- */

typedef struct result {
    int done;
    double v[NR_NUM_PROXIES], s[NR_NUM_PROXIES], total;
} result;

/* Lines "index,v0..v8,s0..s8,total" (values with %.17g; -inf / nan as strtod reads them). */
static void cache_load(const char *path, result *by_index)
{
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) return;
    char line[2048];
    while (fgets(line, sizeof line, f)) {
        if (!strchr(line, '\n')) break; /* torn last line */
        char *p = line, *end;
        long idx = strtol(p, &end, 10);
        if (end == p || idx < 0 || idx >= NR_NUM_ARCHS) continue;
        result r = {1, {0}, {0}, 0};
        int ok = 1;
        for (int k = 0; k < 2 * NR_NUM_PROXIES + 1 && ok; k++) {
            if (*end != ',') ok = 0;
            p = end + 1;
            double x = strtod(p, &end);
            if (end == p) ok = 0;
            if (k < NR_NUM_PROXIES) r.v[k] = x;
            else if (k < 2 * NR_NUM_PROXIES) r.s[k - NR_NUM_PROXIES] = x;
            else r.total = x;
        }
        if (ok) by_index[idx] = r;
    }
    fclose(f);
}

static void cache_append(FILE *f, long idx, const result *r)
{
    if (!f) return;
    fprintf(f, "%ld", idx);
    for (int k = 0; k < NR_NUM_PROXIES; k++) fprintf(f, ",%.17g", r->v[k]);
    for (int k = 0; k < NR_NUM_PROXIES; k++) fprintf(f, ",%.6g", r->s[k]);
    fprintf(f, ",%.6g\n", r->total);
    fflush(f);
}

/* Scores archs idx[0..n) (benchmark indices) into by_index, skipping cached ones. */
static int score_set(const char *label, const nr_table *t, nr_proxy_scorer *ps, unsigned mask,
                     const long *idx, int n, result *by_index, const char *cache_prefix)
{
    char path[4096];
    FILE *cf = NULL;
    if (cache_prefix) {
        snprintf(path, sizeof path, "%s_%s.csv", cache_prefix, label);
        cache_load(path, by_index);
        cf = fopen(path, "a");
    }
    int todo = 0;
    for (int k = 0; k < n; k++) todo += !by_index[idx[k]].done;
    fprintf(stderr, "# %s: %d archs, %d to score\n", label, n, todo);
    double t0 = bench_now();
    int done = 0;
    for (int k = 0; k < n; k++) {
        result *r = &by_index[idx[k]];
        if (r->done) continue;
        nr_proxy_scores sc;
        nr_error err = {0};
        if (nr_proxy_score(ps, &nr_table_by_index(t, idx[k])->arch, mask, &sc, &err)) {
            if (cf) fclose(cf);
            return die(&err);
        }
        r->done = 1;
        memcpy(r->v, sc.value, sizeof r->v);
        memcpy(r->s, sc.seconds, sizeof r->s);
        r->total = sc.total_seconds;
        cache_append(cf, idx[k], r);
        if (++done % 50 == 0)
            fprintf(stderr, "#   %s: %d/%d, %.2f s/arch\n", label, done, todo, (bench_now() - t0) / done);
    }
    if (cf) fclose(cf);
    return 0;
}

/* -inf ranks last: replaced by (lowest finite) - 1; NaN stays (dropped by nr_correlate). */
static void rank_last(double *x, int n)
{
    double lo = INFINITY;
    for (int i = 0; i < n; i++)
        if (isfinite(x[i]) && x[i] < lo) lo = x[i];
    for (int i = 0; i < n; i++)
        if (x[i] == -INFINITY) x[i] = isfinite(lo) ? lo - 1.0 : -1.0;
}

static nr_correlation correlate(double *score, const double *truth, int n)
{
    nr_correlation c = {0};
    nr_error err = {0};
    rank_last(score, n);
    c.kendall = c.spearman = NAN;
    nr_correlate(score, truth, (size_t)n, &c, &err);
    return c;
}

/* Mean-rank ensemble of members over n archs. */
static void ensemble(const result *by_index, const long *idx, int n, unsigned members, double *out)
{
    int m = 0, ids[NR_NUM_PROXIES];
    for (int p = 0; p < NR_NUM_PROXIES; p++)
        if (members & NR_PROXY_BIT(p)) ids[m++] = p;
    double *x = malloc((size_t)n * m * sizeof *x);
    for (int k = 0; k < n; k++)
        for (int j = 0; j < m; j++) x[(size_t)k * m + j] = by_index[idx[k]].v[ids[j]];
    nr_error err = {0};
    nr_rank_ensemble(x, (size_t)n, (size_t)m, (size_t)m, out, &err);
    free(x);
}

static void members_name(unsigned mask, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int p = 0; p < NR_NUM_PROXIES; p++)
        if (mask & NR_PROXY_BIT(p)) {
            if (buf[0]) strncat(buf, "+", n - strlen(buf) - 1);
            strncat(buf, nr_proxy_info_get(p)->name, n - strlen(buf) - 1);
        }
}

#define BIT(p) NR_PROXY_BIT(NR_PROXY_##p)

int main(int argc, char **argv)
{
    int quick = bench_has_flag(argc, argv, "--quick");
    int narch = (int)arg_long(argc, argv, "--archs", quick ? 30 : 1000);
    int threads = (int)arg_long(argc, argv, "--threads", 1);
    int ntime = (int)arg_long(argc, argv, "--timing-archs", quick ? 3 : 20);
    int nnaslib_max = (int)arg_long(argc, argv, "--naslib-archs", quick ? 20 : 100000);
    int naslib = !bench_has_flag(argc, argv, "--no-naslib");
    const char *cache = arg_str(argc, argv, "--cache", NULL);
    const char *dsets = arg_str(argc, argv, "--datasets", "cifar10,cifar100,imagenet16");
    if (narch < 10 || narch > NR_NUM_ARCHS || threads < 1 || ntime < 0 || ntime > narch || ntime > 64)
        return fprintf(stderr, "bad arguments\n"), 2;
    nr_threads_set(threads);
    nr_error err = {0};
    nr_table *t = NULL;
    if (nr_table_load(NULL, &t, &err)) return die(&err);
    long *sample = malloc(NR_NUM_ARCHS * sizeof *sample);
    for (int i = 0; i < NR_NUM_ARCHS; i++) sample[i] = i;
    nr_rng r = nr_rng_seeded(0);
    for (int i = 0; i < narch; i++) {
        int j = i + (int)nr_rng_below(&r, (uint64_t)(NR_NUM_ARCHS - i));
        long tmp = sample[i];
        sample[i] = sample[j], sample[j] = tmp;
    }
    nr_csv *zc = NULL;
    char zpath[4096];
    if (naslib && (nr_data_find("nb201/nb201_naslib_zc_subset.csv", zpath, sizeof zpath, &err) ||
                   nr_csv_read(zpath, &zc, &err)))
        return die(&err);
    const unsigned all = NR_PROXY_ALL;
    const unsigned ens_sets[] = {nr_proxy_default_ensemble(), BIT(NASWOT) | BIT(SYNFLOW) | BIT(SNIP) | BIT(JACOB_COV),
                                 BIT(SYNFLOW) | BIT(NASWOT),
                                 BIT(SYNFLOW) | BIT(JACOB_COV) | BIT(NASWOT),
                                 BIT(SYNFLOW) | BIT(JACOB_COV) | BIT(SNIP),
                                 all & ~(BIT(GRASP) | BIT(FISHER))};
    const int nens = sizeof ens_sets / sizeof *ens_sets;
    const struct { const char *name, *file; nr_image_format fmt; nr_dataset ds; int d; } sets[2] = {
        {"cifar10", "cifar10/data_batch_1_head4000.bin", NR_CIFAR10, NR_DS_CIFAR10, 0},
        {"cifar100", "cifar100/train_head486.bin", NR_CIFAR100, NR_DS_CIFAR100, 1}};
    result *res = calloc(NR_NUM_ARCHS, sizeof *res), *zres = calloc(NR_NUM_ARCHS, sizeof *zres);
    double *score = malloc(NR_NUM_ARCHS * sizeof *score), *truth = malloc(NR_NUM_ARCHS * sizeof *truth);
    double *other = malloc(NR_NUM_ARCHS * sizeof *other);
    long *zidx = malloc(NR_NUM_ARCHS * sizeof *zidx);
    float *x = malloc((size_t)NB * 3 * 32 * 32 * sizeof *x);
    int labels[NB];
    char m[512], line[4096];

    for (int si = 0; si < 2; si++) {
        if (!has_item(dsets, sets[si].name)) continue;
        int d = sets[si].d;
        char path[4096];
        nr_images *im = NULL;
        if (nr_data_find(sets[si].file, path, sizeof path, &err) || nr_images_read(path, sets[si].fmt, &im, &err))
            return die(&err);
        nr_macro_config cfg = nr_macro_default();
        cfg.num_classes = d ? 100 : 10;
        nr_norm norm = d ? nr_norm_cifar100() : nr_norm_cifar10();
        size_t pick[NB];
        if (nr_images_choose(im, NB, 1, pick, &err) || nr_images_batch(im, pick, NB, &norm, 32, x, &err)) return die(&err);
        for (int b = 0; b < NB; b++) labels[b] = im->labels[pick[b]];
        nr_proxy_data pd = {x, labels, PB, x, NB, NR_NASWOT_REFERENCE};
        nr_proxy_scorer *ps = NULL;
        if (nr_proxy_scorer_create(&cfg, 1, &pd, &ps, &err)) return die(&err);

        /* ---- 3. speed (CIFAR-10 only) ---- */
        if (d == 0 && ntime > 0) {
            double wall[NR_NUM_PROXIES + 2][64], cpu[NR_NUM_PROXIES + 2][64];
            int nt = ntime > 64 ? 64 : ntime;
            nr_proxy_scores sc;
            nr_proxy_score(ps, &nr_table_by_index(t, sample[0])->arch, all, &sc, &err); /* warm */
            for (int k = 0; k < nt; k++) {
                const nr_arch *a = &nr_table_by_index(t, sample[k])->arch;
                for (int p = 0; p < NR_NUM_PROXIES + 2; p++) {
                    unsigned mask = p < NR_NUM_PROXIES ? NR_PROXY_BIT(p) : p == NR_NUM_PROXIES ? all : all & ~BIT(GRASP);
                    double w0 = bench_now(), c0 = cpu_now();
                    if (nr_proxy_score(ps, a, mask, &sc, &err)) return die(&err);
                    wall[p][k] = bench_now() - w0;
                    cpu[p][k] = cpu_now() - c0;
                }
            }
            double mw[NR_NUM_PROXIES + 2], mc[NR_NUM_PROXIES + 2];
            for (int p = 0; p < NR_NUM_PROXIES + 2; p++) mw[p] = bench_median(wall[p], nt), mc[p] = bench_median(cpu[p], nt);
            fprintf(stderr, "\n# speed: seconds per arch (median of %d archs, CIFAR-10, %d thread%s), alone and as\n"
                            "# a share of the whole suite; ratio = to NASWOT alone (batch %d; gradient proxies %d)\n",
                    nt, threads, threads > 1 ? "s" : "", NB, PB);
            fprintf(stderr, "# %-22s %9s %9s %8s\n", "proxy", "wall", "cpu", "cpu/naswot");
            for (int p = 0; p < NR_NUM_PROXIES + 2; p++) {
                const char *name = p < NR_NUM_PROXIES ? nr_proxy_info_get(p)->name : p == NR_NUM_PROXIES ? "suite (all)" : "suite without grasp";
                double ratio = mc[p] / mc[NR_PROXY_NASWOT];
                fprintf(stderr, "# %-22s %9.3f %9.3f %8.2fx\n", name, mw[p], mc[p], ratio);
                char nm[64];
                snprintf(nm, sizeof nm, "%s", name);
                for (char *q = nm; *q; q++)
                    if (*q == ' ' || *q == '(' || *q == ')') *q = '_';
                snprintf(m, sizeof m, "seconds_per_arch_%s_wall", nm);
                bench_json("proxy_fidelity", m, mw[p], "s", threads, nt, "naswot", mw[p] / mw[NR_PROXY_NASWOT]);
                snprintf(m, sizeof m, "seconds_per_arch_%s_cpu", nm);
                bench_json("proxy_fidelity", m, mc[p], "s", threads, nt, "naswot", ratio);
            }
            /* the suite's own split: charged seconds per proxy */
            double share[NR_NUM_PROXIES][64];
            for (int k = 0; k < nt; k++) {
                if (nr_proxy_score(ps, &nr_table_by_index(t, sample[k])->arch, all, &sc, &err)) return die(&err);
                for (int p = 0; p < NR_NUM_PROXIES; p++) share[p][k] = sc.seconds[p];
            }
            fprintf(stderr, "# within the suite (wall, shared passes split evenly):");
            for (int p = 0; p < NR_NUM_PROXIES; p++) {
                double v = bench_median(share[p], nt);
                fprintf(stderr, " %s %.3f", nr_proxy_info_get(p)->name, v);
                snprintf(m, sizeof m, "suite_share_seconds_%s", nr_proxy_info_get(p)->name);
                bench_json("proxy_fidelity", m, v, "s", threads, nt, NULL, 0);
            }
            fprintf(stderr, "\n");
        }

        /* ---- 1. fidelity on the sample ---- */
        snprintf(line, sizeof line, "sample%d_%s_seed1", narch, sets[si].name);
        if (score_set(line, t, ps, all, sample, narch, res, cache)) return 1;
        for (int k = 0; k < narch; k++) truth[k] = nr_table_acc(nr_table_by_index(t, sample[k]), sets[si].ds, NR_METRIC_TEST, 200);
        fprintf(stderr, "\n# %s, %d sampled archs, vs 200-epoch test accuracy\n", sets[si].name, narch);
        fprintf(stderr, "# %-52s %9s %9s %12s %8s\n", "proxy", "spearman", "kendall", "published|r|", "diff");
        double best = 0;
        for (int p = 0; p < NR_NUM_PROXIES; p++) {
            for (int k = 0; k < narch; k++) score[k] = res[sample[k]].v[p];
            nr_correlation c = correlate(score, truth, narch);
            double pub = published(p, d);
            if (p != NR_PROXY_PARAMS && p != NR_PROXY_FLOPS && fabs(c.spearman) > best) best = fabs(c.spearman);
            char diff[16] = "-";
            if (!isnan(pub)) snprintf(diff, sizeof diff, "%+.3f", fabs(c.spearman) - pub);
            fprintf(stderr, "# %-52s %9.3f %9.3f %12s %8s\n", nr_proxy_info_get(p)->name, c.spearman, c.kendall,
                    isnan(pub) ? "-" : (snprintf(m, sizeof m, "%.3f", pub), m), diff);
            snprintf(m, sizeof m, "%s_spearman_%s", sets[si].name, nr_proxy_info_get(p)->name);
            char base[32];
            snprintf(base, sizeof base, "published_%.3f", pub);
            bench_json("proxy_fidelity", m, c.spearman, "rho", threads, (long)c.n, isnan(pub) ? NULL : base,
                       fabs(c.spearman) / pub);
            snprintf(m, sizeof m, "%s_kendall_%s", sets[si].name, nr_proxy_info_get(p)->name);
            bench_json("proxy_fidelity", m, c.kendall, "tau", threads, (long)c.n, NULL, 0);
        }
        for (int e = 0; e < nens; e++) {
            ensemble(res, sample, narch, ens_sets[e], score);
            nr_correlation c = correlate(score, truth, narch);
            char nm[160], lab[200];
            members_name(ens_sets[e], nm, sizeof nm);
            snprintf(lab, sizeof lab, "%sensemble %s", e ? "" : "DEFAULT ", nm);
            fprintf(stderr, "# %-52.52s %9.3f %9.3f %12s %+8.3f (vs best single proxy)\n", lab, c.spearman, c.kendall,
                    "-", c.spearman - best);
            snprintf(m, sizeof m, "%s_spearman_ensemble_%s", sets[si].name, nm);
            bench_json("proxy_fidelity", m, c.spearman, "rho", threads, (long)c.n, "best_single_proxy", c.spearman / best);
            snprintf(m, sizeof m, "%s_kendall_ensemble_%s", sets[si].name, nm);
            bench_json("proxy_fidelity", m, c.kendall, "tau", threads, (long)c.n, NULL, 0);
        }

        /* ---- 2. NASLib cross-check ---- */
        if (zc) {
            long cds = nr_csv_find_col(zc, "dataset"), cix = nr_csv_find_col(zc, "index");
            int nz = 0;
            for (size_t i = 0; i < nr_csv_nrows(zc) && nz < nnaslib_max; i++)
                if (!strcmp(nr_csv_cell(zc, i, (size_t)cds), sets[si].name)) zidx[nz++] = (long)i;
            long *zarch = malloc((size_t)nz * sizeof *zarch);
            for (int k = 0; k < nz; k++) zarch[k] = atol(nr_csv_cell(zc, (size_t)zidx[k], (size_t)cix));
            snprintf(line, sizeof line, "naslib_%s_seed1", sets[si].name);
            if (score_set(line, t, ps, all, zarch, nz, zres, cache)) return 1;
            for (int k = 0; k < nz; k++) truth[k] = nr_table_acc(nr_table_by_index(t, zarch[k]), sets[si].ds, NR_METRIC_TEST, 200);
            fprintf(stderr, "\n# %s, NASLib's %d archs: nasrank vs NASLib values, and each vs test accuracy\n",
                    sets[si].name, nz);
            fprintf(stderr, "# %-12s %-10s %16s %16s %16s\n", "proxy", "naslib", "spearman(ours,", "spearman(ours,", "spearman(naslib,");
            fprintf(stderr, "# %-12s %-10s %16s %16s %16s\n", "", "column", "naslib)", "test acc)", "test acc)");
            for (int p = 0; p < NR_NUM_PROXIES; p++) {
                long col = nr_csv_find_col(zc, naslib_col(p));
                if (col < 0) continue;
                for (int k = 0; k < nz; k++) {
                    score[k] = zres[zarch[k]].v[p];
                    other[k] = strtod(nr_csv_cell(zc, (size_t)zidx[k], (size_t)col), NULL);
                }
                nr_correlation cx = correlate(score, other, nz);
                double *tmp = malloc((size_t)nz * sizeof *tmp);
                memcpy(tmp, score, (size_t)nz * sizeof *tmp);
                nr_correlation co = correlate(tmp, truth, nz);
                memcpy(tmp, other, (size_t)nz * sizeof *tmp);
                nr_correlation cn = correlate(tmp, truth, nz);
                free(tmp);
                fprintf(stderr, "# %-12s %-10s %16.3f %16.3f %16.3f\n", nr_proxy_info_get(p)->name, naslib_col(p),
                        cx.spearman, co.spearman, cn.spearman);
                snprintf(m, sizeof m, "%s_naslib_agreement_spearman_%s", sets[si].name, nr_proxy_info_get(p)->name);
                bench_json("proxy_fidelity", m, cx.spearman, "rho", threads, (long)cx.n, NULL, 0);
                snprintf(m, sizeof m, "%s_naslib_subset_spearman_%s", sets[si].name, nr_proxy_info_get(p)->name);
                bench_json("proxy_fidelity", m, co.spearman, "rho", threads, (long)co.n, "naslib_values", co.spearman / cn.spearman);
            }
            /* ensembles selected on NASLib's archs (a development set, scored here anyway),
             * judged on the sample: every subset of the proxies, the best on the dev set */
            unsigned best_mask = 0;
            double best_dev = -2;
            for (int k = 0; k < nz; k++) truth[k] = nr_table_acc(nr_table_by_index(t, zarch[k]), sets[si].ds, NR_METRIC_TEST, 200);
            for (unsigned mask = 1; mask <= all; mask++) {
                ensemble(zres, zarch, nz, mask, score);
                nr_correlation c = correlate(score, truth, nz);
                if (c.spearman > best_dev + 1e-12) best_dev = c.spearman, best_mask = mask;
            }
            unsigned cand[2] = {best_mask, nr_proxy_default_ensemble()};
            for (int q = 0; q < 2; q++) {
                ensemble(zres, zarch, nz, cand[q], score);
                nr_correlation cd = correlate(score, truth, nz);
                for (int k = 0; k < narch; k++) other[k] = nr_table_acc(nr_table_by_index(t, sample[k]), sets[si].ds, NR_METRIC_TEST, 200);
                ensemble(res, sample, narch, cand[q], score);
                nr_correlation ct = correlate(score, other, narch);
                char nm[160];
                members_name(cand[q], nm, sizeof nm);
                fprintf(stderr, "# %s ensemble %s: spearman %.3f on NASLib's %d archs (dev), %.3f (kendall %.3f) on the "
                        "%d-arch sample\n", q ? "default" : "dev-selected", nm, cd.spearman, nz, ct.spearman, ct.kendall, narch);
                snprintf(m, sizeof m, "%s_spearman_ensemble_%s_%s", sets[si].name, q ? "default" : "dev_selected", nm);
                bench_json("proxy_fidelity", m, ct.spearman, "rho", threads, (long)ct.n, NULL, 0);
            }
            free(zarch);
        }
        nr_proxy_scorer_free(ps);
        nr_images_free(im);
    }

    /* ---- ImageNet16-120: data-free synflow and the counts (no images available) ---- */
    if (has_item(dsets, "imagenet16")) {
        nr_macro_config cfg = nr_macro_default();
        cfg.num_classes = 120;
        cfg.image_size = 16;
        nr_proxy_scorer *ps = NULL;
        if (nr_proxy_scorer_create(&cfg, 1, NULL, &ps, &err)) return die(&err);
        unsigned mask = BIT(SYNFLOW) | BIT(PARAMS) | BIT(FLOPS);
        result *ires = calloc(NR_NUM_ARCHS, sizeof *ires);
        snprintf(line, sizeof line, "sample%d_imagenet16_seed1", narch);
        if (score_set(line, t, ps, mask, sample, narch, ires, cache)) return 1;
        for (int k = 0; k < narch; k++) truth[k] = nr_table_acc(nr_table_by_index(t, sample[k]), NR_DS_IMAGENET16, NR_METRIC_TEST, 200);
        fprintf(stderr, "\n# ImageNet16-120 (16x16, 120 classes), %d sampled archs, vs test accuracy\n", narch);
        int ids[3] = {NR_PROXY_SYNFLOW, NR_PROXY_PARAMS, NR_PROXY_FLOPS};
        for (int q = 0; q < 3; q++) {
            for (int k = 0; k < narch; k++) score[k] = ires[sample[k]].v[ids[q]];
            nr_correlation c = correlate(score, truth, narch);
            double pub = published(ids[q], 2);
            fprintf(stderr, "# %-12s spearman %.3f kendall %.3f (published |r| %s)\n", nr_proxy_info_get(ids[q])->name,
                    c.spearman, c.kendall, isnan(pub) ? "-" : (snprintf(m, sizeof m, "%.3f", pub), m));
            snprintf(m, sizeof m, "imagenet16_spearman_%s", nr_proxy_info_get(ids[q])->name);
            bench_json("proxy_fidelity", m, c.spearman, "rho", threads, (long)c.n, isnan(pub) ? NULL : "published",
                       fabs(c.spearman) / pub);
        }
        if (zc) {
            long cds = nr_csv_find_col(zc, "dataset"), cix = nr_csv_find_col(zc, "index");
            int nz = 0;
            for (size_t i = 0; i < nr_csv_nrows(zc) && nz < nnaslib_max; i++)
                if (!strcmp(nr_csv_cell(zc, i, (size_t)cds), "ImageNet16-120")) zidx[nz++] = (long)i;
            long *zarch = malloc((size_t)nz * sizeof *zarch);
            for (int k = 0; k < nz; k++) zarch[k] = atol(nr_csv_cell(zc, (size_t)zidx[k], (size_t)cix));
            memset(ires, 0, NR_NUM_ARCHS * sizeof *ires);
            if (score_set("naslib_imagenet16_seed1", t, ps, mask, zarch, nz, ires, cache)) return 1;
            for (int q = 0; q < 3; q++) {
                long col = nr_csv_find_col(zc, naslib_col(ids[q]));
                for (int k = 0; k < nz; k++) {
                    score[k] = ires[zarch[k]].v[ids[q]];
                    other[k] = strtod(nr_csv_cell(zc, (size_t)zidx[k], (size_t)col), NULL);
                }
                nr_correlation cx = correlate(score, other, nz);
                fprintf(stderr, "# %-12s vs NASLib's values on its %d archs: spearman %.4f\n", nr_proxy_info_get(ids[q])->name,
                        nz, cx.spearman);
                snprintf(m, sizeof m, "imagenet16_naslib_agreement_spearman_%s", nr_proxy_info_get(ids[q])->name);
                bench_json("proxy_fidelity", m, cx.spearman, "rho", threads, (long)cx.n, NULL, 0);
            }
            free(zarch);
        }
        free(ires);
        nr_proxy_scorer_free(ps);
    }
    free(sample), free(res), free(zres), free(score), free(truth), free(other), free(zidx), free(x);
    nr_csv_free(zc);
    nr_table_free(t);
    return 0;
}
