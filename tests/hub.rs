//! Pretrained weights through a real HTTP download from a hub stand-in on 127.0.0.1 (the tiny
//! fixture served under the Hugging Face URL layout): download, verify, convert, cache, and
//! every failure mode the issue lists. No test touches the internet.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use burn::prelude::*;
use common::fake_hub::{FakeHub, Mode, sha256_hex};
use common::*;
use panopticon::hub::{self, HubOptions, Source, WeightsEntry};
use panopticon::model::HubError;
use panopticon::{Panopticon, PanopticonConfig, PanopticonError};

const REPO: &str = "test-org/panopticon-tiny";
const REV: &str = "c8c2bb9555819e8b2bcedf5b3b00e3bf531554e7";
const FILE: &str = "weights.pth";

fn tiny_bytes() -> Vec<u8> {
    std::fs::read(tiny_dir().join("weights.pth")).unwrap()
}

/// A hub serving the tiny weights, a registry entry for them, options with fresh caches.
struct Setup {
    hub: FakeHub,
    entry: WeightsEntry,
    opts: HubOptions,
    dir: tempfile::TempDir,
}

fn setup() -> Setup {
    let hub = FakeHub::start();
    let bytes = tiny_bytes();
    let sha = sha256_hex(&bytes);
    hub.add_hub_file(REPO, REV, FILE, bytes);
    let dir = tempfile::tempdir().unwrap();
    let opts = HubOptions {
        endpoint: hub.endpoint.clone(),
        hf_home: dir.path().join("hf"),
        cache_dir: dir.path().join("panopticon"),
        offline: false,
        progress: false,
        retries: 3,
    };
    let entry = entry(Source::Hf {
        hf_repo: REPO.into(),
        revision: REV.into(),
        file: FILE.into(),
        sha256: Some(sha),
        size: None,
    });
    Setup {
        hub,
        entry,
        opts,
        dir,
    }
}

fn entry(source: Source) -> WeightsEntry {
    WeightsEntry {
        name: "tiny".into(),
        aliases: vec![],
        description: "tiny fixture".into(),
        preset: "tiny-test".into(),
        kind: "teacher".into(),
        license: "CC-BY-4.0".into(),
        paper: None,
        source,
        metrics: Default::default(),
        metrics_source: None,
    }
}

fn cls(model: &Panopticon) -> TensorData {
    let input = case_input(&load_case("case_b_s2_13band"), &Device::default());
    model
        .forward_features(&input, None)
        .unwrap()
        .x_prenorm
        .into_data()
}

fn reference() -> TensorData {
    let (m, _) = Panopticon::from_file(
        &PanopticonConfig::tiny_test(),
        tiny_dir().join("weights.pth"),
        &Device::default(),
    )
    .unwrap();
    cls(&m)
}

fn pretrained(s: &Setup) -> panopticon::model::Result<Panopticon> {
    Panopticon::pretrained_with(&s.entry, &s.opts, &Device::default())
}

fn hub_err(r: panopticon::model::Result<impl Sized>) -> HubError {
    match r {
        Err(PanopticonError::Hub(e)) => e,
        Err(e) => panic!("expected a hub error, got {e}"),
        Ok(_) => panic!("expected a hub error, got success"),
    }
}

/// Every blob in the hub cache (the downloaded files; `.part`/`.lock` excluded).
fn blobs(opts: &HubOptions) -> Vec<PathBuf> {
    let dir = opts
        .hub_cache()
        .join(format!("models--{}", REPO.replace('/', "--")))
        .join("blobs");
    std::fs::read_dir(dir)
        .map(|d| {
            d.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_none())
                .collect()
        })
        .unwrap_or_default()
}

fn fetch(s: &Setup) -> Result<PathBuf, HubError> {
    hub::fetch_source("tiny", &s.entry.source, &s.opts)
}

#[test]
fn download_convert_load_equals_from_file_then_no_network() {
    let s = setup();
    let model = pretrained(&s).unwrap();
    assert_eq!(max_abs_diff(&cls(&model), &reference()), 0.0);
    let first = s.hub.requests();
    assert!(first >= 2, "metadata + download expected, saw {first}");

    // The file sits in the standard hub layout, as huggingface_hub would put it.
    let snapshot = s
        .opts
        .hub_cache()
        .join(format!("models--{}", REPO.replace('/', "--")))
        .join("snapshots")
        .join(REV)
        .join(FILE);
    assert!(snapshot.exists(), "{}", snapshot.display());

    // Later calls: the cached burnpack, no request at all, also offline.
    let again = pretrained(&s).unwrap();
    assert_eq!(max_abs_diff(&cls(&again), &reference()), 0.0);
    let offline = HubOptions {
        offline: true,
        endpoint: "http://127.0.0.1:9".into(),
        ..s.opts.clone()
    };
    Panopticon::pretrained_with(&s.entry, &offline, &Device::default()).unwrap();
    assert_eq!(
        s.hub.requests(),
        first,
        "cached loads must not touch the network"
    );
}

