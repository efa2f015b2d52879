/* Tests for the search strategies (src/search) against the real NAS-Bench-201 table, with a
 * synthetic score array (so the suite needs no network forward passes): invariants per
 * strategy, budgets, determinism, the score cache. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nasrank/rng.h"
#include "nasrank/search.h"
#include "ops/ops.h"
#include "test.h"

static nr_table *T;        /* with the 12-epoch table */
static nr_score_cache *SC; /* synthetic scores */

/* ---- an observer that records every event ---- */
typedef struct trace {
    nr_search_event *ev;
    size_t n, cap;
} trace;

static void record(void *ctx, const nr_search_event *e)
{
    trace *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 1024;
        t->ev = realloc(t->ev, t->cap * sizeof *t->ev);
    }
    t->ev[t->n++] = *e;
}

static void trace_reset(trace *t) { t->n = 0; }

static size_t count_kind(const trace *t, nr_search_event_kind k)
{
    size_t c = 0;
    for (size_t i = 0; i < t->n; i++) c += t->ev[i].kind == k;
    return c;
}

/* Synthetic score: cifar10 test accuracy plus a deterministic wobble; a few dead archs. */
static double fake_score(int index)
{
    const nr_table_row *r = nr_table_by_index(T, index);
    if (index % 997 == 0) return -INFINITY;
    return r->test[NR_DS_CIFAR10] + 0.5 * sin(index * 0.7);
}

static double reward12(int index)
{
    return nr_table_acc(nr_table_by_index(T, index), NR_DS_CIFAR10_VALID, NR_METRIC_VALID, 12);
}

static int edges_differ(const nr_arch *a, const nr_arch *b)
{
    int d = 0;
    for (int e = 0; e < NR_NUM_EDGES; e++) d += a->op[e] != b->op[e];
    return d;
}

/* A small, fast predictor for the strategy tests (one member, no folds). */
static nr_predictor_config tiny_predictor(int epochs)
{
    nr_predictor_config pc = nr_search_predictor_default();
    pc.embed_dim = 8;
    pc.layers = 2;
    pc.ensemble = 1;
    pc.folds = 0;
    pc.epochs = epochs;
    return pc;
}

/* Checks shared by every strategy that queries: the chosen arch was queried, it has the best
 * reward among the queried, queries are distinct and within the budget. */
static void check_queries(const trace *tr, const nr_search_result *res, int budget)
{
    unsigned char *seen = calloc(NR_NUM_ARCHS, 1);
    int nq = 0, distinct = 1, chosen_queried = 0, counts_ok = 1;
    double best = -INFINITY;
    for (size_t i = 0; i < tr->n; i++) {
        const nr_search_event *e = &tr->ev[i];
        if (e->kind != NR_SEARCH_EV_QUERY) continue;
        nq++;
        if (seen[e->index]) distinct = 0;
        seen[e->index] = 1;
        if (e->count != nq) counts_ok = 0;
        if (e->value > best) best = e->value;
        if (e->index == res->index) chosen_queried = 1;
    }
    CHECK(distinct);
    CHECK(counts_ok);
    CHECK(nq == res->queries);
    CHECK_MSG(res->queries <= budget, "%d queries, budget %d", res->queries, budget);
    CHECK(chosen_queried);
    CHECK(res->reward == best);
    CHECK(res->reward == reward12(res->index));
    free(seen);
}

