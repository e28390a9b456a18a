#!/usr/bin/env python3
"""Reference values for the panopticon-data augmentations (spec §4.4, §4.6, §3.6).

Writes tests/fixtures/data/augment/{resize,resized_crop,color_jitter,masking}.json.

Random choices are replayed from fixed uniform draws u in [0, 1) that the Rust tests feed
through `Draws` as well; the derived quantities use the same formulas on both sides:
  uniform(a, b)  = a + (b - a) * u
  randint(lo, hi) (inclusive) = lo + min(floor(u * (hi - lo + 1)), hi - lo)
  shuffle        = Fisher-Yates as Python's random.shuffle, j = randint(0, i) for i = n-1..1
torchvision's own code (RandomResizedCrop.get_params, ColorJitter.get_params, F.crop,
F.resize, F.adjust_brightness/contrast) is run with torch's random functions patched to
consume those draws. The iBOT MaskingGenerator and the collate's mask sampling are written
here from the spec (§3.6), with Python's `random` replaced by the draws.

Setup: torch 2.15 (CPU) plus torchvision from PyPI. torchvision 0.30 (the pair of torch 2.15)
is not on PyPI yet; 0.29.2 installed with `pip install --no-deps --target /tmp/tv
torchvision==0.29.2` works for these pure-Python transforms (no C ops are used).
Run: PYTHONPATH=/tmp/tv python scripts/gen_augment_fixtures.py
"""

import json
import math
import os
import types

import numpy as np
import torch
import torchvision
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F
from torchvision.transforms import transforms as T

OUT = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "data", "augment")


class Draws:
    def __init__(self, values):
        self.values = [float(v) for v in values]
        self.pos = 0

    def u(self):
        v = self.values[self.pos]
        self.pos += 1
        return v

    def uniform(self, a, b):
        return a + (b - a) * self.u()

    def randint(self, lo, hi):
        n = hi - lo + 1
        return lo + min(int(math.floor(self.u() * n)), n - 1)

    def shuffle(self, xs):
        for i in range(len(xs) - 1, 0, -1):
            j = self.randint(0, i)
            xs[i], xs[j] = xs[j], xs[i]


def patched_torch(draws):
    """A stand-in for the `torch` module inside torchvision.transforms.transforms."""

    class Empty:
        def uniform_(self, a, b):
            # torch's uniform_ on a float tensor yields an f32 value.
            return torch.tensor([draws.uniform(float(a), float(b))], dtype=torch.float32)

    shim = types.SimpleNamespace(**{k: getattr(torch, k) for k in dir(torch) if not k.startswith("__")})
    shim.empty = lambda *a, **k: Empty()
    shim.randint = lambda low, high, size: torch.tensor([draws.randint(low, high - 1)])

    def randperm(n):
        p = list(range(n))
        draws.shuffle(p)
        return torch.tensor(p)

    shim.randperm = randperm
    return shim


def with_draws(draws, fn):
    saved = T.torch
    T.torch = patched_torch(draws)
    try:
        return fn()
    finally:
        T.torch = saved


def flat(t):
    return [float(x) for x in t.detach().to(torch.float32).flatten().tolist()]


def resize_aa(x, oh, ow):
    return F.resize(x, [oh, ow], interpolation=InterpolationMode.BICUBIC, antialias=True)


def gen_resize(gen):
    cases = []
    # (C, H, W) -> (oh, ow): down, up, mixed, non-square, strong down-scaling, identity axis.
    for c, h, w, oh, ow in [
        (2, 13, 17, 7, 5),
        (3, 9, 11, 24, 20),
        (1, 40, 37, 12, 12),
        (2, 5, 6, 14, 14),
        (2, 20, 8, 9, 15),
        (1, 64, 48, 7, 10),
        (3, 10, 10, 10, 4),
        (1, 1, 3, 4, 4),
    ]:
        x = torch.randn(c, h, w, generator=gen) * 2.0
        y = resize_aa(x, oh, ow)
        # torchvision's tensor resize is torch's interpolate: check we recorded that.
        z = torch.nn.functional.interpolate(x[None], size=(oh, ow), mode="bicubic", align_corners=False, antialias=True)[0]
        assert torch.equal(y, z)
        cases.append({"shape": [c, h, w], "out": [oh, ow], "input": flat(x), "output": flat(y)})
    return cases


