//! Crafted inputs: tensors, weights, configs, registries, datasets and image headers that
//! claim any size.

use super::*;

pub(super) fn f32s(shape: &[usize], f: impl Fn(usize) -> f32) -> TensorData {
    let n: usize = shape.iter().product();
    TensorData::new((0..n).map(f).collect::<Vec<f32>>(), shape.to_vec())
}

/// Pseudo-random standardised pixels.
pub(super) fn pixels(shape: &[usize]) -> TensorData {
    f32s(shape, |i| ((i * 7919 % 1000) as f32 / 500.0) - 1.0)
}

pub(super) fn ids(b: usize, v: &[f32]) -> TensorData {
    let flat: Vec<f32> = (0..b).flat_map(|_| v.iter().copied()).collect();
    TensorData::new(flat, [b, v.len()])
}

pub(super) fn raw(bytes: Vec<u8>, shape: &[usize], dtype: DType) -> TensorData {
    TensorData::from_bytes_vec(bytes, shape.to_vec(), dtype)
}

pub(super) fn save(path: &Path, tensors: Vec<(&str, TensorData)>) {
    let t: Vec<(String, TensorData)> = tensors
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    write_safetensors(path, &t).unwrap();
}

/// A forward input: `imgs`, `chn_ids` and extra tensors.
pub(super) fn input(
    fx: &Path,
    name: &str,
    imgs: TensorData,
    chn: TensorData,
    extra: Vec<(&str, TensorData)>,
) {
    let mut t = vec![("input.imgs", imgs), ("input.chn_ids", chn)];
    t.extend(extra);
    save(&fx.join(format!("{name}.safetensors")), t);
}

/// The tiny weights with `edit` applied to one tensor (or the tensor removed).
pub(super) fn weights(
    fx: &Path,
    name: &str,
    key: &str,
    edit: impl Fn(TensorData) -> Option<TensorData>,
) {
    let mut t = read_safetensors(tiny_dir().join("weights.safetensors")).unwrap();
    let v = t.remove(key).unwrap();
    if let Some(v) = edit(v) {
        t.insert(key.to_string(), v);
    }
    let t: Vec<(String, TensorData)> = t.into_iter().collect();
    write_safetensors(fx.join(name), &t).unwrap();
}

pub(super) fn with_value(v: TensorData, x: f32) -> Option<TensorData> {
    let shape = v.shape().to_vec();
    let mut vals = v.convert::<f32>().try_to_vec::<f32>().unwrap();
    vals[0] = x;
    Some(TensorData::new(vals, shape))
}

/// The tiny config as JSON with `field` (a `/`-separated path) set to `value`.
pub(super) fn config(fx: &Path, name: &str, field: &str, value: serde_json::Value) {
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    let mut slot = &mut v;
    for k in field.split('/') {
        slot = slot.get_mut(k).unwrap_or_else(|| panic!("no field {k}"));
    }
    *slot = value;
    std::fs::write(fx.join(name), serde_json::to_string(&v).unwrap()).unwrap();
}

/// A `.bpk` of the tiny model whose recorded config is `config_json`.
pub(super) fn burnpack_with_config(path: &Path, config_json: &str) {
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
pub(super) fn registry(fx: &Path, file: &str, name: &str, source: &str) {
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
pub(super) fn benv2_task(fx: &Path, name: &str, edit: impl Fn(&Path)) {
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
pub(super) fn edit_first_npy_header(shard: &Path, f: impl Fn(&str) -> String) {
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
pub(super) fn set_first_tar_size(shard: &Path, size: u64) {
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
pub(super) fn tiff_claiming(path: &Path, height: u32, width: u32) {
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
pub(super) fn crc32(bytes: &[u8]) -> u32 {
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
pub(super) fn png_claiming(path: &Path, side: u32) {
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
pub(super) fn jpeg_claiming(path: &Path, side: u16) {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/data/jpeg/rgb.jpg");
    let mut b = std::fs::read(src).unwrap();
    let sof = b.windows(2).position(|w| w == [0xFF, 0xC0]).expect("SOF0");
    b[sof + 5..sof + 7].copy_from_slice(&side.to_be_bytes());
    b[sof + 7..sof + 9].copy_from_slice(&side.to_be_bytes());
    std::fs::write(path, b).unwrap();
}

/// The inputs of the `embed` / `pca` rows.
pub(super) fn build_scene_fixtures(fx: &Path) {
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
