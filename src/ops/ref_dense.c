/* nasrank — reference batch norm, global average pool and linear layer: plain loops in
 * double over the definitions in ops/ref.h. */
#include <math.h>

#include "ops/ref.h"

/* Mean and 1/sqrt(biased variance + eps) of channel c over (B, HW). */
static void channel_stats(const float *x, int B, int C, int HW, int c, double eps, double *mean, double *rstd)
{
    double n = (double)B * HW, s = 0.0, q = 0.0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++) s += x[((size_t)b * C + c) * HW + i];
    double m = s / n;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < HW; i++) {
            double d = x[((size_t)b * C + c) * HW + i] - m;
            q += d * d;
        }
    *mean = m;
    *rstd = 1.0 / sqrt(q / n + eps);
}

void nr_ref_batchnorm_forward(float *y, float *mean, float *rstd, const float *x, const float *gamma,
                              const float *beta, int B, int C, int HW, double eps)
{
    for (int c = 0; c < C; c++) {
        double m, r;
        channel_stats(x, B, C, HW, c, eps, &m, &r);
        double g = gamma ? gamma[c] : 1.0, be = beta ? beta[c] : 0.0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)b * C + c) * HW + i;
                y[k] = (float)((x[k] - m) * r * g + be);
            }
        if (mean) mean[c] = (float)m;
        if (rstd) rstd[c] = (float)r;
    }
}

void nr_ref_batchnorm_backward(float *dx, float *dgamma, float *dbeta, const float *dy, const float *x,
                               const float *gamma, int B, int C, int HW, double eps)
{
    double n = (double)B * HW;
    for (int c = 0; c < C; c++) {
        double m, r, sdy = 0.0, sdyx = 0.0;
        channel_stats(x, B, C, HW, c, eps, &m, &r);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)b * C + c) * HW + i;
                sdy += dy[k];
                sdyx += dy[k] * (x[k] - m) * r;
            }
        if (dbeta) dbeta[c] += (float)sdy;
        if (dgamma) dgamma[c] += (float)sdyx;
        if (!dx) continue;
        double g = gamma ? gamma[c] : 1.0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t k = ((size_t)b * C + c) * HW + i;
                double xhat = (x[k] - m) * r;
                dx[k] += (float)(g * r * (dy[k] - sdy / n - xhat * sdyx / n));
            }
    }
}

void nr_ref_global_avgpool_forward(float *y, const float *x, int B, int C, int HW)
{
    for (long p = 0; p < (long)B * C; p++) {
        double s = 0.0;
        for (int i = 0; i < HW; i++) s += x[p * HW + i];
        y[p] = (float)(s / HW);
    }
}

void nr_ref_global_avgpool_backward(float *dx, const float *dy, int B, int C, int HW)
{
    for (long p = 0; p < (long)B * C; p++)
        for (int i = 0; i < HW; i++) dx[p * HW + i] += (float)((double)dy[p] / HW);
}

void nr_ref_linear_forward(float *y, const float *x, const float *w, const float *b, int B, int In, int Out)
{
    for (int n = 0; n < B; n++)
        for (int o = 0; o < Out; o++) {
            double s = b ? b[o] : 0.0;
            for (int i = 0; i < In; i++) s += (double)w[(size_t)o * In + i] * x[(size_t)n * In + i];
            y[(size_t)n * Out + o] = (float)s;
        }
}

void nr_ref_linear_backward(float *dx, float *dw, float *db, const float *dy, const float *x, const float *w,
                            int B, int In, int Out)
{
    for (int o = 0; o < Out; o++) {
        if (db) {
            double s = 0.0;
            for (int n = 0; n < B; n++) s += dy[(size_t)n * Out + o];
            db[o] += (float)s;
        }
        for (int i = 0; dw && i < In; i++) {
            double s = 0.0;
            for (int n = 0; n < B; n++) s += (double)dy[(size_t)n * Out + o] * x[(size_t)n * In + i];
            dw[(size_t)o * In + i] += (float)s;
        }
    }
    for (int n = 0; dx && n < B; n++)
        for (int i = 0; i < In; i++) {
            double s = 0.0;
            for (int o = 0; o < Out; o++) s += (double)dy[(size_t)n * Out + o] * w[(size_t)o * In + i];
            dx[(size_t)n * In + i] += (float)s;
        }
}
