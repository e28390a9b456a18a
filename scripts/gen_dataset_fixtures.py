#!/usr/bin/env python3
"""Writes tiny SpectralEarth, Corine and SatlasPretrain datasets in their upstream on-disk
layouts (spec §5.6, §5.7) under tests/fixtures/data/datasets/, plus expected.json with the
values the Rust loaders must produce, computed here independently (numpy float32, upstream's
operation order) from the tables of the spec, not from the Rust code.

Run with Debian's GDAL: /usr/bin/python3 scripts/gen_dataset_fixtures.py
(tested with GDAL 3.6.2, numpy 1.24). Deterministic: numpy RandomState(2024).
"""
import json
import os
import shutil

import numpy as np
from osgeo import gdal

gdal.UseExceptions()

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests", "fixtures",
                   "data", "datasets")
RNG = np.random.RandomState(2024)

# ---- tables copied from the spec (§5.3, §5.6, §5.7) ------------------------------------
SE_CHN_IDS = [418,424,429,434,439,444,449,454,459,463,468,473,477,482,487,491,496,501,506,510,515,520,525,530,535,540,545,550,555,561,566,571,577,582,588,593,599,605,611,616,622,628,635,641,647,653,660,666,673,679,686,693,699,706,713,720,727,734,741,749,756,763,771,778,786,793,801,808,816,824,832,839,847,855,863,871,879,887,895,901,903,911,911,920,921,928,931,936,941,944,951,952,960,961,968,972,977,982,985,993,993,1003,1014,1025,1036,1047,1059,1070,1081,1093,1104,1116,1128,1139,1151,1163,1175,1187,1199,1211,1223,1234,1246,1258,1270,1282,1530,1541,1553,1564,1575,1586,1597,1609,1620,1631,1642,1653,1663,1674,1685,1696,1706,1717,1728,1977,1986,1995,2005,2014,2023,2032,2041,2050,2059,2068,2077,2086,2095,2104,2113,2122,2130,2139,2148,2156,2165,2174,2182,2191,2199,2207,2216,2224,2232,2241,2249,2257,2265,2273,2282,2290,2298,2306,2314,2322,2330,2337,2345,2353,2361,2369,2376,2384,2392,2400,2407,2415,2422,2430,2437,2445]
ENMAP_MEAN = [float(v) for v in """0.0803, 0.0789, 0.0808, 0.0839, 0.0857, 0.0865, 0.0884, 0.0902, 0.091, 0.093, 0.094, 0.0946, 0.0956, 0.0975, 0.099, 0.0994, 0.1005, 0.1025, 0.1033, 0.1056, 0.1091, 0.111, 0.1132, 0.1163, 0.1193, 0.1225, 0.1246, 0.1268, 0.1294, 0.1316, 0.1336, 0.1349, 0.1355, 0.138, 0.1393, 0.1408, 0.1428, 0.1445, 0.1457, 0.1464, 0.1483, 0.1489, 0.1496, 0.1514, 0.1523, 0.1521, 0.1529, 0.1538, 0.1545, 0.1556, 0.1593, 0.1639, 0.1733, 0.1826, 0.1936, 0.2038, 0.2168, 0.2269, 0.2356, 0.2399, 0.2483, 0.2352, 0.2501, 0.2537, 0.2551, 0.2571, 0.2584, 0.2618, 0.2618, 0.2648, 0.2642, 0.2662, 0.2673, 0.2684, 0.2707, 0.2712, 0.2731, 0.2714, 0.2738, 0.2819, 0.2721, 0.276, 0.2711, 0.2606, 0.2862, 0.2802, 0.2692, 0.2826, 0.2919, 0.282, 0.2828, 0.2667, 0.2585, 0.2813, 0.2641, 0.2854, 0.2646, 0.2872, 0.2655, 0.2823, 0.2729, 0.2907, 0.2932, 0.2962, 0.2994, 0.3021, 0.3057, 0.3096, 0.311, 0.3127, 0.3128, 0.3019, 0.3218, 0.3122, 0.2918, 0.2943, 0.2947, 0.2965, 0.2962, 0.2966, 0.3, 0.304, 0.3068, 0.3097, 0.3156, 0.3147, 0.2305, 0.2342, 0.2381, 0.2417, 0.2455, 0.2491, 0.2524, 0.2565, 0.2599, 0.2621, 0.2638, 0.2659, 0.2664, 0.2663, 0.2658, 0.2645, 0.263, 0.2614, 0.2594, 0.1784, 0.188, 0.1758, 0.1638, 0.168, 0.1891, 0.1943, 0.1967, 0.1868, 0.1893, 0.1895, 0.1959, 0.1934, 0.1937, 0.195, 0.1965, 0.196, 0.198, 0.1975, 0.1975, 0.197, 0.1972, 0.1968, 0.1972, 0.1965, 0.1949, 0.1947, 0.1976, 0.1983, 0.1979, 0.1934, 0.1906, 0.1864, 0.1839, 0.1804, 0.1796, 0.1744, 0.1722, 0.1692, 0.1663, 0.1658, 0.1654, 0.1605, 0.1602, 0.1606, 0.1641, 0.1613, 0.1634, 0.1599, 0.1621, 0.1583, 0.1591, 0.1503, 0.1557, 0.1496, 0.153, 0.1355""".split(",")]
ENMAP_STD = [float(v) for v in """0.1522, 0.1513, 0.1514, 0.1525, 0.1525, 0.1518, 0.152, 0.1518, 0.1513, 0.1515, 0.1513, 0.151, 0.151, 0.1514, 0.1518, 0.1515, 0.1514, 0.1516, 0.1512, 0.1514, 0.1518, 0.1513, 0.1506, 0.1503, 0.1503, 0.1507, 0.1506, 0.1506, 0.1509, 0.1514, 0.1522, 0.1528, 0.1531, 0.1543, 0.155, 0.1555, 0.1561, 0.1566, 0.1571, 0.1574, 0.1583, 0.1583, 0.1578, 0.1587, 0.1596, 0.1597, 0.1602, 0.1607, 0.161, 0.1608, 0.1618, 0.1588, 0.1559, 0.1521, 0.1493, 0.1464, 0.1453, 0.1446, 0.145, 0.1446, 0.1471, 0.143, 0.1465, 0.146, 0.1455, 0.1451, 0.1448, 0.1454, 0.1452, 0.146, 0.1453, 0.146, 0.1458, 0.1458, 0.1457, 0.1441, 0.1441, 0.1422, 0.1416, 0.1387, 0.1395, 0.1371, 0.1377, 0.1332, 0.1391, 0.1398, 0.1303, 0.1469, 0.1362, 0.1454, 0.1328, 0.1388, 0.1348, 0.1329, 0.1339, 0.1344, 0.1336, 0.134, 0.133, 0.1331, 0.1331, 0.133, 0.1331, 0.1335, 0.1344, 0.1354, 0.1371, 0.1385, 0.1389, 0.1388, 0.1375, 0.1309, 0.1374, 0.1344, 0.128, 0.1304, 0.1307, 0.1312, 0.131, 0.1306, 0.1314, 0.1325, 0.1333, 0.1337, 0.1348, 0.1353, 0.1442, 0.1441, 0.1441, 0.1439, 0.1439, 0.1438, 0.1437, 0.1442, 0.1444, 0.1443, 0.1442, 0.1445, 0.1442, 0.144, 0.1436, 0.1431, 0.1429, 0.1427, 0.1421, 0.1394, 0.1441, 0.135, 0.1214, 0.1272, 0.1391, 0.1446, 0.1454, 0.1393, 0.1398, 0.1404, 0.1435, 0.1419, 0.1409, 0.1417, 0.141, 0.1406, 0.14, 0.139, 0.1368, 0.1353, 0.1332, 0.1321, 0.1304, 0.1289, 0.1254, 0.1243, 0.1257, 0.1274, 0.1271, 0.1259, 0.1248, 0.1244, 0.1235, 0.1233, 0.1226, 0.1204, 0.1187, 0.1191, 0.1166, 0.1166, 0.116, 0.114, 0.1126, 0.1147, 0.1169, 0.1161, 0.1161, 0.1156, 0.1164, 0.1167, 0.1149, 0.112, 0.115, 0.1157, 0.1174, 0.1121""".split(",")]
assert len(SE_CHN_IDS) == len(ENMAP_MEAN) == len(ENMAP_STD) == 202

