/* Backward kernels and the network backward: central finite differences (losses summed in
 * double), accumulation (+=) into gradient buffers, and agreement with PyTorch autograd
 * (tests/reference/nb201_grads.json, made by tests/reference/make_grad_fixtures.py).
 *
 * Every kernel check uses L = sum r * f(inputs) with a random r, so dL/dy = r; inputs of
 * ReLUs stay at least 0.1 away from 0 (the kink), and the pools are linear (no ties).  The
 * network check freezes the ReLU masks at the base point (tape mode 2), so the perturbed
 * losses stay on the base point's linear piece: the FD derivative is then exactly the
 * derivative autograd computes.  That the frozen and the sign-based paths agree at the base
 * point is checked separately (bit for bit). */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank.h"
#include "net/net_internal.h"
#include "net/net_train.h"
#include "ops/ops.h"
#include "ops/ops_backward.h"
#include "test.h"

#define FIXTURE NR_SOURCE_DIR "/tests/reference/nb201_grads.json"

static nr_rng g_rng;

static float *fmalloc(size_t n) { return calloc(n ? n : 1, sizeof(float)); }

static void fill(float *x, size_t n, double lo, double hi)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * nr_rng_uniform(&g_rng));
}

/* Values with |x| in [0.1, 1], random sign: away from the ReLU kink. */
static void fill_away(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        double v = 0.1 + 0.9 * nr_rng_uniform(&g_rng);
        x[i] = (float)(nr_rng_uniform(&g_rng) < 0.5 ? -v : v);
    }
}

static double dot(const float *r, const float *y, size_t n)
{
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)r[i] * y[i];
    return s;
}

/* ---- generic kernel check ----
 * f(ctx) recomputes y from the inputs in ctx; the loss is dot(r, y).  For input buffer x
 * (n values) with analytic gradient g (already accumulated onto prior), compares g - prior
 * with central differences at up to `probes` coordinates.  Returns the worst error relative
 * to max |analytic| (plus 1e-6). */
typedef void (*eval_fn)(void *ctx);

typedef struct fd_case {
    eval_fn f;
    void *ctx;
    const float *r, *y;
    size_t ny;
} fd_case;

static double loss_of(const fd_case *c)
{
    c->f(c->ctx);
    return dot(c->r, c->y, c->ny);
}

static double fd_check(const fd_case *c, float *x, size_t n, const float *g, const float *prior,
                       double h, int probes)
{
    double worst = 0.0, scale = 1e-6;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs((double)g[i] - prior[i]));
    int all = (size_t)probes >= n;
    for (int p = 0; p < (all ? (int)n : probes); p++) {
        size_t i = all ? (size_t)p : (size_t)nr_rng_below(&g_rng, n);
        float x0 = x[i];
        float xp = (float)(x0 + h), xm = (float)(x0 - h);
        x[i] = xp;
        double lp = loss_of(c);
        x[i] = xm;
        double lm = loss_of(c);
        x[i] = x0;
        double fd = (lp - lm) / ((double)xp - (double)xm);
        double an = (double)g[i] - prior[i];
        worst = fmax(worst, fabs(fd - an) / scale);
    }
    c->f(c->ctx); /* leave y at the base point */
    return worst;
}

/* ------------------------------------------------------------------------------ conv */

typedef struct conv_ctx {
    float *y, *x, *w, *ws;
    int B, Cin, H, W, Cout, k, s, p;
} conv_ctx;

static void conv_eval(void *v)
{
    conv_ctx *c = v;
    nr_conv2d_forward(c->y, c->x, c->w, c->B, c->Cin, c->H, c->W, c->Cout, c->k, c->s, c->p, c->ws);
}

