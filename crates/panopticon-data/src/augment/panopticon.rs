//! `PanopticonAugmentation`: 2 global + N local crops per sample with view selection (§4.2).

use super::chn_mask::ListChnMask;
use super::chn_pad::ChnPad;
use super::color_jitter::ColorJitterRs;
use super::error::{AugmentError, Result};
use super::flip::RandomHvFlip;
use super::image::{Crop, View};
use super::resized_crop::ListRandomResizeCrop;
use super::rng::Draws;

/// Settings of one crop set (global or local).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CropSetConfig {
    /// Number of crops.
    pub number: usize,
    /// Output side `S`.
    pub size: usize,
    /// Area fraction range of the crop box.
    pub scale: (f64, f64),
    /// `[low, high]` channels kept by `ListChnMask`; crops are padded to `high`.
    pub spectral_size: (usize, usize),
    /// Draw views with replacement (`multi_select_view_in_single_sensor_modes`).
    pub multi_select: bool,
}

/// Settings of [`PanopticonAugmentation`]; [`Self::stage2`] (= `Default`) is every upstream
/// config (stage 1, stage 2, quick_check).
///
/// Only sensor-view mode 0 (`SENSOR_SINGLE_MASKED`) exists: channel simulation (§4.9) is
/// unreachable upstream (`hs_modes_probs = [1, 0]`, and it would crash, quirk 19).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PanopticonAugmentationConfig {
    /// Global crops (must be 2, as upstream asserts).
    pub global: CropSetConfig,
    /// Local crops.
    pub local: CropSetConfig,
    /// Jitter shared by both sets.
    pub color_jitter: ColorJitterRs,
    /// Flip probability (vertical and horizontal each).
    pub flip_p: f64,
    /// A single view whose first image has more channels than this is "hyperspectral": all
    /// crops come from it (upstream: 30).
    pub hs_channel_threshold: usize,
}

impl PanopticonAugmentationConfig {
    /// The upstream pre-training settings: global 2 × 224, scale [0.32, 1], 4..13 channels,
    /// distinct views; local 4 × 98, scale [0.05, 0.32], 1..4 channels, views with
    /// replacement; jitter p 0.2, brightness/contrast 0.1 (without the clamp quirk).
    pub fn stage2() -> Self {
        Self {
            global: CropSetConfig {
                number: 2,
                size: 224,
                scale: (0.32, 1.0),
                spectral_size: (4, 13),
                multi_select: false,
            },
            local: CropSetConfig {
                number: 4,
                size: 98,
                scale: (0.05, 0.32),
                spectral_size: (1, 4),
                multi_select: true,
            },
            color_jitter: ColorJitterRs::default(),
            flip_p: 0.5,
            hs_channel_threshold: 30,
        }
    }
}

impl Default for PanopticonAugmentationConfig {
    fn default() -> Self {
        Self::stage2()
    }
}

/// Output of [`PanopticonAugmentation::apply`] for one sample.
///
/// Upstream also returns `global_crops_teacher` (the same list as `global_crops`) and an
/// empty `offsets`; both are implied here.
#[derive(Debug, Clone, PartialEq)]
pub struct AugmentedSample {
    /// Global crops, each `[high_g, S_g, S_g]`.
    pub global_crops: Vec<Crop>,
    /// Local crops, each `[high_l, S_l, S_l]`.
    pub local_crops: Vec<Crop>,
}

/// The pipeline of one crop set: channel mask → resized crop → flips → jitter → pad.
#[derive(Debug, Clone, Copy)]
struct CropPipeline {
    number: usize,
    multi_select: bool,
    chn_mask: ListChnMask,
    crop: ListRandomResizeCrop,
    flip: RandomHvFlip,
    jitter: ColorJitterRs,
    pad: ChnPad,
}

impl CropPipeline {
    fn new(c: &CropSetConfig, flip_p: f64, jitter: ColorJitterRs) -> Result<Self> {
        if c.number == 0 {
            return Err(AugmentError::Empty {
                what: "crops_number",
            });
        }
        Ok(Self {
            number: c.number,
            multi_select: c.multi_select,
            chn_mask: ListChnMask::new(c.spectral_size.0, c.spectral_size.1)?,
            crop: ListRandomResizeCrop::new(c.size, c.scale)?,
            flip: RandomHvFlip { p: flip_p },
            jitter,
            pad: ChnPad {
                size: Some(c.spectral_size.1),
            },
        })
    }