CORINE_43 = {111: 0, 112: 1, 121: 2, 122: 43, 123: 43, 124: 43, 131: 43, 132: 43, 133: 43,
             141: 43, 142: 43, 211: 11, 212: 12, 213: 13, 221: 14, 222: 15, 223: 16, 231: 17,
             241: 18, 242: 19, 243: 20, 244: 21, 311: 22, 312: 23, 313: 24, 321: 25, 322: 26,
             323: 27, 324: 28, 331: 29, 332: 43, 333: 31, 334: 43, 335: 43, 411: 33, 412: 34,
             421: 35, 422: 36, 423: 43, 511: 38, 512: 39, 521: 40, 522: 41, 523: 42, 999: 43}
C43_TO_19 = {0: 0, 1: 0, 2: 1, 11: 2, 12: 2, 13: 2, 14: 3, 15: 3, 16: 3, 18: 3, 17: 4, 19: 5,
             20: 6, 21: 7, 22: 8, 23: 9, 24: 10, 25: 11, 31: 11, 26: 12, 27: 12, 28: 13,
             29: 14, 33: 15, 34: 15, 35: 16, 36: 16, 38: 17, 39: 17, 40: 18, 41: 18, 42: 18,
             43: None}

SATLAS = {  # sensor -> [(file stem, band, mean, std, chn_id)]
    "s2": [("tci", "B04", 0.3475, 0.2394, 664), ("tci", "B03", 0.3547, 0.1936, 559),
           ("tci", "B02", 0.3804, 0.1836, 492), ("b05", "B05", 0.3038, 0.1425, 704),
           ("b06", "B06", 0.3843, 0.1434, 740), ("b07", "B07", 0.4232, 0.1554, 782),
           ("b08", "B08", 0.4157, 0.1526, 827), ("b11", "B11", 0.3687, 0.1472, 1613),
           ("b12", "B12", 0.2847, 0.1264, 2203)],
    "landsat": [("b1", "B01", 0.4089, 0.1701, 442), ("b2", "B02", 0.3725, 0.1799, 482),
                ("b3", "B03", 0.3479, 0.1923, 560), ("b4", "B04", 0.3442, 0.2224, 654),
                ("b5", "B05", 0.6330, 0.2728, 864), ("b6", "B06", 0.5025, 0.2644, 1608),
                ("b7", "B07", 0.3665, 0.2348, 2203), ("b8", "B08", 0.3427, 0.2031, 596),
                ("b9", "B09", 0.0702, 0.0415, 1374), ("b10", "B10", 0.9373, 0.1482, 10847),
                ("b11", "B11", 0.9399, 0.1410, 12017)],
    "s1": [("vv", "VV", 0.5356, 0.0730, -1), ("vh", "VH", 0.4324, 0.0780, -2)],
}
# Native sizes scaled from 512/256/64 px to 16/8/2 px (Landsat pan 2x, thermal 1/4).
SATLAS_SIZE = {"s2": lambda stem: 8, "s1": lambda stem: 8,
               "landsat": lambda stem: {"b8": 16, "b10": 2, "b11": 2}.get(stem, 8)}


