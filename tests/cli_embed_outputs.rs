//! `panopticon embed` output formats with the tiny model on the sample scene: GeoParquet 1.1
//! (schema, WKB footprints, `geo` metadata), Zarr v3 (round trip through zarrs, coordinates
//! and CRS attributes), float16 in every format, PCA-reduced dense maps, and bad requests.
//! The expectations are shared with scripts/check_geoparquet.py and scripts/check_zarr.py.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Float16Type, Float32Type, Float64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use panopticon::data::read_geotiff;
use panopticon::embed::output::read_zarr_features;
use panopticon::tensor_io::read_safetensors;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use serde_json::Value;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn expect() -> Value {
    let text = std::fs::read_to_string(root().join("tests/fixtures/outputs/landsat8_sample.json"));
    serde_json::from_str(&text.unwrap()).unwrap()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap())
        .collect()
}

fn strings(v: &Value) -> Vec<&str> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap())
        .collect()
}

/// `panopticon embed` with the expectations' arguments (sample scene, tiny model) + `extra`.
fn embed(extra: &[&str]) -> Output {
    let e = expect();
    let args = strings(&e["args"]);
    Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .current_dir(root())
        .arg("embed")
        .args(args)
        .args(extra)
        .output()
        .unwrap()
}

fn ok(o: Output) -> String {
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert!(o.status.success(), "{err}");
    err
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

fn read_parquet(path: &Path) -> (RecordBatch, Value) {
    let file = std::fs::File::open(path).unwrap();
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).unwrap();
    let kv = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .unwrap();
    let geo = kv.iter().find(|k| k.key == "geo").unwrap();
    let geo: Value = serde_json::from_str(geo.value.as_deref().unwrap()).unwrap();
    let batches: Vec<RecordBatch> = builder.build().unwrap().map(Result::unwrap).collect();
    let batch = arrow_select_concat(&batches);
    (batch, geo)
}

fn arrow_select_concat(batches: &[RecordBatch]) -> RecordBatch {
    assert_eq!(batches.len(), 1, "the sample fits one batch");
    batches[0].clone()
}

/// A little-endian WKB polygon's one ring.
fn wkb_ring(wkb: &[u8]) -> Vec<(f64, f64)> {
    assert_eq!(wkb[0], 1, "little-endian");
    assert_eq!(
        u32::from_le_bytes(wkb[1..5].try_into().unwrap()),
        3,
        "Polygon"
    );
    assert_eq!(
        u32::from_le_bytes(wkb[5..9].try_into().unwrap()),
        1,
        "one ring"
    );
    let n = u32::from_le_bytes(wkb[9..13].try_into().unwrap()) as usize;
    assert_eq!(wkb.len(), 13 + 16 * n);
    let f = |o: usize| f64::from_le_bytes(wkb[o..o + 8].try_into().unwrap());
    (0..n).map(|i| (f(13 + 16 * i), f(21 + 16 * i))).collect()
}

