//! The EuroSAT-SAR and RESISC45 loaders on the synthetic fixtures in their real layouts
//! (tests/fixtures/eval/datasets, written by scripts/gen_eval_dataset_fixtures.py): split
//! files, labels, normalisation, channel ids, transforms, batching and malformed inputs.

use std::cell::RefCell;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use panopticon_data::{read_geotiff, read_jpeg};
use panopticon_eval::EvalError;
use panopticon_eval::datasets::{
    DatasetKind, EUROSAT_CLASSES, EvalDataset, EvalTransform, RESISC45_CLASSES,
};
use panopticon_eval::task::{TaskConfig, TaskKind, discover_tasks, parse_metric};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures/eval/datasets")
}

fn eurosat() -> PathBuf {
    fixtures().join("eurosat_SAR")
}

fn resisc() -> PathBuf {
    fixtures().join("resisc45")
}

#[test]
fn eurosat_sar_splits_labels_and_normalisation() {
    let train = EvalDataset::eurosat_sar(&eurosat(), "train").unwrap();
    assert_eq!(train.len(), 30);
    assert_eq!(train.kind(), DatasetKind::EurosatSar);
    // Three per class, classes in the fixed EuroSAT order.
    let mut counts = [0; 10];
    for &l in train.labels() {
        counts[l as usize] += 1;
    }
    assert_eq!(counts, [3; 10]);
    let i = train.labels().iter().position(|&l| l == 8).unwrap();
    assert!(train.files()[i].to_string_lossy().contains("/River/"));

    // Comma-separated split names concatenate.
    let both = EvalDataset::eurosat_sar(&eurosat(), "train,val").unwrap();
    assert_eq!(both.len(), 40);
    assert_eq!(&both.labels()[..30], train.labels());

    // (x - mean) / std per band, computed in f64.
    let img = train.load(0).unwrap();
    assert_eq!(img.shape, [2, 16, 16]);
    assert_eq!(img.chn_ids, vec![-1.0, -2.0]);
    let raw = read_geotiff(&train.files()[0]).unwrap().data.to_f64();
    for (j, (&got, &x)) in img.data.iter().zip(&raw).enumerate() {
        let (m, s) = if j < 256 {
            (-11.6568, 6.0908)
        } else {
            (-18.4975, 6.1924)
        };
        assert_eq!(got, ((x - m) / s) as f32, "pixel {j}");
    }
    // The fixture is centred on the dataset statistics: normalised values are O(1).
    let mean = img.data.iter().map(|v| v.abs()).sum::<f32>() / img.data.len() as f32;
    assert!(mean > 0.05 && mean < 3.0, "{mean}");
}

#[test]
fn resisc45_class_from_file_name_and_rgb_normalisation() {
    let test = EvalDataset::resisc45(&resisc(), "test").unwrap();
    assert_eq!(test.len(), 8);
    let names: Vec<&str> = test
        .labels()
        .iter()
        .map(|&l| RESISC45_CLASSES[l as usize])
        .collect();
    assert_eq!(
        names,
        [
            "airplane",
            "airplane",
            "baseball_diamond",
            "baseball_diamond",
            "forest",
            "forest",
            "sea_ice",
            "sea_ice"
        ]
    );
    assert!(
        test.files()[2].ends_with("NWPU-RESISC45/baseball_diamond/baseball_diamond_005.jpg"),
        "{}",
        test.files()[2].display()
    );
    let img = test.load(2).unwrap();
    assert_eq!(img.shape, [3, 16, 16]);
    assert_eq!(img.chn_ids, vec![664.0, 559.0, 492.0]);
    let raw = read_jpeg(&test.files()[2]).unwrap().to_f32();
    let (mean, std) = ([0.3682f32, 0.3808, 0.3434], [0.2033f32, 0.1852, 0.1846]);
    for (j, (&got, &x)) in img.data.iter().zip(&raw).enumerate() {
        let c = j / 256;
        assert_eq!(got, (x / 255.0 - mean[c]) / std[c], "pixel {j}");
    }
}

#[test]
fn class_lists_are_the_published_ones() {
    assert_eq!(EUROSAT_CLASSES.len(), 10);
    assert_eq!(RESISC45_CLASSES.len(), 45);
    let mut sorted = RESISC45_CLASSES;
    sorted.sort();
    assert_eq!(sorted, RESISC45_CLASSES, "RESISC45 labels are alphabetical");
    assert_eq!(RESISC45_CLASSES[0], "airplane");
    assert_eq!(RESISC45_CLASSES[44], "wetland");
}

