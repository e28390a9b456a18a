//! iBOT masking: parity with the spec-derived Python reference and mask-ratio properties.

mod augment_support;

use augment_support::{Replay, f32s, f64s, fixture, usizes};
use panopticon_data::augment::AugRng;
use panopticon_data::masking::{IbotMaskConfig, IbotMasks, MaskingGenerator, linspace_f32};

#[test]
fn linspace_matches_torch_bit_for_bit() {
    for case in fixture("masking")["linspace"].as_array().unwrap() {
        let got = linspace_f32(
            case["start"].as_f64().unwrap() as f32,
            case["end"].as_f64().unwrap() as f32,
            case["steps"].as_u64().unwrap() as usize,
        );
        assert_eq!(got, f32s(&case["values"]), "{case}");
    }
}

#[test]
fn generator_matches_reference_given_draws() {
    for case in fixture("masking")["generate"].as_array().unwrap() {
        let grid = case["grid"].as_u64().unwrap() as usize;
        let n = case["n"].as_u64().unwrap() as usize;
        let gen_ = MaskingGenerator::for_grid(grid).unwrap();
        let mut rng = Replay::new(f64s(&case["draws"]));
        let mask = gen_.generate(n, &mut rng);
        let idx: Vec<usize> = (0..mask.len()).filter(|&i| mask[i]).collect();
        assert_eq!(idx, usizes(&case["mask"]), "grid {grid}, n {n}");
        assert_eq!(rng.used, case["used"].as_u64().unwrap() as usize);
    }
}

#[test]
fn collate_masks_match_reference_given_draws() {
    for case in fixture("masking")["collate"].as_array().unwrap() {
        let grid = case["grid"].as_u64().unwrap() as usize;
        let ratio = f32s(&case["mask_ratio"]);
        let config = IbotMaskConfig {
            mask_probability: case["mask_probability"].as_f64().unwrap(),
            mask_ratio: (ratio[0], ratio[1]),
        };
        let n_images = case["n_images"].as_u64().unwrap() as usize;
        let mut rng = Replay::new(f64s(&case["draws"]));
        let gen_ = MaskingGenerator::for_grid(grid).unwrap();
        let m = IbotMasks::sample(n_images, &config, &gen_, &mut rng).unwrap();
        assert_eq!(rng.used, case["used"].as_u64().unwrap() as usize);
        let idx: Vec<usize> = m.mask_indices.iter().map(|&i| i as usize).collect();
        assert_eq!(idx, usizes(&case["mask_indices"]));
        assert_eq!(m.masks_weight, f32s(&case["masks_weight"]));
        assert_eq!(m.upperbound, case["upperbound"].as_u64().unwrap() as usize);
        assert_eq!(m.masks.len(), n_images * grid * grid);
    }
}

#[test]
fn mask_counts_within_configured_ratio_bounds() {
    let config = IbotMaskConfig::default();
    let gen_ = MaskingGenerator::for_grid(16).unwrap();
    let n = 256.0f64;
    for b in [1usize, 2, 8, 75] {
        for seed in 0..20 {
            let mut rng = AugRng::for_sample(seed, b as u64);
            let m = IbotMasks::sample(2 * b, &config, &gen_, &mut rng).unwrap();
            let counts: Vec<usize> = m
                .masks
                .chunks(256)
                .map(|r| r.iter().filter(|&&x| x).count())
                .collect();
            // Exactly B masked images (int(2B·0.5)); never more than r_max·N patches each, and
            // the generator reaches its target unless blocks stop fitting.
            let masked = counts.iter().filter(|&&c| c > 0).count();
            assert!(masked <= b, "{masked} masked images for B = {b}");
            for &c in &counts {
                assert!(c as f64 <= 0.5 * n, "{c} patches > r_max·N");
            }
            assert!(m.n_masked_patches() <= m.upperbound);
            let total: usize = counts.iter().sum();
            assert_eq!(total, m.n_masked_patches());
            assert!(
                total as f64 >= 0.1 * n * b as f64 * 0.5,
                "too few masked: {total}"
            );
            // Weights: 1 / (#masked patches of the row).
            for (&i, &w) in m.mask_indices.iter().zip(&m.masks_weight) {
                assert_eq!(w, 1.0 / counts[i as usize / 256] as f32);
            }
            assert!(m.mask_indices.windows(2).all(|w| w[0] < w[1]));
        }
    }
}

#[test]
fn invalid_mask_config_is_an_error() {
    let gen_ = MaskingGenerator::for_grid(16).unwrap();
    let bad = IbotMaskConfig {
        mask_probability: 1.5,
        ..Default::default()
    };
    let err = IbotMasks::sample(4, &bad, &gen_, &mut AugRng::seed_from_u64(0)).unwrap_err();
    assert!(err.to_string().contains("mask_sample_probability"), "{err}");
    let bad = IbotMaskConfig {
        mask_ratio: (0.6, 0.5),
        ..Default::default()
    };
    assert!(IbotMasks::sample(4, &bad, &gen_, &mut AugRng::seed_from_u64(0)).is_err());
    assert!(MaskingGenerator::for_grid(0).is_err());
}
