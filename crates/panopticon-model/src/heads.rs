//! `DINOHead`: the projection head of the DINO and iBOT losses (spec §2.3).

use std::path::Path;

use burn::module::Param;
use burn::nn::Linear;
use burn::prelude::*;
use burn::store::{ChainAdapter, FloatCastAdapter, ModuleSnapshot, PyTorchToBurnAdapter};
use burn::tensor::DType;
use burn::tensor::activation::gelu;

use crate::error::{PanopticonError, Result, WeightsError};

/// Sizes of a [`DinoHead`].
#[derive(Config, Debug, PartialEq)]
pub struct DinoHeadConfig {
    /// Input width (the backbone's `D`).
    pub in_dim: usize,
    /// Number of prototypes `K`.
    #[config(default = 65536)]
    pub out_dim: usize,
    /// Width of the hidden layers.
    #[config(default = 2048)]
    pub hidden_dim: usize,
    /// Width of the last MLP layer, before the L2 normalisation.
    #[config(default = 256)]
    pub bottleneck_dim: usize,
    /// Number of MLP layers (≥ 1).
    #[config(default = 3)]
    pub nlayers: usize,
}

/// `weight_norm(nn.Linear(bottleneck, K, bias=False))`: `W = g · v / ‖v‖` row by row.
#[derive(Module, Debug)]
pub struct WeightNormLinear {
    /// `[K, 1]` magnitudes (initialised to 1).
    pub weight_g: Param<Tensor<2>>,
    /// `[K, bottleneck]` directions, PyTorch layout.
    pub weight_v: Param<Tensor<2>>,
}

/// MLP → L2 normalisation → weight-normed linear layer to `K` prototype logits.
///
/// `mlp` holds the Linear layers only; PyTorch's `mlp.{0,2,4}` (GELUs at odd indices) map
/// to `mlp.{0,1,2}` here, and a one-layer head's `mlp.weight` to `mlp.0.weight`.
#[derive(Module, Debug)]
pub struct DinoHead {
    /// Linear layers, GELU between them.
    pub mlp: Vec<Linear>,
    /// The prototype layer.
    pub last_layer: WeightNormLinear,
}

impl DinoHeadConfig {
    /// Checks every size is positive and within sane bounds, naming the offending field
    /// (upstream's largest head has 131072 prototypes and 2048-wide layers).
    pub fn validate(&self) -> Result<()> {
        use crate::limits::{MAX_EMBED_DIM, MAX_PARAMETERS, in_range};
        in_range("head.in_dim", self.in_dim, 1, MAX_EMBED_DIM)?;
        in_range("head.out_dim", self.out_dim, 1, 1 << 21)?;
        in_range("head.hidden_dim", self.hidden_dim, 1, 1 << 16)?;
        in_range("head.bottleneck_dim", self.bottleneck_dim, 1, 1 << 16)?;
        in_range("head.nlayers", self.nlayers, 1, 64)?;
        let (h, n) = (self.hidden_dim as u64, self.nlayers as u64);
        let params = (self.in_dim as u64 + self.bottleneck_dim as u64) * h
            + (n - 1) * h * h
            + (self.out_dim as u64 + 1) * self.bottleneck_dim as u64;
        if params > MAX_PARAMETERS {
            return Err(PanopticonError::Config(format!(
                "the DINO head has about {params} parameters, over the limit of \
                 {MAX_PARAMETERS}; check out_dim, hidden_dim, nlayers"
            )));
        }
        Ok(())
    }

    /// Builds a head with upstream's init (trunc-normal 0.02 MLP, `g = 1`).
    pub fn init(&self, device: &Device) -> Result<DinoHead> {
        self.validate()?;
        let mut dims = vec![self.in_dim];
        dims.extend(std::iter::repeat_n(self.hidden_dim, self.nlayers - 1));
        dims.push(self.bottleneck_dim);
        let mlp = dims
            .windows(2)
            .map(|w| crate::init::linear(w[0], w[1], true, device))
            .collect();
        Ok(DinoHead {
            mlp,
            last_layer: WeightNormLinear {
                weight_g: Param::from_tensor(Tensor::ones([self.out_dim, 1], device)),
                weight_v: Param::from_tensor(Tensor::random(
                    [self.out_dim, self.bottleneck_dim],
                    burn::tensor::Distribution::Normal(0.0, 0.02),
                    device,
                )),
            },
        })
    }
}

impl DinoHead {
    /// # Shapes
    /// - `x`: `[N, in_dim]`
    /// - output: `[N, K]`
    pub fn forward(&self, x: Tensor<2>) -> Tensor<2> {
        let last = self.mlp.len() - 1;
        let mut x = x;
        for (i, layer) in self.mlp.iter().enumerate() {
            x = layer.forward(x);
            if i < last {
                x = gelu(x);
            }
        }
        // F.normalize(p=2, eps=1e-12): x / max(‖x‖, eps).
        let norm = x.clone().square().sum_dim(1).sqrt().clamp_min(1e-12);
        let x = x / norm;
        let v = self.last_layer.weight_v.val();
        let w = v.clone() / v.square().sum_dim(1).sqrt() * self.last_layer.weight_g.val();
        x.matmul(w.transpose())
    }

    /// The sizes, read back from the parameters.
    pub fn config(&self) -> DinoHeadConfig {
        let first = self.mlp[0].weight.dims();
        let last = self.mlp[self.mlp.len() - 1].weight.dims();
        DinoHeadConfig {
            in_dim: first[0],
            out_dim: self.last_layer.weight_g.dims()[0],
            hidden_dim: if self.mlp.len() > 1 { first[1] } else { 2048 },
            bottleneck_dim: last[1],
            nlayers: self.mlp.len(),
        }
    }

