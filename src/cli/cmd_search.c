/* nasrank search — run search strategies against NAS-Bench-201 and print a table in the
 * layout of the NASWOT paper's Table 2 (method, N / budget, valid and test mean ± std,
 * queries, seconds per run); --json writes every run, --plot draws the distributions. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/progress.h"

#define MAX_LIST 32
#define MAX_ROWS 64

typedef struct search_opts {
    nr_search_strategy strategies[MAX_LIST];
    int nstrategies;
    long samples[MAX_LIST], budgets[MAX_LIST];
    int nsamples, nbudgets;
    long runs, seed, reward_epochs, population, tournament, pool;
    long pred_initial, pred_per_round, pred_candidates;
    nr_dataset ds;
    const char *scores, *score_column, *images, *out, *plot, *threads;
    long batch, score_seed;
    nr_naswot_variant variant;
    int json, timing, no_compute;
    nr_predictor_config pred;
} search_opts;

typedef struct row {
    nr_search_config cfg;
    long size; /* N or budget */
    nr_search_result *res;
    nr_search_summary sum;
} row;

static void help(FILE *f)
{
    fprintf(f,
            "usage: nasrank search --strategy S[,S...] [options]\n"
            "Search NAS-Bench-201 with the table as the oracle and print, per strategy and size,\n"
            "the mean ± std over the runs of the chosen architecture's 200-epoch validation and\n"
            "test accuracy, the ground-truth queries used and the seconds per run (the layout of\n"
            "the NASWOT paper's Table 2).\n\n"
            "strategies:\n"
            "  random     best of N distinct random archs by validation accuracy (N queries)\n"
            "  naswot     N uniform draws (with replacement), highest NASWOT score; no queries\n"
            "  rea        regularised evolution: population 10, tournament 3, one-edge mutation\n"
            "  area       REA seeded with the top of a NASWOT-scored pool (--pool)\n"
            "  predictor  query a few, fit the graph predictor, query the top predicted, repeat\n"
            "A query is one ground-truth lookup of an architecture not seen before in the run\n"
            "(looking one up again is free); budgets count queries, not simulated seconds.\n\n"
            "  -S, --strategy LIST     comma-separated strategies (one table row each)\n"
            "  -n, --samples LIST      N for random and naswot (default 100); a list gives a row each\n"
            "  -b, --budget LIST       queries for rea, area, predictor (default 50); random uses it\n"
            "                          too when --samples is not given\n"
            "  -r, --runs R            independent runs per row (default 100; the paper used 500)\n"
            "  -d, --dataset D         cifar10 (default), cifar100, ImageNet16-120.  CIFAR-10 reports\n"
            "                          cifar10-valid x-valid and cifar10 ori-test; others x-valid/x-test\n"
            "  -s, --seed S            run r is seeded from (S, r) (default 0)\n"
            "      --reward-epochs E   12 (default, as NAS-Bench-201's search experiments) or 200:\n"
            "                          the validation accuracy the strategies optimise\n"
            "      --population P      REA/AREA population (default 10)\n"
            "      --tournament K      REA/AREA tournament size (default 3)\n"
            "      --pool M            AREA: NASWOT-scored draws for the initial population (1000)\n"
            "      --pred-initial K    predictor: random queries before the first fit (default 10)\n"
            "      --pred-per-round K  predictor: top predicted archs queried per round (default 10)\n"
            "      --pred-candidates K predictor: rank only the K best NASWOT-scored unseen classes\n"
            "                          (default 0: every unseen isomorphism class).  Needs a score\n"
            "                          for every arch: give --scores (on the fly: ~1 h, once)\n"
            "      --pred-kind K       predictor model: comparator (default) or relativistic\n"
            "      --pred-features F   extra predictor inputs (default none): params, flops, and the\n"
            "                          proxies naswot, synflow, snip, grad_norm, grasp, fisher,\n"
            "                          jacob_cov (values for every candidate: from --scores, by column\n"
            "                          name; only naswot is computed on the fly)\n"
            "      --scores FILE       NASWOT scores (CSV with arch/arch_str or index and a naswot\n"
            "                          column, e.g. from 'nasrank score --all'), and the proxy columns\n"
            "                          of --pred-features ('nasrank score --all --proxy ...')\n"
            "      --score-column C    score column of --scores (default naswot)\n"
            "      --no-compute        never compute missing scores (fail instead)\n"
            "      --batch N, --score-seed S, --images FILE, --naswot-variant V\n"
            "                          settings for scores computed on the fly (as 'nasrank score':\n"
            "                          128, 1, the dataset's default batch file, reference)\n"
            "      --json              JSON: settings, every run and the summary per row (with -o\n"
            "                          FILE the JSON goes to FILE and the table to stdout)\n"
            "  -o, --output FILE       write the table / JSON here (atomically) instead of stdout\n"
            "      --plot FILE         test-accuracy distribution per row (.svg or .png)\n"
            "      --no-timing         leave seconds out (byte-identical reruns)\n"
            "  -t, --threads N         BLIS / predictor threads (default $NASRANK_THREADS, else CPUs, max 8)\n"
            "  -h, --help              this help\n"
            "Without --scores, NASWOT scores are computed when first needed (~0.2 s per arch) and\n"
            "kept for the rest of the process.\n");
}

