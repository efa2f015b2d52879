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

    # proxy features (synflow, jacob_cov) from `nasrank score --proxy` columns
    has_help() { "$BIN" train --help | grep -q -- "$1" && ok || bad "train --help lists $1"; }
    for f in naswot synflow snip grad_norm grasp fisher jacob_cov params flops; do has_help "$f"; done
    TINY="--epochs 3 --ensemble 2 --folds 2 --dim 8 --layers 2 -q --no-eval"
    if "$BIN" score "$T/archs8.csv" --proxy synflow,jacob_cov --proxy-batch 8 --no-timing --threads 1 -o "$T/p8.csv" 2>"$T/err"; then
        has "$T/p8.csv" "^index,arch_str,synflow,jacob_cov,params,flops$" "proxy score columns"
        expect 0 "train with synflow from --scores" -- "$BIN" train --archs "$T/archs8.csv" --features synflow --scores "$T/p8.csv" $TINY -o "$T/sf.json"
        has "$T/sf.json" '"synflow"' "synflow feature in the model"
        has "$T/sf.json" '"floors"' "floors in the model"
        expect 0 "train with synflow,jacob_cov,params" -- "$BIN" train --archs "$T/archs8.csv" --features jacob_cov,params,synflow --scores "$T/p8.csv" $TINY -o "$T/sj.json"
        has "$T/out" "features params,synflow,jacob_cov;" "train header lists the features in bit order"
        expect 0 "rank reads the proxy columns of IN.csv" -- "$BIN" rank --model "$T/sj.json" "$T/p8.csv" -o "$T/rsj.csv"
        has "$T/rsj.csv" "^index,arch_str,synflow,jacob_cov,params,flops,predicted,rank$" "rank output columns"
        [ "$(sed 1d "$T/rsj.csv" | wc -l)" -eq 8 ] && ok || bad "rank: one row per arch"
        expect 0 "rank with --scores" -- "$BIN" rank --model "$T/sj.json" "$T/archs8.csv" --scores "$T/p8.csv" -o "$T/rsj2.csv"
        # the same predictions whichever way the columns came
        [ "$(cut -d, -f7,8 "$T/rsj.csv")" = "$(cut -d, -f3,4 "$T/rsj2.csv")" ] && ok || bad "rank: IN.csv columns and --scores predict the same"
        # the features matter: another synflow column gives other predictions
        awk -F, 'BEGIN{OFS=","} NR==1{print; next} {$3 = $3 * 1e12 + 1; print}' "$T/p8.csv" >"$T/p8x.csv"
        expect 0 "rank with other synflow values" -- "$BIN" rank --model "$T/sj.json" "$T/p8x.csv" -o "$T/rsj3.csv"
        [ "$(cut -d, -f7 "$T/rsj.csv")" != "$(cut -d, -f7 "$T/rsj3.csv")" ] && ok || bad "rank: synflow changes the prediction"
        expect 1 "rank without the proxy columns" -- "$BIN" rank --model "$T/sj.json" "$T/archs8.csv"
        has "$T/err" "^nasrank: $T/archs8.csv:1: the model uses the proxy input(s) synflow,jacob_cov: .*nasrank score .* --proxy synflow,jacob_cov" "missing proxy columns message"
        # errors: a missing column, a NaN cell, no --scores
        expect 1 "train: column missing from --scores" -- "$BIN" train --archs "$T/archs8.csv" --features synflow,snip --scores "$T/p8.csv" $TINY -o "$T/x.json"
        has "$T/err" "^nasrank: $T/p8.csv:1: no 'snip' column in the scores file (run .nasrank score --proxy snip. first)" "missing column message"
        awk -F, 'BEGIN{OFS=","} NR==4{$3 = "nan"} {print}' "$T/p8.csv" >"$T/p8nan.csv"
        expect 1 "train: NaN synflow cell" -- "$BIN" train --archs "$T/archs8.csv" --features synflow --scores "$T/p8nan.csv" $TINY -o "$T/x.json"
        has "$T/err" "^nasrank: $T/p8nan.csv:4:3: synflow score is NaN" "NaN cell message (train)"
        expect 1 "rank: NaN synflow cell" -- "$BIN" rank --model "$T/sj.json" "$T/p8nan.csv"
        has "$T/err" "^nasrank: $T/p8nan.csv:4:3: synflow score is NaN" "NaN cell message (rank)"
        awk -F, 'BEGIN{OFS=","} NR==3{$3 = "-2"} {print}' "$T/p8.csv" >"$T/p8neg.csv"
        expect 1 "train: negative synflow" -- "$BIN" train --archs "$T/archs8.csv" --features synflow --scores "$T/p8neg.csv" $TINY -o "$T/x.json"
        has "$T/err" "p8neg.csv:3:3: synflow score is -2 (finite and >= 0 required)" "negative synflow message"
        expect 2 "train: synflow without --scores" -- "$BIN" train --archs "$T/archs8.csv" --features synflow $TINY -o "$T/x.json"
        has "$T/err" "features synflow needs --scores FILE" "synflow without --scores message"
        [ ! -e "$T/x.json" ] && ok || bad "no model written after errors"
    else
        bad "nasrank score --proxy synflow,jacob_cov for the proxy fixture: $(head -c 300 "$T/err")"
    fi
fi
report
