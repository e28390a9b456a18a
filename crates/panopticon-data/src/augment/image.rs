//! Host-side image containers: [`Image`] (one resolution), [`View`] (one sensor, possibly
//! several resolutions) and [`Crop`] (an augmented, padded crop).

use super::error::{AugmentError, Result};

/// A multi-channel `f32` image at one resolution, with one channel id per channel.
///
/// # Shapes
/// - `data`: `[C, H, W]` (channel-major).
/// - `chn_ids`: `[C]` (optical centre wavelength in nm, or a SAR id −1 ..= −12).
#[derive(Debug, Clone, PartialEq)]
pub struct Image {
    channels: usize,
    height: usize,
    width: usize,
    data: Vec<f32>,
    chn_ids: Vec<f32>,
}

impl Image {
    /// Checks the shape and wraps the samples.
    ///
    /// # Shapes
    /// - `data`: `[C, H, W]` with `[C, H, W] = shape`.
    /// - `chn_ids`: `[C]`.
    pub fn new(data: Vec<f32>, shape: [usize; 3], chn_ids: Vec<f32>) -> Result<Self> {
        let [channels, height, width] = shape;
        for (what, n) in [("channels", channels), ("height", height), ("width", width)] {
            if n == 0 {
                return Err(AugmentError::Empty { what });
            }
        }
        let expected = channels * height * width;
        if data.len() != expected {
            return Err(AugmentError::DataLength {
                channels,
                height,
                width,
                expected,
                got: data.len(),
            });
        }
        if chn_ids.len() != channels {
            return Err(AugmentError::ChnIdCount {
                channels,
                ids: chn_ids.len(),
            });
        }
        Ok(Self {
            channels,
            height,
            width,
            data,
            chn_ids,
        })
    }

    /// Number of channels `C`.
    pub fn channels(&self) -> usize {
        self.channels
    }

    /// Height `H`.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Width `W`.
    pub fn width(&self) -> usize {
        self.width
    }

    /// `[C, H, W]`.
    pub fn shape(&self) -> [usize; 3] {
        [self.channels, self.height, self.width]
    }

    /// All samples, `[C, H, W]`.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Channel ids, `[C]`.
    pub fn chn_ids(&self) -> &[f32] {
        &self.chn_ids
    }

    /// Samples of channel `c`, `[H, W]`; `None` if `c >= C`.
    pub fn channel(&self, c: usize) -> Option<&[f32]> {
        let n = self.height * self.width;
        self.data.get(c * n..(c + 1) * n)
    }

    /// Consumes the image into `(data [C, H, W], chn_ids [C])`.
    pub fn into_parts(self) -> (Vec<f32>, Vec<f32>) {
        (self.data, self.chn_ids)
    }

    /// Mutable samples for the in-crate transforms that own the image.
    pub(crate) fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }
}

/// One sensor's data in a sample: images of possibly different resolutions (upstream's
/// `{imgs: [...], chn_ids: [...]}`; SatlasPretrain has one 1-channel image per band).
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    images: Vec<Image>,
}

impl View {
    /// A view from at least one image.
    pub fn new(images: Vec<Image>) -> Result<Self> {
        if images.is_empty() {
            return Err(AugmentError::Empty {
                what: "images of a view",
            });
        }
        Ok(Self { images })
    }

    /// A view with a single image.
    pub fn single(image: Image) -> Self {
        Self {
            images: vec![image],
        }
    }

    /// The images, in order.
    pub fn images(&self) -> &[Image] {
        &self.images
    }

    /// Total channels over all images (`T` of spec §4.3).
    pub fn total_channels(&self) -> usize {
        self.images.iter().map(Image::channels).sum()
    }
}

/// An augmented crop, padded to a fixed channel count (spec §4.1 "crop object").
///
/// # Shapes
/// - `imgs`: `[Cpad, S, S]`.
/// - `chn_ids`: `[Cpad]` (padding repeats the last id).
/// - `spec_masks`: `[Cpad]`, true marks a padding channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Crop {
    pub(crate) size: usize,
    pub(crate) imgs: Vec<f32>,
    pub(crate) chn_ids: Vec<f32>,
    pub(crate) spec_masks: Vec<bool>,
}

impl Crop {
    /// Number of channels `Cpad` (real plus padding).
    pub fn channels(&self) -> usize {
        self.chn_ids.len()
    }

    /// Side `S` of the square crop.
    pub fn size(&self) -> usize {
        self.size
    }

    /// Samples, `[Cpad, S, S]`.
    pub fn imgs(&self) -> &[f32] {
        &self.imgs
    }

    /// Channel ids, `[Cpad]`.
    pub fn chn_ids(&self) -> &[f32] {
        &self.chn_ids
    }

    /// Padding flags, `[Cpad]` (true = padding channel).
    pub fn spec_masks(&self) -> &[bool] {
        &self.spec_masks
    }
}
