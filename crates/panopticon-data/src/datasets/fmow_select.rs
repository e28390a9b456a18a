//! View selection of FMoW (spec §5.4), written as fixed formulas over uniform draws so the
//! Python generator can replay the same draws and predict the choice.

use super::fmow_meta::FmowView;
use super::fmow_sensor::FmowSensor;
use crate::augment::Draws;

/// How a sample picks its views among a location's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ViewSelection {
    /// Upstream default `large_enough`: first one view uniformly among those with
    /// `img_size >= max_crop` (so at least one view covers the full crop), then `M − 1`
    /// distinct views uniformly from all remaining ones, any source. The large view comes
    /// first in the output.
    #[default]
    LargeEnough,
    /// `unique`: `M` distinct sources uniformly, then one view of each uniformly.
    Unique,
}

/// Picks `m` distinct positions of `views`, as documented on [`ViewSelection`].
///
/// Draw formulas (each `randint(lo, hi)` is one draw, `lo + ⌊u·(hi − lo + 1)⌋`):
/// * `LargeEnough`: `L` = positions with `img_size >= max_crop`, ascending; first =
///   `L[randint(0, |L| − 1)]`; `R` = the other positions, ascending; for `k` in `0..m − 1`:
///   swap `R[k]` with `R[randint(k, |R| − 1)]`; output `[first, R[0], …, R[m − 2]]`.
/// * `Unique`: `S` = sources in order of first appearance; for `k` in `0..m`: swap `S[k]`
///   with `S[randint(k, |S| − 1)]`; then for each of `S[0..m]` in order: `P` = its
///   positions, ascending; output `P[randint(0, |P| − 1)]`.
///
/// Returns `None` when the location cannot give `m` views (no large-enough view, fewer than
/// `m` views or sources); the filters at load make that impossible for kept rows.
pub fn select_views<D: Draws>(
    views: &[FmowView],
    m: usize,
    mode: ViewSelection,
    max_crop: usize,
    rng: &mut D,
) -> Option<Vec<usize>> {
    match mode {
        ViewSelection::LargeEnough => {
            let large: Vec<usize> = (0..views.len())
                .filter(|&i| views[i].img_size() >= max_crop)
                .collect();
            if large.is_empty() || views.len() < m || m == 0 {
                return None;
            }
            let first = large[rng.randint(0, large.len() - 1)];
            let mut rest: Vec<usize> = (0..views.len()).filter(|&i| i != first).collect();
            partial_shuffle(&mut rest, m - 1, rng);
            Some(
                std::iter::once(first)
                    .chain(rest[..m - 1].iter().copied())
                    .collect(),
            )
        }
        ViewSelection::Unique => {
            let mut sources: Vec<FmowSensor> = Vec::new();
            for v in views {
                if !sources.contains(&v.sensor) {
                    sources.push(v.sensor);
                }
            }
            if sources.len() < m || m == 0 {
                return None;
            }
            partial_shuffle(&mut sources, m, rng);
            Some(
                sources[..m]
                    .iter()
                    .map(|&s| {
                        let pos: Vec<usize> =
                            (0..views.len()).filter(|&i| views[i].sensor == s).collect();
                        pos[rng.randint(0, pos.len() - 1)]
                    })
                    .collect(),
            )
        }
    }
}

/// Forward Fisher–Yates on the first `k` slots: a uniform ordered `k`-subset in `xs[..k]`.
fn partial_shuffle<T, D: Draws>(xs: &mut [T], k: usize, rng: &mut D) {
    let n = xs.len();
    for i in 0..k.min(n) {
        let j = rng.randint(i, n - 1);
        xs.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::{ViewSelection, select_views};
    use crate::augment::{AugRng, Draws};
    use crate::datasets::{FmowSensor, FmowView};

    /// Replays fixed uniforms.
    struct Replay(Vec<f64>);
    impl Draws for Replay {
        fn uniform(&mut self) -> f64 {
            self.0.remove(0)
        }
    }

    fn view(sensor: FmowSensor, h: usize, w: usize) -> FmowView {
        FmowView {
            path: format!("{}_{h}x{w}.tif", sensor.name()),
            sensor,
            height: h,
            width: w,
        }
    }

    #[test]
    fn large_enough_puts_the_large_view_first() {
        use FmowSensor::*;
        let views = vec![
            view(S2, 50, 60),
            view(Rgb, 300, 256),
            view(Wv23, 400, 200),
            view(Rgb, 256, 900),
        ];
        // L = [1, 3]; u = 0.9 → L[1] = 3; R = [0, 1, 2]; u = 0.0 → randint(0, 2) = 0.
        let got = select_views(
            &views,
            2,
            ViewSelection::LargeEnough,
            256,
            &mut Replay(vec![0.9, 0.0]),
        );
        assert_eq!(got, Some(vec![3, 0]));
        // Whatever the draws: the first view is large, all distinct.
        for seed in 0..200 {
            let mut rng = AugRng::for_sample(seed, 1);
            let got = select_views(&views, 3, ViewSelection::LargeEnough, 256, &mut rng).unwrap();
            assert!(views[got[0]].img_size() >= 256);
            let mut s = got.clone();
            s.sort();
            s.dedup();
            assert_eq!(s.len(), 3);
        }
        assert_eq!(
            select_views(
                &views,
                5,
                ViewSelection::LargeEnough,
                256,
                &mut Replay(vec![])
            ),
            None
        );
        assert_eq!(
            select_views(
                &views,
                2,
                ViewSelection::LargeEnough,
                901,
                &mut Replay(vec![])
            ),
            None
        );
    }

    #[test]
    fn unique_gives_distinct_sources() {
        use FmowSensor::*;
        let views = vec![view(Rgb, 1, 1), view(S2, 1, 1), view(Rgb, 2, 2)];
        // S = [rgb, s2]; u = 0.0 → keep rgb first; u = 0.99 → randint(1, 1) = 1;
        // rgb positions [0, 2], u = 0.6 → 2; s2 positions [1], u = 0.1 → 1.
        let got = select_views(
            &views,
            2,
            ViewSelection::Unique,
            0,
            &mut Replay(vec![0.0, 0.99, 0.6, 0.1]),
        );
        assert_eq!(got, Some(vec![2, 1]));
        assert_eq!(
            select_views(&views, 3, ViewSelection::Unique, 0, &mut Replay(vec![])),
            None
        );
    }
}
