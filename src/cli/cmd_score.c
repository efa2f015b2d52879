/* nasrank score — NASWOT (and counts) for every architecture of a CSV, or the whole space.
 *
 * Results are cached per architecture, so duplicate rows cost nothing; every computed score
 * is appended (and flushed) to OUT.partial so a killed run resumes with --resume; the final
 * file is written atomically and the partial file removed.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_rows.h"
#include "cli/progress.h"

typedef struct score_opts {
    const char *in, *out, *images, *threads;
    int json, all, keep_going, resume, timing;
    long batch, seed;
    nr_dataset ds;
    nr_naswot_variant variant;
} score_opts;

typedef struct arch_result {
    int done;
    double naswot;
    int sign;
    long long units;
    double seconds;
} arch_result;

typedef struct row {
    int id;      /* lexicographic arch id, -1 when the row has an error */
    char *error; /* message (keep-going) */
} row;

static const char *added_cols[] = {"naswot", "params", "flops", "seconds", "error"};

static void help(FILE *f)
{
    fprintf(f,
            "usage: nasrank score IN.csv [options]\n"
            "       nasrank score --all [options]\n"
            "Score architectures with NASWOT (log|det K| of the ReLU-code overlap kernel of an\n"
            "untrained network on one image batch).  IN.csv needs an 'arch' / 'arch_str' column\n"
            "(official NAS-Bench-201 string) or an 'index' column; other columns are kept.\n"
            "Adds: naswot, params (count), flops (M multiply-adds per image), seconds.\n\n"
            "  -o, --output FILE      write here (atomically) instead of stdout\n"
            "      --json             JSON array of row objects instead of CSV\n"
            "      --all              score all 15,625 NAS-Bench-201 architectures\n"
            "  -b, --batch N          images per batch (default 128)\n"
            "  -s, --seed S           seed of the weights and of the image choice (default 1)\n"
            "  -d, --dataset D        cifar10 (default) or cifar100: images, normalisation, classes\n"
            "      --images FILE      CIFAR binary file to draw the batch from\n"
            "      --naswot-variant V reference (default: as the published code, conv inputs\n"
            "                         counted twice) or paper (each ReLU once)\n"
            "  -t, --threads N        BLIS threads (default $NASRANK_THREADS or 1)\n"
            "      --keep-going       record bad rows in an 'error' column and go on\n"
            "      --resume           continue a killed run from OUT.partial (needs -o)\n"
            "      --no-timing        omit the 'seconds' column (byte-identical reruns)\n"
            "  -h, --help             this help\n"
            "Scores depend only on (arch, seed, batch, dataset, variant), not on row order.\n");
}

static int parse_opts(int argc, char **argv, score_opts *o)
{
    static const struct option opts[] = {
        {"output", required_argument, 0, 'o'}, {"json", no_argument, 0, 'J'},
        {"all", no_argument, 0, 'A'}, {"batch", required_argument, 0, 'b'},
        {"seed", required_argument, 0, 's'}, {"dataset", required_argument, 0, 'd'},
        {"images", required_argument, 0, 'I'}, {"naswot-variant", required_argument, 0, 'V'},
        {"threads", required_argument, 0, 't'}, {"keep-going", no_argument, 0, 'K'},
        {"resume", no_argument, 0, 'R'}, {"no-timing", no_argument, 0, 'T'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (score_opts){.batch = 128, .seed = 1, .ds = NR_DS_CIFAR10, .timing = 1};
    nr_error err = {0};
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, "o:b:s:d:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'J': o->json = 1; break;
        case 'A': o->all = 1; break;
        case 'b':
            if (cli_parse_long("score", "--batch", optarg, 2, 4096, &o->batch)) return -1;
            break;
        case 's':
            if (cli_parse_long("score", "--seed", optarg, 0, 0x7fffffffffffffffL, &o->seed)) return -1;
            break;
        case 'd':
            if (nr_dataset_parse(optarg, &o->ds, &err)) return cli_usage("score", "%s", err.text), -1;
            if (o->ds != NR_DS_CIFAR10 && o->ds != NR_DS_CIFAR100 && o->ds != NR_DS_CIFAR10_VALID)
                return cli_usage("score", "--dataset: only cifar10 and cifar100 images are available"), -1;
            if (o->ds == NR_DS_CIFAR10_VALID) o->ds = NR_DS_CIFAR10;
            break;
        case 'I': o->images = optarg; break;
        case 'V':
            if (!strcmp(optarg, "reference")) o->variant = NR_NASWOT_REFERENCE;
            else if (!strcmp(optarg, "paper")) o->variant = NR_NASWOT_PAPER;
            else return cli_usage("score", "--naswot-variant must be 'reference' or 'paper'"), -1;
            break;
        case 't': o->threads = optarg; break;
        case 'K': o->keep_going = 1; break;
        case 'R': o->resume = 1; break;
        case 'T': o->timing = 0; break;
        case 'h': help(stdout); return 1;
        default: return cli_usage("score", "bad option"), -1;
        }
    }
    if (o->all && optind != argc) return cli_usage("score", "--all takes no input file"), -1;
    if (!o->all && optind != argc - 1) return cli_usage("score", "expected one input CSV (or --all)"), -1;
    if (!o->all) o->in = argv[optind];
    if (o->resume && (!o->out || !strcmp(o->out, "-")))
        return cli_usage("score", "--resume needs an output file (-o FILE)"), -1;
    if (cli_apply_threads("score", o->threads)) return -1;
    return 0;
}

