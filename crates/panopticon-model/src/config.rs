//! Model configurations and the named presets.
//!
//! Field names and defaults follow `DinoVisionTransformer.__init__` of the official code
//! (`dinov2/models/vision_transformer.py`, Panopticon-FM/panopticon@5ad7f82); the presets mirror
//! `hubconf.py` (Panopticon) and `dinov2/hub/backbones.py` (stock DINOv2).

use burn::config::Config;

use crate::error::{PanopticonError, Result};

/// Feed-forward layer of every transformer block (`ffn_layer`).
#[derive(Config, Debug, PartialEq, Eq, Copy)]
pub enum FfnLayer {
    /// `fc1 -> GELU(erf) -> fc2` (`"mlp"`).
    Mlp,
    /// `w12 -> SiLU-gate -> w3` (`"swiglu"`, `"swiglufused"`), used by DINOv2 ViT-g/14.
    SwiGlu,
    /// No feed-forward layer at all (`"identity"`).
    Identity,
}

/// Configuration of the Panopticon patch embedding (`PanopticonPE`, `pe_args`).
#[derive(Config, Debug, PartialEq)]
pub struct PanopticonPeConfig {
    /// Width `A` of the per-channel tokens and of the channel cross-attention.
    pub attn_dim: usize,
    /// Heads of the channel cross-attention (`chnfus_cfg.attn_cfg.num_heads`).
    #[config(default = 16)]
    pub num_heads: usize,
    /// Whether `inproj_k`/`inproj_v` have biases (`attn_cfg.qkv_bias`).
    #[config(default = false)]
    pub qkv_bias: bool,
    /// Whether a LayerNorm (eps 1e-5) follows the channel attention (`chnfus_cfg.layer_norm`).
    #[config(default = false)]
    pub layer_norm: bool,
    /// Optical ids are floor-divided by this before the sin-cos encoding (`opt_coarsity`).
    #[config(default = 1)]
    pub opt_coarsity: usize,
}

/// Configuration of the standard DINOv2 convolutional patch embedding (`PatchEmbed`).
#[derive(Config, Debug, PartialEq)]
pub struct ConvPatchEmbedConfig {
    /// Number of input channels of the convolution (3 for the stock DINOv2 checkpoints).
    #[config(default = 3)]
    pub in_chans: usize,
}

/// Which patch embedding turns pixels into tokens (`embed_layer`).
#[derive(Config, Debug, PartialEq)]
pub enum PatchEmbedConfig {
    /// Panopticon's any-channel embedding (`"PanopticonPE"`).
    Panopticon(PanopticonPeConfig),
    /// DINOv2's fixed-channel convolution (`"PatchEmbed"`).
    Conv(ConvPatchEmbedConfig),
}

/// Configuration of a Panopticon / DINOv2 vision transformer.
#[derive(Config, Debug)]
pub struct PanopticonConfig {
    /// Patch embedding variant.
    pub patch_embed: PatchEmbedConfig,
    /// Image size the stored `pos_embed` grid was made for (`img_size / patch_size` per side).
    #[config(default = 518)]
    pub img_size: usize,
    /// Patch side `P` in pixels.
    #[config(default = 14)]
    pub patch_size: usize,
    /// Token width `D`.
    #[config(default = 768)]
    pub embed_dim: usize,
    /// Number of transformer blocks.
    #[config(default = 12)]
    pub depth: usize,
    /// Attention heads per block.
    #[config(default = 12)]
    pub num_heads: usize,
    /// Hidden width of the MLP as a multiple of `D`.
    #[config(default = 4.0)]
    pub mlp_ratio: f64,
    /// Bias of the fused qkv projection.
    #[config(default = true)]
    pub qkv_bias: bool,
    /// Bias of the attention output projection.
    #[config(default = true)]
    pub proj_bias: bool,
    /// Biases of the feed-forward layers.
    #[config(default = true)]
    pub ffn_bias: bool,
    /// LayerScale initial value; `None` (or 0) means no LayerScale (`init_values`).
    #[config(default = "Some(1e-5)")]
    pub init_values: Option<f64>,
    /// Feed-forward layer kind.
    #[config(default = "FfnLayer::Mlp")]
    pub ffn_layer: FfnLayer,
    /// Number of register tokens `R`.
    #[config(default = 0)]
    pub num_register_tokens: usize,
    /// Offset added to the target grid when resizing `pos_embed` (0.1 in all released models).
    #[config(default = 0.1)]
    pub interpolate_offset: f64,
    /// Resize `pos_embed` with antialiased bicubic (DINOv2 `_reg` checkpoints).
    #[config(default = false)]
    pub interpolate_antialias: bool,
    /// Epsilon of every LayerNorm in the trunk.
    #[config(default = 1e-6)]
    pub layer_norm_eps: f64,
    /// Stochastic-depth rate (training only).
    #[config(default = 0.0)]
    pub drop_path_rate: f64,
    /// Same drop-path rate in every block instead of a linear ramp.
    #[config(default = false)]
    pub drop_path_uniform: bool,
}

