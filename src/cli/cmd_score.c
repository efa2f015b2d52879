/* nasrank score — NASWOT (and counts) for every architecture of a CSV, or the whole space;
 * with --proxy, any of the zero-cost proxies (include/nasrank/proxy.h) and their mean-rank
 * ensemble.
 *
 * Results are cached per architecture, so duplicate rows cost nothing; every computed score
 * is appended (and flushed) to OUT.partial so a killed run resumes with --resume; the final
 * file is written atomically and the partial file removed.  The default (--proxy naswot)
 * keeps the original columns and partial-file format (v1); other selections use format v2.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/cli_rows.h"
#include "cli/progress.h"
#include "score/partial.h"
#include "ops/ops.h"

typedef struct score_opts {
    const char *in, *out, *images, *threads;
    int json, all, keep_going, resume, timing;
    long batch, seed;
    nr_dataset ds;
    nr_naswot_variant variant;
    long pbatch;          /* --proxy-batch: images for the gradient proxies */
    unsigned mask;        /* --proxy: NR_PROXY_BIT set */
    unsigned ens_mask;    /* ensemble members */
    int want_ens;         /* an 'ensemble' column */
} score_opts;

/* The original output and partial format: NASWOT only, no ensemble. */
static int naswot_only(const score_opts *o)
{
    return o->mask == NR_PROXY_BIT(NR_PROXY_NASWOT) && !o->want_ens;
}

/* Proxies computed per architecture (and kept in the partial file): params and flops are
 * counted from the architecture when the output is written. */
static int computed(const score_opts *o, int id)
{
    return (o->mask & NR_PROXY_BIT(id)) && id != NR_PROXY_PARAMS && id != NR_PROXY_FLOPS;
}

typedef struct arch_result {
    int done;
    double naswot;
    int sign;
    long long units;
    double seconds;
    double value[NR_NUM_PROXIES]; /* --proxy values (v2) */
    double psecs[NR_NUM_PROXIES]; /* seconds charged to each */
} arch_result;

typedef struct row {
    int id;      /* lexicographic arch id, -1 when the row has an error */
    char *error; /* message (keep-going) */
} row;

