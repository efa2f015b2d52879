/* Tests for the CSV reader (src/io/csv.c): layout, line numbers, hostile input, getters. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nasrank/csv.h"
#include "test.h"

/* Parses the n bytes of s as "t.csv". */
static nr_status parse_n(const char *s, size_t n, nr_csv **out, nr_error *e)
{
    nr_error_clear(e);
    return nr_csv_parse(s, n, "t.csv", out, e);
}

static nr_status parse(const char *s, nr_csv **out, nr_error *e)
{
    return parse_n(s, strlen(s), out, e);
}

/* Expects a failure with this code, line, column and message text containing `text`. */
#define CHECK_FAIL(input, len, code_, line_, col_, want_)                                     \
    do {                                                                                     \
        nr_csv *c_ = NULL;                                                                   \
        nr_error e_;                                                                         \
        nr_status st_ = parse_n((input), (len), &c_, &e_);                                   \
        CHECK_MSG(st_ == (code_) && e_.code == (code_), "status %d, want %d (%s)", st_,     \
                  (code_), e_.text);                                                         \
        CHECK(c_ == NULL);                                                                   \
        CHECK_MSG(e_.line == (line_) && e_.column == (col_), "at %ld:%ld, want %d:%d (%s)", \
                  e_.line, e_.column, (line_), (col_), e_.text);                             \
        CHECK_MSG(strstr(e_.text, (want_)) != NULL, "text '%s' lacks '%s'", e_.text, (want_)); \
        CHECK(strcmp(e_.source, "t.csv") == 0);                                              \
        nr_csv_free(c_);                                                                     \
    } while (0)
#define CHECK_FAIL_S(input, code_, line_, col_, want_) \
    CHECK_FAIL(input, strlen(input), code_, line_, col_, want_)

static int streq(const char *a, const char *b) { return a && b && strcmp(a, b) == 0; }

static char tmpdir[64];

static void write_file(const char *path, const char *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fwrite(data, 1, n, f);
    fclose(f);
}

static void test_basic(void)
{
    TEST("basic layout")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("a,b,c\n1,2,3\n4,5,6\n", &c, &e) == NR_OK);
        CHECK(nr_csv_nrows(c) == 2);
        CHECK(nr_csv_ncols(c) == 3);
        CHECK(streq(nr_csv_header(c, 0), "a") && streq(nr_csv_header(c, 2), "c"));
        CHECK(nr_csv_header(c, 3) == NULL);
        CHECK(streq(nr_csv_cell(c, 0, 0), "1") && streq(nr_csv_cell(c, 1, 2), "6"));
        CHECK(nr_csv_cell(c, 2, 0) == NULL && nr_csv_cell(c, 0, 3) == NULL);
        CHECK(nr_csv_row_line(c, 0) == 2 && nr_csv_row_line(c, 1) == 3);
        CHECK(nr_csv_row_line(c, 2) == 0);
        CHECK(nr_csv_header_line(c) == 1 && nr_csv_header_line(NULL) == 0);
        CHECK(nr_csv_find_col(c, "b") == 1 && nr_csv_find_col(c, "z") == -1);
        CHECK(streq(nr_csv_source(c), "t.csv"));
        nr_csv_free(c);
    }
    TEST("no trailing newline, header only, empty cells")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("x,y\n1,2", &c, &e) == NR_OK && nr_csv_nrows(c) == 1);
        CHECK(streq(nr_csv_cell(c, 0, 1), "2"));
        nr_csv_free(c);
        c = NULL;
        CHECK(parse("x,y\n", &c, &e) == NR_OK && nr_csv_nrows(c) == 0 && nr_csv_ncols(c) == 2);
        nr_csv_free(c);
        c = NULL;
        CHECK(parse("x,y,z\n,,\n\"\",,\"\"\n", &c, &e) == NR_OK && nr_csv_nrows(c) == 2);
        CHECK(streq(nr_csv_cell(c, 0, 0), "") && streq(nr_csv_cell(c, 1, 2), ""));
        nr_csv_free(c);
    }
    TEST("spaces are kept byte for byte")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("a,b\n 1 ,\tx\t\n", &c, &e) == NR_OK);
        CHECK(streq(nr_csv_cell(c, 0, 0), " 1 ") && streq(nr_csv_cell(c, 0, 1), "\tx\t"));
        nr_csv_free(c);
    }
}

