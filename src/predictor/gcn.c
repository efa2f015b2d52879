/* Predictor layer kernels: embedding, GCN layer, mean pooling, linear, ReLU, the comparator
 * pair head, pairwise BCE and the ReNAS pairwise loss.  Forward / backward pairs, written
 * plainly; loops run with the innermost index contiguous so the compiler can vectorise
 * them, and in a fixed order (results never depend on threads).  Backward ADDS into its
 * gradient outputs. */
#include <math.h>
#include <string.h>

#include "predictor/pred.h"

#define NN PG_NODES

/* y[0:n] += a * x[0:n].  The fixed-width inner loop lets the compiler vectorise it at -O2
 * (GCC's default cost model skips loops whose trip count is unknown). */
static inline void axpy(double *restrict y, double a, const double *restrict x, int n)
{
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) y[k + j] += a * x[k + j];
    for (; k < n; k++) y[k] += a * x[k];
}

/* x[0:n] . y[0:n] summed in 8 interleaved partial sums, then those in order. */
static inline double dot(const double *restrict x, const double *restrict y, int n)
{
    double p[8] = {0, 0, 0, 0, 0, 0, 0, 0}, s = 0;
    int k = 0;
    for (; k + 8 <= n; k += 8)
        for (int j = 0; j < 8; j++) p[j] += x[k + j] * y[k + j];
    for (; k < n; k++) s += x[k] * y[k];
    for (int j = 0; j < 8; j++) s += p[j];
    return s;
}

