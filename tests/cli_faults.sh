#!/bin/sh
# Fault injection, determinism and concurrent writers, through the CLI:
#   - output to a full device (/dev/full), a read-only or missing directory, a directory, a
#     FIFO; stdout on a full device; a file-size limit (ulimit -f)
#   - an address-space limit (ulimit -v) swept from "cannot even start" to "enough" (query,
#     correlate, search, rank, score)
#   - kill -9 in the middle of `nasrank score` (once, repeatedly, with a torn last line, with
#     a stale temporary file), then --resume: byte-identical to an uninterrupted run
#   - two or three processes writing the same -o: one complete file, never an interleaving;
#     OUT.partial is locked
#   - determinism: same inputs and seed give byte-identical output for 1 and 2 threads and
#     across runs (score; search, including the predictor strategy; train and rank)
# Every failure must give "nasrank: ..." on stderr, exit 1, and leave no half-written output.
# The `seconds` columns are wall time and differ between runs by design; byte-identity checks
# use --no-timing.  $NASRANK_BIN is the CLI under test, $NASRANK_SOURCE the source tree.
# Ends with "N passed, N failed".
. "$(dirname "$0")/lib_cli.sh"
trap 'jobs -p | xargs -r kill -9 2>/dev/null; chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
chmod 755 "$T"
faults=0
xfail=0
fault() { faults=$((faults + 1)); }
t_start=$(date +%s)
section() { echo "cli_faults: $1 ($(($(date +%s) - t_start)) s)" >&2; }
# same_err DESCRIPTION TEXT: stderr is exactly TEXT (one line)
same_err() {
    printf '%s\n' "$2" >"$T/want"
    if cmp -s "$T/want" "$T/err"; then ok; else bad "$1: stderr
  want: $2
  got:  $(head -c 400 "$T/err")"; fi
}
# nothing_left DIR PATTERN DESCRIPTION: no file in DIR matches the shell PATTERN
nothing_left() {
    left=$(cd "$1" && for f in $2; do [ -e "$f" ] && printf '%s ' "$f"; done)
    if [ -z "$left" ]; then ok; else bad "$3: left behind in $1: $left"; fi
}

ARCHS=$SRC/datasets/examples/archs30.csv
if [ ! -f "$ARCHS" ]; then
    echo "cli_faults: $ARCHS not found" >&2
    echo "0 passed, 1 failed"
    exit 1
fi
head -n 6 "$ARCHS" >"$T/in5.csv"   # 5 archs: the quick cases
cp "$ARCHS" "$T/in30.csv"
chmod 644 "$T/in5.csv" "$T/in30.csv"
S="--batch 8 --no-timing"
"$BIN" score "$T/in5.csv" $S -o "$T/ref5.csv" 2>/dev/null
ms() { date +%s%N | cut -c1-13; }
t0=$(ms)
"$BIN" score "$T/in30.csv" $S -o "$T/ref30.csv" 2>/dev/null
# A slow build (sanitizers, valgrind) gets lighter kill/concurrency/determinism workloads.
SLOW=0
[ $(($(ms) - t0)) -gt 1500 ] && SLOW=1
# K: runs slow enough to be killed (or caught) in the middle
K="--batch 32 --no-timing"
[ $SLOW = 1 ] && K="--batch 8 --no-timing"
"$BIN" score "$T/in30.csv" $K -o "$T/ref30k.csv" 2>/dev/null
"$BIN" score "$T/in5.csv" $S --json -o "$T/ref5.json" 2>/dev/null
if [ -s "$T/ref5.csv" ] && [ -s "$T/ref30.csv" ] && [ -s "$T/ref5.json" ] && [ -s "$T/ref30k.csv" ]; then ok; else
    bad "reference runs failed"; echo "$pass passed, $fail failed"; exit 1
fi
ENOSPC="No space left on device"

section "1. full device, FIFO, directory"
# ---- 1. output on a full device, /dev/null, a FIFO, a directory ----------------------------
# As root, renaming a temporary file onto /dev/full would replace the device node itself (a
# bug this guards against); the test uses a private node with the same device number when it
# can, so a regression cannot damage /dev.
if mknod "$T/full" c 1 7 2>/dev/null && mknod "$T/null" c 1 3 2>/dev/null; then
    FULL=$T/full; NULLDEV=$T/null