#[test]
fn batches_are_transformed_stacked_model_inputs() {
    let device = Device::default();
    let ds = EvalDataset::resisc45(&resisc(), "train").unwrap();
    let t = EvalTransform {
        resize: Some((24, 20)),
        center_crop: Some((16, 16)),
        chn_select: Some(vec![2, 0]),
    };
    let err = RefCell::new(None);
    let batches: Vec<_> = ds.batches(&t, 5, &device, &err).collect();
    assert!(err.borrow().is_none());
    let sizes: Vec<usize> = batches.iter().map(|b| b.dims()[0]).collect();
    assert_eq!(sizes, [5, 5, 2]);
    assert_eq!(batches[0].dims(), [5, 2, 16, 16]);
    let ids = batches[2].chn_ids().values();
    assert_eq!(ids, [492.0, 664.0, 492.0, 664.0]);
    // Sample 10 of the dataset = row 0 of the last batch, equal to the per-sample transform.
    let want = t.apply(ds.load(10).unwrap()).unwrap();
    let got = batches[2]
        .imgs()
        .clone()
        .slice([0..1, 0..2, 0..16, 0..16])
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    assert_eq!(got, want.data);
}

#[test]
fn an_unreadable_sample_stops_the_batches_with_its_error() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    copy_dir(&resisc(), root);
    let small = root.join("NWPU-RESISC45/forest/forest_001.jpg");
    let ds = EvalDataset::resisc45(root, "train").unwrap();
    // All fixture images are 16×16, so batching without resize works...
    let err = RefCell::new(None);
    let device = Device::default();
    assert_eq!(
        ds.batches(&EvalTransform::default(), 4, &device, &err)
            .count(),
        3
    );
    assert!(err.borrow().is_none());
    // ...and an unreadable sample stops the iterator and leaves its error.
    std::fs::write(&small, b"not a jpeg").unwrap();
    let n = ds
        .batches(&EvalTransform::default(), 4, &device, &err)
        .count();
    assert_eq!(
        n, 1,
        "stops at the second batch (samples 4..8 hold forest_001)"
    );
    let e = err.into_inner().expect("error recorded");
    assert!(e.to_string().contains("forest_001.jpg"), "{e}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.path().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

#[test]
fn malformed_split_files_are_reported_with_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("eurosat_SAR");
    copy_dir(&eurosat(), &root);
    let write = |name: &str, text: &str| std::fs::write(root.join(name), text).unwrap();

    write("a.csv", "path,label\nx.tif,Forest\n");
    let e = EvalDataset::eurosat_sar(&root, "a").unwrap_err();
    assert!(matches!(e, EvalError::Dataset { .. }));
    assert!(e.to_string().contains("no `filepath` column"), "{e}");

    write("b.csv", "filepath,class_name\nForest/Forest_1.tif,Jungle\n");
    let e = EvalDataset::eurosat_sar(&root, "b")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("b.csv") && e.contains("line 2") && e.contains("`Jungle`"),
        "{e}"
    );

    write(
        "c.csv",
        "filepath,class_name\nForest/Forest_99.tif,Forest\n",
    );
    let e = EvalDataset::eurosat_sar(&root, "c")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("Forest_99.tif") && e.contains("does not exist"),
        "{e}"
    );

    write("d.csv", "filepath,class_name\n\n");
    let e = EvalDataset::eurosat_sar(&root, "d").unwrap_err();
    assert!(matches!(e, EvalError::EmptySplit { .. }), "{e}");

    let e = EvalDataset::eurosat_sar(&root, "nope")
        .unwrap_err()
        .to_string();
    assert!(e.contains("nope.csv") && e.contains("not found"), "{e}");

    let e = EvalDataset::resisc45(&root.join("missing"), "train")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing") && e.contains("not a directory"),
        "{e}"
    );

    let rroot = dir.path().join("resisc45");
    copy_dir(&resisc(), &rroot);
    std::fs::write(rroot.join("resisc45-x.txt"), "airplane001.jpg\n").unwrap();
    let e = EvalDataset::resisc45(&rroot, "x").unwrap_err().to_string();
    assert!(e.contains("line 1") && e.contains("no `_`"), "{e}");
}

