//! Peak memory and time of streaming a per-band stack window by window (a measurement, not a
//! test): `cargo run --release -p panopticon-data --example band_stack_memory -- ROWS A.tif
//! B.tif …` reads the whole common grid in windows of ROWS grid rows, as `panopticon embed`
//! does per row of tiles, and prints the grid, the time and the peak RSS (Linux `VmHWM`).
//! `scripts/make_s2_size_bands.py` writes Sentinel-2-sized inputs (10980² at 10 m, 5490² at 20 m).

use std::time::Instant;

use panopticon_data::GeoTiff;
use panopticon_data::resample::{BandSource, BandStack};

fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let rows: usize = args.next().ok_or("usage: ROWS FILE…")?.parse()?;
    let mut sources = Vec::new();
    for path in args {
        sources.push(BandSource::from_geotiff(
            path.clone(),
            GeoTiff::open(&path)?,
        )?);
    }
    let mut stack = BandStack::new(sources, None)?;
    let g = stack.grid;
    let start = Instant::now();
    let mut checksum = 0f64;
    for row0 in (0..g.height).step_by(rows) {
        let win = stack.read_rows(row0, rows.min(g.height - row0))?;
        checksum += win
            .iter()
            .filter(|v| !v.is_nan())
            .map(|&v| f64::from(v))
            .sum::<f64>();
    }
    println!(
        "{} bands on {}×{}: {:.1} s, peak RSS {:.0} MiB (checksum {checksum:.6e})",
        stack.bands(),
        g.width,
        g.height,
        start.elapsed().as_secs_f64(),
        peak_rss_mib().unwrap_or(f64::NAN)
    );
    Ok(())
}
