//! One-axis resampling taps: which source pixels each target pixel reads, with what weight.

/// Source pixels per target pixel along one axis, as in GDAL's warp kernels.
///
/// Positions are in source pixel units: target pixel `i` spans `[origin + i·step,
/// origin + (i+1)·step)`.
#[derive(Debug, Clone)]
pub(super) struct Taps {
    /// First source index of each target pixel's taps.
    first: Vec<usize>,
    /// `offsets[i]..offsets[i+1]` are target pixel `i`'s weights in `weights`.
    offsets: Vec<usize>,
    weights: Vec<f64>,
}

/// Tolerance GDAL uses when flooring/ceiling footprint edges (`GWKAverageOrMode`).
const EDGE_EPS: f64 = 1e-10;

impl Taps {
    /// Area-weighted average (`gdalwarp -r average`): every source pixel the target pixel's
    /// footprint overlaps, weighted by the overlapping length (so by area in 2-D).
    pub(super) fn average(n: usize, origin: f64, step: f64, src_len: usize) -> Self {
        let mut t = Self::empty(n);
        for i in 0..n {
            let x0 = origin + i as f64 * step;
            let x1 = x0 + step;
            let lo = ((x0 + EDGE_EPS).floor().max(0.0)) as usize;
            let hi = ((x1 - EDGE_EPS).ceil().min(src_len as f64)).max(0.0) as usize;
            let mut first = None;
            for s in lo..hi.max(lo) {
                let w = (x1.min(s as f64 + 1.0) - x0.max(s as f64)).max(0.0);
                if first.is_none() {
                    first = Some(s);
                }
                t.weights.push(w);
            }
            t.close(first.unwrap_or(0));
        }
        t
    }

    /// Bilinear (`gdalwarp -r bilinear`): the two source pixels whose centres bracket the
    /// target pixel's centre, weighted linearly; taps outside the source are dropped (the
    /// caller renormalises, as GDAL does).
    pub(super) fn bilinear(n: usize, origin: f64, step: f64, src_len: usize) -> Self {
        let mut t = Self::empty(n);
        for i in 0..n {
            let u = origin + (i as f64 + 0.5) * step - 0.5;
            let i0 = u.floor();
            let frac = u - i0;
            let i0 = i0 as i64;
            let inside = |s: i64| s >= 0 && (s as usize) < src_len;
            let first = match (inside(i0), inside(i0 + 1)) {
                (true, true) => {
                    t.weights.extend([1.0 - frac, frac]);
                    i0 as usize
                }
                (true, false) => {
                    t.weights.push(1.0 - frac);
                    i0 as usize
                }
                (false, true) => {
                    t.weights.push(frac);
                    (i0 + 1) as usize
                }
                (false, false) => 0,
            };
            t.close(first);
        }
        t
    }

    fn empty(n: usize) -> Self {
        let mut offsets = Vec::with_capacity(n + 1);
        offsets.push(0);
        Self {
            first: Vec::with_capacity(n),
            offsets,
            weights: Vec::new(),
        }
    }

    fn close(&mut self, first: usize) {
        self.first.push(first);
        self.offsets.push(self.weights.len());
    }

    /// Target pixel `i`'s first source index and weights.
    pub(super) fn get(&self, i: usize) -> (usize, &[f64]) {
        (
            self.first[i],
            &self.weights[self.offsets[i]..self.offsets[i + 1]],
        )
    }

    /// The source index range `[lo, hi)` target pixels `range` read (empty → `(0, 0)`).
    pub(super) fn span(&self, range: std::ops::Range<usize>) -> (usize, usize) {
        let mut lo = usize::MAX;
        let mut hi = 0;
        for i in range {
            let (f, w) = self.get(i);
            if !w.is_empty() {
                lo = lo.min(f);
                hi = hi.max(f + w.len());
            }
        }
        if lo == usize::MAX { (0, 0) } else { (lo, hi) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_halves_and_thirds() {
        // 2× downsampling: each target pixel averages two whole source pixels.
        let t = Taps::average(2, 0.0, 2.0, 4);
        assert_eq!(t.get(1), (2, &[1.0, 1.0][..]));
        // 1.5× with an offset: partial overlaps weigh by their length.
        let t = Taps::average(1, 0.25, 1.5, 4);
        assert_eq!(t.get(0), (0, &[0.75, 0.75][..]));
    }

    #[test]
    fn bilinear_upsampling_by_two() {
        // Target centres at 0.25, 0.75, 1.25, 1.75 source pixels: the outer ones lie beyond
        // the outermost source centres (0.5, 1.5) and keep only the tap inside the source.
        let t = Taps::bilinear(4, 0.0, 0.5, 2);
        assert_eq!(t.get(0), (0, &[0.75][..]));
        assert_eq!(t.get(1), (0, &[0.75, 0.25][..]));
        assert_eq!(t.get(2), (0, &[0.25, 0.75][..]));
        assert_eq!(t.get(3), (1, &[0.75][..]));
        assert_eq!(t.span(1..3), (0, 2));
    }
}
