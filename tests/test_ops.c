/* Tests for src/ops: every kernel against a naive reference written plainly here (double
 * accumulation), on random shapes; plus determinism and thread-count independence. */
#include <math.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/rng.h"
#include "ops/ops.h"
#include "test.h"

static nr_rng g_rng;

static float *fmalloc(size_t n) { return malloc((n ? n : 1) * sizeof(float)); }

static void fill(float *x, size_t n, float lo, float hi)
{
    for (size_t i = 0; i < n; i++) x[i] = (float)(lo + (hi - lo) * nr_rng_uniform(&g_rng));
}

static int rnd(int lo, int hi) { return lo + (int)nr_rng_below(&g_rng, (uint64_t)(hi - lo + 1)); }

/* max |got - ref| / max |ref| (the output scale); 0 when both are all zero. */
static double rel_err(const float *got, const double *ref, size_t n)
{
    double scale = 0.0, err = 0.0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)got[i] - ref[i]);
        if (!(d <= err)) err = d; /* NaN propagates */
        if (fabs(ref[i]) > scale) scale = fabs(ref[i]);
    }
    return scale > 0.0 ? err / scale : err;
}

static int same_bits(const float *a, const float *b, size_t n)
{
    return memcmp(a, b, n * sizeof(float)) == 0;
}

/* ---------------------------------------------------------------- sgemm */

static void ref_gemm(double *C, int ta, int tb, int M, int N, int K, float alpha, const float *A,
                     int lda, const float *B, int ldb, float beta, const float *C0, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0.0;
            for (int p = 0; p < K; p++) {
                double a = ta ? A[(size_t)p * lda + i] : A[(size_t)i * lda + p];
                double b = tb ? B[(size_t)j * ldb + p] : B[(size_t)p * ldb + j];
                s += a * b;
            }
            double c = beta == 0.0f ? 0.0 : (double)beta * C0[(size_t)i * ldc + j];
            C[(size_t)i * N + j] = alpha * s + c;
        }
}

/* One GEMM case: padded leading dimensions, C's padding must stay untouched, beta == 0 must
 * not read C (filled with NaN). */
static void gemm_case(int ta, int tb, int M, int N, int K, float alpha, float beta, int pad)
{
    int arows = ta ? K : M, acols = ta ? M : K, brows = tb ? N : K, bcols = tb ? K : N;
    int lda = acols + pad, ldb = bcols + pad, ldc = N + pad;
    if (lda < 1) lda = 1;
    if (ldb < 1) ldb = 1;
    if (ldc < 1) ldc = 1;
    float *A = fmalloc((size_t)arows * lda), *B = fmalloc((size_t)brows * ldb);
    float *C = fmalloc((size_t)M * ldc), *C0 = fmalloc((size_t)M * ldc);
    double *R = malloc(((size_t)M * N + 1) * sizeof(double));
    fill(A, (size_t)arows * lda, -1, 1);
    fill(B, (size_t)brows * ldb, -1, 1);
    fill(C0, (size_t)M * ldc, -1, 1);
    if (beta == 0.0f)
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) C0[(size_t)i * ldc + j] = NAN;
    memcpy(C, C0, (size_t)M * ldc * sizeof(float));
    ref_gemm(R, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C0, ldc);
    nr_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    double err = 0.0, scale = 0.0;
    int pad_ok = 1;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            double d = fabs(C[(size_t)i * ldc + j] - R[(size_t)i * N + j]);
            if (!(d <= err)) err = d;
            if (fabs(R[(size_t)i * N + j]) > scale) scale = fabs(R[(size_t)i * N + j]);
        }
        for (int j = N; j < ldc; j++)
            if (!same_bits(&C[(size_t)i * ldc + j], &C0[(size_t)i * ldc + j], 1)) pad_ok = 0;
    }
    if (scale > 0) err /= scale;
    CHECK_MSG(err < 1e-5, "gemm ta=%d tb=%d M=%d N=%d K=%d alpha=%g beta=%g pad=%d: rel err %g",
              ta, tb, M, N, K, alpha, beta, pad, err);
    CHECK_MSG(pad_ok, "gemm wrote into C's padding (M=%d N=%d ldc=%d)", M, N, ldc);
    free(A);
    free(B);
    free(C);
    free(C0);
    free(R);
}

