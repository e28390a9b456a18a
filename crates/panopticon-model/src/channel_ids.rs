//! `ChannelIds`: the channel ids of a batch, on the host and checked once.

use burn::prelude::*;
use panopticon_channels::ChannelId;

use crate::error::{PanopticonError, Result};

/// Row-major `[B, C]` channel ids, each checked by [`ChannelId::from_f32`]: finite; negative
/// ⇒ a SAR id, an integer in −12 ..= −1. Optical ids are centre wavelengths in nm, kept as
/// given (the embedding floors them, as upstream).
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
            ChannelId::from_f32(v).map_err(|source| PanopticonError::ChannelId {
                sample: i / channels.max(1),
                channel: i % channels.max(1),
                source,
            })?;
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

    /// Typed channels (a sensor's bands, parsed tokens) shared by all `batch` samples, as the
    /// int16 ids upstream feeds the model ([`ChannelId::to_f32`]). Each channel is checked
    /// first ([`ChannelId::check`]), so a hand-built `Optical` with a negative or NaN
    /// wavelength is refused rather than read as a SAR id or 0.
    pub fn from_channels(channels: &[ChannelId], batch: usize) -> Result<Self> {
        let ids = channels
            .iter()
            .enumerate()
            .map(|(channel, c)| {
                c.check().map_err(|source| PanopticonError::ChannelId {
                    sample: 0,
                    channel,
                    source,
                })?;
                Ok(c.to_f32())
            })
            .collect::<Result<Vec<f32>>>()?;
        Self::shared(&ids, batch)
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
    use panopticon_channels::{ChannelIdError, Orbit, Polarisation};

    use super::*;

    #[test]
    fn names_the_first_bad_id() {
        let e = ChannelIds::new(vec![490.0, -3.0, -2.5, 560.0], 2, 2).unwrap_err();
        assert!(
            matches!(
                e,
                PanopticonError::ChannelId {
                    sample: 1,
                    channel: 0,
                    source: ChannelIdError::InvalidSarId { value: -2.5 },
                }
            ),
            "{e}"
        );
        assert!(
            e.to_string()
                .starts_with("chn_ids of sample 1, channel 0: invalid SAR channel id -2.5:"),
            "{e}"
        );
        let e = ChannelIds::shared(&[f32::NAN], 3).unwrap_err();
        assert!(
            matches!(
                e,
                PanopticonError::ChannelId {
                    source: ChannelIdError::NonFinite { .. },
                    ..
                }
            ),
            "{e}"
        );
        let e = ChannelIds::new(vec![1.0; 3], 2, 2).unwrap_err();
        assert!(matches!(e, PanopticonError::Shape { .. }));
        let ids = ChannelIds::shared(&[490.0, -12.0], 3).unwrap();
        assert_eq!(ids.shared_row().unwrap().values(), &[490.0, -12.0]);
        // Optical ids are not bounded by int16 here: the embedding takes any wavelength.
        assert!(ChannelIds::shared(&[0.0, 40000.0, 442.92], 1).is_ok());
    }

    #[test]
    fn typed_channels_become_upstream_ids() {
        let channels = [
            ChannelId::parse("442.92").unwrap(),
            ChannelId::parse("vh-desc").unwrap(),
            ChannelId::Sar {
                polarisation: Polarisation::Vv,
                orbit: Orbit::Both,
            },
        ];
        let ids = ChannelIds::from_channels(&channels, 2).unwrap();
        assert_eq!((ids.batch(), ids.channels()), (2, 3));
        assert_eq!(ids.values(), &[442.0, -10.0, -1.0, 442.0, -10.0, -1.0]);
        let raw = ChannelId::Optical {
            wavelength_nm: -5.0,
        };
        let e = ChannelIds::from_channels(&[channels[0], raw], 1).unwrap_err();
        assert!(
            matches!(
                e,
                PanopticonError::ChannelId {
                    sample: 0,
                    channel: 1,
                    source: ChannelIdError::NegativeWavelength { .. },
                }
            ),
            "{e}"
        );
    }
}
