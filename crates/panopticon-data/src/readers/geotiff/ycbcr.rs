//! YCbCr → RGB for JPEG-compressed TIFFs written with `PHOTOMETRIC=YCBCR` (GDAL's default for
//! RGB JPEG). `tiff` hands back the JPEG's YCbCr samples (chroma already upsampled); GDAL returns
//! RGB, converted by libjpeg, so the same fixed-point arithmetic is used here (jdcolor.c:
//! 16 fractional bits, round half up, clamp to 0..=255).

const SCALE_BITS: i32 = 16;
const ONE_HALF: i32 = 1 << (SCALE_BITS - 1);

const fn fix(x: f64) -> i32 {
    (x * (1 << SCALE_BITS) as f64 + 0.5) as i32
}

/// Converts `[3, n]` band-major YCbCr samples to RGB in place.
pub(crate) fn ycbcr_to_rgb(planes: &mut [u8]) {
    let n = planes.len() / 3;
    let (y, rest) = planes.split_at_mut(n);
    let (cb, cr) = rest.split_at_mut(n);
    for i in 0..n {
        let (yy, b, r) = (
            i32::from(y[i]),
            i32::from(cb[i]) - 128,
            i32::from(cr[i]) - 128,
        );
        let red = yy + ((fix(1.40200) * r + ONE_HALF) >> SCALE_BITS);
        let green = yy + ((-fix(0.34414) * b - fix(0.71414) * r + ONE_HALF) >> SCALE_BITS);
        let blue = yy + ((fix(1.77200) * b + ONE_HALF) >> SCALE_BITS);
        y[i] = red.clamp(0, 255) as u8;
        cb[i] = green.clamp(0, 255) as u8;
        cr[i] = blue.clamp(0, 255) as u8;
    }
}

#[cfg(test)]
mod tests {
    use super::ycbcr_to_rgb;

    #[test]
    fn matches_libjpeg_on_known_values() {
        // Grey stays grey; pure colours as libjpeg's tables give them.
        let mut px = [128, 0, 255, 128, 128, 128, 128, 128, 128];
        ycbcr_to_rgb(&mut px);
        assert_eq!(px, [128, 0, 255, 128, 0, 255, 128, 0, 255]);
        let mut red = [76, 85, 255];
        ycbcr_to_rgb(&mut red);
        assert_eq!(red, [254, 0, 0]);
    }
}