#[test]
fn parquet_is_geoparquet_with_footprints_covering_and_fixed_size_vectors() {
    let dir = tempfile::tempdir().unwrap();
    let e = expect();
    let extra = strings(&e["parquet_args"]);
    let table = dir.path().join("emb.parquet");
    let st = dir.path().join("emb.safetensors");
    for out in [&table, &st] {
        ok(embed(&[&extra[..], &["-o", p(out)]].concat()));
    }
    let (batch, geo) = read_parquet(&table);
    let want = &e["parquet"];
    let dim = e["dim"].as_u64().unwrap() as i32;
    assert_eq!(batch.num_rows() as u64, want["rows"].as_u64().unwrap());

    // Schema: the attributes, a fixed-size float32 list, the covering struct and WKB.
    let schema = batch.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(
        names,
        [
            "path", "row", "col", "height", "width", "minx", "miny", "maxx", "maxy", "epsg", "cls",
            "bbox", "geometry"
        ]
    );
    assert!(matches!(
        schema.field(10).data_type(),
        DataType::FixedSizeList(f, d) if *d == dim && f.data_type() == &DataType::Float32
    ));
    assert_eq!(schema.field(12).data_type(), &DataType::Binary);

    // `geo` metadata: 1.1.0, WKB polygons, PROJJSON of EPSG:32616, file bbox, covering.
    assert_eq!(geo["version"], "1.1.0");
    assert_eq!(geo["primary_column"], "geometry");
    let col = &geo["columns"]["geometry"];
    assert_eq!(col["encoding"], "WKB");
    assert_eq!(col["geometry_types"], serde_json::json!(["Polygon"]));
    assert_eq!(col["crs"]["id"]["code"], e["epsg"]);
    assert_eq!(col["crs"]["name"], e["crs_name"]);
    assert_eq!(floats(&col["bbox"]), floats(&want["bbox"]));
    for k in ["xmin", "ymin", "xmax", "ymax"] {
        assert_eq!(col["covering"]["bbox"][k], serde_json::json!(["bbox", k]));
    }

    // Footprints: closed counter-clockwise rings whose bounds are the bbox struct and the
    // min/max columns; row 5 is the tile at pixel row 120, col 160.
    let geometry = batch.column(12).as_binary::<i32>();
    let bbox = batch.column(11).as_struct();
    let minx = batch.column(5).as_primitive::<Float64Type>();
    for row in 0..batch.num_rows() {
        let ring = wkb_ring(geometry.value(row));
        assert_eq!(ring.len(), 5);
        assert_eq!(ring[0], ring[4]);
        let area: f64 = ring
            .windows(2)
            .map(|w| w[0].0 * w[1].1 - w[1].0 * w[0].1)
            .sum();
        assert_eq!(area / 2.0, want["tile_area_m2"].as_f64().unwrap());
        let xs = ring.iter().map(|p| p.0);
        let lo = xs.clone().fold(f64::INFINITY, f64::min);
        assert_eq!(bbox.column(0).as_primitive::<Float64Type>().value(row), lo);
        assert_eq!(minx.value(row), lo);
    }
    let b5: Vec<f64> = (0..4)
        .map(|i| bbox.column(i).as_primitive::<Float64Type>().value(5))
        .collect();
    assert_eq!(b5, floats(&want["row_5_bounds"]));

    // The vectors are the .safetensors output's.
    let cls = batch.column(10).as_fixed_size_list();
    let values: Vec<f32> = cls.values().as_primitive::<Float32Type>().values().to_vec();
    assert_eq!(
        values,
        read_safetensors(&st).unwrap()["cls"]
            .try_to_vec::<f32>()
            .unwrap()
    );
}

/// A copy of the sample scene at `dst` whose GeoKeys name EPSG `code` instead of 32616 (same
/// pixels and geotransform): the ProjectedCSTypeGeoKey (3072) value in the GeoKeyDirectory
/// (tag 34735) of its one little-endian IFD. scripts/check_geoparquet.py patches it the same way.
fn sample_with_epsg(dst: &Path, code: u16) {
    let mut b = std::fs::read(root().join("samples/landsat8_gulf_coast.tif")).unwrap();
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]);
    let u32_at = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    assert_eq!(&b[..4], b"II*\0");
    let ifd = u32_at(&b, 4);
    let dir = (0..u16_at(&b, ifd) as usize)
        .map(|i| ifd + 2 + 12 * i)
        .find(|&e| u16_at(&b, e) == 34735)
        .map(|e| u32_at(&b, e + 8))
        .expect("a GeoKeyDirectory");
    let keys = u16_at(&b, dir + 6) as usize;
    let key = (1..=keys)
        .map(|k| dir + 8 * k)
        .find(|&k| u16_at(&b, k) == 3072)
        .expect("a ProjectedCSTypeGeoKey");
    assert_eq!(u16_at(&b, key + 6), 32616);
    b[key + 6..key + 8].copy_from_slice(&code.to_le_bytes());
    std::fs::write(dst, b).unwrap();
}

