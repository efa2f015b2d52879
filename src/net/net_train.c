/* nasrank — the tape: a forward pass that keeps what the backward pass needs, and the
 * backward pass over the NAS-Bench-201 cell DAG (parameter and input gradients).
 *
 * Forward (same kernels and results as nr_net_forward) records, per stage:
 *   stem       conv output y (pre-BN) and its batch statistics; the BN output;
 *   cell       node values 1..3 (node 0 is the previous stage's output), and per conv group
 *              (the edges leaving one node with one kernel size, stacked as in net_build.c)
 *              the conv output (pre-BN) and its statistics;
 *   ResNet     conv_a output + statistics, its BN output a, conv_b output + statistics,
 *              the shortcut's conv output sc and the block output sc + BN(conv_b);
 *   top        the final BN output z (the last ReLU's input) + statistics, the pooled
 *              features p and the logits.
 * ReLU outputs, pool outputs and im2col matrices are recomputed in backward, not kept.
 * Only nodes that reach the cell output through non-`none` edges are computed ("live"):
 * anything else has a zero gradient.  (nr_net_forward also computes nodes that only feed
 * conv edges, for NASWOT's ReLU codes; the gradient passes need none of them.)
 *
 * Backward walks the stages in reverse.  In a cell, node gradients dn[j] are completed in
 * the order j = 3, 2, 1, 0: every edge j -> t (t > j) adds its op's input gradient into
 * dn[j] once dn[t] is complete (it is, since t's out-edges were handled first):
 *   skip  dn[j] += dn[t]
 *   pool  dn[j] += avgpool3x3^T dn[t]
 *   conv  dy = BN^T(dn[t]) (stacked over the group), dW += ..., dR += conv^T(dy),
 *         then dn[j] += dR * (node j > 0)  (the ReLU before the conv)
 * ResNet block: d(out) flows to the shortcut (1x1 conv over a 2x2 pool) and through BN_b,
 * conv_b, ReLU, BN_a, conv_a, ReLU into d(x).  Top: d(logits) -> linear -> global pool ->
 * ReLU -> BN.  Parameter gradients land at the same offsets as the parameters
 * (nr_net_tensor_offset); every gradient is ADDED.
 *
 * Memory: one allocation per tape for the records (sized for the bound net and batch) plus
 * scratch of 13 stage-1 activations (T = B*C*S*S floats each) and one conv workspace.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "net/net_internal.h"
#include "net/net_train.h"
#include "ops/ops.h"
#include "ops/ops_backward.h"

#define BN_EPS 1e-5f

typedef struct tape_group {
    int active;          /* computed: m > 0 and some target live */
    float *y;            /* conv output, pre-BN (B, m*C, H, H) */
    float *mean, *rstd;  /* (m*C) */
} tape_group;

typedef struct tape_stage {
    float *in;           /* stage input (borrowed: the previous stage's output) */
    /* cells */
    float *node[4];      /* node[0] = in; 1..3 owned when live */
    uint64_t *mask[3];   /* ReLU masks of nodes 0..2 feeding active conv groups */
    tape_group grp[3][2];
    int any_conv[3];     /* node j feeds an active group */
    /* ResNet blocks */
    float *ya, *ma, *ra, *a, *yb, *mb, *rb, *sc, *out;
    uint64_t *mask_x, *mask_a;
} tape_stage;

struct nr_tape {
    nr_net *net;
    nr_tape_mode mode;
    int masks_alloc;             /* created with relu_masks != 0: mask buffers exist */
    int Bcap, B;                 /* capacity and batch of the last forward */
    int live[4];                 /* node j reaches node 3 through non-none edges */
    /* records */
    float *mem;
    size_t mem_cap;
    uint64_t *bits;
    size_t bits_cap;
    tape_stage *st;
    int st_cap;
    const float *images;
    float *stem_y, *stem_m, *stem_r, *stem_out;
    float *z, *zm, *zr, *p, *logits;
    uint64_t *mask_z;
    /* scratch */
    float *scr;
    size_t scr_cap;
    float *tmp, *dtmp, *dn[4], *R, *dR, *P, *ws;
};

/* --------------------------------------------------------------------------- planning */

typedef struct carver {
    float *f;
    uint64_t *u;
    size_t nf, nu;
    int dry;
} carver;

static float *take_f(carver *c, size_t n)
{
    float *p = c->dry ? NULL : c->f + c->nf;
    c->nf += (n + 15) / 16 * 16; /* 64-byte steps */
    return p;
}

