/* Training an ensemble of predictor members, and prediction.
 *
 * Each member is one task on the ops thread pool: it owns its parameters, Adam state,
 * workspace and random streams ("member.<m>" for the init, "shuffle.<m>" for the minibatch
 * order), so its result does not depend on which thread runs it or on how many run at once.
 * Folds come from the stream "folds": the training archs' isomorphism classes in a shuffled
 * order, each given to the fold with the fewest archs so far.
 */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nasrank/rng.h"
#include "nasrank/stats.h"
#include "ops/ops.h"
#include "predictor/pred.h"

#define EVAL_CHUNK 256

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- encoded architectures ---- */

typedef struct enc_set {
    size_t n;
    double *ahat;          /* (n, 8, 8) */
    unsigned char *types;  /* (n, 8) */
    double *x;             /* (n, X) */
    double *y;             /* (n) or NULL */
} enc_set;

static void enc_free(enc_set *e)
{
    free(e->ahat);
    free(e->types);
    free(e->x);
    free(e->y);
    memset(e, 0, sizeof *e);
}

static nr_status check_arch(const nr_arch *a, size_t i, nr_error *err)
{
    if (nr_arch_to_id(a) < 0)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "arch %zu has an op out of range", i);
    return NR_OK;
}

/* Graph and standardised features of archs[0..n-1] into e (labels copied when given); errors
 * name row row0 + i. */
static nr_status encode(const nr_predictor *p, const nr_arch *archs, const double *scores,
                        const double *labels, size_t n, size_t row0, enc_set *e, nr_error *err)
{
    memset(e, 0, sizeof *e);
    size_t X = (size_t)p->nfeat;
    e->n = n;
    e->ahat = malloc((n ? n : 1) * PG_NODES * PG_NODES * sizeof *e->ahat);
    e->types = malloc((n ? n : 1) * PG_NODES);
    e->x = malloc((n ? n : 1) * (X ? X : 1) * sizeof *e->x);
    if (labels) e->y = malloc((n ? n : 1) * sizeof *e->y);
    if (!e->ahat || !e->types || !e->x || (labels && !e->y)) {
        enc_free(e);
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        nr_status st = check_arch(&archs[i], row0 + i, err);
        if (!st) st = pp_features(p, &archs[i], p->nscore ? scores + i * (size_t)p->nscore : NULL, e->x + i * X, row0 + i, err);
        if (st) {
            enc_free(e);
            return st;
        }
        pg_build(&archs[i], p->cfg.adjacency, p->cfg.prune, e->ahat + i * PG_NODES * PG_NODES,
                 e->types + i * PG_NODES);
        if (labels) e->y[i] = labels[i];
    }
    return NR_OK;
}

/* Batch view of rows idx[0..count-1] of e, copied into the buffers of bb. */
typedef struct batch_buf {
    double *ahat;         /* (Nmax, 8, 8) */
    unsigned char *types; /* (Nmax, 8) */
    double *x;            /* (Nmax, X) */
    double *y;            /* (Nmax) */
} batch_buf;

static void gather(const enc_set *e, int X, const int *idx, int count, batch_buf *bb, pm_batch *b)
{
    for (int k = 0; k < count; k++) {
        size_t i = (size_t)idx[k];
        memcpy(bb->ahat + (size_t)k * 64, e->ahat + i * 64, 64 * sizeof *bb->ahat);
        memcpy(bb->types + (size_t)k * 8, e->types + i * 8, 8);
        memcpy(bb->x + (size_t)k * X, e->x + i * X, (size_t)X * sizeof *bb->x);
        bb->y[k] = e->y ? e->y[i] : 0;
    }
    *b = (pm_batch){count, bb->ahat, bb->types, X ? bb->x : NULL, bb->y};
}

/* Scores s of rows idx[0..count-1] (idx NULL: rows 0..count-1) under theta. */
static void score_rows(const nr_predictor *p, const double *theta, const enc_set *e, const int *idx,
                       int count, pm_work *w, batch_buf *bb, int *tmp_idx, double *out)
{
    for (int s = 0; s < count; s += EVAL_CHUNK) {
        int c = count - s < EVAL_CHUNK ? count - s : EVAL_CHUNK;
        for (int k = 0; k < c; k++) tmp_idx[k] = idx ? idx[s + k] : s + k;
        pm_batch b;
        gather(e, p->nfeat, tmp_idx, c, bb, &b);
        pm_forward(&p->dims, &p->lay, theta, &b, w);
        memcpy(out + s, w->s, (size_t)c * sizeof *out);
    }
}

