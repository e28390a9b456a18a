#!/usr/bin/env python3
"""PyTorch references for the panopticon-eval kNN (spec §6.3) and linear probes (§6.4).

Writes tests/fixtures/eval/knn.json and tests/fixtures/eval/probe.json from fixed random
features. The kNN reference is DINOv2's KnnModule algorithm (normalise, cosine similarity,
top-max_k, softmax(sim/T), per-k weighted one-hot sums); the multilabel variant is the spec's
literal "one binary kNN per label with positives, P(1) per label, softmax across labels".
The probe reference trains nn.Linear heads with torch.optim.SGD (momentum 0.9, one param
group per head) and CosineAnnealingLR, loss = sum of per-head CrossEntropy (or
MultiLabelSoftMarginLoss), from committed initial weights and the same batch order as the
Rust sampler (SplitMix64 permutations, replicated below).

Run: ~/.cache/panopticon-venv/bin/python scripts/gen_eval_knn_probe_fixtures.py
"""
import json
import math
import pathlib
import warnings

import numpy as np
import torch
import torch.nn.functional as F
import torchmetrics
from torchmetrics.classification import MulticlassAccuracy, MultilabelAveragePrecision

warnings.filterwarnings("ignore")
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/eval"
M64 = (1 << 64) - 1
LR_GRID = [1e-5, 2e-5, 5e-5, 1e-4, 2e-4, 5e-4, 1e-3, 2e-3, 5e-3, 1e-2, 2e-2, 5e-2, 0.1, 0.2, 0.3, 0.5]


def fl(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


class SplitMix64:
    """Bit-exact twin of panopticon_eval::SplitMix64."""

    def __init__(self, seed):
        self.s = seed & M64

    def next_u64(self):
        self.s = (self.s + 0x9E3779B97F4A7C15) & M64
        z = self.s
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
        return z ^ (z >> 31)

    def permutation(self, n):
        p = list(range(n))
        for i in range(n - 1, 0, -1):
            j = self.next_u64() % (i + 1)
            p[i], p[j] = p[j], p[i]
        return p


def batch_schedule(n, batch, iters, seed):
    rng, perm, pos, out = SplitMix64(seed), [], 0, []
    for _ in range(iters):
        b = []
        for _ in range(batch):
            if pos == len(perm):
                perm, pos = rng.permutation(n), 0
            b.append(perm[pos])
            pos += 1
        out.append(b)
    return out


# ---------------------------------------------------------------- kNN
def knn_official(train_f, train_y, test_f, ks, T, num_classes):
    train_f = F.normalize(train_f, dim=1, p=2)
    test_f = F.normalize(test_f, dim=1, p=2)
    sim = test_f @ train_f.T
    max_k = max(ks)
    topk_sims, idx = sim.topk(max_k, largest=True, sorted=True)
    neighbors = train_y[idx]
    w = F.softmax(topk_sims / T, dim=1)
    mm = F.one_hot(neighbors, num_classes=num_classes) * w.view(len(test_f), -1, 1)
    return {k: mm[:, :k, :].sum(1) for k in ks}


def knn_multilabel(train_f, train_y, test_f, ks, T):
    n_labels = train_y.shape[1]
    per_k = {k: torch.zeros(len(test_f), n_labels) for k in ks}
    for c in range(n_labels):
        yc = train_y[:, c].long()
        if yc.sum() == 0:
            continue  # no positives: P(1) = 0
        s = knn_official(train_f, yc, test_f, ks, T, 2)
        for k in ks:
            per_k[k][:, c] = s[k][:, 1]
    return {k: F.softmax(v, dim=1) for k, v in per_k.items()}


def clustered(g, n, d, c, spread):
    centers = g.standard_normal((c, d))
    y = g.integers(0, c, n)
    return (centers[y] + spread * g.standard_normal((n, d))).astype(np.float32), y


def gen_knn():
    g = np.random.default_rng(11)
    d, c, ks, T = 32, 8, [1, 5, 10, 20], 0.07
    x, y = clustered(g, 500, d, c, 1.6)
    tr, va, te = slice(0, 300), slice(300, 380), slice(380, 500)
    X = torch.tensor(x)
    Y = torch.tensor(y)
    doc = {"dim": d, "num_classes": c, "ks": ks, "temperature": T,
           "train": {"features": fl(x[tr]), "labels": y[tr].tolist()},
           "val": {"features": fl(x[va]), "labels": y[va].tolist()},
           "test": {"features": fl(x[te]), "labels": y[te].tolist()}}
    for split, sl in (("val", va), ("test", te)):
        sc = knn_official(X[tr], Y[tr], X[sl], ks, T, c)
        doc[split]["scores"] = {str(k): fl(sc[k]) for k in ks}
        doc[split]["predictions"] = {str(k): sc[k].argmax(1).tolist() for k in ks}
        doc[split]["acc_top-1_micro"] = {
            str(k): float(MulticlassAccuracy(num_classes=c, top_k=1, average="micro")(sc[k], Y[sl])) for k in ks}
        doc[split]["acc_top-1_macro"] = {
            str(k): float(MulticlassAccuracy(num_classes=c, top_k=1, average="macro")(sc[k], Y[sl])) for k in ks}
    # multilabel variant
    L = 5
    yml = (g.random((500, L)) < 0.3).astype(np.float32)
    yml[:, 0] = (y % 2 == 0)  # a label correlated with the clusters
    yml[:, 4] = 0.0  # a label without positives
    Yml = torch.tensor(yml)
    sc = knn_multilabel(X[tr], Yml[tr], X[te], ks, T)
    doc["multilabel"] = {
        "num_labels": L,
        "train_targets": fl(yml[tr]),
        "test_targets": fl(yml[te]),
        "scores": {str(k): fl(sc[k]) for k in ks},
        "ap_micro": {str(k): float(MultilabelAveragePrecision(num_labels=L, average="micro")(
            sc[k], Yml[te].long())) for k in ks},
    }
    (OUT / "knn.json").write_text(json.dumps(doc) + "\n")


# ---------------------------------------------------------------- probes
def pooled(cls, patch, n, pooling):
    x = cls[:, -n:, :].reshape(len(cls), -1)
    return torch.cat([x, patch], 1) if pooling == "avgpool" else x


def head_name(n, pooling, lr):
    return f"classifier_{n}_blocks_pooling_{pooling}_lr_{lr:.5f}".replace(".", "_")


def train_probes(cls, patch, target, heads, batch, epochs, multilabel):
    n = len(cls)
    max_iter = math.ceil(n * epochs / batch)
    mods, groups = [], []
    for h in heads:
        lin = torch.nn.Linear(h["dim"], h["c"])
        with torch.no_grad():
            lin.weight.copy_(torch.tensor(h["weight"]).view(h["c"], h["dim"]))
            lin.bias.zero_()
        mods.append(lin)
        groups.append({"params": lin.parameters(), "lr": h["lr"]})
    opt = torch.optim.SGD(groups, momentum=0.9, weight_decay=0)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, max_iter, eta_min=0)
    loss_fn = torch.nn.MultiLabelSoftMarginLoss() if multilabel else torch.nn.CrossEntropyLoss()
    for b in batch_schedule(n, batch, max_iter, 0):
        b = torch.tensor(b)
        loss = sum(loss_fn(m(pooled(cls[b], patch[b], h["n"], h["pooling"])), target[b])
                   for m, h in zip(mods, heads))
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return mods