static void test_conv(void)
{
    const int cases[][8] = {
        /* B, Cin, H, W, Cout, k, stride, pad */
        {2, 3, 7, 5, 4, 3, 1, 1}, {1, 2, 9, 9, 3, 3, 2, 1}, {3, 5, 4, 6, 2, 1, 1, 0},
        {2, 3, 7, 7, 5, 1, 2, 0}, {1, 4, 6, 5, 3, 3, 1, 0}, {2, 16, 8, 8, 32, 3, 2, 1},
        {1, 1, 1, 1, 2, 3, 1, 1}, {2, 6, 11, 3, 7, 3, 2, 1},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        const int *q = cases[t];
        conv_ctx c = {0};
        c.B = q[0], c.Cin = q[1], c.H = q[2], c.W = q[3], c.Cout = q[4], c.k = q[5], c.s = q[6], c.p = q[7];
        int Ho = (c.H + 2 * c.p - c.k) / c.s + 1, Wo = (c.W + 2 * c.p - c.k) / c.s + 1;
        size_t nx = (size_t)c.B * c.Cin * c.H * c.W, nw = (size_t)c.Cout * c.Cin * c.k * c.k;
        size_t ny = (size_t)c.B * c.Cout * Ho * Wo;
        size_t nws = nr_conv2d_workspace(c.B, c.Cin, c.H, c.W, c.k, c.s, c.p);
        size_t nbw = nr_conv2d_backward_workspace(c.B, c.Cin, c.H, c.W, c.Cout, c.k, c.s, c.p);
        c.x = fmalloc(nx), c.w = fmalloc(nw), c.y = fmalloc(ny), c.ws = fmalloc(nws > nbw ? nws : nbw);
        float *r = fmalloc(ny), *dx = fmalloc(nx), *dw = fmalloc(nw), *px = fmalloc(nx), *pw = fmalloc(nw);
        fill(c.x, nx, -1, 1), fill(c.w, nw, -1, 1), fill(r, ny, -1, 1);
        fill(px, nx, -1, 1), fill(pw, nw, -1, 1);
        memcpy(dx, px, nx * sizeof(float));
        memcpy(dw, pw, nw * sizeof(float));
        conv_eval(&c);
        nr_conv2d_backward(dx, dw, r, c.x, c.w, c.B, c.Cin, c.H, c.W, c.Cout, c.k, c.s, c.p, c.ws);
        fd_case fc = {conv_eval, &c, r, c.y, ny};
        char name[64];
        snprintf(name, sizeof name, "conv B%d Cin%d %dx%d Cout%d k%d s%d p%d", c.B, c.Cin, c.H, c.W, c.Cout, c.k, c.s, c.p);
        TEST(name) {
            double ex = fd_check(&fc, c.x, nx, dx, px, 0.05, 40);
            double ew = fd_check(&fc, c.w, nw, dw, pw, 0.05, 40);
            CHECK_MSG(ex < 1e-4, "dx error %g", ex);
            CHECK_MSG(ew < 1e-4, "dw error %g", ew);
            /* dx only / dw only give the same numbers */
            float *dx2 = fmalloc(nx), *dw2 = fmalloc(nw);
            nr_conv2d_backward(dx2, NULL, r, c.x, c.w, c.B, c.Cin, c.H, c.W, c.Cout, c.k, c.s, c.p, c.ws);
            nr_conv2d_backward(NULL, dw2, r, c.x, c.w, c.B, c.Cin, c.H, c.W, c.Cout, c.k, c.s, c.p, c.ws);
            int same = 1;
            for (size_t i = 0; i < nx; i++) same &= fabsf(dx2[i] - (dx[i] - px[i])) <= 1e-5f * (1 + fabsf(dx2[i]));
            for (size_t i = 0; i < nw; i++) same &= fabsf(dw2[i] - (dw[i] - pw[i])) <= 1e-5f * (1 + fabsf(dw2[i]));
            CHECK(same);
            /* the textbook dx (GEMM + col2im) agrees with the flipped-kernel conv, and the
             * portable dw kernel with the AVX-512 one; both also accumulate onto a prior */
            memcpy(dx2, px, nx * sizeof(float));
            memcpy(dw2, pw, nw * sizeof(float));
            nr_conv2d_backward_set_textbook(1);
            nr_conv2d_backward(dx2, dw2, r, c.x, c.w, c.B, c.Cin, c.H, c.W, c.Cout, c.k, c.s, c.p, c.ws);
            nr_conv2d_backward_set_textbook(0);
            same = 1;
            for (size_t i = 0; i < nx; i++) same &= fabsf(dx2[i] - dx[i]) <= 1e-5f * (1 + fabsf(dx[i]));
            CHECK_MSG(same, "textbook dx differs");
            same = 1;
            for (size_t i = 0; i < nw; i++) same &= fabsf(dw2[i] - dw[i]) <= 1e-5f * (1 + fabsf(dw[i]));
            CHECK_MSG(same, "portable dw differs");
            free(dx2), free(dw2);
        }
        free(c.x), free(c.w), free(c.y), free(c.ws), free(r), free(dx), free(dw), free(px), free(pw);
    }
}

