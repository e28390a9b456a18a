//! Rows of `forward`: the budget, the input file, arguments, weights and configs.

use super::Row;
use super::args::*;

pub(super) fn rows() -> Vec<Row> {
    vec![
        // forward: the budget
        (
            "fwd --max-pixels below the image",
            fwd("--input {fx}/ok.safetensors --max-pixels 100"),
            "raise --max-pixels",
        ),
        (
            "fwd --max-memory below the file",
            fwd("--input {fx}/ok.safetensors --max-memory 1K"),
            "raise --max-memory",
        ),
        (
            "fwd --max-memory 0",
            fwd("--input {fx}/ok.safetensors --max-memory 0"),
            "--max-memory 0",
        ),
        // forward: the input file
        (
            "fwd input missing",
            fwd("--input {fx}/nope.safetensors"),
            "nope.safetensors",
        ),
        (
            "fwd input garbage",
            fwd("--input {fx}/garbage.bin"),
            "not a valid safetensors",
        ),
        (
            "fwd input empty",
            fwd("--input {fx}/empty.bin"),
            "not a valid safetensors",
        ),
        (
            "fwd input 2^62 header",
            fwd("--input {fx}/huge_header.safetensors"),
            "not a valid safetensors",
        ),
        (
            "fwd input lying offsets",
            fwd("--input {fx}/lying.safetensors"),
            "not a valid safetensors",
        ),
        (
            "fwd no imgs",
            fwd("--input {fx}/no_imgs.safetensors"),
            "no `input.imgs`",
        ),
        (
            "fwd no chn_ids",
            fwd("--input {fx}/no_ids.safetensors"),
            "no `input.chn_ids`",
        ),
        (
            "fwd imgs rank 3",
            fwd("--input {fx}/rank3.safetensors"),
            "rank 4",
        ),
        (
            "fwd imgs int",
            fwd("--input {fx}/int_imgs.safetensors"),
            "float tensor",
        ),
        (
            "fwd B=0",
            fwd("--input {fx}/b0.safetensors"),
            "batch is empty",
        ),
        ("fwd C=0", fwd("--input {fx}/c0.safetensors"), "no channels"),
        (
            "fwd NaN pixel",
            fwd("--input {fx}/nan.safetensors"),
            "NaN or infinite pixels in channel 0",
        ),
        (
            "fwd -inf pixel",
            fwd("--input {fx}/inf.safetensors"),
            "NaN or infinite pixels in channel 1",
        ),
        (
            "fwd 3e38 pixels",
            fwd("--input {fx}/huge.safetensors"),
            "beyond the ±1e8",
        ),
        (
            "fwd one -2e9 pixel",
            fwd("--input {fx}/huge_one.safetensors"),
            "pixel of 2e9 in channel 2",
        ),
        (
            "fwd chn_ids too short",
            fwd("--input {fx}/ids_short.safetensors"),
            "chn_ids has shape [1, 2]",
        ),
        (
            "fwd chn_ids rank 1",
            fwd("--input {fx}/ids_rank1.safetensors"),
            "chn_ids has rank 1",
        ),
        (
            "fwd SAR id -13",
            fwd("--input {fx}/sar_bad.safetensors"),
            "invalid SAR channel id -13",
        ),
        (
            "fwd SAR id -1.5",
            fwd("--input {fx}/sar_frac.safetensors"),
            "invalid SAR channel id -1.5",
        ),
        (
            "fwd NaN id",
            fwd("--input {fx}/ids_nan.safetensors"),
            "expected a finite number",
        ),
        (
            "fwd bool ids",
            fwd("--input {fx}/ids_bool.safetensors"),
            "chn_ids has Bool",
        ),
        (
            "fwd image < patch",
            fwd("--input {fx}/small.safetensors"),
            "4x32 pixels but the patch size is 8",
        ),
        (
            "fwd 1200² image",
            fwd("--input {fx}/big.safetensors"),
            "22501 tokens per forward",
        ),
        (
            "fwd --max-tokens 16",
            fwd("--input {fx}/ok.safetensors --max-tokens 16"),
            "over the cap of 16",
        ),
        (
            "fwd --max-tokens 0",
            fwd("--input {fx}/ok.safetensors --max-tokens 0"),
            "--max-tokens 0",
        ),
        (
            "fwd spec_masks 2",
            fwd("--input {fx}/mask_two.safetensors"),
            "spec_masks holds 2 at sample 0, channel 1",
        ),
        (
            "fwd spec_masks bool byte 2",
            fwd("--input {fx}/mask_bool_two.safetensors"),
            "spec_masks holds 2",
        ),
        (
            "fwd spec_masks -1",
            fwd("--input {fx}/mask_neg.safetensors"),
            "spec_masks holds -1",
        ),
        (
            "fwd spec_masks all",
            fwd("--input {fx}/mask_all.safetensors"),
            "every channel of sample 0",
        ),
        (
            "fwd spec_masks shape",
            fwd("--input {fx}/mask_shape.safetensors"),
            "spec_masks has shape [1, 2]",
        ),
        (
            "fwd spec_masks rank 1",
            fwd("--input {fx}/mask_rank1.safetensors"),
            "spec_masks has rank 1",
        ),
        (
            "fwd spec_masks float",
            fwd("--input {fx}/mask_float.safetensors"),
            "0/1 integer",
        ),
        (
            "fwd token_masks 3",
            fwd("--input {fx}/tmask_two.safetensors"),
            "input.token_masks holds 3",
        ),
        (
            "fwd token_masks shape",
            fwd("--input {fx}/tmask_shape.safetensors"),
            "masks has shape [1, 5]",
        ),
        (
            "fwd token_masks rank 3",
            fwd("--input {fx}/tmask_rank3.safetensors"),
            "must have rank 2",
        ),
        (
            "fwd token_masks float",
            fwd("--input {fx}/tmask_float.safetensors"),
            "must be bool",
        ),
        // forward: arguments
        (
            "fwd output is a dir",
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}",
            "is a directory",
        ),
        (
            "fwd output dir missing",
            "forward --config tiny-test --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/no/o.safetensors",
            "does not exist",
        ),
        (
            "fwd layers 99",
            fwd("--input {fx}/ok.safetensors --layers 99"),
            "block 99 does not exist",
        ),
        (
            "fwd layers dup",
            fwd("--input {fx}/ok.safetensors --layers 1,1"),
            "duplicate block index",
        ),
        (
            "fwd device bogus",
            fwd("--input {fx}/ok.safetensors --device tpu"),
            "tpu",
        ),
        (
            "fwd part student",
            fwd("--input {fx}/ok.safetensors --part student"),
            "no backbone found",
        ),
        (
            "fwd config unknown",
            "forward --config vit_zz --weights {tiny}/weights.pth --input {fx}/ok.safetensors --output {out}/o.safetensors",
            "unknown config `vit_zz`",
        ),
        // forward: weights
        (
            "fwd weights missing",
            fwd_w("{fx}/nope.pth"),
            "cannot open weights file",
        ),
        (
            "fwd weights empty",
            fwd_w("{fx}/empty.bin"),
            "empty or truncated",
        ),
        (
            "fwd weights garbage",
            fwd_w("{fx}/garbage.bin"),
            "unknown file signature",
        ),
        (
            "fwd weights truncated pth",
            fwd_w("{fx}/trunc.pth"),
            "not a readable checkpoint",
        ),
        (
            "fwd weights 64-byte pth",
            fwd_w("{fx}/head.pth"),
            "not a readable checkpoint",
        ),
        (
            "fwd weights NaN",
            fwd_w("{fx}/w_nan.safetensors"),
            "blocks.0.attn.qkv.weight in",
        ),
        (
            "fwd weights inf",
            fwd_w("{fx}/w_inf.safetensors"),
            "tensor norm.weight in",
        ),
        (
            "fwd weights NaN in PE",
            fwd_w("{fx}/w_nan_pe.safetensors"),
            "patch_embed.chnfus.query",
        ),
        (
            "fwd weights wrong shape",
            fwd_w("{fx}/w_shape.safetensors"),
            "tensor norm.bias in",
        ),
        (
            "fwd weights no cls_token",
            fwd_w("{fx}/w_missing.safetensors"),
            "no backbone found",
        ),
        (
            "fwd weights no norm",
            fwd_w("{fx}/w_missing_norm.safetensors"),
            "norm.weight",
        ),
        (
            "fwd weights int tensor",
            fwd_w("{fx}/w_int.safetensors"),
            "norm.bias",
        ),
        (
            "fwd weights are a bpk of garbage",
            fwd_w("{fx}/garbage.bpk"),
            "garbage.bpk",
        ),
        // forward: configs
        (
            "cfg embed_dim 3e9",
            fwd_cfg("cfg_dim.json"),
            "embed_dim 3000000000 is out of range",
        ),
        (
            "cfg depth 0",
            fwd_cfg("cfg_depth0.json"),
            "depth 0 is out of range",
        ),
        (
            "cfg depth 1e9",
            fwd_cfg("cfg_depth_huge.json"),
            "depth 1000000000 is out of range",
        ),
        (
            "cfg heads 5",
            fwd_cfg("cfg_heads.json"),
            "not divisible by num_heads 5",
        ),
        (
            "cfg heads 0",
            fwd_cfg("cfg_heads0.json"),
            "num_heads 0 is out of range",
        ),
        (
            "cfg mlp_ratio 1e300",
            fwd_cfg("cfg_mlp.json"),
            "mlp_ratio 1e300",
        ),
        (
            "cfg mlp_ratio -4",
            fwd_cfg("cfg_mlp_neg.json"),
            "mlp_ratio -4",
        ),
        (
            "cfg img_size 1e9",
            fwd_cfg("cfg_img.json"),
            "img_size 1000000000 is out of range",
        ),
        (
            "cfg patch_size 0",
            fwd_cfg("cfg_patch0.json"),
            "patch_size 0 is out of range",
        ),
        (
            "cfg patch_size 1e5",
            fwd_cfg("cfg_patch_big.json"),
            "patch_size 100000 is out of range",
        ),
        ("cfg eps -1", fwd_cfg("cfg_eps.json"), "layer_norm_eps -1"),
        (
            "cfg registers 1e6",
            fwd_cfg("cfg_regs.json"),
            "num_register_tokens 1000000",
        ),
        (
            "cfg drop_path 1.5",
            fwd_cfg("cfg_drop.json"),
            "drop_path_rate 1.5",
        ),
        (
            "cfg init_values 1e300",
            fwd_cfg("cfg_init.json"),
            "init_values 1e300",
        ),
        (
            "cfg interpolate_offset 7",
            fwd_cfg("cfg_offset.json"),
            "interpolate_offset 7",
        ),
        (
            "cfg attn_dim 3e9",
            fwd_cfg("cfg_attn.json"),
            "patch_embed.attn_dim 3000000000",
        ),
        (
            "cfg attn_dim odd",
            fwd_cfg("cfg_attn_odd.json"),
            "attn_dim 45",
        ),
        (
            "cfg pe heads 0",
            fwd_cfg("cfg_pe_heads.json"),
            "patch_embed.num_heads 0",
        ),
        (
            "cfg opt_coarsity 0",
            fwd_cfg("cfg_coarsity.json"),
            "patch_embed.opt_coarsity 0",
        ),
        (
            "cfg too many parameters",
            fwd_cfg("cfg_params.json"),
            "parameters",
        ),
        (
            "cfg truncated JSON",
            fwd_cfg("cfg_bad.json"),
            "cannot read config",
        ),
    ]
}