/* "a,b,c" -> longs in [lo, hi]. */
static int parse_list(const char *opt, const char *s, long lo, long hi, long *out, int *n)
{
    char buf[512];
    if (strlen(s) >= sizeof buf) return cli_usage("search", "%s: list too long", opt), -1;
    strcpy(buf, s);
    *n = 0;
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (*n == MAX_LIST) return cli_usage("search", "%s: at most %d values", opt, MAX_LIST), -1;
        if (cli_parse_long("search", opt, tok, lo, hi, &out[*n])) return -1;
        (*n)++;
    }
    if (!*n) return cli_usage("search", "%s: empty list", opt), -1;
    return 0;
}

static int parse_opts(int argc, char **argv, search_opts *o)
{
    enum {
        O_REWARD = 256, O_POP, O_TOUR, O_POOL, O_PINIT, O_PROUND, O_PCAND, O_SCORES, O_SCOL,
        O_NOCOMP, O_BATCH, O_SSEED, O_IMAGES, O_VARIANT, O_JSON, O_PLOT, O_NOTIME, O_PKIND, O_PFEAT
    };
    static const struct option opts[] = {
        {"strategy", required_argument, 0, 'S'}, {"samples", required_argument, 0, 'n'},
        {"budget", required_argument, 0, 'b'}, {"runs", required_argument, 0, 'r'},
        {"dataset", required_argument, 0, 'd'}, {"seed", required_argument, 0, 's'},
        {"reward-epochs", required_argument, 0, O_REWARD}, {"population", required_argument, 0, O_POP},
        {"tournament", required_argument, 0, O_TOUR}, {"pool", required_argument, 0, O_POOL},
        {"pred-initial", required_argument, 0, O_PINIT}, {"pred-per-round", required_argument, 0, O_PROUND},
        {"pred-candidates", required_argument, 0, O_PCAND}, {"pred-kind", required_argument, 0, O_PKIND},
        {"pred-features", required_argument, 0, O_PFEAT}, {"scores", required_argument, 0, O_SCORES},
        {"score-column", required_argument, 0, O_SCOL}, {"no-compute", no_argument, 0, O_NOCOMP},
        {"batch", required_argument, 0, O_BATCH}, {"score-seed", required_argument, 0, O_SSEED},
        {"images", required_argument, 0, O_IMAGES}, {"naswot-variant", required_argument, 0, O_VARIANT},
        {"json", no_argument, 0, O_JSON}, {"output", required_argument, 0, 'o'},
        {"plot", required_argument, 0, O_PLOT}, {"no-timing", no_argument, 0, O_NOTIME},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (search_opts){.runs = 100, .reward_epochs = 12, .population = 10, .tournament = 3,
                       .pool = 1000, .pred_initial = 10, .pred_per_round = 10, .ds = NR_DS_CIFAR10,
                       .score_column = "naswot", .batch = 128, .score_seed = 1, .timing = 1,
                       .pred = nr_search_predictor_default()};
    nr_error err = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "S:n:b:r:d:s:o:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'S': {
            char buf[512];
            if (strlen(optarg) >= sizeof buf) return cli_usage("search", "--strategy: list too long"), -1;
            strcpy(buf, optarg);
            o->nstrategies = 0;
            for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
                if (o->nstrategies == MAX_LIST) return cli_usage("search", "--strategy: too many"), -1;
                if (nr_search_strategy_parse(tok, &o->strategies[o->nstrategies++], &err))
                    return cli_usage("search", "%s", err.text), -1;
            }
            if (!o->nstrategies) return cli_usage("search", "--strategy: empty list"), -1;
            break;
        }
        case 'n':
            if (parse_list("--samples", optarg, 1, 100000000, o->samples, &o->nsamples)) return -1;
            break;
        case 'b':
            if (parse_list("--budget", optarg, 1, NR_NUM_ARCHS, o->budgets, &o->nbudgets)) return -1;
            break;
        case 'r':
            if (cli_parse_long("search", "--runs", optarg, 1, 1000000, &o->runs)) return -1;
            break;
        case 'd':
            if (nr_dataset_parse(optarg, &o->ds, &err)) return cli_usage("search", "%s", err.text), -1;
            if (o->ds == NR_DS_CIFAR10_VALID) o->ds = NR_DS_CIFAR10;
            break;
        case 's':
            if (cli_parse_long("search", "--seed", optarg, 0, 0x7fffffffffffffffL, &o->seed)) return -1;
            break;
        case O_REWARD:
            if (cli_parse_long("search", "--reward-epochs", optarg, 12, 200, &o->reward_epochs)) return -1;
            if (o->reward_epochs != 12 && o->reward_epochs != 200)
                return cli_usage("search", "--reward-epochs must be 12 or 200"), -1;
            break;
        case O_POP:
            if (cli_parse_long("search", "--population", optarg, 1, NR_NUM_ARCHS, &o->population)) return -1;
            break;
        case O_TOUR:
            if (cli_parse_long("search", "--tournament", optarg, 1, NR_NUM_ARCHS, &o->tournament)) return -1;
            break;
        case O_POOL:
            if (cli_parse_long("search", "--pool", optarg, 1, 100000000, &o->pool)) return -1;
            break;
        case O_PINIT:
            if (cli_parse_long("search", "--pred-initial", optarg, 1, NR_NUM_ARCHS, &o->pred_initial)) return -1;
            break;
        case O_PROUND:
            if (cli_parse_long("search", "--pred-per-round", optarg, 1, NR_NUM_ARCHS, &o->pred_per_round)) return -1;
            break;
        case O_PCAND:
            if (cli_parse_long("search", "--pred-candidates", optarg, 0, NR_NUM_ARCHS, &o->pred_candidates)) return -1;
            break;
        case O_PKIND:
            if (nr_predictor_kind_parse(optarg, &o->pred.kind, &err)) return cli_usage("search", "--pred-kind: %s", err.text), -1;
            break;
        case O_PFEAT:
            if (nr_predictor_features_parse(optarg, &o->pred.features, &err))
                return cli_usage("search", "--pred-features: %s", err.text), -1;
            break;
        case O_SCORES: o->scores = optarg; break;
        case O_SCOL: o->score_column = optarg; break;
        case O_NOCOMP: o->no_compute = 1; break;
        case O_BATCH:
            if (cli_parse_long("search", "--batch", optarg, 2, 4096, &o->batch)) return -1;
            break;
        case O_SSEED:
            if (cli_parse_long("search", "--score-seed", optarg, 0, 0x7fffffffffffffffL, &o->score_seed)) return -1;
            break;
        case O_IMAGES: o->images = optarg; break;
        case O_VARIANT:
            if (!strcmp(optarg, "reference")) o->variant = NR_NASWOT_REFERENCE;
            else if (!strcmp(optarg, "paper")) o->variant = NR_NASWOT_PAPER;
            else return cli_usage("search", "--naswot-variant must be 'reference' or 'paper'"), -1;
            break;
        case O_JSON: o->json = 1; break;
        case 'o': o->out = optarg; break;
        case O_PLOT: o->plot = optarg; break;
        case O_NOTIME: o->timing = 0; break;
        case 't': o->threads = optarg; break;
        case 'h': help(stdout); return 1;
        default: return cli_usage("search", "bad option"), -1;
        }
    }
    if (optind != argc) return cli_usage("search", "unexpected argument '%s'", argv[optind]), -1;
    if (!o->nstrategies) return cli_usage("search", "--strategy is required"), -1;
    if (o->plot) {
        nr_plot_format f;
        if (nr_plot_format_from_path(o->plot, &f, &err)) return cli_usage("search", "--plot: %s", err.text), -1;
    }
    if (cli_apply_threads("search", o->threads)) return -1;
    return 0;
}

