/* The network graph and its executor:
 *   - NAS-Bench-201 on the graph vs the hard-wired engine (nr_net / nr_tape): same parameter
 *     tensors bit for bit, same parameter count and FLOPs, same ReLU inputs, logits and
 *     gradients to float tolerance, and logits vs the PyTorch fixture nb201_forward.json;
 *   - every op's backward vs central finite differences (reference kernels, float64 sums),
 *     fast kernels vs reference kernels;
 *   - hand-built NB101, DARTS and MobileNetV2 networks vs PyTorch (graph_nets.json, made by
 *     tests/reference/make_graph_fixtures.py): shapes, parameter counts, logits;
 *   - builder errors and liveness. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank.h"
#include "nasrank/graph.h"
#include "nasrank/graph_exec.h"
#include "nasrank/spaces.h"
#include "test.h"

#define NB201_FIXTURE NR_SOURCE_DIR "/tests/reference/nb201_forward.json"
#define NETS_FIXTURE NR_SOURCE_DIR "/tests/reference/graph_nets.json"

static float *random_images(int n, uint64_t seed, const char *name)
{
    float *x = malloc((size_t)n * sizeof *x);
    nr_rng r = nr_rng_stream(seed, name);
    for (int i = 0; i < n; i++) x[i] = (float)(2.0 * nr_rng_uniform24(&r) - 1.0);
    return x;
}

static double max_abs(const float *x, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fabs(x[i]) > m ? fabs(x[i]) : m;
    return m;
}

/* ------------------------------------------------------------------ NB201 vs nr_net */

typedef struct relu_tally {
    double units;        /* sum over delivered tensors of (ReLU readers) x numel */
    double hooked;       /* the same weighted as the NASWOT reference counts hooks */
    int tensors;
    const nr_graph *g;
} relu_tally;

static void net_tally(void *ctx, const nr_activation *a)
{
    relu_tally *t = ctx;
    double n = (double)a->C * a->H * a->W;
    t->units += a->relu_modules * n;
    t->hooked += a->hooked_modules * n;
    t->tensors++;
}

/* In NB201 a ReLU that feeds a conv sits in a ReLUConvBN module (two hooked modules). */
static void graph_tally(void *ctx, const nr_relu_input *a)
{
    relu_tally *t = ctx;
    double n = (double)a->C * a->H * a->W;
    for (int k = 0; k < a->n_relus; k++) {
        int r = a->relus[k];
        int conv_after = 0;
        for (int i = r + 1; i < nr_graph_num_layers(t->g); i++) {
            const nr_layer *l = nr_graph_layer(t->g, i);
            if (l->kind == NR_LAYER_CONV && l->inputs[0] == r) conv_after = 1;
        }
        t->units += n;
        t->hooked += (conv_after ? 2 : 1) * n;
    }
    t->tensors++;
}

