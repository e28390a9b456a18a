//! Real catalogue items embedded end to end with pixels: the published Planetary Computer and
//! Earth Search Sentinel-2 L2A, Planetary Computer Landsat C2 L2 and Sentinel-1 RTC items
//! (tests/fixtures/data/stac/) with their asset hrefs pointed at a loopback server holding
//! small COGs on the items' grids (scripts/gen_stac_pixel_fixtures.py), every other field as
//! published; Earth Search's Landsat shape and the real USGS Landsat item read from the
//! requester-pays `s3://usgs-landsat` hrefs (the USGS item through `--alternate s3`) on an S3
//! stand-in. Each embedding equals embedding the same COGs locally with explicit `--band`
//! flags, bit for bit (bands the item scales are given as the scaled float copy it implies).

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::prelude::TensorData;
use common::range_server::RangeServer;
use common::tiny_dir;
use panopticon::data::{GeoTiff, write_geotiff_f32};
use panopticon::tensor_io::read_safetensors;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn stac_fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/data/stac").join(name)
}

/// A published item and the COGs standing in for its assets.
struct Case {
    /// The item file in tests/fixtures/data/stac/.
    item: &'static str,
    /// The pixel set in tests/fixtures/data/stac/pixels/.
    set: &'static str,
    /// `--sensor` of the explicit local run (none for SAR).
    sensor: Option<&'static str>,
    /// `(asset key, pixel file stem, --band key)` in the order the item's bands are embedded.
    bands: &'static [(&'static str, &'static str, &'static str)],
}

const PC_S2: Case = Case {
    item: "pc_s2_l2a.json",
    set: "s2_13tde",
    sensor: Some("sentinel2_l2a"),
    bands: &[
        ("B02", "B02", "B02"),
        ("B03", "B03", "B03"),
        ("B04", "B04", "B04"),
        ("B05", "B05", "B05"),
        ("B8A", "B8A", "B8A"),
        ("B11", "B11", "B11"),
    ],
};

const ES_S2: Case = Case {
    item: "earth_search_s2_l2a.json",
    set: "s2_13tde",
    sensor: Some("sentinel2_l2a"),
    bands: &[
        ("blue", "B02", "B02"),
        ("green", "B03", "B03"),
        ("red", "B04", "B04"),
        ("rededge1", "B05", "B05"),
        ("nir", "B08", "B08"),
        ("nir08", "B8A", "B8A"),
        ("swir16", "B11", "B11"),
    ],
};

const LANDSAT: [(&str, &str, &str); 8] = [
    ("coastal", "coastal", "coastal"),
    ("blue", "blue", "blue"),
    ("green", "green", "green"),
    ("red", "red", "red"),
    ("nir08", "nir08", "nir08"),
    ("swir16", "swir16", "swir16"),
    ("swir22", "swir22", "swir22"),
    ("lwir11", "lwir11", "lwir11"),
];

const PC_LANDSAT: Case = Case {
    item: "pc_landsat_c2_l2.json",
    set: "landsat_pc",
    sensor: Some("landsat8_9"),
    bands: &LANDSAT,
};

const PC_S1_RTC: Case = Case {
    item: "pc_sentinel1_rtc.json",
    set: "s1_rtc",
    sensor: None,
    // Item-level sar:polarizations [VV, VH], descending orbit.
    bands: &[("vv", "vv", "vv-desc"), ("vh", "vh", "vh-desc")],
};

const ES_LANDSAT: Case = Case {
    item: "earth_search_landsat_c2_l2.json",
    set: "landsat_es",
    sensor: Some("landsat8_9"),
    bands: &[
        ("coastal", "coastal", "coastal"),
        ("blue", "blue", "blue"),
        ("red", "red", "red"),
        ("nir08", "nir08", "nir08"),
        ("swir16", "swir16", "swir16"),
        ("lwir11", "lwir11", "lwir11"),
    ],
};

const USGS_LANDSAT: Case = Case {
    item: "usgs_landsat_c2_l2_sr.json",
    set: "landsat_usgs",
    sensor: Some("landsat8_9"),
    bands: &[
        ("coastal", "coastal", "coastal"),
        ("blue", "blue", "blue"),
        ("green", "green", "green"),
        ("red", "red", "red"),
        ("nir08", "nir08", "nir08"),
        ("swir16", "swir16", "swir16"),
        ("swir22", "swir22", "swir22"),
    ],
};

