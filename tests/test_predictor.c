/* Tests for the graph predictors (src/predictor): finite-difference gradient checks of every
 * layer and of the full losses, graph encoding, save/load round trip (bit-identical
 * predictions), bad model files, determinism, the scores-file reader, and a short training
 * run on table labels that must rank clearly better than chance. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nasrank.h"
#include "ops/ops.h"
#include "predictor/pred.h"
#include "test.h"

static char tmpdir[64];

static void tmp_path(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", tmpdir, name);
}

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, n, f);
    fclose(f);
}

static char *read_file(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    *n = fread(b, 1, (size_t)sz, f);
    b[*n] = '\0';
    fclose(f);
    return b;
}

static void fill_normal(nr_rng *r, double *x, size_t n, double scale)
{
    for (size_t i = 0; i < n; i++) x[i] = scale * nr_rng_normal(r);
}

/* ---- finite differences ----
 * Central differences with step 1e-6 in double.  An entry whose one-sided differences
 * disagree (a ReLU kink inside the step) is skipped; the inputs are drawn so that this is
 * rare, and the number of such skips is checked to stay small. */
typedef double (*loss_fn)(void *ctx);

static int gradcheck_quiet; /* set while checking deliberately broken gradients */

typedef struct gc_result {
    int checked, skipped, bad;
    double worst;
} gc_result;

static void gradcheck(loss_fn f, void *ctx, double *x, const double *grad, size_t n, double tol, gc_result *res)
{
    const double h = 1e-6;
    for (size_t i = 0; i < n; i++) {
        double x0 = x[i];
        double f0 = f(ctx);
        x[i] = x0 + h;
        double fp = f(ctx);
        x[i] = x0 - h;
        double fm = f(ctx);
        x[i] = x0;
        double num = (fp - fm) / (2 * h);
        double right = (fp - f0) / h, left = (f0 - fm) / h;
        double scale = fmax(1.0, fmax(fabs(num), fabs(grad[i])));
        double e = fabs(num - grad[i]) / scale;
        if (e > tol && fabs(right - left) / scale > 100 * tol) {
            res->skipped++; /* kink inside [x - h, x + h] */
            continue;
        }
        res->checked++;
        if (e > res->worst) res->worst = e;
        if (e > tol) {
            res->bad++;
            if (!gradcheck_quiet)
                fprintf(stderr, "  gradcheck: entry %zu analytic %.10g numeric %.10g\n", i, grad[i], num);
        }
    }
}

#define CHECK_GRAD(res, total)                                                                          \
    do {                                                                                                \
        CHECK_MSG((res).bad == 0, "%d of %d entries off (worst rel. error %.3g)", (res).bad, (res).checked, \
                  (res).worst);                                                                         \
        CHECK_MSG((res).skipped * 20 <= (int)(total), "%d of %d entries skipped at kinks", (res).skipped, \
                  (int)(total));                                                                        \
    } while (0)

/* weighted sum sum_i r[i] * y[i]: the probe loss for a layer's output y */
static double wsum(const double *r, const double *y, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += r[i] * y[i];
    return s;
}

static nr_arch arch_of(const char *s)
{
    nr_arch a = {{0}};
    nr_arch_parse(s, &a, NULL);
    return a;
}

#define ARCH_BEST "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"
#define ARCH_DEAD1 "|none~0|+|avg_pool_3x3~0|nor_conv_1x1~1|+|none~0|nor_conv_3x3~1|skip_connect~2|"

/* ---- layer probes ---- */

typedef struct gcn_ctx {
    int G, D;
    double *out, *agg, *h, *ahat, *W, *b, *r;
} gcn_ctx;

static double gcn_probe(void *vc)
{
    gcn_ctx *c = vc;
    pk_gcn_forward(c->out, c->agg, c->h, c->ahat, c->W, c->b, c->G, c->D);
    return wsum(c->r, c->out, (size_t)c->G * 8 * c->D);
}

static void test_gcn_layer(nr_adjacency adj)
{
    enum { G = 3, D = 5 };
    size_t nd = (size_t)G * 8 * D;
    double out[G * 8 * D], agg[G * 8 * D], h[G * 8 * D], ahat[G * 64], W[D * D], b[D], r[G * 8 * D];
    double dh[G * 8 * D], dW[D * D], db[D], ws[G * 8 * D], dout[G * 8 * D];
    unsigned char types[8];
    const char *archs[G] = {ARCH_BEST, ARCH_DEAD1,
                            "|skip_connect~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|skip_connect~2|"};
    for (int g = 0; g < G; g++) {
        nr_arch a = arch_of(archs[g]);
        pg_build(&a, adj, g == 1 ? 0 : 1, ahat + g * 64, types);
    }
    nr_rng rng = nr_rng_seeded(7);
    fill_normal(&rng, h, nd, 1.0);
    fill_normal(&rng, W, D * D, 0.5);
    fill_normal(&rng, b, D, 0.3);
    fill_normal(&rng, r, nd, 1.0);
    gcn_ctx c = {G, D, out, agg, h, ahat, W, b, r};
    gcn_probe(&c);
    memcpy(dout, r, sizeof dout);
    memset(dh, 0, sizeof dh), memset(dW, 0, sizeof dW), memset(db, 0, sizeof db);
    pk_gcn_backward(dh, dW, db, ws, dout, out, agg, ahat, W, G, D);
    gc_result rw = {0}, rb = {0}, rh = {0};
    gradcheck(gcn_probe, &c, W, dW, D * D, 1e-6, &rw);
    gradcheck(gcn_probe, &c, b, db, D, 1e-6, &rb);
    gradcheck(gcn_probe, &c, h, dh, nd, 1e-6, &rh);
    CHECK_GRAD(rw, D * D);
    CHECK_GRAD(rb, D);
    CHECK_GRAD(rh, nd);
    /* The check must be able to fail: a backward that forgets the residual term (dh += dpre;
     * after the call dout holds dpre) or mis-scales one entry of dW is caught. */
    double dh_bad[G * 8 * D], dW_bad[D * D];
    for (size_t i = 0; i < nd; i++) dh_bad[i] = dh[i] - dout[i];
    memcpy(dW_bad, dW, sizeof dW_bad);
    dW_bad[D + 2] = dW_bad[D + 2] * 1.001 + 1e-4;
    gc_result bh = {0}, bw = {0};
    gradcheck_quiet = 1;
    gradcheck(gcn_probe, &c, h, dh_bad, nd, 1e-6, &bh);
    gradcheck(gcn_probe, &c, W, dW_bad, D * D, 1e-6, &bw);
    gradcheck_quiet = 0;
    CHECK_MSG(bh.bad > (int)nd / 4, "residual term missing: only %d of %d entries flagged", bh.bad, (int)nd);
    CHECK_MSG(bw.bad == 1, "one wrong dW entry: %d entries flagged", bw.bad);
    /* at least some units are inactive, so the ReLU mask is exercised */
    int zeros = 0;
    for (size_t i = 0; i < nd; i++) zeros += out[i] == 0;
    CHECK(zeros > 0 && zeros < (int)nd);
}

typedef struct emb_ctx {
    int N, D;
    double *out, *E, *r;
    unsigned char *types;
} emb_ctx;

static double emb_probe(void *vc)
{
    emb_ctx *c = vc;
    pk_embed_forward(c->out, c->types, c->E, c->N, c->D);
    return wsum(c->r, c->out, (size_t)c->N * c->D);
}

typedef struct pool_ctx {
    int G, D, ld;
    double *out, *h, *r;
} pool_ctx;

static double pool_probe(void *vc)
{
    pool_ctx *c = vc;
    pk_meanpool_forward(c->out, c->h, c->G, c->D, c->ld);
    double s = 0;
    for (int g = 0; g < c->G; g++) s += wsum(c->r + g * c->ld, c->out + g * c->ld, (size_t)c->D);
    return s;
}

typedef struct lin_ctx {
    int N, I, O, relu;
    double *out, *in, *W, *b, *r;
} lin_ctx;

static double lin_probe(void *vc)
{
    lin_ctx *c = vc;
    pk_linear_forward(c->out, c->in, c->W, c->b, c->N, c->I, c->O);
    if (c->relu) pk_relu_forward(c->out, (long)c->N * c->O);
    return wsum(c->r, c->out, (size_t)c->N * c->O);
}

typedef struct head_ctx {
    int N, F;
    double *z, *f, *w, c, *r;
} head_ctx;

static double head_probe(void *vc)
{
    head_ctx *c = vc;
    pk_pair_head_forward(c->z, c->f, c->w, c->c, c->N, c->F);
    return wsum(c->r, c->z, (size_t)c->N * c->N);
}

typedef struct pair_ctx {
    int N;
    double *z, *y;
} pair_ctx;

static double bce_probe(void *vc)
{
    pair_ctx *c = vc;
    return pk_pair_bce(NULL, c->z, c->y, c->N);
}

static double rel_probe(void *vc)
{
    pair_ctx *c = vc;
    return pk_relativistic_loss(NULL, c->z, c->y, c->N);
}

