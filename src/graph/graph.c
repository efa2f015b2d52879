/* nasrank — building a network graph: shape inference, parameter layout and init.
 *
 * Builder calls check their arguments against the shapes of their inputs and record the
 * first failure in the graph (later calls then return -1 without doing anything), so a
 * space's builder reads as a plain list of layers and checks once, at nr_graph_finish.
 */
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph_internal.h"
#include "nasrank/rng.h"

#define MAX_DIM 65536
#define MAX_LAYERS 1000000

static const char *const KIND_NAMES[NR_NUM_LAYER_KINDS] = {
    "input", "conv", "batchnorm", "relu", "avgpool", "maxpool", "add",
    "concat", "slice", "crop", "zero", "identity", "global_avgpool", "linear",
};

const char *nr_layer_kind_name(int kind)
{
    return kind >= 0 && kind < NR_NUM_LAYER_KINDS ? KIND_NAMES[kind] : NULL;
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int fail(nr_graph *g, nr_status code, const char *fmt, ...)
{
    if (g->build_err.code == NR_OK) {
        char text[sizeof g->build_err.text];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(text, sizeof text, fmt, ap);
        va_end(ap);
        nr_error_set(&g->build_err, code, NULL, 0, 0, "layer %d: %s", g->n_layers, text);
    }
    return -1;
}

nr_status nr_graph_new(int in_channels, int H, int W, nr_graph **out, nr_error *err)
{
    *out = NULL;
    if (in_channels < 1 || in_channels > MAX_DIM || H < 1 || H > MAX_DIM || W < 1 || W > MAX_DIM)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "bad graph input shape (%d, %d, %d)",
                            in_channels, H, W);
    nr_graph *g = calloc(1, sizeof *g);
    if (!g) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for a graph");
    g->output = -1;
    g->cap_layers = 64;
    g->layers = calloc((size_t)g->cap_layers, sizeof *g->layers);
    if (!g->layers) {
        free(g);
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for a graph");
    }
    nr_layer *in = &g->layers[0];
    in->kind = NR_LAYER_INPUT;
    in->C = in_channels;
    in->H = H;
    in->W = W;
    in->param = -1;
    in->name = "";
    g->n_layers = 1;
    *out = g;
    return NR_OK;
}

void nr_graph_free(nr_graph *g)
{
    if (!g) return;
    for (int i = 0; i < g->n_layers; i++) {
        free((void *)g->layers[i].inputs);
        if (g->layers[i].name && g->layers[i].name[0]) free((void *)g->layers[i].name);
    }
    for (size_t t = 0; t < g->n_tensors; t++) free((void *)g->tensors[t].name);
    free(g->layers);
    free(g->tensors);
    free(g->params);
    free(g);
}

/* ------------------------------------------------------------------ adding layers */

static int usable(nr_graph *g)
{
    if (g->build_err.code != NR_OK) return 0;
    if (g->finished) {
        fail(g, NR_ERR_INVALID, "the graph is finished: no more layers");
        return 0;
    }
    return 1;
}

static int check_input(nr_graph *g, int in)
{
    if (in < 0 || in >= g->n_layers) return fail(g, NR_ERR_INVALID, "input %d is not an earlier layer", in);
    return 0;
}

