//! `Panopticon`: the DINOv2 vision transformer with a Panopticon (or stock) patch embedding.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

use super::block::{Block, BlockOptions};
use super::tokens::{self, LearnedTokens, TokenGrid};
use crate::config::{PanopticonConfig, PatchEmbedConfig};
use crate::error::Result;
use crate::input::PanopticonInput;
use crate::output::{ForwardFeatures, IntermediateLayer, LayerSelection};
use crate::patch_embed::{PanopticonPe, PatchEmbed};

/// The patch embedding of a model; the variant name is not part of checkpoint keys.
// One per model, so the size difference between variants costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Module, Debug)]
pub enum PatchEmbedding {
    /// Panopticon's any-channel embedding (`patch_embed.conv3d`, `.chnfus`, `.proj`).
    Panopticon(PanopticonPe),
    /// DINOv2's convolution (`patch_embed.proj`).
    Conv(PatchEmbed),
}

/// The Panopticon / DINOv2 vision transformer. Field names are the checkpoint keys.
#[derive(Module, Debug)]
pub struct Panopticon {
    /// `[1, 1, D]`.
    pub cls_token: Param<Tensor<3>>,
    /// `[1, 1 + M·M, D]`, stored for `img_size` (37×37 for the release).
    pub pos_embed: Param<Tensor<3>>,
    /// `[1, R, D]` when `R > 0`.
    pub register_tokens: Option<Param<Tensor<3>>>,
    /// `[1, D]` iBOT mask token.
    pub mask_token: Param<Tensor<2>>,
    /// Pixels → `[B, L, D]` tokens.
    pub patch_embed: PatchEmbedding,
    /// The transformer blocks.
    pub blocks: Vec<Block>,
    /// Final LayerNorm.
    pub norm: LayerNorm,
    /// The configuration the model was built from.
    #[module(skip)]
    pub config: PanopticonConfig,
    /// Cap on tokens per image in one forward (see [`Panopticon::set_max_tokens`]).
    #[module(skip)]
    max_tokens: usize,
}

impl PanopticonConfig {
    /// Builds a model with the official from-scratch initialisation.
    pub fn init(&self, device: &Device) -> Result<Panopticon> {
        self.validate()?;
        let d = self.embed_dim;
        let m = self.pos_grid();
        let patch_embed = match &self.patch_embed {
            PatchEmbedConfig::Panopticon(pe) => {
                PatchEmbedding::Panopticon(PanopticonPe::init(pe, d, self.patch_size, device))
            }
            PatchEmbedConfig::Conv(c) => {
                PatchEmbedding::Conv(PatchEmbed::init(c.in_chans, d, self.patch_size, device))
            }
        };
        let blocks = (0..self.depth)
            .map(|i| {
                let drop_path = if self.drop_path_uniform || self.depth == 1 {
                    self.drop_path_rate
                } else {
                    self.drop_path_rate * i as f64 / (self.depth - 1) as f64
                };
                let o = BlockOptions {
                    dim: d,
                    num_heads: self.num_heads,
                    hidden: self.ffn_hidden(),
                    qkv_bias: self.qkv_bias,
                    proj_bias: self.proj_bias,
                    ffn_bias: self.ffn_bias,
                    init_values: self.init_values,
                    ffn: self.ffn_layer,
                    eps: self.layer_norm_eps,
                    drop_path,
                };
                Block::init(&o, device)
            })
            .collect();
        let tiny = Distribution::Normal(0.0, 1e-6);
        Ok(Panopticon {
            cls_token: Param::from_tensor(Tensor::random([1, 1, d], tiny, device)),
            pos_embed: Param::from_tensor(Tensor::random(
                [1, m * m + 1, d],
                Distribution::Normal(0.0, 0.02),
                device,
            )),
            register_tokens: (self.num_register_tokens > 0).then(|| {
                Param::from_tensor(Tensor::random(
                    [1, self.num_register_tokens, d],
                    tiny,
                    device,
                ))
            }),
            mask_token: Param::from_tensor(Tensor::zeros([1, d], device)),
            patch_embed,
            blocks,
            norm: LayerNormConfig::new(d)
                .with_epsilon(self.layer_norm_eps)
                .init(device),
            config: self.clone(),
            max_tokens: crate::limits::default_max_tokens(self.num_heads),
        })
    }
}

impl Panopticon {
    /// Token width `D`.
    pub fn embed_dim(&self) -> usize {
        self.config.embed_dim
    }

