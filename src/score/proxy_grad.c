/* nasrank — the data-based zero-cost proxies (formulas in include/nasrank/proxy.h) and the
 * two counts.  snip, grad_norm, grasp and fisher share one forward and one cross-entropy
 * backward (nr_proxy_need_grad); jacob_cov reuses that forward with d(logits) = 1. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/spaces.h"
#include "ops/ops_backward.h"
#include "score/proxy_internal.h"

nr_status nr_proxy_naswot(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_proxy_scorer *s = run->s;
    nr_naswot_reset(s->nw);
    nr_exec *ex = NULL;
    nr_exec_options opt = {.pool = s->pool, .observe_relu_inputs = 1};
    nr_status st = nr_naswot_bind(s->nw, run->g, nr_space_nb201(), err);
    if (!st) st = nr_exec_create(run->g, s->data.naswot_B, &opt, &ex, err);
    if (!st) st = nr_exec_forward(ex, s->data.naswot_images, s->data.naswot_B, NULL, nr_naswot_graph_sink, s->nw, err);
    nr_exec_free(ex);
    nr_naswot_result res;
    if (!st) st = nr_naswot_finish(s->nw, &res, err);
    if (!st) *value = res.score;
    return st;
}

nr_status nr_proxy_params(nr_proxy_run *run, double *value, nr_error *err)
{
    (void)err;
    *value = (double)nr_arch_params(run->arch, &run->s->cfg);
    return NR_OK;
}

nr_status nr_proxy_flops(nr_proxy_run *run, double *value, nr_error *err)
{
    (void)err;
    *value = nr_arch_flops(run->arch, &run->s->cfg) / 1e6;
    return NR_OK;
}

nr_status nr_proxy_snip(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_status st = nr_proxy_need_grad(run, err);
    if (st) return st;
    const float *g = run->s->grad;
    double sum = 0.0;
    for (size_t t = 0; t < nr_graph_num_tensors(run->g); t++) {
        if (!nr_proxy_is_layer_weight(run->g, t)) continue;
        const nr_param_tensor *pt = nr_graph_tensor(run->g, t);
        size_t n = pt->numel, off = pt->offset;
        const float *w = nr_graph_params(run->g) + off;
        for (size_t i = 0; i < n; i++) sum += fabs((double)w[i] * g[off + i]);
    }
    *value = sum;
    return NR_OK;
}

nr_status nr_proxy_grad_norm(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_status st = nr_proxy_need_grad(run, err);
    if (st) return st;
    const float *g = run->s->grad;
    double sum = 0.0;
    for (size_t t = 0; t < nr_graph_num_tensors(run->g); t++) {
        if (!nr_proxy_is_layer_weight(run->g, t)) continue;
        const nr_param_tensor *pt = nr_graph_tensor(run->g, t);
        size_t n = pt->numel, off = pt->offset;
        double sq = 0.0;
        for (size_t i = 0; i < n; i++) sq += (double)g[off + i] * g[off + i];
        sum += sqrt(sq);
    }
    *value = sum;
    return NR_OK;
}

nr_status nr_proxy_fisher(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_status st = nr_proxy_need_grad(run, err);
    if (!st) *value = run->fisher;
    return st;
}

/* One cross-entropy gradient at the current weights with the ReLU masks frozen. */
static nr_status frozen_grad(nr_proxy_run *run, float *grad, nr_error *err)
{
    nr_proxy_scorer *s = run->s;
    int B = s->data.B, K = s->cfg.num_classes;
    nr_exec_set_relu_mode(run->tape, 2);
    nr_status st = nr_exec_forward(run->tape, s->data.images, B, s->logits, NULL, NULL, err);
    if (st) return st;
    memset(s->dlogits, 0, (size_t)B * K * sizeof(float));
    nr_cross_entropy(s->dlogits, s->logits, s->data.labels, B, K);
    memset(grad, 0, nr_graph_num_params(run->g) * sizeof(float));
    return nr_exec_backward(run->tape, s->dlogits, grad, NULL, NULL, NULL, err);
}

/* w <- backup * (1 + step) on the layer weights only. */
static void scale_weights(nr_proxy_run *run, double step)
{
    const float *b = run->s->backup;
    for (size_t t = 0; t < nr_graph_num_tensors(run->g); t++) {
        if (!nr_proxy_is_layer_weight(run->g, t)) continue;
        const nr_param_tensor *pt = nr_graph_tensor(run->g, t);
        size_t n = pt->numel, off = pt->offset;
        float *w = nr_graph_params(run->g) + off;
        for (size_t i = 0; i < n; i++) w[i] = (float)(b[off + i] * (1.0 + step));
    }
}

/* grasp = -w.(H g) = -g.(H w) (H is symmetric), with H w, the derivative of the gradient
 * along the weights themselves, as a central difference
 *   H w ~ (g(w (1 + eps)) - g(w (1 - eps))) / (2 eps),   eps = GRASP_STEP,
 * every ReLU's on/off pattern frozen at w (the reference's autograd treats the masks as
 * constants; the frozen-mask net is smooth, so the quotient converges to its H w).
 * Why along w and not along g, as the reference's double backward reads: measured on the
 * fixture archs (C=16, N=5, 8 images), the loss is sharply curved along g (its second
 * derivative there is ~200x g.g) and -w.Hg sums terms that cancel 300x to 15000x, so a
 * quotient along g converges only for steps ~1e-5 of ||w|| and stays at float32's mercy;
 * along w (a scaling, to which the BN-normalised layers are invariant) it is smooth and
 * the terms cancel ~30x: steps of 1e-3 to 1e-2 converge, and at 3e-3 the result is within
 * 0.1% of PyTorch's double-backward value there (0.006% on the committed C=8, N=2 fixture). */
