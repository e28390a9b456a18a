//! numpy arrays in a decoded pickle: the two shapes numpy gives an array
//! (`_reconstruct` + `BUILD` state for protocols ≤ 4, `_frombuffer` for protocol 5), decoded to
//! f64 values in C order.

use super::pickle::{Py, R};

/// A numpy array decoded to f64 values, row-major (C order).
#[derive(Debug, Clone, PartialEq)]
pub struct NdArray {
    /// Shape.
    pub shape: Vec<usize>,
    /// Values.
    pub values: Vec<f64>,
}

impl Py {
    /// The array if `self` is a pickled numpy array (`None` if it is something else, an
    /// error if it looks like one but cannot be decoded).
    pub fn ndarray(&self) -> Option<R<NdArray>> {
        let Py::Object {
            callable,
            args,
            state,
        } = self
        else {
            return None;
        };
        if is_numpy(callable, "multiarray", "_reconstruct") {
            // state = (version, shape, dtype, is_fortran, raw bytes)
            let r = (|| {
                let Some(Py::Tuple(s)) = state.as_deref() else {
                    return Err("numpy array without its BUILD state".to_string());
                };
                let [_, shape, dt, fortran, Py::Bytes(raw)] = &s[..] else {
                    return Err(format!("numpy array state has {} fields", s.len()));
                };
                let shape = shape_of(shape)?;
                let values = decode(raw, dtype(dt)?)?;
                Ok((shape, values, matches!(fortran, Py::Bool(true))))
            })();
            Some(r.and_then(finish))
        } else if is_numpy(callable, "numeric", "_frombuffer") {
            // args = (buffer, dtype, shape, order)
            let r = (|| {
                let Py::Tuple(a) = &**args else {
                    return Err("_frombuffer without arguments".to_string());
                };
                let [Py::Bytes(raw), dt, shape, order] = &a[..] else {
                    return Err(format!("_frombuffer has {} arguments", a.len()));
                };
                let shape = shape_of(shape)?;
                let values = decode(raw, dtype(dt)?)?;
                Ok((shape, values, matches!(order, Py::Str(o) if o == "F")))
            })();
            Some(r.and_then(finish))
        } else {
            None
        }
    }
}

fn finish((shape, values, fortran): (Vec<usize>, Vec<f64>, bool)) -> R<NdArray> {
    let n = shape.iter().try_fold(1usize, |a, &d| a.checked_mul(d));
    if n != Some(values.len()) {
        return Err(format!(
            "numpy array of shape {shape:?} holds {} values",
            values.len()
        ));
    }
    let values = if fortran {
        fortran_to_c(values, &shape)
    } else {
        values
    };
    Ok(NdArray { shape, values })
}

fn is_numpy(g: &Py, module_suffix: &str, name: &str) -> bool {
    matches!(g, Py::Global(m, n) if n == name
        && (m == &format!("numpy.core.{module_suffix}") || m == &format!("numpy._core.{module_suffix}")))
}

/// A numpy dtype object: (kind, item size, little endian).
fn dtype(d: &Py) -> R<(char, usize, bool)> {
    let Py::Object {
        callable,
        args,
        state,
    } = d
    else {
        return Err("the array's dtype is not a numpy.dtype object".into());
    };
    if !matches!(&**callable, Py::Global(m, n) if m == "numpy" && n == "dtype") {
        return Err(format!(
            "the array's dtype is {callable:?}, not numpy.dtype"
        ));
    }
    let Py::Tuple(a) = &**args else {
        return Err("numpy.dtype without arguments".into());
    };
    let Some(Py::Str(code)) = a.first() else {
        return Err("numpy.dtype without a type code".into());
    };
    let mut chars = code.chars();
    let kind = chars.next().ok_or("empty numpy type code")?;
    let size: usize = chars
        .as_str()
        .parse()
        .map_err(|_| format!("numpy type code `{code}`"))?;
    let order = match state.as_deref() {
        Some(Py::Tuple(s)) => match s.get(1) {
            Some(Py::Str(o)) => o.clone(),
            _ => "|".into(),
        },
        _ => "|".into(),
    };
    let little = match order.as_str() {
        ">" => false,
        "<" | "|" => true,
        "=" => cfg!(target_endian = "little"),
        o => return Err(format!("numpy byte order `{o}`")),
    };
    Ok((kind, size, little))
}

fn decode(raw: &[u8], (kind, size, little): (char, usize, bool)) -> R<Vec<f64>> {
    if !matches!(
        (kind, size),
        ('b', 1) | ('u' | 'i', 1 | 2 | 4 | 8) | ('f', 4 | 8)
    ) {
        return Err(format!("numpy dtype {kind}{size} is not supported"));
    }
    if !raw.len().is_multiple_of(size) {
        return Err(format!(
            "{} data bytes for items of {size} bytes",
            raw.len()
        ));
    }
    raw.chunks(size)
        .map(|c| {
            let mut b = [0u8; 8];
            if little {
                b[..size].copy_from_slice(c);
            } else {
                for (i, &x) in c.iter().rev().enumerate() {
                    b[i] = x;
                }
            }
            let u = u64::from_le_bytes(b);
            Ok(match (kind, size) {
                ('b', 1) => (u != 0) as u8 as f64,
                ('u', 1 | 2 | 4 | 8) => u as f64,
                ('i', 1 | 2 | 4 | 8) => {
                    let shift = 64 - 8 * size as u32;
                    (((u << shift) as i64) >> shift) as f64
                }
                ('f', 4) => f32::from_bits(u as u32) as f64,
                ('f', 8) => f64::from_bits(u),
                _ => return Err(format!("numpy dtype {kind}{size} is not supported")),
            })
        })
        .collect()
}

fn shape_of(p: &Py) -> R<Vec<usize>> {
    match p {
        Py::Tuple(v) | Py::List(v) => v
            .iter()
            .map(|d| match d {
                Py::Int(i) if *i >= 0 => Ok(*i as usize),
                other => Err(format!("array dimension {other:?}")),
            })
            .collect(),
        Py::Int(i) if *i >= 0 => Ok(vec![*i as usize]),
        other => Err(format!("array shape {other:?}")),
    }
}

fn fortran_to_c(values: Vec<f64>, shape: &[usize]) -> Vec<f64> {
    if shape.len() < 2 {
        return values;
    }
    // Element at C index (i0, ..., ik) sits at Fortran offset Σ i_j · Π_{l<j} shape_l.
    let n = values.len();
    let mut out = Vec::with_capacity(n);
    for c in 0..n {
        let (mut rem, mut off, mut stride) = (c, 0, 1);
        let mut idx = vec![0; shape.len()];
        for j in (0..shape.len()).rev() {
            idx[j] = rem % shape[j];
            rem /= shape[j];
        }
        for (j, &i) in idx.iter().enumerate() {
            off += i * stride;
            stride *= shape[j];
        }
        out.push(values[off]);
    }
    out
}