static void test_gemm(void)
{
    TEST("sgemm: four transpose combos, padded ld, alpha, beta")
    {
        const int shapes[][3] = {{1, 1, 1},   {7, 5, 3},    {8, 48, 16},  {9, 49, 17},
                                 {16, 1024, 144}, {33, 97, 70}, {64, 64, 576}, {3, 200, 1},
                                 {1, 300, 40},    {150, 1, 33}, {10, 64, 64}};
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
                    gemm_case(ta, tb, M, N, K, 1.0f, 0.0f, 0);
                    gemm_case(ta, tb, M, N, K, -0.75f, 0.5f, 5);
                }
    }
    TEST("sgemm: random shapes, beyond one cache block (MC, KC, NC)")
    {
        for (int r = 0; r < 12; r++)
            gemm_case(rnd(0, 1), rnd(0, 1), rnd(1, 90), rnd(1, 130), rnd(1, 80), 1.25f,
                      r % 2 ? 1.0f : 0.0f, rnd(0, 3));
        gemm_case(0, 0, 300, 4200, 9, 1.0f, 0.0f, 0);
        gemm_case(0, 1, 160, 60, 1100, 1.0f, 0.0f, 1);
    }
    TEST("sgemm: K == 0 scales C by beta; M or N == 0 is a no-op")
    {
        float C[6] = {1, 2, 3, 4, 5, 6}, A[1] = {7}, B[1] = {8};
        nr_sgemm(0, 0, 2, 3, 0, 1.0f, A, 1, B, 3, 0.5f, C, 3);
        CHECK(C[0] == 0.5f && C[5] == 3.0f);
        nr_sgemm(0, 0, 2, 3, 0, 1.0f, A, 1, B, 3, 0.0f, C, 3);
        CHECK(C[0] == 0.0f && C[5] == 0.0f);
        C[0] = 9.0f;
        nr_sgemm(0, 0, 0, 3, 4, 1.0f, A, 4, B, 3, 0.0f, C, 3);
        CHECK(C[0] == 9.0f);
        nr_sgemm(0, 0, 2, 3, 4, 1.0f, A, 2 /* lda < K: rejected */, B, 3, 0.0f, C, 3);
        CHECK(C[0] == 9.0f);
    }
    TEST("sgemm: BLIS's own kernel agrees")
    {
        nr_sgemm_set_native(1);
        gemm_case(0, 1, 37, 53, 29, 1.0f, 0.0f, 2);
        gemm_case(1, 0, 37, 53, 29, 2.0f, 1.0f, 0);
        nr_sgemm_set_native(0);
        CHECK(strlen(nr_sgemm_kernel_name()) > 0);
    }
}

/* ---------------------------------------------------------------- micro-kernel */

/* One call of a micro-kernel on random data; every B addressing mode, strided C, beta. */
static void ukr_case(nr_ukr_fn f, int m, int n, long k, int use_boff, int cs_c, float beta)
{
    long a_rs = k + 3, ldb = 53;
    float *a = fmalloc((size_t)m * a_rs), *b = fmalloc((size_t)(k + 2) * ldb);
    int *boff = malloc((size_t)(k > 0 ? k : 1) * sizeof(int));
    long rs_c = cs_c == 1 ? 50 : 1, csc = cs_c == 1 ? 1 : 9; /* column-major C when cs_c != 1 */
    float *c = fmalloc((size_t)9 * 50 + 8 * 9 + 64), *c0 = fmalloc((size_t)9 * 50 + 8 * 9 + 64);
    double *r = malloc((size_t)m * n * sizeof(double) + 8);
    size_t nc = (size_t)9 * 50 + 8 * 9 + 64;
    fill(a, (size_t)m * a_rs, -1, 1);
    fill(b, (size_t)(k + 2) * ldb, -1, 1);
    fill(c0, nc, -1, 1);
    for (long p = 0; p < k; p++) boff[p] = (int)((k - 1 - p) * ldb + 1); /* rows reversed */
    memcpy(c, c0, nc * sizeof(float));
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = 0;
            for (long p = 0; p < k; p++)
                acc += (double)a[i * a_rs + p] *
                       (use_boff ? b[boff[p] + j] : b[p * ldb + j]);
            r[i * n + j] = 1.5 * acc + beta * c0[i * rs_c + j * csc];
        }
    f(m, n, k, a, a_rs, 1, b, ldb, use_boff ? boff : NULL, c, rs_c, csc, 1.5f, beta);
    double err = 0, scale = 1e-30;
    int outside_ok = 1;
    for (size_t q = 0; q < nc; q++) {
        long i = cs_c == 1 ? (long)q / rs_c : (long)q % csc;
        long j = cs_c == 1 ? (long)q % rs_c : (long)q / csc;
        if (i < m && j < n) {
            double d = fabs(c[q] - r[i * n + j]);
            if (!(d <= err)) err = d;
            if (fabs(r[i * n + j]) > scale) scale = fabs(r[i * n + j]);
        } else if (!same_bits(&c[q], &c0[q], 1))
            outside_ok = 0;
    }
    CHECK_MSG(err / scale < 1e-5 && outside_ok,
              "ukr m=%d n=%d k=%ld boff=%d cs_c=%d: %g, outside %d", m, n, k, use_boff, cs_c,
              err / scale, outside_ok);
    free(a);
    free(b);
    free(boff);
    free(c);
    free(c0);
    free(r);
}

