/* nasrank predictor internals: graph encoding, layer kernels, the model (flat parameter
 * vector), Adam.  Everything double.  Kernels are plain free functions, outputs first, sizes
 * last, a shape comment on every pointer; forward saves what backward needs; backward ADDS
 * into gradient buffers (callers zero them). */
#ifndef NASRANK_PRED_H
#define NASRANK_PRED_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/predictor.h"

#define PG_NODES 8  /* input, 6 edge-op nodes, output */
#define PG_TYPES 7  /* node types: 0 input, 1 output, 2 + op (none, skip, 1x1, 3x3, pool) */
#define PG_TYPE_INPUT 0
#define PG_TYPE_OUTPUT 1
#define PG_MAX_EXTRA 9 /* one per NR_FEAT_* bit */

/* ---- graph.c ---- */
/* Node types and Â (row v = node v's inputs: Â[v][u] != 0 when u feeds v, plus the diagonal)
 * of one cell. */
void pg_build(const nr_arch *a, nr_adjacency adj, int cut_none, double *ahat /* (8,8) */,
              unsigned char *types /* (8) */);
/* Isomorphism class of every lexicographic arch id: cls[id] in 0..nclasses-1, numbered in
 * order of the smallest id of each class.  Returns the number of classes (6466), or -1 when
 * out of memory. */
int pg_iso_classes(int *cls /* (NR_NUM_ARCHS) */);

/* ---- gcn.c: layer kernels ---- */
/* out[n][:] = E[types[n]][:] */
void pk_embed_forward(double *out /* (N, D) */, const unsigned char *types /* (N) */,
                      const double *E /* (T, D) */, int N, int D);
/* dE[types[n]][:] += dout[n][:] */
void pk_embed_backward(double *dE /* (T, D) */, const double *dout /* (N, D) */,
                       const unsigned char *types /* (N) */, int N, int D);

/* One GCN layer on G graphs of 8 nodes:
 *   agg[g] = Â[g] h[g]                 (8, D)
 *   out[g] = ReLU(agg[g] W + h[g] + b)  (8, D) */
void pk_gcn_forward(double *out /* (G, 8, D) */, double *agg /* (G, 8, D), saved */,
                    const double *h /* (G, 8, D) */, const double *ahat /* (G, 8, 8) */,
                    const double *W /* (D, D) */, const double *b /* (D) */, int G, int D);
/* Given dout: dpre = dout * [out > 0];  dW += agg^T dpre;  db += sum_rows dpre;
 *   dh += Â^T (dpre W^T) + dpre.  ws: (G, 8, D) scratch for dpre W^T.
 * dout may alias nothing else; dh may be NULL (first layer's input is the embedding, whose
 * gradient is wanted, so callers usually pass it). dout is overwritten with dpre. */
void pk_gcn_backward(double *dh /* (G, 8, D) or NULL */, double *dW /* (D, D) */,
                     double *db /* (D) */, double *ws /* (G, 8, D) */,
                     double *dout /* (G, 8, D), in: dL/dout, out: dL/dpre */,
                     const double *out /* (G, 8, D) */, const double *agg /* (G, 8, D) */,
                     const double *ahat /* (G, 8, 8) */, const double *W /* (D, D) */, int G,
                     int D);

/* out[g][:] = mean over the 8 nodes of h[g] (written into a row of width ld >= D). */
void pk_meanpool_forward(double *out /* (G, ld) */, const double *h /* (G, 8, D) */, int G, int D,
                         int ld);
/* dh[g][v][:] += dout[g][:] / 8 */
void pk_meanpool_backward(double *dh /* (G, 8, D) */, const double *dout /* (G, ld) */, int G,
                          int D, int ld);

/* out = in W + b   (b may be NULL) */
void pk_linear_forward(double *out /* (N, O) */, const double *in /* (N, I) */,
                       const double *W /* (I, O) */, const double *b /* (O) */, int N, int I,
                       int O);
/* dW += in^T dout;  db += sum_rows dout (db may be NULL);  din += dout W^T (din may be NULL) */
void pk_linear_backward(double *din /* (N, I) */, double *dW /* (I, O) */, double *db /* (O) */,
                        const double *dout /* (N, O) */, const double *in /* (N, I) */,
                        const double *W /* (I, O) */, int N, int I, int O);

