//! SpectralEarth pre-training (spec §5.7): 202-band EnMAP GeoTIFF patches listed in
//! `splits/enmap/<split>.txt`.

use std::path::{Path, PathBuf};

use super::error::DatasetError;
use super::source::PretrainSource;
use super::split::{join_entry, read_split};
use crate::augment::{AugRng, Image, View};
use crate::readers::{RasterData, read_geotiff};
use crate::sensors::SensorRegistry;

/// Number of EnMAP bands SpectralEarth keeps.
pub const ENMAP_BANDS: usize = 202;

/// Upper clamp of the L2A reflectance (scaled by 10000).
pub const ENMAP_MAX: f32 = 10000.0;

/// Per-band mean after clamping to `[0, 10000]` and dividing by 10000 (upstream
/// `SpectralEarthDataset.ENMAP_MEAN`).
#[rustfmt::skip]
pub const ENMAP_MEAN: [f32; ENMAP_BANDS] = [
    0.0803, 0.0789, 0.0808, 0.0839, 0.0857, 0.0865, 0.0884, 0.0902, 0.091, 0.093, 0.094, 0.0946,
    0.0956, 0.0975, 0.099, 0.0994, 0.1005, 0.1025, 0.1033, 0.1056, 0.1091, 0.111, 0.1132, 0.1163,
    0.1193, 0.1225, 0.1246, 0.1268, 0.1294, 0.1316, 0.1336, 0.1349, 0.1355, 0.138, 0.1393, 0.1408,
    0.1428, 0.1445, 0.1457, 0.1464, 0.1483, 0.1489, 0.1496, 0.1514, 0.1523, 0.1521, 0.1529, 0.1538,
    0.1545, 0.1556, 0.1593, 0.1639, 0.1733, 0.1826, 0.1936, 0.2038, 0.2168, 0.2269, 0.2356, 0.2399,
    0.2483, 0.2352, 0.2501, 0.2537, 0.2551, 0.2571, 0.2584, 0.2618, 0.2618, 0.2648, 0.2642, 0.2662,
    0.2673, 0.2684, 0.2707, 0.2712, 0.2731, 0.2714, 0.2738, 0.2819, 0.2721, 0.276, 0.2711, 0.2606,
    0.2862, 0.2802, 0.2692, 0.2826, 0.2919, 0.282, 0.2828, 0.2667, 0.2585, 0.2813, 0.2641, 0.2854,
    0.2646, 0.2872, 0.2655, 0.2823, 0.2729, 0.2907, 0.2932, 0.2962, 0.2994, 0.3021, 0.3057, 0.3096,
    0.311, 0.3127, 0.3128, 0.3019, 0.3218, 0.3122, 0.2918, 0.2943, 0.2947, 0.2965, 0.2962, 0.2966,
    0.3, 0.304, 0.3068, 0.3097, 0.3156, 0.3147, 0.2305, 0.2342, 0.2381, 0.2417, 0.2455, 0.2491,
    0.2524, 0.2565, 0.2599, 0.2621, 0.2638, 0.2659, 0.2664, 0.2663, 0.2658, 0.2645, 0.263, 0.2614,
    0.2594, 0.1784, 0.188, 0.1758, 0.1638, 0.168, 0.1891, 0.1943, 0.1967, 0.1868, 0.1893, 0.1895,
    0.1959, 0.1934, 0.1937, 0.195, 0.1965, 0.196, 0.198, 0.1975, 0.1975, 0.197, 0.1972, 0.1968,
    0.1972, 0.1965, 0.1949, 0.1947, 0.1976, 0.1983, 0.1979, 0.1934, 0.1906, 0.1864, 0.1839, 0.1804,
    0.1796, 0.1744, 0.1722, 0.1692, 0.1663, 0.1658, 0.1654, 0.1605, 0.1602, 0.1606, 0.1641, 0.1613,
    0.1634, 0.1599, 0.1621, 0.1583, 0.1591, 0.1503, 0.1557, 0.1496, 0.153, 0.1355,
];