static void help(FILE *f)
{
    fprintf(f,
            "usage: nasrank score IN.csv [options]\n"
            "       nasrank score --all [options]\n"
            "Score architectures with NASWOT (log|det K| of the ReLU-code overlap kernel of an\n"
            "untrained network on one image batch).  IN.csv needs an 'arch' / 'arch_str' column\n"
            "(official NAS-Bench-201 string) or an 'index' column; other columns are kept.\n"
            "Adds: naswot, params (count), flops (M multiply-adds per image), seconds.\n"
            "With --proxy: one column per chosen proxy, params, flops, [ensemble], seconds and\n"
            "<proxy>_seconds (the time charged to each; shared passes split evenly).\n\n"
            "  -o, --output FILE      write here (atomically) instead of stdout\n"
            "      --json             JSON array of row objects instead of CSV\n"
            "      --all              score all 15,625 NAS-Bench-201 architectures\n"
            "  -b, --batch N          images per batch (default 128)\n"
            "  -s, --seed S           seed of the weights and of the image choice (default 1)\n"
            "  -d, --dataset D        cifar10 (default) or cifar100: images, normalisation, classes\n"
            "      --images FILE      CIFAR binary file to draw the batch from\n"
            "      --naswot-variant V reference (default: as the published code, conv inputs\n"
            "                         counted twice) or paper (each ReLU once)\n"
            "      --proxy LIST       comma-separated: naswot (default), synflow, snip, grad_norm,\n"
            "                         grasp, fisher, jacob_cov, params, flops; 'all'; 'ensemble'\n"
            "                         (mean normalised rank of the ensemble members over this\n"
            "                         run's architectures, 0 worst .. 1 best)\n"
            "      --ensemble LIST    ensemble members (default synflow,jacob_cov,params);\n"
            "                         implies an 'ensemble' column\n"
            "      --proxy-batch N    images for snip, grad_norm, grasp, fisher, jacob_cov\n"
            "                         (default 64, the reference's; the first N of the batch choice)\n"
            "  -t, --threads N        threads (default $NASRANK_THREADS, else the CPUs, at most 8);\n"
            "                         many architectures: one per thread at a time\n"
            "      --keep-going       record bad rows in an 'error' column and go on\n"
            "      --resume           continue a killed run from OUT.partial (needs -o)\n"
            "      --no-timing        omit the 'seconds' column (byte-identical reruns)\n"
            "  -h, --help             this help\n"
            "Scores depend only on (arch, seed, batch, proxy batch, dataset, variant), not on row\n"
            "order (the ensemble column on the set of architectures scored).\n");
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
        {"proxy", required_argument, 0, 'P'}, {"ensemble", required_argument, 0, 'E'},
        {"proxy-batch", required_argument, 0, 'B'},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    *o = (score_opts){.batch = 128, .seed = 1, .ds = NR_DS_CIFAR10, .timing = 1, .pbatch = 64,
                      .mask = NR_PROXY_BIT(NR_PROXY_NASWOT)};
    const char *proxy_list = NULL, *ens_list = NULL;
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
        case 'P': proxy_list = optarg; break;
        case 'E': ens_list = optarg; break;
        case 'B':
            if (cli_parse_long("score", "--proxy-batch", optarg, 2, 4096, &o->pbatch)) return -1;
            break;
        case 'h': help(stdout); return 1;
        default: return cli_usage("score", "bad option"), -1;
        }
    }
    if (o->all && optind != argc) return cli_usage("score", "--all takes no input file"), -1;
    if (!o->all && optind != argc - 1) return cli_usage("score", "expected one input CSV (or --all)"), -1;
    if (!o->all) o->in = argv[optind];
    if (o->resume && (!o->out || !strcmp(o->out, "-")))
        return cli_usage("score", "--resume needs an output file (-o FILE)"), -1;
    if (ens_list) {
        if (nr_proxy_parse_list(ens_list, &o->ens_mask, NULL, NULL, &err))
            return cli_usage("score", "--ensemble: %s", err.text), -1;
        o->want_ens = 1;
    }
    if (proxy_list) {
        unsigned m = 0;
        int ens = 0;
        if (nr_proxy_parse_list(proxy_list, &m, &ens, &o->ens_mask, &err))
            return cli_usage("score", "--proxy: %s", err.text), -1;
        o->mask = m;
        o->want_ens |= ens;
    }
    if (o->want_ens) {
        if (!o->ens_mask) o->ens_mask = nr_proxy_default_ensemble();
        o->mask |= o->ens_mask;
    }
    if (cli_apply_threads("score", o->threads)) return -1;
    return 0;
}

/* ---- the partial-results file (OUT.partial): a header, then "id,naswot,sign,units,seconds" ----
 *
 * The file is opened without truncation and locked (fcntl) before anything is read or
 * written, so two runs with the same -o never interleave their lines: the second one goes on
 * without a partial file (it cannot be resumed) or, with --resume, stops.  A killed run can
 * leave a torn last line (no newline); --resume keeps the complete lines and cuts the rest
 * off before appending.  A complete line that does not parse is an error, never a score. */

static void partial_header(const score_opts *o, const char *images, char *buf, size_t n)
{
    if (naswot_only(o)) {
        snprintf(buf, n, "# nasrank score partial v1 seed=%ld batch=%ld dataset=%s variant=%s images=%s\n",
                 o->seed, o->batch, nr_dataset_name(o->ds),
                 o->variant == NR_NASWOT_PAPER ? "paper" : "reference", images);
        return;
    }
    /* v2: "id,seconds" then "value,seconds" per computed proxy, in registry order */
    char list[256] = "";
    for (int p = 0; p < NR_NUM_PROXIES; p++)
        if (computed(o, p)) {
            if (list[0]) strcat(list, ",");
            strcat(list, nr_proxy_info_get(p)->name);
        }
    snprintf(buf, n, "# nasrank score partial v2 seed=%ld batch=%ld proxy_batch=%ld dataset=%s variant=%s "
             "proxies=%s images=%s\n", o->seed, o->batch, o->pbatch, nr_dataset_name(o->ds),
             o->variant == NR_NASWOT_PAPER ? "paper" : "reference", list[0] ? list : "-", images);
}

