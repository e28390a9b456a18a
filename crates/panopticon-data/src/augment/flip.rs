//! `RandomHVFlip(p)`: vertical then horizontal flip, each with probability `p` (spec §4.5).

use super::image::Image;
use super::rng::Draws;

/// Reverses the rows of every channel.
pub fn flip_vertical(mut img: Image) -> Image {
    let (h, w) = (img.height(), img.width());
    for plane in img.data_mut().chunks_exact_mut(h * w) {
        for y in 0..h / 2 {
            let (top, bottom) = plane.split_at_mut((h - 1 - y) * w);
            top[y * w..(y + 1) * w].swap_with_slice(&mut bottom[..w]);
        }
    }
    img
}

/// Reverses the columns of every channel.
pub fn flip_horizontal(mut img: Image) -> Image {
    let w = img.width();
    img.data_mut()
        .chunks_exact_mut(w)
        .for_each(<[f32]>::reverse);
    img
}

/// Random vertical and horizontal flips.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RandomHvFlip {
    /// Probability of each flip.
    pub p: f64,
}

impl Default for RandomHvFlip {
    /// `p = 0.5` as upstream.
    fn default() -> Self {
        Self { p: 0.5 }
    }
}

impl RandomHvFlip {
    /// Draws (vertical, horizontal) flip decisions: two draws, `u < p` each.
    pub fn sample<R: Draws>(&self, rng: &mut R) -> (bool, bool) {
        let v = rng.bernoulli(self.p);
        (v, rng.bernoulli(self.p))
    }

    /// Flips `img` at random (two draws).
    pub fn apply<R: Draws>(&self, img: Image, rng: &mut R) -> Image {
        let (v, h) = self.sample(rng);
        let img = if v { flip_vertical(img) } else { img };
        if h { flip_horizontal(img) } else { img }
    }
}