/* Fill the rows: each strategy times its sizes (samples or budgets). */
static int make_rows(const search_opts *o, row *rows, int *nrows)
{
    static const long def_samples[1] = {100}, def_budget[1] = {50};
    *nrows = 0;
    for (int k = 0; k < o->nstrategies; k++) {
        nr_search_strategy s = o->strategies[k];
        const long *sizes;
        int nsizes;
        if (nr_search_uses_budget(s) || (s == NR_SEARCH_RANDOM && o->nbudgets && !o->nsamples)) {
            sizes = o->nbudgets ? o->budgets : def_budget;
            nsizes = o->nbudgets ? o->nbudgets : 1;
        } else {
            sizes = o->nsamples ? o->samples : def_samples;
            nsizes = o->nsamples ? o->nsamples : 1;
        }
        for (int j = 0; j < nsizes; j++) {
            if (*nrows == MAX_ROWS) return cli_usage("search", "at most %d table rows", MAX_ROWS), -1;
            row *r = &rows[(*nrows)++];
            memset(r, 0, sizeof *r);
            r->cfg = nr_search_config_default(s);
            r->cfg.dataset = o->ds;
            r->cfg.reward_epochs = (int)o->reward_epochs;
            r->cfg.population = (int)o->population;
            r->cfg.tournament = (int)o->tournament;
            r->cfg.pool = (int)o->pool;
            r->cfg.pred_initial = (int)o->pred_initial;
            r->cfg.pred_per_round = (int)o->pred_per_round;
            r->cfg.pred_candidates = (int)o->pred_candidates;
            r->cfg.predictor = &o->pred;
            r->cfg.seed = (uint64_t)o->seed;
            r->size = sizes[j];
            if (nr_search_uses_budget(s)) r->cfg.budget = (int)sizes[j];
            else r->cfg.samples = (int)sizes[j];
            if (s == NR_SEARCH_RANDOM && r->size > NR_NUM_ARCHS)
                return cli_usage("search", "random: N must be at most %d (distinct archs)", NR_NUM_ARCHS), -1;
            if ((s == NR_SEARCH_REA || s == NR_SEARCH_AREA) && o->tournament > o->population)
                return cli_usage("search", "--tournament must not exceed --population"), -1;
        }
    }
    return 0;
}

