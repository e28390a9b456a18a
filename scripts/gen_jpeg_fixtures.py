"""JPEG fixtures for the JPEG reader test: files written by GDAL's JPEG driver (libjpeg) and
GDAL's own read-back of their pixels.

Usage: /usr/bin/python3 scripts/gen_jpeg_fixtures.py  (needs python3-gdal, numpy)
Writes tests/fixtures/data/jpeg/{rgb,gray}.jpg and {rgb,gray}.expected.bin ([C, H, W] u8).
"""
import pathlib

import numpy as np
from osgeo import gdal

OUT = pathlib.Path(__file__).resolve().parent.parent / "tests/fixtures/data/jpeg"


def write(name, bands, h=24, w=40):
    y, x = np.mgrid[0:h, 0:w]
    data = np.stack([(128 + 100 * np.sin(x / (3.0 + b) + y / 5.0)).astype(np.uint8)
                     for b in range(bands)])
    mem = gdal.GetDriverByName("MEM").Create("", w, h, bands, gdal.GDT_Byte)
    for b in range(bands):
        mem.GetRasterBand(b + 1).WriteArray(data[b])
    path = OUT / f"{name}.jpg"
    gdal.GetDriverByName("JPEG").CreateCopy(str(path), mem, options=["QUALITY=90"])
    back = gdal.Open(str(path)).ReadAsArray()
    back = back.reshape(bands, h, w).astype(np.uint8)
    (OUT / f"{name}.expected.bin").write_bytes(back.tobytes())
    for aux in OUT.glob("*.aux.xml"):
        aux.unlink()


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    write("rgb", 3)
    write("gray", 1)
