//! The inference engine: [`FrozenPanopticon`], made by
//! [`Panopticon::to_frozen`](crate::Panopticon::to_frozen).
//!
//! Everything that makes inference fast lives here, apart from the trainable model: the folded
//! channel attention, the cls-only last block, the blocks' weight panels, and the CPU (Flex)
//! kernels (the crate's only `unsafe` code).

mod block;
mod folded;
mod frozen;
mod ops;
mod patch_embed;

pub use frozen::FrozenPanopticon;
pub use ops::{
    Epilogue, Panels, erf, exact_gelu, fused_linear, fused_self_attention, gelu_in_place,
    gelu_in_place_par,
};
