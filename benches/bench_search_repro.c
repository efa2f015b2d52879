/* Search reproduction: the NASWOT paper's Table 2 (Mellor et al., ICML 2021) against the
 * NAS-Bench-201 table.  500 runs per row (seeded, independent), CIFAR-10 test accuracy of
 * the chosen architecture (200 epochs) next to the published value:
 *   naswot N=10 (paper 92.44 ± 1.13), N=100 (92.81 ± 0.99), N=1000 (92.96 ± 0.81),
 *   random N=1 (the paper's "Random" row, 86.61 ± 13.46),
 *   random search and REA at 50, 150, 300 queries (the paper's rows are at a simulated
 *   12,000 s budget: RS 93.70 ± 0.36, REA 93.92 ± 0.30; that is ~100-150 queries of
 *   12-epoch training),  AREA at 50 and 150,
 *   predictor at 50 queries (target: mean >= 94.0 and above REA at 50), with 12- and
 *   200-epoch rewards (REA at 50 with a 200-epoch reward for comparison), and ranking only
 *   the 2000 best NASWOT-scored unseen classes ("nw2000"; needs a score for every arch),
 *   CIFAR-100 naswot N=100 (69.48 ± 1.70; needs CIFAR-100 scores).
 * Rewards are 12-epoch validation accuracies (as NAS-Bench-201's search experiments) unless
 * the row says "r200".  A query = one ground-truth lookup of a new architecture.
 *
 * One JSON line per row on stdout ({"bench": "search_repro", "metric": "<row>_test_mean",
 * "value": mean, "std": ..., "published": ..., "delta": value - published, ...}), a table on
 * stderr, then the target checks.
 *
 *   bench_search_repro [--quick] [--runs R] [--scores FILE] [--scores-cifar100 FILE]
 *                      [--predictor-runs R] [--threads N] [--only ROW[,ROW...]]
 *   --scores (or $NASRANK_SCORES): CIFAR-10 NASWOT scores of all archs (nasrank score --all
 *   -o FILE); without it they are computed on the fly (~1 h for the whole space; --quick: few
 *   runs).  --scores-cifar100 (or $NASRANK_SCORES_CIFAR100) likewise for CIFAR-100.
 *   --scores-cifar100: the same on CIFAR-100 images (nasrank score --all --dataset cifar100);
 *   without it the CIFAR-100 row is computed on the fly with --quick and skipped otherwise.
 *   --predictor-runs: runs of the predictor rows (default: --runs; ~1.2 s per run on one
 *   thread, so 500 runs take ~10 min a row; --quick 5).
 *   --quick: 20 runs per row; rows that must compute scores on the fly get about 200 scores
 *   (N=10: 20 runs, N=100: 2 runs; N=1000 and AREA are skipped).
 */
#include <math.h>
#include <unistd.h>

#include "bench_util.h"
#include "nasrank.h"
#include "ops/ops.h"

static const char *arg_str(int argc, char **argv, const char *flag)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], flag)) return argv[i + 1];
    return NULL;
}

/* --only LIST: comma-separated row names; a trailing '*' makes a name a prefix (rea_*). */
static int selected(const char *list, const char *name)
{
    for (const char *p = list; *p;) {
        size_t n = strcspn(p, ",");
        if (n && p[n - 1] == '*' && !strncmp(name, p, n - 1)) return 1;
        if (n && strlen(name) == n && !strncmp(name, p, n)) return 1;
        p += n;
        if (*p) p++;
    }
    return 0;
}

typedef struct spec {
    const char *name;
    nr_search_strategy strategy;
    int size; /* N or budget */
    int reward_epochs;
    nr_dataset ds;
    double paper, paper_std; /* NaN: none */
    const char *paper_row;
    int pred_candidates; /* predictor: 0 = rank every unseen class; K = the K best NASWOT-scored */
} spec;

/* Position of the row called name (the target checks name their rows). */
static int find_spec(const spec *specs, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(specs[i].name, name)) return i;
    abort(); /* a misspelt row name in this file */
}

typedef struct outcome {
    int done;
    nr_search_summary sum;
} outcome;