/* In place: x = max(x, 0);  backward: d *= [out > 0]. */
void pk_relu_forward(double *x /* (n) */, long n);
void pk_relu_backward(double *d /* (n) */, const double *out /* (n) */, long n);

/* Comparator head on all ordered pairs:  z[i][j] = wa·f[i] + wb·f[j] + c  (w = [wa, wb]).
 * The diagonal is written too (callers ignore it). */
void pk_pair_head_forward(double *z /* (N, N) */, const double *f /* (N, F) */,
                          const double *w /* (2F) */, double c, int N, int F);
/* df += ..., dw += ..., *dc += ... from dz (the diagonal of dz must be 0). */
void pk_pair_head_backward(double *df /* (N, F) */, double *dw /* (2F) */, double *dc,
                           const double *dz /* (N, N) */, const double *f /* (N, F) */,
                           const double *w /* (2F) */, int N, int F);

/* Binary cross-entropy with logits over the off-diagonal entries of an N x N matrix, target
 * t[i][j] = 1[y_i > y_j] (1/2 on ties):  L = mean_{i != j} softplus(z) - t z.
 * dz (may be NULL) receives dL/dz (diagonal 0).  Returns L.  N >= 2. */
double pk_pair_bce(double *dz /* (N, N) */, const double *z /* (N, N) */,
                   const double *y /* (N) */, int N);

/* ReNAS loss: L = mean_{i != j} log(1 + exp(-(o_i - o_j) sign(y_i - y_j))).
 * do_ (may be NULL) receives dL/do.  Returns L.  N >= 2. */
double pk_relativistic_loss(double *do_ /* (N) */, const double *o /* (N) */,
                            const double *y /* (N) */, int N);

double pk_softplus(double x); /* log(1 + e^x), stable */
double pk_sigmoid(double x);

/* ---- model.c: parameters of one member as one flat vector ---- */
typedef struct pm_dims {
    nr_predictor_kind kind;
    int D, L, H, X; /* width, layers, head hidden (0 = none), extra inputs */
} pm_dims;

typedef struct pm_layout {
    size_t E;        /* (PG_TYPES, D) */
    size_t W[16];    /* (D, D) per layer */
    size_t b[16];    /* (D) per layer */
    size_t V, c1;    /* (D + X, H), (H): the hidden layer when H > 0 */
    size_t w, c;     /* head: comparator (2F) and 1; relativistic (F), c unused */
    size_t total;
    int G;           /* D + X: pooled width */
    int F;           /* trunk output width: H when H > 0, else G */
} pm_layout;

void pm_layout_make(const pm_dims *d, pm_layout *lay);
/* 1 for weights that get weight decay (E, W, V, head w), 0 for biases; (total). */
void pm_decay_mask(const pm_dims *d, const pm_layout *lay, unsigned char *mask);
/* PyTorch-like init from nr_rng_stream(seed, "member.<m>"): E ~ N(0, 1), W / V / head
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), biases 0. */
void pm_init(const pm_dims *d, const pm_layout *lay, uint64_t seed, int member, double *theta);

/* A batch of encoded archs. */
typedef struct pm_batch {
    int N;
    const double *ahat;          /* (N, 8, 8) */
    const unsigned char *types;  /* (N, 8) */
    const double *x;             /* (N, X) standardised extras, NULL when X = 0 */
    const double *y;             /* (N) labels (for the loss) */
} pm_batch;

/* Activations for up to Nmax archs, one allocation. */
typedef struct pm_work {
    int Nmax;
    double *h;     /* (L + 1, N, 8, D) node states, h[0] = embedding */
    double *agg;   /* (L, N, 8, D) */
    double *g;     /* (N, G) pooled + extras */
    double *a1;    /* (N, H) hidden layer (H > 0) */
    double *s;     /* (N) score: wa·f or v·f */
    double *sb;    /* (N) comparator wb·f */
    double *z;     /* (N, N) pair logits */
    double *dh, *dh2, *ws; /* (N, 8, D) gradient scratch */
    double *dg;    /* (N, G) */
    double *da1;   /* (N, H) */
    double *ds;    /* (N) */
    double *dz;    /* (N, N) */
    double *mem;
} pm_work;

