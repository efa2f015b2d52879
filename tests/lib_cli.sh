# Shared by the tests/cli_*.sh scripts (sourced): the CLI under test, a scratch directory,
# pass/fail counters and the common checks.  Each script ends with `report`.
#   $NASRANK_BIN     the CLI under test (default build/nasrank)
#   $NASRANK_SOURCE  the source tree (default .)
BIN=${NASRANK_BIN:-build/nasrank}
SRC=${NASRANK_SOURCE:-.}
case $BIN in /*) ;; *) BIN=$(pwd)/$BIN ;; esac
SRC=$(cd "$SRC" && pwd)
T=$(mktemp -d)
trap 'chmod -R u+w "$T" 2>/dev/null; rm -rf "$T"' EXIT
pass=0
fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
# expect CODE DESCRIPTION -- command...   (stdout -> $T/out, stderr -> $T/err)
expect() {
    code=$1; desc=$2; shift 3
    "$@" >"$T/out" 2>"$T/err"
    rc=$?
    if [ $rc -eq "$code" ]; then ok; else bad "$desc: exit $rc, wanted $code; stderr: $(head -c 300 "$T/err")"; fi
}
has() { # has FILE PATTERN DESCRIPTION
    if grep -q -- "$2" "$1"; then ok; else bad "$3: '$2' not in $1: $(head -c 300 "$1")"; fi
}
same() { # same FILE1 FILE2 DESCRIPTION
    if cmp -s "$1" "$2"; then ok; else bad "$3: $1 and $2 differ"; fi
}
report() { # the summary line tests/run_all.sh sums; fails when any check failed
    echo "$pass passed, $fail failed"
    [ "$fail" -eq 0 ]
}
