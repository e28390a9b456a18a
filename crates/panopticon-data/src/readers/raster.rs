//! The in-memory raster every reader returns.

/// The type of a raster's samples as stored in the file (`u8`, `i16`, `f32`, …).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SampleType {
    /// Unsigned 8-bit.
    U8,
    /// Signed 8-bit.
    I8,
    /// Unsigned 16-bit.
    U16,
    /// Signed 16-bit.
    I16,
    /// Unsigned 32-bit.
    U32,
    /// Signed 32-bit.
    I32,
    /// 32-bit float.
    F32,
    /// 64-bit float.
    F64,
}

/// Samples in their stored type, in `[C, H, W]` (band-major) order.
#[derive(Debug, Clone, PartialEq)]
pub enum RasterData {
    /// Unsigned 8-bit samples.
    U8(Vec<u8>),
    /// Signed 8-bit samples.
    I8(Vec<i8>),
    /// Unsigned 16-bit samples.
    U16(Vec<u16>),
    /// Signed 16-bit samples.
    I16(Vec<i16>),
    /// Unsigned 32-bit samples.
    U32(Vec<u32>),
    /// Signed 32-bit samples.
    I32(Vec<i32>),
    /// 32-bit float samples.
    F32(Vec<f32>),
    /// 64-bit float samples.
    F64(Vec<f64>),
}

macro_rules! each_variant {
    ($data:expr, $v:ident => $body:expr) => {
        match $data {
            RasterData::U8($v) => $body,
            RasterData::I8($v) => $body,
            RasterData::U16($v) => $body,
            RasterData::I16($v) => $body,
            RasterData::U32($v) => $body,
            RasterData::I32($v) => $body,
            RasterData::F32($v) => $body,
            RasterData::F64($v) => $body,
        }
    };
}

impl RasterData {
    /// The sample type.
    pub fn dtype(&self) -> SampleType {
        match self {
            Self::U8(_) => SampleType::U8,
            Self::I8(_) => SampleType::I8,
            Self::U16(_) => SampleType::U16,
            Self::I16(_) => SampleType::I16,
            Self::U32(_) => SampleType::U32,
            Self::I32(_) => SampleType::I32,
            Self::F32(_) => SampleType::F32,
            Self::F64(_) => SampleType::F64,
        }
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        each_variant!(self, v => v.len())
    }

    /// Whether there are no samples.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Every sample as `f32` (`as` cast: exact up to 2^24 for integers, rounded for f64).
    #[allow(clippy::unnecessary_cast)] // one macro arm per type, f32 included
    pub fn to_f32(&self) -> Vec<f32> {
        each_variant!(self, v => v.iter().map(|&x| x as f32).collect())
    }

    /// Every sample as `f64` (exact for every stored type).
    #[allow(clippy::unnecessary_cast)] // one macro arm per type, f64 included
    pub fn to_f64(&self) -> Vec<f64> {
        each_variant!(self, v => v.iter().map(|&x| x as f64).collect())
    }

    /// Raw little-endian bytes of the samples (what GDAL's `ReadAsArray().tobytes()` gives).
    pub fn to_le_bytes(&self) -> Vec<u8> {
        each_variant!(self, v => v.iter().flat_map(|x| x.to_le_bytes()).collect())
    }
}

/// GDAL-style affine geotransform `[x0, dx/dcol, dx/drow, y0, dy/dcol, dy/drow]`: pixel
/// corner `(col, row)` maps to `x = x0 + col·t[1] + row·t[2]`, `y = y0 + col·t[4] + row·t[5]`.
pub type GeoTransform = [f64; 6];

/// A decoded multi-band image.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    /// Number of bands `C`.
    pub bands: usize,
    /// Height `H` in pixels.
    pub height: usize,
    /// Width `W` in pixels.
    pub width: usize,
    /// Samples in `[C, H, W]` order, in the stored type.
    pub data: RasterData,
    /// Pixel-corner geotransform as GDAL reports it, when the file is georeferenced.
    pub geotransform: Option<GeoTransform>,
    /// EPSG code of the CRS, when the file names one.
    pub epsg: Option<u32>,
    /// No-data value (`GDAL_NODATA`), when the file sets one.
    pub nodata: Option<f64>,
}

impl Raster {
    /// The stored sample type.
    pub fn dtype(&self) -> SampleType {
        self.data.dtype()
    }

    /// The samples as `f32` in `[C, H, W]` order.
    pub fn to_f32(&self) -> Vec<f32> {
        self.data.to_f32()
    }
}
