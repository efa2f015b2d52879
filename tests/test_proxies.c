/* Zero-cost proxies: gradients and proxy values against PyTorch autograd
 * (tests/reference/nb201_grads.json, made by tests/reference/make_grad_fixtures.py), and
 * invariants: params/flops equal the counts, synflow finite and positive (never inf, even
 * for the largest arch), an ensemble of one proxy ranks like it, results independent of the
 * requested set, the call order and the thread count; the --proxy list parser. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank.h"
#include "ops/ops.h"
#include "ops/ops_backward.h"
#include "test.h"

#define FIXTURE NR_SOURCE_DIR "/tests/reference/nb201_grads.json"

static double jnum(json_t *o, const char *k) { return json_number_value(json_object_get(o, k)); }

/* worst |got - want| relative to `scale` over a stats object {sum, sum_abs, samples}. */
static double stats_err(json_t *want, const float *got, size_t n)
{
    double sum = 0, sum_abs = 0;
    for (size_t i = 0; i < n; i++) sum += got[i], sum_abs += fabs(got[i]);
    double sa = jnum(want, "sum_abs");
    double scale = sa / (double)n + 1e-30;
    double e = fabs(sum_abs - sa) / (sa + 1e-30);
    e = fmax(e, fabs(sum - jnum(want, "sum")) / (sa + 1e-30));
    size_t k;
    json_t *s;
    json_array_foreach(json_object_get(want, "samples"), k, s) {
        size_t idx = (size_t)json_integer_value(json_array_get(s, 0));
        double v = json_number_value(json_array_get(s, 1));
        /* samples relative to the tensor's mean |g| (deep float32 nets drift ~1e-3) */
        e = fmax(e, idx < n ? 0.1 * fabs(got[idx] - v) / scale : 1e9);
    }
    return e;
}

