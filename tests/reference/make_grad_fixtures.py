#!/usr/bin/python3
"""PyTorch reference for nasrank's backward pass and zero-cost proxies.

Generates tests/reference/nb201_grads.json (committed fixture).  Run from the repository
root with Debian's Python, which has torch:

    /usr/bin/python3 tests/reference/make_grad_fixtures.py [--out PATH] [--datasets DIR]

The network, the deterministic init and the image handling are those of make_fixtures.py
(imported from it: an independent PyTorch model written from the published semantics); see
tests/reference/README.md.  For each arch, on a batch of 8 real CIFAR-10 training images
with their labels (train-mode BatchNorm, float32, CPU):

  * loss = mean cross-entropy; autograd gradients of every parameter (per tensor: float64
    sum, sum of |g|, and 8 sampled entries) and of the input images;
  * the zero-cost proxies, written from the definitions of zero-cost-nas
    (SamsungLabs, foresight/pruners/measures/*.py) with autograd:
      snip       sum over conv/linear weights of |w * dL/dw|
      grad_norm  sum over conv/linear layers of the Frobenius norm of dL/dW
      grasp      -sum over conv/linear weights of w * (H g), g = dL/dw (conv/linear weights),
                 H g by double backward (exact)
      fisher     per conv/linear layer with output a: fan_in * sum_k 0.5 * mean_n
                 (sum_hw a * dL/da)^2, summed over layers (fan_in = weight.shape[1:].numel(),
                 the reference broadcasts each channel value over its weights)
      jacob_cov  J = d(sum of logits)/d(images) (B, 3*32*32); C = corrcoef(J);
                 -sum(log(l + 1e-5) + 1/(l + 1e-5)) over the eigenvalues l of C (eigvalsh)
      synflow    on a BN-free copy (every BatchNorm the identity), all parameters |p|, in
                 float64, input all ones (1, 3, 32, 32): R = sum(logits), sum over conv/linear
                 weights of |w * dR/dw|
"""

import argparse
import copy
import json
import os
import sys
import tempfile

import numpy as np
import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402

BATCH = [42, 3141, 7, 2048, 999, 1500, 256, 3998]
# C, N, classes, image size: a smaller macro net than NB201's C=16, N=5 keeps the C test
# fast (also under the sanitizers); the skeleton (3 stages, 2 ResNet blocks) is the same.
CONFIG = (8, 2, 10, 32)
SAMPLES = 8
SAMPLE_SEED = 20240715

ARCHS = [
    # (arch, seed, all proxies?, note)
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|",
     1, True, "best cifar10 (index 6111): stacked conv groups"),
    ("|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|skip_connect~1|avg_pool_3x3~2|",
     1, True, "node 1 all-zero, all five ops"),
    ("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|",
     1, False, "all conv3x3: the largest synflow (at C=16, N=5 it is ~8e49, beyond float)"),
]


def layers(net):
    return [m for m in net.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]


def stats(t, seed):
    a = t.detach().double().numpy().reshape(-1)
    rng = np.random.default_rng(seed)
    pos = np.sort(rng.choice(a.size, size=min(SAMPLES, a.size), replace=False))
    return {"sum": float(a.sum()), "sum_abs": float(np.abs(a).sum()),
            "samples": [[int(p), float(a[p])] for p in pos]}


