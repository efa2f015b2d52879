/* log|det A| by LU with partial pivoting, like numpy.linalg.slogdet.
 *
 * LAPACK's unblocked dgetf2, not dgetrf: for the small kernels here (n = batch size) the
 * blocked and recursive forms buy nothing, and their level-3 calls make BLIS allocate packing
 * buffers, which it aborts the process on when memory runs out (found by the ulimit -v sweep
 * of tests/cli_faults.sh); dgetf2 uses level-2 BLAS only and allocates nothing.
 * The row-major buffer is handed over as column-major, i.e. A^T is factorised: no transposed
 * copy, and det(A^T) = det(A), sign included. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/score.h"

nr_status nr_logdet(const double *a, int n, double *logdet, int *sign, nr_error *err)
{
    if (n < 1) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "logdet of an empty matrix");
    for (long i = 0; i < (long)n * n; i++)
        if (!isfinite(a[i]))
            return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0, "matrix entry %ld is not finite", i);
    double *lu = malloc((size_t)n * n * sizeof *lu);
    lapack_int *piv = malloc((size_t)n * sizeof *piv);
    if (!lu || !piv) {
        free(lu);
        free(piv);
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory in logdet (n=%d)", n);
    }
    memcpy(lu, a, (size_t)n * n * sizeof *lu);
    lapack_int info = LAPACKE_dgetf2(LAPACK_COL_MAJOR, n, n, lu, n, piv);
    nr_status st = NR_OK;
    if (info < 0) {
        st = nr_error_set(err, NR_ERR_INTERNAL, NULL, 0, 0, "dgetf2 argument %d invalid", (int)-info);
    } else if (info > 0) { /* exactly zero pivot: singular */
        *logdet = -INFINITY;
        *sign = 0;
    } else {
        double ld = 0.0;
        int s = 1;
        for (int i = 0; i < n; i++) {
            double d = lu[(size_t)i * n + i];
            if (d < 0) s = -s;
            if (piv[i] != i + 1) s = -s; /* 1-based pivots: each swap flips the sign */
            ld += log(fabs(d));
        }
        *logdet = ld;
        *sign = s;
    }
    free(lu);
    free(piv);
    return st;
}