else
    FULL=/dev/full; NULLDEV=/dev/null
fi
FDIR=$(dirname "$FULL"); FB=$(basename "$FULL")
for fmt in "" "--json"; do
    expect 1 "score -o full device $fmt" -- "$BIN" score "$T/in5.csv" $S $fmt -o "$FULL"; fault
    same_err "score -o full device $fmt" "nasrank: $FULL: write failed: $ENOSPC"
    [ -c "$FULL" ] && ok || bad "full device is still a character device"
    nothing_left "$FDIR" "$FB.partial $FB.tmp.*" "score -o full device $fmt"
done
# the other commands that write files: a model, a ranking, a search table
TT="--train-size 20 --epochs 2 --ensemble 1 --folds 0 --dim 2 --layers 1 -q --no-eval"
"$BIN" train $TT -o "$T/tiny.json" >/dev/null 2>&1
for cmd in "train $TT" "rank --model $T/tiny.json $T/in5.csv" "search --strategy random --runs 3 --no-timing"; do
    # shellcheck disable=SC2086
    "$BIN" $cmd -o "$FULL" >/dev/null 2>"$T/err"
    rc=$?; fault
    [ $rc -eq 1 ] && ok || bad "$cmd -o full device: exit $rc, wanted 1"
    same_err "$cmd -o full device" "nasrank: $FULL: write failed: $ENOSPC"
    [ -c "$FULL" ] && ok || bad "full device is still a character device"
    nothing_left "$FDIR" "$FB.tmp.*" "$cmd -o full device"
done
expect 1 "score -o full device --resume" -- "$BIN" score "$T/in5.csv" $S --resume -o "$FULL"; fault
same_err "score --resume onto a device" "nasrank: $FULL: --resume needs a regular output file"
expect 0 "score -o null device" -- "$BIN" score "$T/in5.csv" $S -o "$NULLDEV"
[ -c "$NULLDEV" ] && ok || bad "null device is still a character device"
nothing_left "$FDIR" "$(basename "$NULLDEV").partial $(basename "$NULLDEV").tmp.*" "score -o null device"
for cmd in "score $T/in5.csv $S" "score $T/in5.csv $S --json" "correlate $T/ref5.csv" \
    "correlate $T/ref5.csv --json" "correlate $T/ref5.csv --csv" "query 9930" "query 9930 --json" \
    "search --strategy random --runs 3 --no-timing" "rank --model $T/tiny.json $T/in5.csv"; do
    # shellcheck disable=SC2086
    "$BIN" $cmd >/dev/full 2>"$T/err"
    rc=$?; fault
    [ $rc -eq 1 ] && ok || bad "$cmd >/dev/full: exit $rc, wanted 1"
    same_err "$cmd >/dev/full" "nasrank: <stdout>: write failed: $ENOSPC"
done
mkfifo "$T/fifo"
cat "$T/fifo" >"$T/fifo.out" &
expect 0 "score -o FIFO" -- "$BIN" score "$T/in5.csv" $S -o "$T/fifo"
wait
same "$T/fifo.out" "$T/ref5.csv" "score through a FIFO"
[ -p "$T/fifo" ] && ok || bad "FIFO still a FIFO"
mkdir "$T/adir"
expect 1 "score -o a directory" -- "$BIN" score "$T/in5.csv" $S -o "$T/adir"; fault
same_err "score -o a directory" "nasrank: $T/adir: cannot write output: is a directory"
nothing_left "$T" "adir.partial adir.tmp.*" "score -o a directory"

section "2. read-only and missing directories"
# ---- 2. read-only and missing directories ------------------------------------------------
mkdir "$T/ro"
chmod 555 "$T/ro"
AS=
if [ "$(id -u)" = 0 ]; then # root writes anywhere: run as nobody
    # nobody must also reach the data (a clone inside a 0700 directory does not): else skip
    if command -v setpriv >/dev/null 2>&1 && setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" --version >/dev/null 2>&1 &&
        setpriv --reuid=65534 --regid=65534 --clear-groups "$BIN" score "$T/in5.csv" $S -o /dev/null >/dev/null 2>&1; then
        AS="setpriv --reuid=65534 --regid=65534 --clear-groups"
    else
        AS=skip
    fi