fn pixels(case: &Case, stem: &str) -> PathBuf {
    stac_fixture("pixels")
        .join(case.set)
        .join(format!("{stem}.tif"))
}

fn item_json(case: &Case) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(stac_fixture(case.item)).unwrap()).unwrap()
}

/// `panopticon embed` with the tiny model and 32-px tiles; no cloud settings of the machine.
fn embed(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_panopticon"));
    cmd.arg("embed")
        .args([
            "--weights",
            tiny_dir().join("weights.pth").to_str().unwrap(),
        ])
        .args(["--config", "tiny-test", "--tile", "32", "--quiet"])
        .args(args);
    for (k, _) in std::env::vars() {
        if ["AWS_", "GOOGLE_", "GS_", "AZURE_", "AZURITE_"]
            .iter()
            .any(|p| k.starts_with(p))
        {
            cmd.env_remove(k);
        }
    }
    cmd.env("HOME", dir);
    cmd.envs(env.iter().copied());
    cmd.output().unwrap()
}

fn ok(o: &Output) {
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
}

fn tensors(path: &Path) -> BTreeMap<String, TensorData> {
    read_safetensors(path).unwrap()
}

/// Same tensor names, shapes and bytes.
fn assert_same(want: &Path, got: &Path, what: &str) {
    let (a, b) = (tensors(want), tensors(got));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert_eq!(v.shape(), b[k].shape(), "{what}: {k}");
        assert_eq!(v.as_bytes(), b[k].as_bytes(), "{what}: {k} differs");
    }
}

/// The local file standing in for `asset`: the COG itself, or, where the item's
/// `raster:bands` scales the asset, a float32 copy holding `stored × scale + offset` (no-data
/// as NaN), which is what the item says its pixels are.
fn local_band(
    dir: &Path,
    case: &Case,
    item: &serde_json::Value,
    asset: &str,
    stem: &str,
) -> PathBuf {
    let cog = pixels(case, stem);
    let raster = &item["assets"][asset]["raster:bands"][0];
    let (Some(scale), Some(offset)) = (raster["scale"].as_f64(), raster["offset"].as_f64()) else {
        return cog;
    };
    let nodata = raster["nodata"].as_f64();
    let mut tif = GeoTiff::open(&cog).unwrap();
    let (h, w, gt, epsg) = (tif.height, tif.width, tif.geotransform, tif.epsg);
    let data: Vec<f32> = tif
        .read(0, 0, h, w)
        .unwrap()
        .to_f32()
        .into_iter()
        .map(|v| {
            if nodata.is_some_and(|nd| f64::from(v) == nd) {
                f32::NAN
            } else {
                (f64::from(v) * scale + offset) as f32
            }
        })
        .collect();
    let path = dir.join(format!("{}_{asset}.f32.tif", case.set));
    write_geotiff_f32(&path, 1, h, w, &data, gt, epsg, None).unwrap();
    path
}