static void test_fixture(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(FIXTURE, 0, &jerr);
    TEST("fixture loads") CHECK_MSG(root != NULL, "%s:%d: %s", FIXTURE, jerr.line, jerr.text);
    if (!root) return;
    nr_error err = {0};
    json_t *img = json_object_get(root, "images"), *jc = json_object_get(root, "config");
    char path[4096];
    nr_images *im = NULL;
    TEST("fixture images") {
        CHECK(nr_data_find(json_string_value(json_object_get(img, "file")), path, sizeof path, &err) == NR_OK);
        CHECK(nr_images_read(path, NR_CIFAR10, &im, &err) == NR_OK);
    }
    if (!im) {
        json_decref(root);
        return;
    }
    nr_macro_config cfg = nr_macro_default();
    cfg.C = (int)json_integer_value(json_object_get(jc, "C"));
    cfg.N = (int)json_integer_value(json_object_get(jc, "N"));
    cfg.num_classes = (int)json_integer_value(json_object_get(jc, "num_classes"));
    cfg.image_size = (int)json_integer_value(json_object_get(jc, "image_size"));
    json_t *jidx = json_object_get(img, "indices"), *jlab = json_object_get(img, "labels");
    int B = (int)json_array_size(jidx), S = cfg.image_size, K = cfg.num_classes;
    size_t idx[64];
    int labels[64];
    for (int b = 0; b < B; b++) {
        idx[b] = (size_t)json_integer_value(json_array_get(jidx, (size_t)b));
        labels[b] = (int)json_integer_value(json_array_get(jlab, (size_t)b));
    }
    size_t D = (size_t)3 * S * S;
    float *x = malloc((size_t)B * D * sizeof *x);
    nr_norm norm = nr_norm_cifar10();
    TEST("fixture batch") CHECK(nr_images_batch(im, idx, (size_t)B, &norm, S, x, &err) == NR_OK);
    nr_proxy_data data = {x, labels, B, NULL, 0, NR_NASWOT_REFERENCE};
    nr_proxy_scorer *ps = NULL;
    TEST("scorer") CHECK(nr_proxy_scorer_create(&cfg, 1, &data, &ps, &err) == NR_OK);
    size_t ai;
    json_t *arch;
    json_array_foreach(json_object_get(root, "archs"), ai, arch) {
        const char *s = json_string_value(json_object_get(arch, "arch"));
        nr_arch a;
        TEST(s) {
            CHECK(nr_arch_parse(s, &a, &err) == NR_OK);
            nr_proxy_scores sc;
            json_t *jp = json_object_get(arch, "proxies");
            unsigned mask = NR_PROXY_BIT(NR_PROXY_SYNFLOW);
            if (jp) mask |= NR_PROXY_ALL & ~NR_PROXY_BIT(NR_PROXY_NASWOT);
            CHECK(nr_proxy_score(ps, &a, mask, &sc, &err) == NR_OK);
            double want = jnum(arch, "synflow");
            CHECK_MSG(isfinite(sc.value[NR_PROXY_SYNFLOW]) && fabs(sc.value[NR_PROXY_SYNFLOW] / want - 1) < 1e-5,
                      "synflow %.8g vs %.8g", sc.value[NR_PROXY_SYNFLOW], want);
            if (!jp) continue;
            /* proxies: float32 vs float32 torch (measured: ~1e-7 relative); grasp is a
             * finite difference (see proxy_grad.c; measured 5e-4 and 4e-5 here) */
            static const struct { int id; const char *name; double tol; } cmp[] = {
                {NR_PROXY_SNIP, "snip", 1e-5}, {NR_PROXY_GRAD_NORM, "grad_norm", 1e-5},
                {NR_PROXY_FISHER, "fisher", 1e-5}, {NR_PROXY_GRASP, "grasp", 1e-2}};
            for (size_t k = 0; k < sizeof cmp / sizeof *cmp; k++) {
                double w = jnum(jp, cmp[k].name), got = sc.value[cmp[k].id];
                CHECK_MSG(fabs(got - w) <= cmp[k].tol * fabs(w), "%s %.8g vs %.8g (rel %.2g)", cmp[k].name, got, w,
                          fabs(got / w - 1));
            }
            CHECK_MSG(fabs(sc.value[NR_PROXY_JACOB_COV] - jnum(jp, "jacob_cov")) < 1e-4, "jacob_cov %.8g vs %.8g",
                      sc.value[NR_PROXY_JACOB_COV], jnum(jp, "jacob_cov"));
            CHECK(sc.value[NR_PROXY_PARAMS] == (double)nr_arch_params(&a, &cfg));
            CHECK(sc.value[NR_PROXY_FLOPS] == nr_arch_flops(&a, &cfg) / 1e6);

            /* the gradients themselves: loss, logits, every tensor, the input */
            nr_net *net = NULL;
            nr_tape *tape = NULL;
            CHECK(nr_net_create(&a, &cfg, (uint64_t)json_integer_value(json_object_get(arch, "seed")), &net, &err) == NR_OK);
            CHECK(nr_tape_create(net, B, &tape, &err) == NR_OK);
            if (!tape) {
                nr_net_free(net);
                continue;
            }
            size_t np = nr_net_num_params(net);
            float *logits = malloc((size_t)B * K * sizeof *logits), *dz = calloc((size_t)B * K, sizeof *dz);
            float *g = calloc(np, sizeof *g), *gx = calloc((size_t)B * D, sizeof *gx);
            CHECK(nr_tape_forward(tape, x, B, logits, &err) == NR_OK);
            double loss = nr_cross_entropy(dz, logits, labels, B, K);
            CHECK_NEAR(loss, jnum(arch, "loss"), 1e-5);
            CHECK(nr_tape_backward(tape, dz, g, gx, &err) == NR_OK);
            double worst = 0;
            const char *worst_name = "";
            int missing = 0;
            size_t ti;
            json_t *jg;
            json_array_foreach(json_object_get(arch, "grads"), ti, jg) {
                const char *name = json_string_value(json_array_get(jg, 0));
                size_t t = 0, n = 0;
                while (t < nr_net_num_tensors(net) && strcmp(nr_net_tensor_name(net, t), name)) t++;
                if (t == nr_net_num_tensors(net)) {
                    missing++;
                    continue;
                }
                nr_net_tensor(net, t, &n);
                double e = stats_err(json_array_get(jg, 2), g + nr_net_tensor_offset(net, t), n);
                /* a gradient that is 0 in exact arithmetic (BN bias before the final BN)
                 * is float noise on both sides: compare those on an absolute scale */
                if (jnum(json_array_get(jg, 2), "sum_abs") < 1e-6 * n) e = 0;
                if (e > worst) worst = e, worst_name = name;
            }
            CHECK(missing == 0 && json_array_size(json_object_get(arch, "grads")) == nr_net_num_tensors(net));
            CHECK_MSG(worst < 5e-3, "parameter gradients: worst %g in %s", worst, worst_name);
            double ex = stats_err(json_object_get(arch, "input_grad"), gx, (size_t)B * D);
            CHECK_MSG(ex < 2e-3, "input gradient error %g", ex);
            free(logits), free(dz), free(g), free(gx);
            nr_tape_free(tape);
            nr_net_free(net);
        }
    }
    nr_proxy_scorer_free(ps);
    free(x);
    nr_images_free(im);
    json_decref(root);
}

