/* nasrank rank — score and rank the architectures of a CSV with a trained predictor.
 *
 * Keeps every input column and adds `predicted` (higher = better; see predictor.h for how the
 * comparator's score relates to its pairwise wins) and `rank` (1 = best; tied scores share the
 * smallest rank).  A model with the NASWOT input takes the scores from a `naswot` column of
 * the input, else from --scores FILE, else computes them (slow).
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_rows.h"
#include "cli/progress.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: nasrank rank --model MODEL.json IN.csv [-o OUT.csv] [options]\n"
            "Predict with a model made by 'nasrank train' and rank the rows of IN.csv (an 'arch' /\n"
            "'arch_str' column or an 'index' column).  Every input column is kept; adds 'predicted'\n"
            "(higher = better) and 'rank' (1 = best, ties share the smallest rank).\n\n"
            "  -m, --model FILE     the model (required)\n"
            "  -o, --output FILE    write here (atomically) instead of stdout\n"
            "      --scores FILE    NASWOT scores for a model with the NASWOT input, when IN.csv has no\n"
            "                       'naswot' column (else NASWOT is computed: ~0.2 s per arch)\n"
            "  -d, --dataset D      images for computing NASWOT: cifar10 (default) or cifar100\n"
            "  -t, --threads N      threads for computing NASWOT\n"
            "  -h, --help           this help\n");
}

typedef struct ranked {
    double score;
    size_t row;
} ranked;

static int cmp_ranked(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1; /* descending */
    return (x->row > y->row) - (x->row < y->row);
}

static void naswot_progress(void *ctx, size_t done, size_t total)
{
    (void)total;
    cli_progress_update(ctx, done);
}

