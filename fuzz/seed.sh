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
# Predictor 3 and any extra fixtures a later generator adds.
for f in "$fx"/geotiff/predictor3_*.tif; do
    [ -e "$f" ] && cp "$f" "$here/corpus/geotiff/"
done
echo "seeded: $(for t in "$here"/corpus/*; do printf '%s=%s ' "$(basename "$t")" "$(ls "$t" | wc -l)"; done)"
