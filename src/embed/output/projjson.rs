//! PROJJSON of EPSG CRSs without PROJ at run time: every projected, geographic 2D and
//! geographic 3D CRS of the EPSG registry in PROJ 9.5.1's proj.db (6550 codes, deprecated ones
//! included), exported by pyproj 3.7.2 less the informational `scope`/`area`/`bbox`/`usages`
//! (`scripts/gen_projjson_fixtures.py`), shipped in the binary as zstd frames of 128 codes
//! (~230 kB for ~10 MB of JSON); a look-up decompresses one frame.

use serde_json::Value;

/// `b"PJJ1" | u32 frames | frames × (u32 first code, u32 offset, u32 length) | zstd frames`,
/// each frame `{code}\t{json}\n` lines in ascending code order.
static TABLE: &[u8] = include_bytes!("projjson_epsg.bin");

fn u32_at(bytes: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?))
}

/// `(first code, byte range)` of each frame.
fn frames() -> Vec<(u32, std::ops::Range<usize>)> {
    if TABLE.get(..4) != Some(b"PJJ1") {
        return Vec::new();
    }
    let n = u32_at(TABLE, 4).unwrap_or(0) as usize;
    (0..n)
        .map_while(|i| {
            let at = 8 + 12 * i;
            let (first, offset, len) = (
                u32_at(TABLE, at)?,
                u32_at(TABLE, at + 4)? as usize,
                u32_at(TABLE, at + 8)? as usize,
            );
            Some((first, offset..offset + len))
        })
        .collect()
}

/// The `{code}\t{json}` lines of the frame that would hold `code`.
fn frame_text(code: u32) -> Option<String> {
    let frames = frames();
    let i = frames.partition_point(|(first, _)| *first <= code);
    let (_, range) = frames.get(i.checked_sub(1)?)?;
    let raw = zstd::stream::decode_all(TABLE.get(range.clone())?).ok()?;
    String::from_utf8(raw).ok()
}

/// The PROJJSON of EPSG `code`, or `None` for codes outside the table (compound, vertical,
/// geocentric and engineering CRSs, and codes PROJ 9.5.1 does not know).
pub fn projjson(code: u32) -> Option<Value> {
    let text = frame_text(code)?;
    let prefix = format!("{code}\t");
    let line = text.lines().find_map(|l| l.strip_prefix(prefix.as_str()))?;
    serde_json::from_str(line).ok()
}

/// Every code of the table with its JSON text (tests and diagnostics).
pub fn projjson_codes() -> Vec<(u32, String)> {
    let mut out = Vec::new();
    for (first, _) in frames() {
        for line in frame_text(first).unwrap_or_default().lines() {
            if let Some((code, json)) = line.split_once('\t')
                && let Ok(code) = code.parse()
            {
                out.push((code, json.to_string()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// pyproj's PROJJSON (scripts/gen_projjson_fixtures.py) for codes of every family.
    #[test]
    fn equals_proj_for_the_fixture_codes() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/projjson");
        let mut n = 0;
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let code: u32 = path.file_stem().unwrap().to_str().unwrap().parse().unwrap();
            let want: Value =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            assert_eq!(projjson(code), Some(want), "EPSG:{code}");
            n += 1;
        }
        assert!(n >= 30, "{n} fixtures");
        // Compound (WGS 84 + EGM96 height), vertical, geocentric, unassigned.
        for code in [9705, 5773, 4978, 1, 99999, u32::MAX] {
            assert!(projjson(code).is_none(), "EPSG:{code}");
        }
    }

    /// Every entry parses, names its own code, and is a projected or geographic CRS.
    #[test]
    fn every_code_round_trips_to_json() {
        let all = projjson_codes();
        assert_eq!(all.len(), 6550);
        assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "codes ascend");
        for (code, text) in &all {
            let v: Value = serde_json::from_str(text).unwrap();
            assert_eq!(v["id"]["authority"], "EPSG", "{code}");
            assert_eq!(v["id"]["code"], *code, "{code}");
            assert!(
                ["ProjectedCRS", "GeographicCRS"].contains(&v["type"].as_str().unwrap()),
                "{code}: {}",
                v["type"]
            );
            assert!(v.get("usages").is_none() && v.get("bbox").is_none());
        }
    }
}