static void test_layers(void)
{
    nr_rng rng = nr_rng_seeded(11);
    TEST("embedding gradient")
    {
        enum { N = 16, D = 4 };
        double out[N * D], E[PG_TYPES * D], r[N * D], dE[PG_TYPES * D] = {0};
        unsigned char types[N];
        for (int i = 0; i < N; i++) types[i] = (unsigned char)(i * 5 % PG_TYPES);
        fill_normal(&rng, E, PG_TYPES * D, 1);
        fill_normal(&rng, r, N * D, 1);
        emb_ctx c = {N, D, out, E, r, types};
        emb_probe(&c);
        pk_embed_backward(dE, r, types, N, D);
        gc_result res = {0};
        gradcheck(emb_probe, &c, E, dE, PG_TYPES * D, 1e-7, &res);
        CHECK_GRAD(res, PG_TYPES * D);
    }
    TEST("gcn layer gradient, plain adjacency") test_gcn_layer(NR_ADJ_PLAIN);
    TEST("gcn layer gradient, normalised adjacency") test_gcn_layer(NR_ADJ_NORMALISED);
    TEST("mean pooling gradient")
    {
        enum { G = 3, D = 4, LD = 6 };
        double out[G * LD] = {0}, h[G * 8 * D], r[G * LD], dh[G * 8 * D] = {0};
        fill_normal(&rng, h, G * 8 * D, 1);
        fill_normal(&rng, r, G * LD, 1);
        pool_ctx c = {G, D, LD, out, h, r};
        pool_probe(&c);
        pk_meanpool_backward(dh, r, G, D, LD);
        gc_result res = {0};
        gradcheck(pool_probe, &c, h, dh, G * 8 * D, 1e-7, &res);
        CHECK_GRAD(res, G * 8 * D);
        CHECK_NEAR(out[0], (h[0] + h[4] + h[8] + h[12] + h[16] + h[20] + h[24] + h[28]) / 8, 1e-15);
    }
    for (int relu = 0; relu <= 1; relu++)
        TEST(relu ? "linear + ReLU gradient" : "linear gradient")
        {
            enum { N = 5, I = 6, O = 4 };
            double out[N * O], in[N * I], W[I * O], b[O], r[N * O];
            double din[N * I] = {0}, dW[I * O] = {0}, db[O] = {0}, d[N * O];
            fill_normal(&rng, in, N * I, 1);
            fill_normal(&rng, W, I * O, 0.5);
            fill_normal(&rng, b, O, 0.5);
            fill_normal(&rng, r, N * O, 1);
            lin_ctx c = {N, I, O, relu, out, in, W, b, r};
            lin_probe(&c);
            memcpy(d, r, sizeof d);
            if (relu) pk_relu_backward(d, out, N * O);
            pk_linear_backward(din, dW, db, d, in, W, N, I, O);
            gc_result r1 = {0}, r2 = {0}, r3 = {0};
            gradcheck(lin_probe, &c, W, dW, I * O, 1e-7, &r1);
            gradcheck(lin_probe, &c, b, db, O, 1e-7, &r2);
            gradcheck(lin_probe, &c, in, din, N * I, 1e-7, &r3);
            CHECK_GRAD(r1, I * O);
            CHECK_GRAD(r2, O);
            CHECK_GRAD(r3, N * I);
        }
    TEST("comparator pair head gradient")
    {
        enum { N = 5, F = 3 };
        double z[N * N], f[N * F], w[2 * F], r[N * N], df[N * F] = {0}, dw[2 * F] = {0}, dc = 0;
        fill_normal(&rng, f, N * F, 1);
        fill_normal(&rng, w, 2 * F, 1);
        fill_normal(&rng, r, N * N, 1);
        for (int i = 0; i < N; i++) r[i * N + i] = 0; /* the diagonal is never used */
        head_ctx c = {N, F, z, f, w, 0.3, r};
        head_probe(&c);
        CHECK_NEAR(z[1 * N + 2], wsum(w, f + 1 * F, F) + wsum(w + F, f + 2 * F, F) + 0.3, 1e-12);
        pk_pair_head_backward(df, dw, &dc, r, f, w, N, F);
        gc_result r1 = {0}, r2 = {0}, r3 = {0};
        gradcheck(head_probe, &c, f, df, N * F, 1e-7, &r1);
        gradcheck(head_probe, &c, w, dw, 2 * F, 1e-7, &r2);
        gradcheck(head_probe, &c, &c.c, &dc, 1, 1e-7, &r3);
        CHECK_GRAD(r1, N * F);
        CHECK_GRAD(r2, 2 * F);
        CHECK_GRAD(r3, 1);
    }
    TEST("pairwise BCE gradient and value")
    {
        enum { N = 6 };
        double z[N * N], y[N] = {1, 3, 2, 2, 5, 0}, dz[N * N];
        fill_normal(&rng, z, N * N, 2);
        pair_ctx c = {N, z, y};
        double L = pk_pair_bce(dz, z, y, N);
        gc_result res = {0};
        gradcheck(bce_probe, &c, z, dz, N * N, 1e-7, &res);
        CHECK_GRAD(res, N * N);
        /* direct evaluation of the definition */
        double ref = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                if (i == j) continue;
                double p = 1 / (1 + exp(-z[i * N + j])), t = y[i] > y[j] ? 1 : y[i] < y[j] ? 0 : 0.5;
                ref -= t * log(p) + (1 - t) * log(1 - p);
            }
        CHECK_NEAR(L, ref / (N * (N - 1)), 1e-12);
        CHECK(dz[0] == 0 && dz[N + 1] == 0);
        double big[4] = {0, 800, -800, 0}, yy[2] = {1, 0};
        CHECK(isfinite(pk_pair_bce(NULL, big, yy, 2))); /* no overflow at huge logits */
    }
    TEST("relativistic loss gradient and value")
    {
        enum { N = 7 };
        double o[N], y[N] = {3, 1, 4, 1, 5, 9, 2}, d[N];
        fill_normal(&rng, o, N, 1.5);
        pair_ctx c = {N, o, y};
        double L = pk_relativistic_loss(d, o, y, N);
        gc_result res = {0};
        gradcheck(rel_probe, &c, o, d, N, 1e-7, &res);
        CHECK_GRAD(res, N);
        double ref = 0;
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++) {
                if (i == j) continue;
                double s = y[i] > y[j] ? 1 : y[i] < y[j] ? -1 : 0;
                ref += log(1 + exp(-(o[i] - o[j]) * s));
            }
        CHECK_NEAR(L, ref / (N * (N - 1)), 1e-12);
        /* a perfectly ordered, widely separated score has a tiny loss */
        double o2[N];
        for (int i = 0; i < N; i++) o2[i] = 100 * y[i];
        CHECK(pk_relativistic_loss(NULL, o2, y, N) < 0.1);
    }
}

/* ---- full model losses ---- */

typedef struct full_ctx {
    pm_dims d;
    pm_layout lay;
    double *theta;
    pm_batch b;
    pm_work w;
} full_ctx;

static double full_probe(void *vc)
{
    full_ctx *c = vc;
    pm_forward(&c->d, &c->lay, c->theta, &c->b, &c->w);
    return pm_loss_backward(&c->d, &c->lay, c->theta, &c->b, &c->w, NULL);
}

static void test_full_loss(nr_predictor_kind kind, int H, int X, nr_adjacency adj)
{
    enum { N = 7 };
    const char *archs[N] = {
        ARCH_BEST, ARCH_DEAD1,
        "|skip_connect~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|nor_conv_3x3~0|none~1|skip_connect~2|",
        "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
        "|nor_conv_1x1~0|+|none~0|nor_conv_3x3~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|nor_conv_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|avg_pool_3x3~1|nor_conv_3x3~2|"};
    double ahat[N * 64], x[N * 3], y[N] = {91.2, 10.0, 85.5, 82.1, 88.0, 10.0, 90.3};
    unsigned char types[N * 8];
    for (int i = 0; i < N; i++) {
        nr_arch a = arch_of(archs[i]);
        pg_build(&a, adj, 1, ahat + i * 64, types + i * 8);
    }
    nr_rng rng = nr_rng_seeded(3);
    fill_normal(&rng, x, N * 3, 1);
    full_ctx c;
    c.d = (pm_dims){kind, 6, 3, H, X};
    pm_layout_make(&c.d, &c.lay);
    c.theta = malloc(c.lay.total * sizeof *c.theta);
    double *grad = calloc(c.lay.total, sizeof *grad);
    pm_init(&c.d, &c.lay, 5, 0, c.theta);
    /* biases away from zero so that the pre-activations sit away from the ReLU kinks */
    for (size_t i = 0; i < c.lay.total; i++)
        if (c.theta[i] == 0) c.theta[i] = 0.2 * nr_rng_normal(&rng);
    c.b = (pm_batch){N, ahat, types, X ? x : NULL, y};
    pm_work_init(&c.w, &c.d, N);
    pm_forward(&c.d, &c.lay, c.theta, &c.b, &c.w);
    double L = pm_loss_backward(&c.d, &c.lay, c.theta, &c.b, &c.w, grad);
    CHECK(isfinite(L) && L > 0);
    gc_result res = {0};
    gradcheck(full_probe, &c, c.theta, grad, c.lay.total, 1e-6, &res);
    CHECK_GRAD(res, c.lay.total);
    /* The same check on deliberately broken gradients must fail: one wrong entry in each
     * parameter block (embedding, first GCN weight, last GCN bias, head) is flagged, and so
     * is a gradient with the sign of one block flipped. */
    {
        size_t pos[4] = {c.lay.E + 3, c.lay.W[0] + 7, c.lay.b[c.d.L - 1] + 1, c.lay.w + 2};
        double *bad = malloc(c.lay.total * sizeof *bad);
        gradcheck_quiet = 1;
        for (int k = 0; k < 4; k++) {
            memcpy(bad, grad, c.lay.total * sizeof *bad);
            bad[pos[k]] += 1e-4 + 1e-3 * fabs(bad[pos[k]]);
            gc_result br = {0};
            gradcheck(full_probe, &c, c.theta, bad, c.lay.total, 1e-6, &br);
            CHECK_MSG(br.bad == 1, "wrong entry %zu: %d entries flagged", pos[k], br.bad);
        }
        memcpy(bad, grad, c.lay.total * sizeof *bad);
        for (int i = 0; i < c.d.D * c.d.D; i++) bad[c.lay.W[1] + (size_t)i] = -bad[c.lay.W[1] + (size_t)i];
        gc_result bs = {0};
        gradcheck(full_probe, &c, c.theta, bad, c.lay.total, 1e-6, &bs);
        gradcheck_quiet = 0;
        int nz = 0;
        for (int i = 0; i < c.d.D * c.d.D; i++) nz += fabs(grad[c.lay.W[1] + (size_t)i]) > 1e-5;
        CHECK_MSG(nz > 0 && bs.bad >= nz, "sign-flipped W[1]: %d flagged, %d nonzero entries", bs.bad, nz);
        free(bad);
    }
    /* loss value equals a recomputation of the definition from the scores */
    full_probe(&c);
    double ref = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            if (i == j) continue;
            if (kind == NR_PRED_RELATIVISTIC) {
                double s = y[i] > y[j] ? 1 : y[i] < y[j] ? -1 : 0;
                ref += log1p(exp(-(c.w.s[i] - c.w.s[j]) * s));
            } else {
                double z = c.w.s[i] + c.w.sb[j] + c.theta[c.lay.c];
                double t = y[i] > y[j] ? 1 : y[i] < y[j] ? 0 : 0.5;
                ref += log1p(exp(z)) - t * z;
            }
        }
    CHECK_NEAR(L, ref / (N * (N - 1)), 1e-10);
    pm_work_free(&c.w);
    free(c.theta);
    free(grad);
}

