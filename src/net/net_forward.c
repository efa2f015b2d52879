/* nasrank — forward pass of an NAS-Bench-201 network (train-mode BatchNorm).
 *
 * Workspace (one allocation, reused while the batch size does not grow), T = B*C*S*S
 * floats, the largest activation (stage 1):
 *   4 node buffers (T each; after a cell, node 3 becomes the next cell's node 0),
 *   R   lastact output (T),   P   pooling output / scratch (T),
 *   Tmp stacked conv output (3T: up to three conv edges leave one node),
 *   the im2col workspace of the largest conv.
 * ReLU inputs are handed to the sink as they are produced; nothing else is kept.
 */
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "ops/ops.h"

#define BN_EPS 1e-5f

typedef struct fwd {
    nr_net *net;
    int B;
    float *node[4], *R, *P, *Tmp, *col;
    nr_activation_sink sink;
    void *ctx;
} fwd;

static void emit(fwd *f, const char *name, const float *x, int C, int H, int relu, int hooked)
{
    if (!f->sink) return;
    nr_activation a = {name, x, f->B, C, H, H, relu, hooked};
    f->sink(f->ctx, &a);
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

static size_t conv_ws_max(const nr_net *net, int B)
{
    const nr_macro_config *cfg = &net->cfg;
    size_t m = nr_conv2d_workspace(B, cfg->in_channels, cfg->image_size, cfg->image_size, 3, 1, 1);
    for (int s = 0; s < net->num_stages; s++) {
        const nr_stage *st = &net->stages[s];
        int H = st->H;
        if (st->kind == NR_STAGE_CELL) {
            m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H, H, 3, 1, 1));
            m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H, H, 1, 1, 0));
        } else {
            m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H, H, 3, 2, 1));
            m = max_sz(m, nr_conv2d_workspace(B, st->Cout, H / 2, H / 2, 3, 1, 1));
            m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H / 2, H / 2, 1, 1, 0));
        }
    }
    return m;
}

static nr_status ensure_workspace(nr_net *net, int B, nr_error *err)
{
    if (net->ws && net->ws_batch >= B) return NR_OK;
    size_t S = (size_t)net->cfg.image_size;
    size_t T = (size_t)B * net->cfg.C * S * S;
    size_t need = 9 * T + conv_ws_max(net, B);
    float *ws = malloc(need * sizeof(float));
    if (!ws)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0,
                            "out of memory: forward workspace of %zu MB for batch %d",
                            need * sizeof(float) >> 20, B);
    free(net->ws);
    net->ws = ws;
    net->ws_floats = need;
    net->ws_batch = B;
    return NR_OK;
}

static void carve(fwd *f)
{
    nr_net *net = f->net;
    size_t S = (size_t)net->cfg.image_size;
    size_t T = (size_t)f->B * net->cfg.C * S * S;
    float *p = net->ws;
    for (int i = 0; i < 4; i++, p += T) f->node[i] = p;
    f->R = p;
    p += T;
    f->P = p;
    p += T;
    f->Tmp = p;
    p += 3 * T;
    f->col = p;
}

/* acc (+)= x over n floats: the first contribution to a node is a copy, later ones add, so
 * node buffers never need zeroing first. */
static void accumulate(float *acc, const float *x, size_t n, int *written)
{
    if (*written) nr_add_inplace(acc, x, n);
    else memcpy(acc, x, n * sizeof *acc);
    *written = 1;
}

/* One cell.  Sources are visited in order (node 0, 1, 2); node j is complete when its turn
 * comes because every edge into it comes from an earlier node.  Per source: its ReLU input
 * goes to the sink, its conv edges run as one stacked conv per kernel size (ReLU fused into
 * the conv's input copy) whose batch norm scatters straight into the target nodes, then the
 * skip and pooling edges. */
