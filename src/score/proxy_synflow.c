/* nasrank — synflow (Tanaka et al. 2020, as zero-cost-nas computes it; formula in
 * include/nasrank/proxy.h).
 *
 * The |θ| BN-free network on an all-ones image has only non-negative activations, so its
 * ReLUs pass everything and R is a sum of products of |weights| along paths: it grows like
 * the product of the layers' gains (up to ~1e50 in NAS-Bench-201) and overflows float.  The
 * executor's rescale mode multiplies the output of every cut layer by 2^e (e = -exponent of
 * its max) and carries the factors through backward, so it computes R' = 2^E R and dR'/dθ =
 * 2^E dR/dθ entirely in range; the sum over weights is taken in double and multiplied by
 * 2^-E.
 */
#include <math.h>
#include <string.h>

#include "score/proxy_internal.h"

nr_status nr_proxy_synflow(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_proxy_scorer *s = run->s;
    nr_graph *g = run->g;
    nr_exec *syn = NULL;
    /* the classifier bias is a constant term of R: it changes no weight gradient, and
     * leaving it out keeps R homogeneous for the rescaling */
    nr_exec_options opt = {.pool = s->pool, .backward = 1, .no_bn = 1, .no_linear_bias = 1, .rescale = 1};
    nr_status st = nr_exec_create(g, 1, &opt, &syn, err);
    if (st) return st;
    size_t np = nr_graph_num_params(g);
    float *params = nr_graph_params(g);
    memcpy(s->backup, params, np * sizeof(float));
    for (size_t i = 0; i < np; i++) params[i] = fabsf(params[i]);
    st = nr_exec_forward(syn, s->ones, 1, NULL, NULL, NULL, err);
    if (!st) {
        memset(s->grad, 0, np * sizeof(float));
        st = nr_exec_backward(syn, s->ones, s->grad, NULL, NULL, NULL, err); /* dR/dlogits = 1 */
    }
    double sum = 0.0;
    if (!st)
        for (size_t t = 0; t < nr_graph_num_tensors(g); t++) {
            if (!nr_proxy_is_layer_weight(g, t)) continue;
            const nr_param_tensor *pt = nr_graph_tensor(g, t);
            const float *w = params + pt->offset;
            for (size_t i = 0; i < pt->numel; i++) sum += fabs((double)w[i] * s->grad[pt->offset + i]);
        }
    memcpy(params, s->backup, np * sizeof(float));
    double E = nr_exec_log2_scale(syn);
    nr_exec_free(syn);
    if (st) return st;
    /* the CE gradient, if computed before, lived in s->grad: it is gone now */
    run->ce_done = 0;
    *value = sum > 0.0 ? ldexp(sum, (int)-E) : 0.0;
    return NR_OK;
}
