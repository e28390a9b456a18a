//! The GeoTIFF writer round-trips through the reader (itself checked against GDAL): samples,
//! band count, geotransform (north-up and rotated), EPSG, nodata; float16 files read back as
//! float32; bad calls are refused without leaving a file.

use panopticon_data::{
    GeoTiff, RasterData, WriteError, read_geotiff, write_geotiff_f16, write_geotiff_f32,
};

#[test]
fn round_trip_many_bands_with_georeferencing() {
    let dir = tempfile::tempdir().unwrap();
    let (c, h, w) = (37, 5, 7);
    let data: Vec<f32> = (0..c * h * w).map(|i| (i as f32).sin() * 1e3).collect();
    for (gt, epsg) in [
        (
            Some([500000.0, 140.0, 0.0, 4649776.0, 0.0, -140.0]),
            Some(32633),
        ),
        (Some([10.0, 0.01, 0.002, 50.0, 0.001, -0.01]), Some(4326)),
        (None, None),
    ] {
        let path = dir.path().join("map.tif");
        write_geotiff_f32(&path, c, h, w, &data, gt, epsg, Some(-9999.0)).unwrap();
        let r = read_geotiff(&path).unwrap();
        assert_eq!((r.bands, r.height, r.width), (c, h, w));
        assert_eq!(r.to_f32(), data);
        assert_eq!(r.geotransform, gt);
        assert_eq!(r.epsg, epsg);
        assert_eq!(r.nodata, Some(-9999.0));
    }
}

/// `embed --dtype f16 -o x.tif` writes 16-bit IEEE floats: they read back as the exact f32
/// values (infinities, NaN and subnormals included), whole or by window, and the header counts
/// 4 bytes per decoded sample.
#[test]
fn float16_reads_back_as_float32() {
    let dir = tempfile::tempdir().unwrap();
    let (c, h, w) = (3, 6, 11);
    let special = [
        0x0000u16, 0x8000, 0x0001, 0x03ff, 0x3c00, 0xfbff, 0x7c00, 0xfc00, 0x7e00,
    ];
    let bits: Vec<u16> = (0..c * h * w)
        .map(|i| {
            special
                .get(i)
                .copied()
                .unwrap_or((i as u16).wrapping_mul(40503) & 0x7bff)
        })
        .collect();
    let want: Vec<u32> = bits
        .iter()
        .map(|&b| half::f16::from_bits(b).to_f32().to_bits())
        .collect();
    let path = dir.path().join("half.tif");
    let gt = [500000.0, 140.0, 0.0, 4649776.0, 0.0, -140.0];
    write_geotiff_f16(&path, c, h, w, &bits, Some(gt), Some(3035), None).unwrap();
    let r = read_geotiff(&path).unwrap();
    assert_eq!((r.bands, r.height, r.width, r.epsg), (c, h, w, Some(3035)));
    let RasterData::F32(got) = &r.data else {
        panic!("float16 should read as f32, got {:?}", r.data.dtype());
    };
    assert_eq!(got.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), want);

    let mut tif = GeoTiff::open(&path).unwrap();
    assert_eq!(tif.image_header().sample_bytes, 4);
    let win = tif.read_f32(2, 3, 3, 5).unwrap();
    for b in 0..c {
        for y in 0..3 {
            for x in 0..5 {
                let (got, want) = (win[(b * 3 + y) * 5 + x], want[(b * h + y + 2) * w + x + 3]);
                assert_eq!(got.to_bits(), want, "band {b}, row {y}, col {x}");
            }
        }
    }
}

#[test]
fn bad_calls_leave_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("x.tif");
    let err = write_geotiff_f32(&path, 2, 3, 3, &[0.0; 17], None, None, None).unwrap_err();
    assert!(matches!(err, WriteError::Invalid { .. }), "{err}");
    let missing = dir.path().join("no/such/dir/x.tif");
    let err = write_geotiff_f32(&missing, 1, 1, 1, &[0.0], None, None, None).unwrap_err();
    assert!(matches!(err, WriteError::Io { .. }), "{err}");
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none());
}
