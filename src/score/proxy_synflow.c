/* nasrank — synflow (Tanaka et al. 2020, as zero-cost-nas computes it; formula in
 * include/nasrank/proxy.h).
 *
 * The |θ| BN-free network on an all-ones image has only non-negative activations, so its
 * ReLUs pass everything and R is a sum of products of |weights| along paths: it grows like
 * the product of the layers' gains (up to ~1e50 in NAS-Bench-201) and overflows float.  The
 * tape's rescale mode multiplies every stage input by 2^e (e = -exponent of its max) and
 * carries the factor through backward, so it computes R' = 2^E R and dR'/dθ = 2^E dR/dθ
 * entirely in range; the sum over weights is taken in double and multiplied by 2^-E.
 */
#include <math.h>
#include <string.h>

#include "net/net_train.h"
#include "score/proxy_internal.h"

nr_status nr_proxy_synflow(nr_proxy_run *run, double *value, nr_error *err)
{
    nr_proxy_scorer *s = run->s;
    nr_net *net = run->net;
    nr_status st;
    if (!s->syn) {
        nr_tape_mode mode = {1, 1, 1, 0};
        st = nr_tape_create_mode(net, 1, &mode, &s->syn, err);
    } else {
        st = nr_tape_rebind(s->syn, net, err);
    }
    if (st) return st;
    size_t np = nr_net_num_params(net);
    float *params = nr_net_tensor(net, 0, NULL);
    memcpy(s->backup, params, np * sizeof(float));
    for (size_t i = 0; i < np; i++) params[i] = fabsf(params[i]);
    float logits[1024], *lg = (size_t)s->cfg.num_classes <= sizeof logits / sizeof *logits ? logits : NULL;
    st = nr_tape_forward(s->syn, s->ones, 1, lg, err);
    if (!st) {
        memset(s->grad, 0, np * sizeof(float));
        st = nr_tape_backward(s->syn, s->ones, s->grad, NULL, err); /* dR/dlogits = 1 */
    }
    double sum = 0.0;
    if (!st)
        for (size_t t = 0; t < nr_net_num_tensors(net); t++) {
            if (!nr_proxy_is_layer_weight(net, t)) continue;
            size_t n, off = nr_net_tensor_offset(net, t);
            const float *w = nr_net_tensor(net, t, &n);
            for (size_t i = 0; i < n; i++) sum += fabs((double)w[i] * s->grad[off + i]);
        }
    memcpy(params, s->backup, np * sizeof(float));
    if (st) return st;
    /* the CE gradient, if computed before, lived in s->grad: it is gone now */
    run->ce_done = 0;
    *value = sum > 0.0 ? ldexp(sum, (int)-nr_tape_log2_scale(s->syn)) : 0.0;
    return NR_OK;
}