/* ---- the partial-results file (OUT.partial): a header, then "id,naswot,sign,units,seconds" ---- */

static void partial_header(const score_opts *o, const char *images, char *buf, size_t n)
{
    snprintf(buf, n, "# nasrank score partial v1 seed=%ld batch=%ld dataset=%s variant=%s images=%s\n",
             o->seed, o->batch, nr_dataset_name(o->ds),
             o->variant == NR_NASWOT_PAPER ? "paper" : "reference", images);
}

static nr_status partial_load(const char *path, const char *header, arch_result *cache, size_t *loaded,
                              nr_error *err)
{
    *loaded = 0;
    FILE *f = fopen(path, "r");
    if (!f) return NR_OK; /* nothing to resume: start from scratch */
    char line[512];
    long ln = 0;
    nr_status st = NR_OK;
    while (fgets(line, sizeof line, f)) {
        ln++;
        size_t len = strlen(line);
        if (len == 0 || line[len - 1] != '\n') break; /* torn last line of a killed run */
        if (ln == 1) {
            if (strcmp(line, header) != 0) {
                st = nr_error_set(err, NR_ERR_INVALID, path, 1, 1,
                                  "partial results were made with other settings; remove the file or "
                                  "rerun with the same options (it says: %.*s)", (int)(len - 1), line);
                break;
            }
            continue;
        }
        int id, sign;
        long long units;
        char sc[64];
        double secs;
        if (sscanf(line, "%d,%63[^,],%d,%lld,%lf", &id, sc, &sign, &units, &secs) != 5 || id < 0 ||
            id >= NR_NUM_ARCHS) {
            st = nr_error_set(err, NR_ERR_PARSE, path, ln, 1, "malformed partial-results line");
            break;
        }
        cache[id] = (arch_result){1, strtod(sc, NULL), sign, units, secs};
        (*loaded)++;
    }
    fclose(f);
    return st;
}

/* ---- output ---- */

static int is_added(const char *name)
{
    for (size_t i = 0; i < sizeof added_cols / sizeof *added_cols; i++)
        if (!strcmp(name, added_cols[i])) return 1;
    return 0;
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

/* A kept input cell in JSON: a number when it is one, else a string. */
static void json_cell(FILE *f, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*s && !*end && isfinite(v) && s[0] != ' ') cli_json_number(f, v);
    else json_string(f, s);
}

typedef struct out_ctx {
    const score_opts *o;
    const nr_csv *csv;       /* NULL with --all */
    const nr_table *table;   /* for --all */
    const row *rows;
    size_t nrows;
    const arch_result *cache;
    nr_macro_config cfg;
} out_ctx;

