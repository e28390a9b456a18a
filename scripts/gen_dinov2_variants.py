"""Parity fixture for the stock-DINOv2 model variants (tests/fixtures/dinov2-tiny/).

A tiny facebookresearch/dinov2 `DinoVisionTransformer` (conv PatchEmbed, 4 register tokens,
SwiGLUFFNFused feed-forward, LayerScale, antialiased size-based pos-embed resize, block_chunks=0)
with seeded random weights, written in plain PyTorch from the porting spec (§1.5–1.10), and its
outputs for five inputs. Config: D=48, depth 2, 3 heads, mlp_ratio 4, patch 8, img_size 32
(stored pos grid 4x4), R=4, interpolate_offset 0.0, interpolate_antialias True (the `_reg` setting).
case_e uses the same weights but interpolate_offset 0.1 / antialias False.

Usage: python scripts/gen_dinov2_variants.py [--official PATH_TO_DINOV2_CHECKOUT]
  --official additionally loads the weights into the official DinoVisionTransformer and compares.
"""
import argparse, json, math, pathlib, sys

import torch
import torch.nn.functional as F
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/dinov2-tiny"
SEED = 20251125
CFG = dict(embed_dim=48, depth=2, num_heads=3, mlp_ratio=4.0, patch_size=8, img_size=32, in_chans=3,
           num_register_tokens=4, ffn_layer="swiglufused", interpolate_offset=0.0,
           interpolate_antialias=True, layerscale=True, qkv_bias=True, proj_bias=True, ffn_bias=True,
           layernorm_eps=1e-6, block_chunks=0)
D, DEPTH, HEADS, P, R = 48, 2, 3, 8, 4
M = CFG["img_size"] // P
HID = (int(int(D * CFG["mlp_ratio"]) * 2 / 3) + 7) // 8 * 8  # 128
CASES = [  # name, B, H, W, interpolate_offset, antialias
    ("case_a_native", 2, 32, 32, 0.0, True),
    ("case_b_down", 1, 24, 24, 0.0, True),
    ("case_c_up", 1, 48, 48, 0.0, True),
    ("case_d_nonsquare", 1, 16, 40, 0.0, True),
    ("case_e_offset_nonaa", 1, 40, 24, 0.1, False),
]


def make_weights():
    """Official state-dict order/names; each tensor drawn from one generator in this order."""
    g = torch.Generator().manual_seed(SEED)
    n = lambda *s: torch.randn(*s, generator=g)
    lin = lambda o, i: n(o, i) / math.sqrt(i)  # N(0, 1/fan_in)
    sd = {"cls_token": 0.2 * n(1, 1, D), "pos_embed": 0.2 * n(1, 1 + M * M, D),
          "register_tokens": 0.2 * n(1, R, D), "mask_token": 0.2 * n(1, D),
          "patch_embed.proj.weight": n(D, 3, P, P) / math.sqrt(3 * P * P),
          "patch_embed.proj.bias": 0.05 * n(D)}
    for i in range(DEPTH):
        b = f"blocks.{i}."
        sd[b + "norm1.weight"], sd[b + "norm1.bias"] = 1 + 0.1 * n(D), 0.05 * n(D)
        sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"] = lin(3 * D, D), 0.05 * n(3 * D)
        sd[b + "attn.proj.weight"], sd[b + "attn.proj.bias"] = lin(D, D), 0.05 * n(D)
        sd[b + "ls1.gamma"] = 0.1 + 0.9 * torch.rand(D, generator=g)
        sd[b + "norm2.weight"], sd[b + "norm2.bias"] = 1 + 0.1 * n(D), 0.05 * n(D)
        sd[b + "mlp.w12.weight"], sd[b + "mlp.w12.bias"] = lin(2 * HID, D), 0.05 * n(2 * HID)
        sd[b + "mlp.w3.weight"], sd[b + "mlp.w3.bias"] = lin(D, HID), 0.05 * n(D)
        sd[b + "ls2.gamma"] = 0.1 + 0.9 * torch.rand(D, generator=g)
    sd["norm.weight"], sd["norm.bias"] = 1 + 0.1 * n(D), 0.05 * n(D)
    return {k: v.float().contiguous() for k, v in sd.items()}


