//! `Panopticon`: the DINOv2 vision transformer with a Panopticon (or stock) patch embedding.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;
use burn::tensor::Distribution;

use super::block::{Block, BlockOptions};
use super::checks::{check_not_empty, check_pixels, check_spec_masks, check_tokens};
use super::pos_embed::interpolate_pos_embed;
use crate::config::{PanopticonConfig, PatchEmbedConfig};
use crate::error::{PanopticonError, Result};
use crate::input::PanopticonInput;
use crate::output::{ForwardFeatures, IntermediateLayer, LayerSelection};
use crate::patch_embed::{HostChnIds, PanopticonPe, PatchEmbed};

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

/// Tokens ready for the blocks (`prepare_tokens_with_masks`), and their patch grid.
#[derive(Debug, Clone)]
pub struct Prepared {
    /// `[B, 1 + R + L, D]` cls, registers and patch tokens, positions added.
    pub tokens: Tensor<3>,
    /// Patch grid `(rows, cols)`.
    pub grid: (usize, usize),
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
    /// [`PanopticonError::TooManyTokens`] before anything is allocated).
    pub fn set_max_tokens(&mut self, max: usize) {
        self.max_tokens = max;
    }

    /// The device the parameters live on.
    pub fn device(&self) -> Device {
        self.cls_token.device()
    }

    /// Normalised cls token, the model's default output (`model(x_dict)` upstream).
    ///
    /// At inference (no autodiff) the last block runs for the cls row only, its key and value
    /// projections folded into the cls query: the same numbers as
    /// [`forward_features`](Self::forward_features)`.x_norm_clstoken` for ≈ 8 % less work
    /// (ViT-B/14 at 224²), since nothing else is returned.
    ///
    /// # Shapes
    /// - output: `[B, D]`
    pub fn forward(&self, input: &PanopticonInput) -> Result<Tensor<2>> {
        match self.blocks.split_last() {
            Some((last, rest)) if !input.imgs.device().is_autodiff() => {
                let Prepared { tokens, .. } = self.prepare_tokens(input, None)?;
                let x = rest.iter().fold(tokens, |x, blk| blk.forward(x));
                let cls = self.norm.forward(last.forward_cls(x)); // [B, 1, D]
                let [b, _, d] = cls.dims();
                Ok(cls.reshape([b, d]))
            }
            _ => Ok(self.forward_features(input, None)?.x_norm_clstoken),
        }
    }

    /// All final-normed tokens and the pre-norm sequence. `masks` `[B, L]` (true = replace the
    /// patch token by `mask_token`, before cls and positions are added) is the iBOT path.
    pub fn forward_features(
        &self,
        input: &PanopticonInput,
        masks: Option<Tensor<2, Bool>>,
    ) -> Result<ForwardFeatures> {
        let Prepared { tokens, grid } = self.prepare_tokens(input, masks.clone())?;
        let x = self.blocks.iter().fold(tokens, |x, blk| blk.forward(x));
        let x_norm = self.norm.forward(x.clone());
        let [b, n, d] = x_norm.dims();
        let r = self.config.num_register_tokens;
        Ok(ForwardFeatures {
            x_norm_clstoken: x_norm.clone().narrow(1, 0, 1).reshape([b, d]),
            x_norm_regtokens: (r > 0).then(|| x_norm.clone().narrow(1, 1, r)),
            x_norm_patchtokens: x_norm.narrow(1, 1 + r, n - 1 - r),
            x_prenorm: x,
            masks,
            grid,
        })
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
        let Prepared { tokens, grid } = self.prepare_tokens(input, None)?;
        let r = self.config.num_register_tokens;
        let mut out = Vec::with_capacity(wanted.len());
        let mut x = tokens;
        for (i, blk) in self
            .blocks
            .iter()
            .enumerate()
            .take(wanted.last().map_or(0, |l| l + 1))
        {
            x = blk.forward(x);
            if wanted.contains(&i) {
                let y = if norm {
                    self.norm.forward(x.clone())
                } else {
                    x.clone()
                };
                let [b, n, d] = y.dims();
                out.push(IntermediateLayer {
                    block: i,
                    cls: y.clone().narrow(1, 0, 1).reshape([b, d]),
                    patches: y.narrow(1, 1 + r, n - 1 - r),
                    grid,
                });
            }
        }
        Ok(out)
    }

    /// Sorted, checked block indices (errors name a block the model lacks, or a duplicate).
    pub fn resolve_layers(&self, sel: LayerSelection) -> Result<Vec<usize>> {
        let depth = self.depth();
        match sel {
            LayerSelection::Last(n) => {
                if n == 0 || n > depth {
                    return Err(PanopticonError::Layers(format!(
                        "asked for the last {n} blocks of a {depth}-block model"
                    )));
                }
                Ok((depth - n..depth).collect())
            }
            LayerSelection::Indices(mut v) => {
                if v.is_empty() {
                    return Err(PanopticonError::Layers("no block index given".into()));
                }
                if let Some(bad) = v.iter().find(|&&i| i >= depth) {
                    return Err(PanopticonError::Layers(format!(
                        "block {bad} does not exist (the model has blocks 0..={})",
                        depth - 1
                    )));
                }
                v.sort_unstable();
                if v.windows(2).any(|w| w[0] == w[1]) {
                    return Err(PanopticonError::Layers(format!(
                        "duplicate block index in {v:?}"
                    )));
                }
                Ok(v)
            }
        }
    }