impl PanopticonConfig {
    /// The released Panopticon ViT-B/14 (`hubconf.panopticon_vitb14`): DINOv2 ViT-B trunk,
    /// LayerScale 1e-5, `pos_embed` stored for 518 px (37x37), and the Panopticon patch
    /// embedding with attn_dim 2304 and 16 channel-attention heads.
    pub fn vitb14() -> Self {
        Self::new(PatchEmbedConfig::Panopticon(PanopticonPeConfig::new(2304)))
    }

    /// A ViT-S/14 trunk (D=384, 6 heads) with a Panopticon patch embedding (attn_dim 3·D).
    /// No weights are released for it; use it to train from scratch or from DINOv2 ViT-S/14.
    pub fn vits14() -> Self {
        Self::new(PatchEmbedConfig::Panopticon(PanopticonPeConfig::new(
            3 * 384,
        )))
        .with_embed_dim(384)
        .with_num_heads(6)
    }

    /// A ViT-L/14 trunk (D=1024, depth 24, 16 heads) with a Panopticon patch embedding.
    pub fn vitl14() -> Self {
        Self::new(PatchEmbedConfig::Panopticon(PanopticonPeConfig::new(
            3 * 1024,
        )))
        .with_embed_dim(1024)
        .with_depth(24)
        .with_num_heads(16)
    }

    /// A ViT-g/14 trunk (D=1536, depth 40, 24 heads, SwiGLU) with a Panopticon patch embedding.
    pub fn vitg14() -> Self {
        Self::new(PatchEmbedConfig::Panopticon(PanopticonPeConfig::new(
            3 * 1536,
        )))
        .with_embed_dim(1536)
        .with_depth(40)
        .with_num_heads(24)
        .with_ffn_layer(FfnLayer::SwiGlu)
    }

    /// Stock DINOv2 ViT-S/14 (`dinov2_vits14`, RGB conv patch embedding, LayerScale 1.0).
    pub fn dinov2_vits14() -> Self {
        Self::dinov2_base().with_embed_dim(384).with_num_heads(6)
    }

    /// Stock DINOv2 ViT-B/14 (`dinov2_vitb14`), the stage-1 initialisation of Panopticon.
    pub fn dinov2_vitb14() -> Self {
        Self::dinov2_base()
    }

    /// Stock DINOv2 ViT-L/14 (`dinov2_vitl14`).
    pub fn dinov2_vitl14() -> Self {
        Self::dinov2_base()
            .with_embed_dim(1024)
            .with_depth(24)
            .with_num_heads(16)
    }

    /// Stock DINOv2 ViT-g/14 (`dinov2_vitg14`, SwiGLU feed-forward).
    pub fn dinov2_vitg14() -> Self {
        Self::dinov2_base()
            .with_embed_dim(1536)
            .with_depth(40)
            .with_num_heads(24)
            .with_ffn_layer(FfnLayer::SwiGlu)
    }

    /// Turns a stock DINOv2 preset into its `_reg` variant (4 registers, antialiased
    /// size-based `pos_embed` resize), as `dinov2/hub/backbones.py` does.
    pub fn with_registers(self) -> Self {
        self.with_num_register_tokens(4)
            .with_interpolate_antialias(true)
            .with_interpolate_offset(0.0)
    }

    /// The tiny model of the shared parity fixtures (`fixtures/panopticon-tiny`): D=48, depth 2,
    /// 3 heads, patch 8, img 32 (4x4 grid), attn_dim 48 with 4 channel-attention heads.
    pub fn tiny_test() -> Self {
        Self::new(PatchEmbedConfig::Panopticon(
            PanopticonPeConfig::new(48).with_num_heads(4),
        ))
        .with_img_size(32)
        .with_patch_size(8)
        .with_embed_dim(48)
        .with_depth(2)
        .with_num_heads(3)
    }

