//! Asset hrefs relative to the item they are listed in.

use std::path::{Component, Path, PathBuf};

/// Whether `s` starts with a URL scheme (`https://`, `s3://`, `file://`); a Windows drive
/// letter (`C:\`) is not one.
fn has_scheme(s: &str) -> bool {
    match s.split_once("://") {
        Some((scheme, _)) => {
            scheme.len() > 1
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        }
        None => false,
    }
}

/// `href` as written in an item read from `base` (a file path or URL): absolute hrefs as they
/// are, relative ones joined to the item's directory (URL join rules for URL bases).
///
/// ```
/// use panopticon_data::stac::resolve_href;
/// assert_eq!(resolve_href("cat/items/a.json", "./B04.tif").unwrap(), "cat/items/B04.tif");
/// assert_eq!(
///     resolve_href("https://x.org/c/items/a.json", "../B04.tif").unwrap(),
///     "https://x.org/c/B04.tif"
/// );
/// ```
pub fn resolve_href(base: &str, href: &str) -> Result<String, String> {
    if href.trim().is_empty() {
        return Err("its href is empty".into());
    }
    if has_scheme(href) {
        return Ok(href.to_string());
    }
    if has_scheme(base) {
        let base = url::Url::parse(base).map_err(|e| format!("item location `{base}`: {e}"))?;
        return base
            .join(href)
            .map(String::from)
            .map_err(|e| format!("href `{href}` does not resolve against `{base}`: {e}"));
    }
    let href_path = Path::new(href);
    if href_path.is_absolute() {
        return Ok(href.to_string());
    }
    let dir = Path::new(base).parent().unwrap_or(Path::new(""));
    let mut out = PathBuf::new();
    for c in dir.join(href_path).components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir
                if matches!(out.components().next_back(), Some(Component::Normal(_))) =>
            {
                out.pop();
            }
            other => out.push(other),
        }
    }
    Ok(out.to_string_lossy().into_owned())
}
