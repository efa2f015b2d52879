#!/usr/bin/python3
"""Independent PyTorch reference for nasrank's NAS-Bench-201 forward pass and NASWOT score.

Generates tests/reference/nb201_forward.json (committed fixture).

Run from the repository root with Debian's Python, which has torch:

    /usr/bin/python3 tests/reference/make_fixtures.py [--out PATH] [--datasets DIR]

Generated with: torch 1.13.0a0, numpy 1.24.2 (the JSON records the versions actually used).

What it does (see tests/reference/README.md for the full list of semantics choices):
  * builds the NAS-Bench-201 TinyNetwork (C, N, genotype, classes) in PyTorch, written from
    the published semantics (AutoDL-Projects TinyNetwork / InferCell / ResNetBasicblock /
    ReLUConvBN, DESIGN.md section 3), with module names chosen so that named_parameters()
    gives the names in include/nasrank/net.h;
  * initialises every parameter with nasrank's deterministic scheme (splitmix64 named
    streams, include/nasrank/rng.h), re-implemented here with numpy uint64 arithmetic;
  * runs a train-mode (batch-statistics) float32 CPU forward on real CIFAR-10 images and
    records logits and statistics + samples of every ReLU input nasrank names;
  * -inf scores (singular K) are written as "score": null with "sign": 0 (JSON has no -inf);
  * computes the NASWOT score with the published hook semantics (reference variant: every
    module whose class name contains "ReLU"; paper variant: every nn.ReLU once).
"""

import argparse
import json
import math
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

OPS = ["none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3"]
CONV_OPS = {"nor_conv_1x1": 1, "nor_conv_3x3": 3}
# Edge order of the official string: (to, from).
EDGES = [(1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2)]

CIFAR10_MEAN = [125.3 / 255.0, 123.0 / 255.0, 113.9 / 255.0]
CIFAR10_STD = [63.0 / 255.0, 62.1 / 255.0, 66.7 / 255.0]
IMAGE_FILE = "cifar10/data_batch_1_head4000.bin"
RECORD = 3073

FORWARD_BATCH = [17, 3, 256, 1999]
NASWOT_BATCH = [42, 3141, 7, 2048, 999, 1500, 256, 3998, 128, 2718, 600, 1234, 17, 3600, 77, 2500]

SAMPLES_PER_ACTIVATION = 16
SAMPLE_SEED = 20240601  # numpy Generator seed base for sample positions (positions are stored)

MASK64 = (1 << 64) - 1
GAMMA = 0x9E3779B97F4A7C15
MIX1 = 0xBF58476D1CE4E5B9
MIX2 = 0x94D049BB133111EB


# --------------------------------------------------------------------------------------
# nasrank RNG (src/core/rng.c), scalar and vectorised
# --------------------------------------------------------------------------------------

def _mix_scalar(z):
    z = ((z ^ (z >> 30)) * MIX1) & MASK64
    z = ((z ^ (z >> 27)) * MIX2) & MASK64
    return z ^ (z >> 31)


def splitmix64_next(state):
    """Returns (new_state, output) like nr_rng_next."""
    state = (state + GAMMA) & MASK64
    return state, _mix_scalar(state)


def fnv1a64(name):
    h = 0xCBF29CE484222325
    for byte in name.encode("utf-8"):
        h ^= byte
        h = (h * 0x100000001B3) & MASK64
    return h


def stream_state(seed, name):
    """nr_rng_stream(seed, name).state."""
    _, first = splitmix64_next(seed & MASK64)
    return first ^ fnv1a64(name)


def stream_u64(state, n):
    """First n outputs of a splitmix64 generator whose state is `state` (numpy uint64).

    Output k (0-based) is mix(state + (k+1)*GAMMA) mod 2^64."""
    with np.errstate(over="ignore"):
        k = np.arange(1, n + 1, dtype=np.uint64)
        z = np.uint64(state) + k * np.uint64(GAMMA)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(MIX1)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(MIX2)
        z = z ^ (z >> np.uint64(31))
    return z