static char *copy_name(const char *s)
{
    if (!s || !s[0]) return (char *)"";
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

/* Appends a layer of this kind reading ins[0..n-1]; its shape and attributes are the
 * caller's to fill.  NULL after a failure. */
static nr_layer *append(nr_graph *g, nr_layer_kind kind, int n, const int *ins, const char *name)
{
    if (!usable(g)) return NULL;
    if (n < 1 || n > MAX_LAYERS) {
        fail(g, NR_ERR_INVALID, "%s with %d inputs", nr_layer_kind_name(kind), n);
        return NULL;
    }
    for (int i = 0; i < n; i++)
        if (check_input(g, ins[i])) return NULL;
    if (g->n_layers >= MAX_LAYERS) {
        fail(g, NR_ERR_INVALID, "more than %d layers", MAX_LAYERS);
        return NULL;
    }
    if (g->n_layers == g->cap_layers) {
        nr_layer *l = realloc(g->layers, (size_t)g->cap_layers * 2 * sizeof *l);
        if (!l) {
            fail(g, NR_ERR_NOMEM, "out of memory");
            return NULL;
        }
        g->layers = l;
        g->cap_layers *= 2;
    }
    int *copy = malloc((size_t)n * sizeof *copy);
    char *nm = copy_name(name);
    if (!copy || !nm) {
        free(copy);
        if (nm && nm[0]) free(nm);
        fail(g, NR_ERR_NOMEM, "out of memory");
        return NULL;
    }
    memcpy(copy, ins, (size_t)n * sizeof *copy);
    nr_layer *l = &g->layers[g->n_layers];
    memset(l, 0, sizeof *l);
    l->kind = kind;
    l->n_inputs = n;
    l->inputs = copy;
    l->param = -1;
    l->name = nm;
    return l;
}

static const nr_layer *input_of(const nr_graph *g, const nr_layer *l, int i)
{
    return &g->layers[l->inputs[i]];
}

/* Records a parameter tensor of the layer being added (the last appended one). */
static int add_tensor(nr_graph *g, nr_layer *l, const char *suffix, int ndim, const int *shape)
{
    if (g->n_tensors == g->cap_tensors) {
        size_t cap = g->cap_tensors ? 2 * g->cap_tensors : 64;
        nr_param_tensor *t = realloc(g->tensors, cap * sizeof *t);
        if (!t) return fail(g, NR_ERR_NOMEM, "out of memory");
        g->tensors = t;
        g->cap_tensors = cap;
    }
    char buf[512];
    int len = snprintf(buf, sizeof buf, "%s.%s", l->name, suffix);
    if (len < 0 || (size_t)len >= sizeof buf) return fail(g, NR_ERR_INVALID, "parameter name too long");
    char *nm = copy_name(buf);
    if (!nm) return fail(g, NR_ERR_NOMEM, "out of memory");
    nr_param_tensor *t = &g->tensors[g->n_tensors];
    memset(t, 0, sizeof *t);
    t->name = nm;
    t->offset = g->n_params;
    t->layer = g->n_layers;
    t->ndim = ndim;
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        t->shape[d] = shape[d];
        numel *= (size_t)shape[d];
    }
    t->numel = numel;
    if (l->param < 0) l->param = (int)g->n_tensors;
    l->n_params++;
    g->n_tensors++;
    g->n_params += numel;
    return 0;
}

/* Makes the appended layer part of the graph (or drops it after a failure). */
static int commit(nr_graph *g, nr_layer *l)
{
    if (g->build_err.code != NR_OK) {
        free((void *)l->inputs);
        if (l->name[0]) free((void *)l->name);
        /* tensors already recorded for it are dropped with the graph's failure */
        return -1;
    }
    if (l->C < 1 || l->H < 1 || l->W < 1 || (double)l->C * l->H * l->W > (double)INT_MAX) {
        fail(g, NR_ERR_INVALID, "%s gives the empty or oversized shape (%d, %d, %d)",
             nr_layer_kind_name(l->kind), l->C, l->H, l->W);
        free((void *)l->inputs);
        if (l->name[0]) free((void *)l->name);
        return -1;
    }
    return g->n_layers++;
}

static int need_name(nr_graph *g, const char *name, const char *what)
{
    if (!name || !name[0]) return fail(g, NR_ERR_INVALID, "%s without a name (its parameters need one)", what);
    return 0;
}

/* Output size of a sliding window: floor((n + 2p - span) / s) + 1, or 0 when it does not fit. */
static int window_out(int n, int pad, int span, int stride)
{
    long v = (long)n + 2L * pad - span;
    return v < 0 ? 0 : (int)(v / stride) + 1;
}

int nr_graph_conv(nr_graph *g, int in, const char *name, int out_channels, int kernel,
                  int stride, int pad, int dilation, int groups)
{
    if (!usable(g) || need_name(g, name, "conv")) return -1;
    nr_layer *l = append(g, NR_LAYER_CONV, 1, &in, name);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    if (out_channels < 1 || out_channels > MAX_DIM || kernel < 1 || kernel > 64 || stride < 1 ||
        stride > 64 || pad < 0 || pad > 64 || dilation < 1 || dilation > 64 || groups < 1 ||
        x->C % groups || out_channels % groups)
        fail(g, NR_ERR_INVALID, "conv %s: out_channels %d, kernel %d, stride %d, pad %d, dilation %d, "
             "groups %d on %d input channels", name, out_channels, kernel, stride, pad, dilation,
             groups, x->C);
    l->kernel = kernel;
    l->stride = stride;
    l->pad = pad;
    l->dilation = dilation;
    l->groups = groups;
    l->C = out_channels;
    int span = dilation * (kernel - 1) + 1;
    l->H = window_out(x->H, pad, span, stride);
    l->W = window_out(x->W, pad, span, stride);
    int shape[4] = {out_channels, x->C / (groups > 0 ? groups : 1), kernel, kernel};
    if (g->build_err.code == NR_OK) add_tensor(g, l, "weight", 4, shape);
    return commit(g, l);
}