    /// Checks that a `height × width` image fits one forward: at least one patch, and at most
    /// [`max_tokens`](Self::max_tokens) tokens. Cheap; call it before allocating an image.
    pub fn check_image_size(&self, height: usize, width: usize) -> Result<()> {
        let p = self.config.patch_size;
        if height < p || width < p {
            return Err(PanopticonError::ImageTooSmall {
                height,
                width,
                patch: p,
            });
        }
        let (rows, cols) = self.grid(height, width);
        let tokens = rows
            .saturating_mul(cols)
            .saturating_add(1 + self.config.num_register_tokens);
        check_tokens(
            (height, width),
            tokens,
            self.config.num_heads,
            self.max_tokens,
        )
    }

    /// Patch grid for an image: `(⌊H/P⌋, ⌊W/P⌋)`.
    pub fn grid(&self, height: usize, width: usize) -> (usize, usize) {
        (
            height / self.config.patch_size,
            width / self.config.patch_size,
        )
    }

    /// Positional embedding for a `height × width` image (cls row first).
    ///
    /// # Shapes
    /// - output: `[1, 1 + rows·cols, D]`
    pub fn pos_embed_for(&self, height: usize, width: usize) -> Tensor<3> {
        interpolate_pos_embed(
            self.pos_embed.val(),
            self.grid(height, width),
            (height, width),
            self.config.interpolate_offset,
            self.config.interpolate_antialias,
        )
    }

    /// Patch-embedded tokens before cls and positions.
    ///
    /// # Shapes
    /// - output: `[B, L, D]`
    pub fn embed_patches(&self, input: &PanopticonInput) -> Result<Tensor<3>> {
        let [b, c, h, w] = input.imgs.dims();
        check_not_empty(b, c)?;
        self.check_image_size(h, w)?;
        match &self.patch_embed {
            PatchEmbedding::Panopticon(pe) => {
                let ids_dims = input.chn_ids.dims();
                if ids_dims != [b, c] {
                    return Err(PanopticonError::Shape {
                        name: "chn_ids".into(),
                        expected: format!("[B, C] = [{b}, {c}] (one id per image channel)"),
                        got: ids_dims.to_vec(),
                    });
                }
                let ids = HostChnIds::read(&input.chn_ids)?;
                let imgs = match &input.spec_masks {
                    Some(m) => {
                        check_spec_masks(m, b, c)?;
                        // Masked channels get exactly zero attention; zeroing their pixels makes
                        // no-data (NaN) there harmless without changing any other number.
                        let mask = m.clone().reshape([b, c, 1, 1]).expand([b, c, h, w]);
                        input.imgs.clone().mask_fill(mask, 0.0)
                    }
                    None => input.imgs.clone(),
                };
                check_pixels(&imgs)?;
                Ok(pe.forward(imgs, &ids, input.spec_masks.clone()))
            }
            PatchEmbedding::Conv(pe) => {
                let in_chans = pe.proj.weight.dims()[1];
                if c != in_chans {
                    return Err(PanopticonError::Input(format!(
                        "this model has a fixed {in_chans}-channel patch embedding (stock DINOv2) but the image has {c} channels"
                    )));
                }
                check_pixels(&input.imgs)?;
                Ok(pe.forward(input.imgs.clone()))
            }
        }
    }

    /// `prepare_tokens_with_masks`: patch tokens, iBOT masking, cls, positions, registers.
    pub fn prepare_tokens(
        &self,
        input: &PanopticonInput,
        masks: Option<Tensor<2, Bool>>,
    ) -> Result<Prepared> {
        let [b, _, h, w] = input.imgs.dims();
        let x = self.embed_patches(input)?; // [B, L, D]
        let [_, l, d] = x.dims();
        let x = match masks {
            Some(m) => {
                if m.dims() != [b, l] {
                    return Err(PanopticonError::Shape {
                        name: "masks".into(),
                        expected: format!("[B, L] = [{b}, {l}] (one flag per patch token)"),
                        got: m.dims().to_vec(),
                    });
                }
                let mask_token = self
                    .mask_token
                    .val()
                    .unsqueeze_dim::<3>(0)
                    .expand([b, l, d]);
                x.mask_where(m.unsqueeze_dim::<3>(2).expand([b, l, d]), mask_token)
            }
            None => x,
        };
        let cls = self.cls_token.val().expand([b, 1, d]);
        let x = Tensor::cat(vec![cls, x], 1) + self.pos_embed_for(h, w);
        let x = match &self.register_tokens {
            Some(reg) => {
                let r = reg.dims()[1];
                let cls = x.clone().narrow(1, 0, 1);
                let rest = x.narrow(1, 1, l);
                Tensor::cat(vec![cls, reg.val().expand([b, r, d]), rest], 1)
            }
            None => x,
        };
        Ok(Prepared {
            tokens: x,
            grid: self.grid(h, w),
        })
    }
}