/// The expectations' args with the input scene replaced.
fn embed_input(input: &Path, extra: &[&str]) -> Output {
    let e = expect();
    let mut args = strings(&e["args"]);
    args[0] = p(input);
    Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .current_dir(root())
        .arg("embed")
        .args(args)
        .args(extra)
        .output()
        .unwrap()
}

/// Codes beyond WGS 84 and its UTM zones get PROJ's PROJJSON from the built-in table (here
/// LAEA Europe, `laea` in the expectations), in GeoParquet and Zarr alike; a code the table
/// does not know is written as an unknown CRS with a note.
#[test]
fn other_epsg_codes_get_their_projjson_and_unknown_ones_null() {
    let dir = tempfile::tempdir().unwrap();
    let e = expect();
    let laea = &e["laea"];
    let code = laea["epsg"].as_u64().unwrap();
    let fixture = root().join(format!("tests/fixtures/projjson/{code}.json"));
    let want: Value = serde_json::from_str(&std::fs::read_to_string(fixture).unwrap()).unwrap();
    let scene = dir.path().join("laea.tif");
    sample_with_epsg(&scene, code as u16);
    let table = dir.path().join("laea.parquet");
    let extra = strings(&e["parquet_args"]);
    ok(embed_input(
        &scene,
        &[&extra[..], &["-o", p(&table)]].concat(),
    ));
    let (batch, geo) = read_parquet(&table);
    let crs = &geo["columns"]["geometry"]["crs"];
    assert_eq!(crs, &want);
    assert_eq!(crs["name"], laea["crs_name"]);
    assert_eq!(crs["id"]["code"], code);
    let epsg = batch
        .column(9)
        .as_primitive::<arrow_array::types::Int32Type>();
    assert_eq!(epsg.value(0) as u64, code);
    // The footprints are the sample's: only the CRS changed.
    assert_eq!(
        floats(&geo["columns"]["geometry"]["bbox"]),
        floats(&e["parquet"]["bbox"])
    );
    let store = dir.path().join("laea.zarr");
    ok(embed_input(&scene, &["-o", p(&store)]));
    let attrs = read_zarr_features(&store).unwrap().attributes;
    assert_eq!(attrs["proj:projjson"], want);
    assert_eq!(attrs["proj:code"], format!("EPSG:{code}"));

    // 60000 is no EPSG CRS: `crs: null` (unknown), the code kept, a note on stderr.
    let odd = dir.path().join("odd.tif");
    sample_with_epsg(&odd, 60000);
    let table = dir.path().join("odd.parquet");
    let err = ok(embed_input(
        &odd,
        &[&extra[..], &["-o", p(&table)]].concat(),
    ));
    assert!(
        err.contains("note: EPSG:60000 has no built-in PROJJSON"),
        "{err}"
    );
    let (batch, geo) = read_parquet(&table);
    assert!(geo["columns"]["geometry"]["crs"].is_null(), "{geo}");
    let epsg = batch
        .column(9)
        .as_primitive::<arrow_array::types::Int32Type>();
    assert_eq!(epsg.value(0), 60000);
}

