#!/usr/bin/env python3
"""Writes the seed corpora of the libFuzzer targets (tests/fuzz/corpus/<target>/seed_*).
Small, valid or nearly valid inputs for each reader, plus the bad-input corpus of
tests/bad_inputs/ (prefixed with the control bytes a target expects).  The model seeds
(corpus/fuzz_model/*.json) are real model files of tiny predictors: with NASRANK_BIN set
(NASRANK_BIN=build/nasrank python3 tests/fuzz/make_seeds.py) they are trained again with
`nasrank train`, as needed after a change of the model format.  Crash reproducers found by
fuzzing are kept as crash-* files next to the seeds."""
import glob
import json
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
BAD = os.path.join(HERE, "..", "bad_inputs")
rng = random.Random(7)


def put(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, "seed_" + name), "wb") as f:
        f.write(data)


def bad(pattern):
    for p in sorted(glob.glob(os.path.join(BAD, pattern))):
        with open(p, "rb") as f:
            yield os.path.basename(p), f.read()


OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]


def arch(ops):
    e = ["%s~%d" % (o, i) for o, i in zip(ops, [0, 0, 1, 0, 1, 2])]
    return "|%s|+|%s|%s|+|%s|%s|%s|" % tuple(e)


# ---- fuzz_arch: strings ----
for k in range(6):
    put("fuzz_arch", "valid%d" % k, arch([OPS[(k + i) % 5] for i in range(6)]))
for name, data in bad("arch_*.txt"):
    put("fuzz_arch", name, data.rstrip(b"\n"))

# ---- fuzz_csv: documents ----
put("fuzz_csv", "archs.csv", "arch,note\n%s,a\n\"%s\",\"x, \"\"y\"\"\"\n" % (arch(OPS[:5] + ["none"]), arch(["none"] * 6)))
put("fuzz_csv", "index.csv", "index,naswot,params\n1,1.5,-inf\n15624,nan,1e308\n0,0x1p3,7\n")
put("fuzz_csv", "crlf_bom.csv", b"\xef\xbb\xbfarch_str,x\r\n" + arch(["skip_connect"] * 6).encode() + b",1\r\n\r\n")
put("fuzz_csv", "multiline.csv", 'a,b,c\n"1\n2",,"3\r\n"\n  ,\t,\n')
put("fuzz_csv", "lone_cr.csv", "arch,n\r%s,1\r" % arch(["avg_pool_3x3"] * 6))
for name, data in bad("score_*.csv"):
    put("fuzz_csv", name, data[:4096])
for name, data in bad("correlate_*.csv"):
    put("fuzz_csv", name, data)

# ---- fuzz_table: byte 0 = mode (bit 0 splice, bit 1 12-epoch), bytes 1-2 = splice line ----
for name, data in bad("table_*.csv"):
    put("fuzz_table", name, b"\x00\x00\x00" + data[:4096])
for name, data in bad("table12_*.csv"):
    put("fuzz_table", name, b"\x02\x00\x00" + data[:4096])
put("fuzz_table", "splice_same_row.csv", b"\x01\x00\x02" + b"1," + arch(["none"] * 6).encode() + b",1,2,3,4,5,6,7,8,3,0.1,0.1,0.1,1")
put("fuzz_table", "splice_nan.csv", b"\x01\x10\x00" + b"4096,|x~0|,nan")
put("fuzz_table", "splice12.csv", b"\x03\x00\x05" + b"4,|none~0|+|none~0|none~1|+|none~0|none~1|none~2|,1,2,3,4,5,6")

# ---- fuzz_cifar: byte 0 = control (bit 0 CIFAR-100, bits 1-3 batch - 1, bit 4 16x16) ----
def rec10(label):
    return bytes([label]) + bytes(rng.randrange(256) for _ in range(3072))


def rec100(c, f):
    return bytes([c, f]) + bytes(rng.randrange(256) for _ in range(3072))


put("fuzz_cifar", "c10_two.bin", b"\x02" + rec10(3) + rec10(9))
put("fuzz_cifar", "c10_one_16.bin", b"\x10" + rec10(0))
put("fuzz_cifar", "c100_three.bin", b"\x05" + rec100(19, 99) + rec100(0, 0) + rec100(7, 42))
put("fuzz_cifar", "c100_short.bin", b"\x01" + rec100(1, 1)[:1500])
put("fuzz_cifar", "empty.bin", b"\x00")

# ---- fuzz_model: two tiny trained models (when $NASRANK_BIN names the CLI: rerun after a
# change of the model format), compact copies, and hostile variants ----
MD = os.path.join(HERE, "corpus", "fuzz_model")
BIN = os.environ.get("NASRANK_BIN")
if BIN:
    import subprocess
    tiny = ["--train-size", "12", "--epochs", "2", "--ensemble", "2", "--folds", "0", "--dim", "3",
            "--layers", "1", "-q", "--no-eval"]
    for name, extra in [("comparator_small", []),
                        ("relativistic_hidden_feats", ["--model", "relativistic", "--hidden", "2",
                                                       "--features", "params,flops"])]:
        out = os.path.join(MD, name + ".json")
        subprocess.run([BIN, "train"] + tiny + extra + ["-o", out], check=True, stdout=subprocess.DEVNULL)
        with open(out) as f:
            d = json.load(f)
        with open(os.path.join(MD, name + "_compact.json"), "w") as f:
            f.write(json.dumps(d, separators=(",", ":")))
src = os.path.join(MD, "comparator_small_compact.json")
if os.path.exists(src):
    with open(src, "rb") as f:
        good = f.read()
    m = json.loads(good)
    put("fuzz_model", "bad_truncated.json", good[: len(good) // 2])
    put("fuzz_model", "bad_empty.json", b"")
    put("fuzz_model", "bad_bom.json", b"\xef\xbb\xbf" + good)
    put("fuzz_model", "bad_array.json", b"[1, 2, 3]")
    put("fuzz_model", "bad_nan.json", good.replace(b'"lr":0.002', b'"lr":NaN'))
    for name, change in [
        ("version", lambda d: d.__setitem__("version", 99)),
        ("kind", lambda d: d.__setitem__("kind", "oracle")),
        ("short_embedding", lambda d: d["members"][0]["embedding"].pop()),
        ("huge_dim", lambda d: d["config"].__setitem__("embed_dim", 100000000)),
        ("negative_layers", lambda d: d["config"].__setitem__("layers", -1)),
        ("string_weight", lambda d: d["members"][0]["embedding"].__setitem__(0, "0.5")),
        ("huge_weight", lambda d: d["members"][0]["gcn"][0]["W"].__setitem__(0, 1e308)),
        ("no_members", lambda d: d.__setitem__("members", [])),
        ("dup_key", None),
    ]:
        d = json.loads(good)
        if change:
            change(d)
            put("fuzz_model", "bad_%s.json" % name, json.dumps(d, separators=(",", ":")))
    put("fuzz_model", "bad_dup_key.json", good.replace(b'"version":1', b'"version":1,"version":2'))
for name, data in bad("model_*.json"):
    put("fuzz_model", name, data[:16384])
