/* Predictor-guided search: query a few random architectures, fit the graph predictor
 * (predictor.h) on everything queried, query the best predicted unseen architectures, repeat
 * until the budget is spent.  See include/nasrank/search.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops/ops.h"
#include "search/search_internal.h"

#define CHUNK 512

/* Chosen on 12-epoch rewards, budget 50, 10 + 4 x 10 queries, 30-60 runs (CIFAR-10 test, mean):
 * the library defaults (5 members, 5-fold early stopping, <= 200 epochs) 93.71; ensemble 3,
 * no folds, 50 epochs 93.97-94.00 at half the time; 30 or 20 epochs 93.92 / 93.84;
 * relativistic 93.57; 5 per round 93.76; 20 initial 93.91; params+flops features 93.78.
 * Early stopping on folds of a few dozen labels is mostly noise; a short fixed schedule
 * overfits less. */
nr_predictor_config nr_search_predictor_default(void)
{
    nr_predictor_config c = nr_predictor_config_default(NR_PRED_COMPARATOR);
    c.ensemble = 3;
    c.folds = 0;
    c.epochs = 50;
    return c;
}

typedef struct cand {
    double key; /* prediction (or score, for the pre-filter) */
    int index;
} cand;

/* Higher key first, then lower index. */
static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->key != y->key) return x->key > y->key ? -1 : 1;
    return (x->index > y->index) - (x->index < y->index);
}

/* Predictions for n archs in chunks on the ops thread pool (each arch's prediction is
 * independent, so the result does not depend on the thread count). */
typedef struct predict_job {
    const nr_predictor *p;
    const nr_arch *archs;
    const double *feat;   /* (n, S) score features, or NULL */
    size_t S;
    double *out;
    size_t n;
    nr_status *st;  /* per chunk */
    nr_error *err;  /* per chunk */
} predict_job;

static void predict_chunk(void *ctx, long task, int tid)
{
    (void)tid;
    predict_job *j = ctx;
    size_t lo = (size_t)task * CHUNK, cnt = j->n - lo < CHUNK ? j->n - lo : CHUNK;
    j->st[task] = nr_predictor_predict(j->p, j->archs + lo, j->feat ? j->feat + lo * j->S : NULL, cnt, j->out + lo,
                                       &j->err[task]);
}

static nr_status predict_all(const nr_predictor *p, const nr_arch *archs, const double *feat, size_t S, size_t n,
                             double *out, nr_error *err)
{
    long chunks = (long)((n + CHUNK - 1) / CHUNK);
    nr_status *st = calloc((size_t)(chunks ? chunks : 1), sizeof *st);
    nr_error *errs = calloc((size_t)(chunks ? chunks : 1), sizeof *errs);
    if (!st || !errs) {
        free(st), free(errs);
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
    }
    predict_job j = {p, archs, feat, S, out, n, st, errs};
    nr_parallel_for(chunks, predict_chunk, &j);
    nr_status res = NR_OK;
    for (long k = 0; k < chunks && !res; k++)
        if (st[k]) {
            res = st[k];
            if (err && err->code == NR_OK) *err = errs[k];
        }
    free(st), free(errs);
    return res;
}

/* The S score features of benchmark index idx into row: each from its cache, or the run's
 * scores (NaN -> -inf there, as search_score does). */
static nr_status feature_row(search_run *s, unsigned mask, int S, int idx, double *row, nr_error *err)
{
    for (int k = 0; k < S; k++) {
        nr_score_cache *fc = s->cfg->pred_feature_scores ? s->cfg->pred_feature_scores[k] : NULL;
        nr_status st = fc ? nr_score_cache_get(fc, idx, &row[k], err) : search_score(s, idx, &row[k], err);
        if (st) {
            if (err && fc) { /* name the feature whose file lacks the arch */
                char msg[sizeof err->text];
                snprintf(msg, sizeof msg, "predictor feature %s: %.400s",
                         nr_predictor_feature_name(nr_predictor_score_feature(mask, k)), err->text);
                memcpy(err->text, msg, sizeof msg);
            }
            return st;
        }
    }
    return NR_OK;
}