static void test_quoting_and_lines(void)
{
    TEST("quoted commas, quotes and newlines; line of every row")
    {
        nr_csv *c = NULL;
        nr_error e;
        const char *s = "name,val\n"
                        "\"x,y\",1\n"
                        "\"multi\nline\n\",2\n"
                        "\"q\"\"uote\",3\n"
                        "last,\"4\"\n";
        CHECK(parse(s, &c, &e) == NR_OK);
        CHECK(nr_csv_nrows(c) == 4);
        CHECK(streq(nr_csv_cell(c, 0, 0), "x,y"));
        CHECK(streq(nr_csv_cell(c, 1, 0), "multi\nline\n"));
        CHECK(streq(nr_csv_cell(c, 2, 0), "q\"uote"));
        CHECK(streq(nr_csv_cell(c, 3, 1), "4"));
        CHECK(nr_csv_row_line(c, 0) == 2);
        CHECK(nr_csv_row_line(c, 1) == 3);
        CHECK(nr_csv_row_line(c, 2) == 6);
        CHECK(nr_csv_row_line(c, 3) == 7);
        nr_csv_free(c);
    }
    TEST("quoted header names")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("\"a b\",\"c,d\"\n1,2\n", &c, &e) == NR_OK);
        CHECK(nr_csv_find_col(c, "c,d") == 1 && streq(nr_csv_header(c, 0), "a b"));
        nr_csv_free(c);
    }
    TEST("CRLF")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("a,b\r\n1,2\r\n\r\n3,\"x\r\ny\"\r\n5,6\r\n", &c, &e) == NR_OK);
        CHECK(nr_csv_nrows(c) == 3);
        CHECK(streq(nr_csv_header(c, 1), "b") && streq(nr_csv_cell(c, 0, 1), "2"));
        CHECK(streq(nr_csv_cell(c, 1, 1), "x\r\ny"));
        CHECK(nr_csv_row_line(c, 0) == 2 && nr_csv_row_line(c, 1) == 4 &&
              nr_csv_row_line(c, 2) == 6);
        nr_csv_free(c);
    }
    TEST("UTF-8 BOM skipped")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("\xEF\xBB\xBFindex,v\n0,1\n", &c, &e) == NR_OK);
        CHECK(nr_csv_find_col(c, "index") == 0);
        CHECK(nr_csv_row_line(c, 0) == 2);
        nr_csv_free(c);
    }
    TEST("blank and whitespace-only lines skipped, lines still counted")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("\n\na,b\n\n1,2\n   \n\t\r\n3,4", &c, &e) == NR_OK);
        CHECK(nr_csv_nrows(c) == 2);
        CHECK(nr_csv_row_line(c, 0) == 5 && nr_csv_row_line(c, 1) == 8);
        CHECK(nr_csv_header_line(c) == 3);
        nr_csv_free(c);
    }
    TEST("blank line inside a quoted field is data")
    {
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse("a,b\n\"x\n\ny\",1\n2,3\n", &c, &e) == NR_OK);
        CHECK(streq(nr_csv_cell(c, 0, 0), "x\n\ny"));
        CHECK(nr_csv_row_line(c, 1) == 5);
        nr_csv_free(c);
    }
}

