//! The Flex route of [`super::gelu`]: a Burn backend extension implemented for Flex only, and
//! only called for plain (non-autodiff) Flex tensors.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::ActivationOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DispatchDevice, Flex, backend_extension};
use burn::prelude::*;
use burn::tensor::DType;

use super::attention_kernel;
use super::erf::gelu_in_place_par;

pub(super) fn is_flex(device: &Device) -> bool {
    matches!(device.as_dispatch(), DispatchDevice::Flex(_))
}

pub(super) fn gelu<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    Tensor::from_dispatch(<burn::backend::Dispatch as FastGelu>::fast_gelu(
        x.into_dispatch(),
    ))
}

#[backend_extension(Flex)]
pub trait FastGelu: Backend {
    /// Exact GELU.
    fn fast_gelu(x: FloatTensor<Self>) -> FloatTensor<Self>;
}

impl FastGelu for Flex {
    fn fast_gelu(x: FlexTensor) -> FlexTensor {
        if x.dtype() != DType::F32 {
            return <Flex as ActivationOps<Flex>>::gelu(x);
        }
        let mut contiguous = x.to_contiguous();
        drop(x); // so that an unshared buffer is ours to overwrite
        if let Some(values) = contiguous.try_storage_mut::<f32>() {
            gelu_in_place_par(values);
            return contiguous;
        }
        // Shared with another tensor (the caller kept a clone): never write into it.
        let Some(values) = contiguous.as_slice::<f32>() else {
            return <Flex as ActivationOps<Flex>>::gelu(contiguous);
        };
        let mut out = values.to_vec();
        gelu_in_place_par(&mut out);
        let shape = contiguous.layout().shape().clone();
        FlexTensor::from_data(TensorData::new(out, shape))
    }
}

pub(super) fn self_attention(qkv: Tensor<3>, heads: usize) -> Tensor<3> {
    Tensor::from_dispatch(
        <burn::backend::Dispatch as FastAttention>::fast_self_attention(qkv.into_dispatch(), heads),
    )
}

#[backend_extension(Flex)]
pub trait FastAttention: Backend {
    /// Multi-head self-attention from the packed qkv projection, `[B, N, 3D] → [B, N, D]`.
    fn fast_self_attention(qkv: FloatTensor<Self>, heads: usize) -> FloatTensor<Self>;
}

impl FastAttention for Flex {
    fn fast_self_attention(qkv: FlexTensor, heads: usize) -> FlexTensor {
        let qkv = qkv.to_contiguous();
        let dims = qkv.layout().shape().clone();
        let [b, n, d3] = [dims[0], dims[1], dims[2]];
        let d = d3 / 3;
        let scale = ((d / heads) as f32).powf(-0.5);
        let mut out = vec![0.0f32; b * n * d];
        // The caller only routes f32 tensors here.
        let values = qkv.as_slice::<f32>().expect("contiguous f32 qkv");
        attention_kernel::self_attention(values, [b, n, d], heads, scale, &mut out);
        FlexTensor::from_data(TensorData::new(out, [b, n, d]))
    }
}
