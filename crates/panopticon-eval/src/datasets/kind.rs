//! The evaluation datasets by `dataset.id`: class names, counts, label kind and channels.

use super::benv2::BenBands;
use super::geobench::GeoBenchTask;
use crate::error::{EvalError, Result};

/// The 10 EuroSAT classes, in label order.
pub const EUROSAT_CLASSES: [&str; 10] = [
    "AnnualCrop",
    "Forest",
    "HerbaceousVegetation",
    "Highway",
    "Industrial",
    "Pasture",
    "PermanentCrop",
    "Residential",
    "River",
    "SeaLake",
];

/// The 45 RESISC45 classes, alphabetical (= label order).
pub const RESISC45_CLASSES: [&str; 45] = [
    "airplane",
    "airport",
    "baseball_diamond",
    "basketball_court",
    "beach",
    "bridge",
    "chaparral",
    "church",
    "circular_farmland",
    "cloud",
    "commercial_area",
    "dense_residential",
    "desert",
    "forest",
    "freeway",
    "golf_course",
    "ground_track_field",
    "harbor",
    "industrial_area",
    "intersection",
    "island",
    "lake",
    "meadow",
    "medium_residential",
    "mobile_home_park",
    "mountain",
    "overpass",
    "palace",
    "parking_lot",
    "railway",
    "railway_station",
    "rectangular_farmland",
    "river",
    "roundabout",
    "runway",
    "sea_ice",
    "ship",
    "snowberg",
    "sparse_residential",
    "stadium",
    "storage_tank",
    "tennis_court",
    "terrace",
    "thermal_power_station",
    "wetland",
];

/// The 19 classes of the BigEarthNet nomenclature (BENv2 and the SpectralEarth Corine task
/// use the same 43 → 19 conversion), in label order.
pub const BEN19_CLASSES: [&str; 19] = [
    "Urban fabric",
    "Industrial or commercial units",
    "Arable land",
    "Permanent crops",
    "Pastures",
    "Complex cultivation patterns",
    "Land principally occupied by agriculture, with significant areas of natural vegetation",
    "Agro-forestry areas",
    "Broad-leaved forest",
    "Coniferous forest",
    "Mixed forest",
    "Natural grassland and sparsely vegetated areas",
    "Moors, heathland and sclerophyllous vegetation",
    "Transitional woodland, shrub",
    "Beaches, dunes, sands",
    "Inland wetlands",
    "Coastal wetlands",
    "Inland waters",
    "Marine waters",
];

/// Which dataset (and so which reader and normalisation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetKind {
    /// `eurosat-sar`.
    EurosatSar,
    /// `resisc45`.
    Resisc45,
    /// `benv2_webdataset`: the webdataset shards the paper's tasks read.
    Benv2Webdataset(BenBands),
    /// `benv2`: the raw BigEarthNet v2 folders.
    Benv2Raw(BenBands),
    /// `corine`: the SpectralEarth EnMAP-Corine multilabel task.
    Corine,
    /// `geobench.<task>`: a GeoBench classification task.
    GeoBench(GeoBenchTask),
}

/// Known `dataset.id` values, for error messages.
pub const DATASET_IDS: &str = "eurosat-sar, resisc45, benv2_webdataset, benv2, corine, \
                               geobench.{m-eurosat, m-brick-kiln, m-forestnet, m-pv4ger, m-so2sat, \
                               m-bigearthnet}";