static void test_malformed(void)
{
    TEST("field count")
    {
        CHECK_FAIL_S("a,b,c\n1,2,3\n4,5\n", NR_ERR_PARSE, 3, 0, "expected 3 fields, got 2");
        CHECK_FAIL_S("a,b,c\n1,2,3,4\n", NR_ERR_PARSE, 2, 0, "expected 3 fields, got 4");
        CHECK_FAIL_S("a,b\n\"x\ny\",1,2\n", NR_ERR_PARSE, 2, 0, "expected 2 fields, got 3");
        CHECK_FAIL_S("a,b\n1,2\n3", NR_ERR_PARSE, 3, 0, "expected 2 fields, got 1");
        CHECK_FAIL_S("a,b\r\n1,2\r\n3,4,\r\n", NR_ERR_PARSE, 3, 0, "expected 2 fields, got 3");
        nr_error e;
        nr_csv *c = NULL;
        parse("a,b,c\n1,2,3\n\n4,5\n", &c, &e);
        char buf[600];
        CHECK(streq(nr_error_format(&e, buf, sizeof buf), "t.csv:4: expected 3 fields, got 2"));
    }
    TEST("header names")
    {
        CHECK_FAIL_S("a,b,a\n1,2,3\n", NR_ERR_PARSE, 1, 3,
                     "duplicate column name 'a' (columns 1 and 3)");
        CHECK_FAIL_S("x,a,b,b,a\n", NR_ERR_PARSE, 1, 4,
                     "duplicate column name 'b' (columns 3 and 4)");
        CHECK_FAIL_S("\n\na,,c\n1,2,3\n", NR_ERR_PARSE, 3, 2, "empty column name");
        CHECK_FAIL_S("", NR_ERR_PARSE, 0, 0, "empty CSV");
        CHECK_FAIL_S("\n \r\n\n", NR_ERR_PARSE, 0, 0, "empty CSV");
        CHECK_FAIL_S("\xEF\xBB\xBF", NR_ERR_PARSE, 0, 0, "empty CSV");
    }
    TEST("unterminated quote names the line where it opened")
    {
        CHECK_FAIL_S("a,b\n1,2\n3,\"abc\n4,5\n6,7\n", NR_ERR_PARSE, 3, 2,
                     "unterminated quoted field");
        CHECK_FAIL_S("a,\"b\n", NR_ERR_PARSE, 1, 2, "unterminated quoted field");
        CHECK_FAIL_S("a,b\n\"x\ny\",\"z\nw\n", NR_ERR_PARSE, 3, 2, "unterminated quoted field");
        CHECK_FAIL_S("a,b\n1,\"x\"\"", NR_ERR_PARSE, 2, 2, "unterminated quoted field");
    }
    TEST("stray quotes")
    {
        CHECK_FAIL_S("a,b\n1,x\"y\n", NR_ERR_PARSE, 2, 2, "quote character inside an unquoted");
        CHECK_FAIL_S("a,b\n\"x\"y,2\n", NR_ERR_PARSE, 2, 1, "after a closing quote");
        CHECK_FAIL_S("a,b\n\"x\" ,2\n", NR_ERR_PARSE, 2, 1, "after a closing quote");
        CHECK_FAIL_S("a,b\n1, \"2\"\n", NR_ERR_PARSE, 2, 2, "quote character inside");
    }
    TEST("NUL bytes")
    {
        const char s1[] = "a,b\n1,2\n3,4\0\n";
        CHECK_FAIL(s1, sizeof s1 - 1, NR_ERR_PARSE, 3, 2, "NUL byte");
        const char s2[] = "a,b\n\0,2\n";
        CHECK_FAIL(s2, sizeof s2 - 1, NR_ERR_PARSE, 2, 1, "NUL byte");
        const char s3[] = "a,b\n\"x\ny\0\",2\n";
        CHECK_FAIL(s3, sizeof s3 - 1, NR_ERR_PARSE, 3, 1, "NUL byte");
        const char s4[] = "\0";
        CHECK_FAIL(s4, 1, NR_ERR_PARSE, 1, 1, "NUL byte");
    }
    TEST("over-long fields")
    {
        size_t big = (size_t)NR_CSV_FIELD_MAX + 1;
        char *s = malloc(big + 64);
        size_t n = 0;
        memcpy(s, "a,b\n1,", 6);
        n = 6;
        memset(s + n, 'x', big);
        n += big;
        s[n++] = '\n';
        CHECK_FAIL(s, n, NR_ERR_PARSE, 2, 2, "field longer than");
        /* exactly the maximum is fine */
        nr_csv *c = NULL;
        nr_error e;
        CHECK(parse_n(s, n - 2, &c, &e) == NR_OK);
        CHECK(c && strlen(nr_csv_cell(c, 0, 1)) == (size_t)NR_CSV_FIELD_MAX);
        nr_csv_free(c);
        /* a quote that opens and never closes over megabytes stops early */
        free(s);
        big = 3 * (size_t)NR_CSV_FIELD_MAX;
        s = malloc(big + 64);
        memcpy(s, "a,b\n1,\"", 7);
        n = 7;
        for (size_t i = 0; i < big; i++) s[n++] = (i % 100 == 99) ? '\n' : 'y';
        CHECK_FAIL(s, n, NR_ERR_PARSE, 2, 2, "field longer than");
        free(s);
    }
}

