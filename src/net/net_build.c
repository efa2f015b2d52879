/* nasrank — building an untrained NAS-Bench-201 network: parameter layout and init.
 *
 * The builder runs twice: a dry pass that only counts floats and tensors, then (after the
 * single allocation) a real pass that hands out pointers and initialises each tensor from
 * its own named random stream, so weights depend only on (seed, tensor name).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nasrank/rng.h"
#include "net/net_internal.h"

typedef enum { INIT_UNIFORM, INIT_ONES, INIT_ZEROS } init_kind;

typedef struct builder {
    nr_net *net;
    int dry;           /* counting pass */
    size_t floats;     /* floats handed out so far */
    size_t tensors;    /* tensors handed out so far */
} builder;

/* Hand out the next tensor: in the real pass, name it, record it and initialise it. */
static float *take(builder *b, const char *name, size_t numel, int fan_in, init_kind kind)
{
    size_t off = b->floats;
    b->floats += numel;
    b->tensors++;
    if (b->dry) return NULL;
    nr_net *net = b->net;
    float *p = net->params + off;
    nr_tensor_info *t = &net->tensors[b->tensors - 1];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->data = p;
    t->numel = numel;
    if (kind == INIT_UNIFORM) {
        /* PyTorch default for conv/linear weights (kaiming_uniform, a = sqrt(5)) and linear
         * bias: U(-1/sqrt(fan_in), 1/sqrt(fan_in)). */
        double bound = 1.0 / sqrt((double)fan_in);
        nr_rng r = nr_rng_stream(net->seed, name);
        for (size_t i = 0; i < numel; i++)
            p[i] = (float)((2.0 * nr_rng_uniform24(&r) - 1.0) * bound);
    } else {
        float v = kind == INIT_ONES ? 1.0f : 0.0f;
        for (size_t i = 0; i < numel; i++) p[i] = v;
    }
    return p;
}

static int conv_k(int op)
{
    return op == NR_OP_CONV3X3 ? 3 : op == NR_OP_CONV1X1 ? 1 : 0;
}

static void build_cell(builder *b, nr_stage *st)
{
    const nr_arch *a = &b->net->arch;
    int C = st->Cout;
    char name[NR_NET_NAME_MAX];
    for (int i = 0; i < 3; i++) snprintf(st->node_name[i], NR_NET_NAME_MAX, "cells.%d.node%d", st->index, i);
    for (int src = 0; src < 3; src++) {
        for (int g = 0; g < 2; g++) {
            int k = g == 0 ? 3 : 1;
            nr_conv_group *grp = &st->groups[src][g];
            memset(grp, 0, sizeof *grp);
            grp->k = k;
            int edges[3];
            for (int e = 0; e < NR_NUM_EDGES; e++)
                if (nr_edge_from(e) == src && conv_k(a->op[e]) == k) {
                    edges[grp->m] = e;
                    grp->target[grp->m] = nr_edge_to(e);
                    grp->m++;
                }
            if (grp->m == 0) continue;
            /* weights of the group first (contiguous), then gammas, then betas */
            for (int s = 0; s < grp->m; s++) {
                snprintf(name, sizeof name, "cells.%d.edges.%d<-%d.op.1.weight", st->index,
                         nr_edge_to(edges[s]), src);
                float *w = take(b, name, (size_t)C * C * k * k, C * k * k, INIT_UNIFORM);
                if (s == 0) grp->w = w;
            }
            for (int s = 0; s < grp->m; s++) {
                snprintf(name, sizeof name, "cells.%d.edges.%d<-%d.op.2.weight", st->index,
                         nr_edge_to(edges[s]), src);
                float *g0 = take(b, name, (size_t)C, 0, INIT_ONES);
                if (s == 0) grp->gamma = g0;
            }
            for (int s = 0; s < grp->m; s++) {
                snprintf(name, sizeof name, "cells.%d.edges.%d<-%d.op.2.bias", st->index,
                         nr_edge_to(edges[s]), src);
                float *b0 = take(b, name, (size_t)C, 0, INIT_ZEROS);
                if (s == 0) grp->beta = b0;
            }
        }
    }
}

static void build_resblock(builder *b, nr_stage *st)
{
    char name[NR_NET_NAME_MAX];
    int ci = st->Cin, co = st->Cout, c = st->index;
    snprintf(st->name_a, NR_NET_NAME_MAX, "cells.%d.conv_a", c);
    snprintf(st->name_b, NR_NET_NAME_MAX, "cells.%d.conv_b", c);
    snprintf(name, sizeof name, "cells.%d.conv_a.op.1.weight", c);
    st->wa = take(b, name, (size_t)co * ci * 9, ci * 9, INIT_UNIFORM);
    snprintf(name, sizeof name, "cells.%d.conv_a.op.2.weight", c);
    st->ga = take(b, name, (size_t)co, 0, INIT_ONES);
    snprintf(name, sizeof name, "cells.%d.conv_a.op.2.bias", c);
    st->ba = take(b, name, (size_t)co, 0, INIT_ZEROS);
    snprintf(name, sizeof name, "cells.%d.conv_b.op.1.weight", c);
    st->wb = take(b, name, (size_t)co * co * 9, co * 9, INIT_UNIFORM);
    snprintf(name, sizeof name, "cells.%d.conv_b.op.2.weight", c);
    st->gb = take(b, name, (size_t)co, 0, INIT_ONES);
    snprintf(name, sizeof name, "cells.%d.conv_b.op.2.bias", c);
    st->bb = take(b, name, (size_t)co, 0, INIT_ZEROS);
    snprintf(name, sizeof name, "cells.%d.downsample.1.weight", c);
    st->wd = take(b, name, (size_t)co * ci, ci, INIT_UNIFORM);
}