static void test_full(void)
{
    TEST("full comparator loss gradient (linear head, no extras)") test_full_loss(NR_PRED_COMPARATOR, 0, 0, NR_ADJ_PLAIN);
    TEST("full comparator loss gradient (hidden layer, 2 extras, normalised)")
    test_full_loss(NR_PRED_COMPARATOR, 5, 2, NR_ADJ_NORMALISED);
    TEST("full relativistic loss gradient (linear head, 3 extras)") test_full_loss(NR_PRED_RELATIVISTIC, 0, 3, NR_ADJ_PLAIN);
    TEST("full relativistic loss gradient (hidden layer)") test_full_loss(NR_PRED_RELATIVISTIC, 4, 0, NR_ADJ_NORMALISED);
}

/* ---- graph encoding ---- */

static void test_graph(void)
{
    TEST("graph of the all-conv3x3 cell")
    {
        nr_arch a = arch_of("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|");
        double A[64];
        unsigned char t[8];
        pg_build(&a, NR_ADJ_PLAIN, 2, A, t);
        CHECK(t[0] == PG_TYPE_INPUT && t[7] == PG_TYPE_OUTPUT);
        for (int v = 1; v <= 6; v++) CHECK(t[v] == 2 + NR_OP_CONV3X3);
        /* predecessors (row v): e0,e1,e3 <- input; e2,e4 <- e0; e5 <- e1,e2; output <- e3,e4,e5 */
        static const int pred[8][8] = {
            {1, 0, 0, 0, 0, 0, 0, 0}, {1, 1, 0, 0, 0, 0, 0, 0}, {1, 0, 1, 0, 0, 0, 0, 0}, {0, 1, 0, 1, 0, 0, 0, 0},
            {1, 0, 0, 0, 1, 0, 0, 0}, {0, 1, 0, 0, 0, 1, 0, 0}, {0, 0, 1, 1, 0, 0, 1, 0}, {0, 0, 0, 0, 1, 1, 1, 1}};
        int same = 1;
        for (int v = 0; v < 8; v++)
            for (int u = 0; u < 8; u++) same &= A[v * 8 + u] == pred[v][u];
        CHECK(same);
        pg_build(&a, NR_ADJ_NORMALISED, 2, A, t);
        /* row 7: in-degree 3 + self = 4; node 4 (e3) feeds only the output: column sum 2 */
        CHECK_NEAR(A[7 * 8 + 4], 1 / sqrt(4.0 * 2.0), 1e-15);
        CHECK_NEAR(A[0], 1 / sqrt(1.0 * 4.0), 1e-15); /* input: row sum 1, column sum 1 + 3 */
    }
    TEST("none nodes lose their edges; pruning removes dead ops")
    {
        /* node 1 is fed by none: e2 (2<-1) and e4 (3<-1) read zeros */
        nr_arch a = arch_of(ARCH_DEAD1);
        double A0[64], A1[64], A2[64];
        unsigned char t0[8], t1[8], t2[8];
        pg_build(&a, NR_ADJ_PLAIN, 0, A0, t0);
        pg_build(&a, NR_ADJ_PLAIN, 1, A1, t1);
        pg_build(&a, NR_ADJ_PLAIN, 2, A2, t2);
        CHECK(A0[1 * 8 + 0] == 1 && A1[1 * 8 + 0] == 0); /* e0 = none: cut from the input */
        CHECK(A1[3 * 8 + 1] == 0);                       /* e2 no longer reads e0 */
        CHECK(t1[3] == 2 + NR_OP_CONV1X1 && t2[3] == 2 + NR_OP_NONE); /* e2 reads zeros: dead */
        CHECK(t2[5] == 2 + NR_OP_NONE);                  /* e4 (3<-1) conv3x3 on zeros: dead */
        CHECK(t2[2] == 2 + NR_OP_AVGPOOL3X3 && t2[6] == 2 + NR_OP_SKIP); /* e1, e5 live */
        int edges = 0;
        for (int i = 0; i < 64; i++) edges += A2[i] != 0 && i % 9 != 0;
        CHECK(edges == 3); /* input -> e1 -> e5 -> output */
        /* an op whose target never reaches the output: node 2 feeds only via none */
        nr_arch b = arch_of("|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|none~2|");
        pg_build(&b, NR_ADJ_PLAIN, 2, A2, t2);
        CHECK(t2[2] == 2 + NR_OP_NONE && t2[3] == 2 + NR_OP_NONE && t2[1] == 2 + NR_OP_CONV3X3);
    }
    TEST("isomorphism classes")
    {
        int *cls = malloc(NR_NUM_ARCHS * sizeof *cls);
        CHECK(pg_iso_classes(cls) == 6466);
        CHECK(cls[0] == 0);
        nr_table *t = NULL;
        if (nr_table_load(NULL, &t, NULL) == NR_OK) {
            int agree = 1; /* same class <=> same table iso_index */
            for (long i = 0; i < NR_NUM_ARCHS; i++) {
                const nr_table_row *r = nr_table_by_index(t, i), *rep = nr_table_by_index(t, r->iso_index);
                agree &= cls[nr_arch_to_id(&r->arch)] == cls[nr_arch_to_id(&rep->arch)];
            }
            CHECK(agree);
            nr_table_free(t);
        }
        free(cls);
    }
}

/* ---- training, persistence, errors ---- */

static nr_table *g_table;
static nr_arch g_arch[NR_NUM_ARCHS];
static double g_valid[NR_NUM_ARCHS], g_test[NR_NUM_ARCHS], g_fake_naswot[NR_NUM_ARCHS];

static nr_predictor_config small_cfg(nr_predictor_kind kind)
{
    nr_predictor_config c = nr_predictor_config_default(kind);
    c.embed_dim = 8;
    c.layers = 2;
    c.epochs = 6;
    c.ensemble = 2;
    c.folds = 2;
    c.batch = 16;
    return c;
}

static int same_doubles(const double *a, const double *b, size_t n)
{
    return memcmp(a, b, n * sizeof *a) == 0;
}