static void test_getters(void)
{
    nr_csv *c = NULL;
    nr_error e;
    const char *s = "name,cifar10_test_acc,n\n"
                    "ok,94.5,42\n"
                    "bad,abc,4.0\n"
                    "empty,,\n"
                    "junk,1.5x,7z\n"
                    "space, 1,1 \n"
                    "nan,nan,99999999999999999999\n"
                    "inf,-inf,-12\n"
                    "big,1e999,+5\n"
                    "tiny,1e-320,0x10\n"
                    "exp,-2.5e3,-0\n";
    parse(s, &c, &e);
    double d = 0;
    long l = 0;
    char buf[600];
    TEST("get_double accepts numbers")
    {
        CHECK(c != NULL);
        CHECK(nr_csv_get_double(c, 0, 1, 0, &d, &e) == NR_OK && d == 94.5);
        CHECK(nr_csv_get_double(c, 9, 1, 0, &d, &e) == NR_OK && d == -2500.0);
        CHECK(nr_csv_get_double(c, 8, 1, 0, &d, &e) == NR_OK && d > 0 && d < 1e-300);
        CHECK(nr_csv_get_double(c, 0, 2, 0, &d, &e) == NR_OK && d == 42.0);
    }
    TEST("get_double rejects junk with FILE:LINE:COL and the column name")
    {
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 1, 1, 0, &d, &e) == NR_ERR_PARSE);
        CHECK(streq(nr_error_format(&e, buf, sizeof buf),
                    "t.csv:3:2: column 'cifar10_test_acc': expected a number, got \"abc\""));
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 2, 1, 0, &d, &e) == NR_ERR_PARSE);
        CHECK(streq(nr_error_format(&e, buf, sizeof buf),
                    "t.csv:4:2: column 'cifar10_test_acc': expected a number, got an empty "
                    "cell"));
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 3, 1, 0, &d, &e) == NR_ERR_PARSE && e.line == 5);
        CHECK(strstr(e.text, "got \"1.5x\"") != NULL);
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 4, 1, 0, &d, &e) == NR_ERR_PARSE && e.line == 6);
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 4, 2, 0, &d, &e) == NR_ERR_PARSE && e.column == 3);
        CHECK(strstr(e.text, "column 'n': expected a number, got \"1 \"") != NULL);
    }
    TEST("get_double non-finite and overflow")
    {
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 5, 1, 0, &d, &e) == NR_ERR_NUMERIC);
        CHECK(streq(nr_error_format(&e, buf, sizeof buf),
                    "t.csv:7:2: column 'cifar10_test_acc': expected a finite number, got "
                    "\"nan\""));
        CHECK(nr_csv_get_double(c, 5, 1, 1, &d, NULL) == NR_OK && isnan(d));
        CHECK(nr_csv_get_double(c, 6, 1, 0, &d, NULL) == NR_ERR_NUMERIC);
        CHECK(nr_csv_get_double(c, 6, 1, 1, &d, NULL) == NR_OK && isinf(d) && d < 0);
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 7, 1, 1, &d, &e) == NR_ERR_NUMERIC && e.line == 9);
        CHECK(strstr(e.text, "out of range") != NULL);
    }
    TEST("get_long")
    {
        CHECK(nr_csv_get_long(c, 0, 2, &l, NULL) == NR_OK && l == 42);
        CHECK(nr_csv_get_long(c, 6, 2, &l, NULL) == NR_OK && l == -12);
        CHECK(nr_csv_get_long(c, 7, 2, &l, NULL) == NR_OK && l == 5);
        CHECK(nr_csv_get_long(c, 9, 2, &l, NULL) == NR_OK && l == 0);
        nr_error_clear(&e);
        CHECK(nr_csv_get_long(c, 1, 2, &l, &e) == NR_ERR_PARSE);
        CHECK(streq(nr_error_format(&e, buf, sizeof buf),
                    "t.csv:3:3: column 'n': expected an integer, got \"4.0\""));
        nr_error_clear(&e);
        CHECK(nr_csv_get_long(c, 2, 2, &l, &e) == NR_ERR_PARSE);
        CHECK(strstr(e.text, "expected an integer, got an empty cell") != NULL);
        CHECK(nr_csv_get_long(c, 3, 2, &l, NULL) == NR_ERR_PARSE);
        CHECK(nr_csv_get_long(c, 4, 2, &l, NULL) == NR_ERR_PARSE);
        CHECK(nr_csv_get_long(c, 8, 2, &l, NULL) == NR_ERR_PARSE);
        nr_error_clear(&e);
        CHECK(nr_csv_get_long(c, 5, 2, &l, &e) == NR_ERR_NUMERIC && e.line == 7 && e.column == 3);
        CHECK(strstr(e.text, "integer out of range") != NULL);
    }
    TEST("getters: bad row/col, first error wins, long cells cut in messages")
    {
        CHECK(nr_csv_get_double(c, 99, 0, 0, &d, NULL) == NR_ERR_INVALID);
        CHECK(nr_csv_get_long(c, 0, 3, &l, NULL) == NR_ERR_INVALID);
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c, 1, 1, 0, &d, &e) == NR_ERR_PARSE);
        CHECK(nr_csv_get_double(c, 2, 1, 0, &d, &e) == NR_ERR_PARSE);
        CHECK(e.line == 3);
    }
    nr_csv_free(c);
    TEST("cell text in messages is escaped and cut")
    {
        nr_csv *c2 = NULL;
        CHECK(parse("v\n\"a\"\"\x01xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\"\n", &c2,
                    &e) == NR_OK);
        nr_error_clear(&e);
        CHECK(nr_csv_get_double(c2, 0, 0, 0, &d, &e) == NR_ERR_PARSE);
        CHECK_MSG(strstr(e.text, "got \"a\\\"\\x01xxx") != NULL && strstr(e.text, "...\"") != NULL,
                  "%s", e.text);
        nr_csv_free(c2);
    }
}

