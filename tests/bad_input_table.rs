//! Table-driven bad-input suite for `embed`, `pca`, `forward`, `info`, `bench`, `weights` and
//! `eval`: one row per case, each run under a 4 GiB address-space limit (`ulimit -v`, so an
//! over-allocation fails the row instead of the machine), each asserting exit code 1 (2 for
//! what clap refuses as syntax), one `error:` line naming the problem, no panic or abort, and
//! no file left behind (neither in the output folder nor next to the inputs). The inputs are
//! crafted here, from the tiny-model fixtures: among them headers of a few hundred bytes
//! claiming 4e9² (TIFF), 30000² (PNG) and 16384² (JPEG) pixels. `panopticon-train`'s rows are
//! in `crates/panopticon-train/tests/bad_input_table.rs`.

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::prelude::*;
use burn::store::{BurnpackStore, ModuleSnapshot};
use burn::tensor::{BoolStore, DType};
use common::tiny_dir;
use panopticon::PanopticonConfig;
use panopticon::data::write_geotiff_f32;
use panopticon::tensor_io::{read_safetensors, write_safetensors};

/// Address-space limit of every run, in KiB (4 GiB).
const MEMORY_LIMIT_KIB: u64 = 4 << 20;

/// Runs the binary under the memory limit, in `cwd`.
fn run(args: &[String], cwd: &Path) -> Output {
    Command::new("sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {MEMORY_LIMIT_KIB} && exec \"$0\" \"$@\""
        ))
        .arg(env!("CARGO_BIN_EXE_panopticon"))
        .args(args)
        .current_dir(cwd)
        .env("HF_HUB_OFFLINE", "1")
        .env("HF_HOME", cwd.join(".hf"))
        .env("PANOPTICON_CACHE", cwd.join(".cache"))
        .env_remove("PANOPTICON_MAX_TOKENS")
        .output()
        .expect("sh runs")
}

/// Every file (not directory) under `dir`, relative.
fn files(dir: &Path) -> BTreeSet<PathBuf> {
    let mut out = BTreeSet::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.strip_prefix(dir).unwrap().to_path_buf());
            }
        }
    }
    out
}

fn f32s(shape: &[usize], f: impl Fn(usize) -> f32) -> TensorData {
    let n: usize = shape.iter().product();
    TensorData::new((0..n).map(f).collect::<Vec<f32>>(), shape.to_vec())
}

/// Pseudo-random standardised pixels.
fn pixels(shape: &[usize]) -> TensorData {
    f32s(shape, |i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
}

fn ids(b: usize, v: &[f32]) -> TensorData {
    let flat: Vec<f32> = (0..b).flat_map(|_| v.iter().copied()).collect();
    TensorData::new(flat, [b, v.len()])
}

fn raw(bytes: Vec<u8>, shape: &[usize], dtype: DType) -> TensorData {
    TensorData::from_bytes_vec(bytes, shape.to_vec(), dtype)
}

fn save(path: &Path, tensors: Vec<(&str, TensorData)>) {
    let t: Vec<(String, TensorData)> = tensors
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    write_safetensors(path, &t).unwrap();
}

/// A forward input: `imgs`, `chn_ids` and extra tensors.
fn input(fx: &Path, name: &str, imgs: TensorData, chn: TensorData, extra: Vec<(&str, TensorData)>) {
    let mut t = vec![("input.imgs", imgs), ("input.chn_ids", chn)];
    t.extend(extra);
    save(&fx.join(format!("{name}.safetensors")), t);
}

/// The tiny weights with `edit` applied to one tensor (or the tensor removed).
fn weights(fx: &Path, name: &str, key: &str, edit: impl Fn(TensorData) -> Option<TensorData>) {
    let mut t = read_safetensors(tiny_dir().join("weights.safetensors")).unwrap();
    let v = t.remove(key).unwrap();
    if let Some(v) = edit(v) {
        t.insert(key.to_string(), v);
    }
    let t: Vec<(String, TensorData)> = t.into_iter().collect();
    write_safetensors(fx.join(name), &t).unwrap();
}

fn with_value(v: TensorData, x: f32) -> Option<TensorData> {
    let shape = v.shape().to_vec();
    let mut vals = v.convert::<f32>().try_to_vec::<f32>().unwrap();
    vals[0] = x;
    Some(TensorData::new(vals, shape))
}

/// The tiny config as JSON with `field` (a `/`-separated path) set to `value`.
fn config(fx: &Path, name: &str, field: &str, value: serde_json::Value) {
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    let mut slot = &mut v;
    for k in field.split('/') {
        slot = slot.get_mut(k).unwrap_or_else(|| panic!("no field {k}"));
    }
    *slot = value;
    std::fs::write(fx.join(name), serde_json::to_string(&v).unwrap()).unwrap();
}

/// A `.bpk` of the tiny model whose recorded config is `config_json`.
fn burnpack_with_config(path: &Path, config_json: &str) {
    let model = PanopticonConfig::tiny_test()
        .init(&Default::default())
        .unwrap();
    let mut store = BurnpackStore::from_file(path)
        .overwrite(true)
        .auto_extension(false)
        .metadata("panopticon.config", config_json);
    model.save_into(&mut store).unwrap();
}

/// A weights registry with one entry.
fn registry(fx: &Path, file: &str, name: &str, source: &str) {
    std::fs::write(
        fx.join(file),
        format!(
            "[[weights]]\nname = \"{name}\"\ndescription = \"d\"\nlicense = \"l\"\n\
             preset = \"tiny-test\"\nkind = \"teacher\"\nsource = {source}\n"
        ),
    )
    .unwrap();
}

/// Copies the BigEarthNet v2 webdataset fixture (S2 splits) to `fx/name` with `edit` applied,
/// and writes a kNN task on it as `fx/name.toml`.
fn benv2_task(fx: &Path, name: &str, edit: impl Fn(&Path)) {
    let src =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/datasets/benv2/wds");
    let dst = fx.join(name);
    for split in ["train-s2", "test-s2"] {
        std::fs::create_dir_all(dst.join(split)).unwrap();
        for e in std::fs::read_dir(src.join(split)).unwrap() {
            let e = e.unwrap();
            std::fs::copy(e.path(), dst.join(split).join(e.file_name())).unwrap();
        }
    }
    edit(&dst);
    let task_dir = fx.join(format!("{name}-task"));
    std::fs::create_dir_all(&task_dir).unwrap();
    std::fs::write(
        task_dir.join("task.toml"),
        format!(
            "type = \"knn\"\nbatch_size = 8\n[dataset]\nid = \"benv2_webdataset\"\n\
             bands = \"s2\"\nroot = \"{}\"\ntrain = \"train\"\ntest = \"test\"\n\
             [transform]\nresize = 32\n[knn]\nks = [3]\nmetrics = [\"MulLabAvergPrec_micro\"]\n",
            dst.display()
        ),
    )
    .unwrap();
}

/// Rewrites the first `img.npy` member of a shard: `f` edits its `.npy` header text in place
/// (the result is padded back to the same length, so the tar stays consistent).
fn edit_first_npy_header(shard: &Path, f: impl Fn(&str) -> String) {
    let mut bytes = std::fs::read(shard).unwrap();
    let magic = b"\x93NUMPY";
    let at = bytes
        .windows(magic.len())
        .position(|w| w == magic)
        .expect("an npy member");
    let len = u16::from_le_bytes([bytes[at + 8], bytes[at + 9]]) as usize;
    let header = String::from_utf8(bytes[at + 10..at + 10 + len].to_vec()).unwrap();
    let mut new = f(header.trim_end()).into_bytes();
    assert!(new.len() < len, "edited header must fit");
    new.resize(len - 1, b' ');
    new.push(b'\n');
    bytes[at + 10..at + 10 + len].copy_from_slice(&new);
    std::fs::write(shard, bytes).unwrap();
}

/// Sets the size field of the first tar member of a shard (octal, checksum fixed up).
fn set_first_tar_size(shard: &Path, size: u64) {
    let mut b = std::fs::read(shard).unwrap();
    let field = format!("{size:011o}\0");
    b[124..136].copy_from_slice(&field.as_bytes()[field.len() - 12..]);
    b[148..156].copy_from_slice(b"        ");
    let sum: u32 = b[..512].iter().map(|&x| x as u32).sum();
    b[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    std::fs::write(shard, b).unwrap();
}

/// A classic little-endian TIFF header of one `height`×`width` 8-bit gray image with a single
/// 16-byte strip: a few hundred bytes that claim any size.
fn tiff_claiming(path: &Path, height: u32, width: u32) {
    let entries: [(u16, u16, u32); 9] = [
        (256, 4, width),              // ImageWidth (LONG)
        (257, 4, height),             // ImageLength
        (258, 3, 8),                  // BitsPerSample (SHORT)
        (259, 3, 1),                  // Compression: none
        (262, 3, 1),                  // Photometric: BlackIsZero
        (273, 4, 8 + 2 + 9 * 12 + 4), // StripOffsets: right after the IFD
        (277, 3, 1),                  // SamplesPerPixel
        (278, 4, height),             // RowsPerStrip: one strip
        (279, 4, 16),                 // StripByteCounts
    ];
    let mut b = b"II*\0".to_vec();
    b.extend(8u32.to_le_bytes());
    b.extend((entries.len() as u16).to_le_bytes());
    for (tag, kind, value) in entries {
        b.extend(tag.to_le_bytes());
        b.extend(kind.to_le_bytes());
        b.extend(1u32.to_le_bytes());
        match kind {
            3 => b.extend((value as u16).to_le_bytes().into_iter().chain([0, 0])),
            _ => b.extend(value.to_le_bytes()),
        }
    }
    b.extend(0u32.to_le_bytes());
    b.extend([0u8; 16]);
    std::fs::write(path, b).unwrap();
}

/// CRC-32 (ISO-HDLC) of PNG chunks.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = (crc >> 1) ^ (0xEDB8_8320 & (crc & 1).wrapping_neg());
        }
    }
    !crc
}

