/* Op counts, parameters and FLOPs of the NAS-Bench-201 macro net (DESIGN.md §3).
 *
 * Macro net for cfg (C, N, K = num_classes, I = in_channels, S = image_size):
 *   stem     Conv3x3(I -> C) + BN                                   S x S
 *   stage 0  N cells @ C                                            S x S
 *   block    ResNet C -> 2C, stride 2                               S/2
 *   stage 1  N cells @ 2C                                           S/2
 *   block    ResNet 2C -> 4C, stride 2                              S/4
 *   stage 2  N cells @ 4C                                           S/4
 *   lastact  BN + ReLU, global average pool, Linear(4C -> K)
 * Cell edge: nor_conv_kxk = ReLU, Conv(k, Cs -> Cs, no bias), BN(affine); avg_pool_3x3 =
 * AvgPool(3, 1, 1); skip_connect and none have no parameters and no FLOPs.
 * ResNet block Cin -> Cout: a = ReLU, Conv3x3 s2, BN; b = ReLU, Conv3x3, BN;
 * shortcut = AvgPool(2, 2), Conv1x1 (no BN, no bias).
 *
 * Parameters (NATS size_in_mb x 1e6; checked against all 15,625 rows but ~150 anomalies):
 *   conv weights + BN weight and bias (2 per channel) + Linear weight and bias.
 *   Default net, 10 classes: 73,306 without cell convs; each conv3x3 edge adds
 *   5 x (16*16*9+32 + 32*32*9+64 + 64*64*9+128) = 243,040, each conv1x1 5 x (...) = 28,000.
 *
 * FLOPs, two conventions (both per image, multiply-add = 1):
 *   nr_arch_flops        — NAS-Bench-201's cost_info "flops" (AutoDL get_model_infos: only
 *       Conv2d and Linear modules are summed; Conv2d = k*k*Cin*Cout*Hout*Wout, Linear =
 *       in*out + out).  Default net, 10 classes: 7.78305 M without cell convs; conv3x3 edge
 *       +35.38944 M, conv1x1 edge +3.93216 M, pools 0.  Matches the API's documented example
 *       {'flops': 78.56193, 'params': 0.559386} (two conv3x3 edges) and spans
 *       7.78305 .. 220.11969 M over the space, the paper's range.
 *   nr_arch_flops_naslib — NASLib's zero-cost benchmark (tensorwatch ModelStats, torchstat
 *       rules): Conv2d as above, BN 2/element (affine), ReLU 1/input element, AvgPool
 *       k*k/output element, AdaptiveAvgPool to 1x1 C*(H+1)*(W+1) (its formula's +1), Linear
 *       in*out (bias not counted).  Default: base 7.943872 M, conv3x3 +35.81952 M, conv1x1
 *       +4.36224 M, avg_pool_3x3 +1.29024 M.  Reproduces all 2,173 rows of
 *       nb201_naslib_zc_subset.csv exactly (cifar10, cifar100, ImageNet16-120 at 16x16).
 * Sums of edges inside a cell are counted by neither.
 */
#include "nasrank/encoding.h"

nr_macro_config nr_macro_default(void)
{
    nr_macro_config c = {16, 5, 10, 3, 32};
    return c;
}

nr_status nr_macro_config_check(const nr_macro_config *cfg, nr_error *err)
{
    if (cfg->C < 1 || cfg->C > 1024 || cfg->N < 1 || cfg->N > 64 || cfg->num_classes < 1 ||
        cfg->num_classes > 100000 || cfg->in_channels < 1 || cfg->in_channels > 64 ||
        cfg->image_size < 4 || cfg->image_size > 1024 || cfg->image_size % 4 != 0)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "bad network config C=%d N=%d classes=%d in_channels=%d image_size=%d "
                            "(need 1<=C<=1024, 1<=N<=64, image size a multiple of 4 in 4..1024)",
                            cfg->C, cfg->N, cfg->num_classes, cfg->in_channels, cfg->image_size);
    return NR_OK;
}

int nr_arch_count_op(const nr_arch *a, nr_op op)
{
    int n = 0;
    for (int e = 0; e < NR_NUM_EDGES; e++) n += a->op[e] == (unsigned char)op;
    return n;
}

