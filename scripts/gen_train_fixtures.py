#!/usr/bin/env python3
"""Training parity fixtures for panopticon-train (spec §3.4–3.10).

Writes tests/fixtures/train/{losses,schedules,param_groups,optim}.json. The reference code
below transcribes upstream dinov2/panopticon (DINOLoss, iBOTPatchLoss, KoLeoLoss,
CosineScheduler, get_vit_lr_decay_rate + Panopticon's lr_multiplier/freeze_weights rules) for a
single process (world size 1); the EMA, clipping and AdamW use torch itself
(torch._foreach_mul_/add_, torch.nn.utils.clip_grad_norm_, torch.optim.AdamW).

Run: ~/.cache/panopticon-venv/bin/python scripts/gen_train_fixtures.py
"""
import json
import math
import pathlib
import re

import numpy as np
import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/train"
torch.manual_seed(0)
np.random.seed(0)


def fl(t):
    return [float(x) for x in torch.as_tensor(t).detach().double().reshape(-1)]


# ---------------------------------------------------------------- losses (upstream transcriptions)
class DINOLoss:
    def __init__(self, out_dim, student_temp=0.1, center_momentum=0.9):
        self.student_temp, self.center_momentum = student_temp, center_momentum
        self.center = torch.zeros(1, out_dim)
        self.updated = True
        self.len_teacher_output = None
        self.async_batch_center = None

    @torch.no_grad()
    def softmax_center_teacher(self, teacher_output, teacher_temp):
        self.apply_center_update()
        return F.softmax((teacher_output - self.center) / teacher_temp, dim=-1)

    @torch.no_grad()
    def sinkhorn_knopp_teacher(self, teacher_output, teacher_temp, n_iterations=3):
        teacher_output = teacher_output.float()
        Q = torch.exp(teacher_output / teacher_temp).t()
        B = Q.shape[1] * 1
        K = Q.shape[0]
        Q /= torch.sum(Q)
        for _ in range(n_iterations):
            Q /= torch.sum(Q, dim=1, keepdim=True)
            Q /= K
            Q /= torch.sum(Q, dim=0, keepdim=True)
            Q /= B
        Q *= B
        return Q.t()

    def forward(self, student_output_list, teacher_out_softmaxed_centered_list):
        total_loss = 0
        for s in student_output_list:
            lsm = F.log_softmax(s / self.student_temp, dim=-1)
            for t in teacher_out_softmaxed_centered_list:
                loss = torch.sum(t * lsm, dim=-1)
                total_loss -= loss.mean()
        return total_loss

    @torch.no_grad()
    def update_center(self, teacher_output):
        self.updated = False
        self.len_teacher_output = len(teacher_output)
        self.async_batch_center = torch.sum(teacher_output, dim=0, keepdim=True)

    @torch.no_grad()
    def apply_center_update(self):
        if self.updated is False:
            _t = self.async_batch_center / (self.len_teacher_output * 1)
            self.center = self.center * self.center_momentum + _t * (1 - self.center_momentum)
            self.updated = True


class iBOTPatchLoss:
    def __init__(self, patch_out_dim, student_temp=0.1, center_momentum=0.9):
        self.student_temp, self.center_momentum = student_temp, center_momentum
        self.center = torch.zeros(1, 1, patch_out_dim)
        self.updated = True

    @torch.no_grad()
    def softmax_center_teacher(self, teacher_patch_tokens, teacher_temp):
        self.apply_center_update()
        return F.softmax((teacher_patch_tokens - self.center) / teacher_temp, dim=-1)

    @torch.no_grad()
    def sinkhorn_knopp_teacher(self, teacher_output, teacher_temp, n_masked_patches_tensor, n_iterations=3):
        teacher_output = teacher_output.float()
        Q = torch.exp(teacher_output / teacher_temp).t()
        B = n_masked_patches_tensor
        K = Q.shape[0]
        Q /= torch.sum(Q)
        for _ in range(n_iterations):
            Q /= torch.sum(Q, dim=1, keepdim=True)
            Q /= K
            Q /= torch.sum(Q, dim=0, keepdim=True)
            Q /= B
        Q *= B
        return Q.t()

    def forward_masked(self, s, t, student_masks_flat, n_masked_patches=None, masks_weight=None):
        loss = torch.sum(t * F.log_softmax(s / self.student_temp, dim=-1), dim=-1)
        if n_masked_patches is not None:
            loss = loss[:n_masked_patches]
        loss = loss * masks_weight
        return -loss.sum() / student_masks_flat.shape[0]

    @torch.no_grad()
    def update_center(self, teacher_patch_tokens):
        self.updated = False
        self.len_teacher_patch_tokens = len(teacher_patch_tokens)
        self.async_batch_center = torch.sum(teacher_patch_tokens.mean(1), dim=0, keepdim=True)

    @torch.no_grad()
    def apply_center_update(self):
        if self.updated is False:
            _t = self.async_batch_center / (self.len_teacher_patch_tokens * 1)
            self.center = self.center * self.center_momentum + _t * (1 - self.center_momentum)
            self.updated = True