def interp_pos(sd, H, W, offset, antialias):
    pos = sd["pos_embed"]
    rows, cols = H // P, W // P
    if rows * cols == M * M and H == W:
        return pos
    grid = pos[:, 1:].reshape(1, M, M, D).permute(0, 3, 1, 2)
    if offset != 0:
        kw = dict(scale_factor=((rows + offset) / M, (cols + offset) / M))
    else:
        kw = dict(size=(rows, cols))
    grid = F.interpolate(grid, mode="bicubic", antialias=antialias, **kw)
    assert grid.shape[-2:] == (rows, cols), grid.shape
    return torch.cat([pos[:, :1], grid.permute(0, 2, 3, 1).reshape(1, rows * cols, D)], dim=1)


def prepare(sd, x, masks, offset, antialias):
    B, _, H, W = x.shape
    t = F.conv2d(x, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], stride=P)
    t = t.flatten(2).transpose(1, 2)  # [B, L, D]
    if masks is not None:
        t = torch.where(masks.unsqueeze(-1), sd["mask_token"].unsqueeze(0), t)
    t = torch.cat([sd["cls_token"].expand(B, -1, -1), t], dim=1)
    pe = interp_pos(sd, H, W, offset, antialias)
    t = t + pe
    t = torch.cat([t[:, :1], sd["register_tokens"].expand(B, -1, -1), t[:, 1:]], dim=1)
    return t, pe


def ln(x, sd, name):
    return F.layer_norm(x, (D,), sd[name + ".weight"], sd[name + ".bias"], eps=1e-6)


def block(x, sd, i):
    b = f"blocks.{i}."
    B, N, _ = x.shape
    hd = D // HEADS
    qkv = F.linear(ln(x, sd, b + "norm1"), sd[b + "attn.qkv.weight"], sd[b + "attn.qkv.bias"])
    q, k, v = qkv.reshape(B, N, 3, HEADS, hd).permute(2, 0, 3, 1, 4)  # each [B, heads, N, hd]
    a = torch.softmax((q * hd ** -0.5) @ k.transpose(-2, -1), dim=-1) @ v
    a = F.linear(a.transpose(1, 2).reshape(B, N, D), sd[b + "attn.proj.weight"], sd[b + "attn.proj.bias"])
    x = x + sd[b + "ls1.gamma"] * a
    h = F.linear(ln(x, sd, b + "norm2"), sd[b + "mlp.w12.weight"], sd[b + "mlp.w12.bias"])
    x1, x2 = h.chunk(2, dim=-1)
    f = F.linear(F.silu(x1) * x2, sd[b + "mlp.w3.weight"], sd[b + "mlp.w3.bias"])
    return x + sd[b + "ls2.gamma"] * f


