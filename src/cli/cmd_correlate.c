/* nasrank correlate FILE.csv — rank correlations of score columns vs ground truth. */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_rows.h"
#include "core/utf8.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: nasrank correlate FILE.csv [--col NAME]... [--dataset D] [--metric valid|test]\n"
            "                         [--epochs 200|12] [--inf-last] [--json | --csv] [--plot FILE.svg]\n"
            "Join each row to the NAS-Bench-201 table (by an 'arch'/'arch_str' or 'index' column)\n"
            "and print, for each score column: pairs used, pairs dropped (NaN/inf/empty),\n"
            "Kendall tau-b, Spearman rho, Pearson r, and top-5%%/top-10%% precision.\n\n"
            "  -c, --col NAME     score column (repeatable); default: every numeric column\n"
            "                     except index/iso_index/n_runs/seconds\n"
            "  -d, --dataset D    cifar10-valid, cifar10 (default), cifar100, ImageNet16-120\n"
            "  -m, --metric M     valid or test (default test)\n"
            "      --epochs E     200 (default) or 12 (the 12-epoch table)\n"
            "      --inf-last     rank -inf scores last and +inf first (a degenerate arch's NASWOT\n"
            "                     is -inf: the worst) instead of dropping them; Pearson stays on\n"
            "                     the finite pairs\n"
            "      --json         JSON array, one object per column\n"
            "      --csv          CSV, one row per column\n"
            "      --plot FILE    scatter plot of the first score column against the ground truth,\n"
            "                     Kendall tau in the title (.svg or .png)\n"
            "  -h, --help         this help\n");
}

/* Excluded from the automatic choice of score columns. */
static int is_bookkeeping(const char *name)
{
    static const char *skip[] = {"index", "arch", "arch_str", "iso_index", "n_runs", "seconds", "error", "id"};
    for (size_t i = 0; i < sizeof skip / sizeof *skip; i++)
        if (!strcmp(name, skip[i])) return 1;
    return 0;
}

/* Cell to double: empty, "nan", "inf" become non-finite (dropped later).  Returns -1 when the
 * cell is not a number at all (leading whitespace included, as nr_csv_get_double). */
static int cell_value(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 0;
    }
    if (isspace((unsigned char)*s)) return -1;
    char *end;
    *v = strtod(s, &end);
    return (end != s && *end == '\0') ? 0 : -1;
}

/* A cell for an error message: at most 40 bytes, control bytes as '?'. */
static const char *shorten(const char *s, char *buf, size_t size)
{
    size_t n = 0;
    for (; s[n] && n < 40 && n + 4 < size; n++)
        buf[n] = (unsigned char)s[n] < 0x20 || s[n] == 0x7f ? '?' : s[n];
    if (s[n] && n + 4 <= size) memcpy(buf + n, "...", 3), n += 3;
    buf[n] = '\0';
    return buf;
}

/* --plot: score column vs ground truth, the correlation in the title. */
static nr_status plot_scatter(const char *path, const char *column, const double *score,
                              const double *truth, size_t n, const nr_correlation *r, nr_dataset ds,
                              nr_metric metric, long epochs, nr_error *err)
{
    char title[256], ylabel[128], name[61];
    const char *m = metric == NR_METRIC_TEST ? "test" : "valid";
    nr_utf8_clean(column, name, sizeof name); /* at most 60 bytes, cut between characters */
    snprintf(title, sizeof title, "%s vs %s %s: Kendall tau = %.3f (n = %zu)", name, nr_dataset_name(ds), m,
             r->kendall, r->n);
    snprintf(ylabel, sizeof ylabel, "%s %s accuracy (%%)%s", nr_dataset_name(ds), m, epochs == 12 ? ", 12 epochs" : "");
    nr_plot_labels lab = {.title = title, .xlabel = column, .ylabel = ylabel};
    return nr_plot_scatter(path, score, truth, n, &lab, NULL, err);
}

