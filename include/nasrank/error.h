/* nasrank — status codes and the caller-owned error record.
 *
 * Every function that can fail returns nr_status (NR_OK == 0, failures negative) and takes
 * `nr_error *err` as its last argument.  err may be NULL.  The first error wins: once
 * err->code != NR_OK, later nr_error_set calls leave it untouched, so the innermost cause is
 * what the user sees.  Library code never prints and never exits.
 */
#ifndef NASRANK_ERROR_H
#define NASRANK_ERROR_H

#include <stddef.h>

typedef enum nr_status {
    NR_OK = 0,
    NR_ERR_IO = -1,       /* file missing, unreadable, short write, ... */
    NR_ERR_PARSE = -2,    /* malformed input: see line/column */
    NR_ERR_INVALID = -3,  /* well-formed but semantically wrong (unknown arch, bad dims) */
    NR_ERR_NOMEM = -4,    /* allocation failed */
    NR_ERR_NOTFOUND = -5, /* lookup found nothing */
    NR_ERR_NUMERIC = -6,  /* NaN/inf where a number was required, singular system */
    NR_ERR_INTERNAL = -7  /* a bug: an invariant did not hold */
} nr_status;

typedef struct nr_error {
    nr_status code; /* NR_OK until the first error */
    char source[256]; /* file name, or a label like "<arch string>"; "" when none */
    long line;        /* 1-based; 0 when not applicable */
    long column;      /* 1-based; 0 when not applicable */
    char text[512];   /* what is wrong, what was expected */
} nr_error;

/* Reset to "no error". Accepts NULL. */
void nr_error_clear(nr_error *err);

/* Record an error unless one is already recorded (first error wins).  source may be NULL.
 * Returns `code` so callers can write `return nr_error_set(err, ...)`. */
nr_status nr_error_set(nr_error *err, nr_status code, const char *source, long line,
                       long column, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* "FILE:LINE:COL: text" (parts omitted when absent) into buf; returns buf. */
const char *nr_error_format(const nr_error *err, char *buf, size_t bufsize);

/* Short name of a status ("io error", "parse error", ...). */
const char *nr_status_name(nr_status code);

#endif