int cmd_rank(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"output", required_argument, 0, 'o'},
        {"scores", required_argument, 0, 'S'}, {"dataset", required_argument, 0, 'd'},
        {"threads", required_argument, 0, 't'}, {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *model = NULL, *out = NULL, *scores = NULL, *threads = NULL;
    nr_dataset ds = NR_DS_CIFAR10;
    nr_error err = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:o:d:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case 'o': out = optarg; break;
        case 'S': scores = optarg; break;
        case 'd':
            if (nr_dataset_parse(optarg, &ds, &err)) return cli_usage("rank", "%s", err.text);
            break;
        case 't': threads = optarg; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_usage("rank", "bad option");
        }
    }
    if (!model) return cli_usage("rank", "a model is required (--model MODEL.json)");
    if (optind != argc - 1) return cli_usage("rank", "expected exactly one input CSV");
    if (cli_apply_threads("rank", threads)) return CLI_USAGE;
    const char *in = argv[optind];

    int rc = CLI_ERR;
    nr_predictor *p = NULL;
    nr_csv *csv = NULL;
    nr_table *t = NULL;
    nr_arch *archs = NULL;
    double *nw = NULL, *pred = NULL, *byid = NULL;
    ranked *rk = NULL;
    long *rank = NULL;
    nr_outfile *of = NULL;
    if (nr_predictor_load(model, &p, &err)) goto done;
    if (nr_csv_read(in, &csv, &err)) goto done;
    cli_archcols ac;
    if (cli_find_arch_columns(csv, &ac, &err)) goto done;
    int uses_naswot = (nr_predictor_get_config(p)->features & NR_FEAT_NASWOT) != 0;
    long ncol = nr_csv_find_col(csv, "naswot");
    if (ac.arch < 0 || (uses_naswot && ncol < 0 && scores)) {
        if (nr_table_load(NULL, &t, &err)) goto done;
    }
    size_t n = nr_csv_nrows(csv);
    archs = malloc((n ? n : 1) * sizeof *archs);
    nw = malloc((n ? n : 1) * sizeof *nw);
    pred = malloc((n ? n : 1) * sizeof *pred);
    rk = malloc((n ? n : 1) * sizeof *rk);
    rank = malloc((n ? n : 1) * sizeof *rank);
    if (!archs || !nw || !pred || !rk || !rank) goto nomem;
    for (size_t r = 0; r < n; r++)
        if (cli_row_arch(csv, &ac, r, t, &archs[r], &err)) goto done;

    if (uses_naswot) {
        if (ncol >= 0) {
            for (size_t r = 0; r < n; r++)
                if (nr_csv_get_double(csv, r, (size_t)ncol, 1, &nw[r], &err)) goto done;
        } else if (scores) {
            size_t cnt;
            if (!(byid = malloc(NR_NUM_ARCHS * sizeof *byid))) goto nomem;
            if (nr_naswot_scores_read(scores, t, byid, &cnt, &err)) goto done;
            for (size_t r = 0; r < n; r++) {
                nw[r] = byid[nr_arch_to_id(&archs[r])];
                if (isnan(nw[r])) {
                    char a[NR_ARCH_STR_MAX];
                    nr_arch_format(&archs[r], a, sizeof a);
                    nr_error_set(&err, NR_ERR_NOTFOUND, scores, 0, 0, "no NASWOT score for %s (row at %s:%ld)", a,
                                 in, nr_csv_row_line(csv, r));
                    goto done;
                }
            }
        } else {
            fprintf(stderr, "nasrank rank: the model uses NASWOT; computing it for %zu rows (no 'naswot' column, "
                            "no --scores)\n", n);
            cli_progress prog;
            cli_progress_start(&prog, n, "naswot");
            nr_status st = nr_naswot_compute(archs, n, ds, 1, 128, nw, naswot_progress, &prog, &err);
            cli_progress_end(&prog);
            if (st) goto done;
        }
    }
    if (nr_predictor_predict(p, archs, uses_naswot ? nw : NULL, n, pred, &err)) {
        /* name the input file for row-level problems (e.g. a NaN naswot cell) */
        if (!err.source[0]) snprintf(err.source, sizeof err.source, "%s", in);
        goto done;
    }
    for (size_t r = 0; r < n; r++) rk[r] = (ranked){pred[r], r};
    qsort(rk, n, sizeof *rk, cmp_ranked);
    for (size_t k = 0; k < n; k++)
        rank[rk[k].row] = (k > 0 && rk[k].score == rk[k - 1].score) ? rank[rk[k - 1].row] : (long)k + 1;

    FILE *f;
    if (nr_outfile_open(out, &of, &f, &err)) goto done;
    size_t nc = nr_csv_ncols(csv);
    int first = 1;
    for (size_t j = 0; j < nc; j++) {
        const char *h = nr_csv_header(csv, j);
        if (!strcmp(h, "predicted") || !strcmp(h, "rank")) continue;
        if (!first) fputc(',', f);
        nr_csv_write_field(f, h);
        first = 0;
    }
    fprintf(f, "%spredicted,rank\n", first ? "" : ",");
    for (size_t r = 0; r < n; r++) {
        first = 1;
        for (size_t j = 0; j < nc; j++) {
            const char *h = nr_csv_header(csv, j);
            if (!strcmp(h, "predicted") || !strcmp(h, "rank")) continue;
            if (!first) fputc(',', f);
            nr_csv_write_field(f, nr_csv_cell(csv, r, j));
            first = 0;
        }
        char num[64];
        cli_fmt_double(num, sizeof num, pred[r]);
        fprintf(f, "%s%s,%ld\n", first ? "" : ",", num, rank[r]);
    }
    nr_status st = nr_outfile_commit(of, &err);
    of = NULL;
    if (st) goto done;
    rc = CLI_OK;
    goto done;
nomem:
    nr_error_set(&err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
    if (rc != CLI_OK) cli_fail(&err);
    nr_outfile_abort(of);
    nr_predictor_free(p);
    nr_csv_free(csv);
    nr_table_free(t);
    free(archs), free(nw), free(pred), free(rk), free(rank), free(byid);
    return rc;
}