/// A gray 8-bit PNG header claiming `side`×`side` pixels, with one row of zeros as its data.
fn png_claiming(path: &Path, side: u32) {
    let chunk = |out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        out.extend((data.len() as u32).to_be_bytes());
        let mut body = kind.to_vec();
        body.extend(data);
        out.extend(&body);
        out.extend(crc32(&body).to_be_bytes());
    };
    let mut b = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut ihdr = side.to_be_bytes().to_vec();
    ihdr.extend(side.to_be_bytes());
    ihdr.extend([8, 0, 0, 0, 0]);
    chunk(&mut b, b"IHDR", &ihdr);
    // zlib, one stored block of 8 zero bytes (the filter byte and 7 pixels).
    let idat = [0x78, 0x01, 0x01, 8, 0, 0xF7, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0];
    chunk(&mut b, b"IDAT", &idat);
    chunk(&mut b, b"IEND", &[]);
    std::fs::write(path, b).unwrap();
}

/// The 666-byte RGB JPEG fixture with its frame header (SOF0) claiming `side`×`side` pixels.
fn jpeg_claiming(path: &Path, side: u16) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/jpeg/rgb.jpg");
    let mut b = std::fs::read(src).unwrap();
    let sof = b.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF0");
    b[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    b[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
    std::fs::write(path, b).unwrap();
}

/// The inputs of the `embed` / `pca` rows.
fn build_scene_fixtures(fx: &Path) {
    let data: Vec<f32> = (0..3 * 32 * 32).map(|i| (i % 251) as f32).collect();
    write_geotiff_f32(fx.join("scene.tif"), 3, 32, 32, &data, None, None, None).unwrap();
    tiff_claiming(&fx.join("claims_4e9.tif"), 4_000_000_000, 4_000_000_000);
    tiff_claiming(&fx.join("claims_2048.tif"), 2048, 2048);
    png_claiming(&fx.join("claims_30000.png"), 30_000);
    jpeg_claiming(&fx.join("claims_16384.jpg"), 16_384);
    std::fs::write(fx.join("stats1.json"), r#"{"mean": [0.0], "std": [1.0]}"#).unwrap();
    std::fs::create_dir_all(fx.join("dir.safetensors")).unwrap();
    std::fs::create_dir_all(fx.join("dir.png")).unwrap();
}

/// Every crafted input of the table, in `fx`.
fn build_fixtures(fx: &Path) {
    build_scene_fixtures(fx);
    let opt = [664.0, 559.0, 490.0];
    input(fx, "ok", pixels(&[1, 3, 32, 32]), ids(1, &opt), vec![]);
    input(fx, "b0", pixels(&[0, 3, 32, 32]), ids(0, &opt), vec![]);
    input(
        fx,
        "c0",
        pixels(&[1, 0, 32, 32]),
        TensorData::new(Vec::<f32>::new(), [1, 0]),
        vec![],
    );
    input(
        fx,
        "nan",
        f32s(&[1, 3, 32, 32], |i| if i == 40 { f32::NAN } else { 0.5 }),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "inf",
        f32s(&[1, 3, 32, 32], |i| {
            if i == 2000 { f32::NEG_INFINITY } else { 0.5 }
        }),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "huge",
        f32s(&[1, 3, 32, 32], |_| 3e38),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "huge_one",
        f32s(&[1, 3, 32, 32], |i| if i == 3000 { -2e9 } else { 0.1 }),
        ids(1, &opt),
        vec![],
    );
    input(fx, "rank3", pixels(&[3, 32, 32]), ids(1, &opt), vec![]);
    input(
        fx,
        "int_imgs",
        TensorData::new(vec![1i32; 3 * 32 * 32], [1, 3, 32, 32]),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "ids_short",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[664.0, 559.0]),
        vec![],
    );
    input(
        fx,
        "ids_rank1",
        pixels(&[1, 3, 32, 32]),
        TensorData::new(opt.to_vec(), [3]),
        vec![],
    );
    input(
        fx,
        "sar_bad",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[664.0, -13.0, 490.0]),
        vec![],
    );
    input(
        fx,
        "sar_frac",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[664.0, -1.5, 490.0]),
        vec![],
    );
    input(
        fx,
        "ids_nan",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[f32::NAN, 559.0, 490.0]),
        vec![],
    );
    input(
        fx,
        "ids_bool",
        pixels(&[1, 3, 32, 32]),
        raw(vec![1, 0, 1], &[1, 3], DType::Bool(BoolStore::Native)),
        vec![],
    );
    input(fx, "small", pixels(&[1, 3, 4, 32]), ids(1, &opt), vec![]);
    input(
        fx,
        "big",
        f32s(&[1, 1, 1200, 1200], |_| 0.0),
        ids(1, &[664.0]),
        vec![],
    );
    let mask = |v: Vec<u8>| raw(v, &[1, 3], DType::U8);
    input(
        fx,
        "mask_two",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", mask(vec![0, 2, 0]))],
    );
    input(
        fx,
        "mask_bool_two",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.spec_masks",
            raw(vec![0, 2, 0], &[1, 3], DType::Bool(BoolStore::Native)),
        )],
    );
    input(
        fx,
        "mask_neg",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.spec_masks",
            TensorData::new(vec![0i64, -1, 0], [1, 3]),
        )],
    );
    input(
        fx,
        "mask_all",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", mask(vec![1, 1, 1]))],
    );
    input(
        fx,
        "mask_shape",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", raw(vec![0, 0], &[1, 2], DType::U8))],
    );
    input(
        fx,
        "mask_rank1",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", raw(vec![0, 0, 0], &[3], DType::U8))],
    );
    input(
        fx,
        "mask_float",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.spec_masks",
            TensorData::new(vec![0.0f32, 1.0, 0.0], [1, 3]),
        )],
    );
    input(
        fx,
        "tmask_two",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.token_masks",
            raw(
                vec![0; 15].into_iter().chain([3]).collect(),
                &[1, 16],
                DType::U8,
            ),
        )],
    );
    input(
        fx,
        "tmask_shape",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.token_masks", raw(vec![0; 5], &[1, 5], DType::U8))],
    );
    input(
        fx,
        "tmask_rank3",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.token_masks",
            raw(vec![0; 16], &[1, 16, 1], DType::U8),
        )],
    );
    input(
        fx,
        "tmask_float",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.token_masks", f32s(&[1, 16], |_| 0.0))],
    );
    save(
        &fx.join("no_imgs.safetensors"),
        vec![("input.chn_ids", ids(1, &opt))],
    );
    save(
        &fx.join("no_ids.safetensors"),
        vec![("input.imgs", pixels(&[1, 3, 32, 32]))],
    );
    std::fs::write(fx.join("garbage.bin"), b"this is not a tensor file at all").unwrap();
    std::fs::write(fx.join("empty.bin"), b"").unwrap();
    // A safetensors header length of 2^62: must not be allocated.
    let mut huge_header = (1u64 << 62).to_le_bytes().to_vec();
    huge_header.extend(b"{}");
    std::fs::write(fx.join("huge_header.safetensors"), huge_header).unwrap();
    // A header whose tensor claims more bytes than the file holds.
    let hdr =
        br#"{"input.imgs":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,40000000000]}}"#;
    let mut lying = (hdr.len() as u64).to_le_bytes().to_vec();
    lying.extend(hdr);
    std::fs::write(fx.join("lying.safetensors"), lying).unwrap();

    // Weights.
    let pth = std::fs::read(tiny_dir().join("weights.pth")).unwrap();
    std::fs::write(fx.join("trunc.pth"), &pth[..pth.len() / 2]).unwrap();
    std::fs::write(fx.join("head.pth"), &pth[..64]).unwrap();
    weights(fx, "w_nan.safetensors", "blocks.0.attn.qkv.weight", |v| {
        with_value(v, f32::NAN)
    });
    weights(fx, "w_inf.safetensors", "norm.weight", |v| {
        with_value(v, f32::INFINITY)
    });
    weights(
        fx,
        "w_nan_pe.safetensors",
        "patch_embed.chnfus.query",
        |v| with_value(v, f32::NAN),
    );
    weights(fx, "w_shape.safetensors", "norm.bias", |_| {
        Some(TensorData::new(vec![0.0f32; 5], [5]))
    });
    weights(fx, "w_missing.safetensors", "cls_token", |_| None);
    weights(fx, "w_missing_norm.safetensors", "norm.weight", |_| None);
    weights(fx, "w_int.safetensors", "norm.bias", |v| {
        let n = v.shape()[0];
        Some(TensorData::new(vec![0i64; n], [n]))
    });

    // Configs.
    for (file, field, value) in [
        (
            "cfg_dim.json",
            "embed_dim",
            serde_json::json!(3_000_000_000u64),
        ),
        ("cfg_depth0.json", "depth", serde_json::json!(0)),
        (
            "cfg_depth_huge.json",
            "depth",
            serde_json::json!(1_000_000_000u64),
        ),
        ("cfg_heads.json", "num_heads", serde_json::json!(5)),
        ("cfg_heads0.json", "num_heads", serde_json::json!(0)),
        ("cfg_mlp.json", "mlp_ratio", serde_json::json!(1e300)),
        ("cfg_mlp_neg.json", "mlp_ratio", serde_json::json!(-4.0)),
        (
            "cfg_img.json",
            "img_size",
            serde_json::json!(1_000_000_000u64),
        ),
        ("cfg_patch0.json", "patch_size", serde_json::json!(0)),
        (
            "cfg_patch_big.json",
            "patch_size",
            serde_json::json!(100_000),
        ),
        ("cfg_eps.json", "layer_norm_eps", serde_json::json!(-1.0)),
        (
            "cfg_regs.json",
            "num_register_tokens",
            serde_json::json!(1_000_000),
        ),
        ("cfg_drop.json", "drop_path_rate", serde_json::json!(1.5)),
        ("cfg_init.json", "init_values", serde_json::json!(1e300)),
        (
            "cfg_offset.json",
            "interpolate_offset",
            serde_json::json!(7.0),
        ),
        (
            "cfg_attn.json",
            "patch_embed/Panopticon/attn_dim",
            serde_json::json!(3_000_000_000u64),
        ),
        (
            "cfg_attn_odd.json",
            "patch_embed/Panopticon/attn_dim",
            serde_json::json!(45),
        ),
        (
            "cfg_pe_heads.json",
            "patch_embed/Panopticon/num_heads",
            serde_json::json!(0),
        ),
        (
            "cfg_coarsity.json",
            "patch_embed/Panopticon/opt_coarsity",
            serde_json::json!(0),
        ),
    ] {
        config(fx, file, field, value);
    }
    // Within each field's bound, too many parameters together.
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    v["embed_dim"] = 16384.into();
    v["num_heads"] = 16.into();
    v["depth"] = 1024.into();
    std::fs::write(fx.join("cfg_params.json"), v.to_string()).unwrap();
    std::fs::write(fx.join("cfg_bad.json"), "{\"embed_dim\": ").unwrap();

    // Burnpacks with a recorded config.
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    v["embed_dim"] = 3_000_000_000u64.into();
    burnpack_with_config(&fx.join("crafted_dim.bpk"), &v.to_string());
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    v["mlp_ratio"] = 1e300.into();
    burnpack_with_config(&fx.join("crafted_mlp.bpk"), &v.to_string());
    burnpack_with_config(&fx.join("crafted_json.bpk"), "{not json");
    std::fs::write(fx.join("garbage.bpk"), b"BURNPACK but not really").unwrap();

    // Registries.
    let url = "{ url = \"https://example.org/w.pth\" }";
    registry(fx, "reg_dotdot.toml", "../../evil", url);
    registry(fx, "reg_slash.toml", "a/b", url);
    registry(
        fx,
        "reg_hf_file.toml",
        "ok",
        "{ hf_repo = \"a/b\", revision = \"main\", file = \"../../w.pth\" }",
    );
    registry(
        fx,
        "reg_hf_repo.toml",
        "ok",
        "{ hf_repo = \"../b\", revision = \"main\", file = \"w.pth\" }",
    );
    registry(
        fx,
        "reg_scheme.toml",
        "ok",
        "{ url = \"file:///etc/passwd\" }",
    );
    registry(
        fx,
        "reg_sha.toml",
        "ok",
        "{ url = \"https://example.org/w.pth\", sha256 = \"xyz\" }",
    );
    std::fs::write(fx.join("reg_bad.toml"), "[[weights]\nname =").unwrap();

    // Eval tasks and datasets.
    std::fs::create_dir_all(fx.join("tasks_bad_toml")).unwrap();
    std::fs::write(
        fx.join("tasks_bad_toml/t.toml"),
        "type = \"knn\"\n[dataset\n",
    )
    .unwrap();
    std::fs::create_dir_all(fx.join("tasks_empty")).unwrap();
    std::fs::write(fx.join("a_file"), "x").unwrap();
    benv2_task(fx, "yaml_list", |d| {
        std::fs::write(
            d.join("train-s2/dataset.yaml"),
            "nsamples_per_shard:\n  - a\n",
        )
        .unwrap()
    });
    benv2_task(fx, "yaml_classes", |d| {
        let p = d.join("train-s2/dataset.yaml");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(p, t.replace("num_classes: 19", "num_classes: 5")).unwrap()
    });
    benv2_task(fx, "yaml_count", |d| {
        let p = d.join("train-s2/dataset.yaml");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(p, t.replace(": 4", ": 99999999999999999999999")).unwrap()
    });
    benv2_task(fx, "tar_size", |d| {
        set_first_tar_size(&d.join("train-s2/dataset-000000.tar"), 0o77_777_777_777)
    });
    benv2_task(fx, "tar_garbage", |d| {
        std::fs::write(d.join("train-s2/dataset-000000.tar"), vec![0x41; 1500]).unwrap()
    });
    benv2_task(fx, "npy_shape", |d| {
        edit_first_npy_header(&d.join("train-s2/dataset-000000.tar"), |h| {
            let (a, rest) = h.split_once("'shape': (").unwrap();
            let (_, b) = rest.split_once(')').unwrap();
            format!("{a}'shape': (12, 4294967296, 4294967296){b}")
        })
    });
    benv2_task(fx, "npy_descr", |d| {
        edit_first_npy_header(&d.join("train-s2/dataset-000000.tar"), |h| {
            let (a, rest) = h.split_once("'descr': '").unwrap();
            let (_, b) = rest.split_once('\'').unwrap();
            format!("{a}'descr': 'é'{b}")
        })
    });
    benv2_task(fx, "npy_empty_descr", |d| {
        edit_first_npy_header(&d.join("train-s2/dataset-000000.tar"), |h| {
            let (a, rest) = h.split_once("'descr': '").unwrap();
            let (_, b) = rest.split_once('\'').unwrap();
            format!("{a}'descr': ''{b}")
        })
    });
}

