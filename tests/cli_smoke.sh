#!/bin/sh
# CLI smoke tests: exit codes, messages, outputs.  $NASRANK_BIN is the CLI under test.
# Ends with "N passed, N failed".
. "$(dirname "$0")/lib_cli.sh"

expect 0 "help" -- "$BIN" --help
has "$T/out" "usage: nasrank" "help text"
expect 0 "version" -- "$BIN" --version
expect 2 "no command" -- "$BIN"
expect 2 "unknown command" -- "$BIN" frobnicate
has "$T/err" "unknown command 'frobnicate'" "unknown command message"
for c in score correlate query; do
    expect 0 "$c --help" -- "$BIN" $c --help
    has "$T/out" "usage: nasrank $c" "$c help text"
done

# query
expect 0 "query 9930" -- "$BIN" query 9930
has "$T/out" "cifar10_test_acc  *94.36" "query 9930 cifar10 test"
expect 0 "query by string" -- "$BIN" query '|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|' --json
has "$T/out" '"index": 6111' "query by string finds 6111"
expect 1 "query bad index" -- "$BIN" query 15625
expect 1 "query bad arch" -- "$BIN" query '|nor_conv_3x3~0|+|bogus~0|'
has "$T/err" "nasrank: <arch>:1:19: unknown op" "query bad arch message"
expect 2 "query no arg" -- "$BIN" query
expect 2 "query bad dataset" -- "$BIN" query 1 --dataset mnist

# correlate: the table's own cifar10-valid column vs cifar10 test is a known tau
awk -F, 'NR==1{print "index,valid"} NR>1{print $1","$3}' "$("$BIN" query 0 >/dev/null 2>&1; echo "${NASRANK_DATA:-../shared/datasets}")/nb201/nb201_200ep.csv" >"$T/valid.csv" 2>/dev/null
if [ -s "$T/valid.csv" ]; then
    expect 0 "correlate valid vs test" -- "$BIN" correlate "$T/valid.csv" --json
    # tau-b of cifar10_valid_acc vs cifar10_test_acc over all 15,625 rows, computed by an
    # O(n^2) pair count in numpy (independent of nasrank): 0.8936758849020286
    has "$T/out" '"n": 15625' "correlate n"
    has "$T/out" '"kendall": 0\.893675884902' "correlate kendall"
fi
# --inf-last: a -inf score ranks last (as a very low finite one would) instead of being dropped
printf 'index,score\n0,1\n1,2\n2,-inf\n3,4\n4,5\n5,0.5\n' >"$T/inf.csv"
printf 'index,score\n0,1\n1,2\n2,-1e9\n3,4\n4,5\n5,0.5\n' >"$T/low.csv"
expect 0 "correlate drops -inf" -- "$BIN" correlate "$T/inf.csv" --csv
has "$T/out" '^score,5,1,' "correlate -inf dropped"
expect 0 "correlate --inf-last" -- "$BIN" correlate "$T/inf.csv" --csv --inf-last
cut -d, -f1-5 "$T/out" >"$T/inf_last.csv"
has "$T/inf_last.csv" '^score,6,0,' "correlate -inf ranked"
expect 0 "correlate low stand-in" -- "$BIN" correlate "$T/low.csv" --csv
cut -d, -f1-5 "$T/out" >"$T/low_out.csv"
same "$T/inf_last.csv" "$T/low_out.csv" "--inf-last ranks like a very low score (tau, rho)"
printf 'arch,score\nnot-an-arch,1\nalso-bad,2\n' >"$T/badarch.csv"
expect 1 "correlate bad arch" -- "$BIN" correlate "$T/badarch.csv"
has "$T/err" "badarch.csv:2:1:" "correlate error location"
expect 1 "correlate missing file" -- "$BIN" correlate "$T/nope.csv"

