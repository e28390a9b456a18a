//! Errors of the augmentation pipeline and the collate.

/// Errors raised by augmentations, their configuration and the collate.
///
/// Every variant says what was wrong and what the caller should change.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AugmentError {
    /// An image's sample buffer does not match its shape.
    #[error(
        "image data has {got} samples but shape [{channels}, {height}, {width}] needs {expected}; \
         pass samples in [C, H, W] order"
    )]
    DataLength {
        /// Channels `C`.
        channels: usize,
        /// Height `H`.
        height: usize,
        /// Width `W`.
        width: usize,
        /// `C·H·W`.
        expected: usize,
        /// Samples passed.
        got: usize,
    },
    /// The number of channel ids differs from the number of channels.
    #[error("image has {channels} channels but {ids} chn_ids; give exactly one id per channel")]
    ChnIdCount {
        /// Channels of the image.
        channels: usize,
        /// Ids passed.
        ids: usize,
    },
    /// A dimension is zero.
    #[error("{what} must be at least 1 (got 0)")]
    Empty {
        /// Which dimension or list was empty.
        what: &'static str,
    },
    /// A configuration value is outside its valid range.
    #[error("invalid augmentation setting `{name}` = {value}: {expected}")]
    InvalidConfig {
        /// The setting.
        name: &'static str,
        /// Its value, formatted.
        value: String,
        /// What would be valid.
        expected: &'static str,
    },
    /// Not enough views to draw distinct views for the global crops.
    #[error(
        "sample has {views} view(s) with at most {max_channels} channels, but {crops} crops must \
         come from distinct views; provide at least {crops} views (sensors), a single view with \
         more than {hs_threshold} channels, or enable multi_select"
    )]
    TooFewViews {
        /// Views in the sample.
        views: usize,
        /// Crops that need distinct views.
        crops: usize,
        /// Channels of the first image of the first view.
        max_channels: usize,
        /// The hyperspectral threshold (30 upstream).
        hs_threshold: usize,
    },
    /// A crop has more channels than `ChnPad` pads to.
    #[error("crop has {channels} channels, more than ChnPad size {size}; lower the spectral size")]
    TooManyChannels {
        /// Channels of the crop.
        channels: usize,
        /// The padding size.
        size: usize,
    },
    /// The crops of a batch do not share one shape.
    #[error(
        "cannot collate {set} crop {crop} of sample {sample}: shape [{got_c}, {got_s}, {got_s}] \
         differs from [{want_c}, {want_s}, {want_s}]; pad every crop with ChnPad to the same size"
    )]
    CollateShape {
        /// `"global"` or `"local"`.
        set: &'static str,
        /// Sample index in the batch.
        sample: usize,
        /// Crop index in the sample.
        crop: usize,
        /// Channels expected.
        want_c: usize,
        /// Side expected.
        want_s: usize,
        /// Channels found.
        got_c: usize,
        /// Side found.
        got_s: usize,
    },
    /// The samples of a batch have different numbers of crops.
    #[error(
        "sample {sample} has {got} {set} crops but sample 0 has {want}; use one augmentation \
         for the whole batch"
    )]
    CollateCropCount {
        /// `"global"` or `"local"`.
        set: &'static str,
        /// Offending sample.
        sample: usize,
        /// Crops in sample 0.
        want: usize,
        /// Crops in the offending sample.
        got: usize,
    },
}

/// Result alias of this module.
pub type Result<T> = std::result::Result<T, AugmentError>;
