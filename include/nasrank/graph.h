/* nasrank — the network graph: one description of a network for every search space.
 *
 * A graph is a list of layers in topological order; each layer names its inputs (earlier
 * layers) and has one output tensor of shape (C, H, W) per image (NCHW, float32).  Layer 0 is
 * the input images.  A search space (src/spaces/) builds the graph of an architecture; the
 * executor (graph_exec.h) runs it forward and backward; scores read what the executor hands
 * them.  The graph knows no space and no score.
 *
 * Ops and their exact semantics (PyTorch's, batch B, per channel / per image as noted):
 *   conv        y = conv2d(x, w), w (Cout, Cin/groups, k, k), no bias; stride s, zero padding
 *               p, dilation d, groups g (g = Cin = Cout: depthwise).
 *               Ho = floor((H + 2p - d(k-1) - 1) / s) + 1.
 *   batchnorm   train mode: per channel, mean and biased variance over (B, H, W), eps 1e-5;
 *               y = (x - mean) / sqrt(var + eps) * gamma + beta; affine = 0: no gamma/beta.
 *   relu        y = max(x, 0) (NaN passes); clip > 0: y = min(max(x, 0), clip) (ReLU6).
 *   avgpool     k x k window, stride s, zero padding p, Ho = floor((H + 2p - k) / s) + 1;
 *               divisor k*k (count_include_pad = 1) or the in-bounds taps (0).
 *   maxpool     k x k window, stride s, padding p (-inf), same Ho; the first maximum in
 *               row-major window order takes the gradient.
 *   add         y = x_0 + x_1 + ... in input order (n >= 1 inputs of one shape).
 *   concat      channels of the inputs in order (same H, W).
 *   slice       channels [begin, end) of the input.
 *   crop        x[:, :, top:top+H, left:left+W] (DARTS' factorized reduce reads x[:, :, 1:, 1:]).
 *   zero        y = 0 with the input's channels, spatial stride s: Ho = ceil(H / s) (DARTS Zero).
 *   identity    y = x.
 *   global_avgpool  y (C, 1, 1) = mean over H, W.
 *   linear      y (Out, 1, 1) = w (Out, In) x + b, x the input flattened (In = C*H*W).
 *
 * Parameters: each conv has "<name>.weight"; an affine batchnorm "<name>.weight" (gamma) and
 * "<name>.bias" (beta); a linear "<name>.weight" and, with bias, "<name>.bias" (reference-style
 * names: the space chooses <name>, e.g. "cells.3.edges.2<-1.op.1").  Tensors are laid out in
 * one vector in the order their layers were added.  Init (PyTorch defaults, deterministic):
 * conv and linear weights and linear biases U(-b, b), b = 1/sqrt(fan_in) (conv fan_in =
 * Cin/groups*k*k, linear In), element i = (float)((2*u24 - 1) * b) from nr_rng_stream(seed,
 * tensor name) in row-major order; gamma 1, beta 0.
 *
 * Building: nr_graph_new, then nr_graph_<op> calls, each returning the new layer's index, or
 * -1 once any call has failed (the first error is kept: a bad shape, a bad input index, out
 * of memory); then nr_graph_finish checks, allocates and initialises the parameters, and
 * reports that first error.  Only a finished graph can be executed.
 */
#ifndef NASRANK_GRAPH_H
#define NASRANK_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/error.h"

#if defined(__GNUC__)
#define NR_WARN_UNUSED __attribute__((warn_unused_result))
#else
#define NR_WARN_UNUSED
#endif

typedef enum nr_layer_kind {
    NR_LAYER_INPUT = 0,
    NR_LAYER_CONV,
    NR_LAYER_BATCHNORM,
    NR_LAYER_RELU,
    NR_LAYER_AVGPOOL,
    NR_LAYER_MAXPOOL,
    NR_LAYER_ADD,
    NR_LAYER_CONCAT,
    NR_LAYER_SLICE,
    NR_LAYER_CROP,
    NR_LAYER_ZERO,
    NR_LAYER_IDENTITY,
    NR_LAYER_GLOBAL_AVGPOOL,
    NR_LAYER_LINEAR,
    NR_NUM_LAYER_KINDS
} nr_layer_kind;

/* "input", "conv", "batchnorm", ...; NULL when out of range. */
const char *nr_layer_kind_name(int kind);

/* One layer (a read-only view; the graph owns it).  Attributes not used by a kind are 0. */
typedef struct nr_layer {
    nr_layer_kind kind;
    int n_inputs;
    const int *inputs;    /* (n_inputs) earlier layer indices */
    int C, H, W;          /* output shape per image */
    int kernel, stride, pad, dilation, groups; /* conv; pools use kernel, stride, pad */
    int count_include_pad;                     /* avgpool */
    int affine;                                /* batchnorm */
    int clip;                                  /* relu: 0 plain, > 0 the upper clip */
    int bias;                                  /* linear */
    int begin, end;                            /* slice: channels [begin, end) */
    int top, left;                             /* crop: origin of the (H, W) window */
    int param;            /* index of the layer's first parameter tensor, -1 when none */
    int n_params;         /* its tensors: conv 1, affine BN 2, linear 1 or 2 */
    const char *name;     /* "" for layers without parameters unless one was given */
} nr_layer;