def koleo(student_output, eps=1e-8):
    pdist = torch.nn.PairwiseDistance(2, eps=eps)
    with torch.no_grad():
        x = F.normalize(student_output, eps=eps, p=2, dim=-1)
        dots = torch.mm(x, x.t())
        n = x.shape[0]
        dots.view(-1)[:: (n + 1)].fill_(-1)
        _, I = torch.max(dots, dim=1)
    x = F.normalize(student_output, eps=eps, p=2, dim=-1)
    distances = pdist(x, x[I])
    return -torch.log(distances + eps).mean()


def losses():
    K, B, NL, N = 32, 3, 2, 16
    cases = []
    for centering in ("centering", "sinkhorn_knopp"):
        dino, ibot = DINOLoss(K), iBOTPatchLoss(K)
        steps = []
        for step, temp in enumerate((0.04, 0.055, 0.07)):
            # SK has no max subtraction (upstream): keep logits/temp well inside f32 exp range.
            scale = (3.0 + step) if centering == "centering" else 0.5
            t_cls = torch.randn(2 * B, K) * scale  # swapped order already
            s_local = torch.randn(NL * B, K) * scale
            s_global = torch.randn(2 * B, K) * scale
            masks = torch.zeros(2 * B, N, dtype=torch.bool)
            for i, cnt in enumerate([3, 0, 5, 1, 0, 7]):
                masks[i, torch.randperm(N)[:cnt]] = True
            masks = masks[torch.randperm(2 * B)]
            m_flat = masks.flatten()
            mask_indices = m_flat.nonzero().flatten()
            M = int(m_flat.sum())
            masks_weight = (1 / masks.sum(-1).clamp(min=1.0)).unsqueeze(-1).expand_as(masks)[masks]
            t_patch = torch.randn(M, K) * scale
            s_patch = torch.randn(M, K) * scale
            center_before_dino = dino.center.clone()
            center_before_ibot = ibot.center.clone()
            if centering == "centering":
                t_probs = dino.softmax_center_teacher(t_cls, temp).view(2, -1, K)
                dino.update_center(t_cls)
                tp_probs = ibot.softmax_center_teacher(t_patch.unsqueeze(0), temp).squeeze(0)
                ibot.update_center(t_patch.unsqueeze(0))
            else:
                t_probs = dino.sinkhorn_knopp_teacher(t_cls, temp).view(2, -1, K)
                tp_probs = ibot.sinkhorn_knopp_teacher(t_patch, temp, torch.tensor([M]).float())
            total_terms = 2 + NL * 2
            l_local = dino.forward(s_local.chunk(NL), list(t_probs)) / total_terms
            l_global = dino.forward([s_global], [t_probs.flatten(0, 1)]) * 2 / total_terms
            l_ibot = ibot.forward_masked(s_patch, tp_probs, masks, n_masked_patches=M, masks_weight=masks_weight)
            steps.append({
                "teacher_temp": temp, "t_cls": fl(t_cls), "s_local": fl(s_local), "s_global": fl(s_global),
                "masks": [int(x) for x in m_flat], "mask_indices": [int(x) for x in mask_indices],
                "masks_weight": fl(masks_weight), "t_patch": fl(t_patch), "s_patch": fl(s_patch), "m": M,
                "dino_center_used": fl(center_before_dino if centering != "centering" else dino.center),
                "ibot_center_used": fl(center_before_ibot if centering != "centering" else ibot.center),
                "t_probs": fl(t_probs.flatten(0, 1)), "tp_probs": fl(tp_probs),
                "dino_local": float(l_local), "dino_global": float(l_global), "ibot": float(l_ibot),
            })
        cases.append({"centering": centering, "k": K, "b": B, "n_local": NL, "n_patches": N, "steps": steps})
    kx = torch.randn(2, 5, 8)
    kx[1, 3] = kx[1, 0] * 2.0 + 1e-3  # near-duplicate direction: tiny NN distance
    dup = torch.randn(6, 8)
    dup[4] = dup[1]  # exact duplicate: the 1e-8 inside the pairwise distance decides the loss
    koleo_cases = [{"x": fl(kx[c]), "n": 5, "d": 8, "loss": float(koleo(kx[c]))} for c in range(2)]
    koleo_cases.append({"x": fl(dup), "n": 6, "d": 8, "loss": float(koleo(dup))})
    return {"dino_ibot": cases, "koleo": koleo_cases}


