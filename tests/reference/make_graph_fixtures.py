#!/usr/bin/python3
"""PyTorch reference for nasrank's network graph: three hand-built networks, one per kind of
cell the graph must express, written here from the published module definitions (not from
the C code), initialised with nasrank's deterministic scheme and run in train mode.

Writes tests/reference/graph_nets.json (committed fixture), read by tests/test_graph.c,
whose tests/graph_nets.h builds the same networks on nr_graph.

    /usr/bin/python3 tests/reference/make_graph_fixtures.py [--out PATH]

Networks (input (3, 16, 16), batch 4, 10 classes, seed 1):
  nb101_cell   NAS-Bench-101 style (google-research/nasbench model_builder): stem
               conv3x3-BN-ReLU, one cell of 5 vertices (input, conv3x3-bn-relu,
               maxpool3x3, conv1x1-bn-relu, output) with 1x1 conv-bn-relu input projections,
               channel truncation of a wider input, output = concat of the vertices feeding it
               + projection of the input, then 2x2 max-pool stride 2, global pool, linear.
  darts_cells  DARTS NetworkCIFAR (quark0/darts model.py / operations.py), C=8, 3 cells:
               normal, reduction, normal (preprocessing ReLUConvBN and FactorizedReduce,
               sep_conv, dil_conv, pools with count_include_pad=False, skip at stride 2 =
               FactorizedReduce, Zero at stride 2, concat of 4 nodes), no auxiliary head,
               no drop path.
  mbv2_blocks  MobileNetV2 inverted residuals (ReLU6): stem, IR(e3, k3, s1) with residual,
               IR(e6, k5, s2) without, head conv1x1-BN-ReLU6, global pool, linear.

Input: element i of nr_rng_stream(1, "graph_nets.input") as (float)(2*u24 - 1), row-major
(B, C, H, W).  Recorded per net: named_parameters() names, shapes and float64 sums; the
output shape of every conv (by module name); the flattened logits.
"""

import argparse
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import init_uniform, to_json  # noqa: E402  (nasrank's RNG scheme)

SEED = 1
B, S, CLASSES = 4, 16, 10


# ------------------------------------------------------------------ NAS-Bench-101 style

class ConvBnRelu(nn.Module):
    def __init__(self, cin, cout, k):
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, k, padding=k // 2, bias=False)
        self.bn = nn.BatchNorm2d(cout, eps=1e-5)

    def forward(self, x):
        return F.relu(self.bn(self.conv(x)))


class NB101Cell(nn.Module):
    """Vertices 0 (input) .. 4 (output); edges 0->1, 0->2, 1->3, 2->3, 1->4, 3->4, 0->4.
    Vertex channels 16, 24 (the max pool on a 24-channel projection), 16; the 24-channel
    vertex is truncated to 16 where vertex 3 sums it; output 32 = concat(v1, v3) + proj."""

    def __init__(self, cin):
        super().__init__()
        self.input_proj_1 = ConvBnRelu(cin, 16, 1)
        self.vertex_1 = ConvBnRelu(16, 16, 3)
        self.input_proj_2 = ConvBnRelu(cin, 24, 1)
        self.vertex_3 = ConvBnRelu(16, 16, 1)
        self.input_proj_4 = ConvBnRelu(cin, 32, 1)

    def forward(self, x):
        v1 = self.vertex_1(self.input_proj_1(x))
        v2 = F.max_pool2d(self.input_proj_2(x), 3, 1, 1)
        v3 = self.vertex_3(v1 + v2[:, :16])
        return torch.cat([v1, v3], 1) + self.input_proj_4(x)


class NB101Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = ConvBnRelu(3, 16, 3)
        self.cell = NB101Cell(16)
        self.classifier = nn.Linear(32, CLASSES)

    def forward(self, x):
        x = F.max_pool2d(self.cell(self.stem(x)), 2, 2)
        return self.classifier(x.mean((2, 3)))


# ------------------------------------------------------------------ DARTS

class ReLUConvBN(nn.Module):
    def __init__(self, cin, cout, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False), nn.Conv2d(cin, cout, k, stride, pad, bias=False),
                                nn.BatchNorm2d(cout, affine=True))

    def forward(self, x):
        return self.op(x)