#[test]
fn f16_outputs_round_the_f32_ones() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = |n: &str| d.join(n);
    ok(embed(&["--dense", "-o", p(&out("a.safetensors"))]));
    let err = ok(embed(&[
        "--dense",
        "--dtype",
        "f16",
        "-o",
        p(&out("h.safetensors")),
    ]));
    assert!(err.contains("float16: relative RMS error"), "{err}");
    let a = read_safetensors(out("a.safetensors")).unwrap();
    let h = read_safetensors(out("h.safetensors")).unwrap();
    for name in ["cls", "dense.0"] {
        assert_eq!(h[name].dtype(), burn::tensor::DType::F16, "{name}");
        assert_eq!(h[name].shape(), a[name].shape());
        let want = a[name].try_to_vec::<f32>().unwrap();
        let got: Vec<f32> = h[name]
            .try_to_vec::<half::f16>()
            .unwrap()
            .iter()
            .map(|v| v.to_f32())
            .collect();
        let want16: Vec<f32> = want
            .iter()
            .map(|&v| half::f16::from_f32(v).to_f32())
            .collect();
        assert_eq!(got, want16, "{name}");
    }
    let cls = a["cls"].try_to_vec::<f32>().unwrap();

    // .npy: '<f2' header and the same halves.
    ok(embed(&["--dtype", "f16", "-o", p(&out("h.npy"))]));
    let bytes = std::fs::read(out("h.npy")).unwrap();
    let hlen = u16::from_le_bytes([bytes[8], bytes[9]]) as usize;
    let header = std::str::from_utf8(&bytes[10..10 + hlen]).unwrap();
    assert!(header.contains("'descr': '<f2'"), "{header}");
    let body: Vec<f32> = bytes[10 + hlen..]
        .chunks(2)
        .map(|c| half::f16::from_le_bytes([c[0], c[1]]).to_f32())
        .collect();
    assert_eq!(body.len(), cls.len());
    assert!(
        body.iter()
            .zip(&cls)
            .all(|(a, b)| (a - b).abs() <= 1e-3 * b.abs().max(1.0))
    );

    // .parquet: fixed_size_list<float16>.
    ok(embed(&["--dtype", "f16", "-o", p(&out("h.parquet"))]));
    let (batch, _) = read_parquet(&out("h.parquet"));
    let list = batch.column(10).as_fixed_size_list();
    let got: Vec<f32> = list
        .values()
        .as_primitive::<Float16Type>()
        .values()
        .iter()
        .map(|v| v.to_f32())
        .collect();
    assert_eq!(got.len(), cls.len());
    assert!(
        got.iter()
            .zip(&cls)
            .all(|(a, b)| (a - b).abs() <= 1e-3 * b.abs().max(1.0))
    );

    // .tif: 16-bit IEEE float samples, the f32 map rounded; our own reader reads them.
    ok(embed(&["-o", p(&out("a.tif"))]));
    ok(embed(&["--dtype", "f16", "-o", p(&out("h.tif"))]));
    let f32_map = read_geotiff(out("a.tif")).unwrap().to_f32();
    let h = read_geotiff(out("h.tif")).unwrap();
    assert!(matches!(h.data, panopticon::data::RasterData::F32(_)));
    let rounded: Vec<f32> = f32_map
        .iter()
        .map(|&v| half::f16::from_f32(v).to_f32())
        .collect();
    assert_eq!(h.bands, 48);
    assert_eq!(h.to_f32(), rounded);
    assert_eq!(h.epsg, Some(32616));
    let mut dec = tiff::decoder::Decoder::new(std::fs::File::open(out("h.tif")).unwrap()).unwrap();
    assert_eq!(
        dec.colortype().unwrap(),
        tiff::ColorType::Multiband {
            bit_depth: 16,
            num_samples: 48
        }
    );
    let mut got = Vec::new();
    for chunk in 0..48 {
        match dec.read_chunk(chunk).unwrap() {
            tiff::decoder::DecodingResult::F16(v) => got.extend(v.iter().map(|x| x.to_f32())),
            _ => panic!("not float16"),
        }
    }
    let want16: Vec<f32> = f32_map
        .iter()
        .map(|&v| half::f16::from_f32(v).to_f32())
        .collect();
    assert_eq!(got, want16);
}