def gradients_and_proxies(net, x, y):
    """CE gradients (params, input) and the data-based proxies, one batch."""
    out = {}
    xi = torch.from_numpy(x).clone().requires_grad_(True)
    acts = {}
    handles = []
    for m in layers(net):
        def hook(mod, inp, o):
            o.retain_grad()
            acts[mod] = o
        handles.append(m.register_forward_hook(hook))
    logits = net(xi)
    loss = nn.functional.cross_entropy(logits, torch.tensor(y))
    net.zero_grad(set_to_none=True)
    loss.backward()
    for h in handles:
        h.remove()
    out["loss"] = float(loss)
    out["logits"] = [[float(v) for v in row] for row in logits.detach().numpy()]
    out["grads"] = [[n, list(p.shape)] + [stats(p.grad, SAMPLE_SEED + i)]
                    for i, (n, p) in enumerate(net.named_parameters())]
    out["input_grad"] = stats(xi.grad, SAMPLE_SEED - 1)

    snip = sum(float((m.weight * m.weight.grad).abs().double().sum()) for m in layers(net))
    grad_norm = sum(float(m.weight.grad.double().norm()) for m in layers(net))
    fisher = 0.0
    for m in layers(net):
        a, g = acts[m].detach().double(), acts[m].grad.double()
        gnk = (a * g).sum(dim=tuple(range(2, a.dim()))) if a.dim() > 2 else a * g
        fisher += float((0.5 * gnk.pow(2).mean(0)).sum()) * int(np.prod(m.weight.shape[1:]))

    # grasp: z = sum(g.detach() * grad(L, w, create_graph)); Hg = grad(z, w)
    ws = [m.weight for m in layers(net)]
    logits = net(torch.from_numpy(x))
    loss = nn.functional.cross_entropy(logits, torch.tensor(y))
    g1 = torch.autograd.grad(loss, ws)
    logits = net(torch.from_numpy(x))
    loss = nn.functional.cross_entropy(logits, torch.tensor(y))
    gf = torch.autograd.grad(loss, ws, create_graph=True)
    z = sum((a.detach() * b).sum() for a, b in zip(g1, gf))
    hg = torch.autograd.grad(z, ws)
    grasp = -sum(float((w.detach() * h).double().sum()) for w, h in zip(ws, hg))

    # jacob_cov
    xi = torch.from_numpy(x).clone().requires_grad_(True)
    logits = net(xi)
    logits.backward(torch.ones_like(logits))
    J = xi.grad.detach().double().numpy().reshape(x.shape[0], -1)
    lam = np.linalg.eigvalsh(np.corrcoef(J))
    jc = float(-np.sum(np.log(lam + 1e-5) + 1.0 / (lam + 1e-5)))
    net.zero_grad(set_to_none=True)
    out["proxies"] = {"snip": snip, "grad_norm": grad_norm, "fisher": fisher, "grasp": grasp,
                      "jacob_cov": jc}
    out["jacobian"] = stats(torch.from_numpy(J), SAMPLE_SEED - 2)
    return out


def synflow(net, S):
    """BN-free copy, |params|, float64, all-ones input of one image."""
    sn = copy.deepcopy(net)
    for name, m in list(sn.named_modules()):
        for cname, child in list(m.named_children()):
            if isinstance(child, nn.BatchNorm2d):
                setattr(m, cname, nn.Identity())
    sn = sn.double()
    with torch.no_grad():
        for p in sn.parameters():
            p.abs_()
    sn.zero_grad(set_to_none=True)
    out = sn(torch.ones(1, 3, S, S, dtype=torch.float64))
    out.sum().backward()
    return float(sum(float((m.weight * m.weight.grad).abs().sum()) for m in layers(sn)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "nb201_grads.json"))
    ap.add_argument("--datasets", default=None, help="directory holding cifar10/")
    args = ap.parse_args()
    torch.set_num_threads(2)
    droot = mf.find_datasets(args.datasets)
    pix, labels = mf.load_records(os.path.join(droot, mf.IMAGE_FILE), BATCH)
    x = mf.normalise(pix)
    C, N, K, S = CONFIG
    result = {
        "torch_version": torch.__version__, "numpy_version": np.__version__,
        "generator": "tests/reference/make_grad_fixtures.py",
        "images": {"file": mf.IMAGE_FILE, "indices": BATCH, "labels": labels,
                   "normalisation": "as nb201_forward.json (CIFAR-10 mean/std, float64 then float32)"},
        "config": {"C": C, "N": N, "num_classes": K, "image_size": S},
        "semantics": {
            "loss": "mean cross-entropy over the batch, train-mode BN (batch statistics)",
            "grads": "[name, shape, {sum, sum_abs (float64), samples [[flat index, value]]}]",
            "proxies": "see the docstring of make_grad_fixtures.py",
        },
        "archs": [],
    }
    for arch, seed, full, note in ARCHS:
        ops = mf.parse_arch(arch)
        net = mf.TinyNetwork(C, N, ops, K)
        net.train()
        mf.init_network(net, seed)
        entry = {"arch": arch, "seed": seed, "note": note}
        if full:
            entry.update(gradients_and_proxies(net, x, labels))
        entry["synflow"] = synflow(net, S)
        result["archs"].append(entry)
        print("{}  synflow {:.6e}  {}".format(arch, entry["synflow"], entry.get("proxies", "")))

    text = mf.to_json(result)
    json.loads(text)
    d = os.path.dirname(os.path.abspath(args.out))
    fd, tmp = tempfile.mkstemp(prefix=".nb201_grads.", suffix=".tmp", dir=d)
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
