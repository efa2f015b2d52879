/* nasrank — the graph executor (include/nasrank/graph_exec.h).
 *
 * Planning (once per executor):
 *   run[i]     layer i is computed: live for the output, or (observe_relu_inputs) for a ReLU
 *              input (nr_graph_liveness);
 *   need_d[i]  its output gradient is needed: it reaches the output (the backward pass
 *              starts there), and layer 0 only when the caller asks for dimages;
 *   blocks     buffers for values and gradients, each sized for max_batch, handed out by
 *              plan_buffers: a layer's value takes the smallest free block that fits when it
 *              is computed and gives it back after its last reader ran (never, with
 *              backward: the backward pass reads them); a gradient takes a block when its
 *              first (highest) consumer's backward writes it and gives it back after its own
 *              backward.
 * Forward runs the layers in order, backward in reverse; every backward kernel adds into
 * its input gradients, so a layer read by several others collects the sum.
 */
#include <stdlib.h>
#include <string.h>

#include "graph/graph_internal.h"
#include "nasrank/graph_exec.h"
#include "ops/ops.h"
#include "ops/ops_backward.h"
#include "ops/ref.h"

#define BN_EPS 1e-5f

struct nr_exec {
    const nr_graph *g;
    nr_exec_options opt;
    int max_batch, B;          /* B of the last forward (0: none yet) */
    int n;                     /* layers */
    unsigned char *run, *live_out, *fast;
    int *last_read;            /* last layer reading layer i's value (i itself when none) */
    int *first_d;              /* highest layer whose backward adds into layer i's gradient */
    int *relu_count, **relus;  /* ReLU layers reading each layer */
    int *vblock, *dblock;      /* block of each value / gradient, -1 when none */
    float **blocks;
    size_t *block_size;
    int n_blocks;
    float **val;               /* value of layer i during a pass (layer 0: the images) */
    float **mean, **rstd;      /* per batch-norm layer, with backward */
    float *ws;                 /* conv workspace */
    size_t ws_size;
    unsigned char *zeroed;     /* gradient buffers zeroed in this backward */
};

static size_t numel(const nr_layer *l, int B) { return (size_t)B * l->C * l->H * l->W; }

/* ------------------------------------------------------------------ planning */

typedef struct pool_plan {
    size_t *size;   /* per block, floats */
    unsigned char *busy;
    int n, cap;
} pool_plan;

/* The smallest free block of at least `need` floats, else the largest free block grown to
 * `need`, else a new one.  -1 when out of memory. */
static int take_block(pool_plan *p, size_t need)
{
    int best = -1, largest = -1;
    for (int b = 0; b < p->n; b++) {
        if (p->busy[b]) continue;
        if (p->size[b] >= need && (best < 0 || p->size[b] < p->size[best])) best = b;
        if (largest < 0 || p->size[b] > p->size[largest]) largest = b;
    }
    if (best < 0 && largest >= 0) {
        best = largest;
        p->size[best] = need;
    }
    if (best < 0) {
        if (p->n == p->cap) {
            int cap = p->cap ? 2 * p->cap : 16;
            size_t *s = realloc(p->size, (size_t)cap * sizeof *s);
            if (!s) return -1;
            p->size = s;
            unsigned char *u = realloc(p->busy, (size_t)cap);
            if (!u) return -1;
            p->busy = u;
            p->cap = cap;
        }
        best = p->n++;
        p->size[best] = need;
    }
    p->busy[best] = 1;
    return best;
}

/* Fast kernels exist for these shapes (see graph_exec.h). */
static int has_fast_kernel(const nr_layer *l)
{
    switch (l->kind) {
    case NR_LAYER_CONV: return l->groups == 1 && l->dilation == 1;
    case NR_LAYER_AVGPOOL:
        return (l->kernel == 3 && l->stride == 1 && l->pad == 1 && !l->count_include_pad) ||
               (l->kernel == 2 && l->stride == 2 && l->pad == 0);
    case NR_LAYER_RELU: return l->clip == 0;
    default: return 0;
    }
}

