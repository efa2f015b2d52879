/* Search strategies against the NAS-Bench-201 table: random, NASWOT-N, REA, AREA (and the
 * predictor-guided one in search_predictor.c).  See include/nasrank/search.h. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "search/search_internal.h"

static const char *strategy_names[NR_NUM_SEARCH_STRATEGIES] = {"random", "naswot", "rea", "area",
                                                               "predictor"};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

nr_status nr_search_strategy_parse(const char *name, nr_search_strategy *out, nr_error *err)
{
    for (int s = 0; name && s < NR_NUM_SEARCH_STRATEGIES; s++) {
        if (!strcasecmp(name, strategy_names[s])) {
            *out = (nr_search_strategy)s;
            return NR_OK;
        }
    }
    return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                        "unknown search strategy '%s' (expected random, naswot, rea, area or predictor)",
                        name ? name : "");
}

const char *nr_search_strategy_name(nr_search_strategy s)
{
    return (int)s >= 0 && s < NR_NUM_SEARCH_STRATEGIES ? strategy_names[s] : NULL;
}

int nr_search_uses_budget(nr_search_strategy s)
{
    return s == NR_SEARCH_REA || s == NR_SEARCH_AREA || s == NR_SEARCH_PREDICTOR;
}

int nr_search_needs_scores(const nr_search_config *cfg)
{
    if (cfg->strategy == NR_SEARCH_NASWOT || cfg->strategy == NR_SEARCH_AREA) return 1;
    if (cfg->strategy != NR_SEARCH_PREDICTOR) return 0;
    if (cfg->pred_candidates > 0) return 1;
    nr_predictor_config pc = cfg->predictor ? *cfg->predictor : nr_search_predictor_default();
    for (int k = 0; k < nr_predictor_num_score_features(pc.features); k++) /* a feature on `scores` */
        if (!cfg->pred_feature_scores || !cfg->pred_feature_scores[k]) return 1;
    return 0;
}

nr_search_config nr_search_config_default(nr_search_strategy s)
{
    return (nr_search_config){.strategy = s,
                              .dataset = NR_DS_CIFAR10,
                              .samples = 100,
                              .budget = 50,
                              .reward_epochs = 12,
                              .population = 10,
                              .tournament = 3,
                              .pool = 1000,
                              .max_steps = 0,
                              .pred_initial = 10,
                              .pred_per_round = 10,
                              .pred_candidates = 0,
                              .predictor = NULL,
                              .seed = 0,
                              .observer = NULL,
                              .observer_ctx = NULL};
}

/* ---- shared pieces ---- */

void search_emit(const search_run *s, nr_search_event_kind kind, int index, int other,
                 double value, int count)
{
    if (!s->cfg->observer) return;
    nr_search_event ev = {kind, s->run, index, other, value, count};
    s->cfg->observer(s->cfg->observer_ctx, &ev);
}

int search_draw(search_run *s)
{
    int index = (int)nr_rng_below(&s->rng, NR_NUM_ARCHS);
    s->res->draws++;
    search_emit(s, NR_SEARCH_EV_DRAW, index, -1, 0.0, s->res->draws);
    return index;
}

nr_status search_query(search_run *s, int index, double *reward, int *out_of_budget,
                       nr_error *err)
{
    *out_of_budget = 0;
    if (s->queried[index]) {
        *reward = s->reward[index];
        return NR_OK;
    }
    if (s->queries >= s->budget) {
        *out_of_budget = 1;
        return NR_OK;
    }
    const nr_table_row *row = nr_table_by_index(s->t, index);
    double r = nr_table_acc(row, s->reward_ds, NR_METRIC_VALID, s->cfg->reward_epochs);
    if (!isfinite(r))
        return nr_error_set(err, NR_ERR_NUMERIC, NULL, 0, 0,
                            "no %d-epoch validation accuracy for benchmark index %d", s->cfg->reward_epochs,
                            index);
    s->queried[index] = 1;
    s->reward[index] = r;
    s->history[s->queries++] = index;
    if (s->best < 0 || r > s->reward[s->best]) s->best = index;
    search_emit(s, NR_SEARCH_EV_QUERY, index, -1, r, s->queries);
    *reward = r;
    return NR_OK;
}

nr_status search_score(search_run *s, int index, double *score, nr_error *err)
{
    double v;
    nr_status st = nr_score_cache_get(s->scores, index, &v, err);
    if (st) return st;
    s->res->scored++;
    search_emit(s, NR_SEARCH_EV_SCORE, index, -1, v, s->res->scored);
    *score = isnan(v) ? -INFINITY : v;
    return NR_OK;
}