static void test_files(void)
{
    char path[128], buf[600];
    TEST("nr_csv_read: file, missing file, directory")
    {
        snprintf(path, sizeof path, "%s/ok.csv", tmpdir);
        const char s[] = "\xEF\xBB\xBF" "a,b\r\n1,\"x\r\ny\"\r\n";
        write_file(path, s, sizeof s - 1);
        nr_csv *c = NULL;
        nr_error e;
        nr_error_clear(&e);
        CHECK(nr_csv_read(path, &c, &e) == NR_OK);
        CHECK(c && streq(nr_csv_source(c), path) && streq(nr_csv_cell(c, 0, 1), "x\r\ny"));
        nr_csv_free(c);

        snprintf(path, sizeof path, "%s/bad.csv", tmpdir);
        write_file(path, "a,b\n1,2\n3\n", 10);
        nr_error_clear(&e);
        CHECK(nr_csv_read(path, &c, &e) == NR_ERR_PARSE && c == NULL);
        char want[300];
        snprintf(want, sizeof want, "%s:3: expected 2 fields, got 1", path);
        CHECK_MSG(streq(nr_error_format(&e, buf, sizeof buf), want), "%s", buf);

        snprintf(path, sizeof path, "%s/missing.csv", tmpdir);
        nr_error_clear(&e);
        CHECK(nr_csv_read(path, &c, &e) == NR_ERR_IO && streq(e.source, path));
        nr_error_clear(&e);
        CHECK(nr_csv_read(tmpdir, &c, &e) == NR_ERR_IO && c == NULL);
    }
    TEST("nr_csv_write_field quotes when needed and round-trips")
    {
        const char *fields[] = {"plain", "a,b", "say \"hi\"", "two\nlines", "cr\rx",
                                " lead", "trail ", "", "94.37", "|none~0|+|x~1|"};
        const size_t nf = sizeof fields / sizeof fields[0];
        snprintf(path, sizeof path, "%s/w.csv", tmpdir);
        FILE *f = fopen(path, "wb");
        for (size_t i = 0; i < nf; i++) {
            fprintf(f, "%sc%zu", i ? "," : "", i);
        }
        fputc('\n', f);
        for (size_t i = 0; i < nf; i++) {
            if (i) fputc(',', f);
            CHECK(nr_csv_write_field(f, fields[i]) == 0);
        }
        fputc('\n', f);
        fclose(f);
        nr_csv *c = NULL;
        CHECK(nr_csv_read(path, &c, NULL) == NR_OK);
        CHECK(nr_csv_nrows(c) == 1);
        for (size_t i = 0; i < nf; i++)
            CHECK_MSG(streq(nr_csv_cell(c, 0, i), fields[i]), "field %zu", i);
        nr_csv_free(c);
        /* exact bytes */
        f = fopen(path, "wb");
        nr_csv_write_field(f, "plain");
        nr_csv_write_field(f, "a,\"b\"");
        nr_csv_write_field(f, NULL);
        fclose(f);
        f = fopen(path, "rb");
        size_t n = fread(buf, 1, sizeof buf - 1, f);
        buf[n] = '\0';
        fclose(f);
        CHECK(streq(buf, "plain\"a,\"\"b\"\"\""));
    }
}

