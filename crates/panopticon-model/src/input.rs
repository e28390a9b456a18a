//! The typed model input (the official `x_dict`).

use burn::prelude::*;

use crate::error::{PanopticonError, Result};

/// A batch of images with per-sample channel ids.
///
/// - `imgs` `[B, C, H, W]`: each channel standardised (zero mean, unit variance per band).
/// - `chn_ids` `[B, C]`: optical channels carry their centre wavelength in nm (floats are
///   floored, as upstream); SAR channels carry −1 ..= −12 (see `ChnEmb`). Ids may differ per
///   sample.
/// - `spec_masks` `[B, C]` (optional): true = ignore this channel (padding, no-data).
///
/// The model never modifies these tensors.
#[derive(Debug, Clone)]
pub struct PanopticonInput {
    /// `[B, C, H, W]` images.
    pub imgs: Tensor<4>,
    /// `[B, C]` channel ids.
    pub chn_ids: Tensor<2>,
    /// `[B, C]` channel masks, true = ignore.
    pub spec_masks: Option<Tensor<2, Bool>>,
}

impl PanopticonInput {
    /// Images with float channel ids.
    pub fn new(imgs: Tensor<4>, chn_ids: Tensor<2>) -> Self {
        Self {
            imgs,
            chn_ids,
            spec_masks: None,
        }
    }

    /// Images with integer channel ids (int16/int64 as stored by the datasets).
    pub fn with_int_ids(imgs: Tensor<4>, chn_ids: Tensor<2, Int>) -> Self {
        Self::new(imgs, chn_ids.float())
    }

    /// Images whose samples all share one list of channel ids.
    pub fn with_shared_ids(imgs: Tensor<4>, chn_ids: &[f32]) -> Self {
        let [b, _, _, _] = imgs.dims();
        let c = chn_ids.len();
        let ids = Tensor::<1>::from_data(TensorData::new(chn_ids.to_vec(), [c]), &imgs.device());
        Self::new(imgs, ids.unsqueeze_dim::<2>(0).expand([b, c]))
    }

    /// Adds channel masks (true = ignore the channel).
    pub fn with_spec_masks(mut self, spec_masks: Tensor<2, Bool>) -> Self {
        self.spec_masks = Some(spec_masks);
        self
    }

    /// Builds an input from raw data, checking ranks and element types: `imgs` must be a
    /// float `[B, C, H, W]`, `chn_ids` an int or float `[B, C]`, `spec_masks` a bool (or 0/1
    /// integer) `[B, C]`.
    pub fn from_data(
        imgs: TensorData,
        chn_ids: TensorData,
        spec_masks: Option<TensorData>,
        device: &Device,
    ) -> Result<Self> {
        let rank = |name: &str, d: &TensorData, want: usize, what: &str| {
            if d.shape().len() != want {
                return Err(PanopticonError::DType {
                    name: name.into(),
                    expected: format!("rank {want} {what}"),
                    got: format!(
                        "rank {} (shape {:?})",
                        d.shape().len(),
                        d.shape().as_slice()
                    ),
                });
            }
            Ok(())
        };
        rank("imgs", &imgs, 4, "[B, C, H, W]")?;
        rank("chn_ids", &chn_ids, 2, "[B, C]")?;
        crate::vit::checks::check_not_empty(
            imgs.shape().as_slice()[0],
            imgs.shape().as_slice()[1],
        )?;
        if !imgs.dtype().is_float() {
            return Err(PanopticonError::DType {
                name: "imgs".into(),
                expected: "a float tensor (f32, f16, bf16 or f64)".into(),
                got: format!("{:?}", imgs.dtype()),
            });
        }
        if !(chn_ids.dtype().is_float() || chn_ids.dtype().is_int() || chn_ids.dtype().is_uint()) {
            return Err(PanopticonError::DType {
                name: "chn_ids".into(),
                expected: "an int or float tensor".into(),
                got: format!("{:?}", chn_ids.dtype()),
            });
        }
        let imgs = Tensor::<4>::from_data(imgs.convert::<f32>(), device);
        let chn_ids = Tensor::<2>::from_data(chn_ids.convert::<f32>(), device);
        let mut input = Self::new(imgs, chn_ids);
        if let Some(m) = spec_masks {
            rank("spec_masks", &m, 2, "[B, C]")?;
            let flags: Vec<i64> = if m.dtype().is_bool() {
                // Bools are stored one byte each; a byte other than 0/1 is not a bool.
                m.as_bytes().iter().map(|&x| i64::from(x)).collect()
            } else if m.dtype().is_int() || m.dtype().is_uint() {
                m.clone()
                    .try_into_vec_as::<i64>()
                    .map_err(|e| PanopticonError::DType {
                        name: "spec_masks".into(),
                        expected: "bool".into(),
                        got: format!("{e:?}"),
                    })?
            } else {
                return Err(PanopticonError::DType {
                    name: "spec_masks".into(),
                    expected: "a bool (or 0/1 integer) tensor".into(),
                    got: format!("{:?}", m.dtype()),
                });
            };
            if let Some(i) = flags.iter().position(|&x| x != 0 && x != 1) {
                let c = m.shape().as_slice()[1].max(1);
                return Err(PanopticonError::Input(format!(
                    "spec_masks holds {} at sample {}, channel {}: masks must be 0/1 \
                     (true = ignore the channel)",
                    flags[i],
                    i / c,
                    i % c
                )));
            }
            let m = TensorData::new(
                flags.iter().map(|x| *x != 0).collect::<Vec<bool>>(),
                m.shape().clone(),
            );
            input = input.with_spec_masks(Tensor::<2, Bool>::from_data(m, device));
        }
        Ok(input)
    }
}