fi
if [ "$AS" != skip ]; then
    expect 1 "score -o read-only dir" -- $AS "$BIN" score "$T/in5.csv" $S -o "$T/ro/out.csv"; fault
    same_err "score -o read-only dir" "nasrank: $T/ro/out.csv.partial: cannot write partial results: Permission denied"
    expect 1 "score -o read-only dir --json" -- $AS "$BIN" score "$T/in5.csv" $S --json -o "$T/ro/out.json"; fault
    same_err "score -o read-only dir --json" "nasrank: $T/ro/out.json.partial: cannot write partial results: Permission denied"
    [ -z "$(ls -A "$T/ro")" ] && ok || bad "read-only dir: files left: $(ls -A "$T/ro")"
    # a directory that turns read-only after the partial file exists: the final write fails
    mkdir "$T/ro2" && chmod 777 "$T/ro2"
    $AS "$BIN" score "$T/in30.csv" $K -o "$T/ro2/out.csv" >"$T/out" 2>"$T/err" &
    pid=$!
    while kill -0 $pid 2>/dev/null && [ "$( (wc -l <"$T/ro2/out.csv.partial") 2>/dev/null || echo 0)" -lt 2 ]; do sleep 0.02; done
    chmod 555 "$T/ro2"
    wait $pid
    rc=$?; fault
    if [ $rc -eq 1 ]; then
        ok
        same_err "dir read-only at the end" "nasrank: $T/ro2/out.csv: cannot create output file: Permission denied"
        [ ! -e "$T/ro2/out.csv" ] && ok || bad "dir read-only at the end: output exists"
        chmod 777 "$T/ro2"
        expect 0 "resume after the directory is writable again" -- $AS "$BIN" score "$T/in30.csv" $K --resume -o "$T/ro2/out.csv"
        same "$T/ro2/out.csv" "$T/ref30k.csv" "resumed after a read-only directory"
        nothing_left "$T/ro2" "out.csv.partial out.csv.tmp.*" "resumed after a read-only directory"
    elif [ $rc -eq 0 ]; then
        ok; echo "note: scoring finished before the directory became read-only" >&2
    else
        bad "dir read-only at the end: exit $rc: $(cat "$T/err")"
    fi
else
    echo "note: root without setpriv: read-only directory cases skipped" >&2
fi
expect 1 "score -o missing dir" -- "$BIN" score "$T/in5.csv" $S -o "$T/nodir/out.csv"; fault
same_err "score -o missing dir" "nasrank: $T/nodir/out.csv.partial: cannot write partial results: No such file or directory"
[ ! -e "$T/nodir" ] && ok || bad "missing dir was created"

section "3. file-size limit"
# ---- 3. file-size limit (ulimit -f): EFBIG, not death by SIGXFSZ ---------------------------
# A 3072-byte limit: the output (3.8 kB) is over it, the partial file (1.5 kB) under it, so
# the final write fails cleanly, nothing half-written is left, and --resume without the limit
# completes.  (ulimit -f counts 512-byte blocks in dash, 1024-byte blocks in bash.)
unit=$( (trap '' XFSZ; ulimit -f 1 && head -c 4096 /dev/zero >"$T/unit") 2>/dev/null; wc -c <"$T/unit")
(ulimit -f $((3072 / unit)) && exec "$BIN" score "$T/in30.csv" $S -o "$T/fs.csv") >"$T/out" 2>"$T/err"
rc=$?; fault
[ $rc -eq 1 ] && ok || bad "ulimit -f: exit $rc, wanted 1 (153 = SIGXFSZ)"
same_err "ulimit -f" "nasrank: $T/fs.csv: write failed: File too large"
nothing_left "$T" "fs.csv fs.csv.tmp.*" "ulimit -f"
expect 0 "resume after ulimit -f" -- "$BIN" score "$T/in30.csv" $S --resume -o "$T/fs.csv"
same_err "resume after ulimit -f" "nasrank: resuming with 30 scores from $T/fs.csv.partial"
same "$T/fs.csv" "$T/ref30.csv" "resume after ulimit -f"
# a limit so small that the partial file itself hits it: a warning, then the same error
(ulimit -f 1 && exec "$BIN" score "$T/in30.csv" $S -o "$T/fs1.csv") >"$T/out" 2>"$T/err"
rc=$?; fault
[ $rc -eq 1 ] && ok || bad "ulimit -f 1: exit $rc, wanted 1"
if grep -q "warning: $T/fs1.csv.partial: cannot write partial results (File too large)" "$T/err" &&
    grep -q "^nasrank: $T/fs1.csv: write failed: File too large$" "$T/err"; then ok; else bad "ulimit -f 1: $(cat "$T/err")"; fi
