"""How far PyTorch itself moves ViT-B/14's outputs when its weights are rounded to f16/bf16.

The floor our half-precision burnpacks are judged against (README, "Weights"): the same
rounding policy as `crates/panopticon-model/src/precision.rs` (weight matrices rounded;
biases, norms, gammas, cls/mask tokens and pos_embed kept f32), and everything rounded,
evaluated in f32 on the fixture cases of scripts/gen_vitb14_reference.py.

    python scripts/measure_half_precision_floor.py   # needs tests/fixtures/vitb14/
"""
import json
import pathlib
import sys

import torch
from safetensors.torch import load_file

sys.path.insert(0, str(pathlib.Path(__file__).parent))
import gen_vitb14_reference as ref  # noqa: E402

FIX = pathlib.Path(__file__).parent.parent / "tests/fixtures/vitb14"
KEEP = ("cls_token", "mask_token", "register_tokens", "pos_embed")
CASES = ["case_a_rgb", "case_b_s2", "case_c_sar_mixed", "case_d_specmask", "case_g_hyper"]


def main():
    torch.set_num_threads(2)
    cfg = json.loads((FIX / "manifest.json").read_text())["config"]
    sd = load_file(FIX / "weights.safetensors")
    cases = {}
    for c in CASES:
        d = load_file(FIX / f"{c}.safetensors")
        cases[c] = {"imgs": d["input.imgs"], "chn_ids": d["input.chn_ids"],
                    "spec_masks": d.get("input.spec_masks")}

    def outputs(state):
        m = ref.build(cfg)
        m.load_state_dict(state, strict=False)
        with torch.no_grad():
            return {c: m.forward_features(x) for c, x in cases.items()}

    want = outputs(sd)
    policies = {
        "weight matrices (ours)": lambda k, v: v.ndim >= 2 and k.rsplit(".", 1)[-1] not in KEEP,
        "everything": lambda k, v: True,
    }
    for dtype in (torch.float16, torch.bfloat16):
        for name, rounds in policies.items():
            state = {k: v.to(dtype).float() if rounds(k, v) else v for k, v in sd.items()}
            got = outputs(state)
            err = {key: max((got[c][key] - want[c][key]).abs().max().item() for c in CASES)
                   for key in ("x_norm_clstoken", "x_norm_patchtokens")}
            print(f"{str(dtype):15s} {name:24s} cls {err['x_norm_clstoken']:.2e} "
                  f"patch {err['x_norm_patchtokens']:.2e}", flush=True)


if __name__ == "__main__":
    main()