/* ---- random: N distinct random archs, the best reward ---- */

static nr_status search_random(search_run *s, nr_error *err)
{
    while (s->queries < s->budget) {
        int idx = search_draw(s);
        double r;
        int oob;
        nr_status st = search_query(s, idx, &r, &oob, err);
        if (st) return st;
    }
    return NR_OK;
}

/* ---- naswot: N draws with replacement, the highest score ---- */

static nr_status search_naswot(search_run *s, nr_error *err)
{
    int best = -1;
    double best_score = -INFINITY;
    for (int k = 0; k < s->cfg->samples; k++) {
        int idx = search_draw(s);
        double v;
        nr_status st = search_score(s, idx, &v, err);
        if (st) return st;
        if (best < 0 || v > best_score) best = idx, best_score = v;
    }
    s->best = best;
    s->res->reward = best_score;
    return NR_OK;
}

/* ---- regularised evolution ---- */

typedef struct population {
    int *member; /* ring buffer of indices, capacity cap */
    int cap, head, size;
} population;

static void pop_join(search_run *s, population *p, int index)
{
    if (p->size == p->cap) {
        int old = p->member[p->head];
        p->head = (p->head + 1) % p->cap;
        p->size--;
        search_emit(s, NR_SEARCH_EV_LEAVE, old, -1, s->reward[old], p->size);
    }
    p->member[(p->head + p->size) % p->cap] = index;
    p->size++;
    search_emit(s, NR_SEARCH_EV_JOIN, index, -1, s->reward[index], p->size);
}

/* A child: one edge op changed, as NAS-Bench-201's mutate_arch: node 1..3 uniformly, one of
 * its incoming edges uniformly, a different op uniformly. */
static nr_arch mutate(nr_rng *rng, const nr_arch *parent)
{
    nr_arch child = *parent;
    int to = 1 + (int)nr_rng_below(rng, 3);
    int from = (int)nr_rng_below(rng, (uint64_t)to);
    int e = nr_edge_index(to, from);
    int op = (int)nr_rng_below(rng, NR_NUM_OPS - 1);
    if (op >= child.op[e]) op++;
    child.op[e] = (unsigned char)op;
    return child;
}

/* Evolve from population p until the budget is spent (the next new arch does not fit) or
 * max_steps children were made. */
static nr_status evolve(search_run *s, population *p, nr_error *err)
{
    const nr_search_config *cfg = s->cfg;
    long max_steps = cfg->max_steps > 0 ? cfg->max_steps : 100L * cfg->budget + 1000;
    for (long step = 0; step < max_steps && p->size > 0; step++) {
        int parent = -1;
        for (int k = 0; k < cfg->tournament; k++) {
            int m = p->member[(p->head + (int)nr_rng_below(&s->rng, (uint64_t)p->size)) % p->cap];
            search_emit(s, NR_SEARCH_EV_CONTESTANT, m, -1, s->reward[m], k + 1);
            if (parent < 0 || s->reward[m] > s->reward[parent]) parent = m;
        }
        nr_arch child_arch = mutate(&s->rng, &nr_table_by_index(s->t, parent)->arch);
        const nr_table_row *row = nr_table_by_arch(s->t, &child_arch);
        if (!row) return nr_error_set(err, NR_ERR_INTERNAL, NULL, 0, 0, "mutated arch not in the table");
        double r;
        int oob;
        nr_status st = search_query(s, row->index, &r, &oob, err);
        if (st) return st;
        if (oob) break;
        s->res->steps++;
        search_emit(s, NR_SEARCH_EV_CHILD, row->index, parent, r, s->res->steps);
        pop_join(s, p, row->index);
    }
    return NR_OK;
}

typedef struct scored {
    double score;
    int pos;   /* order of first draw */
    int index;
} scored;

