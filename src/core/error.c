#include "nasrank/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void nr_error_clear(nr_error *err)
{
    if (!err) return;
    memset(err, 0, sizeof *err);
}

nr_status nr_error_set(nr_error *err, nr_status code, const char *source, long line,
                       long column, const char *fmt, ...)
{
    if (!err || err->code != NR_OK) return code;
    err->code = code;
    snprintf(err->source, sizeof err->source, "%s", source ? source : "");
    err->line = line;
    err->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->text, sizeof err->text, fmt, ap);
    va_end(ap);
    return code;
}

const char *nr_error_format(const nr_error *err, char *buf, size_t bufsize)
{
    if (!buf || bufsize == 0) return buf;
    if (!err || err->code == NR_OK) {
        snprintf(buf, bufsize, "no error");
        return buf;
    }
    size_t n = 0;
    if (err->source[0]) {
        n += (size_t)snprintf(buf + n, bufsize - n, "%s:", err->source);
        if (n < bufsize && err->line > 0) n += (size_t)snprintf(buf + n, bufsize - n, "%ld:", err->line);
        if (n < bufsize && err->line > 0 && err->column > 0)
            n += (size_t)snprintf(buf + n, bufsize - n, "%ld:", err->column);
        if (n < bufsize) n += (size_t)snprintf(buf + n, bufsize - n, " ");
    }
    if (n < bufsize) snprintf(buf + n, bufsize - n, "%s", err->text);
    return buf;
}

const char *nr_status_name(nr_status code)
{
    switch (code) {
    case NR_OK: return "ok";
    case NR_ERR_IO: return "i/o error";
    case NR_ERR_PARSE: return "parse error";
    case NR_ERR_INVALID: return "invalid input";
    case NR_ERR_NOMEM: return "out of memory";
    case NR_ERR_NOTFOUND: return "not found";
    case NR_ERR_NUMERIC: return "numeric error";
    case NR_ERR_INTERNAL: return "internal error";
    }
    return "unknown error";
}
