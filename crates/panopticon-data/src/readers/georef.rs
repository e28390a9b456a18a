//! GeoTIFF georeferencing tags → GDAL geotransform, EPSG code and no-data value.
//!
//! Follows GDAL's GTiff driver (3.6): ModelPixelScale + the first ModelTiepoint win over
//! ModelTransformation; tiepoints without a scale are GCPs and give no geotransform; a
//! negative Y scale is negated like any other (GDAL's default `GTIFF_HONOUR_NEGATIVE_SCALEY=NO`);
//! PixelIsPoint rasters are shifted by half a pixel so the transform addresses pixel corners.

use std::io::{Read, Seek};

use tiff::decoder::Decoder;
use tiff::tags::Tag;

use super::raster::GeoTransform;

const GT_MODEL_TYPE: u16 = 1024;
const GT_RASTER_TYPE: u16 = 1025;
const GEOGRAPHIC_TYPE: u16 = 2048;
const PROJECTED_CS_TYPE: u16 = 3072;
const RASTER_PIXEL_IS_POINT: u16 = 2;
const MODEL_TYPE_PROJECTED: u16 = 1;
const MODEL_TYPE_GEOGRAPHIC: u16 = 2;
const USER_DEFINED: u16 = 32767;

/// What the georeferencing tags say.
#[derive(Debug, Default)]
pub(crate) struct GeoRef {
    pub geotransform: Option<GeoTransform>,
    pub epsg: Option<u32>,
    pub nodata: Option<f64>,
}

/// Reads the georeferencing tags of the current image; `Err` is a message for `Corrupt`.
pub(crate) fn read_georef<R: Read + Seek>(dec: &mut Decoder<R>) -> Result<GeoRef, String> {
    let f64s = |dec: &mut Decoder<R>, tag: Tag| -> Result<Option<Vec<f64>>, String> {
        dec.find_tag(tag)
            .and_then(|v| v.map(|v| v.into_f64_vec()).transpose())
            .map_err(|e| format!("tag {tag:?}: {e}"))
    };
    let scale = f64s(dec, Tag::ModelPixelScaleTag)?;
    let tiepoints = f64s(dec, Tag::ModelTiepointTag)?;
    let matrix = f64s(dec, Tag::ModelTransformationTag)?;
    let keys = dec
        .find_tag(Tag::GeoKeyDirectoryTag)
        .and_then(|v| v.map(|v| v.into_u16_vec()).transpose())
        .map_err(|e| format!("GeoKeyDirectory: {e}"))?;
    let keys = keys
        .map(|k| parse_geokeys(&k))
        .transpose()?
        .unwrap_or_default();
    let key = |id: u16| keys.iter().find(|(k, _)| *k == id).map(|&(_, v)| v);

    // Same precedence as GDAL: a usable pixel scale decides (with the first tiepoint), else
    // a 4x4 matrix; a scale without tiepoints, or tiepoints alone (GCPs), give none.
    let mut gt = if let Some(s) = scale.filter(|s| s.len() >= 2 && s[0] != 0.0 && s[1] != 0.0) {
        tiepoints.filter(|t| t.len() >= 6).map(|t| {
            [
                t[3] - t[0] * s[0],
                s[0],
                0.0,
                t[4] + t[1] * s[1],
                0.0,
                -s[1],
            ]
        })
    } else {
        matrix
            .filter(|m| m.len() == 16)
            .map(|m| [m[3], m[0], m[1], m[7], m[4], m[5]])
    };
    if key(GT_RASTER_TYPE) == Some(RASTER_PIXEL_IS_POINT)
        && let Some(g) = gt.as_mut()
    {
        g[0] -= g[1] * 0.5 + g[2] * 0.5;
        g[3] -= g[4] * 0.5 + g[5] * 0.5;
    }

    let code = match key(GT_MODEL_TYPE) {
        Some(MODEL_TYPE_PROJECTED) => key(PROJECTED_CS_TYPE),
        Some(MODEL_TYPE_GEOGRAPHIC) => key(GEOGRAPHIC_TYPE),
        _ => key(PROJECTED_CS_TYPE).or(key(GEOGRAPHIC_TYPE)),
    };
    let epsg = code.filter(|&c| c != 0 && c != USER_DEFINED).map(u32::from);

    let nodata = match dec.find_tag(Tag::GdalNodata) {
        Ok(Some(v)) => {
            let text = v.into_string().map_err(|e| format!("GDAL_NODATA: {e}"))?;
            let text = text.trim_matches(|c: char| c.is_whitespace() || c == '\0');
            Some(
                text.parse::<f64>()
                    .map_err(|_| format!("GDAL_NODATA `{text}` is not a number"))?,
            )
        }
        Ok(None) => None,
        Err(e) => return Err(format!("GDAL_NODATA: {e}")),
    };
    Ok(GeoRef {
        geotransform: gt,
        epsg,
        nodata,
    })
}

/// `(key id, value)` of the GeoKeys stored inline (TIFFTagLocation 0); others are skipped.
fn parse_geokeys(dir: &[u16]) -> Result<Vec<(u16, u16)>, String> {
    let n = match dir {
        [_version, _revision, _minor, n, ..] => usize::from(*n),
        _ => {
            return Err(format!(
                "GeoKeyDirectory has {} values, needs at least 4",
                dir.len()
            ));
        }
    };
    let entries = dir
        .get(4..4 + 4 * n)
        .ok_or_else(|| format!("GeoKeyDirectory declares {n} keys but holds {}", dir.len()))?;
    Ok(entries
        .chunks_exact(4)
        .filter(|e| e[1] == 0 && e[2] == 1)
        .map(|e| (e[0], e[3]))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::parse_geokeys;

    #[test]
    fn geokeys_inline_values_only() {
        // Header (1, 1, 0, 3 keys), then ModelType=1, ProjectedCS in GeoDoubleParams (skipped),
        // RasterType=2.
        let dir = [1, 1, 0, 3, 1024, 0, 1, 1, 3072, 34736, 1, 0, 1025, 0, 1, 2];
        assert_eq!(parse_geokeys(&dir).unwrap(), vec![(1024, 1), (1025, 2)]);
    }

    #[test]
    fn malformed_geokey_directories_are_errors() {
        assert!(
            parse_geokeys(&[1, 1, 0])
                .unwrap_err()
                .contains("at least 4")
        );
        let err = parse_geokeys(&[1, 1, 0, 2, 1024, 0, 1, 1]).unwrap_err();
        assert!(err.contains("declares 2 keys"), "{err}");
    }
}
