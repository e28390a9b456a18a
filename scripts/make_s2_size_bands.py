#!/usr/bin/env python3
"""Sentinel-2-sized single-band COGs for the band-stack memory measurement
(crates/panopticon-data/examples/band_stack_memory.rs): a 10980² band at 10 m and a 5490² band
at 20 m over the same UTM tile, uint16, Deflate, 512-px tiles (as Earth Search publishes them).
Pixel values are a smooth synthetic pattern (the measurement is about memory, not values).

Usage: python3 scripts/make_s2_size_bands.py OUT_DIR (rasterio==1.4.4); writes b10m.tif, b20m.tif.
"""

import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import Affine


def write(path, n, res):
    y, x = np.mgrid[0:n, 0:n].astype(np.float32) / n
    a = (1000 + 800 * np.sin(7 * x) * np.cos(5 * y)).astype(np.uint16)
    with rasterio.open(path, "w", driver="COG", width=n, height=n, count=1, dtype="uint16",
                       crs="EPSG:32633", transform=Affine(res, 0, 399960.0, 0, -res, 5300040.0),
                       compress="DEFLATE", blocksize=512, overviews="NONE") as dst:
        dst.write(a, 1)


if __name__ == "__main__":
    out = Path(sys.argv[1])
    out.mkdir(parents=True, exist_ok=True)
    write(out / "b10m.tif", 10980, 10.0)
    write(out / "b20m.tif", 5490, 20.0)