def init_uniform(seed, name, shape, fan_in):
    """nasrank init: element k = float32((2*u24 - 1) * b), b = 1/sqrt(fan_in), row-major."""
    n = int(np.prod(shape))
    u = (stream_u64(stream_state(seed, name), n) >> np.uint64(40)).astype(np.float64) * (2.0 ** -24)
    b = 1.0 / math.sqrt(fan_in)
    return ((2.0 * u - 1.0) * b).astype(np.float32).reshape(shape)


def _self_check_rng():
    # vectorised stream == scalar generator
    st = stream_state(1, "stem.0.weight")
    s = st
    vec = stream_u64(st, 5)
    for k in range(5):
        s, out = splitmix64_next(s)
        assert int(vec[k]) == out, "vectorised splitmix64 disagrees with scalar"
    # splitmix64 published test vector: seed 1234567 -> 6457827717110365317
    _, out = splitmix64_next(1234567)
    assert out == 6457827717110365317, out
    # FNV-1a 64 test vectors
    assert fnv1a64("") == 0xCBF29CE484222325
    assert fnv1a64("a") == 0xAF63DC4C8601EC8C


# --------------------------------------------------------------------------------------
# NAS-Bench-201 network
# --------------------------------------------------------------------------------------

def parse_arch(s):
    nodes = s.split("+")
    assert len(nodes) == 3, s
    ops = []
    for j, part in enumerate(nodes, start=1):
        assert part.startswith("|") and part.endswith("|"), s
        items = part[1:-1].split("|")
        assert len(items) == j, s
        for i, item in enumerate(items):
            op, src = item.split("~")
            assert op in OPS and int(src) == i, s
            ops.append(op)
    return ops  # in EDGES order


class Zero(nn.Module):
    def forward(self, x):
        return x.mul(0.0)


class Identity(nn.Module):
    def forward(self, x):
        return x


class ReLUConvBN(nn.Module):
    def __init__(self, c_in, c_out, k, stride):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, bias=False),
            nn.BatchNorm2d(c_out, eps=1e-5, affine=True),
        )

    def forward(self, x):
        return self.op(x)


class Pool(nn.Module):
    def __init__(self):
        super().__init__()
        self.op = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x):
        return self.op(x)


def make_op(name, c):
    if name == "none":
        return Zero()
    if name == "skip_connect":
        return Identity()
    if name == "avg_pool_3x3":
        return Pool()
    return ReLUConvBN(c, c, CONV_OPS[name], 1)


class InferCell(nn.Module):
    def __init__(self, ops, c):
        super().__init__()
        self.ops = list(ops)
        self.edges = nn.ModuleDict()
        for (to, frm), op in zip(EDGES, ops):
            self.edges["{}<-{}".format(to, frm)] = make_op(op, c)

    def forward(self, x):
        nodes = [x]
        for j in range(1, 4):
            feat = None
            for (to, frm) in EDGES:
                if to != j:
                    continue
                y = self.edges["{}<-{}".format(to, frm)](nodes[frm])
                feat = y if feat is None else feat + y
            nodes.append(feat)
        return nodes[3]


class ResNetBasicblock(nn.Module):
    def __init__(self, c_in, c_out):
        super().__init__()
        self.conv_a = ReLUConvBN(c_in, c_out, 3, 2)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1)
        self.downsample = nn.Sequential(
            nn.AvgPool2d(kernel_size=2, stride=2, padding=0),
            nn.Conv2d(c_in, c_out, kernel_size=1, stride=1, padding=0, bias=False),
        )

    def forward(self, x):
        b = self.conv_b(self.conv_a(x))
        return self.downsample(x) + b