# score
printf 'arch,note\n|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|,a\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,"dead, all none"\n|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|,dup\n' >"$T/in.csv"
expect 0 "score small" -- "$BIN" score "$T/in.csv" --batch 8 -o "$T/s1.csv"
has "$T/s1.csv" '^arch,note,naswot,params,flops,seconds$' "score header"
# input columns are kept unless this run writes a column of that name
printf 'arch,error,seconds\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,0.5,12\n' >"$T/keep.csv"
expect 0 "score keeps 'error' and 'seconds' it does not write" -- "$BIN" score "$T/keep.csv" --batch 8 --no-timing
has "$T/out" '^arch,error,seconds,naswot,params,flops$' "kept input columns"
expect 0 "score --proxy synflow keeps an earlier naswot" -- "$BIN" score "$T/s1.csv" --batch 8 --no-timing --proxy synflow
has "$T/out" '^arch,note,naswot,seconds,synflow,params,flops$' "earlier naswot kept beside synflow"
has "$T/s1.csv" '"dead, all none",-inf,73306,' "score keeps quoted cells, -inf for dead arch"
[ "$(cut -d, -f3 "$T/s1.csv" | sed -n 2p)" = "$(cut -d, -f3 "$T/s1.csv" | sed -n 4p)" ] && ok || bad "duplicate archs share a score"
[ ! -e "$T/s1.csv.partial" ] && ok || bad "partial file removed after success"
expect 0 "score --no-timing" -- "$BIN" score "$T/in.csv" --batch 8 --no-timing -o "$T/s2.csv"
expect 0 "score --no-timing again, 2 threads" -- "$BIN" score "$T/in.csv" --batch 8 --no-timing --threads 2 -o "$T/s3.csv"
cmp -s "$T/s2.csv" "$T/s3.csv" && ok || bad "byte-identical output across runs and thread counts"
printf 'arch\n|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|\n|nor_conv_3x3~0|+|nor_conv_9x9~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|\n' >"$T/bad.csv"
expect 1 "score bad row" -- "$BIN" score "$T/bad.csv" --batch 8 -o "$T/bad_out.csv"
has "$T/err" "bad.csv:3:19: unknown op" "score bad row location"
[ ! -e "$T/bad_out.csv" ] && ok || bad "no output after a failed run"
expect 0 "score --keep-going" -- "$BIN" score "$T/bad.csv" --batch 8 --keep-going -o "$T/kg.csv"
has "$T/kg.csv" 'unknown op' "keep-going error column"
expect 2 "score --resume without -o" -- "$BIN" score "$T/in.csv" --resume
expect 2 "score bad batch" -- "$BIN" score "$T/in.csv" --batch 1
# resume: kill -9 a run mid-way, resume, compare with an uninterrupted run (byte for byte)
ARCHS=${NASRANK_SOURCE:-.}/datasets/examples/archs30.csv
if [ -f "$ARCHS" ]; then
    "$BIN" score "$ARCHS" --batch 8 --no-timing -o "$T/full.csv" 2>/dev/null
    "$BIN" score "$ARCHS" --batch 8 --no-timing -o "$T/killed.csv" 2>/dev/null &
    pid=$!
    n=0
    while [ "$n" -lt 6 ] && kill -0 $pid 2>/dev/null; do
        n=$( (wc -l <"$T/killed.csv.partial") 2>/dev/null || echo 0)
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    if [ ! -e "$T/killed.csv" ]; then ok; else bad "killed run left no final output"; fi
    expect 0 "score --resume" -- "$BIN" score "$ARCHS" --batch 8 --no-timing --resume -o "$T/killed.csv"
    has "$T/err" "resuming with" "resume message"
    cmp -s "$T/full.csv" "$T/killed.csv" && ok || bad "resumed output identical to an uninterrupted run"
    printf '# nasrank score partial v1 seed=99 batch=8 dataset=cifar10 variant=reference images=x\n' >"$T/other.csv.partial"
    expect 1 "resume with other settings" -- "$BIN" score "$ARCHS" --batch 8 --resume -o "$T/other.csv"
    has "$T/err" "other settings" "resume settings mismatch message"
fi

# JSON output stays valid whatever bytes a kept column holds: Latin-1, control bytes
printf 'arch,note\n|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,"caf\351 \303\251 \001 ""q"""\n' >"$T/latin1.csv"
expect 0 "score --json with non-UTF-8 cells" -- "$BIN" score "$T/latin1.csv" --batch 8 --no-timing --json
if grep -qF '"note": "caf\ufffd '"$(printf '\303\251')"' \u0001 \"q\""' "$T/out"; then ok; else bad "non-UTF-8 cell escaped: $(cat "$T/out")"; fi
report
