/* NAS-Bench-201 cell -> op-on-node graph (8 nodes) and isomorphism classes.
 *
 * Node 0 = cell input, node 1 + e = edge e (string order), node 7 = cell output.
 * Edge node e = (j <- i) reads node 0 when i = 0, else every edge node e' with to(e') = i;
 * the output node reads every edge node with to = 3.  A[u][v] = 1 when u feeds v.
 * Â = A^T + I, row v = what node v sums: Â[v][u] = 1 when u feeds v or u = v.
 *
 * Pruning (config prune):
 *   0  every node keeps its graph edges;
 *   1  a `none` node loses its edges (a zero op passes nothing);
 *   2  also every dead edge node: one whose source cell node is identically zero (every
 *      path from the cell input to it crosses a `none`) or whose target cell node does not
 *      reach the cell output through non-none edges.  Its type becomes `none`: the op
 *      cannot influence the output (up to a BatchNorm bias when a conv reads zeros).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "predictor/pred.h"

void pg_build(const nr_arch *a, nr_adjacency adj, int prune, double *ahat, unsigned char *types)
{
    unsigned char op[NR_NUM_EDGES];
    memcpy(op, a->op, sizeof op);
    if (prune >= 2) {
        /* nonzero[i]: cell node i carries signal from the input; reach[j]: node j reaches 3 */
        int nonzero[NR_NUM_NODES] = {1, 0, 0, 0}, reach[NR_NUM_NODES] = {0, 0, 0, 1};
        for (int j = 1; j < NR_NUM_NODES; j++)
            for (int i = 0; i < j; i++)
                if (op[nr_edge_index(j, i)] != NR_OP_NONE && nonzero[i]) nonzero[j] = 1;
        for (int i = NR_NUM_NODES - 2; i >= 0; i--)
            for (int j = i + 1; j < NR_NUM_NODES; j++)
                if (op[nr_edge_index(j, i)] != NR_OP_NONE && reach[j]) reach[i] = 1;
        for (int e = 0; e < NR_NUM_EDGES; e++)
            if (!nonzero[nr_edge_from(e)] || !reach[nr_edge_to(e)]) op[e] = NR_OP_NONE;
    }
    double A[PG_NODES][PG_NODES] = {{0}}; /* A[u][v]: u feeds v */
    for (int e = 0; e < NR_NUM_EDGES; e++) {
        int from = nr_edge_from(e), to = nr_edge_to(e), v = 1 + e;
        if (prune >= 1 && op[e] == NR_OP_NONE) continue;
        if (from == 0) A[0][v] = 1;
        for (int e2 = 0; e2 < NR_NUM_EDGES; e2++)
            if (nr_edge_to(e2) == from && !(prune >= 1 && op[e2] == NR_OP_NONE)) A[1 + e2][v] = 1;
        if (to == 3) A[v][PG_NODES - 1] = 1;
    }
    if (prune >= 3) {
        /* skip nodes are identities: their predecessors feed their successors directly (in
         * topological order, so chains of skips contract too); a skip node keeps no edges */
        for (int e = 0; e < NR_NUM_EDGES; e++) {
            int s = 1 + e;
            if (op[e] != NR_OP_SKIP) continue;
            for (int p = 0; p < PG_NODES; p++)
                for (int q = 0; q < PG_NODES; q++)
                    if (A[p][s] && A[s][q]) A[p][q] = 1;
            for (int u = 0; u < PG_NODES; u++) A[u][s] = A[s][u] = 0;
        }
    }
    types[0] = PG_TYPE_INPUT;
    types[PG_NODES - 1] = PG_TYPE_OUTPUT;
    for (int e = 0; e < NR_NUM_EDGES; e++) types[1 + e] = (unsigned char)(2 + op[e]);
    for (int v = 0; v < PG_NODES; v++)
        for (int u = 0; u < PG_NODES; u++) ahat[v * PG_NODES + u] = A[u][v] + (u == v);
    if (adj == NR_ADJ_NORMALISED) {
        double r[PG_NODES] = {0}, c[PG_NODES] = {0};
        for (int v = 0; v < PG_NODES; v++)
            for (int u = 0; u < PG_NODES; u++) {
                r[v] += ahat[v * PG_NODES + u];
                c[u] += ahat[v * PG_NODES + u];
            }
        for (int v = 0; v < PG_NODES; v++)
            for (int u = 0; u < PG_NODES; u++) ahat[v * PG_NODES + u] /= sqrt(r[v] * c[u]);
    }
}

/* ---- isomorphism classes, computed once per process ---- */

typedef struct keyed {
    char key[128];
    int id;
} keyed;

static int g_cls[NR_NUM_ARCHS];
static int g_ncls = -1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static int cmp_keyed(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

static void compute_classes(void)
{
    keyed *k = malloc(NR_NUM_ARCHS * sizeof *k);
    int *rep = malloc(NR_NUM_ARCHS * sizeof *rep);
    if (!k || !rep) goto done;
    for (int id = 0; id < NR_NUM_ARCHS; id++) {
        nr_arch a = nr_arch_from_id(id);
        nr_arch_canonical_key(&a, k[id].key, sizeof k[id].key);
        k[id].id = id;
    }
    qsort(k, NR_NUM_ARCHS, sizeof *k, cmp_keyed);
    for (int i = 0, first = 0; i < NR_NUM_ARCHS; i++) {
        if (i > 0 && strcmp(k[i].key, k[i - 1].key)) first = i;
        rep[k[i].id] = k[first].id; /* smallest id of the class (sorted by key, then id) */
    }
    int n = 0;
    for (int id = 0; id < NR_NUM_ARCHS; id++)
        g_cls[id] = rep[id] == id ? n++ : g_cls[rep[id]];
    g_ncls = n;
done:
    free(k);
    free(rep);
}

int pg_iso_classes(int *cls)
{
    pthread_once(&g_once, compute_classes);
    if (g_ncls < 0) return -1;
    memcpy(cls, g_cls, sizeof g_cls);
    return g_ncls;
}