impl DatasetKind {
    /// The config id (`eurosat-sar`, `resisc45`, `benv2_webdataset`, `benv2`, `corine`).
    pub fn id(self) -> &'static str {
        match self {
            Self::EurosatSar => "eurosat-sar",
            Self::Resisc45 => "resisc45",
            Self::Benv2Webdataset(_) => "benv2_webdataset",
            Self::Benv2Raw(_) => "benv2",
            Self::Corine => "corine",
            Self::GeoBench(t) => t.id(),
        }
    }

    /// Parses a config id; BigEarthNet v2 also needs `bands` (`s1`, `s2` or `all`).
    pub fn parse(id: &str, bands: Option<&str>) -> Result<Self> {
        let kind = match id {
            "eurosat-sar" => Self::EurosatSar,
            "resisc45" => Self::Resisc45,
            "benv2_webdataset" => {
                return Ok(Self::Benv2Webdataset(BenBands::parse(bands.unwrap_or(""))?));
            }
            "benv2" => return Ok(Self::Benv2Raw(BenBands::parse(bands.unwrap_or(""))?)),
            "corine" => Self::Corine,
            other if other.starts_with("geobench.") => {
                match GeoBenchTask::parse(&other["geobench.".len()..]) {
                    Some(t) => Self::GeoBench(t),
                    None => {
                        return Err(EvalError::Config {
                            field: "dataset.id".into(),
                            value: format!("\"{other}\""),
                            reason: format!("known datasets: {DATASET_IDS}"),
                        });
                    }
                }
            }
            other => {
                return Err(EvalError::Config {
                    field: "dataset.id".into(),
                    value: format!("\"{other}\""),
                    reason: format!("known datasets: {DATASET_IDS}"),
                });
            }
        };
        if let Some(b) = bands {
            return Err(EvalError::Config {
                field: "dataset.bands".into(),
                value: format!("\"{b}\""),
                reason: format!("only BigEarthNet v2 takes `bands`; {id} has fixed bands"),
            });
        }
        Ok(kind)
    }

    /// Class names in label order.
    pub fn classes(self) -> &'static [&'static str] {
        match self {
            Self::EurosatSar => &EUROSAT_CLASSES,
            Self::Resisc45 => &RESISC45_CLASSES,
            Self::Benv2Webdataset(_) | Self::Benv2Raw(_) | Self::Corine => &BEN19_CLASSES,
            Self::GeoBench(_) => &[],
        }
    }

    /// Number of classes (labels, for multilabel datasets).
    pub fn num_classes(self) -> usize {
        match self {
            Self::GeoBench(t) => t.num_classes(),
            other => other.classes().len(),
        }
    }

    /// The name of class `i` (its index where the dataset has no names).
    pub fn class_name(self, i: usize) -> String {
        self.classes()
            .get(i)
            .map_or_else(|| i.to_string(), |c| c.to_string())
    }

    /// `true` for multi-hot targets.
    pub fn is_multilabel(self) -> bool {
        matches!(
            self,
            Self::Benv2Webdataset(_) | Self::Benv2Raw(_) | Self::Corine
        ) || matches!(self, Self::GeoBench(t) if t.is_multilabel())
    }

    /// The sensor-registry dataset whose band list gives the chn_ids.
    pub fn registry_name(self) -> &'static str {
        match self {
            Self::EurosatSar => "eval/eurosat-sar",
            Self::Resisc45 => "eval/resisc45",
            Self::Benv2Webdataset(b) | Self::Benv2Raw(b) => b.registry_name(),
            Self::Corine => "pretrain/spectral_earth",
            Self::GeoBench(t) => t.registry_name(),
        }
    }

    /// Channel ids of every sample: the int16 values of the registry's band list (after the
    /// m-so2sat band selection).
    pub fn chn_ids(self) -> Result<Vec<f32>> {
        let reg = panopticon_data::SensorRegistry::builtin()
            .and_then(|r| r.dataset_chn_ids(self.registry_name()))
            .map_err(|e| EvalError::Config {
                field: "dataset.id".into(),
                value: self.id().into(),
                reason: format!("sensor registry: {e}"),
            })?;
        let ids: Vec<f32> = reg.into_iter().map(f32::from).collect();
        Ok(match self {
            Self::GeoBench(t) => match t.keep() {
                Some(keep) => keep.iter().map(|&i| ids[i]).collect(),
                None => ids,
            },
            _ => ids,
        })
    }
}
