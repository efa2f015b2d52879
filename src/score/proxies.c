/* nasrank — the zero-cost proxy registry, the per-architecture engine and rank ensembles.
 *
 * The engine builds the network once, then calls each requested proxy's function in a fixed
 * evaluation order (grasp last: its perturbed passes overwrite the tape).  Proxies ask for
 * the shared passes (nr_proxy_need_forward / _grad), which run at most once per
 * architecture; their time is split evenly among the requested proxies that use them.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "nasrank/spaces.h"
#include "ops/ops.h"
#include "ops/ops_backward.h"
#include "score/proxy_internal.h"

static const nr_proxy_info g_registry[NR_NUM_PROXIES] = {
    {"naswot", "log|det K| of the binary ReLU-code kernel (Mellor et al. 2021)", nr_proxy_naswot, 1},
    {"synflow", "sum |w * dR/dw|, R = output of the |w| BN-free net on an all-ones image", nr_proxy_synflow, 0},
    {"snip", "sum |w * dL/dw| over conv/linear weights, L = cross-entropy", nr_proxy_snip, 1},
    {"grad_norm", "sum over conv/linear layers of ||dL/dW||", nr_proxy_grad_norm, 1},
    {"grasp", "-sum w * (H dL/dw) over conv/linear weights", nr_proxy_grasp, 1},
    {"fisher", "sum over conv/linear output channels of 0.5 mean_b (sum a * dL/da)^2 x fan-in", nr_proxy_fisher, 1},
    {"jacob_cov", "-sum log(l+k)+1/(l+k) over eigenvalues of the input-Jacobian correlations", nr_proxy_jacob_cov, 1},
    {"params", "trainable parameters", nr_proxy_params, 0},
    {"flops", "multiply-adds per image, millions", nr_proxy_flops, 0},
};

/* grasp last: its perturbed passes leave the tape at other weights */
static const int g_eval_order[NR_NUM_PROXIES] = {
    NR_PROXY_PARAMS, NR_PROXY_FLOPS, NR_PROXY_NASWOT, NR_PROXY_SYNFLOW, NR_PROXY_SNIP,
    NR_PROXY_GRAD_NORM, NR_PROXY_FISHER, NR_PROXY_JACOB_COV, NR_PROXY_GRASP};

/* Which shared passes each proxy uses. */
static unsigned pass_users(int pass)
{
    unsigned ce = NR_PROXY_BIT(NR_PROXY_SNIP) | NR_PROXY_BIT(NR_PROXY_GRAD_NORM) |
                  NR_PROXY_BIT(NR_PROXY_GRASP) | NR_PROXY_BIT(NR_PROXY_FISHER);
    return pass == PASS_FORWARD ? ce | NR_PROXY_BIT(NR_PROXY_JACOB_COV) : ce;
}

const nr_proxy_info *nr_proxy_info_get(int id)
{
    return id >= 0 && id < NR_NUM_PROXIES ? &g_registry[id] : NULL;
}

int nr_proxy_find(const char *name)
{
    for (int i = 0; i < NR_NUM_PROXIES; i++)
        if (!strcmp(name, g_registry[i].name)) return i;
    return -1;
}

unsigned nr_proxy_default_ensemble(void)
{
    return NR_PROXY_BIT(NR_PROXY_SYNFLOW) | NR_PROXY_BIT(NR_PROXY_JACOB_COV) | NR_PROXY_BIT(NR_PROXY_PARAMS);
}

nr_status nr_proxy_parse_list(const char *list, unsigned *mask, int *want_ensemble,
                              unsigned *ensemble_mask, nr_error *err)
{
    *mask = 0;
    if (want_ensemble) *want_ensemble = 0;
    if (!list) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "empty proxy list");
    const char *p = list;
    int ens = 0, all = 0;
    for (;;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[32];
        if (len == 0 || len >= sizeof item)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "bad proxy list '%s': %s item", list,
                                len ? "over-long" : "empty");
        memcpy(item, p, len);
        item[len] = '\0';
        int id = nr_proxy_find(item);
        if (!strcmp(item, "all")) {
            if (all) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "proxy list '%s': 'all' twice", list);
            all = 1;
            *mask |= NR_PROXY_ALL;
        } else if (!strcmp(item, "ensemble")) {
            if (!want_ensemble)
                return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "proxy list '%s': no ensemble here", list);
            if (ens) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "proxy list '%s': 'ensemble' twice", list);
            ens = 1;
        } else if (id < 0) {
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "unknown proxy '%s' (known: naswot, synflow, snip, grad_norm, grasp, fisher, "
                                "jacob_cov, params, flops, all, ensemble)", item);
        } else {
            if (*mask & NR_PROXY_BIT(id) && !all)
                return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "proxy list '%s': '%s' twice", list, item);
            *mask |= NR_PROXY_BIT(id);
        }
        if (!end) break;
        p = end + 1;
    }
    if (ens) {
        *want_ensemble = 1;
        if (ensemble_mask) {
            if (!*ensemble_mask) *ensemble_mask = nr_proxy_default_ensemble();
            *mask |= *ensemble_mask;
        }
    }
    return NR_OK;
}

