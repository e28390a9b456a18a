//! GeoBench m-bigearthnet (43-label multilabel, 12 S2 bands) on the synthetic fixture that
//! scripts/gen_eval_dataset_fixtures.py writes with h5py the way GeoBench does (numpy int64
//! multi-hot `label` and `SpectralBand` objects in the pickled attribute dict), and the
//! pickle reader against Python's `pickle.dumps` (protocols 2–5, numpy arrays of several
//! dtypes, byte orders and memory orders).

use std::path::{Path, PathBuf};

use panopticon_eval::datasets::{
    DatasetKind, EvalDataset, GeoBenchTask, Py, Targets, pickle_loads,
};
use panopticon_eval::task::TaskConfig;
use serde_json::{Value, json};

fn geobench() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/eval/datasets/geobench")
}

fn root() -> PathBuf {
    geobench().join("classification_v1.0/m-bigearthnet")
}

fn read_json(p: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn bigearthnet_splits_multi_hot_targets_and_normalisation() {
    let exp = read_json(&geobench().join("expected_bigearthnet.json"));
    let ids: Vec<f32> = exp["chn_ids"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap() as f32)
        .collect();
    assert_eq!(ids.len(), 12);
    for (split, key) in [("train", "train"), ("val", "valid"), ("test", "test")] {
        let e = &exp["splits"][key];
        let ds = EvalDataset::geobench(&root(), GeoBenchTask::Bigearthnet, split).unwrap();
        assert!(ds.kind().is_multilabel());
        let names = e["names"].as_array().unwrap();
        assert_eq!(ds.len(), names.len());
        for (i, n) in names.iter().enumerate() {
            assert!(ds.files()[i].ends_with(format!("{}.hdf5", n.as_str().unwrap())));
        }
        let values: Vec<f32> = e["targets"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|row| {
                row.as_array()
                    .unwrap()
                    .iter()
                    .map(|v| v.as_f64().unwrap() as f32)
            })
            .collect();
        assert_eq!(
            ds.targets(),
            &Targets::MultiHot {
                values,
                num_labels: 43
            }
        );
        assert!(ds.labels().is_empty());
        assert_eq!(ds.chn_ids(), ids.as_slice());
        let img = ds.load(0).unwrap();
        assert_eq!(img.shape, [12, 8, 8]);
        let want: Vec<f32> = e["first_normalised"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        assert_eq!(img.data.len(), want.len());
        let d = img
            .data
            .iter()
            .zip(&want)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(d <= 1e-5, "{split}: max |normalised - numpy| = {d}");
    }
}

#[test]
fn bigearthnet_train_subset_keeps_a_seeded_fraction() {
    let full = EvalDataset::geobench(&root(), GeoBenchTask::Bigearthnet, "train").unwrap();
    let kind = DatasetKind::GeoBench(GeoBenchTask::Bigearthnet);
    let half = EvalDataset::open(kind, &root(), "train", Some(0.5)).unwrap();
    assert_eq!(half.len(), 4);
    let again = EvalDataset::open(kind, &root(), "train", Some(0.5)).unwrap();
    assert_eq!(half.files(), again.files());
    // A subset in partition order, each sample keeping its own targets.
    let pos: Vec<usize> = half
        .files()
        .iter()
        .map(|f| full.files().iter().position(|g| g == f).unwrap())
        .collect();
    assert!(pos.windows(2).all(|w| w[0] < w[1]), "{pos:?}");
    for (j, &i) in pos.iter().enumerate() {
        assert_eq!(half.targets().describe(j), full.targets().describe(i));
    }
    assert_eq!(
        EvalDataset::open(kind, &root(), "train", Some(0.01))
            .unwrap()
            .len(),
        1
    );
    let e = EvalDataset::open(kind, &root(), "train", Some(1.5))
        .unwrap_err()
        .to_string();
    assert!(e.contains("train_subset"), "{e}");
}

#[test]
fn bigearthnet_bad_labels_are_named_errors() {
    // The generator's malformed samples: one per split.
    let bad = geobench().join("bad_labels/m-bigearthnet");
    for (split, needle) in [
        ("train", "label array has shape [42], expected (43,)"),
        ("val", "multi-hot label holds 2, not 0 or 1"),
        (
            "test",
            "label Int(3) is not a multi-hot vector of 43 labels",
        ),
    ] {
        let e = EvalDataset::geobench(&bad, GeoBenchTask::Bigearthnet, split)
            .unwrap_err()
            .to_string();
        assert!(e.contains(needle) && e.contains(".hdf5"), "{split}: {e}");
    }
    // A multiclass task reading m-bigearthnet's numpy labels.
    let dir = tempfile::tempdir().unwrap();
    let t = dir.path().join("m-eurosat");
    std::fs::create_dir(&t).unwrap();
    for e in std::fs::read_dir(root()).unwrap().flatten() {
        std::fs::copy(e.path(), t.join(e.file_name())).unwrap();
    }
    let e = EvalDataset::geobench(&t, GeoBenchTask::Eurosat, "train")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("is not a class index in 0..10") && e.contains("id_0000"),
        "{e}"
    );
}

#[test]
fn bigearthnet_task_config_is_multilabel_with_43_labels() {
    let text = "type = \"linear\"\nbatch_size = 4\n[dataset]\nid = \"geobench.m-bigearthnet\"\n\
                root = \"/gb\"\ntrain = \"train\"\ntrain_subset = 0.1\nval = \"val\"\n\
                test = \"test\"\n[linear]\nepochs = 1\n";
    let c = TaskConfig::parse(text, Path::new("/cfg/t.toml"), "t").unwrap();
    assert_eq!(c.dataset, DatasetKind::GeoBench(GeoBenchTask::Bigearthnet));
    assert_eq!(c.num_classes, 43);
    assert!(c.dataset.is_multilabel());
    let e = TaskConfig::parse(
        &format!("{text}metrics = [\"acc_top-1_micro\"]\n"),
        Path::new("/cfg/t.toml"),
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("acc_top-1_micro"), "{e}");
}

/// `Py` rendered as scripts/gen_eval_dataset_fixtures.py's `pickle_json`.
fn render(p: &Py) -> Value {
    match p {
        Py::None => Value::Null,
        Py::Bool(b) => json!(b),
        Py::Int(i) => json!(i),
        Py::Float(f) => json!(f),
        Py::Str(s) => json!(s),
        Py::Bytes(b) => json!({ "bytes": b }),
        Py::List(v) => Value::Array(v.iter().map(render).collect()),
        Py::Tuple(v) => json!({ "tuple": v.iter().map(render).collect::<Vec<_>>() }),
        Py::Dict(d) => json!({
            "dict": d.iter().map(|(k, v)| json!([render(k), render(v)])).collect::<Vec<_>>()
        }),
        Py::Global(m, n) => json!({ "global": format!("{m}.{n}") }),
        Py::Object { callable, .. } => match p.ndarray() {
            Some(a) => {
                let a = a.unwrap();
                json!({ "ndarray": a.shape, "values": a.values })
            }
            None => match &**callable {
                Py::Global(m, n) => json!({ "object": format!("{m}.{n}") }),
                other => json!({ "object": format!("{other:?}") }),
            },
        },
    }
}

fn visit(p: &Py) {
    let _ = p.ndarray();
    match p {
        Py::List(v) | Py::Tuple(v) => v.iter().for_each(visit),
        Py::Dict(d) => d.iter().for_each(|(k, v)| {
            visit(k);
            visit(v)
        }),
        Py::Object {
            callable,
            args,
            state,
        } => {
            visit(callable);
            visit(args);
            if let Some(s) = state {
                visit(s);
            }
        }
        _ => {}
    }
}

#[test]
fn pickle_reader_matches_python() {
    let cases = read_json(&geobench().join("pickles.json"));
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 16);
    for c in cases {
        let hex = c["hex"].as_str().unwrap();
        let bytes: Vec<u8> = (0..hex.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
            .collect();
        let v = pickle_loads(&bytes).unwrap_or_else(|e| panic!("protocol {}: {e}", c["protocol"]));
        assert_eq!(render(&v), c["json"], "protocol {}", c["protocol"]);
        // Corrupted bytes give a value or an error, never a panic (nor does decoding the
        // numpy arrays in what comes out).
        for i in 0..bytes.len() {
            for x in [0x00, 0x7f, 0xff, bytes[i] ^ 0x01] {
                let mut b = bytes.clone();
                b[i] = x;
                if let Ok(v) = pickle_loads(&b) {
                    visit(&v);
                }
            }
        }
        // Truncated input is an error, never a panic.
        for cut in [1, bytes.len() / 2, bytes.len() - 1] {
            assert!(pickle_loads(&bytes[..cut]).is_err(), "cut {cut}");
        }
    }
    assert!(
        pickle_loads(b"\x80\x06N.")
            .unwrap_err()
            .contains("protocol 6")
    );
    assert!(
        pickle_loads(b"\x80\x04I1\n.")
            .unwrap_err()
            .contains("opcode 0x49")
    );
}
