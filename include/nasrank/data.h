/* nasrank — image data: CIFAR binary readers and batch preparation.
 *
 * CIFAR-10 record: 1 label byte (0..9) + 3072 pixel bytes (R, G, B planes, 32x32 row-major).
 * CIFAR-100 record: coarse label (0..19), fine label (0..99), then 3072 pixel bytes.
 * Any number of records; the file size must be a multiple of the record size.
 */
#ifndef NASRANK_DATA_H
#define NASRANK_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/error.h"

typedef enum nr_image_format { NR_CIFAR10 = 10, NR_CIFAR100 = 100 } nr_image_format;

typedef struct nr_images {
    size_t n;               /* records */
    unsigned char *pixels;  /* (n, 3, 32, 32) uint8 */
    int *labels;            /* (n) label (CIFAR-100: fine label) */
    int *coarse;            /* (n) CIFAR-100 coarse label; NULL for CIFAR-10 */
} nr_images;

/* Read a whole binary file.  *out is new (free with nr_images_free); *out is NULL on error.
 * Errors carry source = path and, where a record is at fault, line = its 1-based number
 * (also written as "record N" in the text):
 *   NR_ERR_IO     cannot open (strerror text), a directory or other non-regular file,
 *                 larger than 2 GiB (refused before reading), read error / file changed
 *   NR_ERR_PARSE  empty file (line 0); size not a multiple of the record size ("truncated:
 *                 ... last record K is incomplete (M bytes)", line K); label out of range
 *                 (CIFAR-10 label > 9, CIFAR-100 coarse > 19 or fine > 99), line = record
 *   NR_ERR_INVALID unknown format, NULL path/out;  NR_ERR_NOMEM. */
nr_status nr_images_read(const char *path, nr_image_format fmt, nr_images **out, nr_error *err);
/* Frees im and its pixels/labels/coarse arrays (each its own malloc).  Accepts NULL. */
void nr_images_free(nr_images *im);

/* Per-channel normalisation x = (p/255 - mean[c]) / std[c] (values stored as float). */
typedef struct nr_norm {
    float mean[3];
    float std[3];
} nr_norm;
nr_norm nr_norm_cifar10(void);  /* mean (125.3,123.0,113.9)/255, std (63.0,62.1,66.7)/255 */
nr_norm nr_norm_cifar100(void); /* mean (129.3,124.1,112.4)/255, std (68.2,65.4,70.4)/255 */

/* Choose B distinct records deterministically from `seed`: partial Fisher-Yates,
 *   perm = 0..n-1; r = nr_rng_seeded(seed);
 *   for b in 0..B-1: j = b + nr_rng_below(&r, n - b); swap(perm[b], perm[j]); indices[b] = perm[b]
 * so a larger B extends a smaller one, and B == n gives a permutation.  indices has room for
 * B entries.  NR_ERR_INVALID when B == 0 or B > n; allocates n size_t of scratch (NOMEM). */
nr_status nr_images_choose(const nr_images *im, size_t B, uint64_t seed, size_t *indices,
                           nr_error *err);

/* Normalised float batch out (B, 3, S, S) from records indices[0..B-1] (repeats allowed).
 *   S = 32: out = (float)((p / 255.0 - (double)mean[c]) / (double)std[c]), computed in
 *           double and rounded once.
 *   S = 16: for ImageNet16-120-sized nets: the 2x2 box average of the normalised image,
 *           out[i][j] = (float)(0.25 * sum of the four double values above over rows 2i, 2i+1
 *           and columns 2j, 2j+1), rounded once.
 * NR_ERR_INVALID for another S, an index >= n, a non-finite mean/std or std <= 0, NULL
 * arguments.  Does not allocate. */
nr_status nr_images_batch(const nr_images *im, const size_t *indices, size_t B,
                          const nr_norm *norm, int S, float *out, nr_error *err);

#endif
