/* Predictor model files: JSON through jansson (format described in predictor.h).
 * Saving writes every number with 17 significant digits (exact round trip); loading checks
 * every field and reports the JSON path of the first problem. */
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/outfile.h"
#include "predictor/pred.h"

#define FORMAT_NAME "nasrank-predictor"
#define FORMAT_VERSION 1

/* ---- saving ---- */

static json_t *num_array(const double *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++)
        if (json_array_append_new(a, json_real(x[i]))) {
            json_decref(a);
            return NULL;
        }
    return a;
}

static json_t *int_array(const int *x, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; a && i < n; i++) json_array_append_new(a, json_integer(x[i]));
    return a;
}

/* json_real refuses NaN / inf: such values (never in a valid model) become null. */
static json_t *num_or_null(double v)
{
    return isfinite(v) ? json_real(v) : json_null();
}

static json_t *build(const nr_predictor *p)
{
    const nr_predictor_config *c = &p->cfg;
    const pm_layout *L = &p->lay;
    int D = c->embed_dim, H = c->head_hidden;
    json_t *root = json_object(), *cfg = json_object(), *feat = json_object(), *members = json_array();
    json_t *names = json_array(), *train = json_object();
    if (!root || !cfg || !feat || !members || !names || !train) goto fail;
    json_object_set_new(root, "format", json_string(FORMAT_NAME));
    json_object_set_new(root, "version", json_integer(FORMAT_VERSION));
    json_object_set_new(root, "kind", json_string(nr_predictor_kind_name(c->kind)));

    json_object_set_new(cfg, "embed_dim", json_integer(c->embed_dim));
    json_object_set_new(cfg, "layers", json_integer(c->layers));
    json_object_set_new(cfg, "head_hidden", json_integer(c->head_hidden));
    json_object_set_new(cfg, "adjacency", json_string(c->adjacency == NR_ADJ_NORMALISED ? "normalised" : "plain"));
    json_object_set_new(cfg, "prune", json_integer(c->prune));
    json_object_set_new(cfg, "epochs", json_integer(c->epochs));
    json_object_set_new(cfg, "batch", json_integer(c->batch));
    json_object_set_new(cfg, "lr", json_real(c->lr));
    json_object_set_new(cfg, "beta1", json_real(c->beta1));
    json_object_set_new(cfg, "beta2", json_real(c->beta2));
    json_object_set_new(cfg, "weight_decay", json_real(c->weight_decay));
    json_object_set_new(cfg, "clip", json_real(c->clip));
    json_object_set_new(cfg, "ensemble", json_integer(c->ensemble));
    json_object_set_new(cfg, "folds", json_integer(c->folds));
    json_object_set_new(cfg, "patience", json_integer(c->patience));
    json_object_set_new(cfg, "min_epochs", json_integer(c->min_epochs));
    json_object_set_new(cfg, "refit", json_integer(c->refit));
    json_object_set_new(cfg, "ema", json_real(c->ema));
    json_object_set_new(cfg, "seed", json_integer((json_int_t)c->seed));
    json_object_set_new(root, "config", cfg);
    cfg = NULL;

    for (int k = 0; k < p->nfeat; k++) json_array_append_new(names, json_string(pp_feature_name(p->feat_bit[k])));
    json_object_set_new(feat, "names", names);
    names = NULL;
    json_object_set_new(feat, "mean", num_array(p->feat_mean, (size_t)p->nfeat));
    json_object_set_new(feat, "std", num_array(p->feat_std, (size_t)p->nfeat));
    json_object_set_new(feat, "floors", num_array(p->feat_floor, (size_t)p->nfeat));
    double nf = 0; /* for readers older than "floors" */
    for (int k = 0; k < p->nfeat; k++)
        if (p->feat_bit[k] == NR_FEAT_NASWOT) nf = p->feat_floor[k];
    json_object_set_new(feat, "naswot_floor", json_real(nf));
    json_object_set_new(root, "features", feat);
    feat = NULL;

    for (int m = 0; m < p->members; m++) {
        const double *th = p->theta + (size_t)m * L->total;
        json_t *mo = json_object(), *gcn = json_array(), *head = json_object();
        if (!mo || !gcn || !head) {
            json_decref(mo), json_decref(gcn), json_decref(head);
            goto fail;
        }
        json_object_set_new(mo, "score_mean", json_real(p->score_mean[m]));
        json_object_set_new(mo, "score_std", json_real(p->score_std[m]));
        json_object_set_new(mo, "embedding", num_array(th + L->E, (size_t)PG_TYPES * D));
        for (int l = 0; l < c->layers; l++) {
            json_t *lo = json_object();
            json_object_set_new(lo, "W", num_array(th + L->W[l], (size_t)D * D));
            json_object_set_new(lo, "b", num_array(th + L->b[l], (size_t)D));
            json_array_append_new(gcn, lo);
        }
        json_object_set_new(mo, "gcn", gcn);
        if (H > 0) {
            json_t *mlp = json_object();
            json_object_set_new(mlp, "W", num_array(th + L->V, (size_t)L->G * H));
            json_object_set_new(mlp, "b", num_array(th + L->c1, (size_t)H));
            json_object_set_new(mo, "mlp", mlp);
        }
        int nw = (c->kind == NR_PRED_COMPARATOR ? 2 : 1) * L->F;
        json_object_set_new(head, "w", num_array(th + L->w, (size_t)nw));
        if (c->kind == NR_PRED_COMPARATOR) json_object_set_new(head, "c", json_real(th[L->c]));
        json_object_set_new(mo, "head", head);
        json_array_append_new(members, mo);
    }
    json_object_set_new(root, "members", members);
    members = NULL;

    int nm = p->members < 64 ? p->members : 64;
    json_object_set_new(train, "n", json_integer((json_int_t)p->info.n_train));
    json_object_set_new(train, "holdout_tau", num_or_null(p->info.holdout_tau));
    /* no wall time here: the same inputs and seed must give a byte-identical file */
    json_object_set_new(train, "epochs_run", int_array(p->info.epochs_run, (size_t)nm));
    json_object_set_new(train, "best_epoch", int_array(p->info.best_epoch, (size_t)nm));
    json_object_set_new(train, "refit_epochs", json_integer(p->info.refit_epochs));
    json_object_set_new(root, "training", train);
    return root;
fail:
    json_decref(root), json_decref(cfg), json_decref(feat), json_decref(members), json_decref(names);
    json_decref(train);
    return NULL;
}

