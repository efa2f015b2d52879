/* nasrank — internal controls of the tape (net_train.c): frozen ReLU masks, for the gradient tests.
 * The public part (nr_tape_create / _forward / _backward) is in include/nasrank/net.h. */
#ifndef NASRANK_NET_TRAIN_H
#define NASRANK_NET_TRAIN_H

#include <stdint.h>

#include "nasrank/net.h"

typedef struct nr_tape_mode {
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

#endif
