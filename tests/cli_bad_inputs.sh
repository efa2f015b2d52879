#!/bin/sh
# Bad-input corpus: every file of tests/bad_inputs/ (and a few generated ones too big to
# commit) goes through the reader that reads it, via the CLI.  tests/bad_inputs/EXPECTED says,
# per file, the exit code and the EXACT standard error ("nasrank: FILE:LINE:COL: ...").
# Besides the message, every failure must leave no output behind (no -o file, no temporary
# or partial file, nothing on stdout), and a failed --resume must leave the partial file as
# it was.  Ends with "N passed, N failed".
#
#   sh tests/cli_bad_inputs.sh              run everything
#   sh tests/cli_bad_inputs.sh --print      print "kind<TAB>file<TAB>exit<TAB>stderr" as
#                                           observed (to review and update EXPECTED)
# $NASRANK_BIN is the CLI under test, $NASRANK_SOURCE the source tree.
. "$(dirname "$0")/lib_cli.sh"
DIR=$SRC/tests/bad_inputs
PRINT=0
[ "${1:-}" = "--print" ] && PRINT=1
TAB=$(printf '\t')

# The real data (for everything that is not under test): $NASRANK_DATA, else the usual places.
DATA=${NASRANK_DATA:-}
if [ -z "$DATA" ]; then
    for d in "$SRC/datasets" "$SRC/../shared/datasets"; do
        [ -f "$d/nb201/nb201_200ep.csv" ] && DATA=$(cd "$d" && pwd) && break
    done
fi
if [ -z "$DATA" ] || [ ! -f "$DATA/nb201/nb201_200ep.csv" ]; then
    echo "cli_bad_inputs: no NAS-Bench-201 data found (set NASRANK_DATA)" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
export NASRANK_DATA="$DATA"
TABLE=$DATA/nb201/nb201_200ep.csv
TABLE12=$DATA/nb201/nb201_12ep.csv

# A data folder whose 200-epoch (tdata) or 12-epoch (tdata12) table is the file under test.
mkdir -p "$T/tdata/nb201" "$T/tdata12/nb201" "$T/o" "$T/gen"
for d in tdata tdata12; do
    ln -s "$DATA/cifar10" "$T/$d/cifar10"
    ln -s "$DATA/cifar100" "$T/$d/cifar100"
done
ln -s "$TABLE12" "$T/tdata/nb201/nb201_12ep.csv"
ln -s "$TABLE" "$T/tdata12/nb201/nb201_200ep.csv"
A='|nor_conv_3x3~0|+|nor_conv_3x3~0|skip_connect~1|+|nor_conv_1x1~0|nor_conv_3x3~1|none~2|'
printf 'arch,note\n%s,a\n' "$A" >"$T/good.csv"

