#!/usr/bin/env python3
"""Writes tiny synthetic evaluation datasets in their real on-disk layouts (spec §5.7, §5.9)
under tests/fixtures/eval/datasets/, for the `panopticon eval` tests.

    /usr/bin/python3 scripts/gen_eval_dataset_fixtures.py eurosat resisc45
    ~/.cache/panopticon-venv/bin/python scripts/gen_eval_dataset_fixtures.py benv2 corine geobench separable

EuroSAT-SAR and RESISC45 need GDAL (osgeo) and numpy; BigEarthNet v2 and Corine need numpy,
torch (dataset.pt), PyYAML, pyarrow, rasterio and h5py (the venv). Deterministic (seeded). Each class gets
its own pattern plus noise, so a frozen model separates some classes and the kNN /
linear-probe numbers are not trivially constant. What the Rust loaders must find (targets,
chn_ids from the spec's band tables, normalised pixels) goes to `<dataset>/expected.json`.

Layouts:
  eurosat_SAR/{train,val,test,small_train,small_val,small_test}.csv  (filepath,class_name)
  eurosat_SAR/<class>/<class>_<i>.tif      16x16, 2 bands float32 (VV, VH in dB), deflate
  resisc45/resisc45-{train,val,test}.txt   (file names)
  resisc45/NWPU-RESISC45/<class>/<class>_<nnn>.jpg   16x16 RGB JPEG
  benv2/wds/{train,validation,test}-{s1,s2,all}/dataset-NNNNNN.tar  webdataset shards of
      <key>.img.npy (f32 (C, 8, 8), raw values) + <key>.label.npy (bool (19,)), next to
      dataset.yaml (sensor, num_classes, nsamples_per_shard) and dataset.pt ({mean, std})
  benv2/raw/metadata.parquet (patch_id, labels, split, s1_name, s2v1_name, country)
  benv2/raw/BigEarthNet-S1/<tile>/<s1_name>/<s1_name>_{VH,VV}.tif   float32 dB
  benv2/raw/BigEarthNet-S2/<tile>/<patch_id>/<patch_id>_B??.tif     uint16 (2-6 px)
  geobench/classification_v1.0/m-so2sat/{default_partition.json,band_stats.json,id_NNNNN.hdf5}
      18 float32 4x4 band datasets + a pickled attribute dict (bands_order, label)
  geobench/classification_v1.0/m-bigearthnet/{default_partition.json,band_stats.json,id_NNNN.hdf5}
      12 float32 8x8 S2 band datasets + a pickled attribute dict whose `label` is the numpy
      int64 (43,) multi-hot array and whose per-band dicts hold `band_info` objects (class
      geobench.dataset.SpectralBand, rebuilt with NEWOBJ + BUILD), as GeoBench writes them
  geobench/bad_labels/m-bigearthnet/  three samples with malformed labels (42 entries, a 2, an int)
  geobench/pickles.json  pickle.dumps of GeoBench-like values (protocols 2-5, numpy arrays of
      several dtypes / byte orders / memory orders) with their JSON rendering
  separable/eurosat_SAR/{train,val,test}.csv + <class>/<class>_<i>.tif   a genuinely
      separable 4-class EuroSAT-SAR (16x16 float32 GeoTIFFs written with rasterio): each class
      has its own stripe orientation / backscatter level, so the probes must reach > 90 %
      top-1 through the tiny model
  spectral_earth/splits/corine/{train,val,test}.txt
  spectral_earth/spectral_earth_downstream_datasets/enmap_corine/{enmap,corine}/<tile>/<patch>.tif
      202-band int16 EnMAP reflectance x10000 (4x4) and 1-band uint16 CLC codes
"""
import io
import json
import os
import shutil
import sys
import tarfile

import numpy as np

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
    from osgeo import gdal
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
    from osgeo import gdal
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


BEN_SIZE = 8
BEN_KEYS = {"train": [4, 4, 4], "validation": [6], "test": [6]}  # samples per shard
# Published BENv2 dataset.pt statistics (spec §5.9): S1 in file order VH, VV; S2 B01..B12
# without B10, B8A after B08.
BEN_S1_MEAN = [-19.352558135986328, -12.643863677978516]
BEN_S1_STD = [5.590505599975586, 5.133493900299072]
BEN_S2_MEAN = [360.64678955078125, 438.3720703125, 614.0556640625, 588.4096069335938,
               942.7476806640625, 1769.8486328125, 2049.475830078125, 2193.2919921875,
               2235.48681640625, 2241.10595703125, 1568.2115478515625, 997.715087890625]
