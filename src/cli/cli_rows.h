#ifndef NASRANK_CLI_ROWS_H
#define NASRANK_CLI_ROWS_H

#include "nasrank.h"

typedef struct cli_archcols {
    long arch;  /* column of `arch` or `arch_str`, -1 when absent (preferred when present) */
    long index; /* column of `index`, -1 when absent */
} cli_archcols;

nr_status cli_find_arch_columns(const nr_csv *csv, cli_archcols *cols, nr_error *err);
/* Arch of one row; errors at FILE:LINE:COL.  table may be NULL when an arch column exists. */
nr_status cli_row_arch(const nr_csv *csv, const cli_archcols *cols, size_t row,
                       const nr_table *table, nr_arch *out, nr_error *err);

#endif