def write_tif(path, arr, gdal_type):
    """arr: (C, H, W)."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c, h, w = arr.shape
    ds = gdal.GetDriverByName("GTiff").Create(path, w, h, c, gdal_type,
                                              options=["COMPRESS=DEFLATE", "INTERLEAVE=PIXEL"])
    ds.SetGeoTransform([500000.0, 30.0, 0.0, 5300000.0, 0.0, -30.0])
    for b in range(c):
        ds.GetRasterBand(b + 1).WriteArray(arr[b])
    ds = None


def write_png(path, arr):
    """arr: (C, H, W) uint8, C in {1, 3}."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    c, h, w = arr.shape
    mem = gdal.GetDriverByName("MEM").Create("", w, h, c, gdal.GDT_Byte)
    for b in range(c):
        mem.GetRasterBand(b + 1).WriteArray(arr[b])
    gdal.GetDriverByName("PNG").CreateCopy(path, mem)
    mem = None
    aux = path + ".aux.xml"
    if os.path.exists(aux):
        os.remove(aux)


def normalise_enmap(raw):
    x = raw.astype(np.float32)
    x = np.clip(x, np.float32(0.0), np.float32(10000.0))
    x = (x - np.float32(0.0)) / (np.float32(10000.0) - np.float32(0.0))
    mean = np.array(ENMAP_MEAN, dtype=np.float32)[:, None, None]
    std = np.array(ENMAP_STD, dtype=np.float32)[:, None, None]
    return (x - mean) / std