int nr_graph_batchnorm(nr_graph *g, int in, const char *name, int affine)
{
    if (!usable(g) || (affine && need_name(g, name, "affine batchnorm"))) return -1;
    nr_layer *l = append(g, NR_LAYER_BATCHNORM, 1, &in, name);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    l->C = x->C;
    l->H = x->H;
    l->W = x->W;
    l->affine = affine != 0;
    if (l->affine) {
        add_tensor(g, l, "weight", 1, &l->C);
        if (g->build_err.code == NR_OK) add_tensor(g, l, "bias", 1, &l->C);
    }
    return commit(g, l);
}

/* The layers that keep their input's shape and have no parameters. */
static int same_shape(nr_graph *g, nr_layer_kind kind, int in)
{
    nr_layer *l = append(g, kind, 1, &in, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    l->C = x->C;
    l->H = x->H;
    l->W = x->W;
    return commit(g, l);
}

int nr_graph_relu(nr_graph *g, int in, int clip)
{
    if (!usable(g)) return -1;
    if (clip < 0) return fail(g, NR_ERR_INVALID, "relu clip %d < 0", clip);
    int i = same_shape(g, NR_LAYER_RELU, in);
    if (i >= 0) g->layers[i].clip = clip;
    return i;
}

int nr_graph_identity(nr_graph *g, int in) { return same_shape(g, NR_LAYER_IDENTITY, in); }

static int pool(nr_graph *g, nr_layer_kind kind, int in, int kernel, int stride, int pad)
{
    nr_layer *l = append(g, kind, 1, &in, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    /* PyTorch's own limit: the padding is at most half the window */
    if (kernel < 1 || kernel > 64 || stride < 1 || stride > 64 || pad < 0 || 2 * pad > kernel)
        fail(g, NR_ERR_INVALID, "%s: kernel %d, stride %d, pad %d (need pad <= kernel/2)",
             nr_layer_kind_name(kind), kernel, stride, pad);
    l->kernel = kernel;
    l->stride = stride;
    l->pad = pad;
    l->C = x->C;
    l->H = window_out(x->H, pad, kernel, stride);
    l->W = window_out(x->W, pad, kernel, stride);
    return commit(g, l);
}

int nr_graph_avgpool(nr_graph *g, int in, int kernel, int stride, int pad, int count_include_pad)
{
    int i = pool(g, NR_LAYER_AVGPOOL, in, kernel, stride, pad);
    if (i >= 0) g->layers[i].count_include_pad = count_include_pad != 0;
    return i;
}

int nr_graph_maxpool(nr_graph *g, int in, int kernel, int stride, int pad)
{
    return pool(g, NR_LAYER_MAXPOOL, in, kernel, stride, pad);
}

int nr_graph_add(nr_graph *g, int n, const int *ins)
{
    nr_layer *l = append(g, NR_LAYER_ADD, n, ins, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    for (int i = 1; i < n; i++) {
        const nr_layer *y = input_of(g, l, i);
        if (y->C != x->C || y->H != x->H || y->W != x->W)
            fail(g, NR_ERR_INVALID, "add of (%d, %d, %d) and (%d, %d, %d)", x->C, x->H, x->W, y->C, y->H, y->W);
    }
    l->C = x->C;
    l->H = x->H;
    l->W = x->W;
    return commit(g, l);
}

int nr_graph_concat(nr_graph *g, int n, const int *ins)
{
    nr_layer *l = append(g, NR_LAYER_CONCAT, n, ins, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    long C = 0;
    for (int i = 0; i < n; i++) {
        const nr_layer *y = input_of(g, l, i);
        if (y->H != x->H || y->W != x->W)
            fail(g, NR_ERR_INVALID, "concat of %dx%d and %dx%d maps", x->H, x->W, y->H, y->W);
        C += y->C;
    }
    l->C = C > MAX_DIM ? 0 : (int)C;
    l->H = x->H;
    l->W = x->W;
    return commit(g, l);
}

int nr_graph_slice(nr_graph *g, int in, int begin, int end)
{
    nr_layer *l = append(g, NR_LAYER_SLICE, 1, &in, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    if (begin < 0 || end <= begin || end > x->C)
        fail(g, NR_ERR_INVALID, "slice [%d, %d) of %d channels", begin, end, x->C);
    l->begin = begin;
    l->end = end;
    l->C = end - begin;
    l->H = x->H;
    l->W = x->W;
    return commit(g, l);
}

int nr_graph_crop(nr_graph *g, int in, int top, int left, int H, int W)
{
    nr_layer *l = append(g, NR_LAYER_CROP, 1, &in, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    if (top < 0 || left < 0 || H < 1 || W < 1 || (long)top + H > x->H || (long)left + W > x->W)
        fail(g, NR_ERR_INVALID, "crop %dx%d at (%d, %d) of a %dx%d map", H, W, top, left, x->H, x->W);
    l->top = top;
    l->left = left;
    l->C = x->C;
    l->H = H;
    l->W = W;
    return commit(g, l);
}

int nr_graph_zero(nr_graph *g, int in, int stride)
{
    nr_layer *l = append(g, NR_LAYER_ZERO, 1, &in, NULL);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    if (stride < 1 || stride > 64) fail(g, NR_ERR_INVALID, "zero with stride %d", stride);
    int s = stride < 1 ? 1 : stride;
    l->stride = s;
    l->C = x->C;
    l->H = (x->H + s - 1) / s;
    l->W = (x->W + s - 1) / s;
    return commit(g, l);
}

int nr_graph_global_avgpool(nr_graph *g, int in)
{
    nr_layer *l = append(g, NR_LAYER_GLOBAL_AVGPOOL, 1, &in, NULL);
    if (!l) return -1;
    l->C = input_of(g, l, 0)->C;
    l->H = l->W = 1;
    return commit(g, l);
}

int nr_graph_linear(nr_graph *g, int in, const char *name, int out_features, int bias)
{
    if (!usable(g) || need_name(g, name, "linear")) return -1;
    nr_layer *l = append(g, NR_LAYER_LINEAR, 1, &in, name);
    if (!l) return -1;
    const nr_layer *x = input_of(g, l, 0);
    long In = (long)x->C * x->H * x->W;
    if (out_features < 1 || out_features > 1000000 || In > INT_MAX / 2)
        fail(g, NR_ERR_INVALID, "linear %s: %d outputs from %ld inputs", name, out_features, In);
    l->C = out_features;
    l->H = l->W = 1;
    l->bias = bias != 0;
    int shape[2] = {out_features, (int)(In > INT_MAX ? 0 : In)};
    if (g->build_err.code == NR_OK) add_tensor(g, l, "weight", 2, shape);
    if (l->bias && g->build_err.code == NR_OK) add_tensor(g, l, "bias", 1, &l->C);
    return commit(g, l);
}

void nr_graph_set_name(nr_graph *g, int layer, const char *name)
{
    if (!usable(g)) return;
    if (layer < 0 || layer >= g->n_layers) {
        fail(g, NR_ERR_INVALID, "naming layer %d, which does not exist", layer);
        return;
    }
    nr_layer *l = &g->layers[layer];
    if (l->n_params) {
        fail(g, NR_ERR_INVALID, "renaming layer %d: its parameters are named after it", layer);
        return;
    }
    char *nm = copy_name(name);
    if (!nm) {
        fail(g, NR_ERR_NOMEM, "out of memory");
        return;
    }
    if (l->name[0]) free((void *)l->name);
    l->name = nm;
}

void nr_graph_set_output(nr_graph *g, int layer)
{
    if (!usable(g)) return;
    if (layer < 0 || layer >= g->n_layers) fail(g, NR_ERR_INVALID, "output %d is not a layer", layer);
    else g->output = layer;
}

/* ------------------------------------------------------------------ finishing */

/* Fan-in of the uniform init of tensor t, or 0 for a constant init (gamma 1, beta 0). */
static int init_fan_in(const nr_graph *g, const nr_param_tensor *t, int *ones)
{
    const nr_layer *l = &g->layers[t->layer];
    int which = (int)(t - g->tensors) - l->param; /* 0 weight, 1 bias */
    *ones = l->kind == NR_LAYER_BATCHNORM && which == 0;
    return l->kind == NR_LAYER_CONV || l->kind == NR_LAYER_LINEAR ? nr_graph_fan_in(g, t->layer) : 0;
}

int nr_graph_fan_in(const nr_graph *g, int i)
{
    const nr_layer *l = nr_graph_layer(g, i);
    if (!l || l->param < 0 || (l->kind != NR_LAYER_CONV && l->kind != NR_LAYER_LINEAR)) return 0;
    const nr_param_tensor *w = &g->tensors[l->param];
    return l->kind == NR_LAYER_CONV ? w->shape[1] * w->shape[2] * w->shape[3] : w->shape[1];
}

nr_status nr_graph_finish(nr_graph *g, uint64_t seed, nr_error *err)
{
    if (g->build_err.code != NR_OK) {
        if (err && err->code == NR_OK) *err = g->build_err;
        return g->build_err.code;
    }
    if (g->finished) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "the graph is already finished");
    if (g->output < 0) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "the graph has no output layer");
    g->params = malloc((g->n_params ? g->n_params : 1) * sizeof(float));
    if (!g->params)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory: %zu parameters", g->n_params);
    for (size_t i = 0; i < g->n_tensors; i++) {
        const nr_param_tensor *t = &g->tensors[i];
        float *p = g->params + t->offset;
        int ones;
        int fan_in = init_fan_in(g, t, &ones);
        if (fan_in > 0) {
            double bound = 1.0 / sqrt((double)fan_in);
            nr_rng r = nr_rng_stream(seed, t->name);
            for (size_t k = 0; k < t->numel; k++) p[k] = (float)((2.0 * nr_rng_uniform24(&r) - 1.0) * bound);
        } else {
            for (size_t k = 0; k < t->numel; k++) p[k] = ones ? 1.0f : 0.0f;
        }
    }
    g->finished = 1;
    return NR_OK;
}

/* ------------------------------------------------------------------ reading */

int nr_graph_num_layers(const nr_graph *g) { return g->n_layers; }
const nr_layer *nr_graph_layer(const nr_graph *g, int i)
{
    return i >= 0 && i < g->n_layers ? &g->layers[i] : NULL;
}
int nr_graph_output(const nr_graph *g) { return g->output; }
size_t nr_graph_num_params(const nr_graph *g) { return g->n_params; }
size_t nr_graph_num_tensors(const nr_graph *g) { return g->n_tensors; }
const nr_param_tensor *nr_graph_tensor(const nr_graph *g, size_t i)
{
    return i < g->n_tensors ? &g->tensors[i] : NULL;
}
float *nr_graph_params(nr_graph *g) { return g->params; }
const float *nr_graph_params_const(const nr_graph *g) { return g->params; }

long nr_graph_find_tensor(const nr_graph *g, const char *name)
{
    for (size_t i = 0; i < g->n_tensors; i++)
        if (strcmp(g->tensors[i].name, name) == 0) return (long)i;
    return -1;
}

double nr_graph_flops(const nr_graph *g)
{
    double f = 0.0;
    for (int i = 1; i < g->n_layers; i++) {
        const nr_layer *l = &g->layers[i];
        const nr_layer *x = &g->layers[l->inputs[0]];
        if (l->kind == NR_LAYER_CONV)
            f += (double)l->kernel * l->kernel * (x->C / l->groups) * l->C * l->H * l->W;
        else if (l->kind == NR_LAYER_LINEAR)
            f += (double)x->C * x->H * x->W * l->C + (l->bias ? l->C : 0);
    }
    return f;
}

void nr_graph_liveness(const nr_graph *g, int observe_relu_inputs, unsigned char *live)
{
    memset(live, 0, (size_t)g->n_layers);
    if (g->output >= 0) live[g->output] = 1;
    for (int i = g->n_layers - 1; i >= 0; i--) {
        const nr_layer *l = &g->layers[i];
        if (observe_relu_inputs && l->kind == NR_LAYER_RELU) live[l->inputs[0]] = 1;
        if (!live[i] || l->kind == NR_LAYER_ZERO) continue;
        for (int k = 0; k < l->n_inputs; k++) live[l->inputs[k]] = 1;
    }
}