static void test_ukernel(void)
{
    TEST("micro-kernels (AVX-512 when present, and portable): edges, offsets, strided C")
    {
        nr_ukr_fn fs[2] = {nr_ukr_get(), nr_ukr_get_portable()};
        const int mn[][2] = {{8, 48}, {1, 1}, {8, 16}, {3, 17}, {7, 32}, {8, 33}, {5, 47}};
        for (int fi = 0; fi < 2; fi++)
            for (size_t t = 0; t < sizeof mn / sizeof mn[0]; t++)
                for (int mode = 0; mode < 4; mode++)
                    ukr_case(fs[fi], mn[t][0], mn[t][1], t == 1 ? 0 : 37 + (long)t, mode & 1,
                             mode & 2 ? 9 : 1, mode == 3 ? 0.0f : 0.5f);
    }
}

/* ---------------------------------------------------------------- conv */

static int odim(int H, int k, int s, int p) { return H + 2 * p < k ? 0 : (H + 2 * p - k) / s + 1; }

/* The direct 7-loop convolution in double; relu applies max(0, x) to the input first. */
static void ref_conv(double *out, const float *in, const float *w, int B, int Cin, int H, int W,
                     int Cout, int k, int s, int pad, int relu)
{
    int Ho = odim(H, k, s, pad), Wo = odim(W, k, s, pad);
    for (int b = 0; b < B; b++)
        for (int co = 0; co < Cout; co++)
            for (int ho = 0; ho < Ho; ho++)
                for (int wo = 0; wo < Wo; wo++) {
                    double acc = 0.0;
                    for (int ci = 0; ci < Cin; ci++)
                        for (int kh = 0; kh < k; kh++)
                            for (int kw = 0; kw < k; kw++) {
                                int hi = ho * s - pad + kh, wi = wo * s - pad + kw;
                                if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
                                double x = in[(((size_t)b * Cin + ci) * H + hi) * W + wi];
                                if (relu && x < 0) x = 0;
                                acc += x * w[(((size_t)co * Cin + ci) * k + kh) * k + kw];
                            }
                    out[(((size_t)b * Cout + co) * Ho + ho) * Wo + wo] = acc;
                }
}

