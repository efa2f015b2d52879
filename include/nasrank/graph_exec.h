/* nasrank — the graph executor: forward and backward passes over any nr_graph.
 *
 * An executor is made for one finished graph and a largest batch.  It plans once: which
 * layers must run (nr_graph_liveness), which buffers can be shared (a layer's output buffer
 * is reused once its last reader has run; with backward what the backward pass reads is
 * kept), and one kernel per layer.  Layers whose output reaches neither the graph output
 * nor, when ReLU inputs are observed, any ReLU input are skipped.  Rules that hold for any
 * graph: ReLU layers reading the same tensor (with the same clip) compute one tensor; a
 * plain ReLU read only by convs on the fast kernel is applied inside their input copy and
 * never stored (not with relu_masks).  Results are those of running every layer as written.
 *
 * Kernels: by default each layer runs on the library's fast kernel for its op where one
 * exists (src/ops/: the implicit-GEMM conv for dense undilated convs, the 3x3/1 and 2x2/2
 * average pools, ReLU, batch norm, global pool, linear) and on the reference kernel
 * otherwise (src/ops/ref_*.c: depthwise/grouped and dilated convs, max pools, other average
 * pools, ReLU6, concat, slice, crop).  reference = 1 runs every layer on the reference
 * kernels (plain loops, sums in double; adds stay plain float adds): the oracle the tests
 * compare against.
 */
#ifndef NASRANK_GRAPH_EXEC_H
#define NASRANK_GRAPH_EXEC_H

#include "nasrank/error.h"
#include "nasrank/graph.h"

/* A tensor that ReLU layers read, delivered once per forward right after it is computed
 * (in layer order): the producing layer, its value (B, C, H, W; borrowed for the duration of
 * the callback) and the ReLU layers that read it (in layer order). */
typedef struct nr_relu_input {
    int layer;
    const float *x;
    int B, C, H, W;
    int n_relus;
    const int *relus;
} nr_relu_input;
typedef void (*nr_relu_input_sink)(void *ctx, const nr_relu_input *in);

/* Called by nr_exec_backward once the output gradient dy of a layer is complete (every
 * layer that has one, from the graph output back to the input), with its forward output y:
 * both (B, C, H, W) of that layer, borrowed.  For per-layer statistics such as fisher.  y
 * is there for conv and linear layers (and any value the backward pass keeps); for other
 * layers it may be a buffer since reused: do not read it. */
typedef void (*nr_layer_grad_hook)(void *ctx, const nr_graph *g, int layer, const float *y,
                                   const float *dy, int B);

/* A pool of buffers for executors made one after another (one per architecture): an
 * executor takes its large buffers from the pool when it is created and gives them back
 * when it is freed, so scoring many architectures does not map and fault in fresh memory
 * for each.  Not thread-safe: one pool per thread.  It must outlive its executors. */
typedef struct nr_exec_pool nr_exec_pool;
nr_status nr_exec_pool_create(nr_exec_pool **out, nr_error *err) NR_WARN_UNUSED;
void nr_exec_pool_free(nr_exec_pool *pool); /* accepts NULL; frees every buffer it holds */

typedef struct nr_exec_options {
    nr_exec_pool *pool;      /* borrowed; NULL: the executor allocates its own */
    int reference;           /* every op on its reference kernel (see above) */
    int backward;            /* keep what nr_exec_backward needs */
    int observe_relu_inputs; /* compute every ReLU input (for a sink), live or not */
    int no_bn;               /* every batch norm is the identity (synflow's BN-free net) */
    int no_linear_bias;      /* linear layers leave their bias out (and get no gradient) */
    /* The output of every cut layer (one every path from the input to the output passes
     * through, the input and output excepted) is multiplied by 2^e, e = -exponent of its
     * max |value|, so a BN-free network of positive weights never overflows float; backward
     * passes the factors back: the passes compute R' = 2^E R and dR'/dθ = 2^E dR/dθ
     * (nr_exec_log2_scale gives E).  Powers of two are exact: the results are those of the
     * unscaled network times 2^E, bit for bit, while nothing overflows or goes subnormal. */
    int rescale;
    int relu_masks;          /* keep one on/off mask per ReLU (nr_exec_set_relu_mode) */
} nr_exec_options;

typedef struct nr_exec nr_exec; /* opaque */

/* An executor for g (borrowed: it must outlive the executor, finished, its parameters read
 * at each pass) and batches of up to max_batch images; opt NULL means all zero.  *out is new
 * (free with nr_exec_free); NULL on error (NR_ERR_INVALID: unfinished graph, batch out of
 * 1..65536; NR_ERR_NOMEM). */
nr_status nr_exec_create(const nr_graph *g, int max_batch, const nr_exec_options *opt,
                         nr_exec **out, nr_error *err) NR_WARN_UNUSED;
void nr_exec_free(nr_exec *ex); /* accepts NULL */

/* Forward pass on images (B, C0, H0, W0) (layer 0's shape), B <= max_batch.  out (B, C, H, W
 * of the output layer) may be NULL.  sink may be NULL; a sink needs observe_relu_inputs
 * (NR_ERR_INVALID otherwise, so a score never silently sees fewer ReLUs than exist).  With
 * backward, images are borrowed until the next forward. */
nr_status nr_exec_forward(nr_exec *ex, const float *images, int B, float *out,
                          nr_relu_input_sink sink, void *ctx, nr_error *err);

/* ReLUs of an executor made with relu_masks: 0 plain; 1 record each ReLU's on/off pattern
 * (x > 0) in the forward; 2 frozen: apply the recorded pattern instead of the sign of the
 * current input (y = on ? x : 0, dx = on ? dy : 0), the masks autograd treats as constants
 * when it differentiates a gradient (grasp).  Backward always uses the recorded pattern
 * when there is one.  A clipped ReLU (ReLU6) keeps its clip: frozen, y = on ? min(x, clip)
 * : 0.  Ignored on an executor without relu_masks. */
void nr_exec_set_relu_mode(nr_exec *ex, int mode);
/* E of the last forward (rescale; 0 otherwise). */
double nr_exec_log2_scale(const nr_exec *ex);

/* Backward of the last forward for the output gradient dout: ADDS dR/dθ into grad
 * (nr_graph_num_params floats, tensor t at its offset) and dR/dimages into dimages; either
 * may be NULL.  hook may be NULL.  NR_ERR_INVALID without backward = 1 or a forward. */
nr_status nr_exec_backward(nr_exec *ex, const float *dout, float *grad, float *dimages,
                           nr_layer_grad_hook hook, void *ctx, nr_error *err);

#endif
