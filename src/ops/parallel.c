/* nasrank — a small persistent thread pool for the ops kernels.
 *
 * nr_threads_get() - 1 workers sleep on a condition variable.  nr_parallel_for publishes a
 * job (fn, ctx, ntasks) under a new generation number, wakes them, and takes part itself as
 * tid 0.  Tasks are claimed from one atomic word holding (generation << 32 | next task), so
 * a worker that wakes late can never run a task of a job that has already finished.  The
 * caller waits only for workers that are inside a task (g_running), not for sleepers: on a
 * busy machine a descheduled worker costs nothing but its share of the parallelism.
 *
 * Which thread runs a task varies from run to run, but no result depends on it: kernels give
 * each task disjoint outputs and a fixed summation order.  A task that itself calls
 * nr_parallel_for runs the inner loop inline.
 */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ops/ops.h"

static pthread_mutex_t g_run = PTHREAD_MUTEX_INITIALIZER; /* one job (or resize) at a time */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;  /* guards the job description */
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static pthread_t g_workers[NR_OPS_MAX_THREADS];
static int g_nworkers;
static int g_stop;
static uint32_t g_gen; /* current job generation */
static nr_task_fn g_fn;
static void *g_ctx;
static uint32_t g_ntasks;
static _Atomic uint64_t g_state; /* gen << 32 | next task index */
static atomic_int g_running;     /* threads inside claim_and_run */
static _Thread_local int t_in_task;

static void claim_and_run(nr_task_fn fn, void *ctx, uint32_t ntasks, uint32_t gen, int tid)
{
    atomic_fetch_add(&g_running, 1);
    t_in_task = 1;
    uint64_t v = atomic_load(&g_state);
    for (;;) {
        if ((uint32_t)(v >> 32) != gen || (uint32_t)v >= ntasks) break;
        if (atomic_compare_exchange_weak(&g_state, &v, v + 1)) {
            fn(ctx, (long)(uint32_t)v, tid);
            v = atomic_load(&g_state);
        }
    }
    t_in_task = 0;
    atomic_fetch_sub(&g_running, 1);
}

static void *worker(void *arg)
{
    int tid = (int)(intptr_t)arg;
    /* 0, not g_gen: a job published just after this worker was created must not be missed;
     * an old generation only costs one claim that finds nothing. */
    uint32_t seen = 0;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_stop && g_gen == seen) pthread_cond_wait(&g_wake, &g_mu);
        if (g_stop) break;
        seen = g_gen;
        nr_task_fn fn = g_fn;
        void *ctx = g_ctx;
        uint32_t ntasks = g_ntasks;
        pthread_mutex_unlock(&g_mu);
        claim_and_run(fn, ctx, ntasks, seen, tid);
        pthread_mutex_lock(&g_mu);
    }
    pthread_mutex_unlock(&g_mu);
    return NULL;
}

/* Called with g_run held. */
static void stop_workers(void)
{
    pthread_mutex_lock(&g_mu);
    g_stop = 1;
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_mu);
    for (int i = 0; i < g_nworkers; i++) pthread_join(g_workers[i], NULL);
    g_nworkers = 0;
    g_stop = 0;
}

void nr_pool_shutdown(void)
{
    pthread_mutex_lock(&g_run);
    stop_workers();
    pthread_mutex_unlock(&g_run);
}

int nr_parallel_in_task(void) { return t_in_task; }

void nr_parallel_for(long ntasks, nr_task_fn fn, void *ctx)
{
    if (ntasks <= 0) return;
    int nt = nr_threads_get();
    if (nt <= 1 || ntasks == 1 || t_in_task || ntasks > (long)UINT32_MAX) {
        for (long t = 0; t < ntasks; t++) fn(ctx, t, 0);
        return;
    }
    pthread_mutex_lock(&g_run);
    if (g_nworkers != nt - 1) {
        stop_workers();
        for (int i = 0; i < nt - 1; i++) {
            if (pthread_create(&g_workers[i], NULL, worker, (void *)(intptr_t)(i + 1)) != 0)
                break; /* fewer workers: same results, less speed */
            g_nworkers = i + 1;
        }
    }
    pthread_mutex_lock(&g_mu);
    uint32_t gen = ++g_gen;
    g_fn = fn;
    g_ctx = ctx;
    g_ntasks = (uint32_t)ntasks;
    atomic_store(&g_state, (uint64_t)gen << 32);
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_mu);

    claim_and_run(fn, ctx, (uint32_t)ntasks, gen, 0);

    /* Every task is claimed; wait for the ones still running elsewhere. */
    for (int spins = 0; atomic_load(&g_running) != 0; spins++)
        if (spins > 64) sched_yield();
    pthread_mutex_unlock(&g_run);
}
