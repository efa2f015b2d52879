/* Network engine and NASWOT vs the PyTorch reference (tests/reference/nb201_forward.json,
 * made by tests/reference/make_fixtures.py), plus invariants that need no fixture. */
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank.h"
#include "net/net_internal.h"
#include "test.h"

#define FIXTURE NR_SOURCE_DIR "/tests/reference/nb201_forward.json"

typedef struct capture {
    json_t *expected; /* array of activation objects */
    size_t next;
    double worst;     /* max sample error relative to mean |x| */
    double worst_sum; /* max error of sum and sum |x|, relative to sum |x| */
    int mismatched_names;
} capture;

/* Compare each delivered activation with the next expected one, in forward order. */
static void capture_sink(void *ctx, const nr_activation *a)
{
    capture *c = ctx;
    json_t *e = json_array_get(c->expected, c->next++);
    if (!e || strcmp(json_string_value(json_object_get(e, "name")), a->name) != 0) {
        c->mismatched_names++;
        return;
    }
    size_t n = (size_t)a->B * a->C * a->H * a->W;
    double sum = 0, sum_abs = 0;
    for (size_t i = 0; i < n; i++) {
        sum += a->x[i];
        sum_abs += fabs(a->x[i]);
    }
    /* sums relative to sum |x| (a BN output's plain sum is mostly cancellation) */
    double scale = json_number_value(json_object_get(e, "sum_abs")) / (double)n + 1e-12;
    double rel = fabs(sum_abs - json_number_value(json_object_get(e, "sum_abs"))) / (scale * (double)n);
    if (rel > c->worst_sum) c->worst_sum = rel;
    rel = fabs(sum - json_number_value(json_object_get(e, "sum"))) / (scale * (double)n);
    if (rel > c->worst_sum) c->worst_sum = rel;
    size_t k;
    json_t *s;
    json_array_foreach(json_object_get(e, "samples"), k, s) {
        size_t idx = (size_t)json_integer_value(json_array_get(s, 0));
        double v = json_number_value(json_array_get(s, 1));
        double r = idx < n ? fabs(a->x[idx] - v) / scale : 1e9;
        if (r > c->worst) c->worst = r;
    }
}

static nr_macro_config fixture_config(json_t *arch)
{
    json_t *c = json_object_get(arch, "config");
    nr_macro_config cfg = nr_macro_default();
    cfg.C = (int)json_integer_value(json_object_get(c, "C"));
    cfg.N = (int)json_integer_value(json_object_get(c, "N"));
    cfg.num_classes = (int)json_integer_value(json_object_get(c, "num_classes"));
    cfg.image_size = (int)json_integer_value(json_object_get(c, "image_size"));
    return cfg;
}

static float *load_batch(const nr_images *im, json_t *indices, int S, int *B)
{
    *B = (int)json_array_size(indices);
    size_t idx[64];
    for (int i = 0; i < *B && i < 64; i++) idx[i] = (size_t)json_integer_value(json_array_get(indices, (size_t)i));
    float *x = malloc((size_t)*B * 3 * S * S * sizeof *x);
    nr_norm norm = nr_norm_cifar10();
    nr_error err = {0};
    if (nr_images_batch(im, idx, (size_t)*B, &norm, S, x, &err)) {
        free(x);
        return NULL;
    }
    return x;
}

static double json_score(json_t *v)
{
    if (json_is_number(v)) return json_number_value(v);
    return -INFINITY; /* null / "-inf": singular kernel */
}

