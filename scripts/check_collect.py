"""Checks that `panopticon embed collect DIR -o INDEX --partition crs` writes a dataset that
pyarrow.dataset, GeoPandas and DuckDB (spatial) read as is: a batch run over items in two UTM
zones (the sample scene in zone 16N, and copies relabelled to zone 17N: same pixels and
coordinates, another CRS), collected into Hive-style partitions `crs=EPSG_32616/part-0.parquet`
and `crs=EPSG_32617/part-0.parquet`, each a GeoParquet file with its own CRS and bbox. One
`.parquet` output must be refused with a hint to `--partition crs`. The manifest gives explicit
ids (`ID<TAB>PATH`): every item file is called `scene.tif`.

    pip install -r scripts/requirements-outputs.txt
    cargo build --release
    python scripts/check_collect.py [--bin target/release/panopticon]
"""

import argparse
import json
import pathlib
import shutil
import struct
import subprocess
import tempfile

import duckdb
import geopandas
import numpy as np
import pandas
import pyarrow.dataset as pads
import pyarrow.parquet as pq

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECT = json.loads((ROOT / "tests/fixtures/outputs/landsat8_sample.json").read_text())
SAMPLE = ROOT / "samples/landsat8_gulf_coast.tif"
ZONES = {32616: ["gulf_a", "gulf_b"], 32617: ["gulf_c"]}


def relabel_utm_zone(src, dst, code):
    """Copies the classic little-endian GeoTIFF `src` to `dst` with its ProjectedCSTypeGeoKey
    (3072) set to `code` and the zone in its citation changed to match."""
    data = bytearray(src.read_bytes())
    assert data[:4] == b"II*\x00", "a classic little-endian TIFF"
    ifd = struct.unpack_from("<I", data, 4)[0]
    entries = {}
    for i in range(struct.unpack_from("<H", data, ifd)[0]):
        tag, kind, count, value = struct.unpack_from("<HHII", data, ifd + 2 + 12 * i)
        entries[tag] = (kind, count, value)
    _, count, offset = entries[34735]  # GeoKeyDirectory: 4 shorts per key after the header
    keys = struct.unpack_from(f"<{count}H", data, offset)
    for k in range(4, count, 4):
        if keys[k] == 3072:
            assert keys[k + 1] == 0, "the EPSG code sits in the key itself"
            old = keys[k + 3]
            struct.pack_into("<H", data, offset + 2 * (k + 3), code)
    _, count, offset = entries[34737]  # GeoAsciiParams
    text = bytes(data[offset:offset + count])
    new = text.replace(f"zone {old % 100}N".encode(), f"zone {code % 100}N".encode())
    assert len(new) == len(text)
    data[offset:offset + count] = new
    dst.write_bytes(bytes(data))


def run(args, **kw):
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, **kw)


def make_run(binary, tmp):
    """Item files `{zone}/{id}/scene.tif`, a manifest with explicit ids, the batch run."""
    lines = []
    for code, ids in ZONES.items():
        for i in ids:
            path = tmp / str(code) / i / "scene.tif"
            path.parent.mkdir(parents=True)
            if code == 32616:
                shutil.copy(SAMPLE, path)
            else:
                relabel_utm_zone(SAMPLE, path, code)
            lines.append(f"{i}\t{path.relative_to(tmp)}")
    manifest = tmp / "manifest.txt"
    manifest.write_text("\n".join(lines) + "\n")
    out = tmp / "emb"
    embed = [a for a in EXPECT["args"] if a != str(SAMPLE.relative_to(ROOT))]
    p = run([binary, "embed", "--manifest", str(manifest), "--out", str(out), *embed,
             *EXPECT["parquet_args"]])
    assert p.returncode == 0, p.stderr
    names = sorted(f.name for f in out.iterdir())
    assert names == ["gulf_a.parquet", "gulf_b.parquet", "gulf_c.parquet"], names
    return out


def check_refusal(binary, out, tmp):
    index = tmp / "index.parquet"
    p = run([binary, "embed", "collect", str(out), "-o", str(index)])
    assert p.returncode == 1 and "--partition crs" in p.stderr, p.stderr
    assert not index.exists()
    print(f"  one file refused: {p.stderr.strip()}")


def check_pyarrow(index):
    rows = EXPECT["parquet"]["rows"]
    ds = pads.dataset(index, format="parquet", partitioning="hive")
    table = ds.to_table()
    assert table.num_rows == 3 * rows, table.num_rows
    counts = table.group_by("crs").aggregate([("path", "count")]).to_pydict()
    got = dict(zip(counts["crs"], counts["path_count"]))
    assert got == {"EPSG_32616": 2 * rows, "EPSG_32617": rows}, got
    # Partition pruning: only one file is read for one CRS.
    one = ds.to_table(filter=pads.field("crs") == "EPSG_32617")
    assert one.num_rows == rows and set(one.column("epsg").to_pylist()) == {32617}
    for code in ZONES:
        part = index / f"crs=EPSG_{code}" / "part-0.parquet"
        geo = json.loads(pq.read_schema(part).metadata[b"geo"])
        col = geo["columns"]["geometry"]
        assert col["crs"]["id"] == {"authority": "EPSG", "code": code}, col["crs"]["id"]
        assert np.allclose(col["bbox"], EXPECT["parquet"]["bbox"]), col["bbox"]
    print(f"  pyarrow.dataset: {table.num_rows} rows, per crs {got}")