#[test]
fn offline_with_nothing_cached_says_how_to_use_a_local_file() {
    let mut s = setup();
    s.opts.offline = true;
    let err = hub_err(pretrained(&s));
    assert!(matches!(err, HubError::Offline { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("from_file") && msg.contains("HF_HUB_OFFLINE"),
        "{msg}"
    );
    assert_eq!(s.hub.requests(), 0);
}

#[test]
fn no_network_is_a_network_error() {
    let mut s = setup();
    // A port that was just free: the connection is refused.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    s.opts.endpoint = format!("http://127.0.0.1:{port}");
    let err = hub_err(pretrained(&s));
    assert!(matches!(err, HubError::Network { .. }), "{err}");
    assert!(err.to_string().contains("from_file"), "{err}");
}

#[test]
fn http_404_and_500_are_reported_with_a_hint() {
    let s = setup();
    s.hub.set_mode(Mode::Status(404));
    let err = hub_err(pretrained(&s));
    assert!(matches!(err, HubError::Http { status: 404, .. }), "{err}");
    assert!(err.to_string().contains("HF_TOKEN"), "{err}");

    s.hub.set_mode(Mode::Status(500));
    let err = fetch(&s).unwrap_err();
    assert!(matches!(err, HubError::Http { status: 500, .. }), "{err}");
    assert!(err.to_string().contains("try again later"), "{err}");
    assert!(blobs(&s.opts).is_empty());
    assert!(!hub::burnpack_path(&s.entry, &s.opts).exists());
}

#[test]
fn a_cut_download_resumes_where_it_stopped() {
    let s = setup();
    let half = tiny_bytes().len() / 2;
    s.hub.set_mode(Mode::CutOnce(half));
    let path = fetch(&s).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), tiny_bytes());
    let resumed = format!("bytes={half}-");
    assert!(
        s.hub
            .ranges()
            .iter()
            .any(|r| r.as_deref() == Some(&resumed)),
        "no resumed request in {:?}",
        s.hub.ranges()
    );
}

#[test]
fn a_cut_download_without_retries_is_never_taken_as_valid() {
    let mut s = setup();
    s.opts.retries = 0;
    let half = tiny_bytes().len() / 2;
    s.hub.set_mode(Mode::CutAlways(half));
    let err = fetch(&s).unwrap_err();
    assert!(matches!(err, HubError::Network { .. }), "{err}");
    assert!(err.to_string().contains("resume"), "{err}");
    assert!(blobs(&s.opts).is_empty(), "a partial file became a blob");
    let offline = HubOptions {
        offline: true,
        ..s.opts.clone()
    };
    let err = hub_err(Panopticon::pretrained_with(
        &s.entry,
        &offline,
        &Device::default(),
    ));
    assert!(matches!(err, HubError::Offline { .. }), "{err}");

    // The next attempt continues the partial file.
    s.hub.set_mode(Mode::Ok);
    let path = fetch(&s).unwrap();
    assert_eq!(std::fs::read(path).unwrap(), tiny_bytes());
    let resumed = format!("bytes={half}-");
    assert_eq!(s.hub.ranges().last().unwrap().as_deref(), Some(&*resumed));
}

#[test]
fn checksum_mismatch_is_an_error_and_leaves_nothing() {
    let s = setup();
    s.hub.set_mode(Mode::Corrupt);
    let err = hub_err(pretrained(&s));
    assert!(matches!(err, HubError::Checksum { .. }), "{err}");
    assert!(blobs(&s.opts).is_empty());
    assert!(!hub::burnpack_path(&s.entry, &s.opts).exists());

    // A registry pin that differs from what the hub serves is refused too.
    let mut pinned = setup();
    if let Source::Hf { sha256, .. } = &mut pinned.entry.source {
        *sha256 = Some("0".repeat(64));
    }
    let err = fetch(&pinned).unwrap_err();
    assert!(matches!(err, HubError::Checksum { .. }), "{err}");
}

