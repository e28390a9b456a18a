//! `panopticon sensors [NAME]`: the sensor registry, as a summary or one sensor's band table.

use clap::Args;
use panopticon::data::{Band, ChannelId, Sensor, SensorRegistry};

/// Arguments of `panopticon sensors`.
#[derive(Args, Debug)]
pub struct SensorsArgs {
    /// A sensor name or alias: print its band table (band, common name, centre wavelength,
    /// resolution, channel id).
    name: Option<String>,
}

pub fn run(args: SensorsArgs) -> anyhow::Result<()> {
    let registry = SensorRegistry::builtin()?;
    match args.name {
        Some(name) => print!("{}", band_table(registry.sensor(&name)?)),
        None => {
            for s in registry.sensors() {
                println!("{}", summary_line(s));
            }
            println!(
                "\n`panopticon sensors NAME` lists a sensor's bands; `embed --sensor NAME --bands \
                 B04,B03` or common names (red,nir08) pick them."
            );
        }
    }
    Ok(())
}

/// `name  description  bands` on one line: keys for short tables, a wavelength range for
/// hyperspectral ones ("224 bands, 420–2450 nm").
fn summary_line(s: &Sensor) -> String {
    let aliases = if s.aliases.is_empty() {
        String::new()
    } else {
        format!(" (alias {})", s.aliases.join(", "))
    };
    format!(
        "{:<15} {}{aliases}\n                {}",
        s.name,
        s.description,
        band_summary(s)
    )
}

fn band_summary(s: &Sensor) -> String {
    const LIST_UP_TO: usize = 16;
    let n = s.bands.len();
    let wl: Vec<f64> = s.bands.iter().filter_map(Band::wavelength_nm).collect();
    let sar = n - wl.len();
    if n <= LIST_UP_TO {
        let keys: Vec<&str> = s.band_keys().collect();
        return format!("{n} bands: {}", keys.join(","));
    }
    let mut parts = Vec::new();
    if !wl.is_empty() {
        let lo = wl.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = wl.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        parts.push(format!("{} bands, {:.0}–{:.0} nm", wl.len(), lo, hi));
    }
    if sar > 0 {
        parts.push(format!("{sar} SAR channels"));
    }
    parts.join(", ")
}

/// One row per band: key, common name, name, centre wavelength or SAR channel, GSD, chn_id.
fn band_table(s: &Sensor) -> String {
    let mut rows = vec![[
        "band".to_string(),
        "common name".into(),
        "name".into(),
        "centre".into(),
        "resolution".into(),
        "chn_id".into(),
    ]];
    for b in &s.bands {
        let centre = match b.channel_id {
            ChannelId::Optical { wavelength_nm } => format!("{wavelength_nm:.1} nm"),
            ChannelId::Sar {
                polarisation,
                orbit,
            } => format!("SAR {} ({} orbit)", polarisation.as_str(), orbit.as_str()),
        };
        rows.push([
            b.key.clone(),
            b.common_name.clone().unwrap_or_else(|| "-".into()),
            b.name.clone().unwrap_or_else(|| "-".into()),
            centre,
            s.gsd_of(b).map_or("-".into(), |g| format!("{g} m")),
            b.chn_id().to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..6)
        .map(|c| rows.iter().map(|r| r[c].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = format!("{} — {}\n", s.name, s.description);
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}