static void cell_forward(fwd *f, const nr_stage *st)
{
    const nr_net *net = f->net;
    const nr_arch *a = &net->arch;
    int B = f->B, C = st->Cout, H = st->H, HW = H * H;
    size_t n = (size_t)B * C * HW;
    /* v[j]: where node j's values are.  A node whose only computed input is one skip edge is
     * that source itself, not a copy of it (copies were ~15% of a skip-heavy arch's time). */
    float *v[4] = {f->node[0], f->node[1], f->node[2], f->node[3]};
    int written[4] = {1, 0, 0, 0}, aliased[4] = {0, 0, 0, 0};
    for (int t = 1; t < 4; t++) {
        int inputs = 0, skip_from = -1;
        for (int e = 0; e < NR_NUM_EDGES; e++)
            if (nr_edge_to(e) == t && a->op[e] != NR_OP_NONE && net->needed[nr_edge_from(e)]) {
                inputs++;
                if (a->op[e] == NR_OP_SKIP) skip_from = nr_edge_from(e);
            }
        if (inputs == 1 && skip_from >= 0) {
            v[t] = v[skip_from];
            written[t] = aliased[t] = 1;
        }
    }
    for (int src = 0; src < 3; src++) {
        if (!net->needed[src]) continue;
        float *x = v[src];
        if (!written[src]) { /* every edge into it is `none` */
            memset(x, 0, n * sizeof *x);
            written[src] = 1;
        }
        int nconv = st->groups[src][0].m + st->groups[src][1].m;
        if (nconv > 0) emit(f, st->node_name[src], x, C, H, nconv, 2 * nconv);
        for (int g = 0; g < 2; g++) {
            const nr_conv_group *grp = &st->groups[src][g];
            float *dst[3];
            int add[3], any = 0;
            for (int s = 0; s < grp->m; s++) {
                int t = grp->target[s];
                if (net->needed[t]) {
                    dst[s] = v[t];
                    add[s] = written[t];
                    written[t] = any = 1;
                } else { /* its codes count, its output does not: compute into scratch */
                    dst[s] = f->P;
                    add[s] = 0;
                }
            }
            if (!any) continue;
            int k = grp->k;
            nr_relu_conv2d_forward(f->Tmp, x, grp->w, B, C, H, H, grp->m * C, k, 1, k / 2, f->col);
            nr_batchnorm_scatter(dst, add, C, f->Tmp, grp->gamma, grp->beta, B, grp->m * C, HW, BN_EPS);
        }
        int pooled = 0; /* f->P holds avgpool(x) */
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            int to = nr_edge_to(e);
            if (nr_edge_from(e) != src || !net->needed[to] || aliased[to]) continue;
            if (a->op[e] == NR_OP_SKIP) {
                accumulate(v[to], x, n, &written[to]);
            } else if (a->op[e] == NR_OP_AVGPOOL3X3) {
                if (!written[to]) {
                    nr_avgpool3x3_forward(v[to], x, B, C, H, H);
                    written[to] = 1;
                    continue;
                }
                if (!pooled) nr_avgpool3x3_forward(f->P, x, B, C, H, H);
                pooled = 1;
                nr_add_inplace(v[to], f->P, n);
            }
        }
    }
    if (!written[3]) memset(v[3], 0, n * sizeof(float));
    /* node 3 is the output: the buffer holding it becomes node 0 of the next stage */
    int k = 0;
    while (f->node[k] != v[3]) k++;
    float *t = f->node[0];
    f->node[0] = f->node[k];
    f->node[k] = t;
}

/* ResNet basic block: out = conv1x1(avgpool2x2(x)) + BN(conv(relu(BN(conv_s2(relu(x)))))). */
static void resblock_forward(fwd *f, const nr_stage *st)
{
    int B = f->B, ci = st->Cin, co = st->Cout, H = st->H, Ho = H / 2;
    float *x = f->node[0], *a = f->node[1], *b = f->node[2], *sc = f->node[3];
    emit(f, st->name_a, x, ci, H, 1, 2);
    nr_relu_conv2d_forward(a, x, st->wa, B, ci, H, H, co, 3, 2, 1, f->col);
    nr_batchnorm_forward(a, NULL, NULL, a, st->ga, st->ba, B, co, Ho * Ho, BN_EPS);
    emit(f, st->name_b, a, co, Ho, 1, 2);
    nr_relu_conv2d_forward(b, a, st->wb, B, co, Ho, Ho, co, 3, 1, 1, f->col);
    nr_avgpool2x2_forward(f->P, x, B, ci, H, H);
    nr_conv2d_forward(sc, f->P, st->wd, B, ci, Ho, Ho, co, 1, 1, 0, f->col);
    float *dst[1] = {sc};
    int add[1] = {1};
    nr_batchnorm_scatter(dst, add, co, b, st->gb, st->bb, B, co, Ho * Ho, BN_EPS);
    f->node[0] = sc;
    f->node[3] = x;
}

nr_status nr_net_forward(nr_net *net, const float *images, int B, float *logits,
                         nr_activation_sink sink, void *ctx, nr_error *err)
{
    if (B < 1 || B > 65536)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "batch size %d out of range 1..65536", B);
    nr_status st = ensure_workspace(net, B, err);
    if (st) return st;
    fwd f = {net, B, {0}, 0, 0, 0, 0, sink, ctx};
    carve(&f);
    const nr_macro_config *cfg = &net->cfg;
    int C = cfg->C, S = cfg->image_size;
    nr_conv2d_forward(f.node[0], images, net->stem_w, B, cfg->in_channels, S, S, C, 3, 1, 1, f.col);
    nr_batchnorm_forward(f.node[0], NULL, NULL, f.node[0], net->stem_g, net->stem_b, B, C, S * S, BN_EPS);
    for (int s = 0; s < net->num_stages; s++) {
        const nr_stage *stg = &net->stages[s];
        if (stg->kind == NR_STAGE_CELL) cell_forward(&f, stg);
        else resblock_forward(&f, stg);
    }
    /* lastact: BN -> ReLU, then global average pool and the classifier */
    int Cl = 4 * C, Hl = S / 4;
    size_t nl = (size_t)B * Cl * Hl * Hl;
    nr_batchnorm_forward(f.R, NULL, NULL, f.node[0], net->last_g, net->last_b, B, Cl, Hl * Hl, BN_EPS);
    emit(&f, "lastact", f.R, Cl, Hl, 1, 1);
    if (!logits) return NR_OK;
    nr_relu_forward(f.R, f.R, nl);
    nr_global_avgpool_forward(f.P, f.R, B, Cl, Hl * Hl);
    nr_linear_forward(logits, f.P, net->fc_w, net->fc_b, B, Cl, cfg->num_classes);
    return NR_OK;
}
