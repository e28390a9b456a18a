"""Full-size ViT-B/14 Panopticon reference outputs for the Rust parity test.

Provenance: reference outputs of the official architecture: torchgeo's PanopticonPE (identical to
Panopticon-FM/panopticon@5ad7f82) + DINOv2 blocks + the official pos-embed resize. The blocks are
timm's `Block` (the block of `vit_base_patch14_dinov2`) with LayerScale, exact-erf GELU MLP, fused
qkv with bias, `nn.LayerNorm(eps=1e-6)` and timm's fused SDPA switched off, so attention is
computed exactly like DINOv2's plain CPU path (`(q*scale) @ k^T`, softmax, `@ v`). Token
preparation (iBOT mask token, cls, pos_embed) and the bicubic pos-embed resize with
`scale_factor=((rows+0.1)/37, (cols+0.1)/37)` follow the official DinoVisionTransformer
(spec §1.6-1.10); torchgeo's and timm's own pos-embed resizes are NOT used (they differ).

What it does:
1. Self-check: builds the tiny config of tests/fixtures/panopticon-tiny (produced by the official
   implementation), loads its weights strictly and reproduces every output of all 7 cases;
   aborts unless all agree within 1e-5.
2. Builds the released config (spec §1.1: D 768, depth 12, 12 heads, patch 14, img 518, attn_dim
   2304, 16 channel-attention heads) with seeded random weights (every parameter re-randomised so
   that it matters), saves them with the official key names as `weights.pth` and
   `weights.safetensors` (183 tensors, ~396 MB), writes one `case_*.safetensors` per input
   (inputs + reference outputs) and `manifest.json` (versions, seed, shapes, max_abs, checks).

Usage (CPU only, float32, 2 threads, a few minutes):
    ~/.cache/panopticon-venv/bin/python scripts/gen_vitb14_reference.py [--out DIR] [--no-f64]
Default DIR: tests/fixtures/vitb14 (git-ignored). Needs torch, timm, torchgeo, safetensors.
"""
import argparse
import copy
import hashlib
import json
import math
import pathlib
import time
from functools import partial

import torch
import torch.nn as nn
import torch.nn.functional as F
import timm
import torchgeo
from safetensors.torch import load_file, save_file
from timm.models.vision_transformer import Block
from torchgeo.models.panopticon import PanopticonPE

ROOT = pathlib.Path(__file__).resolve().parent.parent
TINY_DIR = ROOT / "tests/fixtures/panopticon-tiny"
SEED = 20251125
LAYERS = [3, 5, 7, 11]  # get_intermediate_layers(n=[3,5,7,11]) as in the README usage
TINY_ATOL = 1e-5

# spec §1.1 (hubconf panopticon_vitb14)
RELEASE = dict(img_size=518, patch_size=14, embed_dim=768, depth=12, num_heads=12, mlp_ratio=4.0,
               init_values=1e-5, interpolate_offset=0.1, pe_attn_dim=2304, pe_num_heads=16)