#[test]
fn zarr_round_trips_with_coordinates_and_crs() {
    let dir = tempfile::tempdir().unwrap();
    let e = expect();
    let want = &e["zarr"];
    let tif = dir.path().join("map.tif");
    let store = dir.path().join("map.zarr");
    ok(embed(&["-o", p(&tif)]));
    ok(embed(&["-o", p(&store)]));
    let z = read_zarr_features(&store).unwrap();
    let (values, attrs) = (z.values, z.attributes);
    let shape: Vec<f64> = z.shape.iter().map(|&s| s as f64).collect();
    assert_eq!(shape, floats(&want["shape"]));
    assert_eq!(values, read_geotiff(&tif).unwrap().to_f32());
    assert_eq!(attrs["grid_mapping"], "spatial_ref");
    assert_eq!(attrs["proj:code"], format!("EPSG:{}", e["epsg"]));
    assert_eq!(attrs["proj:projjson"]["name"], e["crs_name"]);
    assert_eq!(
        floats(&attrs["spatial:transform"]),
        floats(&want["transform"])
    );

    // Chunks, compression, dimension names and the coordinate arrays, through zarrs.
    let fs = Arc::new(zarrs::filesystem::FilesystemStore::new(&store).unwrap());
    let features = zarrs::array::Array::open(fs.clone(), "/features").unwrap();
    let meta = serde_json::to_value(features.metadata()).unwrap();
    assert_eq!(
        meta["dimension_names"],
        serde_json::json!(["band", "y", "x"])
    );
    let chunks = &meta["chunk_grid"]["configuration"]["chunk_shape"];
    assert_eq!(floats(chunks), floats(&want["chunks"]));
    assert!(
        meta["codecs"].to_string().contains("zstd"),
        "{}",
        meta["codecs"]
    );
    let x = zarrs::array::Array::open(fs.clone(), "/x").unwrap();
    let xs: Vec<f64> = x
        .retrieve_array_subset(&zarrs::array::ArraySubset::new_with_shape(
            x.shape().to_vec(),
        ))
        .unwrap();
    assert_eq!(xs[0], want["x_first"].as_f64().unwrap());
    assert_eq!(xs[1] - xs[0], want["cell_m"].as_f64().unwrap());
    let sr = zarrs::array::Array::open(fs, "/spatial_ref").unwrap();
    assert_eq!(
        sr.attributes()["spatial_ref"],
        format!("EPSG:{}", e["epsg"])
    );

    // f16 store; a rerun replaces the store and leaves no temporary directories.
    ok(embed(&["--dtype", "f16", "-o", p(&store)]));
    let half = read_zarr_features(&store).unwrap().values;
    let want16: Vec<f32> = values
        .iter()
        .map(|&v| half::f16::from_f32(v).to_f32())
        .collect();
    assert_eq!(half, want16);
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["map.tif", "map.zarr"]);
}

/// Reconstructs `[D, cells]` from PCA `components [K, cells]`, `basis [K, D]`, `mean [D]`.
fn reconstruct(components: &[f32], basis: &[f32], mean: &[f32]) -> Vec<f32> {
    let (d, k) = (mean.len(), basis.len() / mean.len());
    let cells = components.len() / k;
    let mut out = vec![0.0f32; d * cells];
    for j in 0..d {
        for c in 0..cells {
            out[j * cells + c] = mean[j]
                + (0..k)
                    .map(|r| basis[r * d + j] * components[r * cells + c])
                    .sum::<f32>();
        }
    }
    out
}

fn rel_err(a: &[f32], b: &[f32]) -> f64 {
    let e: f64 = a.iter().zip(b).map(|(x, y)| f64::from(x - y).powi(2)).sum();
    let n: f64 = b.iter().map(|y| f64::from(*y).powi(2)).sum();
    (e / n).sqrt()
}

