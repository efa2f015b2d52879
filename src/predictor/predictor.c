/* Predictor configuration, names, feature handling and accessors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/pred.h"

/* head_hidden 32 and lr 4e-3 were chosen by the cross-validated Kendall tau on the training
 * labels (held-out folds, K = 424, 2 seeds; never the evaluation set): against no hidden layer
 * and lr 2e-3 it went from 0.795 to 0.832; the normalised adjacency lost 0.009 (README,
 * "Predictors").  epochs 400 (was 200): at K = 1000 the held-out folds' best epoch sat at the
 * cap (median 185/200, 5 seeds); with 400 they stop at ~300 and the held-out tau rises
 * .877 -> .882.  Smaller K stop on patience long before either cap. */
nr_predictor_config nr_predictor_config_default(nr_predictor_kind kind)
{
    nr_predictor_config c = {
        .kind = kind,
        .embed_dim = 32,
        .layers = 4,
        .head_hidden = 32,
        .adjacency = NR_ADJ_PLAIN,
        .prune = 2,
        .features = 0,
        .epochs = 400,
        .batch = 64,
        .lr = 4e-3,
        .beta1 = 0.9,
        .beta2 = 0.999,
        .weight_decay = 5e-4,
        .clip = 5.0,
        .ensemble = 5,
        .folds = 5,
        .patience = 40,
        .refit = 1,
        .min_epochs = 20,
        .seed = 1,
    };
    return c;
}

nr_status nr_predictor_config_check(const nr_predictor_config *c, nr_error *err)
{
#define BAD(...) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, __VA_ARGS__)
    if (!c) BAD("predictor config is NULL");
    if (c->kind != NR_PRED_COMPARATOR && c->kind != NR_PRED_RELATIVISTIC) BAD("kind: unknown model kind %d", (int)c->kind);
    if (c->embed_dim < 1 || c->embed_dim > 1024) BAD("embed_dim must be in 1..1024, got %d", c->embed_dim);
    if (c->layers < 0 || c->layers > 16) BAD("layers must be in 0..16, got %d", c->layers);
    if (c->head_hidden < 0 || c->head_hidden > 4096) BAD("head_hidden must be in 0..4096, got %d", c->head_hidden);
    if (c->adjacency != NR_ADJ_PLAIN && c->adjacency != NR_ADJ_NORMALISED) BAD("adjacency: unknown kind %d", (int)c->adjacency);
    if (c->prune < 0 || c->prune > 3) BAD("prune must be in 0..3, got %d", c->prune);
    if (c->features & ~(unsigned)NR_FEAT_ALL) BAD("features: unknown bits in mask 0x%x", c->features);
    if (c->epochs < 1 || c->epochs > 100000) BAD("epochs must be in 1..100000, got %d", c->epochs);
    if (c->batch < 2 || c->batch > 4096) BAD("batch must be in 2..4096, got %d", c->batch);
    if (!(c->lr > 0 && c->lr < 10)) BAD("lr must be in (0, 10), got %g", c->lr);
    if (!(c->beta1 >= 0 && c->beta1 < 1)) BAD("beta1 must be in [0, 1), got %g", c->beta1);
    if (!(c->beta2 >= 0 && c->beta2 < 1)) BAD("beta2 must be in [0, 1), got %g", c->beta2);
    if (!(c->weight_decay >= 0 && c->weight_decay < 10)) BAD("weight_decay must be in [0, 10), got %g", c->weight_decay);
    if (!(c->clip <= 1e300)) BAD("clip must be a number, got %g", c->clip); /* NaN fails */
    if (c->ensemble < 1 || c->ensemble > 64) BAD("ensemble must be in 1..64, got %d", c->ensemble);
    if (c->folds != 0 && (c->folds < 2 || c->folds > 64)) BAD("folds must be 0 or in 2..64, got %d", c->folds);
    if (c->patience < 1) BAD("patience must be >= 1, got %d", c->patience);
    if (c->min_epochs < 0) BAD("min_epochs must be >= 0, got %d", c->min_epochs);
    if (c->refit != 0 && c->refit != 1) BAD("refit must be 0 or 1, got %d", c->refit);
    if (!(c->ema >= 0 && c->ema < 1)) BAD("ema must be in [0, 1), got %g", c->ema);
#undef BAD
    return NR_OK;
}

const char *nr_predictor_kind_name(nr_predictor_kind kind)
{
    return kind == NR_PRED_COMPARATOR ? "comparator" : kind == NR_PRED_RELATIVISTIC ? "relativistic" : NULL;
}