class Panopticon(nn.Module):
    """DinoVisionTransformer(embed_layer="PanopticonPE"), inference path, official key names."""

    def __init__(self, img_size, patch_size, embed_dim, depth, num_heads, mlp_ratio, init_values,
                 pe_attn_dim, pe_num_heads, interpolate_offset=0.1):
        super().__init__()
        self.patch_size = patch_size
        self.interpolate_offset = interpolate_offset
        num_patches = (img_size // patch_size) ** 2
        # own parameters first (state-dict order: cls_token, pos_embed, mask_token)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, num_patches + 1, embed_dim))
        self.mask_token = nn.Parameter(torch.zeros(1, embed_dim))
        self.patch_embed = PanopticonPE(
            attn_dim=pe_attn_dim, embed_dim=embed_dim, patch_size=patch_size, img_size=img_size,
            chnfus_cfg={"attn_cfg": {"num_heads": pe_num_heads}})  # no k/v bias, no layer norm
        norm_layer = partial(nn.LayerNorm, eps=1e-6)
        self.blocks = nn.ModuleList(
            Block(embed_dim, num_heads, mlp_ratio, qkv_bias=True, proj_bias=True,
                  init_values=init_values, act_layer=nn.GELU, norm_layer=norm_layer)
            for _ in range(depth))
        for blk in self.blocks:
            blk.attn.fused_attn = False  # DINOv2's plain attention math, not SDPA
        self.norm = norm_layer(embed_dim)

    # --- spec §1.7 -----------------------------------------------------------------------------
    def interpolate_pos_encoding(self, npatch, w, h, dtype):
        """Official resize; w = image height in pixels, h = image width (spec §1.4 quirk)."""
        N = self.pos_embed.shape[1] - 1
        if npatch == N and w == h:
            return self.pos_embed
        pos_embed = self.pos_embed.float()
        class_pos_embed, patch_pos_embed = pos_embed[:, 0], pos_embed[:, 1:]
        dim = pos_embed.shape[-1]
        w0, h0 = w // self.patch_size, h // self.patch_size
        M = int(math.sqrt(N))
        assert N == M * M
        if self.interpolate_offset:
            sx = float(w0 + self.interpolate_offset) / M
            sy = float(h0 + self.interpolate_offset) / M
            kwargs = {"scale_factor": (sx, sy)}
        else:
            kwargs = {"size": (w0, h0)}
        patch_pos_embed = F.interpolate(patch_pos_embed.reshape(1, M, M, dim).permute(0, 3, 1, 2),
                                        mode="bicubic", antialias=False, **kwargs)
        assert (w0, h0) == patch_pos_embed.shape[-2:]
        patch_pos_embed = patch_pos_embed.permute(0, 2, 3, 1).view(1, -1, dim)
        return torch.cat((class_pos_embed.unsqueeze(0), patch_pos_embed), dim=1).to(dtype)

    # --- spec §1.4 / §1.6 ----------------------------------------------------------------------
    def embed_patches(self, x):
        # ChnEmb floors optical ids IN PLACE on the tensor it gets: hand it a copy
        pe_in = {"imgs": x["imgs"], "chn_ids": x["chn_ids"].clone()}
        if x.get("spec_masks") is not None:
            pe_in["spec_masks"] = x["spec_masks"]
        return self.patch_embed(pe_in)

    def prepare_tokens_with_masks(self, x, masks=None):
        H, W = x["imgs"].shape[-2:]
        t = self.embed_patches(x)
        if masks is not None:
            t = torch.where(masks.unsqueeze(-1), self.mask_token.to(t.dtype).unsqueeze(0), t)
        t = torch.cat((self.cls_token.expand(t.shape[0], -1, -1), t), dim=1)
        return t + self.interpolate_pos_encoding(t.shape[1] - 1, H, W, t.dtype)

    # --- spec §1.9 / §1.10 ---------------------------------------------------------------------
    def forward_features(self, x, masks=None):
        t = self.prepare_tokens_with_masks(x, masks)
        for blk in self.blocks:
            t = blk(t)
        t_norm = self.norm(t)
        return {"x_norm_clstoken": t_norm[:, 0], "x_norm_patchtokens": t_norm[:, 1:],
                "x_prenorm": t, "masks": masks}

    def forward(self, x):
        return self.forward_features(x)["x_norm_clstoken"]  # head = identity

    def get_intermediate_layers(self, x, n=1, reshape=False, return_class_token=False, norm=True):
        t = self.prepare_tokens_with_masks(x)
        take = range(len(self.blocks) - n, len(self.blocks)) if isinstance(n, int) else n
        outputs = []
        for i, blk in enumerate(self.blocks):
            t = blk(t)
            if i in take:
                outputs.append(t)
        assert len(outputs) == len(take)
        if norm:
            outputs = [self.norm(o) for o in outputs]
        class_tokens = [o[:, 0] for o in outputs]
        outputs = [o[:, 1:] for o in outputs]
        if reshape:  # spatial size from imgs (the official code reads x.shape and fails on dicts)
            B = x["imgs"].shape[0]
            rows, cols = (s // self.patch_size for s in x["imgs"].shape[-2:])
            outputs = [o.reshape(B, rows, cols, -1).permute(0, 3, 1, 2).contiguous()
                       for o in outputs]
        if return_class_token:
            return tuple(zip(outputs, class_tokens))
        return tuple(outputs)


def build(cfg):
    keys = ("img_size", "patch_size", "embed_dim", "depth", "num_heads", "mlp_ratio",
            "init_values", "pe_attn_dim", "pe_num_heads", "interpolate_offset")
    assert not cfg.get("pe_qkv_bias") and not cfg.get("pe_layer_norm")
    assert cfg.get("num_register_tokens", 0) == 0 and not cfg.get("interpolate_antialias")
    return Panopticon(**{k: cfg[k] for k in keys}).eval()


def official_keys(depth):
    keys = ["cls_token", "pos_embed", "mask_token",
            "patch_embed.conv3d.conv3d.weight", "patch_embed.conv3d.conv3d.bias",
            "patch_embed.chnfus.query", "patch_embed.chnfus.chnemb.embed_transmit",
            "patch_embed.chnfus.chnemb.embed_receive", "patch_embed.chnfus.chnemb.embed_orbit",
            "patch_embed.chnfus.xattn.inproj_k.weight", "patch_embed.chnfus.xattn.inproj_v.weight",
            "patch_embed.proj.weight", "patch_embed.proj.bias"]
    per_block = ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias",
                 "attn.proj.weight", "attn.proj.bias", "ls1.gamma", "norm2.weight", "norm2.bias",
                 "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight", "mlp.fc2.bias", "ls2.gamma"]
    keys += [f"blocks.{i}.{k}" for i in range(depth) for k in per_block]
    return keys + ["norm.weight", "norm.bias"]


def randomise_(model, seed):
    """Tiny-fixture init rule, so every parameter influences the outputs. Returns the rule."""
    g = torch.Generator().manual_seed(seed)
    layer_norms = {n for n, m in model.named_modules() if isinstance(m, nn.LayerNorm)}
    rule = {}
    with torch.no_grad():
        for name, p in model.state_dict().items():
            owner, leaf = name.rsplit(".", 1) if "." in name else ("", name)
            N = lambda: torch.randn(p.shape, generator=g)  # noqa: E731
            if name in ("cls_token", "pos_embed", "mask_token"):
                val, r = 0.2 * N(), "0.2N"
            elif name.endswith("chnfus.query"):
                val, r = N(), "N(0,1)"
            elif ".chnemb.embed_" in name:
                val, r = 0.5 * N(), "0.5N"
            elif leaf == "gamma":
                val, r = 0.1 + 0.9 * torch.rand(p.shape, generator=g), "U(0.1,1)"
            elif owner in layer_norms:
                val, r = (1 + 0.1 * N(), "1+0.1N") if leaf == "weight" else (0.05 * N(), "0.05N")
            elif leaf == "weight":  # Linear / Conv3d
                fan_in = math.prod(p.shape[1:])
                val, r = N() / math.sqrt(fan_in), f"N/sqrt({fan_in})"
            elif leaf == "bias":
                val, r = 0.05 * N(), "0.05N"
            else:
                raise KeyError(name)
            p.copy_(val)
            rule[name] = r
    return rule


def stats(t):
    t64 = t.double()
    return {"shape": list(t.shape), "dtype": str(t.dtype).removeprefix("torch."),
            "max_abs": t64.abs().max().item(), "mean_abs": t64.abs().mean().item(),
            "std": t64.std().item() if t.numel() > 1 else 0.0}


def maxerr(a, b):
    return (a.double() - b.double()).abs().max().item()


def compute_outputs(model, inp, layers, extra=()):
    """All reference outputs for one input dict (keys as in the fixture README)."""
    x = {"imgs": inp["input.imgs"], "chn_ids": inp["input.chn_ids"],
         "spec_masks": inp.get("input.spec_masks")}
    H, W = x["imgs"].shape[-2:]
    out = {}
    pe = model.patch_embed
    out["pe.chn_emb"] = pe.chnfus.chnemb(x["chn_ids"].clone())
    if "pe.conv3d" in extra:
        out["pe.conv3d"] = pe.conv3d(x["imgs"])[0]
    out["pe.out"] = model.embed_patches(x)
    L = out["pe.out"].shape[1]
    out["pos_embed_interp"] = model.interpolate_pos_encoding(L, H, W, torch.float32)
    out["tokens.in"] = model.prepare_tokens_with_masks(x)
    out["out.cls"] = model(x)
    ff = model.forward_features(x)
    for k in ("x_norm_clstoken", "x_norm_patchtokens", "x_prenorm"):
        out[f"ff.{k}"] = ff[k]
    for i, (patch, cls) in zip(layers, model.get_intermediate_layers(
            x, n=layers, return_class_token=True)):
        out[f"inter.{i}.patch"], out[f"inter.{i}.cls"] = patch, cls
    for i, patch in zip(layers, model.get_intermediate_layers(x, n=layers, reshape=True)):
        out[f"inter_reshape.{i}.patch"] = patch
    if "dbg" in extra:
        raw = model.get_intermediate_layers(x, n=list(range(len(model.blocks))), norm=False,
                                            return_class_token=True)
        for i, (patch, cls) in enumerate(raw):
            out[f"dbg.block.{i}"] = torch.cat((cls.unsqueeze(1), patch), dim=1)
    if "input.token_masks" in inp:
        ffm = model.forward_features(x, masks=inp["input.token_masks"])
        out["masked.x_norm_clstoken"] = ffm["x_norm_clstoken"]
        out["masked.x_norm_patchtokens"] = ffm["x_norm_patchtokens"]
    return {k: v.detach().float().contiguous() for k, v in out.items()}


def consistency_checks(model, inp, out, f64_model):
    """Internal checks recorded in the manifest (same set as the tiny fixture's)."""
    chk = {}
    tok = out["pe.out"]
    cls = model.cls_token.expand(tok.shape[0], -1, -1)
    chk["tokens_in_consistency"] = maxerr(torch.cat((cls, tok), 1) + out["pos_embed_interp"],
                                          out["tokens.in"])
    chk["model_vs_ff_cls"] = maxerr(out["out.cls"], out["ff.x_norm_clstoken"])
    last = len(model.blocks) - 1
    if f"inter.{last}.patch" in out:
        chk["inter_last_vs_ff_patch"] = maxerr(out[f"inter.{last}.patch"],
                                               out["ff.x_norm_patchtokens"])
    if "input.spec_masks" in inp:  # a masked channel must act as if it were absent
        errs = []
        for b in range(inp["input.imgs"].shape[0]):
            keep = ~inp["input.spec_masks"][b]
            xb = {"imgs": inp["input.imgs"][b:b + 1, keep],
                  "chn_ids": inp["input.chn_ids"][b:b + 1, keep]}
            errs.append(maxerr(model.forward_features(xb)["x_norm_patchtokens"],
                               out["ff.x_norm_patchtokens"][b:b + 1]))
        chk["mask_equals_drop.x_norm_patchtokens"] = max(errs)
    if f64_model is not None:
        x64 = {"imgs": inp["input.imgs"].double(), "chn_ids": inp["input.chn_ids"],
               "spec_masks": inp.get("input.spec_masks")}
        ff64 = f64_model.forward_features(x64)
        for k in ("x_norm_clstoken", "x_norm_patchtokens", "x_prenorm"):
            chk[f"f32_vs_f64.{k}"] = maxerr(out[f"ff.{k}"], ff64[k])
        chk["f32_vs_f64.pe.out"] = maxerr(out["pe.out"], f64_model.embed_patches(x64))
    return chk


def tiny_selfcheck():
    manifest = json.loads((TINY_DIR / "manifest.json").read_text())
    cfg = manifest["config"]
    model = build(cfg)
    sd = load_file(TINY_DIR / "weights.safetensors")  # safetensors keeps keys sorted
    pth_keys = list(torch.load(TINY_DIR / "weights.pth", map_location="cpu"))
    assert list(model.state_dict()) == official_keys(cfg["depth"]) == pth_keys, "key mismatch"
    model.load_state_dict(sd, strict=True)
    report = {}
    for f in sorted(TINY_DIR.glob("case_*.safetensors")):
        ref = load_file(f)
        inp = {k: v for k, v in ref.items() if k.startswith("input.")}
        out = compute_outputs(model, inp, manifest["layers"], extra=("pe.conv3d", "dbg"))
        errs = {k: maxerr(out[k], v) for k, v in ref.items() if not k.startswith("input.")}
        missing = [k for k in ref if not k.startswith("input.") and k not in out]
        assert not missing, missing
        report[f.stem] = errs
        worst = max(errs, key=errs.get)
        print(f"  tiny {f.stem:24s} {len(errs):2d} tensors, max err {errs[worst]:.2e} ({worst})")
        required = ["out.cls", "ff.x_prenorm", "ff.x_norm_patchtokens", "pos_embed_interp",
                    "pe.out"]
        required += [f"inter.{i}.{p}" for i in manifest["layers"] for p in ("patch", "cls")]
        assert all(k in errs for k in required), f"{f.stem}: required key missing"
        bad = {k: e for k, e in errs.items() if e > TINY_ATOL}
        assert not bad, f"tiny self-check FAILED for {f.stem}: {bad}"
    return report


def make_cases():
    """Inputs of the ViT-B/14 cases (seeded standard-normal pixels)."""
    s2 = [442.7, 492.4, 559.8, 664.6, 704.1, 740.5, 782.8, 832.8, 864.7, 945.1, 1373.5, 1613.7,
          2202.4]
    specs = [  # name, desc, B, C, H, W, chn_ids
        ("a_rgb", "RGB 224x224 (16x16 grid) + iBOT token masks", 2, 3, 224, 224,
         torch.tensor([[664, 559, 493]] * 2)),
        ("b_s2", "Sentinel-2 13 bands, float wavelengths (floored by the model)", 1, 13, 224, 224,
         torch.tensor([s2], dtype=torch.float32)),
        ("c_sar_mixed", "optical + SAR, different ids per sample", 2, 6, 224, 224,
         torch.tensor([[490, 560, 665, 842, -5, -6], [842, 665, -9, -12, 443, 2190]])),
        ("d_specmask", "spec_masks: sample0 masks ch 4,5; sample1 masks ch 0,1,2", 2, 6, 224, 224,
         torch.tensor([[443, 490, 560, 665, -1, -2]] * 2)),
        ("e_nonsquare", "98x154 -> 7x11 grid (checks H/W order)", 1, 5, 98, 154,
         torch.tensor([[443, 490, 560, -7, -11]])),
        ("f_native", "518x518 = native 37x37 grid (no resize)", 1, 4, 518, 518,
         torch.tensor([[490, 560, 665, 842]])),
        ("g_hyper", "64 bands, linspace(420,2400) float ids (floored), 8x8 grid", 1, 64, 112, 112,
         torch.linspace(420, 2400, 64, dtype=torch.float32)[None]),
    ]
    cases = []
    for idx, (name, desc, B, C, H, W, ids) in enumerate(specs):
        g = torch.Generator().manual_seed(SEED + 1 + idx)
        inp = {"input.imgs": torch.randn(B, C, H, W, generator=g), "input.chn_ids": ids}
        if name == "d_specmask":
            m = torch.zeros(B, C, dtype=torch.bool)
            m[0, [4, 5]] = True
            m[1, [0, 1, 2]] = True
            inp["input.spec_masks"] = m
        if name == "a_rgb":  # 30% of the 256 patch tokens per sample
            L = (H // 14) * (W // 14)
            tm = torch.zeros(B, L, dtype=torch.bool)
            for b in range(B):
                tm[b, torch.randperm(L, generator=g)[: round(0.3 * L)]] = True
            inp["input.token_masks"] = tm
        cases.append((name, desc, inp))
    return cases


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 24), b""):
            h.update(chunk)
    return h.hexdigest()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=str(ROOT / "tests/fixtures/vitb14"))
    ap.add_argument("--no-f64", action="store_true", help="skip the float64 conditioning check")
    args = ap.parse_args()
    out_dir = pathlib.Path(args.out)
    torch.set_num_threads(2)
    torch.manual_seed(SEED)
    t_start = time.time()

    with torch.no_grad():
        print("1) tiny self-check against", TINY_DIR.relative_to(ROOT))
        tiny = tiny_selfcheck()
        tiny_max = max(e for errs in tiny.values() for e in errs.values())
        print(f"   passed: max abs error over all tiny outputs {tiny_max:.3e} (atol {TINY_ATOL})")

        print("2) ViT-B/14 with seeded random weights")
        model = build(RELEASE)
        rule = randomise_(model, SEED)
        sd = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        assert list(sd) == official_keys(RELEASE["depth"]) and len(sd) == 183
        n_params = sum(v.numel() for v in sd.values())
        assert n_params == 98_976_000, n_params
        out_dir.mkdir(parents=True, exist_ok=True)
        torch.save(sd, out_dir / "weights.pth")
        save_file(sd, out_dir / "weights.safetensors")
        f64_model = None if args.no_f64 else copy.deepcopy(model).double()

        manifest = {
            "desc": "Panopticon ViT-B/14 (released architecture, spec §1.1) with seeded random "
                    "weights; reference outputs of the official architecture: torchgeo's "
                    "PanopticonPE (identical to Panopticon-FM/panopticon@5ad7f82) + DINOv2 blocks "
                    "(timm Block, non-fused attention) + the official pos-embed resize. "
                    "Generated by scripts/gen_vitb14_reference.py on CPU, float32, 2 threads.",
            "config": {**RELEASE, "qkv_bias": True, "proj_bias": True, "ffn_bias": True,
                       "num_register_tokens": 0, "interpolate_antialias": False,
                       "layernorm_eps": 1e-6, "pe_qkv_bias": False, "pe_layer_norm": False},
            "seed": SEED,
            "versions": {"torch": torch.__version__, "timm": timm.__version__,
                         "torchgeo": torchgeo.__version__},
            "init_rule": rule,
            "n_params": n_params,
            "n_tensors": len(sd),
            "weights_sha256": {"weights.safetensors": sha256(out_dir / "weights.safetensors")},
            "layers": LAYERS,
            "tiny_selfcheck": {"atol": TINY_ATOL, "max_abs_err": tiny_max, "per_case": tiny},
            "cases": {},
        }

        print("3) cases")
        for name, desc, inp in make_cases():
            t0 = time.time()
            out = compute_outputs(model, inp, LAYERS)
            checks = consistency_checks(model, inp, out, f64_model)
            tensors = {**inp, **out}
            fname = f"case_{name}.safetensors"
            save_file(tensors, out_dir / fname)
            secs = round(time.time() - t0, 2)
            manifest["cases"][name] = {
                "desc": desc, "file": fname, "seconds": secs, "checks": checks,
                "tensors": {k: stats(v) for k, v in tensors.items()}}
            print(f"   {name:12s} {tuple(inp['input.imgs'].shape)} L={out['pe.out'].shape[1]:4d}"
                  f"  |cls|max {out['out.cls'].abs().max():.3f}"
                  f"  |prenorm|max {out['ff.x_prenorm'].abs().max():.2f}  {secs:.1f}s")
            print("      checks: " + ", ".join(f"{k}={v:.1e}" for k, v in checks.items()))

    manifest["seconds_total"] = round(time.time() - t_start, 1)
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1))
    print("4) wrote", out_dir)
    for p in sorted(out_dir.iterdir()):
        print(f"   {p.stat().st_size:>12,d}  {p.name}")


if __name__ == "__main__":
    main()
