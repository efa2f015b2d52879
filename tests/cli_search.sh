#!/bin/sh
# CLI tests of 'nasrank search' and 'nasrank correlate --plot': exit codes, messages, table and
# JSON output, determinism, plot files.  $NASRANK_BIN is the CLI under test.
# Ends with "N passed, N failed".
. "$(dirname "$0")/lib_cli.sh"
is_svg() { # is_svg FILE DESCRIPTION: starts with <?xml or <svg, ends with </svg>, well-formed XML
    if { head -c 5 "$1" | grep -q '^<?xml' || head -c 4 "$1" | grep -q '^<svg'; } &&
        [ "$(tail -c 7 "$1" | tr -d '\n')" = "</svg>" ] &&
        { ! command -v xmllint >/dev/null || xmllint --noout "$1" 2>/dev/null; }; then ok; else bad "$2: $1 is not an SVG file"; fi
}
is_png() { # is_png FILE DESCRIPTION: the 8-byte PNG signature, an IHDR first, an IEND chunk last
    if [ "$(head -c 16 "$1" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a0000000d49484452" ] &&
        [ "$(tail -c 12 "$1" | od -An -tx1 | tr -d ' \n')" = "0000000049454e44ae426082" ]; then ok; else bad "$2: $1 is not a PNG file"; fi
}

# usage errors
expect 0 "search --help" -- "$BIN" search --help
has "$T/out" "usage: nasrank search" "search help text"
expect 2 "search without --strategy" -- "$BIN" search
has "$T/err" "strategy is required" "missing strategy message"
expect 2 "unknown strategy" -- "$BIN" search --strategy bogus
has "$T/err" "unknown search strategy 'bogus'" "unknown strategy message"
expect 2 "bad reward epochs" -- "$BIN" search --strategy rea --reward-epochs 25
expect 2 "bad budget" -- "$BIN" search --strategy rea --budget 0
expect 2 "bad budget list" -- "$BIN" search --strategy rea --budget 10,x
expect 2 "tournament larger than population" -- "$BIN" search --strategy rea --population 3 --tournament 4
expect 2 "plot extension" -- "$BIN" search --strategy random --plot "$T/x.pdf"
has "$T/err" ".svg or .png" "plot extension message"
expect 2 "stray argument" -- "$BIN" search --strategy random extra

# table: random and rea at one budget, both rows, paper-style columns
expect 0 "random,rea table" -- "$BIN" search --strategy random,rea --budget 20 --runs 5 --no-timing
has "$T/out" "^Method *N / budget *cifar10-valid valid *cifar10 test *queries" "table header"
has "$T/out" "^random *N=20 " "random row"
has "$T/out" "^rea *20 queries .* 20\.0$" "rea row uses its budget"
if grep -q "s/run" "$T/out"; then bad "--no-timing drops s/run"; else ok; fi

# predictor: a small budget, one fit per run
expect 0 "predictor" -- "$BIN" search --strategy predictor --budget 8 --pred-initial 4 --pred-per-round 4 --runs 2 --no-timing
has "$T/out" "^predictor *8 queries .* 8\.0$" "predictor row"
expect 2 "bad predictor kind" -- "$BIN" search --strategy predictor --pred-kind bogus
expect 2 "bad predictor features" -- "$BIN" search --strategy predictor --pred-features speed
# predictor with proxy features: their columns of --scores (made-up values for every arch)
awk 'BEGIN {print "index,synflow,jacob_cov"; for (i = 0; i < 15625; i++) printf "%d,%.6g,%s\n", i, exp((i * 7919) % 1000 / 25.0), (i % 97 == 5 ? "-inf" : -70 + (i % 13))}' >"$T/proxies.csv"
expect 0 "predictor with synflow,jacob_cov" -- "$BIN" search --strategy predictor --budget 8 --pred-initial 4 --pred-per-round 4 --runs 2 --no-timing --pred-features jacob_cov,synflow,params --scores "$T/proxies.csv" --no-compute --json -o "$T/pf.json"
has "$T/pf.json" '"pred_features": \["params", "synflow", "jacob_cov"\]' "predictor proxy features in the JSON"
expect 0 "predictor with synflow again" -- "$BIN" search --strategy predictor --budget 8 --pred-initial 4 --pred-per-round 4 --runs 2 --no-timing --pred-features jacob_cov,synflow,params --scores "$T/proxies.csv" --no-compute --json -o "$T/pf2.json"
same "$T/pf.json" "$T/pf2.json" "predictor with proxy features is reproducible"
expect 2 "predictor synflow without --scores" -- "$BIN" search --strategy predictor --budget 8 --pred-features synflow
has "$T/err" "pred-features synflow needs --scores FILE with a 'synflow' column" "synflow without --scores message"
# a bad proxy value is refused when the file is read, at its cell (not later, at a fit)
awk 'BEGIN {print "index,synflow"; for (i = 0; i < 15625; i++) printf "%d,%s\n", i, (i == 3 ? "nan" : "1.5")}' >"$T/nanproxy.csv"
expect 1 "predictor: NaN proxy value" -- "$BIN" search --strategy predictor --budget 8 --pred-initial 4 --pred-per-round 4 --runs 1 --pred-features synflow --scores "$T/nanproxy.csv" --no-compute
has "$T/err" "nanproxy.csv:5:2: synflow score is NaN" "NaN proxy value message"
expect 1 "predictor: column missing" -- "$BIN" search --strategy predictor --budget 8 --pred-initial 4 --pred-per-round 4 --runs 1 --pred-features snip --scores "$T/proxies.csv" --no-compute
has "$T/err" 'proxies.csv:1: no .snip. column in the scores file (run .nasrank score --proxy snip. first)' "missing proxy column message"