/* ------------------------------------------------------------------------- batch norm */

typedef struct bn_ctx {
    float *y, *x, *g, *b, *mean, *rstd;
    int B, C, HW;
} bn_ctx;

static void bn_eval(void *v)
{
    bn_ctx *c = v;
    nr_batchnorm_forward(c->y, c->mean, c->rstd, c->x, c->g, c->b, c->B, c->C, c->HW, 1e-5f);
}

static void test_batchnorm(void)
{
    const int cases[][3] = {{4, 3, 5}, {1, 2, 9}, {3, 5, 1}, {2, 1, 7}};
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        bn_ctx c = {0};
        c.B = cases[t][0], c.C = cases[t][1], c.HW = cases[t][2];
        size_t n = (size_t)c.B * c.C * c.HW;
        c.x = fmalloc(n), c.y = fmalloc(n), c.g = fmalloc(c.C), c.b = fmalloc(c.C);
        c.mean = fmalloc(c.C), c.rstd = fmalloc(c.C);
        float *r = fmalloc(n), *dx = fmalloc(n), *dg = fmalloc(c.C), *db = fmalloc(c.C);
        float *px = fmalloc(n), *pg = fmalloc(c.C), *pb = fmalloc(c.C);
        fill(c.x, n, -2, 3), fill(c.g, c.C, 0.5, 1.5), fill(c.b, c.C, -1, 1), fill(r, n, -1, 1);
        fill(px, n, -1, 1), fill(pg, c.C, -1, 1), fill(pb, c.C, -1, 1);
        memcpy(dx, px, n * sizeof(float)), memcpy(dg, pg, c.C * sizeof(float)), memcpy(db, pb, c.C * sizeof(float));
        bn_eval(&c);
        nr_batchnorm_backward(dx, dg, db, r, c.x, c.mean, c.rstd, c.g, c.B, c.C, c.HW);
        fd_case fc = {bn_eval, &c, r, c.y, n};
        char name[64];
        snprintf(name, sizeof name, "batchnorm B%d C%d HW%d", c.B, c.C, c.HW);
        TEST(name) {
            double ex = fd_check(&fc, c.x, n, dx, px, 1e-3, 60);
            double eg = fd_check(&fc, c.g, c.C, dg, pg, 1e-3, 10);
            double eb = fd_check(&fc, c.b, c.C, db, pb, 1e-3, 10);
            CHECK_MSG(ex < 2e-3, "dx error %g", ex);
            CHECK_MSG(eg < 2e-3, "dgamma error %g", eg);
            CHECK_MSG(eb < 2e-3, "dbeta error %g", eb);
            /* gamma NULL means 1 */
            float *one = fmalloc(c.C), *d1 = fmalloc(n), *d2 = fmalloc(n);
            for (int i = 0; i < c.C; i++) one[i] = 1.0f;
            nr_batchnorm_backward(d1, NULL, NULL, r, c.x, c.mean, c.rstd, NULL, c.B, c.C, c.HW);
            nr_batchnorm_backward(d2, NULL, NULL, r, c.x, c.mean, c.rstd, one, c.B, c.C, c.HW);
            CHECK(memcmp(d1, d2, n * sizeof(float)) == 0);
            free(one), free(d1), free(d2);
        }
        free(c.x), free(c.y), free(c.g), free(c.b), free(c.mean), free(c.rstd);
        free(r), free(dx), free(dg), free(db), free(px), free(pg), free(pb);
    }
}

/* ------------------------------------------------------------- relu, pools, add, linear */

typedef struct ew_ctx {
    int kind; /* 0 relu, 1 pool3, 2 pool2, 3 gap, 4 add, 5 linear, 6 relu masked */
    float *y, *x, *x2, *w, *b;
    uint64_t *bits;
    int B, C, H, W, In, Out;
    size_t n;
} ew_ctx;