static int cmp_scored(const void *a, const void *b)
{
    const scored *x = a, *y = b;
    if (x->score != y->score) return x->score > y->score ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

/* REA; assisted (AREA): the initial population is the top P distinct archs, by score, of
 * cfg->pool uniform draws (ties: the first drawn), queried best first; random draws fill it
 * up when the pool has fewer than P distinct archs. */
static nr_status search_rea(search_run *s, int assisted, nr_error *err)
{
    const nr_search_config *cfg = s->cfg;
    population p = {malloc((size_t)cfg->population * sizeof(int)), cfg->population, 0, 0};
    scored *pool = NULL;
    unsigned char *seen = NULL;
    nr_status st = NR_OK;
    int oob = 0;
    double r;
    if (!p.member) goto nomem;
    if (assisted) {
        /* distinct draws only: never more than the space, whatever --pool says */
        pool = malloc((size_t)(cfg->pool < NR_NUM_ARCHS ? cfg->pool : NR_NUM_ARCHS) * sizeof *pool);
        seen = calloc(NR_NUM_ARCHS, 1);
        if (!pool || !seen) goto nomem;
        int nd = 0;
        for (int k = 0; k < cfg->pool; k++) {
            int idx = search_draw(s);
            double v;
            if ((st = search_score(s, idx, &v, err))) goto done;
            if (seen[idx]) continue;
            seen[idx] = 1;
            pool[nd] = (scored){v, nd, idx};
            nd++;
        }
        qsort(pool, (size_t)nd, sizeof *pool, cmp_scored);
        for (int k = 0; k < nd && p.size < cfg->population; k++) {
            if ((st = search_query(s, pool[k].index, &r, &oob, err))) goto done;
            if (oob) break;
            pop_join(s, &p, pool[k].index);
        }
    }
    while (!oob && p.size < cfg->population) {
        int idx = search_draw(s);
        if ((st = search_query(s, idx, &r, &oob, err))) goto done;
        if (oob) break;
        pop_join(s, &p, idx);
    }
    if (!oob) st = evolve(s, &p, err);
    goto done;
nomem:
    st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
done:
    free(p.member);
    free(pool);
    free(seen);
    return st;
}

/* ---- driver ---- */

static nr_status check_config(const nr_table *t, const nr_score_cache *scores,
                              const nr_search_config *c, nr_error *err)
{
    const char *name = nr_search_strategy_name(c->strategy);
    if (!name) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "unknown search strategy %d", (int)c->strategy);
    if ((int)c->dataset < 0 || c->dataset >= NR_NUM_DATASETS)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "unknown dataset %d", (int)c->dataset);
    if (c->reward_epochs != 12 && c->reward_epochs != 200)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "reward epochs must be 12 or 200, got %d",
                            c->reward_epochs);
    if (nr_search_uses_budget(c->strategy)) {
        if (c->budget < 1 || c->budget > NR_NUM_ARCHS)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "%s: budget must be 1..%d queries, got %d",
                                name, NR_NUM_ARCHS, c->budget);
    } else if (c->samples < 1 || (c->strategy == NR_SEARCH_RANDOM && c->samples > NR_NUM_ARCHS) ||
               c->samples > 100000000) {
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "%s: N must be 1..%d, got %d", name,
                            c->strategy == NR_SEARCH_RANDOM ? NR_NUM_ARCHS : 100000000, c->samples);
    }
    if (c->strategy == NR_SEARCH_REA || c->strategy == NR_SEARCH_AREA) {
        if (c->population < 1 || c->population > NR_NUM_ARCHS)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "%s: population must be 1..%d, got %d", name,
                                NR_NUM_ARCHS, c->population);
        if (c->tournament < 1 || c->tournament > c->population)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "%s: tournament size must be 1..population (%d), got %d", name,
                                c->population, c->tournament);
    }
    if (c->strategy == NR_SEARCH_AREA && (c->pool < 1 || c->pool > 100000000))
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "area: pool must be 1..100000000, got %d", c->pool);
    if (c->strategy == NR_SEARCH_PREDICTOR) {
        if (c->pred_initial < 1 || c->pred_per_round < 1 || c->pred_candidates < 0)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "predictor: initial queries and queries per round must be >= 1");
        if (c->pred_candidates > 0 && c->pred_candidates < c->pred_per_round)
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "predictor: candidates (%d) fewer than queries per round (%d)",
                                c->pred_candidates, c->pred_per_round);
        nr_predictor_config pc = c->predictor ? *c->predictor : nr_search_predictor_default();
        nr_status st = nr_predictor_config_check(&pc, err);
        if (st) return st;
    }
    if (nr_search_needs_scores(c) && !scores)
        return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "%s needs NASWOT scores (a score file)", name);
    if (nr_search_uses_budget(c->strategy) || c->strategy == NR_SEARCH_RANDOM) {
        nr_dataset rds = c->dataset == NR_DS_CIFAR10 ? NR_DS_CIFAR10_VALID : c->dataset;
        if (!isfinite(nr_table_acc(nr_table_by_index(t, 0), rds, NR_METRIC_VALID, c->reward_epochs)))
            return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0,
                                "%d-epoch validation accuracies are not loaded (nr_table_load_12ep)",
                                c->reward_epochs);
    }
    return NR_OK;
}