/// `(name, arguments, what the error line must contain)`. `{fx}` is the fixture folder,
/// `{out}` the row's (initially empty) output folder, `{tiny}` the tiny-model fixtures.
fn table() -> Vec<(&'static str, &'static str, &'static str)> {
    const FWD: &str =
        "forward --config tiny-test --weights {tiny}/weights.pth --output {out}/o.safetensors";
    let fwd = |rest: &'static str| -> &'static str {
        Box::leak(format!("{FWD} {rest}").into_boxed_str())
    };
    let fwd_w = |w: &'static str| -> &'static str {
        Box::leak(
            format!(
                "forward --config tiny-test --weights {w} --input {{fx}}/ok.safetensors \
                 --output {{out}}/o.safetensors"
            )
            .into_boxed_str(),
        )
    };
    let fwd_cfg = |c: &'static str| -> &'static str {
        Box::leak(
            format!(
                "forward --config {{fx}}/{c} --weights {{tiny}}/weights.pth \
                 --input {{fx}}/ok.safetensors --output {{out}}/o.safetensors"
            )
            .into_boxed_str(),
        )
    };
    let bench = |rest: &'static str| -> &'static str {
        Box::leak(format!("bench --config tiny-test --reps 1 {rest}").into_boxed_str())
    };
    let eval = |tasks: &'static str| -> &'static str {
        Box::leak(
            format!(
                "eval --model {{tiny}}/weights.pth --config tiny-test --tasks {tasks} \
                 --out {{out}}/res"
            )
            .into_boxed_str(),
        )
    };
    const EMB: &str = "embed --config tiny-test --weights {tiny}/weights.pth --quiet";
    let emb = |rest: &'static str| -> &'static str {
        Box::leak(
            format!(
                "{EMB} {{fx}}/scene.tif --wavelengths 665,560,490 -o {{out}}/e.safetensors {rest}"
            )
            .into_boxed_str(),
        )
    };
    let emb_in = |input: &'static str, rest: &'static str| -> &'static str {
        Box::leak(format!("{EMB} {input} -o {{out}}/e.safetensors {rest}").into_boxed_str())
    };
    const PCA: &str = "pca --config tiny-test --weights {tiny}/weights.pth --quiet";
    let pca = |input: &'static str, rest: &'static str| -> &'static str {
        Box::leak(format!("{PCA} {input} -o {{out}}/p.png {rest}").into_boxed_str())
    };
    vec![
        // embed: numbers, checked before any work that depends on them
        ("embed --tile 0", emb("--tile 0"), "--tile 0"),
        ("embed --stride 0", emb("--stride 0"), "--stride 0"),
        ("embed --batch 0", emb("--batch 0"), "--batch 0"),
        (
            "embed --stride over --tile",
            emb("--tile 16 --stride 32"),
            "larger than --tile 16",
        ),
        ("embed --tile not on patches", emb("--tile 12"), "--tile 12"),
        (
            "embed --stride not on patches",
            emb("--tile 32 --stride 12"),
            "--stride 12",
        ),
        (
            "embed --tile 2^64-1",
            emb("--tile 18446744073709551615"),
            "--tile 18446744073709551615",
        ),
        (
            "embed --stride 2^64-1",
            emb("--stride 18446744073709551615"),
            "larger than --tile",
        ),
        (
            "embed --max-tokens 0",
            emb("--max-tokens 0"),
            "--max-tokens 0",
        ),
        (
            "embed --max-pixels 0",
            emb("--max-pixels 0"),
            "--max-pixels 0",
        ),
        (
            "embed --max-memory 0",
            emb("--max-memory 0"),
            "--max-memory 0",
        ),
        (
            "embed tile over the token cap",
            emb("--tile 32 --max-tokens 10"),
            "use a smaller --tile (at most 24",
        ),
        (
            "embed 2048² tile over the default cap",
            emb_in("{fx}/claims_2048.tif", "--wavelengths 665 --tile 2048"),
            "use a smaller --tile",
        ),
        (
            "embed --max-pixels below the scene",
            emb("--max-pixels 1000"),
            "raise --max-pixels",
        ),
        (
            "embed --max-memory below the scene",
            emb("--max-memory 100K"),
            "raise --max-memory",
        ),
        // STAC items and --band stacks: the same checks on the common grid
        (
            "embed STAC item over --max-pixels",
            emb_in("{samples}/stac/item.json", "--max-pixels 1000"),
            "raise --max-pixels",
        ),
        (
            "embed --band stack tile over the token cap",
            emb_in(
                "--band red={samples}/stac/red.tif --band nir08={samples}/stac/nir08.tif",
                "--sensor landsat8_9 --tile 32 --max-tokens 10",
            ),
            "use a smaller --tile",
        ),
        (
            "pca STAC item over --max-memory",
            pca("{samples}/stac/item.json", "--max-memory 100K"),
            "raise --max-memory",
        ),
        // embed: the output, refused before any computation
        (
            "embed output is a dir",
            "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {fx}/dir.safetensors",
            "is a directory",
        ),
        (
            "embed output dir missing",
            "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {out}/no/e.safetensors",
            "does not exist",
        ),
        (
            "embed output dir unwritable",
            "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o /proc/e.safetensors",
            "not writable",
        ),
        // embed: sizes from headers, checked before any allocation
        (
            "embed 4e9² TIFF",
            emb_in("{fx}/claims_4e9.tif", "--wavelengths 665"),
            "raise --max-pixels",
        ),
        (
            "embed 4e9² TIFF --norm none",
            emb_in("{fx}/claims_4e9.tif", "--wavelengths 665 --norm none"),
            "raise --max-pixels",
        ),
        (
            "embed 4e9² TIFF with a stats file",
            emb_in(
                "{fx}/claims_4e9.tif",
                "--wavelengths 665 --norm {fx}/stats1.json",
            ),
            "raise --max-pixels",
        ),
        (
            "embed 16384² JPEG over --max-memory",
            emb_in(
                "{fx}/claims_16384.jpg",
                "--wavelengths 665,560,490 --max-memory 1G",
            ),
            "raise --max-memory",
        ),
        (
            "embed 16384² JPEG over --max-pixels",
            emb_in(
                "{fx}/claims_16384.jpg",
                "--wavelengths 665,560,490 --max-pixels 100000000",
            ),
            "raise --max-pixels",
        ),
        (
            "embed 30000² PNG over --max-memory",
            emb_in("{fx}/claims_30000.png", "--wavelengths 665 --max-memory 2G"),
            "raise --max-memory",
        ),
        // pca
        (
            "pca --tile 0",
            pca("{fx}/scene.tif", "--wavelengths 665,560,490 --tile 0"),
            "--tile 0",
        ),
        (
            "pca --stride 0",
            pca("{fx}/scene.tif", "--wavelengths 665,560,490 --stride 0"),
            "--stride 0",
        ),
        (
            "pca --batch 0",
            pca("{fx}/scene.tif", "--wavelengths 665,560,490 --batch 0"),
            "--batch 0",
        ),
        (
            "pca output is a dir",
            "pca --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {fx}/dir.png",
            "is a directory",
        ),
        (
            "pca output dir missing",
            "pca --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665,560,490 -o {out}/no/p.png",
            "does not exist",
        ),
        (
            "pca 4e9² TIFF --norm none",
            pca("{fx}/claims_4e9.tif", "--wavelengths 665 --norm none"),
            "raise --max-pixels",
        ),
        (
            "pca 4e9² TIFF with a stats file",
            pca(
                "{fx}/claims_4e9.tif",
                "--wavelengths 665 --norm {fx}/stats1.json",
            ),
            "raise --max-pixels",
        ),
        (
            "pca 16384² JPEG over --max-memory",
            pca(
                "{fx}/claims_16384.jpg",
                "--wavelengths 665,560,490 --max-memory 1G",
            ),
            "raise --max-memory",
        ),
        (
            "pca 30000² PNG over --max-memory",
            pca("{fx}/claims_30000.png", "--wavelengths 665 --max-memory 2G"),
            "raise --max-memory",
        ),
        (
            "pca tile over the token cap",
            pca("{fx}/claims_2048.tif", "--wavelengths 665 --tile 2048"),
            "use a smaller --tile",
        ),
        // forward: the budget
        (
            "fwd --max-pixels below the image",
            fwd("--input {fx}/ok.safetensors --max-pixels 100"),
            "raise --max-pixels",
        ),
        (
            "fwd --max-memory below the file",
            fwd("--input {fx}/ok.safetensors --max-memory 1K"),
            "raise --max-memory",
        ),
        (
            "fwd --max-memory 0",
            fwd("--input {fx}/ok.safetensors --max-memory 0"),
            "--max-memory 0",
        ),
        // forward: the input file
        (
            "fwd input missing",
            fwd("--input {fx}/nope.safetensors"),
            "nope.safetensors",
        ),
        (
            "fwd input garbage",
            fwd("--input {fx}/garbage.bin"),
            "not a valid safetensors",
        ),
        (
            "fwd input empty",
            fwd("--input {fx}/empty.bin"),
            "not a valid safetensors",
        ),
        (
            "fwd input 2^62 header",
            fwd("--input {fx}/huge_header.safetensors"),
            "not a valid safetensors",
        ),
        (
            "fwd input lying offsets",
            fwd("--input {fx}/lying.safetensors"),
            "not a valid safetensors",
        ),
        (
            "fwd no imgs",
            fwd("--input {fx}/no_imgs.safetensors"),
            "no `input.imgs`",
        ),
        (
            "fwd no chn_ids",
            fwd("--input {fx}/no_ids.safetensors"),
            "no `input.chn_ids`",
        ),
        (
            "fwd imgs rank 3",
            fwd("--input {fx}/rank3.safetensors"),
            "rank 4",
        ),
        (
            "fwd imgs int",
            fwd("--input {fx}/int_imgs.safetensors"),
            "float tensor",
        ),
        (
            "fwd B=0",
            fwd("--input {fx}/b0.safetensors"),
            "batch is empty",
        ),
        ("fwd C=0", fwd("--input {fx}/c0.safetensors"), "no channels"),
        (
            "fwd NaN pixel",
            fwd("--input {fx}/nan.safetensors"),
            "NaN or infinite pixels in channel 0",
        ),
        (
            "fwd -inf pixel",
            fwd("--input {fx}/inf.safetensors"),
            "NaN or infinite pixels in channel 1",
        ),
        (
            "fwd 3e38 pixels",
            fwd("--input {fx}/huge.safetensors"),
            "beyond the ±1e8",
        ),
        (
            "fwd one -2e9 pixel",
            fwd("--input {fx}/huge_one.safetensors"),
            "pixel of 2e9 in channel 2",
        ),
        (
            "fwd chn_ids too short",
            fwd("--input {fx}/ids_short.safetensors"),
            "chn_ids has shape [1, 2]",
        ),
        (
            "fwd chn_ids rank 1",
            fwd("--input {fx}/ids_rank1.safetensors"),
            "chn_ids has rank 1",
        ),
        (
            "fwd SAR id -13",
            fwd("--input {fx}/sar_bad.safetensors"),
            "invalid SAR channel id -13",
        ),
        (
            "fwd SAR id -1.5",
            fwd("--input {fx}/sar_frac.safetensors"),
            "invalid SAR channel id -1.5",
        ),
        (
            "fwd NaN id",
            fwd("--input {fx}/ids_nan.safetensors"),
            "expected a finite number",
        ),
        (
            "fwd bool ids",
            fwd("--input {fx}/ids_bool.safetensors"),
            "chn_ids has Bool",
        ),
        (
            "fwd image < patch",
            fwd("--input {fx}/small.safetensors"),
            "4x32 pixels but the patch size is 8",
        ),
        (
            "fwd 1200² image",
            fwd("--input {fx}/big.safetensors"),
            "22501 tokens per forward",
        ),
        (
            "fwd --max-tokens 16",
            fwd("--input {fx}/ok.safetensors --max-tokens 16"),
            "over the cap of 16",
        ),
        (
            "fwd --max-tokens 0",
            fwd("--input {fx}/ok.safetensors --max-tokens 0"),
            "--max-tokens 0",
        ),
        (
            "fwd spec_masks 2",
            fwd("--input {fx}/mask_two.safetensors"),
            "spec_masks holds 2 at sample 0, channel 1",
        ),
        (
            "fwd spec_masks bool byte 2",
            fwd("--input {fx}/mask_bool_two.safetensors"),
            "spec_masks holds 2",
        ),
        (
            "fwd spec_masks -1",
            fwd("--input {fx}/mask_neg.safetensors"),
            "spec_masks holds -1",
        ),
        (
            "fwd spec_masks all",
            fwd("--input {fx}/mask_all.safetensors"),
            "every channel of sample 0",
        ),
        (
            "fwd spec_masks shape",
            fwd("--input {fx}/mask_shape.safetensors"),
            "spec_masks has shape [1, 2]",
        ),
        (
            "fwd spec_masks rank 1",
            fwd("--input {fx}/mask_rank1.safetensors"),
            "spec_masks has rank 1",
        ),
        (
            "fwd spec_masks float",
            fwd("--input {fx}/mask_float.safetensors"),
            "0/1 integer",
        ),
        (
            "fwd token_masks 3",
            fwd("--input {fx}/tmask_two.safetensors"),
            "input.token_masks holds 3",
        ),
        (
            "fwd token_masks shape",
            fwd("--input {fx}/tmask_shape.safetensors"),
            "masks has shape [1, 5]",
        ),
        (
            "fwd token_masks rank 3",
            fwd("--input {fx}/tmask_rank3.safetensors"),
            "must have rank 2",
        ),
        (
            "fwd token_masks float",
            fwd("--input {fx}/tmask_float.safetensors"),
            "must be bool",
        ),
        // forward: arguments
        (
            "fwd output is a dir",
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}",
            "is a directory",
        ),
        (
            "fwd output dir missing",
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/no/o.safetensors",
            "does not exist",
        ),
        (
            "fwd layers 99",
            fwd("--input {fx}/ok.safetensors --layers 99"),
            "block 99 does not exist",
        ),
        (
            "fwd layers dup",
            fwd("--input {fx}/ok.safetensors --layers 1,1"),
            "duplicate block index",
        ),
        (
            "fwd device bogus",
            fwd("--input {fx}/ok.safetensors --device tpu"),
            "tpu",
        ),
        (
            "fwd part student",
            fwd("--input {fx}/ok.safetensors --part student"),
            "no backbone found",
        ),
        (
            "fwd config unknown",
            "forward --config vit_zz --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/o.safetensors",
            "unknown config `vit_zz`",
        ),
        // forward: weights
        (
            "fwd weights missing",
            fwd_w("{fx}/nope.pth"),
            "cannot open weights file",
        ),
        (
            "fwd weights empty",
            fwd_w("{fx}/empty.bin"),
            "empty or truncated",
        ),
        (
            "fwd weights garbage",
            fwd_w("{fx}/garbage.bin"),
            "unknown file signature",
        ),
        (
            "fwd weights truncated pth",
            fwd_w("{fx}/trunc.pth"),
            "not a readable checkpoint",
        ),
        (
            "fwd weights 64-byte pth",
            fwd_w("{fx}/head.pth"),
            "not a readable checkpoint",
        ),
        (
            "fwd weights NaN",
            fwd_w("{fx}/w_nan.safetensors"),
            "blocks.0.attn.qkv.weight in",
        ),
        (
            "fwd weights inf",
            fwd_w("{fx}/w_inf.safetensors"),
            "tensor norm.weight in",
        ),
        (
            "fwd weights NaN in PE",
            fwd_w("{fx}/w_nan_pe.safetensors"),
            "patch_embed.chnfus.query",
        ),
        (
            "fwd weights wrong shape",
            fwd_w("{fx}/w_shape.safetensors"),
            "tensor norm.bias in",
        ),
        (
            "fwd weights no cls_token",
            fwd_w("{fx}/w_missing.safetensors"),
            "no backbone found",
        ),
        (
            "fwd weights no norm",
            fwd_w("{fx}/w_missing_norm.safetensors"),
            "norm.weight",
        ),
        (
            "fwd weights int tensor",
            fwd_w("{fx}/w_int.safetensors"),
            "norm.bias",
        ),
        (
            "fwd weights are a bpk of garbage",
            fwd_w("{fx}/garbage.bpk"),
            "garbage.bpk",
        ),
        // forward: configs
        (
            "cfg embed_dim 3e9",
            fwd_cfg("cfg_dim.json"),
            "embed_dim 3000000000 is out of range",
        ),
        (
            "cfg depth 0",
            fwd_cfg("cfg_depth0.json"),
            "depth 0 is out of range",
        ),
        (
            "cfg depth 1e9",
            fwd_cfg("cfg_depth_huge.json"),
            "depth 1000000000 is out of range",
        ),
        (
            "cfg heads 5",
            fwd_cfg("cfg_heads.json"),
            "not divisible by num_heads 5",
        ),
        (
            "cfg heads 0",
            fwd_cfg("cfg_heads0.json"),
            "num_heads 0 is out of range",
        ),
        (
            "cfg mlp_ratio 1e300",
            fwd_cfg("cfg_mlp.json"),
            "mlp_ratio 1e300",
        ),
        (
            "cfg mlp_ratio -4",
            fwd_cfg("cfg_mlp_neg.json"),
            "mlp_ratio -4",
        ),
        (
            "cfg img_size 1e9",
            fwd_cfg("cfg_img.json"),
            "img_size 1000000000 is out of range",
        ),
        (
            "cfg patch_size 0",
            fwd_cfg("cfg_patch0.json"),
            "patch_size 0 is out of range",
        ),
        (
            "cfg patch_size 1e5",
            fwd_cfg("cfg_patch_big.json"),
            "patch_size 100000 is out of range",
        ),
        ("cfg eps -1", fwd_cfg("cfg_eps.json"), "layer_norm_eps -1"),
        (
            "cfg registers 1e6",
            fwd_cfg("cfg_regs.json"),
            "num_register_tokens 1000000",
        ),
        (
            "cfg drop_path 1.5",
            fwd_cfg("cfg_drop.json"),
            "drop_path_rate 1.5",
        ),
        (
            "cfg init_values 1e300",
            fwd_cfg("cfg_init.json"),
            "init_values 1e300",
        ),
        (
            "cfg interpolate_offset 7",
            fwd_cfg("cfg_offset.json"),
            "interpolate_offset 7",
        ),
        (
            "cfg attn_dim 3e9",
            fwd_cfg("cfg_attn.json"),
            "patch_embed.attn_dim 3000000000",
        ),
        (
            "cfg attn_dim odd",
            fwd_cfg("cfg_attn_odd.json"),
            "attn_dim 45",
        ),
        (
            "cfg pe heads 0",
            fwd_cfg("cfg_pe_heads.json"),
            "patch_embed.num_heads 0",
        ),
        (
            "cfg opt_coarsity 0",
            fwd_cfg("cfg_coarsity.json"),
            "patch_embed.opt_coarsity 0",
        ),
        (
            "cfg too many parameters",
            fwd_cfg("cfg_params.json"),
            "parameters",
        ),
        (
            "cfg truncated JSON",
            fwd_cfg("cfg_bad.json"),
            "cannot read config",
        ),
        // info
        (
            "info bpk embed_dim 3e9",
            "info {fx}/crafted_dim.bpk",
            "embed_dim 3000000000 is out of range",
        ),
        (
            "info bpk mlp_ratio 1e300",
            "info {fx}/crafted_mlp.bpk",
            "mlp_ratio 1e300",
        ),
        (
            "info bpk bad JSON",
            "info {fx}/crafted_json.bpk",
            "bad recorded config",
        ),
        (
            "info bpk garbage",
            "info {fx}/garbage.bpk",
            "not a readable burnpack",
        ),
        (
            "info no such name",
            "info no-such-weights",
            "neither a file nor a registry name",
        ),
        (
            "info NaN weights",
            "info {fx}/w_nan.safetensors --config tiny-test",
            "NaN/infinite",
        ),
        (
            "info bad config",
            "info {tiny}/weights.pth --config {fx}/cfg_dim.json",
            "embed_dim",
        ),
        (
            "info truncated pth",
            "info {fx}/trunc.pth --config tiny-test",
            "not a readable checkpoint",
        ),
        // bench
        ("bench --batch 0", bench("--batch 0"), "--batch 0"),
        ("bench --channels 0", bench("--channels 0"), "--channels 0"),
        ("bench --size 0", bench("--size 0"), "--size 0"),
        (
            "bench --reps 0",
            "bench --config tiny-test --reps 0",
            "--reps 0",
        ),
        (
            "bench --max-tokens 0",
            bench("--max-tokens 0"),
            "--max-tokens 0",
        ),
        ("bench --size 3", bench("--size 3"), "patch size is 8"),
        (
            "bench input over 16 GiB",
            bench("--size 100000 --channels 2"),
            "exceed 16 GiB",
        ),
        (
            "bench 20000² image",
            bench("--size 20000 --channels 1"),
            "tokens per forward",
        ),
        (
            "bench --max-tokens 10",
            bench("--size 32 --max-tokens 10"),
            "over the cap of 10",
        ),
        (
            "bench NaN weights",
            bench("--weights {fx}/w_nan.safetensors"),
            "NaN/infinite",
        ),
        (
            "bench bad config",
            "bench --config {fx}/cfg_depth0.json",
            "depth 0",
        ),
        ("bench device bogus", bench("--device tpu"), "tpu"),
        // weights
        (
            "convert src missing",
            "weights convert --src {fx}/nope.pth --preset tiny-test --out {out}/w.bpk",
            "no such file",
        ),
        (
            "convert out is a dir",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --out {out}",
            "is a directory",
        ),
        (
            "convert kind bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --kind zip --out {out}/w.bpk",
            "--kind zip",
        ),
        (
            "convert part bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --part both --out {out}/w.bpk",
            "--part both",
        ),
        (
            "convert precision bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --precision f64 --out {out}/w.bpk",
            "--precision f64",
        ),
        (
            "convert NaN weights",
            "weights convert --src {fx}/w_nan.safetensors --preset tiny-test --out {out}/w.bpk",
            "NaN/infinite",
        ),
        (
            "convert garbage",
            "weights convert --src {fx}/garbage.bin --preset tiny-test --out {out}/w.bpk",
            "unknown file signature",
        ),
        (
            "convert bad preset",
            "weights convert --src {tiny}/weights.pth --preset {fx}/cfg_heads.json --out {out}/w.bpk",
            "num_heads 5",
        ),
        (
            "convert device bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --device tpu --out {out}/w.bpk",
            "tpu",
        ),
        (
            "registry name ..",
            "weights --registry {fx}/reg_dotdot.toml list",
            "name `../../evil`",
        ),
        (
            "registry name a/b",
            "weights --registry {fx}/reg_slash.toml list",
            "name `a/b`",
        ),
        (
            "registry hf file ..",
            "weights --registry {fx}/reg_hf_file.toml list",
            "file `../../w.pth`",
        ),
        (
            "registry hf repo ..",
            "weights --registry {fx}/reg_hf_repo.toml list",
            "hf_repo `../b`",
        ),
        (
            "registry file:// url",
            "weights --registry {fx}/reg_scheme.toml list",
            "must be http(s)",
        ),
        (
            "registry bad sha256",
            "weights --registry {fx}/reg_sha.toml list",
            "sha256 must be 64 hex digits",
        ),
        (
            "registry bad TOML",
            "weights --registry {fx}/reg_bad.toml list",
            "reg_bad.toml",
        ),
        (
            "registry missing",
            "weights --registry {fx}/nope.toml list",
            "nope.toml",
        ),
        (
            "fetch unknown",
            "weights fetch no-such-weights",
            "unknown weights `no-such-weights`",
        ),
        ("fetch offline", "weights fetch dinov2-vits14", "offline"),
        (
            "verify unknown",
            "weights verify no-such-weights",
            "unknown weights",
        ),
        // eval
        (
            "eval device first",
            "eval --model {tiny}/weights.pth --tasks {fx}/nope --device tpu --out {out}/res",
            "tpu",
        ),
        (
            "eval tasks missing",
            eval("{fx}/nope"),
            "no such task config",
        ),
        ("eval tasks bad TOML", eval("{fx}/tasks_bad_toml"), "t.toml"),
        (
            "eval out is a file",
            "eval --model {tiny}/weights.pth --config tiny-test --tasks {fx}/tasks_empty --out {fx}/a_file",
            "is a file",
        ),
        (
            "eval datasets before model",
            "eval --model {fx}/nope.pth --config tiny-test --tasks {fx}/yaml_classes-task --out {out}/res",
            "num_classes is 5",
        ),
        (
            "eval yaml list",
            eval("{fx}/yaml_list-task"),
            "lists and anchors",
        ),
        (
            "eval yaml classes",
            eval("{fx}/yaml_classes-task"),
            "num_classes is 5",
        ),
        (
            "eval yaml count overflow",
            eval("{fx}/yaml_count-task"),
            "nsamples_per_shard",
        ),
        (
            "eval tar size past end",
            eval("{fx}/tar_size-task"),
            "past the end of the shard",
        ),
        (
            "eval tar garbage",
            eval("{fx}/tar_garbage-task"),
            "dataset-000000.tar",
        ),
        (
            "eval npy shape overflow",
            eval("{fx}/npy_shape-task"),
            "truncated",
        ),
        (
            "eval npy non-ASCII dtype",
            eval("{fx}/npy_descr-task"),
            "unsupported .npy dtype",
        ),
        (
            "eval npy empty dtype",
            eval("{fx}/npy_empty_descr-task"),
            "unsupported .npy dtype",
        ),
    ]
}

