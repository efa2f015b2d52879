/* nasrank — internal layout of nr_net (shared by net_build.c and net_forward.c). */
#ifndef NASRANK_NET_INTERNAL_H
#define NASRANK_NET_INTERNAL_H

#include <stddef.h>

#include "nasrank/net.h"

#define NR_NET_NAME_MAX 64

typedef struct nr_tensor_info {
    char name[NR_NET_NAME_MAX];
    float *data;
    size_t numel;
} nr_tensor_info;

/* The conv edges leaving one node with one kernel size, computed as ONE stacked conv:
 * their weights (m*C, C, k, k) and BN affine parameters (m*C) are contiguous, so the
 * stacked output (B, m*C, H, W) is normalised in one pass and sliced into the targets. */
typedef struct nr_conv_group {
    int k;          /* 1 or 3 */
    int m;          /* edges in the group (0 = unused) */
    int target[3];  /* destination node of each slot, in edge order */
    float *w;       /* (m*C, C, k, k) */
    float *gamma;   /* (m*C) */
    float *beta;    /* (m*C) */
} nr_conv_group;

typedef enum { NR_STAGE_CELL, NR_STAGE_RESBLOCK } nr_stage_kind;

typedef struct nr_stage {
    nr_stage_kind kind;
    int index;      /* c in the parameter names */
    int Cin, Cout;  /* equal for cells */
    int H;          /* input height = width */
    /* cells: groups[source node][0: 3x3, 1: 1x1] */
    nr_conv_group groups[3][2];
    /* resblocks */
    float *wa, *ga, *ba; /* conv_a (Cout, Cin, 3, 3), BN (Cout) */
    float *wb, *gb, *bb; /* conv_b (Cout, Cout, 3, 3), BN (Cout) */
    float *wd;           /* downsample 1x1 (Cout, Cin, 1, 1) */
    char name_a[NR_NET_NAME_MAX], name_b[NR_NET_NAME_MAX];
    char node_name[3][NR_NET_NAME_MAX];
} nr_stage;

struct nr_net {
    nr_arch arch;
    nr_macro_config cfg;
    unsigned long long seed;
    float *params;          /* one allocation for every parameter */
    size_t num_params;
    nr_tensor_info *tensors;
    size_t num_tensors;
    nr_stage *stages;
    int num_stages;
    float *stem_w, *stem_g, *stem_b; /* (C, in, 3, 3), (C), (C) */
    float *last_g, *last_b;          /* (4C) */
    float *fc_w, *fc_b;              /* (classes, 4C), (classes) */
    /* node j's value is needed (feeds a computed op or a counted ReLU); node 3 always */
    int needed[4];
    /* activation workspace, one allocation, sized for ws_batch images */
    float *ws;
    size_t ws_floats;
    int ws_batch;
};

#endif