static uint64_t *take_u(carver *c, size_t nfloats)
{
    size_t words = (nfloats + 63) / 64;
    uint64_t *p = c->dry ? NULL : c->u + c->nu;
    c->nu += (words + 7) / 8 * 8;
    return p;
}

static void mark_live(nr_tape *t)
{
    const nr_arch *a = &t->net->arch;
    t->live[3] = 1;
    for (int j = 2; j >= 0; j--) {
        t->live[j] = 0;
        for (int e = 0; e < NR_NUM_EDGES; e++)
            if (nr_edge_from(e) == j && a->op[e] != NR_OP_NONE && t->live[nr_edge_to(e)]) t->live[j] = 1;
    }
}

static int group_active(const nr_tape *t, const nr_conv_group *g)
{
    for (int s = 0; s < g->m; s++)
        if (t->live[g->target[s]]) return 1;
    return 0;
}

/* Hands out every record pointer (or, dry, only counts). */
static void carve_records(nr_tape *t, carver *c)
{
    const nr_net *net = t->net;
    const nr_macro_config *cfg = &net->cfg;
    size_t B = (size_t)t->Bcap;
    int C = cfg->C, S = cfg->image_size, masks = t->masks_alloc;
    size_t T0 = B * C * S * S;
    t->stem_y = take_f(c, T0);
    t->stem_out = take_f(c, T0);
    t->stem_m = take_f(c, (size_t)C);
    t->stem_r = take_f(c, (size_t)C);
    for (int s = 0; s < net->num_stages; s++) {
        const nr_stage *ns = &net->stages[s];
        tape_stage *ts = &t->st[s];
        size_t H = (size_t)ns->H;
        if (ns->kind == NR_STAGE_CELL) {
            size_t Tn = B * ns->Cout * H * H;
            for (int j = 1; j < 4; j++) ts->node[j] = t->live[j] ? take_f(c, Tn) : NULL;
            for (int j = 0; j < 3; j++) {
                ts->any_conv[j] = 0;
                ts->mask[j] = NULL;
                for (int g = 0; g < 2; g++) {
                    const nr_conv_group *ng = &ns->groups[j][g];
                    tape_group *tg = &ts->grp[j][g];
                    tg->active = t->live[j] && ng->m > 0 && group_active(t, ng);
                    tg->y = tg->mean = tg->rstd = NULL;
                    if (!tg->active) continue;
                    ts->any_conv[j] = 1;
                    tg->y = take_f(c, Tn * ng->m);
                    tg->mean = take_f(c, (size_t)ng->m * ns->Cout);
                    tg->rstd = take_f(c, (size_t)ng->m * ns->Cout);
                }
                if (ts->any_conv[j] && masks) ts->mask[j] = take_u(c, Tn);
            }
        } else {
            size_t Tin = B * ns->Cin * H * H, To = B * ns->Cout * (H / 2) * (H / 2);
            ts->ya = take_f(c, To);
            ts->a = take_f(c, To);
            ts->yb = take_f(c, To);
            ts->sc = take_f(c, To);
            ts->out = take_f(c, To);
            ts->ma = take_f(c, (size_t)ns->Cout);
            ts->ra = take_f(c, (size_t)ns->Cout);
            ts->mb = take_f(c, (size_t)ns->Cout);
            ts->rb = take_f(c, (size_t)ns->Cout);
            ts->mask_x = masks ? take_u(c, Tin) : NULL;
            ts->mask_a = masks ? take_u(c, To) : NULL;
        }
    }
    int Cl = 4 * C, Hl = S / 4;
    size_t Tl = B * Cl * Hl * Hl;
    t->z = take_f(c, Tl);
    t->zm = take_f(c, (size_t)Cl);
    t->zr = take_f(c, (size_t)Cl);
    t->p = take_f(c, B * Cl);
    t->logits = take_f(c, B * cfg->num_classes);
    t->mask_z = masks ? take_u(c, Tl) : NULL;
}

static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }

