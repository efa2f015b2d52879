#!/bin/sh
# CLI smoke tests of the predictor commands (train, rank): exit codes, messages, outputs,
# determinism.  $NASRANK_BIN is the CLI under test.  Ends with "N passed, N failed".
. "$(dirname "$0")/lib_cli.sh"

# a tiny, fast configuration
SMALL="--epochs 4 --ensemble 2 --folds 2 --dim 8 --layers 2 --hidden 8"

for c in train rank; do
    expect 0 "$c --help" -- "$BIN" $c --help
    has "$T/out" "usage: nasrank $c" "$c help text"
done

# train: usage errors
expect 2 "train without -o" -- "$BIN" train --train-size 20
has "$T/err" "output model file is required" "train without -o message"
expect 2 "train bad model kind" -- "$BIN" train --model gcn -o "$T/m.json"
has "$T/err" "unknown model kind 'gcn'" "bad kind message"
expect 2 "train bad feature" -- "$BIN" train --features naswot,latency -o "$T/m.json"
has "$T/err" "unknown feature 'latency'" "bad feature message"
expect 2 "train too small" -- "$BIN" train --train-size 2 -o "$T/m.json"
expect 2 "train bad lr" -- "$BIN" train --lr abc -o "$T/m.json"
expect 2 "train bad config" -- "$BIN" train --folds 1 -o "$T/m.json"
has "$T/err" "folds" "bad folds message"
expect 2 "train --scores without naswot" -- "$BIN" train --scores x.csv -o "$T/m.json"
[ ! -e "$T/m.json" ] && ok || bad "no model written after usage errors"

# train: a small run, comparator and relativistic
expect 0 "train comparator, 1 thread" -- "$BIN" train --model comparator --train-size 40 --seed 3 $SMALL --threads 1 -o "$T/c.json"
has "$T/out" "^nasrank train: comparator on 40 archs" "train header"
has "$T/out" "held-out tau" "per-epoch lines with held-out tau"
has "$T/out" "^    4 " "epoch 4 line"
has "$T/out" "held-out Kendall tau vs cifar10 test accuracy: " "held-out evaluation"
has "$T/c.json" '"format": "nasrank-predictor"' "model format"
has "$T/c.json" '"kind": "comparator"' "model kind"
expect 0 "train relativistic with params" -- "$BIN" train --model relativistic --train-size 40 --features params,flops $SMALL -q -o "$T/r.json"
if grep -q "^    1 " "$T/out"; then bad "--quiet prints no epoch lines"; else ok; fi
has "$T/r.json" '"params"' "feature names in the model"

# determinism: same seed, 1 or 2 threads -> a byte-identical model file
expect 0 "train again, 2 threads" -- "$BIN" train --model comparator --train-size 40 --seed 3 $SMALL --threads 2 -q -o "$T/c2.json"
cmp -s "$T/c.json" "$T/c2.json" && ok || bad "same seed gives the same model file whatever the thread count"
expect 0 "train other seed" -- "$BIN" train --model comparator --train-size 40 --seed 4 $SMALL -q -o "$T/c3.json"
cmp -s "$T/c.json" "$T/c3.json" && bad "another seed gives another model" || ok

# rank
ARCHS=$SRC/datasets/examples/archs30.csv
if [ -f "$ARCHS" ]; then
    expect 0 "rank to stdout" -- "$BIN" rank --model "$T/c.json" "$ARCHS"
    has "$T/out" "^index,arch_str,predicted,rank$" "rank header keeps the input columns"
    [ "$(wc -l <"$T/out")" -eq 31 ] && ok || bad "rank writes one row per input row"
    [ "$(cut -d, -f4 "$T/out" | sed 1d | sort -n | head -1)" = 1 ] && ok || bad "rank 1 present"
    expect 0 "rank to a file" -- "$BIN" rank --model "$T/r.json" "$ARCHS" -o "$T/ranked.csv"
    expect 0 "correlate the prediction" -- "$BIN" correlate "$T/ranked.csv" --col predicted
    # rank 1 holds the highest prediction
    top=$(sed 1d "$T/ranked.csv" | sort -t, -k3,3 -g -r | head -1 | cut -d, -f4)
    [ "$top" = 1 ] && ok || bad "rank 1 is the highest predicted score (got rank $top)"
    expect 0 "rank again: same output" -- "$BIN" rank --model "$T/r.json" "$ARCHS" -o "$T/ranked2.csv"
    cmp -s "$T/ranked.csv" "$T/ranked2.csv" && ok || bad "rank output reproducible"
