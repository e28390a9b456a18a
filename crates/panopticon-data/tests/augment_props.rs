//! Properties of the augmentation pipeline: reproducibility, shapes, chn_ids transport,
//! spec_masks, view selection, flips, jitter clamp, collate order and errors.

use burn::prelude::*;
use panopticon_data::augment::{
    AugRng, AugmentError, AugmentedSample, ChannelSelection, ChnPad, ColorJitterRs, CropBatch,
    Draws, Image, JitterClamp, ListChnMask, PanopticonAugmentation, PanopticonAugmentationConfig,
    RandomHvFlip, View, collate, flip_horizontal, flip_vertical, resize_bicubic_aa,
};
use panopticon_data::masking::{IbotMaskConfig, MaskingGenerator};

/// A `[C, H, W]` image whose channel `c` is filled with `ids[c] / 1000` (so a crop of it
/// reveals which channel it came from) plus a small pixel pattern when `pattern` is set.
fn image(ids: &[f32], h: usize, w: usize, pattern: bool) -> Image {
    let mut data = Vec::with_capacity(ids.len() * h * w);
    for &id in ids {
        for y in 0..h {
            for x in 0..w {
                let p = if pattern {
                    ((y * 31 + x * 17) % 13) as f32 * 0.1 - 0.6
                } else {
                    0.0
                };
                data.push(id / 1000.0 + p);
            }
        }
    }
    Image::new(data, [ids.len(), h, w], ids.to_vec()).unwrap()
}

fn s2_ids() -> Vec<f32> {
    vec![
        442.0, 492.0, 559.0, 664.0, 704.0, 740.0, 782.0, 832.0, 864.0, 945.0, 1373.0, 1613.0,
        2202.0,
    ]
}

fn s2_rgb_sample(pattern: bool) -> Vec<View> {
    vec![
        View::single(image(&s2_ids(), 96, 96, pattern)),
        View::single(image(&[664.0, 559.0, 492.0], 128, 160, pattern)),
    ]
}

fn bits(s: &AugmentedSample) -> Vec<u32> {
    s.global_crops
        .iter()
        .chain(&s.local_crops)
        .flat_map(|c| c.imgs().iter().chain(c.chn_ids()).map(|x| x.to_bits()))
        .collect()
}

#[test]
fn same_seed_same_output_bit_for_bit() {
    let aug = PanopticonAugmentation::new(Default::default()).unwrap();
    let sample = s2_rgb_sample(true);
    for index in 0..4 {
        let a = aug
            .apply(&sample, &mut AugRng::for_sample(21, index))
            .unwrap();
        let b = aug
            .apply(&sample, &mut AugRng::for_sample(21, index))
            .unwrap();
        assert_eq!(bits(&a), bits(&b));
        assert_eq!(a, b);
        let c = aug
            .apply(&sample, &mut AugRng::for_sample(21, index + 100))
            .unwrap();
        assert_ne!(bits(&a), bits(&c), "another stream must give other crops");
    }
    let mut r1 = AugRng::seed_from_u64(5);
    let mut r2 = AugRng::seed_from_u64(5);
    let u1: Vec<f64> = (0..100).map(|_| r1.uniform()).collect();
    let u2: Vec<f64> = (0..100).map(|_| r2.uniform()).collect();
    assert_eq!(u1, u2);
    assert!(u1.iter().all(|u| (0.0..1.0).contains(u)));
}