/* Floats of one conv workspace big enough for every forward and backward conv. */
static size_t conv_ws(const nr_net *net, int B)
{
    const nr_macro_config *cfg = &net->cfg;
    int S = cfg->image_size;
    size_t m = max_sz(nr_conv2d_workspace(B, cfg->in_channels, S, S, 3, 1, 1),
                      nr_conv2d_backward_workspace(B, cfg->in_channels, S, S, cfg->C, 3, 1, 1));
    for (int s = 0; s < net->num_stages; s++) {
        const nr_stage *st = &net->stages[s];
        int H = st->H;
        if (st->kind == NR_STAGE_CELL) {
            for (int k = 1; k <= 3; k += 2) {
                m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H, H, k, 1, k / 2));
                m = max_sz(m, nr_conv2d_backward_workspace(B, st->Cin, H, H, 3 * st->Cout, k, 1, k / 2));
            }
        } else {
            m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H, H, 3, 2, 1));
            m = max_sz(m, nr_conv2d_backward_workspace(B, st->Cin, H, H, st->Cout, 3, 2, 1));
            m = max_sz(m, nr_conv2d_workspace(B, st->Cout, H / 2, H / 2, 3, 1, 1));
            m = max_sz(m, nr_conv2d_backward_workspace(B, st->Cout, H / 2, H / 2, st->Cout, 3, 1, 1));
            m = max_sz(m, nr_conv2d_workspace(B, st->Cin, H / 2, H / 2, 1, 1, 0));
            m = max_sz(m, nr_conv2d_backward_workspace(B, st->Cin, H / 2, H / 2, st->Cout, 1, 1, 0));
        }
    }
    return m;
}

/* Scratch: tmp and dtmp 3T each (a stacked group of up to three edges), dn[0..3], R, dR,
 * P (T each), then the conv workspace.  T = the largest activation (stage 1, or the input
 * images when they are larger). */
static void carve_scratch(nr_tape *t, carver *c)
{
    const nr_macro_config *cfg = &t->net->cfg;
    size_t S2 = (size_t)cfg->image_size * cfg->image_size;
    size_t T = (size_t)t->Bcap * S2 * (size_t)(cfg->C > cfg->in_channels ? cfg->C : cfg->in_channels);
    t->tmp = take_f(c, 3 * T);
    t->dtmp = take_f(c, 3 * T);
    for (int i = 0; i < 4; i++) t->dn[i] = take_f(c, T);
    t->R = take_f(c, T);
    t->dR = take_f(c, T);
    t->P = take_f(c, T);
    t->ws = take_f(c, conv_ws(t->net, t->Bcap));
}

/* Sizes and (re)allocates everything for t->net and t->Bcap. */
static nr_status plan(nr_tape *t, nr_error *err)
{
    nr_net *net = t->net;
    if (net->num_stages > t->st_cap) {
        tape_stage *st = realloc(t->st, (size_t)net->num_stages * sizeof *st);
        if (!st) goto nomem;
        t->st = st;
        t->st_cap = net->num_stages;
    }
    memset(t->st, 0, (size_t)net->num_stages * sizeof *t->st);
    mark_live(t);
    carver c = {NULL, NULL, 0, 0, 1};
    carve_records(t, &c);
    size_t nf = c.nf, nu = c.nu;
    if (nf > t->mem_cap) {
        free(t->mem);
        t->mem_cap = 0;
        if (!(t->mem = malloc(nf * sizeof(float)))) goto nomem;
        t->mem_cap = nf;
    }
    if (nu > t->bits_cap) {
        free(t->bits);
        t->bits_cap = 0;
        if (!(t->bits = malloc(nu * sizeof(uint64_t)))) goto nomem;
        t->bits_cap = nu;
    }
    c = (carver){t->mem, t->bits, 0, 0, 0};
    carve_records(t, &c);
    carver s = {NULL, NULL, 0, 0, 1};
    carve_scratch(t, &s);
    if (s.nf > t->scr_cap) {
        free(t->scr);
        t->scr_cap = 0;
        if (!(t->scr = malloc(s.nf * sizeof(float)))) goto nomem;
        t->scr_cap = s.nf;
    }
    s = (carver){t->scr, NULL, 0, 0, 0};
    carve_scratch(t, &s);
    return NR_OK;
nomem:
    return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for the backward tape (batch %d)", t->Bcap);
}

nr_status nr_tape_create_mode(nr_net *net, int B, const nr_tape_mode *mode, nr_tape **out,
                              nr_error *err)
{
    *out = NULL;
    if (B < 1 || B > 65536)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "batch size %d out of range 1..65536", B);
    nr_tape *t = calloc(1, sizeof *t);
    if (!t) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for the backward tape");
    t->net = net;
    t->Bcap = B;
    if (mode) t->mode = *mode;
    t->masks_alloc = t->mode.relu_masks != 0;
    nr_status st = plan(t, err);
    if (st) {
        nr_tape_free(t);
        return st;
    }
    *out = t;
    return NR_OK;
}