    /// Looks a preset up by name (`vitb14`, `tiny-test`, `dinov2_vitb14`, `dinov2_vitb14_reg`, ...).
    pub fn preset(name: &str) -> Option<Self> {
        let key = name.to_ascii_lowercase().replace('-', "_");
        let (base, reg) = match key.strip_suffix("_reg") {
            Some(b) => (b, true),
            None => (key.as_str(), false),
        };
        let cfg = match base {
            "vitb14" | "panopticon_vitb14" => Self::vitb14(),
            "vits14" => Self::vits14(),
            "vitl14" => Self::vitl14(),
            "vitg14" => Self::vitg14(),
            "tiny_test" | "tiny" => Self::tiny_test(),
            "dinov2_vits14" => Self::dinov2_vits14(),
            "dinov2_vitb14" => Self::dinov2_vitb14(),
            "dinov2_vitl14" => Self::dinov2_vitl14(),
            "dinov2_vitg14" => Self::dinov2_vitg14(),
            _ => return None,
        };
        Some(if reg { cfg.with_registers() } else { cfg })
    }

    /// Names accepted by [`PanopticonConfig::preset`].
    pub const PRESETS: &'static [&'static str] = &[
        "vitb14",
        "vits14",
        "vitl14",
        "vitg14",
        "tiny-test",
        "dinov2_vits14[_reg]",
        "dinov2_vitb14[_reg]",
        "dinov2_vitl14[_reg]",
        "dinov2_vitg14[_reg]",
    ];

    fn dinov2_base() -> Self {
        Self::new(PatchEmbedConfig::Conv(ConvPatchEmbedConfig::new())).with_init_values(Some(1.0))
    }

    /// Side of the stored `pos_embed` grid (37 for 518 px and patch 14).
    pub fn pos_grid(&self) -> usize {
        self.img_size.checked_div(self.patch_size).unwrap_or(0)
    }

    /// Hidden width of the feed-forward layer.
    pub fn ffn_hidden(&self) -> usize {
        // `as` saturates (NaN → 0), so an absurd ratio cannot overflow here; `validate` bounds it.
        let hidden = (self.embed_dim as f64 * self.mlp_ratio) as usize;
        match self.ffn_layer {
            // SwiGLUFFNFused: (int(hidden * 2/3) + 7) // 8 * 8
            FfnLayer::SwiGlu => (hidden.saturating_mul(2) / 3).div_ceil(8).saturating_mul(8),
            _ => hidden,
        }
    }

    /// Checks the numbers fit together (divisibility, non-zero sizes, rates in range) and stay
    /// within sane bounds ([`limits`](crate::limits)), naming the offending field: a config
    /// from a file (or recorded in a `.bpk`) is untrusted, and `embed_dim` 3e9 must be an
    /// error here, not a failed allocation in `init`.
    pub fn validate(&self) -> Result<()> {
        use crate::limits::*;
        let bad = |m: String| Err(PanopticonError::Config(m));
        in_range("embed_dim", self.embed_dim, 1, MAX_EMBED_DIM)?;
        in_range("depth", self.depth, 1, MAX_DEPTH)?;
        in_range("num_heads", self.num_heads, 1, self.embed_dim)?;
        in_range("patch_size", self.patch_size, 1, MAX_PATCH_SIZE)?;
        in_range("img_size", self.img_size, self.patch_size, MAX_IMG_SIZE)?;
        in_range(
            "num_register_tokens",
            self.num_register_tokens,
            0,
            MAX_REGISTER_TOKENS,
        )?;
        if !self.embed_dim.is_multiple_of(self.num_heads) {
            return bad(format!(
                "embed_dim {} is not divisible by num_heads {}",
                self.embed_dim, self.num_heads
            ));
        }
        if !(self.drop_path_rate >= 0.0 && self.drop_path_rate < 1.0) {
            return bad(format!(
                "drop_path_rate {:?} not in [0, 1)",
                self.drop_path_rate
            ));
        }
        if !(self.mlp_ratio > 0.0 && self.mlp_ratio <= MAX_MLP_RATIO) {
            return bad(format!(
                "mlp_ratio {:?} must be in (0, {MAX_MLP_RATIO}]",
                self.mlp_ratio
            ));
        }
        if self.ffn_hidden() == 0 {
            return bad(format!(
                "mlp_ratio {:?} makes a feed-forward layer of width 0 for embed_dim {}",
                self.mlp_ratio, self.embed_dim
            ));
        }
        if !(self.layer_norm_eps > 0.0 && self.layer_norm_eps < 1.0) {
            return bad(format!(
                "layer_norm_eps {:?} must be in (0, 1)",
                self.layer_norm_eps
            ));
        }
        if !(self.interpolate_offset >= 0.0 && self.interpolate_offset < 1.0) {
            return bad(format!(
                "interpolate_offset {:?} must be in [0, 1)",
                self.interpolate_offset
            ));
        }
        if let Some(v) = self.init_values
            && !(v.is_finite() && v.abs() <= 1e3)
        {
            return bad(format!(
                "init_values {v:?} must be a finite LayerScale value within ±1e3"
            ));
        }
        if let PatchEmbedConfig::Panopticon(pe) = &self.patch_embed {
            in_range("patch_embed.attn_dim", pe.attn_dim, 4, MAX_ATTN_DIM)?;
            in_range("patch_embed.num_heads", pe.num_heads, 1, pe.attn_dim)?;
            if pe.attn_dim % pe.num_heads != 0 {
                return bad(format!(
                    "patch-embed attn_dim {} must be a positive multiple of its num_heads {}",
                    pe.attn_dim, pe.num_heads
                ));
            }
            if pe.attn_dim % 2 != 0 {
                return bad(format!(
                    "patch-embed attn_dim {} must be even (sin|cos halves)",
                    pe.attn_dim
                ));
            }
            in_range("patch_embed.opt_coarsity", pe.opt_coarsity, 1, 100_000)?;
        }
        if let PatchEmbedConfig::Conv(c) = &self.patch_embed {
            in_range("patch_embed.in_chans", c.in_chans, 1, MAX_IN_CHANS)?;
        }
        let params = self.parameter_estimate();
        if params > MAX_PARAMETERS {
            return bad(format!(
                "the config describes about {params} parameters ({:.1} GB in f32), over the                  limit of {MAX_PARAMETERS}; check embed_dim, depth, mlp_ratio, img_size",
                params as f64 * 4e-9
            ));
        }
        Ok(())
    }

    /// Upper estimate of the parameter count (saturating: huge fields cannot overflow it).
    fn parameter_estimate(&self) -> u64 {
        let d = self.embed_dim as u64;
        let m = self.pos_grid() as u64;
        let block = 4u64
            .saturating_mul(d)
            .saturating_mul(d)
            .saturating_add(
                3u64.saturating_mul(d)
                    .saturating_mul(self.ffn_hidden() as u64),
            )
            .saturating_add(16u64.saturating_mul(d));
        let pp = (self.patch_size as u64).saturating_mul(self.patch_size as u64);
        let pe = match &self.patch_embed {
            PatchEmbedConfig::Panopticon(pe) => {
                let a = pe.attn_dim as u64;
                pp.saturating_add(4)
                    .saturating_mul(a)
                    .saturating_add(3u64.saturating_mul(a).saturating_mul(a))
                    .saturating_add(a.saturating_mul(d))
            }
            PatchEmbedConfig::Conv(c) => pp.saturating_mul(c.in_chans as u64).saturating_mul(d),
        };
        m.saturating_mul(m)
            .saturating_add(2 + self.num_register_tokens as u64)
            .saturating_mul(d)
            .saturating_add(block.saturating_mul(self.depth as u64))
            .saturating_add(pe)
    }

    /// Reads a config from a JSON file (the format `Config::save` writes).
    pub fn from_file(path: impl AsRef<std::path::Path>) -> Result<Self> {
        let path = path.as_ref();
        let cfg = Self::load(path).map_err(|e| {
            PanopticonError::Config(format!("cannot read config {}: {e}", path.display()))
        })?;
        cfg.validate()?;
        Ok(cfg)
    }

    /// Parses and validates a config from JSON text (a config recorded in a `.bpk` file is
    /// as untrusted as one from `--config`).
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg = Self::load_binary(text.as_bytes())
            .map_err(|e| PanopticonError::Config(format!("cannot parse config JSON: {e}")))?;
        cfg.validate()?;
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `from_json` (what `info` reads the config a `.bpk` records with) round-trips the JSON a
    /// config prints and refuses one outside the bounds, naming the field.
    #[test]
    fn from_json_parses_and_validates() {
        let tiny = PanopticonConfig::tiny_test();
        let back = PanopticonConfig::from_json(&tiny.to_string()).unwrap();
        assert_eq!(back.embed_dim, tiny.embed_dim);
        let mut bad = tiny.clone();
        bad.embed_dim = 3_000_000_000;
        let err = PanopticonConfig::from_json(&bad.to_string()).unwrap_err();
        assert!(err.to_string().contains("embed_dim"), "{err}");
        assert!(PanopticonConfig::from_json("{not json").is_err());
    }
}