class TinyNetwork(nn.Module):
    def __init__(self, C, N, ops, num_classes):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, C, 3, padding=1, bias=False), nn.BatchNorm2d(C))
        chans = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
        reds = [False] * N + [True] + [False] * N + [True] + [False] * N
        self.cells = nn.ModuleList()
        c_prev = C
        for c, red in zip(chans, reds):
            self.cells.append(ResNetBasicblock(c_prev, c) if red else InferCell(ops, c))
            c_prev = c
        self.lastact = nn.Sequential(nn.BatchNorm2d(c_prev), nn.ReLU(inplace=True))
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(c_prev, num_classes)

    def forward(self, x):
        f = self.stem(x)
        for cell in self.cells:
            f = cell(f)
        out = self.global_pooling(self.lastact(f)).flatten(1)
        return self.classifier(out)


def init_network(net, seed):
    """nasrank deterministic init for every parameter (by name)."""
    with torch.no_grad():
        for name, p in net.named_parameters():
            leaf = name.rsplit(".", 1)[0]
            mod = net.get_submodule(leaf)
            if isinstance(mod, nn.BatchNorm2d):
                p.fill_(1.0 if name.endswith(".weight") else 0.0)
            elif isinstance(mod, nn.Conv2d):
                assert name.endswith(".weight")
                fan_in = p.shape[1] * p.shape[2] * p.shape[3]
                p.copy_(torch.from_numpy(init_uniform(seed, name, tuple(p.shape), fan_in)))
            elif isinstance(mod, nn.Linear):
                fan_in = mod.in_features
                p.copy_(torch.from_numpy(init_uniform(seed, name, tuple(p.shape), fan_in)))
            else:
                raise AssertionError("unexpected parameter " + name)


def expected_names(C, N, ops, num_classes):
    """Parameter names/shapes from include/nasrank/net.h, in PyTorch creation order."""
    out = [("stem.0.weight", (C, 3, 3, 3)), ("stem.1.weight", (C,)), ("stem.1.bias", (C,))]
    chans = [C] * N + [2 * C] + [2 * C] * N + [4 * C] + [4 * C] * N
    reds = [False] * N + [True] + [False] * N + [True] + [False] * N
    cp = C
    for c_i, (c, red) in enumerate(zip(chans, reds)):
        pre = "cells.{}.".format(c_i)
        if red:
            out += [(pre + "conv_a.op.1.weight", (c, cp, 3, 3)), (pre + "conv_a.op.2.weight", (c,)),
                    (pre + "conv_a.op.2.bias", (c,)), (pre + "conv_b.op.1.weight", (c, c, 3, 3)),
                    (pre + "conv_b.op.2.weight", (c,)), (pre + "conv_b.op.2.bias", (c,)),
                    (pre + "downsample.1.weight", (c, cp, 1, 1))]
        else:
            for (to, frm), op in zip(EDGES, ops):
                if op in CONV_OPS:
                    k = CONV_OPS[op]
                    e = pre + "edges.{}<-{}.op.".format(to, frm)
                    out += [(e + "1.weight", (c, c, k, k)), (e + "2.weight", (c,)), (e + "2.bias", (c,))]
        cp = c
    out += [("lastact.0.weight", (cp,)), ("lastact.0.bias", (cp,)),
            ("classifier.weight", (num_classes, cp)), ("classifier.bias", (num_classes,))]
    return out


# --------------------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------------------

def find_datasets(explicit):
    here = os.path.dirname(os.path.abspath(__file__))
    repo = os.path.normpath(os.path.join(here, "..", ".."))
    cands = [explicit, os.environ.get("NASRANK_DATASETS"), os.path.join(repo, "datasets"),
             os.path.join(repo, "..", "shared", "datasets"), "/work/shared/datasets"]
    for c in cands:
        if c and os.path.isfile(os.path.join(c, IMAGE_FILE)):
            return c
    sys.exit("make_fixtures: cannot find {} (use --datasets DIR)".format(IMAGE_FILE))


def load_records(path, indices):
    raw = np.fromfile(path, dtype=np.uint8)
    assert raw.size % RECORD == 0
    recs = raw.reshape(-1, RECORD)
    pix = recs[indices, 1:].reshape(len(indices), 3, 32, 32)
    labels = recs[indices, 0].astype(int).tolist()
    return pix, labels


