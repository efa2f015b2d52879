/* Tests for the plots (src/plot): well-formed SVG and PNG files, errors, determinism. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/utf8.h"
#include "nasrank/plot.h"
#include "nasrank/rng.h"
#include "test.h"

static char dir[64];

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)len + 1);
    size_t got = fread(buf, 1, (size_t)len, f);
    fclose(f);
    buf[got] = '\0';
    *n = got;
    return buf;
}

/* Starts with "<?xml" or "<svg", has an <svg element, ends with "</svg>" (then whitespace). */
static int is_svg(const char *path)
{
    size_t n;
    char *s = slurp(path, &n);
    if (!s) return 0;
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ' || s[n - 1] == '\r')) n--;
    int ok = (!strncmp(s, "<?xml", 5) || !strncmp(s, "<svg", 4)) && strstr(s, "<svg") &&
             n >= 6 && !strncmp(s + n - 6, "</svg>", 6);
    free(s);
    return ok;
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* PNG signature, an IHDR chunk first, and its width/height. */
static int png_size(const char *path, uint32_t *w, uint32_t *h)
{
    size_t n;
    unsigned char *s = (unsigned char *)slurp(path, &n);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int ok = s && n > 33 && !memcmp(s, sig, 8) && !memcmp(s + 12, "IHDR", 4);
    if (ok) {
        *w = be32(s + 16);
        *h = be32(s + 20);
    }
    free(s);
    return ok;
}

static int exists(const char *p) { return access(p, F_OK) == 0; }

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/nasrank_plot_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    char p[256];
    nr_error err = {0};

    /* data: three "strategies" with different spreads, one NaN */
    double a[200], b[50], c[5] = {93.1, 93.5, NAN, 94.0, 92.2};
    nr_rng r = nr_rng_seeded(7);
    for (int i = 0; i < 200; i++) a[i] = 92.5 + nr_rng_normal(&r);
    for (int i = 0; i < 50; i++) b[i] = 93.7 + 0.3 * nr_rng_normal(&r);
    nr_plot_series series[3] = {{"naswot\nN=100", a, 200}, {"rea\n50 queries", b, 50}, {"tiny", c, 5}};
    nr_plot_labels lab = {.title = "CIFAR-10 test accuracy", .ylabel = "test accuracy (%)",
                          .has_ref = 1, .ref_value = 94.37, .ref_label = "best 94.37"};

    TEST("format from path")
    {
        nr_plot_format f;
        CHECK(nr_plot_format_from_path("x.svg", &f, NULL) == NR_OK && f == NR_PLOT_SVG);
        CHECK(nr_plot_format_from_path("dir.d/X.PNG", &f, NULL) == NR_OK && f == NR_PLOT_PNG);
        nr_error e = {0};
        CHECK(nr_plot_format_from_path("x.pdf", &f, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, ".svg or .png") != NULL);
        CHECK(nr_plot_format_from_path("svg", &f, NULL) == NR_ERR_INVALID);
    }

    TEST("distribution SVG")
    {
        snprintf(p, sizeof p, "%s/dist.svg", dir);
        size_t dropped = 99;
        CHECK(nr_plot_distribution(p, series, 3, &lab, &dropped, &err) == NR_OK);
        CHECK(dropped == 1);
        CHECK(is_svg(p));
        size_t n;
        char *s = slurp(p, &n);
        CHECK(s && strstr(s, "width=\"860") && strstr(s, "height=\"520"));
        free(s);
    }

    TEST("distribution PNG is deterministic")
    {
        char q[256];
        snprintf(p, sizeof p, "%s/dist1.png", dir);
        CHECK(nr_plot_distribution(p, series, 3, &lab, NULL, &err) == NR_OK);
        snprintf(q, sizeof q, "%s/dist2.png", dir);
        CHECK(nr_plot_distribution(q, series, 3, &lab, NULL, &err) == NR_OK);
        size_t n1, n2;
        char *s1 = slurp(p, &n1), *s2 = slurp(q, &n2);
        CHECK(s1 && s2 && n1 == n2 && !memcmp(s1, s2, n1));
        free(s1);
        free(s2);
    }

    TEST("distribution PNG")
    {
        snprintf(p, sizeof p, "%s/dist.png", dir);
        nr_plot_labels l2 = lab;
        l2.width = 640;
        l2.height = 400;
        CHECK(nr_plot_distribution(p, series, 3, &l2, NULL, &err) == NR_OK);
        uint32_t w = 0, h = 0;
        CHECK(png_size(p, &w, &h));
        CHECK(w == 640 && h == 400);
    }

    TEST("distribution: one series, empty series, no labels")
    {
        snprintf(p, sizeof p, "%s/one.svg", dir);
        nr_plot_series two[2] = {{"a", a, 200}, {NULL, NULL, 0}};
        CHECK(nr_plot_distribution(p, two, 2, NULL, NULL, &err) == NR_OK);
        CHECK(is_svg(p));
        double same[3] = {5, 5, 5};
        nr_plot_series flat = {"flat", same, 3};
        snprintf(p, sizeof p, "%s/flat.png", dir);
        CHECK(nr_plot_distribution(p, &flat, 1, NULL, NULL, &err) == NR_OK);
        uint32_t w, h;
        CHECK(png_size(p, &w, &h) && w == 860 && h == 520);
    }

    TEST("distribution: many series widen the default canvas")
    {
        nr_plot_series many[10];
        for (int s = 0; s < 10; s++) many[s] = (nr_plot_series){"row\nN=100", a, 200};
        snprintf(p, sizeof p, "%s/many.png", dir);
        CHECK(nr_plot_distribution(p, many, 7, NULL, NULL, &err) == NR_OK);
        uint32_t w = 0, h = 0;
        CHECK(png_size(p, &w, &h) && w == 860 && h == 520);
        CHECK(nr_plot_distribution(p, many, 10, NULL, NULL, &err) == NR_OK);
        CHECK(png_size(p, &w, &h) && w == 102 + 110 * 10 && h == 520);
        /* a width the caller fixed is kept (the summaries wrap) */
        nr_plot_labels narrow = {.width = 500};
        CHECK(nr_plot_distribution(p, many, 10, &narrow, NULL, &err) == NR_OK);
        CHECK(png_size(p, &w, &h) && w == 500);
    }

    TEST("scatter SVG and PNG")
    {
        enum { N = 3000 };
        double *x = malloc(N * sizeof *x), *y = malloc(N * sizeof *y);
        for (int i = 0; i < N; i++) {
            x[i] = 1500 + 100 * nr_rng_normal(&r);
            y[i] = 80 + 0.05 * (x[i] - 1500) + 3 * nr_rng_normal(&r);
        }
        x[5] = -INFINITY;
        y[9] = NAN;
        nr_plot_labels sl = {.title = "naswot vs cifar10 test: Kendall tau = 0.574 (n = 2998)",
                             .xlabel = "naswot", .ylabel = "cifar10 test accuracy (%)"};
        size_t dropped = 0;
        snprintf(p, sizeof p, "%s/scatter.svg", dir);
        CHECK(nr_plot_scatter(p, x, y, N, &sl, &dropped, &err) == NR_OK);
        CHECK(dropped == 2);
        CHECK(is_svg(p));
        snprintf(p, sizeof p, "%s/scatter.png", dir);
        CHECK(nr_plot_scatter(p, x, y, N, &sl, NULL, &err) == NR_OK);
        uint32_t w, h;
        CHECK(png_size(p, &w, &h) && w == 860 && h == 520);
        free(x);
        free(y);
    }

    TEST("scatter: values far larger than their spread (tick loop must end), hostile labels")
    {
        /* 1e17 and 1e17 + 16: a nice step of 2 is below the spacing of doubles there; a
         * tick loop of v += step never ended */
        double x[3] = {1e17, 100000000000000016.0, 100000000000000016.0}, y[3] = {90, 91, 92};
        /* Latin-1 and a stray continuation byte: cairo refuses invalid UTF-8 */
        nr_plot_labels bad = {.title = "\xe9t\xe9 vs test", .xlabel = "ab\x80" "cd\x01", .ylabel = "\xff"};
        snprintf(p, sizeof p, "%s/huge.svg", dir);
        CHECK(nr_plot_scatter(p, x, y, 3, &bad, NULL, &err) == NR_OK && is_svg(p));
        snprintf(p, sizeof p, "%s/huge.png", dir);
        double big[3] = {-1e308, 0, 1e308};
        CHECK(nr_plot_scatter(p, big, y, 3, &bad, NULL, &err) == NR_OK);
    }

    TEST("utf8_clean: valid text kept, bad bytes '?', cut between characters")
    {
        char out[8];
        nr_utf8_clean("a\xc3\xa9\xe9z", out, sizeof out);
        CHECK(!strcmp(out, "a\xc3\xa9?z"));
        nr_utf8_clean("abcdef\xc3\xa9", out, sizeof out); /* 6 + 2 bytes > 7: the é is left out */
        CHECK(!strcmp(out, "abcdef"));
        nr_utf8_clean("\xed\xa0\x80\x7f\n", out, sizeof out); /* a surrogate, DEL, a newline */
        CHECK(!strcmp(out, "?????"));
        nr_utf8_clean("xyz", out, 1);
        CHECK(out[0] == '\0');
    }

    TEST("errors leave no file")
    {
        nr_error e = {0};
        snprintf(p, sizeof p, "%s/bad.pdf", dir);
        CHECK(nr_plot_distribution(p, series, 3, NULL, NULL, &e) == NR_ERR_INVALID);
        CHECK(!exists(p));
        double nan2[2] = {NAN, INFINITY};
        nr_plot_series ns = {"x", nan2, 2};
        nr_error_clear(&e);
        snprintf(p, sizeof p, "%s/nan.svg", dir);
        CHECK(nr_plot_distribution(p, &ns, 1, NULL, NULL, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "no finite") != NULL);
        CHECK(!exists(p));
        nr_error_clear(&e);
        CHECK(nr_plot_scatter(p, nan2, nan2, 2, NULL, NULL, &e) == NR_ERR_INVALID);
        CHECK(!exists(p));
        nr_error_clear(&e);
        CHECK(nr_plot_distribution(p, series, 0, NULL, NULL, &e) == NR_ERR_INVALID);
        nr_error_clear(&e);
        snprintf(p, sizeof p, "%s/no/such/dir/x.svg", dir);
        CHECK(nr_plot_scatter(p, a, a, 10, NULL, NULL, &e) == NR_ERR_IO);
    }

    /* clean up */
    const char *names[] = {"dist.svg", "dist1.png", "dist2.png", "dist.png", "one.svg", "flat.png", "scatter.svg", "scatter.png"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        remove(p);
    }
    rmdir(dir);
    return TEST_REPORT();
}