static void ew_eval(void *v)
{
    ew_ctx *c = v;
    switch (c->kind) {
    case 0: nr_relu_forward(c->y, c->x, c->n); break;
    case 1: nr_avgpool3x3_forward(c->y, c->x, c->B, c->C, c->H, c->W); break;
    case 2: nr_avgpool2x2_forward(c->y, c->x, c->B, c->C, c->H, c->W); break;
    case 3: nr_global_avgpool_forward(c->y, c->x, c->B, c->C, c->H * c->W); break;
    case 4:
        memcpy(c->y, c->x, c->n * sizeof(float));
        nr_add_inplace(c->y, c->x2, c->n);
        break;
    case 5: nr_linear_forward(c->y, c->x, c->w, c->b, c->B, c->In, c->Out); break;
    case 6: nr_relu_forward_masked(c->y, c->x, c->bits, c->n); break;
    }
}

static void test_small_kernels(void)
{
    /* ReLU (sign-based and frozen-mask versions, same numbers at the base point) */
    TEST("relu") {
        ew_ctx c = {0};
        c.n = 1000;
        c.x = fmalloc(c.n), c.y = fmalloc(c.n);
        c.bits = calloc((c.n + 63) / 64, sizeof(uint64_t));
        float *r = fmalloc(c.n), *dx = fmalloc(c.n), *px = fmalloc(c.n), *dx2 = fmalloc(c.n);
        fill_away(c.x, c.n), fill(r, c.n, -1, 1), fill(px, c.n, -1, 1);
        memcpy(dx, px, c.n * sizeof(float));
        memcpy(dx2, px, c.n * sizeof(float));
        ew_eval(&c);
        nr_relu_backward(dx, r, c.x, c.n);
        fd_case fc = {ew_eval, &c, r, c.y, c.n};
        CHECK(fd_check(&fc, c.x, c.n, dx, px, 1e-2, 200) < 1e-4);
        nr_relu_mask_pack(c.bits, c.x, c.n);
        c.kind = 6;
        float *y0 = fmalloc(c.n);
        memcpy(y0, c.y, c.n * sizeof(float));
        ew_eval(&c);
        CHECK(memcmp(y0, c.y, c.n * sizeof(float)) == 0);
        nr_relu_backward_masked(dx2, r, c.bits, c.n);
        CHECK(memcmp(dx, dx2, c.n * sizeof(float)) == 0);
        /* x == 0 exactly: zero gradient (as PyTorch) */
        float z = 0.0f, g = 1.0f, d = 0.0f;
        nr_relu_backward(&d, &g, &z, 1);
        CHECK(d == 0.0f);
        free(c.x), free(c.y), free(c.bits), free(r), free(dx), free(px), free(dx2), free(y0);
    }
    /* 1x300 and 2x129: several column strips of the 3x3 pool's backward, halos at the seams */
    const int pshapes[][4] = {{2, 3, 5, 7}, {1, 2, 1, 1}, {1, 1, 2, 9}, {3, 2, 6, 6}, {1, 1, 7, 5}, {1, 1, 3, 300}, {1, 2, 2, 129}};
    for (int kind = 1; kind <= 3; kind++)
        for (size_t t = 0; t < sizeof pshapes / sizeof *pshapes; t++) {
            ew_ctx c = {0};
            c.kind = kind, c.B = pshapes[t][0], c.C = pshapes[t][1], c.H = pshapes[t][2], c.W = pshapes[t][3];
            if (kind == 2 && (c.H < 2 || c.W < 2)) continue;
            size_t nx = (size_t)c.B * c.C * c.H * c.W;
            size_t ny = kind == 1 ? nx : kind == 2 ? (size_t)c.B * c.C * (c.H / 2) * (c.W / 2) : (size_t)c.B * c.C;
            c.x = fmalloc(nx), c.y = fmalloc(ny);
            float *r = fmalloc(ny), *dx = fmalloc(nx), *px = fmalloc(nx);
            fill(c.x, nx, -1, 1), fill(r, ny, -1, 1), fill(px, nx, -1, 1);
            memcpy(dx, px, nx * sizeof(float));
            ew_eval(&c);
            if (kind == 1) nr_avgpool3x3_backward(dx, r, c.B, c.C, c.H, c.W);
            else if (kind == 2) nr_avgpool2x2_backward(dx, r, c.B, c.C, c.H, c.W);
            else nr_global_avgpool_backward(dx, r, c.B, c.C, c.H * c.W);
            fd_case fc = {ew_eval, &c, r, c.y, ny};
            char name[64];
            snprintf(name, sizeof name, "%s B%d C%d %dx%d", kind == 1 ? "avgpool3x3" : kind == 2 ? "avgpool2x2" : "global pool",
                     c.B, c.C, c.H, c.W);
            TEST(name) {
                double e = fd_check(&fc, c.x, nx, dx, px, 0.05, 1024); /* every entry: strip seams too */
                CHECK_MSG(e < 1e-4, "error %g", e);
            }
            free(c.x), free(c.y), free(r), free(dx), free(px);
        }
    TEST("add") {
        ew_ctx c = {0};
        c.kind = 4, c.n = 77;
        c.x = fmalloc(c.n), c.x2 = fmalloc(c.n), c.y = fmalloc(c.n);
        float *r = fmalloc(c.n), *da = fmalloc(c.n), *db = fmalloc(c.n), *pa = fmalloc(c.n), *pb = fmalloc(c.n);
        fill(c.x, c.n, -1, 1), fill(c.x2, c.n, -1, 1), fill(r, c.n, -1, 1), fill(pa, c.n, -1, 1), fill(pb, c.n, -1, 1);
        memcpy(da, pa, c.n * sizeof(float)), memcpy(db, pb, c.n * sizeof(float));
        ew_eval(&c);
        nr_add_backward(da, db, r, c.n);
        fd_case fc = {ew_eval, &c, r, c.y, c.n};
        CHECK(fd_check(&fc, c.x, c.n, da, pa, 0.05, 77) < 1e-4);
        CHECK(fd_check(&fc, c.x2, c.n, db, pb, 0.05, 77) < 1e-4);
        nr_add_backward(NULL, NULL, r, c.n); /* no-op */
        free(c.x), free(c.x2), free(c.y), free(r), free(da), free(db), free(pa), free(pb);
    }
    const int lshapes[][3] = {{3, 5, 4}, {1, 7, 1}, {4, 1, 3}, {5, 64, 10}};
    for (size_t t = 0; t < sizeof lshapes / sizeof *lshapes; t++) {
        ew_ctx c = {0};
        c.kind = 5, c.B = lshapes[t][0], c.In = lshapes[t][1], c.Out = lshapes[t][2];
        size_t nx = (size_t)c.B * c.In, nw = (size_t)c.Out * c.In, ny = (size_t)c.B * c.Out;
        c.x = fmalloc(nx), c.w = fmalloc(nw), c.b = fmalloc(c.Out), c.y = fmalloc(ny);
        float *r = fmalloc(ny), *dx = fmalloc(nx), *dw = fmalloc(nw), *db = fmalloc(c.Out);
        float *px = fmalloc(nx), *pw = fmalloc(nw), *pb = fmalloc(c.Out);
        fill(c.x, nx, -1, 1), fill(c.w, nw, -1, 1), fill(c.b, c.Out, -1, 1), fill(r, ny, -1, 1);
        fill(px, nx, -1, 1), fill(pw, nw, -1, 1), fill(pb, c.Out, -1, 1);
        memcpy(dx, px, nx * sizeof(float)), memcpy(dw, pw, nw * sizeof(float)), memcpy(db, pb, c.Out * sizeof(float));
        ew_eval(&c);
        nr_linear_backward(dx, dw, db, r, c.x, c.w, c.B, c.In, c.Out);
        fd_case fc = {ew_eval, &c, r, c.y, ny};
        char name[64];
        snprintf(name, sizeof name, "linear B%d In%d Out%d", c.B, c.In, c.Out);
        TEST(name) {
            CHECK(fd_check(&fc, c.x, nx, dx, px, 0.05, 50) < 1e-4);
            CHECK(fd_check(&fc, c.w, nw, dw, pw, 0.05, 50) < 1e-4);
            CHECK(fd_check(&fc, c.b, c.Out, db, pb, 0.05, 50) < 1e-4);
        }
        free(c.x), free(c.w), free(c.b), free(c.y), free(r), free(dx), free(dw), free(db), free(px), free(pw), free(pb);
    }
    TEST("cross-entropy") {
        int B = 5, K = 7, labels[5] = {0, 6, 3, 3, 1};
        float z[35], dz[35], pz[35];
        fill(z, 35, -3, 3), fill(pz, 35, -1, 1);
        memcpy(dz, pz, sizeof dz);
        double L = nr_cross_entropy(dz, z, labels, B, K);
        /* direct formula */
        double want = 0;
        for (int b = 0; b < B; b++) {
            double se = 0;
            for (int k = 0; k < K; k++) se += exp(z[b * K + k]);
            want += log(se) - z[b * K + labels[b]];
        }
        CHECK_NEAR(L, want / B, 1e-6);
        double worst = 0;
        for (int i = 0; i < 35; i++) {
            float z0 = z[i], zp = z0 + 1e-2f, zm = z0 - 1e-2f;
            z[i] = zp;
            double lp = nr_cross_entropy(NULL, z, labels, B, K);
            z[i] = zm;
            double lm = nr_cross_entropy(NULL, z, labels, B, K);
            z[i] = z0;
            worst = fmax(worst, fabs((lp - lm) / ((double)zp - zm) - ((double)dz[i] - pz[i])));
        }
        CHECK_MSG(worst < 1e-5, "error %g", worst);
        int bad[1] = {9};
        CHECK(isnan(nr_cross_entropy(NULL, z, bad, 1, K)));
    }
}

