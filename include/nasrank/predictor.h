/* nasrank — trained graph predictors of architecture quality (DESIGN.md section 6).
 *
 * Graph.  A NAS-Bench-201 cell becomes an 8-node DAG with the operation on the node: node 0
 * is the cell input, node 1 + e is edge e (string order, see encoding.h) carrying its op,
 * node 7 is the cell output.  Edge node (j<-i) reads the input node when i = 0, else every
 * edge node ending at i; it feeds the output node when j = 3, else every edge node leaving j.
 * Pruning (prune): 0 keeps every graph edge; 1 takes the graph edges of `none` nodes away (a
 * zero op passes nothing on; the node keeps its embedding); 2 also turns dead edge nodes
 * into `none` nodes: those whose source cell node is identically zero or whose target cell
 * node does not reach the cell output (their ops cannot change what the cell computes).
 *
 * Trunk f(arch).  h0 = E[type(v)] (learned embedding of 7 node types: input, output and the
 * 5 ops; width D), then L GCN layers h' = ReLU(Â h W + h + b) (W D x D), mean pooling over
 * the 8 nodes, then the standardised extra inputs (below) appended, then optionally one
 * hidden layer ReLU(g V + c) of width H.  Â is A^T + I (NR_ADJ_PLAIN: a node sums its
 * predecessors and itself) or its symmetric normalisation D_r^-1/2 (A^T + I) D_c^-1/2
 * (NR_ADJ_NORMALISED, row / column sums).
 *
 * Comparator (CTNAS NAC).  P(a beats b) = sigmoid(wa·f(a) + wb·f(b) + c), trained by binary
 * cross-entropy on all ordered pairs (a, b), a != b, of a minibatch with target 1[y_a > y_b]
 * (0.5 on an exact tie).  The scalar score is s(a) = wa·f(a).  For ANY candidate set S the
 * soft win count sum_{b in S} P(a beats b) is a strictly increasing function of s(a), and the
 * hard win count #{b : P(a beats b) > 1/2} a non-decreasing one, so sorting by s is sorting
 * by win count, without the O(|S|^2) comparisons.
 *
 * Relativistic (ReNAS).  Scalar o(a) = v·f(a); loss = mean over ordered pairs i != j of a
 * minibatch of log(1 + exp(-(o_i - o_j) sign(y_i - y_j))).  The score is o.
 *
 * Extra inputs (graph level, appended to the pooled embedding in bit order), each first
 * transformed (below), then standardised with the training set's mean and standard deviation
 * (stored in the model).  Computed internally:
 *   NR_FEAT_PARAMS  log of the trainable parameter count (nr_arch_params, CIFAR-10 macro)
 *   NR_FEAT_FLOPS   log of the multiply-adds (nr_arch_flops, CIFAR-10 macro)
 * Caller-supplied ("score features"): the per-architecture columns `nasrank score --proxy`
 * writes (include/nasrank/proxy.h), passed as an n x S row-major matrix whose S columns are
 * the score features of the mask in bit order (nr_predictor_score_feature):
 *   NR_FEAT_NASWOT     naswot as it is
 *   NR_FEAT_SYNFLOW    log(x)
 *   NR_FEAT_SNIP       log(x)
 *   NR_FEAT_GRAD_NORM  log(x)
 *   NR_FEAT_GRASP      sign(x) log(1 + |x|)
 *   NR_FEAT_FISHER     log(x)
 *   NR_FEAT_JACOB_COV  jacob_cov as it is
 * Why: synflow, snip, grad_norm and fisher are sums of non-negative terms that span many
 * decades over NB201 (synflow ~1e0..1e50): standardised raw values would put nearly every
 * arch in one spot and a few outliers far away; their logs are spread like naswot and
 * jacob_cov, which are logarithms already.  grasp is signed, so the signed log1p keeps the
 * sign and compresses the magnitude.  A value the transform maps to -inf (naswot or
 * jacob_cov -inf: a dead architecture; x = 0 for the log features) takes the feature's floor
 * min(finite transformed training values) - 1 * std(the same values) (1 when that std is 0;
 * the floor is 0 when no training value is finite), also for new archs.  Refused, with
 * NR_ERR_NUMERIC naming the feature: NaN and +inf always, negative (or -inf) values of the
 * log features, an infinite grasp, and a finite transformed value above 1e100 in magnitude
 * (no real score comes near; it would overflow the standardisation).  (ensemble is not a feature: it depends on the set scored.)
 *
 * Ensemble and early stopping.  `ensemble` members are trained from independent seeded
 * initialisations.  The training set is split into `folds` folds by isomorphism class (all
 * archs with the same nr_arch_canonical_key fall in one fold); member m holds out fold
 * m mod folds, trains on the rest with Adam (decoupled weight decay, as AdamW), global
 * gradient-norm clipping, and keeps the weights of the epoch with the best Kendall tau on its
 * held-out fold (patience: stop after `patience` epochs without improvement).  folds = 0
 * trains every member on everything for exactly `epochs` epochs.  With ensemble = folds
 * every training label is used by ensemble - 1 members (cross-validation bagging).
 * A prediction is the mean over members of (s_m - mu_m) / sd_m, mu_m / sd_m being member
 * m's score mean / standard deviation over the training archs.  Higher = better.
 *
 * Determinism.  Training is bit-identical for a seed and the same inputs, whatever the thread
 * count: members run in parallel on the ops thread pool (nr_threads_set), each member's
 * arithmetic is sequential in a fixed order, and results are combined in member order.
 * Everything is double precision.
 */
