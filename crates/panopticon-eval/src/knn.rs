//! Weighted kNN classifier on frozen features (spec §6.3, DINOv2's `KnnModule`).
//!
//! Cosine similarity of L2-normalised features, the `max(k)` nearest training samples
//! (sorted by similarity), weights `softmax(sim / T)` over those `max(k)`, and for each k the
//! class scores `Σ_{j<k} w_j · onehot(label_j)` (weights are not renormalised per k).
//!
//! Similarities are computed in f32; the reference runs them under fp16 autocast, so on
//! real features a neighbour whose similarity ties the k-th one to fp16 precision may differ.
//! The unused `n_per_class` subsampling mode is not implemented.

use burn::prelude::*;

use crate::error::{EvalError, Result};
use crate::metrics::Metric;
use crate::results::Results;
use crate::split::{Split, to_host};

/// How the reported k is chosen when several are configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KSelection {
    /// Choose k on the validation split by the first metric, report test at that k (honest).
    #[default]
    Validation,
    /// The official protocol: for each metric report the best value over all k **on the test
    /// split** (optimistic; kept to reproduce published numbers).
    BestOnTest,
}

/// kNN task settings; defaults follow `default_eval_knn.yaml`.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnConfig {
    /// Neighbour counts (`nb_knn`), default `[20]`.
    pub ks: Vec<usize>,
    /// Softmax temperature, default 0.07.
    pub temperature: f32,
    /// Reported metrics, default top-1 micro and macro accuracy.
    pub metrics: Vec<Metric>,
    /// How k is chosen when `ks` has several values.
    pub k_selection: KSelection,
    /// Upper bound on the elements of one `[chunk, N_train]` similarity block (memory bound).
    pub max_chunk_elems: usize,
}

impl Default for KnnConfig {
    fn default() -> Self {
        Self {
            ks: vec![20],
            temperature: 0.07,
            metrics: vec![Metric::TOP1_MICRO, Metric::TOP1_MACRO],
            k_selection: KSelection::Validation,
            max_chunk_elems: 1 << 26, // 256 MiB of f32 similarities
        }
    }
}

/// What a kNN run produced.
#[derive(Debug, Clone, PartialEq)]
pub struct KnnReport {
    /// The reported rows (test split).
    pub results: Results,
    /// Test metric values (fractions, in `metrics` order) for every configured k.
    pub test_per_k: Vec<(usize, Vec<f64>)>,
    /// The k chosen on validation (`None` with `BestOnTest` and several k).
    pub selected_k: Option<usize>,
}

