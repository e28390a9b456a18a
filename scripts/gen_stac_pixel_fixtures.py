#!/usr/bin/env python3
"""Write small Cloud-Optimized GeoTIFFs standing in for the per-band assets of the real STAC
items in tests/fixtures/data/stac/ (Planetary Computer and Earth Search Sentinel-2 L2A, the
Landsat C2 L2 items of Planetary Computer, Earth Search and USGS, Planetary Computer
Sentinel-1 RTC), with GDAL's COG driver (the rasterio wheel). `tests/remote_stac_items.rs`
serves them from a loopback server under the items' own asset paths and embeds the items as
published.

Each set is on its item's grid (CRS and origin from the item's `proj:` fields) at the
item's resolutions, 64 x 64 px at the finest: Sentinel-2 at 10 m (B02, B03, B04, B08) and
20 m (B05, B8A, B11, 32 x 32 px: the mixed resolutions the items have), uint16 with nodata 0;
Landsat at 30 m, uint16 with nodata 0 (`raster:bands` scale/offset apply); Sentinel-1 RTC at
10 m, float32 gamma0 with nodata -32768. Every band has a no-data corner. Deflate with the
horizontal (integers) or floating-point predictor, 32 x 32 tiles (16 x 16 for the 20 m
bands), internal overviews as the COG driver makes them.

Output: tests/fixtures/data/stac/pixels/{s2_13tde,landsat_pc,landsat_es,landsat_usgs,
s1_rtc}/<band>.tif. Deterministic (fixed seed). Run: `pip install rasterio numpy`, then
`python3 scripts/gen_stac_pixel_fixtures.py`.
"""

from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.io import MemoryFile
from rasterio.transform import from_origin

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/stac/pixels"
N = 64

LANDSAT = ["coastal", "blue", "green", "red", "nir08", "swir16", "swir22", "lwir11"]

# set: (EPSG, (x0, y0) from the item's proj:transform, [(band, pixel size, dtype)])
SETS = {
    "s2_13tde": (32613, (399960.0, 4500000.0),
                 [(b, 10, "uint16") for b in ["B02", "B03", "B04", "B08"]]
                 + [(b, 20, "uint16") for b in ["B05", "B8A", "B11"]]),
    "landsat_pc": (32655, (520185.0, -4663485.0), [(b, 30, "uint16") for b in LANDSAT]),
    # The hand-written Earth Search item names no transform: a point of its polar grid.
    "landsat_es": (3031, (-400000.0, -1200000.0),
                   [(b, 30, "uint16") for b in LANDSAT if b not in ("green", "swir22")]),
    "landsat_usgs": (32656, (310785.0, -1163385.0),
                     [(b, 30, "uint16") for b in LANDSAT if b != "lwir11"]),
    "s1_rtc": (32633, (373180.0, 3424680.0), [(b, 10, "float32") for b in ["vv", "vh"]]),
}


def field(size, seed, dtype):
    """A smooth field with a little noise (a few DN) and a no-data corner."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:size, 0:size].astype(np.float64) * (64 / size)
    f = np.sin(x / (15 + seed % 5)) * np.cos(y / (19 + seed % 3)) + 0.004 * rng.normal(size=x.shape)
    corner = size // 8
    if dtype == "uint16":
        v = np.round(2500 + 500 * f + 40 * seed).astype(np.uint16)
        v[:corner, :corner] = 0
        return v, 0
    v = (0.08 + 0.05 * f + 0.01 * (seed % 4)).astype(np.float32)
    v[:corner, :corner] = -32768
    return v, -32768


def write(path, data, epsg, origin, res, nodata):
    size = data.shape[0]
    profile = dict(driver="GTiff", width=size, height=size, count=1, dtype=data.dtype.name,
                   crs=f"EPSG:{epsg}", transform=from_origin(*origin, res, res), nodata=nodata)
    with MemoryFile() as mem:
        with mem.open(**profile) as tmp:
            tmp.write(data, 1)
        with mem.open() as src:
            rasterio.shutil.copy(
                src, path, driver="COG", COMPRESS="DEFLATE",
                PREDICTOR="YES", BLOCKSIZE=str(max(16, size // 2)))


def main():
    total = 0
    for set_name, (epsg, origin, bands) in SETS.items():
        (OUT / set_name).mkdir(parents=True, exist_ok=True)
        finest = min(res for _, res, _ in bands)
        for i, (band, res, dtype) in enumerate(bands):
            size = N * finest // res
            data, nodata = field(size, i + 1, dtype)
            path = OUT / set_name / f"{band}.tif"
            write(path, data, epsg, origin, res, nodata)
            total += path.stat().st_size
    print(f"{total} bytes; GDAL {rasterio.__gdal_version__}, rasterio {rasterio.__version__}")


if __name__ == "__main__":
    main()