def enmap_summary(norm):
    """What the test compares: every value at two pixels and per-band sums (float64)."""
    return {
        "shape": list(norm.shape),
        "pixel_0_0": [float(v) for v in norm[:, 0, 0]],
        "pixel_5_7": [float(v) for v in norm[:, 5, 7]],
        "band_sums": [float(v) for v in norm.astype(np.float64).sum(axis=(1, 2))],
    }


def gen_spectral_earth(expected):
    root = os.path.join(OUT, "spectral_earth")
    entries = ["tile_a/patch_0.tif", "tile_a/patch_1.tif", "tile_b/patch_0.tif"]
    samples = []
    for e in entries:
        raw = RNG.randint(-500, 12001, size=(202, 8, 8)).astype(np.int16)
        raw[0, 0, 0], raw[1, 0, 0], raw[2, 0, 0] = -32768, 10000, 0  # clamp edges
        write_tif(os.path.join(root, "enmap", e), raw, gdal.GDT_Int16)
        samples.append(enmap_summary(normalise_enmap(raw)))
    splits = os.path.join(root, "splits", "enmap")
    os.makedirs(splits, exist_ok=True)
    # CRLF line ends and a trailing blank line: both must be tolerated.
    with open(os.path.join(splits, "train.txt"), "w", newline="") as f:
        f.write("\r\n".join(entries) + "\r\n\r\n")
    # Bad data.
    open(os.path.join(splits, "empty.txt"), "w").close()
    with open(os.path.join(splits, "bad_missing.txt"), "w") as f:
        f.write("tile_a/patch_0.tif\ntile_z/does_not_exist.tif\n")
    write_tif(os.path.join(root, "enmap", "bad", "five_bands.tif"),
              RNG.randint(0, 10000, size=(5, 8, 8)).astype(np.int16), gdal.GDT_Int16)
    with open(os.path.join(splits, "bad_bands.txt"), "w") as f:
        f.write("bad/five_bands.tif\n")
    expected["spectral_earth"] = {"entries": entries, "chn_ids": SE_CHN_IDS,
                                  "samples": samples}


def multilabel(codes):
    target = [0] * 19
    for c in np.unique(codes):
        i = C43_TO_19[CORINE_43[int(c)]]
        if i is not None:
            target[i] = 1
    return target


def gen_corine(expected):
    root = os.path.join(OUT, "spectral_earth")
    base = os.path.join(root, "spectral_earth_downstream_datasets", "enmap_corine")
    known = sorted(CORINE_43)
    entries = ["c_1/patch.tif", "c_2/patch.tif"]
    samples = []
    for k, e in enumerate(entries):
        raw = RNG.randint(0, 11000, size=(202, 8, 8)).astype(np.int16)
        write_tif(os.path.join(base, "enmap", e), raw, gdal.GDT_Int16)
        if k == 0:  # a few classes, incl. removed ones (122, 999) and merged ones (111, 112)
            pool = [111, 112, 122, 999, 311, 333]
        else:
            pool = list(RNG.choice(known, size=12, replace=False))
        codes = RNG.choice(pool, size=(1, 8, 8)).astype(np.uint16)
        write_tif(os.path.join(base, "corine", e), codes, gdal.GDT_UInt16)
        samples.append({"image": enmap_summary(normalise_enmap(raw)),
                        "target": multilabel(codes)})
    splits = os.path.join(root, "splits", "corine")
    os.makedirs(splits, exist_ok=True)
    with open(os.path.join(splits, "train.txt"), "w") as f:
        f.write("\n".join(entries) + "\n")
    # val: a label raster with a code outside the table (upstream KeyError).
    raw = RNG.randint(0, 10000, size=(202, 8, 8)).astype(np.int16)
    write_tif(os.path.join(base, "enmap", "c_bad/patch.tif"), raw, gdal.GDT_Int16)
    codes = np.full((1, 8, 8), 311, dtype=np.uint16)
    codes[0, 3, 3] = 777
    write_tif(os.path.join(base, "corine", "c_bad/patch.tif"), codes, gdal.GDT_UInt16)
    with open(os.path.join(splits, "val.txt"), "w") as f:
        f.write("c_bad/patch.tif\n")
    expected["corine"] = {"entries": entries, "samples": samples, "unknown_code": 777}