double nr_proxy_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int nr_proxy_is_layer_weight(const nr_graph *g, size_t i)
{
    const nr_param_tensor *t = nr_graph_tensor(g, i);
    if (!t) return 0;
    const nr_layer *l = nr_graph_layer(g, t->layer);
    return (l->kind == NR_LAYER_CONV || l->kind == NR_LAYER_LINEAR) && (size_t)l->param == i;
}

/* ------------------------------------------------------------------------- the scorer */

nr_status nr_proxy_scorer_create(const nr_macro_config *cfg, uint64_t seed,
                                 const nr_proxy_data *data, nr_proxy_scorer **out,
                                 nr_error *err)
{
    *out = NULL;
    nr_proxy_scorer *s = calloc(1, sizeof *s);
    if (!s) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for the proxy scorer");
    s->cfg = cfg ? *cfg : nr_macro_default();
    s->seed = seed;
    nr_status st = NR_OK;
    size_t D = (size_t)s->cfg.in_channels * s->cfg.image_size * s->cfg.image_size;
    size_t K = (size_t)s->cfg.num_classes;
    if (data) {
        if (data->B < 2 || data->B > 65536 || !data->images || !data->labels)
            st = nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "proxy batch of %d images (need 2..65536)", data->B);
        else if (data->naswot_images && (data->naswot_B < 1 || data->naswot_B > 65536))
            st = nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "NASWOT batch of %d images", data->naswot_B);
        for (int b = 0; !st && b < data->B; b++)
            if (data->labels[b] < 0 || data->labels[b] >= s->cfg.num_classes)
                st = nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "label %d of image %d out of range 0..%d",
                                  data->labels[b], b, s->cfg.num_classes - 1);
        if (st) goto fail;
        s->data = *data;
        s->have_data = 1;
        if (data->naswot_images && (st = nr_naswot_create(data->naswot_B, data->naswot_variant, &s->nw, err)))
            goto fail;
        s->logits = malloc((size_t)data->B * K * sizeof(float));
        s->dlogits = malloc((size_t)data->B * K * sizeof(float));
        s->jac = malloc((size_t)data->B * D * sizeof(float));
        if (!s->logits || !s->dlogits || !s->jac) goto nomem;
    }
    if ((st = nr_exec_pool_create(&s->pool, err))) goto fail;
    size_t nones = D > K ? D : K;
    if (!(s->ones = malloc(nones * sizeof(float)))) goto nomem;
    for (size_t i = 0; i < nones; i++) s->ones[i] = 1.0f;
    *out = s;
    return NR_OK;
nomem:
    st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for the proxy scorer");
fail:
    nr_proxy_scorer_free(s);
    return st;
}

void nr_proxy_scorer_free(nr_proxy_scorer *s)
{
    if (!s) return;
    nr_naswot_free(s->nw);
    nr_exec_pool_free(s->pool);
    free(s->grad), free(s->grad_p), free(s->grad_m), free(s->backup);
    free(s->logits), free(s->dlogits), free(s->jac), free(s->ones);
    free(s);
}

static nr_status grow_param_buffers(nr_proxy_scorer *s, size_t n, nr_error *err)
{
    if (n <= s->nparams_cap) return NR_OK;
    free(s->grad), free(s->grad_p), free(s->grad_m), free(s->backup);
    s->grad = malloc(n * sizeof(float));
    s->grad_p = malloc(n * sizeof(float));
    s->grad_m = malloc(n * sizeof(float));
    s->backup = malloc(n * sizeof(float));
    s->nparams_cap = 0;
    if (!s->grad || !s->grad_p || !s->grad_m || !s->backup)
        return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for %zu gradients", n);
    s->nparams_cap = n;
    return NR_OK;
}

