//! A small reader for NumPy `.npy` arrays (format versions 1–3): the header dict
//! (`descr`, `fortran_order`, `shape`) and C-ordered numeric or boolean data, as the
//! BigEarthNet v2 webdataset stores its `img.npy` / `label.npy` members.

/// A decoded array: values as `f64` (exact for every supported dtype except 64-bit
/// integers beyond 2^53) and the shape.
#[derive(Debug, Clone, PartialEq)]
pub struct NpyArray {
    /// The `descr` of the header, e.g. `<f4`, `|b1`.
    pub descr: String,
    /// The shape (`()` → `[]`, one value).
    pub shape: Vec<usize>,
    /// Values in C (row-major) order.
    pub data: Vec<f64>,
}

impl NpyArray {
    /// Values as `f32` (what the pipeline does with `torch.from_numpy(x).float()`).
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.iter().map(|&v| v as f32).collect()
    }
}

const MAGIC: &[u8] = b"\x93NUMPY";

/// Decodes one element from its bytes (`true`: little-endian).
type Decode = fn(&[u8], bool) -> f64;

/// Parses an in-memory `.npy` file. Errors name what is wrong (magic, header, dtype,
/// Fortran order, truncated data).
pub fn parse_npy(bytes: &[u8]) -> Result<NpyArray, String> {
    if bytes.len() < 10 || &bytes[..6] != MAGIC {
        return Err("not a .npy file (missing \\x93NUMPY magic)".into());
    }
    let major = bytes[6];
    let (header_len, start): (usize, usize) = match major {
        1 => (u16::from_le_bytes([bytes[8], bytes[9]]) as usize, 10),
        2 | 3 => {
            if bytes.len() < 12 {
                return Err("truncated .npy header".into());
            }
            (
                u32::from_le_bytes([bytes[8], bytes[9], bytes[10], bytes[11]]) as usize,
                12,
            )
        }
        v => {
            return Err(format!(
                ".npy format version {v} is not supported (1, 2, 3 are)"
            ));
        }
    };
    let end = start
        .checked_add(header_len)
        .ok_or("the .npy header length overflows")?;
    let header = bytes
        .get(start..end)
        .ok_or("truncated .npy header")
        .and_then(|h| std::str::from_utf8(h).map_err(|_| "the .npy header is not text"))?;
    let descr = dict_value(header, "descr")
        .map(|v| v.trim_matches(|c| c == '\'' || c == '"').to_string())
        .ok_or_else(|| format!("the .npy header has no `descr`: {header}"))?;
    let fortran = dict_value(header, "fortran_order").unwrap_or("False");
    if fortran.trim() != "False" {
        return Err("Fortran-ordered .npy arrays are not supported (save with C order)".into());
    }
    let shape_text = dict_value(header, "shape")
        .ok_or_else(|| format!("the .npy header has no `shape`: {header}"))?;
    let shape = shape_text
        .trim_matches(|c| c == '(' || c == ')')
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse::<usize>()
                .map_err(|_| format!("bad .npy shape {shape_text}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !descr.is_ascii() || descr.len() < 2 {
        return Err(format!(
            "unsupported .npy dtype `{}` (expected e.g. `<f4`)",
            descr.escape_debug()
        ));
    }
    let body = &bytes[end..];
    let (size, decode): (usize, Decode) = match &descr[1..] {
        "f4" => (4, |b, le| f32_from(b, le) as f64),
        "f8" => (8, |b, le| f64::from_bits(u64_from(b, le))),
        "i1" => (1, |b, _| b[0] as i8 as f64),
        "u1" | "b1" => (1, |b, _| b[0] as f64),
        "i2" => (2, |b, le| u16_from(b, le) as i16 as f64),
        "u2" => (2, |b, le| u16_from(b, le) as f64),
        "i4" => (4, |b, le| u32_from(b, le) as i32 as f64),
        "u4" => (4, |b, le| u32_from(b, le) as f64),
        "i8" => (8, |b, le| u64_from(b, le) as i64 as f64),
        "u8" => (8, |b, le| u64_from(b, le) as f64),
        _ => return Err(format!("unsupported .npy dtype `{descr}`")),
    };
    let little = match descr.as_bytes()[0] {
        b'<' | b'|' => true,
        b'>' => false,
        b'=' => cfg!(target_endian = "little"),
        _ => return Err(format!("unsupported .npy dtype `{descr}`")),
    };
    // Checked: a crafted shape like (12, 2^32, 2^32) must not wrap around and pass the
    // length check; the data is then bounded by the file's own length.
    let need = shape
        .iter()
        .try_fold(size, |acc, &d| acc.checked_mul(d))
        .filter(|&need| need <= body.len())
        .ok_or_else(|| {
            format!(
                ".npy data truncated: shape {shape:?} of `{descr}` needs more bytes than the {} \
                 the file holds",
                body.len()
            )
        })?;
    let n = need / size;
    let data = body[..n * size]
        .chunks_exact(size)
        .map(|c| decode(c, little))
        .collect();
    Ok(NpyArray { descr, shape, data })
}

/// The raw text of `'key': value` in the header dict (up to the next top-level comma).
fn dict_value<'a>(header: &'a str, key: &str) -> Option<&'a str> {
    let pos = header
        .find(&format!("'{key}'"))
        .or_else(|| header.find(&format!("\"{key}\"")))?;
    let rest = &header[pos + key.len() + 2..];
    let rest = rest[rest.find(':')? + 1..].trim_start();
    let mut depth = 0;
    for (i, ch) in rest.char_indices() {
        match ch {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' | '}' if depth == 0 => return Some(rest[..i].trim()),
            _ => {}
        }
    }
    None
}