#[test]
fn pca_outputs_store_components_and_basis_and_report_the_error() {
    let dir = tempfile::tempdir().unwrap();
    let out = |n: &str| dir.path().join(n);
    ok(embed(&["--dense", "-o", p(&out("full.safetensors"))]));
    let full = read_safetensors(out("full.safetensors")).unwrap()["dense.0"]
        .try_to_vec::<f32>()
        .unwrap();
    let mut last = f64::INFINITY;
    for k in [4, 16, 48] {
        let st = out(&format!("pca{k}.safetensors"));
        let err = ok(embed(&["--dense", "--pca", &k.to_string(), "-o", p(&st)]));
        let t = read_safetensors(&st).unwrap();
        assert_eq!(t["dense.0"].shape().as_slice(), [k, 40, 40]);
        assert_eq!(t["pca.components"].shape().as_slice(), [k, 48]);
        let basis = t["pca.components"].try_to_vec::<f32>().unwrap();
        let recon = reconstruct(
            &t["dense.0"].try_to_vec::<f32>().unwrap(),
            &basis,
            &t["pca.mean"].try_to_vec::<f32>().unwrap(),
        );
        let e = rel_err(&recon, &full);
        // The printed error is the one a user gets back.
        let printed: f64 = err
            .split("relative RMS error of the reconstructed dense maps ")
            .nth(1)
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert!(
            (printed - e).abs() < 2e-3,
            "K={k}: printed {printed}, measured {e}"
        );
        assert!(e < last, "K={k}: {e} not below {last}");
        last = e;
    }
    assert!(last < 1e-4, "K = D keeps everything: {last}");

    // Zarr: components as `features`, basis and mean as arrays; .tif: basis in a sidecar.
    let store = out("pca.zarr");
    ok(embed(&["--pca", "8", "--dtype", "f16", "-o", p(&store)]));
    let z = read_zarr_features(&store).unwrap();
    assert_eq!(z.shape, [8, 40, 40]);
    assert!(
        z.attributes["long_name"]
            .as_str()
            .unwrap()
            .contains("principal components")
    );
    assert!(store.join("pca_components/zarr.json").is_file());
    assert!(store.join("pca_mean/zarr.json").is_file());
    let tif = out("pca.tif");
    ok(embed(&["--pca", "8", "-o", p(&tif)]));
    assert_eq!(read_geotiff(&tif).unwrap().bands, 8);
    let side = read_safetensors(out("pca.tif.pca.safetensors")).unwrap();
    assert_eq!(side["pca.components"].shape().as_slice(), [8, 48]);

    // The sidecar is the basis file: --pca-basis reuses it (the same components), and every
    // output names the basis by the sidecar's sha256.
    let side = out("pca.tif.pca.safetensors");
    let sha = common::fake_hub::sha256_hex(&std::fs::read(&side).unwrap());
    let reuse = out("reuse.zarr");
    let err = ok(embed(&["--pca-basis", p(&side), "-o", p(&reuse)]));
    assert!(err.contains(&format!("(basis sha256 {sha})")), "{err}");
    let z = read_zarr_features(&reuse).unwrap();
    assert_eq!(z.values, read_geotiff(&tif).unwrap().to_f32());
    assert_eq!(z.attributes["pca_basis_sha256"], sha.as_str());
    let st = out("reuse.safetensors");
    ok(embed(&["--dense", "--pca-basis", p(&side), "-o", p(&st)]));
    let bytes = std::fs::read(&st).unwrap();
    let (_, header) = safetensors::SafeTensors::read_metadata(&bytes).unwrap();
    assert_eq!(header.metadata().as_ref().unwrap()["pca.basis_sha256"], sha);
}

/// One-line error, nothing written (clap's own usage errors: first line names the problem).
fn fails(extra: &[&str], needle: &str, dir: &Path) {
    let before = std::fs::read_dir(dir).unwrap().count();
    let o = embed(extra);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{extra:?} succeeded");
    assert!(
        err.lines().next().unwrap().contains(needle),
        "{extra:?}: {err}"
    );
    if o.status.code() == Some(1) {
        assert_eq!(err.trim().lines().count(), 1, "{err}");
    }
    assert_eq!(
        std::fs::read_dir(dir).unwrap().count(),
        before,
        "{extra:?} left files"
    );
}

