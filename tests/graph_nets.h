/* The hand-built networks of tests/reference/make_graph_fixtures.py on nr_graph: one NAS-
 * Bench-101-style cell, three DARTS cells (normal, reduction, normal), two MobileNetV2
 * inverted residuals.  Layers are added in the order PyTorch registers the modules, so the
 * parameter tensors come in named_parameters() order.  Included by tests/test_graph.c. */
#ifndef NASRANK_TESTS_GRAPH_NETS_H
#define NASRANK_TESTS_GRAPH_NETS_H

#include <stdio.h>
#include <string.h>

#include "nasrank/graph.h"

#define NETS_B 4
#define NETS_S 16
#define NETS_CLASSES 10

static int nm_conv(nr_graph *g, int x, const char *mod, const char *sub, int cout, int k, int s, int p,
                   int d, int groups)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s", mod, sub);
    return nr_graph_conv(g, x, name, cout, k, s, p, d, groups);
}

static int nm_bn(nr_graph *g, int x, const char *mod, const char *sub)
{
    char name[160];
    snprintf(name, sizeof name, "%s%s", mod, sub);
    return nr_graph_batchnorm(g, x, name, 1);
}

/* ---- NAS-Bench-101 style ---- */

static int conv_bn_relu(nr_graph *g, int x, const char *mod, int cout, int k)
{
    return nr_graph_relu(g, nm_bn(g, nm_conv(g, x, mod, ".conv", cout, k, 1, k / 2, 1, 1), mod, ".bn"), 0);
}

static int build_nb101(nr_graph *g)
{
    int x = conv_bn_relu(g, 0, "stem", 16, 3);
    int v1 = conv_bn_relu(g, conv_bn_relu(g, x, "cell.input_proj_1", 16, 1), "cell.vertex_1", 16, 3);
    int v2 = nr_graph_maxpool(g, conv_bn_relu(g, x, "cell.input_proj_2", 24, 1), 3, 1, 1);
    int sum3[2] = {v1, nr_graph_slice(g, v2, 0, 16)};
    int v3 = conv_bn_relu(g, nr_graph_add(g, 2, sum3), "cell.vertex_3", 16, 1);
    int cat[2] = {v1, v3};
    int out[2] = {nr_graph_concat(g, 2, cat), conv_bn_relu(g, x, "cell.input_proj_4", 32, 1)};
    int y = nr_graph_maxpool(g, nr_graph_add(g, 2, out), 2, 2, 0);
    return nr_graph_linear(g, nr_graph_global_avgpool(g, y), "classifier", NETS_CLASSES, 1);
}

/* ---- DARTS ---- */

typedef struct darts_edge {
    const char *op;
    int from;
} darts_edge;

static const darts_edge DARTS_NORMAL[8] = {{"sep_conv_3x3", 0}, {"skip_connect", 1}, {"dil_conv_3x3", 0},
                                           {"max_pool_3x3", 2}, {"avg_pool_3x3", 1}, {"sep_conv_5x5", 3},
                                           {"skip_connect", 0}, {"dil_conv_5x5", 4}};
static const darts_edge DARTS_REDUCE[8] = {{"max_pool_3x3", 0}, {"skip_connect", 1}, {"sep_conv_3x3", 0},
                                           {"avg_pool_3x3", 2}, {"dil_conv_3x3", 1}, {"skip_connect", 2},
                                           {"sep_conv_5x5", 3}, {"none", 0}};

static int relu_conv_bn(nr_graph *g, int x, const char *mod, int cout)
{
    int c = nm_conv(g, nr_graph_relu(g, x, 0), mod, ".op.1", cout, 1, 1, 0, 1, 1);
    return nm_bn(g, c, mod, ".op.2");
}

static int factorized_reduce(nr_graph *g, int x, const char *mod, int cout)
{
    int r = nr_graph_relu(g, x, 0);
    const nr_layer *l = nr_graph_layer(g, r);
    int a = nm_conv(g, r, mod, ".conv_1", cout / 2, 1, 2, 0, 1, 1);
    int crop = l ? nr_graph_crop(g, r, 1, 1, l->H - 1, l->W - 1) : -1;
    int b = nm_conv(g, crop, mod, ".conv_2", cout / 2, 1, 2, 0, 1, 1);
    int ins[2] = {a, b};
    return nm_bn(g, nr_graph_concat(g, 2, ins), mod, ".bn");
}

