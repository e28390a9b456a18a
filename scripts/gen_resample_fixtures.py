#!/usr/bin/env python3
"""Per-band files at mixed resolutions, and GDAL's resampling of them onto a common grid.

Source pixels: the real Landsat 8 sample (samples/landsat8_gulf_coast.tif, raw uint16 DNs).
Writes tests/fixtures/data/resample/:

* `b04_30m.tif`  B04 at 30 m, 60x60 px, with a 4x5 block of no-data (0);
* `b05_60m.tif`  B05 averaged 2x2 to 60 m, 30x30 px, same origin;
* `b06_90m.tif`  B06 averaged 3x3 to 90 m, 19x19 px, origin shifted by (+45 m, -45 m): a
  band whose lattice and extent differ from the others (the common grid is the
  intersection, snapped inwards to the 30 m lattice);
* `b07_30m_utm17.tif`  B07 at 30 m labelled EPSG:32617 (a band in another CRS, to be
  refused);
* `<case>.bin` + `expected.json`: for each case (target resolution), the target grid and
  GDAL's warp (rasterio.warp.reproject) of every band onto it as float32 [C, H, W], NaN for
  no data. Each band is resampled with `average` when it is finer than the target grid and
  `bilinear` otherwise — the rule `panopticon embed --band` documents.

Grid rule (replicated here from crates/panopticon-data/src/resample/grid.rs): extent = the
intersection of the band extents, snapped inwards to the finest band's pixel lattice; pixel
size = the finest band's or the requested resolution, anchored at the extent's top-left
corner, partial last column/row dropped.

Usage: python3 scripts/gen_resample_fixtures.py (rasterio==1.4.4, its wheel bundles GDAL 3.10).
"""

import json
import math
from pathlib import Path

import numpy as np
import rasterio
from rasterio.crs import CRS
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.warp import reproject

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "tests/fixtures/data/resample"
SAMPLE = ROOT / "samples/landsat8_gulf_coast.tif"
CRS_UTM16 = CRS.from_epsg(32616)
CASES = {"native": None, "res60": 60.0, "res45": 45.0}


def block_mean(a, k):
    h, w = a.shape[0] // k * k, a.shape[1] // k * k
    return a[:h, :w].reshape(h // k, k, w // k, k).mean(axis=(1, 3))


def write(path, arr, x0, y0, res, crs=CRS_UTM16, nodata=None):
    profile = dict(driver="GTiff", width=arr.shape[1], height=arr.shape[0], count=1,
                   dtype=arr.dtype.name, crs=crs, transform=Affine(res, 0, x0, 0, -res, y0),
                   compress="deflate")
    if nodata is not None:
        profile["nodata"] = nodata
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(arr, 1)


def target_grid(paths, resolution):
    grids = []
    for p in paths:
        with rasterio.open(p) as ds:
            grids.append((ds.transform, ds.width, ds.height))
    finest = min(grids, key=lambda g: g[0].a * -g[0].e)
    inter = [-math.inf, -math.inf, math.inf, math.inf]
    for t, w, h in grids:
        b = (t.c, t.f + h * t.e, t.c + w * t.a, t.f)
        inter = [max(inter[0], b[0]), max(inter[1], b[1]), min(inter[2], b[2]), min(inter[3], b[3])]
    t = finest[0]
    px, py, ox, oy = t.a, -t.e, t.c, t.f
    eps = 1e-6
    left = ox + math.ceil((inter[0] - ox) / px - eps) * px
    right = ox + math.floor((inter[2] - ox) / px + eps) * px
    top = oy - math.ceil((oy - inter[3]) / py - eps) * py
    bottom = oy - math.floor((oy - inter[1]) / py + eps) * py
    rx, ry = (resolution, resolution) if resolution else (px, py)
    width = math.floor((right - left) / rx + eps)
    height = math.floor((top - bottom) / ry + eps)
    return Affine(rx, 0, left, 0, -ry, top), width, height


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with rasterio.open(SAMPLE) as ds:
        x0, y0 = ds.transform.c + 40 * 30.0, ds.transform.f - 40 * 30.0
        win = rasterio.windows.Window(40, 40, 60, 60)
        b04, b05, b06, b07 = (ds.read(i, window=win) for i in (4, 5, 6, 7))
    b04 = b04.copy()
    b04[10:14, 20:25] = 0
    # Cropped 60 px wider so the shifted 90 m band has real pixels everywhere.
    with rasterio.open(SAMPLE) as ds:
        b06_big = ds.read(6, window=rasterio.windows.Window(41, 41, 60, 60))
    bands = {
        "b04_30m.tif": (b04, x0, y0, 30.0, 0),
        "b05_60m.tif": (np.round(block_mean(b05.astype(np.float64), 2)).astype(np.uint16), x0, y0, 60.0, None),
        # Origin (+45 m, -45 m) = 1.5 px of 30 m: the 3x3 blocks start at sample pixel 41.5,
        # approximated by the block means of a crop starting at pixel 41 (values only).
        "b06_90m.tif": (block_mean(b06_big.astype(np.float64), 3)[:19, :19].astype(np.float32),
                        x0 + 45.0, y0 - 45.0, 90.0, None),
    }
    for name, (arr, bx, by, res, nodata) in bands.items():
        write(OUT / name, arr, bx, by, res, nodata=nodata)
    write(OUT / "b07_30m_utm17.tif", b07, x0, y0, 30.0, crs=CRS.from_epsg(32617))

    order = list(bands)
    paths = [OUT / n for n in order]
    expected = {"bands": order, "cases": {}}
    for case, resolution in CASES.items():
        transform, width, height = target_grid(paths, resolution)
        out = np.full((len(paths), height, width), np.nan, np.float32)
        methods = []
        for i, p in enumerate(paths):
            with rasterio.open(p) as src:
                finer = src.transform.a < transform.a * (1 - 1e-9) or -src.transform.e < -transform.e * (1 - 1e-9)
                method = Resampling.average if finer else Resampling.bilinear
                methods.append(method.name)
                dst = np.full((height, width), np.nan, np.float32)
                reproject(rasterio.band(src, 1), dst, src_nodata=src.nodata, dst_transform=transform,
                          dst_crs=src.crs, dst_nodata=np.nan, resampling=method)
                out[i] = dst
        (OUT / f"{case}.bin").write_bytes(out.astype("<f4").tobytes())
        expected["cases"][case] = {
            "resolution": resolution,
            "transform": [transform.c, transform.a, 0.0, transform.f, 0.0, transform.e],
            "width": width, "height": height, "methods": methods,
            "nan_pixels": int(np.isnan(out).sum()),
        }
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    print(json.dumps(expected["cases"], indent=1))


if __name__ == "__main__":
    main()
