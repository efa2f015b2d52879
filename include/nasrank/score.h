/* nasrank — the NASWOT activation-overlap score (Mellor et al., ICML 2021).
 *
 * For every ReLU input x (per image, flattened) the binary code c = (x > 0).  With N_A
 * units in all, K[i][j] = sum over counted ReLUs of (#units where images i and j agree)
 * = N_A - Hamming(c_i, c_j).  Score = log|det K| (natural log, LU as numpy slogdet).
 *
 * Variants (which ReLUs count, and how often):
 *   NR_NASWOT_REFERENCE  as the published code: every module whose class name contains
 *                        "ReLU" is hooked, so ReLUConvBN and its inner ReLU both count and
 *                        each conv edge's input codes count twice (activation hooked_modules).
 *   NR_NASWOT_PAPER      each ReLU once (activation relu_modules).
 * K entries are exact integers (int64); the determinant is taken in double.
 * A singular K (e.g. every cell output identically zero) gives -inf and sign 0, never NaN.
 */
#ifndef NASRANK_SCORE_H
#define NASRANK_SCORE_H

#include <stdint.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"
#include "nasrank/graph_exec.h"
#include "nasrank/net.h"
#include "nasrank/spaces.h"

typedef enum nr_naswot_variant { NR_NASWOT_REFERENCE = 0, NR_NASWOT_PAPER = 1 } nr_naswot_variant;

/* Kernel accumulator for one batch of B images.  Pass nr_naswot_sink with the accumulator as
 * ctx to nr_net_forward. */
typedef struct nr_naswot nr_naswot;

nr_status nr_naswot_create(int B, nr_naswot_variant variant, nr_naswot **out, nr_error *err);
void nr_naswot_free(nr_naswot *nw);
void nr_naswot_reset(nr_naswot *nw);
void nr_naswot_sink(void *ctx, const nr_activation *act);
/* The same accumulation over a graph: nr_naswot_bind counts, per layer of g, the ReLU modules
 * reading its output (the space's naswot_hooks for the reference variant, one per ReLU for
 * the paper's); then pass nr_naswot_graph_sink with the accumulator as ctx to an executor
 * made with observe_relu_inputs.  A sink call without a bind fails at nr_naswot_finish. */
nr_status nr_naswot_bind(nr_naswot *nw, const nr_graph *g, const nr_space *space, nr_error *err);
void nr_naswot_graph_sink(void *ctx, const nr_relu_input *in);

typedef struct nr_naswot_result {
    double score;   /* log|det K|; -INFINITY when K is singular */
    int sign;       /* sign of det K: +1, -1, or 0 when singular */
    long long n_units; /* N_A = K[i][i] */
} nr_naswot_result;

/* Log-determinant of the accumulated K.  Fails if the sink hit an error (out of memory,
 * batch size mismatch). */
nr_status nr_naswot_finish(const nr_naswot *nw, nr_naswot_result *out, nr_error *err);
/* The accumulated K, B*B row-major, borrowed. */
const int64_t *nr_naswot_kernel(const nr_naswot *nw);

/* log|det| of a symmetric n x n matrix given in double (LAPACKE dgetrf); sign as above. */
nr_status nr_logdet(const double *a, int n, double *logdet, int *sign, nr_error *err);

/* Score one graph of a space: run images (B, C, H, W: the graph's input) forward on an
 * executor that observes every ReLU input, return the kernel's log-determinant. */
nr_status nr_naswot_score_graph(const nr_graph *g, const nr_space *space, const float *images,
                                int B, nr_naswot_variant variant, nr_naswot_result *out,
                                nr_error *err);
/* Score one NAS-Bench-201 architecture: its graph from (arch, cfg, seed) (nr_nb201_graph),
 * then nr_naswot_score_graph.  The convenience path for callers that do not keep an
 * accumulator around. */
nr_status nr_naswot_score_arch(const nr_arch *arch, const nr_macro_config *cfg, uint64_t seed,
                               const float *images, int B, nr_naswot_variant variant,
                               nr_naswot_result *out, nr_error *err);

#endif
