/* nasrank train — fit a graph predictor (comparator / relativistic) on NAS-Bench-201 labels.
 *
 * Draws --train-size archs uniformly without replacement from the 15,625 (or takes --archs
 * FILE), looks their labels up in the table (default: 200-epoch validation accuracy), trains,
 * writes the model, and evaluates it on every arch whose isomorphism class holds no training
 * arch, against the dataset's test accuracy (isomorphic twins are never split between the
 * training and the evaluation side).
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
            "usage: nasrank train --model comparator|relativistic --train-size K -o MODEL.json [options]\n"
            "Train a graph predictor of architecture quality on labels looked up in the NAS-Bench-201\n"
            "table, print the training loss per epoch, and evaluate it on the archs not used.\n\n"
            "  -m, --model KIND        comparator (default) or relativistic\n"
            "  -k, --train-size K      labelled archs, drawn uniformly without replacement (default 100)\n"
            "      --archs FILE        train on the archs of this CSV instead ('arch'/'arch_str' or\n"
            "                          'index' column)\n"
            "  -s, --seed S            seed of the sample and of training (default 1)\n"
            "  -d, --dataset D         cifar10 (default), cifar100, ImageNet16-120, cifar10-valid\n"
            "      --label M           training label: valid (default; 200-epoch validation accuracy,\n"
            "                          for cifar10 the cifar10-valid split) or test.  The evaluation\n"
            "                          always uses the dataset's test accuracy.\n"
            "  -f, --features LIST     extra inputs, comma-separated (default none): params, flops\n"
            "                          (computed), and the proxy columns of 'nasrank score --proxy':\n"
            "                          naswot, synflow, snip, grad_norm, grasp, fisher, jacob_cov\n"
            "      --scores FILE       the proxy features' values: 'nasrank score --proxy ...' output\n"
            "                          (CSV, columns by name) or its .partial file.  Needed for every\n"
            "                          proxy but naswot; without it NASWOT is computed for the training\n"
            "                          archs (~0.2 s each; batch 128, seed 1, reference variant) and\n"
            "                          the evaluation is skipped\n"
            "  -o, --output FILE       model file to write (JSON; required)\n"
            "      --no-eval           skip the evaluation on the archs not used\n"
            "  -q, --quiet             no per-epoch lines\n"
            "  -t, --threads N         threads (members train in parallel; results do not depend on N)\n"
            "hyper-parameters (defaults in include/nasrank/predictor.h):\n"
            "      --epochs N --ensemble M --folds F --dim D --layers L --hidden H --batch B\n"
            "      --lr X --weight-decay X --clip X --patience N --refit 0|1 --prune 0..3\n"
            "      --adjacency plain|normalised\n"
            "  -h, --help              this help\n");
}

typedef struct train_opts {
    const char *out, *archs, *scores, *threads;
    nr_predictor_kind kind;
    long k, seed;
    nr_dataset ds;
    nr_metric label;
    unsigned features;
    int eval, quiet;
    nr_predictor_config cfg;
} train_opts;

static int parse_double(const char *opt, const char *s, double *out)
{
    char *end;
    double v = strtod(s, &end);
    if (end == s || *end || !isfinite(v)) {
        cli_usage("train", "%s expects a number, got '%s'", opt, s);
        return -1;
    }
    *out = v;
    return 0;
}

enum { O_ARCHS = 256, O_LABEL, O_SCORES, O_NOEVAL, O_EPOCHS, O_ENS, O_FOLDS, O_DIM, O_LAYERS, O_HIDDEN, O_BATCH,
       O_LR, O_WD, O_CLIP, O_PAT, O_REFIT, O_PRUNE, O_ADJ };

static int parse_opts(int argc, char **argv, train_opts *o)
{
    static const struct option opts[] = {
        {"model", required_argument, 0, 'm'}, {"train-size", required_argument, 0, 'k'},
        {"archs", required_argument, 0, O_ARCHS}, {"seed", required_argument, 0, 's'},
        {"dataset", required_argument, 0, 'd'}, {"label", required_argument, 0, O_LABEL},
        {"features", required_argument, 0, 'f'}, {"scores", required_argument, 0, O_SCORES},
        {"output", required_argument, 0, 'o'}, {"no-eval", no_argument, 0, O_NOEVAL},
        {"quiet", no_argument, 0, 'q'}, {"threads", required_argument, 0, 't'},
        {"epochs", required_argument, 0, O_EPOCHS}, {"ensemble", required_argument, 0, O_ENS},
        {"folds", required_argument, 0, O_FOLDS}, {"dim", required_argument, 0, O_DIM},
        {"layers", required_argument, 0, O_LAYERS}, {"hidden", required_argument, 0, O_HIDDEN},
        {"batch", required_argument, 0, O_BATCH}, {"lr", required_argument, 0, O_LR},
        {"weight-decay", required_argument, 0, O_WD}, {"clip", required_argument, 0, O_CLIP},
        {"patience", required_argument, 0, O_PAT}, {"refit", required_argument, 0, O_REFIT},
        {"prune", required_argument, 0, O_PRUNE}, {"adjacency", required_argument, 0, O_ADJ},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    nr_error err = {0};
    *o = (train_opts){.kind = NR_PRED_COMPARATOR, .k = 100, .seed = 1, .ds = NR_DS_CIFAR10, .label = NR_METRIC_VALID,
                      .eval = 1};
    /* hyper-parameter overrides are collected first and applied to the kind's defaults */
    long iv[O_ADJ + 1];
    double dv[O_ADJ + 1];
    int set[O_ADJ + 1] = {0};
    int c, k_given = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "m:k:s:d:f:o:qt:h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            if (nr_predictor_kind_parse(optarg, &o->kind, &err)) return cli_usage("train", "--model: %s", err.text), -1;
            break;
        case 'k':
            if (cli_parse_long("train", "--train-size", optarg, 4, NR_NUM_ARCHS - 1, &o->k)) return -1;
            k_given = 1;
            break;
        case O_ARCHS: o->archs = optarg; break;
        case 's':
            if (cli_parse_long("train", "--seed", optarg, 0, 0x7fffffffffffffffL, &o->seed)) return -1;
            break;
        case 'd':
            if (nr_dataset_parse(optarg, &o->ds, &err)) return cli_usage("train", "%s", err.text), -1;
            break;
        case O_LABEL:
            if (!strcmp(optarg, "valid")) o->label = NR_METRIC_VALID;
            else if (!strcmp(optarg, "test")) o->label = NR_METRIC_TEST;
            else return cli_usage("train", "--label must be 'valid' or 'test', got '%s'", optarg), -1;
            break;
        case 'f':
            if (nr_predictor_features_parse(optarg, &o->features, &err)) return cli_usage("train", "--features: %s", err.text), -1;
            break;
        case O_SCORES: o->scores = optarg; break;
        case 'o': o->out = optarg; break;
        case O_NOEVAL: o->eval = 0; break;
        case 'q': o->quiet = 1; break;
        case 't': o->threads = optarg; break;
        case O_EPOCHS: case O_ENS: case O_FOLDS: case O_DIM: case O_LAYERS: case O_HIDDEN: case O_BATCH:
        case O_PAT: case O_REFIT: case O_PRUNE: {
            const char *name = c == O_EPOCHS ? "--epochs" : c == O_ENS ? "--ensemble" : c == O_FOLDS ? "--folds"
                             : c == O_DIM ? "--dim" : c == O_LAYERS ? "--layers" : c == O_HIDDEN ? "--hidden"
                             : c == O_BATCH ? "--batch" : c == O_PAT ? "--patience" : c == O_REFIT ? "--refit" : "--prune";
            if (cli_parse_long("train", name, optarg, 0, 100000, &iv[c])) return -1;
            set[c] = 1;
            break;
        }
        case O_LR: case O_WD: case O_CLIP:
            if (parse_double(c == O_LR ? "--lr" : c == O_WD ? "--weight-decay" : "--clip", optarg, &dv[c])) return -1;
            set[c] = 1;
            break;
        case O_ADJ:
            if (!strcmp(optarg, "plain")) iv[c] = NR_ADJ_PLAIN;
            else if (!strcmp(optarg, "normalised") || !strcmp(optarg, "normalized")) iv[c] = NR_ADJ_NORMALISED;
            else return cli_usage("train", "--adjacency must be 'plain' or 'normalised', got '%s'", optarg), -1;
            set[c] = 1;
            break;
        case 'h': help(stdout); return 1;
        default: return cli_usage("train", "bad option"), -1;
        }
    }
    if (optind != argc) return cli_usage("train", "unexpected argument '%s'", argv[optind]), -1;
    if (!o->out) return cli_usage("train", "an output model file is required (-o MODEL.json)"), -1;
    if (o->archs && k_given) return cli_usage("train", "--archs and --train-size exclude each other"), -1;
    if (o->scores && !(o->features & NR_FEAT_SCORES))
        return cli_usage("train", "--scores is only used with a proxy feature (--features naswot, synflow, snip, "
                                  "grad_norm, grasp, fisher or jacob_cov)"), -1;
    unsigned need = o->features & NR_FEAT_SCORES & ~(unsigned)NR_FEAT_NASWOT;
    if (need && !o->scores) {
        const char *nm = nr_predictor_feature_name(nr_predictor_score_feature(need, 0));
        return cli_usage("train", "--features %s needs --scores FILE (run `nasrank score ARCHS.csv --proxy %s -o "
                                  "FILE` first; only NASWOT is computed on the fly)", nm, nm), -1;
    }
    nr_predictor_config *cfg = &o->cfg;
    *cfg = nr_predictor_config_default(o->kind);
    cfg->seed = (uint64_t)o->seed;
    cfg->features = o->features;
    if (set[O_EPOCHS]) cfg->epochs = (int)iv[O_EPOCHS];
    if (set[O_ENS]) cfg->ensemble = (int)iv[O_ENS];
    if (set[O_FOLDS]) cfg->folds = (int)iv[O_FOLDS];
    if (set[O_DIM]) cfg->embed_dim = (int)iv[O_DIM];
    if (set[O_LAYERS]) cfg->layers = (int)iv[O_LAYERS];
    if (set[O_HIDDEN]) cfg->head_hidden = (int)iv[O_HIDDEN];
    if (set[O_BATCH]) cfg->batch = (int)iv[O_BATCH];
    if (set[O_PAT]) cfg->patience = (int)iv[O_PAT];
    if (set[O_REFIT]) cfg->refit = (int)iv[O_REFIT];
    if (set[O_PRUNE]) cfg->prune = (int)iv[O_PRUNE];
    if (set[O_ADJ]) cfg->adjacency = (nr_adjacency)iv[O_ADJ];
    if (set[O_LR]) cfg->lr = dv[O_LR];
    if (set[O_WD]) cfg->weight_decay = dv[O_WD];
    if (set[O_CLIP]) cfg->clip = dv[O_CLIP];
    if (nr_predictor_config_check(cfg, &err)) return cli_usage("train", "%s", err.text), -1;
    if (cli_apply_threads("train", o->threads)) return -1;
    return 0;
}

