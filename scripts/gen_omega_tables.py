"""Writes PyTorch's float32 sin-cos frequency tables for the channel embedding.

torch computes `omega = 1 / 10000 ** (arange(E/2) / (E/2))` in float32 with SLEEF's `powf`
(1-ulp accurate, not correctly rounded): a correctly rounded pow differs from torch in 15 of the
1152 entries for E = 2304. Since `pos * omega` reaches ~12000 rad, one ulp of omega moves the
channel embedding by ~1e-4, so the Rust port ships torch's own tables for the widths the presets
use and computes the rest in f64 (documented as 1-ulp close).

Usage: python scripts/gen_omega_tables.py   (needs torch; writes crates/panopticon-model/src/patch_embed/omega/)
"""
import pathlib

import torch

OUT = pathlib.Path(__file__).resolve().parent.parent / "crates/panopticon-model/src/patch_embed/omega"
WIDTHS = [48, 1152, 2304, 3072, 4608]  # tiny-test, vits14, vitb14, vitl14, vitg14 (attn_dim)

OUT.mkdir(parents=True, exist_ok=True)
for e in WIDTHS:
    # Exactly the official get_1d_sincos_pos_embed_from_grid_torch arithmetic.
    omega = torch.arange(e // 2, dtype=torch.float32)
    omega /= e / 2.0
    omega = 1.0 / 10000**omega
    (OUT / f"omega_{e}.f32le").write_bytes(omega.numpy().astype("<f4").tobytes())
    print(e, omega[:3].tolist())
print("torch", torch.__version__)