def run_case(sd, x, masks, offset, antialias):
    B, _, H, W = x.shape
    t, pe = prepare(sd, x, None, offset, antialias)
    out = {"pos_embed_interp": pe, "tokens.in": t}
    y = t
    for i in range(DEPTH):
        y = block(y, sd, i)
        yn = ln(y, sd, "norm")  # get_intermediate_layers(n=[0, 1], norm=True)
        out[f"inter.{i}.patch"], out[f"inter.{i}.cls"] = yn[:, 1 + R:], yn[:, 0]
        out[f"inter_reshape.{i}.patch"] = yn[:, 1 + R:].reshape(B, H // P, W // P, D).permute(0, 3, 1, 2)
    yn = ln(y, sd, "norm")
    out.update({"out.cls": yn[:, 0], "ff.x_norm_clstoken": yn[:, 0], "ff.x_norm_regtokens": yn[:, 1:R + 1],
                "ff.x_norm_patchtokens": yn[:, R + 1:], "ff.x_prenorm": y})
    if masks is not None:
        y = prepare(sd, x, masks, offset, antialias)[0]
        for i in range(DEPTH):
            y = block(y, sd, i)
        yn = ln(y, sd, "norm")
        out["masked.x_norm_clstoken"], out["masked.x_norm_patchtokens"] = yn[:, 0], yn[:, R + 1:]
    return out


def _cubic(x, a):
    x = abs(x)
    return ((a + 2) * x - (a + 3)) * x * x + 1 if x < 1 else (((a * x - 5 * a) * x + 8 * a) * x - 4 * a if x < 2 else 0.0)


def resize_matrix(n_in, n_out, offset, antialias):
    """[n_out, n_in] 1-D weights, written out independently of torch (what a port must implement).
    antialias: PIL-style bicubic a=-0.5, support 2*max(s,1), taps scaled by 1/max(s,1), weights
    normalised, s = n_in/n_out.  Plain: a=-0.75, 4 clamped taps, src = (i+0.5)/scale - 0.5 with
    scale = (n_out+offset)/n_in when offset != 0 else n_out/n_in."""
    Wm = torch.zeros(n_out, n_in, dtype=torch.float64)
    for i in range(n_out):
        if antialias:
            assert offset == 0
            s = n_in / n_out
            sup, inv, c = 2 * max(s, 1.0), 1 / max(s, 1.0), s * (i + 0.5)
            lo, hi = max(int(c - sup + 0.5), 0), min(int(c + sup + 0.5), n_in)
            w = torch.tensor([_cubic((j - c + 0.5) * inv, -0.5) for j in range(lo, hi)], dtype=torch.float64)
            Wm[i, lo:hi] = w / w.sum()
        else:
            src = (i + 0.5) * (n_in / (n_out + offset)) - 0.5
            i0 = math.floor(src)
            for o in (-1, 0, 1, 2):
                Wm[i, min(max(i0 + o, 0), n_in - 1)] += _cubic(src - i0 - o, -0.75)
    return Wm


def official_check(path, sd, inputs):
    sys.path.insert(0, path)
    from dinov2.models.vision_transformer import DinoVisionTransformer
    worst = 0.0
    for (name, B, H, W, off, aa), (x, masks) in zip(CASES, inputs):
        m = DinoVisionTransformer(img_size=32, patch_size=P, embed_dim=D, depth=DEPTH, num_heads=HEADS,
                                  mlp_ratio=4.0, init_values=1.0, ffn_layer="swiglufused", block_chunks=0,
                                  num_register_tokens=R, interpolate_antialias=aa, interpolate_offset=off).eval()
        m.load_state_dict(sd, strict=True)
        with torch.no_grad():
            ref = run_case(sd, x, masks, off, aa)
            ff = m.forward_features(x)
            il = m.get_intermediate_layers(x, n=[0, 1], reshape=True, return_class_token=True)
            pairs = [(ff["x_norm_clstoken"], ref["ff.x_norm_clstoken"]), (ff["x_prenorm"], ref["ff.x_prenorm"]),
                     (ff["x_norm_regtokens"], ref["ff.x_norm_regtokens"]), (m(x), ref["out.cls"])]
            pairs += [(il[i][0], ref[f"inter_reshape.{i}.patch"]) for i in range(2)]
            pairs += [(il[i][1], ref[f"inter.{i}.cls"]) for i in range(2)]
            if masks is not None:
                mf = m.forward_features(x, masks=masks)
                pairs += [(mf["x_norm_patchtokens"], ref["masked.x_norm_patchtokens"])]
        d = max((a - b).abs().max().item() for a, b in pairs)
        print(f"  official dinov2 vs this script [{name}]: max|diff| = {d:.3e}")
        worst = max(worst, d)
    return worst


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--official", help="path to a facebookresearch/dinov2 checkout (optional cross-check)")
    args = ap.parse_args()
    torch.set_grad_enabled(False)
    OUT.mkdir(parents=True, exist_ok=True)
    sd = make_weights()
    save_file(sd, str(OUT / "weights.safetensors"))
    sd64 = {k: v.double() for k, v in sd.items()}
    g = torch.Generator().manual_seed(SEED + 1)
    checks, inputs, cases_meta = {}, [], {}
    # sanity: the native grid returns pos_embed unchanged (same object)
    checks["native_pos_embed_unchanged"] = interp_pos(sd, 32, 32, 0.0, True) is sd["pos_embed"]
    assert checks["native_pos_embed_unchanged"]
    for name, B, H, W, off, aa in CASES:
        x = torch.randn(B, 3, H, W, generator=g)
        masks = None
        if name == "case_a_native":
            masks = torch.rand(B, (H // P) * (W // P), generator=g) < 0.3
            assert masks.any() and not masks.all()
        inputs.append((x, masks))
        out = run_case(sd, x, masks, off, aa)
        out64 = run_case(sd64, x.double(), masks, off, aa)
        d64 = max((out[k].double() - out64[k]).abs().max().item() for k in out)
        checks[f"{name}.f32_vs_f64_max_abs"] = d64
        tensors = {"input.imgs": x, **out}
        if masks is not None:
            tensors["input.token_masks"] = masks
        save_file({k: v.clone().contiguous() for k, v in tensors.items()}, str(OUT / f"{name}.safetensors"))
        cases_meta[name] = dict(batch=B, height=H, width=W, grid=[H // P, W // P],
                                interpolate_offset=off, interpolate_antialias=aa,
                                tensors={k: dict(shape=list(v.shape), dtype=str(v.dtype).replace("torch.", ""),
                                                 max_abs=float(v.float().abs().max())) for k, v in tensors.items()})
        print(f"{name}: B={B} {H}x{W} grid {H // P}x{W // P} offset={off} antialias={aa}  f32 vs f64 {d64:.2e}")
        for k, v in tensors.items():
            print(f"    {k:28s} {str(list(v.shape)):18s} max_abs {float(v.float().abs().max()):.5f}")
    # independent (non-torch-interpolate) resize check of every resized pos_embed
    grid = sd64["pos_embed"][0, 1:].reshape(M, M, D)
    worst = 0.0
    for name, B, H, W, off, aa in CASES[1:]:
        ref = torch.einsum("ri,ijd,cj->rcd", resize_matrix(M, H // P, off, aa), grid,
                           resize_matrix(M, W // P, off, aa)).reshape(-1, D)
        got = interp_pos(sd, H, W, off, aa)[0, 1:]
        worst = max(worst, (got.double() - ref).abs().max().item())
    checks["pos_resize_vs_explicit_formula_max_abs"] = worst
    print(f"pos-embed resize vs explicit weight-matrix formula: max|diff| = {worst:.2e}")
    if args.official:
        checks["official_dinov2_max_abs_diff"] = official_check(args.official, sd, inputs)
    manifest = dict(description="tiny stock-DINOv2 (registers + SwiGLU + antialiased pos resize) parity fixture",
                    generator="scripts/gen_dinov2_variants.py", seed=SEED, input_seed=SEED + 1,
                    torch_version=torch.__version__, config=dict(CFG, swiglu_hidden=HID, pos_grid=M),
                    n_params=sum(v.numel() for v in sd.values()),
                    weights={k: list(v.shape) for k, v in sd.items()}, self_checks=checks, cases=cases_meta)
    for f in OUT.glob("*.safetensors"):
        f.chmod(0o644)
    (OUT / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    print("self-checks:", json.dumps(checks, indent=1))


if __name__ == "__main__":
    main()