def proportional(box, ref_hw, hw):
    top, left, h, w = box
    sy, sx = hw[0] / ref_hw[0], hw[1] / ref_hw[1]
    return [int(np.round(top * sy)), int(np.round(left * sx)), int(np.ceil(h * sy)), int(np.ceil(w * sx))]


def gen_resized_crop(rng):
    params = []
    for h, w, scale in [
        (224, 224, (0.32, 1.0)),
        (96, 96, (0.05, 0.32)),
        (120, 64, (0.32, 1.0)),
        (33, 250, (0.05, 0.32)),
        (100, 20, (0.9, 1.0)),  # every try fails -> fallback (tall)
        (20, 100, (0.9, 1.0)),  # every try fails -> fallback (wide)
        (7, 7, (0.32, 1.0)),
    ]:
        for _ in range(4):
            draws = Draws(rng.random(64))
            img = torch.zeros(1, h, w)
            i, j, ch, cw = with_draws(draws, lambda: T.RandomResizedCrop.get_params(img, list(scale), [3 / 4, 4 / 3]))
            params.append({"hw": [h, w], "scale": list(scale), "draws": draws.values[: draws.pos], "used": draws.pos, "box": [i, j, ch, cw]})

    scaled = []
    for box, ref, hw in [
        ([10, 3, 31, 27], (48, 60), (24, 30)),
        ([10, 3, 31, 27], (48, 60), (12, 15)),
        ([5, 7, 9, 11], (100, 100), (50, 50)),
        ([1, 1, 3, 3], (6, 6), (10, 20)),
        ([3, 5, 7, 9], (30, 30), (20, 20)),
    ]:
        scaled.append({"box": box, "ref_hw": list(ref), "hw": list(hw), "scaled": proportional(box, ref, hw)})

    # Full multi-resolution crop: tallest image is the reference; others get proportional
    # boxes (which may run past the edge: zero padding); every crop resized to `size`.
    full = []
    gen = torch.Generator().manual_seed(7)
    for shapes, size, scale in [
        ([(2, 24, 30), (1, 12, 15), (1, 48, 60)], 16, (0.32, 1.0)),
        ([(3, 20, 20), (2, 10, 10)], 24, (0.05, 0.32)),
        ([(1, 9, 13), (1, 30, 31), (2, 5, 5)], 11, (0.32, 1.0)),
    ]:
        imgs = [torch.randn(*s, generator=gen) for s in shapes]
        ids = [[float(100 * k + c) for c in range(s[0])] for k, s in enumerate(shapes)]
        draws = Draws(rng.random(64))
        ref = max(range(len(imgs)), key=lambda k: (imgs[k].shape[1], -k))
        rh, rw = imgs[ref].shape[1:]
        box = with_draws(draws, lambda: T.RandomResizedCrop.get_params(imgs[ref], list(scale), [3 / 4, 4 / 3]))
        outs = []
        for im in imgs:
            t, l, hh, ww = proportional(box, (rh, rw), im.shape[1:])
            outs.append(resize_aa(F.crop(im, t, l, hh, ww), size, size))
        out = torch.cat(outs, 0)
        full.append({
            "images": [{"shape": list(s), "data": flat(im), "chn_ids": i} for s, im, i in zip(shapes, imgs, ids)],
            "size": size, "scale": list(scale), "draws": draws.values[: draws.pos], "used": draws.pos,
            "box": list(box), "output": flat(out), "chn_ids": [x for i in ids for x in i],
        })
    return {"params": params, "scaled": scaled, "full": full}


def gen_color_jitter(rng):
    gen = torch.Generator().manual_seed(3)
    cases = []
    for c, s in [(3, 8), (1, 5), (4, 6)]:
        draws = Draws(rng.random(16))
        order, fb, fc, _, _ = with_draws(draws, lambda: T.ColorJitter.get_params([0.9, 1.1], [0.9, 1.1], None, None))
        # Mostly in [0, 1] with some values outside, like standardised data.
        x = torch.rand(c, 1, s, s, generator=gen) * 1.4 - 0.2
        clamped = x.clone()
        unclamped = x.clone()
        for op in order.tolist():
            if op == 0:
                clamped = F.adjust_brightness(clamped, fb)
                unclamped = fb * unclamped
            elif op == 1:
                clamped = F.adjust_contrast(clamped, fc)
                mean = unclamped.mean(dim=(-3, -2, -1), keepdim=True)
                unclamped = fc * unclamped + (1.0 - fc) * mean
        cases.append({
            "shape": [c, s, s], "draws": draws.values[: draws.pos], "used": draws.pos,
            "order": order.tolist(), "brightness": fb, "contrast": fc,
            "input": flat(x), "clamped": flat(clamped), "unclamped": flat(unclamped),
        })
    return cases