# A tiny trained model (for rank of bad CSVs, and the model variants below).
TRAIN_TINY="--epochs 2 --ensemble 1 --folds 0 --dim 2 --layers 1 -q --no-eval"
model() {
    [ -s "$T/model.json" ] ||
        "$BIN" train --train-size 20 $TRAIN_TINY -o "$T/model.json" >/dev/null 2>&1
}
# A model variant: $1 = sed / awk edit of the model file (jansson's layout: one value a line).
model_edit() {
    model && "$@" "$T/model.json" >"$f"
}
# Replaces (or with $2 = "drop", removes) the first number of the embedding array.
edit_embedding() {
    awk -v new="$1" 'x == 1 { x = 2; if (new == "drop") next; sub(/-?[0-9][0-9.e+-]*/, new) }
                     /"embedding": \[/ && !x { x = 1 } { print }' "$2"
}

# ---- inputs generated at test time (gen:NAME) ----
gen() {
    f=$T/gen/$1
    case $1 in
    model_embed_dim_huge.json)
        model_edit sed 's/"embed_dim": [0-9]*/"embed_dim": 100000000/' ;;
    model_layers_negative.json)
        model_edit sed 's/"layers": [0-9]*/"layers": -1/' ;;
    model_kind_unknown.json)
        model_edit sed 's/"kind": "comparator"/"kind": "oracle"/' ;;
    model_ensemble_mismatch.json) # says 3 members, holds 1
        model_edit sed 's/"ensemble": [0-9]*/"ensemble": 3/' ;;
    model_short_embedding.json)
        model_edit edit_embedding drop ;;
    model_string_weight.json)
        model_edit edit_embedding '"0.5"' ;;
    model_null_weight.json)
        model_edit edit_embedding null ;;
    model_overflow_weight.json)
        model_edit edit_embedding 1e999 ;;
    score_huge_field.csv) # one cell of 1 MiB + 1 byte
        { printf 'arch,note\n%s,' "$A"; head -c 1048577 /dev/zero | tr '\0' x; echo; } >"$f" ;;
    score_huge_quoted_field.csv) # a quote that opens 2 MiB of text and never closes
        { printf 'arch,note\n%s,"' "$A"; head -c 2097152 /dev/zero | tr '\0' y; } >"$f" ;;
    score_wide_header.csv) # 100,000 columns, none of them an arch
        awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "c%d%s", i, i < 100000 ? "," : "\n" }' >"$f" ;;
    score_wide_dup_header.csv) # 100,000 columns, c1 again at the end
        awk 'BEGIN { for (i = 1; i <= 100000; i++) printf "c%d,", i; print "c1" }' >"$f" ;;
    score_sparse_1100mib.csv) # a sparse file over the 1 GiB CSV limit (refused before reading)
        truncate -s 1100M "$f" ;;
    score_directory.csv) # a directory where a file was expected
        mkdir "$f" ;;
    score_zeros_64mib.csv) # 64 MiB of NUL bytes: reading stops at the first chunk
        head -c 67108864 /dev/zero >"$f" ;;
    score_million_commas.csv)
        { echo arch; head -c 1000000 /dev/zero | tr '\0' ,; echo; } >"$f" ;;
    table_nan_line5000.csv)
        awk -F, 'BEGIN { OFS = "," } NR == 5000 { $4 = "nan" } { print }' "$TABLE" >"$f" ;;
    table_cut_mid_row.csv) # a half-downloaded file
        head -c 2000000 "$TABLE" >"$f" ;;
    table_missing_rows.csv) # rows 7000..7999 lost
        awk 'NR < 7001 || NR > 8001' "$TABLE" >"$f" ;;
    table_extra_row.csv)
        { cat "$TABLE"; sed -n 101p "$TABLE"; } >"$f" ;;
    table_swapped_arch.csv) # two rows with the same arch string
        awk -F, 'BEGIN { OFS = "," } NR == 3 { a = $2 } NR == 12000 { $2 = a } { print }' "$TABLE" >"$f" ;;
    table_iso_not_representative.csv) # iso_index of index 9 points at 5, whose iso_index is not 5
        awk -F, 'BEGIN { OFS = "," } NR == 11 { $NF = 5 } NR == 7 { $NF = 0 } { print }' "$TABLE" >"$f" ;;
    table_iso_wrong_class.csv) # index 5 (a class of its own) claims index 0's class
        awk -F, 'BEGIN { OFS = "," } NR == 7 { $NF = 0 } { print }' "$TABLE" >"$f" ;;
    table_negative_params.csv)
        awk -F, 'BEGIN { OFS = "," } NR == 15626 { $12 = "-0.5" } { print }' "$TABLE" >"$f" ;;
    table_bom_crlf_ok.csv) # accepted: a BOM and CRLF line ends change nothing
        { printf '\357\273\277'; sed 's/$/\r/' "$TABLE"; } >"$f" ;;
    table12_cut.csv)
        head -n 10001 "$TABLE12" >"$f" ;;
    table12_inf.csv)
        awk -F, 'BEGIN { OFS = "," } NR == 42 { $5 = "-inf" } { print }' "$TABLE12" >"$f" ;;
    cifar10_huge_label_run.bin) # 4000 records of the real file, then one with label 255
        { cat "$DATA/cifar10/data_batch_1_head4000.bin"; printf '\377'; head -c 3072 /dev/zero; } >"$f" ;;
    *) echo "cli_bad_inputs: no generator for $1" >&2; return 1 ;;
    esac
}