/* ---- per-epoch lines: the mean over members, printed once every member reported it ---- */

typedef struct epoch_lines {
    int members, quiet, cap;
    int next[2];           /* next epoch to print, per phase */
    double *loss[2], *tau[2];
    int *cnt[2];
    int header[2];
} epoch_lines;

static void print_line(epoch_lines *el, int ph, int e)
{
    if (!el->header[ph]) {
        if (ph == 0) printf("%s", "phase 1: each member trains on all folds but its own and is scored on it\n"
                                  "epoch      loss  held-out tau\n");
        else printf("%s", "phase 2: refit of every member on all labels\nepoch      loss\n");
        el->header[ph] = 1;
    }
    int n = el->cnt[ph][e];
    double l = el->loss[ph][e] / n, t = el->tau[ph][e] / n;
    if (ph == 0 && !isnan(t)) printf("%5d  %8.5f  %12.4f", e + 1, l, t);
    else printf("%5d  %8.5f", e + 1, l);
    if (n < el->members) printf("   (%d of %d members still training)", n, el->members);
    putchar('\n');
}

static void on_epoch(void *ctx, const nr_predictor_progress *p)
{
    epoch_lines *el = ctx;
    int ph = p->phase ? 1 : 0, e = p->epoch - 1;
    if (el->quiet || e < 0 || e >= el->cap) return;
    el->loss[ph][e] += p->loss;
    el->tau[ph][e] += p->holdout_tau;
    el->cnt[ph][e]++;
    while (el->next[ph] < el->cap && el->cnt[ph][el->next[ph]] == el->members) print_line(el, ph, el->next[ph]++);
    fflush(stdout);
}