/// Embeds the case's COGs from local files with explicit `--band` flags.
fn embed_locally(dir: &Path, case: &Case, out: &Path) {
    let item = item_json(case);
    let mut args: Vec<String> = Vec::new();
    if let Some(s) = case.sensor {
        args.extend(["--sensor".into(), s.into()]);
    }
    for (asset, stem, key) in case.bands {
        let file = local_band(dir, case, &item, asset, stem);
        args.extend(["--band".into(), format!("{key}={}", file.display())]);
    }
    args.extend(["-o".into(), out.to_str().unwrap().into()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    ok(&embed(dir, &args, &[]));
}

/// Serves the case's COGs at the paths of the item's asset URLs and returns the item text
/// with those URLs' origin replaced by the server's (nothing else changes).
fn serve_http(server: &RangeServer, case: &Case) -> String {
    let item = item_json(case);
    let mut origin = None;
    for (asset, stem, _) in case.bands {
        let href = item["assets"][asset]["href"].as_str().unwrap();
        // `https://host` and `/path` (the hrefs carry no query).
        let after_scheme = href.find("://").unwrap() + 3;
        let cut = after_scheme + href[after_scheme..].find('/').unwrap();
        let (o, path) = href.split_at(cut);
        assert!(origin.as_deref().is_none_or(|x| x == o), "{href}");
        origin = Some(o.to_string());
        server.add(path, std::fs::read(pixels(case, stem)).unwrap());
    }
    let text = std::fs::read_to_string(stac_fixture(case.item)).unwrap();
    text.replace(&origin.unwrap(), &server.endpoint)
}

/// Serves the case's COGs as the S3 objects its `s3://bucket/key` hrefs (or those of
/// `alternate`) name, path-style.
fn serve_s3(server: &RangeServer, case: &Case, alternate: Option<&str>) {
    let item = item_json(case);
    for (asset, stem, _) in case.bands {
        let a = &item["assets"][asset];
        let href = match alternate {
            Some(name) => a["alternate"][name]["href"].as_str().unwrap(),
            None => a["href"].as_str().unwrap(),
        };
        let key = href.strip_prefix("s3://").unwrap();
        server.add(
            &format!("/{key}"),
            std::fs::read(pixels(case, stem)).unwrap(),
        );
    }
}

/// The GETs of `.tif`/`.tiff` objects are range reads, and every served band was read.
fn assert_range_reads_of_every_band(server: &RangeServer, case: &Case, what: &str) {
    let log = server.log();
    let gets: Vec<_> = log
        .iter()
        .filter(|r| {
            let p = r.path.to_ascii_lowercase();
            r.method == "GET" && (p.ends_with(".tif") || p.ends_with(".tiff"))
        })
        .collect();
    assert!(
        gets.iter().all(|r| r.range.is_some()),
        "{what}: a GET without Range"
    );
    let read: std::collections::BTreeSet<&str> = gets.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(read.len(), case.bands.len(), "{what}: {read:?}");
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

#[test]
fn published_items_over_http_embed_like_their_bands_given_locally() {
    let server = RangeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    for case in [PC_S2, ES_S2, PC_LANDSAT, PC_S1_RTC] {
        let name = case.item.trim_end_matches(".json");
        let item = d.join(case.item);
        std::fs::write(&item, serve_http(&server, &case)).unwrap();
        let (remote, local) = (
            d.join(format!("{name}.remote.safetensors")),
            d.join(format!("{name}.local.safetensors")),
        );
        server.clear_log();
        ok(&embed(d, &[p(&item), "-o", p(&remote)], &[]));
        assert_range_reads_of_every_band(&server, &case, name);
        embed_locally(d, &case, &local);
        assert_same(&local, &remote, name);
        // 64 × 64 px on the finest (10 or 30 m) grid: four 32-px tiles; Sentinel-2's 20 m
        // bands were interpolated onto it.
        let tiles = tensors(&remote)["tiles"]
            .clone()
            .try_into_vec::<i64>()
            .unwrap();
        assert_eq!(tiles.len(), 4 * 5, "{name}: {tiles:?}");
    }
}

#[test]
fn an_item_collection_given_as_input_embeds_each_item() {
    let server = RangeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let cases = [PC_S2, PC_S1_RTC, PC_LANDSAT];
    let mut features = Vec::new();
    let mut singles = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let text = serve_http(&server, case);
        let item = d.join(case.item);
        std::fs::write(&item, &text).unwrap();
        let out = d.join(format!("single{i}.safetensors"));
        ok(&embed(d, &[p(&item), "-o", p(&out)], &[]));
        singles.push(tensors(&out));
        features.push(serde_json::from_str::<serde_json::Value>(&text).unwrap());
    }
    // The collection itself over HTTP too, as `embed URL` reads a STAC API's answer.
    let fc = serde_json::json!({"type": "FeatureCollection", "features": features});
    let url = server.add("/search/items.json", fc.to_string().into_bytes());
    let out = d.join("all.safetensors");
    ok(&embed(d, &[&url, "-o", p(&out)], &[]));
    let all = tensors(&out);
    let tiles = all["tiles"].clone().try_into_vec::<i64>().unwrap();
    let cls = all["cls"].clone().try_into_vec::<f32>().unwrap();
    let dim = all["cls"].shape()[1];
    let mut row = 0;
    for (i, single) in singles.iter().enumerate() {
        let want_cls = single["cls"].clone().try_into_vec::<f32>().unwrap();
        let want_tiles = single["tiles"].clone().try_into_vec::<i64>().unwrap();
        let n = want_cls.len() / dim;
        assert!(n > 0);
        assert_eq!(
            &cls[row * dim..(row + n) * dim],
            &want_cls[..],
            "item {i} ({}): cls differs from embedding it alone",
            cases[i].item
        );
        for t in 0..n {
            let got = &tiles[(row + t) * 5..(row + t + 1) * 5];
            assert_eq!(
                got[0], i as i64,
                "tile {t} of item {i} names input {}",
                got[0]
            );
            assert_eq!(&got[1..], &want_tiles[t * 5 + 1..(t + 1) * 5]);
        }
        row += n;
    }
    assert_eq!(row * dim, cls.len(), "tiles beyond the three items");
    // The items differ: the comparison is not vacuous.
    assert_ne!(singles[0]["cls"].as_bytes(), singles[1]["cls"].as_bytes());
}

fn s3_env<'a>(server: &'a RangeServer, extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut env = vec![
        ("AWS_ENDPOINT_URL", server.endpoint.as_str()),
        ("AWS_REGION", "us-west-2"),
        ("AWS_ACCESS_KEY_ID", "AKIDFAKEPAYER"),
        ("AWS_SECRET_ACCESS_KEY", "not-a-secret"),
    ];
    env.extend_from_slice(extra);
    env
}

/// Every request was signed and carried the requester-pays header, inside the signature.
fn assert_requester_pays(server: &RangeServer, what: &str) {
    let log = server.log();
    assert!(!log.is_empty(), "{what}");
    for r in &log {
        assert!(
            r.path.starts_with("/usgs-landsat/collection02/"),
            "{what}: {}",
            r.path
        );
        assert_eq!(
            r.header("x-amz-request-payer"),
            Some("requester"),
            "{what}: {} {}",
            r.method,
            r.path
        );
        let auth = r.authorization.as_deref().unwrap_or("");
        assert!(
            auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDFAKEPAYER/")
                && auth.contains("x-amz-request-payer"),
            "{what}: {auth}"
        );
    }
}

#[test]
fn landsat_from_the_requester_pays_bucket() {
    let server = RangeServer::start();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let payer = [("AWS_REQUEST_PAYER", "requester")];

    // Earth Search's shape: the assets' own hrefs are s3://usgs-landsat/….
    serve_s3(&server, &ES_LANDSAT, None);
    let item = stac_fixture(ES_LANDSAT.item);
    let (remote, local) = (
        d.join("es.remote.safetensors"),
        d.join("es.local.safetensors"),
    );
    server.clear_log();
    ok(&embed(
        d,
        &[p(&item), "-o", p(&remote)],
        &s3_env(&server, &payer),
    ));
    assert_requester_pays(&server, "earth search");
    assert_range_reads_of_every_band(&server, &ES_LANDSAT, "earth search");
    embed_locally(d, &ES_LANDSAT, &local);
    assert_same(&local, &remote, "earth search landsat");

    // The USGS item: `href` is landsatlook over HTTPS, `alternate.s3.href` the bucket.
    serve_s3(&server, &USGS_LANDSAT, Some("s3"));
    let item = stac_fixture(USGS_LANDSAT.item);
    let (remote, local) = (
        d.join("usgs.remote.safetensors"),
        d.join("usgs.local.safetensors"),
    );
    server.clear_log();
    ok(&embed(
        d,
        &[p(&item), "--alternate", "s3", "-o", p(&remote)],
        &s3_env(&server, &payer),
    ));
    assert_requester_pays(&server, "usgs --alternate s3");
    assert_range_reads_of_every_band(&server, &USGS_LANDSAT, "usgs");
    embed_locally(d, &USGS_LANDSAT, &local);
    assert_same(&local, &remote, "usgs landsat");

    // Unsigned requests cannot pay, and `requester` is the only payer; both refused before
    // any request, in one line, with no output.
    let item = stac_fixture(ES_LANDSAT.item);
    let out = d.join("refused.safetensors");
    for (env, needle) in [
        (
            vec![
                ("AWS_REQUEST_PAYER", "requester"),
                ("AWS_NO_SIGN_REQUEST", "YES"),
            ],
            "AWS_REQUEST_PAYER=requester needs signed requests",
        ),
        (
            vec![("AWS_REQUEST_PAYER", "yes")],
            "AWS_REQUEST_PAYER=yes: the only value is `requester`",
        ),
    ] {
        server.clear_log();
        let o = embed(d, &[p(&item), "-o", p(&out)], &s3_env(&server, &env));
        common::assert_one_line_failure(&o, needle, needle, &out);
        assert!(server.log().is_empty(), "{needle}: {:?}", server.log());
    }
    // --alternate chooses STAC assets: refused for plain files.
    let cog = pixels(&PC_S2, "B02");
    let o = embed(
        d,
        &[
            p(&cog),
            "--alternate",
            "s3",
            "--wavelengths",
            "490",
            "-o",
            p(&out),
        ],
        &[],
    );
    common::assert_one_line_failure(&o, "--alternate on a file", "apply to STAC items", &out);
}
