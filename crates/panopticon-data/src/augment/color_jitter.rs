//! `ColorJitterRS`: torchvision `ColorJitter` (brightness, contrast) applied to each channel
//! as its own single-channel image, with probability `p` (spec §4.6).

use super::error::{AugmentError, Result};
use super::image::Image;
use super::rng::Draws;

/// What to do with values outside `[0, 1]` after each jitter operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum JitterClamp {
    /// No clamping (default). The inputs are standardised (zero mean), so the upstream clamp
    /// destroys every negative value of 20 % of the crops: a bug, fixed here.
    #[default]
    None,
    /// Clamp to `[0, 1]` after every operation, as torchvision does for float images
    /// (spec §8 quirk 8). Only for parity with upstream training.
    UpstreamUnitInterval,
}

/// The random parameters of one jitter application (torchvision `ColorJitter.get_params`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JitterParams {
    /// Order of the four operations (0 brightness, 1 contrast, 2 saturation, 3 hue).
    pub order: [usize; 4],
    /// Brightness factor, `None` when brightness jitter is disabled.
    pub brightness: Option<f32>,
    /// Contrast factor, `None` when contrast jitter is disabled.
    pub contrast: Option<f32>,
}

/// Brightness/contrast jitter; saturation and hue are 0 in every Panopticon config and are
/// not supported.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ColorJitterRs {
    /// Probability of jittering a crop.
    pub p: f64,
    /// Brightness factor range `[max(0, 1 − b), 1 + b]`; 0 disables.
    pub brightness: f64,
    /// Contrast factor range `[max(0, 1 − c), 1 + c]`; 0 disables.
    pub contrast: f64,
    /// Clamping behaviour (see [`JitterClamp`]).
    pub clamp: JitterClamp,
}

impl Default for ColorJitterRs {
    /// `p = 0.2`, brightness 0.1, contrast 0.1, no clamp.
    fn default() -> Self {
        Self {
            p: 0.2,
            brightness: 0.1,
            contrast: 0.1,
            clamp: JitterClamp::None,
        }
    }
}

impl ColorJitterRs {
    /// Checks `0 <= p <= 1` and non-negative magnitudes.
    pub fn validate(&self) -> Result<()> {
        if !(0.0..=1.0).contains(&self.p) {
            return Err(AugmentError::InvalidConfig {
                name: "color_jitter.p",
                value: self.p.to_string(),
                expected: "a probability in [0, 1]",
            });
        }
        for (name, v) in [
            ("color_jitter.brightness", self.brightness),
            ("color_jitter.contrast", self.contrast),
        ] {
            if !(v >= 0.0 && v.is_finite()) {
                return Err(AugmentError::InvalidConfig {
                    name,
                    value: v.to_string(),
                    expected: "a finite magnitude >= 0 (0 disables)",
                });
            }
        }
        Ok(())
    }

    /// Draws the operation order (permutation of 4, 3 draws), then the brightness and
    /// contrast factors (one draw each when enabled, rounded to f32 as torch's `uniform_`).
    pub fn sample_params<R: Draws>(&self, rng: &mut R) -> JitterParams {
        let p = rng.permutation(4);
        let mut factor =
            |m: f64| (m > 0.0).then(|| rng.uniform_range((1.0 - m).max(0.0), 1.0 + m) as f32);
        let brightness = factor(self.brightness);
        let contrast = factor(self.contrast);
        JitterParams {
            order: [p[0], p[1], p[2], p[3]],
            brightness,
            contrast,
        }
    }

    /// Jitters with probability `p`: one draw for the decision, then [`Self::sample_params`].
    pub fn apply<R: Draws>(&self, img: Image, rng: &mut R) -> Image {
        if !rng.bernoulli(self.p) {
            return img;
        }
        let params = self.sample_params(rng);
        apply_jitter(img, &params, self.clamp)
    }
}

/// Applies brightness `x ← fb·x` and contrast `x ← fc·x + (1 − fc)·mean_c` (per-channel mean
/// of the current values) in `params.order`, in f32 as torch does, clamping per `clamp`.
pub fn apply_jitter(mut img: Image, params: &JitterParams, clamp: JitterClamp) -> Image {
    let n = img.height() * img.width();
    let clamp_fn = |x: f32| match clamp {
        JitterClamp::None => x,
        JitterClamp::UpstreamUnitInterval => x.clamp(0.0, 1.0),
    };
    for plane in img.data_mut().chunks_exact_mut(n) {
        for op in params.order {
            match (op, params.brightness, params.contrast) {
                (0, Some(fb), _) => plane.iter_mut().for_each(|x| *x = clamp_fn(fb * *x)),
                (1, _, Some(fc)) => {
                    let mean = (plane.iter().map(|&x| f64::from(x)).sum::<f64>() / n as f64) as f32;
                    // torch: ratio·img + (1.0 − ratio)·mean, the scalar (1 − ratio) in f64.
                    let other = (1.0 - f64::from(fc)) as f32 * mean;
                    plane
                        .iter_mut()
                        .for_each(|x| *x = clamp_fn(fc * *x + other));
                }
                _ => {}
            }
        }
    }
    img
}