# ---------------------------------------------------------------- schedules
class CosineScheduler:
    def __init__(self, base_value, final_value, total_iters, warmup_iters=0, start_warmup_value=0, freeze_iters=0, hold_iters=0):
        self.final_value, self.total_iters = final_value, total_iters
        freeze_schedule = np.zeros((freeze_iters))
        warmup_schedule = np.linspace(start_warmup_value, base_value, warmup_iters)
        hold_schedule = np.full((hold_iters,), base_value)
        iters = np.arange(total_iters - warmup_iters - freeze_iters - hold_iters)
        schedule = final_value + 0.5 * (base_value - final_value) * (1 + np.cos(np.pi * iters / len(iters)))
        self.schedule = np.concatenate((freeze_schedule, warmup_schedule, hold_schedule, schedule))
        assert len(self.schedule) == self.total_iters

    def __getitem__(self, it):
        return self.final_value if it >= self.total_iters else self.schedule[it]


def schedules():
    out = {}
    small = CosineScheduler(1.0, 0.1, 20, warmup_iters=5, start_warmup_value=0.01, freeze_iters=3, hold_iters=2)
    out["small"] = {"base": 1.0, "final": 0.1, "start": 0.01, "total": 20, "warmup": 5, "freeze": 3, "hold": 2,
                    "values": [float(small[i]) for i in range(23)]}
    lr = 5e-4 * math.sqrt(75 * 16 / 1024)
    oel, ep = 1250, 70
    its = [0, 1, 2, 100, 1249, 1250, 6249, 6250, 6251, 10000, 43750, 87498, 87499, 87500, 90000]
    sch = {
        "lr": CosineScheduler(lr, 1e-6, ep * oel, warmup_iters=5 * oel),
        "wd": CosineScheduler(0.04, 0.2, ep * oel),
        "momentum": CosineScheduler(0.994, 1.0, ep * oel),
        "teacher_temp": CosineScheduler(0.07, 0.07, 5 * oel, warmup_iters=5 * oel, start_warmup_value=0.04),
    }
    out["stage"] = {"base_lr": lr, "iterations": its, **{k: [float(v[i]) for i in its] for k, v in sch.items()}}
    return out


# ---------------------------------------------------------------- parameter groups
def get_vit_lr_decay_rate(name, lr_decay_rate=1.0, num_layers=12, force_is_backbone=False, chunked_blocks=False):
    layer_id = num_layers + 1
    if name.startswith("backbone") or force_is_backbone:
        if ".pos_embed" in name or ".patch_embed" in name or ".mask_token" in name or ".cls_token" in name or ".register_tokens" in name:
            layer_id = 0
        elif force_is_backbone and ("pos_embed" in name or "patch_embed" in name or "mask_token" in name or "cls_token" in name or "register_tokens" in name):
            layer_id = 0
        elif ".blocks." in name and ".residual." not in name:
            layer_id = int(name[name.find(".blocks."):].split(".")[2]) + 1
        elif chunked_blocks and "blocks." in name and "residual." not in name:
            layer_id = int(name[name.find("blocks."):].split(".")[2]) + 1
        elif "blocks." in name and "residual." not in name:
            layer_id = int(name[name.find("blocks."):].split(".")[1]) + 1
    return lr_decay_rate ** (num_layers + 1 - layer_id)


def rules(s):
    return [(p, float(v)) for p, v in (e.rsplit("=", 1) for e in s.split(",") if e)]


