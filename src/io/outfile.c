/* nasrank — atomic output files (see include/nasrank/outfile.h).
 *
 * A regular (or not yet existing) PATH gets a sibling temporary file PATH.tmp.PID.N, created
 * with O_EXCL and mode 0666 (so the umask applies, as for any new file), then flushed,
 * fsync'ed and renamed over PATH.  A PATH that exists and is not a regular file (a device
 * such as /dev/null or /dev/full, a FIFO, a terminal) is written in place: renaming a file
 * over a device node would replace the node itself.  A directory is refused up front.
 */
#define _XOPEN_SOURCE 700 /* realpath */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nasrank/outfile.h"

struct nr_outfile {
    FILE *fp;
    char *path; /* as given, for messages; NULL for stdout */
    char *dest; /* what the temporary file is renamed onto (symlinks resolved) */
    char *tmp;  /* NULL when writing in place (stdout, devices, FIFOs) */
};

/* Creates PATH.tmp.PID.N exclusively; returns the fd (or -1 with errno set). */
static int create_tmp(const char *path, char *tmp, size_t size)
{
    static unsigned counter;
    for (int tries = 0; tries < 100; tries++) {
        snprintf(tmp, size, "%s.tmp.%ld.%u", path, (long)getpid(), counter++);
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0666);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

nr_status nr_outfile_open(const char *path, nr_outfile **out, FILE **fp, nr_error *err)
{
    *out = NULL;
    *fp = NULL;
    nr_outfile *of = calloc(1, sizeof *of);
    if (!of) return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    if (!path || !strcmp(path, "-")) {
        of->fp = stdout;
        *out = of;
        *fp = stdout;
        return NR_OK;
    }
    of->path = strdup(path);
    if (!of->path) {
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    }
    /* A symlink is followed, so the file it points to is replaced, not the link (a dangling
     * link or one into /proc, such as /dev/stdout, is written through in place). */
    struct stat sb;
    int inplace = 0;
    if (lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) {
        of->dest = realpath(path, NULL);
        if (!of->dest) inplace = 1;
    }
    if (!of->dest) of->dest = strdup(path);
    if (!of->dest) {
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    }
    if (stat(of->dest, &sb) == 0 && !S_ISREG(sb.st_mode)) {
        if (S_ISDIR(sb.st_mode)) {
            nr_outfile_abort(of);
            return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot write output: is a directory");
        }
        inplace = 1; /* a device or FIFO: renaming onto it would replace the node itself */
    }
    if (inplace) {
        of->fp = fopen(of->dest, "w");
        if (!of->fp) {
            int e = errno;
            nr_outfile_abort(of);
            return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open output file: %s", strerror(e));
        }
        *out = of;
        *fp = of->fp;
        return NR_OK;
    }
    size_t n = strlen(of->dest);
    size_t tn = n + 48;
    of->tmp = malloc(tn);
    if (!of->tmp) {
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    }
    int fd = create_tmp(of->dest, of->tmp, tn);
    if (fd < 0) {
        int e = errno;
        free(of->tmp);
        of->tmp = NULL;
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot create output file: %s", strerror(e));
    }
    of->fp = fdopen(fd, "w");
    if (!of->fp) {
        int e = errno;
        close(fd);
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_IO, path, 0, 0, "cannot open output file: %s", strerror(e));
    }
    *out = of;
    *fp = of->fp;
    return NR_OK;
}

nr_status nr_outfile_commit(nr_outfile *of, nr_error *err)
{
    if (!of) return NR_OK;
    nr_status st = NR_OK;
    if (!of->path) { /* stdout */
        if (fflush(stdout) != 0 || ferror(stdout))
            st = nr_error_set(err, NR_ERR_IO, "<stdout>", 0, 0, "write failed: %s", strerror(errno));
        free(of);
        return st;
    }
    errno = 0;
    int bad = fflush(of->fp) != 0 || ferror(of->fp);
    int e = errno;
    if (!bad && of->tmp && fsync(fileno(of->fp)) != 0 && errno != EINVAL && errno != EROFS) {
        bad = 1;
        e = errno;
    }
    if (fclose(of->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    of->fp = NULL;
    if (bad) {
        st = nr_error_set(err, NR_ERR_IO, of->path, 0, 0, "write failed: %s",
                          e ? strerror(e) : "i/o error");
    } else if (of->tmp && rename(of->tmp, of->dest) != 0) {
        st = nr_error_set(err, NR_ERR_IO, of->path, 0, 0, "cannot rename output into place: %s",
                          strerror(errno));
    } else {
        free(of->tmp);
        of->tmp = NULL;
    }
    nr_outfile_abort(of);
    return st;
}

void nr_outfile_abort(nr_outfile *of)
{
    if (!of) return;
    if (of->fp && of->fp != stdout) fclose(of->fp);
    if (of->tmp) unlink(of->tmp);
    free(of->tmp);
    free(of->dest);
    free(of->path);
    free(of);
}