static void test_training(void)
{
    TEST("short training on table labels ranks well above chance (K = 100)")
    {
        /* train on the first 100 benchmark indices' cifar10-valid accuracy; evaluate against
         * cifar10 test accuracy on archs of other isomorphism classes */
        int *cls = malloc(NR_NUM_ARCHS * sizeof *cls);
        unsigned char *used = calloc(6466, 1);
        pg_iso_classes(cls);
        for (int i = 0; i < 100; i++) used[cls[nr_arch_to_id(&g_arch[i])]] = 1;
        nr_predictor_config c = nr_predictor_config_default(NR_PRED_RELATIVISTIC);
        nr_predictor *p = NULL;
        nr_error err = {0};
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 100, &p, &err) == NR_OK);
        nr_arch *ea = malloc(NR_NUM_ARCHS * sizeof *ea);
        double *ey = malloc(NR_NUM_ARCHS * sizeof *ey), *pr = malloc(NR_NUM_ARCHS * sizeof *pr);
        int ne = 0;
        for (int i = 100; i < NR_NUM_ARCHS; i++)
            if (!used[cls[nr_arch_to_id(&g_arch[i])]]) ea[ne] = g_arch[i], ey[ne] = g_test[i], ne++;
        double tau = NAN;
        if (p) {
            CHECK(nr_predictor_predict(p, ea, NULL, (size_t)ne, pr, &err) == NR_OK);
            nr_kendall_tau_b(pr, ey, (size_t)ne, &tau, NULL);
            nr_predictor_info info;
            nr_predictor_get_info(p, &info);
            CHECK(info.n_train == 100 && isfinite(info.holdout_tau) && info.best_epoch[0] >= 1);
            const double *l, *t;
            size_t h = nr_predictor_history(p, 0, &l, &t);
            CHECK(h == (size_t)(info.epochs_run[0] + info.refit_epochs) && info.refit_epochs >= 1 && h >= 2 && l[h - 1] < l[0]); /* the loss went down */
            CHECK(isfinite(t[0]) && isnan(t[h - 1])); /* refit epochs have no held-out tau */
        }
        CHECK_MSG(tau > 0.3, "held-out Kendall tau %.3f on %d archs", tau, ne);
        fprintf(stderr, "  K=100 relativistic: held-out tau vs cifar10 test %.3f (%d archs)\n", tau, ne);
        nr_predictor_free(p);
        free(cls), free(used), free(ea), free(ey), free(pr);
    }
    TEST("training is deterministic for a seed, whatever the thread count")
    {
        for (int kind = 0; kind < 2; kind++) {
            nr_predictor_config c = small_cfg((nr_predictor_kind)kind);
            c.features = NR_FEAT_PARAMS | NR_FEAT_NASWOT;
            nr_predictor *p1 = NULL, *p2 = NULL, *p3 = NULL;
            nr_threads_set(1);
            CHECK(nr_predictor_train(&c, g_arch + 200, g_valid + 200, g_fake_naswot + 200, 60, &p1, NULL) == NR_OK);
            nr_threads_set(2);
            CHECK(nr_predictor_train(&c, g_arch + 200, g_valid + 200, g_fake_naswot + 200, 60, &p2, NULL) == NR_OK);
            c.seed = 2;
            CHECK(nr_predictor_train(&c, g_arch + 200, g_valid + 200, g_fake_naswot + 200, 60, &p3, NULL) == NR_OK);
            if (p1 && p2 && p3) {
                size_t P = p1->lay.total * (size_t)p1->members;
                CHECK(same_doubles(p1->theta, p2->theta, P));
                CHECK(!same_doubles(p1->theta, p3->theta, P));
                double s1[50], s2[50];
                nr_predictor_predict(p1, g_arch + 1000, g_fake_naswot + 1000, 50, s1, NULL);
                nr_predictor_predict(p2, g_arch + 1000, g_fake_naswot + 1000, 50, s2, NULL);
                CHECK(same_doubles(s1, s2, 50));
                /* and the model files are byte-identical */
                char f1[128], f2[128];
                tmp_path(f1, sizeof f1, "det1.json");
                tmp_path(f2, sizeof f2, "det2.json");
                CHECK(nr_predictor_save(p1, f1, NULL) == NR_OK && nr_predictor_save(p2, f2, NULL) == NR_OK);
                size_t n1 = 0, n2 = 0;
                char *t1 = read_file(f1, &n1), *t2 = read_file(f2, &n2);
                CHECK(t1 && t2 && n1 == n2 && n1 > 0 && memcmp(t1, t2, n1) == 0);
                free(t1), free(t2);
            }
            nr_predictor_free(p1), nr_predictor_free(p2), nr_predictor_free(p3);
        }
    }
    TEST("comparator score orders like the soft win count (one member)")
    {
        nr_predictor_config c = small_cfg(NR_PRED_COMPARATOR);
        c.ensemble = 1;
        nr_predictor *p = NULL;
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 80, &p, NULL) == NR_OK);
        enum { S = 25 };
        double s[S], wins[S];
        if (p) {
            nr_predictor_predict(p, g_arch + 3000, NULL, S, s, NULL);
            for (int a = 0; a < S; a++) {
                wins[a] = 0;
                for (int b = 0; b < S; b++) {
                    double pr = 0;
                    nr_predictor_compare(p, &g_arch[3000 + a], 0, &g_arch[3000 + b], 0, &pr, NULL);
                    wins[a] += pr;
                }
            }
            int consistent = 1;
            for (int a = 0; a < S; a++)
                for (int b = 0; b < S; b++)
                    if (s[a] > s[b] && !(wins[a] > wins[b]) ) consistent = 0;
            CHECK(consistent);
        }
        nr_predictor_free(p);
        /* relativistic: P(a beats b) + P(b beats a) = 1 */
        c = small_cfg(NR_PRED_RELATIVISTIC);
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 80, &p, NULL) == NR_OK);
        double pab = 0, pba = 0;
        if (p) {
            nr_predictor_compare(p, &g_arch[5], 0, &g_arch[9], 0, &pab, NULL);
            nr_predictor_compare(p, &g_arch[9], 0, &g_arch[5], 0, &pba, NULL);
        }
        CHECK_NEAR(pab + pba, 1.0, 1e-12);
        nr_predictor_free(p);
    }
    TEST("bad training inputs are rejected")
    {
        nr_predictor_config c = small_cfg(NR_PRED_RELATIVISTIC);
        nr_predictor *p = (nr_predictor *)&c; /* must be reset to NULL on failure */
        nr_error err = {0};
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 3, &p, &err) == NR_ERR_INVALID && p == NULL);
        double y[10];
        memcpy(y, g_valid, sizeof y);
        y[4] = NAN;
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, g_arch, y, NULL, 10, &p, &err) == NR_ERR_NUMERIC);
        CHECK(strstr(err.text, "label 4") != NULL);
        c.features = NR_FEAT_NASWOT;
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 10, &p, &err) == NR_ERR_INVALID);
        double nw[10];
        memcpy(nw, g_fake_naswot, sizeof nw);
        nw[7] = NAN;
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, g_arch, g_valid, nw, 10, &p, &err) == NR_ERR_NUMERIC);
        CHECK(strstr(err.text, "arch 7") != NULL);
        c = small_cfg(NR_PRED_RELATIVISTIC);
        c.lr = -1;
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 10, &p, &err) == NR_ERR_INVALID);
        CHECK(strstr(err.text, "lr") != NULL);
        c = small_cfg(NR_PRED_RELATIVISTIC);
        c.folds = 5;
        nr_arch same[6];
        for (int i = 0; i < 6; i++) same[i] = g_arch[0];
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, same, g_valid, NULL, 6, &p, &err) == NR_ERR_INVALID);
        CHECK(strstr(err.text, "isomorphism classes") != NULL);
        nr_arch bad[5];
        memcpy(bad, g_arch, sizeof bad);
        bad[2].op[3] = 9;
        c = small_cfg(NR_PRED_RELATIVISTIC);
        c.folds = 0;
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, bad, g_valid, NULL, 5, &p, &err) == NR_ERR_INVALID);
        unsigned mask;
        CHECK(nr_predictor_features_parse("naswot,params", &mask, NULL) == NR_OK && mask == 3);
        CHECK(nr_predictor_features_parse("none", &mask, NULL) == NR_OK && mask == 0);
        CHECK(nr_predictor_features_parse("params,bogus", &mask, NULL) == NR_ERR_INVALID);
        CHECK(nr_predictor_features_parse("flops,flops", &mask, NULL) == NR_ERR_INVALID);
        nr_predictor_kind k;
        CHECK(nr_predictor_kind_parse("relativistic", &k, NULL) == NR_OK && k == NR_PRED_RELATIVISTIC);
        CHECK(nr_predictor_kind_parse("gcn", &k, NULL) == NR_ERR_INVALID);
    }
}

/* Replace the first occurrence of `from` in text by `to`; new string. */
static char *replace(const char *text, const char *from, const char *to)
{
    const char *p = strstr(text, from);
    if (!p) return NULL;
    size_t a = (size_t)(p - text), nf = strlen(from), nt = strlen(to), n = strlen(text);
    char *out = malloc(n - nf + nt + 1);
    memcpy(out, text, a);
    memcpy(out + a, to, nt);
    memcpy(out + a + nt, p + nf, n - a - nf + 1);
    return out;
}

/* Loading this text must fail with code `code`, the file name, and `what` in the message. */
static void expect_bad(const char *name, const char *text, size_t n, nr_status code, const char *what)
{
    char path[128];
    tmp_path(path, sizeof path, name);
    write_file(path, text, n);
    nr_predictor *p = (nr_predictor *)path;
    nr_error err = {0};
    nr_status st = nr_predictor_load(path, &p, &err);
    CHECK_MSG(st == code, "%s: status %d, wanted %d (%s)", name, (int)st, (int)code, err.text);
    CHECK_MSG(p == NULL, "%s: out not NULL", name);
    CHECK_MSG(strcmp(err.source, path) == 0, "%s: error source '%s'", name, err.source);
    CHECK_MSG(strstr(err.text, what) != NULL, "%s: message '%s' lacks '%s'", name, err.text, what);
    if (st == NR_OK) nr_predictor_free(p);
}

#define BAD_EDIT_OF(base, name, from, to, code, what)          \
    t = replace(base, from, to);                                \
    CHECK_MSG(t != NULL, "edit for %s not applicable", name);   \
    if (t) expect_bad(name, t, strlen(t), code, what);          \
    free(t);
#define BAD_EDIT(name, from, to, code, what) BAD_EDIT_OF(good, name, from, to, code, what)