BEN_S2_STD = [563.1734008789062, 607.02685546875, 603.2968139648438, 684.56884765625,
              727.5784301757812, 1087.4288330078125, 1261.4302978515625, 1369.3717041015625,
              1342.490478515625, 1294.35546875, 1063.9197998046875, 806.8846435546875]
# chn_ids of the registry band lists, copied from the spec's table (spec §5.3), not from
# the Rust registry: ben-s1, ben-s2, ben-s1s2.
BEN_CHN_IDS = {"s1": [-1, -2],
               "s2": [442, 492, 559, 664, 704, 740, 782, 827, 864, 945, 1613, 2203],
               "all": [-1, -2, 442, 492, 559, 664, 704, 740, 782, 827, 864, 945, 1613, 2203]}
# Four land-cover "scenes", each with its typical 19-class labels; extra labels are random.
BEN_SCENES = [[0, 1], [2, 5, 6], [8, 9, 10], [17, 18]]


def npy_bytes(arr):
    buf = io.BytesIO()
    np.save(buf, arr)
    return buf.getvalue()


def benv2(rng):
    import torch
    import yaml
    root = os.path.join(ROOT, "benv2", "wds")
    shutil.rmtree(os.path.join(ROOT, "benv2"), ignore_errors=True)
    expected = {"size": BEN_SIZE, "chn_ids": BEN_CHN_IDS, "splits": {}}
    stats = {"s1": (BEN_S1_MEAN, BEN_S1_STD), "s2": (BEN_S2_MEAN, BEN_S2_STD),
             "all": (BEN_S1_MEAN + BEN_S2_MEAN, BEN_S1_STD + BEN_S2_STD)}
    sensor = {"s1": "s1", "s2": "s2", "all": "s1s2"}
    n = 0
    for split, shards in BEN_KEYS.items():
        samples = []
        for si, count in enumerate(shards):
            for j in range(count):
                n += 1
                scene = n % len(BEN_SCENES)
                label = np.zeros(19, dtype=bool)
                label[BEN_SCENES[scene]] = True
                label[rng.integers(0, 19)] |= rng.random() < 0.3
                key = f"S2A_MSIL2A_20170613T101031_N9999_R022_T33UUP_{n:02d}_{scene}"
                p = np.stack([pattern(scene + c % 3, 6, rng)[:BEN_SIZE, :BEN_SIZE]
                              for c in range(14)])
                samples.append({"shard": si, "key": key, "label": label, "pattern": p})
        split_exp = {"keys": [], "targets": [], "shards": [], "first_normalised": {}}
        for s in samples:
            split_exp["keys"].append(s["key"])
            split_exp["shards"].append(f"dataset-{s['shard']:06d}.tar")
            split_exp["targets"].append([int(v) for v in s["label"]])
        for bands in ("s1", "s2", "all"):
            mean, std = (np.array(v, dtype=np.float32) for v in stats[bands])
            d = os.path.join(root, f"{split}-{bands}")
            os.makedirs(d)
            counts = {}
            for si in range(len(shards)):
                name = f"dataset-{si:06d}.tar"
                with tarfile.open(os.path.join(d, name), "w", format=tarfile.USTAR_FORMAT) as tar:
                    members = [s for s in samples if s["shard"] == si]
                    counts[name] = len(members)
                    for s in members:
                        chans = {"s1": s["pattern"][:2], "s2": s["pattern"][2:],
                                 "all": s["pattern"]}[bands]
                        img = (mean[:, None, None] + std[:, None, None] * chans).astype(np.float32)
                        for ext, arr in (("img.npy", img), ("label.npy", s["label"])):
                            data = npy_bytes(arr)
                            info = tarfile.TarInfo(f"{s['key']}.{ext}")
                            info.size = len(data)
                            info.mtime = 1700000000
                            tar.addfile(info, io.BytesIO(data))
                        if s is samples[0]:
                            norm = (torch.from_numpy(img) - torch.tensor(mean)[:, None, None]) \
                                / torch.tensor(std)[:, None, None]
                            split_exp["first_normalised"][bands] = \
                                [float(v) for v in norm.reshape(-1)]
            with open(os.path.join(d, "dataset.yaml"), "w") as f:
                yaml.safe_dump({"sensor": sensor[bands], "num_classes": 19,
                                "nsamples_per_shard": counts}, f)
            torch.save({"mean": torch.tensor(mean), "std": torch.tensor(std)},
                       os.path.join(d, "dataset.pt"))
        expected["splits"][split] = split_exp
    with open(os.path.join(ROOT, "benv2", "expected.json"), "w") as f:
        json.dump(expected, f)