#[test]
fn crops_have_stage2_shapes_and_valid_padding() {
    let aug = PanopticonAugmentation::new(PanopticonAugmentationConfig::stage2()).unwrap();
    let sample = s2_rgb_sample(false);
    for seed in 0..12 {
        let out = aug
            .apply(&sample, &mut AugRng::for_sample(7, seed))
            .unwrap();
        assert_eq!(out.global_crops.len(), 2);
        assert_eq!(out.local_crops.len(), 4);
        for (crops, c, s, lo, hi) in [
            (&out.global_crops, 13, 224, 4, 13),
            (&out.local_crops, 4, 98, 1, 4),
        ] {
            for crop in crops {
                assert_eq!((crop.channels(), crop.size()), (c, s));
                assert_eq!(crop.imgs().len(), c * s * s);
                let real = crop.spec_masks().iter().filter(|m| !**m).count();
                // Masks are a prefix of false then true.
                assert!(crop.spec_masks()[..real].iter().all(|m| !m));
                assert!(crop.spec_masks()[real..].iter().all(|m| *m));
                // RGB (3 channels) is kept whole even though low = 4.
                let view_t = if crop.chn_ids()[..real]
                    .iter()
                    .all(|id| [664.0, 559.0, 492.0].contains(id))
                    && real == 3
                {
                    3
                } else {
                    13
                };
                assert!(
                    (lo.min(view_t)..=hi.min(view_t)).contains(&real),
                    "{real} channels"
                );
                // Padding: zero images, last real id repeated.
                let last = crop.chn_ids()[real - 1];
                assert!(crop.chn_ids()[real..].iter().all(|&id| id == last));
                assert!(crop.imgs()[real * s * s..].iter().all(|&x| x == 0.0));
                // Ids are distinct source ids, and each real channel carries its own data
                // (constant id/1000 images; jitter may scale it by at most ±10 % twice).
                let mut seen = crop.chn_ids()[..real].to_vec();
                seen.sort_by(f32::total_cmp);
                seen.dedup();
                assert_eq!(seen.len(), real, "duplicate ids {:?}", crop.chn_ids());
                for ch in 0..real {
                    let id = crop.chn_ids()[ch];
                    assert!(s2_ids().contains(&id));
                    let plane = &crop.imgs()[ch * s * s..(ch + 1) * s * s];
                    let m = plane.iter().sum::<f32>() / plane.len() as f32;
                    assert!(
                        (m - id / 1000.0).abs() <= 0.21 * id / 1000.0 + 1e-4,
                        "id {id}: mean {m}"
                    );
                }
            }
        }
    }
}

#[test]
fn global_crops_come_from_distinct_views_locals_with_replacement() {
    let aug = PanopticonAugmentation::new(Default::default()).unwrap();
    let sample = s2_rgb_sample(false);
    let from_rgb = |c: &panopticon_data::augment::Crop| {
        c.chn_ids().len() == 13
            && c.chn_ids()[..3]
                .iter()
                .all(|id| [664.0, 559.0, 492.0].contains(id))
            && c.spec_masks()[3]
    };
    let mut local_same = 0;
    let mut local_rgb = 0;
    for seed in 0..40 {
        let out = aug
            .apply(&sample, &mut AugRng::for_sample(3, seed))
            .unwrap();
        let rgb: Vec<bool> = out.global_crops.iter().map(from_rgb).collect();
        assert!(
            rgb[0] != rgb[1],
            "both global crops from one view (seed {seed})"
        );
        // Local crops pad to 4; RGB gives 1..3 ids from {664, 559, 492}: S2 shares these,
        // so count crops with an S2-only id instead.
        let s2_only = |c: &panopticon_data::augment::Crop| {
            c.chn_ids()
                .iter()
                .zip(c.spec_masks())
                .any(|(id, m)| !m && ![664.0, 559.0, 492.0].contains(id))
        };
        let n_s2 = out.local_crops.iter().filter(|c| s2_only(c)).count();
        local_rgb += 4 - n_s2;
        if n_s2 == 4 || n_s2 == 0 {
            local_same += 1;
        }
    }
    assert!(local_rgb > 0, "local crops never drew the second view");
    assert!(local_same > 0, "local crops never repeated a view");
}

