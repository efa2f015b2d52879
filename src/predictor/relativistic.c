/* Relativistic (ReNAS) loss on the scalar scores o = f v of the batch:
 * mean over i != j of log(1 + exp(-(o_i - o_j) sign(y_i - y_j))).  Leaves dL/do in w->ds. */
#include "predictor/pred.h"

double pm_relativistic_loss(const pm_batch *b, pm_work *w, int want_grad)
{
    return pk_relativistic_loss(want_grad ? w->ds : NULL, w->s, b->y, b->N);
}