#[test]
fn corrupt_cache_entries_are_detected_and_refetched() {
    let s = setup();
    pretrained(&s).unwrap();
    let n = s.hub.requests();

    // A flipped byte in the converted burnpack: rebuilt from the cached download.
    let bpk = hub::burnpack_path(&s.entry, &s.opts);
    flip_byte(&bpk);
    let model = pretrained(&s).unwrap();
    assert_eq!(max_abs_diff(&cls(&model), &reference()), 0.0);
    assert_eq!(s.hub.requests(), n, "the cached download was good");

    // A flipped byte in the download (and a stale burnpack): downloaded again.
    flip_byte(&blobs(&s.opts)[0]);
    std::fs::remove_file(&bpk).unwrap();
    let model = pretrained(&s).unwrap();
    assert_eq!(max_abs_diff(&cls(&model), &reference()), 0.0);
    assert!(
        s.hub.requests() > n,
        "the corrupt download was not fetched again"
    );

    // Offline, a corrupt download cannot be repaired: a checksum error, file removed.
    flip_byte(&blobs(&s.opts)[0]);
    let offline = HubOptions {
        offline: true,
        ..s.opts.clone()
    };
    let err = hub::fetch_source("tiny", &s.entry.source, &offline).unwrap_err();
    assert!(matches!(err, HubError::Checksum { .. }), "{err}");
    assert!(blobs(&s.opts).is_empty());
}

fn flip_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0x55;
    // The blob may be read-only or a link target; replace the file itself.
    let _ = std::fs::remove_file(path);
    std::fs::write(path, b).unwrap();
}

#[test]
fn an_unwritable_cache_is_a_clear_error() {
    let s = setup();
    // A regular file where the cache directory should be: fails even for root.
    let blocker = s.dir.path().join("blocker");
    std::fs::write(&blocker, b"").unwrap();

    let mut hf = s.opts.clone();
    hf.hf_home = blocker.join("hf");
    let err = hub::fetch_source("tiny", &s.entry.source, &hf).unwrap_err();
    assert!(matches!(err, HubError::Cache { .. }), "{err}");
    assert!(err.to_string().contains("HF_HOME"), "{err}");

    let mut bp = s.opts.clone();
    bp.cache_dir = blocker.join("panopticon");
    let err = hub_err(Panopticon::pretrained_with(
        &s.entry,
        &bp,
        &Device::default(),
    ));
    assert!(matches!(err, HubError::Cache { .. }), "{err}");
    assert!(err.to_string().contains("PANOPTICON_CACHE"), "{err}");
    assert_eq!(s.hub.requests(), 0, "checked before downloading");

    // A read-only directory (root ignores permissions, so only checked when they bind).
    use std::os::unix::fs::PermissionsExt;
    let ro = s.dir.path().join("ro");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o555)).unwrap();
    if std::fs::write(ro.join("probe"), b"x").is_err() {
        let mut hf = s.opts.clone();
        hf.hf_home = ro.clone();
        let err = hub::fetch_source("tiny", &s.entry.source, &hf).unwrap_err();
        assert!(matches!(err, HubError::Cache { .. }), "{err}");
    }
    std::fs::set_permissions(&ro, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_full_disk_is_a_clear_error_and_leaves_nothing_valid() {
    let full = Path::new("/dev/full");
    if !full.exists() {
        eprintln!("skipped: no /dev/full on this system");
        return;
    }
    // Downloads: hf-hub writes to `blobs/<sha256>.part`; make that a disk without space.
    let mut s = setup();
    s.opts.retries = 0;
    let sha = sha256_hex(&tiny_bytes());
    let blobs_dir = s
        .opts
        .hub_cache()
        .join(format!("models--{}", REPO.replace('/', "--")))
        .join("blobs");
    std::fs::create_dir_all(&blobs_dir).unwrap();
    std::os::unix::fs::symlink(full, blobs_dir.join(format!("{sha}.part"))).unwrap();
    let err = fetch(&s).unwrap_err();
    assert!(matches!(err, HubError::Cache { .. }), "{err}");
    assert!(err.to_string().contains("space"), "{err}");
    assert!(blobs(&s.opts).is_empty());

    // Converted burnpacks: written to a uniquely named temp file next to the target, then
    // renamed over it. A non-empty directory in the target's place makes the rename fail.
    let s = setup();
    let bpk = hub::burnpack_path(&s.entry, &s.opts);
    std::fs::create_dir_all(bpk.join("x")).unwrap();
    let Err(err) = pretrained(&s) else {
        panic!("an unwritable burnpack must fail");
    };
    assert!(
        matches!(
            err,
            PanopticonError::Weights(panopticon::model::WeightsError::Write { .. })
        ),
        "{err}"
    );
    assert!(err.to_string().contains("cannot write"), "{err}");
    assert!(!bpk.is_file(), "a half-written burnpack was kept");
    let left: Vec<_> = std::fs::read_dir(bpk.parent().unwrap())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".partial"))
        .collect();
    assert!(left.is_empty(), "temp files left behind: {left:?}");
}

#[test]
fn not_a_hub_endpoint_is_named() {
    let s = setup();
    s.hub.set_mode(Mode::NotAHub);
    let err = fetch(&s).unwrap_err();
    assert!(err.to_string().contains("HF_ENDPOINT"), "{err}");
}

