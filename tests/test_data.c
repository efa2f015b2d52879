/* Tests for include/nasrank/data.h: CIFAR binary readers, batch choice, normalisation. */
#include "nasrank/data.h"
#include "nasrank/paths.h"
#include "nasrank/rng.h"
#include "test.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PIX 3072

static char tmpdir[256];

/* tmpdir/name into buf. */
static const char *tmp_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", tmpdir, name);
    return buf;
}

/* Known pixel value of record r, byte i (covers 0..255 across records). */
static unsigned char pix(size_t r, size_t i)
{
    return (unsigned char)((r * 7 + i * 13 + (i >> 5)) & 255);
}

/* Write n records; head = 1 (CIFAR-10: labels a[]) or 2 (CIFAR-100: a[] coarse, b[] fine).
 * extra bytes of a partial record are appended when extra > 0.  Returns 0 on success. */
static int write_records(const char *path, size_t head, size_t n, const int *a, const int *b,
                         size_t extra)
{
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int bad = 0;
    for (size_t r = 0; r < n; r++) {
        unsigned char rec[2 + PIX];
        rec[0] = (unsigned char)a[r];
        if (head == 2) rec[1] = (unsigned char)b[r];
        for (size_t i = 0; i < PIX; i++) rec[head + i] = pix(r, i);
        if (fwrite(rec, 1, head + PIX, f) != head + PIX) bad = 1;
    }
    for (size_t i = 0; i < extra; i++)
        if (fputc((int)(i & 255), f) == EOF) bad = 1;
    if (fclose(f) != 0) bad = 1;
    return bad ? -1 : 0;
}

/* Reads path expecting failure; checks code, line, and that text contains want. */
static void expect_read_error(const char *path, nr_image_format fmt, nr_status code, long line,
                              const char *want)
{
    nr_error e;
    nr_error_clear(&e);
    nr_images *im = (nr_images *)&e; /* must be reset to NULL */
    nr_status st = nr_images_read(path, fmt, &im, &e);
    CHECK_MSG(st == code, "status %d, want %d (%s)", (int)st, (int)code, e.text);
    CHECK(e.code == code);
    CHECK(im == NULL);
    CHECK_MSG(e.line == line, "line %ld, want %ld", e.line, line);
    CHECK_MSG(strstr(e.text, want) != NULL, "text \"%s\" lacks \"%s\"", e.text, want);
    CHECK_MSG(strcmp(e.source, path) == 0, "source \"%s\", want \"%s\"", e.source, path);
    /* err may be NULL */
    CHECK(nr_images_read(path, fmt, &im, NULL) == code);
    CHECK(im == NULL);
}