static void compare_nb201(const nr_arch *a, const nr_macro_config *cfg, int B, int with_grads)
{
    char s[NR_ARCH_STR_MAX];
    nr_arch_format(a, s, sizeof s);
    nr_error err = {0};
    nr_net *net = NULL;
    nr_graph *g = NULL;
    TEST(s) {
        CHECK(nr_net_create(a, cfg, 7, &net, &err) == NR_OK);
        CHECK(nr_nb201_graph(a, cfg, 7, &g, &err) == NR_OK);
        if (!net || !g) break;
        CHECK(nr_graph_num_params(g) == nr_net_num_params(net));
        CHECK(nr_graph_num_tensors(g) == nr_net_num_tensors(net));
        CHECK(nr_graph_flops(g) == nr_net_flops(net));
        int same = 1;
        for (size_t t = 0; t < nr_net_num_tensors(net); t++) {
            size_t n;
            const float *w = nr_net_tensor(net, t, &n);
            long gi = nr_graph_find_tensor(g, nr_net_tensor_name(net, t));
            if (gi < 0 || nr_graph_tensor(g, (size_t)gi)->numel != n ||
                memcmp(w, nr_graph_params(g) + nr_graph_tensor(g, (size_t)gi)->offset, n * sizeof *w))
                same = 0;
        }
        CHECK_MSG(same, "every nr_net tensor is in the graph with the same name and values");

        int S = cfg->image_size, K = cfg->num_classes;
        float *x = random_images(B * 3 * S * S, 3, "images");
        float *l0 = malloc((size_t)B * K * sizeof *l0), *l1 = malloc((size_t)B * K * sizeof *l1);
        float *l2 = malloc((size_t)B * K * sizeof *l2);
        relu_tally tn = {0}, tg = {0, 0, 0, g};
        CHECK(nr_net_forward(net, x, B, l0, net_tally, &tn, &err) == NR_OK);
        for (int ref = 0; ref < 2; ref++) {
            nr_exec_options opt = {.reference = ref, .backward = with_grads, .observe_relu_inputs = 1};
            nr_exec *ex = NULL;
            CHECK(nr_exec_create(g, B, &opt, &ex, &err) == NR_OK);
            if (!ex) continue;
            relu_tally t = {0, 0, 0, g};
            CHECK(nr_exec_forward(ex, x, B, ref ? l2 : l1, graph_tally, &t, &err) == NR_OK);
            if (!ref) tg = t;
            if (with_grads && !ref) {
                /* gradients of R = sum(logits * r) vs the tape's */
                float *r = random_images(B * K, 5, "dlogits");
                size_t P = nr_net_num_params(net);
                float *gn = calloc(P, sizeof *gn), *gg = calloc(P, sizeof *gg);
                float *dxn = calloc((size_t)B * 3 * S * S, sizeof *dxn), *dxg = calloc((size_t)B * 3 * S * S, sizeof *dxg);
                nr_tape *tape = NULL;
                CHECK(nr_tape_create(net, B, &tape, &err) == NR_OK);
                CHECK(nr_tape_forward(tape, x, B, NULL, &err) == NR_OK);
                CHECK(nr_tape_backward(tape, r, gn, dxn, &err) == NR_OK);
                CHECK(nr_exec_backward(ex, r, gg, dxg, NULL, NULL, &err) == NR_OK);
                /* relative to the largest gradient of the net: tensors whose exact gradient is
                 * 0 (BN biases before a train-mode BN) hold float noise on both sides */
                double worst = 0, scale = max_abs(gn, P) + 1e-12;
                const char *worst_name = "";
                for (size_t t2 = 0; t2 < nr_net_num_tensors(net); t2++) {
                    size_t n;
                    nr_net_tensor(net, t2, &n);
                    size_t on = nr_net_tensor_offset(net, t2);
                    long gi = nr_graph_find_tensor(g, nr_net_tensor_name(net, t2));
                    if (gi < 0) continue;
                    size_t og = nr_graph_tensor(g, (size_t)gi)->offset;
                    for (size_t k = 0; k < n; k++) {
                        double e = fabs(gn[on + k] - gg[og + k]) / scale;
                        if (e > worst) {
                            worst = e;
                            worst_name = nr_net_tensor_name(net, t2);
                        }
                    }
                }
                CHECK_MSG(worst < 1e-3, "parameter gradients: worst error %.3g of max |g| (%s)", worst, worst_name);
                double sx = max_abs(dxn, (size_t)B * 3 * S * S) + 1e-12, wx = 0;
                for (size_t k = 0; k < (size_t)B * 3 * S * S; k++)
                    if (fabs(dxn[k] - dxg[k]) / sx > wx) wx = fabs(dxn[k] - dxg[k]) / sx;
                CHECK_MSG(wx < 2e-3, "input gradient: worst error %.3g of max |dx|", wx);
                nr_tape_free(tape);
                free(r);
                free(gn);
                free(gg);
                free(dxn);
                free(dxg);
            }
            nr_exec_free(ex);
        }
        /* (the tensor counts may differ: nr_net emits a node aliased to another twice) */
        CHECK_NEAR(tn.units, tg.units, 0);
        CHECK_NEAR(tn.hooked, tg.hooked, 0);
        double scale = max_abs(l0, (size_t)B * K) + 1e-6, w1 = 0, w2 = 0;
        for (int k = 0; k < B * K; k++) {
            if (fabs(l0[k] - l1[k]) / scale > w1) w1 = fabs(l0[k] - l1[k]) / scale;
            if (fabs(l0[k] - l2[k]) / scale > w2) w2 = fabs(l0[k] - l2[k]) / scale;
        }
        CHECK_MSG(w1 < 1e-4, "fast kernels: logits differ by %.3g of max |logit|", w1);
        CHECK_MSG(w2 < 1e-4, "reference kernels: logits differ by %.3g of max |logit|", w2);
        free(x);
        free(l0);
        free(l1);
        free(l2);
    }
    nr_net_free(net);
    nr_graph_free(g);
}