/* Runs every strategy on one shape. */
static void conv_case(int B, int Cin, int H, int W, int Cout, int k, int s, int pad)
{
    int Ho = odim(H, k, s, pad), Wo = odim(W, k, s, pad);
    if (Ho <= 0 || Wo <= 0) return;
    size_t nin = (size_t)B * Cin * H * W, nw = (size_t)Cout * Cin * k * k;
    size_t nout = (size_t)B * Cout * Ho * Wo;
    float *in = fmalloc(nin), *w = fmalloc(nw), *out = fmalloc(nout);
    double *ref = malloc(nout * sizeof(double));
    fill(in, nin, -1, 1);
    fill(w, nw, -0.5f, 0.5f);

    /* exact-size workspace; the pointer is deliberately not 64-byte aligned */
    size_t nws = nr_conv2d_workspace(B, Cin, H, W, k, s, pad);
    float *wsb = fmalloc(nws + 1), *ws = wsb + 1;

    /* strategy 0: automatic (direct / implicit / panels), 1: panels, 2: implicit */
    double e;
    for (int st = 0; st <= 2; st++) {
        nr_conv2d_set_strategy(st);
        ref_conv(ref, in, w, B, Cin, H, W, Cout, k, s, pad, 0);
        fill(out, nout, 1e30f, 1e30f);
        nr_conv2d_forward(out, in, w, B, Cin, H, W, Cout, k, s, pad, ws);
        e = rel_err(out, ref, nout);
        CHECK_MSG(e < 1e-5, "conv[%d] B=%d Cin=%d %dx%d Cout=%d k=%d s=%d pad=%d: rel err %g", st,
                  B, Cin, H, W, Cout, k, s, pad, e);

        ref_conv(ref, in, w, B, Cin, H, W, Cout, k, s, pad, 1);
        fill(out, nout, 1e30f, 1e30f);
        nr_relu_conv2d_forward(out, in, w, B, Cin, H, W, Cout, k, s, pad, ws);
        e = rel_err(out, ref, nout);
        CHECK_MSG(e < 1e-5, "relu-conv[%d] B=%d Cin=%d %dx%d Cout=%d k=%d s=%d pad=%d: %g", st, B,
                  Cin, H, W, Cout, k, s, pad, e);
    }
    nr_conv2d_set_strategy(0);
    free(wsb);

    ref_conv(ref, in, w, B, Cin, H, W, Cout, k, s, pad, 0);
    for (int chunk = 1; chunk <= 3; chunk += 2) {
        size_t ng = nr_conv2d_gemm_workspace(chunk, Cin, H, W, Cout, k, s, pad);
        float *g = fmalloc(ng);
        fill(out, nout, 1e30f, 1e30f);
        nr_conv2d_forward_gemm(out, in, w, B, Cin, H, W, Cout, k, s, pad, chunk, g);
        e = rel_err(out, ref, nout);
        CHECK_MSG(e < 1e-5, "conv gemm chunk=%d B=%d Cin=%d %dx%d Cout=%d k=%d s=%d pad=%d: %g",
                  chunk, B, Cin, H, W, Cout, k, s, pad, e);
        free(g);
    }
    free(in);
    free(w);
    free(out);
    free(ref);
}

static void test_conv(void)
{
    TEST("im2col matches its definition")
    {
        int Cin = 3, H = 5, W = 7, k = 3, s = 2, pad = 1;
        int Ho = odim(H, k, s, pad), Wo = odim(W, k, s, pad);
        float img[3 * 5 * 7], col[27 * 3 * 4];
        fill(img, sizeof img / sizeof img[0], -1, 1);
        nr_im2col(col, img, Cin, H, W, k, s, pad);
        int ok = 1;
        for (int ci = 0; ci < Cin; ci++)
            for (int kh = 0; kh < k; kh++)
                for (int kw = 0; kw < k; kw++)
                    for (int ho = 0; ho < Ho; ho++)
                        for (int wo = 0; wo < Wo; wo++) {
                            int hi = ho * s - pad + kh, wi = wo * s - pad + kw;
                            float x = hi < 0 || hi >= H || wi < 0 || wi >= W
                                          ? 0.0f
                                          : img[(ci * H + hi) * W + wi];
                            if (col[((ci * k + kh) * k + kw) * Ho * Wo + ho * Wo + wo] != x) ok = 0;
                        }
        CHECK(ok);
    }
    TEST("conv: NB201 shapes (small batch)")
    {
        conv_case(2, 3, 32, 32, 16, 3, 1, 1);  /* stem */
        conv_case(2, 16, 32, 32, 16, 3, 1, 1); /* stage 1 */
        conv_case(2, 16, 32, 32, 16, 1, 1, 0);
        conv_case(2, 32, 16, 16, 32, 3, 1, 1); /* stage 2 */
        conv_case(2, 32, 16, 16, 32, 1, 1, 0);
        conv_case(2, 64, 8, 8, 64, 3, 1, 1); /* stage 3 */
        conv_case(2, 64, 8, 8, 64, 1, 1, 0);
        conv_case(2, 16, 32, 32, 32, 3, 2, 1); /* ResNet conv_a */
        conv_case(2, 16, 16, 16, 32, 1, 1, 0); /* ResNet shortcut */
    }
    TEST("conv: edge shapes (batch 1, 1x1 images, Cin != Cout, odd sizes)")
    {
        conv_case(1, 1, 1, 1, 1, 1, 1, 0);
        conv_case(1, 1, 1, 1, 3, 3, 1, 1);
        conv_case(1, 2, 2, 3, 5, 3, 2, 1);
        conv_case(1, 5, 7, 7, 9, 3, 1, 0);
        conv_case(3, 4, 9, 11, 17, 1, 2, 0);
        conv_case(1, 3, 13, 5, 8, 5, 1, 2);
        conv_case(1, 300, 3, 3, 7, 1, 1, 0); /* K > one gather block */
        conv_case(1, 40, 5, 6, 3, 3, 1, 1);  /* K = 360: two gather blocks */
        conv_case(2, 3, 7, 50, 2, 3, 1, 1);  /* one row spans two panels */
        conv_case(2, 4, 11, 10, 6, 3, 3, 1); /* stride 3: nine phase images */
        conv_case(1, 2, 12, 13, 5, 5, 2, 2); /* 5x5 stride 2 pad 2 */
        conv_case(1, 3, 6, 6, 4, 7, 1, 3);   /* 7x7: the largest tap table */
        conv_case(1, 2, 9, 9, 3, 9, 1, 4);   /* 9x9: gathered without the tap table */
        conv_case(2, 16, 33, 64, 8, 3, 2, 1); /* long rows: vector phase split */
    }
    TEST("conv: a kernel larger than the padded image writes nothing")
    {
        float in[2 * 4] = {1, 2, 3, 4, 5, 6, 7, 8}, w[9 * 2], out[1] = {42.0f};
        float *ws = fmalloc(nr_conv2d_workspace(1, 2, 2, 2, 3, 2, 0));
        fill(w, 18, -1, 1);
        nr_conv2d_forward(out, in, w, 1, 2, 2, 2, 1, 3, 2, 0, ws);
        CHECK(out[0] == 42.0f);
        free(ws);
    }
    TEST("conv: random shapes")
    {
        for (int r = 0; r < 40; r++) {
            int k = rnd(0, 2) == 0 ? 1 : 3;
            conv_case(rnd(1, 3), rnd(1, 20), rnd(1, 19), rnd(1, 40), rnd(1, 40), k, rnd(1, 2),
                      rnd(0, 1));
        }
    }
}