/* A score cache on a dataset: the file when given, else on-the-fly NASWOT (seed 1, B 128). */
static nr_status make_cache(const nr_table *t, const char *file, int c100, nr_score_cache **out,
                            nr_error *err)
{
    nr_status st = nr_score_cache_create(t, out, err);
    if (st) return st;
    if (file) return nr_score_cache_load_csv(*out, file, NULL, err);
    char path[4096];
    nr_images *im = NULL;
    const char *rel = c100 ? "cifar100/train_head486.bin" : "cifar10/data_batch_1_head4000.bin";
    if ((st = nr_data_find(rel, path, sizeof path, err))) return st;
    if ((st = nr_images_read(path, c100 ? NR_CIFAR100 : NR_CIFAR10, &im, err))) return st;
    nr_macro_config cfg = nr_macro_default();
    cfg.num_classes = c100 ? 100 : 10;
    enum { B = 128 };
    size_t pick[B];
    float *x = malloc((size_t)B * 3 * 32 * 32 * sizeof *x);
    nr_norm norm = c100 ? nr_norm_cifar100() : nr_norm_cifar10();
    if (!x) st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    if (!st) st = nr_images_choose(im, B, 1, pick, err);
    if (!st) st = nr_images_batch(im, pick, B, &norm, 32, x, err);
    if (!st) st = nr_score_cache_enable_naswot(*out, &cfg, 1, x, B, NR_NASWOT_REFERENCE, err);
    free(x);
    nr_images_free(im);
    return st;
}