static void test_nb201_vs_net(void)
{
    nr_macro_config small = nr_macro_default();
    small.C = 4;
    small.N = 1;
    small.image_size = 16;
    /* every op, dead nodes, zero nodes, stacked groups, the all-none arch */
    const int ids[] = {0, 6111, 15624, 9930, 1234, 7777, 3125 * 3 + 625 * 3 + 125 * 3, 4 * 3125 + 2 * 25 + 1,
                       2 * 3125 + 0 * 625 + 1 * 125 + 3 * 25 + 4 * 5 + 2};
    for (size_t i = 0; i < sizeof ids / sizeof *ids; i++) {
        nr_arch a = nr_arch_from_id(ids[i]);
        compare_nb201(&a, &small, 3, 1);
    }
    /* the benchmark's own config on two archs (forward only: the reference conv is slow) */
    nr_macro_config def = nr_macro_default();
    nr_arch a = nr_arch_from_id(6111);
    compare_nb201(&a, &def, 2, 0);
}

/* Logits of the graph on the PyTorch fixture's images. */
static void test_nb201_fixture(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(NB201_FIXTURE, 0, &jerr);
    TEST("nb201 fixture loads") CHECK_MSG(root != NULL, "%s:%d: %s", NB201_FIXTURE, jerr.line, jerr.text);
    if (!root) return;
    nr_error err = {0};
    char path[4096];
    nr_images *im = NULL;
    const char *file = json_string_value(json_object_get(json_object_get(root, "images"), "file"));
    TEST("nb201 fixture images") {
        CHECK(file && nr_data_find(file, path, sizeof path, &err) == NR_OK);
        CHECK(nr_images_read(path, NR_CIFAR10, &im, &err) == NR_OK);
    }
    size_t ai;
    json_t *arch;
    json_t *batch = json_object_get(root, "forward_batch");
    json_array_foreach(json_object_get(root, "archs"), ai, arch) {
        if (!im) break;
        json_t *c = json_object_get(arch, "config");
        nr_macro_config cfg = nr_macro_default();
        cfg.C = (int)json_integer_value(json_object_get(c, "C"));
        cfg.N = (int)json_integer_value(json_object_get(c, "N"));
        cfg.num_classes = (int)json_integer_value(json_object_get(c, "num_classes"));
        cfg.image_size = (int)json_integer_value(json_object_get(c, "image_size"));
        const char *s = json_string_value(json_object_get(arch, "arch"));
        TEST(s) {
            nr_arch a;
            CHECK(nr_arch_parse(s, &a, &err) == NR_OK);
            nr_graph *g = NULL;
            CHECK(nr_nb201_graph(&a, &cfg, (uint64_t)json_integer_value(json_object_get(arch, "seed")), &g, &err) == NR_OK);
            if (!g) continue;
            CHECK(nr_graph_num_params(g) == (size_t)json_integer_value(json_object_get(arch, "num_params")));
            int B = (int)json_array_size(batch), S = cfg.image_size;
            size_t idx[8];
            for (int i = 0; i < B && i < 8; i++) idx[i] = (size_t)json_integer_value(json_array_get(batch, (size_t)i));
            float *x = malloc((size_t)B * 3 * S * S * sizeof *x);
            nr_norm norm = nr_norm_cifar10();
            CHECK(nr_images_batch(im, idx, (size_t)B, &norm, S, x, &err) == NR_OK);
            float *logits = malloc((size_t)B * cfg.num_classes * sizeof *logits);
            nr_exec *ex = NULL;
            CHECK(nr_exec_create(g, B, NULL, &ex, &err) == NR_OK);
            CHECK(ex && nr_exec_forward(ex, x, B, logits, NULL, NULL, &err) == NR_OK);
            json_t *exp = json_object_get(arch, "logits");
            double m = 0, worst = 0;
            for (int b = 0; b < B; b++)
                for (int k = 0; k < cfg.num_classes; k++) {
                    double v = json_number_value(json_array_get(json_array_get(exp, (size_t)b), (size_t)k));
                    m = fabs(v) > m ? fabs(v) : m;
                }
            for (int b = 0; b < B; b++)
                for (int k = 0; k < cfg.num_classes; k++) {
                    double v = json_number_value(json_array_get(json_array_get(exp, (size_t)b), (size_t)k));
                    double e = fabs(logits[b * cfg.num_classes + k] - v) / (m + 1e-12);
                    worst = e > worst ? e : worst;
                }
            CHECK_MSG(worst < 1e-4, "logits: %.3g of max |logit|", worst);
            nr_exec_free(ex);
            free(x);
            free(logits);
            nr_graph_free(g);
        }
    }
    nr_images_free(im);
    json_decref(root);
}