#ifndef NASRANK_PREDICTOR_H
#define NASRANK_PREDICTOR_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"
#include "nasrank/table.h"

typedef enum nr_predictor_kind {
    NR_PRED_COMPARATOR = 0,   /* CTNAS neural architecture comparator */
    NR_PRED_RELATIVISTIC = 1  /* ReNAS relativistic scalar predictor */
} nr_predictor_kind;

typedef enum nr_adjacency {
    NR_ADJ_PLAIN = 0,      /* Â = A^T + I */
    NR_ADJ_NORMALISED = 1  /* Â = D_r^-1/2 (A^T + I) D_c^-1/2 */
} nr_adjacency;

/* Extra input features (bit mask; the values of the first three are those of model files
 * written before the proxy features existed).  NR_FEAT_SCORES: the caller-supplied ones. */
enum {
    NR_FEAT_NASWOT = 1,
    NR_FEAT_PARAMS = 2,
    NR_FEAT_FLOPS = 4,
    NR_FEAT_SYNFLOW = 8,
    NR_FEAT_SNIP = 16,
    NR_FEAT_GRAD_NORM = 32,
    NR_FEAT_GRASP = 64,
    NR_FEAT_FISHER = 128,
    NR_FEAT_JACOB_COV = 256,
    NR_FEAT_SCORES = NR_FEAT_NASWOT | NR_FEAT_SYNFLOW | NR_FEAT_SNIP | NR_FEAT_GRAD_NORM | NR_FEAT_GRASP |
                     NR_FEAT_FISHER | NR_FEAT_JACOB_COV,
    NR_FEAT_ALL = 511
};
#define NR_PREDICTOR_MAX_SCORE_FEATURES 7 /* the bits of NR_FEAT_SCORES */

/* S: the number of caller-supplied (score) features in mask. */
int nr_predictor_num_score_features(unsigned mask);
/* The k-th (0-based, bit order) score feature bit of mask; 0 when k >= S. */
unsigned nr_predictor_score_feature(unsigned mask, int k);
/* Name of one feature bit ("naswot", "synflow", ..., the `nasrank score` column), or NULL. */
const char *nr_predictor_feature_name(unsigned bit);
/* NR_OK when v is an acceptable value of score feature bit (see "Extra inputs"), else
 * NR_ERR_NUMERIC with the reason, e.g. "synflow score is -2 (>= 0 required)". */
nr_status nr_predictor_check_score(unsigned bit, double v, nr_error *err);

/* Progress of a training run, for a progress bar.  Called from the training threads, one
 * call at a time (serialised by the library), after every epoch of every member. */
typedef struct nr_predictor_progress {
    int member;          /* 0..ensemble-1 */
    int phase;           /* 0: early stopping on the held-out fold, 1: refit on all labels */
    int epoch;           /* 1-based epoch that just finished */
    double loss;         /* its mean training loss */
    double holdout_tau;  /* Kendall tau on the member's held-out fold (NaN without one) */
    long epochs_done;    /* over all members so far */
    long epochs_max;     /* ensemble * epochs: an upper bound (early stopping ends sooner) */
} nr_predictor_progress;

typedef void (*nr_predictor_progress_fn)(void *ctx, const nr_predictor_progress *p);

