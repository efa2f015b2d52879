/* nasrank — partial-results lines of `nasrank score` (see partial.h). */
#include "score/partial.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/encoding.h"

int nr_partial_is_version(const char *header, const char *version)
{
    static const char magic[] = "# nasrank score partial ";
    size_t m = sizeof magic - 1, v = strlen(version);
    if (strncmp(header, magic, m) || strncmp(header + m, version, v)) return 0;
    char next = header[m + v];
    return next == ' ' || next == '\n' || next == '\r' || next == '\0';
}

/* Each field ends at a ',' (more follow) or at the end of the line (the last one). */
static int at_end(const char *e, int last) { return last ? *e == '\0' : *e == ','; }

static int number(const char **s, int last, double *v)
{
    char *e;
    *v = strtod(*s, &e);
    if (e == *s || !at_end(e, last)) return -1;
    *s = e + 1;
    return 0;
}

static int integer(const char **s, int last, long long lo, long long hi, long long *v)
{
    char *e;
    errno = 0;
    *v = strtoll(*s, &e, 10);
    if (e == *s || errno || *v < lo || *v > hi || !at_end(e, last)) return -1;
    *s = e + 1;
    return 0;
}

static int seconds(const char **s, int last, double *v)
{
    return number(s, last, v) || !isfinite(*v) || *v < 0 ? -1 : 0;
}

int nr_partial_parse_v1(const char *line, size_t len, nr_partial_line *out)
{
    const char *s = line;
    long long id, sign;
    memset(out, 0, sizeof *out);
    if (strlen(line) != len || integer(&s, 0, 0, NR_NUM_ARCHS - 1, &id)) return -1;
    out->value_col[0] = (long)(s - line) + 1;
    if (number(&s, 0, &out->value[0]) || integer(&s, 0, -1, 1, &sign) ||
        integer(&s, 0, 0, LLONG_MAX, &out->units) || seconds(&s, 1, &out->seconds))
        return -1;
    out->id = (int)id;
    out->sign = (int)sign;
    out->nvalues = 1;
    return 0;
}

int nr_partial_parse_v2(const char *line, size_t len, int nvalues, nr_partial_line *out)
{
    const char *s = line;
    long long id;
    memset(out, 0, sizeof *out);
    if (nvalues < 0 || nvalues > NR_PARTIAL_MAX_VALUES || strlen(line) != len ||
        integer(&s, 0, 0, NR_NUM_ARCHS - 1, &id) || seconds(&s, nvalues == 0, &out->seconds))
        return -1;
    for (int j = 0; j < nvalues; j++) {
        out->value_col[j] = (long)(s - line) + 1;
        if (number(&s, 0, &out->value[j]) || seconds(&s, j == nvalues - 1, &out->vseconds[j])) return -1;
    }
    out->id = (int)id;
    out->nvalues = nvalues;
    return 0;
}