/* One partial-results line (newline stripped, len bytes) into *id / *r; -1 if malformed
 * (score/partial.h), or if a value is NaN or +inf: this run never writes those (-inf is a
 * singular NASWOT kernel or a constant Jacobian). */
static int partial_parse(const score_opts *o, const char *s, size_t len, int *id, arch_result *r)
{
    int nv = 0;
    for (int p = 0; p < NR_NUM_PROXIES; p++) nv += computed(o, p);
    nr_partial_line pl;
    if (naswot_only(o) ? nr_partial_parse_v1(s, len, &pl) : nr_partial_parse_v2(s, len, nv, &pl)) return -1;
    for (int j = 0; j < pl.nvalues; j++)
        if (isnan(pl.value[j]) || pl.value[j] == INFINITY) return -1;
    arch_result a = {0};
    a.done = 1;
    a.seconds = pl.seconds;
    if (naswot_only(o)) {
        a.naswot = pl.value[0];
        a.sign = pl.sign;
        a.units = pl.units;
    } else {
        for (int p = 0, j = 0; p < NR_NUM_PROXIES; p++) {
            a.value[p] = computed(o, p) ? pl.value[j] : NAN;
            a.psecs[p] = computed(o, p) ? pl.vseconds[j++] : 0.0;
        }
        a.naswot = a.value[NR_PROXY_NASWOT];
    }
    *id = pl.id;
    *r = a;
    return 0;
}

/* Reads f from the start; *keep = bytes of the header and every complete line. */
static nr_status partial_load(const score_opts *o, FILE *f, const char *path, const char *header,
                              arch_result *cache, size_t *loaded, long *keep, nr_error *err)
{
    *loaded = 0;
    *keep = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    long ln = 0, pos = 0;
    nr_status st = NR_OK;
    rewind(f);
    while ((errno = 0, len = getline(&line, &cap, f)) > 0) {
        ln++;
        if (line[len - 1] != '\n') break; /* torn last line of a killed run */
        if (ln == 1) {
            if (strcmp(line, header) != 0) {
                st = nr_error_set(err, NR_ERR_INVALID, path, 1, 1,
                                  "partial results were made with other settings; remove the file or "
                                  "rerun with the same options (it says: %.*s)", (int)(len - 1), line);
                break;
            }
        } else {
            int id = 0;
            arch_result r;
            line[len - 1] = '\0';
            if (partial_parse(o, line, (size_t)len - 1, &id, &r)) {
                st = nr_error_set(err, NR_ERR_PARSE, path, ln, 1,
                                  "malformed partial-results line (expected %s); remove the file to start over",
                                  naswot_only(o) ? "id,naswot,sign,units,seconds"
                                                 : "id,seconds, then value,seconds per proxy");
                break;
            }
            cache[id] = r;
            (*loaded)++;
        }
        pos += (long)len;
    }
    if (st == NR_OK && ferror(f))
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot read partial results: %s", strerror(errno));
    else if (st == NR_OK && len < 0 && errno == ENOMEM)
        st = nr_error_set(err, NR_ERR_NOMEM, path, ln + 1, 0, "out of memory reading partial results");
    free(line);
    if (st == NR_OK) *keep = *loaded ? pos : 0;
    return st;
}

/* Opens and locks OUT.partial; *f stays NULL when another run holds the lock (with a
 * warning, or an error when resuming).  Retries if the file was removed under us. */
