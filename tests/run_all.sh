#!/bin/sh
# Runs every test binary given as an argument, then tests/cli_*.sh (CLI smoke tests, which
# get the CLI path in $NASRANK_BIN), then the binaries listed in $NASRANK_PORTABLE_TESTS
# once more with NASRANK_KERNELS=portable (the kernels a CPU without AVX-512 runs).  Each prints "N passed, N failed" as its last line; a
# binary that crashes or exits non-zero without failures counts as one failure.  Prints the
# summed line at the end and exits non-zero on any failure.
total_pass=0
total_fail=0
dir=$(dirname "$0")
for t in "$@" "$dir"/cli_*.sh ${NASRANK_PORTABLE_TESTS:+--portable $NASRANK_PORTABLE_TESTS}; do
    if [ "$t" = --portable ]; then export NASRANK_KERNELS=portable; continue; fi
    [ -e "$t" ] || continue
    case "$t" in *.sh) cmd="sh $t" ;; *) cmd="$t" ;; esac
    [ -n "${NASRANK_KERNELS:-}" ] && t="$t (NASRANK_KERNELS=$NASRANK_KERNELS)"
    out=$($cmd 2>&1)
    rc=$?
    line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
    p=$(printf '%s' "$line" | sed -n 's/^\([0-9]*\) passed.*/\1/p')
    f=$(printf '%s' "$line" | sed -n 's/^[0-9]* passed, \([0-9]*\) failed.*/\1/p')
    [ -n "$p" ] || p=0
    [ -n "$f" ] || f=0
    if [ $rc -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
    if [ "$f" -ne 0 ]; then
        printf '%s\n' "$out" | tail -n 40
        echo "FAIL $t ($p passed, $f failed, exit $rc)"
    else
        echo "ok   $t ($p passed)"
    fi
    total_pass=$((total_pass + p))
    total_fail=$((total_fail + f))
done
echo "$total_pass passed, $total_fail failed"
[ "$total_fail" -eq 0 ]
