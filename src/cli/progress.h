/* A one-line progress bar on stderr, drawn only when stderr is a terminal. */
#ifndef NASRANK_CLI_PROGRESS_H
#define NASRANK_CLI_PROGRESS_H

#include <stddef.h>

typedef struct cli_progress {
    int enabled;
    size_t total;
    double t0;       /* monotonic seconds at start */
    double last;     /* last redraw */
    const char *what;
} cli_progress;

double cli_now(void); /* monotonic seconds */
void cli_progress_start(cli_progress *p, size_t total, const char *what);
void cli_progress_update(cli_progress *p, size_t done);
void cli_progress_end(cli_progress *p);

#endif