BEN19 = ["Urban fabric", "Industrial or commercial units", "Arable land", "Permanent crops",
         "Pastures", "Complex cultivation patterns",
         "Land principally occupied by agriculture, with significant areas of natural vegetation",
         "Agro-forestry areas", "Broad-leaved forest", "Coniferous forest", "Mixed forest",
         "Natural grassland and sparsely vegetated areas",
         "Moors, heathland and sclerophyllous vegetation", "Transitional woodland, shrub",
         "Beaches, dunes, sands", "Inland wetlands", "Coastal wetlands", "Inland waters",
         "Marine waters"]
# Native band sizes, scaled down from 120/60/20 px (10/20/60 m) to keep the fixture small;
# the loader resamples every band to 120 x 120.
BEN_RAW_S2 = {"B01": 2, "B02": 6, "B03": 6, "B04": 6, "B05": 3, "B06": 3, "B07": 3, "B08": 6,
              "B8A": 3, "B09": 2, "B11": 3, "B12": 3}
BEN_RAW_SPLITS = {"train": 6, "validation": 3, "test": 3}
BEN_RAW_PIXELS = [(0, 0), (0, 119), (37, 53), (60, 60), (119, 0), (119, 119)]


def benv2_raw(rng):
    """Raw BigEarthNet v2 folders + metadata.parquet; expected values resampled with torch's
    bilinear (align_corners=False), rounded half away from zero (int32), normalised."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import rasterio
    import torch
    import torch.nn.functional as F
    root = os.path.join(ROOT, "benv2", "raw")
    shutil.rmtree(root, ignore_errors=True)
    rows = {"patch_id": [], "labels": [], "split": [], "s1_name": [], "s2v1_name": [],
            "country": []}
    expected = {"size": 120, "pixels": BEN_RAW_PIXELS, "splits": {}}
    mean = np.array(BEN_S1_MEAN + BEN_S2_MEAN, dtype=np.float32)
    std = np.array(BEN_S1_STD + BEN_S2_STD, dtype=np.float32)
    n = 0
    for split, count in BEN_RAW_SPLITS.items():
        e = {"patch_ids": [], "targets": []}
        for _ in range(count):
            n += 1
            scene = n % len(BEN_SCENES)
            patch = f"S2B_MSIL2A_20180421T100029_N9999_R122_T34VER_{n:02d}_{scene:02d}"
            s1 = f"S1B_IW_GRDH_1SDV_20180421T154003_34VER_{n:02d}_{scene:02d}"
            labels = [BEN19[c] for c in BEN_SCENES[scene]]
            bands = []  # (path, array) in loader order: S1 VH, VV, then S2
            for pol in ("VH", "VV"):
                arr = (mean[0 if pol == "VH" else 1] + 4 * pattern(scene, 6, rng)[:6, :6]
                       ).astype(np.float32)
                d = os.path.join(root, "BigEarthNet-S1", s1.rsplit("_", 2)[0], s1)
                bands.append((os.path.join(d, f"{s1}_{pol}.tif"), arr, "float32"))
            for bi, (b, size) in enumerate(BEN_RAW_S2.items()):
                p = pattern(scene + bi % 3, 6, rng)[:size, :size]
                arr = np.clip(mean[2 + bi] + std[2 + bi] * p, 0, 65535).astype(np.uint16)
                d = os.path.join(root, "BigEarthNet-S2", patch.rsplit("_", 2)[0], patch)
                bands.append((os.path.join(d, f"{patch}_{b}.tif"), arr, "uint16"))
            for path, arr, dtype in bands:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with rasterio.open(path, "w", driver="GTiff", width=arr.shape[1],
                                   height=arr.shape[0], count=1, dtype=dtype) as f:
                    f.write(arr[None])
            rows["patch_id"].append(patch)
            rows["labels"].append(labels)
            rows["split"].append(split)
            rows["s1_name"].append(s1)
            rows["s2v1_name"].append(patch.replace("S2B_MSIL2A", "S2B_MSIL1C"))
            rows["country"].append("Finland")
            e["patch_ids"].append(patch)
            t = [0] * 19
            for c in BEN_SCENES[scene]:
                t[c] = 1
            e["targets"].append(t)
            if len(e["patch_ids"]) == 1:
                vals = []
                for c, (_, arr, _) in enumerate(bands):
                    x = torch.from_numpy(arr.astype(np.float64))[None, None]
                    up = F.interpolate(x, size=(120, 120), mode="bilinear",
                                       align_corners=False)[0, 0].numpy()
                    up = np.sign(up) * np.floor(np.abs(up) + 0.5)  # int32, half away
                    norm = (up.astype(np.float32) - mean[c]) / std[c]
                    vals.append([float(norm[r, q]) for r, q in BEN_RAW_PIXELS]
                                + [float(norm.astype(np.float64).mean())])
                e["first"] = vals
        expected["splits"][split] = e
    table = pa.table({k: pa.array(v) for k, v in rows.items()})
    pq.write_table(table, os.path.join(root, "metadata.parquet"))
    with open(os.path.join(root, "expected.json"), "w") as f:
        json.dump(expected, f)


# CLC code -> 43-class index and 43 -> 19 (spec §5.7), written out independently.
CORINE_43 = {111: 0, 112: 1, 121: 2, 122: 43, 123: 43, 124: 43, 131: 43, 132: 43, 133: 43,
             141: 43, 142: 43, 211: 11, 212: 12, 213: 13, 221: 14, 222: 15, 223: 16, 231: 17,
             241: 18, 242: 19, 243: 20, 244: 21, 311: 22, 312: 23, 313: 24, 321: 25, 322: 26,
             323: 27, 324: 28, 331: 29, 332: 43, 333: 31, 334: 43, 335: 43, 411: 33, 412: 34,
             421: 35, 422: 36, 423: 43, 511: 38, 512: 39, 521: 40, 522: 41, 523: 42, 999: 43}
C43_TO_19 = {0: 0, 1: 0, 2: 1, 11: 2, 12: 2, 13: 2, 14: 3, 15: 3, 16: 3, 18: 3, 17: 4, 19: 5,
             20: 6, 21: 7, 22: 8, 23: 9, 24: 10, 25: 11, 31: 11, 26: 12, 27: 12, 28: 13,
             29: 14, 33: 15, 34: 15, 35: 16, 36: 16, 38: 17, 39: 17, 40: 18, 41: 18, 42: 18}
CORINE_SCENES = [[111, 121, 999], [211, 242], [311, 312, 324], [511, 523, 131]]
CORINE_SPLITS = {"train": 8, "val": 4, "test": 4}
CORINE_SELECT = [21, 111, 157, 171]  # the corine-4c ChnSelect; ids 520, 1116, 2086, 2207


def enmap_stats():
    """ENMAP_MEAN / ENMAP_STD of spec §5.7, parsed from the spec text."""
    spec = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "shared",
                        "design", "panopticon-spec.md")
    spec = os.environ.get("PANOPTICON_SPEC", spec)
    text = open(spec).read()
    out = []
    for name in ("ENMAP_MEAN (202): [", "ENMAP_STD (202): ["):
        start = text.index(name) + len(name)
        out.append(np.array([float(v) for v in text[start:text.index("]", start)].split(",")],
                            dtype=np.float32))
    return out


def corine(rng):
    import rasterio
    root = os.path.join(ROOT, "spectral_earth")
    shutil.rmtree(root, ignore_errors=True)
    base = os.path.join(root, "spectral_earth_downstream_datasets", "enmap_corine")
    mean, std = enmap_stats()
    size = 4
    profile = {"driver": "GTiff", "width": size, "height": size, "compress": "deflate"}
    expected = {"select": CORINE_SELECT, "splits": {}}
    n = 0
    for split, count in CORINE_SPLITS.items():
        entries, targets = [], []
        for _ in range(count):
            n += 1
            scene = n % len(CORINE_SCENES)
            entry = f"tile_{scene}/patch_{n:02d}.tif"
            codes = rng.choice(CORINE_SCENES[scene], size=(size, size)).astype(np.uint16)
            codes[0, 0] = CORINE_SCENES[scene][0]
            # Reflectance x10000 around the dataset mean, a scene-specific spectral shape,
            # some values outside [0, 10000] to exercise the clamp.
            shape = np.sin(np.arange(202) / (8.0 + 6 * scene))[:, None, None]
            refl = (mean[:, None, None] + std[:, None, None] * (shape + 0.3 * rng.standard_normal(
                (202, size, size)))) * 10000
            refl[5, 0, 0] = -50
            refl[6, 0, 1] = 12000
            raw = np.round(refl).astype(np.int16)
            for sub, arr, dtype in (("enmap", raw, "int16"), ("corine", codes[None], "uint16")):
                path = os.path.join(base, sub, entry)
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with rasterio.open(path, "w", count=arr.shape[0], dtype=dtype, **profile) as f:
                    f.write(arr)
            t = np.zeros(19, dtype=int)
            for c in np.unique(codes):
                c19 = C43_TO_19.get(CORINE_43[int(c)])
                if c19 is not None:
                    t[c19] = 1
            entries.append(entry)
            targets.append(t.tolist())
            if len(entries) == 1:
                x = np.clip(raw.astype(np.float32), 0, 10000) / 10000
                norm = (x - mean[:, None, None]) / std[:, None, None]
                expected["splits"].setdefault(split, {})["first_selected_normalised"] = \
                    [float(v) for v in norm[CORINE_SELECT].reshape(-1)]
        os.makedirs(os.path.join(root, "splits", "corine"), exist_ok=True)
        with open(os.path.join(root, "splits", "corine", f"{split}.txt"), "w") as f:
            f.write("\n".join(entries) + "\n")
        expected["splits"][split].update(entries=entries, targets=targets)
    with open(os.path.join(root, "expected.json"), "w") as f:
        json.dump(expected, f)


SEPARABLE_CLASSES = EUROSAT_CLASSES[:4]  # label indices 0..3: `num_classes = 4` in the configs
SEPARABLE_SPLITS = {"train": 8, "val": 3, "test": 6}


def separable_image(ci, rng):
    """Class 0: vertical stripes; 1: horizontal stripes; 2: bright and flat; 3: dark
    checkerboard. Random phase and mild noise, so no two samples are equal. Returns VV, VH
    in dB around the EuroSAT-SAR means (scaled by their stds)."""
    y, x = np.mgrid[0:SIZE, 0:SIZE]
    ph = rng.integers(0, 4)
    if ci == 0:
        p = np.where((x + ph) % 4 < 2, 1.5, -1.5)
    elif ci == 1:
        p = np.where((y + ph) % 4 < 2, 1.5, -1.5)
    elif ci == 2:
        p = np.full((SIZE, SIZE), 2.0)
    else:
        p = np.where(((x + ph) // 2 + y // 2) % 2 == 0, -1.0, -2.5)
    p = p + 0.15 * rng.standard_normal((SIZE, SIZE))
    vv = -11.6568 + 6.0908 * p
    vh = -18.4975 + 6.1924 * (p if ci != 2 else -p)
    return np.stack([vv, vh]).astype(np.float32)


def separable(rng):
    import rasterio
    root = os.path.join(ROOT, "separable", "eurosat_SAR")
    shutil.rmtree(os.path.join(ROOT, "separable"), ignore_errors=True)
    rows = {s: [] for s in SEPARABLE_SPLITS}
    for ci, cls in enumerate(SEPARABLE_CLASSES):
        os.makedirs(os.path.join(root, cls))
        i = 0
        for split, n in SEPARABLE_SPLITS.items():
            for _ in range(n):
                i += 1
                rel = f"{cls}/{cls}_{i}.tif"
                img = separable_image(ci, rng)
                with rasterio.open(os.path.join(root, rel), "w", driver="GTiff", width=SIZE,
                                   height=SIZE, count=2, dtype="float32",
                                   compress="deflate", predictor=3) as ds:
                    ds.write(img)
                rows[split].append((rel, cls))
    for split, r in rows.items():
        with open(os.path.join(root, f"{split}.csv"), "w") as f:
            f.write("filepath,class_name\n")
            for rel, cls in r:
                f.write(f"{rel},{cls}\n")


# m-so2sat's 18 bands in the file's bands_order (8 Sentinel-1 parts, then 10 Sentinel-2).
SO2SAT_BANDS = ["01 - VH.Real", "02 - VH.Imaginary", "03 - VV.Real", "04 - VV.Imaginary",
                "05 - VH.LEE Filtered", "06 - VV.LEE Filtered", "07 - VH.LEE Filtered.Real",
                "08 - VV.LEE Filtered.Imaginary", "02 - Blue", "03 - Green", "04 - Red",
                "05 - Vegetation Red Edge", "06 - Vegetation Red Edge.1",
                "07 - Vegetation Red Edge.2", "08 - NIR", "08A - Vegetation Red Edge",
                "11 - SWIR", "12 - SWIR.1"]
SO2SAT_KEEP = [0, 2, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17]
# spec §5.9: chn_ids after the selection.
SO2SAT_IDS = [-2, -1, 492, 559, 664, 704, 740, 782, 827, 864, 1613, 2203]
GEOBENCH_SPLITS = {"train": 8, "valid": 4, "test": 4}


def geobench(rng):
    """GeoBench classification_v1.0/m-so2sat: per-sample HDF5 (one dataset per band, a
    pickled attribute dict with bands_order and label), default_partition.json,
    band_stats.json."""
    import pickle
    import h5py
    root = os.path.join(ROOT, "geobench", "classification_v1.0", "m-so2sat")
    shutil.rmtree(os.path.join(ROOT, "geobench"), ignore_errors=True)
    os.makedirs(root)
    size = 4
    mean = rng.normal(0, 50, len(SO2SAT_BANDS)).round(3)
    std = rng.uniform(0.5, 20, len(SO2SAT_BANDS)).round(3)
    stats = {b: {"mean": float(m), "std": float(s), "min": float(m - 3 * s),
                 "max": float(m + 3 * s)} for b, m, s in zip(SO2SAT_BANDS, mean, std)}
    stats["label"] = {"mean": 8.0, "std": 4.0, "min": 0.0, "max": 16.0}
    partition, expected = {}, {"chn_ids": SO2SAT_IDS, "splits": {}}
    n = 0
    for split, count in GEOBENCH_SPLITS.items():
        names, labels = [], []
        for _ in range(count):
            n += 1
            label = n % 4
            name = f"id_{n:05d}"
            bands = np.stack([mean[c] + std[c] * pattern(label + c % 2, 5, rng)[:size, :size]
                              for c in range(len(SO2SAT_BANDS))]).astype(np.float32)
            attrs = {"bands_order": SO2SAT_BANDS, "label": label,
                     **{b: {"spatial_resolution": 10.0, "date": None} for b in SO2SAT_BANDS}}
            with h5py.File(os.path.join(root, f"{name}.hdf5"), "w") as f:
                for b, arr in zip(SO2SAT_BANDS, bands):
                    f.create_dataset(b, data=arr)
                f.attrs["pickle"] = str(pickle.dumps(attrs))
            names.append(name)
            labels.append(label)
            if len(names) == 1:
                m32, s32 = mean.astype(np.float32), std.astype(np.float32)
                norm = (bands - m32[:, None, None]) / s32[:, None, None]
                expected["splits"][split] = {
                    "first_normalised": [float(v) for v in norm[SO2SAT_KEEP].reshape(-1)]}
        partition[split] = names
        expected["splits"][split].update(names=names, labels=labels)
    with open(os.path.join(root, "default_partition.json"), "w") as f:
        json.dump(partition, f)
    with open(os.path.join(root, "band_stats.json"), "w") as f:
        json.dump(stats, f)
    with open(os.path.join(ROOT, "geobench", "expected.json"), "w") as f:
        json.dump(expected, f)


# GeoBench's band names of m-bigearthnet (sentinel2_13_bands[0:10] + [-2:], no B10).
BIGEARTHNET_BANDS = ["01 - Coastal aerosol", "02 - Blue", "03 - Green", "04 - Red",
                     "05 - Vegetation Red Edge", "06 - Vegetation Red Edge",
                     "07 - Vegetation Red Edge", "08 - NIR", "08A - Vegetation Red Edge",
                     "09 - Water vapour", "11 - SWIR", "12 - SWIR"]
# Registry chn_ids of eval/m-bigearthnet (spec §5.3).
BIGEARTHNET_IDS = [442, 492, 559, 664, 704, 740, 782, 827, 864, 945, 1613, 2203]
# Label sets (of the 43 BigEarthNet-v1 classes) the synthetic scenes carry.
BIGEARTHNET_SCENES = [[0, 11], [2, 12, 20], [23, 24, 25], [40, 42]]


def geobench_classes():
    """Stand-ins for geobench.dataset.SpectralBand, importable under GeoBench's module name
    so pickle writes the same GLOBAL / NEWOBJ / BUILD records as the real files."""
    import types
    if "geobench.dataset" in sys.modules:
        return sys.modules["geobench.dataset"].SpectralBand
    pkg, mod = types.ModuleType("geobench"), types.ModuleType("geobench.dataset")

    class SpectralBand:
        def __init__(self, name, alt_names, spatial_resolution, wavelength):
            self.name, self.alt_names = name, alt_names
            self.spatial_resolution, self.wavelength = spatial_resolution, wavelength

    SpectralBand.__module__, SpectralBand.__qualname__ = "geobench.dataset", "SpectralBand"
    mod.SpectralBand = SpectralBand
    pkg.dataset = mod
    sys.modules["geobench"], sys.modules["geobench.dataset"] = pkg, mod
    return SpectralBand


def geobench_bigearthnet(rng):
    """GeoBench classification_v1.0/m-bigearthnet (43-label multilabel, 12 S2 bands)."""
    import pickle
    import h5py
    SpectralBand = geobench_classes()
    root = os.path.join(ROOT, "geobench", "classification_v1.0", "m-bigearthnet")
    shutil.rmtree(root, ignore_errors=True)
    os.makedirs(root)
    size = 8
    mean = rng.uniform(200, 2500, len(BIGEARTHNET_BANDS)).round(4)
    std = rng.uniform(300, 1300, len(BIGEARTHNET_BANDS)).round(4)
    stats = {b: {"mean": float(m), "std": float(s), "min": 0.0, "max": float(m + 4 * s),
                 "median": float(m), "percentile_0.1": 0.0, "percentile_99.9": float(m + 3 * s)}
             for b, m, s in zip(BIGEARTHNET_BANDS, mean, std)}
    infos = [SpectralBand(b, (f"B{b[:3].strip()}",), 10.0, 0.5 + 0.1 * i)
             for i, b in enumerate(BIGEARTHNET_BANDS)]
    partition, expected = {}, {"chn_ids": BIGEARTHNET_IDS, "splits": {}}
    n = 0
    for split, count in GEOBENCH_SPLITS.items():
        names, targets = [], []
        for _ in range(count):
            scene = n % len(BIGEARTHNET_SCENES)
            name = f"id_{n:04d}"
            n += 1
            # torchgeo's 43-class target (torch.long) → np.array, as GeoBench's converter.
            label = np.zeros(43, dtype=np.int64)
            label[BIGEARTHNET_SCENES[scene]] = 1
            bands = np.stack([mean[c] + std[c] * pattern(scene + c % 3, 6, rng)[:size, :size]
                              for c in range(len(BIGEARTHNET_BANDS))]).astype(np.float32)
            attrs = {"label": label}
            for b, info in zip(BIGEARTHNET_BANDS, infos):
                attrs[b] = dict(date=None, date_id=None, spatial_resolution=10.0,
                                band_info=info, meta_info=None, transform=None, crs=None)
            attrs["bands_order"] = BIGEARTHNET_BANDS
            with h5py.File(os.path.join(root, f"{name}.hdf5"), "w") as f:
                for b, arr in zip(BIGEARTHNET_BANDS, bands):
                    f.create_dataset(b, data=arr)
                f.attrs["pickle"] = str(pickle.dumps(attrs))
            names.append(name)
            targets.append([int(v) for v in label])
            if len(names) == 1:
                m32, s32 = mean.astype(np.float32), std.astype(np.float32)
                norm = (bands - m32[:, None, None]) / s32[:, None, None]
                expected["splits"][split] = {
                    "first_normalised": [float(v) for v in norm.reshape(-1)]}
        partition[split] = names
        expected["splits"][split].update(names=names, targets=targets)
    with open(os.path.join(root, "default_partition.json"), "w") as f:
        json.dump(partition, f)
    with open(os.path.join(root, "band_stats.json"), "w") as f:
        json.dump(stats, f)
    with open(os.path.join(ROOT, "geobench", "expected_bigearthnet.json"), "w") as f:
        json.dump(expected, f)
    # Malformed labels, one sample per split (1x1 bands): 42 labels, a 2, an int.
    bad = os.path.join(ROOT, "geobench", "bad_labels", "m-bigearthnet")
    shutil.rmtree(os.path.dirname(bad), ignore_errors=True)
    os.makedirs(bad)
    labels = {"train": np.zeros(42, dtype=np.int64),
              "valid": np.array([0, 2] + [0] * 41, dtype=np.int64), "test": 3}
    for split, label in labels.items():
        with h5py.File(os.path.join(bad, f"bad_{split}.hdf5"), "w") as f:
            for b in BIGEARTHNET_BANDS:
                f.create_dataset(b, data=np.zeros((1, 1), np.float32))
            f.attrs["pickle"] = str(pickle.dumps(
                {"label": label, "bands_order": BIGEARTHNET_BANDS}))
    with open(os.path.join(bad, "default_partition.json"), "w") as f:
        json.dump({s: [f"bad_{s}"] for s in labels}, f)
    with open(os.path.join(bad, "band_stats.json"), "w") as f:
        json.dump(stats, f)


def pickle_json(v):
    """JSON rendering of a pickled value, as the Rust test renders `Py`."""
    if isinstance(v, np.ndarray):
        return {"ndarray": list(v.shape), "values": [float(x) for x in v.reshape(-1)]}
    if isinstance(v, dict):
        return {"dict": [[pickle_json(k), pickle_json(x)] for k, x in v.items()]}
    if isinstance(v, tuple):
        return {"tuple": [pickle_json(x) for x in v]}
    if isinstance(v, list):
        return [pickle_json(x) for x in v]
    if isinstance(v, bytes):
        return {"bytes": list(v)}
    if isinstance(v, bool) or v is None or isinstance(v, (int, float, str)):
        return v
    return {"object": f"{type(v).__module__}.{type(v).__qualname__}"}


def geobench_pickles():
    import pickle
    SpectralBand = geobench_classes()
    shared = ["a", "b"]
    values = [
        {"label": np.array([0, 1, 1, 0], dtype=np.int64), "bands_order": ["01 - x", "02 - y"]},
        {"m": np.arange(6, dtype=">i4").reshape(2, 3), "f": np.asfortranarray(
            np.arange(6, dtype=np.float32).reshape(2, 3) / 4)},
        {"u": np.array([3, 255], dtype=np.uint8), "b": np.array([True, False]),
         "d": np.array([[1.5, -2.25]], dtype=np.float64), "i16": np.array([-300], dtype="<i2")},
        {"x": shared, "y": shared, "t": (1, -1, 2 ** 40, -(2 ** 40), 1.25, None, True),
         "band": SpectralBand("02 - Blue", ("B02",), 10.0, 0.49), "by": b"\x00\xff", "s": "é"},
    ]
    cases = []
    for proto in (2, 3, 4, 5):
        for v in values:
            cases.append({"protocol": proto, "hex": pickle.dumps(v, protocol=proto).hex(),
                          "json": pickle_json(v)})
    with open(os.path.join(ROOT, "geobench", "pickles.json"), "w") as f:
        json.dump(cases, f)


def main():
    import warnings
    warnings.filterwarnings("ignore", message="Dataset has no geotransform")
    parts = sys.argv[1:] or ["eurosat", "resisc45", "benv2", "corine", "geobench", "separable"]
    # EuroSAT-SAR and RESISC45 share one random stream (generate them together); the
    # others have their own seeds, so regenerating them leaves the first two unchanged.
    rng = np.random.default_rng(20250307)
    if "eurosat" in parts:
        eurosat(rng)
    if "resisc45" in parts:
        resisc(rng)
    if "benv2" in parts:
        benv2(np.random.default_rng(20250309))
        benv2_raw(np.random.default_rng(20250311))
    if "corine" in parts:
        corine(np.random.default_rng(20250310))
    if "separable" in parts:
        separable(np.random.default_rng(20250314))
    if "geobench" in parts:
        geobench(np.random.default_rng(20250312))
        geobench_bigearthnet(np.random.default_rng(20250313))
        geobench_pickles()


if __name__ == "__main__":
    main()