def normalise(pix):
    """x = (p/255 - mean)/std in float64, then float32."""
    mean = np.array(CIFAR10_MEAN, dtype=np.float64).reshape(1, 3, 1, 1)
    std = np.array(CIFAR10_STD, dtype=np.float64).reshape(1, 3, 1, 1)
    return ((pix.astype(np.float64) / 255.0 - mean) / std).astype(np.float32)


def downsample2(x32):
    """16x16 image: mean of each 2x2 block of the float32 normalised 32x32 image.
    The four float32 values are summed in float64, times 0.25, cast to float32."""
    x = x32.astype(np.float64)
    B, C, H, W = x.shape
    s = (x[:, :, 0::2, 0::2] + x[:, :, 0::2, 1::2]) + (x[:, :, 1::2, 0::2] + x[:, :, 1::2, 1::2])
    return (s * 0.25).astype(np.float32)


def input_check(x):
    x64 = x.astype(np.float64)
    return {"shape": list(x.shape), "sum": float(x64.sum()), "sum_abs": float(np.abs(x64).sum()),
            "first": [float(v) for v in x.reshape(-1)[:4]]}


# --------------------------------------------------------------------------------------
# Activations, forward, NASWOT
# --------------------------------------------------------------------------------------

def relu_activation_name(module_name):
    """Name (net.h) of the tensor a ReLU module (or ReLU-containing module) reads."""
    parts = module_name.split(".")
    if parts[0] == "lastact":
        return "lastact"
    assert parts[0] == "cells", module_name
    c = parts[1]
    if parts[2] == "edges":
        frm = parts[3].split("<-")[1]
        return "cells.{}.node{}".format(c, frm)
    assert parts[2] in ("conv_a", "conv_b"), module_name
    return "cells.{}.{}".format(c, parts[2])


def activation_order(C, N, ops):
    """Canonical forward order: per cell, node0..node2 (only nodes read by a conv edge); per
    ResNet block conv_a then conv_b; finally lastact."""
    order = []
    for c_i in range(3 * N + 2):
        if c_i in (N, 2 * N + 1):
            order += ["cells.{}.conv_a".format(c_i), "cells.{}.conv_b".format(c_i)]
        else:
            for node in range(3):
                if any(frm == node and op in CONV_OPS for (to, frm), op in zip(EDGES, ops)):
                    order.append("cells.{}.node{}".format(c_i, node))
    order.append("lastact")
    return order


def is_hooked_reference(module):
    # score_networks.py: 'ReLU' in str(type(module))
    return "ReLU" in str(type(module))


def run_forward(net, x, ops, C, N):
    """Train-mode forward; returns logits and activation records in canonical order."""
    captured = {}   # name -> tensor (clone of the ReLU input)
    relu_count = {}
    hooked_count = {}
    handles = []

    def pre_hook(name):
        def h(module, inp):
            t = inp[0]
            if name in captured:
                assert torch.equal(captured[name], t), "two ReLUs named alike read different tensors"
            else:
                captured[name] = t.detach().clone()
        return h

    for mname, m in net.named_modules():
        if isinstance(m, nn.ReLU):
            an = relu_activation_name(mname)
            relu_count[an] = relu_count.get(an, 0) + 1
            handles.append(m.register_forward_pre_hook(pre_hook(an)))
        if is_hooked_reference(m):
            an = relu_activation_name(mname)
            hooked_count[an] = hooked_count.get(an, 0) + 1

    with torch.no_grad():
        logits = net(torch.from_numpy(x))
    for h in handles:
        h.remove()

    order = activation_order(C, N, ops)
    assert sorted(order) == sorted(captured.keys()), (order, sorted(captured.keys()))
    acts = []
    for idx, name in enumerate(order):
        t = captured[name].numpy()
        numel = t.size
        rng = np.random.default_rng(SAMPLE_SEED + idx)
        pos = np.sort(rng.choice(numel, size=min(SAMPLES_PER_ACTIVATION, numel), replace=False))
        flat = t.reshape(-1)
        t64 = t.astype(np.float64)
        acts.append({
            "name": name,
            "shape": list(t.shape),
            "relu_modules": relu_count[name],
            "hooked_modules": hooked_count[name],
            "sum": float(t64.sum()),
            "sum_abs": float(np.abs(t64).sum()),
            "samples": [[int(p), float(flat[p])] for p in pos],
        })
    return logits.numpy(), acts


