//! Crop-major collate of augmented samples into `[B', C, S, S]` batches plus iBOT masks
//! (spec §4.8), host-side ([`CropBatch`]) and as Burn tensors ([`CropTensors`]).

use burn::prelude::*;

use super::error::{AugmentError, Result};
use super::image::Crop;
use super::panopticon::AugmentedSample;
use super::rng::Draws;
use crate::masking::{IbotMaskConfig, IbotMasks, MaskingError, MaskingGenerator};

/// Crops of one set stacked crop-major (`for crop i: for sample s`), host-side.
///
/// # Shapes
/// - `imgs`: `[n, C, S, S]` with `n = crops · B`.
/// - `chn_ids`: `[n, C]`.
/// - `spec_masks`: `[n, C]` (true = padding channel).
#[derive(Debug, Clone, PartialEq)]
pub struct CropBatch {
    /// Rows `n = crops·B`.
    pub n: usize,
    /// Channels `C`.
    pub channels: usize,
    /// Side `S`.
    pub size: usize,
    /// Samples, `[n, C, S, S]`.
    pub imgs: Vec<f32>,
    /// Channel ids, `[n, C]`.
    pub chn_ids: Vec<f32>,
    /// Padding flags, `[n, C]`.
    pub spec_masks: Vec<bool>,
}

/// A [`CropBatch`] on a device, ready for the model input.
///
/// # Shapes
/// - `imgs`: `[n, C, S, S]`; `chn_ids`: `[n, C]`; `spec_masks`: `[n, C]`.
#[derive(Debug, Clone)]
pub struct CropTensors {
    /// Images (f32; cast to half precision in the training step if wanted).
    pub imgs: Tensor<4>,
    /// Channel ids as floats.
    pub chn_ids: Tensor<2>,
    /// True = padding channel.
    pub spec_masks: Tensor<2, Bool>,
}

impl CropBatch {
    /// Stacks crop `i` of every sample for every `i` (crop-major), checking one shared shape.
    pub fn stack(set: &'static str, crops: &[&[Crop]]) -> Result<Self> {
        let first = crops
            .first()
            .and_then(|c| c.first())
            .ok_or(AugmentError::Empty {
                what: "crops to collate",
            })?;
        let (want_c, want_s, per) = (first.channels(), first.size(), crops[0].len());
        let n = per * crops.len();
        let mut out = Self {
            n,
            channels: want_c,
            size: want_s,
            imgs: Vec::with_capacity(n * want_c * want_s * want_s),
            chn_ids: Vec::with_capacity(n * want_c),
            spec_masks: Vec::with_capacity(n * want_c),
        };
        for (sample, c) in crops.iter().enumerate() {
            if c.len() != per {
                return Err(AugmentError::CollateCropCount {
                    set,
                    sample,
                    want: per,
                    got: c.len(),
                });
            }
        }
        for i in 0..per {
            for (sample, c) in crops.iter().enumerate() {
                let crop = &c[i];
                if crop.channels() != want_c || crop.size() != want_s {
                    return Err(AugmentError::CollateShape {
                        set,
                        sample,
                        crop: i,
                        want_c,
                        want_s,
                        got_c: crop.channels(),
                        got_s: crop.size(),
                    });
                }
                out.imgs.extend_from_slice(crop.imgs());
                out.chn_ids.extend_from_slice(crop.chn_ids());
                out.spec_masks.extend_from_slice(crop.spec_masks());
            }
        }
        Ok(out)
    }

    /// Moves the batch to `device`.
    pub fn to_tensors(&self, device: &Device) -> CropTensors {
        let (n, c, s) = (self.n, self.channels, self.size);
        CropTensors {
            imgs: Tensor::<4>::from_data(TensorData::new(self.imgs.clone(), [n, c, s, s]), device),
            chn_ids: Tensor::<2>::from_data(TensorData::new(self.chn_ids.clone(), [n, c]), device),
            spec_masks: Tensor::<2, Bool>::from_data(
                TensorData::new(self.spec_masks.clone(), [n, c]),
                device,
            ),
        }
    }
}

/// A collated batch, host-side: upstream `collate_data_and_cast` minus the device transfer.
#[derive(Debug, Clone, PartialEq)]
pub struct Collated {
    /// Global crops `[2B, Cg, Sg, Sg]` (upstream `collated_global_crops`).
    pub global: CropBatch,
    /// Local crops `[nl·B, Cl, Sl, Sl]` (upstream `collated_local_crops`).
    pub local: CropBatch,
    /// iBOT masks of the global crops (`collated_masks`, `mask_indices_list`, …).
    pub masks: IbotMasks,
}

/// [`Collated`] on a device.
///
/// # Shapes
/// - `masks`: `[2B, N]`; `mask_indices`: `[M]`; `masks_weight`: `[M]`.
#[derive(Debug, Clone)]
pub struct CollatedTensors {
    /// Global crops.
    pub global: CropTensors,
    /// Local crops.
    pub local: CropTensors,
    /// `collated_masks`, true = masked patch.
    pub masks: Tensor<2, Bool>,
    /// `mask_indices_list` (flat indices into `[2B·N]`, ascending).
    pub mask_indices: Tensor<1, Int>,
    /// `masks_weight`.
    pub masks_weight: Tensor<1>,
    /// `n_masked_patches` (`M`).
    pub n_masked_patches: usize,
    /// `upperbound`.
    pub upperbound: usize,
}

/// Errors of [`collate`]: shape errors of the crops or invalid masking settings.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CollateError {
    /// The crops cannot be stacked.
    #[error(transparent)]
    Crops(#[from] AugmentError),
    /// The iBOT settings are invalid.
    #[error(transparent)]
    Masking(#[from] MaskingError),
}

/// Collates `B` augmented samples crop-major and samples the iBOT masks of the global crops.
pub fn collate<R: Draws>(
    samples: &[AugmentedSample],
    mask_config: &IbotMaskConfig,
    generator: &MaskingGenerator,
    rng: &mut R,
) -> std::result::Result<Collated, CollateError> {
    let global: Vec<&[Crop]> = samples.iter().map(|s| s.global_crops.as_slice()).collect();
    let local: Vec<&[Crop]> = samples.iter().map(|s| s.local_crops.as_slice()).collect();
    let global = CropBatch::stack("global", &global)?;
    let local = CropBatch::stack("local", &local)?;
    let masks = IbotMasks::sample(global.n, mask_config, generator, rng)?;
    Ok(Collated {
        global,
        local,
        masks,
    })
}

impl Collated {
    /// Moves everything to `device`.
    pub fn to_tensors(&self, device: &Device) -> CollatedTensors {
        let m = &self.masks;
        CollatedTensors {
            global: self.global.to_tensors(device),
            local: self.local.to_tensors(device),
            masks: Tensor::<2, Bool>::from_data(
                TensorData::new(m.masks.clone(), [m.n_images, m.n_tokens]),
                device,
            ),
            mask_indices: Tensor::<1, Int>::from_data(
                TensorData::new(m.mask_indices.clone(), [m.mask_indices.len()]),
                device,
            ),
            masks_weight: Tensor::<1>::from_data(
                TensorData::new(m.masks_weight.clone(), [m.masks_weight.len()]),
                device,
            ),
            n_masked_patches: m.n_masked_patches(),
            upperbound: m.upperbound,
        }
    }
}