static nr_status plan(nr_exec *ex, nr_error *err)
{
    const nr_graph *g = ex->g;
    int n = ex->n, B = ex->max_batch;
    nr_graph_liveness(g, ex->opt.observe_relu_inputs, ex->run);
    nr_graph_liveness(g, 0, ex->live_out);
    for (int i = 0; i < n; i++) {
        ex->last_read[i] = i;
        ex->first_d[i] = -1;
        ex->vblock[i] = ex->dblock[i] = -1;
        ex->fast[i] = !ex->opt.reference && has_fast_kernel(&g->layers[i]);
    }
    /* readers: the last computed one frees a value; the first backward one allocates a gradient */
    for (int i = 1; i < n; i++) {
        const nr_layer *l = &g->layers[i];
        for (int k = 0; k < l->n_inputs; k++) {
            int j = l->inputs[k];
            if (l->kind == NR_LAYER_RELU) ex->relu_count[j]++;
            if (l->kind == NR_LAYER_ZERO) continue; /* reads only the shape */
            if (ex->run[i]) ex->last_read[j] = i;
            if (ex->live_out[i]) ex->first_d[j] = i;
        }
    }
    for (int i = 0; i < n; i++) {
        if (!ex->relu_count[i]) continue;
        ex->relus[i] = malloc((size_t)ex->relu_count[i] * sizeof(int));
        if (!ex->relus[i]) goto nomem;
        int c = 0;
        for (int r = i + 1; r < n; r++)
            if (g->layers[r].kind == NR_LAYER_RELU && g->layers[r].inputs[0] == i) ex->relus[i][c++] = r;
    }
    pool_plan p = {0};
    for (int i = 1; i < n; i++) {
        if (!ex->run[i]) continue;
        if ((ex->vblock[i] = take_block(&p, numel(&g->layers[i], B))) < 0) goto nomem_pool;
        if (ex->opt.backward) continue;
        const nr_layer *l = &g->layers[i];
        for (int k = 0; k < l->n_inputs; k++) {
            int j = l->inputs[k];
            if (j > 0 && ex->last_read[j] == i && j != g->output) p.busy[ex->vblock[j]] = 0;
        }
        if (ex->last_read[i] == i && i != g->output) p.busy[ex->vblock[i]] = 0;
    }
    if (ex->opt.backward) {
        /* gradients, from the output back: they never share a block with a kept value */
        for (int b = 0; b < p.n; b++) p.busy[b] = 1;
        for (int i = n - 1; i >= 0; i--) {
            if (!ex->live_out[i]) continue;
            if (ex->dblock[i] < 0 && (ex->dblock[i] = take_block(&p, numel(&g->layers[i], B))) < 0)
                goto nomem_pool;
            const nr_layer *l = &g->layers[i];
            for (int k = 0; i > 0 && l->kind != NR_LAYER_ZERO && k < l->n_inputs; k++) {
                int j = l->inputs[k];
                if (ex->dblock[j] < 0 && (ex->dblock[j] = take_block(&p, numel(&g->layers[j], B))) < 0)
                    goto nomem_pool;
            }
            p.busy[ex->dblock[i]] = 0;
        }
    }
    ex->n_blocks = p.n;
    ex->blocks = calloc((size_t)(p.n ? p.n : 1), sizeof *ex->blocks);
    ex->block_size = p.size;
    free(p.busy);
    p.size = NULL;
    if (!ex->blocks) goto nomem;
    for (int b = 0; b < ex->n_blocks; b++)
        if (!(ex->blocks[b] = malloc((ex->block_size[b] ? ex->block_size[b] : 1) * sizeof(float)))) goto nomem;
    /* conv workspace and batch-norm statistics */
    size_t ws = 0;
    for (int i = 1; i < n; i++) {
        const nr_layer *l = &g->layers[i], *x = &g->layers[l->inputs[0]];
        if (l->kind == NR_LAYER_CONV && ex->fast[i]) {
            size_t f = nr_conv2d_workspace(B, x->C, x->H, x->W, l->kernel, l->stride, l->pad);
            if (f > ws) ws = f;
            if (ex->opt.backward) {
                f = nr_conv2d_backward_workspace(B, x->C, x->H, x->W, l->C, l->kernel, l->stride, l->pad);
                if (f > ws) ws = f;
            }
        }
        if (l->kind == NR_LAYER_BATCHNORM && ex->opt.backward && ex->run[i]) {
            ex->mean[i] = malloc((size_t)l->C * sizeof(float));
            ex->rstd[i] = malloc((size_t)l->C * sizeof(float));
            if (!ex->mean[i] || !ex->rstd[i]) goto nomem;
        }
    }
    ex->ws_size = ws;
    if (!(ex->ws = malloc((ws ? ws : 1) * sizeof(float)))) goto nomem;
    return NR_OK;
nomem_pool:
    free(p.size);
    free(p.busy);
nomem:
    return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory planning the executor (batch %d)", B);
}

