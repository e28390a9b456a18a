//! `FrozenPanopticon`: a snapshot of a model's weights, laid out for inference.

use burn::nn::LayerNorm;
use burn::prelude::*;

use super::block::FrozenBlock;
use super::patch_embed::FrozenPatchEmbed;
use crate::config::PanopticonConfig;
use crate::error::Result;
use crate::input::PanopticonInput;
use crate::output::{ForwardFeatures, IntermediateLayer, LayerSelection};
use crate::vit::Panopticon;
use crate::vit::tokens::{self, LearnedTokens, TokenGrid};

/// The inference engine of a [`Panopticon`], made by [`Panopticon::to_frozen`]: the same
/// numbers as the model's forward passes (within float rounding), computed faster.
///
/// (Not Burn's `Module::freeze`, which only stops gradients.)
///
/// - The channel attention of the patch embedding is folded (exact): forward passes never
///   form the `[B, C, L, A]` channel tokens.
/// - [`forward`](Self::forward) runs the last block for the cls row only.
/// - On a Flex (CPU) device, each `Linear` is fused with what follows it, attention and GELU
///   run dedicated kernels, and a first forward of one or two images lays the blocks' weights
///   out for small batches (a second copy of them, ≈ 5 % faster). Other backends run the same
///   computation as Burn operations.
///
/// Immutable: it holds the weights as they were when frozen (sharing their memory). After
/// changing the model's weights, call `to_frozen` again.
#[derive(Debug, Clone)]
pub struct FrozenPanopticon {
    config: PanopticonConfig,
    max_tokens: usize,
    learned: LearnedTokens,
    patch_embed: FrozenPatchEmbed,
    blocks: Vec<FrozenBlock>,
    norm: LayerNorm,
}

impl Panopticon {
    /// The inference engine of the current weights (see [`FrozenPanopticon`]). Cheap: the
    /// weights are shared, only the folded channel attention is computed.
    pub fn to_frozen(&self) -> FrozenPanopticon {
        FrozenPanopticon {
            config: self.config.clone(),
            max_tokens: self.max_tokens(),
            learned: self.learned_tokens(),
            patch_embed: FrozenPatchEmbed::new(&self.patch_embed),
            blocks: self.blocks.iter().map(FrozenBlock::new).collect(),
            norm: self.norm.clone(),
        }
    }
}

impl FrozenPanopticon {
    /// The configuration of the frozen model.
    pub fn config(&self) -> &PanopticonConfig {
        &self.config
    }

    /// Token width `D`.
    pub fn embed_dim(&self) -> usize {
        self.config.embed_dim
    }

    /// Number of blocks.
    pub fn depth(&self) -> usize {
        self.blocks.len()
    }

    /// Cap on tokens per image in one forward (as [`Panopticon::max_tokens`]).
    pub fn max_tokens(&self) -> usize {
        self.max_tokens
    }

    /// Sets the cap on tokens per image in one forward (a limit, not a weight).
    pub fn set_max_tokens(&mut self, max: usize) {
        self.max_tokens = max;
    }

    /// The device the weights live on.
    pub fn device(&self) -> Device {
        self.learned.cls.device()
    }

    /// As [`Panopticon::check_image_size`].
    pub fn check_image_size(&self, height: usize, width: usize) -> Result<()> {
        tokens::check_image_size(&self.config, self.max_tokens, height, width)
    }

    /// Patch grid for an image: `(⌊H/P⌋, ⌊W/P⌋)`.
    pub fn grid(&self, height: usize, width: usize) -> (usize, usize) {
        tokens::grid(&self.config, height, width)
    }

    /// As [`Panopticon::resolve_layers`].
    pub fn resolve_layers(&self, sel: LayerSelection) -> Result<Vec<usize>> {
        sel.resolve(self.depth())
    }

    /// The model's final LayerNorm, applied to `x` (e.g. to pooled patch tokens).
    ///
    /// # Shapes
    /// - `x`: `[.., D]` → same
    pub fn final_norm<const N: usize>(&self, x: Tensor<N>) -> Tensor<N> {
        self.norm.forward(x)
    }

    /// Normalised cls token ([`Panopticon::forward`]); the last block runs for the cls row
    /// only, its key and value projections folded into the cls query (≈ 8 % less work at
    /// ViT-B/14, 224²).
    ///
    /// # Shapes
    /// - output: `[B, D]`
    pub fn forward(&self, input: &PanopticonInput) -> Result<Tensor<2>> {
        let TokenGrid { tokens, .. } = self.prepare_tokens(input, None)?;
        let Some((last, rest)) = self.blocks.split_last() else {
            let x = self.norm.forward(tokens.narrow(1, 0, 1));
            let [b, _, d] = x.dims();
            return Ok(x.reshape([b, d]));
        };
        let x = rest.iter().fold(tokens, |x, blk| blk.forward(x));
        let cls = self.norm.forward(last.forward_cls(x)); // [B, 1, D]
        let [b, _, d] = cls.dims();
        Ok(cls.reshape([b, d]))
    }

    /// As [`Panopticon::forward_features`].
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

    /// As [`Panopticon::intermediate_layers`].
    pub fn intermediate_layers(
        &self,
        input: &PanopticonInput,
        layers: impl Into<LayerSelection>,
        norm: bool,
    ) -> Result<Vec<IntermediateLayer>> {
        let wanted = self.resolve_layers(layers.into())?;
        let tokens = self.prepare_tokens(input, None)?;
        let norm = norm.then_some(&self.norm);
        let forward = |blk: &FrozenBlock, x| blk.forward(x);
        Ok(tokens::layers(
            &self.config,
            tokens,
            &self.blocks,
            forward,
            &wanted,
            norm,
        ))
    }

    /// As [`Panopticon::embed_patches`].
    ///
    /// # Shapes
    /// - output: `[B, L, D]`
    pub fn embed_patches(&self, input: &PanopticonInput) -> Result<Tensor<3>> {
        tokens::check_fits(&self.config, self.max_tokens, input.dims())?;
        Ok(self.patch_embed.forward(input))
    }

    /// As [`Panopticon::prepare_tokens`].
    pub fn prepare_tokens(
        &self,
        input: &PanopticonInput,
        masks: Option<Tensor<2, Bool>>,
    ) -> Result<TokenGrid> {
        let [_, _, h, w] = input.dims();
        let patches = self.embed_patches(input)?;
        tokens::assemble(&self.config, self.learned.clone(), patches, masks, (h, w))
    }
}
