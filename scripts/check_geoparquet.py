"""Checks that `panopticon embed -o X.parquet` is GeoParquet 1.1 that pyarrow, GeoPandas and
DuckDB (spatial) read as is, on the sample scene with the tiny test model, against the committed
expectations in tests/fixtures/outputs/landsat8_sample.json (also guarded by
tests/cli_embed_outputs.rs). Also on a copy of the scene whose GeoKey says EPSG:3035 (LAEA
Europe): a CRS from the built-in PROJJSON table rather than WGS 84 / UTM.

    pip install -r scripts/requirements-outputs.txt
    cargo build --release
    python scripts/check_geoparquet.py [--bin target/release/panopticon]
"""

import argparse
import json
import pathlib
import struct
import subprocess
import tempfile

import duckdb
import geopandas
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pyproj

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECT = json.loads((ROOT / "tests/fixtures/outputs/landsat8_sample.json").read_text())


def embed(binary, out, *extra, scene=None):
    args = [binary, "embed", *EXPECT["args"], *EXPECT["parquet_args"], *extra, "-o", str(out)]
    if scene is not None:
        args[2] = str(scene)
    subprocess.run(args, cwd=ROOT, check=True)


def sample_with_epsg(dst, code):
    """The sample scene with its ProjectedCSTypeGeoKey (3072) set to `code` (as the Rust test's
    `sample_with_epsg`): same pixels, same coordinates."""
    b = bytearray((ROOT / EXPECT["args"][0]).read_bytes())
    assert b[:4] == b"II*\0"
    u16 = lambda o: struct.unpack_from("<H", b, o)[0]
    u32 = lambda o: struct.unpack_from("<I", b, o)[0]
    ifd = u32(4)
    entry = next(ifd + 2 + 12 * i for i in range(u16(ifd)) if u16(ifd + 2 + 12 * i) == 34735)
    geokeys = u32(entry + 8)
    key = next(geokeys + 8 * k for k in range(1, u16(geokeys + 6) + 1) if u16(geokeys + 8 * k) == 3072)
    assert u16(key + 6) == EXPECT["epsg"]
    struct.pack_into("<H", b, key + 6, code)
    dst.write_bytes(bytes(b))


def check_pyarrow(path, dtype):
    table = pq.read_table(path)
    want = EXPECT["parquet"]
    assert table.num_rows == want["rows"], table.num_rows
    element = pa.float16() if dtype == "f16" else pa.float32()
    cls_type = table.schema.field("cls").type
    assert pa.types.is_fixed_size_list(cls_type), cls_type
    assert cls_type.list_size == EXPECT["dim"] and cls_type.value_type == element, cls_type
    assert table.schema.field("geometry").type == pa.binary()
    assert [f.name for f in table.schema.field("bbox").type] == ["xmin", "ymin", "xmax", "ymax"]
    geo = json.loads(table.schema.metadata[b"geo"])
    col = geo["columns"]["geometry"]
    assert geo["version"] == "1.1.0" and geo["primary_column"] == "geometry", geo
    assert col["encoding"] == "WKB" and col["geometry_types"] == ["Polygon"], col
    assert col["covering"]["bbox"]["xmin"] == ["bbox", "xmin"], col["covering"]
    assert np.allclose(col["bbox"], want["bbox"]), col["bbox"]
    print(f"  pyarrow: {table.num_rows} rows, cls {cls_type}, geo {geo['version']}")
    return np.stack(table.column("cls").to_numpy(zero_copy_only=False)).astype(np.float32)