nr_status nr_predictor_save(const nr_predictor *p, const char *path, nr_error *err)
{
    if (!p) return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "NULL predictor");
    /* jansson has no inf/NaN: such a number would silently drop its field */
    for (int k = 0; k < p->nfeat; k++)
        if (!isfinite(p->feat_mean[k]) || !isfinite(p->feat_std[k]) || !isfinite(p->feat_floor[k]))
            return nr_error_set(err, NR_ERR_NUMERIC, path, 0, 0, "feature %s: non-finite standardisation",
                                pp_feature_name(p->feat_bit[k]));
    json_t *root = build(p);
    if (!root) return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory building the model JSON");
    nr_outfile *of = NULL;
    FILE *f = NULL;
    nr_status st = nr_outfile_open(path, &of, &f, err);
    if (st) {
        json_decref(root);
        return st;
    }
    errno = 0;
    int rc = json_dumpf(root, f, JSON_INDENT(1) | JSON_REAL_PRECISION(17));
    if (rc == 0) rc = fputc('\n', f) == EOF ? -1 : 0;
    int e = errno; /* a large model meets a full disk inside the dump, not at the commit */
    json_decref(root);
    if (rc) {
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_IO, path, 0, 0, "write failed: %s", e ? strerror(e) : "i/o error");
    }
    return nr_outfile_commit(of, err);
}

