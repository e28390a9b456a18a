#!/usr/bin/env python3
"""Write a tiny synthetic MMEarth in its exact on-disk layout (spec §5.5) plus the expected
samples, computed independently with numpy the way upstream `MMEarth.__getitem__` +
`MMEarthWrapper.check_each_channel_for_nans` do it.

Layout (`tests/fixtures/data/mmearth/data_tiny_v001/`, the folder name is the "variant"):
* `data_tiny_v001.h5`: `sentinel2` (N, 13, H, W) uint16, `sentinel1` (N, 8, H, W) float32
  (missing polarisations = -inf), `month` (N, 2) float32, `aster` (N, 2, H, W) (unused).
* `data_tiny_v001.parquet`: columns id, split, sensor (list<string>), hf5_idx (float64 with
  NaN, as pandas writes it after upstream's left join), s2_type, lat.
* `data_tiny_v001_band_stats.json`: {modality: {mean, std, min, max}}.
* `../int_index.parquet`: the same table with an int64 `hf5_idx` (NaN row dropped).
* `../bad_v001/`: a 12-band `sentinel2` (must be refused) with valid stats and metadata.

Expected (`tests/fixtures/data/mmearth/expected.json` + `expected.bin`): for the `train`
split and for `all`, the kept rows in order, and per row and sensor the kept channel indices,
their chn_ids and the normalised f32 values (little-endian in the blob).

Run: `~/.cache/panopticon-venv/bin/python scripts/gen_mmearth_fixtures.py` (h5py, pyarrow,
numpy).
"""

import json
import shutil
from pathlib import Path

import h5py
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent / "tests/fixtures/data/mmearth"
VARIANT = "data_tiny_v001"
N, H, W = 7, 6, 5
# registry lists pretrain/mmearth_s2 and pretrain/mmearth_s1 (int16-truncated mu), spec §5.3
S2_IDS = [442, 492, 559, 664, 704, 740, 782, 827, 864, 945, 1373, 1613, 2203]
S1_IDS = [-5, -6, -7, -8, -9, -10, -11, -12]
NO_DATA = {"sentinel2": 0, "sentinel1": float("-inf"), "month": float("-inf")}


def stats(rng):
    def band(n, lo, hi, slo, shi):
        return rng.uniform(lo, hi, n).round(4).tolist(), rng.uniform(slo, shi, n).round(4).tolist()

    s2c_m, s2c_s = band(13, 800, 2500, 300, 1200)
    s2a_m, s2a_s = band(13, 500, 2000, 300, 1200)
    # An integer mean so a raw value can normalise to exactly 0 (the S2 no-data quirk).
    s2a_m[3] = 1000.0
    s1_m, s1_s = band(8, -20, -5, 3, 7)
    return {
        "sentinel2_l1c": {"mean": s2c_m, "std": s2c_s, "min": [0] * 13, "max": [10000] * 13},
        "sentinel2_l2a": {"mean": s2a_m, "std": s2a_s, "min": [0] * 13, "max": [10000] * 13},
        "sentinel1": {"mean": s1_m, "std": s1_s, "min": [-50] * 8, "max": [10] * 8},
        "month": {"mean": [0.01, -0.02], "std": [0.7, 0.71]},
        "aster": {"mean": [400.0, 5.0], "std": [300.0, 4.0]},
    }


def arrays(rng):
    s2 = rng.integers(1, 6000, size=(N, 13, H, W), dtype=np.uint16)
    s2[1, 5, 0, 0] = 0  # raw no-data zero: NOT caught (check runs after normalisation)
    s2[2, 3, 2, 1] = 1000  # equals the l2a mean of band 3 -> normalised 0.0 -> NaN -> dropped
    s1 = rng.normal(-12, 5, size=(N, 8, H, W)).astype(np.float32)
    s1[:, [2, 3, 6, 7]] = -np.inf  # HH/HV usually missing
    s1[0, 4:] = -np.inf  # no descending pass
    s1[3, 1, 4, 4] = -np.inf  # one missing pixel drops the whole channel
    s1[4, 2] = rng.normal(-15, 5, size=(H, W))  # an asc HH that is present
    s1[5, 5, 0, 0] = np.nan  # a NaN in the data also drops the channel
    s1[6] = -np.inf  # nothing valid at all -> empty view (upstream unhandled)
    month = rng.uniform(-1, 1, size=(N, 2)).astype(np.float32)
    aster = rng.normal(0, 1, size=(N, 2, H, W)).astype(np.float32)
    return s2, s1, month, aster


