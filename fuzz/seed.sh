#!/usr/bin/env bash
# Seeds fuzz/corpus/<target>/ with small files from the committed test fixtures (the corpus
# itself is not committed). Run from anywhere; existing corpus entries are kept.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
fx="$here/../tests/fixtures/data"
seed() { # target, files...
    local target="$1"
    shift
    mkdir -p "$here/corpus/$target"
    for f in "$@"; do
        cp "$fx/$f" "$here/corpus/$target/$(echo "$f" | tr '/' '_')"
    done
}
seed geotiff \
    geotiff/u8_strip_none_pixel.tif geotiff/u8_tile_lzw_band.tif \
    geotiff/u16_strip_deflate_band.tif geotiff/i16_tile_deflate_pixel.tif \
    geotiff/predictor2_u16_lzw.tif geotiff/predictor2_i16_deflate_tile.tif \
    geotiff/packbits_u8_strip_pixel.tif geotiff/miniswhite_u8.tif \
    geotiff/bigtiff_u16_tile_deflate_band.tif geotiff/bigendian_u16_tile_lzw_band.tif \
    geotiff/cog_f32_deflate.tif geotiff/f32_tile_lzw_pixel.tif \
    geotiff/rotated_transform_u16.tif geotiff/pixel_is_point_u16.tif \
    geotiff/geographic_epsg4326_u8.tif geotiff/no_georef_u8.tif \
    geotiff/one_band_u16_tile_lzw.tif
seed png png/gray_u8.png png/gray_u16.png png/rgb_u8.png png/rgba_u8.png png/palette.png
seed jpeg jpeg/gray.jpg jpeg/rgb.jpg
seed parquet \
    parquet/table_plain_v2.parquet parquet/table_snappy.parquet parquet/table_zstd.parquet \
    parquet/truncated.parquet mmearth/int_index.parquet \
    mmearth/data_tiny_v001/data_tiny_v001.parquet
seed hdf5 \
    hdf5/geobench_sample.hdf5 hdf5/latest.h5 mmearth/data_tiny_v001/data_tiny_v001.h5 \
    mmearth/bad_v001/bad_v001.h5
# Predictor 3 and any extra fixtures a later generator adds; the codec fixtures (ZSTD, JPEG,
# WebP, LERC, internal masks, overviews).
for f in "$fx"/geotiff/predictor3_*.tif "$fx"/tiff_codecs/*.tif; do
    [ -e "$f" ] && cp "$f" "$here/corpus/geotiff/"
done

# Eval, model, config and CLI targets: seeds from anywhere in the fixtures and configs.
root="$here/.."
wds="$root/tests/fixtures/eval/datasets/benv2/wds"
copy() { # target, files...
    local target="$1"
    shift
    mkdir -p "$here/corpus/$target"
    for f in "$@"; do
        cp "$f" "$here/corpus/$target/$(basename "$(dirname "$f")")_$(basename "$f")"
    done
}
mkdir -p "$here/corpus/npy" "$here/corpus/webdataset" "$here/corpus/pickle" "$here/corpus/norm"
# The first image and label members of a Sentinel-1 shard.
for m in $(tar -tf "$wds/validation-s1/dataset-000000.tar" | head -n 2); do
    tar -xOf "$wds/validation-s1/dataset-000000.tar" "$m" >"$here/corpus/npy/$(echo "$m" | cut -d. -f2).npy"
done
# Webdataset inputs: the sample count byte, then the shard.
for d in validation-s1 train-s1; do
    for t in "$wds/$d"/*.tar; do
        n=$(grep -o "$(basename "$t"): [0-9]*" "$wds/$d/dataset.yaml" | grep -o '[0-9]*$')
        { printf "\\$(printf %03o "$n")"; cat "$t"; } >"$here/corpus/webdataset/${d}_$(basename "$t")"
    done
done
# GeoBench attribute-dict pickles (hex in the fixture's JSON).
python3 - "$root/tests/fixtures/eval/datasets/geobench/pickles.json" "$here/corpus/pickle" <<'PY'
import json, pathlib, sys
for i, p in enumerate(json.load(open(sys.argv[1]))):
    pathlib.Path(sys.argv[2], f"geobench_{i}_p{p['protocol']}.pkl").write_bytes(bytes.fromhex(p["hex"]))
PY
copy yaml "$wds"/validation-s1/dataset.yaml "$wds"/train-all/dataset.yaml
copy eval_task "$root"/configs/eval/quick/*.toml "$root"/configs/eval/quick_geobench/*.toml
copy safetensors "$root/tests/fixtures/panopticon-tiny/aux.safetensors" \
    "$root/tests/fixtures/dinov2-tiny/case_b_down.safetensors"
copy pth "$wds/validation-s1/dataset.pt"
copy model_config "$root"/configs/models/*.json
copy stac "$root"/tests/fixtures/data/stac/*.json
copy sensor_toml "$root"/configs/sensors/sentinel1.toml "$root"/configs/sensors/sentinel2_l2a.toml \
    "$root"/configs/sensors/drone.toml
copy norm "$fx"/mmearth/data_tiny_v001/data_tiny_v001_band_stats.json
printf '{"mean": [1200.5, 900, 0.25], "std": [300, 250.5, 0.1]}' >"$here/corpus/norm/three_bands.json"
# The CLI target's inputs are `arbitrary` structures: it starts from an empty corpus.
mkdir -p "$here/corpus/cli"
echo "seeded: $(for t in "$here"/corpus/*; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
