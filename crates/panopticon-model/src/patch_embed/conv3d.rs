//! `Conv3dWrapper`: the per-channel patch projection shared by all channels.

use burn::module::Param;
use burn::prelude::*;

/// The `Conv3d(1, A, kernel=(1,P,P), stride=(1,P,P))` of the official model.
///
/// It is a patchifier applied to every channel separately, so it is computed as one
/// `[B·C·L, P·P] x [P·P, A]` matmul instead of a 3-D convolution.
#[derive(Module, Debug)]
pub struct Conv3d {
    /// `[A, 1, 1, P, P]`, PyTorch layout.
    pub weight: Param<Tensor<5>>,
    /// `[A]`.
    pub bias: Param<Tensor<1>>,
}

/// Wrapper module, named as in the checkpoint (`patch_embed.conv3d.conv3d.*`).
#[derive(Module, Debug)]
pub struct Conv3dWrapper {
    /// The convolution parameters.
    pub conv3d: Conv3d,
}

impl Conv3dWrapper {
    /// Default init of `nn.Conv3d` (kaiming-uniform a=√5): weight and bias ~ U(±1/P).
    pub fn init(attn_dim: usize, patch: usize, device: &Device) -> Self {
        let bound = 1.0 / patch as f64;
        let dist = burn::tensor::Distribution::Uniform(-bound, bound);
        Self {
            conv3d: Conv3d {
                weight: Param::from_tensor(Tensor::random(
                    [attn_dim, 1, 1, patch, patch],
                    dist,
                    device,
                )),
                bias: Param::from_tensor(Tensor::random([attn_dim], dist, device)),
            },
        }
    }

    /// Weight as a `[P·P, A]` matrix (patch pixels row-major).
    pub fn weight_matrix(&self) -> Tensor<2> {
        let [a, _, _, p, q] = self.conv3d.weight.dims();
        self.conv3d.weight.val().reshape([a, p * q]).transpose()
    }

    /// Projects every `P×P` patch of every channel; trailing pixels that do not fill a patch
    /// are dropped, as the stride-P convolution does.
    ///
    /// # Shapes
    /// - `imgs`: `[B, C, H, W]`
    /// - output: `[B, C, L, A]` with `L = (H/P)·(W/P)`, row-major over the patch grid
    pub fn forward(&self, imgs: Tensor<4>) -> Tensor<4> {
        let [b, c, _, _] = imgs.dims();
        let patches = patchify(imgs, self.conv3d.weight.dims()[3]); // [B·C·L, P·P]
        let n = patches.dims()[0];
        let l = n / (b * c);
        let x = patches.matmul(self.weight_matrix()) + self.conv3d.bias.val().unsqueeze_dim(0);
        let a = x.dims()[1];
        x.reshape([b, c, l, a])
    }
}

/// Cuts each channel into non-overlapping `P×P` patches.
///
/// # Shapes
/// - `imgs`: `[B, C, H, W]`
/// - output: `[B·C·Hp·Wp, P·P]`, rows ordered (b, c, row, col), pixels row-major
pub fn patchify(imgs: Tensor<4>, patch: usize) -> Tensor<2> {
    let imgs = crop_to_patch_grid(imgs, patch);
    let [b, c, h, w] = imgs.dims();
    let (hp, wp) = (h / patch, w / patch);
    imgs.reshape([b * c, hp, patch, wp, patch])
        .permute([0, 1, 3, 2, 4]) // [B·C, Hp, Wp, P, P]
        .reshape([b * c * hp * wp, patch * patch])
}

/// Drops the bottom rows and right columns that do not fill a whole patch (the stride-P
/// convolution ignores them).
///
/// # Shapes
/// - `imgs`: `[B, C, H, W]`
/// - output: `[B, C, ⌊H/P⌋·P, ⌊W/P⌋·P]`
pub(crate) fn crop_to_patch_grid(imgs: Tensor<4>, patch: usize) -> Tensor<4> {
    let [b, c, h, w] = imgs.dims();
    let (hc, wc) = (h / patch * patch, w / patch * patch);
    if (hc, wc) == (h, w) {
        imgs
    } else {
        imgs.slice([0..b, 0..c, 0..hc, 0..wc])
    }
}
