/* nasrank rank — score and rank the architectures of a CSV with a trained predictor.
 *
 * Keeps every input column and adds `predicted` (higher = better; see predictor.h for how the
 * comparator's score relates to its pairwise wins) and `rank` (1 = best; tied scores share the
 * smallest rank).  A model with proxy inputs takes each from the input's column of that name
 * (`naswot`, `synflow`, ...), else from --scores FILE; NASWOT alone is computed when neither
 * has it (slow).
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
            "      --scores FILE    proxy values for a model with proxy inputs (naswot, synflow, snip,\n"
            "                       grad_norm, grasp, fisher, jacob_cov) that IN.csv has no column\n"
            "                       for: 'nasrank score --proxy ...' output or its .partial file.\n"
            "                       Without either, NASWOT is computed (~0.2 s per arch); the other\n"
            "                       proxies must come from 'nasrank score --proxy' first\n"
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
    /* proxy inputs: S columns in bit order, each from IN.csv, else --scores, else computed (NASWOT) */
    unsigned fm = nr_predictor_get_config(p)->features, from_file = 0;
    size_t S = (size_t)nr_predictor_num_score_features(fm), S1 = S ? S : 1;
    long col[NR_PREDICTOR_MAX_SCORE_FEATURES];
    char absent[160] = ""; /* proxies neither in IN.csv nor computable */
    for (size_t k = 0; k < S; k++) {
        unsigned bit = nr_predictor_score_feature(fm, (int)k);
        const char *nm = nr_predictor_feature_name(bit);
        col[k] = nr_csv_find_col(csv, nm);
        if (col[k] >= 0) continue;
        if (scores) from_file |= bit;
        else if (bit != NR_FEAT_NASWOT)
            snprintf(absent + strlen(absent), sizeof absent - strlen(absent), "%s%s", *absent ? "," : "", nm);
    }
    if (*absent) {
        nr_error_set(&err, NR_ERR_INVALID, in, nr_csv_header_line(csv), 0,
                     "the model uses the proxy input(s) %s: no such column and no --scores FILE; run "
                     "`nasrank score %s --proxy %s -o SCORES.csv` first and rank SCORES.csv (or pass "
                     "--scores SCORES.csv)", absent, in, absent);
        goto done;
    }
    if (ac.arch < 0 || from_file) {
        if (nr_table_load(NULL, &t, &err)) goto done;
    }
    size_t n = nr_csv_nrows(csv);
    archs = malloc((n ? n : 1) * sizeof *archs);
    nw = malloc((n ? n : 1) * S1 * sizeof *nw);
    pred = malloc((n ? n : 1) * sizeof *pred);
    rk = malloc((n ? n : 1) * sizeof *rk);
    rank = malloc((n ? n : 1) * sizeof *rank);
    if (!archs || !nw || !pred || !rk || !rank) goto nomem;
    for (size_t r = 0; r < n; r++)
        if (cli_row_arch(csv, &ac, r, t, &archs[r], &err)) goto done;

    size_t Sf = (size_t)nr_predictor_num_score_features(from_file);
    if (from_file) {
        size_t cnt;
        if (!(byid = malloc(NR_NUM_ARCHS * Sf * sizeof *byid))) goto nomem;
        if (nr_feature_scores_read(scores, t, from_file, byid, &cnt, &err)) goto done;
    }
    for (size_t k = 0, kf = 0; k < S; k++) {
        unsigned bit = nr_predictor_score_feature(fm, (int)k);
        if (col[k] >= 0) {
            for (size_t r = 0; r < n; r++) {
                double v;
                nr_error e2 = {0};
                if (nr_csv_get_double(csv, r, (size_t)col[k], 1, &v, &err)) goto done;
                if (nr_predictor_check_score(bit, v, &e2)) {
                    nr_error_set(&err, NR_ERR_NUMERIC, in, nr_csv_row_line(csv, r), col[k] + 1, "%s", e2.text);
                    goto done;
                }
                nw[r * S + k] = v;
            }
        } else if (bit & from_file) {
            for (size_t r = 0; r < n; r++) {
                nw[r * S + k] = byid[(size_t)nr_arch_to_id(&archs[r]) * Sf + kf];
                if (isnan(nw[r * S + k])) {
                    char a[NR_ARCH_STR_MAX];
                    nr_arch_format(&archs[r], a, sizeof a);
                    nr_error_set(&err, NR_ERR_NOTFOUND, scores, 0, 0, "no %s score for %s (row at %s:%ld)",
                                 bit == NR_FEAT_NASWOT ? "NASWOT" : nr_predictor_feature_name(bit), a, in,
                                 nr_csv_row_line(csv, r));
                    goto done;
                }
            }
            kf++;
        } else { /* NASWOT, computed */
            double *tmp = malloc((n ? n : 1) * sizeof *tmp);
            if (!tmp) goto nomem;
            fprintf(stderr, "nasrank rank: the model uses NASWOT; computing it for %zu rows (no 'naswot' column, "
                            "no --scores)\n", n);
            cli_progress prog;
            cli_progress_start(&prog, n, "naswot");
            nr_status st = nr_naswot_compute(archs, n, ds, 1, 128, tmp, naswot_progress, &prog, &err);
            cli_progress_end(&prog);
            for (size_t r = 0; r < n && !st; r++) nw[r * S + k] = tmp[r];
            free(tmp);
            if (st) goto done;
        }
    }
    if (nr_predictor_predict(p, archs, S ? nw : NULL, n, pred, &err)) {
        /* name the input file for row-level problems */
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