#[test]
fn task_configs_parse_with_defaults_and_reject_unknown_keys() {
    let path = Path::new("/cfg/eval/t.toml");
    let text = "type = \"knn\"\n[dataset]\nid = \"resisc45\"\nroot = \"data/resisc45\"\n\
                train = \"train\"\ntest = \"test\"\n[transform]\nresize = [24, 20]\n";
    let c = TaskConfig::parse(text, path, "x/t").unwrap();
    assert_eq!(c.name, "x/t");
    assert_eq!(c.root, Path::new("/cfg/eval/data/resisc45"));
    assert_eq!(c.num_classes, 45);
    assert_eq!(c.batch_size, 64);
    assert_eq!(c.n_last_blocks, 1);
    assert_eq!(c.transform.resize, Some((24, 20)));
    let TaskKind::Knn(k) = &c.kind else {
        panic!("knn expected")
    };
    assert_eq!(k.ks, vec![20]);
    assert_eq!(k.temperature, 0.07);

    let lin = "type = \"linear\"\nbatch_size = 32\n[dataset]\nid = \"eurosat-sar\"\n\
               root = \"/abs/eurosat\"\ntrain = \"train\"\nval = \"val\"\ntest = \"test\"\n\
               [linear]\nepochs = 5\nn_last_blocks_list = [1, 3]\npoolings = [\"cls\"]\n";
    let c = TaskConfig::parse(lin, path, "lin").unwrap();
    assert_eq!(c.root, Path::new("/abs/eurosat"));
    assert_eq!(c.n_last_blocks, 3);
    let TaskKind::Linear(p) = &c.kind else {
        panic!("linear expected")
    };
    assert_eq!((p.epochs, p.batch_size, p.base_lrs.len()), (5, 32, 16));
    assert_eq!(p.n_last_blocks, vec![1, 3]);

    let e = TaskConfig::parse(&text.replace("resize", "rezise"), path, "t")
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("unknown field `rezise`") && e.contains("line 8"),
        "{e}"
    );
    assert!(!e.contains('\n'), "one line: {e}");
    let e = TaskConfig::parse(&format!("{lin}n_last_blocks = 2\n"), path, "t");
    assert!(e.is_err(), "n_last_blocks inside [linear] is unknown");
    let e = TaskConfig::parse(
        &lin.replace("type = \"linear\"", "type = \"linear\"\nn_last_blocks = 2"),
        path,
        "t",
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("must be at least 3"), "{e}");
}

#[test]
fn dataset_roots_expand_environment_variables() {
    let path = Path::new("/cfg/t.toml");
    let text = "type = \"knn\"\n[dataset]\nid = \"resisc45\"\nroot = \"$PANOPTICON_TEST_RDIR_UNSET/datasets/resisc45\"\n\
                train = \"train\"\ntest = \"test\"\n";
    let e = TaskConfig::parse(text, path, "t").unwrap_err().to_string();
    assert!(e.contains("PANOPTICON_TEST_RDIR_UNSET is not set"), "{e}");
    let home = std::env::var("HOME").unwrap();
    let c = TaskConfig::parse(
        &text.replace("PANOPTICON_TEST_RDIR_UNSET", "HOME"),
        path,
        "t",
    )
    .unwrap();
    assert_eq!(c.root, Path::new(&home).join("datasets/resisc45"));
}

#[test]
fn metric_keys_round_trip() {
    for key in [
        "acc_top-1_micro",
        "acc_top-5_macro",
        "MulLabAvergPrec_micro",
        "MulLabF1ScoreMacro_macro",
    ] {
        assert_eq!(parse_metric(key).unwrap().key(), key);
    }
    for bad in [
        "acc_top-0_micro",
        "acc_top-1_weighted",
        "accuracy",
        "acc_top-x_micro",
    ] {
        assert!(parse_metric(bad).is_none(), "{bad}");
    }
}

#[test]
fn shipped_task_configs_all_parse() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/eval");
    let tasks = discover_tasks(&dir).unwrap();
    let names: Vec<&str> = tasks.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"quick/eurosat_sar_knn"), "{names:?}");
    assert!(names.contains(&"15min/sar/eurosat-sar_lin"), "{names:?}");
    // The 5min/15min/1h configs name $RDIR / $GEO_BENCH_DIR; substitute values for parsing.
    for (name, path) in &tasks {
        let text = std::fs::read_to_string(path).unwrap();
        let text = text
            .replace("$RDIR", "/rdir")
            .replace("$GEO_BENCH_DIR", "/geobench");
        TaskConfig::parse(&text, path, name).unwrap_or_else(|e| panic!("{name}: {e}"));
    }
    // The quick configs point at the fixtures and open.
    for (name, path) in tasks.iter().filter(|(n, _)| n.starts_with("quick")) {
        let c = TaskConfig::from_file(path, name).unwrap();
        c.prepare().unwrap_or_else(|e| panic!("{name}: {e}"));
    }
}
