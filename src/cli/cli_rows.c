/* Resolving the architecture of an input CSV row: an `arch` / `arch_str` column (official
 * string) or an `index` column (benchmark index, needs the table). */
#include <string.h>

#include "cli/cli_rows.h"

nr_status cli_find_arch_columns(const nr_csv *csv, cli_archcols *cols, nr_error *err)
{
    cols->arch = nr_csv_find_col(csv, "arch");
    if (cols->arch < 0) cols->arch = nr_csv_find_col(csv, "arch_str");
    cols->index = nr_csv_find_col(csv, "index");
    if (cols->arch < 0 && cols->index < 0)
        return nr_error_set(err, NR_ERR_INVALID, nr_csv_source(csv), nr_csv_header_line(csv), 0,
                            "no 'arch', 'arch_str' or 'index' column in the header");
    return NR_OK;
}

nr_status cli_row_arch(const nr_csv *csv, const cli_archcols *cols, size_t row,
                       const nr_table *table, nr_arch *out, nr_error *err)
{
    long line = nr_csv_row_line(csv, row);
    if (cols->arch >= 0) {
        const char *s = nr_csv_cell(csv, row, (size_t)cols->arch);
        return nr_arch_parse_at(s, nr_csv_source(csv), line, 1, out, err);
    }
    long idx;
    nr_status st = nr_csv_get_long(csv, row, (size_t)cols->index, &idx, err);
    if (st) return st;
    const nr_table_row *r = table ? nr_table_by_index(table, idx) : NULL;
    if (!r)
        return nr_error_set(err, NR_ERR_INVALID, nr_csv_source(csv), line, cols->index + 1,
                            "column 'index': %ld is not a benchmark index (0..%d)", idx,
                            NR_NUM_ARCHS - 1);
    *out = r->arch;
    return NR_OK;
}
