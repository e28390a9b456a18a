//! `ChnEmb`: one embedding per channel, from its wavelength (optical) or SAR id.

use burn::module::Param;
use burn::prelude::*;
use panopticon_channels::{Orbit, Polarisation};

use super::sincos::sincos_embed;
use crate::channel_ids::ChannelIds;

/// Which row of each learned SAR part a SAR channel takes: transmit and receive (0 = V,
/// 1 = H) and orbit (0 = ascending, 1 = descending, 2 = both: the mean of the two).
/// Spec §1.4.3; equals `sentinel1.yaml`.
fn sar_rows(polarisation: Polarisation, orbit: Orbit) -> [usize; 3] {
    let (transmit, receive) = match polarisation {
        Polarisation::Vv => (0, 0),
        Polarisation::Vh => (0, 1),
        Polarisation::Hh => (1, 1),
        Polarisation::Hv => (1, 0),
    };
    let orbit = match orbit {
        Orbit::Ascending => 0,
        Orbit::Descending => 1,
        Orbit::Both => 2,
    };
    [transmit, receive, orbit]
}

/// The SAR channels in id order: row `r` is id `-(r+1)` (`ChannelId::sar_id`'s layout,
/// orbit-major).
fn sar_channels_by_row() -> impl Iterator<Item = (Polarisation, Orbit)> {
    Orbit::ALL
        .into_iter()
        .flat_map(|o| Polarisation::ALL.map(|p| (p, o)))
}

/// Spectral / SAR channel embedding.
///
/// Optical channels (id ≥ 0, the centre wavelength in nm) get the fixed sin-cos encoding of
/// `floor(id / opt_coarsity)`; SAR channels (id −1 ..= −12) get a learned vector assembled
/// from transmit, receive and orbit parts.
#[derive(Module, Debug)]
pub struct ChnEmb {
    /// `[2, A/3]`: row 0 = V, row 1 = H.
    pub embed_transmit: Param<Tensor<2>>,
    /// `[2, A/3]`: row 0 = V, row 1 = H.
    pub embed_receive: Param<Tensor<2>>,
    /// `[2, A − 2·(A/3)]`: row 0 = ascending, row 1 = descending.
    pub embed_orbit: Param<Tensor<2>>,
    /// Optical ids are floor-divided by this.
    pub opt_coarsity: usize,
    /// Embedding width `A`.
    pub embed_dim: usize,
}

/// Python's float floor division `a // b` (`torch.floor_divide`), for b > 0.
fn floor_div(a: f32, b: f32) -> f32 {
    if b == 1.0 {
        return a.floor();
    }
    let m = a % b;
    let mut div = (a - m) / b;
    if m != 0.0 && (m < 0.0) != (b < 0.0) {
        div -= 1.0;
    }
    let f = div.floor();
    if div - f > 0.5 { f + 1.0 } else { f }
}

impl ChnEmb {
    /// Zero-initialised SAR parts, as in the official model.
    pub fn init(embed_dim: usize, opt_coarsity: usize, device: &Device) -> Self {
        let d1 = embed_dim / 3;
        let d2 = embed_dim - 2 * d1;
        Self {
            embed_transmit: Param::from_tensor(Tensor::zeros([2, d1], device)),
            embed_receive: Param::from_tensor(Tensor::zeros([2, d1], device)),
            embed_orbit: Param::from_tensor(Tensor::zeros([2, d2], device)),
            opt_coarsity,
            embed_dim,
        }
    }

    /// The 12-row SAR table `[transmit | receive | orbit]`, row `r` for id `-(r+1)`.
    ///
    /// # Shapes
    /// - output: `[12, A]`
    pub fn sar_table(&self) -> Tensor<2> {
        let device = self.embed_transmit.device();
        let idx = |part: usize| {
            let v: Vec<i64> = sar_channels_by_row()
                .map(|(p, o)| sar_rows(p, o)[part] as i64)
                .collect();
            let n = v.len();
            Tensor::<1, Int>::from_data(TensorData::new(v, [n]), &device)
        };
        let orbit = self.embed_orbit.val();
        let mean = orbit.clone().mean_dim(0); // [1, d2]
        let orbit3 = Tensor::cat(vec![orbit, mean], 0); // rows: asc, desc, both
        Tensor::cat(
            vec![
                self.embed_transmit.val().select(0, idx(0)),
                self.embed_receive.val().select(0, idx(1)),
                orbit3.select(0, idx(2)),
            ],
            1,
        )
    }

    /// Embeds checked channel ids.
    ///
    /// # Shapes
    /// - output: `[B, C, A]`
    pub fn forward(&self, ids: &ChannelIds) -> Tensor<3> {
        let device = self.embed_transmit.device();
        let n = ids.values().len();
        let coarsity = self.opt_coarsity as f32;
        let mut pos = Vec::with_capacity(n);
        let mut rows = Vec::with_capacity(n);
        let mut is_sar = Vec::with_capacity(n);
        for &v in ids.values() {
            if v < 0.0 {
                // A checked SAR id -1..=-12: row -(id+1) of the table.
                pos.push(0.0f32);
                rows.push((-(v + 1.0)) as i64);
                is_sar.push(true);
            } else {
                pos.push(floor_div(v, coarsity));
                rows.push(0);
                is_sar.push(false);
            }
        }
        let pos = Tensor::<1>::from_data(TensorData::new(pos, [n]), &device);
        let optical = sincos_embed(pos, self.embed_dim); // [N, A]
        let out = if is_sar.iter().any(|&s| s) {
            let rows = Tensor::<1, Int>::from_data(TensorData::new(rows, [n]), &device);
            let sar = self.sar_table().select(0, rows); // [N, A]
            let mask = Tensor::<1, Bool>::from_data(TensorData::new(is_sar, [n]), &device)
                .unsqueeze_dim::<2>(1)
                .expand([n, self.embed_dim]);
            optical.mask_where(mask, sar)
        } else {
            optical
        };
        out.reshape([ids.batch(), ids.channels(), self.embed_dim])
    }
}

#[cfg(test)]
mod tests {
    use panopticon_channels::ChannelId;

    use super::*;

    #[test]
    fn sar_rows_match_the_spec_table() {
        // (transmit, receive, orbit) for ids -1..=-12, as `sentinel1.yaml` lists them.
        const SPEC: [[usize; 3]; 12] = [
            [0, 0, 2], // -1  VV both
            [0, 1, 2], // -2  VH both
            [1, 1, 2], // -3  HH both
            [1, 0, 2], // -4  HV both
            [0, 0, 0], // -5  VV ascending
            [0, 1, 0], // -6  VH ascending
            [1, 1, 0], // -7  HH ascending
            [1, 0, 0], // -8  HV ascending
            [0, 0, 1], // -9  VV descending
            [0, 1, 1], // -10 VH descending
            [1, 1, 1], // -11 HH descending
            [1, 0, 1], // -12 HV descending
        ];
        let got: Vec<_> = sar_channels_by_row().collect();
        assert_eq!(got.len(), SPEC.len());
        for (r, (&(p, o), want)) in got.iter().zip(SPEC).enumerate() {
            assert_eq!(ChannelId::sar_id(p, o), -(r as i16 + 1), "row {r}");
            assert_eq!(sar_rows(p, o), want, "row {r}");
        }
    }

    #[test]
    fn floor_div_matches_python() {
        assert_eq!(floor_div(664.63, 1.0), 664.0);
        assert_eq!(floor_div(664.63, 10.0), 66.0);
        assert_eq!(floor_div(660.0, 10.0), 66.0);
        assert_eq!(floor_div(0.0, 1.0), 0.0);
    }
}
