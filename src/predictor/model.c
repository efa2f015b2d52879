/* One predictor member: parameter layout in a flat vector, initialisation, and the forward /
 * backward pass of a batch.
 *
 *   h0 = E[types]                          (N, 8, D)
 *   h_l = ReLU(Â h_{l-1} W_l + h_{l-1} + b_l), l = 1..L
 *   g = [meanpool(h_L), x]                 (N, G = D + X)
 *   f = ReLU(g V + c1) when H > 0, else g  (N, F)
 *   comparator:   s = f wa, sb = f wb, z[i][j] = s_i + sb_j + c, loss = pair BCE(z, y)
 *   relativistic: s = f v, loss = ReNAS(s, y)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/rng.h"
#include "predictor/pred.h"

void pm_layout_make(const pm_dims *d, pm_layout *lay)
{
    size_t o = 0, D = (size_t)d->D;
    memset(lay, 0, sizeof *lay);
    lay->E = o, o += PG_TYPES * D;
    for (int l = 0; l < d->L; l++) {
        lay->W[l] = o, o += D * D;
        lay->b[l] = o, o += D;
    }
    lay->G = d->D + d->X;
    lay->F = d->H > 0 ? d->H : lay->G;
    if (d->H > 0) {
        lay->V = o, o += (size_t)lay->G * d->H;
        lay->c1 = o, o += (size_t)d->H;
    }
    lay->w = o, o += (size_t)(d->kind == NR_PRED_COMPARATOR ? 2 : 1) * lay->F;
    lay->c = o, o += d->kind == NR_PRED_COMPARATOR ? 1 : 0;
    lay->total = o;
}

void pm_decay_mask(const pm_dims *d, const pm_layout *lay, unsigned char *mask)
{
    memset(mask, 1, lay->total);
    for (int l = 0; l < d->L; l++) memset(mask + lay->b[l], 0, (size_t)d->D);
    if (d->H > 0) memset(mask + lay->c1, 0, (size_t)d->H);
    if (d->kind == NR_PRED_COMPARATOR) mask[lay->c] = 0;
}

static void uniform_fill(nr_rng *r, double *x, size_t n, double bound)
{
    for (size_t i = 0; i < n; i++) x[i] = (2.0 * nr_rng_uniform(r) - 1.0) * bound;
}

void pm_init(const pm_dims *d, const pm_layout *lay, uint64_t seed, int member, double *theta)
{
    char name[32];
    snprintf(name, sizeof name, "member.%d", member);
    nr_rng r = nr_rng_stream(seed, name);
    memset(theta, 0, lay->total * sizeof *theta);
    for (size_t i = 0; i < (size_t)PG_TYPES * d->D; i++) theta[lay->E + i] = nr_rng_normal(&r);
    double bd = 1.0 / sqrt((double)d->D);
    for (int l = 0; l < d->L; l++) uniform_fill(&r, theta + lay->W[l], (size_t)d->D * d->D, bd);
    if (d->H > 0) uniform_fill(&r, theta + lay->V, (size_t)lay->G * d->H, 1.0 / sqrt((double)lay->G));
    size_t nw = (size_t)(d->kind == NR_PRED_COMPARATOR ? 2 : 1) * lay->F;
    uniform_fill(&r, theta + lay->w, nw, 1.0 / sqrt((double)lay->F));
}

int pm_work_init(pm_work *w, const pm_dims *d, int Nmax)
{
    memset(w, 0, sizeof *w);
    size_t N = (size_t)Nmax, nd = N * PG_NODES * (size_t)d->D, G = (size_t)(d->D + d->X);
    size_t H = (size_t)(d->H > 0 ? d->H : 0);
    size_t total = (size_t)(d->L + 1) * nd + (size_t)d->L * nd + N * G + N * H + 2 * N + N * N +
                   3 * nd + N * G + N * H + N + N * N;
    double *m = calloc(total ? total : 1, sizeof *m);
    if (!m) return -1;
    w->mem = m;
    w->Nmax = Nmax;
    w->h = m, m += (size_t)(d->L + 1) * nd;
    w->agg = m, m += (size_t)d->L * nd;
    w->g = m, m += N * G;
    w->a1 = m, m += N * H;
    w->s = m, m += N;
    w->sb = m, m += N;
    w->z = m, m += N * N;
    w->dh = m, m += nd;
    w->dh2 = m, m += nd;
    w->ws = m, m += nd;
    w->dg = m, m += N * G;
    w->da1 = m, m += N * H;
    w->ds = m, m += N;
    w->dz = m;
    return 0;
}

void pm_work_free(pm_work *w)
{
    free(w->mem);
    memset(w, 0, sizeof *w);
}

/* Trunk output f: a1 when H > 0, else g. */
static const double *trunk_out(const pm_dims *d, const pm_work *w)
{
    return d->H > 0 ? w->a1 : w->g;
}