/* A small config (C=8, N=1, 16x16 images) for the invariants. */
static void test_invariants(void)
{
    nr_error err = {0};
    char path[4096];
    nr_images *im = NULL;
    TEST("cifar10 images") {
        CHECK(nr_data_find("cifar10/data_batch_1_head4000.bin", path, sizeof path, &err) == NR_OK);
        CHECK(nr_images_read(path, NR_CIFAR10, &im, &err) == NR_OK);
    }
    if (!im) return;
    nr_macro_config cfg = nr_macro_default();
    cfg.C = 8, cfg.N = 1, cfg.image_size = 16;
    int B = 16, NB = 24, S = 16;
    size_t pick[24];
    int labels[24];
    float *x = malloc((size_t)NB * 3 * S * S * sizeof *x);
    nr_norm norm = nr_norm_cifar10();
    nr_images_choose(im, (size_t)NB, 3, pick, &err);
    nr_images_batch(im, pick, (size_t)NB, &norm, S, x, &err);
    for (int b = 0; b < NB; b++) labels[b] = im->labels[pick[b]];
    nr_proxy_data data = {x, labels, B, x, NB, NR_NASWOT_REFERENCE};
    nr_proxy_scorer *ps = NULL, *ps2 = NULL;
    TEST("scorers") {
        CHECK(nr_proxy_scorer_create(&cfg, 5, &data, &ps, &err) == NR_OK);
        CHECK(nr_proxy_scorer_create(&cfg, 5, &data, &ps2, &err) == NR_OK);
    }
    const char *archs[] = {
        "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
        "|avg_pool_3x3~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
        "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
        "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
    };
    enum { NA = sizeof archs / sizeof *archs };
    double all[NA][NR_NUM_PROXIES];
    for (int t = 0; t < NA; t++) {
        nr_arch a;
        nr_arch_parse(archs[t], &a, &err);
        TEST(archs[t]) {
            nr_proxy_scores sc, sc2, one;
            CHECK(nr_proxy_score(ps, &a, NR_PROXY_ALL, &sc, &err) == NR_OK);
            memcpy(all[t], sc.value, sizeof all[t]);
            int finite = 1;
            double sum = 0;
            for (int i = 0; i < NR_NUM_PROXIES; i++) {
                finite &= !isnan(sc.value[i]) && sc.value[i] != INFINITY;
                CHECK(sc.seconds[i] >= 0);
                sum += sc.seconds[i];
            }
            CHECK(finite);
            CHECK(sum <= sc.total_seconds * 1.0001 + 1e-6);
            CHECK(sc.value[NR_PROXY_PARAMS] == (double)nr_arch_params(&a, &cfg));
            CHECK(sc.value[NR_PROXY_FLOPS] == nr_arch_flops(&a, &cfg) / 1e6);
            int dead = t == 3; /* all none: the cells output 0 */
            CHECK_MSG(dead ? sc.value[NR_PROXY_SYNFLOW] == 0 : sc.value[NR_PROXY_SYNFLOW] > 0, "synflow %g",
                      sc.value[NR_PROXY_SYNFLOW]);
            if (dead) CHECK(sc.value[NR_PROXY_JACOB_COV] == -INFINITY && sc.value[NR_PROXY_NASWOT] == -INFINITY);
            else CHECK(isfinite(sc.value[NR_PROXY_JACOB_COV]) && sc.value[NR_PROXY_SNIP] > 0);
            /* same values from a fresh scorer, in a different order, one proxy at a time */
            for (int i = NR_NUM_PROXIES - 1; i >= 0; i--) {
                CHECK(nr_proxy_score(ps2, &a, NR_PROXY_BIT(i), &one, &err) == NR_OK);
                CHECK_MSG(one.value[i] == sc.value[i] || (isnan(one.value[i]) && isnan(sc.value[i])),
                          "%s alone %.17g vs %.17g", nr_proxy_info_get(i)->name, one.value[i], sc.value[i]);
                for (int j = 0; j < NR_NUM_PROXIES; j++)
                    if (j != i) CHECK(isnan(one.value[j]) && one.seconds[j] == 0);
            }
            /* and again: deterministic */
            CHECK(nr_proxy_score(ps, &a, NR_PROXY_ALL, &sc2, &err) == NR_OK);
            CHECK(memcmp(sc.value, sc2.value, sizeof sc.value) == 0);
        }
    }
    TEST("thread count") {
        int nt = nr_threads_get();
        nr_arch a;
        nr_arch_parse(archs[0], &a, &err);
        nr_proxy_scores s1, s2;
        nr_threads_set(nt == 1 ? 2 : 1);
        CHECK(nr_proxy_score(ps, &a, NR_PROXY_ALL, &s1, &err) == NR_OK);
        nr_threads_set(nt);
        CHECK(nr_proxy_score(ps, &a, NR_PROXY_ALL, &s2, &err) == NR_OK);
        CHECK(memcmp(s1.value, s2.value, sizeof s1.value) == 0);
    }
    TEST("synflow of the largest arch, full size: finite, no overflow") {
        nr_macro_config full = nr_macro_default();
        nr_proxy_scorer *pf = NULL;
        CHECK(nr_proxy_scorer_create(&full, 1, NULL, &pf, &err) == NR_OK);
        nr_arch a;
        nr_arch_parse(archs[2], &a, &err);
        nr_proxy_scores sc;
        CHECK(nr_proxy_score(pf, &a, NR_PROXY_BIT(NR_PROXY_SYNFLOW), &sc, &err) == NR_OK);
        CHECK_MSG(isfinite(sc.value[NR_PROXY_SYNFLOW]) && sc.value[NR_PROXY_SYNFLOW] > 1e40, "%g", sc.value[NR_PROXY_SYNFLOW]);
        CHECK(nr_proxy_score(pf, &a, NR_PROXY_BIT(NR_PROXY_SNIP), &sc, &err) == NR_ERR_INVALID);
        nr_proxy_scorer_free(pf);
    }
    TEST("ensemble") {
        double col[NA], ens[NA], r1[NA], r2[NA];
        for (int i = 0; i < NR_NUM_PROXIES; i++) {
            for (int t = 0; t < NA; t++) col[t] = all[t][i];
            CHECK(nr_rank_ensemble(col, NA, 1, 1, ens, &err) == NR_OK);
            for (int t = 0; t < NA; t++) col[t] = col[t] == -INFINITY ? -1e300 : col[t]; /* the lowest */
            CHECK(nr_rank_average(col, NA, r1, &err) == NR_OK);
            nr_rank_average(ens, NA, r2, &err);
            CHECK(memcmp(r1, r2, sizeof r1) == 0); /* one proxy ranks like the proxy */
        }
        double x[4 * 2] = {1, 10, 2, NAN, 3, 30, 3, -INFINITY};
        CHECK(nr_rank_ensemble(x, 4, 2, 2, ens, &err) == NR_OK);
        /* col 0 ranks 0, 1, 2.5, 2.5 -> /3; col 1: 10 -> 2, NaN/-inf tied at 0.5, 30 -> 3 */
        CHECK_NEAR(ens[0], (0.0 + 2.0 / 3) / 2, 1e-12);
        CHECK_NEAR(ens[1], (1.0 / 3 + 0.5 / 3) / 2, 1e-12);
        CHECK_NEAR(ens[2], (2.5 / 3 + 1.0) / 2, 1e-12);
        CHECK_NEAR(ens[3], (2.5 / 3 + 0.5 / 3) / 2, 1e-12);
        CHECK(nr_rank_ensemble(x, 1, 2, 2, ens, &err) == NR_OK && ens[0] == 0.5);
        CHECK(nr_rank_ensemble(x, 4, 2, 1, ens, &err) == NR_ERR_INVALID);
    }
    nr_proxy_scorer_free(ps);
    nr_proxy_scorer_free(ps2);
    free(x);
    nr_images_free(im);
}