nr_status nr_tape_create(nr_net *net, int B, nr_tape **out, nr_error *err)
{
    return nr_tape_create_mode(net, B, NULL, out, err);
}

void nr_tape_set_relu_masks(nr_tape *t, int relu_masks)
{
    if (t->masks_alloc && relu_masks >= 0 && relu_masks <= 2) t->mode.relu_masks = relu_masks;
}


void nr_tape_free(nr_tape *t)
{
    if (!t) return;
    free(t->mem);
    free(t->bits);
    free(t->scr);
    free(t->st);
    free(t);
}

size_t nr_net_tensor_offset(const nr_net *net, size_t i)
{
    return i < net->num_tensors ? (size_t)(net->tensors[i].data - net->params) : 0;
}

/* ---------------------------------------------------------------------------- forward */

/* The ReLU feeding a conv: out = relu(x), by the sign of x (recording its mask when asked)
 * or by the recorded mask (frozen). */
static void relu_in(const nr_tape *t, float *out, const float *x, uint64_t *mask, size_t n)
{
    if (t->mode.relu_masks == 2) {
        nr_relu_forward_masked(out, x, mask, n);
        return;
    }
    if (t->mode.relu_masks == 1) nr_relu_mask_pack(mask, x, n);
    nr_relu_forward(out, x, n);
}

/* conv(relu(x)) for the forward: the ReLU fused into the conv's input copy (same result as
 * relu then conv, ops.h).  first: the first conv of this x (the two kernel-size groups of a
 * cell node share it), which records the mask when asked, or with frozen masks writes
 * relu(x) into R for every conv of x to read. */
static void relu_conv(const nr_tape *t, float *y, const float *x, uint64_t *mask, int first, size_t n,
                      const float *w, int Cin, int H, int Cout, int k, int stride)
{
    if (t->mode.relu_masks == 2) {
        if (first) nr_relu_forward_masked(t->R, x, mask, n);
        nr_conv2d_forward(y, t->R, w, t->B, Cin, H, H, Cout, k, stride, k / 2, t->ws);
        return;
    }
    if (first && t->mode.relu_masks == 1) nr_relu_mask_pack(mask, x, n);
    nr_relu_conv2d_forward(y, x, w, t->B, Cin, H, H, Cout, k, stride, k / 2, t->ws);
}

/* ReLU backward with the mask the forward used. */
static void relu_back(const nr_tape *t, float *dx, const float *dy, const float *x,
                      const uint64_t *mask, size_t n)
{
    if (t->mode.relu_masks == 2) nr_relu_backward_masked(dx, dy, mask, n);
    else nr_relu_backward(dx, dy, x, n);
}

/* out = BN(y) with the statistics recorded. */
static void bn_fwd(const nr_tape *t, float *out, float *mean, float *rstd, const float *y,
                   const float *g, const float *b, int C, int HW)
{
    nr_batchnorm_forward(out, mean, rstd, y, g, b, t->B, C, HW, BN_EPS);
}

static void cell_fwd(nr_tape *t, const nr_stage *ns, tape_stage *ts)
{
    const nr_arch *a = &t->net->arch;
    int B = t->B, C = ns->Cout, H = ns->H, HW = H * H;
    size_t n = (size_t)B * C * HW;
    for (int j = 1; j < 4; j++)
        if (t->live[j]) memset(ts->node[j], 0, n * sizeof(float));
    for (int src = 0; src < 3; src++) {
        if (!t->live[src]) continue;
        float *x = ts->node[src];
        int first = 1;
        for (int g = 0; g < 2; g++) {
            const nr_conv_group *ng = &ns->groups[src][g];
            tape_group *tg = &ts->grp[src][g];
            if (!tg->active) continue;
            int mC = ng->m * C;
            relu_conv(t, tg->y, x, ts->mask[src], first, n, ng->w, C, H, mC, ng->k, 1);
            first = 0;
            bn_fwd(t, t->tmp, tg->mean, tg->rstd, tg->y, ng->gamma, ng->beta, mC, HW);
            for (int s = 0; s < ng->m; s++) {
                if (!t->live[ng->target[s]]) continue;
                float *dst = ts->node[ng->target[s]];
                for (int b = 0; b < B; b++)
                    nr_add_inplace(dst + (size_t)b * C * HW, t->tmp + ((size_t)b * ng->m + s) * C * HW,
                                   (size_t)C * HW);
            }
        }
        int pooled = 0;
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            int to = nr_edge_to(e);
            if (nr_edge_from(e) != src || !t->live[to]) continue;
            if (a->op[e] == NR_OP_SKIP) {
                nr_add_inplace(ts->node[to], x, n);
            } else if (a->op[e] == NR_OP_AVGPOOL3X3) {
                if (!pooled) nr_avgpool3x3_forward(t->P, x, B, C, H, H);
                pooled = 1;
                nr_add_inplace(ts->node[to], t->P, n);
            }
        }
    }
}

