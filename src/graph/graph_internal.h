/* nasrank — the layout of nr_graph (graph.c builds it; the executor reads it). */
#ifndef NASRANK_GRAPH_INTERNAL_H
#define NASRANK_GRAPH_INTERNAL_H

#include "nasrank/graph.h"

struct nr_graph {
    nr_layer *layers;      /* (n_layers); inputs and names are owned per layer */
    int n_layers, cap_layers;
    nr_param_tensor *tensors;
    size_t n_tensors, cap_tensors;
    size_t n_params;       /* floats */
    float *params;         /* NULL until finished */
    int output;
    int finished;
    nr_error build_err;    /* first builder failure (code != NR_OK once one failed) */
};

#endif