static void test_against_fixture(void)
{
    json_error_t jerr;
    json_t *root = json_load_file(FIXTURE, 0, &jerr);
    TEST("fixture loads") CHECK_MSG(root != NULL, "%s:%d: %s", FIXTURE, jerr.line, jerr.text);
    if (!root) return;
    nr_error err = {0};
    char path[4096];
    nr_images *im = NULL;
    const char *file = json_string_value(json_object_get(json_object_get(root, "images"), "file"));
    TEST("fixture images") {
        CHECK(file && nr_data_find(file, path, sizeof path, &err) == NR_OK);
        CHECK(nr_images_read(path, NR_CIFAR10, &im, &err) == NR_OK);
    }
    if (!im) {
        json_decref(root);
        return;
    }

    /* the RNG and init scheme, before anything else */
    TEST("init matches the reference bit for bit") {
        json_t *ic = json_object_get(root, "init_check");
        nr_arch a = nr_arch_from_id(0);
        nr_net *net = NULL;
        nr_macro_config cfg = nr_macro_default();
        CHECK(nr_net_create(&a, &cfg, (uint64_t)json_integer_value(json_object_get(ic, "seed")), &net, &err) == NR_OK);
        size_t numel;
        const float *w = nr_net_tensor(net, 0, &numel);
        CHECK(!strcmp(nr_net_tensor_name(net, 0), json_string_value(json_object_get(ic, "name"))));
        size_t k;
        json_t *v;
        json_array_foreach(json_object_get(ic, "first"), k, v) CHECK_NEAR(w[k], json_number_value(v), 0);
        nr_net_free(net);
    }

    size_t ai;
    json_t *arch;
    json_array_foreach(json_object_get(root, "archs"), ai, arch) {
        const char *s = json_string_value(json_object_get(arch, "arch"));
        nr_arch a;
        nr_macro_config cfg = fixture_config(arch);
        uint64_t seed = (uint64_t)json_integer_value(json_object_get(arch, "seed"));
        TEST(s) {
            CHECK(nr_arch_parse(s, &a, &err) == NR_OK);
            nr_net *net = NULL;
            CHECK(nr_net_create(&a, &cfg, seed, &net, &err) == NR_OK);
            if (!net) continue;
            CHECK_MSG(nr_net_num_params(net) == (size_t)json_integer_value(json_object_get(arch, "num_params")),
                      "%zu params", nr_net_num_params(net));
            CHECK(nr_net_num_params(net) == (size_t)nr_arch_params(&a, &cfg));

            /* forward: logits and every ReLU input */
            int B;
            float *x = load_batch(im, json_object_get(root, "forward_batch"), cfg.image_size, &B);
            float *logits = malloc((size_t)B * cfg.num_classes * sizeof *logits);
            capture cap = {json_object_get(arch, "activations"), 0, 0, 0, 0};
            CHECK(x && nr_net_forward(net, x, B, logits, capture_sink, &cap, &err) == NR_OK);
            CHECK_MSG(cap.mismatched_names == 0 && cap.next == json_array_size(cap.expected),
                      "%d names differ, %zu of %zu delivered", cap.mismatched_names, cap.next,
                      json_array_size(cap.expected));
            /* deep activations of float32 nets drift by ~4e-4 of their scale between two
             * float orders (measured against float64 when the fixture was made) */
            CHECK_MSG(cap.worst < 2e-3, "activation sample error %g of mean |x|", cap.worst);
            CHECK_MSG(cap.worst_sum < 1e-4, "activation sum error %g of sum |x|", cap.worst_sum);
            double worst = 0, scale = 0;
            json_t *lrow, *lv;
            size_t bi, ci;
            json_array_foreach(json_object_get(arch, "logits"), bi, lrow) json_array_foreach(lrow, ci, lv)
                scale = fmax(scale, fabs(json_number_value(lv)));
            json_array_foreach(json_object_get(arch, "logits"), bi, lrow) json_array_foreach(lrow, ci, lv)
                worst = fmax(worst, fabs(logits[bi * (size_t)cfg.num_classes + ci] - json_number_value(lv)) / scale);
            CHECK_MSG(worst < 1e-4, "logits max relative error %g", worst);
            free(x);
            free(logits);

            /* NASWOT, both variants */
            x = load_batch(im, json_object_get(root, "naswot_batch"), cfg.image_size, &B);
            const char *variants[2] = {"reference", "paper"};
            for (int v = 0; v < 2; v++) {
                json_t *ref = json_object_get(json_object_get(json_object_get(arch, "naswot"), variants[v]), "score");
                json_t *units = json_object_get(json_object_get(json_object_get(arch, "naswot"), variants[v]), "n_units");
                nr_naswot *nw = NULL;
                nr_naswot_result res;
                CHECK(nr_naswot_create(B, (nr_naswot_variant)v, &nw, &err) == NR_OK);
                CHECK(nr_net_forward(net, x, B, NULL, nr_naswot_sink, nw, &err) == NR_OK);
                CHECK(nr_naswot_finish(nw, &res, &err) == NR_OK);
                CHECK(res.n_units == json_integer_value(units));
                double want = json_score(ref);
                if (isinf(want)) CHECK_MSG(isinf(res.score) && res.score < 0 && res.sign == 0, "score %g", res.score);
                else CHECK_MSG(fabs(res.score - want) <= 1e-6 * fabs(want), "%s score %.10g vs %.10g", variants[v], res.score, want);
                if (v == 0) { /* the kernel itself, entry by entry */
                    const int64_t *K = nr_naswot_kernel(nw);
                    json_t *krow, *kv;
                    size_t i, j;
                    long long maxdiff = 0;
                    json_array_foreach(json_object_get(json_object_get(arch, "naswot"), "K_reference"), i, krow)
                        json_array_foreach(krow, j, kv) {
                            long long d = llabs(K[i * (size_t)B + j] - json_integer_value(kv));
                            if (d > maxdiff) maxdiff = d;
                        }
                    /* a unit whose input is within float rounding of 0 may flip sides: allow
                     * 5e-5 of N_A (float32 vs float64 moved entries by up to 1.2e-5) */
                    CHECK_MSG(maxdiff <= 5e-5 * (double)res.n_units, "K differs by %lld", maxdiff);
                }
                nr_naswot_free(nw);
            }
            free(x);
            nr_net_free(net);
        }
    }
    nr_images_free(im);
    json_decref(root);
}