nr_status nr_search_run(const nr_table *t, nr_score_cache *scores, const nr_search_config *cfg,
                        int run, nr_search_result *out, nr_error *err)
{
    memset(out, 0, sizeof *out);
    out->index = -1;
    out->valid = out->test = out->reward = NAN;
    if (!t || !cfg) return nr_error_set(err, NR_ERR_INVALID, NULL, 0, 0, "search needs a table and a config");
    nr_status st = check_config(t, scores, cfg, err);
    if (st) return st;
    double t0 = now_seconds();
    char name[48];
    snprintf(name, sizeof name, "search/run/%d", run);
    search_run s = {.t = t,
                    .scores = scores,
                    .cfg = cfg,
                    .run = run,
                    .rng = nr_rng_stream(cfg->seed, name),
                    .reward_ds = cfg->dataset == NR_DS_CIFAR10 ? NR_DS_CIFAR10_VALID : cfg->dataset,
                    .budget = cfg->strategy == NR_SEARCH_RANDOM ? cfg->samples
                              : cfg->strategy == NR_SEARCH_NASWOT ? 0
                                                                  : cfg->budget,
                    .best = -1,
                    .res = out};
    s.reward = malloc(NR_NUM_ARCHS * sizeof *s.reward);
    s.queried = calloc(NR_NUM_ARCHS, 1);
    s.history = malloc((size_t)(s.budget > 0 ? s.budget : 1) * sizeof *s.history);
    if (!s.reward || !s.queried || !s.history) {
        st = nr_error_set(err, NR_ERR_NOMEM, NULL, 0, 0, "out of memory");
        goto done;
    }
    switch (cfg->strategy) {
    case NR_SEARCH_RANDOM: st = search_random(&s, err); break;
    case NR_SEARCH_NASWOT: st = search_naswot(&s, err); break;
    case NR_SEARCH_REA: st = search_rea(&s, 0, err); break;
    case NR_SEARCH_AREA: st = search_rea(&s, 1, err); break;
    case NR_SEARCH_PREDICTOR: st = search_predictor(&s, err); break;
    default: st = nr_error_set(err, NR_ERR_INTERNAL, NULL, 0, 0, "unhandled strategy"); break;
    }
    if (st) goto done;
    if (s.best < 0) {
        st = nr_error_set(err, NR_ERR_INTERNAL, NULL, 0, 0, "search chose no architecture");
        goto done;
    }
    const nr_table_row *row = nr_table_by_index(t, s.best);
    nr_dataset vds = cfg->dataset == NR_DS_CIFAR10_VALID ? NR_DS_CIFAR10 : cfg->dataset;
    out->index = s.best;
    out->arch = row->arch;
    out->valid = nr_table_acc(row, vds, NR_METRIC_VALID, 200);
    out->test = nr_table_acc(row, vds, NR_METRIC_TEST, 200);
    if (cfg->strategy != NR_SEARCH_NASWOT) out->reward = s.reward[s.best];
    out->queries = s.queries;
    out->seconds = now_seconds() - t0;
    search_emit(&s, NR_SEARCH_EV_CHOSEN, s.best, -1, out->reward, s.queries);
done:
    free(s.reward);
    free(s.queried);
    free(s.history);
    return st;
}

void nr_search_summarize(const nr_search_result *r, int n, nr_search_summary *out)
{
    memset(out, 0, sizeof *out);
    out->runs = n;
    if (n <= 0) {
        out->valid_mean = out->valid_std = out->test_mean = out->test_std = NAN;
        out->test_min = out->test_max = out->queries_mean = out->seconds_mean = NAN;
        return;
    }
    double sv = 0, st = 0, sq = 0, ss = 0;
    out->test_min = INFINITY;
    out->test_max = -INFINITY;
    for (int i = 0; i < n; i++) {
        sv += r[i].valid;
        st += r[i].test;
        sq += r[i].queries;
        ss += r[i].seconds;
        if (r[i].test < out->test_min) out->test_min = r[i].test;
        if (r[i].test > out->test_max) out->test_max = r[i].test;
    }
    out->valid_mean = sv / n;
    out->test_mean = st / n;
    out->queries_mean = sq / n;
    out->seconds_mean = ss / n;
    double dv = 0, dt = 0;
    for (int i = 0; i < n; i++) {
        dv += (r[i].valid - out->valid_mean) * (r[i].valid - out->valid_mean);
        dt += (r[i].test - out->test_mean) * (r[i].test - out->test_mean);
    }
    out->valid_std = sqrt(dv / n);
    out->test_std = sqrt(dt / n);
}
