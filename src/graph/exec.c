/* nasrank — the graph executor (include/nasrank/graph_exec.h).
 *
 * Planning (once per executor, plan()):
 *   run[i]       layer i is computed: live for the output, or (observe_relu_inputs) for a
 *                ReLU input (nr_graph_liveness);
 *   live_out[i]  it reaches the output: it has a gradient (layer 0's is handed out only
 *                when the caller asks for dimages);
 *   keep[i]      its value survives the forward (the output; with backward, what backward
 *                kernels and the gradient hook read: mark_kept);
 *   blocks       buffers sized for max_batch, handed out by take_block: a value takes the
 *                smallest free block that fits when it is computed and gives it back after
 *                its last reader ran unless kept; a gradient takes a block when its highest
 *                consumer's backward first writes it and gives it back after its own
 *                backward; gradients use only blocks no kept value holds.
 * Forward runs the layers in order, backward in reverse; every backward kernel adds into
 * its input gradients, so a layer read by several others collects the sum (in the order
 * of its readers, highest first).
 */
#include <math.h>
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
    unsigned char *keep;       /* value kept after the forward (backward reads it) */
    int *last_read;            /* last layer reading layer i's value (i itself when none) */
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
    unsigned char *cut;        /* rescale: layer i's output is rescaled */
    float *scale;              /* the factor applied to layer i's output in the last forward */
    double log2_scale;
    uint64_t **mask;           /* relu_masks: on/off bits per ReLU layer */
    int relu_mode, masks_recorded;
    int *alias;                /* alias[i] = i, or the earlier identical ReLU a duplicate reads as */
    unsigned char *fused;      /* ReLU computed inside its consumer convs' input copies */
    float *relu_scratch;       /* a fused ReLU's output, recomputed for a conv's weight gradient */
    size_t relu_scratch_size;
};

/* Input k of layer l as the executor reads it: duplicate ReLUs resolved to the first. */
static int input_of(const nr_exec *ex, const nr_layer *l, int k) { return ex->alias[l->inputs[k]]; }

static size_t numel(const nr_layer *l, int B) { return (size_t)B * l->C * l->H * l->W; }

/* ------------------------------------------------------------------ the buffer pool */

struct nr_exec_pool {
    float **buf;
    size_t *cap; /* floats */
    int n, max;
};

nr_status nr_exec_pool_create(nr_exec_pool **out, nr_error *err)
{
    *out = calloc(1, sizeof **out);
    return *out ? NR_OK : nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for a buffer pool");
}

void nr_exec_pool_free(nr_exec_pool *pool)
{
    if (!pool) return;
    for (int i = 0; i < pool->n; i++) free(pool->buf[i]);
    free(pool->buf);
    free(pool->cap);
    free(pool);
}

/* A buffer of at least *n floats: the smallest pooled one that fits, else a new one; *n
 * becomes its capacity. */
static float *pool_take(nr_exec_pool *pool, size_t *n)
{
    if (!*n) *n = 1;
    int best = -1;
    for (int i = 0; pool && i < pool->n; i++)
        if (pool->cap[i] >= *n && (best < 0 || pool->cap[i] < pool->cap[best])) best = i;
    if (best < 0) return malloc(*n * sizeof(float));
    float *p = pool->buf[best];
    *n = pool->cap[best];
    pool->buf[best] = pool->buf[--pool->n];
    pool->cap[best] = pool->cap[pool->n];
    return p;
}

/* Gives a buffer of n floats back (frees it when there is no pool or no room). */
static void pool_give(nr_exec_pool *pool, float *p, size_t n)
{
    if (!p) return;
    if (!pool) {
        free(p);
        return;
    }
    if (pool->n == pool->max) {
        int max = pool->max ? 2 * pool->max : 32;
        float **b = realloc(pool->buf, (size_t)max * sizeof *b);
        if (b) pool->buf = b;
        size_t *c = b ? realloc(pool->cap, (size_t)max * sizeof *c) : NULL;
        if (c) pool->cap = c;
        if (!b || !c) {
            free(p);
            return;
        }
        pool->max = max;
    }
    pool->buf[pool->n] = p;
    pool->cap[pool->n++] = n ? n : 1;
}

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

