"""Writes small PyTorch checkpoint fixtures in the layouts the official training code saves.

From the tiny model's weights (tests/fixtures/panopticon-tiny/weights.safetensors):
- `train_checkpoint.pth`: fvcore training checkpoint `{"model": {...}, "optimizer": {...},
  "iteration": int}` with `dino_loss.center`, `student.backbone.*` (weights + 0.5, so the two
  backbones differ), `teacher.backbone.*`, `{student,teacher}.dino_head.*` (spec §2.4);
- `teacher_snapshot.pth`: `{"teacher": {"backbone.*", "dino_head.*"}}` (eval snapshots).

Usage: python scripts/gen_checkpoint_fixtures.py   (needs torch, safetensors)
"""
import pathlib

import torch
from safetensors.torch import load_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/checkpoints"
OUT.mkdir(parents=True, exist_ok=True)

sd = load_file(ROOT / "tests/fixtures/panopticon-tiny/weights.safetensors")
g = torch.Generator().manual_seed(7)
head = {
    "mlp.0.weight": torch.randn(16, 48, generator=g),
    "mlp.0.bias": torch.randn(16, generator=g),
    "last_layer.weight_g": torch.ones(32, 1),
    "last_layer.weight_v": torch.randn(32, 16, generator=g),
}
model = {"dino_loss.center": torch.zeros(1, 32)}
model.update({f"student.backbone.{k}": v + 0.5 for k, v in sd.items()})
model.update({f"student.dino_head.{k}": v for k, v in head.items()})
model.update({f"teacher.backbone.{k}": v.clone() for k, v in sd.items()})
model.update({f"teacher.dino_head.{k}": v.clone() for k, v in head.items()})
optimizer = {
    "state": {0: {"step": torch.tensor(5.0), "exp_avg": torch.zeros(4), "exp_avg_sq": torch.zeros(4)}},
    "param_groups": [{"lr": 1e-4, "weight_decay": 0.04, "params": [0], "betas": (0.9, 0.999)}],
}
torch.save({"model": model, "optimizer": optimizer, "iteration": 5}, OUT / "train_checkpoint.pth")

teacher = {f"backbone.{k}": v.clone() for k, v in sd.items()}
teacher.update({f"dino_head.{k}": v for k, v in head.items()})
torch.save({"teacher": teacher}, OUT / "teacher_snapshot.pth")
print("torch", torch.__version__, "->", sorted(p.name for p in OUT.iterdir()))
