/* Comparator (CTNAS NAC) loss: P(a beats b) = sigmoid(wa·f(a) + wb·f(b) + c) on every ordered
 * pair of the batch, binary cross-entropy with target 1[y_a > y_b] (1/2 on a tie).
 * Leaves dL/dz in w->dz for pk_pair_head_backward. */
#include "predictor/pred.h"

double pm_comparator_loss(const pm_dims *d, const pm_layout *lay, const double *theta,
                          const pm_batch *b, pm_work *w, int want_grad)
{
    const double *f = d->H > 0 ? w->a1 : w->g; /* (N, F) trunk output */
    pk_pair_head_forward(w->z, f, theta + lay->w, theta[lay->c], b->N, lay->F);
    return pk_pair_bce(want_grad ? w->dz : NULL, w->z, b->y, b->N);
}