int main(void)
{
    nr_error err = {0};
    if (nr_table_load(NULL, &T, &err) || nr_table_load_12ep(T, NULL, &err) ||
        nr_score_cache_create(T, &SC, &err)) {
        fprintf(stderr, "cannot load the table: %s\n", err.text);
        return 1;
    }
    for (int i = 0; i < NR_NUM_ARCHS; i++) nr_score_cache_set(SC, i, fake_score(i), NULL);
    trace tr = {0};
    nr_search_result res;

    TEST("strategy names")
    {
        for (int s = 0; s < NR_NUM_SEARCH_STRATEGIES; s++) {
            nr_search_strategy back;
            CHECK(nr_search_strategy_parse(nr_search_strategy_name((nr_search_strategy)s), &back, NULL) == NR_OK &&
                  (int)back == s);
        }
        nr_search_strategy x;
        CHECK(nr_search_strategy_parse("REA", &x, NULL) == NR_OK && x == NR_SEARCH_REA);
        nr_error e = {0};
        CHECK(nr_search_strategy_parse("bogus", &x, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "'bogus'") != NULL);
        CHECK(nr_search_strategy_name(NR_NUM_SEARCH_STRATEGIES) == NULL);
        CHECK(nr_search_uses_budget(NR_SEARCH_REA) && !nr_search_uses_budget(NR_SEARCH_NASWOT));
        nr_search_config a = nr_search_config_default(NR_SEARCH_AREA), r = nr_search_config_default(NR_SEARCH_REA);
        CHECK(nr_search_needs_scores(&a) && !nr_search_needs_scores(&r));
    }

    TEST("random N=1 is its single draw")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_RANDOM);
        c.samples = 1;
        c.seed = 5;
        c.observer = record;
        c.observer_ctx = &tr;
        for (int run = 0; run < 5; run++) {
            trace_reset(&tr);
            CHECK(nr_search_run(T, NULL, &c, run, &res, &err) == NR_OK);
            CHECK(tr.n >= 1 && tr.ev[0].kind == NR_SEARCH_EV_DRAW && tr.ev[0].index == res.index);
            CHECK(res.queries == 1 && res.draws == 1);
            const nr_table_row *row = nr_table_by_index(T, res.index);
            CHECK(res.test == row->test[NR_DS_CIFAR10] && res.valid == row->valid[NR_DS_CIFAR10_VALID]);
            CHECK(nr_arch_equal(&res.arch, &row->arch));
        }
    }

    TEST("random N=30: N distinct queries, best reward chosen")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_RANDOM);
        c.samples = 30;
        c.observer = record;
        c.observer_ctx = &tr;
        for (int run = 0; run < 10; run++) {
            trace_reset(&tr);
            CHECK(nr_search_run(T, NULL, &c, run, &res, &err) == NR_OK);
            CHECK(res.queries == 30);
            CHECK(res.draws >= 30);
            check_queries(&tr, &res, 30);
        }
        /* reward at 200 epochs: the chosen arch has the best 200-epoch valid accuracy */
        c.reward_epochs = 200;
        trace_reset(&tr);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        CHECK(res.reward == res.valid);
    }

    TEST("naswot: N draws, no queries, the highest score")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_NASWOT);
        c.samples = 10;
        c.seed = 3;
        c.observer = record;
        c.observer_ctx = &tr;
        for (int run = 0; run < 20; run++) {
            trace_reset(&tr);
            CHECK(nr_search_run(T, SC, &c, run, &res, &err) == NR_OK);
            CHECK(res.queries == 0 && res.draws == 10 && res.scored == 10);
            CHECK(count_kind(&tr, NR_SEARCH_EV_QUERY) == 0);
            int in_sample = 0, first_best = -1;
            double best = -INFINITY;
            for (size_t i = 0; i < tr.n; i++) {
                if (tr.ev[i].kind != NR_SEARCH_EV_DRAW) continue;
                in_sample |= tr.ev[i].index == res.index;
                double s = fake_score(tr.ev[i].index);
                if (first_best < 0 || s > best) best = s, first_best = tr.ev[i].index;
            }
            CHECK(in_sample);
            CHECK(res.index == first_best);
            CHECK(res.reward == best);
        }
    }

    TEST("naswot: dead archs rank last, ties go to the first draw")
    {
        nr_score_cache *dead;
        CHECK(nr_score_cache_create(T, &dead, &err) == NR_OK);
        for (int i = 0; i < NR_NUM_ARCHS; i++) nr_score_cache_set(dead, i, -INFINITY, NULL);
        nr_search_config c = nr_search_config_default(NR_SEARCH_NASWOT);
        c.samples = 20;
        c.observer = record;
        c.observer_ctx = &tr;
        trace_reset(&tr);
        CHECK(nr_search_run(T, dead, &c, 0, &res, &err) == NR_OK);
        CHECK(res.index == tr.ev[0].index); /* all -inf: the first draw */
        /* one finite score among NaN / -inf wins */
        int target = tr.ev[2 * 2].index; /* the third draw (events alternate DRAW, SCORE) */
        for (size_t i = 0; i < tr.n; i++)
            if (tr.ev[i].kind == NR_SEARCH_EV_DRAW && tr.ev[i].index != target)
                nr_score_cache_set(dead, tr.ev[i].index, (i / 2) % 2 ? NAN : -INFINITY, NULL);
        nr_score_cache_set(dead, target, -1e300, NULL);
        CHECK(nr_search_run(T, dead, &c, 0, &res, &err) == NR_OK);
        CHECK(res.index == target);
        nr_score_cache_free(dead);
    }

    TEST("determinism and independent runs")
    {
        nr_search_strategy all[] = {NR_SEARCH_RANDOM, NR_SEARCH_NASWOT, NR_SEARCH_REA, NR_SEARCH_AREA};
        for (size_t k = 0; k < 4; k++) {
            nr_search_config c = nr_search_config_default(all[k]);
            c.samples = 20;
            c.budget = 25;
            c.pool = 100;
            c.seed = 11;
            nr_search_result a, b, other;
            CHECK(nr_search_run(T, SC, &c, 4, &a, &err) == NR_OK);
            CHECK(nr_search_run(T, SC, &c, 7, &other, &err) == NR_OK); /* in between */
            CHECK(nr_search_run(T, SC, &c, 4, &b, &err) == NR_OK);
            a.seconds = b.seconds = 0;
            CHECK_MSG(!memcmp(&a, &b, sizeof a), "strategy %s", nr_search_strategy_name(all[k]));
        }
        /* the same (seed, run) starts with the same draw whatever the strategy */
        nr_search_config c1 = nr_search_config_default(NR_SEARCH_RANDOM), c2 = nr_search_config_default(NR_SEARCH_NASWOT);
        c1.samples = 1;
        c2.samples = 1;
        c1.seed = c2.seed = 99;
        nr_search_result r1, r2;
        CHECK(nr_search_run(T, NULL, &c1, 3, &r1, &err) == NR_OK);
        CHECK(nr_search_run(T, SC, &c2, 3, &r2, &err) == NR_OK);
        CHECK(r1.index == r2.index);
        /* different runs draw differently */
        int distinct = 0;
        for (int run = 0; run < 8; run++) {
            CHECK(nr_search_run(T, NULL, &c1, run, &r2, &err) == NR_OK);
            distinct += r2.index != r1.index;
        }
        CHECK(distinct >= 6);
    }

    TEST("rea: population, tournament, mutation, budget")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_REA);
        c.budget = 40;
        c.observer = record;
        c.observer_ctx = &tr;
        for (int run = 0; run < 10; run++) {
            trace_reset(&tr);
            CHECK(nr_search_run(T, NULL, &c, run, &res, &err) == NR_OK);
            CHECK(res.queries == 40);
            check_queries(&tr, &res, 40);
            /* replay the population from JOIN/LEAVE: FIFO, never above P; contestants are
             * members; a child differs from its parent (the best contestant) in one edge */
            int pop[64], head = 0, size = 0, fifo = 1, bounded = 1, members = 1, one_edge = 1, parent_ok = 1;
            int contest[8], nc = 0, joins = 0;
            for (size_t i = 0; i < tr.n; i++) {
                const nr_search_event *e = &tr.ev[i];
                if (e->kind == NR_SEARCH_EV_JOIN) {
                    pop[(head + size) % 64] = e->index;
                    size++;
                    joins++;
                    if (size > c.population || e->count != size) bounded = 0;
                } else if (e->kind == NR_SEARCH_EV_LEAVE) {
                    if (pop[head] != e->index) fifo = 0;
                    head = (head + 1) % 64;
                    size--;
                    if (size != c.population - 1) bounded = 0;
                } else if (e->kind == NR_SEARCH_EV_CONTESTANT) {
                    int found = 0;
                    for (int k = 0; k < size; k++) found |= pop[(head + k) % 64] == e->index;
                    members &= found;
                    if (e->count == 1) nc = 0;
                    if (nc < 8) contest[nc++] = e->index;
                } else if (e->kind == NR_SEARCH_EV_CHILD) {
                    one_edge &= edges_differ(&nr_table_by_index(T, e->index)->arch,
                                             &nr_table_by_index(T, e->other)->arch) == 1;
                    int best = contest[0];
                    for (int k = 1; k < nc; k++)
                        if (reward12(contest[k]) > reward12(best)) best = contest[k];
                    parent_ok &= nc == c.tournament && best == e->other;
                }
            }
            CHECK(fifo);
            CHECK(bounded);
            CHECK(members);
            CHECK(one_edge);
            CHECK(parent_ok);
            CHECK((size_t)res.steps == count_kind(&tr, NR_SEARCH_EV_CHILD));
            CHECK(joins == c.population + res.steps);
        }
    }

    TEST("rea: budget below the population size")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_REA);
        c.budget = 4;
        c.observer = record;
        c.observer_ctx = &tr;
        trace_reset(&tr);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        CHECK(res.queries == 4);
        check_queries(&tr, &res, 4);
        CHECK(count_kind(&tr, NR_SEARCH_EV_CHILD) == (size_t)res.steps);
        /* budget 1: the single query is the answer */
        c.budget = 1;
        trace_reset(&tr);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        CHECK(res.queries == 1);
        check_queries(&tr, &res, 1);
        /* a tiny step cap ends the run early, still within budget */
        c.budget = 100;
        c.max_steps = 3;
        trace_reset(&tr);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        CHECK(res.steps == 3 && res.queries <= 13);
    }

    TEST("area: the initial population is the top of the NASWOT pool")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_AREA);
        c.budget = 30;
        c.pool = 200;
        c.observer = record;
        c.observer_ctx = &tr;
        for (int run = 0; run < 5; run++) {
            trace_reset(&tr);
            CHECK(nr_search_run(T, SC, &c, run, &res, &err) == NR_OK);
            CHECK(res.scored == 200 && res.queries == 30);
            check_queries(&tr, &res, 30);
            /* the pool, distinct, sorted by score (ties: first drawn) */
            int pool[200], np = 0;
            unsigned char *seen = calloc(NR_NUM_ARCHS, 1);
            for (size_t i = 0; i < tr.n; i++)
                if (tr.ev[i].kind == NR_SEARCH_EV_SCORE && !seen[tr.ev[i].index]) {
                    seen[tr.ev[i].index] = 1;
                    pool[np++] = tr.ev[i].index;
                }
            for (int a = 1; a < np; a++) /* stable insertion sort by score, descending */
                for (int b = a; b > 0 && fake_score(pool[b]) > fake_score(pool[b - 1]); b--) {
                    int t = pool[b];
                    pool[b] = pool[b - 1];
                    pool[b - 1] = t;
                }
            int nj = 0, top_ok = 1;
            for (size_t i = 0; i < tr.n && nj < c.population; i++)
                if (tr.ev[i].kind == NR_SEARCH_EV_JOIN) top_ok &= tr.ev[i].index == pool[nj++];
            CHECK(nj == c.population);
            CHECK(top_ok);
            /* no random draws after the pool before evolution starts */
            CHECK(count_kind(&tr, NR_SEARCH_EV_DRAW) == 200);
            free(seen);
        }
        /* a pool smaller than P is topped up with random archs */
        c.pool = 3;
        trace_reset(&tr);
        CHECK(nr_search_run(T, SC, &c, 0, &res, &err) == NR_OK);
        CHECK(count_kind(&tr, NR_SEARCH_EV_DRAW) >= 3 + 7);
        check_queries(&tr, &res, 30);
    }

    TEST("budgets hold over many runs and settings")
    {
        int ok = 1;
        for (int budget = 1; budget <= 25; budget += 6)
            for (int run = 0; run < 10; run++) {
                nr_search_config c = nr_search_config_default(run % 2 ? NR_SEARCH_REA : NR_SEARCH_AREA);
                c.budget = budget;
                c.pool = 50;
                c.population = 1 + run % 5;
                c.tournament = 1 + run % c.population;
                c.reward_epochs = run % 3 ? 12 : 200;
                if (nr_search_run(T, SC, &c, run, &res, &err) || res.queries > budget || res.index < 0) ok = 0;
                if (res.queries < budget && res.steps < 100 * budget + 1000) ok = 0; /* stops only at the budget */
            }
        CHECK(ok);
    }

    TEST("predictor: random start, then the best predicted unseen classes")
    {
        nr_predictor_config pc = tiny_predictor(5);
        nr_search_config c = nr_search_config_default(NR_SEARCH_PREDICTOR);
        c.budget = 14;
        c.pred_initial = 4;
        c.pred_per_round = 5;
        c.predictor = &pc;
        c.observer = record;
        c.observer_ctx = &tr;
        trace_reset(&tr);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        CHECK(res.queries == 14);
        check_queries(&tr, &res, 14);
        CHECK(res.steps == 2); /* fits on 4 and on 9 labelled archs */
        int fits[4] = {0}, nf = 0, order_ok = 1, fresh = 1, reps = 1, nq = 0, npred = 0;
        unsigned char *touched = calloc(NR_NUM_ARCHS, 1);
        for (size_t i = 0; i < tr.n; i++) {
            const nr_search_event *e = &tr.ev[i];
            if (e->kind == NR_SEARCH_EV_FIT && nf < 4) {
                fits[nf++] = e->count;
                if (e->count != nq) order_ok = 0; /* fitted on everything queried so far */
            } else if (e->kind == NR_SEARCH_EV_PREDICT) {
                npred++;
                const nr_table_row *row = nr_table_by_index(T, e->index);
                reps &= row->iso_index == e->index;
                fresh &= !touched[row->iso_index];
            } else if (e->kind == NR_SEARCH_EV_QUERY) {
                nq++;
                touched[nr_table_by_index(T, e->index)->iso_index] = 1;
                if (nq > 4 && (i == 0 || tr.ev[i - 1].kind != NR_SEARCH_EV_PREDICT)) order_ok = 0;
            }
        }
        CHECK(nf == 2 && fits[0] == 4 && fits[1] == 9);
        CHECK(npred == 10);
        CHECK(order_ok);
        CHECK(fresh);
        CHECK(reps);
        free(touched);
        /* deterministic */
        nr_search_result again;
        c.observer = NULL;
        CHECK(nr_search_run(T, NULL, &c, 0, &again, &err) == NR_OK);
        res.seconds = again.seconds = 0;
        CHECK(!memcmp(&res, &again, sizeof res));
        /* a budget within the random start: plain random search */
        c.budget = 3;
        CHECK(nr_search_run(T, NULL, &c, 1, &res, &err) == NR_OK);
        CHECK(res.queries == 3 && res.steps == 0);
        /* NASWOT pre-filter: proposals come from the K best-scored untouched classes */
        c.budget = 9;
        c.pred_candidates = 20;
        c.observer = record;
        trace_reset(&tr);
        nr_error e = {0};
        CHECK(nr_search_run(T, NULL, &c, 2, &res, &e) == NR_ERR_INVALID); /* needs scores */
        CHECK(nr_search_run(T, SC, &c, 2, &res, &err) == NR_OK);
        CHECK(res.queries == 9 && res.steps == 1);
        /* the 20 best-scored class representatives not touched by the 4 random queries */
        touched = calloc(NR_NUM_ARCHS, 1);
        int q = 0;
        for (size_t i = 0; i < tr.n && q < 4; i++)
            if (tr.ev[i].kind == NR_SEARCH_EV_QUERY) touched[nr_table_by_index(T, tr.ev[i].index)->iso_index] = 1, q++;
        int top[20], nt = 0;
        for (int k = 0; k < 20; k++) top[k] = -1;
        for (int i = 0; i < NR_NUM_ARCHS; i++) {
            if (nr_table_by_index(T, i)->iso_index != i || touched[i]) continue;
            double v = fake_score(i);
            int pos = nt < 20 ? nt++ : 20;
            while (pos > 0 && fake_score(top[pos - 1]) < v) {
                if (pos < 20) top[pos] = top[pos - 1];
                pos--;
            }
            if (pos < 20) top[pos] = i;
        }
        int in_top = 1;
        for (size_t i = 0; i < tr.n; i++)
            if (tr.ev[i].kind == NR_SEARCH_EV_PREDICT) {
                int found = 0;
                for (int k = 0; k < 20; k++) found |= top[k] == tr.ev[i].index;
                in_top &= found;
            }
        CHECK(in_top);
        free(touched);
    }

    TEST("predictor: proxy features from their own score caches")
    {
        nr_predictor_config pc = tiny_predictor(40);
        pc.features = NR_FEAT_JACOB_COV | NR_FEAT_SYNFLOW;
        nr_score_cache *fc[2] = {NULL, NULL}, *rev = NULL;
        CHECK(nr_score_cache_create(T, &fc[0], &err) == NR_OK && nr_score_cache_create(T, &fc[1], &err) == NR_OK &&
              nr_score_cache_create(T, &rev, &err) == NR_OK);
        for (int i = 0; i < NR_NUM_ARCHS; i++) { /* synflow: a strong signal (its log is the valid accuracy) */
            double acc = nr_table_acc(nr_table_by_index(T, i), NR_DS_CIFAR10_VALID, NR_METRIC_VALID, 200);
            nr_score_cache_set(fc[0], i, exp(acc / 10.0), NULL);
            nr_score_cache_set(rev, i, exp(-acc / 10.0), NULL);
            nr_score_cache_set(fc[1], i, i % 50 == 3 ? -INFINITY : -70.0 + (i % 17), NULL);
        }
        nr_search_config c = nr_search_config_default(NR_SEARCH_PREDICTOR);
        c.budget = 30;
        c.pred_initial = 10;
        c.pred_per_round = 10;
        c.predictor = &pc;
        c.pred_feature_scores = fc;
        CHECK(nr_search_needs_scores(&c) == 0);
        nr_search_result r1, r2;
        CHECK(nr_search_run(T, NULL, &c, 0, &r1, &err) == NR_OK && r1.queries == 30);
        nr_score_cache *fr[2] = {rev, fc[1]};
        c.pred_feature_scores = fr;
        CHECK(nr_search_run(T, NULL, &c, 0, &r2, &err) == NR_OK);
        CHECK_MSG(r1.valid > r2.valid, "%.2f vs %.2f", r1.valid, r2.valid); /* the informative feature finds a better arch than its reverse */
        /* a missing value names the feature; NaN is refused */
        nr_score_cache *empty = NULL;
        nr_error e = {0};
        CHECK(nr_score_cache_create(T, &empty, &err) == NR_OK);
        nr_score_cache *fm[2] = {fc[0], empty};
        c.pred_feature_scores = fm;
        nr_error_clear(&e);
        CHECK(nr_search_run(T, NULL, &c, 0, &r2, &e) == NR_ERR_NOTFOUND && strstr(e.text, "predictor feature jacob_cov"));
        for (int i = 0; i < NR_NUM_ARCHS; i++) nr_score_cache_set(empty, i, NAN, NULL);
        nr_error_clear(&e);
        CHECK(nr_search_run(T, NULL, &c, 0, &r2, &e) == NR_ERR_NUMERIC && strstr(e.text, "jacob_cov score is NaN"));
        /* without caches the features read the run's scores: none given here */
        c.pred_feature_scores = NULL;
        CHECK(nr_search_needs_scores(&c) == 1);
        nr_score_cache_free(fc[0]), nr_score_cache_free(fc[1]), nr_score_cache_free(rev), nr_score_cache_free(empty);
    }

    TEST("every strategy: the same result on 1 and 2 threads")
    {
        /* The predictor trains ensemble members and predicts candidate chunks on the thread
         * pool; the other strategies are sequential but must not care either. */
        nr_predictor_config pc = nr_search_predictor_default();
        pc.embed_dim = 8;
        pc.layers = 2;
        pc.epochs = 5;
        pc.ensemble = 3;
        for (int s = 0; s < NR_NUM_SEARCH_STRATEGIES; s++) {
            nr_search_config c = nr_search_config_default((nr_search_strategy)s);
            c.samples = 20;
            c.budget = 14;
            c.pool = 100;
            c.pred_initial = 4;
            c.pred_per_round = 5;
            c.predictor = &pc;
            c.seed = 21;
            nr_search_result one[2], two[2];
            nr_threads_set(1);
            for (int run = 0; run < 2; run++) CHECK(nr_search_run(T, SC, &c, run, &one[run], &err) == NR_OK);
            nr_threads_set(2);
            for (int run = 0; run < 2; run++) CHECK(nr_search_run(T, SC, &c, run, &two[run], &err) == NR_OK);
            for (int run = 0; run < 2; run++) {
                one[run].seconds = two[run].seconds = 0;
                CHECK_MSG(!memcmp(&one[run], &two[run], sizeof one[run]), "strategy %s run %d",
                          nr_search_strategy_name((nr_search_strategy)s), run);
            }
        }
        nr_threads_set(1);
    }

    TEST("bad settings")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_REA);
        nr_error e = {0};
        c.budget = 0;
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "budget") != NULL);
        c = nr_search_config_default(NR_SEARCH_REA);
        c.tournament = 11;
        nr_error_clear(&e);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "tournament") != NULL);
        c = nr_search_config_default(NR_SEARCH_RANDOM);
        c.samples = NR_NUM_ARCHS + 1;
        CHECK(nr_search_run(T, NULL, &c, 0, &res, NULL) == NR_ERR_INVALID);
        c = nr_search_config_default(NR_SEARCH_NASWOT);
        nr_error_clear(&e);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &e) == NR_ERR_INVALID); /* no scores */
        CHECK(strstr(e.text, "scores") != NULL);
        c = nr_search_config_default(NR_SEARCH_REA);
        c.reward_epochs = 25;
        CHECK(nr_search_run(T, NULL, &c, 0, &res, NULL) == NR_ERR_INVALID);
        CHECK(res.index == -1 && isnan(res.test));
        c = nr_search_config_default(NR_SEARCH_PREDICTOR);
        c.pred_candidates = 5; /* fewer than the 10 queried per round */
        nr_error_clear(&e);
        CHECK(nr_search_run(T, SC, &c, 0, &res, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "candidates") != NULL);
        nr_predictor_config bad = nr_search_predictor_default();
        bad.ensemble = 0;
        c = nr_search_config_default(NR_SEARCH_PREDICTOR);
        c.predictor = &bad;
        CHECK(nr_search_run(T, NULL, &c, 0, &res, NULL) == NR_ERR_INVALID);
        /* 12-epoch rewards without the 12-epoch table */
        nr_table *t200;
        CHECK(nr_table_load(NULL, &t200, &err) == NR_OK);
        c = nr_search_config_default(NR_SEARCH_REA);
        nr_error_clear(&e);
        CHECK(nr_search_run(t200, NULL, &c, 0, &res, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "12-epoch") != NULL);
        c.reward_epochs = 200;
        CHECK(nr_search_run(t200, NULL, &c, 0, &res, NULL) == NR_OK);
        nr_table_free(t200);
    }

    TEST("other datasets report their own accuracies")
    {
        nr_search_config c = nr_search_config_default(NR_SEARCH_RANDOM);
        c.samples = 5;
        c.dataset = NR_DS_CIFAR100;
        c.observer = record;
        c.observer_ctx = &tr;
        trace_reset(&tr);
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        const nr_table_row *row = nr_table_by_index(T, res.index);
        CHECK(res.valid == row->valid[NR_DS_CIFAR100] && res.test == row->test[NR_DS_CIFAR100]);
        CHECK(res.reward == row->valid12[NR_DS_CIFAR100]);
        c.dataset = NR_DS_IMAGENET16;
        c.reward_epochs = 200;
        CHECK(nr_search_run(T, NULL, &c, 0, &res, &err) == NR_OK);
        row = nr_table_by_index(T, res.index);
        CHECK(res.reward == row->valid[NR_DS_IMAGENET16] && res.test == row->test[NR_DS_IMAGENET16]);
    }

    TEST("summary: means and population standard deviations")
    {
        nr_search_result r[4] = {{0}};
        double tv[4] = {90, 92, 94, 96}, vv[4] = {1, 1, 1, 5};
        for (int i = 0; i < 4; i++) r[i].test = tv[i], r[i].valid = vv[i], r[i].queries = i, r[i].seconds = 0.5;
        nr_search_summary s;
        nr_search_summarize(r, 4, &s);
        CHECK(s.runs == 4);
        CHECK_NEAR(s.test_mean, 93, 1e-12);
        CHECK_NEAR(s.test_std, sqrt(5.0), 1e-12);
        CHECK_NEAR(s.valid_mean, 2, 1e-12);
        CHECK_NEAR(s.valid_std, sqrt(3.0), 1e-12);
        CHECK_NEAR(s.queries_mean, 1.5, 1e-12);
        CHECK_NEAR(s.seconds_mean, 0.5, 1e-12);
        CHECK(s.test_min == 90 && s.test_max == 96);
        nr_search_summarize(r, 0, &s);
        CHECK(s.runs == 0 && isnan(s.test_mean));
    }

    TEST("score cache: files, errors, unknown archs")
    {
        char dir[] = "/tmp/nasrank_search_XXXXXX", p[256];
        CHECK(mkdtemp(dir) != NULL);
        snprintf(p, sizeof p, "%s/s.csv", dir);
        FILE *f = fopen(p, "w");
        fprintf(f, "index,naswot,other\n9930,1700.5,x\n6111,-inf,y\n9930,1700.5,dup\n");
        fclose(f);
        nr_score_cache *c;
        CHECK(nr_score_cache_create(T, &c, &err) == NR_OK);
        CHECK(nr_score_cache_load_csv(c, p, NULL, &err) == NR_OK);
        CHECK(nr_score_cache_known(c) == 2 && nr_score_cache_computed(c) == 0);
        double v;
        CHECK(nr_score_cache_get(c, 9930, &v, &err) == NR_OK && v == 1700.5);
        CHECK(nr_score_cache_get(c, 6111, &v, &err) == NR_OK && isinf(v) && v < 0);
        nr_error e = {0};
        CHECK(nr_score_cache_get(c, 1, &v, &e) == NR_ERR_NOTFOUND);
        CHECK(strstr(e.text, "index 1 ") != NULL);
        CHECK(!nr_score_cache_has(c, 1) && nr_score_cache_has(c, 9930));
        nr_error_clear(&e);
        CHECK(nr_score_cache_get(c, NR_NUM_ARCHS, &v, &e) == NR_ERR_INVALID);
        /* by arch string, a custom column */
        f = fopen(p, "w");
        fprintf(f, "arch_str,synflow\n%s,3.5\n",
                "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|");
        fclose(f);
        CHECK(nr_score_cache_load_csv(c, p, "synflow", &err) == NR_OK);
        CHECK(nr_score_cache_get(c, 9930, &v, &err) == NR_OK && v == 3.5);
        /* a repeated arch with another score: error at its line, cache unchanged */
        f = fopen(p, "w");
        fprintf(f, "index,naswot\n5,1\n7,2\n5,3\n");
        fclose(f);
        nr_error_clear(&e);
        CHECK(nr_score_cache_load_csv(c, p, NULL, &e) == NR_ERR_INVALID);
        CHECK(e.line == 4 && e.column == 2 && strstr(e.text, "line 2") != NULL);
        CHECK(!nr_score_cache_has(c, 5) && !nr_score_cache_has(c, 7));
        /* missing column, bad value, bad index */
        f = fopen(p, "w");
        fprintf(f, "index,score\n5,1\n");
        fclose(f);
        nr_error_clear(&e);
        CHECK(nr_score_cache_load_csv(c, p, NULL, &e) == NR_ERR_INVALID);
        CHECK(strstr(e.text, "'naswot'") != NULL && e.line == 1);
        f = fopen(p, "w");
        fprintf(f, "index,naswot\n5,abc\n");
        fclose(f);
        nr_error_clear(&e);
        CHECK(nr_score_cache_load_csv(c, p, NULL, &e) == NR_ERR_PARSE);
        CHECK(e.line == 2 && e.column == 2);
        f = fopen(p, "w");
        fprintf(f, "index,naswot\n15625,1\n");
        fclose(f);
        nr_error_clear(&e);
        CHECK(nr_score_cache_load_csv(c, p, NULL, &e) == NR_ERR_INVALID);
        CHECK(e.line == 2 && e.column == 1);
        f = fopen(p, "w");
        fprintf(f, "arch,naswot\n|nor_conv_3x3~0|+|bogus~0|,1\n");
        fclose(f);
        nr_error_clear(&e);
        CHECK(nr_score_cache_load_csv(c, p, NULL, &e) == NR_ERR_PARSE);
        CHECK(e.line == 2);
        /* the partial-results file of `nasrank score` (lexicographic ids; torn last line) */
        f = fopen(p, "w");
        fprintf(f, "# nasrank score partial v1 seed=1 batch=128 dataset=cifar10 variant=reference images=x\n"
                   "0,-inf,0,73306,0.1\n%d,1234.5,1,651264,0.2\n15624,99", nr_arch_to_id(&nr_table_by_index(T, 9930)->arch));
        fclose(f);
        nr_score_cache *pc;
        CHECK(nr_score_cache_create(T, &pc, &err) == NR_OK);
        CHECK(nr_score_cache_load_csv(pc, p, NULL, &err) == NR_OK);
        CHECK(nr_score_cache_known(pc) == 2);
        CHECK(nr_score_cache_get(pc, 9930, &v, &err) == NR_OK && v == 1234.5);
        nr_arch zero = nr_arch_from_id(0);
        CHECK(nr_score_cache_get(pc, nr_table_by_arch(T, &zero)->index, &v, &err) == NR_OK && isinf(v));
        f = fopen(p, "w");
        fprintf(f, "# nasrank score partial v1\n1,2,1,3,4\nbad line\n");
        fclose(f);
        nr_error_clear(&e);
        CHECK(nr_score_cache_load_csv(pc, p, NULL, &e) == NR_ERR_PARSE);
        CHECK(e.line == 3);
        CHECK(nr_score_cache_known(pc) == 2);
        nr_score_cache_free(pc);
        remove(p);
        rmdir(dir);
        /* naswot on a partial cache fails cleanly; set() fills the gap */
        nr_search_config sc = nr_search_config_default(NR_SEARCH_NASWOT);
        sc.samples = 5;
        nr_error_clear(&e);
        CHECK(nr_search_run(T, c, &sc, 0, &res, &e) == NR_ERR_NOTFOUND);
        CHECK(nr_score_cache_set(c, -1, 0, NULL) == NR_ERR_INVALID);
        nr_score_cache_free(c);
    }

    TEST("score cache: on-demand NASWOT, each arch once")
    {
        /* a tiny random batch (B = 4) keeps this fast; the score itself is tested in test_score */
        nr_score_cache *c;
        CHECK(nr_score_cache_create(T, &c, &err) == NR_OK);
        nr_macro_config m = nr_macro_default();
        m.C = 4;
        m.N = 1;
        m.image_size = 8;
        float img[4 * 3 * 8 * 8];
        nr_rng r = nr_rng_seeded(1);
        for (size_t i = 0; i < sizeof img / sizeof *img; i++) img[i] = (float)nr_rng_normal(&r);
        CHECK(nr_score_cache_enable_naswot(c, &m, 1, img, 4, NR_NASWOT_REFERENCE, &err) == NR_OK);
        nr_search_config sc = nr_search_config_default(NR_SEARCH_NASWOT);
        sc.samples = 6;
        CHECK(nr_search_run(T, c, &sc, 0, &res, &err) == NR_OK);
        size_t computed = nr_score_cache_computed(c);
        CHECK(computed >= 1 && computed <= 6 && nr_score_cache_known(c) == computed);
        CHECK(nr_search_run(T, c, &sc, 0, &res, &err) == NR_OK); /* same draws: all cached */
        CHECK(nr_score_cache_computed(c) == computed);
        double v;
        CHECK(nr_score_cache_get(c, res.index, &v, &err) == NR_OK && v == res.reward);
        nr_score_cache_free(c);
    }

    free(tr.ev);
    nr_score_cache_free(SC);
    nr_table_free(T);
    return TEST_REPORT();
}
