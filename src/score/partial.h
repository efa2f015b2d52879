/* nasrank — the lines of a `nasrank score` partial-results file (OUT.partial).
 *
 * `nasrank score -o OUT` appends one line per scored architecture (cmd_score.c writes them);
 * `score --resume`, the predictor's score-feature reader and search's score caches read them,
 * all through these parsers, so the format is checked the same way everywhere:
 *   v1 (NASWOT only): "id,naswot,sign,units,seconds"
 *   v2:               "id,seconds" then "value,seconds" for each proxy the header lists
 * id is the lexicographic architecture id (0 .. NR_NUM_ARCHS-1), sign -1/0/1, units >= 0,
 * times finite and >= 0.  Values are returned as written (NaN and infinities included):
 * which ones a reader accepts is its own rule. */
#ifndef NASRANK_SCORE_PARTIAL_H
#define NASRANK_SCORE_PARTIAL_H

#include <stddef.h>

#define NR_PARTIAL_MAX_VALUES 16 /* proxies per v2 line */

typedef struct nr_partial_line {
    int id;
    double seconds;   /* the architecture's total */
    int sign;         /* v1: the log-determinant's sign */
    long long units;  /* v1: ReLU units */
    int nvalues;      /* v1: 1, the NASWOT score */
    double value[NR_PARTIAL_MAX_VALUES];
    double vseconds[NR_PARTIAL_MAX_VALUES]; /* v2: the seconds charged to each value */
    long value_col[NR_PARTIAL_MAX_VALUES];  /* 1-based byte column of each value */
} nr_partial_line;

/* The header line "# nasrank score partial VERSION ..." names this version ("v1", "v2"). */
int nr_partial_is_version(const char *header, const char *version);

/* One complete line without its line end: len bytes (a NUL inside makes it malformed).
 * 0 with *out filled, -1 when malformed.  v2 takes nvalues (<= NR_PARTIAL_MAX_VALUES)
 * value/seconds pairs. */
int nr_partial_parse_v1(const char *line, size_t len, nr_partial_line *out);
int nr_partial_parse_v2(const char *line, size_t len, int nvalues, nr_partial_line *out);

#endif