static void size_label(const row *r, char *buf, size_t n, const char *sep)
{
    if (nr_search_uses_budget(r->cfg.strategy)) snprintf(buf, n, "%ld%squeries", r->size, sep);
    else snprintf(buf, n, "N=%ld", r->size);
}

/* ---- NASWOT scores: the file, and on-the-fly computation with the dataset's images ---- */

static nr_status setup_scores(const search_opts *o, const nr_table *t, nr_score_cache **out,
                              nr_error *err)
{
    nr_score_cache *c = NULL;
    nr_images *im = NULL;
    float *batch = NULL;
    size_t *pick = NULL;
    nr_status st = nr_score_cache_create(t, &c, err);
    if (st) return st;
    if (o->scores && (st = nr_score_cache_load_csv(c, o->scores, o->score_column, err))) goto done;
    if (!o->no_compute && (o->ds == NR_DS_CIFAR10 || o->ds == NR_DS_CIFAR100)) {
        int c100 = o->ds == NR_DS_CIFAR100;
        const char *rel = c100 ? "cifar100/train_head486.bin" : "cifar10/data_batch_1_head4000.bin";
        char path[4096];
        if (o->images) snprintf(path, sizeof path, "%s", o->images);
        else if ((st = nr_data_find(rel, path, sizeof path, err))) goto done;
        if ((st = nr_images_read(path, c100 ? NR_CIFAR100 : NR_CIFAR10, &im, err))) goto done;
        nr_macro_config cfg = nr_macro_default();
        cfg.num_classes = c100 ? 100 : 10;
        int B = (int)o->batch, S = cfg.image_size;
        batch = malloc((size_t)B * 3 * S * S * sizeof *batch);
        pick = malloc((size_t)B * sizeof *pick);
        if (!batch || !pick) {
            st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        nr_norm norm = c100 ? nr_norm_cifar100() : nr_norm_cifar10();
        if ((st = nr_images_choose(im, (size_t)B, (uint64_t)o->score_seed, pick, err))) goto done;
        if ((st = nr_images_batch(im, pick, (size_t)B, &norm, S, batch, err))) goto done;
        st = nr_score_cache_enable_naswot(c, &cfg, (uint64_t)o->score_seed, batch, B, o->variant, err);
    }
done:
    free(batch);
    free(pick);
    nr_images_free(im);
    if (st) nr_score_cache_free(c);
    else *out = c;
    return st;
}

/* ---- output ---- */

static const char *col_valid(nr_dataset ds)
{
    return ds == NR_DS_CIFAR10 ? "cifar10-valid valid" : ds == NR_DS_CIFAR100 ? "cifar100 valid" : "ImageNet16-120 valid";
}

static const char *col_test(nr_dataset ds)
{
    return ds == NR_DS_CIFAR10 ? "cifar10 test" : ds == NR_DS_CIFAR100 ? "cifar100 test" : "ImageNet16-120 test";
}

static void json_kv(FILE *f, const char *k, double v, int comma)
{
    fprintf(f, "%s\"%s\": ", comma ? ", " : "", k);
    cli_json_number(f, v);
}

static void write_json(FILE *f, const search_opts *o, const row *rows, int nrows,
                       const nr_score_cache *sc)
{
    fprintf(f, "{\"dataset\": \"%s\", \"runs\": %ld, \"seed\": %ld, \"reward_epochs\": %ld, ",
            nr_dataset_name(o->ds), o->runs, o->seed, o->reward_epochs);
    fprintf(f, "\"valid_metric\": ");
    cli_json_string(f, col_valid(o->ds));
    fprintf(f, ", \"test_metric\": ");
    cli_json_string(f, col_test(o->ds));
    fprintf(f, ", \"scores\": ");
    if (o->scores) cli_json_string(f, o->scores);
    else fputs("null", f);
    fprintf(f, ", \"scores_computed\": %zu,\n \"rows\": [", sc ? nr_score_cache_computed(sc) : (size_t)0);
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        const nr_search_config *c = &r->cfg;
        int budget = nr_search_uses_budget(c->strategy);
        fprintf(f, "%s\n  {\"strategy\": \"%s\", \"%s\": %ld", i ? "," : "", nr_search_strategy_name(c->strategy),
                budget ? "budget" : "samples", r->size);
        if (c->strategy == NR_SEARCH_REA || c->strategy == NR_SEARCH_AREA)
            fprintf(f, ", \"population\": %d, \"tournament\": %d", c->population, c->tournament);
        if (c->strategy == NR_SEARCH_AREA) fprintf(f, ", \"pool\": %d", c->pool);
        if (c->strategy == NR_SEARCH_PREDICTOR) {
            const nr_predictor_config *pc = c->predictor;
            fprintf(f, ", \"pred_initial\": %d, \"pred_per_round\": %d, \"pred_candidates\": %d, \"pred_kind\": \"%s\"",
                    c->pred_initial, c->pred_per_round, c->pred_candidates, nr_predictor_kind_name(pc->kind));
            fprintf(f, ", \"pred_features\": [");
            for (unsigned b = 1, first = 1; b <= NR_FEAT_ALL; b <<= 1)
                if (pc->features & b) {
                    fprintf(f, "%s\"%s\"", first ? "" : ", ", nr_predictor_feature_name(b));
                    first = 0;
                }
            fprintf(f, "]");
        }
        fprintf(f, ",\n   \"summary\": {\"runs\": %d", r->sum.runs);
        json_kv(f, "valid_mean", r->sum.valid_mean, 1);
        json_kv(f, "valid_std", r->sum.valid_std, 1);
        json_kv(f, "test_mean", r->sum.test_mean, 1);
        json_kv(f, "test_std", r->sum.test_std, 1);
        json_kv(f, "test_min", r->sum.test_min, 1);
        json_kv(f, "test_max", r->sum.test_max, 1);
        json_kv(f, "queries_mean", r->sum.queries_mean, 1);
        if (o->timing) json_kv(f, "seconds_mean", r->sum.seconds_mean, 1);
        fprintf(f, "},\n   \"runs\": [");
        for (long k = 0; k < o->runs; k++) {
            const nr_search_result *x = &r->res[k];
            char a[NR_ARCH_STR_MAX];
            nr_arch_format(&x->arch, a, sizeof a);
            fprintf(f, "%s\n    {\"run\": %ld, \"index\": %d, \"arch\": \"%s\"", k ? "," : "", k, x->index, a);
            json_kv(f, "valid", x->valid, 1);
            json_kv(f, "test", x->test, 1);
            json_kv(f, c->strategy == NR_SEARCH_NASWOT ? "score" : "reward", x->reward, 1);
            fprintf(f, ", \"queries\": %d", x->queries);
            if (o->timing) json_kv(f, "seconds", x->seconds, 1);
            fputc('}', f);
        }
        fprintf(f, "]}");
    }
    fprintf(f, "\n]}\n");
}