nr_status nr_exec_create(const nr_graph *g, int max_batch, const nr_exec_options *opt,
                         nr_exec **out, nr_error *err)
{
    *out = NULL;
    if (!g->finished) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "executor for an unfinished graph");
    if (max_batch < 1 || max_batch > 65536)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "batch size %d out of range 1..65536", max_batch);
    nr_exec *ex = calloc(1, sizeof *ex);
    if (!ex) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for an executor");
    ex->g = g;
    ex->max_batch = max_batch;
    if (opt) ex->opt = *opt;
    int n = ex->n = g->n_layers;
    ex->run = calloc((size_t)n, 1);
    ex->live_out = calloc((size_t)n, 1);
    ex->fast = calloc((size_t)n, 1);
    ex->zeroed = calloc((size_t)n, 1);
    ex->last_read = calloc((size_t)n, sizeof(int));
    ex->first_d = calloc((size_t)n, sizeof(int));
    ex->relu_count = calloc((size_t)n, sizeof(int));
    ex->relus = calloc((size_t)n, sizeof(int *));
    ex->vblock = calloc((size_t)n, sizeof(int));
    ex->dblock = calloc((size_t)n, sizeof(int));
    ex->val = calloc((size_t)n, sizeof(float *));
    ex->mean = calloc((size_t)n, sizeof(float *));
    ex->rstd = calloc((size_t)n, sizeof(float *));
    nr_status st = NR_ERR_NOMEM;
    if (!ex->run || !ex->live_out || !ex->fast || !ex->zeroed || !ex->last_read || !ex->first_d ||
        !ex->relu_count || !ex->relus || !ex->vblock || !ex->dblock || !ex->val || !ex->mean || !ex->rstd) {
        nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for an executor");
        goto fail;
    }
    if ((st = plan(ex, err))) goto fail;
    for (int i = 1; i < n; i++)
        if (ex->vblock[i] >= 0) ex->val[i] = ex->blocks[ex->vblock[i]];
    *out = ex;
    return NR_OK;
fail:
    nr_exec_free(ex);
    return st;
}

void nr_exec_free(nr_exec *ex)
{
    if (!ex) return;
    for (int i = 0; ex->relus && i < ex->n; i++) free(ex->relus[i]);
    for (int i = 0; ex->mean && i < ex->n; i++) free(ex->mean[i]);
    for (int i = 0; ex->rstd && i < ex->n; i++) free(ex->rstd[i]);
    for (int b = 0; ex->blocks && b < ex->n_blocks; b++) free(ex->blocks[b]);
    free(ex->blocks);
    free(ex->block_size);
    free(ex->run);
    free(ex->live_out);
    free(ex->fast);
    free(ex->zeroed);
    free(ex->last_read);
    free(ex->first_d);
    free(ex->relu_count);
    free(ex->relus);
    free(ex->vblock);
    free(ex->dblock);
    free(ex->val);
    free(ex->mean);
    free(ex->rstd);
    free(ex->ws);
    free(ex);
}

/* ------------------------------------------------------------------ forward */

static nr_window window_of(const nr_layer *l, const nr_layer *x, int B)
{
    nr_window s = {B, x->C, x->H, x->W, l->C, l->H, l->W, l->kernel, l->stride, l->pad,
                   l->dilation ? l->dilation : 1, l->groups ? l->groups : 1};
    return s;
}

static const float *param(const nr_exec *ex, const nr_layer *l, int k)
{
    return ex->g->params + ex->g->tensors[l->param + k].offset;
}

