//! The sensor registry: every built-in sensor and dataset band list, compiled into the crate.

use super::band::Band;
use super::dataset::{Dataset, parse_datasets};
use super::error::SensorError;
use super::sensor::Sensor;

/// The built-in sensor TOMLs (`configs/sensors/*.toml`), as `(file name, contents)`.
const BUILTIN_SENSORS: &[(&str, &str)] = &[
    (
        "sentinel1.toml",
        include_str!("../../../../configs/sensors/sentinel1.toml"),
    ),
    (
        "sentinel2_l1c.toml",
        include_str!("../../../../configs/sensors/sentinel2_l1c.toml"),
    ),
    (
        "sentinel2_l2a.toml",
        include_str!("../../../../configs/sensors/sentinel2_l2a.toml"),
    ),
    (
        "landsat8_9.toml",
        include_str!("../../../../configs/sensors/landsat8_9.toml"),
    ),
    (
        "qb2_ge1.toml",
        include_str!("../../../../configs/sensors/qb2_ge1.toml"),
    ),
    (
        "wv23.toml",
        include_str!("../../../../configs/sensors/wv23.toml"),
    ),
    (
        "superdove.toml",
        include_str!("../../../../configs/sensors/superdove.toml"),
    ),
    (
        "drone.toml",
        include_str!("../../../../configs/sensors/drone.toml"),
    ),
    (
        "debug.toml",
        include_str!("../../../../configs/sensors/debug.toml"),
    ),
    (
        "enmap.toml",
        include_str!("../../../../configs/sensors/enmap.toml"),
    ),
    (
        "aviris.toml",
        include_str!("../../../../configs/sensors/aviris.toml"),
    ),
    (
        "intuition.toml",
        include_str!("../../../../configs/sensors/intuition.toml"),
    ),
    (
        "neon_aop.toml",
        include_str!("../../../../configs/sensors/neon_aop.toml"),
    ),
];

/// The built-in dataset band lists.
const BUILTIN_DATASETS: (&str, &str) = (
    "datasets.toml",
    include_str!("../../../../configs/sensors/datasets.toml"),
);

/// Sensors by name and alias, plus dataset band lists.
///
/// ```
/// use panopticon_data::SensorRegistry;
///
/// let registry = SensorRegistry::builtin()?;
/// let s2 = registry.sensor("sentinel2_l2a")?;
/// assert_eq!(s2.chn_ids(&["B04", "B03", "B02"])?, vec![664, 559, 492]);
/// assert_eq!(registry.dataset_chn_ids("eval/ben-s1")?, vec![-1, -2]);
/// # Ok::<(), panopticon_data::SensorError>(())
/// ```
#[derive(Debug, Clone, Default)]
pub struct SensorRegistry {
    sensors: Vec<Sensor>,
    datasets: Vec<Dataset>,
}

impl SensorRegistry {
    /// The registry shipped in `configs/sensors/`, validated (every dataset band resolves).
    pub fn builtin() -> Result<Self, SensorError> {
        let mut registry = Self::default();
        for (file, text) in BUILTIN_SENSORS {
            registry.add_sensor(file, Sensor::from_toml(file, text)?)?;
        }
        let (file, text) = BUILTIN_DATASETS;
        for dataset in parse_datasets(file, text)? {
            registry.add_dataset(file, dataset)?;
        }
        Ok(registry)
    }

    /// Adds a sensor; its name and aliases must not clash with registered ones.
    pub fn add_sensor(&mut self, file: &str, sensor: Sensor) -> Result<(), SensorError> {
        for name in std::iter::once(&sensor.name).chain(&sensor.aliases) {
            if self.find(name).is_some() {
                return Err(SensorError::Invalid {
                    file: file.to_string(),
                    message: format!("sensor name or alias `{name}` is already registered"),
                });
            }
        }
        self.sensors.push(sensor);
        Ok(())
    }

