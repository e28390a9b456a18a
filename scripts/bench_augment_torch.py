#!/usr/bin/env python3
"""Samples/s of a torchvision re-implementation of PanopticonAugmentation (spec §4.2-4.7),
for comparison with `cargo bench -p panopticon-data --bench augment` (same inputs: a 13-band
Sentinel-2 + 2-band Sentinel-1 sample and a 202-band EnMAP sample, 128 px; stage-2 settings).

This is not upstream's code (not in this repo); it performs the same tensor operations with
torchvision's functional API, one thread, as a DataLoader worker would.
Run: PYTHONPATH=/tmp/tv python scripts/bench_augment_torch.py   (see gen_augment_fixtures.py)
"""

import random
import time

import torch
from torchvision.transforms import InterpolationMode
from torchvision.transforms import functional as F
from torchvision.transforms import transforms as T

GLOBAL = dict(n=2, size=224, scale=(0.32, 1.0), spec=(4, 13), multi=False)
LOCAL = dict(n=4, size=98, scale=(0.05, 0.32), spec=(1, 4), multi=True)
JITTER = T.ColorJitter(brightness=0.1, contrast=0.1)


def chn_mask(view, low, high):
    pairs = [(s, i) for s, im in enumerate(view["imgs"]) for i in range(im.shape[0])]
    total = len(pairs)
    if total <= low:
        return view
    n = random.randint(low, min(high, total))
    if n == total:
        return view
    random.shuffle(pairs)
    keep = pairs[:n]
    imgs, ids = [], []
    for s, im in enumerate(view["imgs"]):
        sel = [i for ps, i in keep if ps == s]
        if sel:
            imgs.append(im[sel])
            ids.append(view["chn_ids"][s][sel])
    return {"imgs": imgs, "chn_ids": ids}


def resized_crop(view, size, scale):
    ref = max(range(len(view["imgs"])), key=lambda k: (view["imgs"][k].shape[1], -k))
    rh, rw = view["imgs"][ref].shape[1:]
    top, left, h, w = T.RandomResizedCrop.get_params(view["imgs"][ref], list(scale), [3 / 4, 4 / 3])
    outs = []
    for im in view["imgs"]:
        sy, sx = im.shape[1] / rh, im.shape[2] / rw
        c = F.crop(im, round(top * sy), round(left * sx), int(-(-h * sy // 1)), int(-(-w * sx // 1)))
        outs.append(F.resize(c, [size, size], interpolation=InterpolationMode.BICUBIC, antialias=True))
    return torch.cat(outs), torch.cat(view["chn_ids"])


def crop(view, cfg):
    v = chn_mask(view, *cfg["spec"])
    x, ids = resized_crop(v, cfg["size"], cfg["scale"])
    if random.random() < 0.5:
        x = x.flip(-2)
    if random.random() < 0.5:
        x = x.flip(-1)
    if random.random() < 0.2:
        x = JITTER(x[:, None])[:, 0]
    c, pad = x.shape[0], cfg["spec"][1] - x.shape[0]
    x = torch.cat([x, x.new_zeros(pad, *x.shape[1:])])
    ids = torch.cat([ids, ids[-1:].repeat(pad)])
    masks = torch.arange(c + pad) >= c
    return x, ids, masks


def augment(sample, cfg):
    hs = len(sample) == 1 and sample[0]["imgs"][0].shape[0] > 30
    if hs or cfg["multi"]:
        views = [random.randrange(len(sample)) for _ in range(cfg["n"])]
    else:
        views = random.sample(range(len(sample)), cfg["n"])
    return [crop(sample[v], cfg) for v in views]


def view(c, hw):
    return {"imgs": [torch.randn(c, hw, hw)], "chn_ids": [torch.arange(c, dtype=torch.float32)]}


def main():
    torch.set_num_threads(1)
    random.seed(0)
    torch.manual_seed(0)
    for name, sample in [("s2_13band+s1_128px", [view(13, 128), view(2, 128)]), ("enmap_202band_128px", [view(202, 128)])]:
        for _ in range(20):
            augment(sample, GLOBAL), augment(sample, LOCAL)
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < 5.0:
            augment(sample, GLOBAL), augment(sample, LOCAL)
            n += 1
        dt = time.perf_counter() - t0
        print(f"{name}: {n / dt:.1f} samples/s ({1e3 * dt / n:.2f} ms/sample), torch {torch.__version__}, 1 thread")


if __name__ == "__main__":
    main()
