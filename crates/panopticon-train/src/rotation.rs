//! Installing checkpoint directories so that at every moment a complete previous checkpoint
//! exists, whatever step a crash (kill -9, power loss) interrupts:
//!
//! 1. the new checkpoint is written under a unique hidden temp name and fsynced (files, then
//!    the directory);
//! 2. a checkpoint of the same name, if any, is renamed to `<name>.old`;
//! 3. the temp directory is renamed to `<name>`, and the parent directory fsynced;
//! 4. `last_checkpoint` is pointed at it (atomic write);
//! 5. `<name>.old` and checkpoints beyond `keep_last` are removed.
//!
//! [`recover`] (run by [`last_checkpoint`](crate::checkpoint::last_checkpoint)) finishes or
//! undoes an interrupted rotation: a lone `<name>.old` is renamed back (crash between 2 and
//! 3), one next to its `<name>` is removed (crash after 3), temp directories are deleted.

use std::path::{Path, PathBuf};

use crate::error::{Result, TrainError};

/// Suffix of a checkpoint moved aside while its replacement is renamed in.
const OLD: &str = ".old";

/// Writes a checkpoint directory `dir/name` through `write` (given the temp directory, which
/// it fills) and installs it (steps 1–3). Nothing is left behind on error.
pub(crate) fn install(
    dir: &Path,
    name: &str,
    write: impl FnOnce(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let final_dir = dir.join(name);
    let tmp = panopticon_atomic::temp_path(&final_dir);
    let result = (|| {
        std::fs::create_dir_all(&tmp).map_err(io(&tmp))?;
        write(&tmp)?;
        panopticon_atomic::sync_tree(&tmp).map_err(io(&tmp))?;
        crash_point("written");
        let old = dir.join(format!("{name}{OLD}"));
        if final_dir.exists() {
            if old.exists() {
                std::fs::remove_dir_all(&old).map_err(io(&old))?;
            }
            std::fs::rename(&final_dir, &old).map_err(io(&old))?;
            crash_point("moved-aside");
        }
        std::fs::rename(&tmp, &final_dir).map_err(io(&final_dir))?;
        panopticon_atomic::sync_dir(dir).map_err(io(dir))?;
        crash_point("renamed");
        Ok(final_dir.clone())
    })();
    if result.is_err() && tmp.exists() {
        let _ = std::fs::remove_dir_all(&tmp);
    }
    result
}

/// Removes the `<name>.old` left by [`install`] once the pointer names the new checkpoint.
pub(crate) fn drop_old(dir: &Path, name: &str) -> Result<()> {
    let old = dir.join(format!("{name}{OLD}"));
    if old.exists() {
        std::fs::remove_dir_all(&old).map_err(io(&old))?;
    }
    Ok(())
}

/// Whether a directory entry is a complete checkpoint (`ckpt_…`, neither temp nor `.old`).
pub(crate) fn is_complete(name: &str) -> bool {
    name.starts_with("ckpt_") && !name.ends_with(".partial") && !name.ends_with(OLD)
}

/// Finishes or undoes a rotation a crash interrupted (see the module docs).
pub fn recover(dir: &Path) -> Result<()> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Ok(()); // no checkpoint directory yet
    };
    let paths: Vec<PathBuf> = entries
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()
        .map_err(io(dir))?;
    for path in paths {
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let temp = (name.starts_with(".ckpt_") && panopticon_atomic::is_temp_name(name))
            || (name.starts_with("ckpt_") && name.ends_with(".partial"));
        if temp && path.is_dir() {
            std::fs::remove_dir_all(&path).map_err(io(&path))?;
        } else if let Some(base) = name.strip_suffix(OLD).filter(|b| b.starts_with("ckpt_")) {
            let current = dir.join(base);
            if current.is_dir() {
                std::fs::remove_dir_all(&path).map_err(io(&path))?;
            } else {
                std::fs::rename(&path, &current).map_err(io(&current))?;
            }
        }
    }
    panopticon_atomic::sync_dir(dir).map_err(io(dir))
}

/// Test hook: aborts the process (as a kill -9 would stop it: no unwinding, no cleanup) when
/// `PANOPTICON_CRASH_AT` names this step. Compiled into test builds only.
pub(crate) fn crash_point(step: &str) {
    #[cfg(test)]
    if std::env::var("PANOPTICON_CRASH_AT").is_ok_and(|s| s == step) {
        std::process::abort();
    }
    #[cfg(not(test))]
    let _ = step;
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> TrainError + '_ {
    move |source| TrainError::Io {
        path: path.into(),
        source,
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;
    use crate::checkpoint::{LAST_CHECKPOINT, last_checkpoint, rotate};

    /// One checkpoint "generation": `ckpt_0000001` holding `gen` (re-saved under the same
    /// name, the case where the old directory used to be deleted before the rename).
    fn save(dir: &Path, generation: &str) -> Result<PathBuf> {
        rotate(dir, "ckpt_0000001", 1, |tmp| {
            for f in ["a.bpk", "b.bpk", "state.json"] {
                std::fs::write(tmp.join(f), generation).map_err(io(tmp))?;
            }
            Ok(())
        })
    }

    fn assert_complete(dir: &Path, generations: &[&str]) {
        let ckpt = last_checkpoint(dir)
            .unwrap()
            .expect("a checkpoint survives");
        let got = std::fs::read_to_string(ckpt.join("state.json")).unwrap();
        assert!(generations.contains(&got.as_str()), "{got}");
        for f in ["a.bpk", "b.bpk"] {
            assert_eq!(std::fs::read_to_string(ckpt.join(f)).unwrap(), got);
        }
        let left: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        let mut left = left;
        left.sort();
        assert_eq!(left, ["ckpt_0000001", LAST_CHECKPOINT], "after recovery");
    }

    /// Child side of the crash test: saves generation "new" with the crash hook armed.
    #[test]
    fn crash_child() {
        if let Ok(dir) = std::env::var("PANOPTICON_CRASH_DIR") {
            save(Path::new(&dir), "new").unwrap();
        }
    }

    #[test]
    fn a_kill_at_any_step_leaves_a_complete_checkpoint() {
        let exe = std::env::current_exe().unwrap();
        for step in ["written", "moved-aside", "renamed", "pointed"] {
            let tmp = tempfile::tempdir().unwrap();
            let dir = tmp.path();
            save(dir, "old").unwrap();
            let status = Command::new(&exe)
                .args(["--exact", "rotation::tests::crash_child", "--nocapture"])
                .env("PANOPTICON_CRASH_DIR", dir)
                .env("PANOPTICON_CRASH_AT", step)
                .status()
                .unwrap();
            assert!(!status.success(), "{step}: the child must have been killed");
            let want: &[&str] = match step {
                "written" | "moved-aside" => &["old"],
                _ => &["new"],
            };
            assert_complete(dir, want);
            // And the next save still works.
            save(dir, "next").unwrap();
            assert_complete(dir, &["next"]);
        }
    }

    #[test]
    fn a_failing_writer_leaves_the_previous_checkpoint_alone() {
        let tmp = tempfile::tempdir().unwrap();
        save(tmp.path(), "old").unwrap();
        let err = rotate(tmp.path(), "ckpt_0000001", 1, |t| {
            std::fs::write(t.join("a.bpk"), "half").map_err(io(t))?;
            Err(TrainError::Io {
                path: t.into(),
                source: std::io::Error::other("disk full"),
            })
        })
        .unwrap_err();
        assert!(err.to_string().contains("disk full"));
        assert_complete(tmp.path(), &["old"]);
    }
}
