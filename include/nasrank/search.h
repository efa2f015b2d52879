/* nasrank — architecture search against the NAS-Bench-201 table (NASWOT paper, Table 2).
 *
 * The table is the search oracle.  A *query* is one ground-truth lookup of an architecture
 * not looked up before in the same run (it stands for training that architecture); looking
 * up an architecture again is free.  Budgets are counted in queries, not in the simulated
 * seconds of the NAS-Bench-201 experiments (the NASWOT paper's REA / random-search numbers
 * are at 12,000 simulated seconds, roughly 100-150 queries).  NASWOT scores are not queries.
 *
 * Strategies (per run; architectures are drawn as uniform benchmark indices 0..15624):
 *   random     N distinct random architectures, all queried (N queries); the best reward wins.
 *   naswot     N draws with replacement, each NASWOT-scored; the highest score wins; no query.
 *              -inf (dead architectures) and NaN scores rank last.  Ties: the first drawn.
 *   rea        regularised evolution (Real et al. 2019, as NAS-Bench-201's R_EA.py):
 *              population P (10) of random archs; then repeat: a tournament of S (3) members
 *              drawn with replacement from the population, the best one's child (one edge op
 *              changed: a node 1..3 uniformly, one of its incoming edges uniformly, a different
 *              op uniformly) joins the population and the oldest member leaves.  Stops when the
 *              next new architecture would exceed the budget (or after max_steps children).
 *              Chosen: the best reward among all queried architectures.
 *   area       REA whose initial population is the top P distinct architectures, by NASWOT
 *              score, of a pool of `pool` uniform draws (NASWOT paper's Assisted REA).
 *   predictor  query pred_initial distinct random archs; then rounds: fit the graph predictor
 *              (predictor.h) on every (arch, reward) queried so far, predict the candidates
 *              and query the pred_per_round best predicted (ties: lower index); until the
 *              budget is spent.  Candidates: one representative (the table's iso_index) of
 *              every isomorphism class none of whose members was queried (isomorphic cells
 *              compute the same function; 6,466 classes), or with pred_candidates = K only
 *              the K of those with the highest NASWOT scores.  A fit uses at most as many
 *              early-stopping folds as the labelled archs span isomorphism classes.  Chosen: the best reward among the
 *              queried.  The predictor's seed for round k of run r is drawn from the run's
 *              stream, so runs stay independent and deterministic.
 * The reward is the validation accuracy of cfg.dataset after reward_epochs (12: the 12-epoch
 * table, as NAS-Bench-201's own search experiments use; 200: the final one).  For CIFAR-10 it
 * is cifar10-valid's x-valid.  Results are always reported with the chosen architecture's
 * 200-epoch accuracies: CIFAR-10 valid = cifar10-valid x-valid, test = cifar10 ori-test;
 * CIFAR-100 / ImageNet16-120: x-valid / x-test (table.h).
 *
 * Determinism: run r uses nr_rng_stream(seed, "search/run/<r>") only, so runs are
 * independent and a (seed, run) pair gives the same result whatever else was run before
 * (and whatever the strategy, the first draws of a run are the same indices).
 */
#ifndef NASRANK_SEARCH_H
#define NASRANK_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "nasrank/encoding.h"
#include "nasrank/error.h"
#include "nasrank/net.h"
#include "nasrank/predictor.h"
#include "nasrank/score.h"
#include "nasrank/table.h"

/* ---- Scores per architecture (NASWOT or any other score column) ---- */

/* Score of every benchmark index: loaded from a score file, set one by one, or computed on
 * demand with NASWOT and cached (each architecture is scored at most once per cache). */
typedef struct nr_score_cache nr_score_cache;

/* An empty cache for the table's architectures.  t is borrowed and must outlive the cache.
 * *out is new (free with nr_score_cache_free). */
nr_status nr_score_cache_create(const nr_table *t, nr_score_cache **out, nr_error *err);
void nr_score_cache_free(nr_score_cache *c);

