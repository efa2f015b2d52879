/* Shared state of one search run (src/search). */
#ifndef NASRANK_SEARCH_INTERNAL_H
#define NASRANK_SEARCH_INTERNAL_H

#include "nasrank/rng.h"
#include "nasrank/search.h"

typedef struct search_run {
    const nr_table *t;
    nr_score_cache *scores;
    const nr_search_config *cfg;
    int run;
    nr_rng rng;
    nr_dataset reward_ds;   /* CIFAR-10: cifar10-valid */
    int budget;             /* queries allowed */
    int queries;            /* distinct queries so far */
    double *reward;         /* (NR_NUM_ARCHS) reward per index, valid where queried[i] */
    unsigned char *queried; /* (NR_NUM_ARCHS) */
    int *history;           /* (budget) queried indices in query order */
    int best;               /* best queried index so far (-1 none): highest reward, first wins */
    nr_search_result *res;
} search_run;

void search_emit(const search_run *s, nr_search_event_kind kind, int index, int other,
                 double value, int count);
/* A uniform benchmark index (emits DRAW). */
int search_draw(search_run *s);
/* Reward of index: free when already queried; else a new query (emits QUERY).  *out_of_budget
 * is set (and nothing queried) when index is new and the budget is spent. */
nr_status search_query(search_run *s, int index, double *reward, int *out_of_budget,
                       nr_error *err);
/* Score of index for ranking: the cached score (computed on demand); NaN becomes -inf. */
nr_status search_score(search_run *s, int index, double *score, nr_error *err);

/* The predictor-guided strategy (search_predictor.c). */
nr_status search_predictor(search_run *s, nr_error *err);

#endif
