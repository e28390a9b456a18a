//! Kernel output buffers: written in full by the kernel, so they need no zeroing pass first
//! (`vec![0.0; n]` costs ≈ 1.5 % of a ViT-B/14 forward at B = 1: a memset per GEMM output),
//! and shared by the kernel's worker threads through [`OutPtr`].

use std::mem::MaybeUninit;

/// A fresh `len`-element vector, every element written by `fill`.
///
/// # Safety
/// `fill` must write every element of the slice it is given (the kernels' contract, "fully
/// overwritten"); an element it skips would be read uninitialised.
pub unsafe fn written_vec(len: usize, fill: impl FnOnce(&mut [MaybeUninit<f32>])) -> Vec<f32> {
    let mut out = Vec::with_capacity(len);
    fill(&mut out.spare_capacity_mut()[..len]);
    // SAFETY: `fill` initialised elements `0..len` (the caller's promise); a panic in it
    // leaves `out` empty.
    unsafe { out.set_len(len) };
    out
}

/// `out` as a buffer for a kernel's output (tests: one prefilled with NaN shows any element a
/// kernel failed to write).
#[cfg(test)]
pub fn as_uninit(out: &mut [f32]) -> &mut [MaybeUninit<f32>] {
    // SAFETY: same layout; only initialised `f32`s are ever stored through the view.
    unsafe { &mut *(out as *mut [f32] as *mut [MaybeUninit<f32>]) }
}

/// The elements of `out`, once written.
///
/// # Safety
/// Every element of `out` must have been written.
pub unsafe fn assume_written(out: &mut [MaybeUninit<f32>]) -> &mut [f32] {
    // SAFETY: the caller's; same layout.
    unsafe { &mut *(out as *mut [MaybeUninit<f32>] as *mut [f32]) }
}

/// A pointer into an output shared by worker threads, each writing its own block.
#[derive(Clone, Copy)]
pub struct OutPtr(*mut f32);
// SAFETY: made only by `OutPtr::new`, whose callers keep each thread's writes disjoint.
unsafe impl Send for OutPtr {}
unsafe impl Sync for OutPtr {}

impl OutPtr {
    /// Shares `out` with worker threads.
    ///
    /// # Safety
    /// While the pointer is in use, `out` must stay alive and unaliased by anything else, and
    /// no two threads may write (or one write and another read) the same element through it.
    pub unsafe fn new(out: &mut [MaybeUninit<f32>]) -> Self {
        Self(out.as_mut_ptr().cast())
    }

    /// The raw pointer.
    pub fn get(self) -> *mut f32 {
        self.0
    }

    /// The pointer `offset` elements on. (A method, so that closures capture the whole
    /// `Send` wrapper rather than its raw-pointer field.)
    ///
    /// # Safety
    /// As [`pointer::add`].
    pub unsafe fn add(self, offset: usize) -> *mut f32 {
        // SAFETY: the caller's.
        unsafe { self.0.add(offset) }
    }
}
