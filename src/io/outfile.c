#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nasrank/outfile.h"

struct nr_outfile {
    FILE *fp;
    char *path; /* NULL for stdout */
    char *tmp;
};

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
    size_t n = strlen(path);
    of->path = malloc(n + 1);
    of->tmp = malloc(n + 16);
    if (!of->path || !of->tmp) {
        nr_outfile_abort(of);
        return nr_error_set(err, NR_ERR_NOMEM, path, 0, 0, "out of memory");
    }
    memcpy(of->path, path, n + 1);
    snprintf(of->tmp, n + 16, "%s.tmp.XXXXXX", path);
    int fd = mkstemp(of->tmp);
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
    int bad = fflush(of->fp) != 0 || ferror(of->fp);
    int e = errno;
    if (!bad && fsync(fileno(of->fp)) != 0 && errno != EINVAL && errno != EROFS) {
        bad = 1;
        e = errno;
    }
    if (fclose(of->fp) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    of->fp = NULL;
    if (bad) {
        st = nr_error_set(err, NR_ERR_IO, of->path, 0, 0, "write failed: %s", strerror(e));
    } else if (rename(of->tmp, of->path) != 0) {
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
    free(of->path);
    free(of);
}