static void test_files(void)
{
    char path[128], path2[128];
    tmp_path(path, sizeof path, "model.json");
    tmp_path(path2, sizeof path2, "model2.json");
    for (int kind = 0; kind < 2; kind++)
        TEST(kind ? "save/load round trip: relativistic, bit-identical predictions"
                  : "save/load round trip: comparator, bit-identical predictions")
        {
            nr_predictor_config c = small_cfg((nr_predictor_kind)kind);
            c.features = NR_FEAT_NASWOT | NR_FEAT_PARAMS | NR_FEAT_FLOPS;
            c.head_hidden = kind ? 0 : 6;
            c.adjacency = kind ? NR_ADJ_NORMALISED : NR_ADJ_PLAIN;
            nr_predictor *p = NULL, *q = NULL;
            nr_error err = {0};
            CHECK(nr_predictor_train(&c, g_arch + 500, g_valid + 500, g_fake_naswot + 500, 64, &p, &err) == NR_OK);
            if (!p) continue;
            CHECK(nr_predictor_save(p, path, &err) == NR_OK);
            CHECK(nr_predictor_load(path, &q, &err) == NR_OK);
            if (!q) continue;
            enum { M = 300 };
            double s1[M], s2[M];
            CHECK(nr_predictor_predict(p, g_arch + 2000, g_fake_naswot + 2000, M, s1, &err) == NR_OK);
            CHECK(nr_predictor_predict(q, g_arch + 2000, g_fake_naswot + 2000, M, s2, &err) == NR_OK);
            CHECK(same_doubles(s1, s2, M));
            const nr_predictor_config *a = nr_predictor_get_config(p), *b = nr_predictor_get_config(q);
            CHECK(a->kind == b->kind && a->embed_dim == b->embed_dim && a->layers == b->layers &&
                  a->head_hidden == b->head_hidden && a->adjacency == b->adjacency && a->prune == b->prune &&
                  a->features == b->features && a->lr == b->lr && a->seed == b->seed && a->ensemble == b->ensemble);
            nr_predictor_info ia, ib;
            nr_predictor_get_info(p, &ia);
            nr_predictor_get_info(q, &ib);
            CHECK(ia.n_train == ib.n_train && ia.holdout_tau == ib.holdout_tau && ia.best_epoch[1] == ib.best_epoch[1]);
            /* saving the loaded model gives the same file */
            CHECK(nr_predictor_save(q, path2, &err) == NR_OK);
            size_t n1 = 0, n2 = 0;
            char *t1 = read_file(path, &n1), *t2 = read_file(path2, &n2);
            CHECK(t1 && t2 && n1 == n2 && memcmp(t1, t2, n1) == 0);
            free(t1), free(t2);
            /* a -inf NASWOT score is mapped to the stored floor, not NaN */
            nr_arch one = g_arch[7];
            double ninf = -INFINITY, s = NAN;
            CHECK(nr_predictor_predict(q, &one, &ninf, 1, &s, &err) == NR_OK && isfinite(s));
            double nan_score = NAN;
            nr_error_clear(&err);
            CHECK(nr_predictor_predict(q, &one, &nan_score, 1, &s, &err) == NR_ERR_NUMERIC);
            nr_error_clear(&err);
            CHECK(nr_predictor_predict(q, &one, NULL, 1, &s, &err) == NR_ERR_INVALID);
            nr_predictor_free(p);
            nr_predictor_free(q);
        }

    TEST("bad model files give clear errors")
    {
        /* a valid small comparator file as the base for corruptions */
        nr_predictor_config c = small_cfg(NR_PRED_COMPARATOR);
        c.features = NR_FEAT_PARAMS;
        nr_predictor *p = NULL;
        CHECK(nr_predictor_train(&c, g_arch, g_valid, NULL, 40, &p, NULL) == NR_OK);
        CHECK(p && nr_predictor_save(p, path, NULL) == NR_OK);
        nr_predictor_free(p);
        size_t n = 0;
        char *good = read_file(path, &n);
        CHECK(good != NULL);
        if (!good) return;
        char *t;
        expect_bad("trunc.json", good, n / 2, NR_ERR_PARSE, "invalid JSON");
        expect_bad("trunc1.json", good, 1, NR_ERR_PARSE, "invalid JSON");
        expect_bad("empty.json", "", 0, NR_ERR_PARSE, "invalid JSON");
        expect_bad("array.json", "[1, 2]", 6, NR_ERR_INVALID, "JSON object");
        expect_bad("other.json", "{\"format\": \"something\"}", 23, NR_ERR_INVALID, "not a nasrank predictor");
        BAD_EDIT("version.json", "\"version\": 1", "\"version\": 2", NR_ERR_INVALID, "unsupported format version 2");
        BAD_EDIT("version_str.json", "\"version\": 1", "\"version\": \"1\"", NR_ERR_INVALID, "version");
        BAD_EDIT("kind.json", "\"kind\": \"comparator\"", "\"kind\": \"regressor\"", NR_ERR_INVALID, "unknown model kind");
        /* a relativistic head has F weights, the comparator's file 2F: mismatched */
        BAD_EDIT("kind_mismatch.json", "\"kind\": \"comparator\"", "\"kind\": \"relativistic\"", NR_ERR_INVALID,
                 "head.w: expected");
        BAD_EDIT("dims.json", "\"embed_dim\": 8", "\"embed_dim\": 9", NR_ERR_INVALID, "members[0].embedding: expected 63 numbers, got 56");
        BAD_EDIT("layers.json", "\"layers\": 2", "\"layers\": 3", NR_ERR_INVALID, "expected 3 layers");
        BAD_EDIT("ens.json", "\"ensemble\": 2", "\"ensemble\": 3", NR_ERR_INVALID, "members: expected 3");
        BAD_EDIT("nomember.json", "\"score_mean\"", "\"score_mean_x\"", NR_ERR_INVALID, "missing field 'members[0].score_mean'");
        BAD_EDIT("noconfig.json", "\"config\"", "\"konfig\"", NR_ERR_INVALID, "missing field 'config'");
        BAD_EDIT("nolr.json", "\"lr\"", "\"learning_rate\"", NR_ERR_INVALID, "missing field 'config.lr'");
        BAD_EDIT("badfeat.json", "\"params\"", "\"latency\"", NR_ERR_INVALID, "features.names[0]");
        BAD_EDIT("featlen.json", "\"names\": [\n   \"params\"\n  ]", "\"names\": []", NR_ERR_INVALID, "features.mean: expected 0 numbers, got 1");
        BAD_EDIT("badadj.json", "\"plain\"", "\"laplacian\"", NR_ERR_INVALID, "config.adjacency");
        BAD_EDIT("badlr.json", "\"lr\": ", "\"lr\": -", NR_ERR_INVALID, "config: lr");
        BAD_EDIT("nullw.json", "\"W\": [\n     ", "\"W\": [\n     null, ", NR_ERR_INVALID, "gcn[0].W: expected 64 numbers, got 65");
        BAD_EDIT("stringw.json", "\"b\": [\n     ", "\"b\": [\n     \"nan\", ", NR_ERR_INVALID, "gcn[0].b: expected 8 numbers, got 9");
        /* NaN cannot be written in JSON; the nearest things are rejected */
        {
            const char *w = strstr(good, "\"W\": [\n     ");
            if (w) {
                const char *num = w + strlen("\"W\": [\n     ");
                size_t len = strcspn(num, ",\n");
                char from[64];
                snprintf(from, sizeof from, "\"W\": [\n     %.*s", (int)len, num);
                BAD_EDIT("nanw.json", from, "\"W\": [\n     NaN", NR_ERR_PARSE, "invalid JSON");
                BAD_EDIT("hugew.json", from, "\"W\": [\n     1e999", NR_ERR_PARSE, "invalid JSON");
                BAD_EDIT("stringw2.json", from, "\"W\": [\n     \"nan\"", NR_ERR_INVALID, "gcn[0].W[0]: expected a finite number, got a string");
                BAD_EDIT("nullw2.json", from, "\"W\": [\n     null", NR_ERR_INVALID, "gcn[0].W[0]: expected a finite number, got null");
            }
        }
        BAD_EDIT("dupkey.json", "\"version\": 1", "\"version\": 1, \"version\": 1", NR_ERR_PARSE, "duplicate");
        free(good);
        nr_error err = {0};
        tmp_path(path2, sizeof path2, "does-not-exist.json");
        nr_predictor *q = NULL;
        CHECK(nr_predictor_load(path2, &q, &err) == NR_ERR_IO && q == NULL && strcmp(err.source, path2) == 0);
        nr_error_clear(&err);
        CHECK(nr_predictor_load(tmpdir, &q, &err) != NR_OK && q == NULL); /* a directory */
        nr_error_clear(&err);
        CHECK(nr_predictor_parse("{", 1, "buf", &q, &err) == NR_ERR_PARSE && err.line == 1 && !strcmp(err.source, "buf"));
    }
    TEST("every truncation of a model file fails cleanly")
    {
        size_t n = 0;
        char *good = read_file(path, &n);
        int all_fail = 1;
        for (size_t k = 0; good && k < n - 2; k += 97) { /* the last 2 bytes are "}\n" */
            nr_predictor *q = NULL;
            nr_error err = {0};
            if (nr_predictor_parse(good, k, "trunc", &q, &err) == NR_OK || q != NULL || err.code == NR_OK) all_fail = 0;
            nr_predictor_free(q);
        }
        CHECK(all_fail);
        free(good);
    }
}


/* ---- proxy score features ---- */

/* Fake proxy values for arch i (benchmark index), correlated with nothing in particular but
 * spanning the ranges `nasrank score` gives: synflow 1e0..1e40 (0 for i % 41 == 3), snip
 * 0.1..100, grasp signed, jacob_cov around -70 (-inf for i % 53 == 7). */
static void fake_proxies(int i, double *synflow, double *snip, double *grasp, double *jacob)
{
    double u = (double)((i * 7919) % 1000) / 1000.0, w = (double)((i * 104729) % 997) / 997.0;
    *synflow = i % 41 == 3 ? 0.0 : pow(10.0, 40.0 * u);
    *snip = 0.1 * pow(1000.0, w);
    *grasp = (u - 0.5) * 200.0 * w;
    *jacob = i % 53 == 7 ? -INFINITY : -70.0 + 5.0 * (u - w);
}

/* The expected predictions of tests/fixtures/model_v1_naswot.json (a model file written before
 * the proxy features existed: relativistic, naswot + params + flops, dim 4, 2 layers, hidden 5,
 * 2 members, 5 epochs, batch 16, no folds, trained on benchmark indices 100 + 37 i, i < 40,
 * with naswot 1400 + 7.25 (i % 13) + 0.5 i, -inf for i % 9 == 4) for benchmark indices
 * 5000 + 111 i, i < 8, with naswot 1380 + 9.5 i (-inf for i = 3): printed with %a by that
 * version of nasrank. */
static const double v1_expected[8] = {0x1.44163f1a50032p+0, 0x1.a46aae7bb4b16p-1, 0x1.9fee4bb8e5c2p-2,
                                      0x1.8846c5adaaeb5p-1, 0x1.03a500d1c04bap+0, 0x1.d0f0e6c9ef1f6p-1,
                                      0x1.faefac4010678p-6, -0x1.218f957f71924p+0};

