/* nasrank — where data files are found.
 *
 * A relative data path such as "nb201/nb201_200ep.csv" is looked up, first hit wins, in:
 *   1. $NASRANK_DATA (when set and non-empty; then ONLY there, so a user's choice is never
 *      silently overridden)
 *   2. ./datasets, then ../shared/datasets (relative to the working directory)
 *   3. <source tree>/datasets, then <source tree>/../shared/datasets (baked in at build time)
 * An absolute path or one starting with "./" or "../" is used as given.
 */
#ifndef NASRANK_PATHS_H
#define NASRANK_PATHS_H

#include <stddef.h>

#include "nasrank/error.h"

/* Writes the resolved path into out.  NR_ERR_IO naming every place tried when not found. */
nr_status nr_data_find(const char *relpath, char *out, size_t outsize, nr_error *err);

#endif