nr_status nr_predictor_kind_parse(const char *s, nr_predictor_kind *out, nr_error *err)
{
    if (s && !strcmp(s, "comparator")) *out = NR_PRED_COMPARATOR;
    else if (s && !strcmp(s, "relativistic")) *out = NR_PRED_RELATIVISTIC;
    else
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "unknown model kind '%s' (expected comparator or relativistic)", s ? s : "(null)");
    return NR_OK;
}

/* Every feature, in bit order (the order of the extra inputs and of the score columns). */
static const struct {
    const char *name;
    unsigned bit;
} feat_names[PG_MAX_EXTRA] = {{"naswot", NR_FEAT_NASWOT},       {"params", NR_FEAT_PARAMS},
                              {"flops", NR_FEAT_FLOPS},         {"synflow", NR_FEAT_SYNFLOW},
                              {"snip", NR_FEAT_SNIP},           {"grad_norm", NR_FEAT_GRAD_NORM},
                              {"grasp", NR_FEAT_GRASP},         {"fisher", NR_FEAT_FISHER},
                              {"jacob_cov", NR_FEAT_JACOB_COV}};

const char *pp_feature_name(unsigned bit)
{
    for (int i = 0; i < PG_MAX_EXTRA; i++)
        if (feat_names[i].bit == bit) return feat_names[i].name;
    return NULL;
}

const char *nr_predictor_feature_name(unsigned bit)
{
    return pp_feature_name(bit);
}

int nr_predictor_num_score_features(unsigned mask)
{
    int s = 0;
    for (int i = 0; i < PG_MAX_EXTRA; i++) s += (mask & feat_names[i].bit & NR_FEAT_SCORES) != 0;
    return s;
}

unsigned nr_predictor_score_feature(unsigned mask, int k)
{
    for (int i = 0; i < PG_MAX_EXTRA; i++)
        if (mask & feat_names[i].bit & NR_FEAT_SCORES) {
            if (k == 0) return feat_names[i].bit;
            k--;
        }
    return 0;
}

/* log features: non-negative sums (predictor.h, "Extra inputs") */
#define LOG_FEATS (NR_FEAT_SYNFLOW | NR_FEAT_SNIP | NR_FEAT_GRAD_NORM | NR_FEAT_FISHER)

int pp_score_transform(unsigned bit, double v, double *out, char *buf, size_t n)
{
    const char *req = NULL;
    if (bit & LOG_FEATS) {
        if (isnan(v) || v < 0 || v == INFINITY) req = "finite and >= 0 required";
        else *out = log(v); /* 0 -> -inf -> the floor */
    } else if (bit == NR_FEAT_GRASP) {
        if (!isfinite(v)) req = "finite required";
        else *out = v < 0 ? -log1p(-v) : log1p(v);
    } else if (bit == NR_FEAT_NASWOT || bit == NR_FEAT_JACOB_COV) {
        if (isnan(v) || v == INFINITY) req = "finite or -inf required";
        else *out = v;
    } else {
        req = "not a score feature";
    }
    /* a bound far beyond any real score (NASWOT ~1e3, logs < 1e3) keeps the training set's
     * sums and squares finite: 1e300 would pass as 'finite' and overflow the std */
    if (!req && isfinite(*out) && fabs(*out) > PP_SCORE_MAX) req = "magnitude above 1e100";
    if (!req) return 0;
    char num[32];
    if (isnan(v)) snprintf(num, sizeof num, "NaN");
    else if (isinf(v)) snprintf(num, sizeof num, "%sinf", v > 0 ? "+" : "-");
    else snprintf(num, sizeof num, "%.17g", v);
    snprintf(buf, n, "%s score is %s (%s)", bit == NR_FEAT_NASWOT ? "NASWOT" : pp_feature_name(bit) ? pp_feature_name(bit) : "?", num,
             req);
    return -1;
}

nr_status nr_predictor_check_score(unsigned bit, double v, nr_error *err)
{
    char why[160];
    double t;
    if (!(bit & NR_FEAT_SCORES) || (bit & (bit - 1)))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "0x%x is not one score feature", bit);
    if (pp_score_transform(bit, v, &t, why, sizeof why)) return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "%s", why);
    return NR_OK;
}

nr_status nr_predictor_features_parse(const char *s, unsigned *mask, nr_error *err)
{
    *mask = 0;
    if (!s || !*s || !strcmp(s, "none")) return NR_OK;
    const char *p = s;
    for (;;) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        unsigned bit = 0;
        for (int i = 0; i < PG_MAX_EXTRA; i++)
            if (strlen(feat_names[i].name) == len && !strncmp(p, feat_names[i].name, len)) bit = feat_names[i].bit;
        if (!bit)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "unknown feature '%.*s' in '%s' (expected a comma-separated subset of "
                                "naswot, params, flops, synflow, snip, grad_norm, grasp, fisher, jacob_cov)",
                                (int)len, p, s);
        if (*mask & bit)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "feature '%.*s' given twice in '%s'", (int)len, p, s);
        *mask |= bit;
        if (!comma) break;
        p = comma + 1;
    }
    return NR_OK;
}