    /// One crop of `view`.
    fn crop<R: Draws>(&self, view: &View, rng: &mut R) -> Result<Crop> {
        let sel = self.chn_mask.select(view, rng);
        let img = self.crop.apply(view, &sel, rng)?;
        let img = self.flip.apply(img, rng);
        let img = self.jitter.apply(img, rng);
        self.pad.apply(img)
    }
}

/// The Panopticon pre-training transform (upstream `PanopticonAugmentation`, alias
/// `ChnSpatialAugmentationV4`).
///
/// ```
/// use panopticon_data::augment::{AugRng, Image, PanopticonAugmentation, View};
///
/// let aug = PanopticonAugmentation::new(Default::default())?;
/// let s2 = Image::new(vec![0.0; 13 * 64 * 64], [13, 64, 64], (0..13).map(|i| 440.0 + 60.0 * i as f32).collect())?;
/// let rgb = Image::new(vec![0.0; 3 * 96 * 96], [3, 96, 96], vec![664.0, 559.0, 492.0])?;
/// let sample = [View::single(s2), View::single(rgb)];
/// let out = aug.apply(&sample, &mut AugRng::for_sample(21, 0))?;
/// assert_eq!(out.global_crops.len(), 2);
/// assert_eq!(out.global_crops[0].imgs().len(), 13 * 224 * 224); // padded to 13 channels
/// assert_eq!(out.local_crops.len(), 4);
/// # Ok::<(), panopticon_data::augment::AugmentError>(())
/// ```
#[derive(Debug, Clone)]
pub struct PanopticonAugmentation {
    config: PanopticonAugmentationConfig,
    global: CropPipeline,
    local: CropPipeline,
}

impl PanopticonAugmentation {
    /// Validates the config and builds both pipelines.
    pub fn new(config: PanopticonAugmentationConfig) -> Result<Self> {
        if config.global.number != 2 {
            return Err(AugmentError::InvalidConfig {
                name: "global_crops_number",
                value: config.global.number.to_string(),
                expected: "2 (upstream asserts it; the DINO loss pairs the two global crops)",
            });
        }
        if !(0.0..=1.0).contains(&config.flip_p) {
            return Err(AugmentError::InvalidConfig {
                name: "flip_p",
                value: config.flip_p.to_string(),
                expected: "a probability in [0, 1]",
            });
        }
        config.color_jitter.validate()?;
        Ok(Self {
            global: CropPipeline::new(&config.global, config.flip_p, config.color_jitter)?,
            local: CropPipeline::new(&config.local, config.flip_p, config.color_jitter)?,
            config,
        })
    }

    /// The validated settings.
    pub fn config(&self) -> &PanopticonAugmentationConfig {
        &self.config
    }

    /// Augments one sample (1 or more sensor views): global set first, then local set.
    pub fn apply<R: Draws>(&self, sample: &[View], rng: &mut R) -> Result<AugmentedSample> {
        Ok(AugmentedSample {
            global_crops: self.augment_set(&self.global, sample, rng)?,
            local_crops: self.augment_set(&self.local, sample, rng)?,
        })
    }

    /// Picks a view per crop (§4.2 steps 1–2), then runs the pipeline on it.
    fn augment_set<R: Draws>(
        &self,
        pipe: &CropPipeline,
        sample: &[View],
        rng: &mut R,
    ) -> Result<Vec<Crop>> {
        let views = self.view_indices(pipe, sample, rng)?;
        views
            .into_iter()
            .map(|v| pipe.crop(&sample[v], rng))
            .collect()
    }

    /// View index of every crop of a set.
    fn view_indices<R: Draws>(
        &self,
        pipe: &CropPipeline,
        sample: &[View],
        rng: &mut R,
    ) -> Result<Vec<usize>> {
        let first_channels = sample
            .first()
            .ok_or(AugmentError::Empty {
                what: "views of a sample",
            })?
            .images()[0]
            .channels();
        let hyperspectral = sample.len() == 1 && first_channels > self.config.hs_channel_threshold;
        if hyperspectral || pipe.multi_select {
            let last = sample.len() - 1;
            return Ok((0..pipe.number).map(|_| rng.randint(0, last)).collect());
        }
        if pipe.number > sample.len() {
            return Err(AugmentError::TooFewViews {
                views: sample.len(),
                crops: pipe.number,
                max_channels: first_channels,
                hs_threshold: self.config.hs_channel_threshold,
            });
        }
        // Without replacement: the first `number` entries of a partial Fisher–Yates shuffle.
        let mut idx: Vec<usize> = (0..sample.len()).collect();
        for i in 0..pipe.number {
            let j = rng.randint(i, idx.len() - 1);
            idx.swap(i, j);
        }
        idx.truncate(pipe.number);
        Ok(idx)
    }
}