/* ---------------------------------------------------------------------- shared passes */

nr_status nr_proxy_need_forward(nr_proxy_run *run, nr_error *err)
{
    if (run->forward_valid) return NR_OK;
    nr_proxy_scorer *s = run->s;
    double t0 = nr_proxy_now();
    nr_status st = NR_OK;
    if (!run->tape) {
        /* ReLU masks only when grasp will freeze them */
        nr_exec_options opt = {.pool = s->pool, .backward = 1,
                               .relu_masks = (run->mask & NR_PROXY_BIT(NR_PROXY_GRASP)) != 0};
        st = nr_exec_create(run->g, s->data.B, &opt, &run->tape, err);
    }
    if (st) return st;
    nr_exec_set_relu_mode(run->tape, 1);
    st = nr_exec_forward(run->tape, s->data.images, s->data.B, s->logits, NULL, NULL, err);
    if (st) return st;
    run->forward_valid = 1;
    double dt = nr_proxy_now() - t0;
    run->pass_seconds[PASS_FORWARD] += dt;
    run->in_pass += dt;
    return NR_OK;
}

/* The zero-cost fisher of one conv or linear layer: output a (B, K, HW), da its gradient.
 * Per channel k (a task each): F_k = 0.5 * mean_b (sum_hw a * da)^2, the inner sums in 16
 * float lanes, per image in double; the layer adds fan_in * sum_k F_k in channel order. */
typedef struct fisher_job {
    const float *a, *da;
    double *out; /* (K) */
    int B, K, HW;
} fisher_job;

static void fisher_task(void *ctx, long k, int tid)
{
    (void)tid;
    const fisher_job *J = ctx;
    int full = J->HW / 16 * 16;
    double sq = 0.0;
    for (int b = 0; b < J->B; b++) {
        const float *restrict x = J->a + ((size_t)b * J->K + k) * J->HW;
        const float *restrict g = J->da + ((size_t)b * J->K + k) * J->HW;
        float lane[16] = {0};
        for (int i = 0; i < full; i += 16)
            for (int l = 0; l < 16; l++) lane[l] += x[i + l] * g[i + l];
        double s = 0.0;
        for (int i = full; i < J->HW; i++) s += (double)x[i] * g[i];
        for (int l = 0; l < 16; l++) s += lane[l];
        sq += s * s;
    }
    J->out[k] = 0.5 * sq / J->B;
}

typedef struct fisher_acc {
    double total;
    double *per_channel;
    size_t cap;
    int failed;
} fisher_acc;

static void fisher_hook(void *ctx, const nr_graph *g, int layer, const float *y, const float *dy, int B)
{
    fisher_acc *F = ctx;
    const nr_layer *l = nr_graph_layer(g, layer);
    if (l->kind != NR_LAYER_CONV && l->kind != NR_LAYER_LINEAR) return;
    int fan_in = nr_graph_fan_in(g, layer);
    if ((size_t)l->C > F->cap) {
        double *p = realloc(F->per_channel, (size_t)l->C * sizeof *p);
        if (!p) {
            F->failed = 1;
            return;
        }
        F->per_channel = p;
        F->cap = (size_t)l->C;
    }
    fisher_job J = {y, dy, F->per_channel, B, l->C, l->H * l->W};
    nr_parallel_for(l->C, fisher_task, &J);
    double total = 0.0;
    for (int k = 0; k < l->C; k++) total += F->per_channel[k];
    F->total += (double)fan_in * total;
}

nr_status nr_proxy_need_grad(nr_proxy_run *run, nr_error *err)
{
    if (run->ce_done) return NR_OK;
    nr_status st = nr_proxy_need_forward(run, err);
    if (st) return st;
    nr_proxy_scorer *s = run->s;
    double t0 = nr_proxy_now();
    int B = s->data.B, K = s->cfg.num_classes;
    size_t np = nr_graph_num_params(run->g);
    memset(s->grad, 0, np * sizeof(float));
    memset(s->dlogits, 0, (size_t)B * K * sizeof(float));
    run->loss = nr_cross_entropy(s->dlogits, s->logits, s->data.labels, B, K);
    fisher_acc F = {0};
    st = nr_exec_backward(run->tape, s->dlogits, s->grad, NULL, fisher_hook, &F, err);
    free(F.per_channel);
    if (!st && F.failed) st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory for fisher");
    if (st) return st;
    run->fisher = F.total;
    run->ce_done = 1;
    double dt = nr_proxy_now() - t0;
    run->pass_seconds[PASS_CE_BACKWARD] += dt;
    run->in_pass += dt;
    return NR_OK;
}

