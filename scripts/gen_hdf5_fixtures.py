#!/usr/bin/env python3
"""Write the HDF5 reader fixtures of `panopticon-data` with h5py, plus h5py's own read-back.

Covers what the datasets need: every numeric dtype, contiguous / chunked / gzip / shuffle+gzip /
fletcher32 layouts with partial edge chunks, a big-endian dataset, scalar and 1-D datasets,
string (variable-length and fixed-length) and numeric attributes, the `libver="latest"` file
format (superblock v3, fixed-array / extensible-array / B-tree v2 chunk indexes), and a
GeoBench-style per-sample file (one 2-D dataset per band + a pickled-dict string attribute).

Output (`tests/fixtures/data/hdf5/`): the `.h5` files, `expected.bin` (every dataset's values
as read back by h5py, little-endian, row-major, concatenated) and `expected.json` (per dataset:
file, path, numpy dtype, shape, offset/nbytes into `expected.bin`; per attribute: its value).

Run: `~/.cache/panopticon-venv/bin/python scripts/gen_hdf5_fixtures.py` (h5py, numpy).
"""

import json
import pickle
import shutil
from pathlib import Path

import h5py
import numpy as np

OUT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/hdf5"
DTYPES = ["uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "float64"]


def values(rng, dtype, shape):
    """Random values spanning the type's range, with its extremes (and NaN/inf for floats)."""
    dt = np.dtype(dtype)
    n = int(np.prod(shape))
    if dt.kind == "f":
        v = rng.normal(0, 1000, size=n).astype(dt)
        v[:4] = [np.nan, np.inf, -np.inf, np.finfo(dt).max][: min(4, n)]
    else:
        info = np.iinfo(dt)
        v = rng.integers(info.min, int(info.max) + 1, size=n, dtype=dt)
        v[:2] = [info.min, info.max][: min(2, n)]
    return v.reshape(shape)


class Recorder:
    def __init__(self):
        self.blob = bytearray()
        self.datasets = []

    def record(self, path, file_name, name):
        """Reads `name` back with h5py (not the array we wrote) and appends it to the blob."""
        with h5py.File(path, "r") as f:
            back = f[name][()]
        back = np.asarray(back)
        le = back.astype(back.dtype.newbyteorder("<"))
        raw = le.tobytes()
        self.datasets.append({
            "file": file_name, "path": name, "dtype": le.dtype.name, "shape": list(back.shape),
            "offset": len(self.blob), "nbytes": len(raw),
        })
        self.blob += raw


def variants(rec, rng):
    """Default file format (superblock v0, B-tree v1 chunk index), as MMEarth's file uses."""
    path = OUT / "variants.h5"
    names = []
    with h5py.File(path, "w") as f:
        for dt in DTYPES:
            f.create_dataset(f"contiguous/{dt}", data=values(rng, dt, (3, 5, 7)))
            f.create_dataset(f"chunked/{dt}", data=values(rng, dt, (4, 6, 10)), chunks=(1, 6, 10))
            # chunks that do not divide the shape: partial edge chunks on every axis
            f.create_dataset(f"gzip/{dt}", data=values(rng, dt, (5, 6, 9)), chunks=(2, 4, 4),
                             compression="gzip", compression_opts=4)
            f.create_dataset(f"shuffle_gzip/{dt}", data=values(rng, dt, (5, 6, 9)), chunks=(2, 4, 4),
                             compression="gzip", shuffle=True)
            names += [f"contiguous/{dt}", f"chunked/{dt}", f"gzip/{dt}", f"shuffle_gzip/{dt}"]
        f.create_dataset("fletcher32/float32", data=values(rng, "float32", (3, 8, 8)), chunks=(1, 8, 8),
                         compression="gzip", shuffle=True, fletcher32=True)
        f.create_dataset("big_endian/int16", data=values(rng, "int16", (2, 3, 4)).astype(">i2"))
        f.create_dataset("big_endian/float64", data=values(rng, "float64", (2, 3, 4)).astype(">f8"),
                         chunks=(1, 3, 4), compression="gzip")
        f.create_dataset("scalar/float64", data=np.float64(2.718281828459045))
        f.create_dataset("vector/int32", data=values(rng, "int32", (11,)))
        f.create_dataset("two_d/uint16", data=values(rng, "uint16", (6, 5)))
        f.create_dataset("strings/vlen", data=np.array(["a", "bc"], dtype=object),
                         dtype=h5py.string_dtype())
        names += ["fletcher32/float32", "big_endian/int16", "big_endian/float64", "scalar/float64",
                  "vector/int32", "two_d/uint16"]
        f.attrs["title"] = "MMEarth-like test file ✓"
        f.attrs["fixed"] = np.bytes_("fixed-8!")
        f.attrs["count"] = np.int64(-42)
        f.attrs["scale"] = np.float64(0.125)
        f.attrs["means"] = np.array([1.5, -2.25, 1e-3], dtype=np.float32)
        f.attrs["flags"] = np.array([0, 1, 255], dtype=np.uint8)
        f["gzip/float32"].attrs["unit"] = "reflectance"
        f["gzip/float32"].attrs["nodata"] = np.float32(-9999.0)
    for n in names:
        rec.record(path, path.name, n)
    return {
        "file": path.name,
        "root_attrs": {"title": "MMEarth-like test file ✓", "fixed": "fixed-8!", "count": -42,
                       "scale": 0.125, "means": [1.5, -2.25, 1e-3], "flags": [0, 1, 255]},
        "dataset_attrs": {"gzip/float32": {"unit": "reflectance", "nodata": -9999.0}},
    }


def latest(rec, rng):
    """`libver="latest"`: superblock v3, link messages, new chunk indexes."""
    path = OUT / "latest.h5"
    with h5py.File(path, "w", libver="latest") as f:
        # one chunk dimension fixed, no max shape -> fixed-array index
        f.create_dataset("fixed_array/int16", data=values(rng, "int16", (4, 5, 6)), chunks=(1, 5, 3),
                         compression="gzip")
        # one unlimited dimension -> extensible-array index
        f.create_dataset("extensible/float32", data=values(rng, "float32", (5, 4, 4)), chunks=(2, 4, 4),
                         maxshape=(None, 4, 4), shuffle=True, compression="gzip")
        # two unlimited dimensions -> B-tree v2 index
        f.create_dataset("btree2/uint16", data=values(rng, "uint16", (5, 7)), chunks=(2, 3),
                         maxshape=(None, None), compression="gzip")
        f.create_dataset("contiguous/float64", data=values(rng, "float64", (3, 4)))
        f.attrs["version"] = "latest"
    for n in ["fixed_array/int16", "extensible/float32", "btree2/uint16", "contiguous/float64"]:
        rec.record(path, path.name, n)
    return {"file": path.name, "root_attrs": {"version": "latest"}}


def geobench(rec, rng):
    """A GeoBench sample: one 2-D dataset per band at the root, a pickled dict in `pickle`."""
    path = OUT / "geobench_sample.hdf5"
    # Written out of name order: h5py lists members by name whatever the write order.
    bands = ["02 - Blue", "01 - Coastal aerosol", "label", "03 - Green"]
    attr = {"bands_order": bands, "label": 3,
            **{b: {"date": None, "spatial_resolution": 10.0} for b in bands}}
    pickled = str(pickle.dumps(attr))
    with h5py.File(path, "w") as f:
        for b in bands:
            if b == "label":
                f.create_dataset(b, data=values(rng, "uint8", (16, 16)) % 7)
            else:
                f.create_dataset(b, data=values(rng, "int16", (16, 16)))
        f.attrs["pickle"] = pickled
    for b in bands:
        rec.record(path, path.name, b)
    with h5py.File(path, "r") as f:
        keys = list(f.keys())  # h5py's listing order, which `dataset_names` must reproduce
    return {"file": path.name, "root_attrs": {"pickle": pickled}, "datasets": keys}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    rng = np.random.default_rng(20240517)
    rec = Recorder()
    files = [variants(rec, rng), latest(rec, rng), geobench(rec, rng)]
    (OUT / "expected.bin").write_bytes(bytes(rec.blob))
    (OUT / "expected.json").write_text(json.dumps({
        "h5py": h5py.__version__, "hdf5": h5py.version.hdf5_version,
        "files": files, "datasets": rec.datasets}, indent=1, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