#[test]
fn single_view_hyperspectral_and_errors() {
    let aug = PanopticonAugmentation::new(Default::default()).unwrap();
    let ids: Vec<f32> = (0..202).map(|i| 420.0 + 10.0 * i as f32).collect();
    let enmap = [View::single(image(&ids, 64, 64, true))];
    let out = aug.apply(&enmap, &mut AugRng::for_sample(1, 1)).unwrap();
    for c in &out.global_crops {
        let real = c.spec_masks().iter().filter(|m| !**m).count();
        assert!((4..=13).contains(&real));
    }
    for c in &out.local_crops {
        let real = c.spec_masks().iter().filter(|m| !**m).count();
        assert!((1..=4).contains(&real));
    }
    // One ordinary view cannot give two distinct global views: typed error, no panic.
    let s2 = [View::single(image(&s2_ids(), 32, 32, false))];
    let err = aug.apply(&s2, &mut AugRng::seed_from_u64(0)).unwrap_err();
    assert!(
        matches!(
            err,
            AugmentError::TooFewViews {
                views: 1,
                crops: 2,
                ..
            }
        ),
        "{err}"
    );
    assert!(aug.apply(&[], &mut AugRng::seed_from_u64(0)).is_err());

    let mut bad = PanopticonAugmentationConfig::stage2();
    bad.global.number = 3;
    assert!(PanopticonAugmentation::new(bad).is_err());
    let mut bad = PanopticonAugmentationConfig::stage2();
    bad.local.spectral_size = (5, 4);
    assert!(PanopticonAugmentation::new(bad).is_err());
    let mut bad = PanopticonAugmentationConfig::stage2();
    bad.color_jitter.p = 2.0;
    assert!(PanopticonAugmentation::new(bad).is_err());

    assert!(matches!(
        Image::new(vec![0.0; 5], [1, 2, 3], vec![1.0]),
        Err(AugmentError::DataLength { .. })
    ));
    assert!(matches!(
        Image::new(vec![0.0; 6], [1, 2, 3], vec![]),
        Err(AugmentError::ChnIdCount { .. })
    ));
    assert!(Image::new(vec![], [0, 2, 3], vec![]).is_err());
    assert!(View::new(vec![]).is_err());
    let big = image(&[1.0, 2.0, 3.0], 4, 4, false);
    assert!(matches!(
        ChnPad { size: Some(2) }.apply(big),
        Err(AugmentError::TooManyChannels { .. })
    ));
}

#[test]
fn chn_mask_selection_properties() {
    // Multi-resolution view: 3 images (Satlas-like per-band images plus a 2-band one).
    let view = View::new(vec![
        image(&[1.0, 2.0], 8, 8, true),
        image(&[3.0], 4, 4, true),
        image(&[4.0, 5.0, 6.0], 16, 16, true),
    ])
    .unwrap();
    let mask = ListChnMask::new(2, 4).unwrap();
    for seed in 0..200 {
        let sel = mask.select(&view, &mut AugRng::seed_from_u64(seed));
        assert!((2..=4).contains(&sel.len()));
        let imgs: Vec<usize> = sel.images.iter().map(|(s, _)| *s).collect();
        assert!(imgs.windows(2).all(|w| w[0] < w[1]), "image order kept");
        let copy = sel.apply(&view).unwrap();
        let mut n = 0;
        for ((s, chans), img) in sel.images.iter().zip(copy.images()) {
            assert!(!chans.is_empty());
            let src = &view.images()[*s];
            assert_eq!((img.height(), img.width()), (src.height(), src.width()));
            for (k, &c) in chans.iter().enumerate() {
                assert_eq!(img.chn_ids()[k], src.chn_ids()[c]);
                assert_eq!(img.channel(k), src.channel(c));
                n += 1;
            }
        }
        assert_eq!(n, sel.len());
    }
    // T <= low: unchanged, no draw consumed.
    let small = View::single(image(&[1.0, 2.0], 4, 4, false));
    let mut rng = AugRng::seed_from_u64(0);
    let before = rng.clone().uniform();
    assert_eq!(
        ListChnMask::new(4, 13).unwrap().select(&small, &mut rng),
        ChannelSelection::all(&small)
    );
    assert_eq!(rng.uniform(), before);
}

#[test]
fn flips_are_involutions_and_reverse_axes() {
    let img = image(&[1.0, 2.0], 5, 7, true);
    let v = flip_vertical(img.clone());
    let h = flip_horizontal(img.clone());
    assert_ne!(v, img);
    assert_ne!(h, img);
    assert_eq!(flip_vertical(v.clone()), img);
    assert_eq!(flip_horizontal(h.clone()), img);
    for c in 0..2 {
        let (a, vv, hh) = (
            img.channel(c).unwrap(),
            v.channel(c).unwrap(),
            h.channel(c).unwrap(),
        );
        for y in 0..5 {
            for x in 0..7 {
                assert_eq!(vv[y * 7 + x], a[(4 - y) * 7 + x]);
                assert_eq!(hh[y * 7 + x], a[y * 7 + 6 - x]);
            }
        }
    }
    let always = RandomHvFlip { p: 1.0 };
    let both = always.apply(img.clone(), &mut AugRng::seed_from_u64(0));
    assert_eq!(both, flip_horizontal(flip_vertical(img.clone())));
    assert_eq!(always.apply(both, &mut AugRng::seed_from_u64(1)), img);
    let never = RandomHvFlip { p: 0.0 };
    assert_eq!(never.apply(img.clone(), &mut AugRng::seed_from_u64(0)), img);
}