static nr_status partial_open(const char *path, int resume, FILE **f, nr_error *err)
{
    *f = NULL;
    for (int tries = 0; tries < 5; tries++) {
        int fd = open(path, O_RDWR | O_CREAT, 0666);
        if (fd < 0)
            return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot write partial results: %s", strerror(errno));
        struct flock fl = {0};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        /* EACCES / EAGAIN: another run holds the lock.  Any other failure (a file system
         * without locks: ENOLCK and the like) goes on unlocked. */
        if (fcntl(fd, F_SETLK, &fl) != 0 && (errno == EACCES || errno == EAGAIN)) {
            close(fd);
            if (resume)
                return nr_error_set(err, NR_ERR_IO, path, 0, 0,
                                    "another nasrank run is writing these partial results; wait for it to end");
            fprintf(stderr, "nasrank: warning: another nasrank run is writing %s; this run keeps no "
                    "partial results (it cannot be resumed)\n", path);
            return NR_OK;
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev && a.st_ino == b.st_ino) {
            *f = fdopen(fd, "r+");
            if (!*f) {
                int e = errno;
                close(fd);
                return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot write partial results: %s", strerror(e));
            }
            return NR_OK;
        }
        close(fd); /* removed (by a run that just finished) between open and lock: again */
    }
    return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot write partial results: the file keeps disappearing");
}

/* Appends one score; on a write error warns once and writes no more (the file stays open
 * and locked, and is removed after a successful run as usual). */
static void partial_append(const score_opts *o, FILE *f, int *broken, const char *path, int id,
                           const arch_result *r)
{
    if (*broken) return;
    char sc[64];
    int bad = 0;
    if (naswot_only(o)) {
        cli_fmt_double(sc, sizeof sc, r->naswot);
        bad = fprintf(f, "%d,%s,%d,%lld,%.6f\n", id, sc, r->sign, r->units, r->seconds) < 0;
    } else {
        bad = fprintf(f, "%d,%.6f", id, r->seconds) < 0;
        for (int p = 0; p < NR_NUM_PROXIES && !bad; p++)
            if (computed(o, p)) {
                cli_fmt_double(sc, sizeof sc, r->value[p]);
                bad = fprintf(f, ",%s,%.6f", sc, r->psecs[p]) < 0;
            }
        bad = bad || fputc('\n', f) == EOF;
    }
    if (bad || fflush(f) != 0) {
        fprintf(stderr, "nasrank: warning: %s: cannot write partial results (%s); this run can no "
                "longer be resumed\n", path, strerror(errno));
        *broken = 1;
    }
}

/* ---- output ---- */

/* The added output columns, in order. */
enum { COL_VALUE, COL_PARAMS, COL_FLOPS, COL_ENSEMBLE, COL_SECONDS, COL_PSECONDS };
typedef struct out_col {
    int kind, proxy;
    char name[48];
} out_col;

static int output_columns(const score_opts *o, out_col *cols)
{
    int n = 0;
    for (int p = 0; p < NR_NUM_PROXIES; p++)
        if (computed(o, p)) {
            cols[n] = (out_col){COL_VALUE, p, ""};
            snprintf(cols[n++].name, sizeof cols->name, "%s", nr_proxy_info_get(p)->name);
        }
    cols[n++] = (out_col){COL_PARAMS, NR_PROXY_PARAMS, "params"};
    cols[n++] = (out_col){COL_FLOPS, NR_PROXY_FLOPS, "flops"};
    if (o->want_ens) cols[n++] = (out_col){COL_ENSEMBLE, -1, "ensemble"};
    if (o->timing) {
        cols[n++] = (out_col){COL_SECONDS, -1, "seconds"};
        if (!naswot_only(o))
            for (int p = 0; p < NR_NUM_PROXIES; p++)
                if (computed(o, p)) {
                    cols[n] = (out_col){COL_PSECONDS, p, ""};
                    snprintf(cols[n++].name, sizeof cols->name, "%s_seconds", nr_proxy_info_get(p)->name);
                }
    }
    return n;
}

