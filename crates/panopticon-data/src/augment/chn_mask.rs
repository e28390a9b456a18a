//! `ListChnMask(low, high)`: spectral subsampling of a view (spec §4.3).

use super::error::{AugmentError, Result};
use super::image::{Image, View};
use super::rng::Draws;

/// Which channels of which images of a view are kept, in output order.
///
/// Images appear in their original order; the channels of each image in the order the
/// subsampling drew them. Images without a kept channel are absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChannelSelection {
    /// `(image index, kept channel indices)` pairs.
    pub images: Vec<(usize, Vec<usize>)>,
}

impl ChannelSelection {
    /// Every channel of every image, in order.
    pub fn all(view: &View) -> Self {
        Self {
            images: view
                .images()
                .iter()
                .enumerate()
                .map(|(s, img)| (s, (0..img.channels()).collect()))
                .collect(),
        }
    }

    /// Number of kept channels.
    pub fn len(&self) -> usize {
        self.images.iter().map(|(_, c)| c.len()).sum()
    }

    /// Whether no channel is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Copies the kept channels (and their ids) into a new view.
    pub fn apply(&self, view: &View) -> Result<View> {
        let mut images = Vec::with_capacity(self.images.len());
        for (s, chans) in &self.images {
            let img = view.images().get(*s).ok_or(AugmentError::InvalidConfig {
                name: "ChannelSelection image index",
                value: s.to_string(),
                expected: "an image index of the view it was drawn for",
            })?;
            let mut data = Vec::with_capacity(chans.len() * img.height() * img.width());
            let mut ids = Vec::with_capacity(chans.len());
            for &c in chans {
                let plane = img.channel(c).ok_or(AugmentError::InvalidConfig {
                    name: "ChannelSelection channel index",
                    value: c.to_string(),
                    expected: "a channel index of the image it was drawn for",
                })?;
                data.extend_from_slice(plane);
                ids.push(img.chn_ids()[c]);
            }
            images.push(Image::new(
                data,
                [chans.len(), img.height(), img.width()],
                ids,
            )?);
        }
        View::new(images)
    }
}

/// Keeps a random subset of `n ~ U{low, min(high, T)}` of a view's `T` channels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListChnMask {
    /// Fewest channels kept (views with at most `low` channels are left unchanged).
    pub low: usize,
    /// Most channels kept.
    pub high: usize,
}

impl ListChnMask {
    /// Checks `1 <= low <= high`.
    pub fn new(low: usize, high: usize) -> Result<Self> {
        if low == 0 || low > high {
            return Err(AugmentError::InvalidConfig {
                name: "spectral_size",
                value: format!("[{low}, {high}]"),
                expected: "1 <= low <= high",
            });
        }
        Ok(Self { low, high })
    }

    /// Draws the channel subset (spec §4.3 steps 1–5). Draws: `n` (one), then the shuffle
    /// (`T − 1`) — none when `T <= low`, none for the shuffle when `n == T`.
    pub fn select<R: Draws>(&self, view: &View, rng: &mut R) -> ChannelSelection {
        let total = view.total_channels();
        if total <= self.low {
            return ChannelSelection::all(view);
        }
        let n = rng.randint(self.low, self.high.min(total));
        if n == total {
            return ChannelSelection::all(view);
        }
        let mut pairs: Vec<(usize, usize)> = view
            .images()
            .iter()
            .enumerate()
            .flat_map(|(s, img)| (0..img.channels()).map(move |i| (s, i)))
            .collect();
        rng.shuffle(&mut pairs);
        pairs.truncate(n);
        let images = (0..view.images().len())
            .filter_map(|s| {
                let chans: Vec<usize> = pairs
                    .iter()
                    .filter(|(ps, _)| *ps == s)
                    .map(|&(_, i)| i)
                    .collect();
                (!chans.is_empty()).then_some((s, chans))
            })
            .collect();
        ChannelSelection { images }
    }
}
