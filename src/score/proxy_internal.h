/* nasrank — internals shared by the zero-cost proxy files (proxies.c, proxy_grad.c,
 * proxy_synflow.c). */
#ifndef NASRANK_PROXY_INTERNAL_H
#define NASRANK_PROXY_INTERNAL_H

#include "nasrank/graph_exec.h"
#include "nasrank/proxy.h"

/* Passes shared between proxies; each proxy's seconds include an equal share of those it
 * uses (see nr_proxy_scores). */
enum { PASS_FORWARD, PASS_CE_BACKWARD, NUM_SHARED_PASSES };

struct nr_proxy_scorer {
    nr_macro_config cfg;
    uint64_t seed;
    nr_proxy_data data;
    int have_data;
    nr_naswot *nw;
    nr_exec_pool *pool;      /* buffers of the per-arch executors, reused */
    /* buffers sized for the largest network seen so far */
    float *grad, *grad_p, *grad_m, *backup;
    size_t nparams_cap;
    float *logits, *dlogits; /* (B, classes) */
    float *jac;              /* (B, 3*S*S) */
    float *ones;             /* (3*S*S) and at least classes entries: all 1 */
};

struct nr_proxy_run {
    nr_proxy_scorer *s;
    const nr_arch *arch;
    nr_graph *g;         /* the arch's network */
    nr_exec *tape;       /* data batch, with backward (ReLU masks when grasp runs) */
    unsigned mask;
    int forward_valid;   /* the data tape holds the forward at the unperturbed weights */
    int ce_done;         /* s->grad = dL/dθ, run->fisher set */
    double loss, fisher;
    double pass_seconds[NUM_SHARED_PASSES];
    double in_pass;      /* seconds spent in shared passes during the current proxy */
};

/* Shared passes, computed once per run (timed). */
nr_status nr_proxy_need_forward(nr_proxy_run *run, nr_error *err);
nr_status nr_proxy_need_grad(nr_proxy_run *run, nr_error *err);

/* Tensor i is a conv or linear weight (a "layer" of get_layer_metric_array). */
int nr_proxy_is_layer_weight(const nr_graph *g, size_t i);

double nr_proxy_now(void);

/* The registry's functions. */
nr_status nr_proxy_naswot(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_synflow(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_snip(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_grad_norm(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_grasp(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_fisher(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_jacob_cov(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_params(nr_proxy_run *run, double *value, nr_error *err);
nr_status nr_proxy_flops(nr_proxy_run *run, double *value, nr_error *err);

#endif
