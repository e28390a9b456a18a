//! Shared test helpers.

use std::cell::Cell;
use std::sync::Once;

thread_local! {
    static PANICS: Cell<usize> = const { Cell::new(0) };
}

/// Runs `f` and returns how many panics it raised on this thread, caught or not.
///
/// The readers catch decoder panics and turn them into errors; this hook still sees them,
/// so fuzz tests can require that no decoder panicked at all.
pub fn panics_during(f: impl FnOnce()) -> usize {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            PANICS.with(|p| p.set(p.get() + 1));
            previous(info);
        }));
    });
    let before = PANICS.with(Cell::get);
    f();
    PANICS.with(Cell::get) - before
}
