#!/usr/bin/env python3
"""Train an ODMN-shaped network with PyTorch on CPU and print its speed.

`odmn bench` runs this (when Debian's python3-torch is installed) beside its
own training benchmark, with the layout of the model it trained, so that
the two train networks of the same size and structure: the embedding table
and share-bottom MLP, per horizon a DCT tower over the sub-distributions, a
DOT tower, and per sub-distribution with more than one bucket BCT, BOT and
BBT towers (one hidden layer each), Mono Units between horizons on the
previous horizon's bucket distribution (softplus weights), and the same
loss terms (cross-entropies, ordinal BCEs, distillation from the ordinal
teachers, the BBT squared error and the calibration hinge).

Usage: bench_torch.py LAYOUT.json  (or - for standard input)

LAYOUT keys: cardinalities [int], embed_dim, bottom [int], tower, mono,
tasks [[{"m": buckets, "r": interval buckets}, ...], ...], batch, threads,
seconds (time to measure, default 10), windows (the rate printed is the
best of this many windows of seconds/windows each, default 1), warmup
steps (default 5).
It prints one JSON line: {"rows_per_s", "steps", "seconds", "threads",
"batch", "params", "torch"}.

With "serve": true in LAYOUT (read from a file then), it warms up, prints
one JSON line {"ready": true, "threads", "batch", "params", "torch"} and
then, for every line SECONDS read from standard input, trains for that
long and prints {"rows_per_s", "steps", "seconds"}: odmn bench interleaves
these windows with its own.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Tower(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.h = nn.Linear(d_in, hidden)
        self.o = nn.Linear(hidden, d_out)

    def forward(self, x):
        return self.o(F.relu(self.h(x)))


class Mono(nn.Module):
    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.v1 = nn.Parameter(torch.randn(d_in, hidden) * 0.5 - 4)
        self.b1 = nn.Parameter(torch.zeros(hidden))
        self.v2 = nn.Parameter(torch.randn(hidden, d_out) * 0.5 - 4)
        self.b2 = nn.Parameter(torch.zeros(d_out))

    def forward(self, x):
        h = F.relu(x @ F.softplus(self.v1) + self.b1)
        return h @ F.softplus(self.v2) + self.b2


class ODMNLike(nn.Module):
    def __init__(self, L):
        super().__init__()
        card = L["cardinalities"]
        self.offsets = torch.tensor([sum(card[:i]) for i in range(len(card))])
        self.emb = nn.Embedding(sum(card), L["embed_dim"])
        layers, d = [], len(card) * L["embed_dim"]
        for w in L["bottom"]:
            layers += [nn.Linear(d, w), nn.ReLU()]
            d = w
        self.bottom = nn.Sequential(*layers)
        T, M = L["tower"], L["mono"]
        self.tasks = nn.ModuleList()
        prev = 0
        for subs in L["tasks"]:
            S = len(subs)
            t = nn.ModuleDict()
            t["dct"] = Tower(d, T, S)
            if S > 1:
                t["dot"] = Tower(d, T, S - 1)
            if prev:
                t["mono_dct"] = Mono(prev, M, S)
            for s, sd in enumerate(subs):
                if sd["m"] > 1:
                    t[f"bct{s}"] = Tower(d, T, sd["m"])
                    t[f"bot{s}"] = Tower(d, T, sd["m"] - 1)
                    if prev:
                        t[f"mono{s}"] = Mono(prev, M, sd["m"])
                if sd["r"] > 0:
                    t[f"bbt{s}"] = Tower(d, T, sd["r"])
            self.tasks.append(t)
            prev = sum(sd["m"] for sd in subs)
        self.layout = L["tasks"]

    def forward(self, ids, targets):
        x = self.emb(ids + self.offsets).flatten(1)
        h = self.bottom(x)
        loss = 0.0
        prev_o, prev_ev = None, None
        for t, (mods, subs) in enumerate(zip(self.tasks, self.layout)):
            y = targets[t]
            dct = mods["dct"](h)
            if prev_o is not None:
                dct = dct + mods["mono_dct"](prev_o)
            p = F.softmax(dct, 1)
            sub = y["sub"]
            loss = loss + F.cross_entropy(dct, sub)
            if "dot" in mods:
                dot = mods["dot"](h)
                loss = loss + F.binary_cross_entropy_with_logits(dot, y["dot"], reduction="sum") / len(sub)
                pi = ordinal_teacher(dot)
                loss = loss + 0.5 * -(pi * F.log_softmax(dct, 1)).sum(1).mean()
            os, values = [], []
            for s, sd in enumerate(subs):
                if sd["m"] == 1:
                    os.append(p[:, s : s + 1])
                    values.append(torch.zeros_like(p[:, s : s + 1]))
                    continue
                bct = mods[f"bct{s}"](h)
                if prev_o is not None:
                    bct = bct + mods[f"mono{s}"](prev_o)
                mask = (sub == s).float()
                den = mask.sum().clamp(min=1)
                ls = F.log_softmax(bct, 1)
                loss = loss + (-(ls.gather(1, y["bucket"].unsqueeze(1)).squeeze(1)) * mask).sum() / den
                bot = mods[f"bot{s}"](h)
                loss = loss + (F.binary_cross_entropy_with_logits(bot, y["bot"], reduction="none").sum(1) * mask).sum() / den
                pi = ordinal_teacher(bot)
                loss = loss + 0.5 * (-(pi * ls).sum(1) * mask).sum() / den
                q = F.softmax(bct, 1)
                os.append(p[:, s : s + 1] * q)
                if f"bbt{s}" in mods:
                    bbt = torch.sigmoid(mods[f"bbt{s}"](h))
                    d = bbt - y["bbt"]
                    loss = loss + ((d * d * y["bbt_mask"]).sum(1) * mask).sum() / den
                    pad = torch.zeros(len(sub), sd["m"] - sd["r"])
                    values.append(torch.cat([pad, bbt], 1) + torch.arange(sd["m"]).float())
                else:
                    values.append(torch.arange(sd["m"]).float().expand(len(sub), -1))
            o = torch.cat(os, 1)
            ev = (o * torch.cat(values, 1)).sum(1)
            if prev_ev is not None:
                loss = loss + F.relu(prev_ev - ev).mean()
            prev_o, prev_ev = o.detach(), ev
        return loss


def ordinal_teacher(z):
    P = torch.sigmoid(z)
    parts = [1 - P[:, :1]]
    if z.shape[1] > 1:
        parts.append(P[:, :-1] - P[:, 1:])
    parts.append(P[:, -1:])
    pi = F.relu(torch.cat(parts, 1))
    return (pi / (pi.sum(1, keepdim=True) + 1e-8)).detach()


def batch(L, n, g):
    card = L["cardinalities"]
    ids = torch.stack([torch.randint(0, c, (n,), generator=g) for c in card], 1)
    targets = []
    for subs in L["tasks"]:
        S = len(subs)
        sub = torch.randint(0, S, (n,), generator=g)
        y = {"sub": sub, "dot": (torch.arange(S - 1).unsqueeze(0) < sub.unsqueeze(1)).float()}
        m = max(sd["m"] for sd in subs)
        r = max(sd["r"] for sd in subs)
        bucket = torch.randint(0, m, (n,), generator=g)
        y["bucket"] = bucket
        y["bot"] = (torch.arange(m - 1).unsqueeze(0) < bucket.unsqueeze(1)).float()
        y["bbt"] = torch.rand(n, r, generator=g)
        y["bbt_mask"] = F.one_hot(torch.randint(0, r, (n,), generator=g), r).float() if r else torch.zeros(n, 0)
        targets.append(y)
    return ids, targets


def main():
    src = sys.argv[1] if len(sys.argv) > 1 else "-"
    L = json.load(sys.stdin if src == "-" else open(src))
    torch.set_num_threads(int(L.get("threads", 1)))
    torch.manual_seed(1)
    g = torch.Generator().manual_seed(1)
    model = ODMNLike(L)
    opt = torch.optim.Adam(model.parameters(), lr=0.002)
    n = int(L.get("batch", 512))
    batches = [batch(L, n, g) for _ in range(8)]

    def step(i):
        ids, targets = batches[i % len(batches)]
        opt.zero_grad(set_to_none=True)
        loss = model(ids, targets)
        loss.backward()
        opt.step()

    for i in range(int(L.get("warmup", 5))):
        step(i)
    params = sum(p.numel() for p in model.parameters())
    if L.get("serve"):
        print(json.dumps({"ready": True, "threads": torch.get_num_threads(), "batch": n,
                          "params": params, "torch": torch.__version__}), flush=True)
        steps = 0
        for line in sys.stdin:
            limit = float(line)
            k, t0 = 0, time.perf_counter()
            while time.perf_counter() - t0 < limit or k < 3:
                step(steps)
                steps += 1
                k += 1
            el = time.perf_counter() - t0
            print(json.dumps({"rows_per_s": k * n / el, "steps": k, "seconds": el}), flush=True)
        return
    limit = float(L.get("seconds", 10))
    windows = int(L.get("windows", 1))
    best, steps, total = 0.0, 0, 0.0
    for _ in range(windows):  # the best window, as odmn bench does
        k, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < limit / windows or k < 3:
            step(steps)
            steps += 1
            k += 1
        el = time.perf_counter() - t0
        total += el
        best = max(best, k * n / el)
    print(json.dumps({"rows_per_s": best, "steps": steps, "seconds": total,
                      "threads": torch.get_num_threads(), "batch": n,
                      "params": params, "torch": torch.__version__}))


if __name__ == "__main__":
    main()
