/* nasrank — NAS-Bench-201 cell encoding.
 *
 * A cell has 4 nodes; node j = sum over i < j of op_{j<-i}(node i); node 0 is the cell input,
 * node 3 the cell output.  The 6 edges are stored in the order of the official string
 *   |op(1<-0)~0|+|op(2<-0)~0|op(2<-1)~1|+|op(3<-0)~0|op(3<-1)~1|op(3<-2)~2|
 * i.e. edge e: (to,from) = (1,0) (2,0) (2,1) (3,0) (3,1) (3,2).
 * Lexicographic id = e0*3125 + e1*625 + e2*125 + e3*25 + e4*5 + e5 (0..15624); it is NOT the
 * benchmark index (that comes from the table, see table.h).
 */
#ifndef NASRANK_ENCODING_H
#define NASRANK_ENCODING_H

#include <stddef.h>

#include "nasrank/error.h"

typedef enum nr_op {
    NR_OP_NONE = 0,
    NR_OP_SKIP = 1,       /* skip_connect: identity */
    NR_OP_CONV1X1 = 2,    /* nor_conv_1x1: ReLU -> Conv1x1 -> BN */
    NR_OP_CONV3X3 = 3,    /* nor_conv_3x3: ReLU -> Conv3x3(pad 1) -> BN */
    NR_OP_AVGPOOL3X3 = 4, /* avg_pool_3x3: stride 1, pad 1, padding not counted */
    NR_NUM_OPS = 5
} nr_op;

#define NR_NUM_EDGES 6
#define NR_NUM_NODES 4
#define NR_NUM_ARCHS 15625
/* Longest official string is 6 x "avg_pool_3x3~N|" plus separators: < 128. */
#define NR_ARCH_STR_MAX 128

typedef struct nr_arch {
    unsigned char op[NR_NUM_EDGES]; /* nr_op per edge, in string order */
} nr_arch;

/* "none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"; NULL if out of range. */
const char *nr_op_name(int op);
/* Edge e (0..5) goes from node nr_edge_from(e) to node nr_edge_to(e). */
int nr_edge_from(int e);
int nr_edge_to(int e);
/* Edge index of (to, from), or -1 when not an edge. */
int nr_edge_index(int to, int from);

/* Parse the official string.  Errors (NR_ERR_PARSE) name the 1-based character column and
 * what was expected: unknown op, wrong input node ("~3" on node 1), missing '|' or '+',
 * wrong edge count, trailing garbage, empty string, over-long input.  Leading/trailing
 * whitespace is an error too (strings come from files; silent trimming hides bugs).
 * The error's source/line come from (source, line); column = column0 + offset in s, so a
 * CSV reader can pass the cell's location.  source may be NULL ("<arch>"). */
nr_status nr_arch_parse_at(const char *s, const char *source, long line, long column0,
                           nr_arch *out, nr_error *err);
/* Same with source "<arch>", line 1, column0 1 (so errors read "<arch>:1:COL"). */
nr_status nr_arch_parse(const char *s, nr_arch *out, nr_error *err);
/* Same as nr_arch_parse_at for the len bytes at s (s need not be NUL-terminated), so a field
 * with an embedded NUL byte is reported instead of being silently cut short.  len >=
 * NR_ARCH_STR_MAX is rejected as over-long before anything is scanned. */
nr_status nr_arch_parse_n(const char *s, size_t len, const char *source, long line,
                          long column0, nr_arch *out, nr_error *err);

/* Official string into buf (bufsize >= NR_ARCH_STR_MAX is always enough).  Returns the
 * string length (like snprintf). */
size_t nr_arch_format(const nr_arch *a, char *buf, size_t bufsize);

int nr_arch_to_id(const nr_arch *a);            /* 0..15624; -1 if an op is out of range */
nr_arch nr_arch_from_id(int id);                /* id must be in range (else: id 0) */
int nr_arch_equal(const nr_arch *a, const nr_arch *b);

/* ---- Isomorphism (NATS-Bench get_unique_str semantics) ----
 * The key is the string NATS-Bench's to_unique_str(consider_zero=True) builds for node 3:
 * skip_connect is identity, none is a zero term "#", sums commute (terms sorted).  Equal keys
 * <=> same class; it reproduces the table's iso_index exactly (6,466 classes).  It is a
 * refinement of "computes the same function": a "#" term stays in its sum (so a+#  !=  a),
 * a skip of a multi-term node enters the sum as one term (not flattened), and only a node
 * whose value is a single "#" (node 1 fed by none) makes the ops reading it zero.  A conv
 * after a skip equals the same conv on the skip's input.  The key has < NR_ARCH_KEY_MAX
 * characters (at most 112); returns its length like snprintf. */
size_t nr_arch_canonical_key(const nr_arch *a, char *buf, size_t bufsize);
#define NR_ARCH_KEY_MAX 512

/* ---- Counting ---- */
typedef struct nr_macro_config {
    int C;           /* channels of the first stage (16) */
    int N;           /* cells per stage (5) */
    int num_classes; /* 10 / 100 / 120 */
    int in_channels; /* 3 */
    int image_size;  /* 32 (16 for ImageNet16-120) */
} nr_macro_config;

nr_macro_config nr_macro_default(void); /* C=16, N=5, 10 classes, 3 channels, 32x32 */
/* NR_ERR_INVALID (naming every field) unless 1 <= C <= 1024, 1 <= N <= 64, 1 <= classes <=
 * 100000, 1 <= in_channels <= 64 and image_size is a multiple of 4 in 4..1024. */
nr_status nr_macro_config_check(const nr_macro_config *cfg, nr_error *err);

int nr_arch_count_op(const nr_arch *a, nr_op op);
int nr_arch_num_conv(const nr_arch *a); /* conv1x1 + conv3x3 edges */

/* cfg NULL means nr_macro_default().  image_size should be a multiple of 4.
 * Trainable parameters of the full macro net (conv weights, BN affine weight+bias,
 * classifier weight+bias), as NATS-Bench's size_in_mb counts them (x 1e6). */
long nr_arch_params(const nr_arch *a, const nr_macro_config *cfg);
/* Multiply-adds of one forward pass per image as NAS-Bench-201's cost_info "flops" counts
 * them (AutoDL get_model_infos: every Conv2d k*k*Cin*Cout*Hout*Wout, the Linear in*out + out;
 * pools, BN, ReLU and sums not counted).  Divide by 1e6 for the benchmark's unit; CIFAR-10
 * spans 7.78305 .. 220.11969 M, the range the NAS-Bench-201 paper reports. */
double nr_arch_flops(const nr_arch *a, const nr_macro_config *cfg);
/* The "flops" of NASLib's zero-cost benchmark (tensorwatch/torchstat convention: the convs,
 * plus BN 2/element, ReLU 1/input element, AvgPool k*k/output element, the global pool
 * C*(H+1)*(W+1), Linear in*out without bias); nb201_naslib_zc_subset.csv's column x 1e6. */
double nr_arch_flops_naslib(const nr_arch *a, const nr_macro_config *cfg);

#endif