impl KnnConfig {
    /// Runs the protocol: scores for `test` (and `val` when k is selected on it), metrics,
    /// selection, result rows.
    pub fn run(
        &self,
        task: &str,
        train: &Split,
        val: Option<&Split>,
        test: &Split,
    ) -> Result<KnnReport> {
        self.check()?;
        let first = self.metrics[0];
        let selected_k = match (self.ks.len(), self.k_selection, val) {
            (1, _, _) => Some(self.ks[0]),
            (_, KSelection::BestOnTest, _) => None,
            (_, KSelection::Validation, None) => {
                return Err(EvalError::MissingValidation {
                    ks: self.ks.clone(),
                });
            }
            (_, KSelection::Validation, Some(val)) => {
                let scores = self.scores_for(train, val)?;
                let mut best = (self.ks[0], f64::NEG_INFINITY);
                for (&k, s) in self.ks.iter().zip(&scores) {
                    let v = first.compute(s, val.labels())?;
                    if v > best.1 {
                        best = (k, v);
                    }
                }
                Some(best.0)
            }
        };
        let scores = self.scores_for(train, test)?;
        let test_per_k = self
            .ks
            .iter()
            .zip(&scores)
            .map(|(&k, s)| {
                let values = self
                    .metrics
                    .iter()
                    .map(|m| m.compute(s, test.labels()))
                    .collect::<Result<Vec<f64>>>()?;
                Ok((k, values))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut results = Results::new(task);
        for (mi, m) in self.metrics.iter().enumerate() {
            let (k, v) = match selected_k {
                Some(k) => {
                    let row = test_per_k.iter().find(|(kk, _)| *kk == k);
                    (k, row.map_or(f64::NAN, |r| r.1[mi]))
                }
                // Per metric, the best k on test (first k on ties or NaN).
                None => test_per_k
                    .iter()
                    .map(|(k, v)| (*k, v[mi]))
                    .reduce(|a, b| if b.1 > a.1 { b } else { a })
                    .unwrap_or((self.ks[0], f64::NAN)),
            };
            results.push(m.key(), v, format!("knn_k_{k}"));
        }
        Ok(KnnReport {
            results,
            test_per_k,
            selected_k,
        })
    }

    fn scores_for(&self, train: &Split, query: &Split) -> Result<Vec<Vec<f32>>> {
        train.labels().check_compatible(
            query.labels(),
            &format!("kNN {} vs {}", train.name(), query.name()),
        )?;
        knn_scores(
            train,
            query.features(),
            &self.ks,
            self.temperature,
            self.max_chunk_elems,
        )
    }

    fn check(&self) -> Result<()> {
        let bad = |field: &str, value: String, reason: &str| {
            Err(EvalError::Config {
                field: field.into(),
                value,
                reason: reason.into(),
            })
        };
        if self.ks.is_empty() || self.ks.contains(&0) {
            return bad(
                "ks",
                format!("{:?}", self.ks),
                "needs at least one k, each >= 1",
            );
        }
        if !(self.temperature > 0.0 && self.temperature.is_finite()) {
            return bad("temperature", self.temperature.to_string(), "must be > 0");
        }
        if self.metrics.is_empty() {
            return bad(
                "metrics",
                "[]".into(),
                "needs at least one metric (the first selects k)",
            );
        }
        Ok(())
    }
}

/// L2-normalises rows, `x / max(‖x‖, 1e-12)` (torch's `F.normalize`).
fn l2_normalize(x: Tensor<2>) -> Tensor<2> {
    let norm = x
        .clone()
        .powf_scalar(2.0)
        .sum_dim(1)
        .sqrt()
        .clamp_min(1e-12);
    x / norm
}

/// kNN class scores for every k in `ks`, in `ks` order.
///
/// Multiclass: `Σ_{j<k} w_j · onehot(label_j)`. Multilabel (spec's one-binary-kNN-per-label
/// variant): `p_c = Σ_{j<k} w_j · y_{j,c}` (unknown targets count as 0), then a softmax
/// across labels. Queries are processed in chunks of at most `max_chunk_elems / N_train` rows.
///
/// # Shapes
/// `queries`: `[Nq, D]` with `D` equal to the training feature width; returns `ks.len()`
/// matrices `[Nq, C]` row-major.
pub fn knn_scores(
    train: &Split,
    queries: &Tensor<2>,
    ks: &[usize],
    temperature: f32,
    max_chunk_elems: usize,
) -> Result<Vec<Vec<f32>>> {
    let [n_train, d] = train.features().dims();
    let [n_query, dq] = queries.dims();
    if dq != d {
        return Err(EvalError::Shape {
            what: "query feature width vs training feature width".into(),
            expected: d,
            got: dq,
        });
    }
    let max_k = ks.iter().copied().max().unwrap_or(0);
    if max_k == 0 || max_k > n_train {
        return Err(EvalError::Config {
            field: "ks".into(),
            value: format!("{ks:?}"),
            reason: format!("each k must be in 1..={n_train} (the training set size)"),
        });
    }
    let labels = train.labels();
    let c = labels.num_classes();
    let dense = labels.dense(); // [N_train, C]
    let train_t = l2_normalize(train.features().clone()).transpose(); // [D, N_train]
    let chunk = (max_chunk_elems / n_train).max(1);
    let mut out = vec![vec![0f32; n_query * c]; ks.len()];
    let mut start = 0;
    while start < n_query {
        let end = (start + chunk).min(n_query);
        let q = l2_normalize(queries.clone().slice([start..end, 0..d]));
        // Top-k on the host: Flex's device top-k sorts whole rows (≈5x slower than the
        // matmul here), and a partial selection gives a deterministic tie rule (lower index).
        let sims = to_host(q.matmul(train_t.clone())); // [rows, N_train]
        let rows = end - start;
        let mut top_s = Vec::with_capacity(rows * max_k);
        let mut idx = Vec::with_capacity(rows * max_k);
        for row in sims.chunks_exact(n_train) {
            for j in top_k_desc(row, max_k) {
                top_s.push(row[j]);
                idx.push(j);
            }
        }
        let sims = top_s;
        for r in 0..end - start {
            let s = &sims[r * max_k..(r + 1) * max_k];
            let w = softmax(s, temperature);
            let mut acc = vec![0f32; c];
            let mut filled = 0;
            for j in 0..max_k {
                let nb = idx[r * max_k + j];
                for (a, y) in acc.iter_mut().zip(&dense[nb * c..(nb + 1) * c]) {
                    *a += w[j] * y;
                }
                for (ki, &k) in ks.iter().enumerate() {
                    if k == j + 1 {
                        let row = &mut out[ki][(start + r) * c..(start + r + 1) * c];
                        row.copy_from_slice(&acc);
                        if labels.is_multilabel() {
                            let sm = softmax(row, 1.0);
                            row.copy_from_slice(&sm);
                        }
                        filled += 1;
                    }
                }
            }
            debug_assert_eq!(filled, ks.len());
        }
        start = end;
    }
    Ok(out)
}

/// Indices of the `k` largest values, largest first; ties go to the lower index.
fn top_k_desc(row: &[f32], k: usize) -> Vec<usize> {
    let cmp = |a: &usize, b: &usize| row[*b].total_cmp(&row[*a]).then(a.cmp(b));
    let mut idx: Vec<usize> = (0..row.len()).collect();
    if k < idx.len() {
        idx.select_nth_unstable_by(k - 1, cmp);
        idx.truncate(k);
    }
    idx.sort_unstable_by(cmp);
    idx
}

/// `softmax(x / t)` in f32, max-subtracted like torch.
fn softmax(x: &[f32], t: f32) -> Vec<f32> {
    let scaled: Vec<f32> = x.iter().map(|&v| v / t).collect();
    let m = scaled.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let e: Vec<f32> = scaled.iter().map(|&v| (v - m).exp()).collect();
    let s: f32 = e.iter().sum();
    e.iter().map(|&v| v / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_k_is_sorted_and_breaks_ties_by_index() {
        let row = [0.5, 0.9, 0.5, 0.1, 0.9, 0.5];
        assert_eq!(top_k_desc(&row, 4), vec![1, 4, 0, 2]);
        assert_eq!(top_k_desc(&row, 6), vec![1, 4, 0, 2, 5, 3]);
        assert_eq!(top_k_desc(&row, 1), vec![1]);
    }

    #[test]
    fn softmax_is_normalised_and_tempered() {
        let w = softmax(&[1.0, 0.9, 0.0], 0.07);
        assert!((w.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        assert!(w[0] > 0.8 && w[2] < 1e-5, "{w:?}");
    }
}
