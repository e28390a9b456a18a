//! The iBOT mask sampling of `collate_data_and_cast` (spec §3.6).

use super::error::MaskingError;
use super::generator::MaskingGenerator;
use crate::augment::Draws;

/// `torch.linspace(start, end, steps)` in f32, with torch's CPU formula (first half from
/// `start`, second half from `end`, each a single fused multiply-add, as the vectorised
/// kernel compiles to) so values match bit for bit.
pub fn linspace_f32(start: f32, end: f32, steps: usize) -> Vec<f32> {
    if steps == 1 {
        return vec![start];
    }
    let step = (end - start) / (steps - 1) as f32;
    let half = steps / 2;
    (0..steps)
        .map(|i| {
            if i < half {
                step.mul_add(i as f32, start)
            } else {
                (-step).mul_add((steps - i - 1) as f32, end)
            }
        })
        .collect()
}

/// Settings of the per-batch iBOT masking.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct IbotMaskConfig {
    /// Fraction of the global crops that get a mask (upstream 0.5).
    pub mask_probability: f64,
    /// `(r_min, r_max)` masked-patch ratio range (upstream (0.1, 0.5)).
    pub mask_ratio: (f32, f32),
}

impl Default for IbotMaskConfig {
    /// `mask_sample_probability 0.5`, `mask_ratio_min_max [0.1, 0.5]`.
    fn default() -> Self {
        Self {
            mask_probability: 0.5,
            mask_ratio: (0.1, 0.5),
        }
    }
}

impl IbotMaskConfig {
    /// Checks `0 <= p <= 1` and `0 <= r_min <= r_max <= 1`.
    pub fn validate(&self) -> Result<(), MaskingError> {
        if !(0.0..=1.0).contains(&self.mask_probability) {
            return Err(MaskingError::InvalidConfig {
                name: "mask_sample_probability",
                value: self.mask_probability.to_string(),
                expected: "a probability in [0, 1]",
            });
        }
        let (lo, hi) = self.mask_ratio;
        if !(0.0 <= lo && lo <= hi && hi <= 1.0) {
            return Err(MaskingError::InvalidConfig {
                name: "mask_ratio_min_max",
                value: format!("[{lo}, {hi}]"),
                expected: "0 <= min <= max <= 1",
            });
        }
        Ok(())
    }
}

/// The masks of one batch of global crops.
///
/// # Shapes
/// - `masks`: `[n_images, N]` flattened, true = masked patch.
/// - `mask_indices`: `[M]` ascending flat indices of the true entries of `masks`.
/// - `masks_weight`: `[M]`, `1 / max(#masked patches of the entry's image, 1)`.
#[derive(Debug, Clone, PartialEq)]
pub struct IbotMasks {
    /// Global crop images `2B`.
    pub n_images: usize,
    /// Patches per image `N`.
    pub n_tokens: usize,
    /// Masks, `[n_images, N]`.
    pub masks: Vec<bool>,
    /// Flat indices of masked patches, `[M]`.
    pub mask_indices: Vec<i64>,
    /// Per-masked-patch weight, `[M]`.
    pub masks_weight: Vec<f32>,
    /// `Σ int(N·probs[i+1])`: an upper bound on `M` (sizes fixed buffers upstream).
    pub upperbound: usize,
}

impl IbotMasks {
    /// Samples the masks for `n_images` global crops: the first `int(n_images·p)` get
    /// `generate(int(N·U(probs[i], probs[i+1])))` with `probs = linspace(r_min, r_max, k+1)`
    /// (f32 arithmetic like upstream's tensors), the rest are empty; then the list is
    /// shuffled. Draws: one per masked image (ratio) plus the generator's, then the shuffle.
    pub fn sample<R: Draws>(
        n_images: usize,
        config: &IbotMaskConfig,
        generator: &MaskingGenerator,
        rng: &mut R,
    ) -> Result<Self, MaskingError> {
        config.validate()?;
        let n = generator.num_patches();
        let n_masked = (n_images as f64 * config.mask_probability) as usize;
        let probs = linspace_f32(config.mask_ratio.0, config.mask_ratio.1, n_masked + 1);
        let mut upperbound = 0;
        let mut list: Vec<Vec<bool>> = Vec::with_capacity(n_images);
        for i in 0..n_masked {
            let (lo, hi) = (probs[i], probs[i + 1]);
            // random.uniform on 0-d f32 tensors: lo + (hi − lo)·u, all in f32.
            let ratio = lo + (hi - lo) * rng.uniform() as f32;
            list.push(generator.generate((n as f32 * ratio) as usize, rng));
            upperbound += (n as f32 * hi) as usize;
        }
        list.resize(n_images, vec![false; n]);
        rng.shuffle(&mut list);
        Ok(Self::from_masks(list, n, upperbound))
    }

    /// Builds indices and weights from per-image masks (each `[N]`).
    fn from_masks(list: Vec<Vec<bool>>, n_tokens: usize, upperbound: usize) -> Self {
        let n_images = list.len();
        let masks: Vec<bool> = list.into_iter().flatten().collect();
        let mut mask_indices = Vec::new();
        let mut masks_weight = Vec::new();
        for (img, row) in masks.chunks(n_tokens.max(1)).enumerate() {
            let count = row.iter().filter(|&&m| m).count();
            let w = 1.0 / (count.max(1) as f32);
            for (j, _) in row.iter().enumerate().filter(|(_, m)| **m) {
                mask_indices.push((img * n_tokens + j) as i64);
                masks_weight.push(w);
            }
        }
        Self {
            n_images,
            n_tokens,
            masks,
            mask_indices,
            masks_weight,
            upperbound,
        }
    }

    /// Total masked patches `M` (upstream `n_masked_patches`).
    pub fn n_masked_patches(&self) -> usize {
        self.mask_indices.len()
    }
}
