//! STAC items and item collections as embeddable scenes: which assets are bands, what each
//! band is (channel id), how stored values scale, and where the pixels are.
//!
//! Read with the `stac` crate (stac-utils); the fields needed (`assets`, `eo:bands` /
//! `bands`, `raster:bands`, `sar:polarizations`, `sat:orbit_state`, `constellation` /
//! `platform`) are read from STAC 1.0 and 1.1 items alike.

mod error;
mod href;
mod item;
mod place;

pub use error::StacError;
pub use href::resolve_href;
pub use item::{StacItem, parse_items};
pub use place::{AssetChoice, StacBand, StacScene, scene_from_item};
