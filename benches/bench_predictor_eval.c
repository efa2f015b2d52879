/* predictor_eval: how well the trained graph predictors rank NAS-Bench-201.
 *
 * For each model (comparator, relativistic), feature set and training size K: draw K archs
 * uniformly without replacement (seeded), train on their cifar10-valid validation accuracy
 * (200 epochs), predict every arch whose isomorphism class holds no training arch (twins
 * of training archs are neither trained on nor evaluated), and take Kendall tau-b against
 * `cifar10` test accuracy.  Mean +- std over seeds; training seconds.  Also tau over one arch
 * per evaluated class (the class's smallest benchmark index: "dedup").
 *
 * Pool mode (--pool FILE): the same, but within the archs of a `nasrank score --proxy ...`
 * file only (those with a value of every proxy feature asked for): the K training archs are
 * drawn from them and tau is taken over the rest of them (again without the training archs'
 * isomorphism classes), so feature sets that need proxies too slow to compute for all 15,625
 * archs are compared on the same archs, with the same training draws, as "none".
 *
 * Output: one JSON line per (model, features, K) (DESIGN.md section 10, with extra keys),
 * then a "table" line.  Options:
 *   --scores FILE   proxy scores (nasrank score [--proxy ...] output or its partial file;
 *                   default $NASRANK_NASWOT_SCORES) with a column for every proxy feature of
 *                   --featsets (naswot, synflow, snip, grad_norm, grasp, fisher, jacob_cov);
 *                   archs without a value are neither trained on nor evaluated in rows that
 *                   use the feature.  Without it the rows with proxy features are skipped
 *   --pool FILE     pool mode (above); FILE also serves as --scores; needs a feature set
 *                   with a proxy feature (they define the pool)
 *   --quick         K = 50, 100; 2 seeds; no rows with proxy features
 *   --k LIST        training sizes (default 50,100,424,1000)
 *   --seeds N       seeds 0..N-1 (default 5);  --seed0 S  first seed
 *   --models LIST   comparator,relativistic
 *   --featsets LIST feature sets separated by ',' with '+' inside a set, e.g. none,naswot,params+naswot
 *                   (default none,naswot)
 *   --metric M      test (default) or valid: tune against the training label (cifar10-valid
 *                   validation accuracy), never the evaluation metric
 *   --threads N     ops threads (members train in parallel); default 2
 *   hyper-parameter overrides: --epochs --ensemble --folds --dim --layers --hidden --lr --wd
 *                   --batch --prune --adj plain|normalised --patience --min-epochs --clip
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_util.h"
#include "nasrank.h"
#include "ops/ops.h"
#include "predictor/pred.h"

#define MAXL 16

static int split_list(char *s, char **out, int max)
{
    int n = 0;
    for (char *t = strtok(s, ","); t && n < max; t = strtok(NULL, ",")) out[n++] = t;
    return n;
}

static const char *opt(int argc, char **argv, const char *name)
{
    for (int i = 1; i + 1 < argc; i++)
        if (!strcmp(argv[i], name)) return argv[i + 1];
    return NULL;
}

static int die(const nr_error *e)
{
    char b[1024];
    fprintf(stderr, "bench_predictor_eval: %s\n", nr_error_format(e, b, sizeof b));
    return 1;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* 1-minute load average: training times are only comparable on an otherwise idle machine,
 * so every line says how busy it was.  -1 when unknown. */
static double loadavg(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    double l = -1;
    if (f) {
        if (fscanf(f, "%lf", &l) != 1) l = -1;
        fclose(f);
    }
    return l;
}

static double mean_of(const double *x, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++) s += x[i];
    return s / n;
}

static double std_of(const double *x, int n)
{
    if (n < 2) return 0;
    double m = mean_of(x, n), s = 0;
    for (int i = 0; i < n; i++) s += (x[i] - m) * (x[i] - m);
    return sqrt(s / (n - 1));
}