/* Kernel invariants and the N_A formula on random images (no fixture needed). */
static void test_invariants(void)
{
    nr_rng r = nr_rng_seeded(5);
    int B = 8, S = 32;
    float *x = malloc((size_t)B * 3 * S * S * sizeof *x);
    for (int i = 0; i < B * 3 * S * S; i++) x[i] = (float)nr_rng_normal(&r);
    nr_macro_config cfg = nr_macro_default();
    nr_error err = {0};
    const char *archs[] = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|",
        "|avg_pool_3x3~0|+|none~0|nor_conv_1x1~1|+|nor_conv_3x3~0|none~1|nor_conv_3x3~2|",
        "|skip_connect~0|+|avg_pool_3x3~0|none~1|+|none~0|nor_conv_1x1~1|skip_connect~2|",
    };
    for (size_t t = 0; t < sizeof archs / sizeof *archs; t++) {
        TEST(archs[t]) {
            nr_arch a;
            CHECK(nr_arch_parse(archs[t], &a, &err) == NR_OK);
            int k = nr_arch_num_conv(&a);
            nr_net *net = NULL;
            CHECK(nr_net_create(&a, &cfg, 3, &net, &err) == NR_OK);
            nr_naswot *nw[2] = {0};
            nr_naswot_result res[2];
            for (int v = 0; v < 2; v++) {
                CHECK(nr_naswot_create(B, (nr_naswot_variant)v, &nw[v], &err) == NR_OK);
                CHECK(nr_net_forward(net, x, B, NULL, nr_naswot_sink, nw[v], &err) == NR_OK);
                CHECK(nr_naswot_finish(nw[v], &res[v], &err) == NR_OK);
                const int64_t *K = nr_naswot_kernel(nw[v]);
                int sym = 1, diag = 1, bounded = 1;
                for (int i = 0; i < B; i++)
                    for (int j = 0; j < B; j++) {
                        sym &= K[i * B + j] == K[j * B + i];
                        diag &= K[i * B + i] == res[v].n_units;
                        bounded &= K[i * B + j] >= 0 && K[i * B + j] <= res[v].n_units;
                    }
                CHECK(sym);
                CHECK(diag);
                CHECK(bounded);
            }
            CHECK(res[0].n_units == 286720LL * k + 77824);
            CHECK(res[1].n_units == 143360LL * k + 40960);
            /* skipping dead nodes must not change anything: force every node live */
            nr_net *full = NULL;
            CHECK(nr_net_create(&a, &cfg, 3, &full, &err) == NR_OK);
            for (int j = 0; j < 4; j++) full->needed[j] = 1;
            nr_naswot *nwf = NULL;
            nr_naswot_result rf;
            CHECK(nr_naswot_create(B, NR_NASWOT_REFERENCE, &nwf, &err) == NR_OK);
            CHECK(nr_net_forward(full, x, B, NULL, nr_naswot_sink, nwf, &err) == NR_OK);
            CHECK(nr_naswot_finish(nwf, &rf, &err) == NR_OK);
            CHECK(memcmp(nr_naswot_kernel(nwf), nr_naswot_kernel(nw[0]), (size_t)B * B * sizeof(int64_t)) == 0);
            /* same seed, same result bit for bit; another seed, another result */
            nr_naswot_result again;
            CHECK(nr_naswot_score_arch(&a, &cfg, 3, x, B, NR_NASWOT_REFERENCE, &again, &err) == NR_OK);
            CHECK(again.score == res[0].score);
            CHECK(nr_naswot_score_arch(&a, &cfg, 4, x, B, NR_NASWOT_REFERENCE, &again, &err) == NR_OK);
            CHECK(again.score != res[0].score);
            nr_naswot_free(nwf);
            nr_net_free(full);
            for (int v = 0; v < 2; v++) nr_naswot_free(nw[v]);
            nr_net_free(net);
        }
    }
    free(x);
}