nothing_left "$T" "fs1.csv fs1.csv.tmp.*" "ulimit -f 1"
expect 0 "resume after ulimit -f 1" -- "$BIN" score "$T/in30.csv" $S --resume -o "$T/fs1.csv"
same "$T/fs1.csv" "$T/ref30.csv" "resume after ulimit -f 1"

section "4. address-space limit"
# ---- 4. address-space limit (ulimit -v): a clean "out of memory", never a crash -----------
# Swept in steps from the smallest limit the dynamic loader survives up to one where the run
# succeeds.  Every run must exit 0 with the reference output or 1 with "nasrank: ...out of
# memory..." and no output file.  Under AddressSanitizer (which reserves terabytes of shadow
# memory) the sweep cannot run and is skipped.
# Known, outside the CLI: BLIS aborts the process when its own malloc fails (libblis:
# "malloc() returned NULL", SIGABRT) and libgomp exits when it cannot create a thread; they
# are counted as XFAIL (reported for src/ops) unless NASRANK_STRICT_OOM=1.
known_oom() {
    grep -q 'libblis: malloc() returned NULL\|libgomp: Thread creation failed' "$T/err"
}
vm_ok() { (ulimit -v "$1" && "$BIN" --version >/dev/null 2>&1; exit $?) 2>/dev/null; }
if vm_ok 100000000 && ! vm_ok 30000; then
    base=30000
    while [ $base -lt 400000 ] && ! vm_ok $base; do base=$((base + 4000)); done
    # sweep CMD-NAME REFERENCE STEP-KB MAX-KB -- command...
    sweep() {
        name=$1; ref=$2; step=$3; max=$4; shift 5
        v=$base; runs=0; oom=0; done_ok=0
        while [ $v -le "$max" ]; do
            rm -f "$T/vm.out" "$T/vm.out.partial" "$T"/vm.out.tmp.*
            # (not exec'ed: the subshell reports a signal death to /dev/null, not to the log)
            (ulimit -v $v && "$@" >"$T/out" 2>"$T/err"; exit $?) 2>/dev/null
            rc=$?; runs=$((runs + 1)); fault
            if [ $rc -eq 0 ]; then
                if [ -e "$T/vm.out" ]; then same "$T/vm.out" "$ref" "$name ulimit -v $v: output"
                else same "$T/out" "$ref" "$name ulimit -v $v: output"; fi
                done_ok=1
                break
            elif [ $rc -eq 1 ] && grep -q '^nasrank: .*out of memory' "$T/err"; then
                ok; oom=$((oom + 1))
                [ ! -e "$T/vm.out" ] && ok || bad "$name ulimit -v $v: output left after out of memory"
                [ -s "$T/out" ] && bad "$name ulimit -v $v: stdout after out of memory" || ok
            elif known_oom && [ "${NASRANK_STRICT_OOM:-0}" != 1 ]; then
                xfail=$((xfail + 1))
                echo "XFAIL $name ulimit -v $v: exit $rc: $(grep -m1 'libblis: malloc\|libgomp' "$T/err")" >&2
            else
                bad "$name ulimit -v $v: exit $rc: $(head -c 300 "$T/err")"
            fi
            v=$((v + step))
        done
        [ $done_ok = 1 ] && ok || bad "$name: no limit up to $max kB was enough"
        echo "ulimit -v sweep $name: $runs runs from $base kB, $oom clean out-of-memory errors" >&2
    }
    "$BIN" query 9930 --json >"$T/q.ref" 2>/dev/null
    sweep query "$T/q.ref" 1500 400000 -- "$BIN" query 9930 --json
    "$BIN" correlate "$T/ref30.csv" --json >"$T/c.ref" 2>/dev/null
    sweep correlate "$T/c.ref" 1500 400000 -- "$BIN" correlate "$T/ref30.csv" --json
    "$BIN" search --strategy random,rea,predictor --budget 20 --runs 2 --no-timing >"$T/s.ref" 2>/dev/null
    sweep search "$T/s.ref" 3000 400000 -- "$BIN" search --strategy random,rea,predictor --budget 20 --runs 2 --no-timing
    "$BIN" rank --model "$T/tiny.json" "$T/in30.csv" -o "$T/rank.ref" 2>/dev/null
    sweep rank "$T/rank.ref" 1500 400000 -- "$BIN" rank --model "$T/tiny.json" "$T/in30.csv" -o "$T/vm.out"
    sweep score "$T/ref30.csv" 2000 600000 -- "$BIN" score "$T/in30.csv" $S -o "$T/vm.out"
    sweep "score --threads 2" "$T/ref5.csv" 4000 600000 -- "$BIN" score "$T/in5.csv" $S --threads 2 -o "$T/vm.out"