def check_geopandas(path, crs=EXPECT):
    gdf = geopandas.read_parquet(path)
    want = EXPECT["parquet"]
    assert len(gdf) == want["rows"]
    assert gdf.crs.to_epsg() == crs["epsg"], gdf.crs
    assert gdf.crs.name == crs["crs_name"], gdf.crs.name
    assert gdf.crs == pyproj.CRS.from_epsg(crs["epsg"]), gdf.crs
    assert np.allclose(gdf.total_bounds, want["bbox"]), gdf.total_bounds
    assert (gdf.geom_type == "Polygon").all()
    assert np.allclose(gdf.area, want["tile_area_m2"]), gdf.area
    assert np.allclose(gdf.geometry.iloc[5].bounds, want["row_5_bounds"])
    assert gdf.geometry.iloc[0].exterior.is_ccw
    # The bbox covering (GeoPandas reads it for filtering, not as a column) agrees with the
    # geometries.
    assert "bbox" not in gdf.columns
    b = pq.read_table(path, columns=["bbox"]).column("bbox").to_pylist()
    b = np.array([[d["xmin"], d["ymin"], d["xmax"], d["ymax"]] for d in b])
    assert np.allclose(b, gdf.bounds.to_numpy())
    # Spatial filtering through the covering: only the tile at pixel row 120, col 160.
    x0, y0, x1, y1 = want["row_5_bounds"]
    hit = geopandas.read_parquet(path, bbox=(x0 + 1, y0 + 1, x0 + 2, y0 + 2))
    assert len(hit) >= 1 and (hit.row >= 120).all(), hit[["row", "col"]]
    print(f"  geopandas: {len(gdf)} rows, crs {gdf.crs.to_string()}, bounds {gdf.total_bounds}")


def check_duckdb(path, crs=EXPECT):
    con = duckdb.connect()
    import duckdb_extension_spatial

    ext = next(pathlib.Path(duckdb_extension_spatial.__file__).parent.rglob("*.duckdb_extension"))
    con.load_extension(str(ext))
    kind = con.execute(f"SELECT typeof(geometry) FROM '{path}' LIMIT 1").fetchone()[0]
    assert kind.startswith("GEOMETRY") and f"EPSG:{crs['epsg']}" in kind, kind
    rows, xmin, ymin, xmax, ymax, area, gtype = con.execute(
        f"""SELECT count(*), min(ST_XMin(geometry)), min(ST_YMin(geometry)),
                   max(ST_XMax(geometry)), max(ST_YMax(geometry)), max(ST_Area(geometry)),
                   any_value(ST_GeometryType(geometry))
            FROM '{path}'"""
    ).fetchone()
    want = EXPECT["parquet"]
    assert rows == want["rows"]
    assert np.allclose([xmin, ymin, xmax, ymax], want["bbox"])
    assert np.isclose(area, want["tile_area_m2"]) and gtype == "POLYGON", (area, gtype)
    # The covering column filters like the geometry does.
    x0, y0, x1, y1 = want["row_5_bounds"]
    hits = con.execute(
        f"""SELECT count(*) FROM '{path}'
            WHERE bbox.xmin >= {x0} AND bbox.ymin >= {y0} AND bbox.xmax <= {x1} AND bbox.ymax <= {y1}"""
    ).fetchone()[0]
    assert hits == 1, hits
    print(f"  duckdb {duckdb.__version__} spatial: {kind}, {rows} {gtype}s, area {area:.0f} m²")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/panopticon"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        vectors = {}
        for dtype in ("f32", "f16"):
            out = pathlib.Path(tmp) / f"emb_{dtype}.parquet"
            embed(args.bin, out, "--dtype", dtype)
            print(f"{out.name}:")
            vectors[dtype] = check_pyarrow(out, dtype)
            check_geopandas(out)
            check_duckdb(out)
        err = np.linalg.norm(vectors["f16"] - vectors["f32"]) / np.linalg.norm(vectors["f32"])
        assert err < 1e-3, err
        print(f"f16 vs f32 cls: relative RMS error {err:.2e}")
        laea = EXPECT["laea"]
        scene = pathlib.Path(tmp) / "laea.tif"
        sample_with_epsg(scene, laea["epsg"])
        out = pathlib.Path(tmp) / "emb_laea.parquet"
        embed(args.bin, out, scene=scene)
        print(f"{out.name} (EPSG:{laea['epsg']}):")
        laea_vectors = check_pyarrow(out, "f32")
        assert np.array_equal(laea_vectors, vectors["f32"]), "the CRS changed the vectors"
        check_geopandas(out, laea)
        check_duckdb(out, laea)
    print("GeoParquet check passed")


if __name__ == "__main__":
    main()