/* ---------------------------------------------------------------- batchnorm */

static void bn_case(int B, int C, int HW, float offset, int inplace)
{
    size_t n = (size_t)B * C * HW;
    float *in = fmalloc(n), *out = fmalloc(n), *g = fmalloc(C), *be = fmalloc(C);
    float *mean = fmalloc(C), *rstd = fmalloc(C);
    double *ref = malloc(n * sizeof(double)), *rm = malloc(C * sizeof(double));
    double *rr = malloc(C * sizeof(double));
    fill(in, n, offset - 2.0f, offset + 1.0f);
    fill(g, C, 0.5f, 1.5f);
    fill(be, C, -1, 1);
    for (int c = 0; c < C; c++) {
        double s = 0, q = 0;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) s += in[((size_t)b * C + c) * HW + i];
        double m = s / ((double)B * HW);
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                double d = in[((size_t)b * C + c) * HW + i] - m;
                q += d * d;
            }
        double r = 1.0 / sqrt(q / ((double)B * HW) + 1e-5);
        rm[c] = m;
        rr[c] = r;
        for (int b = 0; b < B; b++)
            for (int i = 0; i < HW; i++) {
                size_t o = ((size_t)b * C + c) * HW + i;
                ref[o] = (in[o] - m) * r * g[c] + be[c];
            }
    }
    float *dst = inplace ? in : out;
    nr_batchnorm_forward(dst, mean, rstd, in, g, be, B, C, HW, 1e-5f);
    double e = rel_err(dst, ref, n), em = rel_err(mean, rm, C), er = rel_err(rstd, rr, C);
    CHECK_MSG(e < 1e-5 && em < 1e-6 && er < 1e-5,
              "bn B=%d C=%d HW=%d offset=%g inplace=%d: out %g mean %g rstd %g", B, C, HW, offset,
              inplace, e, em, er);
    free(in);
    free(out);
    free(g);
    free(be);
    free(mean);
    free(rstd);
    free(ref);
    free(rm);
    free(rr);
}

static void test_batchnorm(void)
{
    TEST("batchnorm: train mode, biased variance, in place and not")
    {
        bn_case(1, 1, 1, 0, 0); /* a single value: var 0, out = beta */
        bn_case(2, 3, 5, 0, 0);
        bn_case(3, 16, 64, 0, 1);
        bn_case(4, 7, 33, 0, 0);
        bn_case(8, 5, 100, 1000.0f, 0); /* mean >> std: the shifted sums must hold */
        bn_case(2, 4, 1024, -3.0f, 1);
        for (int r = 0; r < 6; r++) bn_case(rnd(1, 5), rnd(1, 9), rnd(1, 300), 0, r % 2);
    }
    TEST("batchnorm: NULL mean/rstd accepted")
    {
        float x[8] = {1, 2, 3, 4, 5, 6, 7, 8}, g[2] = {1, 1}, b[2] = {0, 0};
        nr_batchnorm_forward(x, NULL, NULL, x, g, b, 2, 2, 2, 1e-5f);
        /* channel 0 holds 1,2,5,6: mean 3.5, var 4.25 */
        CHECK_NEAR(x[0], (1 - 3.5) / sqrt(4.25 + 1e-5), 1e-6);
    }
}