else
    echo "note: ulimit -v sweep skipped (AddressSanitizer build, or no limit takes effect)" >&2
fi

section "5. kill -9 and --resume"
# ---- 5. kill -9 in the middle of a run, then --resume ------------------------------------
# killrun OUT N ARGS...: starts `nasrank ARGS -o OUT` in the background and kills
# it with SIGKILL once OUT.partial holds N scores; returns 1 if it finished first.
"$BIN" score "$T/in30.csv" $K --json -o "$T/ref30k.json" 2>/dev/null
killrun() {
    out=$1; n=$2; shift 2
    "$BIN" "$@" -o "$out" 2>/dev/null &
    pid=$!
    while kill -0 $pid 2>/dev/null; do
        have=$( (wc -l <"$out.partial") 2>/dev/null || echo 0)
        [ "$have" -gt "$n" ] && break
        sleep 0.02
    done
    kill -9 $pid 2>/dev/null
    wait $pid 2>/dev/null
    rc=$?
    fault
    [ $rc -eq 137 ]
}
KILLS="1 7 18 27"
[ $SLOW = 1 ] && KILLS="3 20"
for n in $KILLS; do
    rm -f "$T/k.csv" "$T/k.csv.partial"
    if killrun "$T/k.csv" $n score "$T/in30.csv" $K; then
        [ ! -e "$T/k.csv" ] && ok || bad "killed at $n: a final output exists"
        expect 0 "resume after kill at $n" -- "$BIN" score "$T/in30.csv" $K --resume -o "$T/k.csv"
        grep -q "^nasrank: resuming with [0-9]* scores from $T/k.csv.partial$" "$T/err" && ok || bad "resume message: $(cat "$T/err")"
    else
        echo "note: run finished before the kill at $n" >&2
    fi
    same "$T/k.csv" "$T/ref30k.csv" "kill -9 at $n scores, then --resume"
    nothing_left "$T" "k.csv.partial k.csv.tmp.*" "resume after kill at $n"
done
# killed again and again: every resume is itself killed, until one gets through
rm -f "$T/kk.csv" "$T/kk.csv.partial"
killrun "$T/kk.csv" 4 score "$T/in30.csv" $K
for n in 10 16 22; do killrun "$T/kk.csv" $n score "$T/in30.csv" $K --resume; done
expect 0 "resume after four kills" -- "$BIN" score "$T/in30.csv" $K --resume -o "$T/kk.csv"
same "$T/kk.csv" "$T/ref30k.csv" "four kills, then --resume"
# a torn last line (killed in the middle of a write) and a stale temporary file (killed in the
# middle of the final write): neither changes the result
rm -f "$T/kt.csv" "$T/kt.csv.partial"
killrun "$T/kt.csv" 9 score "$T/in30.csv" $K
head -c -9 "$T/kt.csv.partial" >"$T/torn" && cat "$T/torn" >"$T/kt.csv.partial"; fault
printf 'arch,naswot\nhalf a file' >"$T/kt.csv.tmp.99999.0"; fault
expect 0 "resume with a torn line" -- "$BIN" score "$T/in30.csv" $K --resume -o "$T/kt.csv"
same "$T/kt.csv" "$T/ref30k.csv" "torn partial line and stale temp file, then --resume"
# JSON output resumes the same way
rm -f "$T/kj.json" "$T/kj.json.partial"
killrun "$T/kj.json" 12 score "$T/in30.csv" $K --json
expect 0 "resume --json" -- "$BIN" score "$T/in30.csv" $K --json --resume -o "$T/kj.json"
same "$T/kj.json" "$T/ref30k.json" "kill -9, then --resume --json"
# with timing: everything but the wall-time column is identical
rm -f "$T/ks.csv" "$T/ks.csv.partial"
KB=${K%% --no-timing}
killrun "$T/ks.csv" 12 score "$T/in30.csv" $KB
expect 0 "resume with timing" -- "$BIN" score "$T/in30.csv" $KB --resume -o "$T/ks.csv"
cut -d, -f1-5 "$T/ks.csv" | sed 1s/,seconds$// >"$T/ks.cut"
same "$T/ks.cut" "$T/ref30k.csv" "resumed output without its seconds column"

