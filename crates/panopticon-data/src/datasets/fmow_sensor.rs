//! The three FMoW sources (spec §5.4): band counts, normalisation statistics, band lists.

/// An FMoW view source (the `sensor` list values of the footprint metadata).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FmowSensor {
    /// `wv23`: WorldView-2/3 8-band multispectral (fMoW-full MS), `fmow_wv23` chn_ids.
    Wv23,
    /// `s2`: fMoW-Sentinel 13-band Sentinel-2 (B01..B12 with B8A and B10), `fmow_s2`.
    S2,
    /// `rgb`: fMoW-full RGB (QuickBird-2 / GeoEye-1 / WorldView), `fmow_rgb` = R, G, B.
    Rgb,
}

/// Per-band means of `s2` (upstream `FmowDataset.MEAN["fmow_s2"]`, a float32 tensor).
///
/// All statistics keep upstream's literals; the compiler rounds them to `f32` exactly as
/// `torch.tensor([...])` does.
#[allow(clippy::excessive_precision)]
pub const FMOW_S2_MEAN: [f32; 13] = [
    1569.1970, 1383.9951, 1338.4231, 1408.1113, 1537.2856, 1926.5183, 2136.5127, 2033.4019,
    2262.4558, 674.1297, 16.7465, 2027.3674, 1501.4686,
];
/// Per-band standard deviations of `s2`.
#[allow(clippy::excessive_precision)]
pub const FMOW_S2_STD: [f32; 13] = [
    517.7932, 595.0351, 690.2477, 994.7734, 994.4599, 1079.4558, 1192.3668, 1170.9979, 1278.2103,
    474.7933, 15.1294, 1362.3807, 1134.5983,
];
/// Per-band means of `wv23` (the float64 literals upstream rounds to float32).
#[allow(clippy::excessive_precision)]
pub const FMOW_WV23_MEAN: [f32; 8] = [
    324.14698805992043,
    321.9731490132023,
    414.5839148154745,
    376.7135672751123,
    287.4754539285566,
    400.37182819120585,
    455.80341042344526,
    387.41375747632117,
];
/// Per-band standard deviations of `wv23`.
#[allow(clippy::excessive_precision)]
pub const FMOW_WV23_STD: [f32; 8] = [
    115.78370553994293,
    134.64109966204413,
    210.5490582067263,
    242.05723188930372,
    204.35781294894136,
    246.31516378243006,
    282.0780383349591,
    255.94032664657144,
];
/// Per-band means of `rgb` (R, G, B).
#[allow(clippy::excessive_precision)]
pub const FMOW_RGB_MEAN: [f32; 3] = [104.55944194258717, 106.19051077034885, 100.09524832336331];
/// Per-band standard deviations of `rgb`.
#[allow(clippy::excessive_precision)]
pub const FMOW_RGB_STD: [f32; 3] = [68.97789839437421, 66.91165970478865, 69.09505694641828];

impl FmowSensor {
    /// All three, in upstream's default `keep_sensors` order.
    pub const ALL: [FmowSensor; 3] = [Self::Wv23, Self::S2, Self::Rgb];

    /// Parses the metadata name (`wv23`, `s2`, `rgb`).
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "wv23" => Some(Self::Wv23),
            "s2" => Some(Self::S2),
            "rgb" => Some(Self::Rgb),
            _ => None,
        }
    }

    /// The metadata name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Wv23 => "wv23",
            Self::S2 => "s2",
            Self::Rgb => "rgb",
        }
    }

    /// Number of bands a file of this source stores.
    pub fn bands(self) -> usize {
        self.mean().len()
    }

    /// Per-band means (raw digital numbers).
    pub fn mean(self) -> &'static [f32] {
        match self {
            Self::Wv23 => &FMOW_WV23_MEAN,
            Self::S2 => &FMOW_S2_MEAN,
            Self::Rgb => &FMOW_RGB_MEAN,
        }
    }

    /// Per-band standard deviations.
    pub fn std(self) -> &'static [f32] {
        match self {
            Self::Wv23 => &FMOW_WV23_STD,
            Self::S2 => &FMOW_S2_STD,
            Self::Rgb => &FMOW_RGB_STD,
        }
    }

    /// The band list of the registry (`pretrain/fmow_*`).
    pub fn registry_dataset(self) -> &'static str {
        match self {
            Self::Wv23 => "pretrain/fmow_wv23",
            Self::S2 => "pretrain/fmow_s2",
            Self::Rgb => "pretrain/fmow_rgb",
        }
    }

    /// Channels `return_rgb` keeps, as R, G, B (upstream `RGB_CHANNELS`).
    pub fn rgb_channels(self) -> [usize; 3] {
        match self {
            Self::Wv23 => [4, 2, 1],
            Self::S2 => [3, 2, 1],
            Self::Rgb => [0, 1, 2],
        }
    }
}