/// Rows clap refuses as command-line syntax: exit status 2 (as documented), one error line.
fn syntax_table() -> Vec<(&'static str, &'static str, &'static str)> {
    const EMB: &str = "embed --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif \
                       --wavelengths 665,560,490 -o {out}/e.safetensors";
    let emb = |rest: &'static str| -> &'static str {
        Box::leak(format!("{EMB} {rest}").into_boxed_str())
    };
    vec![
        ("embed --tile -8", emb("--tile=-8"), "'-8'"),
        ("embed --batch -1", emb("--batch=-1"), "'-1'"),
        ("embed --stride 1e3", emb("--stride 1e3"), "'1e3'"),
        (
            "embed --tile 2^64",
            emb("--tile 18446744073709551616"),
            "18446744073709551616",
        ),
        (
            "embed --max-memory 8X",
            emb("--max-memory 8X"),
            "unknown unit",
        ),
        ("embed --max-memory -1G", emb("--max-memory=-1G"), "-1G"),
        (
            "pca --tile -8",
            "pca --config tiny-test --weights {tiny}/weights.pth {fx}/scene.tif --wavelengths 665 -o {out}/p.png --tile=-8",
            "'-8'",
        ),
        (
            "fwd --max-pixels -1",
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/o.safetensors --max-pixels=-1",
            "'-1'",
        ),
    ]
}