section "6. concurrent writers of the same output"
# ---- 6. concurrent writers of the same output ----------------------------------------------
"$BIN" score "$T/in30.csv" $S --seed 2 -o "$T/ref30s2.csv" 2>/dev/null
"$BIN" score "$T/in30.csv" $S --seed 3 -o "$T/ref30s3.csv" 2>/dev/null
ROUNDS="1 2 3"
[ $SLOW = 1 ] && ROUNDS=1
for round in $ROUNDS; do
    rm -f "$T/cw.csv"
    "$BIN" score "$T/in30.csv" $S -o "$T/cw.csv" 2>"$T/cw1.err" &
    "$BIN" score "$T/in30.csv" $S --seed 2 -o "$T/cw.csv" 2>"$T/cw2.err" &
    "$BIN" score "$T/in30.csv" $S --seed 3 -o "$T/cw.csv" 2>"$T/cw3.err"
    rc3=$?
    wait
    fault
    if cmp -s "$T/cw.csv" "$T/ref30.csv" || cmp -s "$T/cw.csv" "$T/ref30s2.csv" || cmp -s "$T/cw.csv" "$T/ref30s3.csv"; then ok
    else bad "concurrent writers round $round: the output is none of the three complete files"; fi
    [ $rc3 -eq 0 ] && ok || bad "concurrent writer exit $rc3"
    nothing_left "$T" "cw.csv.partial cw.csv.tmp.*" "concurrent writers round $round"
    for e in 1 2 3; do # stderr: nothing, or the warning that another run holds OUT.partial
        if [ ! -s "$T/cw$e.err" ] || grep -qx "nasrank: warning: another nasrank run is writing $T/cw.csv.partial; this run keeps no partial results (it cannot be resumed)" "$T/cw$e.err"; then ok
        else bad "concurrent writer $e stderr: $(cat "$T/cw$e.err")"; fi
    done
done
# while one run holds OUT.partial: --resume refuses, a plain run goes on without it
rm -f "$T/lk.csv" "$T/lk.csv.partial"
"$BIN" score "$T/in30.csv" $K -o "$T/lk.csv" 2>/dev/null &
pid=$!
while kill -0 $pid 2>/dev/null && [ "$( (wc -l <"$T/lk.csv.partial") 2>/dev/null || echo 0)" -lt 3 ]; do sleep 0.02; done
if kill -0 $pid 2>/dev/null; then
    cp "$T/lk.csv.partial" "$T/lk.before"
    expect 1 "--resume while another run writes" -- "$BIN" score "$T/in5.csv" $K --resume -o "$T/lk.csv"; fault
    same_err "--resume while another run writes" "nasrank: $T/lk.csv.partial: another nasrank run is writing these partial results; wait for it to end"
    expect 0 "second writer without --resume" -- "$BIN" score "$T/in5.csv" $S -o "$T/lk.csv"; fault
    same_err "second writer warning" "nasrank: warning: another nasrank run is writing $T/lk.csv.partial; this run keeps no partial results (it cannot be resumed)"
    same "$T/lk.csv" "$T/ref5.csv" "second writer's complete output"
    kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
    # the journal of the first run was not touched by the others
    head -c "$(wc -c <"$T/lk.before")" "$T/lk.csv.partial" >"$T/lk.prefix"
    same "$T/lk.prefix" "$T/lk.before" "partial file untouched by the other runs"
    expect 0 "first run resumes" -- "$BIN" score "$T/in30.csv" $K --resume -o "$T/lk.csv"
    same "$T/lk.csv" "$T/ref30k.csv" "first run resumed after the others"
