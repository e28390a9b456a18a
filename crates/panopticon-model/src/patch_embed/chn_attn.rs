//! `ChnAttn`: fuses the channels of each patch with one learned query.

use burn::module::Param;
use burn::nn::{LayerNorm, LayerNormConfig};
use burn::prelude::*;

use super::chn_emb::ChnEmb;
use super::xattn::CrossAttnNoQueryProj;
use crate::channel_ids::ChannelIds;

/// Channel fusion: add the channel embeddings, then cross-attend from a learned query over
/// the C channel tokens of every patch. Permutation-invariant over channels; any C ≥ 1.
#[derive(Module, Debug)]
pub struct ChnAttn {
    /// The learned query `[1, 1, A]`.
    pub query: Param<Tensor<3>>,
    /// Channel embedding.
    pub chnemb: ChnEmb,
    /// Cross-attention over channels.
    pub xattn: CrossAttnNoQueryProj,
    /// Optional LayerNorm (eps 1e-5) on the fused token; absent in the release.
    pub layer_norm: Option<LayerNorm>,
}

impl ChnAttn {
    /// Builds the fusion block; the query starts N(0, 1) as upstream.
    pub fn init(
        dim: usize,
        num_heads: usize,
        qkv_bias: bool,
        layer_norm: bool,
        opt_coarsity: usize,
        device: &Device,
    ) -> Self {
        Self {
            query: Param::from_tensor(Tensor::random(
                [1, 1, dim],
                burn::tensor::Distribution::Normal(0.0, 1.0),
                device,
            )),
            chnemb: ChnEmb::init(dim, opt_coarsity, device),
            xattn: CrossAttnNoQueryProj::init(dim, num_heads, qkv_bias, device),
            layer_norm: layer_norm.then(|| LayerNormConfig::new(dim).init(device)),
        }
    }

    /// # Shapes
    /// - `x`: `[B, C, L, A]` per-channel patch tokens
    /// - `spec_masks`: `[B, C]`, true = ignore the channel
    /// - output: `[B, L, A]`
    pub fn forward(
        &self,
        x: Tensor<4>,
        ids: &ChannelIds,
        spec_masks: Option<Tensor<2, Bool>>,
    ) -> Tensor<3> {
        let [b, c, l, a] = x.dims();
        let x = x + self.chnemb.forward(ids).unsqueeze_dim::<4>(2); // [B, C, L, A]
        let kv = x.swap_dims(1, 2).reshape([b * l, c, a]); // row b·L + l
        let mask = spec_masks.map(|m| {
            m.unsqueeze_dim::<3>(1)
                .expand([b, l, c])
                .reshape([b * l, c])
        });
        let y = self
            .xattn
            .forward(self.query.val(), kv, mask)
            .reshape([b, l, a]);
        match &self.layer_norm {
            Some(norm) => norm.forward(y),
            None => y,
        }
    }
}
