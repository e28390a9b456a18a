"""Checks that `panopticon embed -o X.zarr` is a Zarr v3 store that xarray (zarr>=3) and
rioxarray open with the right coordinates, CRS and transform, equal to the `.tif` output of the
same run, on the sample scene with the tiny test model, against the committed expectations in
tests/fixtures/outputs/landsat8_sample.json (also guarded by tests/cli_embed_outputs.rs).
Also reads the PCA arrays back and reconstructs the features from them.

    pip install -r scripts/requirements-outputs.txt
    cargo build --release
    python scripts/check_zarr.py [--bin target/release/panopticon]
"""

import argparse
import json
import pathlib
import subprocess
import tempfile

import numpy as np
import rioxarray  # noqa: F401  (registers .rio)
import xarray as xr
import zarr

ROOT = pathlib.Path(__file__).resolve().parent.parent
EXPECT = json.loads((ROOT / "tests/fixtures/outputs/landsat8_sample.json").read_text())


def embed(binary, out, *extra):
    args = [binary, "embed", *EXPECT["args"], *extra, "-o", str(out)]
    subprocess.run(args, cwd=ROOT, check=True)


def check_store(path, dtype):
    want = EXPECT["zarr"]
    group = zarr.open_group(path, mode="r")
    assert group.metadata.zarr_format == 3
    features = group["features"]
    assert list(features.shape) == want["shape"], features.shape
    assert list(features.chunks) == want["chunks"], features.chunks
    assert features.dtype == np.dtype("float16" if dtype == "f16" else "float32")
    codecs = [type(c).__name__ for c in features.metadata.codecs]
    assert "ZstdCodec" in codecs, codecs

    ds = xr.open_zarr(path, consolidated=False)
    da = ds["features"]
    assert da.dims == ("band", "y", "x"), da.dims
    assert np.isclose(ds.x.values[0], want["x_first"]) and np.isclose(ds.y.values[0], want["y_first"])
    assert np.allclose(np.diff(ds.x.values), want["cell_m"])
    assert np.allclose(np.diff(ds.y.values), -want["cell_m"])
    assert da.rio.crs.to_epsg() == EXPECT["epsg"], da.rio.crs
    assert np.allclose(list(da.rio.transform())[:6], want["transform"]), da.rio.transform()
    assert da.attrs["proj:code"] == f"EPSG:{EXPECT['epsg']}"
    print(
        f"  xarray: {dict(da.sizes)} {da.dtype}, chunks {features.chunks}, codecs {codecs}, "
        f"crs {da.rio.crs}, x[0] {float(ds.x[0])}, y[0] {float(ds.y[0])}"
    )
    return ds


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target/release/panopticon"))
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        tif = tmp / "map.tif"
        embed(args.bin, tif)
        ref = rioxarray.open_rasterio(tif).values.astype(np.float32)
        for dtype in ("f32", "f16"):
            out = tmp / f"map_{dtype}.zarr"
            embed(args.bin, out, "--dtype", dtype)
            print(f"{out.name}:")
            ds = check_store(out, dtype)
            got = ds["features"].values.astype(np.float32)
            err = np.linalg.norm(got - ref) / np.linalg.norm(ref)
            assert err == 0.0 if dtype == "f32" else err < 1e-3, err
            print(f"  equals the .tif output: relative RMS error {err:.2e}")
        out = tmp / "map_pca.zarr"
        embed(args.bin, out, "--pca", "16")
        ds = xr.open_zarr(out, consolidated=False)
        comps, basis, mean = ds["features"].values, ds["pca_components"].values, ds["pca_mean"].values
        assert comps.shape[0] == 16 and basis.shape == (16, EXPECT["dim"]), basis.shape
        recon = np.einsum("kd,kyx->dyx", basis, comps) + mean[:, None, None]
        err = np.linalg.norm(recon - ref) / np.linalg.norm(ref)
        assert np.allclose(basis @ basis.T, np.eye(16), atol=1e-5)
        print(f"map_pca.zarr: K = 16, reconstruction relative RMS error {err:.4f}")
        assert err < 0.5, err
    print("Zarr check passed")


if __name__ == "__main__":
    main()
