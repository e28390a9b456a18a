#!/usr/bin/env python3
"""Write the TIFF codec fixtures of `panopticon-data` with GDAL (through the rasterio wheel),
plus GDAL's decoded pixels as the reference.

Output (tests/fixtures/data/tiff_codecs/):
* `<name>.tif`: small (64x48) GeoTIFFs/COGs, one per codec x predictor x dtype x layout:
  ZSTD, Deflate and LZW with the horizontal (2) predictor for integers and the floating-point
  (3) predictor for floats, ZSTD without predictor, PackBits, LERC (plain, Deflate, ZSTD;
  lossless, lossy, with NaN), JPEG (grey, RGB, YCbCr with
  JPEGTABLES, band-interleaved), WebP (lossy and lossless, RGB and RGBA), tiled and striped,
  pixel- and band-interleaved; files with internal overviews and internal masks (plain GTiff
  and COG), with `GDAL_NODATA`;
* `unsupported/*.tif`: valid files the reader must refuse, naming the codec or what else is
  not supported (LZMA, 12-bit JPEG), with the text the error must contain;
* `ref/<dtype>_<shape>_<sha8>.bin`: GDAL's decoded samples, raw little-endian, `[C, H, W]`
  (masks: `u8` `[H, W]`, 0 = masked, 255 = valid, as `read_masks` returns them); identical
  arrays are stored once;
* `expected.json`: per file, the codec, predictor, layout, dtype, shape, geotransform (as f64
  bit patterns), nodata, reference names, the tolerance the reader is held to (0 = bit for
  bit; JPEG/WebP decoders may round differently) and GDAL's overviews (shape, geotransform and
  pixels of each level as `rasterio.open(path, overview_level=i)` reads it).

Run: `pip install rasterio numpy`, then `python3 scripts/gen_tiff_codec_fixtures.py`.
Deterministic (fixed seed).
"""

import hashlib
import json
import shutil
import struct
import tempfile
from pathlib import Path

import numpy as np
import rasterio
import rasterio.shutil
from rasterio.transform import from_origin

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/tiff_codecs"
H, W, C = 48, 64, 3
TRANSFORM = from_origin(500000.0, 4649776.0, 10.0, 10.0)
CRS = "EPSG:32633"
DTYPES = {
    "u8": np.uint8,
    "u16": np.uint16,
    "i16": np.int16,
    "u32": np.uint32,
    "i32": np.int32,
    "f32": np.float32,
    "f64": np.float64,
}
# (tiled, interleave): every codec meets all four.
LAYOUTS = [(True, "pixel"), (False, "band"), (True, "band"), (False, "pixel")]
# Lossy decoders may round differently from GDAL's libjpeg/libwebp; the tests hold the reader
# to these bounds on max |difference| per sample, and to MEAN_TOL on the mean |difference|.
# 4:2:0 YCbCr JPEG: GDAL (libtiff) and zune-jpeg upsample the chroma differently, which shows
# at sharp colour edges (zune-jpeg agrees with libjpeg-turbo's default decode, Pillow's, to 3).
JPEG_TOL = 2
JPEG_YCBCR_TOL = 32
WEBP_TOL = 1
MEAN_TOL = 3.0