static int contains_all_distinct(const size_t *idx, size_t B, size_t n)
{
    unsigned char *seen = calloc(n, 1);
    if (!seen) return 0;
    int ok = 1;
    for (size_t b = 0; b < B; b++) {
        if (idx[b] >= n || seen[idx[b]]) ok = 0;
        else seen[idx[b]] = 1;
    }
    free(seen);
    return ok;
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/nasrank_test_data_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 1;
    }
    char p10[512], p100[512], p[512];
    tmp_path(p10, sizeof p10, "c10.bin");
    tmp_path(p100, sizeof p100, "c100.bin");
    nr_images *c10 = NULL, *c100 = NULL;

    TEST("read cifar10")
    {
        int lab[12];
        for (int r = 0; r < 12; r++) lab[r] = (r * 3) % 10;
        lab[11] = 9;
        CHECK(write_records(p10, 1, 12, lab, NULL, 0) == 0);
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_images_read(p10, NR_CIFAR10, &c10, &e) == NR_OK);
        CHECK(e.code == NR_OK);
        CHECK(c10 != NULL);
        if (c10) {
            CHECK(c10->n == 12);
            CHECK(c10->coarse == NULL);
            int ok = 1;
            for (size_t r = 0; r < c10->n; r++) {
                if (c10->labels[r] != lab[r]) ok = 0;
                for (size_t i = 0; i < PIX; i++)
                    if (c10->pixels[r * PIX + i] != pix(r, i)) ok = 0;
            }
            CHECK(ok);
        }
    }

    TEST("read cifar100")
    {
        int co[7], fi[7];
        for (int r = 0; r < 7; r++) {
            co[r] = (r * 5) % 20;
            fi[r] = (r * 37) % 100;
        }
        co[6] = 19;
        fi[6] = 99;
        CHECK(write_records(p100, 2, 7, co, fi, 0) == 0);
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_images_read(p100, NR_CIFAR100, &c100, &e) == NR_OK);
        CHECK(c100 != NULL);
        if (c100) {
            CHECK(c100->n == 7);
            CHECK(c100->coarse != NULL);
            int ok = 1;
            for (size_t r = 0; r < c100->n && c100->coarse; r++) {
                if (c100->labels[r] != fi[r] || c100->coarse[r] != co[r]) ok = 0;
                for (size_t i = 0; i < PIX; i++)
                    if (c100->pixels[r * PIX + i] != pix(r, i)) ok = 0;
            }
            CHECK(ok);
        }
    }

    TEST("read errors")
    {
        int lab[6] = {0, 1, 2, 3, 4, 5};
        tmp_path(p, sizeof p, "missing.bin");
        expect_read_error(p, NR_CIFAR10, NR_ERR_IO, 0, strerror(ENOENT));

        tmp_path(p, sizeof p, "empty.bin");
        CHECK(write_records(p, 1, 0, lab, NULL, 0) == 0);
        expect_read_error(p, NR_CIFAR10, NR_ERR_PARSE, 0, "empty file");
        expect_read_error(p, NR_CIFAR100, NR_ERR_PARSE, 0, "empty file");

        tmp_path(p, sizeof p, "trunc.bin");
        CHECK(write_records(p, 1, 5, lab, NULL, 100) == 0);
        expect_read_error(p, NR_CIFAR10, NR_ERR_PARSE, 6,
                          "truncated: 15465 bytes is not a multiple of the 3073-byte record; "
                          "last record 6 is incomplete (100 bytes)");

        tmp_path(p, sizeof p, "short.bin"); /* shorter than one record */
        CHECK(write_records(p, 1, 0, lab, NULL, 3000) == 0);
        expect_read_error(p, NR_CIFAR10, NR_ERR_PARSE, 1, "last record 1 is incomplete (3000 bytes)");

        /* a CIFAR-100 file read as CIFAR-10: 7 * 3074 = 21518 = 7 * 3073 + 7 */
        expect_read_error(p100, NR_CIFAR10, NR_ERR_PARSE, 8,
                          "21518 bytes is not a multiple of the 3073-byte record; "
                          "last record 8 is incomplete (7 bytes)");
        /* a CIFAR-10 file read as CIFAR-100: 12 * 3073 = 36876 = 11 * 3074 + 3062 */
        expect_read_error(p10, NR_CIFAR100, NR_ERR_PARSE, 12,
                          "36876 bytes is not a multiple of the 3074-byte record; "
                          "last record 12 is incomplete (3062 bytes)");

        tmp_path(p, sizeof p, "badlabel10.bin");
        int bad10[5] = {1, 2, 10, 3, 255};
        CHECK(write_records(p, 1, 5, bad10, NULL, 0) == 0);
        expect_read_error(p, NR_CIFAR10, NR_ERR_PARSE, 3, "record 3 (byte offset 6146): label 10 out of range 0..9");

        tmp_path(p, sizeof p, "badcoarse.bin");
        int co[4] = {0, 20, 1, 1}, fi[4] = {0, 5, 6, 7};
        CHECK(write_records(p, 2, 4, co, fi, 0) == 0);
        expect_read_error(p, NR_CIFAR100, NR_ERR_PARSE, 2, "record 2 (byte offset 3074): coarse label 20 out of range 0..19");

        tmp_path(p, sizeof p, "badfine.bin");
        int co2[4] = {0, 19, 1, 1}, fi2[4] = {0, 99, 6, 100};
        CHECK(write_records(p, 2, 4, co2, fi2, 0) == 0);
        expect_read_error(p, NR_CIFAR100, NR_ERR_PARSE, 4, "record 4 (byte offset 9223): fine label 100 out of range 0..99");

        tmp_path(p, sizeof p, "subdir");
        CHECK(mkdir(p, 0700) == 0);
        expect_read_error(p, NR_CIFAR10, NR_ERR_IO, 0, "is a directory");
        CHECK(rmdir(p) == 0);

        /* > 2 GiB: a sparse file, refused before anything is read or allocated */
        tmp_path(p, sizeof p, "huge.bin");
        FILE *f = fopen(p, "wb");
        CHECK(f != NULL);
        if (f) {
            CHECK(ftruncate(fileno(f), (off_t)2147483648LL + 3073) == 0);
            CHECK(fclose(f) == 0);
            expect_read_error(p, NR_CIFAR10, NR_ERR_IO, 0, "larger than the 2 GiB limit");
        }
        CHECK(remove(p) == 0);

        /* bad arguments */
        nr_images *im = NULL;
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_images_read(p10, (nr_image_format)7, &im, &e) == NR_ERR_INVALID);
        CHECK(im == NULL);
        CHECK(strstr(e.text, "unknown image format 7") != NULL);
        CHECK(nr_images_read(NULL, NR_CIFAR10, &im, NULL) == NR_ERR_INVALID);
        CHECK(nr_images_read(p10, NR_CIFAR10, NULL, NULL) == NR_ERR_INVALID);

        /* first error wins */
        nr_error_clear(&e);
        nr_error_set(&e, NR_ERR_NOTFOUND, "earlier", 0, 0, "earlier");
        tmp_path(p, sizeof p, "missing.bin");
        CHECK(nr_images_read(p, NR_CIFAR10, &im, &e) == NR_ERR_IO);
        CHECK(e.code == NR_ERR_NOTFOUND && strcmp(e.text, "earlier") == 0);
        nr_images_free(NULL);
    }

    TEST("choose")
    {
        nr_images fake = {50, NULL, NULL, NULL};
        size_t a[50], b[50], c[50];
        CHECK(nr_images_choose(&fake, 10, 42, a, NULL) == NR_OK);
        CHECK(contains_all_distinct(a, 10, 50));
        CHECK(nr_images_choose(&fake, 10, 42, b, NULL) == NR_OK);
        CHECK(memcmp(a, b, sizeof(size_t) * 10) == 0);
        CHECK(nr_images_choose(&fake, 10, 43, c, NULL) == NR_OK);
        CHECK(contains_all_distinct(c, 10, 50));
        CHECK(memcmp(a, c, sizeof(size_t) * 10) != 0);

        /* the documented algorithm, re-implemented */
        size_t perm[50];
        for (size_t i = 0; i < 50; i++) perm[i] = i;
        nr_rng r = nr_rng_seeded(42);
        int same = 1;
        for (size_t k = 0; k < 10; k++) {
            size_t j = k + (size_t)nr_rng_below(&r, 50 - k);
            size_t t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
            if (a[k] != perm[k]) same = 0;
        }
        CHECK(same);

        /* a larger B keeps the prefix of a smaller one (same draws) */
        CHECK(nr_images_choose(&fake, 30, 42, b, NULL) == NR_OK);
        CHECK(memcmp(a, b, sizeof(size_t) * 10) == 0);

        /* B == n is a permutation, and not the identity */
        CHECK(nr_images_choose(&fake, 50, 7, c, NULL) == NR_OK);
        CHECK(contains_all_distinct(c, 50, 50));
        int identity = 1;
        for (size_t i = 0; i < 50; i++)
            if (c[i] != i) identity = 0;
        CHECK(!identity);

        nr_images one = {1, NULL, NULL, NULL};
        CHECK(nr_images_choose(&one, 1, 99, c, NULL) == NR_OK);
        CHECK(c[0] == 0);

        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_images_choose(&fake, 51, 42, c, &e) == NR_ERR_INVALID);
        CHECK_MSG(strstr(e.text, "batch size 51 exceeds the 50 images") != NULL, "%s", e.text);
        nr_error_clear(&e);
        CHECK(nr_images_choose(&fake, 0, 42, c, &e) == NR_ERR_INVALID);
        CHECK_MSG(strstr(e.text, "batch size 0") != NULL, "%s", e.text);
        CHECK(nr_images_choose(NULL, 1, 42, c, NULL) == NR_ERR_INVALID);
    }

    TEST("norm constants")
    {
        nr_norm n10 = nr_norm_cifar10(), n100 = nr_norm_cifar100();
        CHECK_NEAR(n10.mean[0] * 255.0, 125.3, 1e-4);
        CHECK_NEAR(n10.mean[1] * 255.0, 123.0, 1e-4);
        CHECK_NEAR(n10.mean[2] * 255.0, 113.9, 1e-4);
        CHECK_NEAR(n10.std[0] * 255.0, 63.0, 1e-4);
        CHECK_NEAR(n10.std[1] * 255.0, 62.1, 1e-4);
        CHECK_NEAR(n10.std[2] * 255.0, 66.7, 1e-4);
        CHECK_NEAR(n100.mean[0] * 255.0, 129.3, 1e-4);
        CHECK_NEAR(n100.mean[1] * 255.0, 124.1, 1e-4);
        CHECK_NEAR(n100.mean[2] * 255.0, 112.4, 1e-4);
        CHECK_NEAR(n100.std[0] * 255.0, 68.2, 1e-4);
        CHECK_NEAR(n100.std[1] * 255.0, 65.4, 1e-4);
        CHECK_NEAR(n100.std[2] * 255.0, 70.4, 1e-4);
    }

    TEST("batch 32x32")
    {
        if (c10) {
            nr_norm nm = nr_norm_cifar10();
            size_t idx[3] = {4, 0, 11};
            float *x = malloc(sizeof(float) * 3 * PIX);
            CHECK(x != NULL);
            if (x) {
                CHECK(nr_images_batch(c10, idx, 3, &nm, 32, x, NULL) == NR_OK);
                /* exact: the documented double formula rounded once */
                int exact = 1;
                for (size_t b = 0; b < 3; b++)
                    for (size_t c = 0; c < 3; c++)
                        for (size_t i = 0; i < 1024; i++) {
                            unsigned char v = pix(idx[b], c * 1024 + i);
                            float want = (float)((v / 255.0 - (double)nm.mean[c]) / (double)nm.std[c]);
                            if (x[(b * 3 + c) * 1024 + i] != want) exact = 0;
                        }
                CHECK(exact);
                /* by hand: record 4, red (0,0) = 28 -> (28 - 125.3) / 63 = -1.544444...
                 * record 0, green (0,0) = 13*1024+32 = 13344 & 255 = 32 -> (32-123)/62.1 */
                CHECK(pix(4, 0) == 28);
                CHECK_NEAR(x[0], (28 - 125.3) / 63.0, 1e-6);
                CHECK(pix(0, 1024) == 32);
                CHECK_NEAR(x[(1 * 3 + 1) * 1024], (32 - 123.0) / 62.1, 1e-6);
                /* extremes for the blue channel: 0 -> -113.9/66.7, 255 -> 141.1/66.7 */
                unsigned char *px = c10->pixels + 11 * PIX + 2048;
                unsigned char save0 = px[0], save1 = px[1];
                px[0] = 0;
                px[1] = 255;
                CHECK(nr_images_batch(c10, idx + 2, 1, &nm, 32, x, NULL) == NR_OK);
                CHECK_NEAR(x[2048], -113.9 / 66.7, 1e-6);
                CHECK_NEAR(x[2049], 141.1 / 66.7, 1e-6);
                px[0] = save0;
                px[1] = save1;
                free(x);
            }
        }
    }

    TEST("batch 16x16")
    {
        if (c100) {
            nr_norm nm = nr_norm_cifar100();
            size_t idx[4] = {6, 2, 2, 0};
            float *x32 = malloc(sizeof(float) * 4 * PIX);
            float *x16 = malloc(sizeof(float) * 4 * 3 * 256);
            CHECK(x32 && x16);
            if (x32 && x16) {
                CHECK(nr_images_batch(c100, idx, 4, &nm, 32, x32, NULL) == NR_OK);
                CHECK(nr_images_batch(c100, idx, 4, &nm, 16, x16, NULL) == NR_OK);
                double maxd = 0;
                for (size_t b = 0; b < 4; b++)
                    for (size_t c = 0; c < 3; c++)
                        for (size_t i = 0; i < 16; i++)
                            for (size_t j = 0; j < 16; j++) {
                                const float *s = x32 + (b * 3 + c) * 1024;
                                double naive = (s[(2 * i) * 32 + 2 * j] + s[(2 * i) * 32 + 2 * j + 1] +
                                                s[(2 * i + 1) * 32 + 2 * j] +
                                                (double)s[(2 * i + 1) * 32 + 2 * j + 1]) / 4.0;
                                double d = fabs(naive - x16[((b * 3 + c) * 16 + i) * 16 + j]);
                                if (d > maxd) maxd = d;
                            }
                CHECK_NEAR(maxd, 0.0, 1e-6);
                /* repeated index gives identical planes */
                CHECK(memcmp(x16 + 1 * 768, x16 + 2 * 768, 768 * sizeof(float)) == 0);
                /* by hand: image 0, red, block (0,0) = mean of the four pixels, then normalised */
                double sum = 0;
                const unsigned char q[4] = {pix(0, 0), pix(0, 1), pix(0, 32), pix(0, 33)};
                for (int k = 0; k < 4; k++) sum += q[k];
                CHECK_NEAR(x16[3 * 768], (sum / 4.0 - 129.3) / 68.2, 1e-6);
            }
            free(x32);
            free(x16);
        }
    }

    TEST("batch errors")
    {
        if (c10) {
            nr_norm nm = nr_norm_cifar10();
            float x[3 * 1024];
            size_t idx[2] = {0, 12};
            nr_error e;
            nr_error_clear(&e);
            CHECK(nr_images_batch(c10, idx, 1, &nm, 8, x, &e) == NR_ERR_INVALID);
            CHECK(strstr(e.text, "image size 8 not supported") != NULL);
            CHECK(nr_images_batch(c10, idx, 1, &nm, 64, x, NULL) == NR_ERR_INVALID);
            CHECK(nr_images_batch(c10, idx, 1, &nm, 0, x, NULL) == NR_ERR_INVALID);
            nr_error_clear(&e);
            CHECK(nr_images_batch(c10, idx, 2, &nm, 32, x, &e) == NR_ERR_INVALID);
            CHECK_MSG(strstr(e.text, "image index 12 out of range") != NULL, "%s", e.text);
            nr_norm bad = nm;
            bad.std[1] = 0.0f;
            CHECK(nr_images_batch(c10, idx, 1, &bad, 32, x, NULL) == NR_ERR_INVALID);
            CHECK(nr_images_batch(c10, idx, 1, NULL, 32, x, NULL) == NR_ERR_INVALID);
        }
    }

    TEST("shared cifar10 test batch")
    {
        char path[1024];
        nr_error e;
        nr_error_clear(&e);
        if (nr_data_find("cifar10/test_batch_head1017.bin", path, sizeof path, &e) != NR_OK) {
            fprintf(stderr, "note: shared CIFAR-10 data not found, skipped (%s)\n", e.text);
        } else {
            nr_images *im = NULL;
            CHECK(nr_images_read(path, NR_CIFAR10, &im, &e) == NR_OK);
            if (im) {
                static const int want[10] = {3, 8, 8, 0, 6, 6, 1, 6, 3, 1};
                CHECK(im->n == 1017);
                int ok = 1;
                for (int i = 0; i < 10; i++)
                    if (im->labels[i] != want[i]) ok = 0;
                CHECK(ok);
                /* a real batch of 128 normalises to roughly zero mean, unit spread */
                size_t idx[128];
                CHECK(nr_images_choose(im, 128, 1, idx, NULL) == NR_OK);
                float *x = malloc(sizeof(float) * 128 * PIX);
                if (x) {
                    nr_norm nm = nr_norm_cifar10();
                    CHECK(nr_images_batch(im, idx, 128, &nm, 32, x, NULL) == NR_OK);
                    double s = 0, s2 = 0;
                    for (size_t i = 0; i < 128 * PIX; i++) {
                        s += x[i];
                        s2 += (double)x[i] * x[i];
                    }
                    double m = s / (128 * PIX), v = s2 / (128 * PIX) - m * m;
                    CHECK_MSG(fabs(m) < 0.2 && v > 0.7 && v < 1.3, "mean %g var %g", m, v);
                    free(x);
                }
                nr_images_free(im);
            }
        }
    }

    TEST("shared cifar100 test batch")
    {
        char path[1024];
        nr_error e;
        nr_error_clear(&e);
        if (nr_data_find("cifar100/test_head916.bin", path, sizeof path, &e) != NR_OK) {
            fprintf(stderr, "note: shared CIFAR-100 data not found, skipped (%s)\n", e.text);
        } else {
            nr_images *im = NULL;
            CHECK(nr_images_read(path, NR_CIFAR100, &im, &e) == NR_OK);
            if (im) {
                static const int want[10] = {49, 33, 72, 51, 71, 92, 15, 14, 23, 0};
                CHECK(im->n == 916);
                CHECK(im->coarse != NULL);
                int ok = 1;
                for (int i = 0; i < 10; i++)
                    if (im->labels[i] != want[i]) ok = 0;
                CHECK(ok);
                nr_images_free(im);
            }
        }
    }

    nr_images_free(c10);
    nr_images_free(c100);
    /* clean up the temporary directory */
    static const char *names[] = {"c10.bin", "c100.bin", "empty.bin", "trunc.bin", "short.bin",
                                  "badlabel10.bin", "badcoarse.bin", "badfine.bin"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tmp_path(p, sizeof p, names[i]);
        remove(p);
    }
    CHECK(rmdir(tmpdir) == 0);
    return TEST_REPORT();
}
