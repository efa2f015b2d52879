/* nasrank — the NAS-Bench-201 space on the network graph (AutoDL TinyNetwork, InferCell,
 * ResNetBasicblock, ReLUConvBN; see include/nasrank/net.h and include/nasrank/spaces.h). */
#include <stdio.h>

#include "nasrank/spaces.h"

#define NAME_MAX_LEN 128

static int conv_kernel(int op)
{
    return op == NR_OP_CONV3X3 ? 3 : op == NR_OP_CONV1X1 ? 1 : 0;
}

/* ReLU -> conv(k, pad k/2, stride) -> BN of a ReLUConvBN module named `mod`; returns the
 * conv (its BN is the caller's, so grouped edges can add their BNs after all their convs). */
static int relu_conv(nr_graph *g, int x, const char *mod, int Cout, int k, int stride)
{
    char name[NAME_MAX_LEN + 8];
    snprintf(name, sizeof name, "%s.op.1", mod);
    return nr_graph_conv(g, nr_graph_relu(g, x, 0), name, Cout, k, stride, k / 2, 1, 1);
}

static int bn_of(nr_graph *g, int x, const char *mod)
{
    char name[NAME_MAX_LEN + 8];
    snprintf(name, sizeof name, "%s.op.2", mod);
    return nr_graph_batchnorm(g, x, name, 1);
}

/* One InferCell on node 0 = x; returns node 3. */
static int cell(nr_graph *g, const nr_arch *a, int c, int x, int C)
{
    int node[4] = {x, -1, -1, -1};
    int contrib[4][3]; /* contrib[t][src]: the value edge src -> t adds into node t, or -1 */
    for (int t = 0; t < 4; t++)
        for (int s = 0; s < 3; s++) contrib[t][s] = -1;
    char mod[NAME_MAX_LEN];
    for (int src = 0; src < 3; src++) {
        /* node src is complete: every edge into it comes from an earlier node */
        if (src > 0) {
            int ins[3], n = 0;
            for (int s = 0; s < src; s++)
                if (contrib[src][s] >= 0) ins[n++] = contrib[src][s];
            node[src] = n == 0 ? nr_graph_zero(g, x, 1) : n == 1 ? ins[0] : nr_graph_add(g, n, ins);
            snprintf(mod, sizeof mod, "cells.%d.node%d", c, src);
            if (n != 1) nr_graph_set_name(g, node[src], mod);
        }
        for (int k = 3; k >= 1; k -= 2) {
            int convs[3], targets[3], m = 0;
            for (int e = 0; e < NR_NUM_EDGES; e++) {
                if (nr_edge_from(e) != src || conv_kernel(a->op[e]) != k) continue;
                snprintf(mod, sizeof mod, "cells.%d.edges.%d<-%d", c, nr_edge_to(e), src);
                targets[m] = nr_edge_to(e);
                convs[m++] = relu_conv(g, node[src], mod, C, k, 1);
            }
            for (int s = 0; s < m; s++) {
                snprintf(mod, sizeof mod, "cells.%d.edges.%d<-%d", c, targets[s], src);
                contrib[targets[s]][src] = bn_of(g, convs[s], mod);
            }
        }
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            if (nr_edge_from(e) != src) continue;
            if (a->op[e] == NR_OP_SKIP) contrib[nr_edge_to(e)][src] = node[src];
            else if (a->op[e] == NR_OP_AVGPOOL3X3) contrib[nr_edge_to(e)][src] = nr_graph_avgpool(g, node[src], 3, 1, 1, 0);
        }
    }
    int ins[3], n = 0;
    for (int s = 0; s < 3; s++)
        if (contrib[3][s] >= 0) ins[n++] = contrib[3][s];
    return n == 0 ? nr_graph_zero(g, x, 1) : n == 1 ? ins[0] : nr_graph_add(g, n, ins);
}

/* ResNetBasicblock (stride 2): BN_b(conv_b(relu(BN_a(conv_a(relu(x)))))) + conv1x1(avgpool2x2(x)). */
static int resblock(nr_graph *g, int c, int x, int Cout)
{
    char mod[NAME_MAX_LEN], name[NAME_MAX_LEN + 8];
    snprintf(mod, sizeof mod, "cells.%d.conv_a", c);
    int a = bn_of(g, relu_conv(g, x, mod, Cout, 3, 2), mod);
    snprintf(mod, sizeof mod, "cells.%d.conv_b", c);
    int b = bn_of(g, relu_conv(g, a, mod, Cout, 3, 1), mod);
    snprintf(name, sizeof name, "cells.%d.downsample.1", c);
    int sc = nr_graph_conv(g, nr_graph_avgpool(g, x, 2, 2, 0, 1), name, Cout, 1, 1, 0, 1, 1);
    int ins[2] = {sc, b};
    return nr_graph_add(g, 2, ins);
}

nr_status nr_nb201_graph(const nr_arch *arch, const nr_macro_config *cfg, uint64_t seed,
                         nr_graph **out, nr_error *err)
{
    *out = NULL;
    nr_macro_config def = nr_macro_default();
    if (!cfg) cfg = &def;
    for (int e = 0; e < NR_NUM_EDGES; e++)
        if (arch->op[e] >= NR_NUM_OPS)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "edge %d has op code %d", e, arch->op[e]);
    nr_status st = nr_macro_config_check(cfg, err);
    if (st) return st;
    nr_graph *g;
    st = nr_graph_new(cfg->in_channels, cfg->image_size, cfg->image_size, &g, err);
    if (st) return st;
    int C = cfg->C;
    int x = nr_graph_batchnorm(g, nr_graph_conv(g, 0, "stem.0", C, 3, 1, 1, 1, 1), "stem.1", 1);
    int c = 0;
    for (int stage = 0; stage < 3; stage++) {
        if (stage > 0) x = resblock(g, c++, x, C << stage);
        for (int i = 0; i < cfg->N; i++, c++) x = cell(g, arch, c, x, C << stage);
    }
    int z = nr_graph_relu(g, nr_graph_batchnorm(g, x, "lastact.0", 1), 0);
    int logits = nr_graph_linear(g, nr_graph_global_avgpool(g, z), "classifier", cfg->num_classes, 1);
    nr_graph_set_output(g, logits);
    if ((st = nr_graph_finish(g, seed, err))) {
        nr_graph_free(g);
        return st;
    }
    *out = g;
    return NR_OK;
}

/* A ReLU that feeds a conv is the first module of a ReLUConvBN: the published NASWOT code
 * hooks both (DESIGN.md section 4).  lastact's ReLU is a plain nn.ReLU. */
static int nb201_naswot_hooks(const nr_graph *g, int relu)
{
    for (int i = relu + 1; i < nr_graph_num_layers(g); i++) {
        const nr_layer *l = nr_graph_layer(g, i);
        if (l->kind == NR_LAYER_CONV && l->inputs[0] == relu) return 2;
    }
    return 1;
}

static const nr_space NB201 = {"nb201", nb201_naswot_hooks};

const nr_space *nr_space_nb201(void) { return &NB201; }