def param_rule(name, decay, n_blocks, lr_multiplier, freeze_weights):
    nb = n_blocks if name.startswith("backbone.") else 0
    lr_mult = get_vit_lr_decay_rate(name, decay, num_layers=nb, force_is_backbone=nb > 0)
    for pat, f in rules(lr_multiplier):
        if re.search(pat, name):
            lr_mult *= f
    wd = 0.0 if (name.endswith(".bias") or "norm" in name or "gamma" in name) else 1.0
    freeze = 0
    for pat, e in rules(freeze_weights):
        if re.search(pat, name):
            freeze = int(e)
    return lr_mult, wd, freeze


def vitb14_keys():
    keys = ["cls_token", "pos_embed", "mask_token", "patch_embed.conv3d.conv3d.weight", "patch_embed.conv3d.conv3d.bias",
            "patch_embed.chnfus.query", "patch_embed.chnfus.chnemb.embed_transmit", "patch_embed.chnfus.chnemb.embed_receive",
            "patch_embed.chnfus.chnemb.embed_orbit", "patch_embed.chnfus.xattn.inproj_k.weight",
            "patch_embed.chnfus.xattn.inproj_v.weight", "patch_embed.proj.weight", "patch_embed.proj.bias"]
    per_block = ["norm1.weight", "norm1.bias", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "attn.proj.bias",
                 "ls1.gamma", "norm2.weight", "norm2.bias", "mlp.fc1.weight", "mlp.fc1.bias", "mlp.fc2.weight",
                 "mlp.fc2.bias", "ls2.gamma"]
    keys += [f"blocks.{i}.{k}" for i in range(12) for k in per_block]
    keys += ["norm.weight", "norm.bias"]
    assert len(keys) == 183
    head = ["mlp.0.weight", "mlp.0.bias", "mlp.2.weight", "mlp.2.bias", "mlp.4.weight", "mlp.4.bias",
            "last_layer.weight_g", "last_layer.weight_v"]
    return [f"backbone.{k}" for k in keys] + [f"dino_head.{k}" for k in head]


def param_groups():
    names = vitb14_keys()
    configs = {"stage": ("blocks=0.2", "last_layer=1"), "default": ("patch_emb=0.2", "last_layer=1")}
    out = {"names": names, "configs": {}}
    for cname, (lm, fw) in configs.items():
        r = [param_rule(n, 0.9, 12, lm, fw) for n in names]
        out["configs"][cname] = {"lr_multiplier": lm, "freeze_weights": fw,
                                 "lr_mult": [x[0] for x in r], "wd_mult": [x[1] for x in r], "freeze_epochs": [x[2] for x in r]}
    return out


# ---------------------------------------------------------------- EMA, clipping, AdamW
def optim():
    shapes = {"weight": (3, 4), "bias": (4,), "ls.gamma": (4,), "token": (1, 2, 4)}
    hyper = {"weight": (1e-2, 0.04), "bias": (1e-2, 0.0), "ls.gamma": (2e-3, 0.0), "token": (0.0, 0.04)}
    params = {k: torch.randn(s, dtype=torch.float32) for k, s in shapes.items()}
    init = {k: v.clone() for k, v in params.items()}
    ps = [torch.nn.Parameter(params[k].clone()) for k in shapes]
    groups = [{"params": [p], "lr": hyper[k][0], "weight_decay": hyper[k][1]} for p, k in zip(ps, shapes)]
    opt = torch.optim.AdamW(groups, betas=(0.9, 0.999), eps=1e-8, foreach=True)
    steps = []
    for step in range(3):
        grads = {k: torch.randn(s) * (4.0 if step != 1 else 0.1) for k, s in shapes.items()}
        for p, k in zip(ps, shapes):
            p.grad = grads[k].clone()
        norm = torch.nn.utils.clip_grad_norm_(ps, 3.0)
        opt.step()
        steps.append({"grads": {k: fl(g) for k, g in grads.items()}, "total_norm": float(norm),
                      "params_after": {k: fl(p) for p, k in zip(ps, shapes)}})
    # EMA on the final student vs the initial values as the teacher (torch._foreach as upstream)
    teacher = [init[k].clone() for k in shapes]
    student = [p.detach().clone() for p in ps]
    m = 0.9943
    torch._foreach_mul_(teacher, m)
    torch._foreach_add_(teacher, student, alpha=1 - m)
    return {"shapes": {k: list(s) for k, s in shapes.items()}, "order": list(shapes),
            "hyper": {k: list(v) for k, v in hyper.items()}, "init": {k: fl(v) for k, v in init.items()},
            "max_norm": 3.0, "steps": steps, "ema": {"momentum": m, "teacher_after": {k: fl(t) for k, t in zip(shapes, teacher)}}}