#[test]
fn plain_url_sources_download_resume_and_record_their_sha256() {
    let hub = FakeHub::start();
    hub.add_path("/dl/weights.pth", tiny_bytes());
    let dir = tempfile::tempdir().unwrap();
    let opts = HubOptions {
        endpoint: "http://127.0.0.1:9".into(),
        hf_home: dir.path().join("hf"),
        cache_dir: dir.path().join("panopticon"),
        offline: false,
        progress: false,
        retries: 2,
    };
    let source = Source::Url {
        url: format!("{}/dl/weights.pth", hub.endpoint),
        sha256: None,
        size: None,
    };
    let half = tiny_bytes().len() / 2;
    hub.set_mode(Mode::CutOnce(half));
    let path = hub::fetch_source("tiny", &source, &opts).unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), tiny_bytes());
    assert!(hub.ranges().contains(&Some(format!("bytes={half}-"))));
    let n = hub.requests();

    // Trust on first use: the recorded sha256 guards the cached file from now on.
    hub::fetch_source("tiny", &source, &opts).unwrap();
    assert_eq!(hub.requests(), n);
    flip_byte(&path);
    let offline = HubOptions {
        offline: true,
        ..opts.clone()
    };
    let err = hub::fetch_source("tiny", &source, &offline).unwrap_err();
    assert!(matches!(err, HubError::Checksum { .. }), "{err}");

    // A pinned sha256 that the server's bytes do not have.
    let pinned = Source::Url {
        url: format!("{}/dl/weights.pth", hub.endpoint),
        sha256: Some("1".repeat(64)),
        size: None,
    };
    let err = hub::fetch_source("tiny", &pinned, &opts).unwrap_err();
    assert!(matches!(err, HubError::Checksum { .. }), "{err}");

    // And the whole path to a model.
    let model = Panopticon::pretrained_with(&entry(source), &opts, &Device::default()).unwrap();
    assert_eq!(max_abs_diff(&cls(&model), &reference()), 0.0);
}

#[test]
fn cli_weights_commands_use_the_hub_environment() {
    let s = setup();
    let dir = tempfile::tempdir().unwrap();
    let registry = dir.path().join("registry.toml");
    let sha = sha256_hex(&tiny_bytes());
    std::fs::write(
        &registry,
        format!(
            "[[weights]]\nname = \"tiny\"\ndescription = \"tiny fixture\"\npreset = \"tiny-test\"\n\
             kind = \"teacher\"\nlicense = \"CC-BY-4.0\"\n\
             source = {{ hf_repo = \"{REPO}\", revision = \"{REV}\", file = \"{FILE}\", sha256 = \"{sha}\" }}\n"
        ),
    )
    .unwrap();
    let run = |args: &[&str], offline: bool| {
        Command::new(env!("CARGO_BIN_EXE_panopticon"))
            .arg("weights")
            .args(args)
            .arg("--registry")
            .arg(&registry)
            .env("HF_ENDPOINT", &s.hub.endpoint)
            .env("HF_HOME", dir.path().join("hf"))
            .env("PANOPTICON_CACHE", dir.path().join("pc"))
            .env("HF_HUB_OFFLINE", if offline { "1" } else { "0" })
            .env_remove("HF_TOKEN")
            .output()
            .unwrap()
    };
    let text = |o: &std::process::Output| {
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        )
    };

    let out = run(&["fetch", "tiny"], true);
    assert!(!out.status.success());
    assert!(text(&out).contains("HF_HUB_OFFLINE"), "{}", text(&out));

    let out = run(&["fetch", "tiny", "--quiet"], false);
    assert!(out.status.success(), "{}", text(&out));
    let bpk = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        bpk.exists() && bpk.starts_with(dir.path().join("pc")),
        "{}",
        bpk.display()
    );
    let n = s.hub.requests();

    let out = run(&["fetch", "tiny"], true);
    assert!(out.status.success(), "{}", text(&out));
    let out = run(&["list", "--verbose"], true);
    assert!(
        text(&out).contains("tiny") && text(&out).contains("yes"),
        "{}",
        text(&out)
    );
    let out = run(&["verify"], true);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(s.hub.requests(), n);

    flip_byte(&bpk);
    let out = run(&["verify", "tiny"], true);
    assert!(!out.status.success());
    assert!(text(&out).contains("CORRUPT"), "{}", text(&out));
    assert!(!bpk.exists());
}

#[test]
#[ignore = "downloads ~400 MB from huggingface.co"]
fn real_hub_download_of_the_released_model() {
    let dir = tempfile::tempdir().unwrap();
    let opts = HubOptions {
        hf_home: dir.path().join("hf"),
        cache_dir: dir.path().join("panopticon"),
        ..HubOptions::from_env()
    };
    let entry = panopticon::PanopticonWeights::VitB14.entry();
    let model = Panopticon::pretrained_with(&entry, &opts, &Device::default()).unwrap();
    assert_eq!(model.embed_dim(), 768);
}