/* ---- loading ---- */

typedef struct ld {
    const char *src;
    nr_error *err;
} ld;

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "an array";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE: case JSON_FALSE: return "a boolean";
    case JSON_NULL: return "null";
    }
    return "something else";
}

/* Member key of an object, with its JSON path for messages. */
static json_t *field(const ld *c, const json_t *obj, const char *objpath, const char *key, json_type want,
                     nr_status *st)
{
    char path[160];
    snprintf(path, sizeof path, "%s%s%s", objpath, *objpath ? "." : "", key);
    json_t *v = json_object_get(obj, key);
    if (!v) {
        *st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "missing field '%s'", path);
        return NULL;
    }
    int ok = want == JSON_REAL ? json_is_number(v) : json_typeof(v) == want;
    if (!ok) {
        const char *w = want == JSON_OBJECT ? "an object" : want == JSON_ARRAY ? "an array"
                      : want == JSON_STRING ? "a string" : want == JSON_INTEGER ? "an integer" : "a number";
        nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "field '%s' must be %s, got %s", path, w, type_name(v));
        *st = NR_ERR_INVALID;
        return NULL;
    }
    return v;
}

static nr_status get_int(const ld *c, const json_t *obj, const char *objpath, const char *key, long lo, long hi,
                         long *out)
{
    nr_status st = NR_OK;
    json_t *v = field(c, obj, objpath, key, JSON_INTEGER, &st);
    if (!v) return st;
    json_int_t x = json_integer_value(v);
    if (x < lo || x > hi)
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "field '%s%s%s' must be in %ld..%ld, got %lld",
                            objpath, *objpath ? "." : "", key, lo, hi, (long long)x);
    *out = (long)x;
    return NR_OK;
}

static nr_status get_num(const ld *c, const json_t *obj, const char *objpath, const char *key, double *out)
{
    nr_status st = NR_OK;
    json_t *v = field(c, obj, objpath, key, JSON_REAL, &st);
    if (!v) return st;
    double x = json_number_value(v);
    if (!isfinite(x))
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "field '%s%s%s' is not a finite number", objpath,
                            *objpath ? "." : "", key);
    *out = x;
    return NR_OK;
}

/* Array of exactly n finite numbers into dst. */
static nr_status get_array(const ld *c, const json_t *obj, const char *objpath, const char *key, size_t n,
                           double *dst)
{
    nr_status st = NR_OK;
    json_t *a = field(c, obj, objpath, key, JSON_ARRAY, &st);
    if (!a) return st;
    if (json_array_size(a) != n)
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "%s%s%s: expected %zu numbers, got %zu", objpath,
                            *objpath ? "." : "", key, n, json_array_size(a));
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_array_get(a, i);
        if (!json_is_number(v) || !isfinite(json_number_value(v)))
            return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "%s%s%s[%zu]: expected a finite number, got %s",
                                objpath, *objpath ? "." : "", key, i, json_is_number(v) ? "a non-finite number" : type_name(v));
        dst[i] = json_number_value(v);
    }
    return NR_OK;
}

static nr_status load_config(const ld *c, const json_t *root, nr_predictor_config *cfg)
{
    nr_status st = NR_OK;
    json_t *k = field(c, root, "", "kind", JSON_STRING, &st);
    if (!k) return st;
    nr_predictor_kind kind;
    if (nr_predictor_kind_parse(json_string_value(k), &kind, NULL))
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0,
                            "field 'kind': unknown model kind '%s' (expected comparator or relativistic)",
                            json_string_value(k));
    *cfg = nr_predictor_config_default(kind);
    json_t *o = field(c, root, "", "config", JSON_OBJECT, &st);
    if (!o) return st;
    long v;
    double d;
