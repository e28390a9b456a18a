#!/usr/bin/env python3
"""Write the tiled GeoTIFFs that the remote-raster tests (tests/remote_embed.rs) serve over
loopback HTTP/S3, with GDAL (the rasterio wheel: `pip install rasterio numpy`).

Output (tests/fixtures/remote/):
* `cog_4band.tif`: 4 bands uint16, 200 x 136 px, 32 x 32 tiles (partial tiles on the right and
  bottom edges), Deflate + horizontal predictor, pixel-interleaved, laid out as a
  Cloud-Optimized GeoTIFF (IFD first, tiles row by row), EPSG:32632;
* `planar_3band.tif`: 3 bands float32, 96 x 80 px, 32 x 32 tiles, LZW, band-interleaved
  (PLANARCONFIG=SEPARATE: one set of tiles per band), EPSG:32632.

Smooth synthetic fields with a little noise: realistic enough for the codecs, tens of KB each.
Deterministic (fixed seed). Run: `python3 scripts/gen_remote_fixtures.py`.
"""

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/remote"


def field(c, h, w, seed):
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w].astype(np.float64)
    bands = []
    for b in range(c):
        f = 1200 + 500 * np.sin(x / (9 + 3 * b)) * np.cos(y / (13 + 2 * b)) + 40 * b
        f += rng.normal(0, 1.5, size=(h, w))
        bands.append(f)
    return np.stack(bands)


def write(name, data, dtype, **opts):
    c, h, w = data.shape
    profile = dict(
        driver="GTiff",
        width=w,
        height=h,
        count=c,
        dtype=dtype,
        crs="EPSG:32632",
        transform=Affine(10.0, 0.0, 600000.0, 0.0, -10.0, 5000000.0),
        tiled=True,
        blockxsize=32,
        blockysize=32,
        **opts,
    )
    path = OUT / name
    with rasterio.open(path, "w", **profile) as dst:
        dst.write(data.astype(dtype))
    print(path, path.stat().st_size, "bytes")


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    write(
        "cog_4band.tif",
        np.clip(field(4, 136, 200, 1), 0, 65535).round(),
        "uint16",
        compress="deflate",
        predictor=2,
        interleave="pixel",
    )
    write(
        "planar_3band.tif",
        np.round(field(3, 80, 96, 2)) / 8.0,
        "float32",
        compress="lzw",
        interleave="band",
    )


if __name__ == "__main__":
    main()