#[test]
fn jitter_clamp_quirk_only_behind_flag() {
    let img = image(&[-500.0, 800.0, 1500.0], 6, 6, true); // values from −1.1 to 2.1
    let fixed = ColorJitterRs {
        p: 1.0,
        ..Default::default()
    };
    let upstream = ColorJitterRs {
        clamp: JitterClamp::UpstreamUnitInterval,
        ..fixed
    };
    let a = fixed.apply(img.clone(), &mut AugRng::seed_from_u64(9));
    let b = upstream.apply(img.clone(), &mut AugRng::seed_from_u64(9));
    assert!(a.data().iter().any(|&x| x < 0.0) && a.data().iter().any(|&x| x > 1.0));
    assert!(b.data().iter().all(|&x| (0.0..=1.0).contains(&x)));
    assert_ne!(a, img, "p = 1 must jitter");
    let off = ColorJitterRs {
        p: 0.0,
        ..Default::default()
    };
    assert_eq!(off.apply(img.clone(), &mut AugRng::seed_from_u64(9)), img);
}

#[test]
fn resize_preserves_constants_and_identity() {
    let c = vec![0.37f32; 2 * 11 * 9];
    for (oh, ow) in [(4, 5), (30, 17), (11, 9)] {
        let out = resize_bicubic_aa(&c, [2, 11, 9], oh, ow).unwrap();
        assert_eq!(out.len(), 2 * oh * ow);
        assert!(out.iter().all(|&x| (x - 0.37).abs() < 1e-6));
    }
    let img = image(&[1.0], 11, 9, true);
    assert_eq!(
        resize_bicubic_aa(img.data(), [1, 11, 9], 11, 9).unwrap(),
        img.data()
    );
    assert!(resize_bicubic_aa(&c, [2, 11, 9], 0, 3).is_err());
    assert!(resize_bicubic_aa(&c[1..], [2, 11, 9], 3, 3).is_err());
}

#[test]
fn collate_is_crop_major_and_converts_to_tensors() {
    let aug = PanopticonAugmentation::new(Default::default()).unwrap();
    let sample = s2_rgb_sample(true);
    let b = 3;
    let samples: Vec<AugmentedSample> = (0..b)
        .map(|i| {
            aug.apply(&sample, &mut AugRng::for_sample(11, i as u64))
                .unwrap()
        })
        .collect();
    let gen_ = MaskingGenerator::for_grid(16).unwrap();
    let out = collate(
        &samples,
        &IbotMaskConfig::default(),
        &gen_,
        &mut AugRng::seed_from_u64(2),
    )
    .unwrap();
    assert_eq!(
        (out.global.n, out.global.channels, out.global.size),
        (2 * b, 13, 224)
    );
    assert_eq!(
        (out.local.n, out.local.channels, out.local.size),
        (4 * b, 4, 98)
    );
    for (batch, global) in [(&out.global, true), (&out.local, false)] {
        let per = batch.channels * batch.size * batch.size;
        for (s, sample) in samples.iter().enumerate() {
            let crops = if global {
                &sample.global_crops
            } else {
                &sample.local_crops
            };
            for (i, crop) in crops.iter().enumerate() {
                let row = i * b + s;
                assert_eq!(&batch.imgs[row * per..(row + 1) * per], crop.imgs());
                assert_eq!(
                    &batch.chn_ids[row * batch.channels..(row + 1) * batch.channels],
                    crop.chn_ids()
                );
                assert_eq!(
                    &batch.spec_masks[row * batch.channels..(row + 1) * batch.channels],
                    crop.spec_masks()
                );
            }
        }
    }
    assert_eq!(out.masks.n_images, 2 * b);
    let masked_rows = out
        .masks
        .masks
        .chunks(256)
        .filter(|r| r.iter().any(|&m| m))
        .count();
    assert_eq!(masked_rows, b, "int(2B · 0.5) = B masked images");

    let device = Device::default();
    let t = out.to_tensors(&device);
    assert_eq!(t.global.imgs.dims(), [2 * b, 13, 224, 224]);
    assert_eq!(t.global.chn_ids.dims(), [2 * b, 13]);
    assert_eq!(t.local.spec_masks.dims(), [4 * b, 4]);
    assert_eq!(t.masks.dims(), [2 * b, 256]);
    assert_eq!(t.mask_indices.dims(), [t.n_masked_patches]);
    let ids: Vec<f32> = t.global.chn_ids.into_data().try_to_vec().unwrap();
    assert_eq!(ids, out.global.chn_ids);
    let sm: Vec<bool> = t.local.spec_masks.into_data().try_to_vec().unwrap();
    assert_eq!(sm, out.local.spec_masks);
    let idx: Vec<i64> = t
        .mask_indices
        .into_data()
        .convert::<i64>()
        .try_to_vec()
        .unwrap();
    assert_eq!(idx, out.masks.mask_indices);

    // No masked image at all (p = 0): empty index tensors.
    let none = IbotMaskConfig {
        mask_probability: 0.0,
        ..Default::default()
    };
    let out = collate(&samples, &none, &gen_, &mut AugRng::seed_from_u64(2)).unwrap();
    assert_eq!(out.masks.n_masked_patches(), 0);
    assert_eq!(out.to_tensors(&device).mask_indices.dims(), [0]);

    // Mismatched crops are a typed error.
    let mut odd = samples.clone();
    odd[1].local_crops.pop();
    assert!(
        collate(
            &odd,
            &IbotMaskConfig::default(),
            &gen_,
            &mut AugRng::seed_from_u64(2)
        )
        .is_err()
    );
    let mixed = [&samples[0].global_crops[..], &samples[0].local_crops[..2]];
    assert!(matches!(
        CropBatch::stack("global", &mixed),
        Err(AugmentError::CollateShape { .. })
    ));
}

