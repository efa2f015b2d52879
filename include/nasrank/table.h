/* nasrank — NAS-Bench-201 ground-truth lookup (the tabular benchmark).
 *
 * Loads nb201/nb201_200ep.csv (15,625 rows; see datasets/README.md) and optionally the
 * 12-epoch and per-run files.  Row i holds benchmark index i.  All accuracies in percent.
 *
 * Datasets and what valid/test mean (NAS-Bench-201 splits):
 *   cifar10-valid, cifar10 : valid = cifar10-valid x-valid, test = cifar10 ori-test
 *   cifar100               : x-valid / x-test
 *   ImageNet16-120         : x-valid / x-test
 */
#ifndef NASRANK_TABLE_H
#define NASRANK_TABLE_H

#include <stddef.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"

typedef enum nr_dataset {
    NR_DS_CIFAR10_VALID = 0,
    NR_DS_CIFAR10 = 1,
    NR_DS_CIFAR100 = 2,
    NR_DS_IMAGENET16 = 3,
    NR_NUM_DATASETS = 4
} nr_dataset;

typedef enum nr_metric { NR_METRIC_VALID = 0, NR_METRIC_TEST = 1 } nr_metric;

/* "cifar10-valid", "cifar10", "cifar100", "ImageNet16-120" (also "imagenet16",
 * case-insensitive).  Returns NR_ERR_INVALID (with the accepted names) otherwise. */
nr_status nr_dataset_parse(const char *name, nr_dataset *out, nr_error *err);
const char *nr_dataset_name(nr_dataset ds); /* NULL when out of range */

typedef struct nr_table_row {
    int index;          /* benchmark index 0..15624 */
    nr_arch arch;
    int iso_index;      /* smallest index of an isomorphic arch */
    int n_runs;         /* 200-epoch runs behind the means */
    double valid[NR_NUM_DATASETS];  /* 200-epoch seed-mean accuracies, by nr_dataset */
    double test[NR_NUM_DATASETS];
    double valid12[NR_NUM_DATASETS]; /* 12-epoch (one run); NaN until nr_table_load_12ep */
    double test12[NR_NUM_DATASETS];
    double params_mb[NR_NUM_DATASETS]; /* NATS size_in_mb (cifar10-valid = cifar10) */
} nr_table_row;

typedef struct nr_table nr_table; /* opaque */

/* path NULL: "nb201/nb201_200ep.csv" through nr_data_find.  Checks: every required column
 * present, numbers numeric and finite, index 0..15624 each exactly once, arch strings valid
 * and unique, iso_index the smallest index of the arch's isomorphism class, 15,625 rows.  Errors name FILE:LINE:COL (COL = field number; a missing column
 * is reported at the header line with column 0; too few rows at the last row's line, naming
 * the first missing index).  A path given is used as is (not searched).  *out is new. */
nr_status nr_table_load(const char *path, nr_table **out, nr_error *err);
/* Adds valid12/test12 from nb201/nb201_12ep.csv (path NULL: the default).  Each row's
 * arch_str must equal the loaded table's arch for its index; on failure t is unchanged. */
nr_status nr_table_load_12ep(nr_table *t, const char *path, nr_error *err);
void nr_table_free(nr_table *t);

size_t nr_table_size(const nr_table *t);
/* Borrowed pointers, valid until nr_table_free.  NULL when not found. */
const nr_table_row *nr_table_by_index(const nr_table *t, long index);
const nr_table_row *nr_table_by_arch(const nr_table *t, const nr_arch *a);
/* Accepts an arch string or a decimal index. */
const nr_table_row *nr_table_lookup(const nr_table *t, const char *arch_or_index);

/* valid/test accuracy of a row; epochs 200 or 12 (NaN when not loaded). */
double nr_table_acc(const nr_table_row *row, nr_dataset ds, nr_metric m, int epochs);

#endif