/* Values the backward pass reads stay in their blocks after the forward: the inputs of the
 * layers whose backward reads them (conv and linear for the weight gradient, batch norm,
 * ReLU, max pool), the outputs of conv and linear layers (a gradient hook's y) and the
 * graph output.  Every other value is dropped after its last forward reader. */
static void mark_kept(nr_exec *ex)
{
    const nr_graph *g = ex->g;
    for (int i = 1; i < ex->n; i++) {
        const nr_layer *l = &g->layers[i];
        if (!ex->live_out[i]) continue;
        if (l->kind == NR_LAYER_CONV || l->kind == NR_LAYER_LINEAR) ex->keep[i] = 1;
        if (l->kind == NR_LAYER_CONV || l->kind == NR_LAYER_LINEAR || l->kind == NR_LAYER_BATCHNORM ||
            l->kind == NR_LAYER_RELU || l->kind == NR_LAYER_MAXPOOL)
            ex->keep[input_of(ex, l, 0)] = 1;
    }
}

/* Layer i is a cut when no edge j -> k with j < i < k bypasses it: every path from the input
 * to the output runs through it (and, the layers being in topological order, everything
 * after it reads only values scaled alike). */
static void mark_cuts(nr_exec *ex)
{
    const nr_graph *g = ex->g;
    int reach = 0; /* the furthest layer read by a computed layer before i */
    for (int i = 0; i < ex->n; i++) {
        if (i > 0 && i < g->output && reach <= i && ex->run[i]) ex->cut[i] = 1;
        if (ex->run[i] && ex->last_read[i] > reach) reach = ex->last_read[i];
    }
}

/* Rule: ReLU layers with the same input and clip compute the same tensor; every one after
 * the first is an alias of it (its readers read the first; so does the gradient). */
static void alias_relus(nr_exec *ex)
{
    const nr_graph *g = ex->g;
    for (int i = 0; i < ex->n; i++) {
        ex->alias[i] = i;
        const nr_layer *l = &g->layers[i];
        if (l->kind != NR_LAYER_RELU) continue;
        for (int j = l->inputs[0] + 1; j < i; j++) {
            const nr_layer *o = &g->layers[j];
            if (o->kind == NR_LAYER_RELU && ex->alias[j] == j && o->inputs[0] == l->inputs[0] && o->clip == l->clip) {
                ex->alias[i] = j;
                break;
            }
        }
    }
}

/* nr_graph_liveness over the inputs as the executor reads them (aliases never run). */
static void liveness(const nr_exec *ex, int observe_relu_inputs, unsigned char *live)
{
    const nr_graph *g = ex->g;
    memset(live, 0, (size_t)ex->n);
    live[ex->alias[g->output]] = 1;
    for (int i = ex->n - 1; i >= 0; i--) {
        const nr_layer *l = &g->layers[i];
        if (observe_relu_inputs && l->kind == NR_LAYER_RELU) live[input_of(ex, l, 0)] = 1;
        if (ex->alias[i] != i) {
            if (live[i]) live[ex->alias[i]] = 1;
            live[i] = 0;
            continue;
        }
        if (!live[i] || l->kind == NR_LAYER_ZERO) continue;
        for (int k = 0; k < l->n_inputs; k++) live[input_of(ex, l, k)] = 1;
    }
}

/* Rule: a plain ReLU whose every computed reader is a fast conv is never materialised: the
 * convs apply it while they copy their input (nr_relu_conv2d_forward, the same result), and
 * a conv's weight gradient recomputes it into one scratch buffer.  Not with frozen masks
 * (relu_masks), whose ReLUs must exist. */
static void fuse_relus(nr_exec *ex)
{
    const nr_graph *g = ex->g;
    for (int r = 1; r < ex->n; r++) {
        const nr_layer *l = &g->layers[r];
        if (l->kind != NR_LAYER_RELU || l->clip || !ex->run[r] || r == ex->alias[g->output] ||
            ex->opt.relu_masks || ex->opt.reference)
            continue;
        int readers = 0, all_conv = 1;
        for (int i = r + 1; i < ex->n; i++) {
            const nr_layer *c = &g->layers[i];
            if (c->kind == NR_LAYER_RELU && input_of(ex, c, 0) == r) all_conv = 0; /* a sink may watch r */
            if (!ex->run[i]) continue;
            for (int k = 0; k < c->n_inputs; k++)
                if (input_of(ex, c, k) == r) {
                    readers++;
                    if (c->kind != NR_LAYER_CONV || !ex->fast[i]) all_conv = 0;
                }
        }
        ex->fused[r] = readers > 0 && all_conv;
    }
}

