/* nasrank — forward pass of an NAS-Bench-201 network (train-mode BatchNorm).
 *
 * Workspace (one allocation, reused while the batch size does not grow), T = B*C*S*S
 * floats, the largest activation (stage 1):
 *   4 node buffers (T each; after a cell, node 3 becomes the next cell's node 0),
 *   R   ReLU output (T),   P   pooling output (T),
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

/* out = BN(conv(relu?(in))) for one conv; in (B, Cin, H, H). */
static void conv_bn(fwd *f, float *out, const float *in, const float *w, const float *g,
                    const float *b, int Cin, int H, int Cout, int k, int stride)
{
    int pad = k / 2, Ho = (H + 2 * pad - k) / stride + 1;
    nr_conv2d_forward(out, in, w, f->B, Cin, H, H, Cout, k, stride, pad, f->col);
    nr_batchnorm_forward(out, NULL, NULL, out, g, b, f->B, Cout, Ho * Ho, BN_EPS);
}

static void cell_forward(fwd *f, const nr_stage *st)
{
    const nr_net *net = f->net;
    const nr_arch *a = &net->arch;
    int B = f->B, C = st->Cout, H = st->H, HW = H * H;
    size_t n = (size_t)B * C * HW;
    for (int j = 1; j < 4; j++)
        if (net->needed[j]) memset(f->node[j], 0, n * sizeof(float));
    for (int src = 0; src < 3; src++) {
        if (!net->needed[src]) continue;
        float *x = f->node[src];
        int nconv = st->groups[src][0].m + st->groups[src][1].m;
        if (nconv > 0) {
            emit(f, st->node_name[src], x, C, H, nconv, 2 * nconv);
            nr_relu_forward(f->R, x, n);
        }
        for (int g = 0; g < 2; g++) {
            const nr_conv_group *grp = &st->groups[src][g];
            int any = 0;
            for (int s = 0; s < grp->m; s++) any |= net->needed[grp->target[s]];
            if (!any) continue;
            conv_bn(f, f->Tmp, f->R, grp->w, grp->gamma, grp->beta, C, H, grp->m * C, grp->k, 1);
            for (int s = 0; s < grp->m; s++) {
                if (!net->needed[grp->target[s]]) continue;
                float *dst = f->node[grp->target[s]];
                for (int b = 0; b < B; b++)
                    nr_add_inplace(dst + (size_t)b * C * HW,
                                   f->Tmp + ((size_t)b * grp->m + s) * C * HW, (size_t)C * HW);
            }
        }
        int pooled = 0;
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            int to = nr_edge_to(e);
            if (nr_edge_from(e) != src || !net->needed[to]) continue;
            if (a->op[e] == NR_OP_SKIP) {
                nr_add_inplace(f->node[to], x, n);
            } else if (a->op[e] == NR_OP_AVGPOOL3X3) {
                if (!pooled) nr_avgpool3x3_forward(f->P, x, B, C, H, H);
                pooled = 1;
                nr_add_inplace(f->node[to], f->P, n);
            }
        }
    }
    /* node 3 is the output: it becomes node 0 of the next stage */
    float *t = f->node[0];
    f->node[0] = f->node[3];
    f->node[3] = t;
}

/* ResNet basic block: out = conv1x1(avgpool2x2(x)) + BN(conv(relu(BN(conv_s2(relu(x)))))). */
static void resblock_forward(fwd *f, const nr_stage *st)
{
    int B = f->B, ci = st->Cin, co = st->Cout, H = st->H, Ho = H / 2;
    float *x = f->node[0], *a = f->node[1], *b = f->node[2], *sc = f->node[3];
    size_t nin = (size_t)B * ci * H * H, nout = (size_t)B * co * Ho * Ho;
    emit(f, st->name_a, x, ci, H, 1, 2);
    nr_relu_forward(f->R, x, nin);
    conv_bn(f, a, f->R, st->wa, st->ga, st->ba, ci, H, co, 3, 2);
    emit(f, st->name_b, a, co, Ho, 1, 2);
    nr_relu_forward(f->R, a, nout);
    conv_bn(f, b, f->R, st->wb, st->gb, st->bb, co, Ho, co, 3, 1);
    nr_avgpool2x2_forward(f->P, x, B, ci, H, H);
    nr_conv2d_forward(sc, f->P, st->wd, B, ci, Ho, Ho, co, 1, 1, 0, f->col);
    nr_add_inplace(sc, b, nout);
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