static void resblock_fwd(nr_tape *t, const nr_stage *ns, tape_stage *ts)
{
    int B = t->B, ci = ns->Cin, co = ns->Cout, H = ns->H, Ho = H / 2, HWo = Ho * Ho;
    size_t nin = (size_t)B * ci * H * H, nout = (size_t)B * co * HWo;
    const float *x = ts->in;
    relu_conv(t, ts->ya, x, ts->mask_x, 1, nin, ns->wa, ci, H, co, 3, 2);
    bn_fwd(t, ts->a, ts->ma, ts->ra, ts->ya, ns->ga, ns->ba, co, HWo);
    relu_conv(t, ts->yb, ts->a, ts->mask_a, 1, nout, ns->wb, co, Ho, co, 3, 1);
    bn_fwd(t, t->tmp, ts->mb, ts->rb, ts->yb, ns->gb, ns->bb, co, HWo);
    nr_avgpool2x2_forward(t->P, x, B, ci, H, H);
    nr_conv2d_forward(ts->sc, t->P, ns->wd, B, ci, Ho, Ho, co, 1, 1, 0, t->ws);
    memcpy(ts->out, ts->sc, nout * sizeof(float));
    nr_add_inplace(ts->out, t->tmp, nout);
}

nr_status nr_tape_forward(nr_tape *t, const float *images, int B, float *logits, nr_error *err)
{
    if (B < 1 || B > t->Bcap)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "batch size %d out of range 1..%d (the tape's)", B, t->Bcap);
    nr_net *net = t->net;
    const nr_macro_config *cfg = &net->cfg;
    int C = cfg->C, S = cfg->image_size, HW0 = S * S;
    t->B = B;
    t->images = images;
    nr_conv2d_forward(t->stem_y, images, net->stem_w, B, cfg->in_channels, S, S, C, 3, 1, 1, t->ws);
    bn_fwd(t, t->stem_out, t->stem_m, t->stem_r, t->stem_y, net->stem_g, net->stem_b, C, HW0);
    float *cur = t->stem_out;
    for (int s = 0; s < net->num_stages; s++) {
        const nr_stage *ns = &net->stages[s];
        tape_stage *ts = &t->st[s];
        ts->in = cur;
        if (ns->kind == NR_STAGE_CELL) {
            ts->node[0] = cur;
            cell_fwd(t, ns, ts);
            cur = ts->node[3];
        } else {
            resblock_fwd(t, ns, ts);
            cur = ts->out;
        }
    }
    int Cl = 4 * C, Hl = S / 4, K = cfg->num_classes;
    size_t nl = (size_t)B * Cl * Hl * Hl;
    bn_fwd(t, t->z, t->zm, t->zr, cur, net->last_g, net->last_b, Cl, Hl * Hl);
    relu_in(t, t->R, t->z, t->mask_z, nl);
    nr_global_avgpool_forward(t->p, t->R, B, Cl, Hl * Hl);
    nr_linear_forward(t->logits, t->p, net->fc_w, net->fc_b, B, Cl, K);
    if (logits) memcpy(logits, t->logits, (size_t)B * K * sizeof(float));
    return NR_OK;
}

/* --------------------------------------------------------------------------- backward */

/* Gradient slot of a parameter pointer (NULL when no parameter gradients are wanted). */
static float *gslot(const nr_tape *t, float *grad, const float *param)
{
    return grad ? grad + (param - t->net->params) : NULL;
}

/* dy of BN given the gradient of its output: dx = BN^T(dout) into a zeroed buffer.  Returns
 * the buffer holding the conv output's gradient. */