/* ---------------------------------------------------------------- elementwise, pools */

static void test_elementwise(void)
{
    TEST("relu and add (odd lengths, several chunks, in place)")
    {
        const size_t ns[] = {1, 15, 16, 17, 1000, 200003};
        for (size_t t = 0; t < sizeof ns / sizeof ns[0]; t++) {
            size_t n = ns[t];
            float *x = fmalloc(n), *y = fmalloc(n), *o = fmalloc(n);
            fill(x, n, -1, 1);
            fill(y, n, -1, 1);
            nr_relu_forward(o, x, n);
            int ok = 1;
            for (size_t i = 0; i < n; i++)
                if (o[i] != (x[i] > 0 ? x[i] : 0.0f)) ok = 0;
            CHECK_MSG(ok, "relu n=%zu", n);
            memcpy(o, x, n * sizeof(float));
            nr_relu_forward(o, o, n);
            for (size_t i = 0; i < n; i++)
                if (o[i] != (x[i] > 0 ? x[i] : 0.0f)) ok = 0;
            CHECK_MSG(ok, "relu in place n=%zu", n);
            memcpy(o, x, n * sizeof(float));
            nr_add_inplace(o, y, n);
            for (size_t i = 0; i < n; i++)
                if (o[i] != x[i] + y[i]) ok = 0;
            CHECK_MSG(ok, "add n=%zu", n);
            free(x);
            free(y);
            free(o);
        }
        float v[3] = {NAN, -0.0f, -INFINITY};
        nr_relu_forward(v, v, 3);
        CHECK(isnan(v[0]) && v[1] == 0.0f && v[2] == 0.0f);
    }
}

static void ref_pool3(double *out, const float *in, int P, int H, int W)
{
    for (int p = 0; p < P; p++)
        for (int ho = 0; ho < H; ho++)
            for (int wo = 0; wo < W; wo++) {
                double s = 0;
                int cnt = 0;
                for (int kh = -1; kh <= 1; kh++)
                    for (int kw = -1; kw <= 1; kw++) {
                        int hi = ho + kh, wi = wo + kw;
                        if (hi < 0 || hi >= H || wi < 0 || wi >= W) continue;
                        s += in[((size_t)p * H + hi) * W + wi];
                        cnt++;
                    }
                out[((size_t)p * H + ho) * W + wo] = s / cnt;
            }
}

static void test_pools(void)
{
    TEST("avgpool 3x3 s1 p1, count_include_pad=False")
    {
        const int hw[][2] = {{1, 1}, {1, 2}, {2, 1}, {2, 2}, {3, 3},  {5, 17},
                             {8, 8}, {16, 16}, {32, 32}, {7, 33}, {19, 50}};
        for (size_t t = 0; t < sizeof hw / sizeof hw[0]; t++) {
            int B = rnd(1, 3), C = rnd(1, 5), H = hw[t][0], W = hw[t][1];
            size_t n = (size_t)B * C * H * W;
            float *x = fmalloc(n), *o = fmalloc(n);
            double *r = malloc(n * sizeof(double));
            fill(x, n, -1, 1);
            ref_pool3(r, x, B * C, H, W);
            nr_avgpool3x3_forward(o, x, B, C, H, W);
            double e = rel_err(o, r, n);
            CHECK_MSG(e < 1e-6, "pool3 %dx%d: %g", H, W, e);
            free(x);
            free(o);
            free(r);
        }
    }
    TEST("avgpool 2x2 s2 (floor) and global average")
    {
        const int hw[][2] = {{2, 2}, {3, 3}, {4, 6}, {5, 7}, {16, 16}, {32, 32}, {9, 65}};
        for (size_t t = 0; t < sizeof hw / sizeof hw[0]; t++) {
            int B = rnd(1, 3), C = rnd(1, 5), H = hw[t][0], W = hw[t][1];
            int Ho = H / 2, Wo = W / 2;
            size_t n = (size_t)B * C * H * W, no = (size_t)B * C * Ho * Wo;
            float *x = fmalloc(n), *o = fmalloc(no), *g = fmalloc((size_t)B * C);
            double *r = malloc(n * sizeof(double));
            fill(x, n, -1, 1);
            for (int p = 0; p < B * C; p++)
                for (int ho = 0; ho < Ho; ho++)
                    for (int wo = 0; wo < Wo; wo++) {
                        const float *q = x + ((size_t)p * H + 2 * ho) * W + 2 * wo;
                        r[((size_t)p * Ho + ho) * Wo + wo] =
                            ((double)q[0] + q[1] + q[W] + q[W + 1]) / 4;
                    }
            nr_avgpool2x2_forward(o, x, B, C, H, W);
            double e = rel_err(o, r, no);
            CHECK_MSG(e < 1e-6, "pool2 %dx%d: %g", H, W, e);
            for (int p = 0; p < B * C; p++) {
                double s = 0;
                for (int i = 0; i < H * W; i++) s += x[(size_t)p * H * W + i];
                r[p] = s / (H * W);
            }
            nr_global_avgpool_forward(g, x, B, C, H * W);
            e = rel_err(g, r, (size_t)B * C);
            CHECK_MSG(e < 1e-6, "global pool %dx%d: %g", H, W, e);
            free(x);
            free(o);
            free(g);
            free(r);
        }
    }
}