int cmd_correlate(int argc, char **argv)
{
    static const struct option opts[] = {
        {"col", required_argument, 0, 'c'}, {"dataset", required_argument, 0, 'd'},
        {"metric", required_argument, 0, 'm'}, {"epochs", required_argument, 0, 'e'},
        {"json", no_argument, 0, 'j'}, {"csv", no_argument, 0, 'C'},
        {"plot", required_argument, 0, 'p'}, {"inf-last", no_argument, 0, 'i'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    const char *plot = NULL;
    const char *cols[64];
    int ncols = 0, format = 0, c, inf_last = 0; /* format: 0 text, 1 json, 2 csv */
    nr_dataset ds = NR_DS_CIFAR10;
    nr_metric metric = NR_METRIC_TEST;
    long epochs = 200;
    nr_error err = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "c:d:m:h", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            if (ncols == 64) return cli_usage("correlate", "at most 64 --col options");
            cols[ncols++] = optarg;
            break;
        case 'd':
            if (nr_dataset_parse(optarg, &ds, &err)) return cli_usage("correlate", "%s", err.text);
            break;
        case 'm':
            if (!strcmp(optarg, "valid")) metric = NR_METRIC_VALID;
            else if (!strcmp(optarg, "test")) metric = NR_METRIC_TEST;
            else return cli_usage("correlate", "--metric must be 'valid' or 'test', got '%s'", optarg);
            break;
        case 'e':
            if (cli_parse_long("correlate", "--epochs", optarg, 12, 200, &epochs)) return CLI_USAGE;
            if (epochs != 12 && epochs != 200) return cli_usage("correlate", "--epochs must be 200 or 12");
            break;
        case 'i': inf_last = 1; break;
        case 'j': format = 1; break;
        case 'C': format = 2; break;
        case 'p': {
            nr_plot_format pf;
            if (nr_plot_format_from_path(optarg, &pf, &err)) return cli_usage("correlate", "--plot: %s", err.text);
            plot = optarg;
            break;
        }
        case 'h': help(stdout); return CLI_OK;
        default: return cli_usage("correlate", "bad option");
        }
    }
    if (optind != argc - 1) return cli_usage("correlate", "expected exactly one input FILE.csv");

    int rc = CLI_ERR;
    nr_csv *csv = NULL;
    nr_table *t = NULL;
    double *truth = NULL, *score = NULL;
    nr_correlation *res = NULL; /* (nuse) */
    long colidx[256];
    int nuse = 0;
    if (nr_csv_read(argv[optind], &csv, &err)) goto done;
    cli_archcols ac;
    if (cli_find_arch_columns(csv, &ac, &err)) goto done;
    if (nr_table_load(NULL, &t, &err)) goto done;
    if (epochs == 12 && nr_table_load_12ep(t, NULL, &err)) goto done;
    size_t n = nr_csv_nrows(csv);
    if (n < 2) {
        nr_error_set(&err, NR_ERR_INVALID, nr_csv_source(csv), 0, 0, "need at least 2 data rows, got %zu", n);
        goto done;
    }
    truth = malloc(n * sizeof *truth);
    score = malloc(n * sizeof *score);
    if (!truth || !score) {
        nr_error_set(&err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        nr_arch a;
        if (cli_row_arch(csv, &ac, i, t, &a, &err)) goto done;
        truth[i] = nr_table_acc(nr_table_by_arch(t, &a), ds, metric, (int)epochs);
    }
    /* choose the score columns */
    if (ncols) {
        for (int k = 0; k < ncols; k++) {
            long ci = nr_csv_find_col(csv, cols[k]);
            if (ci < 0) {
                nr_error_set(&err, NR_ERR_INVALID, nr_csv_source(csv), nr_csv_header_line(csv), 0,
                             "no column '%s' in the header", cols[k]);
                goto done;
            }
            colidx[nuse++] = ci;
        }
    } else {
        for (size_t ci = 0; ci < nr_csv_ncols(csv) && nuse < 256; ci++) {
            if ((long)ci == ac.arch || (long)ci == ac.index || is_bookkeeping(nr_csv_header(csv, ci))) continue;
            int numeric = 1;
            for (size_t i = 0; i < n && numeric; i++) {
                double v;
                numeric = cell_value(nr_csv_cell(csv, i, ci), &v) == 0;
            }
            if (numeric) colidx[nuse++] = (long)ci;
        }
        if (!nuse) {
            nr_error_set(&err, NR_ERR_INVALID, nr_csv_source(csv), nr_csv_header_line(csv), 0,
                         "no numeric score column found (name one with --col)");
            goto done;
        }
    }
    /* every column is computed before anything is printed: an error leaves stdout empty */
    if (!(res = malloc((size_t)nuse * sizeof *res))) {
        nr_error_set(&err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (int k = 0; k < nuse; k++) {
        size_t ci = (size_t)colidx[k];
        for (size_t i = 0; i < n; i++) {
            if (cell_value(nr_csv_cell(csv, i, ci), &score[i])) {
                char shown[64];
                nr_error_set(&err, NR_ERR_PARSE, nr_csv_source(csv), nr_csv_row_line(csv, i), (long)ci + 1,
                             "column '%s': expected a number, got \"%s\"", nr_csv_header(csv, ci),
                             shorten(nr_csv_cell(csv, i, ci), shown, sizeof shown));
                goto done;
            }
        }
        nr_error cerr = {0};
        double finite_pearson = NAN;
        if (inf_last) {
            nr_correlation fin;
            if (nr_correlate(score, truth, n, &fin, NULL) == NR_OK) finite_pearson = fin.pearson;
            nr_infinities_to_extremes(score, n);
        }
        if (nr_correlate(score, truth, n, &res[k], &cerr)) { /* located at the column */
            const char *why = strncmp(cerr.text, "correlate: ", 11) ? cerr.text : cerr.text + 11;
            nr_error_set(&err, cerr.code, nr_csv_source(csv), nr_csv_header_line(csv), (long)ci + 1,
                         "column '%s': %s", nr_csv_header(csv, ci), why);
            goto done;
        }
        if (inf_last) res[k].pearson = finite_pearson;
        if (k == 0 && plot &&
            plot_scatter(plot, nr_csv_header(csv, ci), score, truth, n, &res[0], ds, metric, epochs, &err))
            goto done;
    }
    if (format == 1) printf("[");
    else if (format == 2) printf("column,n,dropped,kendall,spearman,pearson,top5,top10\n");
    else printf("%-24s %6s %7s %8s %8s %8s %6s %6s\n", "column", "n", "dropped", "kendall", "spearman", "pearson", "top5%", "top10%");
    for (int k = 0; k < nuse; k++) {
        const nr_correlation r = res[k];
        const char *name = nr_csv_header(csv, (size_t)colidx[k]);
        if (format == 1) {
            printf("%s{\"column\": ", k ? ", " : "");
            cli_json_string(stdout, name);
            printf(", \"n\": %zu, \"dropped\": %zu, \"kendall\": ", r.n, r.dropped);
            cli_json_number(stdout, r.kendall);
            printf(", \"spearman\": ");
            cli_json_number(stdout, r.spearman);
            printf(", \"pearson\": ");
            cli_json_number(stdout, r.pearson);
            printf(", \"top5\": ");
            cli_json_number(stdout, r.top5);
            printf(", \"top10\": ");
            cli_json_number(stdout, r.top10);
            printf("}");
        } else if (format == 2) {
            nr_csv_write_field(stdout, name);
            printf(",%zu,%zu,%.6f,%.6f,%.6f,%.6f,%.6f\n", r.n, r.dropped, r.kendall, r.spearman, r.pearson, r.top5, r.top10);
        } else {
            printf("%-24s %6zu %7zu %8.4f %8.4f %8.4f %6.3f %6.3f\n", name, r.n, r.dropped, r.kendall, r.spearman, r.pearson, r.top5, r.top10);
        }
    }
    if (format == 1) printf("]\n");
    if (format == 0)
        printf("(ground truth: %s %s accuracy, %ld epochs%s)\n", nr_dataset_name(ds),
               metric == NR_METRIC_TEST ? "test" : "valid", epochs,
               inf_last ? "; -inf scores ranked last, +inf first, Pearson on finite pairs" : "");
    rc = CLI_OK;
done:
    if (rc != CLI_OK) rc = cli_fail(&err);
    free(truth);
    free(score);
    free(res);
    nr_table_free(t);
    nr_csv_free(csv);
    return rc;
}