else
    wait $pid; echo "note: lock holder finished too early" >&2
fi

section "7. determinism"
# ---- 7. determinism: threads, repeated runs -------------------------------------------------
DET="$S|$S --json --naswot-variant paper|$S --dataset cifar100 --seed 7"
[ $SLOW = 1 ] && DET="$S|$S --dataset cifar100 --naswot-variant paper"
IFS='|'; set -- $DET; unset IFS
for args in "$@"; do
    # shellcheck disable=SC2086
    "$BIN" score "$T/in5.csv" $args --threads 1 -o "$T/d1" 2>/dev/null
    "$BIN" score "$T/in5.csv" $args --threads 1 -o "$T/d1b" 2>/dev/null
    "$BIN" score "$T/in5.csv" $args --threads 2 -o "$T/d2" 2>/dev/null
    NASRANK_THREADS=2 "$BIN" score "$T/in5.csv" $args -o "$T/d3" 2>/dev/null
    [ -s "$T/d1" ] && ok || bad "score $args: no output"
    same "$T/d1" "$T/d1b" "score $args: repeated run"
    same "$T/d1" "$T/d2" "score $args: 1 vs 2 threads"
    same "$T/d1" "$T/d3" "score $args: NASRANK_THREADS=2"
done
# search, including the predictor strategy (trained graph predictors: bit-identical whatever
# the thread count)
SDET="--strategy random,rea --runs 20|--strategy random --samples 10,50 --runs 10 --json"
SDET="$SDET|--strategy rea --budget 30 --runs 10 --dataset cifar100 --reward-epochs 200 --seed 5"
SDET="$SDET|--strategy predictor --budget 30 --runs 3 --json"
[ $SLOW = 1 ] && SDET="--strategy random,rea --runs 10 --json|--strategy predictor --budget 20 --runs 2 --json"
IFS='|'; set -- $SDET; unset IFS
for args in "$@"; do
    # shellcheck disable=SC2086
    "$BIN" search $args --no-timing --threads 1 >"$T/s1" 2>/dev/null
    "$BIN" search $args --no-timing --threads 1 >"$T/s1b" 2>/dev/null
    "$BIN" search $args --no-timing --threads 2 >"$T/s2" 2>/dev/null
    [ -s "$T/s1" ] && ok || bad "search $args: no output"
    same "$T/s1" "$T/s1b" "search $args: repeated run"
    same "$T/s1" "$T/s2" "search $args: 1 vs 2 threads"
done

# trained models: identical whatever the thread count and across runs, but for the wall time
# of training (the "seconds" field, which differs by design); their rankings identical too
MDET="--model comparator --train-size 30 --epochs 4 --ensemble 3 --folds 3 --dim 4 --layers 2"
MDET="$MDET|--model relativistic --train-size 30 --epochs 4 --ensemble 2 --folds 0 --dim 3 --hidden 4 --features params,flops"
[ $SLOW = 1 ] && MDET="--model comparator --train-size 20 --epochs 3 --ensemble 2 --folds 2 --dim 3 --layers 1"
IFS='|'; set -- $MDET; unset IFS
for args in "$@"; do
    for run in 1 1b 2; do
        # shellcheck disable=SC2086
        "$BIN" train $args -q --no-eval --threads "${run%b}" -o "$T/m$run.json" >/dev/null 2>&1
        grep -v '"seconds":' "$T/m$run.json" >"$T/m$run.cut"
        "$BIN" rank --model "$T/m$run.json" "$T/in30.csv" -o "$T/r$run.csv" 2>/dev/null
    done
    [ -s "$T/m1.cut" ] && [ -s "$T/r1.csv" ] && ok || bad "train $args: no model or ranking"
    same "$T/m1.cut" "$T/m1b.cut" "train $args: repeated run"
    same "$T/m1.cut" "$T/m2.cut" "train $args: 1 vs 2 threads"
    same "$T/r1.csv" "$T/r2.csv" "rank with the models of 1 and 2 threads"
done

section "done"
echo "cli_faults: $faults faults injected, $xfail known out-of-memory aborts outside the CLI (XFAIL)"
report
