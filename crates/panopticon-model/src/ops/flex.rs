//! The Flex route of [`super::gelu`]: a Burn backend extension implemented for Flex only, and
//! only called for plain (non-autodiff) Flex tensors.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::ActivationOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DispatchDevice, Flex, backend_extension};
use burn::prelude::*;
use burn::tensor::DType;

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
