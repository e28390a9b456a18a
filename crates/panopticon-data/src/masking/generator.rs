//! DINOv2/BEiT `MaskingGenerator`: random rectangular blocks on the patch grid.

use super::error::MaskingError;
use crate::augment::Draws;

/// Block-mask generator on an `height × width` patch grid (spec §3.6).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskingGenerator {
    /// Grid rows.
    pub height: usize,
    /// Grid columns.
    pub width: usize,
    /// Smallest block area drawn (upstream 4).
    pub min_num_patches: usize,
    /// Largest block area (upstream `0.5·N`).
    pub max_num_patches: usize,
    /// `(ln min_aspect, ln max_aspect)`.
    pub log_aspect_ratio: (f64, f64),
}

impl MaskingGenerator {
    /// The Panopticon/DINOv2 generator for a `grid × grid` patch grid: `max_num_patches =
    /// 0.5·grid²`, `min_num_patches = 4`, aspect in `[0.3, 1/0.3]`.
    pub fn for_grid(grid: usize) -> Result<Self, MaskingError> {
        Self::new(grid, grid, 4, (0.5 * (grid * grid) as f64) as usize, 0.3)
    }

    /// A generator with explicit settings (`max_aspect = 1/min_aspect`).
    pub fn new(
        height: usize,
        width: usize,
        min_num_patches: usize,
        max_num_patches: usize,
        min_aspect: f64,
    ) -> Result<Self, MaskingError> {
        if height == 0 || width == 0 {
            return Err(MaskingError::InvalidConfig {
                name: "input_size",
                value: format!("{height}x{width}"),
                expected: "a non-empty patch grid",
            });
        }
        if !(min_aspect > 0.0 && min_aspect.is_finite()) {
            return Err(MaskingError::InvalidConfig {
                name: "min_aspect",
                value: min_aspect.to_string(),
                expected: "a finite aspect ratio > 0 (upstream 0.3)",
            });
        }
        Ok(Self {
            height,
            width,
            min_num_patches,
            max_num_patches,
            log_aspect_ratio: (min_aspect.ln(), (1.0 / min_aspect).ln()),
        })
    }

    /// Number of patches `N = height·width`.
    pub fn num_patches(&self) -> usize {
        self.height * self.width
    }

    /// A mask with (up to) `n` patches set, built from blocks; may hold fewer when no block
    /// fits.
    ///
    /// # Shapes
    /// - returns `[height·width]` (row-major grid), true = masked.
    pub fn generate<R: Draws>(&self, n: usize, rng: &mut R) -> Vec<bool> {
        let mut mask = vec![false; self.num_patches()];
        let mut count = 0;
        while count < n {
            let budget = (n - count).min(self.max_num_patches);
            let delta = self.try_block(&mut mask, budget, rng);
            if delta == 0 {
                break;
            }
            count += delta;
        }
        mask
    }

    /// Up to 10 attempts to add one block of at most `budget` new patches; returns how many
    /// were added. Draws per attempt: area, aspect, and (if it fits) top and left.
    fn try_block<R: Draws>(&self, mask: &mut [bool], budget: usize, rng: &mut R) -> usize {
        let mut delta = 0;
        for _ in 0..10 {
            let area = rng.uniform_range(self.min_num_patches as f64, budget as f64);
            let aspect = rng
                .uniform_range(self.log_aspect_ratio.0, self.log_aspect_ratio.1)
                .exp();
            let h = (area * aspect).sqrt().round_ties_even() as usize;
            let w = (area / aspect).sqrt().round_ties_even() as usize;
            if w < self.width && h < self.height {
                let top = rng.randint(0, self.height - h);
                let left = rng.randint(0, self.width - w);
                let rows = top..top + h;
                let cell = |i: usize, j: usize| i * self.width + j;
                let already = rows
                    .clone()
                    .flat_map(|i| (left..left + w).map(move |j| (i, j)))
                    .filter(|&(i, j)| mask[cell(i, j)])
                    .count();
                let new = h * w - already;
                if 0 < new && new <= budget {
                    for i in rows {
                        for j in left..left + w {
                            mask[cell(i, j)] = true;
                        }
                    }
                    delta += new;
                }
            }
            if delta > 0 {
                break;
            }
        }
        delta
    }
}