#[test]
fn bad_output_requests_fail_with_one_line_and_leave_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let o = |n: &str| d.join(n).to_str().unwrap().to_string();
    fails(
        &["--pca", "8", "-o", &o("e.parquet")],
        "--pca reduces dense",
        d,
    );
    fails(&["--pca", "8", "-o", &o("e.npy")], "--pca reduces dense", d);
    fails(&["--pca", "8", "-o", &o("e.safetensors")], "--dense", d);
    fails(&["--pca", "0", "-o", &o("e.zarr")], "between 1 and", d);
    fails(&["--pca", "49", "-o", &o("e.zarr")], "D = 48", d);
    fails(&["--dtype", "bf16", "-o", &o("e.npy")], "bf16", d);
    // --pca-basis: missing, of another K or D, not for this format.
    let basis = |name: &str, k: usize, dim: usize| {
        let b = panopticon::embed::output::PcaBasis {
            mean: vec![0.0; dim],
            components: (0..k * dim)
                .map(|i| (i % (dim + 1) == 0) as u8 as f32)
                .collect(),
            variance: vec![1.0; k],
            explained: 0.5,
            dim,
        };
        let path = std::env::temp_dir().join(format!("{name}.{}", std::process::id()));
        std::fs::write(&path, b.to_bytes()).unwrap();
        path.to_str().unwrap().to_string()
    };
    let (b8, b3) = (basis("basis48", 8, 48), basis("basis3", 2, 3));
    fails(
        &["--pca-basis", &o("none.safetensors"), "-o", &o("e.zarr")],
        "PCA basis",
        d,
    );
    fails(
        &["--pca", "4", "--pca-basis", &b8, "-o", &o("e.zarr")],
        "has 8 components",
        d,
    );
    fails(&["--pca-basis", &b3, "-o", &o("e.zarr")], "D = 3", d);
    fails(
        &["--pca-basis", &b8, "-o", &o("e.parquet")],
        "--pca reduces dense",
        d,
    );
    for f in [b8, b3] {
        std::fs::remove_file(f).unwrap();
    }
    fails(&["-o", &o("e.h5")], ".zarr", d);
    std::fs::write(d.join("file.zarr"), "not a store").unwrap();
    fails(&["-o", &o("file.zarr")], "is a file", d);
    std::fs::create_dir(d.join("other.zarr")).unwrap();
    fails(&["-o", &o("other.zarr")], "not a Zarr store", d);
    assert_eq!(std::fs::read(d.join("file.zarr")).unwrap(), b"not a store");
}

/// Inputs without georeferencing: null footprints and an unknown (null) CRS, still GeoParquet.
#[test]
fn images_without_georeferencing_get_null_geometries() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("rgb.png");
    let rgb: Vec<u8> = (0..32 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
    panopticon::data::write_png_rgb(&png, 32, 48, &rgb).unwrap();
    let out = dir.path().join("e.parquet");
    let o = Command::new(env!("CARGO_BIN_EXE_panopticon"))
        .current_dir(root())
        .args(["embed", p(&png), "--wavelengths", "665,560,490"])
        .args(["--weights", "tests/fixtures/panopticon-tiny/weights.pth"])
        .args(["--config", "tiny-test", "--quiet", "-o", p(&out)])
        .output()
        .unwrap();
    ok(o);
    let (batch, geo) = read_parquet(&out);
    assert_eq!(batch.num_rows(), 1);
    assert_eq!(batch.column(12).null_count(), 1);
    assert_eq!(batch.column(11).null_count(), 1);
    let col = &geo["columns"]["geometry"];
    assert!(col["crs"].is_null(), "{col}");
    assert!(col.get("bbox").is_none(), "{col}");
}