int main(int argc, char **argv)
{
    int quick = bench_has_flag(argc, argv, "--quick");
    char kbuf[256] = "50,100,424,1000", mbuf[256] = "comparator,relativistic", fbuf[256] = "none,naswot";
    if (quick) snprintf(kbuf, sizeof kbuf, "50,100");
    if (opt(argc, argv, "--k")) snprintf(kbuf, sizeof kbuf, "%s", opt(argc, argv, "--k"));
    if (opt(argc, argv, "--models")) snprintf(mbuf, sizeof mbuf, "%s", opt(argc, argv, "--models"));
    if (opt(argc, argv, "--featsets")) snprintf(fbuf, sizeof fbuf, "%s", opt(argc, argv, "--featsets"));
    char *ks[MAXL], *ms[MAXL], *fs[MAXL];
    int nk = split_list(kbuf, ks, MAXL), nm = split_list(mbuf, ms, MAXL), nf = split_list(fbuf, fs, MAXL);
    int nseeds = opt(argc, argv, "--seeds") ? atoi(opt(argc, argv, "--seeds")) : quick ? 2 : 5;
    int seed0 = opt(argc, argv, "--seed0") ? atoi(opt(argc, argv, "--seed0")) : 0;
    int threads = opt(argc, argv, "--threads") ? atoi(opt(argc, argv, "--threads")) : 2;
    const char *scores = opt(argc, argv, "--scores"), *pool = opt(argc, argv, "--pool");
    if (!scores && pool) scores = pool;
    if (!scores && getenv("NASRANK_NASWOT_SCORES") && *getenv("NASRANK_NASWOT_SCORES"))
        scores = getenv("NASRANK_NASWOT_SCORES");
    int tune = opt(argc, argv, "--metric") && !strcmp(opt(argc, argv, "--metric"), "valid");
    if (nseeds < 1 || nseeds > 100) nseeds = 5;
    nr_threads_set(threads);

    nr_error err = {0};
    nr_table *t = NULL;
    if (nr_table_load(NULL, &t, &err)) return die(&err);
    /* the proxy features of every feature set: read together (U columns, bit order) */
    unsigned masks[MAXL], U = 0;
    for (int fi = 0; fi < nf; fi++) {
        char fname[64];
        snprintf(fname, sizeof fname, "%s", fs[fi]);
        for (char *p = fname; *p; p++)
            if (*p == '+') *p = ',';
        if (nr_predictor_features_parse(fname, &masks[fi], &err)) return die(&err);
        U |= masks[fi] & NR_FEAT_SCORES;
    }
    int SU = nr_predictor_num_score_features(U);
    double *fall = malloc((size_t)NR_NUM_ARCHS * (size_t)(SU ? SU : 1) * sizeof *fall); /* (lex id, SU) */
    size_t nscored = 0;
    if (scores && SU) {
        if (nr_feature_scores_read(scores, t, U, fall, &nscored, &err)) return die(&err);
        fprintf(stderr, "# %zu archs with every proxy feature asked for, from %s\n", nscored, scores);
    }
    if (pool && !SU) {
        fprintf(stderr, "bench_predictor_eval: --pool needs a feature set with a proxy feature (the pool is the "
                        "archs with a value of every proxy feature asked for)\n");
        return 2;
    }

    /* per benchmark index: arch, lexicographic id, class, labels */
    static nr_arch arch[NR_NUM_ARCHS];
    static int cls_of[NR_NUM_ARCHS], lex[NR_NUM_ARCHS];
    static double ytrain[NR_NUM_ARCHS], yeval[NR_NUM_ARCHS];
    static unsigned char in_pool[NR_NUM_ARCHS];
    int cls_lex[NR_NUM_ARCHS];
    int ncls = pg_iso_classes(cls_lex);
    for (int i = 0; i < NR_NUM_ARCHS; i++) {
        const nr_table_row *r = nr_table_by_index(t, i);
        arch[i] = r->arch;
        lex[i] = nr_arch_to_id(&r->arch);
        cls_of[i] = cls_lex[lex[i]];
        ytrain[i] = nr_table_acc(r, NR_DS_CIFAR10_VALID, NR_METRIC_VALID, 200);
        yeval[i] = tune ? ytrain[i] : nr_table_acc(r, NR_DS_CIFAR10, NR_METRIC_TEST, 200);
        int all = scores != NULL;
        for (int j = 0; all && j < SU; j++) all = !isnan(fall[(size_t)lex[i] * SU + j]);
        in_pool[i] = pool ? all : 1;
    }
    int npool = 0, *pool_idx = malloc(NR_NUM_ARCHS * sizeof *pool_idx);
    for (int i = 0; i < NR_NUM_ARCHS; i++)
        if (in_pool[i]) pool_idx[npool++] = i;
    if (pool) fprintf(stderr, "# pool: %d archs from %s\n", npool, pool);
    /* class representative: smallest benchmark index */
    int *rep = malloc((size_t)ncls * sizeof *rep);
    for (int c = 0; c < ncls; c++) rep[c] = -1;
    for (int i = 0; i < NR_NUM_ARCHS; i++)
        if (rep[cls_of[i]] < 0) rep[cls_of[i]] = i;

    nr_arch *ta = malloc(NR_NUM_ARCHS * sizeof *ta), *ea = malloc(NR_NUM_ARCHS * sizeof *ea);
    double *ty = malloc(NR_NUM_ARCHS * sizeof *ty), *tn = malloc(NR_NUM_ARCHS * NR_PREDICTOR_MAX_SCORE_FEATURES * sizeof *tn);
    double *ey = malloc(NR_NUM_ARCHS * sizeof *ey), *en = malloc(NR_NUM_ARCHS * NR_PREDICTOR_MAX_SCORE_FEATURES * sizeof *en);
    double *pred = malloc(NR_NUM_ARCHS * sizeof *pred), *dp = malloc(NR_NUM_ARCHS * sizeof *dp);
    double *dy = malloc(NR_NUM_ARCHS * sizeof *dy);
    int *perm = malloc(NR_NUM_ARCHS * sizeof *perm), *eidx = malloc(NR_NUM_ARCHS * sizeof *eidx);
    unsigned char *used = malloc((size_t)ncls);

    char table[65536];
    size_t tl = (size_t)snprintf(table, sizeof table, "{\"bench\": \"predictor_eval\", \"metric\": \"table\", \"eval\": \"%s\", \"rows\": [",
                                 tune ? "cifar10-valid valid (tuning)" : "cifar10 test");
    int first_row = 1;
    for (int mi = 0; mi < nm; mi++)
        for (int fi = 0; fi < nf; fi++) {
            unsigned mask = masks[fi];
            int S = nr_predictor_num_score_features(mask), col[NR_PREDICTOR_MAX_SCORE_FEATURES];
            for (int k = 0; k < S; k++) { /* column of feature k in fall */
                unsigned bit = nr_predictor_score_feature(mask, k);
                col[k] = 0;
                for (int j = 0; j < SU; j++)
                    if (nr_predictor_score_feature(U, j) == bit) col[k] = j;
            }
            if (S && (!scores || (quick && !pool))) {
                fprintf(stderr, "# skipping %s / %s: no --scores file%s\n", ms[mi], fs[fi], quick ? " (or --quick)" : "");
                continue;
            }
            for (int ki = 0; ki < nk; ki++) {
                int K = atoi(ks[ki]);
                if (K < 4 || K > 10000 || K >= npool) continue;
                double tau[100], taud[100], secs[100], cpus[100], htau[100];
                for (int s = 0; s < nseeds; s++) {
                    int seed = seed0 + s;
                    nr_predictor_config cfg = nr_predictor_config_default(NR_PRED_COMPARATOR);
                    if (nr_predictor_kind_parse(ms[mi], &cfg.kind, &err)) return die(&err);
                    cfg.features = mask;
                    cfg.seed = (uint64_t)seed;
                    const char *v;
#define IOPT(name, field) if ((v = opt(argc, argv, name))) cfg.field = atoi(v);
#define DOPT(name, field) if ((v = opt(argc, argv, name))) cfg.field = atof(v);
                    IOPT("--epochs", epochs) IOPT("--ensemble", ensemble) IOPT("--folds", folds)
                    IOPT("--dim", embed_dim) IOPT("--layers", layers) IOPT("--hidden", head_hidden)
                    IOPT("--batch", batch) IOPT("--prune", prune) IOPT("--patience", patience)
                    IOPT("--min-epochs", min_epochs) IOPT("--refit", refit) DOPT("--ema", ema) DOPT("--lr", lr) DOPT("--wd", weight_decay)
                    DOPT("--clip", clip) DOPT("--beta1", beta1)
                    if ((v = opt(argc, argv, "--adj"))) cfg.adjacency = strcmp(v, "normalised") ? NR_ADJ_PLAIN : NR_ADJ_NORMALISED;
                    /* training sample: partial Fisher-Yates over the pool (every benchmark index
                     * without --pool) */
                    nr_rng r = nr_rng_stream((uint64_t)seed, "predictor_eval.sample");
                    for (int i = 0; i < npool; i++) perm[i] = pool_idx[i];
                    memset(used, 0, (size_t)ncls);
                    int n = 0;
                    for (int k = 0; k < K; k++) {
                        int j = k + (int)nr_rng_below(&r, (uint64_t)(npool - k));
                        int tmp = perm[k];
                        perm[k] = perm[j];
                        perm[j] = tmp;
                        int i = perm[k], miss = 0;
                        for (int q = 0; q < S; q++) miss |= isnan(fall[(size_t)lex[i] * SU + col[q]]);
                        if (miss) continue; /* unscored: skip */
                        ta[n] = arch[i], ty[n] = ytrain[i];
                        for (int q = 0; q < S; q++) tn[(size_t)n * S + q] = fall[(size_t)lex[i] * SU + col[q]];
                        n++;
                        used[cls_of[i]] = 1;
                    }
                    nr_predictor *p = NULL;
                    double t0 = bench_now(), c0 = cpu_now();
                    if (nr_predictor_train(&cfg, ta, ty, S ? tn : NULL, (size_t)n, &p, &err))
                        return die(&err);
                    secs[s] = bench_now() - t0;
                    cpus[s] = cpu_now() - c0;
                    nr_predictor_info info;
                    nr_predictor_get_info(p, &info);
                    htau[s] = info.holdout_tau;
                    int ne = 0;
                    for (int pi = 0; pi < npool; pi++) {
                        int i = pool_idx[pi], miss = 0;
                        for (int q = 0; q < S; q++) miss |= isnan(fall[(size_t)lex[i] * SU + col[q]]);
                        if (used[cls_of[i]] || miss) continue;
                        eidx[ne] = i, ea[ne] = arch[i], ey[ne] = yeval[i];
                        for (int q = 0; q < S; q++) en[(size_t)ne * S + q] = fall[(size_t)lex[i] * SU + col[q]];
                        ne++;
                    }
                    if (nr_predictor_predict(p, ea, S ? en : NULL, (size_t)ne, pred, &err))
                        return die(&err);
                    nr_kendall_tau_b(pred, ey, (size_t)ne, &tau[s], NULL);
                    int nd = 0;
                    for (int k = 0; k < ne; k++)
                        if (rep[cls_of[eidx[k]]] == eidx[k]) dp[nd] = pred[k], dy[nd] = ey[k], nd++;
                    nr_kendall_tau_b(dp, dy, (size_t)nd, &taud[s], NULL);
                    fprintf(stderr, "# %s %s K=%d seed=%d: n_train=%d n_eval=%d tau=%.4f dedup(%d)=%.4f holdout=%.4f %.1fs (cpu %.1fs) epochs",
                            ms[mi], fs[fi], K, seed, n, ne, tau[s], nd, taud[s], htau[s], secs[s], cpus[s]);
                    for (int m = 0; m < cfg.ensemble && m < 64; m++) fprintf(stderr, " %d/%d", info.best_epoch[m], info.epochs_run[m]);
                    if (info.refit_epochs) fprintf(stderr, " refit %d", info.refit_epochs);
                    fputc('\n', stderr);
                    nr_predictor_free(p);
                }
                double tm = mean_of(tau, nseeds), ts = std_of(tau, nseeds), dm = mean_of(taud, nseeds);
                double sm = mean_of(secs, nseeds), cm = mean_of(cpus, nseeds), hm = mean_of(htau, nseeds);
                if (!isfinite(hm)) hm = -1; /* no held-out folds: -1 keeps the line valid JSON */
                printf("{\"bench\": \"predictor_eval\", \"metric\": \"kendall_tau\", \"value\": %.4f, \"std\": %.4f, "
                       "\"unit\": \"tau\", \"threads\": %d, \"n\": %d, \"model\": \"%s\", \"features\": \"%s\", \"k\": %d, "
                       "\"tau_dedup\": %.4f, \"holdout_tau\": %.4f, \"train_seconds\": %.2f, \"train_cpu_seconds\": %.2f, \"load\": %.2f, "
                       "\"eval\": \"%s\", \"pool\": %d, \"baseline\": null, \"ratio\": null}\n",
                       tm, ts, threads, nseeds, ms[mi], fs[fi], K, dm, hm, sm, cm, loadavg(), tune ? "cifar10-valid valid" : "cifar10 test",
                       pool ? npool : 0);
                /* the speed target: training at K = 424 within 30 s on 2 cores */
                if (K == 424)
                    printf("{\"bench\": \"predictor_eval\", \"metric\": \"train_seconds\", \"value\": %.2f, \"std\": %.2f, "
                           "\"unit\": \"s\", \"threads\": %d, \"n\": %d, \"model\": \"%s\", \"features\": \"%s\", "
                           "\"k\": %d, \"cpu_seconds\": %.2f, \"load\": %.2f, \"baseline\": \"target 30 s\", "
                           "\"ratio\": %.3f}\n",
                           sm, std_of(secs, nseeds), threads, nseeds, ms[mi], fs[fi], K, cm, loadavg(), sm / 30.0);
                fflush(stdout);
                if (tl < sizeof table - 256)
                    tl += (size_t)snprintf(table + tl, sizeof table - tl,
                                           "%s{\"model\": \"%s\", \"features\": \"%s\", \"k\": %d, \"tau\": %.3f, \"std\": %.3f, "
                                           "\"tau_dedup\": %.3f, \"seconds\": %.1f, \"cpu_seconds\": %.1f}",
                                           first_row ? "" : ", ", ms[mi], fs[fi], K, tm, ts, dm, sm, cm);
                first_row = 0;
            }
        }
    printf("%s]}\n", table);
    free(rep), free(ta), free(ea), free(ty), free(tn), free(ey), free(en), free(pred), free(dp), free(dy);
    free(perm), free(eidx), free(used), free(fall), free(pool_idx);
    nr_table_free(t);
    return 0;
}