static void test_score_features(void)
{
    TEST("feature names, masks and the score-column order")
    {
        unsigned mask = 0;
        CHECK(nr_predictor_features_parse("jacob_cov,params,synflow,naswot", &mask, NULL) == NR_OK);
        CHECK(mask == (NR_FEAT_JACOB_COV | NR_FEAT_PARAMS | NR_FEAT_SYNFLOW | NR_FEAT_NASWOT));
        CHECK(nr_predictor_num_score_features(mask) == 3);
        CHECK(nr_predictor_score_feature(mask, 0) == NR_FEAT_NASWOT && nr_predictor_score_feature(mask, 1) == NR_FEAT_SYNFLOW &&
              nr_predictor_score_feature(mask, 2) == NR_FEAT_JACOB_COV && nr_predictor_score_feature(mask, 3) == 0);
        CHECK(nr_predictor_features_parse("snip,grad_norm,grasp,fisher,flops", &mask, NULL) == NR_OK &&
              nr_predictor_num_score_features(mask) == 4);
        CHECK(nr_predictor_num_score_features(NR_FEAT_ALL) == 7 && nr_predictor_num_score_features(NR_FEAT_PARAMS | NR_FEAT_FLOPS) == 0);
        nr_error err = {0};
        CHECK(nr_predictor_features_parse("ensemble", &mask, &err) == NR_ERR_INVALID && strstr(err.text, "jacob_cov"));
        CHECK(!strcmp(nr_predictor_feature_name(NR_FEAT_GRAD_NORM), "grad_norm") && !nr_predictor_feature_name(512));
    }
    TEST("score transforms on hand-made values")
    {
        char why[160];
        double t = 0;
        CHECK(pp_score_transform(NR_FEAT_NASWOT, 1234.5, &t, why, sizeof why) == 0 && t == 1234.5);
        CHECK(pp_score_transform(NR_FEAT_NASWOT, -INFINITY, &t, why, sizeof why) == 0 && t == -INFINITY);
        CHECK(pp_score_transform(NR_FEAT_JACOB_COV, -65.25, &t, why, sizeof why) == 0 && t == -65.25);
        CHECK(pp_score_transform(NR_FEAT_SYNFLOW, 1e40, &t, why, sizeof why) == 0 && t == log(1e40));
        CHECK(pp_score_transform(NR_FEAT_SNIP, 0.0, &t, why, sizeof why) == 0 && t == -INFINITY);
        CHECK(pp_score_transform(NR_FEAT_FISHER, exp(1.0), &t, why, sizeof why) == 0 && t == 1.0);
        CHECK(pp_score_transform(NR_FEAT_GRAD_NORM, 1.0, &t, why, sizeof why) == 0 && t == 0.0);
        CHECK(pp_score_transform(NR_FEAT_GRASP, -(exp(1.0) - 1), &t, why, sizeof why) == 0 && fabs(t + 1.0) < 1e-15);
        CHECK(pp_score_transform(NR_FEAT_GRASP, 0.0, &t, why, sizeof why) == 0 && t == 0.0);
        CHECK(pp_score_transform(NR_FEAT_GRASP, 1e6, &t, why, sizeof why) == 0 && t == log1p(1e6));
        CHECK(pp_score_transform(NR_FEAT_SYNFLOW, -1.0, &t, why, sizeof why) == -1 && strstr(why, "synflow score is -1"));
        CHECK(pp_score_transform(NR_FEAT_SYNFLOW, -INFINITY, &t, why, sizeof why) == -1);
        CHECK(pp_score_transform(NR_FEAT_GRASP, INFINITY, &t, why, sizeof why) == -1 && strstr(why, "grasp score is +inf"));
        CHECK(pp_score_transform(NR_FEAT_JACOB_COV, INFINITY, &t, why, sizeof why) == -1);
        static const unsigned all[] = {NR_FEAT_NASWOT, NR_FEAT_SYNFLOW, NR_FEAT_SNIP, NR_FEAT_GRAD_NORM,
                                       NR_FEAT_GRASP, NR_FEAT_FISHER, NR_FEAT_JACOB_COV};
        for (int k = 0; k < 7; k++) { /* NaN: always an error naming the feature */
            nr_error err = {0};
            CHECK(nr_predictor_check_score(all[k], NAN, &err) == NR_ERR_NUMERIC);
            const char *nm = all[k] == NR_FEAT_NASWOT ? "NASWOT" : nr_predictor_feature_name(all[k]);
            CHECK_MSG(strstr(err.text, nm) && strstr(err.text, "NaN"), "'%s'", err.text);
        }
        CHECK(nr_predictor_check_score(NR_FEAT_PARAMS, 1.0, NULL) == NR_ERR_INVALID);
    }
    TEST("floors and standardisation of proxy features (hand-made values)")
    {
        /* synflow e^0..e^6 and one 0 -> logs 0..6 and -inf: floor = 0 - std(0..6) = -2;
         * jacob_cov -inf, 1, 3, 5, ... : floor = 1 - std(finite); grasp signed log1p */
        enum { N = 8 };
        nr_arch a[N];
        double y[N], sc[N * 3];
        double e6[7];
        for (int i = 0; i < 7; i++) e6[i] = exp((double)i);
        for (int i = 0; i < N; i++) {
            a[i] = g_arch[40 + i];
            y[i] = g_valid[40 + i];
            sc[i * 3 + 0] = i < 7 ? e6[i] : 0.0;                /* synflow */
            sc[i * 3 + 1] = i == 0 ? -5.0 : (double)(i % 3);   /* grasp */
            sc[i * 3 + 2] = i == 0 ? -INFINITY : 2.0 * i - 1;  /* jacob_cov: 1, 3, ..., 13 */
        }
        nr_predictor_config c = small_cfg(NR_PRED_RELATIVISTIC);
        c.features = NR_FEAT_SYNFLOW | NR_FEAT_GRASP | NR_FEAT_JACOB_COV;
        c.folds = 0;
        c.epochs = 2;
        nr_predictor *p = NULL;
        nr_error err = {0};
        CHECK(nr_predictor_train(&c, a, y, sc, N, &p, &err) == NR_OK);
        if (p) {
            CHECK(p->nfeat == 3 && p->nscore == 3);
            CHECK(p->feat_bit[0] == NR_FEAT_SYNFLOW && p->feat_bit[1] == NR_FEAT_GRASP && p->feat_bit[2] == NR_FEAT_JACOB_COV);
            CHECK_NEAR(p->feat_floor[0], 0.0 - 2.0, 1e-12);            /* std of 0..6 = 2 */
            CHECK_NEAR(p->feat_floor[2], 1.0 - sqrt(16.0), 1e-12);     /* std of 1,3,..,13 = 4 */
            double mn = -log1p(5.0), s = mn, ss;
            for (int i = 1; i < N; i++) s += log1p((double)(i % 3));
            double mean = s / N;
            CHECK_NEAR(p->feat_mean[1], mean, 1e-12);
            ss = (mn - mean) * (mn - mean);
            for (int i = 1; i < N; i++) ss += (log1p((double)(i % 3)) - mean) * (log1p((double)(i % 3)) - mean);
            CHECK_NEAR(p->feat_std[1], sqrt(ss / N), 1e-12);
            CHECK_NEAR(p->feat_floor[1], mn - sqrt(ss / N), 1e-12); /* grasp: no -inf; the floor is still stored */
            /* synflow mean over 0..6 and the floor -2: (21 - 2) / 8 */
            CHECK_NEAR(p->feat_mean[0], 19.0 / 8.0, 1e-12);
            /* the standardised inputs of a new arch: synflow 0 -> floor; jacob_cov -inf -> floor */
            double row[3] = {0.0, -(exp(1.0) - 1), -INFINITY}, x[3];
            CHECK(pp_features(p, &g_arch[99], row, x, 0, &err) == NR_OK);
            CHECK_NEAR(x[0], (-2.0 - p->feat_mean[0]) / p->feat_std[0], 1e-12);
            CHECK_NEAR(x[1], (-1.0 - p->feat_mean[1]) / p->feat_std[1], 1e-12);
            CHECK_NEAR(x[2], (p->feat_floor[2] - p->feat_mean[2]) / p->feat_std[2], 1e-12);
            row[0] = exp(3.0);
            CHECK(pp_features(p, &g_arch[99], row, x, 0, &err) == NR_OK);
            CHECK_NEAR(x[0], (3.0 - p->feat_mean[0]) / p->feat_std[0], 1e-12);
            /* NaN and a negative synflow are refused, naming the arch and the feature */
            row[0] = NAN;
            nr_error_clear(&err);
            double out;
            CHECK(nr_predictor_predict(p, &g_arch[99], row, 1, &out, &err) == NR_ERR_NUMERIC && strstr(err.text, "synflow score is NaN"));
            row[0] = 1, row[2] = NAN;
            nr_error_clear(&err);
            CHECK(nr_predictor_predict(p, &g_arch[99], row, 1, &out, &err) == NR_ERR_NUMERIC && strstr(err.text, "jacob_cov score is NaN"));
        }
        nr_predictor_free(p);
        /* NaN in training names the arch and the feature */
        sc[5 * 3 + 1] = NAN;
        nr_error_clear(&err);
        p = NULL;
        CHECK(nr_predictor_train(&c, a, y, sc, N, &p, &err) == NR_ERR_NUMERIC && p == NULL);
        CHECK_MSG(strstr(err.text, "arch 5") && strstr(err.text, "grasp score is NaN"), "'%s'", err.text);
        nr_error_clear(&err);
        CHECK(nr_predictor_train(&c, a, y, NULL, N, &p, &err) == NR_ERR_INVALID && strstr(err.text, "synflow"));
    }
    TEST("training and prediction with proxy features use them, in bit order")
    {
        enum { N = 64, M = 200 };
        nr_arch *a = g_arch + 300, *b = g_arch + 4000;
        double *sc = malloc(N * 3 * sizeof *sc), *sb = malloc(M * 3 * sizeof *sb);
        double s1[M], s2[M], s3[M];
        for (int i = 0; i < N; i++) fake_proxies(300 + i, &sc[i * 3 + 1], &sc[i * 3 + 2], &s1[0], &sc[i * 3]);
        for (int i = 0; i < M; i++) fake_proxies(4000 + i, &sb[i * 3 + 1], &sb[i * 3 + 2], &s1[0], &sb[i * 3]);
        /* columns: naswot? no: jacob_cov is bit 256, synflow 8, snip 16 -> order synflow, snip, jacob_cov */
        for (int i = 0; i < N; i++) {
            double j = sc[i * 3];
            sc[i * 3] = sc[i * 3 + 1], sc[i * 3 + 1] = sc[i * 3 + 2], sc[i * 3 + 2] = j;
        }
        for (int i = 0; i < M; i++) {
            double j = sb[i * 3];
            sb[i * 3] = sb[i * 3 + 1], sb[i * 3 + 1] = sb[i * 3 + 2], sb[i * 3 + 2] = j;
        }
        nr_predictor_config c = small_cfg(NR_PRED_COMPARATOR);
        c.features = NR_FEAT_JACOB_COV | NR_FEAT_SNIP | NR_FEAT_SYNFLOW | NR_FEAT_FLOPS;
        nr_predictor *p = NULL;
        nr_error err = {0};
        CHECK(nr_predictor_train(&c, a, g_valid + 300, sc, N, &p, &err) == NR_OK);
        if (p) {
            CHECK(p->nfeat == 4 && p->feat_bit[0] == NR_FEAT_FLOPS && p->feat_col[0] == -1 && p->feat_col[1] == 0 &&
                  p->feat_col[3] == 2);
            /* a synflow input that shows in x: log(synflow) standardised, at input 1 */
            double x[4];
            CHECK(pp_features(p, &b[0], sb, x, 0, &err) == NR_OK);
            CHECK_NEAR(x[1], (log(sb[0]) - p->feat_mean[1]) / p->feat_std[1], 1e-12);
            CHECK_NEAR(x[2], (log(sb[1]) - p->feat_mean[2]) / p->feat_std[2], 1e-12);
            CHECK(nr_predictor_predict(p, b, sb, M, s1, &err) == NR_OK);
            int finite = 1;
            for (int i = 0; i < M; i++) finite &= isfinite(s1[i]);
            CHECK(finite);
            /* the features matter: other synflow values give other predictions */
            for (int i = 0; i < M; i++) sb[i * 3] *= 1e10;
            CHECK(nr_predictor_predict(p, b, sb, M, s2, &err) == NR_OK);
            CHECK(!same_doubles(s1, s2, M));
            /* compare agrees with predict: P(a beats b) > 1/2 iff s(a) > s(b) for one member */
            double pr = NAN;
            CHECK(nr_predictor_compare(p, &b[0], sb, &b[1], sb + 3, &pr, &err) == NR_OK && pr > 0 && pr < 1);
            CHECK(nr_predictor_compare(p, &b[0], NULL, &b[1], sb + 3, &pr, &err) == NR_ERR_INVALID);
            nr_error_clear(&err);
            CHECK(nr_predictor_predict(p, b, NULL, M, s3, &err) == NR_ERR_INVALID && strstr(err.text, "synflow"));
        }
        nr_predictor_free(p);
        free(sc), free(sb);
    }
    TEST("save/load round trip with proxy features: bit-identical predictions, floors stored")
    {
        char path[128], path2[128];
        tmp_path(path, sizeof path, "proxies.json");
        tmp_path(path2, sizeof path2, "proxies2.json");
        enum { N = 80, M = 300 };
        double *sc = malloc(N * 4 * sizeof *sc), *sb = malloc(M * 4 * sizeof *sb), s1[M], s2[M];
        for (int i = 0; i < N; i++) fake_proxies(700 + i, &sc[i * 4 + 0], &sc[i * 4 + 1], &sc[i * 4 + 2], &sc[i * 4 + 3]);
        for (int i = 0; i < M; i++) fake_proxies(6000 + i, &sb[i * 4 + 0], &sb[i * 4 + 1], &sb[i * 4 + 2], &sb[i * 4 + 3]);
        nr_predictor_config c = small_cfg(NR_PRED_RELATIVISTIC);
        c.features = NR_FEAT_SYNFLOW | NR_FEAT_SNIP | NR_FEAT_GRASP | NR_FEAT_JACOB_COV | NR_FEAT_PARAMS;
        nr_predictor *p = NULL, *q = NULL;
        nr_error err = {0};
        CHECK(nr_predictor_train(&c, g_arch + 700, g_valid + 700, sc, N, &p, &err) == NR_OK);
        CHECK(p && nr_predictor_save(p, path, &err) == NR_OK);
        CHECK(nr_predictor_load(path, &q, &err) == NR_OK);
        if (p && q) {
            CHECK(nr_predictor_get_config(q)->features == c.features);
            for (int k = 0; k < p->nfeat; k++)
                CHECK(p->feat_floor[k] == q->feat_floor[k] && p->feat_mean[k] == q->feat_mean[k]);
            CHECK(p->feat_floor[1] != 0 && p->feat_floor[4] != 0); /* synflow, jacob_cov saw 0 / -inf */
            CHECK(nr_predictor_predict(p, g_arch + 6000, sb, M, s1, &err) == NR_OK);
            CHECK(nr_predictor_predict(q, g_arch + 6000, sb, M, s2, &err) == NR_OK);
            CHECK(same_doubles(s1, s2, M));
            CHECK(nr_predictor_save(q, path2, &err) == NR_OK);
            size_t n1 = 0, n2 = 0;
            char *t1 = read_file(path, &n1), *t2 = read_file(path2, &n2);
            CHECK(t1 && t2 && n1 == n2 && memcmp(t1, t2, n1) == 0);
            CHECK(t1 && strstr(t1, "\"floors\"") && strstr(t1, "\"jacob_cov\""));
            if (t1) { /* bad edits of this file */
                char *t;
                BAD_EDIT_OF(t1, "unknown_proxy.json", "\"synflow\"", "\"synflop\"", NR_ERR_INVALID,
                         "features.names[1]: \"synflop\": expected one of");
                BAD_EDIT_OF(t1, "dup_proxy.json", "\"snip\"", "\"synflow\"", NR_ERR_INVALID, "each at most once");
                const char *fl = strstr(t1, "\"floors\": [\n   0.0,");
                CHECK(fl != NULL);
                BAD_EDIT_OF(t1, "floors_short.json", "\"floors\": [\n   0.0,", "\"floors\": [", NR_ERR_INVALID,
                         "features.floors: expected 5 numbers, got 4");
                BAD_EDIT_OF(t1, "floors_long.json", "\"floors\": [\n   0.0,", "\"floors\": [\n   0.0, 1.0,", NR_ERR_INVALID,
                         "features.floors: expected 5 numbers, got 6");
                BAD_EDIT_OF(t1, "floors_params.json", "\"floors\": [\n   0.0,", "\"floors\": [\n   2.5,", NR_ERR_INVALID,
                         "features.floors[0] must be 0 for the computed feature params");
                BAD_EDIT_OF(t1, "floors_type.json", "\"floors\": [", "\"floors\": 3, \"x\": [", NR_ERR_INVALID,
                         "field 'features.floors' must be an array");
                /* only NASWOT-only models predate "floors" (a proxy feature without one would
                 * silently get floor 0) */
                BAD_EDIT_OF(t1, "floors_missing.json", "\"floors\": [", "\"floorz\": [", NR_ERR_INVALID,
                         "the proxy feature synflow needs 'floors'");
            }
            free(t1), free(t2);
        }
        nr_predictor_free(p), nr_predictor_free(q);
        free(sc), free(sb);
    }
    TEST("a model file written before the proxy features loads and predicts bit for bit as before")
    {
        nr_predictor *q = NULL;
        nr_error err = {0};
        const char *path = NR_SOURCE_DIR "/tests/fixtures/model_v1_naswot.json";
        nr_arch b[8];
        double bn[8], s[8], s2[8];
        for (int i = 0; i < 8; i++) {
            b[i] = nr_table_by_index(g_table, 5000 + 111 * i)->arch;
            bn[i] = i == 3 ? -INFINITY : 1380 + 9.5 * i;
        }
        CHECK_MSG(nr_predictor_load(path, &q, &err) == NR_OK, "%s", err.text);
        if (q) {
            CHECK(nr_predictor_get_config(q)->features == (NR_FEAT_NASWOT | NR_FEAT_PARAMS | NR_FEAT_FLOPS));
            CHECK(q->feat_floor[0] == 1370.2688876223933 && q->feat_floor[1] == 0 && q->feat_floor[2] == 0);
            CHECK(nr_predictor_predict(q, b, bn, 8, s, &err) == NR_OK);
            CHECK(same_doubles(s, v1_expected, 8));
        }
        /* and training it again gives the same model */
        nr_arch a[40];
        double y[40], nw[40];
        for (int i = 0; i < 40; i++) {
            const nr_table_row *r = nr_table_by_index(g_table, 100 + 37 * i);
            a[i] = r->arch;
            y[i] = nr_table_acc(r, NR_DS_CIFAR10_VALID, NR_METRIC_VALID, 200);
            nw[i] = i % 9 == 4 ? -INFINITY : 1400 + 7.25 * (i % 13) + 0.5 * i;
        }
        nr_predictor_config c = nr_predictor_config_default(NR_PRED_RELATIVISTIC);
        c.features = 7, c.embed_dim = 4, c.layers = 2, c.head_hidden = 5, c.ensemble = 2, c.folds = 0, c.epochs = 5, c.batch = 16;
        nr_predictor *p = NULL;
        CHECK(nr_predictor_train(&c, a, y, nw, 40, &p, &err) == NR_OK);
        if (p) {
            CHECK(nr_predictor_predict(p, b, bn, 8, s2, &err) == NR_OK);
            CHECK(same_doubles(s2, v1_expected, 8));
        }
        nr_predictor_free(p), nr_predictor_free(q);
    }
}