void pm_forward(const pm_dims *d, const pm_layout *lay, const double *theta, const pm_batch *b,
                pm_work *w)
{
    int N = b->N, D = d->D, G = lay->G, F = lay->F;
    size_t nd = (size_t)N * PG_NODES * D;
    pk_embed_forward(w->h, b->types, theta + lay->E, N * PG_NODES, D);
    for (int l = 0; l < d->L; l++)
        pk_gcn_forward(w->h + (size_t)(l + 1) * nd, w->agg + (size_t)l * nd, w->h + (size_t)l * nd,
                       b->ahat, theta + lay->W[l], theta + lay->b[l], N, D);
    pk_meanpool_forward(w->g, w->h + (size_t)d->L * nd, N, D, G);
    for (int n = 0; n < N; n++)
        for (int k = 0; k < d->X; k++) w->g[(size_t)n * G + D + k] = b->x[(size_t)n * d->X + k];
    if (d->H > 0) {
        pk_linear_forward(w->a1, w->g, theta + lay->V, theta + lay->c1, N, G, d->H);
        pk_relu_forward(w->a1, (long)N * d->H);
    }
    const double *f = trunk_out(d, w);
    pk_linear_forward(w->s, f, theta + lay->w, NULL, N, F, 1);
    if (d->kind == NR_PRED_COMPARATOR) pk_linear_forward(w->sb, f, theta + lay->w + F, NULL, N, F, 1);
}

double pm_loss_backward(const pm_dims *d, const pm_layout *lay, const double *theta,
                        const pm_batch *b, pm_work *w, double *grad)
{
    int N = b->N, D = d->D, G = lay->G, F = lay->F;
    double L;
    if (d->kind == NR_PRED_COMPARATOR) L = pm_comparator_loss(d, lay, theta, b, w, grad != NULL);
    else L = pm_relativistic_loss(b, w, grad != NULL);
    if (!grad) return L;
    /* df: comparator head backward put dL/df into dg (or da1); relativistic: ds v^T */
    double *df = d->H > 0 ? w->da1 : w->dg;
    memset(w->dg, 0, (size_t)N * G * sizeof *w->dg);
    if (d->H > 0) memset(w->da1, 0, (size_t)N * d->H * sizeof *w->da1);
    const double *f = trunk_out(d, w);
    if (d->kind == NR_PRED_COMPARATOR) {
        pk_pair_head_backward(df, grad + lay->w, grad + lay->c, w->dz, f, theta + lay->w, N, F);
    } else {
        pk_linear_backward(df, grad + lay->w, NULL, w->ds, f, theta + lay->w, N, F, 1);
    }
    if (d->H > 0) {
        pk_relu_backward(w->da1, w->a1, (long)N * d->H);
        pk_linear_backward(w->dg, grad + lay->V, grad + lay->c1, w->da1, w->g, theta + lay->V, N, G, d->H);
    }
    size_t nd = (size_t)N * PG_NODES * D;
    double *dcur = w->dh, *dnext = w->dh2; /* dcur: dL/dh_l */
    memset(dcur, 0, nd * sizeof *dcur);
    pk_meanpool_backward(dcur, w->dg, N, D, G);
    for (int l = d->L - 1; l >= 0; l--) {
        memset(dnext, 0, nd * sizeof *dnext);
        pk_gcn_backward(dnext, grad + lay->W[l], grad + lay->b[l], w->ws, dcur, w->h + (size_t)(l + 1) * nd,
                        w->agg + (size_t)l * nd, b->ahat, theta + lay->W[l], N, D);
        double *t = dcur;
        dcur = dnext;
        dnext = t;
    }
    pk_embed_backward(grad + lay->E, dcur, b->types, N * PG_NODES, D);
    return L;
}