static void write_rows(FILE *f, const out_ctx *c)
{
    size_t ncol = c->csv ? nr_csv_ncols(c->csv) : 2;
    const score_opts *o = c->o;
    char num[64];
    if (o->json) fputs("[\n", f);
    else {
        int first = 1;
        for (size_t j = 0; j < ncol; j++) {
            const char *h = c->csv ? nr_csv_header(c->csv, j) : (j ? "arch_str" : "index");
            if (is_added(h)) continue;
            if (!first) fputc(',', f);
            nr_csv_write_field(f, h);
            first = 0;
        }
        fprintf(f, "%snaswot,params,flops%s%s\n", first ? "" : ",", o->timing ? ",seconds" : "",
                o->keep_going ? ",error" : "");
    }
    for (size_t i = 0; i < c->nrows; i++) {
        const row *r = &c->rows[i];
        int first = 1;
        if (o->json) fputs(i ? ",\n  {" : "  {", f);
        for (size_t j = 0; j < ncol; j++) {
            const char *h = c->csv ? nr_csv_header(c->csv, j) : (j ? "arch_str" : "index");
            if (is_added(h)) continue;
            char idx[32];
            const char *cell;
            if (c->csv) cell = nr_csv_cell(c->csv, i, j);
            else if (j == 0) snprintf(idx, sizeof idx, "%zu", i), cell = idx;
            else {
                static char a[NR_ARCH_STR_MAX];
                nr_arch_format(&nr_table_by_index(c->table, (long)i)->arch, a, sizeof a);
                cell = a;
            }
            if (o->json) {
                if (!first) fputs(", ", f);
                json_string(f, h);
                fputs(": ", f);
                json_cell(f, cell);
            } else {
                if (!first) fputc(',', f);
                nr_csv_write_field(f, cell);
            }
            first = 0;
        }
        const arch_result *res = r->id >= 0 ? &c->cache[r->id] : NULL;
        nr_arch a = r->id >= 0 ? nr_arch_from_id(r->id) : (nr_arch){{0}};
        double vals[4] = {NAN, NAN, NAN, NAN};
        if (res) {
            vals[0] = res->naswot;
            vals[1] = (double)nr_arch_params(&a, &c->cfg);
            vals[2] = nr_arch_flops(&a, &c->cfg) / 1e6;
            vals[3] = res->seconds;
        }
        int nv = o->timing ? 4 : 3;
        for (int k = 0; k < nv; k++) {
            if (o->json) {
                fprintf(f, "%s\"%s\": ", first ? "" : ", ", added_cols[k]);
                cli_json_number(f, vals[k]);
            } else {
                if (res) cli_fmt_double(num, sizeof num, vals[k]);
                fprintf(f, "%s%s", first ? "" : ",", res ? num : "");
            }
            first = 0;
        }
        if (o->keep_going) {
            if (o->json) {
                fputs(", \"error\": ", f);
                if (r->error) json_string(f, r->error);
                else fputs("null", f);
            } else {
                fputc(',', f);
                nr_csv_write_field(f, r->error ? r->error : "");
            }
        }
        if (o->json) fputc('}', f);
        else fputc('\n', f);
    }
    if (o->json) fputs("\n]\n", f);
}

/* ---- the command ---- */

