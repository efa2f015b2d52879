#!/bin/sh
# NB201 outputs of this build vs those of an older nasrank, byte for byte: a redesign of the
# engine must not change a single NB201 result.  Compares
#   score   --proxy all,ensemble --no-timing   on N random archs (NASWOT, params, FLOPs and
#                                              every zero-cost proxy)
#   score   --naswot-variant paper, and --dataset cifar100 (another classifier size)
#   train   --model comparator / relativistic with --features naswot,params (model files)
#   rank    with the trained model
#   search  --strategy random,naswot,rea,area,predictor --json --no-timing
# Each command runs once with each binary; any difference fails (exit 1) and is shown,
# with one exception: the gradient-based proxies (synflow, snip, grad_norm, grasp, fisher,
# jacob_cov) of score_* are summed by the graph executor in another order than by the
# hard-wired NB201 tape (float addition is not associative), so they may differ in the last
# bits (grasp, a difference quotient, by up to ~1e-2 relative): for those columns the script
# prints how many values are identical and the largest relative difference, and fails only
# when the ranking of the archs by that column changes or a difference exceeds 1e-6
# (grasp: 1e-2).  Everything else (naswot, params, flops, ensemble, models, rankings,
# search runs) must stay byte-identical.
#
#   benches/nb201_compat.sh [--old-commit SHA | --old-bin PATH] [--new-bin PATH] [--archs N]
#
# --old-commit (default e1d5749, the last commit before the network graph) is checked out
# into a temporary worktree and built there (about a minute).  Needs ../shared/datasets or
# $NASRANK_DATA, as the CLI does.  About 5 minutes on 2 cores with the default 120 archs.
set -eu
here=$(cd "$(dirname "$0")/.." && pwd)
old_commit=e1d5749
old_bin=
new_bin=$here/build/nasrank
archs=120
while [ $# -gt 0 ]; do
    case $1 in
    --old-commit) old_commit=$2; shift 2 ;;
    --old-bin) old_bin=$2; shift 2 ;;
    --new-bin) new_bin=$2; shift 2 ;;
    --archs) archs=$2; shift 2 ;;
    -h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "nb201_compat: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done
work=$(mktemp -d)
trap 'rm -rf "$work"; [ -z "${tree:-}" ] || git -C "$here" worktree remove --force "$tree" >/dev/null 2>&1 || true' EXIT
if [ -z "$old_bin" ]; then
    tree=$work/old-tree
    git -C "$here" worktree add --detach -f "$tree" "$old_commit" >/dev/null 2>&1
    echo "nb201_compat: building $old_commit in a temporary worktree" >&2
    make -C "$tree" -j2 build/nasrank >"$work/old-build.log" 2>&1 || { tail -n 20 "$work/old-build.log"; exit 1; }
    old_bin=$tree/build/nasrank
fi
# both binaries must read the same data: pin it (an old build looks beside its own tree)
if [ -z "${NASRANK_DATA:-}" ]; then
    for d in "$here/datasets" "$here/../shared/datasets"; do
        [ -f "$d/nb201/nb201_200ep.csv" ] && { NASRANK_DATA=$(cd "$d" && pwd); break; }
    done
    export NASRANK_DATA
fi
[ -x "$new_bin" ] || { echo "nb201_compat: $new_bin not built (make)" >&2; exit 2; }

# a fixed random sample of benchmark indices (seeded awk: the same archs every run)
awk -v n="$archs" 'BEGIN { srand(2026); print "index"; for (i = 0; i < n; i++) print int(rand() * 15625) }' \
    >"$work/archs.csv"

# compare_scores OLD.csv NEW.csv: the column rule above (python3, standard library only).
compare_scores() {
    python3 - "$1" "$2" <<'PY'
import csv, math, sys
old, new = (list(csv.DictReader(open(p))) for p in sys.argv[1:3])
loose = {"synflow": 1e-6, "snip": 1e-6, "grad_norm": 1e-6, "fisher": 1e-6, "jacob_cov": 1e-6, "grasp": 1e-2}
ok = len(old) == len(new) and list(old[0]) == list(new[0])
for c in old[0] if ok else []:
    a, b = [r[c] for r in old], [r[c] for r in new]
    if a == b:
        continue
    if c not in loose:
        print("  %s: values differ (must be identical)" % c); ok = False; continue
    x, y = [float(v) for v in a], [float(v) for v in b]
    rel = max((abs(u - v) / abs(u) for u, v in zip(x, y) if u != v and math.isfinite(u) and u != 0), default=0.0)
    same_rank = sorted(range(len(x)), key=lambda i: (x[i], i)) == sorted(range(len(y)), key=lambda i: (y[i], i))
    print("  %s: %d/%d identical, max relative difference %.2g, ranking %s"
          % (c, sum(u == v for u, v in zip(a, b)), len(a), rel, "unchanged" if same_rank else "CHANGED"))
    ok = ok and same_rank and rel <= loose[c]
sys.exit(0 if ok else 1)
PY
}

fail=0
# run NAME ARGS...: runs both binaries with ARGS (OUT in ARGS is replaced by each one's
# output file) and compares the output files and stdout.
run() {
    name=$1; shift
    for side in old new; do
        bin=$old_bin; [ $side = new ] && bin=$new_bin
        mkdir -p "$work/$side"
        args=""
        for a in "$@"; do
            case $a in
            OUT*) a="$name${a#OUT}" ;;
            IN*) a="${a#IN}" ;;
            esac
            args="$args '$a'"
        done
        (cd "$work/$side" && eval "\"$bin\" $args") >"$work/$side/$name.stdout" 2>"$work/$side/$name.stderr" || {
            echo "FAIL $name: $side binary exited non-zero"; sed -n 1,5p "$work/$side/$name.stderr"; fail=1; return; }
    done
    for side in old new; do # wall times are the one thing allowed to differ
        sed -E 's/\(?[0-9]+(\.[0-9]+)? s\)?//g' "$work/$side/$name.stdout" >"$work/$side/$name.stdout.t" && rm "$work/$side/$name.stdout"
    done
    for f in "$work/old/$name"*; do
        g=$work/new/${f##*/}
        case $f in *.stderr) continue ;; esac
        case $name$f in score_*.csv) cmp -s "$f" "$g" || { compare_scores "$f" "$g" || fail=1; continue; } ;; esac
        if ! cmp -s "$f" "$g"; then
            echo "FAIL $name: ${f##*/} differs"; diff "$f" "$g" | head -n 6; fail=1; return
        fi
    done
    echo "ok   $name"
}

run score_all score ../archs.csv --proxy all,ensemble --no-timing --threads 2 -o OUT.csv
run score_paper score ../archs.csv --naswot-variant paper --no-timing -o OUT.csv
run score_c100 score ../archs.csv --dataset cifar100 --proxy naswot,synflow,jacob_cov --no-timing -o OUT.csv
run train_cmp train --model comparator --archs ../archs.csv --epochs 30 --features naswot,params --scores INscore_all.csv --seed 3 -q -o OUT.json
run train_rel train --model relativistic --train-size 60 --epochs 30 --seed 4 -q -o OUT.json
run rank rank --model INtrain_cmp.json ../archs.csv -o OUT.csv
run search search --strategy random,naswot,rea,area,predictor --samples 10 --budget 30 --runs 3 \
    --pool 20 --scores INscore_all.csv --json --no-timing -o OUT.json

if [ $fail -eq 0 ]; then echo "nb201_compat: all outputs identical, gradient proxies within the bounds above ($archs archs; old: $old_bin)"; fi
exit $fail
