"""Measures what `panopticon embed`'s output formats cost: bytes per km² of a Sentinel-2 10 m
scene per format and dtype, and the relative RMS error of float16 storage and of PCA-reduced
dense maps (the numbers in the README).

Sizes: the sample scene (samples/landsat8_gulf_coast.tif, 320 px) reflect-padded to 448 px
and tiled to 896 px with a different gain per 448 px block, so no tile repeats (2×2 and 4×4
tiles of 224 px, no overlap), each embedded into every format;
the size difference between the two scenes divided by the area difference (pixels taken as
10 m: 60.2 km²) is the marginal cost per km², free of fixed headers. Errors: printed by
`embed` itself (relative RMS error of the stored values against float32), on the 896 px scene.

    pip install -r scripts/requirements-outputs.txt rasterio
    cargo build --release && cargo run --release --example random_weights -- vitb14 /tmp/vitb14-random.bpk
    python scripts/measure_outputs.py --weights /tmp/vitb14-random.bpk --config vitb14
    python scripts/measure_outputs.py   # tiny test model (D = 48)
"""

import argparse
import json
import os
import pathlib
import re
import subprocess
import tempfile

import numpy as np
import rasterio
from rasterio.transform import Affine

ROOT = pathlib.Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples/landsat8_gulf_coast.tif"
FORMATS = ["npy", "parquet", "safetensors", "dense.safetensors", "tif", "zarr"]


def make_scene(path, side):
    with rasterio.open(SAMPLE) as src:
        data = src.read()
        profile = src.profile
    if side <= data.shape[1]:
        data = data[:, :side, :side]
    else:
        pad = 448 - data.shape[1]
        data = np.pad(data, ((0, 0), (0, pad), (0, pad)), mode="reflect")
        # Each 448 px block with its own gain: repeated blocks would give repeated embeddings,
        # which Parquet's and Zarr's compressors fold away (ViT-B's 3 KB rows fit zstd's window).
        n = side // 448
        blocks = [[np.clip(data * (1 + 0.05 * (i * n + j)), 0, np.iinfo(data.dtype).max
                           if data.dtype.kind in "ui" else None).astype(data.dtype)
                   for j in range(n)] for i in range(n)]
        data = np.block(blocks)
    profile.update(height=side, width=side, compress="deflate", tiled=False)
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data)


def size(path):
    p = pathlib.Path(path)
    if p.is_dir():
        return sum(f.stat().st_size for f in p.rglob("*") if f.is_file())
    return p.stat().st_size


def embed(binary, scene, out, base, *extra):
    fmt = "--dense" if out.name.endswith(".dense.safetensors") else None
    args = [binary, "embed", str(scene), "--sensor", "landsat8_9", *base, "--quiet", *extra]
    if fmt:
        args.append(fmt)
    r = subprocess.run([*args, "-o", str(out)], cwd=ROOT, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(r.stderr)
    return r.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/panopticon"))
    ap.add_argument("--weights", default=str(ROOT / "tests/fixtures/panopticon-tiny/weights.pth"))
    ap.add_argument("--config", default="tiny-test")
    ap.add_argument("--pca", default="8,16,32,64")
    ap.add_argument("--sizes", default="448,896", help="the two scene sides in px")
    args = ap.parse_args()
    base = ["--weights", args.weights, "--config", args.config]
    results = {"config": args.config, "bytes_per_km2": {}, "errors": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        small, big = (int(v) for v in args.sizes.split(","))
        scenes = {s: tmp / f"scene{s}.tif" for s in (small, big)}
        for s, p in scenes.items():
            make_scene(p, s)
        area = (big**2 - small**2) * 1e-4  # km² at 10 m pixels
        results["sizes_px"] = [small, big]
        for dtype in ("f32", "f16"):
            for fmt in FORMATS:
                sizes = {}
                for s, scene in scenes.items():
                    out = tmp / f"o{s}_{dtype}.{fmt}"
                    err = embed(args.bin, scene, out, base, "--dtype", dtype)
                    sizes[s] = size(out)
                    if s == big and dtype == "f16" and fmt == "dense.safetensors":
                        e = re.search(r"float16: relative RMS error (\S+)", err)
                        results["errors"]["f16"] = float(e.group(1))
                per_km2 = (sizes[big] - sizes[small]) / area
                results["bytes_per_km2"][f"{fmt} {dtype}"] = round(per_km2)
                print(f"{fmt:18} {dtype}: {sizes[small]:>10} B / {sizes[big]:>10} B -> {per_km2:12.0f} B/km²", flush=True)
        for k in args.pca.split(","):
            sizes, err = {}, None
            try:
                for s, scene in scenes.items():
                    out = tmp / f"pca{k}_{s}.zarr"
                    err = embed(args.bin, scene, out, base, "--pca", k, "--dtype", "f16")
                    sizes[s] = size(out)
            except SystemExit as e:
                print(f"PCA {k}: {str(e).strip()}")
                continue
            m = re.search(r"(\d+) components keep (\S+) % of the variance; .* dense maps (\S+)", err)
            results["errors"][f"pca{k}"] = {"kept_pct": float(m.group(2)), "rel_rms": float(m.group(3))}
            per_km2 = (sizes[big] - sizes[small]) / area
            results["bytes_per_km2"][f"zarr pca{k} f16"] = round(per_km2)
            print(f"PCA {k} (zarr f16): keeps {m.group(2)} % of variance, relative RMS error {m.group(3)}, {per_km2:.0f} B/km²", flush=True)
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
