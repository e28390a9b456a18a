//! Every crafted input of the table, written into the fixture folder.

use super::*;

/// Every crafted input of the table, in `fx`.
pub(super) fn build_fixtures(fx: &Path) {
    build_scene_fixtures(fx);
    let opt = [664.0, 559.0, 490.0];
    input(fx, "ok", pixels(&[1, 3, 32, 32]), ids(1, &opt), vec![]);
    input(fx, "b0", pixels(&[0, 3, 32, 32]), ids(0, &opt), vec![]);
    input(
        fx,
        "c0",
        pixels(&[1, 0, 32, 32]),
        TensorData::new(Vec::<f32>::new(), [1, 0]),
        vec![],
    );
    input(
        fx,
        "nan",
        f32s(&[1, 3, 32, 32], |i| if i == 40 { f32::NAN } else { 0.5 }),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "inf",
        f32s(&[1, 3, 32, 32], |i| {
            if i == 2000 { f32::NEG_INFINITY } else { 0.5 }
        }),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "huge",
        f32s(&[1, 3, 32, 32], |_| 3e38),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "huge_one",
        f32s(&[1, 3, 32, 32], |i| if i == 3000 { -2e9 } else { 0.1 }),
        ids(1, &opt),
        vec![],
    );
    input(fx, "rank3", pixels(&[3, 32, 32]), ids(1, &opt), vec![]);
    input(
        fx,
        "int_imgs",
        TensorData::new(vec![1i32; 3 * 32 * 32], [1, 3, 32, 32]),
        ids(1, &opt),
        vec![],
    );
    input(
        fx,
        "ids_short",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[664.0, 559.0]),
        vec![],
    );
    input(
        fx,
        "ids_rank1",
        pixels(&[1, 3, 32, 32]),
        TensorData::new(opt.to_vec(), [3]),
        vec![],
    );
    input(
        fx,
        "sar_bad",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[664.0, -13.0, 490.0]),
        vec![],
    );
    input(
        fx,
        "sar_frac",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[664.0, -1.5, 490.0]),
        vec![],
    );
    input(
        fx,
        "ids_nan",
        pixels(&[1, 3, 32, 32]),
        ids(1, &[f32::NAN, 559.0, 490.0]),
        vec![],
    );
    input(
        fx,
        "ids_bool",
        pixels(&[1, 3, 32, 32]),
        raw(vec![1, 0, 1], &[1, 3], DType::Bool(BoolStore::Native)),
        vec![],
    );
    input(fx, "small", pixels(&[1, 3, 4, 32]), ids(1, &opt), vec![]);
    input(
        fx,
        "big",
        f32s(&[1, 1, 1200, 1200], |_| 0.0),
        ids(1, &[664.0]),
        vec![],
    );
    let mask = |v: Vec<u8>| raw(v, &[1, 3], DType::U8);
    input(
        fx,
        "mask_two",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", mask(vec![0, 2, 0]))],
    );
    input(
        fx,
        "mask_bool_two",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.spec_masks",
            raw(vec![0, 2, 0], &[1, 3], DType::Bool(BoolStore::Native)),
        )],
    );
    input(
        fx,
        "mask_neg",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.spec_masks",
            TensorData::new(vec![0i64, -1, 0], [1, 3]),
        )],
    );
    input(
        fx,
        "mask_all",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", mask(vec![1, 1, 1]))],
    );
    input(
        fx,
        "mask_shape",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", raw(vec![0, 0], &[1, 2], DType::U8))],
    );
    input(
        fx,
        "mask_rank1",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.spec_masks", raw(vec![0, 0, 0], &[3], DType::U8))],
    );
    input(
        fx,
        "mask_float",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.spec_masks",
            TensorData::new(vec![0.0f32, 1.0, 0.0], [1, 3]),
        )],
    );
    input(
        fx,
        "tmask_two",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.token_masks",
            raw(
                vec![0; 15].into_iter().chain([3]).collect(),
                &[1, 16],
                DType::U8,
            ),
        )],
    );
    input(
        fx,
        "tmask_shape",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.token_masks", raw(vec![0; 5], &[1, 5], DType::U8))],
    );
    input(
        fx,
        "tmask_rank3",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![(
            "input.token_masks",
            raw(vec![0; 16], &[1, 16, 1], DType::U8),
        )],
    );
    input(
        fx,
        "tmask_float",
        pixels(&[1, 3, 32, 32]),
        ids(1, &opt),
        vec![("input.token_masks", f32s(&[1, 16], |_| 0.0))],
    );
    save(
        &fx.join("no_imgs.safetensors"),
        vec![("input.chn_ids", ids(1, &opt))],
    );
    save(
        &fx.join("no_ids.safetensors"),
        vec![("input.imgs", pixels(&[1, 3, 32, 32]))],
    );
    std::fs::write(fx.join("garbage.bin"), b"this is not a tensor file at all").unwrap();
    std::fs::write(fx.join("empty.bin"), b"").unwrap();
    // A safetensors header length of 2^62: must not be allocated.
    let mut huge_header = (1u64 << 62).to_le_bytes().to_vec();
    huge_header.extend(b"{}");
    std::fs::write(fx.join("huge_header.safetensors"), huge_header).unwrap();
    // A header whose tensor claims more bytes than the file holds.
    let hdr =
        br#"{"input.imgs":{"dtype":"F32","shape":[100000,100000],"data_offsets":[0,40000000000]}}"#;
    let mut lying = (hdr.len() as u64).to_le_bytes().to_vec();
    lying.extend(hdr);
    std::fs::write(fx.join("lying.safetensors"), lying).unwrap();

    // Weights.
    let pth = std::fs::read(tiny_dir().join("weights.pth")).unwrap();
    std::fs::write(fx.join("trunc.pth"), &pth[..pth.len() / 2]).unwrap();
    std::fs::write(fx.join("head.pth"), &pth[..64]).unwrap();
    weights(fx, "w_nan.safetensors", "blocks.0.attn.qkv.weight", |v| {
        with_value(v, f32::NAN)
    });
    weights(fx, "w_inf.safetensors", "norm.weight", |v| {
        with_value(v, f32::INFINITY)
    });
    weights(
        fx,
        "w_nan_pe.safetensors",
        "patch_embed.chnfus.query",
        |v| with_value(v, f32::NAN),
    );
    weights(fx, "w_shape.safetensors", "norm.bias", |_| {
        Some(TensorData::new(vec![0.0f32; 5], [5]))
    });
    weights(fx, "w_missing.safetensors", "cls_token", |_| None);
    weights(fx, "w_missing_norm.safetensors", "norm.weight", |_| None);
    weights(fx, "w_int.safetensors", "norm.bias", |v| {
        let n = v.shape()[0];
        Some(TensorData::new(vec![0i64; n], [n]))
    });

    // Configs.
    for (file, field, value) in [
        (
            "cfg_dim.json",
            "embed_dim",
            serde_json::json!(3_000_000_000u64),
        ),
        ("cfg_depth0.json", "depth", serde_json::json!(0)),
        (
            "cfg_depth_huge.json",
            "depth",
            serde_json::json!(1_000_000_000u64),
        ),
        ("cfg_heads.json", "num_heads", serde_json::json!(5)),
        ("cfg_heads0.json", "num_heads", serde_json::json!(0)),
        ("cfg_mlp.json", "mlp_ratio", serde_json::json!(1e300)),
        ("cfg_mlp_neg.json", "mlp_ratio", serde_json::json!(-4.0)),
        (
            "cfg_img.json",
            "img_size",
            serde_json::json!(1_000_000_000u64),
        ),
        ("cfg_patch0.json", "patch_size", serde_json::json!(0)),
        (
            "cfg_patch_big.json",
            "patch_size",
            serde_json::json!(100_000),
        ),
        ("cfg_eps.json", "layer_norm_eps", serde_json::json!(-1.0)),
        (
            "cfg_regs.json",
            "num_register_tokens",
            serde_json::json!(1_000_000),
        ),
        ("cfg_drop.json", "drop_path_rate", serde_json::json!(1.5)),
        ("cfg_init.json", "init_values", serde_json::json!(1e300)),
        (
            "cfg_offset.json",
            "interpolate_offset",
            serde_json::json!(7.0),
        ),
        (
            "cfg_attn.json",
            "patch_embed/Panopticon/attn_dim",
            serde_json::json!(3_000_000_000u64),
        ),
        (
            "cfg_attn_odd.json",
            "patch_embed/Panopticon/attn_dim",
            serde_json::json!(45),
        ),
        (
            "cfg_pe_heads.json",
            "patch_embed/Panopticon/num_heads",
            serde_json::json!(0),
        ),
        (
            "cfg_coarsity.json",
            "patch_embed/Panopticon/opt_coarsity",
            serde_json::json!(0),
        ),
    ] {
        config(fx, file, field, value);
    }
    // Within each field's bound, too many parameters together.
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    v["embed_dim"] = 16384.into();
    v["num_heads"] = 16.into();
    v["depth"] = 1024.into();
    std::fs::write(fx.join("cfg_params.json"), v.to_string()).unwrap();
    std::fs::write(fx.join("cfg_bad.json"), "{\"embed_dim\": ").unwrap();

    // Burnpacks with a recorded config.
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    v["embed_dim"] = 3_000_000_000u64.into();
    burnpack_with_config(&fx.join("crafted_dim.bpk"), &v.to_string());
    let mut v = serde_json::to_value(PanopticonConfig::tiny_test()).unwrap();
    v["mlp_ratio"] = 1e300.into();
    burnpack_with_config(&fx.join("crafted_mlp.bpk"), &v.to_string());
    burnpack_with_config(&fx.join("crafted_json.bpk"), "{not json");
    std::fs::write(fx.join("garbage.bpk"), b"BURNPACK but not really").unwrap();

    // Registries.
    let url = "{ url = \"https://example.org/w.pth\" }";
    registry(fx, "reg_dotdot.toml", "../../evil", url);
    registry(fx, "reg_slash.toml", "a/b", url);
    registry(
        fx,
        "reg_hf_file.toml",
        "ok",
        "{ hf_repo = \"a/b\", revision = \"main\", file = \"../../w.pth\" }",
    );
    registry(
        fx,
        "reg_hf_repo.toml",
        "ok",
        "{ hf_repo = \"../b\", revision = \"main\", file = \"w.pth\" }",
    );
    registry(
        fx,
        "reg_scheme.toml",
        "ok",
        "{ url = \"file:///etc/passwd\" }",
    );
    registry(
        fx,
        "reg_sha.toml",
        "ok",
        "{ url = \"https://example.org/w.pth\", sha256 = \"xyz\" }",
    );
    std::fs::write(fx.join("reg_bad.toml"), "[[weights]\nname =").unwrap();

    // Eval tasks and datasets.
    std::fs::create_dir_all(fx.join("tasks_bad_toml")).unwrap();
    std::fs::write(
        fx.join("tasks_bad_toml/t.toml"),
        "type = \"knn\"\n[dataset\n",
    )
    .unwrap();
    std::fs::create_dir_all(fx.join("tasks_empty")).unwrap();
    std::fs::write(fx.join("a_file"), "x").unwrap();
    benv2_task(fx, "yaml_list", |d| {
        std::fs::write(
            d.join("train-s2/dataset.yaml"),
            "nsamples_per_shard:\n  - a\n",
        )
        .unwrap()
    });
    benv2_task(fx, "yaml_classes", |d| {
        let p = d.join("train-s2/dataset.yaml");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(p, t.replace("num_classes: 19", "num_classes: 5")).unwrap()
    });
    benv2_task(fx, "yaml_count", |d| {
        let p = d.join("train-s2/dataset.yaml");
        let t = std::fs::read_to_string(&p).unwrap();
        std::fs::write(p, t.replace(": 4", ": 99999999999999999999999")).unwrap()
    });
    benv2_task(fx, "tar_size", |d| {
        set_first_tar_size(&d.join("train-s2/dataset-000000.tar"), 0o77_777_777_777)
    });
    benv2_task(fx, "tar_garbage", |d| {
        std::fs::write(d.join("train-s2/dataset-000000.tar"), vec![0x41; 1500]).unwrap()
    });
    benv2_task(fx, "npy_shape", |d| {
        edit_first_npy_header(&d.join("train-s2/dataset-000000.tar"), |h| {
            let (a, rest) = h.split_once("'shape': (").unwrap();
            let (_, b) = rest.split_once(')').unwrap();
            format!("{a}'shape': (12, 4294967296, 4294967296){b}")
        })
    });
    benv2_task(fx, "npy_descr", |d| {
        edit_first_npy_header(&d.join("train-s2/dataset-000000.tar"), |h| {
            let (a, rest) = h.split_once("'descr': '").unwrap();
            let (_, b) = rest.split_once('\'').unwrap();
            format!("{a}'descr': 'é'{b}")
        })
    });
    benv2_task(fx, "npy_empty_descr", |d| {
        edit_first_npy_header(&d.join("train-s2/dataset-000000.tar"), |h| {
            let (a, rest) = h.split_once("'descr': '").unwrap();
            let (_, b) = rest.split_once('\'').unwrap();
            format!("{a}'descr': ''{b}")
        })
    });
}