# ---------------------------------------------------------------- initial weights (spec §2.2, §2.4, §2.5)
def init_weights():
    """Stage-1 sources for the `tiny-test` preset (D 48, depth 2, patch 8, img 32):
    `dinov2_tiny.pth`, a bare stock-DINOv2 state dict (conv patch_embed, LayerScale), and
    `rgb_heads.pth`, `{"model": {student.dino_head.*, teacher.dino_head.*}}` with a 3-layer
    head 48→32→32→16→64 whose student and teacher values differ. Own generator (seed 31)."""
    g = torch.Generator().manual_seed(31)
    rn = lambda *s: torch.randn(*s, generator=g)
    d, hid = 48, 192
    sd = {"cls_token": 0.2 * rn(1, 1, d), "pos_embed": 0.2 * rn(1, 17, d), "mask_token": 0.2 * rn(1, d),
          "patch_embed.proj.weight": rn(d, 3, 8, 8) / 192 ** 0.5, "patch_embed.proj.bias": 0.05 * rn(d)}
    for i in range(2):
        b = f"blocks.{i}."
        sd.update({b + "norm1.weight": 1 + 0.1 * rn(d), b + "norm1.bias": 0.05 * rn(d),
                   b + "attn.qkv.weight": rn(3 * d, d) / d ** 0.5, b + "attn.qkv.bias": 0.05 * rn(3 * d),
                   b + "attn.proj.weight": rn(d, d) / d ** 0.5, b + "attn.proj.bias": 0.05 * rn(d),
                   b + "ls1.gamma": 0.1 + 0.9 * torch.rand(d, generator=g),
                   b + "norm2.weight": 1 + 0.1 * rn(d), b + "norm2.bias": 0.05 * rn(d),
                   b + "mlp.fc1.weight": rn(hid, d) / d ** 0.5, b + "mlp.fc1.bias": 0.05 * rn(hid),
                   b + "mlp.fc2.weight": rn(d, hid) / hid ** 0.5, b + "mlp.fc2.bias": 0.05 * rn(d),
                   b + "ls2.gamma": 0.1 + 0.9 * torch.rand(d, generator=g)})
    sd.update({"norm.weight": 1 + 0.1 * rn(d), "norm.bias": 0.05 * rn(d)})

    def head():
        return {"mlp.0.weight": rn(32, d) / d ** 0.5, "mlp.0.bias": 0.05 * rn(32),
                "mlp.2.weight": rn(32, 32) / 32 ** 0.5, "mlp.2.bias": 0.05 * rn(32),
                "mlp.4.weight": rn(16, 32) / 32 ** 0.5, "mlp.4.bias": 0.05 * rn(16),
                "last_layer.weight_g": 1 + 0.1 * rn(64, 1), "last_layer.weight_v": rn(64, 16)}
    heads = {f"student.dino_head.{k}": v for k, v in head().items()}
    heads.update({f"teacher.dino_head.{k}": v for k, v in head().items()})
    out = OUT / "init"
    out.mkdir(parents=True, exist_ok=True)
    torch.save(sd, out / "dinov2_tiny.pth")
    torch.save({"model": heads}, out / "rgb_heads.pth")
    for f in ("dinov2_tiny.pth", "rgb_heads.pth"):
        print(f, (out / f).stat().st_size, "bytes")


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    meta = {"torch": torch.__version__, "numpy": np.__version__, "generator": "scripts/gen_train_fixtures.py"}
    for name, fn in (("losses", losses), ("schedules", schedules), ("param_groups", param_groups), ("optim", optim)):
        data = {"meta": meta, **fn()}
        (OUT / f"{name}.json").write_text(json.dumps(data, allow_nan=False))
        print(name, (OUT / f"{name}.json").stat().st_size, "bytes")
    init_weights()