def satlas_acquisition(root, sensor, directory, tile, tci_channels=3):
    """Writes one acquisition's band PNGs; returns the expected view."""
    view = []
    written = set()
    bands = SATLAS[sensor]
    i = 0
    while i < len(bands):
        stem = bands[i][0]
        size = SATLAS_SIZE[sensor](stem)
        n = tci_channels if stem == "tci" else 1
        arr = RNG.randint(0, 256, size=(n, size, size)).astype(np.uint8)
        top = {"s2": "sentinel2", "s1": "sentinel1", "landsat": "landsat"}[sensor]
        write_png(os.path.join(root, top, directory, stem, tile + ".png"), arr)
        written.add(stem)
        for c in range(3 if stem == "tci" else 1):
            _, band, mean, std, cid = bands[i]
            x = arr[min(c, n - 1)].astype(np.float32) / np.float32(255.0)
            x = (x - np.float32(mean)) / np.float32(std)
            view.append({"band": band, "chn_id": cid, "shape": [1, size, size],
                         "values": [float(v) for v in x.ravel()]})
            i += 1
    return view


def gen_satlas(expected):
    root = os.path.join(OUT, "satlas")
    rows, views = [], []
    # tile_a: all three sensors; tile_b: s2 + landsat; tile_c: s2 + s1 + a second s1.
    layout = [
        ("tile_a", "s2dir_a", [("s2", None), ("s1", "2020-03"), ("landsat", "2020-04")]),
        ("tile_b", "s2dir_b", [("landsat", "2021-07"), ("s2", None)]),
        ("tile_c", "s2dir_c", [("s1", "2019-01"), ("s2", None), ("s1", "2019-06")]),
    ]
    for tile, s2dir, acqs in layout:
        row_views = []
        for sensor, time in acqs:
            row_views.append({"sensor": sensor, "bands": satlas_acquisition(
                root, sensor, s2dir if sensor == "s2" else time, tile)})
        rows.append({"id": tile, "s2_dir": s2dir, "sensor": [a[0] for a in acqs],
                     "time": [a[1] if a[1] else "2020-01" for a in acqs]})
        views.append(row_views)
    meta = os.path.join(root, "metadata_v2")
    os.makedirs(meta, exist_ok=True)
    with open(os.path.join(meta, "satlas_fixture.jsonl"), "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")
    # Bad data: only one acquisition; a TCI with one channel; a missing landsat band file.
    satlas_acquisition(root, "s2", "s2dir_bad", "bad_tci", tci_channels=1)
    satlas_acquisition(root, "s1", "2018-01", "bad_tci")
    satlas_acquisition(root, "s2", "s2dir_bad", "bad_missing")
    satlas_acquisition(root, "landsat", "2018-02", "bad_missing")
    os.remove(os.path.join(root, "landsat", "2018-02", "b5", "bad_missing.png"))
    bad = [
        {"id": "tile_a", "s2_dir": "s2dir_a", "sensor": ["s2"], "time": [None]},
        {"id": "bad_tci", "s2_dir": "s2dir_bad", "sensor": ["s2", "s1"],
         "time": ["2018-01", "2018-01"]},
        {"id": "bad_missing", "s2_dir": "s2dir_bad", "sensor": ["s2", "landsat"],
         "time": ["2018-02", "2018-02"]},
        {"id": "nowhere", "s2_dir": "no_such_dir", "sensor": ["s2", "s1"],
         "time": ["x", "y"]},
    ]
    with open(os.path.join(meta, "satlas_bad.jsonl"), "w") as f:
        for r in bad:
            f.write(json.dumps(r) + "\n")
    open(os.path.join(meta, "satlas_empty.jsonl"), "w").close()
    expected["satlas"] = {"metadata": "metadata_v2/satlas_fixture.jsonl", "rows": rows,
                          "views": views}


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    expected = {"generator": "scripts/gen_dataset_fixtures.py",
                "gdal": gdal.__version__, "numpy": np.__version__}
    gen_spectral_earth(expected)
    gen_corine(expected)
    gen_satlas(expected)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=0)
        f.write("\n")


if __name__ == "__main__":
    main()