def check_geopandas(index):
    # A GeoDataFrame has one CRS: GeoPandas reads a partition at a time (its folder or file).
    # (`read_parquet(index)` would read every row but label all with the first file's CRS.)
    frames = []
    for code, ids in ZONES.items():
        gdf = geopandas.read_parquet(index / f"crs=EPSG_{code}")
        assert len(gdf) == len(ids) * EXPECT["parquet"]["rows"]
        assert gdf.crs.to_epsg() == code, gdf.crs
        assert np.allclose(gdf.total_bounds, EXPECT["parquet"]["bbox"]), gdf.total_bounds
        assert np.allclose(gdf.area, EXPECT["parquet"]["tile_area_m2"])
        frames.append(gdf.to_crs(4326))
        print(f"  geopandas crs=EPSG_{code}: {len(gdf)} rows, {gdf.crs.name}")
    # Reprojected to one CRS, the zones share a frame: 6 degrees of longitude apart.
    both = pandas.concat(frames)
    west, east = (f.total_bounds for f in frames)
    assert len(both) == 3 * EXPECT["parquet"]["rows"]
    assert np.isclose(east[0] - west[0], 6.0, atol=1e-6), (west, east)
    print(f"  geopandas, both in EPSG:4326: {len(both)} rows, bounds {np.round(both.total_bounds, 3)}")


def check_duckdb(index):
    con = duckdb.connect()
    import duckdb_extension_spatial

    ext = next(pathlib.Path(duckdb_extension_spatial.__file__).parent.rglob("*.duckdb_extension"))
    con.load_extension(str(ext))
    n = EXPECT["parquet"]["rows"]
    want_rows = {"EPSG_32616": 2 * n, "EPSG_32617": n}
    xmin, _, _, ymax = EXPECT["parquet"]["bbox"]
    dataset = f"read_parquet('{index}/*/*.parquet', hive_partitioning = true)"
    # The whole dataset, with the partition column.
    rows = con.execute(
        f"SELECT crs, count(*), min(epsg), max(epsg) FROM {dataset} GROUP BY crs ORDER BY crs"
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == list(want_rows.items()), rows
    assert all(lo == hi == int(crs.split("_")[1]) for crs, _, lo, hi in rows), rows
    # A partition's geometries are GEOMETRY in its CRS (DuckDB types them by CRS, so one
    # query over partitions in different CRSs keeps them as WKB, below).
    for crs, count in want_rows.items():
        kind, rows_, gtype, area, x0, y1 = con.execute(
            f"""SELECT any_value(typeof(geometry)), count(*), any_value(ST_GeometryType(geometry)),
                       max(ST_Area(geometry)), min(ST_XMin(geometry)), max(ST_YMax(geometry))
                FROM '{index}/crs={crs}/*.parquet'"""
        ).fetchone()
        assert kind == f"GEOMETRY('{crs.replace('_', ':')}')", kind
        assert rows_ == count and gtype == "POLYGON", (rows_, gtype)
        assert np.isclose(area, EXPECT["parquet"]["tile_area_m2"])
        assert np.isclose(x0, xmin) and np.isclose(y1, ymax), (x0, y1)
    con.execute("SET enable_geoparquet_conversion = false")
    rows = con.execute(
        f"""SELECT crs, count(*), max(ST_Area(ST_GeomFromWKB(geometry))) FROM {dataset}
            GROUP BY crs ORDER BY crs"""
    ).fetchall()
    assert [(r[0], r[1]) for r in rows] == list(want_rows.items()), rows
    assert all(np.isclose(r[2], EXPECT["parquet"]["tile_area_m2"]) for r in rows), rows
    print(f"  duckdb {duckdb.__version__} spatial, hive_partitioning: {[r[:2] for r in rows]}; "
          f"per partition GEOMETRY('EPSG:…')")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/panopticon"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        out = make_run(args.bin, tmp)
        check_refusal(args.bin, out, tmp)
        index = tmp / "index"
        p = run([args.bin, "embed", "collect", str(out), "-o", str(index), "--partition", "crs"])
        assert p.returncode == 0, p.stderr
        print("\n".join("  " + line.strip() for line in p.stderr.strip().splitlines()))
        parts = sorted(str(f.relative_to(index)) for f in index.rglob("*") if f.is_file())
        assert parts == ["crs=EPSG_32616/part-0.parquet", "crs=EPSG_32617/part-0.parquet"], parts
        check_pyarrow(index)
        check_geopandas(index)
        check_duckdb(index)
    print("collect check passed")


if __name__ == "__main__":
    main()