void pp_set_features(nr_predictor *p)
{
    p->nfeat = 0;
    p->nscore = 0;
    for (int i = 0; i < PG_MAX_EXTRA; i++)
        if (p->cfg.features & feat_names[i].bit) {
            p->feat_col[p->nfeat] = (feat_names[i].bit & NR_FEAT_SCORES) ? p->nscore++ : -1;
            p->feat_bit[p->nfeat++] = feat_names[i].bit;
        }
}

nr_predictor *pp_alloc(const nr_predictor_config *cfg, int hist_cap)
{
    nr_predictor *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->cfg = *cfg;
    p->cfg.progress = NULL;
    p->cfg.progress_ctx = NULL;
    pp_set_features(p);
    p->dims = (pm_dims){cfg->kind, cfg->embed_dim, cfg->layers, cfg->head_hidden, p->nfeat};
    pm_layout_make(&p->dims, &p->lay);
    p->members = cfg->ensemble;
    for (int i = 0; i < PG_MAX_EXTRA; i++) p->feat_mean[i] = 0, p->feat_std[i] = 1, p->feat_floor[i] = 0;
    p->theta = calloc((size_t)p->members * p->lay.total, sizeof *p->theta);
    p->score_mean = calloc((size_t)p->members, sizeof *p->score_mean);
    p->score_std = calloc((size_t)p->members, sizeof *p->score_std);
    p->hist_cap = hist_cap;
    p->hist_n = calloc((size_t)p->members, sizeof *p->hist_n);
    p->hist_loss = calloc((size_t)p->members * (size_t)(hist_cap > 0 ? hist_cap : 1), sizeof *p->hist_loss);
    p->hist_tau = calloc((size_t)p->members * (size_t)(hist_cap > 0 ? hist_cap : 1), sizeof *p->hist_tau);
    p->info.holdout_tau = NAN;
    p->info.seconds = NAN;
    if (!p->theta || !p->score_mean || !p->score_std || !p->hist_n || !p->hist_loss || !p->hist_tau) {
        nr_predictor_free(p);
        return NULL;
    }
    return p;
}

void nr_predictor_free(nr_predictor *p)
{
    if (!p) return;
    free(p->theta);
    free(p->score_mean);
    free(p->score_std);
    free(p->hist_n);
    free(p->hist_loss);
    free(p->hist_tau);
    free(p);
}

double pp_feature_raw(const nr_predictor *p, int k, const nr_arch *a, const double *srow)
{
    unsigned bit = p->feat_bit[k];
    if (bit == NR_FEAT_PARAMS) return log((double)nr_arch_params(a, NULL));
    if (bit == NR_FEAT_FLOPS) return log(nr_arch_flops(a, NULL));
    double t = NAN;
    char why[8];
    if (pp_score_transform(bit, srow[p->feat_col[k]], &t, why, sizeof why)) return NAN;
    return t == -INFINITY ? p->feat_floor[k] : t;
}

nr_status pp_features(const nr_predictor *p, const nr_arch *a, const double *srow, double *x, size_t row,
                      nr_error *err)
{
    for (int k = 0; k < p->nfeat; k++) {
        double raw;
        if (p->feat_col[k] >= 0) { /* transformed once, refused values named */
            char why[160];
            if (pp_score_transform(p->feat_bit[k], srow[p->feat_col[k]], &raw, why, sizeof why))
                return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "arch %zu: %s", row, why);
            if (raw == -INFINITY) raw = p->feat_floor[k];
        } else {
            raw = pp_feature_raw(p, k, a, srow);
        }
        x[k] = (raw - p->feat_mean[k]) / p->feat_std[k];
    }
    return NR_OK;
}

const nr_predictor_config *nr_predictor_get_config(const nr_predictor *p)
{
    return &p->cfg;
}

void nr_predictor_get_info(const nr_predictor *p, nr_predictor_info *out)
{
    *out = p->info;
}

size_t nr_predictor_history(const nr_predictor *p, int member, const double **loss, const double **tau)
{
    if (member < 0 || member >= p->members || p->hist_cap <= 0) {
        *loss = *tau = NULL;
        return 0;
    }
    *loss = p->hist_loss + (size_t)member * p->hist_cap;
    *tau = p->hist_tau + (size_t)member * p->hist_cap;
    return (size_t)p->hist_n[member];
}
