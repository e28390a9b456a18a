#!/usr/bin/env python3
"""Write the GeoTIFF reader fixtures of `panopticon-data` with GDAL, plus GDAL's read-back.

Output (tests/fixtures/data/geotiff/):
* `<name>.tif`: one small file per layout variant (every dtype x striped/tiled x
  none/deflate/lzw x pixel/band interleave, plus BigTIFF, big-endian, predictors 2 and 3,
  PackBits, MINISWHITE, internal overviews, COG, nodata + EPSG CRS, geographic CRS, rotated ModelTransformation, PixelIsPoint,
  no georeferencing, 1 and 5 bands);
* `unsupported/*.tif`: valid files the reader must refuse (1-bit, float MINISWHITE, complex;
  JPEG, ZSTD, WebP and the rest are covered by `gen_tiff_codec_fixtures.py`);
* `data/<dtype>_<C>x<H>x<W>_<sha8>.bin`: GDAL's `ReadAsArray()` of a file, raw little-endian
  samples in [C, H, W] order (identical read-backs are stored once);
* `expected.json`: per file, GDAL's dtype, shape, geotransform (also as f64 bit patterns so
  the comparison is exact), EPSG code, nodata and the name of its read-back `.bin`.

Run with the Debian GDAL bindings: `apt-get install gdal-bin python3-gdal python3-numpy`,
then `/usr/bin/python3 scripts/gen_geotiff_fixtures.py`. Deterministic (fixed seed).
"""

import hashlib
import json
import shutil
import struct
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

gdal.UseExceptions()
OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/geotiff"
H, W, C = 13, 17, 3
GT = (500000.0, 10.0, 0.0, 4649776.0, 0.0, -10.0)
DTYPES = {
    "u8": (gdal.GDT_Byte, np.uint8),
    "u16": (gdal.GDT_UInt16, np.uint16),
    "i16": (gdal.GDT_Int16, np.int16),
    "u32": (gdal.GDT_UInt32, np.uint32),
    "i32": (gdal.GDT_Int32, np.int32),
    "f32": (gdal.GDT_Float32, np.float32),
    "f64": (gdal.GDT_Float64, np.float64),
}


def values(dt, c=C, h=H, w=W, seed=0):
    rng = np.random.default_rng(seed)
    np_t = DTYPES[dt][1]
    if np.issubdtype(np_t, np.integer):
        info = np.iinfo(np_t)
        a = rng.integers(info.min, info.max, size=(c, h, w), endpoint=True, dtype=np.int64)
        a.flat[:2] = [info.min, info.max]  # the extremes must survive
        return a.astype(np_t)
    a = rng.normal(0, 1000, size=(c, h, w)).astype(np_t)
    a.flat[:4] = [np.finfo(np_t).max, np.finfo(np_t).tiny, -0.0, 1e-3]
    return a


def write(name, arr, opts, gt=GT, epsg=32633, nodata=None, metadata=None):
    path = OUT / f"{name}.tif"
    c, h, w = arr.shape
    gdt = {v[1]: v[0] for v in DTYPES.values()}[arr.dtype.type]
    ds = gdal.GetDriverByName("GTiff").Create(str(path), w, h, c, gdt, opts)
    if gt is not None:
        ds.SetGeoTransform(gt)
    if epsg is not None:
        srs = osr.SpatialReference()
        srs.ImportFromEPSG(epsg)
        ds.SetProjection(srs.ExportToWkt())
    for k, v in (metadata or {}).items():
        ds.SetMetadataItem(k, v)
    for b in range(c):
        band = ds.GetRasterBand(b + 1)
        if nodata is not None:
            band.SetNoDataValue(nodata)
        band.WriteArray(arr[b])
    ds = None
    return path