/// Per-band standard deviation (upstream `SpectralEarthDataset.ENMAP_STD`).
#[rustfmt::skip]
pub const ENMAP_STD: [f32; ENMAP_BANDS] = [
    0.1522, 0.1513, 0.1514, 0.1525, 0.1525, 0.1518, 0.152, 0.1518, 0.1513, 0.1515, 0.1513, 0.151,
    0.151, 0.1514, 0.1518, 0.1515, 0.1514, 0.1516, 0.1512, 0.1514, 0.1518, 0.1513, 0.1506, 0.1503,
    0.1503, 0.1507, 0.1506, 0.1506, 0.1509, 0.1514, 0.1522, 0.1528, 0.1531, 0.1543, 0.155, 0.1555,
    0.1561, 0.1566, 0.1571, 0.1574, 0.1583, 0.1583, 0.1578, 0.1587, 0.1596, 0.1597, 0.1602, 0.1607,
    0.161, 0.1608, 0.1618, 0.1588, 0.1559, 0.1521, 0.1493, 0.1464, 0.1453, 0.1446, 0.145, 0.1446,
    0.1471, 0.143, 0.1465, 0.146, 0.1455, 0.1451, 0.1448, 0.1454, 0.1452, 0.146, 0.1453, 0.146,
    0.1458, 0.1458, 0.1457, 0.1441, 0.1441, 0.1422, 0.1416, 0.1387, 0.1395, 0.1371, 0.1377, 0.1332,
    0.1391, 0.1398, 0.1303, 0.1469, 0.1362, 0.1454, 0.1328, 0.1388, 0.1348, 0.1329, 0.1339, 0.1344,
    0.1336, 0.134, 0.133, 0.1331, 0.1331, 0.133, 0.1331, 0.1335, 0.1344, 0.1354, 0.1371, 0.1385,
    0.1389, 0.1388, 0.1375, 0.1309, 0.1374, 0.1344, 0.128, 0.1304, 0.1307, 0.1312, 0.131, 0.1306,
    0.1314, 0.1325, 0.1333, 0.1337, 0.1348, 0.1353, 0.1442, 0.1441, 0.1441, 0.1439, 0.1439, 0.1438,
    0.1437, 0.1442, 0.1444, 0.1443, 0.1442, 0.1445, 0.1442, 0.144, 0.1436, 0.1431, 0.1429, 0.1427,
    0.1421, 0.1394, 0.1441, 0.135, 0.1214, 0.1272, 0.1391, 0.1446, 0.1454, 0.1393, 0.1398, 0.1404,
    0.1435, 0.1419, 0.1409, 0.1417, 0.141, 0.1406, 0.14, 0.139, 0.1368, 0.1353, 0.1332, 0.1321,
    0.1304, 0.1289, 0.1254, 0.1243, 0.1257, 0.1274, 0.1271, 0.1259, 0.1248, 0.1244, 0.1235, 0.1233,
    0.1226, 0.1204, 0.1187, 0.1191, 0.1166, 0.1166, 0.116, 0.114, 0.1126, 0.1147, 0.1169, 0.1161,
    0.1161, 0.1156, 0.1164, 0.1167, 0.1149, 0.112, 0.115, 0.1157, 0.1174, 0.1121,
];

/// Clamps to `[0, 10000]`, divides by 10000 and standardises band `c` in place, in `f32` with
/// upstream's operation order (`ClipMinMaxNormalize` then `Normalize`). NaN stays NaN.
///
/// # Shapes
/// - `data`: `[202, H, W]`.
pub fn normalise_enmap(data: &mut [f32]) {
    let plane = data.len() / ENMAP_BANDS;
    if plane == 0 {
        return;
    }
    for (c, band) in data.chunks_exact_mut(plane).enumerate() {
        let (m, s) = (ENMAP_MEAN[c], ENMAP_STD[c]);
        for v in band {
            *v = ((v.clamp(0.0, ENMAP_MAX) - 0.0) / (ENMAP_MAX - 0.0) - m) / s;
        }
    }
}