int main(int argc, char **argv)
{
    int quick = bench_has_flag(argc, argv, "--quick");
    const char *runs_s = arg_str(argc, argv, "--runs"), *only = arg_str(argc, argv, "--only");
    const char *scores10 = arg_str(argc, argv, "--scores"), *scores100 = arg_str(argc, argv, "--scores-cifar100");
    if (!scores10 && getenv("NASRANK_SCORES") && *getenv("NASRANK_SCORES")) scores10 = getenv("NASRANK_SCORES");
    if (!scores100 && getenv("NASRANK_SCORES_CIFAR100") && *getenv("NASRANK_SCORES_CIFAR100"))
        scores100 = getenv("NASRANK_SCORES_CIFAR100");
    const char *threads_s = arg_str(argc, argv, "--threads"), *pruns_s = arg_str(argc, argv, "--predictor-runs");
    int runs = runs_s ? atoi(runs_s) : quick ? 20 : 500;
    int threads = threads_s ? atoi(threads_s) : 1;
    int pruns = pruns_s ? atoi(pruns_s) : quick ? 5 : runs;
    if (runs < 1 || threads < 1 || pruns < 1) return fprintf(stderr, "bad arguments\n"), 2;
    nr_threads_set(threads);
    nr_error err = {0};
    nr_table *t = NULL;
    nr_score_cache *sc10 = NULL, *sc100 = NULL;
    if (nr_table_load(NULL, &t, &err) || nr_table_load_12ep(t, NULL, &err) ||
        make_cache(t, scores10, 0, &sc10, &err))
        return fprintf(stderr, "bench_search_repro: %s\n", err.text), 1;
    if (scores100 || quick)
        if (make_cache(t, scores100, 1, &sc100, &err)) return fprintf(stderr, "bench_search_repro: %s\n", err.text), 1;
    if (!scores10 && !quick)
        fprintf(stderr, "note: no --scores: CIFAR-10 NASWOT scores are computed on the fly (about an hour)\n");
    if (scores10 && nr_score_cache_known(sc10) < NR_NUM_ARCHS)
        fprintf(stderr, "note: %s has %zu of %d scores; rows needing others fail\n", scores10,
                nr_score_cache_known(sc10), NR_NUM_ARCHS);

    const double X = NAN;
    const spec specs[] = {
        {"naswot_N10", NR_SEARCH_NASWOT, 10, 12, NR_DS_CIFAR10, 92.44, 1.13, "NASWOT (N=10)", 0},
        {"naswot_N100", NR_SEARCH_NASWOT, 100, 12, NR_DS_CIFAR10, 92.81, 0.99, "NASWOT (N=100)", 0},
        {"naswot_N1000", NR_SEARCH_NASWOT, 1000, 12, NR_DS_CIFAR10, 92.96, 0.81, "NASWOT (N=1000)", 0},
        {"random_N1", NR_SEARCH_RANDOM, 1, 12, NR_DS_CIFAR10, 86.61, 13.46, "Random", 0},
        {"random_N100", NR_SEARCH_RANDOM, 100, 12, NR_DS_CIFAR10, X, X, NULL, 0},
        {"random_50q", NR_SEARCH_RANDOM, 50, 12, NR_DS_CIFAR10, 93.70, 0.36, "RS (12000 s)", 0},
        {"random_150q", NR_SEARCH_RANDOM, 150, 12, NR_DS_CIFAR10, 93.70, 0.36, "RS (12000 s)", 0},
        {"random_300q", NR_SEARCH_RANDOM, 300, 12, NR_DS_CIFAR10, 93.70, 0.36, "RS (12000 s)", 0},
        {"rea_50q", NR_SEARCH_REA, 50, 12, NR_DS_CIFAR10, 93.92, 0.30, "REA (12000 s)", 0},
        {"rea_150q", NR_SEARCH_REA, 150, 12, NR_DS_CIFAR10, 93.92, 0.30, "REA (12000 s)", 0},
        {"rea_300q", NR_SEARCH_REA, 300, 12, NR_DS_CIFAR10, 93.92, 0.30, "REA (12000 s)", 0},
        {"area_50q", NR_SEARCH_AREA, 50, 12, NR_DS_CIFAR10, X, X, NULL, 0},
        {"area_150q", NR_SEARCH_AREA, 150, 12, NR_DS_CIFAR10, X, X, NULL, 0},
        {"predictor_50q", NR_SEARCH_PREDICTOR, 50, 12, NR_DS_CIFAR10, X, X, NULL, 0},
        {"predictor_50q_nw2000", NR_SEARCH_PREDICTOR, 50, 12, NR_DS_CIFAR10, X, X, NULL, 2000},
        {"rea_50q_r200", NR_SEARCH_REA, 50, 200, NR_DS_CIFAR10, X, X, NULL, 0},
        {"predictor_50q_r200", NR_SEARCH_PREDICTOR, 50, 200, NR_DS_CIFAR10, X, X, NULL, 0},
        {"cifar100_naswot_N100", NR_SEARCH_NASWOT, 100, 12, NR_DS_CIFAR100, 69.48, 1.70, "NASWOT (N=100)", 0},
    };
    enum { NSPEC = sizeof specs / sizeof *specs };
    outcome out[NSPEC] = {{0}};
    nr_search_result *res = malloc((size_t)(runs > pruns ? runs : pruns) * sizeof *res);
    for (int i = 0; i < NSPEC; i++) {
        const spec *s = &specs[i];
        if (only && !selected(only, s->name)) continue;
        int c100 = s->ds == NR_DS_CIFAR100;
        nr_score_cache *sc = c100 ? sc100 : sc10;
        nr_search_config probe = nr_search_config_default(s->strategy);
        probe.pred_candidates = s->pred_candidates;
        int uses = nr_search_needs_scores(&probe);
        int on_the_fly = uses && !(c100 ? scores100 : scores10);
        if (uses && !sc) {
            fprintf(stderr, "%-22s skipped: no CIFAR-100 NASWOT scores (give --scores-cifar100 FILE, made with "
                            "'nasrank score --all --dataset cifar100'; --quick computes a few on the fly)\n", s->name);
            continue;
        }
        int n = s->strategy == NR_SEARCH_PREDICTOR ? pruns : runs;
        if (on_the_fly && quick) { /* a smoke run: about 200 scores per row */
            int per_run = s->strategy == NR_SEARCH_AREA ? 1000 : s->size;
            if (per_run > 500) {
                fprintf(stderr, "%-22s skipped in --quick without a score file (%d scores per run)\n", s->name, per_run);
                continue;
            }
            n = 200 / per_run < 1 ? 1 : 200 / per_run;
        }
        nr_search_config cfg = nr_search_config_default(s->strategy);
        cfg.dataset = s->ds;
        cfg.reward_epochs = s->reward_epochs;
        cfg.seed = 1;
        cfg.pred_candidates = s->pred_candidates;
        if (nr_search_uses_budget(s->strategy)) cfg.budget = s->size;
        else cfg.samples = s->size;
        nr_status st = NR_OK;
        double t0 = bench_now();
        for (int r = 0; r < n && !st; r++) {
            st = nr_search_run(t, sc, &cfg, r, &res[r], &err);
            if (isatty(2) && (r + 1) % 10 == 0)
                fprintf(stderr, "\r%-22s %d/%d runs (%.0f s)", s->name, r + 1, n, bench_now() - t0);
        }
        if (isatty(2)) fprintf(stderr, "\r%60s\r", "");
        if (st) {
            fprintf(stderr, "%-22s failed: %s\n", s->name, err.text);
            nr_error_clear(&err);
            continue;
        }
        nr_search_summarize(res, n, &out[i].sum);
        out[i].done = 1;
        const nr_search_summary *m = &out[i].sum;
        printf("{\"bench\": \"search_repro\", \"metric\": \"%s_%s_test_mean\", \"value\": %.4f, \"unit\": \"%%\", "
               "\"threads\": %d, \"n\": %d, \"std\": %.4f, \"valid_mean\": %.4f, \"valid_std\": %.4f, "
               "\"queries_mean\": %.2f, \"seconds_per_run\": %.6g, \"reward_epochs\": %d, \"baseline\": ",
               s->name, nr_dataset_name(s->ds), m->test_mean, threads, n, m->test_std, m->valid_mean, m->valid_std,
               m->queries_mean, m->seconds_mean, s->reward_epochs);
        if (isfinite(s->paper))
            printf("\"NASWOT paper Table 2: %s\", \"published\": %.2f, \"published_std\": %.2f, \"delta\": %.4f, "
                   "\"ratio\": %.6g}\n", s->paper_row, s->paper, s->paper_std, m->test_mean - s->paper,
                   m->test_mean / s->paper);
        else
            printf("null, \"published\": null, \"ratio\": null}\n");
        fflush(stdout);
    }

    /* the human-readable table */
    fprintf(stderr, "\n%-22s %5s  %-15s  %-15s  %-16s %7s %8s %9s\n", "row", "runs", "valid", "test", "published test",
            "delta", "queries", "s/run");
    for (int i = 0; i < NSPEC; i++) {
        if (!out[i].done) continue;
        const spec *s = &specs[i];
        const nr_search_summary *m = &out[i].sum;
        char v[40], te[40], p[40] = "-", d[16] = "-";
        snprintf(v, sizeof v, "%.2f +- %.2f", m->valid_mean, m->valid_std);
        snprintf(te, sizeof te, "%.2f +- %.2f", m->test_mean, m->test_std);
        if (isfinite(s->paper)) {
            snprintf(p, sizeof p, "%.2f +- %.2f", s->paper, s->paper_std);
            snprintf(d, sizeof d, "%+.2f", m->test_mean - s->paper);
        }
        fprintf(stderr, m->seconds_mean >= 0.01 ? "%-22s %5d  %-15s  %-15s  %-16s %7s %8.1f %9.2f\n"
                                                : "%-22s %5d  %-15s  %-15s  %-16s %7s %8.1f %9.1e\n",
                s->name, m->runs, v, te, p, d, m->queries_mean, m->seconds_mean);
    }
    fprintf(stderr, "(valid: %s; test: %s; seed 1; CIFAR-10 scores: %s; CIFAR-100 scores: %s)\n",
            "cifar10-valid x-valid / cifar100 x-valid", "cifar10 ori-test / cifar100 x-test",
            scores10 ? scores10 : "computed on the fly", scores100 ? scores100 : quick ? "computed on the fly" : "none");

    /* targets */
    static const char *naswot_rows[] = {"naswot_N10", "naswot_N100", "cifar100_naswot_N100"};
    for (size_t k = 0; k < sizeof naswot_rows / sizeof *naswot_rows; k++) {
        int i = find_spec(specs, NSPEC, naswot_rows[k]);
        if (!out[i].done) continue;
        double dlt = out[i].sum.test_mean - specs[i].paper;
        fprintf(stderr, "target: %-22s within 0.5 of the published mean: %s (%+.2f)\n", specs[i].name,
                fabs(dlt) <= 0.5 ? "yes" : "NO", dlt);
    }
    static const char *pairs[][2] = {{"predictor_50q", "rea_50q"},
                                     {"predictor_50q_nw2000", "rea_50q"},
                                     {"predictor_50q_r200", "rea_50q_r200"}};
    for (size_t k = 0; k < sizeof pairs / sizeof *pairs; k++) {
        int pr = find_spec(specs, NSPEC, pairs[k][0]), rea = find_spec(specs, NSPEC, pairs[k][1]);
        if (!out[pr].done) continue;
        fprintf(stderr, "target: %-22s mean test >= 94.0: %s (%.2f)", specs[pr].name,
                out[pr].sum.test_mean >= 94.0 ? "yes" : "NO", out[pr].sum.test_mean);
        if (out[rea].done)
            fprintf(stderr, "; beats %s (%.2f): %s", specs[rea].name, out[rea].sum.test_mean,
                    out[pr].sum.test_mean > out[rea].sum.test_mean ? "yes" : "NO");
        fputc('\n', stderr);
    }
    free(res);
    nr_score_cache_free(sc10);
    nr_score_cache_free(sc100);
    nr_table_free(t);
    return 0;
}
