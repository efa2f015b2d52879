/* NAS-Bench-201 cell strings: op names, edge layout, strict parser, formatter, ids.
 *
 * Grammar (no whitespace anywhere, nothing before or after):
 *   arch  = group1 '+' group2 '+' group3
 *   groupJ = '|' edge(J,0) ... edge(J,J-1)        (node J has exactly J incoming edges)
 *   edge(J,i) = opname '~' i '|'                  (the i-th edge of node J reads node i)
 * The parser walks the string once, left to right, and stops at the first error; it never
 * looks further than NR_ARCH_STR_MAX bytes.
 */
#include "nasrank/encoding.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const op_names[NR_NUM_OPS] = {"none", "skip_connect", "nor_conv_1x1",
                                                 "nor_conv_3x3", "avg_pool_3x3"};
#define VALID_OPS "none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3"
#define ARCH_FORM "|op~0|+|op~0|op~1|+|op~0|op~1|op~2|"
/* Longest op name (12) plus slack: a longer token is certainly unknown. */
#define OP_TOKEN_MAX 24

static const int edge_to_tab[NR_NUM_EDGES] = {1, 2, 2, 3, 3, 3};
static const int edge_from_tab[NR_NUM_EDGES] = {0, 0, 1, 0, 1, 2};

const char *nr_op_name(int op)
{
    return (op >= 0 && op < NR_NUM_OPS) ? op_names[op] : NULL;
}

int nr_edge_from(int e)
{
    return (e >= 0 && e < NR_NUM_EDGES) ? edge_from_tab[e] : -1;
}

int nr_edge_to(int e)
{
    return (e >= 0 && e < NR_NUM_EDGES) ? edge_to_tab[e] : -1;
}

int nr_edge_index(int to, int from)
{
    if (to < 1 || to >= NR_NUM_NODES || from < 0 || from >= to) return -1;
    /* edges of node `to` start at 0, 1, 3 */
    return (to - 1) * to / 2 + from;
}

/* ---- parser ---- */

typedef struct parser {
    const char *s;
    size_t len, pos;
    const char *source;
    long line, col0;
    nr_error *err;
} parser;

static int peek(const parser *p)
{
    return p->pos < p->len ? (unsigned char)p->s[p->pos] : -1;
}

static int is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

static int is_name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* Human description of the character c (-1 = end of input), for "found ..." phrases. */
static const char *describe(int c, char *buf, size_t size)
{
    if (c < 0) snprintf(buf, size, "end of string");
    else if (c == 0) snprintf(buf, size, "a NUL byte (NUL inside the string is not allowed)");
    else if (c == ' ') snprintf(buf, size, "a space (whitespace is not allowed)");
    else if (c == '\t') snprintf(buf, size, "a tab (whitespace is not allowed)");
    else if (c == '\n') snprintf(buf, size, "a newline (whitespace is not allowed)");
    else if (c == '\r') snprintf(buf, size, "a carriage return (whitespace is not allowed)");
    else if (is_space(c)) snprintf(buf, size, "whitespace 0x%02x (not allowed)", (unsigned)c);
    else if (c > 0x20 && c < 0x7f) snprintf(buf, size, "'%c'", c);
    else snprintf(buf, size, "byte 0x%02x", (unsigned)c);
    return buf;
}

