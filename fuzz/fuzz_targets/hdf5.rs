//! HDF5 reader on arbitrary bytes: open, walk the groups (bounded depth and count), and for
//! every dataset read its info, the whole array, its first and last rows and its attributes.
//! Errors are fine; a panic (even one the reader's guard catches), a hang or a huge
//! allocation is a finding.
#![no_main]

#[path = "tmpfile.rs"]
mod tmpfile;

use libfuzzer_sys::fuzz_target;
use panopticon_data::readers::Hdf5File;

/// Read cap, well under libFuzzer's `-rss_limit_mb`.
const MAX_READ_BYTES: usize = 1 << 24;
const MAX_DEPTH: usize = 4;
const MAX_OBJECTS: usize = 64;

fn visit(file: &Hdf5File, group: &str, depth: usize, seen: &mut usize) {
    for attr in file.attr_names(group).unwrap_or_default() {
        let _ = file.attr(group, &attr);
    }
    for name in file.dataset_names(group).unwrap_or_default() {
        *seen += 1;
        if *seen > MAX_OBJECTS {
            return;
        }
        let full = join(group, &name);
        let _ = file.read(&full);
        if let Ok(info) = file.info(&full) {
            if let Some(&rows) = info.shape.first() {
                let _ = file.read_row(&full, 0);
                let _ = file.read_row(&full, rows.saturating_sub(1));
            }
        }
        for attr in file.attr_names(&full).unwrap_or_default() {
            let _ = file.attr(&full, &attr);
        }
    }
    if depth >= MAX_DEPTH {
        return;
    }
    for name in file.group_names(group).unwrap_or_default() {
        *seen += 1;
        if *seen > MAX_OBJECTS {
            return;
        }
        visit(file, &join(group, &name), depth + 1, seen);
    }
}

fn join(group: &str, name: &str) -> String {
    format!("{}/{name}", group.trim_end_matches('/'))
}

fuzz_target!(|data: &[u8]| {
    let path = tmpfile::write(data, "h5");
    if let Ok(file) = Hdf5File::open_with_limit(&path, MAX_READ_BYTES) {
        visit(&file, "/", 0, &mut 0);
    }
});
