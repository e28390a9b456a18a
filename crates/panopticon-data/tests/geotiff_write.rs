//! The GeoTIFF writer round-trips through the reader (itself checked against GDAL): samples,
//! band count, geotransform (north-up and rotated), EPSG, nodata; bad calls are refused
//! without leaving a file.

use panopticon_data::{WriteError, read_geotiff, write_geotiff_f32};

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