    /// Loads the head stored under `prefix` (e.g. `teacher.dino_head.`) of a PyTorch
    /// checkpoint, inferring its sizes from the tensors. `Ok(None)` when there is none.
    pub fn from_checkpoint(
        path: impl AsRef<Path>,
        prefix: &str,
        device: &Device,
    ) -> Result<Option<Self>> {
        let path = path.as_ref();
        let (_, tensors) = crate::load::read_checkpoint_tensors(path)?;
        // burn-store's PyTorch reader already renumbers `mlp.{0,2,4}` to `mlp.{0,1,2}`
        // (contiguous indices), safetensors does not: number the layers by rank either way.
        let layers: std::collections::BTreeSet<usize> = tensors
            .keys()
            .filter_map(|k| {
                let mut parts = k.strip_prefix(prefix)?.split('.');
                (parts.next()? == "mlp").then_some(())?;
                parts.next()?.parse().ok()
            })
            .collect();
        let rank = |i: usize| layers.iter().position(|&x| x == i);
        let mut own: Vec<_> = tensors
            .into_iter()
            .filter_map(|(k, mut t)| {
                let rest = k.strip_prefix(prefix)?.to_string();
                t.name = burn_key(&rest, rank).unwrap_or_else(|| rest.clone());
                Some((rest, t))
            })
            .collect();
        if own.is_empty() {
            return Ok(None);
        }
        own.sort_by(|a, b| a.1.name.cmp(&b.1.name));
        let shape = |name: &str| {
            own.iter()
                .find(|(_, t)| t.name == name)
                .map(|(_, t)| t.shape.to_vec())
        };
        let missing = |key: &str| WeightsError::Missing {
            path: path.into(),
            keys: vec![format!("{prefix}{key}")],
        };
        let nlayers = (0..)
            .take_while(|i| shape(&format!("mlp.{i}.weight")).is_some())
            .count();
        let first = shape("mlp.0.weight").ok_or_else(|| missing("mlp.0.weight"))?;
        let last = shape(&format!("mlp.{}.weight", nlayers.max(1) - 1))
            .ok_or_else(|| missing("mlp.0.weight"))?;
        let v = shape("last_layer.weight_v").ok_or_else(|| missing("last_layer.weight_v"))?;
        let config = DinoHeadConfig {
            in_dim: first[1],
            out_dim: v[0],
            hidden_dim: if nlayers > 1 { first[0] } else { 2048 },
            bottleneck_dim: last[0],
            nlayers,
        };
        let mut head = config.init(device)?;
        let adapter = ChainAdapter::new(PyTorchToBurnAdapter, FloatCastAdapter::to(DType::F32));
        let result = head.apply(
            own.into_iter().map(|(_, t)| t).collect(),
            None,
            Some(Box::new(adapter)),
            true,
        );
        if let Some(err) = result.errors.first() {
            return Err(WeightsError::Tensor {
                path: path.into(),
                key: format!("{prefix}…"),
                reason: err.to_string(),
            }
            .into());
        }
        if !result.missing.is_empty() {
            return Err(WeightsError::Missing {
                path: path.into(),
                keys: result
                    .missing
                    .iter()
                    .map(|(p, _)| format!("{prefix}{p}"))
                    .collect(),
            }
            .into());
        }
        if !result.unused.is_empty() {
            return Err(WeightsError::Unused {
                path: path.into(),
                keys: result
                    .unused
                    .iter()
                    .map(|p| format!("{prefix}{p}"))
                    .collect(),
            }
            .into());
        }
        Ok(Some(head))
    }
}

/// PyTorch head key → Burn path: `mlp.{i}.x` → `mlp.{rank(i)}.x` where `rank` numbers the
/// Linear layers present (`0, 2, 4` or already `0, 1, 2` → `0, 1, 2`), `mlp.x` → `mlp.0.x`;
/// `None` for keys that are not parameters of a head.
fn burn_key(key: &str, rank: impl Fn(usize) -> Option<usize>) -> Option<String> {
    let mut parts = key.split('.');
    match (parts.next()?, parts.next()?, parts.next()) {
        ("mlp", p @ ("weight" | "bias"), None) => Some(format!("mlp.0.{p}")),
        ("mlp", i, Some(p)) => {
            let i: usize = i.parse().ok()?;
            rank(i).map(|r| format!("mlp.{r}.{p}"))
        }
        ("last_layer", p, None) => Some(format!("last_layer.{p}")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::burn_key;

    #[test]
    fn torch_head_keys_map_to_burn_paths() {
        // Torch numbering (GELUs at odd indices) and burn-store's contiguous renumbering.
        let torch = |i: usize| [0, 2, 4].iter().position(|&x| x == i);
        let contiguous = |i: usize| (i < 3).then_some(i);
        assert_eq!(burn_key("mlp.0.weight", torch).unwrap(), "mlp.0.weight");
        assert_eq!(burn_key("mlp.4.bias", torch).unwrap(), "mlp.2.bias");
        assert_eq!(burn_key("mlp.2.bias", contiguous).unwrap(), "mlp.2.bias");
        assert_eq!(
            burn_key("mlp.1.weight", contiguous).unwrap(),
            "mlp.1.weight"
        );
        assert_eq!(burn_key("mlp.weight", torch).unwrap(), "mlp.0.weight");
        assert_eq!(
            burn_key("last_layer.weight_g", torch).unwrap(),
            "last_layer.weight_g"
        );
        assert_eq!(burn_key("mlp.1.weight", torch), None);
    }
}
