/* nasrank — zero-cost proxies: a registry, one scoring call per architecture, and rank
 * ensembles.
 *
 * Definitions follow the zero-cost proxies paper (Abdelfattah et al., ICLR 2021) as its code
 * computes them (SamsungLabs/zero-cost-nas, foresight/pruners/measures/: synflow.py, snip.py,
 * grad_norm.py, grasp.py, fisher.py, jacob_cov.py; NASLib's
 * naslib/predictors/utils/pruners/measures/ is a second copy).  "Layers" are the Conv2d and
 * Linear modules (get_layer_metric_array): the stem conv, every conv edge, the ResNet blocks'
 * conv_a, conv_b and shortcut 1x1 conv, and the classifier; only their weights count (no BN
 * parameters, no biases).  L is the mean cross-entropy of the logits against the images' real
 * labels on one batch (reference: 64 random training images, "dataload random"), BatchNorm in
 * train mode, the network as nasrank builds it (include/nasrank/net.h).  Sums in double.
 *
 *   naswot     log|det K| of the ReLU-code kernel (include/nasrank/score.h), its own batch.
 *   synflow    on a BN-free copy of the net (every BatchNorm the identity) with every
 *              parameter replaced by |p|, one all-ones image:  R = sum of the logits without
 *              the classifier bias (a constant term: no weight gradient changes);
 *              synflow = sum_layers sum |w * dR/dw|.  Computed in float with every stage
 *              input rescaled by a power of two (R' = 2^E R, all gradients scale alike), the
 *              sum taken in double and multiplied by 2^-E: finite for every NB201 arch (the
 *              largest, all conv3x3, is ~8e49), never inf.
 *   snip       sum_layers sum |w * dL/dw|      (= |dL/dmask| at mask = 1, as the reference).
 *   grad_norm  sum_layers ||dL/dW||_F          (a norm per layer, then summed).
 *   grasp      -sum_layers sum w * (H g),  g = dL/dw over the layer weights (fixed), H the
 *              Hessian of L with respect to the layer weights.  Computed as -g.(H w) (H is
 *              symmetric), H w a central difference of two gradients along the weights
 *              themselves, (dL/dw(w (1 + eps)) - dL/dw(w (1 - eps))) / (2 eps), eps = 3e-3,
 *              with every ReLU's on/off pattern frozen at w: the reference's autograd treats
 *              ReLU masks as constants, and the frozen-mask net is smooth, so the quotient
 *              converges to its H w.  Along w the quotient is well conditioned (along g it is
 *              not: src/score/proxy_grad.c); within 0.1% of PyTorch's double backward
 *              (tests/test_proxies.c).
 *   fisher     per layer with output a (B, K, H, W) and output gradient da = dL/da (hooked
 *              after the conv/linear, before BN):  F_k = 0.5 * mean_b (sum_hw a * da)^2;
 *              the reference broadcasts F_k over the weights of output channel k, so the sum
 *              is  fisher = sum_layers fan_in * sum_k F_k  (fan_in = Cin*k*k, or In).
 *   jacob_cov  J = d(sum of the logits)/d(images), one row per image (B, 3*S*S) — with
 *              train-mode BN the images interact, as in the reference;  C = corrcoef(J)
 *              (B x B, double);  jacob_cov = -sum_i (log(l_i + 1e-5) + 1/(l_i + 1e-5)) over
 *              the eigenvalues l_i of C (LAPACKE_dsyev, the symmetric solver, where the
 *              reference calls numpy's general eig; eigenvalues below 0 from rounding are
 *              clamped to 0).  -inf when some row of J is constant (e.g. the output does not
 *              depend on the input): the reference's corrcoef gives NaN there.
 *   params     trainable parameters (nr_arch_params), a count.
 *   flops      multiply-adds per image in millions (nr_arch_flops / 1e6).
 * Higher is better for every proxy as defined here (grasp carries the reference's sign).
 *
 * Differences from the reference, all documented: the reference's NB201 cells use conv bias +
 * non-affine BN where nasrank uses no bias + affine BN (identical forward in train mode at
 * init, identical weight gradients; the reference's conv bias only shifts 'fisher's
 * activations); its synflow copy keeps BN in the two ResNet blocks (NASLib's copy removes all
 * BN, as here); images are normalised with the NASWOT constants and not augmented; the
 * weights come from nasrank's seeded init (net.h), not torch's RNG.
 */
#ifndef NASRANK_PROXY_H
#define NASRANK_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"
#include "nasrank/score.h"

typedef enum nr_proxy_id {
    NR_PROXY_NASWOT = 0,
    NR_PROXY_SYNFLOW,
    NR_PROXY_SNIP,
    NR_PROXY_GRAD_NORM,
    NR_PROXY_GRASP,
    NR_PROXY_FISHER,
    NR_PROXY_JACOB_COV,
    NR_PROXY_PARAMS,
    NR_PROXY_FLOPS,
    NR_NUM_PROXIES
} nr_proxy_id;

