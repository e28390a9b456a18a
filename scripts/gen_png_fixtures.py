#!/usr/bin/env python3
"""Write the PNG reader fixtures of `panopticon-data` with GDAL's PNG driver, plus GDAL's
read-back (raw little-endian [C, H, W] samples) in `expected.json` + `<name>.bin`.

Run: `/usr/bin/python3 scripts/gen_png_fixtures.py` (Debian gdal-bin, python3-gdal, numpy).
"""

import json
import shutil
from pathlib import Path

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/png"
H, W = 13, 17


def write(name, arr, gdt):
    c = arr.shape[0]
    mem = gdal.GetDriverByName("MEM").Create("", W, H, c, gdt)
    for b in range(c):
        mem.GetRasterBand(b + 1).WriteArray(arr[b])
    path = OUT / f"{name}.png"
    gdal.GetDriverByName("PNG").CreateCopy(str(path), mem)
    back = gdal.Open(str(path)).ReadAsArray()
    back = back[None] if back.ndim == 2 else back
    (OUT / f"{name}.bin").write_bytes(back.astype(back.dtype.newbyteorder("<")).tobytes())
    return {"file": path.name, "shape": list(back.shape), "dtype": str(back.dtype), "data": f"{name}.bin"}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(0)
    u8 = lambda c: rng.integers(0, 256, size=(c, H, W), dtype=np.uint8)
    cases = [
        write("gray_u8", u8(1), gdal.GDT_Byte),
        write("rgb_u8", u8(3), gdal.GDT_Byte),
        write("rgba_u8", u8(4), gdal.GDT_Byte),
        write("gray_u16", rng.integers(0, 65536, size=(1, H, W), dtype=np.uint16), gdal.GDT_UInt16),
    ]
    # A palette PNG: valid, but refused by the reader (typed Unsupported).
    mem = gdal.GetDriverByName("MEM").Create("", W, H, 1, gdal.GDT_Byte)
    mem.GetRasterBand(1).WriteArray(u8(1)[0] % 4)
    ct = gdal.ColorTable()
    for i, rgb in enumerate([(0, 0, 0), (255, 0, 0), (0, 255, 0), (0, 0, 255)]):
        ct.SetColorEntry(i, rgb)
    mem.GetRasterBand(1).SetRasterColorTable(ct)
    gdal.GetDriverByName("PNG").CreateCopy(str(OUT / "palette.png"), mem)
    for aux in OUT.glob("*.aux.xml"):
        aux.unlink()
    (OUT / "expected.json").write_text(json.dumps(
        {"gdal_version": gdal.__version__, "files": cases, "unsupported": ["palette.png"]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
