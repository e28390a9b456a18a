//! The checkpoint readers every weights path goes through (`read_checkpoint_tensors`:
//! `.pth` zip + pickle through burn-store's PyTorch reader, `.safetensors`), on arbitrary
//! bytes written to a scratch file, then every tensor's data read (as `load_weights` and the
//! eval `dataset.pt` reader do). Errors are fine; a panic, a hang or an allocation of more
//! than the file could hold is a finding. Shared by the `safetensors` and `pth` targets,
//! which differ in their seeds (the reader picks the format from the signature).

#[path = "tmpfile.rs"]
mod tmpfile;

use panopticon_model::read_checkpoint_tensors;

/// Reads `data` as a checkpoint file with extension `ext`, then every tensor's bytes.
pub fn read_all(data: &[u8], ext: &str) {
    let path = tmpfile::write(data, ext);
    if let Ok((_, tensors)) = read_checkpoint_tensors(&path) {
        for t in tensors.values().take(64) {
            let _ = t.to_bytes();
        }
    }
}
