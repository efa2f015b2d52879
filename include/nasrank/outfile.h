/* nasrank — atomic output files.
 *
 * Output goes to a temporary file in the target's directory (PATH.tmp.PID.N, mode 0666
 * minus the umask), which is flushed, fsync'ed and renamed over PATH only on commit.  A
 * failure, a full disk or an abort leaves PATH untouched (old content or absent) and no
 * partial file (a process killed by a signal can leave its PATH.tmp.* behind, never a
 * half-written PATH); two processes writing the same PATH each produce a complete file and
 * the last rename wins, never an interleaving.  A symlink PATH is resolved and its target
 * replaced.  A PATH that exists and is not a regular file (/dev/null, /dev/full, a FIFO) is
 * written in place without a rename; a directory is an error (NR_ERR_IO) at open.
 * PATH NULL or "-" means standard output (no atomicity, write errors still reported).
 */
#ifndef NASRANK_OUTFILE_H
#define NASRANK_OUTFILE_H

#include <stdio.h>

#include "nasrank/error.h"

typedef struct nr_outfile nr_outfile;

/* *out is new; *fp is borrowed (valid until commit/abort). */
nr_status nr_outfile_open(const char *path, nr_outfile **out, FILE **fp, nr_error *err);
/* Flush, sync, close and rename.  On failure the temp file is removed.  Frees of. */
nr_status nr_outfile_commit(nr_outfile *of, nr_error *err);
/* Close and remove the temp file; accepts NULL.  Frees of. */
void nr_outfile_abort(nr_outfile *of);

#endif