static void layer_forward(nr_exec *ex, int i)
{
    const nr_graph *g = ex->g;
    const nr_layer *l = &g->layers[i], *xl = &g->layers[l->inputs[0]];
    int B = ex->B;
    float *y = ex->val[i];
    const float *x = ex->val[l->inputs[0]];
    size_t ny = numel(l, B), nx = numel(xl, B);
    int HW = l->H * l->W;
    nr_window s = window_of(l, xl, B);
    switch (l->kind) {
    case NR_LAYER_CONV:
        if (ex->fast[i]) nr_conv2d_forward(y, x, param(ex, l, 0), B, xl->C, xl->H, xl->W, l->C, l->kernel, l->stride, l->pad, ex->ws);
        else nr_ref_conv_forward(y, x, param(ex, l, 0), &s);
        break;
    case NR_LAYER_BATCHNORM:
        if (ex->opt.no_bn) memcpy(y, x, ny * sizeof *y);
        else nr_batchnorm_forward(y, ex->mean[i], ex->rstd[i], x, l->affine ? param(ex, l, 0) : NULL,
                                  l->affine ? param(ex, l, 1) : NULL, B, l->C, HW, BN_EPS);
        break;
    case NR_LAYER_RELU:
        if (ex->fast[i]) nr_relu_forward(y, x, ny);
        else nr_ref_relu_forward(y, x, ny, (float)l->clip);
        break;
    case NR_LAYER_AVGPOOL:
        if (ex->fast[i] && l->kernel == 3) nr_avgpool3x3_forward(y, x, B, l->C, xl->H, xl->W);
        else if (ex->fast[i]) nr_avgpool2x2_forward(y, x, B, l->C, xl->H, xl->W);
        else nr_ref_avgpool_forward(y, x, &s, l->count_include_pad);
        break;
    case NR_LAYER_MAXPOOL: nr_ref_maxpool_forward(y, x, &s); break;
    case NR_LAYER_ADD:
        memcpy(y, x, ny * sizeof *y);
        for (int k = 1; k < l->n_inputs; k++) nr_add_inplace(y, ex->val[l->inputs[k]], ny);
        break;
    case NR_LAYER_CONCAT:
        for (int k = 0, c0 = 0; k < l->n_inputs; k++) {
            const nr_layer *in = &g->layers[l->inputs[k]];
            nr_ref_channels_put(y, ex->val[l->inputs[k]], B, l->C, c0, in->C, HW, 0);
            c0 += in->C;
        }
        break;
    case NR_LAYER_SLICE: nr_ref_channels_take(y, x, B, xl->C, l->begin, l->C, HW, 0); break;
    case NR_LAYER_CROP: nr_ref_crop_forward(y, x, B, l->C, xl->H, xl->W, l->top, l->left, l->H, l->W); break;
    case NR_LAYER_ZERO: memset(y, 0, ny * sizeof *y); break;
    case NR_LAYER_IDENTITY: memcpy(y, x, nx * sizeof *y); break;
    case NR_LAYER_GLOBAL_AVGPOOL: nr_global_avgpool_forward(y, x, B, l->C, xl->H * xl->W); break;
    case NR_LAYER_LINEAR:
        nr_linear_forward(y, x, param(ex, l, 0), l->bias ? param(ex, l, 1) : NULL, B,
                          xl->C * xl->H * xl->W, l->C);
        break;
    default: break;
    }
}

nr_status nr_exec_forward(nr_exec *ex, const float *images, int B, float *out,
                          nr_relu_input_sink sink, void *ctx, nr_error *err)
{
    if (B < 1 || B > ex->max_batch)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "batch size %d out of range 1..%d (the executor's)",
                            B, ex->max_batch);
    if (sink && !ex->opt.observe_relu_inputs)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                            "a ReLU-input sink on an executor made without observe_relu_inputs");
    const nr_graph *g = ex->g;
    ex->B = B;
    ex->val[0] = (float *)images; /* read only: no layer writes layer 0 */
    for (int i = 0; i < ex->n; i++) {
        if (!ex->run[i]) continue;
        if (i > 0) layer_forward(ex, i);
        if (sink && ex->relu_count[i]) {
            const nr_layer *l = &g->layers[i];
            nr_relu_input a = {i, ex->val[i], B, l->C, l->H, l->W, ex->relu_count[i], ex->relus[i]};
            sink(ctx, &a);
        }
    }
    if (out) memcpy(out, ex->val[g->output], numel(&g->layers[g->output], B) * sizeof *out);
    return NR_OK;
}

/* ------------------------------------------------------------------ backward */

/* The gradient buffer of layer j, zeroed the first time this pass asks for it; NULL when no
 * gradient of j is wanted. */
static float *dbuf(nr_exec *ex, int j, int want_input)
{
    if (j == 0 && !want_input) return NULL;
    if (ex->dblock[j] < 0) return NULL;
    float *d = ex->blocks[ex->dblock[j]];
    if (!ex->zeroed[j]) {
        memset(d, 0, numel(&ex->g->layers[j], ex->B) * sizeof *d);
        ex->zeroed[j] = 1;
    }
    return d;
}

static float *gslot(const nr_exec *ex, float *grad, const nr_layer *l, int k)
{
    return grad ? grad + ex->g->tensors[l->param + k].offset : NULL;
}