def smooth(dt, c=C, seed=0):
    """Gradients plus a little noise, in a reflectance-like range: compresses like imagery
    (fixtures stay a few KB) and keeps the dtype's extremes in two samples. Lossless files of
    one dtype share the array, so their references are stored once."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    base = np.stack([np.sin(x / (7 + b)) + np.cos(y / (5 + 2 * b)) for b in range(c)]) / 2
    a = base * 2000 + rng.normal(0, 4, size=(c, H, W))
    t = DTYPES[dt]
    if np.issubdtype(t, np.integer):
        info = np.iinfo(t)
        mid = (float(info.min) + float(info.max)) / 2 if info.min == 0 else 0.0
        scale = 0.05 if t == np.uint8 else 1.0
        a = np.clip(np.round(a * scale + mid), info.min, info.max).astype(t)
        a[0, 0, :2] = [info.min, info.max]
        return a
    a = (np.round(a * 8) / 8).astype(t)  # short mantissas, like scaled sensor counts
    a[0, 0, :4] = [np.finfo(t).max, np.finfo(t).tiny, -0.0, 1e-3]
    return a


def photo(c, seed):
    """An 8-bit image with edges and gentle noise, the kind of content JPEG/WebP get."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:H, 0:W].astype(np.float64)
    bands = []
    for b in range(c):
        v = 128 + 80 * np.sin(x / (9 + 3 * b)) * np.cos(y / (11 - b))
        v[(x - 20) ** 2 + (y - 24) ** 2 < 100] = 40 + 60 * b
        bands.append(v + rng.normal(0, 3, size=(H, W)))
    return np.clip(np.round(np.stack(bands)), 0, 255).astype(np.uint8)


def write(name, arr, nodata=None, mask=None, overviews=None, **opts):
    path = OUT / f"{name}.tif"
    c, h, w = arr.shape
    profile = dict(driver="GTiff", width=w, height=h, count=c, dtype=arr.dtype, crs=CRS,
                   transform=TRANSFORM, nodata=nodata, **opts)
    with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
        with rasterio.open(path, "w", **profile) as dst:
            dst.write(arr)
            if mask is not None:
                dst.write_mask(mask)
        if overviews:
            with rasterio.open(path, "r+") as dst:
                dst.build_overviews(overviews, rasterio.enums.Resampling.average)
    return path


def cog(name, arr, mask=None, nodata=None, **opts):
    """A COG: overviews and masks in the order the COG driver lays them out."""
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "src.tif"
        profile = dict(driver="GTiff", width=arr.shape[2], height=arr.shape[1], count=arr.shape[0],
                       dtype=arr.dtype, crs=CRS, transform=TRANSFORM, nodata=nodata)
        with rasterio.Env(GDAL_TIFF_INTERNAL_MASK=True):
            with rasterio.open(src, "w", **profile) as dst:
                dst.write(arr)
                if mask is not None:
                    dst.write_mask(mask)
            path = OUT / f"{name}.tif"
            rasterio.shutil.copy(src, path, driver="COG", BLOCKSIZE=16, OVERVIEW_RESAMPLING="AVERAGE",
                                 **opts)
    return path


def store(arr):
    dt = {v: k for k, v in DTYPES.items()}[arr.dtype.type]
    raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes(order="C")
    name = f"{dt}_{'x'.join(map(str, arr.shape))}_{hashlib.sha256(raw).hexdigest()[:8]}.bin"
    (OUT / "ref" / name).write_bytes(raw)
    return name


def bits(v):
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def gt_bits(t):
    return [bits(v) for v in t.to_gdal()]


def mask_ref(ds):
    """The per-dataset mask as GDAL reads it, or None when every pixel is valid by mask."""
    if not all(rasterio.enums.MaskFlags.per_dataset in f for f in ds.mask_flag_enums):
        return None
    return store(ds.read_masks(1)[None][0])


