//! Rows of `info`, `bench`, `weights` and `eval`.

use super::Row;
use super::args::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        // info
        (
            "info bpk embed_dim 3e9",
            "info {fx}/crafted_dim.bpk",
            "embed_dim 3000000000 is out of range",
        ),
        (
            "info bpk mlp_ratio 1e300",
            "info {fx}/crafted_mlp.bpk",
            "mlp_ratio 1e300",
        ),
        (
            "info bpk bad JSON",
            "info {fx}/crafted_json.bpk",
            "bad recorded config",
        ),
        (
            "info bpk garbage",
            "info {fx}/garbage.bpk",
            "not a readable burnpack",
        ),
        (
            "info no such name",
            "info no-such-weights",
            "neither a file nor a registry name",
        ),
        (
            "info NaN weights",
            "info {fx}/w_nan.safetensors --config tiny-test",
            "NaN/infinite",
        ),
        (
            "info bad config",
            "info {tiny}/weights.pth --config {fx}/cfg_dim.json",
            "embed_dim",
        ),
        (
            "info truncated pth",
            "info {fx}/trunc.pth --config tiny-test",
            "not a readable checkpoint",
        ),
        // bench
        ("bench --batch 0", bench("--batch 0"), "--batch 0"),
        ("bench --channels 0", bench("--channels 0"), "--channels 0"),
        ("bench --size 0", bench("--size 0"), "--size 0"),
        (
            "bench --reps 0",
            "bench --config tiny-test --reps 0",
            "--reps 0",
        ),
        (
            "bench --max-tokens 0",
            bench("--max-tokens 0"),
            "--max-tokens 0",
        ),
        ("bench --size 3", bench("--size 3"), "patch size is 8"),
        (
            "bench input over 16 GiB",
            bench("--size 100000 --channels 2"),
            "exceed 16 GiB",
        ),
        (
            "bench 20000² image",
            bench("--size 20000 --channels 1"),
            "tokens per forward",
        ),
        (
            "bench --max-tokens 10",
            bench("--size 32 --max-tokens 10"),
            "over the cap of 10",
        ),
        (
            "bench NaN weights",
            bench("--weights {fx}/w_nan.safetensors"),
            "NaN/infinite",
        ),
        (
            "bench bad config",
            "bench --config {fx}/cfg_depth0.json",
            "depth 0",
        ),
        ("bench device bogus", bench("--device tpu"), "tpu"),
        // weights
        (
            "convert src missing",
            "weights convert --src {fx}/nope.pth --preset tiny-test --out {out}/w.bpk",
            "no such file",
        ),
        (
            "convert out is a dir",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --out {out}",
            "is a directory",
        ),
        (
            "convert kind bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --kind zip --out {out}/w.bpk",
            "--kind zip",
        ),
        (
            "convert part bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --part both --out {out}/w.bpk",
            "--part both",
        ),
        (
            "convert precision bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --precision f64 --out {out}/w.bpk",
            "--precision f64",
        ),
        (
            "convert NaN weights",
            "weights convert --src {fx}/w_nan.safetensors --preset tiny-test --out {out}/w.bpk",
            "NaN/infinite",
        ),
        (
            "convert garbage",
            "weights convert --src {fx}/garbage.bin --preset tiny-test --out {out}/w.bpk",
            "unknown file signature",
        ),
        (
            "convert bad preset",
            "weights convert --src {tiny}/weights.pth --preset {fx}/cfg_heads.json --out {out}/w.bpk",
            "num_heads 5",
        ),
        (
            "convert device bogus",
            "weights convert --src {tiny}/weights.pth --preset tiny-test --device tpu --out {out}/w.bpk",
            "tpu",
        ),
        (
            "registry name ..",
            "weights --registry {fx}/reg_dotdot.toml list",
            "name `../../evil`",
        ),
        (
            "registry name a/b",
            "weights --registry {fx}/reg_slash.toml list",
            "name `a/b`",
        ),
        (
            "registry hf file ..",
            "weights --registry {fx}/reg_hf_file.toml list",
            "file `../../w.pth`",
        ),
        (
            "registry hf repo ..",
            "weights --registry {fx}/reg_hf_repo.toml list",
            "hf_repo `../b`",
        ),
        (
            "registry file:// url",
            "weights --registry {fx}/reg_scheme.toml list",
            "must be http(s)",
        ),
        (
            "registry bad sha256",
            "weights --registry {fx}/reg_sha.toml list",
            "sha256 must be 64 hex digits",
        ),
        (
            "registry bad TOML",
            "weights --registry {fx}/reg_bad.toml list",
            "reg_bad.toml",
        ),
        (
            "registry missing",
            "weights --registry {fx}/nope.toml list",
            "nope.toml",
        ),
        (
            "fetch unknown",
            "weights fetch no-such-weights",
            "unknown weights `no-such-weights`",
        ),
        ("fetch offline", "weights fetch dinov2-vits14", "offline"),
        (
            "verify unknown",
            "weights verify no-such-weights",
            "unknown weights",
        ),
        // eval
        (
            "eval device first",
            "eval --model {tiny}/weights.pth --tasks {fx}/nope --device tpu --out {out}/res",
            "tpu",
        ),
        (
            "eval tasks missing",
            eval("{fx}/nope"),
            "no such task config",
        ),
        ("eval tasks bad TOML", eval("{fx}/tasks_bad_toml"), "t.toml"),
        (
            "eval out is a file",
            "eval --model {tiny}/weights.pth --config tiny-test --tasks {fx}/tasks_empty --out {fx}/a_file",
            "is a file",
        ),
        (
            "eval datasets before model",
            "eval --model {fx}/nope.pth --config tiny-test --tasks {fx}/yaml_classes-task --out {out}/res",
            "num_classes is 5",
        ),
        (
            "eval yaml list",
            eval("{fx}/yaml_list-task"),
            "lists and anchors",
        ),
        (
            "eval yaml classes",
            eval("{fx}/yaml_classes-task"),
            "num_classes is 5",
        ),
        (
            "eval yaml count overflow",
            eval("{fx}/yaml_count-task"),
            "nsamples_per_shard",
        ),
        (
            "eval tar size past end",
            eval("{fx}/tar_size-task"),
            "past the end of the shard",
        ),
        (
            "eval tar garbage",
            eval("{fx}/tar_garbage-task"),
            "dataset-000000.tar",
        ),
        (
            "eval npy shape overflow",
            eval("{fx}/npy_shape-task"),
            "truncated",
        ),
        (
            "eval npy non-ASCII dtype",
            eval("{fx}/npy_descr-task"),
            "unsupported .npy dtype",
        ),
        (
            "eval npy empty dtype",
            eval("{fx}/npy_empty_descr-task"),
            "unsupported .npy dtype",
        ),
    ]
}