#define NR_PROXY_BIT(id) (1u << (id))
#define NR_PROXY_ALL ((1u << NR_NUM_PROXIES) - 1u)

/* One architecture being scored (opaque): the network, its passes, shared between proxies
 * (a forward and backward computed for one proxy is reused by the others). */
typedef struct nr_proxy_run nr_proxy_run;
typedef nr_status (*nr_proxy_fn)(nr_proxy_run *run, double *value, nr_error *err);

typedef struct nr_proxy_info {
    const char *name;        /* CSV column name */
    const char *description; /* one line */
    nr_proxy_fn fn;
    int uses_images;         /* needs the image batch */
} nr_proxy_info;

/* Registry entry id (0..NR_NUM_PROXIES-1), or NULL; static storage. */
const nr_proxy_info *nr_proxy_info_get(int id);
/* Id of a proxy name, or -1. */
int nr_proxy_find(const char *name);

/* Parses a --proxy list: comma-separated proxy names, "all" (every proxy) and "ensemble"
 * (the mean-rank ensemble column; its members are *ensemble_mask, whose default is
 * nr_proxy_default_ensemble(), and they are added to *mask).  Empty items, unknown names
 * and duplicates are errors (NR_ERR_INVALID, naming the item).  ensemble_mask / want_ensemble
 * may be NULL when the caller allows no ensemble (then "ensemble" is an error). */
nr_status nr_proxy_parse_list(const char *list, unsigned *mask, int *want_ensemble,
                              unsigned *ensemble_mask, nr_error *err);
/* The default ensemble members: synflow, jacob_cov, params.  Chosen as the best of all 511
 * subsets of the proxies on a development set (NASLib's first 150 archs per dataset, scored
 * by nasrank), then judged on the held-out 1,000-arch sample (bench_proxy_fidelity): it beat
 * the earlier default (naswot, synflow, snip, jacob_cov) on CIFAR-10 and CIFAR-100 alike,
 * and it is cheaper (no NASWOT batch, no parameter gradients). */
unsigned nr_proxy_default_ensemble(void);

/* The data every image-based proxy sees (borrowed for the scorer's lifetime). */
typedef struct nr_proxy_data {
    const float *images;        /* (B, 3, S, S) normalised: snip, grad_norm, grasp, fisher, jacob_cov */
    const int *labels;          /* (B) class labels in 0..classes-1 */
    int B;                      /* reference: 64 */
    const float *naswot_images; /* (naswot_B, 3, S, S) for naswot (may equal images) */
    int naswot_B;               /* default 128 */
    nr_naswot_variant naswot_variant;
} nr_proxy_data;

typedef struct nr_proxy_scores {
    double value[NR_NUM_PROXIES];   /* NAN for proxies not asked for */
    /* Wall time charged to each proxy: its own work, plus an equal share of every pass it
     * shares with other requested proxies (the forward and cross-entropy backward of snip,
     * grad_norm, grasp and fisher; the forward also with jacob_cov), so the values add up to
     * total_seconds (minus building the network, charged to 'total' only).  0 for proxies
     * not asked for. */
    double seconds[NR_NUM_PROXIES];
    double total_seconds;
} nr_proxy_scores;

/* Keeps tapes and buffers between architectures. */
typedef struct nr_proxy_scorer nr_proxy_scorer;

/* cfg NULL: nr_macro_default().  seed: the networks' weights (net.h).  data may be NULL when
 * only data-free proxies (synflow, params, flops) will be asked for.  *out is new (free with
 * nr_proxy_scorer_free).  NR_ERR_INVALID for a bad batch size or labels out of range. */
nr_status nr_proxy_scorer_create(const nr_macro_config *cfg, uint64_t seed,
                                 const nr_proxy_data *data, nr_proxy_scorer **out,
                                 nr_error *err);
void nr_proxy_scorer_free(nr_proxy_scorer *s);

/* Every proxy in mask (NR_PROXY_BIT ids) for one architecture.  Scores depend only on
 * (arch, cfg, seed, data), not on the mask, the call order or the thread count.
 * NR_ERR_INVALID when an image-based proxy is asked for without data. */
nr_status nr_proxy_score(nr_proxy_scorer *s, const nr_arch *arch, unsigned mask,
                         nr_proxy_scores *out, nr_error *err);

/* ---- ensembles ----
 * Mean-rank (Borda) aggregation of m score columns over n items, x (n, m) row-major with
 * row stride ld >= m:  out[i] = (1/m) sum_c (rank_c(i) - 1) / (n - 1), rank_c = the average
 * (tie-aware) rank of x[i][c] in column c, 1 = the lowest.  Higher is better, in [0, 1];
 * NaN and -inf are the lowest values (tied with each other).  One column ranks like that
 * column.  n == 1 gives 0.5.  Training-free: no fitted weights. */
nr_status nr_rank_ensemble(const double *x, size_t n, size_t m, size_t ld, double *out,
                           nr_error *err);

#endif
