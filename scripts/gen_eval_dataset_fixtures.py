#!/usr/bin/env python3
"""Writes tiny synthetic EuroSAT-SAR and RESISC45 datasets in their real on-disk layouts
(spec §5.9) under tests/fixtures/eval/datasets/, for the `panopticon eval` tests.

    /usr/bin/python3 scripts/gen_eval_dataset_fixtures.py

Needs GDAL (osgeo) and numpy. Deterministic (seeded). Each class gets its own pattern plus
noise, so a frozen model separates some classes and the kNN / linear-probe numbers are not
trivially constant.

Layouts:
  eurosat_SAR/{train,val,test,small_train,small_val,small_test}.csv  (filepath,class_name)
  eurosat_SAR/<class>/<class>_<i>.tif      16x16, 2 bands float32 (VV, VH in dB), deflate
  resisc45/resisc45-{train,val,test}.txt   (file names)
  resisc45/NWPU-RESISC45/<class>/<class>_<nnn>.jpg   16x16 RGB JPEG
"""
import os
import shutil

import numpy as np
from osgeo import gdal

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                    "eval", "datasets")
SIZE = 16

EUROSAT_CLASSES = ["AnnualCrop", "Forest", "HerbaceousVegetation", "Highway", "Industrial",
                   "Pasture", "PermanentCrop", "Residential", "River", "SeaLake"]
# A subset of the 45 RESISC45 classes (underscores included on purpose: the class is the
# file name up to the last "_").
RESISC_CLASSES = ["airplane", "baseball_diamond", "forest", "sea_ice"]

PER_CLASS = {"train": 3, "val": 1, "test": 2}


def pattern(cls, n_cls, rng):
    y, x = np.mgrid[0:SIZE, 0:SIZE].astype(np.float64) / SIZE
    freq = 1 + cls
    base = np.sin(2 * np.pi * freq * x * 0.5) * np.cos(2 * np.pi * (n_cls - cls) * y * 0.25)
    return base + 0.1 * rng.standard_normal((SIZE, SIZE))


def eurosat(rng):
    root = os.path.join(ROOT, "eurosat_SAR")
    shutil.rmtree(root, ignore_errors=True)
    rows = {s: [] for s in PER_CLASS}
    drv = gdal.GetDriverByName("GTiff")
    for ci, cls in enumerate(EUROSAT_CLASSES):
        os.makedirs(os.path.join(root, cls))
        i = 0
        for split, n in PER_CLASS.items():
            for _ in range(n):
                i += 1
                rel = f"{cls}/{cls}_{i}.tif"
                p = pattern(ci, len(EUROSAT_CLASSES), rng)
                vv = (-11.66 + 6.0 * p).astype(np.float32)
                vh = (-18.50 + 6.0 * np.roll(p, ci, axis=1)).astype(np.float32)
                ds = drv.Create(os.path.join(root, rel), SIZE, SIZE, 2, gdal.GDT_Float32,
                                options=["COMPRESS=DEFLATE", "PREDICTOR=3"])
                ds.GetRasterBand(1).WriteArray(vv)
                ds.GetRasterBand(2).WriteArray(vh)
                ds = None
                rows[split].append((rel, cls))
    for split, r in rows.items():
        for name in (split, f"small_{split}"):
            keep = r if name == split else r[::2] + [x for x in r[1::2] if x[1] == "Forest"]
            with open(os.path.join(root, f"{name}.csv"), "w") as f:
                f.write("filepath,class_name\n")
                for rel, cls in keep:
                    f.write(f"{rel},{cls}\n")


def resisc(rng):
    root = os.path.join(ROOT, "resisc45")
    shutil.rmtree(root, ignore_errors=True)
    names = {s: [] for s in PER_CLASS}
    mem = gdal.GetDriverByName("MEM")
    jpg = gdal.GetDriverByName("JPEG")
    for ci, cls in enumerate(RESISC_CLASSES):
        d = os.path.join(root, "NWPU-RESISC45", cls)
        os.makedirs(d)
        i = 0
        for split, n in PER_CLASS.items():
            for _ in range(n):
                i += 1
                name = f"{cls}_{i:03d}.jpg"
                p = pattern(ci, len(RESISC_CLASSES), rng)
                ds = mem.Create("", SIZE, SIZE, 3, gdal.GDT_Byte)
                for b in range(3):
                    v = 128 + 60 * np.roll(p, b * (ci + 1), axis=0) + 20 * (b - ci)
                    ds.GetRasterBand(b + 1).WriteArray(np.clip(v, 0, 255).astype(np.uint8))
                jpg.CreateCopy(os.path.join(d, name), ds, options=["QUALITY=90"])
                ds = None
                names[split].append(name)
    for split, r in names.items():
        with open(os.path.join(root, f"resisc45-{split}.txt"), "w") as f:
            f.write("\n".join(r) + "\n")
    # GDAL writes .aux.xml side files for some drivers; the real dataset has none.
    for dirpath, _, files in os.walk(root):
        for fn in files:
            if fn.endswith(".aux.xml"):
                os.remove(os.path.join(dirpath, fn))


def main():
    rng = np.random.default_rng(20250307)
    eurosat(rng)
    resisc(rng)


if __name__ == "__main__":
    main()