nr_status search_predictor(search_run *s, nr_error *err)
{
    const nr_search_config *cfg = s->cfg;
    nr_predictor_config pc = cfg->predictor ? *cfg->predictor : nr_search_predictor_default();
    int S = nr_predictor_num_score_features(pc.features), K = cfg->pred_candidates, base_folds = pc.folds;
    size_t S1 = S ? (size_t)S : 1;
    nr_status st = NR_OK;
    nr_arch *tarch = malloc((size_t)s->budget * sizeof *tarch);
    double *tlab = malloc((size_t)s->budget * sizeof *tlab);
    double *tnw = malloc((size_t)s->budget * S1 * sizeof *tnw);
    cand *order = NULL; /* K > 0: every index by score */
    cand *c = malloc(NR_NUM_ARCHS * sizeof *c);
    nr_arch *carch = malloc(NR_NUM_ARCHS * sizeof *carch);
    double *cnw = malloc(NR_NUM_ARCHS * S1 * sizeof *cnw), *pred = malloc(NR_NUM_ARCHS * sizeof *pred);
    unsigned char *touched = malloc(NR_NUM_ARCHS); /* isomorphism classes already queried */
    nr_predictor *p = NULL;
    double r;
    int oob;
    if (!tarch || !tlab || !tnw || !c || !carch || !cnw || !pred || !touched) goto nomem;
    if (K > 0) {
        if (!(order = malloc(NR_NUM_ARCHS * sizeof *order))) goto nomem;
        for (int i = 0; i < NR_NUM_ARCHS; i++) {
            order[i].index = i;
            if ((st = search_score(s, i, &order[i].key, err))) goto done;
        }
        qsort(order, NR_NUM_ARCHS, sizeof *order, cmp_cand);
    }
    /* random start: pred_initial distinct archs (at least 4, what a fit needs) */
    int initial = cfg->pred_initial < 4 ? 4 : cfg->pred_initial;
    while (s->queries < initial && s->queries < s->budget) {
        if ((st = search_query(s, search_draw(s), &r, &oob, err))) goto done;
    }
    while (s->queries < s->budget) {
        /* fit on everything queried so far */
        int n = s->queries;
        for (int i = 0; i < n; i++) {
            int idx = s->history[i];
            tarch[i] = nr_table_by_index(s->t, idx)->arch;
            tlab[i] = s->reward[idx];
            if (S && (st = feature_row(s, pc.features, S, idx, tnw + (size_t)i * S, err))) goto done;
        }
        /* early-stopping folds are drawn by isomorphism class: never more folds than classes */
        int classes = 0;
        memset(touched, 0, NR_NUM_ARCHS);
        for (int i = 0; i < n; i++) {
            int iso = nr_table_by_index(s->t, s->history[i])->iso_index;
            classes += !touched[iso];
            touched[iso] = 1;
        }
        pc.folds = base_folds > classes ? (classes >= 2 ? classes : 0) : base_folds;
        pc.seed = nr_rng_next(&s->rng);
        if ((st = nr_predictor_train(&pc, tarch, tlab, S ? tnw : NULL, (size_t)n, &p, err))) goto done;
        s->res->steps++;
        search_emit(s, NR_SEARCH_EV_FIT, -1, -1, 0.0, n);
        /* candidates: one representative (the table's iso_index) per isomorphism class none of
         * whose members was queried -- isomorphic cells compute the same function, so they get
         * the same prediction; all of them, or the K best-scored */
        memset(touched, 0, NR_NUM_ARCHS);
        for (int i = 0; i < s->queries; i++) touched[nr_table_by_index(s->t, s->history[i])->iso_index] = 1;
        int nc = 0;
        for (int i = 0; i < NR_NUM_ARCHS && (K <= 0 || nc < K); i++) {
            int idx = K > 0 ? order[i].index : i;
            const nr_table_row *row = nr_table_by_index(s->t, idx);
            if (row->iso_index == idx && !touched[idx]) c[nc++].index = idx;
        }
        for (int i = 0; i < nc; i++) {
            carch[i] = nr_table_by_index(s->t, c[i].index)->arch;
            if (S && (st = feature_row(s, pc.features, S, c[i].index, cnw + (size_t)i * S, err))) goto done;
        }
        if ((st = predict_all(p, carch, S ? cnw : NULL, (size_t)S, (size_t)nc, pred, err))) goto done;
        nr_predictor_free(p);
        p = NULL;
        for (int i = 0; i < nc; i++) c[i].key = isnan(pred[i]) ? -INFINITY : pred[i];
        qsort(c, (size_t)nc, sizeof *c, cmp_cand);
        int take = cfg->pred_per_round;
        if (take > s->budget - s->queries) take = s->budget - s->queries;
        if (take > nc) take = nc;
        if (take < 1) break; /* nothing left to query */
        for (int i = 0; i < take; i++) {
            search_emit(s, NR_SEARCH_EV_PREDICT, c[i].index, -1, c[i].key, i + 1);
            if ((st = search_query(s, c[i].index, &r, &oob, err))) goto done;
        }
    }
    goto done;
nomem:
    st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
    nr_predictor_free(p);
    free(tarch), free(tlab), free(tnw), free(order), free(c), free(carch), free(cnw), free(pred), free(touched);
    return st;
}