/* ------------------------------------------------------------------ finite differences */

/* A one-op graph under test: input (C, H, W) -> [pre-op] -> op -> BN-free conv1x1 -> linear,
 * so every op's output gradient is a generic dense function. */
typedef int (*op_builder)(nr_graph *g, int x);

static int b_conv(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.conv", 6, 3, 2, 1, 1, 1); }
static int b_conv5(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.conv", 4, 5, 1, 2, 1, 1); }
static int b_depthwise(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.dw", 4, 3, 1, 1, 1, 4); }
static int b_depthwise_s2(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.dw", 4, 5, 2, 2, 1, 4); }
static int b_dilated(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.dil", 4, 3, 1, 2, 2, 4); }
static int b_dilated_dense(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.dil", 3, 3, 2, 2, 2, 1); }
static int b_grouped(nr_graph *g, int x) { return nr_graph_conv(g, x, "t.grp", 6, 3, 1, 1, 1, 2); }
static int b_bn(nr_graph *g, int x) { return nr_graph_batchnorm(g, x, "t.bn", 1); }
static int b_bn_plain(nr_graph *g, int x) { return nr_graph_batchnorm(g, x, NULL, 0); }
static int b_relu(nr_graph *g, int x) { return nr_graph_relu(g, x, 0); }
static int b_relu6(nr_graph *g, int x) { return nr_graph_relu(g, x, 1); }
static int b_avg3(nr_graph *g, int x) { return nr_graph_avgpool(g, x, 3, 1, 1, 0); }
static int b_avg3_s2_cip(nr_graph *g, int x) { return nr_graph_avgpool(g, x, 3, 2, 1, 1); }
static int b_avg3_s2(nr_graph *g, int x) { return nr_graph_avgpool(g, x, 3, 2, 1, 0); }
static int b_avg2(nr_graph *g, int x) { return nr_graph_avgpool(g, x, 2, 2, 0, 0); }
static int b_max3(nr_graph *g, int x) { return nr_graph_maxpool(g, x, 3, 1, 1); }
static int b_max3_s2(nr_graph *g, int x) { return nr_graph_maxpool(g, x, 3, 2, 1); }
static int b_max2(nr_graph *g, int x) { return nr_graph_maxpool(g, x, 2, 2, 0); }
static int b_concat(nr_graph *g, int x)
{
    int a = nr_graph_conv(g, x, "t.a", 2, 1, 1, 0, 1, 1);
    int ins[3] = {a, x, a};
    return nr_graph_concat(g, 3, ins);
}
static int b_slice(nr_graph *g, int x) { return nr_graph_slice(g, x, 1, 3); }
static int b_crop(nr_graph *g, int x) { return nr_graph_crop(g, x, 1, 1, 4, 5); }
static int b_add(nr_graph *g, int x)
{
    int a = nr_graph_conv(g, x, "t.a", 4, 3, 1, 1, 1, 1);
    int ins[3] = {a, x, a};
    return nr_graph_add(g, 3, ins);
}
static int b_zero(nr_graph *g, int x)
{
    int z = nr_graph_zero(g, x, 2);
    int p = nr_graph_avgpool(g, x, 2, 2, 0, 1);
    int c = nr_graph_crop(g, p, 0, 0, 3, 3);
    int zc = nr_graph_crop(g, z, 0, 0, 3, 3);
    int ins[2] = {c, zc};
    return nr_graph_add(g, 2, ins);
}
static int b_identity(nr_graph *g, int x) { return nr_graph_identity(g, x); }
/* DARTS' factorized reduce: relu, two 1x1 stride-2 convs (one on x[:, :, 1:, 1:]), concat, BN */
static int b_factorized(nr_graph *g, int x)
{
    int r = nr_graph_relu(g, nr_graph_crop(g, x, 0, 0, 6, 6), 0); /* even maps, as in DARTS */
    int a = nr_graph_conv(g, r, "t.conv_1", 2, 1, 2, 0, 1, 1);
    int b = nr_graph_conv(g, nr_graph_crop(g, r, 1, 1, 5, 5), "t.conv_2", 2, 1, 2, 0, 1, 1);
    int ins[2] = {a, b};
    return nr_graph_batchnorm(g, nr_graph_concat(g, 2, ins), "t.bn", 1);
}

typedef struct op_case {
    const char *name;
    op_builder build;
} op_case;

/* R(θ, x) = sum(out * r): analytic gradient vs central differences, per parameter and input
 * element (a sample of them), float64 reference kernels.  An entry whose two step sizes
 * disagree sits on a kink (ReLU, max pool ties): skipped, and few may be. */
static double loss(nr_exec *ex, const float *x, int B, const float *r, int K)
{
    float out[64];
    nr_exec_forward(ex, x, B, out, NULL, NULL, NULL);
    double s = 0;
    for (int k = 0; k < B * K; k++) s += (double)out[k] * r[k];
    return s;
}

static void fd_case(const op_case *c)
{
    enum { B = 2, C = 4, H = 7, W = 7, K = 3 };
    nr_error err = {0};
    nr_graph *g = NULL;
    TEST(c->name) {
        CHECK(nr_graph_new(C, H, W, &g, &err) == NR_OK);
        int y = c->build(g, 0);
        int z = nr_graph_conv(g, y, "head.conv", 3, 1, 1, 0, 1, 1);
        int fc = nr_graph_linear(g, z, "head.fc", K, 1);
        nr_graph_set_output(g, fc);
        CHECK_MSG(nr_graph_finish(g, 11, &err) == NR_OK, "%s", err.text);
        if (err.code) break;
        size_t P = nr_graph_num_params(g), NX = (size_t)B * C * H * W;
        float *x = random_images((int)NX, 1, c->name);
        float *r = random_images(B * K, 2, "r");
        float *grad = calloc(P, sizeof *grad), *dx = calloc(NX, sizeof *dx);
        nr_exec *ex = NULL, *fast = NULL;
        nr_exec_options ref = {.reference = 1, .backward = 1}, fst = {.backward = 1};
        CHECK(nr_exec_create(g, B, &ref, &ex, &err) == NR_OK);
        CHECK(nr_exec_create(g, B, &fst, &fast, &err) == NR_OK);
        if (!ex || !fast) break;
        float out[64];
        CHECK(nr_exec_forward(ex, x, B, out, NULL, NULL, &err) == NR_OK);
        CHECK(nr_exec_backward(ex, r, grad, dx, NULL, NULL, &err) == NR_OK);
        /* fast vs reference kernels, forward and backward */
        float out2[64];
        float *grad2 = calloc(P, sizeof *grad2), *dx2 = calloc(NX, sizeof *dx2);
        CHECK(nr_exec_forward(fast, x, B, out2, NULL, NULL, &err) == NR_OK);
        CHECK(nr_exec_backward(fast, r, grad2, dx2, NULL, NULL, &err) == NR_OK);
        double so = max_abs(out, B * K) + 1e-12, sg = max_abs(grad, P) + 1e-12, sx = max_abs(dx, NX) + 1e-12;
        double wf = 0;
        for (int k = 0; k < B * K; k++) wf = fmax(wf, fabs(out[k] - out2[k]) / so);
        for (size_t k = 0; k < P; k++) wf = fmax(wf, fabs(grad[k] - grad2[k]) / sg);
        for (size_t k = 0; k < NX; k++) wf = fmax(wf, fabs(dx[k] - dx2[k]) / sx);
        CHECK_MSG(wf < 1e-4, "fast vs reference kernels: %.3g", wf);
        /* central differences */
        float *params = nr_graph_params(g);
        int checked = 0, kinks = 0, bad = 0;
        double worst = 0;
        for (int pass = 0; pass < 2; pass++) {
            size_t n = pass ? NX : P;
            float *v = pass ? x : params;
            const float *an = pass ? dx : grad;
            double scale = pass ? sx : sg;
            size_t step = n > 150 ? n / 150 : 1;
            for (size_t i = 0; i < n; i += step) {
                float keep = v[i];
                double fd[2];
                for (int h = 0; h < 2; h++) {
                    float eps = h ? 1e-3f : 2e-3f;
                    v[i] = keep + eps;
                    double up = loss(ex, x, B, r, K);
                    v[i] = keep - eps;
                    double dn = loss(ex, x, B, r, K);
                    fd[h] = (up - dn) / (2.0 * eps);
                }
                v[i] = keep;
                if (fabs(fd[0] - fd[1]) > 1e-3 * scale) {
                    kinks++;
                    continue;
                }
                double e = fabs(fd[1] - an[i]) / scale;
                worst = fmax(worst, e);
                if (e > 2e-3) bad++;
                checked++;
            }
        }
        CHECK_MSG(bad == 0, "%d of %d entries off (worst %.3g of the max gradient)", bad, checked, worst);
        CHECK_MSG(kinks * 10 <= checked, "%d kinks in %d entries", kinks, checked);
        free(x);
        free(r);
        free(grad);
        free(dx);
        free(grad2);
        free(dx2);
        nr_exec_free(ex);
        nr_exec_free(fast);
    }
    nr_graph_free(g);
}

static void test_finite_differences(void)
{
    const op_case cases[] = {
        {"conv 3x3 stride 2", b_conv},         {"conv 5x5 pad 2", b_conv5},
        {"depthwise 3x3", b_depthwise},        {"depthwise 5x5 stride 2", b_depthwise_s2},
        {"dilated depthwise", b_dilated},      {"dilated dense stride 2", b_dilated_dense},
        {"grouped conv", b_grouped},           {"batchnorm affine", b_bn},
        {"batchnorm plain", b_bn_plain},       {"relu", b_relu},
        {"relu clip 1", b_relu6},              {"avgpool 3x3/1", b_avg3},
        {"avgpool 3x3/2 count pad", b_avg3_s2_cip}, {"avgpool 3x3/2", b_avg3_s2},
        {"avgpool 2x2/2", b_avg2},             {"maxpool 3x3/1", b_max3},
        {"maxpool 3x3/2", b_max3_s2},          {"maxpool 2x2/2", b_max2},
        {"concat", b_concat},                  {"slice", b_slice},
        {"crop", b_crop},                      {"add", b_add},
        {"zero", b_zero},                      {"identity", b_identity},
        {"factorized reduce", b_factorized},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) fd_case(&cases[i]);
}

/* ------------------------------------------------------------------ builder and liveness */

static void test_builder(void)
{
    nr_error err = {0};
    nr_graph *g = NULL;
    TEST("builder: shapes") {
        CHECK(nr_graph_new(3, 32, 32, &g, &err) == NR_OK);
        int c = nr_graph_conv(g, 0, "c", 8, 3, 2, 1, 1, 1);
        CHECK(nr_graph_layer(g, c)->H == 16 && nr_graph_layer(g, c)->C == 8);
        int d = nr_graph_conv(g, c, "d", 8, 3, 1, 2, 2, 8);
        CHECK(nr_graph_layer(g, d)->H == 16);
        int m = nr_graph_maxpool(g, d, 3, 2, 1);
        CHECK(nr_graph_layer(g, m)->H == 8);
        int z = nr_graph_zero(g, c, 2);
        CHECK(nr_graph_layer(g, z)->H == 8);
        int ins[2] = {m, z};
        int cat = nr_graph_concat(g, 2, ins);
        CHECK(nr_graph_layer(g, cat)->C == 16);
        int s = nr_graph_slice(g, cat, 4, 12);
        CHECK(nr_graph_layer(g, s)->C == 8);
        int p = nr_graph_global_avgpool(g, s);
        int fc = nr_graph_linear(g, p, "fc", 10, 1);
        nr_graph_set_output(g, fc);
        CHECK(nr_graph_finish(g, 1, &err) == NR_OK);
        /* params: 8*3*9 + 8*1*9 + 10*8 + 10 */
        CHECK(nr_graph_num_params(g) == 216 + 72 + 90);
        CHECK(nr_graph_num_tensors(g) == 4);
        CHECK(!strcmp(nr_graph_tensor(g, 1)->name, "d.weight"));
        CHECK(nr_graph_tensor(g, 1)->shape[1] == 1);
        CHECK(nr_graph_flops(g) == 216.0 * 256 + 72.0 * 256 + 90);
        unsigned char live[16];
        nr_graph_liveness(g, 0, live);
        CHECK(live[c] && live[d] && live[m] && live[z] && live[cat] && live[fc]);
        nr_graph_free(g);
        g = NULL;
    }
    TEST("builder: the first error is kept and named") {
        CHECK(nr_graph_new(4, 8, 8, &g, &err) == NR_OK);
        int a = nr_graph_conv(g, 0, "a", 6, 3, 1, 1, 1, 4); /* 6 % 4 != 0 */
        CHECK(a == -1);
        CHECK(nr_graph_relu(g, 0, 0) == -1); /* sticky */
        nr_error e2 = {0};
        CHECK(nr_graph_finish(g, 1, &e2) == NR_ERR_INVALID);
        CHECK_MSG(strstr(e2.text, "groups 4") != NULL, "%s", e2.text);
        nr_graph_free(g);
        CHECK(nr_graph_new(4, 8, 8, &g, &err) == NR_OK);
        int ins[2] = {0, 7};
        CHECK(nr_graph_add(g, 2, ins) == -1);
        nr_error e3 = {0};
        CHECK(nr_graph_finish(g, 1, &e3) == NR_ERR_INVALID);
        CHECK(strstr(e3.text, "not an earlier layer") != NULL);
        nr_graph_free(g);
        CHECK(nr_graph_new(4, 8, 8, &g, &err) == NR_OK);
        CHECK(nr_graph_crop(g, 0, 1, 1, 8, 8) == -1);
        nr_graph_free(g);
        CHECK(nr_graph_new(4, 8, 8, &g, &err) == NR_OK);
        CHECK(nr_graph_maxpool(g, 0, 3, 1, 2) == -1); /* pad > kernel/2 */
        nr_graph_free(g);
        CHECK(nr_graph_new(4, 8, 8, &g, &err) == NR_OK);
        nr_graph_relu(g, 0, 0);
        nr_error e4 = {0};
        CHECK(nr_graph_finish(g, 1, &e4) == NR_ERR_INVALID); /* no output */
        nr_graph_free(g);
        g = NULL;
        nr_exec *ex = NULL;
        CHECK(nr_graph_new(4, 8, 8, &g, &err) == NR_OK);
        nr_graph_set_output(g, nr_graph_relu(g, 0, 0));
        nr_error e5 = {0};
        CHECK(nr_exec_create(g, 1, NULL, &ex, &e5) == NR_ERR_INVALID); /* unfinished */
        CHECK(nr_graph_finish(g, 1, &err) == NR_OK);
        CHECK(nr_exec_create(g, 2, NULL, &ex, &err) == NR_OK);
        float img[2 * 4 * 64] = {0}, out[2 * 4 * 64];
        nr_error e6 = {0};
        CHECK(nr_exec_forward(ex, img, 3, out, NULL, NULL, &e6) == NR_ERR_INVALID); /* batch > max */
        nr_error e7 = {0};
        CHECK(nr_exec_forward(ex, img, 2, out, graph_tally, NULL, &e7) == NR_ERR_INVALID); /* sink without observing */
        nr_error e8 = {0};
        CHECK(nr_exec_backward(ex, out, NULL, NULL, NULL, NULL, &e8) == NR_ERR_INVALID); /* no backward */
        nr_exec_free(ex);
        nr_graph_free(g);
        g = NULL;
    }
    TEST("liveness: dead branches, observed ReLU inputs, zero") {
        CHECK(nr_graph_new(2, 4, 4, &g, &err) == NR_OK);
        int a = nr_graph_conv(g, 0, "a", 2, 1, 1, 0, 1, 1);     /* feeds only a dead ReLU */
        int ra = nr_graph_relu(g, a, 0);                        /* dead */
        int b = nr_graph_conv(g, 0, "b", 2, 1, 1, 0, 1, 1);     /* feeds only a zero */
        int zb = nr_graph_zero(g, b, 1);
        int p = nr_graph_avgpool(g, 0, 3, 1, 1, 0);             /* dead, no ReLU */
        int ins[2] = {zb, 0};
        int out = nr_graph_add(g, 2, ins);
        nr_graph_set_output(g, out);
        CHECK(nr_graph_finish(g, 1, &err) == NR_OK);
        unsigned char live[16];
        nr_graph_liveness(g, 0, live);
        CHECK(!live[a] && !live[ra] && !live[b] && live[zb] && !live[p] && live[out] && live[0]);
        nr_graph_liveness(g, 1, live);
        CHECK(live[a] && !live[ra] && !live[b] && !live[p]);
        nr_graph_free(g);
        g = NULL;
    }
}

/* ------------------------------------------------------------------ hand-built nets vs PyTorch */

#include "graph_nets.h"

static void test_hand_built_nets(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(NETS_FIXTURE, 0, &jerr);
    TEST("graph_nets fixture loads") CHECK_MSG(root != NULL, "%s:%d: %s", NETS_FIXTURE, jerr.line, jerr.text);
    if (!root) return;
    size_t i;
    json_t *net;
    json_array_foreach(json_object_get(root, "nets"), i, net) {
        const char *name = json_string_value(json_object_get(net, "name"));
        TEST(name) {
            nr_error err = {0};
            nr_graph *g = NULL;
            CHECK_MSG(nets_build(name, &g, &err) == NR_OK, "%s", err.text);
            if (!g) continue;
            CHECK_MSG(nr_graph_num_params(g) == (size_t)json_integer_value(json_object_get(net, "num_params")),
                      "%zu params", nr_graph_num_params(g));
            /* every parameter tensor: name, shape and first values */
            json_t *tensors = json_object_get(net, "tensors");
            CHECK(json_array_size(tensors) == nr_graph_num_tensors(g));
            size_t t;
            json_t *tj;
            int names_ok = 1, values_ok = 1;
            json_array_foreach(tensors, t, tj) {
                const nr_param_tensor *pt = nr_graph_tensor(g, t);
                if (!pt || strcmp(pt->name, json_string_value(json_array_get(tj, 0)))) {
                    names_ok = 0;
                    continue;
                }
                json_t *sh = json_array_get(tj, 1);
                for (int d = 0; d < pt->ndim; d++)
                    if ((int)json_integer_value(json_array_get(sh, (size_t)d)) != pt->shape[d]) names_ok = 0;
                if ((int)json_array_size(sh) != pt->ndim) names_ok = 0;
                double s = 0;
                for (size_t k = 0; k < pt->numel; k++) s += nr_graph_params(g)[pt->offset + k];
                if (fabs(s - json_number_value(json_array_get(tj, 2))) > 1e-9 * (double)pt->numel) values_ok = 0;
            }
            CHECK_MSG(names_ok, "tensor names and shapes (named_parameters order)");
            CHECK_MSG(values_ok, "tensor sums (the init)");
            /* layer shapes the fixture lists: [layer name, C, H, W] */
            size_t k;
            json_t *sj;
            int shapes_ok = 1;
            json_array_foreach(json_object_get(net, "shapes"), k, sj) {
                const char *ln = json_string_value(json_array_get(sj, 0));
                int found = 0;
                for (int l = 0; l < nr_graph_num_layers(g); l++) {
                    const nr_layer *L = nr_graph_layer(g, l);
                    if (strcmp(L->name, ln)) continue;
                    found = 1;
                    if (L->C != json_integer_value(json_array_get(sj, 1)) || L->H != json_integer_value(json_array_get(sj, 2)) ||
                        L->W != json_integer_value(json_array_get(sj, 3)))
                        shapes_ok = 0;
                }
                if (!found) shapes_ok = 0;
            }
            CHECK_MSG(shapes_ok, "layer shapes");
            /* forward on the fixture's input, fast and reference kernels */
            const nr_layer *in = nr_graph_layer(g, 0);
            int B = (int)json_integer_value(json_object_get(net, "batch"));
            size_t nx = (size_t)B * in->C * in->H * in->W;
            float *x = random_images((int)nx, 1, "graph_nets.input");
            const nr_layer *ol = nr_graph_layer(g, nr_graph_output(g));
            size_t no = (size_t)B * ol->C * ol->H * ol->W;
            json_t *exp = json_object_get(net, "output");
            CHECK(json_array_size(exp) == no);
            for (int ref = 0; ref < 2; ref++) {
                float *out = malloc(no * sizeof *out);
                nr_exec_options opt = {.reference = ref};
                nr_exec *ex = NULL;
                CHECK(nr_exec_create(g, B, &opt, &ex, &err) == NR_OK);
                CHECK(ex && nr_exec_forward(ex, x, B, out, NULL, NULL, &err) == NR_OK);
                double m = 0, worst = 0;
                for (size_t j = 0; j < no; j++) m = fmax(m, fabs(json_number_value(json_array_get(exp, j))));
                for (size_t j = 0; j < no && j < json_array_size(exp); j++)
                    worst = fmax(worst, fabs(out[j] - json_number_value(json_array_get(exp, j))) / (m + 1e-12));
                CHECK_MSG(worst < 1e-4, "%s kernels: output off by %.3g of max |y|", ref ? "reference" : "fast", worst);
                nr_exec_free(ex);
                free(out);
            }
            free(x);
            nr_graph_free(g);
        }
    }
    json_decref(root);
}

int main(void)
{
    test_builder();
    test_finite_differences();
    test_nb201_vs_net();
    test_nb201_fixture();
    test_hand_built_nets();
    return TEST_REPORT();
}