#[test]
fn pipeline_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<PanopticonAugmentation>();
    check::<AugmentedSample>();
    check::<View>();
    check::<AugRng>();
    check::<panopticon_data::augment::Collated>();
}

#[test]
fn degenerate_crop_settings_are_errors_not_panics() {
    use panopticon_data::augment::ListRandomResizeCrop;
    let view = View::single(image(&[1.0, 2.0], 8, 8, true));
    let sel = ChannelSelection::all(&view);
    let mut op = ListRandomResizeCrop::new(4, (0.3, 1.0)).unwrap();
    assert!(op.apply(&view, &sel, &mut AugRng::seed_from_u64(0)).is_ok());
    op.ratio = (0.0, 0.0);
    assert!(
        op.apply(&view, &sel, &mut AugRng::seed_from_u64(0))
            .is_err()
    );
    op.ratio = (0.75, 4.0 / 3.0);
    op.size = 0;
    assert!(
        op.apply(&view, &sel, &mut AugRng::seed_from_u64(0))
            .is_err()
    );
    assert!(ListRandomResizeCrop::new(4, (0.0, 1.0)).is_err());
    assert!(ListRandomResizeCrop::new(4, (0.5, 0.2)).is_err());
    // A selection drawn for another view is an error too.
    let other = View::single(image(&[1.0, 2.0, 3.0, 4.0], 8, 8, true));
    let foreign = ChannelSelection::all(&other);
    op.size = 4;
    assert!(
        op.apply(&view, &foreign, &mut AugRng::seed_from_u64(0))
            .is_err()
    );
    assert!(foreign.apply(&view).is_err());
}

#[test]
fn loader_threads_reproduce_the_sequential_result() {
    let aug = std::sync::Arc::new(PanopticonAugmentation::new(Default::default()).unwrap());
    let sample = std::sync::Arc::new(s2_rgb_sample(true));
    let sequential: Vec<AugmentedSample> = (0..6)
        .map(|i| aug.apply(&sample, &mut AugRng::for_sample(42, i)).unwrap())
        .collect();
    // Two workers, each taking every other index in reverse order.
    let handles: Vec<_> = (0..2u64)
        .map(|worker| {
            let (aug, sample) = (aug.clone(), sample.clone());
            std::thread::spawn(move || {
                (0..6u64)
                    .rev()
                    .filter(|i| i % 2 == worker)
                    .map(|i| {
                        (
                            i,
                            aug.apply(&sample, &mut AugRng::for_sample(42, i)).unwrap(),
                        )
                    })
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for h in handles {
        for (i, out) in h.join().unwrap() {
            assert_eq!(bits(&out), bits(&sequential[i as usize]), "sample {i}");
        }
    }
}