/* ---- training one member ---- */

typedef struct train_ctx {
    nr_predictor *p;
    const nr_predictor_config *cfg; /* caller's, with the progress callback */
    const enc_set *data;
    const int *fold;                /* (n) fold of each arch; NULL without folds */
    nr_status *status;              /* (members) */
    nr_error *errs;                 /* (members) */
    double *best_tau;               /* (members) */
    int *best_epoch;                /* (members) */
    int phase;                      /* 0: early stopping on the held-out fold, 1: refit on all */
    int refit_epochs;
    pthread_mutex_t mu;
    long epochs_done, epochs_max;
} train_ctx;

static void report(train_ctx *c, int m, int epoch, double loss, double tau)
{
    if (!c->cfg->progress) return;
    pthread_mutex_lock(&c->mu);
    c->epochs_done++;
    nr_predictor_progress pr = {m, c->phase, epoch, loss, tau, c->epochs_done, c->epochs_max};
    c->cfg->progress(c->cfg->progress_ctx, &pr);
    pthread_mutex_unlock(&c->mu);
}

static void train_member(void *vctx, long task, int tid)
{
    (void)tid;
    train_ctx *c = vctx;
    nr_predictor *p = c->p;
    const nr_predictor_config *cfg = &p->cfg;
    const enc_set *e = c->data;
    int m = (int)task, X = p->nfeat, n = (int)e->n;
    size_t P = p->lay.total;
    nr_error *err = &c->errs[m];
    nr_status st = NR_OK;
    int Nmax = cfg->batch > EVAL_CHUNK ? cfg->batch : EVAL_CHUNK;
    double *theta = p->theta + (size_t)m * P;

    pm_work w = {0};
    batch_buf bb = {0};
    int *tr = malloc((size_t)n * sizeof *tr), *ho = malloc((size_t)n * sizeof *ho);
    int *tmp = malloc((size_t)Nmax * sizeof *tmp);
    double *best = malloc(P * sizeof *best), *grad = malloc(P * sizeof *grad);
    double *avg = cfg->ema > 0 ? malloc(P * sizeof *avg) : NULL; /* weight average (cfg->ema) */
    double *am = calloc(P, sizeof *am), *av = calloc(P, sizeof *av);
    unsigned char *mask = malloc(P);
    double *hs = malloc((size_t)n * sizeof *hs), *hy = malloc((size_t)n * sizeof *hy);
    bb.ahat = malloc((size_t)Nmax * 64 * sizeof *bb.ahat);
    bb.types = malloc((size_t)Nmax * 8);
    bb.x = malloc((size_t)Nmax * (X ? X : 1) * sizeof *bb.x);
    bb.y = malloc((size_t)Nmax * sizeof *bb.y);
    if (!tr || !ho || !tmp || !best || !grad || (cfg->ema > 0 && !avg) || !am || !av || !mask || !hs || !hy || !bb.ahat ||
        !bb.types || !bb.x || !bb.y || pm_work_init(&w, &p->dims, Nmax)) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }

    int refit = c->phase == 1, final = refit || !cfg->refit || !c->fold;
    int ntr = 0, nho = 0, hold = c->fold && !refit ? m % cfg->folds : -1;
    int max_epochs = refit ? c->refit_epochs : cfg->epochs, h0 = refit ? p->hist_n[m] : 0;
    for (int i = 0; i < n; i++) {
        if (hold >= 0 && c->fold[i] == hold) ho[nho++] = i;
        else tr[ntr++] = i;
    }
    pm_init(&p->dims, &p->lay, cfg->seed, m, theta);
    memcpy(best, theta, P * sizeof *best);
    if (avg) memcpy(avg, theta, P * sizeof *avg);
    pm_decay_mask(&p->dims, &p->lay, mask);
    pa_adam adam = {cfg->lr, cfg->beta1, cfg->beta2, 1e-8, cfg->weight_decay, 0, am, av};
    char name[32];
    snprintf(name, sizeof name, refit ? "refit.%d" : "shuffle.%d", m);
    nr_rng rng = nr_rng_stream(cfg->seed, name);
    for (int i = 0; i < nho; i++) hy[i] = e->y[ho[i]];

    double best_tau = -INFINITY;
    int best_epoch = 0, epoch;
    int nb = (ntr + cfg->batch - 1) / cfg->batch;
    for (epoch = 1; epoch <= max_epochs; epoch++) {
        for (int i = ntr - 1; i > 0; i--) { /* Fisher-Yates */
            int j = (int)nr_rng_below(&rng, (uint64_t)i + 1), t = tr[i];
            tr[i] = tr[j];
            tr[j] = t;
        }
        double loss_sum = 0;
        for (int k = 0, start = 0; k < nb; k++) {
            int cnt = ntr / nb + (k < ntr % nb);
            pm_batch b;
            gather(e, X, tr + start, cnt, &bb, &b);
            start += cnt;
            pm_forward(&p->dims, &p->lay, theta, &b, &w);
            memset(grad, 0, P * sizeof *grad);
            double L = pm_loss_backward(&p->dims, &p->lay, theta, &b, &w, grad);
            if (!isfinite(L)) {
                st = nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0,
                                  "training diverged (member %d, epoch %d: loss %g); try a smaller lr", m,
                                  epoch, L);
                goto done;
            }
            loss_sum += L;
            pa_clip(grad, P, cfg->clip);
            pa_step(&adam, theta, grad, mask, P);
            if (avg)
                for (size_t i = 0; i < P; i++) avg[i] = cfg->ema * avg[i] + (1.0 - cfg->ema) * theta[i];
        }
        double loss = loss_sum / nb, tau = NAN;
        if (nho >= 2) {
            score_rows(p, avg ? avg : theta, e, ho, nho, &w, &bb, tmp, hs);
            if (nr_kendall_tau_b(hs, hy, (size_t)nho, &tau, NULL)) tau = NAN;
            double t = isnan(tau) ? -2.0 : tau; /* constant scores: worse than anything */
            if (t > best_tau) {
                best_tau = t;
                best_epoch = epoch;
                memcpy(best, avg ? avg : theta, P * sizeof *best);
            }
        }
        if (h0 + epoch <= p->hist_cap) {
            p->hist_loss[(size_t)m * p->hist_cap + h0 + epoch - 1] = loss;
            p->hist_tau[(size_t)m * p->hist_cap + h0 + epoch - 1] = tau;
            p->hist_n[m] = h0 + epoch;
        }
        report(c, m, epoch, loss, tau);
        if (nho >= 2 && !cfg->refit && epoch >= cfg->min_epochs && epoch - best_epoch >= cfg->patience) break;
    }
    if (epoch > max_epochs) epoch = max_epochs;
    if (nho >= 2) memcpy(theta, best, P * sizeof *theta);
    else if (avg) memcpy(theta, avg, P * sizeof *theta);
    if (nho < 2) best_epoch = epoch;
    if (!refit) {
        c->best_tau[m] = nho >= 2 ? best_tau : NAN;
        c->best_epoch[m] = best_epoch;
        if (m < 64) {
            p->info.epochs_run[m] = epoch;
            p->info.best_epoch[m] = best_epoch;
        }
    }
    if (!final) goto done;
    /* score statistics over every training arch (the standardisation of this member) */
    {
        double *all = malloc((size_t)n * sizeof *all);
        if (!all) {
            st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
            goto done;
        }
        score_rows(p, theta, e, NULL, n, &w, &bb, tmp, all);
        double mu = 0, var = 0;
        for (int i = 0; i < n; i++) mu += all[i];
        mu /= n;
        for (int i = 0; i < n; i++) var += (all[i] - mu) * (all[i] - mu);
        double sd = sqrt(var / n);
        free(all);
        if (!isfinite(mu) || !isfinite(sd)) {
            st = nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "member %d: non-finite scores after training", m);
            goto done;
        }
        p->score_mean[m] = mu;
        p->score_std[m] = sd > 1e-300 ? sd : 1.0;
    }