fn expand(args: &str, fx: &Path, out: &Path) -> Vec<String> {
    args.split_whitespace()
        .map(|a| {
            a.replace("{fx}", fx.to_str().unwrap())
                .replace("{out}", out.to_str().unwrap())
                .replace("{tiny}", tiny_dir().to_str().unwrap())
                .replace("{samples}", concat!(env!("CARGO_MANIFEST_DIR"), "/samples"))
        })
        .collect()
}

#[test]
fn every_bad_input_is_one_clear_line_with_nothing_left_behind() {
    let root = tempfile::tempdir().unwrap();
    let fx = root.path().join("fx");
    std::fs::create_dir_all(&fx).unwrap();
    build_fixtures(&fx);
    let fixtures_before = files(&fx);

    // The limit must not get in the way of a good run.
    let out = root.path().join("good");
    std::fs::create_dir_all(&out).unwrap();
    let ok = run(
        &expand(
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/o.safetensors",
            &fx,
            &out,
        ),
        &out,
    );
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );

    let rows: Vec<_> = (table().into_iter().map(|(n, a, e)| (n, a, e, 1)))
        .chain(syntax_table().into_iter().map(|(n, a, e)| (n, a, e, 2)))
        .collect();
    let mut failures = Vec::new();
    let mut names = BTreeSet::new();
    for (i, (name, args, needle, code)) in rows.iter().enumerate() {
        assert!(names.insert(*name), "duplicate row name {name}");
        let out = root.path().join(format!("out{i}"));
        std::fs::create_dir_all(&out).unwrap();
        let res = run(&expand(args, &fx, &out), &out);
        let stderr = String::from_utf8_lossy(&res.stderr);
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error:")).collect();
        let mut problems = Vec::new();
        if res.status.code() != Some(*code) {
            problems.push(format!("exit status {:?}", res.status));
        }
        if stderr.contains("panicked") || stderr.contains("memory allocation of") {
            problems.push("panic or abort".to_string());
        }
        match errors[..] {
            [line] if line.contains(needle) => {}
            [line] => problems.push(format!("error line lacks `{needle}`: {line}")),
            _ => problems.push(format!("{} error lines", errors.len())),
        }
        let left: Vec<_> = files(&out)
            .into_iter()
            .filter(|p| !p.starts_with(".hf") && !p.starts_with(".cache"))
            .collect();
        if !left.is_empty() {
            problems.push(format!("left behind: {left:?}"));
        }
        if !problems.is_empty() {
            failures.push(format!(
                "{name}: {}\n  stderr: {stderr}",
                problems.join("; ")
            ));
        }
    }
    assert_eq!(
        files(&fx),
        fixtures_before,
        "files appeared next to the inputs"
    );
    assert!(
        failures.is_empty(),
        "{} of {} rows failed:\n{}",
        failures.len(),
        rows.len(),
        failures.join("\n")
    );
    assert!(rows.len() >= 120, "{} rows", rows.len());
}