static nr_status plan(nr_exec *ex, nr_error *err)
{
    const nr_graph *g = ex->g;
    int n = ex->n, B = ex->max_batch;
    alias_relus(ex);
    liveness(ex, ex->opt.observe_relu_inputs, ex->run);
    liveness(ex, 0, ex->live_out);
    for (int i = 0; i < n; i++) {
        ex->last_read[i] = i;
        ex->vblock[i] = ex->dblock[i] = -1;
        ex->fast[i] = !ex->opt.reference && has_fast_kernel(&g->layers[i]);
    }
    fuse_relus(ex);
    /* readers: the last computed one frees a value (a fused ReLU's readers read its input) */
    for (int i = 1; i < n; i++) {
        const nr_layer *l = &g->layers[i];
        for (int k = 0; k < l->n_inputs; k++) {
            if (l->kind == NR_LAYER_RELU) ex->relu_count[l->inputs[k]]++;
            if (l->kind == NR_LAYER_ZERO || !ex->run[i]) continue; /* zero reads only the shape */
            int j = input_of(ex, l, k);
            ex->last_read[j] = i;
            if (ex->fused[j]) ex->last_read[input_of(ex, &g->layers[j], 0)] = i;
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
    ex->keep[g->output] = 1;
    if (ex->opt.backward) mark_kept(ex);
    size_t scratch = 0;
    for (int i = 1; i < n; i++) {
        if (!ex->run[i]) continue;
        const nr_layer *l = &g->layers[i];
        if (ex->fused[i]) { /* no value of its own */
            if (numel(l, B) > scratch) scratch = numel(l, B);
            continue;
        }
        if ((ex->vblock[i] = take_block(&p, numel(l, B))) < 0) goto nomem_pool;
        for (int k = 0; k < l->n_inputs; k++) {
            int j = input_of(ex, l, k);
            if (ex->fused[j]) j = input_of(ex, &g->layers[j], 0);
            if (j > 0 && ex->vblock[j] >= 0 && ex->last_read[j] == i && !ex->keep[j]) p.busy[ex->vblock[j]] = 0;
        }
        if (ex->last_read[i] == i && !ex->keep[i]) p.busy[ex->vblock[i]] = 0;
    }
    ex->relu_scratch_size = ex->opt.backward ? scratch : 0;
    if (ex->opt.backward) {
        /* gradients, from the output back, in the blocks no kept value holds */
        for (int i = n - 1; i >= 0; i--) {
            if (!ex->live_out[i]) continue;
            if (ex->dblock[i] < 0 && (ex->dblock[i] = take_block(&p, numel(&g->layers[i], B))) < 0)
                goto nomem_pool;
            const nr_layer *l = &g->layers[i];
            for (int k = 0; i > 0 && l->kind != NR_LAYER_ZERO && k < l->n_inputs; k++) {
                int j = input_of(ex, l, k);
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
        if (!(ex->blocks[b] = pool_take(ex->opt.pool, &ex->block_size[b]))) goto nomem;
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
    if (!(ex->ws = pool_take(ex->opt.pool, &ex->ws_size))) goto nomem;
    if (ex->relu_scratch_size && !(ex->relu_scratch = pool_take(ex->opt.pool, &ex->relu_scratch_size))) goto nomem;
    if (ex->opt.rescale) mark_cuts(ex);
    for (int i = 1; ex->opt.relu_masks && i < n; i++)
        if (g->layers[i].kind == NR_LAYER_RELU && ex->run[i] &&
            !(ex->mask[i] = malloc((numel(&g->layers[i], B) + 63) / 64 * sizeof(uint64_t))))
            goto nomem;
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
    ex->relu_count = calloc((size_t)n, sizeof(int));
    ex->relus = calloc((size_t)n, sizeof(int *));
    ex->vblock = calloc((size_t)n, sizeof(int));
    ex->dblock = calloc((size_t)n, sizeof(int));
    ex->val = calloc((size_t)n, sizeof(float *));
    ex->mean = calloc((size_t)n, sizeof(float *));
    ex->rstd = calloc((size_t)n, sizeof(float *));
    ex->cut = calloc((size_t)n, 1);
    ex->keep = calloc((size_t)n, 1);
    ex->alias = calloc((size_t)n, sizeof(int));
    ex->fused = calloc((size_t)n, 1);
    ex->scale = calloc((size_t)n, sizeof(float));
    ex->mask = calloc((size_t)n, sizeof(uint64_t *));
    nr_status st = NR_ERR_NOMEM;
    if (!ex->run || !ex->live_out || !ex->fast || !ex->zeroed || !ex->last_read ||
        !ex->relu_count || !ex->relus || !ex->vblock || !ex->dblock || !ex->val || !ex->mean || !ex->rstd ||
        !ex->cut || !ex->keep || !ex->scale || !ex->mask || !ex->alias || !ex->fused) {
        nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for an executor");
        goto fail;
    }
    for (int i = 0; i < n; i++) ex->scale[i] = 1.0f;
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
    for (int i = 0; ex->mask && i < ex->n; i++) free(ex->mask[i]);
    free(ex->cut);
    free(ex->keep);
    free(ex->alias);
    free(ex->fused);
    pool_give(ex->opt.pool, ex->relu_scratch, ex->relu_scratch_size);
    free(ex->scale);
    free(ex->mask);
    for (int b = 0; ex->blocks && b < ex->n_blocks; b++) pool_give(ex->opt.pool, ex->blocks[b], ex->block_size[b]);
    free(ex->blocks);
    free(ex->block_size);
    free(ex->run);
    free(ex->live_out);
    free(ex->fast);
    free(ex->zeroed);
    free(ex->last_read);
    free(ex->relu_count);
    free(ex->relus);
    free(ex->vblock);
    free(ex->dblock);
    free(ex->val);
    free(ex->mean);
    free(ex->rstd);
    pool_give(ex->opt.pool, ex->ws, ex->ws_size);
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
    const nr_layer *l = &g->layers[i], *xl = &g->layers[input_of(ex, l, 0)];
    int B = ex->B;
    float *y = ex->val[i];
    int xi = input_of(ex, l, 0), relu_in = ex->fused[xi];
    const float *x = ex->val[relu_in ? input_of(ex, &g->layers[xi], 0) : xi];
    size_t ny = numel(l, B), nx = numel(xl, B);
    int HW = l->H * l->W;
    nr_window s = window_of(l, xl, B);
    switch (l->kind) {
    case NR_LAYER_CONV:
        if (relu_in) nr_relu_conv2d_forward(y, x, param(ex, l, 0), B, xl->C, xl->H, xl->W, l->C, l->kernel, l->stride, l->pad, ex->ws);
        else if (ex->fast[i]) nr_conv2d_forward(y, x, param(ex, l, 0), B, xl->C, xl->H, xl->W, l->C, l->kernel, l->stride, l->pad, ex->ws);
        else nr_ref_conv_forward(y, x, param(ex, l, 0), &s);
        break;
    case NR_LAYER_BATCHNORM:
        if (ex->opt.no_bn) memcpy(y, x, ny * sizeof *y);
        else if (ex->opt.reference)
            nr_ref_batchnorm_forward(y, ex->mean[i], ex->rstd[i], x, l->affine ? param(ex, l, 0) : NULL,
                                     l->affine ? param(ex, l, 1) : NULL, B, l->C, HW, BN_EPS);
        else nr_batchnorm_forward(y, ex->mean[i], ex->rstd[i], x, l->affine ? param(ex, l, 0) : NULL,
                                  l->affine ? param(ex, l, 1) : NULL, B, l->C, HW, BN_EPS);
        break;
    case NR_LAYER_RELU:
        if (ex->mask[i] && ex->relu_mode == 2 && ex->masks_recorded) {
            nr_relu_forward_masked(y, x, ex->mask[i], ny);
            if (l->clip) nr_ref_relu_forward(y, y, ny, (float)l->clip); /* clips only: y >= 0 */
            break;
        }
        if (ex->mask[i] && ex->relu_mode == 1) nr_relu_mask_pack(ex->mask[i], x, ny);
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
        for (int k = 1; k < l->n_inputs; k++) nr_add_inplace(y, ex->val[input_of(ex, l, k)], ny);
        break;
    case NR_LAYER_CONCAT:
        for (int k = 0, c0 = 0; k < l->n_inputs; k++) {
            const nr_layer *in = &g->layers[input_of(ex, l, k)];
            nr_ref_channels_put(y, ex->val[input_of(ex, l, k)], B, l->C, c0, in->C, HW, 0);
            c0 += in->C;
        }
        break;
    case NR_LAYER_SLICE: nr_ref_channels_take(y, x, B, xl->C, l->begin, l->C, HW, 0); break;
    case NR_LAYER_CROP: nr_ref_crop_forward(y, x, B, l->C, xl->H, xl->W, l->top, l->left, l->H, l->W); break;
    case NR_LAYER_ZERO: memset(y, 0, ny * sizeof *y); break;
    case NR_LAYER_IDENTITY: memcpy(y, x, nx * sizeof *y); break;
    case NR_LAYER_GLOBAL_AVGPOOL:
        if (ex->opt.reference) nr_ref_global_avgpool_forward(y, x, B, l->C, xl->H * xl->W);
        else nr_global_avgpool_forward(y, x, B, l->C, xl->H * xl->W);
        break;
    case NR_LAYER_LINEAR: {
        const float *b = l->bias && !ex->opt.no_linear_bias ? param(ex, l, 1) : NULL;
        if (ex->opt.reference) nr_ref_linear_forward(y, x, param(ex, l, 0), b, B, xl->C * xl->H * xl->W, l->C);
        else nr_linear_forward(y, x, param(ex, l, 0), b, B, xl->C * xl->H * xl->W, l->C);
        break;
    }
    default: break;
    }
}

/* Multiplies x by a power of two that brings max|x| near 1; returns the factor. */
static float rescale(nr_exec *ex, float *x, size_t n)
{
    float mx = 0.0f;
    for (size_t i = 0; i < n; i++) mx = fabsf(x[i]) > mx ? fabsf(x[i]) : mx;
    if (!(mx > 0.0f) || !isfinite(mx)) return 1.0f;
    int e;
    frexpf(mx, &e);
    float s = ldexpf(1.0f, -e);
    for (size_t i = 0; i < n; i++) x[i] *= s;
    ex->log2_scale -= e;
    return s;
}

void nr_exec_set_relu_mode(nr_exec *ex, int mode)
{
    if (ex->opt.relu_masks && mode >= 0 && mode <= 2) ex->relu_mode = mode;
}

double nr_exec_log2_scale(const nr_exec *ex) { return ex->log2_scale; }

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
    ex->log2_scale = 0.0;
    if (ex->relu_mode == 0 || (ex->relu_mode == 2 && !ex->masks_recorded)) ex->masks_recorded = 0;
    ex->val[0] = (float *)images; /* read only: no layer writes layer 0 */
    for (int i = 0; i < ex->n; i++) {
        if (!ex->run[i]) continue;
        if (i > 0 && !ex->fused[i]) layer_forward(ex, i);
        ex->scale[i] = ex->cut[i] && ex->val[i] ? rescale(ex, ex->val[i], numel(&g->layers[i], B)) : 1.0f;
        if (sink && ex->relu_count[i]) {
            const nr_layer *l = &g->layers[i];
            nr_relu_input a = {i, ex->val[i], B, l->C, l->H, l->W, ex->relu_count[i], ex->relus[i]};
            sink(ctx, &a);
        }
    }
    if (ex->relu_mode == 1) ex->masks_recorded = 1;
    if (out) memcpy(out, ex->val[ex->alias[g->output]], numel(&g->layers[g->output], B) * sizeof *out);
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
    const nr_layer *l = &g->layers[i], *xl = &g->layers[input_of(ex, l, 0)];
    int B = ex->B, HW = l->H * l->W;
    int xi = input_of(ex, l, 0);
    const float *x = ex->val[xi];
    size_t ny = numel(l, B);
    nr_window s = window_of(l, xl, B);
    if (l->kind == NR_LAYER_ZERO || l->kind == NR_LAYER_INPUT) return;
    if (l->kind == NR_LAYER_ADD || l->kind == NR_LAYER_CONCAT) {
        for (int k = 0, c0 = 0; k < l->n_inputs; k++) {
            const nr_layer *in = &g->layers[input_of(ex, l, k)];
            float *dx = dbuf(ex, input_of(ex, l, k), want_input);
            if (dx && l->kind == NR_LAYER_ADD) nr_add_inplace(dx, dy, ny);
            else if (dx) nr_ref_channels_take(dx, dy, B, l->C, c0, in->C, HW, 1);
            c0 += in->C;
        }
        return;
    }
    float *dx = dbuf(ex, xi, want_input);
    if (l->kind == NR_LAYER_CONV && ex->fused[xi]) { /* its input, relu(x), recomputed for dW */
        float *dw = gslot(ex, grad, l, 0);
        if (dw) nr_relu_forward(ex->relu_scratch, ex->val[input_of(ex, xl, 0)], numel(xl, B));
        nr_conv2d_backward(dx, dw, dy, ex->relu_scratch, param(ex, l, 0), B, xl->C, xl->H, xl->W, l->C,
                           l->kernel, l->stride, l->pad, ex->ws);
        return;
    }
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
        } else if (ex->opt.reference) {
            nr_ref_batchnorm_backward(dx, l->affine ? gslot(ex, grad, l, 0) : NULL, l->affine ? gslot(ex, grad, l, 1) : NULL,
                                      dy, x, l->affine ? param(ex, l, 0) : NULL, B, l->C, HW, BN_EPS);
        } else {
            nr_batchnorm_backward(dx, l->affine ? gslot(ex, grad, l, 0) : NULL, l->affine ? gslot(ex, grad, l, 1) : NULL,
                                  dy, x, ex->mean[i], ex->rstd[i], l->affine ? param(ex, l, 0) : NULL, B, l->C, HW);
        }
        break;
    case NR_LAYER_RELU:
        if (!dx) break;
        if (ex->mask[i] && ex->masks_recorded && !l->clip) nr_relu_backward_masked(dx, dy, ex->mask[i], ny);
        else if (ex->fast[i]) nr_relu_backward(dx, dy, x, ny);
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
        if (dx && ex->opt.reference) nr_ref_global_avgpool_backward(dx, dy, B, l->C, xl->H * xl->W);
        else if (dx) nr_global_avgpool_backward(dx, dy, B, l->C, xl->H * xl->W);
        break;
    case NR_LAYER_LINEAR: {
        float *db = l->bias && !ex->opt.no_linear_bias ? gslot(ex, grad, l, 1) : NULL;
        if (ex->opt.reference)
            nr_ref_linear_backward(dx, gslot(ex, grad, l, 0), db, dy, x, param(ex, l, 0), B, xl->C * xl->H * xl->W, l->C);
        else
            nr_linear_backward(dx, gslot(ex, grad, l, 0), db, dy, x, param(ex, l, 0), B, xl->C * xl->H * xl->W, l->C);
        break;
    }
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
    float *d_out = dbuf(ex, ex->alias[g->output], 1);
    nr_add_inplace(d_out, dout, numel(&g->layers[g->output], ex->B));
    for (int i = ex->n - 1; i > 0; i--) {
        if (!ex->live_out[i]) continue;
        float *dy = dbuf(ex, i, 1);
        size_t ny = numel(&g->layers[i], ex->B);
        if (hook) hook(ctx, g, i, ex->val[i], dy, ex->B);
        if (ex->scale[i] != 1.0f) /* y' = s y: dR/dy = s dR/dy' */
            for (size_t k = 0; k < ny; k++) dy[k] *= ex->scale[i];
        layer_backward(ex, i, dy, grad, want_input);
    }
    if (want_input && ex->zeroed[0]) nr_add_inplace(dimages, ex->blocks[ex->dblock[0]], numel(&g->layers[0], ex->B));
    return NR_OK;
}