int nr_arch_num_conv(const nr_arch *a)
{
    return nr_arch_count_op(a, NR_OP_CONV1X1) + nr_arch_count_op(a, NR_OP_CONV3X3);
}

static nr_macro_config config_or_default(const nr_macro_config *cfg)
{
    return cfg ? *cfg : nr_macro_default();
}

long nr_arch_params(const nr_arch *a, const nr_macro_config *cfg)
{
    nr_macro_config m = config_or_default(cfg);
    long C = m.C, K = m.num_classes;
    long n3 = nr_arch_count_op(a, NR_OP_CONV3X3), n1 = nr_arch_count_op(a, NR_OP_CONV1X1);
    long p = (long)m.in_channels * C * 9 + 2 * C; /* stem conv + BN */
    for (int s = 0; s < 3; s++) {
        long cs = C << s;
        p += (long)m.N * (n3 * (cs * cs * 9 + 2 * cs) + n1 * (cs * cs + 2 * cs));
        if (s < 2) {
            long co = 2 * cs; /* ResNet block cs -> co */
            p += cs * co * 9 + 2 * co + co * co * 9 + 2 * co + cs * co;
        }
    }
    long cl = 4 * C;
    p += 2 * cl;      /* lastact BN */
    p += cl * K + K;  /* classifier */
    return p;
}

/* Output size of Conv3x3 stride 2 pad 1. */
static long half(long h)
{
    return (h - 1) / 2 + 1;
}

/* naslib = 0: NAS-Bench-201 convention; 1: NASLib/tensorwatch convention (see top). */
static double flops(const nr_arch *a, const nr_macro_config *cfg, int naslib)
{
    nr_macro_config m = config_or_default(cfg);
    long C = m.C, K = m.num_classes;
    long n3 = nr_arch_count_op(a, NR_OP_CONV3X3), n1 = nr_arch_count_op(a, NR_OP_CONV1X1);
    long np = nr_arch_count_op(a, NR_OP_AVGPOOL3X3);
    long h = m.image_size;
    double f = (double)(h * h) * (double)(m.in_channels * C * 9); /* stem conv */
    if (naslib) f += 2.0 * (double)(C * h * h);                   /* stem BN */
    for (int s = 0; s < 3; s++) {
        long cs = C << s;
        double hw = (double)(h * h), act = (double)cs * hw; /* elements of one cell tensor */
        f += (double)m.N * ((double)n3 * hw * (double)(cs * cs * 9) +
                            (double)n1 * hw * (double)(cs * cs));
        if (naslib) f += (double)m.N * ((double)(n3 + n1) * 3.0 * act + (double)np * 9.0 * act);
        if (s < 2) {
            long co = 2 * cs, ho = half(h);
            double out = (double)(ho * ho);
            f += out * (double)(cs * co * 9); /* conv_a */
            f += out * (double)(co * co * 9); /* conv_b */
            f += out * (double)(cs * co);     /* shortcut conv1x1 */
            if (naslib) {
                f += act;                               /* ReLU a (input) */
                f += 2.0 * (double)co * out;            /* BN a */
                f += (double)co * out;                  /* ReLU b */
                f += 2.0 * (double)co * out;            /* BN b */
                f += 4.0 * (double)cs * (double)((h / 2) * (h / 2)); /* AvgPool 2x2 */
            }
            h = ho;
        }
    }
    long cl = 4 * C;
    if (naslib) {
        f += 3.0 * (double)(cl * h * h);             /* lastact BN + ReLU */
        f += (double)cl * (double)((h + 1) * (h + 1)); /* global average pool */
        f += (double)(cl * K);                       /* Linear, bias not counted */
    } else {
        f += (double)(cl * K + K); /* Linear with bias */
    }
    return f;
}

double nr_arch_flops(const nr_arch *a, const nr_macro_config *cfg)
{
    return flops(a, cfg, 0);
}

double nr_arch_flops_naslib(const nr_arch *a, const nr_macro_config *cfg)
{
    return flops(a, cfg, 1);
}