typedef struct nr_predictor_config {
    nr_predictor_kind kind;
    int embed_dim;        /* D: op embedding and GCN width */
    int layers;           /* L: GCN layers */
    int head_hidden;      /* H: hidden layer after pooling; 0 = none (linear head) */
    nr_adjacency adjacency;
    int prune;            /* 0, 1, 2: see "Pruning" above */
    unsigned features;    /* NR_FEAT_* mask */
    int epochs;           /* maximum epochs per member */
    int batch;            /* archs per minibatch (all ordered pairs inside it are used) */
    double lr;            /* Adam step size */
    double ema;           /* 0, or the decay of an exponential moving average of the weights
                             (updated after every step; the average is what is evaluated and kept) */
    double beta1, beta2;  /* Adam moment decays */
    double weight_decay;  /* decoupled, on weights (not biases): w -= lr * wd * w */
    double clip;          /* global gradient L2-norm clip; <= 0: none */
    int ensemble;         /* members */
    int folds;            /* early-stopping folds (0: none, else >= 2) */
    int patience;         /* epochs without held-out improvement before stopping */
    int refit;            /* 1: after early stopping, retrain every member on all labels for
                             the median best epoch (needs folds) */
    int min_epochs;       /* never stop before this epoch */
    uint64_t seed;        /* everything random derives from it */
    nr_predictor_progress_fn progress; /* may be NULL; not saved */
    void *progress_ctx;
} nr_predictor_config;

/* Documented defaults (chosen on held-out training labels, see README "Predictors"):
 *   embed_dim 32, layers 4, head_hidden 32, adjacency PLAIN, prune 2, features 0,
 *   epochs 400, batch 64, lr 4e-3, beta1 0.9, beta2 0.999, weight_decay 5e-4, clip 5,
 *   ensemble 5, folds 5, patience 40, refit 1, min_epochs 20, ema 0, seed 1, no progress
 *   callback.  nr_predictor_config_default is the single source of truth. */
nr_predictor_config nr_predictor_config_default(nr_predictor_kind kind);

/* Check a configuration; NR_ERR_INVALID naming the first bad field. */
nr_status nr_predictor_config_check(const nr_predictor_config *cfg, nr_error *err);

typedef struct nr_predictor nr_predictor; /* opaque */

/* Train on n labelled architectures (n >= 4; labels finite, higher = better).
 * scores: the n x S matrix of score features (row i = archs[i]; columns in bit order, see
 * "Extra inputs") when S = nr_predictor_num_score_features(cfg->features) > 0, else ignored
 * (may be NULL).  *out is new (nr_predictor_free).  Errors: NR_ERR_INVALID
 * (config, n, NULL pointers, bad arch), NR_ERR_NUMERIC (non-finite label, NaN score, a
 * diverged run), NR_ERR_NOMEM. */
nr_status nr_predictor_train(const nr_predictor_config *cfg, const nr_arch *archs,
                             const double *labels, const double *scores, size_t n,
                             nr_predictor **out, nr_error *err)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

/* out[i] for archs[i], higher = better (see the header comment).  scores: the n x S score
 * features as for training (needed iff the model has S > 0; else may be NULL).  Thread-safe
 * on a shared predictor; allocates a small workspace. */
nr_status nr_predictor_predict(const nr_predictor *p, const nr_arch *archs,
                               const double *scores, size_t n, double *out, nr_error *err);

/* Ensemble-mean probability that a beats b: comparator sigmoid(wa·f(a) + wb·f(b) + c),
 * relativistic sigmoid(o(a) - o(b)).  scores_a / scores_b: S score features each (ignored,
 * may be NULL, when S = 0). */
nr_status nr_predictor_compare(const nr_predictor *p, const nr_arch *a, const double *scores_a,
                               const nr_arch *b, const double *scores_b, double *prob,
                               nr_error *err);

/* Borrowed; valid until nr_predictor_free.  progress is NULL in a loaded model. */
const nr_predictor_config *nr_predictor_get_config(const nr_predictor *p);

/* What training did (after nr_predictor_train; a loaded model keeps n, holdout_tau,
 * epochs_run and best_epoch from its file; its seconds is NaN: the file holds no wall time, so
 * that the same inputs and seed give a byte-identical file). */
typedef struct nr_predictor_info {
    size_t n_train;       /* labelled archs given to training */
    double holdout_tau;   /* mean over members of the best held-out-fold Kendall tau
                             (NaN when folds = 0) */
    double seconds;       /* wall time of training */
    int epochs_run[64];   /* per member (first min(ensemble, 64)) */
    int best_epoch[64];   /* best held-out epoch (the weights kept when refit = 0) */
    int refit_epochs;     /* epochs of the refit phase (0: none) */
} nr_predictor_info;
void nr_predictor_get_info(const nr_predictor *p, nr_predictor_info *out);

/* Per-epoch training history of member m (from training; empty in a loaded model):
 * *loss and *tau point to count values (borrowed).  Returns count. */
size_t nr_predictor_history(const nr_predictor *p, int member, const double **loss,
                            const double **tau);