def check_backward_gate(net, x):
    """The reference only counts ReLU modules a backward pass reached.  Verify that in this
    network every ReLU-containing module is reached (gradient of logits w.r.t. everything)."""
    visited = {}
    handles = []

    def fwd(name):
        def h(module, inp, out):
            visited.setdefault(name, False)
            if out.requires_grad:
                def mark(g):
                    visited[name] = True
                out.register_hook(mark)
        return h

    for mname, m in net.named_modules():
        if is_hooked_reference(m):
            handles.append(m.register_forward_hook(fwd(mname)))
    xi = torch.from_numpy(x).clone().requires_grad_(True)
    logits = net(xi)
    logits.backward(torch.ones_like(logits))
    for h in handles:
        h.remove()
    net.zero_grad(set_to_none=True)
    return bool(visited) and all(visited.values())


def naswot(net, x):
    """Both variants on one forward.  Reference: forward hooks on every module whose class
    name contains 'ReLU' (ReLUConvBN and nn.ReLU), reading the (possibly in-place-modified)
    input as score_networks.py does.  Paper: forward hooks on nn.ReLU only."""
    B = x.shape[0]
    K = {"reference": np.zeros((B, B)), "paper": np.zeros((B, B))}
    handles = []

    def hook(variant):
        def h(module, inp, out):
            t = inp[0] if isinstance(inp, tuple) else inp
            c = (t.reshape(t.shape[0], -1) > 0).double()
            K[variant] += (c @ c.t() + (1.0 - c) @ (1.0 - c).t()).numpy()
        return h

    for mname, m in net.named_modules():
        if is_hooked_reference(m):
            handles.append(m.register_forward_hook(hook("reference")))
        if isinstance(m, nn.ReLU):
            handles.append(m.register_forward_hook(hook("paper")))
    with torch.no_grad():
        net(torch.from_numpy(x))
    for h in handles:
        h.remove()

    res = {}
    for v in ("reference", "paper"):
        k = K[v]
        assert np.array_equal(k, np.round(k)) and np.array_equal(k, k.T)
        sign, logdet = np.linalg.slogdet(k)
        diag = np.diag(k)
        assert np.all(diag == diag[0])
        res[v] = {"score": None if not np.isfinite(logdet) else float(logdet),
                  "sign": int(sign), "n_units": int(diag[0])}
        assert (sign == 0) == (not np.isfinite(logdet))
    return res, K["reference"].astype(np.int64), K["paper"].astype(np.int64)