static void write_table(FILE *f, const search_opts *o, const row *rows, int nrows,
                        const nr_score_cache *sc)
{
    fprintf(f, "%-10s %-12s  %-21s  %-21s  %8s", "Method", "N / budget", col_valid(o->ds), col_test(o->ds), "queries");
    if (o->timing) fprintf(f, "  %9s", "s/run");
    fputc('\n', f);
    for (int i = 0; i < nrows; i++) {
        const row *r = &rows[i];
        char sz[32], v[64], t[64];
        size_label(r, sz, sizeof sz, " ");
        snprintf(v, sizeof v, "%.2f \xc2\xb1 %.2f", r->sum.valid_mean, r->sum.valid_std);
        snprintf(t, sizeof t, "%.2f \xc2\xb1 %.2f", r->sum.test_mean, r->sum.test_std);
        /* "±" is 2 bytes but one column: pad by hand */
        fprintf(f, "%-10s %-12s  %-22s  %-22s  %8.1f", nr_search_strategy_name(r->cfg.strategy), sz, v, t,
                r->sum.queries_mean);
        /* table-only strategies take microseconds: keep two significant digits there */
        if (o->timing) fprintf(f, r->sum.seconds_mean >= 0.01 ? "  %9.2f" : "  %9.1e", r->sum.seconds_mean);
        fputc('\n', f);
    }
    fprintf(f, "(%ld runs per row, seed %ld; mean \xc2\xb1 std over runs; reward = %ld-epoch %s validation "
               "accuracy;\n a query = one ground-truth lookup of a new architecture",
            o->runs, o->seed, o->reward_epochs, o->ds == NR_DS_CIFAR10 ? "cifar10-valid" : nr_dataset_name(o->ds));
    if (sc && nr_score_cache_known(sc)) {
        fprintf(f, "; NASWOT scores: ");
        if (o->scores) fprintf(f, "%s", o->scores);
        if (nr_score_cache_computed(sc))
            fprintf(f, "%s%zu computed on the fly", o->scores ? " + " : "", nr_score_cache_computed(sc));
    }
    fprintf(f, ")\n");
}

