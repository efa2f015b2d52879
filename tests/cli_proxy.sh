#!/bin/sh
# CLI tests of `nasrank score --proxy` (zero-cost proxies, ensembles, the v2 partial file).
# $NASRANK_BIN is the CLI under test.  Ends with "N passed, N failed".
. "$(dirname "$0")/lib_cli.sh"
col() { # col FILE NAME: the column's values, one per line
    awk -F, -v n="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == n) c = i; next } { print $c }' "$1"
}

cat >"$T/in.csv" <<'EOF'
index,arch_str,note
0,|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|,a
1,|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|,b
2,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,c
3,|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|,d
4,|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|,b again
EOF
S="--batch 8 --proxy-batch 8 --no-timing"

# the default is unchanged by --proxy naswot
expect 0 "default" -- "$BIN" score "$T/in.csv" $S -o "$T/def.csv"
expect 0 "--proxy naswot" -- "$BIN" score "$T/in.csv" $S --proxy naswot -o "$T/nw.csv"
same "$T/def.csv" "$T/nw.csv" "--proxy naswot = default"
has "$T/def.csv" "^index,arch_str,note,naswot,params,flops$" "default header"

# every proxy and the ensemble
expect 0 "--proxy all,ensemble" -- "$BIN" score "$T/in.csv" $S --proxy all,ensemble -o "$T/all.csv"
has "$T/all.csv" "^index,arch_str,note,naswot,synflow,snip,grad_norm,grasp,fisher,jacob_cov,params,flops,ensemble$" "all header"
[ "$(wc -l <"$T/all.csv")" -eq 6 ] && ok || bad "all: 5 rows"
col "$T/def.csv" naswot >"$T/a"; col "$T/all.csv" naswot >"$T/b"; same "$T/a" "$T/b" "naswot column inside --proxy all"
col "$T/def.csv" params >"$T/a"; col "$T/all.csv" params >"$T/b"; same "$T/a" "$T/b" "params column"
col "$T/def.csv" flops >"$T/a"; col "$T/all.csv" flops >"$T/b"; same "$T/a" "$T/b" "flops column"
# the all-none arch: NASWOT and jacob_cov -inf, synflow 0; no NaN anywhere
[ "$(col "$T/all.csv" jacob_cov | sed -n 3p)" = "-inf" ] && ok || bad "all-none jacob_cov is -inf"
[ "$(col "$T/all.csv" synflow | sed -n 3p)" = "0" ] && ok || bad "all-none synflow is 0"
if grep -qi nan "$T/all.csv"; then bad "NaN in the output"; else ok; fi
# duplicate rows get the same scores
[ "$(sed -n 3p "$T/all.csv" | cut -d, -f4-)" = "$(sed -n 6p "$T/all.csv" | cut -d, -f4-)" ] && ok || bad "duplicate rows differ"
# a proxy alone gives the value it has inside the suite
expect 0 "--proxy fisher" -- "$BIN" score "$T/in.csv" $S --proxy fisher -o "$T/g.csv"
col "$T/all.csv" fisher >"$T/a"; col "$T/g.csv" fisher >"$T/b"; same "$T/a" "$T/b" "fisher alone = in the suite"
# synflow is data-free: the batch sizes do not matter
expect 0 "--proxy synflow" -- "$BIN" score "$T/in.csv" --batch 16 --no-timing --proxy synflow -o "$T/s.csv"
col "$T/all.csv" synflow >"$T/a"; col "$T/s.csv" synflow >"$T/b"; same "$T/a" "$T/b" "synflow independent of the batch"
# timing columns
expect 0 "timing" -- "$BIN" score "$T/in.csv" --batch 8 --proxy-batch 8 --proxy snip,flops -o "$T/t.csv"
has "$T/t.csv" "^index,arch_str,note,snip,params,flops,seconds,snip_seconds$" "timing header"
# an ensemble of one proxy ranks like it
expect 0 "--ensemble synflow" -- "$BIN" score "$T/in.csv" $S --ensemble synflow -o "$T/e.csv"
has "$T/e.csv" "^index,arch_str,note,naswot,synflow,params,flops,ensemble$" "ensemble header"
paste -d' ' "$(col "$T/e.csv" synflow >"$T/a"; echo "$T/a")" "$(col "$T/e.csv" ensemble >"$T/b"; echo "$T/b")" |
    sort -g -k1,1 | awk '{ if (NR > 1 && $2 < prev) bad = 1; prev = $2 } END { exit bad }' && ok || bad "ensemble order = synflow order"
# JSON
expect 0 "--json" -- "$BIN" score "$T/in.csv" $S --proxy synflow,jacob_cov --json -o "$T/j.json"
has "$T/j.json" '"synflow": ' "json synflow"
has "$T/j.json" '"jacob_cov": null' "json -inf is null"

# --resume with the v2 partial format: a line for arch id 0 (lexicographic: the all-none
# arch, row 3) with made-up values is used as is
H="# nasrank score partial v2 seed=1 batch=8 proxy_batch=8 dataset=cifar10 variant=reference proxies=synflow,snip images=cifar10/data_batch_1_head4000.bin"
printf '%s\n0,0.5,123.25,0.1,4.5,0.2\n' "$H" >"$T/r.csv.partial"
expect 0 "--resume v2" -- "$BIN" score "$T/in.csv" $S --proxy synflow,snip --resume -o "$T/r.csv"
has "$T/err" "resuming with 1 scores" "resume message"
[ "$(col "$T/r.csv" synflow | sed -n 3p)" = "123.25" ] && [ "$(col "$T/r.csv" snip | sed -n 3p)" = "4.5" ] && ok ||
    bad "resumed values used"
[ ! -e "$T/r.csv.partial" ] && ok || bad "partial removed"
printf '%s\n0,0.5,123.25,0.1\n' "$H" >"$T/r.csv.partial"
expect 1 "--resume v2 short line" -- "$BIN" score "$T/in.csv" $S --proxy synflow,snip --resume -o "$T/r.csv"
has "$T/err" "malformed partial-results line (expected id,seconds, then value,seconds per proxy)" "short line message"
printf '%s\n0,0.5,nan,0.1,4.5,0.2\n' "$H" >"$T/r.csv.partial"
expect 1 "--resume v2 NaN" -- "$BIN" score "$T/in.csv" $S --proxy synflow,snip --resume -o "$T/r.csv"
expect 1 "--resume with other proxies" -- "$BIN" score "$T/in.csv" $S --proxy synflow --resume -o "$T/r.csv"
has "$T/err" "partial results were made with other settings" "other proxies message"

# bad lists
expect 2 "unknown proxy" -- "$BIN" score "$T/in.csv" --proxy snip,snap
has "$T/err" "unknown proxy 'snap'" "unknown proxy message"
expect 2 "duplicate proxy" -- "$BIN" score "$T/in.csv" --proxy snip,snip
expect 2 "empty item" -- "$BIN" score "$T/in.csv" --proxy snip,
expect 2 "bad ensemble" -- "$BIN" score "$T/in.csv" --ensemble ensemble
expect 2 "bad proxy batch" -- "$BIN" score "$T/in.csv" --proxy snip --proxy-batch 1
expect 1 "proxy batch larger than the images" -- "$BIN" score "$T/in.csv" --proxy snip --proxy-batch 4000 --dataset cifar100
has "$T/err" "fewer than the batch of 4000 (--proxy-batch)" "proxy batch message"

report
