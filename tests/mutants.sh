#!/bin/sh
# Mutation check of the gradient tests: a test that cannot fail is a defect.  Each mutant
# below is one deliberate bug in a backward kernel (src/ops/backward.c) or in the network
# backward (src/net/net_train.c); it is compiled in place of the real file, linked with
# tests/test_backward.c against the built library, and must make that test fail.  A mutant
# whose pattern no longer matches the source is an error too (the list went stale).
#   sh tests/mutants.sh            (after `make`; `make mutants` does both)
# Not part of `make test`: ~1 s of compiling per mutant.  Prints "N passed, N failed", one
# pass per mutant caught.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
CC=${CC:-cc}
LIB=$BUILD/libnasrank.a
[ -f "$LIB" ] || { echo "tests/mutants.sh: $LIB missing (run make first)"; echo "0 passed, 1 failed"; exit 1; }
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT INT TERM
CFLAGS="-std=c11 -O2 -w -I$ROOT/include -I$ROOT/src -I/usr/include/x86_64-linux-gnu
        -D_POSIX_C_SOURCE=200809L -DNR_SOURCE_DIR=\"$ROOT\""
LIBS="-ljansson -lcsv -llapacke -lblis -lcairo -lm -lpthread"
# shellcheck disable=SC2086
$CC $CFLAGS -c "$ROOT/tests/test_backward.c" -o "$W/test.o" || { echo "0 passed, 1 failed"; exit 1; }

pass=0
fail=0
# mutant FILE DESCRIPTION FROM TO: replaces the first occurrence of the literal text FROM.
mutant() {
    file=$1 desc=$2
    FROM=$3 TO=$4 perl -0pe 'BEGIN { $f = $ENV{FROM}; $t = $ENV{TO} } s/\Q$f\E/$t/' "$ROOT/$file" > "$W/m.c"
    if cmp -s "$ROOT/$file" "$W/m.c"; then
        echo "STALE  $desc: pattern not found in $file"
        fail=$((fail + 1))
        return
    fi
    # shellcheck disable=SC2086
    if ! $CC $CFLAGS -c "$W/m.c" -o "$W/m.o" 2> "$W/cc.log" ||
       ! $CC "$W/test.o" "$W/m.o" "$LIB" $LIBS -o "$W/t" 2>> "$W/cc.log"; then
        echo "BUILD  $desc: the mutant does not compile"
        cat "$W/cc.log"
        fail=$((fail + 1))
        return
    fi
    if "$W/t" > "$W/out" 2>&1; then
        echo "MISSED $desc"
        fail=$((fail + 1))
    else
        echo "caught $desc ($(grep -E '^[0-9]+ passed, [0-9]+ failed' "$W/out" | tail -n 1))"
        pass=$((pass + 1))
    fi
}

B=src/ops/backward.c
N=src/net/net_train.c
mutant $B "conv dx: kernel not flipped in space" \
    'w[((size_t)co * Cin + ci) * k * k + (k * k - 1 - t)]' 'w[((size_t)co * Cin + ci) * k * k + t]'
mutant $B "conv dx (col2im): padding offset with the wrong sign" \
    'int hi = ho * J->stride - J->pad + kh;' 'int hi = ho * J->stride + J->pad + kh;'
mutant $B "conv dw: last columns of dw dropped when Cin*k*k % 4 != 0" \
    'nr_parallel_for((K + 3) / 4, dw_task, &D);' 'nr_parallel_for(K / 4, dw_task, &D);'
mutant $B "conv dx: 1x1 GEMM overwrites dx (beta 0) instead of accumulating" \
    'nr_sgemm(1, 0, K, HWo, Cout, 1.0f, w, K, dyb, HWo, 1.0f, dxb, HWo);' \
    'nr_sgemm(1, 0, K, HWo, Cout, 1.0f, w, K, dyb, HWo, 0.0f, dxb, HWo);'
mutant $B "batch norm: mean(dy) term missing" 'mdy = (float)(sdy / n)' 'mdy = 0.0f'
mutant $B "batch norm: xhat term without rstd" 'k = (float)(sdyx / n * r)' 'k = (float)(sdyx / n)'
mutant $B "batch norm: dgamma overwritten, not accumulated" \
    'J->dgamma[c] += (float)sdyx;' 'J->dgamma[c] = (float)sdyx;'
mutant $B "relu: mask taken from dy instead of x" \
    'ew_job J = {dx, dy, x, NULL, NULL, n};' 'ew_job J = {dx, dy, dy, NULL, NULL, n};'
mutant $B "avgpool 3x3: padding counted in the divisor" \
    'dy_row[c] / (rows * (float)pool3_taps(c, W));' 'dy_row[c] / 9.0f;'
mutant $B "avgpool 2x2: one tap missed" 'd[W + 1] += g;' 'd[W] += g;'
mutant $B "global pool: wrong divisor" '(double)dy[p] / HW' '(double)dy[p] / (HW + 1)'
mutant $B "linear dw: overwritten (beta 0), not accumulated" \
    'nr_sgemm(1, 0, Out, In, B, 1.0f, dy, Out, x, In, 1.0f, dw, In);' \
    'nr_sgemm(1, 0, Out, In, B, 1.0f, dy, Out, x, In, 0.0f, dw, In);'
mutant $B "linear db: overwritten, not accumulated" 'db[o] += (float)s;' 'db[o] = (float)s;'
mutant $B "add: second operand gets no gradient" 'J.out = db;' 'J.out = da;'
mutant $B "cross-entropy: gradient not divided by the batch" \
    'd[k] += (float)((p - (k == y)) / B);' 'd[k] += (float)(p - (k == y));'
mutant $N "network: skip_connect edges pass no gradient back" \
    'if (a->op[e] == NR_OP_SKIP) nr_add_inplace(dn[src], dn[to], n);' 'if (a->op[e] == NR_OP_SKIP) (void)0;'
mutant $N "network: ResNet shortcut's pool passes no gradient back" \
    'nr_avgpool2x2_backward(dx, dP, B, ci, H, H);' '(void)dP;'
mutant $N "network: cell conv input gradient bypasses the ReLU" \
    'relu_back(t, dn[src], t->dR, x, ts->mask[src], n);' 'nr_add_inplace(dn[src], t->dR, n);'
mutant $N "network: avg_pool_3x3 edges pass no gradient back" \
    'else if (a->op[e] == NR_OP_AVGPOOL3X3) nr_avgpool3x3_backward(dn[src], dn[to], B, C, H, H);' ';'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
