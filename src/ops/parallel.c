/* nasrank — a small persistent thread pool for the ops kernels.
 *
 * nr_threads_get() - 1 workers sleep on a condition variable; nr_parallel_for publishes a
 * job (fn, ctx, ntasks), wakes them, takes part itself as tid 0, and waits until every
 * worker has finished.  Tasks are claimed from an atomic counter, so which thread runs a
 * task varies, but a task's result never depends on it (kernels give each task disjoint
 * outputs and a fixed summation order).  A task that itself calls nr_parallel_for runs the
 * inner loop inline.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "ops/ops.h"

static pthread_mutex_t g_run = PTHREAD_MUTEX_INITIALIZER; /* one job (or resize) at a time */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t g_done = PTHREAD_COND_INITIALIZER;
static pthread_t g_workers[NR_OPS_MAX_THREADS];
static int g_nworkers;
static int g_stop;
static unsigned long g_gen;   /* job generation, guarded by g_mu */
static int g_pending;         /* workers still on the current job, guarded by g_mu */
static nr_task_fn g_fn;
static void *g_ctx;
static long g_ntasks;
static atomic_long g_next;
static _Thread_local int t_in_task;

static void run_tasks(nr_task_fn fn, void *ctx, long ntasks, int tid)
{
    t_in_task = 1;
    for (;;) {
        long t = atomic_fetch_add_explicit(&g_next, 1, memory_order_relaxed);
        if (t >= ntasks) break;
        fn(ctx, t, tid);
    }
    t_in_task = 0;
}

static void *worker(void *arg)
{
    int tid = (int)(intptr_t)arg;
    unsigned long seen = 0;
    pthread_mutex_lock(&g_mu);
    for (;;) {
        while (!g_stop && g_gen == seen) pthread_cond_wait(&g_wake, &g_mu);
        if (g_stop) break;
        seen = g_gen;
        nr_task_fn fn = g_fn;
        void *ctx = g_ctx;
        long ntasks = g_ntasks;
        pthread_mutex_unlock(&g_mu);
        run_tasks(fn, ctx, ntasks, tid);
        pthread_mutex_lock(&g_mu);
        if (--g_pending == 0) pthread_cond_signal(&g_done);
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

void nr_parallel_for(long ntasks, nr_task_fn fn, void *ctx)
{
    if (ntasks <= 0) return;
    int nt = nr_threads_get();
    if (nt <= 1 || ntasks == 1 || t_in_task) {
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
    g_fn = fn;
    g_ctx = ctx;
    g_ntasks = ntasks;
    atomic_store_explicit(&g_next, 0, memory_order_relaxed);
    g_pending = g_nworkers;
    g_gen++;
    pthread_cond_broadcast(&g_wake);
    pthread_mutex_unlock(&g_mu);

    run_tasks(fn, ctx, ntasks, 0);

    pthread_mutex_lock(&g_mu);
    while (g_pending > 0) pthread_cond_wait(&g_done, &g_mu);
    pthread_mutex_unlock(&g_mu);
    pthread_mutex_unlock(&g_run);
}