int cmd_score(int argc, char **argv)
{
    score_opts o;
    int pr = parse_opts(argc, argv, &o);
    if (pr) return pr > 0 ? CLI_OK : CLI_USAGE;

    int rc = CLI_ERR;
    nr_error err = {0};
    nr_csv *csv = NULL;
    nr_table *table = NULL;
    nr_images *im = NULL;
    row *rows = NULL;
    size_t nrows = 0, nfailed = 0;
    arch_result *cache = calloc(NR_NUM_ARCHS, sizeof *cache);
    float *batch = NULL;
    size_t *pick = NULL;
    FILE *partial = NULL;
    char *partial_path = NULL;
    nr_outfile *of = NULL;
    if (!cache) goto nomem;

    /* rows */
    cli_archcols ac = {-1, -1};
    if (o.all) {
        if (nr_table_load(NULL, &table, &err)) goto done;
        nrows = nr_table_size(table);
    } else {
        if (nr_csv_read(o.in, &csv, &err)) goto done;
        if (cli_find_arch_columns(csv, &ac, &err)) goto done;
        if (ac.arch < 0 && nr_table_load(NULL, &table, &err)) goto done;
        nrows = nr_csv_nrows(csv);
    }
    rows = calloc(nrows ? nrows : 1, sizeof *rows);
    if (!rows) goto nomem;
    for (size_t i = 0; i < nrows; i++) {
        nr_arch a;
        if (o.all) {
            rows[i].id = nr_arch_to_id(&nr_table_by_index(table, (long)i)->arch);
            continue;
        }
        nr_error rerr = {0};
        if (cli_row_arch(csv, &ac, i, table, &a, &rerr)) {
            if (!o.keep_going) {
                err = rerr;
                goto done;
            }
            char buf[1024];
            rows[i].id = -1;
            rows[i].error = strdup(nr_error_format(&rerr, buf, sizeof buf));
            nfailed++;
            continue;
        }
        rows[i].id = nr_arch_to_id(&a);
    }

    /* images: one fixed batch for the whole run */
    const char *img_rel = o.images ? o.images
                          : o.ds == NR_DS_CIFAR100 ? "cifar100/train_head486.bin"
                                                   : "cifar10/data_batch_1_head4000.bin";
    char img_path[4096];
    if (o.images) snprintf(img_path, sizeof img_path, "%s", o.images);
    else if (nr_data_find(img_rel, img_path, sizeof img_path, &err)) goto done;
    if (nr_images_read(img_path, o.ds == NR_DS_CIFAR100 ? NR_CIFAR100 : NR_CIFAR10, &im, &err)) goto done;
    nr_macro_config cfg = nr_macro_default();
    cfg.num_classes = o.ds == NR_DS_CIFAR100 ? 100 : 10;
    int B = (int)o.batch, S = cfg.image_size;
    batch = malloc((size_t)B * 3 * S * S * sizeof *batch);
    pick = malloc((size_t)B * sizeof *pick);
    if (!batch || !pick) goto nomem;
    nr_norm norm = o.ds == NR_DS_CIFAR100 ? nr_norm_cifar100() : nr_norm_cifar10();
    if (nr_images_choose(im, (size_t)B, (uint64_t)o.seed, pick, &err)) goto done;
    if (nr_images_batch(im, pick, (size_t)B, &norm, S, batch, &err)) goto done;

    /* resume bookkeeping */
    char header[4400];
    partial_header(&o, o.images ? o.images : img_rel, header, sizeof header);
    if (o.out && strcmp(o.out, "-")) {
        size_t n = strlen(o.out) + 9;
        if (!(partial_path = malloc(n))) goto nomem;
        snprintf(partial_path, n, "%s.partial", o.out);
        size_t loaded = 0;
        if (o.resume) {
            if (partial_load(partial_path, header, cache, &loaded, &err)) goto done;
            fprintf(stderr, "nasrank: resuming with %zu scores from %s\n", loaded, partial_path);
        }
        partial = fopen(partial_path, o.resume && loaded ? "a" : "w");
        if (!partial) {
            nr_error_set(&err, NR_ERR_IO, partial_path, 0, 0, "cannot write partial results");
            goto done;
        }
        if (!(o.resume && loaded)) fputs(header, partial);
    }

    /* score every distinct architecture not yet known */
    size_t todo = 0, done_n = 0;
    {
        unsigned char *seen = calloc(NR_NUM_ARCHS, 1);
        if (!seen) goto nomem;
        for (size_t i = 0; i < nrows; i++)
            if (rows[i].id >= 0 && !cache[rows[i].id].done && !seen[rows[i].id]) seen[rows[i].id] = 1, todo++;
        free(seen);
    }
    cli_progress prog;
    cli_progress_start(&prog, todo, "scoring");
    for (size_t i = 0; i < nrows; i++) {
        int id = rows[i].id;
        if (id < 0 || cache[id].done) continue;
        nr_arch a = nr_arch_from_id(id);
        nr_naswot_result res;
        double t0 = cli_now();
        if (nr_naswot_score_arch(&a, &cfg, (uint64_t)o.seed, batch, B, o.variant, &res, &err)) {
            cli_progress_end(&prog);
            goto done;
        }
        cache[id] = (arch_result){1, res.score, res.sign, res.n_units, cli_now() - t0};
        if (partial) {
            char sc[64];
            cli_fmt_double(sc, sizeof sc, res.score);
            fprintf(partial, "%d,%s,%d,%lld,%.6f\n", id, sc, res.sign, res.n_units, cache[id].seconds);
            fflush(partial);
        }
        cli_progress_update(&prog, ++done_n);
    }
    cli_progress_end(&prog);

    /* final output, atomically */
    FILE *f;
    if (nr_outfile_open(o.out, &of, &f, &err)) goto done;
    out_ctx oc = {&o, csv, table, rows, nrows, cache, cfg};
    write_rows(f, &oc);
    nr_status st = nr_outfile_commit(of, &err);
    of = NULL;
    if (st) goto done;
    if (partial) {
        fclose(partial);
        partial = NULL;
        remove(partial_path);
    }
    if (nfailed) fprintf(stderr, "nasrank: %zu of %zu rows had errors (see the 'error' column)\n", nfailed, nrows);
    rc = CLI_OK;
    goto done;
nomem:
    nr_error_set(&err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
    if (rc != CLI_OK) cli_fail(&err);
    nr_outfile_abort(of);
    if (partial) fclose(partial);
    free(partial_path);
    for (size_t i = 0; rows && i < nrows; i++) free(rows[i].error);
    free(rows);
    free(cache);
    free(batch);
    free(pick);
    nr_images_free(im);
    nr_table_free(table);
    nr_csv_free(csv);
    return rc;
}