    /// Adds a dataset band list; every band id must resolve to a registered sensor band.
    pub fn add_dataset(&mut self, file: &str, dataset: Dataset) -> Result<(), SensorError> {
        if dataset.bands.is_empty() {
            return Err(SensorError::Invalid {
                file: file.to_string(),
                message: format!("dataset `{}` has no bands", dataset.name),
            });
        }
        if let Some(sizes) = &dataset.band_img_size
            && sizes.len() != dataset.bands.len()
        {
            return Err(SensorError::Invalid {
                file: file.to_string(),
                message: format!(
                    "dataset `{}` has {} bands but {} band_img_size entries",
                    dataset.name,
                    dataset.bands.len(),
                    sizes.len()
                ),
            });
        }
        if self.datasets.iter().any(|d| d.name == dataset.name) {
            return Err(SensorError::Invalid {
                file: file.to_string(),
                message: format!("dataset `{}` is already registered", dataset.name),
            });
        }
        for id in dataset
            .bands
            .iter()
            .chain(dataset.rgb_bands.iter().flatten())
        {
            self.resolve(id).map_err(|e| SensorError::Invalid {
                file: file.to_string(),
                message: format!("dataset `{}`: {e}", dataset.name),
            })?;
        }
        self.datasets.push(dataset);
        Ok(())
    }

    fn find(&self, name: &str) -> Option<&Sensor> {
        self.sensors
            .iter()
            .find(|s| s.name == name || s.aliases.iter().any(|a| a == name))
    }

    /// The sensor with this name or alias (`"sentinel2_l2a"`, upstream's `"sentinel2"`, …).
    pub fn sensor(&self, name: &str) -> Result<&Sensor, SensorError> {
        self.find(name).ok_or_else(|| SensorError::UnknownSensor {
            name: name.to_string(),
            known: self.sensor_names().map(str::to_string).collect(),
        })
    }

    /// Registered names and aliases, in registration order.
    pub fn sensor_names(&self) -> impl Iterator<Item = &str> {
        self.sensors
            .iter()
            .flat_map(|s| std::iter::once(&s.name).chain(&s.aliases))
            .map(String::as_str)
    }

    /// All sensors, in registration order.
    pub fn sensors(&self) -> &[Sensor] {
        &self.sensors
    }

    /// Resolves an upstream band id `<sensor>/<band key>` (`"sentinel2/B8A"`).
    pub fn resolve(&self, id: &str) -> Result<(&Sensor, &Band), SensorError> {
        let (sensor, band) = id
            .split_once('/')
            .ok_or_else(|| SensorError::MalformedBandId { id: id.to_string() })?;
        let sensor = self.sensor(sensor)?;
        Ok((sensor, sensor.band(band)?))
    }

    /// int16 chn_ids of band ids that may mix sensors (`["sentinel1/B01", "sentinel2/B04"]`).
    pub fn chn_ids(&self, ids: &[&str]) -> Result<Vec<i16>, SensorError> {
        ids.iter()
            .map(|id| Ok(self.resolve(id)?.1.chn_id()))
            .collect()
    }

    /// A dataset by full name (`"eval/m-eurosat"`) or, as upstream looks them up, by stem
    /// (`"m-eurosat"`). A stem in both `pretrain/` and `eval/` resolves only if the band
    /// lists agree (true upstream for `fmow_rgb` and `fmow_wv23`).
    pub fn dataset(&self, name: &str) -> Result<&Dataset, SensorError> {
        if let Some(d) = self.datasets.iter().find(|d| d.name == name) {
            return Ok(d);
        }
        let hits: Vec<&Dataset> = self.datasets.iter().filter(|d| d.stem() == name).collect();
        match hits.as_slice() {
            [] => Err(SensorError::UnknownDataset {
                name: name.to_string(),
                known: self.datasets.iter().map(|d| d.name.clone()).collect(),
            }),
            [first, rest @ ..] if rest.iter().all(|d| d.bands == first.bands) => Ok(first),
            _ => Err(SensorError::AmbiguousDataset {
                name: name.to_string(),
                candidates: hits.iter().map(|d| d.name.clone()).collect(),
            }),
        }
    }

    /// All datasets, sorted by full name.
    pub fn datasets(&self) -> &[Dataset] {
        &self.datasets
    }

    /// The int16 chn_ids upstream computes for a dataset's band list.
    ///
    /// Upstream stores them as int16 for most datasets and int64 for some (spec quirk 22);
    /// the values are the same, so one type is returned here.
    pub fn dataset_chn_ids(&self, name: &str) -> Result<Vec<i16>, SensorError> {
        let dataset = self.dataset(name)?;
        let ids: Vec<&str> = dataset.bands.iter().map(String::as_str).collect();
        self.chn_ids(&ids)
    }

    /// [`SensorRegistry::dataset_chn_ids`] as the `f32` the model takes.
    pub fn dataset_chn_ids_f32(&self, name: &str) -> Result<Vec<f32>, SensorError> {
        Ok(self
            .dataset_chn_ids(name)?
            .into_iter()
            .map(f32::from)
            .collect())
    }
}
