//! `ChannelIds`: the channel ids of a batch, on the host and checked once.

use burn::prelude::*;

use crate::error::{PanopticonError, Result};

/// The most negative SAR id (`-12`, HV descending; see `ChnEmb`).
pub const MIN_SAR_ID: f32 = -12.0;

/// Row-major `[B, C]` channel ids, checked: every id finite, SAR ids (negative) integers in
/// −12 ..= −1. Optical ids are centre wavelengths in nm, kept as given (the embedding floors
/// them, as upstream).
#[derive(Debug, Clone, PartialEq)]
pub struct ChannelIds {
    batch: usize,
    channels: usize,
    values: Vec<f32>,
}

impl ChannelIds {
    /// Checks `values`, `batch · channels` ids, sample-major.
    pub fn new(values: Vec<f32>, batch: usize, channels: usize) -> Result<Self> {
        if values.len() != batch * channels {
            return Err(PanopticonError::Shape {
                name: "chn_ids".into(),
                expected: format!("[B, C] = [{batch}, {channels}] (one id per image channel)"),
                got: vec![values.len()],
            });
        }
        for (i, &v) in values.iter().enumerate() {
            let (sample, channel) = (i / channels.max(1), i % channels.max(1));
            if !v.is_finite() {
                return Err(PanopticonError::NonFiniteChannelId {
                    value: v,
                    sample,
                    channel,
                });
            }
            if v < 0.0 && (v.fract() != 0.0 || v < MIN_SAR_ID) {
                return Err(PanopticonError::InvalidSarId {
                    value: v,
                    sample,
                    channel,
                });
            }
        }
        Ok(Self {
            batch,
            channels,
            values,
        })
    }

    /// One list of ids shared by all `batch` samples.
    pub fn shared(ids: &[f32], batch: usize) -> Result<Self> {
        Self::new(ids.repeat(batch), batch, ids.len())
    }

    /// Reads `[B, C]` ids from a tensor (one device→host read) and checks them.
    pub fn from_tensor(chn_ids: &Tensor<2>) -> Result<Self> {
        Self::from_data(chn_ids.to_data())
    }

    /// Checks `[B, C]` numeric ids (int or float) given as raw data.
    pub fn from_data(chn_ids: TensorData) -> Result<Self> {
        let shape = chn_ids.shape().as_slice().to_vec();
        let [batch, channels] = shape[..] else {
            return Err(PanopticonError::Shape {
                name: "chn_ids".into(),
                expected: "[B, C]".into(),
                got: shape,
            });
        };
        let values = chn_ids
            .try_into_vec_as::<f32>()
            .map_err(|e| PanopticonError::DType {
                name: "chn_ids".into(),
                expected: "numeric ids".into(),
                got: format!("{e:?}"),
            })?;
        Self::new(values, batch, channels)
    }

    /// Batch size `B`.
    pub fn batch(&self) -> usize {
        self.batch
    }

    /// Channels per sample `C`.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// The ids, row-major `[B, C]`.
    pub fn values(&self) -> &[f32] {
        &self.values
    }

    /// The ids of one sample when every sample has the same ids (the common case), so that
    /// per-channel work is done once instead of per sample.
    pub fn shared_row(&self) -> Option<Self> {
        let c = self.channels;
        let first = &self.values[..c];
        (self.batch > 1 && self.values.chunks(c).all(|row| row == first)).then(|| Self {
            batch: 1,
            channels: c,
            values: first.to_vec(),
        })
    }

    /// The ids as a `[B, C]` tensor.
    pub fn to_tensor(&self, device: &Device) -> Tensor<2> {
        let data = TensorData::new(self.values.clone(), [self.batch, self.channels]);
        Tensor::from_data(data, device)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_first_bad_id() {
        let e = ChannelIds::new(vec![490.0, -3.0, -2.5, 560.0], 2, 2).unwrap_err();
        assert!(matches!(
            e,
            PanopticonError::InvalidSarId {
                sample: 1,
                channel: 0,
                ..
            }
        ));
        let e = ChannelIds::shared(&[f32::NAN], 3).unwrap_err();
        assert!(matches!(e, PanopticonError::NonFiniteChannelId { .. }));
        let e = ChannelIds::new(vec![1.0; 3], 2, 2).unwrap_err();
        assert!(matches!(e, PanopticonError::Shape { .. }));
        let ids = ChannelIds::shared(&[490.0, -12.0], 3).unwrap();
        assert_eq!(ids.shared_row().unwrap().values(), &[490.0, -12.0]);
    }
}
