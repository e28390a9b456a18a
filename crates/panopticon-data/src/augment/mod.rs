//! Panopticon pre-training augmentations and collate (spec §4), on host-side `f32` images.
//!
//! Pipeline per crop: [`ListChnMask`] → [`ListRandomResizeCrop`] → [`RandomHvFlip`] →
//! [`ColorJitterRs`] → [`ChnPad`], driven by [`PanopticonAugmentation`] (2 global + N local
//! crops per sample); [`collate`] stacks crops crop-major and adds iBOT masks.
//!
//! All randomness goes through [`Draws`]; [`AugRng::for_sample`] gives each sample its own
//! reproducible stream. Every type is `Send`, so augmentation can run on loader threads.

mod chn_mask;
mod chn_pad;
mod collate;
mod color_jitter;
mod error;
mod flip;
mod image;
mod panopticon;
mod resize;
mod resized_crop;
mod rng;

pub use chn_mask::{ChannelSelection, ListChnMask};
pub use chn_pad::ChnPad;
pub use collate::{CollateError, Collated, CollatedTensors, CropBatch, CropTensors, collate};
pub use color_jitter::{ColorJitterRs, JitterClamp, JitterParams, apply_jitter};
pub use error::AugmentError;
pub use flip::{RandomHvFlip, flip_horizontal, flip_vertical};
pub use image::{Crop, Image, View};
pub use panopticon::{
    AugmentedSample, CropSetConfig, PanopticonAugmentation, PanopticonAugmentationConfig,
};
pub use resize::resize_bicubic_aa;
pub use resized_crop::{CropBox, ListRandomResizeCrop, crop_plane, random_resized_crop_params};
pub use rng::{AugRng, Draws};