def readback(path, tol, codec, predictor):
    """GDAL's view of `path`; `tol` is the max |difference| allowed (0 = bit for bit)."""
    with rasterio.open(path) as ds:
        arr = ds.read()
        tags = ds.tags(ns="IMAGE_STRUCTURE")
        case = {
            "file": path.name,
            "codec": codec,
            "predictor": predictor,
            "tiled": ds.profile.get("tiled", False),
            "interleave": tags.get("INTERLEAVE", "PIXEL"),
            "dtype": {v: k for k, v in DTYPES.items()}[arr.dtype.type],
            "shape": list(arr.shape),
            "geotransform_bits": gt_bits(ds.transform),
            "epsg": ds.crs.to_epsg(),
            "nodata_bits": bits(ds.nodata) if ds.nodata is not None else None,
            "data": store(arr),
            "mask": mask_ref(ds),
            "tolerance": tol,
            "mean_tolerance": MEAN_TOL if tol else 0.0,
            "overviews": [],
        }
        levels = len(ds.overviews(1))
    for level in range(levels):
        with rasterio.open(path, overview_level=level) as ov:
            case["overviews"].append({
                "shape": [ov.count, ov.height, ov.width],
                "geotransform_bits": gt_bits(ov.transform),
                "data": store(ov.read()),
                "mask": mask_ref(ov),
            })
    return case


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "ref").mkdir(parents=True)
    (OUT / "unsupported").mkdir()
    cases = []

    def add(path, tol=0, codec=None, predictor=1):
        cases.append(readback(path, tol, codec, predictor))

    for ci, codec in enumerate(["zstd", "deflate", "lzw"]):
        for di, dt in enumerate(DTYPES):
            tiled, il = LAYOUTS[(ci + di) % 4]
            pred = 3 if dt.startswith("f") else 2
            blocks = dict(tiled=True, blockxsize=32, blockysize=32) if tiled else dict(blockysize=10)
            name = f"{codec}_p{pred}_{dt}_{'tile' if tiled else 'strip'}_{il}"
            add(write(name, smooth(dt), compress=codec, predictor=pred, interleave=il, **blocks),
                codec=codec, predictor=pred)
    for tiled, il in LAYOUTS:
        blocks = dict(tiled=True, blockxsize=32, blockysize=32) if tiled else dict(blockysize=10)
        for codec, dt in [("zstd", "u16"), ("packbits", "i16")]:
            name = f"{codec}_p1_{dt}_{'tile' if tiled else 'strip'}_{il}"
            add(write(name, smooth(dt), compress=codec, interleave=il, **blocks), codec=codec)
    add(write("packbits_p1_u8_strip_pixel", smooth("u8"), compress="packbits"), codec="packbits")
    add(write("zstd_level9_p2_u16_tile", smooth("u16"), compress="zstd", zstd_level=9,
              predictor=2, tiled=True, blockxsize=16, blockysize=16), codec="zstd", predictor=2)

    # JPEG: grey, RGB (no colour transform), YCbCr 4:2:0 with JPEGTABLES (GDAL's
    # PHOTOMETRIC=YCBCR), striped and tiled, and band-interleaved multi-band.
    rgb = photo(3, seed=20)
    tile = dict(tiled=True, blockxsize=32, blockysize=32)
    add(write("jpeg_grey_u8_tile", photo(1, seed=21), compress="jpeg", **tile), JPEG_TOL, "jpeg")
    add(write("jpeg_rgb_u8_tile_pixel", rgb, compress="jpeg", photometric="rgb", **tile), JPEG_TOL, "jpeg")
    add(write("jpeg_ycbcr_u8_tile", rgb, compress="jpeg", photometric="ycbcr", **tile),
        JPEG_YCBCR_TOL, "jpeg")
    add(write("jpeg_ycbcr_u8_strip", rgb, compress="jpeg", photometric="ycbcr", blockysize=16),
        JPEG_YCBCR_TOL, "jpeg")
    add(write("jpeg_q95_u8_strip_band", photo(4, seed=22), compress="jpeg", jpeg_quality=95,
              interleave="band", blockysize=16), JPEG_TOL, "jpeg")
    # WebP: lossy and lossless, 3 and 4 bands (GDAL's WebP is 8-bit, pixel-interleaved).
    rgba = photo(4, seed=23)
    add(write("webp_lossy_rgb_u8_tile", rgb, compress="webp", webp_level=80, **tile), WEBP_TOL, "webp")
    add(write("webp_lossy_rgba_u8_strip", rgba, compress="webp", webp_level=90, blockysize=16),
        WEBP_TOL, "webp")
    add(write("webp_lossless_rgb_u8_tile", rgb, compress="webp", webp_lossless=True, **tile),
        codec="webp")
    add(write("webp_lossless_rgba_u8_strip", rgba, compress="webp", webp_lossless=True, blockysize=16),
        codec="webp")

    # LERC (lossless and lossy; plain, Deflate- and ZSTD-wrapped; NaN pixels become its mask).
    add(write("lerc_f32_tile_pixel", smooth("f32"), compress="lerc", max_z_error=0, **tile),
        codec="lerc")
    add(write("lerc_lossy_f32_strip_band", smooth("f32", seed=31), compress="lerc", max_z_error=0.5,
              interleave="band", blockysize=10), codec="lerc")
    add(write("lerc_deflate_u16_strip_pixel", smooth("u16"), compress="lerc_deflate",
              max_z_error=0, blockysize=10), codec="lerc")
    add(write("lerc_zstd_i16_tile_band", smooth("i16"), compress="lerc_zstd", max_z_error=0,
              interleave="band", **tile), codec="lerc")
    add(write("lerc_zstd_u8_tile_pixel", smooth("u8"), compress="lerc_zstd", max_z_error=0,
              **tile), codec="lerc")
    nan = smooth("f64")
    nan[:, 20:30, 5:15] = np.nan
    add(write("lerc_nan_f64_tile_pixel", nan, compress="lerc", max_z_error=0, **tile), codec="lerc")

    # Overviews, masks and no-data.
    mask = np.full((H, W), 255, np.uint8)
    mask[5:17, 9:30] = 0
    mask[40:, 50:] = 0
    add(write("overviews_zstd_p2_u16_tile", smooth("u16"), compress="zstd", predictor=2,
              overviews=[2, 4], **tile), codec="zstd", predictor=2)
    add(write("mask_deflate_u8_tile", smooth("u8"), compress="deflate", mask=mask, **tile),
        codec="deflate")
    add(write("mask_overviews_lzw_i16_strip_band", smooth("i16"), compress="lzw",
              interleave="band", blockysize=8, mask=mask, overviews=[2]), codec="lzw")
    add(write("mask_jpeg_ycbcr_u8_tile", rgb, compress="jpeg", photometric="ycbcr", mask=mask, **tile),
        JPEG_YCBCR_TOL, "jpeg")
    add(cog("cog_zstd_f32_mask", smooth("f32"), mask=mask, COMPRESS="ZSTD", PREDICTOR="YES"),
        codec="zstd", predictor=3)
    add(cog("cog_webp_rgb", rgb, COMPRESS="WEBP", QUALITY=85), WEBP_TOL, "webp")
    # The COG driver writes 3-band JPEG as YCbCr.
    add(cog("cog_jpeg_ycbcr", rgb, COMPRESS="JPEG", QUALITY=85), JPEG_YCBCR_TOL, "jpeg")
    nod = smooth("i16")
    nod[:, 10:20, 30:40] = -9999
    add(write("nodata_zstd_i16_tile", nod, nodata=-9999, compress="zstd", **tile), codec="zstd")

    # Valid files the reader refuses, naming the codec.
    unsupported = {}

    def refuse(name, arr, what, **opts):
        path = write(f"unsupported/{name}", arr, **opts)
        unsupported[path.name] = what

    refuse("lzma_u16", smooth("u16"), "compression 34925 (LZMA)", compress="lzma")
    refuse("jpeg12_u16", smooth("u16") >> 4, "compression 7 (JPEG) with 12-bit samples",
           compress="jpeg", nbits=12)

    expected = {"gdal_version": rasterio.__gdal_version__, "rasterio_version": rasterio.__version__,
                "numpy_version": np.__version__, "jpeg_tolerance": JPEG_TOL,
                "jpeg_ycbcr_tolerance": JPEG_YCBCR_TOL, "webp_tolerance": WEBP_TOL,
                "mean_tolerance": MEAN_TOL, "unsupported": unsupported, "files": cases}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(cases)} fixtures + {len(unsupported)} refused, {total} bytes")


if __name__ == "__main__":
    main()