done:
    c->status[m] = st;
    pm_work_free(&w);
    free(tr), free(ho), free(tmp), free(best), free(grad), free(avg), free(am), free(av), free(mask), free(hs), free(hy);
    free(bb.ahat), free(bb.types), free(bb.x), free(bb.y);
}

/* The refit epoch count: the argmax of the cross-validation curve, i.e. of the held-out tau
 * averaged over members (each held out a different fold) and smoothed by a centred moving
 * average of 2 * CV_SMOOTH + 1 epochs; first maximum, at least min_epochs. */
#define CV_SMOOTH 5
static int cv_epoch(const nr_predictor *p, const nr_predictor_config *cfg)
{
    int E = cfg->epochs, M = cfg->ensemble, best = 1;
    double *curve = malloc((size_t)E * sizeof *curve), best_v = -INFINITY;
    if (!curve) return E;
    for (int t = 0; t < E; t++) {
        double s = 0;
        for (int m = 0; m < M; m++) {
            double v = p->hist_tau[(size_t)m * p->hist_cap + t];
            s += isnan(v) ? -1.0 : v; /* constant scores count as the worst tau */
        }
        curve[t] = s / M;
    }
    for (int t = 0; t < E; t++) {
        int lo = t - CV_SMOOTH < 0 ? 0 : t - CV_SMOOTH, hi = t + CV_SMOOTH >= E ? E - 1 : t + CV_SMOOTH;
        double s = 0;
        for (int u = lo; u <= hi; u++) s += curve[u];
        s /= hi - lo + 1;
        if (s > best_v) best_v = s, best = t + 1;
    }
    free(curve);
    return best < cfg->min_epochs ? (cfg->min_epochs < E ? cfg->min_epochs : E) : best;
}