int pm_work_init(pm_work *w, const pm_dims *d, int Nmax); /* 0, or -1 out of memory */
void pm_work_free(pm_work *w);

/* Forward of the trunk and the scalar score s (N) into w->s (and w->sb for a comparator). */
void pm_forward(const pm_dims *d, const pm_layout *lay, const double *theta, const pm_batch *b,
                pm_work *w);
/* Loss of the batch (after pm_forward); with grad != NULL also ADDS dL/dtheta to grad. */
double pm_loss_backward(const pm_dims *d, const pm_layout *lay, const double *theta,
                        const pm_batch *b, pm_work *w, double *grad /* (total) or NULL */);
/* comparator.c / relativistic.c: the kind-specific head loss on the scores in w, writing
 * dL/ds (and for the comparator dL/dsb, kept in w->dz's role) — used by pm_loss_backward. */
double pm_comparator_loss(const pm_dims *d, const pm_layout *lay, const double *theta,
                          const pm_batch *b, pm_work *w, int want_grad);
double pm_relativistic_loss(const pm_batch *b, pm_work *w, int want_grad);

/* ---- adam.c ---- */
typedef struct pa_adam {
    double lr, beta1, beta2, eps, weight_decay;
    long t;
    double *m, *v; /* (n) */
} pa_adam;
/* Global L2 norm of g; when > clip > 0, scales g to norm clip.  Returns the norm before. */
double pa_clip(double *g /* (n) */, size_t n, double clip);
/* One AdamW step: m, v updated; theta -= lr * (mhat / (sqrt(vhat) + eps) + wd * mask * theta). */
void pa_step(pa_adam *a, double *theta /* (n) */, const double *g /* (n) */,
             const unsigned char *decay_mask /* (n) */, size_t n);

/* ---- the predictor object (predictor.c, train.c, model_io.c) ---- */
struct nr_predictor {
    nr_predictor_config cfg;   /* progress callback cleared */
    pm_dims dims;
    pm_layout lay;
    int nfeat;                 /* X */
    unsigned feat_bit[PG_MAX_EXTRA]; /* NR_FEAT_* of each extra input, in bit order */
    int feat_col[PG_MAX_EXTRA];      /* its column in the caller's score matrix, -1 computed */
    int nscore;                      /* S: caller-supplied score columns */
    double feat_mean[PG_MAX_EXTRA], feat_std[PG_MAX_EXTRA];
    double feat_floor[PG_MAX_EXTRA]; /* value a transformed -inf takes before standardising
                                        (score features; 0 for params / flops) */
    int members;
    double *theta;             /* (members, lay.total) */
    double *score_mean, *score_std; /* (members) */
    nr_predictor_info info;
    int hist_cap;              /* epochs per member in the history arrays */
    int *hist_n;               /* (members) */
    double *hist_loss, *hist_tau; /* (members, hist_cap) */
};

/* predictor.c */
/* New predictor with zeroed weights for cfg; hist_cap epochs of history per member (0 for a
 * loaded model).  NULL: out of memory. */
nr_predictor *pp_alloc(const nr_predictor_config *cfg, int hist_cap);
const char *pp_feature_name(unsigned bit); /* "naswot", "params", "flops", "synflow", ... */
void pp_set_features(nr_predictor *p); /* nfeat, feat_bit, feat_col, nscore from cfg.features */
#define PP_SCORE_MAX 1e100 /* largest |transformed score| accepted */

/* The transform of score feature bit applied to v (predictor.h, "Extra inputs"): 0 with *out
 * the transformed value (-inf: the floor applies), or -1 when v is refused, with *why set to
 * a message fragment such as "synflow score is NaN (>= 0 required)" (in buf, n bytes). */
int pp_score_transform(unsigned bit, double v, double *out, char *buf, size_t n);
/* Standardised extra inputs of one arch into x (X); srow: its S score features (NULL when
 * S = 0).  Errors name `row`. */
nr_status pp_features(const nr_predictor *p, const nr_arch *a, const double *srow, double *x,
                      size_t row, nr_error *err);
/* Raw (transformed, unstandardised) value of input k; -inf -> the floor.  srow values must
 * have passed pp_score_transform. */
double pp_feature_raw(const nr_predictor *p, int k, const nr_arch *a, const double *srow);

#endif
