/* Canonical key of a cell: the isomorphism classes of NAS-Bench-201 / NATS-Bench.
 *
 * The benchmark's iso_index groups archs whose get_unique_str (to_unique_str with
 * consider_zero=True) agree.  That string is built node by node:
 *   value(0) = "0"
 *   term(j <- i) = "#"                       if op is none, or value(i) is exactly "#"
 *                = value(i)                  if op is skip_connect
 *                = "(" value(i) ")@" opname  otherwise
 *   value(j) = the terms of node j sorted (byte order) and joined with "+"
 *   key = value(3)
 * Consequences (all confirmed against the table, 6,466 classes, zero mismatches):
 *   - "#" terms are not dropped from sums: none(x) + skip(y) ("#+0") differs from skip(y)
 *     alone, and the number of "#" terms matters;
 *   - only node 1 can be "exactly #" (it has one edge); node 2 with two none edges is "#+#",
 *     so a conv reading it gives the distinct term "(#+#)@nor_conv_3x3";
 *   - a skip of a multi-term node enters the sum as one term, e.g. "#+0", not flattened;
 *   - a conv after a skip equals the same conv on the skip's input: "(0)@op" either way;
 *   - nodes that do not reach node 3 never appear in the key.
 * So the classes refine true functional equivalence: 623 groups of functionally equal archs
 * (zero terms dropped, sums flattened: 4,930 groups) are split by the benchmark; no class of
 * the benchmark mixes functionally different archs.  We reproduce the benchmark, quirks
 * included.  The longest key has 112 characters.
 */
#include "nasrank/encoding.h"

#include <string.h>

typedef struct strbuf {
    char s[NR_ARCH_KEY_MAX];
    size_t n; /* length; may exceed capacity only on overflow (then s is truncated) */
} strbuf;

static void sb_put(strbuf *b, const char *t)
{
    size_t m = strlen(t);
    if (b->n < sizeof b->s - 1) {
        size_t room = sizeof b->s - 1 - b->n;
        memcpy(b->s + b->n, t, m < room ? m : room);
        b->s[b->n + (m < room ? m : room)] = '\0';
    }
    b->n += m;
}

static int cmp_str(const char *a, const char *b)
{
    return strcmp(a, b); /* bytes compare as unsigned: same order as Python's str < */
}

size_t nr_arch_canonical_key(const nr_arch *a, char *buf, size_t bufsize)
{
    strbuf node[NR_NUM_NODES];
    node[0].n = 0;
    node[0].s[0] = '\0';
    sb_put(&node[0], "0");
    for (int j = 1; j < NR_NUM_NODES; j++) {
        strbuf term[NR_NUM_NODES - 1];
        int nt = 0;
        for (int i = 0; i < j; i++) {
            int op = a->op[nr_edge_index(j, i)];
            const char *name = nr_op_name(op);
            strbuf *t = &term[nt++];
            t->n = 0;
            t->s[0] = '\0';
            if (op == NR_OP_NONE || strcmp(node[i].s, "#") == 0) {
                sb_put(t, "#");
            } else if (op == NR_OP_SKIP) {
                sb_put(t, node[i].s);
            } else {
                sb_put(t, "(");
                sb_put(t, node[i].s);
                sb_put(t, ")@");
                sb_put(t, name ? name : "invalid");
            }
        }
        /* insertion sort of at most 3 terms, by pointer */
        strbuf *order[NR_NUM_NODES - 1];
        for (int i = 0; i < nt; i++) {
            strbuf *x = &term[i];
            int k = i;
            while (k > 0 && cmp_str(order[k - 1]->s, x->s) > 0) {
                order[k] = order[k - 1];
                k--;
            }
            order[k] = x;
        }
        node[j].n = 0;
        node[j].s[0] = '\0';
        for (int i = 0; i < nt; i++) {
            if (i) sb_put(&node[j], "+");
            sb_put(&node[j], order[i]->s);
        }
    }
    const strbuf *key = &node[NR_NUM_NODES - 1];
    if (buf && bufsize > 0) {
        size_t have = strlen(key->s);
        size_t c = have < bufsize ? have : bufsize - 1;
        memcpy(buf, key->s, c);
        buf[c] = '\0';
    }
    return key->n;
}