def expected_n_units(C, N, S, k):
    """N_A for k conv edges per cell (reference double counting / paper single counting)."""
    s1, s2, s3 = C * S * S, 2 * C * (S // 2) ** 2, 4 * C * (S // 4) ** 2
    cells = N * (s1 + s2 + s3)          # one conv edge in every cell
    blocks = (s1 + s2) + (s2 + s3)      # conv_a / conv_b inputs of the two ResNet blocks
    last = s3
    return 2 * k * cells + 2 * blocks + last, k * cells + blocks + last


def to_json(obj, indent=0):
    """JSON with one object key per line, but flat lists (and lists of flat lists such as
    rows of K, logits or samples) kept compact: one line per row.  Floats use repr (full
    precision, round-trips exactly); JSON has no -inf, so scores use null (see semantics)."""
    pad = " " * indent

    def flat(v):
        return not isinstance(v, (dict, list))

    if isinstance(obj, dict):
        items = ['{}  {}: {}'.format(pad, json.dumps(k), to_json(v, indent + 2))
                 for k, v in obj.items()]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(obj, list):
        compact = json.dumps(obj, allow_nan=False)
        if all(flat(v) for v in obj) or ("{" not in compact and len(compact) <= 120):
            return compact
        if all(isinstance(v, list) and "{" not in json.dumps(v) for v in obj):
            rows = [pad + "  " + json.dumps(v, allow_nan=False) for v in obj]
            return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
        rows = [pad + "  " + to_json(v, indent + 2) for v in obj]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(obj, allow_nan=False)


# --------------------------------------------------------------------------------------

ARCHS = [
    # (arch string, seed, C, N, classes, image size, note)
    ("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|", 1, 16, 5, 10, 32, "all none"),
    ("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|skip_connect~2|",
     1, 16, 5, 10, 32, "all skip"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
     1, 16, 5, 10, 32, "all conv3x3"),
    ("|avg_pool_3x3~0|+|avg_pool_3x3~0|avg_pool_3x3~1|+|avg_pool_3x3~0|avg_pool_3x3~1|nor_conv_1x1~2|",
     1, 16, 5, 10, 32, "pool-heavy, one conv1x1 reading node 2"),
    ("|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|skip_connect~2|",
     1, 16, 5, 10, 32, "benchmark index 0"),
    ("|nor_conv_3x3~0|+|none~0|nor_conv_3x3~1|+|skip_connect~0|none~1|skip_connect~2|",
     1, 16, 5, 10, 32, "ResNet-like"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
     1, 16, 5, 10, 32, "best cifar10 (index 6111)"),
    ("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|",
     1, 16, 5, 10, 32, "node 1 all-zero, read by conv1x1; all five ops"),
    ("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|",
     7, 16, 5, 10, 32, "same, seed 7"),
    ("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|",
     1, 8, 1, 100, 16, "small config, 16x16 input (2x2 mean of the normalised 32x32 images)"),
    # a node whose only input is one skip edge is its source (no copy in nasrank's forward):
    # output node 3 held by node 1's, node 2's and node 0's buffer
    ("|nor_conv_3x3~0|+|avg_pool_3x3~0|none~1|+|none~0|skip_connect~1|none~2|",
     1, 16, 5, 10, 32, "node 3 = skip of node 1; node 2 dead"),
    ("|none~0|+|nor_conv_3x3~0|none~1|+|none~0|none~1|skip_connect~2|",
     1, 16, 5, 10, 32, "node 3 = skip of node 2"),
    ("|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|",
     1, 16, 5, 10, 32, "node 3 = node 2 = node 0 through skips; node 1 dead but read by a conv"),
]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "nb201_forward.json"))
    ap.add_argument("--datasets", default=None, help="directory holding cifar10/")
    args = ap.parse_args()

    torch.set_num_threads(2)
    _self_check_rng()

    # init check
    w = init_uniform(1, "stem.0.weight", (16, 3, 3, 3), 27).reshape(-1)
    init_first = [float(v) for v in w[:8]]
    print("init_check stem.0.weight seed 1:", init_first)

    droot = find_datasets(args.datasets)
    path = os.path.join(droot, IMAGE_FILE)
    pix_f, labels_f = load_records(path, FORWARD_BATCH)
    pix_n, labels_n = load_records(path, NASWOT_BATCH)
    assert len(set(NASWOT_BATCH)) == len(NASWOT_BATCH)
    x_f32, x_n32 = normalise(pix_f), normalise(pix_n)
    inputs = {32: (x_f32, x_n32), 16: (downsample2(x_f32), downsample2(x_n32))}

    out = {
        "torch_version": torch.__version__,
        "numpy_version": np.__version__,
        "generator": "tests/reference/make_fixtures.py",
        "images": {
            "file": IMAGE_FILE, "format": "cifar10", "mean": CIFAR10_MEAN, "std": CIFAR10_STD,
            "normalisation": "x = (p/255 - mean)/std in float64, cast to float32",
            "downsample16": "16x16 = mean of each 2x2 block of the float32 normalised 32x32 "
                            "image (4 values summed in float64, *0.25, cast to float32)",
            "forward_labels": labels_f, "naswot_labels": labels_n,
            "input_check": {
                "forward32": input_check(inputs[32][0]), "naswot32": input_check(inputs[32][1]),
                "forward16": input_check(inputs[16][0]), "naswot16": input_check(inputs[16][1]),
            },
        },
        "forward_batch": FORWARD_BATCH,
        "naswot_batch": NASWOT_BATCH,
        "init_check": {"name": "stem.0.weight", "seed": 1, "first": init_first},
        "semantics": {
            "mode": "train (batch statistics, biased variance, eps 1e-5), float32, CPU",
            "score_null_means": "-inf (singular K, sign 0)",
            "activation_order": "per cell node0, node1, node2 (only nodes read by a conv edge); "
                                "per ResNet block conv_a, conv_b; lastact last",
            "samples": "[flat row-major index into (B, C, H, W), float32 value]",
            "tensors": "[name, shape, float64 sum] in PyTorch named_parameters() order",
        },
        "archs": [],
    }

    for arch, seed, C, N, classes, S, note in ARCHS:
        ops = parse_arch(arch)
        net = TinyNetwork(C, N, ops, classes)
        net.train()
        names = [(n, tuple(p.shape)) for n, p in net.named_parameters()]
        assert names == expected_names(C, N, ops, classes), "parameter names differ from net.h"
        init_network(net, seed)
        xf, xn = inputs[S]

        logits, acts = run_forward(net, xf, ops, C, N)
        gate_ok = check_backward_gate(net, xn)
        assert gate_ok, "a ReLU module was not reached by the backward pass"
        scores, K_ref, K_pap = naswot(net, xn)

        k = sum(op in CONV_OPS for op in ops)
        ref_na, pap_na = expected_n_units(C, N, S, k)
        assert scores["reference"]["n_units"] == ref_na, (scores, ref_na)
        assert scores["paper"]["n_units"] == pap_na, (scores, pap_na)
        if (C, N, S) == (16, 5, 32):  # DESIGN.md section 4 formula
            assert ref_na == 286720 * k + 77824 and pap_na == 143360 * k + 40960
        # hooked-module count consistency with the activations
        assert sum(a["hooked_modules"] * a["shape"][1] * a["shape"][2] * a["shape"][3]
                   for a in acts) == ref_na
        assert sum(a["relu_modules"] * a["shape"][1] * a["shape"][2] * a["shape"][3]
                   for a in acts) == pap_na

        if (C, N, S, classes) == (16, 5, 32, 10):  # NATS-Bench size_in_mb formula (datasets README)
            n3, n1 = ops.count("nor_conv_3x3"), ops.count("nor_conv_1x1")
            assert sum(p.numel() for p in net.parameters()) == 73306 + 243040 * n3 + 28000 * n1

        entry = {
            "arch": arch, "seed": seed, "note": note,
            "config": {"C": C, "N": N, "num_classes": classes, "image_size": S},
            "conv_edges_per_cell": k,
            "num_params": int(sum(p.numel() for p in net.parameters())),
            "tensors": [[n, list(p.shape), float(p.detach().double().sum())]
                        for n, p in net.named_parameters()],
            "logits": [[float(v) for v in row] for row in logits],
            "activations": acts,
            "naswot": {"reference": scores["reference"], "paper": scores["paper"],
                       "backward_reaches_all_relus": gate_ok,
                       "K_reference": K_ref.tolist(), "K_paper": K_pap.tolist()},
        }
        out["archs"].append(entry)
        print("{:<100s} seed {} C{} N{} {}cls {}px  params {:>8d}  k={}  ref {} (N_A {})  paper {} (N_A {})".format(
            arch, seed, C, N, classes, S, entry["num_params"], k,
            scores["reference"]["score"], ref_na, scores["paper"]["score"], pap_na))

    text = to_json(out)
    json.loads(text)  # well-formed
    d = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(prefix=".nb201_forward.", suffix=".tmp", dir=d)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text + "\n")
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, args.out)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    print("wrote {} ({} bytes)".format(args.out, len(text) + 1))


if __name__ == "__main__":
    main()