class MaskingGenerator:
    """Spec §3.6, written from the spec text."""

    def __init__(self, grid, draws, min_patches=4, min_aspect=0.3):
        self.g = grid
        self.max_patches = int(0.5 * grid * grid)
        self.min_patches = min_patches
        self.log_aspect = (math.log(min_aspect), math.log(1 / min_aspect))
        self.d = draws

    def try_block(self, mask, budget):
        delta = 0
        for _ in range(10):
            area = self.d.uniform(self.min_patches, budget)
            aspect = math.exp(self.d.uniform(*self.log_aspect))
            h = int(round(math.sqrt(area * aspect)))
            w = int(round(math.sqrt(area / aspect)))
            if w < self.g and h < self.g:
                top = self.d.randint(0, self.g - h)
                left = self.d.randint(0, self.g - w)
                new = h * w - int(mask[top:top + h, left:left + w].sum())
                if 0 < new <= budget:
                    mask[top:top + h, left:left + w] = True
                    delta += new
            if delta > 0:
                break
        return delta

    def generate(self, n):
        mask = np.zeros((self.g, self.g), dtype=bool)
        count = 0
        while count < n:
            delta = self.try_block(mask, min(n - count, self.max_patches))
            if delta == 0:
                break
            count += delta
        return mask


def gen_masking(rng):
    generate = []
    for grid, n in [(16, 25), (16, 128), (16, 200), (8, 10), (16, 0), (5, 12)]:
        draws = Draws(rng.random(4000))
        m = MaskingGenerator(grid, draws).generate(n)
        generate.append({"grid": grid, "n": n, "draws": draws.values[: draws.pos], "used": draws.pos,
                         "mask": np.flatnonzero(m.flatten()).tolist()})

    collate = []
    for n_images, grid, prob, ratio in [(4, 16, 0.5, (0.1, 0.5)), (6, 16, 0.5, (0.1, 0.5)), (10, 8, 0.3, (0.2, 0.6))]:
        draws = Draws(rng.random(20000))
        gen = MaskingGenerator(grid, draws)
        n_tok = grid * grid
        n_masked = int(n_images * prob)
        probs = torch.linspace(ratio[0], ratio[1], n_masked + 1)
        upperbound = 0
        masks = []
        for i in range(n_masked):
            lo, hi = probs[i], probs[i + 1]
            r = lo + (hi - lo) * draws.u()  # random.uniform on f32 0-d tensors
            masks.append(torch.from_numpy(gen.generate(int(n_tok * r))))
            upperbound += int(n_tok * hi)
        for _ in range(n_masked, n_images):
            masks.append(torch.from_numpy(gen.generate(0)))
        draws.shuffle(masks)
        collated = torch.stack(masks).flatten(1)
        idx = collated.flatten().nonzero().flatten()
        weight = (1 / collated.sum(-1).clamp(min=1.0)).unsqueeze(-1).expand_as(collated)[collated]
        collate.append({
            "n_images": n_images, "grid": grid, "mask_probability": prob, "mask_ratio": list(ratio),
            "draws": draws.values[: draws.pos], "used": draws.pos, "probs": flat(probs),
            "upperbound": upperbound, "mask_indices": idx.tolist(), "masks_weight": flat(weight),
        })
    linspace = [{"start": a, "end": b, "steps": n, "values": flat(torch.linspace(a, b, n))}
                for a, b, n in [(0.1, 0.5, 2), (0.1, 0.5, 3), (0.1, 0.5, 38), (0.1, 0.5, 76), (0.2, 0.6, 4), (0.0, 1.0, 7)]]
    return {"generate": generate, "collate": collate, "linspace": linspace}


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20260)
    gen = torch.Generator().manual_seed(0)
    meta = {"torch": torch.__version__, "torchvision": torchvision.__version__, "numpy": np.__version__}
    for name, payload in [
        ("resize", gen_resize(gen)),
        ("resized_crop", gen_resized_crop(rng)),
        ("color_jitter", gen_color_jitter(rng)),
        ("masking", gen_masking(rng)),
    ]:
        path = os.path.join(OUT, f"{name}.json")
        with open(path, "w") as f:
            json.dump({"meta": meta, "cases": payload}, f, separators=(",", ":"))
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