static void test_parse(void)
{
    nr_error err = {0};
    unsigned mask, ens;
    int want;
    TEST("parse") {
        CHECK(nr_proxy_parse_list("naswot", &mask, &want, &ens, &err) == NR_OK && mask == 1 && !want);
        CHECK(nr_proxy_parse_list("synflow,snip", &mask, &want, &ens, &err) == NR_OK &&
              mask == (NR_PROXY_BIT(NR_PROXY_SYNFLOW) | NR_PROXY_BIT(NR_PROXY_SNIP)));
        CHECK(nr_proxy_parse_list("all", &mask, &want, &ens, &err) == NR_OK && mask == NR_PROXY_ALL);
        ens = 0;
        CHECK(nr_proxy_parse_list("flops,ensemble", &mask, &want, &ens, &err) == NR_OK && want &&
              ens == nr_proxy_default_ensemble() && mask == (ens | NR_PROXY_BIT(NR_PROXY_FLOPS)));
        ens = NR_PROXY_BIT(NR_PROXY_GRASP);
        CHECK(nr_proxy_parse_list("ensemble", &mask, &want, &ens, &err) == NR_OK && mask == ens);
        CHECK(nr_proxy_parse_list("all,ensemble", &mask, &want, &ens, &err) == NR_OK && mask == NR_PROXY_ALL && want);
        CHECK(nr_proxy_parse_list("ensemble", &mask, NULL, NULL, &err) == NR_ERR_INVALID);
        const char *bad[] = {"", "snip,", ",snip", "snip,,naswot", "snap", "snip,snip", "SNIP", "all,all",
                             "ensemble,ensemble", "synflow_bn", "naswot aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"};
        for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
            nr_error e = {0};
            CHECK_MSG(nr_proxy_parse_list(bad[i], &mask, &want, &ens, &e) == NR_ERR_INVALID, "'%s' accepted", bad[i]);
        }
        nr_error e = {0};
        nr_proxy_parse_list("snip,snap", &mask, &want, &ens, &e);
        CHECK(strstr(e.text, "unknown proxy 'snap'") != NULL);
        for (int i = 0; i < NR_NUM_PROXIES; i++) CHECK(nr_proxy_find(nr_proxy_info_get(i)->name) == i);
        CHECK(nr_proxy_info_get(NR_NUM_PROXIES) == NULL && nr_proxy_find("ensemble") == -1);
    }
}

int main(void)
{
    test_parse();
    test_invariants();
    test_fixture();
    return TEST_REPORT();
}
