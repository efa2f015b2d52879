/* nasrank — CSV documents read with libcsv (RFC 4180: quotes, embedded commas/newlines,
 * CRLF), kept in memory with the line number of every row so errors can say FILE:LINE:COL.
 *
 * Rules: the first record is the header; header names must be non-empty and unique; every
 * record must have exactly as many fields as the header; a UTF-8 BOM is skipped; blank lines
 * are skipped; a field longer than NR_CSV_FIELD_MAX bytes or a NUL byte is an error.
 * Columns in errors are 1-based field numbers (the message also names the header).
 * Cells are kept byte for byte (no space trimming).  A record's line is the line where it
 * starts (a quoted field may span lines); a wrong field count is reported at that line with
 * column 0; an unterminated quote at the line where it opened.
 */
#ifndef NASRANK_CSV_H
#define NASRANK_CSV_H

#include <stddef.h>
#include <stdio.h>

#include "nasrank/error.h"

#define NR_CSV_FIELD_MAX (1 << 20)
/* nr_csv_read refuses (NR_ERR_IO) a file or stream longer than this, and stops reading at the
 * first NUL byte (reported by the parser at its line), so /dev/zero or an endless pipe cannot
 * fill memory. */
#define NR_CSV_MAX_BYTES (1 << 30)

typedef struct nr_csv nr_csv; /* opaque */

/* Read a whole file.  *out is new (free with nr_csv_free). */
nr_status nr_csv_read(const char *path, nr_csv **out, nr_error *err);
/* Parse a buffer; `source` names it in errors. */
nr_status nr_csv_parse(const char *data, size_t size, const char *source, nr_csv **out,
                       nr_error *err);
void nr_csv_free(nr_csv *csv);

const char *nr_csv_source(const nr_csv *csv);
size_t nr_csv_nrows(const nr_csv *csv);   /* data rows, header excluded */
size_t nr_csv_ncols(const nr_csv *csv);
const char *nr_csv_header(const nr_csv *csv, size_t col);
long nr_csv_find_col(const nr_csv *csv, const char *name); /* -1 when absent */
/* Borrowed, NUL-terminated, valid until nr_csv_free. */
const char *nr_csv_cell(const nr_csv *csv, size_t row, size_t col);
long nr_csv_row_line(const nr_csv *csv, size_t row); /* 1-based line where the row starts */
long nr_csv_header_line(const nr_csv *csv);           /* line of the header (1 unless blank
                                                          lines precede it) */

/* Strict numeric conversions of a cell, errors at FILE:LINE:COL naming the column.
 * _double accepts what strtod accepts in full (no trailing junk); NaN/inf are rejected
 * unless allow_nonfinite.  Empty cells are an error for both.  Leading whitespace is an error
 * too (strtod would skip it).  Codes: NR_ERR_PARSE (not a number / integer, empty),
 * NR_ERR_NUMERIC (NaN/inf not allowed, overflow), NR_ERR_INVALID (row/col out of range). */
nr_status nr_csv_get_double(const nr_csv *csv, size_t row, size_t col, int allow_nonfinite,
                            double *out, nr_error *err);
nr_status nr_csv_get_long(const nr_csv *csv, size_t row, size_t col, long *out, nr_error *err);

/* Write one field, quoted only when needed (comma, quote, CR/LF, leading/trailing space or
 * tab); NULL writes an empty field.  Returns 0, or EOF on a write error. */
int nr_csv_write_field(FILE *f, const char *s);

#endif
