//! # panopticon-atomic
//!
//! One way to write a file in panopticon-rs: into a uniquely named temp file in the target's
//! directory, fsynced, renamed over the target, then the directory fsynced. Readers never see
//! a half-written file, a crash leaves either the old file or the new one (never a torn one),
//! and a failed (or panicking) write leaves nothing behind. Downloads resumed across runs
//! write to a stable [`partial_path`] instead and publish it with [`commit_partial`].
//!
//! No dependencies, so every crate of the workspace can use it.

use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The directory a path lives in (`.` for a bare file name).
pub fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    }
}

/// A temp name next to `path`, unique within the machine: `.{name}.{pid}-{n}.partial`
/// (hidden, in the same directory so the rename is atomic; pid and a per-process counter
/// keep concurrent writers, threads or processes, apart).
pub fn temp_path(path: &Path) -> PathBuf {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    parent_dir(path).join(format!(".{name}.{}-{n}.partial", std::process::id()))
}

/// Whether `name` is one of [`temp_path`]'s names (for cleaning up after a crash).
pub fn is_temp_name(name: &str) -> bool {
    name.starts_with('.') && name.ends_with(".partial")
}

/// The stable name `<file>.partial` next to `path`, for a download resumed across runs.
///
/// Unlike [`temp_path`], this name is the same in every process and every run, on purpose:
/// an interrupted download leaves its bytes there and the next run appends the rest (an HTTP
/// Range request) instead of starting over. The price is that two writers of one `path` at
/// the same time would share the file, so a resuming caller must be the only one fetching
/// that target. Publish the finished file with [`commit_partial`].
pub fn partial_path(path: &Path) -> PathBuf {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    parent_dir(path).join(format!("{name}.partial"))
}

/// Publishes a finished [`partial_path`] file as `path`, the last step of [`write_with`] for
/// files written over several runs: fsyncs the file, renames it over `path` (readers see the
/// old file or the whole new one) and fsyncs the directory so that the rename survives a
/// crash. Check the bytes (length, checksum) before; on error `partial` stays where it is,
/// to be resumed or checked again.
pub fn commit_partial(partial: &Path, path: &Path) -> io::Result<()> {
    sync_file(partial)?;
    fs::rename(partial, path)?;
    sync_dir(parent_dir(path))
}

/// Flushes a file's data and metadata to the disk.
pub fn sync_file(path: &Path) -> io::Result<()> {
    File::open(path)?.sync_all()
}

/// Makes renames and creations inside `dir` durable (a no-op where directories cannot be
/// opened, i.e. off Unix).
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    {
        File::open(dir)?.sync_all()
    }
    #[cfg(not(unix))]
    {
        let _ = dir;
        Ok(())
    }
}

/// Fsyncs every file under `dir` (recursively), then each directory, deepest first.
pub fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            sync_file(&entry.path())?;
        }
    }
    sync_dir(dir)
}

/// Removes a temp file or directory when dropped unless disarmed: cleans up on errors and
/// on panics alike.
struct TempGuard {
    path: PathBuf,
    armed: bool,
}

impl Drop for TempGuard {
    fn drop(&mut self) {
        if self.armed {
            if self.path.is_dir() {
                let _ = fs::remove_dir_all(&self.path);
            } else {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

/// Creates `path` atomically by letting `write` produce a file (or a directory) at the temp
/// path it is given, then syncing it, renaming it over `path` and syncing the directory. For
/// writers that open the file themselves (Burn's stores, `safetensors::serialize_to_file`).
/// A directory replaces a previous directory at `path`: that one is moved aside first and
/// removed once the new one is in (a rename cannot replace a non-empty directory), or moved
/// back if the rename fails. On any error, or a panic, the temp path is removed and `path` is
/// left as it was.
pub fn write_with<T, E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    let mut guard = TempGuard {
        path: temp_path(path),
        armed: true,
    };
    let value = write(&guard.path)?;
    let is_dir = guard.path.is_dir();
    if is_dir {
        sync_tree(&guard.path)?;
    } else {
        sync_file(&guard.path)?;
    }
    // Aside under a temp name too: a crash before the removal leaves a recognised temp.
    let old = (is_dir && path.is_dir()).then(|| temp_path(path));
    if let Some(old) = &old {
        fs::rename(path, old)?;
    }
    if let Err(e) = fs::rename(&guard.path, path) {
        if let Some(old) = &old {
            let _ = fs::rename(old, path);
        }
        return Err(e.into());
    }
    guard.armed = false;
    if let Some(old) = &old {
        fs::remove_dir_all(old)?;
    }
    sync_dir(parent_dir(path))?;
    Ok(value)
}

/// Creates or replaces the directory `path` (a Zarr store, say) by letting `write` fill the
/// empty temp directory it is given ([`write_with`] for directories).
pub fn write_dir<T, E: From<io::Error>>(
    path: &Path,
    write: impl FnOnce(&Path) -> Result<T, E>,
) -> Result<T, E> {
    write_with(path, |tmp| {
        fs::create_dir(tmp)?;
        write(tmp)
    })
}

/// Creates `path` atomically from what `write` puts into a buffered writer.
pub fn write_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<File>) -> io::Result<()>,
) -> io::Result<()> {
    write_with(path, |tmp| {
        let mut w = BufWriter::with_capacity(1 << 20, File::create(tmp)?);
        write(&mut w)?;
        w.into_inner().map_err(|e| e.into_error())?.sync_all()
    })
}

/// Creates `path` atomically holding `bytes`.
pub fn write_bytes(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_file(path, |w| w.write_all(bytes))
}

/// Creates `path` holding `bytes` unless it already exists, atomically: the complete, synced
/// temp file is hard-linked into place, which fails if another writer (process or machine on
/// a shared filesystem) got there first. Returns whether this call created it; a file already
/// there is left as it is. Where the filesystem has no hard links, a rename stands in (no
/// longer exclusive against a writer racing this one).
pub fn create_new(path: &Path, bytes: &[u8]) -> io::Result<bool> {
    let guard = TempGuard {
        path: temp_path(path),
        armed: true,
    };
    let mut file = File::create(&guard.path)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    let created = match fs::hard_link(&guard.path, path) {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => false,
        Err(_) if path.exists() => false,
        Err(_) => {
            fs::rename(&guard.path, path)?;
            true
        }
    };
    drop(guard); // the temp name goes; a link keeps the file
    if created {
        sync_dir(parent_dir(path))?;
    }
    Ok(created)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn writes_and_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write_bytes(&p, b"one").unwrap();
        write_bytes(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[test]
    fn a_failed_write_leaves_the_old_file_and_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        write_bytes(&p, b"old").unwrap();
        let err = write_file(&p, |w| {
            w.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read(&p).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["out.bin"]);
    }

    #[test]
    fn a_panicking_writer_leaves_no_temp() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.bin");
        let r = std::panic::catch_unwind(|| {
            let _ = write_with(&p, |tmp| -> io::Result<()> {
                fs::write(tmp, b"x")?;
                panic!("writer bug")
            });
        });
        assert!(r.is_err());
        assert!(names(dir.path()).is_empty());
    }

    #[test]
    fn directories_are_written_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("ckpt");
        write_with(&p, |tmp| -> io::Result<()> {
            fs::create_dir(tmp)?;
            fs::write(tmp.join("a"), b"1")
        })
        .unwrap();
        assert_eq!(fs::read(p.join("a")).unwrap(), b"1");
        let err = write_with(&dir.path().join("other"), |tmp| -> io::Result<()> {
            fs::create_dir(tmp)?;
            fs::write(tmp.join("a"), b"1")?;
            Err(io::Error::other("late failure"))
        });
        assert!(err.is_err());
        assert_eq!(names(dir.path()), ["ckpt"]);
    }