static nr_status write_plot(const search_opts *o, const nr_table *t, const row *rows, int nrows,
                            nr_error *err)
{
    nr_plot_series series[MAX_ROWS];
    char labels[MAX_ROWS][64], title[160], ylabel[96], ref[64];
    double *vals = malloc((size_t)nrows * (size_t)o->runs * sizeof *vals);
    if (!vals) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    for (int i = 0; i < nrows; i++) {
        char sz[32];
        size_label(&rows[i], sz, sizeof sz, " ");
        snprintf(labels[i], sizeof labels[i], "%s\n%s", nr_search_strategy_name(rows[i].cfg.strategy), sz);
        for (long k = 0; k < o->runs; k++) vals[(size_t)i * (size_t)o->runs + (size_t)k] = rows[i].res[k].test;
        series[i] = (nr_plot_series){labels[i], vals + (size_t)i * (size_t)o->runs, (size_t)o->runs};
    }
    double best = -INFINITY;
    for (int k = 0; k < NR_NUM_ARCHS; k++)
        best = fmax(best, nr_table_acc(nr_table_by_index(t, k), o->ds, NR_METRIC_TEST, 200));
    snprintf(title, sizeof title, "%s test accuracy of the chosen architecture (%ld runs)", nr_dataset_name(o->ds),
             o->runs);
    snprintf(ylabel, sizeof ylabel, "%s (%%)", col_test(o->ds));
    snprintf(ref, sizeof ref, "best in space %.2f", best);
    nr_plot_labels lab = {.title = title, .ylabel = ylabel, .has_ref = 1, .ref_value = best, .ref_label = ref};
    nr_status st = nr_plot_distribution(o->plot, series, (size_t)nrows, &lab, NULL, err);
    free(vals);
    return st;
}