fn u16_from(b: &[u8], le: bool) -> u16 {
    let a = [b[0], b[1]];
    if le {
        u16::from_le_bytes(a)
    } else {
        u16::from_be_bytes(a)
    }
}

fn u32_from(b: &[u8], le: bool) -> u32 {
    let a = [b[0], b[1], b[2], b[3]];
    if le {
        u32::from_le_bytes(a)
    } else {
        u32::from_be_bytes(a)
    }
}

fn f32_from(b: &[u8], le: bool) -> f32 {
    f32::from_bits(u32_from(b, le))
}

fn u64_from(b: &[u8], le: bool) -> u64 {
    let a: [u8; 8] = b[..8].try_into().expect("8 bytes");
    if le {
        u64::from_le_bytes(a)
    } else {
        u64::from_be_bytes(a)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn npy(descr: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        npy_order(descr, "False", shape, body)
    }

    fn npy_order(descr: &str, fortran: &str, shape: &str, body: &[u8]) -> Vec<u8> {
        let mut h =
            format!("{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape}, }}");
        while (10 + h.len() + 1) % 64 != 0 {
            h.push(' ');
        }
        h.push('\n');
        let mut out = MAGIC.to_vec();
        out.extend([1, 0]);
        out.extend((h.len() as u16).to_le_bytes());
        out.extend(h.as_bytes());
        out.extend(body);
        out
    }

    #[test]
    fn reads_f32_and_bool() {
        let body: Vec<u8> = [1.5f32, -2.0, 3.25, 0.0, 7.0, 8.0]
            .iter()
            .flat_map(|v| v.to_le_bytes())
            .collect();
        let a = parse_npy(&npy("<f4", "(2, 3)", &body)).unwrap();
        assert_eq!(a.shape, vec![2, 3]);
        assert_eq!(a.to_f32(), vec![1.5, -2.0, 3.25, 0.0, 7.0, 8.0]);
        let b = parse_npy(&npy("|b1", "(3,)", &[1, 0, 1])).unwrap();
        assert_eq!((b.shape, b.data), (vec![3], vec![1.0, 0.0, 1.0]));
        let be = parse_npy(&npy(">i2", "(1,)", &(-3i16).to_be_bytes())).unwrap();
        assert_eq!(be.data, vec![-3.0]);
    }

    #[test]
    fn bad_files_are_errors() {
        assert!(
            parse_npy(b"PK\x03\x04 not npy")
                .unwrap_err()
                .contains("magic")
        );
        let e = parse_npy(&npy("<f4", "(4,)", &[0; 8])).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        let e = parse_npy(&npy("<c8", "(1,)", &[0; 8])).unwrap_err();
        assert!(e.contains("unsupported .npy dtype `<c8`"), "{e}");
        let e = parse_npy(&npy_order("<f4", "True", "(1,)", &[0; 4])).unwrap_err();
        assert!(e.contains("Fortran"), "{e}");
    }

    #[test]
    fn crafted_headers_are_errors_not_panics() {
        for descr in ["", "<", "é4", "<é"] {
            let e = parse_npy(&npy(descr, "(1,)", &[0; 8])).unwrap_err();
            assert!(e.contains("unsupported .npy dtype"), "{descr}: {e}");
        }
        // (12, 2^32, 2^32) * 4 bytes wraps a u64 product to 0; it must not pass.
        let e = parse_npy(&npy("<f4", "(12, 4294967296, 4294967296)", &[0; 8])).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        let e = parse_npy(&npy("<f4", "(18446744073709551615, 2)", &[0; 8])).unwrap_err();
        assert!(e.contains("truncated"), "{e}");
        // A zero-sized dimension is a valid empty array.
        let a = parse_npy(&npy("<f4", "(0, 4294967296)", &[])).unwrap();
        assert!(a.data.is_empty());
        // Version 2 header length beyond the file.
        let mut v2 = MAGIC.to_vec();
        v2.extend([2, 0, 0xff, 0xff, 0xff, 0xff]);
        assert!(parse_npy(&v2).unwrap_err().contains("truncated"));
    }
}