/* Scores from a CSV with an `arch` / `arch_str` column (official string; preferred) or an
 * `index` column, and the score column `column` (NULL: "naswot"), as `nasrank score` writes
 * it.  "-inf" / "inf" / "nan" cells are accepted (non-finite scores rank last); empty cells
 * are an error.  A repeated architecture must repeat its score.  Missing architectures stay
 * unknown.  Also accepted (a proxy column: naswot, synflow, snip, grad_norm, grasp, fisher,
 * jacob_cov): the partial-results file of a running or killed `nasrank score -o OUT`
 * (OUT.partial, v1 or v2, read as nr_feature_scores_read does; a torn last line is ignored).
 * Errors name FILE:LINE:COL.  On failure the cache is unchanged. */
nr_status nr_score_cache_load_csv(nr_score_cache *c, const char *path, const char *column,
                                  nr_error *err);
/* Record one score.  NR_ERR_INVALID for an index out of range. */
nr_status nr_score_cache_set(nr_score_cache *c, int index, double score, nr_error *err);
/* Compute missing scores with nr_naswot_score_arch(arch, cfg, seed, images, B, variant).
 * images (B, 3, S, S) are copied.  cfg NULL: nr_macro_default(). */
nr_status nr_score_cache_enable_naswot(nr_score_cache *c, const nr_macro_config *cfg,
                                       uint64_t seed, const float *images, int B,
                                       nr_naswot_variant variant, nr_error *err);
/* The score of a benchmark index: cached, else computed (when enabled), else
 * NR_ERR_NOTFOUND ("no score for index ... (give a score file)"). */
nr_status nr_score_cache_get(nr_score_cache *c, int index, double *score, nr_error *err);
int nr_score_cache_has(const nr_score_cache *c, int index);
size_t nr_score_cache_known(const nr_score_cache *c);    /* indices with a score */
size_t nr_score_cache_computed(const nr_score_cache *c); /* of which computed on demand */
double nr_score_cache_seconds(const nr_score_cache *c);  /* wall time spent computing */

/* ---- Strategies ---- */

typedef enum nr_search_strategy {
    NR_SEARCH_RANDOM = 0,
    NR_SEARCH_NASWOT = 1,
    NR_SEARCH_REA = 2,
    NR_SEARCH_AREA = 3,
    NR_SEARCH_PREDICTOR = 4,
    NR_NUM_SEARCH_STRATEGIES = 5
} nr_search_strategy;

/* "random", "naswot", "rea", "area", "predictor" (case-insensitive). */
nr_status nr_search_strategy_parse(const char *name, nr_search_strategy *out, nr_error *err);
const char *nr_search_strategy_name(nr_search_strategy s); /* NULL when out of range */
/* 1 when the strategy's size is a query budget (rea, area, predictor), 0 when it is a
 * sample count N (random, naswot). */
int nr_search_uses_budget(nr_search_strategy s);

/* What a run did, for tests and traces (see nr_search_config.observer). */
typedef enum nr_search_event_kind {
    NR_SEARCH_EV_DRAW = 0,   /* index drawn uniformly at random */
    NR_SEARCH_EV_SCORE,      /* index's score consulted; value = score */
    NR_SEARCH_EV_QUERY,      /* new ground-truth query; value = reward, count = queries so far */
    NR_SEARCH_EV_JOIN,       /* index joins the REA population; count = size after */
    NR_SEARCH_EV_LEAVE,      /* index (the oldest) leaves the population; count = size after */
    NR_SEARCH_EV_CONTESTANT, /* index drawn into a tournament */
    NR_SEARCH_EV_CHILD,      /* index = child, other = its parent (the tournament winner) */
    NR_SEARCH_EV_FIT,        /* predictor fitted on count labelled archs */
    NR_SEARCH_EV_PREDICT,    /* index proposed by the predictor; value = prediction */
    NR_SEARCH_EV_CHOSEN      /* the run's answer; value = its reward (naswot: its score) */
} nr_search_event_kind;

typedef struct nr_search_event {
    nr_search_event_kind kind;
    int run;
    int index;  /* benchmark index */
    int other;  /* see the kinds; -1 when unused */
    double value;
    int count;
} nr_search_event;

