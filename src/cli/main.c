/* nasrank — command-line entry point: dispatches to one file per subcommand. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static const struct {
    const char *name;
    int (*run)(int, char **);
    const char *summary;
} commands[] = {
    {"score", cmd_score, "score architectures: NASWOT, zero-cost proxies (CSV in, CSV/JSON out)"},
    {"correlate", cmd_correlate, "rank correlations of score columns vs ground truth"},
    {"query", cmd_query, "ground truth of one architecture from the NAS-Bench-201 table"},
    {"train", cmd_train, "fit a graph predictor (comparator / relativistic) on table labels"},
    {"rank", cmd_rank, "rank a CSV of architectures with a trained predictor"},
    {"search", cmd_search, "run a search strategy against NAS-Bench-201, paper-style table"},
};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: nasrank <command> [options]\n"
            "Rank neural architectures without training them (NAS-Bench-201).\n\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f,
            "\n'nasrank <command> --help' shows a command's options.\n"
            "Data is read from $NASRANK_DATA, ./datasets or ../shared/datasets.\n"
            "Exit codes: 0 ok, 1 data or runtime error, 2 usage error.\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return CLI_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return CLI_OK;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
        printf("nasrank %s\n", NR_VERSION);
        return CLI_OK;
    }
    /* A file-size limit (ulimit -f) makes writes fail with EFBIG, reported like a full disk,
     * instead of killing the process with SIGXFSZ and leaving a temporary file behind. */
    signal(SIGXFSZ, SIG_IGN);
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        int rc = commands[i].run(argc - 1, argv + 1);
        /* results on stdout are worthless if they did not all arrive (disk full, closed pipe);
         * a command that failed has said so already */
        errno = 0;
        if ((fflush(stdout) != 0 || ferror(stdout)) && rc == CLI_OK) {
            fprintf(stderr, "nasrank: <stdout>: write failed%s%s\n", errno ? ": " : "",
                    errno ? strerror(errno) : "");
            rc = CLI_ERR;
        }
        return rc;
    }
    return cli_usage(NULL, "unknown command '%s'", argv[1]);
}