static void test_linear(void)
{
    TEST("linear with and without bias")
    {
        const int shapes[][3] = {{1, 1, 1}, {128, 64, 10}, {5, 3, 100}, {7, 130, 17}};
        for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
            int B = shapes[t][0], In = shapes[t][1], Out = shapes[t][2];
            float *x = fmalloc((size_t)B * In), *w = fmalloc((size_t)Out * In);
            float *b = fmalloc(Out), *o = fmalloc((size_t)B * Out);
            double *r = malloc((size_t)B * Out * sizeof(double));
            fill(x, (size_t)B * In, -1, 1);
            fill(w, (size_t)Out * In, -1, 1);
            fill(b, Out, -1, 1);
            for (int withb = 0; withb < 2; withb++) {
                for (int i = 0; i < B; i++)
                    for (int j = 0; j < Out; j++) {
                        double s = withb ? b[j] : 0.0;
                        for (int p = 0; p < In; p++)
                            s += (double)x[(size_t)i * In + p] * w[(size_t)j * In + p];
                        r[(size_t)i * Out + j] = s;
                    }
                fill(o, (size_t)B * Out, NAN, NAN);
                nr_linear_forward(o, x, w, withb ? b : NULL, B, In, Out);
                double e = rel_err(o, r, (size_t)B * Out);
                CHECK_MSG(e < 1e-5, "linear B=%d In=%d Out=%d bias=%d: %g", B, In, Out, withb, e);
            }
            free(x);
            free(w);
            free(b);
            free(o);
            free(r);
        }
    }
}

/* ---------------------------------------------------------------- determinism, threads */

/* A stage-1-like block (relu -> conv -> bn -> pool -> add) plus a GEMM; out gets everything. */
typedef struct chain {
    int B, C, H;
    float *x, *w1, *w3, *w3s2, *g, *b, *A, *Bm;
} chain;

static size_t chain_out_size(const chain *c)
{
    size_t T = (size_t)c->B * c->C * c->H * c->H;
    return 4 * T + 96 * 80 + T / 2;
}

static void chain_run(const chain *c, float *out)
{
    int B = c->B, C = c->C, H = c->H;
    size_t T = (size_t)B * C * H * H;
    float *ws = fmalloc(nr_conv2d_workspace(B, C, H, H, 3, 1, 1));
    float *r = out, *y3 = out + T, *y1 = out + 2 * T, *p = out + 3 * T, *gm = out + 4 * T;
    float *y2 = gm + 96 * 80; /* (B, 2C, H/2, H/2): the ResNet block's stride-2 conv */
    nr_relu_forward(r, c->x, T);
    nr_conv2d_forward(y3, r, c->w3, B, C, H, H, C, 3, 1, 1, ws);
    nr_batchnorm_forward(y3, NULL, NULL, y3, c->g, c->b, B, C, H * H, 1e-5f);
    nr_relu_conv2d_forward(y1, c->x, c->w1, B, C, H, H, C, 1, 1, 0, ws);
    nr_avgpool3x3_forward(p, c->x, B, C, H, H);
    nr_add_inplace(p, y3, T);
    nr_sgemm(0, 1, 96, 80, 300, 1.0f, c->A, 300, c->Bm, 300, 0.0f, gm, 80);
    float *ws2 = fmalloc(nr_conv2d_workspace(B, C, H, H, 3, 2, 1));
    nr_relu_conv2d_forward(y2, c->x, c->w3s2, B, C, H, H, 2 * C, 3, 2, 1, ws2);
    free(ws2);
    free(ws);
}