/* Random byte edits of a valid document: never a crash; either OK with a consistent shape,
 * or an error that names the source. */
static void test_mutations(void)
{
    const char *base = "index,arch_str,acc\n"
                       "0,\"|none~0|+|a,b|\",1.5\n"
                       "1,\"multi\nline\",2\r\n"
                       "2,plain,\"3\"\"\"\n";
    const char alphabet[] = {',', '"', '\n', '\r', '\0', 'x', ' ', '\xEF'};
    size_t n = strlen(base);
    char buf[256];
    uint64_t rng = 88;
    int ok = 0, bad = 0, inconsistent = 0;
    for (int it = 0; it < 20000; it++) {
        memcpy(buf, base, n);
        size_t m = n;
        int edits = 1 + it % 4;
        for (int k = 0; k < edits; k++) {
            rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t pos = (size_t)(rng >> 33) % m;
            char ch = alphabet[(rng >> 20) % sizeof alphabet];
            switch ((rng >> 10) % 3) {
            case 0: buf[pos] = ch; break;
            case 1: memmove(buf + pos, buf + pos + 1, m - pos - 1); m--; break;
            default:
                memmove(buf + pos + 1, buf + pos, m - pos);
                buf[pos] = ch;
                m++;
            }
        }
        nr_csv *c = NULL;
        nr_error e;
        if (parse_n(buf, m, &c, &e) == NR_OK) {
            ok++;
            for (size_t r = 0; r < nr_csv_nrows(c); r++) {
                if (nr_csv_row_line(c, r) < 1) inconsistent++;
                for (size_t j = 0; j < nr_csv_ncols(c); j++)
                    if (!nr_csv_cell(c, r, j)) inconsistent++;
            }
            nr_csv_free(c);
        } else {
            bad++;
            if (c || e.code == NR_OK || !streq(e.source, "t.csv") || e.line < 0 ||
                e.text[0] == '\0')
                inconsistent++;
        }
    }
    TEST("mutation fuzz")
    {
        CHECK(ok > 100 && bad > 100);
        CHECK_MSG(inconsistent == 0, "%d inconsistent results", inconsistent);
    }
}

int main(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/nr_test_csv.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 2;
    }
    test_basic();
    test_quoting_and_lines();
    test_malformed();
    test_getters();
    test_files();
    test_mutations();
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", tmpdir);
    return TEST_REPORT();
}
