//! The iBOT loss fed by `panopticon-data`'s collate masks: gather order, weights and the
//! "mean per image, summed, divided by 2B" reduction (spec §3.4 step 10).

use burn::prelude::*;
use burn::tensor::Distribution;
use burn::tensor::activation::{log_softmax, softmax};
use panopticon_data::augment::AugRng;
use panopticon_data::masking::{IbotMaskConfig, IbotMasks, MaskingGenerator};
use panopticon_train::{IbotPatchLoss, STUDENT_TEMP, gather_masked};

#[test]
fn loss_with_collate_masks_is_the_per_image_mean_summed_over_2b() {
    let dev = Device::default();
    let (two_b, grid, k) = (6, 4, 5);
    let generator = MaskingGenerator::for_grid(grid).unwrap();
    let mut rng = AugRng::seed_from_u64(3);
    let masks = IbotMasks::sample(two_b, &IbotMaskConfig::default(), &generator, &mut rng).unwrap();
    let n = grid * grid;
    let m = masks.n_masked_patches();
    assert!(m > 0, "seed 3 masks some patches");

    let s_tokens = Tensor::<3>::random([two_b, n, k], Distribution::Normal(0.0, 1.0), &dev);
    let t_tokens = Tensor::<3>::random([two_b, n, k], Distribution::Normal(0.0, 1.0), &dev);
    let s = gather_masked(s_tokens.clone(), &masks).unwrap();
    let t = softmax(gather_masked(t_tokens.clone(), &masks).unwrap() / 0.07, 1);
    assert_eq!(s.dims(), [m, k]);
    let got: f32 = IbotPatchLoss::forward_with_masks(s, t, &masks)
        .unwrap()
        .into_scalar();

    // Reference: per image, mean CE over its masked patches; sum over images; / 2B.
    let s_all = s_tokens.into_data().try_to_vec::<f32>().unwrap();
    let t_all = softmax(t_tokens / 0.07, 2)
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
    let lsm = log_softmax(
        Tensor::<3>::from_data(TensorData::new(s_all, [two_b, n, k]), &dev) / STUDENT_TEMP,
        2,
    )
    .into_data()
    .try_to_vec::<f32>()
    .unwrap();
    let mut want = 0.0f64;
    for img in 0..two_b {
        let rows: Vec<usize> = (0..n).filter(|&j| masks.masks[img * n + j]).collect();
        if rows.is_empty() {
            continue;
        }
        let mut acc = 0.0f64;
        for j in &rows {
            let o = (img * n + j) * k;
            acc -= (0..k)
                .map(|c| t_all[o + c] as f64 * lsm[o + c] as f64)
                .sum::<f64>();
        }
        want += acc / rows.len() as f64;
    }
    want /= two_b as f64;
    let rel = (got as f64 - want).abs() / want.abs();
    assert!(rel < 1e-5, "{got} vs {want} (rel {rel:e})");

    assert!(gather_masked(Tensor::zeros([two_b, n + 1, k], &dev), &masks).is_err());
}