# run KIND FILE: runs the CLI on FILE (a path) as KIND says; leaves $T/rc, $T/out, $T/err.
# Output files go to $T/o (emptied first).
run() {
    kind=$1; file=$2; shift 2
    rm -rf "$T/o" && mkdir "$T/o"
    fdir=$(dirname "$file"); fbase=$(basename "$file")
    set -- $kind
    k=$1; shift
    case $k in
    arch)
        (cd "$fdir" && "$BIN" query "$(cat "$fbase")" "$@") ;;
    score)
        (cd "$fdir" && "$BIN" score "$fbase" --batch 8 --no-timing -o "$T/o/out.csv" "$@") ;;
    correlate)
        (cd "$fdir" && "$BIN" correlate "$fbase" "$@") ;;
    table)
        rm -f "$T/tdata/nb201/nb201_200ep.csv" && cp "$file" "$T/tdata/nb201/nb201_200ep.csv"
        (cd "$T" && NASRANK_DATA=tdata "$BIN" query 0 "$@") ;;
    table12)
        rm -f "$T/tdata12/nb201/nb201_12ep.csv" && cp "$file" "$T/tdata12/nb201/nb201_12ep.csv"
        (cd "$T" && NASRANK_DATA=tdata12 "$BIN" query 0 "$@") ;;
    table-score) # the table through `score` of an index column (the other reader of it)
        rm -f "$T/tdata/nb201/nb201_200ep.csv" && cp "$file" "$T/tdata/nb201/nb201_200ep.csv"
        printf 'index\n1\n' >"$T/idx.csv"
        (cd "$T" && NASRANK_DATA=tdata "$BIN" score idx.csv --batch 8 --no-timing -o "$T/o/out.csv" "$@") ;;
    cifar10)
        (cd "$fdir" && "$BIN" score "$T/good.csv" --batch 8 --no-timing --images "$fbase" -o "$T/o/out.csv" "$@") ;;
    cifar100)
        (cd "$fdir" && "$BIN" score "$T/good.csv" --batch 8 --no-timing --dataset cifar100 --images "$fbase" -o "$T/o/out.csv" "$@") ;;
    search-scores) # a NASWOT score file for search, nothing computed
        (cd "$fdir" && "$BIN" search --strategy naswot --samples 10 --runs 2 --no-compute --no-timing --scores "$fbase" "$@") ;;
    resume)
        cp "$file" "$T/o/out.csv.partial"
        (cd "$T/o" && "$BIN" score "$T/good.csv" --batch 8 --no-timing --resume -o out.csv "$@") ;;
    model) # a predictor model file (nasrank rank)
        (cd "$fdir" && "$BIN" rank "$T/good.csv" --model "$fbase" -o "$T/o/out.csv" "$@") ;;
    rank-csv) # the input CSV of rank (with a good model)
        model
        (cd "$fdir" && "$BIN" rank "$fbase" --model "$T/model.json" -o "$T/o/out.csv" "$@") ;;
    train-archs) # the CSV of training archs
        (cd "$fdir" && "$BIN" train --archs "$fbase" $TRAIN_TINY -o "$T/o/out.json" "$@") ;;
    train-scores) # a NASWOT score file (score output or partial file) for --features naswot
        (cd "$fdir" && "$BIN" train --train-size 10 --features naswot --scores "$fbase" $TRAIN_TINY -o "$T/o/out.json" "$@") ;;
    *) echo "unknown kind $k" >"$T/err"; return 99 ;;
    esac >"$T/out" 2>"$T/err"
}

# check KIND FILE LABEL WANT_RC WANT_ERR
check() {
    kind=$1; file=$2; label=$3; want_rc=$4; want_err=$5
    run "$kind" "$file"
    rc=$?
    if [ $PRINT = 1 ]; then
        printf '%s\t%s\t%s\t%s\n' "$kind" "$label" "$rc" "$(cat "$T/err")"
        return
    fi
    if [ "$rc" -eq "$want_rc" ]; then ok; else bad "$label ($kind): exit $rc, wanted $want_rc: $(head -c 300 "$T/err")"; fi
    printf '%s\n' "$want_err" | sed '/^$/d' >"$T/want"
    if cmp -s "$T/want" "$T/err"; then ok; else
        bad "$label ($kind): stderr differs
  want: $(cat "$T/want")
  got:  $(head -c 600 "$T/err")"
    fi
    if [ "$rc" -gt 128 ]; then bad "$label ($kind): killed by signal $((rc - 128))"; fi
    if [ "$rc" -ne 0 ]; then
        # nothing left behind: no stdout, no output, no temporary file; a failed resume keeps
        # the partial file byte for byte
        if [ -s "$T/out" ]; then bad "$label ($kind): stdout not empty after a failure"; else ok; fi
        case $kind in
        resume)
            left=$(cd "$T/o" && ls -A | grep -v '^out\.csv\.partial$')
            cmp -s "$file" "$T/o/out.csv.partial" && ok || bad "$label ($kind): partial file changed by a failed resume" ;;
        *) left=$(ls -A "$T/o") ;;
        esac
        if [ -z "$left" ]; then ok; else bad "$label ($kind): left behind after a failure: $left"; fi
    else
        case $kind in
        arch|table|table12|correlate*|search*) [ -s "$T/out" ] && ok || bad "$label ($kind): no output" ;;
        train*) [ -s "$T/o/out.json" ] && ok || bad "$label ($kind): no model written" ;;
        *) [ -s "$T/o/out.csv" ] && [ ! -e "$T/o/out.csv.partial" ] && ok || bad "$label ($kind): no complete output" ;;
        esac
    fi
}

n=0
while IFS="$TAB" read -r kind name want_rc want_err; do
    case $kind in '' | '#'*) continue ;; esac
    case $name in
    gen:*)
        g=${name#gen:}
        [ -e "$T/gen/$g" ] || gen "$g" || { bad "generator $g"; continue; }
        file=$T/gen/$g ;;
    *) file=$DIR/$name ;;
    esac
    if [ ! -e "$file" ]; then bad "$name: no such file"; continue; fi
    n=$((n + 1))
    check "$kind" "$file" "$name" "$want_rc" "$want_err"
done <"$DIR/EXPECTED"

# Every committed input must be listed (a new file without an expectation is a mistake).
for f in "$DIR"/*; do
    b=$(basename "$f")
    case $b in EXPECTED | README.md | make_corpus.py) continue ;; esac
    if grep -q "$TAB$b$TAB" "$DIR/EXPECTED"; then :; else bad "$b has no line in EXPECTED"; fi
done
[ $PRINT = 1 ] && exit 0
echo "cli_bad_inputs: $n inputs tried"
report
