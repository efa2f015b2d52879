/* CIFAR-10 / CIFAR-100 binary readers, deterministic batch choice, normalisation.
 *
 * File layout (official cifar-10-batches-bin / cifar-100-binary):
 *   CIFAR-10  record = label (1 byte, 0..9) + pixels (3072 bytes)              = 3073 bytes
 *   CIFAR-100 record = coarse (1 byte, 0..19) + fine (1 byte, 0..99) + pixels  = 3074 bytes
 *   pixels = R plane, G plane, B plane; each plane 32x32 row-major (top row first).
 * No header, no padding: the file size must be a positive multiple of the record size.
 */
#include "nasrank/data.h"
#include "nasrank/rng.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define NR_CIFAR_SIDE 32
#define NR_CIFAR_PLANE (NR_CIFAR_SIDE * NR_CIFAR_SIDE) /* 1024 */
#define NR_CIFAR_PIXELS (3 * NR_CIFAR_PLANE)           /* 3072 */
#define NR_CIFAR_MAX_BYTES 2147483648.0                /* refuse files larger than 2 GiB */

void nr_images_free(nr_images *im)
{
    if (!im) return;
    free(im->pixels);
    free(im->labels);
    free(im->coarse);
    free(im);
}

nr_status nr_images_read(const char *path, nr_image_format fmt, nr_images **out, nr_error *err)
{
    nr_status st = NR_OK;
    FILE *f = NULL;
    nr_images *im = NULL;
    size_t size = 0, n = 0;

    if (out) *out = NULL;
    if (!path || !out)
        return nr_error_set(err, NR_ERR_INVALID, path, 0, 0, "nr_images_read: NULL argument");
    if (fmt != NR_CIFAR10 && fmt != NR_CIFAR100)
        return nr_error_set(err, NR_ERR_INVALID, path, 0, 0,
                            "unknown image format %d (expected NR_CIFAR10 or NR_CIFAR100)",
                            (int)fmt);
    const char *name = fmt == NR_CIFAR10 ? "CIFAR-10" : "CIFAR-100";
    const size_t head = fmt == NR_CIFAR10 ? 1 : 2; /* label bytes per record */
    const size_t rec = head + NR_CIFAR_PIXELS;     /* 3073 or 3074 */

    f = fopen(path, "rb");
    if (!f) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open %s file: %s", name,
                          strerror(errno));
        goto fail;
    }
    /* fstat on the open stream: fopen succeeds on a directory, and this avoids a race
     * between checking the path and opening it. */
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot stat %s file: %s", name,
                          strerror(errno));
        goto fail;
    }
    if (S_ISDIR(sb.st_mode)) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0,
                          "is a directory, not a %s binary file", name);
        goto fail;
    }
    if (!S_ISREG(sb.st_mode)) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0,
                          "not a regular file (a %s binary file is needed)", name);
        goto fail;
    }
    if (sb.st_size < 0 || (double)sb.st_size > NR_CIFAR_MAX_BYTES) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0,
                          "refusing to read %lld bytes: larger than the 2 GiB limit for a "
                          "%s binary file",
                          (long long)sb.st_size, name);
        goto fail;
    }
    size = (size_t)sb.st_size;
    if (size == 0) {
        st = nr_error_set(err, NR_ERR_PARSE, path, 0, 0,
                          "empty file: no %s records (each record is %zu bytes)", name, rec);
        goto fail;
    }
    n = size / rec;
    if (size % rec != 0) {
        st = nr_error_set(err, NR_ERR_PARSE, path, (long)(n + 1), 0,
                          "truncated: %zu bytes is not a multiple of the %zu-byte record; "
                          "last record %zu is incomplete (%zu bytes)",
                          size, rec, n + 1, size % rec);
        goto fail;
    }

    im = calloc(1, sizeof *im);
    if (!im) goto nomem;
    im->n = n;
    im->pixels = malloc(n * NR_CIFAR_PIXELS); /* (n, 3, 32, 32): one allocation */
    im->labels = malloc(n * sizeof *im->labels);
    if (!im->pixels || !im->labels) goto nomem;
    if (fmt == NR_CIFAR100) {
        im->coarse = malloc(n * sizeof *im->coarse);
        if (!im->coarse) goto nomem;
    }

    for (size_t r = 0; r < n; r++) {
        unsigned char lab[2];
        unsigned char *px = im->pixels + r * NR_CIFAR_PIXELS;
        if (fread(lab, 1, head, f) != head || fread(px, 1, NR_CIFAR_PIXELS, f) != NR_CIFAR_PIXELS) {
            if (ferror(f))
                st = nr_error_set(err, NR_ERR_IO, path, (long)(r + 1), 0,
                                  "read error in record %zu: %s", r + 1, strerror(errno));
            else
                st = nr_error_set(err, NR_ERR_IO, path, (long)(r + 1), 0,
                                  "unexpected end of file in record %zu (the file shrank "
                                  "while being read?)",
                                  r + 1);
            goto fail;
        }
        const long off = (long)(r * rec);
        if (fmt == NR_CIFAR10) {
            if (lab[0] > 9) {
                st = nr_error_set(err, NR_ERR_PARSE, path, (long)(r + 1), 0,
                                  "record %zu (byte offset %ld): label %d out of range 0..9",
                                  r + 1, off, lab[0]);
                goto fail;
            }
            im->labels[r] = lab[0];
        } else {
            if (lab[0] > 19) {
                st = nr_error_set(err, NR_ERR_PARSE, path, (long)(r + 1), 0,
                                  "record %zu (byte offset %ld): coarse label %d out of "
                                  "range 0..19",
                                  r + 1, off, lab[0]);
                goto fail;
            }
            if (lab[1] > 99) {
                st = nr_error_set(err, NR_ERR_PARSE, path, (long)(r + 1), 0,
                                  "record %zu (byte offset %ld): fine label %d out of "
                                  "range 0..99",
                                  r + 1, off + 1, lab[1]);
                goto fail;
            }
            im->coarse[r] = lab[0];
            im->labels[r] = lab[1];
        }
    }
    if (fgetc(f) != EOF) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0,
                          "file grew while being read (expected %zu bytes)", size);
        goto fail;
    }
    if (ferror(f)) {
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "read error at end of file: %s",
                          strerror(errno));
        goto fail;
    }
    if (fclose(f) != 0) {
        f = NULL;
        st = nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot close file: %s", strerror(errno));
        goto fail;
    }
    *out = im;
    return NR_OK;

