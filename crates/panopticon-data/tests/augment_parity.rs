//! Parity with torch/torchvision on the fixtures of `scripts/gen_augment_fixtures.py`.

mod augment_support;

use augment_support::{Replay, f32s, f64s, fixture, max_abs_diff, usizes};
use panopticon_data::augment::{
    ChannelSelection, ColorJitterRs, CropBox, Image, JitterClamp, ListRandomResizeCrop, View,
    apply_jitter, random_resized_crop_params, resize_bicubic_aa,
};

/// Antialiased bicubic resize vs `torch.nn.functional.interpolate(antialias=True)`.
const RESIZE_TOL: f32 = 1e-5;
/// Jitter is f32 arithmetic as in torch; only the mean's summation order differs.
const JITTER_TOL: f32 = 1e-6;

#[test]
fn resize_matches_torch_antialiased_bicubic() {
    let mut worst = 0.0f32;
    for case in fixture("resize").as_array().unwrap() {
        let s = usizes(&case["shape"]);
        let o = usizes(&case["out"]);
        let got = resize_bicubic_aa(&f32s(&case["input"]), [s[0], s[1], s[2]], o[0], o[1]).unwrap();
        let want = f32s(&case["output"]);
        let d = max_abs_diff(&got, &want);
        assert!(d <= RESIZE_TOL, "{s:?} -> {o:?}: max |diff| {d:e}");
        worst = worst.max(d);
    }
    eprintln!("resize: worst max |diff| vs torch = {worst:e}");
}

#[test]
fn random_resized_crop_params_match_torchvision() {
    let cases = fixture("resized_crop");
    for case in cases["params"].as_array().unwrap() {
        let hw = usizes(&case["hw"]);
        let scale = f64s(&case["scale"]);
        let mut rng = Replay::new(f64s(&case["draws"]));
        let b = random_resized_crop_params(
            hw[0],
            hw[1],
            (scale[0], scale[1]),
            (3.0 / 4.0, 4.0 / 3.0),
            &mut rng,
        );
        let want = usizes(&case["box"]);
        assert_eq!(
            [b.top, b.left, b.height, b.width].to_vec(),
            want,
            "{hw:?} {scale:?}"
        );
        assert_eq!(
            rng.used,
            case["used"].as_u64().unwrap() as usize,
            "draws consumed"
        );
    }
}

#[test]
fn proportional_boxes_match_numpy_round_and_ceil() {
    let cases = fixture("resized_crop");
    for case in cases["scaled"].as_array().unwrap() {
        let b = usizes(&case["box"]);
        let r = usizes(&case["ref_hw"]);
        let hw = usizes(&case["hw"]);
        let bx = CropBox {
            top: b[0],
            left: b[1],
            height: b[2],
            width: b[3],
        };
        let s = bx.scaled(r[0], r[1], hw[0], hw[1]);
        assert_eq!(
            [s.top, s.left, s.height, s.width].to_vec(),
            usizes(&case["scaled"]),
            "{b:?} from {r:?} to {hw:?}"
        );
    }
}

#[test]
fn multi_resolution_crop_matches_torchvision_crop_and_resize() {
    let cases = fixture("resized_crop");
    for case in cases["full"].as_array().unwrap() {
        let images = case["images"]
            .as_array()
            .unwrap()
            .iter()
            .map(|im| {
                let s = usizes(&im["shape"]);
                Image::new(f32s(&im["data"]), [s[0], s[1], s[2]], f32s(&im["chn_ids"])).unwrap()
            })
            .collect();
        let view = View::new(images).unwrap();
        let scale = f64s(&case["scale"]);
        let size = case["size"].as_u64().unwrap() as usize;
        let op = ListRandomResizeCrop::new(size, (scale[0], scale[1])).unwrap();
        let mut rng = Replay::new(f64s(&case["draws"]));
        let out = op
            .apply(&view, &ChannelSelection::all(&view), &mut rng)
            .unwrap();
        assert_eq!(rng.used, case["used"].as_u64().unwrap() as usize);
        assert_eq!(out.chn_ids(), f32s(&case["chn_ids"]).as_slice());
        let d = max_abs_diff(out.data(), &f32s(&case["output"]));
        assert!(d <= RESIZE_TOL, "max |diff| {d:e}");
        eprintln!("multi-resolution crop: max |diff| vs torchvision = {d:e}");
    }
}

#[test]
fn color_jitter_matches_torchvision() {
    for case in fixture("color_jitter").as_array().unwrap() {
        let s = usizes(&case["shape"]);
        let mut rng = Replay::new(f64s(&case["draws"]));
        let params = ColorJitterRs::default().sample_params(&mut rng);
        assert_eq!(rng.used, case["used"].as_u64().unwrap() as usize);
        assert_eq!(params.order.to_vec(), usizes(&case["order"]));
        assert_eq!(
            params.brightness,
            Some(case["brightness"].as_f64().unwrap() as f32)
        );
        assert_eq!(
            params.contrast,
            Some(case["contrast"].as_f64().unwrap() as f32)
        );

        let ids = vec![0.0; s[0]];
        let img = Image::new(f32s(&case["input"]), [s[0], s[1], s[2]], ids).unwrap();
        for (clamp, key) in [
            (JitterClamp::UpstreamUnitInterval, "clamped"),
            (JitterClamp::None, "unclamped"),
        ] {
            let out = apply_jitter(img.clone(), &params, clamp);
            let d = max_abs_diff(out.data(), &f32s(&case[key]));
            assert!(d <= JITTER_TOL, "{key}: max |diff| {d:e}");
            eprintln!("jitter {key}: max |diff| vs torchvision = {d:e}");
        }
        // The fixture has values outside [0, 1]: the clamp must make a difference.
        assert_ne!(f32s(&case["clamped"]), f32s(&case["unclamped"]));
    }
}