#define INT(name, lo, hi) \
    if ((st = get_int(c, o, "config", #name, lo, hi, &v))) return st; \
    cfg->name = (int)v;
#define NUM(name) \
    if ((st = get_num(c, o, "config", #name, &d))) return st; \
    cfg->name = d;
    INT(embed_dim, 1, 1024)
    INT(layers, 0, 16)
    INT(head_hidden, 0, 4096)
    INT(prune, 0, 3)
    INT(epochs, 1, 100000)
    INT(batch, 2, 4096)
    INT(ensemble, 1, 64)
    INT(folds, 0, 64)
    INT(patience, 1, 1000000)
    INT(min_epochs, 0, 1000000)
    INT(refit, 0, 1)
    NUM(lr)
    NUM(beta1)
    NUM(beta2)
    NUM(weight_decay)
    NUM(clip)
    NUM(ema)
#undef INT
#undef NUM
    json_t *s = field(c, o, "config", "seed", JSON_INTEGER, &st);
    if (!s) return st;
    cfg->seed = (uint64_t)json_integer_value(s);
    json_t *a = field(c, o, "config", "adjacency", JSON_STRING, &st);
    if (!a) return st;
    if (!strcmp(json_string_value(a), "plain")) cfg->adjacency = NR_ADJ_PLAIN;
    else if (!strcmp(json_string_value(a), "normalised")) cfg->adjacency = NR_ADJ_NORMALISED;
    else
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0,
                            "field 'config.adjacency': expected \"plain\" or \"normalised\", got \"%s\"",
                            json_string_value(a));
    /* feature names decide the mask */
    json_t *f = field(c, root, "", "features", JSON_OBJECT, &st);
    if (!f) return st;
    json_t *names = field(c, f, "features", "names", JSON_ARRAY, &st);
    if (!names) return st;
    cfg->features = 0;
    for (size_t i = 0; i < json_array_size(names); i++) {
        json_t *nm = json_array_get(names, i);
        unsigned bit = 0;
        if (!json_is_string(nm) || nr_predictor_features_parse(json_string_value(nm), &bit, NULL) || !bit ||
            (bit & (bit - 1)) || (cfg->features & bit))
            return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0,
                                "features.names[%zu]: %s%s%sexpected one of naswot, params, flops, synflow, snip, "
                                "grad_norm, grasp, fisher, jacob_cov (each at most once)",
                                i, json_is_string(nm) ? "\"" : "", json_is_string(nm) ? json_string_value(nm) : "",
                                json_is_string(nm) ? "\": " : "");
        cfg->features |= bit;
    }
    nr_error e2 = {0};
    if (nr_predictor_config_check(cfg, &e2))
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "config: %s", e2.text);
    return NR_OK;
}

static nr_status load_body(const ld *c, const json_t *root, nr_predictor **out)
{
    nr_status st = NR_OK;
    json_t *fmt = field(c, root, "", "format", JSON_STRING, &st);
    if (!fmt) return st;
    if (strcmp(json_string_value(fmt), FORMAT_NAME))
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "not a nasrank predictor model (format \"%s\")",
                            json_string_value(fmt));
    json_t *ver = field(c, root, "", "version", JSON_INTEGER, &st);
    if (!ver) return st;
    if (json_integer_value(ver) != FORMAT_VERSION)
        return nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0,
                            "unsupported format version %lld (this nasrank reads version %d)",
                            (long long)json_integer_value(ver), FORMAT_VERSION);
    nr_predictor_config cfg;
    if ((st = load_config(c, root, &cfg))) return st;
    nr_predictor *p = pp_alloc(&cfg, 0);
    if (!p) return nr_error_set(c->err, NR_ERR_NOMEM, c->src, 0, 0, "out of memory");
    const pm_layout *L = &p->lay;
    int D = cfg.embed_dim, H = cfg.head_hidden;
    char path[96];

    json_t *f = json_object_get(root, "features");
    double fm[PG_MAX_EXTRA], fs[PG_MAX_EXTRA], ff[PG_MAX_EXTRA] = {0}, naswot_floor = 0;
    json_t *names = json_object_get(f, "names");
    if ((st = get_array(c, f, "features", "mean", json_array_size(names), fm))) goto fail;
    if ((st = get_array(c, f, "features", "std", json_array_size(names), fs))) goto fail;
    /* "floors" since the proxy features; older files hold the naswot floor only */
    int have_floors = json_object_get(f, "floors") != NULL;
    if (have_floors && (st = get_array(c, f, "features", "floors", json_array_size(names), ff))) goto fail;
    if (!have_floors && (st = get_num(c, f, "features", "naswot_floor", &naswot_floor))) goto fail;
    for (size_t i = 0; i < json_array_size(names); i++) {
        unsigned bit = 0;
        nr_predictor_features_parse(json_string_value(json_array_get(names, i)), &bit, NULL);
        if (!(fs[i] > 0)) {
            st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "features.std[%zu] must be > 0, got %g", i, fs[i]);
            goto fail;
        }
        if (!have_floors && (bit & NR_FEAT_SCORES) && bit != NR_FEAT_NASWOT) {
            st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0,
                              "features: the proxy feature %s needs 'floors' (only NASWOT models predate them)",
                              pp_feature_name(bit));
            goto fail;
        }
        if (have_floors && !(bit & NR_FEAT_SCORES) && ff[i] != 0) {
            st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0,
                              "features.floors[%zu] must be 0 for the computed feature %s, got %g", i,
                              pp_feature_name(bit), ff[i]);
            goto fail;
        }
        for (int k = 0; k < p->nfeat; k++)
            if (p->feat_bit[k] == bit) {
                p->feat_mean[k] = fm[i], p->feat_std[k] = fs[i];
                p->feat_floor[k] = have_floors ? ff[i] : bit == NR_FEAT_NASWOT ? naswot_floor : 0;
            }
    }

    json_t *members = field(c, root, "", "members", JSON_ARRAY, &st);
    if (!members) goto fail;
    if (json_array_size(members) != (size_t)cfg.ensemble) {
        st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "members: expected %d (config.ensemble), got %zu",
                          cfg.ensemble, json_array_size(members));
        goto fail;
    }
    for (int m = 0; m < p->members; m++) {
        double *th = p->theta + (size_t)m * L->total;
        json_t *mo = json_array_get(members, (size_t)m);
        snprintf(path, sizeof path, "members[%d]", m);
        if (!json_is_object(mo)) {
            st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "%s must be an object, got %s", path, type_name(mo));
            goto fail;
        }
        if ((st = get_num(c, mo, path, "score_mean", &p->score_mean[m]))) goto fail;
        if ((st = get_num(c, mo, path, "score_std", &p->score_std[m]))) goto fail;
        if (!(p->score_std[m] > 0)) {
            st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "%s.score_std must be > 0", path);
            goto fail;
        }
        if ((st = get_array(c, mo, path, "embedding", (size_t)PG_TYPES * D, th + L->E))) goto fail;
        json_t *gcn = field(c, mo, path, "gcn", JSON_ARRAY, &st);
        if (!gcn) goto fail;
        if (json_array_size(gcn) != (size_t)cfg.layers) {
            st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "%s.gcn: expected %d layers (config.layers), got %zu",
                              path, cfg.layers, json_array_size(gcn));
            goto fail;
        }
        for (int l = 0; l < cfg.layers; l++) {
            char lp[128];
            snprintf(lp, sizeof lp, "%s.gcn[%d]", path, l);
            json_t *lo = json_array_get(gcn, (size_t)l);
            if (!json_is_object(lo)) {
                st = nr_error_set(c->err, NR_ERR_INVALID, c->src, 0, 0, "%s must be an object", lp);
                goto fail;
            }
            if ((st = get_array(c, lo, lp, "W", (size_t)D * D, th + L->W[l]))) goto fail;
            if ((st = get_array(c, lo, lp, "b", (size_t)D, th + L->b[l]))) goto fail;
        }
        if (H > 0) {
            char lp[128];
            snprintf(lp, sizeof lp, "%s.mlp", path);
            json_t *mlp = field(c, mo, path, "mlp", JSON_OBJECT, &st);
            if (!mlp) goto fail;
            if ((st = get_array(c, mlp, lp, "W", (size_t)L->G * H, th + L->V))) goto fail;
            if ((st = get_array(c, mlp, lp, "b", (size_t)H, th + L->c1))) goto fail;
        }
        char hp[128];
        snprintf(hp, sizeof hp, "%s.head", path);
        json_t *head = field(c, mo, path, "head", JSON_OBJECT, &st);
        if (!head) goto fail;
        size_t nw = (size_t)(cfg.kind == NR_PRED_COMPARATOR ? 2 : 1) * L->F;
        if ((st = get_array(c, head, hp, "w", nw, th + L->w))) goto fail;
        if (cfg.kind == NR_PRED_COMPARATOR && (st = get_num(c, head, hp, "c", th + L->c))) goto fail;
    }

    /* training summary: informational, optional, but typed when present */
    json_t *tr = json_object_get(root, "training");
    if (tr && json_is_object(tr)) {
        json_t *v;
        if ((v = json_object_get(tr, "n")) && json_is_integer(v) && json_integer_value(v) >= 0)
            p->info.n_train = (size_t)json_integer_value(v);
        if ((v = json_object_get(tr, "holdout_tau")) && json_is_number(v)) p->info.holdout_tau = json_number_value(v);
        if ((v = json_object_get(tr, "refit_epochs")) && json_is_integer(v)) p->info.refit_epochs = (int)json_integer_value(v);
        json_t *er = json_object_get(tr, "epochs_run"), *be = json_object_get(tr, "best_epoch");
        for (int m = 0; m < p->members && m < 64; m++) {
            json_t *a = json_array_get(er, (size_t)m), *b = json_array_get(be, (size_t)m);
            if (json_is_integer(a)) p->info.epochs_run[m] = (int)json_integer_value(a);
            if (json_is_integer(b)) p->info.best_epoch[m] = (int)json_integer_value(b);
        }
    }
    *out = p;
    return NR_OK;