nomem:
    st = nr_error_set(err, NR_ERR_NOMEM, path, 0, 0,
                      "out of memory reading %s file (%zu bytes)", name, size);
fail:
    if (f) fclose(f);
    nr_images_free(im);
    return st;
}

nr_norm nr_norm_cifar10(void)
{
    nr_norm m = {{(float)(125.3 / 255.0), (float)(123.0 / 255.0), (float)(113.9 / 255.0)},
                 {(float)(63.0 / 255.0), (float)(62.1 / 255.0), (float)(66.7 / 255.0)}};
    return m;
}

nr_norm nr_norm_cifar100(void)
{
    nr_norm m = {{(float)(129.3 / 255.0), (float)(124.1 / 255.0), (float)(112.4 / 255.0)},
                 {(float)(68.2 / 255.0), (float)(65.4 / 255.0), (float)(70.4 / 255.0)}};
    return m;
}

/* Partial Fisher-Yates: perm = 0..n-1; for b = 0..B-1: j = b + below(n - b); swap perm[b],
 * perm[j]; indices[b] = perm[b].  r = nr_rng_seeded(seed), below = nr_rng_below. */
nr_status nr_images_choose(const nr_images *im, size_t B, uint64_t seed, size_t *indices,
                           nr_error *err)
{
    if (!im || !indices)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "nr_images_choose: NULL argument");
    const size_t n = im->n;
    if (B == 0)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "batch size 0: need at least one image (the set has %zu)", n);
    if (B > n)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "batch size %zu exceeds the %zu images in the set", B, n);
    size_t *perm = malloc(n * sizeof *perm); /* (n) */
    if (!perm)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0,
                            "out of memory choosing %zu of %zu images", B, n);
    for (size_t i = 0; i < n; i++) perm[i] = i;
    nr_rng r = nr_rng_seeded(seed);
    for (size_t b = 0; b < B; b++) {
        size_t j = b + (size_t)nr_rng_below(&r, (uint64_t)(n - b));
        size_t t = perm[b];
        perm[b] = perm[j];
        perm[j] = t;
        indices[b] = perm[b];
    }
    free(perm);
    return NR_OK;
}

/* out (B, 3, S, S).  For each chosen image and channel c, pixel p (uint8):
 *   x = (float)((p / 255.0 - (double)mean[c]) / (double)std[c])        (S = 32)
 * computed in double and rounded once.  For S = 16 each output is the 2x2 box average of
 * those normalised values, also summed in double and rounded once:
 *   y[i][j] = (float)(0.25 * (x'[2i][2j] + x'[2i][2j+1] + x'[2i+1][2j] + x'[2i+1][2j+1]))
 * where x' is the double value before rounding. */
nr_status nr_images_batch(const nr_images *im, const size_t *indices, size_t B,
                          const nr_norm *norm, int S, float *out, nr_error *err)
{
    if (!im || !indices || !norm || !out || !im->pixels)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "nr_images_batch: NULL argument");
    if (S != 32 && S != 16)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "image size %d not supported (expected 32, or 16 for 2x2 "
                            "downsampling)",
                            S);
    for (int c = 0; c < 3; c++) {
        if (!isfinite(norm->mean[c]) || !isfinite(norm->std[c]) || !(norm->std[c] > 0.0f))
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "normalisation channel %d: mean %g, std %g (need finite "
                                "values and std > 0)",
                                c, (double)norm->mean[c], (double)norm->std[c]);
    }
    for (size_t b = 0; b < B; b++) {
        if (indices[b] >= im->n)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "batch entry %zu: image index %zu out of range (the set has "
                                "%zu images)",
                                b, indices[b], im->n);
    }
    const size_t SS = (size_t)S * (size_t)S;
    for (size_t b = 0; b < B; b++) {
        const unsigned char *img = im->pixels + indices[b] * NR_CIFAR_PIXELS; /* (3, 32, 32) */
        for (int c = 0; c < 3; c++) {
            const unsigned char *p = img + (size_t)c * NR_CIFAR_PLANE; /* (32, 32) */
            float *o = out + (b * 3 + (size_t)c) * SS;                 /* (S, S) */
            const double mean = norm->mean[c], sd = norm->std[c];
            if (S == 32) {
                for (int i = 0; i < NR_CIFAR_PLANE; i++)
                    o[i] = (float)((p[i] / 255.0 - mean) / sd);
            } else {
                for (int i = 0; i < 16; i++) {
                    for (int j = 0; j < 16; j++) {
                        const unsigned char *q = p + 2 * i * NR_CIFAR_SIDE + 2 * j;
                        double s = (q[0] / 255.0 - mean) / sd + (q[1] / 255.0 - mean) / sd +
                                   (q[NR_CIFAR_SIDE] / 255.0 - mean) / sd +
                                   (q[NR_CIFAR_SIDE + 1] / 255.0 - mean) / sd;
                        o[i * 16 + j] = (float)(0.25 * s);
                    }
                }
            }
        }
    }
    return NR_OK;
}