/* A parameter tensor (a read-only view). */
typedef struct nr_param_tensor {
    const char *name;
    size_t offset;        /* into the parameter vector */
    size_t numel;
    int layer;
    int ndim;
    int shape[4];
} nr_param_tensor;

typedef struct nr_graph nr_graph; /* opaque */

/* A new graph whose layer 0 is the input images (in_channels, H, W).  *out is new (free with
 * nr_graph_free); NULL on error (NR_ERR_INVALID sizes, NR_ERR_NOMEM). */
nr_status nr_graph_new(int in_channels, int H, int W, nr_graph **out, nr_error *err) NR_WARN_UNUSED;
void nr_graph_free(nr_graph *g); /* accepts NULL */

/* ---- building (each returns the new layer's index, or -1; see the top of this file) ---- */
int nr_graph_conv(nr_graph *g, int in, const char *name, int out_channels, int kernel,
                  int stride, int pad, int dilation, int groups);
int nr_graph_batchnorm(nr_graph *g, int in, const char *name, int affine);
int nr_graph_relu(nr_graph *g, int in, int clip);
int nr_graph_avgpool(nr_graph *g, int in, int kernel, int stride, int pad, int count_include_pad);
int nr_graph_maxpool(nr_graph *g, int in, int kernel, int stride, int pad);
int nr_graph_add(nr_graph *g, int n, const int *ins);
int nr_graph_concat(nr_graph *g, int n, const int *ins);
int nr_graph_slice(nr_graph *g, int in, int begin, int end);
int nr_graph_crop(nr_graph *g, int in, int top, int left, int H, int W);
int nr_graph_zero(nr_graph *g, int in, int stride);
int nr_graph_identity(nr_graph *g, int in);
int nr_graph_global_avgpool(nr_graph *g, int in);
int nr_graph_linear(nr_graph *g, int in, const char *name, int out_features, int bias);
/* Gives layer i a name (for layers without parameters: "cells.3.node1", ...). */
void nr_graph_set_name(nr_graph *g, int layer, const char *name);
/* The graph's result: the executor's forward returns this layer's output. */
void nr_graph_set_output(nr_graph *g, int layer);

/* Checks the graph (an output is set, no builder call failed), allocates the parameter
 * vector and initialises it from seed (see above).  NR_ERR_INVALID names the first failed
 * builder call; NR_ERR_NOMEM.  A finished graph takes no more layers. */
nr_status nr_graph_finish(nr_graph *g, uint64_t seed, nr_error *err) NR_WARN_UNUSED;

/* ---- reading ---- */
int nr_graph_num_layers(const nr_graph *g);
const nr_layer *nr_graph_layer(const nr_graph *g, int i); /* NULL when out of range */
int nr_graph_output(const nr_graph *g);                   /* -1 when not set */
size_t nr_graph_num_params(const nr_graph *g);            /* floats in the parameter vector */
size_t nr_graph_num_tensors(const nr_graph *g);
const nr_param_tensor *nr_graph_tensor(const nr_graph *g, size_t i); /* NULL out of range */
/* The parameter vector (nr_graph_num_params floats; NULL before nr_graph_finish).  Borrowed;
 * writable so tests can load other weights. */
float *nr_graph_params(nr_graph *g);
const float *nr_graph_params_const(const nr_graph *g);
/* Index of the tensor with this name, or -1. */
long nr_graph_find_tensor(const nr_graph *g, const char *name);
/* Fan-in of layer i's weights: Cin/groups*k*k for a conv, In for a linear, 0 otherwise (the
 * init's bound is 1/sqrt of it; fisher scales by it). */
int nr_graph_fan_in(const nr_graph *g, int i);
/* Multiply-adds per image of every conv (k*k*Cin/groups*Cout*Ho*Wo) and linear (In*Out, plus
 * Out with a bias), the convention of NAS-Bench-201's cost tables. */
double nr_graph_flops(const nr_graph *g);

/* Which layers a forward pass must compute.  live[i] (n = nr_graph_num_layers bytes) is set
 * when layer i's output reaches the graph output, and, with observe_relu_inputs, also when
 * it is an ancestor of (or is) the input of any ReLU layer: a sink that watches every ReLU
 * input (NASWOT) needs those even when the ReLU's own output feeds nothing that matters.
 * A layer is never live only through a zero layer (zero reads no value). */
void nr_graph_liveness(const nr_graph *g, int observe_relu_inputs, unsigned char *live);

#endif