static float *bn_back(const nr_tape *t, float *buf, const float *dout, const float *y,
                      const float *mean, const float *rstd, const float *gamma, float *dgamma,
                      float *dbeta, int C, int HW)
{
    memset(buf, 0, (size_t)t->B * C * HW * sizeof(float));
    nr_batchnorm_backward(buf, dgamma, dbeta, dout, y, mean, rstd, gamma, t->B, C, HW);
    return buf;
}

static void cell_bwd(nr_tape *t, const nr_stage *ns, tape_stage *ts, float **dn, float *grad)
{
    const nr_arch *a = &t->net->arch;
    int B = t->B, C = ns->Cout, H = ns->H, HW = H * H;
    size_t n = (size_t)B * C * HW, img = (size_t)C * HW;
    for (int j = 0; j < 3; j++)
        if (t->live[j] || j == 0) memset(dn[j], 0, n * sizeof(float)); /* dn[0]: the cell's input gradient */
    for (int src = 2; src >= 0; src--) {
        if (!t->live[src]) continue;
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            int to = nr_edge_to(e);
            if (nr_edge_from(e) != src || !t->live[to]) continue;
            if (a->op[e] == NR_OP_SKIP) nr_add_inplace(dn[src], dn[to], n);
            else if (a->op[e] == NR_OP_AVGPOOL3X3) nr_avgpool3x3_backward(dn[src], dn[to], B, C, H, H);
        }
        if (!ts->any_conv[src]) continue;
        const float *x = ts->node[src];
        if (grad) relu_in(t, t->R, x, ts->mask[src], n); /* the conv input, for dW */
        memset(t->dR, 0, n * sizeof(float));
        for (int g = 0; g < 2; g++) {
            const nr_conv_group *ng = &ns->groups[src][g];
            tape_group *tg = &ts->grp[src][g];
            if (!tg->active) continue;
            int m = ng->m, mC = m * C;
            /* the stacked output gradient: slot s is d(node target[s]) (0 when dead) */
            const float *dstack;
            if (m == 1) {
                dstack = dn[ng->target[0]];
            } else {
                for (int b = 0; b < B; b++)
                    for (int s = 0; s < m; s++) {
                        float *d = t->tmp + ((size_t)b * m + s) * img;
                        if (t->live[ng->target[s]]) memcpy(d, dn[ng->target[s]] + b * img, img * sizeof(float));
                        else memset(d, 0, img * sizeof(float));
                    }
                dstack = t->tmp;
            }
            float *dy = bn_back(t, t->dtmp, dstack, tg->y, tg->mean, tg->rstd, ng->gamma,
                                gslot(t, grad, ng->gamma), gslot(t, grad, ng->beta), mC, HW);
            nr_conv2d_backward(t->dR, gslot(t, grad, ng->w), dy, t->R, ng->w, B, C, H, H, mC,
                               ng->k, 1, ng->k / 2, t->ws);
        }
        relu_back(t, dn[src], t->dR, x, ts->mask[src], n);
    }
}

/* d(out) in dout; adds d(x) into dx (zeroed by the caller). */
static void resblock_bwd(nr_tape *t, const nr_stage *ns, tape_stage *ts, const float *dout,
                         float *dx, float *grad)
{
    int B = t->B, ci = ns->Cin, co = ns->Cout, H = ns->H, Ho = H / 2, HWo = Ho * Ho;
    size_t nin = (size_t)B * ci * H * H, nout = (size_t)B * co * HWo;
    const float *x = ts->in;
    /* shortcut: sc = conv1x1(avgpool2x2(x)) */
    size_t np = (size_t)B * ci * HWo;
    float *dP = t->dR; /* free until conv_a */
    if (grad) nr_avgpool2x2_forward(t->P, x, B, ci, H, H);
    memset(dP, 0, np * sizeof(float));
    nr_conv2d_backward(dP, gslot(t, grad, ns->wd), dout, t->P, ns->wd, B, ci, Ho, Ho, co, 1, 1, 0, t->ws);
    nr_avgpool2x2_backward(dx, dP, B, ci, H, H);
    /* conv_b: out += BN_b(conv_b(relu(a))) */
    float *dyb = bn_back(t, t->dtmp, dout, ts->yb, ts->mb, ts->rb, ns->gb, gslot(t, grad, ns->gb),
                         gslot(t, grad, ns->bb), co, HWo);
    if (grad) relu_in(t, t->R, ts->a, ts->mask_a, nout);
    memset(t->dR, 0, nout * sizeof(float));
    nr_conv2d_backward(t->dR, gslot(t, grad, ns->wb), dyb, t->R, ns->wb, B, co, Ho, Ho, co, 3, 1, 1, t->ws);
    float *da = t->tmp;
    memset(da, 0, nout * sizeof(float));
    relu_back(t, da, t->dR, ts->a, ts->mask_a, nout);
    /* conv_a: a = BN_a(conv_a(relu(x))), stride 2 */
    float *dya = bn_back(t, t->dtmp, da, ts->ya, ts->ma, ts->ra, ns->ga, gslot(t, grad, ns->ga),
                         gslot(t, grad, ns->ba), co, HWo);
    if (grad) relu_in(t, t->R, x, ts->mask_x, nin);
    memset(t->dR, 0, nin * sizeof(float));
    nr_conv2d_backward(t->dR, gslot(t, grad, ns->wa), dya, t->R, ns->wa, B, ci, H, H, co, 3, 2, 1, t->ws);
    relu_back(t, dx, t->dR, x, ts->mask_x, nin);
}