static void test_scores_file(void)
{
    char path[128];
    TEST("NASWOT scores files: CSV and partial")
    {
        double *nw = malloc(NR_NUM_ARCHS * sizeof *nw);
        size_t cnt = 0;
        tmp_path(path, sizeof path, "scores.csv");
        const char *csv = "arch,naswot,params\n" ARCH_BEST ",1650.5,1\n" ARCH_DEAD1 ",-inf,2\n" ARCH_BEST ",1650.5,1\n";
        write_file(path, csv, strlen(csv));
        nr_arch a = arch_of(ARCH_BEST), d = arch_of(ARCH_DEAD1);
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, NULL) == NR_OK && cnt == 2);
        CHECK(nw[nr_arch_to_id(&a)] == 1650.5 && nw[nr_arch_to_id(&d)] == -INFINITY && isnan(nw[0]));
        const char *conflict = "arch,naswot\n" ARCH_BEST ",1650.5\n" ARCH_BEST ",1651\n";
        write_file(path, conflict, strlen(conflict));
        nr_error err = {0};
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, &err) == NR_ERR_INVALID && err.line == 3);
        const char *nan = "arch,naswot\n" ARCH_BEST ",nan\n";
        write_file(path, nan, strlen(nan));
        nr_error_clear(&err);
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, &err) == NR_ERR_NUMERIC && err.line == 2 && err.column == 2);
        const char *nocol = "arch,score\n" ARCH_BEST ",1\n";
        write_file(path, nocol, strlen(nocol));
        nr_error_clear(&err);
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, &err) == NR_ERR_INVALID && strstr(err.text, "'naswot'"));
        const char *byindex = "index,naswot\n0,12.5\n";
        write_file(path, byindex, strlen(byindex));
        nr_error_clear(&err);
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, &err) == NR_ERR_INVALID); /* needs the table */
        CHECK(nr_naswot_scores_read(path, g_table, nw, &cnt, NULL) == NR_OK && cnt == 1 &&
              nw[nr_arch_to_id(&g_arch[0])] == 12.5);
        tmp_path(path, sizeof path, "scores.partial");
        const char *part = "# nasrank score partial v1 seed=1 batch=128\n5,100.25,1,77,0.1\n6,-inf,0,77,0.1\n7,3";
        write_file(path, part, strlen(part));
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, NULL) == NR_OK && cnt == 2 && nw[5] == 100.25 &&
              nw[6] == -INFINITY && isnan(nw[7])); /* torn last line ignored */
        const char *badpart = "# nasrank score partial v1\n5,100.25,1,77,0.1\nx,1,1,1,1\n";
        write_file(path, badpart, strlen(badpart));
        nr_error_clear(&err);
        CHECK(nr_naswot_scores_read(path, NULL, nw, &cnt, &err) == NR_ERR_PARSE && err.line == 3);
        free(nw);
    }
    TEST("proxy score columns by name: CSV and v2 partial files")
    {
        unsigned mask = NR_FEAT_SYNFLOW | NR_FEAT_JACOB_COV | NR_FEAT_NASWOT;
        double *v = malloc((size_t)NR_NUM_ARCHS * 3 * sizeof *v);
        size_t cnt = 0;
        nr_error err = {0};
        nr_arch a = arch_of(ARCH_BEST), d = arch_of(ARCH_DEAD1);
        int ia = nr_arch_to_id(&a), id = nr_arch_to_id(&d);
        tmp_path(path, sizeof path, "proxies.csv");
        /* columns in another order than the bit order, an extra column, a keep-going row */
        const char *csv = "jacob_cov,arch,synflow,naswot,params\n-65.5," ARCH_BEST ",1e30,1650.5,1\n"
                          "-inf," ARCH_DEAD1 ",0,-inf,2\n," ARCH_DEAD1 ",,,2\n";
        write_file(path, csv, strlen(csv));
        CHECK(nr_feature_scores_read(path, NULL, mask, v, &cnt, &err) == NR_OK && cnt == 2);
        CHECK(v[ia * 3 + 0] == 1650.5 && v[ia * 3 + 1] == 1e30 && v[ia * 3 + 2] == -65.5);
        CHECK(v[id * 3 + 0] == -INFINITY && v[id * 3 + 1] == 0 && v[id * 3 + 2] == -INFINITY && isnan(v[0]));
        /* a missing column: the file and the column named */
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_SYNFLOW | NR_FEAT_SNIP, v, &cnt, &err) == NR_ERR_INVALID);
        CHECK_MSG(!strcmp(err.source, path) && strstr(err.text, "no 'snip' column") && strstr(err.text, "--proxy snip"), "'%s'", err.text);
        /* NaN and a negative synflow: FILE:LINE:COL and the feature */
        const char *nan = "arch,synflow\n" ARCH_BEST ",nan\n";
        write_file(path, nan, strlen(nan));
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_SYNFLOW, v, &cnt, &err) == NR_ERR_NUMERIC && err.line == 2 &&
              err.column == 2 && strstr(err.text, "synflow score is NaN"));
        const char *neg = "arch,synflow\n" ARCH_BEST ",-3\n";
        write_file(path, neg, strlen(neg));
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_SYNFLOW, v, &cnt, &err) == NR_ERR_NUMERIC && strstr(err.text, "synflow score is -3"));
        /* v2 partial: "id,seconds" then "value,seconds" per proxy of the header */
        tmp_path(path, sizeof path, "proxies.partial");
        const char *part = "# nasrank score partial v2 seed=1 batch=128 proxy_batch=64 dataset=cifar10 variant=reference "
                           "proxies=naswot,synflow,grasp,jacob_cov images=x.bin\n"
                           "5,0.5,1500.25,0.1,3e20,0.2,-7.5,0.1,-66,0.1\n"
                           "6,0.5,-inf,0.1,0,0.2,0,0.1,-inf,0.1\n7,0.5,12";
        write_file(path, part, strlen(part));
        CHECK(nr_feature_scores_read(path, NULL, mask, v, &cnt, &err) == NR_OK && cnt == 2);
        CHECK(v[5 * 3 + 0] == 1500.25 && v[5 * 3 + 1] == 3e20 && v[5 * 3 + 2] == -66 && isnan(v[7 * 3]));
        CHECK(v[6 * 3 + 0] == -INFINITY && v[6 * 3 + 1] == 0 && v[6 * 3 + 2] == -INFINITY);
        double g[NR_NUM_ARCHS];
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_GRASP, g, &cnt, &err) == NR_OK && g[5] == -7.5 && cnt == 2);
        CHECK(nr_naswot_scores_read(path, NULL, g, &cnt, &err) == NR_OK && g[5] == 1500.25); /* not the seconds */
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_FISHER, g, &cnt, &err) == NR_ERR_INVALID &&
              strstr(err.text, "no 'fisher' column") && strstr(err.text, "naswot,synflow,grasp,jacob_cov"));
        const char *badv2 = "# nasrank score partial v2 proxies=naswot,synflow images=x\n5,0.5,1500.25,0.1\n";
        write_file(path, badv2, strlen(badv2));
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_SYNFLOW, g, &cnt, &err) == NR_ERR_PARSE && err.line == 2);
        /* a v1 partial holds NASWOT only */
        const char *v1 = "# nasrank score partial v1 seed=1 batch=128\n5,100.25,1,77,0.1\n";
        write_file(path, v1, strlen(v1));
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_SYNFLOW, g, &cnt, &err) == NR_ERR_INVALID &&
              strstr(err.text, "no 'synflow' column"));
        /* hostile partial files (found in review): a line starting with a NUL byte (read
         * line[-1] once), a v2 line with too few fields (read past its end), a v2 line under
         * a v1 header or an unversioned header (its seconds column passed off as NASWOT) */
        static const struct { const char *data; size_t n; long line; const char *what; } hostile[] = {
            {"# nasrank score partial v1 seed=1\n5,100.25,1,77,0.1\n\0\n", 54, 3, "NUL byte"},
            {"# nasrank score partial v2 proxies=naswot images=x\n5,0.5,1500.25,0.1\n\0x\n", 72, 3, "NUL byte"},
            {"# nasrank score partial v2 proxies=synflow,jacob_cov images=x\n5,1.0\n", 0, 2, "expected 'id,seconds'"},
            {"# nasrank score partial v2 proxies=synflow,jacob_cov images=x\n5,1.0,7,0.1\n", 0, 2, "expected 'id,seconds'"},
            {"# nasrank score partial v1 seed=1\n5,0.1,1500.25,0.1\n", 0, 2, "expected 'id,naswot,sign,units,seconds'"},
            {"# nasrank score partial v1 seed=1\n5,0.1,1,77,0.1,9\n", 0, 2, "expected 'id,naswot,sign,units,seconds'"},
            {"# nasrank score partial seed=1\n5,100.25,1,77,0.1\n", 0, 1, "unknown partial-results format"},
        };
        for (size_t h = 0; h < sizeof hostile / sizeof *hostile; h++) {
            size_t n = hostile[h].n ? hostile[h].n : strlen(hostile[h].data);
            unsigned m = strstr(hostile[h].data, "synflow,") ? NR_FEAT_SYNFLOW : NR_FEAT_NASWOT;
            write_file(path, hostile[h].data, n);
            nr_error_clear(&err);
            CHECK_MSG(nr_feature_scores_read(path, NULL, m, v, &cnt, &err) == NR_ERR_PARSE && err.line == hostile[h].line &&
                          strstr(err.text, hostile[h].what),
                      "hostile partial %zu: line %ld '%s'", h, err.line, err.text);
        }
        /* a score so large its standardisation would overflow: refused at its cell */
        tmp_path(path, sizeof path, "huge.csv");
        const char *huge = "arch,naswot\n" ARCH_BEST ",1e308\n";
        write_file(path, huge, strlen(huge));
        nr_error_clear(&err);
        CHECK(nr_feature_scores_read(path, NULL, NR_FEAT_NASWOT, v, &cnt, &err) == NR_ERR_NUMERIC && err.line == 2 &&
              strstr(err.text, "magnitude above 1e100"));
        free(v);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nr_test_pred_XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    test_layers();
    test_full();
    test_graph();
    nr_error err = {0};
    if (nr_table_load(NULL, &g_table, &err) != NR_OK) {
        char b[1024];
        fprintf(stderr, "test_predictor: cannot load the table: %s\n", nr_error_format(&err, b, sizeof b));
        CHECK(0);
        return TEST_REPORT();
    }
    nr_rng r = nr_rng_seeded(99);
    for (long i = 0; i < NR_NUM_ARCHS; i++) {
        const nr_table_row *row = nr_table_by_index(g_table, i);
        g_arch[i] = row->arch;
        g_valid[i] = nr_table_acc(row, NR_DS_CIFAR10_VALID, NR_METRIC_VALID, 200);
        g_test[i] = nr_table_acc(row, NR_DS_CIFAR10, NR_METRIC_TEST, 200);
        g_fake_naswot[i] = i % 37 == 5 ? -INFINITY : 1500 + 100 * nr_rng_normal(&r);
    }
    test_training();
    test_files();
    test_score_features();
    test_scores_file();
    nr_table_free(g_table);
    /* remove the temp dir */
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT();
}