/// Reads a 202-band EnMAP patch as `[202, H, W]` `f32`, optionally normalised.
pub(crate) fn read_enmap(
    path: &Path,
    normalise: bool,
) -> Result<(Vec<f32>, [usize; 3]), DatasetError> {
    let raster = read_geotiff(path)?;
    if raster.bands != ENMAP_BANDS {
        return Err(DatasetError::BandCount {
            path: path.to_path_buf(),
            sensor: "EnMAP (SpectralEarth)".into(),
            expected: ENMAP_BANDS,
            got: raster.bands,
        });
    }
    let shape = [raster.bands, raster.height, raster.width];
    // Float files are taken as they are (no copy); integer files are converted.
    let mut data = match raster.data {
        RasterData::F32(v) => v,
        other => other.to_f32(),
    };
    if normalise {
        normalise_enmap(&mut data);
    }
    Ok((data, shape))
}

/// Loads the `pretrain/spectral_earth` chn_ids (202 EnMAP wavelengths, duplicates 911 and
/// 993 kept as upstream has them, spec §8 quirk 22).
pub(crate) fn enmap_chn_ids() -> Result<Vec<f32>, DatasetError> {
    Ok(SensorRegistry::builtin()?.dataset_chn_ids_f32("pretrain/spectral_earth")?)
}

/// SpectralEarth pre-training dataset (upstream `SpectralEarthDataset(task_dir="enmap")`).
///
/// Layout under `root` (upstream `$RDIR/datasets/spectral_earth`):
/// `splits/enmap/train.txt` lists tif paths relative to `enmap/`. Each sample is one view,
/// a `[202, H, W]` image clamped to `[0, 10000]`, divided by 10000 and standardised with
/// [`ENMAP_MEAN`]/[`ENMAP_STD`], with the `spectral_earth` chn_ids.
#[derive(Debug, Clone)]
pub struct SpectralEarth {
    files: Vec<PathBuf>,
    chn_ids: Vec<f32>,
    normalise: bool,
}

impl SpectralEarth {
    /// Opens the `train` split (upstream allows only `train` for pre-training).
    pub fn open(root: impl AsRef<Path>) -> Result<Self, DatasetError> {
        let root = root.as_ref();
        Self::from_split_file(root, &root.join("splits/enmap/train.txt"))
    }

    /// Opens any split file whose entries are relative to `root/enmap/`.
    pub fn from_split_file(root: impl AsRef<Path>, split: &Path) -> Result<Self, DatasetError> {
        let dir = root.as_ref().join("enmap");
        let files = read_split(split)?
            .iter()
            .enumerate()
            .map(|(i, e)| join_entry(&dir, e, split, i + 1))
            .collect::<Result<_, _>>()?;
        Ok(Self {
            files,
            chn_ids: enmap_chn_ids()?,
            normalise: true,
        })
    }

    /// Turns the normalisation off (upstream `normalize=False`): raw reflectance values.
    pub fn without_normalisation(mut self) -> Self {
        self.normalise = false;
        self
    }

    /// The image files, in split order.
    pub fn files(&self) -> &[PathBuf] {
        &self.files
    }

    /// Sample `index` as an image `[202, H, W]`.
    pub fn image(&self, index: usize) -> Result<Image, DatasetError> {
        let path = self.files.get(index).ok_or(DatasetError::IndexOutOfRange {
            index,
            len: self.files.len(),
        })?;
        let (data, shape) = read_enmap(path, self.normalise)?;
        Image::new(data, shape, self.chn_ids.clone()).map_err(|source| DatasetError::Augment {
            path: path.clone(),
            source,
        })
    }
}

impl PretrainSource for SpectralEarth {
    fn len(&self) -> usize {
        self.files.len()
    }

    fn load(&self, index: usize, _rng: &mut AugRng) -> Result<Vec<View>, DatasetError> {
        Ok(vec![View::single(self.image(index)?)])
    }

    fn path_of(&self, index: usize) -> Option<PathBuf> {
        self.files.get(index).cloned()
    }
}