class DilConv(nn.Module):
    def __init__(self, c, k, stride, pad, dil):
        super().__init__()
        self.op = nn.Sequential(nn.ReLU(inplace=False),
                                nn.Conv2d(c, c, k, stride, pad, dilation=dil, groups=c, bias=False),
                                nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=True))

    def forward(self, x):
        return self.op(x)


class SepConv(nn.Module):
    def __init__(self, c, k, stride, pad):
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False), nn.Conv2d(c, c, k, stride, pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=True),
            nn.ReLU(inplace=False), nn.Conv2d(c, c, k, 1, pad, groups=c, bias=False),
            nn.Conv2d(c, c, 1, bias=False), nn.BatchNorm2d(c, affine=True))

    def forward(self, x):
        return self.op(x)


class FactorizedReduce(nn.Module):
    def __init__(self, cin, cout):
        super().__init__()
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(cin, cout // 2, 1, 2, 0, bias=False)
        self.conv_2 = nn.Conv2d(cin, cout // 2, 1, 2, 0, bias=False)
        self.bn = nn.BatchNorm2d(cout, affine=True)

    def forward(self, x):
        x = self.relu(x)
        return self.bn(torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], 1))


class Zero(nn.Module):
    def __init__(self, stride):
        super().__init__()
        self.stride = stride

    def forward(self, x):
        return x[:, :, ::self.stride, ::self.stride].mul(0.0)


class Identity(nn.Module):
    def forward(self, x):
        return x


def darts_op(name, c, stride):
    if name == "none":
        return Zero(stride)
    if name == "skip_connect":
        return Identity() if stride == 1 else FactorizedReduce(c, c)
    if name == "max_pool_3x3":
        return nn.MaxPool2d(3, stride, 1)
    if name == "avg_pool_3x3":
        return nn.AvgPool2d(3, stride, 1, count_include_pad=False)
    if name == "sep_conv_3x3":
        return SepConv(c, 3, stride, 1)
    if name == "sep_conv_5x5":
        return SepConv(c, 5, stride, 2)
    if name == "dil_conv_3x3":
        return DilConv(c, 3, stride, 2, 2)
    if name == "dil_conv_5x5":
        return DilConv(c, 5, stride, 4, 2)
    raise ValueError(name)


NORMAL = [("sep_conv_3x3", 0), ("skip_connect", 1), ("dil_conv_3x3", 0), ("max_pool_3x3", 2),
          ("avg_pool_3x3", 1), ("sep_conv_5x5", 3), ("skip_connect", 0), ("dil_conv_5x5", 4)]
REDUCE = [("max_pool_3x3", 0), ("skip_connect", 1), ("sep_conv_3x3", 0), ("avg_pool_3x3", 2),
          ("dil_conv_3x3", 1), ("skip_connect", 2), ("sep_conv_5x5", 3), ("none", 0)]
CONCAT = [2, 3, 4, 5]


class DartsCell(nn.Module):
    def __init__(self, genotype, cpp, cp, c, reduction, reduction_prev):
        super().__init__()
        self.preprocess0 = FactorizedReduce(cpp, c) if reduction_prev else ReLUConvBN(cpp, c, 1, 1, 0)
        self.preprocess1 = ReLUConvBN(cp, c, 1, 1, 0)
        self._ops = nn.ModuleList()
        self._idx = []
        for name, idx in genotype:
            stride = 2 if reduction and idx < 2 else 1
            self._ops.append(darts_op(name, c, stride))
            self._idx.append(idx)

    def forward(self, s0, s1):
        states = [self.preprocess0(s0), self.preprocess1(s1)]
        for i in range(4):
            h1 = self._ops[2 * i](states[self._idx[2 * i]])
            h2 = self._ops[2 * i + 1](states[self._idx[2 * i + 1]])
            states.append(h1 + h2)
        return torch.cat([states[i] for i in CONCAT], 1)


