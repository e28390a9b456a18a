//! A float32 / float16 GeoTIFF writer for feature maps: many bands (one per embedding dimension),
//! band-interleaved (one strip per band), uncompressed, georeferenced like GDAL writes it.
//!
//! Written to a temp file next to the target and renamed, so a failed write leaves nothing.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::readers::GeoTransform;
use panopticon_atomic::write_file as write_atomically;

/// Errors of [`write_geotiff_f32`].
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// The file cannot be created or written (missing directory, permissions, full disk).
    #[error("cannot write `{}`: {source}; check that the directory exists and is writable", path.display())]
    Io {
        /// The target file.
        path: PathBuf,
        /// The underlying I/O error.
        source: std::io::Error,
    },
    /// The arguments do not describe an image this writer can store.
    #[error("cannot write `{}`: {reason}", path.display())]
    Invalid {
        /// The target file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

const SHORT: u16 = 3;
const LONG: u16 = 4;
const ASCII: u16 = 2;
const DOUBLE: u16 = 12;

/// One IFD entry, its values serialised little-endian.
struct Entry {
    tag: u16,
    kind: u16,
    count: u32,
    bytes: Vec<u8>,
}

fn shorts(tag: u16, v: &[u16]) -> Entry {
    Entry {
        tag,
        kind: SHORT,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn longs(tag: u16, v: &[u32]) -> Entry {
    Entry {
        tag,
        kind: LONG,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn doubles(tag: u16, v: &[f64]) -> Entry {
    Entry {
        tag,
        kind: DOUBLE,
        count: v.len() as u32,
        bytes: v.iter().flat_map(|x| x.to_le_bytes()).collect(),
    }
}

fn ascii(tag: u16, s: &str) -> Entry {
    let mut bytes = s.as_bytes().to_vec();
    bytes.push(0);
    Entry {
        tag,
        kind: ASCII,
        count: bytes.len() as u32,
        bytes,
    }
}

/// The GeoTIFF tags of a geotransform and CRS: scale + tiepoint for north-up grids, a full
/// model transformation otherwise; EPSG 4000–4999 is taken as geographic, others projected.
fn geo_entries(gt: Option<GeoTransform>, epsg: Option<u32>) -> Vec<Entry> {
    let mut out = Vec::new();
    if let Some(t) = gt {
        if t[2] == 0.0 && t[4] == 0.0 {
            out.push(doubles(33550, &[t[1], -t[5], 0.0]));
            out.push(doubles(33922, &[0.0, 0.0, 0.0, t[0], t[3], 0.0]));
        } else {
            #[rustfmt::skip]
            let m = [
                t[1], t[2], 0.0, t[0],
                t[4], t[5], 0.0, t[3],
                0.0, 0.0, 0.0, 0.0,
                0.0, 0.0, 0.0, 1.0,
            ];
            out.push(doubles(34264, &m));
        }
    }
    if gt.is_some() || epsg.is_some() {
        let mut keys: Vec<[u16; 4]> = vec![[1025, 0, 1, 1]]; // RasterPixelIsArea
        if let Some(code) = epsg {
            let geographic = (4000..5000).contains(&code);
            keys.push([1024, 0, 1, if geographic { 2 } else { 1 }]);
            keys.push([if geographic { 2048 } else { 3072 }, 0, 1, code as u16]);
        }
        keys.sort();
        let mut dir = vec![1u16, 1, 0, keys.len() as u16];
        dir.extend(keys.iter().flatten());
        out.push(shorts(34735, &dir));
    }
    out
}

/// Writes `data` (`[C, H, W]`, row-major) as a `C`-band float32 GeoTIFF.
///
/// `geotransform` is GDAL's pixel-corner affine transform; `nodata` becomes `GDAL_NODATA`.
#[allow(clippy::too_many_arguments)]
pub fn write_geotiff_f32(
    path: impl AsRef<Path>,
    bands: usize,
    height: usize,
    width: usize,
    data: &[f32],
    geotransform: Option<GeoTransform>,
    epsg: Option<u32>,
    nodata: Option<f64>,
) -> Result<(), WriteError> {
    let image = (bands, height, width);
    write_float(
        path.as_ref(),
        image,
        Samples::F32(data),
        geotransform,
        epsg,
        nodata,
    )
}

/// [`write_geotiff_f32`] with IEEE float16 samples (given as their bit patterns, e.g.
/// `half::f16::to_bits`): half the size; GDAL, rasterio and libtiff read them as float.
#[allow(clippy::too_many_arguments)]
pub fn write_geotiff_f16(
    path: impl AsRef<Path>,
    bands: usize,
    height: usize,
    width: usize,
    data: &[u16],
    geotransform: Option<GeoTransform>,
    epsg: Option<u32>,
    nodata: Option<f64>,
) -> Result<(), WriteError> {
    let image = (bands, height, width);
    write_float(
        path.as_ref(),
        image,
        Samples::F16(data),
        geotransform,
        epsg,
        nodata,
    )
}

/// IEEE float samples of one of the two widths.
#[derive(Clone, Copy)]
enum Samples<'a> {
    F32(&'a [f32]),
    F16(&'a [u16]),
}

impl Samples<'_> {
    fn len(&self) -> usize {
        match self {
            Self::F32(d) => d.len(),
            Self::F16(d) => d.len(),
        }
    }

    fn bits(&self) -> u16 {
        match self {
            Self::F32(_) => 32,
            Self::F16(_) => 16,
        }
    }

    /// Little-endian bytes of samples `range`.
    fn bytes(&self, range: std::ops::Range<usize>) -> Vec<u8> {
        match self {
            Self::F32(d) => d[range].iter().flat_map(|v| v.to_le_bytes()).collect(),
            Self::F16(d) => d[range].iter().flat_map(|v| v.to_le_bytes()).collect(),
        }
    }
}

fn write_float(
    path: &Path,
    (bands, height, width): (usize, usize, usize),
    data: Samples<'_>,
    geotransform: Option<GeoTransform>,
    epsg: Option<u32>,
    nodata: Option<f64>,
) -> Result<(), WriteError> {
    let invalid = |reason: String| WriteError::Invalid {
        path: path.into(),
        reason,
    };
    if bands == 0 || height == 0 || width == 0 {
        return Err(invalid(format!(
            "empty image ({bands} bands, {height}×{width})"
        )));
    }
    if data.len() != bands * height * width {
        return Err(invalid(format!(
            "{} samples given for {bands}×{height}×{width}",
            data.len()
        )));
    }
    if bands > u16::MAX as usize {
        return Err(invalid(format!("{bands} bands (at most 65535)")));
    }
    if epsg.is_some_and(|c| c > u16::MAX as u32) {
        return Err(invalid(format!("EPSG code {epsg:?} does not fit a GeoKey")));
    }
    let band_bytes = (height * width) as u64 * u64::from(data.bits() / 8);
    let header = 8u64;
    let image_end = header + band_bytes * bands as u64;
    if image_end > u32::MAX as u64 - (1 << 20) - 16 * bands as u64 {
        return Err(invalid(format!(
            "{:.1} GiB of samples; classic TIFF holds < 4 GiB, write fewer bands or a smaller map",
            image_end as f64 / (1u64 << 30) as f64
        )));
    }

    let offsets: Vec<u32> = (0..bands)
        .map(|b| (header + band_bytes * b as u64) as u32)
        .collect();
    let mut entries = vec![
        longs(256, &[width as u32]),
        longs(257, &[height as u32]),
        shorts(258, &vec![data.bits(); bands]),
        shorts(259, &[1]), // no compression
        shorts(262, &[1]), // BlackIsZero
        longs(273, &offsets),
        shorts(277, &[bands as u16]),
        longs(278, &[height as u32]),
        longs(279, &vec![band_bytes as u32; bands]),
        shorts(284, &[2]),            // planar: one plane per band
        shorts(339, &vec![3; bands]), // IEEE float
    ];
    if bands > 1 {
        entries.push(shorts(338, &vec![0; bands - 1])); // unspecified extra samples
    }
    entries.extend(geo_entries(geotransform, epsg));
    if let Some(v) = nodata {
        entries.push(ascii(42113, &format!("{v}")));
    }
    entries.sort_by_key(|e| e.tag);

    // Layout: header, image planes, IFD, then the out-of-line entry values.
    let ifd_offset = image_end + (image_end & 1);
    let ifd_len = 2 + 12 * entries.len() as u64 + 4;
    let mut extra_offset = ifd_offset + ifd_len;
    let mut ifd = Vec::with_capacity(ifd_len as usize);
    let mut extra = Vec::new();
    ifd.extend((entries.len() as u16).to_le_bytes());
    for e in &entries {
        ifd.extend(e.tag.to_le_bytes());
        ifd.extend(e.kind.to_le_bytes());
        ifd.extend(e.count.to_le_bytes());
        if e.bytes.len() <= 4 {
            let mut inline = e.bytes.clone();
            inline.resize(4, 0);
            ifd.extend(inline);
        } else {
            ifd.extend((extra_offset as u32).to_le_bytes());
            extra.extend(&e.bytes);
            extra_offset += e.bytes.len() as u64;
            if e.bytes.len() % 2 == 1 {
                extra.push(0);
                extra_offset += 1;
            }
        }
    }
    ifd.extend(0u32.to_le_bytes()); // no next IFD

    let io = |source| WriteError::Io {
        path: path.into(),
        source,
    };
    write_atomically(path, |f| {
        f.write_all(b"II")?;
        f.write_all(&42u16.to_le_bytes())?;
        f.write_all(&(ifd_offset as u32).to_le_bytes())?;
        for start in (0..data.len()).step_by(1 << 16) {
            f.write_all(&data.bytes(start..(start + (1 << 16)).min(data.len())))?;
        }
        if image_end & 1 == 1 {
            f.write_all(&[0])?;
        }
        f.write_all(&ifd)?;
        f.write_all(&extra)
    })
    .map_err(io)
}