/* One pass over the whole macro skeleton, in forward order. */
static void build_all(builder *b)
{
    nr_net *net = b->net;
    const nr_macro_config *cfg = &net->cfg;
    int C = cfg->C, S = cfg->image_size;
    net->stem_w = take(b, "stem.0.weight", (size_t)C * cfg->in_channels * 9, cfg->in_channels * 9, INIT_UNIFORM);
    net->stem_g = take(b, "stem.1.weight", (size_t)C, 0, INIT_ONES);
    net->stem_b = take(b, "stem.1.bias", (size_t)C, 0, INIT_ZEROS);
    int s = 0, c_in = C, h = S;
    for (int stage = 0; stage < 3; stage++) {
        int c_out = C << stage;
        if (stage > 0) {
            nr_stage *st = &net->stages[s];
            st->kind = NR_STAGE_RESBLOCK;
            st->index = s;
            st->Cin = c_in;
            st->Cout = c_out;
            st->H = h;
            build_resblock(b, st);
            s++;
            h /= 2;
        }
        for (int i = 0; i < cfg->N; i++, s++) {
            nr_stage *st = &net->stages[s];
            st->kind = NR_STAGE_CELL;
            st->index = s;
            st->Cin = st->Cout = c_out;
            st->H = h;
            build_cell(b, st);
        }
        c_in = c_out;
    }
    net->last_g = take(b, "lastact.0.weight", (size_t)4 * C, 0, INIT_ONES);
    net->last_b = take(b, "lastact.0.bias", (size_t)4 * C, 0, INIT_ZEROS);
    net->fc_w = take(b, "classifier.weight", (size_t)cfg->num_classes * 4 * C, 4 * C, INIT_UNIFORM);
    net->fc_b = take(b, "classifier.bias", (size_t)cfg->num_classes, 4 * C, INIT_UNIFORM);
}

/* Which nodes must be computed.  Node 3 is the output.  A node is needed when it feeds a
 * computed op into a needed node, or when it feeds a conv edge at all: every ReLU in the
 * network counts for NASWOT (a `none` edge still passes a zero gradient in the reference),
 * so a conv edge's input codes are needed even when its output is not. */
static void mark_needed(nr_net *net)
{
    const nr_arch *a = &net->arch;
    net->needed[3] = 1;
    for (int j = 2; j >= 0; j--) {
        int need = j == 0;
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            if (nr_edge_from(e) != j || a->op[e] == NR_OP_NONE) continue;
            if (net->needed[nr_edge_to(e)] || conv_k(a->op[e])) need = 1;
        }
        net->needed[j] = need;
    }
}

nr_status nr_net_create(const nr_arch *arch, const nr_macro_config *cfg, uint64_t seed,
                        nr_net **out, nr_error *err)
{
    *out = NULL;
    nr_macro_config def = nr_macro_default();
    if (!cfg) cfg = &def;
    for (int e = 0; e < NR_NUM_EDGES; e++)
        if (arch->op[e] >= NR_NUM_OPS)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "edge %d has op code %d", e, arch->op[e]);
    nr_status st = nr_macro_config_check(cfg, err);
    if (st) return st;
    nr_net *net = calloc(1, sizeof *net);
    if (!net) goto nomem;
    net->arch = *arch;
    net->cfg = *cfg;
    net->seed = seed;
    net->num_stages = 3 * cfg->N + 2;
    net->stages = calloc((size_t)net->num_stages, sizeof *net->stages);
    if (!net->stages) goto nomem;
    builder b = {net, 1, 0, 0};
    build_all(&b);
    net->num_params = b.floats;
    net->num_tensors = b.tensors;
    net->params = malloc(b.floats * sizeof(float));
    net->tensors = calloc(b.tensors, sizeof *net->tensors);
    if (!net->params || !net->tensors) goto nomem;
    b = (builder){net, 0, 0, 0};
    build_all(&b);
    mark_needed(net);
    *out = net;
    return NR_OK;
nomem:
    nr_net_free(net);
    return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory creating the network");
}

void nr_net_free(nr_net *net)
{
    if (!net) return;
    free(net->params);
    free(net->tensors);
    free(net->stages);
    free(net->ws);
    free(net);
}

size_t nr_net_num_params(const nr_net *net) { return net->num_params; }
double nr_net_flops(const nr_net *net) { return nr_arch_flops(&net->arch, &net->cfg); }

/* Mirrors cell_forward: a source's conv group (one kernel size) runs when the source is
 * needed and at least one of the group's targets is. */
double nr_net_flops_executed(const nr_net *net)
{
    nr_arch run = net->arch;
    for (int src = 0; src < 3; src++)
        for (int k = 1; k <= 3; k += 2) {
            int any = 0;
            for (int e = 0; e < NR_NUM_EDGES; e++)
                if (nr_edge_from(e) == src && conv_k(run.op[e]) == k && net->needed[nr_edge_to(e)]) any = 1;
            if (net->needed[src] && any) continue;
            for (int e = 0; e < NR_NUM_EDGES; e++)
                if (nr_edge_from(e) == src && conv_k(run.op[e]) == k) run.op[e] = NR_OP_NONE;
        }
    return nr_arch_flops(&run, &net->cfg);
}
size_t nr_net_num_tensors(const nr_net *net) { return net->num_tensors; }

const char *nr_net_tensor_name(const nr_net *net, size_t i)
{
    return i < net->num_tensors ? net->tensors[i].name : NULL;
}

float *nr_net_tensor(nr_net *net, size_t i, size_t *numel)
{
    if (i >= net->num_tensors) return NULL;
    if (numel) *numel = net->tensors[i].numel;
    return net->tensors[i].data;
}