static void test_determinism(void)
{
    chain c = {8, 16, 32, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL};
    size_t T = (size_t)c.B * c.C * c.H * c.H;
    c.x = fmalloc(T);
    c.w1 = fmalloc((size_t)c.C * c.C);
    c.w3 = fmalloc((size_t)c.C * c.C * 9);
    c.w3s2 = fmalloc((size_t)c.C * c.C * 18);
    c.g = fmalloc(c.C);
    c.b = fmalloc(c.C);
    c.A = fmalloc(96 * 300);
    c.Bm = fmalloc(80 * 300);
    fill(c.x, T, -1, 1);
    fill(c.w1, (size_t)c.C * c.C, -0.25f, 0.25f);
    fill(c.w3, (size_t)c.C * c.C * 9, -0.1f, 0.1f);
    fill(c.w3s2, (size_t)c.C * c.C * 18, -0.1f, 0.1f);
    fill(c.g, c.C, 0.5f, 1.5f);
    fill(c.b, c.C, -1, 1);
    fill(c.A, 96 * 300, -1, 1);
    fill(c.Bm, 80 * 300, -1, 1);
    size_t n = chain_out_size(&c);
    float *o1 = fmalloc(n), *o2 = fmalloc(n), *o3 = fmalloc(n);
    /* conv strategy 0: automatic (direct / implicit), 1: gathered panels */
    for (int st = 0; st <= 1; st++) {
        nr_conv2d_set_strategy(st);
        TEST("determinism: two runs are bit-identical")
        {
            nr_threads_set(1);
            chain_run(&c, o1);
            chain_run(&c, o2);
            CHECK_MSG(same_bits(o1, o2, n), "conv strategy %d", st);
        }
        TEST("thread-count independence: 1 vs 2 threads")
        {
            nr_threads_set(2);
            CHECK(nr_threads_get() == 2);
            chain_run(&c, o3);
            double e = 0, s = 0;
            for (size_t i = 0; i < n; i++) {
                double d = fabs((double)o3[i] - o1[i]);
                if (!(d <= e)) e = d;
                if (fabs(o1[i]) > s) s = fabs(o1[i]);
            }
            CHECK_MSG(e <= 1e-5 * s, "conv strategy %d: max diff %g (scale %g)", st, e, s);
            /* in fact bit-identical: every sum runs in a fixed order */
            CHECK_MSG(same_bits(o1, o3, n), "conv strategy %d", st);
            chain_run(&c, o2);
            CHECK_MSG(same_bits(o3, o2, n), "conv strategy %d", st);
            nr_threads_set(1);
        }
    }
    nr_conv2d_set_strategy(0);
    TEST("nr_threads_set clamps")
    {
        nr_threads_set(0);
        CHECK(nr_threads_get() == 1);
        nr_threads_set(1000);
        CHECK(nr_threads_get() == NR_OPS_MAX_THREADS);
        nr_threads_set(1);
    }
    free(o1);
    free(o2);
    free(o3);
    free(c.x);
    free(c.w1);
    free(c.w3);
    free(c.w3s2);
    free(c.g);
    free(c.b);
    free(c.A);
    free(c.Bm);
}

static atomic_long g_count;
static void count_task(void *ctx, long t, int tid)
{
    (void)ctx;
    (void)tid;
    atomic_fetch_add(&g_count, t + 1);
}

static void test_pool_runs_every_task(void)
{
    TEST("thread pool runs every task exactly once")
    {
        nr_threads_set(2);
        for (long n = 0; n < 50; n += 7) {
            atomic_store(&g_count, 0);
            nr_parallel_for(n, count_task, NULL);
            CHECK(atomic_load(&g_count) == n * (n + 1) / 2);
        }
        nr_threads_set(1);
    }
}

int main(void)
{
    g_rng = nr_rng_seeded(20240601);
    printf("sgemm kernel: %s, micro-kernel %s\n", nr_sgemm_kernel_name(), nr_ukr_name());
    test_gemm();
    test_ukernel();
    test_conv();
    test_batchnorm();
    test_elementwise();
    test_pools();
    test_linear();
    test_determinism();
    test_pool_runs_every_task();
    return TEST_REPORT();
}
