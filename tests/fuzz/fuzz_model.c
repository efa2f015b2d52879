/* libFuzzer target: the predictor model JSON loader (src/predictor/model_io.c, jansson).
 * A failure must be a well-formed error; a loaded model must predict finite scores for a few
 * architectures, and saving it and loading it again must predict bit for bit the same. */
#include <math.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "nasrank/predictor.h"

static char g_path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    snprintf(g_path, sizeof g_path, "/tmp/nasrank-fuzz-model-%ld.json", (long)getpid());
    return 0;
}

static void predict(const nr_predictor *p, double *scores)
{
    nr_arch a[4] = {nr_arch_from_id(0), nr_arch_from_id(1234), nr_arch_from_id(9999),
                    nr_arch_from_id(NR_NUM_ARCHS - 1)};
    /* the model's S proxy features (bit order), values each accepts: -inf where allowed, 0 */
    unsigned mask = nr_predictor_get_config(p)->features;
    int S = nr_predictor_num_score_features(mask);
    double feat[4 * 7];
    for (int k = 0; k < S; k++) {
        unsigned bit = nr_predictor_score_feature(mask, k);
        int ninf = bit == NR_FEAT_NASWOT || bit == NR_FEAT_JACOB_COV;
        double v[4] = {100.0, ninf ? -INFINITY : 0.0, bit == NR_FEAT_GRASP ? -50.5 : 50.5, 1e-3};
        for (int i = 0; i < 4; i++) feat[i * S + k] = v[i];
    }
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_predictor_predict(p, a, S ? feat : NULL, 4, scores, &e);
    if (st != NR_OK) {
        FUZZ_CHECK_ERROR(st, e); /* e.g. a numeric blow-up, reported */
        for (int i = 0; i < 4; i++) scores[i] = NAN;
        return;
    }
    for (int i = 0; i < 4; i++) FUZZ_CHECK(!isnan(scores[i]));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    nr_predictor *p = NULL;
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_predictor_parse((const char *)data, size, "model.json", &p, &e);
    if (st != NR_OK) {
        FUZZ_CHECK_ERROR(st, e);
        FUZZ_CHECK(p == NULL);
        return 0;
    }
    FUZZ_CHECK(nr_predictor_config_check(nr_predictor_get_config(p), NULL) == NR_OK);
    double s1[4], s2[4];
    predict(p, s1);
    if (nr_predictor_save(p, g_path, NULL) == NR_OK) {
        nr_predictor *q = NULL;
        st = nr_predictor_load(g_path, &q, &e);
        FUZZ_CHECK(st == NR_OK);
        predict(q, s2);
        FUZZ_CHECK(memcmp(s1, s2, sizeof s1) == 0);
        nr_predictor_free(q);
        unlink(g_path);
    }
    nr_predictor_free(p);
    return 0;
}