    #[test]
    fn directories_are_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("store.zarr");
        let fill = |text: &'static str| {
            move |tmp: &Path| -> io::Result<()> { fs::write(tmp.join(text), text) }
        };
        write_dir(&p, fill("one")).unwrap();
        write_dir(&p, fill("two")).unwrap();
        assert_eq!(names(&p), ["two"]);
        assert_eq!(names(dir.path()), ["store.zarr"]);
        let err = write_dir(&p, |tmp| -> io::Result<()> {
            fs::write(tmp.join("three"), "half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(err.is_err());
        assert_eq!(names(&p), ["two"]);
        assert_eq!(names(dir.path()), ["store.zarr"]);
    }

    #[test]
    fn create_new_never_replaces() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("basis.bin");
        assert!(create_new(&p, b"first").unwrap());
        assert!(!create_new(&p, b"second").unwrap());
        assert_eq!(fs::read(&p).unwrap(), b"first");
        assert_eq!(names(dir.path()), ["basis.bin"]);
        // Racing writers: exactly one creates it, and the file is one writer's whole bytes.
        let q = dir.path().join("raced.bin");
        let wins: usize = std::thread::scope(|s| {
            let q = &q;
            let racers: Vec<_> = (0..8u8)
                .map(|i| s.spawn(move || create_new(q, &[i; 4096]).unwrap() as usize))
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).sum()
        });
        assert_eq!(wins, 1);
        let got = fs::read(&q).unwrap();
        assert!(got.len() == 4096 && got.iter().all(|&b| b == got[0]));
        assert_eq!(names(dir.path()), ["basis.bin", "raced.bin"]);
        assert!(create_new(&dir.path().join("no/dir/f"), b"x").is_err());
    }

    #[test]
    fn temp_names_are_unique_and_recognised() {
        let a = temp_path(Path::new("x/y.bpk"));
        let b = temp_path(Path::new("x/y.bpk"));
        assert_ne!(a, b);
        assert_eq!(a.parent().unwrap(), Path::new("x"));
        assert!(is_temp_name(&a.file_name().unwrap().to_string_lossy()));
        assert_eq!(parent_dir(Path::new("y.bpk")), Path::new("."));
    }

    #[test]
    fn a_partial_file_is_named_stably_and_committed_over_the_target() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w.pth");
        let partial = partial_path(&p);
        assert_eq!(partial, dir.path().join("w.pth.partial"));
        assert_eq!(partial_path(&p), partial); // the next run finds it again
        assert_eq!(
            partial_path(Path::new("w.pth")),
            Path::new("./w.pth.partial")
        );
        write_bytes(&p, b"old").unwrap();
        fs::write(&partial, b"new, written over two runs").unwrap();
        commit_partial(&partial, &p).unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"new, written over two runs");
        assert_eq!(names(dir.path()), ["w.pth"]);
        // Nothing to commit: an error, and the target is left as it was.
        assert!(commit_partial(&partial, &p).is_err());
        assert_eq!(fs::read(&p).unwrap(), b"new, written over two runs");
    }

    #[test]
    fn a_missing_directory_is_an_error_not_a_panic() {
        let dir = tempfile::tempdir().unwrap();
        assert!(write_bytes(&dir.path().join("no/such/dir/f"), b"x").is_err());
    }
}
