/* libFuzzer target: the CIFAR-10 / CIFAR-100 binary reader (src/io/cifar.c) and the batch
 * preparation after it.  The first input byte picks the format and the batch parameters; the
 * rest is the file.  A success must have a whole number of records and labels in range; the
 * batch must be finite. */
#include <math.h>
#include <stdint.h>

#include "fuzz_util.h"
#include "nasrank/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    unsigned ctl = data[0];
    nr_image_format fmt = (ctl & 1) ? NR_CIFAR100 : NR_CIFAR10;
    char path[64];
    int fd = fuzz_memfile(data + 1, size - 1, path, sizeof path);
    if (fd < 0) return 0;
    nr_images *im = NULL;
    nr_error e;
    nr_error_clear(&e);
    nr_status st = nr_images_read(path, fmt, &im, &e);
    close(fd);
    if (st != NR_OK) {
        FUZZ_CHECK_ERROR(st, e);
        FUZZ_CHECK(im == NULL);
        return 0;
    }
    size_t rec = fmt == NR_CIFAR10 ? 3073 : 3074;
    FUZZ_CHECK(im->n >= 1 && im->n * rec == size - 1);
    for (size_t i = 0; i < im->n; i++) {
        FUZZ_CHECK(im->labels[i] >= 0 && im->labels[i] < (fmt == NR_CIFAR10 ? 10 : 100));
        if (fmt == NR_CIFAR100) FUZZ_CHECK(im->coarse[i] >= 0 && im->coarse[i] < 20);
    }
    size_t B = 1 + ((ctl >> 1) & 7);
    int S = (ctl & 16) ? 16 : 32;
    size_t idx[8];
    nr_error_clear(&e);
    st = nr_images_choose(im, B, ctl >> 5, idx, &e);
    if (B > im->n) {
        FUZZ_CHECK(st == NR_ERR_INVALID);
    } else {
        FUZZ_CHECK(st == NR_OK);
        for (size_t b = 0; b < B; b++) {
            FUZZ_CHECK(idx[b] < im->n);
            for (size_t q = 0; q < b; q++) FUZZ_CHECK(idx[q] != idx[b]);
        }
        float *out = malloc(B * 3 * (size_t)S * (size_t)S * sizeof *out);
        FUZZ_CHECK(out != NULL);
        nr_norm norm = fmt == NR_CIFAR10 ? nr_norm_cifar10() : nr_norm_cifar100();
        FUZZ_CHECK(nr_images_batch(im, idx, B, &norm, S, out, NULL) == NR_OK);
        for (size_t k = 0; k < B * 3 * (size_t)S * (size_t)S; k++) FUZZ_CHECK(isfinite(out[k]));
        free(out);
    }
    nr_images_free(im);
    return 0;
}