/* ------------------------------------------------------------------- network backward */

typedef struct net_ctx {
    nr_net *net;
    nr_tape *tape;
    float *x, *logits;
    int *labels;
    int B;
} net_ctx;

static double net_loss(net_ctx *c)
{
    nr_tape_forward(c->tape, c->x, c->B, c->logits, NULL);
    return nr_cross_entropy(NULL, c->logits, c->labels, c->B, c->net->cfg.num_classes);
}

static void test_network(void)
{
    const char *archs[] = {
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
        "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|skip_connect~0|nor_conv_1x1~1|none~2|",
    };
    nr_macro_config cfg = nr_macro_default();
    cfg.C = 4, cfg.N = 1, cfg.image_size = 8, cfg.num_classes = 10;
    int B = 3, S = 8;
    nr_error err = {0};
    for (size_t t = 0; t < sizeof archs / sizeof *archs; t++) {
        nr_arch a;
        nr_arch_parse(archs[t], &a, &err);
        net_ctx c = {0};
        c.B = B;
        TEST(archs[t]) {
            CHECK(nr_net_create(&a, &cfg, 11 + t, &c.net, &err) == NR_OK);
            nr_tape_mode mode = {.relu_masks = 1};
            CHECK(nr_tape_create_mode(c.net, B, &mode, &c.tape, &err) == NR_OK);
            if (!c.tape) continue;
            size_t nx = (size_t)B * 3 * S * S, np = nr_net_num_params(c.net);
            c.x = fmalloc(nx), c.logits = fmalloc((size_t)B * cfg.num_classes);
            c.labels = malloc(B * sizeof(int));
            for (int b = 0; b < B; b++) c.labels[b] = (3 * b + 1) % cfg.num_classes;
            fill(c.x, nx, -2, 2);
            /* the tape's forward = nr_net_forward */
            float *ref = fmalloc((size_t)B * cfg.num_classes);
            CHECK(nr_net_forward(c.net, c.x, B, ref, NULL, NULL, &err) == NR_OK);
            double L0 = net_loss(&c);
            double worst = 0, sc = 0;
            for (int i = 0; i < B * cfg.num_classes; i++) {
                worst = fmax(worst, fabs(ref[i] - c.logits[i]));
                sc = fmax(sc, fabs(ref[i]));
            }
            CHECK_MSG(worst <= 1e-5 * sc, "tape logits differ from nr_net_forward by %g", worst);
            /* analytic gradients onto a random prior (they must be added) */
            float *dz = fmalloc((size_t)B * cfg.num_classes);
            nr_cross_entropy(dz, c.logits, c.labels, B, cfg.num_classes);
            float *g = fmalloc(np), *pg = fmalloc(np), *gx = fmalloc(nx), *pgx = fmalloc(nx);
            fill(pg, np, -1, 1), fill(pgx, nx, -1, 1);
            memcpy(g, pg, np * sizeof(float)), memcpy(gx, pgx, nx * sizeof(float));
            CHECK(nr_tape_backward(c.tape, dz, g, gx, &err) == NR_OK);
            /* the sign-based ReLU backward gives the same bits */
            nr_tape *plain = NULL;
            CHECK(nr_tape_create(c.net, B, &plain, &err) == NR_OK);
            float *g2 = fmalloc(np), *gx2 = fmalloc(nx);
            memcpy(g2, pg, np * sizeof(float)), memcpy(gx2, pgx, nx * sizeof(float));
            CHECK(nr_tape_forward(plain, c.x, B, NULL, &err) == NR_OK);
            CHECK(nr_tape_backward(plain, dz, g2, gx2, &err) == NR_OK);
            CHECK(memcmp(g, g2, np * sizeof(float)) == 0 && memcmp(gx, gx2, nx * sizeof(float)) == 0);
            nr_tape_free(plain);
            free(g2), free(gx2);
            /* FD with frozen ReLU masks */
            nr_tape_set_relu_masks(c.tape, 2);
            CHECK_NEAR(net_loss(&c), L0, 0);
            int bad = 0;
            double worst_rel = 0;
            /* errors relative to the tensor's largest gradient, at least 1e-2 of the
             * network's (a gradient that is exactly 0, like a BN bias right before the
             * final train-mode BN, leaves only float noise in the FD quotient) */
            double gmax = 0;
            for (size_t i = 0; i < np; i++) gmax = fmax(gmax, fabs((double)g[i] - pg[i]));
            for (size_t ti = 0; ti < nr_net_num_tensors(c.net); ti++) {
                size_t numel, off = nr_net_tensor_offset(c.net, ti);
                float *p = nr_net_tensor(c.net, ti, &numel);
                double scale = 1e-2 * gmax;
                for (size_t i = 0; i < numel; i++) scale = fmax(scale, fabs((double)g[off + i] - pg[off + i]));
                for (int probe = 0; probe < 3; probe++) {
                    size_t i = (size_t)nr_rng_below(&g_rng, numel);
                    float p0 = p[i], pp = p0 + 1e-3f, pm = p0 - 1e-3f;
                    p[i] = pp;
                    double lp = net_loss(&c);
                    p[i] = pm;
                    double lm = net_loss(&c);
                    p[i] = p0;
                    double fd = (lp - lm) / ((double)pp - pm), an = (double)g[off + i] - pg[off + i];
                    double e = fabs(fd - an) / scale;
                    worst_rel = fmax(worst_rel, e);
                    if (e > 1e-2) {
                        bad++;
                        fprintf(stderr, "  %s[%zu]: fd %.6g analytic %.6g\n", nr_net_tensor_name(c.net, ti), i, fd, an);
                    }
                }
            }
            CHECK_MSG(bad == 0, "%d parameter probes off (worst %g of the tensor's max |grad|)", bad, worst_rel);
            double scx = 1e-6, wx = 0;
            for (size_t i = 0; i < nx; i++) scx = fmax(scx, fabs((double)gx[i] - pgx[i]));
            for (int probe = 0; probe < 20; probe++) {
                size_t i = (size_t)nr_rng_below(&g_rng, nx);
                float x0 = c.x[i], xp = x0 + 1e-3f, xm = x0 - 1e-3f;
                c.x[i] = xp;
                double lp = net_loss(&c);
                c.x[i] = xm;
                double lm = net_loss(&c);
                c.x[i] = x0;
                wx = fmax(wx, fabs((lp - lm) / ((double)xp - xm) - ((double)gx[i] - pgx[i])) / scx);
            }
            CHECK_MSG(wx < 1e-2, "input gradient error %g", wx);
            nr_tape_set_relu_masks(c.tape, 1);
            free(ref), free(dz), free(g), free(pg), free(gx), free(pgx);
        }
        nr_tape_free(c.tape);
        nr_net_free(c.net);
        free(c.x), free(c.logits), free(c.labels);
    }
}

int main(void)
{
    g_rng = nr_rng_seeded(2024);
    test_conv();
    test_batchnorm();
    test_small_kernels();
    test_network();
    return TEST_REPORT();
}
