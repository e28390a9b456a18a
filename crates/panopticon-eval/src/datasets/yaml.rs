//! The YAML subset of webdataset `dataset.yaml` files: a top-level mapping of scalars and of
//! one-level nested mappings, in block style (`key:` then indented `k: v` lines) or flow
//! style (`key: {k: v, ...}`), with `#` comments and optional quotes. Anything else (lists,
//! anchors, multi-line scalars, deeper nesting) is refused with the line number.

use std::collections::BTreeMap;

/// A value of the subset.
#[derive(Debug, Clone, PartialEq)]
pub enum YamlValue {
    /// A scalar, unquoted.
    Scalar(String),
    /// A nested mapping of scalars, in file order.
    Map(Vec<(String, String)>),
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    for q in ['\'', '"'] {
        if s.len() >= 2 && s.starts_with(q) && s.ends_with(q) {
            return s[1..s.len() - 1].to_string();
        }
    }
    s.to_string()
}

fn strip_comment(line: &str) -> &str {
    // A `#` starts a comment at the line start or after whitespace (YAML's rule).
    let b = line.as_bytes();
    for i in 0..b.len() {
        if b[i] == b'#' && (i == 0 || b[i - 1] == b' ' || b[i - 1] == b'\t') {
            return &line[..i];
        }
    }
    line
}

fn split_kv(line: &str, n: usize) -> Result<(String, &str), String> {
    // Keys may be quoted and contain dots (`dataset-000000.tar`), never `: `.
    let pos = line
        .find(": ")
        .or_else(|| line.trim_end().strip_suffix(':').map(|k| k.len()))
        .ok_or_else(|| format!("line {n}: expected `key: value`, got `{}`", line.trim()))?;
    let value = line.get(pos + 1..).unwrap_or("").trim();
    Ok((unquote(&line[..pos]), value))
}

fn flow_map(text: &str, n: usize) -> Result<Vec<(String, String)>, String> {
    let inner = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .ok_or_else(|| format!("line {n}: unterminated flow mapping `{text}`"))?;
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|kv| {
            let (k, v) = kv
                .split_once(':')
                .ok_or_else(|| format!("line {n}: expected `key: value` in `{text}`"))?;
            Ok((unquote(k), unquote(v)))
        })
        .collect()
}

/// Parses the subset; errors name the line.
pub fn parse_yaml(text: &str) -> Result<BTreeMap<String, YamlValue>, String> {
    let mut out = BTreeMap::new();
    let mut open: Option<(String, Vec<(String, String)>)> = None;
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        let line = strip_comment(raw).trim_end();
        if line.trim().is_empty() || line.trim() == "---" {
            continue;
        }
        let indented = line.starts_with(' ') || line.starts_with('\t');
        let body = line.trim_start();
        if body.starts_with('-') || body.starts_with('&') || body.starts_with('*') {
            return Err(format!(
                "line {n}: lists and anchors are not supported in dataset.yaml"
            ));
        }
        if indented {
            let Some((_, entries)) = open.as_mut() else {
                return Err(format!("line {n}: indented line outside a mapping"));
            };
            let (k, v) = split_kv(body, n)?;
            if v.is_empty() {
                return Err(format!("line {n}: nesting deeper than one level"));
            }
            entries.push((k, unquote(v)));
            continue;
        }
        if let Some((k, entries)) = open.take() {
            out.insert(k, YamlValue::Map(entries));
        }
        let (k, v) = split_kv(body, n)?;
        if v.is_empty() {
            open = Some((k, Vec::new()));
        } else if v.starts_with('{') {
            out.insert(k, YamlValue::Map(flow_map(v, n)?));
        } else if v.starts_with('[') || v.starts_with('|') || v.starts_with('>') {
            return Err(format!("line {n}: `{v}` values are not supported"));
        } else {
            out.insert(k, YamlValue::Scalar(unquote(v)));
        }
    }
    if let Some((k, entries)) = open {
        out.insert(k, YamlValue::Map(entries));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn block_and_flow_mappings() {
        let y = parse_yaml(
            "# written by make_wds\nnsamples_per_shard:\n  dataset-000000.tar: 4\n  \
             'dataset-000001.tar': 3\nnum_classes: 19\nsensor: s2 # optical\n",
        )
        .unwrap();
        assert_eq!(y["sensor"], YamlValue::Scalar("s2".into()));
        assert_eq!(y["num_classes"], YamlValue::Scalar("19".into()));
        assert_eq!(
            y["nsamples_per_shard"],
            YamlValue::Map(vec![
                ("dataset-000000.tar".into(), "4".into()),
                ("dataset-000001.tar".into(), "3".into())
            ])
        );
        let f = parse_yaml("nsamples_per_shard: {a.tar: 1, b.tar: 2}\nsensor: 's1s2'").unwrap();
        assert_eq!(
            f["nsamples_per_shard"],
            YamlValue::Map(vec![
                ("a.tar".into(), "1".into()),
                ("b.tar".into(), "2".into())
            ])
        );
        assert_eq!(f["sensor"], YamlValue::Scalar("s1s2".into()));
    }

    #[test]
    fn unsupported_constructs_name_the_line() {
        let e = parse_yaml("a: 1\nb:\n  - x\n").unwrap_err();
        assert!(e.starts_with("line 3"), "{e}");
        let e = parse_yaml("a:\n  b:\n    c: 1\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("deeper"), "{e}");
        assert!(parse_yaml("just text\n").unwrap_err().contains("line 1"));
    }
}