fi
printf 'arch\n|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|\n|bogus~0|+|none~0|none~1|+|none~0|none~1|none~2|\n' >"$T/badarch.csv"
expect 1 "rank bad arch row" -- "$BIN" rank --model "$T/c.json" "$T/badarch.csv"
has "$T/err" "badarch.csv:3:2: unknown op" "rank bad arch location"

# rank: bad model files
expect 2 "rank without --model" -- "$BIN" rank "$T/badarch.csv"
expect 1 "rank missing model" -- "$BIN" rank --model "$T/nope.json" "$T/badarch.csv"
has "$T/err" "nope.json" "missing model names the file"
head -c 500 "$T/c.json" >"$T/trunc.json"
expect 1 "rank truncated model" -- "$BIN" rank --model "$T/trunc.json" "$T/badarch.csv"
has "$T/err" "^nasrank: $T/trunc.json:[0-9]*:[0-9]*: invalid JSON" "truncated model message"
sed 's/"version": 1/"version": 7/' "$T/c.json" >"$T/v7.json"
expect 1 "rank wrong version" -- "$BIN" rank --model "$T/v7.json" "$T/badarch.csv"
has "$T/err" "v7.json: unsupported format version 7" "wrong version message"
sed 's/"kind": "comparator"/"kind": "relativistic"/' "$T/c.json" >"$T/kind.json"
expect 1 "rank mismatched kind" -- "$BIN" rank --model "$T/kind.json" "$T/badarch.csv"
has "$T/err" "head.w: expected 8 numbers, got 16" "mismatched kind message"

# NASWOT feature from a scores file (scores made by `nasrank score` on a few archs)
if [ -f "$ARCHS" ]; then
    head -9 "$ARCHS" >"$T/archs8.csv"
    if "$BIN" score "$T/archs8.csv" --batch 8 --no-timing -o "$T/s8.csv" 2>/dev/null; then
        expect 0 "train with NASWOT from --scores" -- "$BIN" train --archs "$T/archs8.csv" --features naswot --scores "$T/s8.csv" --epochs 3 --ensemble 2 --folds 2 --dim 8 --layers 2 -q -o "$T/n.json"
        has "$T/n.json" '"naswot"' "naswot feature in the model"
        expect 0 "rank with a naswot column" -- "$BIN" rank --model "$T/n.json" "$T/s8.csv"
        has "$T/out" "predicted,rank$" "rank output with naswot input"
        expect 0 "rank with --scores" -- "$BIN" rank --model "$T/n.json" "$T/archs8.csv" --scores "$T/s8.csv"
        expect 1 "rank arch without a score" -- "$BIN" rank --model "$T/n.json" "$ARCHS" --scores "$T/s8.csv"
        has "$T/err" "no NASWOT score for" "missing score message"
        expect 1 "train arch without a score" -- "$BIN" train --train-size 20 --features naswot --scores "$T/s8.csv" -o "$T/n2.json"
        has "$T/err" "no NASWOT score for training arch" "train missing score message"
    else
        bad "nasrank score for the NASWOT fixture"
    fi
    expect 2 "train --archs and --train-size" -- "$BIN" train --archs "$ARCHS" --train-size 10 -o "$T/x.json"
fi
report