/* ---- feature standardisation from the training set ---- */

static nr_status fit_features(nr_predictor *p, const nr_arch *archs, const double *scores, size_t n,
                              nr_error *err)
{
    size_t S = (size_t)p->nscore;
    if (S && !scores)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "the %s feature needs scores (an n x %zu matrix)",
                            pp_feature_name(nr_predictor_score_feature(p->cfg.features, 0)), S);
    /* floors of the score features: min - 1 std of the finite transformed training values */
    for (int f = 0; f < p->nfeat; f++) {
        if (p->feat_col[f] < 0) continue;
        size_t col = (size_t)p->feat_col[f];
        double mn = INFINITY, s = 0, ss = 0, t;
        size_t k = 0;
        char why[160];
        for (size_t i = 0; i < n; i++) {
            if (pp_score_transform(p->feat_bit[f], scores[i * S + col], &t, why, sizeof why))
                return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "arch %zu: %s", i, why);
            if (t == -INFINITY) continue;
            mn = t < mn ? t : mn;
            s += t;
            k++;
        }
        double mean = k ? s / (double)k : 0;
        for (size_t i = 0; i < n; i++) {
            pp_score_transform(p->feat_bit[f], scores[i * S + col], &t, why, sizeof why);
            if (isfinite(t)) ss += (t - mean) * (t - mean);
        }
        double sd = k ? sqrt(ss / (double)k) : 0;
        p->feat_floor[f] = k ? mn - (sd > 0 ? sd : 1.0) : 0.0;
    }
    for (int f = 0; f < p->nfeat; f++) {
        double s = 0, ss = 0;
        for (size_t i = 0; i < n; i++) s += pp_feature_raw(p, f, &archs[i], S ? scores + i * S : NULL);
        double mean = s / (double)n;
        for (size_t i = 0; i < n; i++) {
            double d = pp_feature_raw(p, f, &archs[i], S ? scores + i * S : NULL) - mean;
            ss += d * d;
        }
        double sd = sqrt(ss / (double)n);
        p->feat_mean[f] = mean;
        p->feat_std[f] = sd > 1e-12 ? sd : 1.0;
        if (!isfinite(mean) || !isfinite(sd) || !isfinite(p->feat_floor[f]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0,
                                "feature %s: its training values do not standardise (mean %g, std %g)",
                                pp_feature_name(p->feat_bit[f]), mean, sd);
    }
    return NR_OK;
}

