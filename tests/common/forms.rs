//! The model-level outputs of either form of a model (the trainable `Panopticon` or its
//! `FrozenPanopticon`), so that one parity check covers both.

use burn::prelude::*;
use panopticon::model::TokenGrid;
use panopticon::{
    ForwardFeatures, FrozenPanopticon, IntermediateLayer, LayerSelection, Panopticon,
    PanopticonInput,
};

/// What the parity suites compare, from either form.
pub trait Outputs {
    fn embed_patches(&self, input: &PanopticonInput) -> Tensor<3>;
    fn prepare_tokens(&self, input: &PanopticonInput) -> TokenGrid;
    fn cls(&self, input: &PanopticonInput) -> Tensor<2>;
    fn features(&self, input: &PanopticonInput, masks: Option<Tensor<2, Bool>>) -> ForwardFeatures;
    fn layers(&self, input: &PanopticonInput, sel: LayerSelection) -> Vec<IntermediateLayer>;
}

macro_rules! outputs {
    ($t:ty) => {
        impl Outputs for $t {
            fn embed_patches(&self, input: &PanopticonInput) -> Tensor<3> {
                self.embed_patches(input).unwrap()
            }
            fn prepare_tokens(&self, input: &PanopticonInput) -> TokenGrid {
                self.prepare_tokens(input, None).unwrap()
            }
            fn cls(&self, input: &PanopticonInput) -> Tensor<2> {
                self.forward(input).unwrap()
            }
            fn features(
                &self,
                input: &PanopticonInput,
                masks: Option<Tensor<2, Bool>>,
            ) -> ForwardFeatures {
                self.forward_features(input, masks).unwrap()
            }
            fn layers(
                &self,
                input: &PanopticonInput,
                sel: LayerSelection,
            ) -> Vec<IntermediateLayer> {
                self.intermediate_layers(input, sel, true).unwrap()
            }
        }
    };
}
outputs!(Panopticon);
outputs!(FrozenPanopticon);
