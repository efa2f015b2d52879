#include "nasrank/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef NR_SOURCE_DIR
#define NR_SOURCE_DIR "."
#endif

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

nr_status nr_data_find(const char *relpath, char *out, size_t outsize, nr_error *err)
{
    if (!relpath || !*relpath || !out || outsize == 0)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "empty data path");
    if (relpath[0] == '/' || strncmp(relpath, "./", 2) == 0 || strncmp(relpath, "../", 3) == 0) {
        if ((size_t)snprintf(out, outsize, "%s", relpath) >= outsize)
            return nr_error_set(err, NR_ERR_INVALID, relpath, 0, 0, "path too long");
        if (!is_file(out)) return nr_error_set(err, NR_ERR_IO, relpath, 0, 0, "no such file");
        return NR_OK;
    }
    const char *env = getenv("NASRANK_DATA");
    const char *roots[5];
    int nroots = 0;
    if (env && *env) {
        roots[nroots++] = env;
    } else {
        roots[nroots++] = "datasets";
        roots[nroots++] = "../shared/datasets";
        roots[nroots++] = NR_SOURCE_DIR "/datasets";
        roots[nroots++] = NR_SOURCE_DIR "/../shared/datasets";
    }
    char tried[512] = "";
    size_t tn = 0;
    for (int i = 0; i < nroots; i++) {
        if ((size_t)snprintf(out, outsize, "%s/%s", roots[i], relpath) >= outsize) continue;
        if (is_file(out)) return NR_OK;
        if (tn < sizeof tried)
            tn += (size_t)snprintf(tried + tn, sizeof tried - tn, "%s%s", i ? ", " : "", roots[i]);
    }
    out[0] = '\0';
    return nr_error_set(err, NR_ERR_IO, relpath, 0, 0,
                        "data file not found (looked in %s%s)", tried,
                        env && *env ? " from $NASRANK_DATA" : "; set NASRANK_DATA to its folder");
}
