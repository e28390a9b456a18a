#!/usr/bin/env python3
"""Metric parity fixtures for panopticon-eval (spec §6.5).

Writes tests/fixtures/eval/metrics.json: score matrices, targets and the values torchmetrics
0.10.3 computes (MulticlassAccuracy, MultilabelAveragePrecision, MultilabelF1Score), cross-checked
with scikit-learn where the definitions coincide. Unknown multilabel targets are NaN on the Rust
side (null in JSON) and ignore_index=-1 on the torchmetrics side.

Run: ~/.cache/panopticon-venv/bin/python scripts/gen_eval_metric_fixtures.py
(needs torchmetrics==0.10.3, scikit-learn, and setuptools<81 for pkg_resources).
"""
import json
import math
import pathlib
import warnings

import numpy as np
import sklearn
import torch
import torchmetrics
from sklearn.metrics import average_precision_score
from torchmetrics.classification import (
    MulticlassAccuracy,
    MultilabelAveragePrecision,
    MultilabelF1Score,
)

assert torchmetrics.__version__ == "0.10.3", torchmetrics.__version__
warnings.filterwarnings("ignore")
OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/eval/metrics.json"


def f32list(a):
    return [float(x) for x in np.asarray(a, dtype=np.float32).reshape(-1)]


def num(v):
    v = float(v)
    return None if math.isnan(v) else v


def multiclass_case(name, scores, targets, num_classes, top_ks):
    p, t = torch.tensor(scores, dtype=torch.float32), torch.tensor(targets)
    expected = {}
    for k in top_ks:
        for avg in ("micro", "macro"):
            m = MulticlassAccuracy(num_classes=num_classes, top_k=k, average=avg)
            expected[f"acc_top-{k}_{avg}"] = num(m(p, t))
    return {
        "name": name,
        "num_classes": num_classes,
        "scores": f32list(scores),
        "targets": [int(x) for x in targets],
        "expected": expected,
    }


def multilabel_case(name, scores, targets):
    """targets: float array with NaN = unknown."""
    n, l = scores.shape
    p = torch.tensor(scores, dtype=torch.float32)
    t = torch.tensor(np.where(np.isnan(targets), -1, targets).astype(np.int64))
    ign = -1 if np.isnan(targets).any() else None
    expected = {}
    for avg in ("micro", "macro"):
        ap = MultilabelAveragePrecision(num_labels=l, average=avg, ignore_index=ign)
        expected[f"MulLabAvergPrec_{avg}"] = num(ap(p, t))
        f1 = MultilabelF1Score(num_labels=l, average=avg, ignore_index=ign)
        expected[f"MulLabF1ScoreMacro_{avg}"] = num(f1(p, t))
    # scikit-learn cross-check of AP (same definition) on the known pairs.
    probs = p.numpy() if ((p >= 0) & (p <= 1)).all() else torch.sigmoid(p).numpy()
    known = ~np.isnan(targets)
    per = []
    for j in range(l):
        kj = known[:, j]
        if targets[kj, j].sum() > 0:
            per.append(average_precision_score(targets[kj, j], probs[kj, j]))
    if per and expected["MulLabAvergPrec_macro"] is not None:
        assert abs(np.mean(per) - expected["MulLabAvergPrec_macro"]) < 1e-5, name
    sk_micro = average_precision_score(targets[known], probs[known])
    assert abs(sk_micro - expected["MulLabAvergPrec_micro"]) < 1e-5, name
    return {
        "name": name,
        "num_labels": l,
        "scores": f32list(scores),
        "targets": [None if math.isnan(x) else float(x) for x in targets.reshape(-1)],
        "expected": expected,
    }


def main():
    g = np.random.default_rng(7)
    mc = []
    # Plain random logits, every class present.
    mc.append(multiclass_case("random", g.standard_normal((40, 6)), g.integers(0, 6, 40), 6, [1, 3, 5]))
    # Class 5 never a target (and rarely predicted): 0.10.3 still averages over all 6 classes.
    s = g.standard_normal((30, 6))
    s[:, 5] -= 5.0
    mc.append(multiclass_case("absent_class", s, g.integers(0, 5, 30), 6, [1, 2]))
    # Coarse scores: many exact ties, argmax takes the lowest index.
    mc.append(multiclass_case("ties_top1", np.round(g.random((50, 4)) * 2) / 2, g.integers(0, 4, 50), 4, [1]))
    # One sample, softmax-like probabilities.
    mc.append(multiclass_case("single", np.array([[0.1, 0.7, 0.2]]), np.array([2]), 3, [1, 2]))

    ml = []
    t = (g.random((30, 5)) < 0.35).astype(np.float64)
    t[:, 4] = 0.0  # label without positives: NaN AP, dropped by macro
    t[0, 0] = 1.0
    ml.append(multilabel_case("random_no_pos_label", g.standard_normal((30, 5)) * 2, t))
    t = (g.random((40, 6)) < 0.4).astype(np.float64)
    t[g.random((40, 6)) < 0.1] = np.nan  # unknown targets
    ml.append(multilabel_case("unknown_targets", g.standard_normal((40, 6)), t))
    t = (g.random((36, 4)) < 0.5).astype(np.float64)
    ml.append(multilabel_case("ties", np.round(g.standard_normal((36, 4)) * 2) / 2, t))
    t = (g.random((25, 3)) < 0.5).astype(np.float64)
    ml.append(multilabel_case("probabilities_no_sigmoid", g.random((25, 3)), t))
    t = (g.random((20, 3)) < 0.5).astype(np.float64)
    ml.append(multilabel_case("saturated_logits", g.standard_normal((20, 3)) * 30, t))

    OUT.parent.mkdir(parents=True, exist_ok=True)
    doc = {
        "generator": "scripts/gen_eval_metric_fixtures.py",
        "versions": {
            "torch": torch.__version__,
            "torchmetrics": torchmetrics.__version__,
            "sklearn": sklearn.__version__,
            "numpy": np.__version__,
        },
        "multiclass": mc,
        "multilabel": ml,
    }
    OUT.write_text(json.dumps(doc, allow_nan=False) + "\n")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