/* Folds by isomorphism class; fold[i] in 0..folds-1. */
static nr_status make_folds(const nr_arch *archs, size_t n, int folds, uint64_t seed, int *fold, nr_error *err)
{
    int *cls = malloc(NR_NUM_ARCHS * sizeof *cls), *local = malloc(NR_NUM_ARCHS * sizeof *local);
    int *order = malloc(n * sizeof *order), *size = calloc(n, sizeof *size), *cfold = malloc(n * sizeof *cfold);
    long load[64] = {0};
    nr_status st = NR_OK;
    if (!cls || !local || !order || !size || !cfold || pg_iso_classes(cls) < 0) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (int i = 0; i < NR_NUM_ARCHS; i++) local[i] = -1;
    int nc = 0; /* local class numbers in order of first appearance */
    for (size_t i = 0; i < n; i++) {
        int c = cls[nr_arch_to_id(&archs[i])];
        if (local[c] < 0) local[c] = nc++;
        size[local[c]]++;
        fold[i] = local[c]; /* temporarily: local class */
    }
    if (nc < folds) {
        st = nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                          "%zu training archs fall in %d isomorphism classes: too few for %d folds", n, nc, folds);
        goto done;
    }
    for (int k = 0; k < nc; k++) order[k] = k;
    nr_rng r = nr_rng_stream(seed, "folds");
    for (int k = nc - 1; k > 0; k--) {
        int j = (int)nr_rng_below(&r, (uint64_t)k + 1), t = order[k];
        order[k] = order[j];
        order[j] = t;
    }
    for (int k = 0; k < nc; k++) {
        int best = 0;
        for (int f = 1; f < folds; f++)
            if (load[f] < load[best]) best = f;
        cfold[order[k]] = best;
        load[best] += size[order[k]];
    }
    for (size_t i = 0; i < n; i++) fold[i] = cfold[fold[i]];
done:
    free(cls), free(local), free(order), free(size), free(cfold);
    return st;
}

nr_status nr_predictor_train(const nr_predictor_config *cfg, const nr_arch *archs, const double *labels,
                             const double *scores, size_t n, nr_predictor **out, nr_error *err)
{
    if (out) *out = NULL;
    nr_status st = nr_predictor_config_check(cfg, err);
    if (st) return st;
    if (!archs || !labels || !out) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NULL archs, labels or out");
    if (n < 4 || n > 10000000)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "need at least 4 labelled archs, got %zu", n);
    for (size_t i = 0; i < n; i++) {
        if ((st = check_arch(&archs[i], i, err))) return st;
        if (!isfinite(labels[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "label %zu is not finite (%g)", i, labels[i]);
    }
    double t0 = now_seconds();
    nr_predictor *p = pp_alloc(cfg, cfg->epochs * (cfg->refit && cfg->folds ? 2 : 1));
    enc_set e = {0};
    int *fold = NULL;
    nr_status *mst = calloc((size_t)cfg->ensemble, sizeof *mst);
    nr_error *merr = calloc((size_t)cfg->ensemble, sizeof *merr);
    double *btau = calloc((size_t)cfg->ensemble, sizeof *btau);
    int *bep = calloc((size_t)cfg->ensemble, sizeof *bep);
    if (!p || !mst || !merr || !btau || !bep) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto fail;
    }
    if ((st = fit_features(p, archs, scores, n, err))) goto fail;
    if ((st = encode(p, archs, scores, labels, n, 0, &e, err))) goto fail;
    if (cfg->folds) {
        if (!(fold = malloc(n * sizeof *fold))) {
            st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
            goto fail;
        }
        if ((st = make_folds(archs, n, cfg->folds, cfg->seed, fold, err))) goto fail;
    }
    int refit = cfg->refit && fold;
    train_ctx c = {p, cfg, &e, fold, mst, merr, btau, bep, 0, 0, PTHREAD_MUTEX_INITIALIZER, 0,
                   (long)cfg->ensemble * cfg->epochs * (refit ? 2 : 1)};
    for (c.phase = 0; c.phase <= refit; c.phase++) {
        if (c.phase == 1) {
            c.refit_epochs = cv_epoch(p, cfg);
            p->info.refit_epochs = c.refit_epochs;
            c.epochs_max = c.epochs_done + (long)cfg->ensemble * c.refit_epochs;
        }
        nr_parallel_for(cfg->ensemble, train_member, &c);
        for (int m = 0; m < cfg->ensemble; m++)
            if (mst[m]) {
                if (err && err->code == NR_OK) *err = merr[m];
                st = mst[m];
                break;
            }
        if (st) break;
    }
    pthread_mutex_destroy(&c.mu);
    if (st) goto fail;
    p->info.n_train = n;
    p->info.seconds = now_seconds() - t0;
    if (cfg->folds) {
        double s = 0;
        for (int m = 0; m < cfg->ensemble; m++) s += btau[m];
        p->info.holdout_tau = s / cfg->ensemble;
    }
    *out = p;
    p = NULL;
fail:
    nr_predictor_free(p);
    enc_free(&e);
    free(fold), free(mst), free(merr), free(btau), free(bep);
    return st;
}

