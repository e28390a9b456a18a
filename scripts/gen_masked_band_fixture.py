"""Writes tests/fixtures/data/resample/masked_band.tif: one uint16 band (16 x 12, 30 m,
EPSG:32616) with a GDAL internal per-dataset mask hiding two blocks (22 pixels), for the test
that per-band stacks treat masked pixels as no-data. Needs rasterio (pip)."""

from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/resample/masked_band.tif"

h, w = 12, 16
data = np.arange(h * w, dtype=np.uint16).reshape(h, w) * 7 + 100
mask = np.full((h, w), 255, np.uint8)
mask[2:5, 3:9] = 0
mask[10:, :2] = 0
with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
    with rasterio.open(
        OUT, "w", driver="GTiff", height=h, width=w, count=1, dtype="uint16",
        crs="EPSG:32616", transform=from_origin(462915.0, 3398715.0, 30, 30),
        compress="deflate", tiled=False,
    ) as dst:
        dst.write(data, 1)
        dst.write_mask(mask)