nr_status nr_tape_backward(nr_tape *t, const float *dlogits, float *grad, float *dimages, nr_error *err)
{
    if (t->B < 1)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "backward without a forward on this tape");
    nr_net *net = t->net;
    const nr_macro_config *cfg = &net->cfg;
    int B = t->B, C = cfg->C, S = cfg->image_size, K = cfg->num_classes;
    int Cl = 4 * C, Hl = S / 4, HWl = Hl * Hl;
    size_t nl = (size_t)B * Cl * HWl;
    /* relu_in() with recording would overwrite the masks with identical bits: use frozen
     * masks while recomputing ReLU outputs in backward (same values, no rewrite) */
    int saved_masks = t->mode.relu_masks;
    if (saved_masks == 1) t->mode.relu_masks = 2;

    /* top: logits = linear(p), p = gap(relu(z)), z = BN(last stage output) */
    float *dp = t->dtmp;
    memset(dp, 0, (size_t)B * Cl * sizeof(float));
    nr_linear_backward(dp, gslot(t, grad, net->fc_w), gslot(t, grad, net->fc_b),
                       dlogits, t->p, net->fc_w, B, Cl, K);
    float *dr = t->dR;
    memset(dr, 0, nl * sizeof(float));
    nr_global_avgpool_backward(dr, dp, B, Cl, HWl);
    float *dz = t->tmp;
    memset(dz, 0, nl * sizeof(float));
    relu_back(t, dz, dr, t->z, t->mask_z, nl);
    float **dn = t->dn; /* dn[3] holds d(stage output) on entry to each stage */
    const tape_stage *last = &t->st[net->num_stages - 1];
    const float *last_in = net->stages[net->num_stages - 1].kind == NR_STAGE_CELL ? last->node[3] : last->out;
    float *dcur;
    memset(dn[3], 0, nl * sizeof(float));
    nr_batchnorm_backward(dn[3], gslot(t, grad, net->last_g), gslot(t, grad, net->last_b), dz, last_in,
                          t->zm, t->zr, net->last_g, B, Cl, HWl);
    for (int s = net->num_stages - 1; s >= 0; s--) {
        const nr_stage *ns = &net->stages[s];
        tape_stage *ts = &t->st[s];
        size_t nin = (size_t)B * ns->Cin * ns->H * ns->H;
        if (ns->kind == NR_STAGE_CELL) {
            cell_bwd(t, ns, ts, dn, grad);
        } else {
            memset(dn[0], 0, nin * sizeof(float));
            resblock_bwd(t, ns, ts, dn[3], dn[0], grad);
        }
        /* d(stage input) becomes d(previous stage output) */
        float *tmp = dn[3];
        dn[3] = dn[0];
        dn[0] = tmp;
    }
    dcur = dn[3];
    /* stem: stem_out = BN(conv(images)) */
    float *dy = bn_back(t, t->dtmp, dcur, t->stem_y, t->stem_m, t->stem_r, net->stem_g,
                        gslot(t, grad, net->stem_g), gslot(t, grad, net->stem_b), C, S * S);
    nr_conv2d_backward(dimages, gslot(t, grad, net->stem_w), dy, t->images, net->stem_w, B,
                       cfg->in_channels, S, S, C, 3, 1, 1, t->ws);
    t->mode.relu_masks = saved_masks;
    return NR_OK;
}