/* Input columns named like an output column of this run are dropped (their values would be
 * stale); every other input column is kept, e.g. a 'naswot' column when only --proxy
 * synflow is computed, or a 'seconds' column under --no-timing. */
static int is_added(const score_opts *o, const char *name)
{
    out_col cols[2 * NR_NUM_PROXIES + 8];
    int n = output_columns(o, cols);
    for (int k = 0; k < n; k++)
        if (!strcmp(name, cols[k].name)) return 1;
    return o->keep_going && !strcmp(name, "error");
}

/* A kept input cell in JSON: a number when it is one, else a string. */
static void json_cell(FILE *f, const char *s)
{
    char *end;
    double v = strtod(s, &end);
    if (*s && !*end && isfinite(v) && s[0] != ' ') cli_json_number(f, v);
    else cli_json_string(f, s);
}

typedef struct out_ctx {
    const score_opts *o;
    const nr_csv *csv;       /* NULL with --all */
    const nr_table *table;   /* for --all */
    const row *rows;
    size_t nrows;
    const arch_result *cache;
    const double *ensemble;  /* by arch id (NULL without --proxy ensemble) */
    nr_macro_config cfg;
} out_ctx;

static void write_rows(FILE *f, const out_ctx *c)
{
    size_t ncol = c->csv ? nr_csv_ncols(c->csv) : 2;
    const score_opts *o = c->o;
    char num[64];
    out_col cols[2 * NR_NUM_PROXIES + 4];
    int nadd = output_columns(o, cols);
    if (o->json) fputs("[\n", f);
    else {
        int first = 1;
        for (size_t j = 0; j < ncol; j++) {
            const char *h = c->csv ? nr_csv_header(c->csv, j) : (j ? "arch_str" : "index");
            if (is_added(o, h)) continue;
            if (!first) fputc(',', f);
            nr_csv_write_field(f, h);
            first = 0;
        }
        for (int k = 0; k < nadd; k++) fprintf(f, "%s%s", first && !k ? "" : ",", cols[k].name);
        fprintf(f, "%s\n", o->keep_going ? ",error" : "");
    }
    for (size_t i = 0; i < c->nrows; i++) {
        const row *r = &c->rows[i];
        int first = 1;
        if (o->json) fputs(i ? ",\n  {" : "  {", f);
        for (size_t j = 0; j < ncol; j++) {
            const char *h = c->csv ? nr_csv_header(c->csv, j) : (j ? "arch_str" : "index");
            if (is_added(o, h)) continue;
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
                cli_json_string(f, h);
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
        for (int k = 0; k < nadd; k++) {
            double v = NAN;
            if (res) switch (cols[k].kind) {
                case COL_VALUE: v = naswot_only(o) ? res->naswot : res->value[cols[k].proxy]; break;
                case COL_PARAMS: v = (double)nr_arch_params(&a, &c->cfg); break;
                case COL_FLOPS: v = nr_arch_flops(&a, &c->cfg) / 1e6; break;
                case COL_ENSEMBLE: v = c->ensemble[r->id]; break;
                case COL_SECONDS: v = res->seconds; break;
                default: v = res->psecs[cols[k].proxy]; break;
                }
            if (o->json) {
                fprintf(f, "%s\"%s\": ", first ? "" : ", ", cols[k].name);
                cli_json_number(f, v);
            } else {
                if (res) cli_fmt_double(num, sizeof num, v);
                fprintf(f, "%s%s", first ? "" : ",", res ? num : "");
            }
            first = 0;
        }
        if (o->keep_going) {
            if (o->json) {
                fputs(", \"error\": ", f);
                if (r->error) cli_json_string(f, r->error);
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

/* ---- scoring ---- */

/* Many architectures are scored as one pool task each, every thread with its own scorer; the
 * kernels inside a task run on that thread alone (nested pool loops run inline).  Whole
 * architectures in parallel scale where one forward pass does not: batch norm, pooling and
 * skip edges are memory-bound and barely speed up with a second thread.  Scores are the same
 * bit for bit either way, since every kernel sums in a fixed order whatever the threads. */
typedef struct score_job {
    const score_opts *o;
    const nr_macro_config *cfg;
    const float *batch;
    int B;
    const int *ids; /* the distinct architectures still to score */
    size_t n;
    arch_result *cache;
    nr_proxy_scorer **scorers; /* one per thread; NULL: NASWOT only */
    pthread_mutex_t mu;        /* guards everything below */
    int failed;
    nr_error err;              /* the first failure */
    FILE *partial;
    int *partial_broken;
    const char *partial_path;
    cli_progress prog;
    size_t done_n;
} score_job;

static nr_status score_one(const score_job *J, nr_proxy_scorer *scorer, int id, arch_result *r,
                           nr_error *err)
{
    nr_arch a = nr_arch_from_id(id);
    double t0 = cli_now();
    memset(r, 0, sizeof *r);
    if (scorer) {
        nr_proxy_scores ps;
        nr_status st = nr_proxy_score(scorer, &a, J->o->mask, &ps, err);
        if (st) return st;
        memcpy(r->value, ps.value, sizeof r->value);
        memcpy(r->psecs, ps.seconds, sizeof r->psecs);
        r->naswot = ps.value[NR_PROXY_NASWOT];
    } else {
        nr_naswot_result res;
        nr_status st = nr_naswot_score_arch(&a, J->cfg, (uint64_t)J->o->seed, J->batch, J->B,
                                            J->o->variant, &res, err);
        if (st) return st;
        r->naswot = res.score;
        r->sign = res.sign;
        r->units = res.n_units;
    }
    r->done = 1;
    r->seconds = cli_now() - t0;
    return NR_OK;
}

static void score_task(void *ctx, long t, int tid)
{
    score_job *J = ctx;
    pthread_mutex_lock(&J->mu);
    int skip = J->failed;
    pthread_mutex_unlock(&J->mu);
    if (skip) return;
    int id = J->ids[t];
    arch_result r;
    nr_error e = {0};
    nr_status st = score_one(J, J->scorers ? J->scorers[tid] : NULL, id, &r, &e);
    pthread_mutex_lock(&J->mu);
    if (st) {
        if (!J->failed) J->err = e;
        J->failed = 1;
    } else {
        J->cache[id] = r;
        if (J->partial) partial_append(J->o, J->partial, J->partial_broken, J->partial_path, id, &r);
        cli_progress_update(&J->prog, ++J->done_n);
    }
    pthread_mutex_unlock(&J->mu);
}

/* Scores J->ids into J->cache.  first: the scorer made for the options (NULL for NASWOT
 * only); the other threads get scorers of their own made from pd. */
static nr_status score_all(score_job *J, nr_proxy_scorer *first, const nr_proxy_data *pd,
                           nr_error *err)
{
    int nt = nr_threads_get();
    if (J->n < 2) nt = 1; /* one architecture: its kernels use the threads instead */
    nr_proxy_scorer *scorers[NR_OPS_MAX_THREADS] = {0};
    nr_status st = NR_OK;
    if (first) {
        scorers[0] = first;
        for (int t = 1; t < nt && !st; t++)
            st = nr_proxy_scorer_create(J->cfg, (uint64_t)J->o->seed, pd, &scorers[t], err);
        J->scorers = scorers;
    }
    if (!st) {
        pthread_mutex_init(&J->mu, NULL);
        cli_progress_start(&J->prog, J->n, "scoring");
        if (nt > 1) {
            nr_parallel_for((long)J->n, score_task, J);
        } else {
            for (size_t t = 0; t < J->n && !J->failed; t++) score_task(J, (long)t, 0);
        }
        cli_progress_end(&J->prog);
        pthread_mutex_destroy(&J->mu);
        if (J->failed) {
            if (err) *err = J->err;
            st = J->err.code ? J->err.code : NR_ERR_INVALID;
        }
    }
    for (int t = 1; t < nt; t++) nr_proxy_scorer_free(scorers[t]);
    return st;
}

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
    int partial_broken = 0; /* a write to it failed: no more writes */
    char *partial_path = NULL;
    nr_outfile *of = NULL;
    int *labels = NULL;
    double *ens = NULL;
    nr_proxy_scorer *scorer = NULL;
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
            if (!rows[i].error) goto nomem;
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
    /* the gradient proxies take the first --proxy-batch images of the same choice (a larger
     * choice extends a smaller one), NASWOT the first --batch */
    unsigned grad_proxies = NR_PROXY_BIT(NR_PROXY_SNIP) | NR_PROXY_BIT(NR_PROXY_GRAD_NORM) |
                            NR_PROXY_BIT(NR_PROXY_GRASP) | NR_PROXY_BIT(NR_PROXY_FISHER) |
                            NR_PROXY_BIT(NR_PROXY_JACOB_COV);
    int PB = (o.mask & grad_proxies) ? (int)o.pbatch : 0, NB = B > PB ? B : PB;
    batch = malloc((size_t)NB * 3 * S * S * sizeof *batch);
    pick = malloc((size_t)NB * sizeof *pick);
    labels = malloc((size_t)NB * sizeof *labels);
    if (!batch || !pick || !labels) goto nomem;
    if (im->n < (size_t)NB) {
        nr_error_set(&err, NR_ERR_INVALID, img_path, 0, 0, "%zu image%s, fewer than the batch of %d (%s)",
                     im->n, im->n == 1 ? "" : "s", NB, NB > B ? "--proxy-batch" : "--batch");
        goto done;
    }
    nr_norm norm = o.ds == NR_DS_CIFAR100 ? nr_norm_cifar100() : nr_norm_cifar10();
    if (nr_images_choose(im, (size_t)NB, (uint64_t)o.seed, pick, &err)) goto done;
    if (nr_images_batch(im, pick, (size_t)NB, &norm, S, batch, &err)) goto done;
    for (int b = 0; b < NB; b++) labels[b] = im->labels[pick[b]];
    nr_proxy_data pd = {batch, labels, PB ? PB : 2, batch, B, o.variant}; /* every thread's scorer */
    if (!naswot_only(&o) && nr_proxy_scorer_create(&cfg, (uint64_t)o.seed, &pd, &scorer, &err)) goto done;

    /* resume bookkeeping */
    char header[4400];
    partial_header(&o, o.images ? o.images : img_rel, header, sizeof header);
    if (o.out && strcmp(o.out, "-")) {
        struct stat sb;
        int regular = stat(o.out, &sb) != 0 || S_ISREG(sb.st_mode); /* devices, FIFOs: no OUT.partial */
        if (!regular && S_ISDIR(sb.st_mode)) { /* fail before the work, not after it */
            nr_error_set(&err, NR_ERR_IO, o.out, 0, 0, "cannot write output: is a directory");
            goto done;
        }
        if (!regular && o.resume) {
            nr_error_set(&err, NR_ERR_INVALID, o.out, 0, 0, "--resume needs a regular output file");
            goto done;
        }
        size_t n = strlen(o.out) + 9;
        if (!(partial_path = malloc(n))) goto nomem;
        snprintf(partial_path, n, "%s.partial", o.out);
        if (regular && partial_open(partial_path, o.resume, &partial, &err)) goto done;
    }
    if (partial) {
        size_t loaded = 0;
        long keep = 0;
        if (o.resume) {
            if (partial_load(&o, partial, partial_path, header, cache, &loaded, &keep, &err)) goto done;
            fprintf(stderr, "nasrank: resuming with %zu scores from %s\n", loaded, partial_path);
        }
        if (fflush(partial) != 0 || ftruncate(fileno(partial), (off_t)keep) != 0 ||
            fseek(partial, keep, SEEK_SET) != 0 || (!keep && fputs(header, partial) == EOF) ||
            fflush(partial) != 0) {
            nr_error_set(&err, NR_ERR_IO, partial_path, 0, 0, "cannot write partial results: %s", strerror(errno));
            goto done;
        }
    }

    /* score every distinct architecture not yet known, in row order (the order of the
     * partial file with 1 thread) */
    {
        int *ids = malloc((nrows < NR_NUM_ARCHS ? nrows + 1 : NR_NUM_ARCHS) * sizeof *ids);
        unsigned char *seen = calloc(NR_NUM_ARCHS, 1);
        if (!ids || !seen) {
            free(ids), free(seen);
            goto nomem;
        }
        size_t n = 0;
        for (size_t i = 0; i < nrows; i++)
            if (rows[i].id >= 0 && !cache[rows[i].id].done && !seen[rows[i].id]) seen[rows[i].id] = 1, ids[n++] = rows[i].id;
        free(seen);
        score_job J = {.o = &o, .cfg = &cfg, .batch = batch, .B = B, .ids = ids, .n = n,
                       .cache = cache, .partial = partial, .partial_broken = &partial_broken,
                       .partial_path = partial_path};
        nr_status st = score_all(&J, scorer, &pd, &err);
        free(ids);
        if (st) goto done;
    }

    /* the ensemble: mean normalised rank of its members over the distinct archs scored */
    if (o.want_ens) {
        int members[NR_NUM_PROXIES], m = 0;
        for (int p = 0; p < NR_NUM_PROXIES; p++)
            if (o.ens_mask & NR_PROXY_BIT(p)) members[m++] = p;
        int *ids = malloc(NR_NUM_ARCHS * sizeof *ids);
        double *x = malloc((size_t)NR_NUM_ARCHS * m * sizeof *x), *out = malloc(NR_NUM_ARCHS * sizeof *out);
        ens = malloc(NR_NUM_ARCHS * sizeof *ens);
        unsigned char *seen = calloc(NR_NUM_ARCHS, 1);
        nr_status est = NR_OK;
        size_t n = 0;
        if (ids && x && out && ens && seen) {
            for (size_t i = 0; i < nrows; i++) {
                int id = rows[i].id;
                if (id < 0 || seen[id]) continue;
                seen[id] = 1;
                nr_arch a = nr_arch_from_id(id);
                for (int k = 0; k < m; k++)
                    x[n * m + k] = members[k] == NR_PROXY_PARAMS ? (double)nr_arch_params(&a, &cfg)
                                   : members[k] == NR_PROXY_FLOPS ? nr_arch_flops(&a, &cfg) / 1e6
                                                                  : cache[id].value[members[k]];
                ids[n++] = id;
            }
            if (n) est = nr_rank_ensemble(x, n, (size_t)m, (size_t)m, out, &err);
            for (size_t k = 0; !est && k < n; k++) ens[ids[k]] = out[k];
        }
        int ok = ids && x && out && ens && seen;
        free(ids), free(x), free(out), free(seen);
        if (!ok) goto nomem;
        if (est) goto done;
    }

    /* final output, atomically */
    FILE *f;
    if (nr_outfile_open(o.out, &of, &f, &err)) goto done;
    out_ctx oc = {&o, csv, table, rows, nrows, cache, ens, cfg};
    write_rows(f, &oc);
    nr_status st = nr_outfile_commit(of, &err);
    of = NULL;
    if (st) goto done;
    if (partial) { /* removed while still locked */
        remove(partial_path);
        fclose(partial);
        partial = NULL;
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
    free(labels);
    free(ens);
    nr_proxy_scorer_free(scorer);
    nr_images_free(im);
    nr_table_free(table);
    nr_csv_free(csv);
    return rc;
}