class DartsNet(nn.Module):
    def __init__(self, C=8):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 3 * C, 3, padding=1, bias=False), nn.BatchNorm2d(3 * C))
        cpp, cp, c = 3 * C, 3 * C, C
        cells = []
        reduction_prev = False
        for i, red in enumerate([False, True, False]):
            if red:
                c *= 2
            cells.append(DartsCell(REDUCE if red else NORMAL, cpp, cp, c, red, reduction_prev))
            reduction_prev = red
            cpp, cp = cp, 4 * c
        self.cells = nn.ModuleList(cells)
        self.classifier = nn.Linear(cp, CLASSES)

    def forward(self, x):
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            s0, s1 = s1, cell(s0, s1)
        return self.classifier(s1.mean((2, 3)))


# ------------------------------------------------------------------ MobileNetV2

class InvertedResidual(nn.Module):
    def __init__(self, cin, cout, k, stride, expand):
        super().__init__()
        hid = cin * expand
        self.use_res = stride == 1 and cin == cout
        self.conv = nn.Sequential(
            nn.Conv2d(cin, hid, 1, bias=False), nn.BatchNorm2d(hid), nn.ReLU6(inplace=False),
            nn.Conv2d(hid, hid, k, stride, k // 2, groups=hid, bias=False), nn.BatchNorm2d(hid),
            nn.ReLU6(inplace=False), nn.Conv2d(hid, cout, 1, bias=False), nn.BatchNorm2d(cout))

    def forward(self, x):
        y = self.conv(x)
        return x + y if self.use_res else y


class MBV2Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Sequential(nn.Conv2d(3, 16, 3, 1, 1, bias=False), nn.BatchNorm2d(16), nn.ReLU6())
        self.blocks = nn.ModuleList([InvertedResidual(16, 16, 3, 1, 3), InvertedResidual(16, 24, 5, 2, 6)])
        self.head = nn.Sequential(nn.Conv2d(24, 64, 1, bias=False), nn.BatchNorm2d(64), nn.ReLU6())
        self.classifier = nn.Linear(64, CLASSES)

    def forward(self, x):
        x = self.stem(x)
        for b in self.blocks:
            x = b(x)
        return self.classifier(self.head(x).mean((2, 3)))


# ------------------------------------------------------------------ running

def init(net):
    mods = dict(net.named_modules())
    for name, p in net.named_parameters():
        mod = mods[name.rsplit(".", 1)[0]]
        if isinstance(mod, nn.BatchNorm2d):
            p.data.fill_(1.0 if name.endswith("weight") else 0.0)
        elif isinstance(mod, nn.Conv2d):
            fan_in = mod.in_channels // mod.groups * mod.kernel_size[0] * mod.kernel_size[1]
            p.data.copy_(torch.from_numpy(init_uniform(SEED, name, tuple(p.shape), fan_in)))
        elif isinstance(mod, nn.Linear):
            p.data.copy_(torch.from_numpy(init_uniform(SEED, name, tuple(p.shape), mod.in_features)))
        else:
            raise ValueError(name)


def run(name, net):
    init(net)
    net.train()
    x = torch.from_numpy(init_uniform(1, "graph_nets.input", (B, 3, S, S), 1))
    shapes = []
    for mname, mod in net.named_modules():
        if isinstance(mod, nn.Conv2d):
            mod.register_forward_hook(lambda m, i, o, n=mname: shapes.append([n] + list(o.shape[1:])))
    with torch.no_grad():
        out = net(x)
    tensors = [[n, list(p.shape), float(p.detach().double().sum())] for n, p in net.named_parameters()]
    return {"name": name, "batch": B, "num_params": sum(p.numel() for p in net.parameters()),
            "tensors": tensors, "shapes": shapes,
            "output": [float(v) for v in out.reshape(-1).tolist()]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "graph_nets.json"))
    args = ap.parse_args()
    torch.set_num_threads(2)
    nets = [run("nb101_cell", NB101Net()), run("darts_cells", DartsNet()), run("mbv2_blocks", MBV2Net())]
    doc = {"torch_version": torch.__version__, "numpy_version": np.__version__,
           "generator": "tests/reference/make_graph_fixtures.py", "seed": SEED, "nets": nets}
    d = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(dir=d, prefix=".graph_nets.")
    with os.fdopen(fd, "w") as f:
        f.write(to_json(doc))
        f.write("\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
