#!/usr/bin/env python3
"""Writes a tiny FMoW + FMoW-Sentinel dataset in the upstream on-disk layout (spec §5.4) under
tests/fixtures/data/fmow/, plus expected.json with what the Rust `Fmow` dataset must produce,
computed here independently:

* GeoTIFFs written with rasterio: RGB (uint8, 3 bands), WorldView MS (uint16, 8 bands, one
  file band-interleaved), Sentinel-2 (uint16, 13 bands); a corrupt file, a 4-band "wv23"
  file, and paths listed in the table but absent.
* The footprint table `fmow/metadata_v2/fmow_iwm_onid_train_val_savioclean_min42max1024.parquet`
  written with pyarrow: one row per location, aligned list columns img_id, path, sensor, gsd,
  timestamp, img_height, img_width (3 row groups), plus malformed tables.
* Row filtering per configuration, done with pandas over the table the way upstream's
  `FmowDataset._subset` does (list-column filtering per row, then row filters).
* Normalised pixels with torchvision's `Normalize` on float32 tensors (upstream's op).
* View choices for replayed uniform draws, from the documented draw formulas (Rust
  `select_views`), including retries after missing files.

Run: ~/.cache/panopticon-venv/bin/python scripts/gen_fmow_fixtures.py
(rasterio 1.4, pyarrow 26, pandas 3, torch + torchvision). Deterministic: RandomState(42).
"""
import json
import math
import os
import shutil
from datetime import datetime

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import rasterio
import torch
from rasterio.transform import from_origin
from torchvision import transforms

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "data", "fmow")
META = "fmow/metadata_v2"
TABLE = f"{META}/fmow_iwm_onid_train_val_savioclean_min42max1024.parquet"
RNG = np.random.RandomState(42)

# ---- spec §5.3 / §5.4 tables ------------------------------------------------------------
MEAN = {
    "s2": [1569.1970, 1383.9951, 1338.4231, 1408.1113, 1537.2856, 1926.5183, 2136.5127,
           2033.4019, 2262.4558, 674.1297, 16.7465, 2027.3674, 1501.4686],
    "wv23": [324.14698805992043, 321.9731490132023, 414.5839148154745, 376.7135672751123,
             287.4754539285566, 400.37182819120585, 455.80341042344526, 387.41375747632117],
    "rgb": [104.55944194258717, 106.19051077034885, 100.09524832336331],
}
STD = {
    "s2": [517.7932, 595.0351, 690.2477, 994.7734, 994.4599, 1079.4558, 1192.3668, 1170.9979,
           1278.2103, 474.7933, 15.1294, 1362.3807, 1134.5983],
    "wv23": [115.78370553994293, 134.64109966204413, 210.5490582067263, 242.05723188930372,
             204.35781294894136, 246.31516378243006, 282.0780383349591, 255.94032664657144],
    "rgb": [68.97789839437421, 66.91165970478865, 69.09505694641828],
}
CHN_IDS = {
    "s2": [442, 492, 559, 664, 704, 740, 782, 827, 864, 945, 1373, 1613, 2203],
    "wv23": [427, 482, 545, 604, 660, 723, 823, 906],
    "rgb": [665, 547, 482],
}
RGB_CHANNELS = {"s2": [3, 2, 1], "wv23": [4, 2, 1], "rgb": [0, 1, 2]}
MAX_VALUE = {"s2": 4000, "wv23": 1200, "rgb": 255}
DTYPE = {"s2": "uint16", "wv23": "uint16", "rgb": "uint8"}

# ---- the locations ----------------------------------------------------------------------
# (sensor, height, width, kind); kind: ok | planar (band-interleaved ok file) | missing |
# corrupt | bands4 (a 4-band file listed as wv23).
LOCATIONS = [
    ("airport_0", [("rgb", 28, 32, "ok"), ("wv23", 16, 16, "planar"), ("s2", 16, 18, "ok")]),
    ("port_1", [("s2", 24, 32, "ok"), ("s2", 20, 20, "ok"), ("rgb", 30, 26, "ok")]),
    ("farm_2", [("rgb", 30, 30, "ok"), ("wv23", 20, 20, "missing"), ("s2", 16, 16, "ok")]),
    ("tiny_3", [("rgb", 16, 16, "ok"), ("s2", 16, 16, "ok")]),
    ("solo_4", [("rgb", 32, 32, "ok")]),
    ("broken_5", [("rgb", 24, 24, "corrupt"), ("s2", 20, 20, "missing"),
                  ("wv23", 20, 20, "bands4")]),
    ("mixed_6", [("wv23", 24, 40, "ok"), ("rgb", 20, 20, "ok"), ("wv23", 18, 18, "ok")]),
]


