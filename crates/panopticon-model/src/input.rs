//! The typed model input (the official `x_dict`), checked once when built.

use burn::prelude::*;

use crate::channel_ids::ChannelIds;
use crate::checks::{
    check_mask_flags, check_not_empty, check_pixel_values, check_pixels, read_spec_masks,
};
use crate::error::{PanopticonError, Result};

/// A batch of images with per-sample channel ids, checked when built: shapes, channel ids
/// (finite; SAR ids −12 ..= −1), masks (no sample with every channel masked) and pixels
/// (finite, within [`MAX_ABS_PIXEL`](crate::limits::MAX_ABS_PIXEL) outside masked channels).
/// A forward then reads nothing back from the device to check its input.
///
/// - `imgs` `[B, C, H, W]`: each channel standardised (zero mean, unit variance per band).
/// - `chn_ids` `[B, C]`: optical channels carry their centre wavelength in nm (floats are
///   floored, as upstream); SAR channels carry −1 ..= −12 (see `ChnEmb`). Ids may differ per
///   sample.
/// - `spec_masks` `[B, C]` (optional): true = ignore this channel (padding, no-data).
///
/// The caller's tensors are never modified.
#[derive(Debug, Clone)]
pub struct PanopticonInput {
    /// `[B, C, H, W]`, masked channels zeroed (their pixels get exactly zero attention, so
    /// no-data there, NaN included, changes nothing).
    imgs: Tensor<4>,
    chn_ids: ChannelIds,
    /// `[B, C]`, true = ignore.
    spec_masks: Option<Tensor<2, Bool>>,
}

impl PanopticonInput {
    /// Checks a batch already on a device: `imgs` `[B, C, H, W]`, `chn_ids` for `B` samples
    /// of `C` channels, `spec_masks` `[B, C]` (true = ignore the channel). Reads the `B·C` mask
    /// flags and two pixel statistics back from the device, once; a batch still on the host
    /// is better given to [`from_host`](Self::from_host), which reads nothing back.
    pub fn new(
        imgs: Tensor<4>,
        chn_ids: ChannelIds,
        spec_masks: Option<Tensor<2, Bool>>,
    ) -> Result<Self> {
        let [b, c, h, w] = imgs.dims();
        check_dims(b, c, &chn_ids)?;
        let imgs = match &spec_masks {
            Some(m) => {
                read_spec_masks(m, b, c)?;
                let mask = m.clone().reshape([b, c, 1, 1]).expand([b, c, h, w]);
                imgs.mask_fill(mask, 0.0)
            }
            None => imgs,
        };
        check_pixels(&imgs)?;
        Ok(Self {
            imgs,
            chn_ids,
            spec_masks,
        })
    }

    /// Checks a batch on the host, then uploads it to `device`: row-major `imgs`
    /// `[B, C, H, W]` and `spec_masks` `[B, C]` (true = ignore the channel; its pixels are
    /// zeroed here). Nothing is read back from the device.
    pub fn from_host(
        mut imgs: Vec<f32>,
        [b, c, h, w]: [usize; 4],
        chn_ids: ChannelIds,
        spec_masks: Option<Vec<bool>>,
        device: &Device,
    ) -> Result<Self> {
        check_dims(b, c, &chn_ids)?;
        if imgs.len() != b * c * h * w {
            return Err(PanopticonError::Shape {
                name: "imgs".into(),
                expected: format!("[B, C, H, W] = [{b}, {c}, {h}, {w}] values"),
                got: vec![imgs.len()],
            });
        }
        if let Some(flags) = &spec_masks {
            check_mask_flags(flags, b, c)?;
            let plane = h * w;
            for (i, _) in flags.iter().enumerate().filter(|(_, m)| **m) {
                imgs[i * plane..(i + 1) * plane].fill(0.0);
            }
        }
        check_pixel_values(&imgs, b, c)?;
        let imgs = Tensor::from_data(TensorData::new(imgs, [b, c, h, w]), device);
        let spec_masks = spec_masks.map(|m| Tensor::from_data(TensorData::new(m, [b, c]), device));
        Ok(Self {
            imgs,
            chn_ids,
            spec_masks,
        })
    }

    /// Images whose samples all share one list of channel ids, nothing masked.
    pub fn with_shared_ids(imgs: Tensor<4>, chn_ids: &[f32]) -> Result<Self> {
        let ids = ChannelIds::shared(chn_ids, imgs.dims()[0])?;
        Self::new(imgs, ids, None)
    }

    /// `[B, C, H, W]` images, masked channels zeroed.
    pub fn imgs(&self) -> &Tensor<4> {
        &self.imgs
    }

    /// The checked channel ids.
    pub fn chn_ids(&self) -> &ChannelIds {
        &self.chn_ids
    }

    /// `[B, C]` channel masks, true = ignore.
    pub fn spec_masks(&self) -> Option<&Tensor<2, Bool>> {
        self.spec_masks.as_ref()
    }

    /// `[B, C, H, W]`.
    pub fn dims(&self) -> [usize; 4] {
        self.imgs.dims()
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
        check_not_empty(imgs.shape().as_slice()[0], imgs.shape().as_slice()[1])?;
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
        let chn_ids = ChannelIds::from_data(chn_ids)?;
        let dims: [usize; 4] = std::array::from_fn(|i| imgs.shape().as_slice()[i]);
        let imgs =
            imgs.convert::<f32>()
                .try_into_vec::<f32>()
                .map_err(|e| PanopticonError::DType {
                    name: "imgs".into(),
                    expected: "f32 values".into(),
                    got: format!("{e:?}"),
                })?;
        let mut masks = None;
        if let Some(m) = spec_masks {
            rank("spec_masks", &m, 2, "[B, C]")?;
            let [b, c] = [dims[0], dims[1]];
            if m.shape().as_slice() != [b, c] {
                return Err(PanopticonError::Shape {
                    name: "spec_masks".into(),
                    expected: format!("[B, C] = [{b}, {c}]"),
                    got: m.shape().as_slice().to_vec(),
                });
            }
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
            masks = Some(flags.iter().map(|x| *x != 0).collect::<Vec<bool>>());
        }
        Self::from_host(imgs, dims, chn_ids, masks, device)
    }
}

/// At least one image and one channel, and one id per channel of each image.
fn check_dims(b: usize, c: usize, chn_ids: &ChannelIds) -> Result<()> {
    check_not_empty(b, c)?;
    if [chn_ids.batch(), chn_ids.channels()] != [b, c] {
        return Err(PanopticonError::Shape {
            name: "chn_ids".into(),
            expected: format!("[B, C] = [{b}, {c}] (one id per image channel)"),
            got: vec![chn_ids.batch(), chn_ids.channels()],
        });
    }
    Ok(())
}
