/* nasrank — search spaces as network graphs.
 *
 * Each space turns one of its architectures into an nr_graph (include/nasrank/graph.h) for
 * a macro configuration; the executor and the scores take it from there.  The one file that
 * knows a space's cell is src/spaces/<space>.c.
 */
#ifndef NASRANK_SPACES_H
#define NASRANK_SPACES_H

#include <stdint.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"
#include "nasrank/graph.h"

/* A search space: what the rest of nasrank asks a space (more will follow: parsing,
 * canonical keys, enumeration, the predictor's cell graph).  Descriptors are static. */
typedef struct nr_space {
    const char *name; /* "nb201" */
    /* How many modules the published NASWOT code hooks with the input of ReLU layer `relu`
     * of a graph this space built: it hooks every module whose class name contains "ReLU",
     * so a ReLU inside such a module (NB201's ReLUConvBN) counts twice.  >= 1. */
    int (*naswot_hooks)(const nr_graph *g, int relu);
} nr_space;

const nr_space *nr_space_nb201(void);
/* The space named name ("nb201"), or NULL. */
const nr_space *nr_space_find(const char *name);

/* The NAS-Bench-201 network of arch (include/nasrank/net.h describes the macro skeleton,
 * the parameter names and the init) as a finished graph initialised from seed; cfg NULL
 * means nr_macro_default().  Every edge is a layer, `none` excepted: a conv edge is ReLU ->
 * conv -> batch norm (its own ReLU, as ReLUConvBN), avg_pool_3x3 a 3x3/1 pool without
 * counting the padding, skip_connect the source node itself; node j is the add of its
 * incoming edges in source order (one edge: that edge; none: a zero layer).  The conv edges
 * leaving one node with one kernel size are added together (their convs, then their batch
 * norms), so a stacking executor finds them side by side.  The output is the logits.
 * *out is new (nr_graph_free); NULL on error (NR_ERR_INVALID op code or config, NOMEM). */
nr_status nr_nb201_graph(const nr_arch *arch, const nr_macro_config *cfg, uint64_t seed,
                         nr_graph **out, nr_error *err) NR_WARN_UNUSED;

#endif
