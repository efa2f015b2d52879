/* Adam with decoupled weight decay (Loshchilov & Hutter's AdamW) and global-norm clipping. */
#include <math.h>

#include "predictor/pred.h"

double pa_clip(double *g, size_t n, double clip)
{
    double ss = 0;
    for (size_t i = 0; i < n; i++) ss += g[i] * g[i];
    double norm = sqrt(ss);
    if (clip > 0 && norm > clip) {
        double s = clip / norm;
        for (size_t i = 0; i < n; i++) g[i] *= s;
    }
    return norm;
}

/* m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  mhat = m / (1-b1^t);  vhat = v / (1-b2^t);
 * theta -= lr * (mhat / (sqrt(vhat) + eps) + wd * mask * theta) */
void pa_step(pa_adam *a, double *theta, const double *g, const unsigned char *decay_mask, size_t n)
{
    a->t++;
    double c1 = 1.0 - pow(a->beta1, (double)a->t), c2 = 1.0 - pow(a->beta2, (double)a->t);
    for (size_t i = 0; i < n; i++) {
        a->m[i] = a->beta1 * a->m[i] + (1.0 - a->beta1) * g[i];
        a->v[i] = a->beta2 * a->v[i] + (1.0 - a->beta2) * g[i] * g[i];
        double mh = a->m[i] / c1, vh = a->v[i] / c2;
        double upd = mh / (sqrt(vh) + a->eps);
        if (decay_mask[i]) upd += a->weight_decay * theta[i];
        theta[i] -= a->lr * upd;
    }
}
