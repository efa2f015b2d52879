/* nasrank — untrained NAS-Bench-201 networks and their forward pass.
 *
 * Macro skeleton (DESIGN.md §3, AutoDL TinyNetwork): stem Conv3x3(3->C)+BN; N cells @C;
 * ResNet block (C->2C, stride 2); N cells @2C; ResNet block (2C->4C, stride 2); N cells @4C;
 * BN + ReLU; global average pool; Linear(4C -> classes).  BatchNorm in train mode.
 *
 * Parameter tensors are named like the PyTorch reference's named_parameters(); cell index c
 * counts the ResNet blocks too (0..N-1 cells, N block, N+1..2N cells, 2N+1 block, ...):
 *   stem.0.weight (C,3,3,3)  stem.1.weight (C)  stem.1.bias (C)
 *   cells.{c}.edges.{to}<-{from}.op.1.weight (Cc,Cc,k,k)   .op.2.weight  .op.2.bias
 *   cells.{c}.conv_a.op.1.weight (Co,Ci,3,3) .op.2.weight .op.2.bias
 *   cells.{c}.conv_b.op.1.weight (Co,Co,3,3) .op.2.weight .op.2.bias
 *   cells.{c}.downsample.1.weight (Co,Ci,1,1)
 *   lastact.0.weight  lastact.0.bias (4C)     classifier.weight (K,4C)  classifier.bias (K)
 * Init (PyTorch defaults): conv/linear weights U(-b, b), b = 1/sqrt(fan_in), from
 * nr_rng_stream(seed, name), element k = (float)((2*u24 - 1) * b) in row-major order;
 * linear bias likewise with b = 1/sqrt(in_features); BN weight 1, bias 0.
 */
#ifndef NASRANK_NET_H
#define NASRANK_NET_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"

typedef struct nr_net nr_net; /* opaque */

/* A tensor that one or more ReLU modules take as input, delivered once per forward.
 *   cells.{c}.node{i}   cell node i (i = 0..2) feeding conv edges
 *   cells.{c}.conv_a    ResNet block input;   cells.{c}.conv_b   its inner BN output
 *   lastact             the final BN output
 * relu_modules: ReLU modules reading it (a node read by 2 conv edges: 2).
 * hooked_modules: modules whose class name contains "ReLU" reading it, as the NASWOT
 * reference counts them (ReLUConvBN and its inner ReLU: 2 per conv edge; lastact: 1). */
typedef struct nr_activation {
    const char *name;
    const float *x; /* (B, C, H, W), borrowed for the duration of the callback */
    int B, C, H, W;
    int relu_modules;
    int hooked_modules;
} nr_activation;

typedef void (*nr_activation_sink)(void *ctx, const nr_activation *act);

nr_status nr_net_create(const nr_arch *arch, const nr_macro_config *cfg, uint64_t seed,
                        nr_net **out, nr_error *err);
void nr_net_free(nr_net *net);

size_t nr_net_num_params(const nr_net *net);
double nr_net_flops(const nr_net *net); /* multiply-adds per image (NB201 convention) */
/* Multiply-adds per image the forward pass actually runs: conv edges whose output reaches
 * nothing (a dead cell node) are skipped, so this can be below nr_net_flops.  Benchmarks
 * divide by this one so GFLOP/s is never inflated by work that is not done. */
double nr_net_flops_executed(const nr_net *net);

/* Parameter tensors in creation order (names above).  Borrowed; writable so tests can load
 * other weights. */
size_t nr_net_num_tensors(const nr_net *net);
const char *nr_net_tensor_name(const nr_net *net, size_t i);
float *nr_net_tensor(nr_net *net, size_t i, size_t *numel);

/* Forward pass on images (B, 3, S, S) (S = cfg image_size).  logits (B, classes) may be NULL
 * when only activations are wanted (the classifier is then skipped).  The sink (may be NULL)
 * sees every ReLU input that reaches the output. */
nr_status nr_net_forward(nr_net *net, const float *images, int B, float *logits,
                         nr_activation_sink sink, void *ctx, nr_error *err);

/* ---- Gradients (net_train.c) ----
 * A tape runs a forward pass that keeps what the backward pass needs (conv outputs before
 * BatchNorm and their batch statistics, cell node values, ...; train-mode BN, the same
 * kernels and results as nr_net_forward), then backward passes over the cell DAG.  Memory:
 * about 9 activations of a stage-1 tensor (B*C*S*S floats) per stage-1 cell at worst,
 * plus 13 such tensors of scratch (C=16, N=5, B=64: up to ~400 MB). */
typedef struct nr_tape nr_tape; /* opaque */

/* A tape for net (borrowed: it must outlive the tape and keep its parameters' addresses)
 * and batches of up to B images.  *out is new (free with nr_tape_free); NULL on error
 * (NR_ERR_INVALID batch out of 1..65536, NR_ERR_NOMEM). */
nr_status nr_tape_create(nr_net *net, int B, nr_tape **out, nr_error *err);
void nr_tape_free(nr_tape *tape); /* accepts NULL */

/* Forward pass on images (B, in_channels, S, S), B <= the tape's batch.  logits (B,
 * classes) may be NULL.  images is borrowed until the next forward on this tape (the stem's
 * weight gradient reads it). */
nr_status nr_tape_forward(nr_tape *tape, const float *images, int B, float *logits,
                          nr_error *err);

/* Backward of the last forward for the output gradient dlogits (B, classes): ADDS dR/dθ
 * into grad (nr_net_num_params floats; the gradient of tensor i starts at
 * nr_net_tensor_offset(net, i)) and dR/dimages into dimages (B, in_channels, S, S).  Either
 * may be NULL (the work for it is skipped).  May be called several times after one forward
 * (e.g. for two output gradients).  NR_ERR_INVALID without a forward. */
nr_status nr_tape_backward(nr_tape *tape, const float *dlogits, float *grad, float *dimages,
                           nr_error *err);

/* Offset of parameter tensor i in the parameter (and gradient) vector; 0 if out of range. */
size_t nr_net_tensor_offset(const nr_net *net, size_t i);

#endif