    /// Number of blocks.
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// Cap on tokens (cls + registers + patches) per image in one forward: the attention
    /// scores grow with its square. Defaults to
    /// [`default_max_tokens`](crate::limits::default_max_tokens) (a 4 GiB budget per image,
    /// or `PANOPTICON_MAX_TOKENS`).
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Sets the cap on tokens per image in one forward (larger images fail with
    /// [`PanopticonError::TooManyTokens`](crate::PanopticonError::TooManyTokens) before
    /// anything is allocated).
    pub fn set_max_tokens(&mut self, max: usize) {
        self.max_tokens = max;
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.cls_token.device()
    }

    /// Normalised cls token, the model's default output (`model(x_dict)` upstream).
    ///
    /// # Shapes
    /// - output: `[B, D]`
    pub fn forward(&self, input: &PanopticonInput) -> Result<Tensor<2>> {
        Ok(self.forward_features(input, None)?.x_norm_clstoken)
    }

    /// All final-normed tokens and the pre-norm sequence. `masks` `[B, L]` (true = replace the
    /// patch token by `mask_token`, before cls and positions are added) is the iBOT path.
    pub fn forward_features(
        &self,
        input: &PanopticonInput,
        masks: Option<Tensor<2, Bool>>,
    ) -> Result<ForwardFeatures> {
        let tokens = self.prepare_tokens(input, masks.clone())?;
        let blocks = |x| self.blocks.iter().fold(x, |x, blk| blk.forward(x));
        Ok(tokens::features(
            &self.config,
            tokens,
            blocks,
            &self.norm,
            masks,
        ))
    }

    /// Outputs of selected blocks, optionally passed through the final norm
    /// (`get_intermediate_layers`; with `norm = false` these are the raw block outputs the
    /// evaluation wrapper uses). Returned in forward order.
    pub fn intermediate_layers(
        &self,
        input: &PanopticonInput,
        layers: impl Into<LayerSelection>,
        norm: bool,
    ) -> Result<Vec<IntermediateLayer>> {
        let wanted = self.resolve_layers(layers.into())?;
        let tokens = self.prepare_tokens(input, None)?;
        let norm = norm.then_some(&self.norm);
        let forward = |blk: &Block, x| blk.forward(x);
        Ok(tokens::layers(
            &self.config,
            tokens,
            &self.blocks,
            forward,
            &wanted,
            norm,
        ))
    }

    /// Sorted, checked block indices (errors name a block the model lacks, or a duplicate).
    pub fn resolve_layers(&self, sel: LayerSelection) -> Result<Vec<usize>> {
        sel.resolve(self.depth())
    }

    /// Checks that a `height × width` image fits one forward: at least one patch, and at most
    /// [`max_tokens`](Self::max_tokens) tokens. Cheap; call it before allocating an image.
    pub fn check_image_size(&self, height: usize, width: usize) -> Result<()> {
        tokens::check_image_size(&self.config, self.max_tokens, height, width)
    }

    /// Patch grid for an image: `(⌊H/P⌋, ⌊W/P⌋)`.
    pub fn grid(&self, height: usize, width: usize) -> (usize, usize) {
        tokens::grid(&self.config, height, width)
    }

    /// Positional embedding for a `height × width` image (cls row first).
    ///
    /// # Shapes
    /// - output: `[1, 1 + rows·cols, D]`
    pub fn pos_embed_for(&self, height: usize, width: usize) -> Tensor<3> {
        tokens::pos_embed_for(&self.config, self.pos_embed.val(), height, width)
    }

    /// Patch-embedded tokens before cls and positions.
    ///
    /// # Shapes
    /// - output: `[B, L, D]`
    pub fn embed_patches(&self, input: &PanopticonInput) -> Result<Tensor<3>> {
        tokens::check_fits(&self.config, self.max_tokens, input.dims())?;
        let imgs = input.imgs().clone();
        Ok(match &self.patch_embed {
            PatchEmbedding::Panopticon(pe) => {
                pe.forward(imgs, input.chn_ids(), input.spec_masks().cloned())
            }
            PatchEmbedding::Conv(pe) => pe.forward(imgs),
        })
    }

    /// `prepare_tokens_with_masks`: patch tokens, iBOT masking, cls, positions, registers.
    pub fn prepare_tokens(
        &self,
        input: &PanopticonInput,
        masks: Option<Tensor<2, Bool>>,
    ) -> Result<TokenGrid> {
        let [_, _, h, w] = input.dims();
        let patches = self.embed_patches(input)?;
        tokens::assemble(&self.config, self.learned_tokens(), patches, masks, (h, w))
    }

    /// The current values of the learned tokens.
    pub(crate) fn learned_tokens(&self) -> LearnedTokens {
        LearnedTokens {
            cls: self.cls_token.val(),
            pos_embed: self.pos_embed.val(),
            registers: self.register_tokens.as_ref().map(|r| r.val()),
            mask_token: self.mask_token.val(),
        }
    }
}