static int darts_op(nr_graph *g, int x, const char *op, const char *mod, int C, int stride)
{
    if (!strcmp(op, "none")) return nr_graph_zero(g, x, stride);
    if (!strcmp(op, "skip_connect")) return stride == 1 ? x : factorized_reduce(g, x, mod, C);
    if (!strcmp(op, "max_pool_3x3")) return nr_graph_maxpool(g, x, 3, stride, 1);
    if (!strcmp(op, "avg_pool_3x3")) return nr_graph_avgpool(g, x, 3, stride, 1, 0);
    int k = op[9] - '0'; /* "sep_conv_3x3" / "dil_conv_5x5" */
    if (!strncmp(op, "sep_conv", 8)) {
        int y = nm_conv(g, nr_graph_relu(g, x, 0), mod, ".op.1", C, k, stride, k / 2, 1, C);
        y = nm_bn(g, nm_conv(g, y, mod, ".op.2", C, 1, 1, 0, 1, 1), mod, ".op.3");
        y = nm_conv(g, nr_graph_relu(g, y, 0), mod, ".op.5", C, k, 1, k / 2, 1, C);
        return nm_bn(g, nm_conv(g, y, mod, ".op.6", C, 1, 1, 0, 1, 1), mod, ".op.7");
    }
    int y = nm_conv(g, nr_graph_relu(g, x, 0), mod, ".op.1", C, k, stride, k - 1, 2, C);
    return nm_bn(g, nm_conv(g, y, mod, ".op.2", C, 1, 1, 0, 1, 1), mod, ".op.3");
}

static int darts_cell(nr_graph *g, int c, const darts_edge *geno, int s0, int s1, int C, int reduction,
                      int reduction_prev)
{
    char mod[96];
    int states[6];
    snprintf(mod, sizeof mod, "cells.%d.preprocess0", c);
    states[0] = reduction_prev ? factorized_reduce(g, s0, mod, C) : relu_conv_bn(g, s0, mod, C);
    snprintf(mod, sizeof mod, "cells.%d.preprocess1", c);
    states[1] = relu_conv_bn(g, s1, mod, C);
    for (int i = 0; i < 4; i++) {
        int h[2];
        for (int j = 0; j < 2; j++) {
            const darts_edge *e = &geno[2 * i + j];
            snprintf(mod, sizeof mod, "cells.%d._ops.%d", c, 2 * i + j);
            h[j] = darts_op(g, states[e->from], e->op, mod, C, reduction && e->from < 2 ? 2 : 1);
        }
        states[2 + i] = nr_graph_add(g, 2, h);
    }
    return nr_graph_concat(g, 4, states + 2);
}

static int build_darts(nr_graph *g)
{
    int C = 8;
    int s = nm_bn(g, nm_conv(g, 0, "stem", ".0", 3 * C, 3, 1, 1, 1, 1), "stem", ".1");
    int s0 = s, s1 = s, c = C, reduction_prev = 0;
    for (int i = 0; i < 3; i++) {
        int red = i == 1;
        if (red) c *= 2;
        int out = darts_cell(g, i, red ? DARTS_REDUCE : DARTS_NORMAL, s0, s1, c, red, reduction_prev);
        reduction_prev = red;
        s0 = s1;
        s1 = out;
    }
    return nr_graph_linear(g, nr_graph_global_avgpool(g, s1), "classifier", NETS_CLASSES, 1);
}

/* ---- MobileNetV2 ---- */

static int inverted_residual(nr_graph *g, int x, const char *mod, int cin, int cout, int k, int stride, int e)
{
    int hid = cin * e;
    int y = nr_graph_relu(g, nm_bn(g, nm_conv(g, x, mod, ".conv.0", hid, 1, 1, 0, 1, 1), mod, ".conv.1"), 6);
    y = nr_graph_relu(g, nm_bn(g, nm_conv(g, y, mod, ".conv.3", hid, k, stride, k / 2, 1, hid), mod, ".conv.4"), 6);
    y = nm_bn(g, nm_conv(g, y, mod, ".conv.6", cout, 1, 1, 0, 1, 1), mod, ".conv.7");
    if (stride != 1 || cin != cout) return y;
    int ins[2] = {x, y};
    return nr_graph_add(g, 2, ins);
}

static int build_mbv2(nr_graph *g)
{
    int x = nr_graph_relu(g, nm_bn(g, nm_conv(g, 0, "stem", ".0", 16, 3, 1, 1, 1, 1), "stem", ".1"), 6);
    x = inverted_residual(g, x, "blocks.0", 16, 16, 3, 1, 3);
    x = inverted_residual(g, x, "blocks.1", 16, 24, 5, 2, 6);
    x = nr_graph_relu(g, nm_bn(g, nm_conv(g, x, "head", ".0", 64, 1, 1, 0, 1, 1), "head", ".1"), 6);
    return nr_graph_linear(g, nr_graph_global_avgpool(g, x), "classifier", NETS_CLASSES, 1);
}

/* The named net, finished with seed 1 (the fixture's). */
int nets_build(const char *name, nr_graph **out, nr_error *err)
{
    *out = NULL;
    int (*build)(nr_graph *) = !strcmp(name, "nb101_cell")    ? build_nb101
                               : !strcmp(name, "darts_cells") ? build_darts
                               : !strcmp(name, "mbv2_blocks") ? build_mbv2
                                                              : NULL;
    if (!build) return nr_error_set(err, NR_ERR_NOTFOUND, NULL, 0, 0, "no hand-built net '%s'", name);
    nr_graph *g;
    nr_status st = nr_graph_new(3, NETS_S, NETS_S, &g, err);
    if (st) return st;
    nr_graph_set_output(g, build(g));
    if ((st = nr_graph_finish(g, 1, err))) {
        nr_graph_free(g);
        return st;
    }
    *out = g;
    return NR_OK;
}

#endif