/* JSON model file (jansson), written atomically (nr_outfile):
 *   {"format": "nasrank-predictor", "version": 1, "kind": "comparator"|"relativistic",
 *    "config": {...hyper-parameters...},
 *    "features": {"names": [...], "mean": [...], "std": [...], "floors": [...],
 *                 "naswot_floor": x},
 *    "members": [{"score_mean": m, "score_std": s, "embedding": [7*D], "gcn": [{"W": [D*D],
 *                 "b": [D]} x L], "mlp": {"W": [(D+X)*H], "b": [H]} (when H > 0),
 *                 "head": {"w": [...], "c": c}}, ...],
 *    "training": {...summary...}}
 * Matrices are row-major flat arrays (W[i][o] at i*out + o).  Numbers are written with 17
 * significant digits, so a loaded model predicts bit for bit what the saved one did.
 * names, mean, std and floors are per input, in bit order; floors[k] is the floor of a score
 * feature (0 for params / flops).  naswot_floor repeats the naswot floor (0 without naswot)
 * for older readers; files without "floors" (written before the proxy features) are read
 * with the naswot floor from naswot_floor. */
nr_status nr_predictor_save(const nr_predictor *p, const char *path, nr_error *err);

/* Loading checks everything: JSON syntax (NR_ERR_PARSE with line/column), format name,
 * version (NR_ERR_INVALID "unsupported format version"), kind, hyper-parameter ranges,
 * feature names, every array's length (floors too) and that every number is finite (NR_ERR_INVALID,
 * naming the JSON path, e.g. "members[0].gcn[2].W: expected 1024 numbers, got 1000").
 * source names the data in errors.  *out is new. */
nr_status nr_predictor_load(const char *path, nr_predictor **out, nr_error *err)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;
nr_status nr_predictor_parse(const char *data, size_t size, const char *source,
                             nr_predictor **out, nr_error *err)
#if defined(__GNUC__)
    __attribute__((warn_unused_result))
#endif
    ;

void nr_predictor_free(nr_predictor *p); /* accepts NULL */

/* Names: "comparator" / "relativistic"; parse returns NR_ERR_INVALID for anything else. */
const char *nr_predictor_kind_name(nr_predictor_kind kind);
nr_status nr_predictor_kind_parse(const char *s, nr_predictor_kind *out, nr_error *err);
/* Comma-separated feature names -> mask: any subset of naswot, params, flops, synflow, snip,
 * grad_norm, grasp, fisher, jacob_cov ("" or "none" = 0; each at most once). */
nr_status nr_predictor_features_parse(const char *s, unsigned *mask, nr_error *err);

/* ---- Score features from a file ----
 * Read the score features of mask (its S = nr_predictor_num_score_features(mask) >= 1 columns,
 * named as the features) into out[id * S + k] by lexicographic arch id (NR_NUM_ARCHS rows;
 * NaN where the file has no value).  Accepted: a CSV with an `arch` / `arch_str` or `index`
 * column and one column per feature (as `nasrank score --proxy ...` writes; -inf allowed
 * where the feature allows it; an empty cell, a row that failed in `score --keep-going`, is
 * skipped; `index` needs the table t, else t may be NULL), or a `nasrank score` partial-
 * results file: v1 ("# nasrank score partial v1 ..." then "id,naswot,sign,units,seconds";
 * naswot only) or v2 ("# nasrank score partial v2 ... proxies=a,b,c ..." then "id,seconds"
 * and "value,seconds" per listed proxy); a torn last line is ignored.  A value the feature
 * refuses (nr_predictor_check_score: NaN, +inf, ...) or a repeated arch with a different value
 * is an error at FILE:LINE:COL; a requested column the file lacks is NR_ERR_INVALID naming
 * the file and the column.  *count = archs with all S values. */
nr_status nr_feature_scores_read(const char *path, const nr_table *t, unsigned mask,
                                 double *out, size_t *count, nr_error *err);
/* The same for the naswot column alone (naswot[id], NR_NUM_ARCHS entries). */
nr_status nr_naswot_scores_read(const char *path, const nr_table *t, double *naswot,
                                size_t *count, nr_error *err);

/* Compute NASWOT for n archs as `nasrank score` does by default: reference variant, the
 * macro net of ds (cifar10 / cifar10-valid: 10 classes and CIFAR-10 images; cifar100: 100
 * classes and CIFAR-100 images; others: NR_ERR_INVALID), weights and a batch of `batch`
 * images drawn with `seed` from the default image file.  Slow: ~0.2 s per distinct arch
 * (repeats are computed once).  progress (may be NULL) is called after every arch. */
nr_status nr_naswot_compute(const nr_arch *archs, size_t n, nr_dataset ds, uint64_t seed,
                            int batch, double *out,
                            void (*progress)(void *ctx, size_t done, size_t total), void *ctx,
                            nr_error *err);

#endif
