//! Typed errors for everything a user can get wrong: inputs, configs and weight files.

use std::path::PathBuf;

use panopticon_channels::ChannelIdError;

/// Errors raised by `panopticon-model`.
///
/// Every variant names the offending value so the message alone says what to fix.
#[derive(Debug, thiserror::Error)]
pub enum PanopticonError {
    /// A tensor has the wrong shape.
    #[error("{name} has shape {got:?}, expected {expected}")]
    Shape {
        /// Which tensor.
        name: String,
        /// What was expected, in words (e.g. `[B, C] with C = 13`).
        expected: String,
        /// The shape that was given.
        got: Vec<usize>,
    },
    /// A tensor has the wrong rank or element type.
    #[error("{name} has {got}, expected {expected}")]
    DType {
        /// Which tensor.
        name: String,
        /// What was expected.
        expected: String,
        /// What was given.
        got: String,
    },
    /// The image is smaller than one patch.
    #[error(
        "image is {height}x{width} pixels but the patch size is {patch}: \
         both sides must be at least {patch} pixels"
    )]
    ImageTooSmall {
        /// Image height in pixels.
        height: usize,
        /// Image width in pixels.
        width: usize,
        /// Patch size in pixels.
        patch: usize,
    },
    /// A channel id is not one: NaN or infinite, or negative but not a SAR id -1 ..= -12
    /// (`source` says which, naming the value).
    #[error("chn_ids of sample {sample}, channel {channel}: {source}")]
    ChannelId {
        /// Sample index in the batch.
        sample: usize,
        /// Channel index.
        channel: usize,
        /// What is wrong with the value.
        #[source]
        source: ChannelIdError,
    },
    /// Every channel of a sample is masked by `spec_masks`, so nothing is left to attend to.
    #[error(
        "every channel of sample {sample} is masked by spec_masks (true = ignore); \
         at least one channel per sample must be unmasked"
    )]
    AllChannelsMasked {
        /// Sample index in the batch.
        sample: usize,
    },
    /// The image holds NaN or infinite pixels.
    #[error(
        "image of sample {sample} has NaN or infinite pixels in channel {channel}; \
         replace no-data values (or mask the channel with spec_masks) before calling the model"
    )]
    NonFinitePixels {
        /// Sample index in the batch.
        sample: usize,
        /// Channel index.
        channel: usize,
    },
    /// A pixel's magnitude exceeds [`MAX_ABS_PIXEL`](crate::limits::MAX_ABS_PIXEL): the forward
    /// pass would overflow f32 and return NaN.
    #[error(
        "image of sample {sample} has a pixel of {value:e} in channel {channel}, beyond the \
         ±{limit:e} the model can take without overflowing f32; standardise the bands \
         (zero mean, unit variance) or mask the channel"
    )]
    PixelTooLarge {
        /// Sample index in the batch.
        sample: usize,
        /// Channel index.
        channel: usize,
        /// The largest magnitude found in that channel.
        value: f32,
        /// The bound.
        limit: f32,
    },
    /// One forward would hold more tokens per image than the cap (its attention scores grow
    /// with the square of the token count).
    #[error(
        "a {height}x{width} image makes {tokens} tokens per forward, over the cap of {max} \
         (its attention scores alone would take {gib:.1} GiB per image); embed it in tiles \
         (`panopticon embed --tile 518`), downsample it, or raise the cap with \
         PANOPTICON_MAX_TOKENS / --max-tokens"
    )]
    TooManyTokens {
        /// Image height in pixels.
        height: usize,
        /// Image width in pixels.
        width: usize,
        /// Tokens it would make (cls + registers + patches).
        tokens: usize,
        /// The cap.
        max: usize,
        /// GiB of attention scores per image.
        gib: f64,
    },
    /// The input does not fit the model variant (e.g. a stock DINOv2 model given 13 channels).
    #[error("{0}")]
    Input(String),
    /// A model configuration is inconsistent.
    #[error("invalid model config: {0}")]
    Config(String),
    /// Intermediate layers were requested that the model does not have.
    #[error("invalid layer selection: {0}")]
    Layers(String),
    /// Loading weights failed.
    #[error(transparent)]
    Weights(#[from] WeightsError),
    /// Getting pretrained weights failed (download, cache, registry).
    #[error(transparent)]
    Hub(#[from] HubError),
}

/// Errors raised while reading or applying a weights file.
#[derive(Debug, thiserror::Error)]
pub enum WeightsError {
    /// The file does not exist or cannot be opened.
    #[error("cannot open weights file {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not a checkpoint this crate can read, or it is truncated.
    #[error(
        "{path} is not a readable checkpoint ({reason}); expected a PyTorch .pth/.pt \
         (torch.save of a state dict), a .safetensors or a Burn .bpk file"
    )]
    Format {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
    /// Required tensors are absent from the checkpoint.
    #[error(
        "{path} lacks {} tensor(s) the model needs: {}{}",
        keys.len(),
        keys.iter().take(8).cloned().collect::<Vec<_>>().join(", "),
        if keys.len() > 8 { ", ..." } else { "" }
    )]
    Missing {
        /// The file.
        path: PathBuf,
        /// PyTorch-style names of the missing tensors.
        keys: Vec<String>,
    },
    /// The checkpoint holds tensors the model has no place for (strict loading).
    #[error(
        "{path} has {} tensor(s) the model does not use: {}{}; is the config right \
         (see --config), or load non-strictly",
        keys.len(),
        keys.iter().take(8).cloned().collect::<Vec<_>>().join(", "),
        if keys.len() > 8 { ", ..." } else { "" }
    )]
    Unused {
        /// The file.
        path: PathBuf,
        /// Names of the unused tensors.
        keys: Vec<String>,
    },
    /// A tensor's shape differs from the model's parameter.
    #[error("tensor {key} in {path} has shape {found:?}, but the model expects {expected:?}")]
    ShapeMismatch {
        /// The file.
        path: PathBuf,
        /// PyTorch-style tensor name.
        key: String,
        /// The model's shape.
        expected: Vec<usize>,
        /// The file's shape.
        found: Vec<usize>,
    },
    /// A tensor could not be converted (wrong kind of data, unreadable bytes).
    #[error("tensor {key} in {path} cannot be loaded: {reason}")]
    Tensor {
        /// The file.
        path: PathBuf,
        /// PyTorch-style tensor name.
        key: String,
        /// What went wrong.
        reason: String,
    },
    /// A tensor holds NaN or infinite values (a corrupt or diverged checkpoint).
    #[error(
        "tensor {key} in {path} holds {count} NaN/infinite value(s); the checkpoint is corrupt \
         or its training diverged (load it anyway with --allow-nonfinite / \
         LoadOptions::allow_nonfinite)"
    )]
    NonFinite {
        /// The file.
        path: PathBuf,
        /// Name of the tensor.
        key: String,
        /// How many values are not finite.
        count: usize,
    },
    /// A weights file cannot be written (no space, read-only, a missing directory).
    #[error(
        "cannot write {path}: {reason}; check free space and permissions (nothing was left \
         behind)"
    )]
    Write {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// Result alias of this crate.
pub type Result<T, E = PanopticonError> = std::result::Result<T, E>;

/// Failures of fetching pretrained weights (the Hugging Face hub, a URL, the local caches).
#[derive(Debug, thiserror::Error)]
pub enum HubError {
    /// The name is not in the registry.
    #[error("unknown weights `{name}`; known: {}", known.join(", "))]
    Unknown {
        /// The name asked for.
        name: String,
        /// Every registry name and alias.
        known: Vec<String>,
    },
    /// The registry file does not parse.
    #[error("weights registry {path} is invalid: {reason}")]
    Registry {
        /// The file (`<builtin>` for the compiled-in one).
        path: String,
        /// What is wrong.
        reason: String,
    },
    /// Offline (`HF_HUB_OFFLINE`) and the file is not cached.
    #[error(
        "offline (HF_HUB_OFFLINE is set) and `{name}` ({what}) is not in the cache {cache}; \
         fetch it once with network access (`panopticon weights fetch {name}`), or load a \
         local file instead: `Panopticon::from_file(&config, \"weights.pth\", &device)` / \
         `panopticon weights convert --src FILE`"
    )]
    Offline {
        /// Registry name.
        name: String,
        /// Repository and file, or URL.
        what: String,
        /// Cache directory searched.
        cache: String,
    },
    /// The server answered with an error status.
    #[error("GET {url} failed with HTTP {status}: {hint}")]
    Http {
        /// The URL.
        url: String,
        /// HTTP status code.
        status: u16,
        /// What it usually means.
        hint: String,
    },
    /// No answer: DNS, refused connection, TLS, a connection cut with no retries left.
    #[error(
        "cannot download {url}: {reason}; check the network (or set HF_ENDPOINT to a mirror), \
         or run offline with a local file (`Panopticon::from_file`, `panopticon weights convert`)"
    )]
    Network {
        /// The URL.
        url: String,
        /// The transport error.
        reason: String,
    },
    /// Downloaded or cached bytes are not the expected ones. The file has been removed.
    #[error(
        "checksum mismatch for {path}: sha256 {got}, expected {expected}; the file was removed \
         (a corrupted download or cache entry, or the upstream file changed), try again"
    )]
    Checksum {
        /// The file checked (now removed).
        path: PathBuf,
        /// Expected sha256 (hex).
        expected: String,
        /// Actual sha256 (hex).
        got: String,
    },
    /// A cache directory cannot be created or written (read-only, disk full, a file in the way).
    #[error(
        "cannot write the weights cache at {path}: {source}; point HF_HOME (downloads) and \
         PANOPTICON_CACHE (converted .bpk files) at a writable directory with enough free space"
    )]
    Cache {
        /// The path that failed.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}