typedef void (*nr_search_observer)(void *ctx, const nr_search_event *ev);

typedef struct nr_search_config {
    nr_search_strategy strategy;
    nr_dataset dataset;   /* NR_DS_CIFAR10 (cifar10-valid means the same), CIFAR100, IMAGENET16 */
    int samples;          /* random, naswot: N (random: N distinct archs = N queries) */
    int budget;           /* rea, area, predictor: ground-truth queries */
    int reward_epochs;    /* 12 (needs nr_table_load_12ep) or 200 */
    int population;       /* rea/area: P (10) */
    int tournament;       /* rea/area: S (3) */
    int pool;             /* area: NASWOT-scored draws for the initial population (1000) */
    int max_steps;        /* rea/area: cap on children; 0 = 100 * budget + 1000 */
    int pred_initial;     /* predictor: random queries before the first fit (10) */
    int pred_per_round;   /* predictor: top predicted unseen archs queried per round (10) */
    int pred_candidates;  /* predictor: 0 = rank every unseen arch; K > 0 = rank only the
                           * top-K unseen archs by NASWOT score (needs scores) */
    const nr_predictor_config *predictor; /* predictor: the model and its training; NULL =
                                           * nr_search_predictor_default() (seed ignored) */
    nr_score_cache *const *pred_feature_scores; /* predictor: the values of the model's proxy
                           * features, one cache per score feature (nr_predictor_score_feature
                           * order); NULL, or a NULL entry: that feature reads the run's
                           * `scores` (as NASWOT always did).  Non-finite values other than the
                           * -inf some proxies allow fail the fit (predictor.h).  Borrowed. */
    uint64_t seed;        /* run r: nr_rng_stream(seed, "search/run/<r>") */
    nr_search_observer observer; /* may be NULL */
    void *observer_ctx;
} nr_search_config;

/* Defaults for a strategy: CIFAR-10, N = 100, budget = 50, reward 12 epochs, P = 10, S = 3,
 * pool = 1000, predictor 10 initial + 10 per round over all unseen archs, seed 0. */
nr_search_config nr_search_config_default(nr_search_strategy s);

/* 1 when cfg's strategy reads scores: naswot, area; predictor with pred_candidates > 0 or a
 * proxy feature without its own cache in pred_feature_scores. */
int nr_search_needs_scores(const nr_search_config *cfg);

/* The predictor settings the search uses by default (see search_predictor.c): the predictor
 * library's defaults with the changes that suit a few dozen labels. */
nr_predictor_config nr_search_predictor_default(void);

typedef struct nr_search_result {
    int index;      /* chosen architecture (benchmark index) */
    nr_arch arch;
    double valid;   /* its 200-epoch validation accuracy on cfg.dataset (see above), percent */
    double test;    /* its 200-epoch test accuracy */
    double reward;  /* what the search chose it by: its reward, or (naswot) its score */
    int queries;    /* distinct ground-truth lookups (<= budget / = N for random) */
    int draws;      /* uniform random draws */
    int scored;     /* score lookups (naswot: N; area: pool) */
    int steps;      /* rea/area: children made; predictor: fits */
    double seconds; /* wall time of the run (includes scores computed on demand) */
} nr_search_result;

/* One run (number `run`, 0-based) of cfg's strategy.  scores may be NULL for random and rea
 * (and predictor without pred_candidates).  NR_ERR_INVALID for bad settings (N or budget < 1
 * or > 15625, P or S < 1, S > P ..., reward_epochs 12 without the 12-epoch table, a dataset
 * without a 12-epoch column); score-cache errors pass through. */
nr_status nr_search_run(const nr_table *t, nr_score_cache *scores, const nr_search_config *cfg,
                        int run, nr_search_result *out, nr_error *err);

typedef struct nr_search_summary {
    int runs;
    double valid_mean, valid_std; /* std with divisor n (numpy np.std, as the paper) */
    double test_mean, test_std;
    double test_min, test_max;
    double queries_mean;
    double seconds_mean;
} nr_search_summary;

void nr_search_summarize(const nr_search_result *r, int n, nr_search_summary *out);

#endif
