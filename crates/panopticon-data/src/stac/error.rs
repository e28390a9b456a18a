//! Errors of the STAC reader.

/// Errors raised while reading a STAC item; each names the item (and asset) at fault.
#[derive(Debug, thiserror::Error)]
pub enum StacError {
    /// The document is not valid JSON.
    #[error("`{location}` is not valid JSON: {message}")]
    Json {
        /// Where the document came from.
        location: String,
        /// The parser's message (with line and column).
        message: String,
    },
    /// The JSON is not a STAC Item or ItemCollection.
    #[error("`{location}` is not a STAC Item or ItemCollection: {what}")]
    NotStac {
        /// Where the document came from.
        location: String,
        /// What is missing or wrong.
        what: String,
    },
    /// No asset of the item has band metadata that can be placed.
    #[error(
        "STAC item `{item}`: no asset has band metadata Panopticon can place (eo:bands/bands \
         center_wavelength, sar:polarizations, or a band of a known sensor); raster assets: {}; \
         choose them and say what they are, e.g. --assets {} --wavelengths 665,… (nm, or \
         vv-asc/vh-desc…) in the same order",
        if raster_assets.is_empty() { "none".to_string() } else { raster_assets.join(", ") },
        raster_assets.first().map_or("KEY", String::as_str)
    )]
    NoPlaceableBands {
        /// The item id.
        item: String,
        /// Its raster assets.
        raster_assets: Vec<String>,
    },
    /// `--assets` names an asset the item does not have.
    #[error("STAC item `{item}` has no asset `{asset}`; its assets: {}", available.join(", "))]
    UnknownAsset {
        /// The item id.
        item: String,
        /// The asset asked for.
        asset: String,
        /// The item's asset keys.
        available: Vec<String>,
    },
    /// A chosen asset has no band metadata that can be placed.
    #[error(
        "asset `{asset}` of STAC item `{item}` has no band metadata Panopticon can place \
         (eo:bands/bands center_wavelength, sar:polarizations, or a band of a known sensor); \
         pass --assets with --wavelengths giving each asset's centre wavelength in nm (or \
         vv-asc/vh-desc…) in the same order"
    )]
    Unplaceable {
        /// The item id.
        item: String,
        /// The asset.
        asset: String,
    },
    /// A chosen asset holds several bands.
    #[error("asset `{asset}` of STAC item `{item}` holds {bands} bands; choose single-band assets")]
    MultiBandAsset {
        /// The item id.
        item: String,
        /// The asset.
        asset: String,
        /// Its band count.
        bands: usize,
    },
    /// `--wavelengths` does not give one channel per chosen asset.
    #[error(
        "STAC item `{item}`: {ids} channel ids for {assets} assets; give one per --assets entry"
    )]
    ChannelCount {
        /// The item id.
        item: String,
        /// Number of assets.
        assets: usize,
        /// Number of ids.
        ids: usize,
    },
    /// A chosen asset has no usable href.
    #[error("asset `{asset}` of STAC item `{item}`: {reason}")]
    BadHref {
        /// The item id.
        item: String,
        /// The asset.
        asset: String,
        /// What is wrong with its href.
        reason: String,
    },
}
