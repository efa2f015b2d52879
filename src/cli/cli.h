/* nasrank CLI — shared helpers for the subcommands (one file per subcommand). */
#ifndef NASRANK_CLI_H
#define NASRANK_CLI_H

#include <stdio.h>

#include "nasrank.h"

/* Exit codes */
enum { CLI_OK = 0, CLI_ERR = 1, CLI_USAGE = 2 };

int cmd_query(int argc, char **argv);
int cmd_correlate(int argc, char **argv);
int cmd_score(int argc, char **argv);
int cmd_train(int argc, char **argv);  /* cmd_train.c */
int cmd_rank(int argc, char **argv);   /* cmd_rank.c */
int cmd_search(int argc, char **argv); /* cmd_search.c */

/* Print "nasrank: FILE:LINE:COL: text" for err; returns CLI_ERR. */
int cli_fail(const nr_error *err);
/* Print "nasrank CMD: text" plus a hint to --help; returns CLI_USAGE. */
int cli_usage(const char *cmd, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
/* Strict integer / double option parsing; on failure prints a usage error. */
int cli_parse_long(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
/* Threads: --threads N, else $NASRANK_THREADS, else the online CPUs (at most 8); applies it
 * to BLIS and the ops thread pool. */
int cli_apply_threads(const char *cmd, const char *arg);

/* Fail before hours of work rather than after it: path (NULL or "-": stdout, fine) must not
 * be a directory and its directory must exist and be writable.  NR_ERR_IO naming path. */
nr_status cli_check_output_path(const char *path, nr_error *err);

/* JSON-safe printing of a double: non-finite values become null. */
void cli_json_number(FILE *f, double v);
/* s as a JSON string: escapes quotes, backslashes and control bytes; bytes that are not
 * valid UTF-8 become U+FFFD, so the output always parses. */
void cli_json_string(FILE *f, const char *s);
/* Shortest round-trip decimal for CSV/JSON ("%.17g" trimmed); "nan"/"inf"/"-inf" in CSV. */
void cli_fmt_double(char *buf, size_t n, double v);

#endif