# an unwritable --plot fails before the search, and leaves no -o output
expect 1 "plot into a missing directory" -- "$BIN" search --strategy random --samples 5 --runs 2 --plot "$T/nodir/p.svg" -o "$T/noplot.txt"
has "$T/err" "nodir/p.svg: cannot write output: directory" "plot directory message"
if [ -e "$T/noplot.txt" ]; then bad "no -o output after a failed plot"; else ok; fi
# JSON: every run, deterministic for a seed
expect 1 "missing score file" -- "$BIN" search --strategy random,area --runs 4 -o "$T/a.json" --scores "$T/none.csv"
has "$T/err" "none.csv" "missing score file message"
if [ -e "$T/a.json" ]; then bad "no output after a failed run"; else ok; fi
TABLE="${NASRANK_DATA:-../shared/datasets}/nb201/nb201_200ep.csv"
[ -f "$TABLE" ] || TABLE="${NASRANK_SOURCE:-.}/../shared/datasets/nb201/nb201_200ep.csv"
if [ -f "$TABLE" ]; then
    # a synthetic score file for every architecture: the 200-epoch cifar10-valid accuracy
    awk -F, 'NR==1{print "index,naswot"} NR>1{print $1","$3}' "$TABLE" >"$T/scores.csv"
    expect 0 "json run 1" -- "$BIN" search --strategy random,rea,area,naswot --samples 15 --budget 15 --pool 30 --runs 4 --seed 7 --json --no-timing -o "$T/a.json" --scores "$T/scores.csv" --no-compute
    expect 0 "json run 2" -- "$BIN" search --strategy random,rea,area,naswot --samples 15 --budget 15 --pool 30 --runs 4 --seed 7 --json --no-timing -o "$T/b.json" --scores "$T/scores.csv" --no-compute
    cmp -s "$T/a.json" "$T/b.json" && ok || bad "same seed, byte-identical JSON"
    has "$T/out" "^area *15 queries" "with --json -o FILE the table goes to stdout"
    has "$T/a.json" '"strategy": "area", "budget": 15, "population": 10, "tournament": 3, "pool": 30' "area row settings"
    has "$T/a.json" '"strategy": "naswot", "samples": 15' "naswot row"
    has "$T/a.json" '{"run": 3, "index": [0-9]*, "arch": "|' "every run listed"
    n_runs=$(grep -c '{"run": ' "$T/a.json")
    [ "$n_runs" -eq 16 ] && ok || bad "16 runs in the JSON, got $n_runs"
    if grep -q '"seconds' "$T/a.json"; then bad "--no-timing drops seconds"; else ok; fi
    # budgets respected, naswot never queries
    if grep '"queries": ' "$T/a.json" | grep -v '"score"' | grep -q '"queries": \(1[6-9]\|[2-9][0-9]\)'; then
        bad "a run exceeded its budget"
    else ok; fi
    grep '"score": ' "$T/a.json" | grep -q -v '"queries": 0' && bad "naswot queried the table" || ok
    # naswot with a score file: the chosen arch is the best-scored of its sample, i.e. with these
    # scores its valid accuracy is its score
    expect 0 "naswot with scores" -- "$BIN" search --strategy naswot --samples 50 --runs 3 --json --scores "$T/scores.csv" --no-compute
    if grep '"score": ' "$T/out" | sed 's/.*"valid": \([0-9.]*\), "test": [0-9.]*, "score": \([0-9.]*\).*/\1 \2/' |
        awk '$1 != $2 {bad = 1} END {exit bad}'; then ok; else bad "naswot chose by its score"; fi
    # a different seed gives different runs
    expect 0 "other seed" -- "$BIN" search --strategy random,rea,area,naswot --samples 15 --budget 15 --pool 30 --runs 4 --seed 8 --json --no-timing -o "$T/c.json" --scores "$T/scores.csv" --no-compute
    cmp -s "$T/a.json" "$T/c.json" && bad "another seed changes the runs" || ok
    # the thread count changes nothing: every strategy (the predictor trains and predicts on
    # the thread pool), and NASWOT scores computed on the fly (BLIS threads)
    for th in 1 2; do
        expect 0 "threads $th" -- "$BIN" search --strategy random,naswot,rea,area,predictor --samples 15 --budget 12 --pool 30 --pred-initial 4 --pred-per-round 4 --runs 3 --seed 5 --json --no-timing -o "$T/th$th.json" --scores "$T/scores.csv" --no-compute --threads $th
        expect 0 "on the fly, threads $th" -- "$BIN" search --strategy naswot --samples 2 --runs 2 --seed 5 --json --no-timing -o "$T/fly$th.json" --threads $th
        has "$T/err" "computed 4 NASWOT scores on the fly" "on-the-fly scores reported"
    done
    cmp -s "$T/th1.json" "$T/th2.json" && ok || bad "1 and 2 threads, byte-identical JSON"
    cmp -s "$T/fly1.json" "$T/fly2.json" && ok || bad "on-the-fly scores, 1 and 2 threads, byte-identical JSON"
    has "$T/fly1.json" '"scores_computed": 4' "on-the-fly scores counted in the JSON"
    # plots: SVG and PNG
    expect 0 "plot svg" -- "$BIN" search --strategy random,naswot --samples 10,30 --runs 20 --scores "$T/scores.csv" --no-compute --plot "$T/p.svg"
    is_svg "$T/p.svg" "search --plot svg"
    expect 0 "plot png" -- "$BIN" search --strategy rea --budget 10,30 --runs 20 --plot "$T/p.png" -o "$T/table.txt"
    is_png "$T/p.png" "search --plot png"
    has "$T/table.txt" "^rea *30 queries" "table written with -o"
    [ ! -s "$T/out" ] && ok || bad "nothing on stdout with -o"
    # a score file that lacks archs: --no-compute fails, naming the index
    head -n 100 "$T/scores.csv" >"$T/partial.csv"
    expect 1 "missing scores" -- "$BIN" search --strategy naswot --samples 100 --runs 2 --scores "$T/partial.csv" --no-compute
    has "$T/err" "no score for benchmark index" "missing score message"
    printf 'index,naswot\n5,abc\n' >"$T/badscores.csv"
    expect 1 "bad score file" -- "$BIN" search --strategy naswot --scores "$T/badscores.csv"
    has "$T/err" "badscores.csv:2:2:" "bad score file location"
    # other datasets and rewards
    expect 0 "cifar100" -- "$BIN" search --strategy random,rea --budget 10 --runs 3 --dataset cifar100 --reward-epochs 200
    has "$T/out" "cifar100 valid *cifar100 test" "cifar100 columns"
    expect 1 "imagenet naswot without scores" -- "$BIN" search --strategy naswot --dataset ImageNet16-120
    has "$T/err" "give --scores" "imagenet needs a score file"
    # correlate --plot
    awk -F, 'NR==1{print "index,valid"} NR>1 && NR<=2001{print $1","$3}' "$TABLE" >"$T/valid.csv"
    expect 0 "correlate --plot svg" -- "$BIN" correlate "$T/valid.csv" --plot "$T/c.svg"
    is_svg "$T/c.svg" "correlate --plot svg"
    expect 0 "correlate --plot png" -- "$BIN" correlate "$T/valid.csv" --plot "$T/c.png" --dataset cifar100
    is_png "$T/c.png" "correlate --plot png"
    expect 2 "correlate --plot bad extension" -- "$BIN" correlate "$T/valid.csv" --plot "$T/c.jpg"
fi
report