static void layer_backward(nr_exec *ex, int i, const float *dy, float *grad, int want_input)
{
    const nr_graph *g = ex->g;
    const nr_layer *l = &g->layers[i], *xl = &g->layers[l->inputs[0]];
    int B = ex->B, HW = l->H * l->W;
    const float *x = ex->val[l->inputs[0]];
    size_t ny = numel(l, B);
    nr_window s = window_of(l, xl, B);
    if (l->kind == NR_LAYER_ZERO || l->kind == NR_LAYER_INPUT) return;
    if (l->kind == NR_LAYER_ADD || l->kind == NR_LAYER_CONCAT) {
        for (int k = 0, c0 = 0; k < l->n_inputs; k++) {
            const nr_layer *in = &g->layers[l->inputs[k]];
            float *dx = dbuf(ex, l->inputs[k], want_input);
            if (dx && l->kind == NR_LAYER_ADD) nr_add_inplace(dx, dy, ny);
            else if (dx) nr_ref_channels_take(dx, dy, B, l->C, c0, in->C, HW, 1);
            c0 += in->C;
        }
        return;
    }
    float *dx = dbuf(ex, l->inputs[0], want_input);
    switch (l->kind) {
    case NR_LAYER_CONV:
        if (ex->fast[i])
            nr_conv2d_backward(dx, gslot(ex, grad, l, 0), dy, x, param(ex, l, 0), B, xl->C, xl->H, xl->W, l->C,
                               l->kernel, l->stride, l->pad, ex->ws);
        else nr_ref_conv_backward(dx, gslot(ex, grad, l, 0), dy, x, param(ex, l, 0), &s);
        break;
    case NR_LAYER_BATCHNORM:
        if (ex->opt.no_bn) {
            if (dx) nr_add_inplace(dx, dy, ny);
        } else {
            nr_batchnorm_backward(dx, l->affine ? gslot(ex, grad, l, 0) : NULL, l->affine ? gslot(ex, grad, l, 1) : NULL,
                                  dy, x, ex->mean[i], ex->rstd[i], l->affine ? param(ex, l, 0) : NULL, B, l->C, HW);
        }
        break;
    case NR_LAYER_RELU:
        if (!dx) break;
        if (ex->fast[i]) nr_relu_backward(dx, dy, x, ny);
        else nr_ref_relu_backward(dx, dy, x, ny, (float)l->clip);
        break;
    case NR_LAYER_AVGPOOL:
        if (!dx) break;
        if (ex->fast[i] && l->kernel == 3) nr_avgpool3x3_backward(dx, dy, B, l->C, xl->H, xl->W);
        else if (ex->fast[i]) nr_avgpool2x2_backward(dx, dy, B, l->C, xl->H, xl->W);
        else nr_ref_avgpool_backward(dx, dy, &s, l->count_include_pad);
        break;
    case NR_LAYER_MAXPOOL:
        if (dx) nr_ref_maxpool_backward(dx, dy, x, &s);
        break;
    case NR_LAYER_SLICE:
        if (dx) nr_ref_channels_put(dx, dy, B, xl->C, l->begin, l->C, HW, 1);
        break;
    case NR_LAYER_CROP:
        if (dx) nr_ref_crop_backward(dx, dy, B, l->C, xl->H, xl->W, l->top, l->left, l->H, l->W);
        break;
    case NR_LAYER_IDENTITY:
        if (dx) nr_add_inplace(dx, dy, ny);
        break;
    case NR_LAYER_GLOBAL_AVGPOOL:
        if (dx) nr_global_avgpool_backward(dx, dy, B, l->C, xl->H * xl->W);
        break;
    case NR_LAYER_LINEAR:
        nr_linear_backward(dx, gslot(ex, grad, l, 0), l->bias ? gslot(ex, grad, l, 1) : NULL, dy, x,
                           param(ex, l, 0), B, xl->C * xl->H * xl->W, l->C);
        break;
    default: break;
    }
}

nr_status nr_exec_backward(nr_exec *ex, const float *dout, float *grad, float *dimages,
                           nr_layer_grad_hook hook, void *ctx, nr_error *err)
{
    if (!ex->opt.backward)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "backward on an executor made without backward");
    if (ex->B < 1) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "backward without a forward");
    const nr_graph *g = ex->g;
    int want_input = dimages != NULL;
    memset(ex->zeroed, 0, (size_t)ex->n);
    float *d_out = dbuf(ex, g->output, 1);
    nr_add_inplace(d_out, dout, numel(&g->layers[g->output], ex->B));
    for (int i = ex->n - 1; i > 0; i--) {
        if (!ex->live_out[i]) continue;
        const float *dy = dbuf(ex, i, 1);
        if (hook) hook(ctx, g, i, ex->val[i], dy, ex->B);
        layer_backward(ex, i, dy, grad, want_input);
    }
    if (want_input && ex->zeroed[0]) nr_add_inplace(dimages, ex->blocks[ex->dblock[0]], numel(&g->layers[0], ex->B));
    return NR_OK;
}