/* ---- prediction ---- */

nr_status nr_predictor_predict(const nr_predictor *p, const nr_arch *archs, const double *feat, size_t n,
                               double *scores, nr_error *err)
{
    if (!p || (!archs && n) || (!scores && n))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NULL predictor, archs or scores");
    if (p->nscore && !feat && n)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "this model uses the %s feature: scores needed",
                            pp_feature_name(nr_predictor_score_feature(p->cfg.features, 0)));
    int X = p->nfeat;
    pm_work w = {0};
    batch_buf bb = {0};
    int idx[EVAL_CHUNK];
    double *s = malloc(EVAL_CHUNK * sizeof *s);
    nr_status st = NR_OK;
    bb.ahat = malloc(EVAL_CHUNK * 64 * sizeof *bb.ahat);
    bb.types = malloc(EVAL_CHUNK * 8);
    bb.x = malloc(EVAL_CHUNK * (size_t)(X ? X : 1) * sizeof *bb.x);
    bb.y = calloc(EVAL_CHUNK, sizeof *bb.y);
    if (!s || !bb.ahat || !bb.types || !bb.x || !bb.y || pm_work_init(&w, &p->dims, EVAL_CHUNK)) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    for (size_t start = 0; start < n; start += EVAL_CHUNK) {
        int cnt = (int)(n - start < EVAL_CHUNK ? n - start : EVAL_CHUNK);
        enc_set e = {0};
        if ((st = encode(p, archs + start, p->nscore ? feat + start * (size_t)p->nscore : NULL, NULL, (size_t)cnt, start,
                         &e, err)))
            goto done;
        for (int k = 0; k < cnt; k++) scores[start + (size_t)k] = 0;
        for (int m = 0; m < p->members; m++) {
            score_rows(p, p->theta + (size_t)m * p->lay.total, &e, NULL, cnt, &w, &bb, idx, s);
            for (int k = 0; k < cnt; k++) scores[start + (size_t)k] += (s[k] - p->score_mean[m]) / p->score_std[m];
        }
        for (int k = 0; k < cnt; k++) scores[start + (size_t)k] /= p->members;
        enc_free(&e);
    }
done:
    pm_work_free(&w);
    free(s), free(bb.ahat), free(bb.types), free(bb.x), free(bb.y);
    return st;
}

nr_status nr_predictor_compare(const nr_predictor *p, const nr_arch *a, const double *scores_a, const nr_arch *b,
                               const double *scores_b, double *prob, nr_error *err)
{
    if (!p || !a || !b || !prob || (p->nscore && (!scores_a || !scores_b)))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NULL argument");
    nr_arch ab[2] = {*a, *b};
    double nw[2 * PG_MAX_EXTRA];
    for (int k = 0; k < p->nscore; k++) nw[k] = scores_a[k], nw[p->nscore + k] = scores_b[k];
    enc_set e = {0};
    pm_work w = {0};
    nr_status st = encode(p, ab, nw, NULL, 2, 0, &e, err);
    if (st) return st;
    if (pm_work_init(&w, &p->dims, 2)) {
        enc_free(&e);
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    }
    double y[2] = {0, 0}, sum = 0;
    pm_batch bt = {2, e.ahat, e.types, p->nfeat ? e.x : NULL, y};
    for (int m = 0; m < p->members; m++) {
        const double *th = p->theta + (size_t)m * p->lay.total;
        pm_forward(&p->dims, &p->lay, th, &bt, &w);
        if (p->cfg.kind == NR_PRED_COMPARATOR) sum += pk_sigmoid(w.s[0] + w.sb[1] + th[p->lay.c]);
        else sum += pk_sigmoid(w.s[0] - w.s[1]);
    }
    *prob = sum / p->members;
    pm_work_free(&w);
    enc_free(&e);
    return NR_OK;
}