static void test_logdet(void)
{
    nr_error err = {0};
    double ld;
    int sign;
    TEST("logdet") {
        double a[9] = {4, 2, 0, 2, 3, 1, 0, 1, 5}; /* det = 4*14 - 2*10 = 36 */
        CHECK(nr_logdet(a, 3, &ld, &sign, &err) == NR_OK);
        CHECK_NEAR(ld, log(36.0), 1e-12);
        CHECK(sign == 1);
        double b[4] = {0, 1, 1, 0}; /* det = -1: needs a pivot swap */
        CHECK(nr_logdet(b, 2, &ld, &sign, &err) == NR_OK);
        CHECK_NEAR(ld, 0.0, 1e-15);
        CHECK(sign == -1);
        double c[4] = {3, 3, 3, 3}; /* singular */
        CHECK(nr_logdet(c, 2, &ld, &sign, &err) == NR_OK);
        CHECK(isinf(ld) && ld < 0 && sign == 0);
        double d[4] = {1, NAN, 0, 1};
        CHECK(nr_logdet(d, 2, &ld, &sign, &err) == NR_ERR_NUMERIC);
    }
    TEST("executed flops skip dead conv groups") {
        nr_macro_config cfg = nr_macro_default();
        const char *pairs[][2] = {
            /* node 1 feeds nothing: its incoming conv never runs */
            {"|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|",
             "|none~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|"},
            /* dead node 1 alone in node 0's 1x1 group: skipped */
            {"|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
             "|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|"},
            /* dead node 1 shares node 0's 3x3 group with live node 3: the stacked conv runs */
            {"|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|",
             "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|nor_conv_3x3~0|none~1|avg_pool_3x3~2|"},
            /* everything live */
            {"|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
             "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"},
        };
        for (int i = 0; i < 4; i++) {
            nr_arch a, live;
            nr_net *net = NULL;
            CHECK(nr_arch_parse(pairs[i][0], &a, &err) == NR_OK);
            CHECK(nr_arch_parse(pairs[i][1], &live, &err) == NR_OK);
            CHECK(nr_net_create(&a, &cfg, 1, &net, &err) == NR_OK);
            CHECK(nr_net_flops_executed(net) == nr_arch_flops(&live, &cfg));
            CHECK(nr_net_flops(net) == nr_arch_flops(&a, &cfg));
            nr_net_free(net);
        }
    }
    TEST("bad net config") {
        nr_arch a = nr_arch_from_id(7);
        nr_macro_config cfg = nr_macro_default();
        cfg.image_size = 30;
        nr_net *net = NULL;
        nr_error e2 = {0};
        CHECK(nr_net_create(&a, &cfg, 1, &net, &e2) == NR_ERR_INVALID && net == NULL);
        CHECK(strstr(e2.text, "image_size=30") != NULL);
    }
}

int main(void)
{
    test_logdet();
    test_invariants();
    test_against_fixture();
    return TEST_REPORT();
}