/* ---- the command ---- */

int cmd_search(int argc, char **argv)
{
    search_opts o;
    int pr = parse_opts(argc, argv, &o);
    if (pr) return pr > 0 ? CLI_OK : CLI_USAGE;
    static row rows[MAX_ROWS];
    int nrows;
    if (make_rows(&o, rows, &nrows)) return CLI_USAGE;

    int rc = CLI_ERR, need_scores = 0, pred_rows = 0;
    nr_error err = {0};
    nr_table *t = NULL;
    nr_score_cache *sc = NULL;
    nr_outfile *of = NULL;
    /* the predictor's proxy features other than NASWOT (or NASWOT when --score-column names
     * another column) read their own column of --scores: own_cache[k] */
    nr_score_cache *fcache[NR_PREDICTOR_MAX_SCORE_FEATURES] = {0};
    int S = nr_predictor_num_score_features(o.pred.features), own_cache[NR_PREDICTOR_MAX_SCORE_FEATURES] = {0};
    for (int i = 0; i < nrows; i++) pred_rows |= rows[i].cfg.strategy == NR_SEARCH_PREDICTOR;
    for (int k = 0; k < S && pred_rows; k++) {
        unsigned bit = nr_predictor_score_feature(o.pred.features, k);
        if (bit == NR_FEAT_NASWOT && !strcmp(o.score_column, "naswot")) continue;
        own_cache[k] = 1;
        if (!o.scores) {
            const char *nm = nr_predictor_feature_name(bit);
            cli_usage("search", "--pred-features %s needs --scores FILE with a '%s' column (run `nasrank score --all "
                                "--proxy %s -o FILE` first; only NASWOT is computed on the fly)", nm, nm, nm);
            return CLI_USAGE;
        }
    }
    for (int i = 0; i < nrows; i++) rows[i].cfg.pred_feature_scores = fcache;
    if (nr_table_load(NULL, &t, &err)) goto done;
    for (int k = 0; k < S; k++)
        if (own_cache[k] && (nr_score_cache_create(t, &fcache[k], &err) ||
                             nr_score_cache_load_csv(fcache[k], o.scores,
                                                     nr_predictor_feature_name(nr_predictor_score_feature(o.pred.features, k)),
                                                     &err)))
            goto done;
    for (int i = 0; i < nrows; i++) need_scores |= nr_search_needs_scores(&rows[i].cfg);
    if (o.reward_epochs == 12 && nr_table_load_12ep(t, NULL, &err)) goto done;
    if (need_scores) {
        if (!o.scores && o.ds == NR_DS_IMAGENET16) {
            nr_error_set(&err, NR_ERR_INVALID, NULL, 0, 0,
                         "no ImageNet16-120 images to compute NASWOT scores: give --scores FILE");
            goto done;
        }
        if (setup_scores(&o, t, &sc, &err)) goto done;
    }
    for (int i = 0; i < nrows; i++) {
        rows[i].res = calloc((size_t)o.runs, sizeof *rows[i].res);
        if (!rows[i].res) {
            nr_error_set(&err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for %ld runs", o.runs);
            goto done;
        }
    }
    if (cli_check_output_path(o.out, &err) || cli_check_output_path(o.plot, &err)) goto done;
    cli_progress prog;
    cli_progress_start(&prog, (size_t)nrows * (size_t)o.runs, "searching");
    size_t done_runs = 0;
    for (int i = 0; i < nrows; i++) {
        for (long k = 0; k < o.runs; k++) {
            if (nr_search_run(t, sc, &rows[i].cfg, (int)k, &rows[i].res[k], &err)) {
                cli_progress_end(&prog);
                goto done;
            }
            cli_progress_update(&prog, ++done_runs);
        }
        nr_search_summarize(rows[i].res, (int)o.runs, &rows[i].sum);
    }
    cli_progress_end(&prog);

    /* the plot first: when it fails, no output has been committed */
    if (o.plot && write_plot(&o, t, rows, nrows, &err)) goto done;
    FILE *f;
    if (nr_outfile_open(o.out, &of, &f, &err)) goto done;
    if (o.json) write_json(f, &o, rows, nrows, sc);
    else write_table(f, &o, rows, nrows, sc);
    nr_status st = nr_outfile_commit(of, &err);
    of = NULL;
    if (st) goto done;
    if (o.json && o.out && strcmp(o.out, "-")) write_table(stdout, &o, rows, nrows, sc); /* JSON to the file */
    if (sc && nr_score_cache_computed(sc))
        fprintf(stderr, "nasrank: computed %zu NASWOT scores on the fly (%.1f s); 'nasrank score --all' makes a "
                        "score file for --scores\n",
                nr_score_cache_computed(sc), nr_score_cache_seconds(sc));
    rc = CLI_OK;
done:
    if (rc != CLI_OK) cli_fail(&err);
    nr_outfile_abort(of);
    for (int i = 0; i < nrows; i++) {
        free(rows[i].res);
        rows[i].res = NULL;
    }
    nr_score_cache_free(sc);
    for (int k = 0; k < NR_PREDICTOR_MAX_SCORE_FEATURES; k++) nr_score_cache_free(fcache[k]);
    nr_table_free(t);
    return rc;
}