def readback(path):
    ds = gdal.Open(str(path))
    arr = ds.ReadAsArray()
    if arr.ndim == 2:
        arr = arr[None]
    srs = ds.GetSpatialRef()
    epsg = None
    if srs is not None:
        code = srs.GetAuthorityCode(None)
        epsg = int(code) if code else None
    gt = ds.GetGeoTransform(can_return_null=True)
    nodata = ds.GetRasterBand(1).GetNoDataValue()
    raw = arr.astype(arr.dtype.newbyteorder("<")).tobytes(order="C")
    dt = {v[1]: k for k, v in DTYPES.items()}[arr.dtype.type]
    shape = list(arr.shape)
    data = f"{dt}_{'x'.join(map(str, shape))}_{hashlib.sha256(raw).hexdigest()[:8]}.bin"
    (OUT / "data" / data).write_bytes(raw)
    img = ds.GetMetadata("IMAGE_STRUCTURE")
    return {
        "file": path.name,
        "dtype": dt,
        "shape": shape,
        "geotransform": list(gt) if gt else None,
        "geotransform_bits": [struct.unpack("<Q", struct.pack("<d", v))[0] for v in gt] if gt else None,
        "epsg": epsg,
        "nodata_repr": repr(nodata) if nodata is not None else None,
        "nodata_bits": struct.unpack("<Q", struct.pack("<d", nodata))[0] if nodata is not None else None,
        "data": data,
        "gdal_layout": {k: img[k] for k in sorted(img)},
        "bigtiff": path.read_bytes()[2:4] in (b"\x2b\x00", b"\x00\x2b"),
    }


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "data").mkdir(parents=True)
    cases = []
    for dt in DTYPES:
        arr = values(dt)
        for chunk in ("strip", "tile"):
            for comp in ("none", "deflate", "lzw"):
                for il in ("pixel", "band"):
                    opts = [f"COMPRESS={comp.upper()}", f"INTERLEAVE={il.upper()}"]
                    # 5-row strips leave a partial last strip; 16x16 tiles pad the 13x17 image.
                    opts += ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"] if chunk == "tile" else ["BLOCKYSIZE=5"]
                    cases.append(write(f"{dt}_{chunk}_{comp}_{il}", arr, opts))
    u16, f32 = values("u16", seed=1), values("f32", seed=2)
    cases.append(write("bigtiff_u16_tile_deflate_band", u16,
                       ["BIGTIFF=YES", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16",
                        "COMPRESS=DEFLATE", "INTERLEAVE=BAND"]))
    cases.append(write("bigtiff_f32_strip_none_pixel", f32, ["BIGTIFF=YES"]))
    cases.append(write("predictor2_u16_lzw", u16, ["COMPRESS=LZW", "PREDICTOR=2"]))
    cases.append(write("predictor2_i16_deflate_tile", values("i16", seed=3),
                       ["COMPRESS=DEFLATE", "PREDICTOR=2", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"]))
    cases.append(write("bigendian_u16_tile_lzw_band", u16,
                       ["ENDIANNESS=BIG", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16",
                        "COMPRESS=LZW", "INTERLEAVE=BAND"]))
    cases.append(write("bigendian_f64_strip_deflate_pixel", values("f64", seed=10),
                       ["ENDIANNESS=BIG", "COMPRESS=DEFLATE"]))
    cases.append(write("predictor3_f32_deflate_pixel", f32, ["COMPRESS=DEFLATE", "PREDICTOR=3"]))
    cases.append(write("predictor3_f64_lzw_tile_band", values("f64", seed=11),
                       ["COMPRESS=LZW", "PREDICTOR=3", "TILED=YES", "BLOCKXSIZE=16",
                        "BLOCKYSIZE=16", "INTERLEAVE=BAND"]))
    cases.append(write("miniswhite_u8", values("u8", c=1, seed=13), ["PHOTOMETRIC=MINISWHITE"]))
    cases.append(write("miniswhite_u16_tile", values("u16", c=1, seed=14),
                       ["PHOTOMETRIC=MINISWHITE", "TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16"]))
    cases.append(write("packbits_u8_strip_pixel", values("u8", seed=12), ["COMPRESS=PACKBITS"]))
    ovr = write("overviews_u16_tile_deflate", u16,
                ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=DEFLATE"])
    ds = gdal.Open(str(ovr), gdal.GA_Update)
    ds.BuildOverviews("NEAREST", [2])  # a second IFD the reader must skip
    ds = None
    cases.append(ovr)
    src = write("cog_source_tmp", values("f32", seed=16), [])
    gdal.Translate(str(OUT / "cog_f32_deflate.tif"), str(src), format="COG",
                   creationOptions=["COMPRESS=DEFLATE", "BLOCKSIZE=16", "OVERVIEWS=FORCE_USE_EXISTING"])
    src.unlink()
    cases.append(OUT / "cog_f32_deflate.tif")
    nod = f32.copy()
    nod[:, 2:5, 3:9] = -9999.0
    cases.append(write("nodata_f32_epsg32633", nod, ["COMPRESS=DEFLATE"], nodata=-9999.0))
    nan = f32.copy()
    nan[1, 4:6, :] = np.nan
    cases.append(write("nodata_nan_f32", nan, [], nodata=float("nan")))
    cases.append(write("geographic_epsg4326_u8", values("u8", seed=4), [],
                       gt=(11.25, 0.0001, 0.0, 48.5, 0.0, -0.0001), epsg=4326, nodata=0))
    cases.append(write("rotated_transform_u16", u16, [], gt=(1000.0, 9.5, 2.5, 2000.0, 1.5, -9.0)))
    cases.append(write("pixel_is_point_u16", u16, [], metadata={"AREA_OR_POINT": "Point"}))
    cases.append(write("no_georef_u8", values("u8", seed=5), [], gt=None, epsg=None))
    cases.append(write("one_band_u16_tile_lzw", values("u16", c=1, seed=6),
                       ["TILED=YES", "BLOCKXSIZE=16", "BLOCKYSIZE=16", "COMPRESS=LZW"]))
    cases.append(write("five_band_i16_band_deflate", values("i16", c=5, seed=7),
                       ["INTERLEAVE=BAND", "COMPRESS=DEFLATE"]))
    # Valid GeoTIFFs the reader must refuse with a typed `Unsupported` error.
    (OUT / "unsupported").mkdir()
    bits = write("unsupported/nbits1_u8", (values("u8", seed=8) & 1).astype(np.uint8), ["NBITS=1"])
    ds = gdal.GetDriverByName("GTiff").Create(str(OUT / "unsupported/complex_cint16.tif"), W, H, 1, gdal.GDT_CInt16)
    ds = None
    white_f32 = write("unsupported/miniswhite_f32", values("f32", c=1, seed=15), ["PHOTOMETRIC=MINISWHITE"])
    unsupported = [bits.name, white_f32.name, "complex_cint16.tif"]
    expected = {"unsupported": unsupported, "gdal_version": gdal.__version__, "numpy_version": np.__version__,
                "files": [readback(p) for p in cases]}
    (OUT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"{len(cases)} fixtures, {total} bytes")


if __name__ == "__main__":
    main()