/* ----------------------------------------------------------------------------- engine */

nr_status nr_proxy_score(nr_proxy_scorer *s, const nr_arch *arch, unsigned mask,
                         nr_proxy_scores *out, nr_error *err)
{
    for (int i = 0; i < NR_NUM_PROXIES; i++) out->value[i] = NAN, out->seconds[i] = 0.0;
    out->total_seconds = 0.0;
    mask &= NR_PROXY_ALL;
    for (int i = 0; i < NR_NUM_PROXIES; i++)
        if (mask & NR_PROXY_BIT(i) && g_registry[i].uses_images &&
            (!s->have_data || (i == NR_PROXY_NASWOT && !s->nw)))
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "proxy '%s' needs images", g_registry[i].name);
    double t_start = nr_proxy_now();
    nr_proxy_run run = {0};
    run.s = s;
    run.arch = arch;
    run.mask = mask;
    nr_status st = NR_OK;
    if (mask & ~(NR_PROXY_BIT(NR_PROXY_PARAMS) | NR_PROXY_BIT(NR_PROXY_FLOPS))) {
        st = nr_nb201_graph(arch, &s->cfg, s->seed, &run.g, err);
        if (!st) st = grow_param_buffers(s, nr_graph_num_params(run.g), err);
        if (st) goto done;
    }
    double own[NR_NUM_PROXIES] = {0};
    for (int k = 0; k < NR_NUM_PROXIES; k++) {
        int id = g_eval_order[k];
        if (!(mask & NR_PROXY_BIT(id))) continue;
        run.in_pass = 0.0;
        double t0 = nr_proxy_now();
        st = g_registry[id].fn(&run, &out->value[id], err);
        if (st) goto done;
        own[id] = nr_proxy_now() - t0 - run.in_pass;
    }
    for (int id = 0; id < NR_NUM_PROXIES; id++) {
        if (!(mask & NR_PROXY_BIT(id))) continue;
        out->seconds[id] = own[id];
        for (int p = 0; p < NUM_SHARED_PASSES; p++) {
            unsigned users = pass_users(p) & mask;
            if (users & NR_PROXY_BIT(id)) out->seconds[id] += run.pass_seconds[p] / __builtin_popcount(users);
        }
    }
done:
    nr_exec_free(run.tape);
    nr_graph_free(run.g);
    out->total_seconds = nr_proxy_now() - t_start;
    return st;
}

/* ------------------------------------------------------------------------ ensembles */

typedef struct rank_item {
    double v;
    size_t i;
} rank_item;

static int cmp_item(const void *a, const void *b)
{
    const rank_item *x = a, *y = b;
    if (x->v < y->v) return -1;
    if (x->v > y->v) return 1;
    return (x->i > y->i) - (x->i < y->i);
}

nr_status nr_rank_ensemble(const double *x, size_t n, size_t m, size_t ld, double *out, nr_error *err)
{
    if (n == 0 || m == 0 || ld < m)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "rank ensemble of %zu items x %zu columns", n, m);
    rank_item *it = malloc(n * sizeof *it);
    if (!it) return nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory ranking %zu items", n);
    for (size_t i = 0; i < n; i++) out[i] = 0.0;
    for (size_t c = 0; c < m; c++) {
        for (size_t i = 0; i < n; i++) {
            double v = x[i * ld + c];
            it[i].v = isnan(v) ? -INFINITY : v; /* NaN and -inf: the lowest, tied */
            it[i].i = i;
        }
        qsort(it, n, sizeof *it, cmp_item);
        for (size_t a = 0; a < n;) {
            size_t b = a;
            while (b + 1 < n && it[b + 1].v == it[a].v) b++;
            double r = 0.5 * (double)(a + b); /* 0-based average rank */
            for (size_t k = a; k <= b; k++) out[it[k].i] += n > 1 ? r / (double)(n - 1) : 0.5;
            a = b + 1;
        }
    }
    for (size_t i = 0; i < n; i++) out[i] /= (double)m;
    free(it);
    return NR_OK;
}