#define GRASP_STEP 3e-3

nr_status nr_proxy_grasp(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_status st = nr_proxy_need_grad(run, err);
    if (st) return st;
    nr_proxy_scorer *s = run->s;
    nr_graph *net = run->g;
    size_t np = nr_graph_num_params(net);
    float *params = nr_graph_params(net);
    memcpy(s->backup, params, np * sizeof(float));
    run->forward_valid = 0; /* the tape is about to hold other weights' forward */
    scale_weights(run, GRASP_STEP);
    st = frozen_grad(run, s->grad_p, err);
    if (!st) {
        scale_weights(run, -GRASP_STEP);
        st = frozen_grad(run, s->grad_m, err);
    }
    memcpy(params, s->backup, np * sizeof(float));
    nr_exec_set_relu_mode(run->tape, 1);
    if (st) return st;
    double sum = 0.0;
    for (size_t t = 0; t < nr_graph_num_tensors(net); t++) {
        if (!nr_proxy_is_layer_weight(net, t)) continue;
        const nr_param_tensor *pt = nr_graph_tensor(net, t);
        size_t n = pt->numel, off = pt->offset;
        for (size_t i = 0; i < n; i++)
            sum += (double)s->grad[off + i] * ((double)s->grad_p[off + i] - s->grad_m[off + i]);
    }
    *value = -sum / (2.0 * GRASP_STEP);
    return NR_OK;
}

nr_status nr_proxy_jacob_cov(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_status st = nr_proxy_need_forward(run, err);
    if (st) return st;
    nr_proxy_scorer *s = run->s;
    int B = s->data.B;
    size_t D = (size_t)s->cfg.in_channels * s->cfg.image_size * s->cfg.image_size;
    /* J = d(sum of logits)/d(images): backward of d(logits) = 1, no parameter gradients */
    memset(s->jac, 0, (size_t)B * D * sizeof(float));
    const float *ones = s->ones;
    float *dl = NULL;
    if ((size_t)s->cfg.num_classes * B > D) { /* s->ones holds max(D, classes) */
        dl = malloc((size_t)s->cfg.num_classes * B * sizeof(float));
        if (!dl) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        for (size_t i = 0; i < (size_t)s->cfg.num_classes * B; i++) dl[i] = 1.0f;
        ones = dl;
    }
    st = nr_exec_backward(run->tape, ones, NULL, s->jac, NULL, NULL, err);
    free(dl);
    if (st) return st;
    /* corrcoef of the rows, in double */
    double *c = malloc((size_t)B * B * sizeof *c), *mu = malloc((size_t)B * sizeof *mu);
    double *nrm = malloc((size_t)B * sizeof *nrm), *lam = malloc((size_t)B * sizeof *lam);
    if (!c || !mu || !nrm || !lam) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for a %dx%d correlation matrix", B, B);
        goto done;
    }
    int constant = 0;
    for (int i = 0; i < B; i++) {
        const float *r = s->jac + (size_t)i * D;
        double m = 0.0, q = 0.0;
        for (size_t d = 0; d < D; d++) m += r[d];
        m /= (double)D;
        for (size_t d = 0; d < D; d++) q += ((double)r[d] - m) * ((double)r[d] - m);
        mu[i] = m;
        nrm[i] = sqrt(q);
        if (!(nrm[i] > 0.0) || !isfinite(nrm[i])) constant = 1;
    }
    if (constant) {
        *value = -INFINITY;
        goto done;
    }
    for (int i = 0; i < B; i++) {
        const float *ri = s->jac + (size_t)i * D;
        c[(size_t)i * B + i] = 1.0;
        for (int j = i + 1; j < B; j++) {
            const float *rj = s->jac + (size_t)j * D;
            double q = 0.0;
            for (size_t d = 0; d < D; d++) q += ((double)ri[d] - mu[i]) * ((double)rj[d] - mu[j]);
            double v = q / (nrm[i] * nrm[j]);
            v = v > 1.0 ? 1.0 : v < -1.0 ? -1.0 : v; /* as numpy.corrcoef clips */
            c[(size_t)i * B + j] = c[(size_t)j * B + i] = v;
        }
    }
    lapack_int info = LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', B, c, B, lam);
    if (info != 0) {
        st = nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "jacob_cov: eigenvalues did not converge (dsyev info %d)",
                          (int)info);
        goto done;
    }
    double sum = 0.0;
    for (int i = 0; i < B; i++) {
        double l = (lam[i] > 0.0 ? lam[i] : 0.0) + 1e-5;
        sum += log(l) + 1.0 / l;
    }
    *value = -sum;
done:
    free(c), free(mu), free(nrm), free(lam);
    return st;
}