double pk_softplus(double x)
{
    return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

double pk_sigmoid(double x)
{
    if (x >= 0) return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

/* ---- embedding: out[n] = E[types[n]] ---- */

void pk_embed_forward(double *out, const unsigned char *types, const double *E, int N, int D)
{
    for (int n = 0; n < N; n++) memcpy(out + (size_t)n * D, E + (size_t)types[n] * D, (size_t)D * sizeof *out);
}

void pk_embed_backward(double *dE, const double *dout, const unsigned char *types, int N, int D)
{
    for (int n = 0; n < N; n++) {
        double *de = dE + (size_t)types[n] * D;
        const double *d = dout + (size_t)n * D;
        for (int k = 0; k < D; k++) de[k] += d[k];
    }
}

/* ---- GCN layer: out = ReLU(Â h W + h + b) per graph ---- */

void pk_gcn_forward(double *out, double *agg, const double *h, const double *ahat, const double *W,
                    const double *b, int G, int D)
{
    for (int g = 0; g < G; g++) {
        const double *A = ahat + (size_t)g * NN * NN; /* (8, 8) */
        const double *hg = h + (size_t)g * NN * D;    /* (8, D) */
        double *ag = agg + (size_t)g * NN * D;        /* (8, D) */
        double *og = out + (size_t)g * NN * D;        /* (8, D) */
        /* agg = Â h */
        for (int v = 0; v < NN; v++) {
            double *row = ag + (size_t)v * D;
            memset(row, 0, (size_t)D * sizeof *row);
            for (int u = 0; u < NN; u++) {
                double a = A[v * NN + u];
                if (a == 0) continue;
                axpy(row, a, hg + (size_t)u * D, D);
            }
        }
        /* out = ReLU(agg W + h + b) */
        for (int v = 0; v < NN; v++) {
            double *o = og + (size_t)v * D;
            const double *hv = hg + (size_t)v * D, *av = ag + (size_t)v * D;
            for (int k = 0; k < D; k++) o[k] = hv[k] + b[k];
            for (int i = 0; i < D; i++)
                if (av[i] != 0) axpy(o, av[i], W + (size_t)i * D, D);
            for (int k = 0; k < D; k++) o[k] = o[k] > 0 ? o[k] : 0;
        }
    }
}

void pk_gcn_backward(double *dh, double *dW, double *db, double *ws, double *dout, const double *out,
                     const double *agg, const double *ahat, const double *W, int G, int D)
{
    size_t rows = (size_t)G * NN;
    /* dpre = dout * [out > 0]  (in place) */
    for (size_t r = 0; r < rows * (size_t)D; r++)
        if (!(out[r] > 0)) dout[r] = 0;
    const double *dpre = dout;
    /* dW += agg^T dpre;  db += sum of rows */
    for (size_t r = 0; r < rows; r++) {
        const double *ar = agg + r * D, *dr = dpre + r * D;
        for (int i = 0; i < D; i++)
            if (ar[i] != 0) axpy(dW + (size_t)i * D, ar[i], dr, D);
        for (int k = 0; k < D; k++) db[k] += dr[k];
    }
    if (!dh) return;
    /* ws = dpre W^T:  ws[r][i] = sum_k dpre[r][k] W[i][k] */
    for (size_t r = 0; r < rows; r++) {
        const double *dr = dpre + r * D;
        double *wr = ws + r * D;
        for (int i = 0; i < D; i++) wr[i] = dot(dr, W + (size_t)i * D, D);
    }
    /* dh += Â^T ws + dpre:  dh[u] += sum_v Â[v][u] ws[v] */
    for (int g = 0; g < G; g++) {
        const double *A = ahat + (size_t)g * NN * NN;
        const double *wg = ws + (size_t)g * NN * D, *dg = dpre + (size_t)g * NN * D;
        double *hg = dh + (size_t)g * NN * D;
        for (int u = 0; u < NN; u++) {
            double *du = hg + (size_t)u * D;
            const double *dpu = dg + (size_t)u * D;
            for (int k = 0; k < D; k++) du[k] += dpu[k];
            for (int v = 0; v < NN; v++)
                if (A[v * NN + u] != 0) axpy(du, A[v * NN + u], wg + (size_t)v * D, D);
        }
    }
}

/* ---- mean pooling over the 8 nodes ---- */

void pk_meanpool_forward(double *out, const double *h, int G, int D, int ld)
{
    for (int g = 0; g < G; g++) {
        double *o = out + (size_t)g * ld;
        const double *hg = h + (size_t)g * NN * D;
        for (int k = 0; k < D; k++) o[k] = 0;
        for (int v = 0; v < NN; v++)
            for (int k = 0; k < D; k++) o[k] += hg[(size_t)v * D + k];
        for (int k = 0; k < D; k++) o[k] *= 1.0 / NN;
    }
}

void pk_meanpool_backward(double *dh, const double *dout, int G, int D, int ld)
{
    for (int g = 0; g < G; g++) {
        const double *d = dout + (size_t)g * ld;
        double *hg = dh + (size_t)g * NN * D;
        for (int v = 0; v < NN; v++)
            for (int k = 0; k < D; k++) hg[(size_t)v * D + k] += d[k] * (1.0 / NN);
    }
}

/* ---- linear: out = in W + b ---- */

void pk_linear_forward(double *out, const double *in, const double *W, const double *b, int N, int I, int O)
{
    for (int n = 0; n < N; n++) {
        double *o = out + (size_t)n * O;
        const double *x = in + (size_t)n * I;
        for (int k = 0; k < O; k++) o[k] = b ? b[k] : 0;
        for (int i = 0; i < I; i++) axpy(o, x[i], W + (size_t)i * O, O);
    }
}

void pk_linear_backward(double *din, double *dW, double *db, const double *dout, const double *in,
                        const double *W, int N, int I, int O)
{
    for (int n = 0; n < N; n++) {
        const double *d = dout + (size_t)n * O, *x = in + (size_t)n * I;
        for (int i = 0; i < I; i++) axpy(dW + (size_t)i * O, x[i], d, O);
        if (db)
            for (int k = 0; k < O; k++) db[k] += d[k];
        if (din) {
            double *dx = din + (size_t)n * I;
            for (int i = 0; i < I; i++) dx[i] += dot(d, W + (size_t)i * O, O);
        }
    }
}

/* ---- ReLU ---- */

void pk_relu_forward(double *x, long n)
{
    for (long i = 0; i < n; i++) x[i] = x[i] > 0 ? x[i] : 0;
}

void pk_relu_backward(double *d, const double *out, long n)
{
    for (long i = 0; i < n; i++)
        if (!(out[i] > 0)) d[i] = 0;
}

/* ---- comparator pair head: z[i][j] = wa·f[i] + wb·f[j] + c ---- */

void pk_pair_head_forward(double *z, const double *f, const double *w, double c, int N, int F)
{
    for (int i = 0; i < N; i++) {
        double sa = dot(w, f + (size_t)i * F, F);
        for (int j = 0; j < N; j++) z[(size_t)i * N + j] = sa + c;
    }
    for (int j = 0; j < N; j++) {
        double sb = dot(w + F, f + (size_t)j * F, F);
        for (int i = 0; i < N; i++) z[(size_t)i * N + j] += sb;
    }
}

void pk_pair_head_backward(double *df, double *dw, double *dc, const double *dz, const double *f,
                           const double *w, int N, int F)
{
    for (int i = 0; i < N; i++) {
        double ra = 0, rb = 0; /* dL/d(wa·f_i) = sum_j dz[i][j];  dL/d(wb·f_i) = sum_j dz[j][i] */
        for (int j = 0; j < N; j++) {
            ra += dz[(size_t)i * N + j];
            rb += dz[(size_t)j * N + i];
        }
        *dc += ra;
        const double *fi = f + (size_t)i * F;
        double *dfi = df + (size_t)i * F;
        for (int k = 0; k < F; k++) {
            dw[k] += ra * fi[k];
            dw[F + k] += rb * fi[k];
            dfi[k] += ra * w[k] + rb * w[F + k];
        }
    }
}

/* ---- pairwise losses ---- */

double pk_pair_bce(double *dz, const double *z, const double *y, int N)
{
    double inv = 1.0 / ((double)N * (N - 1)), L = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            size_t ij = (size_t)i * N + j;
            if (i == j) {
                if (dz) dz[ij] = 0;
                continue;
            }
            double t = y[i] > y[j] ? 1.0 : y[i] < y[j] ? 0.0 : 0.5;
            L += pk_softplus(z[ij]) - t * z[ij];
            if (dz) dz[ij] = (pk_sigmoid(z[ij]) - t) * inv;
        }
    return L * inv;
}

double pk_relativistic_loss(double *do_, const double *o, const double *y, int N)
{
    double inv = 1.0 / ((double)N * (N - 1)), L = 0;
    if (do_)
        for (int i = 0; i < N; i++) do_[i] = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            if (i == j) continue;
            double s = y[i] > y[j] ? 1.0 : y[i] < y[j] ? -1.0 : 0.0;
            double m = -(o[i] - o[j]) * s; /* loss = softplus(m) */
            L += pk_softplus(m);
            if (do_ && s != 0) {
                double g = pk_sigmoid(m) * inv; /* dloss/dm */
                do_[i] -= g * s;
                do_[j] += g * s;
            }
        }
    return L * inv;
}