def rel_path(loc, k, sensor):
    cat = loc.split("_")[0]
    if sensor == "s2":
        return f"fmow-sentinel/train/{cat}/{loc}/{loc}_{k}.tif"
    suffix = "rgb" if sensor == "rgb" else "ms"
    return f"fmow/train/{cat}/{loc}/{loc}_{k}_{suffix}.tif"


def write_tif(path, chw, dtype, interleave="pixel"):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c, h, w = chw.shape
    with rasterio.open(path, "w", driver="GTiff", height=h, width=w, count=c, dtype=dtype,
                       crs="EPSG:32633", transform=from_origin(500000, 4000000, 0.5, 0.5),
                       interleave=interleave, compress="deflate") as dst:
        dst.write(chw.astype(dtype))


def normalised(sensor, chw):
    """Upstream: imread → float32 → (C,H,W) → torchvision Normalize(float32 mean/std)."""
    norm = transforms.Normalize(torch.tensor(MEAN[sensor]), torch.tensor(STD[sensor]))
    return norm(torch.from_numpy(chw.astype(np.float32))).numpy()


def view_summary(sensor, chw):
    c, h, w = chw.shape
    n = normalised(sensor, chw)
    probes = [(0, 0, 0), (c - 1, h - 1, w - 1), (c // 2, h // 2, w // 3), (1, 3, w - 2)]
    rgb = RGB_CHANNELS[sensor]
    return {
        "shape": [c, h, w],
        "chn_ids": CHN_IDS[sensor],
        "probes": [[ci, y, x, float(n[ci, y, x]), float(chw[ci, y, x])] for ci, y, x in probes],
        "band_sums": [float(n[b].astype(np.float64).sum()) for b in range(c)],
        "rgb_chn_ids": [CHN_IDS[sensor][i] for i in rgb],
        "rgb_probe": [float(n[rgb[0], 1, 2]), float(n[rgb[1], 1, 2]), float(n[rgb[2], 1, 2])],
    }


# ---- draw formulas (documented on Rust `select_views`) ------------------------------------
def randint(draws, lo, hi):
    u = draws.pop(0)
    n = hi - lo + 1
    return lo + min(int(math.floor(u * n)), n - 1)


def select_large_enough(sizes, m, max_crop, draws):
    large = [i for i, s in enumerate(sizes) if s >= max_crop]
    first = large[randint(draws, 0, len(large) - 1)]
    rest = [i for i in range(len(sizes)) if i != first]
    for k in range(m - 1):
        j = randint(draws, k, len(rest) - 1)
        rest[k], rest[j] = rest[j], rest[k]
    return [first] + rest[: m - 1]


def select_unique(sensors, m, draws):
    keys = list(dict.fromkeys(sensors))
    for k in range(m):
        j = randint(draws, k, len(keys) - 1)
        keys[k], keys[j] = keys[j], keys[k]
    out = []
    for s in keys[:m]:
        pos = [i for i, t in enumerate(sensors) if t == s]
        out.append(pos[randint(draws, 0, len(pos) - 1)])
    return out


# ---- upstream-style filtering with pandas -------------------------------------------------
LIST_COLS = ["img_id", "path", "sensor", "gsd", "timestamp", "img_height", "img_width",
             "img_size"]


def subset(df, cfg):
    df = df.copy()
    df["img_size"] = df.apply(lambda r: list(np.minimum(r["img_height"], r["img_width"])),
                              axis=1)
    m = cfg.get("num_views", 2)

    def keep_idx(row, idx):
        for col in LIST_COLS:
            row[col] = [row[col][i] for i in idx]
        return row

    keep = cfg.get("keep_sensors", ["wv23", "s2", "rgb"])
    if set(keep) != {"wv23", "s2", "rgb"}:
        df = df.apply(lambda r: keep_idx(r, [i for i, s in enumerate(r["sensor"]) if s in keep]),
                      axis=1)
    drop = cfg.get("relpaths_to_drop", [])
    if drop:
        df = df.apply(lambda r: keep_idx(r, [i for i, p in enumerate(r["path"])
                                             if p not in drop]), axis=1)
    lo, hi = cfg.get("min_img_size"), cfg.get("max_img_size")
    if lo is not None or hi is not None:
        lo, hi = lo or 0, hi or np.inf
        both = cfg.get("img_size_filter") == "both_sides"

        def ok(r, i):
            h, w = r["img_height"][i], r["img_width"][i]
            return lo <= h <= hi and (not both or lo <= w <= hi)
        df = df.apply(lambda r: keep_idx(r, [i for i in range(len(r["path"])) if ok(r, i)]),
                      axis=1)
    max_crop = cfg.get("max_crop", 256)
    if max_crop is not None:
        df = df[df["img_size"].apply(lambda x: any(s >= max_crop for s in x))]
    min_crop = cfg.get("min_crop")
    if min_crop is not None:
        df = df.apply(lambda r: keep_idx(r, [i for i, s in enumerate(r["img_size"])
                                             if s >= min_crop]), axis=1)
    df = df[df["path"].apply(len) >= m]
    if cfg.get("view_selection") == "unique":
        df = df[df["sensor"].apply(lambda x: len(set(x))) >= m]
    return [{"row": int(r), "paths": list(df.loc[r, "path"])} for r in df.index]


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, META))
    rows = {c: [] for c in ["img_id", "path", "sensor", "gsd", "timestamp", "img_height",
                            "img_width"]}
    files = {}  # rel path -> (sensor, kind, chw or None)
    img_id = 1000
    for loc, views in LOCATIONS:
        row = {c: [] for c in rows}
        for k, (sensor, h, w, kind) in enumerate(views):
            rel = rel_path(loc, k, sensor)
            full = os.path.join(OUT, rel)
            chw = None
            if kind in ("ok", "planar"):
                c = len(MEAN[sensor])
                chw = RNG.randint(0, MAX_VALUE[sensor] + 1, size=(c, h, w))
                write_tif(full, chw, DTYPE[sensor], "band" if kind == "planar" else "pixel")
            elif kind == "corrupt":
                os.makedirs(os.path.dirname(full), exist_ok=True)
                with open(full, "wb") as f:
                    f.write(b"II*\x00" + bytes(RNG.randint(0, 256, 200).astype(np.uint8)))
            elif kind == "bands4":
                write_tif(full, RNG.randint(0, 1000, size=(4, h, w)), "uint16")
            files[rel] = (sensor, kind, chw)
            img_id += 1
            row["img_id"].append(img_id)
            row["path"].append(rel)
            row["sensor"].append(sensor)
            row["gsd"].append({"s2": 10.0, "wv23": 1.24, "rgb": 0.31}[sensor])
            row["timestamp"].append(datetime(2010 + k, 1 + len(loc) % 12, 5, 10, 30))
            row["img_height"].append(h)
            row["img_width"].append(w)
        for c in rows:
            rows[c].append(row[c])

    schema = pa.schema([
        ("img_id", pa.list_(pa.int64())), ("path", pa.list_(pa.string())),
        ("sensor", pa.list_(pa.string())), ("gsd", pa.list_(pa.float64())),
        ("timestamp", pa.list_(pa.timestamp("ms"))), ("img_height", pa.list_(pa.int64())),
        ("img_width", pa.list_(pa.int64())),
    ])
    table = pa.table(rows, schema=schema)
    pq.write_table(table, os.path.join(OUT, TABLE), row_group_size=3)

    # Malformed tables.
    pq.write_table(table.drop_columns(["img_width"]),
                   os.path.join(OUT, META, "bad_missing_column.parquet"))
    pq.write_table(table.set_column(5, "img_height", pa.array(
        [[str(v) for v in r] for r in rows["img_height"]], pa.list_(pa.string()))),
        os.path.join(OUT, META, "bad_types.parquet"))
    short = [list(r) for r in rows["sensor"]]
    short[1] = short[1][:-1]
    pq.write_table(table.set_column(2, "sensor", pa.array(short, pa.list_(pa.string()))),
                   os.path.join(OUT, META, "bad_lengths.parquet"))
    odd = [list(r) for r in rows["sensor"]]
    odd[4] = ["modis"]
    pq.write_table(table.set_column(2, "sensor", pa.array(odd, pa.list_(pa.string()))),
                   os.path.join(OUT, META, "bad_sensor.parquet"))
    with open(os.path.join(OUT, META, "bad_not_parquet.parquet"), "wb") as f:
        f.write(b"PAR1 this is not a parquet file")

    df = table.to_pandas()
    df = df.apply(lambda r: r.apply(lambda v: list(v) if hasattr(v, "__len__")
                                    and not isinstance(v, str) else v), axis=1)
    configs = {
        "crop24": {"max_crop": 24},
        "keep_rgb_s2": {"max_crop": 24, "keep_sensors": ["rgb", "s2"]},
        "drop_min_crop": {"max_crop": 24, "min_crop": 18,
                          "relpaths_to_drop": [rel_path("port_1", 1, "s2")]},
        "max_size_height": {"max_crop": 24, "max_img_size": 32, "min_img_size": 17},
        "max_size_both": {"max_crop": 24, "max_img_size": 32, "min_img_size": 17,
                          "img_size_filter": "both_sides"},
        "unique": {"max_crop": 24, "view_selection": "unique"},
        "three_views": {"max_crop": 24, "num_views": 3},
        "default": {},
    }
    filtered = {name: {"config": cfg, "locations": subset(df, cfg)}
                for name, cfg in configs.items()}

    views = {}
    for rel, (sensor, kind, chw) in files.items():
        if chw is not None:
            views[rel] = view_summary(sensor, chw)

    # Replayed draws on the crop24 locations (index = position in the filtered list).
    locs = filtered["crop24"]["locations"]
    sizes = {loc["row"]: [min(h, w) for h, w in zip(rows["img_height"][loc["row"]],
                                                    rows["img_width"][loc["row"]])]
             for loc in locs}
    cases = []
    for index, loc in enumerate(locs):
        draw_sets = [[0.0, 0.0], [0.999, 0.999], [0.4, 0.6]]
        for draws in draw_sets:
            d = list(draws)
            chosen = select_large_enough(sizes[loc["row"]], 2, 24, d)
            cases.append({"index": index, "mode": "large_enough", "m": 2, "draws": draws,
                          "chosen": chosen})
    uniq = filtered["unique"]["locations"]
    for index, loc in enumerate(uniq):
        sensors = rows["sensor"][loc["row"]]
        for draws in [[0.0, 0.0, 0.0, 0.0], [0.9, 0.9, 0.9, 0.9], [0.3, 0.7, 0.5, 0.2]]:
            d = list(draws)
            cases.append({"index": index, "mode": "unique", "m": 2, "draws": draws,
                          "chosen": select_unique(sensors, 2, d)})

    # Retry scenario on farm_2: draws that hit the missing file first, then succeed.
    farm = next(i for i, loc in enumerate(locs) if loc["paths"][0].endswith("farm_2_0_rgb.tif"))
    d = [0.3, 0.2, 0.3, 0.8]
    attempts = []
    while True:
        chosen = select_large_enough(sizes[locs[farm]["row"]], 2, 24, d)
        paths = [locs[farm]["paths"][i] for i in chosen]
        failed = next((p for p in paths if files[p][2] is None), None)
        attempts.append({"chosen": chosen, "failed": failed})
        if failed is None or len(attempts) == 3:
            break
    retry = {"index": farm, "draws": [0.3, 0.2, 0.3, 0.8], "attempts": attempts}
    broken = next(i for i, loc in enumerate(locs) if "broken_5" in loc["paths"][0])

    expected = {
        "table": TABLE,
        "num_rows": len(LOCATIONS),
        "filtered": filtered,
        "views": views,
        "cases": cases,
        "retry": retry,
        "broken_index": broken,
        "broken_file": locs[broken]["paths"][0],
    }
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