def gen_probe(multilabel):
    g = np.random.default_rng(23 if multilabel else 21)
    nb, d, c = 4, 8, (5 if multilabel else 4)
    n_tr, n_va, n_te = 200, 100, 100
    n_all = n_tr + n_va + n_te
    y = g.integers(0, c, n_all)
    centers = g.standard_normal((c, nb + 1, d)) * (0.6 if multilabel else 0.3)
    feats = (centers[y] + g.standard_normal((n_all, nb + 1, d))).astype(np.float32)
    if multilabel:
        tgt = (g.random((n_all, c)) < 0.25).astype(np.float32)
        tgt[np.arange(n_all), y] = 1.0
        target = torch.tensor(tgt)
    else:
        target = torch.tensor(y)
    cls, patch = torch.tensor(feats[:, :nb]), torch.tensor(feats[:, nb])
    batch, epochs = 32, 5
    lrs = LR_GRID + ([1.0] if multilabel else [])
    heads = []
    for n in (1, 4):
        for pooling in ("avgpool", "cls"):
            dim = (n + 1) * d if pooling == "avgpool" else n * d
            for base in lrs:
                lr = base * batch / 256
                heads.append({"name": head_name(n, pooling, lr), "n": n, "pooling": pooling, "lr": lr,
                              "dim": dim, "c": c,
                              "weight": fl(g.standard_normal((c, dim)) * 0.01)})
    tr, va, te = slice(0, n_tr), slice(n_tr, n_tr + n_va), slice(n_tr + n_va, n_all)
    mods = train_probes(cls[tr], patch[tr], target[tr], heads, batch, epochs, multilabel)

    def metric(logits, t):
        if multilabel:
            return float(MultilabelAveragePrecision(num_labels=c, average="micro")(logits, t.long()))
        return float(MulticlassAccuracy(num_classes=c, top_k=1, average="micro")(logits, t))

    out_heads = []
    with torch.no_grad():
        for m, h in zip(mods, heads):
            res = {}
            for split, sl in (("val", va), ("test", te)):
                res[split] = metric(m(pooled(cls[sl], patch[sl], h["n"], h["pooling"])), target[sl])
            out = {**h, "val": res["val"], "test": res["test"]}
            if len(out_heads) % 8 == 0:  # final weights of every 8th head keep the file small
                out.update(final_weight=fl(m.weight), final_bias=fl(m.bias))
            out_heads.append(out)
    best = max(range(len(out_heads)), key=lambda i: (out_heads[i]["val"], -i))
    doc = {"multilabel": multilabel, "num_blocks": nb, "dim": d, "num_classes": c,
           "batch_size": batch, "epochs": epochs,
           "metric": "MulLabAvergPrec_micro" if multilabel else "acc_top-1_micro",
           "cls": fl(feats[:, :nb]), "patch_mean": fl(feats[:, nb]),
           "targets": fl(tgt) if multilabel else y.tolist(),
           "splits": [n_tr, n_va, n_te], "heads": out_heads,
           "selected": out_heads[best]["name"], "selected_test": out_heads[best]["test"]}
    name = "probe_multilabel.json" if multilabel else "probe.json"
    (OUT / name).write_text(json.dumps(doc) + "\n")
    print(name, "selected", doc["selected"], "test", doc["selected_test"])


if __name__ == "__main__":
    assert torchmetrics.__version__ == "0.10.3"
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    gen_knn()
    gen_probe(False)
    gen_probe(True)
    for f in sorted(OUT.glob("*.json")):
        print(f.name, f.stat().st_size)