# id, split, sensors, hf5_idx, s2_type
ROWS = [
    ("t0", "train", ["sentinel2", "sentinel1_asc"], 4, "l1c"),
    ("t1", "train", ["sentinel2", "sentinel1_asc", "sentinel1_desc", "aster"], 2, "l2a"),
    ("t2", "eval", ["sentinel2", "sentinel1_desc"], 1, "l2a"),
    ("t3", "train", ["sentinel2", "aster"], 5, "l1c"),  # no S1 -> filtered out
    ("t4", "train", ["sentinel1_desc", "sentinel2"], 0, "l2a"),
    ("t5", "train", ["sentinel2", "sentinel1_asc", "sentinel1_desc"], 3, "l1c"),
    ("t6", "eval", ["sentinel2"], None, "l2a"),  # no S1 -> filtered out before the NaN check
    ("t7", "train", ["sentinel2", "sentinel1_asc"], 5, "l1c"),
    ("t8", "eval", ["sentinel2", "sentinel1_asc"], 6, "l2a"),  # all S1 -inf -> empty view
]


def keep(split):
    rows = [r for r in ROWS if split == "all" or r[1] == split]
    return [r for r in rows if any("sentinel1_asc" in s or "sentinel1_desc" in s for s in r[2])]


def sample(f, st, row):
    """Upstream `MMEarth.__getitem__` (MODALITY_MINIMAL_SET1) + the wrapper's NaN removal."""
    hf5_idx, l2a = row[3], row[4] == "l2a"
    out = {}
    for modality, n in [("sentinel2", 13), ("sentinel1", 8), ("month", 2)]:
        idx = list(range(n))
        data = np.array(f[modality][hf5_idx, idx, ...])
        key = ("sentinel2_l2a" if l2a else "sentinel2_l1c") if modality == "sentinel2" else modality
        means = np.array(st[key]["mean"])[idx]
        stds = np.array(st[key]["std"])[idx]
        if modality == "month":
            data = (data - means) / stds
        else:
            data = (data - means[:, None, None]) / stds[:, None, None]
        data = np.where(data == NO_DATA[modality], np.nan, data).astype(np.float32)
        out[modality] = data
    views = {}
    for modality, ids in [("sentinel2", S2_IDS), ("sentinel1", S1_IDS)]:
        img = out[modality]
        mask = ~np.isnan(img).any(axis=(1, 2))
        views[modality] = (np.flatnonzero(mask).tolist(), np.array(ids)[mask].tolist(), img[mask])
    return views


def main():
    if ROOT.exists():
        shutil.rmtree(ROOT)
    base = ROOT / VARIANT
    base.mkdir(parents=True)
    rng = np.random.default_rng(5)
    st = stats(rng)
    s2, s1, month, aster = arrays(rng)
    h5 = base / f"{VARIANT}.h5"
    with h5py.File(h5, "w") as f:
        f.create_dataset("sentinel2", data=s2, chunks=(1, 13, H, W), compression="gzip")
        f.create_dataset("sentinel1", data=s1, chunks=(1, 8, H, W), compression="gzip")
        f.create_dataset("month", data=month)
        f.create_dataset("aster", data=aster)
    (base / f"{VARIANT}_band_stats.json").write_text(json.dumps(st, indent=1) + "\n")
    lat = rng.uniform(-60, 60, len(ROWS))

    def table(rows, idx_type):
        return pa.table({
            "id": [r[0] for r in rows],
            "split": [r[1] for r in rows],
            "sensor": pa.array([r[2] for r in rows], type=pa.list_(pa.string())),
            "hf5_idx": pa.array([np.nan if r[3] is None else r[3] for r in rows], type=idx_type),
            "s2_type": [r[4] for r in rows],
            "lat": lat[: len(rows)],
        })

    pq.write_table(table(ROWS, pa.float64()), base / f"{VARIANT}.parquet")
    pq.write_table(table([r for r in ROWS if r[3] is not None], pa.int64()), ROOT / "int_index.parquet")

    bad = ROOT / "bad_v001"
    bad.mkdir()
    with h5py.File(bad / "bad_v001.h5", "w") as f:
        f.create_dataset("sentinel2", data=s2[:2, :12])
        f.create_dataset("sentinel1", data=s1[:2])
        f.create_dataset("month", data=month[:2])
    (bad / "bad_v001_band_stats.json").write_text(json.dumps(st) + "\n")
    pq.write_table(table(ROWS[:1], pa.int64()).replace_schema_metadata(None), bad / "bad_v001.parquet")

    blob = bytearray()
    expected = {"variant": VARIANT, "splits": {}}
    with h5py.File(h5, "r") as f:
        for split in ["train", "eval", "all"]:
            samples = []
            for row in keep(split):
                if row[0] == "t8":
                    samples.append({"id": row[0], "hf5_idx": row[3], "empty_sensor": "sentinel1"})
                    continue
                entry = {"id": row[0], "hf5_idx": row[3], "s2_type": row[4]}
                for modality, (kept, ids, img) in sample(f, st, row).items():
                    raw = img.astype("<f4").tobytes()
                    entry[modality] = {"kept": kept, "chn_ids": ids, "shape": list(img.shape),
                                       "offset": len(blob), "nbytes": len(raw)}
                    blob += raw
                samples.append(entry)
            expected["splits"][split] = samples
    (ROOT / "expected.bin").write_bytes(bytes(blob))
    (ROOT / "expected.json").write_text(json.dumps(expected, indent=1) + "\n")


if __name__ == "__main__":
    main()
