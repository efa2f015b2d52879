/* nasrank query ARCH|INDEX — every ground-truth field of one architecture. */
#include <getopt.h>
#include <math.h>
#include <string.h>

#include "cli/cli.h"

static void help(FILE *f)
{
    fprintf(f,
            "usage: nasrank query ARCH|INDEX [--dataset D] [--json]\n"
            "Print the NAS-Bench-201 ground truth of one architecture, given as its official\n"
            "string or its benchmark index.\n\n"
            "  -d, --dataset D  only this dataset: cifar10-valid, cifar10, cifar100, ImageNet16-120\n"
            "      --json       one JSON object instead of 'key: value' lines\n"
            "  -h, --help       this help\n");
}

typedef struct kv {
    const char *key;
    double num;
    const char *str; /* when non-NULL, a string value */
} kv;

static void print_kv(const kv *items, int n, int json)
{
    if (json) putchar('{');
    for (int i = 0; i < n; i++) {
        if (json) {
            printf("%s\"%s\": ", i ? ", " : "", items[i].key);
            if (items[i].str) printf("\"%s\"", items[i].str);
            else cli_json_number(stdout, items[i].num);
        } else {
            char buf[64];
            if (!items[i].str) cli_fmt_double(buf, sizeof buf, items[i].num);
            printf("%-24s %s\n", items[i].key, items[i].str ? items[i].str : buf);
        }
    }
    if (json) printf("}\n");
}

int cmd_query(int argc, char **argv)
{
    static const struct option opts[] = {{"dataset", required_argument, 0, 'd'},
                                         {"json", no_argument, 0, 'j'},
                                         {"help", no_argument, 0, 'h'},
                                         {0, 0, 0, 0}};
    int json = 0, only = -1, c;
    nr_error err = {0};
    optind = 1;
    while ((c = getopt_long(argc, argv, "d:h", opts, NULL)) != -1) {
        nr_dataset ds;
        switch (c) {
        case 'd':
            if (nr_dataset_parse(optarg, &ds, &err)) return cli_usage("query", "%s", err.text);
            only = (int)ds;
            break;
        case 'j': json = 1; break;
        case 'h': help(stdout); return CLI_OK;
        default: return cli_usage("query", "bad option");
        }
    }
    if (optind != argc - 1) return cli_usage("query", "expected exactly one ARCH or INDEX");
    const char *what = argv[optind];

    nr_table *t = NULL;
    if (nr_table_load(NULL, &t, &err)) return cli_fail(&err);
    /* The 12-epoch file is optional: absent means a warning; present but broken is an error. */
    char path12[4096];
    if (nr_data_find("nb201/nb201_12ep.csv", path12, sizeof path12, &err)) {
        fprintf(stderr, "nasrank: warning: no 12-epoch data: %s\n", err.text);
        nr_error_clear(&err);
    } else if (nr_table_load_12ep(t, path12, &err)) {
        nr_table_free(t);
        return cli_fail(&err);
    }
    const nr_table_row *r = nr_table_lookup(t, what);
    if (!r) {
        nr_arch a;
        nr_error perr = {0};
        int rc;
        if (what[0] >= '0' && what[0] <= '9') {
            fprintf(stderr, "nasrank: '%s' is not a benchmark index (0..%d)\n", what, NR_NUM_ARCHS - 1);
            rc = CLI_ERR;
        } else if (nr_arch_parse(what, &a, &perr)) {
            rc = cli_fail(&perr);
        } else {
            fprintf(stderr, "nasrank: %s is not in the table\n", what);
            rc = CLI_ERR;
        }
        nr_table_free(t);
        return rc;
    }
    char arch[NR_ARCH_STR_MAX];
    nr_arch_format(&r->arch, arch, sizeof arch);
    nr_macro_config cfg = nr_macro_default();
    kv items[64];
    int n = 0;
    items[n++] = (kv){"index", r->index, NULL};
    items[n++] = (kv){"arch_str", 0, arch};
    items[n++] = (kv){"iso_index", r->iso_index, NULL};
    items[n++] = (kv){"n_runs", r->n_runs, NULL};
    items[n++] = (kv){"num_conv", nr_arch_num_conv(&r->arch), NULL};
    items[n++] = (kv){"params", (double)nr_arch_params(&r->arch, &cfg), NULL};
    items[n++] = (kv){"flops_m", nr_arch_flops(&r->arch, &cfg) / 1e6, NULL};
    /* The table's own column names; a field belongs to the datasets in its mask. */
    enum { V = 1 << NR_DS_CIFAR10_VALID, T = 1 << NR_DS_CIFAR10, C100 = 1 << NR_DS_CIFAR100,
           IN16 = 1 << NR_DS_IMAGENET16 };
    const kv fields[] = {
        {"cifar10_valid_acc", r->valid[NR_DS_CIFAR10], NULL},
        {"cifar10_test_acc", r->test[NR_DS_CIFAR10], NULL},
        {"cifar100_valid_acc", r->valid[NR_DS_CIFAR100], NULL},
        {"cifar100_test_acc", r->test[NR_DS_CIFAR100], NULL},
        {"imagenet16_valid_acc", r->valid[NR_DS_IMAGENET16], NULL},
        {"imagenet16_test_acc", r->test[NR_DS_IMAGENET16], NULL},
        {"cifar10_valid_acc_12ep", r->valid12[NR_DS_CIFAR10], NULL},
        {"cifar10_test_acc_12ep", r->test12[NR_DS_CIFAR10], NULL},
        {"cifar100_valid_acc_12ep", r->valid12[NR_DS_CIFAR100], NULL},
        {"cifar100_test_acc_12ep", r->test12[NR_DS_CIFAR100], NULL},
        {"imagenet16_valid_acc_12ep", r->valid12[NR_DS_IMAGENET16], NULL},
        {"imagenet16_test_acc_12ep", r->test12[NR_DS_IMAGENET16], NULL},
        {"params_mb_cifar10", r->params_mb[NR_DS_CIFAR10], NULL},
        {"params_mb_cifar100", r->params_mb[NR_DS_CIFAR100], NULL},
        {"params_mb_imagenet16", r->params_mb[NR_DS_IMAGENET16], NULL},
    };
    const int mask[] = {V | T, T, C100, C100, IN16, IN16, V | T, T, C100, C100, IN16, IN16, V | T, C100, IN16};
    for (size_t k = 0; k < sizeof fields / sizeof *fields; k++) {
        if (only >= 0 && !(mask[k] & (1 << only))) continue;
        if (isnan(fields[k].num)) continue; /* 12-epoch file absent */
        items[n++] = fields[k];
    }
    print_kv(items, n, json);
    nr_table_free(t);
    return CLI_OK;
}
