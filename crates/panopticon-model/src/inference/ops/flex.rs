//! The Flex routes of [`super::exact_gelu`], [`super::fused_linear`] and
//! [`super::fused_self_attention`]: Burn backend extensions implemented for Flex only, and
//! only called for plain (non-autodiff) Flex tensors.

use burn::backend::flex::FlexTensor;
use burn::backend::ops::ActivationOps;
use burn::backend::tensor::FloatTensor;
use burn::backend::{Backend, DispatchDevice, Flex, backend_extension};
use burn::prelude::*;
use burn::tensor::DType;

use super::attention_kernel;
use super::erf::gelu_in_place_par;
use super::linear_kernel::{self, Epilogue};
use super::uninit::written_vec;

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
        // The caller only routes f32 tensors here.
        let values = qkv.as_slice::<f32>().expect("contiguous f32 qkv");
        // SAFETY: the kernel writes every element of its `[B, N, D]` output.
        let out = unsafe {
            written_vec(b * n * d, |out| {
                attention_kernel::self_attention(values, [b, n, d], heads, scale, out)
            })
        };
        FlexTensor::from_data(TensorData::new(out, [b, n, d]))
    }
}

pub(super) fn linear(
    x: Tensor<3>,
    weight: Tensor<2>,
    panels: Option<Tensor<1>>,
    bias: Option<Tensor<1>>,
    epilogue: super::Epilogue,
) -> Tensor<3> {
    // The extension macro cannot route optional tensors: an absent bias is zeros and an absent
    // LayerScale ones (exact: `y + 0 = y`, `1·y = y`); absent panels are empty.
    let n = weight.dims()[1];
    let device = x.device();
    let bias = bias
        .unwrap_or_else(|| Tensor::zeros([n], &device))
        .into_dispatch();
    let panels = panels
        .unwrap_or_else(|| Tensor::zeros([0], &device))
        .into_dispatch();
    let (x, weight) = (x.into_dispatch(), weight.into_dispatch());
    Tensor::from_dispatch(match epilogue {
        super::Epilogue::Plain => {
            <burn::backend::Dispatch as FastLinear>::fast_linear(x, weight, panels, bias, false)
        }
        super::Epilogue::Gelu => {
            <burn::backend::Dispatch as FastLinear>::fast_linear(x, weight, panels, bias, true)
        }
        super::Epilogue::Residual { residual, gamma } => {
            let gamma = gamma.unwrap_or_else(|| Tensor::ones([n], &device));
            <burn::backend::Dispatch as FastLinear>::fast_linear_add(
                x,
                weight,
                panels,
                bias,
                residual.into_dispatch(),
                gamma.into_dispatch(),
            )
        }
    })
}

#[backend_extension(Flex)]
pub trait FastLinear: Backend {
    /// `x·W + b` over the last axis, then GELU when `gelu`. `panels`: `W` in
    /// [`linear_kernel::pack_panels`] order, or empty.
    fn fast_linear(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        panels: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        gelu: bool,
    ) -> FloatTensor<Self>;

    /// `residual + gamma ⊙ (x·W + b)` over the last axis.
    fn fast_linear_add(
        x: FloatTensor<Self>,
        weight: FloatTensor<Self>,
        panels: FloatTensor<Self>,
        bias: FloatTensor<Self>,
        residual: FloatTensor<Self>,
        gamma: FloatTensor<Self>,
    ) -> FloatTensor<Self>;
}

impl FastLinear for Flex {
    fn fast_linear(
        x: FlexTensor,
        weight: FlexTensor,
        panels: FlexTensor,
        bias: FlexTensor,
        gelu: bool,
    ) -> FlexTensor {
        run_linear(x, weight, panels, bias, gelu, None)
    }

    fn fast_linear_add(
        x: FlexTensor,
        weight: FlexTensor,
        panels: FlexTensor,
        bias: FlexTensor,
        residual: FlexTensor,
        gamma: FlexTensor,
    ) -> FlexTensor {
        run_linear(x, weight, panels, bias, false, Some((residual, gamma)))
    }
}

/// Runs [`linear_kernel::linear`] (or [`linear_kernel::linear_panels`] when given panels) on
/// Flex tensors; the caller routes only f32 tensors here.
fn run_linear(
    x: FlexTensor,
    weight: FlexTensor,
    panels: FlexTensor,
    bias: FlexTensor,
    gelu: bool,
    add_to: Option<(FlexTensor, FlexTensor)>,
) -> FlexTensor {
    fn slice(t: &FlexTensor) -> &[f32] {
        t.as_slice::<f32>().expect("contiguous f32 tensor")
    }
    // A transposed weight (`LinearLayout::Col`) is copied once per call.
    let [x, weight, panels, bias] = [x, weight, panels, bias].map(|t| t.to_contiguous());
    let add_to = add_to.map(|(r, g)| (r.to_contiguous(), g.to_contiguous()));
    let dims = x.layout().shape().to_vec();
    let wdims = weight.layout().shape().to_vec();
    let (k, n) = (wdims[0], wdims[1]);
    let m = dims.iter().product::<usize>() / k.max(1);
    let epilogue = match &add_to {
        Some((r, g)) => Epilogue::Residual {
            residual: slice(r),
            gamma: Some(slice(g)),
        },
        None if gelu => Epilogue::Gelu,
        None => Epilogue::Plain,
    };
    let bias = Some(slice(&bias));
    // Whether panels are worth it was decided by `Panels::for_rows`: given, they are used.
    let panels = slice(&panels);
    // SAFETY: both kernels write every element of their `[M, N]` output.
    let out = unsafe {
        written_vec(m * n, |out| {
            if !panels.is_empty() {
                linear_kernel::linear_panels(slice(&x), panels, bias, [m, k, n], epilogue, out);
            } else {
                linear_kernel::linear(slice(&x), slice(&weight), bias, [m, k, n], epilogue, out);
            }
        })
    };
    let mut shape = dims;
    *shape.last_mut().expect("x has axes") = n;
    FlexTensor::from_data(TensorData::new(out, shape))
}
