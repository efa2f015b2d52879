#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cli/cli.h"
#include "core/utf8.h"
#include "ops/ops.h"

int cli_fail(const nr_error *err)
{
    char buf[1024];
    fprintf(stderr, "nasrank: %s\n", nr_error_format(err, buf, sizeof buf));
    return CLI_ERR;
}

int cli_usage(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "nasrank%s%s: ", cmd ? " " : "", cmd ? cmd : "");
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nTry 'nasrank %s%s--help'.\n", cmd ? cmd : "", cmd ? " " : "");
    return CLI_USAGE;
}

int cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) {
        cli_usage(cmd, "%s expects an integer in %ld..%ld, got '%s'", opt, lo, hi, s);
        return -1;
    }
    *out = v;
    return 0;
}

/* Default: every online CPU (at most 8: each thread of `score` holds its own network).
 * Results never depend on the count, so using the machine costs nothing but memory. */
static long default_threads(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1 : n > 8 ? 8 : n;
}

int cli_apply_threads(const char *cmd, const char *arg)
{
    long n = default_threads();
    const char *env = getenv("NASRANK_THREADS");
    if (arg) {
        if (cli_parse_long(cmd, "--threads", arg, 1, 256, &n)) return -1;
    } else if (env && *env) {
        if (cli_parse_long(cmd, "NASRANK_THREADS", env, 1, 256, &n)) return -1;
    }
    nr_threads_set((int)n);
    return 0;
}

void cli_fmt_double(char *buf, size_t n, double v)
{
    if (isnan(v)) { snprintf(buf, n, "nan"); return; }
    if (isinf(v)) { snprintf(buf, n, v > 0 ? "inf" : "-inf"); return; }
    for (int prec = 6; prec <= 17; prec++) { /* shortest that round-trips */
        snprintf(buf, n, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) return;
    }
}

void cli_json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', f);
    while (*p) {
        int n = nr_utf8_len(p);
        if (n == 0) { /* hand-edited files carry Latin-1 and binary junk: stay valid JSON */
            fputs("\\ufffd", f);
            p++;
        } else if (*p == '"' || *p == '\\') {
            fprintf(f, "\\%c", *p++);
        } else if (*p < 0x20 || *p == 0x7F) {
            fprintf(f, "\\u%04x", *p++);
        } else {
            fwrite(p, 1, (size_t)n, f);
            p += n;
        }
    }
    fputc('"', f);
}

void cli_json_number(FILE *f, double v)
{
    char buf[64];
    if (!isfinite(v)) { fputs("null", f); return; }
    cli_fmt_double(buf, sizeof buf, v);
    fputs(buf, f);
}

nr_status cli_check_output_path(const char *path, nr_error *err)
{
    if (!path || !strcmp(path, "-")) return NR_OK;
    struct stat sb;
    if (stat(path, &sb) == 0 && S_ISDIR(sb.st_mode))
        return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot write output: is a directory");
    char dir[4096];
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, sizeof dir, ".");
    else if (slash == path) snprintf(dir, sizeof dir, "/");
    else snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    if (access(dir, W_OK | X_OK) != 0)
        return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot write output: directory '%s': %s", dir,
                            strerror(errno));
    return NR_OK;
}