fail:
    nr_predictor_free(p);
    return st;
}

nr_status nr_predictor_parse(const char *data, size_t size, const char *source, nr_predictor **out, nr_error *err)
{
    if (out) *out = NULL;
    if (!source) source = "<model>";
    if (!data || !out) return nr_error_set(err, NR_ERR_INVALID, source, 0, 0, "NULL data or out");
    json_error_t je;
    json_t *root = json_loadb(data, size, JSON_REJECT_DUPLICATES, &je);
    if (!root)
        return nr_error_set(err, NR_ERR_PARSE, source, je.line > 0 ? je.line : 0, je.column > 0 ? je.column : 0,
                            "invalid JSON: %s", je.text);
    ld c = {source, err};
    nr_status st;
    if (!json_is_object(root))
        st = nr_error_set(err, NR_ERR_INVALID, source, 0, 0, "a model file must hold a JSON object, got %s",
                          type_name(root));
    else st = load_body(&c, root, out);
    json_decref(root);
    return st;
}

nr_status nr_predictor_load(const char *path, nr_predictor **out, nr_error *err)
{
    if (out) *out = NULL;
    if (!path) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NULL model path");
    FILE *f = fopen(path, "rb");
    if (!f) return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open the model file");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    nr_status st = NR_OK;
    while (buf) {
        if (n == cap) {
            if (cap > ((size_t)1 << 30)) {
                st = nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "model file larger than 1 GiB");
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t r = fread(buf + n, 1, cap - n, f);
        n += r;
        if (r == 0) {
            if (ferror(f)) st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "read error");
            break;
        }
    }
    fclose(f);
    if (!buf) return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory reading the model");
    if (!st) st = nr_predictor_parse(buf, n, path, out, err);
    free(buf);
    return st;
}