/* Records NR_ERR_PARSE at byte offset off of the string. */
static nr_status fail(const parser *p, size_t off, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static nr_status fail(const parser *p, size_t off, const char *fmt, ...)
{
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    return nr_error_set(p->err, NR_ERR_PARSE, p->source, p->line, p->col0 + (long)off, "%s",
                        text);
}

/* Expects the byte c at the cursor; `what` says where ("at the start of node 2's group"). */
static nr_status expect(parser *p, char c, const char *what)
{
    char d[64];
    int got = peek(p);
    if (got != (unsigned char)c)
        return fail(p, p->pos, "expected '%c' %s, found %s", c, what, describe(got, d, sizeof d));
    p->pos++;
    return NR_OK;
}

/* Parses edge k of node j ("opname~k|") into *op. */
static nr_status parse_edge(parser *p, int j, int k, unsigned char *op)
{
    char d[64], what[96];
    size_t start = p->pos;
    while (p->pos < p->len && p->pos - start <= OP_TOKEN_MAX && is_name_char(peek(p))) p->pos++;
    size_t n = p->pos - start;
    if (n == 0)
        return fail(p, start, "expected an operation name (%s) for edge %d->%d, found %s",
                    VALID_OPS, k, j, describe(peek(p), d, sizeof d));
    int found = -1;
    for (int o = 0; o < NR_NUM_OPS; o++)
        if (strlen(op_names[o]) == n && memcmp(op_names[o], p->s + start, n) == 0) found = o;
    if (found < 0) {
        int shown = n > OP_TOKEN_MAX ? OP_TOKEN_MAX : (int)n;
        return fail(p, start, "unknown operation '%.*s%s' for edge %d->%d (valid: %s)", shown,
                    p->s + start, n > OP_TOKEN_MAX ? "..." : "", k, j, VALID_OPS);
    }
    snprintf(what, sizeof what, "after '%s'", op_names[found]);
    nr_status st = expect(p, '~', what);
    if (st) return st;
    int c = peek(p);
    if (c < '0' || c > '9')
        return fail(p, p->pos, "expected the input node digit after '%s~' (node %d, edge %d: "
                    "'~%d'), found %s", op_names[found], j, k + 1, k, describe(c, d, sizeof d));
    if (c - '0' != k)
        return fail(p, p->pos, "wrong input node '~%c' (node %d, edge %d of %d reads node %d: "
                    "expected '~%d')", c, j, k + 1, j, k, k);
    p->pos++;
    snprintf(what, sizeof what, "after '%s~%d'", op_names[found], k);
    st = expect(p, '|', what);
    if (st) return st;
    *op = (unsigned char)found;
    return NR_OK;
}

nr_status nr_arch_parse_n(const char *s, size_t len, const char *source, long line,
                          long column0, nr_arch *out, nr_error *err)
{
    parser p = {s, len, 0, source ? source : "<arch>", line, column0, err};
    char d[64], what[96];
    nr_arch a;
    if (!out || (!s && len > 0))
        return nr_error_set(err, NR_ERR_INVALID, p.source, line, 0,
                            "nr_arch_parse: NULL %s", out ? "string" : "output");
    if (len == 0)
        return fail(&p, 0, "empty architecture string (expected '%s')", ARCH_FORM);
    if (len >= NR_ARCH_STR_MAX)
        return fail(&p, NR_ARCH_STR_MAX - 1,
                    "architecture string too long (more than %d characters; a valid one has "
                    "at most 95)", NR_ARCH_STR_MAX - 1);
    int e = 0;
    for (int j = 1; j < NR_NUM_NODES; j++) {
        snprintf(what, sizeof what, "at the start of node %d's group", j);
        nr_status st = expect(&p, '|', what);
        if (st) return st;
        for (int k = 0; k < j; k++) {
            int c = peek(&p);
            if (k > 0 && (c == '+' || c < 0))
                return fail(&p, p.pos, "too few operations for node %d: expected %d edges "
                            "(op~0|...|op~%d|), found %d before %s", j, j, j - 1, k,
                            describe(c, d, sizeof d));
            st = parse_edge(&p, j, k, &a.op[e++]);
            if (st) return st;
        }
        int c = peek(&p);
        if (j < NR_NUM_NODES - 1) {
            if (c == '+') {
                p.pos++;
                continue;
            }
            if (is_name_char(c))
                return fail(&p, p.pos, "too many operations for node %d: it has exactly %d "
                            "incoming edge%s (expected '+' and node %d's group)", j, j,
                            j == 1 ? "" : "s", j + 1);
            if (c < 0)
                return fail(&p, p.pos, "too few groups: expected '+' and node %d's group, "
                            "found end of string (a cell has 3 groups: '%s')", j + 1, ARCH_FORM);
            return fail(&p, p.pos, "expected '+' after node %d's group, found %s", j,
                        describe(c, d, sizeof d));
        }
        if (c < 0) break;
        if (c == '+')
            return fail(&p, p.pos, "too many groups: a cell has exactly 3 ('%s')", ARCH_FORM);
        if (is_name_char(c))
            return fail(&p, p.pos, "too many operations for node 3: it has exactly 3 incoming "
                        "edges (expected end of string)");
        return fail(&p, p.pos, "trailing characters after the architecture: found %s "
                    "(expected end of string)", describe(c, d, sizeof d));
    }
    *out = a;
    return NR_OK;
}

nr_status nr_arch_parse_at(const char *s, const char *source, long line, long column0,
                           nr_arch *out, nr_error *err)
{
    /* bounded length: never scan beyond NR_ARCH_STR_MAX bytes of a huge input */
    size_t len = 0;
    while (s && len < NR_ARCH_STR_MAX && s[len] != '\0') len++;
    if (!s)
        return nr_error_set(err, NR_ERR_INVALID, source ? source : "<arch>", line, 0,
                            "nr_arch_parse: NULL string");
    return nr_arch_parse_n(s, len, source, line, column0, out, err);
}

nr_status nr_arch_parse(const char *s, nr_arch *out, nr_error *err)
{
    return nr_arch_parse_at(s, NULL, 1, 1, out, err);
}

/* ---- formatting, ids ---- */

size_t nr_arch_format(const nr_arch *a, char *buf, size_t bufsize)
{
    char tmp[NR_ARCH_STR_MAX + 64];
    size_t n = 0;
    for (int e = 0; e < NR_NUM_EDGES; e++) {
        const char *name = nr_op_name(a->op[e]);
        int from = edge_from_tab[e];
        const char *pre = e == 0 ? "|" : (from == 0 ? "+|" : "");
        n += (size_t)snprintf(tmp + n, sizeof tmp - n, "%s%s~%d|", pre, name ? name : "invalid",
                              from);
    }
    if (buf && bufsize > 0) {
        size_t c = n < bufsize ? n : bufsize - 1;
        memcpy(buf, tmp, c);
        buf[c] = '\0';
    }
    return n;
}

int nr_arch_to_id(const nr_arch *a)
{
    int id = 0;
    for (int e = 0; e < NR_NUM_EDGES; e++) {
        if (a->op[e] >= NR_NUM_OPS) return -1;
        id = id * NR_NUM_OPS + a->op[e];
    }
    return id;
}

nr_arch nr_arch_from_id(int id)
{
    nr_arch a;
    if (id < 0 || id >= NR_NUM_ARCHS) id = 0;
    for (int e = NR_NUM_EDGES - 1; e >= 0; e--) {
        a.op[e] = (unsigned char)(id % NR_NUM_OPS);
        id /= NR_NUM_OPS;
    }
    return a;
}

int nr_arch_equal(const nr_arch *a, const nr_arch *b)
{
    return memcmp(a->op, b->op, sizeof a->op) == 0;
}