/* Epochs some members never reached (early stopping without refit) are printed at the end. */
static void flush_lines(epoch_lines *el)
{
    for (int ph = 0; ph < 2 && !el->quiet; ph++)
        while (el->next[ph] < el->cap && el->cnt[ph][el->next[ph]] > 0) print_line(el, ph, el->next[ph]++);
}

static void naswot_progress(void *ctx, size_t done, size_t total)
{
    (void)total;
    cli_progress_update(ctx, done);
}

int cmd_train(int argc, char **argv)
{
    train_opts o;
    int pr = parse_opts(argc, argv, &o);
    if (pr) return pr > 0 ? CLI_OK : CLI_USAGE;
    int rc = CLI_ERR;
    nr_error err = {0};
    nr_table *t = NULL;
    nr_csv *csv = NULL;
    nr_predictor *p = NULL;
    nr_arch *ta = NULL, *ea = NULL;
    double *ty = NULL, *tn = NULL, *ey = NULL, *en = NULL, *pred = NULL, *naswot = NULL;
    int *cls = NULL, *perm = NULL;
    unsigned char *used = NULL;
    epoch_lines el = {0};
    double t0 = cli_now();

    if (nr_table_load(NULL, &t, &err)) goto done;
    nr_dataset lds = o.ds;
    /* cifar10's validation accuracy is the cifar10-valid split's (the table keeps it there) */
    const char *label_name = o.label == NR_METRIC_VALID && o.ds == NR_DS_CIFAR10 ? "cifar10-valid" : nr_dataset_name(o.ds);
    size_t S = (size_t)nr_predictor_num_score_features(o.features), S1 = S ? S : 1;
    ta = malloc(NR_NUM_ARCHS * sizeof *ta);
    ea = malloc(NR_NUM_ARCHS * sizeof *ea);
    ty = malloc(NR_NUM_ARCHS * sizeof *ty);
    tn = malloc(NR_NUM_ARCHS * S1 * sizeof *tn);
    ey = malloc(NR_NUM_ARCHS * sizeof *ey);
    en = malloc(NR_NUM_ARCHS * S1 * sizeof *en);
    pred = malloc(NR_NUM_ARCHS * sizeof *pred);
    naswot = malloc(NR_NUM_ARCHS * S1 * sizeof *naswot); /* (arch id, S) score features */
    cls = malloc(NR_NUM_ARCHS * sizeof *cls);
    perm = malloc(NR_NUM_ARCHS * sizeof *perm);
    used = calloc(NR_NUM_ARCHS, 1);
    if (!ta || !ea || !ty || !tn || !ey || !en || !pred || !naswot || !cls || !perm || !used) goto nomem;
    /* isomorphism class of a lexicographic arch id: the table's iso_index */
    for (long i = 0; i < NR_NUM_ARCHS; i++) {
        const nr_table_row *row = nr_table_by_index(t, i);
        cls[nr_arch_to_id(&row->arch)] = row->iso_index;
    }

    /* the training archs */
    size_t n = 0;
    if (o.archs) {
        if (nr_csv_read(o.archs, &csv, &err)) goto done;
        cli_archcols ac;
        if (cli_find_arch_columns(csv, &ac, &err)) goto done;
        for (size_t r = 0; r < nr_csv_nrows(csv) && n < NR_NUM_ARCHS; r++)
            if (cli_row_arch(csv, &ac, r, t, &ta[n++], &err)) goto done;
        if (n < 4) {
            nr_error_set(&err, NR_ERR_INVALID, o.archs, 0, 0, "need at least 4 archs to train on, got %zu", n);
            goto done;
        }
    } else {
        nr_rng r = nr_rng_stream((uint64_t)o.seed, "predictor.sample");
        for (int i = 0; i < NR_NUM_ARCHS; i++) perm[i] = i;
        for (long k = 0; k < o.k; k++) {
            int j = (int)(k + (long)nr_rng_below(&r, (uint64_t)(NR_NUM_ARCHS - k))), tmp = perm[k];
            perm[k] = perm[j];
            perm[j] = tmp;
            ta[n++] = nr_table_by_index(t, perm[k])->arch;
        }
    }
    for (size_t i = 0; i < n; i++) {
        ty[i] = nr_table_acc(nr_table_by_arch(t, &ta[i]), lds, o.label, 200);
        used[cls[nr_arch_to_id(&ta[i])]] = 1;
    }

    /* proxy inputs: S columns per arch, in bit order */
    int have_all_scores = 0;
    if (S > 0) {
        if (o.scores) {
            size_t cnt;
            if (nr_feature_scores_read(o.scores, t, o.features, naswot, &cnt, &err)) goto done;
            for (size_t i = 0; i < n; i++)
                for (size_t k = 0; k < S; k++) {
                    tn[i * S + k] = naswot[(size_t)nr_arch_to_id(&ta[i]) * S + k];
                    if (isnan(tn[i * S + k])) {
                        char a[NR_ARCH_STR_MAX];
                        unsigned bit = nr_predictor_score_feature(o.features, (int)k);
                        nr_arch_format(&ta[i], a, sizeof a);
                        nr_error_set(&err, NR_ERR_NOTFOUND, o.scores, 0, 0, "no %s score for training arch %s",
                                     bit == NR_FEAT_NASWOT ? "NASWOT" : nr_predictor_feature_name(bit), a);
                        goto done;
                    }
                }
            have_all_scores = 1;
        } else {
            fprintf(stderr, "nasrank train: computing NASWOT for %zu training archs (no --scores file)\n", n);
            cli_progress prog;
            cli_progress_start(&prog, n, "naswot");
            nr_status st = nr_naswot_compute(ta, n, o.ds, 1, 128, tn, naswot_progress, &prog, &err);
            cli_progress_end(&prog);
            if (st) goto done;
        }
    }

    /* train */
    el.members = o.cfg.ensemble;
    el.quiet = o.quiet;
    el.cap = o.cfg.epochs;
    for (int ph = 0; ph < 2; ph++) {
        el.loss[ph] = calloc((size_t)el.cap, sizeof(double));
        el.tau[ph] = calloc((size_t)el.cap, sizeof(double));
        el.cnt[ph] = calloc((size_t)el.cap, sizeof(int));
        if (!el.loss[ph] || !el.tau[ph] || !el.cnt[ph]) goto nomem;
    }
    o.cfg.progress = on_epoch;
    o.cfg.progress_ctx = &el;
    char feat[128] = "";
    for (unsigned b = 1; b <= NR_FEAT_ALL; b <<= 1)
        if (o.features & b)
            snprintf(feat + strlen(feat), sizeof feat - strlen(feat), "%s%s", *feat ? "," : "", nr_predictor_feature_name(b));
    printf("nasrank train: %s on %zu archs (%s, seed %ld), label %s %s accuracy (200 epochs), features %s; "
           "%d members, %d folds\n",
           nr_predictor_kind_name(o.kind), n, o.archs ? o.archs : "uniform sample", o.seed, label_name,
           o.label == NR_METRIC_VALID ? "validation" : "test", *feat ? feat : "none", o.cfg.ensemble, o.cfg.folds);
    fflush(stdout);
    if (nr_predictor_train(&o.cfg, ta, ty, S ? tn : NULL, n, &p, &err)) goto done;
    flush_lines(&el);
    nr_predictor_info info;
    nr_predictor_get_info(p, &info);
    if (info.refit_epochs) printf("refit epochs: %d (argmax of the smoothed cross-validation curve)\n", info.refit_epochs);
    if (!isnan(info.holdout_tau))
        printf("cross-validated Kendall tau (training labels, held-out folds): %.4f\n", info.holdout_tau);
    if (nr_predictor_save(p, o.out, &err)) goto done;

    /* evaluation on every arch of an isomorphism class without a training arch */
    if (o.eval && S && !have_all_scores) {
        printf("evaluation skipped: NASWOT scores of the evaluation archs are needed (--scores FILE)\n");
    } else if (o.eval) {
        int ne = 0, skipped = 0;
        for (int i = 0; i < NR_NUM_ARCHS; i++) {
            const nr_table_row *row = nr_table_by_index(t, i);
            int id = nr_arch_to_id(&row->arch);
            if (used[cls[id]]) continue;
            int missing = 0;
            for (size_t k = 0; k < S; k++) missing |= isnan(naswot[(size_t)id * S + k]);
            if (missing) {
                skipped++;
                continue;
            }
            ea[ne] = row->arch, ey[ne] = nr_table_acc(row, o.ds, NR_METRIC_TEST, 200);
            for (size_t k = 0; k < S; k++) en[(size_t)ne * S + k] = naswot[(size_t)id * S + k];
            ne++;
        }
        double tau = NAN, taud = NAN;
        if (ne >= 2) {
            if (nr_predictor_predict(p, ea, S ? en : NULL, (size_t)ne, pred, &err)) goto done;
            if (nr_kendall_tau_b(pred, ey, (size_t)ne, &tau, &err)) goto done;
            /* one arch per class: the one with the smallest benchmark index */
            int nd = 0;
            unsigned char *seen = calloc(NR_NUM_ARCHS, 1);
            if (!seen) goto nomem;
            for (int k = 0; k < ne; k++) {
                int c = cls[nr_arch_to_id(&ea[k])];
                if (seen[c]) continue;
                seen[c] = 1;
                pred[nd] = pred[k], ey[nd] = ey[k], nd++;
            }
            free(seen);
            if (nd >= 2 && nr_kendall_tau_b(pred, ey, (size_t)nd, &taud, &err)) goto done;
            printf("held-out Kendall tau vs %s test accuracy: %.4f on %d archs (isomorphism classes without a "
                   "training arch)", nr_dataset_name(o.ds), tau, ne);
            if (skipped) printf(", %d without %s left out", skipped, S == 1 && (o.features & NR_FEAT_NASWOT) ? "a NASWOT score" : "every feature's score");
            printf("; %.4f on %d archs, one per class\n", taud, nd);
        } else {
            printf("evaluation skipped: fewer than 2 archs left to evaluate\n");
        }
    }
    printf("model written to %s (%.1f s)\n", o.out, cli_now() - t0);
    rc = CLI_OK;
    goto done;
nomem:
    nr_error_set(&err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
    if (rc != CLI_OK) cli_fail(&err);
    for (int ph = 0; ph < 2; ph++) free(el.loss[ph]), free(el.tau[ph]), free(el.cnt[ph]);
    nr_predictor_free(p);
    nr_csv_free(csv);
    nr_table_free(t);
    free(ta), free(ea), free(ty), free(tn), free(ey), free(en), free(pred), free(naswot), free(cls), free(perm);
    free(used);
    return rc;
}
