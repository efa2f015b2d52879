/* nasrank — internal controls of the tape (net_train.c) used by the zero-cost proxies.
 * The public part (nr_tape_create / _forward / _backward) is in include/nasrank/net.h. */
#ifndef NASRANK_NET_TRAIN_H
#define NASRANK_NET_TRAIN_H

#include <stdint.h>

#include "nasrank/net.h"

typedef struct nr_tape_mode {
    /* Every BatchNorm is the identity (synflow's BN-free copy: BN forward replaced by a
     * no-op, as the reference's copynet(bn=False)). */
    int no_bn;
    /* The classifier bias is left out (synflow: it is a constant term of R, so it changes
     * no weight gradient, and leaving it out keeps R homogeneous for the rescaling). */
    int no_fc_bias;
    /* Each stage input x is multiplied by 2^e_s, e_s = -round(log2 max|x|), so a positive
     * BN-free network never overflows float; backward passes the factor back (the tape
     * computes R' = 2^E R, E = sum e_s; see nr_tape_log2_scale). */
    int rescale;
    /* Record every ReLU's on/off pattern during the forward (1), or apply the recorded
     * pattern instead of the sign of the current input (2: frozen ReLUs, for directional
     * derivatives of the gradient where autograd treats the mask as a constant). */
    int relu_masks;
} nr_tape_mode;

/* Like nr_tape_create with a mode; the tape's buffers are sized for that mode.  On a tape
 * created with relu_masks != 0, nr_tape_set_relu_masks switches between off (0), record (1)
 * and frozen (2); elsewhere it does nothing. */
nr_status nr_tape_create_mode(nr_net *net, int B, const nr_tape_mode *mode, nr_tape **out,
                              nr_error *err);
void nr_tape_set_relu_masks(nr_tape *t, int relu_masks);
/* Binds an existing tape to another network (same macro config or smaller) without giving
 * back its memory: buffers grow when needed.  The tape's contents are invalid until the
 * next forward. */
nr_status nr_tape_rebind(nr_tape *t, nr_net *net, nr_error *err);
/* E in R' = 2^E R (rescale mode; 0 otherwise) for the last forward. */
double nr_tape_log2_scale(const nr_tape *t);
/* Fisher accumulator: while set (non-NULL), every backward adds, for each conv and the
 * linear layer with output a (B, K, HW) and output gradient da:
 *   fan_in * sum_k 0.5 * mean_b (sum_hw a * da)^2          (fan_in = Cin*k*k, or In)
 * i.e. the zero-cost 'fisher' of that layer, already broadcast over its weights. */
void nr_tape_set_fisher(nr_tape *t, double *acc);

#endif
