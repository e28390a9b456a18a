//! A `Linear`'s weight laid out for small-batch CPU inference, made on first use.

use std::sync::{Arc, OnceLock};

use burn::nn::Linear;
use burn::prelude::*;

/// A `Linear`'s weight in panels of output columns, each one contiguous, so that a forward
/// over one or two images streams the weight from memory in order (gemm's own packing reads
/// it as short strided pieces): ≈ 5 % faster per ViT-B/14 block at B = 1, 224²
/// (`cargo bench --bench block_ops`), for a second copy of the weight in memory.
///
/// Laid out by the first forward through the layer, and only when that forward has few rows
/// (one or two images) on a Flex (CPU) device with f32 weights: a workload that starts with
/// large batches never pays the memory. It belongs to a
/// [`FrozenPanopticon`](crate::FrozenPanopticon), whose weights never change, so it cannot go
/// stale (clones share it).
#[derive(Debug, Clone, Default)]
pub struct Panels {
    /// `None` inside: decided against (first use with many rows, or not a Flex f32 weight).
    cell: Arc<OnceLock<Option<Tensor<1>>>>,
}

impl Panels {
    /// Not laid out yet: the first forward through the layer decides.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether the weight has been laid out.
    pub fn is_laid_out(&self) -> bool {
        matches!(self.cell.get(), Some(Some(_)))
    }

    /// The panel-major `[d_in·d_out]` weight of `layer` for an input of `rows` rows, laid out
    /// now if this is the first call and `rows` is small; `None` when the plain weight is the
    /// faster read.
    pub fn for_rows(&self, layer: &Linear, rows: usize) -> Option<Tensor<1>> {
        #[cfg(feature = "flex")]
        {
            use super::linear_kernel::{PANEL_MAX_ROWS, pack_panels};
            let weight = layer.weight.val();
            if rows > PANEL_MAX_ROWS
                || !super::flex::is_flex(&weight.device())
                || weight.dtype() != burn::tensor::DType::F32
            {
                // Decides against if undecided: later small batches are a workload's tail.
                self.cell.get_or_init(|| None);
                return None;
            }
            self.cell
                .get_or_init(|| {
                    let [k, n] = weight.dims();
                    let device = weight.device();
                    let values = weight.into_data().try_into_vec::<f32>().ok()?;
                    let data = TensorData::new(pack_panels(&values, k, n), [k * n]);
                    Some(Tensor::from_data(data, &device))
                })
                .clone()
        }
        #[cfg(not(feature = "flex"))]
        {
            let _ = (layer, rows);
            None
        }
    }
}
